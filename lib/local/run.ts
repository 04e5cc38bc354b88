/**
 * `lambda-sentinel local`: the whole system on one machine — three sentinels in this process, an
 * embedded DynamoDB (dynalite) unless an endpoint is given, and, without --config, a throwaway Redis
 * master with two replicas so a newcomer sees the sentinels agree in one command.
 */

import { AccessControl, authSummary } from '../accessControl.js';
import { createDynamoClient } from '../adapters/dynamodb/client.js';
import { startEmbeddedDynamo } from '../adapters/dynamodb/embedded.js';
import { DynamoEventLog } from '../adapters/dynamodb/eventLog.js';
import { createTable } from '../adapters/dynamodb/schema.js';
import { DynamoStore } from '../adapters/dynamodb/store.js';
import { createRedisControl } from '../adapters/redis/control.js';
import { createRedisProbe } from '../adapters/redis/probe.js';
import { storeSentinelView } from '../commands/storeView.js';
import { type AccessSource, accessFromEnv, mergeAccess, REQUIREPASS_ENV } from '../config/access.js';
import { loadSentinelConfigDetailed, parseSentinelConfigDetailed } from '../config/parse.js';
import { isLoopbackBind } from '../core/acl.js';
import { SENTINEL_PORT } from '../core/constants.js';
import type { AccessSettings, SentinelConfig, SentinelEvent, SentinelId } from '../core/types.js';
import { EventRecorder, secretsOf } from '../eventLog.js';
import { startHttpApi } from '../http/server.js';
import { type SentinelEndpoint, startSentinelEndpoint } from '../resp/server.js';
import { jsonLinesLog, type Log, logDroppedEvent } from '../runtime/log.js';
import { startTopology, type Topology } from '../runtime/redisProcess.js';
import { type RunReport, SentinelRunner } from '../runtime/sentinel.js';
import { createWebhookSink, webhookHasHiddenParts, webhookOrigin } from '../runtime/webhook.js';
import { createEventPrinter } from './eventPrinter.js';

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
  /** Both listeners stay on this machine unless told otherwise (and then only with passwords). */
  host: '127.0.0.1',
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
  /** The HTTP API's port (0: any free port; default 8080). */
  readonly httpPort?: number;
  /** Where the Redis-protocol endpoint listens (default 127.0.0.1; beyond loopback only with passwords). */
  readonly host?: string;
  /** Where the HTTP API listens (default 127.0.0.1; beyond loopback only with passwords). */
  readonly httpHost?: string;
  /** Where LAMBDA_SENTINEL_REQUIREPASS is read (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly signal: AbortSignal;
}

/** A problem with the options or the configuration, found before anything started (exit 2). */
export class LocalUsageError extends Error {
  override readonly name = 'LocalUsageError';
}

/**
 * Who may use the endpoints: the config file's access lines and LAMBDA_SENTINEL_REQUIREPASS, each user
 * from one place only. Refuses a listener beyond loopback while some user needs no password.
 */
export function localAccess(
  configAccess: AccessSettings | undefined,
  configLabel: string,
  env: NodeJS.ProcessEnv,
  listeners: ReadonlyArray<{ readonly what: string; readonly host: string; readonly option: string }>,
): AccessSettings {
  const sources: AccessSource[] = [];
  if (configAccess !== undefined) sources.push({ label: configLabel, access: configAccess });
  const fromEnv = accessFromEnv(env);
  if (fromEnv !== null) sources.push(fromEnv);
  const merged = mergeAccess(sources);
  if ('error' in merged) throw new LocalUsageError(merged.error);
  const control = new AccessControl(merged.users);
  for (const { what, host, option } of listeners) {
    if (!isLoopbackBind(host) && !control.requiresPassword) {
      throw new LocalUsageError(
        `refusing to serve the ${what} on ${host} (${option}), beyond loopback, without a password: anyone ` +
          `who can reach it could change the monitored masters. Set requirepass or user lines in the config ` +
          `file, or ${REQUIREPASS_ENV}; or keep it on 127.0.0.1`,
      );
    }
  }
  return merged;
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
    const host = options.host ?? LOCAL_DEFAULTS.host;
    const httpHost = options.httpHost ?? LOCAL_DEFAULTS.host;
    const listeners = [
      { what: 'Sentinel endpoint', host, option: '--host' },
      { what: 'HTTP API', host: httpHost, option: '--http-host' },
    ];
    let access: AccessSettings;
    if (options.configPath) {
      const parsed = await loadSentinelConfigDetailed(options.configPath);
      for (const line of parsed.ignored) {
        out(`note: ${line.file}:${line.line}: '${line.directive}' does not apply here and is ignored`);
      }
      config = parsed.config;
      access = localAccess(config.access, options.configPath, options.env ?? process.env, listeners);
    } else {
      // Checked before the demo starts anything.
      access = localAccess(undefined, '<demo>', options.env ?? process.env, listeners);
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
    if (webhook && options.webhookUrl) {
      // The URL's path, query and user info often are the token: only where it goes is printed.
      const hidden = webhookHasHiddenParts(options.webhookUrl) ? ' (the rest of the URL is hidden)' : '';
      out(`posting events to ${webhookOrigin(options.webhookUrl)}${hidden}`);
      cleanups.push(async () => {
        await webhook.flush(SHUTDOWN_FLUSH_MS);
        webhook.close();
      });
    }
    // The event log in the table, as deployed (the notifier reads it from the stream in AWS).
    const eventLog = new DynamoEventLog(createDynamoClient({ endpoint }), table, { secrets });
    // One log per sentinel, shared by its loop and its event recorder (a dropped event is a fault).
    const logs = new Map<SentinelId, Log>(
      config.global.sentinelIds.map((sentinelId) => [
        sentinelId,
        options.verbose
          ? jsonLinesLog((line) => err(line.trimEnd()), { sentinel: sentinelId })
          : (level, message, fields) => {
              if (level === 'warn' || level === 'error') {
                out(`${clockTime(Date.now())} [${sentinelId}] ${level}: ${message}${describeError(fields)}`);
              }
            },
      ]),
    );
    const logOf = (sentinelId: SentinelId): Log => logs.get(sentinelId) ?? (() => {});
    const recorders = new Map(
      config.global.sentinelIds.map((sentinelId) => [
        sentinelId,
        new EventRecorder({
          sentinelId,
          log: eventLog,
          onDrop: logDroppedEvent(logOf(sentinelId), secrets),
        }),
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
    const runners = config.global.sentinelIds.map(
      (sentinelId) =>
        new SentinelRunner({
          sentinelId,
          config,
          store: new DynamoStore(createDynamoClient({ endpoint }), table),
          probeFactory: createRedisProbe,
          controlFactory: createRedisControl,
          signal: options.signal,
          log: logOf(sentinelId),
          onEvent,
        }),
    );
    hosted.push(...runners);
    // Unmodified clients in Sentinel mode (ioredis, redis-py, go-redis, redis-cli) talk to this.
    const port = options.port ?? LOCAL_DEFAULTS.sentinelPort;
    const control = new AccessControl(access.users);
    const started = await startSentinelEndpoint({
      port,
      host,
      view,
      users: access.users,
      limits: access.limits,
      log: (level, message, fields) =>
        out(`${clockTime(Date.now())} ${level}: ${message} ${JSON.stringify(fields ?? {})}`),
    }).catch((error: unknown) => {
      const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
      throw inUse ? new Error(`port ${port} is already in use; pass --port N (0 picks a free port)`) : error;
    });
    sentinelEndpoint = started;
    cleanups.push(() => started.close());
    const { host: endpointHost, port: endpointPort } = started.address;
    const auth = authSummary(control);
    const askpass = control.initialUser() === null ? ' --askpass' : '';
    out(
      `Sentinel endpoint at ${endpointHost}:${endpointPort}, ${auth} ` +
        `(redis-cli${endpointHost === LOCAL_DEFAULTS.host ? '' : ` -h ${endpointHost}`} -p ${endpointPort}${askpass} ` +
        `sentinel get-master-addr-by-name ${config.masters[0]?.name ?? 'mymaster'})`,
    );
    // The HTTP API (docs/http-api.md): what the CLI talks to by default.
    const httpPort = options.httpPort ?? LOCAL_DEFAULTS.httpPort;
    const httpApi = await startHttpApi({
      view,
      port: httpPort,
      host: httpHost,
      announce: started.address,
      users: access.users,
    }).catch((error: unknown) => {
      const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
      throw inUse
        ? new Error(`port ${httpPort} is already in use; pass --http-port N (0 picks a free port)`)
        : error;
    });
    cleanups.push(() => httpApi.close());
    const httpAuth =
      control.initialUser() === null
        ? `${auth}: HTTP Basic, or LAMBDA_SENTINEL_USER/LAMBDA_SENTINEL_PASSWORD for the CLI`
        : auth;
    out(`HTTP API at ${httpApi.url}, ${httpAuth} (npx lambda-sentinel masters --url ${httpApi.url})`);
    if (isLoopbackBind(endpointHost) && isLoopbackBind(httpApi.address.host)) {
      out(
        'both listen on loopback only: other machines cannot reach them (--host, --http-host: with a password)',
      );
    }
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
