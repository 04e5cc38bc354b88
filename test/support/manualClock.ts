import type { Clock } from '../../lib/runtime/clock.js';

/** A clock the test moves by hand; `sleep` advances it instead of waiting. */
export function manualClock(start = 1_000_000): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
    advance: (ms) => {
      now += ms;
    },
  };
}
