/**
 * Run-time Redis credentials for the local runner: `SENTINEL SET <master> auth-pass|auth-user` as in
 * Sentinel. The credentials live in this process only (never in the table, an event or a log line), in
 * the configuration every sentinel of this process reads its masters' settings from: the sentinels
 * re-read a master's settings when its record's settings version moves (storeView writes the SET), and
 * their new connections then authenticate with the new credentials.
 *
 * A password set at run time keeps the binding rule of the file's (lib/core/authBinding.ts): for a master
 * the file lists it replaces the file's `auth-pass` (bound to that entry); for a master added by SENTINEL
 * MONITOR it is bound to the address that incarnation began at, so REMOVE then MONITOR elsewhere never
 * sends it to another server.
 */
import type { RuntimeCredentialSink } from '../commands/storeView.js';
import type { CredentialChange } from '../core/settings.js';
import type { AddressBoundAuthPass, MasterRecord, MasterSettings, SentinelConfig } from '../core/types.js';
import { secretsOf } from '../eventLog.js';

export interface LiveCredentials {
  /** The configuration to give the sentinels and the view: it reflects every accepted SET. */
  readonly config: SentinelConfig;
  /** What SENTINEL SET auth-pass|auth-user writes to. */
  readonly sink: RuntimeCredentialSink;
}

/**
 * `base` with credentials that SENTINEL SET can change. `secrets` is the list the event printer, the
 * webhook and the event log redact: every password set here is added to it, so even an event that
 * quoted one by accident would not show it.
 */
export function liveCredentials(base: SentinelConfig, secrets: string[]): LiveCredentials {
  let masters: readonly MasterSettings[] = base.masters;
  let byMaster: Readonly<Record<string, AddressBoundAuthPass>> = base.authPassByMaster ?? {};

  const config: SentinelConfig = {
    global: base.global,
    get masters() {
      return masters;
    },
    get authPassByMaster() {
      return byMaster;
    },
    ...(base.access !== undefined ? { access: base.access } : {}),
  };

  const sink: RuntimeCredentialSink = {
    // A password for a master the file does not list is bound to an address (AddressBoundAuthPass), which
    // holds no user name: such a master's auth-user comes from the file only.
    accepts: (record, change) => change.authUser === undefined || masters.some((m) => m.name === record.name),
    apply(record: MasterRecord, change: CredentialChange) {
      if (change.authPass) secrets.push(change.authPass);
      const listed = masters.find((m) => m.name === record.name);
      if (listed !== undefined) {
        masters = masters.map((m) => (m === listed ? withCredentials(m, change) : m));
      } else if (change.authPass !== undefined) {
        const { [record.name]: _old, ...others } = byMaster;
        const origin = record.origin ?? { host: record.host, port: record.port };
        // Sentinel treats an empty password as "none".
        byMaster =
          change.authPass === ''
            ? others
            : {
                ...others,
                [record.name]: {
                  address: { host: origin.host, port: origin.port },
                  password: change.authPass,
                },
              };
      }
      // Keep every password ever set in the redaction list (an old one may still be in flight).
      for (const secret of secretsOf(config)) if (!secrets.includes(secret)) secrets.push(secret);
    },
  };
  return { config, sink };
}

/** A file entry with the credentials a SET changed; an empty value removes one, as in Sentinel. */
function withCredentials(master: MasterSettings, change: CredentialChange): MasterSettings {
  const { authPass, authUser, ...rest } = master;
  const pass = change.authPass ?? authPass;
  const user = change.authUser ?? authUser;
  return Object.freeze({
    ...rest,
    ...(user !== undefined && user !== '' ? { authUser: user } : {}),
    ...(pass !== undefined && pass !== '' ? { authPass: pass } : {}),
  });
}
