/**
 * The summary folds any number of schedules in bounded memory and still prints exactly what the whole
 * list of results would give: timings as value → count with the same quantiles as a sorted array, and
 * only the violations the report can print (with the totals).
 */
import { describe, expect, it } from 'vitest';
import type { Violation } from '../../lib/sim/invariants.js';
import { Random } from '../../lib/sim/random.js';
import { formatSummary } from '../../lib/sim/report.js';
import {
  addResult,
  durationCount,
  durationQuantile,
  emptySummary,
  MAX_VIOLATING_SEEDS_KEPT,
  mergeSummaries,
  type SeedViolation,
  type Summary,
} from '../../lib/sim/summary.js';
import type { RunResult } from '../../lib/sim/world.js';

function result(seed: number, fields: Partial<RunResult> = {}): RunResult {
  return {
    seed,
    profile: seed % 3 === 0 ? 'liveness' : 'chaos',
    violations: [],
    knownGaps: [],
    traceHash: '',
    trace: [],
    faults: { 'redis-crash': 1 },
    failovers: 1,
    falseFailovers: 0,
    forcedFailovers: 0,
    deathToSwitchMs: [],
    detectionToSwitchMs: [],
    livenessChecked: 1,
    livenessExempt: [],
    steps: 1_000,
    storeCalls: 100,
    ...fields,
  };
}

/** The quantile as the report computed it from the whole sorted list. */
function sortedQuantile(values: readonly number[], q: number): number | null {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * q))] as number;
}

/** The VIOLATIONS section as printed from every violation of every seed (sorted by seed, then time). */
function sectionFromAll(all: readonly SeedViolation[]): string[] {
  const lines = ['VIOLATIONS'];
  const seeds = [...new Set(all.map((v) => v.seed))];
  for (const seed of seeds.slice(0, 20)) {
    for (const v of all.filter((x) => x.seed === seed))
      lines.push(`  seed ${seed}: ${v.invariant}: ${v.detail}`);
    lines.push(`    replay: npm run sim -- --seed ${seed} --verbose`);
  }
  if (seeds.length > 20) lines.push(`  … and ${seeds.length - 20} more seeds`);
  return lines;
}

function printedSection(summary: Summary): string[] {
  const text = formatSummary(
    { summary, wallMs: 1_000, workers: 2, peakRssBytes: 0 },
    { firstSeed: 1, horizonMs: 14_000, flags: '' },
  );
  return text.slice(text.indexOf('VIOLATIONS')).split('\n');
}

describe('simulation summary', () => {
  it('gives the same max, median and p99 as the sorted list of every duration', () => {
    const rng = new Random(7);
    for (const n of [0, 1, 2, 3, 99, 100, 101, 1_000, 5_000]) {
      const values = Array.from({ length: n }, () => rng.int(0, n > 50 ? 6_000 : 3));
      const summary = emptySummary();
      // Spread over schedules of a few values each, as the runs report them.
      for (let i = 0; i < n; i += 3)
        addResult(summary, result(i, { deathToSwitchMs: values.slice(i, i + 3) }));
      expect(durationCount(summary.deathToSwitchMs)).toBe(n);
      for (const q of [0, 0.5, 0.99, 1])
        expect(durationQuantile(summary.deathToSwitchMs, q), `n ${n}, q ${q}`).toBe(
          sortedQuantile(values, q),
        );
      // At most one entry per distinct value, however many schedules.
      expect(summary.deathToSwitchMs.size).toBe(new Set(values).size);
    }
  });

  it('keeps the violations the report prints, and prints them as the whole list would', () => {
    const violationsOf = (seed: number): Violation[] => [
      ...(seed % 2 === 0 ? [{ invariant: 'oneLeaderPerEpoch', at: seed, detail: `even ${seed}` }] : []),
      ...(seed % 3 === 0
        ? [{ invariant: 'lookupNeverGoesBack', at: seed + 1, detail: `third ${seed}` }]
        : []),
      ...(seed === 97 ? [{ invariant: 'deadMasterFailedOver', at: 5, detail: 'late and rare' }] : []),
    ];
    const seeds = Array.from({ length: 120 }, (_, i) => i + 1);
    const all: SeedViolation[] = seeds.flatMap((seed) => violationsOf(seed).map((v) => ({ seed, ...v })));
    // As two workers would: interleaved shares, each folded in order, then merged and sorted.
    const merged = emptySummary();
    for (const w of [0, 1]) {
      const part = emptySummary();
      for (const seed of seeds.filter((_, i) => i % 2 === w))
        addResult(part, result(seed, { violations: violationsOf(seed) }));
      mergeSummaries(merged, part);
    }
    merged.violations.sort((a, b) => a.seed - b.seed || a.at - b.at);

    expect(merged.violationCount).toBe(all.length);
    expect(merged.violatingSchedules).toBe(new Set(all.map((v) => v.seed)).size);
    // Bounded: at most MAX_VIOLATING_SEEDS_KEPT seeds per invariant, and the first seed of each kept.
    for (const invariant of ['oneLeaderPerEpoch', 'lookupNeverGoesBack', 'deadMasterFailedOver']) {
      const kept = new Set(merged.violations.filter((v) => v.invariant === invariant).map((v) => v.seed));
      const first = all.filter((v) => v.invariant === invariant).map((v) => v.seed);
      expect([...kept]).toEqual(first.slice(0, MAX_VIOLATING_SEEDS_KEPT));
    }
    expect(merged.violations.length).toBeLessThan(all.length);
    expect(printedSection(merged)).toEqual(sectionFromAll(all));
  });

  it('prints the memory line only when asked', () => {
    const summary = emptySummary();
    addResult(summary, result(1));
    summary.heap = { peakInUse: 180_000_000, liveEarly: 11_000_000, liveAtEnd: 12_000_000 };
    const batch = { summary, wallMs: 1_000, workers: 2, peakRssBytes: 444_000_000 };
    const context = { firstSeed: 1, horizonMs: 14_000, flags: '' };
    expect(formatSummary(batch, context)).not.toContain('peak RSS');
    expect(formatSummary(batch, { ...context, memory: true })).toMatch(
      /^memory +peak RSS 444 MB \(the whole process, every thread\); live V8 heap 11 MB after 500 schedules of a thread, 12 MB after its last; at most 180 MB in use$/m,
    );
  });
});
