/**
 * DynamoEventLog on DynamoDB Local: the EventLog contract, the item layout the notifier depends on
 * (kind, keys), and the markers.
 */
import { randomUUID } from 'node:crypto';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDynamoClient } from '../../lib/adapters/dynamodb/client.js';
import { startEmbeddedDynamo } from '../../lib/adapters/dynamodb/embedded.js';
import {
  DynamoEventLog,
  DynamoNotifyMarkers,
  EVENT_KIND,
  eventFromItem,
  MalformedEventItemError,
} from '../../lib/adapters/dynamodb/eventLog.js';
import { createTable } from '../../lib/adapters/dynamodb/schema.js';
import { eventSortKey, toEventRecord } from '../../lib/eventLog.js';
import { StoreUnavailableError } from '../../lib/ports.js';
import { CONTRACT_SECRET, describeEventLogContract } from '../contract/eventLog.contract.js';

const uniqueTable = () => `t-${randomUUID()}`;

describeEventLogContract('DynamoEventLog on DynamoDB Local', async () => {
  const client = createDynamoClient({ endpoint: inject('dynamodbEndpoint') });
  const tableName = uniqueTable();
  await createTable(client, tableName, { stream: true });
  return {
    log: new DynamoEventLog(client, tableName, { secrets: [CONTRACT_SECRET] }),
    rawDump: async () => JSON.stringify((await client.send(new ScanCommand({ TableName: tableName }))).Items),
    cleanup: async () => {
      await client.send(new DeleteTableCommand({ TableName: tableName })).catch(() => undefined);
      client.destroy();
    },
  };
});

// The local runner embeds dynalite: the same log must work there.
describeEventLogContract('DynamoEventLog on dynalite (embedded)', async () => {
  const dynalite = await startEmbeddedDynamo();
  const client = createDynamoClient({ endpoint: dynalite.endpoint });
  const tableName = uniqueTable();
  await createTable(client, tableName);
  return {
    log: new DynamoEventLog(client, tableName, { secrets: [CONTRACT_SECRET] }),
    rawDump: async () => JSON.stringify((await client.send(new ScanCommand({ TableName: tableName }))).Items),
    cleanup: async () => {
      client.destroy();
      await dynalite.close();
    },
  };
});

describe('DynamoEventLog item layout', () => {
  const client = createDynamoClient({ endpoint: inject('dynamodbEndpoint') });
  const tableName = uniqueTable();
  beforeAll(async () => {
    await createTable(client, tableName, { stream: true });
  });
  afterAll(async () => {
    await client.send(new DeleteTableCommand({ TableName: tableName })).catch(() => undefined);
    client.destroy();
  });

  it('writes one `event` item under EVENTS and one copy under EVENTS#<master>', async () => {
    const log = new DynamoEventLog(client, tableName);
    const record = toEventRecord(
      {
        type: '+sdown',
        level: 'warning',
        payload: 'master mymaster 10.0.0.1 6379',
        master: 'mymaster',
        at: 1_800_000_000_000,
      },
      { sentinelId: 'sentinel-a', seq: 3, epoch: 2 },
    );
    await log.append(record);
    const sk = eventSortKey(record);
    const main = await client.send(new GetCommand({ TableName: tableName, Key: { pk: 'EVENTS', sk } }));
    const copy = await client.send(
      new GetCommand({ TableName: tableName, Key: { pk: 'EVENTS#mymaster', sk } }),
    );
    expect(main.Item).toMatchObject({ kind: EVENT_KIND.event, id: record.id, ttl: record.ttl, epoch: 2 });
    expect(copy.Item).toMatchObject({ kind: EVENT_KIND.byMaster, id: record.id });
    expect(eventFromItem(main.Item ?? {})).toEqual(record);
  });

  it('a masterless event has no copy', async () => {
    const log = new DynamoEventLog(client, tableName);
    const record = toEventRecord(
      { type: '+tilt', level: 'warning', payload: '#tilt mode entered', master: null, at: 1_800_000_000_500 },
      { sentinelId: 'sentinel-c', seq: 1, epoch: null },
    );
    await log.append(record);
    const items = (await client.send(new ScanCommand({ TableName: tableName }))).Items ?? [];
    expect(items.filter((i) => i.id === record.id).map((i) => i.pk)).toEqual(['EVENTS']);
  });

  it('a malformed stored item is a StoreUnavailableError naming the attribute', () => {
    expect(() => eventFromItem({ pk: 'EVENTS', sk: 'x', id: 'i', type: '+sdown', level: 'loud' })).toThrow(
      MalformedEventItemError,
    );
    expect(() =>
      eventFromItem({
        pk: 'EVENTS',
        sk: 'x',
        id: 'i',
        type: '+sdown',
        level: 'warning',
        payload: 'p',
        master: null,
        at: 'yesterday',
      }),
    ).toThrow(/attribute "at" should be an integer/);
  });

  it('markers: done after mark, per action, strongly consistent', async () => {
    const markers = new DynamoNotifyMarkers(client, tableName);
    expect(await markers.done('e-1')).toEqual(new Set());
    await markers.mark('e-1', 'sns', Date.now());
    await markers.mark('e-1', 'sns', Date.now());
    await markers.mark('e-1', 'route53', Date.now());
    expect(await markers.done('e-1')).toEqual(new Set(['sns', 'route53']));
  });

  it('an unreachable table is a StoreUnavailableError', async () => {
    const log = new DynamoEventLog(client, 'no-such-table');
    await expect(log.list({})).rejects.toBeInstanceOf(StoreUnavailableError);
    const record = toEventRecord(
      { type: '+sdown', level: 'warning', payload: 'x', master: 'm', at: 1 },
      { sentinelId: 's', seq: 0, epoch: null },
    );
    await expect(log.append(record)).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(new DynamoNotifyMarkers(client, 'no-such-table').done('x')).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
  });
});
