import { describe, expect, it } from 'vitest';
import { LEASE_SAFETY_MARGIN_MS } from '../../../lib/core/leaseTiming.js';
import {
  NO_OUTAGE_CHECK,
  type OutageCheck,
  outageCheckDone,
  outageCheckStep,
  quietStoreErrors,
  STORE_UP,
  storeAnswered,
  storeFailed,
  writesAllowed,
} from '../../../lib/core/storeHealth.js';
import type { LoopLease } from '../../../lib/core/types.js';

const HEARTBEAT_MS = 1_000;

function lease(leaseUntil: number): LoopLease {
  return {
    sentinelId: 'sentinel-a',
    holder: 'inv-1',
    token: 1,
    leaseUntil,
    heartbeatAt: 0,
    handoverRequestedBy: null,
    handoverFrom: 0,
    generation: null,
    tilt: false,
    summary: null,
  };
}

describe('Function: storeFailed', () => {
  it('marks an answering store down from now, with the failure’s text', () => {
    expect(storeFailed(STORE_UP, 1_000, 'timeout')).toEqual({
      health: { downSince: 1_000, reason: 'timeout' },
      wentDown: true,
    });
  });

  it('keeps the outage’s start on a further failure, with the newest text', () => {
    const down = storeFailed(STORE_UP, 1_000, 'timeout').health;
    expect(storeFailed(down, 3_000, 'throttled')).toEqual({
      health: { downSince: 1_000, reason: 'throttled' },
      wentDown: false,
    });
  });
});

describe('Function: storeAnswered', () => {
  it('marks a down store up, with the outage’s length; the last text stays for the record', () => {
    const down = storeFailed(STORE_UP, 1_000, 'timeout').health;
    expect(storeAnswered(down, 4_500)).toEqual({
      health: { downSince: null, reason: 'timeout' },
      outageMs: 3_500,
    });
  });

  it('is no news for a store that was up', () => {
    const answered = storeAnswered(STORE_UP, 4_500);
    expect(answered.outageMs).toBeNull();
    expect(answered.health).toBe(STORE_UP);
  });
});

describe('Function: writesAllowed', () => {
  const down = storeFailed(STORE_UP, 0, 'timeout').health;

  it('allows writes under a safe lease while the store answers', () => {
    expect(writesAllowed(STORE_UP, lease(10_000), 0)).toBe(true);
  });

  it('allows none while the store is down, even under a safe lease', () => {
    expect(writesAllowed(down, lease(10_000), 0)).toBe(false);
  });

  it('allows none without a lease, or once the lease is within its safety margin of expiring', () => {
    expect(writesAllowed(STORE_UP, null, 0)).toBe(false);
    expect(writesAllowed(STORE_UP, lease(10_000), 10_000 - LEASE_SAFETY_MARGIN_MS)).toBe(false);
  });
});

describe('Function: outageCheckStep', () => {
  it('starts a check at the first tick of an outage', () => {
    expect(outageCheckStep(NO_OUTAGE_CHECK, 5_000, HEARTBEAT_MS)).toEqual({
      check: { inFlight: true, nextAt: 6_000, verdict: 'ok' },
      start: true,
    });
  });

  it('starts none while one is in flight, even when the next is due', () => {
    const inFlight: OutageCheck = { inFlight: true, nextAt: 0, verdict: 'ok' };
    expect(outageCheckStep(inFlight, 10_000, HEARTBEAT_MS)).toEqual({ check: inFlight, start: false });
  });

  it('starts the next a heartbeat period after the last one started, not sooner', () => {
    const done: OutageCheck = { inFlight: false, nextAt: 6_000, verdict: 'ok' };
    expect(outageCheckStep(done, 5_999, HEARTBEAT_MS).start).toBe(false);
    expect(outageCheckStep(done, 6_000, HEARTBEAT_MS).start).toBe(true);
  });
});

describe('Function: outageCheckDone', () => {
  const inFlight: OutageCheck = { inFlight: true, nextAt: 6_000, verdict: 'ok' };

  it('keeps going after a renewal that found nothing new (renewed, or the store still down)', () => {
    expect(outageCheckDone(inFlight, 'ok')).toEqual({ inFlight: false, nextAt: 6_000, verdict: 'ok' });
    expect(outageCheckDone(inFlight, 'unavailable')).toEqual({
      inFlight: false,
      nextAt: 6_000,
      verdict: 'ok',
    });
  });

  it('keeps a lost lease or a hand-over request as the verdict, until the loop reads it', () => {
    expect(outageCheckDone(inFlight, 'lost').verdict).toBe('lost');
    expect(outageCheckDone(inFlight, 'handover').verdict).toBe('handover');
    const lost = outageCheckDone(inFlight, 'lost');
    expect(outageCheckDone({ ...lost, inFlight: true }, 'ok').verdict).toBe('lost');
    expect(outageCheckDone({ ...lost, inFlight: true }, 'unavailable').verdict).toBe('lost');
  });
});

describe('the store outage on a virtual clock', () => {
  it('checks once per heartbeat period however often the loop ticks, each check taking its time', () => {
    let check = NO_OUTAGE_CHECK;
    const started: number[] = [];
    const ends: Array<{ at: number; result: 'unavailable' | 'handover' }> = [];
    let verdictSeenAt: number | null = null;
    // Ticks every 100 ms for 10 s; each check (a renewal) takes 1.5 s, longer than a heartbeat period.
    for (let now = 0; now <= 10_000 && verdictSeenAt === null; now += 100) {
      const due = ends.filter((e) => e.at <= now);
      for (const end of due) check = outageCheckDone(check, end.result);
      ends.splice(0, due.length);
      // As the runner does: start a check if one is due, then read the verdict.
      const step = outageCheckStep(check, now, HEARTBEAT_MS);
      check = step.check;
      if (step.start) {
        started.push(now);
        // The store is back at 7 s, and the lease has a hand-over request by then.
        ends.push({ at: now + 1_500, result: now >= 7_000 ? 'handover' : 'unavailable' });
      }
      if (check.verdict !== 'ok') verdictSeenAt = now;
    }
    // Never two at once: the next starts at the first tick after the last one ended.
    expect(started).toEqual([0, 1_500, 3_000, 4_500, 6_000, 7_500, 9_000]);
    expect(verdictSeenAt).toBe(9_000);
  });
});

describe('Function: quietStoreErrors', () => {
  const QUIET_MS = 60_000;

  it('closes a kind quiet for the whole interval with a successful read since', () => {
    const seen = new Map([['TypeError', 1_000]]);
    expect(quietStoreErrors(seen, 2_000, 61_000, QUIET_MS)).toEqual([
      { kind: 'TypeError', quietForMs: 60_000 },
    ]);
  });

  it('keeps a kind that recurred within the interval', () => {
    expect(quietStoreErrors(new Map([['TypeError', 1_000]]), 2_000, 60_999, QUIET_MS)).toEqual([]);
  });

  it('keeps a kind while no read has worked since it last occurred (the store merely left alone)', () => {
    expect(quietStoreErrors(new Map([['TypeError', 1_000]]), 1_000, 120_000, QUIET_MS)).toEqual([]);
    expect(quietStoreErrors(new Map([['TypeError', 1_000]]), 500, 120_000, QUIET_MS)).toEqual([]);
  });

  it('closes several kinds in the order they were first seen, and only those due', () => {
    const seen = new Map([
      ['SyntaxError', 5_000],
      ['TypeError', 1_000],
      ['RangeError', 50_000],
    ]);
    expect(quietStoreErrors(seen, 60_000, 100_000, QUIET_MS)).toEqual([
      { kind: 'SyntaxError', quietForMs: 95_000 },
      { kind: 'TypeError', quietForMs: 99_000 },
    ]);
  });
});
