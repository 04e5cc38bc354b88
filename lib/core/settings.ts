/**
 * Run-time configuration: SENTINEL SET and SENTINEL MONITOR, validated here (pure) and applied over the
 * configured settings by every sentinel. Sentinel's texts for errors (reference/sentinel.md §2), with one
 * difference documented in docs/http-api.md: SET is all-or-nothing (every pair is validated before any is
 * applied, like SENTINEL CONFIG SET), where Sentinel keeps the options applied before a bad one.
 */
import { globMatch } from './glob.js';
import type { MasterSettings, RuntimeSettings } from './types.js';

/** One SET option: which field it changes and the smallest value Sentinel accepts. */
interface NumberOption {
  readonly field: Exclude<keyof RuntimeSettings, 'renamedCommands'>;
  readonly minimum: 0 | 1;
}

/** SENTINEL SET's numeric options, by the name users type. */
export const SET_NUMBER_OPTIONS: ReadonlyMap<string, NumberOption> = new Map([
  ['quorum', { field: 'quorum', minimum: 1 }],
  ['down-after-milliseconds', { field: 'downAfterMs', minimum: 1 }],
  ['failover-timeout', { field: 'failoverTimeoutMs', minimum: 1 }],
  ['parallel-syncs', { field: 'parallelSyncs', minimum: 1 }],
  ['master-reboot-down-after-period', { field: 'masterRebootDownAfterPeriodMs', minimum: 0 }],
]);

export const RENAME_COMMAND = 'rename-command';

/** Options Sentinel has that are refused here, with the reason a user needs. */
const REFUSED_OPTIONS: ReadonlyMap<string, string> = new Map([
  [
    'auth-pass',
    'auth-pass is not stored in the table: put the password in SSM Parameter Store (see docs/deploy.md)',
  ],
  [
    'auth-user',
    'auth-user is not stored in the table: set it in the deployment configuration (see docs/deploy.md)',
  ],
  [
    'notification-script',
    'scripts are not run by lambda-sentinel: subscribe to the SNS topic or the event log instead',
  ],
  [
    'client-reconfig-script',
    'scripts are not run by lambda-sentinel: subscribe to the SNS topic or the event log instead',
  ],
]);

/** Master names: Sentinel's charset (reference/sentinel.md §5), not empty, bounded. */
const MASTER_NAME = /^[A-Za-z0-9._-]{1,128}$/;
const DECIMAL = /^\d{1,15}$/;

export type Validated<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: string };

export function isValidMasterName(name: string): boolean {
  return MASTER_NAME.test(name);
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
  members: number,
): Validated<{ settings: RuntimeSettings; changes: SetChange[] }> {
  if (args.length === 0) return { ok: false, error: "wrong number of arguments for 'sentinel|set' command" };
  const next: { -readonly [K in keyof RuntimeSettings]: RuntimeSettings[K] } = { ...current };
  const renames: Record<string, string> = { ...(current.renamedCommands ?? {}) };
  const changes: SetChange[] = [];
  for (const entry of args) {
    const [rawOption, ...values] = entry;
    if (rawOption === undefined) return { ok: false, error: 'empty SENTINEL SET argument' };
    const option = rawOption.toLowerCase();
    const refused = REFUSED_OPTIONS.get(option);
    if (refused !== undefined) return { ok: false, error: refused };
    if (option === RENAME_COMMAND) {
      const [from, to] = values;
      if (values.length !== 2 || from === undefined || to === undefined || from === '' || to === '')
        return { ok: false, error: `Unknown option or number of arguments for SENTINEL SET '${rawOption}'` };
      const command = from.toLowerCase();
      // Renaming a command to its own name undoes the rename, as Sentinel does.
      if (to.toLowerCase() === command) delete renames[command];
      else renames[command] = to;
      changes.push({ option: RENAME_COMMAND, values: [from, to] });
      continue;
    }
    const numeric = SET_NUMBER_OPTIONS.get(option);
    const [value] = values;
    if (numeric === undefined || values.length !== 1 || value === undefined)
      return { ok: false, error: `Unknown option or number of arguments for SENTINEL SET '${rawOption}'` };
    const parsed = DECIMAL.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(parsed) || parsed < numeric.minimum)
      return { ok: false, error: `Invalid argument '${value}' for SENTINEL SET '${option}'` };
    if (numeric.field === 'quorum' && parsed > members)
      return {
        ok: false,
        error: `Invalid argument '${value}' for SENTINEL SET 'quorum': larger than the ${members} sentinels`,
      };
    next[numeric.field] = parsed;
    changes.push({ option, values: [String(parsed)] });
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
      error: `Invalid argument '${resulting.downAfterMs}' for SENTINEL SET 'down-after-milliseconds': too short for a probe timeout below it`,
    };
  return { ok: true, value: { settings, changes } };
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
 * lib/config/parse.ts checks for a file).
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
    renamedCommands: runtime.renamedCommands ?? base.renamedCommands,
    probePeriodMs: Math.min(base.probePeriodMs, downAfterMs),
    probeTimeoutMs: Math.min(base.probeTimeoutMs, Math.floor(downAfterMs / 2)),
  };
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

/**
 * SENTINEL MONITOR's arguments, with Sentinel's messages. Like Sentinel without resolve-hostnames, the
 * address must be an IP address: the sentinels probe it and clients are told it as is.
 */
export function validateMonitor(
  name: string,
  ip: string,
  port: string,
  quorum: string,
  members: number,
): Validated<MonitorRequest> {
  if (!isValidMasterName(name))
    return { ok: false, error: 'Invalid master name: use letters, digits, dot, dash and underscore' };
  const quorumValue = /^-?\d{1,15}$/.test(quorum) ? Number(quorum) : Number.NaN;
  if (Number.isNaN(quorumValue)) return { ok: false, error: 'Invalid quorum' };
  const portValue = DECIMAL.test(port) ? Number(port) : Number.NaN;
  if (Number.isNaN(portValue)) return { ok: false, error: 'Invalid port' };
  if (quorumValue <= 0) return { ok: false, error: 'Quorum must be 1 or greater.' };
  if (quorumValue > members)
    return { ok: false, error: `Invalid quorum: larger than the ${members} sentinels` };
  if (portValue < 1 || portValue > 65_535) return { ok: false, error: 'Invalid port number.' };
  const isIp = IPV4.test(ip) || (ip.includes(':') && IPV6.test(ip) && ip.length <= 45);
  if (!isIp) return { ok: false, error: 'Invalid IP address or hostname specified' };
  return { ok: true, value: { name, host: ip, port: portValue, quorum: quorumValue } };
}

/** SENTINEL RESET's pattern: Redis glob (lib/core/glob.ts), matched against master names. */
export function globMatches(pattern: string, name: string): boolean {
  return globMatch(pattern, name);
}
