/**
 * SentinelStore in process memory, for unit tests and simulations. It keeps the same contract as the
 * DynamoDB store (test/contract runs one suite against both):
 *
 * - linearizable: after the (optional) simulated latency, each method reads, checks and writes
 *   synchronously, so no other call can interleave inside a check-and-set;
 * - values are deep-copied in and out, so a caller mutating what it passed or got cannot change the store;
 * - `setAvailable(false)` simulates an outage: every call rejects with StoreUnavailableError;
 * - the change counter moves in the same step as the write it counts; `setIncrementsLost(true)` simulates
 *   the writer dying between its write and the increment (ports.ts: readers must tolerate it).
 */
import { newMasterRecord } from '../../core/records.js';
import type {
  LoopLease,
  MasterRecord,
  ReplicaRecord,
  RuntimeSettings,
  SentinelId,
  Vote,
} from '../../core/types.js';
import {
  type AcquireLeaseRequest,
  type AcquireLeaseResult,
  type AdvanceFailoverRequest,
  type AdvanceFailoverResult,
  type ClaimEpochRequest,
  type ClaimEpochResult,
  type RenewLeaseResult,
  type SentinelStore,
  StoreUnavailableError,
} from '../../ports.js';

export interface MemoryStoreOptions {
  /** Delay before each call takes effect, in ms (real timers); 0 = answer on the next microtask. */
  readonly latencyMs?: number;
}

const copy = <T>(value: T): T => structuredClone(value);

/** Code-unit order, matching the DynamoDB store's sort-key order for ASCII names. */
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export class MemoryStore implements SentinelStore {
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

  async ensureMaster(seed: { name: string; host: string; port: number; now: number }): Promise<MasterRecord> {
    await this.enter('ensureMaster');
    const existing = this.masters.get(seed.name);
    if (existing !== undefined) return copy(existing);
    const record: MasterRecord = newMasterRecord(seed, 'config');
    this.masters.set(seed.name, record);
    this.changed();
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

  async claimEpoch(name: string, request: ClaimEpochRequest): Promise<ClaimEpochResult> {
    await this.enter('claimEpoch');
    const current = this.masters.get(name);
    if (current === undefined) {
      throw new StoreUnavailableError(`claimEpoch: no record for master "${name}" (ensureMaster first)`);
    }
    const allowed =
      current.currentEpoch === request.expectedEpoch &&
      (request.mode === 'start'
        ? current.failoverState === 'none'
        : current.failoverState !== 'none' && current.leaderLeaseUntil < request.now);
    if (!allowed) return { won: false, record: copy(current) };
    const claimed = {
      ...current,
      currentEpoch: request.expectedEpoch + 1,
      leader: request.sentinelId,
      leaderLeaseUntil: request.leaseUntil,
      updatedAt: request.now,
    };
    const record: MasterRecord =
      request.mode === 'start'
        ? {
            ...claimed,
            failoverState: 'select_slave',
            failoverStartedAt: request.now,
            failover: copy(request.progress),
            failoverRequestedAt: null,
            failoverRequestCoordinated: false,
          }
        : claimed;
    this.masters.set(name, record);
    this.changed();
    return { won: true, record: copy(record) };
  }

  async advanceFailover(name: string, request: AdvanceFailoverRequest): Promise<AdvanceFailoverResult> {
    await this.enter('advanceFailover');
    const current = this.masters.get(name);
    if (!leads(current, request) || !request.from.includes(current.failoverState)) {
      return { ok: false, record: copy(current ?? null) };
    }
    const record: MasterRecord = {
      ...current,
      failoverState: request.to,
      failover: copy(request.progress),
      leaderLeaseUntil: request.leaseUntil,
      updatedAt: request.now,
      ...(request.switchTo
        ? { host: request.switchTo.host, port: request.switchTo.port, configEpoch: request.epoch }
        : {}),
      ...(request.retryNotBefore !== undefined ? { retryNotBefore: request.retryNotBefore } : {}),
    };
    this.masters.set(name, record);
    this.changed();
    return { ok: true, record: copy(record) };
  }

  async requestFailover(
    name: string,
    request: { now: number; coordinated?: boolean },
  ): Promise<'requested' | 'in-progress' | 'no-such-master'> {
    await this.enter('requestFailover');
    const current = this.masters.get(name);
    if (current === undefined || !current.monitored) return 'no-such-master';
    if (current.failoverState !== 'none') return 'in-progress';
    this.masters.set(name, {
      ...current,
      failoverRequestedAt: request.now,
      failoverRequestCoordinated: request.coordinated === true,
    });
    this.changed();
    return 'requested';
  }

  async renewLeadership(
    name: string,
    request: { epoch: number; sentinelId: SentinelId; leaseUntil: number; now: number },
  ): Promise<boolean> {
    await this.enter('renewLeadership');
    const current = this.masters.get(name);
    if (!leads(current, request)) return false;
    this.masters.set(name, { ...current, leaderLeaseUntil: request.leaseUntil, updatedAt: request.now });
    this.changed();
    return true;
  }

  async releaseLeadership(
    name: string,
    request: { epoch: number; sentinelId: SentinelId; now: number },
  ): Promise<boolean> {
    await this.enter('releaseLeadership');
    const current = this.masters.get(name);
    if (!leads(current, request)) return false;
    this.masters.set(name, {
      ...current,
      failoverState: 'none',
      leaderLeaseUntil: 0,
      updatedAt: request.now,
    });
    this.changed();
    return true;
  }

  async monitorMaster(seed: {
    name: string;
    host: string;
    port: number;
    settings: RuntimeSettings;
    now: number;
  }): Promise<'created' | 'duplicate'> {
    await this.enter('monitorMaster');
    const existing = this.masters.get(seed.name);
    if (existing?.monitored) return 'duplicate';
    // A new incarnation: its origin is this MONITOR's address, whatever the old record's was.
    const fresh = newMasterRecord(seed, 'monitor');
    const epoch = existing === undefined ? 0 : existing.currentEpoch + 1;
    this.masters.set(seed.name, {
      ...fresh,
      currentEpoch: epoch,
      configEpoch: epoch,
      settings: copy(seed.settings),
      settingsVersion: (existing?.settingsVersion ?? 0) + 1,
    });
    this.changed();
    // The old incarnation's replicas are not this one's (Sentinel's REMOVE forgets them too).
    this.replicas.delete(seed.name);
    return 'created';
  }

  async removeMaster(name: string, request: { now: number }): Promise<boolean> {
    await this.enter('removeMaster');
    const current = this.masters.get(name);
    if (!current?.monitored) return false;
    this.masters.set(name, { ...current, ...endedFailover(), monitored: false, updatedAt: request.now });
    this.changed();
    return true;
  }

  async updateMasterSettings(
    name: string,
    request: { expectedVersion: number; settings: RuntimeSettings; now: number },
  ): Promise<'updated' | 'conflict' | 'no-such-master'> {
    await this.enter('updateMasterSettings');
    const current = this.masters.get(name);
    if (!current?.monitored) return 'no-such-master';
    if (current.settingsVersion !== request.expectedVersion) return 'conflict';
    this.masters.set(name, {
      ...current,
      settings: copy(request.settings),
      settingsVersion: current.settingsVersion + 1,
      updatedAt: request.now,
    });
    this.changed();
    return 'updated';
  }

  async resetMaster(name: string, request: { now: number }): Promise<boolean> {
    await this.enter('resetMaster');
    const current = this.masters.get(name);
    if (!current?.monitored) return false;
    this.masters.set(name, { ...current, ...endedFailover(), resetAt: request.now, updatedAt: request.now });
    this.changed();
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
    const byMaster = this.votes.get(master);
    if (byMaster === undefined) return [];
    return [...byMaster.values()].sort((a, b) => compare(a.sentinelId, b.sentinelId)).map(copy);
  }

  async getLease(sentinelId: SentinelId): Promise<LoopLease | null> {
    await this.enter('getLease');
    return copy(this.leases.get(sentinelId) ?? null);
  }

  async listLeases(): Promise<LoopLease[]> {
    await this.enter('listLeases');
    return [...this.leases.values()].sort((a, b) => compare(a.sentinelId, b.sentinelId)).map(copy);
  }

  async acquireLease(sentinelId: SentinelId, request: AcquireLeaseRequest): Promise<AcquireLeaseResult> {
    await this.enter('acquireLease');
    const previous = this.leases.get(sentinelId) ?? null;
    if (previous !== null && previous.holder !== null && previous.leaseUntil >= request.now) {
      return { acquired: false, current: copy(previous) };
    }
    const lease: LoopLease = {
      sentinelId,
      holder: request.invocationId,
      token: (previous?.token ?? 0) + 1,
      leaseUntil: request.now + request.ttlMs,
      heartbeatAt: request.now,
      handoverRequestedBy: null,
      handoverFrom: request.handoverFrom ?? 0,
      generation: request.generation ?? null,
      tilt: false,
      summary: previous?.summary ?? null,
    };
    this.leases.set(sentinelId, lease);
    return { acquired: true, lease: copy(lease), previous: copy(previous) };
  }

  async renewLease(
    sentinelId: SentinelId,
    request: {
      invocationId: string;
      token: number;
      now: number;
      ttlMs: number;
      tilt: boolean;
      summary: string | null;
    },
  ): Promise<RenewLeaseResult> {
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

  async releaseLease(
    sentinelId: SentinelId,
    request: { invocationId: string; token: number; now: number },
  ): Promise<boolean> {
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

function leads(
  record: MasterRecord | undefined,
  request: { epoch: number; sentinelId: SentinelId },
): record is MasterRecord {
  return (
    record !== undefined && record.currentEpoch === request.epoch && record.leader === request.sentinelId
  );
}

function holds(
  lease: LoopLease | undefined,
  request: { invocationId: string; token: number },
): lease is LoopLease {
  return lease !== undefined && lease.holder === request.invocationId && lease.token === request.token;
}
