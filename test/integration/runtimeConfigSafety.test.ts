/**
 * Run-time configuration cannot be turned against the data, on real parts: three SentinelRunners probing
 * real redis-server processes (a master with keys, two replicas) through DynamoDB Local, and the store
 * view that the Redis-protocol endpoint and the HTTP API serve (storeSentinelView), driven through both.
 *
 * - `SENTINEL SET mymaster rename-command PING FLUSHALL` is refused, over RESP and HTTP, and the keys are
 *   still on the master and its replicas several probe periods later;
 * - a record written by hand with that rename anyway is not applied: the probes keep sending PING, the
 *   keys stay, no sentinel judges the master down, and each sentinel says so once;
 * - a 10,000-character master name is refused naming the limit (HTTP 400, RESP -ERR), never sent to the
 *   store, whose key limit turned it into "store cannot be reached";
 * - the list of Redis command names holds every command a real redis-server lists.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { storeSentinelView } from '../../lib/commands/storeView.js';
import { isRedisCommandName } from '../../lib/core/redisCommands.js';
import type { Address } from '../../lib/core/types.js';
import { handleApiRequest, type RouterOptions } from '../../lib/http/router.js';
import { startSentinelEndpoint } from '../../lib/resp/server.js';
import { allocatePorts, type RedisHandle, startRedis } from '../../lib/runtime/redisProcess.js';
import { type RealCluster, startRealCluster } from '../support/realCluster.js';

const KEYS = 200;
/** Probe period is min(down-after, 1000) = 1000 ms: four of them, after every sentinel applied the record. */
const PROBE_PERIODS_MS = 4 * 1_000;
const WITHIN_MS = 15_000;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

function client(address: Address): Redis {
  const redis = new Redis({ ...address, lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2_000 });
  redis.on('error', () => {});
  cleanups.push(async () => redis.disconnect());
  return redis;
}

async function startCluster(): Promise<RealCluster> {
  const cluster = await startRealCluster({ endpoint: inject('dynamodbEndpoint') });
  cleanups.push(() => cluster.stop());
  await cluster.sentinels.waitFor(
    () => cluster.sentinels.eventsOf('+slave').length === 6,
    WITHIN_MS,
    'replicas discovered by the three sentinels',
  );
  return cluster;
}

/** Writes KEYS keys to the master and waits until both replicas hold them too. */
async function writeKeys(cluster: RealCluster): Promise<void> {
  const master = client(cluster.topology.master.address);
  await master.connect();
  for (let i = 0; i < KEYS; i++) await master.set(`key:${i}`, `value-${i}`);
  await master.call('WAIT', '2', '5000');
}

async function keyCounts(cluster: RealCluster): Promise<number[]> {
  const addresses = [cluster.topology.master.address, ...cluster.topology.replicas.map((r) => r.address)];
  return Promise.all(
    addresses.map(async (address) => {
      const redis = client(address);
      await redis.connect();
      return redis.dbsize();
    }),
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('rename-command cannot be turned against the data', () => {
  it('SET rename-command PING FLUSHALL is refused over RESP and HTTP, and the keys stay', async () => {
    const cluster = await startCluster();
    await writeKeys(cluster);
    const view = storeSentinelView(cluster.store, cluster.config, { runners: cluster.sentinels.runners });
    const endpoint = await startSentinelEndpoint({ port: 0, view });
    cleanups.push(() => endpoint.close());

    const resp = client(endpoint.address);
    await resp.connect();
    await expect(
      resp.call('SENTINEL', 'SET', 'mymaster', 'rename-command', 'PING', 'FLUSHALL'),
    ).rejects.toThrow(
      /^ERR Invalid argument 'FLUSHALL' for SENTINEL SET 'rename-command': the new name is the name of another Redis command/,
    );
    // All-or-nothing: a good pair before the refused one is not applied either.
    await expect(
      resp.call('SENTINEL', 'SET', 'mymaster', 'quorum', '3', 'rename-command', 'info', 'flushdb'),
    ).rejects.toThrow(/another Redis command/);

    const options: RouterOptions = { view, requireIamForWrites: false, version: 'test' };
    const http = await handleApiRequest(
      {
        method: 'PATCH',
        path: '/v1/masters/mymaster',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ set: [['rename-command', 'PING', 'FLUSHALL']] }),
        iamAuthenticated: false,
      },
      options,
    );
    expect(http.status).toBe(400);
    expect(JSON.parse(http.body)).toMatchObject({ code: 'INVALID' });

    const record = await cluster.store.getMaster('mymaster');
    expect(record?.settings).toEqual({});
    expect(record?.settingsVersion).toBe(0);
    await sleep(PROBE_PERIODS_MS);
    expect(await keyCounts(cluster)).toEqual([KEYS, KEYS, KEYS]);
  });

  it('a record that carries the rename anyway (written by hand) is not applied: PING goes out, the keys stay, no failover', async () => {
    const cluster = await startCluster();
    await writeKeys(cluster);
    const before = await cluster.store.getMaster('mymaster');
    // What SET refuses, written to the table directly, next to a harmless change every sentinel applies.
    const outcome = await cluster.store.updateMasterSettings('mymaster', {
      expectedVersion: before?.settingsVersion ?? 0,
      settings: { failoverTimeoutMs: 170_000, renamedCommands: { ping: 'FLUSHALL', info: 'FLUSHDB' } },
      now: Date.now(),
    });
    expect(outcome).toBe('updated');
    const applied = () =>
      new Set(
        cluster.sentinels.logs
          .filter((l) => l.message === 'applied run-time configuration')
          .map((l) => l.sentinelId),
      ).size;
    await cluster.sentinels.waitFor(() => applied() === 3, WITHIN_MS, 'the record applied by every sentinel');
    await sleep(PROBE_PERIODS_MS);

    expect(await keyCounts(cluster)).toEqual([KEYS, KEYS, KEYS]);
    for (const type of ['+sdown', '+odown', '+try-failover', '+switch-master']) {
      expect(cluster.sentinels.eventsOf(type), type).toEqual([]);
    }
    const warnings = cluster.sentinels.logs.filter((l) =>
      l.message.startsWith('stored rename-command refused'),
    );
    expect(warnings.map((w) => w.sentinelId).sort()).toEqual(['sentinel-a', 'sentinel-b', 'sentinel-c']);
    for (const warning of warnings) {
      expect(warning.level).toBe('warn');
      expect(warning.fields).toMatchObject({ master: 'mymaster', commands: ['ping', 'info'] });
      expect(JSON.stringify(warning)).not.toMatch(/FLUSH/);
    }
    // The harmless change is in force (+set from each sentinel); the renames never were.
    const sets = cluster.sentinels.eventsOf('+set').map((e) => e.payload);
    expect(sets.filter((p) => p.endsWith('failover-timeout 170000'))).toHaveLength(3);
    expect(sets.filter((p) => p.includes('rename-command'))).toEqual([]);
  });
});

describe('a master name over the limit', () => {
  it('gets a 400 (HTTP) and -ERR (RESP) naming the limit, and never reaches the store', async () => {
    const cluster = await startCluster();
    const view = storeSentinelView(cluster.store, cluster.config, { runners: cluster.sentinels.runners });
    const name = 'm'.repeat(10_000);
    const options: RouterOptions = { view, requireIamForWrites: false, version: 'test' };
    for (const [method, path] of [
      ['GET', `/v1/masters/${name}`],
      ['GET', `/v1/masters/${name}/address`],
      ['POST', `/v1/masters/${name}/failover`],
      ['DELETE', `/v1/masters/${name}`],
    ] as const) {
      const response = await handleApiRequest({ method, path, iamAuthenticated: false }, options);
      expect(response.status, `${method} …`).toBe(400);
      expect(JSON.parse(response.body).error).toMatch(
        /^Invalid master name 'm{64}…': longer than 128 characters$/,
      );
    }

    const endpoint = await startSentinelEndpoint({ port: 0, view });
    cleanups.push(() => endpoint.close());
    const resp = client(endpoint.address);
    await resp.connect();
    for (const args of [
      ['MASTER', name],
      ['GET-MASTER-ADDR-BY-NAME', name],
      ['REPLICAS', name],
      ['SET', name, 'quorum', '2'],
      ['REMOVE', name],
      ['MONITOR', name, '127.0.0.1', '6379', '2'],
    ]) {
      await expect(resp.call('SENTINEL', ...args), args[0]).rejects.toThrow(
        'ERR Invalid master name: longer than 128 characters',
      );
    }
    // A name at the limit is an ordinary unknown master.
    await expect(resp.call('SENTINEL', 'MASTER', 'm'.repeat(128))).rejects.toThrow(
      'ERR No such master with that name',
    );
  });
});

describe('the Redis command list', () => {
  let server: RedisHandle | undefined;
  beforeAll(async () => {
    const [port] = await allocatePorts(1);
    server = await startRedis({ port: port as number });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('holds every command a real redis-server lists (COMMAND LIST), so none can be a rename target', async () => {
    const redis = new Redis({ ...(server as RedisHandle).address, lazyConnect: true });
    try {
      await redis.connect();
      const names = (await redis.call('COMMAND', 'LIST')) as string[];
      const topLevel = names.filter((name) => !name.includes('|'));
      expect(topLevel.length).toBeGreaterThan(200);
      expect(topLevel.filter((name) => !isRedisCommandName(name))).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });
});
