/**
 * Virtual time for the simulation. Every wait in the simulated system (the runtime's Clock.sleep, a probe
 * waiting for its reply, a store call in flight) is an entry on one timer queue; the driver fires the
 * entries in (time, insertion) order and lets the promise continuations each one wakes run to quiescence
 * before the next. No real timer is involved, so a run is a pure function of its seed, and 20 s of
 * simulated time cost only the CPU work done in them.
 */
import type { Clock } from '../runtime/clock.js';

interface Entry {
  readonly at: number;
  readonly seq: number;
  fn: (() => void) | null;
}

export interface TimerHandle {
  cancel(): void;
}

/**
 * Resolves once every microtask queued so far (and every one they queue) has run: Node runs the
 * nextTick queue only after V8 has drained the microtask queue.
 */
const settle = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));

export class Simulator {
  #now: number;
  #seq = 0;
  #steps = 0;
  readonly #heap: Entry[] = [];
  /** Detaches each abort listener still attached to a signal (see `listen`). */
  readonly #listening = new Set<() => void>();

  constructor(start: number) {
    this.#now = start;
  }

  get now(): number {
    return this.#now;
  }

  /** Timer entries fired so far. */
  get steps(): number {
    return this.#steps;
  }

  at(time: number, fn: () => void): TimerHandle {
    const entry: Entry = { at: Math.max(time, this.#now), seq: this.#seq++, fn };
    this.#push(entry);
    return {
      cancel: () => {
        entry.fn = null;
      },
    };
  }

  after(ms: number, fn: () => void): TimerHandle {
    return this.at(this.#now + Math.max(0, ms), fn);
  }

  /** A promise resolved after `ms` of virtual time (not tied to any process: the network, the store). */
  delay(ms: number): Promise<void> {
    return new Promise((resolve) => this.after(ms, resolve));
  }

  /**
   * Fires timers up to `until` (inclusive). After each one, its continuations run to quiescence and
   * then `afterStep` runs (the invariant checks); a throw from it ends the run.
   */
  async run(until: number, afterStep: () => void): Promise<void> {
    await settle();
    for (;;) {
      const entry = this.#pop();
      if (entry === null) break;
      if (entry.at > until) {
        this.#push(entry);
        break;
      }
      this.#now = entry.at;
      const fn = entry.fn;
      if (fn === null) continue;
      this.#steps += 1;
      fn();
      await settle();
      afterStep();
    }
    this.#now = Math.max(this.#now, until);
  }

  /**
   * Calls `onAbort` when `signal` aborts, until the returned detach function or `dispose` runs. The
   * simulator keeps the list because a signal may outlive the run: Node holds every signal made by
   * AbortSignal.any or AbortSignal.timeout that has an abort listener in a process-wide set until the
   * signal aborts or loses its last listener, and a listener's closure reaches this simulator (through
   * its process), so one left attached keeps the whole schedule in memory after the run.
   */
  listen(signal: AbortSignal, onAbort: () => void): () => void {
    signal.addEventListener('abort', onAbort, { once: true });
    const detach = (): void => {
      signal.removeEventListener('abort', onAbort);
      this.#listening.delete(detach);
    };
    this.#listening.add(detach);
    return detach;
  }

  /**
   * Ends the run for good: detaches every abort listener still attached (the sleeps of killed processes
   * and those pending at the horizon, which never end) and drops the timers not fired, so nothing that
   * outlives the run refers back into it.
   */
  dispose(): void {
    for (const detach of [...this.#listening]) detach();
    this.#heap.length = 0;
  }

  #push(entry: Entry): void {
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entry, heap[parent] as Entry)) break;
      heap[i] = heap[parent] as Entry;
      i = parent;
    }
    heap[i] = entry;
  }

  #pop(): Entry | null {
    const heap = this.#heap;
    const top = heap[0];
    if (top === undefined) return null;
    const last = heap.pop() as Entry;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= heap.length) break;
        const right = left + 1;
        const child = right < heap.length && before(heap[right] as Entry, heap[left] as Entry) ? right : left;
        if (!before(heap[child] as Entry, last)) break;
        heap[i] = heap[child] as Entry;
        i = child;
      }
      heap[i] = last;
    }
    return top;
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/**
 * A simulated process: one sentinel invocation (a Lambda instance). Everything that resumes code inside
 * it — a timer, a probe reply, a store reply — is delivered through it, so that:
 * - paused (SIGSTOP, a frozen Lambda), deliveries wait for the end of the pause, then arrive late;
 * - killed, deliveries are dropped: its promises never settle, as in a process that is gone;
 * - its clock may be skewed: `clock.now()` is the virtual time plus a fixed offset.
 */
export class Process {
  #pausedUntil = Number.NEGATIVE_INFINITY;
  #dead = false;
  readonly clock: Clock;

  constructor(
    readonly sim: Simulator,
    readonly name: string,
    readonly skewMs: number,
  ) {
    this.clock = {
      now: () => this.sim.now + this.skewMs,
      sleep: (ms, signal) => this.sleep(ms, signal),
    };
  }

  get dead(): boolean {
    return this.#dead;
  }

  get paused(): boolean {
    return !this.#dead && this.#pausedUntil > this.sim.now;
  }

  /** Freezes the process until `until` (extends a pause in progress). */
  pause(until: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, until);
  }

  kill(): void {
    this.#dead = true;
  }

  /** Runs `fn` in this process now, or when its pause ends; never if it is dead. */
  deliver(fn: () => void): void {
    if (this.#dead) return;
    if (this.#pausedUntil > this.sim.now) {
      this.sim.at(this.#pausedUntil, () => this.deliver(fn));
      return;
    }
    fn();
  }

  /** Delivers `fn` in this process after `ms` of virtual time. */
  after(ms: number, fn: () => void): TimerHandle {
    return this.sim.after(ms, () => this.deliver(fn));
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal?.aborted) {
        resolve();
        return;
      }
      let finished = false;
      const finish = (): void => {
        if (finished) return;
        finished = true;
        timer.cancel();
        detach();
        resolve();
      };
      const timer = this.after(ms, finish);
      // An abort from outside the process (its deadline, a wake-up from a probe) still needs the process.
      const detach = signal ? this.sim.listen(signal, () => this.deliver(finish)) : () => {};
    });
  }
}
