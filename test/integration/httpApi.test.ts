/**
 * The HTTP API server (lib/http/server.ts) on a real socket, with real `fetch`, over the store view on a
 * MemoryStore: routes end to end, a long poll released by a failover committed meanwhile, the client
 * going away, and close() with polls still open.
 */
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultUserWithPassword } from '../../lib/accessControl.js';
import { runIdOf, type SentinelView } from '../../lib/commands/view.js';
import { parseAccessFile } from '../../lib/config/access.js';
import { type HttpApi, startHttpApi } from '../../lib/http/server.js';
import { PACKAGE_VERSION } from '../../lib/http/version.js';
import type { Log } from '../../lib/runtime/log.js';
import {
  MASTER,
  recordingView,
  type StoreFixture,
  storeFixture,
  switchMaster,
} from '../unit/http/apiFixtures.js';

const JSON_TYPE = { 'content-type': 'application/json' } as const;

const started: HttpApi[] = [];
afterEach(async () => {
  for (const api of started.splice(0)) await api.close();
});

async function serve(view: SentinelView, extra: { log?: Log } = {}): Promise<HttpApi> {
  const api = await startHttpApi({ view, port: 0, ...extra });
  started.push(api);
  return api;
}

async function withStore(): Promise<StoreFixture & { api: HttpApi }> {
  const f = await storeFixture({ addressPollMs: 20 });
  return { ...f, api: await serve(f.view) };
}

/** Resolves true if the promise settles within `ms`; for "still waiting" checks, never for speed. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]);
  clearTimeout(timer);
  return result;
}

describe('HTTP API server', () => {
  it('listens on loopback at a free port and answers the routes with JSON', async () => {
    const { api, store } = await withStore();
    expect(api.address.host).toBe('127.0.0.1');
    expect(api.address.port).toBeGreaterThan(0);
    expect(api.url).toBe(`http://127.0.0.1:${api.address.port}`);

    const root = await fetch(`${api.url}/v1`);
    expect(root.status).toBe(200);
    expect(root.headers.get('content-type')).toBe('application/json');
    expect(await root.json()).toEqual({ myid: runIdOf('sentinel-a'), version: PACKAGE_VERSION });

    const masters = (await (await fetch(`${api.url}/v1/masters`)).json()) as {
      masters: Array<Record<string, string>>;
    };
    expect(masters.masters.map((m) => m.name)).toEqual(['mymaster']);

    const address = await fetch(`${api.url}/v1/masters/mymaster/address`);
    expect(await address.json()).toEqual({ ip: MASTER.host, port: MASTER.port, epoch: 0 });

    // SENTINELS shows the address the client used, like the Redis-protocol endpoint.
    const sentinels = (await (await fetch(`${api.url}/v1/masters/mymaster/sentinels`)).json()) as {
      sentinels: Array<Record<string, string>>;
    };
    expect(sentinels.sentinels[0]).toMatchObject({ ip: '127.0.0.1', port: String(api.address.port) });

    const unknown = await fetch(`${api.url}/v1/masters/nope`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: 'No such master with that name', code: 'NOSUCHMASTER' });

    const wrongMethod = await fetch(`${api.url}/v1/masters`, { method: 'DELETE', headers: JSON_TYPE });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET, POST');

    const query = await fetch(`${api.url}/v1/events?limit=0`);
    expect(query.status).toBe(400);

    // No password configured, loopback: JSON writes from no web page are accepted.
    const failover = await fetch(`${api.url}/v1/masters/mymaster/failover`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ coordinated: true }),
    });
    expect(failover.status).toBe(200);
    expect(await failover.json()).toEqual({ reply: 'OK' });
    expect((await store.getMaster(MASTER.name))?.failoverRequestCoordinated).toBe(true);

    const monitor = await fetch(`${api.url}/v1/masters`, {
      method: 'POST',
      headers: JSON_TYPE,
      body: JSON.stringify({ name: 'cache-1', ip: '10.0.0.5', port: 6380, quorum: 2 }),
    });
    expect(monitor.status).toBe(201);
    expect(monitor.headers.get('location')).toBe('/v1/masters/cache-1');
  });

  it('refuses a body over 64 KiB with 413 and keeps serving', async () => {
    const { api } = await withStore();
    const big = await fetch(`${api.url}/v1/reset`, {
      method: 'POST',
      headers: JSON_TYPE,
      body: JSON.stringify({ pattern: 'x'.repeat(70_000) }),
    });
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ code: 'TOO_LARGE' });
    expect((await fetch(`${api.url}/v1`)).status).toBe(200);
  });

  it('releases a long poll as soon as another request moves the epoch', async () => {
    const { api, store } = await withStore();
    const poll = fetch(`${api.url}/v1/masters/mymaster/address?after_epoch=0&wait_ms=20000`).then(
      async (r) => ({ status: r.status, body: await r.json() }),
    );
    expect(await settlesWithin(poll, 200)).toBe(false);
    // A manual failover through the API, then its promotion committed in the store.
    const failover = await fetch(`${api.url}/v1/masters/mymaster/failover`, {
      method: 'POST',
      headers: JSON_TYPE,
    });
    expect(failover.status).toBe(200);
    expect(await settlesWithin(poll, 100)).toBe(false);
    await switchMaster(store, MASTER.name, { host: '127.0.0.1', port: 7001 });
    const released = await poll;
    expect(released).toEqual({ status: 200, body: { ip: '127.0.0.1', port: 7001, epoch: 1 } });
  });

  it('stops waiting for a client that went away', async () => {
    const view = recordingView();
    let sawAbort: Promise<void> | undefined;
    // A view whose long poll waits until its signal fires, and says when it did.
    view.waitForAddress = (_name, _after, _waitMs, signal) => {
      sawAbort = new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve()));
      return sawAbort.then(() => ({ ip: MASTER.host, port: MASTER.port, epoch: 0 }));
    };
    const api = await serve(view);
    const client = new AbortController();
    const poll = fetch(`${api.url}/v1/masters/mymaster/address?after_epoch=0&wait_ms=20000`, {
      signal: client.signal,
    }).catch(() => 'aborted');
    while (sawAbort === undefined) await new Promise((r) => setTimeout(r, 10));
    client.abort();
    expect(await poll).toBe('aborted');
    await sawAbort;
  });

  it('close() returns promptly with long polls open, and those polls get their answer', async () => {
    const { api } = await withStore();
    const polls = [0, 1, 2].map(() =>
      fetch(`${api.url}/v1/masters/mymaster/address?after_epoch=0&wait_ms=20000`).then(
        async (r) => ({ status: r.status, body: await r.json() }),
        (error: unknown) => ({ status: 0, body: String(error) }),
      ),
    );
    await new Promise((r) => setTimeout(r, 150));
    const closing = api.close();
    // Far less than the polls' 20 s: close() does not wait for their deadline.
    expect(await settlesWithin(closing, 10_000)).toBe(true);
    for (const poll of await Promise.all(polls)) {
      expect(poll).toEqual({ status: 200, body: { ip: MASTER.host, port: MASTER.port, epoch: 0 } });
    }
    // Closed for good: new connections are refused.
    await expect(fetch(`${api.url}/v1`)).rejects.toThrow();
    await api.close();
  });

  it('close() does not hang on an idle keep-alive connection', async () => {
    const { api } = await withStore();
    const socket = net.connect(api.address.port, api.address.host);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`GET /v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`);
    await new Promise<void>((resolve) => socket.once('data', () => resolve()));
    const closedSocket = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    expect(await settlesWithin(api.close(), 10_000)).toBe(true);
    await closedSocket;
  });

  it('logs a 500 with its cause and sends only a generic message', async () => {
    const view = recordingView();
    view.masters = async () => {
      throw new Error('internal detail: connection string xyz');
    };
    const logged: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = [];
    const api = await serve(view, {
      log: (level, message, fields) => logged.push({ level, message, fields }),
    });
    const r = await fetch(`${api.url}/v1/masters`);
    expect(r.status).toBe(500);
    const text = await r.text();
    expect(JSON.parse(text)).toEqual({ error: 'Internal error', code: 'INTERNAL' });
    expect(text).not.toContain('xyz');
    expect(logged).toEqual([
      expect.objectContaining({
        level: 'error',
        fields: expect.objectContaining({
          path: '/v1/masters',
          status: 500,
          error: expect.objectContaining({ message: 'internal detail: connection string xyz' }),
        }),
      }),
    ]);
  });

  it('refuses to start on a port already in use', async () => {
    const { api } = await withStore();
    await expect(startHttpApi({ view: recordingView(), port: api.address.port })).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
  });
});

/** A raw request, with headers fetch would not let a test set (Host) or would add (content-type). */
async function rawRequest(
  api: HttpApi,
  options: { method: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; body: { error?: string; code?: string }; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: api.address.port,
        method: options.method,
        path: options.path,
        headers: options.headers,
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => {
          text += d.toString();
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), headers: res.headers }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

describe('HTTP API: who may ask (CSRF, DNS rebinding, users)', () => {
  it('refuses a write from a web page on another site (foreign Origin) with 403; nothing runs', async () => {
    const view = recordingView();
    const api = await serve(view);
    const r = await fetch(`${api.url}/v1/masters/mymaster/failover`, {
      method: 'POST',
      headers: { ...JSON_TYPE, origin: 'https://evil.example' },
      body: '{}',
    });
    expect(r.status).toBe(403);
    expect(await r.json()).toEqual({
      code: 'FORBIDDEN',
      error: expect.stringMatching(
        /^Writes from a web page are refused \(Origin 'https:\/\/evil\.example'\)/,
      ),
    });
    // `null` is what sandboxed frames and file:// pages send: foreign too.
    const fromNull = await fetch(`${api.url}/v1/reset`, {
      method: 'POST',
      headers: { ...JSON_TYPE, origin: 'null' },
      body: '{"pattern":"*"}',
    });
    expect(fromNull.status).toBe(403);
    expect(view.writes()).toEqual([]);
    // A page served from this machine is as trusted as the CLI.
    const local = await fetch(`${api.url}/v1/masters/mymaster/failover`, {
      method: 'POST',
      headers: { ...JSON_TYPE, origin: 'http://localhost:3000' },
      body: '{}',
    });
    expect(local.status).toBe(200);
    expect(view.writes().map((c) => c.method)).toEqual(['failover']);
  });

  it('refuses a write that is not JSON (what an HTML form can send) with 415; nothing runs', async () => {
    const view = recordingView();
    const api = await serve(view);
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      const r = await rawRequest(api, {
        method: 'POST',
        path: '/v1/masters/mymaster/failover',
        headers: { 'content-type': type },
        body: '{}',
      });
      expect(r.status, type).toBe(415);
      expect(r.body, type).toEqual({
        code: 'UNSUPPORTED_MEDIA_TYPE',
        error: expect.stringContaining("Writes need 'Content-Type: application/json'"),
      });
    }
    const none = await rawRequest(api, { method: 'DELETE', path: '/v1/masters/mymaster' });
    expect(none.status).toBe(415);
    expect(none.body.error).toContain('(got none)');
    expect(view.writes()).toEqual([]);
    // With a charset parameter it is still JSON.
    const ok = await rawRequest(api, {
      method: 'DELETE',
      path: '/v1/masters/mymaster',
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(ok.status).toBe(200);
  });

  it('refuses any request that names a host other than loopback (DNS rebinding) with 403; nothing runs', async () => {
    const view = recordingView();
    const api = await serve(view);
    const read = await rawRequest(api, {
      method: 'GET',
      path: '/v1/masters',
      headers: { host: 'evil.example' },
    });
    expect(read.status).toBe(403);
    expect(read.body).toEqual({
      code: 'FORBIDDEN',
      error: expect.stringMatching(/^The Host header 'evil\.example' is not a loopback name/),
    });
    const write = await rawRequest(api, {
      method: 'PATCH',
      path: '/v1/masters/mymaster',
      headers: { host: `evil.example:${api.address.port}`, ...JSON_TYPE },
      body: '{"set":[["quorum","1"]]}',
    });
    expect(write.status).toBe(403);
    expect(view.calls).toEqual([]);
    for (const host of ['127.0.0.1', `localhost:${api.address.port}`, `[::1]:${api.address.port}`]) {
      const ok = await rawRequest(api, { method: 'GET', path: '/v1/masters', headers: { host } });
      expect(ok.status, host).toBe(200);
    }
  });

  it('with users: 401 without or with wrong credentials, a read-only user reads but may not write', async () => {
    const { store, view } = await storeFixture();
    const users = parseAccessFile(
      [
        'requirepass s3cret',
        'user reader on >r3ad &* +@read',
        'user sub-only on >s +sentinel|get-master-addr-by-name',
      ].join('\n'),
      'users',
    ).access.users;
    const api = await startHttpApi({ view, port: 0, users, log: () => {} });
    started.push(api);

    const anonymous = await fetch(`${api.url}/v1/masters`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Basic realm="lambda-sentinel", charset="UTF-8"');
    expect(await anonymous.json()).toMatchObject({ code: 'UNAUTHORIZED' });
    const wrong = await fetch(`${api.url}/v1/masters`, { headers: basic('reader', 'nope') });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain('nope');

    const masters = await fetch(`${api.url}/v1/masters`, { headers: basic('reader', 'r3ad') });
    expect(masters.status).toBe(200);
    const events = await fetch(`${api.url}/v1/events`, { headers: basic('reader', 'r3ad') });
    expect(events.status).toBe(200);
    const set = await fetch(`${api.url}/v1/masters/mymaster`, {
      method: 'PATCH',
      headers: { ...JSON_TYPE, ...basic('reader', 'r3ad') },
      body: JSON.stringify({ set: [['down-after-milliseconds', '999']] }),
    });
    expect(set.status).toBe(403);
    expect(await set.json()).toEqual({
      code: 'NOPERM',
      error: "this user has no permissions to run the 'sentinel|set' command",
    });
    // A percent-encoded route is still the route it decodes to.
    const encoded = await fetch(`${api.url}/v1/masters/mymaster/%66ailover`, {
      method: 'POST',
      headers: { ...JSON_TYPE, ...basic('reader', 'r3ad') },
      body: '{}',
    });
    expect(encoded.status).toBe(403);
    // A user with one command has that one only; the event log needs what PSUBSCRIBE * needs.
    expect(
      (await fetch(`${api.url}/v1/masters/mymaster/address`, { headers: basic('sub-only', 's') })).status,
    ).toBe(200);
    expect((await fetch(`${api.url}/v1/masters`, { headers: basic('sub-only', 's') })).status).toBe(403);
    expect((await fetch(`${api.url}/v1/events`, { headers: basic('sub-only', 's') })).status).toBe(403);
    const record = await store.getMaster(MASTER.name);
    expect(record?.settings.downAfterMs).toBeUndefined();
    expect(record?.failoverRequestedAt).toBeNull();

    // The default user (requirepass), with or without its name.
    for (const user of ['default', '']) {
      const r = await fetch(`${api.url}/v1/masters/mymaster`, {
        method: 'PATCH',
        headers: { ...JSON_TYPE, ...basic(user, 's3cret') },
        body: JSON.stringify({ set: [['down-after-milliseconds', '999']] }),
      });
      expect(r.status, user).toBe(200);
    }
    expect((await store.getMaster(MASTER.name))?.settings.downAfterMs).toBe(999);
  });

  it('refuses to listen beyond loopback without a password; with one, it takes any Host but needs auth', async () => {
    await expect(startHttpApi({ view: recordingView(), port: 0, host: '0.0.0.0' })).rejects.toThrow(
      /refusing to serve the HTTP API on 0\.0\.0\.0, beyond loopback, while a user needs no password/,
    );
    const view = recordingView();
    const api = await startHttpApi({
      view,
      port: 0,
      host: '0.0.0.0',
      users: [defaultUserWithPassword('pw')],
    });
    started.push(api);
    const anonymous = await rawRequest(api, {
      method: 'GET',
      path: '/v1/masters',
      headers: { host: 'sentinel.internal' },
    });
    expect(anonymous.status).toBe(401);
    const ok = await rawRequest(api, {
      method: 'GET',
      path: '/v1/masters',
      headers: { host: 'sentinel.internal', ...basic('default', 'pw') },
    });
    expect(ok.status).toBe(200);
  });
});
