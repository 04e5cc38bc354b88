import { describe, expect, it } from 'vitest';
import { INITIAL_TILT, observeTimer } from '../../../lib/core/tilt.js';

const timings = { tiltTriggerMs: 2000, tiltPeriodMs: 30_000 };

describe('Function: observeTimer (TILT)', () => {
  it('stays out of TILT while the timer runs regularly', () => {
    let state = INITIAL_TILT;
    for (let t = 0; t <= 10_000; t += 100) {
      const step = observeTimer(state, t, timings);
      expect(step.transition).toBeNull();
      state = step.state;
    }
    expect(state.inTilt).toBe(false);
  });

  it('enters TILT when the timer jumps forward more than the trigger, and leaves after the period', () => {
    let step = observeTimer(observeTimer(INITIAL_TILT, 0, timings).state, 2001, timings);
    expect(step.transition).toBe('entered');
    step = observeTimer(step.state, 2101, timings);
    expect(step.state.inTilt).toBe(true);
    let state = step.state;
    for (let t = 2201; t < 32_001; t += 100) state = observeTimer(state, t, timings).state;
    expect(state.inTilt).toBe(true);
    step = observeTimer(state, 32_001, timings);
    expect(step.transition).toBe('exited');
    expect(step.state.inTilt).toBe(false);
  });

  it('enters TILT when the clock goes backwards, and a new jump restarts the period without a second event', () => {
    let step = observeTimer(observeTimer(INITIAL_TILT, 10_000, timings).state, 9_000, timings);
    expect(step.transition).toBe('entered');
    step = observeTimer(step.state, 20_000, timings);
    expect(step.transition).toBeNull();
    expect(step.state.since).toBe(20_000);
  });
});
