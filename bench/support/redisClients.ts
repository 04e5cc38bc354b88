/** Short-lived Redis clients for the benchmarks. */
import { Redis } from 'ioredis';
import type { Address } from '../../lib/core/types.js';

/** A short-lived, fail-fast client: the failover's CLIENT KILL closes long-lived ones, as it should. */
export async function withClient<T>(
  address: Address,
  call: (client: Redis) => Promise<T>,
): Promise<T | undefined> {
  const client = new Redis({
    ...address,
    lazyConnect: true,
    connectTimeout: 200,
    commandTimeout: 200,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    protocol: 2,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return await call(client);
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}

/** A freshly spawned server needs a moment before it listens: retry the connection until `until`. */
export async function connectWhenListening(port: number, until: number): Promise<Redis> {
  for (;;) {
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      await client.connect();
      return client;
    } catch (error) {
      client.disconnect();
      if (Date.now() > until) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
