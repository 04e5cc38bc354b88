/**
 * `npm run bench:lookup`: how fast clients find the master, on the same machine in the same run.
 *
 * 1. SENTINEL get-master-addr-by-name requests/s with redis-benchmark: our Redis-protocol endpoint
 *    (three sentinels in this process on DynamoDB Local, the view as the local runner wires it), the
 *    endpoint of `lambda-sentinel local --config` in its own process as users start it (its embedded
 *    store), and a real `redis-server --sentinel`, on the same topology.
 * 2. The HTTP API's GET /v1/masters/mymaster/address: requests/s and p50/p99 (load from another process).
 * 3. ioredis in Sentinel mode: time from the master's SIGKILL to the first write acknowledged by the new
 *    master, through each of the three, fresh topology each run.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Redis, type RedisOptions } from 'ioredis';
import { type StoreSentinelView, storeSentinelView } from '../lib/commands/storeView.js';
import type { Address } from '../lib/core/types.js';
import { startHttpApi } from '../lib/http/server.js';
import { type SentinelEndpoint, startSentinelEndpoint } from '../lib/resp/server.js';
import { startTopology, type Topology } from '../lib/runtime/redisProcess.js';

import { startHttpFloor, startNetFloor } from './support/floors.js';
import { type HttpLoadResult, runHttpLoad } from './support/httpLoad.js';
import {
  type LambdaSentinels,
  startBenchDynamoDbLocal,
  startLambdaSentinels,
} from './support/lambdaSentinels.js';
import { startLocalSentinel } from './support/localSentinel.js';
import { startRealSentinels } from './support/realSentinel.js';
import { type RedisBenchmarkResult, runRedisBenchmark } from './support/redisBenchmark.js';
import { formatTriple, markdownTable, summarise } from './support/stats.js';

const PARTS = ['rps', 'http', 'resume'] as const;
type Part = (typeof PARTS)[number];

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    /** redis-benchmark -n and -c. */
    requests: { type: 'string', default: '100000' },
    clients: { type: 'string', default: '50' },
    /** Also with -P N (0: not). */
    pipeline: { type: 'string', default: '16' },
    'http-requests': { type: 'string', default: '20000' },
    'http-concurrency': { type: 'string', default: '16' },
    /** Which parts: rps, http, resume (comma-separated). */
    parts: { type: 'string', default: PARTS.join(',') },
    /** ioredis retry profiles for the resume part: fixed (50 ms), default (ioredis's own backoff). */
    client: { type: 'string', default: 'fixed,default' },
    /** Which systems: lambda, local, sentinel (comma-separated). */
    only: { type: 'string' },
    /** Leave out the reference rows (bare node:net and node:http servers). */
    'no-floor': { type: 'boolean', default: false },
  },
});
const RUNS = Number(opts.runs);
const REQUESTS = Number(opts.requests);
const CLIENTS = Number(opts.clients);
const PIPELINE = Number(opts.pipeline);
const HTTP_REQUESTS = Number(opts['http-requests']);
const HTTP_CONCURRENCY = Number(opts['http-concurrency']);
const HTTP_WARMUP = 1_000;
const SELECTED = new Set((opts.parts ?? '').split(',').filter(Boolean) as Part[]);
const CLIENT_PROFILES = (opts.client ?? '').split(',').filter(Boolean);
const SYSTEMS = opts.only ? opts.only.split(',') : ['lambda', 'local', 'sentinel'];
for (const system of SYSTEMS)
  if (!['lambda', 'local', 'sentinel'].includes(system))
    throw new Error(`--only: unknown system ${system} (lambda, local, sentinel)`);
const FLOORS = !opts['no-floor'];

/** As bench:failover. */
const DOWN_AFTER_MS = 1_000;
const FAILOVER_TIMEOUT_MS = 60_000;
const SETTLE_MS = 1_500;
/** As the local runner (lib/local/run.ts ADDRESS_CACHE_MS). */
const ADDRESS_CACHE_MS = 100;
const WRITE_EVERY_MS = 10;
/** Steady writes before the kill. */
const WRITING_BEFORE_KILL_MS = 500;
const GIVE_UP_AFTER_MS = 30_000;
const CLIENT_RETRY_MS = 50;
const MASTER = 'mymaster';
const LOOKUP = ['SENTINEL', 'get-master-addr-by-name', MASTER];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');
const log = (line: string) => process.stderr.write(`${line}\n`);
const SYSTEM_NAMES: Record<string, string> = {
  lambda: 'lambda-sentinel endpoint',
  local: 'lambda-sentinel local (as users start it)',
  sentinel: 'redis-server --sentinel 7.0',
  floor: 'reference: bare node:net server, fixed reply',
};
const systemName = (system: string) => SYSTEM_NAMES[system] ?? system;

/**
 * ioredis in Sentinel mode, the same options for both systems. Writes issued while it reconnects wait in
 * the offline queue and go out as soon as it is connected to a master again.
 */
function clientOptions(profile: string, sentinel: Address): RedisOptions {
  return {
    sentinels: [sentinel],
    name: MASTER,
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    connectTimeout: 1_000,
    ...(profile === 'fixed'
      ? { retryStrategy: () => CLIENT_RETRY_MS, sentinelRetryStrategy: () => CLIENT_RETRY_MS }
      : {}),
  };
}

const CLIENT_PROFILE_TEXT: Record<string, string> = {
  fixed: `retryStrategy and sentinelRetryStrategy () => ${CLIENT_RETRY_MS}`,
  default:
    "ioredis 6's default retryStrategy (50 ms × 2^(n−1) + up to 200 ms jitter) and sentinelRetryStrategy",
};

// ---------------------------------------------------------------------------------------------------
// The two systems.

interface OurEndpoint {
  readonly sentinels: LambdaSentinels;
  readonly view: StoreSentinelView;
  readonly endpoint: SentinelEndpoint;
  stop(): Promise<void>;
}

/**
 * Three sentinels and the endpoint wired as the local runner does: the view serves lookups from a read at
 * most ADDRESS_CACHE_MS old, every record the sentinels read or write is pushed to it (a switch is
 * answered from the moment it is written), every event about a master drops its other cached reads,
 * and events reach subscribers through the endpoint.
 */
async function startOurEndpoint(dynamoEndpoint: string, topology: Topology): Promise<OurEndpoint> {
  let target: { view: StoreSentinelView; endpoint: SentinelEndpoint } | null = null;
  const sentinels = await startLambdaSentinels({
    endpoint: dynamoEndpoint,
    topology,
    downAfterMs: DOWN_AFTER_MS,
    failoverTimeoutMs: FAILOVER_TIMEOUT_MS,
    onEvent: (event, _sentinelId, epoch) => {
      if (event.master !== null) target?.view.invalidateInstanceMaps(event.master);
      target?.endpoint.publish(event, epoch);
    },
    onRecord: (record) => target?.view.noteRecord(record),
  });
  const view = storeSentinelView(sentinels.store, sentinels.config, {
    runners: sentinels.runners,
    addressCacheMs: ADDRESS_CACHE_MS,
  });
  const endpoint = await startSentinelEndpoint({ port: 0, view });
  target = { view, endpoint };
  return {
    sentinels,
    view,
    endpoint,
    stop: async () => {
      await endpoint.close();
      await sentinels.stop();
    },
  };
}

async function withRealSentinels<T>(topology: Topology, use: (sentinel: Address) => Promise<T>): Promise<T> {
  const sentinels = await startRealSentinels({
    master: topology.master.address,
    downAfterMs: DOWN_AFTER_MS,
    failoverTimeoutMs: FAILOVER_TIMEOUT_MS,
    replicas: topology.replicas.length,
  });
  try {
    return await use({ host: '127.0.0.1', port: sentinels.ports[0] as number });
  } finally {
    await sentinels.stop();
  }
}

/** `lambda-sentinel local --config` in its own process, as users start it (embedded store, endpoint). */
async function withLocalRunner<T>(topology: Topology, use: (sentinel: Address) => Promise<T>): Promise<T> {
  const local = await startLocalSentinel({
    topology,
    downAfterMs: DOWN_AFTER_MS,
    failoverTimeoutMs: FAILOVER_TIMEOUT_MS,
  });
  try {
    return await use(local.endpoint);
  } finally {
    await local.stop();
  }
}

async function withOurEndpoint<T>(
  dynamoEndpoint: string,
  topology: Topology,
  use: (ours: OurEndpoint) => Promise<T>,
): Promise<T> {
  const ours = await startOurEndpoint(dynamoEndpoint, topology);
  try {
    return await use(ours);
  } finally {
    await ours.stop();
  }
}

/** The lookup answers the topology's master before anything is measured. */
async function checkLookup(sentinel: Address, topology: Topology): Promise<void> {
  const client = new Redis({ ...sentinel, lazyConnect: true, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    const reply = await client.call(...(LOOKUP as [string, ...string[]]));
    const expected = [topology.master.address.host, String(topology.master.address.port)];
    if (JSON.stringify(reply) !== JSON.stringify(expected)) {
      throw new Error(`lookup answered ${JSON.stringify(reply)}, expected ${JSON.stringify(expected)}`);
    }
  } finally {
    client.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------------
// 1 and 2: throughput.

interface ThroughputRun {
  readonly plain: RedisBenchmarkResult;
  readonly pipelined: RedisBenchmarkResult | null;
}

async function benchmarkLookup(sentinel: Address): Promise<ThroughputRun> {
  const common = { address: sentinel, command: LOOKUP, requests: REQUESTS, clients: CLIENTS };
  // A short warm-up: connections, JIT, the first store read.
  await runRedisBenchmark({ ...common, requests: Math.min(REQUESTS, 10_000) });
  const plain = await runRedisBenchmark(common);
  const pipelined =
    PIPELINE > 1 ? await runRedisBenchmark({ ...common, requests: REQUESTS * 5, pipeline: PIPELINE }) : null;
  return { plain, pipelined };
}

async function loadHttp(baseUrl: string, topology: Topology): Promise<HttpLoadResult> {
  const result = await runHttpLoad({
    url: `${baseUrl.replace(/\/$/, '')}/v1/masters/${MASTER}/address`,
    requests: HTTP_REQUESTS,
    concurrency: HTTP_CONCURRENCY,
    warmup: HTTP_WARMUP,
  });
  const sample = JSON.parse(result.sample) as { ip?: string; port?: number };
  if (sample.ip !== topology.master.address.host || sample.port !== topology.master.address.port) {
    throw new Error(`HTTP lookup answered ${result.sample}`);
  }
  if (result.errors > 0) throw new Error(`${result.errors} HTTP requests failed`);
  return result;
}

async function benchmarkHttp(ours: OurEndpoint, topology: Topology): Promise<HttpLoadResult> {
  const api = await startHttpApi({ view: ours.view, port: 0 });
  try {
    return await loadHttp(api.url, topology);
  } finally {
    await api.close();
  }
}

/** The same body from a bare node:http server, in the same process (the sentinels still running). */
async function benchmarkHttpFloor(topology: Topology): Promise<HttpLoadResult> {
  const { host, port } = topology.master.address;
  const floor = await startHttpFloor(JSON.stringify({ ip: host, port, epoch: 0 }));
  try {
    return await loadHttp(floor.url, topology);
  } finally {
    await floor.close();
  }
}

// ---------------------------------------------------------------------------------------------------
// 3: writes resumed after the master is SIGKILLed.

interface ResumeRun {
  /** ms from the kill to the first write acknowledged by another server than the killed master. */
  readonly resumedMs?: number;
  readonly reconnects: number;
}

async function resumeAfterKill(topology: Topology, sentinel: Address, profile: string): Promise<ResumeRun> {
  const client = new Redis(clientOptions(profile, sentinel));
  client.on('error', () => {});
  let reconnects = 0;
  client.on('reconnecting', () => {
    reconnects += 1;
  });
  const oldPort = topology.master.address.port;
  let killedAt = Number.POSITIVE_INFINITY;
  let resumedAt: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    await client.set('bench:resume', 'ready');
    if (client.stream.remotePort !== oldPort) throw new Error('the client is not on the master');
    let seq = 0;
    timer = setInterval(() => {
      seq += 1;
      client.set('bench:resume', String(seq)).then(
        () => {
          const at = Date.now();
          // Only a server other than the killed master can acknowledge a write after the kill.
          if (resumedAt === undefined && at > killedAt && client.stream.remotePort !== oldPort) {
            resumedAt = at;
          }
        },
        () => {},
      );
    }, WRITE_EVERY_MS);
    await sleep(WRITING_BEFORE_KILL_MS);
    reconnects = 0;
    killedAt = Date.now();
    await topology.master.kill();
    while (resumedAt === undefined && Date.now() - killedAt < GIVE_UP_AFTER_MS) await sleep(5);
    return { ...(resumedAt !== undefined ? { resumedMs: resumedAt - killedAt } : {}), reconnects };
  } finally {
    clearInterval(timer);
    client.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const throughput = new Map<string, ThroughputRun[]>();
  const http = new Map<string, HttpLoadResult[]>();
  const logHttp = (run: number, what: string, h: HttpLoadResult) =>
    log(
      `run ${run} http ${what}: ${h.requestsPerSecond.toFixed(0)} req/s, p50 ${h.p50Ms.toFixed(3)} ` +
        `p99 ${h.p99Ms.toFixed(3)} max ${h.maxMs.toFixed(3)} ms (load ${load()})`,
    );
  const logThroughput = (run: number, system: string, t: ThroughputRun) =>
    log(
      `run ${run} ${system}: ${t.plain.requestsPerSecond} req/s, -P ${PIPELINE}: ` +
        `${t.pipelined?.requestsPerSecond ?? '-'} req/s (load ${load()})`,
    );
  const resume = new Map<string, ResumeRun[]>();
  const loads: string[] = [];
  const push = <T>(map: Map<string, T[]>, key: string, value: T) =>
    map.set(key, [...(map.get(key) ?? []), value]);

  log(`load average at start: ${load()} (${os.cpus().length} cores)`);
  const dynamo = SYSTEMS.includes('lambda') ? await startBenchDynamoDbLocal() : null;
  try {
    if (SELECTED.has('rps') || SELECTED.has('http')) {
      for (let run = 1; run <= RUNS; run += 1) {
        const topology = await startTopology({ replicas: 2 });
        try {
          // Alternate which system goes first, so a drift in the machine's load hits both alike.
          const systems = SELECTED.has('rps') && FLOORS ? [...SYSTEMS, 'floor'] : SYSTEMS;
          const order = run % 2 === 1 ? systems : [...systems].reverse();
          for (const system of order) {
            if (system === 'lambda' && dynamo) {
              await withOurEndpoint(dynamo.endpoint, topology, async (ours) => {
                await sleep(SETTLE_MS);
                if (SELECTED.has('rps')) {
                  await checkLookup(ours.endpoint.address, topology);
                  const t = await benchmarkLookup(ours.endpoint.address);
                  push(throughput, system, t);
                  logThroughput(run, system, t);
                }
                if (SELECTED.has('http')) {
                  const h = await benchmarkHttp(ours, topology);
                  push(http, 'api', h);
                  logHttp(run, 'api', h);
                  if (FLOORS) {
                    const f = await benchmarkHttpFloor(topology);
                    push(http, 'floor', f);
                    logHttp(run, 'floor', f);
                  }
                }
              });
            } else if (system === 'floor') {
              const expected = topology.master.address;
              const floor = await startNetFloor(
                Buffer.from(
                  `*2\r\n$${expected.host.length}\r\n${expected.host}\r\n$${String(expected.port).length}\r\n${expected.port}\r\n`,
                ),
              );
              try {
                await checkLookup(floor.address, topology);
                const t = await benchmarkLookup(floor.address);
                push(throughput, system, t);
                logThroughput(run, system, t);
              } finally {
                await floor.close();
              }
            } else if (system === 'local' && SELECTED.has('rps')) {
              await withLocalRunner(topology, async (sentinel) => {
                await sleep(SETTLE_MS);
                await checkLookup(sentinel, topology);
                const t = await benchmarkLookup(sentinel);
                push(throughput, system, t);
                logThroughput(run, system, t);
              });
            } else if (system === 'sentinel' && SELECTED.has('rps')) {
              await withRealSentinels(topology, async (sentinel) => {
                await checkLookup(sentinel, topology);
                const t = await benchmarkLookup(sentinel);
                push(throughput, system, t);
                logThroughput(run, system, t);
              });
            }
          }
        } finally {
          await topology.stop();
        }
      }
      loads.push(`throughput: ${load()}`);
    }

    if (SELECTED.has('resume')) {
      for (const profile of CLIENT_PROFILES) {
        for (let run = 1; run <= RUNS; run += 1) {
          for (const system of run % 2 === 1 ? SYSTEMS : [...SYSTEMS].reverse()) {
            const topology = await startTopology({ replicas: 2 });
            try {
              const r =
                system === 'lambda' && dynamo
                  ? await withOurEndpoint(dynamo.endpoint, topology, async (ours) => {
                      await sleep(SETTLE_MS);
                      return resumeAfterKill(topology, ours.endpoint.address, profile);
                    })
                  : system === 'local'
                    ? await withLocalRunner(topology, async (sentinel) => {
                        await sleep(SETTLE_MS);
                        return resumeAfterKill(topology, sentinel, profile);
                      })
                    : await withRealSentinels(topology, async (sentinel) => {
                        await sleep(SETTLE_MS);
                        return resumeAfterKill(topology, sentinel, profile);
                      });
              push(resume, `${profile}|${system}`, r);
              log(
                `resume ${profile} run ${run} ${system}: ${r.resumedMs ?? 'gave up'} ms after the kill, ` +
                  `${r.reconnects} reconnects (load ${load()})`,
              );
            } finally {
              await topology.stop();
            }
          }
        }
      }
      loads.push(`resume: ${load()}`);
    }
  } finally {
    await dynamo?.stop();
  }

  const out = (text: string) => process.stdout.write(text);
  out(
    `\nLoad average (1, 5, 15 min) at the end of each part: ${loads.join('; ')} — ${os.cpus().length} cores.\n`,
  );

  if (throughput.size > 0) {
    const real = throughput.get('sentinel') ?? [];
    const median = (runs: ThroughputRun[], pick: (t: ThroughputRun) => number | undefined) =>
      summarise(runs.map((t) => pick(t) ?? Number.NaN)).median;
    const rows: string[][] = [];
    for (const [label, pick] of [
      ['-c 50', (t: ThroughputRun) => t.plain.requestsPerSecond],
      [`-c 50 -P ${PIPELINE}`, (t: ThroughputRun) => t.pipelined?.requestsPerSecond],
    ] as const) {
      if (label.includes('-P') && PIPELINE <= 1) continue;
      for (const system of [...SYSTEMS, 'floor']) {
        const runs = throughput.get(system) ?? [];
        if (runs.length === 0) continue;
        const ratio =
          system !== 'sentinel' && real.length > 0
            ? (median(runs, pick) / median(real, pick)).toFixed(2)
            : '—';
        rows.push([
          label.replace('-c 50', `-c ${CLIENTS}`),
          systemName(system),
          String(runs.length),
          `**${formatTriple(runs.map((t) => pick(t) ?? Number.NaN))}**`,
          ratio,
        ]);
      }
    }
    out(
      `\nSENTINEL get-master-addr-by-name ${MASTER}, requests/s (min / median / max over ${RUNS} runs) with redis-benchmark -n ${REQUESTS} (×5 when pipelined); same topology, same machine, same run.\n\n`,
    );
    out(`${markdownTable(['redis-benchmark', 'system', 'runs', 'requests/s', 'vs Sentinel'], rows)}\n`);
  }

  if (http.size > 0) {
    out(
      `\nGET /v1/masters/${MASTER}/address, min / median / max over ${RUNS} runs: ${HTTP_REQUESTS} requests after ${HTTP_WARMUP} warm-up, ${HTTP_CONCURRENCY} concurrent keep-alive connections, load from a separate process; the server in the process that runs the three sentinels.\n\n`,
    );
    const rows = [...http].map(([what, runs]) => [
      what === 'api'
        ? 'HTTP API (startHttpApi, view cache 100 ms)'
        : 'reference: bare node:http server, fixed body',
      String(runs.length),
      `**${formatTriple(runs.map((h) => h.requestsPerSecond))}**`,
      formatMs(runs.map((h) => h.p50Ms)),
      `**${formatMs(runs.map((h) => h.p99Ms))}**`,
      formatMs(runs.map((h) => h.maxMs)),
    ]);
    out(`${markdownTable(['server', 'runs', 'requests/s', 'p50 ms', 'p99 ms', 'max ms'], rows)}\n`);
  }

  if (resume.size > 0) {
    const rows: string[][] = [];
    for (const profile of CLIENT_PROFILES) {
      const real = resume.get(`${profile}|sentinel`) ?? [];
      const resumed = (runs: ResumeRun[]) => runs.map((r) => r.resumedMs ?? Number.NaN);
      for (const system of SYSTEMS) {
        const runs = resume.get(`${profile}|${system}`) ?? [];
        const median = summarise(resumed(runs)).median;
        rows.push([
          profile,
          systemName(system),
          String(runs.length),
          `**${formatTriple(resumed(runs))}**`,
          `${Math.round(median - DOWN_AFTER_MS) >= 0 ? '+' : ''}${Math.round(median - DOWN_AFTER_MS)}`,
          formatTriple(runs.map((r) => r.reconnects)),
          system !== 'sentinel' && real.length > 0
            ? (median / summarise(resumed(real)).median).toFixed(2)
            : '—',
        ]);
      }
    }
    out(
      `\nioredis in Sentinel mode writing every ${WRITE_EVERY_MS} ms; master SIGKILLed → first write acknowledged by the new master, ms (min / median / max over ${RUNS} runs, fresh topology each); down-after ${DOWN_AFTER_MS}, failover-timeout ${FAILOVER_TIMEOUT_MS}, 3 sentinels, quorum 2. Client options for both systems: enableOfflineQueue true, maxRetriesPerRequest null, connectTimeout 1000, and ${CLIENT_PROFILES.map((p) => `${p}: ${CLIENT_PROFILE_TEXT[p] ?? p}`).join('; ')}.\n\n`,
    );
    out(
      `${markdownTable(
        [
          'client retry',
          'system',
          'runs',
          'writes resumed',
          'median − down-after',
          'reconnects',
          'vs Sentinel',
        ],
        rows,
      )}\n`,
    );
  }
}

function formatMs(values: readonly number[]): string {
  const { min, median, max } = summarise(values);
  return `${min.toFixed(2)} / ${median.toFixed(2)} / ${max.toFixed(2)}`;
}

await main();
