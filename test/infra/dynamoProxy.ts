/**
 * An HTTP proxy in front of a DynamoDB endpoint that counts requests by operation and asks for
 * ReturnConsumedCapacity, so a run's read and write units are measured. Used to check the IAM policy
 * against what a bundle really sends (test/infra/bundles.test.ts) and to price the loop (bench/bundle.ts).
 */
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OpStats {
  count: number;
  /** Conditional writes whose condition failed (ConditionalCheckFailedException). */
  failedConditions: number;
  /** Consumed capacity units; a failed conditional write counts 1 (the items here are under 1 KB). */
  capacityUnits: number;
}

export interface CountingProxy {
  readonly endpoint: string;
  /** Operation name (GetItem, UpdateItem, …) → counts. */
  readonly ops: Map<string, OpStats>;
  /**
   * The partition key (`pk`) of every single-item write, in order: what IAM's dynamodb:LeadingKeys
   * condition sees. Cleared by the caller, like `ops`.
   */
  readonly writtenPartitions: { readonly operation: string; readonly pk: string }[];
  close(): Promise<void>;
}

/** Single-item writes and where their key is: the item (PutItem) or the key (UpdateItem, DeleteItem). */
const SINGLE_ITEM_WRITES: ReadonlyMap<string, 'Item' | 'Key'> = new Map([
  ['PutItem', 'Item'],
  ['UpdateItem', 'Key'],
  ['DeleteItem', 'Key'],
]);

/** Operations that accept ReturnConsumedCapacity. */
export const CAPACITY_OPERATIONS: ReadonlySet<string> = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchWriteItem',
  'TransactGetItems',
  'TransactWriteItems',
]);

export const WRITE_OPERATIONS: ReadonlySet<string> = new Set([
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchWriteItem',
  'TransactWriteItems',
]);

interface DynamoReply {
  __type?: string;
  ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[];
}

function consumed(reply: DynamoReply): number {
  const c = reply.ConsumedCapacity;
  if (Array.isArray(c)) return c.reduce((sum, x) => sum + (x.CapacityUnits ?? 0), 0);
  return c?.CapacityUnits ?? 0;
}

export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  const ops = new Map<string, OpStats>();
  const writtenPartitions: { operation: string; pk: string }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? 'unknown';
      let body = Buffer.concat(chunks);
      if (CAPACITY_OPERATIONS.has(operation)) {
        // DynamoDB Local does not check signatures, so the request may be changed after signing.
        const json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
        const keyField = SINGLE_ITEM_WRITES.get(operation);
        if (keyField) {
          const pk = (json[keyField] as { pk?: { S?: string } } | undefined)?.pk?.S ?? '';
          writtenPartitions.push({ operation, pk });
        }
        json.ReturnConsumedCapacity = 'TOTAL';
        body = Buffer.from(JSON.stringify(json));
      }
      const headers = { ...req.headers, 'content-length': String(body.length), host: upstream.host };
      const forward = httpRequest(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
        (up) => {
          const out: Buffer[] = [];
          up.on('data', (c: Buffer) => out.push(c));
          up.on('end', () => {
            const text = Buffer.concat(out);
            const stats = ops.get(operation) ?? { count: 0, failedConditions: 0, capacityUnits: 0 };
            stats.count += 1;
            try {
              const reply = JSON.parse(text.toString('utf8')) as DynamoReply;
              if (reply.__type?.includes('ConditionalCheckFailed')) {
                stats.failedConditions += 1;
                stats.capacityUnits += 1;
              } else {
                stats.capacityUnits += consumed(reply);
              }
            } catch {
              // Not JSON: counted, no capacity.
            }
            ops.set(operation, stats);
            res.writeHead(up.statusCode ?? 502, up.headers);
            res.end(text);
          });
        },
      );
      forward.on('error', (error) => {
        res.writeHead(502);
        res.end(String(error));
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    ops,
    writtenPartitions,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
