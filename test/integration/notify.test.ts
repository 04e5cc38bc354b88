/**
 * functions/notify.ts on stream records built from real items (written by DynamoEventLog to DynamoDB
 * Local, read back, marshalled as a NEW_AND_OLD_IMAGES stream delivers them), publishing through the real
 * @aws-sdk/client-sns to the fake SNS on node:http, with its markers in DynamoDB Local.
 */
import { randomUUID } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import {
  createNotifyHandler,
  type NotifyDeps,
  notifyDepsFromEnv,
  notifyLogger,
} from '../../functions/notify.js';
import { createDynamoClient } from '../../lib/adapters/dynamodb/client.js';
import {
  DynamoEventLog,
  DynamoNotifyMarkers,
  EVENT_KEY,
  eventFromItem,
  eventToItem,
} from '../../lib/adapters/dynamodb/eventLog.js';
import { createTable } from '../../lib/adapters/dynamodb/schema.js';
import type { SentinelEvent } from '../../lib/core/types.js';
import { alertKey, type EventRecord, type NotifyMarkers, toEventRecord } from '../../lib/eventLog.js';
import { describeNotifyMarkersContract } from '../contract/notifyMarkers.contract.js';
import { type FakeSns, startFakeSns } from '../support/fakeSns.js';

const SECRET = 'Zq7-notify-secret-pass';
const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
const TABLE_ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026-11-25T00:00:00.000';

let dynamo: DynamoDBDocumentClient;
let table: string;
let sns: FakeSns;
let snsClient: SNSClient;
let topicArn: string;
/** Every line the handlers logged (stdout and stderr). */
let stdout: string[] = [];

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
  dynamo = createDynamoClient({ endpoint: inject('dynamodbEndpoint') });
  table = `t-${randomUUID()}`;
  await createTable(dynamo, table, { stream: true });
  sns = await startFakeSns();
  snsClient = new SNSClient({
    endpoint: sns.endpoint,
    region: REGION,
    credentials: CREDENTIALS,
    maxAttempts: 1,
  });
  topicArn =
    (await snsClient.send(new CreateTopicCommand({ Name: 'lambda-sentinel-alerts' }))).TopicArn ?? '';
});

afterAll(async () => {
  snsClient?.destroy();
  await sns?.close();
  dynamo?.destroy();
});

beforeEach(() => {
  sns.messages.length = 0;
  sns.attempts.length = 0;
  sns.failWhen = () => false;
  stdout = [];
  // Powertools writes info/debug to stdout and warn/error to stderr: capture both.
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdout.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    });
  }
});

afterEach(() => {
  vi.restoreAllMocks();
});

function context(remainingMs = 60_000): Context {
  return {
    awsRequestId: randomUUID(),
    functionName: 'lambda-sentinel-dev-notify',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:lambda-sentinel-dev-notify',
    memoryLimitInMB: '256',
    logGroupName: '/aws/lambda/lambda-sentinel-dev-notify',
    logStreamName: 'stream',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => remainingMs,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

let sequence = 1_000;
/** A stream record as Lambda delivers it (NEW_AND_OLD_IMAGES). */
function streamRecord(
  item: Record<string, unknown>,
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE' = 'INSERT',
  options: { withoutNewImage?: boolean } = {},
): DynamoDBRecord {
  const seq = String(sequence++).padStart(21, '0');
  const image = marshall(item, { removeUndefinedValues: true }) as Record<string, AttributeValue>;
  return {
    eventID: randomUUID().replace(/-/g, ''),
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: REGION,
    eventSourceARN: TABLE_ARN,
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
      Keys: marshall({ pk: item.pk, sk: item.sk }) as never,
      ...(eventName !== 'REMOVE' && !options.withoutNewImage ? { NewImage: image as never } : {}),
      ...(eventName !== 'INSERT' ? { OldImage: image as never } : {}),
      SequenceNumber: seq,
      SizeBytes: 200,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

const batch = (records: DynamoDBRecord[]): DynamoDBStreamEvent => ({ Records: records });

let seqCounter = 0;
function makeRecord(
  type: string,
  payload: string,
  master: string | null,
  options: { level?: SentinelEvent['level']; sentinelId?: string; epoch?: number | null; at?: number } = {},
): EventRecord {
  return toEventRecord(
    { type, level: options.level ?? 'warning', payload, master, at: options.at ?? Date.now() },
    {
      sentinelId: options.sentinelId ?? 'sentinel-a',
      seq: seqCounter++,
      epoch: options.epoch === undefined ? 1 : options.epoch,
    },
  );
}

/** Appends through the real log, then reads the stored `event` item back: what the stream would carry. */
async function storedItem(record: EventRecord): Promise<Record<string, unknown>> {
  await new DynamoEventLog(dynamo, table, { secrets: [SECRET] }).append(record);
  const page = await dynamo.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'pk = :pk',
      FilterExpression: 'id = :id',
      ExpressionAttributeValues: { ':pk': EVENT_KEY.allPk, ':id': record.id },
      ConsistentRead: true,
    }),
  );
  const item = page.Items?.[0];
  if (!item) throw new Error(`no stored item for ${record.id}`);
  return item;
}

function deps(overrides: Partial<NotifyDeps> = {}): NotifyDeps {
  return { sns: snsClient, topicArn, markers: new DynamoNotifyMarkers(dynamo, table), ...overrides };
}

const handlerWith = (d: NotifyDeps = deps()) => createNotifyHandler(d, notifyLogger());

describe('notify: what gets published', () => {
  it('publishes warning events with subject, body and attributes; ignores the rest', async () => {
    const master = `m${randomUUID().slice(0, 6)}`;
    const sdown = makeRecord('+sdown', `master ${master} 10.0.0.1 6379`, master, { epoch: 0 });
    const switched = makeRecord('+switch-master', `${master} 10.0.0.1 6379 10.0.0.2 6380`, master, {
      epoch: 3,
      sentinelId: 'sentinel-b',
    });
    const replica = makeRecord(
      '+slave',
      `slave 10.0.0.3:6379 10.0.0.3 6379 @ ${master} 10.0.0.1 6379`,
      master,
      {
        level: 'notice',
      },
    );
    const tilt = makeRecord('+tilt', '#tilt mode entered', null, { epoch: null, sentinelId: 'sentinel-c' });
    const sdownItem = await storedItem(sdown);
    const records = [
      streamRecord(sdownItem),
      // Not events: a vote, a master record update, the per-master copy, a marker, a TTL removal.
      streamRecord({ pk: `MASTER#${master}`, sk: 'VOTE#sentinel-a', kind: 'vote', down: true }),
      streamRecord({ pk: `MASTER#${master}`, sk: 'RECORD', kind: 'master', currentEpoch: 1 }, 'MODIFY'),
      streamRecord({ ...sdownItem, pk: `EVENTS#${master}`, kind: 'event-by-master' }),
      streamRecord({ pk: 'NOTIFIED#x', sk: 'sns', kind: 'notified' }),
      streamRecord(sdownItem, 'REMOVE'),
      streamRecord(sdownItem, 'MODIFY'),
      streamRecord(await storedItem(switched)),
      streamRecord(await storedItem(replica)),
      streamRecord(await storedItem(tilt)),
    ];
    const result = await handlerWith()(batch(records), context());
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sns.messages.map((m) => m.subject)).toEqual([
      `[lambda-sentinel] ${master}: +sdown`,
      `[lambda-sentinel] ${master}: +switch-master -> 10.0.0.2:6380`,
      '[lambda-sentinel] +tilt (sentinel-c)',
    ]);
    const [first, second, third] = sns.messages;
    expect(first?.topicArn).toBe(topicArn);
    expect(first?.attributes).toEqual({
      event: { type: 'String', value: '+sdown' },
      master: { type: 'String', value: master },
      level: { type: 'String', value: 'warning' },
      sentinel: { type: 'String', value: 'sentinel-a' },
      epoch: { type: 'Number', value: '0' },
      time: { type: 'String', value: new Date(sdown.at).toISOString() },
      eventId: { type: 'String', value: sdown.id },
    });
    expect(second?.message.split('\n')).toEqual([
      `+switch-master ${master} 10.0.0.1 6379 10.0.0.2 6380`,
      '',
      `The master ${master} moved from 10.0.0.1:6379 to 10.0.0.2:6380: clients must now use the new address.`,
      '',
      `time:     ${new Date(switched.at).toISOString()}`,
      `master:   ${master}`,
      'sentinel: sentinel-b',
      'epoch:    3',
      'level:    warning',
      `event id: ${switched.id}`,
      '',
    ]);
    // A masterless event has no master attribute (filter policies can use {"exists": false}).
    expect(third?.attributes.master).toBeUndefined();
    expect(third?.attributes.epoch).toBeUndefined();
  });

  it('the level filter and the allow / deny lists come from the environment', async () => {
    const master = `m${randomUUID().slice(0, 6)}`;
    const env = { TABLE_NAME: table, TOPIC_ARN: topicArn };
    const notice = makeRecord(
      '+slave',
      `slave 10.0.0.3:6379 10.0.0.3 6379 @ ${master} 10.0.0.1 6379`,
      master,
      {
        level: 'notice',
      },
    );
    const verbose = makeRecord(
      '+role-change',
      `slave 10.0.0.3:6379 10.0.0.3 6379 @ ${master} 10.0.0.1 6379 new reported role is master`,
      master,
      {
        level: 'verbose',
      },
    );
    const vote = makeRecord('+vote-for-leader', 'sentinel-a 1', master);
    const items = [await storedItem(notice), await storedItem(verbose), await storedItem(vote)];

    const run = async (extra: Record<string, string>) => {
      sns.messages.length = 0;
      const fromEnv = notifyDepsFromEnv({ ...env, ...extra });
      // Fresh markers each time: this test is about the filter, not about duplicates.
      const markers: NotifyMarkers = {
        done: async () => new Set(),
        mark: async () => {},
        claim: async () => ({ status: 'claimed' }),
        confirm: async () => true,
        release: async () => {},
      };
      await handlerWith({ ...fromEnv, sns: snsClient, markers })(
        batch(items.map((i) => streamRecord(i))),
        context(),
      );
      return sns.messages.map((m) => m.attributes.event?.value);
    };
    expect(await run({})).toEqual(['+vote-for-leader']);
    expect(await run({ NOTIFY_MIN_LEVEL: 'notice' })).toEqual(['+slave', '+vote-for-leader']);
    expect(
      await run({ NOTIFY_MIN_LEVEL: 'VERBOSE', NOTIFY_EXCLUDE_EVENTS: '+vote-for-leader, +slave' }),
    ).toEqual(['+role-change']);
    expect(await run({ NOTIFY_EVENTS: '+role-change', NOTIFY_EXCLUDE_EVENTS: '+vote-for-leader' })).toEqual([
      '+role-change',
    ]);
    expect(() => notifyDepsFromEnv({ ...env, NOTIFY_MIN_LEVEL: 'loud' })).toThrow(/not a level/);
    expect(() => notifyDepsFromEnv({ ...env, NOTIFY_EVENTS: 'sdown' })).toThrow(/not an event type/);
    expect(() => notifyDepsFromEnv({ TOPIC_ARN: topicArn })).toThrow(/TABLE_NAME is required/);
  });
});

describe('notify: partial batch failures and exactly-once publishing', () => {
  it('one failing publish: earlier ones go out, it and every later record are reported; the redelivery publishes each once', async () => {
    const master = `m${randomUUID().slice(0, 6)}`;
    const events = [
      makeRecord('+sdown', `master ${master} 10.0.0.1 6379`, master),
      makeRecord('+odown', `master ${master} 10.0.0.1 6379 #quorum 2/2`, master),
      makeRecord('+new-epoch', '1', master),
      makeRecord('+try-failover', `master ${master} 10.0.0.1 6379`, master),
      makeRecord('+elected-leader', `master ${master} 10.0.0.1 6379`, master),
    ];
    const records = [];
    for (const e of events) records.push(streamRecord(await storedItem(e)));
    // A vote in the middle: ignored, but as a later record it is reported too (stream checkpointing).
    records.splice(3, 0, streamRecord({ pk: `MASTER#${master}`, sk: 'VOTE#sentinel-b', kind: 'vote' }));
    const handler = handlerWith();

    sns.failWhen = ({ message }) => message.startsWith('+new-epoch ');
    const first = await handler(batch(records), context());
    expect(first.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(
      records.slice(2).map((r) => r.dynamodb?.SequenceNumber),
    );
    expect(sns.messages.map((m) => m.attributes.event?.value)).toEqual(['+sdown', '+odown']);
    // Nothing after the failure was even tried (order is kept).
    expect(sns.attempts.map((m) => m.split(' ')[0])).toEqual(['+sdown', '+odown', '+new-epoch']);
    expect(stdout.join('')).toContain('record failed: it and the rest of the batch will be retried');

    // Still failing: reported again, nothing new published.
    const second = await handler(batch(records.slice(2)), context());
    expect(second.batchItemFailures).toHaveLength(4);
    expect(sns.messages).toHaveLength(2);

    // SNS recovers. Lambda redelivers from the checkpoint; a whole-batch redelivery (e.g. after a
    // timeout or bisecting) is also safe: the markers stop the first two from going out again.
    sns.failWhen = () => false;
    expect(await handler(batch(records.slice(2)), context())).toEqual({ batchItemFailures: [] });
    expect(await handler(batch(records), context())).toEqual({ batchItemFailures: [] });
    expect(sns.messages.map((m) => m.attributes.event?.value)).toEqual([
      '+sdown',
      '+odown',
      '+new-epoch',
      '+try-failover',
      '+elected-leader',
    ]);
  });

  it('a record delivered twice in one batch, or in two invocations, is published once', async () => {
    const master = `m${randomUUID().slice(0, 6)}`;
    const item = await storedItem(makeRecord('+sdown', `master ${master} 10.0.0.1 6379`, master));
    const handler = handlerWith();
    await handler(batch([streamRecord(item), streamRecord(item)]), context());
    await handler(batch([streamRecord(item)]), context());
    // A second container (its own clients) sees the same markers.
    await handlerWith(deps({ markers: new DynamoNotifyMarkers(dynamo, table) }))(
      batch([streamRecord(item)]),
      context(),
    );
    expect(sns.messages).toHaveLength(1);
    expect(stdout.join('')).toContain('already done, skipped');
  });

  it('the same alert from three sentinels is published once; again after the window, or in a new epoch', async () => {
    const master = `m${randomUUID().slice(0, 6)}`;
    const payload = `${master} 10.0.0.1 6379 10.0.0.2 6379`;
    const at = Date.now();
    const fromEach = await Promise.all(
      ['sentinel-a', 'sentinel-b', 'sentinel-c'].map((sentinelId, i) =>
        storedItem(makeRecord('+switch-master', payload, master, { sentinelId, at: at + i })),
      ),
    );
    const handler = handlerWith();
    await handler(batch(fromEach.map((item) => streamRecord(item))), context());
    expect(sns.messages).toHaveLength(1);
    expect(stdout.join('')).toContain('the same alert was raised by another sentinel');
    // The sending event redelivered with its done marker lost: its confirmed claim says it was sent.
    const first = fromEach[0] as Record<string, unknown>;
    const real = new DynamoNotifyMarkers(dynamo, table);
    stdout = [];
    const redelivered = await handlerWith(
      deps({
        markers: {
          done: async () => new Set(),
          mark: async () => {},
          claim: (request) => real.claim(request),
          confirm: (claim) => real.confirm(claim),
          release: (claim) => real.release(claim),
        },
      }),
    )(batch([streamRecord(first)]), context());
    expect(redelivered.batchItemFailures).toEqual([]);
    expect(sns.messages).toHaveLength(1);
    expect(stdout.join('')).toContain('already done, skipped');
    // Past the window, the same fact is news again; a new epoch is another failover.
    const later = await storedItem(
      makeRecord('+switch-master', payload, master, { sentinelId: 'sentinel-b', at: at + 61_000 }),
    );
    const nextEpoch = await storedItem(
      makeRecord('+switch-master', payload, master, { sentinelId: 'sentinel-c', at: at + 2, epoch: 2 }),
    );
    await handler(batch([streamRecord(later), streamRecord(nextEpoch)]), context());
    expect(sns.messages).toHaveLength(3);
  });

  it('a marker that cannot be written after a publish is logged, not reported (reporting would repeat it)', async () => {
    const master = `m${randomUUID().slice(0, 6)}`;
    const item = await storedItem(makeRecord('+sdown', `master ${master} 10.0.0.1 6379`, master));
    const real = new DynamoNotifyMarkers(dynamo, table);
    const markers: NotifyMarkers = {
      done: (id) => real.done(id),
      mark: async () => {
        throw new Error('throttled');
      },
      claim: (request) => real.claim(request),
      confirm: (claim) => real.confirm(claim),
      release: (claim) => real.release(claim),
    };
    const result = await handlerWith(deps({ markers }))(batch([streamRecord(item)]), context());
    expect(result.batchItemFailures).toEqual([]);
    expect(sns.messages).toHaveLength(1);
    expect(stdout.join('')).toContain('action done but its marker was not written');
  });

  it('markers unreadable: nothing is published, the record is reported for a retry', async () => {
    const master = `m${randomUUID().slice(0, 6)}`;
    const item = await storedItem(makeRecord('+sdown', `master ${master} 10.0.0.1 6379`, master));
    const result = await handlerWith(deps({ markers: new DynamoNotifyMarkers(dynamo, 'no-such-table') }))(
      batch([streamRecord(item)]),
      context(),
    );
    expect(result.batchItemFailures).toHaveLength(1);
    expect(sns.messages).toHaveLength(0);
  });

  it('malformed stream records are reported, never thrown', async () => {
    const master = `m${randomUUID().slice(0, 6)}`;
    const good = await storedItem(makeRecord('+sdown', `master ${master} 10.0.0.1 6379`, master));
    const later = await storedItem(makeRecord('-sdown', `master ${master} 10.0.0.1 6379`, master));
    const bad = streamRecord({ ...good, level: 'loud', id: 'bad-1' });
    const handler = handlerWith();
    const result = await handler(batch([streamRecord(good), bad, streamRecord(later)]), context());
    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([
      bad.dynamodb?.SequenceNumber,
      expect.any(String),
    ]);
    expect(sns.messages.map((m) => m.attributes.event?.value)).toEqual(['+sdown']);
    expect(stdout.join('')).toMatch(/Malformed event item.*attribute \\?"level\\?"/);

    const noImage = streamRecord(good, 'INSERT', { withoutNewImage: true });
    expect((await handler(batch([noImage]), context())).batchItemFailures).toEqual([
      { itemIdentifier: noImage.dynamodb?.SequenceNumber },
    ]);
    const garbage = {
      ...streamRecord(good),
      dynamodb: { NewImage: { kind: { Q: 'what' } } },
    } as unknown as DynamoDBRecord;
    expect((await handler(batch([garbage]), context())).batchItemFailures).toHaveLength(1);
    expect(await handler({} as DynamoDBStreamEvent, context())).toEqual({ batchItemFailures: [] });
  });
});

describe('notify: alerts are never lost', () => {
  /** The three sentinels' +switch-master of one failover, stored; stream records in write order. */
  async function threeCopies(master: string) {
    const payload = `${master} 10.0.0.1 6379 10.0.0.2 6379`;
    const at = Date.now();
    const items = [];
    for (const [i, sentinelId] of ['sentinel-a', 'sentinel-b', 'sentinel-c'].entries()) {
      items.push(await storedItem(makeRecord('+switch-master', payload, master, { sentinelId, at: at + i })));
    }
    return items.map((item) => streamRecord(item));
  }
  const senders = () => sns.messages.map((m) => m.attributes.sentinel?.value);

  it('a failed SNS publish is retried and the alert goes out exactly once', async () => {
    const master = `m${randomUUID().slice(0, 6)}`;
    const records = await threeCopies(master);
    const handler = handlerWith();
    let failures = 2;
    sns.failWhen = () => failures-- > 0;
    // Fails at the first copy: it and the later ones are reported, nothing is published.
    for (let i = 0; i < 2; i++) {
      const failed = await handler(batch(records), context());
      expect(failed.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(
        records.map((r) => r.dynamodb?.SequenceNumber),
      );
    }
    expect(sns.messages).toEqual([]);
    // The retry goes out, the other copies find it sent; a later redelivery changes nothing.
    expect(await handler(batch(records), context())).toEqual({ batchItemFailures: [] });
    expect(await handler(batch(records), context())).toEqual({ batchItemFailures: [] });
    expect(senders()).toEqual(['sentinel-a']);
    expect(sns.attempts).toHaveLength(3);
    expect(stdout.join('')).toContain('the same alert was raised by another sentinel; not repeated');
  });

  it("a copy that fails until Lambda gives up on it does not stop the other sentinels' copy from alerting", async () => {
    const master = `m${randomUUID().slice(0, 6)}`;
    const [a, b, c] = (await threeCopies(master)) as [DynamoDBRecord, DynamoDBRecord, DynamoDBRecord];
    const handler = handlerWith();
    // Something about sentinel-a's copy makes every publish of it fail (SNS refuses it).
    sns.failWhen = ({ message }) => message.includes('sentinel: sentinel-a');
    for (let attempt = 0; attempt < 3; attempt++) {
      expect((await handler(batch([a, b, c]), context())).batchItemFailures).toHaveLength(3);
    }
    expect(sns.messages).toEqual([]);
    // Retries exhausted: Lambda sends the failed record to the dead-letter queue and goes on after it.
    expect(await handler(batch([b, c]), context())).toEqual({ batchItemFailures: [] });
    expect(senders()).toEqual(['sentinel-b']);
  });

  it("a copy whose release was lost alerts once the failed holder's invocation is over (its claim lapses)", async () => {
    const master = `m${randomUUID().slice(0, 6)}`;
    const [a, b, c] = (await threeCopies(master)) as [DynamoDBRecord, DynamoDBRecord, DynamoDBRecord];
    const real = new DynamoNotifyMarkers(dynamo, table);
    let clock = Date.now();
    const fakeTime = {
      now: () => clock,
      sleep: async (ms: number) => {
        clock += ms;
      },
    };
    // The holder crashed between its failed publish and its release (here: the release is lost).
    const releaseLost: NotifyMarkers = {
      done: (id) => real.done(id),
      mark: (id, action, now) => real.mark(id, action, now),
      claim: (request) => real.claim(request),
      confirm: (claim) => real.confirm(claim),
      release: async () => {
        throw new Error('connection reset');
      },
    };
    sns.failWhen = ({ message }) => message.includes('sentinel: sentinel-a');
    const holder = await handlerWith(deps({ markers: releaseLost, ...fakeTime }))(
      batch([a, b, c]),
      context(20_000),
    );
    expect(holder.batchItemFailures).toHaveLength(3);
    expect(stdout.join('')).toContain('action failed and its claim was not released');
    const handler = handlerWith(deps(fakeTime));
    // Lambda gave up on the holder's record; the next invocation still sees the claim pending. It waits
    // (with its own deadline in view) and reports the copy for a retry instead of dropping it.
    clock += 1_000;
    stdout = [];
    expect((await handler(batch([b, c]), context(5_000))).batchItemFailures).toHaveLength(2);
    expect(stdout.join('')).toContain('the same alert is being sent for another event; waiting');
    expect(sns.messages).toEqual([]);
    // Past the holder's deadline (20 s) plus the margin, the claim has lapsed: the copy alerts.
    clock += 25_000;
    expect(await handler(batch([b, c]), context(5_000))).toEqual({ batchItemFailures: [] });
    expect(senders()).toEqual(['sentinel-b']);
  });

  it('a copy that meets a live pending claim waits for its outcome: skipped when it is sent, sent when it is released', async () => {
    for (const outcome of ['sent', 'released'] as const) {
      sns.messages.length = 0;
      const master = `m${randomUUID().slice(0, 6)}`;
      const [, b] = (await threeCopies(master)) as [DynamoDBRecord, DynamoDBRecord, DynamoDBRecord];
      const real = new DynamoNotifyMarkers(dynamo, table);
      // Another invocation (as if two ran at once) holds sentinel-a's claim while it publishes.
      const key = alertKey(eventFromItem(unmarshall(b.dynamodb?.NewImage as never)));
      const holder = { key, action: 'sns', eventId: 'other-invocation', at: Date.now() };
      const now = Date.now();
      expect(await real.claim({ ...holder, windowMs: 60_000, now, holdUntil: now + 30_000 })).toEqual({
        status: 'claimed',
      });
      let waits = 0;
      const sleep = async () => {
        waits += 1;
        if (outcome === 'sent') await real.confirm(holder);
        else await real.release(holder);
      };
      expect(await handlerWith(deps({ sleep }))(batch([b]), context())).toEqual({ batchItemFailures: [] });
      expect(waits).toBe(1);
      expect(senders()).toEqual(outcome === 'sent' ? [] : ['sentinel-b']);
    }
  });

  it('an event without a master is about its sentinel: two sentinels entering TILT are two alerts', async () => {
    const at = Date.now();
    const tilts = [];
    // Fresh sentinel ids: the first test of this file also alerts a +tilt of sentinel-c.
    const ids = ['a', 'c'].map((x) => `sentinel-${x}-${randomUUID().slice(0, 6)}`);
    for (const sentinelId of ids) {
      tilts.push(
        await storedItem(
          makeRecord('+tilt', '#tilt mode entered', null, { sentinelId, epoch: null, at: at + 1 }),
        ),
      );
    }
    await handlerWith()(batch(tilts.map((t) => streamRecord(t))), context());
    expect(senders()).toEqual(ids);
  });
});

describeNotifyMarkersContract('DynamoDB Local', () => new DynamoNotifyMarkers(dynamo, table));

describe('notify: secrets', () => {
  it('an auth-pass value reaches no message, no log line and no stored event', async () => {
    const master = `m${randomUUID().slice(0, 6)}`;
    const set = makeRecord('+set', `master ${master} 10.0.0.1 6379 auth-pass ${SECRET}`, master);
    const item = await storedItem(set);
    expect(JSON.stringify(item)).not.toContain(SECRET);
    // A writer that forgot to redact (an item not written by DynamoEventLog): the notifier still hides it.
    // (In another epoch, so it is not the same alert as the first one and is published too.)
    const raw = makeRecord('+set', `master ${master} 10.0.0.1 6379 auth-pass ${SECRET}`, master, {
      epoch: 2,
    });
    // And a malformed record that quotes it, so it ends up in an error message.
    const bad = streamRecord({ ...eventToItem(raw), id: 'bad-2', level: `auth-pass ${SECRET}` });
    const result = await handlerWith()(
      batch([streamRecord(item), streamRecord(eventToItem(raw)), bad]),
      context(),
    );
    expect(result.batchItemFailures).toHaveLength(1);
    expect(sns.messages).toHaveLength(2);
    for (const m of sns.messages) {
      expect(m.message.split('\n')[0]).toBe(`+set master ${master} 10.0.0.1 6379 auth-pass ******`);
    }
    expect(JSON.stringify(sns.messages)).not.toContain(SECRET);
    expect(stdout.length).toBeGreaterThan(0);
    expect(stdout.join('')).not.toContain(SECRET);
    const stored = await new DynamoEventLog(dynamo, table).list({ master });
    expect(stored.find((r) => r.id === set.id)?.payload).toContain('auth-pass ******');
  });
});

describe('notify: the default handler', () => {
  it('builds its clients from the environment once per container', async () => {
    const master = `m${randomUUID().slice(0, 6)}`;
    Object.assign(process.env, {
      TABLE_NAME: table,
      TOPIC_ARN: topicArn,
      SNS_ENDPOINT: sns.endpoint,
      DYNAMODB_ENDPOINT: inject('dynamodbEndpoint'),
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    });
    const { handler } = await import('../../functions/notify.js');
    const item = await storedItem(makeRecord('+odown', `master ${master} 10.0.0.1 6379 #quorum 2/2`, master));
    expect(await handler(batch([streamRecord(item)]), context())).toEqual({ batchItemFailures: [] });
    expect(await handler(batch([streamRecord(item)]), context())).toEqual({ batchItemFailures: [] });
    expect(sns.messages.map((m) => m.subject)).toEqual([`[lambda-sentinel] ${master}: +odown`]);
  });
});
