/**
 * A hand-over state that cannot be trusted (corrupt, another version, fields missing or of the wrong type
 * deep inside) must still give a working sentinel: it starts with fresh observations, says so once, and
 * writes its down-vote when the master dies. And nothing that fails after the lease is acquired leaves
 * the lease held. Real redis-server (killed with SIGKILL), DynamoDB Local.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDynamoClient } from '../../lib/adapters/dynamodb/client.js';
import { createTable } from '../../lib/adapters/dynamodb/schema.js';
import { DynamoStore } from '../../lib/adapters/dynamodb/store.js';
import { createRedisControl } from '../../lib/adapters/redis/control.js';
import { createRedisProbe } from '../../lib/adapters/redis/probe.js';
import type { SentinelConfig } from '../../lib/core/types.js';
import type { RedisProbeFactory } from '../../lib/ports.js';
import { HANDOVER_STATE_VERSION } from '../../lib/runtime/handover.js';
import { FAULT, type Log } from '../../lib/runtime/log.js';
import { allocatePorts, type RedisHandle, startRedis } from '../../lib/runtime/redisProcess.js';
import { SentinelRunner } from '../../lib/runtime/sentinel.js';
import { globalSettings, masterSettings } from '../support/settings.js';

const ID = 'sentinel-a';
/** Planted in every bad state: it must never reach a log line. */
const MARKER = 'planted-state-marker-7f3a';

let redis: RedisHandle;
let store: DynamoStore;
let config: SentinelConfig;
/** A state as a real invocation leaves it, as a template for the bad ones. */
let genuine: Record<string, unknown>;

interface LogLine {
  level: string;
  message: string;
  fields?: Record<string, unknown>;
}

function runner(args: { logs: LogLine[]; signal?: AbortSignal; probeFactory?: RedisProbeFactory }) {
  const log: Log = (level, message, fields) => args.logs.push({ level, message, fields });
  return new SentinelRunner({
    sentinelId: ID,
    config,
    store,
    probeFactory: args.probeFactory ?? createRedisProbe,
    controlFactory: createRedisControl,
    log,
    leaseWaitMs: 2_000,
    ...(args.signal ? { signal: args.signal } : {}),
  });
}

/** Leaves `text` as the hand-over state of a previous invocation that released the lease just now. */
async function plant(text: string): Promise<void> {
  const now = Date.now();
  const taken = await store.acquireLease(ID, { invocationId: `planter-${randomUUID()}`, now, ttlMs: 10_000 });
  if (!taken.acquired) throw new Error('the lease is held: a previous case left it behind');
  expect(await store.putHandoverState(ID, { token: taken.lease.token, state: text })).toBe(true);
  await store.releaseLease(ID, { invocationId: taken.lease.holder ?? '', token: taken.lease.token, now });
}

/** The state saved by the invocation that last released the lease, if any. */
async function savedState(): Promise<string | null> {
  const lease = await store.getLease(ID);
  return lease === null ? null : store.getHandoverState(ID, { token: lease.token });
}

/** The parts of a stored state the cases below change. */
interface StoredState {
  version: unknown;
  savedAt: unknown;
  marker?: string;
  tilt: Record<string, unknown>;
  masters: { mymaster: { memory: unknown; monitor: { master: Record<string, unknown> } } };
}

/** The genuine state with `change` applied, saved just now. */
function mutated(change: (state: StoredState) => void): string {
  const state = structuredClone(genuine) as unknown as StoredState;
  state.savedAt = Date.now();
  state.marker = MARKER;
  change(state);
  return JSON.stringify(state);
}

async function waitFor(predicate: () => Promise<boolean> | boolean, timeoutMs: number, what: string) {
  const until = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  const [port] = await allocatePorts(1);
  redis = await startRedis({ port: port as number });
  const endpoint = inject('dynamodbEndpoint');
  const table = `t-${randomUUID()}`;
  await createTable(createDynamoClient({ endpoint }), table);
  store = new DynamoStore(createDynamoClient({ endpoint }), table);
  config = {
    global: globalSettings({ sentinelIds: ['sentinel-a', 'sentinel-b', 'sentinel-c'] }),
    masters: [masterSettings({ ...redis.address, downAfterMs: 500 })],
  };
  // One real invocation, so the template has every field a real state has.
  const abort = new AbortController();
  const logs: LogLine[] = [];
  const first = runner({ logs, signal: abort.signal }).run();
  await waitFor(() => logs.some((l) => l.fields?.tick !== undefined), 10_000, 'a first tick');
  abort.abort();
  expect((await first).end).toBe('aborted');
  const text = await savedState();
  if (!text) throw new Error('the first invocation left no hand-over state');
  genuine = JSON.parse(text);
  expect(genuine.masters).toHaveProperty('mymaster');
});

afterAll(async () => {
  await redis?.stop();
});

const V = HANDOVER_STATE_VERSION;

const BAD_STATES: ReadonlyArray<{ what: string; text: () => string; reason: string | RegExp }> = [
  {
    what: 'corrupt JSON',
    text: () => `{"version":${V},"marker":"${MARKER}","savedAt":`,
    reason: /not valid JSON/,
  },
  { what: `a bare {"version":${V}}`, text: () => `{"version":${V}}`, reason: /^savedAt: missing$/ },
  {
    what: 'an older version',
    text: () => mutated((s) => (s.version = V - 1)),
    reason: `version ${V - 1} is older than this sentinel's (${V})`,
  },
  {
    what: 'a newer version',
    text: () => mutated((s) => (s.version = V + 1)),
    reason: `version ${V + 1} is newer than this sentinel's (${V})`,
  },
  {
    what: 'a master whose memory lacks fields',
    text: () => mutated((s) => (s.masters.mymaster.memory = { sdownSince: null })),
    reason: /^masters\["mymaster"\]\.memory\.odownSince: missing$/,
  },
  {
    what: 'TILT with a string where a boolean belongs',
    text: () => mutated((s) => (s.tilt.inTilt = 'no')),
    reason: /^tilt\.inTilt: expected a boolean, got a string$/,
  },
  {
    what: "the master's observation with strings where times belong",
    text: () =>
      mutated((s) => {
        s.masters.mymaster.monitor.master.lastValidReplyAt = '2999-01-01';
        s.masters.mymaster.monitor.master.oldestUnansweredPingAt = MARKER;
      }),
    reason:
      /^masters\["mymaster"\]\.monitor\.master\.lastValidReplyAt: expected a finite number, got a string$/,
  },
];

describe('a hand-over state that cannot be trusted', () => {
  for (const { what, text, reason } of BAD_STATES) {
    it(`${what}: a fresh start with one warning, and the sentinel votes when the master dies`, async () => {
      if (!redis.running) await redis.restart();
      await plant(text());
      const logs: LogLine[] = [];
      const abort = new AbortController();
      const sentinel = runner({ logs, signal: abort.signal });
      const run = sentinel.run();
      try {
        await waitFor(() => logs.some((l) => l.fields?.tick !== undefined), 10_000, 'a first tick');
        await redis.kill();
        await waitFor(
          async () =>
            (await store.listVotes('mymaster')).some(
              (v) => v.sentinelId === ID && v.down && v.invocationId === sentinel.invocationId,
            ),
          10_000,
          'the down-vote of the new invocation',
        );
      } finally {
        abort.abort();
      }
      const report = await run;
      expect(report.end).toBe('aborted');
      expect(report.resumedFromHandover).toBe(false);
      // Every tick worked.
      const ticks = logs.filter((l) => l.fields?.tick !== undefined);
      expect(ticks.length).toBeGreaterThan(0);
      for (const tick of ticks) expect(tick.fields?.failedMasters).toBe(0);
      expect(logs.filter((l) => l.message === 'tick failed for master')).toEqual([]);
      // One warning about the state, naming what was wrong and nothing of its content.
      const warnings = logs.filter((l) => l.level === 'warn' || l.level === 'error');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.message).toBe('hand-over state not usable; starting with fresh observations');
      if (typeof reason === 'string') expect(warnings[0]?.fields?.reason).toBe(reason);
      else expect(String(warnings[0]?.fields?.reason)).toMatch(reason);
      expect(JSON.stringify(logs)).not.toContain(MARKER);
      // The lease is released, with a state the next invocation can use.
      const lease = await store.getLease(ID);
      expect(lease?.holder).toBeNull();
      expect(JSON.parse((await savedState()) ?? 'null')).toMatchObject({ version: V });
    }, 30_000);
  }

  it('a failure after the lease was acquired releases the lease, without handing on the state', async () => {
    if (!redis.running) await redis.restart();
    await plant(mutated(() => {}));
    const logs: LogLine[] = [];
    // Starting the monitors fails: a probe cannot be created (e.g. a TLS setting the client rejects).
    const broken: RedisProbeFactory = () => {
      throw new Error('cannot create a probe');
    };
    await expect(runner({ logs, probeFactory: broken }).run()).rejects.toThrow('cannot create a probe');
    const lease = await store.getLease(ID);
    expect(lease?.holder).toBeNull();
    expect(await savedState()).toBeNull();
    expect(logs).toContainEqual(
      expect.objectContaining({
        level: 'error',
        fields: expect.objectContaining({ fault: FAULT.loopFailed }),
      }),
    );

    // The next invocation gets the lease at once instead of waiting for it to expire.
    const abort = new AbortController();
    const nextRunner = runner({ logs: [], signal: abort.signal });
    const next = nextRunner.run();
    await waitFor(
      async () => (await store.getLease(ID))?.holder === nextRunner.invocationId,
      5_000,
      'the next invocation to hold the lease',
    );
    abort.abort();
    expect((await next).end).toBe('aborted');
  }, 30_000);
});
