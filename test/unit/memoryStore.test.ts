import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../lib/adapters/memory/store.js';
import { StoreUnavailableError } from '../../lib/ports.js';
import { describeStoreContract, everyStoreCall } from '../contract/store.contract.js';

describeStoreContract('MemoryStore', async () => ({ store: new MemoryStore() }));

describe('Class: MemoryStore', () => {
  it('rejects every method with StoreUnavailableError while unavailable, and recovers afterwards', async () => {
    const store = new MemoryStore();
    store.setAvailable(false);
    for (const [method, call] of Object.entries(everyStoreCall())) {
      await expect(call(store), method).rejects.toBeInstanceOf(StoreUnavailableError);
    }
    store.setAvailable(true);
    for (const [method, call] of Object.entries(everyStoreCall())) {
      await expect(call(store), method).resolves.not.toBeInstanceOf(Error);
    }
  });

  it('fails a call that is in flight when the outage starts', async () => {
    const store = new MemoryStore({ latencyMs: 20 });
    const pending = store.getMaster('m');
    store.setAvailable(false);
    await expect(pending).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('does not let a caller change the store through a value it passed in', async () => {
    const store = new MemoryStore();
    const vote = {
      master: 'm',
      sentinelId: 'a',
      down: true,
      observedAt: 1,
      configEpoch: 0,
      token: 1,
      invocationId: 'i',
    };
    await store.putVote(vote);
    vote.down = false;
    expect((await store.listVotes('m'))[0]?.down).toBe(true);
  });

  it('applies the configured latency before answering, and setLatency changes it', async () => {
    const store = new MemoryStore({ latencyMs: 20 });
    let started = performance.now();
    await store.getMaster('m');
    expect(performance.now() - started).toBeGreaterThanOrEqual(15);
    store.setLatency(60);
    started = performance.now();
    await store.getMaster('m');
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
  });
});
