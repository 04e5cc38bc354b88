/**
 * The failovers this sentinel runs (at most one per master, for the epoch it leads) and the replica
 * reconfigurations outside a failover (+convert-to-slave, +fix-slave-config).
 */
import { addressKey } from '../../core/decide.js';
import type { LeaderView } from '../../core/failoverStep.js';
import { READ_AT_ONCE } from '../../core/loopSchedule.js';
import { infoValidityMs } from '../../core/selection.js';
import type { Address, MasterSettings } from '../../core/types.js';
import type { RedisControl } from '../../ports.js';
import { type ClaimedFailover, FailoverRunner } from '../failover.js';
import { errorFields, FAULT } from '../log.js';
import type { LoopParts, MasterSlot } from './types.js';

export class Failovers {
  readonly #parts: LoopParts;
  /** Failover runners in flight, by master name. */
  readonly #running = new Map<string, { epoch: number; abort: AbortController; done: Promise<void> }>();

  constructor(parts: LoopParts) {
    this.#parts = parts;
  }

  /** Asks the master's failover in flight, if any, to stop between steps. */
  abort(master: string): void {
    this.#running.get(master)?.abort.abort();
  }

  /**
   * Stops every failover in flight between steps and waits for them: the next invocation of this
   * sentinel (or another sentinel, once the lease expires) resumes each from the recorded step.
   */
  stopAll(): Promise<unknown> {
    for (const failover of this.#running.values()) failover.abort.abort();
    return Promise.all([...this.#running.values()].map((f) => f.done));
  }

  /**
   * A control for the failover a claim that chose `promoted` would run, its connection to that replica
   * opened now, while the claim is written (RedisControl.prepare). The caller closes it if the claim
   * does not win; a run started with it closes it when it ends.
   */
  preparedControl(slot: MasterSlot, promoted: Address): RedisControl {
    const control = this.#controlFor(slot.settings);
    control.prepare?.(promoted);
    return control;
  }

  #controlFor(settings: MasterSettings): RedisControl {
    const { options, clock } = this.#parts;
    return options.controlFactory({
      timeoutMs: settings.probeTimeoutMs,
      authUser: settings.authUser,
      authPass: settings.authPass,
      tls: options.config.global.tls,
      renamedCommands: settings.renamedCommands,
      clientName: `sentinel-${options.sentinelId}-cmd`.replace(/[^\w-]/g, ''),
      now: () => clock.now(),
    });
  }

  /**
   * Runs the failover of `epoch` for the slot's master, unless it runs already (an older one is stopped).
   * `claimed`: what this sentinel's winning claim of the epoch left, so the run starts without reading.
   */
  start(slot: MasterSlot, epoch: number, claimed?: ClaimedFailover): void {
    const { options, clock, log } = this.#parts;
    const name = slot.settings.name;
    const running = this.#running.get(name);
    if (running && running.epoch === epoch) {
      claimed?.control?.close?.();
      return;
    }
    running?.abort.abort();
    const abort = new AbortController();
    const runner = new FailoverRunner({
      settings: slot.settings,
      global: options.config.global,
      sentinelId: options.sentinelId,
      epoch,
      store: options.store,
      control: claimed?.control ?? this.#controlFor(slot.settings),
      probeFactory: options.probeFactory,
      clock,
      log,
      emit: (event) => this.#parts.emit(event, epoch),
      ...(options.onRecord ? { onRecord: options.onRecord } : {}),
      view: () => leaderView(slot),
      // Judged on the INFO asked for when the master went down (Sentinel's validity limit), waiting at
      // most a probe timeout for it.
      settleView: () =>
        slot.monitor.awaitFreshInfo(
          infoValidityMs(slot.settings, slot.memory.sdownSince !== null),
          slot.settings.probeTimeoutMs,
        ),
      signal: abort.signal,
      ...(claimed ? { claimed } : {}),
    });
    log('info', 'running the failover', { master: name, epoch });
    const done = runner.run().then(
      (end) => {
        log('info', `failover runner ended: ${end}`, { master: name, epoch, end });
        if (this.#running.get(name)?.abort === abort) this.#running.delete(name);
        // The record has moved on: read it at the master's next tick.
        slot.nextReadAt = READ_AT_ONCE;
      },
      (error: unknown) => {
        log('error', 'failover runner crashed', {
          fault: FAULT.failoverCrashed,
          master: name,
          epoch,
          ...errorFields(error),
        });
        if (this.#running.get(name)?.abort === abort) this.#running.delete(name);
      },
    );
    this.#running.set(name, { epoch, abort, done });
  }

  /** +convert-to-slave / +fix-slave-config: re-checked against a consistent read of the record first. */
  async reconfigureReplica(
    slot: MasterSlot,
    address: { host: string; port: number },
    reason: string,
  ): Promise<void> {
    const { options, log } = this.#parts;
    const record = await options.store.getMaster(slot.settings.name);
    if (!record) return;
    if (record.failoverState !== 'none') return;
    if (record.host === address.host && record.port === address.port) return;
    const result = await this.#controlFor(slot.settings).replicaOf(address, {
      host: record.host,
      port: record.port,
    });
    log(result.ok ? 'info' : 'warn', `${reason}: ${result.ok ? 'sent' : 'failed'}`, {
      master: slot.settings.name,
      replica: address,
      to: { host: record.host, port: record.port },
      ...(result.ok ? {} : { reason: result.reason }),
    });
  }
}

/** This sentinel's current view of the slot's replicas and master, as selection judges it. */
export function leaderView(slot: MasterSlot): LeaderView {
  const snapshot = slot.monitor.snapshot();
  return {
    replicas: snapshot.replicas.map((observation) => ({
      observation,
      sdown: slot.memory.replicaSdownSince[addressKey(observation.address)] !== undefined,
    })),
    masterSdownSince: slot.memory.sdownSince,
  };
}
