/**
 * One sentinel's loop for one invocation: hold the sentinel's loop lease, probe every monitored master
 * continuously, and on each tick read the store, run the pure core, and carry out what it decided.
 *
 * Hand-over: a new invocation of the same sentinel asks the running one to hand over; the running one
 * releases the lease with its observations at its next heartbeat and stops, and the new one resumes from
 * them. Probing has no gap (the old one probes until the release) and never runs twice (the lease has one
 * holder; a holder that lost it is fenced by the lease token on every vote it writes).
 *
 * What is read when, when the store counts as down, the lease's timing and the tick line are decided in
 * lib/core (loopSchedule.ts, storeHealth.ts, leaseTiming.ts, tickLine.ts); this file and its neighbours
 * carry the decisions out: lease.ts the lease, slots.ts the monitored masters and their records,
 * failovers.ts the failovers, storeHealth.ts the store's health and its log lines.
 */
import { randomUUID } from 'node:crypto';
import { ResolvedHosts, resolveHost } from '../../adapters/redis/resolveHost.js';
import { SENTINEL_DEFAULTS } from '../../core/constants.js';
import {
  applyClaimOutcome,
  applyVoteWritten,
  decideMaster,
  type MasterAction,
  type MasterMemory,
} from '../../core/decide.js';
import { formatEvent, makeEvent, withHostsAsIps } from '../../core/events.js';
import { choiceForClaim } from '../../core/failover.js';
import { handedOverToken, handoverGap, stopReason } from '../../core/leaseTiming.js';
import {
  looksDown,
  loopStoreStep,
  loopWakeAt,
  masterRead,
  nextReadAfterDecision,
  nextReadAfterRead,
  nextReadAfterVote,
  READ_AT_ONCE,
  readAheadAt,
  replicasReadRecently,
  wakeForMaster,
} from '../../core/loopSchedule.js';
import { replicaAddresses } from '../../core/replicas.js';
import { isIpLiteral } from '../../core/settings.js';
import { writesAllowed } from '../../core/storeHealth.js';
import {
  NO_TICK_LINE_YET,
  notOkFields,
  type TickLineClock,
  tickLineState,
  tickLineStep,
  tickSummary,
} from '../../core/tickLine.js';
import { INITIAL_TILT, observeTimer, type TiltState } from '../../core/tilt.js';
import type { LoopLease, SentinelEvent, SentinelId } from '../../core/types.js';
import { redactSecrets, secretsOf } from '../../eventLog.js';
import type { ClaimEpochRequest } from '../../ports.js';
import { type Clock, systemClock } from '../clock.js';
import {
  type HandoverState,
  parseHandoverState,
  type RecordsHandover,
  serializeHandoverState,
} from '../handover.js';
import { errorFields, FAULT, type Log, RepeatedFailureLog, silentLog } from '../log.js';
import type { MonitorSnapshot } from '../monitor.js';
import { Failovers, leaderView } from './failovers.js';
import { LoopLeaseKeeper } from './lease.js';
import { RecordsCopy } from './records.js';
import { MasterSlots } from './slots.js';
import { StoreHealthTracker } from './storeHealth.js';
import type { LoopParts, MasterSlot, RunEnd, RunReport, SentinelRunnerOptions } from './types.js';

/**
 * TILT is judged on its own timer, like Sentinel's timer handler (10 Hz): a late timer means the
 * process was paused. Tick lateness would not do — a tick legitimately waits on store calls.
 */
const TILT_TIMER_PERIOD_MS = 100;

/**
 * How long a master's start waits for its host name to resolve, so that its `+monitor` gives the IP
 * address (announce-hostnames no). Bounded: a slow resolver must not hold monitoring back.
 */
const HOST_LOOKUP_WAIT_MS = 2_000;

export class SentinelRunner {
  readonly #o: SentinelRunnerOptions;
  readonly #clock: Clock;
  readonly #log: Log;
  readonly invocationId: string;
  readonly #health: StoreHealthTracker;
  readonly #lease: LoopLeaseKeeper;
  readonly #records: RecordsCopy;
  readonly #failovers: Failovers;
  readonly #slots: MasterSlots;
  #tilt: TiltState = INITIAL_TILT;
  #ticks = 0;
  /** Per master: a tick that throws is logged at its first failure, then at most once a minute. */
  readonly #tickFailures: RepeatedFailureLog;
  readonly #secrets: readonly string[];
  /** Masters whose record or votes a peer in this process changed since their last tick (peerWrites). */
  readonly #changedByPeers = new Set<string>();
  /** Ends the loop's current sleep when a peer writes (only with peerWrites). */
  #wake: AbortController | null = null;
  readonly #resolvedHosts: ResolvedHosts;

  constructor(options: SentinelRunnerOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.log ?? silentLog;
    this.#tickFailures = new RepeatedFailureLog(this.#log, () => this.#clock.now());
    this.invocationId = options.invocationId ?? randomUUID();
    this.#secrets = secretsOf(options.config);
    this.#health = new StoreHealthTracker(this.#clock, this.#log);
    this.#resolvedHosts = new ResolvedHosts(options.resolveHost ?? resolveHost, () => this.#clock.now());
    const parts: LoopParts = {
      options,
      clock: this.#clock,
      log: this.#log,
      invocationId: this.invocationId,
      health: this.#health,
      emit: (event, epoch) => this.#emit(event, epoch),
      learnHosts: (hosts) => this.#learnHosts(hosts),
    };
    this.#lease = new LoopLeaseKeeper(parts, () => this.#tilt.inTilt);
    this.#records = new RecordsCopy(parts);
    this.#failovers = new Failovers(parts);
    this.#slots = new MasterSlots(parts, this.#records, (master) => {
      this.#tickFailures.forget(master);
      this.#failovers.abort(master);
    });
  }

  get sentinelId(): SentinelId {
    return this.#o.sentinelId;
  }

  /** Per-master memory, for tests and the local runner's status output. */
  memories(): Record<string, MasterMemory> {
    return Object.fromEntries(this.#slots.all.map((s) => [s.settings.name, s.memory]));
  }

  /** Its TILT now (the Sentinel endpoint's INFO: sentinel_tilt, sentinel_tilt_since_seconds). */
  tiltState(): TiltState {
    return this.#tilt;
  }

  /** Per-master observations (the Sentinel endpoint's timing fields). */
  snapshots(): Record<string, MonitorSnapshot> {
    return Object.fromEntries(this.#slots.all.map((s) => [s.settings.name, s.monitor.snapshot()]));
  }

  async run(): Promise<RunReport> {
    const acquired = await this.#lease.acquire();
    if (acquired === 'holder-running') return this.#report('holder-running', false);
    if (!acquired) return this.#report('lease-not-acquired', false);
    // From here on the lease is held: whatever throws (resuming, starting the monitors, the loop, the
    // clean-up itself), the finally below releases it, or the next invocation would wait for it to expire.
    let end: RunEnd = 'deadline';
    let completed = false;
    let resumed = false;
    const stopTiltTimer = new AbortController();
    const unsubscribe = this.#o.peerWrites?.subscribe((master, writer) => this.#peerWrote(master, writer));
    let tiltTimer: Promise<void> | null = null;
    try {
      const handedOver = this.#resume(await this.#handedOverState(acquired.previous));
      resumed = handedOver.observations !== null;
      await this.#slots.start(handedOver.observations, handedOver.records);
      this.#observeTimer();
      tiltTimer = this.#runTiltTimer(stopTiltTimer.signal);
      end = await this.#loop();
      completed = true;
    } catch (error) {
      this.#log('error', 'sentinel loop failed; releasing the lease without hand-over state', {
        fault: FAULT.loopFailed,
        ...errorFields(error),
      });
      throw error;
    } finally {
      try {
        stopTiltTimer.abort();
        unsubscribe?.();
        await tiltTimer;
        // A failover in flight stops between steps; the next invocation of this sentinel (or another
        // sentinel, once the lease expires) resumes it from the recorded step.
        await this.#failovers.stopAll();
        await Promise.all(this.#slots.all.map((s) => s.monitor.stop()));
        // A claim's change-counter increment may still be in flight (ports.ts settle).
        await this.#o.store.settle();
      } finally {
        // After a failure, what this invocation observed is not handed on: the successor starts fresh.
        if (end !== 'lease-lost')
          await this.#lease.release(completed, (token) => this.#saveHandoverState(token));
      }
    }
    return this.#report(end, resumed);
  }

  #report(end: RunEnd, resumedFromHandover: boolean): RunReport {
    // Most invocations find the holder running: one line each would be most of the log bill.
    this.#log(end === 'holder-running' ? 'debug' : 'info', 'sentinel loop ended', {
      end,
      ticks: this.#ticks,
    });
    return { invocationId: this.invocationId, end, ticks: this.#ticks, resumedFromHandover };
  }

  #shouldStop(): RunEnd | null {
    return stopReason(this.#o.signal?.aborted ?? false, this.#clock.now(), this.#o.stopAt);
  }

  // ---------------------------------------------------------------- hand-over

  /**
   * The state the previous holder saved, if it released the lease (lib/core/leaseTiming.ts
   * handedOverToken). One read, once per invocation.
   */
  async #handedOverState(previous: LoopLease | null): Promise<string | null> {
    const token = handedOverToken(previous);
    if (token === null) return null;
    try {
      return await this.#o.store.getHandoverState(this.#o.sentinelId, { token });
    } catch (error) {
      this.#health.noteError(error);
      this.#log('warn', 'could not read the hand-over state; starting with fresh observations', {
        ...errorFields(error),
      });
      return null;
    }
  }

  /**
   * Resumes from the previous holder's observations only if it released the lease moments ago
   * (handoverGap): the observation window is then continuous. After a gap, everything starts fresh, like
   * a new sentinel. Its copy of the records is usable after any gap: the change counter says whether it
   * is current.
   */
  #resume(text: string | null): { observations: HandoverState | null; records: RecordsHandover | null } {
    const none = { observations: null, records: null };
    if (text === null) return none;
    // Checked before any of it is used: the store may hold anything (lib/runtime/handover.ts).
    const parsed = parseHandoverState(text);
    if (!parsed.ok) {
      const { kind, reason } = parsed.rejection;
      // An old or new version is a deployment in progress; anything else is bad data in the table.
      this.#log('warn', 'hand-over state not usable; starting with fresh observations', {
        reason,
        ...(kind === 'version' ? {} : { fault: FAULT.handoverStateInvalid }),
      });
      return none;
    }
    const state = parsed.state;
    const { recent, gapMs } = handoverGap(
      state.savedAt,
      this.#clock.now(),
      this.#o.config.global.tiltTriggerMs,
    );
    if (!recent) {
      this.#log('info', 'hand-over state too old; starting with fresh observations', { gapMs });
      return { observations: null, records: state.records };
    }
    // The TILT period in force carries over; the timer restarts on this invocation's own clock (the
    // gap was judged above), or a small skew between the two clocks would look like a jump.
    this.#tilt = { ...state.tilt, lastTimerAt: null };
    this.#log('info', 'resuming from hand-over state', { gapMs });
    return { observations: state, records: state.records };
  }

  async #saveHandoverState(token: number): Promise<boolean> {
    const state = serializeHandoverState({
      savedAt: this.#clock.now(),
      tilt: this.#tilt,
      masters: new Map(
        this.#slots.all.map((s) => [
          s.settings.name,
          { origin: s.origin, monitor: s.monitor.snapshot(), memory: s.memory },
        ]),
      ),
      records: this.#records.handover(),
    });
    try {
      if (await this.#o.store.putHandoverState(this.#o.sentinelId, { token, state })) return true;
      this.#log('warn', 'hand-over state not saved: a newer invocation saved one already');
    } catch (error) {
      this.#log('warn', 'could not save the hand-over state; the successor starts fresh', {
        fault: FAULT.handoverStateNotSaved,
        stateBytes: state.length,
        ...errorFields(error),
      });
    }
    return false;
  }

  // ---------------------------------------------------------------- loop

  async #loop(): Promise<RunEnd> {
    const { config } = this.#o;
    const { heartbeatPeriodMs } = config.global;
    let nextHeartbeatAt = this.#clock.now() + heartbeatPeriodMs;
    let lastSummary: string | null = null;
    let tickLine: TickLineClock = NO_TICK_LINE_YET;
    for (;;) {
      const stop = this.#shouldStop();
      if (stop) return stop;

      const now = this.#clock.now();
      const step = loopStoreStep({
        now,
        storeDown: this.#health.down,
        nextHeartbeatAt,
        renewalDue: this.#lease.renewalDue(now),
        heartbeatPeriodMs,
      });
      if (step.kind === 'outage-check') {
        // During an outage no tick waits on the store: one background renewal per heartbeat checks it.
        const check = this.#health.checkInBackground(() => this.#lease.renew(lastSummary), heartbeatPeriodMs);
        if (check === 'lost') return 'lease-lost';
        if (check === 'handover') return 'handover';
      } else if (step.kind === 'heartbeat') {
        // The heartbeat: the change counter, which tells whether any record changed, and the lease when
        // it needs a look (lib/core/leaseTiming.ts leaseHeartbeat).
        const [lease] = await Promise.all([
          this.#lease.heartbeat(lastSummary, now),
          step.readCounter ? this.#slots.refresh() : undefined,
        ]);
        if (lease === 'lost') return 'lease-lost';
        if (lease === 'handover') return 'handover';
        nextHeartbeatAt = step.nextHeartbeatAt;
      }
      let wakeAt = loopWakeAt(
        now,
        this.#slots.all.map((s) => s.settings.probePeriodMs),
      );
      let failedMasters = 0;
      // Dropping a slot replaces the array and adding one appends to it: while it is the same array,
      // every slot of the copy is still monitored, and no search per slot (quadratic in the masters) is
      // needed.
      const slotsAtStart = this.#slots.all;
      for (const slot of [...slotsAtStart]) {
        if (this.#slots.all !== slotsAtStart && !this.#slots.all.includes(slot)) continue;
        const master = slot.settings.name;
        try {
          const outcome = await this.#tickMaster(slot);
          if (outcome === 'fenced') return 'lease-lost';
          // Checked first: the line's fields would be built for every master on every tick otherwise.
          if (this.#tickFailures.isFailing(master))
            this.#tickFailures.recovered(master, 'tick for master works again', { master });
          wakeAt = wakeForMaster(wakeAt, slot.lastDecision, slot.nextReadAt, {
            at: readAheadAt(slot.monitor.master, slot.settings.downAfterMs),
            now: this.#clock.now(),
          });
        } catch (error) {
          // A bug or an unexpected reply must never stop the sentinel: go on with the next tick. It
          // counts on the tick line (failedMasters, which the alarms watch); the error line is rate-limited.
          failedMasters += 1;
          this.#tickFailures.failed(master, 'tick failed for master', { master, ...errorFields(error) });
        }
      }
      this.#ticks += 1;
      this.#health.closeQuietUnexpectedErrors();
      const slots = this.#slots.all;
      const line = tickLineStep(
        tickLine,
        tickLineState({
          tilt: this.#tilt.inTilt,
          storeDown: this.#health.down,
          failed: failedMasters > 0,
          masters: slots,
        }),
        failedMasters,
        now,
      );
      tickLine = line.clock;
      if (line.log) {
        const { line: text, notOk } = tickSummary(this.#o.sentinelId, this.#tilt.inTilt, slots);
        lastSummary = text;
        this.#log('info', text, {
          tick: this.#ticks,
          // Masters whose tick threw this time. A tick with any is not a healthy tick: the deployed
          // LoopTicks metric counts only lines with 0, and the sentinel-faults alarm counts the others.
          failedMasters,
          tilt: this.#tilt.inTilt,
          storeUnavailable: this.#health.down,
          mastersOk: slots.length - notOk.length,
          masters: notOk.map(notOkFields),
        });
      }
      await this.#sleepUntil(wakeAt);
    }
  }

  /**
   * The loop's wait until `wakeAt`. With peers in this process, a peer's write ends it early; one made
   * while the loop was busy makes it tick again at once.
   */
  async #sleepUntil(wakeAt: number): Promise<void> {
    const ms = this.#changedByPeers.size > 0 ? 0 : Math.max(1, wakeAt - this.#clock.now());
    if (this.#o.peerWrites === undefined) return this.#clock.sleep(ms, this.#o.signal);
    const wake = new AbortController();
    this.#wake = wake;
    const stop = this.#o.signal;
    try {
      await this.#clock.sleep(ms, stop === undefined ? wake.signal : AbortSignal.any([stop, wake.signal]));
    } finally {
      this.#wake = null;
    }
  }

  /**
   * A peer in this process wrote the master's record or votes: read them at its next tick, and tick now.
   * Reading earlier than the vote-read period changes nothing about what is decided, only when: the
   * reads are the same consistent reads, judged by the same rules.
   */
  #peerWrote(master: string, writer: SentinelId): void {
    if (writer === this.#o.sentinelId) return;
    if (!this.#slots.all.some((s) => s.settings.name === master)) return;
    this.#changedByPeers.add(master);
    this.#wake?.abort();
  }

  async #tickMaster(slot: MasterSlot): Promise<'ok' | 'fenced'> {
    const { settings } = slot;
    // A peer's write since the last tick is read now (peerWrites), whatever the schedule says.
    if (this.#changedByPeers.delete(settings.name)) slot.nextReadAt = READ_AT_ONCE;
    const now = this.#clock.now();
    // Peers' votes are read, with the record, only while they can matter (lib/core/loopSchedule.ts
    // masterRead); otherwise the record is kept current by the change counter (MasterSlots.refresh), and
    // the view's votes are the last ones read: the tick line's count shows those still fresh, and
    // nothing is decided from them.
    const read = masterRead({
      now,
      storeDown: this.#health.down,
      nextReadAt: slot.nextReadAt,
      votesReadAt: slot.votesReadAt,
      looksDown: looksDown(slot.memory.sdownSince, slot.monitor.master, slot.settings, now),
      readAheadAt: readAheadAt(slot.monitor.master, settings.downAfterMs),
    });
    if (read === 'store-down') {
      if (slot.view?.status !== 'unavailable')
        slot.view = { status: 'unavailable', reason: this.#health.reason };
    } else if (read === 'read') {
      await this.#readMaster(slot, now);
    }

    if (!this.#announcesHostnames()) this.#learnNamesOf(slot);
    const decision = decideMaster({
      now,
      self: this.#o.sentinelId,
      members: this.#o.config.global.sentinelIds,
      settings,
      master: slot.monitor.master,
      replicas: slot.monitor.replicas,
      tilt: this.#tilt.inTilt,
      store: slot.view ?? { status: 'unavailable', reason: 'not read yet' },
      memory: slot.memory,
    });
    slot.memory = decision.memory;
    slot.lastDecision = decision;
    for (const event of decision.events) this.#emit(event);
    slot.monitor.setFastInfo(decision.status === 'sdown' || decision.status === 'odown');

    for (const action of decision.actions) {
      const result = await this.#execute(slot, action);
      if (result === 'fenced') return 'fenced';
      if (result === 'skipped') break;
    }
    slot.nextReadAt = nextReadAfterDecision({
      now,
      nextReadAt: slot.nextReadAt,
      sdownSince: slot.memory.sdownSince,
      wantsFastVoteReads: decision.wantsFastVoteReads,
    });
    return 'ok';
  }

  /** One master's record and votes, read together (one consistent read). */
  async #readMaster(slot: MasterSlot, now: number): Promise<void> {
    const { store, config } = this.#o;
    const name = slot.settings.name;
    try {
      const { record, votes, replicas } = await store.getMasterVotesReplicas(name);
      const resolved =
        record ??
        (await store.ensureMaster({ name, host: slot.settings.host, port: slot.settings.port, now }));
      const readAt = this.#clock.now();
      this.#records.set(name, resolved);
      slot.votes = votes;
      slot.votesReadAt = readAt;
      slot.replicasRead = replicaAddresses(replicas);
      if (!(await this.#slots.applyRecord(slot, resolved, readAt))) return;
      this.#health.noteRead(readAt);
      this.#health.noteAnswered();
      slot.nextReadAt = nextReadAfterRead(true, now, config.global.heartbeatPeriodMs);
    } catch (error) {
      this.#health.noteError(error);
      slot.view = { status: 'unavailable', reason: this.#health.reasonOf(error) };
      slot.nextReadAt = nextReadAfterRead(false, now, config.global.heartbeatPeriodMs);
    }
  }

  async #execute(slot: MasterSlot, action: MasterAction): Promise<'done' | 'fenced' | 'skipped'> {
    const { store, sentinelId } = this.#o;
    const name = slot.settings.name;
    const masterRef = { name, address: slot.monitor.masterAddress };
    // Without a safe lease (or with the store down) nothing is written: no vote, no claim.
    if (!writesAllowed(this.#health.health, this.#lease.lease, this.#clock.now())) return 'skipped';
    const lease = this.#lease.lease as LoopLease;
    try {
      switch (action.type) {
        case 'write-vote': {
          const outcome = await store.putVote({
            master: name,
            sentinelId,
            down: action.down,
            observedAt: action.observedAt,
            configEpoch: action.configEpoch,
            token: lease.token,
            invocationId: this.invocationId,
          });
          if (outcome === 'fenced') {
            this.#log('warn', 'vote fenced: a newer invocation of this sentinel holds the lease', {
              master: name,
            });
            return 'fenced';
          }
          slot.nextReadAt = nextReadAfterVote({
            nextReadAt: slot.nextReadAt,
            down: action.down,
            wasDown: slot.memory.voteWritten?.down === true,
          });
          slot.memory = applyVoteWritten(slot.memory, action, this.#clock.now());
          return 'done';
        }
        case 'claim-epoch': {
          // The replicas to re-point are recorded with the choice, the failover's first write, so a winner
          // need not read them after its claim: those read with the votes the claim was decided on, or,
          // when that read is not recent (a requested failover of a master that looks up), a read sent
          // along with the claim.
          const now = this.#clock.now();
          const recent = replicasReadRecently(slot.votesReadAt, now) ? slot.replicasRead : null;
          const replicas = recent
            ? Promise.resolve(recent)
            : store.listReplicas(name).then(replicaAddresses, () => null);
          // An automatic start records the choice of replica with the claim when this sentinel's view
          // allows it now (choiceForClaim): the winner then goes straight to REPLICAOF NO ONE.
          const chosen =
            action.mode === 'start' && recent
              ? choiceForClaim(action.progress, leaderView(slot), recent, slot.settings, now)
              : null;
          // Its connection to the chosen replica opens while the claim is written; only a won claim's
          // failover uses it.
          const control = chosen?.promoted ? this.#failovers.preparedControl(slot, chosen.promoted) : null;
          const request: ClaimEpochRequest =
            action.mode === 'start'
              ? {
                  mode: 'start',
                  expectedEpoch: action.expectedEpoch,
                  sentinelId,
                  leaseUntil: action.leaseUntil,
                  progress: chosen ?? action.progress,
                  now,
                }
              : {
                  mode: 'resume',
                  expectedEpoch: action.expectedEpoch,
                  sentinelId,
                  leaseUntil: action.leaseUntil,
                  now,
                };
          const result = await store.claimEpoch(name, request).catch((error: unknown) => {
            control?.close?.();
            throw error;
          });
          if (!result.won) control?.close?.();
          const applied = applyClaimOutcome(slot.memory, action, result, masterRef, this.#clock.now());
          slot.memory = applied.memory;
          for (const event of applied.events) this.#emit(event);
          this.#records.set(name, result.record);
          if (slot.view?.status === 'ok') slot.view = { ...slot.view, record: result.record };
          this.#log('info', result.won ? `won epoch ${result.record.currentEpoch}` : 'lost the epoch', {
            master: name,
            mode: action.mode,
            epoch: result.record.currentEpoch,
            leader: result.record.leader,
          });
          // Fast path: the elected sentinel runs the failover itself, at once, without waiting for a tick.
          if (result.won)
            this.#failovers.start(slot, result.record.currentEpoch, {
              record: result.record,
              replicas,
              ...(control ? { control } : {}),
            });
          return 'done';
        }
        case 'run-failover':
          this.#failovers.start(slot, action.epoch);
          return 'done';
        case 'reconfigure-replica':
          await this.#failovers.reconfigureReplica(slot, action.address, action.reason);
          return 'done';
      }
    } catch (error) {
      this.#health.noteError(error);
      if (action.type === 'claim-epoch') {
        slot.memory = applyClaimOutcome(
          slot.memory,
          action,
          { error: this.#health.reasonOf(error) },
          masterRef,
          0,
        ).memory;
      }
      return 'skipped';
    }
  }

  // ---------------------------------------------------------------- TILT and events

  /** The TILT timer, on the injected clock (a simulated clock drives it like everything else). */
  async #runTiltTimer(stop: AbortSignal): Promise<void> {
    while (!stop.aborted) {
      await this.#clock.sleep(TILT_TIMER_PERIOD_MS, stop);
      if (!stop.aborted) this.#observeTimer();
    }
  }

  #observeTimer(): void {
    const now = this.#clock.now();
    const tilt = observeTimer(this.#tilt, now, this.#o.config.global);
    this.#tilt = tilt.state;
    if (tilt.transition === 'entered') this.#emit(makeEvent('+tilt', '#tilt mode entered', null, now));
    if (tilt.transition === 'exited') this.#emit(makeEvent('-tilt', '#tilt mode exited', null, now));
  }

  #announcesHostnames(): boolean {
    return (
      this.#o.announceHostnames?.() ??
      this.#o.config.global.announceHostnames ??
      SENTINEL_DEFAULTS.announceHostnames
    );
  }

  /** In the background: the host names events may show as addresses (a lookup never delays a tick). */
  #learnNamesOf(slot: MasterSlot): void {
    const names: string[] = [];
    const { host } = slot.monitor.masterAddress;
    if (!isIpLiteral(host)) names.push(host);
    for (const replica of slot.monitor.replicas) {
      if (!isIpLiteral(replica.address.host)) names.push(replica.address.host);
    }
    if (names.length > 0) void this.#resolvedHosts.learn(names);
  }

  async #learnHosts(hosts: readonly string[]): Promise<void> {
    if (this.#announcesHostnames() || hosts.every(isIpLiteral)) return;
    const waited = new AbortController();
    await Promise.race([
      this.#resolvedHosts.learn(hosts),
      this.#clock.sleep(HOST_LOOKUP_WAIT_MS, waited.signal).catch(() => {}),
    ]);
    waited.abort();
  }

  #emit(raw: SentinelEvent, epoch?: number | null): void {
    // With announce-hostnames no, Sentinel shows every instance by its IP address.
    const announced = this.#announcesHostnames()
      ? raw
      : withHostsAsIps(raw, (host) => this.#resolvedHosts.ipOf(host));
    // An auth-pass must never reach a log line, the event log or an alert.
    const event = redactSecrets(announced, this.#secrets);
    const slot = this.#slots.all.find((s) => s.settings.name === event.master);
    const known = slot?.view?.status === 'ok' ? slot.view.record.currentEpoch : null;
    this.#log(event.level === 'verbose' ? 'debug' : 'info', formatEvent(event), {
      event: event.type,
      payload: event.payload,
      master: event.master,
      eventLevel: event.level,
    });
    this.#o.onEvent?.(event, this.#o.sentinelId, epoch ?? known);
  }
}
