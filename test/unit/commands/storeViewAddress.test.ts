import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../lib/adapters/memory/store.js';
import { storeSentinelView } from '../../../lib/commands/storeView.js';
import type { SentinelConfig } from '../../../lib/core/types.js';
import { switchMaster } from '../../support/apiHarness.js';
import { manualClock } from '../../support/manualClock.js';
import { globalSettings, masterSettings } from '../../support/settings.js';

const config: SentinelConfig = {
  global: globalSettings(),
  masters: [masterSettings({ host: '10.0.0.1', port: 6379 })],
};

describe('get-master-addr-by-name from the store view', () => {
  it('serves a cached read until it is invalidated by an event or ages out', async () => {
    const store = new MemoryStore();
    const clock = manualClock();
    await store.ensureMaster({ name: 'mymaster', host: '10.0.0.1', port: 6379, now: clock.now() });
    const view = storeSentinelView(store, config, { clock, addressCacheMs: 100 });
    expect(await view.addressOf('mymaster')).toEqual({ ip: '10.0.0.1', port: 6379, epoch: 0 });
    await switchMaster(store, 'mymaster', { host: '10.0.0.2', port: 6379 });
    // Within the cache age and without an event: the cached read.
    expect((await view.addressOf('mymaster'))?.ip).toBe('10.0.0.1');
    view.invalidate('mymaster');
    expect(await view.addressOf('mymaster')).toEqual({ ip: '10.0.0.2', port: 6379, epoch: 1 });
    await switchMaster(store, 'mymaster', { host: '10.0.0.3', port: 6379 });
    clock.advance(100);
    // Aged out: this lookup is answered at once from the old read while one refresh runs; the next one
    // has the refreshed address. A lookup is never more than one read behind.
    expect((await view.addressOf('mymaster'))?.ip).toBe('10.0.0.2');
    await new Promise((r) => setImmediate(r));
    expect(await view.addressOf('mymaster')).toEqual({ ip: '10.0.0.3', port: 6379, epoch: 2 });
    // Long past its age (a store that stopped answering, say), a cached read is no longer served.
    await switchMaster(store, 'mymaster', { host: '10.0.0.4', port: 6379 });
    clock.advance(60_000);
    expect(await view.addressOf('mymaster')).toEqual({ ip: '10.0.0.4', port: 6379, epoch: 3 });
  });

  it('reads the store every time without a cache, and never answers an epoch older than one it gave', async () => {
    const store = new MemoryStore();
    const clock = manualClock();
    await store.ensureMaster({ name: 'mymaster', host: '10.0.0.1', port: 6379, now: clock.now() });
    const view = storeSentinelView(store, config, { clock });
    await switchMaster(store, 'mymaster', { host: '10.0.0.2', port: 6379 });
    expect(await view.addressOf('mymaster')).toEqual({ ip: '10.0.0.2', port: 6379, epoch: 1 });
    // A lagging replica of the store (here: a record put back by hand) must not take the lookup back.
    const lagging = new MemoryStore();
    await lagging.ensureMaster({ name: 'mymaster', host: '10.0.0.1', port: 6379, now: clock.now() });
    const original = store.getMaster.bind(store);
    store.getMaster = (name) => lagging.getMaster(name);
    expect(await view.addressOf('mymaster')).toEqual({ ip: '10.0.0.2', port: 6379, epoch: 1 });
    store.getMaster = original;
  });

  it('long poll: answers at once past the epoch, else when the epoch moves, else at the deadline', async () => {
    const store = new MemoryStore();
    const clock = manualClock();
    await store.ensureMaster({ name: 'mymaster', host: '10.0.0.1', port: 6379, now: clock.now() });
    const view = storeSentinelView(store, config, { clock, addressPollMs: 200 });
    const start = clock.now();
    expect(await view.waitForAddress('mymaster', 0, 1_000)).toEqual({ ip: '10.0.0.1', port: 6379, epoch: 0 });
    expect(clock.now() - start).toBeGreaterThanOrEqual(1_000);
    await switchMaster(store, 'mymaster', { host: '10.0.0.2', port: 6379 });
    const before = clock.now();
    expect((await view.waitForAddress('mymaster', 0, 1_000))?.epoch).toBe(1);
    expect(clock.now()).toBe(before);
    expect(await view.waitForAddress('nope', 0, 1_000)).toBeNull();
  });
});
