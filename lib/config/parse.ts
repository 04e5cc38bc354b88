/**
 * The `sentinel.conf` parser. Full reference with examples: docs/configuration.md.
 *
 * Syntax is Redis's: one directive per line, `#` starts a comment line, arguments split on whitespace,
 * `"…"` and `'…'` quoting with Redis escapes (lib/config/splitArgs.ts). Directive names are
 * case-insensitive, as in Redis.
 *
 * Sentinel's per-master lines (defaults are Sentinel's; every default lives in SENTINEL_DEFAULTS):
 *   sentinel monitor <name> <host> <port> <quorum>          name: A-Z a-z 0-9 . - _; quorum >= 1 (above
 *                                                           the number of sentinels: no automatic failover)
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
 *                                         ids [a-z0-9-]{1,40}
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
 * Accepted and ignored (reported back with file, line and why, so the runners can warn): the redis.conf
 * lines that configure the server process (its listener is set on the command line here), a TLS listener
 * the endpoint does not have, and Sentinel's persisted state (`sentinel myid|current-epoch|…`), listed
 * with their reasons in IGNORED_DIRECTIVES and IGNORED_SENTINEL_OPTIONS (lib/config/directives.ts).
 * Refused with the reason, where ignoring would mislead (REJECTED_DIRECTIVES): `tls-port` and the TLS
 * settings not applied here, `aclfile`, `acl-pubsub-default`, `rename-command`, `include`, `masterauth`,
 * `masteruser`.
 *
 * Sentinel's global switches, read wherever they are in the file: `sentinel resolve-hostnames yes|no`
 * (no: a monitor line with a host name is refused with Sentinel's "Can't resolve instance hostname."),
 * `sentinel announce-hostnames yes|no` (no) and `sentinel deny-scripts-reconfig yes|no` (yes).
 *
 * Kept for SENTINEL CONFIG GET (lib/core/globalParams.ts): `sentinel announce-ip <ip>`, `sentinel
 * announce-port <0-65535>`, `sentinel sentinel-user <user>`, `sentinel sentinel-pass <password>` (never
 * shown: not in a reason, not in CONFIG GET) and `loglevel debug|verbose|notice|warning|nothing`.
 *
 * Every number also has an upper bound, the same as SENTINEL SET's (SETTING_LIMITS in lib/core/constants.ts,
 * listed in docs/configuration.md), and leader-lease must be at least 2 × (probe-timeout + 500) so that a
 * failover's command to Redis ends before the leader's lease does (lib/core/fence.ts).
 *
 * `sentinel notification-script <name> <path>` and `sentinel client-reconfig-script <name> <path>` are read
 * for the local runner, which runs them (lib/local/scripts.ts); a deployment refuses them
 * (lib/runtime/lambdaConfig.ts).
 *
 * Rejected: any other directive, a setting given twice, and settings whose relations cannot work (they are reported,
 * never adjusted). Every problem in the file is reported in one ConfigError. auth-pass values never
 * appear in a reason; neither do renamed command names, which some deployments treat as secrets.
 */
import { readFile } from 'node:fs/promises';
import type { SentinelConfig } from '../core/types.js';
import { ACCESS_DIRECTIVES } from './access.js';
import { buildGlobal, buildMaster } from './build.js';
import {
  GLOBAL_FLAG_OPTIONS,
  GLOBAL_NUMBER_OPTIONS,
  GLOBAL_PARAM_OPTIONS,
  IGNORED_DIRECTIVES,
  IGNORED_SENTINEL_OPTIONS,
  isPerMasterOption,
  LOGLEVEL,
  MEMBERS,
  MONITOR,
  REJECTED_DIRECTIVES,
  REJECTED_SENTINEL_OPTIONS,
  SENTINEL,
  TLS_FILE_OPTIONS,
  TLS_FLAG_OPTIONS,
} from './directives.js';
import {
  applyGlobalFlagLine,
  applyGlobalNumberLine,
  applyGlobalParamLine,
  applyMembersLine,
  applyMonitorLine,
  applyPerMasterLine,
  applyTlsLine,
} from './lines.js';
import { splitConfigLine } from './splitArgs.js';
import { ConfigError, type ConfigLine, type IgnoredLine, ParseState } from './state.js';
import { unknownDirective } from './values.js';

export { ConfigError, type ConfigIssue, type IgnoredLine } from './state.js';

export interface ParsedSentinelConfig {
  readonly config: SentinelConfig;
  readonly ignored: readonly IgnoredLine[];
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

/**
 * What is stripped around a line: ASCII whitespace only, as Redis's sdstrim(" \t\r\n") (plus \v and \f,
 * which separate arguments anyway). String.prototype.trim would also eat Unicode spaces such as U+00A0,
 * silently cutting them off an unquoted password at the end of its line.
 */
const LINE_EDGE_SPACE: ReadonlySet<string> = new Set([' ', '\t', '\r', '\n', '\v', '\f']);

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
    else if (directive === LOGLEVEL) applyGlobalParamLine(state, entry, 'loglevel');
    else if (TLS_FLAG_OPTIONS.has(directive) || TLS_FILE_OPTIONS.has(directive)) applyTlsLine(state, entry);
    else {
      const ignored = IGNORED_DIRECTIVES.get(directive);
      const refused = REJECTED_DIRECTIVES.get(directive);
      if (ignored !== undefined) state.ignore(line, directive, ignored);
      else if (refused !== undefined) state.reject(line, `'${directive}' is refused: ${refused}`);
      else state.reject(line, unknownDirective(directive));
    }
    return;
  }
  const ignoredOption = IGNORED_SENTINEL_OPTIONS.get(option);
  if (ignoredOption !== undefined) {
    state.ignore(line, directive, ignoredOption);
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
  const globalParam = GLOBAL_PARAM_OPTIONS.get(option);
  if (globalParam !== undefined) {
    applyGlobalParamLine(state, entry, globalParam);
    return;
  }
  const globalFlag = GLOBAL_FLAG_OPTIONS.get(option);
  if (globalFlag !== undefined) {
    applyGlobalFlagLine(state, entry, globalFlag);
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
