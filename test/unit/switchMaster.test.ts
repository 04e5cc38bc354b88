/**
 * `+switch-master` → Route 53 and EventBridge: the strict payload parser, the requests sent (small fakes
 * of the SDK clients), and how notify.ts runs them with its markers (memory markers, a fake SNS client).
 */
import { randomUUID } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBRecord } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createNotifyHandler, type NotifyDeps, notifyLogger } from '../../functions/notify.js';
import {
  EVENT_DETAIL_TYPE,
  EVENT_SOURCE,
  PRIMARY_RECORD_TTL_SECONDS,
  parseSwitchMaster,
  putSwitchMasterEvent,
  recordNameFor,
  type SendsCommands,
  switchMasterOf,
  switchMasterTargetsFromEnv,
  upsertPrimaryRecord,
} from '../../lib/adapters/aws/switchMaster.js';
import { eventToItem } from '../../lib/adapters/dynamodb/eventLog.js';
import { MemoryNotifyMarkers } from '../../lib/adapters/memory/eventLog.js';
import { type EventRecord, toEventRecord } from '../../lib/eventLog.js';

/** A fake SDK client: records each command's name and input; `fail` makes the next calls throw. */
function fakeClient(reply: (input: Record<string, unknown>) => unknown = () => ({})) {
  const calls: Array<{ command: string; input: Record<string, unknown> }> = [];
  const client = {
    calls,
    failures: 0,
    async send(command: object): Promise<unknown> {
      const { input } = command as { input: Record<string, unknown> };
      calls.push({ command: command.constructor.name, input });
      if (client.failures > 0) {
        client.failures--;
        throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
      }
      return reply(input);
    },
  };
  return client;
}

const at = Date.parse('2026-11-25T08:23:08.350Z');
let seq = 0;
function switchRecord(
  payload: string,
  master: string | null = 'mymaster',
  epoch: number | null = 4,
): EventRecord {
  return toEventRecord(
    { type: '+switch-master', level: 'warning', payload, master, at },
    { sentinelId: 'sentinel-a', seq: seq++, epoch },
  );
}

describe('parseSwitchMaster', () => {
  it('reads the five fields', () => {
    expect(parseSwitchMaster('mymaster 10.0.0.1 6379 10.0.0.2 6380')).toEqual({
      ok: true,
      value: { master: 'mymaster', oldHost: '10.0.0.1', oldPort: 6379, newHost: '10.0.0.2', newPort: 6380 },
    });
    expect(parseSwitchMaster('m ::1 6379 redis-2.internal 6379').ok).toBe(true);
  });

  it.each([
    ['', 'expected'],
    ['mymaster 10.0.0.1 6379 10.0.0.2', 'expected'],
    ['mymaster 10.0.0.1 6379 10.0.0.2 6379 extra', 'expected'],
    ['mymaster  10.0.0.1 6379 10.0.0.2 6379', 'expected'],
    ['mymaster 10.0.0.1 6379 10.0.0.2 0', 'new port'],
    ['mymaster 10.0.0.1 6379 10.0.0.2 65536', 'new port'],
    ['mymaster 10.0.0.1 63a9 10.0.0.2 6379', 'old port'],
    ['mymaster 10.0.0.1 6379 bad_host! 6379', 'new address'],
    ['mymaster -x 6379 10.0.0.2 6379', 'old address'],
  ])('rejects %j', (payload, reason) => {
    const parsed = parseSwitchMaster(payload);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toContain(reason);
  });

  it('the payload must name the event master', () => {
    expect(switchMasterOf(switchRecord('other 10.0.0.1 6379 10.0.0.2 6379')).ok).toBe(false);
  });
});

describe('Route 53 and EventBridge requests', () => {
  it('UPSERTs an A record with a short TTL', async () => {
    const route53 = fakeClient();
    const record = switchRecord('mymaster 10.0.0.1 6379 10.0.0.2 6380');
    const change = switchMasterOf(record);
    if (!change.ok) throw new Error(change.reason);
    const result = await upsertPrimaryRecord(
      { client: route53, zoneId: 'Z123', recordName: '{master}.redis.internal.' },
      change.value,
      record,
    );
    expect(result).toEqual({ ok: true, value: 'mymaster.redis.internal.' });
    expect(route53.calls).toEqual([
      {
        command: 'ChangeResourceRecordSetsCommand',
        input: {
          HostedZoneId: 'Z123',
          ChangeBatch: {
            Comment: `lambda-sentinel +switch-master mymaster epoch 4 (${record.id})`,
            Changes: [
              {
                Action: 'UPSERT',
                ResourceRecordSet: {
                  Name: 'mymaster.redis.internal.',
                  Type: 'A',
                  TTL: PRIMARY_RECORD_TTL_SECONDS,
                  ResourceRecords: [{ Value: '10.0.0.2' }],
                },
              },
            ],
          },
        },
      },
    ]);
  });

  it('CNAME for a host name, AAAA for IPv6; a master name that is no DNS label is refused', async () => {
    const route53 = fakeClient();
    const target = { client: route53, zoneId: 'Z1', recordName: 'primary.redis.internal.', ttlSeconds: 10 };
    for (const payload of [
      'mymaster 10.0.0.1 6379 redis-b.internal 6379',
      'mymaster 10.0.0.1 6379 fd00::2 6379',
    ]) {
      const record = switchRecord(payload);
      const change = switchMasterOf(record);
      if (change.ok) await upsertPrimaryRecord(target, change.value, record);
    }
    const sets = route53.calls.map(
      (c) =>
        (c.input.ChangeBatch as { Changes: Array<{ ResourceRecordSet: unknown }> }).Changes[0]
          ?.ResourceRecordSet,
    );
    expect(sets).toEqual([
      expect.objectContaining({ Type: 'CNAME', TTL: 10, ResourceRecords: [{ Value: 'redis-b.internal' }] }),
      expect.objectContaining({ Type: 'AAAA', ResourceRecords: [{ Value: 'fd00::2' }] }),
    ]);
    expect(recordNameFor('{master}.x.', 'my.master').ok).toBe(false);
    expect(recordNameFor('{master}.x.', 'Cache-1')).toEqual({ ok: true, value: 'cache-1.x.' });
  });

  it('PutEvents with source lambda-sentinel and detail-type switch-master; a failed entry throws', async () => {
    const events = fakeClient(() => ({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] }));
    const record = switchRecord('mymaster 10.0.0.1 6379 10.0.0.2 6380');
    const change = switchMasterOf(record);
    if (!change.ok) throw new Error(change.reason);
    await putSwitchMasterEvent({ client: events, busName: 'ops' }, change.value, record);
    const entry = ((events.calls[0]?.input.Entries ?? []) as Array<Record<string, unknown>>)[0];
    expect(entry).toMatchObject({ EventBusName: 'ops', Source: EVENT_SOURCE, DetailType: EVENT_DETAIL_TYPE });
    expect(JSON.parse(String(entry?.Detail))).toEqual({
      master: 'mymaster',
      oldHost: '10.0.0.1',
      oldPort: 6379,
      newHost: '10.0.0.2',
      newPort: 6380,
      epoch: 4,
      eventId: record.id,
      sentinel: 'sentinel-a',
      time: '2026-11-25T08:23:08.350Z',
    });
    const failing = fakeClient(() => ({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure' }] }));
    await expect(
      putSwitchMasterEvent({ client: failing, busName: 'ops' }, change.value, record),
    ).rejects.toThrow(/InternalFailure/);
  });

  it('targets from the environment: both Route 53 variables or neither', () => {
    const clients = { route53: () => fakeClient(), eventBridge: () => fakeClient() };
    expect(switchMasterTargetsFromEnv({}, clients)).toEqual({});
    const t = switchMasterTargetsFromEnv(
      {
        ROUTE53_ZONE_ID: 'Z1',
        ROUTE53_RECORD_NAME: 'p.x.',
        EVENT_BUS_NAME: 'ops',
        ROUTE53_TTL_SECONDS: '30',
      },
      clients,
    );
    expect(t.route53).toMatchObject({ zoneId: 'Z1', recordName: 'p.x.', ttlSeconds: 30 });
    expect(t.eventBridge).toMatchObject({ busName: 'ops' });
    expect(() => switchMasterTargetsFromEnv({ ROUTE53_ZONE_ID: 'Z1' }, clients)).toThrow(/both/);
    expect(() =>
      switchMasterTargetsFromEnv(
        { ROUTE53_ZONE_ID: 'Z1', ROUTE53_RECORD_NAME: 'p.', ROUTE53_TTL_SECONDS: '-1' },
        clients,
      ),
    ).toThrow(/ROUTE53_TTL_SECONDS/);
  });
});

describe('notify on +switch-master', () => {
  let logs: string[];
  beforeEach(() => {
    logs = [];
    for (const stream of [process.stdout, process.stderr]) {
      vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
        logs.push(String(chunk));
        return true;
      });
    }
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  let sequence = 100;
  const context = {
    awsRequestId: randomUUID(),
    getRemainingTimeInMillis: () => 60_000,
  } as unknown as Context;
  const streamRecord = (record: EventRecord): DynamoDBRecord => ({
    eventID: randomUUID(),
    eventName: 'INSERT',
    eventSource: 'aws:dynamodb',
    dynamodb: {
      Keys: marshall({ pk: 'EVENTS', sk: 'x' }) as never,
      NewImage: marshall(eventToItem(record), { removeUndefinedValues: true }) as Record<
        string,
        AttributeValue
      > as never,
      SequenceNumber: String(sequence++).padStart(21, '0'),
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  });

  function setup() {
    const sns = fakeClient(() => ({ MessageId: randomUUID() }));
    const route53 = fakeClient(() => ({ ChangeInfo: { Id: 'c', Status: 'PENDING' } }));
    const events = fakeClient(() => ({ FailedEntryCount: 0 }));
    const deps: NotifyDeps = {
      sns,
      topicArn: 'arn:aws:sns:us-east-1:123456789012:alerts',
      markers: new MemoryNotifyMarkers(),
      switchMaster: {
        route53: { client: route53, zoneId: 'Z1', recordName: '{master}.redis.internal.' },
        eventBridge: { client: events as SendsCommands, busName: 'ops' },
      },
    };
    return { sns, route53, events, handler: createNotifyHandler(deps, notifyLogger()) };
  }

  it('publishes, UPSERTs the record and puts the event, in that order, once each', async () => {
    const { sns, route53, events, handler } = setup();
    const record = streamRecord(switchRecord('mymaster 10.0.0.1 6379 10.0.0.2 6380'));
    expect(await handler({ Records: [record] }, context)).toEqual({ batchItemFailures: [] });
    expect(await handler({ Records: [record] }, context)).toEqual({ batchItemFailures: [] });
    expect([sns.calls.length, route53.calls.length, events.calls.length]).toEqual([1, 1, 1]);
  });

  it('a Route 53 failure reports the record; the retry redoes only what is not done', async () => {
    const { sns, route53, events, handler } = setup();
    route53.failures = 1;
    const record = streamRecord(switchRecord('mymaster 10.0.0.1 6379 10.0.0.2 6380'));
    const first = await handler({ Records: [record] }, context);
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: record.dynamodb?.SequenceNumber }]);
    expect([sns.calls.length, route53.calls.length, events.calls.length]).toEqual([1, 1, 0]);
    expect(await handler({ Records: [record] }, context)).toEqual({ batchItemFailures: [] });
    // SNS not published again; Route 53 retried; EventBridge done once.
    expect([sns.calls.length, route53.calls.length, events.calls.length]).toEqual([1, 2, 1]);
  });

  it('a malformed payload is logged and skipped, never thrown: the alert still goes out', async () => {
    const { sns, route53, events, handler } = setup();
    const record = streamRecord(switchRecord('mymaster 10.0.0.1 6379 10.0.0.2'));
    expect(await handler({ Records: [record] }, context)).toEqual({ batchItemFailures: [] });
    expect([sns.calls.length, route53.calls.length, events.calls.length]).toEqual([1, 0, 0]);
    expect(logs.join('')).toContain('malformed +switch-master payload');
  });

  it('a master name that cannot be a DNS label: logged, no Route 53 call, not retried', async () => {
    const { route53, events, handler } = setup();
    const record = streamRecord(switchRecord('my.master 10.0.0.1 6379 10.0.0.2 6380', 'my.master'));
    expect(await handler({ Records: [record] }, context)).toEqual({ batchItemFailures: [] });
    expect([route53.calls.length, events.calls.length]).toEqual([0, 1]);
    expect(logs.join('')).toContain('no Route 53 update');
  });
});
