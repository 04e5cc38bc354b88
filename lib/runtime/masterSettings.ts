/**
 * The settings a master runs with, wherever it came from: the deployment's sentinel.conf, or SENTINEL
 * MONITOR (Sentinel's defaults), with SENTINEL SET's changes from its record over them. Sentinels, the
 * failover function, the endpoint and the HTTP API all resolve settings here, so they agree. The
 * password comes from one decision (lib/core/authBinding.ts): it follows the replication group it was
 * configured for, never the name alone.
 */
import { defaultMasterSettings } from '../config/defaults.js';
import { decideAuthPass } from '../core/authBinding.js';
import { withRuntimeSettings } from '../core/settings.js';
import type { MasterRecord, MasterSettings, SentinelConfig } from '../core/types.js';

/**
 * Settings of a master the file does not list: what the parser gives a bare monitor line (one place for
 * defaults). Quorum 1 is a placeholder; MONITOR always records the quorum it was given.
 */
function monitoredDefaults(record: MasterRecord): MasterSettings {
  return defaultMasterSettings({ name: record.name, host: record.host, port: record.port, quorum: 1 });
}

/** The base settings with exactly the credentials the decision allows for this record. */
function withDecidedAuth(config: SentinelConfig, record: MasterRecord, base: MasterSettings): MasterSettings {
  const { authPass: _configured, authUser, ...rest } = base;
  const decision = decideAuthPass(config, record);
  switch (decision.use) {
    case 'password':
      return { ...rest, ...(authUser !== undefined ? { authUser } : {}), authPass: decision.password };
    case 'none':
      return { ...rest, ...(authUser !== undefined ? { authUser } : {}) };
    case 'withheld':
      // Nothing of the other group's credentials: the ACL user name belongs with its password.
      return rest;
  }
}

/** The configured base (file entry, else defaults) with the record's run-time settings applied. */
export function settingsOf(config: SentinelConfig, record: MasterRecord): MasterSettings {
  const base = config.masters.find((m) => m.name === record.name) ?? monitoredDefaults(record);
  return withRuntimeSettings(withDecidedAuth(config, record, base), record.settings);
}

/**
 * Settings for a master that may have no record yet (a file entry not seeded yet: it will be seeded from
 * that entry, so the entry's own password applies).
 */
export function settingsFor(
  config: SentinelConfig,
  name: string,
  record: MasterRecord | null,
): MasterSettings | null {
  if (record !== null) return record.monitored ? settingsOf(config, record) : null;
  return config.masters.find((m) => m.name === name) ?? null;
}
