/**
 * Failovers on real processes: redis-server started and killed by PID, DynamoDB Local, three sentinels.
 * Sentinel's own acceptance scenarios, as far as they apply.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createRedisControl } from '../../lib/adapters/redis/control.js';
import type { MasterRecord } from '../../lib/core/types.js';
import { requestManualFailover } from '../../lib/runtime/manualFailover.js';
import { allocatePorts, startRedis } from '../../lib/runtime/redisProcess.js';
import { type RealCluster, roleOf, startRealCluster } from '../support/realCluster.js';
import { startTcpProxy } from '../support/tcpProxy.js';

const DOWN_AFTER_MS = 1_000;
const WITHIN_MS = 20_000;
/** Fast INFO and a short failover-timeout and leader lease, so the scenarios finish in seconds. */
const SETTINGS = { infoPeriodMs: 1_000, failoverTimeoutMs: 10_000, leaderLeaseMs: 2_000 };

let cluster: RealCluster | null = null;
afterEach(async () => {
  await cluster?.stop();
  cluster = null;
});

async function started(
  options: Parameters<typeof startRealCluster>[0] extends infer O ? Partial<O> : never = {},
) {
  cluster = await startRealCluster({
    endpoint: inject('dynamodbEndpoint'),
    downAfterMs: DOWN_AFTER_MS,
    ...options,
    settings: { ...SETTINGS, ...options.settings },
  });
  const c = cluster;
  await c.sentinels.waitFor(() => c.sentinels.eventsOf('+slave').length === 6, 10_000, 'replicas discovered');
  return c;
}

async function waitForRecord(
  c: RealCluster,
  predicate: (r: MasterRecord) => boolean,
  what: string,
): Promise<MasterRecord> {
  const until = Date.now() + WITHIN_MS;
  for (;;) {
    const record = await c.store.getMaster('mymaster');
    if (record && predicate(record)) return record;
    if (Date.now() > until)
      throw new Error(`timed out waiting for ${what}; record: ${JSON.stringify(record)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function eventually<T>(
  probe: () => Promise<T>,
  ok: (value: T) => boolean,
  what: string,
  timeoutMs = WITHIN_MS,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined && ok(value)) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const LEADER_SEQUENCE = [
  '+sdown',
  '+odown',
  '+try-failover',
  '+elected-leader',
  '+failover-state-select-slave',
  '+selected-slave',
  '+failover-state-send-slaveof-noone',
  '+failover-state-wait-promotion',
  '+promoted-slave',
  // Announced as soon as the address switched, before any replica is re-pointed (Sentinel: at the end).
  '+switch-master',
  '+failover-state-reconf-slaves',
  '+slave-reconf-sent',
  '+slave-reconf-inprog',
  '+slave-reconf-done',
  '+failover-end',
];

describe('Failover on real Redis and DynamoDB Local', () => {
  it('promotes a replica, re-points the other, switches the address, and converts the old master when it returns', async () => {
    const c = await started();
    const s = c.sentinels;
    const oldPort = c.topology.master.address.port;
    const replicaPorts = c.topology.replicas.map((r) => r.address.port);
    await c.topology.master.kill();

    const record = await waitForRecord(
      c,
      (r) => r.failoverState === 'none' && r.configEpoch >= 1,
      'failover end',
    );
    expect(replicaPorts).toContain(record.port);
    expect(record.configEpoch).toBe(record.currentEpoch);
    const promoted = record.port;
    const other = replicaPorts.find((p) => p !== promoted) as number;

    // The new master is a master; the other replica follows it with its link up.
    expect((await roleOf({ host: '127.0.0.1', port: promoted })).role).toBe('master');
    await eventually(
      () => roleOf({ host: '127.0.0.1', port: other }),
      (r) => r.role === 'slave' && r.masterPort === promoted && r.linkUp,
      'the other replica linked to the new master',
    );

    // The leader's events, in Sentinel's order, with Sentinel's payloads.
    const leader = s.eventsOf('+elected-leader')[0]?.sentinelId;
    const leaderEvents = s.events
      .filter((e) => e.sentinelId === leader && e.payload.includes('mymaster'))
      .map((e) => e.type);
    const sequence = leaderEvents.filter((t) => LEADER_SEQUENCE.includes(t));
    expect(sequence.filter((t, i) => sequence.indexOf(t) === i)).toEqual(LEADER_SEQUENCE);
    const switchMaster = s.events.find((e) => e.sentinelId === leader && e.type === '+switch-master');
    expect(switchMaster?.payload).toBe(`mymaster 127.0.0.1 ${oldPort} 127.0.0.1 ${promoted}`);
    // The observers switch too.
    await s.waitFor(
      () => s.eventsOf('+switch-master').length === 3,
      5_000,
      '+switch-master from every sentinel',
    );
    expect(s.eventsOf('+elected-leader')).toHaveLength(1);

    // The old master comes back as a master with an old dataset: it is converted into a replica.
    await c.topology.master.restart();
    await s.waitFor(() => s.eventsOf('+convert-to-slave').length >= 1, WITHIN_MS, '+convert-to-slave');
    await eventually(
      () => roleOf(c.topology.master.address),
      (r) => r.role === 'slave' && r.masterPort === promoted && r.linkUp,
      'the old master replicating from the new one',
    );
    expect((await c.store.getMaster('mymaster'))?.port).toBe(promoted);
    // The switch resets what was judged of the old master: no -sdown/-odown naming the new one, and
    // no +fix-slave-config for the replica the failover itself re-pointed.
    expect(
      s.events.filter((e) => e.type === '-sdown' && e.payload === `master mymaster 127.0.0.1 ${promoted}`),
    ).toEqual([]);
    expect(s.eventsOf('+fix-slave-config')).toEqual([]);
  });

  it('records the choice of replica with the winning claim: no select_slave write, the promoted one named from the start', async () => {
    const claims: MasterRecord[] = [];
    const steps: string[] = [];
    // What each control the sentinels create is asked, in order, by control.
    const controls: string[][] = [];
    const c = await started({
      controlFactoryFor: () => (options) => {
        const real = createRedisControl(options);
        const calls: string[] = [];
        controls.push(calls);
        return {
          replicaOf: (target, master) => {
            calls.push(`replicaOf ${target.port} ${master === null ? 'NO ONE' : master.port}`);
            return real.replicaOf(target, master);
          },
          failoverTo: (master, target, ms) => real.failoverTo(master, target, ms),
          prepare: (target) => {
            calls.push(`prepare ${target.port}`);
            real.prepare?.(target);
          },
          close: () => {
            calls.push('close');
            real.close?.();
          },
        };
      },
      wrapStore: (store) => {
        const { claimEpoch, advanceFailover } = store;
        store.claimEpoch = async (name, request) => {
          const result = await claimEpoch.call(store, name, request);
          if (result.won) claims.push(result.record);
          return result;
        };
        store.advanceFailover = async (name, request) => {
          const result = await advanceFailover.call(store, name, request);
          if (result.ok) steps.push(`${result.record.failoverState}`);
          return result;
        };
        return store;
      },
    });
    await c.topology.master.kill();
    const record = await waitForRecord(
      c,
      (r) => r.failoverState === 'none' && r.configEpoch >= 1,
      'failover end',
    );
    expect(claims).toHaveLength(1);
    expect(claims[0]?.failoverState).toBe('send_slaveof_noone');
    expect(claims[0]?.failover?.promoted).toEqual({ host: '127.0.0.1', port: record.port });
    expect(steps).not.toContain('send_slaveof_noone');
    expect(steps[0]).toBe('reconf_slaves');
    // The winner's connection to the chosen replica was opened with its claim and used for the
    // promotion; every claimant's prepared control (the losers' too) was closed.
    const prepared = controls.filter((calls) => calls[0]?.startsWith('prepare'));
    expect(prepared.length).toBeGreaterThanOrEqual(1);
    const winner = prepared.filter((calls) => calls.some((call) => call.startsWith('replicaOf')));
    expect(winner).toHaveLength(1);
    expect(winner[0]?.slice(0, 2)).toEqual([`prepare ${record.port}`, `replicaOf ${record.port} NO ONE`]);
    await c.sentinels.waitFor(
      () => prepared.every((calls) => calls.at(-1) === 'close'),
      WITHIN_MS,
      'every prepared control closed',
    );
    // Sentinel's events still come in its order, and the choice is announced once.
    const leader = c.sentinels.eventsOf('+elected-leader')[0]?.sentinelId;
    const sequence = c.sentinels.events
      .filter((e) => e.sentinelId === leader && LEADER_SEQUENCE.includes(e.type))
      .map((e) => e.type);
    expect(sequence.filter((t, i) => sequence.indexOf(t) === i)).toEqual(LEADER_SEQUENCE);
    expect(c.sentinels.eventsOf('+selected-slave')).toHaveLength(1);
  });

  it('fails over with the default 10 s INFO period: replicas are asked for INFO as soon as the master looks down', async () => {
    const c = await started({ settings: { infoPeriodMs: 10_000 } });
    // Let the replicas' last INFO age past the 5 s limit that applies once the master is down.
    await new Promise((r) => setTimeout(r, 5_500));
    await c.topology.master.kill();
    const record = await waitForRecord(c, (r) => r.configEpoch >= 1, 'promotion');
    expect(c.topology.replicas.map((r) => r.address.port)).toContain(record.port);
    expect(c.sentinels.eventsOf('-failover-abort-no-good-slave')).toHaveLength(0);
  });

  it('never promotes a replica with replica-priority 0', async () => {
    const c = await started({ replicaArgs: [['--replica-priority', '0']] });
    const neverPromoted = c.topology.replicas[0]?.address.port;
    await c.topology.master.kill();
    const record = await waitForRecord(c, (r) => r.configEpoch >= 1, 'promotion');
    expect(record.port).toBe(c.topology.replicas[1]?.address.port);
    expect(record.failover?.rejected).toContainEqual({
      host: '127.0.0.1',
      port: neverPromoted,
      reason: 'replica-priority is 0',
    });
  });

  it('aborts with -failover-abort-no-good-slave and the reasons when no replica qualifies', async () => {
    const c = await started({
      replicaArgs: [
        ['--replica-priority', '0'],
        ['--replica-priority', '0'],
      ],
    });
    const oldPort = c.topology.master.address.port;
    await c.topology.master.kill();
    const s = c.sentinels;
    await s.waitFor(() => s.eventsOf('-failover-abort-no-good-slave').length === 1, WITHIN_MS, 'the abort');
    const record = await waitForRecord(
      c,
      (r) => r.failoverState === 'none' && r.retryNotBefore > 0,
      'abort recorded',
    );
    expect(record.port).toBe(oldPort);
    expect(record.configEpoch).toBe(0);
    expect(record.failover?.rejected.map((r) => r.reason)).toEqual([
      'replica-priority is 0',
      'replica-priority is 0',
    ]);
    // No new attempt (no new epoch, no second election) before the retry delay.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(s.eventsOf('+elected-leader')).toHaveLength(1);
    expect((await c.store.getMaster('mymaster'))?.currentEpoch).toBe(record.currentEpoch);
  });

  it('finishes the failover when the leader dies right after its election', async () => {
    const c = await started();
    const s = c.sentinels;
    const replicaPorts = c.topology.replicas.map((r) => r.address.port);
    let crashed: string | undefined;
    const watch = setInterval(() => {
      const elected = s.eventsOf('+elected-leader')[0];
      if (elected && !crashed) {
        crashed = elected.sentinelId;
        s.stopSentinel(crashed);
      }
    }, 1);
    try {
      await c.topology.master.kill();
      const record = await waitForRecord(
        c,
        (r) => r.failoverState === 'none' && r.configEpoch >= 1,
        'failover end',
      );
      expect(replicaPorts).toContain(record.port);
      expect(record.leader).not.toBe(crashed);
      expect(record.currentEpoch).toBeGreaterThanOrEqual(2);
      expect((await roleOf({ host: '127.0.0.1', port: record.port })).role).toBe('master');
    } finally {
      clearInterval(watch);
    }
  });

  it('finishes the failover when the leader dies right after the promotion, with the same promoted replica', async () => {
    const c = await started();
    const s = c.sentinels;
    let crashed: string | undefined;
    const watch = setInterval(() => {
      const promoted = s.eventsOf('+promoted-slave')[0];
      if (promoted && !crashed) {
        crashed = promoted.sentinelId;
        s.stopSentinel(crashed);
      }
    }, 1);
    try {
      await c.topology.master.kill();
      const record = await waitForRecord(
        c,
        (r) => r.failoverState === 'none' && r.configEpoch >= 1,
        'failover end',
      );
      expect(record.leader).not.toBe(crashed);
      const promotedEvent = s.eventsOf('+promoted-slave')[0];
      expect(promotedEvent?.payload).toContain(`127.0.0.1:${record.port} `);
      const other = c.topology.replicas.map((r) => r.address.port).find((p) => p !== record.port) as number;
      await eventually(
        () => roleOf({ host: '127.0.0.1', port: other }),
        (r) => r.role === 'slave' && r.masterPort === record.port,
        'the other replica re-pointed by the new leader',
      );
      // Exactly one replica was ever promoted.
      const selected = new Set(s.eventsOf('+selected-slave').map((e) => e.payload.split(' ')[1]));
      expect(selected.size).toBe(1);
    } finally {
      clearInterval(watch);
    }
  });

  it('re-points a replica that was down during the failover once it returns', async () => {
    const c = await started();
    const s = c.sentinels;
    const [first, second] = c.topology.replicas;
    if (!first || !second) throw new Error('topology');
    await second.kill();
    await c.topology.master.kill();
    const record = await waitForRecord(
      c,
      (r) => r.failoverState === 'none' && r.configEpoch >= 1,
      'failover end',
    );
    expect(record.port).toBe(first.address.port);
    await second.restart();
    await eventually(
      () => roleOf(second.address),
      (r) => r.role === 'slave' && r.masterPort === first.address.port && r.linkUp,
      'the returning replica following the new master',
      30_000,
    );
    expect(
      s.eventsOf('+fix-slave-config').length + s.eventsOf('+convert-to-slave').length,
    ).toBeGreaterThanOrEqual(1);
  });
});

describe('Manual failover (SENTINEL FAILOVER)', () => {
  it('fails over a healthy master on request, answers INPROG while it runs, and re-points the old master', async () => {
    const c = await started();
    const oldMaster = c.topology.master.address;
    const first = requestManualFailover(c.store, 'mymaster', { waitMs: WITHIN_MS });
    // The second request comes once the first is recorded: a pending request makes it INPROG too.
    await eventually(
      () => c.store.getMaster('mymaster'),
      (r) => r !== null && (r.failoverRequestedAt !== null || r.failoverState !== 'none'),
      'the first request recorded',
    );
    const second = await eventually(
      () => requestManualFailover(c.store, 'mymaster', { waitMs: 0 }),
      (o) => o.reply === 'INPROG',
      'INPROG for a second request while the first runs',
    );
    expect(second.reply).toBe('INPROG');
    const outcome = await first;
    expect(outcome.reply).toBe('OK');
    if (outcome.reply !== 'OK') return;
    expect(c.topology.replicas.map((r) => r.address.port)).toContain(outcome.promoted.port);
    await waitForRecord(c, (r) => r.failoverState === 'none', 'failover end');
    await eventually(
      () => roleOf(oldMaster),
      (r) => r.role === 'slave' && r.masterPort === outcome.promoted.port,
      'the old master following the promoted replica',
    );
    expect(c.sentinels.eventsOf('+odown')).toHaveLength(0);
  });

  it('answers NOGOODSLAVE with the reasons when no replica can be promoted', async () => {
    const c = await started({
      replicaArgs: [
        ['--replica-priority', '0'],
        ['--replica-priority', '0'],
      ],
    });
    const outcome = await requestManualFailover(c.store, 'mymaster', { waitMs: WITHIN_MS });
    expect(outcome.reply).toBe('NOGOODSLAVE');
    if (outcome.reply !== 'NOGOODSLAVE') return;
    expect(outcome.rejected.map((r) => r.reason)).toEqual(['replica-priority is 0', 'replica-priority is 0']);
    expect((await c.store.getMaster('mymaster'))?.port).toBe(c.topology.master.address.port);
  });

  it('answers NOSUCHMASTER for an unknown name', async () => {
    const c = await started();
    expect(await requestManualFailover(c.store, 'nope', { waitMs: 0 })).toEqual({ reply: 'NOSUCHMASTER' });
  });
});

describe('Quorum and majority on real processes', () => {
  it('does not fail over without a majority: two of three sentinels are gone (quorum 1)', async () => {
    const c = await started({ quorum: 1 });
    const s = c.sentinels;
    s.stopSentinel('sentinel-a');
    s.stopSentinel('sentinel-b');
    await new Promise((r) => setTimeout(r, 500));
    await c.topology.master.kill();
    await s.waitFor(
      () => s.eventsOf('+odown').some((e) => e.sentinelId === 'sentinel-c'),
      WITHIN_MS,
      '+odown by c',
    );
    await new Promise((r) => setTimeout(r, 3_000));
    expect(s.eventsOf('+try-failover')).toHaveLength(0);
    expect(await c.store.getMaster('mymaster')).toMatchObject({
      port: c.topology.master.address.port,
      currentEpoch: 0,
      configEpoch: 0,
    });
  });

  it('fails over with quorum 3 when all three sentinels agree', async () => {
    const c = await started({ quorum: 3 });
    await c.topology.master.kill();
    const record = await waitForRecord(
      c,
      (r) => r.failoverState === 'none' && r.configEpoch >= 1,
      'failover end',
    );
    expect(c.topology.replicas.map((r) => r.address.port)).toContain(record.port);
    expect(c.sentinels.eventsOf('+odown').some((e) => e.payload.endsWith('#quorum 3/3'))).toBe(true);
  });
});

describe('master-reboot-down-after-period', () => {
  it('fails over a master that restarts into a long LOADING, once the reboot period has passed', async () => {
    const c = await started({ settings: { masterRebootDownAfterPeriodMs: 2_000 } });
    const master = c.topology.master;
    // A dataset that takes 20 s to load (20000 keys at 1 ms each): the failover must come before the
    // loading ends, and on a loaded machine the INFO that shows the reboot, the reboot period and the
    // election can take much longer than the few seconds they take on an idle one.
    const admin = new Redis({ ...master.address, lazyConnect: true });
    await admin.connect();
    const fill = admin.pipeline();
    for (let i = 0; i < 20_000; i += 1) fill.set(`key:${i}`, 'x');
    await fill.exec();
    await admin.call('SAVE');
    admin.disconnect();
    await master.kill();
    // Back at once (well within down-after), answering -LOADING with a new run id.
    // A small RDB is loaded without serving clients unless events are processed often while loading.
    await master.restart(['--key-load-delay', '1000', '--loading-process-events-interval-bytes', '1024']);
    const record = await waitForRecord(c, (r) => r.configEpoch >= 1, 'failover after the reboot period');
    expect(c.topology.replicas.map((r) => r.address.port)).toContain(record.port);
    expect(c.sentinels.eventsOf('+reboot').some((e) => e.payload.startsWith('master mymaster'))).toBe(true);
  });
});

describe('Coordinated switchover (FAILOVER TO)', () => {
  it('switches a healthy master without losing any acknowledged write', async () => {
    const c = await started();
    const oldMaster = c.topology.master.address;
    const writer = new Redis({
      ...oldMaster,
      lazyConnect: true,
      commandTimeout: 2_000,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    writer.on('error', () => {});
    await writer.connect();
    const acked: number[] = [];
    let writing = true;
    const writes = (async () => {
      for (let i = 0; writing; i += 1) {
        try {
          if ((await writer.set(`acked:${i}`, String(i))) === 'OK') acked.push(i);
        } catch {
          // Paused, READONLY or disconnected by the handover: not acknowledged, so not counted.
          if (writer.status !== 'ready') return;
        }
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    const outcome = await requestManualFailover(c.store, 'mymaster', {
      waitMs: WITHIN_MS,
      coordinated: true,
    });
    writing = false;
    await writes;
    writer.disconnect();
    expect(outcome.reply).toBe('OK');
    if (outcome.reply !== 'OK') return;
    expect(acked.length).toBeGreaterThan(100);

    const reader = new Redis({ ...outcome.promoted, lazyConnect: true });
    await reader.connect();
    const values = await reader.mget(...acked.map((i) => `acked:${i}`));
    reader.disconnect();
    const missing = acked.filter((i, n) => values[n] !== String(i));
    expect(missing).toEqual([]);
    await eventually(
      () => roleOf(oldMaster),
      (r) => r.role === 'slave' && r.masterPort === outcome.promoted.port,
      'the old master replicating from the new one',
    );
  });
});

describe('Replica selection on real processes', () => {
  it('promotes the replica with the highest replication offset', async () => {
    // Replica B replicates through a proxy that is then black-holed: its link still looks up, but its
    // offset stops while replica A keeps receiving writes.
    const [masterPort, aPort, bPort] = (await allocatePorts(3)) as [number, number, number];
    const master = await startRedis({ port: masterPort });
    const proxy = await startTcpProxy(master.address);
    const a = await startRedis({ port: aPort, replicaOf: master.address });
    const b = await startRedis({ port: bPort, replicaOf: proxy.address });
    const topology = {
      master,
      replicas: [a, b],
      stop: async () => {
        await proxy.close();
        await Promise.all([master.stop(), a.stop(), b.stop()]);
      },
    };
    await eventually(
      () => roleOf(b.address),
      (r) => r.linkUp,
      'replica B linked through the proxy',
    );
    const c = await started({ topology });
    proxy.cut();
    const writer = new Redis({ ...master.address, lazyConnect: true });
    await writer.connect();
    const fill = writer.pipeline();
    for (let i = 0; i < 2_000; i += 1) fill.set(`offset:${i}`, 'x');
    await fill.exec();
    writer.disconnect();
    await new Promise((r) => setTimeout(r, 1_500)); // both replicas' INFO now shows the gap
    await c.topology.master.kill();
    const record = await waitForRecord(c, (r) => r.configEpoch >= 1, 'promotion');
    expect(record.port).toBe(aPort);
    const ranked = record.failover?.rejected.find((r) => r.port === bPort)?.reason ?? '';
    expect(ranked).toMatch(/^ranked below 127\.0\.0\.1:\d+ \(priority 100, offset \d+\)$/);
  });
});
