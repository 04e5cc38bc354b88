import { describe, expect, it } from 'vitest';
import { SENTINEL_DEFAULTS } from '../../../lib/core/constants.js';
import {
  firstReadAt,
  looksDown,
  loopStoreStep,
  loopWakeAt,
  masterRead,
  nextReadAfterDecision,
  nextReadAfterRead,
  nextReadAfterVote,
  READ_AT_ONCE,
  READ_WHEN_ASKED,
  readAheadAt,
  recordsStillCurrent,
  replicasReadRecently,
  wakeForMaster,
} from '../../../lib/core/loopSchedule.js';
import { applyPingOutcome, type InstanceObservation, newObservation } from '../../../lib/core/observation.js';
import { masterSettings } from '../../support/settings.js';

const HEARTBEAT_MS = 5_000;
const FAST = SENTINEL_DEFAULTS.voteReadPeriodMs;
const SLOW = SENTINEL_DEFAULTS.slowVoteReadPeriodMs;
const FAST_WINDOW = SENTINEL_DEFAULTS.voteReadFastWindowMs;
const address = { host: '127.0.0.1', port: 6379 };
const settings = masterSettings({ downAfterMs: 1_000 });

/** A master that answered PING at `at` (and has not been asked since). */
function answeredAt(at: number): InstanceObservation {
  return applyPingOutcome(newObservation(address, 'master', 0), {
    sentAt: at,
    completedAt: at,
    result: { type: 'reply', kind: 'pong', text: 'PONG' },
  });
}

/** A master that answered PING at `at` and refused the next one, sent 1 ms later: its link is down. */
function refusedAfter(at: number): InstanceObservation {
  return applyPingOutcome(answeredAt(at), {
    sentAt: at + 1,
    completedAt: at + 1,
    result: { type: 'unreachable', reason: 'ECONNREFUSED' },
  });
}

describe('Function: loopStoreStep', () => {
  const base = {
    now: 10_000,
    storeDown: false,
    nextHeartbeatAt: 10_000,
    renewalDue: false,
    heartbeatPeriodMs: HEARTBEAT_MS,
  };

  it('during an outage, only the background check, whatever is due', () => {
    expect(loopStoreStep({ ...base, storeDown: true, renewalDue: true })).toEqual({ kind: 'outage-check' });
    expect(loopStoreStep({ ...base, storeDown: true, nextHeartbeatAt: 0 })).toEqual({ kind: 'outage-check' });
  });

  it('at the heartbeat, reads the change counter and schedules the next heartbeat a period on', () => {
    expect(loopStoreStep(base)).toEqual({ kind: 'heartbeat', readCounter: true, nextHeartbeatAt: 15_000 });
    // A late tick: the period runs from the tick, not from when it was due.
    expect(loopStoreStep({ ...base, now: 12_000 })).toEqual({
      kind: 'heartbeat',
      readCounter: true,
      nextHeartbeatAt: 17_000,
    });
  });

  it('renews a due lease between heartbeats without reading the counter or moving the heartbeat', () => {
    expect(loopStoreStep({ ...base, now: 9_999, renewalDue: true })).toEqual({
      kind: 'heartbeat',
      readCounter: false,
      nextHeartbeatAt: 10_000,
    });
  });

  it('does nothing between heartbeats when no renewal is due', () => {
    expect(loopStoreStep({ ...base, now: 9_999 })).toEqual({ kind: 'none' });
  });

  it('on a virtual clock ticking every 300 ms: one counter read per heartbeat, at the first tick after it is due', () => {
    let nextHeartbeatAt = 1_000;
    const readsAt: number[] = [];
    for (let now = 0; now <= 6_000; now += 300) {
      const step = loopStoreStep({
        now,
        storeDown: false,
        nextHeartbeatAt,
        renewalDue: false,
        heartbeatPeriodMs: 1_000,
      });
      if (step.kind !== 'heartbeat') continue;
      if (step.readCounter) readsAt.push(now);
      nextHeartbeatAt = step.nextHeartbeatAt;
    }
    expect(readsAt).toEqual([1_200, 2_400, 3_600, 4_800, 6_000]);
  });
});

describe('Function: recordsStillCurrent', () => {
  const base = { counter: 4, knownCounter: 4, sentAt: 100_000, fullReadAt: 0, fullReadPeriodMs: 300_000 };

  it('keeps the records when the counter did not move and the full read is not due', () => {
    expect(recordsStillCurrent(base)).toBe(true);
    expect(recordsStillCurrent({ ...base, sentAt: 299_999 })).toBe(true);
  });

  it('reads every record again when the full read is due (the backstop against a lost increment)', () => {
    expect(recordsStillCurrent({ ...base, sentAt: 300_000 })).toBe(false);
  });

  it('reads every record again when the counter moved, is not a count, or there is none to compare with', () => {
    expect(recordsStillCurrent({ ...base, counter: 5 })).toBe(false);
    expect(recordsStillCurrent({ ...base, counter: null })).toBe(false);
    expect(recordsStillCurrent({ ...base, counter: null, knownCounter: null })).toBe(false);
    expect(recordsStillCurrent({ ...base, knownCounter: null })).toBe(false);
  });

  it('reads every record when none were ever read in full', () => {
    expect(recordsStillCurrent({ ...base, fullReadAt: Number.NEGATIVE_INFINITY })).toBe(false);
  });
});

describe('Function: looksDown', () => {
  it('is true once SDOWN is judged, whatever the observation says', () => {
    expect(looksDown(5_000, answeredAt(5_000), settings, 5_000)).toBe(true);
  });

  it('is true when the observation would be judged SDOWN now, before the core judged it', () => {
    // Unanswered since the PING sent at 1: down once that is more than down-after (1000 ms) ago.
    expect(looksDown(null, refusedAfter(0), settings, 1_002)).toBe(true);
  });

  it('is false for a master that answers, or has not failed for longer than down-after yet', () => {
    expect(looksDown(null, answeredAt(0), settings, 60_000)).toBe(false);
    expect(looksDown(null, refusedAfter(0), settings, 1_001)).toBe(false);
  });
});

describe('Function: masterRead', () => {
  const base = {
    now: 10_000,
    storeDown: false,
    nextReadAt: READ_WHEN_ASKED,
    votesReadAt: 0,
    looksDown: false,
    readAheadAt: null,
  };

  it('reads nothing while the store is down, even when due or urgent', () => {
    expect(masterRead({ ...base, storeDown: true, nextReadAt: READ_AT_ONCE })).toBe('store-down');
    expect(masterRead({ ...base, storeDown: true, looksDown: true })).toBe('store-down');
  });

  it('reads when the read is due', () => {
    expect(masterRead({ ...base, nextReadAt: READ_AT_ONCE })).toBe('read');
    expect(masterRead({ ...base, nextReadAt: 10_000 })).toBe('read');
    expect(masterRead({ ...base, nextReadAt: 10_001 })).toBe('keep');
  });

  it('keeps a healthy master’s record (kept current by the counter) and reads no votes', () => {
    expect(masterRead(base)).toBe('keep');
  });

  it('reads at once, before deciding, a master that starts to look down, unless its votes were just read', () => {
    expect(masterRead({ ...base, looksDown: true, votesReadAt: 10_000 - FAST })).toBe('read');
    expect(masterRead({ ...base, looksDown: true, votesReadAt: 10_000 - FAST + 1 })).toBe('keep');
    expect(masterRead({ ...base, looksDown: true, votesReadAt: Number.NEGATIVE_INFINITY })).toBe('read');
  });

  it('reads ahead, before it looks down, a master whose read-ahead time has come, unless its votes were just read', () => {
    expect(masterRead({ ...base, readAheadAt: 10_000, votesReadAt: 10_000 - FAST })).toBe('read');
    expect(masterRead({ ...base, readAheadAt: 10_000, votesReadAt: 10_000 - FAST + 1 })).toBe('keep');
    expect(masterRead({ ...base, readAheadAt: 10_001, votesReadAt: 10_000 - FAST })).toBe('keep');
    expect(masterRead({ ...base, readAheadAt: 10_000, storeDown: true })).toBe('store-down');
  });
});

describe('Function: readAheadAt', () => {
  it('is sdownReadAheadMs (under the vote-read period) before the SDOWN deadline of a master that stopped answering', () => {
    expect(SENTINEL_DEFAULTS.sdownReadAheadMs).toBeLessThan(FAST);
    expect(readAheadAt(refusedAfter(0), 1_000)).toBe(1_002 - SENTINEL_DEFAULTS.sdownReadAheadMs);
    // The tick at that time reads, and the one at the deadline finds the votes fresh enough to keep.
    const at = readAheadAt(refusedAfter(0), 1_000) as number;
    expect(
      masterRead({
        now: at,
        storeDown: false,
        nextReadAt: READ_WHEN_ASKED,
        votesReadAt: 0,
        looksDown: false,
        readAheadAt: at,
      }),
    ).toBe('read');
    expect(
      masterRead({
        now: 1_002,
        storeDown: false,
        nextReadAt: READ_WHEN_ASKED,
        votesReadAt: at,
        looksDown: true,
        readAheadAt: at,
      }),
    ).toBe('keep');
  });

  it('is null for a master that answered its last PING', () => {
    expect(readAheadAt(answeredAt(0), 1_000)).toBeNull();
  });
});

describe('Function: replicasReadRecently', () => {
  it('hands a claim the replicas read with the votes within the slow vote-read period, not older ones', () => {
    expect(replicasReadRecently(10_000, 10_000 + FAST)).toBe(true);
    expect(replicasReadRecently(10_000, 10_000 + SLOW)).toBe(true);
    expect(replicasReadRecently(10_000, 10_000 + SLOW + 1)).toBe(false);
    expect(replicasReadRecently(Number.NEGATIVE_INFINITY, 10_000)).toBe(false);
  });
});

describe('Function: nextReadAfterVote', () => {
  it('reads at once after the first down-vote of an SDOWN: the peers are writing theirs at the same moment', () => {
    expect(nextReadAfterVote({ nextReadAt: 10_025, down: true, wasDown: false })).toBe(READ_AT_ONCE);
  });

  it('leaves the schedule alone for a refreshed down-vote and for an up-vote', () => {
    expect(nextReadAfterVote({ nextReadAt: 10_025, down: true, wasDown: true })).toBe(10_025);
    expect(nextReadAfterVote({ nextReadAt: 10_025, down: false, wasDown: true })).toBe(10_025);
    expect(nextReadAfterVote({ nextReadAt: READ_WHEN_ASKED, down: false, wasDown: false })).toBe(
      READ_WHEN_ASKED,
    );
  });
});

describe('Function: nextReadAfterRead', () => {
  it('reads again only when asked after a read that worked', () => {
    expect(nextReadAfterRead(true, 1_000, HEARTBEAT_MS)).toBe(READ_WHEN_ASKED);
  });

  it('retries a failed read a heartbeat later, not at every tick', () => {
    expect(nextReadAfterRead(false, 1_000, HEARTBEAT_MS)).toBe(1_000 + HEARTBEAT_MS);
  });
});

describe('Function: nextReadAfterDecision', () => {
  const base = { now: 10_000, nextReadAt: READ_WHEN_ASKED, sdownSince: null, wantsFastVoteReads: false };

  it('leaves the next read alone when the decision wants no fast reads', () => {
    expect(nextReadAfterDecision(base)).toBe(READ_WHEN_ASKED);
    expect(nextReadAfterDecision({ ...base, nextReadAt: 12_000, sdownSince: 9_000 })).toBe(12_000);
  });

  it('reads at the fast period during the first moments of an SDOWN', () => {
    expect(nextReadAfterDecision({ ...base, wantsFastVoteReads: true, sdownSince: 10_000 })).toBe(
      10_000 + FAST,
    );
    expect(
      nextReadAfterDecision({ ...base, wantsFastVoteReads: true, sdownSince: 10_000 - FAST_WINDOW + 1 }),
    ).toBe(10_000 + FAST);
  });

  it('reads at the slow period once the SDOWN is older than the fast window, and when not SDOWN itself', () => {
    expect(
      nextReadAfterDecision({ ...base, wantsFastVoteReads: true, sdownSince: 10_000 - FAST_WINDOW }),
    ).toBe(10_000 + SLOW);
    expect(nextReadAfterDecision({ ...base, wantsFastVoteReads: true, sdownSince: null })).toBe(
      10_000 + SLOW,
    );
  });

  it('keeps an earlier read already due', () => {
    expect(
      nextReadAfterDecision({ ...base, wantsFastVoteReads: true, sdownSince: 10_000, nextReadAt: 10_010 }),
    ).toBe(10_010);
  });
});

describe('Function: firstReadAt', () => {
  it('reads a new master at once unless the store vouched for its record', () => {
    expect(firstReadAt(true)).toBe(READ_WHEN_ASKED);
    expect(firstReadAt(false)).toBe(READ_AT_ONCE);
  });
});

describe('Function: loopWakeAt', () => {
  it('wakes at the shortest probe period, at most maxProbePeriodMs after the tick', () => {
    expect(loopWakeAt(1_000, [])).toBe(1_000 + SENTINEL_DEFAULTS.maxProbePeriodMs);
    expect(loopWakeAt(1_000, [500, 300, 800])).toBe(1_300);
    expect(loopWakeAt(1_000, [5_000])).toBe(1_000 + SENTINEL_DEFAULTS.maxProbePeriodMs);
  });
});

describe('Function: wakeForMaster', () => {
  it('keeps the wake time for a master without a decision or without wishes', () => {
    expect(wakeForMaster(2_000, null, 1_000)).toBe(2_000);
    expect(wakeForMaster(2_000, { wakeAt: null, wantsFastVoteReads: false }, 1_000)).toBe(2_000);
  });

  it('wakes earlier for the decision’s own wake time, never later', () => {
    expect(wakeForMaster(2_000, { wakeAt: 1_500, wantsFastVoteReads: false }, 0)).toBe(1_500);
    expect(wakeForMaster(2_000, { wakeAt: 2_500, wantsFastVoteReads: false }, 0)).toBe(2_000);
  });

  it('wakes for the master’s next read only when its reads are urgent', () => {
    expect(wakeForMaster(2_000, { wakeAt: null, wantsFastVoteReads: true }, 1_025)).toBe(1_025);
    expect(wakeForMaster(2_000, { wakeAt: 1_500, wantsFastVoteReads: true }, 1_025)).toBe(1_025);
    expect(wakeForMaster(2_000, { wakeAt: 1_000, wantsFastVoteReads: true }, 1_025)).toBe(1_000);
    expect(wakeForMaster(2_000, { wakeAt: null, wantsFastVoteReads: true }, READ_WHEN_ASKED)).toBe(2_000);
  });

  it('wakes for the master’s read-ahead time while it is still to come', () => {
    const none = { wakeAt: 1_002, wantsFastVoteReads: false };
    expect(wakeForMaster(2_000, none, READ_WHEN_ASKED, { at: 987, now: 500 })).toBe(987);
    expect(wakeForMaster(2_000, none, READ_WHEN_ASKED, { at: 987, now: 987 })).toBe(1_002);
    expect(wakeForMaster(2_000, none, READ_WHEN_ASKED, { at: null, now: 500 })).toBe(1_002);
  });
});

describe('read scheduling on a virtual clock', () => {
  /**
   * One master's ticks as the runner runs them: read when masterRead says so, then the decision (which
   * wants fast reads while the master looks down), then sleep until the wake time.
   */
  function readsWhile(input: { downFrom: number; until: number; probePeriodMs: number }): number[] {
    const reads: number[] = [];
    let nextReadAt = firstReadAt(true);
    let votesReadAt = Number.NEGATIVE_INFINITY;
    let now = 0;
    while (now < input.until) {
      const down = now >= input.downFrom;
      const sdownSince = down ? input.downFrom : null;
      const read = masterRead({
        now,
        storeDown: false,
        nextReadAt,
        votesReadAt,
        looksDown: down,
        readAheadAt: null,
      });
      if (read === 'read') {
        reads.push(now);
        votesReadAt = now;
        nextReadAt = nextReadAfterRead(true, now, HEARTBEAT_MS);
      }
      const decision = { wakeAt: null, wantsFastVoteReads: down };
      nextReadAt = nextReadAfterDecision({ now, nextReadAt, sdownSince, wantsFastVoteReads: down });
      now = wakeForMaster(loopWakeAt(now, [input.probePeriodMs]), decision, nextReadAt);
    }
    return reads;
  }

  it('reads nothing of a healthy master', () => {
    expect(readsWhile({ downFrom: Number.POSITIVE_INFINITY, until: 60_000, probePeriodMs: 1_000 })).toEqual(
      [],
    );
  });

  it('reads a master that looks down at once, at the fast period for the fast window, then at the slow period', () => {
    const reads = readsWhile({ downFrom: 10_000, until: 20_000, probePeriodMs: 1_000 });
    expect(reads[0]).toBe(10_000);
    const gaps = reads.slice(1).map((at, i) => [reads[i] as number, at - (reads[i] as number)]);
    for (const [at, gap] of gaps) expect(gap).toBe((at as number) - 10_000 < FAST_WINDOW ? FAST : SLOW);
    expect(reads.filter((at) => at < 10_000 + FAST_WINDOW)).toHaveLength(FAST_WINDOW / FAST);
    expect(reads.filter((at) => at >= 10_000 + FAST_WINDOW)).toHaveLength(FAST_WINDOW / SLOW);
  });
});
