/**
 * RESP replies as values, and their encoding in RESP2 or RESP3.
 *
 * One reply value serves both protocols: a map is a RESP3 map (`%`) and a flat array in RESP2, a null is
 * `_` in RESP3 and `$-1` (bulk) or `*-1` (array) in RESP2, a push is a RESP3 push frame (`>`) and a plain
 * array in RESP2 (which is how pub/sub messages look there), a set is a RESP3 set (`~`) and an array in RESP2.
 */

export type Protocol = 2 | 3;

export type Reply =
  | { readonly kind: 'simple'; readonly value: string }
  | { readonly kind: 'error'; readonly value: string }
  | { readonly kind: 'integer'; readonly value: number }
  | { readonly kind: 'bulk'; readonly value: string | Buffer }
  /** A RESP3 verbatim string (`=`, format `txt`), a bulk string in RESP2 (CLIENT LIST, CLIENT INFO). */
  | { readonly kind: 'verbatim'; readonly value: string }
  /** A null: `$-1` (of: 'bulk') or `*-1` (of: 'array') in RESP2, `_` in RESP3. */
  | { readonly kind: 'null'; readonly of: 'bulk' | 'array' }
  | { readonly kind: 'array'; readonly items: readonly Reply[] }
  | { readonly kind: 'map'; readonly entries: ReadonlyArray<readonly [Reply, Reply]> }
  /** A RESP3 set (`~`), a plain array in RESP2 (COMMAND INFO's flags and categories). */
  | { readonly kind: 'set'; readonly items: readonly Reply[] }
  | { readonly kind: 'push'; readonly items: readonly Reply[] };

export const simple = (value: string): Reply => ({ kind: 'simple', value });
export const error = (value: string): Reply => ({ kind: 'error', value });
export const integer = (value: number): Reply => ({ kind: 'integer', value });
export const bulk = (value: string | Buffer): Reply => ({ kind: 'bulk', value });
export const verbatim = (value: string): Reply => ({ kind: 'verbatim', value });
export const nullBulk: Reply = { kind: 'null', of: 'bulk' };
export const nullArray: Reply = { kind: 'null', of: 'array' };
export const array = (items: readonly Reply[]): Reply => ({ kind: 'array', items });
export const push = (items: readonly Reply[]): Reply => ({ kind: 'push', items });
export const set = (items: readonly Reply[]): Reply => ({ kind: 'set', items });
export const map = (entries: ReadonlyArray<readonly [Reply, Reply]>): Reply => ({ kind: 'map', entries });
/** A map with bulk-string keys and values, in the given order (how Sentinel's instance maps look). */
export const fieldMap = (fields: ReadonlyArray<readonly [string, string]>): Reply =>
  map(fields.map(([k, v]) => [bulk(k), bulk(v)] as const));
export const OK: Reply = simple('OK');

/** Simple strings and errors cannot carry CR or LF: they would end the frame early. */
function line(text: string): string {
  return text.replace(/[\r\n]/g, ' ');
}

function write(reply: Reply, proto: Protocol, out: Array<string | Buffer>): void {
  switch (reply.kind) {
    case 'simple':
      out.push(`+${line(reply.value)}\r\n`);
      return;
    case 'error':
      out.push(`-${line(reply.value)}\r\n`);
      return;
    case 'integer':
      out.push(`:${Math.trunc(reply.value)}\r\n`);
      return;
    case 'bulk': {
      const data = typeof reply.value === 'string' ? Buffer.from(reply.value, 'utf8') : reply.value;
      out.push(`$${data.length}\r\n`, data, '\r\n');
      return;
    }
    case 'verbatim': {
      const data = Buffer.from(proto === 3 ? `txt:${reply.value}` : reply.value, 'utf8');
      out.push(`${proto === 3 ? '=' : '$'}${data.length}\r\n`, data, '\r\n');
      return;
    }
    case 'null':
      out.push(proto === 3 ? '_\r\n' : reply.of === 'bulk' ? '$-1\r\n' : '*-1\r\n');
      return;
    case 'array':
    case 'push':
    case 'set': {
      const type = proto === 2 ? '*' : reply.kind === 'push' ? '>' : reply.kind === 'set' ? '~' : '*';
      out.push(`${type}${reply.items.length}\r\n`);
      for (const item of reply.items) write(item, proto, out);
      return;
    }
    case 'map':
      out.push(proto === 3 ? `%${reply.entries.length}\r\n` : `*${reply.entries.length * 2}\r\n`);
      for (const [k, v] of reply.entries) {
        write(k, proto, out);
        write(v, proto, out);
      }
      return;
  }
}

export function encode(reply: Reply, proto: Protocol): Buffer {
  const out: Array<string | Buffer> = [];
  write(reply, proto, out);
  return Buffer.concat(out.map((part) => (typeof part === 'string' ? Buffer.from(part, 'utf8') : part)));
}
