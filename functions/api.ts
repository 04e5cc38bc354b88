/**
 * The HTTP API behind a Lambda function URL (payload format 2.0). docs/http-api.md is the contract; the
 * router (lib/http/router.ts) answers every route from the same SentinelView the local runner uses,
 * built here over the table (store and event log).
 *
 * Writes (POST, PATCH, DELETE) need IAM auth, decided from the event alone: a URL with auth type AWS_IAM
 * puts the caller's identity in `requestContext.authorizer.iam`. No setting turns this off, so a second
 * URL with auth NONE (to open lookups wider) can only ever read.
 *
 * Read-only mode (API_READ_ONLY=true): every write is refused with 403 before anything is read, whoever
 * signed it. IAM cannot tell a read from a write on a function URL (both are lambda:InvokeFunctionUrl on
 * the function), so the deployment gives proxies and clients a URL of their own, on a function in this
 * mode whose role cannot write either (serverless.yml: apiRead, and apiPublic).
 *
 * A long poll waits at most 20 s, and never past the function's own deadline: its signal fires
 * DEADLINE_MARGIN_MS (lib/runtime/lambdaHandler.ts) before it, and the poll then answers with the
 * current address, so the reply still gets out.
 */
import type {
  APIGatewayEventRequestContextV2,
  APIGatewayProxyEventV2WithRequestContext,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { createDynamoClient } from '../lib/adapters/dynamodb/client.js';
import { DynamoEventLog } from '../lib/adapters/dynamodb/eventLog.js';
import { DynamoStore } from '../lib/adapters/dynamodb/store.js';
import { type StatusSource, storeStatusSource } from '../lib/commands/statusSource.js';
import { DEPLOYED_STATUS_REFRESH_MS } from '../lib/commands/statusSummary.js';
import { storeSentinelView } from '../lib/commands/storeView.js';
import type { SentinelView } from '../lib/commands/view.js';
import { secretsOf } from '../lib/eventLog.js';
import { type ApiResponse, errorResponse, handleApiRequest, SAFE_METHODS } from '../lib/http/router.js';
import { PACKAGE_VERSION } from '../lib/http/version.js';
import { readDeployment } from '../lib/runtime/lambdaConfig.js';
import { deadlineSignal, lambdaLogger, withLambdaLogger } from '../lib/runtime/lambdaHandler.js';
import { errorFields } from '../lib/runtime/log.js';

export const API_ENV = { readOnly: 'API_READ_ONLY' } as const;

/** What a write on a read-only URL gets (403 FORBIDDEN). */
export const READ_ONLY_TEXT =
  "This URL is read-only; write commands go to the operators' API URL (stack output ApiLambdaFunctionUrl)";

/** API_READ_ONLY: 'true' or 'false' (or unset: false). Anything else is refused, so a typo fails closed. */
export function readOnlyFromEnv(env: NodeJS.ProcessEnv): boolean {
  const value = env[API_ENV.readOnly]?.trim() ?? '';
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  throw new Error(`${API_ENV.readOnly} must be "true" or "false", got ${JSON.stringify(value.slice(0, 40))}`);
}

/** A function URL event; `authorizer.iam` is present only when the URL's auth type is AWS_IAM. */
export type ApiUrlEvent = APIGatewayProxyEventV2WithRequestContext<
  APIGatewayEventRequestContextV2 & { readonly authorizer?: { readonly iam?: unknown } }
>;

const logger = lambdaLogger('api');

let view: Promise<{ readonly view: SentinelView; readonly status: StatusSource }> | undefined;

/**
 * Built once per container. A bad deployment (no table, no or an invalid sentinel.conf) rejects here,
 * and every invocation of that container fails with the same clear error.
 */
async function buildView(): Promise<{ readonly view: SentinelView; readonly status: StatusSource }> {
  const d = await readDeployment(process.env);
  const client = createDynamoClient({ endpoint: d.dynamodbEndpoint });
  const store = new DynamoStore(client, d.tableName);
  const eventLog = new DynamoEventLog(client, d.tableName, { secrets: secretsOf(d.config) });
  const sentinelView = storeSentinelView(store, d.config, { eventLog });
  // The status page's summary (GET /v1/status); no sentinel loop runs here, so no probes are shown.
  const status = storeStatusSource(store, d.config, {
    view: sentinelView,
    eventLog,
    refreshMs: DEPLOYED_STATUS_REFRESH_MS,
  });
  return { view: sentinelView, status };
}

function bodyOf(event: ApiUrlEvent): string | undefined {
  if (event.body === undefined) return undefined;
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

async function handle(event: ApiUrlEvent, context: Context): Promise<APIGatewayProxyStructuredResultV2> {
  const method = event.requestContext?.http?.method ?? 'GET';
  const path = event.rawPath ?? '/';
  const iamAuthenticated = Boolean(event.requestContext?.authorizer?.iam);
  if (readOnlyFromEnv(process.env) && !SAFE_METHODS.has(method)) {
    logger.info('request', { method, path, status: 403, iam: iamAuthenticated, readOnly: true });
    return toResult(errorResponse(403, 'FORBIDDEN', READ_ONLY_TEXT));
  }
  view ??= buildView();
  const { view: sentinelView, status } = await view;
  const deadline = deadlineSignal(context);
  const started = Date.now();
  try {
    const response = await handleApiRequest(
      {
        method,
        path,
        // The raw query string keeps repeated parameters apart (the parsed map joins them with commas).
        query: new URLSearchParams(event.rawQueryString ?? ''),
        headers: event.headers ?? {},
        body: bodyOf(event),
        iamAuthenticated,
        signal: deadline.signal,
      },
      { view: sentinelView, requireIamForWrites: true, version: PACKAGE_VERSION, status },
    );
    const fields = { method, path, status: response.status, iam: iamAuthenticated, ms: Date.now() - started };
    if (response.status === 500)
      logger.error('request failed', { ...fields, ...errorFields(response.cause) });
    else if (response.status === 503)
      logger.warn('store unavailable', { ...fields, ...errorFields(response.cause) });
    else logger.info('request', fields);
    return toResult(response);
  } finally {
    deadline.clear();
  }
}

function toResult(response: ApiResponse): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: response.status,
    headers: { ...response.headers },
    body: response.body,
    isBase64Encoded: false,
  };
}

export const handler = withLambdaLogger(handle, logger);
