/**
 * What an alert says: the SNS subject, body and message attributes for an event record, the filter that
 * decides which events are published, and the Slack message built from an SNS notification. Pure
 * functions, shared by functions/notify.ts and functions/slack.ts (docs/alerts.md documents the output).
 *
 * Every text passes through redactText first: the log already stores events redacted, and this also hides
 * an `auth-pass` value from any writer that forgot to (defence in depth).
 */
import type { SentinelEvent } from '../../core/types.js';
import { type EventRecord, redactText } from '../../eventLog.js';
import { parseSwitchMaster } from './switchMaster.js';

export const ALERT_SOURCE = 'lambda-sentinel';
/** SNS: "Subjects must be ASCII text that begins with a letter, number, or punctuation mark; must not
 * include line breaks or control characters; and must be less than 100 characters long." */
export const SUBJECT_MAX = 100;

// ---------------------------------------------------------------------------------------------------------
// Levels and the filter

export type Level = SentinelEvent['level'];

export const LEVEL_RANK: Readonly<Record<Level, number>> = { verbose: 0, notice: 1, warning: 2 };

export function parseLevel(text: string | undefined, fallback: Level): Level {
  if (text === undefined || text.trim() === '') return fallback;
  const level = text.trim().toLowerCase();
  if (level in LEVEL_RANK) return level as Level;
  throw new Error(`not a level: "${text}" (expected warning, notice or verbose)`);
}

export interface NotifyFilter {
  /** Events at or above this level are published (default warning, as Sentinel's notification-script). */
  readonly minLevel: Level;
  /** Always published, whatever their level (e.g. `+slave` at notice). */
  readonly include: ReadonlySet<string>;
  /** Never published (e.g. `+vote-for-leader`). Wins over include. */
  readonly exclude: ReadonlySet<string>;
}

export const DEFAULT_FILTER: NotifyFilter = { minLevel: 'warning', include: new Set(), exclude: new Set() };

/** `+sdown, -odown,+switch-master` → a set; every entry must be an event type (starts with + or -). */
export function parseEventList(text: string | undefined, what: string): Set<string> {
  const out = new Set<string>();
  for (const raw of (text ?? '').split(/[\s,]+/)) {
    if (raw === '') continue;
    if (!/^[+-][a-z][a-z-]*$/.test(raw)) {
      throw new Error(`${what}: "${raw}" is not an event type (like +sdown or -odown)`);
    }
    out.add(raw);
  }
  return out;
}

export function shouldNotify(event: Pick<SentinelEvent, 'type' | 'level'>, filter: NotifyFilter): boolean {
  if (filter.exclude.has(event.type)) return false;
  if (filter.include.has(event.type)) return true;
  return LEVEL_RANK[event.level] >= LEVEL_RANK[filter.minLevel];
}

// ---------------------------------------------------------------------------------------------------------
// Meaning: one sentence for the events people act on.

const MEANINGS: Readonly<Record<string, string>> = {
  '+monitor': 'lambda-sentinel started monitoring this master.',
  '-monitor': 'This master is no longer monitored.',
  '+set': 'A setting of this master was changed.',
  '+reset-master': 'The state of this master was reset.',
  '+slave': 'A new replica of this master was discovered.',
  '+reboot': 'The instance restarted (its run id changed).',
  '+sdown':
    'This sentinel sees the instance as down: no valid reply for down-after-milliseconds (subjectively down).',
  '-sdown': 'This sentinel sees the instance answering again.',
  '+odown': 'Enough sentinels agree the master is down (objectively down): a failover can start.',
  '-odown': 'The master is no longer objectively down.',
  '+new-epoch': 'A new epoch started: a sentinel is about to attempt a failover.',
  '+try-failover': 'A sentinel is starting a failover of this master.',
  '+vote-for-leader': 'A sentinel acknowledged the leader of this epoch.',
  '+elected-leader': 'This sentinel was elected to run the failover.',
  '+failover-state-select-slave': 'The leader is choosing the replica to promote.',
  '-failover-abort-not-elected': 'The failover attempt was abandoned: no leader was elected in time.',
  '-failover-abort-no-good-slave':
    'The failover was abandoned: no replica is fit to be promoted, so the master stays unavailable.',
  '+selected-slave': 'This replica was chosen to become the new master.',
  '+promoted-slave': 'The chosen replica is now the master.',
  '-failover-abort-slave-timeout':
    'The failover was abandoned: the chosen replica was not promoted within failover-timeout.',
  '+failover-state-reconf-slaves': 'The other replicas are being re-pointed at the new master.',
  '+failover-end-for-timeout':
    'The failover ended at failover-timeout; some replicas may not follow the new master yet.',
  '+failover-end': 'The failover finished: every replica follows the new master.',
  '+convert-to-slave': 'An instance that still believed it was master was made a replica of the new master.',
  '+fix-slave-config': 'A replica following the wrong master was re-pointed.',
  '+tilt':
    'A sentinel entered TILT mode (its process was paused or its clock jumped); it judges nothing for a while.',
  '-tilt': 'A sentinel left TILT mode and judges again.',
};

export function eventMeaning(event: Pick<SentinelEvent, 'type' | 'payload'>): string | undefined {
  if (event.type === '+switch-master') {
    const change = parseSwitchMaster(event.payload);
    if (!change.ok) return 'The master moved to a new address: clients must reconnect to it.';
    const { master, oldHost, oldPort, newHost, newPort } = change.value;
    return `The master ${master} moved from ${oldHost}:${oldPort} to ${newHost}:${newPort}: clients must now use the new address.`;
  }
  return MEANINGS[event.type];
}

// ---------------------------------------------------------------------------------------------------------
// SNS

/** The Sentinel line, as `PSUBSCRIBE *` shows it: `<type> <payload>`. */
export const sentinelLine = (event: Pick<SentinelEvent, 'type' | 'payload'>): string =>
  redactText(`${event.type} ${event.payload}`, []);

/** Printable ASCII only, at most `max` characters (SNS rejects anything else in a Subject). */
export function asciiLine(text: string, max: number): string {
  const ascii = text.replace(/[\r\n\t]+/g, ' ').replace(/[^\x20-\x7e]/g, '?');
  return ascii.length <= max ? ascii : `${ascii.slice(0, max - 3)}...`;
}

export function alertSubject(record: EventRecord): string {
  const safe = redactText(record.master ?? '', []);
  let what = record.type;
  if (record.type === '+switch-master') {
    const change = parseSwitchMaster(record.payload);
    if (change.ok) what += ` -> ${change.value.newHost}:${change.value.newPort}`;
  }
  const text =
    record.master === null
      ? `[${ALERT_SOURCE}] ${what} (${record.sentinelId})`
      : `[${ALERT_SOURCE}] ${safe}: ${what}`;
  return asciiLine(text, SUBJECT_MAX);
}

/**
 * The message body (plain text, for email). Its first line is always the Sentinel line; subscribers that
 * need fields read the message attributes instead of parsing the rest.
 */
export function alertBody(record: EventRecord): string {
  const meaning = eventMeaning(record);
  const rows: Array<[string, string]> = [
    ['time', new Date(record.at).toISOString()],
    ['master', record.master ?? '-'],
    ['sentinel', record.sentinelId],
    ['epoch', record.epoch === null ? '-' : String(record.epoch)],
    ['level', record.level],
    ['event id', record.id],
  ];
  const table = rows.map(([k, v]) => `${`${k}:`.padEnd(10)}${redactText(v, [])}`).join('\n');
  return [sentinelLine(record), ...(meaning ? ['', meaning] : []), '', table, ''].join('\n');
}

export type SnsAttributes = Record<string, { DataType: 'String' | 'Number'; StringValue: string }>;

/**
 * Attributes for subscription filter policies: `event`, `master` (absent for masterless events such as
 * `+tilt`), `level`, `sentinel`; plus `epoch` (Number, when known), `time` (ISO 8601) and `eventId`.
 */
export function alertAttributes(record: EventRecord): SnsAttributes {
  const out: SnsAttributes = {
    event: { DataType: 'String', StringValue: record.type },
    level: { DataType: 'String', StringValue: record.level },
    sentinel: { DataType: 'String', StringValue: record.sentinelId },
    time: { DataType: 'String', StringValue: new Date(record.at).toISOString() },
    eventId: { DataType: 'String', StringValue: record.id },
  };
  if (record.master !== null) out.master = { DataType: 'String', StringValue: redactText(record.master, []) };
  if (record.epoch !== null) out.epoch = { DataType: 'Number', StringValue: String(record.epoch) };
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Slack (incoming webhook), from an SNS notification as the Slack function receives it

export interface SnsNotification {
  readonly subject?: string | null;
  readonly message: string;
  readonly timestamp?: string;
  /** Attribute name → value (String and Number values as text). */
  readonly attributes: Readonly<Record<string, string | undefined>>;
}

export const SLACK_COLOURS: Readonly<Record<Level, string>> = {
  warning: '#d0021b',
  notice: '#f5a623',
  verbose: '#9b9b9b',
};
const SLACK_UNKNOWN_COLOUR = '#4a90e2';
const SLACK_HEADER_MAX = 150;
const SLACK_TEXT_MAX = 2_900;

/** Slack's mrkdwn needs &, < and > escaped. */
const slackEscape = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const clip = (text: string, max: number): string =>
  text.length <= max ? text : `${text.slice(0, max - 1)}…`;

export interface SlackMessage {
  readonly text: string;
  readonly attachments: ReadonlyArray<{ readonly color: string; readonly blocks: readonly unknown[] }>;
}

export function slackMessage(notification: SnsNotification): SlackMessage {
  const a = notification.attributes;
  const message = redactText(notification.message, []);
  const line = message.split('\n', 1)[0] ?? '';
  const type = a.event;
  const level = a.level && a.level in LEVEL_RANK ? (a.level as Level) : undefined;
  const subject = redactText(notification.subject ?? '', []);
  const title = type
    ? `${type}${a.master ? ` ${redactText(a.master, [])}` : ''}`
    : subject || 'lambda-sentinel';
  const payload = type && line.startsWith(`${type} `) ? line.slice(type.length + 1) : line;
  const meaning = type ? eventMeaning({ type, payload }) : undefined;
  const time = a.time ?? notification.timestamp;
  const fields = [
    ['Master', a.master ? redactText(a.master, []) : '-'],
    ['Sentinel', a.sentinel ?? '-'],
    ['Epoch', a.epoch ?? '-'],
    ['Time', time ?? '-'],
  ].map(([k, v]) => ({ type: 'mrkdwn', text: `*${k}*\n${slackEscape(v ?? '-')}` }));
  const body = type
    ? `\`${slackEscape(line)}\`${meaning ? `\n${slackEscape(meaning)}` : ''}`
    : slackEscape(message);
  return {
    text: subject || clip(line, SLACK_HEADER_MAX),
    attachments: [
      {
        color: level ? SLACK_COLOURS[level] : SLACK_UNKNOWN_COLOUR,
        blocks: [
          { type: 'header', text: { type: 'plain_text', text: clip(title, SLACK_HEADER_MAX), emoji: false } },
          { type: 'section', text: { type: 'mrkdwn', text: clip(body, SLACK_TEXT_MAX) } },
          ...(type ? [{ type: 'section', fields }] : []),
          ...(a.eventId
            ? [{ type: 'context', elements: [{ type: 'mrkdwn', text: `event ${slackEscape(a.eventId)}` }] }]
            : []),
        ],
      },
    ],
  };
}
