/**
 * The failover state machine (lib/core/failover.ts), one state at a time: what each step asks for, what
 * it records, what it announces, on a virtual clock. Whole failovers, resumption and the safety property
 * are in failoverScenarios.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { SENTINEL_DEFAULTS } from '../../../lib/core/constants.js';
import {
  choiceForClaim,
  RESEND_PROMOTION_AFTER_MS,
  recordedFailover,
  stepFailover,
} from '../../../lib/core/failover.js';
import type {
  FailoverAnswer,
  FailoverMemory,
  FailoverRequest,
  FailoverStep,
  LeaderView,
} from '../../../lib/core/failoverStep.js';
import { applyLinkLost } from '../../../lib/core/observation.js';
import type {
  Address,
  FailoverProgress,
  MasterRecord,
  MasterSettings,
  ReplicaReconf,
} from '../../../lib/core/types.js';
import {
  candidate,
  eventLines,
  FailoverWorld,
  failoverRecord,
  M,
  progress,
  R1,
  R2,
  R3,
  replicaInfo,
  SETTINGS,
  T0,
} from '../../support/failoverWorld.js';

const FT = SETTINGS.failoverTimeoutMs;
const POLL = SENTINEL_DEFAULTS.failoverPollMs;
const NOW = T0 + 1_000;

function step(
  record: MasterRecord,
  options: { now?: number; memory?: FailoverMemory; answer?: FailoverAnswer; settings?: MasterSettings } = {},
): FailoverStep {
  return stepFailover({
    now: options.now ?? NOW,
    settings: options.settings ?? SETTINGS,
    record,
    memory: options.memory ?? null,
    answer: options.answer ?? { type: 'none' },
  });
}

const reconf = (a: Address, state: ReplicaReconf['state'] = 'pending', sentAt: number | null = null) => ({
  host: a.host,
  port: a.port,
  state,
  sentAt,
  note: null,
});

/** The progress of a failover that chose R1, with R2 and R3 to re-point. */
function chosen(overrides: Partial<FailoverProgress> = {}): FailoverProgress {
  return progress({
    promoted: R1,
    promotionSentAt: T0 + 500,
    replicas: [reconf(R2), reconf(R3)],
    ...overrides,
  });
}

function writeOf(request: FailoverRequest) {
  if (request.type !== 'record') throw new Error(`expected a write, got ${request.type}`);
  return request.write;
}

const view = (
  replicas: LeaderView['replicas'],
  masterSdownSince: number | null = T0 - 5_000,
): FailoverAnswer => ({
  type: 'view',
  view: { replicas, masterSdownSince },
});

const SLAVE_R1 = `slave ${R1.host}:${R1.port} ${R1.host} ${R1.port} @ mymaster ${M.host} ${M.port}`;
const SLAVE_R2 = `slave ${R2.host}:${R2.port} ${R2.host} ${R2.port} @ mymaster ${M.host} ${M.port}`;
const SLAVE_R3 = `slave ${R3.host}:${R3.port} ${R3.host} ${R3.port} @ mymaster ${M.host} ${M.port}`;
const MASTER_M = `master mymaster ${M.host} ${M.port}`;

describe('recordedFailover', () => {
  it('is null when no failover is in progress', () => {
    expect(recordedFailover(failoverRecord('none', null))).toBeNull();
  });

  it('gives select_slave the progress of the recorded master when the record has none', () => {
    const record = failoverRecord('select_slave', null, { host: '10.9.9.9', port: 7000 });
    expect(recordedFailover(record)).toEqual({
      state: 'select_slave',
      startedAt: T0,
      progress: progress({ oldMaster: { host: '10.9.9.9', port: 7000 } }),
    });
  });

  it('types every state after the choice with its promoted replica', () => {
    for (const state of ['send_slaveof_noone', 'wait_promotion', 'reconf_slaves'] as const) {
      const failover = recordedFailover(failoverRecord(state, chosen()));
      expect(failover?.state).toBe(state);
      expect(failover?.progress.promoted).toEqual(R1);
    }
  });

  it('refuses a promotion state without a promoted replica, which no store writes', () => {
    for (const state of ['send_slaveof_noone', 'wait_promotion', 'reconf_slaves'] as const) {
      expect(() => recordedFailover(failoverRecord(state, progress()))).toThrow(
        `failover state ${state} recorded without a promoted replica`,
      );
      expect(() => recordedFailover(failoverRecord(state, null))).toThrow(/without a promoted replica/);
    }
  });
});

describe('select_slave', () => {
  const record = failoverRecord('select_slave', progress());

  const reading: FailoverMemory = { state: 'select_slave', stage: 'reading' };
  const looking = (recorded: Address[] = []): FailoverMemory => ({
    state: 'select_slave',
    stage: 'looking',
    recorded,
  });
  /** The view's answer, given after the recorded replicas were read. */
  const chooseFrom = (answer: FailoverAnswer, recorded: Address[] = []) => ({
    memory: looking(recorded),
    answer,
  });

  it('reads the recorded replicas first, fresh or resumed', () => {
    expect(step(record)).toEqual({
      memory: reading,
      events: [],
      logs: [],
      request: { type: 'read-replicas' },
    });
    const stale: FailoverMemory = { state: 'wait_promotion', stage: 'probing', resent: true };
    expect(step(record, { memory: stale }).request).toEqual({ type: 'read-replicas' });
    // A view that answers nothing asked reads them again.
    expect(step(record, { answer: view([candidate(R1, NOW)]) }).request).toEqual({ type: 'read-replicas' });
  });

  it('then looks at the leader view, keeping what the store recorded', () => {
    const out = step(record, { memory: reading, answer: { type: 'replicas', addresses: [R2, R3] } });
    expect(out.request).toEqual({ type: 'view' });
    expect(out.memory).toEqual(looking([R2, R3]));
    expect(out.events).toEqual([]);
  });

  it('abandons the failover, without an event, when the master answers again before any change', () => {
    const out = step(record, chooseFrom(view([candidate(R1, NOW)], null)));
    expect(out.events).toEqual([]);
    expect(out.logs.map((l) => l.message)).toEqual([
      'the master answers again before any change: failover abandoned',
    ]);
    expect(writeOf(out.request)).toEqual({
      from: 'select_slave',
      to: 'none',
      progress: progress(),
      leaseUntil: 0,
    });
    expect(
      step(failoverRecord('none', progress()), { memory: out.memory, answer: { type: 'recorded' } }).request,
    ).toEqual({
      type: 'end',
      outcome: 'aborted',
    });
  });

  it('goes on with a forced failover although the master answers', () => {
    const forced = failoverRecord('select_slave', progress({ forced: true }));
    expect(writeOf(step(forced, chooseFrom(view([candidate(R1, NOW)], null))).request)).toMatchObject({
      from: 'select_slave',
      to: 'send_slaveof_noone',
      progress: { promoted: R1 },
    });
  });

  it('aborts with -failover-abort-no-good-slave when no replica qualifies, and retries 2 × failover-timeout after the start, as Sentinel', () => {
    const out = step(
      record,
      chooseFrom(view([candidate(R1, NOW, { sdown: true }), candidate(R2, NOW, { priority: 0 })])),
    );
    expect(eventLines(out)).toEqual([`-failover-abort-no-good-slave ${MASTER_M}`]);
    expect(out.events[0]?.at).toBe(NOW);
    const rejected = [
      { host: R1.host, port: R1.port, reason: 'sdown' },
      { host: R2.host, port: R2.port, reason: 'replica-priority is 0' },
    ];
    expect(out.logs).toEqual([
      { level: 'warn', message: 'no replica can be promoted', fields: { master: 'mymaster', rejected } },
    ]);
    expect(writeOf(out.request)).toEqual({
      from: 'select_slave',
      to: 'none',
      progress: progress({ rejected }),
      leaseUntil: 0,
      // Sentinel (sentinel.c, sentinelStartFailoverIfNeeded): no new attempt before the last one's start
      // plus 2 × failover-timeout. The attempt started at T0 (failoverStartedAt).
      retryNotBefore: T0 + 2 * FT,
    });
    expect(out.memory).toEqual({ state: 'none', stage: 'aborted' });
  });

  it('never lets the next attempt start sooner than failover-timeout after an abort, nor counts an unknown start as early', () => {
    const noneQualifies = (now: number) =>
      chooseFrom(view([candidate(R1, now, { sdown: true }), candidate(R2, now, { priority: 0 })]));
    // Aborted late in the attempt (1.5 FT after its start): Sentinel would allow a retry 0.5 FT later.
    const late = T0 + 1.5 * FT;
    const lateAbort = step(record, { ...noneQualifies(late), now: late });
    expect(writeOf(lateAbort.request)).toMatchObject({ to: 'none', retryNotBefore: late + FT });
    // Without a recorded start, the attempt counts as started now.
    const unknownStart = failoverRecord('select_slave', progress(), { failoverStartedAt: null });
    const out = step(unknownStart, noneQualifies(NOW));
    expect(writeOf(out.request)).toMatchObject({ to: 'none', retryNotBefore: NOW + 2 * FT });
  });

  it("chooses by Sentinel's rules and records the choice with every replica known to the view or the store, except the chosen one and the old master", () => {
    const out = step(record, {
      now: NOW + 30,
      ...chooseFrom(view([candidate(R1, NOW, { offset: 500 }), candidate(R2, NOW, { offset: 900 })]), [
        R2,
        R3,
        M,
        R1,
      ]),
    });
    const write = writeOf(out.request);
    expect(write).toEqual({
      from: 'select_slave',
      to: 'send_slaveof_noone',
      progress: progress({
        promoted: R2,
        rejected: [
          { host: R1.host, port: R1.port, reason: expect.stringContaining('ranked below 10.0.0.3:6379') },
        ],
        replicas: [reconf(R1), reconf(R3)],
      }),
      leaseUntil: NOW + 30 + SETTINGS.leaderLeaseMs,
    });
    // Nothing is announced before the store accepted the choice.
    expect(out.events).toEqual([]);
    expect(out.memory).toEqual({ state: 'send_slaveof_noone', stage: 'entered' });
  });

  it('re-points the old master too in a forced failover (it keeps running)', () => {
    const forced = failoverRecord('select_slave', progress({ forced: true }));
    const out = step(forced, chooseFrom(view([candidate(R1, NOW)]), [R2]));
    expect(writeOf(out.request).progress.replicas).toEqual([reconf(R2), reconf(M)]);
  });

  it('announces the choice once it is recorded: +selected-slave, +failover-state-send-slaveof-noone', () => {
    const out = step(failoverRecord('send_slaveof_noone', chosen()), {
      now: NOW + 7,
      memory: { state: 'send_slaveof_noone', stage: 'entered' },
      answer: { type: 'recorded' },
    });
    expect(eventLines(out)).toEqual([
      `+selected-slave ${SLAVE_R1}`,
      `+failover-state-send-slaveof-noone ${SLAVE_R1}`,
    ]);
    expect(out.events.map((e) => [e.level, e.at])).toEqual([
      ['warning', NOW + 7],
      ['notice', NOW + 7],
    ]);
    expect(out.logs.map((l) => l.message)).toEqual(['replica selected']);
    expect(out.request).toEqual({ type: 'continue' });
  });
});

describe('choiceForClaim: the choice an automatic start claim records itself', () => {
  const VALIDITY = 5 * SETTINGS.probePeriodMs;
  const leaderView = (replicas: LeaderView['replicas'], masterSdownSince: number | null = NOW - 20) => ({
    replicas,
    masterSdownSince,
  });

  it("is select_slave's own choice on the same view and recorded replicas", () => {
    const replicas = [candidate(R1, NOW, { offset: 500 }), candidate(R2, NOW, { offset: 900 })];
    const recorded = [R2, R3, M, R1];
    const choice = choiceForClaim(progress(), leaderView(replicas), recorded, SETTINGS, NOW);
    const selected = step(failoverRecord('select_slave', progress()), {
      memory: { state: 'select_slave', stage: 'looking', recorded },
      answer: { type: 'view', view: leaderView(replicas) },
    });
    expect(choice).toEqual(writeOf(selected.request).progress);
    expect(choice).toMatchObject({ promoted: R2, replicas: [reconf(R1), reconf(R3)] });
  });

  it('judges INFO as selection does with the master down: a connected replica may not be older than 5 probe periods', () => {
    const settled = [candidate(R1, NOW - VALIDITY), candidate(R2, NOW)];
    expect(choiceForClaim(progress(), leaderView(settled), [], SETTINGS, NOW)?.promoted).toEqual(R1);
    // R1's INFO a millisecond too old: select_slave would wait for the INFO asked for at SDOWN.
    const unsettled = [candidate(R1, NOW - VALIDITY - 1, { offset: 5_000 }), candidate(R2, NOW)];
    expect(choiceForClaim(progress(), leaderView(unsettled), [], SETTINGS, NOW)).toBeNull();
    // A replica whose link is down waits for nothing (selection excludes it): the claim chooses.
    const lost = candidate(R1, NOW - VALIDITY - 1, { offset: 5_000 });
    const disconnected = [
      { ...lost, observation: applyLinkLost(lost.observation, NOW - 10) },
      candidate(R2, NOW),
    ];
    expect(choiceForClaim(progress(), leaderView(disconnected), [], SETTINGS, NOW)?.promoted).toEqual(R2);
  });

  it('leaves the choice to select_slave for a forced failover, a master not down, or no replica that qualifies', () => {
    const replicas = [candidate(R1, NOW)];
    expect(choiceForClaim(progress({ forced: true }), leaderView(replicas), [], SETTINGS, NOW)).toBeNull();
    expect(choiceForClaim(progress(), leaderView(replicas, null), [], SETTINGS, NOW)).toBeNull();
    const none = [candidate(R1, NOW, { sdown: true }), candidate(R2, NOW, { priority: 0 })];
    expect(choiceForClaim(progress(), leaderView(none), [], SETTINGS, NOW)).toBeNull();
    expect(choiceForClaim(progress(), leaderView([]), [], SETTINGS, NOW)).toBeNull();
  });
});

describe('send_slaveof_noone', () => {
  const record = failoverRecord('send_slaveof_noone', chosen({ promotionSentAt: null }));
  const sent: FailoverMemory = { state: 'send_slaveof_noone', stage: 'sent' };

  it('sends REPLICAOF NO ONE to the recorded replica, fresh or resumed', () => {
    expect(step(record).request).toEqual({ type: 'send', command: { type: 'promote', target: R1 } });
    expect(step(record).memory).toEqual(sent);
    // A stale memory of another state changes nothing: the record's choice is the only one.
    const stale: FailoverMemory = { state: 'select_slave', stage: 'looking', recorded: [R3] };
    expect(step(record, { memory: stale }).request).toEqual({
      type: 'send',
      command: { type: 'promote', target: R1 },
    });
  });

  it('sends FAILOVER TO through the old master for a coordinated switchover, with half the failover-timeout', () => {
    const coordinated = failoverRecord(
      'send_slaveof_noone',
      chosen({ coordinated: true, promotionSentAt: null }),
    );
    expect(step(coordinated).request).toEqual({
      type: 'send',
      command: { type: 'hand-over', master: M, target: R1, timeoutMs: FT / 2 },
    });
  });

  it('gives FAILOVER TO a whole number of milliseconds when failover-timeout is odd', () => {
    const coordinated = failoverRecord(
      'send_slaveof_noone',
      chosen({ coordinated: true, promotionSentAt: null }),
    );
    const odd = { ...SETTINGS, failoverTimeoutMs: 180_001 };
    expect(step(coordinated, { settings: odd }).request).toEqual({
      type: 'send',
      command: { type: 'hand-over', master: M, target: R1, timeoutMs: 90_000 },
    });
  });

  it('commits the promotion on the OK of REPLICAOF NO ONE: +promoted-slave, and the address switches', () => {
    const out = step(record, {
      now: NOW + 250,
      memory: sent,
      answer: { type: 'reply', reply: { ok: true } },
    });
    expect(eventLines(out)).toEqual([
      `+failover-state-wait-promotion ${SLAVE_R1}`,
      `+promoted-slave ${SLAVE_R1}`,
    ]);
    expect(writeOf(out.request)).toEqual({
      from: 'send_slaveof_noone',
      to: 'reconf_slaves',
      progress: chosen({ promotionSentAt: NOW + 250 }),
      leaseUntil: NOW + 250 + SETTINGS.leaderLeaseMs,
      switchTo: R1,
    });
    expect(out.memory).toEqual({ state: 'reconf_slaves', stage: 'entered' });
  });

  it('records wait_promotion with the time FAILOVER TO was accepted: the hand-over comes later', () => {
    const coordinated = failoverRecord(
      'send_slaveof_noone',
      chosen({ coordinated: true, promotionSentAt: null }),
    );
    const out = step(coordinated, {
      now: NOW + 250,
      memory: sent,
      answer: { type: 'reply', reply: { ok: true } },
    });
    expect(writeOf(out.request)).toEqual({
      from: 'send_slaveof_noone',
      to: 'wait_promotion',
      progress: chosen({ coordinated: true, promotionSentAt: NOW + 250 }),
      leaseUntil: NOW + 250 + SETTINGS.leaderLeaseMs,
    });
    expect(out.memory).toEqual({ state: 'wait_promotion', stage: 'entered', resent: false });
    expect(out.events).toEqual([]);
  });

  it('aborts a refused coordinated switchover at once, without an event: nothing was changed', () => {
    const coordinated = failoverRecord(
      'send_slaveof_noone',
      chosen({ coordinated: true, promotionSentAt: null }),
    );
    const out = step(coordinated, {
      memory: sent,
      answer: { type: 'reply', reply: { ok: false, reason: 'ERR x' } },
    });
    expect(out.events).toEqual([]);
    expect(out.logs.map((l) => l.message)).toEqual(['coordinated switchover refused; nothing was changed']);
    expect(writeOf(out.request)).toEqual({
      from: 'send_slaveof_noone',
      to: 'none',
      progress: chosen({ coordinated: true, promotionSentAt: null }),
      leaseUntil: 0,
    });
    expect(out.memory).toEqual({ state: 'none', stage: 'aborted' });
  });

  it('tries again after a pause while failover-timeout has not passed since the start', () => {
    const refused: FailoverAnswer = { type: 'reply', reply: { ok: false, reason: 'ECONNREFUSED' } };
    const atTimeout = step(record, { now: T0 + FT, memory: sent, answer: refused });
    expect(atTimeout.request).toEqual({ type: 'pause', ms: POLL });
    expect(atTimeout.memory).toBeNull();
    expect(atTimeout.logs.map((l) => l.message)).toEqual(['REPLICAOF NO ONE not accepted yet']);
    expect(step(record, { now: T0 + FT + POLL }).request).toEqual({
      type: 'send',
      command: { type: 'promote', target: R1 },
    });
  });

  it('aborts with -failover-abort-slave-timeout once failover-timeout has passed, and retries after another', () => {
    // 2 × failover-timeout after the start (Sentinel's rule) is T0 + 2 FT; one failover-timeout after the
    // abort is 1 ms later, and the later of the two applies.
    const refused: FailoverAnswer = { type: 'reply', reply: { ok: false, reason: 'ECONNREFUSED' } };
    const out = step(record, { now: T0 + FT + 1, memory: sent, answer: refused });
    expect(eventLines(out)).toEqual([`-failover-abort-slave-timeout ${MASTER_M}`]);
    expect(writeOf(out.request)).toEqual({
      from: 'send_slaveof_noone',
      to: 'none',
      progress: chosen({ promotionSentAt: null }),
      leaseUntil: 0,
      retryNotBefore: T0 + FT + 1 + FT,
    });
    expect(out.memory).toEqual({ state: 'none', stage: 'aborted' });
  });

  it('never times out a failover whose start is not recorded', () => {
    const unknownStart = failoverRecord('send_slaveof_noone', chosen(), { failoverStartedAt: null });
    const refused: FailoverAnswer = { type: 'reply', reply: { ok: false, reason: 'ECONNREFUSED' } };
    expect(step(unknownStart, { now: T0 + 100 * FT, memory: sent, answer: refused }).request.type).toBe(
      'pause',
    );
  });
});

describe('wait_promotion', () => {
  const sentAt = T0 + 500;
  const record = failoverRecord('wait_promotion', chosen({ promotionSentAt: sentAt }));
  const probing = (resent = false): FailoverMemory => ({ state: 'wait_promotion', stage: 'probing', resent });
  const seen = (role: 'master' | 'replica'): FailoverAnswer => ({
    type: 'info',
    result: { type: 'info', info: replicaInfo({ role }) },
  });

  it('announces +failover-state-wait-promotion once entered', () => {
    const out = step(record, {
      memory: { state: 'wait_promotion', stage: 'entered', resent: false },
      answer: { type: 'recorded' },
    });
    expect(eventLines(out)).toEqual([`+failover-state-wait-promotion ${SLAVE_R1}`]);
    expect(out.request).toEqual({ type: 'continue' });
  });

  it('asks INFO of the promoted replica', () => {
    const out = step(record);
    expect(out.request).toEqual({ type: 'info', address: R1 });
    expect(out.memory).toEqual(probing());
  });

  it('commits the promotion when the replica reports role master: +promoted-slave, and the address switches', () => {
    const out = step(record, { now: NOW, memory: probing(), answer: seen('master') });
    expect(eventLines(out)).toEqual([`+promoted-slave ${SLAVE_R1}`]);
    expect(writeOf(out.request)).toEqual({
      from: 'wait_promotion',
      to: 'reconf_slaves',
      progress: chosen({ promotionSentAt: sentAt }),
      leaseUntil: NOW + SETTINGS.leaderLeaseMs,
      switchTo: R1,
    });
    expect(out.memory).toEqual({ state: 'reconf_slaves', stage: 'entered' });
  });

  it('polls again while the replica is still a replica', () => {
    const out = step(record, {
      now: sentAt + RESEND_PROMOTION_AFTER_MS,
      memory: probing(),
      answer: seen('replica'),
    });
    expect(out.request).toEqual({ type: 'pause', ms: POLL });
    expect(out.memory).toEqual({ state: 'wait_promotion', stage: 'probe', resent: false });
    expect(step(record, { memory: out.memory }).request).toEqual({ type: 'info', address: R1 });
  });

  it('sends REPLICAOF NO ONE once more to the same replica when it is still a replica a second after, once per wait', () => {
    const late = sentAt + RESEND_PROMOTION_AFTER_MS + 1;
    const out = step(record, { now: late, memory: probing(), answer: seen('replica') });
    expect(out.request).toEqual({ type: 'send', command: { type: 'promote', target: R1 } });
    expect(out.memory).toEqual({ state: 'wait_promotion', stage: 'resending', resent: true });
    const after = step(record, {
      now: late + 20,
      memory: out.memory,
      answer: { type: 'reply', reply: { ok: true } },
    });
    expect(after.request).toEqual({ type: 'pause', ms: POLL });
    expect(after.memory).toEqual({ state: 'wait_promotion', stage: 'probe', resent: true });
    expect(
      step(record, { now: late + 5_000, memory: probing(true), answer: seen('replica') }).request.type,
    ).toBe('pause');
    // A runner that resumes the wait does not know of the resend: it may send it once more.
    expect(
      step(record, { now: late + 5_000, memory: probing(false), answer: seen('replica') }).request.type,
    ).toBe('send');
  });

  it('never sends it again in a coordinated switchover, nor when INFO did not answer', () => {
    const coordinated = failoverRecord(
      'wait_promotion',
      chosen({ promotionSentAt: sentAt, coordinated: true }),
    );
    expect(
      step(coordinated, { now: sentAt + 5_000, memory: probing(), answer: seen('replica') }).request.type,
    ).toBe('pause');
    const noAnswer: FailoverAnswer = { type: 'info', result: { type: 'timeout' } };
    expect(step(record, { now: sentAt + 5_000, memory: probing(), answer: noAnswer }).request.type).toBe(
      'pause',
    );
  });

  it('aborts with -failover-abort-slave-timeout failover-timeout after the command', () => {
    expect(
      step(record, { now: sentAt + FT, memory: probing(true), answer: seen('replica') }).request.type,
    ).toBe('pause');
    const out = step(record, { now: sentAt + FT + 1, memory: probing(true), answer: seen('replica') });
    expect(eventLines(out)).toEqual([`-failover-abort-slave-timeout ${MASTER_M}`]);
    expect(writeOf(out.request)).toEqual({
      from: 'wait_promotion',
      to: 'none',
      progress: chosen({ promotionSentAt: sentAt }),
      leaseUntil: 0,
      retryNotBefore: sentAt + FT + 1 + FT,
    });
  });

  it('counts the timeout with the time after a resend', () => {
    const late = sentAt + FT - 10;
    const resending = step(record, { now: late, memory: probing(), answer: seen('replica') });
    expect(resending.request.type).toBe('send');
    const after = step(record, {
      now: late + 20,
      memory: resending.memory,
      answer: { type: 'reply', reply: { ok: true } },
    });
    expect(eventLines(after)).toEqual([`-failover-abort-slave-timeout ${MASTER_M}`]);
  });

  it('counts from the start of the failover when the send time is not recorded, and never without either', () => {
    const noSendTime = failoverRecord('wait_promotion', chosen({ promotionSentAt: null }));
    expect(
      step(noSendTime, { now: T0 + FT + 1, memory: probing(), answer: seen('replica') }).request.type,
    ).toBe('record');
    // Without a send time there is no resend either (the command's age is unknown).
    expect(step(noSendTime, { now: T0 + FT, memory: probing(), answer: seen('replica') }).request.type).toBe(
      'pause',
    );
    const neither = failoverRecord('wait_promotion', chosen({ promotionSentAt: null }), {
      failoverStartedAt: null,
    });
    expect(
      step(neither, { now: T0 + 100 * FT, memory: probing(), answer: seen('replica') }).request.type,
    ).toBe('pause');
  });
});

describe('reconf_slaves', () => {
  const entered = { state: 'reconf_slaves', stage: 'entered' } as const;
  const reconfRecord = (replicas: FailoverProgress['replicas'], overrides: Partial<MasterRecord> = {}) =>
    failoverRecord('reconf_slaves', chosen({ replicas }), {
      host: R1.host,
      port: R1.port,
      configEpoch: 1,
      ...overrides,
    });

  it('announces +switch-master once the switch is recorded, before any replica is re-pointed, then +failover-state-reconf-slaves', () => {
    const out = step(reconfRecord([reconf(R2)]), {
      now: NOW + 3,
      memory: entered,
      answer: { type: 'recorded' },
    });
    expect(eventLines(out)).toEqual([
      `+switch-master mymaster ${M.host} ${M.port} ${R1.host} ${R1.port}`,
      `+failover-state-reconf-slaves ${MASTER_M}`,
    ]);
    expect(out.events.map((e) => [e.master, e.at])).toEqual([
      ['mymaster', NOW + 3],
      ['mymaster', NOW + 3],
    ]);
    expect(out.logs).toEqual([
      {
        level: 'info',
        message: 'promotion committed: the master address is switched',
        fields: { master: 'mymaster', promoted: R1, configEpoch: 1 },
      },
    ]);
    expect(out.request).toEqual({ type: 'continue' });
  });

  it('tells the first pending replica to follow the promoted one', () => {
    const out = step(reconfRecord([reconf(R2), reconf(R3)]));
    expect(out.request).toEqual({ type: 'send', command: { type: 'replicate', target: R2, master: R1 } });
  });

  it('with parallel-syncs 1, records one replica sent and pauses', () => {
    const record = reconfRecord([reconf(R2), reconf(R3)]);
    const first = step(record);
    const out = step(record, {
      now: NOW + 40,
      memory: first.memory,
      answer: { type: 'reply', reply: { ok: true } },
    });
    expect(eventLines(out)).toEqual([`+slave-reconf-sent ${SLAVE_R2}`]);
    expect(writeOf(out.request)).toEqual({
      from: 'reconf_slaves',
      to: 'reconf_slaves',
      progress: chosen({ replicas: [reconf(R2, 'sent', NOW + 40), reconf(R3)] }),
      leaseUntil: NOW + 40 + SETTINGS.leaderLeaseMs,
    });
    const written = reconfRecord([reconf(R2, 'sent', NOW + 40), reconf(R3)]);
    expect(step(written, { memory: out.memory, answer: { type: 'recorded' } }).request).toEqual({
      type: 'pause',
      ms: POLL,
    });
  });

  it('with parallel-syncs 2, tells two replicas in one round', () => {
    const settings = { ...SETTINGS, parallelSyncs: 2 };
    const record = reconfRecord([reconf(R2), reconf(R3)]);
    const first = step(record, { settings });
    const second = step(record, {
      settings,
      memory: first.memory,
      answer: { type: 'reply', reply: { ok: true } },
    });
    expect(second.request).toEqual({ type: 'send', command: { type: 'replicate', target: R3, master: R1 } });
    const third = step(record, {
      settings,
      memory: second.memory,
      answer: { type: 'reply', reply: { ok: true } },
    });
    expect(writeOf(third.request).progress.replicas.map((r) => r.state)).toEqual(['sent', 'sent']);
  });

  it('counts replicas in progress against parallel-syncs: none told while one is', () => {
    const record = reconfRecord([reconf(R2, 'inprog', NOW - 100), reconf(R3)]);
    const probe = step(record);
    expect(probe.request).toEqual({ type: 'info', address: R2 });
    const lagging = replicaInfo({ masterHost: R1.host, masterPort: R1.port, masterLinkUp: false });
    const out = step(record, {
      memory: probe.memory,
      answer: { type: 'info', result: { type: 'info', info: lagging } },
    });
    expect(out.request).toEqual({ type: 'pause', ms: POLL });
    expect(out.events).toEqual([]);
  });

  it('marks a refused replica done at once and tells the next one in the same round', () => {
    const record = reconfRecord([reconf(R2), reconf(R3)]);
    const first = step(record);
    const refused: FailoverAnswer = { type: 'reply', reply: { ok: false, reason: 'ECONNREFUSED' } };
    const out = step(record, { memory: first.memory, answer: refused });
    expect(out.events).toEqual([]);
    expect(out.request).toEqual({ type: 'send', command: { type: 'replicate', target: R3, master: R1 } });
    const last = step(record, { memory: out.memory, answer: { type: 'reply', reply: { ok: true } } });
    expect(writeOf(last.request).progress.replicas).toEqual([
      { ...reconf(R2, 'done'), note: 'unreachable (ECONNREFUSED); re-pointed when it returns' },
      reconf(R3, 'sent', NOW),
    ]);
  });

  it('follows a told replica through RECONF_SENT → INPROG → DONE as INFO shows it', () => {
    const record = reconfRecord([reconf(R2, 'sent', NOW - 100), reconf(R3, 'sent', NOW - 100)]);
    const settings = { ...SETTINGS, parallelSyncs: 2 };
    const follows = (masterLinkUp: boolean): FailoverAnswer => ({
      type: 'info',
      result: { type: 'info', info: replicaInfo({ masterHost: R1.host, masterPort: R1.port, masterLinkUp }) },
    });
    const first = step(record, { settings });
    expect(first.request).toEqual({ type: 'info', address: R2 });
    const second = step(record, { settings, memory: first.memory, answer: follows(false) });
    expect(eventLines(second)).toEqual([`+slave-reconf-inprog ${SLAVE_R2}`]);
    expect(second.request).toEqual({ type: 'info', address: R3 });
    const third = step(record, { settings, memory: second.memory, answer: follows(true) });
    expect(eventLines(third)).toEqual([`+slave-reconf-inprog ${SLAVE_R3}`, `+slave-reconf-done ${SLAVE_R3}`]);
    expect(writeOf(third.request).progress.replicas.map((r) => r.state)).toEqual(['inprog', 'done']);
  });

  it('keeps a replica that still follows the old master, or does not answer, as sent', () => {
    const record = reconfRecord([reconf(R2, 'sent', NOW - 100)]);
    const first = step(record);
    const oldMaster: FailoverAnswer = {
      type: 'info',
      result: { type: 'info', info: replicaInfo({ masterLinkUp: true }) },
    };
    expect(step(record, { memory: first.memory, answer: oldMaster }).request).toEqual({
      type: 'pause',
      ms: POLL,
    });
    const silent: FailoverAnswer = { type: 'info', result: { type: 'unreachable', reason: 'ECONNREFUSED' } };
    expect(step(record, { memory: first.memory, answer: silent }).request).toEqual({
      type: 'pause',
      ms: POLL,
    });
  });

  it('gives a replica sent more than the reconfiguration timeout up: -slave-reconf-sent-timeout', () => {
    const timeout = SENTINEL_DEFAULTS.replicaReconfTimeoutMs;
    const justInTime = reconfRecord([reconf(R2, 'sent', NOW - timeout)]);
    expect(step(justInTime).request).toEqual({ type: 'info', address: R2 });
    const late = reconfRecord([reconf(R2, 'sent', NOW - timeout - 1), reconf(R3)]);
    const out = step(late);
    expect(eventLines(out)).toEqual([`-slave-reconf-sent-timeout ${SLAVE_R2}`]);
    expect(out.request).toEqual({ type: 'send', command: { type: 'replicate', target: R3, master: R1 } });
    // An INPROG replica is waited for: it follows the promoted master, its sync takes what it takes.
    const inprog = reconfRecord([reconf(R2, 'inprog', NOW - 10 * timeout)]);
    expect(step(inprog).request).toEqual({ type: 'info', address: R2 });
  });

  it('judges the reconfiguration timeout at the time the round started', () => {
    const timeout = SENTINEL_DEFAULTS.replicaReconfTimeoutMs;
    const record = reconfRecord([reconf(R2, 'sent', NOW - 100), reconf(R3, 'sent', NOW - timeout)]);
    const settings = { ...SETTINGS, parallelSyncs: 2 };
    const first = step(record, { settings });
    const silent: FailoverAnswer = { type: 'info', result: { type: 'timeout' } };
    // R2's INFO took long: R3 is still judged with the round's start time, so it is probed.
    expect(step(record, { settings, now: NOW + 500, memory: first.memory, answer: silent }).request).toEqual({
      type: 'info',
      address: R3,
    });
  });

  it('ends the failover when every replica is done: +failover-end (the switch was announced already), the old master remembered', () => {
    const record = reconfRecord([reconf(R2, 'done'), reconf(R3, 'done')]);
    const out = step(record);
    expect(writeOf(out.request)).toEqual({
      from: 'reconf_slaves',
      to: 'none',
      progress: chosen({ replicas: [reconf(R2, 'done'), reconf(R3, 'done')] }),
      leaseUntil: 0,
    });
    expect(out.events).toEqual([]);
    const ended = failoverRecord('none', writeOf(out.request).progress, { host: R1.host, port: R1.port });
    const after = step(ended, { now: NOW + 9, memory: out.memory, answer: { type: 'recorded' } });
    expect(eventLines(after)).toEqual([`+failover-end ${MASTER_M}`]);
    expect(after.events.map((e) => [e.master, e.at])).toEqual([['mymaster', NOW + 9]]);
    expect(after.request).toEqual({ type: 'remember-replica', address: M, at: NOW + 9 });
    expect(step(ended, { memory: after.memory }).request).toEqual({ type: 'end', outcome: 'completed' });
  });

  it('ends at once when there is no replica to re-point', () => {
    expect(writeOf(step(reconfRecord([])).request).to).toBe('none');
  });

  it('records nothing when a round changed nothing', () => {
    const record = reconfRecord([reconf(R2, 'sent', NOW - 100)]);
    const first = step(record);
    const silent: FailoverAnswer = { type: 'info', result: { type: 'timeout' } };
    expect(step(record, { memory: first.memory, answer: silent })).toMatchObject({
      request: { type: 'pause', ms: POLL },
      memory: null,
      events: [],
    });
  });

  it('after failover-timeout, tells every replica not done once (best effort) and ends: +failover-end-for-timeout', () => {
    const replicas = [reconf(R2, 'done'), reconf(R3, 'inprog', T0), reconf(M)];
    const record = reconfRecord(replicas);
    const now = T0 + FT + 1;
    const first = step(record, { now });
    expect(eventLines(first)).toEqual([`+failover-end-for-timeout ${MASTER_M}`]);
    expect(first.request).toEqual({ type: 'send', command: { type: 'replicate', target: R3, master: R1 } });
    // Whatever the reply: the replica is done.
    const second = step(record, {
      now: now + 10,
      memory: first.memory,
      answer: { type: 'reply', reply: { ok: false, reason: 'ECONNREFUSED' } },
    });
    expect(eventLines(second)).toEqual([`+slave-reconf-sent-be ${SLAVE_R3}`]);
    expect(second.request).toEqual({ type: 'send', command: { type: 'replicate', target: M, master: R1 } });
    const third = step(record, {
      now: now + 20,
      memory: second.memory,
      answer: { type: 'reply', reply: { ok: true } },
    });
    const bestEffort = { state: 'done', note: 'best effort after failover-timeout' } as const;
    expect(writeOf(third.request)).toEqual({
      from: 'reconf_slaves',
      to: 'none',
      progress: chosen({
        replicas: [
          reconf(R2, 'done'),
          { ...reconf(R3, 'inprog', T0), ...bestEffort },
          { ...reconf(M), ...bestEffort },
        ],
      }),
      leaseUntil: 0,
    });
    expect(third.memory).toMatchObject({ state: 'none', stage: 'completed' });
  });

  it('is not timed out at exactly failover-timeout', () => {
    expect(step(reconfRecord([reconf(R2)]), { now: T0 + FT }).events).toEqual([]);
  });
});

describe('the end', () => {
  it('ends completed, announcing nothing, when the record shows no failover and this runner did not end it', () => {
    for (const memory of [null, { state: 'send_slaveof_noone', stage: 'sent' } as const]) {
      expect(step(failoverRecord('none', chosen()), { memory })).toEqual({
        memory,
        events: [],
        logs: [],
        request: { type: 'end', outcome: 'completed' },
      });
    }
  });

  it('ends aborted after its own abort was recorded', () => {
    const out = step(failoverRecord('none', progress()), {
      memory: { state: 'none', stage: 'aborted' },
      answer: { type: 'recorded' },
    });
    expect(out.request).toEqual({ type: 'end', outcome: 'aborted' });
    expect(out.events).toEqual([]);
  });
});

describe('the world the scenarios run in', () => {
  it('plays a failover to its end', () => {
    const world = new FailoverWorld({
      record: failoverRecord('select_slave', progress()),
      view: (now) => ({ replicas: [candidate(R1, now)], masterSdownSince: T0 - 5_000 }),
      instances: [[R1, {}]],
    });
    expect(world.drive().outcome).toBe('completed');
    expect(world.record).toMatchObject({
      failoverState: 'none',
      host: R1.host,
      port: R1.port,
      configEpoch: 1,
    });
  });
});
