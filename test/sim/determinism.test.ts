import { describe, expect, it } from 'vitest';
import { runBatch } from '../../lib/sim/batch.js';
import { runSchedule } from '../../lib/sim/world.js';

/** What a run must reproduce exactly from its seed (everything but wall-clock figures). */
async function fingerprint(seed: number) {
  const r = await runSchedule({ seed, keepTrace: true });
  return {
    traceHash: r.traceHash,
    lines: r.trace.filter((line) => !/^\d+ log /.test(line)).length,
    steps: r.steps,
    failovers: r.failovers,
    faults: r.faults,
    violations: r.violations,
  };
}

describe('deterministic simulation', () => {
  it('reproduces a schedule exactly from its seed: two runs give the same trace hash', async () => {
    for (const seed of [1, 2, 3, 7, 42, 1234, 99_999]) {
      const first = await fingerprint(seed);
      const second = await fingerprint(seed);
      expect(second).toEqual(first);
      // Something happened: a trace of a few lines would prove little.
      expect(first.lines).toBeGreaterThan(30);
      expect(first.steps).toBeGreaterThan(1_000);
      // Keeping the trace (for --verbose) does not change the run.
      expect((await runSchedule({ seed })).traceHash).toBe(first.traceHash);
    }
  });

  it('gives different seeds different schedules', async () => {
    const hashes = new Set<string>();
    for (let seed = 1; seed <= 20; seed += 1) hashes.add((await runSchedule({ seed })).traceHash);
    expect(hashes.size).toBe(20);
  });

  it('gives the same figures in worker threads as in this thread', async () => {
    const options = { firstSeed: 500, count: 24, schedule: {} };
    const here = await runBatch({ ...options, workers: 0 });
    const threads = await runBatch({ ...options, workers: 2 });
    const { summary: a } = here;
    const { summary: b } = threads;
    expect(b.steps).toBe(a.steps);
    expect(b.faults).toEqual(a.faults);
    expect(b.failovers).toBe(a.failovers);
    expect(b.storeCalls).toBe(a.storeCalls);
    expect(a.deathToSwitchMs.size).toBeGreaterThan(0);
    expect(b.deathToSwitchMs).toEqual(a.deathToSwitchMs);
    expect(b.detectionToSwitchMs).toEqual(a.detectionToSwitchMs);
    expect(b.violations).toEqual(a.violations);
  });
});
