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
    const held = this.peek(key, read);
    if (held !== undefined) return Promise.resolve(held.data);
    const entry = this.#entries.get(key);
    if (entry?.pending) return entry.pending;
    const fresh = { pending: null, value: null };
    this.#entries.set(key, fresh);
    return this.#refresh(key, fresh, read);
  }

  /**
   * What `get` would resolve to without waiting (starting the refresh `get` would start), or undefined
   * when `get` would wait for a read. The same object for as long as the value stands.
   */
  peek(key: string, read: () => Promise<T>): { readonly data: T } | undefined {
    if (this.maxAgeMs <= 0) return undefined;
    const entry = this.#entries.get(key);
    const value = entry?.value;
    if (entry === undefined || value === undefined || value === null) return undefined;
    const age = this.clock.now() - value.at;
    if (age < this.maxAgeMs) return value;
    if (age < this.maxAgeMs + MAX_STALE_MS) {
      if (!entry.pending) this.#refresh(key, entry, read).catch(() => {});
      return value;
    }
    return undefined;
  }

  drop(key: string): void {
    this.#entries.delete(key);
  }

  /**
   * A value known current now, given by whoever wrote or read it: served as a read made now, without a
   * read of its own. A read already running when it came does not replace it when it ends (it may have
   * started before the write that this value shows).
   */
  put(key: string, data: T): void {
    if (this.maxAgeMs <= 0) return;
    const value = { data, at: this.clock.now() };
    const entry = this.#entries.get(key);
    if (entry) entry.value = value;
    else this.#entries.set(key, { pending: null, value });
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
        // Dated by when the read started: the value is at least that fresh. A value put since that
        // start is fresher and stays.
        if (this.#entries.get(key) === entry && (entry.value === null || entry.value.at < startedAt))
          entry.value = { data, at: startedAt };
      },
      () => {
        entry.pending = null;
        if (this.#entries.get(key) === entry && entry.value === null) this.#entries.delete(key);
      },
    );
    return pending;
  }
}
