/**
 * What the sentinel loop asks of the store while nothing happens, and how quickly it still hears of
 * what does happen. Every store call goes through a counting wrapper around the in-memory store.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../lib/adapters/memory/store.js';
import type { SentinelConfig, SentinelEvent } from '../../../lib/core/types.js';
import type { SentinelStore } from '../../../lib/ports.js';
import { SentinelRunner } from '../../../lib/runtime/sentinel.js';
import { FakeRedisWorld } from '../../support/fakeRedis.js';
import { type RunningSentinels, startSentinels } from '../../support/sentinels.js';
import { globalSettings, masterSettings } from '../../support/settings.js';

const HEARTBEAT_MS = 100;
/** The lease is renewed a third of this after its last renewal: every 500 ms. */
const LOOP_LEASE_MS = 1_500;

function configWith(masters: number): SentinelConfig {
  return {
    global: globalSettings({ heartbeatPeriodMs: HEARTBEAT_MS, loopLeaseMs: LOOP_LEASE_MS }),
    masters: Array.from({ length: masters }, (_, i) =>
      masterSettings({
        name: `m${i}`,
        host: `10.0.${i >> 8}.${i & 255}`,
        port: 6379,
        downAfterMs: 300,
        probeTimeoutMs: 100,
        leaderLeaseMs: 2_000,
      }),
    ),
  };
}

/** The store, with every call counted by method, and when each method was last called. */
class CountingStore {
  readonly calls = new Map<string, number>();
  readonly lastCalledAt = new Map<string, number>();
  constructor(readonly inner: MemoryStore) {}

  count(method: string): number {
    return this.calls.get(method) ?? 0;
  }

  total(): number {
    return [...this.calls.values()].reduce((a, b) => a + b, 0);
  }

  reset(): void {
    this.calls.clear();
  }

  view(): SentinelStore {
    return new Proxy(this.inner as unknown as SentinelStore, {
      get: (target, property) => {
        const value = Reflect.get(target, property);
        if (typeof property !== 'string' || typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          this.calls.set(property, this.count(property) + 1);
          this.lastCalledAt.set(property, Date.now());
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await sleep(10);
  }
}

/** Reads of one master's items: what a healthy sentinel must not do at every heartbeat. */
const PER_MASTER_READS = [
  'getMaster',
  'listVotes',
  'getMasterVotesReplicas',
  'listReplicas',
  'listMasters',
] as const;

/**
 * Waits until the start-up's writes have been read back: each new record bumps the change counter, and
 * the heartbeat after the last bump reads every record once. On a loaded machine that heartbeat can come
 * later than a fixed pause, so this waits for a second with at least two heartbeats and no record read
 * (the loop wakes at the 300 ms probe period when nothing is due sooner). Up to 10 s: a loop that kept
 * re-reading every record would never get there, and the test fails here.
 */
async function settle(store: CountingStore): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    store.reset();
    await sleep(10 * HEARTBEAT_MS);
    if (store.count('getChangeCounter') >= 2 && store.count('listMasters') === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`no quiet second in 10 s: ${JSON.stringify(Object.fromEntries(store.calls))}`);
    }
  }
}

let stopAll: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(stopAll.map((stop) => stop()));
  stopAll = [];
});

/**
 * One sentinel's loop over `masters` healthy masters; resolves once each has been judged ok. As deployed,
 * it runs long and is not due to hand over for most of that time (`inWindow` puts it in its hand-over
 * window from the start).
 */
async function runHealthy(
  masters: number,
  store: CountingStore,
  world = new FakeRedisWorld(),
  inWindow = false,
) {
  const config = configWith(masters);
  for (const m of config.masters) world.set(m, 'up');
  const abort = new AbortController();
  const events: SentinelEvent[] = [];
  const runner = new SentinelRunner({
    sentinelId: 'sentinel-a',
    config,
    store: store.view(),
    probeFactory: world.factory(),
    controlFactory: world.controlFactory(),
    signal: abort.signal,
    stopAt: Date.now() + 60_000,
    handoverWindowMs: inWindow ? 60_000 : 1_000,
    generation: 'g1',
    onEvent: (event) => events.push(event),
  });
  const done = runner.run();
  stopAll.push(async () => {
    abort.abort();
    await done;
  });
  await until(() => events.filter((e) => e.type === '+monitor').length === masters, 3_000, '+monitor');
  await until(
    () => Object.values(runner.memories()).every((m) => m.voteWritten !== null),
    3_000,
    'every master judged and its vote written',
  );
  return { runner, events, abort, done, config, world };
}

describe('store traffic of a sentinel that sees every master healthy', () => {
  it('reads one item per heartbeat (the change counter), renews its lease a third of its time-to-live apart, and reads no master’s record or votes, for 1 or 40 masters', async () => {
    for (const masters of [1, 40]) {
      const store = new CountingStore(new MemoryStore());
      await runHealthy(masters, store);
      await settle(store);
      store.reset();
      await sleep(20 * HEARTBEAT_MS);
      // The loop wakes at the probe period (300 ms here) when nothing is due sooner: a heartbeat then.
      const heartbeats = store.count('getChangeCounter');
      expect(heartbeats, `${masters} masters: heartbeats`).toBeGreaterThanOrEqual(3);
      for (const method of PER_MASTER_READS) expect(store.count(method), `${masters}: ${method}`).toBe(0);
      // Outside its hand-over window the holder does not look at its lease between renewals.
      expect(store.count('getLease'), `${masters} masters: lease reads`).toBe(0);
      // 2 s at one renewal per 500 ms: 4, give or take the phase (and a late wake-up on a loaded machine).
      const renewals = store.count('renewLease');
      expect(renewals, `${masters} masters: renewals`).toBeGreaterThanOrEqual(2);
      expect(renewals, `${masters} masters: renewals`).toBeLessThanOrEqual(5);
      expect(renewals, `${masters} masters: fewer writes than heartbeats`).toBeLessThan(heartbeats);
      // Nothing else: no vote while the judgement does not change.
      expect(store.total(), `${masters} masters: every call`).toBe(heartbeats + renewals);
      await Promise.all(stopAll.map((stop) => stop()));
      stopAll = [];
    }
  });

  it('in its hand-over window, also reads its lease once a heartbeat (where a successor’s request shows)', async () => {
    const store = new CountingStore(new MemoryStore());
    await runHealthy(5, store, new FakeRedisWorld(), true);
    await settle(store);
    store.reset();
    await sleep(20 * HEARTBEAT_MS);
    const heartbeats = store.count('getChangeCounter');
    const renewals = store.count('renewLease');
    expect(heartbeats).toBeGreaterThanOrEqual(3);
    // A heartbeat that renews learns of a request from the renewal; every other one reads the lease.
    expect(store.count('getLease') + renewals).toBe(heartbeats);
    expect(store.total()).toBe(2 * heartbeats);
  });

  it('hands over without reading a record or writing a vote when nothing changed', async () => {
    const store = new CountingStore(new MemoryStore());
    const { config, world } = await runHealthy(40, store, new FakeRedisWorld(), true);
    await sleep(3 * HEARTBEAT_MS);
    const first = stopAll.pop();
    store.reset();
    const abort = new AbortController();
    const events: SentinelEvent[] = [];
    const second = new SentinelRunner({
      sentinelId: 'sentinel-a',
      config,
      store: store.view(),
      probeFactory: world.factory(),
      controlFactory: world.controlFactory(),
      signal: abort.signal,
      generation: 'g1',
      onEvent: (event) => events.push(event),
    });
    const done = second.run();
    stopAll.push(async () => {
      abort.abort();
      await done;
    });
    // The first invocation hands over at its next heartbeat (it was asked to by the second).
    await until(() => store.count('releaseLease') === 1, 3_000, 'the hand-over');
    await first?.();
    await until(() => store.count('getChangeCounter') >= 6, 3_000, 'a few heartbeats of the successor');
    expect(events.filter((e) => e.type === '+monitor')).toEqual([]);
    expect(Object.keys(second.snapshots())).toHaveLength(40);
    for (const method of PER_MASTER_READS) expect(store.count(method), method).toBe(0);
    expect(store.count('putVote')).toBe(0);
    expect(store.count('getHandoverState')).toBe(1);
  });

  it('still reads a master’s record and votes as soon as it looks down, and at the fast period after', async () => {
    const store = new CountingStore(new MemoryStore());
    const { config, world, events } = await runHealthy(10, store);
    store.reset();
    const down = config.masters[3];
    if (down === undefined) throw new Error('no master 3');
    world.set(down, 'dead');
    await until(() => events.some((e) => e.type === '+sdown' && e.master === 'm3'), 3_000, '+sdown of m3');
    await sleep(20 * HEARTBEAT_MS);
    // At the vote-read period (25 ms) for 2 s: dozens of reads of m3, against one per heartbeat before.
    expect(store.count('getMasterVotesReplicas')).toBeGreaterThan(20);
    // Always together, in one request: never the record or the votes alone.
    expect(store.count('getMaster')).toBe(0);
    expect(store.count('listVotes')).toBe(0);
    expect(store.count('putVote')).toBeGreaterThanOrEqual(2);
  });
});

describe('what a sentinel still hears of at once, with no per-master reads', () => {
  const master = { host: '10.0.0.1', port: 6379 };
  const replica = { host: '10.0.0.2', port: 6379 };
  const config: SentinelConfig = {
    global: globalSettings({ heartbeatPeriodMs: HEARTBEAT_MS, loopLeaseMs: 1_000 }),
    masters: [masterSettings({ ...master, downAfterMs: 300, probeTimeoutMs: 100, leaderLeaseMs: 2_000 })],
  };
  let running: RunningSentinels | null = null;
  afterEach(async () => {
    await running?.stop();
    running = null;
  });

  it('follows a failover another sentinel ran (+switch-master, new address) within a few heartbeats', async () => {
    const world = new FakeRedisWorld();
    world.set(master, 'up');
    world.set(replica, 'up');
    const store = new CountingStore(new MemoryStore());
    // sentinel-c is not running here: its failover is written to the store below, step by step.
    running = startSentinels({
      config,
      ids: ['sentinel-a', 'sentinel-b'],
      storeFor: () => store.view(),
      probeFactoryFor: () => world.factory(),
      controlFactoryFor: () => world.controlFactory(),
    });
    const s = running;
    await s.waitFor(() => s.eventsOf('+monitor').length === 2, 3_000, '+monitor x2');
    await sleep(3 * HEARTBEAT_MS);
    store.reset();
    const raw = store.inner;
    const claimed = await raw.claimEpoch('mymaster', {
      mode: 'start',
      expectedEpoch: 0,
      sentinelId: 'sentinel-c',
      leaseUntil: Date.now() + 5_000,
      progress: {
        oldMaster: master,
        promoted: null,
        rejected: [],
        promotionSentAt: null,
        replicas: [],
        forced: true,
        coordinated: false,
      },
      now: Date.now(),
    });
    expect(claimed.won).toBe(true);
    await s.waitFor(() => s.eventsOf('+vote-for-leader').length === 2, 1_500, 'both see the leader');
    const switched = await raw.advanceFailover('mymaster', {
      epoch: 1,
      sentinelId: 'sentinel-c',
      now: Date.now(),
      from: ['select_slave'],
      to: 'reconf_slaves',
      progress: null,
      leaseUntil: Date.now() + 5_000,
      switchTo: replica,
    });
    expect(switched.ok).toBe(true);
    await s.waitFor(() => s.eventsOf('+switch-master').length === 2, 1_500, '+switch-master x2');
    for (const event of s.eventsOf('+switch-master'))
      expect(event.payload).toBe('mymaster 10.0.0.1 6379 10.0.0.2 6379');
    for (const runner of s.runners) expect(runner.snapshots().mymaster?.master.address).toEqual(replica);
    // Heard through the change counter: neither sentinel read the master's record on its own.
    expect(store.count('getMaster')).toBe(0);
    expect(store.count('listVotes')).toBe(0);
    expect(store.count('getMasterVotesReplicas')).toBe(0);
  });

  it('starts a requested failover (SENTINEL FAILOVER) within a few heartbeats', async () => {
    const world = new FakeRedisWorld();
    world.set(master, 'up');
    const store = new CountingStore(new MemoryStore());
    running = startSentinels({
      config,
      storeFor: () => store.view(),
      probeFactoryFor: () => world.factory(),
      controlFactoryFor: () => world.controlFactory(),
    });
    const s = running;
    await s.waitFor(() => s.eventsOf('+monitor').length === 3, 3_000, '+monitor x3');
    await sleep(3 * HEARTBEAT_MS);
    expect(await store.inner.requestFailover('mymaster', { now: Date.now() })).toBe('requested');
    await s.waitFor(() => s.eventsOf('+elected-leader').length === 1, 1_500, 'a leader for the request');
    expect((await store.inner.getMaster('mymaster'))?.currentEpoch).toBe(1);
  });
});

describe('a lost change-counter increment', () => {
  it('is caught by the full read of every record at recordsFullReadPeriodMs', async () => {
    const FULL_READ_MS = 1_500;
    const store = new CountingStore(new MemoryStore());
    const world = new FakeRedisWorld();
    const config = configWith(1);
    world.set(config.masters[0] ?? { host: '', port: 0 }, 'up');
    const events: SentinelEvent[] = [];
    const abort = new AbortController();
    const done = new SentinelRunner({
      sentinelId: 'sentinel-a',
      config,
      store: store.view(),
      probeFactory: world.factory(),
      controlFactory: world.controlFactory(),
      signal: abort.signal,
      onEvent: (event) => events.push(event),
      recordsFullReadPeriodMs: FULL_READ_MS,
    }).run();
    stopAll.push(async () => {
      abort.abort();
      await done;
    });
    await until(() => events.some((e) => e.type === '+monitor'), 3_000, '+monitor');
    // The record this fresh start created moved the counter: the next heartbeat reads every record.
    await until(() => store.count('listMasters') >= 2, 3_000, 'the full read after the start');
    const fullReadAt = store.lastCalledAt.get('listMasters') ?? 0;
    // SENTINEL SET whose increment is lost: the record changes, the counter does not.
    store.inner.setIncrementsLost(true);
    expect(
      await store.inner.updateMasterSettings('m0', {
        expectedVersion: 0,
        settings: { quorum: 1 },
        now: Date.now(),
      }),
    ).toBe('updated');
    store.inner.setIncrementsLost(false);
    // The next full read is not due before this (less a margin for the clock read before the call).
    const notBefore = fullReadAt + FULL_READ_MS - 100;
    const heartbeatsBefore = store.count('renewLease');
    await sleep(notBefore - Date.now());
    // Heartbeats went by, the counter unchanged: the change is not seen yet.
    expect(store.count('renewLease')).toBeGreaterThan(heartbeatsBefore);
    expect(events.filter((e) => e.type === '+set')).toEqual([]);
    await until(() => events.some((e) => e.type === '+set'), FULL_READ_MS + 3_000, '+set from the full read');
    expect(events.find((e) => e.type === '+set')?.payload).toBe('master m0 10.0.0.0 6379 quorum 1');
    expect(store.count('listMasters')).toBeGreaterThanOrEqual(2);
  });

  it('is not needed when the increment lands: a SET is applied within a few heartbeats', async () => {
    const store = new CountingStore(new MemoryStore());
    const { events } = await runHealthy(1, store);
    await store.inner.updateMasterSettings('m0', {
      expectedVersion: 0,
      settings: { quorum: 1 },
      now: Date.now(),
    });
    await until(() => events.some((e) => e.type === '+set'), 1_500, '+set');
  });
});

describe('the long-running holder and the per-minute invocations', () => {
  /** A newcomer: the next scheduled invocation of the same sentinel. */
  function newcomer(
    store: CountingStore,
    config: SentinelConfig,
    world: FakeRedisWorld,
    generation: string,
    events: SentinelEvent[] = [],
  ) {
    const abort = new AbortController();
    const runner = new SentinelRunner({
      sentinelId: 'sentinel-a',
      config,
      store: store.view(),
      probeFactory: world.factory(),
      controlFactory: world.controlFactory(),
      signal: abort.signal,
      stopAt: Date.now() + 60_000,
      handoverWindowMs: 1_000,
      generation,
      onEvent: (event) => events.push(event),
    });
    const done = runner.run();
    stopAll.push(async () => {
      abort.abort();
      await done;
    });
    return { runner, done };
  }

  it('a newcomer of the same generation finds the holder running before its hand-over window and returns at once, after one read', async () => {
    const store = new CountingStore(new MemoryStore());
    const { config, world, runner: holder } = await runHealthy(3, store);
    store.reset();
    const { done } = newcomer(store, config, world, 'g1');
    const report = await done;
    expect(report.end).toBe('holder-running');
    expect(report.ticks).toBe(0);
    // One lease read; no write of any kind (no acquire attempt, no hand-over request).
    expect(store.count('getLease')).toBe(1);
    expect(store.count('acquireLease') + store.count('requestHandover') + store.count('releaseLease')).toBe(
      0,
    );
    // The holder goes on: it still holds the lease and ticks.
    const lease = await store.inner.getLease('sentinel-a');
    expect(lease?.holder).toBe(holder.invocationId);
    expect(lease?.handoverRequestedBy).toBeNull();
  });

  it('a newcomer of another generation (a deploy) takes over at the holder’s next renewal, resuming from its observations', async () => {
    const store = new CountingStore(new MemoryStore());
    const { config, world } = await runHealthy(3, store);
    const events: SentinelEvent[] = [];
    const { runner, done } = newcomer(store, config, world, 'g2', events);
    // Renewals are 500 ms apart: the hand-over comes within that, not at the holder's stop time.
    await until(() => store.count('releaseLease') === 1, 2_000, 'the holder to hand over');
    await until(
      async () => (await store.inner.getLease('sentinel-a'))?.holder === runner.invocationId,
      1_000,
      'the newcomer to hold the lease',
    );
    expect((await store.inner.getLease('sentinel-a'))?.generation).toBe('g2');
    // Resumed, not restarted: no +monitor.
    expect(events.filter((e) => e.type === '+monitor')).toEqual([]);
    expect(Object.keys(runner.snapshots())).toHaveLength(3);
    void done;
  });

  it('a newcomer in the holder’s hand-over window takes over within about a heartbeat', async () => {
    const store = new CountingStore(new MemoryStore());
    const { config, world } = await runHealthy(3, store, new FakeRedisWorld(), true);
    const started = Date.now();
    const { runner } = newcomer(store, config, world, 'g1');
    await until(() => store.count('releaseLease') === 1, 2_000, 'the holder to hand over');
    // About a heartbeat (100 ms) and a poll; far from the holder's stop time (60 s away).
    expect(Date.now() - started).toBeLessThan(1_500);
    await until(
      async () => (await store.inner.getLease('sentinel-a'))?.holder === runner.invocationId,
      1_000,
      'the newcomer to hold the lease',
    );
  });
});
