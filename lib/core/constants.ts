/**
 * Every timing default and fixed constant of the system, in one place.
 * Values marked "Sentinel" are Redis Sentinel's own;
 * the others are lambda-sentinel's additions, each explained where it is used.
 */
export const SENTINEL_DEFAULTS = {
  /** Sentinel: `down-after-milliseconds`. */
  downAfterMs: 30_000,
  /** Sentinel: `failover-timeout`. */
  failoverTimeoutMs: 180_000,
  /** Sentinel: `parallel-syncs`. */
  parallelSyncs: 1,
  /** Sentinel: `master-reboot-down-after-period` (0 = off). */
  masterRebootDownAfterPeriodMs: 0,
  /** Sentinel: PING period is min(down-after, 1000). */
  maxProbePeriodMs: 1_000,
  /** Project: a probe's hard timeout is min(500, down-after / 2) unless configured. */
  maxProbeTimeoutMs: 500,
  /** Sentinel: INFO period. */
  infoPeriodMs: 10_000,
  /** Sentinel: INFO period while the master is down or a failover runs. */
  fastInfoPeriodMs: 1_000,
  /** Sentinel: peer down reports expire after 5 × ASK period. Here: a down-vote's maximum age. */
  voteMaxAgeMs: 5_000,
  /** Project: a sentinel that votes down re-writes its vote this often, so it stays fresh. */
  voteRefreshMs: 1_000,
  /**
   * Project: how often a sentinel that sees SDOWN re-reads its peers' votes (Sentinel asks every 1000 ms).
   * Fast for the first moments of an SDOWN, when peers are about to vote; slower after that, so a
   * sentinel cut off from a healthy master for hours does not poll the store 40 times a second.
   */
  voteReadPeriodMs: 25,
  voteReadFastWindowMs: 5_000,
  slowVoteReadPeriodMs: 500,
  /**
   * Project: how long before a master's SDOWN deadline its record and votes are read ahead
   * (loopSchedule.ts readAheadAt). Under the vote-read period, so that they are still fresh at the
   * deadline with 10 ms to spare for a late timer; a read slower than this delays the SDOWN tick by the
   * difference only.
   */
  sdownReadAheadMs: 15,
  /** Project: how long an elected leader owns its epoch without renewing (Sentinel waits 2 × failover-timeout). */
  leaderLeaseMs: 5_000,
  /** Sentinel: TILT trigger — a timer delta above this (or below 0) means the process was paused. */
  tiltTriggerMs: 2_000,
  /** Sentinel: time spent in TILT. */
  tiltPeriodMs: 30_000,
  /**
   * Project: the per-sentinel loop lease's time-to-live; the holder renews it a third of this after its
   * last renewal (one write a minute). An invocation that died without releasing it (out of memory, a
   * crash of the runtime) is replaced once it expires, at the next scheduled invocation after that: a
   * gap of up to 4 minutes in that one sentinel's probing, against a write every 2 s for a gap of 10 s.
   * The other two sentinels keep quorum and majority meanwhile; the loop-stale alarm reports the gap.
   */
  loopLeaseMs: 180_000,
  /**
   * Project: the loop's heartbeat: it reads the change counter (a change to any master record is seen
   * within this), and in its hand-over window looks at its lease (a successor waits at most this). Kept
   * under roleReportStableMs, so a switch made by another sentinel is seen before this one could judge a
   * promoted replica's new role stable and act on it.
   */
  heartbeatPeriodMs: 5_000,
  /** Sentinel: `resolve-hostnames` is off, so only IP addresses are monitored. */
  resolveHostnames: false,
  /** Sentinel: `announce-hostnames` is off, so replies give the IP address a host name resolves to. */
  announceHostnames: false,
  /** Sentinel: `deny-scripts-reconfig` is on, so SENTINEL SET cannot change a script path. */
  denyScriptsReconfig: true,
  /**
   * Sentinel: an instance's reported role (or followed master) must have been stable this long before it is
   * reconfigured outside a failover (4 × the hello period): +convert-to-slave, +fix-slave-config.
   */
  roleReportStableMs: 8_000,
  /** Project: how often the failover runner polls INFO while waiting for a promotion or a re-link. */
  failoverPollMs: 50,
  /** Sentinel: a replica in RECONF_SENT this long is treated as done. */
  replicaReconfTimeoutMs: 10_000,
  /**
   * Project: a sentinel reads every master record again at least this often, even when the change
   * counter says nothing changed: the backstop for a counter increment that was lost (its writer died
   * between the record write and the increment). Otherwise records are read only when the counter, read
   * at every heartbeat, moved (a change by SENTINEL MONITOR, SET, REMOVE, RESET, FAILOVER or a
   * failover step is seen within a heartbeat).
   */
  recordsFullReadPeriodMs: 300_000,
  /**
   * Project: a hand-over state that looks up to this far in the future is still taken: the releasing
   * and the resuming invocation run in different containers whose clocks may differ a little.
   */
  handoverSkewToleranceMs: 1_000,
  /**
   * Project: added to a Redis call's own timeout (probe-timeout) for the outer deadline of a probe or a
   * control command. ioredis's own timers fire first in practice; this only guarantees that the call ends.
   */
  redisCallSlackMs: 100,
  /**
   * Project: how much longer than a control command's deadline a failover runner's leader lease must
   * still run when the command is sent: room for the clock difference between this runner and a sentinel
   * that takes the epoch over once the lease has ended (lib/core/fence.ts).
   */
  leaderClockSkewMarginMs: 400,
  /** Project: the fixed sentinel membership when the config names none. */
  sentinelIds: ['sentinel-a', 'sentinel-b', 'sentinel-c'] as readonly string[],
} as const;

/**
 * Project: the loop lease is renewed this many times per time-to-live (a third of it after the last
 * renewal): two renewals can fail before it expires, and a quiet holder writes once a minute.
 */
export const LEASE_RENEWALS_PER_TTL = 3;

/** How long after its last renewal the holder renews its loop lease. */
export function leaseRenewPeriodMs(global: { readonly loopLeaseMs: number }): number {
  return global.loopLeaseMs / LEASE_RENEWALS_PER_TTL;
}

/**
 * A sentinel counts as down to its peers (SENTINEL SENTINELS flags, CKQUORUM) when its lease's
 * heartbeat is older than this: a renewal period, plus three heartbeats for a renewal delayed by a slow
 * store or a hand-over.
 */
export function sentinelHeartbeatStaleMs(global: {
  readonly loopLeaseMs: number;
  readonly heartbeatPeriodMs: number;
}): number {
  return leaseRenewPeriodMs(global) + 3 * global.heartbeatPeriodMs;
}

/**
 * Sentinel: after an attempt that did not switch the master, the next automatic failover of that master
 * starts no sooner than this many failover-timeouts after the attempt started (sentinel.c compares the
 * attempt's start time with 2 × failover-timeout). Here also never sooner than one failover-timeout
 * after the abort (retryNotBeforeAfterAbort, lib/core/failoverStep.ts).
 */
export const FAILOVER_RETRY_TIMEOUTS = 2;

/** Sentinel's default port. */
export const SENTINEL_PORT = 26379;

/** The highest TCP port: every port a user gives (config, MONITOR, CLI flags, INFO, events) is at most this. */
export const MAX_PORT = 65_535;

/**
 * Project: master names are Sentinel's charset (letters, digits, `.`, `-`, `_`) and at most this long. The
 * name is part of every table key of the master; DynamoDB refuses keys over 2048 bytes, so an unbounded
 * name would reach the store and fail there instead of being refused as a bad request.
 */
export const MAX_MASTER_NAME_LENGTH = 128;

/**
 * Project: the longest name `rename-command` may give a command. Deployments that hide commands use long
 * random names (a SHA-256 in hex is 64 characters); this leaves room for that, not for a megabyte.
 */
export const MAX_RENAMED_COMMAND_LENGTH = 128;

/** The accepted range of one numeric setting; `maximum` is the documented upper bound. */
export interface SettingLimit {
  readonly minimum: 0 | 1;
  readonly maximum: number;
  readonly unit: 'ms' | 'count';
}

const SECOND_MS = 1_000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/**
 * Every numeric setting's range, by field: the file (lib/config/parse.ts) and SENTINEL SET
 * (lib/core/settings.ts) both check these, and docs/configuration.md lists them. The upper bounds are
 * generous for any deployment; past them a value is a typo or an attack (`down-after-milliseconds
 * 999999999999999` would switch failure detection off). The minimum is 0 only where 0 means "off".
 */
export const SETTING_LIMITS = {
  downAfterMs: { minimum: 1, maximum: HOUR_MS, unit: 'ms' },
  failoverTimeoutMs: { minimum: 1, maximum: DAY_MS, unit: 'ms' },
  parallelSyncs: { minimum: 1, maximum: 1_000, unit: 'count' },
  masterRebootDownAfterPeriodMs: { minimum: 0, maximum: HOUR_MS, unit: 'ms' },
  probePeriodMs: { minimum: 1, maximum: MINUTE_MS, unit: 'ms' },
  probeTimeoutMs: { minimum: 1, maximum: MINUTE_MS, unit: 'ms' },
  infoPeriodMs: { minimum: 1, maximum: 10 * MINUTE_MS, unit: 'ms' },
  voteMaxAgeMs: { minimum: 1, maximum: 10 * MINUTE_MS, unit: 'ms' },
  voteRefreshMs: { minimum: 1, maximum: MINUTE_MS, unit: 'ms' },
  leaderLeaseMs: { minimum: 1, maximum: 10 * MINUTE_MS, unit: 'ms' },
  tiltTriggerMs: { minimum: 1, maximum: MINUTE_MS, unit: 'ms' },
  tiltPeriodMs: { minimum: 1, maximum: HOUR_MS, unit: 'ms' },
  /** A Lambda runs for at most 15 minutes: a longer loop lease would outlive every invocation. */
  loopLeaseMs: { minimum: 1, maximum: 15 * MINUTE_MS, unit: 'ms' },
  heartbeatPeriodMs: { minimum: 1, maximum: MINUTE_MS, unit: 'ms' },
} as const satisfies Record<string, SettingLimit>;

export type LimitedSetting = keyof typeof SETTING_LIMITS;
