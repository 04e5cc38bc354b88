/**
 * The commands of the Redis-protocol endpoint, one command in, its replies out: the connection commands
 * (PING, AUTH, HELLO, CLIENT, RESET, QUIT…), INFO, ROLE, COMMAND and SHUTDOWN, (P)(UN)SUBSCRIBE, and
 * SENTINEL (sentinelCommand.ts). Access is checked here as Redis checks it (lib/core/acl.ts), in Redis's order:
 * unknown command, arity, authentication, permission; with Redis's texts (redis-server 7.0.15).
 */
import os from 'node:os';
import type { AccessControl } from '../accessControl.js';
import { type ProcessControls, SIMULATED_FAILURE_FLAGS } from '../commands/processControls.js';
import type { Fields, SentinelView } from '../commands/view.js';
import {
  type AclUser,
  DEFAULT_USER,
  lookupCommand,
  mayRun,
  mayUseChannel,
  mayUsePattern,
} from '../core/acl.js';
import { globMatch } from '../core/glob.js';
import { errText } from '../core/sentinelReplies.js';
import {
  SENTINEL_COMMAND_TABLE,
  subcommandDocs,
  subcommandInfo,
  subcommandNames,
  wireReply,
  withCategory,
} from './commandTable.js';
import {
  array,
  bulk,
  error,
  integer,
  map,
  nullBulk,
  OK,
  type Protocol,
  push,
  type Reply,
  simple,
  verbatim,
} from './encoder.js';
import { type ReplyEncoder, sentinelCommand } from './sentinelCommand.js';
import { type Args, type Client, type EndpointStats, subscribed, subscriptionCount } from './session.js';

const ACL_HELP_LINES = [
  'ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'WHOAMI',
  '    Return the current connection username.',
  'HELP',
  '    Prints this help.',
];

/**
 * CLIENT HELP: Sentinel 7.0.15's reply, line for line. It is Redis's whole CLIENT help, so it also lists
 * the subcommands a sentinel has but this endpoint does not answer (CACHING, PAUSE, TRACKING…): a tool
 * that reads the help sees what it would see on Sentinel; running one of those answers Redis's
 * unknown-subcommand error.
 */
const CLIENT_HELP_LINES = [
  'CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CACHING (YES|NO)',
  '    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.',
  'GETREDIR',
  '    Return the client ID we are redirecting to when tracking is enabled.',
  'GETNAME',
  '    Return the name of the current connection.',
  'ID',
  '    Return the ID of the current connection.',
  'INFO',
  '    Return information about the current client connection.',
  'KILL <ip:port>',
  '    Kill connection made from <ip:port>.',
  'KILL <option> <value> [<option> <value> [...]]',
  '    Kill connections. Options are:',
  '    * ADDR (<ip:port>|<unixsocket>:0)',
  '      Kill connections made from the specified address',
  '    * LADDR (<ip:port>|<unixsocket>:0)',
  '      Kill connections made to specified local address',
  '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
  '      Kill connections by type.',
  '    * USER <username>',
  '      Kill connections authenticated by <username>.',
  '    * SKIPME (YES|NO)',
  '      Skip killing current connection (default: yes).',
  'LIST [options ...]',
  '    Return information about client connections. Options:',
  '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
  '      Return clients of specified type.',
  'UNPAUSE',
  '    Stop the current client pause, resuming traffic.',
  'PAUSE <timeout> [WRITE|ALL]',
  '    Suspend all, or just write, clients for <timeout> milliseconds.',
  'REPLY (ON|OFF|SKIP)',
  '    Control the replies sent to the current connection.',
  'SETNAME <name>',
  '    Assign the name <name> to the current connection.',
  'UNBLOCK <clientid> [TIMEOUT|ERROR]',
  '    Unblock the specified blocked client.',
  'TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]',
  '         [OPTIN] [OPTOUT] [NOLOOP]',
  '    Control server assisted client side caching.',
  'TRACKINGINFO',
  '    Report tracking status for the current connection.',
  'NO-EVICT (ON|OFF)',
  '    Protect current client connection from eviction.',
  'HELP',
  '    Prints this help.',
];

/** Redis's replies, word for word (redis-server 7.0.15). */
const TEXT = {
  noAuth: 'NOAUTH Authentication required.',
  noAuthHello:
    'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time',
  wrongPass: 'WRONGPASS invalid username-password pair or user is disabled.',
  authWithoutPassword:
    'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
  noPermChannels: 'NOPERM this user has no permissions to access one of the channels used as arguments',
  invalidClientName: 'ERR Client names cannot contain spaces, newlines or special characters.',
  syntax: 'ERR syntax error',
  noSuchClient: 'ERR No such client',
  invalidClientId: 'ERR Invalid client ID',
  clientIdAboveZero: 'ERR client-id should be greater than 0',
  noShutdownInProgress: 'ERR No shutdown in progress.',
} as const;

const unknownClientType = (type: string) => error(`ERR Unknown client type '${type}'`);
const noSuchUser = (user: string) => error(`ERR No such user '${user}'`);

/** COMMAND HELP, Redis's lines (7.0.15) for the subcommands answered here (not GETKEYS…). */
const COMMAND_HELP_LINES = [
  'COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  '(no subcommand)',
  '    Return details about all Redis commands.',
  'COUNT',
  '    Return the total number of commands in this Redis server.',
  'LIST',
  '    Return a list of all commands in this Redis server.',
  'INFO [<command-name> ...]',
  '    Return details about multiple Redis commands.',
  '    If no command names are given, documentation details for all',
  '    commands are returned.',
  'DOCS [<command-name> ...]',
  '    Return documentation details about multiple Redis commands.',
  '    If no command names are given, documentation details for all',
  '    commands are returned.',
  'HELP',
  '    Prints this help.',
];

/** INFO's sections in Sentinel's order; `default`, `all` and `everything` are all of them in Sentinel. */
const INFO_SECTIONS = ['server', 'clients', 'stats', 'cpu', 'sentinel'] as const;

const noPermission = (command: string): Reply =>
  error(`NOPERM this user has no permissions to run the '${command}' command`);

const SUBSCRIBED_ALLOWED = new Set([
  'subscribe',
  'psubscribe',
  'unsubscribe',
  'punsubscribe',
  'ping',
  'quit',
  'reset',
]);

/** What one command did: its replies (several for (P)(UN)SUBSCRIBE), and whether to close after them. */
export interface Outcome {
  readonly replies: Reply[];
  readonly close?: boolean;
}

/** What the commands read of the endpoint that runs them. */
export interface EndpointContext {
  readonly view: SentinelView;
  readonly access: AccessControl;
  readonly replies: ReplyEncoder;
  /** Reported by INFO server and HELLO. */
  readonly redisVersion: string;
  readonly runId: string;
  readonly startedAt: number;
  /** Where it listens: the host it was given, and the port it is bound to. */
  readonly host: string;
  port(): number;
  readonly clients: ReadonlySet<Client>;
  /** SENTINEL SENTINELS' address for the other sentinels, where given. */
  readonly announce?: { readonly host?: string; readonly port?: number };
  /** When set, every write command gets this error text (a read-only endpoint). */
  readonly readOnlyError?: (command: string) => string;
  /** SENTINEL CONFIG, DEBUG, SIMULATE-FAILURE and SHUTDOWN: what the hosting process allows. */
  readonly controls: ProcessControls;
  /** INFO stats' counters (kept by server.ts). */
  readonly stats: EndpointStats;
  /** INFO clients' maxclients: the connection cap. */
  readonly maxClients: number;
  /** INFO server's config_file, when a file was loaded. */
  readonly configFile?: string;
}

function unknownCommand(args: Args): Reply {
  let rest = '';
  for (const arg of args.slice(1)) {
    if (rest.length >= 128) break;
    rest += `'${arg.slice(0, 128 - rest.length)}' `;
  }
  return error(`ERR unknown command '${(args[0] ?? '').slice(0, 128)}', with args beginning with: ${rest}`);
}

const arityError = (name: string) => error(`ERR wrong number of arguments for '${name}' command`);

function validName(name: string): boolean {
  return /^[\x21-\x7e]*$/.test(name);
}

function field(fields: Fields, name: string): string {
  return fields.find(([k]) => k === name)?.[1] ?? '';
}

/** The endpoint's command handler: one command of one connection → its outcome. */
export function commandRunner(endpoint: EndpointContext): (client: Client, args: Args) => Promise<Outcome> {
  const { view, access } = endpoint;

  /** INFO's text: the sections asked for (none, `default`, `all`, `everything`: every one), in Sentinel's order. */
  async function info(asked: string[]): Promise<string> {
    const all = asked.length === 0 || asked.some((s) => ['all', 'default', 'everything'].includes(s));
    const sections = INFO_SECTIONS.filter((s) => all || asked.includes(s));
    const out: string[][] = [];
    const now = Date.now();
    for (const section of sections) {
      switch (section) {
        case 'server':
          out.push(serverSection(now));
          break;
        case 'clients':
          out.push(clientsSection());
          break;
        case 'stats':
          out.push(statsSection());
          break;
        case 'cpu':
          out.push(cpuSection());
          break;
        case 'sentinel':
          out.push(await sentinelSection(now));
          break;
      }
    }
    // Sections are separated by an empty line; the text ends with CRLF, as Redis's does.
    return out.map((lines) => `${lines.join('\r\n')}\r\n`).join('\r\n');
  }

  function serverSection(now: number): string[] {
    const uptime = Math.floor((now - endpoint.startedAt) / 1000);
    return [
      '# Server',
      `redis_version:${endpoint.redisVersion}`,
      'redis_mode:sentinel',
      `os:${os.type()} ${os.release()} ${os.machine()}`,
      `arch_bits:${/64/.test(process.arch) ? 64 : 32}`,
      `process_id:${process.pid}`,
      `run_id:${endpoint.runId}`,
      `tcp_port:${endpoint.port()}`,
      `server_time_usec:${now * 1000}`,
      `uptime_in_seconds:${uptime}`,
      `uptime_in_days:${Math.floor(uptime / 86_400)}`,
      'executable:lambda-sentinel',
      `config_file:${endpoint.configFile ?? ''}`,
    ];
  }

  function clientsSection(): string[] {
    return [
      '# Clients',
      `connected_clients:${endpoint.clients.size}`,
      'cluster_connections:0',
      `maxclients:${endpoint.maxClients}`,
      // No blocking commands, no client-side caching, no blocking timeouts here.
      'blocked_clients:0',
      'tracking_clients:0',
      'clients_in_timeout_table:0',
    ];
  }

  function statsSection(): string[] {
    const { stats } = endpoint;
    const channels = new Set<string>();
    const patterns = new Set<string>();
    for (const c of endpoint.clients) {
      for (const name of c.channels) channels.add(name);
      for (const pattern of c.patterns) patterns.add(pattern);
    }
    return [
      '# Stats',
      `total_connections_received:${stats.connectionsReceived}`,
      `total_commands_processed:${stats.commandsProcessed}`,
      `total_net_input_bytes:${stats.netInputBytes}`,
      `total_net_output_bytes:${stats.netOutputBytes}`,
      `rejected_connections:${stats.rejectedConnections}`,
      `pubsub_channels:${channels.size}`,
      `pubsub_patterns:${patterns.size}`,
      `total_error_replies:${stats.errorReplies}`,
    ];
  }

  function cpuSection(): string[] {
    const usage = process.cpuUsage();
    const seconds = (micros: number) => (micros / 1e6).toFixed(6);
    return ['# CPU', `used_cpu_sys:${seconds(usage.system)}`, `used_cpu_user:${seconds(usage.user)}`];
  }

  async function sentinelSection(now: number): Promise<string[]> {
    const [masters, tilt] = await Promise.all([
      view.masters(),
      view.tilt ? view.tilt() : Promise.resolve({ inTilt: false, since: null }),
    ]);
    const scripts = endpoint.controls.pendingScripts();
    const flags = endpoint.controls
      .simulatedFailures()
      .reduce((bits, failure) => bits | SIMULATED_FAILURE_FLAGS[failure], 0);
    const tiltSince =
      tilt.inTilt && tilt.since !== null ? Math.max(0, Math.floor((now - tilt.since) / 1000)) : -1;
    const lines = [
      '# Sentinel',
      `sentinel_masters:${masters.length}`,
      `sentinel_tilt:${tilt.inTilt ? 1 : 0}`,
      `sentinel_tilt_since_seconds:${tiltSince}`,
      `sentinel_running_scripts:${scripts.filter((s) => s.running).length}`,
      `sentinel_scripts_queue_length:${scripts.length}`,
      `sentinel_simulate_failure_flags:${flags}`,
    ];
    masters.forEach((m, i) => {
      const masterFlags = field(m, 'flags').split(',');
      const status = masterFlags.includes('o_down')
        ? 'odown'
        : masterFlags.includes('s_down')
          ? 'sdown'
          : 'ok';
      const sentinels = Number(field(m, 'num-other-sentinels')) + 1;
      lines.push(
        `master${i}:name=${field(m, 'name')},status=${status},address=${field(m, 'ip')}:${field(m, 'port')},slaves=${field(m, 'num-slaves')},sentinels=${sentinels}`,
      );
    });
    return lines;
  }

  function sentinel(client: Client, args: Args): Promise<Reply> {
    return sentinelCommand(
      {
        view,
        replies: endpoint.replies,
        runId: endpoint.runId,
        controls: endpoint.controls,
        announce: () => {
          const local = (client.socket.localAddress ?? endpoint.host).replace(/^::ffff:/, '');
          // `sentinel announce-ip|announce-port` (the file, or CONFIG SET), as Sentinel announces itself.
          const { announceIp, announcePort } = endpoint.controls.params();
          return {
            host: announceIp !== '' ? announceIp : (endpoint.announce?.host ?? local),
            port: announcePort !== 0 ? announcePort : (endpoint.announce?.port ?? endpoint.port()),
          };
        },
      },
      args,
    );
  }

  function subscribeReply(kind: string, name: Reply, count: number): Reply {
    return push([bulk(kind), name, integer(count)]);
  }

  function subscription(client: Client, user: AclUser, args: Args): Reply[] {
    const cmd = (args[0] ?? '').toLowerCase();
    const pattern = cmd === 'psubscribe' || cmd === 'punsubscribe';
    const set = pattern ? client.patterns : client.channels;
    const names = args.slice(1);
    const replies: Reply[] = [];
    if (cmd === 'subscribe' || cmd === 'psubscribe') {
      // All or nothing, as in Redis: one channel the user may not use refuses the whole command.
      const allowed = pattern ? mayUsePattern : mayUseChannel;
      if (!names.every((n) => allowed(user, n))) return [error(TEXT.noPermChannels)];
      for (const n of names) {
        set.add(n);
        replies.push(subscribeReply(cmd, bulk(n), subscriptionCount(client)));
      }
      return replies;
    }
    const targets = names.length > 0 ? names : [...set];
    if (targets.length === 0) return [subscribeReply(cmd, nullBulk, subscriptionCount(client))];
    for (const n of targets) {
      set.delete(n);
      replies.push(subscribeReply(cmd, bulk(n), subscriptionCount(client)));
    }
    return replies;
  }

  function hello(client: Client, args: Args): Reply {
    let proto: Protocol = client.proto;
    if (args.length >= 2) {
      const text = args[1] as string;
      if (!/^-?\d+$/.test(text)) return error('ERR Protocol version is not an integer or out of range');
      const version = Number(text);
      if (version !== 2 && version !== 3) return error('NOPROTO unsupported protocol version');
      proto = version;
    }
    let name: string | null = null;
    let authenticated: AclUser | null = null;
    for (let i = 2; i < args.length; i++) {
      const opt = (args[i] as string).toLowerCase();
      if (opt === 'auth' && i + 2 < args.length) {
        authenticated = access.authenticate(args[i + 1] as string, args[i + 2] as string);
        if (authenticated === null) return error(TEXT.wrongPass);
        i += 2;
      } else if (opt === 'setname' && i + 1 < args.length) {
        name = args[i + 1] as string;
        if (!validName(name)) return error(TEXT.invalidClientName);
        i += 1;
      } else {
        return error(`ERR Syntax error in HELLO option '${args[i]}'`);
      }
    }
    if (client.user === null && authenticated === null) return error(TEXT.noAuthHello);
    if (authenticated !== null) client.user = authenticated;
    if (name !== null) client.name = name;
    client.proto = proto;
    return map([
      [bulk('server'), bulk('redis')],
      [bulk('version'), bulk(endpoint.redisVersion)],
      [bulk('proto'), integer(proto)],
      [bulk('id'), integer(client.id)],
      [bulk('mode'), bulk('sentinel')],
      [bulk('modules'), array([])],
    ]);
  }

  function auth(client: Client, args: Args): Reply {
    // AUTH <password> | AUTH <user> <password>; more is Redis's syntax error, not an arity error.
    if (args.length > 3) return error('ERR syntax error');
    if (args.length === 2 && access.defaultUserNeedsNoPassword) return error(TEXT.authWithoutPassword);
    const [name, password] =
      args.length === 3 ? [args[1] as string, args[2] as string] : [DEFAULT_USER, args[1] as string];
    const user = access.authenticate(name, password);
    if (user === null) return error(TEXT.wrongPass);
    client.user = user;
    return OK;
  }

  /** CLIENT <subcommand>: the connection's own settings, and the list and killing of connections. */
  function clientCommand(client: Client, args: Args): Outcome {
    switch ((args[1] ?? '').toLowerCase()) {
      case 'id':
        return { replies: [integer(client.id)] };
      case 'getname':
        return { replies: [client.name === null ? nullBulk : bulk(client.name)] };
      case 'setname': {
        const name = args[2] as string;
        if (!validName(name)) return { replies: [error(TEXT.invalidClientName)] };
        client.name = name === '' ? null : name;
        return { replies: [OK] };
      }
      case 'info':
        return { replies: [verbatim(clientLine(client, Date.now()))] };
      case 'list':
        return { replies: [clientList(args)] };
      case 'kill':
        return clientKill(client, args);
      case 'help':
        return { replies: [array(CLIENT_HELP_LINES.map((l) => simple(l)))] };
      default: {
        // setinfo
        const attr = (args[2] as string).toLowerCase();
        if (attr !== 'lib-name' && attr !== 'lib-ver')
          return { replies: [error(`ERR Unrecognized option '${args[2]}'`)] };
        return { replies: [OK] };
      }
    }
  }

  /** Redis's `ip:port` of an address, `[ip]:port` for IPv6. */
  function formatAddress(host: string | undefined, port: number | undefined): string {
    const ip = (host ?? '?').replace(/^::ffff:/, '');
    return `${ip.includes(':') ? `[${ip}]` : ip}:${port ?? 0}`;
  }

  /**
   * One CLIENT LIST / CLIENT INFO line, in Redis's format and field order, with the fields that are true
   * here: no file descriptor, query-buffer or memory accounting is kept, so fd, qbuf, qbuf-free,
   * argv-mem, multi-mem, rbs, rbp, obl, oll and tot-mem are left out; db is 0, there is no MULTI
   * (multi=-1), no shard channel (ssub=0) and no client tracking (redir=-1).
   */
  function clientLine(c: Client, now: number): string {
    const seconds = (since: number) => Math.max(0, Math.floor((now - since) / 1000));
    const pending = c.socket.writableLength;
    const fields = [
      `id=${c.id}`,
      `addr=${formatAddress(c.socket.remoteAddress, c.socket.remotePort)}`,
      `laddr=${formatAddress(c.socket.localAddress, c.socket.localPort)}`,
      `name=${c.name ?? ''}`,
      `age=${seconds(c.connectedAt)}`,
      `idle=${seconds(c.lastActivity)}`,
      `flags=${subscribed(c) ? 'P' : 'N'}`,
      'db=0',
      `sub=${c.channels.size}`,
      `psub=${c.patterns.size}`,
      'ssub=0',
      'multi=-1',
      `omem=${pending}`,
      `events=r${pending > 0 ? 'w' : ''}`,
      `cmd=${c.lastCommand ?? 'NULL'}`,
      `user=${c.user?.name ?? DEFAULT_USER}`,
      'redir=-1',
      `resp=${c.proto}`,
    ];
    return `${fields.join(' ')}\n`;
  }

  /** CLIENT LIST's and CLIENT KILL's TYPE: Redis's types; a sentinel has no master or replica clients. */
  function typeMatcher(type: string): ((c: Client) => boolean) | null {
    switch (type.toLowerCase()) {
      case 'normal':
        return (c) => !subscribed(c);
      case 'pubsub':
        return subscribed;
      case 'master':
      case 'replica':
      case 'slave':
        return () => false;
      default:
        return null;
    }
  }

  function clientList(args: Args): Reply {
    let keep: (c: Client) => boolean = () => true;
    const option = (args[2] ?? '').toLowerCase();
    if (args.length === 4 && option === 'type') {
      const matcher = typeMatcher(args[3] as string);
      if (matcher === null) return unknownClientType(args[3] as string);
      keep = matcher;
    } else if (args.length >= 4 && option === 'id') {
      const ids = new Set<number>();
      for (const text of args.slice(3)) {
        if (!/^-?(0|[1-9][0-9]{0,17})$/.test(text)) return error(TEXT.invalidClientId);
        ids.add(Number(text));
      }
      keep = (c) => ids.has(c.id);
    } else if (args.length !== 2) {
      return error(TEXT.syntax);
    }
    const now = Date.now();
    return verbatim(
      [...endpoint.clients]
        .filter(keep)
        .map((c) => clientLine(c, now))
        .join(''),
    );
  }

  function kill(c: Client): void {
    c.closed = true;
    c.socket.destroy();
  }

  /**
   * CLIENT KILL <ip:port> (the old form: OK, or an error when no connection has that address) and
   * CLIENT KILL <filter> <value> … (how many it closed; SKIPME yes by default). The asking connection,
   * when it kills itself, gets its reply first.
   */
  function clientKill(client: Client, args: Args): Outcome {
    if (args.length === 3) {
      const target = [...endpoint.clients].find(
        (c) => formatAddress(c.socket.remoteAddress, c.socket.remotePort) === args[2],
      );
      if (target === undefined) return { replies: [error(TEXT.noSuchClient)] };
      if (target === client) return { replies: [OK], close: true };
      kill(target);
      return { replies: [OK] };
    }
    const filters: Array<(c: Client) => boolean> = [];
    let skipMe = true;
    for (let i = 2; i < args.length; i += 2) {
      const option = (args[i] as string).toLowerCase();
      const value = args[i + 1];
      if (value === undefined) return { replies: [error(TEXT.syntax)] };
      switch (option) {
        case 'id': {
          const id = /^-?(0|[1-9][0-9]{0,17})$/.test(value) ? Number(value) : 0;
          if (id <= 0) return { replies: [error(TEXT.clientIdAboveZero)] };
          filters.push((c) => c.id === id);
          break;
        }
        case 'type': {
          const matcher = typeMatcher(value);
          if (matcher === null) return { replies: [unknownClientType(value)] };
          filters.push(matcher);
          break;
        }
        case 'user':
          if (!access.userNames.includes(value) && value !== DEFAULT_USER)
            return { replies: [noSuchUser(value)] };
          filters.push((c) => (c.user?.name ?? DEFAULT_USER) === value);
          break;
        case 'addr':
          filters.push((c) => formatAddress(c.socket.remoteAddress, c.socket.remotePort) === value);
          break;
        case 'laddr':
          filters.push((c) => formatAddress(c.socket.localAddress, c.socket.localPort) === value);
          break;
        case 'skipme': {
          const word = value.toLowerCase();
          if (word !== 'yes' && word !== 'no') return { replies: [error(TEXT.syntax)] };
          skipMe = word === 'yes';
          break;
        }
        default:
          return { replies: [error(TEXT.syntax)] };
      }
    }
    let killed = 0;
    let killedSelf = false;
    for (const c of [...endpoint.clients]) {
      if (!filters.every((f) => f(c))) continue;
      if (c === client) {
        if (skipMe) continue;
        killedSelf = true;
      } else {
        kill(c);
      }
      killed++;
    }
    return { replies: [integer(killed)], ...(killedSelf ? { close: true } : {}) };
  }

  /** COMMAND [COUNT|LIST|INFO|DOCS|HELP]: Sentinel's table (commandTable.ts). */
  function command(args: Args): Reply {
    const sub = (args[1] ?? '').toLowerCase();
    const byName = (name: string) => {
      const [top = '', child] = name.toLowerCase().split('|');
      const meta = SENTINEL_COMMAND_TABLE.find((m) => m.name === top);
      if (meta === undefined || child === undefined) return meta === undefined ? null : { meta, sub: null };
      return { meta, sub: `${top}|${child}` };
    };
    switch (sub) {
      case '':
        return array(SENTINEL_COMMAND_TABLE.map((m) => wireReply(m.info)));
      case 'count':
        return integer(SENTINEL_COMMAND_TABLE.length);
      case 'help':
        return array(COMMAND_HELP_LINES.map((l) => simple(l)));
      case 'list':
        return commandList(args);
      case 'info': {
        if (args.length === 2) return array(SENTINEL_COMMAND_TABLE.map((m) => wireReply(m.info)));
        return array(
          args.slice(2).map((name) => {
            const found = byName(name);
            if (found === null) return nullBulk;
            const info = found.sub === null ? found.meta.info : subcommandInfo(found.meta.info, found.sub);
            return info === null ? nullBulk : wireReply(info);
          }),
        );
      }
      default: {
        // docs
        const entries: Array<readonly [Reply, Reply]> = [];
        const names = args.length === 2 ? SENTINEL_COMMAND_TABLE.map((m) => m.name) : args.slice(2);
        for (const name of names) {
          const found = byName(name);
          if (found === null) continue;
          const docs = found.sub === null ? found.meta.docs : subcommandDocs(found.meta.docs, found.sub);
          if (docs !== null) entries.push([bulk(found.sub ?? found.meta.name), wireReply(docs)]);
        }
        return map(entries);
      }
    }
  }

  /**
   * SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]: Redis's checks of its options (there is nothing to save
   * or wait for here, so the valid ones all mean "stop"), then the host stops, and the connection closes
   * without a reply, as Redis's does; where nothing can be stopped, an error says why.
   */
  function shutdown(args: Args): Outcome {
    const options = new Set(args.slice(1).map((a) => a.toLowerCase()));
    const known = ['nosave', 'save', 'now', 'force', 'abort'];
    if (
      [...options].some((o) => !known.includes(o)) ||
      (options.has('save') && options.has('nosave')) ||
      (options.has('abort') && options.size > 1)
    ) {
      return { replies: [error(TEXT.syntax)] };
    }
    if (options.has('abort')) return { replies: [error(TEXT.noShutdownInProgress)] };
    const reply = endpoint.controls.shutdown();
    return reply.ok ? { replies: [], close: true } : { replies: [error(errText(reply.error))] };
  }

  /** COMMAND LIST [FILTERBY MODULE <name> | ACLCAT <category> | PATTERN <glob>]. */
  function commandList(args: Args): Reply {
    const names = SENTINEL_COMMAND_TABLE.flatMap((m) => [m.name, ...subcommandNames(m.info)]);
    if (args.length === 2) return array(names.map((n) => bulk(n)));
    if (args.length !== 5 || (args[2] as string).toLowerCase() !== 'filterby') return error(TEXT.syntax);
    const value = args[4] as string;
    switch ((args[3] as string).toLowerCase()) {
      case 'module':
        return array([]);
      case 'aclcat':
        return array(
          SENTINEL_COMMAND_TABLE.flatMap((m) => withCategory(m.info, value.toLowerCase())).map((n) =>
            bulk(n),
          ),
        );
      case 'pattern':
        return array(names.filter((n) => globMatch(value.toLowerCase(), n)).map((n) => bulk(n)));
      default:
        return error(TEXT.syntax);
    }
  }

  /** One command → its replies (several for (P)(UN)SUBSCRIBE), or 'close' after them. */
  return async function execute(client: Client, args: Args): Promise<Outcome> {
    const found = lookupCommand(args);
    if (found.kind === 'unknown-command') return { replies: [unknownCommand(args)] };
    if (found.kind === 'unknown-subcommand') {
      return { replies: [error(`ERR unknown subcommand '${args[1]}'. Try ${found.container} HELP.`)] };
    }
    if (found.kind === 'arity') return { replies: [arityError(found.name)] };
    const user = client.user;
    if (!found.always) {
      if (user === null) return { replies: [error(TEXT.noAuth)] };
      if (!mayRun(user, found.id)) return { replies: [noPermission(found.name)] };
      if (found.write && endpoint.readOnlyError)
        return { replies: [error(endpoint.readOnlyError(found.name))] };
    }
    client.lastCommand = found.name;
    const cmd = (args[0] ?? '').toLowerCase();
    if (client.proto === 2 && subscribed(client) && !SUBSCRIBED_ALLOWED.has(cmd)) {
      return {
        replies: [
          error(
            `ERR Can't execute '${cmd}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`,
          ),
        ],
      };
    }
    switch (cmd) {
      case 'ping':
        if (args.length > 2) return { replies: [arityError('ping')] };
        if (client.proto === 2 && subscribed(client))
          return { replies: [array([bulk('pong'), bulk(args[1] ?? '')])] };
        return { replies: [args.length === 2 ? bulk(args[1] as string) : simple('PONG')] };
      case 'quit':
        return { replies: [OK], close: true };
      case 'reset':
        client.channels.clear();
        client.patterns.clear();
        client.name = null;
        client.proto = 2;
        client.user = access.initialUser();
        return { replies: [simple('RESET')] };
      case 'hello':
        return { replies: [hello(client, args)] };
      case 'auth':
        return { replies: [auth(client, args)] };
      case 'acl':
        // whoami or help (lookupCommand knows no other); user is set: ACL is not a no-auth command.
        if ((args[1] ?? '').toLowerCase() === 'whoami')
          return { replies: [bulk(user?.name ?? DEFAULT_USER)] };
        return { replies: [array(ACL_HELP_LINES.map((l) => simple(l)))] };
      case 'client':
        return clientCommand(client, args);
      case 'role':
        return {
          replies: [array([bulk('sentinel'), array((await view.masterNames()).map((n) => bulk(n)))])],
        };
      case 'info':
        return { replies: [bulk(await info(args.slice(1).map((s) => s.toLowerCase())))] };
      case 'command':
        return { replies: [command(args)] };
      case 'shutdown':
        return shutdown(args);
      case 'sentinel':
        return { replies: [await sentinel(client, args)] };
      case 'subscribe':
      case 'psubscribe':
      case 'unsubscribe':
      case 'punsubscribe':
        return { replies: subscription(client, user as AclUser, args) };
      case 'publish':
        return { replies: [error('ERR Only HELLO messages are accepted by Sentinel instances.')] };
      default:
        return { replies: [unknownCommand(args)] };
    }
  };
}
