/**
 * `lambda-sentinel local`: the whole system on one machine — three sentinels in this process, an
 * embedded DynamoDB (dynalite) unless an endpoint is given, and, without --config, a throwaway Redis
 * master with two replicas so a newcomer sees the sentinels agree in one command.
 */
import { createDynamoClient } from '../adapters/dynamodb/client.js';
import { startEmbeddedDynamo } from '../adapters/dynamodb/embedded.js';
import { DynamoEventLog } from '../adapters/dynamodb/eventLog.js';
import { createTable } from '../adapters/dynamodb/schema.js';
import { DynamoStore } from '../adapters/dynamodb/store.js';
import { createRedisControl } from '../adapters/redis/control.js';
import { createRedisProbe } from '../adapters/redis/probe.js';
import { loadSentinelConfigDetailed, parseSentinelConfigDetailed } from '../config/parse.js';
import { SENTINEL_PORT } from '../core/constants.js';
import type { SentinelConfig, SentinelEvent, SentinelId } from '../core/types.js';
import { EventRecorder, secretsOf } from '../eventLog.js';
import { startHttpApi } from '../http/server.js';
import { storeSentinelView } from '../resp/sentinelView.js';
import { type SentinelEndpoint, startSentinelEndpoint } from '../resp/server.js';
import { createEventPrinter } from './eventPrinter.js';
import { jsonLinesLog, type Log } from './log.js';
import { startTopology, type Topology } from './redisProcess.js';
import { type RunReport, SentinelRunner } from './sentinel.js';
import { createWebhookSink } from './webhook.js';

/**
 * get-master-addr-by-name is served from a store read at most this old. Every event about a master
 * drops its cached read, so a switch is answered at once; the cache only spares the store a busy client.
 */
const ADDRESS_CACHE_MS = 100;

/** How long shutdown waits for queued events to reach the log and the webhook. */
const SHUTDOWN_FLUSH_MS = 2_000;

export const LOCAL_DEFAULTS = {
  sentinelPort: SENTINEL_PORT,
  httpPort: 8080,
  table: 'lambda-sentinel-local',
  demoMaster: 'mymaster',
  demoDownAfterMs: 5_000,
  demoFailoverTimeoutMs: 60_000,
  demoQuorum: 2,
} as const;

export interface LocalRunnerOptions {
  readonly configPath?: string;
  readonly dynamodbEndpoint?: string;
  readonly table?: string;
  /** Print each sentinel's per-tick JSON log line too (stderr). */
  readonly verbose?: boolean;
  /** POST every event as JSON to this URL. */
  readonly webhookUrl?: string;
  /** The Redis-protocol Sentinel endpoint's port (0: any free port). */
  readonly port?: number;
  /** The HTTP API's port on 127.0.0.1 (0: any free port; default 8080). */
  readonly httpPort?: number;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly signal: AbortSignal;
}

function clockTime(at: number): string {
  return new Date(at).toISOString().slice(11, 23);
}

/** The demo's configuration, written in sentinel.conf syntax and read by the same parser as any file. */
export function demoConfigText(masterPort: number): string {
  const name = LOCAL_DEFAULTS.demoMaster;
  return [
    `sentinel monitor ${name} 127.0.0.1 ${masterPort} ${LOCAL_DEFAULTS.demoQuorum}`,
    `sentinel down-after-milliseconds ${name} ${LOCAL_DEFAULTS.demoDownAfterMs}`,
    `sentinel failover-timeout ${name} ${LOCAL_DEFAULTS.demoFailoverTimeoutMs}`,
    '',
  ].join('\n');
}

export async function runLocal(options: LocalRunnerOptions): Promise<RunReport[]> {
  const { out, err } = options;
  const cleanups: Array<() => Promise<void>> = [];
  try {
    let config: SentinelConfig;
    let topology: Topology | null = null;
    if (options.configPath) {
      const parsed = await loadSentinelConfigDetailed(options.configPath);
      for (const line of parsed.ignored) {
        out(`note: ${line.file}:${line.line}: '${line.directive}' does not apply here and is ignored`);
      }
      config = parsed.config;
    } else {
      out('starting a throwaway Redis master with two replicas (redis-server from PATH)…');
      topology = await startTopology({ replicas: 2 });
      const started = topology;
      cleanups.push(() => started.stop());
      config = parseSentinelConfigDetailed(demoConfigText(topology.master.address.port), '<demo>').config;
      out(`demo master pid ${topology.master.pid} at 127.0.0.1:${topology.master.address.port}`);
      for (const replica of topology.replicas) {
        out(`demo replica pid ${replica.pid} at 127.0.0.1:${replica.address.port}`);
      }
    }

    let endpoint = options.dynamodbEndpoint;
    if (!endpoint) {
      const embedded = await startEmbeddedDynamo();
      cleanups.push(() => embedded.close());
      endpoint = embedded.endpoint;
      out(`embedded DynamoDB (dynalite) at ${endpoint}`);
    } else {
      out(`DynamoDB at ${endpoint}`);
    }
    const table = options.table ?? LOCAL_DEFAULTS.table;
    await createTable(createDynamoClient({ endpoint }), table);

    const secrets = secretsOf(config);
    const print = createEventPrinter(out, { secrets });
    const webhook = options.webhookUrl ? createWebhookSink(options.webhookUrl, { secrets, warn: err }) : null;
    if (webhook) {
      out(`posting events to ${options.webhookUrl}`);
      cleanups.push(async () => {
        await webhook.flush(SHUTDOWN_FLUSH_MS);
        webhook.close();
      });
    }
    // The event log in the table, as deployed (the notifier reads it from the stream in AWS).
    const eventLog = new DynamoEventLog(createDynamoClient({ endpoint }), table, { secrets });
    const recorders = new Map(
      config.global.sentinelIds.map((sentinelId) => [
        sentinelId,
        new EventRecorder({ sentinelId, log: eventLog }),
      ]),
    );
    cleanups.push(async () => {
      await Promise.all([...recorders.values()].map((r) => r.flush(SHUTDOWN_FLUSH_MS)));
    });
    let sentinelEndpoint: SentinelEndpoint | null = null;
    // What the Sentinel endpoint and the HTTP API answer from. Lookups are served from a read at most
    // ADDRESS_CACHE_MS old, and every event about a master (a switch among them) drops its cached read.
    // Filled below: the runners report events to the view, and the view reads the runners' observations.
    const hosted: SentinelRunner[] = [];
    const view = storeSentinelView(new DynamoStore(createDynamoClient({ endpoint }), table), config, {
      runners: hosted,
      eventLog,
      addressCacheMs: ADDRESS_CACHE_MS,
    });
    const onEvent = (event: SentinelEvent, sentinelId: SentinelId, epoch: number | null) => {
      if (event.master !== null) view.invalidate(event.master);
      print(event, sentinelId);
      webhook?.send(event, sentinelId, epoch);
      recorders.get(sentinelId)?.record(event, epoch);
      // Subscribers get each event once, although every sentinel emits its own (+switch-master…).
      sentinelEndpoint?.publish(event, epoch);
    };
    const runners = config.global.sentinelIds.map((sentinelId) => {
      const log: Log = options.verbose
        ? jsonLinesLog((line) => err(line.trimEnd()), { sentinel: sentinelId })
        : (level, message, fields) => {
            if (level === 'warn' || level === 'error') {
              out(`${clockTime(Date.now())} [${sentinelId}] ${level}: ${message}${describeError(fields)}`);
            }
          };
      return new SentinelRunner({
        sentinelId,
        config,
        store: new DynamoStore(createDynamoClient({ endpoint }), table),
        probeFactory: createRedisProbe,
        controlFactory: createRedisControl,
        signal: options.signal,
        log,
        onEvent,
      });
    });
    hosted.push(...runners);
    // Unmodified clients in Sentinel mode (ioredis, redis-py, go-redis, redis-cli) talk to this.
    const port = options.port ?? LOCAL_DEFAULTS.sentinelPort;
    const started = await startSentinelEndpoint({
      port,
      view,
    }).catch((error: unknown) => {
      const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
      throw inUse ? new Error(`port ${port} is already in use; pass --port N (0 picks a free port)`) : error;
    });
    sentinelEndpoint = started;
    cleanups.push(() => started.close());
    const { host: endpointHost, port: endpointPort } = started.address;
    out(
      `Sentinel endpoint at ${endpointHost}:${endpointPort} ` +
        `(redis-cli -p ${endpointPort} sentinel get-master-addr-by-name ${config.masters[0]?.name ?? 'mymaster'})`,
    );
    // The HTTP API (docs/http-api.md) on loopback: what the CLI talks to by default.
    const httpPort = options.httpPort ?? LOCAL_DEFAULTS.httpPort;
    const httpApi = await startHttpApi({
      view,
      port: httpPort,
      host: '127.0.0.1',
      announce: started.address,
    }).catch((error: unknown) => {
      const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
      throw inUse
        ? new Error(`port ${httpPort} is already in use; pass --http-port N (0 picks a free port)`)
        : error;
    });
    cleanups.push(() => httpApi.close());
    out(`HTTP API at ${httpApi.url} (npx lambda-sentinel masters --url ${httpApi.url})`);
    const masters = config.masters.map(
      (m) => `${m.name} (quorum ${m.quorum}, down-after ${m.downAfterMs} ms)`,
    );
    out(
      `${runners.length} sentinels (${config.global.sentinelIds.join(', ')}) monitoring ${masters.join(', ')}`,
    );
    if (topology) {
      out(`try it: kill -9 ${topology.master.pid}   (the sentinels agree the master is down and fail over)`);
      out(`or: npx lambda-sentinel failover ${LOCAL_DEFAULTS.demoMaster} --url ${httpApi.url}`);
    }
    out('press Ctrl-C to stop');
    return await Promise.all(runners.map((r) => r.run()));
  } finally {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error: unknown) => err(`cleanup failed: ${String(error)}`));
    }
  }
}

function describeError(fields: Record<string, unknown> | undefined): string {
  const error = fields?.error as { message?: string } | undefined;
  return error?.message ? ` (${error.message})` : '';
}
