/**
 * Reading a numeric setting against its documented range (SETTING_LIMITS), for the file parser and for
 * SENTINEL SET alike, so that both accept exactly the same values and name the same limit.
 */
import { type LimitedSetting, SETTING_LIMITS, type SettingLimit } from './constants.js';

/** Plain decimal digits only: `1e3`, `-5`, `0x10` and `10ms` are mistakes, not numbers. */
const DIGITS = /^[0-9]+$/;

export type LimitedInteger =
  | { readonly ok: true; readonly value: number }
  /** Not a plain decimal integer, or below the minimum. */
  | { readonly ok: false; readonly problem: 'invalid' }
  /** Digits, but more than the maximum (however many digits). */
  | { readonly ok: false; readonly problem: 'too-large'; readonly maximum: string };

export function readLimitedInteger(text: string, field: LimitedSetting): LimitedInteger {
  const limit: SettingLimit = SETTING_LIMITS[field];
  if (!DIGITS.test(text)) return { ok: false, problem: 'invalid' };
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value > limit.maximum)
    return { ok: false, problem: 'too-large', maximum: describeMaximum(limit) };
  if (value < limit.minimum) return { ok: false, problem: 'invalid' };
  return { ok: true, value };
}

const SECOND_MS = 1_000;
const DURATION_UNITS: ReadonlyArray<readonly [number, string]> = [
  [86_400 * SECOND_MS, 'day'],
  [3_600 * SECOND_MS, 'hour'],
  [60 * SECOND_MS, 'minute'],
  [SECOND_MS, 'second'],
];

/** A maximum as errors and docs state it: `3600000 (1 hour)`, or `1000` for a count. */
export function describeMaximum(limit: SettingLimit): string {
  if (limit.unit === 'count') return String(limit.maximum);
  for (const [size, name] of DURATION_UNITS) {
    if (limit.maximum % size !== 0) continue;
    const count = limit.maximum / size;
    return `${limit.maximum} (${count} ${name}${count === 1 ? '' : 's'})`;
  }
  return String(limit.maximum);
}

/** The reason for a value above the maximum: `at most 3600000 (1 hour)`. */
export function tooLargeReason(maximum: string): string {
  return `at most ${maximum}`;
}
