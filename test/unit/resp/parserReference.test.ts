/**
 * The byte-level RESP parser (lib/resp/parser.ts) against a reference that reads every header line as
 * text: the same commands, the same errors, after the same chunks, for valid and malformed input cut
 * anywhere, with the limits switched between commands as the endpoint switches them at AUTH.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ParserLimits, RespParser, splitInline } from '../../../lib/resp/parser.js';

const DEFAULTS: ParserLimits = {
  maxBulkBytes: 512 * 1024,
  maxArgs: 1024,
  maxInlineBytes: 64 * 1024,
  maxRequestBytes: 4 * 1024 * 1024,
};

type Step = { readonly command: Buffer[] } | { readonly error: string } | null;

/**
 * The obvious parser: a header is the text up to the first CRLF, checked with a regular expression;
 * arguments are copied out. Redis's rules and texts, the endpoint's limits.
 */
class ReferenceParser {
  limits: ParserLimits;
  buffer = Buffer.alloc(0);
  argc: number | null = null;
  args: Buffer[] = [];
  bulkLen: number | null = null;
  requestBytes = 0;
  failed: string | null = null;

  constructor(limits: Partial<ParserLimits>) {
    this.limits = { ...DEFAULTS, ...limits };
  }

  append(chunk: Buffer): void {
    if (this.failed === null) this.buffer = Buffer.concat([this.buffer, chunk]);
  }

  fail(message: string): Step {
    this.failed = `Protocol error: ${message}`;
    return { error: this.failed };
  }

  next(): Step {
    if (this.failed !== null) return { error: this.failed };
    const who = this.limits.unauthenticated ? 'unauthenticated ' : 'invalid ';
    const integer = (text: string) => (/^-?\d{1,15}$/.test(text) ? Number(text) : null);
    while (this.buffer.length > 0) {
      const text = this.buffer.toString('latin1');
      const take = (n: number) => {
        this.buffer = this.buffer.subarray(n);
      };
      if (this.argc === null) {
        if (text[0] === '*') {
          const end = text.indexOf('\r\n');
          if (end === -1) return text.length > 32 ? this.fail('too big mbulk count string') : null;
          const count = integer(text.slice(1, end));
          if (count === null) return this.fail('invalid multibulk length');
          if (count > this.limits.maxArgs) return this.fail(`${who}multibulk length`);
          this.requestBytes = end + 2;
          take(end + 2);
          if (count > 0) {
            this.argc = count;
            this.args = [];
            this.bulkLen = null;
          }
          continue;
        }
        const newline = text.indexOf('\n');
        if (newline === -1) {
          return text.length > this.limits.maxInlineBytes ? this.fail('too big inline request') : null;
        }
        if (newline > this.limits.maxInlineBytes) return this.fail('too big inline request');
        const line = text.slice(0, newline).replace(/\r$/, '');
        take(newline + 1);
        const args = splitInline(line);
        if (args === null) return this.fail('unbalanced quotes in request');
        if (args.length > this.limits.maxArgs) return this.fail(`${who}multibulk length`);
        if (args.length > 0) return { command: args.map((a) => Buffer.from(a, 'latin1')) };
        continue;
      }
      const printable = (c: string | undefined) =>
        c === undefined
          ? ''
          : c >= ' ' && c < '\x7f'
            ? c
            : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
      if (this.bulkLen === null) {
        const end = text.indexOf('\r\n');
        if (end === -1) {
          if (text.length > 32) return this.fail('too big bulk count string');
          return text[0] === '$' ? null : this.fail(`expected '$', got '${printable(text[0])}'`);
        }
        if (text[0] !== '$') return this.fail(`expected '$', got '${printable(text[0])}'`);
        const len = integer(text.slice(1, end));
        if (len === null || len < 0) return this.fail('invalid bulk length');
        if (len > this.limits.maxBulkBytes) return this.fail(`${who}bulk length`);
        this.requestBytes += end + 2;
        if (this.requestBytes + len + 2 > this.limits.maxRequestBytes) return this.fail('request too big');
        this.bulkLen = len;
        take(end + 2);
        continue;
      }
      const len = this.bulkLen;
      if (text.length < len + 2) return null;
      if (text.slice(len, len + 2) !== '\r\n') return this.fail('bulk string not terminated');
      this.args.push(Buffer.from(this.buffer.subarray(0, len)));
      this.requestBytes += len + 2;
      take(len + 2);
      this.bulkLen = null;
      if (this.args.length === this.argc) {
        const command = this.args;
        this.args = [];
        this.argc = null;
        this.requestBytes = 0;
        return { command };
      }
    }
    return null;
  }
}

const shown = (step: Step) =>
  step === null ? null : 'error' in step ? { error: step.error } : step.command.map((a) => a.toString('hex'));

const frame = (args: readonly Buffer[]) =>
  Buffer.concat([
    Buffer.from(`*${args.length}\r\n`),
    ...args.flatMap((a) => [Buffer.from(`$${a.length}\r\n`), a, Buffer.from('\r\n')]),
  ]);

/** Pieces that make headers and frames go wrong in every way the parser tells apart. */
const nasty = fc.constantFrom(
  '*',
  '$',
  '\r',
  '\n',
  '\r\n',
  '-',
  '-1',
  '-0',
  '0',
  '00',
  '+1',
  ' 1',
  '1 ',
  'x',
  '"',
  "'",
  '\\x41',
  '\x00',
  '\xff',
  '9'.repeat(15),
  '9'.repeat(16),
  '1'.repeat(40),
  'x'.repeat(40),
  '*1\r\n',
  '*2\r\n',
  '*-1\r\n',
  '*0\r\n',
  '$0\r\n',
  '$3\r\n',
  '$-1\r\n',
  '$1\r\nab\r\n',
  'PING\r\n',
  'sentinel "a b" \'c\'\n',
);

const argument = fc.oneof(
  fc.uint8Array({ maxLength: 24 }).map((a) => Buffer.from(a)),
  fc
    .constantFrom('SENTINEL', 'get-master-addr-by-name', 'mymaster', '', '\r\n', '$1', '*1')
    .map((s) => Buffer.from(s)),
);
const multibulk = fc.array(argument, { minLength: 1, maxLength: 6 }).map(frame);

/** Now and then something else where a header's type byte, number or line end belongs. */
const sometimes = <T>(usual: T, instead: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 6, arbitrary: fc.constant(usual) }, { weight: 1, arbitrary: instead });
const wrongNumber = fc.constantFrom(
  '-1',
  '-0',
  '-3',
  '+1',
  ' 1',
  '1 ',
  '',
  '-',
  'x',
  '3x',
  '00',
  `${'0'.repeat(14)}3`,
  `${'0'.repeat(15)}3`,
  '9'.repeat(16),
  '1'.repeat(40),
);
const wrongEnd = fc.constantFrom('\r', '\n', '', '\r\r\n', ' \r\n', '\n\r');
const wrongType = fc.constantFrom('+', ':', '-', 'x', '*', '$', ' ', '\r');
const header = (type: string, value: number) =>
  fc
    .tuple(sometimes(type, wrongType), sometimes(String(value), wrongNumber), sometimes('\r\n', wrongEnd))
    .map((parts) => parts.join(''));
/** A multibulk frame with its headers and terminators damaged here and there. */
const damagedMultibulk = fc
  .array(argument, { minLength: 1, maxLength: 5 })
  .chain((args) =>
    fc
      .tuple(
        header('*', args.length),
        ...args.map((a) =>
          fc
            .tuple(header('$', a.length), sometimes('\r\n', wrongEnd))
            .map(([head, end]) =>
              Buffer.concat([Buffer.from(head, 'latin1'), a, Buffer.from(end, 'latin1')]),
            ),
        ),
      )
      .map(([head, ...rest]) => Buffer.concat([Buffer.from(head, 'latin1'), ...rest])),
  );
const inline = fc
  .array(fc.constantFrom('PING', 'sentinel', '"my master"', "'it\\'s'", '"\\x41"', '"a', 'x"y"', ''), {
    maxLength: 4,
  })
  .chain((words) => fc.constantFrom('\r\n', '\n').map((end) => Buffer.from(`${words.join(' ')}${end}`)));
/** A stream of frames, some damaged: a piece inserted, a byte replaced, or the end cut off. */
const wire = fc
  .array(
    fc.oneof(
      { weight: 3, arbitrary: multibulk },
      { weight: 2, arbitrary: damagedMultibulk },
      { weight: 1, arbitrary: inline },
      { weight: 1, arbitrary: nasty.map((s) => Buffer.from(s, 'latin1')) },
    ),
    { minLength: 1, maxLength: 8 },
  )
  .chain((parts) => {
    const whole = Buffer.concat(parts);
    return fc.oneof(
      { weight: 3, arbitrary: fc.constant(whole) },
      {
        weight: 2,
        arbitrary: fc
          .tuple(fc.nat(whole.length), nasty)
          .map(([at, piece]) =>
            Buffer.concat([whole.subarray(0, at), Buffer.from(piece, 'latin1'), whole.subarray(at)]),
          ),
      },
      {
        weight: 2,
        arbitrary: fc
          .tuple(fc.nat(Math.max(0, whole.length - 1)), fc.integer({ min: 0, max: 255 }))
          .map(([at, byte]) => {
            const copy = Buffer.from(whole);
            if (copy.length > 0) copy[at] = byte;
            return copy;
          }),
      },
    );
  });

const limitsArb = fc.record({
  maxBulkBytes: fc.constantFrom(0, 3, 20, 512 * 1024),
  maxArgs: fc.constantFrom(1, 4, 1024),
  maxInlineBytes: fc.constantFrom(5, 30, 64 * 1024),
  maxRequestBytes: fc.constantFrom(10, 60, 4 * 1024 * 1024),
  unauthenticated: fc.boolean(),
});

/** Cut points (sorted, distinct) of a buffer: anywhere, down to one byte at a time. */
function chunks(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let last = 0;
  for (const point of [...points, bytes.length]) {
    out.push(bytes.subarray(last, point));
    last = point;
  }
  return out;
}

describe('RESP parser against a text reference', () => {
  it('fuzz: the same commands and errors for valid and damaged frames, cut anywhere', () => {
    fc.assert(
      fc.property(wire, fc.array(fc.nat(400), { maxLength: 12 }), limitsArb, (bytes, cuts, limits) => {
        const parser = new RespParser(limits);
        const reference = new ReferenceParser(limits);
        for (const chunk of chunks(bytes, cuts)) {
          const got = parser.push(chunk);
          reference.append(chunk);
          const expected: Buffer[][] = [];
          let error: string | null = null;
          for (let step = reference.next(); step !== null; step = reference.next()) {
            if ('error' in step) {
              error = step.error;
              break;
            }
            expected.push(step.command);
          }
          expect({
            commands: got.commands.map((c) => c.map((a) => a.toString('hex'))),
            error: got.error,
          }).toEqual({ commands: expected.map((c) => c.map((a) => a.toString('hex'))), error });
          if (error !== null) break;
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('fuzz: the same, one command at a time, with the limits switched between commands', () => {
    fc.assert(
      fc.property(
        wire,
        fc.array(fc.nat(400), { maxLength: 12 }),
        fc.array(limitsArb, { minLength: 1, maxLength: 4 }),
        (bytes, cuts, limitSets) => {
          const first = limitSets[0] as Partial<ParserLimits>;
          const parser = new RespParser(first);
          const reference = new ReferenceParser(first);
          let taken = 0;
          for (const chunk of chunks(bytes, cuts)) {
            parser.append(chunk);
            reference.append(chunk);
            while (true) {
              const got = parser.next();
              const expected = reference.next();
              expect(shown(got)).toEqual(shown(expected));
              if (got === null || 'error' in got) break;
              taken++;
              const limits = limitSets[taken % limitSets.length] as Partial<ParserLimits>;
              parser.setLimits(limits);
              reference.limits = { ...DEFAULTS, ...limits };
            }
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('reads headers at the edges of what is allowed as the reference does', () => {
    const cases = [
      `*1\r\n$${'0'.repeat(14)}5\r\nhello\r\n`,
      `*1\r\n$${'0'.repeat(15)}5\r\nhello\r\n`,
      '*-0\r\n',
      '*1\r\n$-0\r\n\r\n',
      '*01\r\n$04\r\nPING\r\n',
      '*1\r\r\n',
      '*1\n',
      `*${'1'.repeat(31)}`,
      `*${'1'.repeat(32)}`,
      `*1\r\n$${'1'.repeat(31)}`,
      `*1\r\n$${'1'.repeat(32)}`,
      `*1\r\n${'x'.repeat(40)}`,
      '*1\r\n$1\r\na\r',
      '*1\r\n$1\r\nab',
      '*2\r\n$1\r\na\r\n*1\r\n',
    ];
    for (const text of cases) {
      const bytes = Buffer.from(text, 'latin1');
      for (let cut = 0; cut <= bytes.length; cut++) {
        const parser = new RespParser();
        const reference = new ReferenceParser({});
        const got: unknown[] = [];
        const expected: unknown[] = [];
        for (const chunk of [bytes.subarray(0, cut), bytes.subarray(cut)]) {
          parser.append(chunk);
          reference.append(chunk);
          for (let step = parser.next(); ; step = parser.next()) {
            got.push(shown(step));
            if (step === null || 'error' in step) break;
          }
          for (let step = reference.next(); ; step = reference.next()) {
            expected.push(shown(step));
            if (step === null || 'error' in step) break;
          }
        }
        expect(got, `${JSON.stringify(text)} cut at ${cut}`).toEqual(expected);
      }
    }
  });

  it('gives arguments as views of the bytes received, not copies', () => {
    const chunk = Buffer.from('*3\r\n$8\r\nSENTINEL\r\n$23\r\nget-master-addr-by-name\r\n$8\r\nmymaster\r\n');
    const [command] = new RespParser().push(chunk).commands;
    expect(command?.map((a) => a.toString())).toEqual(['SENTINEL', 'get-master-addr-by-name', 'mymaster']);
    for (const arg of command ?? []) expect(arg.buffer).toBe(chunk.buffer);
  });
});
