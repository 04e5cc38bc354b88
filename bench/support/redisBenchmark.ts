/**
 * `redis-benchmark` (the one that ships with redis-server) run against one address with one command,
 * and its quiet-mode figure read back: requests per second, and p50 when it prints one.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Address } from '../../lib/core/types.js';

export interface RedisBenchmarkResult {
  readonly requestsPerSecond: number;
  /** Median latency in ms as redis-benchmark reports it (7.x prints it in -q mode), if printed. */
  readonly p50Ms: number | null;
}

export function findRedisBenchmark(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = [env.REDIS_BENCHMARK, '/usr/bin/redis-benchmark', '/usr/local/bin/redis-benchmark'];
  for (const candidate of candidates) if (candidate && existsSync(candidate)) return candidate;
  return 'redis-benchmark';
}

/**
 * The last "<n> requests per second" in the output. In -q mode redis-benchmark redraws a progress line
 * with carriage returns and ends with `<command>: <n> requests per second, p50=<x> msec`.
 */
export function parseRedisBenchmark(output: string): RedisBenchmarkResult | null {
  const lines = output.split(/[\r\n]+/).filter((l) => /requests per second/.test(l));
  const last = lines[lines.length - 1];
  if (last === undefined) return null;
  const rps = last.match(/([0-9]+(?:\.[0-9]+)?)\s+requests per second/);
  if (!rps) return null;
  const p50 = last.match(/p50=([0-9]+(?:\.[0-9]+)?)\s*msec/);
  return {
    requestsPerSecond: Number(rps[1]),
    p50Ms: p50 ? Number(p50[1]) : null,
  };
}

export async function runRedisBenchmark(args: {
  readonly address: Address;
  readonly command: readonly string[];
  readonly requests: number;
  readonly clients: number;
  /** -P: commands in flight per connection (1: no pipelining). */
  readonly pipeline?: number;
}): Promise<RedisBenchmarkResult> {
  const argv = [
    '-h',
    args.address.host,
    '-p',
    String(args.address.port),
    '-n',
    String(args.requests),
    '-c',
    String(args.clients),
    ...((args.pipeline ?? 1) > 1 ? ['-P', String(args.pipeline)] : []),
    // Error replies are shown (at most one a second): a benchmark of errors is not a benchmark.
    '-e',
    '-q',
    ...args.command,
  ];
  const child = spawn(findRedisBenchmark(), argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  // It would keep reconnecting to a server that went away with this process: take it along.
  const killChild = () => child.kill('SIGKILL');
  process.once('exit', killChild);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c));
  }).finally(() => process.off('exit', killChild));
  const tail = () =>
    `${stdout}${stderr}`.replace(/\r/g, '\n').split('\n').filter(Boolean).slice(-5).join('\n');
  if (code !== 0) throw new Error(`redis-benchmark exited with ${code}:\n${tail()}`);
  if (/Error from server/i.test(stdout)) throw new Error(`redis-benchmark got error replies:\n${tail()}`);
  const result = parseRedisBenchmark(stdout);
  if (result === null) throw new Error(`no "requests per second" in redis-benchmark's output:\n${tail()}`);
  return result;
}
