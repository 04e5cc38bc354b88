/**
 * The HTTP API on node:http, for the local runner: loopback only, no auth (docs/http-api.md, Auth).
 * Every request goes through the router (lib/http/router.ts); this file only moves bytes.
 *
 * Long polls hold a request open for up to 20 s. Each request gets an AbortSignal that fires when its
 * client disconnects or the server closes, so the view stops waiting and the poll answers at once.
 * close() therefore never waits for a poll's deadline.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EndpointAddress, SentinelView } from '../resp/sentinelView.js';
import { errorFields, jsonLinesLog, type Log } from '../runtime/log.js';
import { type ApiResponse, handleApiRequest, MAX_BODY_BYTES } from './router.js';
import { PACKAGE_VERSION } from './version.js';

export interface HttpApiOptions {
  readonly view: SentinelView;
  /** 0 picks a free port. */
  readonly port: number;
  readonly host?: string;
  readonly version?: string;
  /** The ip and port the sentinel maps show. Default: the Host header of each request. */
  readonly announce?: EndpointAddress;
  /** Where 500s (with their cause) and 503s are logged. Default: JSON lines on stderr. */
  readonly log?: Log;
}

export interface HttpApi {
  readonly url: string;
  readonly address: { readonly host: string; readonly port: number };
  close(): Promise<void>;
}

/** After close() aborts the open requests, how long they get to answer before their sockets are cut. */
const CLOSE_GRACE_MS = 2_000;

/** The body, read up to one byte past the limit: the router answers 413 without the rest being read. */
async function readBody(request: IncomingMessage): Promise<{ text: string; complete: boolean }> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  // Stopping early must not destroy the request: its socket still carries the 413.
  for await (const chunk of request.iterator({ destroyOnReturn: false })) {
    const buffer = chunk as Buffer;
    chunks.push(buffer);
    bytes += buffer.length;
    if (bytes > MAX_BODY_BYTES) return { text: Buffer.concat(chunks).toString('utf8'), complete: false };
  }
  return { text: Buffer.concat(chunks).toString('utf8'), complete: true };
}

export async function startHttpApi(options: HttpApiOptions): Promise<HttpApi> {
  const host = options.host ?? '127.0.0.1';
  const version = options.version ?? PACKAGE_VERSION;
  const log = options.log ?? jsonLinesLog((line) => process.stderr.write(line), { component: 'http-api' });
  /** Requests being answered: aborted by close(), awaited (briefly) before the sockets are cut. */
  const open = new Map<AbortController, Promise<void>>();
  let closing = false;

  function send(res: ServerResponse, response: ApiResponse, keepAlive: boolean): void {
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(response.status, {
      ...response.headers,
      'content-length': Buffer.byteLength(response.body),
      ...(keepAlive ? {} : { connection: 'close' }),
    });
    res.end(response.body);
  }

  async function serve(req: IncomingMessage, res: ServerResponse, abort: AbortController): Promise<void> {
    const target = req.url ?? '/';
    const queryAt = target.indexOf('?');
    const path = queryAt < 0 ? target : target.slice(0, queryAt);
    const query = new URLSearchParams(queryAt < 0 ? '' : target.slice(queryAt + 1));
    const body = await readBody(req);
    const response = await handleApiRequest(
      {
        method: req.method ?? 'GET',
        path,
        query,
        headers: req.headers,
        body: body.text,
        // Loopback only: the local runner trusts its own machine (docs/http-api.md, Auth).
        iamAuthenticated: false,
        signal: abort.signal,
      },
      { view: options.view, requireIamForWrites: false, version, announce: options.announce },
    );
    if (response.status >= 500) {
      log(response.status === 503 ? 'warn' : 'error', 'HTTP API request failed', {
        method: req.method,
        path,
        status: response.status,
        ...errorFields(response.cause),
      });
    }
    // An unread body stays in the socket: the connection cannot carry another request.
    send(res, response, body.complete && !closing);
  }

  const server = createServer((req, res) => {
    const abort = new AbortController();
    // 'close' before the response ended: the client went away; a long poll need not wait any more.
    res.on('close', () => abort.abort());
    const done = serve(req, res, abort)
      .catch((error: unknown) => {
        // Only reading the request can fail here (the router never throws): the client is gone.
        log('debug', 'HTTP API request dropped', { path: req.url, ...errorFields(error) });
        res.destroy();
      })
      .finally(() => open.delete(abort));
    open.set(abort, done);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const address = { host: bound.address, port: bound.port };
  const urlHost = address.host.includes(':') ? `[${address.host}]` : address.host;

  let closed: Promise<void> | undefined;
  async function close(): Promise<void> {
    closing = true;
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const abort of open.keys()) abort.abort();
    server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...open.values()]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, CLOSE_GRACE_MS);
      }),
    ]);
    clearTimeout(timer);
    // Keep-alive sockets between requests, and any request that did not answer in time.
    server.closeAllConnections();
    await stopped;
  }

  return {
    url: `http://${urlHost}:${address.port}`,
    address,
    close: () => {
      closed ??= close();
      return closed;
    },
  };
}
