/**
 * bench:scale — three sentinels holding many masters: does one of them still fail over in time, and do the
 * others stay quiet?
 *
 * Topology: --masters masters in all. One of them (`m0`) has 2 replicas; the other --masters − 1 are plain
 * redis-server processes without replicas that stay healthy throughout. Once the sentinels are steady
 * (every sentinel has discovered m0's replicas and judges every master ok), their CPU and resident memory
 * are sampled for --steady seconds, then m0 is killed by PID (SIGKILL, or SIGSTOP with --signal stop) and
 * the failover is timed as bench/failover.ts times it: polled every POLL_MS from the kill, until a replica
 * reports role:master and the master's record (lambda-sentinel: the store's record, as the lookup API reads
 * it; Sentinel: SENTINEL get-master-addr-by-name) names the new address. The sentinels keep running for
 * AFTER_SWITCH_MS after the switch; every +sdown, +odown or failover event they emitted during the whole
 * run about any other master, or about m0 before the kill, is counted (the healthy masters must see none),
 * and so is every +tilt. A healthy master whose process died during the run is left out of that count.
 *
 * lambda-sentinel: three Node processes, one per sentinel, each running the bundled sentinel handler
 * (dist/sentinel.mjs, built into a temporary directory) once, as Lambda invokes it, with a context whose
 * deadline is LAMBDA_TIMEOUT_MS away, against DynamoDB Local. Node runs without the Lambda heap limits, so
 * that the peak RSS says how much memory the function needs rather than failing at a guessed limit.
 * Events and tick lines are read from each process's JSON log (stdout).
 * redis-server --sentinel: three real Sentinel processes with the same masters, events through PSUBSCRIBE.
 *
 * Each run starts fresh sentinels on a fresh table and a fresh m0 topology; the healthy masters are
 * started once (in batches) and shared by every run and system. Everything started is killed by PID at
 * the end, on an error and on Ctrl-C.
 *
 *   npm run bench:scale -- [--masters 1000] [--runs 3] [--down-after 5000] [--steady 20]
 *                          [--only lambda|sentinel] [--signal kill|stop] [--log-dir DIR]
 *                          [--steady-timeout S (default max(60, 0.6 × masters))] [--healthy-nice 19]
 *
 * --log-dir keeps each lambda-sentinel process's JSON log there.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Redis } from 'ioredis';
import { createDynamoClient } from '../lib/adapters/dynamodb/client.js';
import { createTable } from '../lib/adapters/dynamodb/schema.js';
import { DynamoStore } from '../lib/adapters/dynamodb/store.js';
import type { Address } from '../lib/core/types.js';
import {
  allocatePorts,
  findRedisServer,
  type RedisHandle,
  startRedis,
  startTopology,
  type Topology,
} from '../lib/runtime/redisProcess.js';
import { buildFunctions } from '../scripts/build.js';
import { schedulerEvent } from '../test/infra/invokeBundle.js';
import { startDynamoDbLocal } from '../test/support/dynamodbLocal.js';
import { lowerPriority, parseNice, QUIET_MASTER_ARGS, QUIET_MASTER_NICE } from './support/quietMasters.js';
import { connectWhenListening, withClient } from './support/redisClients.js';
import { formatTriple, markdownTable, summarise } from './support/stats.js';

const { values: opts } = parseArgs({
  options: {
    masters: { type: 'string', default: '1000' },
    runs: { type: 'string', default: '3' },
    'down-after': { type: 'string', default: '5000' },
    steady: { type: 'string', default: '20' },
    only: { type: 'string' },
    signal: { type: 'string', default: 'kill' },
    'log-dir': { type: 'string' },
    'steady-timeout': { type: 'string' },
    'healthy-nice': { type: 'string' },
  },
});
const MASTERS = Number(opts.masters);
const RUNS = Number(opts.runs);
const DOWN_AFTER_MS = Number(opts['down-after']);
const STEADY_MS = Number(opts.steady) * 1000;
const SIGNAL = opts.signal === 'stop' ? 'stop' : 'kill';
if (!Number.isInteger(MASTERS) || MASTERS < 1) throw new Error('--masters must be a positive integer');
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error('--runs must be a positive integer');
if (!(DOWN_AFTER_MS > 0)) throw new Error('--down-after must be a positive number of milliseconds');
if (!(STEADY_MS > 0)) throw new Error('--steady must be a positive number of seconds');
if (opts.signal !== 'kill' && opts.signal !== 'stop') throw new Error('--signal must be kill or stop');
/** The healthy masters' nice value (bench/support/quietMasters.ts says why); both systems share them. */
const HEALTHY_NICE = parseNice(opts['healthy-nice'] ?? String(QUIET_MASTER_NICE));

/** The target: the record switches within down-after + this. */
const TARGET_MARGIN_MS = 300;
const FAILOVER_TIMEOUT_MS = 60_000;
const POLL_MS = 10;
const GIVE_UP_AFTER_MS = DOWN_AFTER_MS + 30_000;
/** The sentinels keep running this long after the switch, for late false alarms on the other masters. */
const AFTER_SWITCH_MS = 5_000;
/**
 * How long the sentinels get to become steady: connect, judge every master, discover m0's replicas. A cold
 * start reads and writes the store once or twice per master, one master after the other, and on a loaded
 * machine DynamoDB Local takes up to a few hundred ms a call.
 */
const STEADY_TIMEOUT_MS = Number(opts['steady-timeout'] ?? Math.max(60, MASTERS * 0.6)) * 1000;
/** Healthy masters started at once. */
const START_BATCH = 25;
/** Tries per healthy master (each on a fresh port) before the bench gives up. */
const START_ATTEMPTS = 3;
/** A started server must still be running this long after its first PING answer. */
const LIVENESS_WAIT_MS = 200;
/** The new sentinel Lambda timeout: one invocation covers the whole run. */
const LAMBDA_TIMEOUT_MS = 900_000;
const SAMPLE_MS = 250;
/** How often the wait for steady prints where each sentinel is. */
const PROGRESS_MS = 5_000;
const CLOCK_TICKS_PER_SECOND = 100;
const FAILED_MASTER = 'm0';
/** Events that must never happen to a healthy master. */
const FALSE_ALARMS = new Set(['+sdown', '+odown', '+try-failover', '+switch-master', '+failover-end']);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (text: string) => process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${text}\n`);

// ---------------------------------------------------------------------------------------------------------
// Child processes started here (sentinels), killed by PID on exit and on Ctrl-C.

const children = new Set<ChildProcess>();
function killChild(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
async function stopChildren(list: readonly ChildProcess[]): Promise<void> {
  for (const child of list) killChild(child);
  await Promise.all(
    list.map((c) =>
      c.exitCode !== null || c.signalCode !== null ? null : new Promise((r) => c.once('exit', r)),
    ),
  );
  for (const child of list) children.delete(child);
}
process.on('exit', () => {
  for (const child of children) killChild(child);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    for (const child of children) killChild(child);
    // The redis-server and DynamoDB Local registries kill theirs on exit.
    process.exit(130);
  });
}

// ---------------------------------------------------------------------------------------------------------
// Process CPU and memory from /proc.

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line; here, after the state (field 3), 11 and 12.
  return Number(fields[11]) + Number(fields[12]);
}

function memoryKb(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'))?.[1] ?? NaN);
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

/** Busy and total jiffies of the whole machine (all cores), from /proc/stat. */
function machineTicks(): { busy: number; total: number } {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '')
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  // idle and iowait are fields 4 and 5 of the cpu line.
  return { busy: total - (fields[3] ?? 0) - (fields[4] ?? 0), total };
}

/** CPU ticks of processes that may have exited: those count as 0. */
function cpuTicksOr0(pid: number): number {
  try {
    return cpuTicks(pid);
  } catch {
    return 0;
  }
}

interface SteadyUsage {
  /** Per sentinel: % of one core over the steady window. */
  readonly cpuPercent: number[];
  /** Per sentinel: the highest RSS sampled in the steady window, MB. */
  readonly peakRssMb: number[];
  /** Per sentinel: the process's high-water mark since its start (start-up included), MB. */
  readonly hwmMb: number[];
  /** The healthy redis-servers together, % of one core. */
  readonly healthyCpuPercent: number;
  /** The whole machine (everything running, other work included), cores busy on average. */
  readonly machineBusyCores: number;
}

async function sampleSteady(
  pids: readonly number[],
  healthy: readonly RedisHandle[],
  ms: number,
): Promise<SteadyUsage> {
  const t0 = Date.now();
  const cpu0 = pids.map(cpuTicks);
  const healthyPids = healthy.map((h) => h.pid);
  const healthy0 = healthyPids.reduce((n, pid) => n + cpuTicksOr0(pid), 0);
  const machine0 = machineTicks();
  const peak = pids.map(() => 0);
  while (Date.now() - t0 < ms) {
    pids.forEach((pid, i) => {
      peak[i] = Math.max(peak[i] as number, memoryKb(pid).rss);
    });
    await sleep(SAMPLE_MS);
  }
  const seconds = (Date.now() - t0) / 1000;
  const healthyTicks = healthyPids.reduce((n, pid) => n + cpuTicksOr0(pid), 0) - healthy0;
  const machine1 = machineTicks();
  const cores = readFileSync('/proc/cpuinfo', 'utf8').match(/^processor\s*:/gm)?.length ?? 1;
  return {
    healthyCpuPercent: (100 * healthyTicks) / CLOCK_TICKS_PER_SECOND / seconds,
    machineBusyCores:
      (cores * (machine1.busy - machine0.busy)) / Math.max(1, machine1.total - machine0.total),
    cpuPercent: pids.map(
      (pid, i) => (100 * (cpuTicks(pid) - (cpu0[i] as number))) / CLOCK_TICKS_PER_SECOND / seconds,
    ),
    peakRssMb: peak.map((kb) => kb / 1024),
    hwmMb: pids.map((pid) => memoryKb(pid).hwm / 1024),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Redis: the healthy masters, and the timing of m0's failover (as bench/failover.ts does it).

/**
 * Ports for the healthy masters: above the range the shared redis-server helper draws from (other benches
 * and tests running at the same time use it, and two processes that check the same free port both think
 * it is theirs), below the ephemeral range.
 */
const HEALTHY_PORTS = { min: 30_000, max: 32_767 } as const;
const usedPorts = new Set<number>();

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

async function pickHealthyPort(): Promise<number> {
  for (let attempt = 0; attempt < 1_000; attempt += 1) {
    const port = HEALTHY_PORTS.min + Math.floor(Math.random() * (HEALTHY_PORTS.max - HEALTHY_PORTS.min + 1));
    if (usedPorts.has(port)) continue;
    usedPorts.add(port);
    if (await isPortFree(port)) return port;
  }
  throw new Error(`no free port left in ${HEALTHY_PORTS.min}–${HEALTHY_PORTS.max}`);
}

/**
 * One healthy master. On a loaded machine a server now and then misses its start-up deadline (startRedis
 * then kills it), or another process takes its port first (this server exits, and the PING that looked
 * like its answer came from the other one): either way another one is started on a fresh port.
 */
async function startHealthyMaster(binary: string): Promise<RedisHandle> {
  let lastError: unknown;
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt += 1) {
    try {
      const handle = await startRedis({ port: await pickHealthyPort(), args: QUIET_MASTER_ARGS, binary });
      lowerPriority(handle.pid, HEALTHY_NICE);
      await sleep(LIVENESS_WAIT_MS);
      if (handle.running) return handle;
      lastError = new Error(
        `redis-server on port ${handle.address.port} exited after start:\n${handle.logTail()}`,
      );
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function startHealthyMasters(count: number): Promise<RedisHandle[]> {
  const started: RedisHandle[] = [];
  const binary = findRedisServer();
  try {
    for (let i = 0; i < count; i += START_BATCH) {
      const batch = Math.min(START_BATCH, count - i);
      started.push(...(await Promise.all(Array.from({ length: batch }, () => startHealthyMaster(binary)))));
    }
  } catch (error) {
    await Promise.all(started.map((h) => h.stop()));
    throw error;
  }
  return started;
}

/** Replaces (in place) every healthy master whose process is gone; returns how many were replaced. */
async function replaceDeadMasters(healthy: RedisHandle[]): Promise<number> {
  const binary = findRedisServer();
  let replaced = 0;
  for (const [i, h] of healthy.entries()) {
    if (h.running) continue;
    await h.stop();
    healthy[i] = await startHealthyMaster(binary);
    replaced += 1;
  }
  return replaced;
}

interface Timings {
  promoted?: number;
  switched?: number;
}

/** Polls every POLL_MS from the kill until a replica is master and the record names it. */
async function measure(
  topology: Topology,
  lookup: () => Promise<Address | undefined>,
  killedAt: number,
): Promise<Timings> {
  const t: Timings = {};
  const old = topology.master.address;
  while (Date.now() - killedAt < GIVE_UP_AFTER_MS) {
    const elapsed = () => Date.now() - killedAt;
    if (t.promoted === undefined) {
      for (const replica of topology.replicas) {
        const role = await withClient(
          replica.address,
          async (c) => (await c.info('replication')).match(/^role:(\S+)/m)?.[1],
        );
        if (role === 'master') {
          t.promoted = elapsed();
          break;
        }
      }
    }
    if (t.switched === undefined) {
      const address = await lookup();
      if (address && (address.host !== old.host || address.port !== old.port)) t.switched = elapsed();
    }
    if (t.promoted !== undefined && t.switched !== undefined) return t;
    await sleep(POLL_MS);
  }
  return t;
}

async function failMaster(topology: Topology): Promise<number> {
  const at = Date.now();
  if (SIGNAL === 'stop') await topology.master.pause();
  else await topology.master.kill();
  return at;
}

function configLines(m0: Address, healthy: readonly RedisHandle[]): string[] {
  const lines: string[] = [];
  const monitor = (name: string, address: Address) =>
    lines.push(
      `sentinel monitor ${name} ${address.host} ${address.port} 2`,
      `sentinel down-after-milliseconds ${name} ${DOWN_AFTER_MS}`,
      `sentinel failover-timeout ${name} ${FAILOVER_TIMEOUT_MS}`,
    );
  monitor(FAILED_MASTER, m0);
  healthy.forEach((h, i) => {
    monitor(`m${i + 1}`, h.address);
  });
  return lines;
}

// ---------------------------------------------------------------------------------------------------------
// One run's outcome.

interface RunResult {
  readonly timings: Timings;
  readonly steady: SteadyUsage;
  /** Seconds from the sentinels' start to steady. */
  readonly startupS: number;
  /** First +sdown of m0 by any sentinel, ms after the kill. */
  readonly sdownMs?: number;
  /** False alarms on the healthy masters, by event type; and the masters they hit. */
  readonly falseAlarms: Record<string, number>;
  readonly falseMasters: number;
  readonly tilts: number;
  /** +tilt events from the moment all three were steady to the end (the others came during start-up). */
  readonly tiltsAfterSteady: number;
  /** Healthy masters whose redis-server process exited during the run (not counted as false alarms). */
  readonly healthyDied: number;
  /** lambda-sentinel: decision ticks a second per sentinel (steady start to the end), and failed ticks. */
  readonly ticksPerSecond?: number[];
  readonly failedTicks?: number;
  /** Notable warnings and errors, by message (lambda-sentinel's log). */
  readonly problems: Record<string, number>;
}

interface SeenEvent {
  readonly sentinel: number;
  readonly type: string;
  readonly master: string | null;
  readonly at: number;
}

function countFalseAlarms(
  events: readonly SeenEvent[],
  steadyAt: number,
  healthy: readonly RedisHandle[],
  killedAt: number,
): Pick<RunResult, 'falseAlarms' | 'falseMasters' | 'tilts' | 'tiltsAfterSteady' | 'healthyDied'> {
  // A healthy master whose process died during the run is really down: its events are no false alarm.
  const died = new Set(healthy.flatMap((h, i) => (h.running ? [] : [`m${i + 1}`])));
  const falseAlarms: Record<string, number> = {};
  const hit = new Set<string>();
  for (const e of events) {
    // m0's events count too when they came before it was killed.
    const expected = e.master === FAILED_MASTER && e.at >= killedAt;
    if (expected || e.master === null || died.has(e.master) || !FALSE_ALARMS.has(e.type)) continue;
    falseAlarms[e.type] = (falseAlarms[e.type] ?? 0) + 1;
    hit.add(e.master);
  }
  const tilts = events.filter((e) => e.type === '+tilt');
  return {
    falseAlarms,
    falseMasters: hit.size,
    tilts: tilts.length,
    tiltsAfterSteady: tilts.filter((e) => e.at >= steadyAt).length,
    healthyDied: died.size,
  };
}

function firstSdown(events: readonly SeenEvent[], killedAt: number): number | undefined {
  const at = events
    .filter((e) => e.type === '+sdown' && e.master === FAILED_MASTER && e.at >= killedAt)
    .map((e) => e.at);
  return at.length > 0 ? Math.min(...at) - killedAt : undefined;
}

// ---------------------------------------------------------------------------------------------------------
// lambda-sentinel: the bundled handler in three processes.

/** The child: import the bundle, invoke the handler once as Lambda does, exit when it returns. */
const CHILD_PROGRAM = `
import { randomUUID } from 'node:crypto';
const mod = await import(process.env.LS_BUNDLE_URL);
const deadline = Date.now() + Number(process.env.LS_REMAINING_MS);
const name = 'lambda-sentinel-bench-' + process.env.SENTINEL_ID;
const context = {
  awsRequestId: randomUUID(),
  functionName: name,
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:' + name,
  memoryLimitInMB: '1024',
  logGroupName: '/aws/lambda/' + name,
  logStreamName: 'local',
  getRemainingTimeInMillis: () => deadline - Date.now(),
};
const result = await mod.handler(JSON.parse(process.env.LS_EVENT), context);
process.stderr.write('handler returned ' + JSON.stringify(result) + '\\n');
process.exit(0);
`;

interface SentinelLog {
  events: SeenEvent[];
  /** The latest tick line: its tick number, its time, how many masters were ok. */
  lastTick?: { tick: number; at: number; mastersOk: number };
  /** The first tick line with every master ok. */
  steadyTick?: { tick: number; at: number };
  failedTicks: number;
  problems: Record<string, number>;
  stderr: string;
}

interface LogLine {
  level?: string;
  message?: string;
  timestamp?: string;
  event?: string;
  master?: string | null;
  tick?: number;
  mastersOk?: number;
  failedMasters?: number;
}

function spawnLambdaSentinel(
  index: number,
  sentinelId: string,
  env: Record<string, string>,
  bundle: string,
): { child: ChildProcess; log: SentinelLog } {
  const log: SentinelLog = { events: [], failedTicks: 0, problems: {}, stderr: '' };
  const child = spawn(process.execPath, ['--input-type=module', '--eval', CHILD_PROGRAM], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...env,
      SENTINEL_ID: sentinelId,
      POWERTOOLS_LOG_LEVEL: 'INFO',
      LS_BUNDLE_URL: pathToFileURL(bundle).href,
      LS_REMAINING_MS: String(LAMBDA_TIMEOUT_MS),
      LS_EVENT: JSON.stringify(schedulerEvent()),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let partial = '';
  const keep = opts['log-dir']
    ? createWriteStream(join(opts['log-dir'], `${sentinelId}-${Date.now()}.log`))
    : null;
  child.once('exit', () => keep?.end());
  child.stdout?.on('data', (chunk: Buffer) => {
    keep?.write(chunk);
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    for (const text of parts) {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        continue;
      }
      const at = line.timestamp ? Date.parse(line.timestamp) : Date.now();
      if (typeof line.event === 'string') {
        log.events.push({ sentinel: index, type: line.event, master: line.master ?? null, at });
      } else if (typeof line.tick === 'number' && typeof line.mastersOk === 'number') {
        log.lastTick = { tick: line.tick, at, mastersOk: line.mastersOk };
        if (line.mastersOk === MASTERS && log.steadyTick === undefined)
          log.steadyTick = { tick: line.tick, at };
        if ((line.failedMasters ?? 0) > 0) log.failedTicks += 1;
      }
      if ((line.level === 'WARN' || line.level === 'ERROR') && line.message) {
        const key = `${line.level} ${line.message.slice(0, 120)}`;
        log.problems[key] = (log.problems[key] ?? 0) + 1;
      }
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    log.stderr = (log.stderr + chunk.toString('utf8')).slice(-5_000);
  });
  return { child, log };
}

async function runLambda(
  dynamoEndpoint: string,
  bundle: string,
  healthy: readonly RedisHandle[],
): Promise<RunResult> {
  const topology = await startTopology({ replicas: 2 });
  const dir = mkdtempSync(join(tmpdir(), 'ls-bench-scale-'));
  const started: ChildProcess[] = [];
  try {
    const table = `bench-${randomUUID()}`;
    await createTable(createDynamoClient({ endpoint: dynamoEndpoint }), table);
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(conf, `${configLines(topology.master.address, healthy).join('\n')}\n`);
    const env = { TABLE_NAME: table, SENTINEL_CONFIG_FILE: conf, DYNAMODB_ENDPOINT: dynamoEndpoint };
    const sentinels = ['sentinel-a', 'sentinel-b', 'sentinel-c'].map((id, i) =>
      spawnLambdaSentinel(i, id, env, bundle),
    );
    started.push(...sentinels.map((s) => s.child));
    const logs = sentinels.map((s) => s.log);
    const t0 = Date.now();
    let nextProgressAt = t0 + PROGRESS_MS;
    for (;;) {
      const exited = sentinels.find((s) => s.child.exitCode !== null || s.child.signalCode !== null);
      if (exited) throw new Error(`a sentinel process exited during start-up:\n${exited.log.stderr}`);
      const ready = logs.every(
        (l) =>
          l.steadyTick !== undefined &&
          l.events.filter((e) => e.type === '+slave' && e.master === FAILED_MASTER).length >= 2,
      );
      if (ready) break;
      if (Date.now() >= nextProgressAt) {
        nextProgressAt += PROGRESS_MS;
        log(
          `waiting for steady: ${logs
            .map(
              (l, i) =>
                `sentinel ${i} tick ${l.lastTick?.tick ?? '-'} masters ok ${l.lastTick?.mastersOk ?? '-'}, ` +
                `m0 replicas ${l.events.filter((e) => e.type === '+slave' && e.master === FAILED_MASTER).length}`,
            )
            .join('; ')}`,
        );
      }
      if (Date.now() - t0 > STEADY_TIMEOUT_MS) {
        const seconds = (Date.now() - t0) / 1000;
        const state = logs.map((l, i) => {
          const pid = sentinels[i]?.child.pid as number;
          const falseSdowns = l.events.filter(
            (e) => e.type === '+sdown' && e.master !== FAILED_MASTER,
          ).length;
          return (
            `sentinel ${i}: last tick ${JSON.stringify(l.lastTick ?? null)}, m0 replicas ` +
            `${l.events.filter((e) => e.type === '+slave' && e.master === FAILED_MASTER).length}, ` +
            `+sdown on other masters ${falseSdowns}, +tilt ${l.events.filter((e) => e.type === '+tilt').length}, ` +
            `CPU since start ${((100 * cpuTicksOr0(pid)) / CLOCK_TICKS_PER_SECOND / seconds).toFixed(1)} %, ` +
            `RSS high-water mark ${(memoryKb(pid).hwm / 1024).toFixed(0)} MB`
          );
        });
        throw new Error(
          `lambda-sentinel not steady within ${STEADY_TIMEOUT_MS / 1000} s at ${MASTERS} masters: ${state.join('; ')}`,
        );
      }
      await sleep(100);
    }
    const steadyAt = Date.now();
    const startupS = (steadyAt - t0) / 1000;
    log(`lambda-sentinel steady after ${startupS.toFixed(1)} s; sampling ${STEADY_MS / 1000} s`);
    const steady = await sampleSteady(
      sentinels.map((s) => s.child.pid as number),
      healthy,
      STEADY_MS,
    );
    const store = new DynamoStore(createDynamoClient({ endpoint: dynamoEndpoint }), table);
    const killedAt = await failMaster(topology);
    const timings = await measure(
      topology,
      async () => {
        const record = await store.getMaster(FAILED_MASTER).catch(() => null);
        return record ? { host: record.host, port: record.port } : undefined;
      },
      killedAt,
    );
    await sleep(AFTER_SWITCH_MS);
    const events = logs.flatMap((l) => l.events);
    const ticksPerSecond = logs.map((l) =>
      l.steadyTick && l.lastTick && l.lastTick.at > l.steadyTick.at
        ? (l.lastTick.tick - l.steadyTick.tick) / ((l.lastTick.at - l.steadyTick.at) / 1000)
        : Number.NaN,
    );
    const problems: Record<string, number> = {};
    for (const l of logs) {
      for (const [k, n] of Object.entries(l.problems)) problems[k] = (problems[k] ?? 0) + n;
    }
    const sdownMs = firstSdown(events, killedAt);
    return {
      timings,
      steady,
      startupS,
      ...(sdownMs !== undefined ? { sdownMs } : {}),
      ...countFalseAlarms(events, steadyAt, healthy, killedAt),
      ticksPerSecond,
      failedTicks: logs.reduce((n, l) => n + l.failedTicks, 0),
      problems,
    };
  } finally {
    await stopChildren(started);
    await topology.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Redis Sentinel: three redis-server --sentinel processes.

/** SENTINEL MASTERS as field maps. */
async function sentinelMasters(admin: Redis): Promise<Map<string, Record<string, string>>> {
  const reply = (await admin.call('SENTINEL', 'MASTERS')) as string[][];
  const out = new Map<string, Record<string, string>>();
  for (const flat of reply) {
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
    out.set(fields.name ?? '?', fields);
  }
  return out;
}

async function runSentinel(healthy: readonly RedisHandle[]): Promise<RunResult | string> {
  const topology = await startTopology({ replicas: 2 });
  const dir = mkdtempSync(join(tmpdir(), 'ls-bench-scale-sentinel-'));
  const started: ChildProcess[] = [];
  const clients: Redis[] = [];
  try {
    const ports = await allocatePorts(3);
    const binary = findRedisServer();
    for (const [i, port] of ports.entries()) {
      const file = join(dir, `sentinel-${i}.conf`);
      writeFileSync(
        file,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          ...configLines(topology.master.address, healthy),
          `sentinel parallel-syncs ${FAILED_MASTER} 1`,
          '',
        ].join('\n'),
      );
      const child = spawn(binary, [file, '--sentinel'], { stdio: 'ignore' });
      children.add(child);
      started.push(child);
    }
    const t0 = Date.now();
    const events: SeenEvent[] = [];
    for (const [i, port] of ports.entries()) {
      const sub = await connectWhenListening(port, t0 + STEADY_TIMEOUT_MS);
      clients.push(sub);
      await sub.psubscribe('*');
      sub.on('pmessage', (_pattern: string, channel: string, message: string) => {
        // "<instance-type> <name> <ip> <port> @ <master-name> <master-ip> <master-port>" or "master <name> …"
        const words = message.split(' ');
        const master = words[0] === 'master' ? (words[1] ?? null) : (words[words.indexOf('@') + 1] ?? null);
        events.push({ sentinel: i, type: channel, master, at: Date.now() });
      });
    }
    const admin = await Promise.all(ports.map((port) => connectWhenListening(port, t0 + STEADY_TIMEOUT_MS)));
    clients.push(...admin);
    let lastState = '';
    for (;;) {
      const states = await Promise.all(
        admin.map(async (a) => {
          const masters = await sentinelMasters(a);
          const m0 = masters.get(FAILED_MASTER);
          const allOk = masters.size === MASTERS && [...masters.values()].every((m) => m.flags === 'master');
          const quorum = await a.call('SENTINEL', 'CKQUORUM', FAILED_MASTER).then(
            () => true,
            () => false,
          );
          const ok =
            allOk && Number(m0?.['num-slaves']) >= 2 && Number(m0?.['num-other-sentinels']) >= 2 && quorum;
          return {
            ok,
            text: `${masters.size} masters, m0 ${m0?.['num-slaves']} replicas ${m0?.['num-other-sentinels']} peers`,
          };
        }),
      );
      lastState = states.map((s) => s.text).join('; ');
      if (states.every((s) => s.ok)) break;
      if (Date.now() - t0 > STEADY_TIMEOUT_MS) {
        return `not steady within ${STEADY_TIMEOUT_MS / 1000} s at ${MASTERS} masters (${lastState})`;
      }
      await sleep(250);
    }
    const steadyAt = Date.now();
    const startupS = (steadyAt - t0) / 1000;
    log(`redis-server --sentinel steady after ${startupS.toFixed(1)} s; sampling ${STEADY_MS / 1000} s`);
    const steady = await sampleSteady(
      started.map((c) => c.pid as number),
      healthy,
      STEADY_MS,
    );
    const sentinel = { host: '127.0.0.1', port: ports[0] as number };
    const killedAt = await failMaster(topology);
    const timings = await measure(
      topology,
      async () => {
        const reply = await withClient(sentinel, (c) =>
          c.call('SENTINEL', 'get-master-addr-by-name', FAILED_MASTER),
        );
        return Array.isArray(reply) ? { host: String(reply[0]), port: Number(reply[1]) } : undefined;
      },
      killedAt,
    );
    await sleep(AFTER_SWITCH_MS);
    const sdownMs = firstSdown(events, killedAt);
    return {
      timings,
      steady,
      startupS,
      ...(sdownMs !== undefined ? { sdownMs } : {}),
      ...countFalseAlarms(events, steadyAt, healthy, killedAt),
      problems: {},
    };
  } finally {
    for (const c of clients) c.disconnect();
    await stopChildren(started);
    await topology.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------

const SYSTEM_NAMES: Record<string, string> = {
  lambda: 'lambda-sentinel (bundled handler, 3 processes)',
  sentinel: 'redis-server --sentinel 7.0',
};

function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

async function main(): Promise<void> {
  const systems = opts.only ? [opts.only] : ['lambda', 'sentinel'];
  for (const s of systems) if (!(s in SYSTEM_NAMES)) throw new Error(`--only must be lambda or sentinel`);
  if (opts['log-dir']) mkdirSync(opts['log-dir'], { recursive: true });
  const buildDir = mkdtempSync(join(tmpdir(), 'ls-bench-scale-dist-'));
  let dynamo: Awaited<ReturnType<typeof startDynamoDbLocal>> | null = null;
  let healthy: RedisHandle[] = [];
  const results = new Map<string, (RunResult | string)[]>();
  try {
    if (systems.includes('lambda')) {
      await buildFunctions({ outdir: buildDir, only: ['sentinel'] });
      dynamo = await startDynamoDbLocal();
    }
    const t0 = Date.now();
    healthy = await startHealthyMasters(MASTERS - 1);
    log(`${healthy.length} healthy masters started in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    for (let run = 1; run <= RUNS; run += 1) {
      for (const system of systems) {
        const replaced = await replaceDeadMasters(healthy);
        if (replaced > 0) log(`replaced ${replaced} healthy master(s) whose process had exited`);
        log(`run ${run} ${system}: load average ${loadAverage()}`);
        let r: RunResult | string;
        try {
          r =
            system === 'lambda' && dynamo
              ? await runLambda(dynamo.endpoint, join(buildDir, 'sentinel.mjs'), healthy)
              : await runSentinel(healthy);
        } catch (error) {
          r = error instanceof Error ? error.message : String(error);
        }
        results.set(system, [...(results.get(system) ?? []), r]);
        log(
          typeof r === 'string'
            ? `run ${run} ${system}: FAILED ${r}`
            : `run ${run} ${system}: sdown ${r.sdownMs} promoted ${r.timings.promoted} switched ` +
                `${r.timings.switched} ms; false alarms ${JSON.stringify(r.falseAlarms)}; tilts ${r.tilts} (${r.tiltsAfterSteady} once steady); ` +
                `healthy masters died ${r.healthyDied}; ` +
                `` +
                `CPU ${r.steady.cpuPercent.map((c) => c.toFixed(1)).join('/')} %; ` +
                `RSS ${r.steady.peakRssMb.map((m) => m.toFixed(0)).join('/')} MB; healthy redis ` +
                `${r.steady.healthyCpuPercent.toFixed(1)} %; machine ${r.steady.machineBusyCores.toFixed(2)} cores busy` +
                (r.ticksPerSecond ? `; ticks/s ${r.ticksPerSecond.map((t) => t.toFixed(2)).join('/')}` : '') +
                (Object.keys(r.problems).length > 0 ? `; problems ${JSON.stringify(r.problems)}` : ''),
        );
      }
    }
  } finally {
    await Promise.all(healthy.map((h) => h.stop()));
    await dynamo?.stop();
    rmSync(buildDir, { recursive: true, force: true });
  }

  const rows: string[][] = [];
  const resources: string[][] = [];
  const failures: string[] = [];
  for (const system of systems) {
    const all = results.get(system) ?? [];
    for (const r of all) if (typeof r === 'string') failures.push(`${SYSTEM_NAMES[system]}: ${r}`);
    const runs = all.filter((r): r is RunResult => typeof r !== 'string');
    if (runs.length === 0) continue;
    const col = (f: (r: RunResult) => number | undefined) => runs.map((r) => f(r) ?? Number.NaN);
    /** min / median / max of the runs that saw it; the others are named (none within the give-up time). */
    const triple = (values: number[]) => {
      const seen = values.filter((v) => Number.isFinite(v));
      const missing = values.length - seen.length;
      if (seen.length === 0) return `none within ${GIVE_UP_AFTER_MS / 1000} s`;
      return `${formatTriple(seen)}${missing > 0 ? ` (${missing} run(s): none within ${GIVE_UP_AFTER_MS / 1000} s)` : ''}`;
    };
    const over = col((r) => r.timings.switched).map((s) => s - DOWN_AFTER_MS);
    const met = over.filter((o) => o <= TARGET_MARGIN_MS).length;
    const falseTotal = runs.reduce((n, r) => n + Object.values(r.falseAlarms).reduce((a, b) => a + b, 0), 0);
    const died = runs.reduce((n, r) => n + r.healthyDied, 0);
    const sdowns = runs.reduce((n, r) => n + (r.falseAlarms['+sdown'] ?? 0), 0);
    rows.push([
      SYSTEM_NAMES[system] ?? system,
      String(MASTERS),
      `${runs.length}/${all.length}`,
      triple(col((r) => r.sdownMs)),
      triple(col((r) => r.timings.promoted)),
      `**${triple(col((r) => r.timings.switched))}**`,
      `**${triple(over)}**`,
      `${met}/${runs.length}`,
      `${sdowns} (${falseTotal} in all, ${runs.reduce((n, r) => n + r.falseMasters, 0)} masters)` +
        (died > 0 ? `; ${died} whose process died left out` : ''),
      `${runs.reduce((n, r) => n + r.tilts, 0)} (${runs.reduce((n, r) => n + r.tiltsAfterSteady, 0)} once steady)`,
    ]);
    const perSentinel = (f: (r: RunResult) => number[], digits: number) =>
      [0, 1, 2]
        .map((i) => summarise(runs.map((r) => f(r)[i] ?? Number.NaN)).median.toFixed(digits))
        .join(' / ');
    resources.push([
      SYSTEM_NAMES[system] ?? system,
      (() => {
        const s = summarise(col((r) => r.startupS));
        return `${s.min.toFixed(1)} / ${s.median.toFixed(1)} / ${s.max.toFixed(1)}`;
      })(),
      perSentinel((r) => r.steady.cpuPercent, 1),
      perSentinel((r) => r.steady.peakRssMb, 0),
      perSentinel((r) => r.steady.hwmMb, 0),
      `${summarise(col((r) => r.steady.healthyCpuPercent)).median.toFixed(1)} %`,
      summarise(col((r) => r.steady.machineBusyCores)).median.toFixed(2),
      runs[0]?.ticksPerSecond ? perSentinel((r) => r.ticksPerSecond ?? [], 2) : '—',
      runs[0]?.failedTicks !== undefined ? String(runs.reduce((n, r) => n + (r.failedTicks ?? 0), 0)) : '—',
    ]);
  }
  process.stdout.write(
    `\n${MASTERS} masters: ${FAILED_MASTER} with 2 replicas is ${SIGNAL === 'stop' ? 'SIGSTOPped' : 'SIGKILLed'} once the ` +
      `sentinels are steady, the other ${MASTERS - 1} (no replicas) stay healthy. ms after the kill ` +
      `(min / median / max over ${RUNS} runs); 3 sentinels, quorum 2, down-after ${DOWN_AFTER_MS}, ` +
      `failover-timeout ${FAILOVER_TIMEOUT_MS}, polled every ${POLL_MS} ms; target: switched within ` +
      `down-after + ${TARGET_MARGIN_MS} ms. Healthy masters at nice ${HEALTHY_NICE}. Load average at the end: ${loadAverage()}.\n\n`,
  );
  process.stdout.write(
    `${markdownTable(
      [
        'system',
        'masters',
        'runs ok',
        'm0 +sdown',
        'replica promoted',
        'address switched',
        'switched − down-after',
        `within +${TARGET_MARGIN_MS} ms`,
        'false +sdown (healthy masters, m0 before the kill)',
        '+tilt',
      ],
      rows,
    )}\n\n`,
  );
  process.stdout.write(
    `Per sentinel (a / b / c, median over runs) while steady, over ${STEADY_MS / 1000} s before the kill:\n\n`,
  );
  process.stdout.write(
    `${markdownTable(
      [
        'system',
        'start-up to steady, s (min / median / max)',
        'CPU, % of one core',
        'peak RSS while steady, MB',
        'RSS high-water mark since start, MB',
        `the ${MASTERS - 1} healthy redis-servers together, % of one core`,
        'machine: cores busy (all processes, other work included)',
        'decision ticks per second',
        'ticks with a failed master',
      ],
      resources,
    )}\n`,
  );
  if (failures.length > 0)
    process.stdout.write(`\nFailed runs:\n${failures.map((f) => `- ${f}`).join('\n')}\n`);
}

await main();
