/**
 * The handler toolkit every function uses (lib/runtime/lambdaHandler.ts): the deadline signal and the
 * per-container cache of what a handler loads at its first invocation.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HANDOVER_MARGIN_MS } from '../../functions/sentinel.js';
import {
  DEADLINE_MARGIN_MS,
  deadlineSignal,
  EVENT_FLUSH_MS,
  onceUntilFailure,
} from '../../lib/runtime/lambdaHandler.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('deadlineSignal', () => {
  it('fires the deadline margin before the invocation deadline, not before', () => {
    vi.useFakeTimers();
    const deadline = deadlineSignal({ getRemainingTimeInMillis: () => 10_000 });
    vi.advanceTimersByTime(10_000 - DEADLINE_MARGIN_MS - 1);
    expect(deadline.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(deadline.signal.aborted).toBe(true);
  });

  it('fires at once when less than the margin is left, and never once cleared', () => {
    vi.useFakeTimers();
    const late = deadlineSignal({ getRemainingTimeInMillis: () => DEADLINE_MARGIN_MS - 500 });
    vi.advanceTimersByTime(0);
    expect(late.signal.aborted).toBe(true);
    const cleared = deadlineSignal({ getRemainingTimeInMillis: () => 10_000 });
    cleared.clear();
    vi.advanceTimersByTime(60_000);
    expect(cleared.signal.aborted).toBe(false);
  });
});

describe('the margins', () => {
  it('leave the events half of the deadline margin, and the sentinel a second more to hand over', () => {
    expect(EVENT_FLUSH_MS).toBe(DEADLINE_MARGIN_MS / 2);
    expect(HANDOVER_MARGIN_MS).toBe(3_000);
  });
});

describe('onceUntilFailure', () => {
  it('loads once and keeps the result for every later call', async () => {
    const load = vi.fn(async () => ({ table: 't' }));
    const get = onceUntilFailure(load);
    const [a, b] = await Promise.all([get(), get()]);
    expect(await get()).toBe(a);
    expect(b).toBe(a);
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('does not keep a failure: the next call loads again', async () => {
    let calls = 0;
    const get = onceUntilFailure(async () => {
      calls += 1;
      if (calls === 1) throw new Error('SSM unreachable');
      return calls;
    });
    await expect(get()).rejects.toThrow('SSM unreachable');
    expect(await get()).toBe(2);
    expect(await get()).toBe(2);
    expect(calls).toBe(2);
  });
});
