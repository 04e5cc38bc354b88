/**
 * The failover function: takes over a failover whose leader stopped renewing its lease and finishes it
 * with the same runner the sentinels use. The fast path does not involve it: the elected sentinel runs
 * its failover inline. This function is the second way to resume a failover, besides the sentinels'
 * own ticks. Invoke it directly (`{"master": "mymaster"}`), or from the table's stream, where it
 * looks at master records that have a failover in progress.
 */
import type { Context, DynamoDBStreamEvent } from 'aws-lambda';
import { createDynamoClient } from '../lib/adapters/dynamodb/client.js';
import { DynamoEventLog } from '../lib/adapters/dynamodb/eventLog.js';
import { DynamoStore } from '../lib/adapters/dynamodb/store.js';
import { createRedisControl } from '../lib/adapters/redis/control.js';
import { createRedisProbe } from '../lib/adapters/redis/probe.js';
import { formatEvent } from '../lib/core/events.js';
import { EventRecorder, secretsOf } from '../lib/eventLog.js';
import { systemClock } from '../lib/runtime/clock.js';
import { readDeployment, readDeploymentWithPasswords } from '../lib/runtime/lambdaConfig.js';
import {
  deadlineSignal,
  EVENT_FLUSH_MS,
  lambdaLogger,
  logTo,
  onceUntilFailure,
  withLambdaLogger,
} from '../lib/runtime/lambdaHandler.js';
import { logDroppedEvent } from '../lib/runtime/log.js';
import { settingsFor } from '../lib/runtime/masterSettings.js';
import { FAILOVER_FUNCTION_ID, type ResumeOutcome, resumeFailover } from '../lib/runtime/resumeFailover.js';

const logger = lambdaLogger('failover');
const log = logTo(logger);

export type FailoverEvent = { master: string } | Partial<DynamoDBStreamEvent>;

/**
 * The configuration, with the Redis passwords from SSM when AUTH_PASS_PARAMETER_PATH is set, read at
 * the first invocation and kept for the container (one SSM call, not one per stream batch). A failure is
 * not kept, so the next invocation tries SSM again.
 */
const loadDeployment = onceUntilFailure(() => readDeploymentWithPasswords(readDeployment, process.env, log));

/** Master names with a failover in progress, from a direct invocation or a stream batch. */
export function mastersToCheck(event: FailoverEvent): string[] {
  if ('master' in event && typeof event.master === 'string') return [event.master];
  const names = new Set<string>();
  for (const record of (event as Partial<DynamoDBStreamEvent>).Records ?? []) {
    const image = record.dynamodb?.NewImage;
    if (
      image?.kind?.S !== 'master' ||
      image.failoverState?.S === undefined ||
      image.failoverState.S === 'none'
    )
      continue;
    if (image.name?.S) names.add(image.name.S);
  }
  return [...names];
}

async function handle(event: FailoverEvent, context: Context): Promise<Record<string, ResumeOutcome>> {
  const deployment = await loadDeployment();
  // One DynamoDB client for the store and the event log, as in the sentinel function.
  const dynamo = createDynamoClient({ endpoint: deployment.dynamodbEndpoint });
  const store = new DynamoStore(dynamo, deployment.tableName);
  // Stopped at the deadline margin: an unfinished failover is resumed by someone else.
  const deadline = deadlineSignal(context);
  const outcomes: Record<string, ResumeOutcome> = {};
  const recorder = new EventRecorder({
    sentinelId: FAILOVER_FUNCTION_ID,
    log: new DynamoEventLog(dynamo, deployment.tableName, { secrets: secretsOf(deployment.config) }),
    // A dropped event is in no log and raises no alert: the fault line is what the SentinelFaults alarm counts.
    onDrop: logDroppedEvent(log, secretsOf(deployment.config)),
  });
  try {
    for (const name of mastersToCheck(event)) {
      // Settings as the sentinels run them: the file's (or MONITOR's defaults) with SENTINEL SET's changes.
      const settings = settingsFor(deployment.config, name, await store.getMaster(name));
      if (!settings) {
        log('warn', 'failover requested for a master that is not monitored', { master: name });
        continue;
      }
      outcomes[name] = await resumeFailover({
        store,
        settings,
        global: deployment.config.global,
        probeFactory: createRedisProbe,
        control: createRedisControl({
          timeoutMs: settings.probeTimeoutMs,
          authUser: settings.authUser,
          authPass: settings.authPass,
          tls: deployment.config.global.tls,
          renamedCommands: settings.renamedCommands,
          now: Date.now,
        }),
        clock: systemClock,
        log,
        emit: (e) => {
          log('info', formatEvent(e), { event: e.type, payload: e.payload, master: e.master });
          recorder.record(e, null);
        },
        signal: deadline.signal,
      });
    }
  } finally {
    deadline.clear();
    await recorder.flush(EVENT_FLUSH_MS);
  }
  return outcomes;
}

export const handler = withLambdaLogger(handle, logger);
