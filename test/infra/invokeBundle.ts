/**
 * Runs a bundled handler (dist/<name>.mjs) the way Lambda does: a fresh Node process (this one's binary,
 * the pinned Node 24) imports the bundle, then calls `handler(event, context)` once, with a context whose
 * getRemainingTimeInMillis counts down to a deadline. Used by test/infra/bundles.test.ts and
 * bench/bundle.ts, so both exercise the artefact that ships, not the TypeScript sources.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface InvokeOptions {
  /** Path of the .mjs bundle. */
  readonly bundle: string;
  /** The whole environment of the child (nothing is inherited but PATH and HOME). */
  readonly env: Record<string, string>;
  readonly event: unknown;
  /** What context.getRemainingTimeInMillis() returns right after the import. */
  readonly remainingMs: number;
  readonly functionName?: string;
  readonly memoryLimitInMB?: number;
  /** Kill the child after this long (default remainingMs + 30 s). */
  readonly killAfterMs?: number;
  /** Extra Node options, e.g. ['--enable-source-maps']. */
  readonly nodeArgs?: readonly string[];
  /** Called with each chunk the child writes to stdout (its logs). */
  readonly onStdout?: (chunk: Buffer) => void;
  /**
   * When the handler returns `{ skipped: <this> }`, call it once more in the same process, as Lambda
   * calls a warm container again: `warm` reports that second call.
   */
  readonly repeatWhenSkipped?: string;
}

/** One more call of the handler in the same (now warm) process. */
export interface WarmCall {
  readonly result: unknown;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly cpuMs: number;
}

export interface InvokeResult {
  /** What the handler returned. */
  readonly result: unknown;
  /** Time to import the bundle (module load and top-level code), ms. */
  readonly initMs: number;
  /** Wall-clock start and end of the handler call (epoch ms). */
  readonly startedAt: number;
  readonly endedAt: number;
  /** CPU time (user + system) spent during the handler call, ms. */
  readonly cpuMs: number;
  /** Peak resident set size of the child, MB. */
  readonly maxRssMb: number;
  readonly stdoutBytes: number;
  readonly stderr: string;
  /** The second call (repeatWhenSkipped), if there was one. */
  readonly warm?: WarmCall;
}

/**
 * The child's program. The result goes to a file, not stdout: stdout carries the function's JSON logs,
 * as it does on Lambda. The child exits explicitly, as Lambda freezes the process after the handler
 * returns (keep-alive sockets would otherwise keep it running).
 */
const CHILD_PROGRAM = `
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
// This harness's own settings are not the function's environment (on Lambda the runtime's are not either):
// taken out before the bundle loads, so that two invocations of one function see the same environment.
const invoke = {};
for (const key of Object.keys(process.env).filter((k) => k.startsWith('LS_INVOKE_'))) {
  invoke[key] = process.env[key];
  delete process.env[key];
}
const t0 = performance.now();
const mod = await import(invoke.LS_INVOKE_BUNDLE_URL);
const initMs = performance.now() - t0;
if (typeof mod.handler !== 'function') throw new Error('the bundle exports no handler function');
const deadline = Date.now() + Number(invoke.LS_INVOKE_REMAINING_MS);
const name = invoke.LS_INVOKE_FUNCTION_NAME;
const context = {
  awsRequestId: randomUUID(),
  functionName: name,
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:' + name,
  memoryLimitInMB: invoke.LS_INVOKE_MEMORY_MB,
  logGroupName: '/aws/lambda/' + name,
  logStreamName: 'local',
  getRemainingTimeInMillis: () => deadline - Date.now(),
};
const event = JSON.parse(invoke.LS_INVOKE_EVENT);
const cpu0 = process.cpuUsage();
const startedAt = Date.now();
const result = await mod.handler(event, context);
const endedAt = Date.now();
const cpu = process.cpuUsage(cpu0);
let warm;
if (invoke.LS_INVOKE_REPEAT_WHEN_SKIPPED && result?.skipped === invoke.LS_INVOKE_REPEAT_WHEN_SKIPPED) {
  const again = { ...context, awsRequestId: randomUUID() };
  const cpu1 = process.cpuUsage();
  const warmStartedAt = Date.now();
  const warmResult = await mod.handler(event, again);
  const warmEndedAt = Date.now();
  const warmCpu = process.cpuUsage(cpu1);
  warm = { result: warmResult ?? null, startedAt: warmStartedAt, endedAt: warmEndedAt, cpuMs: (warmCpu.user + warmCpu.system) / 1000 };
}
writeFileSync(invoke.LS_INVOKE_RESULT, JSON.stringify({
  warm,
  result: result ?? null,
  initMs,
  startedAt,
  endedAt,
  cpuMs: (cpu.user + cpu.system) / 1000,
  maxRssMb: process.resourceUsage().maxRSS / 1024,
}));
process.exit(0);
`;

export async function invokeBundle(options: InvokeOptions): Promise<InvokeResult> {
  const dir = mkdtempSync(join(tmpdir(), 'ls-invoke-'));
  const resultFile = join(dir, 'result.json');
  const functionName = options.functionName ?? 'lambda-sentinel-local-fn';
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    ...options.env,
    LS_INVOKE_BUNDLE_URL: pathToFileURL(options.bundle).href,
    LS_INVOKE_REMAINING_MS: String(options.remainingMs),
    LS_INVOKE_FUNCTION_NAME: functionName,
    LS_INVOKE_MEMORY_MB: String(options.memoryLimitInMB ?? 256),
    LS_INVOKE_EVENT: JSON.stringify(options.event),
    LS_INVOKE_RESULT: resultFile,
    ...(options.repeatWhenSkipped ? { LS_INVOKE_REPEAT_WHEN_SKIPPED: options.repeatWhenSkipped } : {}),
  };
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), '--input-type=module', '--eval', CHILD_PROGRAM],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdoutBytes = 0;
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdoutBytes += chunk.length;
    options.onStdout?.(chunk);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-20_000);
  });
  const killAfter = options.killAfterMs ?? options.remainingMs + 30_000;
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfter);
  try {
    const code = await new Promise<number | string | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (exitCode, signal) => resolve(exitCode ?? signal));
    });
    if (code !== 0) {
      throw new Error(`bundle ${options.bundle} exited with ${code}; stderr:\n${stderr}`);
    }
    const parsed = JSON.parse(readFileSync(resultFile, 'utf8')) as Omit<
      InvokeResult,
      'stdoutBytes' | 'stderr'
    >;
    return { ...parsed, stdoutBytes, stderr };
  } finally {
    clearTimeout(timer);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A scheduled event as EventBridge Scheduler delivers it with serverless.yml's Input template. */
export function schedulerEvent(at: Date = new Date()): Record<string, string> {
  return {
    source: 'aws.scheduler',
    time: at.toISOString(),
    id: '00000000-0000-4000-8000-000000000000',
    attempt: '1',
  };
}

/**
 * Imports a bundle in a fresh process with an empty environment and checks that it exports a handler
 * function: a handler must read its configuration when invoked, not when loaded.
 */
export async function importBundle(bundle: string): Promise<{ initMs: number }> {
  const program =
    'const t0 = performance.now(); const m = await import(process.env.LS_INVOKE_BUNDLE_URL);' +
    "if (typeof m.handler !== 'function') throw new Error('the bundle exports no handler function');" +
    'process.stdout.write(JSON.stringify({ initMs: performance.now() - t0 }));';
  const child = spawn(process.execPath, ['--input-type=module', '--eval', program], {
    env: { PATH: process.env.PATH ?? '', LS_INVOKE_BUNDLE_URL: pathToFileURL(bundle).href },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
  });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`importing ${bundle} failed (exit ${code}):\n${err}`);
  return JSON.parse(out) as { initMs: number };
}
