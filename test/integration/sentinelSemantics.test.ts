/**
 * Where Sentinel's semantics differ from the obvious, on real processes: `lambda-sentinel local` (in
 * this process) over real redis-server masters and replicas and DynamoDB Local, asked through its
 * Redis-protocol endpoint and HTTP API as clients ask. What each test expects is what a real
 * redis-server --sentinel 7.0.15 did with the same setup.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { runIdOf } from '../../lib/core/runId.js';
import type { Address } from '../../lib/core/types.js';
import { runLocal } from '../../lib/local/run.js';
import { startTopology, type Topology } from '../../lib/runtime/redisProcess.js';
import { lambdaContext } from '../support/lambdaContext.js';
import { redisCallAs } from '../support/localRunner.js';

const MASTER = 'mymaster';
/** Room for discovery, detection and a failover on a loaded 2-core machine. */
const WAIT_MS = 25_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitUntil(check: () => Promise<boolean> | boolean, what: string, timeoutMs = WAIT_MS) {
  const until = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    if (Date.now() > until)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(100);
  }
}

/** One command on a fresh connection. */
function call(address: Address, args: Array<string | number>, password?: string): Promise<unknown> {
  return redisCallAs(address, { password, connectTimeoutMs: 2_000 }, ...args);
}

function fieldsOf(reply: unknown): Record<string, string> {
  const flat = reply as string[];
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
  return fields;
}

interface Running {
  readonly endpoint: Address;
  readonly httpUrl: string;
  /** The DynamoDB Local table the runner's sentinels write to. */
  readonly table: string;
  output(): string;
  sentinel(...args: Array<string | number>): Promise<unknown>;
  masterAddress(name?: string): Promise<Address>;
  stop(): Promise<void>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function topology(options: Parameters<typeof startTopology>[0]): Promise<Topology> {
  const started = await startTopology(options);
  cleanups.push(() => started.stop());
  return started;
}

/** `lambda-sentinel local --config <lines>` in this process, on a table of its own. */
async function runner(lines: readonly string[]): Promise<Running> {
  const dir = await mkdtemp(join(tmpdir(), 'ls-semantics-'));
  const configPath = join(dir, 'sentinel.conf');
  await writeFile(configPath, `${lines.join('\n')}\n`);
  const abort = new AbortController();
  const table = `semantics-${Math.random().toString(36).slice(2)}`;
  let printed = '';
  const print = (line: string) => {
    printed += `${line}\n`;
  };
  const done = runLocal({
    configPath,
    dynamodbEndpoint: inject('dynamodbEndpoint'),
    table,
    port: 0,
    httpPort: 0,
    env: {},
    out: print,
    err: print,
    signal: abort.signal,
  }).catch((error: unknown) => {
    print(`runLocal failed: ${String(error)}`);
    return [];
  });
  const stop = async () => {
    abort.abort();
    await done;
    await rm(dir, { recursive: true, force: true });
  };
  cleanups.push(stop);
  await waitUntil(
    () => /HTTP API at http:\/\//.test(printed) || /runLocal failed/.test(printed),
    'the runner',
  );
  const endpointMatch = printed.match(/Sentinel endpoint at ([\d.]+):(\d+)/);
  const httpMatch = printed.match(/HTTP API at (http:\/\/[\d.]+:\d+)/);
  if (!endpointMatch || !httpMatch) throw new Error(`the runner did not start:\n${printed}`);
  const endpoint = { host: endpointMatch[1] as string, port: Number(endpointMatch[2]) };
  const sentinel = (...args: Array<string | number>) => call(endpoint, args);
  return {
    endpoint,
    httpUrl: httpMatch[1] as string,
    table,
    output: () => printed,
    sentinel,
    masterAddress: async (name = MASTER) => {
      const [host, port] = (await sentinel('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as [string, string];
      return { host, port: Number(port) };
    },
    stop,
  };
}

/**
 * The deployed API function's handler (functions/api.ts) over the runner's table, called as a function
 * URL calls it, for reads (no IAM identity needed): the JSON body of its reply.
 */
async function deployedApi(
  table: string,
  config: readonly string[],
): Promise<(method: string, path: string) => Promise<unknown>> {
  process.env.TABLE_NAME = table;
  process.env.DYNAMODB_ENDPOINT = inject('dynamodbEndpoint');
  process.env.SENTINEL_CONFIG = config.join('\n');
  delete process.env.SENTINEL_CONFIG_FILE;
  process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
  vi.resetModules();
  const { handler } = await import('../../functions/api.js');
  return async (method, path) => {
    const result = (await handler(
      {
        version: '2.0',
        routeKey: '$default',
        rawPath: path,
        rawQueryString: '',
        headers: { host: 'example.lambda-url.eu-west-1.on.aws' },
        requestContext: {
          accountId: 'anonymous',
          apiId: 'example',
          domainName: 'example.lambda-url.eu-west-1.on.aws',
          domainPrefix: 'example',
          http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'test' },
          requestId: String(Math.random()),
          routeKey: '$default',
          stage: '$default',
          time: new Date().toISOString(),
          timeEpoch: Date.now(),
        },
        isBase64Encoded: false,
      },
      lambdaContext('lambda-sentinel-dev-api', 30_000),
    )) as APIGatewayProxyStructuredResultV2 | undefined;
    expect(result?.statusCode).toBe(200);
    return JSON.parse(result?.body ?? 'null') as unknown;
  };
}

async function replicasKnown(r: Running, count: number): Promise<void> {
  await waitUntil(
    async () => fieldsOf(await r.sentinel('SENTINEL', 'MASTER', MASTER))['num-slaves'] === String(count),
    `${count} replicas discovered`,
  );
}

function timing(): string[] {
  return [`sentinel down-after-milliseconds ${MASTER} 1000`, `sentinel failover-timeout ${MASTER} 10000`];
}

describe('Sentinel semantics on real processes', () => {
  it('hides a replica-announced no replica from REPLICAS and the HTTP API, and still promotes it', async () => {
    const t = await topology({ replicas: 2 });
    const [hidden, shown] = t.replicas as [Topology['master'], Topology['master']];
    await call(hidden.address, ['CONFIG', 'SET', 'replica-announced', 'no']);
    // The shown replica may not be promoted: the hidden one is the only candidate.
    await call(shown.address, ['CONFIG', 'SET', 'replica-priority', '0']);
    const r = await runner([`sentinel monitor ${MASTER} 127.0.0.1 ${t.master.address.port} 2`, ...timing()]);
    // Sentinel counts it in num-slaves and leaves it out of REPLICAS.
    await replicasKnown(r, 2);
    const listedPorts = async () =>
      ((await r.sentinel('SENTINEL', 'REPLICAS', MASTER)) as unknown[]).map((m) => fieldsOf(m).port);
    await waitUntil(async () => (await listedPorts()).length === 1, 'the hidden replica to leave REPLICAS');
    expect(await listedPorts()).toEqual([String(shown.address.port)]);
    const http = (await (await fetch(`${r.httpUrl}/v1/masters/${MASTER}/replicas`)).json()) as {
      replicas: Array<{ port: string }>;
    };
    expect(http.replicas.map((replica) => replica.port)).toEqual([String(shown.address.port)]);
    // The deployed API function (no sentinel loop in it: it reads the table the sentinels write) hides
    // it too, in its HTTP API and so in SENTINEL REPLICAS through the proxy, and still counts it.
    const api = await deployedApi(r.table, [
      `sentinel monitor ${MASTER} 127.0.0.1 ${t.master.address.port} 2`,
    ]);
    await waitUntil(async () => {
      const listed = (await api('GET', `/v1/masters/${MASTER}/replicas`)) as {
        replicas: Array<{ port: string }>;
      };
      return listed.replicas.length === 1;
    }, 'the deployed API to hide the replica');
    const deployed = (await api('GET', `/v1/masters/${MASTER}/replicas`)) as {
      replicas: Array<{ port: string }>;
    };
    expect(deployed.replicas.map((replica) => replica.port)).toEqual([String(shown.address.port)]);
    const master = (await api('GET', `/v1/masters/${MASTER}`)) as Record<string, string>;
    expect(master['num-slaves']).toBe('2');

    expect(await r.sentinel('SENTINEL', 'FAILOVER', MASTER)).toBe('OK');
    await waitUntil(
      async () => (await r.masterAddress()).port === hidden.address.port,
      'the hidden replica to be promoted',
    );
  });

  it('accepts a quorum above the number of sentinels: no ODOWN, NOQUORUM, but SENTINEL FAILOVER works', async () => {
    const t = await topology({ replicas: 1 });
    const r = await runner([`sentinel monitor ${MASTER} 127.0.0.1 ${t.master.address.port} 4`, ...timing()]);
    await replicasKnown(r, 1);
    await waitUntil(
      async () => String(await r.sentinel('SENTINEL', 'CKQUORUM', MASTER).catch(String)).includes('3 usable'),
      'three usable sentinels',
    );
    await expect(r.sentinel('SENTINEL', 'CKQUORUM', MASTER)).rejects.toThrow(
      /^NOQUORUM 3 usable Sentinels\. Not enough available Sentinels to reach the specified quorum for this master$/,
    );
    expect(await r.sentinel('SENTINEL', 'SET', MASTER, 'quorum', 9)).toBe('OK');
    expect(await r.sentinel('SENTINEL', 'SET', MASTER, 'quorum', 4)).toBe('OK');
    expect(await r.sentinel('SENTINEL', 'MONITOR', 'other', '127.0.0.1', 7, 5)).toBe('OK');
    expect(await r.sentinel('SENTINEL', 'REMOVE', 'other')).toBe('OK');
    // Without resolve-hostnames (the default), a host name is refused with Sentinel's text.
    await expect(r.sentinel('SENTINEL', 'MONITOR', 'other', 'localhost', 7, 2)).rejects.toThrow(
      /^ERR Invalid IP address or hostname specified$/,
    );

    await t.master.kill();
    await waitUntil(
      () => (r.output().match(/\+sdown master mymaster/g) ?? []).length === 3,
      'all three sentinels to see the master down',
    );
    // Well past down-after, the votes of all three: still no ODOWN, no failover.
    await sleep(3_000);
    expect(r.output()).not.toMatch(/\+odown|\+try-failover|\+elected-leader/);
    expect(fieldsOf(await r.sentinel('SENTINEL', 'MASTER', MASTER)).flags).toBe('s_down,master,disconnected');

    expect(await r.sentinel('SENTINEL', 'FAILOVER', MASTER)).toBe('OK');
    const replica = (t.replicas[0] as Topology['master']).address;
    await waitUntil(async () => (await r.masterAddress()).port === replica.port, 'the manual failover');
  });

  it('monitors localhost with resolve-hostnames yes, answers its IP address, and follows a SIGKILL', async () => {
    const t = await topology({ replicas: 2 });
    const port = t.master.address.port;
    const r = await runner([
      `sentinel monitor ${MASTER} localhost ${port} 2`,
      ...timing(),
      // Sentinel reads it wherever it is in the file.
      'sentinel resolve-hostnames yes',
    ]);
    await replicasKnown(r, 2);
    // announce-hostnames no (the default): clients get the address the name resolves to, as Sentinel.
    expect(await r.masterAddress()).toEqual({ host: '127.0.0.1', port });
    // Events too: Sentinel 7.0.15 announced `+monitor master mymaster 127.0.0.1 <port> quorum 2`.
    // (The runner prints each line after its reordering window: wait for it, then check it.)
    const monitorLine = new RegExp(`\\+monitor master mymaster 127\\.0\\.0\\.1 ${port} quorum 2`);
    await waitUntil(() => monitorLine.test(r.output()), 'the +monitor line');
    expect(r.output()).toMatch(monitorLine);
    expect(fieldsOf(await r.sentinel('SENTINEL', 'MASTER', MASTER)).ip).toBe('127.0.0.1');
    // MONITOR takes a name too now, and refuses one that does not resolve.
    expect(await r.sentinel('SENTINEL', 'MONITOR', 'other', 'localhost', port, 2)).toBe('OK');
    expect(await r.masterAddress('other')).toEqual({ host: '127.0.0.1', port });
    await expect(r.sentinel('SENTINEL', 'MONITOR', 'third', 'no-such-host.invalid', port, 2)).rejects.toThrow(
      /^ERR Invalid IP address or hostname specified$/,
    );
    expect(await r.sentinel('SENTINEL', 'REMOVE', 'other')).toBe('OK');

    await t.master.kill();
    const replicaPorts = t.replicas.map((replica) => replica.address.port);
    await waitUntil(
      async () => replicaPorts.includes((await r.masterAddress()).port),
      'the failover of the master known as localhost',
    );
    expect((await r.masterAddress()).host).toBe('127.0.0.1');
    // Sentinel 7.0.15: `+switch-master mymaster 127.0.0.1 <port> 127.0.0.1 <new port>`.
    // The endpoint answers the switch before its event is printed (the runner's reordering window).
    const switchLine = new RegExp(`\\+switch-master mymaster 127\\.0\\.0\\.1 ${port} 127\\.0\\.0\\.1 \\d+`);
    await waitUntil(() => switchLine.test(r.output()), 'the +switch-master line');
    expect(r.output()).toMatch(switchLine);
    // +vote-for-leader names the leader by the run id SENTINEL SENTINELS lists, as Sentinel does.
    const leader = r.output().match(/\[(sentinel-\w)\] \+elected-leader master mymaster/)?.[1] as string;
    await waitUntil(() => /\+vote-for-leader /.test(r.output()), 'a +vote-for-leader');
    const votes = [...r.output().matchAll(/\+vote-for-leader (\S+) (\d+)/g)];
    expect(votes.length).toBeGreaterThan(0);
    for (const [, id, epoch] of votes) {
      expect(id).toBe(runIdOf(leader));
      expect(epoch).toBe('1');
    }
    // The old master comes back and rejoins as a replica: listed once, by its IP address (Sentinel 7.0.15
    // names it 127.0.0.1:<port> too), even after an INFO period of the new master (10 s).
    await t.master.restart();
    const replicas = async () =>
      ((await r.sentinel('SENTINEL', 'REPLICAS', MASTER)) as unknown[]).map((m) => fieldsOf(m));
    await waitUntil(async () => {
      const old = (await replicas()).find((m) => m.port === String(port));
      return old?.flags === 'slave' && old['master-link-status'] === 'ok';
    }, 'the old master to rejoin as a replica');
    for (const until = Date.now() + 11_000; Date.now() < until; await sleep(500)) {
      const listed = await replicas();
      expect(listed.filter((m) => m.port === String(port)).map((m) => [m.name, m.ip])).toEqual([
        [`127.0.0.1:${port}`, '127.0.0.1'],
      ]);
      expect(listed).toHaveLength(2);
    }
    // No event named the master by its host name (Sentinel shows the IP address in every one).
    const events = r
      .output()
      .split('\n')
      .filter((line) => /\] [+-][\w-]+ /.test(line));
    expect(events.length).toBeGreaterThan(0);
    expect(events.filter((line) => line.includes('localhost'))).toEqual([]);
  });

  it('takes SENTINEL SET auth-pass at run time: new connections use it, and it is never shown', async () => {
    const oldPass = 'old-pass-0d1';
    const newPass = 'new-pass-7c4';
    const t = await topology({
      replicas: 1,
      args: ['--requirepass', oldPass, '--masterauth', oldPass],
      auth: { pass: oldPass },
    });
    const servers = [t.master, ...t.replicas];
    const r = await runner([
      `sentinel monitor ${MASTER} 127.0.0.1 ${t.master.address.port} 2`,
      ...timing(),
      `sentinel auth-pass ${MASTER} ${oldPass}`,
    ]);
    await replicasKnown(r, 1);
    // The operator rotates the servers' password, then tells the sentinels.
    for (const server of servers) {
      await call(server.address, ['CONFIG', 'SET', 'masterauth', newPass, 'requirepass', newPass], oldPass);
    }
    const sentinelClients = async (address: Address) =>
      String(await call(address, ['CLIENT', 'LIST'], newPass))
        .split('\n')
        .filter((line) => / name=sentinel-/.test(line))
        .map((line) => line.match(/^id=(\d+)/)?.[1]);
    const before = new Set(
      (await Promise.all(servers.map((server) => sentinelClients(server.address)))).flat(),
    );
    expect(await r.sentinel('SENTINEL', 'SET', MASTER, 'auth-pass', newPass)).toBe('OK');
    const from = r.output().length;
    await waitUntil(
      () => /\+set master mymaster 127\.0\.0\.1 \d+ auth-pass \*{6}/.test(r.output()),
      'the +set event',
    );
    // Like every SET, it is in force once each sentinel re-read the record (within its heartbeat): each
    // has then reconnected to every server, with the new password.
    await waitUntil(async () => {
      for (const server of servers) {
        const now = await sentinelClients(server.address);
        if (now.length < 3 || now.some((id) => before.has(id))) return false;
      }
      return true;
    }, 'every sentinel to reconnect with the new password');
    // Every connection the sentinels had is cut: they reconnect, and only the new password works.
    for (const server of servers) await call(server.address, ['CLIENT', 'KILL', 'TYPE', 'normal'], newPass);
    await sleep(3_500);
    expect(r.output().slice(from)).not.toMatch(/\+sdown/);
    expect(fieldsOf(await r.sentinel('SENTINEL', 'MASTER', MASTER)).flags).toBe('master');
    // A failover authenticates its commands with the new password too.
    await t.master.kill();
    const replica = (t.replicas[0] as Topology['master']).address;
    await waitUntil(async () => (await r.masterAddress()).port === replica.port, 'the failover');
    await waitUntil(() => /\+failover-end master mymaster/.test(r.output()), '+failover-end');
    expect(r.output()).not.toContain(newPass);
    expect(r.output()).not.toContain(oldPass);
  });
});
