/**
 * The directives of sentinel.conf: each name appears once, here, with the field it sets; reasons look
 * names up (optionNameOf) instead of repeating them. docs/configuration.md describes each.
 */
import type { LimitedSetting } from '../core/constants.js';
import {
  AUTH_PASS_OPTION,
  AUTH_USER_OPTION,
  CLIENT_RECONFIG_SCRIPT,
  NOTIFICATION_SCRIPT,
  RENAME_COMMAND,
} from '../core/settings.js';

export type MasterNumberField =
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

export type GlobalNumberField = 'tiltTriggerMs' | 'tiltPeriodMs' | 'loopLeaseMs' | 'heartbeatPeriodMs';

/** A numeric option; its accepted range is SETTING_LIMITS[field], shared with SENTINEL SET. */
export interface NumberOption<Field extends LimitedSetting> {
  readonly field: Field;
  /** How the value is named in the usage text of an arity error. */
  readonly unit: '<ms>' | '<count>';
}

export const MASTER_NUMBER_OPTIONS: ReadonlyMap<string, NumberOption<MasterNumberField>> = new Map([
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

export const GLOBAL_NUMBER_OPTIONS: ReadonlyMap<string, NumberOption<GlobalNumberField>> = new Map([
  ['tilt-trigger', { field: 'tiltTriggerMs', unit: '<ms>' }],
  ['tilt-period', { field: 'tiltPeriodMs', unit: '<ms>' }],
  ['loop-lease', { field: 'loopLeaseMs', unit: '<ms>' }],
  ['heartbeat-period', { field: 'heartbeatPeriodMs', unit: '<ms>' }],
]);

export type TlsFlagField = 'enabled' | 'rejectUnauthorized';
export type TlsFileField = 'caCertFile' | 'certFile' | 'keyFile';

export const TLS_FLAG_OPTIONS: ReadonlyMap<string, TlsFlagField> = new Map([
  ['tls-replication', 'enabled'],
  ['tls-verify-peer', 'rejectUnauthorized'],
]);

export const TLS_FILE_OPTIONS: ReadonlyMap<string, TlsFileField> = new Map([
  ['tls-ca-cert-file', 'caCertFile'],
  ['tls-cert-file', 'certFile'],
  ['tls-key-file', 'keyFile'],
]);

export type GlobalFlagField = 'resolveHostnames' | 'announceHostnames' | 'denyScriptsReconfig';

/** Sentinel's global yes/no lines (`sentinel resolve-hostnames yes`); defaults in SENTINEL_DEFAULTS. */
export const GLOBAL_FLAG_OPTIONS: ReadonlyMap<string, GlobalFlagField> = new Map([
  ['resolve-hostnames', 'resolveHostnames'],
  ['announce-hostnames', 'announceHostnames'],
  ['deny-scripts-reconfig', 'denyScriptsReconfig'],
]);

export const SENTINEL = 'sentinel';
export const MONITOR = 'monitor';
export const MEMBERS = 'members';
export const AUTH_PASS = AUTH_PASS_OPTION;
export const AUTH_USER = AUTH_USER_OPTION;

/**
 * Redis lines that configure the Sentinel process itself: the listener is set on the CLI here.
 * `latency-tracking-info-percentiles` is in the list because Redis 7's CONFIG REWRITE adds it to every
 * sentinel.conf it writes: without it no rewritten file would load. (`requirepass`, `user`, `timeout`,
 * `maxclients`… configure the endpoints' access: lib/config/access.ts.)
 */
export const IGNORED_DIRECTIVES: ReadonlySet<string> = new Set([
  'port',
  'bind',
  'daemonize',
  'pidfile',
  'logfile',
  'dir',
  'protected-mode',
  'latency-tracking-info-percentiles',
]);

/**
 * `sentinel …` lines that hold Sentinel's persisted state (kept in DynamoDB here), gossip addresses
 * (there is no gossip: membership is fixed) or sentinel-to-sentinel credentials (sentinels never connect
 * to each other here).
 */
export const IGNORED_SENTINEL_OPTIONS: ReadonlySet<string> = new Set([
  'myid',
  'current-epoch',
  'config-epoch',
  'leader-epoch',
  'known-replica',
  'known-slave',
  'known-sentinel',
]);

/**
 * Global lines whose values SENTINEL CONFIG GET shows (lib/core/globalParams.ts reads each value): the
 * `sentinel …` ones here, and the top-level `loglevel`. Sentinels never connect to each other here, so
 * sentinel-user and sentinel-pass are only kept; announce-ip and announce-port are the address SENTINEL
 * SENTINELS gives.
 */
export type GlobalParamLineField =
  | 'announceIp'
  | 'announcePort'
  | 'sentinelUser'
  | 'sentinelPass'
  | 'loglevel';
export const GLOBAL_PARAM_OPTIONS: ReadonlyMap<string, GlobalParamLineField> = new Map([
  ['announce-ip', 'announceIp'],
  ['announce-port', 'announcePort'],
  ['sentinel-user', 'sentinelUser'],
  ['sentinel-pass', 'sentinelPass'],
]);
export const LOGLEVEL = 'loglevel';

/**
 * Sentinel's script lines: the local runner runs them as Sentinel does (lib/local/scripts.ts); a
 * deployment refuses them (lib/runtime/lambdaConfig.ts), its functions run no programs.
 */
export { CLIENT_RECONFIG_SCRIPT, NOTIFICATION_SCRIPT };

/** `sentinel …` options that exist in Sentinel but are refused here, with the reason. None today. */
export const REJECTED_SENTINEL_OPTIONS: ReadonlyMap<string, string> = new Map();

/** The configuration name of an option, looked up from its table so names are written once. */
export function optionNameOf<Value>(
  options: ReadonlyMap<string, Value>,
  matches: (value: Value) => boolean,
): string {
  for (const [name, value] of options) if (matches(value)) return name;
  throw new Error('option table is missing an entry');
}

/** An option of a per-master line (`sentinel <option> <name> …`), applied after every monitor line. */
export function isPerMasterOption(option: string): boolean {
  return (
    MASTER_NUMBER_OPTIONS.has(option) ||
    option === AUTH_PASS ||
    option === AUTH_USER ||
    option === NOTIFICATION_SCRIPT ||
    option === CLIENT_RECONFIG_SCRIPT ||
    option === RENAME_COMMAND
  );
}
