/**
 * The event log and the notifier's markers in process memory, for unit tests and simulations. Same
 * contract as the DynamoDB implementation (test/contract/eventLog.contract.ts runs one suite against
 * both): append is idempotent by id, secrets are redacted before storing, list is newest first in the
 * same order as the DynamoDB sort key, expired records are never returned, values are copied in and out.
 */
import {
  compareNewestFirst,
  type EventLog,
  type EventQuery,
  type EventRecord,
  effectiveLimit,
  isExpired,
  type NotifyMarkers,
  redactSecrets,
} from '../../eventLog.js';
import { StoreUnavailableError } from '../../ports.js';

export interface MemoryEventLogOptions {
  readonly secrets?: readonly string[];
  readonly now?: () => number;
}

export class MemoryEventLog implements EventLog {
  readonly #records = new Map<string, EventRecord>();
  readonly #secrets: readonly string[];
  readonly #now: () => number;
  #available = true;

  constructor(options: MemoryEventLogOptions = {}) {
    this.#secrets = options.secrets ?? [];
    this.#now = options.now ?? Date.now;
  }

  /** false: every call rejects with StoreUnavailableError (an outage). */
  setAvailable(available: boolean): void {
    this.#available = available;
  }

  /** Everything stored, oldest first (test helper). */
  all(): EventRecord[] {
    return [...this.#records.values()]
      .sort(compareNewestFirst)
      .reverse()
      .map((r) => structuredClone(r));
  }

  async append(record: EventRecord): Promise<void> {
    this.#check('append');
    if (this.#records.has(record.id)) return;
    this.#records.set(record.id, structuredClone(redactSecrets(record, this.#secrets)));
  }

  async list(query: EventQuery): Promise<EventRecord[]> {
    this.#check('list');
    const limit = effectiveLimit(query.limit);
    const now = this.#now();
    const since = query.since ?? 0;
    return [...this.#records.values()]
      .filter((r) => (query.master === undefined || r.master === query.master) && r.at >= since)
      .filter((r) => !isExpired(r, now))
      .sort(compareNewestFirst)
      .slice(0, limit)
      .map((r) => structuredClone(r));
  }

  #check(operation: string): void {
    if (!this.#available) throw new StoreUnavailableError(`${operation}: event log unavailable (simulated)`);
  }
}

export class MemoryNotifyMarkers implements NotifyMarkers {
  readonly #done = new Map<string, Set<string>>();
  #available = true;

  setAvailable(available: boolean): void {
    this.#available = available;
  }

  async done(eventId: string): Promise<Set<string>> {
    if (!this.#available) throw new StoreUnavailableError('markers unavailable (simulated)');
    return new Set(this.#done.get(eventId));
  }

  async mark(eventId: string, action: string): Promise<void> {
    if (!this.#available) throw new StoreUnavailableError('markers unavailable (simulated)');
    const set = this.#done.get(eventId) ?? new Set<string>();
    set.add(action);
    this.#done.set(eventId, set);
  }

  readonly #claims = new Map<string, { eventId: string; at: number }>();

  async claim(key: string, eventId: string, at: number, windowMs: number): Promise<boolean> {
    if (!this.#available) throw new StoreUnavailableError('markers unavailable (simulated)');
    const held = this.#claims.get(key);
    if (held && held.eventId !== eventId && held.at >= at - windowMs) return false;
    this.#claims.set(key, { eventId, at });
    return true;
  }
}
