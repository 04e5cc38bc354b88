/**
 * The control adapter (lib/adapters/redis/control.ts) on a real redis-server: a connection opened ahead
 * by `prepare` is the one the next REPLICAOF to that address uses, used once and then closed; one that
 * could not connect is not used; `close` ends what no call used.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisControl } from '../../lib/adapters/redis/control.js';
import type { Address } from '../../lib/core/types.js';
import type { RedisControl } from '../../lib/ports.js';
import { allocatePorts, type RedisHandle, startRedis } from '../../lib/runtime/redisProcess.js';

const CLIENT_NAME = 'sentinel-test-cmd';
const WITHIN_MS = 10_000;

const servers: RedisHandle[] = [];
const controls: RedisControl[] = [];
afterEach(async () => {
  for (const control of controls.splice(0)) control.close?.();
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

function control(): RedisControl {
  const made = createRedisControl({ timeoutMs: 1_000, clientName: CLIENT_NAME, now: Date.now });
  controls.push(made);
  return made;
}

async function server(port?: number): Promise<RedisHandle> {
  const [free] = port === undefined ? await allocatePorts(1) : [port];
  const started = await startRedis({ port: free as number });
  servers.push(started);
  return started;
}

/** One command on a connection of its own (the control's CLIENT KILL TYPE normal ends any other). */
async function ask<T>(address: Address, call: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({ ...address, lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await client.connect();
    return await call(client);
  } finally {
    client.disconnect();
  }
}

const connectionsReceived = (address: Address) =>
  ask(address, async (c) => Number(/total_connections_received:(\d+)/.exec(await c.info('stats'))?.[1]));
const namedConnections = (address: Address) =>
  ask(address, async (c) =>
    String(await c.client('LIST'))
      .split('\n')
      .filter((line) => line.includes(`name=${CLIENT_NAME} `)),
  );

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + WITHIN_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('RedisControl.prepare', () => {
  it('opens the connection ahead, and REPLICAOF NO ONE uses it: no second connection, closed afterwards', async () => {
    const master = await server();
    const replica = await server();
    await ask(replica.address, (c) => c.call('REPLICAOF', master.address.host, String(master.address.port)));
    const ctl = control();
    ctl.prepare?.(replica.address);
    await until(
      async () => (await namedConnections(replica.address)).length === 1,
      'the prepared connection',
    );
    // Counts every connection accepted so far, this one's included.
    const before = await connectionsReceived(replica.address);
    expect(await ctl.replicaOf(replica.address, null)).toEqual({ ok: true });
    expect(await ask(replica.address, async (c) => /role:(\w+)/.exec(await c.info('replication'))?.[1])).toBe(
      'master',
    );
    // The role check and the INFO after: a fresh connection for the transaction would make three.
    expect((await connectionsReceived(replica.address)) - before).toBe(2);
    expect(await namedConnections(replica.address)).toEqual([]);
  });

  it('uses a prepared connection once: the next call to the same address connects afresh', async () => {
    const master = await server();
    const replica = await server();
    const ctl = control();
    ctl.prepare?.(replica.address);
    await until(
      async () => (await namedConnections(replica.address)).length === 1,
      'the prepared connection',
    );
    expect(await ctl.replicaOf(replica.address, master.address)).toEqual({ ok: true });
    const before = await connectionsReceived(replica.address);
    expect(await ctl.replicaOf(replica.address, null)).toEqual({ ok: true });
    // The fresh connection and the INFO after.
    expect((await connectionsReceived(replica.address)) - before).toBe(2);
  });

  it('connects afresh when the prepared connection failed (the server was not up yet)', async () => {
    const [port] = await allocatePorts(1);
    const address = { host: '127.0.0.1', port: port as number };
    const ctl = control();
    ctl.prepare?.(address);
    // Refused at once: nothing listens there yet.
    await new Promise((r) => setTimeout(r, 100));
    await server(port);
    expect(await ctl.replicaOf(address, null)).toEqual({ ok: true });
  });

  it('leaves a connection prepared for one address to that address', async () => {
    const a = await server();
    const b = await server();
    const ctl = control();
    ctl.prepare?.(a.address);
    await until(async () => (await namedConnections(a.address)).length === 1, 'the prepared connection');
    expect(await ctl.replicaOf(b.address, null)).toEqual({ ok: true });
    expect(await namedConnections(a.address)).toHaveLength(1);
    ctl.close?.();
    await until(async () => (await namedConnections(a.address)).length === 0, 'close to end it');
  });
});
