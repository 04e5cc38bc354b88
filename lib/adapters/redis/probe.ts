/**
 * The Redis probe: PING and INFO against one instance with hard deadlines (ports.ts, RedisProbe).
 *
 * It speaks RESP2 itself over one node:net (or node:tls) socket, with the reader in replyReader.ts. A
 * sentinel keeps one probe per instance open all the time (3,000 of them for 1,000 masters with two
 * replicas each), so what one costs is what the sentinel costs. Measured against a real redis-server
 * with 1,000 connected probes and 30,000 PINGs: an ioredis client with this probe's options kept about
 * 10 KB of heap per connection (after a full GC), spent about 53 µs of CPU per PING and grew the heap by
 * 126 MB on the way; this probe keeps about 2.6 KB, spends about 25 µs and grows it by 27 MB.
 * ioredis remains for the rare reconfigurations (control.ts).
 *
 * One connection is kept open between calls: reconnecting every second costs a handshake, and an open
 * socket notices a killed server at once (the kernel closes it), so the next call fails in about a
 * millisecond instead of waiting for a timeout. PING and INFO share it, pipelined. After a timeout or a
 * connection error the connection is dropped and the next call dials a fresh socket, so nothing ever
 * waits behind a dead one.
 *
 * Results (see also the behaviour table in the tests, test/integration/redisProbe.test.ts):
 * - any reply, including error replies (-LOADING, -MASTERDOWN, -BUSY, -MISCONF, -NOAUTH, -ERR unknown
 *   command) → `reply`, classified like Sentinel does. A bulk string counts like a status (`$4 PONG` is
 *   PONG), as it did with ioredis, which hands both over as strings;
 * - the connection could not be set up (refused, closed, TLS failure, AUTH rejected during the handshake)
 *   → `unreachable` with the reason: the command was never answered on an established link;
 * - input that is not RESP2 → `unreachable` with `Protocol error: …`, and the connection is dropped;
 * - written (or the handshake written: see below) but no reply within timeoutMs → `timeout`.
 *
 * Deadlines. Connecting (TCP, and TLS when configured) may take up to timeoutMs (`connect ETIMEDOUT`).
 * A written command gets timeoutMs for its reply, cut to end at the latest timeoutMs +
 * outerDeadlineSlackMs after the call started: a call settles within that, as ports.ts requires. One
 * timer per call and one per connection attempt, nothing else.
 *
 * The handshake, pipelined with the first command as Sentinel does: `AUTH [user] pass` when a password
 * is configured, then `CLIENT SETNAME` when a client name is, both under their rename-command names.
 * - no password configured but the server requires one: PING is answered `-NOAUTH Authentication
 *   required.` → `reply` of kind `error` (a reply, not a valid one);
 * - a password the server rejects (WRONGPASS): the connection is dropped → `unreachable` with the
 *   server's error text. The three AUTH errors that only say a password was not needed (Redis with no
 *   password, Redis 5 given a user name) are ignored, as ioredis ignored them;
 * - any answer to CLIENT SETNAME is ignored: a name is a courtesy, not a condition.
 *
 * A server that accepts the TCP connection but never answers the handshake (SIGSTOPed with AUTH or
 * CLIENT SETNAME configured) counts as `timeout`, with sentAt = the moment the handshake was written,
 * which is also when the command was: the socket was connected and the server was asked something.
 * A TLS handshake that stalls is different: no command can be written before it completes, so that is
 * `unreachable` (connect ETIMEDOUT), as for a link Sentinel cannot set up.
 *
 * TLS files are read once, when the probe is created. If they cannot be read, every call reports
 * `unreachable` with that reason (a probe never throws; see ports.ts).
 */
import { connect as connectTcp, type Socket } from 'node:net';
import { type ConnectionOptions, connect as connectTls } from 'node:tls';
import { SENTINEL_DEFAULTS } from '../../core/constants.js';
import { commandNameToSend } from '../../core/names.js';
import type { Address, InfoOutcome, PingOutcome, PingResult } from '../../core/types.js';
import type { RedisProbe, RedisProbeFactory, RedisProbeOptions } from '../../ports.js';
import { readTlsOptions } from './connectionOptions.js';
import { classifyPingReply, parseInfo } from './parseInfo.js';
import { encodeCommand, type Reply, ReplyReader, sharedCommand } from './replyReader.js';

// The ioredis options and the TLS reader live with the code that still uses ioredis; re-exported here
// for the tests and fixtures that open side connections with them.
export { PROBE_CLIENT_OPTIONS, readTlsOptions } from './connectionOptions.js';

export const PROBE_TIMING = Object.freeze({
  /**
   * Added to timeoutMs for the latest moment a call settles: a command written late in a call (after a
   * slow connect) still gets its reply timeout, cut to end here.
   */
  outerDeadlineSlackMs: SENTINEL_DEFAULTS.redisCallSlackMs,
  /** How long close() waits for the socket to close before giving up on it. */
  closeWaitMs: 200,
});

/** Texts of the reasons this module reports itself (the rest are the socket's or the server's). */
export const PROBE_REASONS = Object.freeze({
  connectTimeout: 'connect ETIMEDOUT',
  closed: 'Connection is closed.',
  probeClosed: 'probe closed',
  tlsUnreadable: 'TLS files unreadable',
});

/** AUTH errors that mean a password was given but not needed: the connection is usable as it is. */
const HARMLESS_AUTH_ERRORS = [
  'no password is set',
  'without any password configured for the default user',
  "wrong number of arguments for 'auth' command",
] as const;

type DropCause = 'timeout' | 'error' | 'closed';

type CommandResult =
  | { readonly type: 'reply'; readonly reply: Reply }
  | { readonly type: 'timeout' }
  | { readonly type: 'unreachable'; readonly reason: string };

interface Settled {
  readonly sentAt: number;
  readonly completedAt: number;
  readonly result: CommandResult;
}

/** One ping() or info() in flight. */
interface Call {
  readonly command: Buffer;
  readonly startedAt: number;
  /** When the command was written to the socket; null while the connection is being set up. */
  sentAt: number | null;
  timer: NodeJS.Timeout | null;
  done: boolean;
  readonly resolve: (settled: Settled) => void;
}

/** A reply the connection waits for: a call's, or one of the handshake's. */
type Expected = Call | 'auth' | 'name';

/**
 * One socket and what was seen on it. A connection is used until it is dropped, never again.
 */
class Connection {
  readonly reader = new ReplyReader();
  /** Replies still due, in the order their commands were written. */
  readonly expected: Expected[] = [];
  /** Calls made while the socket was connecting: written as soon as it is. */
  waiting: Call[] = [];
  /** When the socket connected (TLS: the TLS handshake completed) and the handshake was written. */
  connectedAt: number | null = null;
  connectTimer: NodeJS.Timeout | null = null;
  /** The socket reports the real cause (ECONNREFUSED, TLS errors) only through 'error' events. */
  lastError: string | null = null;
  dropped: DropCause | null = null;
  /**
   * Set once the server answered anything on this connection: only then was it an established link whose
   * close means the server went away. A TCP proxy or load balancer in front of a dead server accepts the
   * connection and closes it at once; that is a failed attempt, not a lost link.
   */
  answered = false;

  constructor(readonly socket: Socket) {}
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

function isHarmlessAuthError(text: string): boolean {
  return HARMLESS_AUTH_ERRORS.some((harmless) => text.includes(harmless));
}

/** The name of a reply's type in the texts of PING's results. */
function replyTypeName(reply: Reply): string {
  return reply.type === 'array' ? 'array' : reply.type === 'integer' ? 'integer' : 'nil';
}

class RespProbe implements RedisProbe {
  #connection: Connection | null = null;
  #closed = false;
  /** Set when the TLS files could not be read: every call reports it instead of connecting. */
  readonly #setupError: string | null;
  readonly #tls: ConnectionOptions | undefined;
  readonly #ping: Buffer;
  readonly #info: Buffer;

  constructor(
    readonly address: Address,
    private readonly options: RedisProbeOptions,
  ) {
    // A rename to another command's name is never sent, whatever the options carry (lib/core/names.ts).
    this.#ping = sharedCommand([commandNameToSend(options.renamedCommands, 'ping')]);
    // Plain INFO (default sections): run_id lives in the server section, the rest in replication.
    this.#info = sharedCommand([commandNameToSend(options.renamedCommands, 'info')]);
    let tls: ConnectionOptions | undefined;
    let setupError: string | null = null;
    try {
      tls = options.tls?.enabled ? readTlsOptions(options.tls) : undefined;
    } catch (error) {
      // A probe must never throw (ports.ts); a missing certificate is reported on every call instead.
      setupError = `${PROBE_REASONS.tlsUnreadable}: ${errorText(error)}`;
    }
    this.#setupError = setupError;
    this.#tls = tls;
  }

  async ping(): Promise<PingOutcome> {
    const { sentAt, completedAt, result } = await this.#call(this.#ping);
    let ping: PingResult;
    if (result.type !== 'reply') {
      ping = result;
    } else {
      const { reply } = result;
      // Only a status or error reply can be a valid answer (Sentinel checks the reply type first). An
      // array or an integer is garbage even when it holds "PONG" (['PONG'] does).
      ping =
        reply.type === 'status' || reply.type === 'bulk' || reply.type === 'error'
          ? { type: 'reply', kind: classifyPingReply(reply.text), text: reply.text }
          : { type: 'reply', kind: 'error', text: `unexpected ${replyTypeName(reply)} reply to PING` };
    }
    return { sentAt, completedAt, result: ping };
  }

  async info(): Promise<InfoOutcome> {
    const { sentAt, completedAt, result } = await this.#call(this.#info);
    if (result.type !== 'reply') return { sentAt, completedAt, result };
    const { reply } = result;
    if (reply.type === 'error')
      return { sentAt, completedAt, result: { type: 'bad-reply', reason: reply.text } };
    if (reply.type !== 'bulk' && reply.type !== 'status') {
      return {
        sentAt,
        completedAt,
        result: { type: 'bad-reply', reason: 'INFO reply is not a bulk string' },
      };
    }
    const parsed = parseInfo(reply.text);
    return {
      sentAt,
      completedAt,
      result: parsed.ok ? { type: 'info', info: parsed.info } : { type: 'bad-reply', reason: parsed.reason },
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    const connection = this.#connection;
    this.#connection = null;
    if (!connection) return;
    const { socket } = connection;
    const closed = socket.closed
      ? null
      : new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, PROBE_TIMING.closeWaitMs);
          socket.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
        });
    this.#drop(connection, 'closed', PROBE_REASONS.probeClosed);
    await closed;
  }

  #call(command: Buffer): Promise<Settled> {
    const { now } = this.options;
    const startedAt = now();
    if (this.#setupError !== null) return Promise.resolve(unreachable(startedAt, now(), this.#setupError));
    if (this.#closed) return Promise.resolve(unreachable(startedAt, now(), PROBE_REASONS.probeClosed));
    return new Promise<Settled>((resolve) => {
      const call: Call = { command, startedAt, sentAt: null, timer: null, done: false, resolve };
      try {
        const connection = this.#usableConnection() ?? this.#dial();
        if (connection.connectedAt === null) connection.waiting.push(call);
        else this.#write(connection, [call]);
      } catch (error) {
        // Defensive: the socket API threw synchronously. Report it rather than break the contract.
        if (this.#connection) this.#drop(this.#connection, 'error', errorText(error));
        this.#settle(call, { type: 'unreachable', reason: errorText(error) });
      }
    });
  }

  /** The open connection, unless it is gone (closed by the peer with the events not yet handled). */
  #usableConnection(): Connection | null {
    const connection = this.#connection;
    if (connection === null) return null;
    if (connection.dropped === null && !connection.socket.destroyed && !connection.socket.readableEnded) {
      return connection;
    }
    this.#drop(connection, 'closed', connection.lastError ?? PROBE_REASONS.closed);
    return null;
  }

  #dial(): Connection {
    const { host, port } = this.address;
    const tls = this.#tls;
    const socket = tls ? connectTls({ ...tls, host, port }) : connectTcp({ host, port });
    const connection = new Connection(socket);
    this.#connection = connection;
    socket.setNoDelay(true);
    connection.connectTimer = setTimeout(
      () => this.#drop(connection, 'error', PROBE_REASONS.connectTimeout),
      this.options.timeoutMs,
    );
    socket.once(tls ? 'secureConnect' : 'connect', () => this.#onConnected(connection));
    socket.on('data', (chunk: Buffer) => this.#onData(connection, chunk));
    socket.on('error', (error: Error) => {
      connection.lastError = error.message;
    });
    // The server closed the socket (killed, restarted, CLIENT KILL), or the connection failed.
    socket.on('end', () => this.#onPeerClosed(connection));
    socket.on('close', () => this.#onPeerClosed(connection));
    return connection;
  }

  #onConnected(connection: Connection): void {
    if (connection.dropped !== null) return;
    if (connection.connectTimer !== null) clearTimeout(connection.connectTimer);
    connection.connectTimer = null;
    connection.connectedAt = this.options.now();
    const { socket } = connection;
    const { authUser, authPass, clientName, renamedCommands } = this.options;
    socket.cork();
    if (authPass !== undefined) {
      const auth = commandNameToSend(renamedCommands, 'auth');
      // Encoded for this connection only: the bytes hold the password, so they are never cached.
      socket.write(encodeCommand(authUser !== undefined ? [auth, authUser, authPass] : [auth, authPass]));
      connection.expected.push('auth');
    }
    if (clientName !== undefined) {
      socket.write(sharedCommand([commandNameToSend(renamedCommands, 'client'), 'SETNAME', clientName]));
      connection.expected.push('name');
    }
    const waiting = connection.waiting;
    connection.waiting = [];
    this.#write(connection, waiting);
    socket.uncork();
  }

  #write(connection: Connection, calls: readonly Call[]): void {
    const { timeoutMs, now } = this.options;
    const sentAt = now();
    for (const call of calls) {
      if (call.done) continue;
      call.sentAt = sentAt;
      connection.expected.push(call);
      connection.socket.write(call.command);
      const latest = call.startedAt + timeoutMs + PROBE_TIMING.outerDeadlineSlackMs;
      call.timer = setTimeout(
        this.#onCallTimerDue,
        Math.max(0, Math.min(timeoutMs, latest - sentAt)),
        connection,
        call,
      );
    }
  }

  /**
   * A written command's reply timer fell due. It is judged one poll phase later (setImmediate): Node runs due
   * timers before it reads the sockets, so after a stall (a long GC, a starved CPU) a reply that reached the
   * kernel in time would still be unread here and be taken for none.
   */
  readonly #onCallTimerDue = (connection: Connection, call: Call): void => {
    setImmediate(this.#onCallTimeout, connection, call);
  };

  /** A written command got no reply in time: drop the connection, so nothing waits behind a dead socket. */
  readonly #onCallTimeout = (connection: Connection, call: Call): void => {
    if (call.done || connection.dropped !== null) return;
    this.#drop(connection, 'timeout', PROBE_REASONS.closed);
  };

  #onData(connection: Connection, chunk: Buffer): void {
    if (connection.dropped !== null) return;
    const read = connection.reader.push(chunk);
    if (!read.ok) {
      this.#drop(connection, 'error', read.error);
      return;
    }
    for (const reply of read.replies) {
      const expected = connection.expected.shift();
      if (expected === undefined) {
        // Nothing was asked: the peer is out of step, and no later reply on this connection can be trusted.
        this.#drop(connection, 'error', 'Protocol error: a reply nobody asked for');
        return;
      }
      connection.answered = true;
      if (expected === 'auth') {
        if (reply.type === 'error' && !isHarmlessAuthError(reply.text)) {
          this.#drop(connection, 'error', reply.text);
          return;
        }
      } else if (expected !== 'name') {
        this.#settle(expected, { type: 'reply', reply });
      }
    }
  }

  #onPeerClosed(connection: Connection): void {
    if (connection.dropped !== null) return;
    // Not dropped by us and it had answered: the peer closed an established link. (Reporting a failed
    // attempt too would make the caller re-probe on every failed INFO, which pushes its next regular
    // PING a full period away: a master back within down-after could then be judged down.)
    const lost = connection.answered;
    this.#drop(connection, 'closed', connection.lastError ?? PROBE_REASONS.closed);
    if (lost && !this.#closed) this.options.onConnectionLost?.();
  }

  /**
   * Ends a connection for good and settles every call on it: written ones time out if the connection is
   * dropped for a timeout (the server was asked and did not answer), and are unreachable otherwise, as are
   * the ones still waiting for the socket to connect.
   */
  #drop(connection: Connection, cause: DropCause, reason: string): void {
    if (connection.dropped !== null) return;
    connection.dropped = cause;
    if (this.#connection === connection) this.#connection = null;
    if (connection.connectTimer !== null) clearTimeout(connection.connectTimer);
    connection.connectTimer = null;
    connection.socket.destroy();
    const written = connection.expected.splice(0);
    const waiting = connection.waiting.splice(0);
    for (const expected of written) {
      if (typeof expected === 'string') continue;
      this.#settle(expected, cause === 'timeout' ? { type: 'timeout' } : { type: 'unreachable', reason });
    }
    for (const call of waiting) this.#settle(call, { type: 'unreachable', reason });
  }

  #settle(call: Call, result: CommandResult): void {
    if (call.done) return;
    call.done = true;
    if (call.timer !== null) clearTimeout(call.timer);
    call.timer = null;
    call.resolve({ sentAt: call.sentAt ?? call.startedAt, completedAt: this.options.now(), result });
  }
}

function unreachable(sentAt: number, completedAt: number, reason: string): Settled {
  return { sentAt, completedAt, result: { type: 'unreachable', reason } };
}

export const createRedisProbe: RedisProbeFactory = (address, options) => new RespProbe(address, options);
