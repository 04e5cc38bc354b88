import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../lib/adapters/memory/store.js';
import { applyInfoOutcome, applyPingOutcome, newObservation } from '../../../lib/core/observation.js';
import type { ReplicaCandidate } from '../../../lib/core/selection.js';
import type { Address, FailoverProgress, ReplicationInfo } from '../../../lib/core/types.js';
import type { RedisControl } from '../../../lib/ports.js';
import { systemClock } from '../../../lib/runtime/clock.js';
import { FailoverRunner } from '../../../lib/runtime/failover.js';
import { FakeRedisWorld } from '../../support/fakeRedis.js';
import { globalSettings, masterSettings } from '../../support/settings.js';

const M = { host: '10.0.0.1', port: 6379 };
const R1 = { host: '10.0.0.2', port: 6379 };
const R2 = { host: '10.0.0.3', port: 6379 };
const settings = masterSettings({ ...M, leaderLeaseMs: 200, failoverTimeoutMs: 10_000 });

function info(offset: number): ReplicationInfo {
  return {
    runId: null,
    role: 'replica',
    loading: false,
    masterHost: M.host,
    masterPort: M.port,
    masterLinkUp: false,
    masterLinkDownSinceMs: 100,
    replicaPriority: 100,
    replicaOffset: offset,
    replicaAnnounced: true,
    masterReplOffset: offset,
    connectedReplicas: [],
    redisVersion: '7.0.15',
  };
}

function candidate(address: Address, offset: number, sdown = false): ReplicaCandidate {
  const now = Date.now();
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

const START: FailoverProgress = {
  oldMaster: M,
  promoted: null,
  rejected: [],
  promotionSentAt: null,
  replicas: [],
  forced: false,
  coordinated: false,
};

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
