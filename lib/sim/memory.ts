/**
 * What `npm run sim -- --memory-report` shows: that memory does not grow with the number of schedules.
 * Each thread that runs schedules notes the most V8 heap it had in use after any schedule, and, with the
 * report asked for, its live heap (in use right after a full collection) early in its run and at its
 * end: a schedule that left anything reachable behind would make the second grow with the schedules.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** A thread's live heap is first measured after this many of its schedules (or at its end, if sooner). */
export const LIVE_HEAP_EARLY_AFTER = 500;

/** Bytes; for a batch, the largest of its threads. 0 where not measured. */
export interface HeapFigures {
  /** The most heap in use after any schedule (garbage included). */
  peakInUse: number;
  /** Live heap after the thread's first LIVE_HEAP_EARLY_AFTER schedules. */
  liveEarly: number;
  /** Live heap after the thread's last schedule. */
  liveAtEnd: number;
}

export const noHeapFigures = (): HeapFigures => ({ peakInUse: 0, liveEarly: 0, liveAtEnd: 0 });

export function mergeHeapFigures(into: HeapFigures, from: HeapFigures): void {
  into.peakInUse = Math.max(into.peakInUse, from.peakInUse);
  into.liveEarly = Math.max(into.liveEarly, from.liveEarly);
  into.liveAtEnd = Math.max(into.liveAtEnd, from.liveAtEnd);
}

/**
 * The heap in use right after a full collection. The collector is reached through a fresh context once
 * --expose-gc is set, so only a run that asked for the report ever forces a collection (the simulation's
 * figures do not depend on when collections happen).
 */
function liveHeapBytes(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return getHeapStatistics().used_heap_size;
}

/** Samples one thread's heap as it runs its schedules. */
export class HeapSampler {
  readonly figures = noHeapFigures();
  #schedules = 0;

  constructor(readonly measureLive: boolean) {}

  afterSchedule(): void {
    this.#schedules += 1;
    this.figures.peakInUse = Math.max(this.figures.peakInUse, getHeapStatistics().used_heap_size);
    if (this.measureLive && this.#schedules === LIVE_HEAP_EARLY_AFTER)
      this.figures.liveEarly = liveHeapBytes();
  }

  atEnd(): HeapFigures {
    if (this.measureLive) {
      this.figures.liveAtEnd = liveHeapBytes();
      if (this.#schedules < LIVE_HEAP_EARLY_AFTER) this.figures.liveEarly = this.figures.liveAtEnd;
    }
    return this.figures;
  }
}
