/**
 * The API function (functions/api.ts) invoked as Lambda invokes it from a function URL (payload 2.0),
 * over DynamoDB Local: IAM decides writes, base64 bodies are decoded, long polls end before the
 * function's deadline, and a bad deployment or an unreachable store fails the way the contract says.
 */
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { ApiUrlEvent } from '../../functions/api.js';
import { createDynamoClient } from '../../lib/adapters/dynamodb/client.js';
import { DynamoEventLog } from '../../lib/adapters/dynamodb/eventLog.js';
import { createTable } from '../../lib/adapters/dynamodb/schema.js';
import { DynamoStore } from '../../lib/adapters/dynamodb/store.js';
import { runIdOf } from '../../lib/commands/view.js';
import { PACKAGE_VERSION } from '../../lib/http/version.js';
import { lambdaContext } from '../support/lambdaContext.js';
import { eventRecord, switchMaster } from '../unit/http/apiFixtures.js';

type Handler = typeof import('../../functions/api.js')['handler'];

const DOMAIN = 'abcdefghijklmnopqrstuvwxyz.lambda-url.eu-west-1.on.aws';
const CONFIG = [
  'sentinel monitor mymaster 127.0.0.1 7000 2',
  'sentinel down-after-milliseconds mymaster 1000',
].join('\n');
const IAM_CALLER = {
  accessKey: 'ASIAEXAMPLE',
  accountId: '123456789012',
  callerId: 'AROAEXAMPLE:ops',
  cognitoIdentity: null,
  principalOrgId: null,
  userArn: 'arn:aws:sts::123456789012:assumed-role/ops/ops',
  userId: 'AROAEXAMPLE:ops',
};

interface UrlRequest {
  readonly method: string;
  readonly path: string;
  readonly query?: string;
  readonly body?: string;
  readonly base64?: boolean;
  /** The URL's auth type is AWS_IAM and the request was signed: the context carries the caller. */
  readonly iam?: boolean;
  readonly authorizer?: unknown;
}

/** A function URL event as Lambda sends it (payload format 2.0). */
function urlEvent(request: UrlRequest): ApiUrlEvent {
  const body =
    request.body === undefined
      ? undefined
      : request.base64
        ? Buffer.from(request.body, 'utf8').toString('base64')
        : request.body;
  const authorizer = request.iam ? { iam: IAM_CALLER } : request.authorizer;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: request.path,
    rawQueryString: request.query ?? '',
    headers: { host: DOMAIN, 'content-type': 'application/json', 'x-forwarded-proto': 'https' },
    ...(request.query
      ? { queryStringParameters: Object.fromEntries(new URLSearchParams(request.query)) }
      : {}),
    requestContext: {
      accountId: request.iam ? IAM_CALLER.accountId : 'anonymous',
      apiId: 'abcdefghijklmnopqrstuvwxyz',
      domainName: DOMAIN,
      domainPrefix: 'abcdefghijklmnopqrstuvwxyz',
      http: {
        method: request.method,
        path: decodeURIComponent(request.path),
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.7',
        userAgent: 'test',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
      ...(authorizer === undefined ? {} : { authorizer: authorizer as { iam?: unknown } }),
    },
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: request.base64 === true,
  };
}

interface Reply {
  readonly status: number;
  readonly headers: Record<string, unknown>;
  readonly json: Record<string, unknown>;
}

async function invoke(handler: Handler, request: UrlRequest, remainingMs = 30_000): Promise<Reply> {
  const result = (await handler(urlEvent(request), lambdaContext('lambda-sentinel-dev-api', remainingMs))) as
    | APIGatewayProxyStructuredResultV2
    | undefined;
  expect(result?.isBase64Encoded).toBe(false);
  return {
    status: result?.statusCode ?? 0,
    headers: (result?.headers ?? {}) as Record<string, unknown>,
    json: JSON.parse(result?.body ?? 'null') as Record<string, unknown>,
  };
}

/** A fresh copy of the module, so its per-container state starts over with the environment set now. */
async function freshHandler(env: Record<string, string | undefined>): Promise<Handler> {
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  vi.resetModules();
  return (await import('../../functions/api.js')).handler;
}

let endpoint: string;
let table: string;
let store: DynamoStore;
let eventLog: DynamoEventLog;
let handler: Handler;

beforeAll(async () => {
  endpoint = inject('dynamodbEndpoint');
  table = `t-${randomUUID()}`;
  await createTable(createDynamoClient({ endpoint }), table);
  store = new DynamoStore(createDynamoClient({ endpoint }), table);
  eventLog = new DynamoEventLog(createDynamoClient({ endpoint }), table);
  process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
  handler = await freshHandler({
    TABLE_NAME: table,
    DYNAMODB_ENDPOINT: endpoint,
    SENTINEL_CONFIG: CONFIG,
    SENTINEL_CONFIG_FILE: undefined,
  });
  await store.ensureMaster({ name: 'mymaster', host: '127.0.0.1', port: 7000, now: Date.now() });
});

describe('functions/api handler (function URL, DynamoDB Local)', () => {
  it('answers reads without IAM auth (a read-only URL with auth NONE)', async () => {
    const root = await invoke(handler, { method: 'GET', path: '/v1' });
    expect(root.status).toBe(200);
    expect(root.json).toEqual({ myid: runIdOf('sentinel-a'), version: PACKAGE_VERSION });
    expect(root.headers['content-type']).toBe('application/json');

    const master = await invoke(handler, { method: 'GET', path: '/v1/masters/mymaster' });
    expect(master.json).toMatchObject({ name: 'mymaster', ip: '127.0.0.1', port: '7000', quorum: '2' });
    const address = await invoke(handler, { method: 'GET', path: '/v1/masters/mymaster/address' });
    expect(address.json).toEqual({ ip: '127.0.0.1', port: 7000, epoch: 0 });
    const sentinels = await invoke(handler, { method: 'GET', path: '/v1/masters/mymaster/sentinels' });
    // The sentinels are shown at the URL's own address.
    expect((sentinels.json.sentinels as Array<Record<string, string>>)[0]).toMatchObject({
      ip: DOMAIN,
      port: '443',
    });
    const unknown = await invoke(handler, { method: 'GET', path: '/v1/masters/nope' });
    expect(unknown.status).toBe(404);
    expect(unknown.json.code).toBe('NOSUCHMASTER');
  });

  it('refuses every write without the IAM identity in the request context, and changes nothing', async () => {
    const before = await store.getMaster('mymaster');
    const writes: UrlRequest[] = [
      { method: 'PATCH', path: '/v1/masters/mymaster', body: JSON.stringify({ set: [['quorum', '3']] }) },
      { method: 'POST', path: '/v1/masters/mymaster/failover' },
      { method: 'DELETE', path: '/v1/masters/mymaster' },
      { method: 'POST', path: '/v1/reset', body: JSON.stringify({ pattern: '*' }) },
      {
        method: 'POST',
        path: '/v1/masters',
        body: JSON.stringify({ name: 'cache-1', ip: '10.0.0.5', port: 6380, quorum: 2 }),
      },
    ];
    for (const request of writes) {
      for (const authorizer of [undefined, {}, { iam: null }, { jwt: { claims: {} } }]) {
        const r = await invoke(handler, { ...request, authorizer });
        expect(r.status, `${request.method} ${request.path} ${JSON.stringify(authorizer)}`).toBe(403);
        expect(r.json.code).toBe('FORBIDDEN');
      }
    }
    expect(await store.getMaster('mymaster')).toEqual(before);
    expect(await store.getMaster('cache-1')).toBeNull();
  });

  it('accepts writes with IAM auth, and decodes a base64 body', async () => {
    const set = await invoke(handler, {
      method: 'PATCH',
      path: '/v1/masters/mymaster',
      body: JSON.stringify({ set: [['down-after-milliseconds', '4000']] }),
      base64: true,
      iam: true,
    });
    expect(set.status).toBe(200);
    expect(set.json).toEqual({ ok: true });
    const master = await invoke(handler, { method: 'GET', path: '/v1/masters/mymaster' });
    expect(master.json['down-after-milliseconds']).toBe('4000');

    const monitor = await invoke(handler, {
      method: 'POST',
      path: '/v1/masters',
      body: JSON.stringify({ name: 'cache-1', ip: '10.0.0.5', port: '6380', quorum: '2' }),
      base64: true,
      iam: true,
    });
    expect(monitor.status).toBe(201);
    expect(monitor.headers.location).toBe('/v1/masters/cache-1');
    const masters = await invoke(handler, { method: 'GET', path: '/v1/masters' });
    expect((masters.json.masters as Array<Record<string, string>>).map((m) => m.name)).toEqual([
      'mymaster',
      'cache-1',
    ]);

    const garbage = await invoke(handler, {
      method: 'POST',
      path: '/v1/reset',
      body: '{"pattern": ',
      base64: true,
      iam: true,
    });
    expect(garbage.status).toBe(400);
  });

  it('reads the event log from the table', async () => {
    const now = Date.now();
    await eventLog.append(eventRecord({ at: now - 2_000, type: '+sdown' }));
    await eventLog.append(eventRecord({ at: now - 1_000, type: '+odown' }));
    const r = await invoke(handler, { method: 'GET', path: '/v1/events', query: 'master=mymaster&limit=1' });
    expect(r.status).toBe(200);
    expect((r.json.events as Array<{ type: string }>).map((e) => e.type)).toEqual(['+odown']);
    const bad = await invoke(handler, { method: 'GET', path: '/v1/events', query: 'limit=1&limit=2' });
    expect(bad.status).toBe(400);
  });

  it('a long poll answers when the epoch moves, and before the function deadline otherwise', async () => {
    await store.ensureMaster({ name: 'lp', host: '127.0.0.1', port: 7100, now: Date.now() });
    // The poll is bounded by the Lambda's remaining time (minus a margin), not by the 20 s asked for.
    const started = Date.now();
    const atDeadline = await invoke(
      handler,
      { method: 'GET', path: '/v1/masters/lp/address', query: 'after_epoch=0&wait_ms=20000' },
      2_500,
    );
    expect(atDeadline.json).toEqual({ ip: '127.0.0.1', port: 7100, epoch: 0 });
    expect(Date.now() - started).toBeLessThan(15_000);

    const poll = invoke(handler, {
      method: 'GET',
      path: '/v1/masters/lp/address',
      query: 'after_epoch=0&wait_ms=20000',
    });
    await new Promise((r) => setTimeout(r, 300));
    await switchMaster(store, 'lp', { host: '127.0.0.1', port: 7101 });
    expect((await poll).json).toEqual({ ip: '127.0.0.1', port: 7101, epoch: 1 });
  });
});

describe('functions/api handler: deployment and store failures', () => {
  it('fails every invocation with a clear error when the deployment is incomplete', async () => {
    const broken = await freshHandler({
      TABLE_NAME: undefined,
      DYNAMODB_ENDPOINT: endpoint,
      SENTINEL_CONFIG: CONFIG,
    });
    await expect(
      broken(urlEvent({ method: 'GET', path: '/v1' }), lambdaContext('api', 30_000)),
    ).rejects.toThrow('environment variable TABLE_NAME is required');
    const noConfig = await freshHandler({ TABLE_NAME: table, SENTINEL_CONFIG: undefined });
    await expect(
      noConfig(urlEvent({ method: 'GET', path: '/v1' }), lambdaContext('api', 30_000)),
    ).rejects.toThrow('SENTINEL_CONFIG');
  });

  it('answers 503 UNAVAILABLE when the table cannot be reached', async () => {
    // A port that was free a moment ago: connections are refused.
    const port = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const unreachable = await freshHandler({
      TABLE_NAME: table,
      DYNAMODB_ENDPOINT: `http://127.0.0.1:${port}`,
      SENTINEL_CONFIG: CONFIG,
    });
    const r = await invoke(unreachable, { method: 'GET', path: '/v1/masters/mymaster' });
    expect(r.status).toBe(503);
    expect(r.json).toMatchObject({ code: 'UNAVAILABLE' });
    // Writes are refused before the store is needed.
    const write = await invoke(unreachable, { method: 'DELETE', path: '/v1/masters/mymaster' });
    expect(write.status).toBe(403);
  });
});
