/**
 * `lambda-sentinel local` as a newcomer runs it: a child process, real redis-servers, embedded DynamoDB.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createDynamoClient } from '../../lib/adapters/dynamodb/client.js';
import { DynamoEventLog } from '../../lib/adapters/dynamodb/eventLog.js';
import { LOCAL_DEFAULTS } from '../../lib/local/run.js';
import { allocatePorts, startRedis } from '../../lib/runtime/redisProcess.js';

const execRedisCli = async (args: string[]): Promise<string> =>
  (await promisify(execFile)('/usr/bin/redis-cli', args)).stdout.trim();

const root = join(import.meta.dirname, '../..');
const bin = join(root, 'bin/lambda-sentinel.js');
let child: ChildProcess | null = null;

afterEach(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  child = null;
});

function run(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const proc = spawn(process.execPath, [bin, ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (args[0] === 'local') child = proc;
  let stdout = '';
  let stderr = '';
  proc.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  proc.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    proc,
    exited,
    out: () => stdout,
    err: () => stderr,
    waitForOutput: async (pattern: RegExp, timeoutMs: number) => {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const match = stdout.match(pattern);
        if (match) return match;
        if (Date.now() > until || proc.exitCode !== null) {
          throw new Error(`no ${pattern} within ${timeoutMs}ms; stdout:\n${stdout}\nstderr:\n${stderr}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('lambda-sentinel local', () => {
  it('starts a demo topology, and the three sentinels agree that a killed master is down', async () => {
    const cli = run(['local', '--port', '0', '--http-port', '0']);
    const master = await cli.waitForOutput(/demo master pid (\d+)/, 20_000);
    const replicaPids = [...cli.out().matchAll(/demo replica pid (\d+)/g)].map((m) => Number(m[1]));
    expect(replicaPids).toHaveLength(2);
    await cli.waitForOutput(/\[sentinel-c\] \+slave .*\n.*\[sentinel-c\] \+slave/, 20_000);
    process.kill(Number(master[1]), 'SIGKILL');
    const elected = await cli.waitForOutput(/\[(sentinel-\w)\] \+elected-leader master mymaster/, 30_000);
    const leader = elected[1] as string;
    await cli.waitForOutput(new RegExp(`\\[${leader}\\] \\+failover-end master mymaster`), 30_000);
    const out = cli.out();
    for (const id of ['sentinel-a', 'sentinel-b', 'sentinel-c']) {
      expect(out).toMatch(new RegExp(`\\[${id}\\] \\+sdown master mymaster`));
    }
    expect(out).toMatch(/\+odown master mymaster 127\.0\.0\.1 \d+ #quorum \d\/2/);
    expect(out.match(/\+elected-leader/g)).toHaveLength(1);

    // The leader's events, as printed: the whole failover, in Sentinel's order, except +switch-master,
    // announced as soon as the address switched (before any replica is re-pointed), not at the end.
    const printed = out
      .split('\n')
      .filter((line) => line.includes(`[${leader}] `))
      .map((line) => line.slice(line.indexOf('] ') + 2));
    const types = printed.map((line) => line.split(' ')[0]);
    const expectedOrder = [
      '+sdown',
      '+odown',
      '+try-failover',
      '+elected-leader',
      '+selected-slave',
      '+promoted-slave',
      '+switch-master',
      '+failover-end',
    ];
    expect(types.filter((t) => expectedOrder.includes(t as string))).toEqual(expectedOrder);

    // The event log in the table reads back the same lines, in the same order.
    const endpoint = (out.match(/embedded DynamoDB \(dynalite\) at (\S+)/) as RegExpMatchArray)[1] as string;
    const log = new DynamoEventLog(createDynamoClient({ endpoint }), LOCAL_DEFAULTS.table);
    const printedEvents = printed.filter((line) => !line.startsWith('+tilt') && !line.startsWith('-tilt'));
    // Events after the printed ones may follow (the killed master, now a replica, goes +sdown once
    // down-after has passed since the switch): what was printed must be stored exactly, first.
    await expect
      .poll(
        async () => {
          const stored = (await log.list({ master: 'mymaster', limit: 1_000 }))
            .filter((r) => r.sentinelId === leader)
            .reverse()
            .map((r) => `${r.type} ${r.payload}`);
          return stored.slice(0, printedEvents.length);
        },
        { timeout: 15_000 },
      )
      .toEqual(printedEvents);
    // The Sentinel endpoint answers the new master, as a real Sentinel would.
    const sentinelPort = Number(
      (out.match(/Sentinel endpoint at 127\.0\.0\.1:(\d+)/) as RegExpMatchArray)[1],
    );
    const promotedPort = (
      out.match(/\+switch-master mymaster 127\.0\.0\.1 \d+ 127\.0\.0\.1 (\d+)/) as RegExpMatchArray
    )[1];
    const sentinel = new Redis({ port: sentinelPort, lazyConnect: true });
    await sentinel.connect();
    expect(await sentinel.call('SENTINEL', 'get-master-addr-by-name', 'mymaster')).toEqual([
      '127.0.0.1',
      promotedPort,
    ]);
    sentinel.disconnect();

    // The CLI reads the same log: newest last, with sentinel and epoch.
    const events = run([
      'events',
      '--master',
      'mymaster',
      '--dynamodb-endpoint',
      endpoint,
      '--limit',
      '1000',
    ]);
    expect(await events.exited).toBe(0);
    const listed = events.out().trim().split('\n');
    const switchLine =
      /\[sentinel-\w\] \+switch-master mymaster 127\.0\.0\.1 \d+ 127\.0\.0\.1 \d+ \(epoch 1\)$/;
    const switchedAt = listed.findIndex((l) => switchLine.test(l));
    expect(switchedAt).toBeGreaterThanOrEqual(0);
    expect(listed.findIndex((l) => l.includes(`[${leader}] +failover-end`))).toBeGreaterThan(switchedAt);
    expect(listed.filter((l) => l.includes(`[${leader}] +elected-leader`))).toHaveLength(1);
    const badSince = run(['events', '--since', 'yesterday-ish', '--dynamodb-endpoint', endpoint]);
    expect(await badSince.exited).toBe(2);

    // Through the HTTP API, as a user of the CLI sees it: the new master, and the same event log.
    const url = (out.match(/HTTP API at (http:\/\/127\.0\.0\.1:\d+)/) as RegExpMatchArray)[1] as string;
    const lookup = run(['get-master-addr-by-name', 'mymaster', '--url', url, '--json']);
    expect(await lookup.exited).toBe(0);
    expect(JSON.parse(lookup.out())).toEqual({ ip: '127.0.0.1', port: Number(promotedPort), epoch: 1 });
    const viaApi = run(['events', '--master', 'mymaster', '--limit', '1000', '--url', url, '--json']);
    expect(await viaApi.exited).toBe(0);
    const apiLines = viaApi
      .out()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; payload: string; sentinelId: string })
      .filter((r) => r.sentinelId === leader)
      .map((r) => `${r.type} ${r.payload}`);
    expect(apiLines.slice(0, printedEvents.length)).toEqual(printedEvents);

    cli.proc.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    for (const pid of replicaPids) expect(isRunning(pid)).toBe(false);
  });

  it('rejects a bad config file, naming the file and line, with exit code 2', async () => {
    const cli = run([
      'local',
      '--port',
      '0',
      '--http-port',
      '0',
      '--config',
      'test/fixtures/config/bad.conf',
    ]);
    expect(await cli.exited).toBe(2);
    expect(cli.err()).toMatch(/test\/fixtures\/config\/bad\.conf:5: /);
  });

  it('says clearly that redis-server is missing when the demo cannot start it', async () => {
    const cli = run(['local', '--port', '0', '--http-port', '0'], {
      ...process.env,
      PATH: dirname(process.execPath),
    });
    expect(await cli.exited).toBe(1);
    expect(cli.err()).toMatch(/redis-server not found on PATH/);
  });

  it('with passwords from the config (a hash) and the environment: auth on both listeners, secrets never printed', async () => {
    const [masterPort, hookPort] = (await allocatePorts(2)) as [number, number];
    const master = await startRedis({ port: masterPort });
    const hooks: string[] = [];
    const receiver = http.createServer((req, res) => {
      hooks.push(req.url ?? '');
      req.resume();
      res.end();
    });
    await new Promise<void>((resolve) => receiver.listen(hookPort, '127.0.0.1', resolve));
    const dir = await mkdtemp(join(tmpdir(), 'ls-local-auth-'));
    try {
      const opsHash = createHash('sha256').update('ops-pw').digest('hex');
      const file = join(dir, 'sentinel.conf');
      await writeFile(
        file,
        [
          `sentinel monitor mymaster 127.0.0.1 ${masterPort} 2`,
          'sentinel down-after-milliseconds mymaster 5000',
          `user ops on #${opsHash} &* +@all`,
          'user viewer on >view-pw &* +@read',
          'timeout 60',
          '',
        ].join('\n'),
      );
      const webhook = `http://127.0.0.1:${hookPort}/hooks/T0KEN-IN-PATH?token=Q-SECRET`;
      const env = { ...process.env, LAMBDA_SENTINEL_REQUIREPASS: 'env-pw' };
      const cli = run(
        ['local', '--port', '0', '--http-port', '0', '--config', file, '--webhook', webhook],
        env,
      );
      const endpoint = await cli.waitForOutput(
        /Sentinel endpoint at 127\.0\.0\.1:(\d+), auth on \(users: default, ops, viewer\) \(redis-cli -p \d+ --askpass /,
        30_000,
      );
      const api = await cli.waitForOutput(/HTTP API at (http:\/\/127\.0\.0\.1:\d+), auth on/, 30_000);
      const port = endpoint[1] as string;
      const url = api[1] as string;
      expect(cli.out()).toContain(
        `posting events to http://127.0.0.1:${hookPort} (the rest of the URL is hidden)`,
      );
      for (const secret of ['T0KEN-IN-PATH', 'Q-SECRET', 'env-pw', 'ops-pw', 'view-pw']) {
        expect(cli.out() + cli.err(), secret).not.toContain(secret);
      }
      const redisCli = (...args: string[]) => execRedisCli(['-p', port, '--no-auth-warning', ...args]);
      expect(await redisCli('SENTINEL', 'SET', 'mymaster', 'quorum', '1')).toBe(
        'NOAUTH Authentication required.',
      );
      expect(await redisCli('-a', 'env-pw', 'SENTINEL', 'get-master-addr-by-name', 'mymaster')).toBe(
        `127.0.0.1\n${masterPort}`,
      );
      expect(await redisCli('--user', 'ops', '--pass', 'ops-pw', 'ACL', 'WHOAMI')).toBe('ops');
      expect(
        await redisCli('--user', 'viewer', '--pass', 'view-pw', 'SENTINEL', 'SET', 'mymaster', 'quorum', '1'),
      ).toBe("NOPERM this user has no permissions to run the 'sentinel|set' command");
      // The HTTP API wants the same users.
      const anonymous = run(['masters', '--url', url], { ...process.env, LAMBDA_SENTINEL_PASSWORD: '' });
      expect(await anonymous.exited).toBe(7);
      const viewer = run(['masters', '--url', url], {
        ...process.env,
        LAMBDA_SENTINEL_USER: 'viewer',
        LAMBDA_SENTINEL_PASSWORD: 'view-pw',
      });
      expect(await viewer.exited).toBe(0);
      expect(viewer.out()).toMatch(/^NAME\s+IP\s+PORT/);
      await expect.poll(() => hooks.length, { timeout: 20_000 }).toBeGreaterThan(0);
      expect(hooks[0]).toBe('/hooks/T0KEN-IN-PATH?token=Q-SECRET');
      cli.proc.kill('SIGTERM');
      expect(await cli.exited).toBe(0);
    } finally {
      receiver.close();
      await master.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses to listen beyond loopback without a password, and two sources of one password (exit 2, nothing started)', async () => {
    for (const flag of ['--host', '--http-host']) {
      const cli = run(['local', '--port', '0', '--http-port', '0', flag, '0.0.0.0']);
      expect(await cli.exited).toBe(2);
      expect(cli.err()).toMatch(
        /refusing to serve the (Sentinel endpoint|HTTP API) on 0\.0\.0\.0 \(--(http-)?host\), beyond loopback, without a password/,
      );
      expect(cli.out()).not.toMatch(/demo master pid/);
    }
    const dir = await mkdtemp(join(tmpdir(), 'ls-local-auth-'));
    try {
      const file = join(dir, 'sentinel.conf');
      await writeFile(file, 'sentinel monitor mymaster 127.0.0.1 6379 2\nrequirepass from-file\n');
      const cli = run(['local', '--port', '0', '--http-port', '0', '--config', file], {
        ...process.env,
        LAMBDA_SENTINEL_REQUIREPASS: 'from-env',
      });
      expect(await cli.exited).toBe(2);
      expect(cli.err()).toContain(
        `user 'default' is set both by ${file} and by LAMBDA_SENTINEL_REQUIREPASS: keep one`,
      );
      expect(cli.err()).not.toMatch(/from-file|from-env/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects an unknown option with exit code 2', async () => {
    const cli = run(['local', '--bogus']);
    expect(await cli.exited).toBe(2);
    expect(cli.err()).toMatch(/bogus/);
  });
});
