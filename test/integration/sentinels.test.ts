/**
 * The sentinels' agreement on real processes: redis-server started and killed by PID, DynamoDB Local,
 * and a TCP proxy per sentinel in front of the master. down-after is 1000 ms.
 */
import { afterEach, describe, expect, inject, it } from 'vitest';
import { runIdOf } from '../../lib/core/runId.js';
import { type RealCluster, startRealCluster } from '../support/realCluster.js';

const DOWN_AFTER_MS = 1_000;
/** Generous bound for "it happens": several times the expected delay, so a loaded machine does not flake. */
const DETECT_WITHIN_MS = DOWN_AFTER_MS + 8_000;

let cluster: RealCluster | null = null;
afterEach(async () => {
  await cluster?.stop();
  cluster = null;
});

async function started(): Promise<RealCluster> {
  cluster = await startRealCluster({ endpoint: inject('dynamodbEndpoint'), downAfterMs: DOWN_AFTER_MS });
  const c = cluster;
  await c.sentinels.waitFor(() => c.sentinels.eventsOf('+slave').length === 6, 10_000, 'replicas discovered');
  return c;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Sentinels on real Redis and DynamoDB Local', () => {
  it('SIGKILL of the master: all reach SDOWN, ODOWN is reached, exactly one leads the new epoch and the others see it', async () => {
    const c = await started();
    await c.topology.master.kill();
    const s = c.sentinels;
    await s.waitFor(() => s.eventsOf('+elected-leader').length === 1, DETECT_WITHIN_MS, '+elected-leader');
    await s.waitFor(() => s.eventsOf('+vote-for-leader').length === 2, 5_000, 'the others see the leader');
    await s.waitFor(
      () => s.eventsOf('+sdown').filter((e) => e.payload.startsWith('master')).length === 3,
      5_000,
      '+sdown x3',
    );
    expect(s.eventsOf('+odown').length).toBeGreaterThanOrEqual(1);
    const leader = s.eventsOf('+elected-leader')[0]?.sentinelId;
    const record = await c.store.getMaster('mymaster');
    expect(record).toMatchObject({ currentEpoch: 1, leader });
    for (const seen of s.eventsOf('+vote-for-leader')) {
      expect(seen.sentinelId).not.toBe(leader);
      expect(seen.payload).toBe(`${runIdOf(leader as string)} 1`);
    }
    // The leader keeps its epoch and finishes the failover: no second election.
    await sleep(2_000);
    expect(s.eventsOf('+elected-leader')).toHaveLength(1);
    expect((await c.store.getMaster('mymaster'))?.currentEpoch).toBe(1);
  });

  it('SIGSTOP for half of down-after then SIGCONT: no ODOWN, no new epoch; a longer SIGSTOP is detected', async () => {
    const c = await started();
    const s = c.sentinels;
    await c.topology.master.pause();
    await sleep(DOWN_AFTER_MS / 2);
    c.topology.master.resume();
    await sleep(DOWN_AFTER_MS + 2_000);
    expect(s.eventsOf('+odown')).toHaveLength(0);
    expect(s.eventsOf('+sdown').filter((e) => e.payload.startsWith('master'))).toHaveLength(0);
    expect((await c.store.getMaster('mymaster'))?.currentEpoch).toBe(0);

    await c.topology.master.pause();
    try {
      await s.waitFor(
        () => s.eventsOf('+elected-leader').length === 1,
        DETECT_WITHIN_MS,
        'detection of a long SIGSTOP',
      );
      expect(s.eventsOf('+odown').length).toBeGreaterThanOrEqual(1);
    } finally {
      c.topology.master.resume();
    }
  });

  it('one sentinel cut off from the master (quorum 2): it sees SDOWN but there is no ODOWN; two cut off: ODOWN', async () => {
    const c = await started();
    const s = c.sentinels;
    c.proxies['sentinel-a']?.cut();
    await s.waitFor(
      () => s.eventsOf('+sdown').some((e) => e.sentinelId === 'sentinel-a'),
      DETECT_WITHIN_MS,
      '+sdown by a',
    );
    await sleep(2_000);
    expect(s.eventsOf('+odown')).toHaveLength(0);
    expect(
      s
        .eventsOf('+sdown')
        .filter((e) => e.payload.startsWith('master'))
        .map((e) => e.sentinelId),
    ).toEqual(['sentinel-a']);
    expect((await c.store.getMaster('mymaster'))?.currentEpoch).toBe(0);

    c.proxies['sentinel-b']?.cut();
    await s.waitFor(() => s.eventsOf('+odown').length >= 1, DETECT_WITHIN_MS, '+odown with two cut off');
    await s.waitFor(() => s.eventsOf('+elected-leader').length === 1, 5_000, 'a leader among the two');
    expect(['sentinel-a', 'sentinel-b']).toContain(s.eventsOf('+elected-leader')[0]?.sentinelId);
    expect(s.eventsOf('+sdown').some((e) => e.sentinelId === 'sentinel-c')).toBe(false);
  });
});
