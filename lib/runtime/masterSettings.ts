/**
 * The settings a master runs with, wherever it came from: the deployment's sentinel.conf, or SENTINEL
 * MONITOR (Sentinel's defaults), with SENTINEL SET's changes from its record over them. Sentinels, the
 * failover function, the endpoint and the HTTP API all resolve settings here, so they agree.
 */
import { parseSentinelConfig } from '../config/parse.js';
import { withRuntimeSettings } from '../core/settings.js';
import type { MasterRecord, MasterSettings, SentinelConfig } from '../core/types.js';

/**
 * Settings of a master the file does not list: exactly what the parser gives a bare monitor line (one
 * place for defaults). Quorum 1 is a placeholder; MONITOR always records the quorum it was given.
 */
function monitoredDefaults(config: SentinelConfig, record: MasterRecord): MasterSettings {
  const text = [
    `sentinel members ${config.global.sentinelIds.join(' ')}`,
    `sentinel monitor ${record.name} ${record.host} ${record.port} 1`,
  ].join('\n');
  const settings = parseSentinelConfig(text, '<monitor>').masters[0];
  if (settings === undefined) throw new Error(`no settings parsed for ${record.name}`);
  const authPass = config.authPassByMaster?.[record.name];
  return authPass ? { ...settings, authPass } : settings;
}

/** The configured base (file entry, else defaults) with the record's run-time settings applied. */
export function settingsOf(config: SentinelConfig, record: MasterRecord): MasterSettings {
  const base = config.masters.find((m) => m.name === record.name) ?? monitoredDefaults(config, record);
  return withRuntimeSettings(base, record.settings);
}

/** Settings for a master that may have no record yet (a file entry not seeded yet). */
export function settingsFor(
  config: SentinelConfig,
  name: string,
  record: MasterRecord | null,
): MasterSettings | null {
  if (record !== null) return record.monitored ? settingsOf(config, record) : null;
  return config.masters.find((m) => m.name === name) ?? null;
}
