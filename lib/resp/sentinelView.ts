/**
 * What the Redis-protocol endpoint shows: Sentinel's instance maps (field names and order as
 * built from the store (records, replicas, votes, leases) and, when the
 * sentinel loops run in this process, from their observations.
 *
 * Where a Sentinel field has no meaning here, the value is documented next to it (docs/endpoint.md).
 */
import { createHash } from 'node:crypto';
import { sentinelHeartbeatStaleMs } from '../core/constants.js';
import type { MasterMemory } from '../core/decide.js';
import { InvalidMasterNameError, masterNameTooLong } from '../core/names.js';
import type { InstanceObservation } from '../core/observation.js';
import { majorityOf } from '../core/quorum.js';
import { applySetArgs, globMatches, validateMonitor } from '../core/settings.js';
import type {
  Address,
  LoopLease,
  MasterRecord,
  MasterSettings,
  ReplicaRecord,
  SentinelConfig,
  SentinelId,
  Vote,
} from '../core/types.js';
import type { EventLog, EventQuery, EventRecord } from '../eventLog.js';
import type { SentinelStore } from '../ports.js';
import { type Clock, systemClock } from '../runtime/clock.js';
import { requestManualFailover } from '../runtime/manualFailover.js';
import { settingsFor, settingsOf } from '../runtime/masterSettings.js';
import type { MonitorSnapshot } from '../runtime/monitor.js';

/** Ordered `[field, value]` pairs: a Sentinel instance map. Numbers are strings, as Sentinel sends them. */
export type Fields = ReadonlyArray<readonly [string, string]>;

export type FailoverReply = 'OK' | 'INPROG' | 'NOGOODSLAVE' | 'NOSUCHMASTER';

export type CkquorumReply = { readonly ok: boolean; readonly text: string };

/** Where clients reach this endpoint (announced as the sentinels' address). */
export interface EndpointAddress {
  readonly host: string;
  readonly port: number;
}

/** The address clients are told, with the config epoch it belongs to (moves up at each failover). */
export interface AddressWithEpoch {
  readonly ip: string;
  readonly port: number;
  readonly epoch: number;
}

/**
 * The reply to a write command. `error` is Sentinel's text without the `ERR ` prefix (e.g.
 * `No such master with that name`, `Duplicate master name.`); `kind` says how the HTTP API maps it.
 */
export type CommandReply =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly kind: 'no-such-master' | 'invalid' | 'conflict' | 'unavailable';
      readonly error: string;
    };

/**
 * SENTINEL SET as pairs; `rename-command` takes two values (`['rename-command', 'PING', 'PONG']`),
 * every other option one. Validated all-or-nothing, then applied in one conditional write.
 */
export type SetArgs = ReadonlyArray<readonly string[]>;

/**
 * What the endpoint and the HTTP API read and change. The local runner implements it over the store
 * (storeSentinelView); the proxy implements it over the HTTP API (lib/client).
 */
export interface SentinelView {
  /** The 40-hex run id this endpoint answers SENTINEL MYID with. */
  myId(): string;
  masterNames(): Promise<string[]>;
  masterAddress(name: string): Promise<Address | null>;
  master(name: string): Promise<Fields | null>;
  masters(): Promise<Fields[]>;
  replicas(name: string): Promise<Fields[] | null>;
  sentinels(name: string, endpoint: EndpointAddress): Promise<Fields[] | null>;
  ckquorum(name: string): Promise<CkquorumReply | null>;
  failover(name: string, options?: { readonly coordinated?: boolean }): Promise<FailoverReply>;
  /** get-master-addr-by-name with its epoch; null for an unknown master. */
  addressOf(name: string): Promise<AddressWithEpoch | null>;
  /**
   * Long poll: resolves as soon as the master's epoch is greater than `afterEpoch`, or after `waitMs`
   * with the current address (same epoch). Null for an unknown master. Never returns an epoch lower
   * than one this view has returned before for the master.
   */
  waitForAddress(
    name: string,
    afterEpoch: number,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<AddressWithEpoch | null>;
  /** SENTINEL MONITOR (quorum as given, validated like Sentinel). */
  monitor(name: string, ip: string, port: string, quorum: string): Promise<CommandReply>;
  /** SENTINEL REMOVE. */
  remove(name: string): Promise<CommandReply>;
  /** SENTINEL SET, all-or-nothing. */
  set(name: string, args: SetArgs): Promise<CommandReply>;
  /** SENTINEL RESET <glob>: how many masters were reset. */
  reset(pattern: string): Promise<number>;
  /** The event log, newest first (lib/eventLog.ts EventQuery). */
  events(query: EventQuery): Promise<EventRecord[]>;
}

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
  error: 'No such master with that name',
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

/** A SET that loses the race to another SET re-reads and re-validates, this many times at most. */
const SET_ATTEMPTS = 5;

/** Long polls wait at most this long, whatever the caller asks (a Lambda URL request must end in time). */
export const MAX_ADDRESS_WAIT_MS = 20_000;
const DEFAULT_ADDRESS_POLL_MS = 200;

/** How long past its age a cached read may still be served while its refresh runs (a slow or down store). */
const MAX_STALE_MS = 5_000;

/**
 * Reads shared by concurrent callers and reused for `maxAgeMs` (0: no cache). Past that age the last
 * value is still served while ONE refresh runs, so a busy client never waits on the store and a lookup
 * is at most one read behind; `drop` forgets a key so that the next caller waits for a fresh read.
 */
class ReadCache<T> {
  readonly #entries = new Map<
    string,
    { pending: Promise<T> | null; value: { readonly data: T; readonly at: number } | null }
  >();

  constructor(
    private readonly maxAgeMs: number,
    private readonly clock: Clock,
  ) {}

  get(key: string, read: () => Promise<T>): Promise<T> {
    if (this.maxAgeMs <= 0) return read();
    const now = this.clock.now();
    const entry = this.#entries.get(key);
    const value = entry?.value ?? null;
    if (entry && value && now - value.at < this.maxAgeMs) return Promise.resolve(value.data);
    if (entry && value && now - value.at < this.maxAgeMs + MAX_STALE_MS) {
      if (!entry.pending) this.#refresh(key, entry, read).catch(() => {});
      return Promise.resolve(value.data);
    }
    if (entry?.pending) return entry.pending;
    const fresh = { pending: null, value: null };
    this.#entries.set(key, fresh);
    return this.#refresh(key, fresh, read);
  }

  drop(key: string): void {
    this.#entries.delete(key);
  }

  #refresh(
    key: string,
    entry: { pending: Promise<T> | null; value: { readonly data: T; readonly at: number } | null },
    read: () => Promise<T>,
  ): Promise<T> {
    const startedAt = this.clock.now();
    const pending = read();
    entry.pending = pending;
    pending.then(
      (data) => {
        entry.pending = null;
        // Dated by when the read started: the value is at least that fresh.
        if (this.#entries.get(key) === entry) entry.value = { data, at: startedAt };
      },
      () => {
        entry.pending = null;
        if (this.#entries.get(key) === entry && entry.value === null) this.#entries.delete(key);
      },
    );
    return pending;
  }
}

/** A sentinel's run id: 40 hex digits derived from its id (sha1), stable across restarts. */
export function runIdOf(sentinelId: SentinelId): string {
  return createHash('sha1').update(`lambda-sentinel:${sentinelId}`).digest('hex');
}

const ms = (n: number | null | undefined): string => String(Math.max(0, Math.round(n ?? 0)));

interface MasterState {
  readonly settings: MasterSettings;
  readonly record: MasterRecord | null;
  readonly address: Address;
  readonly replicas: ReplicaRecord[];
  readonly votes: Vote[];
  readonly leases: LoopLease[];
}

/** The common prefix of every Sentinel instance map, up to and including `link-refcount`. */
function head(name: string, address: Address, runid: string, flags: string[]): Array<[string, string]> {
  return [
    ['name', name],
    ['ip', address.host],
    ['port', String(address.port)],
    ['runid', runid],
    ['flags', flags.join(',')],
    ['link-pending-commands', '0'],
    ['link-refcount', '1'],
  ];
}

/** Timing fields from an observation: last-ping-sent, last-ok-ping-reply, last-ping-reply. */
function pingFields(
  obs: InstanceObservation | null,
  now: number,
  fallbackOkAt: number | null,
): Array<[string, string]> {
  if (obs === null) {
    const since = fallbackOkAt === null ? '0' : ms(now - fallbackOkAt);
    return [
      ['last-ping-sent', '0'],
      ['last-ok-ping-reply', since],
      ['last-ping-reply', since],
    ];
  }
  return [
    ['last-ping-sent', obs.oldestUnansweredPingAt === null ? '0' : ms(now - obs.oldestUnansweredPingAt)],
    ['last-ok-ping-reply', ms(now - obs.lastValidReplyAt)],
    ['last-ping-reply', ms(now - (obs.lastReplyAt ?? obs.lastValidReplyAt))],
  ];
}

function roleFields(
  obs: InstanceObservation | null,
  configured: 'master' | 'slave',
  now: number,
): Array<[string, string]> {
  const reported = obs?.reportedRole ?? null;
  return [
    ['info-refresh', obs?.infoAt == null ? '0' : ms(now - obs.infoAt)],
    ['role-reported', reported === null ? configured : reported === 'master' ? 'master' : 'slave'],
    ['role-reported-time', obs?.reportedRoleSince == null ? '0' : ms(now - obs.reportedRoleSince)],
  ];
}

export function storeSentinelView(
  store: SentinelStore,
  config: SentinelConfig,
  options: StoreViewOptions = {},
): StoreSentinelView {
  const clock = options.clock ?? systemClock;
  const members = config.global.sentinelIds;
  const selfId = options.selfId ?? members[0] ?? 'sentinel';
  const myRunId = runIdOf(selfId);
  const heartbeatStaleMs = sentinelHeartbeatStaleMs(config.global);
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

  const freshDownVotes = (s: MasterState, now: number): Vote[] =>
    s.votes.filter(
      (v) =>
        v.down &&
        members.includes(v.sentinelId) &&
        v.configEpoch === (s.record?.configEpoch ?? 0) &&
        now - v.observedAt <= s.settings.voteMaxAgeMs,
    );

  const otherSentinels = (s: MasterState) =>
    members
      .filter((id) => id !== selfId)
      .map((id) => ({ id, lease: s.leases.find((l) => l.sentinelId === id) ?? null }));

  const isStale = (lease: LoopLease | null, now: number) =>
    lease === null || now - lease.heartbeatAt > heartbeatStaleMs;

  function masterFields(s: MasterState): Fields {
    const now = clock.now();
    const obs = snapshotOf(s.settings.name)?.master ?? null;
    const memory = memoryOf(s.settings.name);
    const down = freshDownVotes(s, now);
    const selfVote = down.find((v) => v.sentinelId === selfId);
    const sdownSince = memory ? memory.sdownSince : (selfVote?.observedAt ?? null);
    const odownSince = memory
      ? memory.odownSince
      : down.length >= s.settings.quorum
        ? Math.min(...down.map((v) => v.observedAt))
        : null;
    const inFailover = s.record !== null && s.record.failoverState !== 'none';
    const flags = [
      ...(sdownSince !== null ? ['s_down'] : []),
      ...(odownSince !== null ? ['o_down'] : []),
      'master',
      ...(obs !== null && !obs.linkConnected ? ['disconnected'] : []),
      ...(inFailover ? ['failover_in_progress'] : []),
    ];
    const okAt = s.votes
      .filter((v) => !v.down)
      .reduce<number | null>((m, v) => Math.max(m ?? 0, v.observedAt), null);
    const fields: Array<[string, string]> = [
      ...head(s.settings.name, s.address, obs?.runId ?? '', flags),
      ...(inFailover ? [['failover-state', s.record?.failoverState ?? 'none'] as [string, string]] : []),
      ...pingFields(obs, now, okAt),
      ...(sdownSince !== null ? [['s-down-time', ms(now - sdownSince)] as [string, string]] : []),
      ...(odownSince !== null ? [['o-down-time', ms(now - odownSince)] as [string, string]] : []),
      ['down-after-milliseconds', String(s.settings.downAfterMs)],
      ...roleFields(obs, 'master', now),
      ['config-epoch', String(s.record?.configEpoch ?? 0)],
      ['num-slaves', String(s.replicas.length)],
      ['num-other-sentinels', String(members.length - 1)],
      ['quorum', String(s.settings.quorum)],
      ['failover-timeout', String(s.settings.failoverTimeoutMs)],
      ['parallel-syncs', String(s.settings.parallelSyncs)],
    ];
    return fields;
  }

  function replicaFields(s: MasterState, replica: ReplicaRecord): Fields {
    const now = clock.now();
    const key = `${replica.host}:${replica.port}`;
    const obs =
      snapshotOf(s.settings.name)?.replicas.find(
        (r) => r.address.host === replica.host && r.address.port === replica.port,
      ) ?? null;
    const sdownSince = memoryOf(s.settings.name)?.replicaSdownSince[key] ?? null;
    const flags = [
      ...(sdownSince !== null ? ['s_down'] : []),
      'slave',
      ...(obs !== null && !obs.linkConnected ? ['disconnected'] : []),
    ];
    const info = obs?.info ?? null;
    const linkUp = info ? info.masterLinkUp : true;
    return [
      ...head(key, replica, obs?.runId ?? replica.runId ?? '', flags),
      ...pingFields(obs, now, replica.lastSeenAt),
      ...(sdownSince !== null ? [['s-down-time', ms(now - sdownSince)] as [string, string]] : []),
      ['down-after-milliseconds', String(s.settings.downAfterMs)],
      ...roleFields(obs, 'slave', now),
      ['master-link-down-time', String(info?.masterLinkDownSinceMs ?? 0)],
      ['master-link-status', linkUp ? 'ok' : 'err'],
      ['master-host', info ? (info.masterHost ?? '?') : s.address.host],
      ['master-port', String(info ? (info.masterPort ?? 0) : s.address.port)],
      ['slave-priority', String(info?.replicaPriority ?? 100)],
      ['slave-repl-offset', String(info?.replicaOffset ?? 0)],
      ['replica-announced', info && !info.replicaAnnounced ? '0' : '1'],
    ];
  }

  function sentinelFields(
    s: MasterState,
    id: SentinelId,
    lease: LoopLease | null,
    endpoint: EndpointAddress,
  ): Fields {
    const now = clock.now();
    const stale = isStale(lease, now);
    const flags = [...(stale ? ['s_down'] : []), 'sentinel', ...(stale ? ['disconnected'] : [])];
    const heartbeatAt = lease?.heartbeatAt ?? null;
    const since = heartbeatAt === null ? '0' : ms(now - heartbeatAt);
    const leader = s.record?.leader ?? null;
    return [
      ...head(runIdOf(id), endpoint, runIdOf(id), flags),
      ['last-ping-sent', '0'],
      ['last-ok-ping-reply', since],
      ['last-ping-reply', since],
      ...(stale && heartbeatAt !== null
        ? [['s-down-time', ms(now - heartbeatAt - heartbeatStaleMs)] as [string, string]]
        : []),
      ['down-after-milliseconds', String(s.settings.downAfterMs)],
      ['last-hello-message', since],
      ['voted-leader', leader === null ? '?' : runIdOf(leader)],
      ['voted-leader-epoch', String(leader === null ? 0 : (s.record?.currentEpoch ?? 0))],
    ];
  }

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
      return s ? s.replicas.map((r) => replicaFields(s, r)) : null;
    },
    async sentinels(name, endpoint) {
      const s = await state(name);
      return s && otherSentinels(s).map(({ id, lease }) => sentinelFields(s, id, lease, endpoint));
    },
    async ckquorum(name) {
      const s = await state(name);
      if (!s) return null;
      const now = clock.now();
      const others = otherSentinels(s);
      const usable = 1 + others.filter((o) => !isStale(o.lease, now)).length;
      const problems: string[] = [];
      if (usable < s.settings.quorum)
        problems.push('Not enough available Sentinels to reach the specified quorum for this master');
      if (usable < majorityOf(members.length))
        problems.push('Not enough available Sentinels to reach the majority and authorize a failover');
      if (problems.length === 0)
        return {
          ok: true,
          text: `OK ${usable} usable Sentinels. Quorum and failover authorization can be reached`,
        };
      return { ok: false, text: `NOQUORUM ${usable} usable Sentinels. ${problems.join('. ')}` };
    },
    async failover(name, failoverOptions) {
      refuseOverlongName(name);
      const outcome = await requestManualFailover(store, name, {
        clock,
        waitMs: options.failoverWaitMs ?? 5_000,
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
        : { ok: false, kind: 'conflict', error: 'Duplicate master name.' };
    },
    async remove(name) {
      const tooLong = masterNameTooLong(name);
      if (tooLong !== null) return { ok: false, kind: 'invalid', error: `Invalid master name: ${tooLong}` };
      await seedConfigured(name);
      return (await store.removeMaster(name, { now: clock.now() })) ? { ok: true } : NO_SUCH_MASTER;
    },
    async set(name, args) {
      const tooLong = masterNameTooLong(name);
      if (tooLong !== null) return { ok: false, kind: 'invalid', error: `Invalid master name: ${tooLong}` };
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
      return { ok: false, kind: 'conflict', error: 'the settings kept changing; try again' };
    },
    async reset(pattern) {
      let count = 0;
      for (const name of await names()) {
        if (!globMatches(pattern, name)) continue;
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
