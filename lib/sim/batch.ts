/**
 * Many schedules at once: seeds spread over worker threads (each schedule is independent and seeded, so
 * the figures do not depend on how they are spread), each worker folding its results into a summary.
 * Memory does not grow with the number of schedules: a worker is told its seeds as a range, holds one
 * schedule at a time, and posts one summary (summary.ts) at the end.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { HeapSampler } from './memory.js';
import { addResult, emptySummary, mergeSummaries, type Summary } from './summary.js';
import { type RunOptions, runSchedule } from './world.js';

export type { SeedViolation, Summary } from './summary.js';

export type ScheduleOptions = Omit<RunOptions, 'seed' | 'keepTrace' | 'faults'>;

/** Seeds first, first + step, first + 2 × step…, `count` of them. */
export interface SeedRange {
  readonly first: number;
  readonly step: number;
  readonly count: number;
}

/** false: run every seed; true: stop after the first violating schedule; a name: after the first violating that. */
export type StopAt = boolean | string;

/**
 * Runs the seeds in this thread, in order; stops after the first violating schedule if asked.
 * `measureLiveHeap`: also measure the live heap (memory.ts), for --memory-report.
 */
export async function runSeedsHere(
  seeds: SeedRange,
  options: ScheduleOptions,
  stopAt: StopAt = false,
  measureLiveHeap = false,
): Promise<Summary> {
  const summary = emptySummary();
  const heap = new HeapSampler(measureLiveHeap);
  for (let i = 0; i < seeds.count; i += 1) {
    addResult(summary, await runSchedule({ ...options, seed: seeds.first + i * seeds.step }));
    heap.afterSchedule();
    if (stopAt !== false && summary.violations.some((v) => stopAt === true || v.invariant === stopAt)) break;
    // Let the thread's own I/O through between schedules (a schedule never yields to it).
    await new Promise((resolve) => setImmediate(resolve));
  }
  summary.heap = heap.atEnd();
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
  /** Measure each thread's live heap too (--memory-report). */
  readonly measureLiveHeap?: boolean;
}

export interface BatchResult {
  readonly summary: Summary;
  readonly wallMs: number;
  readonly workers: number;
  /** The most resident memory the whole process (every thread) used since it started (bytes). */
  readonly peakRssBytes: number;
}

export async function runBatch(options: BatchOptions): Promise<BatchResult> {
  const started = performance.now();
  const { firstSeed, count } = options;
  const workers = Math.min(options.workers ?? availableParallelism(), count);
  const stopAt = options.stopAt ?? false;
  const live = options.measureLiveHeap ?? false;
  const summary = emptySummary();
  if (workers <= 0) {
    const seeds = { first: firstSeed, step: 1, count };
    mergeSummaries(summary, await runSeedsHere(seeds, options.schedule, stopAt, live));
  } else {
    // Interleaved, so every worker gets a similar mix and the early seeds are run first everywhere.
    const shares = Array.from({ length: workers }, (_, w) => ({
      first: firstSeed + w,
      step: workers,
      count: Math.ceil((count - w) / workers),
    }));
    const parts = await Promise.all(
      shares.map((share) => runInWorker(share, options.schedule, stopAt, live)),
    );
    for (const part of parts) mergeSummaries(summary, part);
  }
  summary.violations.sort((a, b) => a.seed - b.seed || a.at - b.at);
  return {
    summary,
    wallMs: performance.now() - started,
    workers,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
}

function runInWorker(
  seeds: SeedRange,
  schedule: ScheduleOptions,
  stop: StopAt,
  measureLiveHeap: boolean,
): Promise<Summary> {
  return new Promise((resolve, reject) => {
    // The worker loads the TypeScript sources through tsx, as the npm scripts do.
    const worker = new Worker(new URL('./worker.ts', import.meta.url), {
      workerData: { seeds, schedule, stop, measureLiveHeap },
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
