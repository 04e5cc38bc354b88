/**
 * The HTTP API (docs/http-api.md) as one pure function: a request in, a response out, no sockets. The
 * local runner's server (lib/http/server.ts) and the Lambda function URL (functions/api.ts) both answer
 * through it, from the same SentinelView the Redis-protocol endpoint uses.
 *
 * Order of checks, so that a refused request never reaches the view:
 * 1. 403 for a write method without IAM auth (when required), whatever the path: an unauthenticated
 *    caller learns nothing about routes or bodies.
 * 2. 413 for a body over 64 KiB.
 * 3. 404 / 405 for the route and method.
 * 4. 400 for the name, the query and the body's shape, before the view is called. The values of
 *    MONITOR and SET are the view's to judge, so HTTP and RESP refuse them with the same text.
 *
 * Thrown errors never escape: StoreUnavailableError becomes 503, anything else a generic 500 whose
 * cause is handed back in `cause` for the caller to log (it is never sent).
 */

import type { StatusSource } from '../commands/statusSource.js';
import {
  type CommandReply,
  type EndpointAddress,
  type FailoverReply,
  type Fields,
  MAX_ADDRESS_WAIT_MS,
  type SentinelView,
} from '../commands/view.js';
import { MAX_PORT } from '../core/constants.js';
import { readJsonObject } from '../core/json.js';
import { InvalidMasterNameError, masterNameProblem } from '../core/names.js';
import { SENTINEL_REPLY, shownValue } from '../core/sentinelReplies.js';
import { LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT } from '../eventLog.js';
import { StoreUnavailableError } from '../ports.js';
import { statusPageResponse } from './statusPage.js';

/** Request bodies above this are refused with 413 (docs/http-api.md, Conventions). */
export const MAX_BODY_BYTES = 64 * 1024;

export type QueryInput = URLSearchParams | Readonly<Record<string, string | undefined>>;
export type HeaderInput = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface ApiRequest {
  readonly method: string;
  /** The path as received (percent-encoded), without the query string. */
  readonly path: string;
  readonly query?: QueryInput;
  readonly headers?: HeaderInput;
  readonly body?: string | undefined;
  /** The request reached us through IAM auth (SigV4-signed, the Lambda URL's authorizer.iam). */
  readonly iamAuthenticated: boolean;
  /** Aborted when the client goes away or the server stops: a long poll then answers at once. */
  readonly signal?: AbortSignal;
}

export interface ApiResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** JSON text (the status page at `/`: its HTML). */
  readonly body: string;
  /** What was thrown behind a 500 or a 503, for the caller to log. Never sent to the client. */
  readonly cause?: unknown;
}

export interface RouterOptions {
  readonly view: SentinelView;
  readonly requireIamForWrites: boolean;
  /** The package version `GET /v1` reports. */
  readonly version: string;
  /**
   * The ip and port the sentinel maps show (`GET …/sentinels`). Default: the host and port of the
   * request's Host header (443 when it names none), like the Redis-protocol endpoint's own address.
   */
  readonly announce?: EndpointAddress;
  /** The status summary `GET /v1/status` serves (and the page at `/` shows); without it, that route is 404. */
  readonly status?: StatusSource;
}

export const ERROR_CODES = [
  'INVALID',
  'FORBIDDEN',
  'NOSUCHMASTER',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'DUPLICATE',
  'INPROG',
  'NOGOODSLAVE',
  'CONFLICT',
  'TOO_LARGE',
  'UNAVAILABLE',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Methods that never change anything; every other one is a write. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Digits only: larger numbers are not safe integers, and no epoch, port or time needs more. */
const SMALL_DECIMAL = /^[0-9]{1,15}$/;
const SIGNED_DECIMAL = /^-?[0-9]{1,15}$/;
const DEFAULT_ANNOUNCE_PORT = 443;

export type RouteName =
  | 'page'
  | 'status'
  | 'root'
  | 'masters'
  | 'master'
  | 'address'
  | 'replicas'
  | 'sentinels'
  | 'ckquorum'
  | 'failover'
  | 'reset'
  | 'events';

/** The methods each route answers, in the order the `allow` header lists them. */
const ROUTE_METHODS: Readonly<Record<RouteName, readonly string[]>> = {
  page: ['GET'],
  status: ['GET'],
  root: ['GET'],
  masters: ['GET', 'POST'],
  master: ['GET', 'PATCH', 'DELETE'],
  address: ['GET'],
  replicas: ['GET'],
  sentinels: ['GET'],
  ckquorum: ['GET'],
  failover: ['POST'],
  reset: ['POST'],
  events: ['GET'],
};

/** Query parameters each route accepts; any other is refused (a misspelt option must not be ignored). */
const ROUTE_QUERY: Readonly<Partial<Record<RouteName, readonly string[]>>> = {
  address: ['after_epoch', 'wait_ms'],
  failover: ['wait'],
  events: ['master', 'since', 'limit'],
};

const MASTER_SUBROUTES: ReadonlySet<string> = new Set([
  'address',
  'replicas',
  'sentinels',
  'ckquorum',
  'failover',
]);

export interface RouteMatch {
  readonly route: RouteName;
  /** The decoded `{name}` segment, not yet validated. */
  readonly name?: string;
}

/** A refusal: becomes an error response with this status and code. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

const invalid = (message: string): ApiError => new ApiError(400, 'INVALID', message);
const noSuchMaster = (): ApiError => new ApiError(404, 'NOSUCHMASTER', SENTINEL_REPLY.noSuchMaster);

function json(status: number, value: unknown, headers: Readonly<Record<string, string>> = {}): ApiResponse {
  return {
    status,
    // An address lookup must never be answered from a cache.
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(value),
  };
}

export function errorResponse(
  status: number,
  code: ErrorCode,
  message: string,
  headers: Readonly<Record<string, string>> = {},
): ApiResponse {
  return json(status, { error: message, code }, headers);
}

/** Sentinel's ordered [field, value] pairs as a JSON object (insertion order is kept for these keys). */
export function fieldsToObject(fields: Fields): Record<string, string> {
  return Object.fromEntries(fields);
}

export async function handleApiRequest(request: ApiRequest, options: RouterOptions): Promise<ApiResponse> {
  try {
    return await route(request, options);
  } catch (error) {
    if (error instanceof ApiError)
      return errorResponse(error.status, error.code, error.message, error.headers);
    // The view's own check of a name (the routes check it first; this keeps any other path a 400).
    if (error instanceof InvalidMasterNameError) return errorResponse(400, 'INVALID', error.message);
    if (error instanceof StoreUnavailableError) {
      return { ...errorResponse(503, 'UNAVAILABLE', 'The store cannot be reached; retry'), cause: error };
    }
    return { ...errorResponse(500, 'INTERNAL', 'Internal error'), cause: error };
  }
}

async function route(request: ApiRequest, options: RouterOptions): Promise<ApiResponse> {
  // Methods are case-sensitive: `post` is not a safe method, so it is refused like POST.
  const method = request.method;
  if (options.requireIamForWrites && !request.iamAuthenticated && !SAFE_METHODS.has(method)) {
    throw new ApiError(403, 'FORBIDDEN', 'Write commands need an IAM-authenticated (SigV4-signed) request');
  }
  const body = request.body ?? '';
  // A UTF-16 length over the limit is a byte length over it too; only shorter strings need counting.
  if (body.length > MAX_BODY_BYTES || Buffer.byteLength(body, 'utf8') > MAX_BODY_BYTES) {
    throw new ApiError(413, 'TOO_LARGE', `The body is over ${MAX_BODY_BYTES} bytes`);
  }
  const match = matchRoute(request.path);
  if (match === null) throw new ApiError(404, 'NOT_FOUND', 'No such route');
  const allowed = ROUTE_METHODS[match.route];
  if (!allowed.includes(method)) {
    throw new ApiError(405, 'METHOD_NOT_ALLOWED', `Method not allowed; use ${allowed.join(', ')}`, {
      allow: allowed.join(', '),
    });
  }
  const name = match.name === undefined ? undefined : masterName(match.name);
  const query = readQuery(request.query, ROUTE_QUERY[match.route] ?? []);
  const { view } = options;

  switch (match.route) {
    case 'page':
      // Static: no data, no secret. What it shows it reads from /v1/status, with the same auth as any read.
      noBody(body, method);
      return statusPageResponse();
    case 'status':
      noBody(body, method);
      if (options.status === undefined)
        throw new ApiError(404, 'NOT_FOUND', 'This server keeps no status summary');
      return json(200, await options.status());
    case 'root':
      noBody(body, method);
      return json(200, { myid: view.myId(), version: options.version });
    case 'masters':
      if (method === 'POST') return monitor(view, body);
      noBody(body, method);
      return json(200, { masters: (await view.masters()).map(fieldsToObject) });
    case 'master': {
      const master = name as string;
      if (method === 'PATCH') return commandResponse(await view.set(master, setArgs(body)), 'set');
      noBody(body, method);
      if (method === 'DELETE') return commandResponse(await view.remove(master), 'remove');
      const fields = await view.master(master);
      if (fields === null) throw noSuchMaster();
      return json(200, fieldsToObject(fields));
    }
    case 'address':
      noBody(body, method);
      return address(view, name as string, query, request.signal);
    case 'replicas': {
      noBody(body, method);
      const list = await view.replicas(name as string);
      if (list === null) throw noSuchMaster();
      return json(200, { replicas: list.map(fieldsToObject) });
    }
    case 'sentinels': {
      noBody(body, method);
      const list = await view.sentinels(
        name as string,
        options.announce ?? announceFromHost(request.headers),
      );
      if (list === null) throw noSuchMaster();
      return json(200, { sentinels: list.map(fieldsToObject) });
    }
    case 'ckquorum': {
      noBody(body, method);
      const reply = await view.ckquorum(name as string);
      if (reply === null) throw noSuchMaster();
      return json(200, { ok: reply.ok, reply: reply.text });
    }
    case 'failover':
      return failoverResponse(
        await view.failover(name as string, {
          ...failoverOptions(body),
          awaitOutcome: waitsForOutcome(query),
        }),
      );
    case 'reset':
      return json(200, { reset: await view.reset(resetPattern(body)) });
    case 'events':
      noBody(body, method);
      return json(200, { events: await view.events(eventQuery(query)) });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Routes

/**
 * Decoded segments matched against the route table; null for no route. Bad percent-encoding is a 400.
 * Exported for the local server, which decides a user's permission on the same route the router serves.
 */
export function matchRoute(path: string): RouteMatch | null {
  if (path === '/') return { route: 'page' };
  if (!path.startsWith('/')) return null;
  let segments: string[];
  try {
    segments = path.slice(1).split('/').map(decodeURIComponent);
  } catch {
    throw invalid('Malformed percent-encoding in the path');
  }
  // An empty segment (`/v1/masters/`, `//v1`) names nothing.
  if (segments.includes('')) return null;
  const [version, collection, name, sub, ...rest] = segments;
  if (version !== 'v1' || rest.length > 0) return null;
  if (collection === undefined) return { route: 'root' };
  if (collection === 'reset' || collection === 'events' || collection === 'status')
    return name === undefined ? { route: collection } : null;
  if (collection !== 'masters') return null;
  if (name === undefined) return { route: 'masters' };
  if (sub === undefined) return { route: 'master', name };
  return MASTER_SUBROUTES.has(sub) ? { route: sub as RouteName, name } : null;
}

/** The master-name rule of lib/core/names.ts: Sentinel's charset, at most MAX_MASTER_NAME_LENGTH. */
function masterName(name: string): string {
  const problem = masterNameProblem(name);
  if (problem !== null) throw invalid(`Invalid master name '${shownValue(name)}': ${problem}`);
  return name;
}

function readQuery(input: QueryInput | undefined, accepted: readonly string[]): Map<string, string> {
  const entries: Array<[string, string]> =
    input === undefined
      ? []
      : input instanceof URLSearchParams
        ? [...input.entries()]
        : Object.entries(input).filter((e): e is [string, string] => typeof e[1] === 'string');
  const query = new Map<string, string>();
  for (const [key, value] of entries) {
    if (!accepted.includes(key)) {
      throw invalid(
        accepted.length === 0
          ? `Unknown query parameter '${shownValue(key)}': this route takes none`
          : `Unknown query parameter '${shownValue(key)}': use ${accepted.join(', ')}`,
      );
    }
    if (query.has(key)) throw invalid(`Query parameter '${key}' given more than once`);
    query.set(key, value);
  }
  return query;
}

function nonNegativeInteger(value: string, name: string): number {
  if (!SMALL_DECIMAL.test(value)) {
    throw invalid(`Invalid value '${shownValue(value)}' for '${name}': expected a non-negative integer`);
  }
  return Number(value);
}

function integer(value: string, name: string): number {
  if (!SIGNED_DECIMAL.test(value)) {
    throw invalid(`Invalid value '${shownValue(value)}' for '${name}': expected an integer`);
  }
  return Number(value);
}

async function address(
  view: SentinelView,
  name: string,
  query: Map<string, string>,
  signal: AbortSignal | undefined,
): Promise<ApiResponse> {
  const afterText = query.get('after_epoch');
  const waitText = query.get('wait_ms');
  // A negative after_epoch (a client that knows no epoch yet) is below every epoch: it answers at once.
  const afterEpoch = afterText === undefined ? undefined : integer(afterText, 'after_epoch');
  // Validated even when unused (no after_epoch), so a bad value is never silently accepted.
  const waitMs = waitText === undefined ? MAX_ADDRESS_WAIT_MS : nonNegativeInteger(waitText, 'wait_ms');
  const found =
    afterEpoch === undefined
      ? await view.addressOf(name)
      : await view.waitForAddress(name, afterEpoch, Math.min(waitMs, MAX_ADDRESS_WAIT_MS), signal);
  if (found === null) throw noSuchMaster();
  return json(200, { ip: found.ip, port: found.port, epoch: found.epoch });
}

function eventQuery(query: Map<string, string>): { master?: string; since?: number; limit: number } {
  const master = query.get('master');
  const sinceText = query.get('since');
  const limitText = query.get('limit');
  const limit = limitText === undefined ? LIST_DEFAULT_LIMIT : nonNegativeInteger(limitText, 'limit');
  if (limit < 1 || limit > LIST_MAX_LIMIT) {
    throw invalid(`Invalid value '${limitText}' for 'limit': expected 1 to ${LIST_MAX_LIMIT}`);
  }
  return {
    ...(master === undefined ? {} : { master: masterName(master) }),
    ...(sinceText === undefined ? {} : { since: nonNegativeInteger(sinceText, 'since') }),
    limit,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Bodies

function noBody(body: string, method: string): void {
  if (body.trim() !== '') throw invalid(`${method} on this route takes no body`);
}

/** The body as a JSON object; undefined when empty and not required. */
function jsonObject(body: string, required: boolean): Record<string, unknown> | undefined {
  if (body.trim() === '') {
    if (required) throw invalid('A JSON object body is required');
    return undefined;
  }
  const read = readJsonObject(body);
  if (!read.ok) {
    throw invalid(
      read.problem === 'not-json' ? 'The body is not valid JSON' : 'The body must be a JSON object',
    );
  }
  return read.value;
}

/** Refuses fields the route does not know: a misspelt option must not be silently ignored. */
function onlyFields(object: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(object)) {
    if (!known.includes(key))
      throw invalid(`Unknown field '${shownValue(key)}': expected ${known.join(', ')}`);
  }
}

function required(object: Record<string, unknown>, field: string): unknown {
  if (!Object.hasOwn(object, field) || object[field] === undefined) throw invalid(`Missing field '${field}'`);
  return object[field];
}

/**
 * A number field of a command, as the SENTINEL command takes it: a string as typed, or a JSON number
 * written out. Its value is the view's to judge, so HTTP and RESP refuse it with the same text.
 */
function wordOf(value: unknown, field: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw invalid(`'${field}' must be a number or a string`);
}

/**
 * SENTINEL MONITOR. The router checks the body's shape; the values (name charset, quorum, port range,
 * address) are checked by the view with Sentinel's texts, exactly as over RESP.
 */
async function monitor(view: SentinelView, text: string): Promise<ApiResponse> {
  const body = jsonObject(text, true) as Record<string, unknown>;
  onlyFields(body, ['name', 'ip', 'port', 'quorum']);
  const [name, ip, port, quorum] = ['name', 'ip', 'port', 'quorum'].map((f) => required(body, f));
  if (typeof name !== 'string') throw invalid("'name' must be a string");
  if (typeof ip !== 'string') throw invalid("'ip' must be a string");
  const reply = await view.monitor(name, ip, wordOf(port, 'port'), wordOf(quorum, 'quorum'));
  if (!reply.ok) return commandResponse(reply, 'monitor');
  return json(201, { ok: true }, { location: `/v1/masters/${encodeURIComponent(name)}` });
}

/**
 * SENTINEL SET as `{"set": [[option, value], ["rename-command", old, new]]}`. The router checks the
 * shape; options, their number of values and the values are the view's to judge (Sentinel's texts).
 */
function setArgs(text: string): string[][] {
  const body = jsonObject(text, true) as Record<string, unknown>;
  onlyFields(body, ['set']);
  const pairs = required(body, 'set');
  if (!Array.isArray(pairs) || pairs.length === 0) {
    throw invalid("'set' must be a non-empty array of [option, value] arrays");
  }
  return pairs.map((pair: unknown, i) => {
    if (!Array.isArray(pair) || typeof pair[0] !== 'string') {
      throw invalid(`'set[${i}]' must be an array whose first element is the option name`);
    }
    return pair.map((word: unknown, j) => {
      if (typeof word === 'string') return word;
      if (j > 0 && typeof word === 'number' && Number.isFinite(word)) return String(word);
      throw invalid(`'set[${i}][${j}]' must be a string`);
    });
  });
}

/**
 * FAILOVER's `wait`: `true` (the default) waits up to 5 s for the outcome, so a caller without a
 * sentinel's view learns NOGOODSLAVE; `false` answers as soon as the request is recorded, as Sentinel
 * answers (the proxy's SENTINEL FAILOVER).
 */
function waitsForOutcome(query: Map<string, string>): boolean {
  const text = query.get('wait');
  if (text === undefined || text === 'true') return true;
  if (text === 'false') return false;
  throw invalid("'wait' must be true or false");
}

function failoverOptions(text: string): { coordinated?: boolean } | undefined {
  const body = jsonObject(text, false);
  if (body === undefined) return undefined;
  onlyFields(body, ['coordinated']);
  if (body.coordinated === undefined) return {};
  if (typeof body.coordinated !== 'boolean') throw invalid("'coordinated' must be true or false");
  return { coordinated: body.coordinated };
}

function resetPattern(text: string): string {
  const body = jsonObject(text, true) as Record<string, unknown>;
  onlyFields(body, ['pattern']);
  const pattern = required(body, 'pattern');
  if (typeof pattern !== 'string' || pattern === '') throw invalid("'pattern' must be a non-empty glob");
  return pattern;
}

// ---------------------------------------------------------------------------------------------------------
// Replies

/** The leading code word of a Sentinel error text (`INPROG …`), when it is one of ours. */
function codeWordOf(text: string): ErrorCode | null {
  const word = text.split(' ', 1)[0];
  return word === 'INPROG' || word === 'NOGOODSLAVE' ? word : null;
}

export function commandResponse(reply: CommandReply, command: 'monitor' | 'set' | 'remove'): ApiResponse {
  if (reply.ok) return json(200, { ok: true });
  switch (reply.kind) {
    case 'no-such-master':
      return errorResponse(404, 'NOSUCHMASTER', reply.error);
    case 'invalid':
      return errorResponse(400, 'INVALID', reply.error);
    case 'conflict':
      // MONITOR's conflict is a duplicate name; for SET and REMOVE the text's code word, if any, says why.
      return errorResponse(
        409,
        command === 'monitor' ? 'DUPLICATE' : (codeWordOf(reply.error) ?? 'CONFLICT'),
        reply.error,
      );
    case 'unavailable':
      return errorResponse(503, 'UNAVAILABLE', reply.error);
  }
}

export function failoverResponse(reply: FailoverReply): ApiResponse {
  switch (reply) {
    case 'OK':
      return json(200, { reply: 'OK' });
    case 'INPROG':
      return errorResponse(409, 'INPROG', SENTINEL_REPLY.failoverInProgress);
    case 'NOGOODSLAVE':
      return errorResponse(409, 'NOGOODSLAVE', SENTINEL_REPLY.noGoodReplica);
    case 'NOSUCHMASTER':
      return errorResponse(404, 'NOSUCHMASTER', SENTINEL_REPLY.noSuchMaster);
  }
}

function headerValue(headers: HeaderInput | undefined, name: string): string | undefined {
  if (headers === undefined) return undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    return typeof value === 'string' ? value : value?.[0];
  }
  return undefined;
}

/** The address the client used (its Host header), as the Redis-protocol endpoint announces its own. */
function announceFromHost(headers: HeaderInput | undefined): EndpointAddress {
  const host = headerValue(headers, 'host') ?? '';
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9._-]+))(?::([0-9]{1,5}))?$/.exec(host);
  const port = match?.[3] === undefined ? DEFAULT_ANNOUNCE_PORT : Number(match[3]);
  if (!match || port > MAX_PORT) return { host: '127.0.0.1', port: DEFAULT_ANNOUNCE_PORT };
  return { host: match[1] ?? match[2] ?? '127.0.0.1', port };
}
