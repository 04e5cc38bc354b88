/**
 * bench:failover — SIGKILL of a master with two replicas, timed from the kill, for three systems on
 * the same topology in the same run:
 * - `lambda`: three sentinel loops in this process on DynamoDB Local (the store the deployment uses
 *   locally), started with its first JIT tier only and warmed up before the timed runs
 *   (startBenchDynamoDbLocal); lookups read the master record as the HTTP API does;
 * - `local`: `lambda-sentinel local --config FILE` as users start it (its embedded store, its
 *   Redis-protocol endpoint); lookups through that endpoint;
 * - `sentinel`: three real `redis-server --sentinel` 7.0 processes; lookups through one of them.
 * The first table: replica promoted, address switched (the lookup answers the new master), SET accepted
 * by it, the other replica re-linked. The second: the timeline of the failover's steps (median ms
 * after the kill), from the sentinels' own events and, for `lambda`, from the store, probes and Redis
 * commands as the sentinels call them (bench/support/lambdaSentinels.ts, FailoverStep).
 *
 * `--masters N` (local and sentinel): N − 1 more healthy masters, started once for the whole run, are
 * monitored beside the one that fails over, with the same down-after; the tables then say so.
 *
 *   npm run bench:failover -- [--runs 5] [--down-after 1000,5000] [--only lambda,local,sentinel] [--masters 1]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { Address } from '../lib/core/types.js';
import { EVENT_REORDER_WINDOW_MS } from '../lib/local/eventPrinter.js';
import {
  allocatePorts,
  type RedisHandle,
  startRedis,
  startTopology,
  type Topology,
} from '../lib/runtime/redisProcess.js';
import { startBenchDynamoDbLocal, startLambdaSentinels } from './support/lambdaSentinels.js';
import { startLocalSentinel } from './support/localSentinel.js';
import { QUIET_MASTER_ARGS } from './support/quietMasters.js';
import { startRealSentinels } from './support/realSentinel.js';
import { withClient } from './support/redisClients.js';
import { formatTriple, markdownTable, summarise } from './support/stats.js';

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    'down-after': { type: 'string', default: '1000,5000' },
    only: { type: 'string' },
    masters: { type: 'string', default: '1' },
  },
});
const RUNS = Number(opts.runs);
const DOWN_AFTERS = (opts['down-after'] ?? '').split(',').map(Number);
const MASTERS = Number(opts.masters);
if (!Number.isInteger(MASTERS) || MASTERS < 1) throw new Error('--masters must be a whole number ≥ 1');
const FAILOVER_TIMEOUT_MS = 60_000;
const SETTLE_MS = 1_500;
const POLL_MS = 10;
const SYSTEM_NAMES: Readonly<Record<string, string>> = {
  lambda: 'lambda-sentinel (DynamoDB Local)',
  local: 'lambda-sentinel local (embedded store, endpoint)',
  sentinel: 'redis-server --sentinel 7.0',
};
const GIVE_UP_AFTER_MS = 30_000;
/** Beyond the local runner's reordering window, for its last lines to reach this process. */
const PRINT_MARGIN_MS = 200;

interface Timings {
  promoted?: number;
  switched?: number;
  written?: number;
  relinked?: number;
  /** ms after the kill of each step of the timeline, where the system shows it. */
  steps: Partial<Record<Step, number>>;
}

/** The failover's steps, in order, as the timeline table shows them (ms after the kill). */
const STEPS = [
  'probe noticed',
  '+sdown',
  'vote written',
  '+odown',
  'elected',
  'replica selected',
  'REPLICAOF NO ONE sent',
  'promotion seen',
  'record switched',
] as const;
type Step = (typeof STEPS)[number];

/**
 * The events that mark a step. Sentinel sends SLAVEOF NO ONE without waiting for its reply and announces
 * +failover-state-wait-promotion right after; it sees the promotion in an INFO (+promoted-slave) and
 * switches its configuration at the end (+switch-master). lambda-sentinel announces
 * +failover-state-send-slaveof-noone right before it sends, +promoted-slave on the command's OK, and
 * +switch-master right after the record switched.
 */
const SENTINEL_STEP_EVENTS: ReadonlyArray<readonly [string, Step]> = [
  ['+sdown', '+sdown'],
  ['+odown', '+odown'],
  ['+elected-leader', 'elected'],
  ['+selected-slave', 'replica selected'],
  ['+failover-state-wait-promotion', 'REPLICAOF NO ONE sent'],
  ['+promoted-slave', 'promotion seen'],
  ['+switch-master', 'record switched'],
];
const LOCAL_STEP_EVENTS: ReadonlyArray<readonly [string, Step]> = [
  ['+sdown', '+sdown'],
  ['+odown', '+odown'],
  ['+elected-leader', 'elected'],
  ['+selected-slave', 'replica selected'],
  ['+failover-state-send-slaveof-noone', 'REPLICAOF NO ONE sent'],
  ['+promoted-slave', 'promotion seen'],
  ['+switch-master', 'record switched'],
];

/** The first time after the kill each step's event was seen, from (type, time) pairs. */
function stepsFromEvents(
  events: ReadonlyArray<{ readonly type: string; readonly at: number }>,
  mapping: ReadonlyArray<readonly [string, Step]>,
  killedAt: number,
): Partial<Record<Step, number>> {
  const steps: Partial<Record<Step, number>> = {};
  for (const [type, step] of mapping) {
    const times = events.filter((e) => e.type === type && e.at >= killedAt).map((e) => e.at - killedAt);
    if (times.length > 0) steps[step] = Math.min(...times);
  }
  return steps;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function replication(
  address: Address,
): Promise<{ role: string; masterPort: number | null; linkUp: boolean } | undefined> {
  return withClient(address, async (client) => {
    const text = await client.info('replication');
    const field = (name: string) => text.match(new RegExp(`^${name}:(.*)$`, 'm'))?.[1]?.trim() ?? null;
    const port = field('master_port');
    return {
      role: field('role') ?? '?',
      masterPort: port ? Number(port) : null,
      linkUp: field('master_link_status') === 'up',
    };
  });
}

/**
 * Polls every POLL_MS from the kill until the four moments are all seen. Two pollers run side by side,
 * so that neither's round trips delay the other's observations: the replicas' INFO (promoted, re-linked),
 * and the lookup followed at once by a SET on the address it answers (switched, written).
 */
async function measure(
  topology: Topology,
  lookup: () => Promise<Address | undefined>,
  killedAt: number,
): Promise<Timings> {
  const t: Timings = { steps: {} };
  const old = topology.master.address;
  let newMaster: Address | undefined;
  const elapsed = () => Date.now() - killedAt;
  const done = () =>
    t.promoted !== undefined &&
    t.switched !== undefined &&
    t.written !== undefined &&
    t.relinked !== undefined;
  const poll = async (step: () => Promise<void>) => {
    while (!done() && elapsed() < GIVE_UP_AFTER_MS) {
      await step();
      await sleep(POLL_MS);
    }
  };
  const replicas = async () => {
    if (t.promoted === undefined) {
      for (const replica of topology.replicas) {
        if ((await replication(replica.address))?.role === 'master') {
          t.promoted = elapsed();
          break;
        }
      }
    }
    if (newMaster && t.relinked === undefined) {
      const target = newMaster;
      const other = topology.replicas.find((r) => r.address.port !== target.port);
      const state = other ? await replication(other.address) : undefined;
      if (state?.role === 'slave' && state.masterPort === target.port && state.linkUp) t.relinked = elapsed();
    }
  };
  const lookupAndWrite = async () => {
    if (t.switched === undefined) {
      const address = await lookup();
      if (address && (address.host !== old.host || address.port !== old.port)) {
        t.switched = elapsed();
        newMaster = address;
      }
    }
    if (newMaster && t.written === undefined) {
      const target = newMaster;
      const ok = await withClient(target, (client) => client.set('bench:key', String(Date.now())));
      if (ok === 'OK') t.written = elapsed();
    }
  };
  await Promise.all([poll(replicas), poll(lookupAndWrite)]);
  return t;
}

async function runLambdaSentinel(endpoint: string, downAfterMs: number): Promise<Timings> {
  const topology = await startTopology({ replicas: 2 });
  try {
    let killedAt: number | null = null;
    const seen: Partial<Record<Step, number>> = {};
    const sentinels = await startLambdaSentinels({
      endpoint,
      topology,
      downAfterMs,
      failoverTimeoutMs: FAILOVER_TIMEOUT_MS,
      onStep: (step) => {
        if (killedAt !== null) seen[step === 'claim won' ? 'elected' : step] ??= Date.now() - killedAt;
      },
    });
    await sleep(SETTLE_MS);
    killedAt = Date.now();
    await topology.master.kill();
    const timings = await measure(
      topology,
      async () => {
        const record = await sentinels.store.getMaster('mymaster').catch(() => null);
        return record ? { host: record.host, port: record.port } : undefined;
      },
      killedAt,
    );
    await sentinels.stop();
    const fromEvents = stepsFromEvents(
      sentinels.events,
      [
        ['+sdown', '+sdown'],
        ['+odown', '+odown'],
      ],
      killedAt,
    );
    return { ...timings, steps: { ...seen, ...fromEvents } };
  } finally {
    await topology.stop();
  }
}

/** The local runner as users start it: lookups through its Redis-protocol endpoint. */
async function runLocalSentinel(downAfterMs: number, others: readonly Address[]): Promise<Timings> {
  const topology = await startTopology({ replicas: 2 });
  try {
    const local = await startLocalSentinel({
      topology,
      downAfterMs,
      failoverTimeoutMs: FAILOVER_TIMEOUT_MS,
      otherMasters: others,
    });
    try {
      await sleep(SETTLE_MS);
      const killedAt = Date.now();
      await topology.master.kill();
      const timings = await measure(topology, () => addressFromEndpoint(local.endpoint), killedAt);
      // The runner prints each event line once it has held it for its reordering window.
      await sleep(EVENT_REORDER_WINDOW_MS + PRINT_MARGIN_MS);
      return { ...timings, steps: stepsFromEvents(local.events(), LOCAL_STEP_EVENTS, killedAt) };
    } finally {
      await local.stop();
    }
  } finally {
    await topology.stop();
  }
}

/** SENTINEL get-master-addr-by-name through an endpoint. */
async function addressFromEndpoint(endpoint: Address): Promise<Address | undefined> {
  const reply = await withClient(endpoint, (c) => c.call('SENTINEL', 'get-master-addr-by-name', 'mymaster'));
  return Array.isArray(reply) ? { host: String(reply[0]), port: Number(reply[1]) } : undefined;
}

async function runRealSentinel(downAfterMs: number, others: readonly Address[]): Promise<Timings> {
  const topology = await startTopology({ replicas: 2 });
  try {
    const sentinels = await startRealSentinels({
      master: topology.master.address,
      downAfterMs,
      failoverTimeoutMs: FAILOVER_TIMEOUT_MS,
      replicas: 2,
      otherMasters: others,
    });
    try {
      await sleep(SETTLE_MS);
      const sentinel = { host: '127.0.0.1', port: sentinels.ports[0] as number };
      const killedAt = Date.now();
      await topology.master.kill();
      const timings = await measure(topology, () => addressFromEndpoint(sentinel), killedAt);
      return { ...timings, steps: stepsFromEvents(sentinels.events, SENTINEL_STEP_EVENTS, killedAt) };
    } finally {
      await sentinels.stop();
    }
  } finally {
    await topology.stop();
  }
}

async function main(): Promise<void> {
  const systems = opts.only ? opts.only.split(',') : ['lambda', 'local', 'sentinel'];
  for (const system of systems)
    if (!SYSTEM_NAMES[system]) throw new Error(`--only: unknown system ${system} (lambda, local, sentinel)`);
  if (MASTERS > 1 && systems.includes('lambda'))
    throw new Error('--masters applies to local and sentinel only: add --only local,sentinel');
  // The other healthy masters: plain redis-servers, each its own master, started once for the run.
  const quiet: RedisHandle[] = [];
  const ports = await allocatePorts(MASTERS - 1);
  for (const port of ports) quiet.push(await startRedis({ port, args: QUIET_MASTER_ARGS }));
  const others = quiet.map((q) => q.address);
  const dynamo = systems.includes('lambda') ? await startBenchDynamoDbLocal() : null;
  const results = new Map<string, Timings[]>();
  try {
    for (const downAfterMs of DOWN_AFTERS) {
      for (let run = 1; run <= RUNS; run += 1) {
        for (const system of systems) {
          const t =
            system === 'lambda' && dynamo
              ? await runLambdaSentinel(dynamo.endpoint, downAfterMs)
              : system === 'local'
                ? await runLocalSentinel(downAfterMs, others)
                : await runRealSentinel(downAfterMs, others);
          const key = `${downAfterMs}|${system}`;
          results.set(key, [...(results.get(key) ?? []), t]);
          process.stderr.write(
            `down-after ${downAfterMs} run ${run} ${system}: promoted ${t.promoted} switched ${t.switched} ` +
              `written ${t.written} relinked ${t.relinked} ms\n`,
          );
        }
      }
    }
  } finally {
    await dynamo?.stop();
    await Promise.all(quiet.map((q) => q.stop()));
  }

  const rows: string[][] = [];
  const col = (runs: Timings[], key: Exclude<keyof Timings, 'steps'>) =>
    runs.map((t) => t[key] ?? Number.NaN);
  for (const downAfterMs of DOWN_AFTERS) {
    const sentinelRuns = results.get(`${downAfterMs}|sentinel`) ?? [];
    for (const system of systems) {
      const runs = results.get(`${downAfterMs}|${system}`) ?? [];
      const written = summarise(col(runs, 'written')).median;
      const ratio =
        system !== 'sentinel' && sentinelRuns.length > 0
          ? (
              summarise(col(runs, 'switched')).median / summarise(col(sentinelRuns, 'switched')).median
            ).toFixed(2)
          : '—';
      rows.push([
        String(downAfterMs),
        SYSTEM_NAMES[system] as string,
        String(runs.length),
        formatTriple(col(runs, 'promoted')),
        `**${formatTriple(col(runs, 'switched'))}**`,
        `**${formatTriple(col(runs, 'written'))}**`,
        formatTriple(col(runs, 'relinked')),
        `${Math.round(written - downAfterMs) >= 0 ? '+' : ''}${Math.round(written - downAfterMs)}`,
        ratio,
      ]);
    }
  }
  process.stdout.write(
    `\nMaster SIGKILLed → ms after the kill (min / median / max over ${RUNS} runs); 3 sentinels, quorum 2, 1 master + 2 replicas${MASTERS > 1 ? ` failing over among ${MASTERS} monitored masters (${MASTERS - 1} healthy ones, same down-after)` : ''}, failover-timeout ${FAILOVER_TIMEOUT_MS}, same machine, same run, polled every ${POLL_MS} ms (the lookup, then a SET on its answer, in one poller; the replicas' INFO in another).\n\n`,
  );
  process.stdout.write(
    `${markdownTable(
      [
        'down-after',
        'system',
        'runs',
        'replica promoted',
        'address switched',
        'SET accepted',
        'other replica re-linked',
        'write median − down-after',
        'switch vs Sentinel',
      ],
      rows,
    )}\n`,
  );

  const timeline: string[][] = [];
  const median = (values: number[]) => {
    const seen = values.filter((v) => Number.isFinite(v));
    return seen.length === 0 ? '—' : String(Math.round(summarise(seen).median));
  };
  for (const downAfterMs of DOWN_AFTERS) {
    for (const system of systems) {
      const runs = results.get(`${downAfterMs}|${system}`) ?? [];
      timeline.push([
        String(downAfterMs),
        SYSTEM_NAMES[system] as string,
        ...STEPS.map((step) => median(runs.map((t) => t.steps[step] ?? Number.NaN))),
        median(col(runs, 'switched')),
        median(col(runs, 'written')),
      ]);
    }
  }
  process.stdout.write(
    '\nTimeline: median ms after the kill at which each step was first seen (— where the system does not show it). ' +
      'lambda: probe noticed = a sentinel probe of the master failed (socket closed or PING unanswered), vote written = the first down-vote stored, ' +
      'elected = an epoch claim won, replica selected = the choice recorded, REPLICAOF NO ONE sent and promotion seen = the command and its OK, ' +
      'record switched = the write that switches the address. local: from the events it prints (+failover-state-send-slaveof-noone is announced ' +
      'right before the command, +promoted-slave on its OK, +switch-master right after the switch). Sentinel: from its events ' +
      '(+failover-state-wait-promotion right after it sends SLAVEOF NO ONE, +promoted-slave when INFO shows it, +switch-master at the end).\n\n',
  );
  process.stdout.write(
    `${markdownTable(['down-after', 'system', ...STEPS, 'lookup answers', 'SET accepted'], timeline)}\n`,
  );
  process.stdout.write(
    `\nMeasured ${new Date().toISOString()}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} at the end.\n`,
  );
}

await main();
