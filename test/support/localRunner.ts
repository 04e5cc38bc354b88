/**
 * `lambda-sentinel local` as a child process, monitoring a real redis-server topology that the test
 * starts (a master and N replicas) through a sentinel.conf written for it, and keeping its state in
 * DynamoDB Local under a table of its own. Tests talk to it as users do: through its Redis-protocol
 * Sentinel endpoint, with unmodified clients.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Address } from '../../lib/core/types.js';
import { type RedisHandle, startTopology, type Topology } from '../../lib/runtime/redisProcess.js';

const root = join(import.meta.dirname, '../..');
const bin = join(root, 'bin/lambda-sentinel.js');

/** How long the runner gets to print its endpoint (tsx compiles the sources on first start). */
const START_TIMEOUT_MS = 30_000;
/** How long the sentinels get to find every replica after the runner started. */
const DISCOVERY_TIMEOUT_MS = 20_000;
/** How long stop() waits for the runner to exit after SIGTERM before it is SIGKILLed. */
const STOP_GRACE_MS = 5_000;

export interface LocalRunnerOptions {
  /** DynamoDB Local's endpoint (inject('dynamodbEndpoint')). */
  readonly dynamodbEndpoint: string;
  readonly replicas?: number;
  readonly downAfterMs?: number;
  readonly failoverTimeoutMs?: number;
  readonly quorum?: number;
  /** `sentinel members …`: the sentinels the runner hosts (default: the project's three). */
  readonly members?: readonly string[];
  /** More sentinel.conf lines (`{master}` stands for the master's name). */
  readonly extraConfig?: readonly string[];
  /** Extra redis-server arguments for every server of the topology. */
  readonly redisArgs?: readonly string[];
  /** The master's host in the `sentinel monitor` line (default: its IP address; e.g. `localhost`). */
  readonly masterHost?: string;
}

export interface LocalRunner {
  readonly masterName: string;
  readonly topology: Topology;
  /** Every server of the topology, the first master first (the suite's "instances"). */
  readonly servers: readonly RedisHandle[];
  /** The Redis-protocol Sentinel endpoint. */
  readonly endpoint: Address;
  readonly configPath: string;
  readonly table: string;
  /** Everything the runner printed (stdout and stderr). */
  output(): string;
  waitForOutput(pattern: RegExp, timeoutMs: number, from?: number): Promise<RegExpMatchArray>;
  /** One command on a fresh connection to the endpoint; an error reply rejects. */
  sentinel(...args: Array<string | number>): Promise<unknown>;
  /** The master's address as the endpoint answers it. */
  masterAddress(): Promise<Address>;
  /** The topology server at this address. */
  serverAt(address: Address): RedisHandle;
  /** Stops the runner (SIGTERM) and starts it again on the same table and config (new endpoint port). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

export async function startLocalRunner(options: LocalRunnerOptions): Promise<LocalRunner> {
  const masterName = 'mymaster';
  const topology = await startTopology({
    replicas: options.replicas ?? 2,
    ...(options.redisArgs ? { args: options.redisArgs } : {}),
  });
  const dir = await mkdtemp(join(tmpdir(), 'ls-local-runner-'));
  const configPath = join(dir, 'sentinel.conf');
  const table = `suite-${randomUUID()}`;
  const { port } = topology.master.address;
  const host = options.masterHost ?? topology.master.address.host;
  const lines = [
    ...(options.members ? [`sentinel members ${options.members.join(' ')}`] : []),
    `sentinel monitor ${masterName} ${host} ${port} ${options.quorum ?? 2}`,
    `sentinel down-after-milliseconds ${masterName} ${options.downAfterMs ?? 1_000}`,
    `sentinel failover-timeout ${masterName} ${options.failoverTimeoutMs ?? 10_000}`,
    ...(options.extraConfig ?? []).map((line) => line.replaceAll('{master}', masterName)),
    '',
  ];
  await writeFile(configPath, lines.join('\n'));

  let child: ChildProcess | null = null;
  let printed = '';
  let endpoint: Address = { host: '127.0.0.1', port: 0 };

  const waitForOutput = async (pattern: RegExp, timeoutMs: number, from = 0) => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const match = printed.slice(from).match(pattern);
      if (match) return match;
      if (Date.now() > until || (child && exited(child))) {
        throw new Error(`no ${pattern} from lambda-sentinel local within ${timeoutMs}ms:\n${printed}`);
      }
      await sleep(25);
    }
  };

  const launch = async () => {
    const from = printed.length;
    const proc = spawn(
      process.execPath,
      [
        bin,
        'local',
        '--config',
        configPath,
        '--port',
        '0',
        '--http-port',
        '0',
        '--dynamodb-endpoint',
        options.dynamodbEndpoint,
        '--table',
        table,
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    const append = (d: Buffer) => {
      printed += d.toString();
    };
    proc.stdout?.on('data', append);
    proc.stderr?.on('data', append);
    const match = await waitForOutput(/Sentinel endpoint at ([\d.]+):(\d+)/, START_TIMEOUT_MS, from);
    endpoint = { host: match[1] as string, port: Number(match[2]) };
  };

  const halt = async () => {
    const proc = child;
    if (!proc || exited(proc)) return;
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS);
    await gone;
    clearTimeout(timer);
  };

  const sentinel = (...args: Array<string | number>) =>
    redisCallAs(endpoint, { connectTimeoutMs: 2_000 }, ...args);

  const servers = [topology.master, ...topology.replicas];
  const runner: LocalRunner = {
    masterName,
    topology,
    servers,
    get endpoint() {
      return endpoint;
    },
    configPath,
    table,
    output: () => printed,
    waitForOutput,
    sentinel,
    masterAddress: async () => {
      const reply = (await sentinel('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName)) as [string, string];
      return { host: reply[0], port: Number(reply[1]) };
    },
    serverAt: (address) => {
      const server = servers.find((s) => s.address.port === address.port);
      if (!server) throw new Error(`no server of the topology at ${address.host}:${address.port}`);
      return server;
    },
    restart: async () => {
      await halt();
      await launch();
    },
    stop: async () => {
      await halt();
      await topology.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await launch();
    // As Redis's suite does before each unit: every replica known before the test acts.
    await waitUntil(
      async () =>
        fieldsOf(await sentinel('SENTINEL', 'MASTER', masterName))['num-slaves'] ===
        String(topology.replicas.length),
      DISCOVERY_TIMEOUT_MS,
      'the sentinels to discover the replicas',
    );
  } catch (error) {
    await runner.stop();
    throw error;
  }
  return runner;
}

/** Polls `check` until it returns true, or throws naming `what` (and the last error) after the deadline. */
export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
  intervalMs = 50,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      if (await check()) return;
      last = null;
    } catch (error) {
      last = error;
    }
    if (Date.now() > until) {
      throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await sleep(intervalMs);
  }
}

/** A field of a server's INFO (null when the field is absent). */
export async function infoField(address: Address, section: string, field: string): Promise<string | null> {
  const client = new Redis({
    ...address,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1_000,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    const text = await client.info(section);
    return text.match(new RegExp(`^${field}:(.*)$`, 'm'))?.[1]?.trim() ?? null;
  } finally {
    client.disconnect();
  }
}

/** One command sent straight to a redis-server of the topology. */
export async function redisCall(address: Address, ...args: Array<string | number>): Promise<unknown> {
  return redisCallAs(address, {}, ...args);
}

/**
 * One command on a fresh connection to a redis-server of the topology (or the endpoint), as a user
 * (`AUTH [user] pass` first) when one is given.
 */
export async function redisCallAs(
  address: Address,
  options: { readonly username?: string; readonly password?: string; readonly connectTimeoutMs?: number },
  ...args: Array<string | number>
): Promise<unknown> {
  const { connectTimeoutMs = 1_000, ...auth } = options;
  const client = new Redis({
    ...address,
    ...auth,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: connectTimeoutMs,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return await client.call(String(args[0]), ...args.slice(1).map(String));
  } finally {
    client.disconnect();
  }
}

/** SENTINEL MASTER/REPLICAS entries come back as flat [k, v, k, v…] arrays: as an object. */
export function fieldsOf(flat: unknown): Record<string, string> {
  const list = flat as string[];
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) out[list[i] as string] = list[i + 1] as string;
  return out;
}
