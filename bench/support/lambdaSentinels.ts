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
import { newFailoverProgress } from '../../lib/core/records.js';
import type {
  Address,
  FailoverState,
  MasterRecord,
  SentinelConfig,
  SentinelEvent,
  SentinelId,
} from '../../lib/core/types.js';
import type { RedisControlFactory, RedisProbeFactory } from '../../lib/ports.js';
import type { Topology } from '../../lib/runtime/redisProcess.js';
import { SentinelRunner } from '../../lib/runtime/sentinel.js';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../test/support/dynamodbLocal.js';

const DISCOVERY_TIMEOUT_MS = 15_000;

/**
 * The steps of a failover that no event shows, seen where they happen: a probe of the master failing
 * (its socket closed, or a PING without a reply), a down-vote written, the epoch claim won, the choice
 * recorded, REPLICAOF NO ONE sent and its OK received, the record switched to the new master.
 */
export type FailoverStep =
  | 'probe noticed'
  | 'vote written'
  | 'claim won'
  | 'replica selected'
  | 'REPLICAOF NO ONE sent'
  | 'promotion seen'
  | 'record switched';

type OnStep = ((step: FailoverStep) => void) | undefined;

function instrumentStore(store: DynamoStore, onStep: OnStep): DynamoStore {
  if (!onStep) return store;
  const { putVote, claimEpoch, advanceFailover } = store;
  store.putVote = async (vote) => {
    const outcome = await putVote.call(store, vote);
    if (vote.down && outcome === 'written') onStep('vote written');
    return outcome;
  };
  store.claimEpoch = async (name, request) => {
    const result = await claimEpoch.call(store, name, request);
    if (result.won) onStep('claim won');
    // A claim that recorded the choice itself (choiceForClaim) is also the step that selects.
    if (result.won && result.record.failoverState === 'send_slaveof_noone') onStep('replica selected');
    return result;
  };
  store.advanceFailover = async (name, request) => {
    const result = await advanceFailover.call(store, name, request);
    if (result.ok && request.to === 'send_slaveof_noone') onStep('replica selected');
    if (result.ok && request.switchTo) onStep('record switched');
    return result;
  };
  return store;
}

function instrumentProbes(factory: RedisProbeFactory, master: Address, onStep: OnStep): RedisProbeFactory {
  if (!onStep) return factory;
  return (address, options) => {
    if (address.host !== master.host || address.port !== master.port) return factory(address, options);
    const probe = factory(address, {
      ...options,
      onConnectionLost: () => {
        onStep('probe noticed');
        options.onConnectionLost?.();
      },
    });
    return {
      address: probe.address,
      ping: async () => {
        const outcome = await probe.ping();
        if (outcome.result.type !== 'reply') onStep('probe noticed');
        return outcome;
      },
      info: () => probe.info(),
      close: () => probe.close(),
    };
  };
}

function instrumentControl(factory: RedisControlFactory, onStep: OnStep): RedisControlFactory {
  if (!onStep) return factory;
  return (options) => {
    const control = factory(options);
    return {
      replicaOf: async (target, master) => {
        if (master === null) onStep('REPLICAOF NO ONE sent');
        const result = await control.replicaOf(target, master);
        if (master === null && result.ok) onStep('promotion seen');
        return result;
      },
      failoverTo: (master, target, timeoutMs) => control.failoverTo(master, target, timeoutMs),
      prepare: (target) => control.prepare?.(target),
      close: () => control.close?.(),
    };
  };
}

/**
 * DynamoDB Local's JVM for the timed runs: its first JIT tier only. The second tier recompiles hot code
 * in background threads for a long while after the warm-up, on the same two cores as the sentinels;
 * with it bench:failover gave +72 and +71 ms (median write − down-after at 1000, 10 runs each), with
 * the first tier only +58 and +60, in alternating runs of one hour on 2026-12-06.
 */
const BENCH_DYNAMODB_JAVA_OPTIONS = '-XX:TieredStopAtLevel=1';

/** DynamoDB Local as the benchmarks time it: first JIT tier only, warmed up (warmUpDynamoDbLocal). */
export async function startBenchDynamoDbLocal(): Promise<DynamoDbLocal> {
  const dynamo = await startDynamoDbLocal({ javaOptions: BENCH_DYNAMODB_JAVA_OPTIONS });
  try {
    await warmUpDynamoDbLocal(dynamo.endpoint);
  } catch (error) {
    await dynamo.stop();
    throw error;
  }
  return dynamo;
}

/** How many times the warm-up makes each store call of a failover (see warmUpDynamoDbLocal). */
const WARM_UP_ROUNDS = 300;
/** Rounds run side by side, as three sentinels and a lookup make their calls. */
const WARM_UP_CONCURRENCY = 3;

/**
 * DynamoDB Local is a JVM: the code behind a conditional write, a claim or a Query runs interpreted
 * until it has run some hundreds of times, and a claim takes ~35 ms at first, ~10 ms after a few, ~3 ms
 * after a hundred (measured on this machine). A failover makes each of its calls a few times, so five
 * timed runs on a cold DynamoDB Local would measure its JIT, which DynamoDB itself does not have. Before
 * the timed runs, this makes every store call of a failover, in a table of its own, WARM_UP_ROUNDS times.
 */
export async function warmUpDynamoDbLocal(endpoint: string): Promise<void> {
  const client = createDynamoClient({ endpoint });
  const table = `warm-up-${randomUUID()}`;
  await createTable(client, table);
  const store = new DynamoStore(client, table);
  const oldMaster = { host: '10.0.0.1', port: 6379 };
  const promoted = { host: '10.0.0.2', port: 6379 };
  const progress = newFailoverProgress(oldMaster, { forced: false, coordinated: false });
  const round = async (i: number) => {
    const name = `warm-${i}`;
    await store.ensureMaster({ name, ...oldMaster, now: i });
    await store.upsertReplica({ master: name, ...promoted, runId: null, lastSeenAt: i, seenBy: 'a' });
    for (const sentinelId of ['a', 'b', 'c']) {
      await store.putVote({
        master: name,
        sentinelId,
        down: true,
        observedAt: i,
        configEpoch: 0,
        token: 1,
        invocationId: sentinelId,
      });
    }
    await Promise.all([
      store.getMasterVotesReplicas(name),
      store.listReplicas(name),
      store.getChangeCounter(),
    ]);
    const claim = (sentinelId: string) =>
      store.claimEpoch(name, {
        mode: 'start',
        expectedEpoch: 0,
        sentinelId,
        leaseUntil: i + 5_000,
        progress,
        now: i,
      });
    await Promise.all([claim('a'), claim('b')]);
    const leader = (await store.getMaster(name))?.leader ?? 'a';
    const step = (from: FailoverState, to: FailoverState, extra: object = {}) =>
      store.advanceFailover(name, {
        epoch: 1,
        sentinelId: leader,
        now: i,
        from: [from],
        to,
        progress: { ...progress, promoted },
        leaseUntil: i + 5_000,
        ...extra,
      });
    await step('select_slave', 'send_slaveof_noone');
    await step('send_slaveof_noone', 'reconf_slaves', { switchTo: promoted });
    await step('reconf_slaves', 'none');
    await store.getMaster(name);
  };
  let next = 0;
  await Promise.all(
    Array.from({ length: WARM_UP_CONCURRENCY }, async () => {
      while (next < WARM_UP_ROUNDS) await round(next++);
    }),
  );
  await store.settle();
  client.destroy();
}

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
  /** Every master record the sentinels read or write (SentinelRunnerOptions.onRecord), e.g. for a view. */
  onRecord?: (record: MasterRecord) => void;
  /** Told each failover step as the sentinels' store, probes and Redis commands see it (see FailoverStep). */
  onStep?: (step: FailoverStep) => void;
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
        store: instrumentStore(new DynamoStore(createDynamoClient({ endpoint }), table), args.onStep),
        probeFactory: instrumentProbes(createRedisProbe, topology.master.address, args.onStep),
        controlFactory: instrumentControl(createRedisControl, args.onStep),
        signal: abort.signal,
        ...(args.onRecord ? { onRecord: args.onRecord } : {}),
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
