/**
 * bench:bundle — what each Lambda bundle costs to ship and to start, and (with --loop) what a month of
 * sentinels costs to run.
 *
 * Bundles: builds dist/ (scripts/build.ts), then per bundle its size, its cold init time, i.e. the
 * time to import the bundled handler in a fresh Node 24 process (min / median / max over --runs), and
 * the process's resident memory once the import is done (median), with and without
 * --enable-source-maps (serverless.yml's nodeOptions parameter turns it on).
 *
 * --loop: runs the bundled sentinel handler as Lambda would, one scheduled invocation per --period in
 * fresh processes, each with a context that counts down --timeout (shortened from the deployed timeout
 * so that a run is a few minutes), against real redis-server processes and DynamoDB Local, for each
 * --masters count. With the deployed model an invocation either finds the holder of the loop lease
 * running and returns at once ({ skipped: 'holder-running' }: a "quick" invocation), or (from the
 * holder's hand-over window on) takes the lease over and becomes the holder. With --timeout 240 and
 * --period 60: +0 s becomes the holder, +60 s is quick, +120 s takes over, +180 s is quick, +240 s takes
 * over with a short context (it only ends the run). Measured on the holder that took over at +120 s:
 * its store units, log lines and CPU per minute over a window with no hand-over in it; the hand-over
 * (the newcomer's lease wait, and the units and lines the hand-over adds over a steady holder); the
 * quick invocations (duration, units, lines). Invocations are told apart by what the handler returns, so
 * a handler that hands over every minute is measured too (it has no quick invocations).
 *
 * Node is started as the Lambda Node.js runtime starts it for the function's memory (--memory, default
 * the deployed sentinel memory): heap limits from the memory size (lambdaHeapFlags), plus the template's
 * NODE_OPTIONS (`--v8-defaults` leaves the heap limits out). Every DynamoDB request goes through a
 * counting proxy that asks for ReturnConsumedCapacity, so read and write units are measured, not
 * estimated. Peak RSS is the process's maximum resident set; heap and CPU are sampled inside it.
 *
 * The cost table prices a 30-day month of three sentinels from these measurements, with the deployed
 * timeout and memory and the fixed CloudWatch part read from the rendered template (`npm run package`).
 * The measurements also go to stderr as JSON lines; `--from FILE` prints the loop's tables again from
 * them (one file may hold the lines of several runs), measuring nothing.
 *
 *   npm run bench:bundle -- [--runs 5] [--loop] [--masters 1,10,100,1000] [--period 60] [--timeout 240]
 *                           [--memory MB[,MB…]] [--plain-masters-from 1000] [--v8-defaults] [--from FILE]
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { HANDOVER_MARGIN_MS, HANDOVER_WINDOW_MS } from '../functions/sentinel.js';
import { createDynamoClient } from '../lib/adapters/dynamodb/client.js';
import { createTable } from '../lib/adapters/dynamodb/schema.js';
import { DynamoStore } from '../lib/adapters/dynamodb/store.js';
import { SENTINEL_DEFAULTS } from '../lib/core/constants.js';
import { type RedisHandle, startRedis, startTopology } from '../lib/runtime/redisProcess.js';
import { buildFunctions, ROOT } from '../scripts/build.js';
import { describeFixedCost, fixedCloudWatchCost } from '../test/infra/cloudwatchCost.js';
import {
  CAPACITY_OPERATIONS,
  type CountingProxy,
  type OpStats,
  startCountingProxy,
  WRITE_OPERATIONS,
} from '../test/infra/dynamoProxy.js';
import { type InvokeResult, invokeBundle, schedulerEvent } from '../test/infra/invokeBundle.js';
import { deployed, renderTemplate, type Template } from '../test/infra/renderedTemplate.js';
import { startDynamoDbLocal } from '../test/support/dynamodbLocal.js';
import { QUIET_MASTER_ARGS } from './support/quietMasters.js';
import { markdownTable, summarise } from './support/stats.js';

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    loop: { type: 'boolean', default: false },
    masters: { type: 'string', default: '1,10,100,1000' },
    period: { type: 'string', default: '60' },
    timeout: { type: 'string', default: '240' },
    memory: { type: 'string' },
    'plain-masters-from': { type: 'string', default: '1000' },
    'v8-defaults': { type: 'boolean', default: false },
    from: { type: 'string' },
  },
});
const RUNS = Number(opts.runs);
const MASTER_COUNTS = (opts.masters ?? '').split(',').map(Number);
const PERIOD_MS = Number(opts.period) * 1000;
/** The bench's context timeout: the deployed one would make a run last half an hour per count. */
const BENCH_TIMEOUT_MS = Number(opts.timeout) * 1000;
/** From this many masters on, each master is its own redis-server (no replicas); below, one shared topology. */
const PLAIN_MASTERS_FROM = Number(opts['plain-masters-from']);
for (const [name, value] of [
  ['--runs', RUNS],
  ['--period', PERIOD_MS],
  ['--timeout', BENCH_TIMEOUT_MS],
  ['--plain-masters-from', PLAIN_MASTERS_FROM],
  ...MASTER_COUNTS.map((n) => ['--masters', n] as const),
] as const) {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
}

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

const NODE_OPTIONS = templateDefault('nodeOptions')
  .split(' ')
  .filter((o) => o.length > 0);
/** How the sentinel's node is started in --loop for a function of `memoryMb`. */
const loopNodeArgs = (memoryMb: number): string[] => [
  ...(opts['v8-defaults'] ? [] : lambdaHeapFlags(memoryMb)),
  ...NODE_OPTIONS,
];
const SENTINELS = 3;
/** A 30-day month, in minutes: one scheduled sentinel invocation per minute. */
const MINUTES_PER_MONTH = 30 * 24 * 60;
const SECONDS_PER_MONTH = MINUTES_PER_MONTH * 60;

/**
 * Prices: us-east-1 list prices, without the free tier. Lambda arm64 $0.0000133334 per GB-s and $0.20
 * per million requests; DynamoDB on-demand $0.625 per million write and $0.125 per million read units.
 */
const PRICES = {
  lambdaArmGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  dynamoWru: 0.625 / 1e6,
  dynamoRru: 0.125 / 1e6,
  snsPublish: 0.5 / 1e6,
  /** CloudWatch Logs ingestion, standard class (list price). */
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
// Loop cost: one sentinel's scheduled invocations over two holder turns, measured.

/** After the measured holder took the lease, its start-up (connections, first reads) is left out of the steady window. */
const SETTLE_MS = 20_000;
/** The steady window ends this long before the holder's hand-over window or its successor's start. */
const WINDOW_END_MARGIN_MS = 2_000;
/** The shortest steady window that gives a per-minute rate (a tick line every 30 s, a lease renewal every 60 s). */
const MIN_STEADY_WINDOW_MS = 40_000;
/** The last invocation only ends the measured holder's turn: it takes over, then stops soon. */
const FINAL_REMAINING_MS = 15_000;
/** The bench's own DynamoDB calls (table, the measured full read) wait this long: DynamoDB Local is slow on a loaded machine. */
const PATIENT_MS = 30_000;
/** …plus this much per master: at 1,000 masters, taking over (start-up included) takes tens of seconds here. */
const FINAL_REMAINING_PER_MASTER_MS = 50;
/** How often the counting proxies' totals are copied into a timeline. */
const OPS_SNAPSHOT_MS = 250;
/** Full reads of every master record per month (the backstop of the change counter). */
const FULL_READS_PER_MONTH = (SECONDS_PER_MONTH * 1000) / SENTINEL_DEFAULTS.recordsFullReadPeriodMs;
/** The handler's result for an invocation that found the holder running. */
const HOLDER_RUNNING = 'holder-running';
/** Where this bench's own redis-servers listen (plain masters): far from the test harness's 12,000–30,000. */
const PLAIN_MASTER_PORT_MIN = 40_000;
const PLAIN_MASTER_PORT_MAX = 50_000;
/** redis-servers started at once. */
const PLAIN_MASTER_BATCH = 25;

type Ops = Record<string, OpStats>;

/** How many times the handler ran in the invocation's process (a quick one is called twice: warm). */
const callsOf = (i: { result?: { warm?: unknown } | null }): number => (i.result?.warm ? 2 : 1);

interface Units {
  readonly rru: number;
  readonly wru: number;
}

/** One part of a sentinel's month as measured: units, log lines and bytes, and the requests behind them. */
interface Part extends Units {
  readonly logLines: number;
  readonly logBytes: number;
  readonly ops: Ops;
}

/** What `--from` reads back: one JSON line per masters count. */
interface LoopMeasurement {
  readonly version: 2;
  readonly masters: number;
  /** 'shared' (one master + 2 replicas, monitored `masters` times) or 'plain' (one redis-server per master). */
  readonly topology: 'shared' | 'plain';
  readonly measuredAt: string;
  readonly command: string;
  /** From the rendered template (the default deployment). */
  readonly deployed: {
    readonly memoryMb: number;
    readonly timeoutS: number;
    readonly cloudwatchFixedUsd: number;
    readonly cloudwatchFixed: string;
  };
  readonly bench: {
    readonly memoryMb: number;
    readonly timeoutS: number;
    readonly periodS: number;
    readonly nodeArgs: readonly string[];
    /** What each invocation was, in schedule order: holder, quick, or what it returned otherwise. */
    readonly invocations: readonly string[];
  };
  /** The holder that took over from the first, over its steady window; rates are per minute. */
  readonly holder: Part & {
    readonly windowS: number;
    readonly durationMs: number;
    readonly cpuShare: number;
    readonly peakRssMb: number;
    readonly heap: { readonly peakUsedMb: number; readonly peakTotalMb: number; readonly endUsedMb: number };
  };
  /** One hand-over: the newcomer's wait, and what both invocations add over a steady holder. */
  readonly handover: Part & { readonly leaseWaitMs: number; readonly spanS: number };
  /** One quick invocation (mean over those seen); null when none found the holder running. */
  readonly quick:
    | (Part & {
        readonly count: number;
        readonly durationMs: number;
        readonly cpuMs: number;
        readonly maxRssMb: number;
      })
    | null;
  /** One full read of every master record (listMasters), taken out of the parts above wherever it fell. */
  readonly fullRead: Part;
}

interface LogLine {
  readonly at: number;
  /** With its newline: what the runtime ships. */
  readonly bytes: number;
  readonly message?: string;
  readonly timestamp?: string;
}

interface Sampled {
  readonly peak: { readonly heapUsed: number; readonly heapTotal: number };
  readonly endHeapUsed: number;
  /** [epoch ms, CPU ms since the process started] every second. */
  readonly cpu: readonly (readonly [number, number])[];
}

interface Invocation {
  readonly index: number;
  readonly remainingMs: number;
  readonly proxy: CountingProxy;
  readonly timeline: { readonly at: number; readonly ops: Ops }[];
  readonly lines: LogLine[];
  /** Its AWS_SDK_UA_APP_ID: how the router and the sampler tell it apart. */
  readonly appId: string;
  readonly memoryFile: string;
  result?: InvokeResult;
  sampled?: Sampled;
}

/**
 * Loaded with --import into the invocation's process: samples process.memoryUsage() every 250 ms and the
 * CPU time every second, and writes them to LS_BENCH_SAMPLES_DIR/<AWS_SDK_UA_APP_ID>.json when the process
 * exits (the invoker exits it explicitly).
 */
const PROCESS_SAMPLER = `data:text/javascript,${encodeURIComponent(`
import { writeFileSync } from 'node:fs';
// Read now: Powertools appends its own tag to AWS_SDK_UA_APP_ID when it loads.
const file = process.env.LS_BENCH_SAMPLES_DIR + '/' + process.env.AWS_SDK_UA_APP_ID + '.json';
const peak = { heapUsed: 0, heapTotal: 0 };
const cpu = [];
const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const sample = () => {
  const m = process.memoryUsage();
  peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
  peak.heapTotal = Math.max(peak.heapTotal, m.heapTotal);
  return m;
};
setInterval(sample, 250).unref();
setInterval(() => cpu.push([Date.now(), cpuMs()]), 1000).unref();
process.on('exit', () => {
  const end = sample();
  cpu.push([Date.now(), cpuMs()]);
  writeFileSync(file, JSON.stringify({ peak, endHeapUsed: end.heapUsed, cpu }));
});
`)}`;

/**
 * One DynamoDB endpoint in front of the invocations' counting proxies: each request goes to the proxy
 * of the invocation whose SDK app id (`app/<id>` in its User-Agent) is in `routes`.
 */
async function startRouter(): Promise<{
  readonly endpoint: string;
  readonly routes: Map<string, string>;
  close(): Promise<void>;
}> {
  const routes = new Map<string, string>();
  const server = createHttpServer((req, res) => {
    const agent = `${req.headers['user-agent'] ?? ''} ${req.headers['x-amz-user-agent'] ?? ''}`;
    // Powertools appends its own tag to the app id (`app/<id>-PT-…`).
    const app = /\bapp\/([\w.-]+)/.exec(agent)?.[1] ?? '';
    const route = [...routes.keys()].find((id) => app === id || app.startsWith(`${id}-`));
    const target = route === undefined ? undefined : routes.get(route);
    if (target === undefined) {
      res.writeHead(502);
      res.end(`no route for user agent ${agent}`);
      return;
    }
    const url = new URL(target);
    const forward = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: url.host },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    forward.on('error', (error) => {
      res.writeHead(502);
      res.end(String(error));
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    routes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const copyOps = (ops: ReadonlyMap<string, OpStats>): Ops =>
  Object.fromEntries([...ops].map(([op, s]) => [op, { ...s }]));

/** The proxy's totals as of `at`: the last snapshot taken at or before it. */
function opsAt(timeline: Invocation['timeline'], at: number): Ops {
  let found: Ops = {};
  for (const s of timeline) {
    if (s.at > at) break;
    found = s.ops;
  }
  return found;
}

function opsBetween(timeline: Invocation['timeline'], from: number, to: number): Ops {
  const before = opsAt(timeline, from);
  const after = opsAt(timeline, to);
  const out: Ops = {};
  for (const [op, s] of Object.entries(after)) {
    const b = before[op] ?? { count: 0, failedConditions: 0, capacityUnits: 0 };
    if (s.count === b.count) continue;
    out[op] = {
      count: s.count - b.count,
      failedConditions: s.failedConditions - b.failedConditions,
      capacityUnits: s.capacityUnits - b.capacityUnits,
    };
  }
  return out;
}

function addOps(...all: Ops[]): Ops {
  const out: Ops = {};
  for (const ops of all) {
    for (const [op, s] of Object.entries(ops)) {
      const o = out[op] ?? { count: 0, failedConditions: 0, capacityUnits: 0 };
      out[op] = {
        count: o.count + s.count,
        failedConditions: o.failedConditions + s.failedConditions,
        capacityUnits: o.capacityUnits + s.capacityUnits,
      };
    }
  }
  return out;
}

function unitsOf(ops: Ops): Units {
  let rru = 0;
  let wru = 0;
  for (const [op, s] of Object.entries(ops)) {
    if (WRITE_OPERATIONS.has(op)) wru += s.capacityUnits;
    else rru += s.capacityUnits;
  }
  return { rru, wru };
}

/** Full reads of the master records in `ops`: listMasters is the only BatchGetItem. */
const fullReadsIn = (ops: Ops, fullRead: Ops): number =>
  (ops.BatchGetItem?.count ?? 0) / Math.max(1, fullRead.BatchGetItem?.count ?? 1);

function linesBetween(lines: readonly LogLine[], from: number, to: number): { lines: number; bytes: number } {
  const inside = lines.filter((l) => l.at >= from && l.at < to);
  return { lines: inside.length, bytes: inside.reduce((n, l) => n + l.bytes, 0) };
}

/** CPU share (0–1 of one core) of a sampled process between two times. */
function cpuShareBetween(sampled: Sampled, from: number, to: number): number {
  const first = sampled.cpu.find(([at]) => at >= from);
  const last = [...sampled.cpu].reverse().find(([at]) => at <= to);
  if (!first || !last || last[0] <= first[0]) return Number.NaN;
  return (last[1] - first[1]) / (last[0] - first[0]);
}

const isQuick = (i: Invocation) =>
  (i.result?.result as { skipped?: string } | null | undefined)?.skipped === HOLDER_RUNNING;
const reportOf = (i: Invocation) =>
  (i.result?.result as { report?: { end: string; resumedFromHandover: boolean } } | null | undefined)?.report;
const isHolder = (i: Invocation) => {
  const report = reportOf(i);
  return report !== undefined && report.end !== 'lease-not-acquired' && report.end !== HOLDER_RUNNING;
};
const kindOf = (i: Invocation): string =>
  isQuick(i)
    ? 'quick'
    : isHolder(i)
      ? `holder (${reportOf(i)?.end})`
      : JSON.stringify(i.result?.result ?? null);

/** When the invocation took the lease (its "loop lease acquired" line). */
function acquiredAt(i: Invocation): number {
  const line = i.lines.find((l) => l.message === 'loop lease acquired');
  return line?.timestamp ? Date.parse(line.timestamp) : Number.NaN;
}

/** Where the invocation's hand-over window begins: stopAt − HANDOVER_WINDOW_MS. */
const handoverFromOf = (i: Invocation, handlerStartedAt: number) =>
  handlerStartedAt + i.remainingMs - HANDOVER_MARGIN_MS - HANDOVER_WINDOW_MS;

/**
 * The schedule of one run: invocation k at k × period. The first becomes the holder; the one at or after
 * its hand-over window takes over (the measured holder); the one at or after that one's window ends it.
 */
function scheduleLength(): number {
  const toWindow = BENCH_TIMEOUT_MS - HANDOVER_MARGIN_MS - HANDOVER_WINDOW_MS;
  if (toWindow <= PERIOD_MS) {
    throw new Error(
      `--timeout ${BENCH_TIMEOUT_MS / 1000} leaves no invocation that finds the holder running: ` +
        `it must exceed ${(PERIOD_MS + HANDOVER_MARGIN_MS + HANDOVER_WINDOW_MS) / 1000} s`,
    );
  }
  const takeover = Math.ceil(toWindow / PERIOD_MS);
  const last = Math.ceil((takeover * PERIOD_MS + toWindow) / PERIOD_MS);
  return last + 1;
}

interface Deployment {
  readonly memoryMb: number;
  readonly timeoutS: number;
  readonly cloudwatchFixedUsd: number;
  readonly cloudwatchFixed: string;
}

/** The default deployment's sentinel memory and timeout, and its fixed CloudWatch cost, from the rendered template. */
async function readDeployment(): Promise<Deployment> {
  const dir = mkdtempSync(join(tmpdir(), 'ls-bench-package-'));
  try {
    const template: Template = await renderTemplate({ packageDir: dir });
    const sentinels = deployed(template).filter(
      ([id, r]) => r.Type === 'AWS::Lambda::Function' && /^Sentinel[A-Z]LambdaFunction$/.test(id),
    );
    const settings = new Set(sentinels.map(([, r]) => `${r.Properties.MemorySize}/${r.Properties.Timeout}`));
    if (sentinels.length !== SENTINELS || settings.size !== 1) {
      throw new Error(
        `expected ${SENTINELS} sentinel functions with one memory and timeout, got ${[...settings]}`,
      );
    }
    const [memoryMb, timeoutS] = [...settings][0]?.split('/').map(Number) ?? [];
    const fixed = fixedCloudWatchCost(template);
    return {
      memoryMb: memoryMb as number,
      timeoutS: timeoutS as number,
      cloudwatchFixedUsd: fixed.monthlyUsd,
      cloudwatchFixed: describeFixedCost(fixed),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measureLoop(
  dynamoEndpoint: string,
  addresses: readonly { host: string; port: number }[],
  masters: number,
  topology: LoopMeasurement['topology'],
  deployment: Deployment,
  memoryMb: number,
  context: { measuredAt: string; command: string },
): Promise<LoopMeasurement> {
  const dir = mkdtempSync(join(tmpdir(), 'ls-bench-loop-'));
  const table = `bench-${randomUUID()}`;
  await createTable(createDynamoClient({ endpoint: dynamoEndpoint, requestTimeoutMs: PATIENT_MS }), table);
  const conf = join(dir, 'sentinel.conf');
  const lines: string[] = [];
  for (let i = 0; i < masters; i++) {
    const address = addresses[i % addresses.length] as { host: string; port: number };
    lines.push(`sentinel monitor m${i} ${address.host} ${address.port} 2`);
    lines.push(`sentinel down-after-milliseconds m${i} 5000`);
  }
  writeFileSync(conf, `${lines.join('\n')}\n`);
  // A copy: dist/ may be rebuilt (and emptied first) by another build while this runs.
  const bundle = join(dir, 'sentinel.mjs');
  copyFileSync(join(ROOT, 'dist', 'sentinel.mjs'), bundle);
  const nodeArgs = loopNodeArgs(memoryMb);
  const count = scheduleLength();

  const invocations: Invocation[] = [];
  const snapshots = setInterval(() => {
    const at = Date.now();
    for (const i of invocations) i.timeline.push({ at, ops: copyOps(i.proxy.ops) });
  }, OPS_SNAPSHOT_MS);
  const run = async (i: Invocation): Promise<void> => {
    let partial = '';
    i.result = await invokeBundle({
      bundle,
      env: {
        SENTINEL_ID: 'sentinel-a',
        TABLE_NAME: table,
        SENTINEL_CONFIG_FILE: conf,
        // One endpoint for all: the environment is part of the sentinel's generation, and invocations of
        // one deployment share it. The router tells them apart by the SDK's app id (User-Agent
        // `app/…`), which, like Lambda's per-container variables, is left out of the generation.
        DYNAMODB_ENDPOINT: router.endpoint,
        AWS_SDK_UA_APP_ID: i.appId,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        LS_BENCH_SAMPLES_DIR: dir,
      },
      nodeArgs: [...nodeArgs, '--import', PROCESS_SAMPLER],
      memoryLimitInMB: memoryMb,
      event: schedulerEvent(),
      remainingMs: i.remainingMs,
      functionName: 'lambda-sentinel-bench-sentinelA',
      // A quick invocation is called again in its process: on Lambda the per-minute invocations reuse a
      // warm container, so the second call's duration is what a month of them bills.
      repeatWhenSkipped: HOLDER_RUNNING,
      onStdout: (chunk) => {
        const at = Date.now();
        const parts = (partial + chunk.toString('utf8')).split('\n');
        partial = parts.pop() ?? '';
        for (const text of parts.filter((l) => l.length > 0)) {
          let record: { message?: string; timestamp?: string } = {};
          try {
            record = JSON.parse(text) as typeof record;
          } catch {
            // Not JSON: counted, not parsed.
          }
          i.lines.push({
            at,
            bytes: Buffer.byteLength(text) + 1,
            ...(record.message === undefined ? {} : { message: record.message }),
            ...(record.timestamp === undefined ? {} : { timestamp: record.timestamp }),
          });
        }
      },
    });
    i.sampled = JSON.parse(readFileSync(i.memoryFile, 'utf8')) as Sampled;
  };
  const fullReadProxy = await startCountingProxy(dynamoEndpoint);
  const router = await startRouter();
  try {
    // Each run's failure is caught at once (the next invocations are still being started).
    const runs: Promise<unknown>[] = [];
    const t0 = Date.now();
    for (let k = 0; k < count; k++) {
      await sleep(t0 + k * PERIOD_MS - Date.now());
      const invocation: Invocation = {
        index: k,
        remainingMs:
          k === count - 1 ? FINAL_REMAINING_MS + masters * FINAL_REMAINING_PER_MASTER_MS : BENCH_TIMEOUT_MS,
        proxy: await startCountingProxy(dynamoEndpoint),
        timeline: [],
        lines: [],
        appId: `bench-invocation-${k}`,
        memoryFile: join(dir, `bench-invocation-${k}.json`),
      };
      router.routes.set(invocation.appId, invocation.proxy.endpoint);
      invocations.push(invocation);
      runs.push(run(invocation).catch((error: unknown) => ({ failed: error })));
    }
    const failed = (await Promise.all(runs)).find((r) => r !== undefined) as { failed: unknown } | undefined;
    if (failed) throw failed.failed;
    clearInterval(snapshots);

    // One full read of every record, to take it out of the spans below and price it at its own period.
    await new DynamoStore(
      createDynamoClient({ endpoint: fullReadProxy.endpoint, requestTimeoutMs: PATIENT_MS }),
      table,
    ).listMasters();
    const fullReadOps = copyOps(fullReadProxy.ops);
    const fullReadUnits = unitsOf(fullReadOps);
    const withoutFullReads = (ops: Ops): Units => {
      const u = unitsOf(ops);
      const n = fullReadsIn(ops, fullReadOps);
      return { rru: u.rru - n * fullReadUnits.rru, wru: u.wru - n * fullReadUnits.wru };
    };

    const final = invocations[count - 1] as Invocation;
    const turns = invocations.filter((i) => i !== final && isHolder(i));
    const measured =
      [...turns].reverse().find((i) => reportOf(i)?.resumedFromHandover) ?? turns[turns.length - 1];
    if (!measured?.result || !measured.sampled) {
      throw new Error(`no invocation held the lease: ${invocations.map(kindOf).join(', ')}`);
    }
    const previous = turns[turns.indexOf(measured) - 1];
    const successor = invocations.find((i) => i.index > measured.index && !isQuick(i)) ?? final;
    const started = (i: Invocation) => i.result?.startedAt ?? Number.NaN;
    const acquired = acquiredAt(measured);
    const windowFrom = acquired + SETTLE_MS;
    const windowTo =
      Math.min(handoverFromOf(measured, started(measured)), started(successor)) - WINDOW_END_MARGIN_MS;
    const windowMs = windowTo - windowFrom;
    if (!(windowMs >= MIN_STEADY_WINDOW_MS)) {
      throw new Error(
        `the measured holder's steady window is ${(windowMs / 1000).toFixed(0)} s, under ` +
          `${MIN_STEADY_WINDOW_MS / 1000} s (invocations: ${invocations.map(kindOf).join(', ')}): ` +
          'give a longer --timeout',
      );
    }
    const perMinute = 60_000 / windowMs;
    const windowOps = opsBetween(measured.timeline, windowFrom, windowTo);
    const steady = withoutFullReads(windowOps);
    const steadyLines = linesBetween(measured.lines, windowFrom, windowTo);

    // The hand-over: from the old holder's hand-over window (or the newcomer's start) to the end of the
    // newcomer's settling, both invocations, less what one steady holder does in that time.
    const spanFrom = previous
      ? Math.min(handoverFromOf(previous, started(previous)), started(measured))
      : started(measured);
    const spanMinutes = (windowFrom - spanFrom) / 60_000;
    const handoverOps = addOps(
      previous ? opsBetween(previous.timeline, spanFrom, Number.POSITIVE_INFINITY) : {},
      opsBetween(measured.timeline, Number.NEGATIVE_INFINITY, windowFrom),
    );
    const handoverUnits = withoutFullReads(handoverOps);
    const handoverLines = [
      previous ? linesBetween(previous.lines, spanFrom, Number.POSITIVE_INFINITY) : { lines: 0, bytes: 0 },
      linesBetween(measured.lines, Number.NEGATIVE_INFINITY, windowFrom),
    ];

    const quicks = invocations.filter((i) => i !== final && isQuick(i));
    const mean = (f: (i: Invocation) => number) => quicks.reduce((n, i) => n + f(i), 0) / quicks.length;
    const quickOps = quicks.map((i) => copyOps(i.proxy.ops));
    const peakRss = Math.max(...turns.map((i) => i.result?.maxRssMb ?? 0));
    const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;
    const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
    return {
      version: 2,
      masters,
      topology,
      ...context,
      deployed: deployment,
      bench: {
        memoryMb,
        timeoutS: BENCH_TIMEOUT_MS / 1000,
        periodS: PERIOD_MS / 1000,
        nodeArgs,
        invocations: invocations.map(kindOf),
      },
      holder: {
        windowS: round(windowMs / 1000, 1),
        durationMs: measured.result.endedAt - measured.result.startedAt,
        cpuShare: round(cpuShareBetween(measured.sampled, windowFrom, windowTo), 4),
        peakRssMb: round(peakRss, 1),
        heap: {
          peakUsedMb: mb(measured.sampled.peak.heapUsed),
          peakTotalMb: mb(measured.sampled.peak.heapTotal),
          endUsedMb: mb(measured.sampled.endHeapUsed),
        },
        rru: round(steady.rru * perMinute),
        wru: round(steady.wru * perMinute),
        logLines: round(steadyLines.lines * perMinute),
        logBytes: round(steadyLines.bytes * perMinute, 0),
        ops: windowOps,
      },
      handover: {
        leaseWaitMs: acquired - started(measured),
        spanS: round(spanMinutes * 60, 1),
        rru: round(Math.max(0, handoverUnits.rru - steady.rru * perMinute * spanMinutes)),
        wru: round(Math.max(0, handoverUnits.wru - steady.wru * perMinute * spanMinutes)),
        logLines: round(
          Math.max(
            0,
            handoverLines.reduce((n, l) => n + l.lines, 0) - steadyLines.lines * perMinute * spanMinutes,
          ),
        ),
        logBytes: round(
          Math.max(
            0,
            handoverLines.reduce((n, l) => n + l.bytes, 0) - steadyLines.bytes * perMinute * spanMinutes,
          ),
          0,
        ),
        ops: handoverOps,
      },
      quick:
        quicks.length === 0
          ? null
          : {
              count: quicks.length,
              // The warm call (the second in the process) when there was one; else the first.
              durationMs: round(
                mean((i) => {
                  const call = i.result?.warm ?? i.result;
                  return (call?.endedAt ?? 0) - (call?.startedAt ?? 0);
                }),
                1,
              ),
              cpuMs: round(
                mean((i) => i.result?.warm?.cpuMs ?? i.result?.cpuMs ?? 0),
                1,
              ),
              maxRssMb: round(
                mean((i) => i.result?.maxRssMb ?? 0),
                1,
              ),
              // Units and lines of one call: a process that was called twice made two calls' worth.
              rru: round(mean((i) => unitsOf(copyOps(i.proxy.ops)).rru / callsOf(i))),
              wru: round(mean((i) => unitsOf(copyOps(i.proxy.ops)).wru / callsOf(i))),
              logLines: round(mean((i) => i.lines.length / callsOf(i))),
              logBytes: round(
                mean((i) => i.lines.reduce((n, l) => n + l.bytes, 0) / callsOf(i)),
                0,
              ),
              ops: addOps(...quickOps),
            },
      fullRead: { ...fullReadUnits, logLines: 0, logBytes: 0, ops: fullReadOps },
    };
  } finally {
    clearInterval(snapshots);
    await Promise.all([router, fullReadProxy, ...invocations.map((i) => i.proxy)].map((p) => p.close()));
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------
// The month.

/** Lambda gives a function CPU in proportion to its memory: one vCPU at 1,769 MB. */
const MB_PER_VCPU = 1769;
/** Lambda's memory settings go in 1 MB steps from 128 MB. */
const MIN_LAMBDA_MEMORY_MB = 128;
/** Headroom over the measured peak RSS. */
const RSS_HEADROOM = 1.2;

/**
 * The memory the sentinel needs: the larger of the deployed memory, peak RSS × 1.2, and enough that the
 * holder's steady CPU share is under half of what Lambda gives, each rounded up to a whole MB.
 */
function memoryNeeded(r: LoopMeasurement): { mb: number; by: string } {
  const candidates: [number, string][] = [
    [r.deployed.memoryMb, 'deployed'],
    [Math.ceil(r.holder.peakRssMb * RSS_HEADROOM), `peak RSS × ${RSS_HEADROOM}`],
    [Math.ceil(r.holder.cpuShare * 2 * MB_PER_VCPU), 'CPU under half the share'],
    [MIN_LAMBDA_MEMORY_MB, 'minimum'],
  ];
  const [mb, by] = candidates.reduce((best, c) => (c[0] > best[0] ? c : best));
  return { mb, by };
}

/**
 * Lambda's own log lines per invocation (START, END, REPORT in the default text format), as it prints
 * them for an invocation of `durationMs` at `memoryMb`.
 */
function platformLogBytes(durationMs: number, memoryMb: number, usedMb: number): number {
  const id = '00000000-0000-4000-8000-000000000000';
  return [
    `START RequestId: ${id} Version: $LATEST`,
    `END RequestId: ${id}`,
    `REPORT RequestId: ${id}\tDuration: ${durationMs.toFixed(2)} ms\tBilled Duration: ${Math.ceil(durationMs)} ms\t` +
      `Memory Size: ${memoryMb} MB\tMax Memory Used: ${Math.ceil(usedMb)} MB\t`,
  ].reduce((n, line) => n + Buffer.byteLength(line) + 1, 0);
}
const PLATFORM_LINES_PER_INVOCATION = 3;

interface Month {
  readonly memory: { mb: number; by: string };
  readonly holderCycles: number;
  readonly quickInvocations: number;
  readonly gbSeconds: number;
  readonly lambda: number;
  readonly rru: number;
  readonly wru: number;
  readonly dynamo: number;
  readonly logGb: number;
  readonly logs: number;
  readonly fixed: number;
  readonly total: number;
}

/** Three sentinels' month under the deployed model, from one sentinel's measurements. */
function monthOf(r: LoopMeasurement): Month {
  const memory = memoryNeeded(r);
  const holderCycles = MINUTES_PER_MONTH / (r.deployed.timeoutS / 60);
  const quickInvocations = r.quick ? MINUTES_PER_MONTH - holderCycles : 0;
  const quickBilledS = r.quick ? Math.ceil(r.quick.durationMs) / 1000 : 0;
  const handoverBilledS = Math.ceil(r.handover.leaseWaitMs) / 1000;
  const seconds = SECONDS_PER_MONTH + quickInvocations * quickBilledS + holderCycles * handoverBilledS;
  const gbSeconds = SENTINELS * seconds * (memory.mb / 1024);
  const lambda = gbSeconds * PRICES.lambdaArmGbSecond + SENTINELS * MINUTES_PER_MONTH * PRICES.lambdaRequest;
  const perSentinel = (f: (p: Part) => number) =>
    MINUTES_PER_MONTH * f(r.holder) +
    FULL_READS_PER_MONTH * f(r.fullRead) +
    quickInvocations * (r.quick ? f(r.quick) : 0) +
    holderCycles * f(r.handover);
  const rru = SENTINELS * perSentinel((p) => p.rru);
  const wru = SENTINELS * perSentinel((p) => p.wru);
  const dynamo = rru * PRICES.dynamoRru + wru * PRICES.dynamoWru;
  const billedBytes = (p: Part) => p.logBytes + p.logLines * PRICES.logsEventOverheadBytes;
  const platform =
    holderCycles *
      (platformLogBytes(r.deployed.timeoutS * 1000, memory.mb, r.holder.peakRssMb) +
        PLATFORM_LINES_PER_INVOCATION * PRICES.logsEventOverheadBytes) +
    (MINUTES_PER_MONTH - holderCycles) *
      (platformLogBytes(r.quick?.durationMs ?? 0, memory.mb, r.quick?.maxRssMb ?? 0) +
        PLATFORM_LINES_PER_INVOCATION * PRICES.logsEventOverheadBytes);
  const logGb = (SENTINELS * (perSentinel(billedBytes) + platform)) / 1024 ** 3;
  const logs = logGb * PRICES.logsIngestGb;
  const fixed = r.deployed.cloudwatchFixedUsd;
  return {
    memory,
    holderCycles,
    quickInvocations,
    gbSeconds,
    lambda,
    rru,
    wru,
    dynamo,
    logGb,
    logs,
    fixed,
    total: lambda + dynamo + logs + fixed,
  };
}

const thousands = (x: number) => Math.round(x).toLocaleString('en-US');
const opsText = (ops: Ops) =>
  Object.entries(ops)
    .filter(([op]) => CAPACITY_OPERATIONS.has(op))
    .map(
      ([op, s]) => `${op} ${s.count}${s.failedConditions ? ` (${s.failedConditions} condition failed)` : ''}`,
    )
    .join(', ') || 'none';
const unitsText = (p: Units) => `${p.rru.toFixed(1)} / ${p.wru.toFixed(1)}`;
const linesText = (p: Part) => `${p.logLines.toFixed(1)} / ${(p.logBytes / 1024).toFixed(1)} KB`;

function loopTables(results: readonly LoopMeasurement[], from?: string): string {
  const details: string[][] = [];
  for (const r of results) {
    const h = r.holder;
    details.push([
      String(r.masters),
      `holder, per minute (steady ${h.windowS.toFixed(0)} s window; turn ${(h.durationMs / 1000).toFixed(0)} s)`,
      '-',
      `${(100 * h.cpuShare).toFixed(1)} %`,
      `${h.peakRssMb.toFixed(0)} MB`,
      `${h.heap.peakUsedMb.toFixed(0)} / ${h.heap.endUsedMb.toFixed(0)} MB (${h.heap.peakTotalMb.toFixed(0)} MB)`,
      opsText(h.ops),
      unitsText(h),
      linesText(h),
    ]);
    details.push([
      String(r.masters),
      `hand-over, each (${r.handover.spanS.toFixed(0)} s span, less a steady holder)`,
      `${(r.handover.leaseWaitMs / 1000).toFixed(2)} s`,
      '-',
      '-',
      '-',
      opsText(r.handover.ops),
      unitsText(r.handover),
      linesText(r.handover),
    ]);
    const q = r.quick;
    details.push(
      q
        ? [
            String(r.masters),
            `quick invocation, each (mean of ${q.count})`,
            `${q.durationMs.toFixed(0)} ms`,
            `${q.cpuMs.toFixed(0)} ms`,
            `${q.maxRssMb.toFixed(0)} MB`,
            '-',
            opsText(q.ops),
            unitsText(q),
            linesText(q),
          ]
        : [
            String(r.masters),
            'quick invocation: none (every invocation took the lease over)',
            ...Array(7).fill('-'),
          ],
    );
    details.push([
      String(r.masters),
      `full read of the records, each (every ${SENTINEL_DEFAULTS.recordsFullReadPeriodMs / 60_000} min)`,
      '-',
      '-',
      '-',
      '-',
      opsText(r.fullRead.ops),
      unitsText(r.fullRead),
      '-',
    ]);
  }
  const measured = markdownTable(
    [
      'masters',
      'part',
      'billed duration (quick) / lease wait (hand-over)',
      'CPU',
      'peak RSS',
      'heap used, peak / at the end (reserved, peak)',
      'DynamoDB requests (by operation)',
      'RRU / WRU',
      'log records / bytes',
    ],
    details,
  );

  const rows: string[][] = [];
  const notes: string[] = [];
  for (const r of results) {
    const m = monthOf(r);
    const perMinute = SENTINELS * MINUTES_PER_MONTH;
    rows.push([
      r.masters.toLocaleString('en-US'),
      `**${usd(m.total)}**`,
      `${usd(m.lambda)} (${m.memory.mb} MB)`,
      usd(m.dynamo),
      usd(m.logs),
      usd(m.fixed),
      `${m.memory.mb} MB (${m.memory.by})`,
      `${r.holder.peakRssMb.toFixed(0)} MB`,
      `${(100 * r.holder.cpuShare).toFixed(1)} %`,
      thousands(m.rru / perMinute),
      thousands(m.wru / perMinute),
    ]);
    notes.push(
      `${r.masters} master(s), ${r.topology === 'plain' ? 'one redis-server per master' : 'one master + 2 replicas monitored under every name'}: ` +
        `${thousands(m.holderCycles)} holder turns and ${thousands(m.quickInvocations)} quick invocations per sentinel; ` +
        `${(m.gbSeconds / 1e6).toFixed(2)} M GB-s; ${(m.rru / 1e6).toFixed(2)} M RRU + ${(m.wru / 1e6).toFixed(2)} M WRU; ` +
        `${m.logGb.toFixed(2)} GB of logs; invocations ${r.bench.invocations.join(', ')}` +
        (r.quick ? '' : '; no invocation found the holder running, so quick invocations are not priced'),
    );
  }
  const cost = markdownTable(
    [
      'masters',
      'total/month',
      'Lambda',
      'DynamoDB',
      'log ingestion',
      'CloudWatch fixed',
      'memory needed',
      'peak RSS',
      'CPU',
      'RRU/min',
      'WRU/min',
    ],
    rows,
  );
  const first = results[0];
  const model = first
    ? [
        `Per sentinel and month (three sentinels, ${MINUTES_PER_MONTH.toLocaleString('en-US')} scheduled invocations each, arm64 list prices, no free tier): ` +
          `the holder runs all ${SECONDS_PER_MONTH.toLocaleString('en-US')} s at the memory needed; ` +
          `one holder turn per deployed timeout (${first.deployed.timeoutS} s), each with one hand-over (the newcomer's lease wait billed, its store units and log lines); ` +
          'every other invocation is quick (its billed duration, units and lines); requests at $0.20 per million.',
        `DynamoDB: the holder's steady units per minute, one full read of the records every ${SENTINEL_DEFAULTS.recordsFullReadPeriodMs / 60_000} min, the hand-overs and the quick invocations; RRU/min and WRU/min are all of it per sentinel-minute.`,
        `Log ingestion: the lines the invocations print, plus Lambda's START, END and REPORT lines per invocation, plus ${PRICES.logsEventOverheadBytes} bytes per event, at $${PRICES.logsIngestGb} per GB.`,
        `Memory needed: the largest of the deployed memory (${first.deployed.memoryMb} MB), peak RSS × ${RSS_HEADROOM}, and twice the holder's steady CPU share × ${MB_PER_VCPU.toLocaleString('en-US')} MB per vCPU, rounded up to Lambda's 1 MB steps.`,
        `CloudWatch fixed (from the rendered template): ${first.deployed.cloudwatchFixed}.`,
      ]
    : [];
  // Rows reprinted from several runs say which run measured which counts.
  const runs = new Map<string, number[]>();
  for (const r of results) {
    const key = `${r.measuredAt}\u0000${r.command}`;
    runs.set(key, [...(runs.get(key) ?? []), r.masters]);
  }
  const when = first
    ? [...runs]
        .map(([key, counts], i) => {
          const [at, command] = key.split('\u0000');
          const which =
            runs.size > 1 ? ` (${counts.map((n) => n.toLocaleString('en-US')).join(', ')} masters)` : '';
          return `${i === 0 ? 'Measured' : 'and'} ${at}${which} with \`${command}\``;
        })
        .join('; ')
        .concat(from ? ` (reprinted from ${from}).` : '.')
    : 'No measurements.';
  return `${measured}\n\n${[...model, ...notes].map((n) => `- ${n}`).join('\n')}\n\n${cost}\n\n${when}`;
}

// ---------------------------------------------------------------------------------------------------------
// Redis servers for the loop.

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * `count` plain redis-server masters (small footprint: bench/support/quietMasters.ts), started `PLAIN_MASTER_BATCH` at a time on free
 * ports from PLAIN_MASTER_PORT_MIN up. On any failure every server started so far is stopped (by PID).
 */
async function startPlainMasters(count: number): Promise<RedisHandle[]> {
  const servers: RedisHandle[] = [];
  let next = PLAIN_MASTER_PORT_MIN;
  const freePort = async (): Promise<number> => {
    while (next < PLAIN_MASTER_PORT_MAX) {
      const port = next++;
      if (await portIsFree(port)) return port;
    }
    throw new Error(`no free port left in ${PLAIN_MASTER_PORT_MIN}–${PLAIN_MASTER_PORT_MAX}`);
  };
  const startOne = async (): Promise<RedisHandle> => {
    for (let attempt = 0; ; attempt++) {
      const port = await freePort();
      try {
        return await startRedis({ port, args: QUIET_MASTER_ARGS });
      } catch (error) {
        // Taken between the check and the bind (an outgoing connection, another run): try the next one.
        if (attempt >= 5) throw error;
      }
    }
  };
  try {
    while (servers.length < count) {
      const batch = Math.min(PLAIN_MASTER_BATCH, count - servers.length);
      const started = await Promise.allSettled(Array.from({ length: batch }, startOne));
      for (const s of started) if (s.status === 'fulfilled') servers.push(s.value);
      const failed = started.find((s) => s.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    }
    return servers;
  } catch (error) {
    await Promise.all(servers.map((s) => s.stop()));
    throw error;
  }
}

/** The bench's memory per masters count: --memory as one value or one per count, else the deployed memory. */
function benchMemoryFor(index: number, deployedMb: number): number {
  if (opts.memory === undefined) return deployedMb;
  const list = opts.memory.split(',').map(Number);
  const mb = list.length === 1 ? list[0] : list[index];
  if (mb === undefined || !Number.isFinite(mb) || mb < MIN_LAMBDA_MEMORY_MB) {
    throw new Error(
      `--memory needs one value, or one per --masters count, each at least ${MIN_LAMBDA_MEMORY_MB}`,
    );
  }
  return mb;
}

/** Waits (at most 2 minutes) until the 1-minute load average is under the number of cores. */
async function settle(): Promise<void> {
  const until = Date.now() + 120_000;
  while (Date.now() < until && (loadavg()[0] ?? 0) > availableParallelism()) await sleep(5_000);
}

async function benchLoop(): Promise<string> {
  const measuredAt = new Date().toISOString();
  const command = `npm run bench:bundle -- ${process.argv
    .slice(2)
    .map((a) => (/^[\w.,=/-]+$/.test(a) ? a : `'${a}'`))
    .join(' ')}`;
  const deployment = await readDeployment();
  const dynamo = await startDynamoDbLocal();
  try {
    const results: LoopMeasurement[] = [];
    for (const [index, masters] of MASTER_COUNTS.entries()) {
      const plain = masters >= PLAIN_MASTERS_FROM;
      const servers = plain ? await startPlainMasters(masters) : [];
      // Starting a thousand redis-servers loads the machine for a while: let it settle first.
      if (plain) await settle();
      const topology = plain ? null : await startTopology({ replicas: 2 });
      try {
        const addresses = plain
          ? servers.map((s) => s.address)
          : [(topology as { master: RedisHandle }).master.address];
        const r = await measureLoop(
          dynamo.endpoint,
          addresses,
          masters,
          plain ? 'plain' : 'shared',
          deployment,
          benchMemoryFor(index, deployment.memoryMb),
          { measuredAt, command },
        );
        // One JSON line per measurement: `--from` prints the tables again from these.
        console.error(JSON.stringify(r));
        results.push(r);
      } finally {
        await topology?.stop();
        await Promise.all(servers.map((s) => s.stop()));
      }
    }
    return loopTables(results);
  } finally {
    await dynamo.stop();
  }
}

async function main(): Promise<void> {
  if (opts.from) {
    const results = readFileSync(opts.from, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as LoopMeasurement)
      .filter((r) => r.version === 2);
    if (results.length === 0) throw new Error(`${opts.from} has no loop measurements of this version`);
    console.log(`\n## Sentinel loop: a month of three sentinels\n`);
    console.log(loopTables(results, opts.from));
    return;
  }
  // Printing again from measurements measures nothing: the bundles only with a real run.
  const started = new Date();
  console.log(`## Bundles (${RUNS} imports each, Node ${process.version}, ${started.toISOString()})\n`);
  console.log(await benchBundles());
  if (opts.loop) {
    console.log(
      `\n## Sentinel loop: a month of three sentinels (one invocation per ${PERIOD_MS / 1000} s, ` +
        `context timeout ${BENCH_TIMEOUT_MS / 1000} s)\n`,
    );
    console.log(await benchLoop());
  }
}

await main();
