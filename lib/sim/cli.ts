/**
 * npm run sim -- --seeds N [--seed S] [--verbose] [--strict] [--workers K] [--horizon MS] [--break RULE]…
 *   [--memory-report]
 *
 * Runs N seeded schedules (seeds S…S+N−1, default 1…1000) of the deterministic simulation and prints the
 * figures; exits 1 if any invariant was violated, with a replay command for each failing seed.
 * `--seed S` alone replays one schedule; with `--verbose` it prints the whole trace (every fault, store
 * write, vote, event and REPLICAOF, with virtual times in ms).
 * `--break RULE` switches one safety mechanism off (the teeth: the run should then fail):
 *   claim-unconditional, claim-reuses-epoch, advance-unfenced, advance-acked-not-applied, votes-never-stale,
 *   one-vote-counts-for-all, stale-lookups, claims-lost, hide-priority-zero.
 * `--strict` also fails on the KNOWN_GAPS (lib/sim/invariants.ts): violations found in the current runtime,
 * reported and otherwise only counted until they are fixed.
 * `--memory-report` adds a line with the process's peak resident memory and each thread's live V8 heap
 * (after a full collection) early in its run and at its end: neither grows with the number of schedules.
 */
import { parseArgs } from 'node:util';
import { runBatch, type ScheduleOptions } from './batch.js';
import { formatSummary } from './report.js';
import type { BrokenStoreRule } from './store.js';
import { DEFAULT_HORIZON_MS, runSchedule } from './world.js';

const STORE_RULES: readonly BrokenStoreRule[] = [
  'claim-unconditional',
  'claim-reuses-epoch',
  'advance-unfenced',
  'advance-acked-not-applied',
  'votes-never-stale',
  'one-vote-counts-for-all',
  'stale-lookups',
  'claims-lost',
];

function usage(message: string): never {
  console.error(
    `${message}\nusage: npm run sim -- --seeds N [--seed S] [--verbose] [--strict] [--workers K] [--horizon MS] [--break RULE] [--memory-report]`,
  );
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    seeds: { type: 'string' },
    seed: { type: 'string' },
    verbose: { type: 'boolean', default: false },
    strict: { type: 'boolean', default: false },
    workers: { type: 'string' },
    horizon: { type: 'string' },
    break: { type: 'string', multiple: true, default: [] },
    'memory-report': { type: 'boolean', default: false },
  },
});

const int = (name: string, text: string | undefined, fallback: number): number => {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) usage(`--${name} must be a non-negative integer, got "${text}"`);
  return n;
};

const rules = values.break ?? [];
for (const rule of rules) {
  if (rule !== 'hide-priority-zero' && !STORE_RULES.includes(rule as BrokenStoreRule))
    usage(`unknown --break rule "${rule}"`);
}
const horizonMs = int('horizon', values.horizon, DEFAULT_HORIZON_MS);
if (horizonMs < 10_000) usage('--horizon must be at least 10000 (a liveness window needs it)');
const schedule: ScheduleOptions = {
  horizonMs,
  strict: values.strict,
  broken: rules.filter((r): r is BrokenStoreRule => r !== 'hide-priority-zero'),
  hidePriorityZero: rules.includes('hide-priority-zero'),
};
const flags = [...(values.strict ? [' --strict'] : []), ...rules.map((r) => ` --break ${r}`)].join('');
const firstSeed = int('seed', values.seed, 1);
const count = int('seeds', values.seeds, values.seed !== undefined ? 1 : 1_000);

if (count === 1 && values.verbose) {
  const result = await runSchedule({ ...schedule, seed: firstSeed, keepTrace: true });
  for (const line of result.trace) console.log(line);
  console.log(`\nseed ${firstSeed} (${result.profile}): trace hash ${result.traceHash}`);
}
const batch = await runBatch({
  firstSeed,
  count,
  schedule,
  workers: count < 50 ? 0 : values.workers === undefined ? undefined : int('workers', values.workers, 0),
  measureLiveHeap: values['memory-report'],
});
console.log(formatSummary(batch, { firstSeed, horizonMs, flags, memory: values['memory-report'] }));
process.exitCode = batch.summary.violationCount > 0 ? 1 : 0;
