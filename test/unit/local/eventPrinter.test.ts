import { describe, expect, it } from 'vitest';
import type { SentinelEvent } from '../../../lib/core/types.js';
import { createEventPrinter, formatEventLine, shouldColour } from '../../../lib/local/eventPrinter.js';

const at = Date.parse('2026-11-25T08:23:08.450Z');
const ev = (type: string, payload: string, level: SentinelEvent['level'] = 'warning'): SentinelEvent => ({
  type,
  level,
  payload,
  master: 'mymaster',
  at,
});
// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI escapes
const stripAnsi = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '');

describe('event printer', () => {
  it('prints time, sentinel and the Sentinel line, one line per event', () => {
    expect(formatEventLine(ev('+odown', 'master mymaster 127.0.0.1 28352 #quorum 3/2'), 'sentinel-a')).toBe(
      '08:23:08.450 [sentinel-a] +odown master mymaster 127.0.0.1 28352 #quorum 3/2',
    );
    expect(formatEventLine(ev('+tilt', 'line one\nline two'), 'sentinel-b')).toBe(
      '08:23:08.450 [sentinel-b] +tilt line one line two',
    );
  });

  it('colours only when asked; the text is the same either way', () => {
    const event = ev('+switch-master', 'mymaster 127.0.0.1 1 127.0.0.1 2');
    const plain = formatEventLine(event, 'sentinel-a', { color: false });
    const coloured = formatEventLine(event, 'sentinel-a', { color: true });
    expect(plain).not.toContain('\u001b[');
    expect(coloured).toContain('\u001b[32m'); // green: service restored
    expect(stripAnsi(coloured)).toBe(plain);
    expect(formatEventLine(ev('-failover-abort-no-good-slave', 'x'), 's', { color: true })).toContain(
      '\u001b[31m',
    );
    expect(formatEventLine(ev('+role-change', 'x', 'verbose'), 's', { color: true })).toContain(
      '\u001b[2m+role',
    );
  });

  it('colour follows the terminal and NO_COLOR', () => {
    expect(shouldColour({ isTTY: true }, {})).toBe(true);
    expect(shouldColour({ isTTY: false }, {})).toBe(false);
    expect(shouldColour({}, {})).toBe(false);
    expect(shouldColour({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(shouldColour({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
  });

  it('never prints a secret', () => {
    const lines: string[] = [];
    const print = createEventPrinter((l) => lines.push(l), { color: false, secrets: ['hunter2'] });
    print(ev('+set', 'master mymaster 127.0.0.1 6379 auth-pass hunter2'), 'sentinel-a');
    print(ev('+set', 'master mymaster 127.0.0.1 6379 auth-pass unknown-value'), 'sentinel-a');
    expect(lines).toEqual([
      '08:23:08.450 [sentinel-a] +set master mymaster 127.0.0.1 6379 auth-pass ******',
      '08:23:08.450 [sentinel-a] +set master mymaster 127.0.0.1 6379 auth-pass ******',
    ]);
  });
});
