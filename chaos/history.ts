/**
 * Everything a chaos run records, for the analysis at the end (chaos/analysis.ts): the faults and the
 * conditions they created, every master record anyone read or wrote with the time window of the call,
 * every epoch claim and every promotion commit, each acknowledged write, the nodes' reported roles and
 * the sentinels' events.
 *
 * The master record is recorded by wrapping each store (recordingStore) rather than by polling it: a
 * poll can miss a commit, and the analysis needs, for each configuration epoch, an interval that surely
 * contains the moment it was committed (the call window of the write, narrowed by the first read that saw it).
 */
import type { MasterRecord, SentinelEvent } from '../lib/core/types.js';
import type { AdvanceFailoverRequest, ClaimEpochRequest, SentinelStore } from '../lib/ports.js';

/** A Redis node, by its real address (`127.0.0.1:port`). */
export type NodeKey = string;

export const FAULT_KINDS = [
  'kill-master',
  'kill-replica',
  'pause-master-short',
  'pause-master-long',
  'pause-replica',
  'partition-sentinel-master',
  'partition-2-sentinels-master',
  'partition-sentinel-store',
  'isolate-sentinel',
  'store-pause',
  'store-cut',
  'restart-sentinel',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultRecord {
  readonly id: number;
  readonly kind: FaultKind;
  /** Human description of what was hit, e.g. `n2 (master)` or `sentinel-a, sentinel-c ↛ n1`. */
  readonly target: string;
  readonly startedAt: number;
  endedAt: number | null;
  /** The planned duration (the heal may come later if the machine is slow). */
  readonly plannedMs: number;
}

/**
 * A condition a fault created, from the moment it was in force to the moment it was lifted (null while
 * still in force). `killed` lasts until the restarted server answers again.
 */
export type Condition =
  | {
      readonly kind: 'killed' | 'paused';
      readonly node: NodeKey;
      readonly from: number;
      to: number | null;
      readonly faultId: number;
    }
  | {
      readonly kind: 'link-cut';
      readonly node: NodeKey;
      readonly sentinel: string;
      readonly from: number;
      to: number | null;
      readonly faultId: number;
    }
  | {
      readonly kind: 'store-cut';
      readonly sentinel: string;
      readonly from: number;
      to: number | null;
      readonly faultId: number;
    }
  | { readonly kind: 'store-paused'; readonly from: number; to: number | null; readonly faultId: number }
  | {
      readonly kind: 'sentinel-down';
      readonly sentinel: string;
      readonly from: number;
      to: number | null;
      readonly faultId: number;
    };

/** One master record as returned by a store call that started and returned at these times. */
export interface RecordObservation {
  readonly observer: string;
  readonly startedAt: number;
  readonly returnedAt: number;
  readonly currentEpoch: number;
  readonly configEpoch: number;
  readonly leader: string | null;
  readonly node: NodeKey;
  readonly failoverState: string;
}

export interface ClaimRecord {
  readonly sentinel: string;
  readonly mode: 'start' | 'resume';
  /** The epoch claimed (expectedEpoch + 1). */
  readonly epoch: number;
  readonly startedAt: number;
  readonly endedAt: number;
  /** null: the call failed, the claim may or may not have landed. */
  readonly won: boolean | null;
  /** A start claim: was it a forced (manual) failover, and which master was it about. */
  readonly forced: boolean;
  readonly oldMaster: NodeKey | null;
}

/** A write that would switch the master address (advanceFailover with switchTo): the promotion commit. */
export interface SwitchAttempt {
  readonly sentinel: string;
  readonly epoch: number;
  readonly node: NodeKey;
  readonly startedAt: number;
  readonly endedAt: number;
  /** `error`: the call failed; the write may still have been applied (even later, by a paused store). */
  readonly outcome: 'ok' | 'refused' | 'error';
}

export interface AckedWrite {
  readonly n: number;
  readonly node: NodeKey;
  readonly sentAt: number;
  readonly ackedAt: number;
  /** When the lookup that pointed the client at `node` started, and the config epoch it returned. */
  readonly lookupStartedAt: number;
  readonly lookupEpoch: number;
}

export interface LookupRecord {
  readonly startedAt: number;
  readonly returnedAt: number;
  readonly node: NodeKey;
  readonly configEpoch: number;
}

/** A change in what a node reports (INFO replication polled by the harness, straight to the node). */
export interface RoleSample {
  readonly at: number;
  readonly role: 'master' | 'slave' | 'unreachable';
  readonly masterPort: number | null;
  readonly linkUp: boolean;
}

export interface LoggedEvent {
  readonly at: number;
  readonly sentinel: string;
  readonly type: string;
  readonly payload: string;
}

export class History {
  readonly faults: FaultRecord[] = [];
  readonly conditions: Condition[] = [];
  readonly observations: RecordObservation[] = [];
  readonly claims: ClaimRecord[] = [];
  readonly switches: SwitchAttempt[] = [];
  readonly writes: AckedWrite[] = [];
  readonly lookups: LookupRecord[] = [];
  readonly writeErrors = new Map<string, number>();
  /** Run-length: a sample is kept only when the reported role, master or link changes. */
  readonly roles = new Map<NodeKey, RoleSample[]>();
  readonly events: LoggedEvent[] = [];
  /** Sentinel loop invocations that ended without being asked to, by end reason. */
  readonly unplannedRunnerEnds = new Map<string, number>();
  /**
   * For each committed configuration epoch, the replicas the leader did not choose and why, as recorded
   * in the master record at the commit (FailoverProgress.rejected).
   */
  readonly rejectedAt = new Map<number, ReadonlyArray<{ host: string; port: number; reason: string }>>();
  /** What the sentinels' probes got, by sentinel, command and result (`sentinel-a PING pong`). */
  readonly probeOutcomes = new Map<string, number>();
  /** Errors the sentinels logged (a tick or a failover runner that failed), by message. */
  readonly sentinelErrors = new Map<string, number>();
  /** Problems of the harness itself (not of the system under test), shown in the report. */
  readonly harnessNotes: string[] = [];

  observeRecord(observer: string, startedAt: number, returnedAt: number, record: MasterRecord | null): void {
    if (!record) return;
    const promoted = record.failover?.promoted;
    if (
      record.configEpoch > 0 &&
      !this.rejectedAt.has(record.configEpoch) &&
      promoted?.host === record.host &&
      promoted.port === record.port
    ) {
      this.rejectedAt.set(record.configEpoch, record.failover?.rejected ?? []);
    }
    this.observations.push({
      observer,
      startedAt,
      returnedAt,
      currentEpoch: record.currentEpoch,
      configEpoch: record.configEpoch,
      leader: record.leader,
      node: `${record.host}:${record.port}`,
      failoverState: record.failoverState,
    });
  }

  sampleRole(node: NodeKey, sample: RoleSample): void {
    const samples = this.roles.get(node) ?? [];
    const last = samples.at(-1);
    if (
      last &&
      last.role === sample.role &&
      last.masterPort === sample.masterPort &&
      last.linkUp === sample.linkUp
    )
      return;
    samples.push(sample);
    this.roles.set(node, samples);
  }

  /** The role a node reported last (null if never sampled). */
  lastRole(node: NodeKey): RoleSample | null {
    return this.roles.get(node)?.at(-1) ?? null;
  }

  countWriteError(kind: string): void {
    this.writeErrors.set(kind, (this.writeErrors.get(kind) ?? 0) + 1);
  }

  recordEvent(sentinel: string, event: SentinelEvent): void {
    this.events.push({ at: Date.now(), sentinel, type: event.type, payload: event.payload });
  }
}

const keyOf = (address: { host: string; port: number }): NodeKey => `${address.host}:${address.port}`;

/**
 * The store, with every record it returns and every claim and promotion commit it carries recorded.
 * A Proxy rather than a class that implements SentinelStore: the port grows (SENTINEL SET, MONITOR, …)
 * and every method this file does not care about must keep passing through unchanged.
 */
export function recordingStore(store: SentinelStore, observer: string, history: History): SentinelStore {
  const now = Date.now;
  const wrap = {
    async getMaster(name: string): Promise<MasterRecord | null> {
      const startedAt = now();
      const record = await store.getMaster(name);
      history.observeRecord(observer, startedAt, now(), record);
      return record;
    },
    async listMasters(): Promise<MasterRecord[]> {
      const startedAt = now();
      const records = await store.listMasters();
      const returnedAt = now();
      for (const record of records) history.observeRecord(observer, startedAt, returnedAt, record);
      return records;
    },
    async ensureMaster(seed: {
      name: string;
      host: string;
      port: number;
      now: number;
    }): Promise<MasterRecord> {
      const startedAt = now();
      const record = await store.ensureMaster(seed);
      history.observeRecord(observer, startedAt, now(), record);
      return record;
    },
    async claimEpoch(name: string, request: ClaimEpochRequest) {
      const startedAt = now();
      const base = {
        sentinel: observer,
        mode: request.mode,
        epoch: request.expectedEpoch + 1,
        startedAt,
        forced: request.mode === 'start' && request.progress.forced,
        oldMaster: request.mode === 'start' ? keyOf(request.progress.oldMaster) : null,
      };
      try {
        const result = await store.claimEpoch(name, request);
        const endedAt = now();
        history.claims.push({ ...base, endedAt, won: result.won });
        history.observeRecord(observer, startedAt, endedAt, result.record);
        return result;
      } catch (error) {
        history.claims.push({ ...base, endedAt: now(), won: null });
        throw error;
      }
    },
    async advanceFailover(name: string, request: AdvanceFailoverRequest) {
      const startedAt = now();
      const attempt = request.switchTo
        ? { sentinel: observer, epoch: request.epoch, node: keyOf(request.switchTo), startedAt }
        : null;
      try {
        const result = await store.advanceFailover(name, request);
        const endedAt = now();
        if (attempt) history.switches.push({ ...attempt, endedAt, outcome: result.ok ? 'ok' : 'refused' });
        history.observeRecord(observer, startedAt, endedAt, result.record);
        return result;
      } catch (error) {
        if (attempt) history.switches.push({ ...attempt, endedAt: now(), outcome: 'error' });
        throw error;
      }
    },
  };
  return new Proxy(store, {
    get(target, property, receiver) {
      if (typeof property === 'string' && Object.hasOwn(wrap, property)) {
        return wrap[property as keyof typeof wrap];
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
