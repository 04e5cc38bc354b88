/**
 * The notifier, on the table's DynamoDB stream (NEW_AND_OLD_IMAGES), outside the VPC.
 *
 * Only INSERTs of `kind: 'event'` items matter (lib/adapters/dynamodb/eventLog.ts); every other record —
 * votes, leases, the per-master copies, our own markers, MODIFY, REMOVE (TTL) — is ignored. For each event:
 *
 * 1. `sns`: publish to TOPIC_ARN when the filter lets it through (NOTIFY_MIN_LEVEL, default warning;
 *    NOTIFY_EVENTS always published; NOTIFY_EXCLUDE_EVENTS never), with message attributes event,
 *    master, level, sentinel (+ epoch, time, eventId) for subscription filter policies.
 * 2. `route53` / `eventbridge`: on `+switch-master`, when configured (lib/adapters/aws/switchMaster.ts).
 *
 * Exactly-once is not on offer from a stream plus SNS; this is at least once, with duplicates made rare:
 * each action is guarded by a marker item (`NOTIFIED#<event id>` / `<action>`). The markers are read with
 * one consistent Query BEFORE the actions and each is written AFTER its action succeeded. Writing the
 * marker first would lose the alert if the function died between marker and publish; this order can only
 * repeat it: a crash (or a failed marker write) between a publish and its marker means a redelivery
 * publishes again. An SNS FIFO topic's deduplication would close that window, but FIFO topics deliver
 * only to SQS, not to email or Lambda subscribers, so the standard topic and this caveat it is.
 *
 * Ordering and partial failures: a stream batch is ordered (all events share one partition, so one shard,
 * in write order). Records are handled one by one; at the first failure the handler stops and reports
 * that record and every later one in `batchItemFailures` (itemIdentifier = the record's
 * dynamodb.SequenceNumber, as Lambda requires for streams) — Lambda checkpoints before the first reported
 * record and redelivers from there, so later events are never handled before an earlier one that failed.
 * Already-handled records of a redelivered batch find their markers and are not published again. A
 * malformed event record is reported the same way (not thrown), so it ends in the on-failure destination
 * after the retries instead of blocking the shard forever.
 *
 * Expected event source mapping (serverless.yml / infra): functionResponseType ReportBatchItemFailures,
 * startingPosition LATEST, batchSize 10, maximumRetryAttempts 10, maximumRecordAgeInSeconds 3600,
 * bisectBatchOnFunctionError true, destinations.onFailure an SQS queue (the DLQ), and a filter
 * `{"eventName":["INSERT"],"dynamodb":{"NewImage":{"kind":{"S":["event"]}}}}` so the function is not even
 * invoked for votes and leases (the handler ignores them anyway). docs/alerts.md has the details.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { Route53Client } from '@aws-sdk/client-route-53';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import middy from '@middy/core';
import type {
  Context,
  DynamoDBBatchItemFailure,
  DynamoDBBatchResponse,
  DynamoDBRecord,
  DynamoDBStreamEvent,
} from 'aws-lambda';
import {
  ALERT_SOURCE,
  alertAttributes,
  alertBody,
  alertSubject,
  DEFAULT_FILTER,
  type NotifyFilter,
  parseEventList,
  parseLevel,
  shouldNotify,
} from '../lib/adapters/aws/alerts.js';
import {
  putSwitchMasterEvent,
  type SendsCommands,
  type SwitchMasterTargets,
  switchMasterOf,
  switchMasterTargetsFromEnv,
  upsertPrimaryRecord,
} from '../lib/adapters/aws/switchMaster.js';
import { createDynamoClient } from '../lib/adapters/dynamodb/client.js';
import {
  DynamoNotifyMarkers,
  EVENT_KIND,
  eventFromItem,
  MalformedEventItemError,
} from '../lib/adapters/dynamodb/eventLog.js';
import {
  ALERT_DEDUP_WINDOW_MS,
  alertKey,
  type EventRecord,
  type NotifyMarkers,
  redactText,
} from '../lib/eventLog.js';

export const NOTIFY_ENV = {
  topicArn: 'TOPIC_ARN',
  tableName: 'TABLE_NAME',
  minLevel: 'NOTIFY_MIN_LEVEL',
  include: 'NOTIFY_EVENTS',
  exclude: 'NOTIFY_EXCLUDE_EVENTS',
  /** Only for local tests: a DynamoDB Local or dynalite endpoint, an SNS endpoint. */
  dynamodbEndpoint: 'DYNAMODB_ENDPOINT',
  snsEndpoint: 'SNS_ENDPOINT',
} as const;

export const ACTION = { sns: 'sns', route53: 'route53', eventBridge: 'eventbridge' } as const;

export interface NotifyDeps {
  readonly sns: SendsCommands;
  readonly topicArn: string;
  readonly markers: NotifyMarkers;
  readonly filter?: NotifyFilter;
  readonly switchMaster?: SwitchMasterTargets;
  readonly now?: () => number;
}

export const notifyLogger = (): Logger =>
  new Logger({ serviceName: ALERT_SOURCE, persistentKeys: { component: 'notify' } });

type Outcome = { readonly status: 'ignored'; readonly why: string } | { readonly status: 'handled' };

class MalformedRecordError extends Error {
  override readonly name = 'MalformedRecordError';
}

/** The event of a stream record, or why the record is not one (ignored). Malformed event records throw. */
function eventOfRecord(record: DynamoDBRecord): EventRecord | { ignored: string } {
  if (record.eventName !== 'INSERT') return { ignored: `${record.eventName ?? 'unknown'} record` };
  const image = record.dynamodb?.NewImage;
  if (image === undefined) {
    throw new MalformedRecordError('INSERT without NewImage (is the stream view NEW_AND_OLD_IMAGES?)');
  }
  let item: Record<string, unknown>;
  try {
    // The stream's attribute values have the same shape as the SDK's; aws-lambda types them separately.
    item = unmarshall(image as Parameters<typeof unmarshall>[0]);
  } catch (error) {
    throw new MalformedRecordError(
      `NewImage cannot be read: ${error instanceof Error ? error.message : error}`,
    );
  }
  if (item.kind !== EVENT_KIND.event) return { ignored: `kind ${String(item.kind)}` };
  return eventFromItem(item);
}

function errorText(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return redactText(text, []);
}

/**
 * The handler. `depsOrFactory` is either the dependencies (tests) or a factory called once, at the first
 * invocation, whose result is kept for the life of the container (the default handler).
 */
export function createNotifyHandler(
  depsOrFactory: NotifyDeps | (() => NotifyDeps),
  log: Logger = notifyLogger(),
) {
  let built: NotifyDeps | undefined = typeof depsOrFactory === 'function' ? undefined : depsOrFactory;
  const deps = (): NotifyDeps => {
    built ??= (depsOrFactory as () => NotifyDeps)();
    return built;
  };
  const logger = (): Logger => log;

  async function act(
    action: string,
    done: ReadonlySet<string>,
    record: EventRecord,
    run: () => Promise<void>,
  ): Promise<void> {
    if (done.has(action)) {
      logger().info('already done, skipped', { eventId: record.id, action });
      return;
    }
    await run();
    const d = deps();
    try {
      await d.markers.mark(record.id, action, (d.now ?? Date.now)());
    } catch (error) {
      // The action happened: reporting the record as failed would repeat it for sure. Not marking only
      // repeats it if this record is redelivered (a later record of the batch fails).
      logger().warn('action done but its marker was not written; a redelivery would repeat it', {
        eventId: record.id,
        action,
        error: errorText(error),
      });
    }
  }

  async function handleEvent(record: EventRecord): Promise<void> {
    const d = deps();
    const publish = shouldNotify(record, d.filter ?? DEFAULT_FILTER);
    const change = record.type === '+switch-master' ? switchMasterOf(record) : undefined;
    if (change && !change.ok) {
      logger().error('malformed +switch-master payload: no Route 53 or EventBridge update', {
        eventId: record.id,
        payload: redactText(record.payload, []),
        reason: change.reason,
      });
    }
    const route53 = change?.ok ? d.switchMaster?.route53 : undefined;
    const eventBridge = change?.ok ? d.switchMaster?.eventBridge : undefined;
    if (!publish && !route53 && !eventBridge) {
      logger().debug('event below the notify filter', { eventId: record.id, event: record.type });
      return;
    }
    // Every sentinel raises +sdown, +odown, +switch-master… alike: alert once per fact, not per sentinel.
    // The claim comes before the actions, but a redelivery of the claiming event passes it again, so an
    // alert is never lost to a crash between claim and publish.
    if (!(await d.markers.claim(alertKey(record), record.id, record.at, ALERT_DEDUP_WINDOW_MS))) {
      logger().info('the same alert was raised by another sentinel; not repeated', {
        eventId: record.id,
        event: record.type,
        master: record.master,
      });
      return;
    }
    const done = await d.markers.done(record.id);
    if (publish) {
      await act(ACTION.sns, done, record, async () => {
        await d.sns.send(
          new PublishCommand({
            TopicArn: d.topicArn,
            Subject: alertSubject(record),
            Message: alertBody(record),
            MessageAttributes: alertAttributes(record),
          }),
        );
        logger().info('published', {
          eventId: record.id,
          event: record.type,
          master: record.master,
          level: record.level,
        });
      });
    }
    if (route53 && change?.ok) {
      await act(ACTION.route53, done, record, async () => {
        const result = await upsertPrimaryRecord(route53, change.value, record);
        if (result.ok) {
          logger().info('primary record updated', {
            eventId: record.id,
            name: result.value,
            host: change.value.newHost,
          });
        } else {
          logger().error('no Route 53 update', { eventId: record.id, reason: result.reason });
        }
      });
    }
    if (eventBridge && change?.ok) {
      await act(ACTION.eventBridge, done, record, async () => {
        await putSwitchMasterEvent(eventBridge, change.value, record);
        logger().info('switch-master event sent', { eventId: record.id, bus: eventBridge.busName });
      });
    }
  }

  async function handleRecord(record: DynamoDBRecord): Promise<Outcome> {
    const event = eventOfRecord(record);
    if ('ignored' in event) return { status: 'ignored', why: event.ignored };
    await handleEvent(event);
    return { status: 'handled' };
  }

  async function notify(stream: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
    const records = stream.Records ?? [];
    let handled = 0;
    let ignored = 0;
    for (const [index, record] of records.entries()) {
      try {
        const outcome = await handleRecord(record);
        if (outcome.status === 'ignored') ignored++;
        else handled++;
      } catch (error) {
        const failed = records.slice(index);
        const batchItemFailures: DynamoDBBatchItemFailure[] = failed.map((r) => ({
          // The stream record's sequence number: Lambda checkpoints before the lowest one reported.
          // (A record without one makes the whole batch fail, which is the right outcome for it.)
          itemIdentifier: r.dynamodb?.SequenceNumber ?? '',
        }));
        logger().error('record failed: it and the rest of the batch will be retried', {
          eventID: record.eventID,
          sequenceNumber: record.dynamodb?.SequenceNumber,
          error: errorText(error),
          malformed: error instanceof MalformedRecordError || error instanceof MalformedEventItemError,
          reported: failed.length,
          handled,
          ignored,
        });
        return { batchItemFailures };
      }
    }
    logger().debug('batch done', { records: records.length, handled, ignored });
    return { batchItemFailures: [] };
  }

  return middy<DynamoDBStreamEvent, DynamoDBBatchResponse, Error, Context>(notify).use(
    injectLambdaContext(log, { clearState: true }),
  );
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new Error(`environment variable ${name} is required`);
  return value;
}

/** The deployed function's dependencies, from its environment. Built once per container. */
export function notifyDepsFromEnv(env: NodeJS.ProcessEnv): NotifyDeps {
  const tableName = required(env, NOTIFY_ENV.tableName);
  const topicArn = required(env, NOTIFY_ENV.topicArn);
  const filter: NotifyFilter = {
    minLevel: parseLevel(env[NOTIFY_ENV.minLevel], 'warning'),
    include: parseEventList(env[NOTIFY_ENV.include], NOTIFY_ENV.include),
    exclude: parseEventList(env[NOTIFY_ENV.exclude], NOTIFY_ENV.exclude),
  };
  const snsEndpoint = env[NOTIFY_ENV.snsEndpoint]?.trim();
  const dynamo = createDynamoClient({ endpoint: env[NOTIFY_ENV.dynamodbEndpoint]?.trim() || undefined });
  return {
    sns: new SNSClient(snsEndpoint ? { endpoint: snsEndpoint } : {}),
    topicArn,
    markers: new DynamoNotifyMarkers(dynamo, tableName),
    filter,
    switchMaster: switchMasterTargetsFromEnv(env, {
      route53: () => new Route53Client({}),
      eventBridge: () => new EventBridgeClient({}),
    }),
  };
}

export const handler = createNotifyHandler(() => notifyDepsFromEnv(process.env));
