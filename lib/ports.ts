/**
 * Ports: what the runtime needs from the outside world, and the contract each implementation keeps.
 * Implementations: lib/adapters/dynamodb (real), lib/adapters/memory (in-process, used by unit tests and
 * simulations), lib/adapters/redis. test/contract/ runs one suite against both stores so they cannot drift.
 */
import type {
  Address,
  FailoverProgress,
  FailoverState,
  InfoOutcome,
  LoopLease,
  MasterRecord,
  PingOutcome,
  ReplicaRecord,
  RuntimeSettings,
  SentinelId,
  TlsSettings,
  Vote,
} from './core/types.js';

/** Thrown by a store when it cannot be reached or answers with an unexpected error. Retry next tick. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
}

interface ClaimEpochBase {
  /** The epoch the caller saw as current; the claim is for expectedEpoch + 1. */
  readonly expectedEpoch: number;
  readonly sentinelId: SentinelId;
  readonly leaseUntil: number;
  readonly now: number;
}

export type ClaimEpochRequest =
  /**
   * Start a new failover: only while none is in progress. The master enters 'select_slave', or
   * 'send_slaveof_noone' when the progress already names the replica to promote (claimStartState).
   */
  | (ClaimEpochBase & { readonly mode: 'start'; readonly progress: FailoverProgress })
  /**
   * Take over a failover in progress whose leader's lease has expired: epoch and leader change, the
   * recorded state and progress do not, so the new leader continues exactly where the old one stopped.
   */
  | (ClaimEpochBase & { readonly mode: 'resume' });

export interface AdvanceFailoverRequest {
  readonly epoch: number;
  readonly sentinelId: SentinelId;
  readonly now: number;
  /** The step may only be taken from one of these states (makes each step idempotent). */
  readonly from: readonly FailoverState[];
  readonly to: FailoverState;
  readonly progress: FailoverProgress | null;
  /** Renews the leader's lease in the same write. */
  readonly leaseUntil: number;
  /** At promotion: the new master address, with configEpoch = epoch. Lookups switch with this write. */
  readonly switchTo?: { readonly host: string; readonly port: number };
  /** On abort: no new automatic failover before this time. */
  readonly retryNotBefore?: number;
}

export type AdvanceFailoverResult =
  | { readonly ok: true; readonly record: MasterRecord }
  /** The caller no longer leads this epoch, or the state moved: it must stop. `record` is current. */
  | { readonly ok: false; readonly record: MasterRecord | null };

export type ClaimEpochResult =
  /** The caller leads `record.currentEpoch` (= expectedEpoch + 1). */
  | { readonly won: true; readonly record: MasterRecord }
  /** Someone else moved the epoch first; `record` is the current record (its leader is the winner). */
  | { readonly won: false; readonly record: MasterRecord };

/** A master record as first written: its name and address, and the time of the write. */
export interface MasterSeed {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly now: number;
}

/** SENTINEL MONITOR's record: the seed and the settings MONITOR gave. */
export interface MonitorSeed extends MasterSeed {
  readonly settings: RuntimeSettings;
}

/** A leader's renewal of its epoch's lease. */
export interface RenewLeadershipRequest {
  readonly epoch: number;
  readonly sentinelId: SentinelId;
  readonly leaseUntil: number;
  readonly now: number;
}

/** A leader's end of its attempt. */
export interface MasterVotesReplicas {
  readonly record: MasterRecord | null;
  readonly votes: Vote[];
  readonly replicas: ReplicaRecord[];
}

export interface ReleaseLeadershipRequest {
  readonly epoch: number;
  readonly sentinelId: SentinelId;
  readonly now: number;
}

export interface RequestFailoverRequest {
  readonly now: number;
  readonly coordinated?: boolean;
  /**
   * A request recorded less than this long ago and not yet taken up by a sentinel counts as a failover
   * in progress (Sentinel answers a second SENTINEL FAILOVER with INPROG); an older one, which no
   * sentinel took up, is replaced. Default 0: any earlier request is replaced.
   */
  readonly pendingForMs?: number;
}

/** `requestFailover`'s condition (see the contract above). */
export function requestFailoverAllowed(record: MasterRecord, request: RequestFailoverRequest): boolean {
  if (!record.monitored || record.failoverState !== 'none') return false;
  const pending = record.failoverRequestedAt;
  return pending === null || pending < request.now - (request.pendingForMs ?? 0);
}

export type RequestFailoverResult = 'requested' | 'in-progress' | 'no-such-master';

export interface UpdateMasterSettingsRequest {
  readonly expectedVersion: number;
  readonly settings: RuntimeSettings;
  readonly now: number;
}

export type UpdateMasterSettingsResult = 'updated' | 'conflict' | 'no-such-master';

export interface AcquireLeaseRequest {
  readonly invocationId: string;
  readonly now: number;
  readonly ttlMs: number;
  /** Stored with the lease (LoopLease.handoverFrom): when the new holder becomes due to hand over (default 0). */
  readonly handoverFrom?: number;
  /** Stored with the lease (LoopLease.generation): the new holder's code and configuration (default null). */
  readonly generation?: string | null;
}

export type AcquireLeaseResult =
  /**
   * `previous` is the lease as it was before. If its holder released it (holder null), the state that
   * holder saved under its token (`getHandoverState(…, { token: previous.token })`) is for the new holder.
   */
  | { readonly acquired: true; readonly lease: LoopLease; readonly previous: LoopLease | null }
  | { readonly acquired: false; readonly current: LoopLease };

/** The holder's renewal of its loop lease (also its TILT flag and summary, for operators). */
export interface RenewLeaseRequest {
  readonly invocationId: string;
  readonly token: number;
  readonly now: number;
  readonly ttlMs: number;
  readonly tilt: boolean;
  readonly summary: string | null;
}

/** The holder's release of its loop lease. */
export interface ReleaseLeaseRequest {
  readonly invocationId: string;
  readonly token: number;
  readonly now: number;
}

export type RenewLeaseResult =
  | { readonly renewed: true; readonly lease: LoopLease }
  /** The lease was taken over (or expired and re-acquired): the caller must stop at once. */
  | { readonly renewed: false; readonly current: LoopLease | null };

/**
 * The coordination store. Atomicity contract (each line is one conditional write on one item):
 *
 * - `ensureMaster`: create the master record only if absent; never overwrite an existing one
 *   (the recorded master wins over the config's monitor line). Returns the record in force. A record it
 *   creates has origin { source: 'config', host, port } (the seed's address).
 * - `claimEpoch`: succeeds only if the record's currentEpoch equals `expectedEpoch` and, for 'start', no
 *   failover is in progress (failoverState 'none'), or, for 'resume', one is in progress and its leader's
 *   lease has expired (leaderLeaseUntil < now). Sets currentEpoch = expectedEpoch + 1, leader = caller and
 *   the lease in the same write ('start' also sets failoverState (claimStartState) and the progress). Exactly
 *   one of any number of concurrent claims for the same expectedEpoch wins; the losers get the record.
 * - `requestFailover`: only if the record exists, failoverState is 'none' and no request is pending that
 *   was recorded within the last `pendingForMs` (a sentinel takes a request up with its claim).
 * - `advanceFailover`: only if currentEpoch = epoch, leader = caller and failoverState ∈ from. This is
 *   the fence on every topology step: a leader that lost its epoch can record nothing more.
 * - `renewLeadership` / `releaseLeadership`: only if currentEpoch = epoch and leader = caller.
 * - `putVote`: only if no vote exists for (master, sentinel) or the stored vote's token ≤ the new token
 *   (fencing: an invocation that lost its lease cannot overwrite its successor's vote).
 * - `acquireLease`: only if no lease exists, or it was released (holder null), or leaseUntil < now.
 *   Increments the token in the same write.
 * - `renewLease` / `releaseLease`: only if holder = invocationId and token matches.
 * - `requestHandover`: only if the lease exists; records the requester.
 * - `putHandoverState`: only if no state is stored for the sentinel or the stored one's token is not
 *   newer (an invocation that lost its lease cannot overwrite its successor's state). The state is a
 *   separate item from the lease, written once at release and read once at start, so the lease item
 *   that every heartbeat rewrites stays small.
 * - `origin` (MasterRecord): written only by `ensureMaster` (creating) and `monitorMaster` (creating or
 *   reviving: { source: 'monitor', host, port } of the MONITOR). Every other write keeps it, including a
 *   failover that moves the address: it names the replication group a password is bound to.
 *
 * The change counter. Every write that changes a master record or the masters' index (ensureMaster
 * creating, claimEpoch won, advanceFailover, requestFailover, renewLeadership, releaseLeadership,
 * monitorMaster, removeMaster, updateMasterSettings, resetMaster) is followed by an increment of one
 * counter, `getChangeCounter`. A write whose outcome is unknown (the request failed after it may have
 * landed) increments it too; a write refused by its condition does not. Votes, leases, replicas and
 * hand-over states do not move it. The increment is a separate write AFTER the record's: a reader that
 * sees the counter unchanged knows no change completed before the read, except a change whose increment
 * has not landed yet or was lost (the writer died in between, or the store failed the increment). So a
 * reader may use it to skip re-reading records, never for safety (every topology write is conditional on
 * the record itself), and must re-read everything now and then as a backstop against a lost increment.
 * A write returns once its increment has landed, except a failover's own writes (claimEpoch,
 * advanceFailover), which return at once and leave it in flight: `settle` waits for those.
 *
 * Reads that a decision depends on (`getMaster`, `listMasters`, `listVotes`, `getLease`,
 * `getChangeCounter`) are strongly consistent. Conflicts are results, not exceptions. Any other failure
 * throws StoreUnavailableError. Times are milliseconds since the epoch, passed in by the caller (the core
 * reads no clock).
 */
export interface SentinelStore {
  ensureMaster(seed: MasterSeed): Promise<MasterRecord>;
  getMaster(name: string): Promise<MasterRecord | null>;
  /**
   * Every master record (removed ones included), by name. A fixed number of requests for any number of
   * masters on DynamoDB: one Query of the index and batched reads of the records, not one read each.
   */
  listMasters(): Promise<MasterRecord[]>;
  /**
   * The change counter (see above): 0 before the first change, null when the stored counter is not a
   * count (a hand edit: increments fail on it, so a reader must treat every read as a change). One small
   * strongly consistent read.
   */
  getChangeCounter(): Promise<number | null>;
  /**
   * Resolves once every change-counter increment this store has sent has landed or failed; never
   * rejects. Whoever ran a failover's writes calls it before it ends (a Lambda container is frozen once
   * its handler returns, and an increment still in flight would be lost).
   */
  settle(): Promise<void>;
  claimEpoch(name: string, request: ClaimEpochRequest): Promise<ClaimEpochResult>;
  renewLeadership(name: string, request: RenewLeadershipRequest): Promise<boolean>;
  advanceFailover(name: string, request: AdvanceFailoverRequest): Promise<AdvanceFailoverResult>;
  /**
   * SENTINEL FAILOVER: records a request for a forced failover, only if none is in progress. The
   * sentinels start it at their next tick (a 'start' claim clears the request).
   */
  requestFailover(name: string, request: RequestFailoverRequest): Promise<RequestFailoverResult>;
  /** Ends the leader's attempt: failoverState back to 'none', lease cleared; epochs unchanged. */
  releaseLeadership(name: string, request: ReleaseLeadershipRequest): Promise<boolean>;

  /**
   * SENTINEL MONITOR: creates the record, or revives a removed one, only if no monitored record of that
   * name exists. A revived record starts a new configuration: currentEpoch and configEpoch both become the
   * old currentEpoch + 1 (epochs never go back, and no vote about the old configuration counts). Its
   * origin becomes { source: 'monitor', host, port }: a new incarnation, which a password bound to the
   * old one does not follow. Then forgets the name's replica records, as RESET does (not atomically):
   * the old incarnation's replicas are not this one's, and would otherwise be probed with its password.
   */
  monitorMaster(seed: MonitorSeed): Promise<'created' | 'duplicate'>;
  /**
   * SENTINEL REMOVE: only if the record exists and is monitored. Keeps it as a tombstone (monitored
   * false, epochs kept) and ends any failover or request: a leader still running is fenced at its next step.
   */
  removeMaster(name: string, request: { now: number }): Promise<boolean>;
  /**
   * SENTINEL SET: replaces the runtime settings, only if the record is monitored and its settingsVersion
   * is still `expectedVersion` (the caller validated against that version); increments the version.
   */
  updateMasterSettings(
    name: string,
    request: UpdateMasterSettingsRequest,
  ): Promise<UpdateMasterSettingsResult>;
  /**
   * SENTINEL RESET: only if monitored. Sets resetAt, ends any failover, its request and the retry delay
   * (epochs kept), then forgets the master's replica records.
   */
  resetMaster(name: string, request: { now: number }): Promise<boolean>;

  putVote(vote: Vote): Promise<'written' | 'fenced'>;
  listVotes(master: string): Promise<Vote[]>;
  /**
   * A master's record (null when it has none), its votes and its replicas, as getMaster, listVotes and
   * listReplicas give them, in one strongly consistent request on DynamoDB: what a sentinel reads at every
   * tick while the master looks down (one request instead of two, a quarter of the store's load in the
   * first moments of a failover), and what SENTINEL MASTER, REPLICAS and a claim need.
   */
  getMasterVotesReplicas(master: string): Promise<MasterVotesReplicas>;

  getLease(sentinelId: SentinelId): Promise<LoopLease | null>;
  listLeases(): Promise<LoopLease[]>;
  acquireLease(sentinelId: SentinelId, request: AcquireLeaseRequest): Promise<AcquireLeaseResult>;
  renewLease(sentinelId: SentinelId, request: RenewLeaseRequest): Promise<RenewLeaseResult>;
  requestHandover(sentinelId: SentinelId, request: { invocationId: string }): Promise<LoopLease | null>;
  releaseLease(sentinelId: SentinelId, request: ReleaseLeaseRequest): Promise<boolean>;
  /**
   * Saves the hand-over state of the holder of lease `token` (before it releases the lease). False when a
   * state with a newer token is stored already (the caller lost its lease).
   */
  putHandoverState(sentinelId: SentinelId, request: { token: number; state: string }): Promise<boolean>;
  /** The hand-over state saved under exactly this lease token, or null (none, or another token's). */
  getHandoverState(sentinelId: SentinelId, request: { token: number }): Promise<string | null>;

  upsertReplica(replica: ReplicaRecord): Promise<void>;
  listReplicas(master: string): Promise<ReplicaRecord[]>;
}

// ---------------------------------------------------------------------------------------------------------
// The contract's record transitions, as pure functions: the in-memory store applies them after checking
// the condition, the simulation's teeth apply them without it. The DynamoDB store writes the same
// transitions as update expressions (lib/adapters/dynamodb/expressions.ts); the contract suite holds the
// stores to the same results.

/** `claimEpoch`'s condition (see the contract above). */
export function claimEpochAllowed(record: MasterRecord, request: ClaimEpochRequest): boolean {
  if (record.currentEpoch !== request.expectedEpoch) return false;
  return request.mode === 'start'
    ? record.failoverState === 'none'
    : record.failoverState !== 'none' && record.leaderLeaseUntil < request.now;
}

/**
 * The state a 'start' claim enters: select_slave, or send_slaveof_noone when the claimant already chose
 * the replica (its progress names it): the claim then records the choice too, one write instead of two.
 */
export function claimStartState(progress: FailoverProgress): 'select_slave' | 'send_slaveof_noone' {
  return progress.promoted === null ? 'select_slave' : 'send_slaveof_noone';
}

/**
 * The record a won claim writes: the next epoch, led by the caller, with its lease. 'start' also begins
 * the failover (claimStartState, the progress) and clears a manual request; 'resume' keeps the recorded
 * state and progress. `request.progress` is taken as is: a caller that must not share it copies it first.
 */
export function claimedRecord(record: MasterRecord, request: ClaimEpochRequest): MasterRecord {
  const claimed: MasterRecord = {
    ...record,
    currentEpoch: request.expectedEpoch + 1,
    leader: request.sentinelId,
    leaderLeaseUntil: request.leaseUntil,
    updatedAt: request.now,
  };
  return request.mode === 'start'
    ? {
        ...claimed,
        failoverState: claimStartState(request.progress),
        failoverStartedAt: request.now,
        failover: request.progress,
        failoverRequestedAt: null,
        failoverRequestCoordinated: false,
      }
    : claimed;
}

/** The fence of `advanceFailover`, `renewLeadership` and `releaseLeadership`: the caller leads the epoch. */
export function leadsEpoch(
  record: MasterRecord | undefined | null,
  request: { readonly epoch: number; readonly sentinelId: SentinelId },
): record is MasterRecord {
  return (
    record !== undefined &&
    record !== null &&
    record.currentEpoch === request.epoch &&
    record.leader === request.sentinelId
  );
}

/** `advanceFailover`'s condition: the caller leads the epoch and the record is in one of the `from` states. */
export function advanceFailoverAllowed(
  record: MasterRecord | undefined | null,
  request: AdvanceFailoverRequest,
): record is MasterRecord {
  return leadsEpoch(record, request) && request.from.includes(record.failoverState);
}

/**
 * The record a failover step writes: the new state and progress, the renewed lease; at promotion the
 * new address with configEpoch = epoch; on abort the retry delay. `request.progress` is taken as is.
 */
export function advancedRecord(record: MasterRecord, request: AdvanceFailoverRequest): MasterRecord {
  return {
    ...record,
    failoverState: request.to,
    failover: request.progress,
    leaderLeaseUntil: request.leaseUntil,
    updatedAt: request.now,
    ...(request.switchTo
      ? { host: request.switchTo.host, port: request.switchTo.port, configEpoch: request.epoch }
      : {}),
    ...(request.retryNotBefore !== undefined ? { retryNotBefore: request.retryNotBefore } : {}),
  };
}

/**
 * The lease `acquireLease` writes: held by the caller's invocation, the fencing token one above the
 * previous lease's, no hand-over asked for; the previous holder's summary stays until the new holder
 * writes its own.
 */
export function acquiredLease(
  sentinelId: SentinelId,
  request: AcquireLeaseRequest,
  previous: LoopLease | null,
): LoopLease {
  return {
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
}

/** Options for talking to one Redis instance. */
export interface RedisProbeOptions {
  /** Hard timeout for connect + command; must be below down-after. */
  readonly timeoutMs: number;
  readonly authUser?: string;
  readonly authPass?: string;
  readonly tls?: TlsSettings;
  /** rename-command map: lower-case command → name to send. */
  readonly renamedCommands?: Readonly<Record<string, string>>;
  /** CLIENT SETNAME value (Sentinel uses `sentinel-<id8>-cmd`). */
  readonly clientName?: string;
  /** Clock (ms since epoch) used for sentAt / completedAt. */
  readonly now: () => number;
  /**
   * Called when an established connection is closed by the other side (server killed or restarted,
   * CLIENT KILL), not when the probe drops it itself. Lets the caller try again at once, as Sentinel
   * does when its link drops, instead of noticing only at the next probe period.
   */
  readonly onConnectionLost?: () => void;
}

/**
 * One connection's worth of probing of one Redis instance.
 * Contract: `ping()` and `info()` never throw and always settle within timeoutMs plus a small slack,
 * whatever the server does (killed, SIGSTOPed, black-holed, replying garbage). After a timeout the
 * connection is dropped so nothing queues behind a dead socket; the next call reconnects.
 */
export interface RedisProbe {
  readonly address: Address;
  ping(): Promise<PingOutcome>;
  info(): Promise<InfoOutcome>;
  close(): Promise<void>;
}

export type RedisProbeFactory = (address: Address, options: RedisProbeOptions) => RedisProbe;

export type ReplicaOfResult =
  /** `warning`: the role changed but persisting it (CONFIG REWRITE) failed for another reason than no file. */
  { readonly ok: true; readonly warning?: string } | { readonly ok: false; readonly reason: string };

/**
 * Topology changes on one Redis instance. Contract: never throws, settles within the timeout, and sends
 * each reconfiguration as ONE transaction, like Sentinel: MULTI, REPLICAOF <master> (or NO ONE),
 * CONFIG REWRITE, CLIENT KILL TYPE normal, CLIENT KILL TYPE pubsub, EXEC. The CLIENT KILLs make clients
 * reconnect and look the master up again. CONFIG REWRITE failing because the server runs without a
 * config file is tolerated; REPLICAOF failing is not. Fencing (the epoch) is the caller's: it records
 * the step in the store before calling this.
 */
export interface RedisControl {
  /**
   * `ok` means REPLICAOF itself answered OK inside the transaction. For `master` null (NO ONE) that is
   * the promotion: Redis stops replicating before it replies, so the target is a master from then on;
   * the failover switches the address on this reply alone.
   */
  replicaOf(target: Address, master: Address | null): Promise<ReplicaOfResult>;
  /**
   * `FAILOVER TO <target> TIMEOUT <ms>` on a live master (Redis ≥ 6.2): it pauses writes, waits until
   * the target replica has caught up, then swaps roles. Resolves when the command is accepted.
   */
  failoverTo(master: Address, target: Address, timeoutMs: number): Promise<ReplicaOfResult>;
  /**
   * Opens, ahead of time, the connection the next `replicaOf` to `target` will use: a claim that records
   * the replica to promote prepares it while the claim's write is in flight, so REPLICAOF NO ONE does
   * not wait for a connect. Never throws; a connection that fails is not used (replicaOf connects
   * afresh). Optional: a control without connections has nothing to open.
   */
  prepare?(target: Address): void;
  /** Closes what `prepare` opened and no call used. */
  close?(): void;
}

export type RedisControlFactory = (options: RedisProbeOptions) => RedisControl;
