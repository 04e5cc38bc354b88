/**
 * Reading one value of a sentinel.conf line, and the wording of the reasons a line is refused: values are
 * shown escaped and cut (show), so a reason never carries control characters or a pasted megabyte.
 */
import { isIP } from 'node:net';
import { type LimitedSetting, SETTING_LIMITS } from '../core/constants.js';
import { type LimitedInteger, tooLargeReason } from '../core/limits.js';
import { MAX_SHOWN_VALUE } from '../core/sentinelReplies.js';
import { isHostName } from '../core/settings.js';

const DECIMAL = /^[0-9]+$/;
/** A directive name is echoed in a reason only if it looks like one: a stray line may be a password. */
const DIRECTIVE_LIKE = /^[A-Za-z][A-Za-z0-9._-]{0,63}$/;
const FIRST_PRINTABLE = 0x20;
const DELETE = 0x7f;

export function unknownDirective(directive: string): string {
  const words = directive.split(' ');
  if (!words.every((word) => DIRECTIVE_LIKE.test(word))) {
    return 'unknown directive (not shown: it does not look like a directive name; is a line broken?)';
  }
  return `unknown directive '${directive}'`;
}

export function wrongArity(directive: string, usage: string): string {
  return `wrong number of arguments for '${directive}': expected ${usage}`;
}

/** Plain decimal digits only: `1e3`, `-5`, `0x10` and `10ms` are mistakes, not numbers. */
export function parseDecimal(text: string): number | undefined {
  if (!DECIMAL.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

export function parseYesNo(text: string): boolean | undefined {
  const word = text.toLowerCase();
  if (word === 'yes') return true;
  if (word === 'no') return false;
  return undefined;
}

/** An IPv4 or IPv6 address, not a host name. */
export function isIpAddress(host: string): boolean {
  return isIP(host) !== 0;
}

export function isHostOrAddress(host: string): boolean {
  return isIP(host) !== 0 || isHostName(host);
}

export function invalidArgument(
  text: string,
  option: string,
  field: LimitedSetting,
  read: Exclude<LimitedInteger, { ok: true }>,
): string {
  const reason =
    read.problem === 'too-large'
      ? tooLargeReason(read.maximum)
      : expectedInteger(SETTING_LIMITS[field].minimum);
  return `Invalid argument '${show(text)}' for '${option}': ${reason}`;
}

export function expectedInteger(minimum: 0 | 1): string {
  return minimum === 0 ? 'expected a decimal integer >= 0' : 'expected a decimal integer > 0';
}

export function alreadySet(subject: string, firstLine: number): string {
  return `${subject} is already set on line ${firstLine}`;
}

/** A value as shown in a reason: control characters escaped, long values cut. */
export function show(value: string): string {
  const printable = Array.from(value, (char) => {
    const code = char.charCodeAt(0);
    return code < FIRST_PRINTABLE || code === DELETE ? `\\x${code.toString(16).padStart(2, '0')}` : char;
  }).join('');
  return printable.length > MAX_SHOWN_VALUE ? `${printable.slice(0, MAX_SHOWN_VALUE)}…` : printable;
}
