/**
 * The figures of many schedules, folded in one schedule at a time. Nothing in a summary grows with the
 * number of schedules: counts are sums, timings are kept as value → count (exact median, p99 and max,
 * bounded by the distinct values: whole milliseconds under the horizon), and only the violations of the
 * first MAX_VIOLATING_SEEDS_KEPT violating seeds of each invariant are kept whole (with the totals), which
 * is every violation the report prints and the first of each invariant.
 */
import type { FaultKind } from './faults.js';
import type { Violation } from './invariants.js';
import { type HeapFigures, mergeHeapFigures, noHeapFigures } from './memory.js';
import type { RunResult } from './world.js';

export interface SeedViolation extends Violation {
  readonly seed: number;
}

/** Durations in ms, each with how many times it occurred. */
export type Durations = Map<number, number>;

/** Violating seeds kept whole per invariant (the report lists as many). */
export const MAX_VIOLATING_SEEDS_KEPT = 20;

/** Seeds kept per tolerated known gap. */
const MAX_KNOWN_GAP_SEEDS = 5;

export interface Summary {
  schedules: number;
  liveness: number;
  chaos: number;
  faults: Partial<Record<FaultKind, number>>;
  failovers: number;
  forcedFailovers: number;
  falseFailovers: number;
  /** Liveness windows whose conditions held, so the bound was checked. */
  livenessChecked: number;
  /** Liveness windows not checked, by reason. */
  livenessExempt: Record<string, number>;
  deathToSwitchMs: Durations;
  detectionToSwitchMs: Durations;
  /** Every violation found. */
  violationCount: number;
  /** Schedules with at least one violation. */
  violatingSchedules: number;
  /** The violations of the first MAX_VIOLATING_SEEDS_KEPT violating seeds of each invariant. */
  violations: SeedViolation[];
  /** Tolerated KNOWN_GAPS hits, by gap: how many schedules, and the first seeds. */
  knownGaps: Record<string, { schedules: number; seeds: number[] }>;
  steps: number;
  storeCalls: number;
  /** The V8 heap of the threads that ran the schedules (memory.ts). */
  heap: HeapFigures;
}

export function emptySummary(): Summary {
  return {
    schedules: 0,
    liveness: 0,
    chaos: 0,
    faults: {},
    failovers: 0,
    forcedFailovers: 0,
    falseFailovers: 0,
    livenessChecked: 0,
    livenessExempt: {},
    deathToSwitchMs: new Map(),
    detectionToSwitchMs: new Map(),
    violationCount: 0,
    violatingSchedules: 0,
    violations: [],
    knownGaps: {},
    steps: 0,
    storeCalls: 0,
    heap: noHeapFigures(),
  };
}

/** Exemption reasons without the names in them, so that they group. */
const reasonKey = (reason: string): string =>
  reason
    .replace(/\[[^\]]*\]/g, '[…]')
    .replace(/sentinel-\w+/g, 'a sentinel')
    .replace(/\d+/g, 'N');

function addTo<K extends string>(counts: Partial<Record<K, number>>, key: K, n: number): void {
  counts[key] = (counts[key] ?? 0) + n;
}

/** One schedule's figures as a summary of one. */
function summaryOf(result: RunResult): Summary {
  const s = emptySummary();
  s.schedules = 1;
  if (result.profile === 'liveness') s.liveness = 1;
  else s.chaos = 1;
  s.faults = { ...result.faults };
  s.failovers = result.failovers;
  s.forcedFailovers = result.forcedFailovers;
  s.falseFailovers = result.falseFailovers;
  s.livenessChecked = result.livenessChecked;
  for (const reason of result.livenessExempt) addTo(s.livenessExempt, reasonKey(reason), 1);
  for (const ms of result.deathToSwitchMs) addDuration(s.deathToSwitchMs, ms, 1);
  for (const ms of result.detectionToSwitchMs) addDuration(s.detectionToSwitchMs, ms, 1);
  s.violationCount = result.violations.length;
  s.violatingSchedules = result.violations.length > 0 ? 1 : 0;
  s.violations = result.violations.map((v) => ({ seed: result.seed, ...v }));
  for (const gap of new Set(result.knownGaps.map((v) => v.knownGap ?? '')))
    s.knownGaps[gap] = { schedules: 1, seeds: [result.seed] };
  s.steps = result.steps;
  s.storeCalls = result.storeCalls;
  return s;
}

export function addResult(summary: Summary, result: RunResult): void {
  mergeSummaries(summary, summaryOf(result));
}

export function mergeSummaries(into: Summary, from: Summary): void {
  into.schedules += from.schedules;
  into.liveness += from.liveness;
  into.chaos += from.chaos;
  for (const [kind, n] of Object.entries(from.faults) as Array<[FaultKind, number]>)
    addTo(into.faults, kind, n);
  into.failovers += from.failovers;
  into.forcedFailovers += from.forcedFailovers;
  into.falseFailovers += from.falseFailovers;
  into.livenessChecked += from.livenessChecked;
  for (const [reason, n] of Object.entries(from.livenessExempt)) addTo(into.livenessExempt, reason, n);
  for (const [ms, n] of from.deathToSwitchMs) addDuration(into.deathToSwitchMs, ms, n);
  for (const [ms, n] of from.detectionToSwitchMs) addDuration(into.detectionToSwitchMs, ms, n);
  into.violationCount += from.violationCount;
  into.violatingSchedules += from.violatingSchedules;
  if (from.violations.length > 0)
    into.violations = firstSeedsOfEach([...into.violations, ...from.violations]);
  for (const [gap, { schedules, seeds }] of Object.entries(from.knownGaps)) {
    const entry = into.knownGaps[gap] ?? { schedules: 0, seeds: [] };
    into.knownGaps[gap] = entry;
    entry.schedules += schedules;
    entry.seeds = [...entry.seeds, ...seeds].sort((a, b) => a - b).slice(0, MAX_KNOWN_GAP_SEEDS);
  }
  into.steps += from.steps;
  into.storeCalls += from.storeCalls;
  mergeHeapFigures(into.heap, from.heap);
}

/**
 * The violations of the first MAX_VIOLATING_SEEDS_KEPT seeds of each invariant, in their order. A seed
 * among the first that many violating any invariant is among the first of each invariant it violates, so
 * every violation of the seeds the report lists is kept.
 */
function firstSeedsOfEach(violations: readonly SeedViolation[]): SeedViolation[] {
  const seedsOf = new Map<string, Set<number>>();
  for (const v of violations) {
    const seeds = seedsOf.get(v.invariant) ?? new Set<number>();
    seedsOf.set(v.invariant, seeds.add(v.seed));
  }
  const lastKept = new Map<string, number>();
  for (const [invariant, seeds] of seedsOf) {
    const sorted = [...seeds].sort((a, b) => a - b);
    lastKept.set(invariant, sorted[Math.min(sorted.length, MAX_VIOLATING_SEEDS_KEPT) - 1] as number);
  }
  return violations.filter((v) => v.seed <= (lastKept.get(v.invariant) as number));
}

function addDuration(durations: Durations, ms: number, n: number): void {
  durations.set(ms, (durations.get(ms) ?? 0) + n);
}

export function durationCount(durations: Durations): number {
  let n = 0;
  for (const count of durations.values()) n += count;
  return n;
}

/**
 * The value at rank floor((n − 1) × q) of the n durations in ascending order (q = 1: the largest), as a
 * sorted array of them all would give it; null when there are none.
 */
export function durationQuantile(durations: Durations, q: number): number | null {
  const n = durationCount(durations);
  if (n === 0) return null;
  const rank = Math.min(n - 1, Math.floor((n - 1) * q));
  let seen = 0;
  for (const ms of [...durations.keys()].sort((a, b) => a - b)) {
    seen += durations.get(ms) as number;
    if (seen > rank) return ms;
  }
  return null;
}
