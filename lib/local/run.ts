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
import { MemoryStore } from '../adapters/memory/store.js';
import { createRedisControl } from '../adapters/redis/control.js';
import { createRedisProbe } from '../adapters/redis/probe.js';
import { localProcessControls } from '../commands/processControls.js';
import { storeStatusSource } from '../commands/statusSource.js';
import { type HostnamePolicy, storeSentinelView } from '../commands/storeView.js';
import { type AccessSource, accessFromEnv, mergeAccess, REQUIREPASS_ENV } from '../config/access.js';
import { loadSentinelConfigDetailed, parseSentinelConfigDetailed } from '../config/parse.js';
import { isLoopbackBind } from '../core/acl.js';
import { SENTINEL_PORT } from '../core/constants.js';
import { makeEvent } from '../core/events.js';
import { globalParamsOf, type LogLevel } from '../core/globalParams.js';
import {
  AUTH_PASS_OPTION,
  AUTH_USER_OPTION,
  CLIENT_RECONFIG_SCRIPT,
  NOTIFICATION_SCRIPT,
} from '../core/settings.js';
import type { AccessSettings, SentinelConfig, SentinelEvent, SentinelId } from '../core/types.js';
import { type EventLog, EventRecorder, secretsOf } from '../eventLog.js';
import { startHttpApi } from '../http/server.js';
import type { SentinelStore } from '../ports.js';
import { type SentinelEndpoint, startSentinelEndpoint } from '../resp/server.js';
import { jsonLinesLog, type Log, logDroppedEvent } from '../runtime/log.js';
import { startTopology, type Topology } from '../runtime/redisProcess.js';
import { type PeerWriteFeed, type RunReport, SentinelRunner } from '../runtime/sentinel.js';
import { createWebhookSink, webhookHasHiddenParts, webhookOrigin } from '../runtime/webhook.js';
import { liveCredentials } from './credentials.js';
import { createTimeOrderedPrinter } from './eventPrinter.js';
import { SimulatedCrashes } from './faults.js';
import { LocalScripts, scriptProblem } from './scripts.js';

/**
 * get-master-addr-by-name is served from a store read at most this old. Every record the sentinels here
 * read or write is pushed to the view, so a switch is answered the moment it is written; the cache only
 * spares the store a busy client, and bounds how late a change made by another process is seen.
 */
const ADDRESS_CACHE_MS = 100;

/**
 * Writes to the store by the sentinels of this process, for their peers (SentinelRunnerOptions.peerWrites):
 * each reads what a peer changed at once instead of at its next vote-read period.
 */
function peerWriteFeed(): PeerWriteFeed & { wrote(master: string, writer: SentinelId): void } {
  const listeners = new Set<(master: string, writer: SentinelId) => void>();
  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    wrote(master, writer) {
      for (const listener of listeners) listener(master, writer);
    },
  };
}

/**
 * The store calls that change what a peer decides from (a vote, an epoch claim, a failover step), and
 * where each names its master.
 */
const PEER_VISIBLE_WRITES: Readonly<Record<string, (args: readonly unknown[]) => string>> = {
  putVote: (args) => (args[0] as { master: string }).master,
  claimEpoch: (args) => args[0] as string,
  advanceFailover: (args) => args[0] as string,
  releaseLeadership: (args) => args[0] as string,
};

/** `store`, calling `wrote` with the master's name once each of PEER_VISIBLE_WRITES has returned. */
function reportingWrites(store: SentinelStore, wrote: (master: string) => void): SentinelStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      const masterOf = typeof property === 'string' ? PEER_VISIBLE_WRITES[property] : undefined;
      if (typeof value !== 'function') return value;
      // Bound to the store itself: its methods read private fields, which a Proxy does not have.
      if (masterOf === undefined) return (...args: unknown[]) => Reflect.apply(value, target, args);
      return async (...args: unknown[]) => {
        const result = await Reflect.apply(value, target, args);
        wrote(masterOf(args));
        return result;
      };
    },
  });
}

/**
 * With the embedded store, an event-log append still goes through the AWS SDK to the in-process
 * dynalite, about 2 ms of this process's one event loop. A failover emits a few dozen events within
 * ~100 ms of SDOWN: appended as they come, they delay the failover's own steps and the endpoint's
 * replies by tens of ms. So each append waits until this long after its event; the queue then drains in
 * order. (That table lives and dies with this process: a crash loses nothing more by it.)
 */
const EMBEDDED_EVENT_LOG_DELAY_MS = 250;

/** `log`, each append made no earlier than `delayMs` after its event. */
function appendingAfter(log: EventLog, delayMs: number): EventLog {
  return {
    append: async (record) => {
      const wait = record.at + delayMs - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      return log.append(record);
    },
    list: (query) => log.list(query),
  };
}

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
        // One line per ignored directive, as the runner's other log lines: what, then the fields.
        out(
          `${clockTime(Date.now())} warning: ${line.file}:${line.line}: '${line.directive}' has no effect here and is ignored ${JSON.stringify(line)}`,
        );
      }
      config = parsed.config;
      // As Sentinel refuses to start with a script it cannot run.
      const unrunnable = new LocalScripts(config, () => {}).configProblem();
      if (unrunnable !== null) {
        throw new LocalUsageError(
          `${options.configPath}: master ${unrunnable.master}: ${unrunnable.problem}`,
        );
      }
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
    // Where the sentinels keep their records, votes and leases. Given an endpoint: that table, shared
    // with whatever else uses it. Embedded: the in-memory store, which keeps the store's contract (the
    // same contract suite runs against both) at no cost: through the AWS SDK and an in-process dynalite,
    // each request cost about 2 ms of this process's one event loop, and a failover's burst of them
    // delayed every step and every lookup by tens of ms. dynalite then holds the event log only.
    let embeddedStore: MemoryStore | null = null;
    if (!endpoint) {
      const embedded = await startEmbeddedDynamo();
      cleanups.push(() => embedded.close());
      endpoint = embedded.endpoint;
      embeddedStore = new MemoryStore();
      out(
        `embedded DynamoDB (dynalite) at ${endpoint} (the event log; the sentinels' records, votes and ` +
          'leases are kept in this process)',
      );
    } else {
      out(`DynamoDB at ${endpoint}`);
    }
    const table = options.table ?? LOCAL_DEFAULTS.table;
    await createTable(createDynamoClient({ endpoint }), table);
    const tableEndpoint = endpoint;
    /** The sentinels' store, as one of them (or the endpoint, `null`) uses it. */
    const storeFor = (writer: SentinelId | null): SentinelStore => {
      const store = embeddedStore ?? new DynamoStore(createDynamoClient({ endpoint: tableEndpoint }), table);
      return writer === null ? store : reportingWrites(store, (master) => peerWrites.wrote(master, writer));
    };

    // SENTINEL SET auth-pass|auth-user changes the credentials every sentinel here connects with; each
    // password set is added to `secrets`, which every printed, posted and logged event is redacted by.
    const secrets = secretsOf(config);
    const credentials = liveCredentials(config, secrets);
    config = credentials.config;
    // The sentinels' lines in time order (each held for a short window); the rest printed at Ctrl-C.
    const printer = createTimeOrderedPrinter(out, { secrets });
    cleanups.push(async () => printer.close());
    const print = printer.printEvent;
    // notification-script and client-reconfig-script, run as Sentinel runs them (lib/local/scripts.ts).
    const scripts = new LocalScripts(config, (event, sentinelId) => onEvent(event, sentinelId, null));
    cleanups.push(async () => scripts.stop());
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
    // SHUTDOWN (from an allowed user of the endpoint) stops the runners as Ctrl-C does.
    const shutdown = new AbortController();
    const signal = AbortSignal.any([options.signal, shutdown.signal]);
    const crashes = new SimulatedCrashes(signal, (sentinelId, failure) =>
      printer.printLine(
        Date.now(),
        `[${sentinelId}] crashed (SENTINEL SIMULATE-FAILURE ${failure}): ` +
          'it releases nothing and stays silent; the others take over when its leases expire',
      ),
    );
    // The loglevel (sentinel.conf, or SENTINEL CONFIG SET) filters what the runner prints without --verbose.
    let loglevel = globalParamsOf(config.global).loglevel;
    // resolve-hostnames and announce-hostnames in force (sentinel.conf, or SENTINEL CONFIG SET).
    let hostnames: HostnamePolicy = globalParamsOf(config.global);
    // One log per sentinel, shared by its loop and its event recorder (a dropped event is a fault).
    const logs = new Map<SentinelId, Log>(
      config.global.sentinelIds.map((sentinelId) => [
        sentinelId,
        options.verbose
          ? jsonLinesLog((line) => err(line.trimEnd()), { sentinel: sentinelId })
          : (level, message, fields) => {
              if (printsAt(loglevel, level)) {
                printer.printLine(Date.now(), `[${sentinelId}] ${level}: ${message}${describeError(fields)}`);
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
          log: embeddedStore === null ? eventLog : appendingAfter(eventLog, EMBEDDED_EVENT_LOG_DELAY_MS),
          onDrop: logDroppedEvent(logOf(sentinelId), secrets),
        }),
      ]),
    );
    cleanups.push(async () => {
      await Promise.all([...recorders.values()].map((r) => r.flush(SHUTDOWN_FLUSH_MS)));
    });
    let sentinelEndpoint: SentinelEndpoint | null = null;
    // What the Sentinel endpoint and the HTTP API answer from. Lookups are served from a read at most
    // ADDRESS_CACHE_MS old, and every record the runners read or write is pushed to it (a switch is
    // answered from the moment it is written); every event about a master drops its other cached reads.
    // Filled below: the runners report records and events to the view, and the view reads the runners'
    // observations.
    const hosted: SentinelRunner[] = [];
    const peerWrites = peerWriteFeed();
    const view = storeSentinelView(storeFor(null), config, {
      runners: hosted,
      eventLog,
      addressCacheMs: ADDRESS_CACHE_MS,
      hostnames: () => hostnames,
      scripts: {
        problem: scriptProblem,
        apply(record, change) {
          scripts.set(record.name, change);
          const speaker = config.global.sentinelIds[0];
          if (speaker === undefined) return;
          const instance = `master ${record.name} ${record.host} ${record.port}`;
          const set = (option: string, path: string | undefined) => {
            if (path !== undefined)
              onEvent(
                makeEvent('+set', `${instance} ${option} ${path}`, record.name, Date.now()),
                speaker,
                null,
              );
          };
          set(NOTIFICATION_SCRIPT, change.notificationScript);
          set(CLIENT_RECONFIG_SCRIPT, change.clientReconfigScript);
        },
      },
      credentials: {
        accepts: credentials.sink.accepts,
        apply(record, change) {
          credentials.sink.apply(record, change);
          // Sentinel's `+set` for a credential, from the sentinel that took the command; the values are
          // never shown (Sentinel shows auth-pass as ******; here auth-user too).
          const speaker = config.global.sentinelIds[0];
          if (speaker === undefined) return;
          const instance = `master ${record.name} ${record.host} ${record.port}`;
          for (const option of [
            ...(change.authPass !== undefined ? [AUTH_PASS_OPTION] : []),
            ...(change.authUser !== undefined ? [AUTH_USER_OPTION] : []),
          ])
            onEvent(
              makeEvent('+set', `${instance} ${option} ******`, record.name, Date.now()),
              speaker,
              null,
            );
        },
      },
    });
    const onEvent = (event: SentinelEvent, sentinelId: SentinelId, epoch: number | null) => {
      // A sentinel crashed by SENTINEL SIMULATE-FAILURE says nothing more.
      if (crashes.isCrashed(sentinelId)) return;
      if (event.master !== null) view.invalidateInstanceMaps(event.master);
      print(event, sentinelId);
      scripts.observe(event, sentinelId);
      webhook?.send(event, sentinelId, epoch);
      recorders.get(sentinelId)?.record(event, epoch);
      // Subscribers get each event once, although every sentinel emits its own (+switch-master…).
      sentinelEndpoint?.publish(event, epoch);
      crashes.observe(event, sentinelId);
    };
    const runners = config.global.sentinelIds.map(
      (sentinelId) =>
        new SentinelRunner({
          sentinelId,
          config,
          // Wrapped so that SENTINEL SIMULATE-FAILURE can crash this sentinel (lib/local/faults.ts).
          store: crashes.wrap(sentinelId, storeFor(sentinelId)),
          probeFactory: (address, probeOptions) =>
            crashes.wrapProbe(sentinelId, createRedisProbe(address, probeOptions)),
          controlFactory: (controlOptions) => crashes.wrap(sentinelId, createRedisControl(controlOptions)),
          signal,
          log: logOf(sentinelId),
          onEvent,
          // Before any event about it: a lookup answers a switch from the moment it is written.
          onRecord: (record) => {
            if (!crashes.isCrashed(sentinelId)) view.noteRecord(record);
          },
          peerWrites,
          // As the endpoint's replies: SENTINEL CONFIG SET announce-hostnames applies to events at once.
          announceHostnames: () => hostnames.announceHostnames,
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
      ...(options.configPath !== undefined ? { configFile: options.configPath } : {}),
      controls: localProcessControls(config.global, {
        onSimulateFailure: (failures) => crashes.arm(failures),
        armedFailures: () => crashes.armed(),
        shutdown: () => {
          out(`${clockTime(Date.now())} SHUTDOWN received on the Sentinel endpoint: stopping`);
          shutdown.abort();
        },
        // The endpoint speaks as the first member (storeSentinelView's selfId): its queue is reported.
        pendingScripts: () => scripts.pendingOf(config.global.sentinelIds[0] ?? '', Date.now()),
        onParams: (params) => {
          loglevel = params.loglevel;
          hostnames = params;
        },
      }),
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
      // The status page's summary (GET / and GET /v1/status), with the first sentinel's probes.
      status: storeStatusSource(storeFor(null), config, {
        view,
        eventLog,
        runners: hosted,
      }),
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
    const reports = await Promise.all(
      runners.map((r) =>
        // A sentinel crashed by SIMULATE-FAILURE ends with its calls refused at shutdown: no report.
        r.run().catch((error: unknown) => {
          if (crashes.isCrashed(r.sentinelId)) return null;
          throw error;
        }),
      ),
    );
    return reports.filter((report): report is RunReport => report !== null);
  } finally {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error: unknown) => err(`cleanup failed: ${String(error)}`));
    }
  }
}

/**
 * Whether a log line of `level` is printed (without --verbose) at Redis's `loglevel`: notice and warning
 * print warnings and errors (as before loglevel existed), verbose adds info, debug everything, nothing none.
 */
function printsAt(loglevel: LogLevel, level: 'debug' | 'info' | 'warn' | 'error'): boolean {
  switch (loglevel) {
    case 'nothing':
      return false;
    case 'debug':
      return true;
    case 'verbose':
      return level !== 'debug';
    default:
      return level === 'warn' || level === 'error';
  }
}

function describeError(fields: Record<string, unknown> | undefined): string {
  const error = fields?.error as { message?: string } | undefined;
  return error?.message ? ` (${error.message})` : '';
}
