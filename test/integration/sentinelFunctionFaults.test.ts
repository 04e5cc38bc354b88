/**
 * The sentinel function's fault lines, which the deployed sentinel-faults alarm counts: the table goes
 * away mid-invocation, the master dies, and the events the sentinel raises can no longer be stored.
 * Real redis-server, DynamoDB Local; the Lambda runtime is a context object.
 */
import { randomUUID } from 'node:crypto';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createDynamoClient } from '../../lib/adapters/dynamodb/client.js';
import { createTable } from '../../lib/adapters/dynamodb/schema.js';
import { DynamoStore } from '../../lib/adapters/dynamodb/store.js';
import { allocatePorts, type RedisHandle, startRedis } from '../../lib/runtime/redisProcess.js';
import { lambdaContext } from '../support/lambdaContext.js';

let redis: RedisHandle;
let table: string;
let handler: typeof import('../../functions/sentinel.js')['handler'];
/** Every line the handler logged (Powertools writes warn and error to stderr, the rest to stdout). */
const output: string[] = [];

beforeAll(async () => {
  const [port] = await allocatePorts(1);
  redis = await startRedis({ port: port as number });
  table = `t-${randomUUID()}`;
  await createTable(createDynamoClient({ endpoint: inject('dynamodbEndpoint') }), table);
  process.env.SENTINEL_ID = 'sentinel-c';
  process.env.TABLE_NAME = table;
  process.env.DYNAMODB_ENDPOINT = inject('dynamodbEndpoint');
  process.env.SENTINEL_CONFIG = [
    `sentinel monitor mymaster 127.0.0.1 ${redis.address.port} 2`,
    'sentinel down-after-milliseconds mymaster 500',
  ].join('\n');
  process.env.POWERTOOLS_LOG_LEVEL = 'WARN';
  ({ handler } = await import('../../functions/sentinel.js'));
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      output.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    });
  }
});

afterEach(() => {
  vi.restoreAllMocks();
});

afterAll(async () => {
  await redis?.stop();
});

/** The JSON log lines written so far that carry a `fault` field. */
function faultLines(): Array<Record<string, unknown>> {
  return output
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.includes('"fault"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function waitFor(predicate: () => Promise<boolean> | boolean, timeoutMs: number, what: string) {
  const until = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('functions/sentinel fault lines', () => {
  it('logs fault "event-dropped" for an event it cannot store, and "lease-not-released" at its deadline', async () => {
    const client = createDynamoClient({ endpoint: inject('dynamodbEndpoint') });
    const store = new DynamoStore(client, table);
    const invocation = handler({ time: new Date().toISOString() }, lambdaContext('sentinelC', 8_000));
    // Once the sentinel runs (its first vote is in the table), the table goes away and the master dies.
    await waitFor(async () => (await store.listVotes('mymaster')).length > 0, 10_000, 'the first vote');
    await client.send(new DeleteTableCommand({ TableName: table }));
    await redis.kill();
    const result = await invocation;
    expect(result.report?.end).toBe('deadline');
    // The recorder may still be retrying when the handler returns: its flush waits a bounded time.
    await waitFor(
      () => faultLines().some((l) => l.fault === 'event-dropped' && l.event === '+sdown'),
      15_000,
      'the event-dropped line for +sdown',
    );
    const dropped = faultLines().find((l) => l.fault === 'event-dropped' && l.event === '+sdown');
    expect(dropped).toMatchObject({
      level: 'ERROR',
      message: 'event dropped: it is in no event log and raises no alert',
      master: 'mymaster',
      cause: 'append-failed',
    });
    expect(String(dropped?.reason)).toMatch(/^append failed 5 times: /);
    expect(dropped).not.toHaveProperty('payload');
    expect(faultLines()).toContainEqual(
      expect.objectContaining({
        level: 'WARN',
        fault: 'lease-not-released',
        message: 'could not release the loop lease',
      }),
    );
  }, 40_000);
});
