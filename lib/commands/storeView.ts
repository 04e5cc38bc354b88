/**
 * The SENTINEL commands over the store (records, replicas, votes, leases) and, when the sentinel loops
 * run in this process, over their observations: the SentinelView of the local runner and of the API
 * function. The rules it applies are core's: names (lib/core/names.ts), MONITOR and SET validation
 * (lib/core/settings.ts), RESET's glob (lib/core/glob.ts), vote freshness and quorum
 * (lib/core/quorum.ts), and Sentinel's texts (lib/core/sentinelReplies.ts).
 */
import { sentinelHeartbeatStaleMs } from '../core/constants.js';
import type { MasterMemory } from '../core/decide.js';
import { globMatch } from '../core/glob.js';
import { InvalidMasterNameError, masterNameTooLong } from '../core/names.js';
import { ckquorumReply, invalidMasterName, SENTINEL_REPLY } from '../core/sentinelReplies.js';
import { applySetArgs, validateMonitor } from '../core/settings.js';
import type { LoopLease, MasterRecord, SentinelConfig, SentinelId } from '../core/types.js';
import type { EventLog } from '../eventLog.js';
import type { SentinelStore } from '../ports.js';
import { type Clock, systemClock } from '../runtime/clock.js';
import { requestManualFailover } from '../runtime/manualFailover.js';
import { settingsFor, settingsOf } from '../runtime/masterSettings.js';
import type { MonitorSnapshot } from '../runtime/monitor.js';
import {
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
  type CommandReply,
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
}

export interface StoreViewOptions {
  /** Sentinel loops in this process: their observations fill the timing fields. */
  readonly runners?: readonly RunnerLike[];
  /** The sentinel this endpoint speaks as (MYID; not listed by SENTINEL SENTINELS). Default: the first member. */
  readonly selfId?: SentinelId;
  /** How long SENTINEL FAILOVER waits for the outcome before answering OK anyway (default 5000 ms). */
  readonly failoverWaitMs?: number;
  readonly clock?: Clock;
  /** The event log `events` reads (without one, `events` answers an empty list). */
  readonly eventLog?: EventLog;
  /** How often a long poll re-reads the record while it waits (default 200 ms). */
  readonly addressPollMs?: number;
  /**
   * Serve get-master-addr-by-name from a read at most this old (default 0: read every time). Only where
   * the sentinel loops run in the same process and call `invalidate` on every event of the master, so
   * a switch is seen at once (the local runner); the cache only bounds the store reads of a busy client.
   */
  readonly addressCacheMs?: number;
}

/** storeSentinelView's extras for the process that hosts it. */
export interface StoreSentinelView extends SentinelView {
  /** Forget the cached address of a master (call it on every event about the master). */
  invalidate(name: string): void;
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

  const snapshotOf = (name: string): MonitorSnapshot | null => self()?.snapshots?.()[name] ?? null;
  const memoryOf = (name: string): MasterMemory | null => self()?.memories()[name] ?? null;

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

  async function readState(name: string): Promise<MasterState | null> {
    const record = await store.getMaster(name);
    const settings = settingsFor(config, name, record);
    if (settings === null) return null;
    const address = record
      ? { host: record.host, port: record.port }
      : { host: settings.host, port: settings.port };
    const [replicas, votes, leases] = await Promise.all([
      store.listReplicas(name),
      store.listVotes(name),
      // One read per member (membership is fixed): cheaper than listing leases with a Scan.
      Promise.all(members.map((id) => store.getLease(id))).then((leases) =>
        leases.filter((lease): lease is LoopLease => lease !== null),
      ),
    ]);
    return {
      settings,
      record,
      address,
      replicas: replicas.filter((r) => !(r.host === address.host && r.port === address.port)),
      votes,
      leases,
    };
  }

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
    highest.set(name, read);
    return read;
  }

  return {
    invalidate: (name) => {
      addresses.drop(name);
      states.drop(name);
    },
    myId: () => myRunId,
    masterNames: names,
    async masterAddress(name) {
      const address = await addressOf(name);
      return address && { host: address.ip, port: address.port };
    },
    async master(name) {
      const s = await state(name);
      return s ? masterFields(s) : null;
    },
    async masters() {
      const all = await Promise.all((await names()).map(state));
      return all.filter((s): s is MasterState => s !== null).map(masterFields);
    },
    async replicas(name) {
      const s = await state(name);
      if (!s) return null;
      const snapshot = snapshotOf(s.settings.name);
      const sdown = memoryOf(s.settings.name)?.replicaSdownSince;
      return s.replicas.map((replica) =>
        replicaMap(
          s,
          replica,
          clock.now(),
          snapshot?.replicas.find(
            (r) => r.address.host === replica.host && r.address.port === replica.port,
          ) ?? null,
          sdown?.[`${replica.host}:${replica.port}`] ?? null,
        ),
      );
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
      const outcome = await requestManualFailover(store, name, {
        clock,
        waitMs: options.failoverWaitMs ?? DEFAULT_FAILOVER_WAIT_MS,
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
      const valid = validateMonitor(name, ip, port, quorum, members.length);
      if (!valid.ok) return { ok: false, kind: 'invalid', error: valid.error };
      const { host, port: portNumber, quorum: quorumNumber } = valid.value;
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
        const applied = applySetArgs(args, record.settings, settingsOf(config, record), members.length);
        if (!applied.ok) return { ok: false, kind: 'invalid', error: applied.error };
        const outcome = await store.updateMasterSettings(name, {
          expectedVersion: record.settingsVersion,
          settings: applied.value.settings,
          now: clock.now(),
        });
        if (outcome === 'updated') return { ok: true };
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
  };
}
