/**
 * The settings a master gets for what its configuration does not say: Sentinel's defaults
 * (SENTINEL_DEFAULTS), with the probe period and timeout derived from down-after. One place, used by the
 * parser for the masters of a file and by the runtime for a master added by SENTINEL MONITOR.
 */
import { SENTINEL_DEFAULTS } from '../core/constants.js';
import { probeTimingWithin } from '../core/settings.js';
import type { MasterSettings } from '../core/types.js';
import type { MasterNumberField } from './directives.js';

/** Every per-master number a file may leave out, for a master with this down-after. */
export function masterDefaults(downAfterMs: number): Record<MasterNumberField, number> {
  return {
    downAfterMs,
    failoverTimeoutMs: SENTINEL_DEFAULTS.failoverTimeoutMs,
    parallelSyncs: SENTINEL_DEFAULTS.parallelSyncs,
    masterRebootDownAfterPeriodMs: SENTINEL_DEFAULTS.masterRebootDownAfterPeriodMs,
    ...probeTimingWithin(downAfterMs),
    infoPeriodMs: SENTINEL_DEFAULTS.infoPeriodMs,
    voteMaxAgeMs: SENTINEL_DEFAULTS.voteMaxAgeMs,
    voteRefreshMs: SENTINEL_DEFAULTS.voteRefreshMs,
    leaderLeaseMs: SENTINEL_DEFAULTS.leaderLeaseMs,
  };
}

/**
 * The settings of a master that no file lists (SENTINEL MONITOR added it): exactly what a bare
 * `sentinel monitor` line gets, with no credentials and no renamed commands.
 */
export function defaultMasterSettings(master: {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly quorum: number;
}): MasterSettings {
  return Object.freeze({
    name: master.name,
    host: master.host,
    port: master.port,
    quorum: master.quorum,
    ...masterDefaults(SENTINEL_DEFAULTS.downAfterMs),
    renamedCommands: Object.freeze({}),
  });
}
