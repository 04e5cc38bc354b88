/**
 * The per-master decision of one sentinel tick: SDOWN, the down-vote to publish, ODOWN, failover
 * authorisation, and whether to try to lead the next epoch. Pure: everything it knows is in the input
 * (observations, the store's view, the time); everything it wants done is in the output (actions to run,
 * events to emit, the memory to carry to the next tick).
 */

import { SENTINEL_DEFAULTS } from './constants.js';
import { type EventType, type InstanceRef, instanceEvent, type MasterRef, makeEvent } from './events.js';
import type { InstanceObservation } from './observation.js';
import { countDownVotes, quorumReached, votesNeededToAuthorise } from './quorum.js';
import { newFailoverProgress } from './records.js';
import { runIdOf } from './runId.js';
import { describeSdownCause, nextSdownDeadline, type SdownCause, sdownCause } from './sdown.js';
import type {
  Address,
  FailoverProgress,
  MasterRecord,
  MasterSettings,
  SentinelEvent,
  SentinelId,
  Vote,
} from './types.js';

/** What this sentinel carries from one tick to the next for one master. */
export interface MasterMemory {
  readonly sdownSince: number | null;
  readonly odownSince: number | null;
  readonly replicaSdownSince: Readonly<Record<string, number>>;
  /** The vote as last written successfully to the store. */
  readonly voteWritten: {
    readonly down: boolean;
    readonly observedAt: number;
    readonly writtenAt: number;
  } | null;
  /** Highest epoch this sentinel has seen (for `+new-epoch`); null until the record is first read. */
  readonly knownEpoch: number | null;
  /** The (leader, epoch) pair last announced with `+vote-for-leader` or won by this sentinel. */
  readonly knownLeader: { readonly sentinelId: SentinelId; readonly epoch: number } | null;
  /** Set while this sentinel leads an epoch. */
  readonly leading: { readonly epoch: number; readonly leaseUntil: number } | null;
  /** The epoch this sentinel last tried to move on from; it never claims twice from the same epoch. */
  readonly claimedFrom: number | null;
  /** The master configuration last seen (config epoch and address), for observers' `+switch-master`. */
  readonly knownConfig: { readonly epoch: number; readonly host: string; readonly port: number } | null;
  /** When each replica was last reconfigured outside a failover (no repeat within the stable period). */
  readonly reconfiguredAt: Readonly<Record<string, number>>;
}

export const INITIAL_MEMORY: MasterMemory = {
  sdownSince: null,
  odownSince: null,
  replicaSdownSince: {},
  voteWritten: null,
  knownEpoch: null,
  knownLeader: null,
  leading: null,
  claimedFrom: null,
  knownConfig: null,
  reconfiguredAt: {},
};

export type StoreView =
  | {
      readonly status: 'ok';
      readonly record: MasterRecord;
      readonly votes: readonly Vote[];
      readonly readAt: number;
    }
  | { readonly status: 'unavailable'; readonly reason: string };

export interface MasterTickInput {
  readonly now: number;
  readonly self: SentinelId;
  readonly members: readonly SentinelId[];
  readonly settings: MasterSettings;
  readonly master: InstanceObservation;
  readonly replicas: readonly InstanceObservation[];
  readonly tilt: boolean;
  readonly store: StoreView;
  readonly memory: MasterMemory;
}

export type ClaimAction =
  | {
      readonly type: 'claim-epoch';
      readonly mode: 'start';
      readonly expectedEpoch: number;
      readonly leaseUntil: number;
      readonly progress: FailoverProgress;
    }
  | {
      readonly type: 'claim-epoch';
      readonly mode: 'resume';
      readonly expectedEpoch: number;
      readonly leaseUntil: number;
    };

export type ReconfigurationReason = 'convert-to-slave' | 'fix-slave-config';

export type MasterAction =
  | {
      readonly type: 'write-vote';
      readonly down: boolean;
      readonly observedAt: number;
      readonly configEpoch: number;
    }
  | ClaimAction
  /** Run (or keep running) the failover runner for the epoch this sentinel leads. */
  | { readonly type: 'run-failover'; readonly epoch: number }
  /** REPLICAOF the recorded master, sent to a replica that reports the wrong role or master. */
  | {
      readonly type: 'reconfigure-replica';
      readonly address: Address;
      readonly reason: ReconfigurationReason;
    };

export type MasterStatus = 'ok' | 'sdown' | 'odown' | 'unknown';

export interface MasterDecision {
  readonly memory: MasterMemory;
  readonly events: readonly SentinelEvent[];
  readonly actions: readonly MasterAction[];
  readonly status: MasterStatus;
  /** Human summary of this master for the tick line. */
  readonly summary: string;
  /** Wake the loop no later than this (an SDOWN deadline, a vote refresh, a lease renewal). */
  readonly wakeAt: number | null;
  /** While the master looks down, peers' votes are read at the fast vote-read period. */
  readonly wantsFastVoteReads: boolean;
}

/**
 * An observation is current if the last PING settled within two probe periods plus a timeout. Anything
 * older means the loop itself stalled, and a stalled loop must not vote on what it saw before.
 */
export function observationIsCurrent(
  obs: InstanceObservation,
  settings: MasterSettings,
  now: number,
): boolean {
  if (obs.lastPingSettledAt === null) return false;
  return now - obs.lastPingSettledAt <= 2 * settings.probePeriodMs + settings.probeTimeoutMs;
}

export function addressKey(address: { host: string; port: number }): string {
  return `${address.host}:${address.port}`;
}

export function decideMaster(input: MasterTickInput): MasterDecision {
  const { now, settings, memory: previous } = input;
  const masterRef: MasterRef = { name: settings.name, address: input.master.address };
  const masterInstance: InstanceRef = { kind: 'master', address: input.master.address };
  const events: SentinelEvent[] = [];
  const actions: MasterAction[] = [];
  const emit = (type: EventType, instance: InstanceRef, suffix?: string) =>
    events.push(instanceEvent(type, masterRef, instance, now, suffix));

  // --- SDOWN of the master (skipped in TILT or on a stale observation, like Sentinel in TILT) ---
  const evaluating = !input.tilt && observationIsCurrent(input.master, settings, now);
  const cause: SdownCause | null = evaluating ? sdownCause(input.master, settings, now) : null;
  let sdownSince = previous.sdownSince;
  if (evaluating) {
    if (cause && sdownSince === null) {
      sdownSince = now;
      emit('+sdown', masterInstance);
    } else if (!cause && sdownSince !== null) {
      sdownSince = null;
      emit('-sdown', masterInstance);
    }
  }
  const selfDown = evaluating && sdownSince !== null;

  // --- Replicas: SDOWN only (replicas never become ODOWN) ---
  const replicaSdownSince: Record<string, number> =
    input.replicas.length === 0 && isEmpty(previous.replicaSdownSince) ? NONE_DOWN : {};
  for (const replica of input.replicas) {
    const key = addressKey(replica.address);
    const was = previous.replicaSdownSince[key];
    const ref: InstanceRef = { kind: 'slave', address: replica.address };
    if (input.tilt || !observationIsCurrent(replica, settings, now)) {
      if (was !== undefined) replicaSdownSince[key] = was;
      continue;
    }
    const down = sdownCause(replica, settings, now) !== null;
    if (down) replicaSdownSince[key] = was ?? now;
    if (down && was === undefined) emit('+sdown', ref);
    if (!down && was !== undefined) emit('-sdown', ref);
  }

  // --- The down-vote this sentinel publishes: written on change, refreshed while down ---
  const written = previous.voteWritten;
  const voteIsDue =
    written === null ||
    written.down !== selfDown ||
    (selfDown && now - written.writtenAt >= settings.voteRefreshMs);
  // The vote is about the configuration this sentinel is probing (it repoints when the record switches).
  const voteConfigEpoch =
    input.store.status === 'ok' ? input.store.record.configEpoch : (previous.knownConfig?.epoch ?? 0);
  if (voteIsDue)
    actions.push({ type: 'write-vote', down: selfDown, observedAt: now, configEpoch: voteConfigEpoch });

  // --- ODOWN and authorisation ---
  const store = input.store;
  const count = countDownVotes({
    self: input.self,
    selfDown,
    members: input.members,
    votes: store.status === 'ok' ? store.votes : [],
    voteMaxAgeMs: settings.voteMaxAgeMs,
    configEpoch: store.status === 'ok' ? store.record.configEpoch : (previous.knownConfig?.epoch ?? 0),
    now,
  });
  const downCount = count.downVoters.length;
  const neededToAuthorise = votesNeededToAuthorise(settings.quorum, input.members.length);
  let odownSince = previous.odownSince;
  if (evaluating) {
    const odown = selfDown && quorumReached(downCount, settings.quorum);
    if (odown && odownSince === null) {
      odownSince = now;
      emit('+odown', masterInstance, `#quorum ${downCount}/${settings.quorum}`);
    } else if (!odown && odownSince !== null) {
      odownSince = null;
      emit('-odown', masterInstance);
    }
  }
  const odown = odownSince !== null && selfDown;
  const authorised = odown && downCount >= neededToAuthorise;

  // --- Epochs, leadership and failovers, as recorded in the store ---
  let knownEpoch = previous.knownEpoch;
  let knownLeader = previous.knownLeader;
  let knownConfig = previous.knownConfig;
  let leading = previous.leading;
  let claimedFrom = previous.claimedFrom;
  // Copied only when a reconfiguration is added: most ticks add none.
  let reconfiguredAt: Record<string, number> = previous.reconfiguredAt;
  let leadershipNote = '';
  if (store.status === 'ok') {
    const record = store.record;
    if (knownEpoch === null) {
      // First read after start: adopt what is recorded without announcing it, like Sentinel loading its config.
      knownEpoch = record.currentEpoch;
      if (record.leader !== null) knownLeader = { sentinelId: record.leader, epoch: record.currentEpoch };
    }
    if (record.currentEpoch > knownEpoch) {
      knownEpoch = record.currentEpoch;
      events.push(makeEvent('+new-epoch', String(record.currentEpoch), settings.name, now));
    }
    if (
      record.leader !== null &&
      record.leader !== input.self &&
      (knownLeader === null ||
        knownLeader.sentinelId !== record.leader ||
        knownLeader.epoch !== record.currentEpoch)
    ) {
      knownLeader = { sentinelId: record.leader, epoch: record.currentEpoch };
      // Sentinel names the leader by its run id, the id SENTINEL SENTINELS lists it under.
      events.push(
        makeEvent('+vote-for-leader', `${runIdOf(record.leader)} ${record.currentEpoch}`, settings.name, now),
      );
    }
    if (knownConfig === null) {
      knownConfig = { epoch: record.configEpoch, host: record.host, port: record.port };
    } else if (record.configEpoch > knownConfig.epoch) {
      // A failover led by another sentinel switched the master: this sentinel follows, as Sentinel's
      // observers do on a hello with a newer config. The leader announces its own at the end.
      if (
        record.leader !== input.self &&
        (record.host !== knownConfig.host || record.port !== knownConfig.port)
      ) {
        const payload = `${settings.name} ${knownConfig.host} ${knownConfig.port} ${record.host} ${record.port}`;
        events.push(makeEvent('+switch-master', payload, settings.name, now));
      }
      knownConfig = { epoch: record.configEpoch, host: record.host, port: record.port };
    }
    if (leading && (record.currentEpoch !== leading.epoch || record.leader !== input.self)) {
      leadershipNote = `lost leadership of epoch ${leading.epoch}`;
      leading = null;
    }

    const inProgress = record.failoverState !== 'none';
    // The lease holds through its last millisecond, as the store's claim condition has it (ports.ts
    // claimEpochAllowed: leaderLeaseUntil < now). A claim sent at that very millisecond would lose, and
    // no second claim is made from the same epoch: the take-over would wait for another epoch.
    const leaderActive = record.leader !== null && inProgress && record.leaderLeaseUntil >= now;
    const viewIsCurrent = now - store.readAt <= settings.probePeriodMs;
    if (!input.tilt && viewIsCurrent) {
      if (!inProgress) {
        // SENTINEL FAILOVER: forced, no ODOWN or authorisation needed, no retry delay.
        const requested = record.failoverRequestedAt !== null;
        const automatic = authorised && now >= record.retryNotBefore;
        if ((requested || automatic) && claimedFrom !== record.currentEpoch) {
          const epoch = record.currentEpoch + 1;
          actions.push({
            type: 'claim-epoch',
            mode: 'start',
            expectedEpoch: record.currentEpoch,
            leaseUntil: now + settings.leaderLeaseMs,
            progress: newFailoverProgress(record, {
              forced: requested,
              coordinated: requested && record.failoverRequestCoordinated,
            }),
          });
          claimedFrom = record.currentEpoch;
          knownEpoch = Math.max(knownEpoch, epoch);
          events.push(makeEvent('+new-epoch', String(epoch), settings.name, now));
          emit('+try-failover', masterInstance);
        }
      } else if (record.leader === input.self) {
        // This sentinel leads the failover in progress (just elected, or a new invocation of it): run it.
        leading = { epoch: record.currentEpoch, leaseUntil: record.leaderLeaseUntil };
        actions.push({ type: 'run-failover', epoch: record.currentEpoch });
      } else if (!leaderActive && claimedFrom !== record.currentEpoch) {
        // The leader of a failover in progress stopped renewing: take it over where it stands.
        actions.push({
          type: 'claim-epoch',
          mode: 'resume',
          expectedEpoch: record.currentEpoch,
          leaseUntil: now + settings.leaderLeaseMs,
        });
        claimedFrom = record.currentEpoch;
        knownEpoch = Math.max(knownEpoch, record.currentEpoch + 1);
        events.push(makeEvent('+new-epoch', String(record.currentEpoch + 1), settings.name, now));
        leadershipNote = `taking over the failover of epoch ${record.currentEpoch} from ${record.leader ?? 'nobody'}`;
      }

      // --- Reconciliation outside a failover, only while the recorded master looks sane ---
      if (!inProgress && masterIsSane(input, record, sdownSince)) {
        for (const replica of input.replicas) {
          const key = addressKey(replica.address);
          const fix = reconfigurationNeeded(
            replica,
            record,
            replicaSdownSince[key] !== undefined,
            settings,
            now,
          );
          const last = reconfiguredAt[key];
          if (fix === null || (last !== undefined && now - last < SENTINEL_DEFAULTS.roleReportStableMs))
            continue;
          if (reconfiguredAt === previous.reconfiguredAt) reconfiguredAt = { ...previous.reconfiguredAt };
          reconfiguredAt[key] = now;
          actions.push({ type: 'reconfigure-replica', address: replica.address, reason: fix });
          emit(fix === 'convert-to-slave' ? '+convert-to-slave' : '+fix-slave-config', {
            kind: 'slave',
            address: replica.address,
          });
        }
      }
    }
  }

  // --- When to wake up next ---
  const wakeTimes: number[] = [];
  if (sdownSince === null) {
    const deadline = nextSdownDeadline(input.master, settings.downAfterMs);
    if (deadline !== null) wakeTimes.push(deadline);
  }
  for (const replica of input.replicas) {
    if (replicaSdownSince[addressKey(replica.address)] !== undefined) continue;
    const deadline = nextSdownDeadline(replica, settings.downAfterMs);
    if (deadline !== null) wakeTimes.push(deadline);
  }
  if (written?.down && selfDown) wakeTimes.push(written.writtenAt + settings.voteRefreshMs);
  const wakeAt = wakeTimes.length > 0 ? Math.max(now, Math.min(...wakeTimes)) : null;

  const status: MasterStatus =
    !evaluating && sdownSince === null ? 'unknown' : odown ? 'odown' : selfDown ? 'sdown' : 'ok';
  // A healthy master's memory does not change from tick to tick: the previous object is kept then,
  // rather than a copy of it per master per tick.
  const unchanged =
    sdownSince === previous.sdownSince &&
    odownSince === previous.odownSince &&
    (replicaSdownSince === previous.replicaSdownSince ||
      sameTimes(replicaSdownSince, previous.replicaSdownSince)) &&
    knownEpoch === previous.knownEpoch &&
    knownLeader === previous.knownLeader &&
    leading === previous.leading &&
    claimedFrom === previous.claimedFrom &&
    knownConfig === previous.knownConfig &&
    reconfiguredAt === previous.reconfiguredAt;
  const memory: MasterMemory = unchanged
    ? previous
    : {
        sdownSince,
        odownSince,
        replicaSdownSince,
        voteWritten: written,
        knownEpoch,
        knownLeader,
        leading,
        claimedFrom,
        knownConfig,
        reconfiguredAt,
      };
  // The summary is text for the tick line, which shows it only for a few masters (those not OK, or
  // all of three or fewer) and only when the line is logged: built on first read, not every tick for
  // every master. Its inputs are immutable, so it reads the same whenever it is built.
  let summary: string | null = null;
  return {
    memory,
    events,
    actions,
    status,
    get summary(): string {
      summary ??= summarise({
        input,
        status,
        cause,
        downCount,
        neededToAuthorise,
        replicaSdownSince,
        note: leadershipNote,
      });
      return summary;
    },
    wakeAt,
    wantsFastVoteReads: selfDown || leading !== null,
  };
}

/** The replicaSdownSince of a master without replicas down (shared: it is never written to). */
const NONE_DOWN: Record<string, number> = Object.freeze({}) as Record<string, number>;

function isEmpty(times: Readonly<Record<string, number>>): boolean {
  for (const _ in times) return false;
  return true;
}

/** Same replicas with the same times (a map rebuilt each tick usually holds what it held). */
function sameTimes(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean {
  let count = 0;
  for (const key in a) {
    if (a[key] !== b[key]) return false;
    count += 1;
  }
  for (const _ in b) count -= 1;
  return count === 0;
}

function summarise(args: {
  input: MasterTickInput;
  status: MasterStatus;
  cause: SdownCause | null;
  downCount: number;
  neededToAuthorise: number;
  replicaSdownSince: Readonly<Record<string, number>>;
  note: string;
}): string {
  const { input, status, cause } = args;
  const { settings } = input;
  const parts: string[] = [`${settings.name} ${addressKey(input.master.address)}`];
  if (status === 'unknown') parts.push(input.tilt ? 'not judged (tilt)' : 'not judged (no current probe)');
  else if (status === 'ok') parts.push(`ok (${input.master.lastPingText ?? 'no reply yet'})`);
  else parts.push(`${status.toUpperCase()}${cause ? ` (${describeSdownCause(cause)})` : ''}`);
  parts.push(
    `down votes ${args.downCount}/${settings.quorum} quorum, ${args.neededToAuthorise} to fail over`,
  );
  if (input.store.status === 'ok') {
    const record = input.store.record;
    const leader = record.leader === null ? 'none' : record.leader === input.self ? 'me' : record.leader;
    parts.push(`epoch ${record.currentEpoch} leader ${leader} state ${record.failoverState}`);
  } else {
    parts.push(`store unavailable (${input.store.reason})`);
  }
  const replicasDown = Object.keys(args.replicaSdownSince).length;
  parts.push(`replicas ${input.replicas.length - replicasDown}/${input.replicas.length} up`);
  if (args.note) parts.push(args.note);
  return parts.join(', ');
}

/** Folds the outcome of a claim-epoch action into the memory, with Sentinel's events. */
export function applyClaimOutcome(
  memory: MasterMemory,
  action: ClaimAction,
  outcome: { won: boolean; record: MasterRecord } | { error: string },
  master: MasterRef,
  now: number,
): { memory: MasterMemory; events: SentinelEvent[] } {
  const instance: InstanceRef = { kind: 'master', address: master.address };
  if ('error' in outcome) {
    // The claim may or may not have landed; the next read of the record tells. Allow a new attempt.
    return { memory: { ...memory, claimedFrom: null }, events: [] };
  }
  const { record } = outcome;
  if (outcome.won) {
    const events = [instanceEvent('+elected-leader', master, instance, now)];
    if (action.mode === 'start')
      events.push(instanceEvent('+failover-state-select-slave', master, instance, now));
    return {
      memory: {
        ...memory,
        knownEpoch: Math.max(memory.knownEpoch ?? 0, record.currentEpoch),
        knownLeader:
          record.leader === null ? null : { sentinelId: record.leader, epoch: record.currentEpoch },
        leading: { epoch: record.currentEpoch, leaseUntil: record.leaderLeaseUntil },
      },
      events,
    };
  }
  return {
    memory: { ...memory, knownEpoch: Math.max(memory.knownEpoch ?? 0, record.currentEpoch) },
    events:
      action.mode === 'start' ? [instanceEvent('-failover-abort-not-elected', master, instance, now)] : [],
  };
}

/**
 * Sentinel's "master looks sane" before it reconfigures anything outside a failover: this sentinel sees
 * the recorded master answering, not down, reporting role master, with recent INFO.
 */
export function masterIsSane(
  input: MasterTickInput,
  record: MasterRecord,
  sdownSince: number | null,
): boolean {
  const { master, settings, now } = input;
  return (
    sdownSince === null &&
    master.address.host === record.host &&
    master.address.port === record.port &&
    observationIsCurrent(master, settings, now) &&
    master.reportedRole === 'master' &&
    master.infoAt !== null &&
    now - master.infoAt <= 2 * settings.infoPeriodMs
  );
}

/**
 * What a replica needs to follow the recorded master, if anything: the old master back as a master
 * (+convert-to-slave), or a replica following another master (+fix-slave-config). Only once what it
 * reports has been stable for the role-report period, and never for a replica that is down.
 */
export function reconfigurationNeeded(
  replica: InstanceObservation,
  record: MasterRecord,
  replicaIsDown: boolean,
  settings: MasterSettings,
  now: number,
): ReconfigurationReason | null {
  const stable = SENTINEL_DEFAULTS.roleReportStableMs;
  const info = replica.info;
  if (replicaIsDown || info === null || replica.infoAt === null) return null;
  if (!observationIsCurrent(replica, settings, now) || now - replica.infoAt > 2 * settings.infoPeriodMs)
    return null;
  // Judge only on INFO received after the record last changed (a failover's end): older INFO may show
  // the configuration the failover has just replaced.
  if (replica.infoAt <= record.updatedAt) return null;
  if (replica.reportedRole === 'master') {
    return replica.reportedRoleSince !== null && now - replica.reportedRoleSince >= stable
      ? 'convert-to-slave'
      : null;
  }
  const followsRecorded = info.masterHost === record.host && info.masterPort === record.port;
  if (followsRecorded || replica.reportedMasterSince === null) return null;
  return now - replica.reportedMasterSince >= stable ? 'fix-slave-config' : null;
}

/** Records a vote that reached the store. */
export function applyVoteWritten(
  memory: MasterMemory,
  action: Extract<MasterAction, { type: 'write-vote' }>,
  writtenAt: number,
): MasterMemory {
  return { ...memory, voteWritten: { down: action.down, observedAt: action.observedAt, writtenAt } };
}
