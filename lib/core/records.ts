/**
 * Records as they are first created. One definition, so every store creates the same initial state.
 */
import type { MasterRecord } from './types.js';

/** A master as the monitor line seeds it: epoch 0, no leader, no failover. */
export function newMasterRecord(seed: {
  name: string;
  host: string;
  port: number;
  now: number;
}): MasterRecord {
  return {
    name: seed.name,
    host: seed.host,
    port: seed.port,
    currentEpoch: 0,
    configEpoch: 0,
    leader: null,
    leaderLeaseUntil: 0,
    failoverState: 'none',
    failoverStartedAt: null,
    failover: null,
    retryNotBefore: 0,
    failoverRequestedAt: null,
    failoverRequestCoordinated: false,
    monitored: true,
    settings: {},
    settingsVersion: 0,
    resetAt: null,
    updatedAt: seed.now,
  };
}
