/**
 * The status page (`GET /`) and its summary (`GET /v1/status`) on both servers: the local runner's
 * (lib/http/server.ts, on a real socket) and the deployed function (functions/api.ts, invoked as a
 * function URL invokes it, over DynamoDB Local). The page holds no data and no secret; both routes take
 * the same auth as every other read: Host and users on the local server, read-only mode and IAM for
 * writes on the function.
 */
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { ApiUrlEvent } from '../../functions/api.js';
import { createDynamoClient } from '../../lib/adapters/dynamodb/client.js';
import { DynamoEventLog } from '../../lib/adapters/dynamodb/eventLog.js';
import { createTable } from '../../lib/adapters/dynamodb/schema.js';
import { DynamoStore } from '../../lib/adapters/dynamodb/store.js';
import { storeStatusSource } from '../../lib/commands/statusSource.js';
import type { StatusSummary } from '../../lib/commands/statusSummary.js';
import { parseAccessFile } from '../../lib/config/access.js';
import type { AclUserSpec } from '../../lib/core/types.js';
import { type HttpApi, startHttpApi } from '../../lib/http/server.js';
import { lambdaContext } from '../support/lambdaContext.js';
import { config, eventRecord, MASTER, storeFixture, switchMaster } from '../unit/http/apiFixtures.js';

const started: HttpApi[] = [];
afterEach(async () => {
  for (const api of started.splice(0)) await api.close();
});

/** The events of one failover of mymaster, 7000 → 7001 in epoch 1, as the sentinels log them. */
function failoverEvents(t0: number) {
  const m = `master ${MASTER.name} 127.0.0.1 7000`;
  return [
    eventRecord({ at: t0, type: '+sdown', payload: m }),
    eventRecord({ at: t0 + 30, type: '+odown', payload: `${m} #quorum 2/2` }),
    eventRecord({ at: t0 + 40, type: '+new-epoch', payload: '1' }),
    eventRecord({ at: t0 + 90, type: '+elected-leader', payload: m }),
    eventRecord({
      at: t0 + 200,
      type: '+promoted-slave',
      payload: 'slave 127.0.0.1:7001 127.0.0.1 7001 @ mymaster 127.0.0.1 7000',
    }),
    eventRecord({ at: t0 + 210, type: '+switch-master', payload: 'mymaster 127.0.0.1 7000 127.0.0.1 7001' }),
    eventRecord({ at: t0 + 400, type: '+failover-end', payload: m }),
  ];
}

/** The script's hash must be the one the page's CSP allows, or the browser would not run it. */
function scriptHash(html: string): string {
  const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
  return `'sha256-${createHash('sha256').update(script).digest('base64')}'`;
}

async function localApi(users?: readonly AclUserSpec[]) {
  const fixture = await storeFixture();
  const status = storeStatusSource(fixture.store, config, { view: fixture.view, eventLog: fixture.eventLog });
  const api = await startHttpApi({
    view: fixture.view,
    port: 0,
    status,
    log: () => {},
    ...(users ? { users } : {}),
  });
  started.push(api);
  return { ...fixture, api };
}

const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

/** A request with a Host header of the test's choosing (fetch does not let one set it). */
function rawGet(api: HttpApi, path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: api.address.port, method: 'GET', path, headers: { host } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('local HTTP API: GET / and GET /v1/status', () => {
  it('serves the page as HTML that holds no data, with a CSP that allows its own script only', async () => {
    const { api } = await localApi();
    const page = await fetch(`${api.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await page.text();
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain(`script-src ${scriptHash(html)}`);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    // Static: nothing from the store or the configuration is in it; the script fetches the summary.
    expect(html).not.toContain(MASTER.name);
    expect(html).toContain("fetch('v1/status'");
    // It only ever sets text: no way for a name from configuration or Redis to become markup.
    expect(html).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);

    expect(
      (await fetch(`${api.url}/`, { method: 'POST', headers: { 'content-type': 'application/json' } }))
        .status,
    ).toBe(405);
  });

  it('GET /v1/status: the summary, with the master, its address and a failover’s timeline', async () => {
    const { api, store, eventLog } = await localApi();
    const t0 = Date.now() - 5_000;
    for (const e of failoverEvents(t0)) await eventLog.append(e);
    await switchMaster(store, MASTER.name, { host: '127.0.0.1', port: 7001 });
    const reply = await fetch(`${api.url}/v1/status`);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('application/json');
    const summary = (await reply.json()) as StatusSummary;
    expect(summary.refreshMs).toBe(1_000);
    expect(summary.masters.map((m) => [m.name, m.ip, m.port, m.configEpoch])).toEqual([
      [MASTER.name, '127.0.0.1', 7001, 1],
    ]);
    expect(summary.sentinels.map((s) => s.id)).toEqual(['sentinel-a', 'sentinel-b', 'sentinel-c']);
    expect(summary.failovers).toHaveLength(1);
    expect(summary.failovers[0]).toMatchObject({
      master: MASTER.name,
      epoch: 1,
      from: '127.0.0.1:7000',
      to: '127.0.0.1:7001',
      outcome: 'complete',
    });
    expect(summary.failovers[0]?.steps.map((s) => s.ms)).toEqual([0, 30, 90, 200, 210, 400]);
    expect(summary.events.map((e) => e.type)).toContain('+switch-master');

    const bad = await fetch(`${api.url}/v1/status?watch=1`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      code: 'INVALID',
      error: "Unknown query parameter 'watch': this route takes none",
    });
  });

  it('takes the same auth as every read: Host, users (401 prompts the browser), and permissions', async () => {
    const users = parseAccessFile(
      [
        'requirepass s3cret',
        'user reader on >r3ad &* +@read',
        'user lookup-only on >l +sentinel|get-master-addr-by-name',
        'user no-events on >n +sentinel|masters +sentinel|replicas +sentinel|sentinels',
      ].join('\n'),
      'users',
    ).access.users;
    const { api } = await localApi(users);

    // A DNS-rebinding page sends its own name: refused before anything else.
    expect(await rawGet(api, '/', 'attacker.example')).toBe(403);
    expect(await rawGet(api, '/v1/status', 'attacker.example')).toBe(403);

    for (const path of ['/', '/v1/status']) {
      const anonymous = await fetch(`${api.url}${path}`);
      expect(anonymous.status, path).toBe(401);
      // What makes a browser ask for the user and password, and then send them with the page's requests.
      expect(anonymous.headers.get('www-authenticate')).toBe(
        'Basic realm="lambda-sentinel", charset="UTF-8"',
      );
      expect((await fetch(`${api.url}${path}`, { headers: basic('reader', 'wrong') })).status).toBe(401);
      expect((await fetch(`${api.url}${path}`, { headers: basic('reader', 'r3ad') })).status, path).toBe(200);
    }
    // The page itself holds nothing: any authenticated user may load it; the summary needs every read.
    expect((await fetch(`${api.url}/`, { headers: basic('lookup-only', 'l') })).status).toBe(200);
    for (const [user, password] of [
      ['lookup-only', 'l'],
      ['no-events', 'n'],
    ] as const) {
      const refused = await fetch(`${api.url}/v1/status`, { headers: basic(user, password) });
      expect(refused.status, user).toBe(403);
      expect(await refused.json()).toEqual({
        code: 'NOPERM',
        error:
          "this user has no permissions to read the status summary (it takes 'sentinel|masters', " +
          "'sentinel|replicas', 'sentinel|sentinels' and what 'PSUBSCRIBE *' takes)",
      });
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// The deployed function

type Handler = typeof import('../../functions/api.js')['handler'];
const DOMAIN = 'abcdefghijklmnopqrstuvwxyz.lambda-url.eu-west-1.on.aws';

function urlEvent(method: string, path: string, iam = false): ApiUrlEvent {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { host: DOMAIN },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abcdefghijklmnopqrstuvwxyz',
      domainName: DOMAIN,
      domainPrefix: 'abcdefghijklmnopqrstuvwxyz',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'test' },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
      ...(iam ? { authorizer: { iam: { userArn: 'arn:aws:sts::123456789012:assumed-role/ops/ops' } } } : {}),
    },
    isBase64Encoded: false,
  };
}

async function invoke(handler: Handler, method: string, path: string, iam = false) {
  const result = (await handler(urlEvent(method, path, iam), lambdaContext('api', 30_000))) as
    | APIGatewayProxyStructuredResultV2
    | undefined;
  return {
    status: result?.statusCode ?? 0,
    headers: (result?.headers ?? {}) as Record<string, string>,
    body: result?.body ?? '',
  };
}

async function freshHandler(env: Record<string, string | undefined>): Promise<Handler> {
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  vi.resetModules();
  return (await import('../../functions/api.js')).handler;
}

describe('deployed API (functions/api.ts): GET / and GET /v1/status', () => {
  let table: string;
  let endpoint: string;
  beforeAll(async () => {
    endpoint = inject('dynamodbEndpoint');
    table = `t-${randomUUID()}`;
    await createTable(createDynamoClient({ endpoint }), table);
    const store = new DynamoStore(createDynamoClient({ endpoint }), table);
    await store.ensureMaster({ ...MASTER, now: Date.now() });
    const eventLog = new DynamoEventLog(createDynamoClient({ endpoint }), table);
    for (const e of failoverEvents(Date.now() - 5_000)) await eventLog.append(e);
    await switchMaster(store, MASTER.name, { host: '127.0.0.1', port: 7001 });
    process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
  });

  const env = (readOnly: string | undefined) => ({
    TABLE_NAME: table,
    DYNAMODB_ENDPOINT: endpoint,
    SENTINEL_CONFIG: `sentinel monitor ${MASTER.name} 127.0.0.1 7000 2`,
    SENTINEL_CONFIG_FILE: undefined,
    API_READ_ONLY: readOnly,
  });

  it('serves the page and the summary as reads; a write to / is refused like any write', async () => {
    const handler = await freshHandler(env(undefined));
    const page = await invoke(handler, 'GET', '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain(`script-src ${scriptHash(page.body)}`);
    expect(page.body).toContain('<title>lambda-sentinel status</title>');

    const status = await invoke(handler, 'GET', '/v1/status');
    expect(status.status).toBe(200);
    const summary = JSON.parse(status.body) as StatusSummary;
    // Half as often as the local runner: each refresh is an invocation and a few table reads.
    expect(summary.refreshMs).toBe(2_000);
    // No sentinel loop runs in the API function: no probes to show, and it says so.
    expect(summary.observer).toBeNull();
    expect(summary.masters[0]).toMatchObject({
      name: MASTER.name,
      ip: '127.0.0.1',
      port: 7001,
      configEpoch: 1,
    });
    expect(summary.failovers.map((f) => [f.epoch, f.outcome])).toEqual([[1, 'complete']]);

    // Writes need IAM auth, whatever the path; signed, / is GET only.
    const unsigned = await invoke(handler, 'POST', '/');
    expect(unsigned.status).toBe(403);
    expect(JSON.parse(unsigned.body)).toMatchObject({ code: 'FORBIDDEN' });
    expect((await invoke(handler, 'POST', '/', true)).status).toBe(405);
  });

  it('on a read-only URL, serves the page and refuses a write to it, signed or not', async () => {
    const handler = await freshHandler(env('true'));
    expect((await invoke(handler, 'GET', '/')).status).toBe(200);
    expect((await invoke(handler, 'GET', '/v1/status')).status).toBe(200);
    for (const iam of [false, true]) {
      const write = await invoke(handler, 'POST', '/', iam);
      expect(write.status).toBe(403);
      expect(JSON.parse(write.body)).toMatchObject({ code: 'FORBIDDEN' });
    }
  });
});
