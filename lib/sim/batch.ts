/**
 * Many schedules at once: seeds spread over worker threads (each schedule is independent and seeded, so
 * the figures do not depend on how they are spread), each worker folding its results into a summary.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { FaultKind } from './faults.js';
import type { Violation } from './invariants.js';
import { type RunOptions, type RunResult, runSchedule } from './world.js';

export type ScheduleOptions = Omit<RunOptions, 'seed' | 'keepTrace' | 'faults'>;

export interface SeedViolation extends Violation {
  readonly seed: number;
}

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
  deathToSwitchMs: number[];
  detectionToSwitchMs: number[];
  violations: SeedViolation[];
  /** Tolerated KNOWN_GAPS hits, by gap: how many schedules, and the first seeds. */
  knownGaps: Record<string, { schedules: number; seeds: number[] }>;
  steps: number;
  storeCalls: number;
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
    deathToSwitchMs: [],
    detectionToSwitchMs: [],
    violations: [],
    knownGaps: {},
    steps: 0,
    storeCalls: 0,
  };
}

/** Exemption reasons without the names in them, so that they group. */
const reasonKey = (reason: string): string =>
  reason
    .replace(/\[[^\]]*\]/g, '[…]')
    .replace(/sentinel-\w+/g, 'a sentinel')
    .replace(/\d+/g, 'N');

export function addResult(summary: Summary, result: RunResult): void {
  summary.schedules += 1;
  if (result.profile === 'liveness') summary.liveness += 1;
  else summary.chaos += 1;
  for (const [kind, n] of Object.entries(result.faults) as Array<[FaultKind, number]>)
    summary.faults[kind] = (summary.faults[kind] ?? 0) + n;
  summary.failovers += result.failovers;
  summary.forcedFailovers += result.forcedFailovers;
  summary.falseFailovers += result.falseFailovers;
  summary.livenessChecked += result.livenessChecked;
  for (const reason of result.livenessExempt) {
    const key = reasonKey(reason);
    summary.livenessExempt[key] = (summary.livenessExempt[key] ?? 0) + 1;
  }
  summary.deathToSwitchMs.push(...result.deathToSwitchMs);
  summary.detectionToSwitchMs.push(...result.detectionToSwitchMs);
  for (const v of result.violations) summary.violations.push({ seed: result.seed, ...v });
  for (const gap of new Set(result.knownGaps.map((v) => v.knownGap ?? ''))) {
    const entry = summary.knownGaps[gap] ?? { schedules: 0, seeds: [] };
    summary.knownGaps[gap] = entry;
    entry.schedules += 1;
    if (entry.seeds.length < 5) entry.seeds.push(result.seed);
  }
  summary.steps += result.steps;
  summary.storeCalls += result.storeCalls;
}

export function mergeSummaries(into: Summary, from: Summary): void {
  into.schedules += from.schedules;
  into.liveness += from.liveness;
  into.chaos += from.chaos;
  for (const [kind, n] of Object.entries(from.faults) as Array<[FaultKind, number]>)
    into.faults[kind] = (into.faults[kind] ?? 0) + n;
  into.failovers += from.failovers;
  into.forcedFailovers += from.forcedFailovers;
  into.falseFailovers += from.falseFailovers;
  into.livenessChecked += from.livenessChecked;
  for (const [reason, n] of Object.entries(from.livenessExempt))
    into.livenessExempt[reason] = (into.livenessExempt[reason] ?? 0) + n;
  into.deathToSwitchMs.push(...from.deathToSwitchMs);
  into.detectionToSwitchMs.push(...from.detectionToSwitchMs);
  into.violations.push(...from.violations);
  for (const [gap, { schedules, seeds }] of Object.entries(from.knownGaps)) {
    const entry = into.knownGaps[gap] ?? { schedules: 0, seeds: [] };
    into.knownGaps[gap] = entry;
    entry.schedules += schedules;
    entry.seeds = [...entry.seeds, ...seeds].sort((a, b) => a - b).slice(0, 5);
  }
  into.steps += from.steps;
  into.storeCalls += from.storeCalls;
}

/** false: run every seed; true: stop after the first violating schedule; a name: after the first violating that. */
export type StopAt = boolean | string;

/** Runs the seeds in this thread, in order; stops after the first violating schedule if asked. */
export async function runSeedsHere(
  seeds: readonly number[],
  options: ScheduleOptions,
  stopAt: StopAt = false,
): Promise<Summary> {
  const summary = emptySummary();
  for (const seed of seeds) {
    addResult(summary, await runSchedule({ ...options, seed }));
    if (stopAt !== false && summary.violations.some((v) => stopAt === true || v.invariant === stopAt)) break;
    // Let the thread's own I/O through between schedules (a schedule never yields to it).
    await new Promise((resolve) => setImmediate(resolve));
  }
  return summary;
}

export interface BatchOptions {
  readonly firstSeed: number;
  readonly count: number;
  readonly schedule: ScheduleOptions;
  /** Worker threads; 0 runs everything in this thread. Default: the machine's parallelism. */
  readonly workers?: number;
  /** Each worker stops at its first violating schedule, or first violating this invariant (teeth). */
  readonly stopAt?: StopAt;
}

export interface BatchResult {
  readonly summary: Summary;
  readonly wallMs: number;
  readonly workers: number;
}

export async function runBatch(options: BatchOptions): Promise<BatchResult> {
  const started = performance.now();
  const seeds = Array.from({ length: options.count }, (_, i) => options.firstSeed + i);
  const workers = Math.min(options.workers ?? availableParallelism(), seeds.length);
  const summary = emptySummary();
  if (workers <= 0) {
    mergeSummaries(summary, await runSeedsHere(seeds, options.schedule, options.stopAt ?? false));
  } else {
    // Interleaved, so every worker gets a similar mix and the early seeds are run first everywhere.
    const shares = Array.from({ length: workers }, (_, w) => seeds.filter((_, i) => i % workers === w));
    const parts = await Promise.all(
      shares.map((share) => runInWorker(share, options.schedule, options.stopAt ?? false)),
    );
    for (const part of parts) mergeSummaries(summary, part);
  }
  summary.violations.sort((a, b) => a.seed - b.seed || a.at - b.at);
  return { summary, wallMs: performance.now() - started, workers };
}

function runInWorker(seeds: readonly number[], schedule: ScheduleOptions, stop: StopAt): Promise<Summary> {
  return new Promise((resolve, reject) => {
    // The worker loads the TypeScript sources through tsx, as the npm scripts do.
    const worker = new Worker(new URL('./worker.ts', import.meta.url), {
      workerData: { seeds, schedule, stop },
      execArgv: ['--import', 'tsx'],
    });
    let settled = false;
    worker.once('message', (summary: Summary) => {
      settled = true;
      resolve(summary);
      void worker.terminate();
    });
    worker.once('error', (error) => {
      settled = true;
      reject(error);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`simulation worker exited with code ${code} before reporting`));
    });
  });
}
