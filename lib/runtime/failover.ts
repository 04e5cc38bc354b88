/**
 * The failover runner: runs Sentinel's failover state machine (lib/core/failover.ts) for the leader of
 * the epoch — inline in the elected sentinel, so nothing waits for a cold function. The decisions are the
 * core's; the runner only executes them, one request at a time: read the record → step → check the
 * leader lease (before a command) → send → record.
 *
 * Every step is recorded in the master record by a write conditional on (epoch, leader, state) BEFORE its
 * side effect on Redis, so that:
 * - a runner that lost its epoch records nothing more and stops (fencing);
 * - whoever resumes the failover (the next invocation of this sentinel, or another sentinel once this
 *   one's lease expired) continues from the recorded step with the recorded choices — the same promoted
 *   replica, never a second one. Each step's side effect is idempotent, so repeating it is harmless.
 */
import { addressKey } from '../core/decide.js';
import { stepFailover } from '../core/failover.js';
import type {
  FailoverAnswer,
  FailoverCommand,
  FailoverMemory,
  FailoverRequest,
  FailoverWrite,
} from '../core/failoverStep.js';
import { leaderFenceMs } from '../core/fence.js';
import { replicaAddresses } from '../core/replicas.js';
import type { ReplicaCandidate } from '../core/selection.js';
import type {
  Address,
  GlobalSettings,
  MasterRecord,
  MasterSettings,
  SentinelEvent,
  SentinelId,
} from '../core/types.js';
import {
  type RedisControl,
  type RedisProbe,
  type RedisProbeFactory,
  type ReplicaOfResult,
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
  /**
   * Each record a step's write left in the store, before the next step (and its events) runs: the local
   * runner's endpoint answers the switch from it at once (SentinelRunnerOptions.onRecord).
   */
  readonly onRecord?: (record: MasterRecord) => void;
  /** The leader's own current view of the replicas and of the master, for selection. */
  readonly view: () => { replicas: readonly ReplicaCandidate[]; masterSdownSince: number | null };
  /**
   * Resolves once the view can be judged (bounded): the replicas' INFO asked for when the master went
   * down has come in. Awaited before the view is taken for selection, which would otherwise reject a
   * replica for an INFO from the slow period when the failover starts within ms of SDOWN.
   */
  readonly settleView?: () => Promise<void>;
  readonly signal: AbortSignal;
  /**
   * Set when this sentinel's own claim of the epoch just won: the record that conditional write
   * returned (nothing newer can exist while its leader lease runs), and the recorded replicas, read
   * while the claim was written. The run then starts without a store round trip. Absent when a
   * failover is resumed: both are read.
   */
  readonly claimed?: ClaimedFailover;
}

export interface ClaimedFailover {
  readonly record: MasterRecord;
  /** Never rejects: null when the read failed (the runner then reads again, with retries). */
  readonly replicas: Promise<readonly Address[] | null>;
  /** The control whose connection to the chosen replica the claim opened ahead (RedisControl.prepare). */
  readonly control?: RedisControl;
}

/** What doing a step's request left: the record as it now stands, and the answer for the next step. */
interface Performed {
  readonly record: MasterRecord;
  readonly answer: FailoverAnswer;
}

/** How long to wait before retrying a store write that failed because the store is unreachable. */
const STORE_RETRY_MS = 200;

export class FailoverRunner {
  readonly #o: FailoverRunnerOptions;
  readonly #probes = new Map<string, RedisProbe>();
  /** The replicas read along with the claim, used once (a repeated selection reads them again). */
  #claimedReplicas: Promise<readonly Address[] | null> | null;

  constructor(options: FailoverRunnerOptions) {
    this.#o = options;
    this.#claimedReplicas = options.claimed?.replicas ?? null;
  }

  async run(): Promise<FailoverEnd> {
    const { log, settings, clock } = this.#o;
    try {
      const read =
        this.#o.claimed?.record ?? (await this.#retryStore(() => this.#o.store.getMaster(settings.name)));
      if (read === null) return this.#interrupted();
      let record: MasterRecord = read;
      let memory: FailoverMemory = null;
      let answer: FailoverAnswer = { type: 'none' };
      if (this.#o.claimed && read.failoverState === 'send_slaveof_noone') {
        // This sentinel's own claim recorded the choice (choiceForClaim): the claim was the write that
        // entered send_slaveof_noone, so the run continues as after select_slave's write.
        memory = { state: 'send_slaveof_noone', stage: 'entered' };
        answer = { type: 'recorded' };
      }
      // The record read, and each one a write into a new state returns, must still be this runner's epoch.
      let checkEpoch = true;
      for (;;) {
        // Between iterations only (see FailoverAnswer): stopped when asked to, or once the epoch moved.
        if (answer.type === 'none') {
          const end = this.#shouldEnd(record, checkEpoch);
          if (end) return end;
          checkEpoch = false;
        }
        const now = clock.now();
        const step = stepFailover({ now, settings, record, memory, answer });
        for (const line of step.logs) log(line.level, line.message, line.fields);
        for (const event of step.events) this.#o.emit(event);
        memory = step.memory;
        const { request } = step;
        if (request.type === 'end') return this.#shouldEnd(record, checkEpoch) ?? request.outcome;
        // The view is taken without a pause, so the choice and the call of the write that records it
        // happen in one synchronous stretch with it: nothing observed changes in between.
        const done: Performed | null =
          request.type === 'view'
            ? { record, answer: { type: 'view', view: this.#o.view() } }
            : await this.#perform(request, record, now);
        if (done === null) return this.#interrupted();
        ({ record, answer } = done);
        if (request.type === 'record' && request.write.to !== request.write.from) checkEpoch = true;
      }
    } catch (error) {
      log('error', 'failover runner failed', { master: settings.name, ...errorFields(error) });
      return 'stopped';
    } finally {
      // A connection the claim opened ahead and no command used (RedisControl.prepare).
      this.#o.control.close?.();
      // The failover's writes leave their change-counter increments in flight (ports.ts settle).
      await Promise.all([...[...this.#probes.values()].map((p) => p.close()), this.#o.store.settle()]);
    }
  }

  /**
   * Does what the step asked (at `now`, the time it was asked): the answer for the next step and the
   * record as it now stands, or null when the runner can go no further (stopped, or the epoch moved).
   */
  async #perform(
    request: Exclude<FailoverRequest, { type: 'end' | 'view' }>,
    record: MasterRecord,
    now: number,
  ): Promise<Performed | null> {
    const { settings, store } = this.#o;
    switch (request.type) {
      case 'continue':
        return { record, answer: { type: 'none' } };
      case 'read-replicas': {
        const claimed = this.#claimedReplicas;
        this.#claimedReplicas = null;
        // The next request is the view, for selection: its INFO must have had time to come in.
        const [early] = await Promise.all([claimed, this.#o.settleView?.()]);
        if (early) return { record, answer: { type: 'replicas', addresses: early } };
        const recorded = await this.#retryStore(() => store.listReplicas(settings.name));
        if (recorded === null) return null;
        return {
          record,
          answer: { type: 'replicas', addresses: replicaAddresses(recorded) },
        };
      }
      case 'info': {
        const { result } = await this.#probe(request.address).info();
        return { record, answer: { type: 'info', result } };
      }
      case 'send': {
        const owned = await this.#ownsEpoch(record, now);
        if (!owned) return null;
        return { record: owned, answer: { type: 'reply', reply: await this.#send(request.command) } };
      }
      case 'record': {
        const written = await this.#record(record, request.write, now);
        return written && { record: written, answer: { type: 'recorded' } };
      }
      case 'pause': {
        const renewed = await this.#pause(request.ms, record);
        return renewed && { record: renewed, answer: { type: 'none' } };
      }
      case 'remember-replica': {
        const { address, at } = request;
        await this.#retryStore(() =>
          store.upsertReplica({
            master: settings.name,
            host: address.host,
            port: address.port,
            runId: null,
            lastSeenAt: at,
            seenBy: this.#o.sentinelId,
          }),
        );
        return { record, answer: { type: 'none' } };
      }
    }
  }

  /** Whether the runner must end here: asked to stop, or (when `checkEpoch`) the record is another epoch's. */
  #shouldEnd(record: MasterRecord, checkEpoch: boolean): FailoverEnd | null {
    const { signal, log, settings, epoch, sentinelId } = this.#o;
    if (signal.aborted) return 'stopped';
    if (!checkEpoch || (record.currentEpoch === epoch && record.leader === sentinelId)) return null;
    log('warn', 'failover runner lost its epoch; stopping', {
      master: settings.name,
      epoch,
      currentEpoch: record.currentEpoch,
      leader: record.leader,
    });
    return 'lost-epoch';
  }

  /** How a runner that can go no further ends: stopped when asked to, else its epoch moved on. */
  #interrupted(): FailoverEnd {
    return this.#o.signal.aborted ? 'stopped' : 'lost-epoch';
  }

  #send(command: FailoverCommand): Promise<ReplicaOfResult> {
    const { control } = this.#o;
    switch (command.type) {
      case 'promote':
        return control.replicaOf(command.target, null);
      case 'hand-over':
        return control.failoverTo(command.master, command.target, command.timeoutMs);
      case 'replicate':
        return control.replicaOf(command.target, command.master);
    }
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
  async #ownsEpoch(record: MasterRecord, now: number): Promise<MasterRecord | null> {
    const { clock, settings } = this.#o;
    // The configuration guarantees leader-lease >= 2 × the fence (lib/core/fence.ts); settings built
    // otherwise (tests, the simulation) can still fail over, with the margin half a lease allows.
    const needed = Math.min(leaderFenceMs(settings.probeTimeoutMs), settings.leaderLeaseMs / 2);
    if (record.leaderLeaseUntil - now > needed) return record;
    const leaseUntil = await this.#renewLeadership(now);
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

  /** Renews the leader's lease from `now`: its new end, false once the epoch moved, null when stopped. */
  async #renewLeadership(now: number): Promise<number | false | null> {
    const { settings, store } = this.#o;
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
    const now = clock.now();
    if (record.leaderLeaseUntil - now > settings.leaderLeaseMs / 2) return record;
    const leaseUntil = await this.#renewLeadership(now);
    if (leaseUntil === false) return null;
    return leaseUntil === null ? record : { ...record, leaderLeaseUntil: leaseUntil };
  }

  /** The step's write, conditional on this runner's epoch and the state it steps from. */
  async #record(record: MasterRecord, write: FailoverWrite, now: number): Promise<MasterRecord | null> {
    const { settings } = this.#o;
    const result = await this.#retryStore(() =>
      this.#o.store.advanceFailover(settings.name, {
        epoch: this.#o.epoch,
        sentinelId: this.#o.sentinelId,
        now,
        ...write,
        from: [write.from],
      }),
    );
    if (!result) return null;
    if (!result.ok) {
      this.#o.log('warn', 'failover step refused by the store: epoch or state moved', {
        master: settings.name,
        step: `${record.failoverState} → ${write.to}`,
        record: result.record,
      });
      return null;
    }
    this.#o.onRecord?.(result.record);
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
}
