/**
 * Reads what the status summary (statusSummary.ts) is built from: the store's records, replicas, votes
 * and leases, the event log's newest records, and, where the sentinel loops run in this process (the
 * local runner), the observing sentinel's probes and memory. The deployed API has no loop in its process:
 * its summary says so where it matters (a replica's promotion is then "not known here").
 */
import { sentinelHeartbeatStaleMs } from '../core/constants.js';
import type { LoopLease, SentinelConfig } from '../core/types.js';
import type { EventLog } from '../eventLog.js';
import type { SentinelStore } from '../ports.js';
import { type Clock, systemClock } from '../runtime/clock.js';
import {
  LOCAL_STATUS_REFRESH_MS,
  type MasterInput,
  STATUS_EVENT_LIMIT,
  type StatusSummary,
  summarizeStatus,
} from './statusSummary.js';
import { type RunnerLike, readMasterState, readMemberLeases } from './storeView.js';
import type { SentinelView } from './view.js';

/** Builds one summary per call (the HTTP API's `GET /v1/status`). */
export type StatusSource = () => Promise<StatusSummary>;

export interface StatusSourceOptions {
  /** Master names and addresses exactly as lookups answer them (announced, never going back an epoch). */
  readonly view: SentinelView;
  readonly eventLog?: EventLog;
  /** Sentinel loops in this process; the first member's (the endpoint's speaker) observations are shown. */
  readonly runners?: readonly RunnerLike[];
  readonly clock?: Clock;
  /** How often viewers should refresh (default LOCAL_STATUS_REFRESH_MS). */
  readonly refreshMs?: number;
}

export function storeStatusSource(
  store: SentinelStore,
  config: SentinelConfig,
  options: StatusSourceOptions,
): StatusSource {
  const clock = options.clock ?? systemClock;
  const members = config.global.sentinelIds;
  const observerOf = (): RunnerLike | undefined =>
    options.runners?.find((r) => r.sentinelId === members[0]) ?? options.runners?.[0];

  async function masterInput(name: string, leases: readonly LoopLease[]): Promise<MasterInput | null> {
    const [state, shown] = await Promise.all([
      readMasterState(store, config, name, async () => leases),
      options.view.addressOf(name),
    ]);
    if (state === null || shown === null) return null;
    const observer = observerOf();
    return {
      state,
      address: shown,
      snapshot: observer?.snapshots?.()[name] ?? null,
      memory: observer?.memories()[name] ?? null,
    };
  }

  return async () => {
    const [names, leases, events] = await Promise.all([
      options.view.masterNames(),
      readMemberLeases(store, members),
      options.eventLog ? options.eventLog.list({ limit: STATUS_EVENT_LIMIT }) : Promise.resolve([]),
    ]);
    const masters = (await Promise.all(names.map((name) => masterInput(name, leases)))).filter(
      (m): m is MasterInput => m !== null,
    );
    return summarizeStatus({
      now: clock.now(),
      refreshMs: options.refreshMs ?? LOCAL_STATUS_REFRESH_MS,
      members,
      observer: observerOf()?.sentinelId ?? null,
      heartbeatStaleMs: sentinelHeartbeatStaleMs(config.global),
      leases,
      masters,
      events,
    });
  };
}
