/**
 * Sentinel's reply and error texts, word for word, in one place. The Redis-protocol endpoint sends them
 * (an error as `-ERR <text>`, except the INPROG and NOGOODSLAVE codes, which lead their own text), the
 * HTTP API sends the same text as `error` without `ERR `, the CLI prints them, and the validation of
 * MONITOR and SET (lib/core/settings.ts) returns them. Where this project refuses more than Sentinel
 * does, its reason follows Sentinel's text after a colon.
 */
import { majorityOf } from './quorum.js';

export const SENTINEL_REPLY = {
  noSuchMaster: 'No such master with that name',
  failoverInProgress: 'INPROG Failover already in progress',
  noGoodReplica: 'NOGOODSLAVE No suitable replica to promote',
  duplicateMaster: 'Duplicate master name.',
  /** A SENTINEL subcommand that exists in Sentinel but not here (docs/endpoint.md lists them). */
  notSupported: 'not supported yet',
  invalidQuorum: 'Invalid quorum',
  invalidPort: 'Invalid port',
  quorumBelowOne: 'Quorum must be 1 or greater.',
  invalidPortNumber: 'Invalid port number.',
  invalidAddress: 'Invalid IP address or hostname specified',
  setArity: "wrong number of arguments for 'sentinel|set' command",
  emptySetArgument: 'empty SENTINEL SET argument',
  /** This project's: a SET that lost the race to other SETs every time it tried. */
  settingsKeptChanging: 'the settings kept changing; try again',
} as const;

/** How Sentinel's errors go out over RESP: `ERR <text>`. */
export function errText(text: string): string {
  return `ERR ${text}`;
}

/** A caller's value is quoted back at most this long (a refused 64 KiB value does not come back whole). */
export const MAX_SHOWN_VALUE = 64;

/** A caller's value as a reply quotes it: bounded, so a huge input does not come back whole. */
export function shownValue(value: string): string {
  return value.length > MAX_SHOWN_VALUE ? `${value.slice(0, MAX_SHOWN_VALUE)}…` : value;
}

/** A master name refused by lib/core/names.ts, with its problem. */
export function invalidMasterName(problem: string): string {
  return `Invalid master name: ${problem}`;
}

/** MONITOR's quorum above the membership: this project's reason after Sentinel's `Invalid quorum`. */
export function quorumAboveMembers(members: number): string {
  return `Invalid quorum: larger than the ${members} sentinels`;
}

/** SET with an option it does not know, or with the wrong number of values for it. */
export function unknownSetOption(rawOption: string): string {
  return `Unknown option or number of arguments for SENTINEL SET '${shownValue(rawOption)}'`;
}

/** SET's text for a bad value, with this project's reason after it when there is one. */
export function invalidSetArgument(value: string | null, option: string, reason?: string): string {
  const argument = value === null ? 'Invalid argument' : `Invalid argument '${shownValue(value)}'`;
  return `${argument} for SENTINEL SET '${option}'${reason === undefined ? '' : `: ${reason}`}`;
}

/**
 * SENTINEL CKQUORUM: whether the sentinels that can act (`usable`, this one included) reach the master's
 * quorum and the majority that authorises a failover, in Sentinel's words.
 */
export function ckquorumReply(
  usable: number,
  quorum: number,
  members: number,
): { readonly ok: boolean; readonly text: string } {
  const problems: string[] = [];
  if (usable < quorum)
    problems.push('Not enough available Sentinels to reach the specified quorum for this master');
  if (usable < majorityOf(members))
    problems.push('Not enough available Sentinels to reach the majority and authorize a failover');
  if (problems.length === 0)
    return {
      ok: true,
      text: `OK ${usable} usable Sentinels. Quorum and failover authorization can be reached`,
    };
  return { ok: false, text: `NOQUORUM ${usable} usable Sentinels. ${problems.join('. ')}` };
}
