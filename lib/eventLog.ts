/**
 * The event log: every Sentinel event (its exact names and payloads) as a durable
 * record with who emitted it, when, and under which epoch. It is the audit trail, the source of the
 * `events` command, and — through the table's stream — what functions/notify.ts turns into alerts.
 *
 * Implementations: lib/adapters/dynamodb/eventLog.ts (the table), lib/adapters/memory/eventLog.ts.
 * test/contract/eventLog.contract.ts runs one suite against both.
 *
 * Contract:
 * - `append` is idempotent by `id`: it is a conditional put (`attribute_not_exists(pk)`), so appending a
 *   record whose id is already stored is a no-op that resolves normally. A caller that does not know
 *   whether its append landed (timeout, crash) retries with the SAME record. Never build a new record
 *   for a retry: a new id would store the event twice.
 * - `append` redacts secrets before anything is stored (the caller passes them at construction): a
 *   stored record never contains an auth-pass value (see redactSecrets).
 * - `list` returns records newest first (at, then sentinelId, then seq, all descending), at most `limit`
 *   (default LIST_DEFAULT_LIMIT, capped at LIST_MAX_LIMIT), only those with `at >= since`, only the
 *   master's when `master` is given, and never an expired record (TTL deletion is lazy).
 * - Failures (network, throttling, a malformed stored item) throw StoreUnavailableError.
 */
import type { SentinelConfig, SentinelEvent, SentinelId } from './core/types.js';

/** How long events are kept: the TTL attribute is `at` + this. The one place this number lives. */
export const EVENT_RETENTION_DAYS = 14;
export const EVENT_RETENTION_SECONDS = EVENT_RETENTION_DAYS * 86_400;

export const LIST_DEFAULT_LIMIT = 100;
export const LIST_MAX_LIMIT = 1_000;

/** What Sentinel shows instead of a password (`+set … auth-pass ******`). */
export const REDACTED = '******';

export interface EventRecord extends SentinelEvent {
  /**
   * `${at}-${sentinelId}-${seq}`: deterministic, so a retried append of the same record is a no-op.
   * `seq` is the emitter's own counter, which also orders events of one sentinel within a millisecond.
   */
  readonly id: string;
  readonly sentinelId: SentinelId;
  /** The emitter's per-record sequence number (see id). */
  readonly seq: number;
  /** The master's current epoch when the event was emitted, or null when unknown or not about a master. */
  readonly epoch: number | null;
  /** Expiry, seconds since the epoch (DynamoDB TTL): at + EVENT_RETENTION_SECONDS. */
  readonly ttl: number;
}

export interface EventQuery {
  readonly master?: string;
  /** Only events with at >= since (ms). */
  readonly since?: number;
  readonly limit?: number;
}

export interface EventLog {
  append(record: EventRecord): Promise<void>;
  list(query: EventQuery): Promise<EventRecord[]>;
}

/** One action of the notifier (sns, route53, eventbridge) for one alert, as claimed by one event. */
export interface AlertClaimId {
  /** alertKey(record): what makes the events of several sentinels the same alert. */
  readonly key: string;
  readonly action: string;
  readonly eventId: string;
}

/** A claim with its event's time (ms), from which the window counts. */
export interface AlertClaimHeld extends AlertClaimId {
  readonly at: number;
}

export interface AlertClaimRequest extends AlertClaimHeld {
  /** Claims of one key whose events are more than windowMs apart do not hold each other back. */
  readonly windowMs: number;
  /** The caller's clock (ms), compared with the holdUntil of another event's pending claim. */
  readonly now: number;
  /**
   * Until when this claim, while pending, makes the other events of the key wait: the deadline of the
   * invocation that holds it (it cannot be doing the action after that), plus a margin for clocks.
   */
  readonly holdUntil: number;
}

/** The outcome of NotifyMarkers.claim. */
export type AlertClaim =
  /** Go ahead: do the action, then `confirm` (or `release` if it failed). The claim is now pending. */
  | { readonly status: 'claimed' }
  /** Done already, by `by`: another event of the key within the window, or this event (a redelivery). */
  | { readonly status: 'sent'; readonly by: string }
  /** Another event holds a pending claim until `until`: it is doing the action now. Ask again later. */
  | { readonly status: 'pending'; readonly by: string; readonly until: number };

/**
 * What functions/notify.ts has done, so that a redelivered stream record does not redo it and the three
 * sentinels' copies of one fact alert once:
 *
 * - per event and action, a "done" marker (`done`, `mark`), checked (consistent read) before the action
 *   and written after it. A crash in between repeats the action on redelivery; it never loses it.
 * - per alert key and action, a claim with three states. `claim` makes it pending for the asking event
 *   when nobody holds it, when it is this event's own unfinished claim, when the holder released it, when
 *   the holder's pending claim lapsed (its holdUntil passed: that invocation is over and did not finish),
 *   or when the holder's event is more than windowMs older (a new fact). A claim that was sent within the
 *   window answers `sent`; a live pending claim of another event answers `pending`. Only `confirm`, after
 *   the action succeeded, makes it sent, so an alert counts as sent only once SNS accepted it; `release`,
 *   after the action failed, lets the next copy (a retry or another sentinel's event) take it at once.
 *   Each is one conditional write.
 */
export interface NotifyMarkers {
  /** The actions already done for this event (strongly consistent). */
  done(eventId: string): Promise<Set<string>>;
  /** Records that `action` was done for this event. Idempotent. */
  mark(eventId: string, action: string, now: number): Promise<void>;
  claim(request: AlertClaimRequest): Promise<AlertClaim>;
  /**
   * Marks this event's claim sent (the action succeeded). False when the claim is no longer this
   * event's (another event took it over meanwhile).
   */
  confirm(claim: AlertClaimHeld): Promise<boolean>;
  /** Gives up this event's pending claim (the action failed). No-op when it is not this event's. */
  release(claim: AlertClaimHeld): Promise<void>;
}

/**
 * Events that every sentinel raises alike carry the same fact: one alert per fact, not one per sentinel.
 * Within this window an identical event (type, payload, epoch) from another sentinel is not alerted again.
 */
export const ALERT_DEDUP_WINDOW_MS = 60_000;

/**
 * What makes two events the same alert. An event about a master is the same fact whichever sentinel saw
 * it; one without a master (`+tilt`, `-tilt`) is about the sentinel that emitted it, so it keeps its id.
 */
export function alertKey(
  record: Pick<EventRecord, 'type' | 'master' | 'payload' | 'epoch' | 'sentinelId'>,
): string {
  const subject = record.master ?? `sentinel ${record.sentinelId}`;
  return `${record.type} ${subject} ${record.payload} epoch ${record.epoch ?? '-'}`;
}

export const eventId = (at: number, sentinelId: SentinelId, seq: number): string =>
  `${at}-${sentinelId}-${seq}`;

export const expiryOf = (at: number): number => Math.floor(at / 1000) + EVENT_RETENTION_SECONDS;

/** A record is expired once its TTL has passed, whether or not DynamoDB has deleted it yet. */
export const isExpired = (record: Pick<EventRecord, 'ttl'>, now: number): boolean => record.ttl * 1000 <= now;

export function toEventRecord(
  event: SentinelEvent,
  origin: { readonly sentinelId: SentinelId; readonly seq: number; readonly epoch: number | null },
): EventRecord {
  return {
    type: event.type,
    level: event.level,
    payload: event.payload,
    master: event.master,
    at: event.at,
    id: eventId(event.at, origin.sentinelId, origin.seq),
    sentinelId: origin.sentinelId,
    seq: origin.seq,
    epoch: origin.epoch,
    ttl: expiryOf(event.at),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Ordering: one sort key shared by the DynamoDB sort key and the memory log, so both order identically.

const AT_DIGITS = 15;
const SEQ_DIGITS = 16;

/** `EVENT#<at, 15 digits>#<sentinelId>#<seq, 16 digits>`: string order = (at, sentinelId, seq) order. */
export function eventSortKey(record: Pick<EventRecord, 'at' | 'sentinelId' | 'seq'>): string {
  return `EVENT#${String(record.at).padStart(AT_DIGITS, '0')}#${record.sentinelId}#${String(record.seq).padStart(SEQ_DIGITS, '0')}`;
}

/** The smallest sort key of any event at or after `since`. */
export function eventSortKeyFrom(since: number): string {
  return `EVENT#${String(Math.max(0, Math.floor(since))).padStart(AT_DIGITS, '0')}`;
}

/** Newest first. */
export const compareNewestFirst = (a: EventRecord, b: EventRecord): number => {
  const ka = eventSortKey(a);
  const kb = eventSortKey(b);
  return ka < kb ? 1 : ka > kb ? -1 : 0;
};

export function effectiveLimit(limit: number | undefined): number {
  if (limit === undefined) return LIST_DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`limit must be a positive integer, got ${limit}`);
  return Math.min(limit, LIST_MAX_LIMIT);
}

// ---------------------------------------------------------------------------------------------------------
// Secrets

/** `auth-pass <value>` anywhere in a text (a `+set` payload, an error message): the value is hidden. */
const AUTH_PASS_VALUE = /(\bauth-pass\s+)(?!\*{6}(?:\s|$))\S+/gi;

/**
 * Hides every secret in a text: each known secret value wherever it appears (longest first, so a secret
 * containing another is hidden whole), and whatever follows `auth-pass` even when its value is not known
 * here (defence in depth: functions/notify.ts applies it with no secrets list). Empty secrets are ignored.
 */
export function redactText(text: string, secrets: readonly string[]): string {
  let out = text;
  const known = [...new Set(secrets.filter((s) => s.length > 0))].sort((a, b) => b.length - a.length);
  for (const secret of known) out = out.split(secret).join(REDACTED);
  return out.replace(AUTH_PASS_VALUE, `$1${REDACTED}`);
}

/**
 * The event with every secret hidden (payload and master name; type is a fixed channel name).
 * Applied by every EventLog on append, and by the notifier and the local sinks before output.
 */
export function redactSecrets<T extends SentinelEvent>(event: T, secrets: readonly string[]): T {
  const payload = redactText(event.payload, secrets);
  const master = event.master === null ? null : redactText(event.master, secrets);
  if (payload === event.payload && master === event.master) return event;
  return { ...event, payload, master };
}

/** The secret values in a configuration: every master's auth-pass, bound to an address or not. */
export function secretsOf(config: SentinelConfig): string[] {
  return [
    ...config.masters.flatMap((m) => (m.authPass ? [m.authPass] : [])),
    ...Object.values(config.authPassByMaster ?? {}).flatMap((bound) =>
      bound.password !== '' ? [bound.password] : [],
    ),
  ];
}

// ---------------------------------------------------------------------------------------------------------
// The recorder: how a runtime feeds the log without ever waiting on it.

export interface EventRecorderOptions {
  readonly sentinelId: SentinelId;
  readonly log: EventLog;
  /** Retries of one append before the record is dropped (each with the same id, so no duplicates). */
  readonly maxAttempts?: number;
  /** Backoff before retry n is min(baseDelayMs × 2^(n-1), maxDelayMs). */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Records waiting beyond this are dropped, oldest first, with onDrop. */
  readonly maxQueue?: number;
  /**
   * Called when a record is given up (after maxAttempts, or pushed out of a full queue). A dropped event
   * is in no log and raises no alert: runtimes log it as a fault (lib/runtime/log.ts, logDroppedEvent).
   * `reason` is for people; `cause` is the kind.
   */
  readonly onDrop?: (record: EventRecord, reason: string, cause: EventDropCause) => void;
  readonly sleep?: (ms: number) => Promise<void>;
  /** First sequence number (default: the current time in ms, so a restarted emitter never reuses ids). */
  readonly firstSeq?: number;
}

/** Why the recorder gave an event up. */
export type EventDropCause = 'queue-full' | 'append-failed';

export const RECORDER_DEFAULTS = {
  maxAttempts: 5,
  baseDelayMs: 100,
  maxDelayMs: 2_000,
  maxQueue: 1_000,
} as const;

/**
 * Appends a sentinel's events in emission order, one at a time, retrying each with the same record.
 * `record()` never blocks and never throws: a sentinel must keep probing whatever the store does.
 * `flush()` waits until everything queued so far is stored or dropped (call it before a Lambda returns:
 * the container is frozen after the handler's promise settles).
 */
export class EventRecorder {
  readonly #o: Required<Omit<EventRecorderOptions, 'onDrop' | 'firstSeq'>> &
    Pick<EventRecorderOptions, 'onDrop'>;
  readonly #queue: EventRecord[] = [];
  #seq: number;
  #draining: Promise<void> | null = null;

  constructor(options: EventRecorderOptions) {
    this.#o = {
      maxAttempts: RECORDER_DEFAULTS.maxAttempts,
      baseDelayMs: RECORDER_DEFAULTS.baseDelayMs,
      maxDelayMs: RECORDER_DEFAULTS.maxDelayMs,
      maxQueue: RECORDER_DEFAULTS.maxQueue,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      ...options,
    };
    this.#seq = options.firstSeq ?? Date.now();
  }

  /** Queues the event; returns the record that will be stored (its id is final). */
  record(event: SentinelEvent, epoch: number | null): EventRecord {
    const record = toEventRecord(event, { sentinelId: this.#o.sentinelId, seq: this.#seq++, epoch });
    this.#queue.push(record);
    while (this.#queue.length > this.#o.maxQueue) {
      const dropped = this.#queue.shift();
      if (dropped) this.#o.onDrop?.(dropped, `queue full (${this.#o.maxQueue})`, 'queue-full');
    }
    this.#draining ??= this.#drain().finally(() => {
      this.#draining = null;
    });
    return record;
  }

  /** Records waiting to be appended (not counting the one being appended). */
  get pending(): number {
    return this.#queue.length;
  }

  /**
   * Resolves when everything queued so far is stored or dropped, or after `timeoutMs` (whatever is left
   * then stays queued and goes on in the background — in Lambda, when the container next thaws).
   * Returns true when the queue was drained.
   */
  async flush(timeoutMs = Number.POSITIVE_INFINITY): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      if (Number.isFinite(timeoutMs)) timer = setTimeout(() => resolve('timeout'), Math.max(0, timeoutMs));
    });
    try {
      while (this.#draining) {
        if ((await Promise.race([this.#draining.then(() => 'drained' as const), timeout])) === 'timeout') {
          return false;
        }
      }
      return true;
    } finally {
      clearTimeout(timer);
    }
  }

  async #drain(): Promise<void> {
    // The record being appended leaves the queue first: an overflow only ever drops waiting records.
    for (let record = this.#queue.shift(); record !== undefined; record = this.#queue.shift()) {
      let lastError: unknown;
      let stored = false;
      for (let attempt = 1; attempt <= this.#o.maxAttempts && !stored; attempt++) {
        try {
          await this.#o.log.append(record);
          stored = true;
        } catch (error) {
          lastError = error;
          if (attempt < this.#o.maxAttempts) {
            await this.#o.sleep(Math.min(this.#o.baseDelayMs * 2 ** (attempt - 1), this.#o.maxDelayMs));
          }
        }
      }
      if (!stored) {
        const reason = lastError instanceof Error ? lastError.message : String(lastError);
        this.#o.onDrop?.(record, `append failed ${this.#o.maxAttempts} times: ${reason}`, 'append-failed');
      }
    }
  }
}
