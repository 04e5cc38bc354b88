/**
 * The failover runner: Sentinel's failover state machine, run by the leader
 * of the epoch — inline in the elected sentinel, so nothing waits for a cold function.
 *
 * Every step is recorded in the master record by a write conditional on (epoch, leader, state) BEFORE its
 * side effect on Redis, so that:
 * - a runner that lost its epoch records nothing more and stops (fencing);
 * - whoever resumes the failover (the next invocation of this sentinel, or another sentinel once this
 *   one's lease expired) continues from the recorded step with the recorded choices — the same promoted
 *   replica, never a second one. Each step's side effect is idempotent, so repeating it is harmless.
 */
import { SENTINEL_DEFAULTS } from '../core/constants.js';
import { addressKey } from '../core/decide.js';
import {
  type EventType,
  type InstanceRef,
  instanceEvent,
  type MasterRef,
  makeEvent,
} from '../core/events.js';
import { leaderFenceMs } from '../core/fence.js';
import { type ReplicaCandidate, selectReplica } from '../core/selection.js';
import type {
  Address,
  FailoverProgress,
  FailoverState,
  GlobalSettings,
  MasterRecord,
  MasterSettings,
  ReplicaReconf,
  SentinelEvent,
  SentinelId,
} from '../core/types.js';
import {
  type AdvanceFailoverRequest,
  type RedisControl,
  type RedisProbe,
  type RedisProbeFactory,
  type SentinelStore,
  StoreUnavailableError,
} from '../ports.js';
import type { Clock } from './clock.js';
import { errorFields, type Log } from './log.js';

export type FailoverEnd = 'completed' | 'aborted' | 'lost-epoch' | 'stopped';

export interface FailoverRunnerOptions {
  readonly settings: MasterSettings;
  readonly global: GlobalSettings;
  readonly sentinelId: SentinelId;
  readonly epoch: number;
  readonly store: SentinelStore;
  readonly control: RedisControl;
  readonly probeFactory: RedisProbeFactory;
  readonly clock: Clock;
  readonly log: Log;
  readonly emit: (event: SentinelEvent) => void;
  /** The leader's own current view of the replicas and of the master, for selection. */
  readonly view: () => { replicas: readonly ReplicaCandidate[]; masterSdownSince: number | null };
  readonly signal: AbortSignal;
}

/** How long to wait before retrying a store write that failed because the store is unreachable. */
const STORE_RETRY_MS = 200;
/** A replica still not master this long after REPLICAOF NO ONE gets the transaction once more. */
const RESEND_PROMOTION_AFTER_MS = 1_000;

function sameAddress(a: Address | null | undefined, b: Address | null | undefined): boolean {
  return !!a && !!b && a.host === b.host && a.port === b.port;
}

export class FailoverRunner {
  readonly #o: FailoverRunnerOptions;
  readonly #probes = new Map<string, RedisProbe>();
  #end: FailoverEnd = 'completed';

  constructor(options: FailoverRunnerOptions) {
    this.#o = options;
  }

  async run(): Promise<FailoverEnd> {
    const { log, settings } = this.#o;
    try {
      let record = await this.#readRecord();
      while (record && !this.#o.signal.aborted) {
        if (record.currentEpoch !== this.#o.epoch || record.leader !== this.#o.sentinelId) {
          log('warn', 'failover runner lost its epoch; stopping', {
            master: settings.name,
            epoch: this.#o.epoch,
            currentEpoch: record.currentEpoch,
            leader: record.leader,
          });
          return 'lost-epoch';
        }
        const state: FailoverState = record.failoverState;
        if (state === 'none') return this.#end;
        record = await this.#step(record);
      }
      return this.#o.signal.aborted ? 'stopped' : 'lost-epoch';
    } catch (error) {
      log('error', 'failover runner failed', { master: settings.name, ...errorFields(error) });
      return 'stopped';
    } finally {
      await Promise.all([...this.#probes.values()].map((p) => p.close()));
    }
  }

  async #step(record: MasterRecord): Promise<MasterRecord | null> {
    switch (record.failoverState) {
      case 'wait_start':
      case 'select_slave':
        return this.#selectReplica(record);
      case 'send_slaveof_noone':
        return this.#sendPromotion(record);
      case 'wait_promotion':
        return this.#waitForPromotion(record);
      case 'reconf_slaves':
      case 'update_config':
        return this.#reconfigureReplicas(record);
      case 'none':
        return record;
    }
  }

  // ------------------------------------------------------------------ steps

  async #selectReplica(record: MasterRecord): Promise<MasterRecord | null> {
    const { settings, clock } = this.#o;
    const progress = this.#progressOf(record);
    const view = this.#o.view();
    const now = clock.now();
    if (!progress.forced && view.masterSdownSince === null) {
      this.#o.log('info', 'the master answers again before any change: failover abandoned', {
        master: settings.name,
      });
      this.#end = 'aborted';
      return this.#advance(record, 'none', progress, { leaseUntil: 0 });
    }
    const selection = selectReplica(view.replicas, {
      settings,
      masterSdownSince: view.masterSdownSince,
      now,
    });
    if (!selection.chosen) {
      this.#emitAbout('-failover-abort-no-good-slave', progress.oldMaster, {
        kind: 'master',
        address: progress.oldMaster,
      });
      this.#o.log('warn', 'no replica can be promoted', {
        master: settings.name,
        rejected: selection.rejected,
      });
      this.#end = 'aborted';
      return this.#advance(
        record,
        'none',
        { ...progress, rejected: selection.rejected },
        { leaseUntil: 0, retryNotBefore: now + settings.failoverTimeoutMs },
      );
    }
    const promoted = selection.chosen.address;
    const others = await this.#replicasToRepoint(progress.oldMaster, promoted, view.replicas);
    // A forced failover leaves the old master running: it is re-pointed with the replicas.
    if (progress.forced) others.push(progress.oldMaster);
    const next: FailoverProgress = {
      ...progress,
      promoted,
      rejected: selection.rejected,
      replicas: others.map((a) => ({
        host: a.host,
        port: a.port,
        state: 'pending',
        sentAt: null,
        note: null,
      })),
    };
    const advanced = await this.#advance(record, 'send_slaveof_noone', next);
    if (advanced) {
      this.#o.log('info', 'replica selected', {
        master: settings.name,
        promoted,
        rejected: selection.rejected,
      });
      this.#emitAbout('+selected-slave', progress.oldMaster, { kind: 'slave', address: promoted });
      this.#emitAbout('+failover-state-send-slaveof-noone', progress.oldMaster, {
        kind: 'slave',
        address: promoted,
      });
    }
    return advanced;
  }

  async #sendPromotion(record: MasterRecord): Promise<MasterRecord | null> {
    const { settings, clock, control } = this.#o;
    const progress = this.#progressOf(record);
    const promoted = progress.promoted as Address;
    let current = record;
    for (;;) {
      if (this.#o.signal.aborted) return null;
      const owned = await this.#ownsEpoch(current);
      if (!owned) return null;
      current = owned;
      const result = progress.coordinated
        ? await control.failoverTo(progress.oldMaster, promoted, settings.failoverTimeoutMs / 2)
        : await control.replicaOf(promoted, null);
      if (!result.ok && progress.coordinated) {
        // The old master refused the handover (older than 6.2, replica not linked, …): nothing changed.
        this.#o.log('warn', 'coordinated switchover refused; nothing was changed', {
          master: settings.name,
          promoted,
          reason: result.reason,
        });
        this.#end = 'aborted';
        return this.#advance(current, 'none', progress, { leaseUntil: 0 });
      }
      if (result.ok) {
        const advanced = await this.#advance(current, 'wait_promotion', {
          ...progress,
          promotionSentAt: clock.now(),
        });
        if (advanced) {
          this.#emitAbout('+failover-state-wait-promotion', progress.oldMaster, {
            kind: 'slave',
            address: promoted,
          });
        }
        return advanced;
      }
      this.#o.log('warn', 'REPLICAOF NO ONE not accepted yet', {
        master: settings.name,
        promoted,
        reason: result.reason,
      });
      if (this.#timedOut(current)) return this.#abortForTimeout(current, progress);
      const renewed = await this.#pause(SENTINEL_DEFAULTS.failoverPollMs, current);
      if (!renewed) return null;
      current = renewed;
    }
  }

  async #waitForPromotion(record: MasterRecord): Promise<MasterRecord | null> {
    const { settings, clock } = this.#o;
    let current = record;
    const progress = this.#progressOf(record);
    const promoted = progress.promoted as Address;
    let resent = false;
    for (;;) {
      if (this.#o.signal.aborted) return null;
      const outcome = await this.#probe(promoted).info();
      if (outcome.result.type === 'info' && outcome.result.info.role === 'master') {
        this.#emitAbout('+promoted-slave', progress.oldMaster, { kind: 'slave', address: promoted });
        // Lookups switch with this write: get-master-addr-by-name answers the promoted replica from now on.
        const advanced = await this.#advance(current, 'reconf_slaves', progress, { switchTo: promoted });
        if (advanced) {
          this.#o.log('info', 'promotion committed: the master address is switched', {
            master: settings.name,
            promoted,
            configEpoch: advanced.configEpoch,
          });
          this.#emitAbout('+failover-state-reconf-slaves', progress.oldMaster, {
            kind: 'master',
            address: progress.oldMaster,
          });
        }
        return advanced;
      }
      const sentFor = progress.promotionSentAt === null ? 0 : clock.now() - progress.promotionSentAt;
      // Never for a coordinated switchover: the old master is handing over and must not be overtaken.
      if (
        outcome.result.type === 'info' &&
        !progress.coordinated &&
        !resent &&
        sentFor > RESEND_PROMOTION_AFTER_MS
      ) {
        // Still a replica well after the transaction: it may have been lost with a runner that died.
        // Sending it again to the same recorded replica is idempotent.
        resent = true;
        const owned = await this.#ownsEpoch(current);
        if (!owned) return null;
        current = owned;
        await this.#o.control.replicaOf(promoted, null);
      }
      const since = progress.promotionSentAt ?? current.failoverStartedAt ?? clock.now();
      if (clock.now() - since > settings.failoverTimeoutMs) return this.#abortForTimeout(current, progress);
      const renewed = await this.#pause(SENTINEL_DEFAULTS.failoverPollMs, current);
      if (!renewed) return null;
      current = renewed;
    }
  }

  async #reconfigureReplicas(record: MasterRecord): Promise<MasterRecord | null> {
    const { settings, clock, control } = this.#o;
    let current = record;
    let progress = this.#progressOf(record);
    const promoted = progress.promoted as Address;
    for (;;) {
      if (this.#o.signal.aborted) return null;
      const now = clock.now();
      const replicas = [...progress.replicas];
      const update = (i: number, change: Partial<ReplicaReconf>) => {
        replicas[i] = { ...(replicas[i] as ReplicaReconf), ...change };
      };

      if (this.#timedOut(current)) {
        this.#emitAbout('+failover-end-for-timeout', progress.oldMaster, {
          kind: 'master',
          address: progress.oldMaster,
        });
        for (const [i, replica] of replicas.entries()) {
          if (replica.state === 'done') continue;
          const owned = await this.#ownsEpoch(current);
          if (!owned) return null;
          current = owned;
          await control.replicaOf(replica, promoted);
          this.#emitAbout('+slave-reconf-sent-be', progress.oldMaster, { kind: 'slave', address: replica });
          update(i, { state: 'done', note: 'best effort after failover-timeout' });
        }
        return this.#finish(current, { ...progress, replicas });
      }

      // Progress of replicas already told: RECONF_SENT → INPROG → DONE, or done by timeout.
      for (const [i, replica] of replicas.entries()) {
        if (replica.state !== 'sent' && replica.state !== 'inprog') continue;
        if (
          replica.state === 'sent' &&
          replica.sentAt !== null &&
          now - replica.sentAt > SENTINEL_DEFAULTS.replicaReconfTimeoutMs
        ) {
          this.#emitAbout('-slave-reconf-sent-timeout', progress.oldMaster, {
            kind: 'slave',
            address: replica,
          });
          update(i, { state: 'done', note: 'no confirmation within the reconfiguration timeout' });
          continue;
        }
        const outcome = await this.#probe(replica).info();
        if (outcome.result.type !== 'info') continue;
        const info = outcome.result.info;
        const follows =
          info.role === 'replica' && info.masterHost === promoted.host && info.masterPort === promoted.port;
        if (replica.state === 'sent' && follows) {
          this.#emitAbout('+slave-reconf-inprog', progress.oldMaster, { kind: 'slave', address: replica });
          update(i, { state: 'inprog' });
        }
        if (follows && info.masterLinkUp) {
          this.#emitAbout('+slave-reconf-done', progress.oldMaster, { kind: 'slave', address: replica });
          update(i, { state: 'done' });
        }
      }

      // Tell more replicas, at most parallel-syncs at a time.
      let inFlight = replicas.filter((r) => r.state === 'sent' || r.state === 'inprog').length;
      for (const [i, replica] of replicas.entries()) {
        if (inFlight >= settings.parallelSyncs) break;
        if (replica.state !== 'pending') continue;
        const owned = await this.#ownsEpoch(current);
        if (!owned) return null;
        current = owned;
        const result = await control.replicaOf(replica, promoted);
        if (result.ok) {
          this.#emitAbout('+slave-reconf-sent', progress.oldMaster, { kind: 'slave', address: replica });
          update(i, { state: 'sent', sentAt: clock.now() });
          inFlight += 1;
        } else {
          // Sentinel skips replicas that are down; the reconciliation re-points them when they return.
          update(i, { state: 'done', note: `unreachable (${result.reason}); re-pointed when it returns` });
        }
      }

      const changed = JSON.stringify(replicas) !== JSON.stringify(progress.replicas);
      if (replicas.every((r) => r.state === 'done')) return this.#finish(current, { ...progress, replicas });
      if (changed) {
        progress = { ...progress, replicas };
        const advanced = await this.#advance(current, 'reconf_slaves', progress);
        if (!advanced) return null;
        current = advanced;
      }
      const renewed = await this.#pause(SENTINEL_DEFAULTS.failoverPollMs, current);
      if (!renewed) return null;
      current = renewed;
    }
  }

  async #finish(record: MasterRecord, progress: FailoverProgress): Promise<MasterRecord | null> {
    const { settings } = this.#o;
    const promoted = progress.promoted as Address;
    const ended = await this.#advance(record, 'none', progress, { leaseUntil: 0 });
    if (!ended) return null;
    this.#emitAbout('+failover-end', progress.oldMaster, { kind: 'master', address: progress.oldMaster });
    const old = progress.oldMaster;
    this.#o.emit(
      makeEvent(
        '+switch-master',
        `${settings.name} ${old.host} ${old.port} ${promoted.host} ${promoted.port}`,
        settings.name,
        this.#o.clock.now(),
      ),
    );
    // The old master is now one of the replicas: converted when it comes back (+convert-to-slave).
    await this.#retryStore(() =>
      this.#o.store.upsertReplica({
        master: settings.name,
        host: old.host,
        port: old.port,
        runId: null,
        lastSeenAt: this.#o.clock.now(),
        seenBy: this.#o.sentinelId,
      }),
    );
    this.#end = 'completed';
    return ended;
  }

  async #abortForTimeout(record: MasterRecord, progress: FailoverProgress): Promise<MasterRecord | null> {
    this.#emitAbout('-failover-abort-slave-timeout', progress.oldMaster, {
      kind: 'master',
      address: progress.oldMaster,
    });
    this.#end = 'aborted';
    return this.#advance(record, 'none', progress, {
      leaseUntil: 0,
      retryNotBefore: this.#o.clock.now() + this.#o.settings.failoverTimeoutMs,
    });
  }

  // ------------------------------------------------------------------ helpers

  async #readRecord(): Promise<MasterRecord | null> {
    return this.#retryStore(() => this.#o.store.getMaster(this.#o.settings.name));
  }

  #progressOf(record: MasterRecord): FailoverProgress {
    return (
      record.failover ?? {
        oldMaster: { host: record.host, port: record.port },
        promoted: null,
        rejected: [],
        promotionSentAt: null,
        replicas: [],
        forced: false,
        coordinated: false,
      }
    );
  }

  #timedOut(record: MasterRecord): boolean {
    const started = record.failoverStartedAt ?? this.#o.clock.now();
    return this.#o.clock.now() - started > this.#o.settings.failoverTimeoutMs;
  }

  /** Every replica known from this sentinel's view or the store, except the promoted one and the old master. */
  async #replicasToRepoint(
    oldMaster: Address,
    promoted: Address,
    seen: readonly ReplicaCandidate[],
  ): Promise<Address[]> {
    const addresses = new Map<string, Address>();
    for (const candidate of seen)
      addresses.set(addressKey(candidate.observation.address), candidate.observation.address);
    const recorded = await this.#retryStore(() => this.#o.store.listReplicas(this.#o.settings.name));
    for (const replica of recorded ?? [])
      addresses.set(addressKey(replica), { host: replica.host, port: replica.port });
    return [...addresses.values()].filter((a) => !sameAddress(a, promoted) && !sameAddress(a, oldMaster));
  }

  #probe(address: Address): RedisProbe {
    const key = addressKey(address);
    let probe = this.#probes.get(key);
    if (!probe) {
      const { settings, global, clock } = this.#o;
      probe = this.#o.probeFactory(address, {
        timeoutMs: settings.probeTimeoutMs,
        authUser: settings.authUser,
        authPass: settings.authPass,
        tls: global.tls,
        renamedCommands: settings.renamedCommands,
        clientName: `sentinel-${this.#o.sentinelId}-failover`.replace(/[^\w-]/g, ''),
        now: () => clock.now(),
      });
      this.#probes.set(key, probe);
    }
    return probe;
  }

  /**
   * The fence on every command to Redis. The store fences each recorded step, but Redis cannot check
   * an epoch: a runner frozen after recording a step (a paused Lambda, a long GC) whose epoch was taken
   * over in the meantime would otherwise wake up and promote its old choice next to the new master. So
   * a command goes out only while this runner's leader lease outlasts the command's deadline by a
   * margin; otherwise the lease is renewed first, a conditional write that fails once the epoch moved.
   * Returns the record with the lease in force, or null when the epoch is lost.
   */
  async #ownsEpoch(record: MasterRecord): Promise<MasterRecord | null> {
    const { clock, settings } = this.#o;
    const now = clock.now();
    // The configuration guarantees leader-lease >= 2 × the fence (lib/core/fence.ts); settings built
    // otherwise (tests, the simulation) can still fail over, with the margin half a lease allows.
    const needed = Math.min(leaderFenceMs(settings.probeTimeoutMs), settings.leaderLeaseMs / 2);
    if (record.leaderLeaseUntil - now > needed) return record;
    const leaseUntil = await this.#renewLeadership();
    if (leaseUntil === false)
      this.#o.log('warn', 'leader lease lost before a command to Redis: not sent', {
        master: settings.name,
        epoch: this.#o.epoch,
      });
    if (leaseUntil === null || leaseUntil === false) return null;
    // The renewal's own round trip counts against the lease: check it again with the time now.
    if (leaseUntil - clock.now() <= needed) return null;
    return { ...record, leaderLeaseUntil: leaseUntil };
  }

  /** Renews the leader's lease from now: its new end, false once the epoch moved, null when stopped. */
  async #renewLeadership(): Promise<number | false | null> {
    const { clock, settings, store } = this.#o;
    const now = clock.now();
    const leaseUntil = now + settings.leaderLeaseMs;
    const renewed = await this.#retryStore(() =>
      store.renewLeadership(settings.name, {
        epoch: this.#o.epoch,
        sentinelId: this.#o.sentinelId,
        leaseUntil,
        now,
      }),
    );
    if (renewed === null) return null;
    return renewed ? leaseUntil : false;
  }

  /**
   * Waits, renewing the leader's lease when it is half spent (a long wait for a promotion must not let
   * another sentinel take over a healthy runner). Returns the current record, or null if the epoch is lost.
   */
  async #pause(ms: number, record: MasterRecord): Promise<MasterRecord | null> {
    const { clock, settings } = this.#o;
    await clock.sleep(ms, this.#o.signal);
    if (record.leaderLeaseUntil - clock.now() > settings.leaderLeaseMs / 2) return record;
    const leaseUntil = await this.#renewLeadership();
    if (leaseUntil === false) return null;
    return leaseUntil === null ? record : { ...record, leaderLeaseUntil: leaseUntil };
  }

  async #advance(
    record: MasterRecord,
    to: FailoverState,
    progress: FailoverProgress | null,
    extra: Partial<Pick<AdvanceFailoverRequest, 'switchTo' | 'retryNotBefore' | 'leaseUntil'>> = {},
  ): Promise<MasterRecord | null> {
    const { clock, settings } = this.#o;
    const now = clock.now();
    const result = await this.#retryStore(() =>
      this.#o.store.advanceFailover(settings.name, {
        epoch: this.#o.epoch,
        sentinelId: this.#o.sentinelId,
        now,
        from: [record.failoverState],
        to,
        progress,
        leaseUntil: now + settings.leaderLeaseMs,
        ...extra,
      }),
    );
    if (!result) return null;
    if (!result.ok) {
      this.#o.log('warn', 'failover step refused by the store: epoch or state moved', {
        master: settings.name,
        step: `${record.failoverState} → ${to}`,
        record: result.record,
      });
      return null;
    }
    return result.record;
  }

  /** Retries a store call while the store is unreachable; null once the runner is stopped. */
  async #retryStore<T>(call: () => Promise<T>): Promise<T | null> {
    for (;;) {
      if (this.#o.signal.aborted) return null;
      try {
        return await call();
      } catch (error) {
        if (!(error instanceof StoreUnavailableError)) throw error;
        this.#o.log('warn', 'store unavailable during a failover; retrying', errorFields(error));
        await this.#o.clock.sleep(STORE_RETRY_MS, this.#o.signal);
      }
    }
  }

  #emitAbout(type: EventType, masterAddress: Address, instance: InstanceRef): void {
    const master: MasterRef = { name: this.#o.settings.name, address: masterAddress };
    this.#o.emit(instanceEvent(type, master, instance, this.#o.clock.now()));
  }
}
