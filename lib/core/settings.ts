/**
 * Run-time configuration: SENTINEL SET and SENTINEL MONITOR, validated here (pure) and applied over the
 * configured settings by every sentinel. Sentinel's texts for errors, with one
 * difference documented in docs/http-api.md: SET is all-or-nothing (every pair is validated before any is
 * applied, like SENTINEL CONFIG SET), where Sentinel keeps the options applied before a bad one. Where
 * this project refuses more than Sentinel does (upper bounds, unsafe renames, the leader fence), the
 * reason follows Sentinel's text after a colon.
 */
import { MAX_PORT, SENTINEL_DEFAULTS } from './constants.js';
import { leaderFenceProblem } from './fence.js';
import { readLimitedInteger, tooLargeReason } from './limits.js';
import { masterNameProblem, renameProblem } from './names.js';
import { isRedisCommandName } from './redisCommands.js';
import {
  credentialsNotSettable,
  invalidMasterName,
  invalidSetArgument,
  SENTINEL_REPLY,
  scriptsNotRun,
  unknownSetOption,
} from './sentinelReplies.js';
import type { MasterSettings, RuntimeSettings } from './types.js';

/**
 * One SET option: which field it changes. Its range is SETTING_LIMITS[field], as in the file; quorum's is
 * any integer from 1, as in Sentinel: a quorum above the number of sentinels is never reached, so no
 * automatic failover starts (SENTINEL FAILOVER still works).
 */
interface NumberOption {
  readonly field: Exclude<keyof RuntimeSettings, 'renamedCommands'>;
}

/** SENTINEL SET's numeric options, by the name users type. */
export const SET_NUMBER_OPTIONS: ReadonlyMap<string, NumberOption> = new Map([
  ['quorum', { field: 'quorum' }],
  ['down-after-milliseconds', { field: 'downAfterMs' }],
  ['failover-timeout', { field: 'failoverTimeoutMs' }],
  ['parallel-syncs', { field: 'parallelSyncs' }],
  ['master-reboot-down-after-period', { field: 'masterRebootDownAfterPeriodMs' }],
]);

export const RENAME_COMMAND = 'rename-command';

export const AUTH_PASS_OPTION = 'auth-pass';
export const AUTH_USER_OPTION = 'auth-user';

export const NOTIFICATION_SCRIPT = 'notification-script';
export const CLIENT_RECONFIG_SCRIPT = 'client-reconfig-script';

/** Sentinel's script options: paths of programs Sentinel runs on events. */
export const SCRIPT_OPTIONS: ReadonlySet<string> = new Set([NOTIFICATION_SCRIPT, CLIENT_RECONFIG_SCRIPT]);

/**
 * What the host of this SET can do beyond the table: whether it holds Redis credentials it may change at
 * run time (the local runner does; deployed, they are in SSM and every function reads them at start),
 * and Sentinel's `deny-scripts-reconfig`.
 */
export interface SetPolicy {
  readonly runtimeCredentials: boolean;
  /** Whether this host runs scripts (the local runner does; the deployment does not). */
  readonly runtimeScripts: boolean;
  readonly denyScriptsReconfig: boolean;
}

/** Script paths a SET changes (the local runner's, never stored): an empty value removes one. */
export interface ScriptChange {
  readonly notificationScript?: string;
  readonly clientReconfigScript?: string;
}

/**
 * Credentials a SET changes, kept out of the table and out of every event and log: an empty value
 * clears one, as in Sentinel.
 */
export interface CredentialChange {
  readonly authPass?: string;
  readonly authUser?: string;
}

const DECIMAL = /^\d{1,15}$/;

export type Validated<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: string };

/**
 * Sentinel refuses an empty name with its generic text; this project also refuses names that are not
 * command names and renames to another command's name. The new name is quoted back only when it is a
 * Redis command's (public) name: renamed names are secrets in some deployments.
 */
function renameError(from: string, to: string): string | null {
  if (from === '' || to === '') return invalidSetArgument('', RENAME_COMMAND);
  const refused = renameProblem(from, to);
  if (refused === null) return null;
  const quoted = refused.side === 'renamed' && isRedisCommandName(to) ? to : null;
  return invalidSetArgument(quoted, RENAME_COMMAND, refused.problem);
}

/** The stored renames that are safe; an unsafe one was never in force and is dropped. */
function safeRenames(renames: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(renames).filter(([command, renamed]) => renameProblem(command, renamed) === null),
  );
}

/**
 * The commands whose stored rename is refused (the table was written by hand, or by an older version):
 * the sentinels send these commands under their configured names instead, and say so once. Only the
 * command names are returned, never the new names.
 */
export function refusedRuntimeRenames(runtime: RuntimeSettings): string[] {
  return Object.entries(runtime.renamedCommands ?? {})
    .filter(([command, renamed]) => renameProblem(command, renamed) !== null)
    .map(([command]) => (renameProblem(command, command) === null ? command : '(not a command name)'));
}

/** What one accepted SET changes: the option as typed and its values, for the `+set` event. */
export interface SetChange {
  readonly option: string;
  readonly values: readonly string[];
}

/**
 * Validates SENTINEL SET's arguments (each entry: option then its value(s)) against the settings in
 * force, all of them before any is applied. Returns the merged runtime settings.
 */
export function applySetArgs(
  args: ReadonlyArray<readonly string[]>,
  current: RuntimeSettings,
  effective: MasterSettings,
  policy: SetPolicy,
): Validated<{
  settings: RuntimeSettings;
  changes: SetChange[];
  credentials: CredentialChange | null;
  scripts: ScriptChange | null;
}> {
  if (args.length === 0) return { ok: false, error: SENTINEL_REPLY.setArity };
  const next: { -readonly [K in keyof RuntimeSettings]: RuntimeSettings[K] } = { ...current };
  // A stored rename that is refused was never in force (withRuntimeSettings drops it): any SET clears it.
  const renames = safeRenames(current.renamedCommands ?? {});
  const changes: SetChange[] = [];
  let credentials: { authPass?: string; authUser?: string } | null = null;
  let scripts: { notificationScript?: string; clientReconfigScript?: string } | null = null;
  for (const entry of args) {
    const [rawOption, ...values] = entry;
    if (rawOption === undefined) return { ok: false, error: SENTINEL_REPLY.emptySetArgument };
    const option = rawOption.toLowerCase();
    if (SCRIPT_OPTIONS.has(option) && values.length === 1) {
      // Sentinel's refusal first: with deny-scripts-reconfig (the default) it refuses any script path.
      if (policy.denyScriptsReconfig) return { ok: false, error: SENTINEL_REPLY.scriptsReconfigDenied };
      if (!policy.runtimeScripts) return { ok: false, error: scriptsNotRun(option) };
      const field = option === NOTIFICATION_SCRIPT ? 'notificationScript' : 'clientReconfigScript';
      scripts = { ...(scripts ?? {}), [field]: values[0] };
      continue;
    }
    if ((option === AUTH_PASS_OPTION || option === AUTH_USER_OPTION) && values.length === 1) {
      if (!policy.runtimeCredentials) return { ok: false, error: credentialsNotSettable(option) };
      // The value itself is never quoted back, in any reply: it is a credential.
      credentials = {
        ...(credentials ?? {}),
        [option === AUTH_PASS_OPTION ? 'authPass' : 'authUser']: values[0],
      };
      continue;
    }
    if (option === RENAME_COMMAND) {
      const [from, to] = values;
      if (values.length !== 2 || from === undefined || to === undefined)
        return { ok: false, error: unknownSetOption(rawOption) };
      const error = renameError(from, to);
      if (error !== null) return { ok: false, error };
      const command = from.toLowerCase();
      // Renaming a command to its own name undoes the rename, as Sentinel does.
      if (to.toLowerCase() === command) delete renames[command];
      else renames[command] = to;
      changes.push({ option: RENAME_COMMAND, values: [from, to] });
      continue;
    }
    const [value] = values;
    if (values.length !== 1 || value === undefined) return { ok: false, error: unknownSetOption(rawOption) };
    const numeric = SET_NUMBER_OPTIONS.get(option);
    if (numeric === undefined) return { ok: false, error: unknownSetOption(rawOption) };
    if (numeric.field === 'quorum') {
      const parsed = DECIMAL.test(value) ? Number(value) : Number.NaN;
      if (!Number.isSafeInteger(parsed) || parsed < 1)
        return { ok: false, error: invalidSetArgument(value, option) };
      next.quorum = parsed;
      changes.push({ option, values: [String(parsed)] });
      continue;
    }
    const read = readLimitedInteger(value, numeric.field);
    if (!read.ok)
      return {
        ok: false,
        error:
          read.problem === 'too-large'
            ? invalidSetArgument(value, option, tooLargeReason(read.maximum))
            : invalidSetArgument(value, option),
      };
    next[numeric.field] = read.value;
    changes.push({ option, values: [String(read.value)] });
  }
  const settings: RuntimeSettings = {
    ...next,
    ...(Object.keys(renames).length > 0 || current.renamedCommands !== undefined
      ? { renamedCommands: renames }
      : {}),
  };
  const resulting = withRuntimeSettings(effective, settings);
  if (resulting.probeTimeoutMs < 1 || resulting.probeTimeoutMs >= resulting.downAfterMs)
    return {
      ok: false,
      error: invalidSetArgument(
        String(resulting.downAfterMs),
        'down-after-milliseconds',
        'too short for a probe timeout below it',
      ),
    };
  // down-after only ever lowers the probe timeout, so with a configuration that loads this holds; it is
  // checked anyway, on the settings the sentinels would run with, should the base ever allow otherwise.
  if (resulting.downAfterMs !== effective.downAfterMs) {
    const fence = leaderFenceProblem(resulting, {
      probeTimeout: `probe-timeout ${resulting.probeTimeoutMs}`,
      leaderLease: `leader-lease ${resulting.leaderLeaseMs}`,
    });
    if (fence !== null)
      return {
        ok: false,
        error: invalidSetArgument(
          String(resulting.downAfterMs),
          'down-after-milliseconds',
          `${fence} (both are set in the configuration file)`,
        ),
      };
  }
  return { ok: true, value: { settings, changes, credentials, scripts } };
}

/**
 * SENTINEL SET's flat argument list (`opt val opt val…`) as entries: `rename-command` takes two values,
 * every other option one. An option left without its value(s) stays short, so applySetArgs rejects it
 * with Sentinel's message.
 */
export function groupSetArgs(flat: readonly string[]): string[][] {
  const entries: string[][] = [];
  for (let i = 0; i < flat.length; ) {
    const option = flat[i] as string;
    const count = option.toLowerCase() === RENAME_COMMAND ? 2 : 1;
    entries.push(flat.slice(i, i + 1 + count));
    i += 1 + count;
  }
  return entries;
}

/**
 * The settings a sentinel runs with: the configured ones with the run-time changes over them. A shorter
 * down-after also shortens the probe period and timeout, which must stay below it (the relations
 * lib/config/parse.ts checks for a file). A stored rename that is refused (renameProblem) is not applied:
 * the command keeps its configured name, so a hand-written table cannot turn a probe into another
 * command, and nothing else changes because of it (see refusedRuntimeRenames for the warning).
 */
export function withRuntimeSettings(base: MasterSettings, runtime: RuntimeSettings): MasterSettings {
  const downAfterMs = runtime.downAfterMs ?? base.downAfterMs;
  return {
    ...base,
    quorum: runtime.quorum ?? base.quorum,
    downAfterMs,
    failoverTimeoutMs: runtime.failoverTimeoutMs ?? base.failoverTimeoutMs,
    parallelSyncs: runtime.parallelSyncs ?? base.parallelSyncs,
    masterRebootDownAfterPeriodMs:
      runtime.masterRebootDownAfterPeriodMs ?? base.masterRebootDownAfterPeriodMs,
    renamedCommands:
      runtime.renamedCommands === undefined
        ? base.renamedCommands
        : appliedRenames(base.renamedCommands, runtime.renamedCommands),
    ...probeTimingWithin(downAfterMs, base),
  };
}

/**
 * The probe period and timeout a down-after allows, the one rule for both: the PING period is at most
 * down-after (Sentinel's min(down-after, 1000)), and a probe's timeout at most half of it, so a master is
 * probed more than once before it counts as down. `ceiling` is what is configured (by default
 * SENTINEL_DEFAULTS' 1000 and 500 ms): the file's defaults and SET's shorter down-after both go through here.
 */
export function probeTimingWithin(
  downAfterMs: number,
  ceiling: { readonly probePeriodMs: number; readonly probeTimeoutMs: number } = {
    probePeriodMs: SENTINEL_DEFAULTS.maxProbePeriodMs,
    probeTimeoutMs: SENTINEL_DEFAULTS.maxProbeTimeoutMs,
  },
): { readonly probePeriodMs: number; readonly probeTimeoutMs: number } {
  return {
    probePeriodMs: Math.min(ceiling.probePeriodMs, downAfterMs),
    probeTimeoutMs: Math.min(ceiling.probeTimeoutMs, Math.floor(downAfterMs / 2)),
  };
}

/**
 * The run-time renames replace the configured ones (SET writes the whole map), except that a refused
 * one leaves its command as configured.
 */
function appliedRenames(
  configured: Readonly<Record<string, string>>,
  runtime: Readonly<Record<string, string>>,
): Readonly<Record<string, string>> {
  const applied = safeRenames(runtime);
  for (const command of Object.keys(runtime)) {
    if (applied[command] !== undefined) continue;
    const kept = configured[command];
    if (kept !== undefined) applied[command] = kept;
  }
  return applied;
}

/** The `+set` lines a change of effective settings deserves, in SET's option names. */
export function settingChanges(before: MasterSettings, after: MasterSettings): SetChange[] {
  const changes: SetChange[] = [];
  for (const [option, { field }] of SET_NUMBER_OPTIONS) {
    if (before[field] !== after[field]) changes.push({ option, values: [String(after[field])] });
  }
  const commands = new Set([...Object.keys(before.renamedCommands), ...Object.keys(after.renamedCommands)]);
  for (const command of [...commands].sort()) {
    const was = before.renamedCommands[command] ?? command;
    const now = after.renamedCommands[command] ?? command;
    if (was !== now) changes.push({ option: RENAME_COMMAND, values: [command, now] });
  }
  return changes;
}

export interface MonitorRequest {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly quorum: number;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9A-Fa-f:.]+$/;
const HOST_LABEL = '[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?';
const HOST_NAME = new RegExp(`^(?=.{1,253}$)${HOST_LABEL}(?:\\.${HOST_LABEL})*\\.?$`);
const DOTTED_DIGITS = /^[0-9.]+$/;

/** An IPv4 address in dotted decimal or an IPv6 address: what Sentinel takes without resolve-hostnames. */
export function isIpLiteral(host: string): boolean {
  return IPV4.test(host) || (host.includes(':') && IPV6.test(host) && host.length <= 45);
}

/** A DNS host name (labels of letters, digits, `-` and `_`); `10.0.0.300` is a mistyped address, not one. */
export function isHostName(host: string): boolean {
  return !DOTTED_DIGITS.test(host) && HOST_NAME.test(host);
}

/** What MONITOR accepts as an address: Sentinel's `resolve-hostnames` decides whether host names are. */
export interface MonitorPolicy {
  readonly resolveHostnames: boolean;
}

/**
 * SENTINEL MONITOR's arguments, with Sentinel's messages. Without resolve-hostnames, the address must be
 * an IP address, as in Sentinel; with it, a host name is accepted and kept as given (the caller checks
 * that it resolves, as Sentinel does, and every connection resolves it again). A quorum above the
 * number of sentinels is accepted, as in Sentinel.
 */
export function validateMonitor(
  name: string,
  ip: string,
  port: string,
  quorum: string,
  policy: MonitorPolicy,
): Validated<MonitorRequest> {
  const nameProblem = masterNameProblem(name);
  if (nameProblem !== null) return { ok: false, error: invalidMasterName(nameProblem) };
  const quorumValue = /^-?\d{1,15}$/.test(quorum) ? Number(quorum) : Number.NaN;
  if (Number.isNaN(quorumValue)) return { ok: false, error: SENTINEL_REPLY.invalidQuorum };
  const portValue = DECIMAL.test(port) ? Number(port) : Number.NaN;
  if (Number.isNaN(portValue)) return { ok: false, error: SENTINEL_REPLY.invalidPort };
  if (quorumValue <= 0) return { ok: false, error: SENTINEL_REPLY.quorumBelowOne };
  if (portValue < 1 || portValue > MAX_PORT) return { ok: false, error: SENTINEL_REPLY.invalidPortNumber };
  const accepted = isIpLiteral(ip) || (policy.resolveHostnames && isHostName(ip));
  if (!accepted) return { ok: false, error: SENTINEL_REPLY.invalidAddress };
  return { ok: true, value: { name, host: ip, port: portValue, quorum: quorumValue } };
}
