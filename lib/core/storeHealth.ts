/**
 * The store's health as one sentinel's loop sees it. Any store call that fails marks the store down;
 * the next call that answers marks it up again. While it is down the loop behaves like a sentinel in
 * TILT towards the store only: it goes on probing and judging (every master's view says the store is
 * unavailable, so the core neither counts votes nor claims), writes nothing (writesAllowed), and no
 * tick waits on the store: one background lease renewal per heartbeat period finds out when it is
 * back (outageCheckStep). The runner carries these out and logs each transition once.
 */
import { leaseIsSafe } from './leaseTiming.js';
import type { LoopLease } from './types.js';

export interface StoreHealth {
  /** When the current outage began (the first failed call), or null while the store answers. */
  readonly downSince: number | null;
  /** The last failure's text: what the masters' views say while the store is down. */
  readonly reason: string;
}

/** Before any failure. */
export const STORE_UP: StoreHealth = { downSince: null, reason: 'store unavailable' };

/** A store call failed at `now`: the store is down from now (`wentDown`), or still down since earlier. */
export function storeFailed(
  health: StoreHealth,
  now: number,
  reason: string,
): { readonly health: StoreHealth; readonly wentDown: boolean } {
  const wentDown = health.downSince === null;
  return { health: { downSince: wentDown ? now : health.downSince, reason }, wentDown };
}

/** A store call answered at `now`: the store is up; `outageMs` is how long it was down (null: it was up). */
export function storeAnswered(
  health: StoreHealth,
  now: number,
): { readonly health: StoreHealth; readonly outageMs: number | null } {
  if (health.downSince === null) return { health, outageMs: null };
  return { health: { ...health, downSince: null }, outageMs: now - health.downSince };
}

/** Whether the holder may write (a vote, a claim): only under a safe lease, and never while the store is down. */
export function writesAllowed(health: StoreHealth, lease: LoopLease | null, now: number): boolean {
  return leaseIsSafe(lease, now) && health.downSince === null;
}

/** The background check of the store during an outage: a lease renewal that no tick waits for. */
export interface OutageCheck {
  readonly inFlight: boolean;
  /** The next check starts no earlier than this. */
  readonly nextAt: number;
  /** The last renewal's news that ends the loop (kept until the loop reads it), else 'ok'. */
  readonly verdict: 'ok' | 'lost' | 'handover';
}

export const NO_OUTAGE_CHECK: OutageCheck = { inFlight: false, nextAt: 0, verdict: 'ok' };

/** At a tick during an outage: start a check (`start`) if none is in flight and one is due (one per heartbeat). */
export function outageCheckStep(
  check: OutageCheck,
  now: number,
  heartbeatPeriodMs: number,
): { readonly check: OutageCheck; readonly start: boolean } {
  if (check.inFlight || now < check.nextAt) return { check, start: false };
  return { check: { ...check, inFlight: true, nextAt: now + heartbeatPeriodMs }, start: true };
}

/** A check's renewal ended: a lost lease or a hand-over request is kept as the verdict; anything else is not news. */
export function outageCheckDone(
  check: OutageCheck,
  result: 'ok' | 'lost' | 'handover' | 'unavailable',
): OutageCheck {
  const verdict = result === 'lost' || result === 'handover' ? result : check.verdict;
  return { ...check, inFlight: false, verdict };
}

/**
 * Unexpected store errors (a bug, an unexpected reply: not an outage) are logged by kind, and each
 * kind is closed with one line once it has not recurred for `quietMs` AND the store was read without
 * error after it (not merely left alone while it was down). `lastSeenAt` is each kind's last
 * occurrence; the result lists the kinds to close now, in its order, with how long each has been quiet.
 */
export function quietStoreErrors(
  lastSeenAt: ReadonlyMap<string, number>,
  lastReadAt: number,
  now: number,
  quietMs: number,
): Array<{ readonly kind: string; readonly quietForMs: number }> {
  const quiet: Array<{ kind: string; quietForMs: number }> = [];
  for (const [kind, at] of lastSeenAt) {
    if (now - at < quietMs || lastReadAt <= at) continue;
    quiet.push({ kind, quietForMs: now - at });
  }
  return quiet;
}
