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

const LISTENER_ON_COMMAND_LINE = 'the listeners are set on the command line (--port, --host, --http-port)';
const NO_PROCESS_TO_CONFIGURE = 'there is no redis-server process here to configure';
const NO_TLS_LISTENER = 'applies only to a TLS listener, and the endpoint has none (tls-port is refused)';

/**
 * Redis lines that a Sentinel loads but that have no effect here, each with why: they configure the
 * redis-server process (its listener is set on the command line here, its logging, threads, OS
 * tuning, debugging commands), or a TLS listener the endpoint does not have. Ignoring one changes
 * nothing a user relies on: at worst a client that expected the Unix socket fails to connect.
 * `latency-tracking-info-percentiles` is here because Redis 7's CONFIG REWRITE adds it to every
 * sentinel.conf it writes: without it no rewritten file would load. (`requirepass`, `user`, `timeout`,
 * `maxclients`… configure the endpoints' access: lib/config/access.ts.) Each one is reported with its
 * file and line (ParseState.ignore) and the runners print it as a warning.
 */
export const IGNORED_DIRECTIVES: ReadonlyMap<string, string> = new Map([
  ['port', LISTENER_ON_COMMAND_LINE],
  ['bind', LISTENER_ON_COMMAND_LINE],
  ['bind-source-addr', 'connections to Redis leave from the address the system chooses'],
  ['unixsocket', 'the endpoint listens on TCP only (--port, --host)'],
  ['unixsocketperm', 'the endpoint listens on TCP only (--port, --host)'],
  ['tcp-backlog', NO_PROCESS_TO_CONFIGURE],
  ['tcp-keepalive', NO_PROCESS_TO_CONFIGURE],
  ['protected-mode', 'the listeners are on loopback unless a password is set (docs/security.md)'],
  ['daemonize', NO_PROCESS_TO_CONFIGURE],
  ['supervised', NO_PROCESS_TO_CONFIGURE],
  ['pidfile', NO_PROCESS_TO_CONFIGURE],
  ['dir', 'nothing is written to disk: the state is in the DynamoDB table'],
  ['logfile', 'the runners log to standard output (structured JSON in a deployment)'],
  ['syslog-enabled', 'the runners log to standard output (structured JSON in a deployment)'],
  ['syslog-ident', 'the runners log to standard output (structured JSON in a deployment)'],
  ['syslog-facility', 'the runners log to standard output (structured JSON in a deployment)'],
  ['always-show-logo', NO_PROCESS_TO_CONFIGURE],
  ['set-proc-title', NO_PROCESS_TO_CONFIGURE],
  ['proc-title-template', NO_PROCESS_TO_CONFIGURE],
  ['crash-log-enabled', NO_PROCESS_TO_CONFIGURE],
  ['crash-memcheck-enabled', NO_PROCESS_TO_CONFIGURE],
  ['oom-score-adj', NO_PROCESS_TO_CONFIGURE],
  ['oom-score-adj-values', NO_PROCESS_TO_CONFIGURE],
  ['disable-thp', NO_PROCESS_TO_CONFIGURE],
  ['hz', NO_PROCESS_TO_CONFIGURE],
  ['dynamic-hz', NO_PROCESS_TO_CONFIGURE],
  ['io-threads', NO_PROCESS_TO_CONFIGURE],
  ['io-threads-do-reads', NO_PROCESS_TO_CONFIGURE],
  ['enable-debug-command', 'the endpoint has no DEBUG command'],
  ['enable-module-command', 'the endpoint has no MODULE command'],
  ['enable-protected-configs', 'the endpoint has no CONFIG command'],
  ['acllog-max-len', 'the endpoint keeps no ACL log'],
  ['latency-tracking-info-percentiles', 'INFO has no latency statistics here'],
  ['tls-auth-clients', NO_TLS_LISTENER],
  ['tls-prefer-server-ciphers', NO_TLS_LISTENER],
  ['tls-session-caching', NO_TLS_LISTENER],
  ['tls-session-cache-size', NO_TLS_LISTENER],
  ['tls-session-cache-timeout', NO_TLS_LISTENER],
  ['tls-dh-params-file', NO_TLS_LISTENER],
  ['tls-cluster', 'there is no cluster bus'],
]);

const TLS_TO_REDIS_HERE =
  'TLS to Redis is configured here with tls-replication, tls-ca-cert-file, tls-cert-file, tls-key-file and tls-verify-peer (docs/configuration.md)';

/**
 * Redis lines that a Sentinel loads but that are refused here, each with the reason: ignoring one would
 * leave a user believing something that is not so — a TLS listener or TLS settings that are not in
 * force (the link would not be what they think), users or command restrictions that would not be
 * loaded, lines of another file that would not be read, a password that would not be sent.
 */
export const REJECTED_DIRECTIVES: ReadonlyMap<string, string> = new Map([
  [
    'tls-port',
    'the endpoint has no TLS listener: its clients would connect in clear. Remove the line; keep the endpoint on loopback or a private network (docs/security.md)',
  ],
  [
    'tls-ca-cert-dir',
    `a CA directory is not read: name the CA file with tls-ca-cert-file. ${TLS_TO_REDIS_HERE}`,
  ],
  [
    'tls-client-cert-file',
    `not read: the certificate for the connections to Redis is tls-cert-file here. ${TLS_TO_REDIS_HERE}`,
  ],
  [
    'tls-client-key-file',
    `not read: the key for the connections to Redis is tls-key-file here. ${TLS_TO_REDIS_HERE}`,
  ],
  [
    'tls-key-file-pass',
    `encrypted private keys are not supported: give tls-key-file an unencrypted key. ${TLS_TO_REDIS_HERE}`,
  ],
  [
    'tls-client-key-file-pass',
    `encrypted private keys are not supported: give tls-key-file an unencrypted key. ${TLS_TO_REDIS_HERE}`,
  ],
  [
    'tls-protocols',
    `not applied: connections to Redis use Node.js's TLS defaults (TLS 1.2 and 1.3). ${TLS_TO_REDIS_HERE}`,
  ],
  ['tls-ciphers', `not applied: connections to Redis use Node.js's default ciphers. ${TLS_TO_REDIS_HERE}`],
  [
    'tls-ciphersuites',
    `not applied: connections to Redis use Node.js's default ciphers. ${TLS_TO_REDIS_HERE}`,
  ],
  [
    'aclfile',
    'an ACL file is not read: its users would not exist here. Write them in this file as user lines (docs/configuration.md, "Access to the endpoints")',
  ],
  [
    'acl-pubsub-default',
    'not applied: each user line gets the channels its own & rules give. Remove the line and write the channels in the user lines',
  ],
  [
    'rename-command',
    "the endpoint's own commands cannot be renamed or disabled: restrict them with user lines (ACL). To rename a command sent to Redis, use 'sentinel rename-command <master> <command> <new name>'",
  ],
  ['include', 'other files are not read: the lines in that file would be missed. Copy them into this file'],
  [
    'masterauth',
    "not used to reach the masters (nor by Sentinel): set 'sentinel auth-pass <master> <password>'",
  ],
  ['masteruser', "not used to reach the masters (nor by Sentinel): set 'sentinel auth-user <master> <user>'"],
]);

/**
 * `sentinel …` lines that hold Sentinel's persisted state (kept in DynamoDB here), gossip addresses
 * (there is no gossip: membership is fixed) or sentinel-to-sentinel credentials (sentinels never connect
 * to each other here).
 */
export const IGNORED_SENTINEL_OPTIONS: ReadonlyMap<string, string> = new Map([
  ['myid', "each sentinel's run id is derived from its member id (sentinel members)"],
  ['current-epoch', 'epochs are kept in the DynamoDB table'],
  ['config-epoch', 'epochs are kept in the DynamoDB table'],
  ['leader-epoch', 'epochs are kept in the DynamoDB table'],
  ['known-replica', "replicas are discovered from the master's INFO and kept in the DynamoDB table"],
  ['known-slave', "replicas are discovered from the master's INFO and kept in the DynamoDB table"],
  ['known-sentinel', 'the sentinels are the fixed members (sentinel members); they never talk to each other'],
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
