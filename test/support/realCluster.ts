/**
 * Three sentinels in this process against real redis-server processes and a DynamoDB (Local) table,
 * each sentinel reaching the master through its own TCP proxy so a test can cut one off (a partition
 * between that sentinel and the master only).
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createDynamoClient } from '../../lib/adapters/dynamodb/client.js';
import { createTable } from '../../lib/adapters/dynamodb/schema.js';
import { DynamoStore } from '../../lib/adapters/dynamodb/store.js';
import { createRedisControl } from '../../lib/adapters/redis/control.js';
import { createRedisProbe } from '../../lib/adapters/redis/probe.js';
import type { Address, MasterSettings, SentinelConfig } from '../../lib/core/types.js';
import type { RedisControlFactory, RedisProbeFactory } from '../../lib/ports.js';
import { startTopology, type Topology } from '../../lib/runtime/redisProcess.js';
import { type RunningSentinels, startSentinels } from './sentinels.js';
import { globalSettings, masterSettings } from './settings.js';
import { startTcpProxy, type TcpProxy } from './tcpProxy.js';

export interface RealCluster {
  readonly topology: Topology;
  readonly proxies: Record<string, TcpProxy>;
  readonly sentinels: RunningSentinels;
  readonly store: DynamoStore;
  readonly config: SentinelConfig;
  stop(): Promise<void>;
}

const SENTINEL_IDS = ['sentinel-a', 'sentinel-b', 'sentinel-c'] as const;

function sameAddress(a: Address, b: Address): boolean {
  return a.host === b.host && a.port === b.port;
}

export async function startRealCluster(args: {
  endpoint: string;
  downAfterMs?: number;
  quorum?: number;
  settings?: Partial<MasterSettings>;
  /** Extra redis-server arguments per replica (index 0, 1), e.g. ['--replica-priority', '0']. */
  replicaArgs?: ReadonlyArray<readonly string[]>;
  /** A topology built by the test (1 master, 2 replicas); stopped with the cluster. */
  topology?: Topology;
  /** Wraps each sentinel's store, to watch the writes a sentinel makes. */
  wrapStore?: (store: DynamoStore, sentinelId: string) => DynamoStore;
  /** Each sentinel's control factory (default: the real one, straight to the servers). */
  controlFactoryFor?: (sentinelId: string) => RedisControlFactory;
}): Promise<RealCluster> {
  const topology = args.topology ?? (await startTopology({ replicas: 2 }));
  for (const [i, extra] of (args.replicaArgs ?? []).entries()) {
    const replica = topology.replicas[i];
    if (replica && extra.length > 0) await configSet(replica.address, extra);
  }
  const proxies: Record<string, TcpProxy> = {};
  try {
    for (const id of SENTINEL_IDS) proxies[id] = await startTcpProxy(topology.master.address);
    const table = `t-${randomUUID()}`;
    await createTable(createDynamoClient({ endpoint: args.endpoint }), table);
    const config: SentinelConfig = {
      global: globalSettings({ sentinelIds: SENTINEL_IDS }),
      masters: [
        masterSettings({
          ...topology.master.address,
          downAfterMs: args.downAfterMs ?? 1_000,
          quorum: args.quorum ?? 2,
          ...args.settings,
        }),
      ],
    };
    // Each sentinel reaches the master through its own proxy; other instances directly.
    const probeFactoryFor =
      (id: string): RedisProbeFactory =>
      (address, options) => {
        const proxy = proxies[id];
        const target = proxy && sameAddress(address, topology.master.address) ? proxy.address : address;
        return createRedisProbe(target, options);
      };
    const sentinels = startSentinels({
      config,
      storeFor: (id) => {
        const store = new DynamoStore(createDynamoClient({ endpoint: args.endpoint }), table);
        return args.wrapStore ? args.wrapStore(store, id) : store;
      },
      probeFactoryFor,
      // Reconfigurations go straight to the servers: the proxies only model what each sentinel can see.
      controlFactoryFor: args.controlFactoryFor ?? (() => createRedisControl),
    });
    const store = new DynamoStore(createDynamoClient({ endpoint: args.endpoint }), table);
    return {
      topology,
      proxies,
      sentinels,
      store,
      config,
      stop: async () => {
        await sentinels.stop();
        await Promise.all(Object.values(proxies).map((p) => p.close()));
        await topology.stop();
      },
    };
  } catch (error) {
    await Promise.all(Object.values(proxies).map((p) => p.close()));
    await topology.stop();
    throw error;
  }
}

/** CONFIG SET on a running server: `['--replica-priority', '0']` → CONFIG SET replica-priority 0. */
export async function configSet(address: Address, args: readonly string[]): Promise<void> {
  const client = new Redis({ ...address, lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    for (let i = 0; i < args.length; i += 2) {
      await client.config('SET', (args[i] as string).replace(/^--/, ''), args[i + 1] as string);
    }
  } finally {
    client.disconnect();
  }
}

/** INFO replication of a server, parsed. */
export async function roleOf(
  address: Address,
): Promise<{ role: string; masterPort: number | null; linkUp: boolean }> {
  const client = new Redis({ ...address, lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 1000 });
  try {
    await client.connect();
    const text = await client.info('replication');
    const field = (name: string) => text.match(new RegExp(`^${name}:(.*)$`, 'm'))?.[1]?.trim() ?? null;
    const port = field('master_port');
    return {
      role: field('role') ?? '?',
      masterPort: port ? Number(port) : null,
      linkUp: field('master_link_status') === 'up',
    };
  } finally {
    client.disconnect();
  }
}
