/**
 * The HTTP API router (docs/http-api.md): every route and its errors. Reads, the long poll, events,
 * failover and the write commands run against the real storeSentinelView over memory adapters; every
 * reply kind of the write commands is checked with a recording fake view that answers what a test sets.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../lib/adapters/memory/store.js';
import { storeSentinelView } from '../../../lib/commands/storeView.js';
import {
  type CommandReply,
  MAX_ADDRESS_WAIT_MS,
  runIdOf,
  type SentinelView,
} from '../../../lib/commands/view.js';
import { MAX_BODY_BYTES, type RouterOptions } from '../../../lib/http/router.js';
import { PACKAGE_VERSION } from '../../../lib/http/version.js';
import { StoreUnavailableError } from '../../../lib/ports.js';
import {
  call,
  config,
  eventRecord,
  MASTER,
  recordingView,
  type StoreFixture,
  storeFixture,
  switchMaster,
} from './apiFixtures.js';

const open = (view: SentinelView, extra: Partial<RouterOptions> = {}): RouterOptions => ({
  view,
  requireIamForWrites: false,
  version: PACKAGE_VERSION,
  ...extra,
});

async function fixture(
  options?: Parameters<typeof storeFixture>[0],
): Promise<StoreFixture & { options: RouterOptions }> {
  const f = await storeFixture(options);
  return { ...f, options: open(f.view) };
}

const json = (value: unknown) => JSON.stringify(value);

describe('reads, over the store view', () => {
  it('GET /v1 answers the run id and the package version', async () => {
    const { options } = await fixture();
    const r = await call(options, { method: 'GET', path: '/v1' });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ myid: runIdOf('sentinel-a'), version: PACKAGE_VERSION });
    expect(r.json.myid).toMatch(/^[0-9a-f]{40}$/);
    expect(r.headers['content-type']).toBe('application/json');
  });

  it("GET /v1/masters and /v1/masters/{name} are Sentinel's maps: its field order, string values", async () => {
    const { options, view } = await fixture();
    const fields = (await view.master(MASTER.name)) ?? [];
    const one = await call(options, { method: 'GET', path: '/v1/masters/mymaster' });
    expect(one.status).toBe(200);
    expect(Object.keys(one.json)).toEqual(fields.map(([k]) => k));
    expect(Object.keys(one.json).slice(0, 3)).toEqual(['name', 'ip', 'port']);
    expect(one.json).toMatchObject({ name: 'mymaster', ip: '127.0.0.1', port: '7000', quorum: '2' });
    for (const value of Object.values(one.json)) expect(typeof value).toBe('string');

    const all = await call(options, { method: 'GET', path: '/v1/masters' });
    expect(all.status).toBe(200);
    const masters = all.json.masters as Array<Record<string, string>>;
    expect(masters).toHaveLength(1);
    expect(Object.keys(masters[0] ?? {})).toEqual(fields.map(([k]) => k));
  });

  it('a percent-encoded name is decoded; an unknown one is 404 NOSUCHMASTER, an invalid one 400', async () => {
    const { options } = await fixture();
    expect((await call(options, { method: 'GET', path: '/v1/masters/my%6Daster' })).status).toBe(200);
    const unknown = await call(options, { method: 'GET', path: '/v1/masters/nope' });
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({ error: 'No such master with that name', code: 'NOSUCHMASTER' });
    for (const path of [
      '/v1/masters/my%20master',
      '/v1/masters/a%2Fb',
      '/v1/masters/%C3%A9',
      '/v1/masters/a*',
    ]) {
      const r = await call(options, { method: 'GET', path });
      expect(r.status, path).toBe(400);
      expect(r.json.code).toBe('INVALID');
      expect(r.json.error).toContain('Invalid master name');
    }
    const malformed = await call(options, { method: 'GET', path: '/v1/masters/%E0%A4%A' });
    expect(malformed.status).toBe(400);
  });

  it('a name over 128 characters is a 400 naming the limit on every route, before the store is asked', async () => {
    const { options, store } = await fixture();
    const name = 'm'.repeat(10_000);
    const reads: string[] = [];
    const getMaster = store.getMaster.bind(store);
    store.getMaster = (n) => {
      reads.push(n);
      return getMaster(n);
    };
    for (const [method, path, body] of [
      ['GET', `/v1/masters/${name}`],
      ['GET', `/v1/masters/${name}/address`],
      ['GET', `/v1/masters/${name}/replicas`],
      ['GET', `/v1/masters/${name}/sentinels`],
      ['GET', `/v1/masters/${name}/ckquorum`],
      ['POST', `/v1/masters/${name}/failover`],
      ['DELETE', `/v1/masters/${name}`],
      ['PATCH', `/v1/masters/${name}`, json({ set: [['quorum', '2']] })],
      ['GET', `/v1/events?master=${name}`],
    ] as const) {
      const [pathname, search] = path.split('?') as [string, string | undefined];
      const r = await call(options, {
        method,
        path: pathname,
        ...(search ? { query: new URLSearchParams(search) } : {}),
        ...(body ? { body } : {}),
      });
      expect(r.status, `${method} ${pathname.slice(0, 30)}`).toBe(400);
      expect(r.json).toEqual({
        error: `Invalid master name '${'m'.repeat(64)}…': longer than 128 characters`,
        code: 'INVALID',
      });
    }
    const monitor = await call(options, {
      method: 'POST',
      path: '/v1/masters',
      body: json({ name, ip: '10.0.0.5', port: 6379, quorum: 2 }),
    });
    expect(monitor.status).toBe(400);
    expect(monitor.json).toEqual({
      error: 'Invalid master name: longer than 128 characters',
      code: 'INVALID',
    });
    expect(reads.filter((n) => n.length > 128)).toEqual([]);
    // At the limit, a name is an ordinary unknown master.
    const atLimit = await call(options, { method: 'GET', path: `/v1/masters/${'m'.repeat(128)}` });
    expect(atLimit.status).toBe(404);
  });

  it('GET …/replicas lists replica maps; 404 for an unknown master', async () => {
    const { options, store } = await fixture();
    await store.upsertReplica({
      master: MASTER.name,
      host: '127.0.0.1',
      port: 7001,
      runId: null,
      lastSeenAt: Date.now(),
      seenBy: 'sentinel-a',
    });
    const r = await call(options, { method: 'GET', path: '/v1/masters/mymaster/replicas' });
    expect(r.status).toBe(200);
    const replicas = r.json.replicas as Array<Record<string, string>>;
    expect(replicas.map((m) => m.name)).toEqual(['127.0.0.1:7001']);
    expect(replicas[0]).toMatchObject({ ip: '127.0.0.1', port: '7001', 'master-port': '7000' });
    expect((await call(options, { method: 'GET', path: '/v1/masters/nope/replicas' })).json.code).toBe(
      'NOSUCHMASTER',
    );
  });

  it('GET …/sentinels shows the other sentinels at the address the client used, or the announced one', async () => {
    const { options, view } = await fixture();
    const r = await call(options, {
      method: 'GET',
      path: '/v1/masters/mymaster/sentinels',
      headers: { host: '127.0.0.1:8080' },
    });
    expect(r.status).toBe(200);
    const sentinels = r.json.sentinels as Array<Record<string, string>>;
    expect(sentinels.map((s) => s.runid)).toEqual([runIdOf('sentinel-b'), runIdOf('sentinel-c')]);
    for (const s of sentinels) expect(s).toMatchObject({ ip: '127.0.0.1', port: '8080' });

    const deployed = await call(options, {
      method: 'GET',
      path: '/v1/masters/mymaster/sentinels',
      headers: { Host: 'abc.lambda-url.eu-west-1.on.aws' },
    });
    expect((deployed.json.sentinels as Array<Record<string, string>>)[0]).toMatchObject({
      ip: 'abc.lambda-url.eu-west-1.on.aws',
      port: '443',
    });

    const announced = await call(open(view, { announce: { host: '10.0.0.1', port: 26379 } }), {
      method: 'GET',
      path: '/v1/masters/mymaster/sentinels',
      headers: { host: 'ignored:1' },
    });
    expect((announced.json.sentinels as Array<Record<string, string>>)[1]).toMatchObject({
      ip: '10.0.0.1',
      port: '26379',
    });
    expect((await call(options, { method: 'GET', path: '/v1/masters/nope/sentinels' })).status).toBe(404);
  });

  it('GET …/ckquorum answers 200 both ways, with ok and the reply text', async () => {
    const { options, store } = await fixture();
    const alone = await call(options, { method: 'GET', path: '/v1/masters/mymaster/ckquorum' });
    expect(alone.status).toBe(200);
    expect(alone.json.ok).toBe(false);
    expect(alone.json.reply).toMatch(/^NOQUORUM 1 usable Sentinels\./);
    for (const id of ['sentinel-b', 'sentinel-c']) {
      await store.acquireLease(id, { invocationId: `i-${id}`, now: Date.now(), ttlMs: 60_000 });
    }
    const all = await call(options, { method: 'GET', path: '/v1/masters/mymaster/ckquorum' });
    expect(all.json).toEqual({
      ok: true,
      reply: 'OK 3 usable Sentinels. Quorum and failover authorization can be reached',
    });
    expect((await call(options, { method: 'GET', path: '/v1/masters/nope/ckquorum' })).status).toBe(404);
  });
});

describe('GET …/address and its long poll', () => {
  it('answers ip, port (a number) and epoch, and follows a switch', async () => {
    const { options, store } = await fixture();
    const before = await call(options, { method: 'GET', path: '/v1/masters/mymaster/address' });
    expect(before.status).toBe(200);
    expect(before.json).toEqual({ ip: '127.0.0.1', port: 7000, epoch: 0 });
    await switchMaster(store, MASTER.name, { host: '127.0.0.1', port: 7001 });
    const after = await call(options, { method: 'GET', path: '/v1/masters/mymaster/address' });
    expect(after.json).toEqual({ ip: '127.0.0.1', port: 7001, epoch: 1 });
    const unknown = await call(options, { method: 'GET', path: '/v1/masters/nope/address' });
    expect(unknown.status).toBe(404);
    expect(unknown.json.code).toBe('NOSUCHMASTER');
    const unknownPoll = await call(options, {
      method: 'GET',
      path: '/v1/masters/nope/address',
      query: { after_epoch: '0', wait_ms: '20000' },
    });
    expect(unknownPoll.status).toBe(404);
  });

  it('returns at once when the epoch has already moved past after_epoch', async () => {
    const { options, store } = await fixture();
    await switchMaster(store, MASTER.name, { host: '127.0.0.1', port: 7001 });
    const started = Date.now();
    const r = await call(options, {
      method: 'GET',
      path: '/v1/masters/mymaster/address',
      query: new URLSearchParams({ after_epoch: '0', wait_ms: '20000' }),
    });
    expect(r.json).toEqual({ ip: '127.0.0.1', port: 7001, epoch: 1 });
    // Far below the 20 s asked for: it did not wait for the deadline.
    expect(Date.now() - started).toBeLessThan(MAX_ADDRESS_WAIT_MS / 2);
  });

  it('waits while the epoch has not moved, and answers as soon as it does', async () => {
    const { options, store } = await fixture();
    let settled = false;
    const poll = call(options, {
      method: 'GET',
      path: '/v1/masters/mymaster/address',
      query: { after_epoch: '0', wait_ms: '20000' },
    }).finally(() => {
      settled = true;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(settled).toBe(false);
    await switchMaster(store, MASTER.name, { host: '127.0.0.1', port: 7002 });
    const r = await poll;
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ ip: '127.0.0.1', port: 7002, epoch: 1 });
  });

  it('answers with the current address, same epoch, at the deadline', async () => {
    const { options } = await fixture();
    const r = await call(options, {
      method: 'GET',
      path: '/v1/masters/mymaster/address',
      query: { after_epoch: '0', wait_ms: '30' },
    });
    expect(r.json).toEqual({ ip: '127.0.0.1', port: 7000, epoch: 0 });
  });

  it('answers at once when the request is aborted (client gone, server closing)', async () => {
    const { options } = await fixture();
    const abort = new AbortController();
    const poll = call(options, {
      method: 'GET',
      path: '/v1/masters/mymaster/address',
      query: { after_epoch: '0', wait_ms: '20000' },
      signal: abort.signal,
    });
    await new Promise((r) => setTimeout(r, 50));
    abort.abort();
    expect((await poll).json).toEqual({ ip: '127.0.0.1', port: 7000, epoch: 0 });
  });

  it('never answers a lower epoch than it answered before, even from a lagging read', async () => {
    const store = new MemoryStore();
    await store.ensureMaster({ ...MASTER, now: Date.now() });
    const stale = await store.getMaster(MASTER.name);
    let lagging = false;
    // A store whose reads of the record can lag behind (an eventually consistent replica, a cache).
    const laggingStore = new Proxy(store, {
      get(target, key, receiver) {
        if (key === 'getMaster') return async (name: string) => (lagging ? stale : target.getMaster(name));
        const value = Reflect.get(target, key, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const options = open(storeSentinelView(laggingStore, config, { addressPollMs: 10 }));
    await switchMaster(store, MASTER.name, { host: '127.0.0.1', port: 7001 });
    const seen: number[] = [];
    for (const lag of [false, true, false, true]) {
      lagging = lag;
      seen.push(
        (await call(options, { method: 'GET', path: '/v1/masters/mymaster/address' })).json.epoch as number,
      );
      const polled = await call(options, {
        method: 'GET',
        path: '/v1/masters/mymaster/address',
        query: { after_epoch: '0', wait_ms: '20' },
      });
      seen.push(polled.json.epoch as number);
    }
    expect(seen).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
  });

  it('caps wait_ms at 20 s, waits the maximum when only after_epoch is given, ignores wait_ms without it', async () => {
    const view = recordingView();
    const options = open(view);
    const path = '/v1/masters/mymaster/address';
    await call(options, { method: 'GET', path, query: { after_epoch: '3', wait_ms: '999999' } });
    await call(options, { method: 'GET', path, query: { after_epoch: '3' } });
    await call(options, { method: 'GET', path, query: { after_epoch: '-1', wait_ms: '5' } });
    await call(options, { method: 'GET', path, query: { wait_ms: '5' } });
    expect(view.calls).toEqual([
      { method: 'waitForAddress', args: ['mymaster', 3, MAX_ADDRESS_WAIT_MS] },
      { method: 'waitForAddress', args: ['mymaster', 3, MAX_ADDRESS_WAIT_MS] },
      { method: 'waitForAddress', args: ['mymaster', -1, 5] },
      { method: 'addressOf', args: ['mymaster'] },
    ]);
  });

  it('refuses malformed, unknown and repeated query parameters', async () => {
    const view = recordingView();
    const options = open(view);
    const path = '/v1/masters/mymaster/address';
    for (const query of [
      'after_epoch=abc',
      'after_epoch=1.5',
      'after_epoch=',
      'wait_ms=-1',
      'wait_ms=1e3',
      'after_epoch=1&after_epoch=2',
      'after=1',
      'after_epoch=99999999999999999999',
    ]) {
      const r = await call(options, { method: 'GET', path, query: new URLSearchParams(query) });
      expect(r.status, query).toBe(400);
      expect(r.json.code).toBe('INVALID');
    }
    const onMaster = await call(options, {
      method: 'GET',
      path: '/v1/masters/mymaster',
      query: { after_epoch: '1' },
    });
    expect(onMaster.status).toBe(400);
    expect(view.calls).toEqual([]);
  });
});

describe('GET /v1/events', () => {
  async function withEvents() {
    const f = await fixture();
    const t = Date.now() - 60_000;
    const records = [
      eventRecord({ at: t, type: '+sdown' }),
      eventRecord({ at: t + 10, type: '+odown' }, 'sentinel-b'),
      eventRecord({ at: t + 20, type: '+monitor', master: 'other', payload: 'master other 10.0.0.1 6379' }),
      eventRecord({ at: t + 30, type: '+switch-master' }),
    ];
    for (const r of records) await f.eventLog.append(r);
    return { ...f, t, records };
  }

  it('answers the event log newest first, filtered by master and since, limited', async () => {
    const { options, t, records } = await withEvents();
    const all = await call(options, { method: 'GET', path: '/v1/events' });
    expect(all.status).toBe(200);
    expect((all.json.events as Array<{ id: string }>).map((e) => e.id)).toEqual(
      [...records].reverse().map((r) => r.id),
    );
    expect(all.json.events).toContainEqual(records[0]);

    const mine = await call(options, { method: 'GET', path: '/v1/events', query: { master: 'mymaster' } });
    expect((mine.json.events as Array<{ type: string }>).map((e) => e.type)).toEqual([
      '+switch-master',
      '+odown',
      '+sdown',
    ]);
    const since = await call(options, {
      method: 'GET',
      path: '/v1/events',
      query: { since: String(t + 10) },
    });
    expect((since.json.events as unknown[]).length).toBe(3);
    const limited = await call(options, { method: 'GET', path: '/v1/events', query: { limit: '1' } });
    expect((limited.json.events as Array<{ type: string }>).map((e) => e.type)).toEqual(['+switch-master']);
  });

  it('defaults to 100 events and accepts up to 1000', async () => {
    const { options, eventLog } = await fixture();
    for (let i = 0; i < 120; i++) await eventLog.append(eventRecord({ at: Date.now() - 60_000 + i }));
    expect(
      ((await call(options, { method: 'GET', path: '/v1/events' })).json.events as unknown[]).length,
    ).toBe(100);
    const max = await call(options, { method: 'GET', path: '/v1/events', query: { limit: '1000' } });
    expect((max.json.events as unknown[]).length).toBe(120);
  });

  it('refuses a limit outside 1–1000, a bad since or master, an unknown parameter', async () => {
    const { options } = await fixture();
    for (const query of [
      'limit=0',
      'limit=1001',
      'limit=abc',
      'limit=-5',
      'since=-1',
      'since=yesterday',
      'master=a%20b',
      'level=warning',
    ]) {
      const r = await call(options, { method: 'GET', path: '/v1/events', query: new URLSearchParams(query) });
      expect(r.status, query).toBe(400);
      expect(r.json.code).toBe('INVALID');
    }
  });

  it('is 503 UNAVAILABLE when the event log cannot be read', async () => {
    const { options, eventLog } = await withEvents();
    eventLog.setAvailable(false);
    const r = await call(options, { method: 'GET', path: '/v1/events' });
    expect(r.status).toBe(503);
    expect(r.json.code).toBe('UNAVAILABLE');
  });
});

describe('POST …/failover', () => {
  it('records a manual failover request and answers OK; coordinated is passed on', async () => {
    const { options, store } = await fixture();
    const r = await call(options, { method: 'POST', path: '/v1/masters/mymaster/failover' });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ reply: 'OK' });
    const record = await store.getMaster(MASTER.name);
    expect(record?.failoverRequestedAt).not.toBeNull();
    expect(record?.failoverRequestCoordinated).toBe(false);

    const other = await fixture();
    const coordinated = await call(other.options, {
      method: 'POST',
      path: '/v1/masters/mymaster/failover',
      body: json({ coordinated: true }),
    });
    expect(coordinated.json).toEqual({ reply: 'OK' });
    expect((await other.store.getMaster(MASTER.name))?.failoverRequestCoordinated).toBe(true);
  });

  it('is 409 INPROG while a failover runs, 404 for an unknown master', async () => {
    const { options, store } = await fixture();
    const now = Date.now();
    await store.claimEpoch(MASTER.name, {
      mode: 'start',
      expectedEpoch: 0,
      sentinelId: 'sentinel-b',
      leaseUntil: now + 60_000,
      now,
      progress: {
        oldMaster: { host: MASTER.host, port: MASTER.port },
        promoted: null,
        rejected: [],
        promotionSentAt: null,
        replicas: [],
        forced: false,
        coordinated: false,
      },
    });
    const inprog = await call(options, { method: 'POST', path: '/v1/masters/mymaster/failover', body: '{}' });
    expect(inprog.status).toBe(409);
    expect(inprog.json).toEqual({ error: 'INPROG Failover already in progress', code: 'INPROG' });
    const unknown = await call(options, { method: 'POST', path: '/v1/masters/nope/failover' });
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({ error: 'No such master with that name', code: 'NOSUCHMASTER' });
  });

  it('refuses a malformed body without touching the record', async () => {
    const { options, store } = await fixture();
    const before = await store.getMaster(MASTER.name);
    for (const body of ['{"coordinated":"yes"}', '[]', 'null', '{"cordinated":true}', '{', 'true', '"x"']) {
      const r = await call(options, { method: 'POST', path: '/v1/masters/mymaster/failover', body });
      expect(r.status, body).toBe(400);
      expect(r.json.code).toBe('INVALID');
    }
    expect(await store.getMaster(MASTER.name)).toEqual(before);
  });

  it.each([
    ['OK', 200, undefined],
    ['INPROG', 409, 'INPROG'],
    ['NOGOODSLAVE', 409, 'NOGOODSLAVE'],
    ['NOSUCHMASTER', 404, 'NOSUCHMASTER'],
  ] as const)('maps the view reply %s to %i %s', async (reply, status, code) => {
    const view = recordingView();
    view.failoverReply = reply;
    const r = await call(open(view), {
      method: 'POST',
      path: '/v1/masters/mymaster/failover',
      body: json({ coordinated: false }),
    });
    expect(r.status).toBe(status);
    expect(r.json.code).toBe(code);
    if (reply === 'NOGOODSLAVE') expect(r.json.error).toBe('NOGOODSLAVE No suitable replica to promote');
    expect(view.writes()).toEqual([
      { method: 'failover', args: ['mymaster', { coordinated: false, awaitOutcome: true }] },
    ]);
  });
});

describe('write commands: what reaches the view and how its reply maps', () => {
  const kinds: ReadonlyArray<readonly [CommandReply, number, string]> = [
    [{ ok: false, kind: 'no-such-master', error: 'No such master with that name' }, 404, 'NOSUCHMASTER'],
    [
      {
        ok: false,
        kind: 'invalid',
        error: "Invalid argument '-20' for SENTINEL SET 'down-after-milliseconds'",
      },
      400,
      'INVALID',
    ],
    [{ ok: false, kind: 'unavailable', error: 'the store cannot be reached' }, 503, 'UNAVAILABLE'],
  ];

  it('POST /v1/masters (MONITOR) → 201 with the master location; port and quorum go as strings', async () => {
    const view = recordingView();
    const r = await call(open(view), {
      method: 'POST',
      path: '/v1/masters',
      body: json({ name: 'cache-1', ip: '10.0.0.5', port: 6380, quorum: '2' }),
    });
    expect(r.status).toBe(201);
    expect(r.json).toEqual({ ok: true });
    expect(r.headers.location).toBe('/v1/masters/cache-1');
    expect(view.writes()).toEqual([{ method: 'monitor', args: ['cache-1', '10.0.0.5', '6380', '2'] }]);
  });

  it.each([
    ...kinds,
    [{ ok: false, kind: 'conflict', error: 'Duplicate master name.' }, 409, 'DUPLICATE'],
  ] as const)('MONITOR: the reply %j maps to %i %s, with its text', async (reply, status, code) => {
    const view = recordingView();
    view.commandReply = reply;
    const r = await call(open(view), {
      method: 'POST',
      path: '/v1/masters',
      body: json({ name: 'cache-1', ip: 'redis.internal', port: '6380', quorum: 2 }),
    });
    expect(r.status).toBe(status);
    expect(r.json).toEqual({ error: reply.ok ? undefined : reply.error, code });
  });

  it('MONITOR: refuses a body of the wrong shape before the view', async () => {
    const view = recordingView();
    const cases: ReadonlyArray<readonly [unknown, string]> = [
      [{ ip: '10.0.0.5', port: 6380, quorum: 2 }, "Missing field 'name'"],
      [{ name: 'm', ip: '10.0.0.5', quorum: 2 }, "Missing field 'port'"],
      [{ name: 7, ip: '10.0.0.5', port: 6380, quorum: 2 }, "'name' must be a string"],
      [{ name: 'm', ip: ['10.0.0.5'], port: 6380, quorum: 2 }, "'ip' must be a string"],
      [{ name: 'm', ip: '10.0.0.5', port: true, quorum: 2 }, "'port' must be a number or a string"],
      [{ name: 'm', ip: '10.0.0.5', port: 6380, quorum: null }, "'quorum' must be a number or a string"],
      [{ name: 'm', ip: '10.0.0.5', port: 6380, quorum: 2, extra: 1 }, "Unknown field 'extra'"],
      [[1, 2], 'The body must be a JSON object'],
    ];
    for (const [body, error] of cases) {
      const r = await call(open(view), { method: 'POST', path: '/v1/masters', body: json(body) });
      expect(r.status, json(body)).toBe(400);
      expect(r.json.code).toBe('INVALID');
      expect(r.json.error).toContain(error);
    }
    for (const body of [undefined, '', '{"name":', 'name=m']) {
      expect((await call(open(view), { method: 'POST', path: '/v1/masters', body })).status).toBe(400);
    }
    expect(view.calls).toEqual([]);
  });

  it('PATCH /v1/masters/{name} (SET) passes every pair, rename-command with two values', async () => {
    const view = recordingView();
    const r = await call(open(view), {
      method: 'PATCH',
      path: '/v1/masters/mymaster',
      body: json({
        set: [
          ['quorum', '2'],
          ['down-after-milliseconds', 5000],
          ['rename-command', 'PING', 'PONG'],
        ],
      }),
    });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ ok: true });
    expect(view.writes()).toEqual([
      {
        method: 'set',
        args: [
          'mymaster',
          [
            ['quorum', '2'],
            ['down-after-milliseconds', '5000'],
            ['rename-command', 'PING', 'PONG'],
          ],
        ],
      },
    ]);
  });

  it.each([
    ...kinds,
    [{ ok: false, kind: 'conflict', error: 'INPROG Failover already in progress' }, 409, 'INPROG'],
    [{ ok: false, kind: 'conflict', error: 'the record changed, retry' }, 409, 'CONFLICT'],
  ] as const)('SET and REMOVE: the reply %j maps to %i %s', async (reply, status, code) => {
    const view = recordingView();
    view.commandReply = reply;
    const set = await call(open(view), {
      method: 'PATCH',
      path: '/v1/masters/mymaster',
      body: json({ set: [['quorum', '2']] }),
    });
    const remove = await call(open(view), { method: 'DELETE', path: '/v1/masters/mymaster' });
    for (const r of [set, remove]) {
      expect(r.status).toBe(status);
      expect(r.json).toEqual({ error: reply.ok ? undefined : reply.error, code });
    }
  });

  it('SET: refuses a malformed list of pairs before the view', async () => {
    const view = recordingView();
    const cases: ReadonlyArray<readonly [unknown, string]> = [
      [{}, "Missing field 'set'"],
      [{ set: [] }, 'non-empty array'],
      [{ set: 'quorum 2' }, 'non-empty array'],
      [{ set: ['quorum', '2'] }, "'set[0]'"],
      [{ set: [[]] }, "'set[0]'"],
      [{ set: [[2, 'quorum']] }, "'set[0]'"],
      [
        {
          set: [
            ['quorum', '2'],
            ['quorum', true],
          ],
        },
        "'set[1][1]' must be a string",
      ],
      [{ set: [['quorum', { n: 2 }]] }, "'set[0][1]' must be a string"],
      [{ set: [['quorum', '2']], also: 1 }, "Unknown field 'also'"],
    ];
    for (const [body, error] of cases) {
      const r = await call(open(view), { method: 'PATCH', path: '/v1/masters/mymaster', body: json(body) });
      expect(r.status, json(body)).toBe(400);
      expect(r.json.error).toContain(error);
    }
    expect(view.calls).toEqual([]);
  });

  it('DELETE /v1/masters/{name} (REMOVE) → {"ok": true}; a body is refused', async () => {
    const view = recordingView();
    const r = await call(open(view), { method: 'DELETE', path: '/v1/masters/mymaster' });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ ok: true });
    expect(view.writes()).toEqual([{ method: 'remove', args: ['mymaster'] }]);
    const withBody = await call(open(view), {
      method: 'DELETE',
      path: '/v1/masters/mymaster',
      body: '{"x":1}',
    });
    expect(withBody.status).toBe(400);
    expect(view.writes()).toHaveLength(1);
  });

  it('POST /v1/reset answers how many masters were reset; the pattern is required', async () => {
    const view = recordingView();
    view.resetReply = 2;
    const r = await call(open(view), {
      method: 'POST',
      path: '/v1/reset',
      body: json({ pattern: 'cache-*' }),
    });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ reset: 2 });
    for (const body of [undefined, '{}', '{"pattern":""}', '{"pattern":3}', '{"pattern":"*","x":1}']) {
      expect((await call(open(view), { method: 'POST', path: '/v1/reset', body })).status).toBe(400);
    }
    expect(view.writes()).toEqual([{ method: 'reset', args: ['cache-*'] }]);
  });
});

describe('write commands over the store view: the same texts as over RESP', () => {
  it("MONITOR adds a master (201), refuses a duplicate (409 DUPLICATE) and bad values with Sentinel's texts", async () => {
    const { options } = await fixture();
    const body = { name: 'cache-1', ip: '10.0.0.5', port: '6380', quorum: '2' };
    const created = await call(options, { method: 'POST', path: '/v1/masters', body: json(body) });
    expect(created.status).toBe(201);
    const shown = await call(options, { method: 'GET', path: '/v1/masters/cache-1' });
    expect(shown.json).toMatchObject({ name: 'cache-1', ip: '10.0.0.5', port: '6380', quorum: '2' });
    const again = await call(options, { method: 'POST', path: '/v1/masters', body: json(body) });
    expect(again.status).toBe(409);
    expect(again.json).toEqual({ error: 'Duplicate master name.', code: 'DUPLICATE' });

    const refused: ReadonlyArray<readonly [Record<string, unknown>, string]> = [
      [{ quorum: 'two' }, 'Invalid quorum'],
      [{ port: 'x' }, 'Invalid port'],
      [{ port: 6380.5 }, 'Invalid port'],
      [{ quorum: 0 }, 'Quorum must be 1 or greater.'],
      [{ port: 70_000 }, 'Invalid port number.'],
      [{ ip: 'not a host' }, 'Invalid IP address or hostname specified'],
      [{ name: 'a b' }, 'Invalid master name'],
    ];
    for (const [change, error] of refused) {
      const r = await call(options, {
        method: 'POST',
        path: '/v1/masters',
        body: json({ ...body, name: 'cache-2', ...change }),
      });
      expect(r.status, json(change)).toBe(400);
      expect(r.json.code).toBe('INVALID');
      expect(r.json.error).toContain(error);
    }
    expect((await call(options, { method: 'GET', path: '/v1/masters/cache-2' })).status).toBe(404);
  });

  it('SET applies all pairs or none; REMOVE forgets the master; RESET counts the matches', async () => {
    const { options } = await fixture();
    const path = '/v1/masters/mymaster';
    const set = await call(options, {
      method: 'PATCH',
      path,
      body: json({
        set: [
          ['quorum', '3'],
          ['down-after-milliseconds', 4000],
        ],
      }),
    });
    expect(set.status).toBe(200);
    expect((await call(options, { method: 'GET', path })).json).toMatchObject({
      quorum: '3',
      'down-after-milliseconds': '4000',
    });

    const bad = await call(options, {
      method: 'PATCH',
      path,
      body: json({
        set: [
          ['quorum', '2'],
          ['down-after-milliseconds', '-20'],
        ],
      }),
    });
    expect(bad.status).toBe(400);
    expect(bad.json).toEqual({
      error: "Invalid argument '-20' for SENTINEL SET 'down-after-milliseconds'",
      code: 'INVALID',
    });
    const arity = await call(options, { method: 'PATCH', path, body: json({ set: [['quorum']] }) });
    expect(arity.json.error).toBe("Unknown option or number of arguments for SENTINEL SET 'quorum'");
    const secret = await call(options, { method: 'PATCH', path, body: json({ set: [['auth-pass', 'x']] }) });
    expect(secret.status).toBe(400);
    expect((await call(options, { method: 'GET', path })).json).toMatchObject({ quorum: '3' });
    const unknown = await call(options, {
      method: 'PATCH',
      path: '/v1/masters/nope',
      body: json({ set: [['quorum', '2']] }),
    });
    expect(unknown.status).toBe(404);

    const reset = await call(options, { method: 'POST', path: '/v1/reset', body: json({ pattern: 'my*' }) });
    expect(reset.json).toEqual({ reset: 1 });
    expect(
      (await call(options, { method: 'POST', path: '/v1/reset', body: json({ pattern: 'x*' }) })).json,
    ).toEqual({
      reset: 0,
    });

    expect((await call(options, { method: 'DELETE', path })).json).toEqual({ ok: true });
    expect((await call(options, { method: 'GET', path })).status).toBe(404);
    expect((await call(options, { method: 'DELETE', path })).json.code).toBe('NOSUCHMASTER');
  });
});

describe('auth', () => {
  const writes = [
    {
      method: 'POST',
      path: '/v1/masters',
      body: json({ name: 'cache-1', ip: '10.0.0.5', port: 6380, quorum: 2 }),
    },
    { method: 'PATCH', path: '/v1/masters/mymaster', body: json({ set: [['quorum', '2']] }) },
    { method: 'DELETE', path: '/v1/masters/mymaster' },
    { method: 'POST', path: '/v1/masters/mymaster/failover' },
    { method: 'POST', path: '/v1/reset', body: json({ pattern: '*' }) },
    // Refused before the route is even looked at: an unauthenticated caller learns nothing.
    { method: 'POST', path: '/v1/no-such-route', body: 'not json' },
    { method: 'PUT', path: '/v1/masters/mymaster' },
    { method: 'post', path: '/v1/reset', body: json({ pattern: '*' }) },
  ];

  it('refuses every write without IAM auth with 403, before anything is touched', async () => {
    const view = recordingView();
    const options = open(view, { requireIamForWrites: true });
    for (const request of writes) {
      const r = await call(options, { ...request, iamAuthenticated: false });
      expect(r.status, `${request.method} ${request.path}`).toBe(403);
      expect(r.json.code).toBe('FORBIDDEN');
    }
    expect(view.calls).toEqual([]);
  });

  it('accepts the same writes with IAM auth', async () => {
    const view = recordingView();
    const options = open(view, { requireIamForWrites: true });
    const statuses = [];
    for (const request of writes.slice(0, 5)) {
      statuses.push((await call(options, { ...request, iamAuthenticated: true })).status);
    }
    expect(statuses).toEqual([201, 200, 200, 200, 200]);
    expect(view.writes().map((c) => c.method)).toEqual(['monitor', 'set', 'remove', 'failover', 'reset']);
  });

  it('allows reads without IAM auth', async () => {
    const { view } = await fixture();
    const options = open(view, { requireIamForWrites: true });
    for (const path of [
      '/v1',
      '/v1/masters',
      '/v1/masters/mymaster',
      '/v1/masters/mymaster/address',
      '/v1/events',
    ]) {
      expect((await call(options, { method: 'GET', path, iamAuthenticated: false })).status, path).toBe(200);
    }
  });
});

describe('routing and protocol errors', () => {
  it('404 NOT_FOUND for paths that name no route', async () => {
    const view = recordingView();
    for (const path of [
      '',
      'v1',
      '/v2',
      '/v1/',
      '/v1//masters',
      '/v1/masters/',
      '/v1/nope',
      '/V1/masters',
      '/v1/masters/mymaster/nope',
      '/v1/masters/mymaster/address/extra',
      '/v1/events/1',
      '/v1/reset/x',
      '/v1/masters/mymaster/failover/',
    ]) {
      const r = await call(open(view), { method: 'GET', path });
      expect(r.status, path).toBe(404);
      expect(r.json).toEqual({ error: 'No such route', code: 'NOT_FOUND' });
    }
    expect(view.calls).toEqual([]);
  });

  it('405 METHOD_NOT_ALLOWED on a known route, with the allowed methods', async () => {
    const view = recordingView();
    const cases = [
      ['DELETE', '/v1/masters', 'GET, POST'],
      ['PUT', '/v1/masters/mymaster', 'GET, PATCH, DELETE'],
      ['GET', '/v1/reset', 'POST'],
      ['GET', '/v1/masters/mymaster/failover', 'POST'],
      ['POST', '/v1/masters/mymaster/address', 'GET'],
      ['HEAD', '/v1', 'GET'],
      ['OPTIONS', '/v1/events', 'GET'],
    ] as const;
    for (const [method, path, allow] of cases) {
      const r = await call(open(view), { method, path });
      expect(r.status, `${method} ${path}`).toBe(405);
      expect(r.json.code).toBe('METHOD_NOT_ALLOWED');
      expect(r.headers.allow).toBe(allow);
    }
    expect(view.calls).toEqual([]);
  });

  it('413 TOO_LARGE for a body over 64 KiB, counted in UTF-8 bytes', async () => {
    const view = recordingView();
    const padded = json({ pattern: `*${' '.repeat(MAX_BODY_BYTES)}` });
    const big = await call(open(view), { method: 'POST', path: '/v1/reset', body: padded });
    expect(big.status).toBe(413);
    expect(big.json.code).toBe('TOO_LARGE');
    // 32 769 characters, 65 538 bytes.
    const wide = await call(open(view), { method: 'POST', path: '/v1/reset', body: 'é'.repeat(32_769) });
    expect(wide.status).toBe(413);
    const exactly = `{"pattern":"${'x'.repeat(MAX_BODY_BYTES - 14)}"}`;
    expect(Buffer.byteLength(exactly)).toBe(MAX_BODY_BYTES);
    expect((await call(open(view), { method: 'POST', path: '/v1/reset', body: exactly })).status).toBe(200);
    expect(view.writes()).toHaveLength(1);
  });

  it('a GET with a body is refused; whitespace is no body', async () => {
    const view = recordingView();
    expect((await call(open(view), { method: 'GET', path: '/v1/masters', body: '{}' })).status).toBe(400);
    expect((await call(open(view), { method: 'GET', path: '/v1/masters', body: ' \n' })).status).toBe(200);
  });

  it('503 UNAVAILABLE when the store cannot be reached, with the cause for the caller to log', async () => {
    const { options, store } = await fixture();
    store.setAvailable(false);
    for (const path of ['/v1/masters', '/v1/masters/mymaster', '/v1/masters/mymaster/address']) {
      const r = await call(options, { method: 'GET', path });
      expect(r.status, path).toBe(503);
      expect(r.json.code).toBe('UNAVAILABLE');
      expect(r.response.cause).toBeInstanceOf(StoreUnavailableError);
    }
    const failover = await call(options, { method: 'POST', path: '/v1/masters/mymaster/failover' });
    expect(failover.status).toBe(503);
  });

  it('500 with a generic message for anything else thrown; the cause is handed back, not sent', async () => {
    const view = recordingView();
    const bug = new Error('TypeError in /srv/internal/secret.ts:42 token=abc');
    view.master = async () => {
      throw bug;
    };
    const r = await call(open(view), { method: 'GET', path: '/v1/masters/mymaster' });
    expect(r.status).toBe(500);
    expect(r.json).toEqual({ error: 'Internal error', code: 'INTERNAL' });
    expect(r.response.body).not.toContain('secret');
    expect(r.response.cause).toBe(bug);
  });
});
