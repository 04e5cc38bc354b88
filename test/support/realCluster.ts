/**
 * Three sentinels in this process against real redis-server processes and a DynamoDB (Local) table,
 * each sentinel reaching the master through its own TCP proxy so a test can cut one off (a partition
 * between that sentinel and the master only).
 */
import { randomUUID } from 'node:crypto';
import { createDynamoClient } from '../../lib/adapters/dynamodb/client.js';
import { createTable } from '../../lib/adapters/dynamodb/schema.js';
import { DynamoStore } from '../../lib/adapters/dynamodb/store.js';
import { createRedisProbe } from '../../lib/adapters/redis/probe.js';
import type { Address, SentinelConfig } from '../../lib/core/types.js';
import type { RedisProbeFactory } from '../../lib/ports.js';
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
}): Promise<RealCluster> {
  const topology = await startTopology({ replicas: 2 });
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
      storeFor: () => new DynamoStore(createDynamoClient({ endpoint: args.endpoint }), table),
      probeFactoryFor,
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
