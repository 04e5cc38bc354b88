import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  array,
  bulk,
  encode,
  error,
  fieldMap,
  integer,
  nullArray,
  nullBulk,
  push,
  simple,
} from '../../../lib/resp/encoder.js';
import { RespParser, splitInline } from '../../../lib/resp/parser.js';

const text = (cmds: Buffer[][]) => cmds.map((c) => c.map((b) => b.toString()));

describe('RESP encoder', () => {
  it('encodes scalars in both protocols', () => {
    expect(encode(simple('OK'), 2).toString()).toBe('+OK\r\n');
    expect(encode(error('ERR x'), 3).toString()).toBe('-ERR x\r\n');
    expect(encode(integer(42), 2).toString()).toBe(':42\r\n');
    expect(encode(bulk('héllo'), 2).toString()).toBe('$6\r\nhéllo\r\n');
    expect(encode(simple('a\r\nb'), 2).toString()).toBe('+a  b\r\n');
  });

  it('encodes nulls as $-1 / *-1 in RESP2 and _ in RESP3', () => {
    expect(encode(nullBulk, 2).toString()).toBe('$-1\r\n');
    expect(encode(nullArray, 2).toString()).toBe('*-1\r\n');
    expect(encode(nullBulk, 3).toString()).toBe('_\r\n');
    expect(encode(nullArray, 3).toString()).toBe('_\r\n');
  });

  it('encodes maps as % in RESP3 and flat arrays in RESP2, in order', () => {
    const m = fieldMap([
      ['name', 'mymaster'],
      ['ip', '127.0.0.1'],
    ]);
    expect(encode(m, 3).toString()).toBe(
      '%2\r\n$4\r\nname\r\n$8\r\nmymaster\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n',
    );
    expect(encode(m, 2).toString()).toBe(
      '*4\r\n$4\r\nname\r\n$8\r\nmymaster\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n',
    );
  });

  it('encodes push frames as > in RESP3 and arrays in RESP2', () => {
    const p = push([bulk('message'), bulk('+switch-master'), bulk('m 1 2 3 4')]);
    expect(encode(p, 3).toString().startsWith('>3\r\n$7\r\nmessage\r\n')).toBe(true);
    expect(encode(p, 2).toString().startsWith('*3\r\n$7\r\nmessage\r\n')).toBe(true);
    expect(encode(array([]), 2).toString()).toBe('*0\r\n');
  });
});

describe('RESP parser', () => {
  it('parses multibulk commands, pipelined, across arbitrary chunk boundaries', () => {
    const wire = Buffer.from(
      '*1\r\n$4\r\nPING\r\n*3\r\n$8\r\nSENTINEL\r\n$23\r\nget-master-addr-by-name\r\n$8\r\nmymaster\r\n',
    );
    for (let split = 1; split < wire.length; split++) {
      const p = new RespParser();
      const a = p.push(wire.subarray(0, split));
      const b = p.push(wire.subarray(split));
      expect(a.error).toBeNull();
      expect(b.error).toBeNull();
      expect(text([...a.commands, ...b.commands])).toEqual([
        ['PING'],
        ['SENTINEL', 'get-master-addr-by-name', 'mymaster'],
      ]);
    }
  });

  it('parses byte by byte', () => {
    const p = new RespParser();
    const out: Buffer[][] = [];
    for (const byte of Buffer.from('*2\r\n$4\r\nECHO\r\n$0\r\n\r\nPING\r\n'))
      out.push(...p.push(Buffer.from([byte])).commands);
    expect(text(out)).toEqual([['ECHO', ''], ['PING']]);
    expect(p.buffered).toBe(0);
  });

  it('parses inline commands with quotes, and ignores empty lines and *0', () => {
    const p = new RespParser();
    const r = p.push(Buffer.from("PING\r\n\r\nsentinel master \"my master\"\n*0\r\nset k 'it\\'s'\r\n"));
    expect(r.error).toBeNull();
    expect(text(r.commands)).toEqual([['PING'], ['sentinel', 'master', 'my master'], ['set', 'k', "it's"]]);
    expect(splitInline('"a\\x41\\n" b')).toEqual(['aA\n', 'b']);
    expect(splitInline('"unbalanced')).toBeNull();
    expect(splitInline('"a"b')).toBeNull();
    // Single quotes: only \' is an escape; a backslash before anything else stays.
    expect(splitInline("'it\\'s' 'a\\nb' '\"x\"'")).toEqual(["it's", 'a\\nb', '"x"']);
    expect(splitInline("'a'b")).toBeNull();
    expect(splitInline("'unbalanced")).toBeNull();
    expect(splitInline(`"it's" 'say "hi"'`)).toEqual(["it's", 'say "hi"']);
  });

  it('reports malformed frames, and nothing after them', () => {
    const bad = [
      '*abc\r\n',
      '*2\r\n+PING\r\n',
      '*1\r\n$-5\r\n',
      '*1\r\n$4\r\nPINGxx',
      `*1025\r\n`,
      `*1\r\n$${512 * 1024 + 1}\r\n`,
      '"unbalanced\r\n',
      `*${'9'.repeat(40)}`,
    ];
    for (const frame of bad) {
      const p = new RespParser();
      const r = p.push(Buffer.from(frame));
      expect(r.error, frame).toMatch(/^Protocol error: /);
      expect(p.push(Buffer.from('PING\r\n')).commands).toEqual([]);
    }
  });

  it('limits an inline command to 64 KB and a bulk to 512 KB', () => {
    const p = new RespParser();
    expect(p.push(Buffer.alloc(64 * 1024 + 1, 'a')).error).toBe('Protocol error: too big inline request');
    const ok = new RespParser();
    const big = 'x'.repeat(512 * 1024);
    const r = ok.push(Buffer.from(`*2\r\n$4\r\nECHO\r\n$${big.length}\r\n${big}\r\n`));
    expect(r.error).toBeNull();
    expect(r.commands[0]?.[1]?.length).toBe(512 * 1024);
  });

  it('fuzz: arbitrary bytes in arbitrary chunks never throw, and an error is final', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 20 }), (chunks) => {
        const p = new RespParser({ maxInlineBytes: 100, maxBulkBytes: 100, maxArgs: 8 });
        let failed = false;
        for (const chunk of chunks) {
          const r = p.push(Buffer.from(chunk));
          if (failed) expect(r.commands).toEqual([]);
          if (r.error !== null) failed = true;
          for (const c of r.commands) expect(c.length).toBeLessThanOrEqual(8);
        }
        expect(p.buffered).toBeLessThanOrEqual(4000);
      }),
      { numRuns: 2000 },
    );
  });

  it('fuzz: well-formed commands round-trip whatever the chunking', () => {
    const arg = fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a));
    fc.assert(
      fc.property(
        fc.array(fc.array(arg, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(300)),
        (cmds, cuts) => {
          const wire = Buffer.concat(
            cmds.flatMap((c) => [
              Buffer.from(`*${c.length}\r\n`),
              ...c.flatMap((a) => [Buffer.from(`$${a.length}\r\n`), a, Buffer.from('\r\n')]),
            ]),
          );
          const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
          const p = new RespParser();
          const out: Buffer[][] = [];
          let last = 0;
          for (const point of [...points, wire.length]) {
            const r = p.push(wire.subarray(last, point));
            expect(r.error).toBeNull();
            out.push(...r.commands);
            last = point;
          }
          expect(out.map((c) => c.map((b) => b.toString('hex')))).toEqual(
            cmds.map((c) => c.map((b) => b.toString('hex'))),
          );
        },
      ),
      { numRuns: 500 },
    );
  });
});
