/**
 * The store's conditions and updates in DynamoDB's expression language: the atomicity contract of
 * lib/ports.ts, written in DynamoDB's words. `#x` is attribute x (see ATTR in schema.ts), `:x` a value;
 * expressionParts derives both maps from the expressions themselves.
 */
import type { AdvanceFailoverRequest } from '../../ports.js';
import { ATTR } from './schema.js';

/** Condition fragments, named after what they guarantee. */
export const CONDITION = {
  /** The item does not exist yet (ensureMaster: the recorded master wins over the config). */
  absent: `attribute_not_exists(#${ATTR.pk})`,
  /** The item exists (requestHandover). */
  present: `attribute_exists(#${ATTR.pk})`,
  /**
   * A new failover may start only when none is in progress, and only from the epoch the claimer saw:
   * exactly one claim per epoch can pass.
   */
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

/**
 * A manual failover may be requested only for a monitored master with no failover in progress and no
 * request pending that was recorded at or after :pendingBefore (requestFailoverAllowed in lib/ports.ts).
 */
export const NO_PENDING_REQUEST =
  `${CONDITION.monitored} AND #${ATTR.failoverState} = :none AND (attribute_not_exists(#${ATTR.failoverRequestedAt}) ` +
  `OR attribute_type(#${ATTR.failoverRequestedAt}, :nullType) OR #${ATTR.failoverRequestedAt} < :pendingBefore)`;

/**
 * SENTINEL SET's version check. Records written before run-time settings existed have no version: that
 * is version 0.
 */
export const SETTINGS_VERSION_IS_EXPECTED = `${CONDITION.monitored} AND (#${ATTR.settingsVersion} = :expectedVersion OR (attribute_not_exists(#${ATTR.settingsVersion}) AND :expectedVersion = :zero))`;

export const UPDATE = {
  claimEpochStart:
    `SET #${ATTR.currentEpoch} = :nextEpoch, #${ATTR.leader} = :sentinelId, ` +
    `#${ATTR.leaderLeaseUntil} = :leaseUntil, #${ATTR.failoverState} = :startState, ` +
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

/** A failover step: the fence (epoch, leader, from-state) and the attributes the step sets. */
export function advanceFailoverExpressions(request: AdvanceFailoverRequest): {
  readonly condition: string;
  readonly update: string;
  /** The `:from<i>` values of the condition; the others come from the request. */
  readonly fromValues: Record<string, string>;
} {
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
  return { condition, update: `SET ${sets.join(', ')}`, fromValues };
}

export const KEY_CONDITION = {
  partition: `#${ATTR.pk} = :pk`,
  partitionWithPrefix: `#${ATTR.pk} = :pk AND begins_with(#${ATTR.sk}, :skPrefix)`,
} as const;

export const FILTER = {
  sortKeyIs: `#${ATTR.sk} = :sk`,
} as const;

/**
 * The fixed values the expressions above use, under the names they use: every request may draw on them,
 * and expressionParts sends only the ones its expressions name.
 */
export const LITERALS: Readonly<Record<string, unknown>> = {
  true: true,
  false: false,
  null: null,
  zero: 0,
  one: 1,
  minusOne: -1,
  none: 'none',
  nullType: 'NULL',
};

const KNOWN_ATTRIBUTES: ReadonlySet<string> = new Set(Object.values(ATTR));

/**
 * ExpressionAttributeNames/Values for a set of expressions. DynamoDB rejects unused names or values, so
 * both are derived from the expressions themselves: names from `#x` tokens, values picked from `values`.
 */
export function expressionParts(
  expressions: readonly string[],
  values: Readonly<Record<string, unknown>> = {},
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
