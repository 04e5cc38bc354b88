/**
 * The simulated DynamoDB: the real MemoryStore (linearizable, conditional writes) behind a network in
 * virtual time. Each caller (a sentinel invocation, the failover function, a lookup client) gets its own
 * view of it, and every call goes:
 *
 *   request on the wire → applied atomically → reply on the wire → delivered to the caller's process
 *
 * with faults on the way: a global outage (every call fails, as DynamoDB 5xx), a per-caller partition
 * (requests are lost: the caller times out), lost replies (the write is applied, the caller times out and
 * cannot tell), slow replies (late, or past the client's timeout), lost change-counter increments (the
 * writes apply, the counter does not move: a writer that died between the two). A timed-out attempt is
 * retried once, as the real client does (maxAttempts 2), so a conditional write can be applied and then
 * refused on its own retry.
 *
 * The store also watches itself for the invariants: every change of a master record (before, after, who,
 * with what request), every vote written, every lease acquired.
 *
 * Teeth: `broken` rules switch off one safety mechanism of the store, for the tests that prove the
 * invariants catch its absence. They are implemented here by writing the store's maps directly (the real
 * store has, on purpose, no unconditional write), never by changing lib/core or the real store.
 */
import { MemoryStore } from '../adapters/memory/store.js';
import type { MasterRecord, SentinelId, Vote } from '../core/types.js';
import {
  type AdvanceFailoverRequest,
  advancedRecord,
  type ClaimEpochRequest,
  claimedRecord,
  type MasterVotesReplicas,
  type SentinelStore,
  StoreUnavailableError,
} from '../ports.js';
import type { Random } from './random.js';
import type { Process, Simulator } from './scheduler.js';

/** One safety mechanism of the store (or of what it feeds the core) switched off, for the teeth tests. */
export type BrokenStoreRule =
  /** claimEpoch writes without its condition (expected epoch, failover state, leader lease). */
  | 'claim-unconditional'
  /**
   * claimEpoch without its condition AND for the epoch in force rather than the next one: a claim based
   * on a view older than the last claim wins that same epoch again (the stale claim the condition stops).
   */
  | 'claim-reuses-epoch'
  /** advanceFailover writes without its fence (epoch, leader, from-state). */
  | 'advance-unfenced'
  /** advanceFailover acknowledges a step it did not record (an acknowledged write that was lost). */
  | 'advance-acked-not-applied'
  /** listVotes stamps every vote as observed just now: vote freshness is gone. */
  | 'votes-never-stale'
  /** listVotes copies one down-vote to every member: quorum and majority are gone. */
  | 'one-vote-counts-for-all'
  /** A client lookup may be answered from an older version of the record (an eventually consistent read). */
  | 'stale-lookups'
  /** Every epoch claim is refused (liveness teeth: nobody can ever lead). */
  | 'claims-lost';

/** The client's request timeout (the real one is 1 s, scaled like the simulated timings). */
export const STORE_TIMEOUT_MS = 500;
const ATTEMPTS = 2;

/** Calls that never change a master record: no need to diff the records after them. */
const RECORD_NEUTRAL = new Set([
  'getMaster',
  'listMasters',
  'getChangeCounter',
  'putHandoverState',
  'getHandoverState',
  'putVote',
  'listVotes',
  'getMasterVotesReplicas',
  'getLease',
  'listLeases',
  'acquireLease',
  'renewLease',
  'requestHandover',
  'releaseLease',
  'upsertReplica',
  'listReplicas',
]);

export interface RecordChange {
  /** Position in the store's order of applied calls (votes share it). */
  readonly seq: number;
  readonly at: number;
  readonly op: string;
  readonly caller: string;
  readonly process: string;
  readonly args: readonly unknown[];
  readonly result: unknown;
  readonly before: MasterRecord | null;
  readonly after: MasterRecord;
}

export interface StoreHooks {
  /** A call leaves the caller (synchronously, in the caller's own stretch of code). */
  readonly onCall?: (process: Process, op: string) => void;
  /** A call failed for the caller (it will see StoreUnavailableError). */
  readonly onCallFailed?: (process: Process, op: string) => void;
  readonly onRecordChange: (change: RecordChange) => void;
  readonly onVoteWritten: (vote: Vote, at: number, seq: number) => void;
  readonly onLeaseAcquired: (sentinelId: SentinelId, invocationId: string, at: number) => void;
  readonly trace: (line: string) => void;
}

type Attempt = { type: 'ok'; value: unknown } | { type: 'error' } | { type: 'timeout' };

export class SimStore {
  readonly inner = new MemoryStore();
  #lock: Promise<void> = Promise.resolve();
  readonly #records = new Map<string, string>();
  /** Every version of every master record, oldest first (what a stale read may return). */
  readonly versions: MasterRecord[] = [];
  #outages = 0;
  #slowMs = 0;
  readonly #cut = new Map<string, number>();
  readonly #replyLoss = new Map<string, number>();
  readonly #slowFor = new Map<string, number>();
  #incrementsLost = 0;
  calls = 0;
  #seq = 0;

  constructor(
    readonly sim: Simulator,
    readonly rng: Random,
    readonly members: readonly SentinelId[],
    readonly broken: ReadonlySet<BrokenStoreRule>,
    readonly hooks: StoreHooks,
  ) {}

  // ------------------------------------------------------------------ faults

  setOutage(on: boolean): void {
    this.#outages += on ? 1 : -1;
  }

  get unavailable(): boolean {
    return this.#outages > 0;
  }

  addSlow(ms: number, caller?: string): void {
    if (caller === undefined) this.#slowMs += ms;
    else this.#slowFor.set(caller, (this.#slowFor.get(caller) ?? 0) + ms);
  }

  setCut(caller: string, on: boolean): void {
    this.#cut.set(caller, (this.#cut.get(caller) ?? 0) + (on ? 1 : -1));
  }

  setReplyLoss(caller: string, on: boolean): void {
    this.#replyLoss.set(caller, (this.#replyLoss.get(caller) ?? 0) + (on ? 1 : -1));
  }

  /** While on (nested), record writes apply but the change counter does not move. */
  setIncrementsLost(on: boolean): void {
    this.#incrementsLost += on ? 1 : -1;
    this.inner.setIncrementsLost(this.#incrementsLost > 0);
  }

  cut(caller: string): boolean {
    return (this.#cut.get(caller) ?? 0) > 0;
  }

  // ------------------------------------------------------------------ views

  /** The store as one caller sees it, through its own process and network link. */
  view(process: Process, caller: string): SentinelStore {
    const cache = new Map<string, (...args: unknown[]) => Promise<unknown>>();
    return new Proxy(this.inner as unknown as SentinelStore, {
      get: (target, property) => {
        const value = Reflect.get(target, property);
        if (typeof property !== 'string' || typeof value !== 'function') return value;
        // Nothing to wait for: the simulated store's increments land with their writes.
        if (property === 'settle') return () => Promise.resolve();
        let wrapped = cache.get(property);
        if (wrapped === undefined) {
          wrapped = (...args: unknown[]) => this.#call(process, caller, property, args);
          cache.set(property, wrapped);
        }
        return wrapped;
      },
    });
  }

  async #call(process: Process, caller: string, op: string, args: unknown[]): Promise<unknown> {
    this.calls += 1;
    this.hooks.onCall?.(process, op);
    for (let attempt = 1; ; attempt += 1) {
      const outcome = await this.#attempt(process, caller, op, args);
      if (outcome.type === 'ok') return outcome.value;
      if (attempt >= ATTEMPTS) {
        this.hooks.onCallFailed?.(process, op);
        throw new StoreUnavailableError(
          `${op}: ${outcome.type === 'error' ? 'service unavailable' : 'request timed out'} (simulated)`,
        );
      }
    }
  }

  async #attempt(process: Process, caller: string, op: string, args: unknown[]): Promise<Attempt> {
    const deadline = this.sim.now + STORE_TIMEOUT_MS;
    const up = this.rng.int(1, 4);
    const down = this.rng.int(1, 4);
    await this.sim.delay(up);
    if (this.#outages > 0) {
      await process.sleep(down);
      return { type: 'error' };
    }
    if (this.cut(caller)) {
      await process.sleep(deadline - this.sim.now);
      return { type: 'timeout' };
    }
    const value = await this.#apply(process, caller, op, args);
    const arrival = this.sim.now + down + this.#slowMs + (this.#slowFor.get(caller) ?? 0);
    if ((this.#replyLoss.get(caller) ?? 0) > 0 || arrival > deadline) {
      this.hooks.trace(`store ${caller} ${op}: reply lost`);
      await process.sleep(deadline - this.sim.now);
      return { type: 'timeout' };
    }
    await process.sleep(arrival - this.sim.now);
    return { type: 'ok', value };
  }

  /** Applies one call atomically and observes what it changed (one call at a time, in arrival order). */
  async #apply(process: Process, caller: string, op: string, args: unknown[]): Promise<unknown> {
    const previous = this.#lock;
    let release = (): void => {};
    this.#lock = new Promise((resolve) => {
      release = resolve;
    });
    await previous;
    try {
      const value = await this.#invoke(process, caller, op, args);
      const at = this.sim.now;
      this.#seq += 1;
      if (op === 'putVote' && value === 'written') this.hooks.onVoteWritten(args[0] as Vote, at, this.#seq);
      if (op === 'acquireLease' && (value as { acquired: boolean }).acquired) {
        this.hooks.onLeaseAcquired(
          args[0] as SentinelId,
          (args[1] as { invocationId: string }).invocationId,
          at,
        );
      }
      if (!RECORD_NEUTRAL.has(op)) await this.#observe(process, caller, op, args, value);
      return value;
    } finally {
      release();
    }
  }

  async #observe(
    process: Process,
    caller: string,
    op: string,
    args: unknown[],
    result: unknown,
  ): Promise<void> {
    for (const after of await this.inner.listMasters()) {
      const json = JSON.stringify(after);
      const before = this.#records.get(after.name);
      if (before === json) continue;
      this.#records.set(after.name, json);
      this.versions.push(after);
      this.hooks.trace(
        `store ${caller} ${op} → epoch ${after.currentEpoch} leader ${after.leader} state ${after.failoverState} master ${after.host}:${after.port} config ${after.configEpoch}`,
      );
      this.hooks.onRecordChange({
        seq: this.#seq,
        at: this.sim.now,
        op,
        caller,
        process: process.name,
        args,
        result,
        before: before === undefined ? null : (JSON.parse(before) as MasterRecord),
        after,
      });
    }
  }

  #invoke(process: Process, caller: string, op: string, args: unknown[]): Promise<unknown> {
    const inner = this.inner as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    const real = (): Promise<unknown> =>
      (inner[op] as (...a: unknown[]) => Promise<unknown>).apply(this.inner, args);
    const b = this.broken;
    if (op === 'claimEpoch' && b.has('claims-lost')) return this.#refuseClaim(args[0] as string);
    if (op === 'claimEpoch' && b.has('claim-unconditional'))
      return this.#claimUnconditionally(args[0] as string, args[1] as ClaimEpochRequest, real);
    if (op === 'claimEpoch' && b.has('claim-reuses-epoch')) {
      const current = rawMasters(this.inner).get(args[0] as string);
      const request = args[1] as ClaimEpochRequest;
      const stale = { ...request, expectedEpoch: Math.max(0, (current?.currentEpoch ?? 1) - 1) };
      return this.#claimUnconditionally(args[0] as string, stale, real);
    }
    if (op === 'advanceFailover' && b.has('advance-acked-not-applied'))
      return this.#acknowledgeWithoutWriting(args[0] as string, real);
    if (op === 'advanceFailover' && b.has('advance-unfenced'))
      return this.#advanceUnfenced(args[0] as string, args[1] as AdvanceFailoverRequest, real);
    const doctorsVotes = b.has('votes-never-stale') || b.has('one-vote-counts-for-all');
    if (op === 'listVotes' && doctorsVotes)
      return real().then((votes) => this.#doctorVotes(votes as Vote[], process));
    if (op === 'getMasterVotesReplicas' && doctorsVotes)
      return real().then((read) => {
        const { votes, ...rest } = read as MasterVotesReplicas;
        return { ...rest, votes: this.#doctorVotes(votes, process) };
      });
    if (op === 'getMaster' && caller === 'client' && b.has('stale-lookups') && this.versions.length > 1) {
      if (this.rng.chance(0.5)) {
        const old = this.versions[this.rng.int(0, this.versions.length - 1)] as MasterRecord;
        return Promise.resolve(structuredClone(old));
      }
    }
    return real();
  }

  // ------------------------------------------------------------------ teeth

  async #refuseClaim(name: string): Promise<unknown> {
    return { won: false, record: await this.inner.getMaster(name) };
  }

  async #claimUnconditionally(
    name: string,
    request: ClaimEpochRequest,
    real: () => Promise<unknown>,
  ): Promise<unknown> {
    // The claim's transition without its condition (claimEpochAllowed is what is switched off).
    const record = this.#writeUnconditionally(name, (current) =>
      claimedRecord(current, structuredClone(request)),
    );
    return record === null ? real() : { won: true, record };
  }

  async #advanceUnfenced(
    name: string,
    request: AdvanceFailoverRequest,
    real: () => Promise<unknown>,
  ): Promise<unknown> {
    // The step's transition without its fence (advanceFailoverAllowed is what is switched off).
    const record = this.#writeUnconditionally(name, (current) =>
      advancedRecord(current, structuredClone(request)),
    );
    return record === null ? real() : { ok: true, record };
  }

  /**
   * Writes the record `transition` makes of the stored one straight into the record map, and counts the
   * change as the store counts its own writes. Null when there is no record (the real call answers).
   */
  #writeUnconditionally(
    name: string,
    transition: (current: MasterRecord) => MasterRecord,
  ): MasterRecord | null {
    const masters = rawMasters(this.inner);
    const current = masters.get(name);
    if (current === undefined) return null;
    const record = transition(current);
    masters.set(name, record);
    countChange(this.inner);
    return structuredClone(record);
  }

  async #acknowledgeWithoutWriting(name: string, real: () => Promise<unknown>): Promise<unknown> {
    const masters = rawMasters(this.inner);
    const current = masters.get(name);
    if (current === undefined) return real();
    // What the write would have produced, reported as done; the stored record does not change.
    const result = (await real()) as { ok: boolean; record: MasterRecord | null };
    if (result.ok) masters.set(name, current);
    return result;
  }

  #doctorVotes(votes: Vote[], process: Process): Vote[] {
    if (this.broken.has('votes-never-stale')) {
      const now = process.clock.now();
      return votes.map((v) => ({ ...v, observedAt: now }));
    }
    const down = votes.filter((v) => v.down).sort((a, b) => b.observedAt - a.observedAt)[0];
    if (down === undefined) return votes;
    return this.members.map(
      (id) => votes.find((v) => v.sentinelId === id && v.down) ?? { ...down, sentinelId: id },
    );
  }
}

/**
 * The MemoryStore's record map, for the teeth only: the real store offers no unconditional write, on
 * purpose. Checked at run time so a change of its internals fails loudly here rather than silently
 * turning a teeth test into a no-op.
 */
function rawMasters(store: MemoryStore): Map<string, MasterRecord> {
  const masters = (store as unknown as { masters?: unknown }).masters;
  if (!(masters instanceof Map))
    throw new Error('MemoryStore internals changed: update rawMasters in lib/sim/store.ts');
  return masters as Map<string, MasterRecord>;
}

/**
 * Counts a change the teeth wrote into the record map directly, as the store counts its own writes: a
 * teeth rule switches off a condition, not the counter (lost increments are a fault of their own).
 */
function countChange(store: MemoryStore): void {
  const changed = (store as unknown as { changed?: unknown }).changed;
  if (typeof changed !== 'function')
    throw new Error('MemoryStore internals changed: update countChange in lib/sim/store.ts');
  (changed as () => void).call(store);
}
