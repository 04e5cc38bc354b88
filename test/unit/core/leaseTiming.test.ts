import { describe, expect, it } from 'vitest';
import { SENTINEL_DEFAULTS } from '../../../lib/core/constants.js';
import {
  acquireStep,
  handedOverToken,
  handoverFrom,
  handoverGap,
  handoverPollMs,
  handoverVerdict,
  holderIsDue,
  LEASE_SAFETY_MARGIN_MS,
  leaseHeartbeat,
  leaseIsSafe,
  leaseReadVerdict,
  leaseWaitEndsAt,
  MAX_HANDOVER_POLL_MS,
  renewalDue,
  stopReason,
} from '../../../lib/core/leaseTiming.js';
import type { LoopLease } from '../../../lib/core/types.js';

/** The deployed timings: a 3-minute lease, renewed a minute after its last renewal; a 5 s heartbeat. */
const timings = { loopLeaseMs: 180_000, heartbeatPeriodMs: 5_000 };
const RENEW_PERIOD_MS = 60_000;

/** A lease as the store keeps it: held by `inv-1` since `at` (its last renewal), for the whole TTL. */
function lease(overrides: Partial<LoopLease> = {}, at = 0): LoopLease {
  return {
    sentinelId: 'sentinel-a',
    holder: 'inv-1',
    token: 7,
    leaseUntil: at + timings.loopLeaseMs,
    heartbeatAt: at,
    handoverRequestedBy: null,
    handoverFrom: 0,
    generation: 'g1',
    tilt: false,
    summary: null,
    ...overrides,
  };
}

describe('Function: stopReason', () => {
  it('stops on an abort first, even past the stop time', () => {
    expect(stopReason(true, 0, undefined)).toBe('aborted');
    expect(stopReason(true, 2_000, 1_000)).toBe('aborted');
  });

  it('stops at the stop time and after it, not before', () => {
    expect(stopReason(false, 999, 1_000)).toBeNull();
    expect(stopReason(false, 1_000, 1_000)).toBe('deadline');
    expect(stopReason(false, 1_001, 1_000)).toBe('deadline');
  });

  it('never stops of itself without a stop time', () => {
    expect(stopReason(false, Number.MAX_SAFE_INTEGER, undefined)).toBeNull();
  });
});

describe('Function: holderIsDue', () => {
  it('is not due before its hand-over window, for a newcomer of its generation', () => {
    expect(holderIsDue(lease({ handoverFrom: 10_000 }), 9_999, 'g1')).toBe(false);
  });

  it('is due from the start of its window', () => {
    expect(holderIsDue(lease({ handoverFrom: 10_000 }), 10_000, 'g1')).toBe(true);
    expect(holderIsDue(lease({ handoverFrom: 10_000 }), 50_000, 'g1')).toBe(true);
  });

  it('is due at once for a newcomer of another generation (a deploy), null included', () => {
    expect(holderIsDue(lease({ handoverFrom: 10_000 }), 0, 'g2')).toBe(true);
    expect(holderIsDue(lease({ handoverFrom: 10_000 }), 0, null)).toBe(true);
    expect(holderIsDue(lease({ handoverFrom: 10_000, generation: null }), 0, 'g1')).toBe(true);
    expect(holderIsDue(lease({ handoverFrom: 10_000, generation: null }), 0, null)).toBe(false);
  });

  it('is always due with a window that opened at 0 (a lease from before the field)', () => {
    expect(holderIsDue(lease({ handoverFrom: 0 }), 0, 'g1')).toBe(true);
  });
});

describe('Function: handoverFrom', () => {
  it('opens the window the given time before the stop time', () => {
    expect(handoverFrom(900_000, 120_000)).toBe(780_000);
  });

  it('is 0 (due at once) without a stop time or without a window', () => {
    expect(handoverFrom(undefined, 120_000)).toBe(0);
    expect(handoverFrom(900_000, undefined)).toBe(0);
    expect(handoverFrom(undefined, undefined)).toBe(0);
  });
});

describe('Function: handoverPollMs', () => {
  it('polls 20 times a heartbeat, at most every MAX_HANDOVER_POLL_MS, at least every millisecond', () => {
    expect(handoverPollMs(5_000)).toBe(MAX_HANDOVER_POLL_MS);
    expect(handoverPollMs(4_000)).toBe(200);
    expect(handoverPollMs(100)).toBe(5);
    expect(handoverPollMs(20)).toBe(1);
    expect(handoverPollMs(1)).toBe(1);
  });
});

describe('Function: leaseWaitEndsAt', () => {
  it('waits the given time', () => {
    expect(leaseWaitEndsAt(1_000, 2_000, timings)).toBe(3_000);
    expect(leaseWaitEndsAt(1_000, 0, timings)).toBe(1_000);
  });

  it('waits a whole lease and a heartbeat by default (a dead holder’s lease expires in that)', () => {
    expect(leaseWaitEndsAt(1_000, undefined, timings)).toBe(1_000 + 180_000 + 5_000);
  });
});

describe('Function: acquireStep', () => {
  it('acquires when nobody holds the lease: none yet, released, or expired', () => {
    expect(acquireStep(null, 0, 'g1', false)).toEqual({ step: 'acquire' });
    expect(acquireStep(lease({ holder: null }), 0, 'g1', false)).toEqual({ step: 'acquire' });
    expect(acquireStep(lease({ leaseUntil: 999 }), 1_000, 'g1', false)).toEqual({ step: 'acquire' });
    // Even after asking: the holder released it (or died) meanwhile.
    expect(acquireStep(lease({ holder: null }), 0, 'g1', true)).toEqual({ step: 'acquire' });
  });

  it('treats a lease that expires exactly now as still held', () => {
    expect(acquireStep(lease({ leaseUntil: 1_000, handoverFrom: 5_000 }), 1_000, 'g1', false).step).toBe(
      'leave-be',
    );
  });

  it('leaves a running holder of its generation be before its window', () => {
    const held = lease({ handoverFrom: 10_000 });
    expect(acquireStep(held, 0, 'g1', false)).toEqual({ step: 'leave-be', holder: held });
  });

  it('asks a holder in its window to hand over, and one of another generation at once', () => {
    const held = lease({ handoverFrom: 10_000 });
    expect(acquireStep(held, 10_000, 'g1', false)).toEqual({
      step: 'ask-handover',
      holder: held,
      newGeneration: false,
    });
    expect(acquireStep(held, 0, 'g2', false)).toEqual({
      step: 'ask-handover',
      holder: held,
      newGeneration: true,
    });
  });

  it('asks once: then waits for the release, whatever the holder', () => {
    expect(acquireStep(lease({ handoverFrom: 10_000 }), 10_000, 'g1', true)).toEqual({ step: 'wait' });
    expect(acquireStep(lease({ handoverFrom: 10_000 }), 0, 'g2', true)).toEqual({ step: 'wait' });
    expect(acquireStep(lease({ handoverFrom: 10_000 }), 0, 'g1', true)).toEqual({ step: 'wait' });
  });
});

describe('Function: leaseIsSafe', () => {
  it('is unsafe without a lease', () => {
    expect(leaseIsSafe(null, 0)).toBe(false);
  });

  it('is safe until the margin before its expiry, and unsafe from then on', () => {
    const held = lease({ leaseUntil: 10_000 });
    expect(leaseIsSafe(held, 10_000 - LEASE_SAFETY_MARGIN_MS - 1)).toBe(true);
    expect(leaseIsSafe(held, 10_000 - LEASE_SAFETY_MARGIN_MS)).toBe(false);
    expect(leaseIsSafe(held, 10_000)).toBe(false);
  });
});

describe('Function: renewalDue', () => {
  it('is due without a lease (the renewal then finds it lost)', () => {
    expect(renewalDue(null, 0, timings)).toBe(true);
  });

  it('is due a third of the time-to-live after the last renewal, not a millisecond before', () => {
    const held = lease({}, 1_000);
    expect(renewalDue(held, 1_000, timings)).toBe(false);
    expect(renewalDue(held, 1_000 + RENEW_PERIOD_MS - 1, timings)).toBe(false);
    expect(renewalDue(held, 1_000 + RENEW_PERIOD_MS, timings)).toBe(true);
  });

  it('is due at once when the lease is close to expiring, whatever its last renewal', () => {
    const short = lease({ heartbeatAt: 0, leaseUntil: 1_000 });
    expect(renewalDue(short, 1_000 - LEASE_SAFETY_MARGIN_MS - 1, timings)).toBe(false);
    expect(renewalDue(short, 1_000 - LEASE_SAFETY_MARGIN_MS, timings)).toBe(true);
  });

  it('on a virtual clock, renews once a minute: ten renewals in ten minutes of ticks', () => {
    let held = lease({}, 0);
    const renewedAt: number[] = [];
    const safeWhenRenewed: boolean[] = [];
    for (let now = 0; now <= 600_000; now += 1_000) {
      if (!renewalDue(held, now, timings)) continue;
      renewedAt.push(now);
      safeWhenRenewed.push(leaseIsSafe(held, now));
      held = lease({}, now);
    }
    expect(renewedAt).toEqual(Array.from({ length: 10 }, (_, i) => (i + 1) * RENEW_PERIOD_MS));
    // Renewed by its period, never because it was about to expire: two renewals may fail before it does.
    expect(safeWhenRenewed.every((safe) => safe)).toBe(true);
  });
});

describe('Function: leaseHeartbeat', () => {
  it('renews when the renewal is due, inside the window or not', () => {
    const held = lease({}, 0);
    expect(leaseHeartbeat(held, RENEW_PERIOD_MS, timings, 1_000_000)).toBe('renew');
    expect(leaseHeartbeat(held, RENEW_PERIOD_MS, timings, 0)).toBe('renew');
    expect(leaseHeartbeat(null, 0, timings, 1_000_000)).toBe('renew');
  });

  it('leaves the lease alone before the hand-over window when no renewal is due', () => {
    expect(leaseHeartbeat(lease({}, 0), 5_000, timings, 10_000)).toBe('leave');
  });

  it('looks at the lease (one read) from the start of the window', () => {
    expect(leaseHeartbeat(lease({}, 0), 10_000, timings, 10_000)).toBe('look');
    expect(leaseHeartbeat(lease({}, 0), 5_000, timings, 0)).toBe('look');
  });

  it('on a virtual clock: one renewal a minute, one look per heartbeat in the window, nothing else', () => {
    const windowFrom = 300_000;
    let held = lease({}, 0);
    const actions: Record<string, number> = { renew: 0, look: 0, leave: 0 };
    for (let now = timings.heartbeatPeriodMs; now < 420_000; now += timings.heartbeatPeriodMs) {
      const action = leaseHeartbeat(held, now, timings, windowFrom);
      actions[action] = (actions[action] ?? 0) + 1;
      if (action === 'renew') held = lease({}, now);
    }
    // 83 heartbeats in 7 minutes: renewals at every minute; the 24 others of the last two minutes look.
    expect(actions).toEqual({ renew: 6, look: 22, leave: 55 });
  });
});

describe('Function: leaseReadVerdict', () => {
  it('is lost when the lease is gone, released, or another invocation’s or token’s', () => {
    expect(leaseReadVerdict(null, 'inv-1', 7)).toBe('lost');
    expect(leaseReadVerdict(lease({ holder: null }), 'inv-1', 7)).toBe('lost');
    expect(leaseReadVerdict(lease({ holder: 'inv-2' }), 'inv-1', 7)).toBe('lost');
    expect(leaseReadVerdict(lease({ token: 8 }), 'inv-1', 7)).toBe('lost');
  });

  it('is a hand-over when a newcomer asked, else ok', () => {
    expect(leaseReadVerdict(lease({ handoverRequestedBy: 'inv-2' }), 'inv-1', 7)).toBe('handover');
    expect(leaseReadVerdict(lease(), 'inv-1', 7)).toBe('ok');
  });
});

describe('Function: handoverVerdict', () => {
  it('hands over only when asked', () => {
    expect(handoverVerdict(lease({ handoverRequestedBy: 'inv-2' }))).toBe('handover');
    expect(handoverVerdict(lease({ handoverRequestedBy: null }))).toBe('ok');
  });
});

describe('Function: handedOverToken', () => {
  it('reads the state of a previous holder that released the lease, under its token', () => {
    expect(handedOverToken(lease({ holder: null, token: 12 }))).toBe(12);
  });

  it('reads nothing without a previous lease, or from one that was not released (lost or expired)', () => {
    expect(handedOverToken(null)).toBeNull();
    expect(handedOverToken(lease({ holder: 'inv-1' }))).toBeNull();
  });
});

describe('Function: handoverGap', () => {
  const trigger = SENTINEL_DEFAULTS.tiltTriggerMs;
  const skew = SENTINEL_DEFAULTS.handoverSkewToleranceMs;

  it('resumes from a state saved up to tilt-trigger ago, and says the gap', () => {
    expect(handoverGap(10_000, 10_000, trigger)).toEqual({ recent: true, gapMs: 0 });
    expect(handoverGap(10_000, 10_000 + trigger, trigger)).toEqual({ recent: true, gapMs: trigger });
  });

  it('starts fresh after a longer gap', () => {
    expect(handoverGap(10_000, 10_001 + trigger, trigger)).toEqual({ recent: false, gapMs: trigger + 1 });
  });

  it('takes a state from a little in the future (clock skew), not from further', () => {
    expect(handoverGap(10_000, 10_000 - skew, trigger)).toEqual({ recent: true, gapMs: -skew });
    expect(handoverGap(10_000, 10_000 - skew - 1, trigger)).toEqual({ recent: false, gapMs: -skew - 1 });
  });
});
