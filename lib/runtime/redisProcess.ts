/**
 * Throwaway redis-server processes for tests, the local runner and benchmarks.
 *
 * - Servers run in the foreground as child processes, so their PIDs are known and they are killed by
 *   PID only, never by name.
 * - Ports are drawn from below the ephemeral range (32768+ here): a port picked from inside it can be
 *   taken by some outgoing connection between the free-check and redis-server's bind.
 * - Every live server is in a registry that is killed (SIGCONT, then SIGKILL) when this process exits or
 *   gets SIGINT/SIGTERM, so an interrupted run leaves nothing behind.
 * - `--repl-diskless-sync-delay 0` brings a replica's first sync from ~5 s down to ~65 ms.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { createRedisProbe } from '../adapters/redis/probe.js';
import type { Address, ReplicationInfo } from '../core/types.js';
import type { RedisProbe } from '../ports.js';

export const REDIS_PROCESS_SETTINGS = Object.freeze({
  binaryName: 'redis-server',
  /** Environment variable that names the redis-server binary explicitly (skips the PATH lookup). */
  binaryEnv: 'REDIS_SERVER_BIN',
  host: '127.0.0.1',
  /** Below the ephemeral range (32768–60999 on Linux by default); see the module comment. */
  portMin: 12_000,
  portMax: 30_000,
  /** Tries per port before allocatePorts gives up (a busy machine may hold a few of them). */
  portPickAttempts: 200,
  /** How long a server gets to answer its first PING. */
  startTimeoutMs: 10_000,
  /** How long startTopology waits for every replica's master_link_status:up. */
  linkTimeoutMs: 15_000,
  pollIntervalMs: 20,
  /** Timeout of each readiness PING/INFO. */
  readinessProbeTimeoutMs: 500,
  /** How long stop()/kill() wait for the process to exit after SIGKILL. */
  exitWaitMs: 5_000,
  /** How long pause() waits to see the process in state T (stopped). */
  pauseConfirmMs: 1_000,
  logTailLines: 40,
  topologyAttempts: 3,
});

/** Arguments every server gets; the caller's `args` come last and win. */
const BASE_ARGS: readonly string[] = Object.freeze([
  '--daemonize',
  'no',
  '--bind',
  REDIS_PROCESS_SETTINGS.host,
  '--save',
  '',
  '--appendonly',
  'no',
  '--repl-diskless-sync-delay',
  '0',
]);

const INSTALL_HINT = 'install it (Debian: apt-get install redis-server)';

function isExecutable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The redis-server binary: `$REDIS_SERVER_BIN` if set, else the first one on PATH.
 * Takes the environment as a parameter so callers (and tests) can look up with a different PATH.
 */
export function findRedisServer(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env[REDIS_PROCESS_SETTINGS.binaryEnv];
  if (explicit) {
    if (isExecutable(explicit)) return explicit;
    throw new Error(
      `${REDIS_PROCESS_SETTINGS.binaryEnv}=${explicit} is not an executable file; ${INSTALL_HINT}`,
    );
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, REDIS_PROCESS_SETTINGS.binaryName);
    if (isExecutable(candidate)) return candidate;
  }
  throw new Error(`${REDIS_PROCESS_SETTINGS.binaryName} not found on PATH; ${INSTALL_HINT}`);
}

/** Ports handed out by this process; never handed out twice (a restarted server keeps its port). */
const allocatedPorts = new Set<number>();

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: REDIS_PROCESS_SETTINGS.host, exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

/** `n` distinct free ports in [portMin, portMax), each checked by binding it on 127.0.0.1. */
export async function allocatePorts(n: number): Promise<number[]> {
  const { portMin, portMax, portPickAttempts } = REDIS_PROCESS_SETTINGS;
  const ports: number[] = [];
  for (let attempt = 0; ports.length < n; attempt++) {
    if (attempt >= portPickAttempts * n)
      throw new Error(`could not find ${n} free ports in ${portMin}–${portMax}`);
    const port = portMin + Math.floor(Math.random() * (portMax - portMin));
    if (allocatedPorts.has(port)) continue;
    // Reserve before the async check so concurrent callers cannot pick the same port.
    allocatedPorts.add(port);
    if (await isPortFree(port)) ports.push(port);
  }
  return ports;
}

// ---------------------------------------------------------------------------------------------------
// Registry of live servers, killed on exit.

const liveProcesses = new Set<ChildProcess>();
/** Temp dirs created here and not yet removed by stop(); removed on exit too, so none are left behind. */
const ownedDirs = new Set<string>();
let exitHooksInstalled = false;
const TERMINATING_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

function killNow(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    // SIGKILL alone ends a stopped process on Linux; SIGCONT first is the harness notes' portable order
    // and costs nothing.
    process.kill(child.pid, 'SIGCONT');
    process.kill(child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function killAllLive(): void {
  for (const child of liveProcesses) killNow(child);
  liveProcesses.clear();
  for (const dir of ownedDirs) rmSync(dir, { recursive: true, force: true });
  ownedDirs.clear();
}

function onTerminatingSignal(signal: NodeJS.Signals): void {
  killAllLive();
  for (const s of TERMINATING_SIGNALS) process.removeListener(s, onTerminatingSignal);
  // Keep the default behaviour (exit on the signal) unless the application handles the signal itself.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', killAllLive);
  for (const signal of TERMINATING_SIGNALS) process.on(signal, onTerminatingSignal);
}

// ---------------------------------------------------------------------------------------------------
// One server.

export interface StartRedisOptions {
  readonly port: number;
  readonly replicaOf?: Address;
  /** Extra redis-server arguments, e.g. ['--requirepass', 'secret']. */
  readonly args?: readonly string[];
  /** Working directory for the server (replication temp files). Default: a fresh temp dir, removed on stop. */
  readonly dir?: string;
  /** Credentials for the readiness checks when `args` turn on authentication. */
  readonly auth?: { readonly user?: string; readonly pass: string };
  readonly binary?: string;
}

export interface RedisHandle {
  readonly address: Address;
  /** PID of the current process (changes on restart). */
  readonly pid: number;
  readonly process: ChildProcess;
  /** The server's working directory (`--dir`). */
  readonly dir: string;
  readonly running: boolean;
  /** SIGCONT then SIGKILL; resolves once the process has exited. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL (a crash); resolves once the process has exited. */
  kill(): Promise<void>;
  /** SIGSTOP: the process keeps its sockets but answers nothing (a hung server). */
  pause(): Promise<void>;
  /** SIGCONT. */
  resume(): void;
  /**
   * Start again on the same port with the same arguments (e.g. an old master coming back), plus
   * `extraArgs` for this start only (e.g. a slow RDB load to make it answer LOADING).
   */
  restart(extraArgs?: readonly string[]): Promise<void>;
  /** The last lines of the server's log (stdout/stderr). */
  logTail(): string;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (hasExited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Linux only: the process state letter from /proc (T = stopped); null where /proc is unavailable. */
function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may contain spaces; the state follows the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) || null;
  } catch {
    return null;
  }
}

function readinessProbe(address: Address, auth: StartRedisOptions['auth']): RedisProbe {
  return createRedisProbe(address, {
    timeoutMs: REDIS_PROCESS_SETTINGS.readinessProbeTimeoutMs,
    now: Date.now,
    ...(auth?.user !== undefined ? { authUser: auth.user } : {}),
    ...(auth ? { authPass: auth.pass } : {}),
  });
}

class RedisServer implements RedisHandle {
  readonly address: Address;
  private child: ChildProcess | null = null;
  private readonly log: string[] = [];
  readonly dir: string;
  private readonly ownsDir: boolean;
  private readonly argv: readonly string[];
  private extraArgs: readonly string[] = [];

  constructor(
    private readonly options: StartRedisOptions,
    private readonly binary: string,
  ) {
    this.address = { host: REDIS_PROCESS_SETTINGS.host, port: options.port };
    this.ownsDir = options.dir === undefined;
    this.dir = options.dir ?? mkdtempSync(join(tmpdir(), `redis-${options.port}-`));
    if (this.ownsDir) ownedDirs.add(this.dir);
    const replicaOf = options.replicaOf
      ? ['--replicaof', options.replicaOf.host, String(options.replicaOf.port)]
      : [];
    this.argv = [
      ...BASE_ARGS,
      '--port',
      String(options.port),
      '--dir',
      this.dir,
      ...replicaOf,
      ...(options.args ?? []),
    ];
  }

  get process(): ChildProcess {
    if (!this.child) throw new Error(`redis-server on port ${this.address.port} was never started`);
    return this.child;
  }

  get pid(): number {
    const pid = this.process.pid;
    if (pid === undefined)
      throw new Error(`redis-server on port ${this.address.port} has no PID (spawn failed)`);
    return pid;
  }

  get running(): boolean {
    return this.child !== null && !hasExited(this.child);
  }

  logTail(): string {
    return this.log.join('\n');
  }

  private remember(chunk: Buffer): void {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      this.log.push(line);
    }
    this.log.splice(0, Math.max(0, this.log.length - REDIS_PROCESS_SETTINGS.logTailLines));
  }

  /** Spawn and wait until the server answers PING; on failure kill it and throw with the log tail. */
  async start(): Promise<void> {
    installExitHooks();
    const child = spawn(this.binary, [...this.argv, ...this.extraArgs], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    liveProcesses.add(child);
    child.once('exit', () => liveProcesses.delete(child));
    // The registry kills servers on exit, so they must not keep this process alive by themselves.
    child.unref();
    for (const stream of [child.stdout, child.stderr]) {
      stream?.on('data', (chunk: Buffer) => this.remember(chunk));
      (stream as unknown as { unref?: () => void } | null)?.unref?.();
    }
    let spawnError: string | null = null;
    child.once('error', (error) => {
      spawnError = error.message;
    });

    const probe = readinessProbe(this.address, this.options.auth);
    const deadline = Date.now() + REDIS_PROCESS_SETTINGS.startTimeoutMs;
    try {
      while (Date.now() < deadline) {
        if (spawnError !== null || hasExited(child)) break;
        const outcome = await probe.ping();
        // Any reply means the server is up (NOAUTH included: the caller chose not to pass credentials).
        if (outcome.result.type === 'reply') return;
        await sleep(REDIS_PROCESS_SETTINGS.pollIntervalMs);
      }
    } finally {
      await probe.close();
    }
    const why =
      spawnError ??
      (hasExited(child)
        ? `exited with ${child.exitCode ?? child.signalCode}`
        : `did not answer PING within ${REDIS_PROCESS_SETTINGS.startTimeoutMs} ms`);
    killNow(child);
    await waitForExit(child, REDIS_PROCESS_SETTINGS.exitWaitMs);
    throw new Error(`redis-server on port ${this.address.port} ${why}; log tail:\n${this.logTail()}`);
  }

  private async terminate(): Promise<void> {
    const child = this.child;
    if (!child || hasExited(child)) return;
    killNow(child);
    if (!(await waitForExit(child, REDIS_PROCESS_SETTINGS.exitWaitMs))) {
      throw new Error(`redis-server pid ${child.pid} did not exit after SIGKILL`);
    }
  }

  async stop(): Promise<void> {
    await this.terminate();
    if (this.ownsDir) {
      rmSync(this.dir, { recursive: true, force: true });
      ownedDirs.delete(this.dir);
    }
  }

  async kill(): Promise<void> {
    // Same signals as stop(): SIGKILL is what makes it a crash; SIGCONT only matters if paused.
    await this.terminate();
  }

  async pause(): Promise<void> {
    const pid = this.pid;
    process.kill(pid, 'SIGSTOP');
    // Signal delivery is asynchronous; wait until the kernel shows the process stopped so that a test's
    // next step really meets a frozen server.
    const deadline = Date.now() + REDIS_PROCESS_SETTINGS.pauseConfirmMs;
    while (Date.now() < deadline) {
      const state = processState(pid);
      if (state === null || state === 'T') return;
      await sleep(1);
    }
  }

  resume(): void {
    process.kill(this.pid, 'SIGCONT');
  }

  async restart(extraArgs: readonly string[] = []): Promise<void> {
    await this.terminate();
    this.extraArgs = extraArgs;
    if (this.ownsDir) {
      // stop() may have removed it; a restart after stop() gets it back.
      mkdirSync(this.dir, { recursive: true });
      ownedDirs.add(this.dir);
    }
    await this.start();
  }
}

/** Start one redis-server and wait until it answers PING. */
export async function startRedis(options: StartRedisOptions): Promise<RedisHandle> {
  const server = new RedisServer(options, options.binary ?? findRedisServer());
  try {
    await server.start();
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

// ---------------------------------------------------------------------------------------------------
// Master + replicas.

export interface StartTopologyOptions {
  readonly replicas: number;
  /** Extra arguments for every server. */
  readonly args?: readonly string[];
  readonly auth?: StartRedisOptions['auth'];
}

export interface Topology {
  readonly master: RedisHandle;
  readonly replicas: readonly RedisHandle[];
  /** Stops every server of the topology. */
  stop(): Promise<void>;
}

async function waitForLinkUp(replica: RedisHandle, auth: StartRedisOptions['auth']): Promise<void> {
  const probe = readinessProbe(replica.address, auth);
  const deadline = Date.now() + REDIS_PROCESS_SETTINGS.linkTimeoutMs;
  let last: ReplicationInfo | string = 'no INFO yet';
  try {
    while (Date.now() < deadline) {
      const outcome = await probe.info();
      if (outcome.result.type === 'info') {
        last = outcome.result.info;
        if (last.role === 'replica' && last.masterLinkUp) return;
      } else {
        last = outcome.result.type === 'timeout' ? 'timeout' : outcome.result.reason;
      }
      await sleep(REDIS_PROCESS_SETTINGS.pollIntervalMs);
    }
  } finally {
    await probe.close();
  }
  const seen =
    typeof last === 'string' ? last : `role ${last.role}, link ${last.masterLinkUp ? 'up' : 'down'}`;
  throw new Error(
    `replica on port ${replica.address.port}: master link not up within ` +
      `${REDIS_PROCESS_SETTINGS.linkTimeoutMs} ms (last INFO: ${seen}); log tail:\n${replica.logTail()}`,
  );
}

async function startTopologyOnce(options: StartTopologyOptions): Promise<Topology> {
  const ports = await allocatePorts(1 + options.replicas);
  const [masterPort, ...replicaPorts] = ports as [number, ...number[]];
  const started: RedisHandle[] = [];
  const stopAll = async () => {
    await Promise.all(started.map((handle) => handle.stop()));
  };
  const common = {
    ...(options.args ? { args: options.args } : {}),
    ...(options.auth ? { auth: options.auth } : {}),
  };
  try {
    const master = await startRedis({ port: masterPort, ...common });
    started.push(master);
    const replicas = await Promise.all(
      replicaPorts.map(async (port) => {
        const replica = await startRedis({ port, replicaOf: master.address, ...common });
        started.push(replica);
        return replica;
      }),
    );
    await Promise.all(replicas.map((replica) => waitForLinkUp(replica, options.auth)));
    return { master, replicas, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * A master and `replicas` replicas on fresh ports, returned once every replica reports
 * master_link_status:up. A failed start is retried on fresh ports (topologyAttempts in all).
 */
export async function startTopology(options: StartTopologyOptions): Promise<Topology> {
  const failures: string[] = [];
  for (let attempt = 1; attempt <= REDIS_PROCESS_SETTINGS.topologyAttempts; attempt++) {
    try {
      return await startTopologyOnce(options);
    } catch (error) {
      failures.push(`attempt ${attempt}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new Error(`could not start a Redis topology:\n${failures.join('\n')}`);
}
