/**
 * Fuzzing the sentinel.conf parser (lib/config/parse.ts): generated valid files, and those files mutated.
 *
 * test/unit/config.test.ts has the hand-written cases and two simple properties (arbitrary text throws only
 * a ConfigError; the numbers and passwords of a valid master round-trip). This file covers what those do
 * not reach:
 *
 * - round trip of whole configurations (membership, global timings, TLS, auth-user, rename-command,
 *   ignored Sentinel lines) written in every way Redis's syntax allows: any directive case, tabs,
 *   indentation, CRLF, comments, lines in any order, bare / double-quoted (with \xHH UTF-8) /
 *   single-quoted arguments, and arbitrary Unicode in passwords;
 * - mutated files (bytes inserted, deleted, lines dropped, duplicated, swapped, tokens replaced by
 *   classic bad values): the result is a configuration that satisfies every documented relation and
 *   bound (SETTING_LIMITS, the leader fence, safe renames), or a ConfigError whose every issue names
 *   this file, a line that exists and holds a directive (or 0), and a one-line reason; never another
 *   exception;
 * - secrets: an auth-pass value or a renamed command name never appears in an error, whatever happens
 *   to the rest of its line;
 * - random bytes on disk: a configuration or a ConfigError at line 0 for bytes that are not UTF-8.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  loadSentinelConfigDetailed,
  parseSentinelConfigDetailed,
} from '../../lib/config/parse.js';
import { SENTINEL_DEFAULTS, SETTING_LIMITS } from '../../lib/core/constants.js';
import { minimumLeaderLeaseMs } from '../../lib/core/fence.js';
import { renameProblem } from '../../lib/core/names.js';
import { isRedisCommandName } from '../../lib/core/redisCommands.js';
import type { GlobalSettings, MasterSettings, SentinelConfig, TlsSettings } from '../../lib/core/types.js';

const FILE = 'fuzz/sentinel.conf';

// ---------------------------------------------------------------------------------------------------------
// Valid configurations, generated with the result the parser must return.

type MasterNumbers = Pick<
  MasterSettings,
  | 'downAfterMs'
  | 'failoverTimeoutMs'
  | 'parallelSyncs'
  | 'masterRebootDownAfterPeriodMs'
  | 'probePeriodMs'
  | 'probeTimeoutMs'
  | 'infoPeriodMs'
  | 'voteMaxAgeMs'
  | 'voteRefreshMs'
  | 'leaderLeaseMs'
>;

/** The config-file option of each number, as docs/configuration.md names them. */
const MASTER_OPTION: Record<keyof MasterNumbers, string> = {
  downAfterMs: 'down-after-milliseconds',
  failoverTimeoutMs: 'failover-timeout',
  parallelSyncs: 'parallel-syncs',
  masterRebootDownAfterPeriodMs: 'master-reboot-down-after-period',
  probePeriodMs: 'probe-period',
  probeTimeoutMs: 'probe-timeout',
  infoPeriodMs: 'info-period',
  voteMaxAgeMs: 'vote-max-age',
  voteRefreshMs: 'vote-refresh',
  leaderLeaseMs: 'leader-lease',
};

type GlobalNumbers = Pick<
  GlobalSettings,
  'tiltTriggerMs' | 'tiltPeriodMs' | 'loopLeaseMs' | 'heartbeatPeriodMs'
>;

const GLOBAL_OPTION: Record<keyof GlobalNumbers, string> = {
  tiltTriggerMs: 'tilt-trigger',
  tiltPeriodMs: 'tilt-period',
  loopLeaseMs: 'loop-lease',
  heartbeatPeriodMs: 'heartbeat-period',
};

/** One directive as its words; rendering decides case, quoting and spacing. */
type Directive = readonly string[];

interface Generated {
  readonly config: SentinelConfig;
  readonly directives: readonly Directive[];
  /** Values that must never appear in an error message (auth-pass values, renamed command names). */
  readonly secrets: readonly string[];
}

function masterDefaults(downAfterMs: number): MasterNumbers {
  return {
    downAfterMs,
    failoverTimeoutMs: SENTINEL_DEFAULTS.failoverTimeoutMs,
    parallelSyncs: SENTINEL_DEFAULTS.parallelSyncs,
    masterRebootDownAfterPeriodMs: SENTINEL_DEFAULTS.masterRebootDownAfterPeriodMs,
    probePeriodMs: Math.min(downAfterMs, SENTINEL_DEFAULTS.maxProbePeriodMs),
    probeTimeoutMs: Math.min(SENTINEL_DEFAULTS.maxProbeTimeoutMs, Math.floor(downAfterMs / 2)),
    infoPeriodMs: SENTINEL_DEFAULTS.infoPeriodMs,
    voteMaxAgeMs: SENTINEL_DEFAULTS.voteMaxAgeMs,
    voteRefreshMs: SENTINEL_DEFAULTS.voteRefreshMs,
    leaderLeaseMs: SENTINEL_DEFAULTS.leaderLeaseMs,
  };
}

function masterRelationsHold(n: MasterNumbers): boolean {
  return (
    n.probeTimeoutMs >= 1 &&
    n.probeTimeoutMs < n.downAfterMs &&
    n.probePeriodMs <= n.downAfterMs &&
    n.voteRefreshMs < n.voteMaxAgeMs &&
    n.leaderLeaseMs >= minimumLeaderLeaseMs(n.probeTimeoutMs)
  );
}

type Limited = keyof typeof SETTING_LIMITS;
/** Mostly realistic values, sometimes at the edge: the setting's documented maximum. */
const upToMaximum = (field: Limited, realistic: fc.Arbitrary<number>) =>
  fc.oneof(
    { weight: 8, arbitrary: realistic },
    { weight: 1, arbitrary: fc.constant(SETTING_LIMITS[field].maximum) },
  );
/** A value in the setting's range: from `minimum`, up to the smaller of `realisticMax` and its maximum. */
const limited = (field: Limited, minimum: number, realisticMax: number) =>
  upToMaximum(
    field,
    fc.integer({ min: minimum, max: Math.min(realisticMax, SETTING_LIMITS[field].maximum) }),
  );
/** The fraction `f` of the way from `min` to `max`, both included. */
const between = (f: number, min: number, max: number) => min + Math.floor(f * (max - min));

/** Every number, with the bounds and relations satisfied by construction. */
const masterNumbers: fc.Arbitrary<MasterNumbers> = fc
  .record({
    downAfterMs: limited('downAfterMs', 2, 1_000_000),
    failoverTimeoutMs: limited('failoverTimeoutMs', 1, 10_000_000),
    parallelSyncs: limited('parallelSyncs', 1, 100),
    masterRebootDownAfterPeriodMs: limited('masterRebootDownAfterPeriodMs', 0, 1_000_000),
    infoPeriodMs: limited('infoPeriodMs', 1, 100_000),
    voteMaxAgeMs: limited('voteMaxAgeMs', 2, 100_000),
    probeFraction: fc.double({ min: 0, max: 1, noNaN: true }),
    periodFraction: fc.double({ min: 0, max: 1, noNaN: true }),
    voteFraction: fc.double({ min: 0, max: 1, noNaN: true }),
    leaseFraction: fc.double({ min: 0, max: 1, noNaN: true }),
  })
  .map(({ probeFraction, periodFraction, voteFraction, leaseFraction, ...n }) => {
    const probeTimeoutMs = between(
      probeFraction,
      1,
      Math.min(n.downAfterMs - 1, SETTING_LIMITS.probeTimeoutMs.maximum),
    );
    return {
      ...n,
      probeTimeoutMs,
      probePeriodMs: between(
        periodFraction,
        1,
        Math.min(n.downAfterMs, SETTING_LIMITS.probePeriodMs.maximum),
      ),
      voteRefreshMs: between(
        voteFraction,
        1,
        Math.min(n.voteMaxAgeMs - 1, SETTING_LIMITS.voteRefreshMs.maximum),
      ),
      leaderLeaseMs: between(
        leaseFraction,
        minimumLeaderLeaseMs(probeTimeoutMs),
        SETTING_LIMITS.leaderLeaseMs.maximum,
      ),
    };
  });

/** Which numbers are written; the others take their defaults, unless that would break a relation. */
function resolveMasterNumbers(
  values: MasterNumbers,
  explicit: Record<keyof MasterNumbers, boolean>,
): { resolved: MasterNumbers; written: Array<keyof MasterNumbers> } {
  const downAfterMs = explicit.downAfterMs ? values.downAfterMs : SENTINEL_DEFAULTS.downAfterMs;
  const defaults = masterDefaults(downAfterMs);
  const keys = Object.keys(MASTER_OPTION) as Array<keyof MasterNumbers>;
  const resolved = Object.fromEntries(
    keys.map((key) => [key, explicit[key] ? values[key] : defaults[key]]),
  ) as unknown as MasterNumbers;
  if (masterRelationsHold(resolved)) return { resolved, written: keys.filter((key) => explicit[key]) };
  return { resolved: values, written: keys };
}

function explicitFlags<K extends string>(keys: readonly K[]): fc.Arbitrary<Record<K, boolean>> {
  const fields = Object.fromEntries(keys.map((k) => [k, fc.boolean()])) as Record<K, fc.Arbitrary<boolean>>;
  return fc.record(fields) as unknown as fc.Arbitrary<Record<K, boolean>>;
}

const masterName = fc.stringMatching(/^[A-Za-z0-9._-]{1,20}$/);
const hostName = fc.stringMatching(
  /^[a-z](?:[a-z0-9-]{0,8}[a-z0-9])?(?:\.[a-z](?:[a-z0-9-]{0,8}[a-z0-9])?){0,3}$/,
);
const host = fc.oneof(fc.ipV4(), fc.ipV6(), hostName);
/** Anything a password can be: every code point, quotes, backslashes, control characters. */
const anyText = (maxLength: number) =>
  fc.oneof(
    fc.string({ unit: 'binary', maxLength }),
    fc.string({
      unit: fc.constantFrom(' ', '"', "'", '\\', 'x', '\t', '\n', '\r', '#', '\u00a0'),
      maxLength,
    }),
  );
/** Secrets are written in Greek so that no other generated value can contain a run of them. */
const secret = fc.string({ unit: fc.constantFrom(...'αβγδεζηθικλμνξ'), minLength: 8, maxLength: 12 });
/**
 * A renamed command name must be printable ASCII, so secret ones are written in punctuation that no
 * other generated value (names, hosts, the quoting alphabet of anyText, reasons) puts four in a row.
 */
const secretCommandName = fc.string({
  unit: fc.constantFrom(...'~^$%&*+@!'),
  minLength: 8,
  maxLength: 12,
});
const SECRET_PROBE_LENGTH = 4;
/** Any name rename-command accepts: printable ASCII without spaces, not another command's name. */
const renamedCommandName = fc
  .stringMatching(/^[\x21-\x7e]{1,20}$/)
  .filter((name) => !isRedisCommandName(name));

const RENAMABLE = ['ping', 'info', 'config', 'replicaof', 'slaveof', 'client', 'failover', 'multi', 'exec'];

interface GenOptions {
  /** Draw auth-pass values and renamed names from `secret` (for the leak property). */
  readonly greekSecrets: boolean;
}

function masterArb(members: number, options: GenOptions) {
  const passArb = options.greekSecrets ? secret : anyText(24);
  return fc.record({
    name: masterName,
    host,
    port: fc.integer({ min: 1, max: 65_535 }),
    // Sentinel accepts a quorum above the number of sentinels (no automatic failover then).
    quorum: fc.integer({ min: 1, max: members + 2 }),
    numbers: masterNumbers,
    explicit: explicitFlags(Object.keys(MASTER_OPTION) as Array<keyof MasterNumbers>),
    authUser: fc.option(anyText(16), { nil: undefined }),
    authPass: fc.option(passArb, { nil: undefined }),
    renames: fc.uniqueArray(
      fc.record({
        command: fc.constantFrom(...RENAMABLE).chain((c) => fc.mixedCase(fc.constant(c))),
        renamed: options.greekSecrets ? secretCommandName : renamedCommandName,
      }),
      { maxLength: 3, selector: (r) => r.command.toLowerCase() },
    ),
  });
}

const sentinelId = fc.stringMatching(/^[a-z0-9-]{1,40}$/);

const tlsArb = fc.oneof(
  fc.record({ enabled: fc.constant(false), writeNo: fc.boolean() }),
  fc.record({
    enabled: fc.constant(true),
    caCertFile: fc.option(
      anyText(30).filter((s) => s !== ''),
      { nil: undefined },
    ),
    pair: fc.option(
      fc.record({
        cert: anyText(30).filter((s) => s !== ''),
        key: anyText(30).filter((s) => s !== ''),
      }),
      { nil: undefined },
    ),
    verifyPeer: fc.option(fc.boolean(), { nil: undefined }),
  }),
);

const globalNumbers = fc
  .record({
    tiltTriggerMs: limited('tiltTriggerMs', 1, 1_000_000),
    tiltPeriodMs: limited('tiltPeriodMs', 1, 1_000_000),
    loopLeaseMs: limited('loopLeaseMs', 2, 1_000_000),
    heartbeatFraction: fc.double({ min: 0, max: 1, noNaN: true }),
  })
  .map(({ heartbeatFraction, ...n }) => ({
    ...n,
    heartbeatPeriodMs: between(
      heartbeatFraction,
      1,
      Math.min(n.loopLeaseMs - 1, SETTING_LIMITS.heartbeatPeriodMs.maximum),
    ),
  }));

/** Sentinel lines that are valid but have no effect here; the parser lists them as ignored. */
const IGNORED_LINES: readonly Directive[] = [
  ['port', '26379'],
  ['dir', '/tmp'],
  ['logfile', ''],
  ['protected-mode', 'no'],
  ['sentinel', 'myid', '0123456789abcdef0123456789abcdef01234567'],
  ['sentinel', 'current-epoch', '7'],
  ['sentinel', 'known-replica', 'mymaster', '10.0.0.2', '6379'],
  ['daemonize', 'no'],
];

function generated(options: GenOptions): fc.Arbitrary<Generated & { ignoredCount: number }> {
  return fc
    .record({
      members: fc.option(fc.uniqueArray(sentinelId, { minLength: 1, maxLength: 5 }), { nil: undefined }),
      globals: globalNumbers,
      globalExplicit: explicitFlags(Object.keys(GLOBAL_OPTION) as Array<keyof GlobalNumbers>),
      tls: tlsArb,
      // resolve-hostnames, announce-hostnames, deny-scripts-reconfig: not written, yes or no.
      flags: fc.tuple(...[0, 1, 2].map(() => fc.constantFrom(undefined, true, false))),
      ignored: fc.subarray([...IGNORED_LINES]),
    })
    .chain((g) =>
      fc
        .uniqueArray(masterArb(g.members?.length ?? SENTINEL_DEFAULTS.sentinelIds.length, options), {
          minLength: 1,
          maxLength: 3,
          selector: (m) => m.name,
        })
        .map((masters) => ({ ...g, masters })),
    )
    .map(({ members, globals, globalExplicit, tls, flags, ignored, masters }) => {
      const directives: Directive[] = [];
      // A master monitored by host name needs resolve-hostnames yes, as in Sentinel.
      const [resolveFlag, announceFlag, denyFlag] = flags;
      const resolve = masters.some((m) => isIP(m.host) === 0) ? true : resolveFlag;
      const flagLines: ReadonlyArray<readonly [string, boolean | undefined]> = [
        ['resolve-hostnames', resolve],
        ['announce-hostnames', announceFlag],
        ['deny-scripts-reconfig', denyFlag],
      ];
      for (const [option, value] of flagLines)
        if (value !== undefined) directives.push(['sentinel', option, value ? 'yes' : 'no']);
      const secrets: string[] = [];
      if (members) directives.push(['sentinel', 'members', ...members]);

      const globalKeys = Object.keys(GLOBAL_OPTION) as Array<keyof GlobalNumbers>;
      let resolvedGlobals: GlobalNumbers = {
        tiltTriggerMs: globalExplicit.tiltTriggerMs ? globals.tiltTriggerMs : SENTINEL_DEFAULTS.tiltTriggerMs,
        tiltPeriodMs: globalExplicit.tiltPeriodMs ? globals.tiltPeriodMs : SENTINEL_DEFAULTS.tiltPeriodMs,
        loopLeaseMs: globalExplicit.loopLeaseMs ? globals.loopLeaseMs : SENTINEL_DEFAULTS.loopLeaseMs,
        heartbeatPeriodMs: globalExplicit.heartbeatPeriodMs
          ? globals.heartbeatPeriodMs
          : SENTINEL_DEFAULTS.heartbeatPeriodMs,
      };
      let writtenGlobals = globalKeys.filter((key) => globalExplicit[key]);
      if (resolvedGlobals.heartbeatPeriodMs >= resolvedGlobals.loopLeaseMs) {
        resolvedGlobals = globals;
        writtenGlobals = globalKeys;
      }
      for (const key of writtenGlobals) {
        directives.push(['sentinel', GLOBAL_OPTION[key], String(resolvedGlobals[key])]);
      }

      let tlsSettings: TlsSettings;
      if (tls.enabled) {
        directives.push(['tls-replication', 'yes']);
        if (tls.caCertFile !== undefined) directives.push(['tls-ca-cert-file', tls.caCertFile]);
        if (tls.pair !== undefined) {
          directives.push(['tls-cert-file', tls.pair.cert], ['tls-key-file', tls.pair.key]);
        }
        if (tls.verifyPeer !== undefined) directives.push(['tls-verify-peer', tls.verifyPeer ? 'yes' : 'no']);
        tlsSettings = {
          enabled: true,
          rejectUnauthorized: tls.verifyPeer ?? true,
          ...(tls.caCertFile !== undefined ? { caCertFile: tls.caCertFile } : {}),
          ...(tls.pair !== undefined ? { certFile: tls.pair.cert, keyFile: tls.pair.key } : {}),
        };
      } else {
        if (tls.writeNo) directives.push(['tls-replication', 'no']);
        tlsSettings = { enabled: false, rejectUnauthorized: true };
      }

      const expectedMasters: MasterSettings[] = [];
      for (const m of masters) {
        directives.push(['sentinel', 'monitor', m.name, m.host, String(m.port), String(m.quorum)]);
        const { resolved, written } = resolveMasterNumbers(m.numbers, m.explicit);
        for (const key of written) {
          directives.push(['sentinel', MASTER_OPTION[key], m.name, String(resolved[key])]);
        }
        if (m.authUser !== undefined) directives.push(['sentinel', 'auth-user', m.name, m.authUser]);
        if (m.authPass !== undefined) {
          directives.push(['sentinel', 'auth-pass', m.name, m.authPass]);
          secrets.push(m.authPass);
        }
        for (const r of m.renames) {
          directives.push(['sentinel', 'rename-command', m.name, r.command, r.renamed]);
          secrets.push(r.renamed);
        }
        expectedMasters.push({
          name: m.name,
          host: m.host,
          port: m.port,
          quorum: m.quorum,
          ...resolved,
          // Sentinel treats an empty user or password as not set.
          ...(m.authUser ? { authUser: m.authUser } : {}),
          ...(m.authPass ? { authPass: m.authPass } : {}),
          renamedCommands: Object.fromEntries(m.renames.map((r) => [r.command.toLowerCase(), r.renamed])),
        });
      }
      directives.push(...ignored);
      const config: SentinelConfig = {
        global: {
          sentinelIds: members ?? SENTINEL_DEFAULTS.sentinelIds,
          ...resolvedGlobals,
          tls: tlsSettings,
          resolveHostnames: resolve ?? SENTINEL_DEFAULTS.resolveHostnames,
          announceHostnames: announceFlag ?? SENTINEL_DEFAULTS.announceHostnames,
          denyScriptsReconfig: denyFlag ?? SENTINEL_DEFAULTS.denyScriptsReconfig,
        },
        masters: expectedMasters,
      };
      return { config, directives, secrets, ignoredCount: ignored.length };
    });
}

// ---------------------------------------------------------------------------------------------------------
// Writing a configuration as text, in any of the ways Redis's syntax allows.

/** C isspace: what separates arguments (lib/config/splitArgs.ts). */
const C_SPACE = /[ \t\n\r\v\f]/;

interface Style {
  readonly quoting: 'bare' | 'double' | 'double-hex' | 'single';
  readonly upperCase: boolean;
  readonly indent: string;
  readonly separator: string;
  readonly trailer: string;
}

const styleArb: fc.Arbitrary<Style> = fc.record({
  quoting: fc.constantFrom('bare', 'double', 'double-hex', 'single'),
  upperCase: fc.boolean(),
  indent: fc.constantFrom('', ' ', '  ', '\t', ' \t'),
  separator: fc.constantFrom(' ', '  ', '\t', ' \t '),
  trailer: fc.constantFrom('', ' ', '\t', '\r', ' \r'),
});

function hex(byte: number): string {
  return `\\x${byte.toString(16).padStart(2, '0')}`;
}

const NAMED_ESCAPES: Record<string, string> = {
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\x07': '\\a',
  '\\': '\\\\',
  '"': '\\"',
};

/** A double-quoted argument; with `hexUtf8`, non-ASCII characters are written as their UTF-8 \xHH bytes. */
function doubleQuoted(value: string, hexUtf8: boolean): string {
  let out = '"';
  for (const char of value) {
    const code = char.codePointAt(0) as number;
    const named = NAMED_ESCAPES[char];
    if (named !== undefined) out += named;
    else if (code < 0x20 || code === 0x7f) out += hex(code);
    else if (hexUtf8 && code > 0x7f && !(code >= 0xd800 && code <= 0xdfff)) {
      for (const byte of Buffer.from(char, 'utf8')) out += hex(byte);
    } else out += char;
  }
  return `${out}"`;
}

function renderArgument(value: string, quoting: Style['quoting']): string {
  const bareOk = value !== '' && !C_SPACE.test(value) && !value.includes('"') && !value.includes("'");
  // Inside '…' only \' is special, so a value that ends with a backslash would escape the closing quote.
  const singleOk = !value.includes('\n') && !value.endsWith('\\');
  if (quoting === 'bare' && bareOk) return value;
  if (quoting === 'single' && singleOk) return `'${value.replaceAll("'", "\\'")}'`;
  return doubleQuoted(value, quoting === 'double-hex');
}

function renderLine(words: Directive, style: Style): string {
  const [first = '', ...rest] = words;
  // Directive names are case-insensitive: `sentinel`, and the option after it.
  const keyword = (w: string) => (style.upperCase ? w.toUpperCase() : w);
  const isSentinel = first === 'sentinel';
  const head = isSentinel ? [keyword(first), keyword(rest[0] ?? '')] : [keyword(first)];
  const args = (isSentinel ? rest.slice(1) : rest).map((w) => renderArgument(w, style.quoting));
  return `${style.indent}${[...head, ...args].join(style.separator)}${style.trailer}`;
}

const commentLine = fc
  .string({ unit: 'binary', maxLength: 30 })
  .map((text) => `# ${text.replace(/\n/g, ' ')}`);

interface Rendered {
  readonly text: string;
  readonly lines: readonly string[];
}

/** The directives in a random order, each in its own style, with comments and blank lines between them. */
function rendered(directives: readonly Directive[]): fc.Arbitrary<Rendered> {
  return fc
    .tuple(
      fc.shuffledSubarray([...directives], { minLength: directives.length }),
      fc.array(styleArb, { minLength: directives.length, maxLength: directives.length }),
      fc.array(fc.oneof(commentLine, fc.constantFrom('', '   ', '\t', '#', '\r')), { maxLength: 6 }),
      fc.array(fc.nat(), { maxLength: 6 }),
      fc.boolean(),
    )
    .map(([order, styles, fillers, positions, bom]) => {
      const lines = order.map((words, i) => renderLine(words, styles[i] as Style));
      for (const [i, filler] of fillers.entries()) {
        lines.splice((positions[i] ?? 0) % (lines.length + 1), 0, filler);
      }
      const text = (bom ? '\uFEFF' : '') + lines.join('\n');
      return { text, lines };
    });
}

// ---------------------------------------------------------------------------------------------------------
// Mutations.

const GARBAGE_TOKENS = [
  '-1',
  '0',
  '1e3',
  '0x10',
  '10ms',
  '65536',
  '9007199254740992',
  '99999999999999999999',
  'NaN',
  'Infinity',
  '""',
  "''",
  '"',
  "'",
  '\\',
  '\\x',
  '"\\xff"',
  '"\\xc3"',
  '__proto__',
  'constructor',
  'yes',
  'no',
  '\u00a0',
  '\uFEFF',
  '#',
] as const;

type Mutation =
  | { readonly kind: 'insert'; readonly at: number; readonly text: string }
  | { readonly kind: 'delete'; readonly at: number; readonly length: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'drop-line'; readonly line: number }
  | { readonly kind: 'duplicate-line'; readonly line: number }
  | { readonly kind: 'swap-lines'; readonly a: number; readonly b: number }
  | { readonly kind: 'replace-token'; readonly line: number; readonly token: number; readonly text: string };

const insertedText = fc.oneof(
  fc.constantFrom(...GARBAGE_TOKENS, ' ', '\t', '\n', '\r\n', '\u0000', 'sentinel '),
  fc.string({ unit: 'binary', maxLength: 6 }),
);

/** Mutations that may change the line structure (join, split, drop, reorder lines). */
const anyMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: insertedText }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('drop-line' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate-line' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('swap-lines' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({
    kind: fc.constant('replace-token' as const),
    line: fc.nat(),
    token: fc.nat(),
    text: fc.oneof(fc.constantFrom(...GARBAGE_TOKENS), insertedText),
  }),
);

function applyMutation(text: string, mutation: Mutation): string {
  const lines = text.split('\n');
  const pick = (n: number) => n % Math.max(1, lines.length);
  switch (mutation.kind) {
    case 'insert': {
      const at = mutation.at % (text.length + 1);
      return text.slice(0, at) + mutation.text + text.slice(at);
    }
    case 'delete': {
      const at = mutation.at % (text.length + 1);
      return text.slice(0, at) + text.slice(at + mutation.length);
    }
    case 'truncate':
      return text.slice(0, mutation.at % (text.length + 1));
    case 'drop-line':
      lines.splice(pick(mutation.line), 1);
      return lines.join('\n');
    case 'duplicate-line': {
      const i = pick(mutation.line);
      lines.splice(i, 0, lines[i] ?? '');
      return lines.join('\n');
    }
    case 'swap-lines': {
      const a = pick(mutation.a);
      const b = pick(mutation.b);
      [lines[a], lines[b]] = [lines[b] ?? '', lines[a] ?? ''];
      return lines.join('\n');
    }
    case 'replace-token': {
      const i = pick(mutation.line);
      const tokens = (lines[i] ?? '').split(' ');
      tokens[mutation.token % tokens.length] = mutation.text;
      lines[i] = tokens.join(' ');
      return lines.join('\n');
    }
  }
}

/** Mutations inside one line that leave every other line alone and add or remove no line break. */
const inLineMutation = fc.record({
  line: fc.nat(),
  at: fc.nat(),
  deleteLength: fc.integer({ min: 0, max: 6 }),
  insert: fc.oneof(
    fc.constantFrom(...GARBAGE_TOKENS.filter((t) => !t.includes('\n')), ' ', ''),
    fc.string({ unit: 'binary', maxLength: 4 }).map((s) => s.replace(/\n/g, '')),
  ),
});

function applyInLine(text: string, m: { line: number; at: number; deleteLength: number; insert: string }) {
  const lines = text.split('\n');
  const i = m.line % lines.length;
  const line = lines[i] ?? '';
  const at = m.at % (line.length + 1);
  lines[i] = line.slice(0, at) + m.insert + line.slice(at + m.deleteLength);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// What any outcome of the parser must satisfy.

/** Lines as the parser numbers them: split on \n after a leading byte-order mark. */
function fileLines(text: string): string[] {
  return text.replace(/^\uFEFF/, '').split('\n');
}

/** Redis strips these around a line (sdstrim " \t\r\n"); \v and \f also separate arguments. */
function isBlankOrComment(line: string): boolean {
  const trimmed = line.replace(/^[ \t\r\n\v\f]+|[ \t\r\n\v\f]+$/g, '');
  return trimmed === '' || trimmed.startsWith('#');
}

/** True if `text` holds a C0 control character or DEL (which show() must have escaped). */
function hasControlCharacter(text: string): boolean {
  return [...text].some((char) => {
    const code = char.charCodeAt(0);
    return code < 0x20 || code === 0x7f;
  });
}

/** A parsed configuration must satisfy every relation the parser documents (it rejects, never adjusts). */
function expectWorkable(config: SentinelConfig): void {
  const g = config.global;
  expect(g.sentinelIds.length).toBeGreaterThan(0);
  expect(new Set(g.sentinelIds).size).toBe(g.sentinelIds.length);
  for (const key of Object.keys(GLOBAL_OPTION) as Array<keyof GlobalNumbers>) {
    const value = g[key];
    expect(Number.isSafeInteger(value) && value >= 1, `${key} = ${value}`).toBe(true);
    expect(value, key).toBeLessThanOrEqual(SETTING_LIMITS[key].maximum);
  }
  expect(g.heartbeatPeriodMs).toBeLessThan(g.loopLeaseMs);
  if (!g.tls.enabled) {
    expect([g.tls.caCertFile, g.tls.certFile, g.tls.keyFile]).toEqual([undefined, undefined, undefined]);
  }
  expect(g.tls.certFile === undefined).toBe(g.tls.keyFile === undefined);
  expect(config.masters.length).toBeGreaterThan(0);
  expect(new Set(config.masters.map((m) => m.name)).size).toBe(config.masters.length);
  for (const m of config.masters) {
    expect(m.name).toMatch(/^[A-Za-z0-9._-]+$/);
    expect(Number.isInteger(m.port) && m.port >= 1 && m.port <= 65_535).toBe(true);
    expect(m.quorum).toBeGreaterThanOrEqual(1);
    // A host name is monitored only with resolve-hostnames yes, as in Sentinel.
    if (isIP(m.host) === 0) expect(g.resolveHostnames).toBe(true);
    for (const key of Object.keys(MASTER_OPTION) as Array<keyof MasterNumbers>) {
      const minimum = key === 'masterRebootDownAfterPeriodMs' ? 0 : 1;
      expect(Number.isSafeInteger(m[key]) && m[key] >= minimum, `${key} = ${m[key]}`).toBe(true);
      expect(m[key], key).toBeLessThanOrEqual(SETTING_LIMITS[key].maximum);
    }
    expect(m.leaderLeaseMs).toBeGreaterThanOrEqual(minimumLeaderLeaseMs(m.probeTimeoutMs));
    for (const [command, renamed] of Object.entries(m.renamedCommands)) {
      expect(renameProblem(command, renamed), `rename-command ${command}`).toBeNull();
    }
    expect(m.probeTimeoutMs).toBeLessThan(m.downAfterMs);
    expect(m.probePeriodMs).toBeLessThanOrEqual(m.downAfterMs);
    expect(m.voteRefreshMs).toBeLessThan(m.voteMaxAgeMs);
    expect(m.authPass).not.toBe('');
    expect(m.authUser).not.toBe('');
  }
}

/** Every issue names this file, a line that holds a directive (or 0), and a one-line reason. */
function expectWellFormedError(error: ConfigError, text: string): void {
  const lines = fileLines(text);
  expect(error.issues.length).toBeGreaterThan(0);
  for (const issue of error.issues) {
    expect(issue.file).toBe(FILE);
    expect(Number.isInteger(issue.line)).toBe(true);
    expect(issue.line).toBeGreaterThanOrEqual(0);
    expect(issue.line).toBeLessThanOrEqual(lines.length);
    if (issue.line > 0) {
      expect(
        isBlankOrComment(lines[issue.line - 1] ?? ''),
        `line ${issue.line} is blank: ${issue.reason}`,
      ).toBe(false);
    }
    expect(issue.reason.length).toBeGreaterThan(0);
    // A raw control character (a newline above all) would break the one-issue-per-line message.
    expect(
      hasControlCharacter(issue.reason),
      `reason with a control character: ${JSON.stringify(issue.reason)}`,
    ).toBe(false);
  }
  const messageLines = error.message.split('\n');
  expect(messageLines).toHaveLength(error.issues.length);
  for (const [i, line] of messageLines.entries()) {
    const issue = error.issues[i];
    expect(line).toBe(`${FILE}:${issue?.line}: ${issue?.reason}`);
  }
}

type Outcome = { ok: true; config: SentinelConfig } | { ok: false; error: ConfigError };

/** Parses, and fails the property on anything but a result or a ConfigError. */
function outcomeOf(text: string): Outcome {
  try {
    return { ok: true, config: parseSentinelConfigDetailed(text, FILE).config };
  } catch (error) {
    if (!(error instanceof ConfigError)) {
      throw new Error(`parser threw something other than a ConfigError: ${String(error)}`, { cause: error });
    }
    return { ok: false, error };
  }
}

function expectSound(text: string): Outcome {
  const outcome = outcomeOf(text);
  if (outcome.ok) expectWorkable(outcome.config);
  else expectWellFormedError(outcome.error, text);
  return outcome;
}

/**
 * What this file generates and checks: the membership, timings and TLS, and the masters. The access
 * lines (`requirepass`, `user`) are the endpoint's, checked by their own tests.
 */
function sortedMasters(config: SentinelConfig): Pick<SentinelConfig, 'global' | 'masters'> {
  return {
    global: config.global,
    masters: [...config.masters].sort((a, b) => a.name.localeCompare(b.name)),
  };
}

// ---------------------------------------------------------------------------------------------------------

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

describe('Fuzz: sentinel.conf parser', () => {
  it('reads back every generated valid configuration, however it is written', () => {
    fc.assert(
      fc.property(
        generated({ greekSecrets: false }).chain((g) => rendered(g.directives).map((r) => ({ g, r }))),
        ({ g, r }) => {
          const parsed = parseSentinelConfigDetailed(r.text, FILE);
          expect(sortedMasters(parsed.config)).toEqual(sortedMasters(g.config));
          expectWorkable(parsed.config);
          // Ignored lines are reported with their own line numbers.
          expect(parsed.ignored).toHaveLength(g.ignoredCount);
          const lines = fileLines(r.text);
          for (const entry of parsed.ignored) {
            const line = (lines[entry.line - 1] ?? '').trim().toLowerCase();
            expect(line.replace(/\s+/g, ' ')).toContain(entry.directive);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('answers a mutated file with a workable configuration or a well-formed ConfigError, nothing else', () => {
    fc.assert(
      fc.property(
        generated({ greekSecrets: false }).chain((g) => rendered(g.directives)),
        fc.array(anyMutation, { minLength: 1, maxLength: 4 }),
        (r, mutations) => {
          expectSound(mutations.reduce(applyMutation, r.text));
        },
      ),
      { numRuns: RUNS * 2 },
    );
  });

  it('never shows an auth-pass value or a renamed command name, whatever is wrong with its line', () => {
    fc.assert(
      fc.property(
        generated({ greekSecrets: true }).chain((g) => rendered(g.directives).map((r) => ({ g, r }))),
        fc.array(inLineMutation, { minLength: 1, maxLength: 3 }),
        ({ g, r }, mutations) => {
          const outcome = expectSound(mutations.reduce(applyInLine, r.text));
          if (outcome.ok) return;
          for (const value of g.secrets) {
            for (let i = 0; i + SECRET_PROBE_LENGTH <= value.length; i++) {
              expect(outcome.error.message).not.toContain(value.slice(i, i + SECRET_PROBE_LENGTH));
            }
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('answers directive-shaped noise with a workable configuration or a well-formed ConfigError', () => {
    const word = fc.oneof(
      fc.constantFrom(
        'sentinel',
        'monitor',
        'members',
        'down-after-milliseconds',
        'probe-timeout',
        'probe-period',
        'vote-refresh',
        'vote-max-age',
        'heartbeat-period',
        'loop-lease',
        'auth-pass',
        'auth-user',
        'rename-command',
        'tls-replication',
        'tls-cert-file',
        'tls-key-file',
        'known-replica',
        'm',
        'n',
        '127.0.0.1',
        '::1',
        'host.example',
        '6379',
        '1',
        '2',
        '3',
        '600',
        'yes',
      ),
      fc.constantFrom(...GARBAGE_TOKENS),
    );
    const line = fc.array(word, { minLength: 1, maxLength: 7 }).map((words) => words.join(' '));
    fc.assert(
      fc.property(fc.array(line, { maxLength: 14 }), (lines) => {
        expectSound(['sentinel monitor m 127.0.0.1 6379 2', ...lines].join('\n'));
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('shows a master name with any characters escaped, in every reason that names it', () => {
    // A bad monitor line still registers its name (so its other lines are not reported as naming an
    // unknown master): those lines' reasons then quote a name that never passed validation.
    const perMasterLine = fc.constantFrom(
      ['down-after-milliseconds', '1000'],
      ['down-after-milliseconds', '-5'],
      ['parallel-syncs', '1'],
      ['auth-user', 'someone'],
      ['auth-pass', 'αβγδεζηθ'],
      ['rename-command', 'ping', 'πινγ'],
      ['rename-command', 'PING', 'πονγ'],
      ['probe-timeout', '9999999'],
    );
    fc.assert(
      fc.property(
        anyText(12).filter((name) => name !== ''),
        fc.constantFrom('127.0.0.1', 'bad host', '::1'),
        fc.array(perMasterLine, { maxLength: 5 }),
        styleArb,
        (name, monitorHost, lines, style) => {
          const directives: Directive[] = [['sentinel', 'monitor', name, monitorHost, '6379', '2']];
          // Each line twice: the second copy is a setting "already set on line N".
          for (const words of lines)
            directives.push(['sentinel', ...words.slice(0, 1), name, ...words.slice(1)]);
          for (const words of lines)
            directives.push(['sentinel', ...words.slice(0, 1), name, ...words.slice(1)]);
          const text = directives.map((words) => renderLine(words, style)).join('\n');
          const outcome = expectSound(text);
          if (!outcome.ok) {
            expect(outcome.error.message).not.toMatch(/αβγδεζηθ|πινγ|πονγ/);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  describe('regressions found by this file', () => {
    it('keeps a Unicode space at the end of an unquoted password (only ASCII whitespace is trimmed)', () => {
      const { config } = parseSentinelConfigDetailed(
        [
          'sentinel monitor m 127.0.0.1 6379 2',
          'sentinel auth-pass m pass\u00a0',
          'sentinel auth-user m\tbob\u3000',
        ].join('\n'),
        FILE,
      );
      expect(config.masters[0]).toMatchObject({ authPass: 'pass\u00a0', authUser: 'bob\u3000' });
    });

    it('escapes a master name that failed validation when a later reason quotes it', () => {
      const outcome = outcomeOf(
        [
          'sentinel monitor "a\\nb" 127.0.0.1 6379 2',
          'sentinel down-after-milliseconds "a\\nb" 100',
          'sentinel down-after-milliseconds "a\\nb" 100',
          'sentinel auth-user "a\\nb" x',
          'sentinel auth-user "a\\nb" y',
          'sentinel rename-command "a\\nb" ping p1',
          'sentinel rename-command "a\\nb" ping p2',
        ].join('\n'),
      );
      expect(outcome.ok).toBe(false);
      if (outcome.ok) return;
      expectWellFormedError(outcome.error, '1\n2\n3\n4\n5\n6\n7');
      expect(outcome.error.issues.map((issue) => issue.line)).toEqual([1, 3, 5, 7]);
      expect(outcome.error.message).toContain("for master 'a\\x0ab' is already set on line 2");
    });
  });

  describe('files on disk', () => {
    let directory = '';
    beforeAll(async () => {
      directory = await mkdtemp(join(tmpdir(), 'config-fuzz-'));
    });
    afterAll(async () => {
      await rm(directory, { recursive: true, force: true });
    });

    it('reads random bytes as a configuration or a ConfigError; bytes that are not UTF-8 are line 0', async () => {
      const utf8 = new TextDecoder('utf-8', { fatal: true });
      const prefix = Buffer.from('sentinel monitor m 127.0.0.1 6379 2\n');
      let n = 0;
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), fc.boolean(), async (bytes, withMonitor) => {
          const content = withMonitor ? Buffer.concat([prefix, bytes]) : Buffer.from(bytes);
          const path = join(directory, `random-${n++}.conf`);
          await writeFile(path, content);
          let isUtf8 = true;
          try {
            utf8.decode(content);
          } catch {
            isUtf8 = false;
          }
          try {
            const parsed = await loadSentinelConfigDetailed(path);
            expect(isUtf8).toBe(true);
            expectWorkable(parsed.config);
          } catch (error) {
            expect(error).toBeInstanceOf(ConfigError);
            const issues = (error as ConfigError).issues;
            expect(issues.every((issue) => issue.file === path)).toBe(true);
            if (!isUtf8) expect(issues).toEqual([expect.objectContaining({ line: 0 })]);
          }
        }),
        { numRuns: 100 },
      );
    });
  });
});
