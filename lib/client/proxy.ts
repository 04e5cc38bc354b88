/**
 * `lambda-sentinel proxy`: the Redis-protocol Sentinel endpoint in front of a deployed stack. Clients in
 * Sentinel mode connect here; every answer comes from the HTTP API (httpView), and the event log is
 * followed so subscribers get `+switch-master` and the other events.
 *
 * Whatever a client sends through here goes to the API with the operator's credentials (SigV4), so the
 * proxy is read-only unless asked otherwise (`allowWrites`), has its own users (as the endpoint), and
 * refuses to listen beyond loopback while some user needs no password.
 */

import { AccessControl } from '../accessControl.js';
import { isLoopbackBind } from '../core/acl.js';
import type { AclUserSpec, ConnectionLimits } from '../core/types.js';
import type { EventRecord } from '../eventLog.js';
import { type SentinelEndpoint, startSentinelEndpoint } from '../resp/server.js';
import type { Log } from '../runtime/log.js';
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
  /** The endpoint's ACL users (default: Redis's open `default` user, loopback only). */
  readonly users?: readonly AclUserSpec[];
  /** The endpoint's connection limits. */
  readonly limits?: Partial<ConnectionLimits>;
  /** Pass write commands (FAILOVER, SET, MONITOR, REMOVE, RESET…) on to the API. Default: refused. */
  readonly allowWrites?: boolean;
  /** Where the endpoint reports cross-protocol attempts. */
  readonly log?: Log;
}

/** What a write gets from a proxy started without allowWrites. */
export function proxyReadOnlyError(command: string): string {
  return (
    `NOPERM this proxy is read-only: '${command}' would change the deployed sentinels. ` +
    'Start the proxy with --allow-writes to pass writes on'
  );
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
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackBind(host) && !new AccessControl(options.users).requiresPassword) {
    throw new Error(
      `refusing to listen on ${host}, beyond loopback, while a user needs no password: every command ` +
        'sent here reaches the API with your AWS credentials',
    );
  }
  const view = await connectHttpView({ client: options.client, longPollWaitMs: options.longPollWaitMs });
  let endpoint: SentinelEndpoint;
  try {
    endpoint = await startSentinelEndpoint({
      port: options.port,
      host,
      view,
      announce: options.announce,
      users: options.users,
      limits: options.limits,
      readOnlyError: options.allowWrites ? undefined : proxyReadOnlyError,
      log: options.log,
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
