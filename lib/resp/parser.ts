/**
 * Incremental parser for RESP requests: arrays of bulk strings (what clients send) and inline commands
 * (what a human types into telnet). Feed it bytes as they arrive; it returns every complete command and,
 * on a malformed frame, a protocol error after which the connection must be closed (Redis does the same).
 *
 * Limits (stricter than Redis, which allows 512 MB bulks): a bulk string of at most 512 KB, at most
 * 1024 arguments, an inline command of at most 64 KB, and a request of at most 4 MB in total. A
 * Sentinel endpoint never needs more; the limits bound the memory one connection can hold.
 */

export interface ParserLimits {
  readonly maxBulkBytes: number;
  readonly maxArgs: number;
  readonly maxInlineBytes: number;
  readonly maxRequestBytes: number;
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

/** Longest `*<n>` or `$<n>` header line accepted (Redis: 64 KB for the whole query buffer). */
const MAX_HEADER_LINE = 32;

export class RespParser {
  readonly #limits: ParserLimits;
  #buffer: Buffer = Buffer.alloc(0);
  /** Arguments still expected for the array being read, or null between commands. */
  #argc: number | null = null;
  #args: Buffer[] = [];
  /** Length of the bulk string being read, or null when its `$` header comes next. */
  #bulkLen: number | null = null;
  /** Bytes consumed by the current multibulk request so far. */
  #requestBytes = 0;
  #failed: string | null = null;

  constructor(limits: Partial<ParserLimits> = {}) {
    this.#limits = { ...DEFAULT_PARSER_LIMITS, ...limits };
  }

  /** Bytes held for an incomplete command. */
  get buffered(): number {
    return this.#buffer.length;
  }

  push(chunk: Buffer): ParseResult {
    if (this.#failed !== null) return { commands: [], error: this.#failed };
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const commands: Buffer[][] = [];
    let pos = 0;
    const fail = (message: string): ParseResult => {
      this.#failed = `Protocol error: ${message}`;
      this.#buffer = Buffer.alloc(0);
      return { commands, error: this.#failed };
    };
    const buf = this.#buffer;
    while (pos < buf.length) {
      if (this.#argc === null) {
        if (buf[pos] === 0x2a /* '*' */) {
          const end = buf.indexOf('\r\n', pos);
          if (end === -1) {
            if (buf.length - pos > MAX_HEADER_LINE) return fail('too big mbulk count string');
            break;
          }
          const count = parseInteger(buf, pos + 1, end);
          if (count === null || count > this.#limits.maxArgs) return fail('invalid multibulk length');
          this.#requestBytes = end + 2 - pos;
          pos = end + 2;
          // `*0` and `*-1` are empty requests: Redis ignores them.
          if (count > 0) {
            this.#argc = count;
            this.#args = [];
            this.#bulkLen = null;
          }
          continue;
        }
        const newline = buf.indexOf(0x0a, pos);
        if (newline === -1) {
          if (buf.length - pos > this.#limits.maxInlineBytes) return fail('too big inline request');
          break;
        }
        if (newline - pos > this.#limits.maxInlineBytes) return fail('too big inline request');
        const lineEnd = newline > pos && buf[newline - 1] === 0x0d ? newline - 1 : newline;
        const args = splitInline(buf.subarray(pos, lineEnd).toString('latin1'));
        pos = newline + 1;
        if (args === null) return fail('unbalanced quotes in request');
        if (args.length > this.#limits.maxArgs) return fail('invalid multibulk length');
        if (args.length > 0) commands.push(args.map((a) => Buffer.from(a, 'latin1')));
        continue;
      }
      if (this.#bulkLen === null) {
        const end = buf.indexOf('\r\n', pos);
        if (end === -1) {
          if (buf.length - pos > MAX_HEADER_LINE) return fail('too big bulk count string');
          if (buf[pos] !== 0x24 /* '$' */) return fail(`expected '$', got '${printable(buf[pos])}'`);
          break;
        }
        if (buf[pos] !== 0x24) return fail(`expected '$', got '${printable(buf[pos])}'`);
        const len = parseInteger(buf, pos + 1, end);
        if (len === null || len < 0 || len > this.#limits.maxBulkBytes) return fail('invalid bulk length');
        this.#requestBytes += end + 2 - pos;
        if (this.#requestBytes + len + 2 > this.#limits.maxRequestBytes) return fail('request too big');
        this.#bulkLen = len;
        pos = end + 2;
        continue;
      }
      const len = this.#bulkLen;
      if (buf.length - pos < len + 2) break;
      if (buf[pos + len] !== 0x0d || buf[pos + len + 1] !== 0x0a) return fail('bulk string not terminated');
      this.#args.push(Buffer.from(buf.subarray(pos, pos + len)));
      this.#requestBytes += len + 2;
      pos += len + 2;
      this.#bulkLen = null;
      if (this.#args.length === this.#argc) {
        commands.push(this.#args);
        this.#args = [];
        this.#argc = null;
        this.#requestBytes = 0;
      }
    }
    this.#buffer = pos >= buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(pos));
    return { commands, error: null };
  }
}

function printable(byte: number | undefined): string {
  if (byte === undefined) return '';
  return byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
}

/** A decimal integer between `start` and `end` (exclusive), optional leading '-'; null if not one. */
function parseInteger(buf: Buffer, start: number, end: number): number | null {
  const text = buf.subarray(start, end).toString('latin1');
  if (!/^-?\d{1,15}$/.test(text)) return null;
  return Number(text);
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
    let inDouble = false;
    let inSingle = false;
    let done = false;
    while (!done) {
      const c = line[i];
      if (inDouble) {
        if (c === undefined) return null;
        if (c === '\\' && line[i + 1] === 'x' && /^[0-9a-fA-F]{2}$/.test(line.slice(i + 2, i + 4))) {
          current += String.fromCharCode(Number.parseInt(line.slice(i + 2, i + 4), 16));
          i += 3;
        } else if (c === '\\' && i + 1 < line.length) {
          const n = line[i + 1];
          const escapes: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', a: '\x07' };
          current += (n !== undefined && escapes[n]) ?? n ?? '';
          i += 1;
        } else if (c === '"') {
          if (i + 1 < line.length && !isSpace(line[i + 1])) return null;
          done = true;
        } else {
          current += c;
        }
      } else if (inSingle) {
        if (c === undefined) return null;
        if (c === '\\' && line[i + 1] === "'") {
          current += "'";
          i += 1;
        } else if (c === "'") {
          if (i + 1 < line.length && !isSpace(line[i + 1])) return null;
          done = true;
        } else {
          current += c;
        }
      } else if (c === undefined || isSpace(c)) {
        done = true;
      } else if (c === '"') {
        inDouble = true;
      } else if (c === "'") {
        inSingle = true;
      } else {
        current += c;
      }
      if (c !== undefined) i++;
    }
    args.push(current);
  }
}
