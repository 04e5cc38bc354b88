/**
 * The language of the failover state machine (lib/core/failover.ts): what a step is given, what it asks
 * the runner to do, what the runner answers, what the runner carries between steps, and the builder
 * each step writes its output with.
 */
import { FAILOVER_RETRY_TIMEOUTS } from './constants.js';
import { type EventType, type InstanceRef, instanceEvent } from './events.js';
import type { ReplicaCandidate } from './selection.js';
import type {
  Address,
  FailoverProgress,
  FailoverState,
  InfoResult,
  MasterRecord,
  MasterSettings,
  RecordedFailover,
  ReplicaReconf,
  SentinelEvent,
} from './types.js';

/** The leader's own current view of the replicas and of the master, for the choice of a replica. */
export interface LeaderView {
  readonly replicas: readonly ReplicaCandidate[];
  readonly masterSdownSince: number | null;
}

/** A command to one Redis instance, sent as one transaction by the control adapter. */
export type FailoverCommand =
  /** REPLICAOF NO ONE: the chosen replica becomes the master. */
  | { readonly type: 'promote'; readonly target: Address }
  /** FAILOVER TO (Redis ≥ 6.2): the live old master hands over to the chosen replica. */
  | {
      readonly type: 'hand-over';
      readonly master: Address;
      readonly target: Address;
      readonly timeoutMs: number;
    }
  /** REPLICAOF host port: a replica follows the promoted one. */
  | { readonly type: 'replicate'; readonly target: Address; readonly master: Address };

export type CommandReply = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** A write of the master record, conditional on the epoch, the leader and `from` (lib/ports.ts). */
export interface FailoverWrite {
  readonly from: FailoverState;
  readonly to: FailoverState;
  readonly progress: FailoverProgress;
  /** The leader's lease, renewed by every step's write; 0 when the failover ends and gives it up. */
  readonly leaseUntil: number;
  /** At the promotion: the new master address (lookups switch with this write). */
  readonly switchTo?: Address;
  /** On an abort: no new automatic failover before this time. */
  readonly retryNotBefore?: number;
}

/** What a step asks the runner to do next: exactly one thing. */
export type FailoverRequest =
  /** Look at the leader's view (its sentinel's current observations), for the choice. */
  | { readonly type: 'view' }
  /** Read the replicas recorded in the store, to re-point them all. */
  | { readonly type: 'read-replicas' }
  | { readonly type: 'info'; readonly address: Address }
  /** Send a command, once the leader lease is known to outlast it (the runner's fence). */
  | { readonly type: 'send'; readonly command: FailoverCommand }
  | { readonly type: 'record'; readonly write: FailoverWrite }
  /** Wait (renewing the leader lease when half spent), then step again. */
  | { readonly type: 'pause'; readonly ms: number }
  /** Record the old master as a replica (converted when it comes back: +convert-to-slave). */
  | { readonly type: 'remember-replica'; readonly address: Address; readonly at: number }
  /** Nothing to do: step again. */
  | { readonly type: 'continue' }
  | { readonly type: 'end'; readonly outcome: FailoverOutcome };

export type FailoverOutcome = 'completed' | 'aborted';

/**
 * The answer to the step before's request. 'none' starts an iteration (the first step, and after a
 * pause, a `continue` or a `remember-replica`): a runner asked to stop stops there, never halfway
 * through an iteration, and never between a write and what follows it ('recorded').
 */
export type FailoverAnswer =
  | { readonly type: 'none' }
  /** The write was accepted (a refused one ends the runner: the epoch or the state moved). */
  | { readonly type: 'recorded' }
  | { readonly type: 'view'; readonly view: LeaderView }
  | { readonly type: 'replicas'; readonly addresses: readonly Address[] }
  | { readonly type: 'info'; readonly result: InfoResult }
  | { readonly type: 'reply'; readonly reply: CommandReply };

/** One round of reconf_slaves: what the replicas told do, then more told, parallel-syncs at a time. */
export interface ReconfRound {
  /**
   * 'observe': INFO of each replica told; 'tell': REPLICAOF to pending replicas while fewer than
   * parallel-syncs are in flight; 'best-effort': failover-timeout passed, so every replica not done is
   * told once, without waiting for it.
   */
  readonly phase: 'observe' | 'tell' | 'best-effort';
  /** The round's start: a replica told more than the reconfiguration timeout before it is done. */
  readonly startedAt: number;
  /** The replicas' progress so far in this round (recorded at its end, if it changed). */
  readonly replicas: readonly ReplicaReconf[];
  /** The replica whose INFO or reply the round is waiting for. */
  readonly waitingFor: number;
}

/**
 * What the runner carries from one step to the next, never recorded: a runner that resumes a failover
 * starts with null and continues from the record alone. Each value belongs to the state it names.
 */
export type FailoverMemory =
  | null
  /** 'reading': the recorded replicas are being read; 'looking': they were, the view comes next. */
  | { readonly state: 'select_slave'; readonly stage: 'reading' }
  | {
      readonly state: 'select_slave';
      readonly stage: 'looking';
      /** The replicas the store recorded, re-pointed along with those in the view. */
      readonly recorded: readonly Address[];
    }
  /** 'entered': this runner's write entered the state (what follows it is due); 'sent': the command is out. */
  | { readonly state: 'send_slaveof_noone'; readonly stage: 'entered' | 'sent' }
  | {
      readonly state: 'wait_promotion';
      readonly stage: 'entered' | 'probe' | 'probing' | 'resending';
      /** REPLICAOF NO ONE was sent once more during this wait (at most once). */
      readonly resent: boolean;
    }
  /** 'recorded': this runner recorded the round's changes; the pause before the next round is due. */
  | { readonly state: 'reconf_slaves'; readonly stage: 'entered' | 'recorded' }
  | { readonly state: 'reconf_slaves'; readonly stage: 'round'; readonly round: ReconfRound }
  | { readonly state: 'none'; readonly stage: 'aborted' }
  /** The failover completed: its last event is due, then the old master is remembered as a replica. */
  | { readonly state: 'none'; readonly stage: 'completed' | 'remembered'; readonly oldMaster: Address };

export interface FailoverLogLine {
  readonly level: 'info' | 'warn';
  readonly message: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

export interface FailoverStepInput {
  readonly now: number;
  readonly settings: MasterSettings;
  readonly record: MasterRecord;
  readonly memory: FailoverMemory;
  readonly answer: FailoverAnswer;
}

export interface FailoverStep {
  readonly memory: FailoverMemory;
  readonly events: readonly SentinelEvent[];
  readonly logs: readonly FailoverLogLine[];
  readonly request: FailoverRequest;
}

/** The recorded failover in state S. */
export type Recorded<S extends RecordedFailover['state']> = Extract<RecordedFailover, { state: S }>;

/** The memory of state S, or null when the visit of S starts afresh. */
export type MemoryOf<S extends NonNullable<FailoverMemory>['state']> = Extract<
  FailoverMemory,
  { state: S }
> | null;

/** One step's output as it is built: the events and log lines it adds, then the request that ends it. */
export class StepOutput {
  readonly #events: SentinelEvent[] = [];
  readonly #logs: FailoverLogLine[] = [];

  constructor(
    readonly input: FailoverStepInput,
    /** The master being failed over: events name it as `@ <master> <ip> <port>`. */
    readonly oldMaster: Address,
  ) {}

  get now(): number {
    return this.input.now;
  }

  get settings(): MasterSettings {
    return this.input.settings;
  }

  get answer(): FailoverAnswer {
    return this.input.answer;
  }

  /** An event about an instance of the master being failed over (Sentinel's `%@` payload). */
  announce(type: EventType, instance: InstanceRef): void {
    const master = { name: this.settings.name, address: this.oldMaster };
    this.#events.push(instanceEvent(type, master, instance, this.now));
  }

  emit(event: SentinelEvent): void {
    this.#events.push(event);
  }

  log(level: FailoverLogLine['level'], message: string, fields: Record<string, unknown> = {}): void {
    this.#logs.push({ level, message, fields: { master: this.settings.name, ...fields } });
  }

  /** Ends the step with its request and the memory for the next one. */
  ask(request: FailoverRequest, memory: FailoverMemory): FailoverStep {
    return { memory, events: this.#events, logs: this.#logs, request };
  }

  /** A step's write: the record moves on, and the leader's lease is renewed with it. */
  record(
    failover: RecordedFailover,
    to: FailoverState,
    progress: FailoverProgress,
    memory: FailoverMemory,
    extra: Pick<FailoverWrite, 'switchTo'> = {},
  ): FailoverStep {
    const leaseUntil = this.now + this.settings.leaderLeaseMs;
    return this.ask(
      { type: 'record', write: { from: failover.state, to, progress, leaseUntil, ...extra } },
      memory,
    );
  }

  /** The write that ends the failover: back to 'none', the leader's lease given up. */
  end(
    failover: RecordedFailover,
    progress: FailoverProgress,
    memory: FailoverMemory,
    extra: Pick<FailoverWrite, 'retryNotBefore'> = {},
  ): FailoverStep {
    return this.ask(
      { type: 'record', write: { from: failover.state, to: 'none', progress, leaseUntil: 0, ...extra } },
      memory,
    );
  }

  /** Whether failover-timeout has passed since the failover started (a resumption does not restart it). */
  timedOut(failover: RecordedFailover): boolean {
    return this.now - (failover.startedAt ?? this.now) > this.settings.failoverTimeoutMs;
  }

  /**
   * When the next automatic failover may start after this one aborted: as Sentinel, 2 × failover-timeout
   * after the attempt started; and never sooner than one failover-timeout after the abort, which is
   * where Sentinel would allow a retry at once (a promotion sent, or re-sent, late in the attempt times
   * out after its own failover-timeout): that replica may still apply its late promotion, and a new
   * attempt would promote another one beside it. A start not recorded counts as now.
   */
  retryNotBeforeAfterAbort(failover: RecordedFailover): number {
    const { failoverTimeoutMs } = this.settings;
    const startedAt = failover.startedAt ?? this.now;
    return Math.max(startedAt + FAILOVER_RETRY_TIMEOUTS * failoverTimeoutMs, this.now + failoverTimeoutMs);
  }

  /** -failover-abort-slave-timeout: the failover ends without a promotion; retried later (above). */
  abortForTimeout(failover: RecordedFailover): FailoverStep {
    this.announce('-failover-abort-slave-timeout', { kind: 'master', address: this.oldMaster });
    return this.end(
      failover,
      failover.progress,
      { state: 'none', stage: 'aborted' },
      { retryNotBefore: this.retryNotBeforeAfterAbort(failover) },
    );
  }
}
