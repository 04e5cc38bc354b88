/**
 * `lambda-sentinel proxy`: the Redis-protocol Sentinel endpoint in front of a deployed stack. Clients in
 * Sentinel mode connect here; every answer comes from the HTTP API (httpView), and the event log is
 * followed so subscribers get `+switch-master` and the other events.
 */
import type { EventRecord } from '../eventLog.js';
import { type SentinelEndpoint, startSentinelEndpoint } from '../resp/server.js';
import { type EventFollower, followEvents } from './eventFollower.js';
import type { SentinelHttpClient } from './http.js';
import { connectHttpView, type HttpSentinelView } from './httpView.js';

export interface ProxyOptions {
  readonly client: SentinelHttpClient;
  readonly port: number;
  readonly host?: string;
  /** The address SENTINEL SENTINELS gives for every sentinel (default: the one the client connected to). */
  readonly announce?: { readonly host?: string; readonly port?: number };
  /** How often the event log is read (default 500 ms). */
  readonly eventIntervalMs?: number;
  /** How long each address long poll waits (default 15 s). */
  readonly longPollWaitMs?: number;
  /** A background read that failed; it is retried. */
  readonly onError?: (what: string, error: unknown) => void;
}

export interface SentinelProxy {
  readonly endpoint: SentinelEndpoint;
  readonly view: HttpSentinelView;
  /** Resolves once the event log has been read a first time (events stored after it are all passed on). */
  readonly eventsPrimed: Promise<void>;
  close(): Promise<void>;
}

export async function startProxy(options: ProxyOptions): Promise<SentinelProxy> {
  const onError = options.onError ?? (() => {});
  const view = await connectHttpView({ client: options.client, longPollWaitMs: options.longPollWaitMs });
  let endpoint: SentinelEndpoint;
  try {
    endpoint = await startSentinelEndpoint({
      port: options.port,
      host: options.host,
      view,
      announce: options.announce,
    });
  } catch (error) {
    await view.close();
    throw error;
  }
  const publish = async (record: EventRecord) => {
    // A client that hears of a switch looks the master up at once: the cache must know it first.
    if (record.type === '+switch-master' && record.master !== null) {
      await view.refreshAddress(record.master).catch((error) => onError('address', error));
    }
    endpoint.publish(record, record.epoch);
  };
  const follower: EventFollower = followEvents({
    client: options.client,
    intervalMs: options.eventIntervalMs,
    onEvent: publish,
    onError: (error) => onError('events', error),
  });
  return {
    endpoint,
    view,
    eventsPrimed: follower.primed,
    async close() {
      await follower.stop();
      await Promise.all([endpoint.close(), view.close()]);
    },
  };
}
