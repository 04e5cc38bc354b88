/** createWebhookSink against a real local node:http receiver. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { SentinelEvent } from '../../lib/core/types.js';
import { createWebhookSink, type WebhookSink } from '../../lib/runtime/webhook.js';

interface Receiver {
  readonly url: string;
  readonly bodies: Array<Record<string, unknown>>;
  status: number;
  delayMs: number;
  close(): Promise<void>;
}

const servers: Server[] = [];
const sinks: WebhookSink[] = [];

afterEach(async () => {
  for (const sink of sinks.splice(0)) sink.close();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function receiver(port = 0): Promise<Receiver> {
  const r: Receiver = { url: '', bodies: [], status: 204, delayMs: 0, close: async () => {} };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      setTimeout(() => {
        if (res.destroyed) return;
        if (r.status < 300) r.bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(r.status).end();
      }, r.delayMs);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  (r as { url: string }).url = `http://127.0.0.1:${address.port}/hooks/lambda-sentinel?token=abc123`;
  r.close = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return r;
}

const at = Date.parse('2026-11-25T08:23:08.350Z');
const ev = (type: string, payload: string): SentinelEvent => ({
  type,
  level: 'warning',
  payload,
  master: 'mymaster',
  at,
});

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function sink(url: string, options: Parameters<typeof createWebhookSink>[1] = {}) {
  const warnings: string[] = [];
  const s = createWebhookSink(url, {
    retryBaseMs: 20,
    retryMaxMs: 50,
    warn: (m) => warnings.push(m),
    ...options,
  });
  sinks.push(s);
  return { s, warnings };
}

describe('webhook sink', () => {
  it('POSTs each event as JSON, in order, with the documented fields', async () => {
    const r = await receiver();
    const { s } = sink(r.url, { secrets: ['hunter2'] });
    s.send(ev('+sdown', 'master mymaster 127.0.0.1 6379'), 'sentinel-a', 0);
    s.send(ev('+new-epoch', '1'), 'sentinel-a', 1);
    s.send(ev('+set', 'master mymaster 127.0.0.1 6379 auth-pass hunter2'), 'sentinel-b');
    await s.flush();
    expect(r.bodies).toEqual([
      {
        type: '+sdown',
        level: 'warning',
        payload: 'master mymaster 127.0.0.1 6379',
        master: 'mymaster',
        sentinelId: 'sentinel-a',
        at: '2026-11-25T08:23:08.350Z',
        epoch: 0,
      },
      expect.objectContaining({ type: '+new-epoch', payload: '1', epoch: 1 }),
      expect.objectContaining({
        type: '+set',
        payload: 'master mymaster 127.0.0.1 6379 auth-pass ******',
        epoch: null,
      }),
    ]);
    expect(s.stats).toEqual({ delivered: 3, dropped: 0, queued: 0 });
  });

  it('receiver down: send never blocks or throws, the oldest are dropped with a warning, the rest arrive in order', async () => {
    const r = await receiver();
    r.status = 503;
    const { s, warnings } = sink(r.url, { maxQueue: 3 });
    const started = performance.now();
    for (let i = 1; i <= 8; i++) s.send(ev('+sdown', `event ${i}`), 'sentinel-a');
    // send() is synchronous: it returned before any POST could even be answered.
    expect(r.bodies).toEqual([]);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(warnings).toEqual([
      expect.stringContaining('queue full (3); dropping the oldest events (1 so far)'),
    ]);
    await until(() => warnings.some((w) => /POST failed \(HTTP 503\); retrying/.test(w)));
    // Neither the path nor the token of the URL is shown.
    expect(warnings.join('\n')).not.toContain('abc123');
    expect(warnings.join('\n')).not.toContain('/hooks');
    r.status = 204;
    await s.flush(5_000);
    // Event 1 was being retried; 2–5 were pushed out by 6–8.
    expect(r.bodies.map((b) => b.payload)).toEqual(['event 1', 'event 6', 'event 7', 'event 8']);
    expect(warnings.at(-1)).toMatch(/delivering again \(4 events were dropped meanwhile\)/);
    expect(s.stats).toEqual({ delivered: 4, dropped: 4, queued: 0 });
  });

  it('a receiver that is not listening, or too slow, is retried; a 4xx drops just that event', async () => {
    const r = await receiver();
    const url = r.url;
    await r.close();
    const { s, warnings } = sink(url, { timeoutMs: 200 });
    s.send(ev('+sdown', 'a'), 'sentinel-a');
    await until(() => warnings.length > 0);
    expect(warnings[0]).toMatch(/POST failed/);
    s.close();
    expect(() => s.send(ev('+sdown', 'after close'), 'sentinel-a')).not.toThrow();

    const slow = await receiver();
    slow.delayMs = 1_000;
    const second = sink(slow.url, { timeoutMs: 100 });
    second.s.send(ev('+sdown', 'slow'), 'sentinel-a');
    await until(() => second.warnings.length > 0);
    expect(second.warnings[0]).toMatch(/no answer within 100 ms/);
    second.s.close();

    const picky = await receiver();
    picky.status = 400;
    const third = sink(picky.url);
    third.s.send(ev('+sdown', 'rejected'), 'sentinel-a');
    await third.s.flush();
    expect(third.warnings).toEqual([
      expect.stringMatching(/HTTP 400 for \+sdown from sentinel-a; event dropped/),
    ]);
    picky.status = 204;
    third.s.send(ev('-sdown', 'accepted'), 'sentinel-a');
    await third.s.flush();
    expect(picky.bodies.map((b) => b.payload)).toEqual(['accepted']);
  });

  it('rejects a URL that is not http(s) at creation', () => {
    expect(() => createWebhookSink('ftp://example.invalid/x')).toThrow(/http or https/);
    expect(() => createWebhookSink('not a url')).toThrow();
  });
});
