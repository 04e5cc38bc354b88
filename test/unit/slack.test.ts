/**
 * functions/slack.ts: an SNS notification as notify.ts publishes it → the fake Slack webhook on
 * node:http, with the webhook URL read through @middy/ssm from a fake SSM client.
 */
import { randomUUID } from 'node:crypto';
import type { Context, SNSEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSlackHandler, type SlackDeps, slackDepsFromEnv, slackLogger } from '../../functions/slack.js';
import {
  alertAttributes,
  alertBody,
  alertSubject,
  SLACK_COLOURS,
  slackMessage,
} from '../../lib/adapters/aws/alerts.js';
import { type EventRecord, toEventRecord } from '../../lib/eventLog.js';
import { type FakeSlack, startFakeSlack } from '../support/fakeSlack.js';

const SECRET = 'Pw8-slack-secret-pass';
const PARAMETER = '/lambda-sentinel/dev/slack-webhook';

let slack: FakeSlack;
let logs: string[];

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
  slack = await startFakeSlack();
});
afterAll(async () => {
  await slack?.close();
});
beforeEach(() => {
  slack.posts.length = 0;
  slack.status = 200;
  slack.delayMs = 0;
  logs = [];
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      logs.push(String(chunk));
      return true;
    });
  }
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** A fake SSM client class, as @middy/ssm constructs it; counts GetParameters calls. */
function fakeSsm(parameters: Record<string, string>) {
  const calls: Array<Record<string, unknown>> = [];
  class FakeSsmClient {
    async send(command: { input: { Names?: string[]; WithDecryption?: boolean } }) {
      calls.push(command.input);
      const names = command.input.Names ?? [];
      return {
        Parameters: names
          .filter((n) => n in parameters)
          .map((n) => ({ Name: n, Type: 'SecureString', Value: parameters[n] })),
        InvalidParameters: names.filter((n) => !(n in parameters)),
      };
    }
  }
  return { FakeSsmClient, calls };
}

const context = (): Context =>
  ({
    awsRequestId: randomUUID(),
    functionName: 'lambda-sentinel-dev-slack',
    getRemainingTimeInMillis: () => 30_000,
  }) as unknown as Context;

function record(
  type: string,
  payload: string,
  master: string | null,
  level: EventRecord['level'] = 'warning',
) {
  return toEventRecord(
    { type, level, payload, master, at: Date.parse('2026-11-25T08:23:08.350Z') },
    { sentinelId: 'sentinel-b', seq: 7, epoch: master ? 3 : null },
  );
}

/** The SNS → Lambda event for what notify.ts publishes about `r`. */
function snsEvent(r: EventRecord): SNSEvent {
  const attributes = Object.fromEntries(
    Object.entries(alertAttributes(r)).map(([k, v]) => [k, { Type: v.DataType, Value: v.StringValue }]),
  );
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: 'arn:aws:sns:us-east-1:123456789012:alerts:sub',
        Sns: {
          Type: 'Notification',
          MessageId: randomUUID(),
          TopicArn: 'arn:aws:sns:us-east-1:123456789012:alerts',
          Subject: alertSubject(r),
          Message: alertBody(r),
          Timestamp: new Date().toISOString(),
          SignatureVersion: '1',
          Signature: 'EXAMPLE',
          SigningCertUrl: 'https://example.invalid/cert.pem',
          UnsubscribeUrl: 'https://example.invalid/unsubscribe',
          MessageAttributes: attributes,
        },
      },
    ],
  };
}

function handlerWith(overrides: Partial<SlackDeps> = {}) {
  const ssm = fakeSsm({ [PARAMETER]: slack.url });
  const handler = createSlackHandler(
    { parameterName: PARAMETER, ssmClient: ssm.FakeSsmClient, timeoutMs: 2_000, ...overrides },
    slackLogger(),
  );
  return { handler, ssm };
}

describe('slack subscriber', () => {
  it('posts a formatted message: header, Sentinel line and meaning, fields, colour by level', async () => {
    const { handler, ssm } = handlerWith();
    const r = record('+switch-master', 'mymaster 10.0.0.1 6379 10.0.0.2 6380', 'mymaster');
    expect(await handler(snsEvent(r), context())).toEqual({ posted: 1 });
    expect(slack.posts).toHaveLength(1);
    const post = slack.posts[0];
    expect(post?.path).toBe(new URL(slack.url).pathname);
    expect(post?.contentType).toBe('application/json');
    expect(post?.body).toEqual({
      text: '[lambda-sentinel] mymaster: +switch-master -> 10.0.0.2:6380',
      attachments: [
        {
          color: SLACK_COLOURS.warning,
          blocks: [
            { type: 'header', text: { type: 'plain_text', text: '+switch-master mymaster', emoji: false } },
            {
              type: 'section',
              text: {
                type: 'mrkdwn',
                text:
                  '`+switch-master mymaster 10.0.0.1 6379 10.0.0.2 6380`\n' +
                  'The master mymaster moved from 10.0.0.1:6379 to 10.0.0.2:6380: clients must now use the new address.',
              },
            },
            {
              type: 'section',
              fields: [
                { type: 'mrkdwn', text: '*Master*\nmymaster' },
                { type: 'mrkdwn', text: '*Sentinel*\nsentinel-b' },
                { type: 'mrkdwn', text: '*Epoch*\n3' },
                { type: 'mrkdwn', text: '*Time*\n2026-11-25T08:23:08.350Z' },
              ],
            },
            { type: 'context', elements: [{ type: 'mrkdwn', text: `event ${r.id}` }] },
          ],
        },
      ],
    });
    expect(ssm.calls).toEqual([{ Names: [PARAMETER], WithDecryption: true }]);
  });

  it('reads the webhook URL from SSM once and caches it', async () => {
    const { handler, ssm } = handlerWith();
    const r = record('+sdown', 'master mymaster 10.0.0.1 6379', 'mymaster');
    await handler(snsEvent(r), context());
    await handler(snsEvent(r), context());
    expect(slack.posts).toHaveLength(2);
    expect(ssm.calls).toHaveLength(1);
  });

  it('a Slack error makes the handler throw (SNS retries); so does a timeout', async () => {
    const { handler } = handlerWith({ timeoutMs: 300 });
    const r = record('+odown', 'master mymaster 10.0.0.1 6379 #quorum 2/2', 'mymaster');
    slack.status = 500;
    await expect(handler(snsEvent(r), context())).rejects.toThrow(/Slack answered 500/);
    slack.status = 200;
    slack.delayMs = 1_000;
    await expect(handler(snsEvent(r), context())).rejects.toThrow(
      /not reached \(TimeoutError\) within 300 ms/,
    );
  });

  it('a missing parameter fails the invocation', async () => {
    const { FakeSsmClient } = fakeSsm({});
    const handler = createSlackHandler({ parameterName: '/nope', ssmClient: FakeSsmClient }, slackLogger());
    await expect(handler(snsEvent(record('+sdown', 'x', 'm')), context())).rejects.toThrow();
    expect(slack.posts).toHaveLength(0);
  });

  it('an auth-pass value and the webhook URL never appear in a message or a log line', async () => {
    const { handler } = handlerWith();
    // Even an SNS message from a publisher that did not redact.
    const r = record('+set', `master mymaster 10.0.0.1 6379 auth-pass ${SECRET}`, 'mymaster');
    const event = snsEvent(r);
    const sns = event.Records[0]?.Sns;
    if (sns) sns.Message = `+set master mymaster 10.0.0.1 6379 auth-pass ${SECRET}\n`;
    await handler(event, context());
    slack.status = 500;
    await expect(handler(event, context())).rejects.toThrow();
    expect(JSON.stringify(slack.posts)).not.toContain(SECRET);
    expect(JSON.stringify(slack.posts)).toContain('auth-pass ******');
    const logged = logs.join('');
    expect(logged).toContain('posted to Slack');
    expect(logged).not.toContain(SECRET);
    expect(logged).not.toContain(new URL(slack.url).pathname);
  });

  it('masterless and notice events, and foreign SNS messages, still make a sensible message', () => {
    const tilt = slackMessage({
      subject: alertSubject(record('+tilt', '#tilt mode entered', null)),
      message: alertBody(record('+tilt', '#tilt mode entered', null)),
      attributes: {
        event: '+tilt',
        level: 'warning',
        sentinel: 'sentinel-b',
        time: '2026-11-25T08:23:08.350Z',
      },
    });
    expect(tilt.text).toBe('[lambda-sentinel] +tilt (sentinel-b)');
    expect(JSON.stringify(tilt)).toContain('*Master*\\n-');
    const notice = slackMessage({ message: '+slave x', attributes: { event: '+slave', level: 'notice' } });
    expect(notice.attachments[0]?.color).toBe(SLACK_COLOURS.notice);
    const foreign = slackMessage({ subject: 'Hello <world>', message: 'a & b', attributes: {} });
    expect(foreign.attachments[0]?.blocks).toEqual([
      { type: 'header', text: { type: 'plain_text', text: 'Hello <world>', emoji: false } },
      { type: 'section', text: { type: 'mrkdwn', text: 'a &amp; b' } },
    ]);
  });

  it('configuration from the environment', () => {
    expect(slackDepsFromEnv({ SLACK_WEBHOOK_PARAMETER: PARAMETER })).toEqual({
      parameterName: PARAMETER,
      timeoutMs: 5_000,
      cacheMs: 300_000,
    });
    expect(() => slackDepsFromEnv({})).toThrow(/SLACK_WEBHOOK_PARAMETER is required/);
    expect(() => slackDepsFromEnv({ SLACK_WEBHOOK_PARAMETER: 'p', SLACK_TIMEOUT_MS: '0' })).toThrow(
      /SLACK_TIMEOUT_MS/,
    );
  });
});
