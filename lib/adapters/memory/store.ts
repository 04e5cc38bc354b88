/**
 * SentinelStore in process memory: the local runner's embedded store (its sentinels share one), unit
 * tests and simulations. It keeps the same contract as the DynamoDB store (test/contract runs one suite
 * against both):
 *
 * - linearizable: after the (optional) simulated latency, each method reads, checks and writes
 *   synchronously, so no other call can interleave inside a check-and-set;
 * - values are deep-copied in and out, so a caller mutating what it passed or got cannot change the store;
 * - `setAvailable(false)` simulates an outage: every call rejects with StoreUnavailableError;
 * - the change counter moves in the same step as the write it counts; `setIncrementsLost(true)` simulates
 *   the writer dying between its write and the increment (ports.ts: readers must tolerate it).
 */
import { newMasterRecord } from '../../core/records.js';
import type { LoopLease, MasterRecord, ReplicaRecord, SentinelId, Vote } from '../../core/types.js';
import type * as port from '../../ports.js';
import {
  acquiredLease,
  advancedRecord,
  advanceFailoverAllowed,
  claimEpochAllowed,
  claimedRecord,
  leadsEpoch,
  requestFailoverAllowed,
  StoreUnavailableError,
} from '../../ports.js';

export interface MemoryStoreOptions {
  /** Delay before each call takes effect, in ms (real timers); 0 = answer on the next microtask. */
  readonly latencyMs?: number;
}

const copy = <T>(value: T): T => structuredClone(value);

/** Code-unit order, matching the DynamoDB store's sort-key order for ASCII names. */
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export class MemoryStore implements port.SentinelStore {
  private readonly masters = new Map<string, MasterRecord>();
  /** master → sentinelId → vote */
  private readonly votes = new Map<string, Map<SentinelId, Vote>>();
  private readonly leases = new Map<SentinelId, LoopLease>();
  /** master → "host:port" → replica */
  private readonly replicas = new Map<string, Map<string, ReplicaRecord>>();
  /** sentinelId → the hand-over state saved under a lease token */
  private readonly handoverStates = new Map<SentinelId, { token: number; state: string }>();
  private changes = 0;
  private incrementsLost = false;
  private available = true;
  private latencyMs: number;

  constructor(options: MemoryStoreOptions = {}) {
    this.latencyMs = options.latencyMs ?? 0;
  }

  /** false: every call (including ones already waiting out their latency) rejects with StoreUnavailableError. */
  setAvailable(available: boolean): void {
    this.available = available;
  }

  setLatency(latencyMs: number): void {
    this.latencyMs = latencyMs;
  }

  /** true: writes still apply, but the change counter does not move (its increments are lost). */
  setIncrementsLost(lost: boolean): void {
    this.incrementsLost = lost;
  }

  /** A record or the index changed (called in the same synchronous step as the change). */
  private changed(): void {
    if (!this.incrementsLost) this.changes += 1;
  }

  /** Writes a master record and counts the change, in one synchronous step. */
  private putRecord(name: string, record: MasterRecord): void {
    this.masters.set(name, record);
    this.changed();
  }

  async ensureMaster(seed: port.MasterSeed): Promise<MasterRecord> {
    await this.enter('ensureMaster');
    const existing = this.masters.get(seed.name);
    if (existing !== undefined) return copy(existing);
    const record: MasterRecord = newMasterRecord(seed, 'config');
    this.putRecord(seed.name, record);
    return copy(record);
  }

  async getMaster(name: string): Promise<MasterRecord | null> {
    await this.enter('getMaster');
    return copy(this.masters.get(name) ?? null);
  }

  async listMasters(): Promise<MasterRecord[]> {
    await this.enter('listMasters');
    return [...this.masters.values()].sort((a, b) => compare(a.name, b.name)).map(copy);
  }

  async getChangeCounter(): Promise<number | null> {
    await this.enter('getChangeCounter');
    return this.changes;
  }

  /** Every increment here lands with its write: nothing is ever in flight. */
  async settle(): Promise<void> {}

  async claimEpoch(name: string, request: port.ClaimEpochRequest): Promise<port.ClaimEpochResult> {
    await this.enter('claimEpoch');
    const current = this.masters.get(name);
    if (current === undefined) {
      throw new StoreUnavailableError(`claimEpoch: no record for master "${name}" (ensureMaster first)`);
    }
    if (!claimEpochAllowed(current, request)) return { won: false, record: copy(current) };
    const record = claimedRecord(current, copy(request));
    this.putRecord(name, record);
    return { won: true, record: copy(record) };
  }

  async advanceFailover(
    name: string,
    request: port.AdvanceFailoverRequest,
  ): Promise<port.AdvanceFailoverResult> {
    await this.enter('advanceFailover');
    const current = this.masters.get(name);
    if (!advanceFailoverAllowed(current, request)) return { ok: false, record: copy(current ?? null) };
    const record = advancedRecord(current, copy(request));
    this.putRecord(name, record);
    return { ok: true, record: copy(record) };
  }

  async requestFailover(
    name: string,
    request: port.RequestFailoverRequest,
  ): Promise<port.RequestFailoverResult> {
    await this.enter('requestFailover');
    const current = this.masters.get(name);
    if (current === undefined || !current.monitored) return 'no-such-master';
    if (!requestFailoverAllowed(current, request)) return 'in-progress';
    this.putRecord(name, {
      ...current,
      failoverRequestedAt: request.now,
      failoverRequestCoordinated: request.coordinated === true,
    });
    return 'requested';
  }

  async renewLeadership(name: string, request: port.RenewLeadershipRequest): Promise<boolean> {
    await this.enter('renewLeadership');
    const current = this.masters.get(name);
    if (!leadsEpoch(current, request)) return false;
    this.putRecord(name, { ...current, leaderLeaseUntil: request.leaseUntil, updatedAt: request.now });
    return true;
  }

  async releaseLeadership(name: string, request: port.ReleaseLeadershipRequest): Promise<boolean> {
    await this.enter('releaseLeadership');
    const current = this.masters.get(name);
    if (!leadsEpoch(current, request)) return false;
    this.putRecord(name, {
      ...current,
      failoverState: 'none',
      leaderLeaseUntil: 0,
      updatedAt: request.now,
    });
    return true;
  }

  async monitorMaster(seed: port.MonitorSeed): Promise<'created' | 'duplicate'> {
    await this.enter('monitorMaster');
    const existing = this.masters.get(seed.name);
    if (existing?.monitored) return 'duplicate';
    // A new incarnation: its origin is this MONITOR's address, whatever the old record's was.
    const fresh = newMasterRecord(seed, 'monitor');
    const epoch = existing === undefined ? 0 : existing.currentEpoch + 1;
    this.putRecord(seed.name, {
      ...fresh,
      currentEpoch: epoch,
      configEpoch: epoch,
      settings: copy(seed.settings),
      settingsVersion: (existing?.settingsVersion ?? 0) + 1,
    });
    // The old incarnation's replicas are not this one's (Sentinel's REMOVE forgets them too).
    this.replicas.delete(seed.name);
    return 'created';
  }

  async removeMaster(name: string, request: { now: number }): Promise<boolean> {
    await this.enter('removeMaster');
    const current = this.masters.get(name);
    if (!current?.monitored) return false;
    this.putRecord(name, { ...current, ...endedFailover(), monitored: false, updatedAt: request.now });
    return true;
  }

  async updateMasterSettings(
    name: string,
    request: port.UpdateMasterSettingsRequest,
  ): Promise<port.UpdateMasterSettingsResult> {
    await this.enter('updateMasterSettings');
    const current = this.masters.get(name);
    if (!current?.monitored) return 'no-such-master';
    if (current.settingsVersion !== request.expectedVersion) return 'conflict';
    this.putRecord(name, {
      ...current,
      settings: copy(request.settings),
      settingsVersion: current.settingsVersion + 1,
      updatedAt: request.now,
    });
    return 'updated';
  }

  async resetMaster(name: string, request: { now: number }): Promise<boolean> {
    await this.enter('resetMaster');
    const current = this.masters.get(name);
    if (!current?.monitored) return false;
    this.putRecord(name, { ...current, ...endedFailover(), resetAt: request.now, updatedAt: request.now });
    this.replicas.delete(name);
    return true;
  }

  async putVote(vote: Vote): Promise<'written' | 'fenced'> {
    await this.enter('putVote');
    let byMaster = this.votes.get(vote.master);
    if (byMaster === undefined) {
      byMaster = new Map();
      this.votes.set(vote.master, byMaster);
    }
    const stored = byMaster.get(vote.sentinelId);
    if (stored !== undefined && stored.token > vote.token) return 'fenced';
    byMaster.set(vote.sentinelId, copy(vote));
    return 'written';
  }

  async listVotes(master: string): Promise<Vote[]> {
    await this.enter('listVotes');
    return this.#votesOf(master);
  }

  #votesOf(master: string): Vote[] {
    const byMaster = this.votes.get(master);
    if (byMaster === undefined) return [];
    return [...byMaster.values()].sort((a, b) => compare(a.sentinelId, b.sentinelId)).map(copy);
  }

  async getMasterVotesReplicas(master: string): Promise<port.MasterVotesReplicas> {
    await this.enter('getMasterVotesReplicas');
    return {
      record: copy(this.masters.get(master) ?? null),
      votes: this.#votesOf(master),
      replicas: this.#replicasOf(master),
    };
  }

  async getLease(sentinelId: SentinelId): Promise<LoopLease | null> {
    await this.enter('getLease');
    return copy(this.leases.get(sentinelId) ?? null);
  }

  async listLeases(): Promise<LoopLease[]> {
    await this.enter('listLeases');
    return [...this.leases.values()].sort((a, b) => compare(a.sentinelId, b.sentinelId)).map(copy);
  }

  async acquireLease(
    sentinelId: SentinelId,
    request: port.AcquireLeaseRequest,
  ): Promise<port.AcquireLeaseResult> {
    await this.enter('acquireLease');
    const previous = this.leases.get(sentinelId) ?? null;
    if (previous !== null && previous.holder !== null && previous.leaseUntil >= request.now) {
      return { acquired: false, current: copy(previous) };
    }
    const lease = acquiredLease(sentinelId, request, previous);
    this.leases.set(sentinelId, lease);
    return { acquired: true, lease: copy(lease), previous: copy(previous) };
  }

  async renewLease(sentinelId: SentinelId, request: port.RenewLeaseRequest): Promise<port.RenewLeaseResult> {
    await this.enter('renewLease');
    const current = this.leases.get(sentinelId);
    if (!holds(current, request)) return { renewed: false, current: copy(current ?? null) };
    const lease: LoopLease = {
      ...current,
      leaseUntil: request.now + request.ttlMs,
      heartbeatAt: request.now,
      tilt: request.tilt,
      summary: request.summary,
    };
    this.leases.set(sentinelId, lease);
    return { renewed: true, lease: copy(lease) };
  }

  async requestHandover(
    sentinelId: SentinelId,
    request: { invocationId: string },
  ): Promise<LoopLease | null> {
    await this.enter('requestHandover');
    const current = this.leases.get(sentinelId);
    if (current === undefined) return null;
    const lease: LoopLease = { ...current, handoverRequestedBy: request.invocationId };
    this.leases.set(sentinelId, lease);
    return copy(lease);
  }

  async releaseLease(sentinelId: SentinelId, request: port.ReleaseLeaseRequest): Promise<boolean> {
    await this.enter('releaseLease');
    const current = this.leases.get(sentinelId);
    if (!holds(current, request)) return false;
    this.leases.set(sentinelId, {
      ...current,
      holder: null,
      leaseUntil: request.now,
      heartbeatAt: request.now,
    });
    return true;
  }

  async putHandoverState(
    sentinelId: SentinelId,
    request: { token: number; state: string },
  ): Promise<boolean> {
    await this.enter('putHandoverState');
    const stored = this.handoverStates.get(sentinelId);
    if (stored !== undefined && stored.token > request.token) return false;
    this.handoverStates.set(sentinelId, { token: request.token, state: request.state });
    return true;
  }

  async getHandoverState(sentinelId: SentinelId, request: { token: number }): Promise<string | null> {
    await this.enter('getHandoverState');
    const stored = this.handoverStates.get(sentinelId);
    return stored !== undefined && stored.token === request.token ? stored.state : null;
  }

  async upsertReplica(replica: ReplicaRecord): Promise<void> {
    await this.enter('upsertReplica');
    let byMaster = this.replicas.get(replica.master);
    if (byMaster === undefined) {
      byMaster = new Map();
      this.replicas.set(replica.master, byMaster);
    }
    byMaster.set(`${replica.host}:${replica.port}`, copy(replica));
  }

  async listReplicas(master: string): Promise<ReplicaRecord[]> {
    await this.enter('listReplicas');
    return this.#replicasOf(master);
  }

  #replicasOf(master: string): ReplicaRecord[] {
    const byMaster = this.replicas.get(master);
    if (byMaster === undefined) return [];
    return [...byMaster.entries()].sort(([a], [b]) => compare(a, b)).map(([, replica]) => copy(replica));
  }

  /**
   * Every method awaits this first and then runs to completion without awaiting again: that is what makes
   * each check-and-set atomic. Availability is checked after the latency, so an outage that starts while
   * a call is "in flight" fails it, as a real network would.
   */
  private async enter(operation: string): Promise<void> {
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    if (!this.available)
      throw new StoreUnavailableError(`MemoryStore ${operation}: store unavailable (simulated)`);
  }
}

/** What REMOVE and RESET clear: any failover, its request and its back-off (epochs and leader stay). */
function endedFailover() {
  return {
    failoverState: 'none',
    leaderLeaseUntil: 0,
    failoverRequestedAt: null,
    failoverRequestCoordinated: false,
    retryNotBefore: 0,
  } as const;
}

function holds(
  lease: LoopLease | undefined,
  request: { invocationId: string; token: number },
): lease is LoopLease {
  return lease !== undefined && lease.holder === request.invocationId && lease.token === request.token;
}
