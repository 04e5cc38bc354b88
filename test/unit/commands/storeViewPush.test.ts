/**
 * The local runner's view is pushed every master record its sentinels read or write (noteRecord): a
 * switch is answered from the moment it is written, not after a store read or a cache expiry.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../lib/adapters/memory/store.js';
import { storeSentinelView } from '../../../lib/commands/storeView.js';
import type { MasterRecord, SentinelConfig } from '../../../lib/core/types.js';
import { switchMaster } from '../../support/apiHarness.js';
import { manualClock } from '../../support/manualClock.js';
import { globalSettings, masterSettings } from '../../support/settings.js';

const config: SentinelConfig = {
  global: globalSettings(),
  masters: [masterSettings({ host: '10.0.0.1', port: 6379 })],
};

/** A store whose record reads wait until released, counted: what a lookup would have to wait for. */
function heldReads(store: MemoryStore) {
  const original = store.getMaster.bind(store);
  const held: Array<() => void> = [];
  let reads = 0;
  store.getMaster = async (name) => {
    reads += 1;
    const read = original(name);
    await new Promise<void>((release) => held.push(release));
    return read;
  };
  return {
    reads: () => reads,
    /** Reads answer at once again; those held stay held until releaseAll. */
    restore: () => {
      store.getMaster = original;
    },
    releaseAll: () => {
      for (const release of held.splice(0)) release();
    },
  };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('noteRecord: the switch pushed to the view', () => {
  it('answers a pushed switch at once, within the cache age, without reading the store', async () => {
    const store = new MemoryStore();
    const clock = manualClock();
    await store.ensureMaster({ name: 'mymaster', host: '10.0.0.1', port: 6379, now: clock.now() });
    const view = storeSentinelView(store, config, { clock, addressCacheMs: 100 });
    expect(await view.addressOf('mymaster')).toEqual({ ip: '10.0.0.1', port: 6379, epoch: 0 });
    await switchMaster(store, 'mymaster', { host: '10.0.0.2', port: 6379 });
    const switched = (await store.getMaster('mymaster')) as MasterRecord;
    // From here on a store read would not answer (a busy store): the lookup must not need one.
    const reads = heldReads(store);
    view.noteRecord(switched);
    expect(await view.addressOf('mymaster')).toEqual({ ip: '10.0.0.2', port: 6379, epoch: 1 });
    expect(await view.masterAddress('mymaster')).toEqual({ host: '10.0.0.2', port: 6379 });
    // Events about the master drop its instance maps, never the pushed address.
    view.invalidateInstanceMaps('mymaster');
    expect(await view.addressOf('mymaster')).toEqual({ ip: '10.0.0.2', port: 6379, epoch: 1 });
    expect(reads.reads()).toBe(0);
  });

  it('a read that started before the push does not take the lookup back when it ends', async () => {
    const store = new MemoryStore();
    const clock = manualClock();
    await store.ensureMaster({ name: 'mymaster', host: '10.0.0.1', port: 6379, now: clock.now() });
    const view = storeSentinelView(store, config, { clock, addressCacheMs: 100 });
    expect((await view.addressOf('mymaster'))?.ip).toBe('10.0.0.1');
    const reads = heldReads(store);
    clock.advance(100);
    // Aged out: answered from the last read while a refresh runs; that refresh reads the old record.
    expect((await view.addressOf('mymaster'))?.ip).toBe('10.0.0.1');
    expect(reads.reads()).toBe(1);
    reads.restore();
    await switchMaster(store, 'mymaster', { host: '10.0.0.2', port: 6379 });
    clock.advance(1);
    view.noteRecord((await store.getMaster('mymaster')) as MasterRecord);
    expect((await view.addressOf('mymaster'))?.ip).toBe('10.0.0.2');
    reads.releaseAll();
    await flush();
    expect(await view.addressOf('mymaster')).toEqual({ ip: '10.0.0.2', port: 6379, epoch: 1 });
  });

  it('ignores a record of a configuration already answered, an older one, and a removed master', async () => {
    const store = new MemoryStore();
    const clock = manualClock();
    await store.ensureMaster({ name: 'mymaster', host: '10.0.0.1', port: 6379, now: clock.now() });
    const first = (await store.getMaster('mymaster')) as MasterRecord;
    await switchMaster(store, 'mymaster', { host: '10.0.0.2', port: 6379 });
    const second = (await store.getMaster('mymaster')) as MasterRecord;
    const view = storeSentinelView(store, config, { clock, addressCacheMs: 100 });
    view.noteRecord(second);
    view.noteRecord(first);
    expect(await view.addressOf('mymaster')).toEqual({ ip: '10.0.0.2', port: 6379, epoch: 1 });
    view.noteRecord({ ...second, monitored: false, configEpoch: 5, host: '10.0.0.9' });
    expect((await view.addressOf('mymaster'))?.ip).toBe('10.0.0.2');
  });
});
