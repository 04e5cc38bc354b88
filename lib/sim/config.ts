/**
 * The simulated deployment: three sentinels monitoring one master with two or three replicas, with
 * Sentinel's timings scaled down (down-after 1 s, failover-timeout 6 s, TILT period 3 s, …) so that a
 * schedule of 20 simulated seconds sees detection, election, failover, hand-overs and recovery.
 * Everything not scaled is the project's default.
 */
import { SENTINEL_DEFAULTS } from '../core/constants.js';
import type { Address, SentinelConfig } from '../core/types.js';
import type { Random } from './random.js';
import type { NodeSpec } from './redis.js';

export const SENTINEL_IDS = ['sentinel-a', 'sentinel-b', 'sentinel-c'] as const;
export const MASTER_NAME = 'mymaster';
/** Virtual time starts here (a realistic epoch-milliseconds value, far from the records' zero defaults). */
export const T0 = 1_700_000_000_000;
/** A sentinel invocation's clock is off by at most this much (NTP keeps Lambda hosts far closer). */
export const SKEW_BOUND_MS = 150;
/** A sentinel is invoked this often (every minute in production, scaled). */
export const INVOCATION_PERIOD_MS = 6_000;
/**
 * Each invocation loops until its deadline, as in functions/sentinel.ts (where it is 15 periods), scaled
 * so that a schedule sees a holder left running by the next invocation and then a hand-over.
 */
export const INVOCATION_RUN_MS = 3 * INVOCATION_PERIOD_MS - 1_000;
/**
 * The holder's hand-over window before its deadline (two periods in production): one and a half, so the
 * invocation after the one that found the holder running takes over.
 */
export const HANDOVER_WINDOW_MS = 1.5 * INVOCATION_PERIOD_MS;
/**
 * The backstop full read of every record (5 minutes in production), scaled so that a schedule sees it:
 * lost counter increments are among the faults.
 */
export const RECORDS_FULL_READ_PERIOD_MS = 3_000;

export const address = (n: number): Address => ({ host: `10.0.0.${n}`, port: 6379 });

export interface SimSetup {
  readonly config: SentinelConfig;
  readonly nodes: readonly NodeSpec[];
}

export function simSetup(rng: Random): SimSetup {
  const downAfterMs = rng.pick([800, 1_000, 1_000, 1_500]);
  const quorum = rng.pick([1, 2, 2, 2, 3]);
  const voteMaxAgeMs = rng.pick([2_500, SENTINEL_DEFAULTS.voteMaxAgeMs]);
  const replicas = rng.chance(0.7) ? 2 : 3;
  const nodes: NodeSpec[] = [{ name: 'm', address: address(1), role: 'master', priority: 100, lagMs: 0 }];
  for (let i = 0; i < replicas; i += 1) {
    nodes.push({
      name: `r${i + 1}`,
      address: address(i + 2),
      role: 'replica',
      // Sometimes a replica that must never be promoted, sometimes a preferred one.
      priority: rng.chance(0.15) ? 0 : rng.chance(0.15) ? 50 : 100,
      lagMs: rng.int(0, 40),
    });
  }
  const config: SentinelConfig = {
    global: {
      sentinelIds: SENTINEL_IDS,
      tiltTriggerMs: SENTINEL_DEFAULTS.tiltTriggerMs,
      tiltPeriodMs: 3_000,
      loopLeaseMs: 3_000,
      heartbeatPeriodMs: 1_000,
      tls: { enabled: false, rejectUnauthorized: true },
    },
    masters: [
      {
        name: MASTER_NAME,
        host: address(1).host,
        port: address(1).port,
        quorum,
        downAfterMs,
        failoverTimeoutMs: 6_000,
        parallelSyncs: 1,
        masterRebootDownAfterPeriodMs: 0,
        renamedCommands: {},
        probePeriodMs: Math.min(downAfterMs, SENTINEL_DEFAULTS.maxProbePeriodMs),
        probeTimeoutMs: Math.min(SENTINEL_DEFAULTS.maxProbeTimeoutMs, Math.floor(downAfterMs / 2)),
        infoPeriodMs: 2_000,
        // Sentinel's 5 s, or half of it: with invocations every 6 s instead of every minute, a dead
        // sentinel's last vote would otherwise be overwritten by its successor almost as soon as it expires.
        voteMaxAgeMs,
        voteRefreshMs: SENTINEL_DEFAULTS.voteRefreshMs,
        leaderLeaseMs: 2_000,
      },
    ],
  };
  return { config, nodes };
}
