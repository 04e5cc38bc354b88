/**
 * The Redis probe: PING and INFO against one instance with hard deadlines (ports.ts, RedisProbe).
 *
 * One ioredis connection is kept open between calls: reconnecting every second costs a handshake, and an
 * open socket notices a killed server at once (the kernel closes it), so the next call fails in about a
 * millisecond instead of waiting for a timeout. After a timeout or any connection error the connection is
 * dropped and the next call dials a fresh socket, so nothing ever waits behind a dead one.
 *
 * Results (see also the behaviour table in the tests, test/integration/redisProbe.test.ts):
 * - any reply, including error replies (-LOADING, -MASTERDOWN, -BUSY, -MISCONF, -NOAUTH, -ERR unknown
 *   command) → `reply`, classified like Sentinel does;
 * - the connection could not be set up (refused, closed, TLS failure, AUTH rejected during the handshake)
 *   → `unreachable` with the reason: the command was never written, so it is not a sent PING;
 * - written (or the handshake written: see below) but no reply within timeoutMs → `timeout`.
 *
 * Authentication: `authUser`/`authPass` go to ioredis, which sends AUTH as part of the connection
 * handshake. Two outcomes follow and both are tested:
 * - no password configured but the server requires one: the handshake has nothing to reject, PING is
 *   answered `-NOAUTH Authentication required.` → `reply` of kind `error` (a reply, not a valid one);
 * - a password the server rejects (WRONGPASS): the handshake fails → `unreachable` with the server's
 *   error text as the reason.
 *
 * A server that accepts the TCP connection but never answers the handshake (SIGSTOPed with AUTH or
 * CLIENT SETNAME configured) counts as `timeout`, with sentAt = the moment the handshake was written:
 * the socket was connected and the server was asked something, which is what Sentinel's pipelined
 * AUTH + PING would observe too. A TLS handshake that stalls is different: no command can be written
 * before it completes, so that is `unreachable` (connect ETIMEDOUT), as for a link Sentinel cannot set up.
 *
 * TLS files are read once, when the probe is created. If they cannot be read, every call reports
 * `unreachable` with that reason (a probe never throws; see ports.ts).
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Redis, type RedisOptions } from 'ioredis';
import { SENTINEL_DEFAULTS } from '../../core/constants.js';
import { commandNameToSend } from '../../core/names.js';
import type { Address, InfoOutcome, PingOutcome, PingResult, TlsSettings } from '../../core/types.js';
import type { RedisProbe, RedisProbeFactory, RedisProbeOptions } from '../../ports.js';
import { classifyPingReply, parseInfo } from './parseInfo.js';

/**
 * The fixed fail-fast part of every probe connection (reference/toolchain.md §4.2). Without these,
 * ioredis 6 queues commands while offline, retries them 20 times and spends ~2 s on a RESP3/CLIENT
 * SETINFO handshake against a frozen server; with them a command either goes out on a ready socket
 * or fails at once.
 */
export const PROBE_CLIENT_OPTIONS = Object.freeze({
  lazyConnect: true,
  maxRetriesPerRequest: 0,
  enableOfflineQueue: false,
  retryStrategy: (): null => null,
  enableReadyCheck: false,
  protocol: 2,
  disableClientInfo: true,
  disconnectTimeout: 50,
  autoResubscribe: false,
  autoResendUnfulfilledCommands: false,
} satisfies RedisOptions);

export const PROBE_TIMING = Object.freeze({
  /**
   * Added to timeoutMs for the outer deadline of each call. ioredis's own connect/command timeouts fire
   * first in practice; the outer deadline only guarantees settlement if they do not.
   */
  outerDeadlineSlackMs: SENTINEL_DEFAULTS.redisCallSlackMs,
  /** How long close() waits for the socket to end before giving up on it. */
  closeWaitMs: 200,
});

const COMMAND = Object.freeze({ ping: 'ping', info: 'info' });
/** ioredis's error text when its commandTimeout fires. */
const IOREDIS_COMMAND_TIMEOUT = 'Command timed out';

/** ioredis statuses after which a client never carries a command again (retryStrategy returns null). */
const CLOSED_STATUSES: ReadonlySet<string> = new Set(['close', 'end']);

type DropCause = 'timeout' | 'error' | 'closed';

/**
 * One ioredis client and what was seen on it. A connection is used until it is dropped, never again:
 * retryStrategy returns null, so ioredis never revives it, and neither does this code.
 */
class Connection {
  /** When the socket connected and the handshake (if any) was written; null until then. */
  socketConnectedAt: number | null = null;
  /** ioredis reports the real cause (ECONNREFUSED, WRONGPASS, TLS errors) only through 'error' events. */
  lastError: string | null = null;
  dropped: DropCause | null = null;
  /**
   * Set once the server answered anything on this connection: only then was it an established link whose
   * close means the server went away. A TCP proxy or load balancer in front of a dead server accepts the
   * connection and closes it at once; that is a failed attempt, not a lost link.
   */
  answered = false;
  /** Settles when the handshake is done or the connection failed. Never rejects. */
  readonly ready: Promise<{ readonly ok: true } | { readonly ok: false; readonly reason: string }>;

  constructor(
    readonly client: Redis,
    now: () => number,
    onEnd: (connection: Connection, byPeer: boolean) => void,
  ) {
    client.on('error', (error: unknown) => {
      this.lastError = errorText(error);
    });
    client.on('connect', () => {
      this.socketConnectedAt = now();
    });
    // The server closed the socket (killed, restarted, CLIENT KILL) or we disconnected it.
    client.on('end', () => {
      // Not dropped by us and it had answered: the peer closed an established link. (Reporting a failed
      // attempt too would make the caller re-probe on every failed INFO, which pushes its next regular
      // PING a full period away: a master back within down-after could then be judged down.)
      const byPeer = this.dropped === null && this.answered;
      this.dropped ??= 'closed';
      onEnd(this, byPeer);
    });
    // connect() itself rejects with a generic "Connection is closed."; prefer the cause seen above.
    this.ready = client.connect().then(
      () => ({ ok: true }) as const,
      (error: unknown) => ({ ok: false, reason: this.lastError ?? errorText(error) }) as const,
    );
  }
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** How ioredis hands over a RESP2 reply that is not a string: arrays, integers, nil. */
function replyTypeOf(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return 'integer';
  if (Buffer.isBuffer(value)) return 'binary';
  return typeof value;
}

/** ioredis rejects with a ReplyError (name 'ReplyError') for `-ERR …` style replies from the server. */
function isReplyError(error: unknown): error is Error {
  return error instanceof Error && error.name === 'ReplyError';
}

export function readTlsOptions(tls: TlsSettings): ConnectionOptions {
  return {
    rejectUnauthorized: tls.rejectUnauthorized,
    ...(tls.caCertFile ? { ca: readFileSync(tls.caCertFile) } : {}),
    ...(tls.certFile ? { cert: readFileSync(tls.certFile) } : {}),
    ...(tls.keyFile ? { key: readFileSync(tls.keyFile) } : {}),
  };
}

type Deadline = { readonly expired: Promise<'deadline'>; cancel(): void };

function startDeadline(ms: number): Deadline {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'deadline'>((resolve) => {
    timer = setTimeout(() => resolve('deadline'), ms);
  });
  return { expired, cancel: () => clearTimeout(timer) };
}

type CommandResult =
  | { readonly type: 'reply'; readonly value: unknown }
  | { readonly type: 'error-reply'; readonly text: string }
  | { readonly type: 'timeout' }
  | { readonly type: 'unreachable'; readonly reason: string };

class IoredisProbe implements RedisProbe {
  private connection: Connection | null = null;
  private closed = false;
  private readonly clientOptions: RedisOptions | null;
  /** Set when the TLS files could not be read: every call reports it instead of connecting. */
  private readonly setupError: string | null;
  private readonly commandNames: { readonly ping: string; readonly info: string };

  constructor(
    readonly address: Address,
    private readonly options: RedisProbeOptions,
  ) {
    // A rename to another command's name is never sent, whatever the options carry (lib/core/names.ts).
    this.commandNames = {
      ping: commandNameToSend(options.renamedCommands, COMMAND.ping),
      info: commandNameToSend(options.renamedCommands, COMMAND.info),
    };
    let tls: ConnectionOptions | undefined;
    let setupError: string | null = null;
    try {
      tls = options.tls?.enabled ? readTlsOptions(options.tls) : undefined;
    } catch (error) {
      // A probe must never throw (ports.ts); a missing certificate is reported on every call instead.
      setupError = `TLS files unreadable: ${errorText(error)}`;
    }
    this.setupError = setupError;
    this.clientOptions = setupError
      ? null
      : {
          ...PROBE_CLIENT_OPTIONS,
          host: address.host,
          port: address.port,
          connectTimeout: options.timeoutMs,
          commandTimeout: options.timeoutMs,
          ...(options.authUser !== undefined ? { username: options.authUser } : {}),
          ...(options.authPass !== undefined ? { password: options.authPass } : {}),
          ...(options.clientName !== undefined ? { connectionName: options.clientName } : {}),
          ...(tls ? { tls } : {}),
        };
  }

  async ping(): Promise<PingOutcome> {
    const outcome = await this.run(this.commandNames.ping);
    let result: PingResult;
    switch (outcome.result.type) {
      case 'reply': {
        const { value } = outcome.result;
        // Only a status or error reply can be a valid answer (Sentinel checks the reply type first). An
        // array or an integer is garbage even when it stringifies to "PONG" (['PONG'] does). ioredis returns
        // status and bulk replies alike as strings, so a bulk "PONG" still counts: see the tests.
        result =
          typeof value === 'string'
            ? { type: 'reply', kind: classifyPingReply(value), text: value }
            : { type: 'reply', kind: 'error', text: `unexpected ${replyTypeOf(value)} reply to PING` };
        break;
      }
      case 'error-reply':
        result = { type: 'reply', kind: classifyPingReply(outcome.result.text), text: outcome.result.text };
        break;
      default:
        result = outcome.result;
    }
    return { sentAt: outcome.sentAt, completedAt: outcome.completedAt, result };
  }

  async info(): Promise<InfoOutcome> {
    // Plain INFO (default sections): run_id lives in the server section, the rest in replication.
    const outcome = await this.run(this.commandNames.info);
    const { sentAt, completedAt } = outcome;
    switch (outcome.result.type) {
      case 'reply': {
        const { value } = outcome.result;
        if (typeof value !== 'string') {
          return {
            sentAt,
            completedAt,
            result: { type: 'bad-reply', reason: 'INFO reply is not a bulk string' },
          };
        }
        const parsed = parseInfo(value);
        return {
          sentAt,
          completedAt,
          result: parsed.ok
            ? { type: 'info', info: parsed.info }
            : { type: 'bad-reply', reason: parsed.reason },
        };
      }
      case 'error-reply':
        return { sentAt, completedAt, result: { type: 'bad-reply', reason: outcome.result.text } };
      default:
        return { sentAt, completedAt, result: outcome.result };
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const connection = this.connection;
    this.connection = null;
    if (!connection) return;
    const { client } = connection;
    connection.dropped ??= 'closed';
    if (client.status === 'end') return;
    const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
    client.disconnect();
    const wait = startDeadline(PROBE_TIMING.closeWaitMs);
    await Promise.race([ended, wait.expired]);
    wait.cancel();
  }

  /** The current connection, or a new one being set up. */
  private connect(clientOptions: RedisOptions): Connection {
    const existing = this.connection;
    if (existing && existing.dropped === null) {
      // Closed by the peer but the 'end' event is not in yet: dial again rather than fail on a dead client.
      if (!CLOSED_STATUSES.has(existing.client.status)) return existing;
      existing.dropped = 'closed';
    }
    const connection = new Connection(new Redis(clientOptions), this.options.now, (ended, byPeer) => {
      if (this.connection === ended) this.connection = null;
      if (byPeer && !this.closed) this.options.onConnectionLost?.();
    });
    this.connection = connection;
    return connection;
  }

  private drop(connection: Connection, cause: DropCause): void {
    connection.dropped ??= cause;
    if (this.connection === connection) this.connection = null;
    connection.client.disconnect();
  }

  private async run(
    command: string,
  ): Promise<{ sentAt: number; completedAt: number; result: CommandResult }> {
    const startedAt = this.options.now();
    const settle = (sentAt: number, result: CommandResult) => ({
      sentAt,
      completedAt: this.options.now(),
      result,
    });
    if (this.setupError || !this.clientOptions) {
      return settle(startedAt, { type: 'unreachable', reason: this.setupError ?? 'probe not configured' });
    }
    if (this.closed) return settle(startedAt, { type: 'unreachable', reason: 'probe closed' });

    const deadline = startDeadline(this.options.timeoutMs + PROBE_TIMING.outerDeadlineSlackMs);
    try {
      const connection = this.connect(this.clientOptions);
      const ready = await Promise.race([connection.ready, deadline.expired]);
      if (ready === 'deadline') {
        this.drop(connection, 'timeout');
        // Connected but the handshake went unanswered: the server was asked and did not reply.
        if (connection.socketConnectedAt !== null) {
          return settle(connection.socketConnectedAt, { type: 'timeout' });
        }
        return settle(startedAt, { type: 'unreachable', reason: 'connect timed out' });
      }
      if (!ready.ok) {
        // The handshake was written but not answered in time (ioredis's commandTimeout on AUTH/SETNAME),
        // or another call's deadline dropped the connection mid-handshake: both are timeouts.
        const handshakeTimedOut =
          ready.reason === IOREDIS_COMMAND_TIMEOUT || connection.dropped === 'timeout';
        this.drop(connection, handshakeTimedOut ? 'timeout' : 'error');
        if (handshakeTimedOut && connection.socketConnectedAt !== null) {
          return settle(connection.socketConnectedAt, { type: 'timeout' });
        }
        return settle(startedAt, { type: 'unreachable', reason: ready.reason });
      }

      // The client is ready, so ioredis writes the command to the socket synchronously in call().
      const sentAt = this.options.now();
      const reply = connection.client.call(command).then(
        (value): CommandResult => {
          connection.answered = true;
          return { type: 'reply', value };
        },
        (error: unknown): CommandResult => {
          if (isReplyError(error)) {
            connection.answered = true;
            return { type: 'error-reply', text: error.message };
          }
          const text = errorText(error);
          if (text === IOREDIS_COMMAND_TIMEOUT) return { type: 'timeout' };
          // Closed under us. If a concurrent call dropped it for a timeout, this one timed out too.
          if (connection.dropped === 'timeout') return { type: 'timeout' };
          return { type: 'unreachable', reason: connection.lastError ?? text };
        },
      );
      const result = await Promise.race([reply, deadline.expired]);
      if (result === 'deadline') {
        this.drop(connection, 'timeout');
        return settle(sentAt, { type: 'timeout' });
      }
      if (result.type === 'timeout' || result.type === 'unreachable') {
        this.drop(connection, result.type === 'timeout' ? 'timeout' : 'error');
      }
      return settle(sentAt, result);
    } catch (error) {
      // Defensive: ioredis threw synchronously (it should not). Report it rather than break the contract.
      if (this.connection) this.drop(this.connection, 'error');
      return settle(startedAt, { type: 'unreachable', reason: errorText(error) });
    } finally {
      deadline.cancel();
    }
  }
}

export const createRedisProbe: RedisProbeFactory = (address, options) => new IoredisProbe(address, options);
