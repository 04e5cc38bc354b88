/**
 * An in-process DynamoDB (dynalite) for the local runner: starts in ~0.1 s and needs no Java.
 * It implements plain conditional Put/Update, Query and Scan, which is all DynamoStore uses; it ignores
 * ReturnValuesOnConditionCheckFailure (DynamoStore re-reads instead) and has no TTL or transactions.
 */
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';

const LISTEN_HOST = '127.0.0.1';

export interface EmbeddedDynamo {
  /** e.g. http://127.0.0.1:41234 */
  readonly endpoint: string;
  close(): Promise<void>;
}

/** Starts dynalite on 127.0.0.1; port 0 (the default) picks a free port. */
export async function startEmbeddedDynamo(options: { port?: number } = {}): Promise<EmbeddedDynamo> {
  // createTableMs 0: tables are ACTIVE at once instead of after dynalite's default 500 ms.
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, LISTEN_HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    endpoint: `http://${LISTEN_HOST}:${port}`,
    close() {
      closed ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Clients keep connections alive; without this, close waits for them to time out.
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
