/**
 * The SENTINEL commands over the store (records, replicas, votes, leases) and, when the sentinel loops
 * run in this process, over their observations: the SentinelView of the local runner and of the API
 * function. The rules it applies are core's: names (lib/core/names.ts), MONITOR and SET validation
 * (lib/core/settings.ts), RESET's glob (lib/core/glob.ts), vote freshness and quorum
 * (lib/core/quorum.ts), and Sentinel's texts (lib/core/sentinelReplies.ts).
 */
import { type HostResolver, resolveHost } from '../adapters/redis/resolveHost.js';
import { SENTINEL_DEFAULTS, sentinelHeartbeatStaleMs } from '../core/constants.js';
import type { MasterMemory } from '../core/decide.js';
import { addressKey } from '../core/decide.js';
import { globMatch } from '../core/glob.js';
import { InvalidMasterNameError, masterNameTooLong } from '../core/names.js';
import type { InstanceObservation } from '../core/observation.js';
import { selectReplica } from '../core/selection.js';
import {
  AUTH_USER_NEEDS_FILE_ENTRY,
  ckquorumReply,
  invalidMasterName,
  SENTINEL_REPLY,
} from '../core/sentinelReplies.js';
import {
  applySetArgs,
  type CredentialChange,
  isIpLiteral,
  type ScriptChange,
  validateMonitor,
} from '../core/settings.js';
import type { TiltState } from '../core/tilt.js';
import type { LoopLease, MasterRecord, SentinelConfig, SentinelId } from '../core/types.js';
import type { EventLog } from '../eventLog.js';
import type { SentinelStore } from '../ports.js';
import { type Clock, systemClock } from '../runtime/clock.js';
import { requestManualFailover } from '../runtime/manualFailover.js';
import { settingsFor, settingsOf } from '../runtime/masterSettings.js';
import type { MonitorSnapshot } from '../runtime/monitor.js';
import {
  infoText,
  isStale,
  type MasterState,
  masterMap,
  replicaMap,
  type Speaker,
  sentinelMap,
} from './instanceMaps.js';
import { ReadCache } from './readCache.js';
import {
  type AddressWithEpoch,
  type CachedInfo,
  type CommandReply,
  type Fields,
  type InfoCacheEntry,
  MAX_ADDRESS_WAIT_MS,
  runIdOf,
  type SentinelView,
} from './view.js';

/**
 * A sentinel loop running in this process. `SentinelRunner` has `memories()`; `snapshots()` (its
 * monitors' observations) is used when present.
 */
export interface RunnerLike {
  readonly sentinelId: SentinelId;
  memories(): Record<string, MasterMemory>;
  snapshots?(): Record<string, MonitorSnapshot>;
  /** Its TILT now (INFO's sentinel_tilt); without it, the lease's `tilt` is read. */
  tiltState?(): TiltState;
}

export interface StoreViewOptions {
  /** Sentinel loops in this process: their observations fill the timing fields. */
  readonly runners?: readonly RunnerLike[];
  /** The sentinel this endpoint speaks as (MYID; not listed by SENTINEL SENTINELS). Default: the first member. */
  readonly selfId?: SentinelId;
  /** How long a failover asked with awaitOutcome waits for it before answering OK anyway (default 5000 ms). */
  readonly failoverWaitMs?: number;
  readonly clock?: Clock;
  /** The event log `events` reads (without one, `events` answers an empty list). */
  readonly eventLog?: EventLog;
  /** How often a long poll re-reads the record while it waits (default 200 ms). */
  readonly addressPollMs?: number;
  /**
   * Serve get-master-addr-by-name from a read at most this old (default 0: read every time). Only where
   * the sentinel loops run in the same process and hand every record they read or write to `noteRecord`,
   * so a switch is seen at once (the local runner); the cache only bounds the store reads of a busy
   * client, and how late a change made by another process is seen.
   */
  readonly addressCacheMs?: number;
  /** Run-time credentials (SET auth-pass|auth-user): the local runner's; absent, SET refuses them. */
  readonly credentials?: RuntimeCredentialSink;
  /** Run-time script paths (SET notification-script|client-reconfig-script): the local runner's. */
  readonly scripts?: RuntimeScriptSink;
  /** Resolves host names (MONITOR with resolve-hostnames, replies without announce-hostnames). */
  readonly resolveHost?: HostResolver;
  /**
   * resolve-hostnames and announce-hostnames in force, read at each command (SENTINEL CONFIG SET changes
   * them in the local runner). Default: the configuration's.
   */
  readonly hostnames?: () => HostnamePolicy;
}

export interface HostnamePolicy {
  readonly resolveHostnames: boolean;
  readonly announceHostnames: boolean;
}

/**
 * Where SENTINEL SET auth-pass|auth-user goes in a process that holds the Redis credentials (the local
 * runner, lib/local/credentials.ts). Without one (the deployment) SET refuses them and says how to rotate.
 */
export interface RuntimeCredentialSink {
  /** False when this change cannot be applied to this master here (then SET refuses it whole). */
  accepts(record: MasterRecord, change: CredentialChange): boolean;
  /** Called before the SET's record write, so the sentinels re-read settings with it in force. */
  apply(record: MasterRecord, change: CredentialChange): void;
}

/**
 * Where SENTINEL SET notification-script|client-reconfig-script goes in a process that runs scripts (the
 * local runner, lib/local/scripts.ts). Without one (the deployment) SET refuses them and says what to use.
 */
export interface RuntimeScriptSink {
  /** Why this change cannot be taken (Sentinel's text for a path that is not executable), or null. */
  problem(change: ScriptChange): string | null;
  apply(record: MasterRecord, change: ScriptChange): void;
}

/** A host name's address is looked up at most this often for replies (announce-hostnames no). */
const ANNOUNCED_ADDRESS_CACHE_MS = 1_000;

/** storeSentinelView's extras for the process that hosts it. */
export interface StoreSentinelView extends SentinelView {
  /** Forget every cached read of a master: its address and its instance maps. */
  invalidate(name: string): void;
  /**
   * Forget the cached instance maps of a master (SENTINEL MASTER, REPLICAS, SENTINELS, CKQUORUM): call
   * it on every event about the master, whose flags, epoch or leader it may have changed. Its address
   * stays: noteRecord keeps it current.
   */
  invalidateInstanceMaps(name: string): void;
  /**
   * A master record as it stands in the store, from the sentinels of this process (every record they
   * read or write, SentinelRunnerOptions.onRecord). A newer configuration than the one lookups answer
   * (a failover's switch) is answered from the next lookup on, without a store read or a cache expiry.
   */
  noteRecord(record: MasterRecord): void;
}

const NO_SUCH_MASTER: CommandReply = {
  ok: false,
  kind: 'no-such-master',
  error: SENTINEL_REPLY.noSuchMaster,
};

/**
 * A name over the length limit cannot be monitored, and must not reach the store (its keys would
 * overflow): refused with the limit, `-ERR Invalid master name: …` over RESP. Other bad names simply
 * find nothing, as Sentinel answers for an unknown master.
 */
function refuseOverlongName(name: string): void {
  const problem = masterNameTooLong(name);
  if (problem !== null) throw new InvalidMasterNameError(problem);
}

/** REMOVE and SET answer an overlong name with a refusal instead (they never read it). */
function overlongNameReply(name: string): CommandReply | null {
  const tooLong = masterNameTooLong(name);
  return tooLong === null ? null : { ok: false, kind: 'invalid', error: invalidMasterName(tooLong) };
}

/** The sentinels' loop leases: one read per member (membership is fixed), cheaper than a Scan. */
export async function readMemberLeases(
  store: SentinelStore,
  members: readonly SentinelId[],
): Promise<LoopLease[]> {
  const leases = await Promise.all(members.map((id) => store.getLease(id)));
  return leases.filter((lease): lease is LoopLease => lease !== null);
}

/**
 * Everything the store holds about one master, read together: its record, votes and replicas in one
 * read, and `leases` alongside it for a master the configuration names (after it otherwise, so that a
 * name nobody monitors costs one read); null for a name neither configured nor recorded.
 */
export async function readMasterState(
  store: SentinelStore,
  config: SentinelConfig,
  name: string,
  leases: () => Promise<readonly LoopLease[]>,
): Promise<MasterState | null> {
  const configured = config.masters.some((m) => m.name === name);
  // Promise.all: whichever read fails, the other's outcome is handled too.
  const [{ record, votes, replicas }, leasedEarly] = await Promise.all([
    store.getMasterVotesReplicas(name),
    configured ? leases() : null,
  ]);
  const settings = settingsFor(config, name, record);
  if (settings === null) return null;
  const leased = leasedEarly ?? (await leases());
  const address = record
    ? { host: record.host, port: record.port }
    : { host: settings.host, port: settings.port };
  return {
    settings,
    record,
    address,
    replicas: replicas.filter((r) => !(r.host === address.host && r.port === address.port)),
    votes,
    leases: [...leased],
  };
}

/** A SET that loses the race to another SET re-reads and re-validates, this many times at most. */
const SET_ATTEMPTS = 5;

const DEFAULT_ADDRESS_POLL_MS = 200;
const DEFAULT_FAILOVER_WAIT_MS = 5_000;

export function storeSentinelView(
  store: SentinelStore,
  config: SentinelConfig,
  options: StoreViewOptions = {},
): StoreSentinelView {
  const clock = options.clock ?? systemClock;
  const members = config.global.sentinelIds;
  const selfId = options.selfId ?? members[0] ?? 'sentinel';
  const myRunId = runIdOf(selfId);
  const speaker: Speaker = { selfId, members, heartbeatStaleMs: sentinelHeartbeatStaleMs(config.global) };
  const self = (): RunnerLike | undefined =>
    options.runners?.find((r) => r.sentinelId === selfId) ?? options.runners?.[0];

  const lookupHost = options.resolveHost ?? resolveHost;
  const resolveHostnames = (): boolean =>
    options.hostnames?.().resolveHostnames ??
    config.global.resolveHostnames ??
    SENTINEL_DEFAULTS.resolveHostnames;
  const announceHostnames = (): boolean =>
    options.hostnames?.().announceHostnames ??
    config.global.announceHostnames ??
    SENTINEL_DEFAULTS.announceHostnames;
  const resolved = new Map<string, { readonly address: string | null; readonly at: number }>();
  /**
   * The address a reply gives for `host`: as given when it is an IP address or with announce-hostnames
   * yes; otherwise the IP address it resolves to, as Sentinel announces (the name itself if it does
   * not resolve now: better than no answer, and what the sentinels keep trying to reach).
   */
  async function announced(host: string): Promise<string> {
    if (announceHostnames() || isIpLiteral(host)) return host;
    const now = clock.now();
    const cached = resolved.get(host);
    if (cached !== undefined && now - cached.at < ANNOUNCED_ADDRESS_CACHE_MS) return cached.address ?? host;
    const address = await lookupHost(host);
    resolved.set(host, { address, at: now });
    return address ?? host;
  }
  /**
   * An instance map with its `ip` field announced; a replica's `name` (`<ip>:<port>`) too, as Sentinel
   * names a demoted master it monitored by host name.
   */
  async function withAnnouncedIp(fields: Fields): Promise<Fields> {
    const ip = fields.find(([field]) => field === 'ip')?.[1];
    if (ip === undefined) return fields;
    const shown = await announced(ip);
    if (shown === ip) return fields;
    const port = fields.find(([field]) => field === 'port')?.[1];
    const isReplica = fields
      .find(([field]) => field === 'flags')?.[1]
      ?.split(',')
      .includes('slave');
    return fields.map(([field, value]) => {
      if (field === 'ip') return [field, shown];
      if (field === 'name' && isReplica) return [field, `${shown}:${port}`];
      return [field, value];
    });
  }

  const snapshotOf = (name: string): MonitorSnapshot | null => self()?.snapshots?.()[name] ?? null;
  const memoryOf = (name: string): MasterMemory | null => self()?.memories()[name] ?? null;

  /**
   * SENTINEL FAILOVER's NOGOODSLAVE, decided as Sentinel decides it: at once, by the selection rules on
   * this sentinel's own view. Only where that view is in this process (the local runner); elsewhere the
   * request is recorded and the leader's -failover-abort-no-good-slave event tells.
   */
  const noReplicaToPromote = async (name: string): Promise<boolean> => {
    const snapshot = snapshotOf(name);
    const memory = memoryOf(name);
    if (!snapshot || !memory) return false;
    const s = await state(name);
    if (!s) return false;
    const candidates = snapshot.replicas.map((observation) => ({
      observation,
      sdown: memory.replicaSdownSince[addressKey(observation.address)] !== undefined,
    }));
    const selection = selectReplica(candidates, {
      settings: s.settings,
      masterSdownSince: null,
      now: clock.now(),
    });
    return selection.chosen === null;
  };

  /** Configured masters first (file order), then those added by MONITOR; never a removed one. */
  async function names(): Promise<string[]> {
    const records = await store.listMasters();
    const removed = new Set(records.filter((r) => !r.monitored).map((r) => r.name));
    const configured = config.masters.map((m) => m.name).filter((n) => !removed.has(n));
    const added = records.filter((r) => r.monitored && !configured.includes(r.name)).map((r) => r.name);
    return [...configured, ...added];
  }

  // SENTINEL MASTER / REPLICAS / SENTINELS / CKQUORUM read six items; clients in Sentinel mode ask for
  // SENTINELS at every reconnect, so these reads are cached like the address (and dropped alike).
  const states = new ReadCache<MasterState | null>(options.addressCacheMs ?? 0, clock);
  const state = async (name: string): Promise<MasterState | null> => {
    refuseOverlongName(name);
    return states.get(name, () => readState(name));
  };

  const readState = (name: string) =>
    readMasterState(store, config, name, () => readMemberLeases(store, members));

  const otherSentinels = (s: MasterState) =>
    members
      .filter((id) => id !== selfId)
      .map((id) => ({ id, lease: s.leases.find((l) => l.sentinelId === id) ?? null }));

  const masterFields = (s: MasterState) =>
    masterMap(
      s,
      speaker,
      clock.now(),
      snapshotOf(s.settings.name)?.master ?? null,
      memoryOf(s.settings.name),
    );

  /** The record of a master, seeding it from the file if the sentinels have not yet (a fresh table). */
  async function seedConfigured(name: string): Promise<MasterRecord | null> {
    const record = await store.getMaster(name);
    if (record !== null) return record;
    const configured = config.masters.find((m) => m.name === name);
    if (!configured) return null;
    return store.ensureMaster({ name, host: configured.host, port: configured.port, now: clock.now() });
  }

  const pollMs = options.addressPollMs ?? DEFAULT_ADDRESS_POLL_MS;
  /** Highest epoch returned per master: a lookup never goes back (a lagging read cannot undo a switch). */
  const highest = new Map<string, AddressWithEpoch>();
  const cacheMs = options.addressCacheMs ?? 0;
  const addresses = new ReadCache<AddressWithEpoch | null>(cacheMs, clock);

  async function addressOf(name: string): Promise<AddressWithEpoch | null> {
    refuseOverlongName(name);
    return addresses.get(name, () => readAddress(name));
  }

  async function readAddress(name: string): Promise<AddressWithEpoch | null> {
    const configured = config.masters.find((m) => m.name === name);
    const record = await store.getMaster(name);
    const read: AddressWithEpoch | null = record
      ? record.monitored
        ? { ip: record.host, port: record.port, epoch: record.configEpoch }
        : null
      : configured
        ? { ip: configured.host, port: configured.port, epoch: 0 }
        : null;
    if (read === null) {
      highest.delete(name);
      return null;
    }
    const before = highest.get(name);
    if (before && before.epoch > read.epoch) return before;
    const shown = { ...read, ip: await announced(read.ip) };
    highest.set(name, shown);
    return shown;
  }

  /**
   * The switch pushed as it is written. Only a configuration newer than every one answered so far: an
   * older or equal one is what lookups know already (and REMOVE, MONITOR or a lagging copy is left to
   * the store read, which answers it within the cache age). A host name that must be announced as its
   * address is resolved by the next lookup's read instead.
   */
  function noteRecord(record: MasterRecord): void {
    if (!record.monitored) return;
    const before = highest.get(record.name);
    if (before !== undefined && before.epoch >= record.configEpoch) return;
    if (!announceHostnames() && !isIpLiteral(record.host)) {
      addresses.drop(record.name);
      return;
    }
    const pushed: AddressWithEpoch = { ip: record.host, port: record.port, epoch: record.configEpoch };
    highest.set(record.name, pushed);
    addresses.put(record.name, pushed);
  }

  return {
    invalidate: (name) => {
      addresses.drop(name);
      states.drop(name);
    },
    invalidateInstanceMaps: (name) => states.drop(name),
    noteRecord,
    myId: () => myRunId,
    masterNames: names,
    addressNow(name) {
      // An overlong name gets its error from addressOf.
      if (masterNameTooLong(name) !== null) return undefined;
      return addresses.peek(name, () => readAddress(name))?.data;
    },
    async masterAddress(name) {
      const address = await addressOf(name);
      return address && { host: address.ip, port: address.port };
    },
    async master(name) {
      const s = await state(name);
      return s ? withAnnouncedIp(masterFields(s)) : null;
    },
    async masters() {
      const all = await Promise.all((await names()).map(state));
      return Promise.all(
        all.filter((s): s is MasterState => s !== null).map((s) => withAnnouncedIp(masterFields(s))),
      );
    },
    async replicas(name) {
      const s = await state(name);
      if (!s) return null;
      const snapshot = snapshotOf(s.settings.name);
      const sdown = memoryOf(s.settings.name)?.replicaSdownSince;
      const listed = s.replicas.flatMap((replica) => {
        const obs =
          snapshot?.replicas.find(
            (r) => r.address.host === replica.host && r.address.port === replica.port,
          ) ?? null;
        // Sentinel does not list a replica whose INFO says replica_announced:0 (`replica-announced no`),
        // although it still monitors it and may promote it. A sentinel loop's own INFO where one runs
        // here, else what the sentinels recorded with the replica (the deployed API function).
        if ((obs?.info?.replicaAnnounced ?? replica.announced) === false) return [];
        return [replicaMap(s, replica, clock.now(), obs, sdown?.[`${replica.host}:${replica.port}`] ?? null)];
      });
      return Promise.all(listed.map(withAnnouncedIp));
    },
    async sentinels(name, endpoint) {
      const s = await state(name);
      return (
        s &&
        otherSentinels(s).map(({ id, lease }) => sentinelMap(s, id, lease, endpoint, clock.now(), speaker))
      );
    },
    async ckquorum(name) {
      const s = await state(name);
      if (!s) return null;
      const now = clock.now();
      const usable =
        1 + otherSentinels(s).filter((o) => !isStale(o.lease, now, speaker.heartbeatStaleMs)).length;
      return ckquorumReply(usable, s.settings.quorum, members.length);
    },
    async failover(name, failoverOptions) {
      refuseOverlongName(name);
      if (await noReplicaToPromote(name)) return 'NOGOODSLAVE';
      // Over RESP, answered as soon as the request is recorded, as Sentinel answers: a client with a short
      // socket timeout must not retry into INPROG. The HTTP API waits a little for the outcome.
      const outcome = await requestManualFailover(store, name, {
        clock,
        waitMs: failoverOptions?.awaitOutcome ? (options.failoverWaitMs ?? DEFAULT_FAILOVER_WAIT_MS) : 0,
        coordinated: failoverOptions?.coordinated,
      });
      switch (outcome.reply) {
        case 'INPROG':
        case 'NOGOODSLAVE':
        case 'NOSUCHMASTER':
          return outcome.reply;
        default:
          // OK, and also TIMEOUT/ABORTED: the request was recorded and accepted, as Sentinel's OK means.
          return 'OK';
      }
    },
    addressOf,
    async waitForAddress(name, afterEpoch, waitMs, signal) {
      refuseOverlongName(name);
      const until = clock.now() + Math.max(0, Math.min(waitMs, MAX_ADDRESS_WAIT_MS));
      for (;;) {
        const current = await readAddress(name);
        if (current === null || current.epoch > afterEpoch || clock.now() >= until || signal?.aborted)
          return current;
        await clock.sleep(Math.min(pollMs, Math.max(1, until - clock.now())), signal);
      }
    },
    async monitor(name, ip, port, quorum) {
      const valid = validateMonitor(name, ip, port, quorum, { resolveHostnames: resolveHostnames() });
      if (!valid.ok) return { ok: false, kind: 'invalid', error: valid.error };
      const { host, port: portNumber, quorum: quorumNumber } = valid.value;
      // With resolve-hostnames, Sentinel refuses a name that does not resolve; the name is kept as given.
      if (!isIpLiteral(host) && (await lookupHost(host)) === null)
        return { ok: false, kind: 'invalid', error: SENTINEL_REPLY.invalidAddress };
      // A master listed in the file but never seeded exists for the sentinels: seed it first so MONITOR
      // of the same name is a duplicate, as it would be on a Sentinel that loaded that file.
      const configured = config.masters.find((m) => m.name === name);
      if (configured)
        await store.ensureMaster({ name, host: configured.host, port: configured.port, now: clock.now() });
      const outcome = await store.monitorMaster({
        name,
        host,
        port: portNumber,
        settings: { quorum: quorumNumber },
        now: clock.now(),
      });
      return outcome === 'created'
        ? { ok: true }
        : { ok: false, kind: 'conflict', error: SENTINEL_REPLY.duplicateMaster };
    },
    async remove(name) {
      const refused = overlongNameReply(name);
      if (refused !== null) return refused;
      await seedConfigured(name);
      return (await store.removeMaster(name, { now: clock.now() })) ? { ok: true } : NO_SUCH_MASTER;
    },
    async set(name, args) {
      const refused = overlongNameReply(name);
      if (refused !== null) return refused;
      // Validated against the version it read; a concurrent SET makes the write fail and this retry.
      for (let attempt = 0; attempt < SET_ATTEMPTS; attempt++) {
        const record = await seedConfigured(name);
        if (record === null || !record.monitored) return NO_SUCH_MASTER;
        const applied = applySetArgs(args, record.settings, settingsOf(config, record), {
          runtimeCredentials: options.credentials !== undefined,
          runtimeScripts: options.scripts !== undefined,
          denyScriptsReconfig: config.global.denyScriptsReconfig ?? SENTINEL_DEFAULTS.denyScriptsReconfig,
        });
        if (!applied.ok) return { ok: false, kind: 'invalid', error: applied.error };
        const { credentials, scripts } = applied.value;
        const scriptProblem = scripts === null ? null : (options.scripts?.problem(scripts) ?? null);
        if (scriptProblem !== null) return { ok: false, kind: 'invalid', error: scriptProblem };
        if (credentials !== null && options.credentials !== undefined) {
          if (!options.credentials.accepts(record, credentials))
            return { ok: false, kind: 'invalid', error: AUTH_USER_NEEDS_FILE_ENTRY };
          // In force before the write that makes every sentinel re-read the settings (never stored).
          options.credentials.apply(record, credentials);
        }
        if (scripts !== null) options.scripts?.apply(record, scripts);
        const outcome = await store.updateMasterSettings(name, {
          expectedVersion: record.settingsVersion,
          settings: applied.value.settings,
          now: clock.now(),
        });
        if (outcome === 'updated') {
          // The next SENTINEL MASTER shows the new value, not the read cached before the SET.
          states.drop(name);
          return { ok: true };
        }
        if (outcome === 'no-such-master') return NO_SUCH_MASTER;
      }
      return { ok: false, kind: 'conflict', error: SENTINEL_REPLY.settingsKeptChanging };
    },
    async reset(pattern) {
      let count = 0;
      for (const name of await names()) {
        // SENTINEL RESET's pattern is a Redis glob, matched against master names.
        if (!globMatch(pattern, name)) continue;
        await seedConfigured(name);
        if (await store.resetMaster(name, { now: clock.now() })) count += 1;
      }
      return count;
    },
    async events(query) {
      return options.eventLog ? options.eventLog.list(query) : [];
    },
    async infoCache(asked) {
      const entries: InfoCacheEntry[] = [];
      for (const name of new Set(asked)) {
        // An overlong name names no master: left out like any unknown one, not refused.
        if (masterNameTooLong(name) !== null) continue;
        const s = await state(name);
        if (s === null) continue;
        const snapshot = snapshotOf(s.settings.name);
        const now = clock.now();
        const cached = (obs: InstanceObservation | null | undefined): CachedInfo => ({
          ageMs: obs?.infoAt == null ? 0 : Math.max(0, now - obs.infoAt),
          info: obs?.info ? infoText(obs.info) : null,
        });
        const replicaObs = (host: string, port: number) =>
          snapshot?.replicas.find((r) => r.address.host === host && r.address.port === port);
        entries.push({
          name: s.settings.name,
          instances: [cached(snapshot?.master), ...s.replicas.map((r) => cached(replicaObs(r.host, r.port)))],
        });
      }
      return entries;
    },
    async masterDownByAddr(host, port, withLeader) {
      for (const name of await names()) {
        const s = await state(name);
        if (s === null || s.address.host !== host || s.address.port !== port) continue;
        const flags = (masterFields(s).find(([k]) => k === 'flags')?.[1] ?? '').split(',');
        const leader = withLeader ? (s.record?.leader ?? null) : null;
        return {
          down: flags.includes('s_down'),
          leaderRunId: leader === null ? null : runIdOf(leader),
          leaderEpoch: leader === null ? 0 : (s.record?.currentEpoch ?? 0),
        };
      }
      return { down: false, leaderRunId: null, leaderEpoch: 0 };
    },
    async tilt() {
      const hosted = self();
      if (hosted?.tiltState) {
        const tilt = hosted.tiltState();
        return { inTilt: tilt.inTilt, since: tilt.inTilt ? tilt.since : null };
      }
      const lease = await store.getLease(selfId);
      return { inTilt: lease?.tilt ?? false, since: null };
    },
  };
}
