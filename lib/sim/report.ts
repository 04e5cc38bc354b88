/** The table `npm run sim` prints, and the replay line for each violating seed. */
import type { BatchResult } from './batch.js';
import { FAULT_KINDS } from './faults.js';
import { KNOWN_GAPS, type KnownGap } from './invariants.js';
import { LIVE_HEAP_EARLY_AFTER } from './memory.js';
import {
  type Durations,
  durationCount,
  durationQuantile,
  MAX_VIOLATING_SEEDS_KEPT,
  type SeedViolation,
} from './summary.js';

/** Failing seeds listed in full (a broken build can fail thousands); the summary keeps that many. */
const MAX_SEEDS_LISTED = MAX_VIOLATING_SEEDS_KEPT;

function timing(durations: Durations): string {
  const n = durationCount(durations);
  if (n === 0) return 'none';
  const q = (at: number): number | null => durationQuantile(durations, at);
  return `max ${q(1)} ms (median ${q(0.5)}, p99 ${q(0.99)}, n ${n})`;
}

const megabytes = (bytes: number): string => `${Math.round(bytes / 1e6)} MB`;

export function formatSummary(
  batch: BatchResult,
  context: { firstSeed: number; horizonMs: number; flags: string; memory?: boolean },
): string {
  const { summary: s, wallMs, workers } = batch;
  const totalFaults = Object.values(s.faults).reduce((a, b) => a + (b ?? 0), 0);
  const rows: Array<[string, string]> = [
    [
      'schedules',
      `${s.schedules} (seeds ${context.firstSeed}–${context.firstSeed + s.schedules - 1}; ${s.liveness} liveness, ${s.chaos} chaos; ${context.horizonMs / 1000} s simulated each)`,
    ],
    ['faults injected', String(totalFaults)],
    ...FAULT_KINDS.map((kind): [string, string] => [`  ${kind}`, String(s.faults[kind] ?? 0)]),
    ['failovers', `${s.failovers} (${s.forcedFailovers} forced by SENTINEL FAILOVER)`],
    ['false failovers', `${s.falseFailovers} (automatic, while the old master was running as master)`],
    ['liveness checked', `${s.livenessChecked} windows (bound: down-after + leader-lease + 1.5 s)`],
    ...Object.entries(s.livenessExempt)
      .sort((a, b) => b[1] - a[1])
      .map(([reason, n]): [string, string] => [`  not checked`, `${n}: ${reason}`]),
    ['master death → switch', timing(s.deathToSwitchMs)],
    ['detection → switch', timing(s.detectionToSwitchMs)],
    ['violations', String(s.violationCount)],
    ...Object.entries(s.knownGaps).map(([gap, { schedules, seeds }]): [string, string] => [
      'known gap (tolerated)',
      `${gap}: ${schedules} schedules (seeds ${seeds.join(', ')}${schedules > seeds.length ? ', …' : ''}; --strict fails on it)`,
    ]),
    [
      'throughput',
      `${((s.schedules / wallMs) * 1000).toFixed(1)} schedules/s (${(wallMs / 1000).toFixed(1)} s wall, ${workers || 1} thread${workers > 1 ? 's' : ''}, ${s.steps} steps)`,
    ],
    ...(context.memory
      ? [
          [
            'memory',
            `peak RSS ${megabytes(batch.peakRssBytes)} (the whole process, every thread); live V8 heap ${megabytes(s.heap.liveEarly)} after ${LIVE_HEAP_EARLY_AFTER} schedules of a thread, ${megabytes(s.heap.liveAtEnd)} after its last; at most ${megabytes(s.heap.peakInUse)} in use`,
          ] as [string, string],
        ]
      : []),
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
  const gaps = Object.keys(s.knownGaps) as KnownGap[];
  if (gaps.length > 0) {
    lines.push(
      '',
      'KNOWN GAPS (violations of the current runtime, reported to its owners; --strict fails on them)',
    );
    for (const gap of gaps) lines.push(`  ${gap}: ${KNOWN_GAPS[gap]}`);
  }
  if (s.violationCount > 0) {
    lines.push('', 'VIOLATIONS');
    const seeds = [...new Set(s.violations.map((v) => v.seed))];
    for (const seed of seeds.slice(0, MAX_SEEDS_LISTED)) {
      for (const v of s.violations.filter((x) => x.seed === seed))
        lines.push(`  seed ${seed}: ${v.invariant}: ${v.detail}`);
      lines.push(`    replay: npm run sim -- --seed ${seed} --verbose${context.flags}`);
    }
    if (s.violatingSchedules > MAX_SEEDS_LISTED)
      lines.push(`  … and ${s.violatingSchedules - MAX_SEEDS_LISTED} more seeds`);
  }
  return lines.join('\n');
}

export function firstViolationBySeed(violations: readonly SeedViolation[]): SeedViolation | null {
  return violations.reduce<SeedViolation | null>(
    (first, v) => (first === null || v.seed < first.seed ? v : first),
    null,
  );
}
