/**
 * The Redis probe against real redis-server processes on loopback (started and killed by PID).
 *
 * Timing assertions are generous upper bounds (the machine is shared): the contract is "settles within
 * timeoutMs plus a small slack", checked here as ≤ 3 × timeoutMs; "fails fast" is checked as
 * < timeoutMs / 2. The measured times are printed at the end for the record.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedisProbe, PROBE_CLIENT_OPTIONS, PROBE_TIMING } from '../../lib/adapters/redis/probe.js';
import type { Address, InfoOutcome, PingOutcome } from '../../lib/core/types.js';
import type { RedisProbe, RedisProbeOptions } from '../../lib/ports.js';
import {
  allocatePorts,
  type RedisHandle,
  startRedis,
  startTopology,
  type Topology,
} from '../../lib/runtime/redisProcess.js';
import { startTcpProxy, type TcpProxy } from '../support/tcpProxy.js';

const TIMEOUT_MS = 300;
/** Settlement bound for anything that waits on a timeout (contract: timeoutMs + slack). */
const SETTLE_BOUND_MS = 3 * TIMEOUT_MS;
/** "Fails fast" bound for a dead server: well under the timeout. */
const FAST_BOUND_MS = TIMEOUT_MS / 2;
const REPEATS_WHILE_FROZEN = 5;

const probes: RedisProbe[] = [];
const servers: RedisHandle[] = [];
const proxies: TcpProxy[] = [];
const rawServers: Server[] = [];
const rawSockets = new Set<Socket>();
const measured: { case: string; result: string; ms: number }[] = [];

function probe(address: Address, options: Partial<RedisProbeOptions> = {}): RedisProbe {
  const p = createRedisProbe(address, { timeoutMs: TIMEOUT_MS, now: Date.now, ...options });
  probes.push(p);
  return p;
}

async function server(args: string[] = []): Promise<RedisHandle> {
  const [port] = (await allocatePorts(1)) as [number];
  const handle = await startRedis({ port, args });
  servers.push(handle);
  return handle;
}

function describeResult(outcome: PingOutcome | InfoOutcome): string {
  const { result } = outcome;
  switch (result.type) {
    case 'reply':
      return `reply ${result.kind}`;
    case 'info':
      return `info role=${result.info.role}`;
    case 'unreachable':
    case 'bad-reply':
      return `${result.type} (${result.reason})`;
    default:
      return result.type;
  }
}

/** Runs a probe call, records its wall time under `label`. */
async function timed<T extends PingOutcome | InfoOutcome>(
  label: string,
  call: () => Promise<T>,
): Promise<{ outcome: T; ms: number }> {
  const start = performance.now();
  const outcome = await call();
  const ms = performance.now() - start;
  measured.push({ case: label, result: describeResult(outcome), ms: Math.round(ms * 10) / 10 });
  return { outcome, ms };
}

/** A side connection for checking what the server sees (CLIENT LIST etc.). */
async function admin(address: Address, password?: string): Promise<Redis> {
  const client = new Redis({
    ...PROBE_CLIENT_OPTIONS,
    host: address.host,
    port: address.port,
    connectTimeout: 2_000,
    commandTimeout: 2_000,
    ...(password ? { password } : {}),
  });
  await client.connect();
  return client;
}

afterEach(async () => {
  await Promise.all(probes.splice(0).map((p) => p.close()));
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
  for (const socket of rawSockets) socket.destroy();
  rawSockets.clear();
  await Promise.all(rawServers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

afterAll(() => {
  console.table(measured);
});

describe('healthy topology', () => {
  let topology: Topology;
  beforeAll(async () => {
    topology = await startTopology({ replicas: 2 });
  });
  afterAll(async () => {
    await topology.stop();
  });

  it('PING → pong with sentAt ≤ completedAt', async () => {
    const p = probe(topology.master.address);
    const { outcome } = await timed('healthy ping (first call, connects)', () => p.ping());
    expect(outcome.result).toEqual({ type: 'reply', kind: 'pong', text: 'PONG' });
    expect(outcome.sentAt).toBeLessThanOrEqual(outcome.completedAt);
    const again = await timed('healthy ping (open connection)', () => p.ping());
    expect(again.outcome.result).toMatchObject({ type: 'reply', kind: 'pong' });
  });

  it('INFO on the master: role master, both replicas listed', async () => {
    const { outcome } = await timed('healthy info (master)', () => probe(topology.master.address).info());
    if (outcome.result.type !== 'info') throw new Error(`expected info, got ${describeResult(outcome)}`);
    const { info } = outcome.result;
    expect(info.role).toBe('master');
    expect(info.runId).toMatch(/^[0-9a-f]{40}$/);
    expect(info.redisVersion).toBe('7.0.15');
    expect(info.connectedReplicas.map((r) => r.port).sort()).toEqual(
      topology.replicas.map((r) => r.address.port).sort(),
    );
  });

  it('INFO on a replica: role replica, link up, master address', async () => {
    const replica = topology.replicas[0] as RedisHandle;
    const { outcome } = await timed('healthy info (replica)', () => probe(replica.address).info());
    if (outcome.result.type !== 'info') throw new Error(`expected info, got ${describeResult(outcome)}`);
    expect(outcome.result.info).toMatchObject({
      role: 'replica',
      masterLinkUp: true,
      masterHost: topology.master.address.host,
      masterPort: topology.master.address.port,
      replicaPriority: 100,
    });
  });

  it('PING and INFO share one connection, and CLIENT SETNAME names it', async () => {
    const p = probe(topology.master.address, { clientName: 'sentinel-0123abcd-cmd' });
    expect((await p.ping()).result).toMatchObject({ kind: 'pong' });
    expect((await p.info()).result.type).toBe('info');
    const side = await admin(topology.master.address);
    try {
      const list = String(await side.call('CLIENT', 'LIST'));
      expect(list.match(/name=sentinel-0123abcd-cmd/g)).toHaveLength(1);
    } finally {
      side.disconnect();
    }
  });

  it('close() disconnects; calls after close are unreachable, not thrown', async () => {
    const p = createRedisProbe(topology.master.address, {
      timeoutMs: TIMEOUT_MS,
      now: Date.now,
      clientName: 'closing',
    });
    expect((await p.ping()).result).toMatchObject({ kind: 'pong' });
    await p.close();
    expect((await p.ping()).result).toEqual({ type: 'unreachable', reason: 'probe closed' });
    const side = await admin(topology.master.address);
    try {
      expect(String(await side.call('CLIENT', 'LIST'))).not.toContain('name=closing');
    } finally {
      side.disconnect();
    }
  });

  it('a reply that arrived during a stall of this process counts, although its timer fell due first', async () => {
    const p = probe(topology.master.address, { timeoutMs: 50 });
    expect((await p.ping()).result).toMatchObject({ kind: 'pong' });
    const pending = p.ping();
    // The server (another process) answers at once; this loop stays blocked well past the 50 ms timer, as
    // in a long GC pause or on a starved CPU. Once it runs again, both the timer and the reply are due.
    const until = Date.now() + 300;
    while (Date.now() < until) {
      // busy
    }
    expect((await pending).result).toMatchObject({ type: 'reply', kind: 'pong' });
  });
});

describe('server failures', () => {
  it('SIGKILL → the next PING is unreachable at once, on the open connection and on a new one', async () => {
    const redis = await server();
    const p = probe(redis.address);
    expect((await p.ping()).result).toMatchObject({ kind: 'pong' });
    await redis.kill();
    const { outcome, ms } = await timed('killed, open connection', () => p.ping());
    expect(outcome.result.type).toBe('unreachable');
    expect(ms).toBeLessThan(FAST_BOUND_MS);
    const fresh = await timed('killed, new connection', () => probe(redis.address).ping());
    expect(fresh.outcome.result).toMatchObject({
      type: 'unreachable',
      reason: expect.stringContaining('ECONNREFUSED'),
    });
    expect(fresh.ms).toBeLessThan(FAST_BOUND_MS);
    const info = await timed('killed, info', () => p.info());
    expect(info.outcome.result.type).toBe('unreachable');
    expect(info.ms).toBeLessThan(FAST_BOUND_MS);
  });

  it('reports a connection closed by the server (killed), but not one it closes itself', async () => {
    const redis = await server();
    let lost = 0;
    const p = probe(redis.address, { onConnectionLost: () => lost++ });
    expect((await p.ping()).result).toMatchObject({ kind: 'pong' });
    await redis.kill();
    await expect.poll(() => lost, { timeout: 2_000 }).toBe(1);

    const other = await server();
    let lostOther = 0;
    const q = probe(other.address, { onConnectionLost: () => lostOther++ });
    expect((await q.ping()).result).toMatchObject({ kind: 'pong' });
    await q.close();
    await new Promise((r) => setTimeout(r, 200));
    expect(lostOther).toBe(0);
  });

  it('SIGKILL then restart on the same port → pong again on the next call', async () => {
    const redis = await server();
    const p = probe(redis.address);
    expect((await p.ping()).result).toMatchObject({ kind: 'pong' });
    await redis.kill();
    expect((await p.ping()).result.type).toBe('unreachable');
    await redis.restart();
    expect((await p.ping()).result).toMatchObject({ kind: 'pong' });
  });

  it('SIGSTOP → timeout within the bound, repeated calls never hang or pile up; SIGCONT → pong', async () => {
    const redis = await server();
    const p = probe(redis.address);
    expect((await p.ping()).result).toMatchObject({ kind: 'pong' });
    await redis.pause();
    try {
      const first = await timed('SIGSTOP, open connection', () => p.ping());
      expect(first.outcome.result).toEqual({ type: 'timeout' });
      expect(first.ms).toBeLessThan(SETTLE_BOUND_MS);
      // sentAt is the write time, before the wait: the down timer counts from there.
      expect(first.outcome.completedAt - first.outcome.sentAt).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);

      for (let i = 0; i < REPEATS_WHILE_FROZEN; i++) {
        const again = await timed('SIGSTOP, next call (new socket)', () => p.ping());
        expect(again.outcome.result).toEqual({ type: 'timeout' });
        expect(again.ms).toBeLessThan(SETTLE_BOUND_MS);
      }
      // Overlapping calls while frozen: each settles on its own deadline.
      const start = performance.now();
      const overlapping = await Promise.all([p.ping(), p.info(), p.ping(), probe(redis.address).info()]);
      expect(performance.now() - start).toBeLessThan(SETTLE_BOUND_MS);
      for (const outcome of overlapping) expect(outcome.result).toEqual({ type: 'timeout' });
      const info = await timed('SIGSTOP, info', () => p.info());
      expect(info.outcome.result).toEqual({ type: 'timeout' });
    } finally {
      redis.resume();
    }
    const back = await timed('SIGCONT, next ping', () => p.ping());
    expect(back.outcome.result).toMatchObject({ type: 'reply', kind: 'pong' });
    // Every timed-out socket was dropped: once the server catches up, only our live one is left
    // (plus the admin connection used to look).
    const side = await admin(redis.address);
    try {
      await expect
        .poll(
          async () =>
            String(await side.call('CLIENT', 'LIST'))
              .trim()
              .split('\n').length,
          { timeout: 2_000 },
        )
        .toBe(2);
    } finally {
      side.disconnect();
    }
  });

  it('SIGSTOP with a handshake (AUTH) pending → timeout, sentAt at the handshake write', async () => {
    const redis = await server(['--requirepass', 'secret']);
    const p = probe(redis.address, { authPass: 'secret', clientName: 'sentinel-x-cmd' });
    await redis.pause();
    try {
      const { outcome, ms } = await timed('SIGSTOP, new connection with AUTH handshake', () => p.ping());
      expect(outcome.result).toEqual({ type: 'timeout' });
      expect(ms).toBeLessThan(SETTLE_BOUND_MS);
      expect(outcome.completedAt - outcome.sentAt).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    } finally {
      redis.resume();
    }
    expect((await p.ping()).result).toMatchObject({ kind: 'pong' });
  });
});

describe('authentication', () => {
  it('requirepass: no password → NOAUTH error reply; right password → pong; wrong → unreachable', async () => {
    const redis = await server(['--requirepass', 'secret']);
    const none = await timed('requirepass, no auth-pass', () => probe(redis.address).ping());
    expect(none.outcome.result).toMatchObject({
      type: 'reply',
      kind: 'error',
      text: expect.stringMatching(/^NOAUTH/),
    });
    const info = await probe(redis.address).info();
    expect(info.result).toMatchObject({ type: 'bad-reply', reason: expect.stringMatching(/^NOAUTH/) });

    expect((await probe(redis.address, { authPass: 'secret' }).ping()).result).toMatchObject({
      kind: 'pong',
    });

    const wrong = await timed('requirepass, wrong auth-pass', () =>
      probe(redis.address, { authPass: 'nope' }).ping(),
    );
    expect(wrong.outcome.result).toMatchObject({
      type: 'unreachable',
      reason: expect.stringMatching(/WRONGPASS/),
    });
  });

  it('ACL user: auth-user + auth-pass → pong; without credentials → NOAUTH', async () => {
    const redis = await server([
      '--user',
      'default',
      'off',
      '--user',
      'sentinel',
      'on',
      '>pw',
      '+@all',
      '~*',
    ]);
    const acl = probe(redis.address, { authUser: 'sentinel', authPass: 'pw' });
    expect((await acl.ping()).result).toMatchObject({ kind: 'pong' });
    expect((await acl.info()).result.type).toBe('info');
    expect((await probe(redis.address).ping()).result).toMatchObject({
      kind: 'error',
      text: expect.stringMatching(/^NOAUTH/),
    });
    expect(
      (await probe(redis.address, { authUser: 'sentinel', authPass: 'bad' }).ping()).result,
    ).toMatchObject({
      type: 'unreachable',
      reason: expect.stringMatching(/WRONGPASS/),
    });
  });
});

describe('rename-command', () => {
  it('PING and INFO renamed: the probe with the map gets pong/info, the one without an error reply', async () => {
    const redis = await server(['--rename-command', 'PING', 'MYPING', '--rename-command', 'INFO', 'MYINFO']);
    const renamed = probe(redis.address, { renamedCommands: { ping: 'MYPING', info: 'MYINFO' } });
    expect((await renamed.ping()).result).toMatchObject({ kind: 'pong' });
    expect((await renamed.info()).result.type).toBe('info');
    const plain = probe(redis.address);
    expect((await plain.ping()).result).toMatchObject({
      type: 'reply',
      kind: 'error',
      text: expect.stringMatching(/^ERR unknown command/),
    });
    expect((await plain.info()).result).toMatchObject({ type: 'bad-reply' });
    // An error reply is a reply: the connection stays usable.
    expect((await plain.ping()).result).toMatchObject({ kind: 'error' });
  });
});

describe('network partition (tcpProxy)', () => {
  it('cut → timeout; restore → pong', async () => {
    const redis = await server();
    const proxy = await startTcpProxy(redis.address);
    proxies.push(proxy);
    const p = probe(proxy.address);
    expect((await p.ping()).result).toMatchObject({ kind: 'pong' });
    proxy.cut();
    const cut = await timed('partitioned (proxy cut), open connection', () => p.ping());
    expect(cut.outcome.result).toEqual({ type: 'timeout' });
    expect(cut.ms).toBeLessThan(SETTLE_BOUND_MS);
    const again = await timed('partitioned (proxy cut), new connection', () => p.ping());
    expect(again.outcome.result).toEqual({ type: 'timeout' });
    expect((await p.info()).result).toEqual({ type: 'timeout' });
    proxy.restore();
    const back = await timed('partition healed, next ping', () => p.ping());
    expect(back.outcome.result).toMatchObject({ kind: 'pong' });
  });
});

describe('misbehaving peers', () => {
  async function rawServer(onConnection: (socket: Socket) => void): Promise<Address> {
    const srv = createServer((socket) => {
      rawSockets.add(socket);
      socket.on('error', () => {});
      onConnection(socket);
    });
    rawServers.push(srv);
    await new Promise<void>((resolve) => srv.listen({ port: 0, host: '127.0.0.1' }, resolve));
    const bound = srv.address();
    if (bound === null || typeof bound === 'string') throw new Error('no port');
    return { host: '127.0.0.1', port: bound.port };
  }

  it('a peer that answers garbage (HTTP) → unreachable, fast', async () => {
    const address = await rawServer((socket) => {
      socket.on('data', () => socket.write('HTTP/1.1 400 Bad Request\r\n\r\n'));
    });
    const { outcome, ms } = await timed('garbage reply (HTTP)', () => probe(address).ping());
    expect(outcome.result.type).toBe('unreachable');
    expect(ms).toBeLessThan(SETTLE_BOUND_MS);
  });

  it('a peer that accepts and never answers → timeout within the bound', async () => {
    // Reads (so it sees the probe's FIN when dropped) but never writes.
    const address = await rawServer((socket) => {
      socket.on('data', () => {});
    });
    const { outcome, ms } = await timed('silent peer', () => probe(address).ping());
    expect(outcome.result).toEqual({ type: 'timeout' });
    expect(ms).toBeLessThan(SETTLE_BOUND_MS);
  });

  it('INFO answered with something that is not INFO → bad-reply', async () => {
    const address = await rawServer((socket) => {
      socket.on('data', () => socket.write('$5\r\nhello\r\n'));
    });
    expect((await probe(address).info()).result).toMatchObject({ type: 'bad-reply' });
  });

  it('the outer deadline is timeoutMs + a small slack', () => {
    expect(PROBE_TIMING.outerDeadlineSlackMs).toBeLessThan(TIMEOUT_MS);
    expect(Object.isFrozen(PROBE_CLIENT_OPTIONS)).toBe(true);
  });
});

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

describe('TLS', () => {
  let dir: string;
  beforeAll(() => {
    if (!hasOpenssl) return;
    dir = mkdtempSync(join(tmpdir(), 'probe-tls-'));
    const run = (args: string[]) => {
      const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`openssl ${args[0]} failed: ${result.stderr}`);
    };
    // A throwaway CA and a server certificate for 127.0.0.1 (IP SAN, so hostname checks pass).
    run([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '1',
      '-subj',
      '/CN=probe-test-ca',
    ]);
    run([
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
      '-subj',
      '/CN=127.0.0.1',
    ]);
    writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
    run([
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.crt',
      '-days',
      '1',
      '-extfile',
      'ext.cnf',
    ]);
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!hasOpenssl)(
    'TLS probe with the CA → pong; without the CA → unreachable; missing file → unreachable',
    async (ctx) => {
      const [tlsPort] = (await allocatePorts(1)) as [number];
      let redis: RedisHandle;
      try {
        redis = await server([
          '--tls-port',
          String(tlsPort),
          '--tls-cert-file',
          join(dir, 'server.crt'),
          '--tls-key-file',
          join(dir, 'server.key'),
          '--tls-ca-cert-file',
          join(dir, 'ca.crt'),
          '--tls-auth-clients',
          'no',
        ]);
      } catch (error) {
        // Redis built without TLS refuses the tls-* options at startup.
        ctx.skip(`redis-server did not start with TLS: ${String(error).slice(0, 200)}`);
        return;
      }
      const tlsAddress = { host: redis.address.host, port: tlsPort };
      const trusted = probe(tlsAddress, {
        tls: { enabled: true, caCertFile: join(dir, 'ca.crt'), rejectUnauthorized: true },
      });
      const ok = await timed('TLS, trusted CA', () => trusted.ping());
      expect(ok.outcome.result).toMatchObject({ kind: 'pong' });
      expect((await trusted.info()).result.type).toBe('info');

      const untrusted = await timed('TLS, unknown CA', () =>
        probe(tlsAddress, { tls: { enabled: true, rejectUnauthorized: true } }).ping(),
      );
      expect(untrusted.outcome.result).toMatchObject({
        type: 'unreachable',
        reason: expect.stringMatching(/certificate/i),
      });

      const plain = await timed('plain TCP to the TLS port', () => probe(tlsAddress).ping());
      expect(['unreachable', 'timeout']).toContain(plain.outcome.result.type);
      expect(plain.ms).toBeLessThan(SETTLE_BOUND_MS);

      const missing = probe(tlsAddress, {
        tls: { enabled: true, caCertFile: join(dir, 'nope.crt'), rejectUnauthorized: true },
      });
      expect((await missing.ping()).result).toMatchObject({
        type: 'unreachable',
        reason: expect.stringMatching(/^TLS files unreadable/),
      });

      // Frozen TLS server: an open TLS connection times out like plain TCP; a new one cannot finish the
      // TLS handshake, so nothing was sent: unreachable (connect timeout), still within the bound.
      expect((await trusted.ping()).result).toMatchObject({ kind: 'pong' });
      await redis.pause();
      try {
        const open = await timed('TLS, SIGSTOP, open connection', () => trusted.ping());
        expect(open.outcome.result).toEqual({ type: 'timeout' });
        expect(open.ms).toBeLessThan(SETTLE_BOUND_MS);
        const fresh = await timed('TLS, SIGSTOP, new connection (handshake stalls)', () => trusted.ping());
        expect(fresh.outcome.result).toMatchObject({
          type: 'unreachable',
          reason: expect.stringMatching(/ETIMEDOUT/),
        });
        expect(fresh.ms).toBeLessThan(SETTLE_BOUND_MS);
      } finally {
        redis.resume();
      }
      expect((await trusted.ping()).result).toMatchObject({ kind: 'pong' });
    },
  );
});
