/**
 * Host name resolution for `resolve-hostnames` / `announce-hostnames`: the connections themselves
 * resolve a host name at each connect (node:net), so a changed DNS record is followed; this is for the
 * two places that need the address itself: SENTINEL MONITOR checks that a name resolves, as Sentinel
 * does, and replies give the IP address when `announce-hostnames` is no.
 */
import { lookup } from 'node:dns/promises';
import { isIpLiteral } from '../../core/settings.js';

/** The first address the system resolver gives (as Sentinel's getaddrinfo), or null if there is none. */
export type HostResolver = (host: string) => Promise<string | null>;

export const resolveHost: HostResolver = async (host) => {
  try {
    return (await lookup(host)).address;
  } catch {
    return null;
  }
};

/** How long a resolved address is shown before the name is looked up again (as the views: once a second). */
export const ANNOUNCED_ADDRESS_TTL_MS = 1_000;

/**
 * The IP addresses that host names resolve to, for events shown as Sentinel shows them with
 * `announce-hostnames no` (lib/core/events.ts withHostsAsIps). Events are emitted synchronously, so the
 * names are learned ahead (when a master is first monitored, and at each tick in the background) and
 * `ipOf` only reads what is known: a lookup never delays an event, a tick or a failover. A name that
 * does not resolve is shown as given (Sentinel would show an empty address). IP literals are never looked
 * up.
 */
export class ResolvedHosts {
  readonly #resolve: HostResolver;
  readonly #now: () => number;
  readonly #known = new Map<string, { readonly ip: string | null; readonly at: number }>();
  readonly #inFlight = new Map<string, Promise<void>>();

  constructor(resolve: HostResolver, now: () => number) {
    this.#resolve = resolve;
    this.#now = now;
  }

  /** The address `host` last resolved to, if it is a name that resolved. */
  ipOf(host: string): string | undefined {
    return this.#known.get(host)?.ip ?? undefined;
  }

  /** Looks up the names not known or older than the TTL; resolves when those lookups end. */
  learn(hosts: Iterable<string>): Promise<void> {
    const now = this.#now();
    const lookups: Array<Promise<void>> = [];
    for (const host of new Set(hosts)) {
      if (isIpLiteral(host)) continue;
      const known = this.#known.get(host);
      if (known !== undefined && now - known.at < ANNOUNCED_ADDRESS_TTL_MS) continue;
      let lookup = this.#inFlight.get(host);
      if (lookup === undefined) {
        lookup = this.#resolve(host)
          .catch(() => null)
          .then((ip) => {
            // A name that stopped resolving keeps the address it last had, as Sentinel keeps the one
            // it resolved at creation.
            const previous = this.#known.get(host)?.ip ?? null;
            this.#known.set(host, { ip: ip ?? previous, at: this.#now() });
          })
          .finally(() => this.#inFlight.delete(host));
        this.#inFlight.set(host, lookup);
      }
      lookups.push(lookup);
    }
    return Promise.all(lookups).then(() => undefined);
  }
}
