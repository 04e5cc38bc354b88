/**
 * A Redis-protocol Sentinel endpoint (node:net): enough of RESP2/RESP3 and of Sentinel's commands that
 * unmodified clients in Sentinel mode (ioredis, redis-py, go-redis, redis-cli) find the master and follow
 * a failover, including through `+switch-master` on pub/sub. See docs/endpoint.md.
 *
 * Each connection handles its commands strictly in order (pipelining), one at a time. A malformed frame
 * gets `-ERR Protocol error: …` and closes that connection only.
 */
import { timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import { globMatch } from '../core/glob.js';
import { groupSetArgs } from '../core/settings.js';
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
  /** When set, clients must AUTH (or HELLO … AUTH) first; any username other than `default` is refused. */
  readonly password?: string;
  /** Identical events (type, payload, epoch) published within this window reach subscribers once (default 5000 ms). */
  readonly dedupWindowMs?: number;
  readonly limits?: Partial<ParserLimits>;
  /**
   * The address SENTINEL SENTINELS gives for the other sentinels (they are all served by this endpoint).
   * Default: the local address the asking client connected to, and this endpoint's port.
   */
  readonly announce?: { readonly host?: string; readonly port?: number };
  /** A subscriber whose unsent output exceeds this is disconnected, like Redis's pubsub buffer limit (default 8 MB). */
  readonly maxSubscriberBacklogBytes?: number;
  /** Reported by INFO server and HELLO (default 7.2.0: clients gate features on it). */
  readonly redisVersion?: string;
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
  authenticated: boolean;
  name: string | null;
  readonly channels: Set<string>;
  readonly patterns: Set<string>;
  closed: boolean;
}

type Args = readonly string[];

const SENTINEL_ARITY: Record<string, number> = {
  'get-master-addr-by-name': 3,
  master: 3,
  masters: 2,
  replicas: 3,
  slaves: 3,
  sentinels: 3,
  ckquorum: 3,
  myid: 2,
  failover: 3,
  reset: 3,
  remove: 3,
  monitor: 6,
  set: -5,
  'is-master-down-by-addr': 6,
  'info-cache': -2,
  'pending-scripts': 2,
  'simulate-failure': -2,
  debug: -2,
  flushconfig: 2,
  config: -3,
  help: 2,
};

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

/** Commands read ahead of their replies on one connection before it stops reading. */
const MAX_QUEUED = 256;
/** Distinct master addresses whose encoded get-master-addr-by-name reply is kept. */
const MAX_CACHED_ADDRESS_REPLIES = 1024;

const SUBSCRIBED_ALLOWED = new Set([
  'subscribe',
  'psubscribe',
  'unsubscribe',
  'punsubscribe',
  'ping',
  'quit',
  'reset',
]);
const NO_AUTH_NEEDED = new Set(['auth', 'hello', 'quit']);

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
  const runId = view.myId();
  const startedAt = Date.now();
  const clients = new Set<Client>();
  const recent = new Map<string, number>();
  let nextId = 1;
  let port = options.port;

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

  const checkPassword = (user: string, pass: string): boolean => {
    if (options.password === undefined) return true;
    if (user !== 'default') return false;
    const a = Buffer.from(pass);
    const b = Buffer.from(options.password);
    return a.length === b.length && timingSafeEqual(a, b);
  };

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
    const sub = (args[1] ?? '').toLowerCase();
    const arity = SENTINEL_ARITY[sub];
    if (arity === undefined) return error(`ERR unknown subcommand '${args[1] ?? ''}'. Try SENTINEL HELP.`);
    if ((arity > 0 && args.length !== arity) || (arity < 0 && args.length < -arity)) {
      return arityError(`sentinel|${sub}`);
    }
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

  function subscription(client: Client, args: Args): Reply[] {
    const cmd = (args[0] ?? '').toLowerCase();
    const pattern = cmd === 'psubscribe' || cmd === 'punsubscribe';
    const set = pattern ? client.patterns : client.channels;
    const names = args.slice(1);
    const replies: Reply[] = [];
    if (cmd === 'subscribe' || cmd === 'psubscribe') {
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
    let authOk = false;
    for (let i = 2; i < args.length; i++) {
      const opt = (args[i] as string).toLowerCase();
      if (opt === 'auth' && i + 2 < args.length) {
        if (!checkPassword(args[i + 1] as string, args[i + 2] as string)) {
          return error('WRONGPASS invalid username-password pair or user is disabled.');
        }
        authOk = true;
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
    if (!client.authenticated && !authOk)
      return error(
        'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time',
      );
    if (authOk) client.authenticated = true;
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

  function clientCommand(client: Client, args: Args): Reply {
    const sub = (args[1] ?? '').toLowerCase();
    switch (sub) {
      case 'id':
        return args.length === 2 ? integer(client.id) : arityError('client|id');
      case 'getname':
        return args.length === 2
          ? client.name === null
            ? nullBulk
            : bulk(client.name)
          : arityError('client|getname');
      case 'setname': {
        if (args.length !== 3) return arityError('client|setname');
        const name = args[2] as string;
        if (!validName(name))
          return error('ERR Client names cannot contain spaces, newlines or special characters.');
        client.name = name === '' ? null : name;
        return OK;
      }
      case 'setinfo': {
        if (args.length !== 4) return arityError('client|setinfo');
        const attr = (args[2] as string).toLowerCase();
        if (attr !== 'lib-name' && attr !== 'lib-ver') return error(`ERR Unrecognized option '${args[2]}'`);
        return OK;
      }
      case '':
        return arityError('client');
      default:
        return error(`ERR unknown subcommand '${args[1]}'. Try CLIENT HELP.`);
    }
  }

  /** One command → its replies (several for (P)(UN)SUBSCRIBE), or 'close' after them. */
  async function execute(client: Client, args: Args): Promise<{ replies: Reply[]; close?: boolean }> {
    const cmd = (args[0] ?? '').toLowerCase();
    if (!client.authenticated && !NO_AUTH_NEEDED.has(cmd))
      return { replies: [error('NOAUTH Authentication required.')] };
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
        client.authenticated = options.password === undefined;
        return { replies: [simple('RESET')] };
      case 'hello':
        return { replies: [hello(client, args)] };
      case 'auth': {
        if (args.length !== 2 && args.length !== 3) return { replies: [arityError('auth')] };
        if (options.password === undefined && args.length === 2) {
          return {
            replies: [
              error(
                'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
              ),
            ],
          };
        }
        const [user, pass] =
          args.length === 3 ? [args[1] as string, args[2] as string] : ['default', args[1] as string];
        if (!checkPassword(user, pass))
          return { replies: [error('WRONGPASS invalid username-password pair or user is disabled.')] };
        client.authenticated = true;
        return { replies: [OK] };
      }
      case 'client':
        return { replies: [clientCommand(client, args)] };
      case 'role':
        if (args.length !== 1) return { replies: [arityError('role')] };
        return {
          replies: [array([bulk('sentinel'), array((await view.masterNames()).map((n) => bulk(n)))])],
        };
      case 'info':
        return { replies: [bulk(await info(args.slice(1).map((s) => s.toLowerCase())))] };
      case 'command':
        return { replies: [array([])] };
      case 'sentinel':
        if (args.length < 2) return { replies: [arityError('sentinel')] };
        return { replies: [await sentinel(client, args)] };
      case 'subscribe':
      case 'psubscribe':
        if (args.length < 2) return { replies: [arityError(cmd)] };
        return { replies: subscription(client, args) };
      case 'unsubscribe':
      case 'punsubscribe':
        return { replies: subscription(client, args) };
      case 'publish':
        if (args.length !== 3) return { replies: [arityError('publish')] };
        return { replies: [error('ERR Only HELLO messages are accepted by Sentinel instances.')] };
      default:
        return { replies: [unknownCommand(args)] };
    }
  }

  const server = net.createServer((socket) => {
    const client: Client = {
      id: nextId++,
      socket,
      proto: 2,
      authenticated: options.password === undefined,
      name: null,
      channels: new Set(),
      patterns: new Set(),
      closed: false,
    };
    clients.add(client);
    const parser = new RespParser(options.limits);
    const queue: Args[] = [];
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

    const drain = async () => {
      if (running) return;
      running = true;
      try {
        while (queue.length > 0 && !client.closed) {
          const args = queue.shift() as Args;
          let outcome: { replies: Reply[]; close?: boolean };
          try {
            outcome = await execute(client, args);
          } catch (e) {
            outcome = { replies: [error(`ERR ${e instanceof Error ? e.message : String(e)}`)] };
          }
          // More commands already read: hold the replies and write them together once this burst of
          // work is done (one write for a pipeline instead of one per reply).
          if (queue.length > 0 && !corked) {
            corked = true;
            socket.cork();
            process.nextTick(uncork);
          }
          for (const reply of outcome.replies) send(client, reply);
          if (queue.length < MAX_QUEUED / 2 && protocolError === null && socket.isPaused()) socket.resume();
          if (outcome.close) {
            queue.length = 0;
            closeAfterQueue = true;
          }
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
      const result = parser.push(chunk);
      for (const command of result.commands) queue.push(command.map((b) => b.toString('utf8')));
      // A client that pipelines faster than it is answered waits: at most MAX_QUEUED commands are held.
      if (queue.length >= MAX_QUEUED) socket.pause();
      if (result.error !== null) {
        protocolError = result.error;
        socket.pause();
      }
      void drain();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
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
        if (client.closed || !client.authenticated) continue;
        if (client.channels.has(event.type)) {
          send(client, push([bulk('message'), bulk(event.type), bulk(event.payload)]));
          delivered++;
        }
        for (const pattern of client.patterns) {
          if (globMatch(pattern, event.type)) {
            send(client, push([bulk('pmessage'), bulk(pattern), bulk(event.type), bulk(event.payload)]));
            delivered++;
          }
        }
      }
      return delivered;
    },
    close: async () => {
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const client of clients) client.socket.destroy();
      await done;
    },
  };
}

function validName(name: string): boolean {
  return /^[\x21-\x7e]*$/.test(name);
}
