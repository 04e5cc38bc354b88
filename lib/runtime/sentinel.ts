/**
 * One sentinel's loop for one invocation (SentinelRunner): hold the sentinel's loop lease, probe every
 * monitored master continuously, and on each tick read the store, run the pure core, and carry out what
 * it decided. The loop lives in lib/runtime/sentinel/ (runner.ts and its parts); its scheduling, store
 * health and lease timing are decided in lib/core (loopSchedule.ts, storeHealth.ts, leaseTiming.ts,
 * tickLine.ts). This module is the loop's public face for its callers.
 */
export { holderIsDue } from '../core/leaseTiming.js';
export { SentinelRunner } from './sentinel/runner.js';
export type { PeerWriteFeed, RunEnd, RunReport, SentinelRunnerOptions } from './sentinel/types.js';
