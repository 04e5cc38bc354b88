/**
 * The command surface beyond the lookups: SENTINEL CONFIG, DEBUG, INFO-CACHE, IS-MASTER-DOWN-BY-ADDR,
 * PENDING-SCRIPTS, FLUSHCONFIG, SIMULATE-FAILURE and HELP; COMMAND; CLIENT LIST|INFO|KILL; SHUTDOWN;
 * INFO's sections; and who may run each (the write commands need what SENTINEL SET needs). Over a
 * memory store; the replies are compared with a real redis-server --sentinel in
 * test/integration/sentinelCommands.test.ts.
 */
import net from 'node:net';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { applyUserRules, defaultUserWithPassword, passwordHash } from '../../../lib/accessControl.js';
import { MemoryStore } from '../../../lib/adapters/memory/store.js';
import {
  fixedProcessControls,
  localProcessControls,
  type ProcessControls,
  type SimulatedFailure,
} from '../../../lib/commands/processControls.js';
import { storeSentinelView } from '../../../lib/commands/storeView.js';
import { runIdOf } from '../../../lib/commands/view.js';
import { freshUser } from '../../../lib/core/acl.js';
import { newFailoverProgress } from '../../../lib/core/records.js';
import type { AclUserSpec, GlobalSettings, SentinelConfig } from '../../../lib/core/types.js';
import { type SentinelEndpoint, startSentinelEndpoint } from '../../../lib/resp/server.js';
import { globalSettings, masterSettings } from '../../support/settings.js';

const global: GlobalSettings = globalSettings({
  sentinelIds: ['sentinel-a', 'sentinel-b', 'sentinel-c'],
  announceIp: '10.9.8.7',
  sentinelUser: 'peer',
  sentinelPass: 'peer-secret-123',
});
const config: SentinelConfig = {
  global,
  masters: [masterSettings({ name: 'mymaster', host: '127.0.0.1', port: 7000 })],
};

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

interface Local {
  armed: SimulatedFailure[];
  shutdowns: number;
}

function localControls(): { controls: ProcessControls; local: Local } {
  const local: Local = { armed: [], shutdowns: 0 };
  const controls = localProcessControls(global, {
    onSimulateFailure: (failures) => {
      local.armed = [...failures];
    },
    armedFailures: () => local.armed,
    shutdown: () => {
      local.shutdowns++;
    },
  });
  return { controls, local };
}

async function start(extra: { controls?: ProcessControls; users?: AclUserSpec[]; store?: MemoryStore } = {}) {
  const store = extra.store ?? new MemoryStore();
  await store.ensureMaster({ name: 'mymaster', host: '127.0.0.1', port: 7000, now: Date.now() });
  const view = storeSentinelView(store, config, { failoverWaitMs: 200 });
  const endpoint = await startSentinelEndpoint({
    port: 0,
    view,
    users: extra.users,
    controls: extra.controls,
    limits: { maxClients: 77 },
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

/** The error text a command gets (`ERR …`), or the reply when it succeeds. */
async function attempt(c: Redis, ...args: string[]): Promise<unknown> {
  try {
    return await c.call(args[0] as string, ...args.slice(1));
  } catch (e) {
    return (e as Error).message;
  }
}

/** Sends raw bytes; returns what came back before the socket closed (or `waitMs` passed). */
async function rawUntilClosed(endpoint: SentinelEndpoint, bytes: string, waitMs = 2_000) {
  const socket = net.connect(endpoint.address.port, endpoint.address.host);
  open.push({ close: () => socket.destroy() });
  let data = '';
  const closed = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), waitMs);
    socket.on('data', (d) => {
      data += d.toString();
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.on('error', () => {});
    socket.write(bytes);
  });
  return { data, closed };
}

describe('SENTINEL CONFIG', () => {
  it('GET lists the parameters from the configuration in Sentinel order, matched as a glob; sentinel-pass is never shown', async () => {
    const { endpoint } = await start({ controls: fixedProcessControls(global) });
    const c = client(endpoint);
    expect(await c.call('SENTINEL', 'CONFIG', 'GET', '*')).toEqual([
      'resolve-hostnames',
      'no',
      'announce-hostnames',
      'no',
      'announce-ip',
      '10.9.8.7',
      'announce-port',
      '0',
      'sentinel-user',
      'peer',
      'sentinel-pass',
      '',
      'loglevel',
      'notice',
    ]);
    expect(await c.call('SENTINEL', 'CONFIG', 'GET', 'ANNOUNCE-*')).toEqual([
      'announce-hostnames',
      'no',
      'announce-ip',
      '10.9.8.7',
      'announce-port',
      '0',
    ]);
    expect(await c.call('SENTINEL', 'CONFIG', 'GET', 'nope')).toEqual([]);
    expect(JSON.stringify(await c.call('SENTINEL', 'CONFIG', 'GET', 'sentinel-pass'))).not.toContain(
      'peer-secret',
    );
  });

  it('answers Sentinel texts for a bad form, an unknown parameter, a bad value, a duplicate and a missing value', async () => {
    const { endpoint } = await start({ controls: localControls().controls });
    const c = client(endpoint);
    const usage = 'ERR Only SENTINEL CONFIG GET <option> / SET <option> <value> are supported.';
    expect(await attempt(c, 'SENTINEL', 'CONFIG', 'GET')).toBe(usage);
    // Redis 7.2 takes several patterns (sentinel.c, sentinelConfigGetCommand); none of these matches.
    expect(await c.call('SENTINEL', 'CONFIG', 'GET', 'a', 'b')).toEqual([]);
    expect(await c.call('SENTINEL', 'CONFIG', 'GET', 'loglevel', 'log*', 'nope')).toEqual([
      'loglevel',
      'notice',
    ]);
    expect(await attempt(c, 'SENTINEL', 'CONFIG', 'SET', 'announce-port')).toBe(usage);
    expect(await attempt(c, 'SENTINEL', 'CONFIG', 'FOO', 'x')).toBe(usage);
    expect(await attempt(c, 'SENTINEL', 'CONFIG', 'SET', 'nope', '1')).toBe(
      "ERR Invalid argument 'nope' to SENTINEL CONFIG SET",
    );
    for (const [param, value] of [
      ['announce-port', 'abc'],
      ['announce-port', '70000'],
      ['announce-port', '-1'],
      ['resolve-hostnames', 'maybe'],
      ['loglevel', 'loud'],
    ] as const) {
      expect(await attempt(c, 'SENTINEL', 'CONFIG', 'SET', param, value)).toBe(
        `ERR Invalid value '${value}' to SENTINEL CONFIG SET '${param}'`,
      );
    }
    expect(await attempt(c, 'SENTINEL', 'CONFIG', 'SET', 'announce-port', '1', 'ANNOUNCE-PORT', '2')).toBe(
      "ERR Duplicate argument 'ANNOUNCE-PORT' to SENTINEL CONFIG SET",
    );
    expect(await attempt(c, 'SENTINEL', 'CONFIG', 'SET', 'announce-port', '1', 'loglevel')).toBe(
      "ERR Missing argument 'loglevel' value",
    );
    // Nothing of a refused SET was applied.
    expect(await c.call('SENTINEL', 'CONFIG', 'GET', 'announce-port')).toEqual(['announce-port', '0']);
  });

  it('the local runner applies SET (several pairs at once); SENTINEL SENTINELS then announces the new address', async () => {
    const { endpoint } = await start({ controls: localControls().controls });
    const c = client(endpoint);
    expect(
      await c.call(
        'SENTINEL',
        'CONFIG',
        'SET',
        'announce-ip',
        '10.0.0.9',
        'announce-port',
        '26999',
        'resolve-hostnames',
        'YES',
        'loglevel',
        'warning',
        'sentinel-pass',
        'new-secret-456',
      ),
    ).toBe('OK');
    const all = (await c.call('SENTINEL', 'CONFIG', 'GET', '*')) as string[];
    expect(all).toEqual([
      'resolve-hostnames',
      'yes',
      'announce-hostnames',
      'no',
      'announce-ip',
      '10.0.0.9',
      'announce-port',
      '26999',
      'sentinel-user',
      'peer',
      'sentinel-pass',
      '',
      'loglevel',
      'warning',
    ]);
    expect(JSON.stringify(all)).not.toContain('new-secret');
    const sentinels = (await c.call('SENTINEL', 'SENTINELS', 'mymaster')) as string[][];
    const first = sentinels[0] as string[];
    expect(first[first.indexOf('ip') + 1]).toBe('10.0.0.9');
    expect(first[first.indexOf('port') + 1]).toBe('26999');
  });

  it("a deployment's endpoint refuses SET with why and what to do, never quoting a password", async () => {
    const { endpoint } = await start({ controls: fixedProcessControls(global) });
    const c = client(endpoint);
    expect(await attempt(c, 'SENTINEL', 'CONFIG', 'SET', 'announce-port', '26380')).toBe(
      "ERR SENTINEL CONFIG SET cannot change 'announce-port' here: the deployed sentinels read it from " +
        "sentinel.conf; set 'sentinel announce-port 26380' in the file and redeploy (sls deploy)",
    );
    const refused = (await attempt(
      c,
      'SENTINEL',
      'CONFIG',
      'SET',
      'sentinel-pass',
      'hunter2-secret',
    )) as string;
    expect(refused).toMatch(/^ERR SENTINEL CONFIG SET cannot change 'sentinel-pass'/);
    expect(refused).not.toContain('hunter2');
    expect(await c.call('SENTINEL', 'CONFIG', 'GET', 'announce-port')).toEqual(['announce-port', '0']);
  });
});

describe('SENTINEL DEBUG, INFO-CACHE, IS-MASTER-DOWN-BY-ADDR, PENDING-SCRIPTS, FLUSHCONFIG, SIMULATE-FAILURE', () => {
  it('DEBUG shows the timings; with arguments, Sentinel checks them, then says where to change them', async () => {
    const { endpoint } = await start({ controls: localControls().controls });
    const c = client(endpoint);
    expect(await c.call('SENTINEL', 'DEBUG')).toEqual([
      'INFO-PERIOD',
      '10000',
      'PING-PERIOD',
      '1000',
      'DEFAULT-DOWN-AFTER',
      '30000',
      'DEFAULT-FAILOVER-TIMEOUT',
      '180000',
      'TILT-TRIGGER',
      String(global.tiltTriggerMs),
      'TILT-PERIOD',
      String(global.tiltPeriodMs),
      'LOOP-LEASE',
      String(global.loopLeaseMs),
      'HEARTBEAT-PERIOD',
      String(global.heartbeatPeriodMs),
    ]);
    expect(await attempt(c, 'SENTINEL', 'DEBUG', 'info-period')).toBe(
      "ERR Unknown option or number of arguments for SENTINEL DEBUG 'info-period'",
    );
    expect(await attempt(c, 'SENTINEL', 'DEBUG', 'foo', '5')).toBe(
      "ERR Unknown option or number of arguments for SENTINEL DEBUG 'foo'",
    );
    for (const value of ['abc', '0', '-5']) {
      expect(await attempt(c, 'SENTINEL', 'DEBUG', 'info-period', value)).toBe(
        `ERR Invalid argument '${value}' for SENTINEL DEBUG 'info-period'`,
      );
    }
    expect(await attempt(c, 'SENTINEL', 'DEBUG', 'TILT-TRIGGER', '3000')).toBe(
      "ERR SENTINEL DEBUG cannot change 'tilt-trigger' while the sentinels run: they read it from " +
        "sentinel.conf; set 'sentinel tilt-trigger <ms>' in the file and restart the local runner",
    );
  });

  it('IS-MASTER-DOWN-BY-ADDR answers from the store: down as this sentinel votes, the epoch leader by run id', async () => {
    const store = new MemoryStore();
    const { endpoint } = await start({ store });
    const c = client(endpoint);
    expect(await c.call('SENTINEL', 'IS-MASTER-DOWN-BY-ADDR', '127.0.0.1', '7000', '0', '*')).toEqual([
      0,
      '*',
      0,
    ]);
    expect(await attempt(c, 'SENTINEL', 'IS-MASTER-DOWN-BY-ADDR', '127.0.0.1', 'abc', '0', '*')).toBe(
      'ERR value is not an integer or out of range',
    );
    expect(await attempt(c, 'SENTINEL', 'IS-MASTER-DOWN-BY-ADDR', '127.0.0.1', '7000', '1.5', '*')).toBe(
      'ERR value is not an integer or out of range',
    );
    const now = Date.now();
    await store.putVote({
      master: 'mymaster',
      sentinelId: 'sentinel-a',
      down: true,
      observedAt: now,
      configEpoch: 0,
      token: 1,
      invocationId: 'x',
    });
    const claim = await store.claimEpoch('mymaster', {
      mode: 'start',
      expectedEpoch: 0,
      sentinelId: 'sentinel-b',
      leaseUntil: now + 60_000,
      now,
      progress: newFailoverProgress({ host: '127.0.0.1', port: 7000 }, { forced: false, coordinated: false }),
    });
    expect(claim.won).toBe(true);
    // Asked with a run id: the leader of the current epoch, by run id (no vote is cast here).
    expect(
      await c.call('SENTINEL', 'IS-MASTER-DOWN-BY-ADDR', '127.0.0.1', '7000', '1', runIdOf('sentinel-a')),
    ).toEqual([1, runIdOf('sentinel-b'), 1]);
    // Asked with `*`: only the down state, as Sentinel answers it.
    expect(await c.call('SENTINEL', 'IS-MASTER-DOWN-BY-ADDR', '127.0.0.1', '7000', '1', '*')).toEqual([
      1,
      '*',
      0,
    ]);
    // Another address is no master: not down, no leader.
    expect(await c.call('SENTINEL', 'IS-MASTER-DOWN-BY-ADDR', '1.2.3.4', '7000', '1', 'x')).toEqual([
      0,
      '*',
      0,
    ]);
  });

  it('INFO-CACHE lists the named masters that exist; PENDING-SCRIPTS is empty; FLUSHCONFIG is OK', async () => {
    const { endpoint } = await start();
    const c = client(endpoint);
    expect(await c.call('SENTINEL', 'INFO-CACHE', 'nope')).toEqual([]);
    // No sentinel loop runs with this view: no INFO has been seen, Sentinel's (age 0, null).
    expect(await c.call('SENTINEL', 'INFO-CACHE', 'mymaster', 'nope', 'mymaster')).toEqual([
      'mymaster',
      [[0, null]],
    ]);
    expect(await c.call('SENTINEL', 'PENDING-SCRIPTS')).toEqual([]);
    expect(await c.call('SENTINEL', 'FLUSHCONFIG')).toBe('OK');
  });

  it("PENDING-SCRIPTS gives Sentinel's map per script of the endpoint's sentinel; INFO counts them", async () => {
    const controls = localProcessControls(global, {
      onSimulateFailure: () => {},
      armedFailures: () => [],
      shutdown: () => {},
      pendingScripts: () => [
        {
          argv: ['/bin/notify.sh', '+sdown', 'master mymaster 127.0.0.1 7000'],
          running: true,
          pid: 4242,
          ms: 12,
          retries: 0,
        },
        {
          argv: ['/bin/notify.sh', '+odown', 'master mymaster'],
          running: false,
          pid: 0,
          ms: 29_000,
          retries: 1,
        },
      ],
    });
    const { endpoint } = await start({ controls });
    const c = client(endpoint);
    expect(await c.call('SENTINEL', 'PENDING-SCRIPTS')).toEqual([
      [
        'argv',
        ['/bin/notify.sh', '+sdown', 'master mymaster 127.0.0.1 7000'],
        'flags',
        'running',
        'pid',
        '4242',
        'run-time',
        '12',
        'retry-num',
        '0',
      ],
      [
        'argv',
        ['/bin/notify.sh', '+odown', 'master mymaster'],
        'flags',
        'scheduled',
        'pid',
        '0',
        'run-delay',
        '29000',
        'retry-num',
        '1',
      ],
    ]);
    const info = await c.info('sentinel');
    expect(info).toContain('sentinel_running_scripts:1\r\nsentinel_scripts_queue_length:2\r\n');
  });

  it('SIMULATE-FAILURE arms the local runner (INFO shows the flags), HELP lists the failures, a deployment refuses', async () => {
    const { controls, local } = localControls();
    const { endpoint } = await start({ controls });
    const c = client(endpoint);
    expect(await c.call('SENTINEL', 'SIMULATE-FAILURE', 'HELP')).toEqual([
      'crash-after-election',
      'crash-after-promotion',
    ]);
    expect(await attempt(c, 'SENTINEL', 'SIMULATE-FAILURE', 'crash-after-election', 'foo')).toBe(
      'ERR Unknown failure simulation specified',
    );
    expect(local.armed).toEqual([]);
    expect(
      await c.call('SENTINEL', 'SIMULATE-FAILURE', 'CRASH-AFTER-ELECTION', 'crash-after-promotion'),
    ).toBe('OK');
    expect(local.armed).toEqual(['crash-after-election', 'crash-after-promotion']);
    expect(await c.info('sentinel')).toContain('sentinel_simulate_failure_flags:3');

    const deployed = await start({ controls: fixedProcessControls(global) });
    expect(
      await attempt(client(deployed.endpoint), 'SENTINEL', 'SIMULATE-FAILURE', 'crash-after-election'),
    ).toMatch(/^ERR SENTINEL SIMULATE-FAILURE works only in the local runner/);
  });

  it('HELP lists every subcommand, each of which is answered (none is "not supported")', async () => {
    const { endpoint } = await start({ controls: localControls().controls });
    const c = client(endpoint);
    const help = (await c.call('SENTINEL', 'HELP')) as string[];
    expect(help[0]).toBe('SENTINEL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
    const listed = help.filter((l) => /^[A-Z]/.test(l) && l !== help[0]).map((l) => l.split(' ')[0]);
    // 21 lines: CONFIG twice (GET and SET), REPLICAS also for SLAVES.
    expect(listed).toHaveLength(21);
    const sample: Record<string, string[]> = {
      CONFIG: ['GET', '*'],
      DEBUG: [],
      'INFO-CACHE': ['mymaster'],
      'IS-MASTER-DOWN-BY-ADDR': ['127.0.0.1', '7000', '0', '*'],
      'PENDING-SCRIPTS': [],
      FLUSHCONFIG: [],
      'SIMULATE-FAILURE': ['HELP'],
    };
    for (const [sub, args] of Object.entries(sample)) {
      expect(String(await attempt(c, 'SENTINEL', sub, ...args)), sub).not.toContain('not supported');
    }
  });
});

describe('COMMAND', () => {
  it("answers Sentinel's table: COUNT is an integer, LIST, INFO and DOCS by name, HELP", async () => {
    const { endpoint } = await start();
    const c = client(endpoint);
    expect(await c.call('COMMAND', 'COUNT')).toBe(15);
    const all = (await c.call('COMMAND')) as unknown[][];
    expect(all).toHaveLength(15);
    expect(all.map((entry) => entry[0])).toEqual([
      'acl',
      'client',
      'hello',
      'sentinel',
      'shutdown',
      'ping',
      'subscribe',
      'role',
      'publish',
      'unsubscribe',
      'punsubscribe',
      'auth',
      'info',
      'psubscribe',
      'command',
    ]);
    const list = (await c.call('COMMAND', 'LIST')) as string[];
    expect(list).toContain('sentinel|simulate-failure');
    expect(list).toContain('client|kill');
    expect(list).not.toContain('acl|setuser');
    expect(await c.call('COMMAND', 'LIST', 'FILTERBY', 'PATTERN', 'sh*')).toEqual(['shutdown']);
    expect(await attempt(c, 'COMMAND', 'LIST', 'x')).toBe('ERR syntax error');
    expect(await c.call('COMMAND', 'INFO', 'SENTINEL|MYID', 'nope')).toEqual([
      ['sentinel|myid', 2, ['admin'], 0, 0, 0, ['@admin', '@slow', '@dangerous'], [], [], []],
      null,
    ]);
    expect(await c.call('COMMAND', 'DOCS', 'ping', 'nope')).toEqual([
      'ping',
      [
        'summary',
        'Ping the server',
        'since',
        '1.0.0',
        'group',
        'connection',
        'complexity',
        'O(1)',
        'arguments',
        [['name', 'message', 'type', 'string', 'flags', ['optional']]],
      ],
    ]);
    expect(((await c.call('COMMAND', 'HELP')) as string[])[0]).toBe(
      'COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
    );
  });
});

describe('CLIENT LIST, INFO, KILL and SHUTDOWN', () => {
  it("CLIENT LIST and INFO give Redis's line format; TYPE and ID filter; bad options get Redis's texts", async () => {
    const { endpoint } = await start();
    const c = client(endpoint);
    await c.call('CLIENT', 'SETNAME', 'lister');
    const other = client(endpoint);
    await other.subscribe('+switch-master');
    const info = (await c.call('CLIENT', 'INFO')) as string;
    expect(info).toMatch(
      /^id=\d+ addr=127\.0\.0\.1:\d+ laddr=127\.0\.0\.1:\d+ name=lister age=\d+ idle=\d+ flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 omem=\d+ events=rw? cmd=client\|info user=default redir=-1 resp=[23]\n$/,
    );
    const list = (await c.call('CLIENT', 'LIST')) as string;
    expect(list.split('\n').filter(Boolean)).toHaveLength(2);
    const pubsub = (await c.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string;
    expect(pubsub).toMatch(/flags=P db=0 sub=1 psub=0 .* cmd=subscribe /);
    expect(await c.call('CLIENT', 'LIST', 'TYPE', 'master')).toBe('');
    const id = String(await c.call('CLIENT', 'ID'));
    expect(await c.call('CLIENT', 'LIST', 'ID', id, '999999')).toMatch(new RegExp(`^id=${id} `));
    expect(await attempt(c, 'CLIENT', 'LIST', 'TYPE', 'foo')).toBe("ERR Unknown client type 'foo'");
    expect(await attempt(c, 'CLIENT', 'LIST', 'ID', 'abc')).toBe('ERR Invalid client ID');
    expect(await attempt(c, 'CLIENT', 'LIST', 'foo')).toBe('ERR syntax error');
  });

  it('CLIENT KILL closes the connections it names and counts them; the old form answers OK or No such client', async () => {
    const { endpoint } = await start();
    const c = client(endpoint);
    const victim = client(endpoint);
    const victimId = String(await victim.call('CLIENT', 'ID'));
    const closed = new Promise<void>((resolve) => victim.once('close', () => resolve()));
    expect(await attempt(c, 'CLIENT', 'KILL', 'ID', 'abc')).toBe('ERR client-id should be greater than 0');
    expect(await attempt(c, 'CLIENT', 'KILL', 'TYPE', 'foo')).toBe("ERR Unknown client type 'foo'");
    expect(await attempt(c, 'CLIENT', 'KILL', 'USER', 'nobody')).toBe("ERR No such user 'nobody'");
    expect(await attempt(c, 'CLIENT', 'KILL', 'SKIPME', 'maybe')).toBe('ERR syntax error');
    expect(await attempt(c, 'CLIENT', 'KILL', '1.2.3.4:5')).toBe('ERR No such client');
    expect(await c.call('CLIENT', 'KILL', 'ID', '999999')).toBe(0);
    expect(await c.call('CLIENT', 'KILL', 'ID', victimId)).toBe(1);
    await closed;
    // SKIPME yes (the default) spares the caller.
    expect(await c.call('CLIENT', 'KILL', 'TYPE', 'normal')).toBe(0);
    expect(await c.call('PING')).toBe('PONG');
  });

  it('SHUTDOWN stops the local runner and closes without a reply; a deployment answers why not', async () => {
    const { controls, local } = localControls();
    const { endpoint } = await start({ controls });
    const c = client(endpoint);
    expect(await attempt(c, 'SHUTDOWN', 'foo')).toBe('ERR syntax error');
    expect(await attempt(c, 'SHUTDOWN', 'NOSAVE', 'SAVE')).toBe('ERR syntax error');
    expect(await attempt(c, 'SHUTDOWN', 'ABORT')).toBe('ERR No shutdown in progress.');
    expect(local.shutdowns).toBe(0);
    const { data, closed } = await rawUntilClosed(endpoint, 'SHUTDOWN NOSAVE\r\n');
    expect(closed).toBe(true);
    expect(data).toBe('');
    expect(local.shutdowns).toBe(1);

    const deployed = await start({ controls: fixedProcessControls(global) });
    expect(await attempt(client(deployed.endpoint), 'SHUTDOWN')).toMatch(
      /^ERR SHUTDOWN stops only the local runner/,
    );
  });
});

describe('INFO', () => {
  it("has Sentinel's sections in order, with maxclients, stats, CPU, and section selection", async () => {
    const { endpoint } = await start();
    const c = client(endpoint);
    const all = await c.info();
    expect([...all.matchAll(/^# (\w+)/gm)].map((m) => m[1])).toEqual([
      'Server',
      'Clients',
      'Stats',
      'CPU',
      'Sentinel',
    ]);
    expect(all).toContain('maxclients:77\r\n');
    expect(all).toMatch(/\r\nused_cpu_user:\d+\.\d{6}\r\n/);
    expect(all).toMatch(/\r\nused_cpu_sys:\d+\.\d{6}\r\n/);
    expect(all).toMatch(/\r\ntotal_connections_received:1\r\n/);
    expect(all).toMatch(/\r\ntotal_commands_processed:\d+\r\n/);
    expect(all.endsWith('sentinels=3\r\n')).toBe(true);
    for (const word of ['all', 'everything', 'default']) expect(await c.info(word)).toMatch(/^# Server\r\n/);
    const cpu = await c.info('cpu');
    expect(cpu).toMatch(/^# CPU\r\nused_cpu_sys:[\d.]+\r\nused_cpu_user:[\d.]+\r\n$/);
    const two = (await c.call('INFO', 'cpu', 'SERVER')) as string;
    expect([...two.matchAll(/^# (\w+)/gm)].map((m) => m[1])).toEqual(['Server', 'CPU']);
    expect(await c.info('foo')).toBe('');
  });

  it('sentinel_tilt follows the TILT recorded in the loop lease of the sentinel the endpoint speaks as', async () => {
    const store = new MemoryStore();
    const { endpoint } = await start({ store });
    const c = client(endpoint);
    expect(await c.info('sentinel')).toContain('sentinel_tilt:0\r\nsentinel_tilt_since_seconds:-1\r\n');
    const now = Date.now();
    const acquired = await store.acquireLease('sentinel-a', { invocationId: 'i1', now, ttlMs: 60_000 });
    if (!acquired.acquired) throw new Error('lease not acquired');
    await store.renewLease('sentinel-a', {
      invocationId: 'i1',
      token: acquired.lease.token,
      now,
      ttlMs: 60_000,
      tilt: true,
      summary: null,
    });
    expect(await c.info('sentinel')).toContain('sentinel_tilt:1\r\n');
  });
});

describe('who may run the new commands', () => {
  it('a +@read user reads (CONFIG GET, DEBUG-less reads, COMMAND, CLIENT INFO) but every change is NOPERM', async () => {
    const reader = applyUserRules(freshUser('reader'), ['on', '>r', '+@read', '&*']);
    if ('error' in reader) throw new Error(reader.error);
    const { controls, local } = localControls();
    const { endpoint } = await start({
      controls,
      users: [defaultUserWithPassword('admin-pass'), reader.user],
    });
    const c = client(endpoint, { username: 'reader', password: 'r' });
    expect(await c.call('SENTINEL', 'CONFIG', 'GET', 'loglevel')).toEqual(['loglevel', 'notice']);
    expect(await c.call('COMMAND', 'COUNT')).toBe(15);
    expect(await c.call('SENTINEL', 'INFO-CACHE', 'mymaster')).toHaveLength(2);
    expect(String(await c.call('CLIENT', 'INFO'))).toContain('user=reader');
    const refusals: Array<[string[], string]> = [
      [['SENTINEL', 'CONFIG', 'SET', 'loglevel', 'debug'], 'sentinel|config'],
      [['SENTINEL', 'DEBUG'], 'sentinel|debug'],
      [['SENTINEL', 'DEBUG', 'tilt-trigger', '100'], 'sentinel|debug'],
      [['SENTINEL', 'SIMULATE-FAILURE', 'crash-after-election'], 'sentinel|simulate-failure'],
      [['SHUTDOWN'], 'shutdown'],
      [['CLIENT', 'KILL', 'TYPE', 'normal'], 'client|kill'],
      [['CLIENT', 'LIST'], 'client|list'],
    ];
    for (const [args, name] of refusals) {
      expect(await attempt(c, ...args), args.join(' ')).toBe(
        `NOPERM this user has no permissions to run the '${name}' command`,
      );
    }
    expect(local.armed).toEqual([]);
    expect(local.shutdowns).toBe(0);
    // The admin (default user with its password) may.
    const admin = client(endpoint, { password: 'admin-pass' });
    expect(await admin.call('SENTINEL', 'CONFIG', 'SET', 'loglevel', 'debug')).toBe('OK');
    expect(await admin.call('SENTINEL', 'SIMULATE-FAILURE', 'crash-after-promotion')).toBe('OK');
    expect(local.armed).toEqual(['crash-after-promotion']);
    expect(passwordHash('x')).toHaveLength(64);
  });

  it('a read-only endpoint (the proxy default) refuses the new write commands whoever asks', async () => {
    const store = new MemoryStore();
    await store.ensureMaster({ name: 'mymaster', host: '127.0.0.1', port: 7000, now: Date.now() });
    const endpoint = await startSentinelEndpoint({
      port: 0,
      view: storeSentinelView(store, config),
      readOnlyError: (command) => `ERR read-only: ${command}`,
    });
    open.push(endpoint);
    const c = client(endpoint);
    expect(await attempt(c, 'SHUTDOWN')).toBe('ERR read-only: shutdown');
    expect(await attempt(c, 'CLIENT', 'KILL', 'ID', '1')).toBe('ERR read-only: client|kill');
    expect(await attempt(c, 'SENTINEL', 'CONFIG', 'SET', 'loglevel', 'debug')).toBe(
      'ERR read-only: sentinel|config',
    );
    expect(await c.call('SENTINEL', 'CONFIG', 'GET', 'loglevel')).toEqual(['loglevel', 'notice']);
  });
});
