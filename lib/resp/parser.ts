/**
 * Incremental parser for RESP requests: arrays of bulk strings (what clients send) and inline commands
 * (what a human types into telnet). Feed it bytes as they arrive; it returns every complete command and,
 * on a malformed frame, a protocol error after which the connection must be closed (Redis does the same).
 *
 * Limits (stricter than Redis, which allows 512 MB bulks): by default a bulk string of at most 512 KB,
 * at most 1024 arguments, an inline command of at most 64 KB, and a request of at most 4 MB in total.
 * The endpoint sets tighter ones per connection (lib/resp/server.ts), and changes them when the
 * connection authenticates: a limit is checked as soon as a header announces a size, so an oversized
 * command is refused before its bytes are held.
 *
 * `push` parses everything it can; `append` + `next` parse one command at a time, so that the limits in
 * force for a command are the ones after the command before it ran (AUTH, then a larger command).
 */

export interface ParserLimits {
  readonly maxBulkBytes: number;
  readonly maxArgs: number;
  readonly maxInlineBytes: number;
  readonly maxRequestBytes: number;
  /**
   * The connection has not authenticated: an argument count or a bulk length over the limit gets Redis's
   * texts for that case (`unauthenticated multibulk length`, `unauthenticated bulk length`).
   */
  readonly unauthenticated?: boolean;
}

export const DEFAULT_PARSER_LIMITS: ParserLimits = {
  maxBulkBytes: 512 * 1024,
  maxArgs: 1024,
  maxInlineBytes: 64 * 1024,
  maxRequestBytes: 4 * 1024 * 1024,
};

export interface ParseResult {
  /** Complete commands, in order; each is its arguments (the command name first). */
  readonly commands: Buffer[][];
  /** Set when the input is malformed: the text of the error to send before closing (`Protocol error: …`). */
  readonly error: string | null;
}

/** One step of `next`: a command, a protocol error (final), or null when more bytes are needed. */
export type ParseStep = { readonly command: Buffer[] } | { readonly error: string } | null;

/** Longest `*<n>` or `$<n>` header line accepted (Redis: 64 KB for the whole query buffer). */
const MAX_HEADER_LINE = 32;
/** Most digits a `*<n>` or `$<n>` header may have: every such number is exact in a double. */
const MAX_HEADER_DIGITS = 15;
const EMPTY = Buffer.alloc(0);
const CRLF = Buffer.from('\r\n');
const CR = 0x0d;
const LF = 0x0a;
const STAR = 0x2a;
const DOLLAR = 0x24;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * Every well-formed frame is read straight from the bytes: a header's digits are summed as they are
 * read, an argument is a view of the bytes received (not a copy). Only a header that is not complete and
 * well formed where it starts falls back to looking for its line end and judging the whole line, which
 * gives the same verdicts, byte for byte, as reading each line as text.
 */
export class RespParser {
  #limits: ParserLimits;
  #buffer: Buffer = EMPTY;
  /** Where unread bytes start in #buffer: commands are taken one at a time without copying the rest. */
  #pos = 0;
  /** Arguments still expected for the array being read, or null between commands. */
  #argc: number | null = null;
  #args: Buffer[] = [];
  /** Length of the bulk string being read, or null when its `$` header comes next. */
  #bulkLen: number | null = null;
  /** Bytes consumed by the current multibulk request so far. */
  #requestBytes = 0;
  #failed: string | null = null;
  /** The value of the header #readHeader last read. */
  #header = 0;

  constructor(limits: Partial<ParserLimits> = {}) {
    this.#limits = { ...DEFAULT_PARSER_LIMITS, ...limits };
  }

  /** Limits for what is parsed from now on (a frame already announced keeps the sizes it was allowed). */
  setLimits(limits: Partial<ParserLimits>): void {
    this.#limits = { ...DEFAULT_PARSER_LIMITS, ...limits };
  }

  /** Bytes held for commands not yet returned (an incomplete one, or complete ones not yet taken). */
  get buffered(): number {
    return this.#buffer.length - this.#pos + this.#args.reduce((n, a) => n + a.length, 0);
  }

  /** A command has begun to arrive and is not complete. */
  get midFrame(): boolean {
    return this.#argc !== null || this.#pos < this.#buffer.length;
  }

  /**
   * More bytes. The commands returned are views of these bytes: a chunk must not be written to after it
   * is appended (a socket's 'data' chunks never are).
   */
  append(chunk: Buffer): void {
    if (this.#failed !== null || chunk.length === 0) return;
    if (this.#pos >= this.#buffer.length) this.#buffer = chunk;
    else this.#buffer = Buffer.concat([this.#buffer.subarray(this.#pos), chunk]);
    this.#pos = 0;
  }

  push(chunk: Buffer): ParseResult {
    if (this.#failed !== null) return { commands: [], error: this.#failed };
    this.append(chunk);
    const commands: Buffer[][] = [];
    for (let step = this.next(); step !== null; step = this.next()) {
      if ('error' in step) return { commands, error: step.error };
      commands.push(step.command);
    }
    return { commands, error: null };
  }

  /** The next complete command from the bytes appended so far. */
  next(): ParseStep {
    if (this.#failed !== null) return { error: this.#failed };
    const step = this.#parse();
    if (this.#pos >= this.#buffer.length) {
      this.#buffer = EMPTY;
      this.#pos = 0;
    }
    return step;
  }

  #fail(message: string): ParseStep {
    this.#failed = `Protocol error: ${message}`;
    this.#buffer = EMPTY;
    this.#pos = 0;
    this.#args = [];
    return { error: this.#failed };
  }

  /**
   * A header's number that starts at `start` (after its `*` or `$`) and is complete and well formed
   * there: an optional '-', 1 to 15 digits, CRLF. Returns where its CR is and leaves the number in
   * #header; -1 for anything else (the caller then judges the whole line).
   */
  #readHeader(buf: Buffer, start: number): number {
    const length = buf.length;
    let i = start;
    const negative = buf[i] === MINUS;
    if (negative) i++;
    const digitsFrom = i;
    // One digit more than allowed is enough to know the header is not one.
    const stop = Math.min(length, digitsFrom + MAX_HEADER_DIGITS + 1);
    let value = 0;
    for (; i < stop; i++) {
      const c = buf[i] as number;
      if (c < ZERO || c > NINE) break;
      value = value * 10 + (c - ZERO);
    }
    const digits = i - digitsFrom;
    if (digits === 0 || digits > MAX_HEADER_DIGITS || i + 1 >= length) return -1;
    if (buf[i] !== CR || buf[i + 1] !== LF) return -1;
    this.#header = negative ? -value : value;
    return i;
  }

  #parse(): ParseStep {
    const buf = this.#buffer;
    const length = buf.length;
    const limits = this.#limits;
    const who = limits.unauthenticated ? 'unauthenticated ' : 'invalid ';
    while (this.#pos < length) {
      const pos = this.#pos;
      if (this.#argc === null) {
        if (buf[pos] === STAR) {
          let end = this.#readHeader(buf, pos + 1);
          let count = this.#header;
          if (end === -1) {
            end = buf.indexOf(CRLF, pos);
            if (end === -1) {
              if (length - pos > MAX_HEADER_LINE) return this.#fail('too big mbulk count string');
              return null;
            }
            const parsed = parseInteger(buf, pos + 1, end);
            if (parsed === null) return this.#fail('invalid multibulk length');
            count = parsed;
          }
          if (count > limits.maxArgs) return this.#fail(`${who}multibulk length`);
          this.#requestBytes = end + 2 - pos;
          this.#pos = end + 2;
          // `*0` and `*-1` are empty requests: Redis ignores them.
          if (count > 0) {
            this.#argc = count;
            this.#args = [];
            this.#bulkLen = null;
          }
          continue;
        }
        const newline = buf.indexOf(LF, pos);
        if (newline === -1) {
          if (length - pos > limits.maxInlineBytes) return this.#fail('too big inline request');
          return null;
        }
        if (newline - pos > limits.maxInlineBytes) return this.#fail('too big inline request');
        const lineEnd = newline > pos && buf[newline - 1] === CR ? newline - 1 : newline;
        const args = splitInline(buf.subarray(pos, lineEnd).toString('latin1'));
        this.#pos = newline + 1;
        if (args === null) return this.#fail('unbalanced quotes in request');
        if (args.length > limits.maxArgs) return this.#fail(`${who}multibulk length`);
        if (args.length > 0) return { command: args.map((a) => Buffer.from(a, 'latin1')) };
        continue;
      }
      if (this.#bulkLen === null) {
        let end = buf[pos] === DOLLAR ? this.#readHeader(buf, pos + 1) : -1;
        let len = this.#header;
        if (end === -1) {
          end = buf.indexOf(CRLF, pos);
          if (end === -1) {
            if (length - pos > MAX_HEADER_LINE) return this.#fail('too big bulk count string');
            if (buf[pos] !== DOLLAR) return this.#fail(`expected '$', got '${printable(buf[pos])}'`);
            return null;
          }
          if (buf[pos] !== DOLLAR) return this.#fail(`expected '$', got '${printable(buf[pos])}'`);
          const parsed = parseInteger(buf, pos + 1, end);
          if (parsed === null) return this.#fail('invalid bulk length');
          len = parsed;
        }
        if (len < 0) return this.#fail('invalid bulk length');
        if (len > limits.maxBulkBytes) return this.#fail(`${who}bulk length`);
        this.#requestBytes += end + 2 - pos;
        if (this.#requestBytes + len + 2 > limits.maxRequestBytes) return this.#fail('request too big');
        this.#bulkLen = len;
        this.#pos = end + 2;
        continue;
      }
      const len = this.#bulkLen;
      if (length - pos < len + 2) return null;
      if (buf[pos + len] !== CR || buf[pos + len + 1] !== LF) {
        return this.#fail('bulk string not terminated');
      }
      this.#args.push(len === 0 ? EMPTY : buf.subarray(pos, pos + len));
      this.#requestBytes += len + 2;
      this.#pos = pos + len + 2;
      this.#bulkLen = null;
      if (this.#args.length === this.#argc) {
        const command = this.#args;
        this.#args = [];
        this.#argc = null;
        this.#requestBytes = 0;
        return { command };
      }
    }
    return null;
  }
}

function printable(byte: number | undefined): string {
  if (byte === undefined) return '';
  return byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
}

/** The decimal integer between `start` and `end` (exclusive): an optional '-', 1 to 15 digits; else null. */
function parseInteger(buf: Buffer, start: number, end: number): number | null {
  const negative = buf[start] === MINUS;
  const from = negative ? start + 1 : start;
  if (end - from < 1 || end - from > MAX_HEADER_DIGITS) return null;
  let value = 0;
  for (let i = from; i < end; i++) {
    const c = buf[i] as number;
    if (c < ZERO || c > NINE) return null;
    value = value * 10 + (c - ZERO);
  }
  return negative ? -value : value;
}

/**
 * Splits an inline command into arguments like Redis (sdssplitargs): whitespace-separated, with "double
 * quotes" (escapes \n \r \t \b \a \\ \" \xHH) and 'single quotes' (only \' escaped). Null when a quote is
 * unbalanced or a closing quote is not followed by a space.
 */
export function splitInline(line: string): string[] | null {
  const args: string[] = [];
  let i = 0;
  const isSpace = (c: string | undefined) =>
    c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';
  while (true) {
    while (i < line.length && isSpace(line[i])) i++;
    if (i >= line.length) return args;
    let current = '';
    let quote: '"' | "'" | null = null;
    let done = false;
    while (!done) {
      const c = line[i];
      if (quote !== null) {
        if (c === undefined) return null;
        if (
          quote === '"' &&
          c === '\\' &&
          line[i + 1] === 'x' &&
          /^[0-9a-fA-F]{2}$/.test(line.slice(i + 2, i + 4))
        ) {
          current += String.fromCharCode(Number.parseInt(line.slice(i + 2, i + 4), 16));
          i += 3;
        } else if (quote === '"' && c === '\\' && i + 1 < line.length) {
          const n = line[i + 1];
          const escapes: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', a: '\x07' };
          current += (n !== undefined && escapes[n]) ?? n ?? '';
          i += 1;
        } else if (quote === "'" && c === '\\' && line[i + 1] === "'") {
          current += "'";
          i += 1;
        } else if (c === quote) {
          // A closing quote must end the argument: `"a"b` is a syntax error, as in Redis.
          if (i + 1 < line.length && !isSpace(line[i + 1])) return null;
          done = true;
        } else {
          current += c;
        }
      } else if (c === undefined || isSpace(c)) {
        done = true;
      } else if (c === '"' || c === "'") {
        quote = c;
      } else {
        current += c;
      }
      if (c !== undefined) i++;
    }
    args.push(current);
  }
}
