/**
 * SentinelStore on DynamoDB. Every write named in the ports.ts contract is ONE conditional PutItem or
 * UpdateItem on one item (no transactions: dynalite, used by the local runner, has none, and none is
 * needed). Every read is strongly consistent. A failed condition is a result; anything else (network,
 * throttling, missing table, timeouts, malformed items) is a StoreUnavailableError carrying the cause.
 *
 * On a failed condition DynamoDB can return the item as it is (ReturnValuesOnConditionCheckFailure
 * ALL_OLD), which tells a loser who won without a second read. dynalite ignores that option, so when the
 * error carries no item we fall back to a consistent GetItem.
 *
 * The change counter (ports.ts) is incremented by a second request once a record write has returned:
 * awaited, so that it has landed when the caller moves on (a Lambda handler that returned right after
 * a write would be frozen before a request left in the background). After a write that failed in a way
 * that leaves its outcome unknown, it is sent without waiting: the store is in trouble then, and the
 * caller should hear so at once. A failed increment is not an error of the write: readers tolerate a lost
 * one by contract.
 */
import { gunzipSync, gzipSync } from 'node:zlib';

import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { newMasterRecord } from '../../core/records.js';
import type {
  LoopLease,
  MasterRecord,
  ReplicaRecord,
  RuntimeSettings,
  SentinelId,
  Vote,
} from '../../core/types.js';
import {
  type AcquireLeaseRequest,
  type AcquireLeaseResult,
  type AdvanceFailoverRequest,
  type AdvanceFailoverResult,
  type ClaimEpochRequest,
  type ClaimEpochResult,
  type RenewLeaseResult,
  type SentinelStore,
  StoreUnavailableError,
} from '../../ports.js';
import {
  ATTR,
  failoverProgressToAttribute,
  ITEM_KIND,
  type Item,
  type ItemKey,
  KEY,
  keys,
  leaseFromItem,
  masterFromItem,
  masterToItem,
  originToAttribute,
  replicaFromItem,
  replicaToItem,
  runtimeSettingsToAttribute,
  voteFromItem,
  voteToItem,
} from './schema.js';

/**
 * Condition fragments, named after what they guarantee. `#x` is attribute x (see ATTR), `:x` a value.
 * These are the atomicity contract of ports.ts, written in DynamoDB's words.
 */
export const CONDITION = {
  /** The item does not exist yet (ensureMaster: the recorded master wins over the config). */
  absent: `attribute_not_exists(#${ATTR.pk})`,
  /** The item exists (requestHandover). */
  present: `attribute_exists(#${ATTR.pk})`,
  /** The epoch the claimer saw is still current: exactly one claim per epoch can pass. */
  epochIsExpected: `#${ATTR.currentEpoch} = :expectedEpoch`,
  /** A new failover may start only when none is in progress. */
  epochIsExpectedAndIdle: `#${ATTR.currentEpoch} = :expectedEpoch AND #${ATTR.failoverState} = :none`,
  /** A failover in progress may be taken over only once its leader's lease has expired. */
  epochIsExpectedAndLeaderGone:
    `#${ATTR.currentEpoch} = :expectedEpoch AND #${ATTR.failoverState} <> :none ` +
    `AND #${ATTR.leaderLeaseUntil} < :now`,
  /** The caller leads the given epoch. */
  callerLeadsEpoch: `#${ATTR.currentEpoch} = :epoch AND #${ATTR.leader} = :sentinelId`,
  /** Fencing: no stored vote, or the stored vote's token is not newer than the writer's. */
  voteNotNewer: `attribute_not_exists(#${ATTR.pk}) OR #${ATTR.token} <= :token`,
  /** Lease acquirable: never taken, released (holder stored as NULL), or expired. */
  leaseFree: `attribute_not_exists(#${ATTR.pk}) OR attribute_type(#${ATTR.holder}, :nullType) OR #${ATTR.leaseUntil} < :now`,
  /** No record, or a removed one (SENTINEL MONITOR may create or revive it). */
  monitorable: `attribute_not_exists(#${ATTR.pk}) OR #${ATTR.monitored} = :false`,
  /** The record exists and was not removed (records older than REMOVE have no `monitored`). */
  monitored: `attribute_exists(#${ATTR.pk}) AND (attribute_not_exists(#${ATTR.monitored}) OR #${ATTR.monitored} = :true)`,
  /** The caller still holds the lease it acquired (same invocation, same fencing token). */
  callerHoldsLease: `#${ATTR.holder} = :invocationId AND #${ATTR.token} = :token`,
  /** Hand-over state: none stored, or the stored one's lease token is not newer than the writer's. */
  handoverNotNewer: `attribute_not_exists(#${ATTR.pk}) OR #${ATTR.token} <= :token`,
} as const;

const UPDATE = {
  claimEpochStart:
    `SET #${ATTR.currentEpoch} = :nextEpoch, #${ATTR.leader} = :sentinelId, ` +
    `#${ATTR.leaderLeaseUntil} = :leaseUntil, #${ATTR.failoverState} = :selectSlave, ` +
    `#${ATTR.failoverStartedAt} = :now, #${ATTR.failover} = :progress, #${ATTR.updatedAt} = :now, ` +
    `#${ATTR.failoverRequestedAt} = :null, #${ATTR.failoverRequestCoordinated} = :false`,
  requestFailover: `SET #${ATTR.failoverRequestedAt} = :now, #${ATTR.failoverRequestCoordinated} = :coordinated`,
  // A revived record starts a new configuration: both epochs move past every epoch it had (-1 + 1 = 0
  // for a new record), so no vote about the old configuration counts and epochs never go back.
  monitorMaster:
    `SET #${ATTR.kind} = :kind, #${ATTR.name} = :name, #${ATTR.host} = :host, #${ATTR.port} = :port, ` +
    `#${ATTR.currentEpoch} = if_not_exists(#${ATTR.currentEpoch}, :minusOne) + :one, ` +
    `#${ATTR.configEpoch} = if_not_exists(#${ATTR.currentEpoch}, :minusOne) + :one, ` +
    `#${ATTR.leader} = :null, #${ATTR.leaderLeaseUntil} = :zero, #${ATTR.failoverState} = :none, ` +
    `#${ATTR.failoverStartedAt} = :null, #${ATTR.failover} = :null, #${ATTR.retryNotBefore} = :zero, ` +
    `#${ATTR.failoverRequestedAt} = :null, #${ATTR.failoverRequestCoordinated} = :false, ` +
    `#${ATTR.monitored} = :true, #${ATTR.settings} = :settings, ` +
    `#${ATTR.settingsVersion} = if_not_exists(#${ATTR.settingsVersion}, :zero) + :one, ` +
    `#${ATTR.resetAt} = :null, #${ATTR.origin} = :origin, #${ATTR.updatedAt} = :now`,
  // REMOVE and RESET end any failover, its request and its back-off; epochs and leader stay.
  removeMaster:
    `SET #${ATTR.monitored} = :false, #${ATTR.failoverState} = :none, #${ATTR.leaderLeaseUntil} = :zero, ` +
    `#${ATTR.failoverRequestedAt} = :null, #${ATTR.failoverRequestCoordinated} = :false, ` +
    `#${ATTR.retryNotBefore} = :zero, #${ATTR.updatedAt} = :now`,
  resetMaster:
    `SET #${ATTR.resetAt} = :now, #${ATTR.failoverState} = :none, #${ATTR.leaderLeaseUntil} = :zero, ` +
    `#${ATTR.failoverRequestedAt} = :null, #${ATTR.failoverRequestCoordinated} = :false, ` +
    `#${ATTR.retryNotBefore} = :zero, #${ATTR.updatedAt} = :now`,
  updateMasterSettings: `SET #${ATTR.settings} = :settings, #${ATTR.settingsVersion} = :nextVersion, #${ATTR.updatedAt} = :now`,
  claimEpochResume:
    `SET #${ATTR.currentEpoch} = :nextEpoch, #${ATTR.leader} = :sentinelId, ` +
    `#${ATTR.leaderLeaseUntil} = :leaseUntil, #${ATTR.updatedAt} = :now`,
  renewLeadership: `SET #${ATTR.leaderLeaseUntil} = :leaseUntil, #${ATTR.updatedAt} = :now`,
  // The leader stays recorded as the leader of its epoch; only its attempt and its lease end.
  releaseLeadership: `SET #${ATTR.failoverState} = :none, #${ATTR.leaderLeaseUntil} = :zero, #${ATTR.updatedAt} = :now`,
  // The token is incremented in the same write that takes the lease, so it is a fencing token.
  // The previous holder's summary stays visible to operators until the new holder writes one.
  // A hand-over state left in the lease item by an older version is removed: the lease stays small.
  acquireLease:
    `SET #${ATTR.kind} = :kind, #${ATTR.sentinelId} = :sentinelId, #${ATTR.holder} = :invocationId, ` +
    `#${ATTR.token} = if_not_exists(#${ATTR.token}, :zero) + :one, #${ATTR.leaseUntil} = :leaseUntil, ` +
    `#${ATTR.heartbeatAt} = :now, #${ATTR.handoverRequestedBy} = :null, ` +
    `#${ATTR.handoverFrom} = :handoverFrom, #${ATTR.generation} = :generation, ` +
    `#${ATTR.tilt} = :false, #${ATTR.summary} = if_not_exists(#${ATTR.summary}, :null) ` +
    `REMOVE #${ATTR.handoverState}`,
  renewLease:
    `SET #${ATTR.leaseUntil} = :leaseUntil, #${ATTR.heartbeatAt} = :now, ` +
    `#${ATTR.tilt} = :tilt, #${ATTR.summary} = :summary`,
  requestHandover: `SET #${ATTR.handoverRequestedBy} = :invocationId`,
  releaseLease:
    `SET #${ATTR.holder} = :null, #${ATTR.leaseUntil} = :now, #${ATTR.heartbeatAt} = :now ` +
    `REMOVE #${ATTR.handoverState}`,
  incrementChanges: `SET #${ATTR.kind} = :kind, #${ATTR.changes} = if_not_exists(#${ATTR.changes}, :zero) + :one`,
} as const;

const KEY_CONDITION = {
  partitionWithPrefix: `#${ATTR.pk} = :pk AND begins_with(#${ATTR.sk}, :skPrefix)`,
} as const;

const FILTER = {
  sortKeyIs: `#${ATTR.sk} = :sk`,
} as const;

const KNOWN_ATTRIBUTES: ReadonlySet<string> = new Set(Object.values(ATTR));

/**
 * ExpressionAttributeNames/Values for a set of expressions. DynamoDB rejects unused names or values, so
 * both are derived from the expressions themselves: names from `#x` tokens, values picked from `values`.
 */
function expressionParts(
  expressions: readonly string[],
  values: Record<string, unknown> = {},
): {
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
} {
  const text = expressions.join(' ');
  const names: Record<string, string> = {};
  for (const [, attr] of text.matchAll(/#(\w+)/g)) {
    if (attr === undefined || !KNOWN_ATTRIBUTES.has(attr))
      throw new Error(`Unknown attribute #${attr} in "${text}"`);
    names[`#${attr}`] = attr;
  }
  const used: Record<string, unknown> = {};
  for (const [, key] of text.matchAll(/:(\w+)/g)) {
    if (key === undefined || !(key in values)) throw new Error(`No value for :${key} in "${text}"`);
    used[`:${key}`] = values[key];
  }
  return Object.keys(used).length > 0
    ? { ExpressionAttributeNames: names, ExpressionAttributeValues: used }
    : { ExpressionAttributeNames: names };
}

type Conditional<T> =
  | { readonly ok: true; readonly output: T }
  | { readonly ok: false; readonly current?: Item };

const isConditionFailure = (error: unknown): error is Error & { Item?: Record<string, AttributeValue> } =>
  error instanceof Error && error.name === 'ConditionalCheckFailedException';

/** BatchGetItem takes at most 100 keys per request. */
const BATCH_GET_MAX_KEYS = 100;
/**
 * Keys DynamoDB leaves unprocessed in a batch (throttling, response size) are asked for again, with a
 * doubling pause, this many times; then the read fails like any other (StoreUnavailableError).
 */
const UNPROCESSED_KEYS_RETRIES = 4;
const UNPROCESSED_KEYS_FIRST_PAUSE_MS = 25;
/**
 * The hand-over item must fit DynamoDB's 400 KB item limit with its key and attribute names; a state
 * whose compressed size is over this is refused here with a message that says so.
 */
const HANDOVER_STATE_MAX_STORED_BYTES = 390 * 1024;
/**
 * A stored state is decompressed to at most this much: anyone who can write the table could store a
 * few hundred kilobytes that inflate to gigabytes. A thousand masters with two replicas each take about
 * 3 MB (about 210 KB compressed, so the item limit is reached first, near 1,800 masters).
 */
const HANDOVER_STATE_MAX_TEXT_BYTES = 8 * 1024 * 1024;
/**
 * What getHandoverState returns for a stored state it cannot decompress: text the state's parser
 * rejects (lib/runtime/handover.ts), so the successor starts fresh and logs it as a fault.
 */
const UNDECODABLE_HANDOVER_STATE = '';

export class DynamoStore implements SentinelStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async ensureMaster(seed: { name: string; host: string; port: number; now: number }): Promise<MasterRecord> {
    await this.putIndexEntry('ensureMaster', seed.name);
    const record: MasterRecord = newMasterRecord(seed, 'config');
    const put = await this.changing('ensureMaster', () =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: masterToItem(record),
          ConditionExpression: CONDITION.absent,
          ...expressionParts([CONDITION.absent]),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
    if (put.ok) return record;
    const current = await this.currentAfterConflict('ensureMaster', keys.master(seed.name), put.current);
    if (current === undefined) {
      // It existed a moment ago and is gone now: a concurrent remove. Let the caller retry next tick.
      throw new StoreUnavailableError(`Master "${seed.name}" was removed while ensureMaster ran`);
    }
    return masterFromItem(current);
  }

  async getMaster(name: string): Promise<MasterRecord | null> {
    const item = await this.getItem('getMaster', keys.master(name));
    return item === undefined ? null : masterFromItem(item);
  }

  /**
   * One Query of the index partition, then the records (removed ones included) with consistent
   * BatchGetItem requests of up to 100 keys, sent together: a Query is billed by the size it reads,
   * a batch by the item, so 100 masters cost about as much as 100 GetItems but in one round trip.
   */
  async listMasters(): Promise<MasterRecord[]> {
    const entries = await this.queryPrefix('listMasters', KEY.masterPrefix, KEY.indexPrefix);
    const names = [...new Set(entries.map((item) => String(item[ATTR.name])))];
    const items = await this.batchGet('listMasters', names.map(keys.master));
    return items.map(masterFromItem).sort((a, b) => compare(a.name, b.name));
  }

  async getChangeCounter(): Promise<number | null> {
    const item = await this.getItem('getChangeCounter', keys.changes());
    if (item === undefined) return 0;
    const value = item[ATTR.changes];
    // Not a count (a hand edit): every increment fails on it, so readers must treat every read as a change.
    return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : null;
  }

  /**
   * Lists the master in the index. Written before the record and idempotent, so a record always has its
   * entry; an entry whose record was never written (a failure in between) is skipped by listMasters.
   */
  private async putIndexEntry(operation: string, name: string): Promise<void> {
    await this.call(operation, () =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.masterIndex(name), [ATTR.kind]: ITEM_KIND.masterIndex, [ATTR.name]: name },
        }),
      ),
    );
  }

  async claimEpoch(name: string, request: ClaimEpochRequest): Promise<ClaimEpochResult> {
    const values = {
      expectedEpoch: request.expectedEpoch,
      nextEpoch: request.expectedEpoch + 1,
      sentinelId: request.sentinelId,
      leaseUntil: request.leaseUntil,
      now: request.now,
      none: 'none',
      selectSlave: 'select_slave',
      null: null,
      false: false,
      progress: request.mode === 'start' ? failoverProgressToAttribute(request.progress) : null,
    };
    const condition =
      request.mode === 'start' ? CONDITION.epochIsExpectedAndIdle : CONDITION.epochIsExpectedAndLeaderGone;
    const updateExpression = request.mode === 'start' ? UPDATE.claimEpochStart : UPDATE.claimEpochResume;
    const update = await this.changing('claimEpoch', () =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.master(name),
          ConditionExpression: condition,
          UpdateExpression: updateExpression,
          ...expressionParts([condition, updateExpression], values),
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
    if (update.ok) return { won: true, record: masterFromItem(this.attributes('claimEpoch', update.output)) };
    const current = await this.currentAfterConflict('claimEpoch', keys.master(name), update.current);
    if (current === undefined) {
      throw new StoreUnavailableError(`claimEpoch: no record for master "${name}" (ensureMaster first)`);
    }
    return { won: false, record: masterFromItem(current) };
  }

  async advanceFailover(name: string, request: AdvanceFailoverRequest): Promise<AdvanceFailoverResult> {
    const fromValues = Object.fromEntries(request.from.map((state, i) => [`from${i}`, state]));
    const condition = `${CONDITION.callerLeadsEpoch} AND #${ATTR.failoverState} IN (${request.from
      .map((_, i) => `:from${i}`)
      .join(', ')})`;
    const sets = [
      `#${ATTR.failoverState} = :to`,
      `#${ATTR.failover} = :progress`,
      `#${ATTR.leaderLeaseUntil} = :leaseUntil`,
      `#${ATTR.updatedAt} = :now`,
    ];
    if (request.switchTo) {
      sets.push(`#${ATTR.host} = :host`, `#${ATTR.port} = :port`, `#${ATTR.configEpoch} = :epoch`);
    }
    if (request.retryNotBefore !== undefined) sets.push(`#${ATTR.retryNotBefore} = :retryNotBefore`);
    const updateExpression = `SET ${sets.join(', ')}`;
    const values = {
      ...fromValues,
      epoch: request.epoch,
      sentinelId: request.sentinelId,
      to: request.to,
      progress: failoverProgressToAttribute(request.progress),
      leaseUntil: request.leaseUntil,
      now: request.now,
      host: request.switchTo?.host,
      port: request.switchTo?.port,
      retryNotBefore: request.retryNotBefore,
    };
    const update = await this.changing('advanceFailover', () =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.master(name),
          ConditionExpression: condition,
          UpdateExpression: updateExpression,
          ...expressionParts([condition, updateExpression], values),
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
    if (update.ok)
      return { ok: true, record: masterFromItem(this.attributes('advanceFailover', update.output)) };
    const current = await this.currentAfterConflict('advanceFailover', keys.master(name), update.current);
    return { ok: false, record: current === undefined ? null : masterFromItem(current) };
  }

  async requestFailover(
    name: string,
    request: { now: number; coordinated?: boolean },
  ): Promise<'requested' | 'in-progress' | 'no-such-master'> {
    const condition = `${CONDITION.monitored} AND #${ATTR.failoverState} = :none`;
    const update = await this.changing('requestFailover', () =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.master(name),
          ConditionExpression: condition,
          UpdateExpression: UPDATE.requestFailover,
          ...expressionParts([condition, UPDATE.requestFailover], {
            now: request.now,
            none: 'none',
            true: true,
            coordinated: request.coordinated === true,
          }),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
    if (update.ok) return 'requested';
    const current = await this.currentAfterConflict('requestFailover', keys.master(name), update.current);
    return current === undefined || masterFromItem(current).monitored === false
      ? 'no-such-master'
      : 'in-progress';
  }

  async renewLeadership(
    name: string,
    request: { epoch: number; sentinelId: SentinelId; leaseUntil: number; now: number },
  ): Promise<boolean> {
    const update = await this.changing('renewLeadership', () =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.master(name),
          ConditionExpression: CONDITION.callerLeadsEpoch,
          UpdateExpression: UPDATE.renewLeadership,
          ...expressionParts([CONDITION.callerLeadsEpoch, UPDATE.renewLeadership], request),
        }),
      ),
    );
    return update.ok;
  }

  async releaseLeadership(
    name: string,
    request: { epoch: number; sentinelId: SentinelId; now: number },
  ): Promise<boolean> {
    const update = await this.changing('releaseLeadership', () =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.master(name),
          ConditionExpression: CONDITION.callerLeadsEpoch,
          UpdateExpression: UPDATE.releaseLeadership,
          ...expressionParts([CONDITION.callerLeadsEpoch, UPDATE.releaseLeadership], {
            ...request,
            none: 'none',
            zero: 0,
          }),
        }),
      ),
    );
    return update.ok;
  }

  async monitorMaster(seed: {
    name: string;
    host: string;
    port: number;
    settings: RuntimeSettings;
    now: number;
  }): Promise<'created' | 'duplicate'> {
    await this.putIndexEntry('monitorMaster', seed.name);
    const update = await this.changing('monitorMaster', () =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.master(seed.name),
          ConditionExpression: CONDITION.monitorable,
          UpdateExpression: UPDATE.monitorMaster,
          ...expressionParts([CONDITION.monitorable, UPDATE.monitorMaster], {
            kind: ITEM_KIND.master,
            name: seed.name,
            host: seed.host,
            port: seed.port,
            settings: runtimeSettingsToAttribute(seed.settings),
            // A new incarnation: its origin is this MONITOR's address, whatever the old record's was.
            origin: originToAttribute({ source: 'monitor', host: seed.host, port: seed.port }),
            now: seed.now,
            minusOne: -1,
            one: 1,
            zero: 0,
            null: null,
            none: 'none',
            true: true,
            false: false,
          }),
        }),
      ),
    );
    if (!update.ok) return 'duplicate';
    await this.forgetReplicas('monitorMaster', seed.name);
    return 'created';
  }

  async removeMaster(name: string, request: { now: number }): Promise<boolean> {
    return this.updateIfMonitored('removeMaster', name, UPDATE.removeMaster, { now: request.now });
  }

  async updateMasterSettings(
    name: string,
    request: { expectedVersion: number; settings: RuntimeSettings; now: number },
  ): Promise<'updated' | 'conflict' | 'no-such-master'> {
    // Records written before run-time settings existed have no version: that is version 0.
    const condition = `${CONDITION.monitored} AND (#${ATTR.settingsVersion} = :expectedVersion OR (attribute_not_exists(#${ATTR.settingsVersion}) AND :expectedVersion = :zero))`;
    const update = await this.changing('updateMasterSettings', () =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.master(name),
          ConditionExpression: condition,
          UpdateExpression: UPDATE.updateMasterSettings,
          ...expressionParts([condition, UPDATE.updateMasterSettings], {
            expectedVersion: request.expectedVersion,
            nextVersion: request.expectedVersion + 1,
            settings: runtimeSettingsToAttribute(request.settings),
            now: request.now,
            zero: 0,
            true: true,
          }),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
    if (update.ok) return 'updated';
    const current = await this.currentAfterConflict(
      'updateMasterSettings',
      keys.master(name),
      update.current,
    );
    return current === undefined || !masterFromItem(current).monitored ? 'no-such-master' : 'conflict';
  }

  async resetMaster(name: string, request: { now: number }): Promise<boolean> {
    const reset = await this.updateIfMonitored('resetMaster', name, UPDATE.resetMaster, { now: request.now });
    if (!reset) return false;
    await this.forgetReplicas('resetMaster', name);
    return true;
  }

  /**
   * Deletes the master's replica items (RESET, and MONITOR, which starts a new incarnation whose replicas
   * are not the old one's). Not atomic with the record: a replica seen again is simply recorded again.
   */
  private async forgetReplicas(operation: string, name: string): Promise<void> {
    const replicas = await this.queryPrefix(operation, KEY.masterPrefix + name, KEY.replicaPrefix);
    for (const item of replicas) {
      await this.call(operation, () =>
        this.client.send(
          new DeleteCommand({
            TableName: this.tableName,
            Key: { [ATTR.pk]: item[ATTR.pk], [ATTR.sk]: item[ATTR.sk] },
          }),
        ),
      );
    }
  }

  /** One conditional update of a monitored master's record; false if there is none. */
  private async updateIfMonitored(
    operation: string,
    name: string,
    updateExpression: string,
    values: Record<string, unknown>,
  ): Promise<boolean> {
    const update = await this.changing(operation, () =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.master(name),
          ConditionExpression: CONDITION.monitored,
          UpdateExpression: updateExpression,
          ...expressionParts([CONDITION.monitored, updateExpression], {
            ...values,
            true: true,
            false: false,
            none: 'none',
            zero: 0,
            null: null,
          }),
        }),
      ),
    );
    return update.ok;
  }

  async putVote(vote: Vote): Promise<'written' | 'fenced'> {
    const put = await this.conditional('putVote', () =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: voteToItem(vote),
          ConditionExpression: CONDITION.voteNotNewer,
          ...expressionParts([CONDITION.voteNotNewer], { token: vote.token }),
        }),
      ),
    );
    return put.ok ? 'written' : 'fenced';
  }

  async listVotes(master: string): Promise<Vote[]> {
    const items = await this.queryPrefix('listVotes', KEY.masterPrefix + master, KEY.votePrefix);
    return items.map(voteFromItem);
  }

  async getLease(sentinelId: SentinelId): Promise<LoopLease | null> {
    const item = await this.getItem('getLease', keys.lease(sentinelId));
    return item === undefined ? null : leaseFromItem(item);
  }

  async listLeases(): Promise<LoopLease[]> {
    const items = await this.scanSortKey('listLeases', KEY.leaseSk);
    return items.map(leaseFromItem).sort((a, b) => compare(a.sentinelId, b.sentinelId));
  }

  async acquireLease(sentinelId: SentinelId, request: AcquireLeaseRequest): Promise<AcquireLeaseResult> {
    const leaseUntil = request.now + request.ttlMs;
    const values = {
      kind: ITEM_KIND.lease,
      sentinelId,
      invocationId: request.invocationId,
      leaseUntil,
      now: request.now,
      handoverFrom: request.handoverFrom ?? 0,
      generation: request.generation ?? null,
      nullType: 'NULL',
      null: null,
      zero: 0,
      one: 1,
      false: false,
    };
    const update = await this.conditional('acquireLease', () =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.lease(sentinelId),
          ConditionExpression: CONDITION.leaseFree,
          UpdateExpression: UPDATE.acquireLease,
          ...expressionParts([CONDITION.leaseFree, UPDATE.acquireLease], values),
          // The old image is what the caller needs (handoverState); the new one follows from it exactly.
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
    if (update.ok) {
      const old = update.output.Attributes;
      const previous = old === undefined ? null : leaseFromItem(old);
      const lease: LoopLease = {
        sentinelId,
        holder: request.invocationId,
        token: (previous?.token ?? 0) + 1,
        leaseUntil,
        heartbeatAt: request.now,
        handoverRequestedBy: null,
        handoverFrom: request.handoverFrom ?? 0,
        generation: request.generation ?? null,
        tilt: false,
        summary: previous?.summary ?? null,
      };
      return { acquired: true, lease, previous };
    }
    const current = await this.currentAfterConflict('acquireLease', keys.lease(sentinelId), update.current);
    if (current === undefined) {
      throw new StoreUnavailableError(`acquireLease: lease of ${sentinelId} vanished while being acquired`);
    }
    return { acquired: false, current: leaseFromItem(current) };
  }

  async renewLease(
    sentinelId: SentinelId,
    request: {
      invocationId: string;
      token: number;
      now: number;
      ttlMs: number;
      tilt: boolean;
      summary: string | null;
    },
  ): Promise<RenewLeaseResult> {
    const values = {
      invocationId: request.invocationId,
      token: request.token,
      leaseUntil: request.now + request.ttlMs,
      now: request.now,
      tilt: request.tilt,
      summary: request.summary,
    };
    const update = await this.conditional('renewLease', () =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.lease(sentinelId),
          ConditionExpression: CONDITION.callerHoldsLease,
          UpdateExpression: UPDATE.renewLease,
          ...expressionParts([CONDITION.callerHoldsLease, UPDATE.renewLease], values),
          // ALL_NEW carries handoverRequestedBy, which is how a holder learns a successor is waiting.
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
    if (update.ok)
      return { renewed: true, lease: leaseFromItem(this.attributes('renewLease', update.output)) };
    const current = await this.currentAfterConflict('renewLease', keys.lease(sentinelId), update.current);
    return { renewed: false, current: current === undefined ? null : leaseFromItem(current) };
  }

  async requestHandover(
    sentinelId: SentinelId,
    request: { invocationId: string },
  ): Promise<LoopLease | null> {
    const update = await this.conditional('requestHandover', () =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.lease(sentinelId),
          ConditionExpression: CONDITION.present,
          UpdateExpression: UPDATE.requestHandover,
          ...expressionParts([CONDITION.present, UPDATE.requestHandover], request),
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    return update.ok ? leaseFromItem(this.attributes('requestHandover', update.output)) : null;
  }

  async releaseLease(
    sentinelId: SentinelId,
    request: { invocationId: string; token: number; now: number },
  ): Promise<boolean> {
    const update = await this.conditional('releaseLease', () =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.lease(sentinelId),
          ConditionExpression: CONDITION.callerHoldsLease,
          UpdateExpression: UPDATE.releaseLease,
          ...expressionParts([CONDITION.callerHoldsLease, UPDATE.releaseLease], { ...request, null: null }),
        }),
      ),
    );
    return update.ok;
  }

  /** The state's JSON is stored gzip-compressed: it repeats the same field names for every master. */
  async putHandoverState(
    sentinelId: SentinelId,
    request: { token: number; state: string },
  ): Promise<boolean> {
    const compressed = gzipSync(Buffer.from(request.state, 'utf8'));
    if (compressed.length > HANDOVER_STATE_MAX_STORED_BYTES) {
      throw new StoreUnavailableError(
        `DynamoDB putHandoverState on table ${this.tableName}: the hand-over state is ` +
          `${Math.ceil(compressed.length / 1024)} KB compressed, over the ` +
          `${HANDOVER_STATE_MAX_STORED_BYTES / 1024} KB an item can hold`,
      );
    }
    const put = await this.conditional('putHandoverState', () =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...keys.handover(sentinelId),
            [ATTR.kind]: ITEM_KIND.handover,
            [ATTR.sentinelId]: sentinelId,
            [ATTR.token]: request.token,
            [ATTR.state]: compressed,
          },
          ConditionExpression: CONDITION.handoverNotNewer,
          ...expressionParts([CONDITION.handoverNotNewer], { token: request.token }),
        }),
      ),
    );
    return put.ok;
  }

  async getHandoverState(sentinelId: SentinelId, request: { token: number }): Promise<string | null> {
    const item = await this.getItem('getHandoverState', keys.handover(sentinelId));
    if (item === undefined || item[ATTR.token] !== request.token) return null;
    const stored = item[ATTR.state];
    if (!(stored instanceof Uint8Array)) return UNDECODABLE_HANDOVER_STATE;
    try {
      return gunzipSync(stored, { maxOutputLength: HANDOVER_STATE_MAX_TEXT_BYTES }).toString('utf8');
    } catch {
      return UNDECODABLE_HANDOVER_STATE;
    }
  }

  async upsertReplica(replica: ReplicaRecord): Promise<void> {
    await this.call('upsertReplica', () =>
      this.client.send(new PutCommand({ TableName: this.tableName, Item: replicaToItem(replica) })),
    );
  }

  async listReplicas(master: string): Promise<ReplicaRecord[]> {
    const items = await this.queryPrefix('listReplicas', KEY.masterPrefix + master, KEY.replicaPrefix);
    return items.map(replicaFromItem);
  }

  // -------------------------------------------------------------------------------------------------------

  /** Runs one request; any failure becomes a StoreUnavailableError that names the operation. */
  private async call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw this.unavailable(operation, error);
    }
  }

  /** Runs one conditional write; a failed condition is a value carrying the item as it is, if DynamoDB sent it. */
  private async conditional<T>(operation: string, run: () => Promise<T>): Promise<Conditional<T>> {
    try {
      return { ok: true, output: await run() };
    } catch (error) {
      if (!isConditionFailure(error)) throw this.unavailable(operation, error);
      try {
        // The document client does not translate errors, so the item is in wire format.
        return error.Item === undefined ? { ok: false } : { ok: false, current: unmarshall(error.Item) };
      } catch (unmarshallError) {
        throw this.unavailable(operation, unmarshallError);
      }
    }
  }

  /**
   * A conditional write of a master record: like `conditional`, then the change counter is incremented
   * unless the condition failed (see the header). A write that failed otherwise may have landed, so it
   * is counted too: a spurious increment only makes readers look once more.
   */
  private async changing<T>(operation: string, run: () => Promise<T>): Promise<Conditional<T>> {
    let result: Conditional<T>;
    try {
      result = await this.conditional(operation, run);
    } catch (error) {
      void this.incrementChanges();
      throw error;
    }
    if (result.ok) await this.incrementChanges();
    return result;
  }

  /** Never rejects: a failed increment is a lost one, which readers tolerate (ports.ts). */
  private async incrementChanges(): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.changes(),
          UpdateExpression: UPDATE.incrementChanges,
          ...expressionParts([UPDATE.incrementChanges], {
            kind: ITEM_KIND.masterChanges,
            zero: 0,
            one: 1,
          }),
        }),
      );
    } catch {
      // Lost: the write it counts has succeeded, and readers re-read every record now and then anyway.
    }
  }

  /** The item after a failed condition: from the error when DynamoDB returned it, else a consistent read. */
  private async currentAfterConflict(operation: string, key: ItemKey, fromError: Item | undefined) {
    return fromError ?? (await this.getItem(`${operation} (re-read after conflict)`, key));
  }

  private attributes(operation: string, output: { Attributes?: Item }): Item {
    if (output.Attributes === undefined) {
      throw new StoreUnavailableError(`DynamoDB ${operation} on ${this.tableName} returned no attributes`);
    }
    return output.Attributes;
  }

  private async getItem(operation: string, key: ItemKey): Promise<Item | undefined> {
    const output = await this.call(operation, () =>
      this.client.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true })),
    );
    return output.Item;
  }

  /** Consistent reads of many items, in batches sent together; absent items are simply not returned. */
  private async batchGet(operation: string, itemKeys: readonly ItemKey[]): Promise<Item[]> {
    const batches: ItemKey[][] = [];
    for (let i = 0; i < itemKeys.length; i += BATCH_GET_MAX_KEYS)
      batches.push(itemKeys.slice(i, i + BATCH_GET_MAX_KEYS));
    const results = await Promise.all(batches.map((batch) => this.batchGetOnce(operation, batch)));
    return results.flat();
  }

  private async batchGetOnce(operation: string, batch: readonly ItemKey[]): Promise<Item[]> {
    const items: Item[] = [];
    let pending: readonly Item[] = batch.map((key) => ({ [ATTR.pk]: key.pk, [ATTR.sk]: key.sk }));
    for (let retry = 0; ; retry += 1) {
      const output = await this.call(operation, () =>
        this.client.send(
          new BatchGetCommand({
            RequestItems: { [this.tableName]: { Keys: [...pending], ConsistentRead: true } },
          }),
        ),
      );
      items.push(...(output.Responses?.[this.tableName] ?? []));
      const unprocessed = output.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      if (unprocessed.length === 0) return items;
      if (retry >= UNPROCESSED_KEYS_RETRIES) {
        throw new StoreUnavailableError(
          `DynamoDB ${operation} on table ${this.tableName}: ${unprocessed.length} items still unprocessed ` +
            `after ${UNPROCESSED_KEYS_RETRIES} retries`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, UNPROCESSED_KEYS_FIRST_PAUSE_MS * 2 ** retry));
      pending = unprocessed;
    }
  }

  private async queryPrefix(operation: string, pk: string, skPrefix: string): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.call(operation, () =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: KEY_CONDITION.partitionWithPrefix,
            ...expressionParts([KEY_CONDITION.partitionWithPrefix], { pk, skPrefix }),
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return items;
  }

  private async scanSortKey(operation: string, sk: string): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.call(operation, () =>
        this.client.send(
          new ScanCommand({
            TableName: this.tableName,
            FilterExpression: FILTER.sortKeyIs,
            ...expressionParts([FILTER.sortKeyIs], { sk }),
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return items;
  }

  private unavailable(operation: string, error: unknown): StoreUnavailableError {
    if (error instanceof StoreUnavailableError) return error;
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return new StoreUnavailableError(`DynamoDB ${operation} on table ${this.tableName} failed: ${detail}`, {
      cause: error,
    });
  }
}

/** Code-unit order, like DynamoDB's sort-key order for the ASCII names used here. */
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
