/**
 * The requests DynamoStore sends, each written once: the conditional write (a failed condition is a
 * result, anything else a StoreUnavailableError that names the operation), the change counter after a
 * master record write, and the paginated, strongly consistent reads.
 *
 * On a failed condition DynamoDB can return the item as it is (ReturnValuesOnConditionCheckFailure
 * ALL_OLD), which tells a loser who won without a second read. dynalite ignores that option, so when the
 * error carries no item we fall back to a consistent GetItem.
 *
 * The change counter (ports.ts) is incremented by a second request once a record write has returned:
 * awaited, so that it has landed when the caller moves on (a Lambda handler that returned right after
 * a write would be frozen before a request left in the background). The failover's own writes are the
 * exception (`countsAsChange: 'deferred'`): a failover is a chain of writes, and waiting for each one's
 * increment put a second round trip into every step between the kill and the switch. Their increments
 * are tracked instead, and `settle()` waits for them: the failover runner and the sentinel loop call it
 * before they end, so nothing is left for a frozen container. After a write that failed in a way that
 * leaves its outcome unknown, it is sent without waiting: the store is in trouble then, and the caller
 * should hear so at once. A failed increment is not an error of the write: readers tolerate a lost one
 * by contract.
 */
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
import { StoreUnavailableError } from '../../ports.js';
import { isConditionFailure } from './client.js';
import { expressionParts, FILTER, KEY_CONDITION, LITERALS, UPDATE } from './expressions.js';
import { ATTR, ITEM_KIND, type Item, type ItemKey, keys } from './schema.js';

/** BatchGetItem takes at most 100 keys per request. */
const BATCH_GET_MAX_KEYS = 100;
/**
 * Keys DynamoDB leaves unprocessed in a batch (throttling, response size) are asked for again, with a
 * doubling pause, this many times; then the read fails like any other (StoreUnavailableError).
 */
const UNPROCESSED_KEYS_RETRIES = 4;
const UNPROCESSED_KEYS_FIRST_PAUSE_MS = 25;

/** What a conditional write may be told to do besides writing. */
interface WriteOptions {
  /** Names the request in errors. */
  readonly operation: string;
  readonly key: ItemKey;
  /** Condition and expressions' values by name (`:x` → values.x); LITERALS are always available. */
  readonly values?: Readonly<Record<string, unknown>>;
  /**
   * On a failed condition, the item as it is: DynamoDB returns it with the error (ALL_OLD), else it is
   * read again (consistent GetItem). Without this, a failed condition is only `ok: false`.
   */
  readonly currentOnConflict?: boolean;
  /**
   * A write of a master record: followed by an increment of the change counter (see the header), which
   * the write waits for (`true`) or leaves in flight for `settle()` (`'deferred'`).
   */
  readonly countsAsChange?: boolean | 'deferred';
}

export interface ConditionalUpdate extends WriteOptions {
  readonly condition: string;
  readonly update: string;
  /** The item after (ALL_NEW) or before (ALL_OLD) a write that succeeded, as `attributes`. */
  readonly returnValues?: 'ALL_NEW' | 'ALL_OLD';
}

export interface ConditionalPut extends WriteOptions {
  readonly item: Item;
  readonly condition: string;
}

/**
 * A conditional write's outcome. `current` is the item as it was when the condition failed (with
 * `currentOnConflict`; undefined when there is none).
 */
export type WriteOutcome =
  | { readonly ok: true; readonly attributes: Item | undefined }
  | { readonly ok: false; readonly current: Item | undefined };

export class DynamoTable {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /** Increments sent and not yet answered (see the header). */
  readonly #pendingIncrements = new Set<Promise<void>>();

  /** Resolves once every increment sent so far has landed or failed; never rejects. */
  async settle(): Promise<void> {
    while (this.#pendingIncrements.size > 0) await Promise.all(this.#pendingIncrements);
  }

  /** One conditional UpdateItem. */
  async update(request: ConditionalUpdate): Promise<WriteOutcome> {
    const { condition, update } = request;
    return this.#write(request, () =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: request.key,
          ConditionExpression: condition,
          UpdateExpression: update,
          ...expressionParts([condition, update], { ...LITERALS, ...request.values }),
          ...(request.returnValues ? { ReturnValues: request.returnValues } : {}),
          ...(request.currentOnConflict ? { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } : {}),
        }),
      ),
    );
  }

  /** One conditional PutItem (the key is the item's own). */
  async put(request: ConditionalPut): Promise<WriteOutcome> {
    const { condition } = request;
    return this.#write(request, () =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: request.item,
          ConditionExpression: condition,
          ...expressionParts([condition], { ...LITERALS, ...request.values }),
          ...(request.currentOnConflict ? { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } : {}),
        }),
      ),
    );
  }

  /** An unconditional PutItem. */
  async putAlways(operation: string, item: Item): Promise<void> {
    await this.#call(operation, () =>
      this.client.send(new PutCommand({ TableName: this.tableName, Item: item })),
    );
  }

  /** Deletes the item that `item` (as read) is. */
  async delete(operation: string, item: Item): Promise<void> {
    await this.#call(operation, () =>
      this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { [ATTR.pk]: item[ATTR.pk], [ATTR.sk]: item[ATTR.sk] },
        }),
      ),
    );
  }

  async get(operation: string, key: ItemKey): Promise<Item | undefined> {
    const output = await this.#call(operation, () =>
      this.client.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true })),
    );
    return output.Item;
  }

  /** The attributes a write returned; a write asked for them, so none is a store failure. */
  returned(operation: string, outcome: { readonly attributes: Item | undefined }): Item {
    if (outcome.attributes === undefined) {
      throw new StoreUnavailableError(`DynamoDB ${operation} on ${this.tableName} returned no attributes`);
    }
    return outcome.attributes;
  }

  /** Consistent reads of many items, in batches sent together; absent items are simply not returned. */
  async batchGet(operation: string, itemKeys: readonly ItemKey[]): Promise<Item[]> {
    const batches: ItemKey[][] = [];
    for (let i = 0; i < itemKeys.length; i += BATCH_GET_MAX_KEYS)
      batches.push(itemKeys.slice(i, i + BATCH_GET_MAX_KEYS));
    const results = await Promise.all(batches.map((batch) => this.#batchGetOnce(operation, batch)));
    return results.flat();
  }

  /** Every item of partition `pk` whose sort key starts with `skPrefix` (consistent Query, every page). */
  async queryPrefix(operation: string, pk: string, skPrefix: string): Promise<Item[]> {
    return this.#query(operation, KEY_CONDITION.partitionWithPrefix, { pk, skPrefix });
  }

  /** Every item of partition `pk` (consistent Query, every page). */
  async queryPartition(operation: string, pk: string): Promise<Item[]> {
    return this.#query(operation, KEY_CONDITION.partition, { pk });
  }

  #query(
    operation: string,
    keyCondition: string,
    values: Readonly<Record<string, unknown>>,
  ): Promise<Item[]> {
    return this.#pages(operation, (startKey) =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: keyCondition,
          ...expressionParts([keyCondition], values),
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      ),
    );
  }

  /** Every item with sort key `sk` (consistent Scan, every page). */
  async scanSortKey(operation: string, sk: string): Promise<Item[]> {
    return this.#pages(operation, (startKey) =>
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
  }

  // -------------------------------------------------------------------------------------------------------

  /**
   * Runs one conditional write. A failed condition is `ok: false` with the item as it is when asked for;
   * a master record write that did not fail its condition is counted (see the header): a write that
   * failed otherwise may have landed, so it is counted too, since a spurious increment only makes
   * readers look once more.
   */
  async #write<T extends { Attributes?: Item }>(
    options: WriteOptions,
    send: () => Promise<T>,
  ): Promise<WriteOutcome> {
    let output: T;
    try {
      output = await send();
    } catch (error) {
      if (!isConditionFailure(error)) {
        if (options.countsAsChange) this.#incrementInBackground();
        throw this.#unavailable(options.operation, error);
      }
      if (!options.currentOnConflict) return { ok: false, current: undefined };
      let current: Item | undefined;
      try {
        // The document client does not translate errors, so the item is in wire format.
        current = error.Item === undefined ? undefined : unmarshall(error.Item);
      } catch (unmarshallError) {
        throw this.#unavailable(options.operation, unmarshallError);
      }
      return {
        ok: false,
        current: current ?? (await this.get(`${options.operation} (re-read after conflict)`, options.key)),
      };
    }
    if (options.countsAsChange === 'deferred') this.#incrementInBackground();
    else if (options.countsAsChange) await this.#incrementChanges();
    return { ok: true, attributes: output.Attributes };
  }

  #incrementInBackground(): void {
    const sent = this.#incrementChanges().finally(() => this.#pendingIncrements.delete(sent));
    this.#pendingIncrements.add(sent);
  }

  /** Never rejects: a failed increment is a lost one, which readers tolerate (ports.ts). */
  async #incrementChanges(): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.changes(),
          UpdateExpression: UPDATE.incrementChanges,
          ...expressionParts([UPDATE.incrementChanges], { ...LITERALS, kind: ITEM_KIND.masterChanges }),
        }),
      );
    } catch {
      // Lost: the write it counts has succeeded, and readers re-read every record now and then anyway.
    }
  }

  /** Runs one request; any failure becomes a StoreUnavailableError that names the operation. */
  async #call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw this.#unavailable(operation, error);
    }
  }

  async #batchGetOnce(operation: string, batch: readonly ItemKey[]): Promise<Item[]> {
    const items: Item[] = [];
    let pending: readonly Item[] = batch.map((key) => ({ [ATTR.pk]: key.pk, [ATTR.sk]: key.sk }));
    for (let retry = 0; ; retry += 1) {
      const output = await this.#call(operation, () =>
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

  /** Every page of a Query or Scan, from the first. */
  async #pages(
    operation: string,
    page: (startKey: Item | undefined) => Promise<{ Items?: Item[]; LastEvaluatedKey?: Item }>,
  ): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const output = await this.#call(operation, () => page(startKey));
      items.push(...(output.Items ?? []));
      startKey = output.LastEvaluatedKey;
    } while (startKey !== undefined);
    return items;
  }

  #unavailable(operation: string, error: unknown): StoreUnavailableError {
    if (error instanceof StoreUnavailableError) return error;
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return new StoreUnavailableError(`DynamoDB ${operation} on table ${this.tableName} failed: ${detail}`, {
      cause: error,
    });
  }
}
