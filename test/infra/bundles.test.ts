/**
 * The bundles that ship (scripts/build.ts, built here into a temporary directory): each one loads in a
 * fresh Node 24 process with no environment, and its handler answers a sample event. They run for real
 * against a redis-server, DynamoDB Local (through a proxy that records what they send, checked against
 * their IAM actions), a fake SNS, a fake SSM and a fake Slack webhook.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDynamoClient } from '../../lib/adapters/dynamodb/client.js';
import { eventToItem } from '../../lib/adapters/dynamodb/eventLog.js';
import { createTable } from '../../lib/adapters/dynamodb/schema.js';
import { makeEvent } from '../../lib/core/events.js';
import { toEventRecord } from '../../lib/eventLog.js';
import { allocatePorts, type RedisHandle, startRedis } from '../../lib/runtime/redisProcess.js';
import { type BundleInfo, buildFunctions, handlerNames } from '../../scripts/build.js';
import { type FakeSlack, startFakeSlack } from '../support/fakeSlack.js';
import { type FakeSns, startFakeSns } from '../support/fakeSns.js';
import { type CountingProxy, startCountingProxy } from './dynamoProxy.js';
import {
  FAILOVER_DYNAMODB_OPERATIONS,
  NOTIFY_DYNAMODB_OPERATIONS,
  SENTINEL_DYNAMODB_OPERATIONS,
} from './expectations.js';
import { importBundle, invokeBundle, schedulerEvent } from './invokeBundle.js';

const MAX_BUNDLE_BYTES = 1024 * 1024;

let outdir: string;
let bundles: BundleInfo[];
let redis: RedisHandle | undefined;
let proxy: CountingProxy | undefined;
let table: string;
let configFile: string;
let sns: FakeSns | undefined;
let slack: FakeSlack | undefined;
let ssm: Server | undefined;

/** Credentials and region for the SDK clients of a bundle that talk to local fakes. */
const LOCAL_AWS = { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' };

const closeServer = (server: Server | undefined): Promise<void> =>
  new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));

/** The DynamoDB operations the proxy saw since the last call. */
function takeOperations(): string[] {
  const ops = [...(proxy as CountingProxy).ops.keys()];
  (proxy as CountingProxy).ops.clear();
  return ops;
}

/** A fake SSM (JSON 1.1 protocol) answering GetParameters with one SecureString value. */
async function startFakeSsm(
  parameters: Record<string, string>,
): Promise<{ server: Server; endpoint: string }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { Names?: string[] };
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      if (target !== 'AmazonSSM.GetParameters') {
        res.writeHead(400);
        res.end(JSON.stringify({ __type: 'InvalidAction', message: target }));
        return;
      }
      const names = body.Names ?? [];
      res.end(
        JSON.stringify({
          Parameters: names
            .filter((n) => n in parameters)
            .map((n) => ({ Name: n, Type: 'SecureString', Value: parameters[n], Version: 1 })),
          InvalidParameters: names.filter((n) => !(n in parameters)),
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'ls-bundles-'));
  bundles = await buildFunctions({ outdir });
  const [port] = await allocatePorts(1);
  redis = await startRedis({ port: port as number });
  const endpoint = inject('dynamodbEndpoint');
  table = `t-${randomUUID()}`;
  await createTable(createDynamoClient({ endpoint }), table, { stream: true });
  proxy = await startCountingProxy(endpoint);
  configFile = join(outdir, 'sentinel.conf');
  writeFileSync(
    configFile,
    [
      `sentinel monitor mymaster ${redis.address.host} ${redis.address.port} 2`,
      'sentinel down-after-milliseconds mymaster 1000',
      '',
    ].join('\n'),
  );
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  await Promise.all([sns?.close(), slack?.close(), closeServer(ssm)]);
  await redis?.stop();
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

const bundlePath = (name: string): string => join(outdir, `${name}.mjs`);

function sentinelEnv(): Record<string, string> {
  return {
    SENTINEL_ID: 'sentinel-b',
    TABLE_NAME: table,
    SENTINEL_CONFIG_FILE: configFile,
    DYNAMODB_ENDPOINT: (proxy as CountingProxy).endpoint,
    POWERTOOLS_LOG_LEVEL: 'INFO',
  };
}

describe('every bundle', () => {
  it('is built for each handler in functions/, under 1 MB', () => {
    expect(bundles.map((b) => b.name)).toEqual(handlerNames());
    for (const b of bundles) expect(b.bytes, b.name).toBeLessThan(MAX_BUNDLE_BYTES);
  });

  it.each(handlerNames())(
    '%s loads in a fresh process with no environment and exports a handler',
    async (name) => {
      const { initMs } = await importBundle(bundlePath(name));
      expect(initMs).toBeGreaterThan(0);
    },
  );
});

describe('the sentinel bundle', () => {
  it('probes until shortly before the deadline, logs what the alarms count, and uses only the granted DynamoDB operations', async () => {
    const lines: string[] = [];
    const run = await invokeBundle({
      bundle: bundlePath('sentinel'),
      env: sentinelEnv(),
      nodeArgs: ['--enable-source-maps'],
      event: schedulerEvent(),
      remainingMs: 4_500,
      functionName: 'lambda-sentinel-ci-sentinelB',
      onStdout: (chunk) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)),
    });
    expect(run.result).toMatchObject({ report: { end: 'deadline', resumedFromHandover: false } });
    expect((run.result as { report: { ticks: number } }).report.ticks).toBeGreaterThan(0);

    // The metric filters of infra/sentinel-<x>.yml read these fields of the JSON log records.
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.some((r) => typeof r.tick === 'number' && r.tick > 0 && r.sentinel === 'sentinel-b')).toBe(
      true,
    );
    expect(records).toContainEqual(expect.objectContaining({ event: '+monitor', master: 'mymaster' }));

    // Nothing outside the sentinel role's DynamoDB actions (test/infra/expectations.ts).
    const sent = takeOperations();
    expect(sent.length).toBeGreaterThan(0);
    for (const op of sent) expect(SENTINEL_DYNAMODB_OPERATIONS).toContain(op);
  });

  it('drops a scheduled event delivered long after its time', async () => {
    const run = await invokeBundle({
      bundle: bundlePath('sentinel'),
      env: sentinelEnv(),
      event: schedulerEvent(new Date(Date.now() - 10 * 60_000)),
      remainingMs: 4_000,
    });
    expect(run.result).toEqual({ skipped: 'late event' });
    takeOperations();
  });
});

describe('the failover bundle', () => {
  it('checks a master named in a direct invocation (no failover in progress here)', async () => {
    takeOperations();
    const run = await invokeBundle({
      bundle: bundlePath('failover'),
      env: {
        TABLE_NAME: table,
        SENTINEL_CONFIG_FILE: configFile,
        DYNAMODB_ENDPOINT: (proxy as CountingProxy).endpoint,
      },
      event: { master: 'mymaster' },
      remainingMs: 10_000,
    });
    expect(run.result).toEqual({ mymaster: 'no-failover' });
    for (const op of takeOperations()) expect(FAILOVER_DYNAMODB_OPERATIONS).toContain(op);
  });
});

describe('the notify bundle', () => {
  it('publishes an event from a stream batch to the topic and reports no failed record', async () => {
    sns = await startFakeSns();
    const client = new SNSClient({
      endpoint: sns.endpoint,
      region: LOCAL_AWS.AWS_REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const { TopicArn } = await client.send(new CreateTopicCommand({ Name: 'alerts' }));
    client.destroy();
    const record = toEventRecord(
      makeEvent('+sdown', 'master mymaster 10.0.1.10 6379', 'mymaster', Date.now()),
      {
        sentinelId: 'sentinel-a',
        seq: 1,
        epoch: 0,
      },
    );
    const item = eventToItem(record);
    const stream = {
      Records: [
        {
          eventID: '1',
          eventName: 'INSERT',
          eventSource: 'aws:dynamodb',
          dynamodb: {
            Keys: marshall({ pk: item.pk, sk: item.sk }),
            NewImage: marshall(item, { removeUndefinedValues: true }),
            SequenceNumber: '100',
            StreamViewType: 'NEW_AND_OLD_IMAGES',
          },
        },
      ],
    };
    takeOperations();
    const run = await invokeBundle({
      bundle: bundlePath('notify'),
      env: {
        ...LOCAL_AWS,
        TABLE_NAME: table,
        TOPIC_ARN: TopicArn as string,
        DYNAMODB_ENDPOINT: (proxy as CountingProxy).endpoint,
        SNS_ENDPOINT: sns.endpoint,
      },
      event: stream,
      remainingMs: 10_000,
    });
    expect(run.result).toEqual({ batchItemFailures: [] });
    expect(sns.messages).toHaveLength(1);
    expect(sns.messages[0]?.attributes.event?.value).toBe('+sdown');
    for (const op of takeOperations()) expect(NOTIFY_DYNAMODB_OPERATIONS).toContain(op);
  });
});

describe('the slack bundle', () => {
  it('reads the webhook URL from SSM and posts an SNS notification to it', async () => {
    slack = await startFakeSlack();
    const parameter = '/lambda-sentinel/ci/slack-webhook-url';
    const fake = await startFakeSsm({ [parameter]: slack.url });
    ssm = fake.server;
    const notification = {
      Records: [
        {
          EventSource: 'aws:sns',
          EventVersion: '1.0',
          EventSubscriptionArn: 'arn:aws:sns:us-east-1:123456789012:alerts:sub',
          Sns: {
            Type: 'Notification',
            MessageId: randomUUID(),
            TopicArn: 'arn:aws:sns:us-east-1:123456789012:alerts',
            Subject: '+odown mymaster',
            Message: '+odown master mymaster 10.0.1.10 6379 #quorum 2/2',
            Timestamp: new Date().toISOString(),
            MessageAttributes: {
              event: { Type: 'String', Value: '+odown' },
              master: { Type: 'String', Value: 'mymaster' },
              level: { Type: 'String', Value: 'warning' },
            },
          },
        },
      ],
    };
    const run = await invokeBundle({
      bundle: bundlePath('slack'),
      env: { ...LOCAL_AWS, SLACK_WEBHOOK_PARAMETER: parameter, AWS_ENDPOINT_URL_SSM: fake.endpoint },
      event: notification,
      remainingMs: 10_000,
    });
    expect(run.result).toEqual({ posted: 1 });
    expect(slack.posts).toHaveLength(1);
    expect(JSON.stringify(slack.posts[0]?.body)).toContain('+odown');
  });
});
