/**
 * A Redis-protocol Sentinel endpoint (node:net): enough of RESP2/RESP3 and of Sentinel's commands that
 * unmodified clients in Sentinel mode (ioredis, redis-py, go-redis, redis-cli) find the master and follow
 * a failover, including through `+switch-master` on pub/sub. See docs/endpoint.md.
 *
 * This file holds the connections; the commands are commands.ts. Each connection handles its commands
 * strictly in order (pipelining), one at a time. A malformed frame gets `-ERR Protocol error: …` and
 * closes that connection only. The lookup clients send most, get-master-addr-by-name, is answered as
 * soon as it is read when nothing before it waits and the view holds the answer (addressLookup.ts); the
 * replies to the lookups one read brought go out in one write.
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
import { fixedProcessControls, type ProcessControls } from '../commands/processControls.js';
import type { SentinelView } from '../commands/view.js';
import {
  mayRun,
  mayUseChannel,
  mayUsePattern,
  PRE_AUTH_LIMITS,
  resolveConnectionLimits,
} from '../core/acl.js';
import { globMatch } from '../core/glob.js';
import type { AclUserSpec, ConnectionLimits } from '../core/types.js';
import type { Log } from '../runtime/log.js';
import { addressLookup } from './addressLookup.js';
import { commandRunner, type Outcome } from './commands.js';
import { bulk, error, push, type Reply } from './encoder.js';
import { type ParserLimits, RespParser } from './parser.js';
import { ReplyEncoder } from './sentinelCommand.js';
import { type Args, type Client, newEndpointStats, subscribed } from './session.js';

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
  /**
   * SENTINEL CONFIG, DEBUG, SIMULATE-FAILURE and SHUTDOWN (lib/commands/processControls.ts). Default:
   * a deployment's, which shows Sentinel's defaults and refuses every change with what to do instead.
   */
  readonly controls?: ProcessControls;
  /** INFO server's config_file. */
  readonly configFile?: string;
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

/** Commands read ahead of their replies on one connection before it stops reading. */
const MAX_QUEUED = 256;
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
/** Redis's reply to one client too many (redis-server 7.0.15). */
const MAX_CLIENTS_TEXT = 'ERR max number of clients reached';

/** Commands after which the parser's limits may change: the next command waits for them to run. */
const AUTH_CHANGING: ReadonlySet<string> = new Set(['auth', 'hello', 'reset']);

/** The first word of an HTTP request line (`POST /x HTTP/1.1`) or header (`Host: x`), as Redis checks it. */
const CROSS_PROTOCOL_WORDS: ReadonlySet<string> = new Set(['post', 'host:']);

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

  const replies = new ReplyEncoder();
  const stats = newEndpointStats();
  const execute = commandRunner({
    view,
    access,
    replies,
    redisVersion: version,
    runId,
    startedAt,
    host,
    port: () => port,
    clients,
    announce: options.announce,
    readOnlyError: options.readOnlyError,
    controls: options.controls ?? fixedProcessControls(),
    stats,
    maxClients: limits.maxClients,
    ...(options.configFile !== undefined ? { configFile: options.configFile } : {}),
  });

  const answerNow = addressLookup(view, replies);

  const maxBacklog = options.maxSubscriberBacklogBytes ?? 8 * 1024 * 1024;
  const send = (client: Client, reply: Reply) => {
    if (client.closed) return;
    if (client.socket.writableLength > maxBacklog) {
      // It does not read what it is sent (Redis: client-output-buffer-limit): drop it.
      client.closed = true;
      client.socket.destroy();
      return;
    }
    const bytes = replies.encode(reply, client.proto);
    stats.netOutputBytes += bytes.length;
    if (reply.kind === 'error') stats.errorReplies++;
    client.socket.write(bytes);
  };

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

  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    stats.connectionsReceived++;
    if (clients.size >= limits.maxClients) {
      stats.rejectedConnections++;
      // Redis's answer to one client too many, then the connection is closed.
      socket.end(`-${MAX_CLIENTS_TEXT}\r\n`, () => socket.destroy());
      return;
    }
    const client: Client = {
      id: nextId++,
      socket,
      connectedAt: Date.now(),
      lastCommand: null,
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
    /** Replies answered as they were read (answerNow), written together when pump is done. */
    const answered: Buffer[] = [];
    let answeredBytes = 0;
    const writeAnswered = () => {
      if (answered.length === 0 || client.closed) return;
      const bytes = answered.length === 1 ? (answered[0] as Buffer) : Buffer.concat(answered, answeredBytes);
      answered.length = 0;
      answeredBytes = 0;
      stats.netOutputBytes += bytes.length;
      client.lastActivity = Date.now();
      socket.write(bytes);
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
        // Nothing before it waits for its reply, and the client reads what it is sent: the lookup is
        // answered now if it can be, in order with the replies before it.
        if (
          answerNow !== null &&
          queue.length === 0 &&
          socket.writableLength + answeredBytes <= OUTPUT_HIGH_WATER_BYTES
        ) {
          const reply = answerNow(client, command);
          if (reply !== null) {
            stats.commandsProcessed++;
            answered.push(reply);
            answeredBytes += reply.length;
            took = true;
            continue;
          }
        }
        const args = command.map((b) => b.toString('utf8'));
        const name = (args[0] as string).toLowerCase();
        if (CROSS_PROTOCOL_WORDS.has(name)) {
          // An HTTP request: close before anything it carries runs, queued commands included.
          client.closed = true;
          queue.length = 0;
          answered.length = 0;
          answeredBytes = 0;
          socket.destroy();
          reportCrossProtocol(client);
          return;
        }
        // The replies already answered go out before this command's.
        writeAnswered();
        let bytes = 0;
        for (const arg of command) bytes += arg.length;
        const changesUser = AUTH_CHANGING.has(name);
        if (changesUser) authChanges++;
        queue.push(args);
        queued.push({ bytes, changesUser });
        queuedBytes += bytes;
        took = true;
      }
      writeAnswered();
      // The partial-command clock runs only while the client owes us bytes, not while we hold back.
      if (heldBack || protocolError !== null || !parser.midFrame) client.frameStartedAt = null;
      else if (took || client.frameStartedAt === null) client.frameStartedAt = lastRead;
      holding = heldBack;
      // Read only while there is room: what the client sends beyond that waits in the kernel.
      if (heldBack || protocolError !== null) socket.pause();
      else if (socket.isPaused()) socket.resume();
      if (queue.length > 0 || protocolError !== null || closeAfterQueue) void drain();
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
          let outcome: Outcome;
          stats.commandsProcessed++;
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
      stats.netInputBytes += chunk.length;
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
