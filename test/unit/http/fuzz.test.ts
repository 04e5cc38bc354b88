/**
 * The router under random requests: methods, paths (encoded garbage included), queries, bodies (JSON and
 * not, huge, deeply nested). Whatever comes in, the router answers (never throws), with a documented
 * status and a JSON body, never a 5xx (503 only while the store is down), and a refused request changes
 * nothing: not the store, not the event log, and no write reaches the view.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ApiRequest,
  ERROR_CODES,
  handleApiRequest,
  MAX_BODY_BYTES,
  type RouterOptions,
} from '../../../lib/http/router.js';
import { statusPageResponse } from '../../../lib/http/statusPage.js';
import { MASTER, recordingView, type StoreFixture, storeFixture } from './apiFixtures.js';

const DOCUMENTED = [200, 201, 400, 403, 404, 405, 409, 413];
/** Which codes each error status may carry (docs/http-api.md, the error table). */
const CODES_BY_STATUS: Readonly<Record<number, readonly string[]>> = {
  400: ['INVALID'],
  403: ['FORBIDDEN'],
  404: ['NOSUCHMASTER', 'NOT_FOUND'],
  405: ['METHOD_NOT_ALLOWED'],
  409: ['DUPLICATE', 'INPROG', 'NOGOODSLAVE', 'CONFLICT'],
  413: ['TOO_LARGE'],
  503: ['UNAVAILABLE'],
};

const methods = fc.oneof(
  { arbitrary: fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE'), weight: 8 },
  { arbitrary: fc.constantFrom('PUT', 'HEAD', 'OPTIONS', 'post', 'Get'), weight: 1 },
  { arbitrary: fc.string({ maxLength: 10 }), weight: 1 },
);

const segment = fc.oneof(
  fc.constantFrom(
    'v1',
    'masters',
    MASTER.name,
    'nope',
    'address',
    'replicas',
    'sentinels',
    'ckquorum',
    'failover',
    'reset',
    'events',
    '',
    '..',
    '.',
    '%',
    '%2F',
    '%zz',
    '%E0%A4%A',
    '%00',
    'my%6Daster',
    '%C3%A9',
  ),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }).map(encodeURIComponent),
);

const names = fc.oneof(
  fc.constantFrom(MASTER.name, 'nope', 'a.b-c_d'),
  fc.string({ unit: 'binary', maxLength: 20 }).map(encodeURIComponent),
  fc.string({ maxLength: 20 }),
);

const paths = fc.oneof(
  { arbitrary: fc.constantFrom('/v1', '/v1/masters', '/v1/reset', '/v1/events', '/', ''), weight: 3 },
  { arbitrary: names.map((n) => `/v1/masters/${n}`), weight: 3 },
  {
    arbitrary: fc
      .tuple(names, fc.constantFrom('address', 'replicas', 'sentinels', 'ckquorum', 'failover', 'nope'))
      .map(([n, sub]) => `/v1/masters/${n}/${sub}`),
    weight: 4,
  },
  { arbitrary: fc.array(segment, { maxLength: 6 }).map((s) => `/${s.join('/')}`), weight: 1 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }), weight: 1 },
);

const queryValue = fc.oneof(
  fc.integer({ min: -5, max: 1_200 }).map(String),
  fc.constantFrom(
    '',
    '0',
    '1',
    '1000',
    '1001',
    '20000',
    '99999999999999999999',
    '1e3',
    '-0',
    'abc',
    MASTER.name,
  ),
  fc.string({ maxLength: 10 }),
);
const queryKey = fc.oneof(
  fc.constantFrom('after_epoch', 'wait_ms', 'master', 'since', 'limit', 'x'),
  fc.string({ maxLength: 8 }),
);
const queries = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 4 },
  {
    arbitrary: fc
      .array(fc.tuple(queryKey, queryValue), { maxLength: 4 })
      .map((pairs) => new URLSearchParams(pairs)),
    weight: 1,
  },
  { arbitrary: fc.dictionary(queryKey, queryValue, { maxKeys: 3 }), weight: 1 },
);

const anyValue = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.string({ maxLength: 8 }), fc.integer());
/** Bodies shaped like the real ones, with random values: they get past the first checks. */
const shapedBodies = fc.oneof(
  fc.record(
    { name: fc.oneof(names, anyValue), ip: anyValue, port: anyValue, quorum: anyValue },
    { requiredKeys: [] },
  ),
  fc.record({ set: fc.oneof(anyValue, fc.array(fc.array(anyValue, { maxLength: 4 }), { maxLength: 3 })) }),
  fc.record({ pattern: anyValue }, { requiredKeys: [] }),
  fc.record({ coordinated: fc.oneof(fc.boolean(), anyValue) }, { requiredKeys: [] }),
);
/** Bodies every write route accepts as they are. */
const validBodies = fc.constantFrom(
  JSON.stringify({ name: 'cache-1', ip: '10.0.0.5', port: 6380, quorum: 2 }),
  JSON.stringify({ name: MASTER.name, ip: '127.0.0.1', port: '7000', quorum: '2' }),
  JSON.stringify({ set: [['quorum', '2']] }),
  JSON.stringify({ set: [['down-after-milliseconds', '-20']] }),
  JSON.stringify({ set: [['auth-pass', 'secret']] }),
  JSON.stringify({
    set: [
      ['rename-command', 'PING', 'PONG'],
      ['parallel-syncs', 3],
    ],
  }),
  JSON.stringify({ pattern: '*' }),
  JSON.stringify({ pattern: 'my*' }),
  JSON.stringify({ coordinated: true }),
  '{}',
);
const bodies = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 4 },
  { arbitrary: validBodies, weight: 4 },
  { arbitrary: shapedBodies.map((b) => JSON.stringify(b)), weight: 3 },
  {
    arbitrary: fc.constantFrom('', ' ', '[]', 'null', '{', '{"a":', '"\\ud800"', '\u0000', '__proto__'),
    weight: 1,
  },
  { arbitrary: fc.json({ maxDepth: 4 }), weight: 1 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 60 }), weight: 1 },
  // Around the size limit, in bytes (ASCII) and in characters (multi-byte).
  {
    arbitrary: fc.oneof(
      fc.integer({ min: MAX_BODY_BYTES - 2, max: MAX_BODY_BYTES + 2 }).map((n) => ' '.repeat(n)),
      fc.integer({ min: MAX_BODY_BYTES / 2 - 1, max: MAX_BODY_BYTES / 2 + 1 }).map((n) => 'é'.repeat(n)),
    ),
    weight: 1,
  },
  // Deep nesting that still fits in the limit (the parser's stack, not the size, is what it tests).
  {
    arbitrary: fc.oneof(
      fc.integer({ min: 1_000, max: 30_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
      fc.integer({ min: 1_000, max: 8_000 }).map((n) => `${'{"set":'.repeat(n)}1${'}'.repeat(n)}`),
    ),
    weight: 1,
  },
);
const headers = fc.oneof(
  fc.constant(undefined),
  fc.record({ host: fc.oneof(fc.constantFrom('127.0.0.1:8080', '[::1]:1', 'h:99999', ''), fc.string()) }),
);

const anyRequest = fc.record({
  method: methods,
  path: paths,
  query: queries,
  headers,
  body: bodies,
  iamAuthenticated: fc.boolean(),
});

/** A route's own method and path, so that most requests get past routing to the checks behind it. */
const ROUTES: ReadonlyArray<readonly [string, string]> = [
  ['GET', '/v1'],
  ['GET', '/v1/masters'],
  ['POST', '/v1/masters'],
  ['GET', '/v1/masters/{name}'],
  ['PATCH', '/v1/masters/{name}'],
  ['DELETE', '/v1/masters/{name}'],
  ['GET', '/v1/masters/{name}/address'],
  ['GET', '/v1/masters/{name}/replicas'],
  ['GET', '/v1/masters/{name}/sentinels'],
  ['GET', '/v1/masters/{name}/ckquorum'],
  ['POST', '/v1/masters/{name}/failover'],
  ['POST', '/v1/reset'],
  ['GET', '/v1/events'],
];
const routedRequest = fc
  .record({
    route: fc.constantFrom(...ROUTES),
    name: fc.oneof(
      { arbitrary: fc.constantFrom(MASTER.name, 'nope'), weight: 4 },
      { arbitrary: names, weight: 1 },
    ),
    query: queries,
    headers,
    body: bodies,
    iamAuthenticated: fc.boolean(),
  })
  .map(({ route: [method, template], name, ...rest }) => ({
    method,
    path: template.replace('{name}', name),
    ...rest,
  }));

const requests = fc.oneof({ arbitrary: routedRequest, weight: 3 }, { arbitrary: anyRequest, weight: 1 });

/** Everything the store and the event log hold, to compare before and after a request. */
async function snapshot({ store, eventLog }: StoreFixture): Promise<unknown> {
  const masters = await store.listMasters();
  return {
    masters,
    replicas: await Promise.all(masters.map((m) => store.listReplicas(m.name))),
    votes: await Promise.all(masters.map((m) => store.listVotes(m.name))),
    leases: await store.listLeases(),
    events: eventLog.all(),
  };
}

function checkShape(status: number, body: string, allowed: readonly number[]): void {
  expect(allowed).toContain(status);
  // The status page (GET /) is the one reply that is not JSON: exactly the page, and only as a 200.
  if (body === statusPageResponse().body) {
    expect(status).toBe(200);
    return;
  }
  const parsed = JSON.parse(body) as Record<string, unknown>;
  if (status >= 400) {
    expect(typeof parsed.error).toBe('string');
    expect(ERROR_CODES).toContain(parsed.code);
    expect(CODES_BY_STATUS[status]).toContain(parsed.code);
  }
}

async function route(request: ApiRequest, options: RouterOptions) {
  // Long polls answer at once: the fuzz is about what the router decides, not about waiting.
  return handleApiRequest({ ...request, signal: AbortSignal.abort() }, options);
}

describe('HTTP API router under random requests', () => {
  it('over the store view: a documented status, never a 5xx, and a refused request changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(requests, fc.boolean(), async (request, requireIamForWrites) => {
        const f = await storeFixture({ failoverWaitMs: 0 });
        const before = await snapshot(f);
        const response = await route(request, { view: f.view, requireIamForWrites, version: '0.0.0' });
        checkShape(response.status, response.body, DOCUMENTED);
        if (response.status >= 400) expect(await snapshot(f)).toEqual(before);
      }),
      { numRuns: 400 },
    );
  });

  it('with the store down: the same, plus 503 UNAVAILABLE, still never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(requests, async (request) => {
        const f = await storeFixture({ failoverWaitMs: 0 });
        f.store.setAvailable(false);
        f.eventLog.setAvailable(false);
        const response = await route(request, { view: f.view, requireIamForWrites: false, version: '0.0.0' });
        checkShape(response.status, response.body, [...DOCUMENTED, 503]);
      }),
      { numRuns: 300 },
    );
  });

  it('no write reaches the view unless the request was accepted, nor any call at all without IAM', async () => {
    await fc.assert(
      fc.asyncProperty(requests, fc.boolean(), async (request, requireIamForWrites) => {
        const view = recordingView();
        const response = await route(request, { view, requireIamForWrites, version: '0.0.0' });
        checkShape(response.status, response.body, DOCUMENTED);
        if (response.status >= 400) expect(view.writes()).toEqual([]);
        if (requireIamForWrites && !request.iamAuthenticated && response.status === 403) {
          expect(view.calls).toEqual([]);
        }
      }),
      { numRuns: 600 },
    );
  });
});
