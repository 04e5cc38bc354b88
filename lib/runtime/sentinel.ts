/**
 * One sentinel's loop for one invocation: hold the sentinel's loop lease, probe every monitored master
 * continuously, and on each tick read the store, run the pure core, and carry out what it decided.
 *
 * Hand-over: a new invocation of the same sentinel asks the running one to hand over; the running one
 * releases the lease with its observations at its next heartbeat and stops, and the new one resumes from
 * them. Probing has no gap (the old one probes until the release) and never runs twice (the lease has one
 * holder; a holder that lost it is fenced by the lease token on every vote it writes).
 */
import { randomUUID } from 'node:crypto';
import {
  decideAuthPass,
  describeWithheldAuthPass,
  effectiveOrigin,
  sameOrigin,
} from '../core/authBinding.js';
import { leaseRenewPeriodMs, SENTINEL_DEFAULTS } from '../core/constants.js';
import {
  addressKey,
  applyClaimOutcome,
  applyVoteWritten,
  decideMaster,
  INITIAL_MEMORY,
  type MasterAction,
  type MasterDecision,
  type MasterMemory,
  type StoreView,
} from '../core/decide.js';
import { formatEvent, makeEvent } from '../core/events.js';
import { sdownCause } from '../core/sdown.js';
import { RENAME_COMMAND, refusedRuntimeRenames, type SetChange, settingChanges } from '../core/settings.js';
import { INITIAL_TILT, observeTimer, type TiltState } from '../core/tilt.js';
import type {
  Address,
  LoopLease,
  MasterOrigin,
  MasterRecord,
  MasterSettings,
  SentinelConfig,
  SentinelEvent,
  SentinelId,
  Vote,
} from '../core/types.js';
import { REDACTED, redactSecrets, secretsOf } from '../eventLog.js';
import {
  type RedisControl,
  type RedisControlFactory,
  type RedisProbeFactory,
  type SentinelStore,
  StoreUnavailableError,
} from '../ports.js';
import { type Clock, systemClock } from './clock.js';
import { FailoverRunner } from './failover.js';
import {
  type HandoverState,
  type MasterHandover,
  parseHandoverState,
  type RecordsHandover,
  serializeHandoverState,
} from './handover.js';
import {
  errorFields,
  FAULT,
  type Log,
  REPEATED_FAILURE_LOG_INTERVAL_MS,
  RepeatedFailureLog,
  silentLog,
} from './log.js';
import { settingsOf } from './masterSettings.js';
import { MasterMonitor, type MonitorSnapshot } from './monitor.js';

export interface SentinelRunnerOptions {
  readonly sentinelId: SentinelId;
  readonly config: SentinelConfig;
  readonly store: SentinelStore;
  readonly probeFactory: RedisProbeFactory;
  readonly clock?: Clock;
  readonly log?: Log;
  /** Every event, secrets redacted, with the epoch it belongs to (null when not known). */
  readonly onEvent?: (event: SentinelEvent, sentinelId: SentinelId, epoch: number | null) => void;
  readonly invocationId?: string;
  /** Stop probing and hand over at this time (the Lambda deadline minus a margin). */
  readonly stopAt?: number;
  readonly signal?: AbortSignal;
  /** How long to wait for the lease (a running holder hands over within a heartbeat). */
  readonly leaseWaitMs?: number;
  /**
   * The hand-over window: this long before stopAt, the next scheduled invocation may take over (it finds
   * the holder due in the lease). Before it, a newcomer of the same generation returns at once. Must hold
   * at least one schedule period. Unset: every newcomer takes over.
   */
  readonly handoverWindowMs?: number;
  /**
   * This invocation's code and configuration (a hash). A newcomer of another generation takes over from
   * a running holder at once, so a deploy takes effect within a lease renewal, not a whole holder's run.
   */
  readonly generation?: string | null;
  /** Sends REPLICAOF transactions (failovers, reconciliation). */
  readonly controlFactory: RedisControlFactory;
  /**
   * Read every master record again at least this often (default SENTINEL_DEFAULTS.recordsFullReadPeriodMs):
   * the backstop against a lost change-counter increment. The simulation scales it down.
   */
  readonly recordsFullReadPeriodMs?: number;
}

export type RunEnd =
  | 'deadline'
  | 'handover'
  | 'lease-lost'
  | 'aborted'
  | 'lease-not-acquired'
  /** Another invocation holds the lease and is not due to hand over: nothing to do. */
  | 'holder-running';

export interface RunReport {
  readonly invocationId: string;
  readonly end: RunEnd;
  readonly ticks: number;
  readonly resumedFromHandover: boolean;
}

interface MasterSlot {
  /** Replaced when SENTINEL SET changes the record's settings (settingsVersion moves). */
  settings: MasterSettings;
  /**
   * Where the incarnation being monitored began (effectiveOrigin of its record). Handed over with the
   * observations, so that a successor does not carry them to another incarnation of the same name.
   */
  origin: MasterOrigin | null;
  settingsVersion: number;
  resetAt: number | null;
  monitor: MasterMonitor;
  memory: MasterMemory;
  /**
   * What the core is told of the store: the record as last known current, with `readAt` the time it was
   * last known so (the end of a read of it, or the sending of a change-counter read that found nothing
   * changed since), and the peers' votes as last read.
   */
  view: StoreView | null;
  /** The peers' votes as last read. They are read only while they can matter (see #tickMaster). */
  votes: readonly Vote[];
  /** When the master's record and votes were last read together. */
  votesReadAt: number;
  /** The next read of this master's record and votes; +Infinity while its record is kept by the counter. */
  nextReadAt: number;
  lastDecision: MasterDecision | null;
}

/** How many store requests a starting loop sends at once (record creation, recorded replicas). */
const START_REQUESTS_IN_FLIGHT = 16;

/** Runs `work` for every item, at most `limit` at a time. */
async function forEachAtMost<T>(limit: number, items: readonly T[], work: (item: T) => Promise<unknown>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** How long before its expiry a lease counts as no longer safe to write under. */
const LEASE_SAFETY_MARGIN_MS = 500;
/** The longest poll period while waiting for a running invocation to hand over (see #handoverPollMs). */
const MAX_HANDOVER_POLL_MS = 250;
/**
 * TILT is judged on its own timer, like Sentinel's timer handler (10 Hz): a late timer means the
 * process was paused. Tick lateness would not do — a tick legitimately waits on store calls.
 */
const TILT_TIMER_PERIOD_MS = 100;
/** Up to this many masters, the tick line shows every master's summary; beyond, only those not OK. */
const SUMMARY_FULL_UP_TO = 3;
/** The tick line is cut at this length. */
const SUMMARY_MAX_CHARS = 2_000;
/**
 * The tick line is logged at least this often (and whenever what it says changes): just under a minute.
 * The loop ticks at least once a second, so two lines are at most 56 s apart and every minute of the
 * deployed LoopTicks metric (the loop-stale alarms count healthy lines per minute) holds one.
 */
const SUMMARY_LINE_PERIOD_MS = 55_000;
/**
 * The copy of the tick line in the lease is cut shorter: with it the lease item stays under 1 KB, the
 * unit DynamoDB bills a write by, and every renewal rewrites the lease.
 */
const LEASE_SUMMARY_MAX_CHARS = 600;

/**
 * Whether a newcomer should ask the running holder of `lease` to hand over: once the holder is in its
 * hand-over window, or when it runs another generation (code or configuration) than the newcomer.
 */
export function holderIsDue(lease: LoopLease, now: number, generation: string | null): boolean {
  return now >= lease.handoverFrom || lease.generation !== generation;
}

export class SentinelRunner {
  readonly #o: SentinelRunnerOptions;
  readonly #clock: Clock;
  readonly #log: Log;
  readonly invocationId: string;
  #lease: LoopLease | null = null;
  #tilt: TiltState = INITIAL_TILT;
  #slots: MasterSlot[] = [];
  /** Failover runners in flight, by master name. */
  readonly #failovers = new Map<string, { epoch: number; abort: AbortController; done: Promise<void> }>();
  #storeDownSince: number | null = null;
  #storeDownReason = 'store unavailable';
  #storeCheckInFlight = false;
  #nextStoreCheckAt = 0;
  #backgroundCheck: 'ok' | 'lost' | 'handover' = 'ok';
  #ticks = 0;
  /** Per master: a tick that throws is logged at its first failure, then at most once a minute. */
  readonly #tickFailures: RepeatedFailureLog;
  /**
   * Store calls that threw something other than StoreUnavailableError (a bug, an unexpected reply), by
   * error name: the first at once, then at most once a minute with a count. Each one also marks the store
   * down, and the next heartbeat finds it up again, so the same error recurs every heartbeat.
   */
  readonly #unexpectedStoreErrors: RepeatedFailureLog;
  /** When each error name in #unexpectedStoreErrors last occurred (see #closeQuietUnexpectedStoreErrors). */
  readonly #unexpectedStoreErrorAt = new Map<string, number>();
  /** When a master's record and votes were last read without error. */
  #lastStoreReadAt = Number.NEGATIVE_INFINITY;
  /**
   * Every master record (removed ones included) as last read: what the change counter vouches for, and
   * what is handed over. Kept current by per-master reads and claim results too.
   */
  #records = new Map<string, MasterRecord>();
  /**
   * The change counter the records are current at, or null when they cannot be vouched for (never read,
   * or a counter that is not a count): then the next heartbeat reads them all.
   */
  #changeCounter: number | null = null;
  /** When every record was last read from the store (the backstop against lost increments runs from it). */
  #fullReadAt = Number.NEGATIVE_INFINITY;
  /** The stored change counter was found not to be a count: said once. */
  #counterUnreadableWarned = false;

  constructor(options: SentinelRunnerOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.log ?? silentLog;
    this.#tickFailures = new RepeatedFailureLog(this.#log, () => this.#clock.now());
    this.#unexpectedStoreErrors = new RepeatedFailureLog(this.#log, () => this.#clock.now());
    this.invocationId = options.invocationId ?? randomUUID();
    this.#secrets = secretsOf(options.config);
  }

  get sentinelId(): SentinelId {
    return this.#o.sentinelId;
  }

  /** Per-master memory, for tests and the local runner's status output. */
  memories(): Record<string, MasterMemory> {
    return Object.fromEntries(this.#slots.map((s) => [s.settings.name, s.memory]));
  }

  /** Per-master observations (the Sentinel endpoint's timing fields). */
  snapshots(): Record<string, MonitorSnapshot> {
    return Object.fromEntries(this.#slots.map((s) => [s.settings.name, s.monitor.snapshot()]));
  }

  async run(): Promise<RunReport> {
    const acquired = await this.#acquireLease();
    if (acquired === 'holder-running') return this.#report('holder-running', false);
    if (!acquired) return this.#report('lease-not-acquired', false);
    // From here on the lease is held: whatever throws (resuming, starting the monitors, the loop, the
    // clean-up itself), the finally below releases it, or the next invocation would wait for it to expire.
    let end: RunEnd = 'deadline';
    let completed = false;
    let resumed = false;
    const stopTiltTimer = new AbortController();
    let tiltTimer: Promise<void> | null = null;
    try {
      const handedOver = this.#resume(await this.#handedOverState(acquired.previous));
      resumed = handedOver.observations !== null;
      await this.#startMonitors(handedOver.observations, handedOver.records);
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
        await tiltTimer;
        // A failover in flight stops between steps; the next invocation of this sentinel (or another
        // sentinel, once the lease expires) resumes it from the recorded step.
        for (const failover of this.#failovers.values()) failover.abort.abort();
        await Promise.all([...this.#failovers.values()].map((f) => f.done));
        await Promise.all(this.#slots.map((s) => s.monitor.stop()));
      } finally {
        // After a failure, what this invocation observed is not handed on: the successor starts fresh.
        if (end !== 'lease-lost') await this.#releaseLease(completed);
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
    if (this.#o.signal?.aborted) return 'aborted';
    if (this.#o.stopAt !== undefined && this.#clock.now() >= this.#o.stopAt) return 'deadline';
    return null;
  }

  // ---------------------------------------------------------------- lease

  /**
   * Takes the lease. A holder that is running, not yet due to hand over and of this invocation's
   * generation is left be: this invocation returns at once (`holder-running`), having read one item. A
   * holder that is due (or of another generation: a deploy) is asked to hand over, and the lease is
   * watched with reads until it is released or expires: a refused conditional write is billed as a
   * write, a read costs a fifth of that.
   */
  async #acquireLease(): Promise<{ previous: LoopLease | null } | 'holder-running' | null> {
    const { store, sentinelId, config } = this.#o;
    const giveUpAt =
      this.#clock.now() +
      (this.#o.leaseWaitMs ?? config.global.loopLeaseMs + config.global.heartbeatPeriodMs);
    let asked = false;
    let lastError: string | null = null;
    while (this.#shouldStop() === null && this.#clock.now() < giveUpAt) {
      try {
        const current = await store.getLease(sentinelId);
        const now = this.#clock.now();
        const held = current !== null && current.holder !== null && current.leaseUntil >= now;
        if (!held) {
          const result = await store.acquireLease(sentinelId, {
            invocationId: this.invocationId,
            now: this.#clock.now(),
            ttlMs: config.global.loopLeaseMs,
            handoverFrom: this.#handoverFrom,
            generation: this.#o.generation ?? null,
          });
          if (result.acquired) {
            this.#lease = result.lease;
            this.#log('info', 'loop lease acquired', {
              token: result.lease.token,
              previousHolder: result.previous?.holder ?? null,
            });
            return { previous: result.previous };
          }
          // Another newcomer took it between the read and the write: look again.
        } else if (!asked) {
          if (!holderIsDue(current, now, this.#o.generation ?? null)) {
            // Logged at debug only: once a minute per sentinel, it would be most of the log bill.
            this.#log('debug', 'loop lease held by a running invocation; leaving it be', {
              holder: current.holder,
              handoverFrom: current.handoverFrom,
            });
            return 'holder-running';
          }
          await store.requestHandover(sentinelId, { invocationId: this.invocationId });
          asked = true;
          this.#log('info', 'loop lease held by another invocation; asked it to hand over', {
            holder: current.holder,
            ...(current.generation !== (this.#o.generation ?? null) ? { newGeneration: true } : {}),
          });
        }
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        if (reason !== lastError) this.#log('warn', 'cannot acquire the loop lease', errorFields(error));
        lastError = reason;
      }
      await this.#clock.sleep(this.#handoverPollMs, this.#o.signal);
    }
    this.#log('warn', 'gave up waiting for the loop lease');
    return null;
  }

  /**
   * When this invocation becomes due to hand over: the hand-over window before its stop time, in which
   * the next scheduled invocations arrive. Without a stop time or a window, at once (every newcomer takes
   * over, as in tests and the local runner).
   */
  get #handoverFrom(): number {
    const { stopAt, handoverWindowMs } = this.#o;
    if (stopAt === undefined || handoverWindowMs === undefined) return 0;
    return stopAt - handoverWindowMs;
  }

  /**
   * While waiting for a hand-over: a holder looks at its lease once a heartbeat, so this many reads a
   * heartbeat bound both the wait after its release (the gap in probing) and the reads it costs.
   */
  get #handoverPollMs(): number {
    return Math.max(1, Math.min(MAX_HANDOVER_POLL_MS, this.#o.config.global.heartbeatPeriodMs / 20));
  }

  /** Renews the lease with a heartbeat. Returns 'lost' if another invocation holds it now. */
  async #renewLease(summary: string | null): Promise<'ok' | 'lost' | 'handover' | 'unavailable'> {
    const lease = this.#lease;
    if (!lease) return 'lost';
    try {
      const result = await this.#o.store.renewLease(this.#o.sentinelId, {
        invocationId: this.invocationId,
        token: lease.token,
        now: this.#clock.now(),
        ttlMs: this.#o.config.global.loopLeaseMs,
        tilt: this.#tilt.inTilt,
        summary:
          summary !== null && summary.length > LEASE_SUMMARY_MAX_CHARS
            ? `${summary.slice(0, LEASE_SUMMARY_MAX_CHARS - 1)}…`
            : summary,
      });
      if (!result.renewed) {
        this.#log('warn', 'loop lease lost to another invocation; stopping without further writes', {
          holder: result.current?.holder ?? null,
        });
        this.#lease = null;
        return 'lost';
      }
      this.#lease = result.lease;
      this.#noteStoreRecovered();
      return result.lease.handoverRequestedBy ? 'handover' : 'ok';
    } catch (error) {
      this.#noteStoreError(error);
      return 'unavailable';
    }
  }

  /**
   * The lease is renewed a third of its time-to-live after the last renewal (one write a minute with the
   * defaults), or at once when it is close to expiring.
   */
  #renewalDue(now: number): boolean {
    // The lease's heartbeatAt is this invocation's clock at its last renewal (or acquisition).
    const lastRenewal = this.#lease?.heartbeatAt ?? Number.NEGATIVE_INFINITY;
    return now >= lastRenewal + leaseRenewPeriodMs(this.#o.config.global) || !this.#leaseIsSafe();
  }

  /**
   * The lease at a heartbeat: renewed when due (#renewalDue); otherwise, inside the hand-over window
   * (where the next scheduled invocation is expected to ask), looked at with one read; otherwise left
   * alone. A request from another generation (a deploy) outside the window is seen at the next renewal.
   */
  async #heartbeatLease(
    summary: string | null,
    now: number,
  ): Promise<'ok' | 'lost' | 'handover' | 'unavailable'> {
    if (this.#renewalDue(now)) return this.#renewLease(summary);
    if (now < this.#handoverFrom) return 'ok';
    const lease = this.#lease;
    if (!lease) return 'lost';
    try {
      const current = await this.#o.store.getLease(this.#o.sentinelId);
      if (current === null || current.holder !== this.invocationId || current.token !== lease.token) {
        this.#log('warn', 'loop lease lost to another invocation; stopping without further writes', {
          holder: current?.holder ?? null,
        });
        this.#lease = null;
        return 'lost';
      }
      return current.handoverRequestedBy ? 'handover' : 'ok';
    } catch (error) {
      this.#noteStoreError(error);
      return 'unavailable';
    }
  }

  async #releaseLease(withState: boolean): Promise<void> {
    const lease = this.#lease;
    if (!lease) return;
    // Saved first, under this lease's token: the successor takes it only from a lease released under
    // the same token (#handedOverState), so a state saved by a holder that then failed to release is
    // never used. If it cannot be saved, the lease is still released: the successor starts fresh.
    const saved = withState && (await this.#saveHandoverState(lease.token));
    try {
      await this.#o.store.releaseLease(this.#o.sentinelId, {
        invocationId: this.invocationId,
        token: lease.token,
        now: this.#clock.now(),
      });
      this.#log('info', saved ? 'loop lease released with hand-over state' : 'loop lease released');
    } catch (error) {
      // The lease will expire on its own; the successor then waits for that and starts with fresh
      // observations: a gap in probing, which is why it counts as a fault.
      this.#log('warn', 'could not release the loop lease', {
        fault: FAULT.leaseNotReleased,
        ...errorFields(error),
      });
    }
    this.#lease = null;
  }

  async #saveHandoverState(token: number): Promise<boolean> {
    const records: RecordsHandover | null =
      this.#changeCounter === null
        ? null
        : {
            changeCounter: this.#changeCounter,
            fullReadAt: this.#fullReadAt,
            records: [...this.#records.values()],
          };
    const state = serializeHandoverState({
      savedAt: this.#clock.now(),
      tilt: this.#tilt,
      masters: new Map(
        this.#slots.map((s) => [
          s.settings.name,
          { origin: s.origin, monitor: s.monitor.snapshot(), memory: s.memory },
        ]),
      ),
      records,
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

  /** True while this invocation may write under its lease (it has not expired by this clock). */
  #leaseIsSafe(): boolean {
    return this.#lease !== null && this.#clock.now() < this.#lease.leaseUntil - LEASE_SAFETY_MARGIN_MS;
  }

  // ---------------------------------------------------------------- start

  /**
   * The state the previous holder saved, if it released the lease (a holder that lost it, or whose lease
   * expired, hands nothing over: it may still be running, and its successor must start fresh and write
   * every vote again under the new token). One read, once per invocation.
   */
  async #handedOverState(previous: LoopLease | null): Promise<string | null> {
    if (previous === null || previous.holder !== null) return null;
    try {
      return await this.#o.store.getHandoverState(this.#o.sentinelId, { token: previous.token });
    } catch (error) {
      this.#noteStoreError(error);
      this.#log('warn', 'could not read the hand-over state; starting with fresh observations', {
        ...errorFields(error),
      });
      return null;
    }
  }

  /**
   * Resumes from the previous holder's observations only if it released the lease moments ago: the
   * observation window is then continuous. After a gap, everything starts fresh, like a new sentinel.
   * Its copy of the records is usable after any gap: the change counter says whether it is current.
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
    const gap = this.#clock.now() - state.savedAt;
    // A small negative gap is clock skew between two invocations (two containers), not time travel.
    const tooEarly = gap < -SENTINEL_DEFAULTS.handoverSkewToleranceMs;
    if (tooEarly || gap > this.#o.config.global.tiltTriggerMs) {
      this.#log('info', 'hand-over state too old; starting with fresh observations', { gapMs: gap });
      return { observations: null, records: state.records };
    }
    // The TILT period in force carries over; the timer restarts on this invocation's own clock (the
    // gap was judged above), or a small skew between the two clocks would look like a jump.
    this.#tilt = { ...state.tilt, lastTimerAt: null };
    this.#log('info', 'resuming from hand-over state', { gapMs: gap });
    return { observations: state, records: state.records };
  }

  /**
   * Starts a slot per monitored master. The records come from the previous holder's copy when the
   * change counter says none changed since (and the backstop is not due), else from one read of them
   * all; with the store down, from that copy unconfirmed (views wait for the store) or from the file.
   */
  async #startMonitors(resumed: HandoverState | null, carried: RecordsHandover | null): Promise<void> {
    const { config, store } = this.#o;
    let records: readonly MasterRecord[] | null = null;
    let recordsAt: number | null = null;
    try {
      const read = await this.#readRecordsAtStart(carried);
      records = read.records;
      recordsAt = read.currentAt;
    } catch (error) {
      this.#noteStoreError(error);
      if (carried !== null) {
        // Probing starts from the copy; the first heartbeat that reaches the store confirms or replaces it.
        records = carried.records;
        this.#setRecords(carried.records, carried.changeCounter, carried.fullReadAt);
      }
      // Without a copy: monitor what the file lists; masters added by MONITOR are picked up once the
      // store answers.
    }
    const viewOf = (record: MasterRecord | null): StoreView =>
      record !== null && recordsAt !== null
        ? { status: 'ok', record, votes: [], readAt: recordsAt }
        : { status: 'unavailable', reason: this.#storeDownReason };
    const recorded = new Map((records ?? []).map((r) => [r.name, r]));
    // A master of the file without a record (a first deploy) gets one, seeded from its monitor line. A
    // few requests at a time: one after the other, a thousand masters would take most of a minute.
    if (recordsAt !== null) {
      const missing = config.masters.filter((m) => !recorded.has(m.name));
      await forEachAtMost(START_REQUESTS_IN_FLIGHT, missing, async (configured) => {
        try {
          const record = await store.ensureMaster({
            name: configured.name,
            host: configured.host,
            port: configured.port,
            now: this.#clock.now(),
          });
          recorded.set(record.name, record);
          this.#records.set(record.name, record);
        } catch (error) {
          this.#noteStoreError(error);
        }
      });
    }
    const planned: Array<{
      name: string;
      settings: MasterSettings;
      record: MasterRecord | null;
      origin: MasterOrigin | null;
      previous: MasterHandover | null;
    }> = [];
    for (const configured of config.masters) {
      const record = recorded.get(configured.name) ?? null;
      // Removed by SENTINEL REMOVE: the file's monitor line does not bring it back.
      if (record !== null && !record.monitored) continue;
      // Without a record (the store did not answer), what is monitored is the file's entry: the
      // incarnation seeded from it, as effectiveOrigin reads a record that predates origins.
      const origin: MasterOrigin | null = record
        ? effectiveOrigin(config, record)
        : { source: 'config', host: configured.host, port: configured.port };
      const previous = this.#resumedPart(resumed, configured.name, origin);
      const settings = record ? settingsOf(config, record) : configured;
      planned.push({ name: configured.name, settings, record, origin, previous });
    }
    const configuredNames = new Set(config.masters.map((m) => m.name));
    for (const record of records ?? []) {
      if (!record.monitored || configuredNames.has(record.name)) continue;
      const origin = effectiveOrigin(config, record);
      const previous = this.#resumedPart(resumed, record.name, origin);
      planned.push({ name: record.name, settings: settingsOf(config, record), record, origin, previous });
    }
    // A master resumed from the hand-over knows its replicas; the others start from those recorded.
    const known = new Map<string, Address[]>();
    await forEachAtMost(
      START_REQUESTS_IN_FLIGHT,
      planned.filter((p) => p.previous === null),
      async (p) => known.set(p.name, await this.#knownReplicas(p.name)),
    );
    for (const p of planned) {
      this.#addSlot(p.settings, p.record, viewOf(p.record), p.origin, p.previous, known.get(p.name) ?? []);
    }
  }

  /**
   * The records at start, and the time they are known current at. The counter is read before the
   * records, so a change that lands in between is counted and read again at the next heartbeat.
   */
  async #readRecordsAtStart(
    carried: RecordsHandover | null,
  ): Promise<{ records: readonly MasterRecord[]; currentAt: number }> {
    const sentAt = this.#clock.now();
    const counter = await this.#o.store.getChangeCounter();
    this.#noteUnreadableCounter(counter);
    if (
      carried !== null &&
      counter !== null &&
      counter === carried.changeCounter &&
      sentAt - carried.fullReadAt < this.#fullReadPeriodMs
    ) {
      this.#setRecords(carried.records, counter, carried.fullReadAt);
      return { records: carried.records, currentAt: sentAt };
    }
    const listSentAt = this.#clock.now();
    const records = await this.#o.store.listMasters();
    this.#setRecords(records, counter, listSentAt);
    return { records, currentAt: listSentAt };
  }

  #setRecords(records: readonly MasterRecord[], counter: number | null, fullReadAt: number): void {
    this.#records = new Map(records.map((r) => [r.name, r]));
    this.#changeCounter = counter;
    this.#fullReadAt = fullReadAt;
  }

  get #fullReadPeriodMs(): number {
    return this.#o.recordsFullReadPeriodMs ?? SENTINEL_DEFAULTS.recordsFullReadPeriodMs;
  }

  #noteUnreadableCounter(counter: number | null): void {
    if (counter !== null || this.#counterUnreadableWarned) return;
    this.#counterUnreadableWarned = true;
    this.#log('warn', 'the stored change counter is not a count: every heartbeat reads every record', {
      repair: 'delete the item pk "MASTER#", sk "CHANGES"; the next record change creates it again',
    });
  }

  /**
   * The resumed state's part about one master, if it is of the incarnation monitored now. SENTINEL REMOVE
   * + MONITOR between two invocations gives the name another incarnation: the old one's replicas would be
   * probed with the new one's credentials, and its judgements are not the new one's. That master starts
   * with fresh observations, as after a gap; the others resume. Entries for masters no longer monitored
   * are never looked up.
   */
  #resumedPart(
    resumed: HandoverState | null,
    name: string,
    origin: MasterOrigin | null,
  ): MasterHandover | null {
    const part = resumed?.masters.get(name);
    if (part === undefined) return null;
    if (sameOrigin(part.origin, origin)) return part;
    this.#log(
      'info',
      'hand-over state of a master is from another incarnation; starting it with fresh observations',
      {
        master: name,
        handedOverOrigin: describeOrigin(part.origin),
        origin: describeOrigin(origin),
      },
    );
    return null;
  }

  /** Replicas recorded in the store (by any sentinel), for an invocation that starts without hand-over. */
  async #knownReplicas(master: string): Promise<Address[]> {
    if (this.#storeDownSince !== null) return [];
    try {
      return (await this.#o.store.listReplicas(master)).map((r) => ({ host: r.host, port: r.port }));
    } catch (error) {
      this.#noteStoreError(error);
      return [];
    }
  }

  #addSlot(
    settings: MasterSettings,
    record: MasterRecord | null,
    view: StoreView | null,
    origin: MasterOrigin | null,
    previous: MasterHandover | null,
    knownReplicas: readonly Address[] = [],
  ): void {
    const address = record
      ? { host: record.host, port: record.port }
      : { host: settings.host, port: settings.port };
    if (record) this.#noteWithheldAuthPass(record);
    if (record) this.#noteRefusedRenames(record);
    // A vote handed over stands: the previous holder released the lease after its last write (its
    // loop had ended), so nothing older than its votes can still be written; the next vote this
    // invocation writes carries the new token. A fresh start writes every vote again under the new token,
    // which fences a holder that lost its lease without releasing it and may still be running.
    const memory = previous ? previous.memory : INITIAL_MEMORY;
    // +monitor first: the monitor announces the recorded replicas (+slave) as it starts.
    if (!previous) this.#emit(makeMonitorEvent(settings, address, this.#clock.now()));
    const monitor = this.#newMonitor(settings, address, previous?.monitor, knownReplicas);
    monitor.start();
    this.#slots.push({
      settings,
      origin,
      settingsVersion: record?.settingsVersion ?? 0,
      resetAt: record?.resetAt ?? null,
      monitor,
      memory,
      view,
      votes: [],
      votesReadAt: Number.NEGATIVE_INFINITY,
      // A record the store vouched for is kept current by the change counter; without one, read it now.
      nextReadAt: view?.status === 'ok' ? Number.POSITIVE_INFINITY : 0,
      lastDecision: null,
    });
  }

  #newMonitor(
    settings: MasterSettings,
    address: Address,
    resume: MonitorSnapshot | undefined,
    knownReplicas: readonly Address[] = [],
  ): MasterMonitor {
    return new MasterMonitor({
      settings,
      global: this.#o.config.global,
      masterAddress: address,
      probeFactory: this.#o.probeFactory,
      clock: this.#clock,
      clientName: `sentinel-${this.#o.sentinelId}-cmd`.replace(/[^\w-]/g, ''),
      onEvent: (event) => this.#emit(event),
      onReplicaDiscovered: (replica) => void this.#recordReplica(settings.name, replica),
      resume,
      knownReplicas,
    });
  }

  /**
   * At each heartbeat: one read of the change counter. Unchanged, every record in hand is current as of
   * that read (the time it was sent: a change that completed before then was counted before then,
   * unless its increment was lost, which the full read every recordsFullReadPeriodMs covers). Changed, or
   * the backstop due, or no counter to compare with: every record is read again and applied — SET,
   * RESET, REMOVE, a failover's new address — and masters added by MONITOR start being monitored.
   */
  async #refreshRecords(): Promise<void> {
    const { store } = this.#o;
    const sentAt = this.#clock.now();
    try {
      const counter = await store.getChangeCounter();
      this.#noteUnreadableCounter(counter);
      const unchanged =
        counter !== null &&
        counter === this.#changeCounter &&
        sentAt - this.#fullReadAt < this.#fullReadPeriodMs;
      if (unchanged) {
        this.#lastStoreReadAt = this.#clock.now();
        for (const slot of [...this.#slots]) {
          const record = this.#records.get(slot.settings.name);
          if (record === undefined) slot.nextReadAt = 0;
          else if (this.#slots.includes(slot)) await this.#applyRecord(slot, record, sentAt);
        }
        return;
      }
      const listSentAt = this.#clock.now();
      const records = await store.listMasters();
      this.#setRecords(records, counter, listSentAt);
      this.#lastStoreReadAt = this.#clock.now();
      await this.#applyRecords(records, listSentAt);
    } catch (error) {
      this.#noteStoreError(error);
    }
  }

  /** Applies a fresh read of every record to the slots, and starts the masters added since. */
  async #applyRecords(records: readonly MasterRecord[], currentAt: number): Promise<void> {
    const byName = new Map(records.map((r) => [r.name, r]));
    for (const slot of [...this.#slots]) {
      if (!this.#slots.includes(slot)) continue;
      const record = byName.get(slot.settings.name);
      // No record (never created, or deleted by hand): the master's own read creates it (ensureMaster).
      if (record === undefined) slot.nextReadAt = 0;
      else await this.#applyRecord(slot, record, currentAt);
    }
    for (const record of records) {
      if (!record.monitored || this.#slots.some((s) => s.settings.name === record.name)) continue;
      // Added by SENTINEL MONITOR (or revived) since the last look.
      const known = await this.#knownReplicas(record.name);
      const origin = effectiveOrigin(this.#o.config, record);
      const view: StoreView = { status: 'ok', record, votes: [], readAt: currentAt };
      this.#addSlot(settingsOf(this.#o.config, record), record, view, origin, null, known);
    }
  }

  /**
   * The record, known current at `currentAt`, into the slot: its run-time configuration, its address
   * (the monitor follows a failover), and the core's view. False when the record removed the master.
   */
  async #applyRecord(slot: MasterSlot, record: MasterRecord, currentAt: number): Promise<boolean> {
    if (!(await this.#applyRecordConfig(slot, record))) return false;
    const readAt = slot.view?.status === 'ok' ? Math.max(slot.view.readAt, currentAt) : currentAt;
    slot.view = { status: 'ok', record, votes: slot.votes, readAt };
    const before = slot.monitor.masterAddress;
    if (before.host !== record.host || before.port !== record.port) {
      // The master switched: what was judged of the old one does not carry over (Sentinel resets the
      // master's flags at a switch, without -sdown/-odown), and the vote must be re-cast for the new one.
      slot.memory = { ...slot.memory, sdownSince: null, odownSince: null, voteWritten: null };
    }
    slot.monitor.repoint({ host: record.host, port: record.port });
    return true;
  }

  /**
   * Follows the record's run-time configuration: REMOVE stops monitoring (-monitor), SET applies the new
   * settings (+set per changed option), RESET forgets the replicas (+reset-master) so they are
   * rediscovered from the master's INFO. Returns false when the slot was dropped.
   */
  async #applyRecordConfig(slot: MasterSlot, record: MasterRecord): Promise<boolean> {
    if (!record.monitored) {
      await this.#dropSlot(slot);
      return false;
    }
    if (record.settingsVersion === slot.settingsVersion && record.resetAt === slot.resetAt) return true;
    const now = this.#clock.now();
    const next = settingsOf(this.#o.config, record);
    this.#noteWithheldAuthPass(record);
    this.#noteRefusedRenames(record);
    const changes = settingChanges(slot.settings, next);
    const reset = record.resetAt !== null && record.resetAt !== slot.resetAt;
    // REMOVE + MONITOR seen as one change: a new incarnation. It may not get the old one's credentials,
    // nor carry over the old one's replicas (they would be probed with its own); its INFO tells its own.
    const authChanged = slot.settings.authPass !== next.authPass || slot.settings.authUser !== next.authUser;
    const origin = effectiveOrigin(this.#o.config, record);
    const reincarnated = !sameOrigin(slot.origin, origin);
    const forgetReplicas = reset || reincarnated;
    slot.origin = origin;
    slot.settingsVersion = record.settingsVersion;
    slot.resetAt = record.resetAt;
    if (changes.length === 0 && !forgetReplicas && !authChanged) return true;
    const address = slot.monitor.masterAddress;
    const instance = `master ${slot.settings.name} ${address.host} ${address.port}`;
    for (const change of changes)
      this.#emit(makeEvent('+set', `${instance} ${setEventText(change)}`, record.name, now));
    if (reset) this.#emit(makeEvent('+reset-master', instance, record.name, now));
    // Probing runs with the settings it was started with: restart it, keeping what it observed (and,
    // after a RESET, only the master: replicas are rediscovered from its INFO, as Sentinel does).
    const snapshot = slot.monitor.snapshot();
    await slot.monitor.stop();
    slot.settings = next;
    // A new incarnation starts at its own address: started at the old one, its credentials would reach
    // the old server, and the move would look like a failover that keeps the old master as a replica.
    // Nothing judged of the old master carries over (as at a switch, in #readStore).
    const startAt = reincarnated ? { host: record.host, port: record.port } : address;
    if (reincarnated) slot.memory = { ...slot.memory, sdownSince: null, odownSince: null, voteWritten: null };
    slot.monitor = this.#newMonitor(
      next,
      startAt,
      forgetReplicas ? { master: snapshot.master, replicas: [] } : snapshot,
    );
    slot.monitor.start();
    if (forgetReplicas) slot.memory = { ...slot.memory, replicaSdownSince: {} };
    this.#log('info', 'applied run-time configuration', {
      master: record.name,
      settingsVersion: record.settingsVersion,
      changes: changes.map(loggedChange),
      reset,
    });
    return true;
  }

  /** Incarnations (master, origin) already warned about: the warning is logged once, not per tick. */
  readonly #withheldWarned = new Set<string>();

  /** Says once per incarnation that a configured password is not sent to this master, and why. */
  #noteWithheldAuthPass(record: MasterRecord): void {
    const decision = decideAuthPass(this.#o.config, record);
    if (decision.use !== 'withheld') return;
    const key = JSON.stringify([record.name, decision.origin]);
    if (this.#withheldWarned.has(key)) return;
    this.#withheldWarned.add(key);
    const { message, fields } = describeWithheldAuthPass(record.name, decision);
    this.#log('warn', message, fields);
  }

  /** Settings versions (per master) whose refused renames were reported: one warning each. */
  readonly #refusedRenamesWarned = new Set<string>();

  /**
   * A stored rename-command that SET would refuse (another command's name, not a command name) is not
   * applied (withRuntimeSettings): the command goes out under its configured name and nothing else
   * changes. Said once per settings version, naming the commands, never the stored new names.
   */
  #noteRefusedRenames(record: MasterRecord): void {
    const commands = refusedRuntimeRenames(record.settings);
    if (commands.length === 0) return;
    const key = JSON.stringify([record.name, record.settingsVersion]);
    if (this.#refusedRenamesWarned.has(key)) return;
    this.#refusedRenamesWarned.add(key);
    this.#log('warn', 'stored rename-command refused: the commands are sent under their configured names', {
      master: record.name,
      settingsVersion: record.settingsVersion,
      commands,
    });
  }

  /** SENTINEL REMOVE: stop probing the master and any failover this sentinel runs for it. */
  async #dropSlot(slot: MasterSlot): Promise<void> {
    this.#slots = this.#slots.filter((s) => s !== slot);
    this.#tickFailures.forget(slot.settings.name);
    const failover = this.#failovers.get(slot.settings.name);
    failover?.abort.abort();
    await slot.monitor.stop();
    const address = slot.monitor.masterAddress;
    this.#emit(
      makeEvent(
        '-monitor',
        `master ${slot.settings.name} ${address.host} ${address.port}`,
        slot.settings.name,
        this.#clock.now(),
      ),
    );
  }

  async #recordReplica(master: string, address: { host: string; port: number }): Promise<void> {
    try {
      await this.#o.store.upsertReplica({
        master,
        host: address.host,
        port: address.port,
        runId: null,
        lastSeenAt: this.#clock.now(),
        seenBy: this.#o.sentinelId,
      });
    } catch (error) {
      this.#noteStoreError(error);
    }
  }

  // ---------------------------------------------------------------- loop

  async #loop(): Promise<RunEnd> {
    const { config } = this.#o;
    let nextHeartbeatAt = this.#clock.now() + config.global.heartbeatPeriodMs;
    let lastSummary: string | null = null;
    let lastLineState: string | null = null;
    let nextLineAt = Number.NEGATIVE_INFINITY;
    for (;;) {
      const stop = this.#shouldStop();
      if (stop) return stop;

      const now = this.#clock.now();
      if (this.#storeDownSince !== null) {
        // During an outage no tick waits on the store: one background renewal per heartbeat checks it.
        const check = this.#checkStoreInBackground(lastSummary);
        if (check === 'lost') return 'lease-lost';
        if (check === 'handover') return 'handover';
      } else if (now >= nextHeartbeatAt || this.#renewalDue(now)) {
        // The heartbeat: the change counter, which tells whether any record changed, and the lease when
        // it needs a look (#heartbeatLease).
        const [lease] = await Promise.all([
          this.#heartbeatLease(lastSummary, now),
          now >= nextHeartbeatAt ? this.#refreshRecords() : undefined,
        ]);
        if (lease === 'lost') return 'lease-lost';
        if (lease === 'handover') return 'handover';
        if (now >= nextHeartbeatAt) nextHeartbeatAt = now + config.global.heartbeatPeriodMs;
      }
      let wakeAt =
        now +
        Math.min(SENTINEL_DEFAULTS.maxProbePeriodMs, ...this.#slots.map((s) => s.settings.probePeriodMs));
      let failedMasters = 0;
      // #dropSlot replaces the array and #addSlot appends to it: while it is the same array, every slot
      // of the copy is still monitored, and no search per slot (quadratic in the masters) is needed.
      const slotsAtStart = this.#slots;
      for (const slot of [...this.#slots]) {
        if (this.#slots !== slotsAtStart && !this.#slots.includes(slot)) continue;
        const master = slot.settings.name;
        try {
          const outcome = await this.#tickMaster(slot);
          if (outcome === 'fenced') return 'lease-lost';
          // Checked first: the line's fields would be built for every master on every tick otherwise.
          if (this.#tickFailures.isFailing(master))
            this.#tickFailures.recovered(master, 'tick for master works again', { master });
          const decision = slot.lastDecision;
          if (decision?.wakeAt != null) wakeAt = Math.min(wakeAt, decision.wakeAt);
          // Routine reads wait for the next regular tick; only urgent ones (a master that looks down,
          // a failover led here) wake the loop early. Otherwise many masters, each read on its own
          // schedule, would wake it dozens of times a second.
          if (decision?.wantsFastVoteReads) wakeAt = Math.min(wakeAt, slot.nextReadAt);
        } catch (error) {
          // A bug or an unexpected reply must never stop the sentinel: go on with the next tick. It
          // counts on the tick line (failedMasters, which the alarms watch); the error line is rate-limited.
          failedMasters += 1;
          this.#tickFailures.failed(master, 'tick failed for master', { master, ...errorFields(error) });
        }
      }
      this.#ticks += 1;
      this.#closeQuietUnexpectedStoreErrors();
      // The tick line is logged when what it says changes, and at every tick in which a master's tick
      // failed (each one counts for the alarms), else every SUMMARY_LINE_PERIOD_MS: logs are billed by
      // the byte, and a line per tick was most of a quiet month's bill.
      const lineState = this.#tickLineState(failedMasters > 0);
      if (lineState !== lastLineState || failedMasters > 0 || now >= nextLineAt) {
        const { line, notOk } = this.#tickSummary();
        lastSummary = line;
        lastLineState = lineState;
        nextLineAt = now + SUMMARY_LINE_PERIOD_MS;
        this.#log('info', line, {
          tick: this.#ticks,
          // Masters whose tick threw this time. A tick with any is not a healthy tick: the deployed
          // LoopTicks metric counts only lines with 0, and the sentinel-faults alarm counts the others.
          failedMasters,
          tilt: this.#tilt.inTilt,
          storeUnavailable: this.#storeDownSince !== null,
          mastersOk: this.#slots.length - notOk.length,
          masters: notOk.map((s) => ({
            name: s.settings.name,
            status: s.lastDecision?.status ?? 'unknown',
            epoch: s.view?.status === 'ok' ? s.view.record.currentEpoch : null,
            leader: s.view?.status === 'ok' ? s.view.record.leader : null,
          })),
        });
      }
      await this.#clock.sleep(Math.max(1, wakeAt - this.#clock.now()), this.#o.signal);
    }
  }

  /**
   * What the tick line says, without its free text: TILT, the store, whether a master's tick failed, and
   * each master not OK with its status, epoch and leader. A change of it is logged at once.
   */
  #tickLineState(failed: boolean): string {
    let state = `${this.#tilt.inTilt}|${this.#storeDownSince !== null}|${failed}`;
    for (const s of this.#slots) {
      const status = s.lastDecision?.status;
      if (status === 'ok' && s.view?.status === 'ok') continue;
      const record = s.view?.status === 'ok' ? s.view.record : null;
      state += `|${s.settings.name}:${status ?? 'unknown'}:${record?.currentEpoch ?? ''}:${record?.leader ?? ''}`;
    }
    return state;
  }

  /**
   * The tick's human line. With a few masters, each one's summary; with many, a count of the healthy
   * ones and the full summary of the others, so a line (and the lease's summary) stays small.
   */
  #tickSummary(): { line: string; notOk: MasterSlot[] } {
    const notOk = this.#slots.filter((s) => s.lastDecision?.status !== 'ok' || s.view?.status !== 'ok');
    const shown = this.#slots.length <= SUMMARY_FULL_UP_TO ? this.#slots : notOk;
    const parts = shown.map((s) => s.lastDecision?.summary ?? `${s.settings.name} not judged yet`);
    if (shown !== this.#slots) parts.unshift(`${this.#slots.length - notOk.length} masters ok`);
    const line = `${this.#o.sentinelId}${this.#tilt.inTilt ? ' [TILT]' : ''}: ${parts.join('; ')}`;
    return {
      line: line.length > SUMMARY_MAX_CHARS ? `${line.slice(0, SUMMARY_MAX_CHARS - 1)}…` : line,
      notOk,
    };
  }

  async #tickMaster(slot: MasterSlot): Promise<'ok' | 'fenced'> {
    const { settings } = slot;
    const now = this.#clock.now();
    // Peers' votes matter only to a sentinel that judges the master down (ODOWN and authorisation
    // count them only then), so only then are they read, with the record, at the vote-read periods. A
    // master that starts to look down makes them urgent: read before deciding, so the second sentinel
    // to see SDOWN finds the first one's vote in the same tick. Otherwise the record is kept current by
    // the change counter (#refreshRecords), and the view's votes are the last ones read: the tick line's
    // count shows those still fresh, and nothing is decided from them.
    const looksDown =
      slot.memory.sdownSince !== null || sdownCause(slot.monitor.master, slot.settings, now) !== null;
    const urgent = looksDown && now - slot.votesReadAt >= SENTINEL_DEFAULTS.voteReadPeriodMs;
    if (this.#storeDownSince !== null) {
      if (slot.view?.status !== 'unavailable')
        slot.view = { status: 'unavailable', reason: this.#storeDownReason };
    } else if (now >= slot.nextReadAt || urgent) {
      await this.#readMaster(slot, now);
    }

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
    if (decision.wantsFastVoteReads) {
      const sdownFor = slot.memory.sdownSince === null ? null : now - slot.memory.sdownSince;
      const period =
        sdownFor !== null && sdownFor < SENTINEL_DEFAULTS.voteReadFastWindowMs
          ? SENTINEL_DEFAULTS.voteReadPeriodMs
          : SENTINEL_DEFAULTS.slowVoteReadPeriodMs;
      slot.nextReadAt = Math.min(slot.nextReadAt, now + period);
    }
    return 'ok';
  }

  /** One master's record and votes, read together (consistent reads). */
  async #readMaster(slot: MasterSlot, now: number): Promise<void> {
    const { store } = this.#o;
    const name = slot.settings.name;
    try {
      const [record, votes] = await Promise.all([store.getMaster(name), store.listVotes(name)]);
      const resolved =
        record ??
        (await store.ensureMaster({ name, host: slot.settings.host, port: slot.settings.port, now }));
      const readAt = this.#clock.now();
      this.#records.set(name, resolved);
      slot.votes = votes;
      slot.votesReadAt = readAt;
      if (!(await this.#applyRecord(slot, resolved, readAt))) return;
      this.#lastStoreReadAt = readAt;
      this.#noteStoreRecovered();
      // Read again only when the next tick's decision asks for it (wantsFastVoteReads).
      slot.nextReadAt = Number.POSITIVE_INFINITY;
    } catch (error) {
      this.#noteStoreError(error);
      slot.view = { status: 'unavailable', reason: this.#storeReason(error) };
      // Retry at the heartbeat period: a store outage must not turn into a storm of requests.
      slot.nextReadAt = now + this.#o.config.global.heartbeatPeriodMs;
    }
  }

  async #execute(slot: MasterSlot, action: MasterAction): Promise<'done' | 'fenced' | 'skipped'> {
    const { store, sentinelId } = this.#o;
    const name = slot.settings.name;
    const masterRef = { name, address: slot.monitor.masterAddress };
    // Without a safe lease (or with the store down) nothing is written: no vote, no claim.
    if (!this.#leaseIsSafe() || this.#storeDownSince !== null) return 'skipped';
    const lease = this.#lease as LoopLease;
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
          slot.memory = applyVoteWritten(slot.memory, action, this.#clock.now());
          return 'done';
        }
        case 'claim-epoch': {
          const result = await store.claimEpoch(
            name,
            action.mode === 'start'
              ? {
                  mode: 'start',
                  expectedEpoch: action.expectedEpoch,
                  sentinelId,
                  leaseUntil: action.leaseUntil,
                  progress: action.progress,
                  now: this.#clock.now(),
                }
              : {
                  mode: 'resume',
                  expectedEpoch: action.expectedEpoch,
                  sentinelId,
                  leaseUntil: action.leaseUntil,
                  now: this.#clock.now(),
                },
          );
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
          if (result.won) this.#startFailover(slot, result.record.currentEpoch);
          return 'done';
        }
        case 'run-failover':
          this.#startFailover(slot, action.epoch);
          return 'done';
        case 'reconfigure-replica':
          await this.#reconfigureReplica(slot, action.address, action.reason);
          return 'done';
      }
    } catch (error) {
      this.#noteStoreError(error);
      if (action.type === 'claim-epoch') {
        slot.memory = applyClaimOutcome(
          slot.memory,
          action,
          { error: this.#storeReason(error) },
          masterRef,
          0,
        ).memory;
      }
      return 'skipped';
    }
  }

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

  /** Starts at most one store check per heartbeat period without waiting for it; reports its last verdict. */
  #checkStoreInBackground(summary: string | null): 'ok' | 'lost' | 'handover' {
    const now = this.#clock.now();
    if (!this.#storeCheckInFlight && now >= this.#nextStoreCheckAt) {
      this.#storeCheckInFlight = true;
      this.#nextStoreCheckAt = now + this.#o.config.global.heartbeatPeriodMs;
      void this.#renewLease(summary).then((result) => {
        this.#storeCheckInFlight = false;
        if (result === 'lost' || result === 'handover') this.#backgroundCheck = result;
      });
    }
    return this.#backgroundCheck;
  }

  // ---------------------------------------------------------------- failovers and reconciliation

  #controlFor(settings: MasterSettings): RedisControl {
    return this.#o.controlFactory({
      timeoutMs: settings.probeTimeoutMs,
      authUser: settings.authUser,
      authPass: settings.authPass,
      tls: this.#o.config.global.tls,
      renamedCommands: settings.renamedCommands,
      clientName: `sentinel-${this.#o.sentinelId}-cmd`.replace(/[^\w-]/g, ''),
      now: () => this.#clock.now(),
    });
  }

  #startFailover(slot: MasterSlot, epoch: number): void {
    const name = slot.settings.name;
    const running = this.#failovers.get(name);
    if (running && running.epoch === epoch) return;
    running?.abort.abort();
    const abort = new AbortController();
    const runner = new FailoverRunner({
      settings: slot.settings,
      global: this.#o.config.global,
      sentinelId: this.#o.sentinelId,
      epoch,
      store: this.#o.store,
      control: this.#controlFor(slot.settings),
      probeFactory: this.#o.probeFactory,
      clock: this.#clock,
      log: this.#log,
      emit: (event) => this.#emit(event, epoch),
      view: () => {
        const snapshot = slot.monitor.snapshot();
        return {
          replicas: snapshot.replicas.map((observation) => ({
            observation,
            sdown: slot.memory.replicaSdownSince[addressKey(observation.address)] !== undefined,
          })),
          masterSdownSince: slot.memory.sdownSince,
        };
      },
      signal: abort.signal,
    });
    this.#log('info', 'running the failover', { master: name, epoch });
    const done = runner.run().then(
      (end) => {
        this.#log('info', `failover runner ended: ${end}`, { master: name, epoch, end });
        if (this.#failovers.get(name)?.abort === abort) this.#failovers.delete(name);
        slot.nextReadAt = 0;
      },
      (error: unknown) => {
        this.#log('error', 'failover runner crashed', {
          fault: FAULT.failoverCrashed,
          master: name,
          epoch,
          ...errorFields(error),
        });
        if (this.#failovers.get(name)?.abort === abort) this.#failovers.delete(name);
      },
    );
    this.#failovers.set(name, { epoch, abort, done });
  }

  /** +convert-to-slave / +fix-slave-config: re-checked against a consistent read of the record first. */
  async #reconfigureReplica(
    slot: MasterSlot,
    address: { host: string; port: number },
    reason: string,
  ): Promise<void> {
    const record = await this.#o.store.getMaster(slot.settings.name);
    if (!record) return;
    if (record.failoverState !== 'none') return;
    if (record.host === address.host && record.port === address.port) return;
    const result = await this.#controlFor(slot.settings).replicaOf(address, {
      host: record.host,
      port: record.port,
    });
    this.#log(result.ok ? 'info' : 'warn', `${reason}: ${result.ok ? 'sent' : 'failed'}`, {
      master: slot.settings.name,
      replica: address,
      to: { host: record.host, port: record.port },
      ...(result.ok ? {} : { reason: result.reason }),
    });
  }

  // ---------------------------------------------------------------- events and store health

  #emit(raw: SentinelEvent, epoch?: number | null): void {
    // An auth-pass must never reach a log line, the event log or an alert.
    const event = redactSecrets(raw, this.#secrets);
    const slot = this.#slots.find((s) => s.settings.name === event.master);
    const known = slot?.view?.status === 'ok' ? slot.view.record.currentEpoch : null;
    this.#log(event.level === 'verbose' ? 'debug' : 'info', formatEvent(event), {
      event: event.type,
      payload: event.payload,
      master: event.master,
      eventLevel: event.level,
    });
    this.#o.onEvent?.(event, this.#o.sentinelId, epoch ?? known);
  }

  readonly #secrets: readonly string[];

  #storeReason(error: unknown): string {
    if (error instanceof StoreUnavailableError) return error.message;
    return error instanceof Error ? error.message : String(error);
  }

  #noteStoreError(error: unknown): void {
    this.#storeDownReason = this.#storeReason(error);
    if (this.#storeDownSince === null) {
      this.#storeDownSince = this.#clock.now();
      this.#log('warn', 'store unavailable: not voting or claiming until it answers', errorFields(error));
    }
    if (!(error instanceof StoreUnavailableError)) {
      const kind = error instanceof Error ? error.name : typeof error;
      this.#unexpectedStoreErrorAt.set(kind, this.#clock.now());
      this.#unexpectedStoreErrors.failed(kind, 'unexpected store error', errorFields(error));
    }
  }

  /**
   * Closes, with one line and its count, each kind of unexpected store error that has not recurred for a
   * whole interval while the store was read successfully since (not merely left alone while it was down).
   */
  #closeQuietUnexpectedStoreErrors(): void {
    const now = this.#clock.now();
    for (const [kind, at] of this.#unexpectedStoreErrorAt) {
      if (now - at < REPEATED_FAILURE_LOG_INTERVAL_MS || this.#lastStoreReadAt <= at) continue;
      this.#unexpectedStoreErrorAt.delete(kind);
      this.#unexpectedStoreErrors.recovered(kind, 'unexpected store error no longer seen', {
        errorName: kind,
        quietForMs: now - at,
      });
    }
  }

  #noteStoreRecovered(): void {
    if (this.#storeDownSince !== null) {
      this.#log('info', 'store available again', { outageMs: this.#clock.now() - this.#storeDownSince });
      this.#storeDownSince = null;
    }
  }
}

/**
 * A `+set` event's option and values. Sentinel publishes a rename in full (`rename-command PING <new>`),
 * but a new command name is a shared secret here (it is what lets a client run the command on the
 * servers, and events reach the event log, alerts, Slack and webhooks, not only Sentinel's own
 * subscribers): it is shown as `******`, as Sentinel shows an auth-pass. A rename undone (the command
 * under its own name again) names nothing secret and is shown as is.
 */
function setEventText(change: SetChange): string {
  if (change.option !== RENAME_COMMAND) return `${change.option} ${change.values.join(' ')}`;
  const [command = '', renamed = ''] = change.values;
  const undone = renamed.toLowerCase() === command.toLowerCase();
  return `${change.option} ${command} ${undone ? renamed : REDACTED}`;
}

/** A change for the log line: the option and its value, or for a rename only the command renamed. */
function loggedChange(change: SetChange): string {
  if (change.option !== RENAME_COMMAND) return `${change.option} ${change.values.join(' ')}`;
  return `${change.option} ${change.values[0] ?? ''}`;
}

/** An origin for a log line: `monitor 10.0.0.1:6379`, or `unknown` for a record older than origins. */
function describeOrigin(origin: MasterOrigin | null): string {
  return origin === null ? 'unknown' : `${origin.source} ${origin.host}:${origin.port}`;
}

function makeMonitorEvent(
  settings: MasterSettings,
  address: { host: string; port: number },
  now: number,
): SentinelEvent {
  return makeEvent(
    '+monitor',
    `master ${settings.name} ${address.host} ${address.port} quorum ${settings.quorum}`,
    settings.name,
    now,
  );
}
