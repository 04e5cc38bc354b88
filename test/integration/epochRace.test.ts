/**
 * Three sentinels (three separate clients, as in three Lambdas) race for the same epoch, over and over,
 * against the real DynamoDB engine: each round must have exactly one winner that every loser can name.
 */
import { randomUUID } from 'node:crypto';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDynamoClient } from '../../lib/adapters/dynamodb/client.js';
import { createTable } from '../../lib/adapters/dynamodb/schema.js';
import { DynamoStore } from '../../lib/adapters/dynamodb/store.js';

const ROUNDS = 200;
const SENTINELS = ['sentinel-a', 'sentinel-b', 'sentinel-c'] as const;
const MASTER = 'race';

const PROGRESS = {
  oldMaster: { host: '10.0.0.1', port: 6379 },
  promoted: null,
  rejected: [],
  promotionSentAt: null,
  replicas: [],
  forced: false,
  coordinated: false,
};

describe('Integration: claimEpoch race on DynamoDB Local', () => {
  const tableName = `t-${randomUUID()}`;
  let clients: DynamoDBDocumentClient[];
  let stores: DynamoStore[];

  beforeAll(async () => {
    const endpoint = inject('dynamodbEndpoint');
    clients = SENTINELS.map(() => createDynamoClient({ endpoint }));
    stores = clients.map((client) => new DynamoStore(client, tableName));
    await createTable(clients[0] as DynamoDBDocumentClient, tableName);
    await stores[0]?.ensureMaster({ name: MASTER, host: '10.0.0.1', port: 6379, now: 0 });
  });

  afterAll(async () => {
    await clients[0]?.send(new DeleteTableCommand({ TableName: tableName })).catch(() => undefined);
    for (const client of clients) client.destroy();
  });

  it(`elects exactly one leader per epoch in ${ROUNDS} consecutive three-way races`, async () => {
    const wins = new Map<string, number>();
    const started = performance.now();
    for (let epoch = 0; epoch < ROUNDS; epoch++) {
      const now = 1_000 * (epoch + 1);
      const results = await Promise.all(
        stores.map((store, i) =>
          // Round 0 starts a failover; every later round takes it over from the previous winner, whose
          // lease (500 ms) has expired by then: both kinds of claim race here.
          epoch === 0
            ? store.claimEpoch(MASTER, {
                mode: 'start',
                expectedEpoch: epoch,
                sentinelId: SENTINELS[i] as string,
                leaseUntil: now + 500,
                progress: { ...PROGRESS },
                now,
              })
            : store.claimEpoch(MASTER, {
                mode: 'resume',
                expectedEpoch: epoch,
                sentinelId: SENTINELS[i] as string,
                leaseUntil: now + 500,
                now,
              }),
        ),
      );
      const winners = results.flatMap((result, i) => (result.won ? [SENTINELS[i]] : []));
      expect(winners, `round ${epoch}`).toHaveLength(1);
      const winner = winners[0] as string;
      for (const result of results) {
        expect(result.record.currentEpoch, `round ${epoch}`).toBe(epoch + 1);
        expect(result.record.leader, `round ${epoch}`).toBe(winner);
      }
      wins.set(winner, (wins.get(winner) ?? 0) + 1);
    }
    const elapsedMs = performance.now() - started;
    const record = await stores[1]?.getMaster(MASTER);
    expect(record?.currentEpoch).toBe(ROUNDS);
    console.info(
      `epoch race: ${ROUNDS} rounds in ${Math.round(elapsedMs)} ms ` +
        `(${(elapsedMs / ROUNDS).toFixed(1)} ms/round), wins ${JSON.stringify(Object.fromEntries(wins))}`,
    );
  });
});
