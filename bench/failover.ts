import { parseArgs } from 'node:util';
import type { Address } from '../lib/core/types.js';
import { startTopology, type Topology } from '../lib/runtime/redisProcess.js';
import { startDynamoDbLocal } from '../test/support/dynamodbLocal.js';
import { startLambdaSentinels } from './support/lambdaSentinels.js';
import { startRealSentinels } from './support/realSentinel.js';
import { withClient } from './support/redisClients.js';
import { formatTriple, markdownTable, summarise } from './support/stats.js';

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    'down-after': { type: 'string', default: '1000,5000' },
    only: { type: 'string' },
  },
});
const RUNS = Number(opts.runs);
const DOWN_AFTERS = (opts['down-after'] ?? '').split(',').map(Number);
const FAILOVER_TIMEOUT_MS = 60_000;
const SETTLE_MS = 1_500;
const POLL_MS = 10;
const GIVE_UP_AFTER_MS = 30_000;

interface Timings {
  promoted?: number;
  switched?: number;
  written?: number;
  relinked?: number;
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

/** Polls every POLL_MS from the kill until the four moments are all seen. */
async function measure(
  topology: Topology,
  lookup: () => Promise<Address | undefined>,
  killedAt: number,
): Promise<Timings> {
  const t: Timings = {};
  const old = topology.master.address;
  let newMaster: Address | undefined;
  while (Date.now() - killedAt < GIVE_UP_AFTER_MS) {
    const elapsed = () => Date.now() - killedAt;
    if (t.promoted === undefined) {
      for (const replica of topology.replicas) {
        if ((await replication(replica.address))?.role === 'master') {
          t.promoted = elapsed();
          break;
        }
      }
    }
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
    if (newMaster && t.relinked === undefined) {
      const target = newMaster;
      const other = topology.replicas.find((r) => r.address.port !== target.port);
      const state = other ? await replication(other.address) : undefined;
      if (state?.role === 'slave' && state.masterPort === target.port && state.linkUp) t.relinked = elapsed();
    }
    if (
      t.promoted !== undefined &&
      t.switched !== undefined &&
      t.written !== undefined &&
      t.relinked !== undefined
    ) {
      return t;
    }
    await sleep(POLL_MS);
  }
  return t;
}

async function runLambdaSentinel(endpoint: string, downAfterMs: number): Promise<Timings> {
  const topology = await startTopology({ replicas: 2 });
  try {
    const sentinels = await startLambdaSentinels({
      endpoint,
      topology,
      downAfterMs,
      failoverTimeoutMs: FAILOVER_TIMEOUT_MS,
    });
    await sleep(SETTLE_MS);
    const killedAt = Date.now();
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
    return timings;
  } finally {
    await topology.stop();
  }
}

async function runRealSentinel(downAfterMs: number): Promise<Timings> {
  const topology = await startTopology({ replicas: 2 });
  try {
    const sentinels = await startRealSentinels({
      master: topology.master.address,
      downAfterMs,
      failoverTimeoutMs: FAILOVER_TIMEOUT_MS,
      replicas: 2,
    });
    try {
      await sleep(SETTLE_MS);
      const sentinel = { host: '127.0.0.1', port: sentinels.ports[0] as number };
      const killedAt = Date.now();
      await topology.master.kill();
      return await measure(
        topology,
        async () => {
          const reply = await withClient(sentinel, (c) =>
            c.call('SENTINEL', 'get-master-addr-by-name', 'mymaster'),
          );
          return Array.isArray(reply) ? { host: String(reply[0]), port: Number(reply[1]) } : undefined;
        },
        killedAt,
      );
    } finally {
      await sentinels.stop();
    }
  } finally {
    await topology.stop();
  }
}

async function main(): Promise<void> {
  const systems = opts.only ? [opts.only] : ['lambda', 'sentinel'];
  const dynamo = systems.includes('lambda') ? await startDynamoDbLocal() : null;
  const results = new Map<string, Timings[]>();
  try {
    for (const downAfterMs of DOWN_AFTERS) {
      for (let run = 1; run <= RUNS; run += 1) {
        for (const system of systems) {
          const t =
            system === 'lambda' && dynamo
              ? await runLambdaSentinel(dynamo.endpoint, downAfterMs)
              : await runRealSentinel(downAfterMs);
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
  }

  const rows: string[][] = [];
  const col = (runs: Timings[], key: keyof Timings) => runs.map((t) => t[key] ?? Number.NaN);
  for (const downAfterMs of DOWN_AFTERS) {
    const sentinelRuns = results.get(`${downAfterMs}|sentinel`) ?? [];
    for (const system of systems) {
      const runs = results.get(`${downAfterMs}|${system}`) ?? [];
      const written = summarise(col(runs, 'written')).median;
      const ratio =
        system === 'lambda' && sentinelRuns.length > 0
          ? (
              summarise(col(runs, 'switched')).median / summarise(col(sentinelRuns, 'switched')).median
            ).toFixed(2)
          : '—';
      rows.push([
        String(downAfterMs),
        system === 'lambda' ? 'lambda-sentinel' : 'redis-server --sentinel 7.0',
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
    `\nMaster SIGKILLed → ms after the kill (min / median / max over ${RUNS} runs); 3 sentinels, quorum 2, 1 master + 2 replicas, failover-timeout ${FAILOVER_TIMEOUT_MS}, same machine, same run, polled every ${POLL_MS} ms.\n\n`,
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
}

await main();
