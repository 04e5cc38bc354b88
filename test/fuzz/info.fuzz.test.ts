/**
 * Fuzzing the INFO parser (lib/adapters/redis/parseInfo.ts) with generated and mutated replies.
 *
 * test/unit/parseInfo.test.ts checks the captured replies field by field, the edge cases by hand, and that
 * random or INFO-shaped text never throws. This file adds:
 *
 * - a model round trip: replication state generated as values, written as an INFO reply in any section
 *   order, with either line ending, among unknown fields and comments, and parsed back to the same values;
 * - the captured redis-server 7.0.15 replies mutated (bytes, lines, values replaced by classic bad
 *   numbers): the result is either a reason that says what is wrong, or values the core can use as they
 *   are: integers where numbers are expected, ports in range, offsets never negative or NaN;
 * - metamorphic checks: unknown lines, comments and line order do not change the result;
 * - size: a reply with tens of thousands of replica lines parses in linear time.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ParseInfoResult, parseInfo } from '../../lib/adapters/redis/parseInfo.js';
import type { ConnectedReplica, ReplicationInfo } from '../../lib/core/types.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/info/', import.meta.url));
const fixtures = readdirSync(FIXTURES)
  .filter((name) => name.endsWith('.txt'))
  .map((name) => ({ name, text: readFileSync(join(FIXTURES, name), 'utf8') }));

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

/** The reasons parseInfo gives; a caller shows them as the bad-reply reason. */
const KNOWN_REASONS = [
  /^no role field in INFO reply$/,
  /^unknown role in INFO reply: ".*"$/s,
  /^INFO reply is not text$/,
];
const MAX_REASON_LENGTH = 200;
const MAX_PORT = 65_535;

const isNullOr = <T>(value: T | null, check: (v: T) => boolean) => value === null || check(value);
const isPort = (n: number) => Number.isSafeInteger(n) && n >= 0 && n <= MAX_PORT;
const isOffset = (n: number) => Number.isSafeInteger(n) && n >= 0;

/** What any caller may rely on, whatever the server sent. */
function expectUsable(result: ParseInfoResult): void {
  if (!result.ok) {
    expect(result.reason.length).toBeGreaterThan(0);
    expect(result.reason.length).toBeLessThanOrEqual(MAX_REASON_LENGTH);
    expect(
      KNOWN_REASONS.some((pattern) => pattern.test(result.reason)),
      result.reason,
    ).toBe(true);
    return;
  }
  const info = result.info;
  expect(['master', 'replica']).toContain(info.role);
  expect(typeof info.loading).toBe('boolean');
  expect(typeof info.masterLinkUp).toBe('boolean');
  expect(typeof info.replicaAnnounced).toBe('boolean');
  expect(isNullOr(info.masterPort, isPort), `masterPort ${info.masterPort}`).toBe(true);
  expect(isNullOr(info.replicaOffset, isOffset), `replicaOffset ${info.replicaOffset}`).toBe(true);
  expect(isNullOr(info.masterReplOffset, isOffset), `masterReplOffset ${info.masterReplOffset}`).toBe(true);
  expect(isNullOr(info.replicaPriority, Number.isSafeInteger)).toBe(true);
  // Compared with 0 by the selection rules: must be a number, never NaN.
  expect(
    Number.isInteger(info.masterLinkDownSinceMs),
    `masterLinkDownSinceMs ${info.masterLinkDownSinceMs}`,
  ).toBe(true);
  for (const text of [info.runId, info.masterHost, info.redisVersion]) {
    expect(text === null || (typeof text === 'string' && text.length > 0 && !text.includes('\n'))).toBe(true);
  }
  for (const replica of info.connectedReplicas) {
    expect(replica.host.length).toBeGreaterThan(0);
    expect(replica.host).not.toMatch(/[,\n]/);
    expect(isPort(replica.port), `replica port ${replica.port}`).toBe(true);
    expect(isOffset(replica.offset), `replica offset ${replica.offset}`).toBe(true);
    expect(Number.isSafeInteger(replica.lag), `replica lag ${replica.lag}`).toBe(true);
  }
}

// ---------------------------------------------------------------------------------------------------------
// A model of the replication fields, written as Redis writes them.

const ip = fc.oneof(fc.ipV4(), fc.ipV6());
const offset = fc.oneof(fc.nat(), fc.constant(0), fc.maxSafeNat());
const port = fc.integer({ min: 1, max: MAX_PORT });

const replicaLine: fc.Arbitrary<ConnectedReplica> = fc.record({
  host: ip,
  port,
  state: fc.constantFrom('online', 'wait_bgsave', 'send_bulk'),
  offset,
  lag: fc.nat({ max: 100_000 }),
});

const model: fc.Arbitrary<ReplicationInfo> = fc
  .record({
    runId: fc.option(fc.stringMatching(/^[0-9a-f]{40}$/), { nil: null }),
    role: fc.constantFrom('master' as const, 'replica' as const),
    loading: fc.boolean(),
    masterHost: fc.option(ip, { nil: null }),
    masterPort: fc.option(port, { nil: null }),
    masterLinkUp: fc.boolean(),
    linkDownSeconds: fc.option(fc.integer({ min: -1, max: 10_000_000 }), { nil: null }),
    replicaPriority: fc.option(fc.nat({ max: 1_000 }), { nil: null }),
    replicaOffset: fc.option(offset, { nil: null }),
    replicaAnnounced: fc.boolean(),
    masterReplOffset: fc.option(offset, { nil: null }),
    connectedReplicas: fc.array(replicaLine, { maxLength: 5 }),
    redisVersion: fc.option(fc.stringMatching(/^[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{1,3}$/), { nil: null }),
  })
  .map(({ linkDownSeconds, ...m }) => ({
    ...m,
    masterLinkDownSinceMs: linkDownSeconds === null ? 0 : linkDownSeconds * 1_000,
    // Kept for writing the field back; stripped before comparing.
    linkDownSeconds,
  }));

/** The model as INFO sections: [section name, lines]. */
function sections(info: ReplicationInfo & { linkDownSeconds?: number | null }): Array<[string, string[]]> {
  const server = [
    ...(info.redisVersion !== null ? [`redis_version:${info.redisVersion}`] : []),
    ...(info.runId !== null ? [`run_id:${info.runId}`] : []),
    'tcp_port:6379',
  ];
  const persistence = [`loading:${info.loading ? 1 : 0}`, 'rdb_changes_since_last_save:0'];
  const replication = [
    `role:${info.role === 'master' ? 'master' : 'slave'}`,
    ...(info.masterHost !== null ? [`master_host:${info.masterHost}`] : []),
    ...(info.masterPort !== null ? [`master_port:${info.masterPort}`] : []),
    `master_link_status:${info.masterLinkUp ? 'up' : 'down'}`,
    ...(info.linkDownSeconds != null ? [`master_link_down_since_seconds:${info.linkDownSeconds}`] : []),
    ...(info.replicaPriority !== null ? [`slave_priority:${info.replicaPriority}`] : []),
    ...(info.replicaOffset !== null ? [`slave_repl_offset:${info.replicaOffset}`] : []),
    `replica_announced:${info.replicaAnnounced ? 1 : 0}`,
    `connected_slaves:${info.connectedReplicas.length}`,
    ...info.connectedReplicas.map(
      (r, i) => `slave${i}:ip=${r.host},port=${r.port},state=${r.state},offset=${r.offset},lag=${r.lag}`,
    ),
    ...(info.masterReplOffset !== null ? [`master_repl_offset:${info.masterReplOffset}`] : []),
    'repl_backlog_active:0',
  ];
  return [
    ['Server', server],
    ['Persistence', persistence],
    ['Replication', replication],
    ['Keyspace', ['db0:keys=1,expires=0,avg_ttl=0']],
  ];
}

/** Fields Redis may add in any version: never one the parser reads. */
const unknownLine = fc
  .tuple(fc.stringMatching(/^[a-z][a-z_]{0,20}$/), fc.string({ maxLength: 20 }))
  .filter(
    ([key]) =>
      ![
        'run_id',
        'role',
        'loading',
        'master_host',
        'master_port',
        'master_link_status',
        'master_link_down_since_seconds',
        'slave_priority',
        'replica_priority',
        'slave_repl_offset',
        'replica_announced',
        'master_repl_offset',
        'redis_version',
      ].includes(key),
  )
  .map(([key, value]) => `${key}:${value.replace(/[\r\n]/g, '')}`);

const filler = fc.oneof(
  unknownLine,
  fc.constantFrom('', '# Comment', '#', 'no colon here', ':leading colon'),
  fc.string({ maxLength: 20 }).map((s) => `# ${s.replace(/[\r\n]/g, '')}`),
);

function withoutHelper(info: ReplicationInfo & { linkDownSeconds?: number | null }): ReplicationInfo {
  const { linkDownSeconds: _unused, ...rest } = info;
  return rest;
}

// ---------------------------------------------------------------------------------------------------------
// Mutations of real replies.

const BAD_VALUES = [
  '-1',
  '-5',
  '-9007199254740991',
  '',
  '1e3',
  '0x10',
  '12x',
  '+7',
  ' 7',
  'NaN',
  'Infinity',
  '99999999999999999999',
  '9007199254740993',
  '65536',
  '\u0000',
  'up',
  'slave',
  'master',
  'ip=,port=,',
  'ip=10.0.0.1,port=-1,offset=-3,lag=-2',
  'ip=10.0.0.1,port=6379,offset=-3,lag=-2',
  'ip=10.0.0.1,port=6379,offset=NaN,lag=1e9',
  '10.0.0.1,6379',
  ',6379,online',
];

type InfoMutation =
  | { readonly kind: 'value'; readonly line: number; readonly value: string }
  | { readonly kind: 'insert'; readonly at: number; readonly text: string }
  | { readonly kind: 'delete'; readonly at: number; readonly length: number }
  | { readonly kind: 'drop-line'; readonly line: number }
  | { readonly kind: 'duplicate-line'; readonly line: number }
  | { readonly kind: 'truncate'; readonly at: number };

const infoMutation: fc.Arbitrary<InfoMutation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('value' as const),
      line: fc.nat(),
      value: fc.oneof(fc.constantFrom(...BAD_VALUES), fc.string({ unit: 'binary', maxLength: 12 })),
    }),
  },
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.oneof(
      fc.constantFrom('\r', '\n', ':', ',', '=', '\r\n', 'role:', 'slave0:'),
      fc.string({ maxLength: 8 }),
    ),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 20 }) }),
  fc.record({ kind: fc.constant('drop-line' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate-line' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

/** Replication lines matter most: value mutations aim at them two times out of three. */
function applyInfoMutation(text: string, mutation: InfoMutation): string {
  const lines = text.split('\n');
  const replicationStart = lines.findIndex((line) => line.startsWith('# Replication'));
  const pick = (n: number) => {
    if (replicationStart >= 0 && n % 3 !== 0) {
      return replicationStart + (n % Math.max(1, lines.length - replicationStart));
    }
    return n % Math.max(1, lines.length);
  };
  switch (mutation.kind) {
    case 'value': {
      const i = pick(mutation.line);
      const line = lines[i] ?? '';
      const colon = line.indexOf(':');
      const cr = line.endsWith('\r') ? '\r' : '';
      lines[i] = colon > 0 ? `${line.slice(0, colon + 1)}${mutation.value}${cr}` : `${line}${mutation.value}`;
      return lines.join('\n');
    }
    case 'insert': {
      const at = mutation.at % (text.length + 1);
      return text.slice(0, at) + mutation.text + text.slice(at);
    }
    case 'delete': {
      const at = mutation.at % (text.length + 1);
      return text.slice(0, at) + text.slice(at + mutation.length);
    }
    case 'drop-line':
      lines.splice(pick(mutation.line), 1);
      return lines.join('\n');
    case 'duplicate-line': {
      const i = pick(mutation.line);
      lines.splice(i, 0, lines[i] ?? '');
      return lines.join('\n');
    }
    case 'truncate':
      return text.slice(0, mutation.at % (text.length + 1));
  }
}

function sortedReplicas(result: ParseInfoResult): ParseInfoResult {
  if (!result.ok) return result;
  const replicas = [...result.info.connectedReplicas].sort(
    (a, b) => a.host.localeCompare(b.host) || a.port - b.port || a.offset - b.offset,
  );
  return { ok: true, info: { ...result.info, connectedReplicas: replicas } };
}

// ---------------------------------------------------------------------------------------------------------

describe('Fuzz: INFO parser', () => {
  it('reads back generated replication state, in any section order, among unknown fields, with either line end', () => {
    fc.assert(
      fc.property(
        model,
        fc.array(filler, { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.boolean(),
        fc.boolean(),
        (info, fillers, positions, crlf, reverseSections) => {
          const ordered = sections(info);
          if (reverseSections) ordered.reverse();
          const lines = ordered.flatMap(([name, body]) => [`# ${name}`, ...body, '']);
          for (const [i, line] of fillers.entries()) {
            lines.splice((positions[i] ?? 0) % (lines.length + 1), 0, line);
          }
          const result = parseInfo(lines.join(crlf ? '\r\n' : '\n'));
          expectUsable(result);
          expect(result).toEqual({ ok: true, info: withoutHelper(info) });
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('gives a reason or usable values for mutated real replies (no NaN, no negative offset, ports in range)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...fixtures),
        fc.array(infoMutation, { minLength: 1, maxLength: 5 }),
        (fixture, mutations) => {
          expectUsable(parseInfo(mutations.reduce(applyInfoMutation, fixture.text)));
        },
      ),
      { numRuns: RUNS * 3 },
    );
  });

  it('gives a reason or usable values for arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (bytes, prefixed) => {
        const text = Buffer.from(bytes).toString(prefixed ? 'latin1' : 'utf8');
        expectUsable(parseInfo(prefixed ? `role:master\r\n${text}` : text));
      }),
      { numRuns: RUNS },
    );
  });

  it('ignores unknown fields, comments and lines without a field name, wherever they are', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...fixtures),
        fc.array(filler, { minLength: 1, maxLength: 10 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (fixture, fillers, positions) => {
          const lines = fixture.text.split('\r\n');
          for (const [i, line] of fillers.entries()) {
            lines.splice((positions[i] ?? 0) % (lines.length + 1), 0, line);
          }
          expect(parseInfo(lines.join('\r\n'))).toEqual(parseInfo(fixture.text));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('does not depend on line order (replica lines aside, whose order is kept)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...fixtures).chain((fixture) =>
          fc.tuple(
            fc.constant(fixture),
            fc.shuffledSubarray(fixture.text.split('\r\n'), {
              minLength: fixture.text.split('\r\n').length,
            }),
          ),
        ),
        ([fixture, shuffled]) => {
          expect(sortedReplicas(parseInfo(shuffled.join('\r\n')))).toEqual(
            sortedReplicas(parseInfo(fixture.text)),
          );
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('parses a huge reply in linear time: 50 000 replica lines and a 1 MB value', () => {
    const replicas = Array.from(
      { length: 50_000 },
      (_, i) =>
        `slave${i}:ip=10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255},port=${1 + (i % 60_000)},state=online,offset=${i},lag=0`,
    );
    const text = ['# Replication', 'role:master', `junk:${'x'.repeat(1_000_000)}`, ...replicas].join('\r\n');
    const started = performance.now();
    const result = parseInfo(text);
    const elapsed = performance.now() - started;
    expectUsable(result);
    expect(result.ok && result.info.connectedReplicas.length).toBe(50_000);
    // Generous for a loaded 2-core machine; a quadratic parser would take minutes.
    expect(elapsed).toBeLessThan(5_000);
  });

  describe('regressions found by this file', () => {
    it('reads a negative offset as absent: null for the replica and master offsets, 0 in a replica line', () => {
      const result = parseInfo(
        [
          'role:slave',
          'slave_repl_offset:-5',
          'master_repl_offset:-1',
          'slave0:ip=10.0.0.1,port=6380,state=online,offset=-3,lag=0',
        ].join('\r\n'),
      );
      expectUsable(result);
      expect(result).toMatchObject({
        ok: true,
        info: { replicaOffset: null, masterReplOffset: null, connectedReplicas: [{ offset: 0 }] },
      });
    });
  });
});
