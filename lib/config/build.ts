/**
 * The configuration built from what the lines set: defaults for what they did not (lib/config/
 * defaults.ts), and the relations between settings that must hold for the system to work at all, each
 * broken one reported once, on the line to edit.
 */
import { type LimitedSetting, SENTINEL_DEFAULTS } from '../core/constants.js';
import { leaderFenceProblem } from '../core/fence.js';
import type { GlobalSettings, MasterSettings, TlsSettings } from '../core/types.js';
import { masterDefaults } from './defaults.js';
import {
  GLOBAL_FLAG_OPTIONS,
  GLOBAL_NUMBER_OPTIONS,
  type GlobalNumberField,
  MASTER_NUMBER_OPTIONS,
  type MasterNumberField,
  type NumberOption,
  optionNameOf,
  SENTINEL,
  TLS_FILE_OPTIONS,
  TLS_FLAG_OPTIONS,
} from './directives.js';
import type { MasterDraft, ParseState, Setting } from './state.js';
import { isIpAddress, show } from './values.js';

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

export function buildGlobal(state: ParseState): GlobalSettings {
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
    resolveHostnames: global.flags.resolveHostnames?.value ?? SENTINEL_DEFAULTS.resolveHostnames,
    announceHostnames: global.flags.announceHostnames?.value ?? SENTINEL_DEFAULTS.announceHostnames,
    denyScriptsReconfig: global.flags.denyScriptsReconfig?.value ?? SENTINEL_DEFAULTS.denyScriptsReconfig,
    // Only what the file set: globalParamsOf (lib/core/globalParams.ts) supplies the defaults.
    ...Object.fromEntries(Object.entries(global.params).map(([field, setting]) => [field, setting.value])),
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

export function buildMaster(state: ParseState, draft: MasterDraft, global: GlobalSettings): MasterSettings {
  const downAfterMs = draft.numbers.downAfterMs?.value ?? SENTINEL_DEFAULTS.downAfterMs;
  const numbers = resolveNumbers(draft.numbers, masterDefaults(downAfterMs));
  if (!isIpAddress(draft.host) && !(global.resolveHostnames ?? SENTINEL_DEFAULTS.resolveHostnames)) {
    // Sentinel's text, then what to do. Sentinel reads resolve-hostnames wherever it is in the file.
    const flag = optionNameOf(GLOBAL_FLAG_OPTIONS, (field) => field === 'resolveHostnames');
    state.reject(
      draft.monitorLine,
      `Can't resolve instance hostname. '${show(draft.host)}' is a host name: add ` +
        `'${SENTINEL} ${flag} yes' to monitor a master by host name`,
    );
  }
  // A quorum above the number of sentinels is accepted, as in Sentinel: ODOWN can then never be reached, so
  // no automatic failover starts (operators use it to hold failovers during maintenance); SENTINEL
  // FAILOVER still works, and CKQUORUM answers NOQUORUM.
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
    // Sentinel treats an empty path as no script.
    ...(draft.notificationScript !== undefined && draft.notificationScript.value !== ''
      ? { notificationScript: draft.notificationScript.value }
      : {}),
    ...(draft.clientReconfigScript !== undefined && draft.clientReconfigScript.value !== ''
      ? { clientReconfigScript: draft.clientReconfigScript.value }
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
