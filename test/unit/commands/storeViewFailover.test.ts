/**
 * SENTINEL FAILOVER through the store view: answered as Sentinel answers it, at once — OK as soon as the
 * request is recorded, NOGOODSLAVE when this sentinel's own view has no replica to promote.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../lib/adapters/memory/store.js';
import { type RunnerLike, storeSentinelView } from '../../../lib/commands/storeView.js';
import { INITIAL_MEMORY } from '../../../lib/core/decide.js';
import {
  applyInfoOutcome,
  applyPingOutcome,
  type InstanceObservation,
  newObservation,
} from '../../../lib/core/observation.js';
import type { Address, SentinelConfig } from '../../../lib/core/types.js';
import type { Clock } from '../../../lib/runtime/clock.js';
import { progress, replicaInfo } from '../../support/failoverWorld.js';
import { globalSettings, masterSettings } from '../../support/settings.js';

const M: Address = { host: '10.0.0.1', port: 6379 };
const R1: Address = { host: '10.0.0.2', port: 6379 };
const config: SentinelConfig = { global: globalSettings(), masters: [masterSettings({ ...M })] };
const T = 1_700_000_000_000;

/** Time moves only when something sleeps. */
const clock: Clock = {
  now: () => T,
  sleep: async () => {},
};

/** A replica this sentinel sees answering, with a fresh INFO. */
function answering(address: Address, info = replicaInfo()): InstanceObservation {
  let obs = newObservation(address, 'replica', T - 1_000);
  obs = applyPingOutcome(obs, {
    sentAt: T,
    completedAt: T,
    result: { type: 'reply', kind: 'pong', text: 'PONG' },
  });
  return applyInfoOutcome(obs, { sentAt: T, completedAt: T, result: { type: 'info', info } }, 0).observation;
}

function runnerSeeing(replicas: InstanceObservation[]): RunnerLike {
  return {
    sentinelId: 'sentinel-a',
    memories: () => ({ mymaster: INITIAL_MEMORY }),
    snapshots: () => ({ mymaster: { master: answering(M), replicas } }),
  };
}

async function storeWithMaster(): Promise<{ store: MemoryStore; reads: () => number }> {
  const store = new MemoryStore();
  await store.ensureMaster({ name: 'mymaster', ...M, now: T });
  let reads = 0;
  const getMaster = store.getMaster.bind(store);
  store.getMaster = (name) => {
    reads += 1;
    return getMaster(name);
  };
  return { store, reads: () => reads };
}

describe('SENTINEL FAILOVER through the store view', () => {
  it('answers OK once the request is recorded, without following the failover it asks for', async () => {
    const { store, reads } = await storeWithMaster();
    const view = storeSentinelView(store, config, { clock });
    expect(await view.failover('mymaster')).toBe('OK');
    // One read to find the master, none to follow the failover: no sentinel runs here to start it.
    expect(reads()).toBe(1);
    expect((await store.getMaster('mymaster'))?.failoverRequestedAt).toBe(T);
  });

  it('with awaitOutcome (the HTTP API), follows the record until the sentinels answered', async () => {
    const { store, reads } = await storeWithMaster();
    // No sentinel runs: it reads again and again until its wait is over, then answers OK anyway.
    let now = T;
    const moving: Clock = {
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
    };
    const waiting = storeSentinelView(store, config, { clock: moving, failoverWaitMs: 1_000 });
    expect(await waiting.failover('mymaster', { awaitOutcome: true })).toBe('OK');
    expect(reads()).toBeGreaterThan(10);
    expect(now - T).toBeGreaterThanOrEqual(1_000);
  });

  it('answers INPROG while a failover runs, and for an unknown master NOSUCHMASTER', async () => {
    const { store } = await storeWithMaster();
    await store.claimEpoch('mymaster', {
      mode: 'start',
      expectedEpoch: 0,
      sentinelId: 'sentinel-b',
      leaseUntil: T + 5_000,
      progress: progress(),
      now: T,
    });
    const view = storeSentinelView(store, config, { clock });
    expect(await view.failover('mymaster')).toBe('INPROG');
    expect(await view.failover('nosuch')).toBe('NOSUCHMASTER');
  });

  it("answers NOGOODSLAVE at once, recording nothing, when this sentinel's own view has no replica to promote", async () => {
    const { store } = await storeWithMaster();
    const noReplica = storeSentinelView(store, config, { clock, runners: [runnerSeeing([])] });
    expect(await noReplica.failover('mymaster')).toBe('NOGOODSLAVE');
    const hidden = storeSentinelView(store, config, {
      clock,
      runners: [runnerSeeing([answering(R1, replicaInfo({ replicaPriority: 0 }))])],
    });
    expect(await hidden.failover('mymaster')).toBe('NOGOODSLAVE');
    expect((await store.getMaster('mymaster'))?.failoverRequestedAt ?? null).toBeNull();
    // With a replica it could promote, the request is recorded.
    const withReplica = storeSentinelView(store, config, { clock, runners: [runnerSeeing([answering(R1)])] });
    expect(await withReplica.failover('mymaster')).toBe('OK');
    expect((await store.getMaster('mymaster'))?.failoverRequestedAt).toBe(T);
  });
});
