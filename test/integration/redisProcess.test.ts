import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedisProbe } from '../../lib/adapters/redis/probe.js';
import type { Address, InfoResult } from '../../lib/core/types.js';
import {
  allocatePorts,
  findRedisServer,
  REDIS_PROCESS_SETTINGS,
  type RedisHandle,
  startRedis,
  startTopology,
  type Topology,
} from '../../lib/runtime/redisProcess.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PROBE_TIMEOUT_MS = 500;

async function info(address: Address): Promise<InfoResult> {
  const probe = createRedisProbe(address, { timeoutMs: PROBE_TIMEOUT_MS, now: Date.now });
  try {
    return (await probe.info()).result;
  } finally {
    await probe.close();
  }
}

async function pingKind(address: Address): Promise<string> {
  const probe = createRedisProbe(address, { timeoutMs: PROBE_TIMEOUT_MS, now: Date.now });
  try {
    const { result } = await probe.ping();
    return result.type === 'reply' ? result.kind : result.type;
  } finally {
    await probe.close();
  }
}

function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}

/**
 * True while the process runs. A zombie (Z) counts as dead: a server whose parent died first is
 * reparented to init, which reaps it in its own time.
 */
function alive(pid: number): boolean {
  const state = processState(pid);
  return state !== null && state !== 'Z';
}

describe('findRedisServer', () => {
  it('finds redis-server on PATH', () => {
    expect(findRedisServer({ PATH: `/nonexistent:${dirname(findRedisServer())}` })).toMatch(/redis-server$/);
  });

  it('throws a clear install hint when PATH lacks it', () => {
    expect(() => findRedisServer({ PATH: '/nonexistent:/also-not-here' })).toThrow(
      'redis-server not found on PATH; install it (Debian: apt-get install redis-server)',
    );
    expect(() => findRedisServer({})).toThrow(/not found on PATH/);
  });

  it('honours an explicit binary from the environment, and rejects a bad one', () => {
    const real = findRedisServer();
    expect(findRedisServer({ [REDIS_PROCESS_SETTINGS.binaryEnv]: real, PATH: '' })).toBe(real);
    expect(() => findRedisServer({ [REDIS_PROCESS_SETTINGS.binaryEnv]: '/nope/redis-server' })).toThrow(
      /is not an executable file/,
    );
  });
});

describe('allocatePorts', () => {
  it('hands out distinct free ports below the ephemeral range, never twice', async () => {
    const first = await allocatePorts(20);
    const second = await allocatePorts(20);
    const all = [...first, ...second];
    expect(new Set(all).size).toBe(40);
    for (const port of all) {
      expect(port).toBeGreaterThanOrEqual(REDIS_PROCESS_SETTINGS.portMin);
      expect(port).toBeLessThan(REDIS_PROCESS_SETTINGS.portMax);
    }
  });
});

describe('startRedis', () => {
  const handles: RedisHandle[] = [];
  const blockers: Server[] = [];
  afterEach(async () => {
    await Promise.all(handles.splice(0).map((h) => h.stop()));
    await Promise.all(blockers.splice(0).map((b) => new Promise((resolve) => b.close(resolve))));
  });

  it('starts a server that answers PING; stop() ends the process and is idempotent', async () => {
    const [port] = (await allocatePorts(1)) as [number];
    const redis = await startRedis({ port });
    handles.push(redis);
    expect(redis.address).toEqual({ host: '127.0.0.1', port });
    expect(redis.running).toBe(true);
    expect(await pingKind(redis.address)).toBe('pong');
    const { pid, dir } = redis;
    expect(existsSync(dir)).toBe(true);
    await redis.stop();
    expect(redis.running).toBe(false);
    expect(alive(pid)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    await redis.stop();
  });

  it('pause() freezes the process (state T), resume() brings it back', async () => {
    const [port] = (await allocatePorts(1)) as [number];
    const redis = await startRedis({ port });
    handles.push(redis);
    await redis.pause();
    expect(processState(redis.pid)).toBe('T');
    expect(await pingKind(redis.address)).toBe('timeout');
    redis.resume();
    expect(await pingKind(redis.address)).toBe('pong');
  });

  it('stop() works on a paused server too', async () => {
    const [port] = (await allocatePorts(1)) as [number];
    const redis = await startRedis({ port });
    handles.push(redis);
    const { pid } = redis;
    await redis.pause();
    await redis.stop();
    expect(alive(pid)).toBe(false);
  });

  it('a port already taken → throws quickly with the log tail', async () => {
    const [port] = (await allocatePorts(1)) as [number];
    // Closes whatever connects (startRedis's readiness PINGs reach the blocker, not a Redis).
    const blocker = createServer((socket) => socket.destroy());
    blockers.push(blocker);
    await new Promise<void>((resolve) => blocker.listen({ port, host: '127.0.0.1' }, resolve));
    const start = Date.now();
    await expect(startRedis({ port })).rejects.toThrow(/Address already in use/);
    expect(Date.now() - start).toBeLessThan(REDIS_PROCESS_SETTINGS.startTimeoutMs);
  });

  it('passes extra args (requirepass) and checks readiness with the given credentials', async () => {
    const [port] = (await allocatePorts(1)) as [number];
    const redis = await startRedis({ port, args: ['--requirepass', 's3cret'], auth: { pass: 's3cret' } });
    handles.push(redis);
    expect(await pingKind(redis.address)).toBe('error');
  });
});

describe('startTopology', () => {
  let topology: Topology;
  beforeAll(async () => {
    topology = await startTopology({ replicas: 2 });
  });
  afterAll(async () => {
    await topology?.stop();
  });

  it('comes up with every replica linked to the master', async () => {
    expect(topology.replicas).toHaveLength(2);
    const master = await info(topology.master.address);
    if (master.type !== 'info') throw new Error(`master INFO: ${master.type}`);
    expect(master.info.role).toBe('master');
    expect(master.info.connectedReplicas.map((r) => r.port).sort()).toEqual(
      topology.replicas.map((r) => r.address.port).sort(),
    );
    for (const replica of topology.replicas) {
      const result = await info(replica.address);
      if (result.type !== 'info') throw new Error(`replica INFO: ${result.type}`);
      expect(result.info).toMatchObject({
        role: 'replica',
        masterLinkUp: true,
        masterPort: topology.master.address.port,
      });
    }
    const pids = [topology.master.pid, ...topology.replicas.map((r) => r.pid)];
    expect(new Set(pids).size).toBe(3);
  });

  it('kill() crashes the master (replicas see the link down); restart() brings it back on the same port', async () => {
    const { master } = topology;
    const oldPid = master.pid;
    await master.kill();
    expect(alive(oldPid)).toBe(false);
    expect(await pingKind(master.address)).toBe('unreachable');
    const replica = topology.replicas[0] as RedisHandle;
    await expect
      .poll(async () => {
        const result = await info(replica.address);
        return result.type === 'info' && result.info.masterLinkUp;
      })
      .toBe(false);

    await master.restart();
    expect(master.pid).not.toBe(oldPid);
    expect(master.address.port).toBe(topology.master.address.port);
    expect(await pingKind(master.address)).toBe('pong');
    // The replicas reconnect to the restarted master by themselves.
    await expect
      .poll(
        async () => {
          const result = await info(replica.address);
          return result.type === 'info' && result.info.masterLinkUp;
        },
        { timeout: 10_000 },
      )
      .toBe(true);
  });

  it('stop() ends every process', async () => {
    const other = await startTopology({ replicas: 1 });
    const pids = [other.master.pid, ...other.replicas.map((r) => r.pid)];
    await other.stop();
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });
});

describe('exit hooks', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'redis-exit-hook-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'a process that gets %s leaves no redis-server behind',
    async (signal) => {
      // A separate Node process starts a server, reports its PID, then is signalled.
      const script = join(dir, `child-${signal}.mts`);
      writeFileSync(
        script,
        [
          `import { allocatePorts, startRedis } from ${JSON.stringify(join(ROOT, 'lib/runtime/redisProcess.ts'))};`,
          'const [port] = await allocatePorts(1);',
          'const redis = await startRedis({ port });',
          'process.stdout.write(JSON.stringify({ pid: redis.pid, dir: redis.dir }) + "\\n");',
          'setInterval(() => {}, 1000);',
        ].join('\n'),
      );
      const child = spawn(process.execPath, ['--import', 'tsx', script], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const started = await new Promise<{ pid: number; dir: string }>((resolve, reject) => {
        child.stdout.once('data', (chunk: Buffer) => resolve(JSON.parse(chunk.toString())));
        child.once('exit', (code) => reject(new Error(`child exited early (${code}): ${stderr}`)));
      });
      expect(alive(started.pid)).toBe(true);
      expect(existsSync(started.dir)).toBe(true);
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.once('exit', (_code, sig) => resolve(sig)),
      );
      child.kill(signal);
      // Default behaviour is kept: the child still dies of the signal.
      expect(await exited).toBe(signal);
      await expect.poll(() => alive(started.pid)).toBe(false);
      // The server's temp dir goes with it.
      expect(existsSync(started.dir)).toBe(false);
    },
  );
});
