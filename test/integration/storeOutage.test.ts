/**
 * DynamoDB stopped mid-run (its JVM SIGSTOPped: connections hang, nothing answers). Uses its own
 * DynamoDB Local so the shared one keeps serving the other test files.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamoDbLocal, startDynamoDbLocal } from '../support/dynamodbLocal.js';
import { type RealCluster, startRealCluster } from '../support/realCluster.js';

let dynamo: DynamoDbLocal;
let cluster: RealCluster | null = null;

beforeAll(async () => {
  dynamo = await startDynamoDbLocal();
});
afterAll(async () => {
  dynamo?.resume();
  await cluster?.stop();
  await dynamo?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('DynamoDB outage', () => {
  it('sentinels keep running, log the outage and never claim leadership; they recover when it returns', async () => {
    cluster = await startRealCluster({ endpoint: dynamo.endpoint, downAfterMs: 1_000 });
    const s = cluster.sentinels;
    await s.waitFor(() => s.eventsOf('+slave').length === 6, 10_000, 'replicas discovered');

    dynamo.pause();
    await cluster.topology.master.kill();
    await s.waitFor(
      () => s.eventsOf('+sdown').filter((e) => e.payload.startsWith('master')).length === 3,
      10_000,
      'every sentinel still judging the master',
    );
    await sleep(3_000);
    expect(s.eventsOf('+try-failover')).toHaveLength(0);
    expect(s.eventsOf('+elected-leader')).toHaveLength(0);
    for (const id of ['sentinel-a', 'sentinel-b', 'sentinel-c']) {
      expect(s.logs.some((l) => l.sentinelId === id && l.message.startsWith('store unavailable'))).toBe(true);
      // Still ticking (the +sdown above was judged during the outage), and the tick line, logged when
      // what it says changes, says the store is unavailable and the master down.
      const latest = s.logs.filter((l) => l.sentinelId === id && l.fields?.tick !== undefined).at(-1);
      expect(latest?.message).toContain('store unavailable');
      expect(latest?.fields?.storeUnavailable).toBe(true);
      expect(JSON.stringify(latest?.fields?.masters)).toContain('"status":"sdown"');
    }

    dynamo.resume();
    await s.waitFor(
      () => s.eventsOf('+elected-leader').length === 1,
      20_000,
      'a leader once DynamoDB is back',
    );
    expect(s.logs.some((l) => l.message === 'store available again')).toBe(true);
    expect((await cluster.store.getMaster('mymaster'))?.currentEpoch).toBe(1);
  });
});
