/**
 * The Slack subscriber: SNS → a formatted message on a Slack incoming webhook (outside the VPC).
 *
 * The webhook URL is a secret: it lives in SSM Parameter Store as a SecureString whose name is in
 * SLACK_WEBHOOK_PARAMETER, and is read through @middy/ssm (decrypted, cached for SLACK_WEBHOOK_CACHE_MS,
 * default 5 minutes, so a rotated URL is picked up without a deploy). The URL is never logged.
 *
 * Each notification is posted with a timeout (SLACK_TIMEOUT_MS, default 5 s). A non-2xx answer or a
 * timeout throws, so the asynchronous SNS → Lambda invocation is retried (twice by Lambda, then the
 * function's on-failure destination / DLQ — configured in the deployment). A retry after a timeout may
 * post twice: Slack has no idempotency key for incoming webhooks.
 *
 * The message (lib/adapters/aws/alerts.ts, slackMessage): a header with the event and master, the
 * Sentinel line and what it means, fields master / sentinel / epoch / time, coloured by level. See
 * docs/alerts.md for AWS Chatbot as an alternative.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import ssm from '@middy/ssm';
import type { Context, SNSEvent, SNSEventRecord } from 'aws-lambda';
import { type SnsNotification, slackMessage } from '../lib/adapters/aws/alerts.js';
import { redactText } from '../lib/eventLog.js';
import { lambdaLogger, withLambdaLogger } from '../lib/runtime/lambdaHandler.js';

export const SLACK_ENV = {
  parameter: 'SLACK_WEBHOOK_PARAMETER',
  timeoutMs: 'SLACK_TIMEOUT_MS',
  cacheMs: 'SLACK_WEBHOOK_CACHE_MS',
} as const;

export const SLACK_DEFAULTS = {
  timeoutMs: 5_000,
  /** How long the decrypted webhook URL is kept before SSM is asked again. */
  cacheMs: 5 * 60_000,
} as const;

export interface SlackDeps {
  /** SSM parameter holding the webhook URL (SecureString). */
  readonly parameterName: string;
  readonly timeoutMs?: number;
  readonly cacheMs?: number;
  /** The SSM client class @middy/ssm constructs (tests pass a fake), and its options. */
  readonly ssmClient?: { new (options: object): { send(command: object): Promise<unknown> } };
  readonly ssmClientOptions?: object;
  readonly fetch?: typeof fetch;
}

export class SlackDeliveryError extends Error {
  override readonly name = 'SlackDeliveryError';
}

export const slackLogger = (): Logger => lambdaLogger('slack');

function notificationOf(record: SNSEventRecord): SnsNotification {
  const attributes: Record<string, string> = {};
  for (const [name, attribute] of Object.entries(record.Sns.MessageAttributes ?? {})) {
    if (typeof attribute?.Value === 'string') attributes[name] = attribute.Value;
  }
  return {
    subject: record.Sns.Subject,
    message: record.Sns.Message ?? '',
    timestamp: record.Sns.Timestamp,
    attributes,
  };
}

type SlackContext = Context & { slackWebhookUrl?: unknown };

/** Posts one message; throws SlackDeliveryError on a timeout, a network error or a non-2xx answer. */
export async function postToSlack(
  url: string,
  body: unknown,
  options: { timeoutMs: number; fetch?: typeof fetch },
): Promise<void> {
  const doFetch = options.fetch ?? fetch;
  let response: Response;
  try {
    response = await doFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (error) {
    // Never echo the URL: it is the secret. The error's name says timeout or network.
    const name = error instanceof Error ? error.name : 'Error';
    throw new SlackDeliveryError(`Slack webhook not reached (${name}) within ${options.timeoutMs} ms`);
  }
  const text = (await response.text().catch(() => '')).slice(0, 200);
  if (!response.ok) {
    throw new SlackDeliveryError(`Slack answered ${response.status}: ${redactText(text, [])}`);
  }
}

function positive(text: string | undefined, fallback: number, name: string): number {
  if (text === undefined || text.trim() === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got "${text}"`);
  return n;
}

export function slackDepsFromEnv(env: NodeJS.ProcessEnv): SlackDeps {
  const parameterName = env[SLACK_ENV.parameter]?.trim();
  if (!parameterName) throw new Error(`environment variable ${SLACK_ENV.parameter} is required`);
  return {
    parameterName,
    timeoutMs: positive(env[SLACK_ENV.timeoutMs], SLACK_DEFAULTS.timeoutMs, SLACK_ENV.timeoutMs),
    cacheMs: positive(env[SLACK_ENV.cacheMs], SLACK_DEFAULTS.cacheMs, SLACK_ENV.cacheMs),
  };
}

export function createSlackHandler(deps: SlackDeps, log: Logger = slackLogger()) {
  const timeoutMs = deps.timeoutMs ?? SLACK_DEFAULTS.timeoutMs;

  async function deliver(event: SNSEvent, context: SlackContext): Promise<{ posted: number }> {
    const url = context.slackWebhookUrl;
    if (typeof url !== 'string' || !/^https?:\/\//.test(url)) {
      throw new Error(`SSM parameter ${deps.parameterName} does not hold a webhook URL`);
    }
    let posted = 0;
    for (const record of event.Records ?? []) {
      const notification = notificationOf(record);
      await postToSlack(url, slackMessage(notification), {
        timeoutMs,
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
      });
      posted++;
      log.info('posted to Slack', {
        messageId: record.Sns.MessageId,
        event: notification.attributes.event,
        master: notification.attributes.master,
      });
    }
    return { posted };
  }

  const chain = withLambdaLogger(deliver, log).use(
    ssm({
      fetchData: { slackWebhookUrl: deps.parameterName },
      setToContext: true,
      // Built at the first invocation anyway: fetching in 'before' keeps a failure inside that invocation.
      disablePrefetch: true,
      cacheExpiry: deps.cacheMs ?? SLACK_DEFAULTS.cacheMs,
      // Caches are per process and keyed: one key per handler so tests (or two handlers) never share.
      cacheKey: `lambda-sentinel-slack-${randomUUID()}`,
      ...(deps.ssmClient ? { AwsClient: deps.ssmClient as never } : {}),
      ...(deps.ssmClientOptions ? { awsClientOptions: deps.ssmClientOptions } : {}),
    }),
  );
  // @middy/ssm adds slackWebhookUrl to the context; callers pass the plain Lambda context.
  return (event: SNSEvent, context: Context): Promise<{ posted: number }> =>
    chain(event, context as Parameters<typeof chain>[1]);
}

type SlackHandler = ReturnType<typeof createSlackHandler>;
let defaultHandler: SlackHandler | undefined;

/** Built at the first invocation (so a missing variable fails that invocation clearly), then kept. */
export const handler = (event: SNSEvent, context: Context): Promise<{ posted: number }> => {
  defaultHandler ??= createSlackHandler(slackDepsFromEnv(process.env));
  return defaultHandler(event, context);
};
