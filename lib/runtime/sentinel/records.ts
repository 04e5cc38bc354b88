/**
 * The loop's copy of every master record (removed ones included), with the change counter it is current
 * at: what the counter vouches for at each heartbeat (lib/core/loopSchedule.ts recordsStillCurrent), and
 * what is handed over. Kept current by per-master reads and claim results too.
 */
import { SENTINEL_DEFAULTS } from '../../core/constants.js';
import { recordsStillCurrent } from '../../core/loopSchedule.js';
import type { MasterRecord } from '../../core/types.js';
import type { RecordsHandover } from '../handover.js';
import type { LoopParts } from './types.js';

export class RecordsCopy {
  readonly #parts: LoopParts;
  #records = new Map<string, MasterRecord>();
  /**
   * The change counter the records are current at, or null when they cannot be vouched for (never read,
   * or a counter that is not a count): then the next heartbeat reads them all.
   */
  #changeCounter: number | null = null;
  /** When every record was last read from the store (the backstop against lost increments runs from it). */
  #fullReadAt = Number.NEGATIVE_INFINITY;
  /** The stored change counter was found not to be a count: said once. */
  #counterUnreadableWarned = false;

  constructor(parts: LoopParts) {
    this.#parts = parts;
  }

  get(name: string): MasterRecord | undefined {
    return this.#records.get(name);
  }

  /** A master's record as read or written since (its own read, a claim's result). */
  set(name: string, record: MasterRecord): void {
    this.#records.set(name, record);
    this.#parts.options.onRecord?.(record);
  }

  /** Every record, read at `fullReadAt` (or carried over), current at `counter`. */
  setAll(records: readonly MasterRecord[], counter: number | null, fullReadAt: number): void {
    this.#records = new Map(records.map((r) => [r.name, r]));
    this.#changeCounter = counter;
    this.#fullReadAt = fullReadAt;
    const { onRecord } = this.#parts.options;
    if (onRecord !== undefined) for (const record of records) onRecord(record);
  }

  /** The copy to hand over, or null when it cannot be vouched for. */
  handover(): RecordsHandover | null {
    if (this.#changeCounter === null) return null;
    return {
      changeCounter: this.#changeCounter,
      fullReadAt: this.#fullReadAt,
      records: [...this.#records.values()],
    };
  }

  /** Whether the copy is current by a counter read sent at `sentAt` (the full read not due). */
  stillCurrent(counter: number | null, sentAt: number): boolean {
    return recordsStillCurrent({
      counter,
      knownCounter: this.#changeCounter,
      sentAt,
      fullReadAt: this.#fullReadAt,
      fullReadPeriodMs: this.#fullReadPeriodMs,
    });
  }

  /**
   * The records at start, and the time they are known current at: the previous holder's copy when the
   * change counter says none changed since (and the backstop is not due), else one read of them all.
   * The counter is read before the records, so a change that lands in between is counted and read again
   * at the next heartbeat.
   */
  async readAtStart(
    carried: RecordsHandover | null,
  ): Promise<{ records: readonly MasterRecord[]; currentAt: number }> {
    const { options, clock } = this.#parts;
    const sentAt = clock.now();
    const counter = await options.store.getChangeCounter();
    this.noteUnreadableCounter(counter);
    if (
      carried !== null &&
      recordsStillCurrent({
        counter,
        knownCounter: carried.changeCounter,
        sentAt,
        fullReadAt: carried.fullReadAt,
        fullReadPeriodMs: this.#fullReadPeriodMs,
      })
    ) {
      this.setAll(carried.records, counter, carried.fullReadAt);
      return { records: carried.records, currentAt: sentAt };
    }
    const listSentAt = clock.now();
    const records = await options.store.listMasters();
    this.setAll(records, counter, listSentAt);
    return { records, currentAt: listSentAt };
  }

  get #fullReadPeriodMs(): number {
    return this.#parts.options.recordsFullReadPeriodMs ?? SENTINEL_DEFAULTS.recordsFullReadPeriodMs;
  }

  /** Says once that the stored counter is not a count (every heartbeat then reads every record). */
  noteUnreadableCounter(counter: number | null): void {
    if (counter !== null || this.#counterUnreadableWarned) return;
    this.#counterUnreadableWarned = true;
    this.#parts.log('warn', 'the stored change counter is not a count: every heartbeat reads every record', {
      repair: 'delete the item pk "MASTER#", sk "CHANGES"; the next record change creates it again',
    });
  }
}
