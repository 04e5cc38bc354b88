/**
 * lambda-sentinel as users start it: `lambda-sentinel local --config FILE` in its own process, with its
 * embedded store and its Redis-protocol endpoint, monitoring a topology the bench started. Its events are
 * read from what it prints (`HH:MM:SS.mmm [sentinel-x] +event payload`, the sentinel's own UTC clock).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Address } from '../../lib/core/types.js';
import type { Topology } from '../../lib/runtime/redisProcess.js';
import { ROOT } from '../../scripts/build.js';

const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;

export interface PrintedEvent {
  readonly sentinelId: string;
  readonly type: string;
  readonly payload: string;
  /** The sentinel's clock when it emitted the event (ms since the epoch). */
  readonly at: number;
}

export interface LocalSentinel {
  /** The Redis-protocol endpoint clients in Sentinel mode use. */
  readonly endpoint: Address;
  /** Every event printed so far. */
  events(): PrintedEvent[];
  stop(): Promise<void>;
}

const EVENT_LINE = /^(\d\d):(\d\d):(\d\d)\.(\d{3}) \[([\w-]+)\] ([+-][\w-]+)(?: (.*))?$/;

/** A printed clock time on the UTC day of `near` (the closer of that day and its neighbours). */
function printedAt(h: number, m: number, s: number, ms: number, near: number): number {
  const day = new Date(near);
  const at = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), h, m, s, ms);
  const DAY = 86_400_000;
  return [at - DAY, at, at + DAY].reduce((a, b) => (Math.abs(b - near) < Math.abs(a - near) ? b : a));
}

export async function startLocalSentinel(args: {
  topology: Topology;
  downAfterMs: number;
  failoverTimeoutMs: number;
  /** More masters to monitor beside mymaster (healthy ones), named other1, other2, … */
  otherMasters?: readonly Address[];
}): Promise<LocalSentinel> {
  const dir = await mkdtemp(join(tmpdir(), 'ls-bench-local-'));
  const config = join(dir, 'sentinel.conf');
  const master = args.topology.master.address;
  await writeFile(
    config,
    [
      `sentinel monitor mymaster ${master.host} ${master.port} 2`,
      `sentinel down-after-milliseconds mymaster ${args.downAfterMs}`,
      `sentinel failover-timeout mymaster ${args.failoverTimeoutMs}`,
      ...(args.otherMasters ?? []).flatMap((other, i) => [
        `sentinel monitor other${i + 1} ${other.host} ${other.port} 2`,
        `sentinel down-after-milliseconds other${i + 1} ${args.downAfterMs}`,
      ]),
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(
    process.execPath,
    [join(ROOT, 'bin/lambda-sentinel.js'), 'local', '--config', config, '--port', '0', '--http-port', '0'],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
  );
  let printed = '';
  const events: PrintedEvent[] = [];
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString();
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      printed += `${line}\n`;
      const m = EVENT_LINE.exec(line);
      if (!m) continue;
      const [, h, min, s, ms, sentinelId, type, payload] = m;
      events.push({
        sentinelId: sentinelId as string,
        type: type as string,
        payload: payload ?? '',
        at: printedAt(Number(h), Number(min), Number(s), Number(ms), Date.now()),
      });
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    printed += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  // Ready once the endpoint listens and every sentinel has discovered both replicas.
  const until = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const endpoint = /Sentinel endpoint at ([\d.]+):(\d+)/.exec(printed);
    const discovered = events.filter((e) => e.type === '+slave').length;
    if (endpoint && discovered >= 6) {
      return {
        endpoint: { host: endpoint[1] as string, port: Number(endpoint[2]) },
        events: () => [...events],
        stop,
      };
    }
    if (Date.now() > until || child.exitCode !== null) {
      await stop();
      throw new Error(`lambda-sentinel local did not get ready:\n${printed}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
