/**
 * The SENTINEL commands of the CLI against the real HTTP API (startHttpApi over the store view on a
 * MemoryStore): every command in human and --json form, and the exit codes of docs/http-api.md.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.js';
import { parseAccessFile } from '../../lib/config/access.js';
import { type HttpApi, startHttpApi } from '../../lib/http/server.js';
import {
  type ApiHarness,
  answerFailoverRequest,
  eventRecord,
  SENTINEL_IDS,
  startApiHarness,
  startFailover,
} from '../support/apiHarness.js';

interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
  /** stdout parsed as one JSON document. */
  json(): unknown;
}

let api: ApiHarness;
const extra: ApiHarness[] = [];

beforeEach(async () => {
  // FAILOVER answers OK after this long when no sentinel acts on the request (as Sentinel's OK means).
  api = await startApiHarness({ failoverWaitMs: 3_000 });
});
afterEach(async () => {
  await api.close();
  for (const h of extra.splice(0)) await h.close();
});

async function cli(...args: string[]): Promise<Run> {
  return cliAt(api.url, ...args);
}

async function cliAt(url: string, ...args: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main([...args, '--url', url], {
    out: (text) => out.push(text),
    err: (text) => err.push(text),
  });
  const stdout = out.map((t) => `${t}\n`).join('');
  return { code, out: stdout, err: err.join('\n'), json: () => JSON.parse(stdout) };
}

describe('read commands', () => {
  it('get-master-addr-by-name: a table, JSON with the epoch, 5 for no such master', async () => {
    const human = await cli('get-master-addr-by-name', 'mymaster');
    expect(human.code).toBe(0);
    expect(human.out).toBe('IP         PORT  EPOCH\n127.0.0.1  7000  0\n');
    const json = await cli('get-master-addr-by-name', 'mymaster', '--json');
    expect(json.json()).toEqual({ ip: '127.0.0.1', port: 7000, epoch: 0 });

    const missing = await cli('get-master-addr-by-name', 'nope');
    expect(missing.code).toBe(5);
    expect(missing.err).toBe(
      'lambda-sentinel get-master-addr-by-name: No such master with that name (404 NOSUCHMASTER)',
    );
    const missingJson = await cli('get-master-addr-by-name', 'nope', '--json');
    expect(missingJson.code).toBe(5);
    expect(missingJson.json()).toEqual({
      error: 'No such master with that name',
      code: 'NOSUCHMASTER',
      status: 404,
    });
  });

  it('masters: one row per master; JSON is the API reply', async () => {
    const human = await cli('masters');
    expect(human.code).toBe(0);
    const [header, row] = human.out.trimEnd().split('\n');
    expect(header?.split(/\s+/)).toEqual([
      'NAME',
      'IP',
      'PORT',
      'FLAGS',
      'QUORUM',
      'REPLICAS',
      'SENTINELS',
      'CONFIG-EPOCH',
    ]);
    expect(row?.split(/\s+/)).toEqual(['mymaster', '127.0.0.1', '7000', 'master', '2', '0', '3', '0']);
    // Columns line up: every value starts where its header does.
    expect(row?.indexOf('127.0.0.1')).toBe(header?.indexOf('IP'));
    const json = (await cli('masters', '--json')).json() as { masters: Array<Record<string, string>> };
    expect(json.masters.map((m) => m.name)).toEqual(['mymaster']);
    expect(Object.keys(json.masters[0] ?? {}).slice(0, 5)).toEqual(['name', 'ip', 'port', 'runid', 'flags']);
  });

  it('master: a field/value table in Sentinel’s order; 5 for no such master', async () => {
    const json = (await cli('master', 'mymaster', '--json')).json() as Record<string, string>;
    const human = await cli('master', 'mymaster');
    expect(human.code).toBe(0);
    const lines = human.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^FIELD\s+VALUE$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(Object.keys(json));
    expect(lines[1]).toMatch(/^name\s+mymaster$/);
    expect(lines[1]?.indexOf('mymaster')).toBe(lines[0]?.indexOf('VALUE'));
    expect(json.quorum).toBe('2');
    expect((await cli('master', 'nope')).code).toBe(5);
  });

  it('replicas and sentinels: tables and JSON', async () => {
    await api.store.upsertReplica({
      master: 'mymaster',
      host: '127.0.0.1',
      port: 7001,
      runId: null,
      lastSeenAt: Date.now(),
      seenBy: 'sentinel-a',
    });
    const replicas = await cli('replicas', 'mymaster');
    expect(replicas.code).toBe(0);
    expect(replicas.out).toMatch(
      /^ADDRESS\s+FLAGS\s+LINK\s+MASTER\s+PRIORITY\s+OFFSET\s+LAST-OK-PING-MS\n127\.0\.0\.1:7001\s+slave\s+ok\s+127\.0\.0\.1:7000\s+100\s+0\s+\d+\n$/,
    );
    const replicasJson = (await cli('replicas', 'mymaster', '--json')).json() as {
      replicas: Array<Record<string, string>>;
    };
    expect(replicasJson.replicas.map((r) => r.name)).toEqual(['127.0.0.1:7001']);

    const sentinels = await cli('sentinels', 'mymaster');
    expect(sentinels.code).toBe(0);
    expect(sentinels.out.trimEnd().split('\n')).toHaveLength(1 + SENTINEL_IDS.length - 1);
    const sentinelsJson = (await cli('sentinels', 'mymaster', '--json')).json() as {
      sentinels: Array<Record<string, string>>;
    };
    expect(sentinelsJson.sentinels).toHaveLength(2);
    expect(sentinelsJson.sentinels[0]?.flags).toContain('sentinel');

    expect((await cli('replicas', 'nope')).code).toBe(5);
    expect((await cli('sentinels', 'nope', '--json')).code).toBe(5);
  });

  it('ckquorum: 6 without enough live sentinels, 0 with them', async () => {
    const none = await cli('ckquorum', 'mymaster');
    expect(none.code).toBe(6);
    expect(none.out).toMatch(/^NOQUORUM 1 usable Sentinels\./);
    expect((await cli('ckquorum', 'mymaster', '--json')).json()).toMatchObject({ ok: false });
    for (const id of ['sentinel-b', 'sentinel-c']) {
      await api.store.acquireLease(id, { invocationId: `test-${id}`, now: Date.now(), ttlMs: 60_000 });
    }
    const ok = await cli('ckquorum', 'mymaster', '--json');
    expect(ok.code).toBe(0);
    expect(ok.json()).toEqual({
      ok: true,
      reply: 'OK 3 usable Sentinels. Quorum and failover authorization can be reached',
    });
    expect((await cli('ckquorum', 'nope')).code).toBe(5);
  });

  it('events: newest last, with sentinel and epoch; JSON lines; bad --since or --limit is a usage error', async () => {
    const at = Date.parse('2026-11-25T08:58:25.650Z');
    await api.eventLog.append(
      eventRecord({ type: '+sdown', payload: 'master mymaster 127.0.0.1 7000', at }, 'sentinel-b'),
    );
    await api.eventLog.append(
      eventRecord(
        { type: '+odown', payload: 'master mymaster 127.0.0.1 7000 #quorum 2/2', at: at + 30 },
        'sentinel-a',
        1,
      ),
    );
    const human = await cli('events', '--master', 'mymaster');
    expect(human.code).toBe(0);
    expect(human.out).toBe(
      '2026-11-25T08:58:25.650Z [sentinel-b] +sdown master mymaster 127.0.0.1 7000 (epoch 0)\n' +
        '2026-11-25T08:58:25.680Z [sentinel-a] +odown master mymaster 127.0.0.1 7000 #quorum 2/2 (epoch 1)\n',
    );
    const lines = (await cli('events', '--json', '--limit', '1')).out.trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l).type)).toEqual(['+odown']);
    const since = await cli('events', '--since', String(at + 1), '--json');
    expect(
      since.out
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l).type),
    ).toEqual(['+odown']);
    expect((await cli('events', '--since', 'yesterday-ish')).code).toBe(2);
    expect((await cli('events', '--limit', '0')).code).toBe(2);
  });
});

describe('failover', () => {
  it('waits for the address to switch and prints where the master is now', async () => {
    const answered = answerFailoverRequest(api.store, 'mymaster', {
      promote: { host: '127.0.0.1', port: 7001 },
    });
    const run = await cli('failover', 'mymaster', '--wait-ms', '20000');
    await answered;
    expect(run.code).toBe(0);
    expect(run.out).toBe('OK mymaster now at 127.0.0.1:7001 (epoch 1)\n');
  });

  it('shows the failover as it happens: each event the sentinels record, then the result', async () => {
    const log = async (type: string, payload: string) => {
      await api.eventLog.append(eventRecord({ type, payload, at: Date.now() }, 'sentinel-a', 1));
    };
    const answered = (async () => {
      await answerFailoverRequest(api.store, 'mymaster', { promote: { host: '127.0.0.1', port: 7002 } });
      await log('+switch-master', 'mymaster 127.0.0.1 7001 127.0.0.1 7002');
      // After the switch the CLI keeps printing until the failover ends.
      await new Promise((resolve) => setTimeout(resolve, 600));
      await log('+failover-end', 'master mymaster 127.0.0.1 7001');
    })();
    const run = await cli('failover', 'mymaster', '--wait-ms', '20000');
    await answered;
    expect(run.code).toBe(0);
    const lines = run.out.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(
      /^\S+Z \[sentinel-a\] \+switch-master mymaster 127\.0\.0\.1 7001 127\.0\.0\.1 7002 \(epoch 1\)$/,
    );
    expect(lines[1]).toMatch(
      /^\S+Z \[sentinel-a\] \+failover-end master mymaster 127\.0\.0\.1 7001 \(epoch 1\)$/,
    );
    expect(lines[2]).toBe('OK mymaster now at 127.0.0.1:7002 (epoch 1)');
  }, 30_000);

  it('--json: the reply, whether the address switched, and the address', async () => {
    const run = await cli('failover', 'mymaster', '--coordinated', '--wait-ms', '0', '--json');
    expect(run.code).toBe(0);
    expect(run.json()).toEqual({
      reply: 'OK',
      switched: false,
      address: { ip: '127.0.0.1', port: 7000, epoch: 0 },
    });
    expect((await api.store.getMaster('mymaster'))?.failoverRequestCoordinated).toBe(true);
  }, 30_000);

  it('exits 3 for INPROG, 4 for NOGOODSLAVE, 5 for no such master', async () => {
    const noGood = answerFailoverRequest(api.store, 'mymaster', {
      rejected: [{ host: '127.0.0.1', port: 7001, reason: 'replica-priority is 0' }],
    });
    const nogoodslave = await cli('failover', 'mymaster', '--wait-ms', '0');
    await noGood;
    expect(nogoodslave.code).toBe(4);
    expect(nogoodslave.err).toBe(
      'lambda-sentinel failover: NOGOODSLAVE No suitable replica to promote (409 NOGOODSLAVE)',
    );

    await startFailover(api.store, 'mymaster');
    const inprog = await cli('failover', 'mymaster', '--json');
    expect(inprog.code).toBe(3);
    expect(inprog.json()).toEqual({
      error: 'INPROG Failover already in progress',
      code: 'INPROG',
      status: 409,
    });

    expect((await cli('failover', 'nope')).code).toBe(5);
    expect((await cli('failover')).code).toBe(2);
    expect((await cli('failover', 'mymaster', '--wait-ms', 'soon')).code).toBe(2);
  });
});

describe('write commands', () => {
  it('set: applied and read back; a bad value is 2 with Sentinel’s text; no such master is 5', async () => {
    const set = await cli('set', 'mymaster', 'down-after-milliseconds', '3000', 'quorum', '1');
    expect([set.code, set.out, set.err]).toEqual([0, 'OK\n', '']);
    const master = (await cli('master', 'mymaster', '--json')).json() as Record<string, string>;
    expect([master.quorum, master['down-after-milliseconds']]).toEqual(['1', '3000']);
    expect((await cli('set', 'mymaster', 'parallel-syncs', '2', '--json')).json()).toEqual({ ok: true });

    const bad = await cli('set', 'mymaster', 'down-after-milliseconds', '-20');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(
      /Invalid argument '-20' for SENTINEL SET 'down-after-milliseconds' \(400 INVALID\)$/,
    );
    // All or nothing: the valid pair before the bad one was not applied either.
    expect((await cli('set', 'mymaster', 'quorum', '2', 'quorum', 'x')).code).toBe(2);
    expect(((await cli('master', 'mymaster', '--json')).json() as Record<string, string>).quorum).toBe('1');

    const secret = await cli('set', 'mymaster', 'auth-pass', 'hunter2');
    expect(secret.code).toBe(2);
    expect(secret.err).not.toContain('hunter2');
    expect((await cli('set', 'nope', 'quorum', '2')).code).toBe(5);
    // Arguments the CLI can check itself.
    expect((await cli('set', 'mymaster', 'quorum')).code).toBe(2);
    expect((await cli('set', 'mymaster', 'rename-command', 'PING')).code).toBe(2);
  });

  it('set rename-command takes two values', async () => {
    expect((await cli('set', 'mymaster', 'rename-command', 'CONFIG', 'MYCONFIG')).code).toBe(0);
  });

  it('monitor, remove, reset: round trips and their exit codes', async () => {
    const monitor = await cli('monitor', 'other', '127.0.0.1', '7100', '2');
    expect([monitor.code, monitor.out]).toEqual([0, 'OK\n']);
    const names = (
      (await cli('masters', '--json')).json() as { masters: Array<{ name: string }> }
    ).masters.map((m) => m.name);
    expect(names.sort()).toEqual(['mymaster', 'other']);
    expect((await cli('get-master-addr-by-name', 'other', '--json')).json()).toMatchObject({
      ip: '127.0.0.1',
      port: 7100,
    });

    const duplicate = await cli('monitor', 'other', '127.0.0.1', '7100', '2');
    expect(duplicate.code).toBe(7);
    expect(duplicate.err).toMatch(/Duplicate master name\. \(409 DUPLICATE\)$/);
    expect((await cli('monitor', 'third', '127.0.0.1', 'notaport', '2')).code).toBe(2);
    expect((await cli('monitor', 'third', '127.0.0.1', '7200', '0')).code).toBe(2);
    expect((await cli('monitor', 'third', '127.0.0.1', '7200')).code).toBe(2);

    const reset = await cli('reset', '*', '--json');
    expect(reset.code).toBe(0);
    expect(reset.json()).toEqual({ reset: 2 });
    expect((await cli('reset', 'oth*')).out).toBe('1 reset\n');

    const remove = await cli('remove', 'other');
    expect([remove.code, remove.out]).toEqual([0, 'OK\n']);
    expect((await cli('get-master-addr-by-name', 'other')).code).toBe(5);
    expect((await cli('remove', 'other')).code).toBe(5);
  });

  it('refused writes exit 7 when the server requires IAM auth', async () => {
    const iam = await startApiHarness({ requireIamForWrites: true });
    extra.push(iam);
    expect((await cliAt(iam.url, 'get-master-addr-by-name', 'mymaster')).code).toBe(0);
    const refused = await cliAt(iam.url, 'set', 'mymaster', 'quorum', '1', '--json');
    expect(refused.code).toBe(7);
    expect(refused.json()).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    expect((await cliAt(iam.url, 'remove', 'mymaster')).code).toBe(7);
  });
});

describe('failures and usage', () => {
  it('exits 1 when the API cannot be reached or fails, with the reason', async () => {
    const down = await startApiHarness();
    const url = down.url;
    await down.close();
    const unreachable = await cliAt(url, 'masters');
    expect(unreachable.code).toBe(1);
    expect(unreachable.err).toMatch(/cannot reach http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);

    api.store.setAvailable(false);
    const unavailable = await cli('get-master-addr-by-name', 'mymaster', '--json');
    expect(unavailable.code).toBe(1);
    expect(unavailable.json()).toMatchObject({ code: 'UNAVAILABLE', status: 503 });
  });

  it('exits 2 for usage errors', async () => {
    expect((await cli('master')).code).toBe(2);
    expect((await cli('masters', 'extra')).code).toBe(2);
    expect((await cli('masters', '--bogus')).code).toBe(2);
    expect((await cliAt('ftp://example.com', 'masters')).code).toBe(2);
    expect((await cli('masters', '--timeout-ms', '0')).code).toBe(2);
    const both = await cli('events', '--dynamodb-endpoint', 'http://127.0.0.1:1');
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/give one/);
  });

  it('the installed command: LAMBDA_SENTINEL_URL is the default --url, and the exit code is the process’s', async () => {
    const root = join(import.meta.dirname, '../..');
    const child = spawn(
      process.execPath,
      [join(root, 'bin/lambda-sentinel.js'), 'get-master-addr-by-name', 'nope'],
      {
        cwd: root,
        env: { ...process.env, LAMBDA_SENTINEL_URL: api.url },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(5);
    expect(stderr).toMatch(/No such master with that name/);
  });
});

describe('a local API with users (HTTP Basic)', () => {
  const servers: HttpApi[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
  });

  /** Runs the CLI with these environment variables set, as a shell would pass them. */
  async function cliWithEnv(env: Record<string, string>, url: string, ...args: string[]): Promise<Run> {
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);
    try {
      return await cliAt(url, ...args);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  }

  it('sends LAMBDA_SENTINEL_USER / LAMBDA_SENTINEL_PASSWORD; without them, or as a reader writing, exits 7', async () => {
    const users = parseAccessFile('requirepass s3cret\nuser reader on >r3ad &* +@read', 'users').access.users;
    const server = await startHttpApi({ view: api.view, port: 0, users, log: () => {} });
    servers.push(server);

    const anonymous = await cliWithEnv({}, server.url, 'masters');
    expect(anonymous.code).toBe(7);
    expect(anonymous.err).toMatch(
      /Authentication required: send HTTP Basic credentials.*\(401 UNAUTHORIZED\)/,
    );
    const wrong = await cliWithEnv({ LAMBDA_SENTINEL_PASSWORD: 'nope' }, server.url, 'masters', '--json');
    expect(wrong.code).toBe(7);
    expect(wrong.json()).toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
    expect(wrong.out + wrong.err).not.toContain('nope');

    const asDefault = await cliWithEnv(
      { LAMBDA_SENTINEL_PASSWORD: 's3cret' },
      server.url,
      'masters',
      '--json',
    );
    expect(asDefault.code).toBe(0);
    const reader = { LAMBDA_SENTINEL_USER: 'reader', LAMBDA_SENTINEL_PASSWORD: 'r3ad' };
    expect((await cliWithEnv(reader, server.url, 'get-master-addr-by-name', 'mymaster')).code).toBe(0);
    const refused = await cliWithEnv(reader, server.url, 'set', 'mymaster', 'quorum', '1');
    expect(refused.code).toBe(7);
    expect(refused.err).toContain(
      "this user has no permissions to run the 'sentinel|set' command (403 NOPERM)",
    );
    expect((await cliWithEnv(reader, server.url, 'remove', 'mymaster')).code).toBe(7);
    expect((await api.store.getMaster('mymaster'))?.monitored).toBe(true);

    // Every write carries Content-Type: application/json, DELETE (no body) included.
    const removed = await cliWithEnv(
      { LAMBDA_SENTINEL_PASSWORD: 's3cret' },
      server.url,
      'remove',
      'mymaster',
    );
    expect(removed).toMatchObject({ code: 0, out: 'OK\n' });
    expect((await api.store.getMaster('mymaster'))?.monitored).toBe(false);
  });
});
