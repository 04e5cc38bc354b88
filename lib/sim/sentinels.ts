/**
 * The three sentinels of a schedule: each a series of Lambda invocations (a real SentinelRunner in its
 * own simulated process, with its own skewed clock), started every INVOCATION_PERIOD_MS and handing over
 * to each other through the loop lease. Kept here: which invocation holds the lease, and each sentinel's
 * health over time (healthy, clean, harmful), kills, fresh starts and claims won, for the invariants.
 */
import type { SentinelConfig, SentinelEvent, SentinelId } from '../core/types.js';
import { SentinelRunner } from '../runtime/sentinel.js';
import {
  HANDOVER_WINDOW_MS,
  INVOCATION_PERIOD_MS,
  INVOCATION_RUN_MS,
  RECORDS_FULL_READ_PERIOD_MS,
  SENTINEL_IDS,
  SKEW_BOUND_MS,
  T0,
} from './config.js';
import type { Violation } from './invariants.js';
import type { Random } from './random.js';
import type { RedisWorld } from './redis.js';
import { Process, type Simulator } from './scheduler.js';
import type { SimStore } from './store.js';
import { Timeline } from './timeline.js';
import type { Trace } from './trace.js';

/** How long a hand-over may leave a sentinel without a lease holder and still count as no gap. */
const HANDOVER_GRACE_MS = 200;

export interface Invocation {
  readonly name: string;
  readonly runner: SentinelRunner;
  readonly sentinel: SentinelSlot;
  readonly process: Process;
  readonly abort: AbortController;
  holdsLease: boolean;
  ended: boolean;
}

export interface SentinelSlot {
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

export interface SentinelsWiring {
  readonly sim: Simulator;
  readonly store: SimStore;
  readonly redis: RedisWorld;
  readonly config: SentinelConfig;
  /** Draws each invocation's clock skew. */
  readonly skewRng: Random;
  readonly trace: Trace;
  /** An invocation started with a skewed clock (counted among the faults). */
  readonly onSkew: () => void;
  readonly onEvent: (slot: SentinelSlot, invocation: string, event: SentinelEvent) => void;
  /** A runner's run() rejected. */
  readonly onCrash: (violation: Violation) => void;
}

const within = (times: readonly number[], from: number, to: number): number[] =>
  times.filter((t) => t >= from && t <= to);

export class Sentinels {
  readonly slots: readonly SentinelSlot[];
  readonly #wiring: SentinelsWiring;

  constructor(wiring: SentinelsWiring) {
    this.#wiring = wiring;
    this.slots = SENTINEL_IDS.map((id) => ({
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
  }

  slot(id: SentinelId): SentinelSlot {
    const slot = this.slots.find((s) => s.id === id);
    if (!slot) throw new Error(`unknown sentinel ${id}`);
    return slot;
  }

  /** Schedules every sentinel's invocations until `end`, each period a little off (as the scheduler is). */
  schedule(rng: Random, end: number): void {
    const sim = this.#wiring.sim;
    for (const [i, slot] of this.slots.entries()) {
      let at = T0 + i * 37 + rng.int(0, 200);
      while (at < end) {
        sim.at(at, () => {
          const late = slot.lateMs;
          slot.lateMs = 0;
          if (late > 0) sim.after(late, () => this.start(slot));
          else this.start(slot);
        });
        at += INVOCATION_PERIOD_MS + rng.int(0, 300);
      }
    }
  }

  start(slot: SentinelSlot): void {
    const { sim, store, redis, config, skewRng, trace } = this.#wiring;
    const name = `${slot.id}#${slot.count}`;
    slot.count += 1;
    const skew = skewRng.chance(0.5) ? skewRng.int(-SKEW_BOUND_MS, SKEW_BOUND_MS) : 0;
    if (skew !== 0) this.#wiring.onSkew();
    const process = new Process(sim, name, skew);
    const abort = new AbortController();
    trace.line(`start ${name} skew ${skew}`);
    const runner = new SentinelRunner({
      sentinelId: slot.id,
      config,
      store: store.view(process, slot.id),
      probeFactory: redis.probeFactory(process, slot.id),
      controlFactory: redis.controlFactory(process, slot.id),
      clock: process.clock,
      invocationId: name,
      stopAt: process.clock.now() + INVOCATION_RUN_MS,
      handoverWindowMs: HANDOVER_WINDOW_MS,
      generation: 'sim',
      signal: abort.signal,
      recordsFullReadPeriodMs: RECORDS_FULL_READ_PERIOD_MS,
      onEvent: (event) => this.#wiring.onEvent(slot, name, event),
      ...(trace.keep
        ? {
            log: (level: string, message: string) => {
              // Not hashed: the hash must not depend on whether the trace is kept.
              if (level !== 'debug') trace.line(`log ${name} ${level} ${message.slice(0, 300)}`, false);
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
        trace.line(`end ${name} ${report.end}`);
        if (report.end === 'handover') {
          // The successor takes the lease a store round trip or a lease poll later: no gap in probing.
          slot.handoverUntil = sim.now + HANDOVER_GRACE_MS;
          sim.after(HANDOVER_GRACE_MS, () => this.refresh(slot));
        }
        this.refresh(slot);
      },
      (error: unknown) => {
        invocation.ended = true;
        trace.line(`end ${name} crashed: ${String(error)}`);
        this.#wiring.onCrash({
          invariant: 'runnerNeverThrows',
          at: sim.now,
          detail: `${name}: ${String(error)}`,
        });
        this.refresh(slot);
      },
    );
  }

  leaseAcquired(sentinelId: SentinelId, invocationId: string): void {
    const slot = this.slot(sentinelId);
    for (const invocation of slot.invocations) invocation.holdsLease = invocation.name === invocationId;
    this.#wiring.trace.line(`lease ${sentinelId} → ${invocationId}`);
    this.refresh(slot);
  }

  /** Recomputes the sentinel's health timelines (after any change to its invocations or faults). */
  refresh(slot: SentinelSlot): void {
    const now = this.#wiring.sim.now;
    const handingOver = now < slot.handoverUntil;
    const live = slot.invocations.filter((i) => (i.holdsLease || handingOver) && !i.ended && !i.process.dead);
    const healthy = live.some((i) => !i.process.paused);
    const anyPaused = slot.invocations.some((i) => !i.ended && i.process.paused);
    const clean = healthy && !anyPaused && slot.faults === 0;
    slot.healthy.set(now, healthy);
    slot.clean.set(now, clean);
    slot.harmful.set(now, live.length > 0 && !clean && slot.storeCut === 0);
  }

  pause(invocation: Invocation, until: number): void {
    invocation.process.pause(until);
    this.refresh(invocation.sentinel);
    this.#wiring.sim.at(until, () => this.refresh(invocation.sentinel));
  }

  kill(invocation: Invocation): void {
    if (invocation.ended || invocation.process.dead) return;
    invocation.process.kill();
    invocation.ended = true;
    const slot = invocation.sentinel;
    slot.kills.push(this.#wiring.sim.now);
    this.refresh(slot);
    this.#wiring.trace.line(`killed ${invocation.name}`);
  }

  named(name: string): Invocation | undefined {
    for (const slot of this.slots) {
      const found = slot.invocations.find((i) => i.name === name);
      if (found) return found;
    }
    return undefined;
  }

  killsIn(id: SentinelId, from: number, to: number): number {
    return within(this.slot(id).kills, from, to).length;
  }

  freshStartsIn(id: SentinelId, from: number, to: number): number {
    return within(this.slot(id).freshStarts, from, to).length;
  }

  claimsWonIn(id: SentinelId, from: number, to: number): number[] {
    return within(this.slot(id).claimsWon, from, to);
  }
}
