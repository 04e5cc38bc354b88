import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import {
  DeleteTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDynamoClient } from '../../lib/adapters/dynamodb/client.js';
import { startEmbeddedDynamo } from '../../lib/adapters/dynamodb/embedded.js';
import { ATTR, createTable, GARBAGE_AFTER_SECONDS, keys } from '../../lib/adapters/dynamodb/schema.js';
import { DynamoStore } from '../../lib/adapters/dynamodb/store.js';
import { INITIAL_MEMORY } from '../../lib/core/decide.js';
import { newObservation } from '../../lib/core/observation.js';
import { newFailoverProgress, newMasterRecord } from '../../lib/core/records.js';
import type { ReplicationInfo } from '../../lib/core/types.js';
import { StoreUnavailableError } from '../../lib/ports.js';
import {
  type MasterHandover,
  parseHandoverState,
  serializeHandoverState,
} from '../../lib/runtime/handover.js';
import { describeStoreContract, everyStoreCall } from '../contract/store.contract.js';
import { startCountingProxy } from '../infra/dynamoProxy.js';
import { findFreePort, startDynamoDbLocal } from '../support/dynamodbLocal.js';

/** A store failing fast is the point: with maxAttempts 2 and a 1 s request timeout, ~2.2 s worst case. */
const OUTAGE_BUDGET_MS = 3_000;

const uniqueTable = () => `t-${randomUUID()}`;

async function dropTable(client: DynamoDBDocumentClient, tableName: string): Promise<void> {
  await client.send(new DeleteTableCommand({ TableName: tableName })).catch(() => undefined);
}

describeStoreContract('DynamoStore on DynamoDB Local', async () => {
  const client = createDynamoClient({ endpoint: inject('dynamodbEndpoint') });
  const tableName = uniqueTable();
  await createTable(client, tableName);
  return {
    store: new DynamoStore(client, tableName),
    cleanup: async () => {
      await dropTable(client, tableName);
      client.destroy();
    },
  };
});

describeStoreContract('DynamoStore on dynalite (embedded)', async () => {
  const dynalite = await startEmbeddedDynamo();
  const client = createDynamoClient({ endpoint: dynalite.endpoint });
  const tableName = uniqueTable();
  await createTable(client, tableName);
  return {
    store: new DynamoStore(client, tableName),
    cleanup: async () => {
      client.destroy();
      await dynalite.close();
    },
  };
});

/** Calls every store method at once and checks each rejects with StoreUnavailableError within the budget. */
async function expectEveryCallUnavailable(store: DynamoStore): Promise<void> {
  const outcomes = await Promise.all(
    Object.entries(everyStoreCall()).map(async ([method, call]) => {
      const started = performance.now();
      const error = await call(store).then(
        () => undefined,
        (rejection: unknown) => rejection,
      );
      return { method, error, elapsedMs: performance.now() - started };
    }),
  );
  for (const { method, error, elapsedMs } of outcomes) {
    expect(error, method).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).cause, method).toBeDefined();
    expect(elapsedMs, method).toBeLessThan(OUTAGE_BUDGET_MS);
  }
}

describe('Class: DynamoStore', () => {
  describe('against DynamoDB Local', () => {
    let client: DynamoDBDocumentClient;
    let tableName: string;
    let store: DynamoStore;

    beforeAll(async () => {
      client = createDynamoClient({ endpoint: inject('dynamodbEndpoint') });
      tableName = uniqueTable();
      await createTable(client, tableName, { stream: true });
      store = new DynamoStore(client, tableName);
    });

    afterAll(async () => {
      await dropTable(client, tableName);
      client.destroy();
    });

    it('creates the table idempotently, on demand, with a NEW_AND_OLD_IMAGES stream and TTL on ttl', async () => {
      await createTable(client, tableName, { stream: true });
      const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
      expect(Table?.TableStatus).toBe('ACTIVE');
      expect(Table?.KeySchema).toEqual([
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ]);
      expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
      expect(Table?.StreamSpecification).toMatchObject({
        StreamEnabled: true,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      });
      const { TimeToLiveDescription } = await client.send(
        new DescribeTimeToLiveCommand({ TableName: tableName }),
      );
      expect(TimeToLiveDescription).toMatchObject({ TimeToLiveStatus: 'ENABLED', AttributeName: 'ttl' });
    });

    it('lays items out as MASTER#/RECORD, VOTE#, REPLICA#host:port and SENTINEL#/LEASE, with a ttl a day out', async () => {
      const observedAt = 1_700_000_000_500;
      await store.ensureMaster({ name: 'layout', host: '10.0.0.1', port: 6379, now: observedAt });
      await store.putVote({
        master: 'layout',
        sentinelId: 'sentinel-a',
        down: true,
        observedAt,
        configEpoch: 0,
        token: 1,
        invocationId: 'i',
      });
      await store.upsertReplica({
        master: 'layout',
        host: '10.0.0.2',
        port: 6380,
        runId: null,
        lastSeenAt: observedAt,
        seenBy: 'sentinel-a',
      });
      await store.acquireLease('sentinel-layout', { invocationId: 'i', now: observedAt, ttlMs: 1_000 });
      const get = async (key: { pk: string; sk: string }) =>
        (await client.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item;

      expect(keys.master('layout')).toEqual({ pk: 'MASTER#layout', sk: 'RECORD' });
      expect(await get(keys.master('layout'))).toMatchObject({
        kind: 'master',
        name: 'layout',
        leader: null,
      });
      expect(keys.vote('layout', 'sentinel-a')).toEqual({ pk: 'MASTER#layout', sk: 'VOTE#sentinel-a' });
      const ttl = Math.floor(observedAt / 1000) + GARBAGE_AFTER_SECONDS;
      expect(await get(keys.vote('layout', 'sentinel-a'))).toMatchObject({ kind: 'vote', [ATTR.ttl]: ttl });
      expect(keys.replica('layout', '10.0.0.2', 6380)).toEqual({
        pk: 'MASTER#layout',
        sk: 'REPLICA#10.0.0.2:6380',
      });
      expect(await get(keys.replica('layout', '10.0.0.2', 6380))).toMatchObject({
        kind: 'replica',
        [ATTR.ttl]: ttl,
      });
      expect(keys.lease('sentinel-layout')).toEqual({ pk: 'SENTINEL#sentinel-layout', sk: 'LEASE' });
      const lease = await get(keys.lease('sentinel-layout'));
      expect(lease).toMatchObject({ kind: 'lease', holder: 'i', token: 1 });
      expect(lease?.[ATTR.ttl]).toBeUndefined();
    });

    it('turns a malformed master record into StoreUnavailableError naming the attribute, not a TypeError', async () => {
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...keys.master('broken'), name: 'broken', host: '10.0.0.1', port: 'not-a-number' },
        }),
      );
      // Listed in the masters' index, as every record written by the store is.
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...keys.masterIndex('broken'), kind: 'master-index', name: 'broken' },
        }),
      );
      await expect(store.getMaster('broken')).rejects.toThrow(StoreUnavailableError);
      await expect(store.getMaster('broken')).rejects.toThrow(/master item .*"port" should be a number/);
      await expect(store.listMasters()).rejects.toThrow(StoreUnavailableError);
      // A losing claim reads the record to report the winner: that path validates too.
      await expect(
        store.claimEpoch('broken', {
          mode: 'resume',
          expectedEpoch: 0,
          sentinelId: 'a',
          leaseUntil: 1,
          now: 1,
        }),
      ).rejects.toThrow(StoreUnavailableError);
    });

    it('turns malformed votes, leases and failover states into StoreUnavailableError', async () => {
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...keys.vote('bad-votes', 'a'), master: 'bad-votes', sentinelId: 'a', down: 'yes' },
        }),
      );
      await expect(store.listVotes('bad-votes')).rejects.toThrow(/vote item .*"down" should be a boolean/);
      await client.send(
        new PutCommand({ TableName: tableName, Item: { ...keys.lease('bad-lease'), holder: 7 } }),
      );
      await expect(store.getLease('bad-lease')).rejects.toThrow(StoreUnavailableError);
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            ...keys.master('bad-state'),
            name: 'bad-state',
            host: 'h',
            port: 1,
            currentEpoch: 0,
            configEpoch: 0,
            leader: null,
            leaderLeaseUntil: 0,
            failoverState: 'exploding',
            failoverStartedAt: null,
            updatedAt: 0,
          },
        }),
      );
      await expect(store.getMaster('bad-state')).rejects.toThrow(/"failoverState" should be one of/);
    });

    it('reads malformed advisory lease attributes as absent, so the sentinel acquires its lease again', async () => {
      const id = 'bad-advisory';
      const now = 1_700_000_000_000;
      // Released by token 3, then every attribute that only informs overwritten with the wrong type.
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            ...keys.lease(id),
            kind: 'lease',
            sentinelId: id,
            holder: null,
            token: 3,
            leaseUntil: now - 1_000,
            heartbeatAt: 'yesterday',
            handoverRequestedBy: 42,
            handoverFrom: 'soon',
            generation: 7,
            // Where versions before the hand-over item kept the state: ignored, and removed at acquire.
            handoverState: { version: 2 },
            tilt: 'yes',
            summary: ['not', 'a', 'line'],
          },
        }),
      );
      expect(await store.getLease(id)).toEqual({
        sentinelId: id,
        holder: null,
        token: 3,
        leaseUntil: now - 1_000,
        heartbeatAt: 0,
        handoverRequestedBy: null,
        // Due to hand over at any time, of no known generation: a newcomer asks for the hand-over.
        handoverFrom: 0,
        generation: null,
        tilt: false,
        summary: null,
      });

      const taken = await store.acquireLease(id, { invocationId: 'next', now, ttlMs: 10_000 });
      if (!taken.acquired) throw new Error('the lease was not acquired');
      expect(taken.lease).toMatchObject({ holder: 'next', token: 4, summary: null });
      expect(taken.previous).toMatchObject({ token: 3, summary: null, tilt: false });
      const raw = async () =>
        (
          await client.send(
            new GetCommand({ TableName: tableName, Key: keys.lease(id), ConsistentRead: true }),
          )
        ).Item;
      expect((await raw())?.[ATTR.handoverState]).toBeUndefined();
      // The holder works as usual: its heartbeat rewrites what acquiring kept (the summary).
      const renewed = await store.renewLease(id, {
        invocationId: 'next',
        token: 4,
        now: now + 100,
        ttlMs: 10_000,
        tilt: false,
        summary: 'all ok',
      });
      expect(renewed).toMatchObject({ renewed: true, lease: { heartbeatAt: now + 100, summary: 'all ok' } });
      expect(await store.releaseLease(id, { invocationId: 'next', token: 4, now: now + 200 })).toBe(true);
      expect(await store.getLease(id)).toMatchObject({ holder: null, token: 4, leaseUntil: now + 200 });
      expect((await raw())?.[ATTR.handoverState]).toBeUndefined();
    });

    it('reads every master with one Query and a BatchGetItem per 100, not a GetItem each', async () => {
      const proxy = await startCountingProxy(inject('dynamodbEndpoint'));
      const counted = createDynamoClient({ endpoint: proxy.endpoint });
      try {
        const table = uniqueTable();
        await createTable(counted, table);
        const many = new DynamoStore(counted, table);
        const names = Array.from({ length: 230 }, (_, i) => `many-${String(i).padStart(3, '0')}`);
        for (let i = 0; i < names.length; i += 23) {
          await Promise.all(
            names
              .slice(i, i + 23)
              .map((name, j) => many.ensureMaster({ name, host: '10.0.0.1', port: 6379 + j, now: 1 })),
          );
        }
        proxy.ops.clear();
        const listed = await many.listMasters();
        expect(listed.map((r) => r.name)).toEqual(names);
        expect(listed[1]).toEqual(await many.getMaster(names[1] as string));
        proxy.ops.delete('GetItem');
        expect(Object.fromEntries([...proxy.ops].map(([op, stats]) => [op, stats.count]))).toEqual({
          Query: 1,
          BatchGetItem: 3,
        });
        await dropTable(counted, table);
      } finally {
        counted.destroy();
        await proxy.close();
      }
    });

    it('keeps the change counter in the index partition and counts record writes', async () => {
      const before = (await store.getChangeCounter()) ?? 0;
      await store.ensureMaster({ name: 'counted', host: '10.0.0.1', port: 6379, now: 1 });
      const get = async () =>
        (
          await client.send(
            new GetCommand({ TableName: tableName, Key: keys.changes(), ConsistentRead: true }),
          )
        ).Item;
      expect(keys.changes()).toEqual({ pk: 'MASTER#', sk: 'CHANGES' });
      expect(await get()).toMatchObject({ kind: 'master-changes', changes: before + 1 });
      // Not an index entry: listMasters does not see it (the 230-master listing above is exact).
    });

    it('reads a counter that is not a count as null, and still completes writes whose increment fails', async () => {
      const proxy = await startCountingProxy(inject('dynamodbEndpoint'));
      const counted = createDynamoClient({ endpoint: proxy.endpoint });
      try {
        const table = uniqueTable();
        await createTable(counted, table);
        const broken = new DynamoStore(counted, table);
        await counted.send(
          new PutCommand({
            TableName: table,
            Item: { ...keys.changes(), kind: 'master-changes', changes: 'many' },
          }),
        );
        expect(await broken.getChangeCounter()).toBeNull();
        proxy.ops.clear();
        // The increment (if_not_exists + 1 on a string) fails: the record write stands all the same.
        const record = await broken.ensureMaster({ name: 'still', host: '10.0.0.1', port: 6379, now: 1 });
        expect(record.name).toBe('still');
        expect(proxy.ops.get('UpdateItem')?.count).toBeGreaterThanOrEqual(1);
        expect(await broken.getMaster('still')).toEqual(record);
        expect(await broken.getChangeCounter()).toBeNull();
        await dropTable(counted, table);
      } finally {
        counted.destroy();
        await proxy.close();
      }
    });

    it("leaves a failover write's counter increment in flight, and settle waits for it; other writes wait themselves", async () => {
      const held = createDynamoClient({ endpoint: inject('dynamodbEndpoint') });
      const table = uniqueTable();
      await createTable(held, table);
      // Holds every increment of the change counter while `hold` is set, until `release`.
      let hold = false;
      const waiting: Array<() => void> = [];
      const release = () => {
        hold = false;
        for (const go of waiting.splice(0)) go();
      };
      const send = held.send.bind(held) as (command: unknown) => Promise<unknown>;
      (held as unknown as { send: (command: unknown) => Promise<unknown> }).send = async (command) => {
        const key = (command as { input?: { Key?: { sk?: unknown } } }).input?.Key;
        if (hold && command instanceof UpdateCommand && key?.sk === keys.changes().sk)
          await new Promise<void>((go) => waiting.push(go));
        return send(command);
      };
      const fenced = new DynamoStore(held, table);
      try {
        const name = 'deferred';
        await fenced.ensureMaster({ name, host: '10.0.0.1', port: 6379, now: 1 });
        const before = await fenced.getChangeCounter();
        hold = true;
        const claim = await fenced.claimEpoch(name, {
          mode: 'start',
          expectedEpoch: 0,
          sentinelId: 'a',
          leaseUntil: 10_000,
          progress: newFailoverProgress(
            { host: '10.0.0.1', port: 6379 },
            { forced: false, coordinated: false },
          ),
          now: 2,
        });
        expect(claim.won).toBe(true);
        expect(waiting).toHaveLength(1);
        let settled = false;
        const settling = fenced.settle().then(() => {
          settled = true;
        });
        await new Promise((r) => setTimeout(r, 50));
        expect(settled).toBe(false);
        expect(await fenced.getChangeCounter()).toBe(before);
        release();
        await settling;
        expect(await fenced.getChangeCounter()).toBe((before ?? 0) + 1);

        // A write outside a failover returns only once its increment has landed.
        hold = true;
        let returned = false;
        const released = fenced.releaseLeadership(name, { epoch: 1, sentinelId: 'a', now: 3 }).then((ok) => {
          returned = true;
          return ok;
        });
        await new Promise((r) => setTimeout(r, 50));
        expect(returned).toBe(false);
        expect(waiting).toHaveLength(1);
        release();
        expect(await released).toBe(true);
        expect(await fenced.getChangeCounter()).toBe((before ?? 0) + 2);
        await dropTable(held, table);
      } finally {
        release();
        held.destroy();
      }
    });

    it('keeps the hand-over state gzip-compressed in its own item, next to a lease that stays small', async () => {
      const id = 'compressed';
      const acquired = await store.acquireLease(id, { invocationId: 'i', now: 1, ttlMs: 10_000 });
      if (!acquired.acquired) throw new Error('the lease was not acquired');
      const masters = Object.fromEntries(
        Array.from({ length: 300 }, (_, i) => [
          `m${i}`,
          { host: `10.0.${i >> 8}.${i & 255}`, lastPingText: 'PONG' },
        ]),
      );
      const state = JSON.stringify({ version: 3, masters });
      expect(await store.putHandoverState(id, { token: 1, state })).toBe(true);
      expect(await store.releaseLease(id, { invocationId: 'i', token: 1, now: 2 })).toBe(true);
      const get = async (key: { pk: string; sk: string }) =>
        (await client.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item;
      expect(keys.handover(id)).toEqual({ pk: `SENTINEL#${id}`, sk: 'HANDOVER' });
      const item = await get(keys.handover(id));
      expect(item).toMatchObject({ kind: 'handover', sentinelId: id, token: 1 });
      const stored = item?.[ATTR.state];
      expect(stored).toBeInstanceOf(Uint8Array);
      expect((stored as Uint8Array).length).toBeLessThan(state.length / 4);
      expect(JSON.stringify(await get(keys.lease(id))).length).toBeLessThan(400);
      expect(await store.getHandoverState(id, { token: 1 })).toBe(state);
    });

    it('saves the hand-over state of a thousand masters with two replicas each in one item', async () => {
      const now = 1_764_000_000_000;
      // What varies from master to master in a real state: addresses, run ids, offsets, times.
      const instance = (host: string, role: 'master' | 'replica', master: string | null) => {
        const runId = randomBytes(20).toString('hex');
        const at = now - (randomBytes(2).readUInt16BE() % 1_000);
        const info: ReplicationInfo = {
          runId,
          role,
          loading: false,
          masterHost: master,
          masterPort: master === null ? null : 6379,
          masterLinkUp: master !== null,
          masterLinkDownSinceMs: 0,
          replicaPriority: 100,
          replicaOffset: 987_654_321 + randomBytes(3).readUIntBE(0, 3),
          replicaAnnounced: true,
          masterReplOffset: 987_654_321 + randomBytes(3).readUIntBE(0, 3),
          connectedReplicas: [],
          redisVersion: '7.2.4',
        };
        return {
          ...newObservation({ host, port: 6379 }, role, now - 50_000),
          linkConnected: true,
          lastValidReplyAt: at,
          lastReplyAt: at,
          lastPingSettledAt: at,
          lastPingText: 'PONG',
          info,
          infoAt: at - 5_000,
          runId,
          reportedRole: role,
          reportedRoleSince: now - 49_990,
          reportedMasterSince: now - 49_990,
        };
      };
      const masters = new Map<string, MasterHandover>();
      const records = [];
      for (let m = 0; m < 1_000; m += 1) {
        const host = (k: number) => `10.${m >> 8}.${m & 255}.${k}`;
        masters.set(`cache-${m}`, {
          origin: { source: 'config', host: host(1), port: 6379 },
          monitor: {
            master: instance(host(1), 'master', null),
            replicas: [instance(host(2), 'replica', host(1)), instance(host(3), 'replica', host(1))],
          },
          memory: {
            ...INITIAL_MEMORY,
            voteWritten: { down: false, observedAt: now - 40_000, writtenAt: now - 39_996 },
            knownEpoch: 3,
            knownLeader: { sentinelId: 'sentinel-b', epoch: 3 },
            knownConfig: { epoch: 3, host: host(1), port: 6379 },
          },
        });
        records.push({
          ...newMasterRecord({ name: `cache-${m}`, host: host(1), port: 6379, now: now - 3e8 }, 'config'),
          currentEpoch: 3,
          configEpoch: 3,
          leader: 'sentinel-b',
        });
      }
      const state = serializeHandoverState({
        savedAt: now,
        tilt: { inTilt: false, since: null, lastTimerAt: now - 100 },
        masters,
        records: { changeCounter: 42, fullReadAt: now - 60_000, records },
      });
      expect(await store.putHandoverState('thousand', { token: 1, state })).toBe(true);
      const item = (
        await client.send(
          new GetCommand({ TableName: tableName, Key: keys.handover('thousand'), ConsistentRead: true }),
        )
      ).Item;
      const stored = (item?.[ATTR.state] as Uint8Array | undefined)?.length ?? Number.POSITIVE_INFINITY;
      // About 0.2 KB a master: under 300 KB, so a thousand masters leave room in a 400 KB item.
      expect(stored).toBeLessThan(300 * 1024);
      const text = await store.getHandoverState('thousand', { token: 1 });
      expect(text).toBe(state);
      const parsed = parseHandoverState(text ?? '');
      expect(parsed.ok && parsed.state.masters.size).toBe(1_000);
    });

    it('refuses a hand-over state too large for one item, saying so', async () => {
      // Random bytes do not compress: 600 KB of them is over the limit in any encoding.
      const state = randomBytes(600 * 1024).toString('base64');
      await expect(store.putHandoverState('too-large', { token: 1, state })).rejects.toThrow(
        /hand-over state is \d+ KB compressed, over the 390 KB an item can hold/,
      );
      expect(await store.getHandoverState('too-large', { token: 1 })).toBeNull();
    });

    it('returns a stored state it cannot decompress, or that inflates past the limit, as text the parser rejects', async () => {
      const plant = (id: string, state: unknown) =>
        client.send(
          new PutCommand({
            TableName: tableName,
            Item: { ...keys.handover(id), kind: 'handover', sentinelId: id, token: 1, state },
          }),
        );
      await plant('not-gzip', randomBytes(64));
      await plant('a-string', '{"version":3}');
      // 16 MB of zeros compress to about 16 KB: inflating it whole is what the limit refuses.
      await plant('bomb', gzipSync(Buffer.alloc(16 * 1024 * 1024)));
      for (const id of ['not-gzip', 'a-string', 'bomb']) {
        const text = await store.getHandoverState(id, { token: 1 });
        expect(text, id).toBe('');
        expect(parseHandoverState(text ?? 'null').ok, id).toBe(false);
      }
    });

    it('still refuses a lease whose holder, token or expiry is malformed: they decide who may write', async () => {
      const valid = { kind: 'lease', holder: null, token: 3, leaseUntil: 1, heartbeatAt: 1, tilt: false };
      const cases: Array<[string, Record<string, unknown>, RegExp]> = [
        ['bad-holder', { holder: 7 }, /lease item .*"holder" should be a string or null/],
        ['bad-token', { token: 'three' }, /lease item .*"token" should be a number/],
        ['bad-expiry', { leaseUntil: 'soon' }, /lease item .*"leaseUntil" should be a number/],
      ];
      for (const [id, change, reason] of cases) {
        await client.send(
          new PutCommand({
            TableName: tableName,
            Item: { ...keys.lease(id), sentinelId: id, ...valid, ...change },
          }),
        );
        await expect(store.getLease(id), id).rejects.toThrow(StoreUnavailableError);
        await expect(store.getLease(id), id).rejects.toThrow(reason);
      }
      // A token that is not a number cannot be incremented: acquiring fails and writes nothing.
      await expect(
        store.acquireLease('bad-token', { invocationId: 'next', now: 2, ttlMs: 1_000 }),
      ).rejects.toThrow(StoreUnavailableError);
      const { Item } = await client.send(
        new GetCommand({ TableName: tableName, Key: keys.lease('bad-token'), ConsistentRead: true }),
      );
      expect(Item).toMatchObject({ holder: null, token: 'three' });
    });

    it('rejects with StoreUnavailableError when the table does not exist', async () => {
      const missing = new DynamoStore(client, uniqueTable());
      await expect(missing.getMaster('m')).rejects.toThrow(/ResourceNotFoundException/);
      await expect(missing.putVote(everyVote())).rejects.toBeInstanceOf(StoreUnavailableError);
    });
  });

  describe('during an outage', () => {
    it(`rejects every method with StoreUnavailableError within ${OUTAGE_BUDGET_MS} ms when nothing listens`, async () => {
      const port = await findFreePort();
      const client = createDynamoClient({ endpoint: `http://127.0.0.1:${port}` });
      try {
        await expectEveryCallUnavailable(new DynamoStore(client, 'closed-port'));
      } finally {
        client.destroy();
      }
    });

    it(`rejects every method within ${OUTAGE_BUDGET_MS} ms when the endpoint accepts but never answers`, async () => {
      const sockets = new Set<Socket>();
      const blackHole: Server = createServer((socket) => {
        sockets.add(socket);
        socket.on('error', () => undefined);
      });
      await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
      const { port } = blackHole.address() as { port: number };
      const client = createDynamoClient({ endpoint: `http://127.0.0.1:${port}` });
      try {
        await expectEveryCallUnavailable(new DynamoStore(client, 'black-hole'));
      } finally {
        client.destroy();
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => blackHole.close(resolve));
      }
    });

    it('fails fast while a (private) DynamoDB Local is SIGSTOPped, and works again once it resumes', async () => {
      const dynamo = await startDynamoDbLocal();
      const client = createDynamoClient({ endpoint: dynamo.endpoint });
      try {
        const tableName = uniqueTable();
        await createTable(client, tableName);
        const store = new DynamoStore(client, tableName);
        await store.ensureMaster({ name: 'paused', host: 'h', port: 1, now: 1 });
        dynamo.pause();
        await expectEveryCallUnavailable(store);
        dynamo.resume();
        expect((await store.getMaster('paused'))?.host).toBe('h');
      } finally {
        client.destroy();
        await dynamo.stop();
      }
    });
  });
});

function everyVote() {
  return {
    master: 'm',
    sentinelId: 'a',
    down: true,
    observedAt: 1,
    configEpoch: 0,
    token: 1,
    invocationId: 'i',
  };
}
