import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SentinelEvent } from '../../../lib/core/types.js';
import { createTimeOrderedPrinter, EVENT_REORDER_WINDOW_MS } from '../../../lib/local/eventPrinter.js';

const T0 = Date.parse('2026-11-25T08:23:08.700Z');
const ev = (type: string, at: number, payload = 'master mymaster 127.0.0.1 6379'): SentinelEvent => ({
  type,
  level: 'warning',
  payload,
  master: 'mymaster',
  at,
});
/** The printed lines' time stamps and sentinels, e.g. `08:23:08.705 [sentinel-b] +odown`. */
const summary = (lines: readonly string[]) => lines.map((l) => l.split(' ').slice(0, 3).join(' '));

describe('time-ordered event printer', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('holds lines for the window and prints them in time-stamp order, not arrival order', () => {
    const lines: string[] = [];
    const printer = createTimeOrderedPrinter((l) => lines.push(l), { color: false });
    // As the runner saw it: sentinel-a's .709 arrives first, then b's .705 and c's .707.
    vi.setSystemTime(T0 + 10);
    printer.printEvent(ev('+sdown', T0 + 9), 'sentinel-a');
    vi.setSystemTime(T0 + 12);
    printer.printEvent(ev('+odown', T0 + 5), 'sentinel-b');
    printer.printEvent(ev('+new-epoch', T0 + 7, '1'), 'sentinel-c');
    expect(lines).toEqual([]);

    vi.advanceTimersByTime(EVENT_REORDER_WINDOW_MS);
    expect(summary(lines)).toEqual([
      '08:23:08.705 [sentinel-b] +odown',
      '08:23:08.707 [sentinel-c] +new-epoch',
      '08:23:08.709 [sentinel-a] +sdown',
    ]);
    expect(lines[1]).toBe('08:23:08.707 [sentinel-c] +new-epoch 1');
    printer.close();
  });

  it('prints a line once the window after its time stamp has passed, not before', () => {
    const lines: string[] = [];
    const printer = createTimeOrderedPrinter((l) => lines.push(l), { color: false, windowMs: 80 });
    printer.printEvent(ev('+sdown', T0), 'sentinel-a');
    vi.advanceTimersByTime(79);
    expect(lines).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(summary(lines)).toEqual(['08:23:08.700 [sentinel-a] +sdown']);
    printer.close();
  });

  it('keeps arrival order for lines stamped the same millisecond', () => {
    const lines: string[] = [];
    const printer = createTimeOrderedPrinter((l) => lines.push(l), { color: false });
    printer.printEvent(ev('+odown', T0), 'sentinel-c');
    printer.printEvent(ev('+new-epoch', T0, '1'), 'sentinel-c');
    printer.printEvent(ev('+try-failover', T0), 'sentinel-c');
    vi.advanceTimersByTime(EVENT_REORDER_WINDOW_MS);
    expect(summary(lines)).toEqual([
      '08:23:08.700 [sentinel-c] +odown',
      '08:23:08.700 [sentinel-c] +new-epoch',
      '08:23:08.700 [sentinel-c] +try-failover',
    ]);
    printer.close();
  });

  it('still prints an event that arrives later than the window, at once, after the ones already out', () => {
    const lines: string[] = [];
    const printer = createTimeOrderedPrinter((l) => lines.push(l), { color: false });
    printer.printEvent(ev('+switch-master', T0 + 50), 'sentinel-a');
    vi.advanceTimersByTime(50 + EVENT_REORDER_WINDOW_MS);
    expect(summary(lines)).toEqual(['08:23:08.750 [sentinel-a] +switch-master']);

    // Stamped .720, arriving 130 ms later (a stalled sentinel): not dropped, not held.
    printer.printEvent(ev('+promoted-slave', T0 + 20), 'sentinel-c');
    expect(summary(lines)).toEqual([
      '08:23:08.750 [sentinel-a] +switch-master',
      '08:23:08.720 [sentinel-c] +promoted-slave',
    ]);
    printer.close();
  });

  it('a late event goes out with the held lines stamped before it, and those after stay held', () => {
    const lines: string[] = [];
    const printer = createTimeOrderedPrinter((l) => lines.push(l), { color: false });
    vi.setSystemTime(T0 + 150);
    printer.printEvent(ev('+slave', T0 + 140), 'sentinel-b');
    printer.printEvent(ev('+sdown', T0 + 40), 'sentinel-a'); // 110 ms old: past the window
    expect(summary(lines)).toEqual(['08:23:08.740 [sentinel-a] +sdown']);
    vi.advanceTimersByTime(EVENT_REORDER_WINDOW_MS);
    expect(summary(lines)).toEqual(['08:23:08.740 [sentinel-a] +sdown', '08:23:08.840 [sentinel-b] +slave']);
    printer.close();
  });

  it('close() prints everything held, in order, at once; later lines print as they arrive', () => {
    const lines: string[] = [];
    const printer = createTimeOrderedPrinter((l) => lines.push(l), { color: false });
    printer.printEvent(ev('+failover-end', T0 + 30), 'sentinel-c');
    printer.printLine(T0 + 10, '[sentinel-a] warning: the store did not answer');
    printer.printEvent(ev('+switch-master', T0 + 20), 'sentinel-b');
    expect(lines).toEqual([]);
    printer.close();
    expect(summary(lines)).toEqual([
      '08:23:08.710 [sentinel-a] warning:',
      '08:23:08.720 [sentinel-b] +switch-master',
      '08:23:08.730 [sentinel-c] +failover-end',
    ]);
    expect(lines[0]).toBe('08:23:08.710 [sentinel-a] warning: the store did not answer');
    printer.printEvent(ev('-odown', T0 + 40), 'sentinel-a');
    expect(lines).toHaveLength(4);
    // Nothing is left scheduled to print twice.
    vi.advanceTimersByTime(10 * EVENT_REORDER_WINDOW_MS);
    expect(lines).toHaveLength(4);
  });

  it('holds a line stamped in the future no longer than the window after it arrived', () => {
    const lines: string[] = [];
    const printer = createTimeOrderedPrinter((l) => lines.push(l), { color: false });
    printer.printEvent(ev('+sdown', T0 + 5_000), 'sentinel-a');
    vi.advanceTimersByTime(EVENT_REORDER_WINDOW_MS);
    expect(lines).toHaveLength(1);
    printer.close();
  });

  it('with a window of 0, prints every line as it arrives', () => {
    const lines: string[] = [];
    const printer = createTimeOrderedPrinter((l) => lines.push(l), { color: false, windowMs: 0 });
    printer.printEvent(ev('+sdown', T0 + 9), 'sentinel-a');
    printer.printEvent(ev('+sdown', T0 + 5), 'sentinel-b');
    expect(summary(lines)).toEqual(['08:23:08.709 [sentinel-a] +sdown', '08:23:08.705 [sentinel-b] +sdown']);
  });

  it('never prints a secret', () => {
    const lines: string[] = [];
    const printer = createTimeOrderedPrinter((l) => lines.push(l), { color: false, secrets: ['hunter2'] });
    printer.printEvent(ev('+set', T0, 'master mymaster 127.0.0.1 6379 auth-pass hunter2'), 'sentinel-a');
    printer.close();
    expect(lines).toEqual(['08:23:08.700 [sentinel-a] +set master mymaster 127.0.0.1 6379 auth-pass ******']);
  });
});
