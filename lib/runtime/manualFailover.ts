/**
 * SENTINEL FAILOVER over the store: record the request, then follow the record until the failover the
 * sentinels start for it has promoted a replica, or was aborted. Replies mirror Sentinel's:
 * OK, INPROG (a failover is already running), NOGOODSLAVE (no replica can be promoted).
 */
import type { Address, MasterRecord } from '../core/types.js';
import type { SentinelStore } from '../ports.js';
import { type Clock, systemClock } from './clock.js';

export type ManualFailoverOutcome =
  | { readonly reply: 'OK'; readonly epoch: number; readonly promoted: Address }
  | { readonly reply: 'INPROG' }
  | {
      readonly reply: 'NOGOODSLAVE';
      readonly rejected: ReadonlyArray<{ host: string; port: number; reason: string }>;
    }
  | { readonly reply: 'NOSUCHMASTER' }
  | { readonly reply: 'ABORTED'; readonly reason: string }
  /** The request stands, but no sentinel acted on it in time (are they running?). */
  | { readonly reply: 'TIMEOUT' };

/**
 * pendingMs: a request no sentinel has taken up yet makes another one INPROG this long (a sentinel takes
 * one up within a heartbeat); after that it is replaced, since no sentinel is acting on it.
 */
export const MANUAL_FAILOVER_DEFAULTS = { waitMs: 30_000, pollMs: 50, pendingMs: 60_000 } as const;

export async function requestManualFailover(
  store: SentinelStore,
  name: string,
  options: { clock?: Clock; waitMs?: number; coordinated?: boolean } = {},
): Promise<ManualFailoverOutcome> {
  const clock = options.clock ?? systemClock;
  const before = await store.getMaster(name);
  if (before === null) return { reply: 'NOSUCHMASTER' };
  const requested = await store.requestFailover(name, {
    now: clock.now(),
    coordinated: options.coordinated,
    pendingForMs: MANUAL_FAILOVER_DEFAULTS.pendingMs,
  });
  if (requested === 'no-such-master') return { reply: 'NOSUCHMASTER' };
  if (requested === 'in-progress') return { reply: 'INPROG' };
  const until = clock.now() + (options.waitMs ?? MANUAL_FAILOVER_DEFAULTS.waitMs);
  while (clock.now() < until) {
    await clock.sleep(MANUAL_FAILOVER_DEFAULTS.pollMs);
    const record = await store.getMaster(name);
    if (record === null) return { reply: 'NOSUCHMASTER' };
    const outcome = outcomeOf(before, record);
    if (outcome) return outcome;
  }
  return { reply: 'TIMEOUT' };
}

function outcomeOf(before: MasterRecord, record: MasterRecord): ManualFailoverOutcome | null {
  if (record.currentEpoch <= before.currentEpoch) return null;
  if (record.configEpoch > before.configEpoch) {
    return { reply: 'OK', epoch: record.configEpoch, promoted: { host: record.host, port: record.port } };
  }
  if (record.failoverState !== 'none') return null;
  if (record.failover?.promoted == null)
    return { reply: 'NOGOODSLAVE', rejected: record.failover?.rejected ?? [] };
  return { reply: 'ABORTED', reason: 'the promotion was not seen within failover-timeout' };
}
