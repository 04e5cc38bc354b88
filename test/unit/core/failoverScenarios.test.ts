/**
 * Whole failovers of the pure state machine on a virtual clock (test/support/failoverWorld.ts plays the
 * runner): Sentinel's order of events, parallel-syncs, every timeout and abort, resumption from every
 * recorded step, and the safety property: never two promoted replicas.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SENTINEL_DEFAULTS } from '../../../lib/core/constants.js';
import { RESEND_PROMOTION_AFTER_MS, stepFailover } from '../../../lib/core/failover.js';
import type { FailoverAnswer, FailoverMemory, LeaderView } from '../../../lib/core/failoverStep.js';
import type { Address, FailoverProgress, MasterRecord } from '../../../lib/core/types.js';
import {
  candidate,
  commandsOf,
  eventLines,
  FailoverWorld,
  failoverRecord,
  type Instance,
  key,
  M,
  progress,
  R1,
  R2,
  R3,
  R4,
  type Run,
  replicaInfo,
  SETTINGS,
  T0,
  type WorldOptions,
} from '../../support/failoverWorld.js';

const FT = SETTINGS.failoverTimeoutMs;
const POLL = SENTINEL_DEFAULTS.failoverPollMs;
const slave = (a: Address) => `slave ${a.host}:${a.port} ${a.host} ${a.port} @ mymaster ${M.host} ${M.port}`;
const MASTER_M = `master mymaster ${M.host} ${M.port}`;

/** R1 best (highest offset), then R2, R3: all recorded, all following the old master. */
function world(overrides: Partial<WorldOptions> = {}): FailoverWorld {
  return new FailoverWorld({
    record: failoverRecord('select_slave', progress()),
    view: (now) => ({
      replicas: [
        candidate(R1, now, { offset: 900 }),
        candidate(R2, now, { offset: 800 }),
        candidate(R3, now, { offset: 700 }),
      ],
      masterSdownSince: T0 - 5_000,
    }),
    storedReplicas: [R1, R2, R3],
    instances: [
      [R1, {}],
      [R2, {}],
      [R3, {}],
    ],
    costs: { info: 5, command: 20, write: 10, read: 10 },
    syncMs: 300,
    ...overrides,
  });
}

/** How many replicas each write recorded as told and not done. */
const inFlightAtWrites = (run: Run) =>
  run.writes.map(
    (w) => w.write.progress.replicas.filter((r) => r.state === 'sent' || r.state === 'inprog').length,
  );

describe('a whole failover', () => {
  it("goes through Sentinel's states with Sentinel's events, in order", () => {
    const w = world();
    const run = w.drive();
    expect(run.outcome).toBe('completed');
    expect(eventLines(run)).toEqual([
      `+selected-slave ${slave(R1)}`,
      `+failover-state-send-slaveof-noone ${slave(R1)}`,
      `+failover-state-wait-promotion ${slave(R1)}`,
      `+promoted-slave ${slave(R1)}`,
      `+switch-master mymaster ${M.host} ${M.port} ${R1.host} ${R1.port}`,
      `+failover-state-reconf-slaves ${MASTER_M}`,
      `+slave-reconf-sent ${slave(R2)}`,
      `+slave-reconf-inprog ${slave(R2)}`,
      `+slave-reconf-done ${slave(R2)}`,
      `+slave-reconf-sent ${slave(R3)}`,
      `+slave-reconf-inprog ${slave(R3)}`,
      `+slave-reconf-done ${slave(R3)}`,
      `+failover-end ${MASTER_M}`,
    ]);
    const steps = run.writes.map((x) => `${x.write.from}→${x.write.to}`);
    expect(steps.slice(0, 2)).toEqual([
      'select_slave→send_slaveof_noone',
      'send_slaveof_noone→reconf_slaves',
    ]);
    expect(steps.at(-1)).toBe('reconf_slaves→none');
    expect(steps.slice(2, -1).every((s) => s === 'reconf_slaves→reconf_slaves')).toBe(true);
    // The choice is recorded before any command, and the address switches only once R1 is master:
    // on the OK of its REPLICAOF NO ONE, with no INFO asked in between.
    expect(run.sent[0]?.record.failoverState).toBe('send_slaveof_noone');
    expect(run.writes[1]?.write.switchTo).toEqual(R1);
    expect(run.writes[1]?.instances.get(key(R1))?.role).toBe('master');
    const promoteAt = run.requests.findIndex((r) => r.type === 'send');
    const switchAt = run.requests.findIndex((r) => r.type === 'record' && r.write.switchTo !== undefined);
    expect(run.requests.slice(promoteAt, switchAt).filter((r) => r.type === 'info')).toEqual([]);
    expect(w.record).toMatchObject({ failoverState: 'none', host: R1.host, port: R1.port, configEpoch: 1 });
    expect(w.record.leaderLeaseUntil).toBe(0);
    expect(run.remembered).toEqual([M]);
    expect(commandsOf(run)).toEqual([
      { type: 'promote', target: R1 },
      { type: 'replicate', target: R2, master: R1 },
      { type: 'replicate', target: R3, master: R1 },
    ]);
    expect(w.instance(R2)).toMatchObject({ role: 'replica', master: R1 });
    expect(w.instance(R3)).toMatchObject({ role: 'replica', master: R1 });
  });

  it('renews the leader lease with every step it records, and gives it up with the last', () => {
    const run = world().drive();
    for (const write of run.writes.slice(0, -1))
      expect(write.write.leaseUntil).toBe(write.at + SETTINGS.leaderLeaseMs);
    expect(run.writes.at(-1)?.write.leaseUntil).toBe(0);
  });

  it('announces +switch-master before it re-points a running old master (a forced failover)', () => {
    let oldMasterToldAt: number | null = null;
    const w = world({
      record: failoverRecord('select_slave', progress({ forced: true })),
      instances: [
        [M, { role: 'master', master: null }],
        [R1, {}],
        [R2, {}],
        [R3, {}],
      ],
      reply: (command, at) => {
        if (command.type === 'replicate' && key(command.target) === key(M)) oldMasterToldAt ??= at.now;
        return undefined;
      },
    });
    const run = w.drive();
    expect(run.outcome).toBe('completed');
    const switched = run.events.filter((e) => e.type === '+switch-master');
    expect(switched).toHaveLength(1);
    expect(oldMasterToldAt).not.toBeNull();
    expect(switched[0]?.at).toBeLessThan(oldMasterToldAt as unknown as number);
    // No replica at all was told before the switch was announced.
    const firstTold = run.sent.findIndex((s) => s.command.type === 'replicate');
    expect(run.sent[firstTold]?.record.configEpoch).toBe(1);
  });

  it('hands over through the old master in a coordinated switchover, and re-points it', () => {
    const w = world({
      record: failoverRecord('select_slave', progress({ forced: true, coordinated: true })),
      instances: [
        [M, { role: 'master', master: null }],
        [R1, {}],
        [R2, {}],
        [R3, {}],
      ],
      view: (now) => ({ replicas: [candidate(R1, now, { offset: 900 })], masterSdownSince: null }),
    });
    const run = w.drive();
    expect(run.outcome).toBe('completed');
    expect(commandsOf(run)[0]).toEqual({ type: 'hand-over', master: M, target: R1, timeoutMs: FT / 2 });
    expect(commandsOf(run).filter((c) => c.type === 'promote')).toEqual([]);
    expect(
      commandsOf(run)
        .filter((c) => c.type === 'replicate')
        .map((c) => c.target),
    ).toEqual([R2, R3, M]);
  });
});

describe('parallel-syncs', () => {
  const R5 = { host: '10.0.0.6', port: 6379 };
  const five = (parallelSyncs: number) =>
    world({
      settings: { ...SETTINGS, parallelSyncs },
      storedReplicas: [R1, R2, R3, R4, R5],
      instances: [R1, R2, R3, R4, R5].map((a) => [a, {}] as const),
    });

  it.each([1, 2, 3, 4, 10])(
    'with %i, never more replicas in flight, and as many as it allows',
    (parallelSyncs) => {
      const run = five(parallelSyncs).drive();
      expect(run.outcome).toBe('completed');
      const inFlight = inFlightAtWrites(run);
      expect(Math.max(...inFlight)).toBe(Math.min(parallelSyncs, 4));
      // The first round tells as many as parallel-syncs allows, at once.
      const firstRound = run.writes.find((x) => x.write.from === 'reconf_slaves');
      expect(firstRound?.write.progress.replicas.filter((r) => r.state === 'sent')).toHaveLength(
        Math.min(parallelSyncs, 4),
      );
      expect(
        commandsOf(run)
          .filter((c) => c.type === 'replicate')
          .map((c) => c.target),
      ).toEqual([R2, R3, R4, R5]);
    },
  );

  it('frees the slot of a replica that refuses REPLICAOF for the next one in the same round', () => {
    const w = five(1);
    const r2 = w.instance(R2) as Instance;
    r2.down = true;
    const run = w.drive();
    const firstRound = run.writes.find((x) => x.write.from === 'reconf_slaves');
    expect(firstRound?.write.progress.replicas.map((r) => r.state)).toEqual([
      'done',
      'sent',
      'pending',
      'pending',
    ]);
    expect(firstRound?.write.progress.replicas[0]?.note).toBe(
      'unreachable (ECONNREFUSED); re-pointed when it returns',
    );
    expect(run.outcome).toBe('completed');
  });
});

describe('timeouts, on the virtual clock', () => {
  it('aborts the wait for a hand-over failover-timeout after FAILOVER TO, never sending it again', () => {
    const w = world({
      record: failoverRecord('select_slave', progress({ forced: true, coordinated: true })),
      instances: [
        [M, { role: 'master', master: null }],
        [R1, { losesPromotions: 1_000 }],
      ],
      view: (now) => ({ replicas: [candidate(R1, now, { offset: 900 })], masterSdownSince: null }),
    });
    const run = w.drive();
    expect(run.outcome).toBe('aborted');
    expect(commandsOf(run)).toEqual([{ type: 'hand-over', master: M, target: R1, timeoutMs: FT / 2 }]);
    expect(run.writes[1]?.write.to).toBe('wait_promotion');
    const sentAt = run.writes[1]?.write.progress.promotionSentAt as number;
    const abort = run.writes.at(-1);
    expect(abort?.write).toMatchObject({ to: 'none', leaseUntil: 0 });
    expect(abort?.at).toBeGreaterThan(sentAt + FT);
    expect(abort?.at).toBeLessThanOrEqual(sentAt + FT + POLL + 5);
    expect(abort?.write.retryNotBefore).toBe((abort?.at as number) + FT);
    expect(eventLines(run).at(-1)).toBe(`-failover-abort-slave-timeout ${MASTER_M}`);
    // The address never moved.
    expect(w.record).toMatchObject({ host: M.host, port: M.port, configEpoch: 0, failoverState: 'none' });
  });

  it('resends a lost REPLICAOF NO ONE at the next poll, and switches on the OK of the second', () => {
    const w = world({ instances: [[R1, { losesPromotions: 1 }]] });
    const run = w.drive();
    expect(run.outcome).toBe('completed');
    const sends = run.sent.filter((s) => s.command.type === 'promote');
    expect(sends.map((s) => s.record.failoverState)).toEqual(['send_slaveof_noone', 'send_slaveof_noone']);
    expect(run.writes[1]?.write).toMatchObject({
      from: 'send_slaveof_noone',
      to: 'reconf_slaves',
      switchTo: R1,
    });
  });

  it('resumed in wait_promotion with the replica not master, resends only a second after the recorded command, and only once', () => {
    const sentAt = T0 + 200;
    const record = failoverRecord('wait_promotion', {
      ...progress(),
      promoted: R1,
      promotionSentAt: sentAt,
      replicas: [],
    });
    const resentAt: number[] = [];
    // The resend is lost too: the wait then goes on to failover-timeout without a third.
    const w = world({
      record,
      now: sentAt + 10,
      instances: [[R1, { losesPromotions: 1 }]],
      reply: (command, at) => {
        if (command.type === 'promote') resentAt.push(at.now);
        return undefined;
      },
    });
    const run = w.drive();
    expect(run.outcome).toBe('aborted');
    expect(commandsOf(run)).toEqual([{ type: 'promote', target: R1 }]);
    expect(resentAt).toHaveLength(1);
    expect(resentAt[0]).toBeGreaterThan(sentAt + RESEND_PROMOTION_AFTER_MS);
    expect(eventLines(run).at(-1)).toBe(`-failover-abort-slave-timeout ${MASTER_M}`);
    expect(w.record).toMatchObject({ host: M.host, port: M.port, failoverState: 'none' });
  });

  it('retries a refused REPLICAOF NO ONE every poll until failover-timeout from the start, then aborts', () => {
    const w = world({ instances: [[R1, { down: true }]] });
    const run = w.drive();
    expect(run.outcome).toBe('aborted');
    const promotions = commandsOf(run).filter((c) => c.type === 'promote');
    expect(promotions.every((c) => key(c.target) === key(R1))).toBe(true);
    // One try per poll plus the command's own 20 ms, for failover-timeout.
    expect(promotions.length).toBeGreaterThan(FT / (POLL + 20) - 2);
    expect(promotions.length).toBeLessThan(FT / (POLL + 20) + 2);
    const abort = run.writes.at(-1);
    expect(abort?.write.from).toBe('send_slaveof_noone');
    expect(abort?.at).toBeGreaterThan(T0 + FT);
    expect(eventLines(run).at(-1)).toBe(`-failover-abort-slave-timeout ${MASTER_M}`);
  });

  it('gives up on a replica that never confirms after the reconfiguration timeout, and tells the next', () => {
    const w = world({
      // R2 accepts REPLICAOF and ignores it.
      reply: (command) =>
        command.type === 'replicate' && key(command.target) === key(R2) ? { ok: true } : undefined,
    });
    const run = w.drive();
    expect(run.outcome).toBe('completed');
    const lines = eventLines(run);
    const gaveUp = lines.indexOf(`-slave-reconf-sent-timeout ${slave(R2)}`);
    expect(gaveUp).toBeGreaterThan(0);
    expect(lines.indexOf(`+slave-reconf-sent ${slave(R3)}`)).toBeGreaterThan(gaveUp);
    const sentAt = run.writes.find((x) => x.write.progress.replicas[0]?.state === 'sent')?.at as number;
    const doneAt = run.writes.find((x) => x.write.progress.replicas[0]?.state === 'done')?.at as number;
    expect(doneAt - sentAt).toBeGreaterThan(SENTINEL_DEFAULTS.replicaReconfTimeoutMs);
    expect(doneAt - sentAt).toBeLessThan(SENTINEL_DEFAULTS.replicaReconfTimeoutMs + 2 * POLL + 100);
  });

  it('ends with a best effort once failover-timeout passes while replicas are still syncing', () => {
    const w = world({ syncMs: 10 * FT });
    const run = w.drive();
    expect(run.outcome).toBe('completed');
    const lines = eventLines(run);
    expect(lines.slice(-4)).toEqual([
      `+failover-end-for-timeout ${MASTER_M}`,
      `+slave-reconf-sent-be ${slave(R2)}`,
      `+slave-reconf-sent-be ${slave(R3)}`,
      `+failover-end ${MASTER_M}`,
    ]);
    expect(lines.filter((l) => l.startsWith('+switch-master'))).toEqual([
      `+switch-master mymaster ${M.host} ${M.port} ${R1.host} ${R1.port}`,
    ]);
    const end = run.writes.at(-1);
    expect(end?.at).toBeGreaterThan(T0 + FT);
    expect(end?.write.progress.replicas.map((r) => r.note)).toEqual([
      'best effort after failover-timeout',
      'best effort after failover-timeout',
    ]);
  });
});

describe('aborts', () => {
  it('abandons the failover when the master answers again: nothing sent', () => {
    const run = world({
      view: (now) => ({ replicas: [candidate(R1, now)], masterSdownSince: null }),
    }).drive();
    expect(run.outcome).toBe('aborted');
    expect(run.sent).toEqual([]);
    expect(run.events).toEqual([]);
    expect(run.writes.map((x) => x.write)).toEqual([
      { from: 'select_slave', to: 'none', progress: progress(), leaseUntil: 0 },
    ]);
  });

  it('aborts when no replica can be promoted: nothing sent', () => {
    const run = world({
      view: (now) => ({ replicas: [candidate(R1, now, { sdown: true })], masterSdownSince: T0 - 5_000 }),
    }).drive();
    expect(run.outcome).toBe('aborted');
    expect(run.sent).toEqual([]);
    expect(eventLines(run)).toEqual([`-failover-abort-no-good-slave ${MASTER_M}`]);
  });

  it('aborts a coordinated switchover the old master refuses: only FAILOVER TO was sent', () => {
    const run = world({
      record: failoverRecord('select_slave', progress({ forced: true, coordinated: true })),
      reply: (command) => (command.type === 'hand-over' ? { ok: false, reason: 'ERR FAILOVER' } : undefined),
    }).drive();
    expect(run.outcome).toBe('aborted');
    expect(commandsOf(run).map((c) => c.type)).toEqual(['hand-over']);
    expect(run.writes.at(-1)?.write).toMatchObject({ from: 'send_slaveof_noone', to: 'none', leaseUntil: 0 });
    expect(run.writes.at(-1)?.write.retryNotBefore).toBeUndefined();
  });
});

describe('resumption', () => {
  /** The view a successor sees: R1 now looks down, R3 best. It must not matter once the choice is recorded. */
  const otherView = (now: number): LeaderView => ({
    replicas: [
      candidate(R1, now, { offset: 900, sdown: true }),
      candidate(R2, now, { offset: 800 }),
      candidate(R3, now, { offset: 950 }),
    ],
    masterSdownSince: T0 - 5_000,
  });

  /** A coordinated switchover: the old master is up and hands over (it passes through wait_promotion). */
  const coordinated: Partial<WorldOptions> = {
    record: failoverRecord('select_slave', progress({ forced: true, coordinated: true })),
    instances: [
      [M, { role: 'master', master: null }],
      [R1, {}],
      [R2, {}],
      [R3, {}],
    ],
    view: (now) => ({ replicas: [candidate(R1, now, { offset: 900 })], masterSdownSince: null }),
  };

  it.each([
    ['a failover', {}, ['select_slave', 'send_slaveof_noone', 'reconf_slaves', 'none']],
    [
      'a coordinated switchover',
      coordinated,
      ['select_slave', 'send_slaveof_noone', 'wait_promotion', 'reconf_slaves', 'none'],
    ],
  ] as const)(
    'continues %s from every recorded step with the recorded choice, to the same end',
    (_, mode, states) => {
      const first = world(mode);
      const full = first.drive();
      expect(full.outcome).toBe('completed');
      expect(full.writes.length).toBeGreaterThan(5);
      expect([...new Set(full.writes.map((x) => x.write.from))]).toEqual(states.slice(0, -1));
      for (const [i, written] of full.writes.entries()) {
        const successor = world({
          record: written.record,
          instances: [...written.instances].map(([k, v]) => {
            const [host, port] = k.split(':');
            return [{ host: host as string, port: Number(port) }, v] as const;
          }),
          view: otherView,
          now: written.at + 1_000,
        });
        const run = successor.drive();
        expect(run.outcome, `resumed after write ${i} (${written.write.to})`).toBe('completed');
        expect(successor.record).toMatchObject({ failoverState: 'none', host: R1.host, port: R1.port });
        // No second choice, no promotion of anything but R1, no entry events of the state resumed in.
        expect(run.writes.every((x) => x.write.from !== 'select_slave')).toBe(true);
        for (const c of commandsOf(run)) if (c.type !== 'replicate') expect(c.target).toEqual(R1);
        expect(eventLines(run)).not.toContain(`+selected-slave ${slave(R1)}`);
        if (written.write.to === 'wait_promotion')
          expect(eventLines(run)).not.toContain(`+failover-state-wait-promotion ${slave(R1)}`);
        if (written.write.to === 'none')
          expect(run.requests).toEqual([{ type: 'end', outcome: 'completed' }]);
      }
    },
  );

  it('resumed in select_slave, chooses afresh from its own view', () => {
    const run = world({ view: otherView }).drive();
    expect(run.outcome).toBe('completed');
    expect(commandsOf(run)[0]).toEqual({ type: 'promote', target: R3 });
  });

  it('resumed in send_slaveof_noone before the command went out, sends it to the recorded replica', () => {
    const full = world().drive({ untilWrites: 1 });
    const chosen = full.writes[0] as Run['writes'][number];
    expect(chosen.record.failoverState).toBe('send_slaveof_noone');
    expect(chosen.instances.get(key(R1))?.role).toBe('replica');
    const successor = world({ record: chosen.record, view: otherView, now: chosen.at + 6_000 });
    const run = successor.drive();
    expect(commandsOf(run)[0]).toEqual({ type: 'promote', target: R1 });
    expect(run.outcome).toBe('completed');
  });

  it('resumed in wait_promotion after the promotion was lost, sends it once more to the recorded replica', () => {
    const full = world().drive({ untilWrites: 1 });
    const chosen = full.writes[0] as Run['writes'][number];
    // A plain failover recorded in wait_promotion, as a runner that waited for INFO wrote it; R1 is
    // still a replica (it lost the promotion since).
    const waiting = {
      ...chosen.record,
      failoverState: 'wait_promotion' as const,
      failover: { ...(chosen.record.failover as FailoverProgress), promotionSentAt: chosen.at + 20 },
    };
    const successor = world({ record: waiting, view: otherView, now: chosen.at + 2_000 });
    const run = successor.drive();
    expect(run.outcome).toBe('completed');
    expect(commandsOf(run)[0]).toEqual({ type: 'promote', target: R1 });
    expect(eventLines(run)[0]).toBe(`+promoted-slave ${slave(R1)}`);
  });

  it('resumed in reconf_slaves, keeps the recorded progress of each replica', () => {
    const full = world().drive();
    const midway = full.writes.find(
      (x) => x.write.to === 'reconf_slaves' && x.write.progress.replicas.some((r) => r.state === 'done'),
    ) as Run['writes'][number];
    expect(midway).toBeDefined();
    const successor = world({
      record: midway.record,
      instances: [...midway.instances].map(
        ([k, v]) => [{ host: k.split(':')[0] as string, port: 6379 }, v] as const,
      ),
      now: midway.at + 1_000,
    });
    const run = successor.drive();
    const done = midway.write.progress.replicas
      .filter((r) => r.state === 'done')
      .map((r) => `${r.host}:${r.port}`);
    for (const c of commandsOf(run)) expect(done).not.toContain(key(c.target));
  });
});

describe('never two promoted replicas', () => {
  const ADDRESSES = [R1, R2, R3, R4];

  it('across runners that die at any point and successors that see the replicas differently (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          replicas: fc.integer({ min: 1, max: 4 }),
          offsets: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 4, maxLength: 4 }),
          down: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
          losesPromotions: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 4, maxLength: 4 }),
          coordinated: fc.boolean(),
          parallelSyncs: fc.integer({ min: 1, max: 3 }),
          costs: fc.record({
            info: fc.integer({ min: 0, max: 300 }),
            command: fc.integer({ min: 0, max: 300 }),
            write: fc.integer({ min: 0, max: 50 }),
          }),
          segments: fc.array(
            fc.record({
              steps: fc.integer({ min: 1, max: 30 }),
              gapMs: fc.integer({ min: 0, max: 20_000 }),
              sdown: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
              offsets: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 4, maxLength: 4 }),
            }),
            { minLength: 1, maxLength: 8 },
          ),
        }),
        (plan) => {
          const replicas = ADDRESSES.slice(0, plan.replicas);
          const instances: Array<readonly [Address, Partial<Instance>]> = replicas.map((a, i) => [
            a,
            { down: plan.down[i] ?? false, losesPromotions: plan.losesPromotions[i] ?? 0 },
          ]);
          instances.push([M, { role: 'master', master: null, down: !plan.coordinated }]);
          let record = failoverRecord(
            'select_slave',
            progress({ forced: plan.coordinated, coordinated: plan.coordinated }),
          );
          let now = T0 + 100;
          let current: FailoverWorld | null = null;
          const promotions: Address[] = [];
          const choices: Address[] = [];
          const segments = [...plan.segments, { steps: 100_000, gapMs: 0, sdown: [], offsets: plan.offsets }];
          for (const segment of segments) {
            const w: FailoverWorld = new FailoverWorld({
              settings: { ...SETTINGS, parallelSyncs: plan.parallelSyncs },
              record,
              now,
              view: (t) => ({
                replicas: replicas.map((a, i) =>
                  candidate(a, t, { offset: segment.offsets[i] ?? 0, sdown: segment.sdown[i] ?? false }),
                ),
                masterSdownSince: plan.coordinated ? null : T0 - 5_000,
              }),
              storedReplicas: replicas,
              instances: current
                ? [...current.instances].map(([k, v]) => [addressOf(k), v] as const)
                : instances,
              costs: plan.costs,
            });
            // A new runner: it starts from the record alone.
            const run = w.drive({ maxSteps: segment.steps });
            for (const { command, record: at } of run.sent) {
              if (command.type === 'replicate') continue;
              promotions.push(command.target);
              // Only ever the replica the record names, in a state after the choice.
              expect(at.failover?.promoted).toEqual(command.target);
              expect(['send_slaveof_noone', 'wait_promotion']).toContain(at.failoverState);
            }
            for (const x of run.writes)
              if (x.write.to === 'send_slaveof_noone' && x.write.from === 'select_slave')
                choices.push(x.write.progress.promoted as Address);
            record = w.record;
            now = w.now + segment.gapMs;
            current = w;
            if (run.outcome !== 'cut') break;
          }
          expect(choices.length).toBeLessThanOrEqual(1);
          for (const target of promotions) expect(target).toEqual(choices[0]);
          // A promoted replica is either the choice or nobody.
          const masters = [...(current as FailoverWorld).instances]
            .filter(([k, v]) => v.role === 'master' && k !== key(M))
            .map(([k]) => k);
          expect(masters.length).toBeLessThanOrEqual(1);
          if (masters[0]) expect(masters[0]).toBe(key(choices[0] as Address));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('whatever a step is given, it promotes only the replica the record names (property)', () => {
    const address = fc.constantFrom(...ADDRESSES);
    const memory: fc.Arbitrary<FailoverMemory> = fc.oneof(
      fc.constant(null),
      fc.constant({ state: 'select_slave' as const, stage: 'reading' as const }),
      fc.record({
        state: fc.constant('select_slave' as const),
        stage: fc.constant('looking' as const),
        recorded: fc.array(address),
      }),
      fc.record({
        state: fc.constant('send_slaveof_noone' as const),
        stage: fc.constantFrom('entered' as const, 'sent' as const),
      }),
      fc.record({
        state: fc.constant('wait_promotion' as const),
        stage: fc.constantFrom(
          'entered' as const,
          'probe' as const,
          'probing' as const,
          'resending' as const,
        ),
        resent: fc.boolean(),
      }),
      fc.record({
        state: fc.constant('reconf_slaves' as const),
        stage: fc.constantFrom('entered' as const, 'recorded' as const),
      }),
      fc.record({
        state: fc.constant('none' as const),
        stage: fc.constant('completed' as const),
        oldMaster: address,
        promoted: address,
      }),
    );
    const answer: fc.Arbitrary<FailoverAnswer> = fc.oneof(
      fc.constant({ type: 'none' } as const),
      fc.constant({ type: 'recorded' } as const),
      fc.record({ type: fc.constant('replicas' as const), addresses: fc.array(address) }),
      fc.record({
        type: fc.constant('reply' as const),
        reply: fc.oneof(
          fc.constant({ ok: true } as const),
          fc.constant({ ok: false, reason: 'ERR' } as const),
        ),
      }),
      fc.record({
        type: fc.constant('info' as const),
        result: fc.oneof(
          fc.constant({ type: 'timeout' } as const),
          fc.constantFrom('master' as const, 'replica' as const).map((role) => ({
            type: 'info' as const,
            info: replicaInfo({ role }),
          })),
        ),
      }),
    );
    fc.assert(
      fc.property(
        fc.constantFrom('send_slaveof_noone' as const, 'wait_promotion' as const, 'reconf_slaves' as const),
        address,
        fc.boolean(),
        memory,
        answer,
        fc.integer({ min: 0, max: 3 * FT }),
        (state, promoted, coordinated, remembered, given, elapsed) => {
          const chosen: FailoverProgress = progress({
            promoted,
            coordinated,
            promotionSentAt: T0,
            replicas: ADDRESSES.filter((a) => key(a) !== key(promoted)).map((a) => ({
              host: a.host,
              port: a.port,
              state: 'pending',
              sentAt: null,
              note: null,
            })),
          });
          const record: MasterRecord = failoverRecord(state, chosen);
          const out = stepFailover({
            now: T0 + elapsed,
            settings: SETTINGS,
            record,
            memory: remembered,
            answer: given,
          });
          if (out.request.type === 'send' && out.request.command.type !== 'replicate')
            expect(out.request.command.target).toEqual(promoted);
          if (out.request.type === 'send' && out.request.command.type === 'replicate')
            expect(out.request.command.master).toEqual(promoted);
          if (out.request.type === 'record') expect(out.request.write.progress.promoted).toEqual(promoted);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});

function addressOf(k: string): Address {
  const [host, port] = k.split(':');
  return { host: host as string, port: Number(port) };
}
