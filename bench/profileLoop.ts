/**
 * profileLoop — what one sentinel process costs per monitored master: CPU time per second of wall
 * time, per master, and resident memory, with an optional CPU profile of where the time goes.
 *
 * The parent process starts --servers real redis-server processes on loopback (plain masters, no
 * replicas, `--hz 1` and no persistence so that 1,000 of them fit on a small machine), DynamoDB Local,
 * and a sentinel.conf with --masters masters spread over those servers (each master has its own probe
 * connection either way, so a shared server costs the sentinel the same). It then runs ONE
 * SentinelRunner with the real RESP probe and the DynamoDB store in a child process of its own, started
 * as the Lambda Node.js runtime starts it for --memory MB (the heap limits of lambdaHeapFlags in
 * bench/bundle.ts), logging through the Powertools logger like the deployed function. The child's own
 * CPU (process.cpuUsage) and RSS are what is measured: redis-server, DynamoDB Local and this parent are
 * other processes.
 *
 * The child waits until every master's monitor has started (a fresh start reads or creates each
 * master's record one after the other: see the `every monitor started after` figure), probes for
 * --warmup seconds more (first INFO and store reads done), then measures for --seconds: CPU µs per
 * second of wall time, and per master; peak RSS (the kernel's maxRSS) and heap used (sampled every
 * second) over the whole run, the start included; log lines and bytes. With --profile, the V8 sampling
 * profiler (node:inspector) runs over the measured window only: the top functions by self time and the
 * top files are printed, and the .cpuprofile is written to $TMPDIR/lambda-sentinel-profiles/ (open it
 * in Chrome DevTools or speedscope). The profiler samples wall time, so on a loaded machine a native
 * call that wakes another process (a socket write) collects the time this process waits to run again:
 * take CPU figures from a run without --profile, and compare profiles taken under the same load.
 *
 *   npx tsx bench/profileLoop.ts [--masters 100,300,1000] [--servers N] [--seconds 60] [--warmup 15]
 *                                [--memory 512] [--profile] [--top 25]
 *
 * Every process it starts is killed by PID when it ends (redis-server through lib/runtime/redisProcess,
 * DynamoDB Local by its process group), also on Ctrl-C.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getHeapStatistics } from 'node:v8';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
/** Set in the child's environment: the JSON of ChildParams. */
const CHILD_ENV = 'LS_PROFILE_LOOP_CHILD';
/** Poll period while waiting for the monitors to start. */
const SAMPLE_MS = 250;
const HEAP_SAMPLE_MS = 1_000;
/** How long the child waits for every master's monitor to start. */
const START_TIMEOUT_MS = 600_000;

interface ChildParams {
  readonly configFile: string;
  readonly endpoint: string;
  readonly table: string;
  readonly warmupMs: number;
  readonly measureMs: number;
  readonly profile: string | null;
  readonly resultFile: string;
}

interface ChildResult {
  readonly masters: number;
  /** From run() until every master's monitor had started. */
  readonly startMs: number;
  readonly wallMs: number;
  readonly cpuUserMs: number;
  readonly cpuSystemMs: number;
  readonly peakRssMb: number;
  readonly peakHeapUsedMb: number;
  readonly endHeapUsedMb: number;
  readonly ticks: number;
  readonly events: number;
}

/** The Lambda Node.js runtime's heap limits for a function of `memoryMb` (as bench/bundle.ts). */
function lambdaHeapFlags(memoryMb: number): string[] {
  const newSpaceMb = Math.floor(memoryMb / 10);
  return [
    `--max-semi-space-size=${Math.floor(newSpaceMb / 2)}`,
    `--max-old-space-size=${memoryMb - newSpaceMb}`,
  ];
}

const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------------------
// Child: one sentinel, measured.

async function runChild(params: ChildParams): Promise<void> {
  const { Logger } = await import('@aws-lambda-powertools/logger');
  const { createDynamoClient } = await import('../lib/adapters/dynamodb/client.js');
  const { DynamoStore } = await import('../lib/adapters/dynamodb/store.js');
  const { createRedisControl } = await import('../lib/adapters/redis/control.js');
  const { createRedisProbe } = await import('../lib/adapters/redis/probe.js');
  const { loadSentinelConfig } = await import('../lib/config/parse.js');
  const { SentinelRunner } = await import('../lib/runtime/sentinel.js');
  type Log = import('../lib/runtime/log.js').Log;

  // The peak RSS is the kernel's high-water mark (maxRSS), exact and free; the heap is sampled, with
  // v8's statistics rather than process.memoryUsage(), which reads /proc each time.
  let peakHeapUsed = 0;
  const sample = () => {
    const used = getHeapStatistics().used_heap_size;
    peakHeapUsed = Math.max(peakHeapUsed, used);
    return used;
  };
  const sampler = setInterval(sample, HEAP_SAMPLE_MS);

  const config = await loadSentinelConfig(params.configFile);
  const logger = new Logger({ serviceName: 'lambda-sentinel', persistentKeys: { component: 'sentinel' } });
  const log: Log = (level, message, fields) => logger[level](message, fields ?? {});
  const abort = new AbortController();
  let events = 0;
  const runner = new SentinelRunner({
    sentinelId: 'sentinel-a',
    config,
    store: new DynamoStore(createDynamoClient({ endpoint: params.endpoint }), params.table),
    probeFactory: createRedisProbe,
    controlFactory: createRedisControl,
    log,
    signal: abort.signal,
    onEvent: () => {
      events += 1;
    },
  });
  const running = runner.run();
  // Starting reads or creates each master's record and its recorded replicas, one master after the
  // other: with many masters that takes a while, and it is not the steady state measured here.
  const startedAt = performance.now();
  while (Object.keys(runner.memories()).length < config.masters.length) {
    if (performance.now() - startedAt > START_TIMEOUT_MS) throw new Error('the monitors did not all start');
    await sleep(SAMPLE_MS);
  }
  const startMs = performance.now() - startedAt;
  await sleep(params.warmupMs);

  const session = params.profile ? new Session() : null;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(params.measureMs);
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - t0;
  if (session && params.profile) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(params.profile, JSON.stringify(profile));
    session.disconnect();
  }
  abort.abort();
  const report = await running;
  clearInterval(sampler);
  const endHeapUsed = sample();
  const result: ChildResult = {
    masters: config.masters.length,
    startMs,
    wallMs,
    cpuUserMs: cpu.user / 1000,
    cpuSystemMs: cpu.system / 1000,
    peakRssMb: mb(process.resourceUsage().maxRSS * 1024),
    peakHeapUsedMb: mb(peakHeapUsed),
    endHeapUsedMb: mb(endHeapUsed),
    ticks: report.ticks,
    events,
  };
  writeFileSync(params.resultFile, JSON.stringify(result));
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------------------
// Parent: the servers, the store, the child, the report.

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly hitCount?: number;
}

/** Self time by function and by file, from a .cpuprofile. */
function summariseProfile(file: string, top: number): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const fnTotals = new Map<string, number>();
  const fileTotals = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const frame = (byId.get(id) as ProfileNode).callFrame;
    // The profiler's own start-up call is not the sentinel's work.
    if (frame.url === 'node:inspector') continue;
    if (frame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    total += us;
    const url = frame.url.startsWith('file://') ? relative(ROOT, fileURLToPath(frame.url)) : frame.url;
    const where = url ? `${url}:${frame.lineNumber + 1}` : '';
    const fn = `${frame.functionName || '(anonymous)'} ${where}`.trim();
    fnTotals.set(fn, (fnTotals.get(fn) ?? 0) + us);
    const fileKey = url.includes('node_modules/')
      ? `node_modules/${url.split('node_modules/').pop()?.split('/')[0] ?? ''}`
      : url || frame.functionName;
    fileTotals.set(fileKey, (fileTotals.get(fileKey) ?? 0) + us);
  }
  const list = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(
        ([k, us]) =>
          `  ${((100 * us) / total).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`,
      )
      .join('\n');
  return [
    `profile ${file}: ${(total / 1000).toFixed(0)} ms busy, ${(idle / 1000).toFixed(0)} ms idle`,
    'top functions by self time:',
    list(fnTotals),
    'top files by self time:',
    list(fileTotals),
  ].join('\n');
}

async function runParent(): Promise<void> {
  const { values: opts } = parseArgs({
    options: {
      masters: { type: 'string', default: '100' },
      servers: { type: 'string' },
      seconds: { type: 'string', default: '60' },
      warmup: { type: 'string', default: '15' },
      memory: { type: 'string', default: '512' },
      profile: { type: 'boolean', default: false },
      top: { type: 'string', default: '25' },
    },
  });
  const counts = (opts.masters ?? '').split(',').map(Number);
  if (counts.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--masters: positive integers');
  const maxMasters = Math.max(...counts);
  const serverCount = Math.min(Number(opts.servers ?? maxMasters), maxMasters);
  const memoryMb = Number(opts.memory);

  const { createDynamoClient } = await import('../lib/adapters/dynamodb/client.js');
  const { createTable } = await import('../lib/adapters/dynamodb/schema.js');
  const { allocatePorts, startRedis } = await import('../lib/runtime/redisProcess.js');
  const { startDynamoDbLocal } = await import('../test/support/dynamodbLocal.js');
  type RedisHandle = import('../lib/runtime/redisProcess.js').RedisHandle;

  const dir = mkdtempSync(join(tmpdir(), 'ls-profile-loop-'));
  const servers: RedisHandle[] = [];
  const dynamo = await startDynamoDbLocal();
  try {
    const started = Date.now();
    // Another process may bind a port between its check and redis-server's bind: try another one.
    const startOne = async (): Promise<RedisHandle> => {
      for (let attempt = 1; ; attempt++) {
        const [port] = (await allocatePorts(1)) as [number];
        try {
          return await startRedis({ port, args: ['--hz', '1', '--dynamic-hz', 'no', '--databases', '1'] });
        } catch (error) {
          if (attempt >= 3) throw error;
        }
      }
    };
    // A few at a time: each start waits for its first PONG.
    for (let i = 0; i < serverCount; i += 25) {
      const batch = Math.min(25, serverCount - i);
      servers.push(...(await Promise.all(Array.from({ length: batch }, startOne))));
    }
    process.stderr.write(`${servers.length} redis-server processes up in ${Date.now() - started} ms\n`);
    const client = createDynamoClient({ endpoint: dynamo.endpoint });

    const results: ChildResult[] = [];
    for (const masters of counts) {
      const table = `profile-${randomUUID()}`;
      await createTable(client, table);
      const lines: string[] = [];
      for (let i = 0; i < masters; i++) {
        const server = servers[i % servers.length] as RedisHandle;
        lines.push(`sentinel monitor m${i} ${server.address.host} ${server.address.port} 2`);
        lines.push(`sentinel down-after-milliseconds m${i} 5000`);
      }
      const configFile = join(dir, `sentinel-${masters}.conf`);
      writeFileSync(configFile, `${lines.join('\n')}\n`);
      const profileDir = join(tmpdir(), 'lambda-sentinel-profiles');
      const profile = opts.profile ? join(profileDir, `loop-${masters}-${Date.now()}.cpuprofile`) : null;
      if (profile) mkdirSync(profileDir, { recursive: true });
      const params: ChildParams = {
        configFile,
        endpoint: dynamo.endpoint,
        table,
        warmupMs: Number(opts.warmup) * 1000,
        measureMs: Number(opts.seconds) * 1000,
        profile,
        resultFile: join(dir, `result-${masters}.json`),
      };
      const child = spawn(
        process.execPath,
        [...lambdaHeapFlags(memoryMb), '--import', 'tsx', fileURLToPath(import.meta.url)],
        {
          cwd: ROOT,
          env: { ...process.env, [CHILD_ENV]: JSON.stringify(params), POWERTOOLS_LOG_LEVEL: 'INFO' },
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      let logBytes = 0;
      let logLines = 0;
      child.stdout.on('data', (chunk: Buffer) => {
        logBytes += chunk.length;
        for (const byte of chunk) if (byte === 0x0a) logLines += 1;
      });
      const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
      if (code !== 0) throw new Error(`the sentinel process exited with ${code}`);
      const r = JSON.parse(readFileSync(params.resultFile, 'utf8')) as ChildResult;
      results.push(r);
      const cpuUs = (r.cpuUserMs + r.cpuSystemMs) * 1000;
      const perSecond = cpuUs / (r.wallMs / 1000);
      process.stdout.write(
        [
          `masters ${r.masters} on ${Math.min(servers.length, r.masters)} servers, ${memoryMb} MB heap flags:`,
          `  CPU ${(perSecond / 10_000).toFixed(2)} % of a core (user ${r.cpuUserMs.toFixed(0)} ms, system ${r.cpuSystemMs.toFixed(0)} ms over ${(r.wallMs / 1000).toFixed(1)} s)`,
          `  ${(perSecond / r.masters).toFixed(0)} µs of CPU per master-second`,
          `  peak RSS ${r.peakRssMb} MB, heap used peak ${r.peakHeapUsedMb} MB, at the end ${r.endHeapUsedMb} MB`,
          `  every monitor started after ${(r.startMs / 1000).toFixed(1)} s; ${r.ticks} ticks, ${r.events} events, log ${logLines} lines / ${(logBytes / 1024).toFixed(0)} KB over the whole run`,
          '',
        ].join('\n'),
      );
      if (profile) process.stdout.write(`${summariseProfile(profile, Number(opts.top))}\n\n`);
    }
    process.stderr.write(`${JSON.stringify({ results })}\n`);
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await dynamo.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const childParams = process.env[CHILD_ENV];
if (childParams !== undefined) {
  await runChild(JSON.parse(childParams) as ChildParams);
} else {
  await runParent();
}
