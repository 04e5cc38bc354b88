/**
 * Sentinel's reply and error texts, word for word, in one place. The Redis-protocol endpoint sends them
 * (an error as `-ERR <text>`, except the INPROG and NOGOODSLAVE codes, which lead their own text), the
 * HTTP API sends the same text as `error` without `ERR `, the CLI prints them, and the validation of
 * MONITOR and SET (lib/core/settings.ts) returns them. Where this project refuses more than Sentinel
 * does, its reason follows Sentinel's text after a colon.
 */
import { majorityOf } from './quorum.js';

export const SENTINEL_REPLY = {
  noSuchMaster: 'No such master with that name',
  failoverInProgress: 'INPROG Failover already in progress',
  noGoodReplica: 'NOGOODSLAVE No suitable replica to promote',
  duplicateMaster: 'Duplicate master name.',
  /** A SENTINEL subcommand that exists in Sentinel but not here (docs/endpoint.md lists them). */
  notSupported: 'not supported yet',
  invalidQuorum: 'Invalid quorum',
  invalidPort: 'Invalid port',
  quorumBelowOne: 'Quorum must be 1 or greater.',
  invalidPortNumber: 'Invalid port number.',
  invalidAddress: 'Invalid IP address or hostname specified',
  setArity: "wrong number of arguments for 'sentinel|set' command",
  emptySetArgument: 'empty SENTINEL SET argument',
  /** SET of a script path while `deny-scripts-reconfig` is yes (Sentinel's default). */
  scriptsReconfigDenied:
    'Reconfiguration of scripts path is denied for security reasons. Check the deny-scripts-reconfig ' +
    'configuration directive in your Sentinel configuration',
  /** SET (or the file) naming a script that is missing or not executable. */
  notificationScriptNotExecutable: 'Notification script seems non existing or non executable',
  clientReconfigScriptNotExecutable: 'Client reconfiguration script seems non existing or non executable',
  /** This project's: a SET that lost the race to other SETs every time it tried. */
  settingsKeptChanging: 'the settings kept changing; try again',
  /** SENTINEL CONFIG in another form than GET <pattern> / SET <param> <value>… (7.0.15's text). */
  configUsage: 'Only SENTINEL CONFIG GET <option> / SET <option> <value> are supported.',
  unknownFailureSimulation: 'Unknown failure simulation specified',
  /** Redis's text for an integer argument that is not one (IS-MASTER-DOWN-BY-ADDR's port and epoch). */
  notAnInteger: 'value is not an integer or out of range',
} as const;

/** SENTINEL SIMULATE-FAILURE HELP: the failures it knows, as Sentinel lists them. */
export const SIMULATED_FAILURES = ['crash-after-election', 'crash-after-promotion'] as const;

/** SENTINEL CONFIG SET with a parameter Sentinel does not have. */
export function unknownConfigParam(name: string): string {
  return `Invalid argument '${shownValue(name)}' to SENTINEL CONFIG SET`;
}

/** SENTINEL CONFIG SET with a value the parameter does not take. */
export function invalidConfigValue(value: string, name: string): string {
  return `Invalid value '${shownValue(value)}' to SENTINEL CONFIG SET '${name}'`;
}

/** SENTINEL CONFIG SET naming a parameter twice (Redis 7.2; 7.0 takes one parameter only). */
export function duplicateConfigParam(name: string): string {
  return `Duplicate argument '${shownValue(name)}' to SENTINEL CONFIG SET`;
}

/** SENTINEL CONFIG SET whose last parameter has no value (Redis 7.2). */
export function missingConfigValue(name: string): string {
  return `Missing argument '${shownValue(name)}' value`;
}

/**
 * A parameter that SENTINEL CONFIG SET cannot change where it runs (the deployment): why, and what to
 * do instead.
 */
export function configSetNotHere(name: string, line: string): string {
  return (
    `SENTINEL CONFIG SET cannot change '${name}' here: the deployed sentinels read it from sentinel.conf; ` +
    `set '${line}' in the file and redeploy (sls deploy)`
  );
}

/** SENTINEL DEBUG naming a parameter it does not have, or without its value. */
export function unknownDebugParam(name: string): string {
  return `Unknown option or number of arguments for SENTINEL DEBUG '${shownValue(name)}'`;
}

/** SENTINEL DEBUG with a value that is not a positive integer. */
export function invalidDebugValue(value: string, name: string): string {
  return `Invalid argument '${shownValue(value)}' for SENTINEL DEBUG '${name}'`;
}

/** SENTINEL DEBUG <param> <value>: the sentinels' timings are fixed while they run. */
export function debugSetNotHere(name: string, line: string, deployed: boolean): string {
  const apply = deployed ? 'redeploy (sls deploy)' : 'restart the local runner';
  return (
    `SENTINEL DEBUG cannot change '${name}' while the sentinels run: they read it from sentinel.conf; ` +
    `set '${line}' in the file and ${apply}`
  );
}

/** SIMULATE-FAILURE where no sentinel runs in this process (the proxy of a deployment). */
export const SIMULATE_FAILURE_NOT_HERE =
  'SENTINEL SIMULATE-FAILURE works only in the local runner (lambda-sentinel local), where the sentinels ' +
  'run in the process that answers; a deployed sentinel is a Lambda function: to see another take over, ' +
  'disable one sentinel function (its concurrency set to 0)';

/** SHUTDOWN where there is no runner to stop. */
export const SHUTDOWN_NOT_HERE =
  'SHUTDOWN stops only the local runner (lambda-sentinel local); deployed sentinels are Lambda ' +
  'functions: remove the stack (sls remove) to stop them';

/** How Sentinel's errors go out over RESP: `ERR <text>`. */
export function errText(text: string): string {
  return `ERR ${text}`;
}

/** A caller's value is quoted back at most this long (a refused 64 KiB value does not come back whole). */
export const MAX_SHOWN_VALUE = 64;

/** A caller's value as a reply quotes it: bounded, so a huge input does not come back whole. */
export function shownValue(value: string): string {
  return value.length > MAX_SHOWN_VALUE ? `${value.slice(0, MAX_SHOWN_VALUE)}…` : value;
}

/** A master name refused by lib/core/names.ts, with its problem. */
export function invalidMasterName(problem: string): string {
  return `Invalid master name: ${problem}`;
}

/**
 * SET auth-pass / auth-user where the credentials are not held in this process (the deployment: every
 * function reads them from SSM when its container starts): how to rotate instead. Never the value.
 */
export function credentialsNotSettable(option: string): string {
  const how =
    option === 'auth-user'
      ? "change the 'sentinel auth-user' line of the deployed sentinel.conf and deploy " +
        '(docs/deploy.md, "sentinel.conf")'
      : "put the new password in the master's SSM parameter, then make the sentinel and failover " +
        'functions start new containers (docs/security.md, "Rotating each secret")';
  return `${option} cannot be changed with SENTINEL SET in the deployment: ${how}`;
}

/** SET auth-user of a master the file does not list, in the local runner: its credentials come from the file. */
export const AUTH_USER_NEEDS_FILE_ENTRY =
  "auth-user can be set at run time only for a master the config file lists: add 'sentinel monitor' and " +
  "'sentinel auth-user' lines for it";

/**
 * A notification-script or client-reconfig-script for the deployment (SET with deny-scripts-reconfig
 * no, or a line of the deployed sentinel.conf): its functions run no programs; what gives the same.
 */
export function scriptsNotRun(option: string): string {
  const instead =
    option === 'client-reconfig-script'
      ? 'clients follow the master through the Sentinel endpoint (lambda-sentinel proxy) or the HTTP API, ' +
        'and +switch-master reaches the SNS topic and the event log'
      : 'every event reaches the SNS topic (email, Slack, your own subscriber) and the event log';
  return `${option} is not run by the deployment, whose functions run no programs: ${instead} (docs/alerts.md)`;
}

/** SET with an option it does not know, or with the wrong number of values for it. */
export function unknownSetOption(rawOption: string): string {
  return `Unknown option or number of arguments for SENTINEL SET '${shownValue(rawOption)}'`;
}

/** SET's text for a bad value, with this project's reason after it when there is one. */
export function invalidSetArgument(value: string | null, option: string, reason?: string): string {
  const argument = value === null ? 'Invalid argument' : `Invalid argument '${shownValue(value)}'`;
  return `${argument} for SENTINEL SET '${option}'${reason === undefined ? '' : `: ${reason}`}`;
}

/**
 * SENTINEL CKQUORUM: whether the sentinels that can act (`usable`, this one included) reach the master's
 * quorum and the majority that authorises a failover, in Sentinel's words.
 */
export function ckquorumReply(
  usable: number,
  quorum: number,
  members: number,
): { readonly ok: boolean; readonly text: string } {
  const problems: string[] = [];
  if (usable < quorum)
    problems.push('Not enough available Sentinels to reach the specified quorum for this master');
  if (usable < majorityOf(members))
    problems.push('Not enough available Sentinels to reach the majority and authorize a failover');
  if (problems.length === 0)
    return {
      ok: true,
      text: `OK ${usable} usable Sentinels. Quorum and failover authorization can be reached`,
    };
  return { ok: false, text: `NOQUORUM ${usable} usable Sentinels. ${problems.join('. ')}` };
}
