/**
 * The single-table layout: keys, attribute names, and the translation between domain records and items.
 *
 * | kind     | pk                | sk                       | ttl (epoch seconds)    |
 * |----------|-------------------|--------------------------|------------------------|
 * | master   | MASTER#<name>     | RECORD                   | none                   |
 * | vote     | MASTER#<name>     | VOTE#<sentinelId>        | observedAt + 1 day     |
 * | replica  | MASTER#<name>     | REPLICA#<host>:<port>    | lastSeenAt + 1 day     |
 * | lease    | SENTINEL#<id>     | LEASE                    | none                   |
 * | handover | SENTINEL#<id>     | HANDOVER                 | none                   |
 * | index    | MASTER#           | INDEX#<name>             | none                   |
 * | changes  | MASTER#           | CHANGES                  | none                   |
 *
 * One partition per master, so a single consistent Query returns all its votes (or replicas). The names
 * of all masters are listed in one small partition, `MASTER#` (the empty master name, which no master
 * can have, so the permission to write master partitions covers it): listing masters is one Query, not
 * a Scan of a table that also holds 14 days of events. The same partition holds the change counter
 * (ports.ts), which every writer of a record or of the index increments: a sentinel reads that one small
 * item per heartbeat instead of every record. The hand-over state (lib/runtime/handover.ts) has its own
 * item next to the lease, gzip-compressed: the lease, rewritten at every heartbeat, stays small.
 * TTL is garbage collection only: DynamoDB deletes expired items up to days late, so every decision
 * compares observedAt / lastSeenAt / leaseUntil itself and never trusts an item to be gone.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  FAILOVER_STATES,
  type FailoverProgress,
  type FailoverState,
  type LoopLease,
  type MasterOrigin,
  type MasterRecord,
  type ReplicaReconfState,
  type ReplicaRecord,
  type RuntimeSettings,
  type Vote,
} from '../../core/types.js';
import { StoreUnavailableError } from '../../ports.js';

/** Attribute names, in one place. Expressions refer to them as `#<name>` (see expressions.ts). */
export const ATTR = {
  pk: 'pk',
  sk: 'sk',
  ttl: 'ttl',
  /** Which kind of item this is (ITEM_KIND), so stream consumers need not parse keys. */
  kind: 'kind',
  // master record
  name: 'name',
  host: 'host',
  port: 'port',
  currentEpoch: 'currentEpoch',
  configEpoch: 'configEpoch',
  leader: 'leader',
  leaderLeaseUntil: 'leaderLeaseUntil',
  failoverState: 'failoverState',
  failoverStartedAt: 'failoverStartedAt',
  /** FailoverProgress as a JSON string (or NULL): written whole by one conditional update per step. */
  failover: 'failover',
  retryNotBefore: 'retryNotBefore',
  failoverRequestedAt: 'failoverRequestedAt',
  failoverRequestCoordinated: 'failoverRequestCoordinated',
  monitored: 'monitored',
  /** RuntimeSettings as a JSON string: replaced whole by one conditional update (SENTINEL SET). */
  settings: 'settings',
  settingsVersion: 'settingsVersion',
  resetAt: 'resetAt',
  /** MasterOrigin as a JSON string: written by ensureMaster and MONITOR only. Absent in older records. */
  origin: 'origin',
  updatedAt: 'updatedAt',
  // vote
  master: 'master',
  sentinelId: 'sentinelId',
  down: 'down',
  observedAt: 'observedAt',
  token: 'token',
  invocationId: 'invocationId',
  // lease (also sentinelId, token)
  holder: 'holder',
  leaseUntil: 'leaseUntil',
  heartbeatAt: 'heartbeatAt',
  handoverRequestedBy: 'handoverRequestedBy',
  handoverFrom: 'handoverFrom',
  generation: 'generation',
  /** Written into the lease item by versions before the hand-over item existed; removed at acquire and release. */
  handoverState: 'handoverState',
  tilt: 'tilt',
  summary: 'summary',
  // replica (also master, host, port)
  runId: 'runId',
  lastSeenAt: 'lastSeenAt',
  seenBy: 'seenBy',
  /** False: the replica is `replica-announced no`. Absent in items written before it existed. */
  replicaAnnounced: 'replicaAnnounced',
  // change counter
  changes: 'changes',
  // hand-over state (also sentinelId, token): the state's JSON, gzip-compressed (a binary attribute)
  state: 'state',
} as const;

export type AttributeName = (typeof ATTR)[keyof typeof ATTR];

export const ITEM_KIND = {
  master: 'master',
  vote: 'vote',
  replica: 'replica',
  lease: 'lease',
  masterIndex: 'master-index',
  handover: 'handover',
  masterChanges: 'master-changes',
} as const;

/** Key prefixes and fixed sort keys. */
export const KEY = {
  masterPrefix: 'MASTER#',
  sentinelPrefix: 'SENTINEL#',
  recordSk: 'RECORD',
  leaseSk: 'LEASE',
  votePrefix: 'VOTE#',
  replicaPrefix: 'REPLICA#',
  /** The masters' index partition is `masterPrefix` alone; its items are `INDEX#<name>`. */
  indexPrefix: 'INDEX#',
  /** The change counter, in the index partition (not under `indexPrefix`: listing skips it). */
  changesSk: 'CHANGES',
  handoverSk: 'HANDOVER',
} as const;

/** Votes and replicas are garbage-collected a day after their timestamp (never used for correctness). */
export const GARBAGE_AFTER_SECONDS = 86_400;

/** How long createTable waits for the table to become ACTIVE. */
const TABLE_ACTIVE_TIMEOUT_MS = 60_000;
const TABLE_POLL_MS = 50;

export interface ItemKey {
  readonly pk: string;
  readonly sk: string;
}

export type Item = Record<string, unknown>;

export const keys = {
  master: (name: string): ItemKey => ({ pk: KEY.masterPrefix + name, sk: KEY.recordSk }),
  vote: (master: string, sentinelId: string): ItemKey => ({
    pk: KEY.masterPrefix + master,
    sk: KEY.votePrefix + sentinelId,
  }),
  replica: (master: string, host: string, port: number): ItemKey => ({
    pk: KEY.masterPrefix + master,
    sk: `${KEY.replicaPrefix}${host}:${port}`,
  }),
  lease: (sentinelId: string): ItemKey => ({ pk: KEY.sentinelPrefix + sentinelId, sk: KEY.leaseSk }),
  masterIndex: (name: string): ItemKey => ({ pk: KEY.masterPrefix, sk: KEY.indexPrefix + name }),
  changes: (): ItemKey => ({ pk: KEY.masterPrefix, sk: KEY.changesSk }),
  handover: (sentinelId: string): ItemKey => ({ pk: KEY.sentinelPrefix + sentinelId, sk: KEY.handoverSk }),
} as const;

const ttlAfter = (ms: number): number => Math.floor(ms / 1000) + GARBAGE_AFTER_SECONDS;

// ---------------------------------------------------------------------------------------------------------
// Domain → item

export function masterToItem(record: MasterRecord): Item {
  return {
    ...keys.master(record.name),
    [ATTR.kind]: ITEM_KIND.master,
    [ATTR.name]: record.name,
    [ATTR.host]: record.host,
    [ATTR.port]: record.port,
    [ATTR.currentEpoch]: record.currentEpoch,
    [ATTR.configEpoch]: record.configEpoch,
    [ATTR.leader]: record.leader,
    [ATTR.leaderLeaseUntil]: record.leaderLeaseUntil,
    [ATTR.failoverState]: record.failoverState,
    [ATTR.failoverStartedAt]: record.failoverStartedAt,
    [ATTR.failover]: record.failover === null ? null : JSON.stringify(record.failover),
    [ATTR.retryNotBefore]: record.retryNotBefore,
    [ATTR.failoverRequestedAt]: record.failoverRequestedAt,
    [ATTR.failoverRequestCoordinated]: record.failoverRequestCoordinated,
    [ATTR.monitored]: record.monitored,
    [ATTR.settings]: runtimeSettingsToAttribute(record.settings),
    [ATTR.settingsVersion]: record.settingsVersion,
    [ATTR.resetAt]: record.resetAt,
    [ATTR.origin]: originToAttribute(record.origin),
    [ATTR.updatedAt]: record.updatedAt,
  };
}

export function originToAttribute(origin: MasterOrigin | null): string | null {
  return origin === null ? null : JSON.stringify(origin);
}

export function runtimeSettingsToAttribute(settings: RuntimeSettings): string {
  return JSON.stringify(settings);
}

export function failoverProgressToAttribute(progress: FailoverProgress | null): string | null {
  return progress === null ? null : JSON.stringify(progress);
}

export function voteToItem(vote: Vote): Item {
  return {
    ...keys.vote(vote.master, vote.sentinelId),
    [ATTR.kind]: ITEM_KIND.vote,
    [ATTR.ttl]: ttlAfter(vote.observedAt),
    [ATTR.master]: vote.master,
    [ATTR.sentinelId]: vote.sentinelId,
    [ATTR.down]: vote.down,
    [ATTR.observedAt]: vote.observedAt,
    [ATTR.configEpoch]: vote.configEpoch,
    [ATTR.token]: vote.token,
    [ATTR.invocationId]: vote.invocationId,
  };
}

export function replicaToItem(replica: ReplicaRecord): Item {
  return {
    ...keys.replica(replica.master, replica.host, replica.port),
    [ATTR.kind]: ITEM_KIND.replica,
    [ATTR.ttl]: ttlAfter(replica.lastSeenAt),
    [ATTR.master]: replica.master,
    [ATTR.host]: replica.host,
    [ATTR.port]: replica.port,
    [ATTR.runId]: replica.runId,
    [ATTR.lastSeenAt]: replica.lastSeenAt,
    [ATTR.seenBy]: replica.seenBy,
    ...(replica.announced === undefined ? {} : { [ATTR.replicaAnnounced]: replica.announced }),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Item → domain, validated: whatever is in the table (a hand edit, an older version, another tool) must
// turn into a StoreUnavailableError that says what is wrong, never a TypeError deep in the core.

const RUNTIME_NUMBER_FIELDS: ReadonlySet<string> = new Set([
  'quorum',
  'downAfterMs',
  'failoverTimeoutMs',
  'parallelSyncs',
  'masterRebootDownAfterPeriodMs',
] satisfies Array<keyof RuntimeSettings>);

class ItemReader {
  constructor(
    private readonly item: Item,
    private readonly what: string,
  ) {}

  private fail(attr: string, expected: string): never {
    const value = this.item[attr];
    const got = value === undefined ? 'nothing' : `${JSON.stringify(value) ?? String(value)}`;
    throw new StoreUnavailableError(
      `Malformed ${this.what} item (pk=${String(this.item[ATTR.pk])}, sk=${String(this.item[ATTR.sk])}): ` +
        `attribute "${attr}" should be ${expected}, got ${got.slice(0, 80)}`,
    );
  }

  string(attr: AttributeName): string {
    const value = this.item[attr];
    return typeof value === 'string' ? value : this.fail(attr, 'a string');
  }

  stringOrNull(attr: AttributeName): string | null {
    const value = this.item[attr];
    // Absent is read as null: removeUndefinedValues never writes one, but an older writer might not have.
    if (value === null || value === undefined) return null;
    return typeof value === 'string' ? value : this.fail(attr, 'a string or null');
  }

  number(attr: AttributeName): number {
    const value = this.item[attr];
    return typeof value === 'number' && Number.isFinite(value) ? value : this.fail(attr, 'a number');
  }

  numberOrNull(attr: AttributeName): number | null {
    const value = this.item[attr];
    if (value === null || value === undefined) return null;
    return typeof value === 'number' && Number.isFinite(value) ? value : this.fail(attr, 'a number or null');
  }

  boolean(attr: AttributeName): boolean {
    const value = this.item[attr];
    return typeof value === 'boolean' ? value : this.fail(attr, 'a boolean');
  }

  // Advisory attributes: what no safety decision rests on. One of the wrong type reads as absent rather
  // than failing the whole item, so a bad value written into the table by hand cannot keep a sentinel
  // from ever reading (and so acquiring) its lease again; the next write of the attribute repairs it.

  /** A string, or null for anything else (absent, null, or of the wrong type). */
  advisoryString(attr: AttributeName): string | null {
    const value = this.item[attr];
    return typeof value === 'string' ? value : null;
  }

  /** True only for a stored true. */
  advisoryFlag(attr: AttributeName): boolean {
    return this.item[attr] === true;
  }

  /** A time in ms, or 0 (long ago) for anything else. */
  advisoryTime(attr: AttributeName): number {
    const value = this.item[attr];
    return typeof value === 'number' && Number.isFinite(value) ? value : 0;
  }

  failoverProgress(attr: AttributeName): FailoverProgress | null {
    const text = this.stringOrNull(attr);
    if (text === null) return null;
    try {
      return parseFailoverProgress(JSON.parse(text));
    } catch (error) {
      return this.fail(
        attr,
        `a failover progress JSON (${error instanceof Error ? error.message : String(error)})`,
      );
    }
  }

  runtimeSettings(attr: AttributeName): RuntimeSettings {
    const text = this.stringOrNull(attr);
    if (text === null) return {};
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return this.fail(attr, 'run-time settings as JSON');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      return this.fail(attr, 'run-time settings as a JSON object');
    const settings: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(value)) {
      if (key === 'renamedCommands') {
        const valid =
          typeof field === 'object' &&
          field !== null &&
          Object.values(field).every((name) => typeof name === 'string');
        if (!valid) return this.fail(attr, 'renamedCommands as a map of strings');
        settings[key] = field;
      } else if (RUNTIME_NUMBER_FIELDS.has(key)) {
        if (typeof field !== 'number' || !Number.isSafeInteger(field) || field < 0)
          return this.fail(attr, `${key} as a whole number`);
        settings[key] = field;
      }
      // Unknown keys (a newer writer) are ignored: they cannot change what this version does.
    }
    return settings as RuntimeSettings;
  }

  /**
   * Checked field by field: it decides which address a configured password may be sent to. Absent or
   * null in records written before it existed (lib/core/authBinding.ts says how those are treated).
   */
  origin(attr: AttributeName): MasterOrigin | null {
    const text = this.stringOrNull(attr);
    if (text === null) return null;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return this.fail(attr, 'an origin as JSON');
    }
    if (
      !isRecord(value) ||
      (value.source !== 'config' && value.source !== 'monitor') ||
      typeof value.host !== 'string' ||
      typeof value.port !== 'number' ||
      !Number.isSafeInteger(value.port)
    ) {
      return this.fail(attr, 'an origin {source: config|monitor, host, port}');
    }
    return { source: value.source, host: value.host, port: value.port };
  }

  failoverState(attr: AttributeName): FailoverState {
    const value = this.item[attr];
    return typeof value === 'string' && (FAILOVER_STATES as readonly string[]).includes(value)
      ? (value as FailoverState)
      : this.fail(attr, `one of ${FAILOVER_STATES.join('|')}`);
  }
}

export function masterFromItem(item: Item): MasterRecord {
  const r = new ItemReader(item, ITEM_KIND.master);
  return {
    name: r.string(ATTR.name),
    host: r.string(ATTR.host),
    port: r.number(ATTR.port),
    currentEpoch: r.number(ATTR.currentEpoch),
    configEpoch: r.number(ATTR.configEpoch),
    leader: r.stringOrNull(ATTR.leader),
    leaderLeaseUntil: r.number(ATTR.leaderLeaseUntil),
    failoverState: r.failoverState(ATTR.failoverState),
    failoverStartedAt: r.numberOrNull(ATTR.failoverStartedAt),
    failover: r.failoverProgress(ATTR.failover),
    // Absent in records written before failovers existed: no retry delay.
    retryNotBefore: r.numberOrNull(ATTR.retryNotBefore) ?? 0,
    failoverRequestedAt: r.numberOrNull(ATTR.failoverRequestedAt),
    failoverRequestCoordinated: item[ATTR.failoverRequestCoordinated] === true,
    // Absent in records written before run-time configuration existed: monitored, as configured.
    monitored: item[ATTR.monitored] !== false,
    settings: r.runtimeSettings(ATTR.settings),
    settingsVersion: r.numberOrNull(ATTR.settingsVersion) ?? 0,
    resetAt: r.numberOrNull(ATTR.resetAt),
    origin: r.origin(ATTR.origin),
    updatedAt: r.number(ATTR.updatedAt),
  };
}

export function voteFromItem(item: Item): Vote {
  const r = new ItemReader(item, ITEM_KIND.vote);
  return {
    master: r.string(ATTR.master),
    sentinelId: r.string(ATTR.sentinelId),
    down: r.boolean(ATTR.down),
    observedAt: r.number(ATTR.observedAt),
    // Absent in votes written before votes carried it: they were about configuration 0.
    configEpoch: r.numberOrNull(ATTR.configEpoch) ?? 0,
    token: r.number(ATTR.token),
    invocationId: r.string(ATTR.invocationId),
  };
}

export function replicaFromItem(item: Item): ReplicaRecord {
  const r = new ItemReader(item, ITEM_KIND.replica);
  return {
    master: r.string(ATTR.master),
    host: r.string(ATTR.host),
    port: r.number(ATTR.port),
    runId: r.stringOrNull(ATTR.runId),
    lastSeenAt: r.number(ATTR.lastSeenAt),
    seenBy: r.string(ATTR.seenBy),
    // Only decides what a view lists: hidden only for a stored false; absent (an item of an older
    // version) or anything else reads as announced (the field left out, as the record type says).
    ...(item[ATTR.replicaAnnounced] === false ? { announced: false } : {}),
  };
}

/**
 * Who holds the lease, its fencing token and its expiry decide who may write: they are checked strictly,
 * and an item with any of them malformed is refused (StoreUnavailableError) until someone repairs it. The
 * rest only informs: a malformed one reads as absent. A hand-over request that is not a string is no request (the successor
 * waits for the lease to expire), TILT that is not a boolean is not TILT and a summary that is not a
 * string is none (both are for operators only; the next heartbeat rewrites them), and a heartbeat that
 * is not a number is long ago (the sentinel looks stale in SENTINEL SENTINELS and CKQUORUM until its
 * next heartbeat). A `handoverState` attribute written by an older version is ignored.
 */
export function leaseFromItem(item: Item): LoopLease {
  const r = new ItemReader(item, ITEM_KIND.lease);
  return {
    sentinelId: r.string(ATTR.sentinelId),
    holder: r.stringOrNull(ATTR.holder),
    token: r.number(ATTR.token),
    leaseUntil: r.number(ATTR.leaseUntil),
    heartbeatAt: r.advisoryTime(ATTR.heartbeatAt),
    handoverRequestedBy: r.advisoryString(ATTR.handoverRequestedBy),
    handoverFrom: r.advisoryTime(ATTR.handoverFrom),
    generation: r.advisoryString(ATTR.generation),
    tilt: r.advisoryFlag(ATTR.tilt),
    summary: r.advisoryString(ATTR.summary),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Table creation (tests, the local runner; in AWS the table comes from infra/).

export interface CreateTableOptions {
  /** Enable a NEW_AND_OLD_IMAGES stream (the notifier and failover runner consume it). */
  readonly stream?: boolean;
}

type AnyDynamoClient = DynamoDBClient | DynamoDBDocumentClient;

/**
 * Control-plane commands through either client. The document client forwards low-level commands
 * unchanged at runtime; only its send() typing is limited to the document commands.
 */
const lowLevel = (client: AnyDynamoClient): DynamoDBClient => client as DynamoDBClient;

const errorName = (error: unknown): string | undefined => (error instanceof Error ? error.name : undefined);

/**
 * Create the table if it does not exist (on-demand billing), wait until ACTIVE, enable TTL on `ttl`.
 * Idempotent. dynalite has no TTL API (UnknownOperationException): TTL is only garbage collection, so
 * that is tolerated.
 */
export async function createTable(
  client: AnyDynamoClient,
  tableName: string,
  options: CreateTableOptions = {},
): Promise<void> {
  const dynamo = lowLevel(client);
  try {
    await dynamo.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [
          { AttributeName: ATTR.pk, AttributeType: 'S' },
          { AttributeName: ATTR.sk, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: ATTR.pk, KeyType: 'HASH' },
          { AttributeName: ATTR.sk, KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        ...(options.stream
          ? { StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } }
          : {}),
      }),
    );
  } catch (error) {
    if (errorName(error) !== 'ResourceInUseException') throw error;
  }
  await waitUntilActive(dynamo, tableName);
  await enableTtl(dynamo, tableName);
}

async function waitUntilActive(client: DynamoDBClient, tableName: string): Promise<void> {
  const deadline = Date.now() + TABLE_ACTIVE_TIMEOUT_MS;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') return;
    if (Date.now() > deadline) {
      throw new Error(
        `Table ${tableName} not ACTIVE after ${TABLE_ACTIVE_TIMEOUT_MS} ms (${Table?.TableStatus})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, TABLE_POLL_MS));
  }
}

async function enableTtl(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    const { TimeToLiveDescription } = await client.send(
      new DescribeTimeToLiveCommand({ TableName: tableName }),
    );
    const status = TimeToLiveDescription?.TimeToLiveStatus;
    // Enabling twice is a ValidationException, so look first.
    if (status === 'ENABLED' || status === 'ENABLING') return;
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: ATTR.ttl, Enabled: true },
      }),
    );
  } catch (error) {
    if (errorName(error) !== 'UnknownOperationException') throw error;
  }
}

// ---------------------------------------------------------------------------------------------------------
// FailoverProgress: checked field by field, since it decides which replica gets promoted.

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function address(value: unknown, what: string): { host: string; port: number } {
  if (!isRecord(value) || typeof value.host !== 'string' || typeof value.port !== 'number') {
    throw new Error(`${what} should be {host, port}`);
  }
  return { host: value.host, port: value.port };
}

const RECONF_STATES: readonly string[] = ['pending', 'sent', 'inprog', 'done'];

export function parseFailoverProgress(value: unknown): FailoverProgress {
  if (!isRecord(value)) throw new Error('not an object');
  const rejected = Array.isArray(value.rejected) ? value.rejected : [];
  const replicas = Array.isArray(value.replicas) ? value.replicas : [];
  return {
    oldMaster: address(value.oldMaster, 'oldMaster'),
    promoted:
      value.promoted === null || value.promoted === undefined ? null : address(value.promoted, 'promoted'),
    rejected: rejected.map((r, i) => {
      if (!isRecord(r) || typeof r.reason !== 'string')
        throw new Error(`rejected[${i}] should have a reason`);
      return { ...address(r, `rejected[${i}]`), reason: r.reason };
    }),
    promotionSentAt: typeof value.promotionSentAt === 'number' ? value.promotionSentAt : null,
    replicas: replicas.map((r, i) => {
      if (!isRecord(r) || typeof r.state !== 'string' || !RECONF_STATES.includes(r.state)) {
        throw new Error(`replicas[${i}] should have a state`);
      }
      return {
        ...address(r, `replicas[${i}]`),
        state: r.state as ReplicaReconfState,
        sentAt: typeof r.sentAt === 'number' ? r.sentAt : null,
        note: typeof r.note === 'string' ? r.note : null,
      };
    }),
    forced: value.forced === true,
    coordinated: value.coordinated === true,
  };
}
