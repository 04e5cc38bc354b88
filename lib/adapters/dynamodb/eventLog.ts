/**
 * The event log on the single table (lib/eventLog.ts has the contract), and the notifier's
 * "already done" markers.
 *
 * | kind            | pk                    | sk                                        | ttl              |
 * |-----------------|-----------------------|-------------------------------------------|------------------|
 * | event           | EVENTS                | EVENT#<at:15>#<sentinelId>#<seq:16>        | at + 14 days     |
 * | event-by-master | EVENTS#<master>       | EVENT#<at:15>#<sentinelId>#<seq:16>        | at + 14 days     |
 * | notified        | NOTIFIED#<event id>   | <action> (sns, route53, eventbridge)      | done + 2 days    |
 * | alert-claim     | ALERTED#<sha256(key)> | <action>                                  | event + 2 days   |
 *
 * Why these keys. Both reads the API needs — the newest events of one master, and the newest events of
 * all masters — are then one Query each (descending on sk, `sk >= EVENT#<since>`), never a Scan:
 * - every event is one `event` item in the single `EVENTS` partition. Sentinel events are rare (a few per
 *   failover, a `+monitor` per cold start, TILT): even a storm of failovers on many masters stays
 *   orders of magnitude below one partition's 1,000 writes per second, and TTL bounds the partition to
 *   14 days of events. One partition also keeps the stream in write order for all events, which is what
 *   the notifier relies on (a `+switch-master` is never applied before an older one). A day-bucketed key
 *   (`EVENTS#<date>`) would spread writes nobody needs spread, and make "newest N" a loop over days.
 * - an event about a master also gets an `event-by-master` copy under `EVENTS#<master>`, so a master's
 *   history is a Query of its own partition, not a filtered read of everyone's. (The table's GSIs belong
 *   to the deployment; this layout needs none.) `+tilt`/`-tilt` have no master and no copy.
 * - events live outside `MASTER#<name>` so removing or resetting a master never touches its history.
 * Only `event` items are published by functions/notify.ts (it ignores every other kind, including the
 * copy), so each event is notified once.
 *
 * Atomicity of append: two conditional puts (`attribute_not_exists(pk)`), copy first, `event` item last.
 * A put whose item already exists is a no-op, so a retry of the same record (same id, same keys) finishes
 * what a failed attempt started and never writes anything twice. Because the `event` item is written last,
 * an event that was notified is also in its master's history. (No transaction: dynalite, which the local
 * runner embeds, has none, and none is needed.)
 */
import { createHash } from 'node:crypto';
import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { SentinelEvent } from '../../core/types.js';
import {
  type AlertClaim,
  type AlertClaimHeld,
  type AlertClaimRequest,
  type EventLog,
  type EventQuery,
  type EventRecord,
  effectiveLimit,
  eventSortKey,
  eventSortKeyFrom,
  isExpired,
  type NotifyMarkers,
  redactSecrets,
} from '../../eventLog.js';
import { StoreUnavailableError } from '../../ports.js';
import { isConditionFailure } from './client.js';

/** Attribute names of event and marker items (the shared ones — pk, sk, kind, ttl — match schema.ts). */
export const EVENT_ATTR = {
  pk: 'pk',
  sk: 'sk',
  kind: 'kind',
  ttl: 'ttl',
  id: 'id',
  type: 'type',
  level: 'level',
  payload: 'payload',
  master: 'master',
  at: 'at',
  sentinelId: 'sentinelId',
  seq: 'seq',
  epoch: 'epoch',
  action: 'action',
  doneAt: 'doneAt',
  /** Alert claims: the readable alert key, the claim state, and until when a pending claim holds. */
  alertKey: 'alertKey',
  state: 'state',
  holdUntil: 'holdUntil',
} as const;

export const EVENT_KIND = {
  /** The one item per event; the stream's INSERT of it is what gets notified. */
  event: 'event',
  /** The copy in the master's own partition (history by master). Never notified. */
  byMaster: 'event-by-master',
  /** The notifier's marker: action done for this event. */
  notified: 'notified',
  /** The notifier's claim on an alert several sentinels raise alike, per action (NotifyMarkers.claim). */
  alertClaim: 'alert-claim',
} as const;

export const EVENT_KEY = {
  allPk: 'EVENTS',
  masterPkPrefix: 'EVENTS#',
  notifiedPkPrefix: 'NOTIFIED#',
  alertPkPrefix: 'ALERTED#',
  alertSk: 'CLAIM',
} as const;

/** Markers outlive any redelivery: a DynamoDB stream keeps records for 24 hours. */
export const MARKER_RETENTION_SECONDS = 2 * 86_400;

const LEVELS: ReadonlySet<string> = new Set<SentinelEvent['level']>(['warning', 'notice', 'verbose']);

type Item = Record<string, unknown>;

export const eventKeys = {
  all: (record: EventRecord) => ({ pk: EVENT_KEY.allPk, sk: eventSortKey(record) }),
  byMaster: (record: EventRecord & { master: string }) => ({
    pk: EVENT_KEY.masterPkPrefix + record.master,
    sk: eventSortKey(record),
  }),
  notified: (eventId: string, action: string) => ({ pk: EVENT_KEY.notifiedPkPrefix + eventId, sk: action }),
} as const;

function recordAttributes(record: EventRecord): Item {
  return {
    [EVENT_ATTR.ttl]: record.ttl,
    [EVENT_ATTR.id]: record.id,
    [EVENT_ATTR.type]: record.type,
    [EVENT_ATTR.level]: record.level,
    [EVENT_ATTR.payload]: record.payload,
    [EVENT_ATTR.master]: record.master,
    [EVENT_ATTR.at]: record.at,
    [EVENT_ATTR.sentinelId]: record.sentinelId,
    [EVENT_ATTR.seq]: record.seq,
    [EVENT_ATTR.epoch]: record.epoch,
  };
}

export function eventToItem(record: EventRecord): Item {
  return { ...eventKeys.all(record), [EVENT_ATTR.kind]: EVENT_KIND.event, ...recordAttributes(record) };
}

export function eventCopyToItem(record: EventRecord & { master: string }): Item {
  return {
    ...eventKeys.byMaster(record),
    [EVENT_ATTR.kind]: EVENT_KIND.byMaster,
    ...recordAttributes(record),
  };
}

export class MalformedEventItemError extends StoreUnavailableError {}

/**
 * An `event` or `event-by-master` item (plain JS values: a document-client item, or a stream image after
 * unmarshall) → EventRecord, validated. Whatever is wrong is named in the error.
 */
export function eventFromItem(item: Item): EventRecord {
  const fail = (attr: string, expected: string): never => {
    const value = item[attr];
    const got = value === undefined ? 'nothing' : (JSON.stringify(value) ?? String(value));
    throw new MalformedEventItemError(
      `Malformed event item (pk=${String(item[EVENT_ATTR.pk])}, sk=${String(item[EVENT_ATTR.sk])}): ` +
        `attribute "${attr}" should be ${expected}, got ${got.slice(0, 80)}`,
    );
  };
  const string = (attr: string): string => {
    const v = item[attr];
    return typeof v === 'string' && v.length > 0 ? v : fail(attr, 'a non-empty string');
  };
  const integer = (attr: string): number => {
    const v = item[attr];
    return typeof v === 'number' && Number.isSafeInteger(v) ? v : fail(attr, 'an integer');
  };
  const orNull = <T>(attr: string, read: (attr: string) => T): T | null =>
    item[attr] === null || item[attr] === undefined ? null : read(attr);
  const level = string(EVENT_ATTR.level);
  if (!LEVELS.has(level)) fail(EVENT_ATTR.level, 'warning, notice or verbose');
  const payload = item[EVENT_ATTR.payload];
  if (typeof payload !== 'string') fail(EVENT_ATTR.payload, 'a string');
  return {
    id: string(EVENT_ATTR.id),
    type: string(EVENT_ATTR.type),
    level: level as SentinelEvent['level'],
    payload: payload as string,
    master: orNull(EVENT_ATTR.master, string),
    at: integer(EVENT_ATTR.at),
    sentinelId: string(EVENT_ATTR.sentinelId),
    seq: integer(EVENT_ATTR.seq),
    epoch: orNull(EVENT_ATTR.epoch, integer),
    ttl: integer(EVENT_ATTR.ttl),
  };
}

const CONDITION_ABSENT = 'attribute_not_exists(#pk)';

function unavailable(operation: string, error: unknown): StoreUnavailableError {
  if (error instanceof StoreUnavailableError) return error;
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new StoreUnavailableError(`${operation} failed: ${message}`, { cause: error });
}

/** A PutItem's condition, with its attribute names and values. */
interface PutCondition {
  readonly expression: string;
  readonly names: Record<string, string>;
  readonly values?: Record<string, unknown>;
}

/**
 * One PutItem: true when written, false when its condition failed. Any other failure is a
 * StoreUnavailableError that names `operation`.
 */
async function putItem(
  client: DynamoDBDocumentClient,
  tableName: string,
  operation: string,
  item: Item,
  condition?: PutCondition,
): Promise<boolean> {
  try {
    await client.send(
      new PutCommand({
        TableName: tableName,
        Item: item,
        ...(condition === undefined
          ? {}
          : {
              ConditionExpression: condition.expression,
              ExpressionAttributeNames: condition.names,
              ...(condition.values === undefined ? {} : { ExpressionAttributeValues: condition.values }),
            }),
      }),
    );
    return true;
  } catch (error) {
    if (condition !== undefined && isConditionFailure(error)) return false;
    throw unavailable(operation, error);
  }
}

export interface DynamoEventLogOptions {
  /** auth-pass values (and any other secret) to hide before anything is stored. */
  readonly secrets?: readonly string[];
  /** Clock for filtering expired records (TTL deletion lags by up to days). */
  readonly now?: () => number;
}

export class DynamoEventLog implements EventLog {
  readonly #secrets: readonly string[];
  readonly #now: () => number;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: DynamoEventLogOptions = {},
  ) {
    this.#secrets = options.secrets ?? [];
    this.#now = options.now ?? Date.now;
  }

  async append(record: EventRecord): Promise<void> {
    const safe = redactSecrets(record, this.#secrets);
    // Copy first, the notified `event` item last (see the header).
    if (safe.master !== null) await this.#putIfAbsent(eventCopyToItem({ ...safe, master: safe.master }));
    await this.#putIfAbsent(eventToItem(safe));
  }

  async list(query: EventQuery): Promise<EventRecord[]> {
    const limit = effectiveLimit(query.limit);
    const pk = query.master === undefined ? EVENT_KEY.allPk : EVENT_KEY.masterPkPrefix + query.master;
    const from = eventSortKeyFrom(query.since ?? 0);
    const now = this.#now();
    const out: EventRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      let page: { Items?: Item[]; LastEvaluatedKey?: Record<string, unknown> };
      try {
        page = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: '#pk = :pk AND #sk >= :from',
            ExpressionAttributeNames: { '#pk': EVENT_ATTR.pk, '#sk': EVENT_ATTR.sk },
            ExpressionAttributeValues: { ':pk': pk, ':from': from },
            ScanIndexForward: false,
            ConsistentRead: true,
            Limit: limit - out.length,
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        );
      } catch (error) {
        throw unavailable('list events', error);
      }
      for (const item of page.Items ?? []) {
        const record = eventFromItem(item);
        // Newest first and ttl grows with at: the first expired record means all the rest are too.
        if (isExpired(record, now)) return out;
        out.push(record);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined && out.length < limit);
    return out;
  }

  /** A put whose item exists already is a retry of the same record: nothing to do. */
  async #putIfAbsent(item: Item): Promise<void> {
    await putItem(this.client, this.tableName, 'append event', item, {
      expression: CONDITION_ABSENT,
      names: { '#pk': EVENT_ATTR.pk },
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Notifier markers

/** The claim states of NotifyMarkers (lib/eventLog.ts). */
export const CLAIM_STATE = { pending: 'pending', sent: 'sent', released: 'released' } as const;

/**
 * The claim's partition: `ALERTED#<sha256 of the alert key>`. Hashed, so a long master name or payload
 * can never push the key past DynamoDB's 2,048-byte partition key limit (which would fail every attempt
 * of that record and lose the alert). The readable key is kept in the item's `alertKey` attribute.
 */
export function alertClaimPk(key: string): string {
  return EVENT_KEY.alertPkPrefix + createHash('sha256').update(key, 'utf8').digest('hex');
}

export class DynamoNotifyMarkers implements NotifyMarkers {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async done(eventId: string): Promise<Set<string>> {
    const actions = new Set<string>();
    try {
      for (const item of await this.#query(EVENT_KEY.notifiedPkPrefix + eventId)) {
        const sk = item[EVENT_ATTR.sk];
        if (typeof sk === 'string') actions.add(sk);
      }
    } catch (error) {
      throw unavailable('read notify markers', error);
    }
    return actions;
  }

  async claim(request: AlertClaimRequest): Promise<AlertClaim> {
    // The write failed on the claim as it was; the read tells why. If the claim changed in between
    // (its holder confirmed or released it), the write is tried once more.
    for (let attempt = 1; ; attempt++) {
      const claimed = await putItem(
        this.client,
        this.tableName,
        'claim alert',
        { ...claimItem(request, CLAIM_STATE.pending), [EVENT_ATTR.holdUntil]: request.holdUntil },
        {
          // Nobody's; this event's own and not sent; or another event's that was released, lapsed
          // (pending past its holdUntil) or is about an older fact (outside the window).
          expression:
            'attribute_not_exists(#pk) OR (#id = :id AND #state <> :sent) OR (#id <> :id AND ' +
            '(#state = :released OR (#state = :pending AND #until < :now) OR #at < :cutoff))',
          names: {
            '#pk': EVENT_ATTR.pk,
            '#id': EVENT_ATTR.id,
            '#state': EVENT_ATTR.state,
            '#until': EVENT_ATTR.holdUntil,
            '#at': EVENT_ATTR.at,
          },
          values: {
            ':id': request.eventId,
            ':sent': CLAIM_STATE.sent,
            ':released': CLAIM_STATE.released,
            ':pending': CLAIM_STATE.pending,
            ':now': request.now,
            ':cutoff': request.at - request.windowMs,
          },
        },
      );
      if (claimed) return { status: 'claimed' };
      // Who holds it, read back with the Query the role already has (no GetItem, no ALL_OLD return).
      let held: Item | undefined;
      try {
        held = (await this.#query(alertClaimPk(request.key), request.action))[0];
      } catch (error) {
        throw unavailable('read alert claim', error);
      }
      const by = held?.[EVENT_ATTR.id];
      const state = held?.[EVENT_ATTR.state];
      if (typeof by === 'string' && state === CLAIM_STATE.sent) return { status: 'sent', by };
      const until = held?.[EVENT_ATTR.holdUntil];
      if (typeof by === 'string' && state === CLAIM_STATE.pending && typeof until === 'number') {
        if (by !== request.eventId && until >= request.now) return { status: 'pending', by, until };
      }
      if (attempt >= 2) {
        throw new StoreUnavailableError(
          `claim alert: the claim on ${request.action} changed while it was read; retry`,
        );
      }
    }
  }

  /** False when the claim is no longer this event's (taken over meanwhile). */
  async confirm(claim: AlertClaimHeld): Promise<boolean> {
    return putItem(this.client, this.tableName, 'confirm alert claim', claimItem(claim, CLAIM_STATE.sent), {
      expression: '#id = :id',
      names: { '#id': EVENT_ATTR.id },
      values: { ':id': claim.eventId },
    });
  }

  /** A claim taken over meanwhile is not this event's to release: then nothing is written. */
  async release(claim: AlertClaimHeld): Promise<void> {
    await putItem(
      this.client,
      this.tableName,
      'release alert claim',
      claimItem(claim, CLAIM_STATE.released),
      {
        expression: '#id = :id AND #state = :pending',
        names: { '#id': EVENT_ATTR.id, '#state': EVENT_ATTR.state },
        values: { ':id': claim.eventId, ':pending': CLAIM_STATE.pending },
      },
    );
  }

  async mark(eventId: string, action: string, now: number): Promise<void> {
    await putItem(this.client, this.tableName, 'write notify marker', {
      ...eventKeys.notified(eventId, action),
      [EVENT_ATTR.kind]: EVENT_KIND.notified,
      [EVENT_ATTR.id]: eventId,
      [EVENT_ATTR.action]: action,
      [EVENT_ATTR.doneAt]: now,
      [EVENT_ATTR.ttl]: Math.floor(now / 1000) + MARKER_RETENTION_SECONDS,
    });
  }

  /** Every item of one partition (or the one with sort key `sk`), strongly consistent. */
  async #query(pk: string, sk?: string): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: sk === undefined ? '#pk = :pk' : '#pk = :pk AND #sk = :sk',
          ExpressionAttributeNames: {
            '#pk': EVENT_ATTR.pk,
            ...(sk === undefined ? {} : { '#sk': EVENT_ATTR.sk }),
          },
          ExpressionAttributeValues: { ':pk': pk, ...(sk === undefined ? {} : { ':sk': sk }) },
          ConsistentRead: true,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return items;
  }
}

/** A claim item. The readable key is kept for people (the partition key is its hash). */
function claimItem(claim: AlertClaimHeld, state: string): Item {
  return {
    [EVENT_ATTR.pk]: alertClaimPk(claim.key),
    [EVENT_ATTR.sk]: claim.action,
    [EVENT_ATTR.kind]: EVENT_KIND.alertClaim,
    [EVENT_ATTR.alertKey]: claim.key,
    [EVENT_ATTR.id]: claim.eventId,
    [EVENT_ATTR.state]: state,
    [EVENT_ATTR.at]: claim.at,
    [EVENT_ATTR.ttl]: Math.floor(claim.at / 1000) + MARKER_RETENTION_SECONDS,
  };
}
