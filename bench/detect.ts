import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { startTopology } from '../lib/runtime/redisProcess.js';
import { startBenchDynamoDbLocal, startLambdaSentinels } from './support/lambdaSentinels.js';
import { startRealSentinels } from './support/realSentinel.js';
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

interface Timings {
  sdown?: number;
  odown?: number;
  elected?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
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
    const { events } = sentinels;
    await sleep(SETTLE_MS);
    const killedAt = Date.now();
    await topology.master.kill();
    await waitFor(
      () => events.some((e) => e.type === '+elected-leader'),
      downAfterMs + 20_000,
      '+elected-leader',
    );
    await sentinels.stop();
    const first = (type: string) => {
      const e = events.find((x) => x.type === type && x.payload.startsWith('master') && x.at >= killedAt);
      return e ? e.at - killedAt : undefined;
    };
    return { sdown: first('+sdown'), odown: first('+odown'), elected: first('+elected-leader') };
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
      const killedAt = Date.now();
      await topology.master.kill();
      const events = sentinels.events;
      await waitFor(
        () => events.some((e) => e.type === '+elected-leader'),
        downAfterMs + 20_000,
        '+elected-leader',
      );
      const first = (type: string) => {
        const e = events.find((x) => x.type === type && x.payload.startsWith('master') && x.at >= killedAt);
        return e ? e.at - killedAt : undefined;
      };
      return { sdown: first('+sdown'), odown: first('+odown'), elected: first('+elected-leader') };
    } finally {
      await sentinels.stop();
    }
  } finally {
    await topology.stop();
  }
}

async function main(): Promise<void> {
  const systems = opts.only ? [opts.only] : ['lambda', 'sentinel'];
  const dynamo = systems.includes('lambda') ? await startBenchDynamoDbLocal() : null;
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
            `down-after ${downAfterMs} run ${run} ${system}: sdown ${t.sdown} odown ${t.odown} elected ${t.elected} ms\n`,
          );
        }
      }
    }
  } finally {
    await dynamo?.stop();
  }

  const rows: string[][] = [];
  for (const downAfterMs of DOWN_AFTERS) {
    const sentinelElected = (results.get(`${downAfterMs}|sentinel`) ?? []).map(
      (t) => t.elected ?? Number.NaN,
    );
    for (const system of systems) {
      const runs = results.get(`${downAfterMs}|${system}`) ?? [];
      const elected = runs.map((t) => t.elected ?? Number.NaN);
      const median = summarise(elected).median;
      const ratio =
        system === 'lambda' && sentinelElected.length > 0
          ? (median / summarise(sentinelElected).median).toFixed(2)
          : '—';
      rows.push([
        String(downAfterMs),
        system === 'lambda' ? 'lambda-sentinel' : 'redis-server --sentinel 7.0',
        String(runs.length),
        formatTriple(runs.map((t) => t.sdown ?? Number.NaN)),
        formatTriple(runs.map((t) => t.odown ?? Number.NaN)),
        `**${formatTriple(elected)}**`,
        `${Math.round(median - downAfterMs) >= 0 ? '+' : ''}${Math.round(median - downAfterMs)}`,
        ratio,
      ]);
    }
  }
  process.stdout.write(
    `\nMaster SIGKILLed → first event, ms after the kill (min / median / max over ${RUNS} runs); 3 sentinels, quorum 2, 1 master + 2 replicas, same machine, same run.\n\n`,
  );
  process.stdout.write(
    `${markdownTable(
      [
        'down-after',
        'system',
        'runs',
        '+sdown',
        '+odown',
        '+elected-leader',
        'median − down-after',
        'vs Sentinel',
      ],
      rows,
    )}\n`,
  );
  process.stdout.write(
    `\nMeasured ${new Date().toISOString()}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} at the end.\n`,
  );
}

await main();
