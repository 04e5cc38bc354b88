/**
 * The SentinelView over the HTTP API and the event follower, against a stub API: instance maps keep
 * their order, the address cache follows a long poll and never goes back an epoch, SENTINEL SENTINELS
 * names the proxy, and each event is handed over once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { followEvents } from '../../../lib/client/eventFollower.js';
import { SentinelHttpClient } from '../../../lib/client/http.js';
import { type HttpSentinelView, httpSentinelView } from '../../../lib/client/httpView.js';
import type { EventRecord } from '../../../lib/eventLog.js';
import { type StubApi, type StubReply, type StubRequest, startStubApi } from './stubApi.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Address {
  ip: string;
  port: number;
  epoch: number;
}

/** A fake API with one master whose address a test moves; long polls wait for the epoch to pass. */
async function fakeApi(handle?: (request: StubRequest) => StubReply | null) {
  const state = {
    address: { ip: '10.0.0.1', port: 6379, epoch: 1 } as Address,
    /** A lagging read: direct reads answer this instead of the address. */
    staleRead: null as Address | null,
    events: [] as EventRecord[],
  };
  const waiters = new Set<() => void>();
  const api: StubApi = await startStubApi(async (request) => {
    const custom = handle?.(request);
    if (custom) return custom;
    const path = request.url.pathname;
    if (path === '/v1/masters/mymaster/address') {
      const after = request.url.searchParams.get('after_epoch');
      if (after === null) return { body: state.staleRead ?? state.address };
      const waitMs = Number(request.url.searchParams.get('wait_ms'));
      if (state.address.epoch <= Number(after)) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, waitMs);
          function done() {
            clearTimeout(timer);
            waiters.delete(done);
            resolve();
          }
          waiters.add(done);
          request.signal.addEventListener('abort', done);
        });
      }
      return { body: state.address };
    }
    if (path.startsWith('/v1/masters/nope'))
      return { status: 404, body: { error: 'No such master with that name', code: 'NOSUCHMASTER' } };
    if (path === '/v1/events') {
      const since = Number(request.url.searchParams.get('since') ?? 0);
      const limit = Number(request.url.searchParams.get('limit') ?? 100);
      const events = state.events
        .filter((e) => e.at >= since)
        .sort((a, b) => b.at - a.at)
        .slice(0, limit);
      return { body: { events } };
    }
    return { status: 404, body: { error: 'no such route', code: 'NOT_FOUND' } };
  });
  cleanups.push(() => api.close());
  return {
    api,
    state,
    client: new SentinelHttpClient({ url: api.url, timeoutMs: 5_000 }),
    moveTo(address: Address) {
      state.address = address;
      for (const wake of [...waiters]) wake();
    },
    longPolls: () => api.requests.filter((r) => r.url.searchParams.has('after_epoch')),
  };
}

function view(client: SentinelHttpClient, options: { longPollWaitMs?: number } = {}): HttpSentinelView {
  const v = httpSentinelView({ client, myId: 'f'.repeat(40), retryMs: 50, ...options });
  cleanups.push(() => v.close());
  return v;
}

describe('httpSentinelView', () => {
  it('answers get-master-addr-by-name from a cache that a long poll keeps current', async () => {
    const fake = await fakeApi();
    const v = view(fake.client);
    expect(await v.masterAddress('mymaster')).toEqual({ host: '10.0.0.1', port: 6379 });
    // The long poll is open, waiting for an epoch above 1.
    await expect.poll(() => fake.longPolls().length).toBeGreaterThan(0);
    expect(fake.longPolls()[0]?.url.searchParams.get('after_epoch')).toBe('1');
    const reads = fake.api.requests.length;
    expect(await v.masterAddress('mymaster')).toEqual({ host: '10.0.0.1', port: 6379 });
    expect(fake.api.requests.length).toBe(reads);

    fake.moveTo({ ip: '10.0.0.2', port: 6380, epoch: 2 });
    await expect.poll(() => v.masterAddress('mymaster')).toEqual({ host: '10.0.0.2', port: 6380 });
    expect((await v.addressOf('mymaster'))?.epoch).toBe(2);
  });

  it('makes one read for lookups that arrive together on a cold cache', async () => {
    const fake = await fakeApi();
    const v = view(fake.client);
    const answers = await Promise.all(Array.from({ length: 20 }, () => v.masterAddress('mymaster')));
    expect(new Set(answers.map((a) => `${a?.host}:${a?.port}`))).toEqual(new Set(['10.0.0.1:6379']));
    const direct = fake.api.requests.filter(
      (r) => r.url.pathname.endsWith('/address') && !r.url.searchParams.has('after_epoch'),
    );
    expect(direct).toHaveLength(1);
  });

  it('never goes back to a lower epoch', async () => {
    const fake = await fakeApi();
    const v = view(fake.client);
    fake.moveTo({ ip: '10.0.0.2', port: 6380, epoch: 2 });
    expect(await v.refreshAddress('mymaster')).toEqual({ ip: '10.0.0.2', port: 6380, epoch: 2 });
    fake.state.staleRead = { ip: '10.0.0.1', port: 6379, epoch: 1 };
    expect(await v.refreshAddress('mymaster')).toEqual({ ip: '10.0.0.2', port: 6380, epoch: 2 });
    expect(await v.masterAddress('mymaster')).toEqual({ host: '10.0.0.2', port: 6380 });
  });

  it('answers null for an unknown master', async () => {
    const fake = await fakeApi();
    const v = view(fake.client);
    expect(await v.masterAddress('nope')).toBeNull();
    expect(await v.addressOf('nope')).toBeNull();
  });

  it('keeps answering the last address while the API is unreachable', async () => {
    const fake = await fakeApi();
    const v = view(fake.client, { longPollWaitMs: 20 });
    expect(await v.masterAddress('mymaster')).toEqual({ host: '10.0.0.1', port: 6379 });
    await fake.api.close();
    expect(await v.masterAddress('mymaster')).toEqual({ host: '10.0.0.1', port: 6379 });
  });

  it('turns instance maps into fields in their order, and SENTINELS into the proxy’s address', async () => {
    const fake = await fakeApi((request) => {
      switch (request.url.pathname) {
        case '/v1/masters':
          return { body: '{"masters":[{"name":"mymaster","ip":"10.0.0.1","port":"6379","flags":"master"}]}' };
        case '/v1/masters/mymaster':
          return { body: '{"name":"mymaster","ip":"10.0.0.1","port":"6379","flags":"master","quorum":"2"}' };
        case '/v1/masters/mymaster/sentinels':
          return {
            body: {
              sentinels: [
                {
                  name: 'a'.repeat(40),
                  ip: '203.0.113.9',
                  port: '443',
                  runid: 'a'.repeat(40),
                  flags: 'sentinel',
                },
              ],
            },
          };
        case '/v1/masters/nope':
        case '/v1/masters/nope/sentinels':
          return { status: 404, body: { error: 'No such master with that name', code: 'NOSUCHMASTER' } };
        default:
          return null;
      }
    });
    const v = view(fake.client);
    expect(await v.master('mymaster')).toEqual([
      ['name', 'mymaster'],
      ['ip', '10.0.0.1'],
      ['port', '6379'],
      ['flags', 'master'],
      ['quorum', '2'],
    ]);
    expect(await v.masterNames()).toEqual(['mymaster']);
    expect(await v.master('nope')).toBeNull();
    expect(await v.sentinels('mymaster', { host: '127.0.0.1', port: 26379 })).toEqual([
      [
        ['name', 'a'.repeat(40)],
        ['ip', '127.0.0.1'],
        ['port', '26379'],
        ['runid', 'a'.repeat(40)],
        ['flags', 'sentinel'],
      ],
    ]);
    expect(await v.sentinels('nope', { host: '127.0.0.1', port: 26379 })).toBeNull();
  });

  it("maps the API's failover and write errors to Sentinel's replies", async () => {
    const fake = await fakeApi((request) => {
      const path = request.url.pathname;
      if (path === '/v1/masters/busy/failover')
        return { status: 409, body: { error: 'INPROG Failover already in progress', code: 'INPROG' } };
      if (path === '/v1/masters/lonely/failover')
        return {
          status: 409,
          body: { error: 'NOGOODSLAVE No suitable replica to promote', code: 'NOGOODSLAVE' },
        };
      if (path === '/v1/masters/mymaster/failover') return { body: { reply: 'OK' } };
      if (path === '/v1/masters' && request.method === 'POST')
        return { status: 409, body: { error: 'Duplicate master name.', code: 'DUPLICATE' } };
      if (path === '/v1/masters/mymaster' && request.method === 'PATCH')
        return {
          status: 400,
          body: { error: "Invalid argument '-1' for SENTINEL SET 'quorum'", code: 'INVALID' },
        };
      if (path === '/v1/masters/mymaster' && request.method === 'DELETE') return { body: { ok: true } };
      return null;
    });
    const v = view(fake.client);
    expect(await v.failover('mymaster', { coordinated: true })).toBe('OK');
    expect(JSON.parse(fake.api.requests.at(-1)?.body ?? '')).toEqual({ coordinated: true });
    expect(await v.failover('busy')).toBe('INPROG');
    expect(await v.failover('lonely')).toBe('NOGOODSLAVE');
    expect(await v.failover('nope')).toBe('NOSUCHMASTER');
    expect(await v.monitor('mymaster', '10.0.0.1', '6379', '2')).toEqual({
      ok: false,
      kind: 'conflict',
      error: 'Duplicate master name.',
    });
    expect(await v.set('mymaster', [['quorum', '-1']])).toMatchObject({ ok: false, kind: 'invalid' });
    expect(await v.remove('mymaster')).toEqual({ ok: true });
    expect(await v.remove('nope')).toMatchObject({ ok: false, kind: 'no-such-master' });
  });
});

function event(at: number, sentinelId: string, type = '+sdown', epoch: number | null = 1): EventRecord {
  return {
    id: `${at}-${sentinelId}-1`,
    type,
    level: 'warning',
    payload: `master mymaster 10.0.0.1 6379 (${sentinelId})`,
    master: 'mymaster',
    at,
    sentinelId,
    seq: 1,
    epoch,
    ttl: Math.floor(at / 1000) + 86_400,
  } as EventRecord;
}

describe('followEvents', () => {
  it('hands over each event stored after it started, once, oldest first', async () => {
    const fake = await fakeApi();
    const base = Date.now();
    fake.state.events.push(event(base - 5_000, 'sentinel-a'), event(base - 4_000, 'sentinel-b'));
    const received: string[] = [];
    const follower = followEvents({
      client: fake.client,
      intervalMs: 20,
      onEvent: (record) => {
        received.push(record.id);
      },
    });
    cleanups.push(() => follower.stop());
    await follower.primed;
    fake.state.events.push(event(base - 1_000, 'sentinel-a'), event(base - 2_000, 'sentinel-c'));
    await expect.poll(() => received.length).toBe(2);
    // Stored late (an append retried with its original time), but after an event already handed over.
    fake.state.events.push(event(base - 3_000, 'sentinel-b'));
    await expect.poll(() => received.length).toBe(3);
    // Several more reads: nothing is handed over twice.
    const reads = fake.api.requests.length;
    await expect.poll(() => fake.api.requests.length).toBeGreaterThan(reads + 3);
    expect(received).toEqual([
      `${base - 2_000}-sentinel-c-1`,
      `${base - 1_000}-sentinel-a-1`,
      `${base - 3_000}-sentinel-b-1`,
    ]);
  });

  it('goes on after a failed read and a callback that throws', async () => {
    let failNext = 0;
    const fake = await fakeApi((request) =>
      request.url.pathname === '/v1/events' && failNext-- > 0
        ? { status: 503, body: { error: 'store unavailable', code: 'UNAVAILABLE' } }
        : null,
    );
    const errors: unknown[] = [];
    const received: string[] = [];
    const follower = followEvents({
      client: fake.client,
      intervalMs: 20,
      onEvent: (record) => {
        received.push(record.id);
        if (received.length === 1) throw new Error('subscriber gone');
      },
      onError: (error) => errors.push(error),
    });
    cleanups.push(() => follower.stop());
    await follower.primed;
    failNext = 2;
    fake.state.events.push(event(Date.now(), 'sentinel-a'));
    await expect.poll(() => received.length).toBe(1);
    fake.state.events.push(event(Date.now() + 1, 'sentinel-b'));
    await expect.poll(() => received.length).toBe(2);
    expect(errors.map((e) => (e as Error).message)).toEqual([
      expect.stringContaining('503 UNAVAILABLE'),
      expect.stringContaining('503 UNAVAILABLE'),
      'subscriber gone',
    ]);
  });
});
