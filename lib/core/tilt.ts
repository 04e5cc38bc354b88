/**
 * TILT: a sentinel whose timer jumped (process paused, clock stepped, invocation frozen) must not act on
 * what it saw before the jump. Sentinel's rule (§1.11): a delta between two timer calls below 0 or above
 * tilt-trigger enters TILT for tilt-period; each new jump restarts the period.
 */
export interface TiltState {
  readonly inTilt: boolean;
  readonly since: number | null;
  readonly lastTimerAt: number | null;
}

export interface TiltTimings {
  readonly tiltTriggerMs: number;
  readonly tiltPeriodMs: number;
}

export type TiltTransition = 'entered' | 'exited' | null;

export const INITIAL_TILT: TiltState = { inTilt: false, since: null, lastTimerAt: null };

export function observeTimer(
  state: TiltState,
  now: number,
  timings: TiltTimings,
): { state: TiltState; transition: TiltTransition } {
  const delta = state.lastTimerAt === null ? 0 : now - state.lastTimerAt;
  if (delta < 0 || delta > timings.tiltTriggerMs) {
    return {
      state: { inTilt: true, since: now, lastTimerAt: now },
      transition: state.inTilt ? null : 'entered',
    };
  }
  if (state.inTilt && state.since !== null && now - state.since >= timings.tiltPeriodMs) {
    return { state: { inTilt: false, since: null, lastTimerAt: now }, transition: 'exited' };
  }
  return { state: { ...state, lastTimerAt: now }, transition: null };
}
