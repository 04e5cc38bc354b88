/**
 * The sentinel function. Invoked every minute by its schedule. One invocation (the holder) probes for its
 * whole timeout (15 minutes); the invocations that arrive meanwhile find it running in the sentinel's loop
 * lease and return at once, until the holder enters its hand-over window: the next one then takes over,
 * resuming from the holder's observations (lib/runtime/sentinel.ts). One long holder instead of one per
 * minute: the per-minute invocations cost a lease read and a few milliseconds each.
 */

import { fileURLToPath } from 'node:url';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { createDynamoClient } from '../lib/adapters/dynamodb/client.js';
import { DynamoEventLog } from '../lib/adapters/dynamodb/eventLog.js';
import { DynamoStore } from '../lib/adapters/dynamodb/store.js';
import { createRedisControl } from '../lib/adapters/redis/control.js';
import { createRedisProbe } from '../lib/adapters/redis/probe.js';
import { EventRecorder, secretsOf } from '../lib/eventLog.js';
import { deploymentGeneration } from '../lib/runtime/generation.js';
import {
  authPasswordLogLines,
  readSentinelDeployment,
  resolveAuthPasswords,
  type SentinelDeployment,
} from '../lib/runtime/lambdaConfig.js';
import { type Log, logDroppedEvent } from '../lib/runtime/log.js';
import { type RunReport, SentinelRunner } from '../lib/runtime/sentinel.js';

/** Stop probing this long before the Lambda deadline, to release the lease with the hand-over state. */
export const HANDOVER_MARGIN_MS = 3_000;
/** The schedule's period (infra/sentinel-*.yml, rate(1 minute); test/infra checks they agree). */
export const SCHEDULE_PERIOD_MS = 60_000;
/**
 * The holder takes hand-over requests in the last two schedule periods before its stop time: two
 * scheduled invocations arrive in it, so one lost delivery still leaves no gap.
 */
export const HANDOVER_WINDOW_MS = 2 * SCHEDULE_PERIOD_MS;
/**
 * A scheduled event older than this is a late or repeated delivery (the schedule's own maximum event age
 * should already drop it): the invocation for that minute has been covered by the running loop.
 */
export const MAX_EVENT_LATENESS_MS = 90_000;

const logger = new Logger({ serviceName: 'lambda-sentinel', persistentKeys: { component: 'sentinel' } });

let deployment: Promise<SentinelDeployment> | undefined;
let generation: string | undefined;
let dynamo: ReturnType<typeof createDynamoClient> | undefined;
let store: DynamoStore | undefined;
let recorder: EventRecorder | undefined;

/** How long the handler waits for queued events to reach the log before it returns. */
export const EVENT_FLUSH_MS = HANDOVER_MARGIN_MS - 1_000;

/**
 * The configuration, with the Redis passwords from SSM when AUTH_PASS_PARAMETER_PATH is set. A failure
 * fails this invocation with a clear error and is not kept: SSM may be unreachable for a moment, and the
 * next minute's invocation in this container should try again rather than repeat the old error.
 */
function loadDeployment(): Promise<SentinelDeployment> {
  const loading = readSentinelDeployment(process.env).then((d) =>
    resolveAuthPasswords(d, process.env, {
      onResolved: (merge) => {
        for (const line of authPasswordLogLines(merge)) logger[line.level](line.message, line.fields);
      },
    }),
  );
  loading.catch(() => {
    if (deployment === loading) deployment = undefined;
  });
  return loading;
}

/** Read once per container: a bad configuration fails the first invocation with a clear error. */
async function deps(): Promise<{ deployment: SentinelDeployment; store: DynamoStore }> {
  deployment ??= loadDeployment();
  const d = await deployment;
  // One DynamoDB client for the store and the event log: one set of connections, one credential chain and
  // one middleware stack instead of two.
  dynamo ??= createDynamoClient({ endpoint: d.dynamodbEndpoint });
  store ??= new DynamoStore(dynamo, d.tableName);
  // Events go to the table's event log (and from its stream to SNS), never blocking the loop.
  recorder ??= new EventRecorder({
    sentinelId: d.sentinelId,
    log: new DynamoEventLog(dynamo, d.tableName, {
      secrets: secretsOf(d.config),
    }),
    // A dropped event is in no log and raises no alert: the fault line is what the SentinelFaults alarm counts.
    onDrop: logDroppedEvent(powertoolsLog, secretsOf(d.config)),
  });
  return { deployment: d, store };
}

const powertoolsLog: Log = (level, message, fields) => {
  switch (level) {
    case 'debug':
      return logger.debug(message, fields ?? {});
    case 'info':
      return logger.info(message, fields ?? {});
    case 'warn':
      return logger.warn(message, fields ?? {});
    case 'error':
      return logger.error(message, fields ?? {});
  }
};

export interface SentinelInvocationResult {
  readonly skipped?: string;
  readonly report?: RunReport;
}

async function runSentinel(
  event: Partial<ScheduledEvent>,
  context: Context,
): Promise<SentinelInvocationResult> {
  const now = Date.now();
  const scheduledAt = event.time ? Date.parse(event.time) : Number.NaN;
  if (Number.isFinite(scheduledAt) && now - scheduledAt > MAX_EVENT_LATENESS_MS) {
    logger.warn('dropping a late scheduled event', { scheduledAt: event.time, lateMs: now - scheduledAt });
    return { skipped: 'late event' };
  }
  const { deployment: d, store: s } = await deps();
  logger.appendKeys({ sentinel: d.sentinelId });
  // This bundle and the shipped configuration file, with the environment: what a deploy changes.
  generation ??= deploymentGeneration(
    process.env,
    [fileURLToPath(import.meta.url), process.env.SENTINEL_CONFIG_FILE ?? ''].filter((f) => f !== ''),
  );
  const runner = new SentinelRunner({
    sentinelId: d.sentinelId,
    config: d.config,
    store: s,
    probeFactory: createRedisProbe,
    controlFactory: createRedisControl,
    log: powertoolsLog,
    invocationId: context.awsRequestId,
    stopAt: now + context.getRemainingTimeInMillis() - HANDOVER_MARGIN_MS,
    handoverWindowMs: HANDOVER_WINDOW_MS,
    generation,
    onEvent: (event, _sentinelId, epoch) => recorder?.record(event, epoch),
  });
  const report = await runner.run();
  if (report.end === 'holder-running') return { skipped: 'holder-running', report };
  // The container is frozen once the handler returns: give queued events their chance first.
  await recorder?.flush(EVENT_FLUSH_MS);
  return { report };
}

export const handler = middy<Partial<ScheduledEvent>, SentinelInvocationResult, Error, Context>(
  runSentinel,
).use(injectLambdaContext(logger, { clearState: true }));
