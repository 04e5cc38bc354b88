/**
 * The DynamoDB client every store uses: fail fast, because a sentinel tick must never hang on the store.
 * With the SDK defaults (3 attempts, no timeouts) a black-holed endpoint stalls a call for minutes;
 * here a dead store costs at most about 2 × requestTimeout, and the caller retries on its next tick.
 */
import { type AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';

export const DYNAMO_CLIENT_DEFAULTS = {
  /** One retry: enough to ride over a single dropped connection, short enough to keep ticks on time. */
  maxAttempts: 2,
  /** TCP connect. DynamoDB answers a connect in a few ms from inside the Region. */
  connectionTimeoutMs: 300,
  /** Whole request. Single-item operations take ~5 ms; a second means the store is in trouble. */
  requestTimeoutMs: 1_000,
  /** Region for a local endpoint (DynamoDB Local keeps one database per access key and Region). */
  localRegion: 'us-east-1',
  /** The one dummy key used against local endpoints, so every process sees the same database. */
  localCredentials: { accessKeyId: 'local', secretAccessKey: 'local' },
} as const;

export interface DynamoClientOptions {
  /** e.g. http://127.0.0.1:8000 for DynamoDB Local or dynalite; absent for AWS. */
  readonly endpoint?: string;
  /** Defaults to us-east-1 with an endpoint; otherwise the SDK resolves it (AWS_REGION on Lambda). */
  readonly region?: string;
  /** Overrides the fail-fast request timeout: for tools on a loaded machine, never for a sentinel. */
  readonly requestTimeoutMs?: number;
  readonly credentials?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  };
}

export function createDynamoClient(options: DynamoClientOptions = {}): DynamoDBDocumentClient {
  const { endpoint } = options;
  const local = endpoint !== undefined;
  const base = new DynamoDBClient({
    maxAttempts: DYNAMO_CLIENT_DEFAULTS.maxAttempts,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: DYNAMO_CLIENT_DEFAULTS.connectionTimeoutMs,
      requestTimeout: options.requestTimeoutMs ?? DYNAMO_CLIENT_DEFAULTS.requestTimeoutMs,
      // Without this, @smithy/node-http-handler only logs a warning when requestTimeout passes and keeps
      // waiting: a SIGSTOPped or black-holed endpoint would hang the call forever.
      throwOnRequestTimeout: true,
    }),
    ...(local ? { endpoint } : {}),
    ...(options.region !== undefined
      ? { region: options.region }
      : local
        ? { region: DYNAMO_CLIENT_DEFAULTS.localRegion }
        : {}),
    ...(options.credentials !== undefined
      ? { credentials: { ...options.credentials } }
      : local
        ? { credentials: { ...DYNAMO_CLIENT_DEFAULTS.localCredentials } }
        : {}),
  });
  return DynamoDBDocumentClient.from(base, {
    // Optional domain fields are null, never undefined; this only guards against a stray undefined.
    marshallOptions: { removeUndefinedValues: true },
  });
}

/**
 * DynamoDB's answer to a write whose condition failed: a result for the caller, not a store failure. The
 * document client passes it through as is, so the item it may carry (ReturnValuesOnConditionCheckFailure)
 * is in wire format.
 */
export const isConditionFailure = (
  error: unknown,
): error is Error & { Item?: Record<string, AttributeValue> } =>
  error instanceof Error && error.name === 'ConditionalCheckFailedException';
