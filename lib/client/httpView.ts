/**
 * A SentinelView over the HTTP API, for `lambda-sentinel proxy`: the Redis-protocol endpoint in front of a
 * deployed stack. Each read is one API request, except get-master-addr-by-name, which clients ask
 * often and expect at once: it is answered from a per-master cache that a background long poll
 * (`GET …/address?after_epoch=N&wait_ms=…`) keeps current, so a failover reaches the cache as soon as
 * the API commits it, without polling.
 */

import type {
  AddressWithEpoch,
  CkquorumReply,
  CommandReply,
  EndpointAddress,
  FailoverReply,
  Fields,
  SentinelView,
  SetArgs,
} from '../commands/view.js';
import type { Address } from '../core/types.js';
import type { EventQuery, EventRecord } from '../eventLog.js';
import { HttpApiError, type InstanceMap, isNoSuchMaster, type SentinelHttpClient } from './http.js';
import { sleep } from './sleep.js';

export interface HttpViewOptions {
  readonly client: SentinelHttpClient;
  /** SENTINEL MYID. Default: the API's own (`GET /v1`, read once by connectHttpView). */
  readonly myId?: string;
  /** How long each long poll asks the server to wait (default 15 s; the server caps it at 20 s). */
  readonly longPollWaitMs?: number;
  /** After a failed long poll, wait this long before the next (default 1 s). */
  readonly retryMs?: number;
  /** Stop following a master nobody has asked about for this long (default 10 minutes). */
  readonly idleMs?: number;
}

export interface HttpSentinelView extends SentinelView {
  /**
   * Reads a master's address from the API now and feeds the cache (never to a lower epoch). The proxy
   * calls it before passing `+switch-master` on, so a client that looks the master up on that message
   * already gets the new address.
   */
  refreshAddress(name: string): Promise<AddressWithEpoch | null>;
  /** Stops every long poll. */
  close(): Promise<void>;
}

const DEFAULTS = { longPollWaitMs: 15_000, retryMs: 1_000, idleMs: 600_000 } as const;

/** Fields in the map's order (JSON objects keep the insertion order of non-numeric keys, as these are). */
export const toFields = (map: InstanceMap): Fields => Object.entries(map);

/** One master the cache follows. */
interface Followed {
  current: AddressWithEpoch | null;
  /** When a reply last came back (direct read or long poll); the cache is trusted while this is recent. */
  confirmedAt: number;
  askedAt: number;
  readonly stop: AbortController;
  loop: Promise<void> | null;
}

/** Reads the API's run id, then builds the view. Fails when the API cannot be reached or refuses us. */
export async function connectHttpView(options: HttpViewOptions): Promise<HttpSentinelView> {
  const myId = options.myId ?? (await options.client.info()).myid;
  return httpSentinelView({ ...options, myId });
}

export function httpSentinelView(options: HttpViewOptions & { readonly myId: string }): HttpSentinelView {
  const { client } = options;
  const waitMs = options.longPollWaitMs ?? DEFAULTS.longPollWaitMs;
  const retryMs = options.retryMs ?? DEFAULTS.retryMs;
  const idleMs = options.idleMs ?? DEFAULTS.idleMs;
  // A long poll answers within waitMs; a cache not confirmed for longer than that (plus the request's
  // own slack) means the poller is failing, and a lookup asks the API directly.
  const trustCacheMs = waitMs + 5_000;
  const followed = new Map<string, Followed>();
  let closed = false;

  /** Takes `read` unless the cache already holds a higher epoch: a lookup never goes back. */
  function accept(entry: Followed, read: AddressWithEpoch): AddressWithEpoch {
    entry.confirmedAt = Date.now();
    if (entry.current === null || read.epoch >= entry.current.epoch) entry.current = read;
    return entry.current;
  }

  function forget(name: string): void {
    const entry = followed.get(name);
    if (!entry) return;
    entry.stop.abort();
    followed.delete(name);
  }

  function entryOf(name: string): Followed {
    let entry = followed.get(name);
    if (!entry) {
      entry = { current: null, confirmedAt: 0, askedAt: Date.now(), stop: new AbortController(), loop: null };
      followed.set(name, entry);
    }
    return entry;
  }

  async function follow(name: string, entry: Followed): Promise<void> {
    const signal = entry.stop.signal;
    while (!signal.aborted && !closed) {
      if (Date.now() - entry.askedAt > idleMs) break;
      try {
        const afterEpoch = entry.current?.epoch ?? -1;
        const read = await client.address(name, { afterEpoch, waitMs }, { signal });
        accept(entry, read);
      } catch (error) {
        if (signal.aborted) break;
        if (isNoSuchMaster(error)) break;
        await sleep(retryMs, signal);
      }
    }
    if (followed.get(name) === entry) followed.delete(name);
    entry.stop.abort();
  }

  async function refreshAddress(name: string): Promise<AddressWithEpoch | null> {
    let read: AddressWithEpoch;
    try {
      read = await client.address(name);
    } catch (error) {
      if (isNoSuchMaster(error)) {
        forget(name);
        return null;
      }
      throw error;
    }
    const entry = entryOf(name);
    const current = accept(entry, read);
    if (entry.loop === null && !closed) entry.loop = follow(name, entry);
    return current;
  }

  /** Direct reads under way for lookups: clients that connect together on a cold cache share one. */
  const coldReads = new Map<string, Promise<AddressWithEpoch | null>>();

  async function cachedAddress(name: string): Promise<AddressWithEpoch | null> {
    const entry = followed.get(name);
    if (entry) entry.askedAt = Date.now();
    if (entry?.current && Date.now() - entry.confirmedAt <= trustCacheMs) return entry.current;
    let read = coldReads.get(name);
    if (read === undefined) {
      read = refreshAddress(name).finally(() => coldReads.delete(name));
      coldReads.set(name, read);
    }
    try {
      return await read;
    } catch (error) {
      // The API cannot be reached: answer what we last knew, as a Sentinel answers from memory.
      if (entry?.current) return entry.current;
      throw error;
    }
  }

  /** Runs a read of one master; null when the API says there is no such master. */
  async function orNull<T>(read: () => Promise<T>): Promise<T | null> {
    try {
      return await read();
    } catch (error) {
      if (isNoSuchMaster(error)) return null;
      throw error;
    }
  }

  async function command(run: () => Promise<unknown>): Promise<CommandReply> {
    try {
      await run();
      return { ok: true };
    } catch (error) {
      if (!(error instanceof HttpApiError) || error.status === null) throw error;
      if (isNoSuchMaster(error)) return { ok: false, kind: 'no-such-master', error: error.error };
      if (error.status === 409) return { ok: false, kind: 'conflict', error: error.error };
      if (error.status === 503) return { ok: false, kind: 'unavailable', error: error.error };
      if (error.status === 400 || error.status === 403 || error.status === 413)
        return { ok: false, kind: 'invalid', error: error.error };
      throw error;
    }
  }

  const toAddress = (a: AddressWithEpoch): Address => ({ host: a.ip, port: a.port });

  return {
    myId: () => options.myId,
    async masterNames() {
      return (await client.masters()).map((m) => m.name ?? '');
    },
    async masterAddress(name) {
      const address = await cachedAddress(name);
      return address && toAddress(address);
    },
    async master(name) {
      const map = await orNull(() => client.master(name));
      return map && toFields(map);
    },
    async masters() {
      return (await client.masters()).map(toFields);
    },
    async replicas(name) {
      const maps = await orNull(() => client.replicas(name));
      return maps === null ? null : maps.map(toFields);
    },
    async sentinels(name, endpoint: EndpointAddress) {
      const maps = await orNull(() => client.sentinels(name));
      // Clients connect to the sentinels they are told about: every one of them is this proxy.
      return maps === null
        ? null
        : maps.map((map) => toFields({ ...map, ip: endpoint.host, port: String(endpoint.port) }));
    },
    async ckquorum(name): Promise<CkquorumReply | null> {
      const result = await orNull(() => client.ckquorum(name));
      return result && { ok: result.ok, text: result.reply };
    },
    async failover(name, failoverOptions): Promise<FailoverReply> {
      try {
        // Over RESP (the proxy) the answer comes as soon as the request is recorded, as Sentinel's: a
        // client with a short socket timeout must not time out and retry into INPROG.
        await client.failover(name, {
          ...(failoverOptions?.coordinated !== undefined ? { coordinated: failoverOptions.coordinated } : {}),
          wait: failoverOptions?.awaitOutcome === true,
        });
        return 'OK';
      } catch (error) {
        if (isNoSuchMaster(error)) return 'NOSUCHMASTER';
        if (error instanceof HttpApiError && (error.code === 'INPROG' || error.code === 'NOGOODSLAVE'))
          return error.code;
        throw error;
      }
    },
    addressOf: cachedAddress,
    async waitForAddress(name, afterEpoch, wait, signal) {
      const read = await orNull(() => client.address(name, { afterEpoch, waitMs: wait }, { signal }));
      if (read === null) {
        forget(name);
        return null;
      }
      return accept(entryOf(name), read);
    },
    monitor: (name, ip, port, quorum) => command(() => client.monitor({ name, ip, port, quorum })),
    remove: (name) =>
      command(async () => {
        await client.remove(name);
        forget(name);
      }),
    set: (name, args: SetArgs) => command(() => client.set(name, args)),
    reset: (pattern) => client.reset(pattern),
    events: (query: EventQuery): Promise<EventRecord[]> => client.events(query),
    refreshAddress,
    async close() {
      closed = true;
      const loops = [...followed.values()].map((entry) => {
        entry.stop.abort();
        return entry.loop;
      });
      followed.clear();
      await Promise.all(loops);
    },
  };
}
