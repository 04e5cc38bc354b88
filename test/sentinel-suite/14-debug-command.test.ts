/**
 * Redis's Sentinel suite, 14-debug-command: SENTINEL DEBUG without arguments lists the timing
 * parameters, info-period first; with a parameter and a value it sets it. Here the sentinels read their
 * timings once, from sentinel.conf, so a change is refused with how to make it, and nothing changes
 * (docs/compatibility.md, "Ported with a difference").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRunner } from '../support/localRunner.js';
import { startSuiteRunner } from './harness.js';

let local: LocalRunner;

beforeAll(async () => {
  local = await startSuiteRunner();
});
afterAll(async () => {
  await local?.stop();
});

async function debugTimings(): Promise<unknown[]> {
  return (await local.sentinel('SENTINEL', 'DEBUG')) as unknown[];
}

describe('14-debug-command', () => {
  it('SENTINEL DEBUG lists info-period first; SENTINEL DEBUG info-period N is refused, changing nothing', async () => {
    const before = await debugTimings();
    expect(before[0]).toBe('INFO-PERIOD');
    const infoPeriod = Number(before[1]);
    expect(Number.isInteger(infoPeriod) && infoPeriod > 0).toBe(true);
    await expect(local.sentinel('SENTINEL', 'DEBUG', 'info-period', 8888)).rejects.toThrow(
      /^ERR SENTINEL DEBUG cannot change 'info-period' while the sentinels run: .*sentinel\.conf.*restart the local runner/,
    );
    expect(await debugTimings()).toEqual(before);
    // Sentinel's own checks come first, with its texts.
    await expect(local.sentinel('SENTINEL', 'DEBUG', 'info-period', 'abc')).rejects.toThrow(
      "ERR Invalid argument 'abc' for SENTINEL DEBUG 'info-period'",
    );
  });
});
