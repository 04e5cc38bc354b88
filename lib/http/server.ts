/**
 * The HTTP API on node:http, for the local runner (docs/http-api.md, "Auth"). Every request goes through
 * the router (lib/http/router.ts); this file moves bytes and decides who may ask, before the router runs:
 *
 * - bound to loopback, a request must name a loopback host (`Host: 127.0.0.1`, `localhost` or `[::1]`,
 *   any port): a web page that rebinds its own DNS name to 127.0.0.1 sends its own name (DNS rebinding);
 * - a write (any method but GET and HEAD) must come with `Content-Type: application/json` and without a
 *   foreign `Origin` (none, or a loopback one): a web page cannot send that without the browser asking
 *   first (CORS preflight), which this server never allows (CSRF);
 * - users as on the Redis-protocol endpoint (lib/core/acl.ts), with HTTP Basic auth: without
 *   credentials a request is the `default` user if that needs no password. Each route is the SENTINEL
 *   command it serves, so a read-only user may only read. Bound beyond loopback, the server refuses to
 *   start unless every user has a password. The status page (`GET /`) holds no data: any authenticated
 *   user may load it; its summary (`GET /v1/status`) needs every read it is made of.
 *
 * Long polls hold a request open for up to 20 s. Each request gets an AbortSignal that fires when its
 * client disconnects or the server closes, so the view stops waiting and the poll answers at once.
 * close() therefore never waits for a poll's deadline.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AccessControl } from '../accessControl.js';
import type { StatusSource } from '../commands/statusSource.js';
import type { EndpointAddress, SentinelView } from '../commands/view.js';
import { type AclUser, DEFAULT_USER, isLoopbackBind, mayRun, mayUsePattern } from '../core/acl.js';
import { shownValue } from '../core/sentinelReplies.js';
import type { AclUserSpec } from '../core/types.js';
import { errorFields, jsonLinesLog, type Log } from '../runtime/log.js';
import { type ApiResponse, handleApiRequest, MAX_BODY_BYTES, matchRoute, type RouteName } from './router.js';
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
  /**
   * The ACL users, as on the Redis-protocol endpoint (SentinelConfig.access.users). Without a user named
   * `default`, Redis's: no password needed, every command. Required (every user with a password) when
   * `host` is beyond loopback.
   */
  readonly users?: readonly AclUserSpec[];
  /** The status summary of `GET /v1/status` (and so of the page at `/`). */
  readonly status?: StatusSource;
}

export interface HttpApi {
  readonly url: string;
  readonly address: { readonly host: string; readonly port: number };
  close(): Promise<void>;
}

/** After close() aborts the open requests, how long they get to answer before their sockets are cut. */
const CLOSE_GRACE_MS = 2_000;

/** The names a request to a loopback-bound server may give in `Host`, with any port. */
const LOOPBACK_HOST_HEADER = /^(?:127\.0\.0\.1|localhost|\[::1\])(?::\d{1,5})?$/i;
/** An `Origin` that is this machine: a page served from loopback, which is as trusted as the CLI. */
const LOOPBACK_ORIGIN = /^https?:\/\/(?:127\.0\.0\.1|localhost|\[::1\])(?::\d{1,5})?$/i;
const JSON_MEDIA_TYPE = 'application/json';
const READ_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD']);
const BASIC_REALM = 'Basic realm="lambda-sentinel", charset="UTF-8"';

/** The SENTINEL command each route and method serves: the permission a user needs for it. */
const ROUTE_COMMANDS: Readonly<Record<RouteName, Readonly<Record<string, string>>>> = {
  // The page holds no data (handled below); the summary is what these reads and the event log give.
  page: {},
  status: {},
  root: { GET: 'sentinel|myid' },
  masters: { GET: 'sentinel|masters', POST: 'sentinel|monitor' },
  master: { GET: 'sentinel|master', PATCH: 'sentinel|set', DELETE: 'sentinel|remove' },
  address: { GET: 'sentinel|get-master-addr-by-name' },
  replicas: { GET: 'sentinel|replicas' },
  sentinels: { GET: 'sentinel|sentinels' },
  ckquorum: { GET: 'sentinel|ckquorum' },
  failover: { POST: 'sentinel|failover' },
  reset: { POST: 'sentinel|reset' },
  // The event log is every channel's messages: what PSUBSCRIBE * would get (handled below).
  events: {},
};

/** The status summary holds what these commands and the event log answer: a user needs all of them. */
const STATUS_COMMANDS = ['sentinel|masters', 'sentinel|replicas', 'sentinel|sentinels'] as const;

function refusal(
  status: number,
  code: string,
  message: string,
  headers: Readonly<Record<string, string>> = {},
): ApiResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify({ error: message, code }),
  };
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** `Authorization: Basic …` as user and password; null when it is not Basic credentials. */
function basicCredentials(value: string): { readonly user: string; readonly password: string } | null {
  const match = /^basic[ \t]+([A-Za-z0-9+/=]+)[ \t]*$/i.exec(value);
  if (!match) return null;
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * May `user` make this request? The route's SENTINEL command decides. A request that matches no route
 * the router would serve needs every permission of its kind: the router then only refuses it, but a
 * restricted user must not find a way around the table here.
 */
function permissionProblem(user: AclUser, method: string, path: string): string | null {
  const read = READ_METHODS.has(method);
  let route: RouteName | null = null;
  try {
    route = matchRoute(path)?.route ?? null;
  } catch {
    route = null;
  }
  const readsEventLog = (): boolean => mayRun(user, 'psubscribe') && mayUsePattern(user, '*');
  if (route === 'events' && read) {
    return readsEventLog()
      ? null
      : "this user has no permissions to read the event log (it takes what 'PSUBSCRIBE *' takes)";
  }
  // The page is static: any authenticated user may load it; what it shows comes from /v1/status.
  if (route === 'page' && read) return null;
  if (route === 'status' && read) {
    return STATUS_COMMANDS.every((c) => mayRun(user, c)) && readsEventLog()
      ? null
      : `this user has no permissions to read the status summary (it takes ${STATUS_COMMANDS.map((c) => `'${c}'`).join(', ')} and what 'PSUBSCRIBE *' takes)`;
  }
  const command = route === null ? undefined : ROUTE_COMMANDS[route][read ? 'GET' : method];
  if (command !== undefined) {
    return mayRun(user, command) ? null : `this user has no permissions to run the '${command}' command`;
  }
  const every = Object.values(ROUTE_COMMANDS).flatMap((byMethod) =>
    Object.entries(byMethod)
      .filter(([m]) => READ_METHODS.has(m) === read)
      .map(([, c]) => c),
  );
  return every.every((c) => mayRun(user, c))
    ? null
    : `this user has no permissions for ${method} ${shownValue(path)} (no route; only a user with every ${read ? 'read' : 'write'} permission may try it)`;
}

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
  const access = new AccessControl(options.users);
  const loopbackOnly = isLoopbackBind(host);
  if (!loopbackOnly && !access.requiresPassword) {
    throw new Error(
      `refusing to serve the HTTP API on ${host}, beyond loopback, while a user needs no password: ` +
        'anyone who can reach it could change the monitored masters. Give every user a password ' +
        '(requirepass or user lines), or keep it on 127.0.0.1',
    );
  }
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

  /** Whether this request may reach the router at all: a refusal (4xx with its reason), or null. */
  function refuse(req: IncomingMessage, method: string, path: string): ApiResponse | null {
    const hostHeader = header(req, 'host');
    if (loopbackOnly && (hostHeader === undefined || !LOOPBACK_HOST_HEADER.test(hostHeader))) {
      return refusal(
        403,
        'FORBIDDEN',
        `The Host header ${hostHeader === undefined ? 'is missing' : `'${shownValue(hostHeader)}' is not a loopback name`}: ` +
          'this server answers only requests addressed to 127.0.0.1, localhost or [::1] (a web page that ' +
          'points its own name at this machine must not reach it)',
      );
    }
    const write = !READ_METHODS.has(method);
    const origin = header(req, 'origin');
    if (write && origin !== undefined && !LOOPBACK_ORIGIN.test(origin)) {
      return refusal(
        403,
        'FORBIDDEN',
        `Writes from a web page are refused (Origin '${shownValue(origin)}'): only requests without an Origin, ` +
          'or from a loopback origin, may change anything',
      );
    }
    let user: AclUser | null;
    const authorization = header(req, 'authorization');
    if (authorization !== undefined) {
      const credentials = basicCredentials(authorization);
      if (credentials === null) {
        return refusal(401, 'UNAUTHORIZED', 'The Authorization header must hold HTTP Basic credentials', {
          'www-authenticate': BASIC_REALM,
        });
      }
      user = access.authenticate(
        credentials.user === '' ? DEFAULT_USER : credentials.user,
        credentials.password,
      );
      if (user === null) {
        return refusal(401, 'UNAUTHORIZED', 'WRONGPASS invalid username-password pair or user is disabled.', {
          'www-authenticate': BASIC_REALM,
        });
      }
    } else {
      user = access.initialUser();
      if (user === null) {
        return refusal(
          401,
          'UNAUTHORIZED',
          'Authentication required: send HTTP Basic credentials of a configured user (the CLI sends ' +
            'LAMBDA_SENTINEL_USER and LAMBDA_SENTINEL_PASSWORD)',
          { 'www-authenticate': BASIC_REALM },
        );
      }
    }
    if (write) {
      const type = header(req, 'content-type');
      const mediaType = type?.split(';')[0]?.trim().toLowerCase();
      if (mediaType !== JSON_MEDIA_TYPE) {
        return refusal(
          415,
          'UNSUPPORTED_MEDIA_TYPE',
          `Writes need 'Content-Type: ${JSON_MEDIA_TYPE}' (got ${type === undefined ? 'none' : `'${shownValue(type)}'`}), ` +
            'which a web page cannot send to another site without asking first',
        );
      }
    }
    const problem = permissionProblem(user, method, path);
    return problem === null ? null : refusal(403, 'NOPERM', problem);
  }

  async function serve(req: IncomingMessage, res: ServerResponse, abort: AbortController): Promise<void> {
    const target = req.url ?? '/';
    const queryAt = target.indexOf('?');
    const path = queryAt < 0 ? target : target.slice(0, queryAt);
    const query = new URLSearchParams(queryAt < 0 ? '' : target.slice(queryAt + 1));
    const refused = refuse(req, req.method ?? 'GET', path);
    if (refused !== null) {
      // The body is not read: the connection cannot carry another request.
      send(res, refused, false);
      return;
    }
    const body = await readBody(req);
    const response = await handleApiRequest(
      {
        method: req.method ?? 'GET',
        path,
        query,
        headers: req.headers,
        body: body.text,
        // Not the function URL: who may do what was decided above (refuse).
        iamAuthenticated: false,
        signal: abort.signal,
      },
      {
        view: options.view,
        requireIamForWrites: false,
        version,
        announce: options.announce,
        status: options.status,
      },
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
