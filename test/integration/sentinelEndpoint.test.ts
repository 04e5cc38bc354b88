/**
 * The Redis-protocol Sentinel endpoint on real processes: three sentinels on real redis-server and
 * DynamoDB Local, the endpoint next to them, and unmodified clients (ioredis in Sentinel mode, redis-cli)
 * following failovers through it. The reply shapes are compared with a real `redis-server --sentinel`
 * run on the same topology, and the authentication replies with one that has the same users.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { type RealSentinels, startRealSentinels } from '../../bench/support/realSentinel.js';
import { MemoryStore } from '../../lib/adapters/memory/store.js';
import { storeSentinelView } from '../../lib/commands/storeView.js';
import { parseAccessFile } from '../../lib/config/access.js';
import type { Address } from '../../lib/core/types.js';
import { type SentinelEndpoint, startSentinelEndpoint } from '../../lib/resp/server.js';
import { allocatePorts, findRedisServer, startRedis } from '../../lib/runtime/redisProcess.js';
import { type RealCluster, roleOf, startRealCluster } from '../support/realCluster.js';
import { globalSettings, masterSettings } from '../support/settings.js';

const run = promisify(execFile);
const REDIS_CLI = '/usr/bin/redis-cli';
const WITHIN_MS = 20_000;

interface Harness {
  readonly cluster: RealCluster;
  readonly endpoint: SentinelEndpoint;
  stop(): Promise<void>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

/** The cluster, and the endpoint with every sentinel's events published to it (as the local runner does). */
async function harness(): Promise<Harness> {
  const cluster = await startRealCluster({
    endpoint: inject('dynamodbEndpoint'),
    downAfterMs: 1_000,
    settings: { infoPeriodMs: 1_000, failoverTimeoutMs: 10_000 },
  });
  cleanups.push(() => cluster.stop());
  const endpoint = await startSentinelEndpoint({
    port: 0,
    view: storeSentinelView(cluster.store, cluster.config, { runners: cluster.sentinels.runners }),
  });
  cleanups.push(() => endpoint.close());
  let published = 0;
  const pump = setInterval(() => {
    const events = cluster.sentinels.events;
    while (published < events.length) endpoint.publish(events[published++] as (typeof events)[number]);
  }, 10);
  cleanups.push(async () => clearInterval(pump));
  await cluster.sentinels.waitFor(
    () => cluster.sentinels.eventsOf('+slave').length === 6,
    15_000,
    'replicas discovered',
  );
  return { cluster, endpoint, stop: async () => {} };
}

function track<T extends Redis>(client: T): T {
  client.on('error', () => {});
  cleanups.push(async () => client.disconnect());
  return client;
}

async function currentMaster(cluster: RealCluster): Promise<Address> {
  const record = await cluster.store.getMaster('mymaster');
  if (!record) throw new Error('no master record');
  return { host: record.host, port: record.port };
}

/** Retries `write` until it succeeds (each attempt bounded), or throws after the deadline. */
async function writeUntilOk(write: () => Promise<unknown>, timeoutMs = WITHIN_MS): Promise<number> {
  const started = Date.now();
  let last: unknown = null;
  while (Date.now() - started < timeoutMs) {
    try {
      await Promise.race([
        write(),
        new Promise((_, reject) => setTimeout(() => reject(new Error('attempt timed out')), 3_000)),
      ]);
      return Date.now() - started;
    } catch (error) {
      last = error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`no successful write within ${timeoutMs}ms: ${String(last)}`);
}

async function valueOn(address: Address, key: string): Promise<string | null> {
  const direct = new Redis({
    ...address,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  try {
    await direct.connect();
    return await direct.get(key);
  } finally {
    direct.disconnect();
  }
}

describe('Sentinel endpoint with unmodified clients', () => {
  it('ioredis in Sentinel mode (HELLO 3) follows a SIGKILLed master to the new one', async () => {
    const { cluster, endpoint } = await harness();
    const old = cluster.topology.master.address;
    const client = track(
      new Redis({ sentinels: [{ host: '127.0.0.1', port: endpoint.address.port }], name: 'mymaster' }),
    );
    await client.set('before', '1');
    expect(await valueOn(old, 'before')).toBe('1');

    await cluster.topology.master.kill();
    await writeUntilOk(() => client.set('after', 'written-through-the-endpoint'));

    const now = await currentMaster(cluster);
    expect(now).not.toEqual(old);
    expect(await valueOn(now, 'after')).toBe('written-through-the-endpoint');
    expect((await roleOf(now)).role).toBe('master');
  });

  it('ioredis with failoverDetector leaves a SIGSTOPped master on +switch-master', async () => {
    const { cluster, endpoint } = await harness();
    const old = cluster.topology.master.address;
    const client = track(
      new Redis({
        sentinels: [{ host: '127.0.0.1', port: endpoint.address.port }],
        name: 'mymaster',
        failoverDetector: true,
      }),
    );
    const switches: string[] = [];
    const watcher = track(new Redis({ ...endpoint.address, lazyConnect: true }));
    watcher.on('message', (_channel, message) => switches.push(message));
    await watcher.subscribe('+switch-master');
    await client.set('before', '1');
    // The detector subscribes lazily after the client is ready: give it a moment.
    await new Promise((r) => setTimeout(r, 500));

    await cluster.topology.master.pause();
    cleanups.push(async () => cluster.topology.master.resume());
    await writeUntilOk(() => client.set('after', 'paused-master-left'));

    const now = await currentMaster(cluster);
    expect(now).not.toEqual(old);
    expect(await valueOn(now, 'after')).toBe('paused-master-left');
    // Three sentinels announce the same switch; a subscriber gets it once.
    expect(switches).toEqual([`mymaster ${old.host} ${old.port} ${now.host} ${now.port}`]);
    cluster.topology.master.resume();
  });
});

/** A reply read off the wire: its type byte, and its text or items. */
interface Wire {
  readonly type: string;
  readonly text: string | null;
  readonly items: Wire[];
}

function readReply(buf: Buffer, pos: number): { reply: Wire; next: number } | null {
  const end = buf.indexOf('\r\n', pos);
  if (end === -1) return null;
  const type = String.fromCharCode(buf[pos] as number);
  const head = buf.subarray(pos + 1, end).toString();
  if (type === '+' || type === '-' || type === ':' || type === '_') {
    return { reply: { type, text: head, items: [] }, next: end + 2 };
  }
  const n = Number(head);
  if (n < 0) return { reply: { type: `${type}-1`, text: null, items: [] }, next: end + 2 };
  if (type === '$') {
    if (buf.length < end + 2 + n + 2) return null;
    return {
      reply: { type, text: buf.subarray(end + 2, end + 2 + n).toString(), items: [] },
      next: end + 4 + n,
    };
  }
  const items: Wire[] = [];
  let next = end + 2;
  for (let i = 0; i < (type === '%' ? 2 * n : n); i++) {
    const item = readReply(buf, next);
    if (!item) return null;
    items.push(item.reply);
    next = item.next;
  }
  return { reply: { type, text: null, items }, next };
}

/** The shape of a reply: types only, except Sentinel instance maps, shown as `key:type` in order. */
function shape(reply: Wire): unknown {
  if (reply.items.length === 0) return reply.type === '*' || reply.type === '%' ? [reply.type] : reply.type;
  const first = reply.items[0]?.text;
  const instanceMap = (first === 'name' || first === 'server') && reply.items.length % 2 === 0;
  if (instanceMap) {
    const pairs: string[] = [reply.type];
    for (let i = 0; i < reply.items.length; i += 2) {
      pairs.push(`${reply.items[i]?.text}:${reply.items[i + 1]?.type}`);
    }
    return pairs;
  }
  return [reply.type, ...reply.items.map(shape)];
}

/** Sends commands (inline) on one connection; returns the last reply's shape, and its text for errors. */
async function shapeOf(port: number, ...commands: string[]): Promise<unknown> {
  const socket = net.connect(port, '127.0.0.1');
  let data = Buffer.alloc(0);
  try {
    return await new Promise((resolve, reject) => {
      socket.on('error', reject);
      socket.on('data', (chunk) => {
        data = Buffer.concat([data, chunk]);
        let pos = 0;
        for (let i = 0; i < commands.length; i++) {
          const read = readReply(data, pos);
          if (!read) return;
          pos = read.next;
          if (i === commands.length - 1) {
            resolve(read.reply.type === '-' ? `-${read.reply.text}` : shape(read.reply));
          }
        }
      });
      socket.write(commands.map((c) => `${c}\r\n`).join(''));
    });
  } finally {
    socket.destroy();
  }
}

describe('Sentinel endpoint replies, compared with real Sentinel', () => {
  it('redis-cli runs every implemented SENTINEL subcommand; shapes match redis-server --sentinel', async () => {
    const { cluster, endpoint } = await harness();
    const port = String(endpoint.address.port);
    const cli = async (...args: string[]) => (await run(REDIS_CLI, ['-p', port, ...args])).stdout;
    await cluster.sentinels.waitFor(() => cluster.sentinels.runners.length === 3, 1000, 'runners');

    // (c) redis-cli, each subcommand.
    expect((await cli('PING')).trim()).toBe('PONG');
    const addr = (await cli('SENTINEL', 'get-master-addr-by-name', 'mymaster')).trim().split('\n');
    expect(addr).toEqual([
      cluster.topology.master.address.host,
      String(cluster.topology.master.address.port),
    ]);
    expect((await cli('SENTINEL', 'get-master-addr-by-name', 'nope')).trim()).toBe('');
    const master = (await cli('SENTINEL', 'master', 'mymaster')).trim().split('\n');
    expect(master.slice(0, 2)).toEqual(['name', 'mymaster']);
    expect(master.length % 2).toBe(0);
    const masters = (await cli('SENTINEL', 'masters')).trim().split('\n');
    expect(masters.slice(0, 2)).toEqual(['name', 'mymaster']);
    for (const sub of ['replicas', 'slaves']) {
      const lines = (await cli('SENTINEL', sub, 'mymaster')).trim().split('\n');
      expect(lines.filter((l) => l === 'name')).toHaveLength(2);
    }
    const sentinels = (await cli('SENTINEL', 'sentinels', 'mymaster')).trim().split('\n');
    expect(sentinels.filter((l) => l === 'name')).toHaveLength(2);
    expect((await cli('SENTINEL', 'ckquorum', 'mymaster')).trim()).toBe(
      'OK 3 usable Sentinels. Quorum and failover authorization can be reached',
    );
    expect((await cli('SENTINEL', 'myid')).trim()).toMatch(/^[0-9a-f]{40}$/);
    expect((await cli('SENTINEL', 'master', 'nope')).trim()).toBe('ERR No such master with that name');
    expect((await cli('SENTINEL', 'frob')).trim()).toBe("ERR unknown subcommand 'frob'. Try SENTINEL HELP.");
    expect(await cli('INFO', 'sentinel')).toContain(
      `master0:name=mymaster,status=ok,address=127.0.0.1:${cluster.topology.master.address.port},slaves=2,sentinels=3`,
    );

    // (d) the same commands against three real Sentinels on the same topology.
    const real: RealSentinels = await startRealSentinels({
      master: cluster.topology.master.address,
      downAfterMs: 60_000,
      failoverTimeoutMs: 180_000,
      replicas: 2,
    });
    cleanups.push(() => real.stop());
    const realPort = real.ports[0] as number;
    const commands = [
      'SENTINEL MASTER mymaster',
      'SENTINEL MASTERS',
      'SENTINEL REPLICAS mymaster',
      'SENTINEL SLAVES mymaster',
      'SENTINEL SENTINELS mymaster',
      'SENTINEL GET-MASTER-ADDR-BY-NAME mymaster',
      'SENTINEL GET-MASTER-ADDR-BY-NAME nope',
      'SENTINEL CKQUORUM mymaster',
      'SENTINEL MYID',
      'SENTINEL MASTER nope',
      'SENTINEL MASTER',
      'SENTINEL REPLICAS nope',
      'SENTINEL frob',
      'SENTINEL SENTINELS nope',
      'HELLO 4',
      'HELLO 3',
      'HELLO 2',
      'PING',
      'CLIENT SETNAME x',
      'CLIENT GETNAME',
      'SUBSCRIBE +switch-master',
      'PSUBSCRIBE *',
      'FOO bar baz',
      'SENTINEL GET-MASTER-ADDR-BY-NAME',
      'ROLE',
      // Run-time configuration: replies and error texts (nothing here changes either topology).
      'SENTINEL SET mymaster failover-timeout 180000',
      'SENTINEL SET mymaster down-after-milliseconds -20',
      'SENTINEL SET mymaster down-after-milliseconds abc',
      'SENTINEL SET mymaster fakeoption fakevalue',
      'SENTINEL SET mymaster fakeoption',
      'SENTINEL SET nope quorum 2',
      'SENTINEL MONITOR mymaster 127.0.0.1 6380 2',
      'SENTINEL MONITOR other 127.0.0.1 6380 zero',
      'SENTINEL MONITOR other 127.0.0.1 6380 0',
      'SENTINEL MONITOR other 127.0.0.1',
      'SENTINEL REMOVE nope',
      'SENTINEL RESET nope*',
    ];
    for (const command of commands) {
      for (const hello of [[], ['HELLO 3']]) {
        const theirs = await shapeOf(realPort, ...hello, command);
        const ours = await shapeOf(endpoint.address.port, ...hello, command);
        expect(ours, `${hello.join('')} ${command}`).toEqual(theirs);
      }
    }
    // And through ioredis (RESP2 `call`): the same field names in the same order.
    const theirClient = track(new Redis({ port: realPort, host: '127.0.0.1', protocol: 2 }));
    const ourClient = track(new Redis({ ...endpoint.address, protocol: 2 }));
    const keys = (reply: unknown) => (reply as string[]).filter((_, i) => i % 2 === 0);
    for (const sub of ['MASTER', 'REPLICAS', 'SENTINELS']) {
      const theirs = (await theirClient.call('SENTINEL', sub, 'mymaster')) as unknown;
      const ours = (await ourClient.call('SENTINEL', sub, 'mymaster')) as unknown;
      const first = (r: unknown) => (sub === 'MASTER' ? r : (r as unknown[])[0]);
      expect(keys(first(ours)), sub).toEqual(keys(first(theirs)));
    }
    await real.stop();

    // FAILOVER last: it changes the topology.
    expect((await cli('SENTINEL', 'failover', 'mymaster')).trim()).toBe('OK');
    const until = Date.now() + WITHIN_MS;
    let promoted = await currentMaster(cluster);
    while (promoted.port === cluster.topology.master.address.port && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
      promoted = await currentMaster(cluster);
    }
    expect(promoted).not.toEqual(cluster.topology.master.address);
    expect((await cli('SENTINEL', 'get-master-addr-by-name', 'mymaster')).trim().split('\n')).toEqual([
      promoted.host,
      String(promoted.port),
    ]);
  });
});

/** Users as both sides get them: a redis-server --sentinel conf, and our users file (the same lines). */
const AUTH_USERS = [
  'requirepass "top secret"',
  'user reader on >r3ad ~* &* -@all +ping +sentinel|get-master-addr-by-name +sentinel|master +sentinel|masters +subscribe',
  'user admin on >adm1n ~* &* +@all',
  'user gone off >g ~* &* +@all',
  'user feed on >f resetchannels &+switch-* +@all',
  // Redis's @read holds no SENTINEL subcommand (they are all @admin); ours is every command that reads.
  'user monitor on >m ~* &* +@read',
];

/** A real `redis-server --sentinel` with AUTH_USERS, started and killed by PID. */
async function realSentinelWithUsers(master: Address): Promise<number> {
  const [port] = (await allocatePorts(1)) as [number];
  const dir = await mkdtemp(join(tmpdir(), 'ls-auth-sentinel-'));
  const file = join(dir, 'sentinel.conf');
  await writeFile(
    file,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor mymaster ${master.host} ${master.port} 1`,
      ...AUTH_USERS,
      '',
    ].join('\n'),
  );
  const child = spawn(findRedisServer(), [file, '--sentinel'], { stdio: 'ignore' });
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    await rm(dir, { recursive: true, force: true });
  });
  const until = Date.now() + WITHIN_MS;
  for (;;) {
    const reachable = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (reachable) return port;
    if (Date.now() > until) throw new Error('redis-server --sentinel did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every reply to `commands` sent in one write: error texts in full, other replies by shape. */
async function repliesOf(port: number, commands: readonly string[]): Promise<unknown[]> {
  const socket = net.connect(port, '127.0.0.1');
  let data = Buffer.alloc(0);
  try {
    return await new Promise((resolve, reject) => {
      socket.on('error', reject);
      socket.on('data', (chunk) => {
        data = Buffer.concat([data, chunk]);
        const out: unknown[] = [];
        let pos = 0;
        for (let i = 0; i < commands.length; i++) {
          const read = readReply(data, pos);
          if (!read) return;
          pos = read.next;
          out.push(
            read.reply.type === '-'
              ? `-${read.reply.text}`
              : read.reply.type === '$'
                ? read.reply.text
                : shape(read.reply),
          );
        }
        resolve(out);
      });
      socket.write(commands.map((c) => `${c}\r\n`).join(''));
    });
  } finally {
    socket.destroy();
  }
}

describe('Sentinel endpoint authentication, compared with redis-server --sentinel', () => {
  async function both() {
    const [masterPort] = (await allocatePorts(1)) as [number];
    const master = await startRedis({ port: masterPort });
    cleanups.push(() => master.stop());
    const realPort = await realSentinelWithUsers(master.address);
    const parsed = parseAccessFile(AUTH_USERS.join('\n'), 'users');
    expect(parsed.issues).toEqual([]);
    const store = new MemoryStore();
    await store.ensureMaster({ name: 'mymaster', ...master.address, now: Date.now() });
    const config = {
      global: globalSettings({ sentinelIds: ['sentinel-a', 'sentinel-b', 'sentinel-c'] }),
      masters: [masterSettings({ name: 'mymaster', ...master.address })],
    };
    const endpoint = await startSentinelEndpoint({
      port: 0,
      view: storeSentinelView(store, config),
      users: parsed.access.users,
    });
    cleanups.push(() => endpoint.close());
    return { master, realPort, endpoint, store };
  }

  it('NOAUTH, WRONGPASS, NOPERM and the AUTH/HELLO/ACL WHOAMI replies are word for word Redis 7.0.15', async () => {
    const { realPort, endpoint } = await both();
    const sequences: string[][] = [
      // Before authentication: what is checked first (unknown command, arity), then NOAUTH.
      [
        'PING',
        'SENTINEL MASTERS',
        'SENTINEL SET mymaster quorum 1',
        'SUBSCRIBE +switch-master',
        'FOO bar',
        'SENTINEL frob',
        'SENTINEL',
        'ACL WHOAMI',
        'AUTH',
        'AUTH a b c',
        'AUTH wrong',
        'AUTH nobody x',
        'AUTH gone g',
        'HELLO 3',
        'HELLO 3 AUTH admin wrong',
        'HELLO 3 AUTH a',
      ],
      [
        'AUTH "top secret"',
        'PING',
        'ACL WHOAMI',
        'ACL WHOAMI x',
        'ACL',
        'ACL FOO',
        'AUTH default "top secret"',
        'ACL WHOAMI',
      ],
      [
        'AUTH reader r3ad',
        'ACL WHOAMI',
        'SENTINEL get-master-addr-by-name mymaster',
        'SENTINEL SET mymaster quorum 1',
        'SENTINEL SET mymaster rename-command PING FLUSHALL',
        'SENTINEL FAILOVER mymaster',
        'SENTINEL MONITOR other 127.0.0.1 7001 2',
        'SENTINEL REMOVE mymaster',
        'SENTINEL RESET *',
        'SENTINEL FLUSHCONFIG',
        'SENTINEL CKQUORUM mymaster',
        'INFO',
        'ROLE',
        'CLIENT ID',
        'PSUBSCRIBE *',
      ],
      ['AUTH feed f', 'SUBSCRIBE +odown', 'PSUBSCRIBE *', 'PSUBSCRIBE +switch-m*', 'PSUBSCRIBE +switch-*'],
      ['HELLO 2 AUTH admin adm1n', 'ACL WHOAMI'],
    ];
    for (const commands of sequences) {
      const theirs = await repliesOf(realPort, commands);
      const ours = await repliesOf(endpoint.address.port, commands);
      expect(ours, commands.join(' | ')).toEqual(theirs);
    }
  });

  it('an HTTP request to the port is dropped as Redis drops it, and the master is not touched', async () => {
    const { realPort, endpoint, store } = await both();
    const request = [
      'POST / HTTP/1.1',
      'Host: 127.0.0.1',
      'Content-Type: text/plain',
      '',
      'AUTH "top secret"',
      'SENTINEL SET mymaster down-after-milliseconds 1',
      '',
    ].join('\r\n');
    for (const port of [realPort, endpoint.address.port]) {
      const socket = net.connect(port, '127.0.0.1');
      let data = '';
      socket.on('data', (d) => {
        data += d.toString();
      });
      socket.on('error', () => {});
      const closed = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 10_000);
        socket.once('close', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      socket.write(request);
      expect(await closed, String(port)).toBe(true);
      socket.destroy();
      expect(data, String(port)).toBe('');
    }
    expect((await store.getMaster('mymaster'))?.settings.downAfterMs).toBeUndefined();
  });

  it('ioredis in Sentinel mode with sentinelPassword (and sentinelUsername), and redis-cli -a, work through it', async () => {
    const { master, endpoint } = await both();
    const sentinels = [{ host: '127.0.0.1', port: endpoint.address.port }];
    const client = track(new Redis({ sentinels, name: 'mymaster', sentinelPassword: 'top secret' }));
    await client.set('k', 'through-an-authenticated-sentinel');
    expect(await valueOn(master.address, 'k')).toBe('through-an-authenticated-sentinel');
    // A read-only user is enough for a client: it asks get-master-addr-by-name and SENTINEL SENTINELS.
    const reader = track(
      new Redis({ sentinels, name: 'mymaster', sentinelUsername: 'monitor', sentinelPassword: 'm' }),
    );
    expect(await reader.get('k')).toBe('through-an-authenticated-sentinel');
    // Without the password the client cannot find the master.
    const errors: string[] = [];
    const anonymous = new Redis({
      sentinels,
      name: 'mymaster',
      lazyConnect: true,
      sentinelRetryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
    anonymous.on('error', (e: Error) => errors.push(e.message));
    cleanups.push(async () => anonymous.disconnect());
    await anonymous.connect().catch((e: Error) => errors.push(e.message));
    expect(errors.join('\n')).toMatch(
      /All sentinels are unreachable and retry is disabled. Last error: NOAUTH /,
    );

    const port = String(endpoint.address.port);
    const cli = async (...args: string[]) => (await run(REDIS_CLI, ['-p', port, ...args])).stdout.trim();
    expect(
      await cli('-a', 'top secret', '--no-auth-warning', 'SENTINEL', 'get-master-addr-by-name', 'mymaster'),
    ).toBe(`127.0.0.1\n${master.address.port}`);
    expect(await cli('SENTINEL', 'get-master-addr-by-name', 'mymaster')).toBe(
      'NOAUTH Authentication required.',
    );
    expect(
      await cli(
        '--user',
        'reader',
        '--pass',
        'r3ad',
        '--no-auth-warning',
        'SENTINEL',
        'SET',
        'mymaster',
        'quorum',
        '1',
      ),
    ).toBe("NOPERM this user has no permissions to run the 'sentinel|set' command");
  });
});
