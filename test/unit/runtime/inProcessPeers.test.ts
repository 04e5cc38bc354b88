/**
 * What the sentinels of one process (the local runner) tell each other and their endpoint without a
 * store round trip: each record as they learn it (onRecord), and each write a peer made (peerWrites);
 * and what a failover that starts within ms of SDOWN waits for: the replicas' fresh INFO.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../lib/adapters/memory/store.js';
import { applyInfoOutcome, applyPingOutcome, newObservation } from '../../../lib/core/observation.js';
import type { ReplicaCandidate } from '../../../lib/core/selection.js';
import type { Address, SentinelConfig, SentinelEvent, SentinelId } from '../../../lib/core/types.js';
import { systemClock } from '../../../lib/runtime/clock.js';
import { FailoverRunner } from '../../../lib/runtime/failover.js';
import { MasterMonitor } from '../../../lib/runtime/monitor.js';
import { type PeerWriteFeed, SentinelRunner } from '../../../lib/runtime/sentinel.js';
import { M, progress, R1, R2, replicaInfo } from '../../support/failoverWorld.js';
import { FakeRedisWorld } from '../../support/fakeRedis.js';
import { globalSettings, masterSettings } from '../../support/settings.js';

function candidate(address: Address, offset: number, now = Date.now()): ReplicaCandidate {
  let obs = newObservation(address, 'replica', now - 1000);
  obs = applyPingOutcome(obs, {
    sentAt: now,
    completedAt: now,
    result: { type: 'reply', kind: 'pong', text: 'PONG' },
  });
  const info = replicaInfo({ replicaOffset: offset, masterReplOffset: offset });
  obs = applyInfoOutcome(
    obs,
    { sentAt: now, completedAt: now, result: { type: 'info', info } },
    0,
  ).observation;
  return { observation: obs, sdown: false };
}

describe('onRecord: every record a failover step wrote, before the next step', () => {
  it('hands the switched record over before +switch-master is emitted', async () => {
    const settings = masterSettings({ ...M, leaderLeaseMs: 5_000, failoverTimeoutMs: 10_000 });
    const world = new FakeRedisWorld();
    for (const [address, offset] of [
      [R1, 500],
      [R2, 400],
    ] as const) {
      world.set(address, 'up');
      world.setInfo(address, replicaInfo({ replicaOffset: offset, masterReplOffset: offset }));
    }
    const store = new MemoryStore();
    await store.ensureMaster({ name: 'mymaster', ...M, now: Date.now() });
    const claim = await store.claimEpoch('mymaster', {
      mode: 'start',
      expectedEpoch: 0,
      sentinelId: 'sentinel-a',
      leaseUntil: Date.now() + settings.leaderLeaseMs,
      progress: progress(),
      now: Date.now(),
    });
    expect(claim.won).toBe(true);
    const seen: string[] = [];
    const runner = new FailoverRunner({
      settings,
      global: globalSettings(),
      sentinelId: 'sentinel-a',
      epoch: 1,
      store,
      control: world.controlFactory()({ timeoutMs: 100, now: Date.now }),
      probeFactory: world.factory(),
      clock: systemClock,
      log: () => {},
      emit: (event: SentinelEvent) => seen.push(`event ${event.type}`),
      onRecord: (record) =>
        seen.push(`record ${record.host}:${record.port} epoch ${record.configEpoch} ${record.failoverState}`),
      view: () => ({
        replicas: [candidate(R1, 500), candidate(R2, 400)],
        masterSdownSince: Date.now() - 500,
      }),
      signal: new AbortController().signal,
    });
    expect(await runner.run()).toBe('completed');
    const switched = seen.indexOf(`record ${R1.host}:${R1.port} epoch 1 reconf_slaves`);
    expect(switched).toBeGreaterThanOrEqual(0);
    expect(seen.indexOf('event +switch-master')).toBeGreaterThan(switched);
    // Every write of the run was handed over, the choice first and the end last.
    expect(seen.filter((line) => line.startsWith('record ')).at(0)).toBe(
      `record ${M.host}:${M.port} epoch 0 send_slaveof_noone`,
    );
    expect(seen.filter((line) => line.startsWith('record ')).at(-1)).toBe(
      `record ${R1.host}:${R1.port} epoch 1 none`,
    );
  });
});

describe('peerWrites: a write by a peer in the same process is read at once', () => {
  const master = { host: '10.0.0.1', port: 6379 };
  // A heartbeat far away: on its own, this sentinel would not read the master's record for a minute.
  const config: SentinelConfig = {
    global: globalSettings({ heartbeatPeriodMs: 60_000 }),
    masters: [masterSettings({ ...master, downAfterMs: 300, probeTimeoutMs: 100 })],
  };
  let stop: (() => Promise<unknown>) | null = null;
  afterEach(async () => {
    await stop?.();
    stop = null;
  });

  function start(store: MemoryStore, peerWrites?: PeerWriteFeed) {
    const world = new FakeRedisWorld();
    world.set(master, 'up');
    const abort = new AbortController();
    const events: SentinelEvent[] = [];
    const runner = new SentinelRunner({
      sentinelId: 'sentinel-a',
      config,
      store,
      probeFactory: world.factory(),
      controlFactory: world.controlFactory(),
      signal: abort.signal,
      onEvent: (event) => events.push(event),
      ...(peerWrites ? { peerWrites } : {}),
    });
    const done = runner.run();
    stop = async () => {
      abort.abort();
      await done;
    };
    return { events };
  }

  function feed() {
    const listeners = new Set<(master: string, writer: SentinelId) => void>();
    return {
      subscribe(listener: (master: string, writer: SentinelId) => void) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      wrote(name: string, writer: SentinelId) {
        for (const listener of listeners) listener(name, writer);
      },
    };
  }

  async function until(check: () => boolean, ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (!check()) {
      if (Date.now() > end) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
    return true;
  }

  it('sees a record a peer changed without waiting for its heartbeat; its own writes wake nothing', async () => {
    const store = new MemoryStore();
    const peers = feed();
    const { events } = start(store, peers);
    expect(await until(() => events.some((e) => e.type === '+monitor'), 2_000)).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    // A failover request lands in the record (the store's change, announced as a peer's write).
    expect(await store.requestFailover('mymaster', { now: Date.now() })).toBe('requested');
    // Announced as this sentinel's own write: ignored (it knows what it wrote).
    peers.wrote('mymaster', 'sentinel-a');
    await new Promise((r) => setTimeout(r, 300));
    expect(events.some((e) => e.type === '+try-failover')).toBe(false);
    peers.wrote('mymaster', 'sentinel-b');
    expect(await until(() => events.some((e) => e.type === '+try-failover'), 2_000)).toBe(true);
  });
});

describe('MasterMonitor.awaitFreshInfo: a leader elected within ms of SDOWN judges replicas on fresh INFO', () => {
  const settings = masterSettings({ ...M, infoPeriodMs: 60_000, probeTimeoutMs: 100 });
  let monitor: MasterMonitor | null = null;
  afterEach(async () => {
    await monitor?.stop();
    monitor = null;
  });

  function startMonitor(world: FakeRedisWorld): MasterMonitor {
    monitor = new MasterMonitor({
      settings,
      global: globalSettings(),
      masterAddress: M,
      probeFactory: world.factory(),
      clock: systemClock,
      clientName: 'sentinel-a-cmd',
      onEvent: () => {},
      knownReplicas: [R1],
    });
    monitor.start();
    return monitor;
  }

  const replicaInfoAt = (m: MasterMonitor) => m.replicas.find((r) => r.address.port === R1.port)?.infoAt;

  /** A monitor of M whose replica R1 has answered its first INFO; the world, to change R1 afterwards. */
  async function monitorWithReplicaInfo(): Promise<{ world: FakeRedisWorld; m: MasterMonitor }> {
    const world = new FakeRedisWorld();
    world.set(M, 'up');
    world.set(R1, 'up');
    world.setInfo(R1, replicaInfo());
    const m = startMonitor(world);
    const until = Date.now() + 2_000;
    while (replicaInfoAt(m) == null && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    return { world, m };
  }

  it('asks a replica whose INFO is from the slow period at once, and resolves when it answered', async () => {
    const { m } = await monitorWithReplicaInfo();
    const first = replicaInfoAt(m) as number;
    expect(first).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 60));
    // Its next INFO is a minute away: without the wait, selection would see a 60 ms old INFO as too old.
    const asked = Date.now();
    await m.awaitFreshInfo(20, 5_000);
    expect(replicaInfoAt(m) as number).toBeGreaterThanOrEqual(asked);
    expect(Date.now() - asked).toBeLessThan(2_000);
  });

  it('waits no longer than its timeout for a replica whose INFO does not come', async () => {
    const { world, m } = await monitorWithReplicaInfo();
    await new Promise((r) => setTimeout(r, 60));
    // Its INFO now fails: the wait ends at the timeout, and selection then judges what it last said.
    world.setInfo(R1, undefined as never);
    const asked = Date.now();
    await m.awaitFreshInfo(20, 300);
    expect(Date.now() - asked).toBeGreaterThanOrEqual(250);
    expect(Date.now() - asked).toBeLessThan(3_000);
  });
});
