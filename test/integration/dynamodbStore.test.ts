import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import {
  DeleteTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDynamoClient } from '../../lib/adapters/dynamodb/client.js';
import { startEmbeddedDynamo } from '../../lib/adapters/dynamodb/embedded.js';
import { ATTR, createTable, GARBAGE_AFTER_SECONDS, keys } from '../../lib/adapters/dynamodb/schema.js';
import { DynamoStore } from '../../lib/adapters/dynamodb/store.js';
import { StoreUnavailableError } from '../../lib/ports.js';
import { describeStoreContract, everyStoreCall } from '../contract/store.contract.js';
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
        handoverState: null,
        tilt: false,
        summary: null,
      });

      const taken = await store.acquireLease(id, { invocationId: 'next', now, ttlMs: 10_000 });
      if (!taken.acquired) throw new Error('the lease was not acquired');
      expect(taken.lease).toMatchObject({ holder: 'next', token: 4, handoverState: null, summary: null });
      expect(taken.previous).toMatchObject({ token: 3, handoverState: null, summary: null, tilt: false });
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
      expect(
        await store.releaseLease(id, { invocationId: 'next', token: 4, now: now + 200, handoverState: '{}' }),
      ).toBe(true);
      expect(await store.getLease(id)).toMatchObject({ holder: null, token: 4, handoverState: '{}' });
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
