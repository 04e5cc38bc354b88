import { SENTINEL_DEFAULTS } from '../../lib/core/constants.js';
import type { GlobalSettings, MasterSettings } from '../../lib/core/types.js';

/** Master settings for tests: Sentinel's defaults, with a short down-after unless overridden. */
export function masterSettings(overrides: Partial<MasterSettings> = {}): MasterSettings {
  const downAfterMs = overrides.downAfterMs ?? 1_000;
  return {
    name: 'mymaster',
    host: '127.0.0.1',
    port: 6379,
    quorum: 2,
    downAfterMs,
    failoverTimeoutMs: SENTINEL_DEFAULTS.failoverTimeoutMs,
    parallelSyncs: SENTINEL_DEFAULTS.parallelSyncs,
    masterRebootDownAfterPeriodMs: 0,
    renamedCommands: {},
    probePeriodMs: Math.min(downAfterMs, SENTINEL_DEFAULTS.maxProbePeriodMs),
    probeTimeoutMs: Math.min(SENTINEL_DEFAULTS.maxProbeTimeoutMs, Math.floor(downAfterMs / 2)),
    infoPeriodMs: SENTINEL_DEFAULTS.infoPeriodMs,
    voteMaxAgeMs: SENTINEL_DEFAULTS.voteMaxAgeMs,
    voteRefreshMs: SENTINEL_DEFAULTS.voteRefreshMs,
    leaderLeaseMs: SENTINEL_DEFAULTS.leaderLeaseMs,
    ...overrides,
  };
}

export function globalSettings(overrides: Partial<GlobalSettings> = {}): GlobalSettings {
  return {
    sentinelIds: SENTINEL_DEFAULTS.sentinelIds,
    tiltTriggerMs: SENTINEL_DEFAULTS.tiltTriggerMs,
    tiltPeriodMs: SENTINEL_DEFAULTS.tiltPeriodMs,
    loopLeaseMs: SENTINEL_DEFAULTS.loopLeaseMs,
    heartbeatPeriodMs: SENTINEL_DEFAULTS.heartbeatPeriodMs,
    tls: { enabled: false, rejectUnauthorized: true },
    ...overrides,
  };
}
