/**
 * The commands of the Redis-protocol endpoint, one command in, its replies out: the connection commands
 * (PING, AUTH, HELLO, CLIENT, RESET, QUIT…), INFO and ROLE, (P)(UN)SUBSCRIBE, and SENTINEL
 * (sentinelCommand.ts). Access is checked here as Redis checks it (lib/core/acl.ts), in Redis's order:
 * unknown command, arity, authentication, permission; with Redis's texts (redis-server 7.0.15).
 */
import type { AccessControl } from '../accessControl.js';
import type { Fields, SentinelView } from '../commands/view.js';
import {
  type AclUser,
  DEFAULT_USER,
  lookupCommand,
  mayRun,
  mayUseChannel,
  mayUsePattern,
} from '../core/acl.js';
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
} from './encoder.js';
import { type ReplyEncoder, sentinelCommand } from './sentinelCommand.js';
import { type Args, type Client, subscribed, subscriptionCount } from './session.js';

const ACL_HELP_LINES = [
  'ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'WHOAMI',
  '    Return the current connection username.',
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

  async function info(sections: string[]): Promise<string> {
    const all = sections.length === 0 || sections.some((s) => ['all', 'default', 'everything'].includes(s));
    const has = (s: string) => all || sections.includes(s);
    const out: string[] = [];
    if (has('server')) {
      out.push(
        '# Server',
        `redis_version:${endpoint.redisVersion}`,
        'redis_mode:sentinel',
        `os:${process.platform}`,
        `process_id:${process.pid}`,
        `run_id:${endpoint.runId}`,
        `tcp_port:${endpoint.port()}`,
        `uptime_in_seconds:${Math.floor((Date.now() - endpoint.startedAt) / 1000)}`,
        'executable:lambda-sentinel',
        '',
      );
    }
    if (has('clients')) {
      out.push(
        '# Clients',
        `connected_clients:${endpoint.clients.size}`,
        `pubsub_clients:${[...endpoint.clients].filter(subscribed).length}`,
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

  function sentinel(client: Client, args: Args): Promise<Reply> {
    return sentinelCommand(
      {
        view,
        replies: endpoint.replies,
        runId: endpoint.runId,
        announce: () => {
          const local = (client.socket.localAddress ?? endpoint.host).replace(/^::ffff:/, '');
          return {
            host: endpoint.announce?.host ?? local,
            port: endpoint.announce?.port ?? endpoint.port(),
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

  function clientCommand(client: Client, args: Args): Reply {
    switch ((args[1] ?? '').toLowerCase()) {
      case 'id':
        return integer(client.id);
      case 'getname':
        return client.name === null ? nullBulk : bulk(client.name);
      case 'setname': {
        const name = args[2] as string;
        if (!validName(name)) return error(TEXT.invalidClientName);
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
  };
}
