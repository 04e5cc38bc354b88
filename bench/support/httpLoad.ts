/**
 * An HTTP GET load generator with a fixed concurrency, run as its own process (runHttpLoad) so that its
 * work does not share an event loop with the server it measures — as redis-benchmark does not.
 *
 * Each of `concurrency` loops sends one request at a time on a keep-alive connection and times it with
 * performance.now(), from the request to the end of the body. Non-200 replies count as errors.
 */
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';

export interface HttpLoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly elapsedMs: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** The first reply's body, to check what was measured. */
  readonly sample: string;
}

export interface HttpLoadOptions {
  readonly url: string;
  readonly requests: number;
  readonly concurrency: number;
  /** Requests sent (and not measured) first, on the same connections. */
  readonly warmup: number;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
  return sorted[rank - 1] as number;
}

async function load(options: HttpLoadOptions): Promise<HttpLoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const target = new URL(options.url);
  let sample = '';
  const get = () =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        { agent, host: target.hostname, port: target.port, path: `${target.pathname}${target.search}` },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (s: string) => {
            body += s;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    });

  const phase = async (total: number, record: boolean) => {
    const latencies: number[] = [];
    let errors = 0;
    let next = 0;
    const loop = async () => {
      while (next < total) {
        next += 1;
        const started = performance.now();
        try {
          const reply = await get();
          if (reply.status !== 200) errors += 1;
          if (sample === '') sample = reply.body;
        } catch {
          errors += 1;
        }
        if (record) latencies.push(performance.now() - started);
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: options.concurrency }, loop));
    return { latencies, errors, elapsedMs: performance.now() - started };
  };

  await phase(options.warmup, false);
  const measured = await phase(options.requests, true);
  agent.destroy();
  const sorted = measured.latencies.sort((a, b) => a - b);
  return {
    requests: options.requests,
    errors: measured.errors,
    elapsedMs: measured.elapsedMs,
    requestsPerSecond: (options.requests / measured.elapsedMs) * 1000,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    maxMs: sorted[sorted.length - 1] ?? Number.NaN,
    sample,
  };
}

/** Runs the load in a child process (node --import tsx this file) and returns what it measured. */
export async function runHttpLoad(options: HttpLoadOptions): Promise<HttpLoadResult> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), JSON.stringify(options)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new Error(`HTTP load process exited with ${code}`);
  return JSON.parse(stdout) as HttpLoadResult;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const options = JSON.parse(process.argv[2] ?? '{}') as HttpLoadOptions;
  process.stdout.write(JSON.stringify(await load(options)));
}
