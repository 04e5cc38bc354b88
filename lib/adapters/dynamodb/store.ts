/**
 * SentinelStore on DynamoDB. Every write named in the ports.ts contract is ONE conditional PutItem or
 * UpdateItem on one item (no transactions: dynalite, used by the local runner, has none, and none is
 * needed), sent through DynamoTable (table.ts), with its condition and update from expressions.ts. Every
 * read is strongly consistent. A failed condition is a result; anything else (network, throttling,
 * missing table, timeouts, malformed items) is a StoreUnavailableError carrying the cause.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { newMasterRecord } from '../../core/records.js';
import type { LoopLease, MasterRecord, ReplicaRecord, SentinelId, Vote } from '../../core/types.js';
import type * as port from '../../ports.js';
import { acquiredLease, claimStartState, StoreUnavailableError } from '../../ports.js';
import {
  advanceFailoverExpressions,
  CONDITION,
  NO_PENDING_REQUEST,
  SETTINGS_VERSION_IS_EXPECTED,
  UPDATE,
} from './expressions.js';
import {
  ATTR,
  failoverProgressToAttribute,
  ITEM_KIND,
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
import { type ConditionalUpdate, DynamoTable, type WriteOutcome } from './table.js';

/** A conditional update of an item whose key and operation the store names. */
type RecordWrite = Omit<ConditionalUpdate, 'operation' | 'key' | 'countsAsChange'>;

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

export class DynamoStore implements port.SentinelStore {
  readonly #table: DynamoTable;

  constructor(client: DynamoDBDocumentClient, tableName: string) {
    this.#table = new DynamoTable(client, tableName);
  }

  async ensureMaster(seed: port.MasterSeed): Promise<MasterRecord> {
    await this.#putIndexEntry('ensureMaster', seed.name);
    const record: MasterRecord = newMasterRecord(seed, 'config');
    const put = await this.#table.put({
      operation: 'ensureMaster',
      key: keys.master(seed.name),
      item: masterToItem(record),
      condition: CONDITION.absent,
      currentOnConflict: true,
      countsAsChange: true,
    });
    if (put.ok) return record;
    if (put.current === undefined) {
      // It existed a moment ago and is gone now: a concurrent remove. Let the caller retry next tick.
      throw new StoreUnavailableError(`Master "${seed.name}" was removed while ensureMaster ran`);
    }
    return masterFromItem(put.current);
  }

  async getMaster(name: string): Promise<MasterRecord | null> {
    const item = await this.#table.get('getMaster', keys.master(name));
    return item === undefined ? null : masterFromItem(item);
  }

  /**
   * One Query of the index partition, then the records (removed ones included) with consistent
   * BatchGetItem requests of up to 100 keys, sent together: a Query is billed by the size it reads,
   * a batch by the item, so 100 masters cost about as much as 100 GetItems but in one round trip.
   */
  async listMasters(): Promise<MasterRecord[]> {
    const entries = await this.#table.queryPrefix('listMasters', KEY.masterPrefix, KEY.indexPrefix);
    const names = [...new Set(entries.map((item) => String(item[ATTR.name])))];
    const items = await this.#table.batchGet('listMasters', names.map(keys.master));
    return items.map(masterFromItem).sort((a, b) => compare(a.name, b.name));
  }

  async getChangeCounter(): Promise<number | null> {
    const item = await this.#table.get('getChangeCounter', keys.changes());
    if (item === undefined) return 0;
    const value = item[ATTR.changes];
    // Not a count (a hand edit): every increment fails on it, so readers must treat every read as a change.
    return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : null;
  }

  async claimEpoch(name: string, request: port.ClaimEpochRequest): Promise<port.ClaimEpochResult> {
    const start = request.mode === 'start';
    const update = await this.#updateRecord(
      'claimEpoch',
      name,
      {
        condition: start ? CONDITION.epochIsExpectedAndIdle : CONDITION.epochIsExpectedAndLeaderGone,
        update: start ? UPDATE.claimEpochStart : UPDATE.claimEpochResume,
        values: {
          expectedEpoch: request.expectedEpoch,
          nextEpoch: request.expectedEpoch + 1,
          sentinelId: request.sentinelId,
          leaseUntil: request.leaseUntil,
          now: request.now,
          progress: request.mode === 'start' ? failoverProgressToAttribute(request.progress) : null,
          startState: request.mode === 'start' ? claimStartState(request.progress) : null,
        },
        returnValues: 'ALL_NEW',
        currentOnConflict: true,
      },
      // The claim starts a failover's chain of writes (ports.ts settle).
      'deferred',
    );
    if (update.ok) return { won: true, record: masterFromItem(this.#table.returned('claimEpoch', update)) };
    if (update.current === undefined) {
      throw new StoreUnavailableError(`claimEpoch: no record for master "${name}" (ensureMaster first)`);
    }
    return { won: false, record: masterFromItem(update.current) };
  }

  async advanceFailover(
    name: string,
    request: port.AdvanceFailoverRequest,
  ): Promise<port.AdvanceFailoverResult> {
    const { condition, update: step, fromValues } = advanceFailoverExpressions(request);
    const update = await this.#updateRecord(
      'advanceFailover',
      name,
      {
        condition,
        update: step,
        values: {
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
        },
        returnValues: 'ALL_NEW',
        currentOnConflict: true,
      },
      // A step of a failover's chain of writes (ports.ts settle).
      'deferred',
    );
    if (update.ok)
      return { ok: true, record: masterFromItem(this.#table.returned('advanceFailover', update)) };
    return { ok: false, record: update.current === undefined ? null : masterFromItem(update.current) };
  }

  async requestFailover(
    name: string,
    request: port.RequestFailoverRequest,
  ): Promise<port.RequestFailoverResult> {
    const update = await this.#updateRecord('requestFailover', name, {
      condition: NO_PENDING_REQUEST,
      update: UPDATE.requestFailover,
      values: {
        now: request.now,
        coordinated: request.coordinated === true,
        pendingBefore: request.now - (request.pendingForMs ?? 0),
      },
      currentOnConflict: true,
    });
    if (update.ok) return 'requested';
    return update.current === undefined || masterFromItem(update.current).monitored === false
      ? 'no-such-master'
      : 'in-progress';
  }

  async renewLeadership(name: string, request: port.RenewLeadershipRequest): Promise<boolean> {
    const update = await this.#updateRecord('renewLeadership', name, {
      condition: CONDITION.callerLeadsEpoch,
      update: UPDATE.renewLeadership,
      values: { ...request },
    });
    return update.ok;
  }

  async releaseLeadership(name: string, request: port.ReleaseLeadershipRequest): Promise<boolean> {
    const update = await this.#updateRecord('releaseLeadership', name, {
      condition: CONDITION.callerLeadsEpoch,
      update: UPDATE.releaseLeadership,
      values: { ...request },
    });
    return update.ok;
  }

  async monitorMaster(seed: port.MonitorSeed): Promise<'created' | 'duplicate'> {
    await this.#putIndexEntry('monitorMaster', seed.name);
    const update = await this.#updateRecord('monitorMaster', seed.name, {
      condition: CONDITION.monitorable,
      update: UPDATE.monitorMaster,
      values: {
        kind: ITEM_KIND.master,
        name: seed.name,
        host: seed.host,
        port: seed.port,
        settings: runtimeSettingsToAttribute(seed.settings),
        // A new incarnation: its origin is this MONITOR's address, whatever the old record's was.
        origin: originToAttribute({ source: 'monitor', host: seed.host, port: seed.port }),
        now: seed.now,
      },
    });
    if (!update.ok) return 'duplicate';
    await this.#forgetReplicas('monitorMaster', seed.name);
    return 'created';
  }

  async removeMaster(name: string, request: { now: number }): Promise<boolean> {
    const update = await this.#updateRecord('removeMaster', name, {
      condition: CONDITION.monitored,
      update: UPDATE.removeMaster,
      values: { now: request.now },
    });
    return update.ok;
  }

  async updateMasterSettings(
    name: string,
    request: port.UpdateMasterSettingsRequest,
  ): Promise<port.UpdateMasterSettingsResult> {
    const update = await this.#updateRecord('updateMasterSettings', name, {
      condition: SETTINGS_VERSION_IS_EXPECTED,
      update: UPDATE.updateMasterSettings,
      values: {
        expectedVersion: request.expectedVersion,
        nextVersion: request.expectedVersion + 1,
        settings: runtimeSettingsToAttribute(request.settings),
        now: request.now,
      },
      currentOnConflict: true,
    });
    if (update.ok) return 'updated';
    return update.current === undefined || !masterFromItem(update.current).monitored
      ? 'no-such-master'
      : 'conflict';
  }

  async resetMaster(name: string, request: { now: number }): Promise<boolean> {
    const update = await this.#updateRecord('resetMaster', name, {
      condition: CONDITION.monitored,
      update: UPDATE.resetMaster,
      values: { now: request.now },
    });
    if (!update.ok) return false;
    await this.#forgetReplicas('resetMaster', name);
    return true;
  }

  async putVote(vote: Vote): Promise<'written' | 'fenced'> {
    const put = await this.#table.put({
      operation: 'putVote',
      key: keys.vote(vote.master, vote.sentinelId),
      item: voteToItem(vote),
      condition: CONDITION.voteNotNewer,
      values: { token: vote.token },
    });
    return put.ok ? 'written' : 'fenced';
  }

  async listVotes(master: string): Promise<Vote[]> {
    const items = await this.#table.queryPrefix('listVotes', KEY.masterPrefix + master, KEY.votePrefix);
    return items.map(voteFromItem);
  }

  /**
   * One Query of the master's partition, which holds its record, its votes and its replicas and nothing
   * else. The replicas of a master are few and small: one read unit for the lot, as much as the GetItem
   * alone and half of the GetItem plus the Query of the votes it replaces.
   */
  async getMasterVotesReplicas(master: string): Promise<port.MasterVotesReplicas> {
    const items = await this.#table.queryPartition('getMasterVotesReplicas', KEY.masterPrefix + master);
    let record: MasterRecord | null = null;
    const votes: Vote[] = [];
    const replicas: ReplicaRecord[] = [];
    for (const item of items) {
      const sk = item[ATTR.sk];
      if (sk === KEY.recordSk) record = masterFromItem(item);
      else if (typeof sk === 'string' && sk.startsWith(KEY.votePrefix)) votes.push(voteFromItem(item));
      else if (typeof sk === 'string' && sk.startsWith(KEY.replicaPrefix))
        replicas.push(replicaFromItem(item));
    }
    return { record, votes, replicas };
  }

  async getLease(sentinelId: SentinelId): Promise<LoopLease | null> {
    const item = await this.#table.get('getLease', keys.lease(sentinelId));
    return item === undefined ? null : leaseFromItem(item);
  }

  async listLeases(): Promise<LoopLease[]> {
    const items = await this.#table.scanSortKey('listLeases', KEY.leaseSk);
    return items.map(leaseFromItem).sort((a, b) => compare(a.sentinelId, b.sentinelId));
  }

  async acquireLease(
    sentinelId: SentinelId,
    request: port.AcquireLeaseRequest,
  ): Promise<port.AcquireLeaseResult> {
    const leaseUntil = request.now + request.ttlMs;
    const update = await this.#updateLease('acquireLease', sentinelId, {
      condition: CONDITION.leaseFree,
      update: UPDATE.acquireLease,
      values: {
        kind: ITEM_KIND.lease,
        sentinelId,
        invocationId: request.invocationId,
        leaseUntil,
        now: request.now,
        handoverFrom: request.handoverFrom ?? 0,
        generation: request.generation ?? null,
      },
      // The old image is what the caller needs (handoverState); the new one follows from it exactly.
      returnValues: 'ALL_OLD',
      currentOnConflict: true,
    });
    if (update.ok) {
      const old = update.attributes;
      const previous = old === undefined ? null : leaseFromItem(old);
      return { acquired: true, lease: acquiredLease(sentinelId, request, previous), previous };
    }
    if (update.current === undefined) {
      throw new StoreUnavailableError(`acquireLease: lease of ${sentinelId} vanished while being acquired`);
    }
    return { acquired: false, current: leaseFromItem(update.current) };
  }

  async renewLease(sentinelId: SentinelId, request: port.RenewLeaseRequest): Promise<port.RenewLeaseResult> {
    const update = await this.#updateLease('renewLease', sentinelId, {
      condition: CONDITION.callerHoldsLease,
      update: UPDATE.renewLease,
      values: {
        invocationId: request.invocationId,
        token: request.token,
        leaseUntil: request.now + request.ttlMs,
        now: request.now,
        tilt: request.tilt,
        summary: request.summary,
      },
      // ALL_NEW carries handoverRequestedBy, which is how a holder learns a successor is waiting.
      returnValues: 'ALL_NEW',
      currentOnConflict: true,
    });
    if (update.ok) return { renewed: true, lease: leaseFromItem(this.#table.returned('renewLease', update)) };
    return { renewed: false, current: update.current === undefined ? null : leaseFromItem(update.current) };
  }

  async requestHandover(
    sentinelId: SentinelId,
    request: { invocationId: string },
  ): Promise<LoopLease | null> {
    const update = await this.#updateLease('requestHandover', sentinelId, {
      condition: CONDITION.present,
      update: UPDATE.requestHandover,
      values: request,
      returnValues: 'ALL_NEW',
    });
    return update.ok ? leaseFromItem(this.#table.returned('requestHandover', update)) : null;
  }

  async releaseLease(sentinelId: SentinelId, request: port.ReleaseLeaseRequest): Promise<boolean> {
    const update = await this.#updateLease('releaseLease', sentinelId, {
      condition: CONDITION.callerHoldsLease,
      update: UPDATE.releaseLease,
      values: { ...request },
    });
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
        `DynamoDB putHandoverState on table ${this.#table.tableName}: the hand-over state is ` +
          `${Math.ceil(compressed.length / 1024)} KB compressed, over the ` +
          `${HANDOVER_STATE_MAX_STORED_BYTES / 1024} KB an item can hold`,
      );
    }
    const put = await this.#table.put({
      operation: 'putHandoverState',
      key: keys.handover(sentinelId),
      item: {
        ...keys.handover(sentinelId),
        [ATTR.kind]: ITEM_KIND.handover,
        [ATTR.sentinelId]: sentinelId,
        [ATTR.token]: request.token,
        [ATTR.state]: compressed,
      },
      condition: CONDITION.handoverNotNewer,
      values: { token: request.token },
    });
    return put.ok;
  }

  async getHandoverState(sentinelId: SentinelId, request: { token: number }): Promise<string | null> {
    const item = await this.#table.get('getHandoverState', keys.handover(sentinelId));
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
    await this.#table.putAlways('upsertReplica', replicaToItem(replica));
  }

  async listReplicas(master: string): Promise<ReplicaRecord[]> {
    const items = await this.#table.queryPrefix('listReplicas', KEY.masterPrefix + master, KEY.replicaPrefix);
    return items.map(replicaFromItem);
  }

  // -------------------------------------------------------------------------------------------------------

  /**
   * A conditional update of a master record. Every one is followed by an increment of the change counter
   * (ports.ts): written here once, so no record write can forget it.
   */
  async #updateRecord(
    operation: string,
    name: string,
    write: RecordWrite,
    count: true | 'deferred' = true,
  ): Promise<WriteOutcome> {
    return this.#table.update({ ...write, operation, key: keys.master(name), countsAsChange: count });
  }

  /** Every change-counter increment sent so far has landed or failed (ports.ts). */
  settle(): Promise<void> {
    return this.#table.settle();
  }

  /** A conditional update of a sentinel's loop lease (leases do not move the change counter). */
  async #updateLease(operation: string, sentinelId: SentinelId, write: RecordWrite): Promise<WriteOutcome> {
    return this.#table.update({ ...write, operation, key: keys.lease(sentinelId) });
  }

  /**
   * Lists the master in the index. Written before the record and idempotent, so a record always has its
   * entry; an entry whose record was never written (a failure in between) is skipped by listMasters.
   */
  async #putIndexEntry(operation: string, name: string): Promise<void> {
    await this.#table.putAlways(operation, {
      ...keys.masterIndex(name),
      [ATTR.kind]: ITEM_KIND.masterIndex,
      [ATTR.name]: name,
    });
  }

  /**
   * Deletes the master's replica items (RESET, and MONITOR, which starts a new incarnation whose replicas
   * are not the old one's). Not atomic with the record: a replica seen again is simply recorded again.
   */
  async #forgetReplicas(operation: string, name: string): Promise<void> {
    const replicas = await this.#table.queryPrefix(operation, KEY.masterPrefix + name, KEY.replicaPrefix);
    for (const item of replicas) await this.#table.delete(operation, item);
  }
}

/** Code-unit order, like DynamoDB's sort-key order for the ASCII names used here. */
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
