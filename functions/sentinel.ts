/**
 * The sentinel function. Invoked every minute by its schedule. One invocation (the holder) probes for its
 * whole timeout (15 minutes); the invocations that arrive meanwhile find it running in the sentinel's loop
 * lease and return at once, until the holder enters its hand-over window: the next one then takes over,
 * resuming from the holder's observations (lib/runtime/sentinel.ts). One long holder instead of one per
 * minute: the per-minute invocations cost a lease read and a few milliseconds each.
 */

import { fileURLToPath } from 'node:url';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { createDynamoClient } from '../lib/adapters/dynamodb/client.js';
import { DynamoEventLog } from '../lib/adapters/dynamodb/eventLog.js';
import { DynamoStore } from '../lib/adapters/dynamodb/store.js';
import { createRedisControl } from '../lib/adapters/redis/control.js';
import { createRedisProbe } from '../lib/adapters/redis/probe.js';
import { EventRecorder, secretsOf } from '../lib/eventLog.js';
import { deploymentGeneration } from '../lib/runtime/generation.js';
import {
  readDeploymentWithPasswords,
  readSentinelDeployment,
  type SentinelDeployment,
} from '../lib/runtime/lambdaConfig.js';
import {
  DEADLINE_MARGIN_MS,
  lambdaLogger,
  logTo,
  onceUntilFailure,
  withLambdaLogger,
} from '../lib/runtime/lambdaHandler.js';
import { logDroppedEvent } from '../lib/runtime/log.js';
import { type RunReport, SentinelRunner } from '../lib/runtime/sentinel.js';

/**
 * Stop probing this long before the Lambda deadline: a second to save the hand-over state and release
 * the lease, then the deadline margin every handler keeps, for the events.
 */
export const HANDOVER_MARGIN_MS = 1_000 + DEADLINE_MARGIN_MS;
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

const logger = lambdaLogger('sentinel');
const log = logTo(logger);

let generation: string | undefined;
let dynamo: ReturnType<typeof createDynamoClient> | undefined;
let store: DynamoStore | undefined;
let recorder: EventRecorder | undefined;

/**
 * The configuration, with the Redis passwords from SSM when AUTH_PASS_PARAMETER_PATH is set, read at
 * the first invocation. A failure fails this invocation with a clear error and is not kept: the next
 * minute's invocation in this container tries again.
 */
const deployment = onceUntilFailure(() =>
  readDeploymentWithPasswords(readSentinelDeployment, process.env, log),
);

/** Read once per container: a bad configuration fails the first invocation with a clear error. */
async function deps(): Promise<{ deployment: SentinelDeployment; store: DynamoStore }> {
  const d = await deployment();
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
    onDrop: logDroppedEvent(log, secretsOf(d.config)),
  });
  return { deployment: d, store };
}

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
    log: log,
    invocationId: context.awsRequestId,
    stopAt: now + context.getRemainingTimeInMillis() - HANDOVER_MARGIN_MS,
    handoverWindowMs: HANDOVER_WINDOW_MS,
    generation,
    onEvent: (event, _sentinelId, epoch) => recorder?.record(event, epoch),
  });
  const report = await runner.run();
  if (report.end === 'holder-running') return { skipped: 'holder-running', report };
  // The container is frozen once the handler returns: give queued events their chance first, for the
  // whole deadline margin (the lease is handed over already).
  await recorder?.flush(DEADLINE_MARGIN_MS);
  return { report };
}

export const handler = withLambdaLogger(runSentinel, logger);
