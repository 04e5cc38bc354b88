/**
 * The loop lease of one invocation: taking it (or leaving a running holder be), renewing and looking at
 * it at heartbeats, and releasing it. Every timing decision is lib/core/leaseTiming.ts; this carries
 * them out against the store and logs them.
 */

import type { LeaseCheck } from '../../core/leaseTiming.js';
import {
  acquireStep,
  handoverFrom,
  handoverPollMs,
  handoverVerdict,
  leaseHeartbeat,
  leaseIsSafe,
  leaseReadVerdict,
  leaseWaitEndsAt,
  renewalDue,
  stopReason,
} from '../../core/leaseTiming.js';
import { leaseSummary } from '../../core/tickLine.js';
import type { LoopLease } from '../../core/types.js';
import { errorFields, FAULT } from '../log.js';
import type { LoopParts } from './types.js';

export class LoopLeaseKeeper {
  readonly #parts: LoopParts;
  /** Whether the loop is in TILT now: stored with every renewal, for operators. */
  readonly #inTilt: () => boolean;
  #lease: LoopLease | null = null;

  constructor(parts: LoopParts, inTilt: () => boolean) {
    this.#parts = parts;
    this.#inTilt = inTilt;
  }

  /** The lease as last renewed or acquired; null before, once released, and once lost. */
  get lease(): LoopLease | null {
    return this.#lease;
  }

  /** True while this invocation may write under its lease (it has not expired by this clock). */
  isSafe(): boolean {
    return leaseIsSafe(this.#lease, this.#parts.clock.now());
  }

  /** Whether the renewal is due at `now` (lib/core/leaseTiming.ts renewalDue). */
  renewalDue(now: number): boolean {
    return renewalDue(this.#lease, now, this.#parts.options.config.global);
  }

  /** When this invocation becomes due to hand over (lib/core/leaseTiming.ts handoverFrom). */
  get #handoverFrom(): number {
    const { stopAt, handoverWindowMs } = this.#parts.options;
    return handoverFrom(stopAt, handoverWindowMs);
  }

  /**
   * Takes the lease. A holder that is running, not yet due to hand over and of this invocation's
   * generation is left be: this invocation returns at once (`holder-running`), having read one item. A
   * holder that is due (or of another generation: a deploy) is asked to hand over, and the lease is
   * watched with reads until it is released or expires: a refused conditional write is billed as a
   * write, a read costs a fifth of that.
   */
  async acquire(): Promise<{ previous: LoopLease | null } | 'holder-running' | null> {
    const { options, clock, log, invocationId } = this.#parts;
    const { store, sentinelId, config } = options;
    const generation = options.generation ?? null;
    const giveUpAt = leaseWaitEndsAt(clock.now(), options.leaseWaitMs, config.global);
    let asked = false;
    let lastError: string | null = null;
    while (
      stopReason(options.signal?.aborted ?? false, clock.now(), options.stopAt) === null &&
      clock.now() < giveUpAt
    ) {
      try {
        const current = await store.getLease(sentinelId);
        const step = acquireStep(current, clock.now(), generation, asked);
        if (step.step === 'acquire') {
          const result = await store.acquireLease(sentinelId, {
            invocationId,
            now: clock.now(),
            ttlMs: config.global.loopLeaseMs,
            handoverFrom: this.#handoverFrom,
            generation,
          });
          if (result.acquired) {
            this.#lease = result.lease;
            log('info', 'loop lease acquired', {
              token: result.lease.token,
              previousHolder: result.previous?.holder ?? null,
            });
            return { previous: result.previous };
          }
          // Another newcomer took it between the read and the write: look again.
        } else if (step.step === 'leave-be') {
          // Logged at debug only: once a minute per sentinel, it would be most of the log bill.
          log('debug', 'loop lease held by a running invocation; leaving it be', {
            holder: step.holder.holder,
            handoverFrom: step.holder.handoverFrom,
          });
          return 'holder-running';
        } else if (step.step === 'ask-handover') {
          await store.requestHandover(sentinelId, { invocationId });
          asked = true;
          log('info', 'loop lease held by another invocation; asked it to hand over', {
            holder: step.holder.holder,
            ...(step.newGeneration ? { newGeneration: true } : {}),
          });
        }
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        if (reason !== lastError) log('warn', 'cannot acquire the loop lease', errorFields(error));
        lastError = reason;
      }
      await clock.sleep(handoverPollMs(config.global.heartbeatPeriodMs), options.signal);
    }
    log('warn', 'gave up waiting for the loop lease');
    return null;
  }

  /** Renews the lease with a heartbeat, storing `summary` (the tick line) with it. */
  async renew(summary: string | null): Promise<LeaseCheck> {
    const { options, clock, log, invocationId, health } = this.#parts;
    const lease = this.#lease;
    if (!lease) return 'lost';
    try {
      const result = await options.store.renewLease(options.sentinelId, {
        invocationId,
        token: lease.token,
        now: clock.now(),
        ttlMs: options.config.global.loopLeaseMs,
        tilt: this.#inTilt(),
        summary: leaseSummary(summary),
      });
      if (!result.renewed) {
        log('warn', 'loop lease lost to another invocation; stopping without further writes', {
          holder: result.current?.holder ?? null,
        });
        this.#lease = null;
        return 'lost';
      }
      this.#lease = result.lease;
      health.noteAnswered();
      return handoverVerdict(result.lease);
    } catch (error) {
      health.noteError(error);
      return 'unavailable';
    }
  }

  /**
   * The lease at a heartbeat (lib/core/leaseTiming.ts leaseHeartbeat): renewed when due; inside the
   * hand-over window, looked at with one read; otherwise left alone.
   */
  async heartbeat(summary: string | null, now: number): Promise<LeaseCheck> {
    const { options, log, invocationId, health } = this.#parts;
    const action = leaseHeartbeat(this.#lease, now, options.config.global, this.#handoverFrom);
    if (action === 'renew') return this.renew(summary);
    if (action === 'leave') return 'ok';
    const lease = this.#lease;
    if (!lease) return 'lost';
    try {
      const current = await options.store.getLease(options.sentinelId);
      const verdict = leaseReadVerdict(current, invocationId, lease.token);
      if (verdict === 'lost') {
        log('warn', 'loop lease lost to another invocation; stopping without further writes', {
          holder: current?.holder ?? null,
        });
        this.#lease = null;
      }
      return verdict;
    } catch (error) {
      health.noteError(error);
      return 'unavailable';
    }
  }

  /**
   * Releases the lease, after saving the hand-over state (`saveState`) when `withState`. The state is
   * saved first, under this lease's token: the successor takes it only from a lease released under the
   * same token, so a state saved by a holder that then failed to release is never used. If it cannot be
   * saved, the lease is still released: the successor starts fresh.
   */
  async release(withState: boolean, saveState: (token: number) => Promise<boolean>): Promise<void> {
    const { options, clock, log, invocationId } = this.#parts;
    const lease = this.#lease;
    if (!lease) return;
    const saved = withState && (await saveState(lease.token));
    try {
      await options.store.releaseLease(options.sentinelId, {
        invocationId,
        token: lease.token,
        now: clock.now(),
      });
      log('info', saved ? 'loop lease released with hand-over state' : 'loop lease released');
    } catch (error) {
      // The lease will expire on its own; the successor then waits for that and starts with fresh
      // observations: a gap in probing, which is why it counts as a fault.
      log('warn', 'could not release the loop lease', {
        fault: FAULT.leaseNotReleased,
        ...errorFields(error),
      });
    }
    this.#lease = null;
  }
}
