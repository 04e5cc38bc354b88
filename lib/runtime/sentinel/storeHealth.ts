/**
 * The store's health for one loop: the state machine of lib/core/storeHealth.ts, fed by every store
 * call's outcome, with its log lines (each transition once) and the background check during an outage.
 */

import type { LeaseCheck } from '../../core/leaseTiming.js';
import {
  NO_OUTAGE_CHECK,
  type OutageCheck,
  outageCheckDone,
  outageCheckStep,
  quietStoreErrors,
  STORE_UP,
  type StoreHealth,
  storeAnswered,
  storeFailed,
} from '../../core/storeHealth.js';
import { StoreUnavailableError } from '../../ports.js';
import type { Clock } from '../clock.js';
import { errorFields, type Log, REPEATED_FAILURE_LOG_INTERVAL_MS, RepeatedFailureLog } from '../log.js';

export class StoreHealthTracker {
  readonly #clock: Clock;
  readonly #log: Log;
  #health: StoreHealth = STORE_UP;
  #outageCheck: OutageCheck = NO_OUTAGE_CHECK;
  /**
   * Store calls that threw something other than StoreUnavailableError (a bug, an unexpected reply), by
   * error name: the first at once, then at most once a minute with a count. Each one also marks the store
   * down, and the next heartbeat finds it up again, so the same error recurs every heartbeat.
   */
  readonly #unexpectedErrors: RepeatedFailureLog;
  /** When each error name in #unexpectedErrors last occurred (see closeQuietUnexpectedErrors). */
  readonly #unexpectedErrorAt = new Map<string, number>();
  /** When a master's record and votes (or the change counter) were last read without error. */
  #lastReadAt = Number.NEGATIVE_INFINITY;

  constructor(clock: Clock, log: Log) {
    this.#clock = clock;
    this.#log = log;
    this.#unexpectedErrors = new RepeatedFailureLog(log, () => clock.now());
  }

  get health(): StoreHealth {
    return this.#health;
  }

  /** True from a failed store call until the next one that answers. */
  get down(): boolean {
    return this.#health.downSince !== null;
  }

  /** The last failure's text: what the masters' views say while the store is down. */
  get reason(): string {
    return this.#health.reason;
  }

  /** The text a failed store call gives a view. */
  reasonOf(error: unknown): string {
    if (error instanceof StoreUnavailableError) return error.message;
    return error instanceof Error ? error.message : String(error);
  }

  /** A store call failed: the store is down (said once per outage); an unexpected error is logged by kind. */
  noteError(error: unknown): void {
    const failed = storeFailed(this.#health, this.#clock.now(), this.reasonOf(error));
    this.#health = failed.health;
    if (failed.wentDown)
      this.#log('warn', 'store unavailable: not voting or claiming until it answers', errorFields(error));
    if (!(error instanceof StoreUnavailableError)) {
      const kind = error instanceof Error ? error.name : typeof error;
      this.#unexpectedErrorAt.set(kind, this.#clock.now());
      this.#unexpectedErrors.failed(kind, 'unexpected store error', errorFields(error));
    }
  }

  /** A store call answered: the store is up (said once, with the outage's length). */
  noteAnswered(): void {
    const answered = storeAnswered(this.#health, this.#clock.now());
    if (answered.outageMs === null) return;
    this.#log('info', 'store available again', { outageMs: answered.outageMs });
    this.#health = answered.health;
  }

  /** Records and votes were read without error at `at` (what closes an unexpected error's line). */
  noteRead(at: number): void {
    this.#lastReadAt = at;
  }

  /**
   * Closes, with one line and its count, each kind of unexpected store error that has not recurred for a
   * whole interval while the store was read successfully since (quietStoreErrors).
   */
  closeQuietUnexpectedErrors(): void {
    const now = this.#clock.now();
    const quiet = quietStoreErrors(
      this.#unexpectedErrorAt,
      this.#lastReadAt,
      now,
      REPEATED_FAILURE_LOG_INTERVAL_MS,
    );
    for (const { kind, quietForMs } of quiet) {
      this.#unexpectedErrorAt.delete(kind);
      this.#unexpectedErrors.recovered(kind, 'unexpected store error no longer seen', {
        errorName: kind,
        quietForMs,
      });
    }
  }

  /**
   * During an outage: starts at most one check per heartbeat period (`renew`, a lease renewal) without
   * waiting for it, and reports the last verdict that ends the loop, if any.
   */
  checkInBackground(renew: () => Promise<LeaseCheck>, heartbeatPeriodMs: number): 'ok' | 'lost' | 'handover' {
    const step = outageCheckStep(this.#outageCheck, this.#clock.now(), heartbeatPeriodMs);
    this.#outageCheck = step.check;
    if (step.start) {
      void renew().then((result) => {
        this.#outageCheck = outageCheckDone(this.#outageCheck, result);
      });
    }
    return this.#outageCheck.verdict;
  }
}
