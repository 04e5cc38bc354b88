/**
 * A Redis-protocol Sentinel endpoint (node:net): enough of RESP2/RESP3 and of Sentinel's commands that
 * unmodified clients in Sentinel mode (ioredis, redis-py, go-redis, redis-cli) find the master and follow
 * a failover, including through `+switch-master` on pub/sub. See docs/endpoint.md.
 *
 * Each connection handles its commands strictly in order (pipelining), one at a time. A malformed frame
 * gets `-ERR Protocol error: …` and closes that connection only.
 *
 * Access as Redis does it (lib/core/acl.ts): ACL users and `requirepass`, NOAUTH / WRONGPASS / NOPERM with
 * Redis's texts, checked in Redis's order (unknown command, arity, authentication, permission). A
 * connection that sends `POST` or `Host:` as a command is an HTTP request aimed at this port (a web page
 * driving it): it is closed at once and nothing it sent runs, as Redis does. Every connection is bounded:
 * idle and partial-command timeouts, a connection cap, and caps on the bytes it may make this process
 * hold (much smaller before it authenticates).
 */
import net from 'node:net';
import { AccessControl } from '../accessControl.js';
import {
  type AclUser,
  DEFAULT_USER,
  lookupCommand,
  mayRun,
  mayUseChannel,
  mayUsePattern,
  PRE_AUTH_LIMITS,
  resolveConnectionLimits,
} from '../core/acl.js';
import { globMatch } from '../core/glob.js';
import { groupSetArgs } from '../core/settings.js';
import type { AclUserSpec, ConnectionLimits } from '../core/types.js';
import type { Log } from '../runtime/log.js';
import {
  array,
  bulk,
  encode,
  error,
  fieldMap,
  integer,
  map,
  nullArray,
  nullBulk,
  OK,
  type Protocol,
  push,
  type Reply,
  simple,
} from './encoder.js';
import { type ParserLimits, RespParser } from './parser.js';
import type { CommandReply, Fields, SentinelView } from './sentinelView.js';

export interface SentinelEndpointOptions {
  readonly port: number;
  readonly host?: string;
  readonly view: SentinelView;
  /**
   * The ACL users (SentinelConfig.access.users: `requirepass` and `user` lines). Without a user named
   * `default`, there is Redis's: no password needed, every command. Passwords are SHA-256 only.
   */
  readonly users?: readonly AclUserSpec[];
  /** Idle and partial-command timeouts, the connection cap, the command size cap (CONNECTION_LIMIT_DEFAULTS). */
  readonly limits?: Partial<ConnectionLimits>;
  /**
   * When set, the endpoint is read-only whoever asks: every write command (lib/core/acl.ts) gets this
   * error text, given the command's name (`sentinel|set`). The proxy's default.
   */
  readonly readOnlyError?: (command: string) => string;
  /** Identical events (type, payload, epoch) published within this window reach subscribers once (default 5000 ms). */
  readonly dedupWindowMs?: number;
  /**
   * The address SENTINEL SENTINELS gives for the other sentinels (they are all served by this endpoint).
   * Default: the local address the asking client connected to, and this endpoint's port.
   */
  readonly announce?: { readonly host?: string; readonly port?: number };
  /** A subscriber whose unsent output exceeds this is disconnected, like Redis's pubsub buffer limit (default 8 MB). */
  readonly maxSubscriberBacklogBytes?: number;
  /** Reported by INFO server and HELLO (default 7.2.0: clients gate features on it). */
  readonly redisVersion?: string;
  /** Where a cross-protocol attempt (POST / Host:) is reported, at most once a minute as Redis does. */
  readonly log?: Log;
}

export interface PublishableEvent {
  readonly type: string;
  readonly payload: string;
}

export interface SentinelEndpoint {
  readonly address: { readonly host: string; readonly port: number };
  /** Fans an event out to subscribers of its channel; returns how many received it (0 for a duplicate). */
  publish(event: PublishableEvent, epoch?: number | null): number;
  close(): Promise<void>;
}

interface Client {
  readonly id: number;
  readonly socket: net.Socket;
  proto: Protocol;
  /** Whom the connection acts as; null until it authenticates (when `default` needs a password). */
  user: AclUser | null;
  name: string | null;
  readonly channels: Set<string>;
  readonly patterns: Set<string>;
  closed: boolean;
  /** Commands read and not yet answered; the first is the one running. */
  readonly queue: Args[];
  /** Last time it sent bytes or got a reply (Redis's lastinteraction, for `timeout`). */
  lastActivity: number;
  /** When the command still arriving began, or null when none is (for the partial-command timeout). */
  frameStartedAt: number | null;
  /** Its next command waits for it to read its replies: it counts as idle while it does not. */
  awaitingOutput: boolean;
}

type Args = readonly string[];

const HELP_LINES = [
  'SENTINEL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CKQUORUM <master-name>',
  '    Check if the current Sentinel configuration is able to reach the quorum needed to failover a master and the majority needed to authorize the failover.',
  'GET-MASTER-ADDR-BY-NAME <master-name>',
  '    Return the ip and port number of the master with that name.',
  'FAILOVER <master-name>',
  '    Manually failover a master node without asking for agreement from other Sentinels',
  'MASTER <master-name>',
  '    Show the state and info of the specified master.',
  'MASTERS',
  '    Show a list of monitored masters and their state.',
  'MYID',
  '    Return the ID of the Sentinel instance.',
  'REPLICAS <master-name>',
  '    Show a list of replicas for this master and their state.',
  'SENTINELS <master-name>',
  '    Show a list of Sentinel instances for this master and their state.',
  'HELP',
  '    Print this help.',
];

const ACL_HELP_LINES = [
  'ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'WHOAMI',
  '    Return the current connection username.',
  'HELP',
  '    Prints this help.',
];

/** Commands read ahead of their replies on one connection before it stops reading. */
const MAX_QUEUED = 256;
/** Distinct master addresses whose encoded get-master-addr-by-name reply is kept. */
const MAX_CACHED_ADDRESS_REPLIES = 1024;
/**
 * Unsent replies above which a connection's next command waits until the client has read them: a
 * client that pipelines without reading cannot make replies pile up here (subscribers have their own
 * limit, maxSubscriberBacklogBytes).
 */
const OUTPUT_HIGH_WATER_BYTES = 64 * 1024;
/** How often idle and partial-command timeouts are checked, at most and at least. */
const SWEEP_MAX_MS = 1_000;
const SWEEP_MIN_MS = 10;
/** Redis logs a cross-protocol attempt at most this often. */
const ATTACK_LOG_INTERVAL_MS = 60_000;

/** Redis's replies, word for word (redis-server 7.0.15). */
const TEXT = {
  noAuth: 'NOAUTH Authentication required.',
  noAuthHello:
    'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time',
  wrongPass: 'WRONGPASS invalid username-password pair or user is disabled.',
  authWithoutPassword:
    'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
  noPermChannels: 'NOPERM this user has no permissions to access one of the channels used as arguments',
  maxClients: 'ERR max number of clients reached',
} as const;

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

/** Commands after which the parser's limits may change: the next command waits for them to run. */
const AUTH_CHANGING: ReadonlySet<string> = new Set(['auth', 'hello', 'reset']);

/** The first word of an HTTP request line (`POST /x HTTP/1.1`) or header (`Host: x`), as Redis checks it. */
const CROSS_PROTOCOL_WORDS: ReadonlySet<string> = new Set(['post', 'host:']);

function fieldsReply(fields: Fields): Reply {
  return fieldMap(fields);
}

function field(fields: Fields, name: string): string {
  return fields.find(([k]) => k === name)?.[1] ?? '';
}

export async function startSentinelEndpoint(options: SentinelEndpointOptions): Promise<SentinelEndpoint> {
  const view = options.view;
  const host = options.host ?? '127.0.0.1';
  const version = options.redisVersion ?? '7.2.0';
  const dedupWindowMs = options.dedupWindowMs ?? 5_000;
  const access = new AccessControl(options.users);
  const limits = resolveConnectionLimits(options.limits);
  const parserLimits: {
    readonly authenticated: Partial<ParserLimits>;
    readonly preAuth: Partial<ParserLimits>;
  } = {
    authenticated: {
      maxBulkBytes: limits.queryBufferLimitBytes,
      maxInlineBytes: Math.min(limits.queryBufferLimitBytes, 64 * 1024),
      maxRequestBytes: limits.queryBufferLimitBytes,
    },
    preAuth: {
      maxArgs: PRE_AUTH_LIMITS.maxArgs,
      maxBulkBytes: Math.min(PRE_AUTH_LIMITS.maxBulkBytes, limits.queryBufferLimitBytes),
      maxInlineBytes: Math.min(PRE_AUTH_LIMITS.maxInlineBytes, limits.queryBufferLimitBytes),
      maxRequestBytes: Math.min(PRE_AUTH_LIMITS.maxRequestBytes, limits.queryBufferLimitBytes),
      unauthenticated: true,
    },
  };
  /** What an unauthenticated connection may have queued: one command's worth. */
  const preAuthQueueBytes = parserLimits.preAuth.maxRequestBytes ?? PRE_AUTH_LIMITS.maxRequestBytes;
  const runId = view.myId();
  const startedAt = Date.now();
  const clients = new Set<Client>();
  const recent = new Map<string, number>();
  let nextId = 1;
  let port = options.port;
  let attacksNotLogged = 0;
  let attackLoggedAt = Number.NEGATIVE_INFINITY;

  const maxBacklog = options.maxSubscriberBacklogBytes ?? 8 * 1024 * 1024;
  const send = (client: Client, reply: Reply) => {
    if (client.closed) return;
    if (client.socket.writableLength > maxBacklog) {
      // It does not read what it is sent (Redis: client-output-buffer-limit): drop it.
      client.closed = true;
      client.socket.destroy();
      return;
    }
    client.socket.write(encodeReply(reply, client.proto));
  };

  // get-master-addr-by-name is what clients ask most, and its answer rarely changes: the same address
  // gets the same reply object, encoded once per protocol.
  const addressReplies = new Map<string, Reply>();
  const encoded = new WeakMap<Reply, Partial<Record<Protocol, Buffer>>>();
  const addressReply = (host: string, port: number): Reply => {
    const key = `${host}:${port}`;
    let reply = addressReplies.get(key);
    if (reply === undefined) {
      if (addressReplies.size >= MAX_CACHED_ADDRESS_REPLIES) addressReplies.clear();
      reply = array([bulk(host), bulk(String(port))]);
      addressReplies.set(key, reply);
      encoded.set(reply, {});
    }
    return reply;
  };
  const encodeReply = (reply: Reply, proto: Protocol): Buffer => {
    const bytes = encoded.get(reply);
    if (bytes === undefined) return encode(reply, proto);
    const cached = bytes[proto] ?? encode(reply, proto);
    bytes[proto] = cached;
    return cached;
  };

  const subscriptionCount = (client: Client) => client.channels.size + client.patterns.size;
  const subscribed = (client: Client) => subscriptionCount(client) > 0;

  const unknownCommand = (args: Args): Reply => {
    let rest = '';
    for (const arg of args.slice(1)) {
      if (rest.length >= 128) break;
      rest += `'${arg.slice(0, 128 - rest.length)}' `;
    }
    return error(`ERR unknown command '${(args[0] ?? '').slice(0, 128)}', with args beginning with: ${rest}`);
  };
  const arityError = (name: string) => error(`ERR wrong number of arguments for '${name}' command`);
  const noSuchMaster = error('ERR No such master with that name');

  const reportCrossProtocol = (client: Client) => {
    const now = Date.now();
    if (now - attackLoggedAt < ATTACK_LOG_INTERVAL_MS) {
      attacksNotLogged++;
      return;
    }
    options.log?.(
      'warn',
      'Possible SECURITY ATTACK detected: a client sent POST or Host: to the Sentinel endpoint, which is ' +
        'what a web page attempting cross-protocol scripting does. Connection aborted.',
      {
        remote: `${client.socket.remoteAddress ?? '?'}:${client.socket.remotePort ?? '?'}`,
        ...(attacksNotLogged > 0 ? { sinceLastLine: attacksNotLogged } : {}),
      },
    );
    attackLoggedAt = now;
    attacksNotLogged = 0;
  };

  async function info(sections: string[]): Promise<string> {
    const all = sections.length === 0 || sections.some((s) => ['all', 'default', 'everything'].includes(s));
    const has = (s: string) => all || sections.includes(s);
    const out: string[] = [];
    if (has('server')) {
      out.push(
        '# Server',
        `redis_version:${version}`,
        'redis_mode:sentinel',
        `os:${process.platform}`,
        `process_id:${process.pid}`,
        `run_id:${runId}`,
        `tcp_port:${port}`,
        `uptime_in_seconds:${Math.floor((Date.now() - startedAt) / 1000)}`,
        'executable:lambda-sentinel',
        '',
      );
    }
    if (has('clients')) {
      out.push(
        '# Clients',
        `connected_clients:${clients.size}`,
        `pubsub_clients:${[...clients].filter(subscribed).length}`,
        '',
      );
    }
    if (has('sentinel')) {
      const masters = await view.masters();
      out.push(
        '# Sentinel',
        `sentinel_masters:${masters.length}`,
        'sentinel_tilt:0',
        'sentinel_tilt_since_seconds:-1',
        'sentinel_running_scripts:0',
        'sentinel_scripts_queue_length:0',
        'sentinel_simulate_failure_flags:0',
      );
      masters.forEach((m, i) => {
        const flags = field(m, 'flags').split(',');
        const status = flags.includes('o_down') ? 'odown' : flags.includes('s_down') ? 'sdown' : 'ok';
        const sentinels = Number(field(m, 'num-other-sentinels')) + 1;
        out.push(
          `master${i}:name=${field(m, 'name')},status=${status},address=${field(m, 'ip')}:${field(m, 'port')},slaves=${field(m, 'num-slaves')},sentinels=${sentinels}`,
        );
      });
      out.push('');
    }
    return out.join('\r\n');
  }

  async function sentinel(client: Client, args: Args): Promise<Reply> {
    // lookupCommand has checked the subcommand and its arity.
    const sub = (args[1] ?? '').toLowerCase();
    const name = args[2] ?? '';
    switch (sub) {
      case 'get-master-addr-by-name': {
        const address = await view.masterAddress(name);
        return address ? addressReply(address.host, address.port) : nullArray;
      }
      case 'master': {
        const fields = await view.master(name);
        return fields ? fieldsReply(fields) : noSuchMaster;
      }
      case 'masters':
        return array((await view.masters()).map(fieldsReply));
      case 'replicas':
      case 'slaves': {
        const list = await view.replicas(name);
        return list ? array(list.map(fieldsReply)) : noSuchMaster;
      }
      case 'sentinels': {
        const local = (client.socket.localAddress ?? host).replace(/^::ffff:/, '');
        const list = await view.sentinels(name, {
          host: options.announce?.host ?? local,
          port: options.announce?.port ?? port,
        });
        return list ? array(list.map(fieldsReply)) : noSuchMaster;
      }
      case 'ckquorum': {
        const result = await view.ckquorum(name);
        if (!result) return noSuchMaster;
        return result.ok ? simple(result.text) : error(result.text);
      }
      case 'myid':
        return bulk(runId);
      case 'failover': {
        switch (await view.failover(name)) {
          case 'OK':
            return OK;
          case 'INPROG':
            return error('INPROG Failover already in progress');
          case 'NOGOODSLAVE':
            return error('NOGOODSLAVE No suitable replica to promote');
          case 'NOSUCHMASTER':
            return noSuchMaster;
        }
        return OK;
      }
      case 'monitor':
        return commandReply(await view.monitor(name, args[3] ?? '', args[4] ?? '', args[5] ?? ''));
      case 'remove':
        return commandReply(await view.remove(name));
      case 'set':
        return commandReply(await view.set(name, groupSetArgs(args.slice(3))));
      case 'reset':
        return integer(await view.reset(name));
      case 'help':
        return array(HELP_LINES.map((l) => simple(l)));
      default:
        return error('ERR not supported yet');
    }
  }

  function commandReply(reply: CommandReply): Reply {
    return reply.ok ? OK : error(`ERR ${reply.error}`);
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
        if (!validName(name))
          return error('ERR Client names cannot contain spaces, newlines or special characters.');
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
      [bulk('version'), bulk(version)],
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

  function clientCommand(client: Client, args: Args): Reply {
    switch ((args[1] ?? '').toLowerCase()) {
      case 'id':
        return integer(client.id);
      case 'getname':
        return client.name === null ? nullBulk : bulk(client.name);
      case 'setname': {
        const name = args[2] as string;
        if (!validName(name))
          return error('ERR Client names cannot contain spaces, newlines or special characters.');
        client.name = name === '' ? null : name;
        return OK;
      }
      default: {
        // setinfo
        const attr = (args[2] as string).toLowerCase();
        if (attr !== 'lib-name' && attr !== 'lib-ver') return error(`ERR Unrecognized option '${args[2]}'`);
        return OK;
      }
    }
  }

  /** One command → its replies (several for (P)(UN)SUBSCRIBE), or 'close' after them. */
  async function execute(client: Client, args: Args): Promise<{ replies: Reply[]; close?: boolean }> {
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
      if (found.write && options.readOnlyError)
        return { replies: [error(options.readOnlyError(found.name))] };
    }
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
        return { replies: [clientCommand(client, args)] };
      case 'role':
        return {
          replies: [array([bulk('sentinel'), array((await view.masterNames()).map((n) => bulk(n)))])],
        };
      case 'info':
        return { replies: [bulk(await info(args.slice(1).map((s) => s.toLowerCase())))] };
      case 'command':
        return { replies: [array([])] };
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
  }

  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    if (clients.size >= limits.maxClients) {
      // Redis's answer to one client too many, then the connection is closed.
      socket.end(`-${TEXT.maxClients}\r\n`, () => socket.destroy());
      return;
    }
    const client: Client = {
      id: nextId++,
      socket,
      proto: 2,
      user: access.initialUser(),
      name: null,
      channels: new Set(),
      patterns: new Set(),
      closed: false,
      queue: [],
      lastActivity: Date.now(),
      frameStartedAt: null,
      awaitingOutput: false,
    };
    clients.add(client);
    const parser = new RespParser(parserLimits.preAuth);
    let parserAuthenticated = false;
    const queue = client.queue;
    /** Each queued command's size and whether it may change the user; the sizes' sum is queuedBytes. */
    const queued: Array<{ readonly bytes: number; readonly changesUser: boolean }> = [];
    let queuedBytes = 0;
    /** Queued commands that may change the connection's user (AUTH, HELLO, RESET). */
    let authChanges = 0;
    /** pump stopped short of what was read (queue full, or after AUTH): it must run again. */
    let holding = false;
    /** When bytes last arrived: a command still incomplete began no earlier. */
    let lastRead = Date.now();
    let running = false;
    let closeAfterQueue = false;
    let protocolError: string | null = null;
    let corked = false;
    const uncork = () => {
      corked = false;
      socket.uncork();
    };

    const finish = () => {
      client.closed = true;
      clients.delete(client);
    };
    socket.on('close', finish);
    socket.on('error', finish);
    socket.setNoDelay(true);

    /** Takes complete commands from what was read, as far as this connection may queue them. */
    const pump = () => {
      if (client.closed) return;
      let took = false;
      let heldBack = false;
      while (protocolError === null) {
        // After a command that may change who the connection is, the next is parsed only once it ran:
        // with the limits in force then (AUTH raises them, RESET lowers them), as Redis parses.
        if (
          closeAfterQueue ||
          authChanges > 0 ||
          queue.length >= MAX_QUEUED ||
          queuedBytes >= (client.user === null ? preAuthQueueBytes : limits.queryBufferLimitBytes)
        ) {
          heldBack = true;
          break;
        }
        const authenticated = client.user !== null;
        if (authenticated !== parserAuthenticated) {
          parser.setLimits(authenticated ? parserLimits.authenticated : parserLimits.preAuth);
          parserAuthenticated = authenticated;
        }
        const step = parser.next();
        if (step === null) break;
        if ('error' in step) {
          protocolError = step.error;
          break;
        }
        const command = step.command;
        const args = command.map((b) => b.toString('utf8'));
        const name = (args[0] as string).toLowerCase();
        if (CROSS_PROTOCOL_WORDS.has(name)) {
          // An HTTP request: close before anything it carries runs, queued commands included.
          client.closed = true;
          queue.length = 0;
          socket.destroy();
          reportCrossProtocol(client);
          return;
        }
        let bytes = 0;
        for (const arg of command) bytes += arg.length;
        const changesUser = AUTH_CHANGING.has(name);
        if (changesUser) authChanges++;
        queue.push(args);
        queued.push({ bytes, changesUser });
        queuedBytes += bytes;
        took = true;
      }
      // The partial-command clock runs only while the client owes us bytes, not while we hold back.
      if (heldBack || protocolError !== null || !parser.midFrame) client.frameStartedAt = null;
      else if (took || client.frameStartedAt === null) client.frameStartedAt = lastRead;
      holding = heldBack;
      // Read only while there is room: what the client sends beyond that waits in the kernel.
      if (heldBack || protocolError !== null) socket.pause();
      else if (socket.isPaused()) socket.resume();
      void drain();
    };

    /**
     * Unsent replies to wait for before the next command: over OUTPUT_HIGH_WATER_BYTES, or any the
     * socket is already holding back before authentication. Only when the socket will say 'drain'.
     */
    const outputBacklogged = () =>
      !subscribed(client) &&
      socket.writableNeedDrain &&
      socket.writableLength > (client.user === null ? 0 : OUTPUT_HIGH_WATER_BYTES);

    /** Resolves once the client has read enough of its replies (or is gone). */
    const outputDrained = () =>
      new Promise<void>((resolve) => {
        const done = () => {
          socket.off('drain', done);
          socket.off('close', done);
          resolve();
        };
        socket.on('drain', done);
        socket.on('close', done);
      });

    const drain = async () => {
      if (running) return;
      running = true;
      try {
        while (queue.length > 0 && !client.closed) {
          if (outputBacklogged()) {
            client.awaitingOutput = true;
            await outputDrained();
            client.awaitingOutput = false;
            client.lastActivity = Date.now();
            if (client.closed) break;
          }
          const args = queue[0] as Args;
          let outcome: { replies: Reply[]; close?: boolean };
          try {
            outcome = await execute(client, args);
          } catch (e) {
            outcome = { replies: [error(`ERR ${e instanceof Error ? e.message : String(e)}`)] };
          }
          queue.shift();
          const done = queued.shift();
          queuedBytes -= done?.bytes ?? 0;
          if (done?.changesUser) authChanges--;
          client.lastActivity = Date.now();
          // More commands already read: hold the replies and write them together once this burst of
          // work is done (one write for a pipeline instead of one per reply).
          if (queue.length > 0 && !corked) {
            corked = true;
            socket.cork();
            process.nextTick(uncork);
          }
          for (const reply of outcome.replies) send(client, reply);
          if (outcome.close) {
            queue.length = 0;
            queued.length = 0;
            queuedBytes = 0;
            authChanges = 0;
            closeAfterQueue = true;
          }
          // Everything read is parsed already unless pump held back: only then is there more to take.
          if (holding) pump();
        }
        if (protocolError !== null && !client.closed) {
          send(client, error(`ERR ${protocolError}`));
          closeAfterQueue = true;
        }
        if (closeAfterQueue && !client.closed) {
          client.closed = true;
          socket.end();
        }
      } finally {
        running = false;
      }
    };

    socket.on('data', (chunk: Buffer) => {
      if (client.closed || protocolError !== null) return;
      lastRead = Date.now();
      client.lastActivity = lastRead;
      parser.append(chunk);
      pump();
    });
  });

  // Redis's clientsCron: one sweep over the connections instead of a timer per connection and command.
  const timeouts = [limits.idleTimeoutMs, limits.frameTimeoutMs].filter((t) => t > 0);
  const sweepEveryMs = Math.max(SWEEP_MIN_MS, Math.min(SWEEP_MAX_MS, Math.floor(Math.min(...timeouts) / 4)));
  const sweep =
    timeouts.length === 0
      ? null
      : setInterval(() => {
          const now = Date.now();
          for (const client of clients) {
            const partialTooLong =
              limits.frameTimeoutMs > 0 &&
              client.frameStartedAt !== null &&
              now - client.frameStartedAt > limits.frameTimeoutMs;
            // As Redis's `timeout`: never a subscriber, nor a connection waiting for its own reply; but
            // one that does not read its replies is idle (Redis counts only writes that progress).
            const idleTooLong =
              limits.idleTimeoutMs > 0 &&
              !subscribed(client) &&
              (client.queue.length === 0 || client.awaitingOutput) &&
              now - client.lastActivity > limits.idleTimeoutMs;
            if (partialTooLong || idleTooLong) {
              client.closed = true;
              client.socket.destroy();
            }
          }
        }, sweepEveryMs);
  sweep?.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((e: unknown) => {
    if (sweep) clearInterval(sweep);
    throw e;
  });
  const bound = server.address() as net.AddressInfo;
  port = bound.port;

  return {
    address: { host, port },
    publish(event, epoch) {
      const now = Date.now();
      for (const [key, at] of recent) if (now - at > dedupWindowMs) recent.delete(key);
      const key = `${event.type}\u0000${event.payload}\u0000${epoch ?? ''}`;
      if (recent.has(key)) return 0;
      recent.set(key, now);
      let delivered = 0;
      for (const client of clients) {
        const user = client.user;
        // Only to whom may subscribe to it now (the connection may have changed user since it subscribed).
        if (client.closed || user === null) continue;
        if (client.channels.has(event.type) && mayRun(user, 'subscribe') && mayUseChannel(user, event.type)) {
          send(client, push([bulk('message'), bulk(event.type), bulk(event.payload)]));
          delivered++;
        }
        if (client.patterns.size === 0 || !mayRun(user, 'psubscribe')) continue;
        for (const pattern of client.patterns) {
          if (mayUsePattern(user, pattern) && globMatch(pattern, event.type)) {
            send(client, push([bulk('pmessage'), bulk(pattern), bulk(event.type), bulk(event.payload)]));
            delivered++;
          }
        }
      }
      return delivered;
    },
    close: async () => {
      if (sweep) clearInterval(sweep);
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const client of clients) client.socket.destroy();
      await done;
    },
  };
}

function validName(name: string): boolean {
  return /^[\x21-\x7e]*$/.test(name);
}
