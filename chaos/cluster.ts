/**
 * The system under chaos, assembled as the local runner assembles it (lib/local/run.ts), with every
 * link a fault can cut made to go through a TCP proxy:
 *
 * - three real redis-server processes (a master and two replicas) with AOF and fsync always, so that an
 *   acknowledged write survives a SIGKILL of the node that took it: every write lost is then a loss of
 *   replication, which is what the run measures, not of a restart without persistence;
 * - DynamoDB Local (a JVM that can be SIGSTOPped);
 * - three SentinelRunners in this process. Each reaches each Redis node through its own proxy (9 in
 *   all) and DynamoDB through its own proxy (3), so one sentinel can be cut from one node or from the
 *   store. Replication and the client are never proxied: faults model what the sentinels can see;
 * - the Redis-protocol Sentinel endpoint (lib/resp/server.ts over storeSentinelView) the client looks
 *   the master up through;
 * - a poller of the master record and a monitor of each node's reported role, both direct.
 *
 * Each sentinel runs under a supervisor that starts a new invocation when one ends, as the schedule
 * does in AWS: a loop that gave up (lease not acquired during a long store outage) does not leave the
 * run with two sentinels.
 */
import { randomUUID } from 'node:crypto';
import { createDynamoClient } from '../lib/adapters/dynamodb/client.js';
import { createTable } from '../lib/adapters/dynamodb/schema.js';
import { DynamoStore } from '../lib/adapters/dynamodb/store.js';
import { createRedisControl } from '../lib/adapters/redis/control.js';
import { createRedisProbe } from '../lib/adapters/redis/probe.js';
import { type RunnerLike, storeSentinelView } from '../lib/commands/storeView.js';
import { parseSentinelConfig } from '../lib/config/parse.js';
import type { Address, MasterRecord, SentinelConfig, SentinelEvent } from '../lib/core/types.js';
import type { RedisControlFactory, RedisProbe, RedisProbeFactory } from '../lib/ports.js';
import { type SentinelEndpoint, startSentinelEndpoint } from '../lib/resp/server.js';
import type { Log } from '../lib/runtime/log.js';
import { type RedisHandle, startTopology, type Topology } from '../lib/runtime/redisProcess.js';
import { SentinelRunner } from '../lib/runtime/sentinel.js';
import { type DynamoDbLocal, startDynamoDbLocal } from '../test/support/dynamodbLocal.js';
import { startTcpProxy, type TcpProxy } from '../test/support/tcpProxy.js';
import { type History, type NodeKey, recordingStore } from './history.js';

export const MASTER_NAME = 'mymaster';

export interface ClusterSettings {
  readonly downAfterMs: number;
  readonly failoverTimeoutMs: number;
  readonly infoPeriodMs: number;
  readonly leaderLeaseMs: number;
}

/** How often the harness re-reads the master record (to know which node is the master). */
const RECORD_POLL_MS = 100;
/** How often each node's reported role is sampled. */
const ROLE_POLL_MS = 200;
const ROLE_PROBE_TIMEOUT_MS = 300;
/** A sentinel invocation that ended on its own is replaced after this (the schedule's next tick). */
const RESTART_INVOCATION_AFTER_MS = 1_000;
/** Generous: on a loaded machine a fresh DynamoDB Local JVM can take many seconds to answer quickly. */
const DISCOVERY_TIMEOUT_MS = 60_000;

export const nodeKey = (address: Address): NodeKey => `${address.host}:${address.port}`;

export function sentinelConfText(masterPort: number, s: ClusterSettings): string {
  return [
    `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${masterPort} 2`,
    `sentinel down-after-milliseconds ${MASTER_NAME} ${s.downAfterMs}`,
    `sentinel failover-timeout ${MASTER_NAME} ${s.failoverTimeoutMs}`,
    `sentinel info-period ${MASTER_NAME} ${s.infoPeriodMs}`,
    `sentinel leader-lease ${MASTER_NAME} ${s.leaderLeaseMs}`,
  ].join('\n');
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Runs one sentinel's invocations one after another; `hold` stops it until `release` (a dead Lambda). */
class SentinelSupervisor {
  #current: { runner: SentinelRunner; abort: AbortController; done: Promise<void> } | null = null;
  #held = false;
  #stopped = false;
  #wake: (() => void) | null = null;
  #loop: Promise<void> | null = null;

  constructor(
    readonly sentinelId: string,
    private readonly make: (signal: AbortSignal) => SentinelRunner,
    private readonly history: History,
  ) {}

  start(): void {
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      if (this.#held) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        continue;
      }
      const abort = new AbortController();
      const runner = this.make(abort.signal);
      let end = 'crashed';
      const done = runner.run().then(
        (report) => {
          end = report.end;
        },
        () => {},
      );
      this.#current = { runner, abort, done };
      await done;
      if (!abort.signal.aborted) {
        // Not asked to stop: count it, and start the next invocation shortly.
        this.history.unplannedRunnerEnds.set(end, (this.history.unplannedRunnerEnds.get(end) ?? 0) + 1);
        await sleep(RESTART_INVOCATION_AFTER_MS);
      }
    }
  }

  /** The runner of the current invocation (the endpoint reads its observations). */
  get runner(): SentinelRunner | null {
    return this.#current?.runner ?? null;
  }

  async hold(): Promise<void> {
    this.#held = true;
    const current = this.#current;
    current?.abort.abort();
    await current?.done;
  }

  release(): void {
    this.#held = false;
    this.#wake?.();
    this.#wake = null;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#current?.abort.abort();
    this.release();
    await this.#loop;
  }
}

export interface ChaosCluster {
  readonly config: SentinelConfig;
  readonly sentinelIds: readonly string[];
  readonly dynamo: DynamoDbLocal;
  readonly initialMaster: NodeKey;
  /** Every node by key, and its short name (n1 is the initial master). */
  readonly nodes: ReadonlyMap<NodeKey, RedisHandle>;
  readonly names: ReadonlyMap<NodeKey, string>;
  /** sentinel → node → the proxy that sentinel's probes and commands go through. */
  readonly redisProxies: ReadonlyMap<string, ReadonlyMap<NodeKey, TcpProxy>>;
  /** sentinel → the proxy in front of DynamoDB for that sentinel. */
  readonly storeProxies: ReadonlyMap<string, TcpProxy>;
  readonly endpoint: SentinelEndpoint;
  readonly endpointStore: DynamoStore;
  /** The master by the last record the harness read (kept while the store is unreachable). */
  currentMaster(): NodeKey;
  lastRecord(): MasterRecord | null;
  holdSentinel(sentinelId: string): Promise<void>;
  releaseSentinel(sentinelId: string): void;
  /** Waits until every sentinel has discovered both replicas, so chaos starts on a settled system. */
  ready(signal?: AbortSignal): Promise<void>;
  stop(): Promise<void>;
}

export async function startChaosCluster(args: {
  readonly settings: ClusterSettings;
  readonly history: History;
  readonly say: (line: string) => void;
  readonly verbose: boolean;
}): Promise<ChaosCluster> {
  const { history, say } = args;
  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) await step().catch(() => {});
    cleanups.length = 0;
  };
  try {
    const dynamo = await startDynamoDbLocal();
    cleanups.push(() => dynamo.stop());
    const table = `chaos-${randomUUID()}`;
    await createTable(createDynamoClient({ endpoint: dynamo.endpoint }), table);

    // AOF with fsync always: an acknowledged write is on that node's disk (see the module comment).
    const topology: Topology = await startTopology({
      replicas: 2,
      args: ['--appendonly', 'yes', '--appendfsync', 'always'],
    });
    cleanups.push(() => topology.stop());
    const handles = [topology.master, ...topology.replicas];
    const nodes = new Map(handles.map((h) => [nodeKey(h.address), h]));
    const names = new Map(handles.map((h, i) => [nodeKey(h.address), `n${i + 1}`]));
    const initialMaster = nodeKey(topology.master.address);
    say(
      `redis-server ${handles.map((h, i) => `n${i + 1} ${h.address.port} (pid ${h.pid})`).join(', ')}; ` +
        `DynamoDB Local at ${dynamo.endpoint} (pid ${dynamo.pid})`,
    );

    const config = parseSentinelConfig(
      sentinelConfText(topology.master.address.port, args.settings),
      '<chaos>',
    );
    const sentinelIds = config.global.sentinelIds;

    const redisProxies = new Map<string, Map<NodeKey, TcpProxy>>();
    const storeProxies = new Map<string, TcpProxy>();
    const dynamoAddress = new URL(dynamo.endpoint);
    for (const id of sentinelIds) {
      const perNode = new Map<NodeKey, TcpProxy>();
      for (const handle of handles) perNode.set(nodeKey(handle.address), await startTcpProxy(handle.address));
      redisProxies.set(id, perNode);
      storeProxies.set(
        id,
        await startTcpProxy({ host: dynamoAddress.hostname, port: Number(dynamoAddress.port) }),
      );
    }
    cleanups.push(async () => {
      const all = [...storeProxies.values(), ...[...redisProxies.values()].flatMap((m) => [...m.values()])];
      await Promise.all(all.map((p) => p.close()));
    });

    const through = (sentinelId: string, address: Address): Address =>
      redisProxies.get(sentinelId)?.get(nodeKey(address))?.address ?? address;
    const probeFactoryFor =
      (sentinelId: string): RedisProbeFactory =>
      (address, options): RedisProbe => {
        const probe = createRedisProbe(through(sentinelId, address), options);
        // Reports the real address: the proxy is an implementation detail of the fault model.
        const count = (kind: string) => {
          const key = `${sentinelId} ${kind}`;
          history.probeOutcomes.set(key, (history.probeOutcomes.get(key) ?? 0) + 1);
        };
        return {
          address,
          ping: async () => {
            const outcome = await probe.ping();
            count(`PING ${outcome.result.type === 'reply' ? outcome.result.kind : outcome.result.type}`);
            return outcome;
          },
          info: async () => {
            const outcome = await probe.info();
            count(`INFO ${outcome.result.type}`);
            return outcome;
          },
          close: () => probe.close(),
        };
      };
    const controlFactoryFor =
      (sentinelId: string): RedisControlFactory =>
      (options) => {
        const control = createRedisControl(options);
        return {
          // Only the connection goes through the proxy; the master named in REPLICAOF is the real one.
          replicaOf: (target, master) => control.replicaOf(through(sentinelId, target), master),
          failoverTo: (master, target, timeoutMs) =>
            control.failoverTo(through(sentinelId, master), target, timeoutMs),
        };
      };

    let endpoint: SentinelEndpoint | null = null;
    const announced = new Map<string, number>();
    const onEvent = (event: SentinelEvent, sentinelId: string, epoch: number | null) => {
      history.recordEvent(sentinelId, event);
      endpoint?.publish(event, epoch);
      if (args.verbose) {
        say(`${sentinelId} ${event.type} ${event.payload}`);
        return;
      }
      // The milestones, once each (every sentinel emits +switch-master).
      if (
        ['+switch-master', '+tilt', '-tilt'].includes(event.type) ||
        event.type.startsWith('-failover-abort')
      ) {
        const key = `${event.type} ${event.payload}`;
        if (Date.now() - (announced.get(key) ?? 0) < 10_000) return;
        announced.set(key, Date.now());
        say(`${sentinelId} ${event.type} ${event.payload}`);
      }
    };
    const supervisors = sentinelIds.map((sentinelId) => {
      const log: Log = (level, message, fields) => {
        if (level !== 'error') return;
        const error = (fields?.error as { message?: string } | undefined)?.message;
        const key = error ? `${message}: ${error}` : message;
        history.sentinelErrors.set(key, (history.sentinelErrors.get(key) ?? 0) + 1);
      };
      const storeEndpoint = `http://${storeProxies.get(sentinelId)?.address.host}:${storeProxies.get(sentinelId)?.address.port}`;
      const supervisor = new SentinelSupervisor(
        sentinelId,
        (signal) =>
          new SentinelRunner({
            sentinelId,
            config,
            store: recordingStore(
              new DynamoStore(createDynamoClient({ endpoint: storeEndpoint }), table),
              sentinelId,
              history,
            ),
            probeFactory: probeFactoryFor(sentinelId),
            controlFactory: controlFactoryFor(sentinelId),
            signal,
            log,
            onEvent,
          }),
        history,
      );
      supervisor.start();
      return supervisor;
    });
    cleanups.push(async () => {
      await Promise.all(supervisors.map((s) => s.stop()));
    });
    const supervisorOf = (id: string) => {
      const found = supervisors.find((s) => s.sentinelId === id);
      if (!found) throw new Error(`no sentinel ${id}`);
      return found;
    };

    // The endpoint reads the store directly (it is the client's view, not a sentinel's).
    const endpointStore = new DynamoStore(createDynamoClient({ endpoint: dynamo.endpoint }), table);
    const runnerViews: RunnerLike[] = supervisors.map((s) => ({
      sentinelId: s.sentinelId,
      memories: () => s.runner?.memories() ?? {},
      snapshots: () => s.runner?.snapshots() ?? {},
    }));
    endpoint = await startSentinelEndpoint({
      port: 0,
      host: '127.0.0.1',
      view: storeSentinelView(recordingStore(endpointStore, 'endpoint', history), config, {
        runners: runnerViews,
      }),
    });
    const started = endpoint;
    cleanups.push(() => started.close());

    // The harness's own view of the record, and of each node's role.
    const stopPolling = new AbortController();
    const harnessStore = recordingStore(
      new DynamoStore(createDynamoClient({ endpoint: dynamo.endpoint }), table),
      'harness',
      history,
    );
    let record: MasterRecord | null = null;
    const pollRecord = (async () => {
      while (!stopPolling.signal.aborted) {
        try {
          record = (await harnessStore.getMaster(MASTER_NAME)) ?? record;
        } catch {
          // The store is down: keep the last record.
        }
        await sleep(RECORD_POLL_MS, stopPolling.signal);
      }
    })();
    const pollRoles = handles.map(async (handle) => {
      const key = nodeKey(handle.address);
      const probe = createRedisProbe(handle.address, { timeoutMs: ROLE_PROBE_TIMEOUT_MS, now: Date.now });
      try {
        while (!stopPolling.signal.aborted) {
          const outcome = await probe.info();
          const result = outcome.result;
          history.sampleRole(
            key,
            result.type === 'info'
              ? {
                  at: outcome.completedAt,
                  role: result.info.role === 'master' ? 'master' : 'slave',
                  masterPort: result.info.masterPort,
                  linkUp: result.info.masterLinkUp,
                }
              : { at: outcome.completedAt, role: 'unreachable', masterPort: null, linkUp: false },
          );
          await sleep(ROLE_POLL_MS, stopPolling.signal);
        }
      } finally {
        await probe.close();
      }
    });
    cleanups.push(async () => {
      stopPolling.abort();
      await Promise.all([pollRecord, ...pollRoles]);
    });

    return {
      config,
      sentinelIds,
      dynamo,
      initialMaster,
      nodes,
      names,
      redisProxies,
      storeProxies,
      endpoint,
      endpointStore,
      currentMaster: () => (record ? `${record.host}:${record.port}` : initialMaster),
      lastRecord: () => record,
      holdSentinel: (id) => supervisorOf(id).hold(),
      releaseSentinel: (id) => supervisorOf(id).release(),
      ready: async (signal) => {
        const until = Date.now() + DISCOVERY_TIMEOUT_MS;
        // From each sentinel's own observations, not from +slave events: an invocation that starts after
        // a peer recorded the replicas in the store probes them without announcing them.
        const discovered = () =>
          supervisors.every((s) => {
            const snapshot = s.runner?.snapshots()[MASTER_NAME];
            const informed = (snapshot?.replicas ?? []).filter((r) => r.infoAt !== null);
            return snapshot?.master.infoAt != null && informed.length >= handles.length - 1;
          });
        while (!discovered()) {
          if (signal?.aborted) throw new Error('interrupted during setup');
          if (Date.now() > until) {
            // Say where each sentinel got stuck: no invocation, no lease (store errors), no INFO yet.
            const status = supervisors.map((s) => {
              const snapshot = s.runner?.snapshots()[MASTER_NAME];
              const events = history.events.filter((e) => e.sentinel === s.sentinelId).map((e) => e.type);
              const seen = snapshot
                ? `master INFO ${snapshot.master.infoAt === null ? 'not yet' : 'ok'}, ` +
                  `${snapshot.replicas.filter((r) => r.infoAt !== null).length} replicas with INFO`
                : 'no running invocation';
              return `${s.sentinelId}: ${seen}, events ${events.join(' ') || 'none'}`;
            });
            const errors = [...history.sentinelErrors.keys()].slice(0, 3).join('; ') || 'none';
            const probes = [...history.probeOutcomes].map(([k, v]) => `${k}: ${v}`).join(', ');
            const ends = [...history.unplannedRunnerEnds].map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
            throw new Error(
              `the sentinels did not discover both replicas within ${DISCOVERY_TIMEOUT_MS} ms: ` +
                `${status.join('; ')}; invocations ended: ${ends}; errors: ${errors}; probe outcomes: ${probes}`,
            );
          }
          await sleep(50);
        }
      },
      stop: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
