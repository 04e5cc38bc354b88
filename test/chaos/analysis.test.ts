/**
 * The chaos run's judge (chaos/analysis.ts) on hand-made histories: each check must fire on the
 * situation it exists for and stay quiet on the legitimate one next to it. Without these, a chaos run
 * reporting "0 violations" would prove nothing.
 */
import { describe, expect, it } from 'vitest';
import {
  type AnalysisParams,
  analyse,
  type FinalState,
  falseFailoversDuringSingleSentinelPartitions,
  mergeSpans,
} from '../../chaos/analysis.js';
import { type AckedWrite, type FaultKind, History, type RecordObservation } from '../../chaos/history.js';

const A = '127.0.0.1:1001';
const B = '127.0.0.1:1002';
const SENTINELS = ['sentinel-a', 'sentinel-b', 'sentinel-c'];
const D = 1_500;

const PARAMS: AnalysisParams = {
  initialMaster: A,
  sentinels: SENTINELS,
  downAfterMs: D,
  probePeriodMs: 1_000,
  probeTimeoutMs: 500,
  freshMs: 1_000,
  graceSlackMs: 250,
  unavailableGapMs: 500,
  chaosStartedAt: 0,
  chaosEndedAt: 60_000,
};

/** The claim of the one failover (A → B) in these histories, and its commit. */
const CLAIM_AT = 20_000;
const COMMIT_START = 20_100;
const COMMIT_END = 20_110;

function observation(at: number, configEpoch: number, node: string, extra: Partial<RecordObservation> = {}) {
  return {
    observer: 'harness',
    startedAt: at,
    returnedAt: at + 5,
    currentEpoch: configEpoch,
    configEpoch,
    leader: configEpoch === 0 ? null : 'sentinel-a',
    node,
    failoverState: 'none',
    ...extra,
  };
}

/** A history with one failover A → B (claimed at 20 s, committed at 20.1 s) and no fault yet. */
function failoverHistory(): History {
  const h = new History();
  h.observations.push(observation(1_000, 0, A));
  h.claims.push({
    sentinel: 'sentinel-a',
    mode: 'start',
    epoch: 1,
    startedAt: CLAIM_AT,
    endedAt: CLAIM_AT + 10,
    won: true,
    forced: false,
    oldMaster: A,
  });
  h.switches.push({
    sentinel: 'sentinel-a',
    epoch: 1,
    node: B,
    startedAt: COMMIT_START,
    endedAt: COMMIT_END,
    outcome: 'ok',
  });
  h.observations.push(observation(20_200, 1, B));
  return h;
}

function fault(h: History, kind: FaultKind, from: number, to: number): number {
  const id = h.faults.length + 1;
  h.faults.push({ id, kind, target: 'test', startedAt: from, endedAt: to, plannedMs: to - from });
  return id;
}

const FINAL_UNCHECKED: FinalState = { master: B, present: null, converged: true, convergeMs: 0, detail: '' };

function write(n: number, node: string, sentAt: number): AckedWrite {
  return { n, node, sentAt, ackedAt: sentAt + 1, lookupStartedAt: sentAt - 50, lookupEpoch: 0 };
}

describe('chaos analysis: false failovers', () => {
  it('judges a failover of a healthy master false, and counts it against a one-sentinel partition', () => {
    const h = failoverHistory();
    const id = fault(h, 'partition-sentinel-master', 15_000, 25_000);
    h.conditions.push({
      kind: 'link-cut',
      node: A,
      sentinel: 'sentinel-b',
      from: 15_000,
      to: 25_000,
      faultId: id,
    });
    const findings = analyse(h, PARAMS, FINAL_UNCHECKED);
    expect(findings.failovers).toHaveLength(1);
    expect(findings.failovers[0]).toMatchObject({ epoch: 1, from: A, to: B, isFalse: true, cause: 'none' });
    expect(falseFailoversDuringSingleSentinelPartitions(findings)).toHaveLength(1);
  });

  it('justifies a failover by a kill, a long pause or a cut from two sentinels that began down-after before the claim', () => {
    const cases: Array<[string, (h: History) => void]> = [
      [
        'killed',
        (h) => h.conditions.push({ kind: 'killed', node: A, from: CLAIM_AT - D - 200, to: null, faultId: 1 }),
      ],
      [
        'paused',
        (h) =>
          h.conditions.push({
            kind: 'paused',
            node: A,
            from: CLAIM_AT - 2 * D,
            to: CLAIM_AT + 500,
            faultId: 1,
          }),
      ],
      [
        'majority-cut',
        (h) =>
          h.conditions.push(
            {
              kind: 'link-cut',
              node: A,
              sentinel: 'sentinel-a',
              from: CLAIM_AT - 2 * D,
              to: CLAIM_AT + 1_000,
              faultId: 1,
            },
            {
              kind: 'link-cut',
              node: A,
              sentinel: 'sentinel-b',
              from: CLAIM_AT - 2 * D,
              to: CLAIM_AT + 1_000,
              faultId: 1,
            },
          ),
      ],
    ];
    for (const [cause, add] of cases) {
      const h = failoverHistory();
      add(h);
      expect(analyse(h, PARAMS, FINAL_UNCHECKED).failovers[0]).toMatchObject({ cause, isFalse: false });
    }
  });

  it('does not let a pause shorter than down-after, or a cut from one sentinel, justify a failover', () => {
    const short = failoverHistory();
    short.conditions.push({
      kind: 'paused',
      node: A,
      from: CLAIM_AT - 0.5 * D,
      to: CLAIM_AT - 100,
      faultId: 1,
    });
    expect(analyse(short, PARAMS, FINAL_UNCHECKED).failovers[0]?.isFalse).toBe(true);

    const one = failoverHistory();
    one.conditions.push({ kind: 'link-cut', node: A, sentinel: 'sentinel-a', from: 0, to: null, faultId: 1 });
    expect(analyse(one, PARAMS, FINAL_UNCHECKED).failovers[0]?.isFalse).toBe(true);

    // Two cuts that never overlap are never a majority.
    const apart = failoverHistory();
    apart.conditions.push(
      { kind: 'link-cut', node: A, sentinel: 'sentinel-a', from: 10_000, to: 15_000, faultId: 1 },
      { kind: 'link-cut', node: A, sentinel: 'sentinel-b', from: 15_000, to: CLAIM_AT, faultId: 2 },
    );
    expect(analyse(apart, PARAMS, FINAL_UNCHECKED).failovers[0]?.isFalse).toBe(true);
  });

  it('does not let a kill shorter than down-after justify a failover, even one just before the claim', () => {
    const h = failoverHistory();
    h.conditions.push({ kind: 'killed', node: A, from: CLAIM_AT - D, to: CLAIM_AT - D + 700, faultId: 1 });
    expect(analyse(h, PARAMS, FINAL_UNCHECKED).failovers[0]?.isFalse).toBe(true);
  });

  it('counts a node that did not answer the harness itself (after its restart) as part of the outage', () => {
    const h = failoverHistory();
    h.conditions.push({ kind: 'killed', node: A, from: CLAIM_AT - D, to: CLAIM_AT - D + 600, faultId: 1 });
    h.roles.set(A, [
      { at: 0, role: 'master', masterPort: null, linkUp: false },
      { at: CLAIM_AT - D + 100, role: 'unreachable', masterPort: null, linkUp: false },
      { at: CLAIM_AT + 200, role: 'master', masterPort: null, linkUp: false },
    ]);
    expect(analyse(h, PARAMS, FINAL_UNCHECKED).failovers[0]).toMatchObject({
      isFalse: false,
      cause: 'killed',
    });
  });

  it('does not count what the node reported before it became master, and names the latest outage as the cause', () => {
    // B reported slave until its promotion (as a replica should), then was killed: the kill is the cause.
    const h = failoverHistory();
    const SECOND_CLAIM = 40_000;
    h.claims.push({
      ...(h.claims[0] as (typeof h.claims)[number]),
      epoch: 2,
      startedAt: SECOND_CLAIM,
      oldMaster: B,
    });
    h.switches.push({
      sentinel: 'sentinel-a',
      epoch: 2,
      node: A,
      startedAt: SECOND_CLAIM + 100,
      endedAt: SECOND_CLAIM + 110,
      outcome: 'ok',
    });
    h.observations.push(observation(SECOND_CLAIM + 200, 2, A));
    h.conditions.push({ kind: 'killed', node: A, from: CLAIM_AT - 2 * D, to: CLAIM_AT + 500, faultId: 1 });
    h.roles.set(B, [
      { at: 0, role: 'slave', masterPort: 1001, linkUp: true },
      { at: COMMIT_END + 50, role: 'master', masterPort: null, linkUp: false },
      { at: SECOND_CLAIM - D, role: 'unreachable', masterPort: null, linkUp: false },
    ]);
    h.conditions.push({ kind: 'killed', node: B, from: SECOND_CLAIM - D, to: null, faultId: 2 });
    const second = analyse(h, PARAMS, FINAL_UNCHECKED).failovers[1];
    expect(second).toMatchObject({ from: B, to: A, isFalse: false, cause: 'killed' });

    // Without the kill, what B reported as a replica must not justify a failover just after its promotion.
    const early = failoverHistory();
    early.conditions.push({
      kind: 'killed',
      node: A,
      from: CLAIM_AT - 2 * D,
      to: CLAIM_AT + 500,
      faultId: 1,
    });
    early.claims.push({
      ...(early.claims[0] as (typeof early.claims)[number]),
      epoch: 2,
      startedAt: COMMIT_END + 1_000,
      oldMaster: B,
    });
    early.switches.push({
      sentinel: 'sentinel-a',
      epoch: 2,
      node: A,
      startedAt: COMMIT_END + 1_100,
      endedAt: COMMIT_END + 1_110,
      outcome: 'ok',
    });
    early.observations.push(observation(COMMIT_END + 1_200, 2, A));
    early.roles.set(B, [
      { at: 0, role: 'slave', masterPort: 1001, linkUp: true },
      { at: COMMIT_END + 50, role: 'master', masterPort: null, linkUp: false },
    ]);
    expect(analyse(early, PARAMS, FINAL_UNCHECKED).failovers[1]).toMatchObject({ from: B, isFalse: true });
  });

  it('takes a pause followed at once by a cut from two sentinels as one outage', () => {
    const h = failoverHistory();
    h.conditions.push(
      { kind: 'paused', node: A, from: CLAIM_AT - D, to: CLAIM_AT - D + 800, faultId: 1 },
      { kind: 'link-cut', node: A, sentinel: 'sentinel-a', from: CLAIM_AT - D + 800, to: null, faultId: 2 },
      { kind: 'link-cut', node: A, sentinel: 'sentinel-c', from: CLAIM_AT - D + 800, to: null, faultId: 2 },
    );
    expect(analyse(h, PARAMS, FINAL_UNCHECKED).failovers[0]).toMatchObject({
      isFalse: false,
      cause: 'paused',
    });
  });

  it('does not let an outage that ended long before the claim justify it', () => {
    const h = failoverHistory();
    h.conditions.push({ kind: 'killed', node: A, from: 1_000, to: 5_000, faultId: 1 });
    expect(analyse(h, PARAMS, FINAL_UNCHECKED).failovers[0]?.isFalse).toBe(true);
  });
});

describe('chaos analysis: split brain', () => {
  it('flags a write accepted by the old master beyond the grace window after the commit, and only that one', () => {
    const h = failoverHistory();
    h.conditions.push({ kind: 'killed', node: A, from: CLAIM_AT - 2 * D, to: CLAIM_AT + 500, faultId: 1 });
    const grace = PARAMS.freshMs + PARAMS.graceSlackMs;
    h.writes.push(
      write(1, A, 10_000), // before the failover
      write(2, A, COMMIT_END + grace - 100), // within grace: the client's view may still be that old
      write(3, B, COMMIT_END + 50), // the new master
      write(4, A, COMMIT_END + grace + 500), // the old master, well after: split brain
    );
    const findings = analyse(h, PARAMS, FINAL_UNCHECKED);
    expect(findings.splitBrain.map((w) => w.n)).toEqual([4]);
    expect(findings.violations.map((v) => v.rule)).toContain('no split brain');
  });

  it('dates a commit by the first read that saw it when the commit call itself failed', () => {
    const h = failoverHistory();
    h.switches.splice(0, 1, {
      ...(h.switches[0] as (typeof h.switches)[number]),
      outcome: 'error',
      endedAt: 22_000,
    });
    h.observations.splice(1, 1, observation(30_000, 1, B));
    // The switch surely happened by 30 s (the read) and maybe as early as 20.1 s (the call's start).
    h.writes.push(write(1, A, 25_000), write(2, B, 21_000), write(3, A, 32_000));
    const findings = analyse(h, PARAMS, FINAL_UNCHECKED);
    expect(findings.epochs[1]).toMatchObject({ epoch: 1, node: B, lo: COMMIT_START, hi: 30_005 });
    expect(findings.splitBrain.map((w) => w.n)).toEqual([3]);
  });
});

describe('chaos analysis: lost writes', () => {
  it('calls a loss expected when a failover to another node followed the write, a violation otherwise', () => {
    const h = failoverHistory();
    h.conditions.push({ kind: 'killed', node: A, from: CLAIM_AT - 2 * D, to: CLAIM_AT + 500, faultId: 1 });
    h.writes.push(write(1, A, 15_000), write(2, B, 30_000), write(3, B, 31_000));
    const final: FinalState = { ...FINAL_UNCHECKED, present: new Set([3]) };
    const findings = analyse(h, PARAMS, final);
    expect(findings.lost).toMatchObject({ checked: true, expected: 1, expectedByCause: { killed: 1 } });
    expect(findings.lost.unexpected.map((w) => w.n)).toEqual([2]);
    expect(findings.violations.map((v) => v.rule)).toContain('no acknowledged write lost without a failover');
  });
});

describe('chaos analysis: epochs', () => {
  it('flags a read that saw an older epoch after a newer one had been read', () => {
    const h = failoverHistory();
    h.observations.push(observation(25_000, 0, A));
    const rules = analyse(h, PARAMS, FINAL_UNCHECKED).violations.map((v) => v.rule);
    expect(rules).toContain('epochs never go back');
  });

  it('does not flag overlapping reads that returned in either order', () => {
    const h = failoverHistory();
    // Started before the commit's first proof returned: it may have been served before the commit.
    h.observations.push({ ...observation(20_150, 0, A), returnedAt: 20_300 });
    expect(analyse(h, PARAMS, FINAL_UNCHECKED).violations).toEqual([]);
  });

  it('flags two leaders for one epoch, two masters for one config epoch, and a lookup going back', () => {
    const h = failoverHistory();
    h.claims.push({ ...(h.claims[0] as (typeof h.claims)[number]), sentinel: 'sentinel-b' });
    h.observations.push(observation(40_000, 1, A));
    h.lookups.push(
      { startedAt: 30_000, returnedAt: 30_010, node: B, configEpoch: 1 },
      { startedAt: 30_100, returnedAt: 30_110, node: A, configEpoch: 0 },
    );
    const rules = analyse(h, PARAMS, FINAL_UNCHECKED).violations.map((v) => v.rule);
    expect(rules).toEqual(
      expect.arrayContaining([
        'one leader per epoch',
        'one master per configuration epoch',
        'a lookup never returns an older epoch than one it returned before',
      ]),
    );
  });
});

describe('chaos analysis: unavailability and helpers', () => {
  it('reports gaps between acknowledged writes longer than the threshold, with the faults during them', () => {
    const h = failoverHistory();
    const id = fault(h, 'kill-master', 10_000, 12_000);
    for (let t = 0; t <= 60_000; t += 100) if (t < 10_000 || t > 13_000) h.writes.push(write(t, A, t));
    const findings = analyse(h, PARAMS, FINAL_UNCHECKED);
    expect(findings.unavailability).toHaveLength(1);
    expect(findings.unavailability[0]).toMatchObject({ from: 9_901, to: 13_101 });
    expect(findings.unavailability[0]?.faults.map((f) => f.id)).toEqual([id]);
  });

  it('merges overlapping spans', () => {
    expect(
      mergeSpans([
        { from: 5, to: 7 },
        { from: 1, to: 3 },
        { from: 2, to: 4 },
        { from: 7, to: 9 },
      ]),
    ).toEqual([
      { from: 1, to: 4 },
      { from: 5, to: 9 },
    ]);
  });
});
