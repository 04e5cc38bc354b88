/**
 * Records as they are first created. One definition, so every store creates the same initial state.
 */
import type { FailoverProgress, MasterOrigin, MasterRecord } from './types.js';

/**
 * A new master: epoch 0, no leader, no failover. `source` says what created it (the file's monitor line
 * or SENTINEL MONITOR); the record remembers it with the seed's address as its origin.
 */
export function newMasterRecord(
  seed: {
    name: string;
    host: string;
    port: number;
    now: number;
  },
  source: MasterOrigin['source'],
): MasterRecord {
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
    origin: { source, host: seed.host, port: seed.port },
    updatedAt: seed.now,
  };
}

/**
 * A failover's progress before any replica is chosen: the recorded master is the one being replaced.
 * Written by the epoch claim that starts it, and read back the same way when a record says select_slave
 * without progress.
 */
export function newFailoverProgress(
  record: Pick<MasterRecord, 'host' | 'port'>,
  request: { readonly forced: boolean; readonly coordinated: boolean },
): FailoverProgress {
  return {
    oldMaster: { host: record.host, port: record.port },
    promoted: null,
    rejected: [],
    promotionSentAt: null,
    replicas: [],
    forced: request.forced,
    coordinated: request.coordinated,
  };
}
