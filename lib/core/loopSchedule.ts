/**
 * When a sentinel's loop reads what from the store, and when it wakes. A healthy quiet loop reads one
 * item per heartbeat (the change counter, lib/ports.ts) and renews its lease a few times per
 * time-to-live (lib/core/leaseTiming.ts); it reads a master's record and votes only while they can
 * matter (the master looks down, or the core asks for them), and every record again only when the
 * counter moved or the full-read backstop is due. The runner (lib/runtime/sentinel/) carries these out.
 */
import { SENTINEL_DEFAULTS } from './constants.js';
import type { MasterDecision } from './decide.js';
import type { InstanceObservation } from './observation.js';
import { nextSdownDeadline, type SdownTimings, sdownCause } from './sdown.js';

/** A master's next read at this time: at its next tick. */
export const READ_AT_ONCE = 0;
/** A master's record is kept current by the change counter: read only when a decision asks (nextReadAfterDecision). */
export const READ_WHEN_ASKED = Number.POSITIVE_INFINITY;

/**
 * What the loop does about the store at the top of a tick:
 * - `outage-check`: the store is down: no tick waits on it; the background check (storeHealth.ts
 *   outageCheckStep) finds out when it is back;
 * - `heartbeat`: the lease needs a look (leaseTiming.ts leaseHeartbeat), and, when `readCounter`, the
 *   heartbeat is due: the change counter is read, and the next heartbeat is at `nextHeartbeatAt`;
 * - `none`: nothing is due.
 */
export type LoopStoreStep =
  | { readonly kind: 'outage-check' }
  | { readonly kind: 'heartbeat'; readonly readCounter: boolean; readonly nextHeartbeatAt: number }
  | { readonly kind: 'none' };

export function loopStoreStep(input: {
  readonly now: number;
  readonly storeDown: boolean;
  /** When the next heartbeat (a read of the change counter) is due. */
  readonly nextHeartbeatAt: number;
  /** Whether the lease's renewal is due (leaseTiming.ts renewalDue): it does not wait for the heartbeat. */
  readonly renewalDue: boolean;
  readonly heartbeatPeriodMs: number;
}): LoopStoreStep {
  const { now, nextHeartbeatAt } = input;
  if (input.storeDown) return { kind: 'outage-check' };
  const readCounter = now >= nextHeartbeatAt;
  if (!readCounter && !input.renewalDue) return { kind: 'none' };
  return {
    kind: 'heartbeat',
    readCounter,
    nextHeartbeatAt: readCounter ? now + input.heartbeatPeriodMs : nextHeartbeatAt,
  };
}

/**
 * Whether the records in hand are still current after a read of the change counter sent at `sentAt`:
 * the counter is a count, equals the one they were current at, and the full read of every record is not
 * due (it runs every `fullReadPeriodMs` from `fullReadAt`, the backstop against a lost increment).
 * Otherwise every record is read again. With nothing in hand, `knownCounter` is null.
 */
export function recordsStillCurrent(input: {
  readonly counter: number | null;
  readonly knownCounter: number | null;
  readonly sentAt: number;
  readonly fullReadAt: number;
  readonly fullReadPeriodMs: number;
}): boolean {
  return (
    input.counter !== null &&
    input.counter === input.knownCounter &&
    input.sentAt - input.fullReadAt < input.fullReadPeriodMs
  );
}

/**
 * Whether a master looks down to this sentinel: SDOWN already judged, or the observation says it would
 * be now. Only then do the peers' votes matter (ODOWN and authorisation count them only then).
 */
export function looksDown(
  sdownSince: number | null,
  master: InstanceObservation,
  timings: SdownTimings,
  now: number,
): boolean {
  return sdownSince !== null || sdownCause(master, timings, now) !== null;
}

/**
 * When a master's record and votes are read ahead of its SDOWN deadline (sdown.ts nextSdownDeadline):
 * sdownReadAheadMs before it, so that the tick that judges SDOWN finds votes fresh enough to decide on
 * (masterRead) and writes its down-vote at once, instead of reading first and writing a round trip
 * later. Null when no deadline is running (the master answered its last PING). Only a master that has
 * gone without a reply for down-after less sdownReadAheadMs is read ahead: one read, then the usual
 * schedule.
 */
export function readAheadAt(master: InstanceObservation, downAfterMs: number): number | null {
  const deadline = nextSdownDeadline(master, downAfterMs);
  return deadline === null ? null : deadline - SENTINEL_DEFAULTS.sdownReadAheadMs;
}

/**
 * What a master's tick does about its record and votes before deciding:
 * - `store-down`: the store is down: the view says so, nothing is read;
 * - `read`: its record and votes are read together, because its read is due (`nextReadAt`), or because
 *   it looks down or is about to (its `readAheadAt` has come) and its votes are older than the
 *   vote-read period: urgent, read before deciding, so the second sentinel to see SDOWN finds the first
 *   one's vote in the same tick;
 * - `keep`: the view in hand is used (its record kept current by the change counter, its votes as last
 *   read: nothing is decided from them while the master looks up).
 */
export type MasterRead = 'store-down' | 'read' | 'keep';

export function masterRead(input: {
  readonly now: number;
  readonly storeDown: boolean;
  readonly nextReadAt: number;
  /** When its record and votes were last read together. */
  readonly votesReadAt: number;
  /** Whether the master looks down (looksDown). */
  readonly looksDown: boolean;
  /** Its read-ahead time (readAheadAt): from then on it may be judged SDOWN within sdownReadAheadMs. */
  readonly readAheadAt: number | null;
}): MasterRead {
  if (input.storeDown) return 'store-down';
  const readAhead = input.readAheadAt !== null && input.now >= input.readAheadAt;
  const urgent =
    (input.looksDown || readAhead) && input.now - input.votesReadAt >= SENTINEL_DEFAULTS.voteReadPeriodMs;
  return input.now >= input.nextReadAt || urgent ? 'read' : 'keep';
}

/**
 * A master's next read after a read of its record and votes at a tick at `now`: after a read that
 * worked, only when a decision asks; after a failed one, a heartbeat later (a store outage must not
 * turn into a storm of requests).
 */
export function nextReadAfterRead(ok: boolean, now: number, heartbeatPeriodMs: number): number {
  return ok ? READ_WHEN_ASKED : now + heartbeatPeriodMs;
}

/**
 * Whether the replicas read with a master's votes at `readAt` are recent enough to hand to the failover a
 * claim at `now` starts: read within the slow vote-read period, as they are while the master looks down.
 * Replica records change only when INFO, asked every 10 s at most, shows a new one.
 */
export function replicasReadRecently(readAt: number, now: number): boolean {
  return now - readAt <= SENTINEL_DEFAULTS.slowVoteReadPeriodMs;
}

/**
 * A master's next read after this sentinel wrote a vote: at once after its first down-vote of an SDOWN
 * (the one before was up, or none), else unchanged. Every sentinel judges SDOWN within a few ms of the
 * others, so their votes are being written at the same moment, and ODOWN needs them: read at the next
 * tick, not a vote-read period after the read that came before the vote. One read more per SDOWN.
 */
export function nextReadAfterVote(input: {
  readonly nextReadAt: number;
  readonly down: boolean;
  /** Whether the vote written before this one said down. */
  readonly wasDown: boolean;
}): number {
  return input.down && !input.wasDown ? READ_AT_ONCE : input.nextReadAt;
}

/**
 * A master's next read after its tick's decision: unchanged unless the decision wants fast vote reads
 * (the master looks down, or a failover is led here); then within the vote-read period during the
 * first voteReadFastWindowMs of an SDOWN (peers are about to vote), within the slow period after that
 * (and while not SDOWN itself, e.g. leading a failover).
 */
export function nextReadAfterDecision(input: {
  readonly now: number;
  readonly nextReadAt: number;
  /** The master's SDOWN start after the tick (its memory once the decision's actions ran). */
  readonly sdownSince: number | null;
  readonly wantsFastVoteReads: boolean;
}): number {
  const { now, nextReadAt, sdownSince } = input;
  if (!input.wantsFastVoteReads) return nextReadAt;
  const sdownFor = sdownSince === null ? null : now - sdownSince;
  const period =
    sdownFor !== null && sdownFor < SENTINEL_DEFAULTS.voteReadFastWindowMs
      ? SENTINEL_DEFAULTS.voteReadPeriodMs
      : SENTINEL_DEFAULTS.slowVoteReadPeriodMs;
  return Math.min(nextReadAt, now + period);
}

/**
 * A new master's first read: none while the record the store vouched for is in hand (kept current by
 * the change counter), else at its first tick.
 */
export function firstReadAt(recordInHand: boolean): number {
  return recordInHand ? READ_WHEN_ASKED : READ_AT_ONCE;
}

/**
 * When the loop wakes after a tick at `now`, before the masters' own wishes (wakeForMaster): at the
 * shortest probe period, at most maxProbePeriodMs (Sentinel's timer runs at least once a second).
 */
export function loopWakeAt(now: number, probePeriodsMs: readonly number[]): number {
  let period: number = SENTINEL_DEFAULTS.maxProbePeriodMs;
  for (const probePeriodMs of probePeriodsMs) period = Math.min(period, probePeriodMs);
  return now + period;
}

/**
 * The wake time `wakeAt` with one master's tick taken into account: its decision's own wake time, its
 * read-ahead time while still to come (readAheadAt), and its next read only when that read is urgent
 * (the decision wants fast vote reads). Routine reads wait for the next regular tick; otherwise many
 * masters, each read on its own schedule, would wake the loop dozens of times a second.
 */
export function wakeForMaster(
  wakeAt: number,
  decision: Pick<MasterDecision, 'wakeAt' | 'wantsFastVoteReads'> | null,
  nextReadAt: number,
  readAhead: { readonly at: number | null; readonly now: number } = { at: null, now: 0 },
): number {
  let wake = wakeAt;
  if (decision?.wakeAt != null) wake = Math.min(wake, decision.wakeAt);
  if (decision?.wantsFastVoteReads) wake = Math.min(wake, nextReadAt);
  if (readAhead.at !== null && readAhead.at > readAhead.now) wake = Math.min(wake, readAhead.at);
  return wake;
}
