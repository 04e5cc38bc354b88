/**
 * The event log and the notifier's markers in process memory, for unit tests and simulations. Same
 * contract as the DynamoDB implementation (test/contract/eventLog.contract.ts runs one suite against
 * both): append is idempotent by id, secrets are redacted before storing, list is newest first in the
 * same order as the DynamoDB sort key, expired records are never returned, values are copied in and out.
 */
import {
  type AlertClaim,
  type AlertClaimHeld,
  type AlertClaimId,
  type AlertClaimRequest,
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

/** The claim of one (alert key, action), as the DynamoDB item holds it. */
interface HeldClaim {
  readonly eventId: string;
  readonly at: number;
  readonly state: 'pending' | 'sent' | 'released';
  readonly holdUntil: number;
}

/** Same rules as DynamoNotifyMarkers (lib/eventLog.ts, NotifyMarkers), each decision one atomic step. */
export class MemoryNotifyMarkers implements NotifyMarkers {
  readonly #done = new Map<string, Set<string>>();
  readonly #claims = new Map<string, HeldClaim>();
  #available = true;

  setAvailable(available: boolean): void {
    this.#available = available;
  }

  async done(eventId: string): Promise<Set<string>> {
    this.#check();
    return new Set(this.#done.get(eventId));
  }

  async mark(eventId: string, action: string): Promise<void> {
    this.#check();
    const set = this.#done.get(eventId) ?? new Set<string>();
    set.add(action);
    this.#done.set(eventId, set);
  }

  async claim(request: AlertClaimRequest): Promise<AlertClaim> {
    this.#check();
    const id = claimId(request);
    const held = this.#claims.get(id);
    const free =
      held === undefined ||
      (held.eventId === request.eventId && held.state !== 'sent') ||
      (held.eventId !== request.eventId &&
        (held.state === 'released' ||
          (held.state === 'pending' && held.holdUntil < request.now) ||
          held.at < request.at - request.windowMs));
    if (free) {
      this.#claims.set(id, {
        eventId: request.eventId,
        at: request.at,
        state: 'pending',
        holdUntil: request.holdUntil,
      });
      return { status: 'claimed' };
    }
    if (held.state === 'sent') return { status: 'sent', by: held.eventId };
    return { status: 'pending', by: held.eventId, until: held.holdUntil };
  }

  async confirm(claim: AlertClaimHeld): Promise<boolean> {
    this.#check();
    const id = claimId(claim);
    if (this.#claims.get(id)?.eventId !== claim.eventId) return false;
    this.#claims.set(id, { eventId: claim.eventId, at: claim.at, state: 'sent', holdUntil: 0 });
    return true;
  }

  async release(claim: AlertClaimHeld): Promise<void> {
    this.#check();
    const id = claimId(claim);
    const held = this.#claims.get(id);
    if (held?.eventId !== claim.eventId || held.state !== 'pending') return;
    this.#claims.set(id, { eventId: claim.eventId, at: claim.at, state: 'released', holdUntil: 0 });
  }

  #check(): void {
    if (!this.#available) throw new StoreUnavailableError('markers unavailable (simulated)');
  }
}

const claimId = (claim: AlertClaimId): string => `${claim.key}\n${claim.action}`;
