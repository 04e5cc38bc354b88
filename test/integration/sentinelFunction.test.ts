/**
 * The Lambda handler, invoked as the runtime would: a scheduled event and a context with a deadline.
 * Real redis-server and DynamoDB Local.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDynamoClient } from '../../lib/adapters/dynamodb/client.js';
import { createTable } from '../../lib/adapters/dynamodb/schema.js';
import { DynamoStore } from '../../lib/adapters/dynamodb/store.js';
import { HANDOVER_STATE_VERSION } from '../../lib/runtime/handover.js';
import { allocatePorts, type RedisHandle, startRedis } from '../../lib/runtime/redisProcess.js';
import { lambdaContext } from '../support/lambdaContext.js';

let redis: RedisHandle;
let table: string;
let handler: typeof import('../../functions/sentinel.js')['handler'];

beforeAll(async () => {
  const [port] = await allocatePorts(1);
  redis = await startRedis({ port: port as number });
  table = `t-${randomUUID()}`;
  const endpoint = inject('dynamodbEndpoint');
  await createTable(createDynamoClient({ endpoint }), table);
  process.env.SENTINEL_ID = 'sentinel-b';
  process.env.TABLE_NAME = table;
  process.env.DYNAMODB_ENDPOINT = endpoint;
  process.env.SENTINEL_CONFIG = [
    `sentinel monitor mymaster 127.0.0.1 ${redis.address.port} 2`,
    'sentinel down-after-milliseconds mymaster 1000',
    // Renewals 1 s apart (a third of the lease), so a hand-over request is seen within a test's patience.
    'sentinel loop-lease 3000',
    'sentinel heartbeat-period 500',
  ].join('\n');
  process.env.POWERTOOLS_LOG_LEVEL = 'WARN';
  ({ handler } = await import('../../functions/sentinel.js'));
});

afterAll(async () => {
  await redis?.stop();
});

function context(remainingMs: number) {
  return lambdaContext('lambda-sentinel-dev-sentinelB', remainingMs);
}

describe('functions/sentinel handler', () => {
  it('probes until shortly before the deadline, then releases its lease for the next invocation', async () => {
    const result = await handler({ time: new Date().toISOString() }, context(4_500));
    expect(result.report?.end).toBe('deadline');
    expect(result.report?.ticks).toBeGreaterThan(0);
    const store = new DynamoStore(createDynamoClient({ endpoint: inject('dynamodbEndpoint') }), table);
    const lease = await store.getLease('sentinel-b');
    expect(lease?.holder).toBeNull();
    const saved = await store.getHandoverState('sentinel-b', { token: lease?.token ?? 0 });
    expect(JSON.parse(saved ?? 'null')).toMatchObject({ version: HANDOVER_STATE_VERSION });
    const votes = await store.listVotes('mymaster');
    expect(votes).toEqual([expect.objectContaining({ sentinelId: 'sentinel-b', down: false })]);

    // The next invocation, right after, resumes the observations instead of starting blind.
    const next = await handler({ time: new Date().toISOString() }, context(4_000));
    expect(next.report?.resumedFromHandover).toBe(true);
  });

  it('leaves a running holder be until its hand-over window: the minute’s invocation returns at once', async () => {
    const store = new DynamoStore(createDynamoClient({ endpoint: inject('dynamodbEndpoint') }), table);
    // A holder with 10 minutes to run: its hand-over window opens 2 minutes before its stop time.
    const holder = handler({ time: new Date().toISOString() }, context(600_000));
    let lease = await store.getLease('sentinel-b');
    for (let i = 0; i < 100 && (lease?.holder ?? null) === null; i += 1) {
      await new Promise((r) => setTimeout(r, 50));
      lease = await store.getLease('sentinel-b');
    }
    expect(lease?.holder).not.toBeNull();
    expect(lease?.generation).toMatch(/^[0-9a-f]{16}$/);
    // Due 2 minutes before the stop time (10 minutes less the 3 s margin).
    expect(lease?.handoverFrom).toBeGreaterThan(Date.now() + 7 * 60_000);

    const next = await handler({ time: new Date().toISOString() }, context(600_000));
    expect(next).toMatchObject({ skipped: 'holder-running', report: { end: 'holder-running', ticks: 0 } });
    const after = await store.getLease('sentinel-b');
    expect(after).toMatchObject({ holder: lease?.holder, token: lease?.token, handoverRequestedBy: null });

    // Asked (as a newcomer of another generation, a deploy, asks), it hands over at its next renewal,
    // long before its window.
    await store.requestHandover('sentinel-b', { invocationId: 'next-deploy' });
    const ended = await holder;
    expect(ended.report?.end).toBe('handover');
    expect((await store.getLease('sentinel-b'))?.holder).toBeNull();
  });

  it('drops a scheduled event delivered long after its time', async () => {
    const result = await handler({ time: new Date(Date.now() - 10 * 60_000).toISOString() }, context(4_000));
    expect(result).toEqual({ skipped: 'late event' });
  });
});
