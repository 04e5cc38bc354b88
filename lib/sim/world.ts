/**
 * One simulated schedule: three real SentinelRunners (each Lambda invocation a simulated process, with its
 * own skewed clock, handing over to the next one through the loop lease), the real FailoverRunner inside
 * them, the real MemoryStore behind a faulty network, simulated Redis nodes, a client looking the master
 * up, and the seeded fault schedule — all on one virtual clock. The invariants run after every step.
 *
 * Same seed, same run: every random draw comes from the seed, the only clock is the simulator's, and the
 * order of events is the timer queue's (time, then insertion).
 *
 * A run leaves nothing behind: its result holds only figures and (when kept) trace lines, and the
 * simulator is disposed at the end, so a batch of any size holds one schedule in memory at a time.
 */
import { addressKey } from '../core/decide.js';
import type { MasterRecord, SentinelEvent, Vote } from '../core/types.js';
import { MASTER_NAME, SENTINEL_IDS, SKEW_BOUND_MS, simSetup, T0 } from './config.js';
import { type Fault, type FaultKind, planFaults } from './faults.js';
import { type FailoverFigures, Figures } from './figures.js';
import { FaultInjector } from './inject.js';
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
import { type RedisCommand, RedisWorld } from './redis.js';
import { Process, Simulator } from './scheduler.js';
import { type SentinelSlot, Sentinels } from './sentinels.js';
import { type BrokenStoreRule, type RecordChange, SimStore } from './store.js';
import { Trace } from './trace.js';

export const DEFAULT_HORIZON_MS = 14_000;

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

export interface RunResult extends FailoverFigures {
  readonly seed: number;
  readonly profile: 'liveness' | 'chaos';
  readonly violations: readonly Violation[];
  /** Violations matching a KNOWN_GAPS pattern, tolerated unless `strict`. */
  readonly knownGaps: readonly Violation[];
  /** Hash of every traced event: two runs of one seed must agree on it. */
  readonly traceHash: string;
  readonly trace: readonly string[];
  readonly faults: Readonly<Partial<Record<FaultKind, number>>>;
  /** Liveness windows whose conditions held (so the bound was checked). */
  readonly livenessChecked: number;
  /** Liveness windows whose conditions did not hold, with why. */
  readonly livenessExempt: readonly string[];
  readonly steps: number;
  readonly storeCalls: number;
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
  readonly #setup;
  readonly #redis: RedisWorld;
  readonly #store: SimStore;
  readonly #sentinels: Sentinels;
  readonly #injector: FaultInjector;
  readonly #figures = new Figures();
  readonly #trace: Trace;
  readonly #state = new InvariantState();
  readonly #truth: Truth;
  readonly #violations: Violation[] = [];
  readonly #knownGaps: Violation[] = [];
  /** What the current step changed, for the invariants (emptied after each step). */
  readonly #step: {
    recordChanges: RecordChange[];
    commands: Array<{ command: RedisCommand; record: MasterRecord | null }>;
    lookups: Array<{ caller: string; record: MasterRecord | null }>;
  } = { recordChanges: [], commands: [], lookups: [] };
  readonly #client: Process;
  readonly #profile: 'liveness' | 'chaos';
  readonly #faults: readonly Fault[];
  readonly #selectionViews = new Map<string, SelectionView>();
  readonly #selectionRetried = new Set<string>();

  constructor(options: RunOptions) {
    this.#options = options;
    this.#horizon = options.horizonMs ?? DEFAULT_HORIZON_MS;
    this.#trace = new Trace(this.#sim, options.keepTrace === true);
    const root = new Random(options.seed);
    this.#setup = simSetup(root.fork(1));
    const plan = planFaults(root.fork(2), { horizonMs: this.#horizon, sentinels: SENTINEL_IDS.length });
    this.#profile = options.faults ? 'chaos' : plan.profile;
    this.#faults = options.faults ?? plan.faults;
    const faultRng = root.fork(3);
    const skewRng = root.fork(4);
    this.#rng = root.fork(5);
    const trace = this.#trace;
    this.#redis = new RedisWorld(
      this.#sim,
      root.fork(6),
      this.#setup.nodes,
      { hidePriorityZero: options.hidePriorityZero },
      {
        onSend: (command) => this.#step.commands.push({ command, record: this.#state.record }),
        onEffect: (command, node) =>
          trace.line(`redis ${node.spec.name} now ${node.role} (${command.process} ${command.kind})`),
        trace: (line) => trace.line(line),
      },
    );
    this.#store = new SimStore(this.#sim, root.fork(7), SENTINEL_IDS, new Set(options.broken ?? []), {
      onCall: (process, op) => {
        if (op === 'advanceFailover') this.#captureSelectionView(process);
      },
      onCallFailed: (process, op) => {
        if (op === 'advanceFailover') this.#selectionRetried.add(process.name);
      },
      onRecordChange: (change) => this.#onRecordChange(change),
      onVoteWritten: (vote, at, seq) => this.#onVoteWritten(vote, at, seq),
      onLeaseAcquired: (sentinelId, invocationId) => this.#sentinels.leaseAcquired(sentinelId, invocationId),
      trace: (line) => trace.line(line),
    });
    this.#sentinels = new Sentinels({
      sim: this.#sim,
      store: this.#store,
      redis: this.#redis,
      config: this.#setup.config,
      skewRng,
      trace,
      onSkew: () => this.#injector.count('clock-skew'),
      onEvent: (slot, invocation, event) => this.#onEvent(slot, invocation, event),
      onCrash: (violation) => this.#violations.push(violation),
    });
    this.#client = new Process(this.#sim, 'client', 0);
    this.#injector = new FaultInjector(
      {
        sim: this.#sim,
        redis: this.#redis,
        store: this.#store,
        sentinels: this.#sentinels,
        figures: this.#figures,
        trace,
        client: this.#client,
        firstMasterKey: addressKey(this.#setup.nodes[0]?.address ?? { host: '', port: 0 }),
        record: () => this.#state.record,
        // Registered before the crash, while its replicas are still linked to it.
        beforeMasterCrash: (node) => noteMasterDeath(this.#state, this.#truth, node),
      },
      faultRng,
    );
    this.#truth = this.#makeTruth();
  }

  #makeTruth(): Truth {
    const settings = this.#setup.config.masters[0];
    if (settings === undefined) throw new Error('no master configured');
    const redis = this.#redis;
    const sim = this.#sim;
    const sentinels = this.#sentinels;
    const injector = this.#injector;
    return {
      settings,
      members: SENTINEL_IDS,
      skewBoundMs: SKEW_BOUND_MS,
      start: T0,
      now: () => sim.now,
      node: (a) => redis.node(a),
      nodes: () => [...redis.nodes.values()],
      healthy: (s) => sentinels.slot(s).healthy,
      clean: (s) => sentinels.slot(s).clean,
      harmful: (s) => sentinels.slot(s).harmful,
      killsIn: (s, from, to) => sentinels.killsIn(s, from, to),
      freshStartsIn: (s, from, to) => sentinels.freshStartsIn(s, from, to),
      claimsWonIn: (s, from, to) => sentinels.claimsWonIn(s, from, to),
      cut: (s, node) => redis.cutTimeline(s, node),
      replicationCut: (node) => injector.replicationCut(node),
      storeNormal: () => injector.storeNormal,
      manualRequests: () => injector.manualRequests,
      selectionView: (process) => this.#selectionViews.get(process) ?? null,
    };
  }

  /**
   * The failover runner calls the write that records its choice right after choosing, in the same
   * synchronous stretch of code: what its sentinel observes at that call is exactly what it chose from
   * (the invariant reads it only for the write into send_slaveof_noone). A retried call comes later,
   * when that moment has passed: the view is then dropped rather than misattributed.
   */
  #captureSelectionView(process: Process): void {
    const invocation = this.#sentinels.named(process.name);
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
        sdown: memory.replicaSdownSince[addressKey(observation.address)] !== undefined,
      })),
      masterSdownSince: memory.sdownSince,
      now: process.clock.now(),
    });
  }

  // ------------------------------------------------------------------ run

  async run(): Promise<RunResult> {
    const end = T0 + this.#horizon;
    this.#sentinels.schedule(this.#rng, end);
    for (const fault of this.#faults) this.#sim.at(T0 + fault.at, () => this.#injector.inject(fault));
    this.#startLookups();
    await this.#sim.run(end, () => this.#afterStep());
    this.#afterStep();
    this.#sim.dispose();
    const figures = this.#figures;
    return {
      seed: this.#options.seed,
      profile: this.#profile,
      violations: this.#violations,
      knownGaps: this.#knownGaps,
      traceHash: this.#trace.hash,
      trace: this.#trace.lines,
      faults: this.#injector.counts,
      failovers: figures.failovers,
      falseFailovers: figures.falseFailovers,
      forcedFailovers: figures.forcedFailovers,
      deathToSwitchMs: figures.deathToSwitchMs,
      detectionToSwitchMs: figures.detectionToSwitchMs,
      livenessChecked: this.#state.obligations.filter((o) => o.applied).length,
      livenessExempt: this.#state.obligations.flatMap((o) => (o.exemption ? [o.exemption] : [])),
      steps: this.#sim.steps,
      storeCalls: this.#store.calls,
    };
  }

  #afterStep(): void {
    this.#trace.step(this.#store.calls);
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
        this.#trace.line(
          `${tolerated ? `KNOWN GAP ${violation.knownGap} in` : 'VIOLATION'} ${name}: ${violation.detail}`,
        );
      }
    }
    this.#step.recordChanges = [];
    this.#step.commands = [];
    this.#step.lookups = [];
  }

  // ------------------------------------------------------------------ observations

  #onEvent(slot: SentinelSlot, invocation: string, event: SentinelEvent): void {
    this.#trace.line(`event ${invocation} ${event.type} ${event.payload}`);
    if (event.type === '+monitor') slot.freshStarts.push(this.#sim.now);
    this.#figures.event(event, this.#sim.now);
  }

  #onRecordChange(change: RecordChange): void {
    const { after } = change;
    this.#state.record = after;
    this.#step.recordChanges.push(change);
    const won = change.op === 'claimEpoch' && (change.result as { won?: boolean }).won;
    if (won && after.leader !== null && SENTINEL_IDS.includes(after.leader as (typeof SENTINEL_IDS)[number]))
      this.#sentinels.slot(after.leader).claimsWon.push(change.at);
    this.#figures.recordChanged(change, this.#redis);
    this.#injector.afterRecordChange(change);
  }

  #onVoteWritten(vote: Vote, at: number, seq: number): void {
    this.#state.votes.push({ vote, at, seq });
    this.#trace.line(
      `vote ${vote.sentinelId} ${vote.invocationId} down=${vote.down} obs=${vote.observedAt - T0}`,
    );
    this.#injector.afterVote(vote);
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
}
