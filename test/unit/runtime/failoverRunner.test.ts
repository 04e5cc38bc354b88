import { describe, expect, it, vi } from 'vitest';
import { MemoryStore } from '../../../lib/adapters/memory/store.js';
import { applyInfoOutcome, applyPingOutcome, newObservation } from '../../../lib/core/observation.js';
import type { ReplicaCandidate } from '../../../lib/core/selection.js';
import type {
  Address,
  FailoverProgress,
  MasterRecord,
  ReplicationInfo,
  SentinelEvent,
} from '../../../lib/core/types.js';
import type { RedisControl } from '../../../lib/ports.js';
import { type Clock, systemClock } from '../../../lib/runtime/clock.js';
import { type ClaimedFailover, FailoverRunner } from '../../../lib/runtime/failover.js';
import { M, progress, R1, R2, replicaInfo } from '../../support/failoverWorld.js';
import { FakeRedisWorld } from '../../support/fakeRedis.js';
import { globalSettings, masterSettings } from '../../support/settings.js';

const settings = masterSettings({ ...M, leaderLeaseMs: 200, failoverTimeoutMs: 10_000 });

const info = (offset: number): ReplicationInfo =>
  replicaInfo({ replicaOffset: offset, masterReplOffset: offset });

function candidate(address: Address, offset: number, sdown = false, now = Date.now()): ReplicaCandidate {
  let obs = newObservation(address, 'replica', now - 1000);
  obs = applyPingOutcome(obs, {
    sentAt: now,
    completedAt: now,
    result: { type: 'reply', kind: 'pong', text: 'PONG' },
  });
  obs = applyInfoOutcome(
    obs,
    { sentAt: now, completedAt: now, result: { type: 'info', info: info(offset) } },
    0,
  ).observation;
  return { observation: obs, sdown };
}

const START: FailoverProgress = progress();

describe('Class: FailoverRunner', () => {
  it('two runners racing on the same failover never promote two replicas: the successor keeps the recorded choice', async () => {
    const world = new FakeRedisWorld();
    world.set(R1, 'up');
    world.set(R2, 'up');
    world.setInfo(R1, info(500));
    world.setInfo(R2, info(400));
    const store = new MemoryStore();
    await store.ensureMaster({ name: 'mymaster', ...M, now: Date.now() });
    const claimA = await store.claimEpoch('mymaster', {
      mode: 'start',
      expectedEpoch: 0,
      sentinelId: 'sentinel-a',
      leaseUntil: Date.now() + settings.leaderLeaseMs,
      progress: START,
      now: Date.now(),
    });
    expect(claimA.won).toBe(true);

    // Sentinel A's REPLICAOF is slow: it stalls long enough for its lease to expire.
    const fake = world.controlFactory()({ timeoutMs: 100, now: Date.now });
    const slowControl: RedisControl = {
      replicaOf: async (target, master) => {
        await new Promise((r) => setTimeout(r, 600));
        return fake.replicaOf(target, master);
      },
      failoverTo: (master, target, timeoutMs) => fake.failoverTo(master, target, timeoutMs),
    };
    const base = {
      settings,
      global: globalSettings(),
      store,
      probeFactory: world.factory(),
      clock: systemClock,
      log: () => {},
      emit: () => {},
      signal: new AbortController().signal,
    };
    const a = new FailoverRunner({
      ...base,
      sentinelId: 'sentinel-a',
      epoch: 1,
      control: slowControl,
      view: () => ({
        replicas: [candidate(R1, 500), candidate(R2, 400)],
        masterSdownSince: Date.now() - 500,
      }),
    });
    const aDone = a.run();

    // Sentinel B takes over once A's lease expired. B sees R1 as down, so it would choose R2 if it chose.
    await new Promise((r) => setTimeout(r, settings.leaderLeaseMs + 100));
    const claimB = await store.claimEpoch('mymaster', {
      mode: 'resume',
      expectedEpoch: 1,
      sentinelId: 'sentinel-b',
      leaseUntil: Date.now() + 5_000,
      now: Date.now(),
    });
    expect(claimB.won).toBe(true);
    expect(claimB.record.failover?.promoted).toEqual(R1);
    const b = new FailoverRunner({
      ...base,
      sentinelId: 'sentinel-b',
      epoch: 2,
      control: fake,
      view: () => ({
        replicas: [candidate(R1, 500, true), candidate(R2, 400)],
        masterSdownSince: Date.now() - 500,
      }),
    });
    const [aEnd, bEnd] = await Promise.all([aDone, b.run()]);
    expect(bEnd).toBe('completed');
    expect(aEnd).toBe('lost-epoch');
    const promotions = world.replicaOfCalls.filter((c) => c.master === null).map((c) => c.target);
    expect(promotions.length).toBeGreaterThanOrEqual(1);
    for (const target of promotions) expect(target).toEqual(R1);
    const record = await store.getMaster('mymaster');
    expect(record).toMatchObject({ host: R1.host, port: R1.port, configEpoch: 2, failoverState: 'none' });
  });
});

/** Time moves only when the runner sleeps. */
class VirtualClock implements Clock {
  constructor(public t: number) {}
  now(): number {
    return this.t;
  }
  async sleep(ms: number): Promise<void> {
    this.t += Math.max(0, ms);
  }
}

describe('Class: FailoverRunner, on a virtual clock', () => {
  const T = 1_700_000_000_000;

  /** A failover of M claimed by sentinel-a in epoch 1; R1 is the only replica. */
  async function setUp(options: { progress?: FailoverProgress } = {}) {
    const clock = new VirtualClock(T);
    const world = new FakeRedisWorld();
    world.set(R1, 'up');
    world.setInfo(R1, info(500));
    const store = new MemoryStore();
    await store.ensureMaster({ name: 'mymaster', ...M, now: clock.now() });
    const claim = await store.claimEpoch('mymaster', {
      mode: 'start',
      expectedEpoch: 0,
      sentinelId: 'sentinel-a',
      leaseUntil: clock.now() + settings.leaderLeaseMs,
      progress: options.progress ?? START,
      now: clock.now(),
    });
    expect(claim.won).toBe(true);
    const events: SentinelEvent[] = [];
    const logs: string[] = [];
    const abort = new AbortController();
    const runner = (sentinelId = 'sentinel-a', claimed?: ClaimedFailover, control?: RedisControl) =>
      new FailoverRunner({
        ...(claimed ? { claimed } : {}),
        settings: { ...settings, leaderLeaseMs: 5_000 },
        global: globalSettings(),
        sentinelId,
        epoch: 1,
        store,
        control: control ?? world.controlFactory()({ timeoutMs: 100, now: () => clock.now() }),
        probeFactory: world.factory(),
        clock,
        log: (_level, message) => logs.push(message),
        emit: (event) => events.push(event),
        view: () => ({
          replicas: [candidate(R1, 500, false, clock.now())],
          masterSdownSince: clock.now() - 500,
        }),
        signal: abort.signal,
      });
    return { clock, world, store, events, logs, abort, runner, claim };
  }

  /** Counts the store's reads by operation. */
  function countReads(store: MemoryStore): Record<'getMaster' | 'listReplicas', number> {
    const reads = { getMaster: 0, listReplicas: 0 };
    const getMaster = store.getMaster.bind(store);
    const listReplicas = store.listReplicas.bind(store);
    store.getMaster = (name) => {
      reads.getMaster += 1;
      return getMaster(name);
    };
    store.listReplicas = (name) => {
      reads.listReplicas += 1;
      return listReplicas(name);
    };
    return reads;
  }

  /** Stops the runner (as an ending invocation does) right after the store accepts a write into `state`. */
  function stopAfterWriting(
    store: MemoryStore,
    abort: AbortController,
    state: MasterRecord['failoverState'],
  ) {
    const advance = store.advanceFailover.bind(store);
    store.advanceFailover = async (name, request) => {
      const result = await advance(name, request);
      if (result.ok && request.to === state) abort.abort();
      return result;
    };
  }

  it('runs a failover to its end and remembers the old master as a replica', async () => {
    const { runner, store, events, world } = await setUp();
    expect(await runner().run()).toBe('completed');
    expect(events.map((e) => e.type)).toEqual([
      '+selected-slave',
      '+failover-state-send-slaveof-noone',
      '+failover-state-wait-promotion',
      '+promoted-slave',
      '+switch-master',
      '+failover-state-reconf-slaves',
      '+failover-end',
    ]);
    expect(world.replicaOfCalls).toEqual([{ target: R1, master: null }]);
    expect(await store.getMaster('mymaster')).toMatchObject({
      ...R1,
      failoverState: 'none',
      leaderLeaseUntil: 0,
    });
    expect((await store.listReplicas('mymaster')).map((r) => ({ host: r.host, port: r.port }))).toEqual([M]);
  });

  it("ends only once the store has settled its writes' change-counter increments (a frozen container would lose them)", async () => {
    const { runner, store } = await setUp();
    const order: string[] = [];
    const advance = store.advanceFailover.bind(store);
    store.advanceFailover = async (name, request) => {
      order.push('write');
      return advance(name, request);
    };
    let settle = (): void => {};
    store.settle = () => {
      order.push('settle');
      return new Promise<void>((resolve) => {
        settle = resolve;
      });
    };
    let ended = false;
    const run = runner()
      .run()
      .then((end) => {
        ended = true;
        return end;
      });
    await vi.waitFor(() => expect(order.at(-1)).toBe('settle'));
    expect(order.filter((o) => o === 'write').length).toBeGreaterThanOrEqual(3);
    await new Promise((r) => setTimeout(r, 20));
    expect(ended).toBe(false);
    settle();
    expect(await run).toBe('completed');
  });

  it('started by its own winning claim, reads nothing before recording the choice: the claim gave the record and the replicas', async () => {
    const { runner, store, world, claim } = await setUp();
    const reads = countReads(store);
    const recordChoice = store.advanceFailover.bind(store);
    let readsAtChoice: typeof reads | null = null;
    let toRepoint: Address[] = [];
    store.advanceFailover = async (name, request) => {
      if (request.to === 'send_slaveof_noone') {
        readsAtChoice = { ...reads };
        toRepoint = (request.progress?.replicas ?? []).map((r) => ({ host: r.host, port: r.port }));
      }
      return recordChoice(name, request);
    };
    world.set(R2, 'up');
    const end = await runner('sentinel-a', { record: claim.record, replicas: Promise.resolve([R2]) }).run();
    expect(end).toBe('completed');
    expect(readsAtChoice).toEqual({ getMaster: 0, listReplicas: 0 });
    // R2 came only from the read made with the claim: it is recorded with the choice and re-pointed.
    expect(toRepoint).toEqual([R2]);
    expect(world.replicaOfCalls).toContainEqual({ target: R2, master: R1 });
  });

  it('started by its own claim that recorded the choice, sends REPLICAOF NO ONE first: no read, no select write; it closes its control at the end', async () => {
    const chosen = progress({
      promoted: R1,
      replicas: [{ host: R2.host, port: R2.port, state: 'pending', sentAt: null, note: null }],
    });
    const { runner, store, world, claim, events } = await setUp({ progress: chosen });
    expect(claim.record.failoverState).toBe('send_slaveof_noone');
    world.set(R2, 'up');
    const reads = countReads(store);
    const steps: string[] = [];
    const advance = store.advanceFailover.bind(store);
    store.advanceFailover = async (name, request) => {
      steps.push(`${request.from.join('|')}→${request.to}`);
      return advance(name, request);
    };
    const fake = world.controlFactory()({ timeoutMs: 100, now: Date.now });
    const calls: string[] = [];
    const control: RedisControl = {
      replicaOf: (target, master) => {
        calls.push(`replicaOf ${target.port} ${master?.port ?? 'NO ONE'}`);
        return fake.replicaOf(target, master);
      },
      failoverTo: (master, target, ms) => fake.failoverTo(master, target, ms),
      close: () => calls.push('close'),
    };
    const end = await runner(
      'sentinel-a',
      { record: claim.record, replicas: Promise.resolve([R2]) },
      control,
    ).run();
    expect(end).toBe('completed');
    expect(reads.getMaster).toBe(0);
    expect(steps[0]).toBe('send_slaveof_noone→reconf_slaves');
    expect(calls[0]).toBe(`replicaOf ${R1.port} NO ONE`);
    expect(calls.at(-1)).toBe('close');
    expect(calls.filter((c) => c === 'close')).toHaveLength(1);
    expect(events.map((e) => e.type).slice(0, 4)).toEqual([
      '+selected-slave',
      '+failover-state-send-slaveof-noone',
      '+failover-state-wait-promotion',
      '+promoted-slave',
    ]);
  });

  it('reads the record and the replicas itself when the read made with the claim failed', async () => {
    const { runner, store, claim } = await setUp();
    const reads = countReads(store);
    const end = await runner('sentinel-a', { record: claim.record, replicas: Promise.resolve(null) }).run();
    expect(end).toBe('completed');
    expect(reads.listReplicas).toBe(1);
  });

  it('reads the record first when it resumes a failover (no claim of its own)', async () => {
    const { runner, store } = await setUp();
    const reads = countReads(store);
    expect(await runner().run()).toBe('completed');
    expect(reads).toMatchObject({ listReplicas: 1 });
    expect(reads.getMaster).toBeGreaterThanOrEqual(1);
  });

  it('ends completed at once, sending nothing, when the record shows no failover', async () => {
    const { runner, store, world, events } = await setUp();
    await store.releaseLeadership('mymaster', { epoch: 1, sentinelId: 'sentinel-a', now: T });
    expect(await runner().run()).toBe('completed');
    expect(world.replicaOfCalls).toEqual([]);
    expect(events).toEqual([]);
  });

  it('ends lost-epoch, sending nothing, when another sentinel leads the epoch', async () => {
    const { runner, world, logs } = await setUp();
    expect(await runner('sentinel-b').run()).toBe('lost-epoch');
    expect(world.replicaOfCalls).toEqual([]);
    expect(logs).toEqual(['failover runner lost its epoch; stopping']);
  });

  it('ends stopped, sending nothing, when stopped before it starts', async () => {
    const { runner, world, abort } = await setUp();
    abort.abort();
    expect(await runner().run()).toBe('stopped');
    expect(world.replicaOfCalls).toEqual([]);
  });

  it('stopped right after recording the choice, announces it but sends no command: the successor does', async () => {
    const { runner, store, world, events, abort } = await setUp();
    stopAfterWriting(store, abort, 'send_slaveof_noone');
    expect(await runner().run()).toBe('stopped');
    expect(events.map((e) => e.type)).toEqual(['+selected-slave', '+failover-state-send-slaveof-noone']);
    expect(world.replicaOfCalls).toEqual([]);
    expect(await store.getMaster('mymaster')).toMatchObject({ failoverState: 'send_slaveof_noone' });
  });

  it('stopped right after its last write, still announces +failover-end', async () => {
    const { runner, store, events, abort } = await setUp();
    stopAfterWriting(store, abort, 'none');
    expect(await runner().run()).toBe('stopped');
    expect(events.slice(-2).map((e) => e.type)).toEqual(['+failover-state-reconf-slaves', '+failover-end']);
    expect(await store.getMaster('mymaster')).toMatchObject({ ...R1, failoverState: 'none' });
  });

  it('ends stopped, sending nothing, on a promotion state recorded without a promoted replica', async () => {
    const { runner, store, world, logs } = await setUp();
    const written = await store.advanceFailover('mymaster', {
      epoch: 1,
      sentinelId: 'sentinel-a',
      now: T,
      from: ['select_slave'],
      to: 'send_slaveof_noone',
      progress: START,
      leaseUntil: T + 5_000,
    });
    expect(written.ok).toBe(true);
    expect(await runner().run()).toBe('stopped');
    expect(world.replicaOfCalls).toEqual([]);
    expect(logs).toEqual(['failover runner failed']);
  });
});
