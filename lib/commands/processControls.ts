/**
 * SENTINEL CONFIG, SENTINEL DEBUG, SENTINEL SIMULATE-FAILURE and SHUTDOWN: what the process that serves
 * the endpoint lets a client see and change. Their arguments are read here with Sentinel's texts
 * (lib/core/sentinelReplies.ts); what a change does is the host's:
 *
 * - the local runner (localProcessControls) stores CONFIG SET's values, injects the simulated crashes and
 *   stops on SHUTDOWN;
 * - a deployment's endpoint (the proxy, fixedProcessControls) shows the values it was given and refuses
 *   every change with the reason and what to do instead: the deployed sentinels read sentinel.conf.
 *
 * DEBUG's timings cannot change anywhere while the sentinels run (their loops read them once), so a
 * DEBUG with arguments is always refused once its arguments are valid, naming the file line to edit.
 */
import { SENTINEL_DEFAULTS } from '../core/constants.js';
import {
  GLOBAL_PARAM_NAMES,
  type GlobalParamField,
  type GlobalParams,
  globalParamsOf,
  readGlobalParam,
  shownGlobalParam,
} from '../core/globalParams.js';
import {
  configSetNotHere,
  debugSetNotHere,
  duplicateConfigParam,
  invalidConfigValue,
  invalidDebugValue,
  missingConfigValue,
  SHUTDOWN_NOT_HERE,
  SIMULATE_FAILURE_NOT_HERE,
  SIMULATED_FAILURES,
  unknownConfigParam,
  unknownDebugParam,
} from '../core/sentinelReplies.js';
import { probeTimingWithin } from '../core/settings.js';
import type { GlobalSettings } from '../core/types.js';
import type { CommandReply, Fields } from './view.js';

export type SimulatedFailure = (typeof SIMULATED_FAILURES)[number];

/** INFO's sentinel_simulate_failure_flags: Sentinel's bits for each failure. */
export const SIMULATED_FAILURE_FLAGS: Readonly<Record<SimulatedFailure, number>> = {
  'crash-after-election': 1,
  'crash-after-promotion': 2,
};

/** What SENTINEL DEBUG and CONFIG GET read of the configuration: its global settings, or the defaults. */
export type ControlledSettings = Pick<
  GlobalSettings,
  'tiltTriggerMs' | 'tiltPeriodMs' | 'loopLeaseMs' | 'heartbeatPeriodMs'
> &
  Partial<GlobalSettings>;

/** A script in SENTINEL PENDING-SCRIPTS. */
export interface PendingScript {
  /** The script's path, then its arguments. */
  readonly argv: readonly string[];
  readonly running: boolean;
  /** Its process id while it runs, else 0. */
  readonly pid: number;
  /** Running: ms since it started (run-time); waiting: ms until it may start (run-delay). */
  readonly ms: number;
  /** How many times it was retried (retry-num). */
  readonly retries: number;
}

export interface ProcessControls {
  /** The settings SENTINEL DEBUG reports. */
  readonly global: ControlledSettings;
  /** The global parameters in force (SENTINEL CONFIG GET). */
  params(): GlobalParams;
  /** SENTINEL CONFIG SET, already read and checked: all applied, or none. */
  setParams(changes: Partial<GlobalParams>): CommandReply;
  /** SENTINEL DEBUG without arguments: Sentinel's names (upper case) and values in ms. */
  timings(): Fields;
  /** SENTINEL SIMULATE-FAILURE: arm these failures (none: disarm). */
  simulateFailure(failures: readonly SimulatedFailure[]): CommandReply;
  /** The failures armed now. */
  simulatedFailures(): readonly SimulatedFailure[];
  /** SHUTDOWN: stop the process's sentinels and listeners. */
  shutdown(): CommandReply;
  /** The endpoint's own sentinel's scripts, waiting or running (PENDING-SCRIPTS, INFO). */
  pendingScripts(): readonly PendingScript[];
  /** Whether the sentinels run elsewhere (a deployment): the texts say "redeploy", not "restart". */
  readonly deployed: boolean;
}

// ---------------------------------------------------------------------------------------------------------
// SENTINEL CONFIG.

/**
 * SENTINEL CONFIG GET <pattern> [<pattern> …]'s pairs, as Redis 7.2 answers them: for each pattern in
 * turn, every parameter whose name it matches (in Sentinel's order), each parameter once, the first
 * time a pattern matches it. `matches(pattern, name)` is the glob match.
 */
export function configGet(
  params: GlobalParams,
  patterns: readonly string[],
  matches: (pattern: string, name: string) => boolean,
): Fields {
  const shown = new Set<string>();
  const pairs: Array<readonly [string, string]> = [];
  for (const pattern of patterns) {
    for (const [name, field] of GLOBAL_PARAM_NAMES) {
      if (shown.has(name) || !matches(pattern, name)) continue;
      shown.add(name);
      pairs.push([name, shownGlobalParam(params, field)]);
    }
  }
  return pairs;
}

/**
 * SENTINEL CONFIG SET's `<param> <value> …` (Redis 7.2 takes several pairs, all checked before any is
 * applied; 7.0.15 takes exactly one pair). Parameter names in any case, as Sentinel matches them.
 */
export function readConfigSet(
  args: readonly string[],
):
  | { readonly ok: true; readonly changes: Partial<GlobalParams> }
  | { readonly ok: false; readonly error: string } {
  const changes: Record<string, unknown> = {};
  const seen = new Set<GlobalParamField>();
  for (let i = 0; i < args.length; i += 2) {
    const name = args[i] as string;
    const field = GLOBAL_PARAM_NAMES.get(name.toLowerCase());
    if (field === undefined) return { ok: false, error: unknownConfigParam(name) };
    if (seen.has(field)) return { ok: false, error: duplicateConfigParam(name) };
    seen.add(field);
    const value = args[i + 1];
    if (value === undefined) return { ok: false, error: missingConfigValue(name) };
    const read = readGlobalParam(field, value);
    if (!read.ok) return { ok: false, error: invalidConfigValue(value, name.toLowerCase()) };
    changes[field] = read.value;
  }
  return { ok: true, changes: changes as Partial<GlobalParams> };
}

function paramName(field: GlobalParamField): string {
  return [...GLOBAL_PARAM_NAMES].find(([, f]) => f === field)?.[0] ?? field;
}

/** The sentinel.conf line that sets a parameter, for the texts that say what to edit. */
function fileLine(field: GlobalParamField, value: string): string {
  const line = `${paramName(field)} ${value === '' ? '""' : value}`;
  return field === 'loglevel' ? line : `sentinel ${line}`;
}

// ---------------------------------------------------------------------------------------------------------
// SENTINEL DEBUG.

/**
 * The timings SENTINEL DEBUG shows, under Sentinel's names where the same timing exists here, then this
 * project's global ones. Sentinel's ASK-PERIOD, PUBLISH-PERIOD, MIN-LINK-RECONNECT-PERIOD,
 * SLAVE-RECONF-TIMEOUT and ELECTION-TIMEOUT have no counterpart (no sentinel asks another, no hello
 * messages, no links between sentinels), so they are not listed; neither are SCRIPT-MAX-RUNTIME and
 * SCRIPT-RETRY-DELAY, which the local runner's scripts keep at Sentinel's values (lib/local/scripts.ts).
 */
function timingsOf(global: ControlledSettings): ReadonlyArray<readonly [string, string, number]> {
  const probe = probeTimingWithin(SENTINEL_DEFAULTS.downAfterMs);
  return [
    // [DEBUG name, sentinel.conf line that sets it, value]
    ['INFO-PERIOD', 'sentinel info-period <master> <ms>', SENTINEL_DEFAULTS.infoPeriodMs],
    ['PING-PERIOD', 'sentinel probe-period <master> <ms>', probe.probePeriodMs],
    ['DEFAULT-DOWN-AFTER', 'sentinel down-after-milliseconds <master> <ms>', SENTINEL_DEFAULTS.downAfterMs],
    [
      'DEFAULT-FAILOVER-TIMEOUT',
      'sentinel failover-timeout <master> <ms>',
      SENTINEL_DEFAULTS.failoverTimeoutMs,
    ],
    ['TILT-TRIGGER', 'sentinel tilt-trigger <ms>', global.tiltTriggerMs],
    ['TILT-PERIOD', 'sentinel tilt-period <ms>', global.tiltPeriodMs],
    ['LOOP-LEASE', 'sentinel loop-lease <ms>', global.loopLeaseMs],
    ['HEARTBEAT-PERIOD', 'sentinel heartbeat-period <ms>', global.heartbeatPeriodMs],
  ];
}

export function debugTimings(global: ControlledSettings): Fields {
  return timingsOf(global).map(([name, , value]) => [name, String(value)] as const);
}

/**
 * SENTINEL DEBUG <param> <value> …: Sentinel's checks (a known name with a value, then a positive
 * integer), then the refusal: no timing can change while the loops run.
 */
export function debugSet(args: readonly string[], global: ControlledSettings, deployed: boolean): string {
  const timings = timingsOf(global);
  let first: readonly [string, string, number] | null = null;
  for (let i = 0; i < args.length; i += 2) {
    const name = args[i] as string;
    const timing = timings.find(([n]) => n === name.toUpperCase());
    const value = args[i + 1];
    if (timing === undefined || value === undefined) return unknownDebugParam(name);
    if (!/^[1-9][0-9]*$/.test(value) || !Number.isSafeInteger(Number(value))) {
      return invalidDebugValue(value, name);
    }
    first ??= timing;
  }
  const [name, line] = first ?? ['', '', 0];
  return debugSetNotHere(name.toLowerCase(), line, deployed);
}

// ---------------------------------------------------------------------------------------------------------
// SENTINEL SIMULATE-FAILURE.

export type SimulateFailureRequest =
  | { readonly kind: 'help' }
  | { readonly kind: 'arm'; readonly failures: readonly SimulatedFailure[] }
  | { readonly kind: 'unknown' };

/** Its arguments, in order as Sentinel reads them: HELP answers at once, an unknown word refuses all. */
export function readSimulateFailure(args: readonly string[]): SimulateFailureRequest {
  const failures: SimulatedFailure[] = [];
  for (const arg of args) {
    const word = arg.toLowerCase();
    if (word === 'help') return { kind: 'help' };
    const failure = SIMULATED_FAILURES.find((f) => f === word);
    if (failure === undefined) return { kind: 'unknown' };
    if (!failures.includes(failure)) failures.push(failure);
  }
  return { kind: 'arm', failures };
}

// ---------------------------------------------------------------------------------------------------------
// The two hosts.

const refused = (error: string): CommandReply => ({ ok: false, kind: 'invalid', error });

/**
 * A deployment's endpoint (the proxy): the values it was given (Sentinel's defaults when it has no
 * sentinel.conf), and every change refused with what to do instead.
 */
export function fixedProcessControls(global: ControlledSettings = SENTINEL_DEFAULTS): ProcessControls {
  const params = globalParamsOf(global);
  return {
    global,
    deployed: true,
    params: () => params,
    setParams(changes) {
      const [field = 'loglevel'] = Object.keys(changes) as GlobalParamField[];
      // The password is not written back, even into the advice.
      const value =
        field === 'sentinelPass' ? '<password>' : shownGlobalParam({ ...params, ...changes }, field);
      return refused(configSetNotHere(paramName(field), fileLine(field, value)));
    },
    timings: () => debugTimings(global),
    simulateFailure: () => refused(SIMULATE_FAILURE_NOT_HERE),
    simulatedFailures: () => [],
    shutdown: () => refused(SHUTDOWN_NOT_HERE),
    // A deployed sentinel runs no script (events go to SNS and the webhook).
    pendingScripts: () => [],
  };
}

export interface LocalHooks {
  /** Called with the failures armed (the local runner's fault injector reads them). */
  readonly onSimulateFailure: (failures: readonly SimulatedFailure[]) => void;
  readonly armedFailures: () => readonly SimulatedFailure[];
  /** Stops the runner (SHUTDOWN). */
  readonly shutdown: () => void;
  /** Called after CONFIG SET applied its values (the runner applies loglevel, announce-ip/port). */
  readonly onParams?: (params: GlobalParams) => void;
  /** The scripts of the sentinel the endpoint speaks as (none without it). */
  readonly pendingScripts?: () => readonly PendingScript[];
}

/**
 * The local runner: CONFIG SET's values are kept in this process (the file is not rewritten) and
 * reported to `onParams`; SIMULATE-FAILURE arms the runner's fault injector; SHUTDOWN stops it.
 */
export function localProcessControls(global: GlobalSettings, hooks: LocalHooks): ProcessControls {
  let params = globalParamsOf(global);
  return {
    global,
    deployed: false,
    params: () => params,
    setParams(changes) {
      params = { ...params, ...changes };
      hooks.onParams?.(params);
      return { ok: true };
    },
    timings: () => debugTimings(global),
    simulateFailure(failures) {
      hooks.onSimulateFailure(failures);
      return { ok: true };
    },
    simulatedFailures: () => hooks.armedFailures(),
    shutdown() {
      hooks.shutdown();
      return { ok: true };
    },
    pendingScripts: () => hooks.pendingScripts?.() ?? [],
  };
}
