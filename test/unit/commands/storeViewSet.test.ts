/** SENTINEL SET through a store view whose reads are cached: the next read shows what was set. */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../lib/adapters/memory/store.js';
import { storeSentinelView } from '../../../lib/commands/storeView.js';
import type { SentinelConfig } from '../../../lib/core/types.js';
import type { Clock } from '../../../lib/runtime/clock.js';
import { globalSettings, masterSettings } from '../../support/settings.js';

const config: SentinelConfig = {
  global: globalSettings(),
  masters: [masterSettings({ host: '10.0.0.1', port: 6379 })],
};
const clock: Clock = { now: () => 1_700_000_000_000, sleep: async () => {} };

describe('SENTINEL SET, then SENTINEL MASTER', () => {
  it('answers the value just set although reads are cached (the time does not move here)', async () => {
    const store = new MemoryStore();
    await store.ensureMaster({ name: 'mymaster', host: '10.0.0.1', port: 6379, now: clock.now() });
    const view = storeSentinelView(store, config, { clock, addressCacheMs: 60_000 });
    const field = async (name: string) => new Map(await view.master('mymaster')).get(name);
    expect(await field('down-after-milliseconds')).toBe('1000');
    expect(await view.set('mymaster', [['down-after-milliseconds', '4321']])).toEqual({ ok: true });
    expect(await field('down-after-milliseconds')).toBe('4321');
  });
});
