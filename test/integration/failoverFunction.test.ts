/**
 * The failover function finishing a failover whose leader is gone: real redis-server, DynamoDB Local.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDynamoClient } from '../../lib/adapters/dynamodb/client.js';
import { createTable } from '../../lib/adapters/dynamodb/schema.js';
import { DynamoStore } from '../../lib/adapters/dynamodb/store.js';
import { startTopology, type Topology } from '../../lib/runtime/redisProcess.js';
import { lambdaContext } from '../support/lambdaContext.js';
import { roleOf } from '../support/realCluster.js';

let topology: Topology;
let store: DynamoStore;
let handler: typeof import('../../functions/failover.js')['handler'];
let mastersToCheck: typeof import('../../functions/failover.js')['mastersToCheck'];

beforeAll(async () => {
  topology = await startTopology({ replicas: 2 });
  const table = `t-${randomUUID()}`;
  const endpoint = inject('dynamodbEndpoint');
  await createTable(createDynamoClient({ endpoint }), table);
  store = new DynamoStore(createDynamoClient({ endpoint }), table);
  process.env.TABLE_NAME = table;
  process.env.DYNAMODB_ENDPOINT = endpoint;
  process.env.SENTINEL_CONFIG = [
    `sentinel monitor mymaster 127.0.0.1 ${topology.master.address.port} 2`,
    'sentinel down-after-milliseconds mymaster 1000',
  ].join('\n');
  process.env.POWERTOOLS_LOG_LEVEL = 'WARN';
  ({ handler, mastersToCheck } = await import('../../functions/failover.js'));
});

afterAll(async () => {
  await topology?.stop();
});

function context(remainingMs: number) {
  return lambdaContext('lambda-sentinel-dev-failover', remainingMs);
}

describe('functions/failover handler', () => {
  it('leaves a failover alone while its leader holds the lease, and finishes it once the lease has expired', async () => {
    const now = Date.now();
    const master = topology.master.address;
    await store.ensureMaster({ name: 'mymaster', ...master, now });
    for (const replica of topology.replicas) {
      await store.upsertReplica({
        master: 'mymaster',
        ...replica.address,
        runId: null,
        lastSeenAt: now,
        seenBy: 'sentinel-a',
      });
    }
    const claim = await store.claimEpoch('mymaster', {
      mode: 'start',
      expectedEpoch: 0,
      sentinelId: 'sentinel-a',
      leaseUntil: now + 1_500,
      progress: {
        oldMaster: master,
        promoted: null,
        rejected: [],
        promotionSentAt: null,
        replicas: [],
        forced: false,
        coordinated: false,
      },
      now,
    });
    expect(claim.won).toBe(true);
    await topology.master.kill();

    expect(await handler({ master: 'mymaster' }, context(20_000))).toEqual({ mymaster: 'leader-alive' });
    await new Promise((r) => setTimeout(r, 1_600));
    expect(await handler({ master: 'mymaster' }, context(20_000))).toEqual({ mymaster: 'completed' });

    const record = await store.getMaster('mymaster');
    const ports = topology.replicas.map((r) => r.address.port);
    expect(ports).toContain(record?.port);
    expect(record).toMatchObject({
      failoverState: 'none',
      currentEpoch: 2,
      configEpoch: 2,
      leader: 'failover-function',
    });
    expect((await roleOf({ host: '127.0.0.1', port: record?.port as number })).role).toBe('master');
    expect(await handler({ master: 'mymaster' }, context(20_000))).toEqual({ mymaster: 'no-failover' });
  });

  it('picks from a stream batch only master records with a failover in progress', () => {
    const image = (name: string, state: string) => ({
      dynamodb: { NewImage: { kind: { S: 'master' }, name: { S: name }, failoverState: { S: state } } },
    });
    const vote = { dynamodb: { NewImage: { kind: { S: 'vote' }, master: { S: 'x' } } } };
    expect(
      mastersToCheck({
        Records: [image('a', 'none'), image('b', 'wait_promotion'), vote, image('b', 'reconf_slaves')],
      } as never),
    ).toEqual(['b']);
  });
});
