import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../lib/adapters/memory/store.js';
import { storeSentinelView } from '../../../lib/commands/storeView.js';
import { runIdOf } from '../../../lib/core/runId.js';
import type { SentinelConfig, Vote } from '../../../lib/core/types.js';
import type { MasterVotesReplicas } from '../../../lib/ports.js';
import { type Clock, systemClock } from '../../../lib/runtime/clock.js';
import { HANDOVER_STATE_VERSION } from '../../../lib/runtime/handover.js';
import { type Log, REPEATED_FAILURE_LOG_INTERVAL_MS } from '../../../lib/runtime/log.js';
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
    for (const seen of running.eventsOf('+vote-for-leader'))
      expect(seen.payload).toBe(`${runIdOf(leader as string)} 1`);
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

/**
 * A store with a bug: while `broken`, reading a master record throws a TypeError, not the
 * StoreUnavailableError of an outage. The runner marks the store down, finds it up at the next heartbeat,
 * reads again, and meets the same error: once per heartbeat for as long as the bug lasts.
 */
/** A store whose change counter (read at every heartbeat) throws a TypeError while `broken` is set. */
class BuggyCounterStore extends MemoryStore {
  broken = false;
  thrown = 0;
  /** Reads that worked. */
  read = 0;
  override async getChangeCounter(): Promise<number | null> {
    if (this.broken) {
      this.thrown += 1;
      throw new TypeError('cannot read properties of undefined');
    }
    this.read += 1;
    return super.getChangeCounter();
  }
}

/** The system clock, plus an offset a test moves forward (a minute passes at once). */
class ShiftedClock implements Clock {
  #offsetMs = 0;
  now(): number {
    return systemClock.now() + this.#offsetMs;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return systemClock.sleep(ms, signal);
  }
  advance(ms: number): void {
    this.#offsetMs += ms;
  }
}

/**
 * A store whose vote list comes back malformed while `broken` is set: every tick of a master whose votes
 * are read (it looks down) throws.
 */
class MalformedVotesStore extends MemoryStore {
  broken = false;
  override async listVotes(master: string): Promise<Vote[]> {
    if (this.broken) return null as unknown as Vote[];
    return super.listVotes(master);
  }
  override async getMasterVotesReplicas(master: string): Promise<MasterVotesReplicas> {
    const read = await super.getMasterVotesReplicas(master);
    return this.broken ? { ...read, votes: null as unknown as Vote[] } : read;
  }
}

interface LogLine {
  level: string;
  message: string;
  fields?: Record<string, unknown>;
}

async function until(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('the tick line', () => {
  it('is logged when what it says changes, not at every tick of a quiet loop', async () => {
    const world = new FakeRedisWorld();
    world.set(master, 'up');
    const logs: LogLine[] = [];
    const abort = new AbortController();
    const runner = new SentinelRunner({
      sentinelId: 'sentinel-a',
      config,
      store: new MemoryStore(),
      probeFactory: world.factory(),
      controlFactory: world.controlFactory(),
      log: (level, message, fields) => logs.push({ level, message, fields }),
      signal: abort.signal,
    });
    const done = runner.run();
    const tickLines = () => logs.filter((l) => typeof l.fields?.tick === 'number');
    try {
      await until(() => tickLines().some((l) => l.fields?.mastersOk === 1), 3_000, 'the master judged ok');
      const before = tickLines().length;
      const ticksBefore = tickLines().at(-1)?.fields?.tick as number;
      await new Promise((r) => setTimeout(r, 1_500));
      // A few ticks a second (the probe period is 300 ms), and nothing to say: no new line.
      expect(tickLines().length).toBe(before);
      world.set(master, 'dead');
      await until(
        () => tickLines().some((l) => JSON.stringify(l.fields?.masters).includes('"status":"sdown"')),
        3_000,
        'a line as soon as the master is subjectively down',
      );
      // The line carries the tick count: ticks went on without lines in between.
      const sdownLine = tickLines().find((l) => JSON.stringify(l.fields?.masters).includes('sdown'));
      expect(sdownLine?.fields?.tick as number).toBeGreaterThan(ticksBefore + 2);
    } finally {
      abort.abort();
    }
    expect((await done).end).toBe('aborted');
  });
});

describe('failures inside the loop', () => {
  it('counts a failing tick on the tick line (failedMasters) and logs its error once, then its recovery', async () => {
    const world = new FakeRedisWorld();
    world.set(master, 'up');
    const store = new MalformedVotesStore();
    const logs: LogLine[] = [];
    const log: Log = (level, message, fields) => logs.push({ level, message, fields });
    const abort = new AbortController();
    const done = new SentinelRunner({
      sentinelId: 'sentinel-a',
      config,
      store,
      probeFactory: world.factory(),
      controlFactory: world.controlFactory(),
      log,
      signal: abort.signal,
    }).run();
    const tickLines = () => logs.filter((l) => typeof l.fields?.tick === 'number');
    try {
      // Healthy ticks log a line when what it says changes, then about once a minute: one at least by now.
      await until(() => tickLines().length >= 1, 3_000, 'a healthy tick line');
      expect(tickLines().every((l) => l.fields?.failedMasters === 0)).toBe(true);

      // Votes are read only for a master that looks down.
      store.broken = true;
      world.set(master, 'dead');
      const failing = () => tickLines().filter((l) => l.fields?.failedMasters === 1);
      await until(() => failing().length >= 5, 5_000, 'five failing ticks');
      // Five failing ticks, one error line (the next is due a minute after the first).
      const errors = logs.filter((l) => l.message.startsWith('tick failed for master'));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({
        level: 'error',
        fields: { master: 'mymaster', failures: 1, error: { name: 'TypeError' } },
      });

      store.broken = false;
      await until(() => logs.some((l) => l.message === 'tick for master works again'), 3_000, 'the recovery');
      const failedTicks = failing().length;
      const recovery = logs.find((l) => l.message === 'tick for master works again');
      expect(recovery).toMatchObject({
        level: 'info',
        fields: { master: 'mymaster', failures: failedTicks },
      });
      await until(() => tickLines().at(-1)?.fields?.failedMasters === 0, 3_000, 'a healthy tick again');
      expect(logs.filter((l) => l.message.startsWith('tick failed for master'))).toHaveLength(1);
    } finally {
      abort.abort();
    }
    expect((await done).end).toBe('aborted');
  });

  it('logs an unexpected store error at once, then at most once a minute with a count, and says when it stops', async () => {
    const world = new FakeRedisWorld();
    world.set(master, 'up');
    const store = new BuggyCounterStore();
    const clock = new ShiftedClock();
    const logs: LogLine[] = [];
    const abort = new AbortController();
    const done = new SentinelRunner({
      sentinelId: 'sentinel-a',
      config,
      store,
      probeFactory: world.factory(),
      controlFactory: world.controlFactory(),
      clock,
      log: (level, message, fields) => logs.push({ level, message, fields }),
      signal: abort.signal,
    }).run();
    const lines = () => logs.filter((l) => l.message.startsWith('unexpected store error'));
    const error = { name: 'TypeError', message: 'cannot read properties of undefined' };
    try {
      await until(() => logs.some((l) => typeof l.fields?.tick === 'number'), 3_000, 'a first tick');
      store.broken = true;
      await until(() => store.thrown >= 5, 5_000, 'five unexpected store errors');
      // Five errors (one per heartbeat), one line.
      expect(lines()).toEqual([
        { level: 'error', message: 'unexpected store error', fields: { error, failures: 1 } },
      ]);

      // A minute on, still failing: one more line, with the count.
      clock.advance(REPEATED_FAILURE_LOG_INTERVAL_MS);
      await until(() => lines().length === 2, 3_000, 'the repeated line');
      const repeated = lines()[1];
      expect(repeated).toMatchObject({ level: 'error', message: 'unexpected store error (repeated)' });
      expect(repeated?.fields).toMatchObject({ error });
      expect(repeated?.fields?.failures).toBeGreaterThanOrEqual(6);
      expect(repeated?.fields?.failuresSinceLastLine).toBe((repeated?.fields?.failures as number) - 1);

      // Fixed (the store is read again), and quiet for a minute: one closing line with the total.
      store.broken = false;
      const total = store.thrown;
      const readBefore = store.read;
      await until(() => store.read > readBefore, 3_000, 'the store read again');
      expect(lines()).toHaveLength(2);
      clock.advance(REPEATED_FAILURE_LOG_INTERVAL_MS);
      await until(() => lines().length === 3, 3_000, 'the closing line');
      expect(lines()[2]).toMatchObject({
        level: 'info',
        message: 'unexpected store error no longer seen',
        fields: { errorName: 'TypeError', failures: total },
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(lines()).toHaveLength(3);
    } finally {
      abort.abort();
    }
    expect((await done).end).toBe('aborted');
  });

  it('announces a SET rename-command (+set, log line) without the new name, and an undone rename in full', async () => {
    const world = new FakeRedisWorld();
    world.set(master, 'up');
    const store = new MemoryStore();
    const logs: LogLine[] = [];
    const events: Array<{ type: string; payload: string }> = [];
    const abort = new AbortController();
    const done = new SentinelRunner({
      sentinelId: 'sentinel-a',
      config,
      store,
      probeFactory: world.factory(),
      controlFactory: world.controlFactory(),
      log: (level, message, fields) => logs.push({ level, message, fields }),
      onEvent: (event) => events.push({ type: event.type, payload: event.payload }),
      signal: abort.signal,
    }).run();
    const view = storeSentinelView(store, config);
    const NEW_NAME = 'ping-7c1d9e4a';
    const sets = () => events.filter((e) => e.type === '+set');
    const applied = () => logs.filter((l) => l.message === 'applied run-time configuration');
    try {
      await until(() => logs.some((l) => typeof l.fields?.tick === 'number'), 3_000, 'a first tick');
      expect(
        await view.set('mymaster', [
          ['rename-command', 'PING', NEW_NAME],
          ['quorum', '1'],
        ]),
      ).toEqual({
        ok: true,
      });
      await until(() => sets().length === 2, 3_000, 'two +set events');
      expect(sets().map((e) => e.payload)).toEqual([
        'master mymaster 10.0.0.1 6379 quorum 1',
        // Command names are kept in lower case (they match case-insensitively).
        'master mymaster 10.0.0.1 6379 rename-command ping ******',
      ]);
      expect(applied()).toHaveLength(1);
      expect(applied()[0]?.fields?.changes).toEqual(['quorum 1', 'rename-command ping']);

      // Undone: the command under its own name again, which names nothing secret.
      expect(await view.set('mymaster', [['rename-command', 'PING', 'PING']])).toEqual({ ok: true });
      await until(() => sets().length === 3, 3_000, 'the third +set event');
      expect(sets()[2]?.payload).toBe('master mymaster 10.0.0.1 6379 rename-command ping ping');
      expect(applied()[1]?.fields?.changes).toEqual(['rename-command ping']);
    } finally {
      abort.abort();
    }
    expect((await done).end).toBe('aborted');
    expect(JSON.stringify(logs)).not.toContain(NEW_NAME);
    expect(JSON.stringify(events)).not.toContain(NEW_NAME);
  });

  it('resumes from a hand-over state and ignores its part about a master no longer monitored', async () => {
    const world = new FakeRedisWorld();
    world.set(master, 'up');
    const store = new MemoryStore();
    const options = {
      sentinelId: 'sentinel-a',
      config,
      store,
      probeFactory: world.factory(),
      controlFactory: world.controlFactory(),
    };
    const firstAbort = new AbortController();
    const firstLogs: LogLine[] = [];
    const first = new SentinelRunner({
      ...options,
      signal: firstAbort.signal,
      log: (level, message, fields) => firstLogs.push({ level, message, fields }),
    }).run();
    await until(() => firstLogs.some((l) => typeof l.fields?.tick === 'number'), 3_000, 'a first tick');
    firstAbort.abort();
    await first;
    const lease = await store.getLease('sentinel-a');
    const stored = JSON.parse(
      (await store.getHandoverState('sentinel-a', { token: lease?.token ?? 0 })) ?? '{}',
    );
    stored.masters.gone = stored.masters.mymaster;
    // Planted as a previous invocation would release it: just now.
    const planted = await store.acquireLease('sentinel-a', {
      invocationId: 'planter',
      now: Date.now(),
      ttlMs: 1_000,
    });
    if (!planted.acquired) throw new Error('lease not acquired');
    const plantedAt = Date.now();
    await store.putHandoverState('sentinel-a', {
      token: planted.lease.token,
      state: JSON.stringify({ ...stored, savedAt: plantedAt }),
    });
    await store.releaseLease('sentinel-a', {
      invocationId: 'planter',
      token: planted.lease.token,
      now: Date.now(),
    });
    const logs: LogLine[] = [];
    const events: string[] = [];
    const abort = new AbortController();
    const second = new SentinelRunner({
      ...options,
      signal: abort.signal,
      log: (level, message, fields) => logs.push({ level, message, fields }),
      onEvent: (event) => events.push(`${event.type} ${event.master}`),
    });
    const done = second.run();
    await until(() => logs.some((l) => typeof l.fields?.tick === 'number'), 3_000, 'a first tick');
    abort.abort();
    expect((await done).resumedFromHandover).toBe(true);
    expect(Object.keys(second.snapshots())).toEqual(['mymaster']);
    // The same incarnation (origin): its observations carry over, not a fresh start.
    expect(stored.masters.mymaster.origin).toEqual({ source: 'config', ...master });
    // Stored relative to savedAt (lib/runtime/handover.ts).
    expect(second.snapshots().mymaster?.master.observingSince).toBe(
      plantedAt + stored.masters.mymaster.monitor.master.observingSince,
    );
    expect(events.filter((e) => e.includes('gone'))).toEqual([]);
    expect(logs.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
  });

  it('starts fresh from a hand-over state of a bare {"version":N}, votes, and releases its lease', async () => {
    const world = new FakeRedisWorld();
    world.set(master, 'up');
    const store = new MemoryStore();
    const planted = await store.acquireLease('sentinel-a', {
      invocationId: 'planter',
      now: Date.now(),
      ttlMs: 1_000,
    });
    if (!planted.acquired) throw new Error('lease not acquired');
    await store.putHandoverState('sentinel-a', {
      token: planted.lease.token,
      state: JSON.stringify({ version: HANDOVER_STATE_VERSION }),
    });
    await store.releaseLease('sentinel-a', {
      invocationId: 'planter',
      token: planted.lease.token,
      now: Date.now(),
    });
    const logs: LogLine[] = [];
    const abort = new AbortController();
    const runner = new SentinelRunner({
      sentinelId: 'sentinel-a',
      config,
      store,
      probeFactory: world.factory(),
      controlFactory: world.controlFactory(),
      log: (level, message, fields) => logs.push({ level, message, fields }),
      signal: abort.signal,
    });
    const done = runner.run();
    try {
      await until(() => logs.some((l) => typeof l.fields?.tick === 'number'), 3_000, 'a first tick');
      world.set(master, 'dead');
      await until(
        async () =>
          (await store.listVotes('mymaster')).some((v) => v.down && v.invocationId === runner.invocationId),
        3_000,
        'the down-vote',
      );
    } finally {
      abort.abort();
    }
    const report = await done;
    expect(report).toMatchObject({ end: 'aborted', resumedFromHandover: false });
    expect(logs.filter((l) => l.level === 'warn')).toEqual([
      {
        level: 'warn',
        message: 'hand-over state not usable; starting with fresh observations',
        fields: { reason: 'savedAt: missing', fault: 'handover-state-invalid' },
      },
    ]);
    expect((await store.getLease('sentinel-a'))?.holder).toBeNull();
  });
});
