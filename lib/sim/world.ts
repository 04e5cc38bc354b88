/**
 * One simulated schedule: three real SentinelRunners (each Lambda invocation a simulated process, with its
 * own skewed clock, handing over to the next one through the loop lease), the real FailoverRunner inside
 * them, the real MemoryStore behind a faulty network, simulated Redis nodes, a client looking the master
 * up, and the seeded fault schedule — all on one virtual clock. The invariants run after every step.
 *
 * Same seed, same run: every random draw comes from the seed, the only clock is the simulator's, and the
 * order of events is the timer queue's (time, then insertion).
 */
import { addressKey as coreAddressKey } from '../core/decide.js';
import type { MasterRecord, SentinelEvent, SentinelId, Vote } from '../core/types.js';
import { SentinelRunner } from '../runtime/sentinel.js';
import {
  HANDOVER_WINDOW_MS,
  INVOCATION_PERIOD_MS,
  INVOCATION_RUN_MS,
  MASTER_NAME,
  RECORDS_FULL_READ_PERIOD_MS,
  SENTINEL_IDS,
  SKEW_BOUND_MS,
  simSetup,
  T0,
} from './config.js';
import { type Fault, type FaultKind, type NodeTarget, planFaults } from './faults.js';
import {
  INVARIANTS,
  type InvariantName,
  InvariantState,
  noteMasterDeath,
  type SelectionView,
  type StepObservations,
  type Truth,
  type Violation,
} from './invariants.js';
import { Random } from './random.js';
import { addressKey, type RedisCommand, RedisWorld, type SimNode } from './redis.js';
import { Process, Simulator } from './scheduler.js';
import { type BrokenStoreRule, type RecordChange, SimStore } from './store.js';
import { Timeline } from './timeline.js';

export const DEFAULT_HORIZON_MS = 14_000;

/** How long a hand-over may leave a sentinel without a lease holder and still count as no gap. */
const HANDOVER_GRACE_MS = 200;

const INVARIANT_LIST = Object.entries(INVARIANTS) as Array<
  [InvariantName, (typeof INVARIANTS)[InvariantName]]
>;

export interface RunOptions {
  readonly seed: number;
  readonly horizonMs?: number;
  /** Teeth: store mechanisms switched off. */
  readonly broken?: readonly BrokenStoreRule[];
  /** Teeth: INFO hides replica-priority 0 (the selection can no longer see it). */
  readonly hidePriorityZero?: boolean;
  /** A scripted fault schedule instead of the seeded one (the seed still drives everything else). */
  readonly faults?: readonly Fault[];
  /** Count the KNOWN_GAPS as violations too. */
  readonly strict?: boolean;
  /** Keep the trace lines (for --verbose and for a failing seed's replay). */
  readonly keepTrace?: boolean;
}

export interface RunResult {
  readonly seed: number;
  readonly profile: 'liveness' | 'chaos';
  readonly violations: readonly Violation[];
  /** Violations matching a KNOWN_GAPS pattern, tolerated unless `strict`. */
  readonly knownGaps: readonly Violation[];
  /** Hash of every traced event: two runs of one seed must agree on it. */
  readonly traceHash: string;
  readonly trace: readonly string[];
  readonly faults: Readonly<Partial<Record<FaultKind, number>>>;
  /** Promotions committed (the record switched to a new master). */
  readonly failovers: number;
  /** Automatic failovers started while the old master was in fact running as master. */
  readonly falseFailovers: number;
  readonly forcedFailovers: number;
  /** Death of the recorded master → record switched, for each such failover. */
  readonly deathToSwitchMs: readonly number[];
  /** First +sdown of the dead master by any sentinel → record switched. */
  readonly detectionToSwitchMs: readonly number[];
  /** Liveness windows whose conditions held (so the bound was checked). */
  readonly livenessChecked: number;
  /** Liveness windows whose conditions did not hold, with why. */
  readonly livenessExempt: readonly string[];
  readonly steps: number;
  readonly storeCalls: number;
}

interface Invocation {
  readonly name: string;
  readonly runner: SentinelRunner;
  readonly sentinel: SentinelSlot;
  readonly process: Process;
  readonly abort: AbortController;
  holdsLease: boolean;
  ended: boolean;
}

interface SentinelSlot {
  readonly id: SentinelId;
  readonly invocations: Invocation[];
  count: number;
  /** The next scheduled invocation starts this much later (a late-invocation fault). */
  lateMs: number;
  /** Faults currently touching this sentinel (partitions, lost or slow replies). */
  faults: number;
  storeCut: number;
  /** A hand-over is under way until then: the successor is about to take the lease. */
  handoverUntil: number;
  readonly healthy: Timeline;
  readonly clean: Timeline;
  readonly harmful: Timeline;
  /** When an invocation of it was killed. */
  readonly kills: number[];
  /** When an invocation of it started with fresh observations (+monitor, no hand-over state). */
  readonly freshStarts: number[];
  /** When it won an epoch claim. */
  readonly claimsWon: number[];
}

/** 64-bit FNV-1a as two 32-bit lanes: cheap, and plenty to tell two traces apart. */
class TraceHash {
  #a = 0x811c9dc5;
  #b = 0x01000193;
  add(line: string): void {
    let a = this.#a;
    let b = this.#b;
    for (let i = 0; i < line.length; i += 1) {
      const c = line.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
    }
    this.#a = Math.imul(a ^ 10, 0x01000193);
    this.#b = b;
  }
  /** Mixes in a number (each step's time and store-call count: the hash sees every timer fired). */
  addNumber(n: number): void {
    this.#a = Math.imul(this.#a ^ (n | 0), 0x01000193);
    this.#b = Math.imul(this.#b ^ ((n / 4_294_967_296) | 0) ^ (n | 0), 0x5bd1e995) ^ (this.#b >>> 13);
  }
  hex(): string {
    return (this.#a >>> 0).toString(16).padStart(8, '0') + (this.#b >>> 0).toString(16).padStart(8, '0');
  }
}

export async function runSchedule(options: RunOptions): Promise<RunResult> {
  const world = new World(options);
  return world.run();
}

class World {
  readonly #options: RunOptions;
  readonly #horizon: number;
  readonly #sim = new Simulator(T0);
  readonly #rng: Random;
  readonly #faultRng: Random;
  readonly #skewRng: Random;
  readonly #setup;
  readonly #redis: RedisWorld;
  readonly #store: SimStore;
  readonly #slots: SentinelSlot[];
  readonly #hash = new TraceHash();
  readonly #trace: string[] = [];
  readonly #state = new InvariantState();
  readonly #truth: Truth;
  readonly #violations: Violation[] = [];
  readonly #knownGaps: Violation[] = [];
  readonly #faultCounts: Partial<Record<FaultKind, number>> = {};
  readonly #storeNormal: Timeline;
  readonly #manualRequests: number[] = [];
  /** Faults waiting for their moment: a failover step recorded, a down-vote written. */
  readonly #armed: Array<
    | {
        readonly trigger: 'step';
        readonly step: string;
        readonly how: 'kill' | 'abort' | 'pause';
        readonly durationMs: number;
      }
    | { readonly trigger: 'down-vote'; readonly sentinel: SentinelId }
  > = [];
  readonly #step: {
    recordChanges: RecordChange[];
    commands: Array<{ command: RedisCommand; record: MasterRecord | null }>;
    lookups: Array<{ caller: string; record: MasterRecord | null }>;
  } = { recordChanges: [], commands: [], lookups: [] };
  readonly #client: Process;
  readonly #profile: 'liveness' | 'chaos';
  readonly #faults: readonly Fault[];
  #slowEveryone = 0;
  #failovers = 0;
  #falseFailovers = 0;
  #forcedFailovers = 0;
  readonly #firstSdown = new Map<string, number>();
  readonly #diedAt = new Map<string, number>();
  readonly #deathToSwitch: number[] = [];
  readonly #detectionToSwitch: number[] = [];

  constructor(options: RunOptions) {
    this.#options = options;
    this.#horizon = options.horizonMs ?? DEFAULT_HORIZON_MS;
    const root = new Random(options.seed);
    this.#setup = simSetup(root.fork(1));
    const plan = planFaults(root.fork(2), { horizonMs: this.#horizon, sentinels: SENTINEL_IDS.length });
    this.#profile = options.faults ? 'chaos' : plan.profile;
    this.#faults = options.faults ?? plan.faults;
    this.#faultRng = root.fork(3);
    this.#skewRng = root.fork(4);
    this.#rng = root.fork(5);
    this.#storeNormal = new Timeline(true, T0);
    this.#redis = new RedisWorld(
      this.#sim,
      root.fork(6),
      this.#setup.nodes,
      { hidePriorityZero: options.hidePriorityZero },
      {
        onSend: (command) => this.#step.commands.push({ command, record: this.#state.record }),
        onEffect: (command, node) =>
          this.#traceLine(`redis ${node.spec.name} now ${node.role} (${command.process} ${command.kind})`),
        trace: (line) => this.#traceLine(line),
      },
    );
    this.#store = new SimStore(this.#sim, root.fork(7), SENTINEL_IDS, new Set(options.broken ?? []), {
      onCall: (process, op) => {
        if (op === 'listReplicas') this.#captureSelectionView(process);
      },
      onCallFailed: (process, op) => {
        if (op === 'listReplicas') this.#selectionRetried.add(process.name);
      },
      onRecordChange: (change) => this.#onRecordChange(change),
      onVoteWritten: (vote, at, seq) => this.#onVoteWritten(vote, at, seq),
      onLeaseAcquired: (sentinelId, invocationId) => {
        const slot = this.#slot(sentinelId);
        for (const invocation of slot.invocations) invocation.holdsLease = invocation.name === invocationId;
        this.#traceLine(`lease ${sentinelId} → ${invocationId}`);
        this.#refresh(slot);
      },
      trace: (line) => this.#traceLine(line),
    });
    this.#slots = SENTINEL_IDS.map((id) => ({
      id,
      invocations: [],
      count: 0,
      lateMs: 0,
      faults: 0,
      storeCut: 0,
      handoverUntil: 0,
      healthy: new Timeline(false, T0),
      clean: new Timeline(false, T0),
      harmful: new Timeline(false, T0),
      kills: [],
      freshStarts: [],
      claimsWon: [],
    }));
    this.#client = new Process(this.#sim, 'client', 0);
    const settings = this.#setup.config.masters[0];
    if (settings === undefined) throw new Error('no master configured');
    const redis = this.#redis;
    const sim = this.#sim;
    const slotOf = (id: SentinelId): SentinelSlot => this.#slot(id);
    this.#truth = {
      settings,
      members: SENTINEL_IDS,
      skewBoundMs: SKEW_BOUND_MS,
      start: T0,
      now: () => sim.now,
      node: (a) => redis.node(a),
      nodes: () => [...redis.nodes.values()],
      healthy: (s) => slotOf(s).healthy,
      clean: (s) => slotOf(s).clean,
      harmful: (s) => slotOf(s).harmful,
      killsIn: (s, from, to) => slotOf(s).kills.filter((t) => t >= from && t <= to).length,
      freshStartsIn: (s, from, to) => slotOf(s).freshStarts.filter((t) => t >= from && t <= to).length,
      claimsWonIn: (s, from, to) => slotOf(s).claimsWon.filter((t) => t >= from && t <= to),
      cut: (s, node) => redis.cutTimeline(s, node),
      replicationCut: (node) => this.#replicationCuts(node),
      storeNormal: () => this.#storeNormal,
      manualRequests: () => this.#manualRequests,
      selectionView: (process) => this.#selectionViews.get(process) ?? null,
    };
  }

  readonly #selectionViews = new Map<string, SelectionView>();
  readonly #selectionRetried = new Set<string>();

  /**
   * The failover runner asks for the recorded replicas right after choosing, in the same synchronous
   * stretch of code: what its sentinel observes now is exactly what it chose from. A retried call comes
   * later, when that moment has passed: the view is then dropped rather than misattributed.
   */
  #captureSelectionView(process: Process): void {
    const invocation = this.#invocationNamed(process.name);
    if (!invocation) return;
    if (this.#selectionRetried.delete(process.name)) {
      this.#selectionViews.delete(process.name);
      return;
    }
    const snapshot = invocation.runner.snapshots()[MASTER_NAME];
    const memory = invocation.runner.memories()[MASTER_NAME];
    if (!snapshot || !memory) return;
    // As SentinelRunner builds its FailoverRunner's view: each replica with this sentinel's SDOWN judgement.
    this.#selectionViews.set(process.name, {
      replicas: snapshot.replicas.map((observation) => ({
        observation,
        sdown: memory.replicaSdownSince[coreAddressKey(observation.address)] !== undefined,
      })),
      masterSdownSince: memory.sdownSince,
      now: process.clock.now(),
    });
  }

  readonly #replicationCutTimelines = new Map<string, Timeline>();
  #replicationCuts(node: SimNode): Timeline {
    let timeline = this.#replicationCutTimelines.get(node.key);
    if (!timeline) {
      timeline = new Timeline(false, T0);
      this.#replicationCutTimelines.set(node.key, timeline);
    }
    return timeline;
  }

  #slot(id: SentinelId): SentinelSlot {
    const slot = this.#slots.find((s) => s.id === id);
    if (!slot) throw new Error(`unknown sentinel ${id}`);
    return slot;
  }

  /** Records a line of the trace; every line but the runners' own log lines goes into the hash. */
  #traceLine(line: string, hashed = true): void {
    const entry = `${this.#sim.now - T0} ${line}`;
    if (hashed) this.#hash.add(entry);
    if (this.#options.keepTrace) this.#trace.push(entry);
  }

  // ------------------------------------------------------------------ run

  async run(): Promise<RunResult> {
    const end = T0 + this.#horizon;
    for (const [i, slot] of this.#slots.entries()) {
      let at = T0 + i * 37 + this.#rng.int(0, 200);
      while (at < end) {
        const scheduled = at;
        this.#sim.at(scheduled, () => {
          const late = slot.lateMs;
          slot.lateMs = 0;
          if (late > 0) this.#sim.after(late, () => this.#startInvocation(slot));
          else this.#startInvocation(slot);
        });
        at += INVOCATION_PERIOD_MS + this.#rng.int(0, 300);
      }
    }
    for (const fault of this.#faults) this.#sim.at(T0 + fault.at, () => this.#inject(fault));
    this.#startLookups();
    await this.#sim.run(end, () => this.#afterStep());
    this.#afterStep();
    return {
      seed: this.#options.seed,
      profile: this.#profile,
      violations: this.#violations,
      knownGaps: this.#knownGaps,
      traceHash: this.#hash.hex(),
      trace: this.#trace,
      faults: this.#faultCounts,
      failovers: this.#failovers,
      falseFailovers: this.#falseFailovers,
      forcedFailovers: this.#forcedFailovers,
      deathToSwitchMs: this.#deathToSwitch,
      detectionToSwitchMs: this.#detectionToSwitch,
      livenessChecked: this.#state.obligations.filter((o) => o.applied).length,
      livenessExempt: this.#state.obligations.flatMap((o) => (o.exemption ? [o.exemption] : [])),
      steps: this.#sim.steps,
      storeCalls: this.#store.calls,
    };
  }

  #afterStep(): void {
    this.#hash.addNumber(this.#sim.now - T0);
    this.#hash.addNumber(this.#store.calls);
    const step: StepObservations = this.#step;
    // A step that changed nothing the invariants watch, with no liveness deadline due, cannot break one.
    const quiet =
      step.recordChanges.length === 0 &&
      step.commands.length === 0 &&
      step.lookups.length === 0 &&
      !this.#state.obligations.some((o) => !o.checked && o.deadline <= this.#sim.now);
    if (quiet) return;
    for (const [name, invariant] of INVARIANT_LIST) {
      for (const violation of invariant(this.#state, step, this.#truth)) {
        const tolerated = violation.knownGap !== undefined && this.#options.strict !== true;
        const list = tolerated ? this.#knownGaps : this.#violations;
        // The first of each kind tells the story; the repeats that follow from it would drown it.
        if (list.some((v) => v.invariant === violation.invariant)) continue;
        list.push(violation);
        this.#traceLine(
          `${tolerated ? `KNOWN GAP ${violation.knownGap} in` : 'VIOLATION'} ${name}: ${violation.detail}`,
        );
      }
    }
    this.#step.recordChanges = [];
    this.#step.commands = [];
    this.#step.lookups = [];
  }

  // ------------------------------------------------------------------ sentinels

  #startInvocation(slot: SentinelSlot): void {
    const name = `${slot.id}#${slot.count}`;
    slot.count += 1;
    const skew = this.#skewRng.chance(0.5) ? this.#skewRng.int(-SKEW_BOUND_MS, SKEW_BOUND_MS) : 0;
    if (skew !== 0) this.#count('clock-skew');
    const process = new Process(this.#sim, name, skew);
    const abort = new AbortController();
    this.#traceLine(`start ${name} skew ${skew}`);
    const runner = new SentinelRunner({
      sentinelId: slot.id,
      config: this.#setup.config,
      store: this.#store.view(process, slot.id),
      probeFactory: this.#redis.probeFactory(process, slot.id),
      controlFactory: this.#redis.controlFactory(process, slot.id),
      clock: process.clock,
      invocationId: name,
      stopAt: process.clock.now() + INVOCATION_RUN_MS,
      handoverWindowMs: HANDOVER_WINDOW_MS,
      generation: 'sim',
      signal: abort.signal,
      recordsFullReadPeriodMs: RECORDS_FULL_READ_PERIOD_MS,
      onEvent: (event) => this.#onEvent(slot.id, name, event),
      ...(this.#options.keepTrace
        ? {
            log: (level: string, message: string) => {
              // Not hashed: the hash must not depend on whether the trace is kept.
              if (level !== 'debug') this.#traceLine(`log ${name} ${level} ${message.slice(0, 300)}`, false);
            },
          }
        : {}),
    });
    const invocation: Invocation = {
      name,
      runner,
      sentinel: slot,
      process,
      abort,
      holdsLease: false,
      ended: false,
    };
    slot.invocations.push(invocation);
    void runner.run().then(
      (report) => {
        invocation.ended = true;
        invocation.holdsLease = false;
        this.#traceLine(`end ${name} ${report.end}`);
        if (report.end === 'handover') {
          // The successor takes the lease a store round trip or a lease poll later: no gap in probing.
          slot.handoverUntil = this.#sim.now + HANDOVER_GRACE_MS;
          this.#sim.after(HANDOVER_GRACE_MS, () => this.#refresh(slot));
        }
        this.#refresh(slot);
      },
      (error: unknown) => {
        invocation.ended = true;
        this.#traceLine(`end ${name} crashed: ${String(error)}`);
        this.#violations.push({
          invariant: 'runnerNeverThrows',
          at: this.#sim.now,
          detail: `${name}: ${String(error)}`,
        });
        this.#refresh(slot);
      },
    );
  }

  /** Recomputes the sentinel's health timelines (after any change to its invocations or faults). */
  #refresh(slot: SentinelSlot): void {
    const now = this.#sim.now;
    const handingOver = now < slot.handoverUntil;
    const live = slot.invocations.filter((i) => (i.holdsLease || handingOver) && !i.ended && !i.process.dead);
    const healthy = live.some((i) => !i.process.paused);
    const anyPaused = slot.invocations.some((i) => !i.ended && i.process.paused);
    const clean = healthy && !anyPaused && slot.faults === 0;
    slot.healthy.set(now, healthy);
    slot.clean.set(now, clean);
    slot.harmful.set(now, live.length > 0 && !clean && slot.storeCut === 0);
  }

  #onEvent(sentinelId: SentinelId, invocation: string, event: SentinelEvent): void {
    this.#traceLine(`event ${invocation} ${event.type} ${event.payload}`);
    if (event.type === '+monitor') this.#slot(sentinelId).freshStarts.push(this.#sim.now);
    if (event.type === '+sdown' && event.payload.startsWith('master ')) {
      const [, , host, port] = event.payload.split(' ');
      const key = `${host}:${port}`;
      const died = this.#diedAt.get(key);
      if (died !== undefined && !this.#firstSdown.has(key)) this.#firstSdown.set(key, this.#sim.now);
    }
  }

  // ------------------------------------------------------------------ store observations

  #onRecordChange(change: RecordChange): void {
    const { before, after } = change;
    this.#state.record = after;
    this.#step.recordChanges.push(change);
    if (change.op === 'claimEpoch' && (change.result as { won?: boolean }).won) {
      if (after.leader !== null && SENTINEL_IDS.includes(after.leader as (typeof SENTINEL_IDS)[number]))
        this.#slot(after.leader).claimsWon.push(change.at);
      const request = change.args[1] as {
        mode: string;
        progress?: { forced: boolean; oldMaster: { host: string; port: number } };
      };
      if (request.mode === 'start' && request.progress) {
        if (request.progress.forced) this.#forcedFailovers += 1;
        else if (this.#redis.node(request.progress.oldMaster)?.healthyMaster.current)
          this.#falseFailovers += 1;
      }
    }
    if (before !== null && after.configEpoch > before.configEpoch) {
      this.#failovers += 1;
      const from = `${before.host}:${before.port}`;
      const died = this.#diedAt.get(from);
      if (died !== undefined) {
        this.#deathToSwitch.push(change.at - died);
        const detected = this.#firstSdown.get(from);
        if (detected !== undefined) this.#detectionToSwitch.push(change.at - detected);
        this.#diedAt.delete(from);
        this.#firstSdown.delete(from);
      }
    }
    // A runner armed to die (or freeze) after this step does so now, before it hears the store's answer.
    const won = change.op === 'claimEpoch' && (change.result as { won?: boolean }).won === true;
    if (change.op === 'advanceFailover' || won) {
      const index = this.#armed.findIndex((a) => a.trigger === 'step' && a.step === after.failoverState);
      const invocation = this.#invocationNamed(change.process);
      const armed = this.#armed[index];
      if (armed?.trigger === 'step' && invocation) {
        this.#armed.splice(index, 1);
        this.#traceLine(`${invocation.name} stops after recording ${after.failoverState} (${armed.how})`);
        if (armed.how === 'kill') this.#kill(invocation);
        else if (armed.how === 'abort') invocation.process.deliver(() => invocation.abort.abort());
        else this.#pauseInvocation(invocation, this.#sim.now + armed.durationMs);
      }
    }
  }

  #onVoteWritten(vote: Vote, at: number, seq: number): void {
    this.#state.votes.push({ vote, at, seq });
    this.#traceLine(
      `vote ${vote.sentinelId} ${vote.invocationId} down=${vote.down} obs=${vote.observedAt - T0}`,
    );
    if (!vote.down) return;
    const index = this.#armed.findIndex((a) => a.trigger === 'down-vote' && a.sentinel === vote.sentinelId);
    const invocation = this.#invocationNamed(vote.invocationId);
    if (index >= 0 && invocation) {
      this.#armed.splice(index, 1);
      this.#kill(invocation);
    }
  }

  #pauseInvocation(invocation: Invocation, until: number): void {
    invocation.process.pause(until);
    this.#refresh(invocation.sentinel);
    this.#sim.at(until, () => this.#refresh(invocation.sentinel));
  }

  #invocationNamed(name: string): Invocation | undefined {
    for (const slot of this.#slots) {
      const found = slot.invocations.find((i) => i.name === name);
      if (found) return found;
    }
    return undefined;
  }

  #kill(invocation: Invocation): void {
    if (invocation.ended || invocation.process.dead) return;
    invocation.process.kill();
    invocation.ended = true;
    const slot = invocation.sentinel;
    slot.kills.push(this.#sim.now);
    this.#refresh(slot);
    this.#traceLine(`killed ${invocation.name}`);
  }

  // ------------------------------------------------------------------ the lookup client

  #startLookups(): void {
    const store = this.#store.view(this.#client, 'client');
    const loop = async (): Promise<void> => {
      for (;;) {
        await this.#client.sleep(this.#rng.int(100, 400));
        try {
          const record = await store.getMaster(MASTER_NAME);
          this.#step.lookups.push({ caller: 'client', record });
        } catch {
          // The client retries at its next lookup, like any client.
        }
      }
    };
    void loop();
  }

  // ------------------------------------------------------------------ faults

  #count(kind: FaultKind): void {
    this.#faultCounts[kind] = (this.#faultCounts[kind] ?? 0) + 1;
  }

  #resolveNode(target: NodeTarget): SimNode {
    const nodes = [...this.#redis.nodes.values()];
    const record = this.#state.record;
    const masterKey = record
      ? `${record.host}:${record.port}`
      : addressKey(this.#setup.nodes[0]?.address ?? { host: '', port: 0 });
    const master = nodes.find((n) => n.key === masterKey) ?? (nodes[0] as SimNode);
    if (target === 'master') return master;
    if (target === 'replica') {
      const replicas = nodes.filter((n) => n !== master);
      return replicas.length > 0 ? this.#faultRng.pick(replicas) : master;
    }
    return this.#faultRng.pick(nodes);
  }

  /** Marks a fault touching one sentinel for its duration. */
  #touch(slot: SentinelSlot, durationMs: number, undo: () => void, storeCut = false): void {
    slot.faults += 1;
    if (storeCut) slot.storeCut += 1;
    this.#refresh(slot);
    this.#sim.after(durationMs, () => {
      undo();
      slot.faults -= 1;
      if (storeCut) slot.storeCut -= 1;
      this.#refresh(slot);
    });
  }

  #inject(fault: Fault): void {
    this.#count(fault.kind);
    this.#traceLine(`fault ${JSON.stringify(fault)}`);
    const sim = this.#sim;
    switch (fault.kind) {
      case 'redis-crash': {
        const node = this.#resolveNode(fault.node);
        if (!node.up) return;
        const wasRecordedMaster =
          this.#state.record !== null && `${this.#state.record.host}:${this.#state.record.port}` === node.key;
        // Registered before the crash, while its replicas are still linked to it.
        if (wasRecordedMaster) noteMasterDeath(this.#state, this.#truth, node);
        this.#redis.crash(node);
        if (wasRecordedMaster) {
          this.#diedAt.set(node.key, sim.now);
          this.#firstSdown.delete(node.key);
        }
        if (fault.restartAfterMs !== null) {
          sim.after(fault.restartAfterMs, () => {
            this.#redis.restart(node);
            this.#diedAt.delete(node.key);
          });
        }
        return;
      }
      case 'redis-pause':
        this.#redis.pause(this.#resolveNode(fault.node), sim.now + fault.durationMs);
        return;
      case 'partition-sentinel-redis': {
        const slot = this.#slots[fault.sentinel] as SentinelSlot;
        const nodes =
          fault.node === 'all' ? [...this.#redis.nodes.values()] : [this.#resolveNode(fault.node)];
        for (const node of nodes) this.#redis.setLinkCut(slot.id, node, true);
        this.#touch(slot, fault.durationMs, () => {
          for (const node of nodes) this.#redis.setLinkCut(slot.id, node, false);
        });
        return;
      }
      case 'partition-sentinel-store': {
        const slot = this.#slots[fault.sentinel] as SentinelSlot;
        this.#store.setCut(slot.id, true);
        this.#touch(slot, fault.durationMs, () => this.#store.setCut(slot.id, false), true);
        return;
      }
      case 'store-reply-loss': {
        const slot = this.#slots[fault.sentinel] as SentinelSlot;
        this.#store.setReplyLoss(slot.id, true);
        this.#touch(slot, fault.durationMs, () => this.#store.setReplyLoss(slot.id, false));
        return;
      }
      case 'store-outage':
        this.#store.setOutage(true);
        this.#storeNormal.set(sim.now, false);
        sim.after(fault.durationMs, () => {
          this.#store.setOutage(false);
          this.#storeNormal.set(sim.now, !this.#store.unavailable && this.#slowEveryone === 0);
        });
        return;
      case 'store-slow': {
        if (fault.sentinel === null) {
          this.#store.addSlow(fault.extraMs);
          this.#slowEveryone += 1;
          this.#storeNormal.set(sim.now, false);
          sim.after(fault.durationMs, () => {
            this.#store.addSlow(-fault.extraMs);
            this.#slowEveryone -= 1;
            this.#storeNormal.set(sim.now, !this.#store.unavailable && this.#slowEveryone === 0);
          });
          return;
        }
        const slot = this.#slots[fault.sentinel] as SentinelSlot;
        this.#store.addSlow(fault.extraMs, slot.id);
        this.#touch(slot, fault.durationMs, () => this.#store.addSlow(-fault.extraMs, slot.id));
        return;
      }
      case 'sentinel-pause': {
        const slot = this.#slots[fault.sentinel] as SentinelSlot;
        const until = sim.now + fault.durationMs;
        for (const invocation of slot.invocations)
          if (!invocation.ended) this.#pauseInvocation(invocation, until);
        return;
      }
      case 'sentinel-crash': {
        const slot = this.#slots[fault.sentinel] as SentinelSlot;
        if (fault.afterDownVote) this.#armed.push({ trigger: 'down-vote', sentinel: slot.id });
        else for (const invocation of slot.invocations) this.#kill(invocation);
        return;
      }
      case 'late-invocation':
        (this.#slots[fault.sentinel] as SentinelSlot).lateMs = fault.lateMs;
        return;
      case 'duplicate-invocation':
        this.#startInvocation(this.#slots[fault.sentinel] as SentinelSlot);
        return;
      case 'failover-dies-after-step':
        this.#armed.push({ trigger: 'step', step: fault.step, how: fault.how, durationMs: 0 });
        return;
      case 'leader-paused-after-step':
        this.#armed.push({ trigger: 'step', step: fault.step, how: 'pause', durationMs: fault.durationMs });
        return;
      case 'replication-cut': {
        const node = this.#resolveNode(fault.node);
        this.#redis.setReplicationCut(node, true);
        this.#replicationCuts(node).set(sim.now, true);
        sim.after(fault.durationMs, () => {
          this.#redis.setReplicationCut(node, false);
          this.#replicationCuts(node).set(sim.now, false);
        });
        return;
      }
      case 'redis-reply-loss': {
        const slot = this.#slots[fault.sentinel] as SentinelSlot;
        this.#redis.setReplyLoss(slot.id, true);
        this.#touch(slot, fault.durationMs, () => this.#redis.setReplyLoss(slot.id, false));
        return;
      }
      case 'lost-increments':
        this.#store.setIncrementsLost(true);
        sim.after(fault.durationMs, () => this.#store.setIncrementsLost(false));
        return;
      case 'manual-failover': {
        this.#manualRequests.push(sim.now);
        const store = this.#store.view(this.#client, 'client');
        void store
          .requestFailover(MASTER_NAME, { now: sim.now, coordinated: fault.coordinated })
          .then((outcome) => this.#traceLine(`manual failover: ${outcome}`))
          .catch(() => this.#traceLine('manual failover: store unavailable'));
        return;
      }
    }
  }
}
