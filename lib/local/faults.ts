/**
 * SENTINEL SIMULATE-FAILURE in the local runner: the next sentinel to win an election
 * (crash-after-election) or to promote a replica (crash-after-promotion) stops abruptly, as Sentinel's
 * process exits at that point. Here the sentinels share one process, so a crash is simulated at the
 * crashed sentinel's edges: from that moment every call it makes to the store, to Redis (commands and
 * probes) never completes, and nothing it emits is published. It releases nothing (no lease, no
 * leadership, no hand-over state), so the others take over only as after a real crash: once its
 * leader lease expires (leader-lease), through the existing lease rules. The crash disarms the
 * failures, as the crashed Sentinel's process takes its flags with it.
 *
 * Outside lib/core and lib/runtime on purpose: the sentinels' code does not know it can be crashed.
 */
import type { SimulatedFailure } from '../commands/processControls.js';
import type { SentinelEvent, SentinelId } from '../core/types.js';
import type { RedisProbe } from '../ports.js';

/** The event after which each failure crashes its sentinel, as in Sentinel. */
const CRASH_AFTER: Readonly<Record<SimulatedFailure, string>> = {
  'crash-after-election': '+elected-leader',
  'crash-after-promotion': '+promoted-slave',
};

/** What a call of a crashed sentinel rejects with once the runner stops (so that shutdown can end). */
export class SimulatedCrashError extends Error {
  override readonly name = 'SimulatedCrashError';
}

export class SimulatedCrashes {
  #armed: readonly SimulatedFailure[] = [];
  readonly #crashed = new Set<SentinelId>();
  readonly #signal: AbortSignal;
  readonly #onCrash: (sentinelId: SentinelId, failure: SimulatedFailure) => void;

  constructor(signal: AbortSignal, onCrash: (sentinelId: SentinelId, failure: SimulatedFailure) => void) {
    this.#signal = signal;
    this.#onCrash = onCrash;
  }

  arm(failures: readonly SimulatedFailure[]): void {
    this.#armed = [...failures];
  }

  armed(): readonly SimulatedFailure[] {
    return this.#armed;
  }

  isCrashed(sentinelId: SentinelId): boolean {
    return this.#crashed.has(sentinelId);
  }

  /**
   * Sees every event before it is published: the event that ends an armed failure's moment crashes its
   * sentinel (the event itself is still published, as Sentinel publishes it before exiting).
   */
  observe(event: SentinelEvent, sentinelId: SentinelId): void {
    if (this.#crashed.has(sentinelId)) return;
    const failure = this.#armed.find((f) => CRASH_AFTER[f] === event.type);
    if (failure === undefined) return;
    this.#crashed.add(sentinelId);
    this.#armed = [];
    this.#onCrash(sentinelId, failure);
  }

  /**
   * `target` as `sentinelId` uses it: every method call made after the sentinel crashed never settles
   * while the runner runs (it rejects once the runner stops, so the shutdown can finish).
   */
  wrap<T extends object>(sentinelId: SentinelId, target: T): T {
    return new Proxy(target, {
      get: (object, property, receiver) => {
        const value = Reflect.get(object, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) =>
          this.#crashed.has(sentinelId) ? this.#never() : Reflect.apply(value, object, args);
      },
    });
  }

  /**
   * A probe as `sentinelId` uses it. A probe's ping() and info() never reject (lib/ports.ts), so the loops
   * that await them do not handle a rejection: after the crash they never settle, not even when the
   * runner stops (those loops end with the process; a rejection there would end the runner with an
   * unhandled rejection instead of a clean stop). close() still closes, as the OS closes a crashed
   * process's sockets, so that the shutdown, which awaits it, can finish.
   */
  wrapProbe(sentinelId: SentinelId, probe: RedisProbe): RedisProbe {
    const silent = new Promise<never>(() => {});
    return {
      address: probe.address,
      ping: () => (this.#crashed.has(sentinelId) ? silent : probe.ping()),
      info: () => (this.#crashed.has(sentinelId) ? silent : probe.info()),
      close: () => probe.close(),
    };
  }

  /** One promise for every call of every crashed sentinel: one listener on the signal, however many calls. */
  #hung: Promise<never> | null = null;

  #never(): Promise<never> {
    this.#hung ??= new Promise((_, reject) => {
      const stop = () => reject(new SimulatedCrashError('the sentinel crashed (SENTINEL SIMULATE-FAILURE)'));
      if (this.#signal.aborted) stop();
      else this.#signal.addEventListener('abort', stop, { once: true });
    });
    // Its callers see the rejection; a call nobody awaits must not become an unhandled rejection.
    this.#hung.catch(() => {});
    return this.#hung;
  }
}
