/**
 * Client libraries in Sentinel mode, unmodified, against `lambda-sentinel local`'s Redis-protocol
 * endpoint on real redis-servers: redis-py (`redis.sentinel.Sentinel`), node-redis (`createSentinel`) and
 * iovalkey with `failoverDetector: true`. Each keeps one client through five manual failovers in a row
 * (SENTINEL FAILOVER), redis-py and node-redis then a SIGKILL of the master too, and must write to the
 * new master after each (ioredis follows a SIGKILL in test/integration/sentinelEndpoint.test.ts).
 * The failovers are repeated because a client that is disconnected at the wrong moment (while it follows
 * the switch) only fails some of the time.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { Redis as Valkey } from 'iovalkey';
import { createSentinel } from 'redis';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Address } from '../../lib/core/types.js';
import { type LocalRunner, redisCall, startLocalRunner, waitUntil } from '../support/localRunner.js';

const MANUAL_FAILOVERS = 5;
/** How long one failover (manual or after SIGKILL) and the client's first good write may take. */
const FOLLOW_WITHIN_MS = 20_000;
const root = join(import.meta.dirname, '../..');

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

async function runner(): Promise<LocalRunner> {
  const started = await startLocalRunner({
    dynamodbEndpoint: inject('dynamodbEndpoint'),
    replicas: 2,
    downAfterMs: 1_000,
    failoverTimeoutMs: 10_000,
    // Replicas of a new master are found by its INFO: read it often so the next failover has candidates.
    extraConfig: ['sentinel info-period {master} 500'],
  });
  cleanups.push(() => started.stop());
  return started;
}

function sameAddress(a: Address, b: Address): boolean {
  return a.host === b.host && a.port === b.port;
}

/**
 * SENTINEL FAILOVER until it is accepted (right after a failover the new master's replicas may not be
 * known yet: NOGOODSLAVE; the previous one may not have ended: INPROG), then waits for the switch.
 */
async function manualFailover(local: LocalRunner): Promise<Address> {
  const before = await local.masterAddress();
  await waitUntil(
    async () => (await local.sentinel('SENTINEL', 'FAILOVER', local.masterName)) === 'OK',
    FOLLOW_WITHIN_MS,
    'SENTINEL FAILOVER accepted',
    200,
  );
  return await movedFrom(local, before, `the master to move from port ${before.port}`);
}

/** Waits for the endpoint to name another master than `before`, and returns it. */
async function movedFrom(local: LocalRunner, before: Address, what: string): Promise<Address> {
  let after = before;
  await waitUntil(
    async () => {
      after = await local.masterAddress();
      return !sameAddress(after, before);
    },
    FOLLOW_WITHIN_MS,
    what,
  );
  return after;
}

/** SIGKILLs the current master and waits for the endpoint to name another one. */
async function killMaster(local: LocalRunner): Promise<Address> {
  const before = await local.masterAddress();
  await local.serverAt(before).kill();
  return await movedFrom(local, before, `a failover after SIGKILL of port ${before.port}`);
}

/**
 * The client's writes reach `master`: it writes `key` (through `write`, which retries as an application
 * does) until the value reads back on that server. A write that the old master took in the moments
 * before it was demoted is lost when it resyncs, as with Sentinel: the client must then write again.
 */
async function writeReaches(
  master: Address,
  key: string,
  write: (key: string, value: string) => Promise<void>,
): Promise<void> {
  const until = Date.now() + FOLLOW_WITHIN_MS;
  for (let attempt = 1; ; attempt++) {
    const value = `v${attempt}`;
    await write(key, value);
    if ((await redisCall(master, 'GET', key)) === value) return;
    if (Date.now() > until) {
      throw new Error(`${key}: the client's writes did not reach the new master at port ${master.port}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The scenario every client goes through: after each failover its writes must reach the new master.
 * `kill: false` leaves out the final SIGKILL (see the todos below).
 */
async function followFailovers(
  local: LocalRunner,
  write: (key: string, value: string) => Promise<void>,
  options: { readonly kill: boolean } = { kill: true },
): Promise<void> {
  await writeReaches(await local.masterAddress(), 'before', write);
  for (let round = 1; round <= MANUAL_FAILOVERS; round++) {
    const now = await manualFailover(local);
    await writeReaches(now, `manual-${round}`, write);
  }
  if (options.kill) await writeReaches(await killMaster(local), 'after-kill', write);
}

/** Retries a node client's write until it succeeds; fails at once if the client ended for good. */
async function writeUntilOk(
  attempt: () => Promise<unknown>,
  ended: () => boolean,
  what: string,
): Promise<void> {
  const until = Date.now() + FOLLOW_WITHIN_MS;
  let last: unknown = null;
  while (Date.now() < until) {
    if (ended()) throw new Error(`${what}: the client ended for good (last error: ${String(last)})`);
    try {
      await Promise.race([
        attempt(),
        new Promise((_, reject) => setTimeout(() => reject(new Error('attempt timed out')), 3_000)),
      ]);
      return;
    } catch (error) {
      last = error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${what}: no successful write within ${FOLLOW_WITHIN_MS}ms: ${String(last)}`);
}

/** python3 is what the redis-py test needs from the machine; everything else it installs itself. */
const python3 = spawnSync('python3', ['--version'], { encoding: 'utf8' });
const hasPython = python3.status === 0;
if (!hasPython) {
  console.warn(
    'SKIPPED: redis-py client test: python3 is not installed (apt-get install python3 python3-venv)',
  );
}

describe('redis-py in Sentinel mode (redis.sentinel.Sentinel)', () => {
  let python = '';
  beforeAll(async () => {
    if (!hasPython) return;
    // Makes (or reuses) a venv under .tmp/ (gitignored) with redis-py from the configured index.
    const { stdout } = await promisify(execFile)(join(root, 'test/support/redis-py-venv.sh'), [], {
      cwd: root,
      timeout: 180_000,
    });
    python = join(root, stdout.trim().split('\n').at(-1) as string);
  }, 200_000);

  it.skipIf(!hasPython)(
    'follows five manual failovers in a row and a SIGKILLed master, writing to each new master',
    async () => {
      const local = await runner();
      const child: ChildProcess = spawn(
        python,
        [join(root, 'test/support/redis_py_client.py'), String(local.endpoint.port), local.masterName],
        { stdio: ['pipe', 'pipe', 'pipe'] },
      );
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      cleanups.push(async () => {
        child.kill('SIGKILL');
      });
      const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
      const next = async (): Promise<string> => {
        const line = await lines.next();
        if (line.done) throw new Error(`redis-py client exited: ${stderr}`);
        return line.value;
      };
      expect(await next()).toBe('ready');
      await followFailovers(local, async (key, value) => {
        child.stdin?.write(`${key} ${value} ${FOLLOW_WITHIN_MS / 1000}\n`);
        const reply = await next();
        if (!reply.startsWith('ok ')) throw new Error(`redis-py could not write ${key}: ${reply}`);
      });
    },
    240_000,
  );
});

describe('node-redis createSentinel', () => {
  it('follows five manual failovers in a row and a SIGKILLed master, writing to each new master', async () => {
    // node-redis subscribes to 'switch-master' (without the '+', so it never matches), '[-+]odown',
    // '+slave-reconf-done'… and re-reads SENTINEL MASTER on each; it skips a master flagged s_down,
    // disconnected or failover_in_progress and tries again a second later. So the new master must not
    // carry the flag once the address has switched (lib/commands/instanceMaps.ts).
    const local = await runner();
    const errors: unknown[] = [];
    const client = createSentinel({
      name: local.masterName,
      sentinelRootNodes: [{ host: local.endpoint.host, port: local.endpoint.port }],
    }).on('error', (error: unknown) => errors.push(error));
    await client.connect();
    cleanups.push(async () => {
      client.destroy();
    });
    await followFailovers(local, (key, value) =>
      writeUntilOk(
        () => client.set(key, value),
        () => !client.isOpen,
        `node-redis SET ${key}`,
      ),
    );
  }, 240_000);
});

describe('iovalkey with failoverDetector', () => {
  it('keeps working after each of five manual failovers in a row', async () => {
    const local = await runner();
    const client = new Valkey({
      sentinels: [{ host: local.endpoint.host, port: local.endpoint.port }],
      name: local.masterName,
      failoverDetector: true,
    });
    client.on('error', () => {});
    cleanups.push(async () => client.disconnect());
    await client.set('warm-up', '1');
    // The detector subscribes to +switch-master once the client is ready.
    await new Promise((r) => setTimeout(r, 500));
    await followFailovers(
      local,
      (key, value) =>
        writeUntilOk(
          () => client.set(key, value),
          () => client.status === 'end',
          `iovalkey SET ${key}`,
        ),
      { kill: false },
    );
  }, 240_000);

  // After a SIGKILL the client reconnects on its own while the failover runs; a +switch-master that
  // lands in the middle of one of those reconnects ends it for good (the detector disconnects a
  // connection still being made). A race in the client: three real `redis-server --sentinel` 7.0.15
  // trigger it too, in 1 of 4 SIGKILLs here with the same client options (and this runner in 2 of 4,
  // with the machine loaded by other tests). Manual failovers do not meet it: the client is connected.
  it.todo('keeps working after a SIGKILLed master under the whole suite’s load (see above)');
});
