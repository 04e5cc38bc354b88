/**
 * A master's password goes to the replication group it was configured for, not to whatever server later
 * carries the master's name. Three sentinels run as the local runner runs them (SentinelRunner, a
 * DynamoDB Local table, the real ioredis probe and control), with `sentinel auth-pass` in the file for a
 * real redis-server started with requirepass. Then SENTINEL REMOVE + SENTINEL MONITOR (through the same
 * view the Redis-protocol endpoint and the HTTP API use) give the name to a small fake Redis that
 * answers PING and INFO and records every byte it receives. The fake must never see the password.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDynamoClient } from '../../lib/adapters/dynamodb/client.js';
import { createTable } from '../../lib/adapters/dynamodb/schema.js';
import { DynamoStore } from '../../lib/adapters/dynamodb/store.js';
import { createRedisControl } from '../../lib/adapters/redis/control.js';
import { createRedisProbe } from '../../lib/adapters/redis/probe.js';
import { storeSentinelView } from '../../lib/commands/storeView.js';
import { parseSentinelConfig } from '../../lib/config/parse.js';
import type { SentinelConfig } from '../../lib/core/types.js';
import { allocatePorts, type RedisHandle, startRedis } from '../../lib/runtime/redisProcess.js';
import { type RunningSentinels, startSentinels } from '../support/sentinels.js';

const SECRET = `pw-${randomUUID()}`;
const DOWN_AFTER_MS = 1_000;
const INFO_PERIOD_MS = 1_000;
/** Probe period is min(down-after, 1 s): the fake must have been probed this many times by each sentinel. */
const PROBE_PERIODS_WATCHED = 5;
/** Generous bounds for "it happens" (a loaded 2-core machine); the assertions are about bytes, not time. */
const WITHIN_MS = 30_000;
const SENTINEL_IDS = ['sentinel-a', 'sentinel-b', 'sentinel-c'] as const;

// ------------------------------------------------------------------------------------------------------
// A fake Redis: enough RESP to answer PING, INFO, AUTH, CLIENT; records every command and every byte.

interface ReceivedCommand {
  readonly connection: number;
  readonly args: readonly string[];
}

interface RecordingRedis {
  readonly port: number;
  readonly commands: ReceivedCommand[];
  /** Everything received, as text: the password must not appear in it, in any command. */
  received(): string;
  /** PINGs per client name (CLIENT SETNAME), to know that each sentinel probed this server. */
  pingsBy(clientName: string): number;
  close(): Promise<void>;
}

/** INFO of a master reporting `replicas` (ports on 127.0.0.1) as connected. */
function infoReply(replicas: readonly number[]): string {
  return [
    '# Server',
    'redis_version:7.0.15',
    `run_id:${'f'.repeat(40)}`,
    '# Replication',
    'role:master',
    `connected_slaves:${replicas.length}`,
    ...replicas.map((port, i) => `slave${i}:ip=127.0.0.1,port=${port},state=online,offset=0,lag=0`),
    'master_repl_offset:0',
    '',
  ].join('\r\n');
}

/** Parses complete RESP arrays of bulk strings (what clients send) off the front of `buffer`. */
function takeCommands(buffer: Buffer): { commands: string[][]; rest: Buffer } {
  const commands: string[][] = [];
  let at = 0;
  for (;;) {
    const start = at;
    const lineEnd = buffer.indexOf('\r\n', at);
    if (lineEnd < 0 || buffer[at] !== 0x2a /* * */) return { commands, rest: buffer.subarray(start) };
    const count = Number(buffer.subarray(at + 1, lineEnd).toString());
    at = lineEnd + 2;
    const args: string[] = [];
    for (let i = 0; i < count; i++) {
      const headerEnd = buffer.indexOf('\r\n', at);
      if (headerEnd < 0) return { commands, rest: buffer.subarray(start) };
      const length = Number(buffer.subarray(at + 1, headerEnd).toString());
      const dataEnd = headerEnd + 2 + length;
      if (buffer.length < dataEnd + 2) return { commands, rest: buffer.subarray(start) };
      args.push(buffer.subarray(headerEnd + 2, dataEnd).toString());
      at = dataEnd + 2;
    }
    commands.push(args);
  }
}

function replyTo(args: readonly string[], replicas: readonly number[]): string {
  switch (args[0]?.toUpperCase()) {
    case 'PING':
      return '+PONG\r\n';
    case 'INFO': {
      const info = infoReply(replicas);
      return `$${Buffer.byteLength(info)}\r\n${info}\r\n`;
    }
    default:
      // AUTH, CLIENT SETNAME and anything else: accepted, as a server fishing for passwords would.
      return '+OK\r\n';
  }
}

/** `replicas`: ports its INFO reports as its replicas (a server can claim any, which sentinels then probe). */
async function startRecordingRedis(replicas: readonly number[] = []): Promise<RecordingRedis> {
  const commands: ReceivedCommand[] = [];
  const chunks: Buffer[] = [];
  const names = new Map<number, string>();
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((socket) => {
    const connection = ++connections;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const { commands: parsed, rest } = takeCommands(Buffer.concat([pending, chunk]));
      pending = rest;
      for (const args of parsed) {
        commands.push({ connection, args });
        if (args[0]?.toUpperCase() === 'CLIENT' && args[1]?.toUpperCase() === 'SETNAME') {
          names.set(connection, args[2] ?? '');
        }
        socket.write(replyTo(args, replicas));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port for the fake Redis');
  return {
    port: address.port,
    commands,
    received: () => Buffer.concat(chunks).toString('latin1'),
    pingsBy: (clientName) =>
      commands.filter((c) => c.args[0]?.toUpperCase() === 'PING' && names.get(c.connection) === clientName)
        .length,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ------------------------------------------------------------------------------------------------------

/** The probe's CLIENT SETNAME for a sentinel (lib/runtime/sentinel/slots.ts). */
const clientNameOf = (id: string): string => `sentinel-${id}-cmd`;

let real: RedisHandle;
let fake: RecordingRedis;
/** A second fake, which `fake` reports as its replica (third test only). */
let fakeReplica: RecordingRedis | null = null;
let sentinels: RunningSentinels | null = null;

beforeAll(async () => {
  const [port] = (await allocatePorts(1)) as [number];
  real = await startRedis({ port, args: ['--requirepass', SECRET], auth: { pass: SECRET } });
});

afterAll(async () => {
  await real?.stop();
});

afterEach(async () => {
  await sentinels?.stop();
  sentinels = null;
  await fake?.close();
  await fakeReplica?.close();
  fakeReplica = null;
});

/** `ids`: the sentinels to run (a subset runs as invocations of those sentinels only). */
async function started(fakeReportsReplicas: readonly number[] = [], ids: readonly string[] = SENTINEL_IDS) {
  fake = await startRecordingRedis(fakeReportsReplicas);
  const endpoint = inject('dynamodbEndpoint');
  const table = `t-${randomUUID()}`;
  await createTable(createDynamoClient({ endpoint }), table);
  const config: SentinelConfig = parseSentinelConfig(
    [
      `sentinel members ${SENTINEL_IDS.join(' ')}`,
      `sentinel monitor mymaster ${real.address.host} ${real.address.port} 2`,
      `sentinel auth-pass mymaster ${SECRET}`,
      `sentinel down-after-milliseconds mymaster ${DOWN_AFTER_MS}`,
      // INFO every second rather than 10: replicas a server reports are found within the test's wait.
      `sentinel info-period mymaster ${INFO_PERIOD_MS}`,
      '',
    ].join('\n'),
    '<test>',
  );
  const store = new DynamoStore(createDynamoClient({ endpoint }), table);
  // Another invocation of the same sentinels, against the same table (a Lambda invoked again).
  const invoke = () =>
    startSentinels({
      config,
      storeFor: () => new DynamoStore(createDynamoClient({ endpoint }), table),
      probeFactoryFor: () => createRedisProbe,
      controlFactoryFor: () => createRedisControl,
      ids,
    });
  const s = invoke();
  sentinels = s;
  // What SENTINEL REMOVE / MONITOR run through on the endpoint and the HTTP API.
  const view = storeSentinelView(store, config);
  // Positive control: the password is configured, and every sentinel authenticates to the real master.
  await s.waitFor(() => s.eventsOf('+monitor').length === ids.length, WITHIN_MS, `+monitor x${ids.length}`);
  await waitUntil(async () => {
    const names = await clientNamesOnReal();
    return ids.every((id) => names.includes(clientNameOf(id)));
  }, 'every sentinel authenticated to the real master');
  return { s, view, store, invoke };
}

async function clientNamesOnReal(): Promise<string[]> {
  const client = new Redis({ ...real.address, password: SECRET, lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await client.connect();
    const list = (await client.client('LIST')) as string;
    return [...list.matchAll(/ name=(\S*)/g)].map((m) => m[1] ?? '');
  } finally {
    client.disconnect();
  }
}

async function waitUntil(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const until = Date.now() + WITHIN_MS;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out after ${WITHIN_MS} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Every sentinel has probed the server `at` (default: the fake master) for several more probe periods. */
async function probedForSeveralPeriods(
  at: RecordingRedis = fake,
  ids: readonly string[] = SENTINEL_IDS,
): Promise<void> {
  const from = new Map(ids.map((id) => [id, at.pingsBy(clientNameOf(id))]));
  await waitUntil(
    () => ids.every((id) => at.pingsBy(clientNameOf(id)) >= (from.get(id) ?? 0) + PROBE_PERIODS_WATCHED),
    `${PROBE_PERIODS_WATCHED} PINGs from each sentinel at the fake server on port ${at.port}`,
  );
}

function expectNoPasswordAt(at: RecordingRedis = fake): void {
  const auths = at.commands.filter((c) => ['AUTH', 'HELLO'].includes(c.args[0]?.toUpperCase() ?? ''));
  expect(auths.length, `AUTH or HELLO commands received by the fake server on port ${at.port}`).toBe(0);
  expect(
    at.received().includes(SECRET),
    `the password among the bytes the fake server on port ${at.port} received`,
  ).toBe(false);
}

/** The warning each sentinel logs once for the incarnation at the fake's address (never the password). */
function withheldWarnings(s: RunningSentinels) {
  return s.logs.filter(
    (l) => l.level === 'warn' && l.message.startsWith('password of master mymaster not sent'),
  );
}

describe('a stored password is sent only to the replication group it was configured for', () => {
  it('REMOVE + MONITOR at another address at once: the new server never receives the password', async () => {
    const { s, view } = await started();
    expect(await view.remove('mymaster')).toEqual({ ok: true });
    expect(await view.monitor('mymaster', '127.0.0.1', String(fake.port), '2')).toEqual({ ok: true });
    await probedForSeveralPeriods();
    expectNoPasswordAt();
    // Each sentinel said so, once, naming both addresses.
    const warnings = withheldWarnings(s);
    expect(warnings.map((w) => w.sentinelId).sort()).toEqual([...SENTINEL_IDS]);
    for (const warning of warnings) {
      expect(warning.fields).toMatchObject({
        master: 'mymaster',
        passwordBoundTo: `${real.address.host}:${real.address.port}`,
        origin: 'monitor',
        originAddress: `127.0.0.1:${fake.port}`,
      });
    }
    expect(JSON.stringify(s.logs)).not.toContain(SECRET);
    expect(JSON.stringify(s.events)).not.toContain(SECRET);
  }, 90_000);

  it('REMOVE, then MONITOR at another address: no password there; MONITOR back at the file address: it is used again', async () => {
    const { s, view } = await started();
    expect(await view.remove('mymaster')).toEqual({ ok: true });
    await s.waitFor(() => s.eventsOf('-monitor').length === SENTINEL_IDS.length, WITHIN_MS, '-monitor x3');
    expect(await view.monitor('mymaster', '127.0.0.1', String(fake.port), '2')).toEqual({ ok: true });
    await s.waitFor(
      () => s.eventsOf('+monitor').filter((e) => e.payload.includes(` ${fake.port} `)).length === 3,
      WITHIN_MS,
      '+monitor of the fake x3',
    );
    await probedForSeveralPeriods();
    expectNoPasswordAt();
    expect(withheldWarnings(s)).toHaveLength(SENTINEL_IDS.length);

    // The password is bound to the file's address, not withheld from every MONITOR: back there, it is
    // sent again (without it the real master would answer NOAUTH and be +sdown after down-after).
    expect(await view.remove('mymaster')).toEqual({ ok: true });
    await s.waitFor(
      () => s.eventsOf('-monitor').length === 2 * SENTINEL_IDS.length,
      WITHIN_MS,
      '-monitor x6',
    );
    const realPort = String(real.address.port);
    expect(await view.monitor('mymaster', real.address.host, realPort, '2')).toEqual({ ok: true });
    await s.waitFor(
      () => s.eventsOf('+monitor').filter((e) => e.payload.includes(` ${realPort} `)).length === 6,
      WITHIN_MS,
      '+monitor of the real master again x3',
    );
    // The sentinels' connections to it were closed at the first REMOVE: these are new, authenticated ones.
    await waitUntil(async () => {
      const names = await clientNamesOnReal();
      return SENTINEL_IDS.every((id) => names.includes(clientNameOf(id)));
    }, 'every sentinel authenticated to the real master again');
    await new Promise((resolve) => setTimeout(resolve, 3 * DOWN_AFTER_MS));
    expect(s.eventsOf('+sdown').filter((e) => e.payload.startsWith('master mymaster'))).toEqual([]);
    expectNoPasswordAt();
    expect(JSON.stringify(s.logs)).not.toContain(SECRET);
  }, 120_000);

  it("a replica reported by the other server is not given the password when the name returns to the file's address", async () => {
    fakeReplica = await startRecordingRedis();
    const replica = fakeReplica;
    const { s, view, store } = await started([replica.port]);
    const realPort = String(real.address.port);
    // The other server claims a replica; the sentinels probe it, without a password, and record it.
    expect(await view.remove('mymaster')).toEqual({ ok: true });
    expect(await view.monitor('mymaster', '127.0.0.1', String(fake.port), '2')).toEqual({ ok: true });
    await probedForSeveralPeriods(replica);
    expect((await store.listReplicas('mymaster')).map((r) => r.port)).toContain(replica.port);
    // Back to the file's address, where the password belongs: the claimed replica is not that group's.
    expect(await view.remove('mymaster')).toEqual({ ok: true });
    expect(await view.monitor('mymaster', real.address.host, realPort, '2')).toEqual({ ok: true });
    expect((await store.listReplicas('mymaster')).map((r) => r.port)).not.toContain(replica.port);
    await waitUntil(
      () => s.runners.every((r) => r.snapshots().mymaster?.master.address.port === real.address.port),
      'every sentinel probing the real master again',
    );
    // Several probe periods with the password in use at the real master, and none of it at the replica.
    await waitUntil(async () => {
      const names = await clientNamesOnReal();
      return SENTINEL_IDS.every((id) => names.includes(clientNameOf(id)));
    }, 'every sentinel authenticated to the real master again');
    await new Promise((resolve) => setTimeout(resolve, PROBE_PERIODS_WATCHED * DOWN_AFTER_MS));
    for (const runner of s.runners) {
      const probed = runner.snapshots().mymaster?.replicas.map((r) => r.address.port);
      expect(probed, runner.sentinelId).not.toContain(replica.port);
    }
    expectNoPasswordAt(replica);
    expectNoPasswordAt(fake);
    expect(s.eventsOf('+sdown').filter((e) => e.payload.startsWith('master mymaster'))).toEqual([]);
  }, 120_000);

  it("a hand-over state saved before REMOVE + MONITOR: the next invocation does not carry the old incarnation's replicas to the new one", async () => {
    fakeReplica = await startRecordingRedis();
    const replica = fakeReplica;
    const ID = 'sentinel-a';
    const { s, view, store, invoke } = await started([replica.port], [ID]);
    // The name moves to the other server, which claims a replica: probed (without a password) and
    // carried in this invocation's observations.
    expect(await view.remove('mymaster')).toEqual({ ok: true });
    expect(await view.monitor('mymaster', '127.0.0.1', String(fake.port), '2')).toEqual({ ok: true });
    await probedForSeveralPeriods(replica, [ID]);
    // The invocation ends (its deadline): it hands its observations over in the lease.
    await s.stop();
    sentinels = null;
    const released = await store.getLease(ID);
    const saved = released && (await store.getHandoverState(ID, { token: released.token }));
    if (!saved) throw new Error('the invocation left no hand-over state');
    const state = JSON.parse(saved);
    // Positive control: the state carries the claimed replica.
    expect(
      state.masters.mymaster.monitor.replicas.map((r: { address: { port: number } }) => r.address.port),
    ).toContain(replica.port);

    // Between invocations, the name returns to the file's address, where the password belongs.
    expect(await view.remove('mymaster')).toEqual({ ok: true });
    expect(await view.monitor('mymaster', real.address.host, String(real.address.port), '2')).toEqual({
      ok: true,
    });
    // The state as if saved just now: the next invocation resumes it (it is not too old to use).
    const planted = await store.acquireLease(ID, { invocationId: 'planter', now: Date.now(), ttlMs: 5_000 });
    if (!planted.acquired) throw new Error('the lease is still held');
    await store.putHandoverState(ID, {
      token: planted.lease.token,
      state: JSON.stringify({ ...state, savedAt: Date.now() }),
    });
    await store.releaseLease(ID, { invocationId: 'planter', token: planted.lease.token, now: Date.now() });

    const next = invoke();
    sentinels = next;
    await waitUntil(
      async () => (await clientNamesOnReal()).includes(clientNameOf(ID)),
      'the next invocation authenticated to the real master',
    );
    await new Promise((resolve) => setTimeout(resolve, PROBE_PERIODS_WATCHED * DOWN_AFTER_MS));
    const runner = next.runners[0];
    expect(runner?.snapshots().mymaster?.master.address.port).toBe(real.address.port);
    expect(runner?.snapshots().mymaster?.replicas.map((r) => r.address.port)).not.toContain(replica.port);
    expectNoPasswordAt(replica);
    expectNoPasswordAt(fake);
    // The rest of the state was used; only this master's part, from the other incarnation, was not.
    expect(next.logs).toContainEqual(
      expect.objectContaining({ level: 'info', message: 'resuming from hand-over state' }),
    );
    expect(next.logs).toContainEqual(
      expect.objectContaining({
        level: 'info',
        message:
          'hand-over state of a master is from another incarnation; starting it with fresh observations',
        fields: {
          master: 'mymaster',
          handedOverOrigin: `monitor 127.0.0.1:${fake.port}`,
          origin: `monitor ${real.address.host}:${real.address.port}`,
        },
      }),
    );
    expect(next.eventsOf('+sdown').filter((e) => e.payload.startsWith('master mymaster'))).toEqual([]);
    expect(JSON.stringify(next.logs)).not.toContain(SECRET);
  }, 120_000);
});
