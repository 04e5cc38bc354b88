import net from 'node:net';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultUserWithPassword } from '../../../lib/accessControl.js';
import { MemoryStore } from '../../../lib/adapters/memory/store.js';
import { storeSentinelView } from '../../../lib/commands/storeView.js';
import { runIdOf, type SentinelView } from '../../../lib/commands/view.js';
import { INITIAL_MEMORY } from '../../../lib/core/decide.js';
import { globMatch } from '../../../lib/core/glob.js';
import { newObservation } from '../../../lib/core/observation.js';
import type { SentinelConfig } from '../../../lib/core/types.js';
import { type SentinelEndpoint, startSentinelEndpoint } from '../../../lib/resp/server.js';
import { globalSettings, masterSettings } from '../../support/settings.js';

const config: SentinelConfig = {
  global: globalSettings({ sentinelIds: ['sentinel-a', 'sentinel-b', 'sentinel-c'] }),
  masters: [masterSettings({ name: 'mymaster', host: '127.0.0.1', port: 7000 })],
};

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

async function start(extra: { view?: SentinelView; password?: string; store?: MemoryStore } = {}) {
  const store = extra.store ?? new MemoryStore();
  await store.ensureMaster({ name: 'mymaster', host: '127.0.0.1', port: 7000, now: Date.now() });
  const view = extra.view ?? storeSentinelView(store, config, { failoverWaitMs: 200 });
  const users = extra.password === undefined ? undefined : [defaultUserWithPassword(extra.password)];
  const endpoint = await startSentinelEndpoint({ port: 0, view, users });
  open.push(endpoint);
  return { endpoint, store };
}

function client(endpoint: SentinelEndpoint, options: Record<string, unknown> = {}): Redis {
  const c = new Redis({ ...endpoint.address, lazyConnect: true, maxRetriesPerRequest: 0, ...options });
  open.push({ close: () => c.disconnect() });
  return c;
}

/** A raw connection: write bytes, read until `until` matches what came back (or the socket closes). */
async function raw(
  endpoint: SentinelEndpoint,
  bytes: string | Buffer,
  until: (s: string) => boolean,
  timeoutMs = 2000,
) {
  const socket = net.connect(endpoint.address.port, endpoint.address.host);
  open.push({ close: () => socket.destroy() });
  let data = '';
  let closed = false;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    const check = () => {
      if (until(data) || closed) {
        clearTimeout(timer);
        resolve();
      }
    };
    socket.on('data', (d) => {
      data += d.toString('latin1');
      check();
    });
    socket.on('close', () => {
      closed = true;
      check();
    });
    socket.on('error', () => {});
    socket.write(bytes);
  });
  return { data, closed, socket };
}

describe('Sentinel endpoint (unit, memory store)', () => {
  it('answers PING, ROLE, MYID and get-master-addr-by-name (null array for an unknown master)', async () => {
    const { endpoint } = await start();
    const r = await raw(
      endpoint,
      '*1\r\n$4\r\nPING\r\n*3\r\n$8\r\nSENTINEL\r\n$23\r\nget-master-addr-by-name\r\n$8\r\nmymaster\r\n*3\r\n$8\r\nSENTINEL\r\n$23\r\nget-master-addr-by-name\r\n$4\r\nnope\r\nROLE\r\nSENTINEL MYID\r\n',
      (s) => s.includes(runIdOf('sentinel-a')),
    );
    expect(r.data).toBe(
      `+PONG\r\n*2\r\n$9\r\n127.0.0.1\r\n$4\r\n7000\r\n*-1\r\n*2\r\n$8\r\nsentinel\r\n*1\r\n$8\r\nmymaster\r\n$40\r\n${runIdOf('sentinel-a')}\r\n`,
    );
  });

  it('speaks RESP3 after HELLO 3: maps and _ nulls; NOPROTO for other versions', async () => {
    const { endpoint } = await start();
    const r = await raw(
      endpoint,
      'HELLO 4\r\nHELLO 3 SETNAME me\r\nSENTINEL get-master-addr-by-name nope\r\nCLIENT GETNAME\r\nSENTINEL MASTER mymaster\r\n',
      (s) => s.includes('parallel-syncs'),
    );
    expect(
      r.data.startsWith('-NOPROTO unsupported protocol version\r\n%6\r\n$6\r\nserver\r\n$5\r\nredis\r\n'),
    ).toBe(true);
    expect(r.data).toContain('$5\r\nproto\r\n:3\r\n');
    expect(r.data).toContain('\r\n_\r\n$2\r\nme\r\n%');
  });

  it('SENTINEL MASTER has Sentinel fields in order; errors are Redis-style', async () => {
    const { endpoint } = await start();
    const c = client(endpoint);
    const master = (await c.call('SENTINEL', 'MASTER', 'mymaster')) as string[];
    const keys = master.filter((_, i) => i % 2 === 0);
    expect(keys).toEqual([
      'name',
      'ip',
      'port',
      'runid',
      'flags',
      'link-pending-commands',
      'link-refcount',
      'last-ping-sent',
      'last-ok-ping-reply',
      'last-ping-reply',
      'down-after-milliseconds',
      'info-refresh',
      'role-reported',
      'role-reported-time',
      'config-epoch',
      'num-slaves',
      'num-other-sentinels',
      'quorum',
      'failover-timeout',
      'parallel-syncs',
    ]);
    expect(master[master.indexOf('flags') + 1]).toBe('master');
    await expect(c.call('SENTINEL', 'MASTER', 'nope')).rejects.toThrow('ERR No such master with that name');
    await expect(c.call('SENTINEL', 'MASTER')).rejects.toThrow(
      "ERR wrong number of arguments for 'sentinel|master' command",
    );
    await expect(c.call('SENTINEL', 'frob')).rejects.toThrow(
      "ERR unknown subcommand 'frob'. Try SENTINEL HELP.",
    );
    // SENTINEL DEBUG is answered now, as redis-server --sentinel 7.0.15 answers it: its timings.
    expect(((await c.call('SENTINEL', 'DEBUG')) as string[]).slice(0, 2)).toEqual(['INFO-PERIOD', '10000']);
    await expect(c.call('SENTINEL', 'DEBUG', 'nope', '1')).rejects.toThrow(
      "ERR Unknown option or number of arguments for SENTINEL DEBUG 'nope'",
    );
    await expect(c.call('GET', 'k')).rejects.toThrow(
      "ERR unknown command 'GET', with args beginning with: 'k' ",
    );
    await expect(c.call('SENTINEL', 'CKQUORUM', 'mymaster')).rejects.toThrow(
      'NOQUORUM 1 usable Sentinels. Not enough available Sentinels to reach the specified quorum for this master. Not enough available Sentinels to reach the majority and authorize a failover',
    );
  });

  it('MONITOR, SET, REMOVE and RESET change the store and answer like Sentinel', async () => {
    const { endpoint, store } = await start();
    const c = client(endpoint);
    expect(await c.call('SENTINEL', 'MONITOR', 'other', '127.0.0.1', '7100', '2')).toBe('OK');
    expect(await store.getMaster('other')).toMatchObject({ host: '127.0.0.1', port: 7100, monitored: true });
    await expect(c.call('SENTINEL', 'MONITOR', 'other', '127.0.0.1', '7100', '2')).rejects.toThrow(
      'ERR Duplicate master name.',
    );
    await expect(c.call('SENTINEL', 'MONITOR', 'x', '127.0.0.1', '7100', 'two')).rejects.toThrow(
      'ERR Invalid quorum',
    );
    await expect(c.call('SENTINEL', 'MONITOR', 'x', '127.0.0.1', '7100', '0')).rejects.toThrow(
      'ERR Quorum must be 1 or greater.',
    );
    await expect(c.call('SENTINEL', 'MONITOR', 'x', 'not an ip', '7100', '1')).rejects.toThrow(
      'ERR Invalid IP address or hostname specified',
    );
    const masterNames = async () =>
      ((await c.call('SENTINEL', 'MASTERS')) as string[][]).map((m) => m[m.indexOf('name') + 1]);
    expect(await masterNames()).toEqual(['mymaster', 'other']);

    expect(
      await c.call(
        'SENTINEL',
        'SET',
        'other',
        'down-after-milliseconds',
        '4000',
        'rename-command',
        'PING',
        'P1',
      ),
    ).toBe('OK');
    const fields = (await c.call('SENTINEL', 'MASTER', 'other')) as string[];
    expect(fields[fields.indexOf('down-after-milliseconds') + 1]).toBe('4000');
    expect(fields[fields.indexOf('quorum') + 1]).toBe('2');
    // All-or-nothing: the bad pair after a good one changes nothing.
    await expect(
      c.call('SENTINEL', 'SET', 'other', 'quorum', '1', 'down-after-milliseconds', '-20'),
    ).rejects.toThrow("ERR Invalid argument '-20' for SENTINEL SET 'down-after-milliseconds'");
    await expect(c.call('SENTINEL', 'SET', 'other', 'fakeoption', 'fakevalue')).rejects.toThrow(
      "ERR Unknown option or number of arguments for SENTINEL SET 'fakeoption'",
    );
    await expect(c.call('SENTINEL', 'SET', 'other', 'fakeoption')).rejects.toThrow(
      "ERR wrong number of arguments for 'sentinel|set' command",
    );
    await expect(c.call('SENTINEL', 'SET', 'other', 'auth-pass', 'secret')).rejects.toThrow('SSM');
    expect((await store.getMaster('other'))?.settings).toEqual({
      quorum: 2,
      downAfterMs: 4000,
      renamedCommands: { ping: 'P1' },
    });
    await expect(c.call('SENTINEL', 'SET', 'nope', 'quorum', '1')).rejects.toThrow(
      'ERR No such master with that name',
    );

    await store.upsertReplica({
      master: 'other',
      host: '127.0.0.1',
      port: 7101,
      runId: null,
      lastSeenAt: Date.now(),
      seenBy: 'sentinel-a',
    });
    expect(await c.call('SENTINEL', 'RESET', 'oth*')).toBe(1);
    expect(await c.call('SENTINEL', 'REPLICAS', 'other')).toEqual([]);
    expect(await c.call('SENTINEL', 'RESET', 'nomatch?')).toBe(0);

    expect(await c.call('SENTINEL', 'REMOVE', 'other')).toBe('OK');
    expect(await masterNames()).toEqual(['mymaster']);
    expect(await c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'other')).toBeNull();
    await expect(c.call('SENTINEL', 'REMOVE', 'other')).rejects.toThrow('ERR No such master with that name');
  });

  it('CKQUORUM counts sentinels with a fresh heartbeat; SENTINELS flags stale ones', async () => {
    const store = new MemoryStore();
    const now = Date.now();
    await store.acquireLease('sentinel-b', { invocationId: 'i', now, ttlMs: 10_000 });
    const { endpoint } = await start({ store });
    const c = client(endpoint);
    const sentinels = (await c.call('SENTINEL', 'SENTINELS', 'mymaster')) as string[][];
    expect(sentinels.map((s) => s[s.indexOf('flags') + 1])).toEqual([
      'sentinel',
      's_down,sentinel,disconnected',
    ]);
    expect(sentinels[0]?.[1]).toBe(runIdOf('sentinel-b'));
    expect(sentinels[0]?.slice(2, 6)).toEqual(['ip', '127.0.0.1', 'port', String(endpoint.address.port)]);
    await expect(c.call('SENTINEL', 'CKQUORUM', 'mymaster')).resolves.toBe(
      'OK 2 usable Sentinels. Quorum and failover authorization can be reached',
    );
  });

  it('flags o_down from fresh down-votes at quorum and failover_in_progress; INFO shows the status', async () => {
    const store = new MemoryStore();
    const now = Date.now();
    await store.ensureMaster({ name: 'mymaster', host: '127.0.0.1', port: 7000, now });
    for (const id of ['sentinel-a', 'sentinel-b']) {
      await store.putVote({
        master: 'mymaster',
        sentinelId: id,
        down: true,
        observedAt: now,
        configEpoch: 0,
        token: 1,
        invocationId: 'x',
      });
    }
    const { endpoint } = await start({ store });
    const c = client(endpoint);
    const master = (await c.call('SENTINEL', 'MASTER', 'mymaster')) as string[];
    expect(master[master.indexOf('flags') + 1]).toBe('s_down,o_down,master');
    expect(master).toContain('s-down-time');
    expect(master).toContain('o-down-time');
    const info = await c.info('sentinel');
    expect(info).toContain('master0:name=mymaster,status=odown,address=127.0.0.1:7000,slaves=0,sentinels=3');
    expect(await c.call('SENTINEL', 'FAILOVER', 'mymaster')).toBe('OK');
    expect((await store.getMaster('mymaster'))?.failoverRequestedAt).not.toBeNull();
    await expect(c.call('SENTINEL', 'FAILOVER', 'nope')).rejects.toThrow('ERR No such master with that name');
  });

  it('failover_in_progress and failover-state while a failover runs; FAILOVER replies map to Sentinel errors', async () => {
    const store = new MemoryStore();
    await store.ensureMaster({ name: 'mymaster', host: '127.0.0.1', port: 7000, now: Date.now() });
    const running = new Proxy(store, {
      get(target, prop) {
        if (prop === 'getMaster') {
          return async (name: string) => {
            const record = await target.getMaster(name);
            return record && { ...record, failoverState: 'wait_promotion' as const };
          };
        }
        if (prop === 'getMasterVotesReplicas') {
          return async (name: string) => {
            const read = await target.getMasterVotesReplicas(name);
            const { record } = read;
            return { ...read, record: record && { ...record, failoverState: 'wait_promotion' as const } };
          };
        }
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const base = storeSentinelView(running, config);
    let answer: Awaited<ReturnType<SentinelView['failover']>> = 'INPROG';
    const { endpoint } = await start({ view: { ...base, failover: async () => answer } });
    const c = client(endpoint);
    const master = (await c.call('SENTINEL', 'MASTER', 'mymaster')) as string[];
    expect(master[master.indexOf('flags') + 1]).toBe('master,failover_in_progress');
    expect(master.slice(14, 16)).toEqual(['failover-state', 'wait_promotion']);
    await expect(c.call('SENTINEL', 'FAILOVER', 'mymaster')).rejects.toThrow(
      'INPROG Failover already in progress',
    );
    answer = 'NOGOODSLAVE';
    await expect(c.call('SENTINEL', 'FAILOVER', 'mymaster')).rejects.toThrow(
      'NOGOODSLAVE No suitable replica to promote',
    );
  });

  it('replicas exclude the current master; SLAVES is an alias', async () => {
    const store = new MemoryStore();
    const now = Date.now();
    for (const port of [7000, 7001, 7002]) {
      await store.upsertReplica({
        master: 'mymaster',
        host: '127.0.0.1',
        port,
        runId: null,
        lastSeenAt: now,
        seenBy: 'sentinel-a',
      });
    }
    const { endpoint } = await start({ store });
    const c = client(endpoint);
    const replicas = (await c.call('SENTINEL', 'REPLICAS', 'mymaster')) as string[][];
    expect(replicas.map((r) => r[1])).toEqual(['127.0.0.1:7001', '127.0.0.1:7002']);
    expect(replicas[0]?.filter((_, i) => i % 2 === 0).slice(-7)).toEqual([
      'master-link-down-time',
      'master-link-status',
      'master-host',
      'master-port',
      'slave-priority',
      'slave-repl-offset',
      'replica-announced',
    ]);
    expect(await c.call('SENTINEL', 'SLAVES', 'mymaster')).toEqual(
      replicas.map((r) => r.map((v, i) => (i % 2 === 1 && v.match(/^\d+$/) ? expect.any(String) : v))),
    );
  });

  it('AUTH: NOAUTH before, WRONGPASS for a bad password, HELLO AUTH works', async () => {
    const { endpoint } = await start({ password: 's3cret' });
    const r = await raw(endpoint, 'PING\r\nAUTH nope\r\nAUTH s3cret\r\nPING\r\n', (s) =>
      s.endsWith('+PONG\r\n'),
    );
    expect(r.data).toBe(
      '-NOAUTH Authentication required.\r\n-WRONGPASS invalid username-password pair or user is disabled.\r\n+OK\r\n+PONG\r\n',
    );
    const c = client(endpoint, { password: 's3cret' });
    expect(await c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster')).toEqual(['127.0.0.1', '7000']);
  });

  it('without a password, AUTH <pw> gets the Redis error and HELLO AUTH is accepted', async () => {
    const { endpoint } = await start();
    const r = await raw(
      endpoint,
      'AUTH x\r\nHELLO 2 AUTH default x\r\nCLIENT SETINFO LIB-NAME x\r\nCLIENT ID\r\n',
      (s) => s.endsWith(':1\r\n') || s.includes(':2\r\n+OK'),
    );
    expect(r.data).toMatch(/^-ERR AUTH <password> called without any password configured/);
    expect(r.data).toContain('+OK\r\n:');
  });

  it('pub/sub: RESP2 message/pmessage arrays, RESP3 pushes, and identical events deduplicated', async () => {
    const { endpoint } = await start();
    const sub2 = client(endpoint, { protocol: 2 });
    const sub3 = client(endpoint);
    const got2: string[] = [];
    const got3: string[] = [];
    sub2.on('message', (ch, msg) => got2.push(`${ch}|${msg}`));
    sub2.on('pmessage', (p, ch, msg) => got2.push(`${p}|${ch}|${msg}`));
    sub3.on('message', (ch, msg) => got3.push(`${ch}|${msg}`));
    await sub2.subscribe('+switch-master');
    await sub2.psubscribe('+switch-*');
    await sub3.subscribe('+switch-master');
    const event = { type: '+switch-master', payload: 'mymaster 127.0.0.1 7000 127.0.0.1 7001' };
    expect(endpoint.publish(event, 1)).toBe(3);
    expect(endpoint.publish(event, 1)).toBe(0);
    expect(endpoint.publish(event, 1)).toBe(0);
    expect(endpoint.publish({ type: '+sdown', payload: 'x' }, 1)).toBe(0);
    expect(endpoint.publish(event, 2)).toBe(3);
    await new Promise((r) => setTimeout(r, 200));
    expect(got2).toEqual([
      '+switch-master|mymaster 127.0.0.1 7000 127.0.0.1 7001',
      '+switch-*|+switch-master|mymaster 127.0.0.1 7000 127.0.0.1 7001',
      '+switch-master|mymaster 127.0.0.1 7000 127.0.0.1 7001',
      '+switch-*|+switch-master|mymaster 127.0.0.1 7000 127.0.0.1 7001',
    ]);
    expect(got3).toEqual([
      '+switch-master|mymaster 127.0.0.1 7000 127.0.0.1 7001',
      '+switch-master|mymaster 127.0.0.1 7000 127.0.0.1 7001',
    ]);
    // RESP3 push frames on the wire.
    const r = await raw(endpoint, 'HELLO 3\r\nSUBSCRIBE +odown\r\n', (s) =>
      s.includes('>3\r\n$9\r\nsubscribe'),
    );
    expect(r.data).toContain('>3\r\n$9\r\nsubscribe\r\n$6\r\n+odown\r\n:1\r\n');
    endpoint.publish({ type: '+odown', payload: 'master mymaster 127.0.0.1 7000 #quorum 2/2' }, 1);
    const more = await new Promise<string>((resolve) => r.socket.once('data', (d) => resolve(d.toString())));
    expect(more).toBe(
      '>3\r\n$7\r\nmessage\r\n$6\r\n+odown\r\n$42\r\nmaster mymaster 127.0.0.1 7000 #quorum 2/2\r\n',
    );
  });

  it('the dedup window expires', async () => {
    const store = new MemoryStore();
    const endpoint = await startSentinelEndpoint({
      port: 0,
      view: storeSentinelView(store, config),
      dedupWindowMs: 50,
    });
    open.push(endpoint);
    const sub = client(endpoint);
    await sub.subscribe('+sdown');
    expect(endpoint.publish({ type: '+sdown', payload: 'p' })).toBe(1);
    expect(endpoint.publish({ type: '+sdown', payload: 'p' })).toBe(0);
    await new Promise((r) => setTimeout(r, 80));
    expect(endpoint.publish({ type: '+sdown', payload: 'p' })).toBe(1);
  });

  it('RESP2 subscribed mode allows only pub/sub commands and PING', async () => {
    const { endpoint } = await start();
    const r = await raw(endpoint, 'SUBSCRIBE a\r\nPING\r\nROLE\r\nUNSUBSCRIBE\r\nPING\r\n', (s) =>
      s.endsWith('+PONG\r\n'),
    );
    expect(r.data).toBe(
      "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*2\r\n$4\r\npong\r\n$0\r\n\r\n-ERR Can't execute 'role': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:0\r\n+PONG\r\n",
    );
  });

  it('a malformed frame closes that connection only, after its earlier pipelined replies', async () => {
    const { endpoint } = await start();
    const good = client(endpoint);
    await good.connect();
    const r = await raw(endpoint, 'PING\r\n*1\r\n$x\r\n', () => false);
    expect(r.closed).toBe(true);
    expect(r.data).toBe('+PONG\r\n-ERR Protocol error: invalid bulk length\r\n');
    expect(await good.ping()).toBe('PONG');
  });

  it('pipelining: thousands of commands in one write are answered in order', async () => {
    const { endpoint } = await start();
    const n = 3000;
    const wire = Array.from(
      { length: n },
      (_, i) => `*2\r\n$4\r\nPING\r\n$${String(i).length}\r\n${i}\r\n`,
    ).join('');
    const expected = Array.from({ length: n }, (_, i) => `$${String(i).length}\r\n${i}\r\n`).join('');
    const r = await raw(endpoint, wire, (s) => s.length >= expected.length, 10_000);
    expect(r.data).toBe(expected);
  });

  it("uses in-process runners' observations and memory for the timing fields and flags", async () => {
    const store = new MemoryStore();
    const now = Date.now();
    await store.ensureMaster({ name: 'mymaster', host: '127.0.0.1', port: 7000, now });
    await store.upsertReplica({
      master: 'mymaster',
      host: '127.0.0.1',
      port: 7001,
      runId: null,
      lastSeenAt: now,
      seenBy: 'sentinel-a',
    });
    const master = {
      ...newObservation({ host: '127.0.0.1', port: 7000 }, 'master', now - 60_000),
      linkConnected: true,
      runId: 'f'.repeat(40),
      lastValidReplyAt: now - 300,
      lastReplyAt: now - 300,
      oldestUnansweredPingAt: now - 200,
      infoAt: now - 4_000,
      reportedRole: 'master' as const,
      reportedRoleSince: now - 50_000,
    };
    const replica = {
      ...newObservation({ host: '127.0.0.1', port: 7001 }, 'replica', now - 60_000),
      linkConnected: false,
      runId: 'e'.repeat(40),
      reportedRole: 'replica' as const,
    };
    const runner = {
      sentinelId: 'sentinel-a',
      memories: () => ({
        mymaster: {
          ...INITIAL_MEMORY,
          sdownSince: now - 1_500,
          replicaSdownSince: { '127.0.0.1:7001': now - 2_000 },
        },
      }),
      snapshots: () => ({ mymaster: { master, replicas: [replica] } }),
    };
    const view = storeSentinelView(store, config, { runners: [runner] });
    const fields = Object.fromEntries((await view.master('mymaster')) ?? []);
    expect(fields.runid).toBe('f'.repeat(40));
    expect(fields.flags).toBe('s_down,master');
    expect(Number(fields['last-ping-sent'])).toBeGreaterThanOrEqual(200);
    expect(Number(fields['last-ok-ping-reply'])).toBeGreaterThanOrEqual(300);
    expect(Number(fields['info-refresh'])).toBeGreaterThanOrEqual(4_000);
    expect(Number(fields['role-reported-time'])).toBeGreaterThanOrEqual(50_000);
    expect(Number(fields['s-down-time'])).toBeGreaterThanOrEqual(1_500);
    const [r] = (await view.replicas('mymaster')) ?? [];
    const rf = Object.fromEntries(r ?? []);
    expect(rf.flags).toBe('s_down,slave,disconnected');
    expect(rf.runid).toBe('e'.repeat(40));
    expect(rf['role-reported']).toBe('slave');
  });

  it('announces the address the client connected to, or the configured one', async () => {
    const store = new MemoryStore();
    await store.ensureMaster({ name: 'mymaster', host: '127.0.0.1', port: 7000, now: Date.now() });
    const endpoint = await startSentinelEndpoint({
      port: 0,
      view: storeSentinelView(store, config),
      announce: { host: 'sentinel.example', port: 26379 },
    });
    open.push(endpoint);
    const c = client(endpoint);
    const sentinels = (await c.call('SENTINEL', 'SENTINELS', 'mymaster')) as string[][];
    expect(sentinels.map((s) => s.slice(2, 6))).toEqual([
      ['ip', 'sentinel.example', 'port', '26379'],
      ['ip', 'sentinel.example', 'port', '26379'],
    ]);
  });

  it('a subscriber that does not read is dropped once its backlog is over the limit; others are not', async () => {
    const store = new MemoryStore();
    const endpoint = await startSentinelEndpoint({
      port: 0,
      view: storeSentinelView(store, config),
      maxSubscriberBacklogBytes: 64 * 1024,
    });
    open.push(endpoint);
    const r = await raw(endpoint, 'SUBSCRIBE +sdown\r\n', (d) => d.includes(':1\r\n'));
    r.socket.pause();
    const closed = new Promise<void>((resolve) => r.socket.once('close', () => resolve()));
    const payload = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 400; i++) endpoint.publish({ type: '+sdown', payload: `${i} ${payload}` });
    r.socket.resume();
    await closed;
    const c = client(endpoint);
    expect(await c.ping()).toBe('PONG');
  });

  it('glob patterns match like Redis', () => {
    expect(globMatch('*', '+switch-master')).toBe(true);
    expect(globMatch('+s?own', '+sdown')).toBe(true);
    expect(globMatch('[+\\-]odown', '-odown')).toBe(true);
    // As in Redis, '-' right before ']' makes a range up to ']' and the set runs on to the end.
    expect(globMatch('[+-]odown', '-odown')).toBe(false);
    expect(globMatch('[^+]odown', '+odown')).toBe(false);
    expect(globMatch('+switch-*', '+sdown')).toBe(false);
    expect(globMatch('a\\*', 'a*')).toBe(true);
  });

  it('fuzz: random frames never take the server down; another connection keeps getting PONG', async () => {
    const { endpoint } = await start();
    const watcher = client(endpoint);
    await watcher.connect();
    const piece = fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
      fc
        .constantFrom(
          '*',
          '$',
          '\r\n',
          '*3\r\n',
          '$5\r\n',
          'SENTINEL ',
          'HELLO 3\r\n',
          'SUBSCRIBE x\r\n',
          '"',
          '*-1\r\n',
          '$-1\r\n',
          'PING\r\n',
          'SENTINEL MASTER mymaster\r\n',
          'CLIENT SETNAME a\r\n',
        )
        .map((s) => Buffer.from(s)),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { maxLength: 12 }), async (pieces) => {
        const socket = net.connect(endpoint.address.port, endpoint.address.host);
        socket.on('error', () => {});
        socket.on('data', () => {});
        await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
        for (const p of pieces) socket.write(p);
        await new Promise((r) => setTimeout(r, 5));
        socket.destroy();
        expect(await watcher.ping()).toBe('PONG');
      }),
      { numRuns: 150 },
    );
  });
});
