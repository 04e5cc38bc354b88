import { describe, expect, it } from 'vitest';
import { runBatch } from '../../lib/sim/batch.js';
import { FAULT_KINDS } from '../../lib/sim/faults.js';
import { formatSummary } from '../../lib/sim/report.js';
import { DEFAULT_HORIZON_MS } from '../../lib/sim/world.js';

const SCHEDULES = 10_000;

describe('simulated schedules under faults', () => {
  it(`${SCHEDULES} seeded schedules break no invariant`, async () => {
    const batch = await runBatch({ firstSeed: 1, count: SCHEDULES, schedule: {}, workers: 2 });
    const { summary } = batch;
    console.log(formatSummary(batch, { firstSeed: 1, horizonMs: DEFAULT_HORIZON_MS, flags: '' }));
    expect(summary.violations).toEqual([]);
    expect(summary.schedules).toBe(SCHEDULES);
    // The run was not vacuous: every kind of fault was injected, failovers happened, and the liveness
    // bound was actually checked in many windows.
    for (const kind of FAULT_KINDS) expect(summary.faults[kind] ?? 0, kind).toBeGreaterThan(50);
    expect(summary.failovers).toBeGreaterThan(SCHEDULES / 4);
    expect(summary.forcedFailovers).toBeGreaterThan(100);
    expect(summary.livenessChecked).toBeGreaterThan(SCHEDULES / 10);
  }, 280_000);
});
