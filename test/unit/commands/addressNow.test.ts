/**
 * SentinelView.addressNow on the store view: what addressOf would answer, without waiting, exactly when
 * addressOf would not wait either (a cached read within its age, or one served while its refresh runs);
 * undefined whenever addressOf must read. The same object while the answer stands.
 */
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

describe('addressNow on the store view', () => {
  it('answers what addressOf answers when that needs no read, and nothing otherwise', async () => {
    const store = new MemoryStore();
    const clock = manualClock();
    await store.ensureMaster({ name: 'mymaster', host: '10.0.0.1', port: 6379, now: clock.now() });
    const view = storeSentinelView(store, config, { clock, addressCacheMs: 100 });
    const addressNow = (name: string) => view.addressNow?.(name);
    // Nothing read yet.
    expect(addressNow('mymaster')).toBeUndefined();
    expect(addressNow('nope')).toBeUndefined();
    const first = await view.addressOf('mymaster');
    expect(await view.addressOf('nope')).toBeNull();
    expect(addressNow('mymaster')).toBe(first);
    expect(addressNow('mymaster')).toEqual({ ip: '10.0.0.1', port: 6379, epoch: 0 });
    expect(addressNow('nope')).toBeNull();
    // Aged out: the last read is still answered while one refresh runs, then the refreshed one.
    await switchMaster(store, 'mymaster', { host: '10.0.0.2', port: 6379 });
    clock.advance(100);
    expect(addressNow('mymaster')).toBe(first);
    await new Promise((r) => setImmediate(r));
    expect(addressNow('mymaster')).toEqual({ ip: '10.0.0.2', port: 6379, epoch: 1 });
    expect(await view.addressOf('mymaster')).toBe(addressNow('mymaster'));
    // Dropped by an event, or long past its age: only a read can tell.
    view.invalidate('mymaster');
    expect(addressNow('mymaster')).toBeUndefined();
    await view.addressOf('mymaster');
    clock.advance(60_000);
    expect(addressNow('mymaster')).toBeUndefined();
    // An overlong name gets addressOf's error, not an answer.
    const long = 'n'.repeat(10_000);
    expect(addressNow(long)).toBeUndefined();
    await expect(view.addressOf(long)).rejects.toThrow();
  });

  it('never answers without a cache: every lookup reads', async () => {
    const store = new MemoryStore();
    await store.ensureMaster({ name: 'mymaster', host: '10.0.0.1', port: 6379, now: Date.now() });
    const view = storeSentinelView(store, config, {});
    await view.addressOf('mymaster');
    expect(view.addressNow?.('mymaster')).toBeUndefined();
  });
});
