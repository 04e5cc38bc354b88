/**
 * Host name resolution for `resolve-hostnames` / `announce-hostnames`: the connections themselves
 * resolve a host name at each connect (node:net), so a changed DNS record is followed; this is for the
 * two places that need the address itself: SENTINEL MONITOR checks that a name resolves, as Sentinel
 * does, and replies give the IP address when `announce-hostnames` is no.
 */
import { lookup } from 'node:dns/promises';

/** The first address the system resolver gives (as Sentinel's getaddrinfo), or null if there is none. */
export type HostResolver = (host: string) => Promise<string | null>;

export const resolveHost: HostResolver = async (host) => {
  try {
    return (await lookup(host)).address;
  } catch {
    return null;
  }
};
