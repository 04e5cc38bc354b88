/**
 * Splits one configuration line into arguments with Redis's rules (sdssplitargs), so that a line written
 * for `redis-server --sentinel` means the same thing here:
 *
 * - arguments are separated by whitespace;
 * - `"…"` takes the escapes `\n \r \t \b \a \\ \"`, `\xHH` (one byte) and `\<c>` (= c);
 * - `'…'` is literal except for `\'`;
 * - a quote may start in the middle of an argument (`pass"word x"` is one argument, `password x`),
 *   but a closing quote must be followed by whitespace or the end of the line;
 * - an unterminated quote is an error.
 *
 * `\xHH` yields a byte, not a character: consecutive escapes are decoded together as UTF-8, so
 * `"\xc3\xa9"` is `é`. Bytes that are not valid UTF-8 are rejected, because settings are JS strings.
 *
 * Error reasons never quote the line: it may hold a password.
 */

export type SplitResult =
  | { readonly ok: true; readonly args: readonly string[] }
  | { readonly ok: false; readonly reason: string };

/** C `isspace`: what Redis skips between arguments. */
const WHITESPACE = new Set([' ', '\t', '\n', '\r', '\v', '\f']);
const HEX_DIGIT = /^[0-9a-fA-F]$/;
/** Escapes of double-quoted strings that stand for a control character; any other `\c` is `c`. */
const CONTROL_ESCAPES: ReadonlyMap<string, string> = new Map([
  ['n', '\n'],
  ['r', '\r'],
  ['t', '\t'],
  ['b', '\b'],
  ['a', '\x07'],
]);
const UTF8 = new TextDecoder('utf-8', { fatal: true });

export const SPLIT_REASONS = {
  unbalanced: 'unbalanced quotes',
  closingQuote: 'a closing quote must be followed by a space or the end of the line',
  badBytes: 'the \\xHH escapes do not form valid UTF-8',
} as const;

class SplitFailure extends Error {}

/** Accumulates one argument: text, plus the raw bytes of a run of `\xHH` escapes not yet decoded. */
class ArgumentBuilder {
  private text = '';
  private bytes: number[] = [];

  appendText(chars: string): void {
    this.flushBytes();
    this.text += chars;
  }

  appendByte(byte: number): void {
    this.bytes.push(byte);
  }

  finish(): string {
    this.flushBytes();
    return this.text;
  }

  private flushBytes(): void {
    if (this.bytes.length === 0) return;
    try {
      this.text += UTF8.decode(Uint8Array.from(this.bytes));
    } catch {
      throw new SplitFailure(SPLIT_REASONS.badBytes);
    }
    this.bytes = [];
  }
}

export function splitConfigLine(line: string): SplitResult {
  try {
    return { ok: true, args: splitOrThrow(line) };
  } catch (error) {
    if (error instanceof SplitFailure) return { ok: false, reason: error.message };
    throw error;
  }
}

function splitOrThrow(line: string): string[] {
  const args: string[] = [];
  let at = 0;
  for (;;) {
    while (at < line.length && isSpace(line[at])) at++;
    if (at >= line.length) return args;
    const argument = new ArgumentBuilder();
    while (at < line.length && !isSpace(line[at])) {
      const char = line[at] as string;
      if (char === '"') at = readDoubleQuoted(line, at + 1, argument);
      else if (char === "'") at = readSingleQuoted(line, at + 1, argument);
      else {
        argument.appendText(char);
        at++;
      }
    }
    args.push(argument.finish());
  }
}

/** Reads from just after an opening `"`; returns the index just after the closing quote. */
function readDoubleQuoted(line: string, start: number, argument: ArgumentBuilder): number {
  let at = start;
  while (at < line.length) {
    const char = line[at] as string;
    if (char === '"') return afterClosingQuote(line, at);
    if (char === '\\' && at + 1 < line.length) {
      const escaped = line[at + 1] as string;
      const high = line[at + 2];
      const low = line[at + 3];
      if (escaped === 'x' && isHexDigit(high) && isHexDigit(low)) {
        argument.appendByte(Number.parseInt(high + low, 16));
        at += 4;
      } else {
        argument.appendText(CONTROL_ESCAPES.get(escaped) ?? escaped);
        at += 2;
      }
      continue;
    }
    argument.appendText(char);
    at++;
  }
  throw new SplitFailure(SPLIT_REASONS.unbalanced);
}

/** Reads from just after an opening `'`; returns the index just after the closing quote. */
function readSingleQuoted(line: string, start: number, argument: ArgumentBuilder): number {
  let at = start;
  while (at < line.length) {
    const char = line[at] as string;
    if (char === '\\' && line[at + 1] === "'") {
      argument.appendText("'");
      at += 2;
      continue;
    }
    if (char === "'") return afterClosingQuote(line, at);
    argument.appendText(char);
    at++;
  }
  throw new SplitFailure(SPLIT_REASONS.unbalanced);
}

function afterClosingQuote(line: string, quoteAt: number): number {
  const next = quoteAt + 1;
  if (next < line.length && !isSpace(line[next])) throw new SplitFailure(SPLIT_REASONS.closingQuote);
  return next;
}

function isSpace(char: string | undefined): boolean {
  return char !== undefined && WHITESPACE.has(char);
}

function isHexDigit(char: string | undefined): char is string {
  return char !== undefined && HEX_DIGIT.test(char);
}
