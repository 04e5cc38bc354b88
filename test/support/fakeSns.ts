/**
 * A small SNS fake on node:http speaking the Query API that @aws-sdk/client-sns uses (form-urlencoded in,
 * XML out): CreateTopic and Publish. It records every accepted message with its Subject and
 * MessageAttributes, and can be told to fail publishes (HTTP 500, SNS's InternalError) to test retries.
 * Point the real client at it: `new SNSClient({ endpoint: fake.endpoint, region: 'us-east-1', credentials })`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PublishedMessage {
  readonly topicArn: string;
  readonly messageId: string;
  readonly subject: string | undefined;
  readonly message: string;
  /** name → { type, value } (String and Number values as sent). */
  readonly attributes: Record<string, { type: string; value: string }>;
}

export interface FakeSns {
  readonly endpoint: string;
  readonly messages: PublishedMessage[];
  /** Every Publish request received, accepted or failed (its Message text). */
  readonly attempts: string[];
  /** Publishes for which this returns true get HTTP 500 and are not recorded. */
  failWhen: (message: { subject: string | undefined; message: string }) => boolean;
  close(): Promise<void>;
}

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/';

const escapeXml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseAttributes(form: URLSearchParams): PublishedMessage['attributes'] {
  const out: Record<string, { type: string; value: string }> = {};
  for (let i = 1; form.has(`MessageAttributes.entry.${i}.Name`); i++) {
    const prefix = `MessageAttributes.entry.${i}`;
    const name = form.get(`${prefix}.Name`) ?? '';
    const type = form.get(`${prefix}.Value.DataType`) ?? '';
    const value = form.get(`${prefix}.Value.StringValue`) ?? '';
    out[name] = { type, value };
  }
  return out;
}

function reply(res: ServerResponse, status: number, xml: string): void {
  res.writeHead(status, { 'content-type': 'text/xml' });
  res.end(`<?xml version="1.0"?>\n${xml}`);
}

function error(res: ServerResponse, status: number, code: string, message: string): void {
  reply(
    res,
    status,
    `<ErrorResponse xmlns="${XMLNS}"><Error><Type>${status >= 500 ? 'Receiver' : 'Sender'}</Type>` +
      `<Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>` +
      `<RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  );
}

export async function startFakeSns(): Promise<FakeSns> {
  const topics = new Set<string>();
  const fake: FakeSns = {
    endpoint: '',
    messages: [],
    attempts: [],
    failWhen: () => false,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((req, res) => {
    void readBody(req).then((body) => {
      const form = new URLSearchParams(body);
      const action = form.get('Action');
      const requestId = `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>`;
      if (action === 'CreateTopic') {
        const arn = `arn:aws:sns:${REGION}:${ACCOUNT}:${form.get('Name') ?? 'topic'}`;
        topics.add(arn);
        return reply(
          res,
          200,
          `<CreateTopicResponse xmlns="${XMLNS}"><CreateTopicResult><TopicArn>${escapeXml(arn)}</TopicArn>` +
            `</CreateTopicResult>${requestId}</CreateTopicResponse>`,
        );
      }
      if (action === 'Publish') {
        const topicArn = form.get('TopicArn') ?? '';
        const message = form.get('Message') ?? '';
        const subject = form.get('Subject') ?? undefined;
        fake.attempts.push(message);
        if (!topics.has(topicArn)) return error(res, 404, 'NotFound', `Topic does not exist: ${topicArn}`);
        if (subject !== undefined && (subject.length > 100 || /[\r\n]/.test(subject))) {
          return error(res, 400, 'InvalidParameter', 'Invalid parameter: Subject');
        }
        if (fake.failWhen({ subject, message })) return error(res, 500, 'InternalError', 'injected failure');
        const messageId = randomUUID();
        fake.messages.push({ topicArn, messageId, subject, message, attributes: parseAttributes(form) });
        return reply(
          res,
          200,
          `<PublishResponse xmlns="${XMLNS}"><PublishResult><MessageId>${messageId}</MessageId>` +
            `</PublishResult>${requestId}</PublishResponse>`,
        );
      }
      return error(res, 400, 'InvalidAction', `not implemented by the fake: ${action}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  (fake as { endpoint: string }).endpoint = `http://127.0.0.1:${port}`;
  return fake;
}
