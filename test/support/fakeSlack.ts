/**
 * A fake Slack incoming webhook on node:http: records each POSTed JSON body and answers `ok` (200), or
 * the status set in `status` (Slack answers 4xx/5xx with a short text such as `invalid_payload`).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeSlack {
  /** The webhook URL, with a secret-looking path like Slack's. */
  readonly url: string;
  readonly posts: Array<{ path: string; contentType: string | undefined; body: unknown }>;
  status: number;
  /** Delay before answering, to test the caller's timeout. */
  delayMs: number;
  close(): Promise<void>;
}

export async function startFakeSlack(path = '/services/T000/B000/XXXXXXXXXXXXXXXX'): Promise<FakeSlack> {
  const fake: FakeSlack = {
    url: '',
    posts: [],
    status: 200,
    delayMs: 0,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // recorded as text
      }
      fake.posts.push({ path: req.url ?? '', contentType: req.headers['content-type'], body });
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(fake.status, { 'content-type': 'text/plain' });
        res.end(fake.status === 200 ? 'ok' : 'internal_error');
      }, fake.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  (fake as { url: string }).url = `http://127.0.0.1:${port}${path}`;
  return fake;
}
