/**
 * The invariants, each a named function run after every simulation step over what the step changed
 * (master-record writes, votes, REPLICAOF commands, lookups) and over the clock (liveness deadlines).
 *
 * Safety:
 * - oneLeaderPerEpoch: an epoch, once led, is never led by another sentinel.
 * - epochsNeverGoBack: currentEpoch and configEpoch of the record never decrease.
 * - onePromotionPerEpoch: within one epoch at most one replica is chosen for promotion, and one config
 *   epoch names one master address.
 * - promotionAuthorised: REPLICAOF NO ONE (or FAILOVER TO) is only ever sent for the replica the record
 *   has chosen in the failover in progress, or for the recorded master itself.
 * - promotionHadQuorum: an automatic failover starts only when, at the claimer's decision time, fresh
 *   down-votes about the current configuration reached max(quorum, majority) — counted from every vote
 *   the store ever accepted, with the core's freshness rule (vote-max-age).
 * - promotedWasEligible: the promoted replica was not configured with replica-priority 0, was not the old
 *   master, had been running within the selection's no-reply limit (5 probe periods), and is the one
 *   Sentinel's rules (lib/core/selection.ts) choose from the leader's own view at the moment it chose.
 * - lookupNeverGoesBack: a client's successive lookups never return an older config epoch.
 * - noFailoverWhileMasterReachable: no automatic failover starts while the master has been running as a
 *   master and reachable by a majority of healthy sentinels for the whole window in which a down-vote
 *   could have been formed (vote-max-age + down-after + a probe period and timeout + skew). Forced
 *   (SENTINEL FAILOVER) failovers are exempt.
 *
 * Liveness:
 * - deadMasterFailedOver: the recorded master dies while no failover runs; if, from LIVENESS_LOOKBACK_MS
 *   before the death until the bound, the store works, max(quorum, majority) sentinels are healthy and
 *   untouched by faults, the others are each either as healthy, gone, or cut off from the store (at most
 *   one invocation dying on the way, say a leader mid-failover), an eligible replica runs linked to the
 *   master, no manual failover was asked, and the replica the failover chose for promotion keeps running
 *   (up, not paused) from its choice until the switch, then the record names a new master within
 *   livenessBound: down-after + leader-lease + 1.5 s of the death (the lease: a leader that dies is
 *   replaced after it). The chosen replica is exempt because the choice is final: whoever leads the
 *   failover, now or after a take-over, sends REPLICAOF NO ONE only to it (never two promoted replicas)
 *   and, as Sentinel does, gives up only at failover-timeout, after which the next try waits another
 *   failover-timeout; both are longer than the bound.
 *
 * The world adds one more: runnerNeverThrows (a SentinelRunner's run() must never reject).
 * Violations matching KNOWN_GAPS are counted apart unless the run is strict.
 */
import { addressKey } from '../core/decide.js';
import { type ReplicaCandidate, selectReplica } from '../core/selection.js';
import type { MasterRecord, MasterSettings, SentinelId, Vote } from '../core/types.js';
import type { ClaimEpochRequest } from '../ports.js';
import type { RedisCommand, SimNode } from './redis.js';
import type { RecordChange } from './store.js';
import type { Timeline } from './timeline.js';

export interface Violation {
  readonly invariant: string;
  readonly at: number;
  readonly detail: string;
  /** Set when the violation is one of the KNOWN_GAPS (reported, and failing only with --strict). */
  readonly knownGap?: KnownGap;
}

/**
 * Violations the simulation found in the current runtime, reported to its owners and tolerated until
 * fixed: each is recognised by its exact pattern (below), counted and shown in every summary with its
 * first seed, and `--strict` turns it back into a failure. Nothing else is tolerated.
 */
export const KNOWN_GAPS: Readonly<Record<string, string>> = {
  // Empty: both gaps the simulation found are fixed, and now fail as plain violations.
  // - stale-runner-promotes: lib/runtime/failover.ts sends nothing to Redis unless the runner's leader
  //   lease outlasts the command (renewing it first, which fails once the epoch moved).
  // - fresh-leader-knows-no-replica: lib/runtime/sentinel/slots.ts starts probing the replicas recorded in the
  //   store, and takes a hand-over state whose gap is a small clock skew.
};

export type KnownGap = keyof typeof KNOWN_GAPS & string;

/** What the invariants may look at: the simulation's ground truth, over time. */
export interface Truth {
  readonly settings: MasterSettings;
  readonly members: readonly SentinelId[];
  readonly skewBoundMs: number;
  /** Virtual time at the start of the run (details print times relative to it). */
  readonly start: number;
  now(): number;
  node(address: { host: string; port: number }): SimNode | undefined;
  nodes(): readonly SimNode[];
  /** The sentinel has a running, unpaused invocation holding its lease. */
  healthy(sentinel: SentinelId): Timeline;
  /** Healthy, and no fault touches it (no partition, no lost or slow replies, no pause). */
  clean(sentinel: SentinelId): Timeline;
  /** It could act but not as a healthy sentinel would: not gone, not clean, not cut off from the store. */
  harmful(sentinel: SentinelId): Timeline;
  /** Times in [from, to] at which the sentinel won an epoch claim. */
  claimsWonIn(sentinel: SentinelId, from: number, to: number): number[];
  /** Invocations of the sentinel that started with fresh observations in [from, to]. */
  freshStartsIn(sentinel: SentinelId, from: number, to: number): number;
  /** How many invocations of the sentinel were killed in [from, to]. */
  killsIn(sentinel: SentinelId, from: number, to: number): number;
  /** The sentinel's link to the node is cut. */
  cut(sentinel: SentinelId, node: SimNode): Timeline;
  /** The replica's replication link is cut. */
  replicationCut(node: SimNode): Timeline;
  /** The store answers normally (no outage, no slow replies for everyone). */
  storeNormal(): Timeline;
  /**
   * What the process's failover runner selected from: its view of the replicas and of the master, and its
   * clock, captured in the same stretch of code as its selection. Null when not captured (the runner's
   * store call was retried after the selection, so the moment was lost).
   */
  selectionView(process: string): SelectionView | null;
  /** Manual failover requests so far (times). */
  manualRequests(): readonly number[];
}

export interface SelectionView {
  readonly replicas: readonly ReplicaCandidate[];
  readonly masterSdownSince: number | null;
  readonly now: number;
}

/** What one step changed. */
export interface StepObservations {
  readonly recordChanges: readonly RecordChange[];
  readonly commands: ReadonlyArray<{ readonly command: RedisCommand; readonly record: MasterRecord | null }>;
  readonly lookups: ReadonlyArray<{ readonly caller: string; readonly record: MasterRecord | null }>;
}

/** Bound on the switch after the master's death, for deadMasterFailedOver: down-after + lease + this. */
export const LIVENESS_SLACK_MS = 1_500;

export function livenessBound(settings: MasterSettings): number {
  return settings.downAfterMs + settings.leaderLeaseMs + LIVENESS_SLACK_MS;
}

/** A fresh start this shortly before the death may not have had the master's INFO yet. */
const FRESH_START_SLACK_MS = 100;

/** How long before the death the conditions must already hold (TILT period and trigger, INFO, lease). */
export const LIVENESS_LOOKBACK_MS = 6_000;

/** State the invariants carry from one step to the next. */
export class InvariantState {
  readonly leaderOfEpoch = new Map<number, SentinelId>();
  /** The processes (invocations) that wrote to the record as the leader of each epoch. */
  readonly leaderProcesses = new Map<number, Set<string>>();
  readonly promotedInEpoch = new Map<number, string>();
  readonly addressOfConfigEpoch = new Map<number, string>();
  readonly votes: Array<{ readonly vote: Vote; readonly at: number; readonly seq: number }> = [];
  readonly lookupEpoch = new Map<string, number>();
  readonly obligations: Obligation[] = [];
  /** The master record as the store holds it now (ground truth for the checks made at a send). */
  record: MasterRecord | null = null;
}

export interface Obligation {
  readonly node: SimNode;
  readonly diedAt: number;
  readonly configEpoch: number;
  readonly deadline: number;
  readonly replicas: readonly SimNode[];
  /** The replicas the record chose for promotion in the window, each with when it was first named. */
  readonly chosen: Array<{ readonly node: SimNode; readonly at: number }>;
  /** When the record named a new master (null until then). */
  settledAt: number | null;
  /** The deadline passed and the conditions were evaluated. */
  checked: boolean;
  /** The conditions held, so the bound was promised. */
  applied: boolean;
  /** Otherwise, why not. */
  exemption: string | null;
}

const key = (a: { host: string; port: number } | null | undefined): string => (a ? addressKey(a) : '-');

/**
 * Remembers the first value seen for `key`, and returns it when a later one differs (null otherwise):
 * what an epoch, once settled, may never change.
 */
function firstSeen<K, V>(seen: Map<K, V>, key: K, value: V): V | null {
  const known = seen.get(key);
  if (known === undefined) seen.set(key, value);
  return known === undefined || known === value ? null : known;
}

function claimOf(change: RecordChange): { request: ClaimEpochRequest; won: boolean } | null {
  if (change.op !== 'claimEpoch') return null;
  const result = change.result as { won?: boolean } | undefined;
  return { request: change.args[1] as ClaimEpochRequest, won: result?.won === true };
}

/** One invariant: what a step broke, given what the invariants remember and the world's truth. */
export type Invariant = (state: InvariantState, step: StepObservations, truth: Truth) => Violation[];

// ---------------------------------------------------------------------------------------- safety

export const oneLeaderPerEpoch: Invariant = (state, step) => {
  const found: Violation[] = [];
  for (const change of step.recordChanges) {
    const { after } = change;
    if (after.leader === null) continue;
    if (change.caller === after.leader) {
      const processes = state.leaderProcesses.get(after.currentEpoch) ?? new Set<string>();
      processes.add(change.process);
      state.leaderProcesses.set(after.currentEpoch, processes);
    }
    const known = firstSeen(state.leaderOfEpoch, after.currentEpoch, after.leader);
    if (known !== null)
      found.push({
        invariant: 'oneLeaderPerEpoch',
        at: change.at,
        detail: `epoch ${after.currentEpoch} led by ${known}, then by ${after.leader} (${change.op} from ${change.process})`,
      });
  }
  return found;
};

export const epochsNeverGoBack: Invariant = (_state, step) => {
  const found: Violation[] = [];
  for (const { before, after, at, op, process } of step.recordChanges) {
    if (before === null) continue;
    if (after.currentEpoch < before.currentEpoch || after.configEpoch < before.configEpoch)
      found.push({
        invariant: 'epochsNeverGoBack',
        at,
        detail: `${op} from ${process}: epoch ${before.currentEpoch} → ${after.currentEpoch}, config epoch ${before.configEpoch} → ${after.configEpoch}`,
      });
  }
  return found;
};

export const onePromotionPerEpoch: Invariant = (state, step) => {
  const found: Violation[] = [];
  for (const { after, at, op, process } of step.recordChanges) {
    const promoted = after.failoverState !== 'none' ? after.failover?.promoted : null;
    const chosen = promoted ? firstSeen(state.promotedInEpoch, after.currentEpoch, key(promoted)) : null;
    if (chosen !== null)
      found.push({
        invariant: 'onePromotionPerEpoch',
        at,
        detail: `epoch ${after.currentEpoch} chose ${chosen}, then ${key(promoted)} (${op} from ${process})`,
      });
    const known = firstSeen(state.addressOfConfigEpoch, after.configEpoch, key(after));
    if (known !== null)
      found.push({
        invariant: 'onePromotionPerEpoch',
        at,
        detail: `config epoch ${after.configEpoch} named ${known}, then ${key(after)} (${op} from ${process})`,
      });
  }
  return found;
};

export const promotionAuthorised: Invariant = (state, step, truth) => {
  const found: Violation[] = [];
  for (const { command, record } of step.commands) {
    const promotes = command.kind === 'failover-to' || command.master === null;
    if (!promotes || record === null) continue;
    const target = key(command.target);
    const chosen =
      (record.failoverState === 'send_slaveof_noone' || record.failoverState === 'wait_promotion') &&
      key(record.failover?.promoted) === target;
    if (chosen || key(record) === target) continue;
    // The sending process led an earlier epoch in which this very replica was chosen: a stale runner.
    const stale = [...state.leaderProcesses].some(
      ([epoch, processes]) =>
        epoch < record.currentEpoch &&
        processes.has(command.process) &&
        state.promotedInEpoch.get(epoch) === target,
    );
    found.push({
      invariant: 'promotionAuthorised',
      at: truth.now(),
      detail: `${command.process} promoted ${target} while the record says master ${key(record)}, epoch ${record.currentEpoch}, state ${record.failoverState}, chosen ${key(record.failover?.promoted)}${stale ? ' (a stale runner of an earlier epoch)' : ''}`,
    });
  }
  return found;
};

export const promotionHadQuorum: Invariant = (state, step, truth) => {
  const found: Violation[] = [];
  const { settings, members } = truth;
  const needed = Math.max(settings.quorum, Math.floor(members.length / 2) + 1);
  for (const change of step.recordChanges) {
    const claim = claimOf(change);
    if (!claim?.won || claim.request.mode !== 'start' || claim.request.progress.forced) continue;
    // The core decided at `now`; the claim's lease was computed from it.
    const decidedAt = claim.request.leaseUntil - settings.leaderLeaseMs;
    const configEpoch = change.before?.configEpoch ?? 0;
    const voters = new Set<SentinelId>();
    for (const { vote, seq } of state.votes) {
      if (seq > change.seq) break;
      if (!vote.down || !members.includes(vote.sentinelId) || vote.configEpoch !== configEpoch) continue;
      if (decidedAt - vote.observedAt <= settings.voteMaxAgeMs) voters.add(vote.sentinelId);
    }
    if (voters.size < needed)
      found.push({
        invariant: 'promotionHadQuorum',
        at: change.at,
        detail: `${change.process} started a failover of epoch ${change.after.currentEpoch} with fresh down-votes from [${[...voters].join(', ')}], ${needed} needed`,
      });
  }
  return found;
};

export const promotedWasEligible: Invariant = (_state, step, truth) => {
  const found: Violation[] = [];
  const { settings } = truth;
  for (const { before, after, at, process, op } of step.recordChanges) {
    if (op !== 'advanceFailover' || after.failoverState !== 'send_slaveof_noone') continue;
    if (before?.failoverState === 'send_slaveof_noone') continue;
    const promoted = after.failover?.promoted;
    if (!promoted) continue;
    const node = truth.node(promoted);
    const silentFor = 5 * settings.probePeriodMs + settings.probeTimeoutMs + truth.skewBoundMs;
    const reason =
      node === undefined
        ? 'not a known node'
        : node.spec.priority === 0
          ? 'it has replica-priority 0'
          : key(promoted) === key(after.failover?.oldMaster)
            ? 'it is the old master'
            : node.alive.never(at - silentFor, at)
              ? `it was not running at any time in the last ${silentFor}ms`
              : selectionDisagrees(truth.selectionView(process), promoted, settings);
    if (reason)
      found.push({
        invariant: 'promotedWasEligible',
        at,
        detail: `${process} chose ${key(promoted)} in epoch ${after.currentEpoch}: ${reason}`,
      });
  }
  return found;
};

/**
 * Sentinel's rules (lib/core/selection.ts) applied to what the runner saw when it chose: the replica it
 * recorded must be the one they choose. Null when they agree or the view was not captured.
 */
function selectionDisagrees(
  view: SelectionView | null,
  promoted: { host: string; port: number },
  settings: MasterSettings,
): string | null {
  if (view === null) return null;
  const selection = selectReplica(view.replicas, {
    settings,
    masterSdownSince: view.masterSdownSince,
    now: view.now,
  });
  if (key(selection.chosen?.address) === key(promoted)) return null;
  const rejected = selection.rejected.find((r) => key(r) === key(promoted));
  return `Sentinel's rules on the leader's own view choose ${key(selection.chosen?.address)}${rejected ? ` and reject it: ${rejected.reason}` : ''}`;
}

export const lookupNeverGoesBack: Invariant = (state, step, truth) => {
  const found: Violation[] = [];
  for (const { caller, record } of step.lookups) {
    if (record === null) continue;
    const seen = state.lookupEpoch.get(caller) ?? Number.NEGATIVE_INFINITY;
    if (record.configEpoch < seen)
      found.push({
        invariant: 'lookupNeverGoesBack',
        at: truth.now(),
        detail: `${caller} was told config epoch ${seen}, then ${record.configEpoch} (${key(record)})`,
      });
    state.lookupEpoch.set(caller, Math.max(seen, record.configEpoch));
  }
  return found;
};

/** The window in which a down-vote that counts at `t` can have been formed. */
export function reachabilityWindow(truth: Truth): number {
  const s = truth.settings;
  return s.voteMaxAgeMs + s.downAfterMs + s.probePeriodMs + s.probeTimeoutMs + 2 * truth.skewBoundMs;
}

export const noFailoverWhileMasterReachable: Invariant = (_state, step, truth) => {
  const found: Violation[] = [];
  for (const change of step.recordChanges) {
    const claim = claimOf(change);
    if (!claim?.won || claim.request.mode !== 'start' || claim.request.progress.forced) continue;
    const old = truth.node(claim.request.progress.oldMaster);
    if (old === undefined) continue;
    const from = change.at - reachabilityWindow(truth);
    if (!old.healthyMaster.throughout(from, change.at)) continue;
    const seeing = truth.members.filter(
      (s) => truth.healthy(s).throughout(from, change.at) && truth.cut(s, old).never(from, change.at),
    );
    if (seeing.length >= Math.floor(truth.members.length / 2) + 1)
      found.push({
        invariant: 'noFailoverWhileMasterReachable',
        at: change.at,
        detail: `${change.process} started a failover of ${key(old.address)} (epoch ${change.after.currentEpoch}) though it ran as master, reachable by [${seeing.join(', ')}], since ${change.at - from}ms before`,
      });
  }
  return found;
};

// ---------------------------------------------------------------------------------------- liveness

/** Registers the death of the recorded master (called by the world when it kills a node). */
export function noteMasterDeath(state: InvariantState, truth: Truth, node: SimNode): void {
  const record = state.record;
  const now = truth.now();
  if (record === null || key(record) !== node.key) return;
  if (record.failoverState !== 'none' || record.retryNotBefore > now - truth.skewBoundMs) return;
  const replicas = truth
    .nodes()
    .filter(
      (r) =>
        r !== node &&
        r.up &&
        r.role === 'replica' &&
        r.linkUp &&
        key(r.master) === node.key &&
        r.spec.priority !== 0,
    );
  state.obligations.push({
    node,
    diedAt: now,
    configEpoch: record.configEpoch,
    deadline: now + livenessBound(truth.settings),
    replicas,
    chosen: [],
    settledAt: null,
    checked: false,
    applied: false,
    exemption: null,
  });
}

export const deadMasterFailedOver: Invariant = (state, step, truth) => {
  for (const change of step.recordChanges) {
    for (const obligation of state.obligations) {
      if (obligation.settledAt !== null) continue;
      if (change.after.configEpoch > obligation.configEpoch) {
        obligation.settledAt = change.at;
        continue;
      }
      if (obligation.checked) continue;
      const promoted = change.after.failover?.promoted;
      const node = promoted ? truth.node(promoted) : undefined;
      if (node && change.at >= obligation.diedAt && !obligation.chosen.some((c) => c.node === node))
        obligation.chosen.push({ node, at: change.at });
    }
  }
  const found: Violation[] = [];
  const now = truth.now();
  for (const obligation of state.obligations) {
    if (obligation.checked || now < obligation.deadline) continue;
    obligation.checked = true;
    obligation.exemption = livenessExemption(obligation, truth);
    obligation.applied = obligation.exemption === null;
    if (!obligation.applied || obligation.settledAt !== null) continue;
    const since = obligation.diedAt - FRESH_START_SLACK_MS;
    const fresh = truth.members.filter((s) =>
      truth
        .claimsWonIn(s, obligation.diedAt, obligation.deadline)
        .some((t) => truth.freshStartsIn(s, since, t) > 0),
    );
    found.push({
      invariant: 'deadMasterFailedOver',
      at: now,
      detail: `master ${obligation.node.key} died at +${obligation.diedAt - truth.start}ms and no new master was recorded within ${obligation.deadline - obligation.diedAt}ms${fresh.length > 0 ? ` ([${fresh.join(', ')}] led after starting with fresh observations)` : ''}`,
    });
  }
  return found;
};

/** Why the run did not meet the conditions under which the bound is promised, or null if it did. */
export function livenessExemption(obligation: Obligation, truth: Truth): string | null {
  const from = obligation.diedAt - LIVENESS_LOOKBACK_MS;
  const to = obligation.deadline;
  if (!obligation.node.alive.never(obligation.diedAt, to)) return 'the master came back';
  if (!truth.storeNormal().throughout(from, to)) return 'the store was down or slow';
  if (truth.manualRequests().some((t) => t >= from && t <= to)) return 'a manual failover was asked';
  const needed = Math.max(truth.settings.quorum, Math.floor(truth.members.length / 2) + 1);
  const clean = truth.members.filter((s) => truth.clean(s).throughout(from, to));
  if (clean.length < needed)
    return `only [${clean.join(', ')}] were healthy and untouched throughout (${needed} needed)`;
  let kills = 0;
  for (const s of truth.members) {
    if (clean.includes(s)) continue;
    if (!truth.harmful(s).never(from, to)) return `${s} was half-working (paused, partitioned or lossy)`;
    kills += truth.killsIn(s, from, to);
  }
  if (kills > 1) return `${kills} sentinel invocations died`;
  const replica = obligation.replicas.some(
    (r) => r.alive.throughout(from, to) && truth.replicationCut(r).never(from, to),
  );
  if (!replica) return 'no eligible replica ran linked throughout';
  const switchedAt = obligation.settledAt ?? to;
  if (obligation.chosen.some((c) => !c.node.alive.throughout(c.at, switchedAt)))
    return 'the replica chosen for promotion stopped before the switch';
  return null;
}

/** Every invariant, by name, in the order they run after each step. */
export const INVARIANTS = {
  oneLeaderPerEpoch,
  epochsNeverGoBack,
  onePromotionPerEpoch,
  promotionAuthorised,
  promotionHadQuorum,
  promotedWasEligible,
  lookupNeverGoesBack,
  noFailoverWhileMasterReachable,
  deadMasterFailedOver,
} as const satisfies Record<string, Invariant>;

export type InvariantName = keyof typeof INVARIANTS;
