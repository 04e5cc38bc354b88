/**
 * Structured logging for the runtime. In Lambda the handler passes a Powertools Logger; locally a
 * JSON-lines logger writes to a stream. Either way: one record per line, fields as JSON.
 */
import { type EventDropCause, type EventRecord, redactText } from '../eventLog.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type Log = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

export function jsonLinesLog(
  write: (line: string) => void,
  base: Record<string, unknown> = {},
  now: () => number = Date.now,
): Log {
  return (level, message, fields) => {
    write(`${JSON.stringify({ level, time: new Date(now()).toISOString(), ...base, message, ...fields })}\n`);
  };
}

export const silentLog: Log = () => {};

/** Turns an unknown thrown value into loggable fields (JSON.stringify of an Error gives `{}`). */
export function errorFields(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? error.cause.message : undefined;
    return { error: { name: error.name, message: error.message, ...(cause ? { cause } : {}) } };
  }
  return { error: { message: String(error) } };
}

/**
 * The `fault` field: a failure that needs a person, counted by the fault-line metric filters of the
 * deployed stack for the sentinel-faults alarm (they match the field, so the message text can change
 * freely; a new kind must be added to them: test/infra/template.test.ts checks). One value per kind.
 */
export const FAULT = {
  /** The event recorder gave an event up (queue full, or every append failed): it is in no log or alert. */
  eventDropped: 'event-dropped',
  /** The loop lease could not be released: the next invocation waits for it to expire and starts blind. */
  leaseNotReleased: 'lease-not-released',
  /** The sentinel loop threw: this invocation stopped probing before its deadline. */
  loopFailed: 'loop-failed',
  /** A failover runner threw instead of ending with a result. */
  failoverCrashed: 'failover-crashed',
  /** A stored hand-over state failed its checks (not merely an old version): the table holds bad data. */
  handoverStateInvalid: 'handover-state-invalid',
  /**
   * The hand-over state could not be saved at release (store error, or too large for one item): the
   * successor starts with fresh observations and reads every record.
   */
  handoverStateNotSaved: 'handover-state-not-saved',
} as const;

export type Fault = (typeof FAULT)[keyof typeof FAULT];

/** A condition that repeats at most this often in the log (logs are billed per line). */
export const REPEATED_FAILURE_LOG_INTERVAL_MS = 60_000;

/**
 * Logs a failure that can recur on every tick without a line per tick: the first failure at once, then
 * at most one line per interval with the count since the last line, and one line when it stops.
 */
export class RepeatedFailureLog {
  readonly #log: Log;
  readonly #now: () => number;
  readonly #intervalMs: number;
  readonly #failing = new Map<string, { since: number; total: number; unlogged: number; loggedAt: number }>();

  constructor(log: Log, now: () => number, intervalMs = REPEATED_FAILURE_LOG_INTERVAL_MS) {
    this.#log = log;
    this.#now = now;
    this.#intervalMs = intervalMs;
  }

  /** True while `key` has failed and not recovered since. */
  isFailing(key: string): boolean {
    return this.#failing.has(key);
  }

  failed(key: string, message: string, fields: Record<string, unknown>): void {
    const now = this.#now();
    const state = this.#failing.get(key);
    if (!state) {
      this.#failing.set(key, { since: now, total: 1, unlogged: 0, loggedAt: now });
      this.#log('error', message, { ...fields, failures: 1 });
      return;
    }
    state.total += 1;
    state.unlogged += 1;
    if (now - state.loggedAt < this.#intervalMs) return;
    this.#log('error', `${message} (repeated)`, {
      ...fields,
      failures: state.total,
      failuresSinceLastLine: state.unlogged,
      failingForMs: now - state.since,
    });
    state.unlogged = 0;
    state.loggedAt = now;
  }

  recovered(key: string, message: string, fields: Record<string, unknown>): void {
    const state = this.#failing.get(key);
    if (!state) return;
    this.#failing.delete(key);
    this.#log('info', message, { ...fields, failures: state.total, failingForMs: this.#now() - state.since });
  }

  /** Forgets a key without a line (the master is no longer monitored). */
  forget(key: string): void {
    this.#failing.delete(key);
  }
}

/**
 * The recorder's onDrop for a runtime: one error line with the `fault` field, the event's type, master,
 * id and why it was dropped. Never the payload (it may quote a password), and the reason and master
 * pass through the same redaction as events.
 */
export function logDroppedEvent(
  log: Log,
  secrets: readonly string[],
): (record: EventRecord, reason: string, cause: EventDropCause) => void {
  return (record, reason, cause) =>
    log('error', 'event dropped: it is in no event log and raises no alert', {
      fault: FAULT.eventDropped,
      event: record.type,
      master: record.master === null ? null : redactText(record.master, secrets),
      eventId: record.id,
      cause,
      reason: redactText(reason, secrets),
    });
}
