/**
 * A typed client of the HTTP API (docs/http-api.md): one method per /v1 route, over Node's global
 * fetch. Every request has a timeout; every failure is an HttpApiError that carries the HTTP status
 * and the server's `code` and `error`, so callers (the CLI, the proxy) decide on codes, not on text.
 *
 * Requests to a Lambda function URL are signed with SigV4 (service `lambda`), with credentials from
 * the default AWS chain (environment, profile, SSO, container or instance role). The local runner's API
 * takes a user's credentials instead (HTTP Basic), when its configuration requires them.
 */
import { createHash, createHmac, type Hmac, type Hash as NodeHash } from 'node:crypto';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { StatusSummary } from '../commands/statusSummary.js';
import type { EventQuery, EventRecord } from '../eventLog.js';

/** A Sentinel instance map as the API sends it: Sentinel's field names, in Sentinel's order, string values. */
export type InstanceMap = Readonly<Record<string, string>>;

export interface MasterAddressReply {
  readonly ip: string;
  readonly port: number;
  readonly epoch: number;
}

export interface CkquorumResult {
  readonly ok: boolean;
  readonly reply: string;
}

export interface ServerInfo {
  readonly myid: string;
  readonly version: string;
}

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export type CredentialSource = AwsCredentials | (() => Promise<AwsCredentials>);

export interface HttpClientOptions {
  /** The API's base URL: a function URL, or the local runner's `http://127.0.0.1:8080`. */
  readonly url: string;
  /** Per request, unless a method says otherwise (default 10 s). */
  readonly timeoutMs?: number;
  /** SigV4-sign requests. Default: only when the URL is a Lambda function URL. */
  readonly sign?: boolean;
  /** Signing region. Default: the function URL's region, else AWS_REGION, else AWS_DEFAULT_REGION. */
  readonly region?: string;
  /** Default: the AWS SDK's default credential chain, resolved at the first signed request. */
  readonly credentials?: CredentialSource;
  /** The signing time (tests pin it; default: now). */
  readonly signingDate?: () => Date;
  /** Replaces the global fetch (tests tamper with requests after signing). */
  readonly fetch?: typeof fetch;
  /**
   * A user of the local runner's API (HTTP Basic; docs/http-api.md, "Auth"). Not sent on signed
   * requests: a function URL authenticates with IAM, and the signature takes the Authorization header.
   */
  readonly basicAuth?: { readonly user: string; readonly password: string };
}

export interface RequestOptions {
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

/**
 * A request that did not end in a 2xx reply. `status` is null when no reply came (network, timeout);
 * `code` is the server's code (`NOSUCHMASTER`, `INPROG`, …), or one of ours: `NETWORK`, `TIMEOUT`,
 * `BAD_REPLY` (a reply that is not the API's), `HTTP_<status>` (an error without the API's body, such
 * as a 403 from the function URL's IAM auth), `NO_CREDENTIALS`, `NO_REGION`.
 */
export class HttpApiError extends Error {
  override readonly name = 'HttpApiError';
  constructor(
    /** What was asked, e.g. `GET /v1/masters/mymaster`. */
    readonly request: string,
    readonly status: number | null,
    readonly code: string,
    /** The server's `error` text (Sentinel's text where Sentinel has one), or ours. */
    readonly error: string,
  ) {
    super(`${request}: ${status === null ? '' : `${status} `}${code}: ${error}`);
  }
}

export const isNoSuchMaster = (e: unknown): boolean =>
  e instanceof HttpApiError && e.status === 404 && e.code === 'NOSUCHMASTER';

const DEFAULT_TIMEOUT_MS = 10_000;
/** A failover reply waits on the server for the outcome (up to its own limit, 5 s locally). */
const FAILOVER_TIMEOUT_MS = 60_000;
/** A long poll's reply takes up to wait_ms; the request gets this much more before it times out. */
const LONG_POLL_MARGIN_MS = 10_000;

const FUNCTION_URL_HOST = /^[a-z0-9]+\.lambda-url\.([a-z0-9-]+)\.on\.aws$/i;

/** The region of a Lambda function URL (`<id>.lambda-url.<region>.on.aws`), or null for any other URL. */
export function functionUrlRegion(url: string | URL): string | null {
  const host = typeof url === 'string' ? new URL(url).hostname : url.hostname;
  return FUNCTION_URL_HOST.exec(host)?.[1] ?? null;
}

/** SHA-256 (and, with a secret, HMAC-SHA-256) from node:crypto, in the shape the SigV4 signer takes. */
export class Sha256 {
  readonly #hash: NodeHash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView, encoding?: 'utf8' | 'ascii' | 'latin1'): void {
    if (typeof data === 'string') this.#hash.update(data, encoding ?? 'utf8');
    else this.#hash.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
}

function toBytes(data: string | ArrayBuffer | ArrayBufferView): Uint8Array | string {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** A signer for Lambda function URLs. Exported so a test server can recompute a signature the same way. */
export function lambdaSigner(region: string, credentials: CredentialSource): SignatureV4 {
  return new SignatureV4({
    service: 'lambda',
    region,
    credentials: typeof credentials === 'function' ? credentials : async () => credentials,
    sha256: Sha256,
  });
}

/** The parts of a request SigV4 covers, in the signer's request shape. */
export interface SignableRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

/** Signs `request` and returns the headers to send (with authorization, x-amz-date, x-amz-content-sha256). */
export async function signRequest(
  signer: SignatureV4,
  request: SignableRequest,
  signingDate: Date,
): Promise<Record<string, string>> {
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(request.url.searchParams.keys())) {
    const values = request.url.searchParams.getAll(key);
    query[key] = values.length === 1 ? (values[0] as string) : values;
  }
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: request.url.protocol,
      hostname: request.url.hostname,
      port: request.url.port === '' ? undefined : Number(request.url.port),
      path: request.url.pathname,
      query,
      // fetch sends the URL's host whatever we set; sign exactly that.
      headers: { ...request.headers, host: request.url.host },
      body: request.body,
    },
    { signingDate },
  );
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) {
    if (name.toLowerCase() !== 'host' && typeof value === 'string') headers[name] = value;
  }
  return headers;
}

const enc = encodeURIComponent;

/** A 2xx reply's JSON object, read with checks: a reply that is not the API's is a BAD_REPLY error. */
class ReplyBody {
  constructor(
    readonly what: string,
    readonly status: number,
    readonly data: Record<string, unknown>,
  ) {}

  bad(problem: string): HttpApiError {
    return new HttpApiError(this.what, this.status, 'BAD_REPLY', problem);
  }

  str(key: string): string {
    const value = this.data[key];
    if (typeof value !== 'string') throw this.bad(`'${key}' is not a string`);
    return value;
  }

  num(key: string): number {
    const value = this.data[key];
    if (typeof value !== 'number' || !Number.isFinite(value)) throw this.bad(`'${key}' is not a number`);
    return value;
  }

  bool(key: string): boolean {
    const value = this.data[key];
    if (typeof value !== 'boolean') throw this.bad(`'${key}' is not a boolean`);
    return value;
  }

  list(key: string): unknown[] {
    const value = this.data[key];
    if (!Array.isArray(value)) throw this.bad(`'${key}' is not a list`);
    return value;
  }

  /** An instance map: values are strings in the contract; other scalars are tolerated as their text. */
  map(value: unknown = this.data): InstanceMap {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw this.bad('an instance map is not a JSON object');
    }
    const map: Record<string, string> = {};
    for (const [field, v] of Object.entries(value)) {
      if (typeof v === 'object' && v !== null) throw this.bad(`field '${field}' is not a string`);
      map[field] = String(v);
    }
    return map;
  }

  maps(key: string): InstanceMap[] {
    return this.list(key).map((m) => this.map(m));
  }
}

export class SentinelHttpClient {
  readonly baseUrl: URL;
  readonly signing: boolean;
  readonly region: string | null;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;
  readonly #signingDate: () => Date;
  readonly #credentials: CredentialSource | undefined;
  readonly #basicAuthorization: string | undefined;
  #signer: SignatureV4 | null = null;

  constructor(options: HttpClientOptions) {
    this.baseUrl = new URL(options.url);
    if (this.baseUrl.protocol !== 'http:' && this.baseUrl.protocol !== 'https:') {
      throw new TypeError(`the API URL must be http:// or https://, got '${options.url}'`);
    }
    const urlRegion = functionUrlRegion(this.baseUrl);
    this.signing = options.sign ?? urlRegion !== null;
    this.region =
      options.region ?? urlRegion ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? null;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#fetch = options.fetch ?? fetch;
    this.#signingDate = options.signingDate ?? (() => new Date());
    this.#credentials = options.credentials;
    const basic = options.basicAuth;
    this.#basicAuthorization =
      basic === undefined || this.signing
        ? undefined
        : `Basic ${Buffer.from(`${basic.user}:${basic.password}`, 'utf8').toString('base64')}`;
  }

  /** GET /v1: the server's run id (SENTINEL MYID) and version. */
  async info(options?: RequestOptions): Promise<ServerInfo> {
    const body = await this.#call('GET', '/v1', undefined, options);
    return { myid: body.str('myid'), version: body.str('version') };
  }

  async masters(options?: RequestOptions): Promise<InstanceMap[]> {
    return (await this.#call('GET', '/v1/masters', undefined, options)).maps('masters');
  }

  async master(name: string, options?: RequestOptions): Promise<InstanceMap> {
    return (await this.#call('GET', `/v1/masters/${enc(name)}`, undefined, options)).map();
  }

  /**
   * get-master-addr-by-name with its epoch. With `wait`, a long poll: the server answers as soon as the
   * epoch is above `afterEpoch`, or after `waitMs` with the current address.
   */
  async address(
    name: string,
    wait?: { readonly afterEpoch: number; readonly waitMs: number },
    options?: RequestOptions,
  ): Promise<MasterAddressReply> {
    const query = wait ? `?after_epoch=${wait.afterEpoch}&wait_ms=${wait.waitMs}` : '';
    const body = await this.#call('GET', `/v1/masters/${enc(name)}/address${query}`, undefined, {
      ...options,
      timeoutMs: options?.timeoutMs ?? (wait ? wait.waitMs + LONG_POLL_MARGIN_MS : undefined),
    });
    return { ip: body.str('ip'), port: body.num('port'), epoch: body.num('epoch') };
  }

  async replicas(name: string, options?: RequestOptions): Promise<InstanceMap[]> {
    return (await this.#call('GET', `/v1/masters/${enc(name)}/replicas`, undefined, options)).maps(
      'replicas',
    );
  }

  async sentinels(name: string, options?: RequestOptions): Promise<InstanceMap[]> {
    return (await this.#call('GET', `/v1/masters/${enc(name)}/sentinels`, undefined, options)).maps(
      'sentinels',
    );
  }

  /** CKQUORUM: 200 whether or not the quorum can be reached; `ok` says which. */
  async ckquorum(name: string, options?: RequestOptions): Promise<CkquorumResult> {
    const body = await this.#call('GET', `/v1/masters/${enc(name)}/ckquorum`, undefined, options);
    return { ok: body.bool('ok'), reply: body.str('reply') };
  }

  /**
   * SENTINEL FAILOVER: resolves with the reply (`OK`); INPROG and NOGOODSLAVE are HttpApiErrors (409).
   * `wait: false` asks the server to answer as soon as the request is recorded (`?wait=false`), as
   * Sentinel answers; by default it waits up to 5 s for the outcome.
   */
  async failover(
    name: string,
    failoverOptions: { readonly coordinated?: boolean; readonly wait?: boolean } = {},
    options?: RequestOptions,
  ): Promise<string> {
    const query = failoverOptions.wait === false ? '?wait=false' : '';
    const body = await this.#call(
      'POST',
      `/v1/masters/${enc(name)}/failover${query}`,
      failoverOptions.coordinated ? { coordinated: true } : {},
      { ...options, timeoutMs: options?.timeoutMs ?? Math.max(FAILOVER_TIMEOUT_MS, this.#timeoutMs) },
    );
    return body.str('reply');
  }

  /** SENTINEL MONITOR. Port and quorum go as the caller typed them: the server validates them like Sentinel. */
  async monitor(
    master: { readonly name: string; readonly ip: string; readonly port: string; readonly quorum: string },
    options?: RequestOptions,
  ): Promise<void> {
    await this.#call(
      'POST',
      '/v1/masters',
      { name: master.name, ip: master.ip, port: master.port, quorum: master.quorum },
      options,
    );
  }

  /** SENTINEL SET: `[['quorum', '2'], ['rename-command', 'PING', 'PONG']]`, applied all or nothing. */
  async set(name: string, pairs: ReadonlyArray<readonly string[]>, options?: RequestOptions): Promise<void> {
    await this.#call('PATCH', `/v1/masters/${enc(name)}`, { set: pairs }, options);
  }

  async remove(name: string, options?: RequestOptions): Promise<void> {
    await this.#call('DELETE', `/v1/masters/${enc(name)}`, undefined, options);
  }

  /** GET /v1/status: the status summary (lib/commands/statusSummary.ts) the status page shows. */
  async status(options?: RequestOptions): Promise<StatusSummary> {
    const body = await this.#call('GET', '/v1/status', undefined, options);
    for (const key of ['masters', 'sentinels', 'events', 'failovers']) body.list(key);
    return body.data as unknown as StatusSummary;
  }

  /** SENTINEL RESET <glob>: how many masters were reset. */
  async reset(pattern: string, options?: RequestOptions): Promise<number> {
    return (await this.#call('POST', '/v1/reset', { pattern }, options)).num('reset');
  }

  /** The event log, newest first. */
  async events(query: EventQuery = {}, options?: RequestOptions): Promise<EventRecord[]> {
    const params = new URLSearchParams();
    if (query.master !== undefined) params.set('master', query.master);
    if (query.since !== undefined) params.set('since', String(query.since));
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    const search = params.size > 0 ? `?${params}` : '';
    const body = await this.#call('GET', `/v1/events${search}`, undefined, options);
    const events = body.list('events');
    for (const event of events) {
      const e = event as Partial<EventRecord> | null;
      if (typeof e?.id !== 'string' || typeof e.type !== 'string' || typeof e.at !== 'number')
        throw body.bad('an event has no id, type or at');
    }
    return events as EventRecord[];
  }

  /** The full URL of an API path (`/v1/…`), under the base URL's path if it has one. */
  urlOf(path: string): URL {
    const prefix = this.baseUrl.pathname.replace(/\/+$/, '');
    return new URL(`${prefix}${path}`, this.baseUrl);
  }

  async #call(
    method: string,
    path: string,
    payload: unknown,
    options: RequestOptions = {},
  ): Promise<ReplyBody> {
    const url = this.urlOf(path);
    const what = `${method} ${url.pathname}`;
    const body = payload === undefined ? undefined : JSON.stringify(payload);
    const headers: Record<string, string> = { accept: 'application/json' };
    // Every write says it is JSON, with a body or not (DELETE): the local API refuses writes that do
    // not, which is what keeps web pages from sending them.
    if (body !== undefined || (method !== 'GET' && method !== 'HEAD'))
      headers['content-type'] = 'application/json';
    if (this.#basicAuthorization !== undefined) headers.authorization = this.#basicAuthorization;
    const sent = this.signing ? await this.#sign(what, { method, url, headers, body }) : headers;
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    let response: Response;
    let text: string;
    try {
      response = await this.#fetch(url, { method, headers: sent, body, signal });
      text = await response.text();
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason ?? error;
      if (timeout.aborted) throw new HttpApiError(what, null, 'TIMEOUT', `no reply within ${timeoutMs}ms`);
      throw new HttpApiError(what, null, 'NETWORK', describeNetworkError(error, url));
    }
    let parsed: unknown;
    try {
      parsed = text === '' ? {} : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const object =
      parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
        ? (parsed as Record<string, unknown>)
        : null;
    if (!response.ok) {
      // The API's errors are {error, code}; the function URL's own (IAM auth) are {Message}.
      const code = typeof object?.code === 'string' ? object.code : `HTTP_${response.status}`;
      const message =
        typeof object?.error === 'string'
          ? object.error
          : typeof object?.Message === 'string'
            ? object.Message
            : text.trim().slice(0, 200) || response.statusText;
      throw new HttpApiError(what, response.status, code, message);
    }
    if (object === null)
      throw new HttpApiError(what, response.status, 'BAD_REPLY', 'the reply is not a JSON object');
    return new ReplyBody(what, response.status, object);
  }

  async #sign(what: string, request: SignableRequest): Promise<Record<string, string>> {
    if (this.region === null) {
      throw new HttpApiError(
        what,
        null,
        'NO_REGION',
        'signing needs a region: use a function URL (<id>.lambda-url.<region>.on.aws), --region, or AWS_REGION',
      );
    }
    this.#signer ??= lambdaSigner(this.region, this.#credentials ?? defaultProvider());
    try {
      return await signRequest(this.#signer, request, this.#signingDate());
    } catch (error) {
      throw new HttpApiError(
        what,
        null,
        'NO_CREDENTIALS',
        `could not sign the request with AWS credentials: ${(error as Error).message}`,
      );
    }
  }
}

function describeNetworkError(error: unknown, url: URL): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.code ?? cause?.message ?? (error as Error).message;
  return `cannot reach ${url.origin}: ${detail}`;
}
