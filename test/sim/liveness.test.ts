/**
 * The liveness bound is promised only when the failover can finish in time. The replica a failover chose
 * is final (every leader, after a take-over too, promotes only it), and Sentinel gives up on it only at
 * failover-timeout, longer than the bound: its death between the choice and the switch exempts the window.
 */
import { describe, expect, it } from 'vitest';
import type { MasterSettings } from '../../lib/core/types.js';
import { livenessExemption, type Obligation, type Truth } from '../../lib/sim/invariants.js';
import { SimNode } from '../../lib/sim/redis.js';
import { Timeline } from '../../lib/sim/timeline.js';
import { runSchedule } from '../../lib/sim/world.js';

const CHOSEN_STOPPED = 'the replica chosen for promotion stopped before the switch';

function node(name: string, host: string, role: 'master' | 'replica'): SimNode {
  return new SimNode({ name, address: { host, port: 6379 }, role, priority: 100, lagMs: 0 }, 0);
}

/** A run where everything but the nodes is healthy throughout: only the nodes decide the exemption. */
function quietTruth(): Truth {
  const always = () => new Timeline(true, 0);
  const never = () => new Timeline(false, 0);
  const truth: Partial<Truth> = {
    settings: { quorum: 2, downAfterMs: 800, leaderLeaseMs: 2_000 } as MasterSettings,
    members: ['sentinel-a', 'sentinel-b', 'sentinel-c'],
    storeNormal: always,
    manualRequests: () => [],
    clean: always,
    harmful: never,
    killsIn: () => 0,
    replicationCut: never,
  };
  return truth as Truth;
}

/** The master dies at 10 s; the bound ends at 14.3 s; `chosen` was named for promotion at 11 s. */
function obligation(chosen: SimNode, settledAt: number | null): Obligation {
  const master = node('m', '10.0.0.1', 'master');
  master.alive.set(10_000, false);
  return {
    node: master,
    diedAt: 10_000,
    configEpoch: 0,
    deadline: 14_300,
    // Another eligible replica runs linked throughout, so only the chosen one can exempt the window.
    replicas: [chosen, node('r1', '10.0.0.2', 'replica')],
    chosen: [{ node: chosen, at: 11_000 }],
    settledAt,
    checked: false,
    applied: false,
    exemption: null,
  };
}

describe('deadMasterFailedOver: the replica chosen for promotion', () => {
  it('exempts the window when the chosen replica crashes before the switch, other replicas running', () => {
    const chosen = node('r2', '10.0.0.3', 'replica');
    chosen.alive.set(12_000, false);
    expect(livenessExemption(obligation(chosen, null), quietTruth())).toBe(CHOSEN_STOPPED);
  });

  it('exempts the window when the chosen replica is paused before the switch', () => {
    const chosen = node('r2', '10.0.0.3', 'replica');
    chosen.alive.set(11_500, false);
    chosen.alive.set(13_000, true);
    expect(livenessExemption(obligation(chosen, null), quietTruth())).toBe(CHOSEN_STOPPED);
  });

  it('still checks the window when the chosen replica runs until the switch, or stops only after it', () => {
    const running = node('r2', '10.0.0.3', 'replica');
    expect(livenessExemption(obligation(running, null), quietTruth())).toBeNull();
    const stopsAfter = node('r2', '10.0.0.3', 'replica');
    stopsAfter.alive.set(12_500, false);
    expect(livenessExemption(obligation(stopsAfter, 12_000), quietTruth())).toBeNull();
  });

  it('seed 33443: the chosen replica crashes during the take-over; exempt, not a violation', async () => {
    // The leader dies after recording its choice (10.0.0.3), that replica crashes before the lease-holder
    // after it takes over, and the take-over retries REPLICAOF NO ONE until failover-timeout, as Sentinel
    // does. If the schedule drawn from this seed ever changes, this test fails on the exemption (not
    // silently): find another seed with `npm run sim` and the reason in its "not checked" lines.
    const result = await runSchedule({ seed: 33443 });
    expect(result.violations).toEqual([]);
    expect(result.livenessExempt).toEqual([CHOSEN_STOPPED]);
  });
});
