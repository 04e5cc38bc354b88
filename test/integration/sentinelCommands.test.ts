/**
 * The endpoint's command surface on real processes: `lambda-sentinel local` (a child process) on a real
 * redis-server topology, its replies compared byte for byte (or by shape where the values are the
 * instance's own) with a real `redis-server --sentinel` 7.0.15 monitoring the same master; and
 * SENTINEL SIMULATE-FAILURE and SHUTDOWN doing what they say in the local runner.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { Address } from '../../lib/core/types.js';
import { allocatePorts, findRedisServer } from '../../lib/runtime/redisProcess.js';
import { infoField, type LocalRunner, startLocalRunner, waitUntil } from '../support/localRunner.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

async function runner(options: Parameters<typeof startLocalRunner>[0]): Promise<LocalRunner> {
  const started = await startLocalRunner(options);
  cleanups.push(() => started.stop());
  return started;
}

/** A real `redis-server --sentinel` monitoring `master`, started and killed by PID. */
async function realSentinel(master: Address): Promise<{ port: number; child: ChildProcess }> {
  const [port] = (await allocatePorts(1)) as [number];
  const dir = await mkdtemp(join(tmpdir(), 'ls-commands-sentinel-'));
  const file = join(dir, 'sentinel.conf');
  await writeFile(
    file,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor mymaster ${master.host} ${master.port} 2`,
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
  await waitUntil(() => reachable(port), 20_000, 'redis-server --sentinel to listen');
  return { port, child };
}

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The byte length of the first complete reply in `buf` from `pos`, or null when it is not all there. */
function replyEnd(buf: Buffer, pos: number): number | null {
  const end = buf.indexOf('\r\n', pos);
  if (end === -1) return null;
  const type = String.fromCharCode(buf[pos] as number);
  const head = buf.subarray(pos + 1, end).toString();
  if ('+-:_,#'.includes(type)) return end + 2;
  const n = Number(head);
  if (n < 0) return end + 2;
  if (type === '$' || type === '=') return buf.length >= end + 4 + n ? end + 4 + n : null;
  let next = end + 2;
  for (let i = 0; i < (type === '%' ? 2 * n : n); i++) {
    const item = replyEnd(buf, next);
    if (item === null) return null;
    next = item;
  }
  return next;
}

/** Each command's reply as raw RESP text, all sent on one connection (after HELLO 3 when asked). */
async function rawReplies(port: number, commands: readonly string[], resp3 = false): Promise<string[]> {
  const all = resp3 ? ['HELLO 3', ...commands] : [...commands];
  const socket = net.connect(port, '127.0.0.1');
  let data = Buffer.alloc(0);
  try {
    const replies = await new Promise<string[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no full reply from ${port}`)), 10_000);
      socket.on('error', reject);
      socket.on('data', (chunk) => {
        data = Buffer.concat([data, chunk]);
        const out: string[] = [];
        let pos = 0;
        for (let i = 0; i < all.length; i++) {
          const end = replyEnd(data, pos);
          if (end === null) return;
          out.push(data.subarray(pos, end).toString());
          pos = end;
        }
        clearTimeout(timer);
        resolve(out);
      });
      // Sent as RESP arrays, so arguments may hold any character.
      const encoded = all.map((c) => {
        const args = c.split(' ');
        return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
      });
      socket.write(encoded.join(''));
    });
    return resp3 ? replies.slice(1) : replies;
  } finally {
    socket.destroy();
  }
}

/** A reply's RESP type characters only (its values are each instance's own). */
function typesOf(raw: string): string {
  return raw
    .split('\r\n')
    .filter((line) => /^[*%~$=:+\-_>]/.test(line))
    .map((line) => ('$=:'.includes(line[0] as string) ? line[0] : line))
    .join(' ');
}

describe('replies compared with redis-server --sentinel 7.0.15', () => {
  it('the new subcommands, COMMAND, CLIENT, SHUTDOWN and INFO answer as Sentinel does', async () => {
    const local = await runner({ dynamodbEndpoint: inject('dynamodbEndpoint') });
    const real = await realSentinel(local.topology.master.address);
    const masterPort = local.topology.master.address.port;

    // Word for word, in RESP2 and RESP3.
    const identical = [
      'SENTINEL HELP',
      'SENTINEL CONFIG GET resolve-hostnames',
      'SENTINEL CONFIG GET announce*',
      'SENTINEL CONFIG GET nope',
      'SENTINEL CONFIG GET',
      'SENTINEL CONFIG',
      'SENTINEL CONFIG FOO x',
      'SENTINEL CONFIG SET nope 1',
      'SENTINEL CONFIG SET announce-port abc',
      'SENTINEL CONFIG SET resolve-hostnames maybe',
      'SENTINEL DEBUG info-period',
      'SENTINEL DEBUG info-period abc',
      'SENTINEL DEBUG info-period 0',
      'SENTINEL DEBUG foo 5',
      'SENTINEL INFO-CACHE nope',
      'SENTINEL INFO-CACHE',
      `SENTINEL IS-MASTER-DOWN-BY-ADDR 127.0.0.1 ${masterPort} 0 *`,
      'SENTINEL IS-MASTER-DOWN-BY-ADDR 10.255.255.1 6379 0 *',
      `SENTINEL IS-MASTER-DOWN-BY-ADDR 127.0.0.1 abc 0 *`,
      `SENTINEL IS-MASTER-DOWN-BY-ADDR 127.0.0.1 ${masterPort} abc *`,
      'SENTINEL IS-MASTER-DOWN-BY-ADDR 127.0.0.1 1 0',
      'SENTINEL PENDING-SCRIPTS',
      'SENTINEL PENDING-SCRIPTS x',
      'SENTINEL FLUSHCONFIG',
      'SENTINEL SIMULATE-FAILURE help',
      'SENTINEL SIMULATE-FAILURE foo',
      'SENTINEL SIMULATE-FAILURE crash-after-election foo',
      'SENTINEL SIMULATE-FAILURE',
      'COMMAND COUNT',
      'COMMAND COUNT x',
      'COMMAND INFO ping nope SENTINEL|MYID hello role info publish',
      'COMMAND DOCS ping nope sentinel|config info role auth',
      'COMMAND LIST FILTERBY module x',
      'COMMAND LIST FILTERBY foo x',
      'COMMAND LIST x',
      'CLIENT LIST TYPE foo',
      'CLIENT LIST TYPE master',
      'CLIENT LIST ID abc',
      'CLIENT LIST ID 0',
      'CLIENT LIST foo',
      'CLIENT KILL 1.2.3.4:5',
      'CLIENT KILL ID 99999',
      'CLIENT KILL ID abc',
      'CLIENT KILL TYPE foo',
      'CLIENT KILL SKIPME maybe',
      'CLIENT KILL USER nobody',
      'CLIENT KILL LADDR 1.2.3.4:5',
      'CLIENT KILL foo bar',
      'CLIENT KILL',
      'CLIENT GETNAME x',
      'CLIENT HELP',
      'CLIENT HELP x',
      'COMMAND INFO client|help',
      'COMMAND DOCS client|help',
      'SHUTDOWN foo',
      'SHUTDOWN ABORT',
      'SHUTDOWN NOSAVE SAVE',
      'INFO foo',
    ];
    for (const resp3 of [false, true]) {
      const theirs = await rawReplies(real.port, identical, resp3);
      const ours = await rawReplies(local.endpoint.port, identical, resp3);
      identical.forEach((command, i) => {
        expect(ours[i], `${resp3 ? 'RESP3 ' : ''}${command}`).toBe(theirs[i]);
      });
    }

    // The same content, in another order: Redis lists subcommands in its hash table's order, which
    // changes from one process to the next.
    const sameContent = [
      'COMMAND INFO sentinel',
      'COMMAND DOCS sentinel',
      'COMMAND LIST FILTERBY pattern s*',
      'COMMAND LIST FILTERBY aclcat pubsub',
      'COMMAND INFO shutdown subscribe psubscribe unsubscribe punsubscribe auth',
    ];
    const sortedLines = (raw: string) => raw.split('\r\n').sort();
    for (const resp3 of [false, true]) {
      const theirs = await rawReplies(real.port, sameContent, resp3);
      const ours = await rawReplies(local.endpoint.port, sameContent, resp3);
      sameContent.forEach((command, i) => {
        expect(sortedLines(ours[i] as string), `${resp3 ? 'RESP3 ' : ''}${command}`).toEqual(
          sortedLines(theirs[i] as string),
        );
      });
    }

    // Same shape, the values being each instance's own.
    const sameShape = [
      'SENTINEL DEBUG',
      'SENTINEL INFO-CACHE mymaster',
      'SENTINEL CONFIG GET *',
      'CLIENT INFO',
      'CLIENT LIST',
      'COMMAND',
      'COMMAND LIST',
      'COMMAND DOCS',
      'INFO',
    ];
    for (const resp3 of [false, true]) {
      const theirs = await rawReplies(real.port, sameShape, resp3);
      const ours = await rawReplies(local.endpoint.port, sameShape, resp3);
      // DEBUG: a map of names to numbers, as Sentinel's; the names here are the timings this design has.
      expect(typesOf(ours[0] as string)[0]).toBe(typesOf(theirs[0] as string)[0]);
      expect(typesOf(ours[0] as string)).toMatch(/^[*%]\d+( \$ \$)+$/);
      // INFO-CACHE: [name, [[age, INFO]…]]: the master and its replicas here (Sentinel's lists replicas too
      // once it has discovered them).
      expect(ours[1]).toMatch(/^\*2\r\n\$8\r\nmymaster\r\n\*3\r\n\*2\r\n:\d+\r\n\$\d+\r\n# Server\r\n/);
      // CONFIG GET *: Sentinel 7.0's six pairs, then 7.2's loglevel.
      expect(ours[2]?.startsWith(resp3 ? '%7\r\n' : '*14\r\n')).toBe(true);
      expect(ours[2]?.slice(resp3 ? 4 : 5)).toBe(
        `${theirs[2]?.slice(resp3 ? 4 : 5)}$8\r\nloglevel\r\n$6\r\nnotice\r\n`,
      );
      // CLIENT INFO / LIST: Redis's `key=value …` lines, the fields this endpoint fills in Redis's order.
      for (const i of [3, 4]) {
        const firstLine = (raw: string) => (raw.split('\r\n')[1] as string).split('\n')[0] as string;
        const line = firstLine(ours[i] as string);
        const redisKeys = firstLine(theirs[i] as string)
          .split(' ')
          .map((kv) => kv.split('=')[0]);
        const keys = line.split(' ').map((kv) => kv.split('=')[0]);
        expect(
          keys.every((k) => redisKeys.includes(k)),
          line,
        ).toBe(true);
        expect(keys).toEqual(redisKeys.filter((k) => keys.includes(k)));
      }
      // COMMAND, COMMAND LIST, COMMAND DOCS: the same commands in the same order; the subcommands
      // listed are those answered here.
      expect(typesOf(ours[5] as string).split(' ')[0]).toBe(typesOf(theirs[5] as string).split(' ')[0]);
      const list = (raw: string) => raw.split('\r\n').filter((l, i) => i % 2 === 0 && !l.startsWith('*'));
      const theirList = list(theirs[6] as string);
      expect(list(ours[6] as string).every((name) => theirList.includes(name))).toBe(true);
      expect((ours[7] as string).slice(0, 5)).toBe((theirs[7] as string).slice(0, 5));
      // INFO: Sentinel's sections in its order.
      const sections = (raw: string) => [...raw.matchAll(/# (\w+)\r\n/g)].map((m) => m[1]);
      expect(sections(ours[8] as string)).toEqual(sections(theirs[8] as string));
      const fields = (raw: string) => [...raw.matchAll(/\r\n([a-z_0-9]+):/g)].map((m) => m[1] as string);
      const theirFields = fields(theirs[8] as string);
      for (const field of fields(ours[8] as string).filter((f) => !/^master\d+$/.test(f))) {
        expect(theirFields, field).toContain(field);
      }
      for (const field of [
        'maxclients',
        'used_cpu_user',
        'used_cpu_sys',
        'sentinel_tilt',
        'total_commands_processed',
      ]) {
        expect(fields(ours[8] as string), field).toContain(field);
      }
    }

    // SHUTDOWN: the connection closes with no reply, on both; the real one exits.
    for (const port of [real.port, local.endpoint.port]) {
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
      socket.write('SHUTDOWN NOSAVE\r\n');
      expect(await closed, String(port)).toBe(true);
      expect(data, String(port)).toBe('');
    }
    // The local runner stopped: it said so, and its endpoint no longer listens.
    await local.waitForOutput(/SHUTDOWN received on the Sentinel endpoint: stopping/, 10_000);
    await waitUntil(async () => !(await reachable(local.endpoint.port)), 20_000, 'the endpoint to close');
  });
});

describe('SENTINEL SIMULATE-FAILURE in the local runner', () => {
  for (const failure of ['crash-after-election', 'crash-after-promotion'] as const) {
    it(`${failure}: the sentinel crashes at that point, the others finish the failover`, async () => {
      const local = await runner({ dynamodbEndpoint: inject('dynamodbEndpoint') });
      const old = local.topology.master.address;
      expect(await local.sentinel('SENTINEL', 'SIMULATE-FAILURE', failure)).toBe('OK');
      const info = (await local.sentinel('INFO', 'sentinel')) as string;
      expect(info).toContain(`sentinel_simulate_failure_flags:${failure === 'crash-after-election' ? 1 : 2}`);
      const from = local.output().length;
      expect(await local.sentinel('SENTINEL', 'FAILOVER', 'mymaster')).toBe('OK');
      const crash = await local.waitForOutput(
        new RegExp(`\\[(sentinel-[a-z])\\] crashed \\(SENTINEL SIMULATE-FAILURE ${failure}\\)`),
        30_000,
        from,
      );
      const crashed = crash[1] as string;
      // The crash disarms the failures, as the crashed process takes its flags with it.
      expect((await local.sentinel('INFO', 'sentinel')) as string).toContain(
        'sentinel_simulate_failure_flags:0',
      );
      // Another sentinel takes over once the crashed leader's lease expires, and the failover ends: a
      // replica is the master, and the endpoint answers it.
      let promoted: Address = old;
      await waitUntil(
        async () => {
          promoted = await local.masterAddress();
          return (
            promoted.port !== old.port && (await infoField(promoted, 'replication', 'role')) === 'master'
          );
        },
        60_000,
        'another sentinel to finish the failover',
        200,
      );
      expect(local.topology.replicas.map((r) => r.address.port)).toContain(promoted.port);
      // The switch is printed too: the endpoint answers a switch before its event is printed (the
      // runner holds each line for its reordering window), so wait for the line rather than expect it.
      const crashEnd = local.output().indexOf(crash[0]) + crash[0].length;
      await local.waitForOutput(/\[sentinel-[a-z]\] \+switch-master mymaster/, 10_000, crashEnd);
      // Nothing the crashed sentinel did is published after its crash.
      const after = local.output().slice(crashEnd);
      expect(after).not.toMatch(new RegExp(`\\[${crashed}\\] [+-]`));
      expect(after).toMatch(/\[sentinel-[a-z]\] \+switch-master mymaster/);
    });
  }
});
