import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../lib/adapters/memory/store.js';
import type { SentinelConfig } from '../../../lib/core/types.js';
import { storeSentinelView } from '../../../lib/resp/sentinelView.js';
import { SentinelRunner } from '../../../lib/runtime/sentinel.js';
import { FakeRedisWorld } from '../../support/fakeRedis.js';
import { type RunningSentinels, startSentinels } from '../../support/sentinels.js';
import { globalSettings, masterSettings } from '../../support/settings.js';

const master = { host: '10.0.0.1', port: 6379 };
const DOWN_AFTER_MS = 300;
const config: SentinelConfig = {
  global: globalSettings({ heartbeatPeriodMs: 100, loopLeaseMs: 1000 }),
  masters: [
    masterSettings({ ...master, downAfterMs: DOWN_AFTER_MS, probeTimeoutMs: 100, leaderLeaseMs: 2000 }),
  ],
};

let running: RunningSentinels | null = null;
afterEach(async () => {
  await running?.stop();
  running = null;
});

function clientName(id: string) {
  return `sentinel-${id}-cmd`;
}

describe('Class: SentinelRunner (fake Redis, in-memory store)', () => {
  it('elects exactly one leader when the master dies, and the other sentinels see it', async () => {
    const world = new FakeRedisWorld();
    world.set(master, 'up');
    const store = new MemoryStore();
    running = startSentinels({
      config,
      storeFor: () => store,
      probeFactoryFor: () => world.factory(),
      controlFactoryFor: () => world.controlFactory(),
    });
    await running.waitFor(() => running?.eventsOf('+monitor').length === 3, 2000, '+monitor x3');
    await new Promise((r) => setTimeout(r, 300));
    world.set(master, 'dead');
    await running.waitFor(() => running?.eventsOf('+elected-leader').length === 1, 3000, '+elected-leader');
    await running.waitFor(
      () => running?.eventsOf('+vote-for-leader').length === 2,
      3000,
      'others see the leader',
    );
    const leader = running.eventsOf('+elected-leader')[0]?.sentinelId;
    const record = await store.getMaster('mymaster');
    expect(record?.leader).toBe(leader);
    expect(record?.currentEpoch).toBe(1);
    expect(running.eventsOf('+sdown')).toHaveLength(3);
    for (const seen of running.eventsOf('+vote-for-leader')) expect(seen.payload).toBe(`${leader} 1`);
    await new Promise((r) => setTimeout(r, 500));
    expect(running.eventsOf('+elected-leader')).toHaveLength(1);
  });

  it('keeps running through a store outage without claiming, and elects a leader once the store is back', async () => {
    const world = new FakeRedisWorld();
    world.set(master, 'up');
    const store = new MemoryStore();
    running = startSentinels({
      config,
      storeFor: () => store,
      probeFactoryFor: () => world.factory(),
      controlFactoryFor: () => world.controlFactory(),
    });
    await running.waitFor(() => running?.eventsOf('+monitor').length === 3, 2000, '+monitor x3');
    store.setAvailable(false);
    world.set(master, 'dead');
    await running.waitFor(() => running?.eventsOf('+sdown').length === 3, 3000, '+sdown x3');
    await new Promise((r) => setTimeout(r, 800));
    expect(running.eventsOf('+elected-leader')).toHaveLength(0);
    expect(running.eventsOf('+try-failover')).toHaveLength(0);
    expect(running.logs.some((l) => l.message.startsWith('store unavailable'))).toBe(true);
    const ticksDuringOutage = running.runners.map((r) => r.memories().mymaster);
    expect(ticksDuringOutage.every((m) => m?.sdownSince !== null)).toBe(true);
    store.setAvailable(true);
    await running.waitFor(
      () => running?.eventsOf('+elected-leader').length === 1,
      5000,
      '+elected-leader after outage',
    );
    expect(running.logs.some((l) => l.message === 'store available again')).toBe(true);
  });

  it('hands over to a new invocation of the same sentinel without a gap, resuming its observations', async () => {
    const world = new FakeRedisWorld();
    world.set(master, 'up');
    const store = new MemoryStore();
    const first = new SentinelRunner({
      sentinelId: 'sentinel-a',
      config,
      store,
      probeFactory: world.factory(),
      controlFactory: world.controlFactory(),
      invocationId: 'first',
    });
    const firstDone = first.run();
    await new Promise((r) => setTimeout(r, 400));
    const abort = new AbortController();
    const second = new SentinelRunner({
      sentinelId: 'sentinel-a',
      config,
      store,
      probeFactory: world.factory(),
      controlFactory: world.controlFactory(),
      invocationId: 'second',
      signal: abort.signal,
    });
    const secondDone = second.run();
    const firstReport = await firstDone;
    expect(firstReport.end).toBe('handover');
    await new Promise((r) => setTimeout(r, 300));
    const lease = await store.getLease('sentinel-a');
    expect(lease?.holder).toBe('second');
    abort.abort();
    const secondReport = await secondDone;
    expect(secondReport.resumedFromHandover).toBe(true);
    expect(secondReport.end).toBe('aborted');
  });

  it('stops without writing again once another invocation has taken its lease (fencing)', async () => {
    const world = new FakeRedisWorld();
    world.set(master, 'up');
    const store = new MemoryStore();
    const stale = new SentinelRunner({
      sentinelId: 'sentinel-a',
      config,
      store,
      probeFactory: world.factory(),
      controlFactory: world.controlFactory(),
      invocationId: 'stale',
    });
    const done = stale.run();
    await new Promise((r) => setTimeout(r, 300));
    // Another invocation takes the lease as if the stale one had been frozen past its expiry.
    const taken = await store.acquireLease('sentinel-a', {
      invocationId: 'newer',
      now: Date.now() + 60_000,
      ttlMs: 120_000,
    });
    expect(taken.acquired).toBe(true);
    // The master dies right after the takeover: the stale invocation must not vote on it.
    world.set(master, 'dead');
    const report = await done;
    expect(report.end).toBe('lease-lost');
    await new Promise((r) => setTimeout(r, DOWN_AFTER_MS + 200));
    const lease = await store.getLease('sentinel-a');
    expect(lease?.holder).toBe('newer');
    const votes = await store.listVotes('mymaster');
    expect(votes).toHaveLength(1);
    expect(votes[0]).toMatchObject({ sentinelId: 'sentinel-a', invocationId: 'stale', down: false });
  });

  it('does not reach ODOWN when only one sentinel is cut off from the master (quorum 2)', async () => {
    const world = new FakeRedisWorld();
    world.set(master, 'up');
    world.cut(clientName('sentinel-a'), master);
    const store = new MemoryStore();
    running = startSentinels({
      config,
      storeFor: () => store,
      probeFactoryFor: () => world.factory(),
      controlFactoryFor: () => world.controlFactory(),
    });
    await running.waitFor(
      () => running?.eventsOf('+sdown').length === 1,
      3000,
      '+sdown by the cut-off sentinel',
    );
    await new Promise((r) => setTimeout(r, 800));
    expect(running.eventsOf('+sdown')[0]?.sentinelId).toBe('sentinel-a');
    expect(running.eventsOf('+odown')).toHaveLength(0);
    expect((await store.getMaster('mymaster'))?.currentEpoch).toBe(0);
  });
});

describe('TILT in the running loop', () => {
  it('enters TILT after the process stalls and does not vote on what it saw before the stall', async () => {
    const world = new FakeRedisWorld();
    world.set(master, 'up');
    const store = new MemoryStore();
    const tiltConfig: SentinelConfig = {
      ...config,
      global: { ...config.global, tiltTriggerMs: 1_000, tiltPeriodMs: 1_500 },
    };
    running = startSentinels({
      config: tiltConfig,
      storeFor: () => store,
      probeFactoryFor: () => world.factory(),
      controlFactoryFor: () => world.controlFactory(),
    });
    const s = running;
    await s.waitFor(() => s.eventsOf('+monitor').length === 3, 2000, '+monitor x3');
    await new Promise((r) => setTimeout(r, 300));
    world.set(master, 'dead');
    // Freeze the whole process (all three sentinels) for longer than the TILT trigger and down-after.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1_500);
    await s.waitFor(() => s.eventsOf('+tilt').length === 3, 2000, '+tilt x3');
    // Inside the TILT period nothing is judged, though the master has not answered for >1.5 s.
    await new Promise((r) => setTimeout(r, 700));
    expect(s.eventsOf('+sdown')).toHaveLength(0);
    const votes = await store.listVotes('mymaster');
    expect(votes.some((v) => v.down)).toBe(false);
    // After TILT, fresh observations are judged normally.
    await s.waitFor(() => s.eventsOf('-tilt').length === 3, 3000, '-tilt x3');
    await s.waitFor(() => s.eventsOf('+elected-leader').length === 1, 3000, '+elected-leader after TILT');
    // Two sentinels suffice for the election; wait for the third one's +sdown before checking the order.
    await s.waitFor(() => s.eventsOf('+sdown').length === 3, 3000, '+sdown x3 after TILT');
    for (const id of ['sentinel-a', 'sentinel-b', 'sentinel-c']) {
      const own = s.events.filter((e) => e.sentinelId === id).map((e) => e.type);
      expect(own.indexOf('-tilt')).toBeLessThan(own.indexOf('+sdown'));
    }
  });

  it('follows run-time configuration: MONITOR starts monitoring, SET applies, RESET and REMOVE are announced', async () => {
    const world = new FakeRedisWorld();
    world.set(master, 'up');
    const other = { host: '10.0.0.2', port: 6379 };
    world.set(other, 'up');
    const store = new MemoryStore();
    running = startSentinels({
      config,
      storeFor: () => store,
      probeFactoryFor: () => world.factory(),
      controlFactoryFor: () => world.controlFactory(),
    });
    const view = storeSentinelView(store, config);
    const about = (type: string) =>
      running?.events.filter((e) => e.type === type && e.master === 'other') ?? [];
    await running.waitFor(() => running?.eventsOf('+monitor').length === 3, 2000, '+monitor x3');

    expect(await view.monitor('other', other.host, String(other.port), '2')).toEqual({ ok: true });
    // Picked up at the next look at the master list (every 10 s).
    await running.waitFor(() => about('+monitor').length === 3, 15_000, '+monitor of other x3');
    expect(about('+monitor')[0]?.payload).toBe('master other 10.0.0.2 6379 quorum 2');

    // Sentinel's default down-after is 30 s: only the SET makes a dead master SDOWN within this test.
    expect(await view.set('other', [['down-after-milliseconds', '400']])).toEqual({ ok: true });
    await running.waitFor(() => about('+set').length === 3, 5_000, '+set x3');
    expect(about('+set')[0]?.payload).toBe('master other 10.0.0.2 6379 down-after-milliseconds 400');
    world.set(other, 'dead');
    await running.waitFor(() => about('+sdown').length === 3, 5_000, '+sdown of other x3');

    expect(await view.reset('oth*')).toBe(1);
    await running.waitFor(() => about('+reset-master').length === 3, 5_000, '+reset-master x3');

    expect(await view.remove('other')).toEqual({ ok: true });
    await running.waitFor(() => about('-monitor').length === 3, 5_000, '-monitor x3');
    const countAfterRemove = running.events.filter((e) => e.master === 'other').length;
    await new Promise((r) => setTimeout(r, 1_000));
    expect(running.events.filter((e) => e.master === 'other')).toHaveLength(countAfterRemove);
    // The configured master was never touched.
    expect(running.events.filter((e) => e.master === 'mymaster' && e.type === '+sdown')).toEqual([]);
  }, 40_000);
});
