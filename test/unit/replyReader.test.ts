/**
 * The probe's RESP2 reply reader and command encoder (lib/adapters/redis/replyReader.ts): replies in any
 * chunking, every reply type, and the protocol errors and limits that make the probe drop a connection.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeCommand,
  REPLY_LIMITS,
  type Reply,
  ReplyReader,
  sharedCommand,
} from '../../lib/adapters/redis/replyReader.js';

/** A reply and its wire form. */
interface Case {
  readonly wire: string;
  readonly reply: Reply;
}

const line = fc.string({ unit: 'binary-ascii', maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, ''));

const scalar: fc.Arbitrary<Case> = fc.oneof(
  line.map((text): Case => ({ wire: `+${text}\r\n`, reply: { type: 'status', text } })),
  line.map((text): Case => ({ wire: `-${text}\r\n`, reply: { type: 'error', text } })),
  fc.integer().map((n): Case => ({ wire: `:${n}\r\n`, reply: { type: 'integer' } })),
  // Bulk strings may hold CR, LF and any byte: their length says where they end.
  fc.string({ unit: 'binary-ascii', maxLength: 200 }).map(
    (text): Case => ({
      wire: `$${Buffer.byteLength(text, 'latin1')}\r\n${text}\r\n`,
      reply: { type: 'bulk', text },
    }),
  ),
  fc.constant<Case>({ wire: '$-1\r\n', reply: { type: 'nil' } }),
  fc.constant<Case>({ wire: '*-1\r\n', reply: { type: 'nil' } }),
);

const anyReply: fc.Arbitrary<Case> = fc.letrec<{ reply: Case }>((tie) => ({
  reply: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('reply'), { maxLength: 4 }).map(
      (items): Case => ({
        wire: `*${items.length}\r\n${items.map((i) => i.wire).join('')}`,
        reply: { type: 'array' },
      }),
    ),
  ),
})).reply;

/** Feeds `bytes` in chunks cut at `cuts` and collects every reply, or the protocol error. */
function read(bytes: Buffer, cuts: readonly number[] = []): Reply[] | string {
  const reader = new ReplyReader();
  const replies: Reply[] = [];
  let from = 0;
  for (const cut of [...cuts.filter((c) => c > 0 && c < bytes.length)]
    .sort((a, b) => a - b)
    .concat(bytes.length)) {
    if (cut <= from) continue;
    const result = reader.push(bytes.subarray(from, cut));
    if (!result.ok) return result.error;
    replies.push(...result.replies);
    from = cut;
  }
  return replies;
}

describe('ReplyReader', () => {
  it('reads any sequence of replies, however the bytes are cut into chunks', () => {
    fc.assert(
      fc.property(
        fc.array(anyReply, { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(2_000)),
        (cases, cuts) => {
          const bytes = Buffer.from(cases.map((c) => c.wire).join(''), 'latin1');
          expect(read(bytes, cuts)).toEqual(cases.map((c) => c.reply));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reads a reply delivered one byte at a time, and keeps nothing once it is read', () => {
    const bytes = Buffer.from('$12\r\nhello\r\nworld\r\n+PONG\r\n');
    expect(
      read(
        bytes,
        Array.from({ length: bytes.length }, (_, i) => i),
      ),
    ).toEqual([
      { type: 'bulk', text: 'hello\r\nworld' },
      { type: 'status', text: 'PONG' },
    ]);
  });

  it('holds a large bulk string until it can be complete, then reads it once', () => {
    const body = 'x'.repeat(1_000_000);
    const bytes = Buffer.from(`$${body.length}\r\n${body}\r\n`);
    const cuts = Array.from({ length: 100 }, (_, i) => (i + 1) * 10_000);
    expect(read(bytes, cuts)).toEqual([{ type: 'bulk', text: body }]);
  });

  it.each([
    ['HTTP/1.1 400 Bad Request\r\n', 'Protocol error: unexpected byte 0x48'],
    ['%1\r\n+a\r\n+b\r\n', 'Protocol error: unexpected byte 0x25'],
    ['>1\r\n+PONG\r\n', 'Protocol error: unexpected byte 0x3e'],
    ['+PONG\rX', 'Protocol error: CR without LF'],
    [':abc\r\n', "Protocol error: bad integer 'abc'"],
    ['$abc\r\n', "Protocol error: bad length 'abc'"],
    ['$-2\r\n', "Protocol error: bad length '-2'"],
    ['$4\r\nPONGxx', 'Protocol error: bulk string not followed by CRLF'],
  ])('%j is a protocol error: %s', (wire, error) => {
    expect(read(Buffer.from(wire, 'latin1'))).toBe(error);
  });

  it('refuses a bulk string over the limit as soon as its header arrives', () => {
    const length = REPLY_LIMITS.maxBulkBytes + 1;
    expect(read(Buffer.from(`$${length}\r\n`))).toBe(
      `Protocol error: bulk string of ${length} bytes is over the limit`,
    );
    // The largest allowed is read.
    expect(read(Buffer.from(`$${REPLY_LIMITS.maxBulkBytes}\r\n`))).toEqual([]);
  });

  it('refuses a line with no end over the limit, arrays too long or nested too deep', () => {
    expect(read(Buffer.from(`+${'x'.repeat(REPLY_LIMITS.maxLineBytes + 1)}`))).toBe(
      'Protocol error: line too long',
    );
    expect(read(Buffer.from(`*${REPLY_LIMITS.maxArrayElements + 1}\r\n`))).toBe(
      'Protocol error: array too long',
    );
    const nested = `${'*1\r\n'.repeat(REPLY_LIMITS.maxArrayDepth + 1)}:1\r\n`;
    expect(read(Buffer.from(nested))).toBe('Protocol error: arrays nested too deep');
    const deepest = `${'*1\r\n'.repeat(REPLY_LIMITS.maxArrayDepth)}:1\r\n`;
    expect(read(Buffer.from(deepest))).toEqual([{ type: 'array' }]);
  });

  it('stays failed after a protocol error', () => {
    const reader = new ReplyReader();
    expect(reader.push(Buffer.from('?')).ok).toBe(false);
    expect(reader.push(Buffer.from('+PONG\r\n'))).toEqual({
      ok: false,
      error: 'Protocol error: unexpected byte 0x3f',
    });
  });
});

describe('encodeCommand', () => {
  it('encodes arguments as a RESP array of bulk strings, lengths in bytes', () => {
    expect(encodeCommand(['AUTH', 'user', 'pässword']).toString('utf8')).toBe(
      '*3\r\n$4\r\nAUTH\r\n$4\r\nuser\r\n$9\r\npässword\r\n',
    );
  });

  it('shares the encoding of a command without secrets between callers', () => {
    expect(sharedCommand(['ping'])).toBe(sharedCommand(['ping']));
    expect(sharedCommand(['ping']).toString()).toBe('*1\r\n$4\r\nping\r\n');
  });
});
