/**
 * bench:bundle — what each Lambda bundle costs to ship and to start, and (with --loop) what the sentinel
 * loop costs to run.
 *
 * Bundles: builds dist/ (scripts/build.ts), then per bundle its size, its cold init time, i.e. the
 * time to import the bundled handler in a fresh Node 24 process (min / median / max over --runs), and
 * the process's resident memory once the import is done (median), with and without
 * --enable-source-maps (serverless.yml's nodeOptions parameter turns it on).
 *
 * --loop: runs the bundled sentinel handler as Lambda would, one invocation per --period seconds in
 * fresh processes, against real redis-server processes (1 master + 2 replicas) and DynamoDB Local, for
 * each --masters count. Node is started as the Lambda Node.js runtime starts it for the function's
 * memory (--memory, default serverless.yml's sentinelMemory): heap limits from the memory size
 * (lambdaHeapFlags), plus the template's NODE_OPTIONS (`--v8-defaults` leaves the heap limits out, as
 * this bench did before it modelled them: V8 then grows the heap far more lazily). The middle
 * invocation of three is the steady state: it takes the lease from its predecessor's hand-over and
 * hands over to its successor. Every DynamoDB request goes through a counting proxy that asks for
 * ReturnConsumedCapacity, so read and write units are measured, not estimated. Peak RSS is the
 * process's maximum resident set; the heap figures are sampled every 250 ms inside it
 * (process.memoryUsage). Prints the measurements and the monthly cost table of docs/deploy.md.
 *
 * The measurements also go to stderr as JSON lines; `--from FILE` prints the tables again from them.
 *
 *   npm run bench:bundle -- [--runs 5] [--loop] [--masters 1,10,100] [--period 60] [--memory MB]
 *                           [--v8-defaults] [--from FILE]
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { createDynamoClient } from '../lib/adapters/dynamodb/client.js';
import { createTable } from '../lib/adapters/dynamodb/schema.js';
import { startTopology } from '../lib/runtime/redisProcess.js';
import { buildFunctions, ROOT } from '../scripts/build.js';
import {
  CAPACITY_OPERATIONS,
  type CountingProxy,
  type OpStats,
  startCountingProxy,
  WRITE_OPERATIONS,
} from '../test/infra/dynamoProxy.js';
import { type InvokeResult, invokeBundle, schedulerEvent } from '../test/infra/invokeBundle.js';
import { startDynamoDbLocal } from '../test/support/dynamodbLocal.js';
import { markdownTable, summarise } from './support/stats.js';

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    loop: { type: 'boolean', default: false },
    masters: { type: 'string', default: '1,10,100' },
    period: { type: 'string', default: '60' },
    memory: { type: 'string' },
    'v8-defaults': { type: 'boolean', default: false },
    from: { type: 'string' },
  },
});
const RUNS = Number(opts.runs);
const MASTER_COUNTS = (opts.masters ?? '').split(',').map(Number);
const PERIOD_MS = Number(opts.period) * 1000;

/** A parameter's default in serverless.yml (`name: ${file(…):name, <default>}`). */
function templateDefault(name: string): string {
  const template = readFileSync(join(ROOT, 'serverless.yml'), 'utf8');
  const line = new RegExp(`^\\s+${name}: \\$\\{file\\(.*\\):${name}, '?([^'}]*)'?\\}\\s*$`, 'm').exec(
    template,
  );
  if (!line) throw new Error(`serverless.yml has no default for the parameter ${name}`);
  return line[1] ?? '';
}

/**
 * The heap limits the Lambda Node.js runtime's bootstrap gives node for a function of `memoryMb`: a tenth
 * of the memory for the young generation (two semi-spaces), the rest for the old generation.
 */
function lambdaHeapFlags(memoryMb: number): string[] {
  const newSpaceMb = Math.floor(memoryMb / 10);
  return [
    `--max-semi-space-size=${Math.floor(newSpaceMb / 2)}`,
    `--max-old-space-size=${memoryMb - newSpaceMb}`,
  ];
}

/** serverless.yml: timeout 120 s, memory sentinelMemory, NODE_OPTIONS nodeOptions; three sentinels. */
const TIMEOUT_MS = 120_000;
const MEMORY_MB = Number(opts.memory ?? templateDefault('sentinelMemory'));
const MEMORY_GB = MEMORY_MB / 1024;
const NODE_OPTIONS = templateDefault('nodeOptions')
  .split(' ')
  .filter((o) => o.length > 0);
/** How the sentinel's node is started in --loop. */
const LOOP_NODE_ARGS = [...(opts['v8-defaults'] ? [] : lambdaHeapFlags(MEMORY_MB)), ...NODE_OPTIONS];
const SENTINELS = 3;
/** A 30-day month, in minutes: one sentinel invocation per minute. */
const MINUTES_PER_MONTH = 30 * 24 * 60;

/**
 * Prices, us-east-1 (reference/aws.md unless marked). Lambda arm64 per GB-s is the rate behind aws.md's
 * "0.25 GB × 55 s × 43,200 = 594 k GB-s ≈ $7.9"; requests $0.20 per million.
 */
const PRICES = {
  lambdaArmGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  dynamoWru: 0.625 / 1e6,
  dynamoRru: 0.125 / 1e6,
  snsPublish: 0.5 / 1e6,
  /** CloudWatch Logs ingestion, standard class (list price, not in aws.md: unverified). */
  logsIngestGb: 0.5,
  /** CloudWatch Logs adds this much per log event to the billed size (unverified). */
  logsEventOverheadBytes: 26,
} as const;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
const usd = (x: number) => (x < 0.005 ? '$0.00' : `$${x.toFixed(2)}`);

// ---------------------------------------------------------------------------------------------------------
// Bundles: size and init time.

/** Init time (ms) and resident memory after the import (MB) of a bundle in a fresh process. */
async function importTime(
  bundle: string,
  nodeArgs: readonly string[],
): Promise<{ ms: number; rssMb: number }> {
  const program =
    'const t0 = performance.now(); const m = await import(process.env.LS_BUNDLE);' +
    "if (typeof m.handler !== 'function') throw new Error('no handler');" +
    'const ms = performance.now() - t0;' +
    'process.stdout.write(JSON.stringify({ ms, rssMb: process.memoryUsage.rss() / 1048576 }));';
  const child = spawn(process.execPath, [...nodeArgs, '--input-type=module', '--eval', program], {
    env: { PATH: process.env.PATH ?? '', LS_BUNDLE: pathToFileURL(bundle).href },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`importing ${bundle} failed (exit ${code})`);
  return JSON.parse(out) as { ms: number; rssMb: number };
}

async function benchBundles(): Promise<string> {
  const bundles = await buildFunctions();
  const rows: string[][] = [];
  for (const b of bundles) {
    const path = join(ROOT, b.file);
    const gz = gzipSync(readFileSync(path)).length;
    const plain: { ms: number; rssMb: number }[] = [];
    const mapped: { ms: number; rssMb: number }[] = [];
    for (let i = 0; i < RUNS; i++) {
      plain.push(await importTime(path, []));
      mapped.push(await importTime(path, ['--enable-source-maps']));
    }
    const f = (runs: { ms: number }[]) => {
      const s = summarise(runs.map((r) => r.ms));
      return `${s.min.toFixed(0)} / ${s.median.toFixed(0)} / ${s.max.toFixed(0)}`;
    };
    const rss = (runs: { rssMb: number }[]) => `${summarise(runs.map((r) => r.rssMb)).median.toFixed(0)} MB`;
    const largest = b.top
      .slice(0, 3)
      .map((t) => `${t.input} ${kb(t.bytes)}`)
      .join(', ');
    rows.push([
      b.name,
      kb(b.bytes),
      kb(gz),
      kb(b.mapBytes),
      f(plain),
      f(mapped),
      `${rss(plain)} / ${rss(mapped)}`,
      largest,
    ]);
  }
  return markdownTable(
    [
      'function',
      'bundle',
      'gzipped',
      'source map',
      'init ms (min / median / max)',
      'init ms with --enable-source-maps',
      'RSS after init, without / with source maps',
      'largest parts',
    ],
    rows,
  );
}

// ---------------------------------------------------------------------------------------------------------
// Loop cost: three invocations of one sentinel, the middle one measured.

interface LoopMeasurement {
  readonly masters: number;
  readonly durationMs: number;
  readonly leaseWaitMs: number;
  readonly cpuMs: number;
  readonly maxRssMb: number;
  /** Sampled inside the invocation's process: the highest heap in use and reserved, and the last one. */
  readonly heap?: { readonly peakUsedMb: number; readonly peakTotalMb: number; readonly endUsedMb: number };
  /** How node was started (heap limits, NODE_OPTIONS). */
  readonly nodeArgs?: readonly string[];
  readonly logBytes: number;
  readonly logLines: number;
  readonly rru: number;
  readonly wru: number;
  readonly ops: Record<string, OpStats>;
  readonly report: unknown;
}

/**
 * Loaded with --import into the invocation's process: samples process.memoryUsage() every 250 ms and
 * writes the peaks to LS_BENCH_MEMORY_FILE when the process exits (the invoker exits it explicitly).
 */
const MEMORY_SAMPLER = `data:text/javascript,${encodeURIComponent(`
import { writeFileSync } from 'node:fs';
const peak = { heapUsed: 0, heapTotal: 0 };
const sample = () => {
  const m = process.memoryUsage();
  peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
  peak.heapTotal = Math.max(peak.heapTotal, m.heapTotal);
  return m;
};
setInterval(sample, 250).unref();
process.on('exit', () => {
  const end = sample();
  writeFileSync(process.env.LS_BENCH_MEMORY_FILE, JSON.stringify({ peak, endHeapUsed: end.heapUsed }));
});
`)}`;

interface LogRecord {
  readonly message?: string;
  readonly timestamp?: string;
}

async function measureLoop(
  dynamoEndpoint: string,
  master: { host: string; port: number },
  masters: number,
): Promise<LoopMeasurement> {
  const dir = mkdtempSync(join(tmpdir(), 'ls-bench-loop-'));
  const table = `bench-${randomUUID()}`;
  await createTable(createDynamoClient({ endpoint: dynamoEndpoint }), table);
  const conf = join(dir, 'sentinel.conf');
  const lines: string[] = [];
  for (let i = 0; i < masters; i++) {
    lines.push(`sentinel monitor m${i} ${master.host} ${master.port} 2`);
    lines.push(`sentinel down-after-milliseconds m${i} 5000`);
  }
  writeFileSync(conf, `${lines.join('\n')}\n`);
  const bundle = join(ROOT, 'dist', 'sentinel.mjs');

  const proxies = await Promise.all([0, 1, 2].map(() => startCountingProxy(dynamoEndpoint)));
  const logLinesOf: string[][] = [[], [], []];
  const memoryFileOf = (i: number) => join(dir, `memory-${i}.json`);
  const invoke = (i: number, remainingMs: number): Promise<InvokeResult> => {
    let partial = '';
    return invokeBundle({
      bundle,
      env: {
        SENTINEL_ID: 'sentinel-a',
        TABLE_NAME: table,
        SENTINEL_CONFIG_FILE: conf,
        DYNAMODB_ENDPOINT: (proxies[i] as CountingProxy).endpoint,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        LS_BENCH_MEMORY_FILE: memoryFileOf(i),
      },
      nodeArgs: [...LOOP_NODE_ARGS, '--import', MEMORY_SAMPLER],
      memoryLimitInMB: MEMORY_MB,
      event: schedulerEvent(),
      remainingMs,
      functionName: 'lambda-sentinel-bench-sentinelA',
      onStdout: (chunk) => {
        const text = partial + chunk.toString('utf8');
        const parts = text.split('\n');
        partial = parts.pop() ?? '';
        (logLinesOf[i] as string[]).push(...parts.filter((l) => l.length > 0));
      },
    });
  };
  try {
    // A: the first invocation; B, one period later, is measured; C, one period after B, makes B hand over.
    const a = invoke(0, TIMEOUT_MS);
    await sleep(PERIOD_MS);
    const b = invoke(1, TIMEOUT_MS);
    await sleep(PERIOD_MS);
    const c = invoke(2, 10_000);
    const [, measured] = await Promise.all([a, b, c]);
    const logs = logLinesOf[1] as string[];
    const acquired = logs
      .map((l) => {
        try {
          return JSON.parse(l) as LogRecord;
        } catch {
          return {};
        }
      })
      .find((r) => r.message === 'loop lease acquired');
    const acquiredAt = acquired?.timestamp ? Date.parse(acquired.timestamp) : Number.NaN;
    const ops = Object.fromEntries((proxies[1] as CountingProxy).ops);
    const sampled = JSON.parse(readFileSync(memoryFileOf(1), 'utf8')) as {
      peak: { heapUsed: number; heapTotal: number };
      endHeapUsed: number;
    };
    const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;
    let rru = 0;
    let wru = 0;
    for (const [op, s] of Object.entries(ops)) {
      if (WRITE_OPERATIONS.has(op)) wru += s.capacityUnits;
      else rru += s.capacityUnits;
    }
    return {
      masters,
      durationMs: measured.endedAt - measured.startedAt,
      leaseWaitMs: acquiredAt - measured.startedAt,
      cpuMs: measured.cpuMs,
      maxRssMb: measured.maxRssMb,
      heap: {
        peakUsedMb: mb(sampled.peak.heapUsed),
        peakTotalMb: mb(sampled.peak.heapTotal),
        endUsedMb: mb(sampled.endHeapUsed),
      },
      nodeArgs: LOOP_NODE_ARGS,
      logBytes: measured.stdoutBytes,
      logLines: logs.length,
      rru,
      wru,
      ops,
      report: measured.result,
    };
  } finally {
    await Promise.all(proxies.map((p) => p.close()));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Lambda gives a function CPU in proportion to its memory: one vCPU at 1,769 MB. */
const MB_PER_VCPU = 1769;
const MEMORY_STEPS_MB = [128, 192, 256, 512, 1024, 1536, 2048] as const;
const MAX_MEMORY_STEP_MB = 3008;

/**
 * The smallest memory setting with headroom: peak RSS × 1.25 fits, and the loop's CPU share (measured
 * on one local core) stays under half of what that setting gets.
 */
function memoryFor(r: Pick<LoopMeasurement, 'maxRssMb' | 'cpuMs' | 'durationMs'>): number {
  const cpuShare = r.cpuMs / r.durationMs;
  const needed = Math.max(r.maxRssMb * 1.25, cpuShare * MB_PER_VCPU * 2);
  return MEMORY_STEPS_MB.find((m) => m >= needed) ?? MAX_MEMORY_STEP_MB;
}

/** CloudWatch items the stack creates, fixed per month (list prices, not in aws.md: unverified). */
const CLOUDWATCH_FIXED = {
  alarms: { count: 16, price: 0.1 },
  metrics: { count: 5, price: 0.3 },
  dashboards: { count: 1, price: 3 },
} as const;

function loopTables(results: readonly LoopMeasurement[]): string {
  const measured = markdownTable(
    [
      'masters',
      'billed duration per minute',
      'of which waiting for the lease',
      'CPU time',
      'peak RSS',
      'heap used, peak / at the end (reserved, peak)',
      'DynamoDB requests (by operation)',
      'RRU / WRU per minute',
      'log records / bytes per minute',
    ],
    results.map((r) => [
      String(r.masters),
      `${(r.durationMs / 1000).toFixed(1)} s`,
      `${(r.leaseWaitMs / 1000).toFixed(2)} s`,
      `${(r.cpuMs / 1000).toFixed(2)} s (${((100 * r.cpuMs) / r.durationMs).toFixed(1)} %)`,
      `${r.maxRssMb.toFixed(0)} MB`,
      r.heap
        ? `${r.heap.peakUsedMb.toFixed(0)} / ${r.heap.endUsedMb.toFixed(0)} MB (${r.heap.peakTotalMb.toFixed(0)} MB)`
        : '-',
      Object.entries(r.ops)
        .filter(([op]) => CAPACITY_OPERATIONS.has(op))
        .map(
          ([op, s]) =>
            `${op} ${s.count}${s.failedConditions ? ` (${s.failedConditions} condition failed)` : ''}`,
        )
        .join(', '),
      `${r.rru.toFixed(0)} / ${r.wru.toFixed(0)}`,
      `${r.logLines} / ${kb(r.logBytes)}`,
    ]),
  );

  const perMonth = SENTINELS * MINUTES_PER_MONTH;
  const rows: string[][] = [];
  for (const r of results) {
    const seconds = r.durationMs / 1000;
    const requests = perMonth * PRICES.lambdaRequest;
    const lambdaAt = (mb: number) => perMonth * seconds * (mb / 1024) * PRICES.lambdaArmGbSecond + requests;
    const gbSeconds = perMonth * seconds * MEMORY_GB;
    const lambda = lambdaAt(MEMORY_GB * 1024);
    const recommendedMb = memoryFor(r);
    const reads = perMonth * r.rru;
    const writes = perMonth * r.wru;
    const dynamo = reads * PRICES.dynamoRru + writes * PRICES.dynamoWru;
    const logGb = (perMonth * (r.logBytes + r.logLines * PRICES.logsEventOverheadBytes)) / 1024 ** 3;
    const logs = logGb * PRICES.logsIngestGb;
    rows.push([
      String(r.masters),
      `${SENTINELS} × ${MINUTES_PER_MONTH} × ${seconds.toFixed(1)} s × ${MEMORY_GB} GB = ${(gbSeconds / 1e6).toFixed(2)} M GB-s → ${usd(lambda)}` +
        (recommendedMb > MEMORY_GB * 1024
          ? ` (at ${recommendedMb} MB: ${usd(lambdaAt(recommendedMb))})`
          : ''),
      `${(reads / 1e6).toFixed(1)} M RRU + ${(writes / 1e6).toFixed(1)} M WRU → ${usd(dynamo)}`,
      usd(0),
      `${logGb.toFixed(1)} GB → ${usd(logs)}`,
      `**${usd(lambda + dynamo)}**`,
      `**${usd(lambda + dynamo + logs)}**`,
    ]);
  }
  const cost = markdownTable(
    [
      'masters',
      `Lambda, ${MEMORY_MB} MB arm64 (requests included)`,
      'DynamoDB on-demand',
      'SNS',
      'CloudWatch Logs ingestion',
      'Lambda + DynamoDB + SNS',
      'with log ingestion',
    ],
    rows,
  );
  const fixed = Object.values(CLOUDWATCH_FIXED).reduce((sum, x) => sum + x.count * x.price, 0);
  const sizing = results.map((r) => `${r.masters} master(s): ${memoryFor(r)} MB`).join('; ');
  return (
    `${measured}\n\n${cost}\n\n` +
    `Memory with headroom (peak RSS × 1.25, CPU under half the share): ${sizing}.\n` +
    `CloudWatch, fixed: ${CLOUDWATCH_FIXED.alarms.count} alarms × $${CLOUDWATCH_FIXED.alarms.price} + ` +
    `${CLOUDWATCH_FIXED.metrics.count} log metrics × $${CLOUDWATCH_FIXED.metrics.price} + ` +
    `${CLOUDWATCH_FIXED.dashboards.count} dashboard × $${CLOUDWATCH_FIXED.dashboards.price} = ${usd(fixed)} per month.`
  );
}

async function benchLoop(): Promise<string> {
  const dynamo = await startDynamoDbLocal();
  const topology = await startTopology({ replicas: 2 });
  try {
    const results: LoopMeasurement[] = [];
    for (const masters of MASTER_COUNTS) {
      const r = await measureLoop(dynamo.endpoint, topology.master.address, masters);
      // One JSON line per measurement: `--from` recomputes the tables from these.
      console.error(JSON.stringify(r));
      results.push(r);
    }
    return loopTables(results);
  } finally {
    await topology.stop();
    await dynamo.stop();
  }
}

async function main(): Promise<void> {
  const started = new Date();
  console.log(`## Bundles (${RUNS} imports each, Node ${process.version}, ${started.toISOString()})\n`);
  console.log(await benchBundles());
  if (opts.from) {
    const results = readFileSync(opts.from, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as LoopMeasurement);
    console.log(loopTables(results));
    return;
  }
  if (opts.loop) {
    console.log(
      `\n## Sentinel loop, one invocation per ${PERIOD_MS / 1000} s (the middle of three), ` +
        `${MEMORY_MB} MB, timeout ${TIMEOUT_MS / 1000} s, node ${LOOP_NODE_ARGS.join(' ') || '(no flags)'}\n`,
    );
    console.log(await benchLoop());
  }
}

await main();
