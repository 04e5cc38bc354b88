/**
 * The figures of one schedule that the summary adds up: failovers (forced, and automatic ones of a
 * master that was in fact running), and how long the record took to name a new master after the old one
 * died, and after a sentinel first saw it down.
 */
import type { SentinelEvent } from '../core/types.js';
import type { RedisWorld } from './redis.js';
import type { RecordChange } from './store.js';

/** What one schedule adds to the summary's failover figures. */
export interface FailoverFigures {
  /** Promotions committed (the record switched to a new master). */
  readonly failovers: number;
  /** Automatic failovers started while the old master was in fact running as master. */
  readonly falseFailovers: number;
  readonly forcedFailovers: number;
  /** Death of the recorded master → record switched, for each such failover. */
  readonly deathToSwitchMs: readonly number[];
  /** First +sdown of the dead master by any sentinel → record switched. */
  readonly detectionToSwitchMs: readonly number[];
}

export class Figures implements FailoverFigures {
  failovers = 0;
  falseFailovers = 0;
  forcedFailovers = 0;
  readonly deathToSwitchMs: number[] = [];
  readonly detectionToSwitchMs: number[] = [];
  /** Dead recorded masters (address key) → when they died. */
  readonly #diedAt = new Map<string, number>();
  /** Dead recorded masters → when a sentinel first said +sdown about them. */
  readonly #firstSdown = new Map<string, number>();

  masterDied(key: string, at: number): void {
    this.#diedAt.set(key, at);
    this.#firstSdown.delete(key);
  }

  nodeRestarted(key: string): void {
    this.#diedAt.delete(key);
  }

  event(event: SentinelEvent, at: number): void {
    if (event.type !== '+sdown' || !event.payload.startsWith('master ')) return;
    const [, , host, port] = event.payload.split(' ');
    const key = `${host}:${port}`;
    if (this.#diedAt.has(key) && !this.#firstSdown.has(key)) this.#firstSdown.set(key, at);
  }

  recordChanged(change: RecordChange, redis: RedisWorld): void {
    const { before, after } = change;
    if (change.op === 'claimEpoch' && (change.result as { won?: boolean }).won) {
      const request = change.args[1] as {
        mode: string;
        progress?: { forced: boolean; oldMaster: { host: string; port: number } };
      };
      if (request.mode === 'start' && request.progress) {
        if (request.progress.forced) this.forcedFailovers += 1;
        else if (redis.node(request.progress.oldMaster)?.healthyMaster.current) this.falseFailovers += 1;
      }
    }
    if (before === null || after.configEpoch <= before.configEpoch) return;
    this.failovers += 1;
    const from = `${before.host}:${before.port}`;
    const died = this.#diedAt.get(from);
    if (died === undefined) return;
    this.deathToSwitchMs.push(change.at - died);
    const detected = this.#firstSdown.get(from);
    if (detected !== undefined) this.detectionToSwitchMs.push(change.at - detected);
    this.#diedAt.delete(from);
    this.#firstSdown.delete(from);
  }
}
