/**
 * notification-script and client-reconfig-script in the local runner, run as Sentinel runs them: real
 * scripts (sh), real redis-server processes, DynamoDB Local. The arguments, the retry rule (exit 1 or a
 * signal: again later; another failure: -script-error) and the timeout are Sentinel's.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { SentinelEvent } from '../../lib/core/types.js';
import { LocalUsageError, runLocal } from '../../lib/local/run.js';
import { ScriptQueue } from '../../lib/local/scripts.js';
import { startTopology, type Topology } from '../../lib/runtime/redisProcess.js';

const WAIT_MS = 25_000;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitUntil(check: () => Promise<boolean> | boolean, what: string, timeoutMs = WAIT_MS) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (
      await Promise.resolve()
        .then(check)
        .catch(() => false)
    )
      return;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ls-scripts-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** An executable sh script that appends its arguments (`a|b|c|`) to `log`, then runs `then`. */
async function script(dir: string, name: string, log: string, then = 'exit 0'): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\nprintf '%s|' "$@" >> '${log}'\necho >> '${log}'\n${then}\n`);
  await chmod(path, 0o755);
  return path;
}

async function linesOf(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.split('\n').filter((line) => line !== '');
}

describe('ScriptQueue: Sentinel retry and timeout rules', () => {
  it('runs a script that exits 1 again after the retry delay, and stops once it exits 0', async () => {
    const dir = await tempDir();
    const log = join(dir, 'runs.log');
    // Exits 1 on its first run, 0 on the second.
    const path = await script(dir, 'flaky.sh', log, `[ "$(wc -l < '${log}')" -ge 2 ] && exit 0; exit 1`);
    const events: SentinelEvent[] = [];
    const queue = new ScriptQueue((event) => events.push(event), { retryDelayMs: 200 });
    cleanups.push(async () => queue.stop());
    queue.schedule(path, ['+sdown', 'master mymaster 127.0.0.1 6379']);
    await waitUntil(() => queue.pending().length === 0, 'the script to succeed', 10_000);
    expect(await linesOf(log)).toEqual([
      '+sdown|master mymaster 127.0.0.1 6379|',
      '+sdown|master mymaster 127.0.0.1 6379|',
    ]);
    expect(events).toEqual([]);
  });

  it('reports any other failure with -script-error <path> <signal> <exit code>, and never retries it', async () => {
    const dir = await tempDir();
    const log = join(dir, 'runs.log');
    const failing = await script(dir, 'failing.sh', log, 'exit 3');
    const events: SentinelEvent[] = [];
    const queue = new ScriptQueue((event) => events.push(event), { retryDelayMs: 50 });
    cleanups.push(async () => queue.stop());
    queue.schedule(failing, ['+odown', 'x']);
    queue.schedule(join(dir, 'missing.sh'), ['+odown', 'x']);
    await waitUntil(() => queue.pending().length === 0, 'both scripts to end', 10_000);
    expect(events.map((e) => [e.type, e.payload, e.master])).toEqual(
      expect.arrayContaining([
        ['-script-error', `${failing} 0 3`, null],
        ['-script-error', `${join(dir, 'missing.sh')} 0 2`, null],
      ]),
    );
    await sleep(300);
    expect(await linesOf(log)).toHaveLength(1);
  });

  it('kills a script that runs too long (-script-timeout), retries it, and reports the last kill', async () => {
    const dir = await tempDir();
    const log = join(dir, 'runs.log');
    const slow = await script(dir, 'slow.sh', log, 'exec sleep 30');
    const events: SentinelEvent[] = [];
    const queue = new ScriptQueue((event) => events.push(event), {
      maxRuntimeMs: 300,
      retryDelayMs: 50,
      maxRuns: 2,
    });
    cleanups.push(async () => queue.stop());
    queue.schedule(slow, ['+sdown', 'y']);
    await waitUntil(() => queue.pending().length === 0, 'the script to be given up', 10_000);
    expect(events.map((e) => e.type)).toEqual(['-script-timeout', '-script-timeout', '-script-error']);
    expect(events[0]?.payload).toMatch(new RegExp(`^${slow} \\d+$`));
    // Killed by SIGKILL (9): Sentinel reports the signal and exit code 0.
    expect(events[2]?.payload).toBe(`${slow} 9 0`);
    expect(await linesOf(log)).toHaveLength(2);
  });
});

async function call(port: number, ...args: Array<string | number>): Promise<unknown> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  client.on('error', () => {});
  try {
    await client.connect();
    return await client.call(String(args[0]), ...args.slice(1).map(String));
  } finally {
    client.disconnect();
  }
}

async function runner(lines: readonly string[]) {
  const dir = await tempDir();
  const configPath = join(dir, 'sentinel.conf');
  await writeFile(configPath, `${lines.join('\n')}\n`);
  const abort = new AbortController();
  let printed = '';
  const print = (line: string) => {
    printed += `${line}\n`;
  };
  let failure: unknown = null;
  const done = runLocal({
    configPath,
    dynamodbEndpoint: inject('dynamodbEndpoint'),
    table: `scripts-${Math.random().toString(36).slice(2)}`,
    port: 0,
    httpPort: 0,
    env: {},
    out: print,
    err: print,
    signal: abort.signal,
  }).catch((error: unknown) => {
    failure = error;
    return [];
  });
  cleanups.push(async () => {
    abort.abort();
    await done;
  });
  await waitUntil(() => /HTTP API at/.test(printed) || failure !== null, 'the runner');
  if (failure !== null) throw failure;
  const port = Number(printed.match(/Sentinel endpoint at [\d.]+:(\d+)/)?.[1]);
  return { port, output: () => printed };
}

describe('scripts in the local runner', () => {
  it('refuses to start with a script that does not exist, in Sentinel’s words', async () => {
    const missing = runner([
      'sentinel monitor mymaster 127.0.0.1 6379 2',
      'sentinel notification-script mymaster /nonexistent/notify.sh',
    ]);
    await expect(missing).rejects.toBeInstanceOf(LocalUsageError);
    await expect(missing).rejects.toThrow(
      /: master mymaster: Notification script seems non existing or non executable$/,
    );
    await expect(
      runner([
        'sentinel monitor mymaster 127.0.0.1 6379 2',
        'sentinel client-reconfig-script mymaster /nonexistent/reconfig.sh',
      ]),
    ).rejects.toThrow(
      /: master mymaster: Client reconfiguration script seems non existing or non executable$/,
    );
  });

  it('runs the notification script per WARNING event and the reconfig script as leader and observers', async () => {
    const dir = await tempDir();
    const notified = join(dir, 'notify.log');
    const reconfigured = join(dir, 'reconfig.log');
    const notify = await script(dir, 'notify.sh', notified);
    const reconfig = await script(dir, 'reconfig.sh', reconfigured);
    const t: Topology = await startTopology({ replicas: 1 });
    cleanups.push(() => t.stop());
    const masterPort = t.master.address.port;
    const replicaPort = (t.replicas[0] as Topology['master']).address.port;
    const r = await runner([
      `sentinel monitor mymaster 127.0.0.1 ${masterPort} 2`,
      'sentinel down-after-milliseconds mymaster 1000',
      'sentinel failover-timeout mymaster 10000',
      `sentinel notification-script mymaster ${notify}`,
      'sentinel deny-scripts-reconfig no',
    ]);
    // deny-scripts-reconfig no: SET may name a script (an executable one).
    await expect(
      call(r.port, 'SENTINEL', 'SET', 'mymaster', 'client-reconfig-script', join(dir, 'nope.sh')),
    ).rejects.toThrow(/^ERR Client reconfiguration script seems non existing or non executable$/);
    expect(await call(r.port, 'SENTINEL', 'SET', 'mymaster', 'client-reconfig-script', reconfig)).toBe('OK');
    // One +monitor per sentinel (WARNING): each sentinel runs its own script, as each Sentinel process.
    await waitUntil(
      async () => (await linesOf(notified)).filter((l) => l.startsWith('+monitor|')).length === 3,
      'the +monitor notifications',
    );
    expect((await linesOf(notified)).filter((l) => l.startsWith('+monitor|'))[0]).toBe(
      `+monitor|master mymaster 127.0.0.1 ${masterPort} quorum 2|`,
    );

    await t.master.kill();
    const from = `127.0.0.1|${masterPort}|127.0.0.1|${replicaPort}|`;
    await waitUntil(async () => (await linesOf(reconfigured)).length === 3, 'the three reconfig runs');
    expect((await linesOf(reconfigured)).sort()).toEqual(
      [
        `mymaster|leader|start|${from}`,
        `mymaster|observer|start|${from}`,
        `mymaster|observer|start|${from}`,
      ].sort(),
    );
    const lines = await linesOf(notified);
    expect(lines).toContain(`+sdown|master mymaster 127.0.0.1 ${masterPort}|`);
    expect(lines).toContain(`+switch-master|mymaster 127.0.0.1 ${masterPort} 127.0.0.1 ${replicaPort}|`);
    // Only WARNING events: +slave (notice) runs no script.
    expect(lines.some((l) => l.startsWith('+slave|'))).toBe(false);
  });
});
