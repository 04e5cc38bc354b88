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
 * Exactly-once is not on offer from a stream plus SNS; this is at least once, with duplicates made rare,
 * and an action counts as done only once AWS accepted it. Two kinds of marker items guard each action
 * (NotifyMarkers in lib/eventLog.ts):
 *
 * - per event, a "done" marker (`NOTIFIED#<event id>` / `<action>`): read with one consistent Query BEFORE
 *   the actions, written AFTER each one succeeded. A crash (or a failed marker write) between an action and
 *   its marker means a redelivery repeats it; writing the marker first would lose it instead.
 * - per alert (the same fact from the three sentinels: alertKey) and action, a claim: pending while an
 *   event does the action, sent once it succeeded (confirm), released when it failed. A copy from another
 *   sentinel skips an action only when the claim was SENT within ALERT_DEDUP_WINDOW_MS. A released claim,
 *   or a pending one whose holder's invocation is over (holdUntil: that invocation's deadline plus
 *   CLAIM_HOLD_MARGIN_MS), never stops it. So when one copy fails until Lambda gives up on it (to the
 *   dead-letter queue), the next copy still alerts; and a retry of the failed copy claims again. A live
 *   pending claim of another event (two invocations at once; not expected, see below) is waited for, at
 *   most until this invocation's own deadline, and the record is retried if it is still pending then.
 * An SNS FIFO topic's deduplication would close the crash window, but FIFO topics deliver only to SQS, not
 * to email or Lambda subscribers, so the standard topic and this caveat it is.
 *
 * Ordering and partial failures: a stream batch is ordered (all events share one partition, so one shard,
 * in write order), and with parallelizationFactor 1 one invocation at a time handles it. The three copies
 * of a fact are handled one after the other, so a copy only ever meets a claim that was confirmed, was
 * released, or was left pending by an invocation that ended without finishing. Records are handled one
 * by one; at the first failure the handler stops and reports that record and every later one in
 * `batchItemFailures` (itemIdentifier = the record's dynamodb.SequenceNumber, as Lambda requires for
 * streams) — Lambda checkpoints before the first reported record and redelivers from there, so later
 * events are never handled before an earlier one that failed. Only when Lambda gives up on the failed
 * record (after the retries, or past the maximum record age) do the later records go on, and the claims
 * above make sure the other sentinels' copies among them still alert. Already-handled records of a
 * redelivered batch find their markers and are not published again. A malformed event record is reported
 * the same way (not thrown), so it ends in the on-failure destination after the retries instead of
 * blocking the shard forever.
 *
 * Expected event source mapping (serverless.yml / infra): functionResponseType ReportBatchItemFailures,
 * startingPosition LATEST, batchSize 10, maximumRetryAttempts 10, maximumRecordAgeInSeconds 3600,
 * bisectBatchOnFunctionError true, destinations.onFailure an SQS queue (the DLQ), and a filter
 * `{"eventName":["INSERT"],"dynamodb":{"NewImage":{"kind":{"S":["event"]}}}}` so the function is not even
 * invoked for votes and leases (the handler ignores them anyway). docs/alerts.md has the details.
 */

import type { Logger } from '@aws-lambda-powertools/logger';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { Route53Client } from '@aws-sdk/client-route-53';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type {
  Context,
  DynamoDBBatchItemFailure,
  DynamoDBBatchResponse,
  DynamoDBRecord,
  DynamoDBStreamEvent,
} from 'aws-lambda';
import {
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
  redactSecrets,
  redactText,
} from '../lib/eventLog.js';
import { DEADLINE_MARGIN_MS, lambdaLogger, withLambdaLogger } from '../lib/runtime/lambdaHandler.js';

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
  /** How the handler waits for another event's pending claim (tests advance a fake clock). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Added to the invocation's deadline for the holdUntil of its pending claims: the clocks of two notifier
 * containers may differ a little, and a claim must not lapse while its holder can still be publishing.
 */
export const CLAIM_HOLD_MARGIN_MS = 5_000;
/** How often a wait for another event's pending claim asks again. */
export const CLAIM_POLL_MS = 500;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const notifyLogger = (): Logger => lambdaLogger('notify');

type Outcome = { readonly status: 'ignored'; readonly why: string } | { readonly status: 'handled' };

class MalformedRecordError extends Error {
  override readonly name = 'MalformedRecordError';
}

/** Another event's claim on the same alert stayed pending until this invocation had to stop waiting. */
class AlertClaimPendingError extends Error {
  override readonly name = 'AlertClaimPendingError';
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

  /**
   * Claims `action` of this alert for this event (see the header). Resolves true when this event is to do
   * it, false when it was done already; waits while another event's pending claim is live, and throws
   * (the record is then retried) if it would have to wait past this invocation's deadline.
   */
  async function claimAction(action: string, record: EventRecord, deadline: number): Promise<boolean> {
    const d = deps();
    const now = d.now ?? Date.now;
    const key = alertKey(record);
    for (;;) {
      const at = now();
      const claim = await d.markers.claim({
        key,
        action,
        eventId: record.id,
        at: record.at,
        windowMs: ALERT_DEDUP_WINDOW_MS,
        now: at,
        holdUntil: deadline + CLAIM_HOLD_MARGIN_MS,
      });
      if (claim.status === 'claimed') return true;
      const fields = { eventId: record.id, event: record.type, master: record.master, action, by: claim.by };
      if (claim.status === 'sent') {
        logger().info(
          claim.by === record.id
            ? 'already done, skipped'
            : 'the same alert was raised by another sentinel; not repeated',
          fields,
        );
        return false;
      }
      // Another invocation is doing it right now: its outcome decides (sent: skip; released: ours).
      const wait = Math.min(CLAIM_POLL_MS, claim.until - at + 1);
      // The wait stops at the deadline margin, leaving time to report the record.
      if (at + wait > deadline - DEADLINE_MARGIN_MS) {
        throw new AlertClaimPendingError(
          `${action} of this alert is pending for event ${claim.by} until ${new Date(claim.until).toISOString()}; retry`,
        );
      }
      logger().info('the same alert is being sent for another event; waiting for its outcome', fields);
      await (d.sleep ?? sleep)(wait);
    }
  }

  async function act(
    action: string,
    done: ReadonlySet<string>,
    record: EventRecord,
    deadline: number,
    run: () => Promise<void>,
  ): Promise<void> {
    if (done.has(action)) {
      logger().info('already done, skipped', { eventId: record.id, action });
      return;
    }
    if (!(await claimAction(action, record, deadline))) return;
    const d = deps();
    const held = { key: alertKey(record), action, eventId: record.id, at: record.at };
    try {
      await run();
    } catch (error) {
      // Released, the claim lets the next copy (this record's retry, or another sentinel's event) do it
      // at once; if the release is lost, the claim lapses at this invocation's deadline anyway.
      try {
        await d.markers.release(held);
      } catch (releaseError) {
        logger().warn('action failed and its claim was not released; it lapses at the deadline', {
          eventId: record.id,
          action,
          error: errorText(releaseError),
        });
      }
      throw error;
    }
    const [confirmed, marked] = await Promise.allSettled([
      d.markers.confirm(held),
      d.markers.mark(record.id, action, (d.now ?? Date.now)()),
    ]);
    // The action happened: reporting the record as failed would repeat it for sure. A claim left pending
    // or a missing marker only repeats it if a copy or a redelivery comes.
    if (confirmed.status === 'rejected' || confirmed.value === false) {
      logger().warn('action done but its claim was not confirmed; another copy of the alert may repeat it', {
        eventId: record.id,
        action,
        ...(confirmed.status === 'rejected' ? { error: errorText(confirmed.reason) } : { takenOver: true }),
      });
    }
    if (marked.status === 'rejected') {
      logger().warn('action done but its marker was not written; a redelivery would repeat it', {
        eventId: record.id,
        action,
        error: errorText(marked.reason),
      });
    }
  }

  async function handleEvent(stored: EventRecord, deadline: number): Promise<void> {
    const d = deps();
    // Defence in depth: an item written without redaction must not reach a message, a log or a claim.
    const record = redactSecrets(stored, []);
    const publish = shouldNotify(record, d.filter ?? DEFAULT_FILTER);
    const change = record.type === '+switch-master' ? switchMasterOf(record) : undefined;
    if (change && !change.ok) {
      logger().error('malformed +switch-master payload: no Route 53 or EventBridge update', {
        eventId: record.id,
        payload: record.payload,
        reason: change.reason,
      });
    }
    const route53 = change?.ok ? d.switchMaster?.route53 : undefined;
    const eventBridge = change?.ok ? d.switchMaster?.eventBridge : undefined;
    if (!publish && !route53 && !eventBridge) {
      logger().debug('event below the notify filter', { eventId: record.id, event: record.type });
      return;
    }
    const done = await d.markers.done(record.id);
    if (publish) {
      await act(ACTION.sns, done, record, deadline, async () => {
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
      await act(ACTION.route53, done, record, deadline, async () => {
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
      await act(ACTION.eventBridge, done, record, deadline, async () => {
        await putSwitchMasterEvent(eventBridge, change.value, record);
        logger().info('switch-master event sent', { eventId: record.id, bus: eventBridge.busName });
      });
    }
  }

  async function handleRecord(record: DynamoDBRecord, deadlineOf: () => number): Promise<Outcome> {
    const event = eventOfRecord(record);
    if ('ignored' in event) return { status: 'ignored', why: event.ignored };
    await handleEvent(event, deadlineOf());
    return { status: 'handled' };
  }

  async function notify(stream: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> {
    const records = stream.Records ?? [];
    // When this invocation ends at the latest: a claim it holds cannot be in progress after that. Read
    // at the first event (inside the per-record error handling, like everything that needs deps()).
    let deadline: number | undefined;
    const deadlineOf = (): number =>
      (deadline ??= (deps().now ?? Date.now)() + context.getRemainingTimeInMillis());
    let handled = 0;
    let ignored = 0;
    for (const [index, record] of records.entries()) {
      try {
        const outcome = await handleRecord(record, deadlineOf);
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
          claimPending: error instanceof AlertClaimPendingError,
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

  return withLambdaLogger(notify, log);
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
