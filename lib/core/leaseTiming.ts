/**
 * The timing of a sentinel's loop lease (lib/ports.ts: one holder per sentinel, fenced by its token):
 * when a newcomer takes it, leaves the holder be or asks it to hand over; when the holder renews it,
 * looks at it, and may still write under it; when it becomes due to hand over; and whether a hand-over
 * state is recent enough to resume from. The runner (lib/runtime/sentinel/) reads the clock and the
 * store and carries these out.
 */
import { leaseRenewPeriodMs, SENTINEL_DEFAULTS } from './constants.js';
import type { LoopLease } from './types.js';

/**
 * How long before its expiry a lease counts as no longer safe to write under: room for a write sent just
 * before that to land while the lease still holds, on this clock and the store's.
 */
export const LEASE_SAFETY_MARGIN_MS = 500;

/** The longest poll period while waiting for a running invocation to hand over (see handoverPollMs). */
export const MAX_HANDOVER_POLL_MS = 250;

/** The lease timings of the global settings. */
export interface LeaseTimings {
  readonly loopLeaseMs: number;
  readonly heartbeatPeriodMs: number;
}

/** Why a loop stops of itself: its signal was aborted, or its stop time came. */
export type StopReason = 'aborted' | 'deadline';

/** Whether the loop stops now: an abort first, then the stop time (none: it runs until aborted). */
export function stopReason(aborted: boolean, now: number, stopAt: number | undefined): StopReason | null {
  if (aborted) return 'aborted';
  if (stopAt !== undefined && now >= stopAt) return 'deadline';
  return null;
}

/**
 * Whether a newcomer should ask the running holder of `lease` to hand over: once the holder is in its
 * hand-over window, or when it runs another generation (code or configuration) than the newcomer.
 */
export function holderIsDue(lease: LoopLease, now: number, generation: string | null): boolean {
  return now >= lease.handoverFrom || lease.generation !== generation;
}

/**
 * When an invocation becomes due to hand over: the hand-over window before its stop time, in which the
 * next scheduled invocations arrive. Without a stop time or a window, at once (every newcomer takes
 * over, as in tests and the local runner).
 */
export function handoverFrom(stopAt: number | undefined, handoverWindowMs: number | undefined): number {
  if (stopAt === undefined || handoverWindowMs === undefined) return 0;
  return stopAt - handoverWindowMs;
}

/**
 * The poll period while waiting for a hand-over: a holder looks at its lease once a heartbeat, so this
 * many reads a heartbeat (20, at most one per MAX_HANDOVER_POLL_MS, at least one per millisecond) bound
 * both the wait after its release (the gap in probing) and the reads it costs.
 */
export function handoverPollMs(heartbeatPeriodMs: number): number {
  return Math.max(1, Math.min(MAX_HANDOVER_POLL_MS, heartbeatPeriodMs / 20));
}

/**
 * Until when a newcomer waits for the lease: `leaseWaitMs` if given, else a whole lease time-to-live and
 * a heartbeat (a holder that died without releasing it is replaced once it expires).
 */
export function leaseWaitEndsAt(now: number, leaseWaitMs: number | undefined, timings: LeaseTimings): number {
  return now + (leaseWaitMs ?? timings.loopLeaseMs + timings.heartbeatPeriodMs);
}

/**
 * A newcomer's next step, given the lease as just read:
 * - `acquire`: nobody holds it (none yet, released, or expired by `now`): take it;
 * - `leave-be`: a running holder, not due (holderIsDue), and not yet asked: this invocation returns;
 * - `ask-handover`: a running holder that is due: ask it once (`newGeneration`: because of a deploy);
 * - `wait`: a running holder already asked: look again after a poll period.
 */
export type AcquireStep =
  | { readonly step: 'acquire' }
  | { readonly step: 'leave-be'; readonly holder: LoopLease }
  | { readonly step: 'ask-handover'; readonly holder: LoopLease; readonly newGeneration: boolean }
  | { readonly step: 'wait' };

export function acquireStep(
  current: LoopLease | null,
  now: number,
  generation: string | null,
  asked: boolean,
): AcquireStep {
  const held = current !== null && current.holder !== null && current.leaseUntil >= now;
  if (!held) return { step: 'acquire' };
  if (asked) return { step: 'wait' };
  if (!holderIsDue(current, now, generation)) return { step: 'leave-be', holder: current };
  return { step: 'ask-handover', holder: current, newGeneration: current.generation !== generation };
}

/** True while the holder may write under its lease: it has not expired by this clock, less the margin. */
export function leaseIsSafe(lease: LoopLease | null, now: number): boolean {
  return lease !== null && now < lease.leaseUntil - LEASE_SAFETY_MARGIN_MS;
}

/**
 * Whether the holder renews its lease now: LEASE_RENEWALS_PER_TTL times per time-to-live (a third of it
 * after the last renewal: one write a minute with the defaults), or at once when it is close to
 * expiring (no longer leaseIsSafe). The lease's heartbeatAt is the holder's own clock at its last
 * renewal (or acquisition); without a lease, always (the renewal then finds it lost).
 */
export function renewalDue(lease: LoopLease | null, now: number, timings: LeaseTimings): boolean {
  const lastRenewal = lease?.heartbeatAt ?? Number.NEGATIVE_INFINITY;
  return now >= lastRenewal + leaseRenewPeriodMs(timings) || !leaseIsSafe(lease, now);
}

/**
 * What the holder does with its lease at a heartbeat:
 * - `renew`: the renewal is due (renewalDue); a hand-over request shows in the renewed lease;
 * - `look`: inside the hand-over window (from `handoverFrom`), where the next scheduled invocation is
 *   expected to ask: one read of the lease;
 * - `leave`: otherwise. A request from another generation (a deploy) outside the window is seen at the
 *   next renewal.
 */
export type LeaseHeartbeat = 'renew' | 'look' | 'leave';

export function leaseHeartbeat(
  lease: LoopLease | null,
  now: number,
  timings: LeaseTimings,
  handoverFromAt: number,
): LeaseHeartbeat {
  if (renewalDue(lease, now, timings)) return 'renew';
  if (now < handoverFromAt) return 'leave';
  return 'look';
}

/** What the holder learns from its lease, renewed or read: keep going, hand over, or stop (lost). */
export type LeaseVerdict = 'ok' | 'handover' | 'lost';

/**
 * The holder's verdict on its lease as read (`current`): lost unless it still names this invocation and
 * token; then a hand-over when a newcomer asked for one.
 */
export function leaseReadVerdict(
  current: LoopLease | null,
  invocationId: string,
  token: number,
): LeaseVerdict {
  if (current === null || current.holder !== invocationId || current.token !== token) return 'lost';
  return handoverVerdict(current);
}

/** The verdict on a lease this invocation holds (renewed or read): a hand-over when a newcomer asked. */
export function handoverVerdict(lease: LoopLease): 'ok' | 'handover' {
  return lease.handoverRequestedBy ? 'handover' : 'ok';
}

/**
 * The lease token whose hand-over state the new holder reads, if any: only a previous holder that
 * released the lease (holder null) saved one. A holder that lost it, or whose lease expired, hands
 * nothing over: it may still be running, and its successor must start fresh and write every vote again
 * under the new token.
 */
export function handedOverToken(previous: LoopLease | null): number | null {
  if (previous === null || previous.holder !== null) return null;
  return previous.token;
}

/**
 * Whether a hand-over state saved at `savedAt` is resumed from at `now`, and the gap (for the log): only
 * if the previous holder released the lease moments ago (no later than tilt-trigger), so the
 * observation window is continuous; after a gap everything starts fresh, like a new sentinel. A state
 * that looks a little in the future is clock skew between two containers (up to
 * handoverSkewToleranceMs), not time travel.
 */
export function handoverGap(
  savedAt: number,
  now: number,
  tiltTriggerMs: number,
): { readonly recent: boolean; readonly gapMs: number } {
  const gapMs = now - savedAt;
  const tooEarly = gapMs < -SENTINEL_DEFAULTS.handoverSkewToleranceMs;
  return { recent: !(tooEarly || gapMs > tiltTriggerMs), gapMs };
}

/** What a look at the lease (a renewal or a read) tells the holder. */
export type LeaseCheck = 'ok' | 'lost' | 'handover' | 'unavailable';
