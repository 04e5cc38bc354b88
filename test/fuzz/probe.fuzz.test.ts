/**
 * The Redis probe (lib/adapters/redis/probe.ts) against a misbehaving server: a tiny node:net server that
 * answers PING, INFO and the connection handshake with generated garbage — random bytes, replies of the
 * wrong type, partial replies followed by silence, a close or a reset, huge and never-ending bulk strings,
 * valid replies that come too late.
 *
 * test/integration/redisProbe.test.ts covers real redis-server failures and three fixed bad peers. Here,
 * for any generated behaviour:
 * - ping() and info() settle (never throw) within the timeout plus the documented slack, also when they
 *   run at the same time on one connection, as the monitor's PING and INFO loops do;
 * - a garbage PING reply is never a valid one: fed to the core's observation reducer it leaves the last
 *   valid reply where it was and starts the down timer, so the instance goes SDOWN after down-after;
 * - a garbage INFO reply never yields INFO;
 * - once the server behaves again, the next calls answer PONG: nothing of the garbage sticks to the probe;
 * - close() settles too.
 */
import { createServer, type Server, type Socket } from 'node:net';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedisProbe, PROBE_TIMING } from '../../lib/adapters/redis/probe.js';
import { applyPingOutcome, newObservation } from '../../lib/core/observation.js';
import { sdownCause } from '../../lib/core/sdown.js';
import type { Address, PingOutcome } from '../../lib/core/types.js';
import type { RedisProbe } from '../../lib/ports.js';
import { systemClock } from '../../lib/runtime/clock.js';
import { MasterMonitor } from '../../lib/runtime/monitor.js';
import { globalSettings, masterSettings } from '../support/settings.js';

const TIMEOUT_MS = 250;
/**
 * The contract is timeoutMs + outerDeadlineSlackMs; the rest is headroom for a loaded 2-core machine
 * (a hang would be unbounded, so a generous bound still catches one).
 */
const SETTLE_BOUND_MS = TIMEOUT_MS + PROBE_TIMING.outerDeadlineSlackMs + 1_000;
const CLOSE_BOUND_MS = PROBE_TIMING.closeWaitMs + 500;
const RUNS = Number(process.env.FUZZ_PROBE_RUNS ?? 40);
const DOWN_AFTER_MS = 1_000;

// ---------------------------------------------------------------------------------------------------------
// The misbehaving server.

/** What the server does with one command. */
type Reply =
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array }
  | { readonly kind: 'bytes-then-close'; readonly bytes: Uint8Array }
  | { readonly kind: 'bytes-then-reset'; readonly bytes: Uint8Array }
  | { readonly kind: 'drip'; readonly bytes: Uint8Array; readonly everyMs: number }
  | { readonly kind: 'late'; readonly bytes: Uint8Array; readonly afterMs: number }
  | { readonly kind: 'silence' }
  | { readonly kind: 'endless-bulk' };

interface Script {
  /** CLIENT SETNAME, AUTH and anything else that is not PING or INFO. */
  readonly handshake: Reply;
  readonly ping: Reply;
  readonly info: Reply;
}

const text = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const bytes = (s: string): Reply => ({ kind: 'bytes', bytes: text(s) });

const WELL_BEHAVED: Script = {
  handshake: bytes('+OK\r\n'),
  ping: bytes('+PONG\r\n'),
  info: bytes('$33\r\n# Replication\r\nrole:master\r\nx:1\r\n\r\n'),
};

interface MisbehavingServer {
  readonly address: Address;
  script: Script;
  /** Accept each connection and close it at once, as a TCP proxy or load balancer does for a dead server. */
  closeOnAccept: boolean;
  /** Close every open connection from the server side (the server restarting, CLIENT KILL). */
  closeConnections(): void;
  close(): Promise<void>;
}

/** Splits the client's RESP arrays of bulk strings into commands (ioredis sends nothing else). */
class CommandReader {
  private buffer = Buffer.alloc(0);

  push(chunk: Buffer): string[][] {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const commands: string[][] = [];
    for (;;) {
      const parsed = this.next();
      if (parsed === null) return commands;
      commands.push(parsed);
    }
  }

  private next(): string[] | null {
    let at = 0;
    const line = (): string | null => {
      const end = this.buffer.indexOf('\r\n', at);
      if (end < 0) return null;
      const value = this.buffer.toString('latin1', at, end);
      at = end + 2;
      return value;
    };
    const head = line();
    if (head === null || !head.startsWith('*')) return null;
    const count = Number(head.slice(1));
    const args: string[] = [];
    for (let i = 0; i < count; i++) {
      const size = line();
      if (size === null) return null;
      const length = Number(size.slice(1));
      if (this.buffer.length < at + length + 2) return null;
      args.push(this.buffer.toString('latin1', at, at + length));
      at += length + 2;
    }
    this.buffer = this.buffer.subarray(at);
    return args;
  }
}

async function startMisbehavingServer(): Promise<MisbehavingServer> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, run: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      run();
    }, ms);
    timers.add(timer);
  };
  const state = { script: WELL_BEHAVED, closeOnAccept: false };

  /** Sockets that are closing: commands that arrived in the same chunk get nothing more on them. */
  const ending = new WeakSet<Socket>();
  /**
   * Writes one reply; resolves once its last byte is written. A reply that never ends (silence, an
   * endless bulk) never resolves, so the replies queued behind it are never sent, as on a stuck server.
   */
  const perform = (socket: Socket, reply: Reply): Promise<void> =>
    new Promise<void>((done) => {
      if (socket.destroyed || ending.has(socket)) return done();
      switch (reply.kind) {
        case 'bytes':
          socket.write(reply.bytes);
          return done();
        case 'bytes-then-close':
          ending.add(socket);
          socket.end(reply.bytes);
          return done();
        case 'bytes-then-reset':
          ending.add(socket);
          socket.write(reply.bytes, () => socket.resetAndDestroy());
          return done();
        case 'drip': {
          let offset = 0;
          const step = () => {
            if (socket.destroyed || offset >= reply.bytes.length) return done();
            socket.write(reply.bytes.subarray(offset, offset + 1));
            offset += 1;
            later(reply.everyMs, step);
          };
          step();
          return;
        }
        case 'late':
          later(reply.afterMs, () => {
            if (!socket.destroyed) socket.write(reply.bytes);
            done();
          });
          return;
        case 'silence':
          return;
        case 'endless-bulk': {
          // A bulk string that announces a gigabyte and trickles it (throttled so the test stays small).
          socket.write('$1000000000\r\n');
          const chunk = Buffer.alloc(16 * 1024, 0x78);
          const pump = () => {
            if (socket.destroyed) return;
            socket.write(chunk);
            later(2, pump);
          };
          pump();
          return;
        }
      }
    });

  const server: Server = createServer((socket) => {
    socket.on('error', () => {});
    if (state.closeOnAccept) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const reader = new CommandReader();
    // Replies go out in the order of the commands, each after the one before has been written in full,
    // as a real server sends them. Interleaving a dripped reply with the next one could form a valid
    // reply on the wire out of two garbage ones (`+` + `*2\r\n+PONG\r\n` reads as `+*2`, then `+PONG`).
    let replies = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      for (const command of reader.push(chunk)) {
        const name = (command[0] ?? '').toLowerCase();
        const script = state.script;
        const reply = name === 'ping' ? script.ping : name === 'info' ? script.info : script.handshake;
        replies = replies.then(() => perform(socket, reply));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1' }, resolve));
  const bound = server.address();
  if (bound === null || typeof bound === 'string') throw new Error('no port');
  return {
    address: { host: '127.0.0.1', port: bound.port },
    get script() {
      return state.script;
    },
    set script(script: Script) {
      state.script = script;
    },
    get closeOnAccept() {
      return state.closeOnAccept;
    },
    set closeOnAccept(value: boolean) {
      state.closeOnAccept = value;
    },
    closeConnections: () => {
      for (const socket of sockets) socket.destroy();
    },
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Generated replies.

/** Text that could pass for a valid PING reply or an INFO reply if it came through as-is. */
const LOOKS_VALID = /PONG|LOADING|MASTERDOWN|role:/;

const randomBytes = fc
  .uint8Array({ minLength: 1, maxLength: 64 })
  .filter((b) => !LOOKS_VALID.test(Buffer.from(b).toString('latin1')));

/** Replies of a type a PING or INFO answer never has, including arrays that stringify to "PONG". */
const wrongType = fc.constantFrom(
  ':1\r\n',
  ':-1\r\n',
  '$-1\r\n',
  '*-1\r\n',
  '*0\r\n',
  '*1\r\n+PONG\r\n',
  '*1\r\n$4\r\nPONG\r\n',
  '*2\r\n$7\r\nLOADING\r\n:1\r\n',
  '*1\r\n*1\r\n+MASTERDOWN\r\n',
  '*1\r\n$11\r\nrole:master\r\n',
  '%1\r\n+a\r\n+b\r\n',
  '_\r\n',
  '#t\r\n',
  ',1.5\r\n',
  '(12345678901234567890\r\n',
  '=9\r\ntxt:hello\r\n',
  '>1\r\n+PONG\r\n',
  '\r\n',
  'PONG\r\n',
  'HTTP/1.1 400 Bad Request\r\n\r\n',
);

/** Error and status replies that Sentinel does not count as valid. */
const invalidAnswer = fc.constantFrom(
  '-ERR unknown command\r\n',
  '-NOAUTH Authentication required.\r\n',
  '-WRONGPASS invalid username-password pair\r\n',
  '-BUSY Redis is busy running a script.\r\n',
  '-MISCONF Errors writing to disk\r\n',
  '-pong\r\n',
  '+pong\r\n',
  '+ PONG\r\n',
  '+OK\r\n',
  '-\r\n',
  '+\r\n',
);

/**
 * The start of a valid reply with the rest never sent. Only starts that no later bytes can complete into a
 * valid status: `+PONG` followed by the next reply's `$33…` would read as the status `PONG$33`, which
 * Sentinel's rule (the reply starts with PONG) rightly counts as valid.
 */
const partial = fc.constantFrom(
  '+PON',
  '$4\r\nPO',
  '$33\r\n# Replication\r\nrole:ma',
  '*1\r\n',
  '*2\r\n+PONG\r\n',
);
/**
 * Any start of a valid reply, when the connection is closed or reset right after it. Not `+PONG\r`: ioredis's
 * parser ends a status at the \r and takes it as PONG without waiting for the \n (hiredis would not). The
 * server did say PONG, so that leniency is harmless and not treated as garbage here.
 */
const partialThenEnd = fc.constantFrom('+PON', '+PONG', '-LOADING', '-MASTERDOW', '$4\r\nPO', '*1\r\n');

const hugeBulk = fc.integer({ min: 256 * 1024, max: 3 * 1024 * 1024 }).map((size) => {
  const body = Buffer.alloc(size, 0x7a);
  return Buffer.concat([text(`$${size}\r\n`), body, text('\r\n')]);
});

const garbageReply: fc.Arbitrary<Reply> = fc.oneof(
  randomBytes.map((b): Reply => ({ kind: 'bytes', bytes: b })),
  fc.oneof(wrongType, invalidAnswer).map((s): Reply => bytes(s)),
  partial.map((s): Reply => bytes(s)),
  partialThenEnd.map((s): Reply => ({ kind: 'bytes-then-close', bytes: text(s) })),
  partialThenEnd.map((s): Reply => ({ kind: 'bytes-then-reset', bytes: text(s) })),
  fc.oneof(randomBytes, fc.constant(text(''))).map((b): Reply => ({ kind: 'bytes-then-close', bytes: b })),
  fc.constant<Reply>({ kind: 'bytes-then-reset', bytes: text('') }),
  fc.constant<Reply>({ kind: 'silence' }),
  fc.constant<Reply>({ kind: 'endless-bulk' }),
  hugeBulk.map((b): Reply => ({ kind: 'bytes', bytes: b })),
  // A valid answer that comes after the probe has given up on it.
  fc.constantFrom('+PONG\r\n', '-LOADING loading\r\n').map(
    (s): Reply => ({
      kind: 'late',
      bytes: text(s),
      afterMs: TIMEOUT_MS + PROBE_TIMING.outerDeadlineSlackMs + 150,
    }),
  ),
  fc.constant<Reply>({ kind: 'drip', bytes: text('+PONG\r\n'), everyMs: TIMEOUT_MS }),
);

const handshakeReply: fc.Arbitrary<Reply> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(bytes('+OK\r\n')) },
  { weight: 1, arbitrary: garbageReply },
);

// ---------------------------------------------------------------------------------------------------------

let server: MisbehavingServer;
const probes: RedisProbe[] = [];

beforeAll(async () => {
  server = await startMisbehavingServer();
});
afterAll(async () => {
  await server.close();
});
afterEach(async () => {
  await Promise.all(probes.splice(0).map((p) => p.close()));
  server.script = WELL_BEHAVED;
  server.closeOnAccept = false;
});

function newProbe(withClientName: boolean): RedisProbe {
  const probe = createRedisProbe(server.address, {
    timeoutMs: TIMEOUT_MS,
    now: Date.now,
    ...(withClientName ? { clientName: 'sentinel-fuzz-cmd' } : {}),
  });
  probes.push(probe);
  return probe;
}

/** Runs a call and checks it settled (never threw) within `bound`. */
async function settled<T>(call: () => Promise<T>, bound = SETTLE_BOUND_MS): Promise<T> {
  const started = performance.now();
  const value = await call();
  const elapsed = performance.now() - started;
  expect(elapsed, `settled after ${Math.round(elapsed)} ms`).toBeLessThan(bound);
  return value;
}

function isValidPing(outcome: PingOutcome): boolean {
  const { result } = outcome;
  return result.type === 'reply' && ['pong', 'loading', 'masterdown'].includes(result.kind);
}

/** What the core makes of a garbage answer: no valid reply, the down timer running, SDOWN in due time. */
function expectCountedAsNoValidReply(outcome: PingOutcome): void {
  const since = outcome.sentAt - 1;
  const fresh = newObservation(server.address, 'master', since);
  const observed = applyPingOutcome(fresh, outcome);
  expect(observed.lastValidReplyAt).toBe(since);
  expect(observed.oldestUnansweredPingAt).not.toBeNull();
  const later = Math.max(outcome.completedAt, since) + DOWN_AFTER_MS + 1;
  const timings = { downAfterMs: DOWN_AFTER_MS, infoPeriodMs: 10_000, masterRebootDownAfterPeriodMs: 0 };
  expect(sdownCause(observed, timings, later)).toMatchObject({ rule: 'no-valid-reply' });
}

/**
 * After the garbage, a well-behaved server gets PONG within a few calls (the first may still meet the
 * garbage's connection; on a loaded machine one more may time out).
 */
async function expectRecovers(probe: RedisProbe): Promise<void> {
  server.script = WELL_BEHAVED;
  const seen: string[] = [];
  for (let attempt = 0; attempt < 5; attempt++) {
    const outcome = await settled(() => probe.ping());
    seen.push(JSON.stringify(outcome.result));
    if (isValidPing(outcome)) return;
  }
  expect.fail(`no PONG after the server behaved again: ${seen.join(', ')}`);
}

describe('Fuzz: the probe against a misbehaving server', () => {
  it('never counts a garbage PING answer as valid, settles in time, and recovers', async () => {
    await fc.assert(
      fc.asyncProperty(
        garbageReply,
        handshakeReply,
        fc.boolean(),
        fc.boolean(),
        async (ping, handshake, withClientName, withConcurrentInfo) => {
          server.script = { handshake, ping, info: WELL_BEHAVED.info };
          const probe = newProbe(withClientName);
          const [outcome] = await Promise.all([
            settled(() => probe.ping()),
            withConcurrentInfo ? settled(() => probe.info()) : Promise.resolve(null),
          ]);
          expect(isValidPing(outcome), `counted as valid: ${JSON.stringify(outcome.result)}`).toBe(false);
          expect(outcome.sentAt).toBeLessThanOrEqual(outcome.completedAt);
          expectCountedAsNoValidReply(outcome);
          await expectRecovers(probe);
          await settled(() => probe.close(), CLOSE_BOUND_MS);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('never takes a garbage INFO answer for INFO, and settles in time', async () => {
    await fc.assert(
      fc.asyncProperty(
        garbageReply,
        handshakeReply,
        fc.boolean(),
        async (info, handshake, withClientName) => {
          server.script = { handshake, ping: WELL_BEHAVED.ping, info };
          const probe = newProbe(withClientName);
          const outcome = await settled(() => probe.info());
          expect(['timeout', 'unreachable', 'bad-reply']).toContain(outcome.result.type);
          await expectRecovers(probe);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('still counts what is valid: PONG, LOADING and MASTERDOWN, also dripped byte by byte within the timeout', async () => {
    const valid: Reply[] = [
      bytes('+PONG\r\n'),
      bytes('+PONG extra\r\n'),
      bytes('-LOADING Redis is loading the dataset in memory\r\n'),
      bytes('-MASTERDOWN Link with MASTER is down\r\n'),
      { kind: 'drip', bytes: text('+PONG\r\n'), everyMs: 5 },
    ];
    for (const ping of valid) {
      server.script = { ...WELL_BEHAVED, ping };
      const probe = newProbe(true);
      const outcome = await settled(() => probe.ping());
      expect(isValidPing(outcome), JSON.stringify(outcome.result)).toBe(true);
    }
  });

  it('counts a bulk-string "PONG" as PONG: a known difference from Sentinel, which wants a status reply', async () => {
    // ioredis hands status and bulk replies over alike, as strings, so the probe cannot tell them apart.
    // A server that answers PING with a bulk "PONG" is a Redis-speaking server that is up, so this errs
    // on the side Sentinel's check protects less against, and is documented here rather than hidden.
    server.script = { ...WELL_BEHAVED, ping: bytes('$4\r\nPONG\r\n') };
    const outcome = await settled(() => newProbe(false).ping());
    expect(outcome.result).toMatchObject({ type: 'reply', kind: 'pong' });
  });

  it('reads a huge but valid INFO reply (3 MB) given a timeout long enough to receive it', async () => {
    const body = `# Replication\r\nrole:master\r\njunk:${'x'.repeat(3 * 1024 * 1024)}\r\n`;
    server.script = { ...WELL_BEHAVED, info: bytes(`$${body.length}\r\n${body}\r\n`) };
    const probe = createRedisProbe(server.address, { timeoutMs: 3_000, now: Date.now });
    probes.push(probe);
    const outcome = await settled(() => probe.info(), 3_000 + SETTLE_BOUND_MS);
    expect(outcome.result).toMatchObject({ type: 'info', info: { role: 'master' } });
  });

  describe('regressions found by the chaos run (a TCP proxy in front of each node)', () => {
    it('reports a lost connection only for a link that had answered, not for an accept-then-close', async () => {
      let lost = 0;
      const probe = createRedisProbe(server.address, {
        timeoutMs: TIMEOUT_MS,
        now: Date.now,
        onConnectionLost: () => {
          lost += 1;
        },
      });
      probes.push(probe);
      server.closeOnAccept = true;
      for (let i = 0; i < 3; i++) expect((await settled(() => probe.ping())).result.type).toBe('unreachable');
      await new Promise((r) => setTimeout(r, 50));
      expect(lost).toBe(0);

      server.closeOnAccept = false;
      expect((await settled(() => probe.ping())).result).toMatchObject({ type: 'reply', kind: 'pong' });
      server.closeConnections();
      await new Promise((r) => setTimeout(r, 100));
      expect(lost).toBe(1);
    });

    it('keeps the PING cadence while failed INFO attempts hit a server that accepts and closes', async () => {
      // Before the fix, each failed INFO attempt (here every 100 ms) re-woke the PING loop, so the next
      // regular PING came a full period after the last of those: a master back within down-after could
      // then go unprobed until after its SDOWN deadline (seen in the chaos run as a false failover).
      const probePeriodMs = 400;
      const pings: number[] = [];
      const monitor = new MasterMonitor({
        settings: masterSettings({
          port: server.address.port,
          downAfterMs: 2_000,
          probePeriodMs,
          probeTimeoutMs: TIMEOUT_MS,
          infoPeriodMs: 100,
        }),
        global: globalSettings(),
        masterAddress: server.address,
        probeFactory: (address, options) => {
          const probe = createRedisProbe(address, options);
          return {
            address,
            ping: () => {
              pings.push(Date.now());
              return probe.ping();
            },
            info: () => probe.info(),
            close: () => probe.close(),
          };
        },
        clock: systemClock,
        clientName: 'sentinel-fuzz-cmd',
        onEvent: () => {},
      });
      monitor.start();
      try {
        await new Promise((r) => setTimeout(r, 500));
        const outageStart = Date.now();
        server.closeOnAccept = true;
        server.closeConnections();
        await new Promise((r) => setTimeout(r, 1_200));
        const outageEnd = Date.now();
        server.closeOnAccept = false;
        await new Promise((r) => setTimeout(r, 2 * probePeriodMs));
        const during = pings.filter((t) => t >= outageStart && t < outageEnd).length;
        // One immediate re-probe when the link drops, then one per period; 2 of slack for a busy machine.
        expect(during).toBeLessThanOrEqual(1 + Math.ceil(1_200 / probePeriodMs) + 2);
        // And the server is probed again within a period of its return.
        expect(pings.some((t) => t >= outageEnd && t <= outageEnd + probePeriodMs + 200)).toBe(true);
      } finally {
        await monitor.stop();
      }
    });
  });

  describe('regressions found by this file', () => {
    it.each([
      ['*1\r\n+PONG\r\n', 'an array holding PONG'],
      ['*2\r\n$7\r\nLOADING\r\n:1\r\n', 'an array starting with LOADING'],
      ['*1\r\n*1\r\n+MASTERDOWN\r\n', 'a nested array holding MASTERDOWN'],
    ])('%j (%s) is a reply but not a valid one', async (reply) => {
      server.script = { ...WELL_BEHAVED, ping: bytes(reply) };
      const outcome = await settled(() => newProbe(false).ping());
      expect(outcome.result).toMatchObject({ type: 'reply', kind: 'error' });
      expectCountedAsNoValidReply(outcome);
    });
  });
});
