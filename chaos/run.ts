/**
 * `npm run chaos -- --minutes M [--seed S] [--down-after MS] [--json FILE] [--verbose]`
 *
 * Runs lambda-sentinel on real processes under a seeded random schedule of faults and prints the chaos
 * report (chaos/README.md explains every figure). Exit code: 0 clean, 1 a safety violation, 2 a false
 * failover or a system that did not converge after healing, 130 interrupted.
 *
 * Ctrl-C stops the run: the process registries of lib/runtime/redisProcess.ts and DynamoDB Local kill
 * their processes at once, the run heals and stops what is left and prints a partial report. A second
 * Ctrl-C exits immediately (the same registries still kill everything on exit).
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { runChaos, summaryOf } from './chaos.js';

const SECOND_SIGNAL_AFTER_MS = 1_000;
const USAGE = 'usage: npm run chaos -- --minutes M [--seed S] [--down-after MS] [--json FILE] [--verbose]';

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(64);
}

function positive(text: string | undefined, what: string, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) fail(`${what} must be a positive number, got '${text}'`);
  return value;
}

/** Aborted by the first Ctrl-C; an error after that is the interruption, not a harness failure. */
const abort = new AbortController();
let interrupted = false;

async function main(): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        minutes: { type: 'string' },
        seed: { type: 'string' },
        'down-after': { type: 'string' },
        json: { type: 'string' },
        verbose: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const minutes = positive(values.minutes as string | undefined, '--minutes', 1);
  const seedText = values.seed as string | undefined;
  const seed = seedText === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(seedText);
  if (!Number.isSafeInteger(seed)) fail(`--seed must be an integer, got '${seedText}'`);
  const downAfterText = values['down-after'] as string | undefined;

  let firstSignalAt: number | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    // One Ctrl-C arrives twice: the terminal signals the whole process group, and tsx relays it to
    // this process as well. Only a signal well after the first one means "quit now".
    if (firstSignalAt !== null) {
      if (Date.now() - firstSignalAt > SECOND_SIGNAL_AFTER_MS) process.exit(130);
      return;
    }
    firstSignalAt = Date.now();
    console.error(`\n${signal}: stopping the chaos run (again to quit at once)`);
    interrupted = true;
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const result = await runChaos({
    durationMs: minutes * 60_000,
    seed,
    ...(downAfterText !== undefined ? { downAfterMs: positive(downAfterText, '--down-after', 0) } : {}),
    say: (line) => console.log(line),
    verbose: values.verbose === true,
    signal: abort.signal,
  });
  console.log(`\n${result.report}\n`);
  console.log(`reproduce the schedule: npm run chaos -- --minutes ${minutes} --seed ${seed}`);
  if (typeof values.json === 'string') {
    await writeFile(values.json, `${JSON.stringify(summaryOf(result), null, 2)}\n`);
  }
  return result.exitCode;
}

main().then(
  (code) => {
    process.exitCode = code;
    // Everything was stopped; if a stray keep-alive socket still holds the loop, do not hang on it.
    setTimeout(() => process.exit(code), 2_000).unref();
  },
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = interrupted ? 130 : 3;
  },
);
