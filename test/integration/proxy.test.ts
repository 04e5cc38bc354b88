/**
 * `lambda-sentinel proxy`: the Redis-protocol endpoint over the HTTP API (httpView), in front of the real
 * API (startHttpApi over the store view). redis-cli and an unmodified ioredis in Sentinel mode find the
 * master through it; when the record switches, the proxy answers the new address and subscribers get
 * `+switch-master` once, although every sentinel logged it.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { GetParameterCommand } from '@aws-sdk/client-ssm';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultUserWithPassword } from '../../lib/accessControl.js';
import { type ProxyCommandDeps, runProxyCommand } from '../../lib/cli/proxyCommand.js';
import { SentinelHttpClient } from '../../lib/client/http.js';
import { type SentinelProxy, startProxy } from '../../lib/client/proxy.js';
import type { Address } from '../../lib/core/types.js';
import { allocatePorts, type RedisHandle, startRedis } from '../../lib/runtime/redisProcess.js';
import {
  type ApiHarness,
  eventRecord,
  SENTINEL_IDS,
  startApiHarness,
  switchMaster,
} from '../support/apiHarness.js';

const run = promisify(execFile);
const REDIS_CLI = '/usr/bin/redis-cli';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await Promise.resolve(cleanup()).catch(() => {});
});

interface Setup {
  readonly api: ApiHarness;
  readonly proxy: SentinelProxy;
  readonly servers: readonly [RedisHandle, RedisHandle];
}

/** Two Redis servers (the master now, and the one it will switch to), the API monitoring the first, and the proxy. */
async function setup(): Promise<Setup> {
  const ports = await allocatePorts(2);
  const servers = (await Promise.all(ports.map((port) => startRedis({ port })))) as [
    RedisHandle,
    RedisHandle,
  ];
  for (const server of servers) cleanups.push(() => server.stop());
  const api = await startApiHarness({ master: { name: 'mymaster', ...servers[0].address } });
  cleanups.push(() => api.close());
  const proxy = await startProxy({
    client: new SentinelHttpClient({ url: api.url }),
    port: 0,
    eventIntervalMs: 100,
    longPollWaitMs: 2_000,
  });
  cleanups.push(() => proxy.close());
  await proxy.eventsPrimed;
  return { api, proxy, servers };
}

function track(client: Redis): Redis {
  client.on('error', () => {});
  cleanups.push(() => client.disconnect());
  return client;
}

async function redisCli(port: number, ...args: string[]): Promise<string> {
  return (await run(REDIS_CLI, ['-p', String(port), ...args])).stdout;
}

async function valueOn(address: Address, key: string): Promise<string | null> {
  const direct = new Redis({
    ...address,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  try {
    await direct.connect();
    return await direct.get(key);
  } finally {
    direct.disconnect();
  }
}

/** Every sentinel logs the switch, as they do in a real failover. */
async function logSwitch(api: ApiHarness, from: Address, to: Address, epoch: number): Promise<string> {
  const payload = `mymaster ${from.host} ${from.port} ${to.host} ${to.port}`;
  for (const id of SENTINEL_IDS) {
    await api.eventLog.append(eventRecord({ type: '+switch-master', payload }, id, epoch));
  }
  return payload;
}

describe('lambda-sentinel proxy', () => {
  it('redis-cli and ioredis in Sentinel mode find the master, and follow a switch; +switch-master arrives once', async () => {
    const { api, proxy, servers } = await setup();
    const [before, after] = [servers[0].address, servers[1].address];
    const port = proxy.endpoint.address.port;

    expect(await redisCli(port, 'sentinel', 'get-master-addr-by-name', 'mymaster')).toBe(
      `${before.host}\n${before.port}\n`,
    );
    expect(await redisCli(port, 'sentinel', 'get-master-addr-by-name', 'nope')).toBe('\n');
    const client = track(
      new Redis({ sentinels: [{ host: '127.0.0.1', port }], name: 'mymaster', failoverDetector: true }),
    );
    await client.set('before', '1');
    expect(await valueOn(before, 'before')).toBe('1');

    const messages: Array<[string, string]> = [];
    const subscriber = track(new Redis({ port, lazyConnect: true }));
    subscriber.on('pmessage', (_pattern, channel, message) => messages.push([channel, message]));
    await subscriber.psubscribe('*');

    const epoch = await switchMaster(api.store, 'mymaster', after);
    const payload = await logSwitch(api, before, after, epoch);
    // An event after the switch: once it is through, every event before it has been handed over.
    await api.eventLog.append(
      eventRecord({ type: '+tilt', payload: '#tilt mode entered', master: null }, 'sentinel-c'),
    );
    await expect.poll(() => messages.map(([channel]) => channel), { timeout: 20_000 }).toContain('+tilt');
    expect(messages.filter(([channel]) => channel === '+switch-master')).toEqual([
      ['+switch-master', payload],
    ]);

    expect(await redisCli(port, 'sentinel', 'get-master-addr-by-name', 'mymaster')).toBe(
      `${after.host}\n${after.port}\n`,
    );
    // The ioredis client left the old master on +switch-master: its writes reach the new one.
    await expect
      .poll(
        async () => {
          await client.set('after', 'through-the-proxy').catch(() => {});
          return valueOn(after, 'after');
        },
        { timeout: 20_000, interval: 200 },
      )
      .toBe('through-the-proxy');
    const fresh = track(new Redis({ sentinels: [{ host: '127.0.0.1', port }], name: 'mymaster' }));
    await fresh.set('fresh', '1');
    expect(await valueOn(after, 'fresh')).toBe('1');
  });

  it('answers a switch from its long poll alone, without any event', async () => {
    const { api, proxy, servers } = await setup();
    const port = proxy.endpoint.address.port;
    expect(await redisCli(port, 'sentinel', 'get-master-addr-by-name', 'mymaster')).toBe(
      `127.0.0.1\n${servers[0].address.port}\n`,
    );
    await switchMaster(api.store, 'mymaster', servers[1].address);
    await expect
      .poll(() => redisCli(port, 'sentinel', 'get-master-addr-by-name', 'mymaster'), { timeout: 20_000 })
      .toBe(`127.0.0.1\n${servers[1].address.port}\n`);
  });

  it('answers the other SENTINEL commands from the API, with itself as every sentinel', async () => {
    const { proxy } = await setup();
    const port = proxy.endpoint.address.port;
    const sentinel = track(new Redis({ port, lazyConnect: true }));
    await sentinel.connect();
    const master = (await sentinel.call('SENTINEL', 'master', 'mymaster')) as string[];
    expect(master.slice(0, 2)).toEqual(['name', 'mymaster']);
    expect(master[master.indexOf('quorum') + 1]).toBe('2');
    const masters = (await sentinel.call('SENTINEL', 'masters')) as string[][];
    expect(masters.map((m) => m[1])).toEqual(['mymaster']);
    const sentinels = (await sentinel.call('SENTINEL', 'sentinels', 'mymaster')) as string[][];
    expect(sentinels).toHaveLength(2);
    for (const s of sentinels) {
      expect(s[s.indexOf('ip') + 1]).toBe('127.0.0.1');
      expect(s[s.indexOf('port') + 1]).toBe(String(port));
    }
    expect(await sentinel.call('SENTINEL', 'myid')).toBe(proxy.view.myId());
    await expect(sentinel.call('SENTINEL', 'master', 'nope')).rejects.toThrow(
      /No such master with that name/,
    );
    await expect(sentinel.call('SENTINEL', 'ckquorum', 'mymaster')).rejects.toThrow(/^NOQUORUM/);
  });
});

describe('the proxy command', () => {
  let child: ChildProcess | null = null;
  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child = null;
  });

  it('prints where it listens, serves, and stops cleanly on SIGTERM', async () => {
    const api = await startApiHarness();
    cleanups.push(() => api.close());
    const root = join(import.meta.dirname, '../..');
    const proc = spawn(
      process.execPath,
      [join(root, 'bin/lambda-sentinel.js'), 'proxy', '--url', api.url, '--port', '0'],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    let stdout = '';
    let stderr = '';
    proc.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    proc.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => proc.on('exit', resolve));
    await expect.poll(() => stdout, { timeout: 20_000 }).toMatch(/Sentinel endpoint at 127\.0\.0\.1:\d+/);
    const port = Number((stdout.match(/Sentinel endpoint at 127\.0\.0\.1:(\d+)/) as RegExpMatchArray)[1]);
    expect(stdout).toContain(`backed by ${api.url}`);
    expect(await redisCli(port, 'sentinel', 'get-master-addr-by-name', 'mymaster')).toBe('127.0.0.1\n7000\n');
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stdout).toMatch(/proxy stopped\n$/);
    expect(stderr).toBe('');
  });

  it('exits 1 with the reason when the API cannot be reached, and 2 for a bad option', async () => {
    const root = join(import.meta.dirname, '../..');
    const bin = join(root, 'bin/lambda-sentinel.js');
    const unreachable = await run(
      process.execPath,
      [bin, 'proxy', '--url', 'http://127.0.0.1:1', '--port', '0'],
      {
        cwd: root,
      },
    ).catch((e: { code: number; stderr: string }) => e);
    expect(unreachable).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/cannot start: cannot reach http:\/\/127\.0\.0\.1:1/),
    });
    const bad = await run(process.execPath, [bin, 'proxy', '--port', 'many'], { cwd: root }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(bad).toMatchObject({ code: 2 });
  });
});

/** The proxy command in this process: its output, and a way to stop it. */
function proxyCommand(argv: string[], deps: ProxyCommandDeps = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const stop = new AbortController();
  const exited = runProxyCommand(argv, { out: (t) => out.push(t), err: (t) => err.push(t) }, stop.signal, {
    env: {},
    ...deps,
  });
  cleanups.push(async () => {
    stop.abort();
    await exited;
  });
  return {
    out,
    err,
    exited,
    stop: () => stop.abort(),
    port: async () => {
      await expect.poll(() => out.join('\n'), { timeout: 20_000 }).toMatch(/Sentinel endpoint at [^:]+:\d+/);
      return Number((out.join('\n').match(/Sentinel endpoint at [^:]+:(\d+)/) as RegExpMatchArray)[1]);
    },
  };
}

async function tempFile(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ls-proxy-users-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'users.conf');
  await writeFile(file, text);
  return file;
}

describe('the proxy: read-only unless asked, and its own users', () => {
  it('refuses writes by default: nothing reaches the API; --allow-writes passes them on', async () => {
    const api = await startApiHarness();
    cleanups.push(() => api.close());
    const readOnly = await startProxy({ client: new SentinelHttpClient({ url: api.url }), port: 0 });
    cleanups.push(() => readOnly.close());
    const port = readOnly.endpoint.address.port;
    for (const args of [
      ['SENTINEL', 'SET', 'mymaster', 'rename-command', 'PING', 'FLUSHALL'],
      ['SENTINEL', 'FAILOVER', 'mymaster'],
      ['SENTINEL', 'REMOVE', 'mymaster'],
      ['SENTINEL', 'MONITOR', 'other', '127.0.0.1', '7001', '2'],
      ['SENTINEL', 'RESET', '*'],
    ]) {
      const name = `sentinel|${(args[1] as string).toLowerCase()}`;
      expect((await redisCli(port, ...args)).trim(), name).toBe(
        `NOPERM this proxy is read-only: '${name}' would change the deployed sentinels. Start the proxy with --allow-writes to pass writes on`,
      );
    }
    expect(await redisCli(port, 'SENTINEL', 'get-master-addr-by-name', 'mymaster')).toBe('127.0.0.1\n7000\n');
    const record = await api.store.getMaster('mymaster');
    expect(record?.settings.renamedCommands).toBeUndefined();
    expect(record?.failoverRequestedAt).toBeNull();
    expect(record?.monitored).toBe(true);
    expect(await api.store.getMaster('other')).toBeNull();

    const writable = await startProxy({
      client: new SentinelHttpClient({ url: api.url }),
      port: 0,
      allowWrites: true,
    });
    cleanups.push(() => writable.close());
    expect(await redisCli(writable.endpoint.address.port, 'SENTINEL', 'SET', 'mymaster', 'quorum', '1')).toBe(
      'OK\n',
    );
    expect((await api.store.getMaster('mymaster'))?.settings.quorum).toBe(1);
  });

  it('answers SENTINEL FAILOVER as soon as the request is recorded, as Sentinel, then INPROG', async () => {
    // A server that would wait ten minutes for the outcome if asked to: no sentinel runs here, so only
    // an answer that does not wait for the outcome comes back within the test.
    const api = await startApiHarness({ failoverWaitMs: 600_000 });
    cleanups.push(() => api.close());
    const proxy = await startProxy({
      client: new SentinelHttpClient({ url: api.url }),
      port: 0,
      allowWrites: true,
    });
    cleanups.push(() => proxy.close());
    const port = proxy.endpoint.address.port;
    const within = <T>(work: Promise<T>, ms: number): Promise<T> =>
      Promise.race([
        work,
        new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)),
      ]);
    expect(await within(redisCli(port, 'SENTINEL', 'FAILOVER', 'mymaster'), 15_000)).toBe('OK\n');
    // Recorded when the OK came; no sentinel has taken it up, so a second request is INPROG.
    expect((await api.store.getMaster('mymaster'))?.failoverRequestedAt).not.toBeNull();
    expect((await within(redisCli(port, 'SENTINEL', 'FAILOVER', 'mymaster'), 15_000)).trim()).toBe(
      'INPROG Failover already in progress',
    );
    // The HTTP API's own switch, as documented: `wait` true or false, nothing else.
    const bad = await fetch(`${api.url}/v1/masters/mymaster/failover?wait=maybe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: "'wait' must be true or false", code: 'INVALID' });
  }, 40_000);

  it('with a password: NOAUTH without it, the answer with it (redis-cli -a)', async () => {
    const api = await startApiHarness();
    cleanups.push(() => api.close());
    const proxy = await startProxy({
      client: new SentinelHttpClient({ url: api.url }),
      port: 0,
      users: [defaultUserWithPassword('pr0xy')],
    });
    cleanups.push(() => proxy.close());
    const port = proxy.endpoint.address.port;
    expect((await redisCli(port, 'SENTINEL', 'get-master-addr-by-name', 'mymaster')).trim()).toBe(
      'NOAUTH Authentication required.',
    );
    expect(
      await redisCli(
        port,
        '-a',
        'pr0xy',
        '--no-auth-warning',
        'SENTINEL',
        'get-master-addr-by-name',
        'mymaster',
      ),
    ).toBe('127.0.0.1\n7000\n');
  });

  it('refuses to listen beyond loopback without a password, and says where it listens and how', async () => {
    const api = await startApiHarness();
    cleanups.push(() => api.close());
    await expect(
      startProxy({ client: new SentinelHttpClient({ url: api.url }), port: 0, host: '0.0.0.0' }),
    ).rejects.toThrow(/refusing to listen on 0\.0\.0\.0, beyond loopback, while a user needs no password/);
    const open = proxyCommand(['--url', api.url, '--port', '0', '--host', '0.0.0.0']);
    expect(await open.exited).toBe(2);
    expect(open.err.join('\n')).toMatch(
      /refusing to listen on 0\.0\.0\.0, beyond loopback, without a password/,
    );
    expect(open.out).toEqual([]);

    const secured = proxyCommand(['--url', api.url, '--port', '0', '--host', '0.0.0.0'], {
      env: { LAMBDA_SENTINEL_REQUIREPASS: 'env-pw' },
    });
    const port = await secured.port();
    expect(secured.out).toEqual([
      expect.stringMatching(/^Sentinel endpoint at 0\.0\.0\.0:\d+, backed by http:\/\/127\.0\.0\.1:\d+$/),
      'auth on (users: default)',
      'read-only: SENTINEL FAILOVER, SET, MONITOR, REMOVE, RESET… are refused (--allow-writes passes them on)',
      `try: redis-cli -h 0.0.0.0 -p ${port} --askpass sentinel masters`,
    ]);
    expect(secured.out.join('\n')).not.toContain('env-pw');
    expect(
      await redisCli(
        port,
        '-a',
        'env-pw',
        '--no-auth-warning',
        'SENTINEL',
        'get-master-addr-by-name',
        'mymaster',
      ),
    ).toBe('127.0.0.1\n7000\n');
    secured.stop();
    expect(await secured.exited).toBe(0);
  });

  it('--users FILE: its users (hashes allowed); a bad line names file and line and never the password', async () => {
    const api = await startApiHarness();
    cleanups.push(() => api.close());
    const hash = createHash('sha256').update('ops-pw').digest('hex');
    const file = await tempFile(`# proxy users\nuser ops on #${hash} &* +@all\nuser view on >v &* +@read\n`);
    const started = proxyCommand(['--url', api.url, '--port', '0', '--users', file, '--allow-writes']);
    const port = await started.port();
    expect(started.out[1]).toBe('no password needed for user default (users: default, ops, view)');
    expect(started.out[2]).toMatch(/^writes allowed \(--allow-writes\)/);
    const as = (user: string, pass: string, ...args: string[]) =>
      redisCli(port, '--user', user, '--pass', pass, '--no-auth-warning', ...args);
    expect((await as('view', 'v', 'SENTINEL', 'SET', 'mymaster', 'quorum', '1')).trim()).toBe(
      "NOPERM this user has no permissions to run the 'sentinel|set' command",
    );
    expect(await as('ops', 'ops-pw', 'SENTINEL', 'SET', 'mymaster', 'quorum', '1')).toBe('OK\n');
    // The default user keeps Redis's default (no password) when the file does not name it: loopback only.
    expect(await redisCli(port, 'SENTINEL', 'get-master-addr-by-name', 'mymaster')).toBe('127.0.0.1\n7000\n');

    const bad = await tempFile(
      'user ops on >fine +@all\nuser typo on s3cr3t-in-the-wrong-place +@all\nport 1\n',
    );
    const refused = proxyCommand(['--url', api.url, '--port', '0', '--users', bad]);
    expect(await refused.exited).toBe(2);
    const text = refused.err.join('\n');
    expect(text).toContain(`${bad}:2: in the rules of user 'typo': unknown ACL rule (not shown`);
    expect(text).toContain(`${bad}:3: 'port' does not belong in a users file`);
    expect(text).not.toContain('s3cr3t');
    expect(text).not.toContain('fine');
  });

  it('--users-ssm NAME: a SecureString with users lines; a plain String is refused', async () => {
    const api = await startApiHarness();
    cleanups.push(() => api.close());
    const asked: Array<{ Name?: string; WithDecryption?: boolean }> = [];
    const ssm = (type: string, value: string) => () => ({
      async send(command: GetParameterCommand) {
        asked.push(command.input);
        return { Parameter: { Name: command.input.Name, Type: type as 'SecureString', Value: value } };
      },
    });
    const started = proxyCommand(['--url', api.url, '--port', '0', '--users-ssm', '/ls/proxy-users'], {
      ssm: ssm('SecureString', 'requirepass from-ssm\n'),
    });
    const port = await started.port();
    expect(asked).toEqual([{ Name: '/ls/proxy-users', WithDecryption: true }]);
    expect(started.out[1]).toBe('auth on (users: default)');
    expect(
      await redisCli(
        port,
        '-a',
        'from-ssm',
        '--no-auth-warning',
        'SENTINEL',
        'get-master-addr-by-name',
        'mymaster',
      ),
    ).toBe('127.0.0.1\n7000\n');

    const plain = proxyCommand(['--url', api.url, '--port', '0', '--users-ssm', '/ls/plain'], {
      ssm: ssm('String', 'requirepass in-clear'),
    });
    expect(await plain.exited).toBe(2);
    expect(plain.err.join('\n')).toMatch(/the SSM parameter \/ls\/plain is a String, not a SecureString/);
    expect(plain.err.join('\n')).not.toContain('in-clear');

    const both = proxyCommand(['--url', api.url, '--port', '0', '--users-ssm', '/ls/proxy-users'], {
      ssm: ssm('SecureString', 'requirepass from-ssm'),
      env: { LAMBDA_SENTINEL_REQUIREPASS: 'from-env' },
    });
    expect(await both.exited).toBe(2);
    expect(both.err.join('\n')).toContain(
      "user 'default' is set both by --users-ssm /ls/proxy-users and by LAMBDA_SENTINEL_REQUIREPASS: keep one",
    );
  });
});
