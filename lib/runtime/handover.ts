/**
 * The hand-over state: what one invocation of a sentinel leaves for the next one when it releases its
 * loop lease (TILT; per master, the monitor's observations and the core's memory; and its copy of the
 * master records with the change counter they are current at), so that probing continues without a gap
 * and the successor need not read every record again when none changed. It is read back from the
 * store, where anyone with write access to the table could have put anything, so it is checked field by
 * field against the types the runner uses before anything of it is trusted. A state that fails any
 * check is not used at all: the sentinel starts with fresh observations, exactly as after a gap, which
 * is always safe (it only delays a judgement by down-after).
 *
 * The stored text is compact, for it is written at every hand-over (once a minute) and its size is
 * billed: every time in the observations and the memory is stored relative to `savedAt` (small numbers
 * compress well), a master's INFO is stored without its list of connected replicas (the monitor reads
 * that list only from a new INFO, and probes every replica it learnt of anyway), and reconfiguration
 * times older than the role-report period are dropped (they no longer hold anything back). Nothing a
 * decision reads is left out.
 *
 * Versions: the writer stamps HANDOVER_STATE_VERSION. A state of any other version (older or newer, e.g.
 * during a deployment or a rollback) is not converted: the new invocation starts fresh. Change the
 * version whenever the shape below changes.
 *   1: TILT, and per master the observations and the memory.
 *   2: per master also the origin of the incarnation they belong to. A version-1 state cannot say which
 *      incarnation its observations are of, so it is not used (a fresh start, once, at the upgrade).
 *   3: the records with their change counter; relative times; no connected-replica lists.
 */
import { MAX_PORT, SENTINEL_DEFAULTS } from '../core/constants.js';
import type { MasterMemory } from '../core/decide.js';
import type { ConfiguredRole, InstanceObservation } from '../core/observation.js';
import type { TiltState } from '../core/tilt.js';
import {
  type Address,
  type ConnectedReplica,
  FAILOVER_STATES,
  type FailoverProgress,
  type MasterOrigin,
  type MasterRecord,
  type ReplicaReconf,
  type ReplicationInfo,
  type RuntimeSettings,
} from '../core/types.js';
import type { MonitorSnapshot } from './monitor.js';

export const HANDOVER_STATE_VERSION = 3;

/** One master's part of the state. */
export interface MasterHandover {
  /**
   * Where the incarnation these observations are of began (lib/core/authBinding.ts effectiveOrigin; null:
   * a record older than origins, not listed in the file). SENTINEL REMOVE + MONITOR between two
   * invocations starts another incarnation under the same name: the resuming invocation uses this part
   * only if the record's origin is still this one, or it would probe the old incarnation's replicas with
   * the new one's credentials.
   */
  readonly origin: MasterOrigin | null;
  readonly monitor: MonitorSnapshot;
  readonly memory: MasterMemory;
}

/** The releasing invocation's copy of every master record (removed ones included). */
export interface RecordsHandover {
  /**
   * The change counter (lib/ports.ts) the records were current at: if the successor reads the same
   * value, no change completed since, and it need not read them again.
   */
  readonly changeCounter: number;
  /** When all records were last read from the store: the backstop against lost increments runs from it. */
  readonly fullReadAt: number;
  readonly records: readonly MasterRecord[];
}

/** The state as the runner uses it. Masters are a Map: a stored name such as `constructor` is just a key. */
export interface HandoverState {
  readonly savedAt: number;
  readonly tilt: TiltState;
  readonly masters: ReadonlyMap<string, MasterHandover>;
  /** Null when the releasing invocation had no copy it could vouch for (the store never answered). */
  readonly records: RecordsHandover | null;
}

/** Why a stored state was not used. `reason` names what was wrong, never a stored value. */
export type HandoverRejection =
  | { readonly kind: 'unparsable'; readonly reason: string }
  | { readonly kind: 'version'; readonly reason: string }
  | { readonly kind: 'invalid'; readonly reason: string };

export type HandoverParse =
  | { readonly ok: true; readonly state: HandoverState }
  | { readonly ok: false; readonly rejection: HandoverRejection };

/** The text stored at release (in compact form: see the header). */
export function serializeHandoverState(state: HandoverState): string {
  const toStored = -state.savedAt;
  const masters: Record<string, MasterHandover> = {};
  for (const [name, part] of state.masters) {
    masters[name] = {
      origin: part.origin,
      monitor: {
        master: storedObservation(part.monitor.master, toStored),
        replicas: part.monitor.replicas.map((r) => storedObservation(r, toStored)),
      },
      memory: shiftMemory(withoutSpentReconfigurations(part.memory, state.savedAt), toStored),
    };
  }
  return JSON.stringify({
    version: HANDOVER_STATE_VERSION,
    savedAt: state.savedAt,
    tilt: state.tilt,
    masters,
    records: state.records,
  });
}

/** An observation as stored: relative times, and INFO without its connected-replica list. */
function storedObservation(obs: InstanceObservation, delta: number): InstanceObservation {
  const shifted = shiftObservation(obs, delta);
  return shifted.info === null ? shifted : { ...shifted, info: { ...shifted.info, connectedReplicas: [] } };
}

const shiftTime = (t: number, delta: number): number => t + delta;
const shiftNullable = (t: number | null, delta: number): number | null => (t === null ? null : t + delta);
const shiftEach = (times: Readonly<Record<string, number>>, delta: number): Record<string, number> =>
  Object.fromEntries(Object.entries(times).map(([key, t]) => [key, t + delta]));

/** The fields of an observation that hold a time (ms since the epoch, or null for none yet). */
const OBSERVATION_TIMES = [
  'observingSince',
  'lastValidReplyAt',
  'lastReplyAt',
  'oldestUnansweredPingAt',
  'lastPingSettledAt',
  'infoAt',
  'reportedRoleSince',
  'reportedMasterSince',
  'rebootSince',
] as const satisfies readonly (keyof InstanceObservation)[];

/** Every time an observation holds, moved by `delta` (to and from the stored relative form). */
function shiftObservation(obs: InstanceObservation, delta: number): InstanceObservation {
  const times = OBSERVATION_TIMES.map((field) => [field, shiftNullable(obs[field], delta)]);
  return { ...obs, ...Object.fromEntries(times) };
}

/** Every time the memory holds, moved by `delta`. Epochs, addresses and flags are not times. */
function shiftMemory(memory: MasterMemory, delta: number): MasterMemory {
  return {
    ...memory,
    sdownSince: shiftNullable(memory.sdownSince, delta),
    odownSince: shiftNullable(memory.odownSince, delta),
    replicaSdownSince: shiftEach(memory.replicaSdownSince, delta),
    voteWritten:
      memory.voteWritten === null
        ? null
        : {
            ...memory.voteWritten,
            observedAt: shiftTime(memory.voteWritten.observedAt, delta),
            writtenAt: shiftTime(memory.voteWritten.writtenAt, delta),
          },
    leading:
      memory.leading === null
        ? null
        : { ...memory.leading, leaseUntil: shiftTime(memory.leading.leaseUntil, delta) },
    reconfiguredAt: shiftEach(memory.reconfiguredAt, delta),
  };
}

/**
 * A replica's reconfiguration time only holds back another one within the role-report period
 * (lib/core/decide.ts); an older one decides nothing and would only grow the state.
 */
function withoutSpentReconfigurations(memory: MasterMemory, now: number): MasterMemory {
  const recent = Object.entries(memory.reconfiguredAt).filter(
    ([, at]) => now - at < SENTINEL_DEFAULTS.roleReportStableMs,
  );
  return { ...memory, reconfiguredAt: Object.fromEntries(recent) };
}

/** Parses and checks a stored state. Never throws. */
export function parseHandoverState(text: string): HandoverParse {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text around the error: it would put the state into the log.
    return { ok: false, rejection: { kind: 'unparsable', reason: 'not valid JSON' } };
  }
  if (!isObject(value)) {
    return { ok: false, rejection: { kind: 'invalid', reason: `expected an object, got ${kindOf(value)}` } };
  }
  const version = value.version;
  if (version !== HANDOVER_STATE_VERSION) {
    const reason =
      typeof version !== 'number'
        ? `no version number (this sentinel writes version ${HANDOVER_STATE_VERSION})`
        : `version ${Number.isSafeInteger(version) ? version : 'not an integer'} is ${version < HANDOVER_STATE_VERSION ? 'older' : 'newer'} than this sentinel's (${HANDOVER_STATE_VERSION})`;
    return { ok: false, rejection: { kind: 'version', reason } };
  }
  try {
    return { ok: true, state: handoverState(value, '') };
  } catch (error) {
    if (error instanceof InvalidField)
      return { ok: false, rejection: { kind: 'invalid', reason: error.message } };
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------------
// The checks. Each returns a fresh value built from the checked fields only (unknown fields are dropped),
// or throws InvalidField naming the path and the expected type.

class InvalidField extends Error {}

type Check<T> = (value: unknown, path: string) => T;

/** A path segment for a stored key, cut short: the key is data, and could be long. */
const KEY_SHOWN_CHARS = 40;

function keyPath(path: string, key: string): string {
  const shown = key.length > KEY_SHOWN_CHARS ? `${key.slice(0, KEY_SHOWN_CHARS)}…` : key;
  return `${path}[${JSON.stringify(shown)}]`;
}

function fieldPath(path: string, field: string): string {
  return path === '' ? field : `${path}.${field}`;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

function fail(path: string, expected: string, value: unknown): never {
  const where = path === '' ? 'the state' : path;
  throw new InvalidField(
    value === undefined ? `${where}: missing` : `${where}: expected ${expected}, got ${kindOf(value)}`,
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const finite: Check<number> = (v, p) =>
  typeof v === 'number' && Number.isFinite(v) ? v : fail(p, 'a finite number', v);

/** Epochs, ports, offsets: whole numbers. */
const count: Check<number> = (v, p) =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : fail(p, 'a non-negative integer', v);

const port: Check<number> = (v, p) =>
  typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_PORT ? v : fail(p, 'a TCP port', v);

const text: Check<string> = (v, p) => (typeof v === 'string' ? v : fail(p, 'a string', v));

const flag: Check<boolean> = (v, p) => (typeof v === 'boolean' ? v : fail(p, 'a boolean', v));

function nullable<T>(check: Check<T>): Check<T | null> {
  return (v, p) => (v === null ? null : check(v, p));
}

function oneOf<T extends string>(...values: readonly T[]): Check<T> {
  return (v, p) =>
    typeof v === 'string' && (values as readonly string[]).includes(v)
      ? (v as T)
      : fail(p, `one of ${values.join(', ')}`, v);
}

/** Every field of T must have its check (the compiler enforces it), so the schema follows the types. */
function object<T>(fields: { readonly [K in keyof T]-?: Check<T[K]> }): Check<T> {
  return (v, p) => {
    if (!isObject(v)) return fail(p, 'an object', v);
    const out: Record<string, unknown> = {};
    for (const [name, check] of Object.entries(fields) as Array<[string, Check<unknown>]>) {
      out[name] = check(Object.hasOwn(v, name) ? v[name] : undefined, fieldPath(p, name));
    }
    return out as T;
  };
}

function list<T>(check: Check<T>): Check<readonly T[]> {
  return (v, p) =>
    Array.isArray(v) ? v.map((item, i) => check(item, `${p}[${i}]`)) : fail(p, 'an array', v);
}

function entries<T>(check: Check<T>): Check<Array<[string, T]>> {
  return (v, p) => {
    if (!isObject(v)) return fail(p, 'an object', v);
    return Object.entries(v).map(([key, item]) => [key, check(item, keyPath(p, key))]);
  };
}

/** A plain record (own data properties only, so a key such as `__proto__` stays a key). */
function dictionary<T>(check: Check<T>): Check<Readonly<Record<string, T>>> {
  const all = entries(check);
  return (v, p) => Object.fromEntries(all(v, p));
}

const address = object<Address>({ host: text, port });

const connectedReplica = object<ConnectedReplica>({
  host: text,
  port,
  state: text,
  offset: finite,
  lag: finite,
});

const replicationInfo = object<ReplicationInfo>({
  runId: nullable(text),
  role: oneOf('master', 'replica'),
  loading: flag,
  masterHost: nullable(text),
  masterPort: nullable(finite),
  masterLinkUp: flag,
  masterLinkDownSinceMs: finite,
  replicaPriority: nullable(finite),
  replicaOffset: nullable(finite),
  replicaAnnounced: flag,
  masterReplOffset: nullable(finite),
  connectedReplicas: list(connectedReplica),
  redisVersion: nullable(text),
});

const role: Check<ConfiguredRole> = oneOf('master', 'replica');

const observation = object<InstanceObservation>({
  address,
  configuredRole: role,
  observingSince: finite,
  linkConnected: flag,
  lastValidReplyAt: finite,
  lastReplyAt: nullable(finite),
  oldestUnansweredPingAt: nullable(finite),
  lastPingSettledAt: nullable(finite),
  lastPingText: nullable(text),
  info: nullable(replicationInfo),
  infoAt: nullable(finite),
  runId: nullable(text),
  reportedRole: nullable(role),
  reportedRoleSince: nullable(finite),
  reportedMasterSince: nullable(finite),
  rebootSince: nullable(finite),
});

const monitorSnapshot = object<MonitorSnapshot>({ master: observation, replicas: list(observation) });

const memory = object<MasterMemory>({
  sdownSince: nullable(finite),
  odownSince: nullable(finite),
  replicaSdownSince: dictionary(finite),
  voteWritten: nullable(
    object<NonNullable<MasterMemory['voteWritten']>>({ down: flag, observedAt: finite, writtenAt: finite }),
  ),
  knownEpoch: nullable(count),
  knownLeader: nullable(object<NonNullable<MasterMemory['knownLeader']>>({ sentinelId: text, epoch: count })),
  leading: nullable(object<NonNullable<MasterMemory['leading']>>({ epoch: count, leaseUntil: finite })),
  claimedFrom: nullable(count),
  knownConfig: nullable(object<NonNullable<MasterMemory['knownConfig']>>({ epoch: count, host: text, port })),
  reconfiguredAt: dictionary(finite),
});

const tilt = object<TiltState>({ inTilt: flag, since: nullable(finite), lastTimerAt: nullable(finite) });

const origin = object<MasterOrigin>({ source: oneOf('config', 'monitor'), host: text, port });

const masterHandover = object<MasterHandover>({ monitor: monitorSnapshot, memory, origin: nullable(origin) });

const replicaReconf = object<ReplicaReconf>({
  host: text,
  port,
  state: oneOf('pending', 'sent', 'inprog', 'done'),
  sentAt: nullable(finite),
  note: nullable(text),
});

const failoverProgress = object<FailoverProgress>({
  oldMaster: address,
  promoted: nullable(address),
  rejected: list(object<FailoverProgress['rejected'][number]>({ host: text, port, reason: text })),
  promotionSentAt: nullable(finite),
  replicas: list(replicaReconf),
  forced: flag,
  coordinated: flag,
});

const RUNTIME_NUMBER_SETTINGS = [
  'quorum',
  'downAfterMs',
  'failoverTimeoutMs',
  'parallelSyncs',
  'masterRebootDownAfterPeriodMs',
] as const satisfies ReadonlyArray<keyof RuntimeSettings>;

/** Only the fields that are there: an absent field means "as configured", unlike a present one. */
const runtimeSettings: Check<RuntimeSettings> = (v, p) => {
  if (!isObject(v)) return fail(p, 'an object', v);
  const settings: Record<string, unknown> = {};
  for (const field of RUNTIME_NUMBER_SETTINGS) {
    if (Object.hasOwn(v, field)) settings[field] = count(v[field], fieldPath(p, field));
  }
  if (Object.hasOwn(v, 'renamedCommands'))
    settings.renamedCommands = dictionary(text)(v.renamedCommands, fieldPath(p, 'renamedCommands'));
  return settings as RuntimeSettings;
};

const masterRecord = object<MasterRecord>({
  name: text,
  host: text,
  port,
  currentEpoch: count,
  configEpoch: count,
  leader: nullable(text),
  leaderLeaseUntil: finite,
  failoverState: oneOf(...FAILOVER_STATES),
  failoverStartedAt: nullable(finite),
  failover: nullable(failoverProgress),
  retryNotBefore: finite,
  failoverRequestedAt: nullable(finite),
  failoverRequestCoordinated: flag,
  monitored: flag,
  settings: runtimeSettings,
  settingsVersion: count,
  resetAt: nullable(finite),
  origin: nullable(origin),
  updatedAt: finite,
});

const recordsHandover = object<RecordsHandover>({
  changeCounter: count,
  fullReadAt: finite,
  records: list(masterRecord),
});

function handoverState(value: Record<string, unknown>, path: string): HandoverState {
  const checked = object<{
    savedAt: number;
    tilt: TiltState;
    masters: Array<[string, MasterHandover]>;
    records: RecordsHandover | null;
  }>({
    savedAt: finite,
    tilt,
    masters: entries(masterHandover),
    records: nullable(recordsHandover),
  })(value, path);
  const fromStored = checked.savedAt;
  const masters = checked.masters.map(([name, part]): [string, MasterHandover] => [
    name,
    {
      origin: part.origin,
      monitor: {
        master: shiftObservation(part.monitor.master, fromStored),
        replicas: part.monitor.replicas.map((r) => shiftObservation(r, fromStored)),
      },
      memory: shiftMemory(part.memory, fromStored),
    },
  ]);
  return {
    savedAt: checked.savedAt,
    tilt: checked.tilt,
    masters: new Map(masters),
    records: checked.records,
  };
}
