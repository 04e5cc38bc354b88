/**
 * Runs several sentinel loops in this process against one store, collecting their events: the same
 * arrangement as the local runner, for tests.
 */
import type { SentinelConfig, SentinelEvent, SentinelId } from '../../lib/core/types.js';
import type { RedisControlFactory, RedisProbeFactory, SentinelStore } from '../../lib/ports.js';
import type { Log } from '../../lib/runtime/log.js';
import { type RunReport, SentinelRunner } from '../../lib/runtime/sentinel.js';

export interface CollectedEvent extends SentinelEvent {
  readonly sentinelId: SentinelId;
}

export interface RunningSentinels {
  readonly runners: SentinelRunner[];
  readonly events: CollectedEvent[];
  readonly logs: Array<{
    sentinelId: SentinelId;
    level: string;
    message: string;
    fields?: Record<string, unknown>;
  }>;
  readonly done: Promise<RunReport[]>;
  eventsOf(type: string): CollectedEvent[];
  waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void>;
  /** Stops one sentinel (its loop and any failover it runs), as if its Lambda had died. */
  stopSentinel(sentinelId: SentinelId): void;
  stop(): Promise<RunReport[]>;
}

export function startSentinels(args: {
  config: SentinelConfig;
  /** One store per sentinel (each Lambda has its own client) or one shared. */
  storeFor: (sentinelId: SentinelId) => SentinelStore;
  probeFactoryFor: (sentinelId: SentinelId) => RedisProbeFactory;
  controlFactoryFor: (sentinelId: SentinelId) => RedisControlFactory;
  ids?: readonly SentinelId[];
}): RunningSentinels {
  const abort = new AbortController();
  const events: CollectedEvent[] = [];
  const logs: RunningSentinels['logs'] = [];
  const ids = args.ids ?? args.config.global.sentinelIds;
  const own = new Map<SentinelId, AbortController>();
  const runners = ids.map((sentinelId) => {
    const log: Log = (level, message, fields) => logs.push({ sentinelId, level, message, fields });
    const mine = new AbortController();
    own.set(sentinelId, mine);
    return new SentinelRunner({
      sentinelId,
      config: args.config,
      store: args.storeFor(sentinelId),
      probeFactory: args.probeFactoryFor(sentinelId),
      controlFactory: args.controlFactoryFor(sentinelId),
      signal: AbortSignal.any([abort.signal, mine.signal]),
      log,
      onEvent: (event) => events.push({ ...event, sentinelId }),
    });
  });
  const done = Promise.all(runners.map((r) => r.run()));
  return {
    runners,
    events,
    logs,
    done,
    eventsOf: (type) => events.filter((e) => e.type === type),
    waitFor: async (predicate, timeoutMs, what) => {
      const until = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > until) {
          const seen = events.map((e) => `${e.sentinelId} ${e.type} ${e.payload}`).join('\n  ');
          throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}; events:\n  ${seen}`);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    stopSentinel: (sentinelId) => own.get(sentinelId)?.abort(),
    stop: async () => {
      abort.abort();
      return done;
    },
  };
}
