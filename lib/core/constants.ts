/**
 * Every timing default and fixed constant of the system, in one place.
 * Values marked "Sentinel" are Redis Sentinel's own (reference/sentinel.md §1.1, §4);
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
  /** Project: how long an elected leader owns its epoch without renewing (Sentinel waits 2 × failover-timeout). */
  leaderLeaseMs: 5_000,
  /** Sentinel: TILT trigger — a timer delta above this (or below 0) means the process was paused. */
  tiltTriggerMs: 2_000,
  /** Sentinel: time spent in TILT. */
  tiltPeriodMs: 30_000,
  /** Project: the per-sentinel loop lease; a crashed invocation is replaced after this. */
  loopLeaseMs: 10_000,
  /** Project: how often the loop renews its lease and writes its heartbeat. */
  heartbeatPeriodMs: 2_000,
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
   * Project: how often a sentinel lists the masters in the store, to start monitoring those added by
   * SENTINEL MONITOR (a removed or changed master is noticed sooner, at its next record read).
   */
  masterListRefreshMs: 10_000,
  /**
   * Project: a hand-over state that looks up to this far in the future is still taken: the releasing
   * and the resuming invocation run in different containers whose clocks may differ a little.
   */
  handoverSkewToleranceMs: 1_000,
  /** Project: the fixed sentinel membership when the config names none. */
  sentinelIds: ['sentinel-a', 'sentinel-b', 'sentinel-c'] as readonly string[],
} as const;

/** Sentinel: a replica is considered for promotion only if its INFO is younger than this while the master is SDOWN. */
export const SENTINEL_REDIS_PORT = 6379;
export const SENTINEL_PORT = 26379;
