/**
 * Store reads shared by concurrent callers: SENTINEL MASTER, SENTINELS and get-master-addr-by-name are what
 * clients in Sentinel mode ask at every reconnect, and each would otherwise be several store reads.
 */
import type { Clock } from '../runtime/clock.js';

/** How long past its age a cached read may still be served while its refresh runs (a slow or down store). */
const MAX_STALE_MS = 5_000;

/**
 * Reads shared by concurrent callers and reused for `maxAgeMs` (0: no cache). Past that age the last
 * value is still served while ONE refresh runs, so a busy client never waits on the store and a lookup
 * is at most one read behind; `drop` forgets a key so that the next caller waits for a fresh read.
 */
export class ReadCache<T> {
  readonly #entries = new Map<
    string,
    { pending: Promise<T> | null; value: { readonly data: T; readonly at: number } | null }
  >();

  constructor(
    private readonly maxAgeMs: number,
    private readonly clock: Clock,
  ) {}

  get(key: string, read: () => Promise<T>): Promise<T> {
    if (this.maxAgeMs <= 0) return read();
    const now = this.clock.now();
    const entry = this.#entries.get(key);
    const value = entry?.value ?? null;
    if (entry && value && now - value.at < this.maxAgeMs) return Promise.resolve(value.data);
    if (entry && value && now - value.at < this.maxAgeMs + MAX_STALE_MS) {
      if (!entry.pending) this.#refresh(key, entry, read).catch(() => {});
      return Promise.resolve(value.data);
    }
    if (entry?.pending) return entry.pending;
    const fresh = { pending: null, value: null };
    this.#entries.set(key, fresh);
    return this.#refresh(key, fresh, read);
  }

  drop(key: string): void {
    this.#entries.delete(key);
  }

  #refresh(
    key: string,
    entry: { pending: Promise<T> | null; value: { readonly data: T; readonly at: number } | null },
    read: () => Promise<T>,
  ): Promise<T> {
    const startedAt = this.clock.now();
    const pending = read();
    entry.pending = pending;
    pending.then(
      (data) => {
        entry.pending = null;
        // Dated by when the read started: the value is at least that fresh.
        if (this.#entries.get(key) === entry) entry.value = { data, at: startedAt };
      },
      () => {
        entry.pending = null;
        if (this.#entries.get(key) === entry && entry.value === null) this.#entries.delete(key);
      },
    );
    return pending;
  }
}
