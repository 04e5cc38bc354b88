/**
 * Which password, if any, a master record's connections carry. A password is configured for a
 * replication group, not for a name: SENTINEL REMOVE then SENTINEL MONITOR can give the same name to
 * any address, and that server must never receive the old group's password. So each password is bound
 * to where its group's incarnation began (MasterRecord.origin), which failovers, SET and RESET keep and
 * only MONITOR replaces:
 *
 * - A password configured with a master of the file (local `sentinel auth-pass`, or a deployed SSM
 *   parameter named after a listed master) belongs to that file entry. It is used for a record seeded
 *   from the file (origin 'config'), or one that MONITOR (re-)added at the file's own address.
 * - A password for a master the file does not list (SSM only) names its address, since nothing else
 *   binds it. It is used only for a record that MONITOR added at exactly that address.
 * - A record written before origins existed has none. If the file lists its name it is taken as seeded
 *   from the file (it was, or a MONITOR at run time before this version added it): otherwise every
 *   upgraded deployment would lose its passwords and see NOAUTH, that is SDOWN. Without a file entry it
 *   gets no password: MONITOR it again to bind one.
 *
 * Anything else gets no password (withheld), and says why in terms an operator can act on. Pure.
 */
import type { Address, MasterOrigin, MasterRecord, SentinelConfig } from './types.js';

export type AuthPassDecision =
  /** No password is configured for this name: connect without one. */
  | { readonly use: 'none' }
  /** The configured password belongs to this incarnation. */
  | { readonly use: 'password'; readonly password: string }
  /**
   * A password is configured for this name, but for another incarnation: connect without it. `origin`
   * is where this one began (null: unknown, a record older than origins without a file entry).
   */
  | {
      readonly use: 'withheld';
      readonly boundTo: Address;
      readonly origin: MasterOrigin | null;
    };

function sameAddress(a: Address, b: Address): boolean {
  return a.host === b.host && a.port === b.port;
}

/** The record's origin, with a pre-origin record of a listed master read as seeded from the file. */
export function effectiveOrigin(config: SentinelConfig, record: MasterRecord): MasterOrigin | null {
  if (record.origin !== null) return record.origin;
  const listed = config.masters.find((m) => m.name === record.name);
  return listed ? { source: 'config', host: listed.host, port: listed.port } : null;
}

/**
 * True when two origins name the same incarnation. What was observed of one incarnation (its replicas,
 * its judgements) is not carried to another: it would be probed with the other one's credentials.
 */
export function sameOrigin(a: MasterOrigin | null, b: MasterOrigin | null): boolean {
  if (a === null || b === null) return a === b;
  return a.source === b.source && sameAddress(a, b);
}

/** Which password, if any, connections for this record may carry (see the module comment). */
export function decideAuthPass(config: SentinelConfig, record: MasterRecord): AuthPassDecision {
  const origin = effectiveOrigin(config, record);
  const listed = config.masters.find((m) => m.name === record.name);
  if (listed !== undefined) {
    if (!listed.authPass) return { use: 'none' };
    const boundTo = { host: listed.host, port: listed.port };
    const bound = origin !== null && (origin.source === 'config' || sameAddress(origin, boundTo));
    return bound ? { use: 'password', password: listed.authPass } : { use: 'withheld', boundTo, origin };
  }
  const configured = config.authPassByMaster?.[record.name];
  if (configured === undefined || configured.password === '') return { use: 'none' };
  const bound = origin !== null && origin.source === 'monitor' && sameAddress(origin, configured.address);
  return bound
    ? { use: 'password', password: configured.password }
    : { use: 'withheld', boundTo: configured.address, origin };
}

/**
 * What to tell the operator about a withheld password: the master, both addresses and what to do.
 * Never the password.
 */
export function describeWithheldAuthPass(
  name: string,
  decision: Extract<AuthPassDecision, { use: 'withheld' }>,
): { readonly message: string; readonly fields: Record<string, string> } {
  const boundTo = `${decision.boundTo.host}:${decision.boundTo.port}`;
  const began =
    decision.origin === null
      ? 'its record predates address binding and the file does not list it'
      : decision.origin.source === 'monitor'
        ? `it was added by SENTINEL MONITOR at ${decision.origin.host}:${decision.origin.port}`
        : `it was seeded from a monitor line at ${decision.origin.host}:${decision.origin.port}`;
  return {
    message:
      `password of master ${name} not sent: it is configured for the master at ${boundTo}, and ${began}. ` +
      `Connecting without a password. To send it, SENTINEL REMOVE and SENTINEL MONITOR ${name} at ` +
      `${boundTo}, or bind the password to the address this master was added at (docs/deploy.md, ` +
      '"Redis passwords")',
    fields: {
      master: name,
      passwordBoundTo: boundTo,
      ...(decision.origin === null
        ? {}
        : {
            origin: decision.origin.source,
            originAddress: `${decision.origin.host}:${decision.origin.port}`,
          }),
    },
  };
}
