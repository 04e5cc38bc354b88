/**
 * The HTTP API client: SigV4 signing (verified by a server that recomputes the signature with the same
 * signer, and refused when the body or path is changed after signing), when it signs, and its errors.
 */
import { SignatureV4 } from '@smithy/signature-v4';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AwsCredentials,
  functionUrlRegion,
  HttpApiError,
  lambdaSigner,
  SentinelHttpClient,
  Sha256,
  signRequest,
} from '../../../lib/client/http.js';
import { type StubApi, type StubRequest, startStubApi } from './stubApi.js';

const CREDENTIALS: AwsCredentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
const REGION = 'eu-west-1';
const SIGNED_AT = new Date('2026-11-25T10:00:00Z');

const stubs: StubApi[] = [];
afterEach(async () => {
  for (const stub of stubs.splice(0)) await stub.close();
});

async function stub(handle: Parameters<typeof startStubApi>[0]): Promise<StubApi> {
  const api = await startStubApi(handle);
  stubs.push(api);
  return api;
}

/**
 * What the function URL's IAM auth does, with the same signer: rebuild the request from what arrived
 * (only the headers the client says it signed; the payload hash recomputed from the body received),
 * sign it again with the same credentials and time, and compare.
 */
async function verifies(request: StubRequest, credentials: AwsCredentials = CREDENTIALS): Promise<boolean> {
  const authorization = String(request.headers.authorization ?? '');
  const match =
    /^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/([^/]+)\/lambda\/aws4_request, SignedHeaders=([^,]+), Signature=[0-9a-f]{64}$/.exec(
      authorization,
    );
  if (!match) return false;
  const signedHeaders = (match[2] as string).split(';');
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    if (name === 'host' || name === 'x-amz-content-sha256') continue;
    headers[name] = String(request.headers[name] ?? '');
  }
  const amzDate = String(request.headers['x-amz-date'] ?? '');
  const date = new Date(
    amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
  );
  const recomputed = await signRequest(
    lambdaSigner(match[1] as string, credentials),
    {
      method: request.method,
      url: request.url,
      headers,
      body: request.body === '' ? undefined : request.body,
    },
    date,
  );
  return recomputed.authorization === authorization;
}

/** A server that answers only correctly signed requests, like a function URL with AWS_IAM auth. */
async function iamApi(): Promise<StubApi> {
  return stub(async (request) =>
    (await verifies(request))
      ? { body: { masters: [], reset: 2, ok: true } }
      : {
          status: 403,
          body: { Message: 'The request signature we calculated does not match the signature you provided.' },
        },
  );
}

function signingClient(api: StubApi, fetchImpl?: typeof fetch): SentinelHttpClient {
  return new SentinelHttpClient({
    url: api.url,
    sign: true,
    region: REGION,
    credentials: CREDENTIALS,
    signingDate: () => SIGNED_AT,
    fetch: fetchImpl,
  });
}

describe('SigV4 signing', () => {
  it('computes the AWS test suite signature for a plain GET (the SHA-256 and HMAC are right)', async () => {
    // aws-sig-v4-test-suite "get-vanilla": GET / on example.amazonaws.com, service "service", no payload header.
    const signer = new SignatureV4({
      service: 'service',
      region: 'us-east-1',
      credentials: CREDENTIALS,
      sha256: Sha256,
      applyChecksum: false,
    });
    const signed = await signer.sign(
      {
        method: 'GET',
        protocol: 'https:',
        hostname: 'example.amazonaws.com',
        path: '/',
        query: {},
        headers: { host: 'example.amazonaws.com' },
      },
      { signingDate: new Date('2015-08-30T12:36:00Z') },
    );
    expect(signed.headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    );
  });

  it('signs for service lambda with fixed credentials and time, and the server recomputes the same signature', async () => {
    const api = await iamApi();
    const client = signingClient(api);
    expect(await client.masters()).toEqual([]);
    expect(await client.reset('*')).toBe(2);
    const [get, post] = api.requests as [StubRequest, StubRequest];
    expect(get.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20261125\/eu-west-1\/lambda\/aws4_request, SignedHeaders=accept;host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/,
    );
    expect(get.headers['x-amz-date']).toBe('20261125T100000Z');
    expect(post.headers.authorization).toMatch(
      /SignedHeaders=accept;content-type;host;x-amz-content-sha256;x-amz-date,/,
    );
    expect(post.body).toBe('{"pattern":"*"}');
    // Deterministic: the same request at the same time signs the same.
    await client.reset('*');
    expect(api.requests[2]?.headers.authorization).toBe(post.headers.authorization);
  });

  it('signs the session token of temporary credentials', async () => {
    const temporary = { ...CREDENTIALS, sessionToken: 'FwoGZXIvYXdzEXAMPLETOKEN' };
    const api = await stub(async (request) =>
      (await verifies(request, temporary)) ? { body: { masters: [] } } : { status: 403 },
    );
    const client = new SentinelHttpClient({
      url: api.url,
      sign: true,
      region: REGION,
      credentials: async () => temporary,
    });
    await client.masters();
    expect(api.requests[0]?.headers['x-amz-security-token']).toBe(temporary.sessionToken);
    expect(api.requests[0]?.headers.authorization).toMatch(/SignedHeaders=[^,]*x-amz-security-token/);
  });

  it('a body changed after signing fails verification (403)', async () => {
    const api = await iamApi();
    const tamper: typeof fetch = (url, init) => fetch(url, { ...init, body: '{"pattern":"mymaster"}' });
    const error = await signingClient(api, tamper)
      .reset('*')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpApiError);
    expect(error).toMatchObject({ status: 403, code: 'HTTP_403' });
    expect((error as HttpApiError).error).toMatch(/signature we calculated does not match/);
  });

  it('a path changed after signing fails verification (403)', async () => {
    const api = await iamApi();
    const tamper: typeof fetch = (url, init) =>
      fetch(String(url).replace('/v1/masters', '/v1/masters/other'), init);
    await expect(signingClient(api, tamper).masters()).rejects.toMatchObject({ status: 403 });
    // The same client without tampering is accepted: the refusal is the tampering's.
    await expect(signingClient(api).masters()).resolves.toEqual([]);
  });

  it('a query changed after signing fails verification (403)', async () => {
    const api = await stub(async (request) =>
      (await verifies(request)) ? { body: { events: [] } } : { status: 403 },
    );
    const tamper: typeof fetch = (url, init) => fetch(String(url).replace('limit=5', 'limit=6'), init);
    await expect(signingClient(api).events({ limit: 5 })).resolves.toEqual([]);
    await expect(signingClient(api, tamper).events({ limit: 5 })).rejects.toMatchObject({ status: 403 });
  });
});

describe('when the client signs', () => {
  it('reads the region from a function URL host', () => {
    expect(functionUrlRegion('https://abcdefghij0123456789.lambda-url.eu-central-1.on.aws/')).toBe(
      'eu-central-1',
    );
    expect(functionUrlRegion('http://127.0.0.1:8080')).toBeNull();
    expect(functionUrlRegion('https://example.com')).toBeNull();
  });

  it('signs function URLs by default, and nothing else', () => {
    const fn = new SentinelHttpClient({ url: 'https://abc123.lambda-url.us-west-2.on.aws' });
    expect([fn.signing, fn.region]).toEqual([true, 'us-west-2']);
    expect(new SentinelHttpClient({ url: 'http://127.0.0.1:8080' }).signing).toBe(false);
    expect(
      new SentinelHttpClient({ url: 'https://abc123.lambda-url.us-west-2.on.aws', sign: false }).signing,
    ).toBe(false);
    const explicit = new SentinelHttpClient({
      url: 'https://abc123.lambda-url.us-west-2.on.aws',
      region: 'eu-west-3',
    });
    expect(explicit.region).toBe('eu-west-3');
  });

  it('sends no authorization header when it does not sign', async () => {
    const api = await stub(() => ({ body: { masters: [] } }));
    await new SentinelHttpClient({ url: api.url }).masters();
    expect(api.requests[0]?.headers.authorization).toBeUndefined();
  });

  it('refuses to sign without a region', async () => {
    const saved = [process.env.AWS_REGION, process.env.AWS_DEFAULT_REGION];
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    try {
      const client = new SentinelHttpClient({
        url: 'https://example.com',
        sign: true,
        credentials: CREDENTIALS,
      });
      await expect(client.masters()).rejects.toMatchObject({ code: 'NO_REGION', status: null });
    } finally {
      if (saved[0] !== undefined) process.env.AWS_REGION = saved[0];
      if (saved[1] !== undefined) process.env.AWS_DEFAULT_REGION = saved[1];
    }
  });
});

describe('replies and errors', () => {
  it('keeps Sentinel field order in instance maps', async () => {
    const api = await stub(() => ({
      body: '{"name":"mymaster","ip":"10.0.0.1","port":"6379","runid":"","flags":"master","quorum":"2"}',
    }));
    const map = await new SentinelHttpClient({ url: api.url }).master('mymaster');
    expect(Object.keys(map)).toEqual(['name', 'ip', 'port', 'runid', 'flags', 'quorum']);
    expect(api.requests[0]?.url.pathname).toBe('/v1/masters/mymaster');
  });

  it("carries the status and the server's code and error", async () => {
    const api = await stub(() => ({
      status: 404,
      body: { error: 'No such master with that name', code: 'NOSUCHMASTER' },
    }));
    const error = await new SentinelHttpClient({ url: api.url }).address('nope').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpApiError);
    expect(error).toMatchObject({
      status: 404,
      code: 'NOSUCHMASTER',
      error: 'No such master with that name',
      request: 'GET /v1/masters/nope/address',
    });
    expect((error as Error).message).toBe(
      'GET /v1/masters/nope/address: 404 NOSUCHMASTER: No such master with that name',
    );
  });

  it('reports a reply that is not the API’s', async () => {
    const api = await stub((request) =>
      request.url.pathname === '/v1'
        ? { status: 502, body: '<html>Bad Gateway</html>' }
        : { body: { masters: 'no' } },
    );
    const client = new SentinelHttpClient({ url: api.url });
    await expect(client.info()).rejects.toMatchObject({ status: 502, code: 'HTTP_502' });
    await expect(client.masters()).rejects.toMatchObject({ status: 200, code: 'BAD_REPLY' });
  });

  it('times out a request with no reply, and says so', async () => {
    const api = await stub(
      (request) => new Promise((resolve) => request.signal.addEventListener('abort', () => resolve({}))),
    );
    const client = new SentinelHttpClient({ url: api.url, timeoutMs: 100 });
    await expect(client.masters()).rejects.toMatchObject({ status: null, code: 'TIMEOUT' });
  });

  it('reports an unreachable server as a network error', async () => {
    const api = await stub(() => ({}));
    const url = api.url;
    await api.close();
    stubs.length = 0;
    await expect(new SentinelHttpClient({ url }).masters()).rejects.toMatchObject({
      status: null,
      code: 'NETWORK',
    });
  });

  it('sends the long poll parameters and keeps a base path', async () => {
    const api = await stub(() => ({ body: { ip: '10.0.0.2', port: 6380, epoch: 3 } }));
    const client = new SentinelHttpClient({ url: `${api.url}/prefix/` });
    expect(await client.address('mymaster', { afterEpoch: 2, waitMs: 50 })).toEqual({
      ip: '10.0.0.2',
      port: 6380,
      epoch: 3,
    });
    expect(api.requests[0]?.url.pathname).toBe('/prefix/v1/masters/mymaster/address');
    expect(api.requests[0]?.url.search).toBe('?after_epoch=2&wait_ms=50');
  });
});
