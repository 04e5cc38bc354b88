/**
 * The real Redis Sentinel as a baseline: three `redis-server --sentinel` processes (quorum 2) on the
 * same topology, started and killed by PID, with every event collected through PSUBSCRIBE *.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Address } from '../../lib/core/types.js';
import { allocatePorts, findRedisServer } from '../../lib/runtime/redisProcess.js';
import { connectWhenListening } from './redisClients.js';

export interface ObservedEvent {
  readonly sentinel: number;
  readonly type: string;
  readonly payload: string;
  readonly at: number;
}

export interface RealSentinels {
  readonly events: ObservedEvent[];
  readonly ports: readonly number[];
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;

export async function startRealSentinels(args: {
  master: Address;
  downAfterMs: number;
  failoverTimeoutMs: number;
  replicas: number;
  /** More masters to monitor beside mymaster (healthy ones), named other1, other2, … */
  otherMasters?: readonly Address[];
}): Promise<RealSentinels> {
  const binary = findRedisServer();
  const dir = await mkdtemp(join(tmpdir(), 'ls-bench-sentinel-'));
  const ports = await allocatePorts(3);
  const children: ChildProcess[] = [];
  const clients: Redis[] = [];
  const events: ObservedEvent[] = [];
  const stop = async () => {
    await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    await Promise.all(
      children.map((c) =>
        c.exitCode !== null || c.signalCode !== null ? null : new Promise((r) => c.once('exit', r)),
      ),
    );
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const [i, port] of ports.entries()) {
      const file = join(dir, `sentinel-${i}.conf`);
      await writeFile(
        file,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor mymaster ${args.master.host} ${args.master.port} 2`,
          `sentinel down-after-milliseconds mymaster ${args.downAfterMs}`,
          `sentinel failover-timeout mymaster ${args.failoverTimeoutMs}`,
          'sentinel parallel-syncs mymaster 1',
          ...(args.otherMasters ?? []).flatMap((other, n) => [
            `sentinel monitor other${n + 1} ${other.host} ${other.port} 2`,
            `sentinel down-after-milliseconds other${n + 1} ${args.downAfterMs}`,
          ]),
          '',
        ].join('\n'),
      );
      const child = spawn(binary, [file, '--sentinel'], { stdio: 'ignore' });
      children.push(child);
    }
    for (const [i, port] of ports.entries()) {
      const sub = await connectWhenListening(port, Date.now() + READY_TIMEOUT_MS);
      clients.push(sub);
      await sub.psubscribe('*');
      sub.on('pmessage', (_pattern, channel, message) => {
        events.push({ sentinel: i, type: channel, payload: message, at: Date.now() });
      });
    }
    await waitUntilReady(ports, args.replicas);
    return { events, ports, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Every sentinel sees the replicas and the two other sentinels, and CKQUORUM is OK. */
async function waitUntilReady(ports: readonly number[], replicas: number): Promise<void> {
  const until = Date.now() + READY_TIMEOUT_MS;
  const admin = ports.map((port) => new Redis({ port, host: '127.0.0.1', lazyConnect: true }));
  try {
    await Promise.all(admin.map((a) => a.connect()));
    for (;;) {
      const states = await Promise.all(
        admin.map(async (a) => {
          const master = (await a.call('SENTINEL', 'MASTER', 'mymaster')) as string[];
          const field = (name: string) => Number(master[master.indexOf(name) + 1]);
          const ok = await a.call('SENTINEL', 'CKQUORUM', 'mymaster').then(
            () => true,
            () => false,
          );
          return field('num-slaves') >= replicas && field('num-other-sentinels') >= 2 && ok;
        }),
      );
      if (states.every(Boolean)) return;
      if (Date.now() > until) throw new Error('real Sentinel did not become ready (discovery or CKQUORUM)');
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    for (const a of admin) a.disconnect();
  }
}
