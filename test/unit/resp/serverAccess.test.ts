/**
 * Who may do what on the Redis-protocol endpoint, and how much one connection can take: ACL users and
 * requirepass (NOAUTH, WRONGPASS, NOPERM with Redis's texts), channel permissions for published events,
 * the cross-protocol guard (an HTTP request sent to the port), the idle and partial-command timeouts,
 * the connection cap and the buffer caps. On a memory store; real clients where a client matters.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../lib/adapters/memory/store.js';
import { storeSentinelView } from '../../../lib/commands/storeView.js';
import type { SentinelView } from '../../../lib/commands/view.js';
import { parseAccessFile } from '../../../lib/config/access.js';
import type { ConnectionLimits, SentinelConfig } from '../../../lib/core/types.js';
import { type SentinelEndpoint, startSentinelEndpoint } from '../../../lib/resp/server.js';
import { globalSettings, masterSettings } from '../../support/settings.js';
import { type RecordingView, recordingView } from '../http/apiFixtures.js';

const config: SentinelConfig = {
  global: globalSettings({ sentinelIds: ['sentinel-a', 'sentinel-b', 'sentinel-c'] }),
  masters: [masterSettings({ name: 'mymaster', host: '127.0.0.1', port: 7000 })],
};

/** Generous: these bound a wait for something that must happen, never a measured time. */
const CLOSE_WAIT_MS = 10_000;

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

const USERS = [
  'requirepass s3cret',
  'user reader on >r3ad &* +@read',
  'user admin on >adm1n &* +@all',
  'user watcher on >w resetchannels &+switch-* &+sdown +@read',
  'user gone off >g +@all',
  'user anyone on nopass -@all +ping',
].join('\n');

async function start(
  options: {
    users?: string;
    view?: SentinelView;
    limits?: Partial<ConnectionLimits>;
    readOnlyError?: (command: string) => string;
  } = {},
) {
  const store = new MemoryStore();
  await store.ensureMaster({ name: 'mymaster', host: '127.0.0.1', port: 7000, now: Date.now() });
  const view = options.view ?? storeSentinelView(store, config, { failoverWaitMs: 200 });
  const parsed = options.users === undefined ? undefined : parseAccessFile(options.users, 'users');
  expect(parsed?.issues ?? []).toEqual([]);
  const endpoint = await startSentinelEndpoint({
    port: 0,
    view,
    users: parsed?.access.users,
    limits: options.limits,
    readOnlyError: options.readOnlyError,
  });
  open.push(endpoint);
  return { endpoint, store };
}

function client(endpoint: SentinelEndpoint, options: Record<string, unknown> = {}): Redis {
  const c = new Redis({ ...endpoint.address, lazyConnect: true, maxRetriesPerRequest: 0, ...options });
  c.on('error', () => {});
  open.push({ close: () => c.disconnect() });
  return c;
}

interface Raw {
  readonly socket: net.Socket;
  /** Everything received so far. */
  data(): string;
  /** Resolves when the server closes the connection (true), or false after `ms`. */
  closed(ms?: number): Promise<boolean>;
  /** Resolves once the received data satisfies `until` (or the connection closes, or `ms` pass). */
  until(until: (data: string) => boolean, ms?: number): Promise<string>;
}

async function connect(endpoint: SentinelEndpoint): Promise<Raw> {
  const socket = net.connect(endpoint.address.port, endpoint.address.host);
  open.push({ close: () => socket.destroy() });
  let data = '';
  let isClosed = false;
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const l of listeners) l();
  };
  socket.on('data', (d) => {
    data += d.toString('latin1');
    notify();
  });
  socket.on('close', () => {
    isClosed = true;
    notify();
  });
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  const wait = (done: () => boolean, ms: number) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (!done()) return;
        listeners.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        resolve();
      }, ms);
      listeners.add(check);
      check();
    });
  return {
    socket,
    data: () => data,
    closed: async (ms = CLOSE_WAIT_MS) => {
      await wait(() => isClosed, ms);
      return isClosed;
    },
    until: async (until, ms = 2_000) => {
      await wait(() => isClosed || until(data), ms);
      return data;
    },
  };
}

async function exchange(endpoint: SentinelEndpoint, wire: string, until: (d: string) => boolean) {
  const c = await connect(endpoint);
  c.socket.write(wire);
  return c.until(until);
}

const count = (text: string, part: string) => text.split(part).length - 1;

describe('authentication (requirepass, ACL users)', () => {
  it('refuses every command but AUTH/HELLO before authentication: an unauthenticated SET changes nothing', async () => {
    const { endpoint, store } = await start({ users: 'requirepass s3cret' });
    const wire =
      'SENTINEL SET mymaster down-after-milliseconds 999\r\nSENTINEL FAILOVER mymaster\r\n' +
      'SENTINEL REMOVE mymaster\r\nSENTINEL MONITOR other 127.0.0.1 7001 2\r\nSENTINEL RESET *\r\n' +
      'SENTINEL get-master-addr-by-name mymaster\r\nSUBSCRIBE +switch-master\r\nPING\r\n';
    const data = await exchange(endpoint, wire, (d) => count(d, '\r\n') >= 8);
    expect(data).toBe('-NOAUTH Authentication required.\r\n'.repeat(8));
    const record = await store.getMaster('mymaster');
    expect(record?.settings.downAfterMs).toBeUndefined();
    expect(record?.failoverRequestedAt).toBeNull();
    expect(record?.monitored).toBe(true);
    expect(await store.getMaster('other')).toBeNull();
  });

  it('AUTH pw, AUTH user pw, HELLO 3 AUTH user pw and ACL WHOAMI, with Redis texts', async () => {
    const { endpoint } = await start({ users: USERS });
    const data = await exchange(
      endpoint,
      'AUTH nope\r\nAUTH s3cret\r\nACL WHOAMI\r\nAUTH reader wrong\r\nACL WHOAMI\r\nAUTH reader r3ad\r\n' +
        'ACL WHOAMI\r\nAUTH gone g\r\nAUTH nobody x\r\nAUTH a b c\r\nAUTH anyone whatever\r\nACL WHOAMI\r\n' +
        'ACL LIST\r\nACL WHOAMI extra\r\n',
      (d) => d.includes('acl|whoami'),
    );
    expect(data).toBe(
      [
        '-WRONGPASS invalid username-password pair or user is disabled.',
        '+OK',
        '$7\r\ndefault',
        '-WRONGPASS invalid username-password pair or user is disabled.',
        '$7\r\ndefault',
        '+OK',
        '$6\r\nreader',
        '-WRONGPASS invalid username-password pair or user is disabled.',
        '-WRONGPASS invalid username-password pair or user is disabled.',
        '-ERR syntax error',
        '+OK',
        "-NOPERM this user has no permissions to run the 'acl|whoami' command",
        "-ERR unknown subcommand 'LIST'. Try ACL HELP.",
        "-ERR wrong number of arguments for 'acl|whoami' command",
        '',
      ].join('\r\n'),
    );
    const hello = await exchange(
      endpoint,
      'HELLO 3\r\nHELLO 3 AUTH admin wrong\r\nHELLO 3 AUTH admin adm1n\r\nACL WHOAMI\r\n',
      (d) => d.includes('$5\r\nadmin'),
    );
    expect(hello).toMatch(
      /^-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n-WRONGPASS invalid username-password pair or user is disabled\.\r\n%6\r\n.*\$5\r\nadmin\r\n$/s,
    );
    // RESET logs out: back to the default user, who needs a password here.
    const reset = await exchange(endpoint, 'AUTH admin adm1n\r\nRESET\r\nPING\r\n', (d) =>
      d.includes('NOAUTH'),
    );
    expect(reset).toBe('+OK\r\n+RESET\r\n-NOAUTH Authentication required.\r\n');
  });

  it('a read-only user (+@read) reads but gets NOPERM on every write; nothing changes', async () => {
    const { endpoint, store } = await start({ users: USERS });
    const reader = client(endpoint, { username: 'reader', password: 'r3ad' });
    expect(await reader.call('SENTINEL', 'get-master-addr-by-name', 'mymaster')).toEqual([
      '127.0.0.1',
      '7000',
    ]);
    expect(((await reader.call('SENTINEL', 'masters')) as string[][])[0]?.slice(0, 2)).toEqual([
      'name',
      'mymaster',
    ]);
    expect(await reader.call('SENTINEL', 'ckquorum', 'mymaster').catch((e: Error) => e.message)).toMatch(
      /QUORUM/,
    );
    expect(await reader.call('ROLE')).toEqual(['sentinel', ['mymaster']]);
    const writes: Array<[string, string[]]> = [
      ['sentinel|set', ['SENTINEL', 'SET', 'mymaster', 'rename-command', 'PING', 'FLUSHALL']],
      ['sentinel|failover', ['SENTINEL', 'FAILOVER', 'mymaster']],
      ['sentinel|monitor', ['SENTINEL', 'MONITOR', 'other', '127.0.0.1', '7001', '2']],
      ['sentinel|remove', ['SENTINEL', 'REMOVE', 'mymaster']],
      ['sentinel|reset', ['SENTINEL', 'RESET', '*']],
      ['sentinel|config', ['SENTINEL', 'CONFIG', 'SET', 'resolve-hostnames', 'yes']],
      ['sentinel|flushconfig', ['SENTINEL', 'FLUSHCONFIG']],
      ['sentinel|simulate-failure', ['SENTINEL', 'SIMULATE-FAILURE', 'crash-after-election']],
      ['sentinel|debug', ['SENTINEL', 'DEBUG', 'ping-period', '1']],
    ];
    for (const [name, args] of writes) {
      await expect(reader.call(args[0] as string, ...args.slice(1)), name).rejects.toThrow(
        `NOPERM this user has no permissions to run the '${name}' command`,
      );
    }
    // CONFIG GET only reads: the permission check lets it through.
    expect(await reader.call('SENTINEL', 'CONFIG', 'GET', 'resolve-hostnames')).toEqual([
      'resolve-hostnames',
      'no',
    ]);
    const record = await store.getMaster('mymaster');
    expect(record?.settings.renamedCommands).toBeUndefined();
    expect(record?.failoverRequestedAt).toBeNull();
    expect(record?.monitored).toBe(true);
    expect(await store.getMaster('other')).toBeNull();
    // The same write by a user with +@all goes through.
    const admin = client(endpoint, { username: 'admin', password: 'adm1n' });
    expect(await admin.call('SENTINEL', 'SET', 'mymaster', 'down-after-milliseconds', '5000')).toBe('OK');
    expect((await store.getMaster('mymaster'))?.settings.downAfterMs).toBe(5000);
  });

  it('a read-only endpoint (the proxy) refuses writes with its own text, even to users allowed them', async () => {
    const { endpoint, store } = await start({ readOnlyError: (c) => `NOPERM read-only here: ${c}` });
    const c = client(endpoint);
    await expect(c.call('SENTINEL', 'SET', 'mymaster', 'quorum', '1')).rejects.toThrow(
      'NOPERM read-only here: sentinel|set',
    );
    expect(await c.call('SENTINEL', 'get-master-addr-by-name', 'mymaster')).toEqual(['127.0.0.1', '7000']);
    expect((await store.getMaster('mymaster'))?.settings.quorum).toBeUndefined();
  });

  it('events reach only subscribers allowed their channel; a channel not allowed is refused', async () => {
    const { endpoint } = await start({ users: USERS });
    const watcher = client(endpoint, { username: 'watcher', password: 'w' });
    const got: string[] = [];
    watcher.on('message', (channel, message) => got.push(`${channel} ${message}`));
    watcher.on('pmessage', (pattern, channel, message) => got.push(`${pattern}|${channel} ${message}`));
    await expect(watcher.subscribe('+odown')).rejects.toThrow(
      'NOPERM this user has no permissions to access one of the channels used as arguments',
    );
    await expect(watcher.psubscribe('*')).rejects.toThrow('NOPERM this user has no permissions to access');
    await watcher.subscribe('+sdown', '+switch-master');
    await watcher.psubscribe('+switch-*');
    // A user without channels (Redis 7's default for new users) may subscribe to nothing.
    const anyone = client(endpoint, { username: 'anyone', password: 'x' });
    await expect(anyone.subscribe('+sdown')).rejects.toThrow(
      "NOPERM this user has no permissions to run the 'subscribe' command",
    );
    const admin = client(endpoint, { username: 'admin', password: 'adm1n' });
    const adminGot: string[] = [];
    admin.on('pmessage', (_p, channel) => adminGot.push(channel));
    await admin.psubscribe('*');

    expect(
      endpoint.publish({ type: '+odown', payload: 'master mymaster 127.0.0.1 7000 #quorum 2/2' }, 1),
    ).toBe(1);
    expect(endpoint.publish({ type: '+sdown', payload: 'master mymaster 127.0.0.1 7000' }, 1)).toBe(2);
    expect(
      endpoint.publish({ type: '+switch-master', payload: 'mymaster 127.0.0.1 7000 127.0.0.1 7001' }, 1),
    ).toBe(3);
    await expect.poll(() => adminGot.length).toBe(3);
    await expect.poll(() => got.length).toBe(3);
    expect(got).toEqual([
      '+sdown master mymaster 127.0.0.1 7000',
      '+switch-master mymaster 127.0.0.1 7000 127.0.0.1 7001',
      '+switch-*|+switch-master mymaster 127.0.0.1 7000 127.0.0.1 7001',
    ]);
  });

  it('without a password configured, AUTH <pw> is an error and every connection is `default`', async () => {
    const { endpoint } = await start();
    const data = await exchange(endpoint, 'AUTH x\r\nACL WHOAMI\r\n', (d) => d.includes('default'));
    expect(data).toBe(
      '-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n$7\r\ndefault\r\n',
    );
  });
});

describe('an HTTP request sent to the RESP port', () => {
  it('POST closes the connection at once, before authentication, and runs nothing it carries', async () => {
    for (const users of [undefined, 'requirepass s3cret']) {
      const view: RecordingView = recordingView();
      const { endpoint } = await start({ view, users });
      const c = await connect(endpoint);
      const body =
        'AUTH s3cret\r\nSENTINEL SET mymaster rename-command PING FLUSHALL\r\nSENTINEL FAILOVER mymaster\r\n';
      c.socket.write(
        `POST /x HTTP/1.1\r\nHost: 127.0.0.1:${endpoint.address.port}\r\nContent-Type: text/plain\r\n` +
          `Content-Length: ${body.length}\r\n\r\n${body}`,
      );
      expect(await c.closed(), String(users)).toBe(true);
      expect(c.data(), String(users)).toBe('');
      expect(view.calls, String(users)).toEqual([]);
    }
  });

  it('a Host: line closes it too, and the commands before it in the same packet get no answer', async () => {
    const view = recordingView();
    const { endpoint } = await start({ view });
    const c = await connect(endpoint);
    c.socket.write(`GET / HTTP/1.1\r\nHost: localhost:${endpoint.address.port}\r\n\r\n`);
    expect(await c.closed()).toBe(true);
    expect(c.data()).toBe('');
    const d = await connect(endpoint);
    d.socket.write('SENTINEL masters\r\nhost: x\r\n');
    expect(await d.closed()).toBe(true);
    expect(d.data()).toBe('');
    expect(view.calls).toEqual([]);
    // Other connections are not affected.
    expect(await client(endpoint).ping()).toBe('PONG');
  });
});

describe('connection limits', () => {
  it('closes an idle connection (timeout) but never a subscriber', async () => {
    const { endpoint } = await start({ limits: { idleTimeoutMs: 200 } });
    const idle = await connect(endpoint);
    idle.socket.write('PING\r\n');
    expect(await idle.until((d) => d === '+PONG\r\n')).toBe('+PONG\r\n');
    const subscriber = await connect(endpoint);
    subscriber.socket.write('SUBSCRIBE +switch-master\r\n');
    await subscriber.until((d) => d.endsWith(':1\r\n'));
    expect(await idle.closed()).toBe(true);
    // Well past the idle timeout (the idle one is closed), the subscriber still gets its events.
    expect(await subscriber.closed(600)).toBe(false);
    endpoint.publish({ type: '+switch-master', payload: 'mymaster 127.0.0.1 7000 127.0.0.1 7001' }, 1);
    expect(await subscriber.until((d) => d.includes('127.0.0.1 7001'))).toContain('127.0.0.1 7001');
  });

  it('stops running the commands of a client that does not read its replies, and closes it as idle', async () => {
    const view = recordingView();
    const { endpoint } = await start({ view, limits: { idleTimeoutMs: 300 } });
    const c = await connect(endpoint);
    c.socket.pause();
    // About 40 MB of replies if every command ran: far more than the socket buffers hold.
    c.socket.write('SENTINEL MASTERS\r\n'.repeat(200_000));
    // The server side closes it (seen from another connection: it is no longer counted)…
    const watcher = client(endpoint);
    await expect
      .poll(async () => (await watcher.info('clients')).match(/connected_clients:(\d+)/)?.[1], {
        timeout: CLOSE_WAIT_MS,
      })
      .toBe('1');
    // …having run only what the socket buffers could take, not every command it was sent.
    expect(view.calls.filter((call) => call.method === 'masters').length).toBeLessThan(200_000);
    c.socket.resume();
    expect(await c.closed()).toBe(true);
  });

  it('closes a connection whose command does not arrive whole in time (partial frame)', async () => {
    const { endpoint } = await start({ limits: { frameTimeoutMs: 200, idleTimeoutMs: 0 } });
    const partial = await connect(endpoint);
    partial.socket.write('*3\r\n$8\r\nSENTINEL\r\n$7\r\nmast');
    const complete = await connect(endpoint);
    complete.socket.write('PING\r\n');
    await complete.until((d) => d === '+PONG\r\n');
    expect(await partial.closed()).toBe(true);
    expect(partial.data()).toBe('');
    // With no timeouts at all a connection lives on; a complete command never trips the frame timeout.
    expect(await complete.closed(600)).toBe(false);
  });

  it('refuses connections beyond maxclients with Redis reply, and takes new ones when one leaves', async () => {
    const { endpoint } = await start({ limits: { maxClients: 3 } });
    const first = await connect(endpoint);
    const others = [await connect(endpoint), await connect(endpoint)];
    for (const c of [first, ...others]) {
      c.socket.write('PING\r\n');
      await c.until((d) => d === '+PONG\r\n');
    }
    const extra = await connect(endpoint);
    expect(await extra.closed()).toBe(true);
    expect(extra.data()).toBe('-ERR max number of clients reached\r\n');
    first.socket.destroy();
    await first.closed();
    // The server sees the close a moment later: retry until a slot is free.
    await expect
      .poll(
        async () => {
          const again = await connect(endpoint);
          again.socket.write('PING\r\n');
          return again.until((d) => d.includes('\r\n'));
        },
        { timeout: CLOSE_WAIT_MS },
      )
      .toBe('+PONG\r\n');
  });

  it('cuts off a command larger than the query buffer limit as soon as its header says so', async () => {
    const { endpoint } = await start({ limits: { queryBufferLimitBytes: 64 * 1024 } });
    const big = await connect(endpoint);
    // 400 KB announced (under the old 512 KB bulk limit), 100 KB sent, the rest never.
    big.socket.write(`*3\r\n$4\r\nECHO\r\n$1\r\nx\r\n$${400 * 1024}\r\n${'a'.repeat(100 * 1024)}`);
    expect(await big.closed()).toBe(true);
    expect(big.data()).toBe('-ERR Protocol error: invalid bulk length\r\n');
    // Under the limit is fine.
    const ok = await connect(endpoint);
    ok.socket.write(`*2\r\n$4\r\nPING\r\n$${32 * 1024}\r\n${'b'.repeat(32 * 1024)}\r\n`);
    expect((await ok.until((d) => d.endsWith('b\r\n'))).length).toBe(32 * 1024 + 10);
  });

  it('holds nothing big for a hundred connections with large partial commands (they are all cut off)', async () => {
    const { endpoint } = await start();
    const conns = await Promise.all(Array.from({ length: 100 }, () => connect(endpoint)));
    for (const c of conns) c.socket.write(`*2\r\n$4\r\nECHO\r\n$${512 * 1024}\r\n${'x'.repeat(256 * 1024)}`);
    const closed = await Promise.all(conns.map((c) => c.closed()));
    expect(closed.filter(Boolean)).toHaveLength(100);
    expect(await client(endpoint).ping()).toBe('PONG');
  });

  it('before authentication only small commands (Redis: 10 arguments, 16 KB bulks); after AUTH the usual ones', async () => {
    const { endpoint } = await start({ users: 'requirepass s3cret' });
    const bigBulk = await connect(endpoint);
    bigBulk.socket.write(`*2\r\n$4\r\nAUTH\r\n$20000\r\n${'p'.repeat(20_000)}\r\n`);
    expect(await bigBulk.closed()).toBe(true);
    expect(bigBulk.data()).toBe('-ERR Protocol error: unauthenticated bulk length\r\n');
    const manyArgs = await connect(endpoint);
    manyArgs.socket.write('*11\r\n');
    expect(await manyArgs.closed()).toBe(true);
    expect(manyArgs.data()).toBe('-ERR Protocol error: unauthenticated multibulk length\r\n');
    // AUTH and a larger command in the same write: the larger one is read after AUTH ran, as in Redis.
    const piped = await connect(endpoint);
    const patterns = Array.from({ length: 12 }, (_, i) => `p${i}`);
    const psubscribe = `*13\r\n$10\r\nPSUBSCRIBE\r\n${patterns.map((p) => `$${p.length}\r\n${p}\r\n`).join('')}`;
    piped.socket.write(`AUTH s3cret\r\n${psubscribe}`);
    const data = await piped.until((d) => d.includes(':12\r\n'));
    expect(data.startsWith('+OK\r\n*3\r\n$10\r\npsubscribe\r\n$2\r\np0\r\n:1\r\n')).toBe(true);
    expect(data).toContain(':12\r\n');
  });

  it('real clients authenticate: ioredis with a user, redis-cli style AUTH pw', async () => {
    const { endpoint } = await start({ users: USERS });
    const withDefault = client(endpoint, { password: 's3cret' });
    expect(await withDefault.call('SENTINEL', 'get-master-addr-by-name', 'mymaster')).toEqual([
      '127.0.0.1',
      '7000',
    ]);
    const wrong = client(endpoint, { password: 'nope', retryStrategy: () => null });
    const errors: string[] = [];
    wrong.on('error', (e: Error) => errors.push(e.message));
    await wrong.connect().catch(() => {});
    await expect.poll(() => errors.join('\n')).toMatch(/WRONGPASS invalid username-password pair/);
    const noPassword = client(endpoint);
    await expect(noPassword.call('SENTINEL', 'masters')).rejects.toThrow(/^NOAUTH /);
  });
});

describe('users given to the endpoint', () => {
  it('a hashed password (#<sha256>) works as the password it hashes; the hash itself does not', async () => {
    const hash = createHash('sha256').update('hashed-pw').digest('hex');
    const { endpoint } = await start({ users: `user ops on #${hash} &* +@all` });
    const data = await exchange(endpoint, `AUTH ops ${hash}\r\nAUTH ops hashed-pw\r\nACL WHOAMI\r\n`, (d) =>
      d.includes('ops'),
    );
    expect(data).toBe(
      '-WRONGPASS invalid username-password pair or user is disabled.\r\n+OK\r\n$3\r\nops\r\n',
    );
  });
});
