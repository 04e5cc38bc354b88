/**
 * What every Lambda handler in functions/ shares, written once: its Powertools logger and the adapter
 * that lets the runtime log through it, the middy wrapper that stamps each record with the invocation,
 * the signal that fires a fixed margin before the Lambda deadline, and the per-container cache of what a
 * handler loads at its first invocation.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { Log } from './log.js';

/** The `service` of every function's log records. */
export const LOG_SERVICE = 'lambda-sentinel';

/**
 * A handler stops its own work this long before the Lambda deadline, and what is left is for finishing:
 * queued events get half of it (EVENT_FLUSH_MS), the reply the rest. The sentinel function stops probing
 * a second earlier still (functions/sentinel.ts, HANDOVER_MARGIN_MS) to hand its lease over, then gives
 * its events the whole margin. A DynamoDB request takes milliseconds and is cut off after a second
 * (lib/adapters/dynamodb/client.ts): the margin is used up only when the store is in trouble. One value
 * for every function, and a generous one: a long poll loses nothing by answering a second earlier near
 * its 30 s timeout, while a failover cut short by the deadline is resumed only once its leader lease has
 * run out.
 */
export const DEADLINE_MARGIN_MS = 2_000;

/** How long a handler that has stopped waits for queued events to reach the log before it returns. */
export const EVENT_FLUSH_MS = DEADLINE_MARGIN_MS / 2;

/** A function's logger: JSON records with the service and the function's component (`sentinel`, `api`…). */
export function lambdaLogger(component: string): Logger {
  return new Logger({ serviceName: LOG_SERVICE, persistentKeys: { component } });
}

/** The runtime's Log, written through a Powertools logger. */
export function logTo(logger: Logger): Log {
  return (level, message, fields) => logger[level](message, fields ?? {});
}

/**
 * The handler wrapped in middy with the logger's Lambda context (request id, cold start, function name
 * on every record), cleared between invocations so no key of one leaks into the next.
 */
export function withLambdaLogger<TEvent, TResult, TContext extends Context = Context>(
  handler: (event: TEvent, context: TContext) => Promise<TResult>,
  logger: Logger,
) {
  return middy<TEvent, TResult, Error, TContext>(handler).use(
    injectLambdaContext(logger, { clearState: true }),
  );
}

/** An abort signal that fires `marginMs` before the invocation's deadline (at once if that has passed). */
export function deadlineSignal(
  context: Pick<Context, 'getRemainingTimeInMillis'>,
  marginMs: number = DEADLINE_MARGIN_MS,
): { readonly signal: AbortSignal; clear(): void } {
  const deadline = new AbortController();
  const timer = setTimeout(
    () => deadline.abort(),
    Math.max(0, context.getRemainingTimeInMillis() - marginMs),
  );
  return { signal: deadline.signal, clear: () => clearTimeout(timer) };
}

/**
 * `load` run once per container, at the first call, and its result kept. A failure is not kept: the
 * next invocation tries again (SSM or the store may be unreachable for a moment) instead of repeating
 * the old error for the container's whole life.
 */
export function onceUntilFailure<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => {
    if (loaded === undefined) {
      const loading = load();
      loaded = loading;
      loading.catch(() => {
        if (loaded === loading) loaded = undefined;
      });
    }
    return loaded;
  };
}
