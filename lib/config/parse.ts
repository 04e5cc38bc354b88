/**
 * The `sentinel.conf` parser. Full reference with examples: docs/configuration.md.
 *
 * Syntax is Redis's: one directive per line, `#` starts a comment line, arguments split on whitespace,
 * `"…"` and `'…'` quoting with Redis escapes (lib/config/splitArgs.ts). Directive names are
 * case-insensitive, as in Redis.
 *
 * Sentinel's per-master lines (defaults are Sentinel's; every default lives in SENTINEL_DEFAULTS):
 *   sentinel monitor <name> <host> <port> <quorum>          name: A-Z a-z 0-9 . - _; quorum >= 1
 *   sentinel down-after-milliseconds <name> <ms>            30000, > 0
 *   sentinel failover-timeout <name> <ms>                   180000, > 0
 *   sentinel parallel-syncs <name> <n>                      1, > 0
 *   sentinel master-reboot-down-after-period <name> <ms>    0 (off), >= 0
 *   sentinel auth-user <name> <user> / auth-pass <name> <pw>  unset
 *   sentinel rename-command <name> <command> <renamed>      each command at most once; <renamed> is 1-128
 *                                                           printable ASCII characters, not another
 *                                                           Redis command's name (lib/core/names.ts)
 *
 * lambda-sentinel's per-master lines (all > 0):
 *   sentinel probe-period <name> <ms>     min(down-after, 1000): PING period; must not exceed down-after
 *   sentinel probe-timeout <name> <ms>    min(500, down-after / 2): hard timeout of one probe; < down-after
 *   sentinel info-period <name> <ms>      10000: INFO period while nothing is wrong
 *   sentinel vote-max-age <name> <ms>     5000: a down-vote older than this does not count
 *   sentinel vote-refresh <name> <ms>     1000: a sentinel that sees the master down re-writes its vote
 *                                         this often; < vote-max-age
 *   sentinel leader-lease <name> <ms>     5000: an elected leader owns its epoch this long unless it renews
 *
 * lambda-sentinel's global lines:
 *   sentinel members <id> [<id> …]        sentinel-a sentinel-b sentinel-c: the fixed voting membership,
 *                                         ids [a-z0-9-]{1,40}; every quorum must be <= its size
 *   sentinel tilt-trigger <ms>            2000, > 0
 *   sentinel tilt-period <ms>             30000, > 0
 *   sentinel loop-lease <ms>              180000, > 0
 *   sentinel heartbeat-period <ms>        5000, > 0, < loop-lease
 *
 * TLS to Redis (Redis's names, global): `tls-replication yes|no` (no), `tls-ca-cert-file`, `tls-cert-file`
 * and `tls-key-file` (only with tls-replication yes; cert and key together), and lambda-sentinel's
 * `tls-verify-peer yes|no` (yes).
 *
 * Access to the Redis-protocol endpoint and the local HTTP API (lib/config/access.ts): `requirepass`,
 * `user` (Redis's ACL syntax), `timeout`, `maxclients`, `client-query-buffer-limit`, `client-query-timeout`.
 *
 * Accepted and ignored (reported back so the CLI can list them): state lives in DynamoDB and the listener
 * is set on the command line, so `port`, `bind`, `daemonize`, `pidfile`, `logfile`, `loglevel`, `dir`,
 * `protected-mode`, `latency-tracking-info-percentiles` (written by Redis 7's CONFIG REWRITE),
 * and `sentinel myid|current-epoch|config-epoch|leader-epoch|known-replica|known-slave|
 * known-sentinel|deny-scripts-reconfig|resolve-hostnames|announce-hostnames|announce-ip|announce-port|
 * sentinel-user|sentinel-pass` have nothing to configure.
 *
 * Every number also has an upper bound, the same as SENTINEL SET's (SETTING_LIMITS in lib/core/constants.ts,
 * listed in docs/configuration.md), and leader-lease must be at least 2 × (probe-timeout + 500) so that a
 * failover's command to Redis ends before the leader's lease does (lib/core/fence.ts).
 *
 * Rejected: `sentinel notification-script` and `sentinel client-reconfig-script` (events go to SNS), any
 * other directive, a setting given twice, and settings whose relations cannot work (they are reported,
 * never adjusted). Every problem in the file is reported in one ConfigError. auth-pass values never
 * appear in a reason; neither do renamed command names, which some deployments treat as secrets.
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { type LimitedSetting, SENTINEL_DEFAULTS, SETTING_LIMITS } from '../core/constants.js';
import { leaderFenceProblem } from '../core/fence.js';
import { type LimitedInteger, readLimitedInteger, tooLargeReason } from '../core/limits.js';
import { masterNameProblem, renameProblem } from '../core/names.js';
import { RENAME_COMMAND } from '../core/settings.js';
import type { GlobalSettings, MasterSettings, SentinelConfig, TlsSettings } from '../core/types.js';
import { ACCESS_DIRECTIVES, AccessDraft } from './access.js';
import { splitConfigLine } from './splitArgs.js';

export interface ConfigIssue {
  readonly file: string;
  /** 1-based; 0 when the problem belongs to the file as a whole. */
  readonly line: number;
  readonly reason: string;
}

/** A line that is valid in Sentinel but has no effect here. `directive` is lower-case, without arguments. */
export interface IgnoredLine {
  readonly file: string;
  readonly line: number;
  readonly directive: string;
}

export interface ParsedSentinelConfig {
  readonly config: SentinelConfig;
  readonly ignored: readonly IgnoredLine[];
}

/** Every problem found in one configuration, reported together so one edit can fix them all. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly issues: ReadonlyArray<ConfigIssue>;

  constructor(issues: readonly ConfigIssue[], options?: ErrorOptions) {
    const inLineOrder = [...issues].sort((a, b) => a.line - b.line);
    super(inLineOrder.map((issue) => `${issue.file}:${issue.line}: ${issue.reason}`).join('\n'), options);
    this.issues = Object.freeze(inLineOrder.map((issue) => Object.freeze({ ...issue })));
  }
}

export function parseSentinelConfig(text: string, file: string): SentinelConfig {
  return parseSentinelConfigDetailed(text, file).config;
}

export async function loadSentinelConfig(path: string): Promise<SentinelConfig> {
  return (await loadSentinelConfigDetailed(path)).config;
}

export async function loadSentinelConfigDetailed(path: string): Promise<ParsedSentinelConfig> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError([{ file: path, line: 0, reason: `cannot read the file: ${reason}` }], {
      cause: error,
    });
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    const reason = 'the file is not valid UTF-8 (write other bytes as \\xHH inside double quotes)';
    throw new ConfigError([{ file: path, line: 0, reason }], { cause: error });
  }
  return parseSentinelConfigDetailed(text, path);
}

// ---------------------------------------------------------------------------------------------------------
// Option tables. Each name appears once, here; reasons look names up instead of repeating them.

type MasterNumberField =
  | 'downAfterMs'
  | 'failoverTimeoutMs'
  | 'parallelSyncs'
  | 'masterRebootDownAfterPeriodMs'
  | 'probePeriodMs'
  | 'probeTimeoutMs'
  | 'infoPeriodMs'
  | 'voteMaxAgeMs'
  | 'voteRefreshMs'
  | 'leaderLeaseMs';

type GlobalNumberField = 'tiltTriggerMs' | 'tiltPeriodMs' | 'loopLeaseMs' | 'heartbeatPeriodMs';

/** A numeric option; its accepted range is SETTING_LIMITS[field], shared with SENTINEL SET. */
interface NumberOption<Field extends LimitedSetting> {
  readonly field: Field;
  /** How the value is named in the usage text of an arity error. */
  readonly unit: '<ms>' | '<count>';
}

const MASTER_NUMBER_OPTIONS: ReadonlyMap<string, NumberOption<MasterNumberField>> = new Map([
  ['down-after-milliseconds', { field: 'downAfterMs', unit: '<ms>' }],
  ['failover-timeout', { field: 'failoverTimeoutMs', unit: '<ms>' }],
  ['parallel-syncs', { field: 'parallelSyncs', unit: '<count>' }],
  ['master-reboot-down-after-period', { field: 'masterRebootDownAfterPeriodMs', unit: '<ms>' }],
  ['probe-period', { field: 'probePeriodMs', unit: '<ms>' }],
  ['probe-timeout', { field: 'probeTimeoutMs', unit: '<ms>' }],
  ['info-period', { field: 'infoPeriodMs', unit: '<ms>' }],
  ['vote-max-age', { field: 'voteMaxAgeMs', unit: '<ms>' }],
  ['vote-refresh', { field: 'voteRefreshMs', unit: '<ms>' }],
  ['leader-lease', { field: 'leaderLeaseMs', unit: '<ms>' }],
]);

const GLOBAL_NUMBER_OPTIONS: ReadonlyMap<string, NumberOption<GlobalNumberField>> = new Map([
  ['tilt-trigger', { field: 'tiltTriggerMs', unit: '<ms>' }],
  ['tilt-period', { field: 'tiltPeriodMs', unit: '<ms>' }],
  ['loop-lease', { field: 'loopLeaseMs', unit: '<ms>' }],
  ['heartbeat-period', { field: 'heartbeatPeriodMs', unit: '<ms>' }],
]);

type TlsFlagField = 'enabled' | 'rejectUnauthorized';
type TlsFileField = 'caCertFile' | 'certFile' | 'keyFile';

const TLS_FLAG_OPTIONS: ReadonlyMap<string, TlsFlagField> = new Map([
  ['tls-replication', 'enabled'],
  ['tls-verify-peer', 'rejectUnauthorized'],
]);

const TLS_FILE_OPTIONS: ReadonlyMap<string, TlsFileField> = new Map([
  ['tls-ca-cert-file', 'caCertFile'],
  ['tls-cert-file', 'certFile'],
  ['tls-key-file', 'keyFile'],
]);

const SENTINEL = 'sentinel';
const MONITOR = 'monitor';
const MEMBERS = 'members';
const AUTH_PASS = 'auth-pass';
const AUTH_USER = 'auth-user';

/**
 * Redis lines that configure the Sentinel process itself: the listener is set on the CLI here.
 * `latency-tracking-info-percentiles` is in the list because Redis 7's CONFIG REWRITE adds it to every
 * sentinel.conf it writes: without it no rewritten file would load. (`requirepass`, `user`, `timeout`,
 * `maxclients`… configure the endpoints' access: lib/config/access.ts.)
 */
const IGNORED_DIRECTIVES: ReadonlySet<string> = new Set([
  'port',
  'bind',
  'daemonize',
  'pidfile',
  'logfile',
  'loglevel',
  'dir',
  'protected-mode',
  'latency-tracking-info-percentiles',
]);

/**
 * `sentinel …` lines that hold Sentinel's persisted state (kept in DynamoDB here), gossip addresses
 * (there is no gossip: membership is fixed) or sentinel-to-sentinel credentials (sentinels never connect
 * to each other here).
 */
const IGNORED_SENTINEL_OPTIONS: ReadonlySet<string> = new Set([
  'myid',
  'current-epoch',
  'config-epoch',
  'leader-epoch',
  'known-replica',
  'known-slave',
  'known-sentinel',
  'deny-scripts-reconfig',
  'resolve-hostnames',
  'announce-hostnames',
  'announce-ip',
  'announce-port',
  'sentinel-user',
  'sentinel-pass',
]);

const REJECTED_SENTINEL_OPTIONS: ReadonlyMap<string, string> = new Map([
  ['notification-script', 'not supported: alerts go through SNS (email, Slack), see docs/configuration.md'],
  [
    'client-reconfig-script',
    'not supported: clients follow the master through the Sentinel endpoint or the HTTP API, and ' +
      'switch-master events go through SNS, see docs/configuration.md',
  ],
]);

const SENTINEL_ID = /^[a-z0-9-]{1,40}$/;
const DECIMAL = /^[0-9]+$/;
const HOST_LABEL = '[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?';
const HOST_NAME = new RegExp(`^(?=.{1,253}$)${HOST_LABEL}(?:\\.${HOST_LABEL})*\\.?$`);
const DOTTED_DIGITS = /^[0-9.]+$/;
/** A directive name is echoed in a reason only if it looks like one: a stray line may be a password. */
const DIRECTIVE_LIKE = /^[A-Za-z][A-Za-z0-9._-]{0,63}$/;
const MAX_PORT = 65_535;
/**
 * What is stripped around a line: ASCII whitespace only, as Redis's sdstrim(" \t\r\n") (plus \v and \f,
 * which separate arguments anyway). String.prototype.trim would also eat Unicode spaces such as U+00A0,
 * silently cutting them off an unquoted password at the end of its line.
 */
const LINE_EDGE_SPACE: ReadonlySet<string> = new Set([' ', '\t', '\r', '\n', '\v', '\f']);
const MONITOR_ARITY = 4;
const MAX_SHOWN_VALUE = 64;
const FIRST_PRINTABLE = 0x20;
const DELETE = 0x7f;
const AUTH_PASS_HIDDEN = 'auth-pass value hidden';

// ---------------------------------------------------------------------------------------------------------
// Parse state: what each line set, and where, so later checks can point at the line to fix.

interface Setting<T> {
  readonly value: T;
  readonly line: number;
}

interface MasterDraft {
  readonly name: string;
  readonly monitorLine: number;
  /** False when the monitor line itself is bad: its per-master lines are still checked, not built. */
  readonly monitorValid: boolean;
  readonly host: string;
  readonly port: number;
  readonly quorum: number;
  readonly numbers: Partial<Record<MasterNumberField, Setting<number>>>;
  /** Fields given with a bad value: relations involving them are not checked, to avoid follow-on noise. */
  readonly invalid: Set<MasterNumberField>;
  authUser?: Setting<string>;
  authPass?: Setting<string>;
  readonly renames: Map<string, Setting<string>>;
}

interface GlobalDraft {
  members?: Setting<readonly string[]>;
  membersInvalid: boolean;
  readonly numbers: Partial<Record<GlobalNumberField, Setting<number>>>;
  readonly invalid: Set<GlobalNumberField>;
  readonly tlsFlags: Partial<Record<TlsFlagField, Setting<boolean>>>;
  readonly tlsFiles: Partial<Record<TlsFileField, Setting<string>>>;
}

interface ConfigLine {
  readonly line: number;
  /** Lower-case directive words as shown in reasons, e.g. `sentinel monitor` or `tls-replication`. */
  readonly directive: string;
  /** The word after `sentinel` (lower-case), or undefined for a top-level directive. */
  readonly sentinelOption: string | undefined;
  readonly args: readonly string[];
}

class ParseState {
  readonly issues: ConfigIssue[] = [];
  readonly ignored: IgnoredLine[] = [];
  readonly masters = new Map<string, MasterDraft>();
  readonly global: GlobalDraft = {
    membersInvalid: false,
    numbers: {},
    invalid: new Set(),
    tlsFlags: {},
    tlsFiles: {},
  };
  /** Per-master lines wait until every monitor line is read, as in Sentinel. */
  readonly perMasterLines: ConfigLine[] = [];
  /** requirepass, user, timeout, maxclients…: the endpoints' access (lib/config/access.ts). */
  readonly access = new AccessDraft((line, reason) => this.reject(line, reason));

  constructor(readonly file: string) {}

  reject(line: number, reason: string): void {
    this.issues.push({ file: this.file, line, reason });
  }

  ignore(line: number, directive: string): void {
    this.ignored.push({ file: this.file, line, directive });
  }
}

export function parseSentinelConfigDetailed(text: string, file: string): ParsedSentinelConfig {
  const state = new ParseState(file);
  for (const line of readLines(text, state)) dispatch(state, line);
  for (const line of state.perMasterLines) applyPerMasterLine(state, line);
  if (state.masters.size === 0) state.reject(0, 'no `sentinel monitor` line: nothing to watch');

  const global = buildGlobal(state);
  const masters = [...state.masters.values()].flatMap((draft) =>
    draft.monitorValid ? [buildMaster(state, draft, global)] : [],
  );
  const access = state.access.build();
  if (state.issues.length > 0) throw new ConfigError(state.issues);
  return Object.freeze({
    config: Object.freeze({ global, masters: Object.freeze(masters), ...(access ? { access } : {}) }),
    ignored: Object.freeze(state.ignored.map((entry) => Object.freeze(entry))),
  });
}

// ---------------------------------------------------------------------------------------------------------
// Lines and directives.

function* readLines(text: string, state: ParseState): Generator<ConfigLine> {
  // A byte-order mark is invisible in editors; treating it as part of the first directive would be a trap.
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  for (const [index, raw] of lines.entries()) {
    const line = index + 1;
    const trimmed = trimLine(raw);
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const split = splitConfigLine(trimmed);
    if (!split.ok) {
      state.reject(line, split.reason);
      continue;
    }
    const [first, ...rest] = split.args;
    if (first === undefined) continue;
    const name = first.toLowerCase();
    if (name !== SENTINEL) {
      yield { line, directive: name, sentinelOption: undefined, args: rest };
      continue;
    }
    const [option, ...args] = rest;
    if (option === undefined) {
      state.reject(line, `wrong number of arguments for '${SENTINEL}': expected <option> <arguments…>`);
      continue;
    }
    const sentinelOption = option.toLowerCase();
    yield { line, directive: `${SENTINEL} ${sentinelOption}`, sentinelOption, args };
  }
}

/** A loop, not a regex: `\s+$` backtracks quadratically over a long run of inner spaces. */
function trimLine(raw: string): string {
  let start = 0;
  let end = raw.length;
  while (start < end && LINE_EDGE_SPACE.has(raw[start] as string)) start++;
  while (end > start && LINE_EDGE_SPACE.has(raw[end - 1] as string)) end--;
  return raw.slice(start, end);
}

function dispatch(state: ParseState, entry: ConfigLine): void {
  const { line, directive, sentinelOption: option } = entry;
  if (option === undefined) {
    if (ACCESS_DIRECTIVES.has(directive)) state.access.apply(line, directive, entry.args);
    else if (IGNORED_DIRECTIVES.has(directive)) state.ignore(line, directive);
    else if (TLS_FLAG_OPTIONS.has(directive) || TLS_FILE_OPTIONS.has(directive)) applyTlsLine(state, entry);
    else state.reject(line, unknownDirective(directive));
    return;
  }
  if (IGNORED_SENTINEL_OPTIONS.has(option)) {
    state.ignore(line, directive);
    return;
  }
  const refusal = REJECTED_SENTINEL_OPTIONS.get(option);
  if (refusal !== undefined) {
    state.reject(line, `'${directive}' is ${refusal}`);
    return;
  }
  if (option === MONITOR) {
    applyMonitorLine(state, entry);
    return;
  }
  if (option === MEMBERS) {
    applyMembersLine(state, entry);
    return;
  }
  const globalNumber = GLOBAL_NUMBER_OPTIONS.get(option);
  if (globalNumber !== undefined) {
    applyGlobalNumberLine(state, entry, option, globalNumber);
    return;
  }
  if (isPerMasterOption(option)) {
    state.perMasterLines.push(entry);
    return;
  }
  state.reject(line, unknownDirective(directive));
}

function isPerMasterOption(option: string): boolean {
  return (
    MASTER_NUMBER_OPTIONS.has(option) ||
    option === AUTH_PASS ||
    option === AUTH_USER ||
    option === RENAME_COMMAND
  );
}

function unknownDirective(directive: string): string {
  const words = directive.split(' ');
  if (!words.every((word) => DIRECTIVE_LIKE.test(word))) {
    return 'unknown directive (not shown: it does not look like a directive name; is a line broken?)';
  }
  return `unknown directive '${directive}'`;
}

function wrongArity(directive: string, usage: string): string {
  return `wrong number of arguments for '${directive}': expected ${usage}`;
}

// ---------------------------------------------------------------------------------------------------------
// Global lines.

function applyMonitorLine(state: ParseState, { line, directive, args }: ConfigLine): void {
  if (args.length !== MONITOR_ARITY) {
    state.reject(line, wrongArity(directive, '<name> <host> <port> <quorum>'));
    // Remember the name, so the master's other lines are not also reported as naming an unknown master.
    const [name] = args;
    if (name !== undefined && !state.masters.has(name)) {
      state.masters.set(name, placeholderMaster(name, line));
    }
    return;
  }
  const [name, host, portText, quorumText] = args as [string, string, string, string];
  const issuesBefore = state.issues.length;
  const nameProblem = masterNameProblem(name);
  if (nameProblem !== null) {
    state.reject(line, `Invalid master name '${show(name)}' for '${directive}': ${nameProblem}`);
  }
  if (!isHostOrAddress(host)) {
    state.reject(
      line,
      `Invalid host '${show(host)}' for '${directive}': expected an IP address or a host name`,
    );
  }
  const port = parseDecimal(portText);
  if (port === undefined || port < 1 || port > MAX_PORT) {
    state.reject(
      line,
      `Invalid port '${show(portText)}' for '${directive}': expected an integer from 1 to ${MAX_PORT}`,
    );
  }
  const quorum = parseDecimal(quorumText);
  if (quorum === undefined || quorum < 1) {
    state.reject(line, `Invalid quorum '${show(quorumText)}' for '${directive}': ${expectedInteger(1)}`);
  }
  const first = state.masters.get(name);
  if (first !== undefined) {
    state.reject(
      line,
      `Duplicate master name '${show(name)}' (first monitored on line ${first.monitorLine})`,
    );
    return;
  }
  const valid = state.issues.length === issuesBefore && port !== undefined && quorum !== undefined;
  state.masters.set(
    name,
    valid
      ? { ...placeholderMaster(name, line), monitorValid: true, host, port, quorum }
      : placeholderMaster(name, line),
  );
}

function placeholderMaster(name: string, monitorLine: number): MasterDraft {
  return {
    name,
    monitorLine,
    monitorValid: false,
    host: '',
    port: 0,
    quorum: 0,
    numbers: {},
    invalid: new Set(),
    renames: new Map(),
  };
}

function applyMembersLine(state: ParseState, { line, directive, args }: ConfigLine): void {
  const { global } = state;
  if (global.members !== undefined) {
    state.reject(line, alreadySet(`'${directive}'`, global.members.line));
    return;
  }
  if (args.length === 0) {
    global.membersInvalid = true;
    state.reject(line, wrongArity(directive, '<sentinel-id> [<sentinel-id> …]'));
    return;
  }
  const seen = new Set<string>();
  const issuesBefore = state.issues.length;
  for (const id of args) {
    if (!SENTINEL_ID.test(id)) {
      state.reject(
        line,
        `Invalid sentinel id '${show(id)}' for '${directive}': expected 1 to 40 of a-z 0-9 -`,
      );
    } else if (seen.has(id)) {
      state.reject(line, `sentinel id '${id}' is listed more than once in '${directive}'`);
    }
    seen.add(id);
  }
  if (state.issues.length > issuesBefore) {
    global.membersInvalid = true;
    return;
  }
  global.members = { value: Object.freeze([...args]), line };
}

function applyGlobalNumberLine(
  state: ParseState,
  { line, directive, args }: ConfigLine,
  option: string,
  spec: NumberOption<GlobalNumberField>,
): void {
  const { global } = state;
  if (args.length !== 1) {
    state.reject(line, wrongArity(directive, spec.unit));
    return;
  }
  const previous = global.numbers[spec.field];
  if (previous !== undefined) {
    state.reject(line, alreadySet(`'${directive}'`, previous.line));
    return;
  }
  const [text] = args as [string];
  const read = readLimitedInteger(text, spec.field);
  if (!read.ok) {
    global.invalid.add(spec.field);
    state.reject(line, invalidArgument(text, option, spec.field, read));
    return;
  }
  global.numbers[spec.field] = { value: read.value, line };
}

function applyTlsLine(state: ParseState, { line, directive, args }: ConfigLine): void {
  const flag = TLS_FLAG_OPTIONS.get(directive);
  const file = TLS_FILE_OPTIONS.get(directive);
  const { tlsFlags, tlsFiles } = state.global;
  const previous = flag !== undefined ? tlsFlags[flag] : file !== undefined ? tlsFiles[file] : undefined;
  if (args.length !== 1) {
    state.reject(line, wrongArity(directive, flag !== undefined ? 'yes|no' : '<path>'));
    return;
  }
  if (previous !== undefined) {
    state.reject(line, alreadySet(`'${directive}'`, previous.line));
    return;
  }
  const [text] = args as [string];
  if (flag !== undefined) {
    const value = parseYesNo(text);
    if (value === undefined) {
      state.reject(line, `Invalid argument '${show(text)}' for '${directive}': expected yes or no`);
      return;
    }
    tlsFlags[flag] = { value, line };
  } else if (file !== undefined) {
    if (text === '') {
      state.reject(line, `Invalid argument '' for '${directive}': expected a file path`);
      return;
    }
    tlsFiles[file] = { value: text, line };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Per-master lines (run after every monitor line).

function applyPerMasterLine(state: ParseState, entry: ConfigLine): void {
  const { line, directive, args } = entry;
  const option = entry.sentinelOption ?? '';
  // An auth-pass line echoes none of its arguments: a password typed in the wrong place would leak.
  const hidden = option === AUTH_PASS ? ` (${AUTH_PASS_HIDDEN})` : '';
  const usage = perMasterUsage(option);
  if (args.length !== usage.arity) {
    state.reject(line, `${wrongArity(directive, usage.text)}${hidden}`);
    return;
  }
  const [name, ...values] = args as [string, ...string[]];
  const draft = state.masters.get(name);
  if (draft === undefined) {
    const which = hidden === '' ? `master '${show(name)}'` : 'the master named on this line';
    state.reject(line, `${which} is not monitored (no '${SENTINEL} ${MONITOR}' line for it)${hidden}`);
    return;
  }
  const numberOption = MASTER_NUMBER_OPTIONS.get(option);
  if (numberOption !== undefined) {
    applyMasterNumber(state, entry, draft, option, numberOption, values);
    return;
  }
  if (option === RENAME_COMMAND) {
    applyRename(state, entry, draft, values);
    return;
  }
  const [value] = values as [string];
  const slot = option === AUTH_PASS ? 'authPass' : 'authUser';
  const previous = draft[slot];
  if (previous !== undefined) {
    const what =
      hidden === '' ? `'${directive}' for master '${show(draft.name)}'` : `'${directive}' for this master`;
    state.reject(line, `${alreadySet(what, previous.line)}${hidden}`);
    return;
  }
  draft[slot] = { value, line };
}

function perMasterUsage(option: string): { readonly arity: number; readonly text: string } {
  if (option === RENAME_COMMAND) return { arity: 3, text: '<name> <command> <renamed-command>' };
  if (option === AUTH_PASS)
    return { arity: 2, text: '<name> <password>; quote a password that contains spaces' };
  if (option === AUTH_USER) return { arity: 2, text: '<name> <user>' };
  return { arity: 2, text: `<name> ${MASTER_NUMBER_OPTIONS.get(option)?.unit ?? '<value>'}` };
}

function applyMasterNumber(
  state: ParseState,
  { line, directive }: ConfigLine,
  draft: MasterDraft,
  option: string,
  spec: NumberOption<MasterNumberField>,
  [text]: readonly string[],
): void {
  const previous = draft.numbers[spec.field];
  if (previous !== undefined) {
    state.reject(line, alreadySet(`'${directive}' for master '${show(draft.name)}'`, previous.line));
    return;
  }
  const read = readLimitedInteger(text ?? '', spec.field);
  if (!read.ok) {
    draft.invalid.add(spec.field);
    state.reject(line, invalidArgument(text ?? '', option, spec.field, read));
    return;
  }
  draft.numbers[spec.field] = { value: read.value, line };
}

function applyRename(
  state: ParseState,
  { line, directive }: ConfigLine,
  draft: MasterDraft,
  values: readonly string[],
): void {
  const [command = '', renamed = ''] = values;
  if (command === '' || renamed === '') {
    state.reject(line, `'${directive}' needs a non-empty command and a non-empty new name`);
    return;
  }
  const refused = renameProblem(command, renamed);
  if (refused !== null) {
    // The command is named (escaped, cut) when it is the wrong side; the new name never is.
    const which = refused.side === 'command' ? 'a command' : `command '${show(command.toLowerCase())}'`;
    state.reject(
      line,
      `'${directive}' cannot rename ${which} of master '${show(draft.name)}': ${refused.problem}`,
    );
    return;
  }
  const key = command.toLowerCase();
  const previous = draft.renames.get(key);
  if (previous !== undefined) {
    // The new names are not shown: renaming is sometimes used to hide commands.
    state.reject(
      line,
      `command '${show(key)}' of master '${show(draft.name)}' is already renamed on line ${previous.line}`,
    );
    return;
  }
  draft.renames.set(key, { value: renamed, line });
}

// ---------------------------------------------------------------------------------------------------------
// Building the result, and the relations between settings.

/** A relation `smaller < larger` (or `<=`) that must hold for the system to work at all. */
interface Relation<Field extends string> {
  readonly smaller: Field;
  readonly larger: Field;
  readonly allowEqual: boolean;
  readonly why: string;
}

const MASTER_RELATIONS: readonly Relation<MasterNumberField>[] = [
  {
    smaller: 'probeTimeoutMs',
    larger: 'downAfterMs',
    allowEqual: false,
    why: 'a probe must give up before the master is declared down',
  },
  {
    smaller: 'probePeriodMs',
    larger: 'downAfterMs',
    allowEqual: true,
    why: 'at least one probe must run within the down-after period',
  },
  {
    smaller: 'voteRefreshMs',
    larger: 'voteMaxAgeMs',
    allowEqual: false,
    why: 'a down-vote would expire before it is refreshed',
  },
];

const GLOBAL_RELATIONS: readonly Relation<GlobalNumberField>[] = [
  {
    smaller: 'heartbeatPeriodMs',
    larger: 'loopLeaseMs',
    allowEqual: false,
    why: 'the loop lease would expire before it is renewed',
  },
];

function buildGlobal(state: ParseState): GlobalSettings {
  const { global } = state;
  const numbers = resolveNumbers(global.numbers, {
    tiltTriggerMs: SENTINEL_DEFAULTS.tiltTriggerMs,
    tiltPeriodMs: SENTINEL_DEFAULTS.tiltPeriodMs,
    loopLeaseMs: SENTINEL_DEFAULTS.loopLeaseMs,
    heartbeatPeriodMs: SENTINEL_DEFAULTS.heartbeatPeriodMs,
  });
  checkRelations(state, GLOBAL_RELATIONS, GLOBAL_NUMBER_OPTIONS, global.numbers, global.invalid, numbers, 0);
  return Object.freeze({
    sentinelIds: global.members?.value ?? Object.freeze([...SENTINEL_DEFAULTS.sentinelIds]),
    ...numbers,
    tls: buildTls(state),
  });
}

function buildTls(state: ParseState): TlsSettings {
  const { tlsFlags, tlsFiles } = state.global;
  const enabled = tlsFlags.enabled?.value ?? false;
  const enabledBy = `'${optionNameOf(TLS_FLAG_OPTIONS, (field) => field === 'enabled')} yes'`;
  if (!enabled) {
    // Reject rather than ignore: someone who names certificate files expects the connections to use them.
    const tlsOnly = [
      ...[...TLS_FILE_OPTIONS].map(([name, field]) => [name, tlsFiles[field]] as const),
      ...[...TLS_FLAG_OPTIONS].map(
        ([name, field]) => [name, field === 'enabled' ? undefined : tlsFlags[field]] as const,
      ),
    ];
    for (const [name, setting] of tlsOnly) {
      if (setting !== undefined) state.reject(setting.line, `'${name}' has no effect without ${enabledBy}`);
    }
  }
  const { certFile, keyFile } = tlsFiles;
  const certName = optionNameOf(TLS_FILE_OPTIONS, (field) => field === 'certFile');
  const keyName = optionNameOf(TLS_FILE_OPTIONS, (field) => field === 'keyFile');
  if (certFile !== undefined && keyFile === undefined) {
    state.reject(
      certFile.line,
      `'${certName}' needs '${keyName}' too: a client certificate is useless without its key`,
    );
  }
  if (keyFile !== undefined && certFile === undefined) {
    state.reject(
      keyFile.line,
      `'${keyName}' needs '${certName}' too: a key is useless without its certificate`,
    );
  }
  return Object.freeze({
    enabled,
    rejectUnauthorized: tlsFlags.rejectUnauthorized?.value ?? true,
    ...(tlsFiles.caCertFile !== undefined ? { caCertFile: tlsFiles.caCertFile.value } : {}),
    ...(certFile !== undefined ? { certFile: certFile.value } : {}),
    ...(keyFile !== undefined ? { keyFile: keyFile.value } : {}),
  });
}

/** The configuration name of an option, looked up from its table so names are written once. */
function optionNameOf<Value>(
  options: ReadonlyMap<string, Value>,
  matches: (value: Value) => boolean,
): string {
  for (const [name, value] of options) if (matches(value)) return name;
  throw new Error('option table is missing an entry');
}

function masterDefaults(downAfterMs: number): Record<MasterNumberField, number> {
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

function buildMaster(state: ParseState, draft: MasterDraft, global: GlobalSettings): MasterSettings {
  const downAfterMs = draft.numbers.downAfterMs?.value ?? SENTINEL_DEFAULTS.downAfterMs;
  const numbers = resolveNumbers(draft.numbers, masterDefaults(downAfterMs));
  const members = global.sentinelIds.length;
  if (!state.global.membersInvalid && draft.quorum > members) {
    const source =
      state.global.members !== undefined
        ? ` (see '${SENTINEL} ${MEMBERS}' on line ${state.global.members.line})`
        : '';
    const sentinels = `${members} configured sentinel${members === 1 ? '' : 's'}`;
    state.reject(draft.monitorLine, `quorum ${draft.quorum} is larger than the ${sentinels}${source}`);
  }
  if (numbers.probeTimeoutMs < 1) {
    // Only the derived default can be 0 (down-after 1): no explicit probe-timeout could fit below it either.
    state.reject(
      draft.numbers.downAfterMs?.line ?? draft.monitorLine,
      `${optionNameOf(MASTER_NUMBER_OPTIONS, (option) => option.field === 'downAfterMs')} ${downAfterMs} ` +
        'is too short: probes need a timeout of at least 1 ms below it',
    );
  } else {
    checkRelations(
      state,
      MASTER_RELATIONS,
      MASTER_NUMBER_OPTIONS,
      draft.numbers,
      draft.invalid,
      numbers,
      draft.monitorLine,
    );
    checkLeaderFence(state, draft, numbers);
  }
  const renamedCommands = Object.freeze(
    Object.fromEntries([...draft.renames].map(([command, renamed]) => [command, renamed.value])),
  );
  return Object.freeze({
    name: draft.name,
    host: draft.host,
    port: draft.port,
    quorum: draft.quorum,
    ...numbers,
    // Sentinel treats an empty user or password as "not set".
    ...(draft.authUser !== undefined && draft.authUser.value !== ''
      ? { authUser: draft.authUser.value }
      : {}),
    ...(draft.authPass !== undefined && draft.authPass.value !== ''
      ? { authPass: draft.authPass.value }
      : {}),
    renamedCommands,
  });
}

/**
 * leader-lease against probe-timeout (lib/core/fence.ts): a failover's command to Redis must end before
 * the leader's lease does. Reported on the probe-timeout line if it was given, else on the leader-lease
 * line, else on the monitor line; skipped when either value is already reported as bad.
 */
function checkLeaderFence(
  state: ParseState,
  draft: MasterDraft,
  numbers: Record<MasterNumberField, number>,
): void {
  const involved: readonly MasterNumberField[] = ['probeTimeoutMs', 'leaderLeaseMs', 'downAfterMs'];
  if (involved.some((field) => draft.invalid.has(field))) return;
  // A probe-timeout not below down-after is reported already; one problem per setting is enough.
  if (numbers.probeTimeoutMs >= numbers.downAfterMs) return;
  const describe = (field: MasterNumberField): string => {
    const name = optionNameOf(MASTER_NUMBER_OPTIONS, (option) => option.field === field);
    return `${name} ${numbers[field]}${draft.numbers[field] === undefined ? ' (default)' : ''}`;
  };
  const problem = leaderFenceProblem(numbers, {
    probeTimeout: describe('probeTimeoutMs'),
    leaderLease: describe('leaderLeaseMs'),
  });
  if (problem === null) return;
  const line = draft.numbers.probeTimeoutMs?.line ?? draft.numbers.leaderLeaseMs?.line ?? draft.monitorLine;
  state.reject(line, problem);
}

function resolveNumbers<Field extends string>(
  explicit: Partial<Record<Field, Setting<number>>>,
  defaults: Record<Field, number>,
): Record<Field, number> {
  const resolved = { ...defaults };
  for (const field of Object.keys(defaults) as Field[]) {
    const setting = explicit[field];
    if (setting !== undefined) resolved[field] = setting.value;
  }
  return resolved;
}

/**
 * Reports each broken relation once, on the line to edit: the smaller setting's line if it was given,
 * else the larger one's, else `fallbackLine` (the monitor line, or 0 for global settings).
 */
function checkRelations<Field extends LimitedSetting>(
  state: ParseState,
  relations: readonly Relation<Field>[],
  options: ReadonlyMap<string, NumberOption<Field>>,
  explicit: Partial<Record<Field, Setting<number>>>,
  invalid: ReadonlySet<Field>,
  resolved: Record<Field, number>,
  fallbackLine: number,
): void {
  const describe = (field: Field): string => {
    const name = optionNameOf(options, (option) => option.field === field);
    return `${name} ${resolved[field]}${explicit[field] === undefined ? ' (default)' : ''}`;
  };
  for (const relation of relations) {
    if (invalid.has(relation.smaller) || invalid.has(relation.larger)) continue;
    const smaller = resolved[relation.smaller];
    const larger = resolved[relation.larger];
    const holds = relation.allowEqual ? smaller <= larger : smaller < larger;
    if (holds) continue;
    const line = explicit[relation.smaller]?.line ?? explicit[relation.larger]?.line ?? fallbackLine;
    const comparison = relation.allowEqual ? 'must not be longer than' : 'must be shorter than';
    state.reject(
      line,
      `${describe(relation.smaller)} ${comparison} ${describe(relation.larger)}: ${relation.why}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------
// Values.

/** Plain decimal digits only: `1e3`, `-5`, `0x10` and `10ms` are mistakes, not numbers. */
function parseDecimal(text: string): number | undefined {
  if (!DECIMAL.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

function parseYesNo(text: string): boolean | undefined {
  const word = text.toLowerCase();
  if (word === 'yes') return true;
  if (word === 'no') return false;
  return undefined;
}

function isHostOrAddress(host: string): boolean {
  if (isIP(host) !== 0) return true;
  // 10.0.0.300 is a mistyped address, not a host name.
  if (DOTTED_DIGITS.test(host)) return false;
  return HOST_NAME.test(host);
}

function invalidArgument(
  text: string,
  option: string,
  field: LimitedSetting,
  read: Exclude<LimitedInteger, { ok: true }>,
): string {
  const reason =
    read.problem === 'too-large'
      ? tooLargeReason(read.maximum)
      : expectedInteger(SETTING_LIMITS[field].minimum);
  return `Invalid argument '${show(text)}' for '${option}': ${reason}`;
}

function expectedInteger(minimum: 0 | 1): string {
  return minimum === 0 ? 'expected a decimal integer >= 0' : 'expected a decimal integer > 0';
}

function alreadySet(subject: string, firstLine: number): string {
  return `${subject} is already set on line ${firstLine}`;
}

/** A value as shown in a reason: control characters escaped, long values cut. */
function show(value: string): string {
  const printable = Array.from(value, (char) => {
    const code = char.charCodeAt(0);
    return code < FIRST_PRINTABLE || code === DELETE ? `\\x${code.toString(16).padStart(2, '0')}` : char;
  }).join('');
  return printable.length > MAX_SHOWN_VALUE ? `${printable.slice(0, MAX_SHOWN_VALUE)}…` : printable;
}
