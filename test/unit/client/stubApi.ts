/**
 * A stand-in for the HTTP API in client unit tests: a real node:http server on a free loopback port
 * whose replies a test writes as a function of the request.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StubRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  /** Aborted when the client goes away (a long poll that was given up). */
  readonly signal: AbortSignal;
}

export interface StubReply {
  readonly status?: number;
  /** Sent as JSON; a string is sent as it is. */
  readonly body?: unknown;
}

export interface StubApi {
  readonly url: string;
  readonly requests: StubRequest[];
  close(): Promise<void>;
}

export async function startStubApi(
  handle: (request: StubRequest) => StubReply | Promise<StubReply>,
): Promise<StubApi> {
  const requests: StubRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const gone = new AbortController();
      res.on('close', () => gone.abort());
      const request: StubRequest = {
        method: req.method ?? 'GET',
        url: new URL(req.url ?? '/', `http://${req.headers.host}`),
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        signal: gone.signal,
      };
      requests.push(request);
      let reply: StubReply;
      try {
        reply = await handle(request);
      } catch (error) {
        reply = { status: 500, body: { error: String(error), code: 'STUB' } };
      }
      if (res.destroyed) return;
      const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? {});
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/json' });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
