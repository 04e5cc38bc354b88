/**
 * Follows the event log over the HTTP API (`GET /v1/events?since=…`) and hands each new event to a
 * callback once, oldest first. The proxy passes them to its Redis-protocol endpoint, so subscribers
 * get `+switch-master` and the rest as they would from a Sentinel.
 */
import { type EventRecord, LIST_MAX_LIMIT } from '../eventLog.js';
import type { SentinelHttpClient } from './http.js';
import { sleep } from './sleep.js';

export interface EventFollowerOptions {
  readonly client: SentinelHttpClient;
  readonly onEvent: (record: EventRecord) => void | Promise<void>;
  /** Only this master's events. */
  readonly master?: string;
  /** Pause between two reads of the log (default 500 ms). */
  readonly intervalMs?: number;
  /**
   * Each read goes back this far before the newest event seen (default 60 s), because an event can be
   * stored after a newer one (its sentinel retries a failed append with the original time). Ids already
   * seen are skipped; an event stored later than this after its own time is missed.
   */
  readonly overlapMs?: number;
  /** Hand over the events already in the log at start too (default false: only those stored after). */
  readonly replay?: boolean;
  /** A read that failed (it is retried at the next interval) or a callback that threw. */
  readonly onError?: (error: unknown) => void;
}

export interface EventFollower {
  /** Resolves once the log has been read a first time: events stored after that are all handed over. */
  readonly primed: Promise<void>;
  stop(): Promise<void>;
}

const DEFAULTS = { intervalMs: 500, overlapMs: 60_000 } as const;

export function followEvents(options: EventFollowerOptions): EventFollower {
  const intervalMs = options.intervalMs ?? DEFAULTS.intervalMs;
  const overlapMs = options.overlapMs ?? DEFAULTS.overlapMs;
  const onError = options.onError ?? (() => {});
  const stop = new AbortController();
  /** Event id → its time, for every event inside the overlap window. */
  const seen = new Map<string, number>();
  let newestAt: number | null = null;
  let markPrimed = () => {};
  const primed = new Promise<void>((resolve) => {
    markPrimed = resolve;
  });

  async function readOnce(handOver: boolean): Promise<void> {
    const since = newestAt === null ? undefined : newestAt - overlapMs;
    const records = await options.client.events(
      { master: options.master, since, limit: LIST_MAX_LIMIT },
      { signal: stop.signal },
    );
    // The reply is newest first; hand over oldest first, and mark before handing over so a callback
    // that throws never causes a repeat.
    const fresh = records.filter((r) => !seen.has(r.id)).reverse();
    for (const r of records) {
      seen.set(r.id, r.at);
      if (newestAt === null || r.at > newestAt) newestAt = r.at;
    }
    if (newestAt !== null) {
      const horizon = newestAt - overlapMs;
      for (const [id, at] of seen) if (at < horizon) seen.delete(id);
    }
    if (!handOver) return;
    for (const record of fresh) {
      try {
        await options.onEvent(record);
      } catch (error) {
        onError(error);
      }
    }
  }

  const loop = (async () => {
    let first = true;
    while (!stop.signal.aborted) {
      try {
        await readOnce(!first || options.replay === true);
        if (first) markPrimed();
        first = false;
      } catch (error) {
        if (stop.signal.aborted) break;
        onError(error);
      }
      await sleep(intervalMs, stop.signal);
    }
  })();

  return {
    primed,
    async stop() {
      stop.abort();
      await loop;
    },
  };
}
