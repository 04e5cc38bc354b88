/**
 * The client side of RESP2 for the probe (probe.ts): commands encoded as arrays of bulk strings, and an
 * incremental reader for the replies a Redis server sends back. lib/resp/parser.ts is the server side
 * (it reads requests); this reads replies.
 *
 * The reader keeps only what a probe needs from a reply: the text of a status, error or bulk string, and
 * the type of anything else. Arrays are read to their end (so the connection stays in step) but their
 * elements are not kept: no PING or INFO answer is an array.
 *
 * Malformed input is a protocol error, after which the connection must be dropped: a type byte that is
 * not RESP2 (RESP3 types included: the probe never asks for RESP3), a bad length, a line without CRLF,
 * or input over the limits below. The limits bound what one connection can make this process hold, so
 * a peer that is not Redis (or a hostile one) cannot exhaust a sentinel running in 128 MB.
 */

export const REPLY_LIMITS = Object.freeze({
  /**
   * Longest bulk string accepted. A real INFO reply is a few KB (each connected replica adds one line of
   * about 80 bytes); 8 MB leaves room for any real one while keeping a 128 MB process safe.
   */
  maxBulkBytes: 8 * 1024 * 1024,
  /** Longest status, error or integer line (Redis caps an inline request at 64 KB too). */
  maxLineBytes: 64 * 1024,
  /** Array elements read in one reply, nested ones included: no answer a probe expects is an array. */
  maxArrayElements: 1024,
  /** Nesting depth of arrays in one reply. */
  maxArrayDepth: 8,
});

/** A reply as the probe sees it. */
export type Reply =
  | { readonly type: 'status'; readonly text: string }
  | { readonly type: 'error'; readonly text: string }
  | { readonly type: 'bulk'; readonly text: string }
  | { readonly type: 'integer' }
  | { readonly type: 'nil' }
  | { readonly type: 'array' };

export type ReadResult =
  | { readonly ok: true; readonly replies: readonly Reply[] }
  | { readonly ok: false; readonly error: string };

const CR = 0x0d;
const LF = 0x0a;
const EMPTY = Buffer.alloc(0);
const INTEGER = /^-?\d{1,19}$/;
const NO_REPLIES: readonly Reply[] = Object.freeze([]);
const INTEGER_REPLY: Reply = Object.freeze({ type: 'integer' });
const NIL_REPLY: Reply = Object.freeze({ type: 'nil' });
const ARRAY_REPLY: Reply = Object.freeze({ type: 'array' });
/** The first byte of each RESP2 reply type: status, error, integer, bulk string, array. */
const REPLY_TYPES: ReadonlySet<number> = new Set([0x2b, 0x2d, 0x3a, 0x24, 0x2a]);

/** Encoded commands are cached by their arguments: every probe sends the same few. */
const encodedCommands = new Map<string, Buffer>();
const MAX_CACHED_COMMANDS = 64;

/** `args` as a RESP array of bulk strings, the form every Redis client sends. */
export function encodeCommand(args: readonly string[]): Buffer {
  let text = `*${args.length}\r\n`;
  for (const arg of args) text += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
  return Buffer.from(text, 'utf8');
}

/**
 * The same for a command without secrets in it (PING, INFO and their renames), shared between probes.
 * AUTH is never cached: its encoding holds a password.
 */
export function sharedCommand(args: readonly string[]): Buffer {
  const key = args.join('\n');
  let encoded = encodedCommands.get(key);
  if (encoded === undefined) {
    encoded = encodeCommand(args);
    if (encodedCommands.size < MAX_CACHED_COMMANDS) encodedCommands.set(key, encoded);
  }
  return encoded;
}

class ProtocolError extends Error {}

/** Parsing stopped before the end of a reply: wait for `need` bytes in all (0: unknown, any more). */
class Incomplete {
  constructor(readonly need: number) {}
}

type Parsed = { readonly reply: Reply; readonly end: number };

export class ReplyReader {
  /** Unread bytes: the tail of the last chunk, or several chunks joined. */
  #buffer: Buffer = EMPTY;
  /** Chunks that arrived while a large reply is incomplete, joined only once it can be complete. */
  #held: Buffer[] = [];
  #heldBytes = 0;
  /** Bytes the incomplete reply at the start of #buffer needs before parsing is worth trying again. */
  #need = 0;
  #failed: string | null = null;

  /** Every complete reply in the bytes read so far, in order, or the protocol error. */
  push(chunk: Buffer): ReadResult {
    if (this.#failed !== null) return { ok: false, error: this.#failed };
    if (this.#need > 0) {
      // A large bulk string is on its way: hold chunks until it can be complete, then join them once.
      this.#held.push(chunk);
      this.#heldBytes += chunk.length;
      if (this.#buffer.length + this.#heldBytes < this.#need) return { ok: true, replies: NO_REPLIES };
      this.#buffer = Buffer.concat([this.#buffer, ...this.#held]);
      this.#held = [];
      this.#heldBytes = 0;
    } else {
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    }
    this.#need = 0;
    const replies: Reply[] = [];
    let pos = 0;
    try {
      while (pos < this.#buffer.length) {
        const parsed = this.#parse(pos, 0, { elements: 0 });
        if (parsed instanceof Incomplete) {
          this.#need = parsed.need > 0 ? parsed.need - pos : 0;
          break;
        }
        replies.push(parsed.reply);
        pos = parsed.end;
      }
    } catch (error) {
      this.#buffer = EMPTY;
      this.#failed = `Protocol error: ${error instanceof ProtocolError ? error.message : String(error)}`;
      return { ok: false, error: this.#failed };
    }
    // Keep only the unread tail (a view, no copy); drop the buffer once everything is read.
    this.#buffer = pos >= this.#buffer.length ? EMPTY : this.#buffer.subarray(pos);
    return { ok: true, replies: replies.length === 0 ? NO_REPLIES : replies };
  }

  /** The line starting at `pos`, without its CRLF, and where the next one starts; null if incomplete. */
  #line(pos: number): { readonly text: string; readonly next: number } | Incomplete {
    const buffer = this.#buffer;
    const cr = buffer.indexOf(CR, pos);
    if (cr < 0) {
      if (buffer.length - pos > REPLY_LIMITS.maxLineBytes) throw new ProtocolError('line too long');
      return new Incomplete(0);
    }
    if (cr - pos > REPLY_LIMITS.maxLineBytes) throw new ProtocolError('line too long');
    if (cr + 1 >= buffer.length) return new Incomplete(0);
    if (buffer[cr + 1] !== LF) throw new ProtocolError('CR without LF');
    return { text: buffer.toString('utf8', pos, cr), next: cr + 2 };
  }

  #length(text: string): number {
    if (!INTEGER.test(text)) throw new ProtocolError(`bad length '${text.slice(0, 32)}'`);
    const n = Number(text);
    if (n < -1) throw new ProtocolError(`bad length '${text}'`);
    return n;
  }

  #parse(pos: number, depth: number, count: { elements: number }): Parsed | Incomplete {
    const type = this.#buffer[pos];
    // A byte that starts no RESP2 reply is refused at once, without waiting for a line end.
    if (type === undefined || !REPLY_TYPES.has(type)) {
      throw new ProtocolError(`unexpected byte 0x${(type ?? 0).toString(16).padStart(2, '0')}`);
    }
    const line = this.#line(pos + 1);
    if (line instanceof Incomplete) return line;
    switch (type) {
      case 0x2b /* + */:
        return { reply: { type: 'status', text: line.text }, end: line.next };
      case 0x2d /* - */:
        return { reply: { type: 'error', text: line.text }, end: line.next };
      case 0x3a /* : */:
        if (!INTEGER.test(line.text)) throw new ProtocolError(`bad integer '${line.text.slice(0, 32)}'`);
        return { reply: INTEGER_REPLY, end: line.next };
      case 0x24 /* $ */:
        {
          const length = this.#length(line.text);
          if (length === -1) return { reply: NIL_REPLY, end: line.next };
          if (length > REPLY_LIMITS.maxBulkBytes) {
            throw new ProtocolError(`bulk string of ${length} bytes is over the limit`);
          }
          const end = line.next + length + 2;
          if (end > this.#buffer.length) return new Incomplete(end);
          if (this.#buffer[end - 2] !== CR || this.#buffer[end - 1] !== LF) {
            throw new ProtocolError('bulk string not followed by CRLF');
          }
          return { reply: { type: 'bulk', text: this.#buffer.toString('utf8', line.next, end - 2) }, end };
        }
      case 0x2a /* * */:
        {
          const length = this.#length(line.text);
          if (length === -1) return { reply: NIL_REPLY, end: line.next };
          if (depth >= REPLY_LIMITS.maxArrayDepth) throw new ProtocolError('arrays nested too deep');
          count.elements += length;
          if (count.elements > REPLY_LIMITS.maxArrayElements) throw new ProtocolError('array too long');
          let at = line.next;
          for (let i = 0; i < length; i++) {
            if (at >= this.#buffer.length) return new Incomplete(0);
            const element = this.#parse(at, depth + 1, count);
            if (element instanceof Incomplete) return element.need > 0 ? element : new Incomplete(0);
            at = element.end;
          }
          return { reply: ARRAY_REPLY, end: at };
        }
      default:
        throw new ProtocolError(`unexpected byte 0x${type.toString(16).padStart(2, '0')}`);
    }
  }
}
