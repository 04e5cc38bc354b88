/**
 * lambda-sentinel as the benchmarks run it: three sentinels in this process on a fresh DynamoDB table,
 * monitoring a topology, started and ready (every sentinel has discovered the replicas).
 */
import { randomUUID } from 'node:crypto';
import { createDynamoClient } from '../../lib/adapters/dynamodb/client.js';
import { createTable } from '../../lib/adapters/dynamodb/schema.js';
import { DynamoStore } from '../../lib/adapters/dynamodb/store.js';
import { createRedisControl } from '../../lib/adapters/redis/control.js';
import { createRedisProbe } from '../../lib/adapters/redis/probe.js';
import { parseSentinelConfig } from '../../lib/config/parse.js';
import type { SentinelConfig, SentinelEvent, SentinelId } from '../../lib/core/types.js';
import type { Topology } from '../../lib/runtime/redisProcess.js';
import { SentinelRunner } from '../../lib/runtime/sentinel.js';

const DISCOVERY_TIMEOUT_MS = 15_000;

export interface LambdaSentinels {
  readonly events: SentinelEvent[];
  /** A store on the same table, for reading the master record as the lookup API does. */
  readonly store: DynamoStore;
  /** The configuration the sentinels run with (for a view over the same table). */
  readonly config: SentinelConfig;
  /** The running sentinel loops (their observations fill a view's timing fields). */
  readonly runners: readonly SentinelRunner[];
  stop(): Promise<void>;
}

export async function startLambdaSentinels(args: {
  endpoint: string;
  topology: Topology;
  downAfterMs: number;
  failoverTimeoutMs: number;
  /** Called for every event as well (after it is recorded), e.g. to drop a view's cache and publish. */
  onEvent?: (event: SentinelEvent, sentinelId: SentinelId, epoch: number | null) => void;
}): Promise<LambdaSentinels> {
  const { endpoint, topology } = args;
  const table = `bench-${randomUUID()}`;
  await createTable(createDynamoClient({ endpoint }), table);
  const config = parseSentinelConfig(
    [
      `sentinel monitor mymaster 127.0.0.1 ${topology.master.address.port} 2`,
      `sentinel down-after-milliseconds mymaster ${args.downAfterMs}`,
      `sentinel failover-timeout mymaster ${args.failoverTimeoutMs}`,
    ].join('\n'),
    '<bench>',
  );
  const abort = new AbortController();
  const events: SentinelEvent[] = [];
  const runners = config.global.sentinelIds.map(
    (sentinelId) =>
      new SentinelRunner({
        sentinelId,
        config,
        store: new DynamoStore(createDynamoClient({ endpoint }), table),
        probeFactory: createRedisProbe,
        controlFactory: createRedisControl,
        signal: abort.signal,
        onEvent: (event, sentinelId, epoch) => {
          events.push(event);
          args.onEvent?.(event, sentinelId, epoch);
        },
      }),
  );
  const done = Promise.all(runners.map((r) => r.run()));
  const stop = async () => {
    abort.abort();
    await done;
  };
  const until = Date.now() + DISCOVERY_TIMEOUT_MS;
  while (events.filter((e) => e.type === '+slave').length < 2 * runners.length) {
    if (Date.now() > until) {
      await stop();
      throw new Error('replica discovery timed out');
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return {
    events,
    store: new DynamoStore(createDynamoClient({ endpoint }), table),
    config,
    runners,
    stop,
  };
}
