/**
 * The leader fence end to end, in virtual time: the real FailoverRunner and MemoryStore, a fake Redis
 * whose every control command takes its whole deadline (controlCommandDeadlineMs, the control adapter's
 * outer deadline) and whose INFO takes as long as a probe may. With every probe-timeout and leader-lease
 * the configuration accepts, each command ends before the leader lease the store held when it was sent,
 * with the clock-skew margin to spare. With probe-timeout 4000 and the default lease, which the
 * configuration refuses, a command ends after the lease: the rule has teeth.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../lib/adapters/memory/store.js';
import { SENTINEL_DEFAULTS, SETTING_LIMITS } from '../../../lib/core/constants.js';
import { controlCommandDeadlineMs, minimumLeaderLeaseMs } from '../../../lib/core/fence.js';
import { applyInfoOutcome, applyPingOutcome, newObservation } from '../../../lib/core/observation.js';
import type { ReplicaCandidate } from '../../../lib/core/selection.js';
import type { Address, ReplicationInfo } from '../../../lib/core/types.js';
import type { RedisControl, RedisProbeFactory } from '../../../lib/ports.js';
import type { Clock } from '../../../lib/runtime/clock.js';
import { FailoverRunner } from '../../../lib/runtime/failover.js';
import { FakeRedisWorld } from '../../support/fakeRedis.js';
import { globalSettings, masterSettings } from '../../support/settings.js';

const M = { host: '10.0.0.1', port: 6379 };
const REPLICAS: readonly Address[] = [2, 3, 4, 5].map((i) => ({ host: `10.0.0.${i}`, port: 6379 }));

/** Time moves only when the runner sleeps or a fake Redis call takes its time. */
class VirtualClock implements Clock {
  constructor(public t: number) {}
  now(): number {
    return this.t;
  }
  async sleep(ms: number): Promise<void> {
    this.t += Math.max(0, ms);
  }
}

function replicaInfo(offset: number): ReplicationInfo {
  return {
    runId: null,
    role: 'replica',
    loading: false,
    masterHost: M.host,
    masterPort: M.port,
    masterLinkUp: false,
    masterLinkDownSinceMs: 100,
    replicaPriority: 100,
    replicaOffset: offset,
    replicaAnnounced: true,
    masterReplOffset: offset,
    connectedReplicas: [],
    redisVersion: '7.0.15',
  };
}

function candidate(address: Address, offset: number, now: number): ReplicaCandidate {
  let obs = newObservation(address, 'replica', now - 1_000);
  obs = applyPingOutcome(obs, {
    sentAt: now,
    completedAt: now,
    result: { type: 'reply', kind: 'pong', text: 'PONG' },
  });
  obs = applyInfoOutcome(
    obs,
    { sentAt: now, completedAt: now, result: { type: 'info', info: replicaInfo(offset) } },
    0,
  ).observation;
  return { observation: obs, sdown: false };
}

interface Scenario {
  readonly probeTimeoutMs: number;
  readonly leaderLeaseMs: number;
  /** How long each INFO of the runner takes (a probe may take up to its deadline). */
  readonly infoDelayMs: number;
  /** The first REPLICAOF NO ONE is lost (not applied, no reply in its deadline), so the runner sends it again. */
  readonly dropFirstPromotion: boolean;
  readonly replicas: number;
}

interface CommandTiming {
  readonly endedAt: number;
  /** The leader lease the store held when the command was sent. */
  readonly leaseUntil: number;
}

async function runFailover(scenario: Scenario): Promise<{ end: string; commands: CommandTiming[] }> {
  const clock = new VirtualClock(1_700_000_000_000);
  const world = new FakeRedisWorld();
  const replicas = REPLICAS.slice(0, scenario.replicas);
  for (const [i, address] of replicas.entries()) {
    world.set(address, 'up');
    world.setInfo(address, replicaInfo(1_000 - i));
  }
  const settings = masterSettings({
    ...M,
    downAfterMs: SETTING_LIMITS.downAfterMs.maximum,
    probeTimeoutMs: scenario.probeTimeoutMs,
    leaderLeaseMs: scenario.leaderLeaseMs,
    failoverTimeoutMs: SETTING_LIMITS.failoverTimeoutMs.maximum,
    parallelSyncs: 1,
  });
  const store = new MemoryStore();
  await store.ensureMaster({ name: settings.name, ...M, now: clock.now() });
  const claim = await store.claimEpoch(settings.name, {
    mode: 'start',
    expectedEpoch: 0,
    sentinelId: 'sentinel-a',
    leaseUntil: clock.now() + settings.leaderLeaseMs,
    progress: {
      oldMaster: M,
      promoted: null,
      rejected: [],
      promotionSentAt: null,
      replicas: [],
      forced: false,
      coordinated: false,
    },
    now: clock.now(),
  });
  expect(claim.won).toBe(true);

  const fake = world.controlFactory()({ timeoutMs: scenario.probeTimeoutMs, now: () => clock.now() });
  const commands: CommandTiming[] = [];
  let promotionsDropped = 0;
  const control: RedisControl = {
    replicaOf: async (target, master) => {
      const leaseUntil = (await store.getMaster(settings.name))?.leaderLeaseUntil ?? 0;
      clock.t += controlCommandDeadlineMs(scenario.probeTimeoutMs);
      commands.push({ endedAt: clock.now(), leaseUntil });
      if (master === null && scenario.dropFirstPromotion && promotionsDropped === 0) {
        promotionsDropped += 1;
        return { ok: false, reason: 'timeout' };
      }
      return fake.replicaOf(target, master);
    },
    failoverTo: (master, target, timeoutMs) => fake.failoverTo(master, target, timeoutMs),
  };
  const probes = world.factory();
  const slowProbes: RedisProbeFactory = (address, options) => {
    const probe = probes(address, options);
    return {
      address,
      ping: () => probe.ping(),
      info: async () => {
        clock.t += scenario.infoDelayMs;
        return probe.info();
      },
      close: () => probe.close(),
    };
  };
  const runner = new FailoverRunner({
    settings,
    global: globalSettings(),
    sentinelId: 'sentinel-a',
    epoch: 1,
    store,
    control,
    probeFactory: slowProbes,
    clock,
    log: () => {},
    emit: () => {},
    view: () => ({
      replicas: replicas.map((address, i) => candidate(address, 1_000 - i, clock.now())),
      masterSdownSince: clock.now() - 500,
    }),
    signal: new AbortController().signal,
  });
  return { end: await runner.run(), commands };
}

describe('the leader fence (lib/core/fence.ts) with the failover runner', () => {
  it('ends every command before the lease, with the skew margin, for any accepted configuration (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: SETTING_LIMITS.probeTimeoutMs.maximum }).chain((probeTimeoutMs) =>
          fc.record({
            probeTimeoutMs: fc.constant(probeTimeoutMs),
            leaderLeaseMs: fc.integer({
              min: minimumLeaderLeaseMs(probeTimeoutMs),
              max: SETTING_LIMITS.leaderLeaseMs.maximum,
            }),
            infoDelayMs: fc.integer({ min: 0, max: controlCommandDeadlineMs(probeTimeoutMs) }),
            dropFirstPromotion: fc.boolean(),
            replicas: fc.integer({ min: 1, max: REPLICAS.length }),
          }),
        ),
        async (scenario) => {
          const { end, commands } = await runFailover(scenario);
          expect(end).toBe('completed');
          expect(commands.length).toBeGreaterThanOrEqual(scenario.replicas);
          for (const command of commands) {
            expect(command.endedAt).toBeLessThanOrEqual(
              command.leaseUntil - SENTINEL_DEFAULTS.leaderClockSkewMarginMs,
            );
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('has teeth: probe-timeout 4000 with leader-lease 5000 (refused by the configuration) lets a command outlive the lease', async () => {
    const scenario = {
      probeTimeoutMs: 4_000,
      leaderLeaseMs: 5_000,
      infoDelayMs: 1_500,
      dropFirstPromotion: true,
      // Two replicas to re-point: the second is told after an INFO of the first, without a write between.
      replicas: 3,
    };
    const { commands } = await runFailover(scenario);
    expect(commands.some((c) => c.endedAt > c.leaseUntil)).toBe(true);
    // The same failover with the lease the configuration asks for keeps every command inside it.
    const fenced = await runFailover({ ...scenario, leaderLeaseMs: minimumLeaderLeaseMs(4_000) });
    expect(fenced.end).toBe('completed');
    for (const c of fenced.commands) {
      expect(c.endedAt).toBeLessThanOrEqual(c.leaseUntil - SENTINEL_DEFAULTS.leaderClockSkewMarginMs);
    }
  });
});
