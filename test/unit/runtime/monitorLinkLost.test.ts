/**
 * A probe's connection lost between two PINGs (the instance was killed): the observation shows the link
 * down at once, as Sentinel flags its link `disconnected` in the disconnect callback, not when the PING
 * sent next fails. SENTINEL MASTER's flags come from this observation; a client in Sentinel mode that
 * re-reads it in that moment (node-redis) would otherwise connect to the dead master.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Address, InfoOutcome, PingOutcome } from '../../../lib/core/types.js';
import type { RedisProbe, RedisProbeFactory, RedisProbeOptions } from '../../../lib/ports.js';
import { systemClock } from '../../../lib/runtime/clock.js';
import { MasterMonitor } from '../../../lib/runtime/monitor.js';
import { M, R1, replicaInfo } from '../../support/failoverWorld.js';
import { globalSettings, masterSettings } from '../../support/settings.js';

/** Answers the first PING; every later PING waits until the test settles it. INFO answers at once. */
class HeldProbe implements RedisProbe {
  pings = 0;
  infos = 0;
  readonly held: Array<(outcome: PingOutcome) => void> = [];
  constructor(
    readonly address: Address,
    readonly options: RedisProbeOptions,
  ) {}

  ping(): Promise<PingOutcome> {
    this.pings += 1;
    const sentAt = this.options.now();
    if (this.pings === 1)
      return Promise.resolve({
        sentAt,
        completedAt: sentAt,
        result: { type: 'reply', kind: 'pong', text: 'PONG' },
      });
    return new Promise((resolve) => this.held.push(resolve));
  }

  info(): Promise<InfoOutcome> {
    this.infos += 1;
    const at = this.options.now();
    return Promise.resolve({ sentAt: at, completedAt: at, result: { type: 'info', info: replicaInfo() } });
  }

  async close(): Promise<void> {}
}

const until = async (check: () => boolean): Promise<void> => {
  const deadline = Date.now() + 2_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met within 2 s');
    await new Promise((r) => setTimeout(r, 2));
  }
};

describe('MasterMonitor: a connection lost between two PINGs', () => {
  let monitor: MasterMonitor | null = null;
  afterEach(async () => {
    await monitor?.stop();
    monitor = null;
  });

  function start(): Map<string, HeldProbe> {
    const probes = new Map<string, HeldProbe>();
    const factory: RedisProbeFactory = (address, options) => {
      const probe = new HeldProbe(address, options);
      probes.set(`${address.host}:${address.port}`, probe);
      return probe;
    };
    monitor = new MasterMonitor({
      // PINGs a minute apart: only the lost connection can make the monitor look again.
      settings: masterSettings({ ...M, downAfterMs: 60_000, probePeriodMs: 60_000, infoPeriodMs: 60_000 }),
      global: globalSettings(),
      masterAddress: M,
      probeFactory: factory,
      clock: systemClock,
      clientName: 'sentinel-a-cmd',
      onEvent: () => {},
      knownReplicas: [R1],
    });
    monitor.start();
    return probes;
  }

  it('marks the link down at once and starts the down timer, before the PING sent next settles', async () => {
    const probes = start();
    const master = probes.get(`${M.host}:${M.port}`) as HeldProbe;
    const replica = probes.get(`${R1.host}:${R1.port}`) as HeldProbe;
    const m = monitor as MasterMonitor;
    await until(() => m.master.lastPingSettledAt !== null && replica.infos === 1);
    expect(m.master.linkConnected).toBe(true);

    const lostAt = Date.now();
    master.options.onConnectionLost?.();
    // At once, in the same turn as the connection's close: nothing (a SENTINEL MASTER reply) runs between.
    expect(m.master.linkConnected).toBe(false);
    expect(m.master.oldestUnansweredPingAt).toBeGreaterThanOrEqual(lostAt);
    expect(m.master.oldestUnansweredPingAt).toBeLessThanOrEqual(Date.now());
    const timerStart = m.master.oldestUnansweredPingAt;

    // The PING loop was woken (a new connection is tried now), and the master's replicas are asked for
    // INFO at once, as when a PING first goes unanswered.
    await until(() => master.pings === 2 && replica.infos === 2);
    // That PING failing changes neither: the timer runs from the loss.
    const settle = master.held.shift() as (outcome: PingOutcome) => void;
    const at = Date.now();
    settle({ sentAt: at, completedAt: at, result: { type: 'unreachable', reason: 'connect ECONNREFUSED' } });
    await until(() => m.master.lastPingText !== 'PONG');
    expect(m.master.linkConnected).toBe(false);
    expect(m.master.oldestUnansweredPingAt).toBe(timerStart);
  });

  it('a link that comes back answers the woken PING: up again, timer cleared', async () => {
    const probes = start();
    const master = probes.get(`${M.host}:${M.port}`) as HeldProbe;
    const m = monitor as MasterMonitor;
    await until(() => m.master.lastPingSettledAt !== null);
    master.options.onConnectionLost?.();
    expect(m.master.linkConnected).toBe(false);
    await until(() => master.pings === 2);
    const at = Date.now();
    (master.held.shift() as (outcome: PingOutcome) => void)({
      sentAt: at,
      completedAt: at,
      result: { type: 'reply', kind: 'pong', text: 'PONG' },
    });
    await until(() => m.master.linkConnected);
    expect(m.master.oldestUnansweredPingAt).toBeNull();
  });
});
