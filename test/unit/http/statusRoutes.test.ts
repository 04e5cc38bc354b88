/**
 * The router's two status routes (docs/http-api.md, "Status page"): `GET /` is the static page,
 * `GET /v1/status` the summary from the server's status source; both are reads, checked like any other.
 */
import { describe, expect, it } from 'vitest';
import type { StatusSummary } from '../../../lib/commands/statusSummary.js';
import { handleApiRequest, type RouterOptions } from '../../../lib/http/router.js';
import { STATUS_PAGE_CSP } from '../../../lib/http/statusPage.js';
import { recordingView } from './apiFixtures.js';

const SUMMARY: StatusSummary = {
  generatedAt: 1,
  refreshMs: 1_000,
  observer: null,
  masters: [],
  sentinels: [],
  events: [],
  failovers: [],
};

const options = (extra: Partial<RouterOptions> = {}): RouterOptions => ({
  view: recordingView(),
  requireIamForWrites: true,
  version: 'test',
  ...extra,
});

describe('GET / and GET /v1/status', () => {
  it('serves the page at / only, as HTML with its CSP; a body or another method is refused', async () => {
    const page = await handleApiRequest({ method: 'GET', path: '/', iamAuthenticated: false }, options());
    expect(page.status).toBe(200);
    expect(page.headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': STATUS_PAGE_CSP,
      'x-frame-options': 'DENY',
    });
    expect(page.body.startsWith('<!doctype html>')).toBe(true);

    const head = await handleApiRequest({ method: 'HEAD', path: '/', iamAuthenticated: false }, options());
    expect(head.status).toBe(405);
    expect(head.headers.allow).toBe('GET');
    // A write, even to the page, needs IAM auth first (as on every path), then is not allowed.
    const post = await handleApiRequest({ method: 'POST', path: '/', iamAuthenticated: false }, options());
    expect(post.status).toBe(403);
    const signed = await handleApiRequest({ method: 'POST', path: '/', iamAuthenticated: true }, options());
    expect(signed.status).toBe(405);
    const body = await handleApiRequest(
      { method: 'GET', path: '/', body: '{}', iamAuthenticated: false },
      options(),
    );
    expect(body.status).toBe(400);
    const query = await handleApiRequest(
      { method: 'GET', path: '/', query: { x: '1' }, iamAuthenticated: false },
      options(),
    );
    expect(query.status).toBe(400);
  });

  it('answers the source’s summary as JSON, and 404 where the server keeps none', async () => {
    let calls = 0;
    const status = async () => {
      calls += 1;
      return SUMMARY;
    };
    const r = await handleApiRequest(
      { method: 'GET', path: '/v1/status', iamAuthenticated: false },
      options({ status }),
    );
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    expect(JSON.parse(r.body)).toEqual(SUMMARY);
    expect(calls).toBe(1);

    const none = await handleApiRequest(
      { method: 'GET', path: '/v1/status', iamAuthenticated: false },
      options(),
    );
    expect(none.status).toBe(404);
    expect(JSON.parse(none.body)).toEqual({
      error: 'This server keeps no status summary',
      code: 'NOT_FOUND',
    });
    const nested = await handleApiRequest(
      { method: 'GET', path: '/v1/status/x', iamAuthenticated: false },
      options({ status }),
    );
    expect(nested.status).toBe(404);
    expect(calls).toBe(1);
  });
});
