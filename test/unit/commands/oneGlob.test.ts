/**
 * One Redis glob (lib/core/glob.ts) behind every place a user's pattern is matched: PSUBSCRIBE and ACL
 * channel rules on the Redis-protocol endpoint, and SENTINEL RESET over RESP and over HTTP. A reversed
 * range such as `[z-a]` is where two matchers used to disagree; redis-server 7.0 reads it as `[a-z]`.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../lib/adapters/memory/store.js';
import { storeSentinelView } from '../../../lib/commands/storeView.js';
import { parseAccessFile } from '../../../lib/config/access.js';
import { globMatch } from '../../../lib/core/glob.js';
import type { SentinelConfig } from '../../../lib/core/types.js';
import { type SentinelEndpoint, startSentinelEndpoint } from '../../../lib/resp/server.js';
import { globalSettings } from '../../support/settings.js';
import { call } from '../http/apiFixtures.js';

const PATTERN = '[z-a]x';
/** Valid master names and event channels alike: lower case inside the range, others outside it. */
const NAMES = ['ax', 'bx', 'Bx', 'zx', '_x', 'x', 'bxx'];
/** What redis-server answers for `[z-a]x` (a reversed range is the same range). */
const EXPECTED = ['ax', 'bx', 'zx'];

const config: SentinelConfig = { global: globalSettings(), masters: [] };

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

/** A store that monitors every name in NAMES. */
async function storeWithMasters(): Promise<MemoryStore> {
  const store = new MemoryStore();
  for (const [i, name] of NAMES.entries()) {
    const created = await store.monitorMaster({
      name,
      host: '127.0.0.1',
      port: 7000 + i,
      settings: { quorum: 2 },
      now: 1,
    });
    expect(created).toBe('created');
  }
  return store;
}

async function resetNames(store: MemoryStore): Promise<string[]> {
  const records = await Promise.all(NAMES.map((name) => store.getMaster(name)));
  return records.filter((r) => r?.resetAt != null).map((r) => r?.name ?? '');
}

async function endpointOver(store: MemoryStore, users?: string): Promise<SentinelEndpoint> {
  const parsed = users === undefined ? undefined : parseAccessFile(users, 'users');
  expect(parsed?.issues ?? []).toEqual([]);
  const endpoint = await startSentinelEndpoint({
    port: 0,
    view: storeSentinelView(store, config),
    users: parsed?.access.users,
  });
  open.push(endpoint);
  return endpoint;
}

function client(endpoint: SentinelEndpoint, options: Record<string, unknown> = {}): Redis {
  const c = new Redis({ ...endpoint.address, lazyConnect: true, maxRetriesPerRequest: 0, ...options });
  c.on('error', () => {});
  open.push({ close: () => c.disconnect() });
  return c;
}

describe(`one glob: ${PATTERN} answers the same on every path`, () => {
  it('the matcher itself', () => {
    expect(NAMES.filter((name) => globMatch(PATTERN, name))).toEqual(EXPECTED);
  });

  it('SENTINEL RESET over RESP resets exactly the matching masters', async () => {
    const store = await storeWithMasters();
    const c = client(await endpointOver(store));
    expect(await c.call('SENTINEL', 'RESET', PATTERN)).toBe(EXPECTED.length);
    expect(await resetNames(store)).toEqual(EXPECTED);
  });

  it('POST /v1/reset over HTTP resets exactly the matching masters', async () => {
    const store = await storeWithMasters();
    const view = storeSentinelView(store, config);
    const reply = await call(
      { view, requireIamForWrites: false, version: 'test' },
      { method: 'POST', path: '/v1/reset', body: JSON.stringify({ pattern: PATTERN }) },
    );
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ reset: EXPECTED.length });
    expect(await resetNames(store)).toEqual(EXPECTED);
  });

  it('PSUBSCRIBE delivers exactly the matching channels', async () => {
    const endpoint = await endpointOver(new MemoryStore());
    const sub = client(endpoint);
    const got: string[] = [];
    sub.on('pmessage', (_pattern, channel) => got.push(channel));
    await sub.psubscribe(PATTERN);
    const delivered = NAMES.map((type) => endpoint.publish({ type, payload: 'x' }, 1));
    expect(delivered).toEqual(NAMES.map((name) => (EXPECTED.includes(name) ? 1 : 0)));
    await expect.poll(() => got, { timeout: 5_000 }).toEqual(EXPECTED);
  });

  it('an ACL channel rule lets a user subscribe to exactly the matching channels', async () => {
    const endpoint = await endpointOver(
      new MemoryStore(),
      `user watcher on >w resetchannels &${PATTERN} +@all`,
    );
    const c = client(endpoint, { username: 'watcher', password: 'w' });
    const allowed: string[] = [];
    for (const name of NAMES) {
      const outcome = await c.subscribe(name).then(
        () => 'ok',
        (error: Error) => error.message,
      );
      if (outcome === 'ok') allowed.push(name);
      else expect(outcome).toMatch(/^NOPERM /);
    }
    expect(allowed).toEqual(EXPECTED);
  });
});
