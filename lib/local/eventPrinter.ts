/**
 * The local runner's human view of events as they happen, one line each:
 *
 *   08:23:08.450 [sentinel-a] +odown master mymaster 127.0.0.1 28352 #quorum 3/2
 *
 * Time (UTC, milliseconds), the sentinel that emitted it, then the line a `PSUBSCRIBE *` subscriber of
 * Sentinel would see. Colour only when writing to a terminal (and NO_COLOR is not set): the time dim, the
 * sentinel in its own colour, the event by what it means — red for aborts and `+sdown`/`+odown`, green
 * for the steps that restore service, yellow for other warnings, plain for notices, dim for verbose.
 * Secrets given to the printer never reach the terminal.
 */
import type { SentinelEvent, SentinelId } from '../core/types.js';
import { redactSecrets } from '../eventLog.js';

const ESC = '\u001b[';
const RESET = `${ESC}0m`;
const STYLE = {
  dim: `${ESC}2m`,
  bold: `${ESC}1m`,
  red: `${ESC}31m`,
  green: `${ESC}32m`,
  yellow: `${ESC}33m`,
} as const;
/** Sentinel name colours (blue, magenta, cyan, bright variants), picked by a hash of the name. */
const SENTINEL_COLOURS = [`${ESC}34m`, `${ESC}35m`, `${ESC}36m`, `${ESC}94m`, `${ESC}95m`, `${ESC}96m`];

const BAD = new Set(['+sdown', '+odown', '+tilt', '-script-error', '-script-timeout']);
const GOOD = new Set([
  '-sdown',
  '-odown',
  '-tilt',
  '+elected-leader',
  '+promoted-slave',
  '+switch-master',
  '+failover-end',
  '+convert-to-slave',
]);

export interface EventPrinterOptions {
  /** Default: the output is a terminal and NO_COLOR is unset. */
  readonly color?: boolean;
  readonly secrets?: readonly string[];
}

export function clockTime(at: number): string {
  return new Date(at).toISOString().slice(11, 23);
}

function sentinelColour(id: string): string {
  let hash = 0;
  for (const ch of id) hash = (hash * 31 + (ch.codePointAt(0) ?? 0)) >>> 0;
  return SENTINEL_COLOURS[hash % SENTINEL_COLOURS.length] ?? '';
}

function eventStyle(event: SentinelEvent): string {
  if (event.type.startsWith('-failover-abort') || BAD.has(event.type)) return STYLE.red + STYLE.bold;
  if (GOOD.has(event.type)) return STYLE.green + STYLE.bold;
  if (event.level === 'warning') return STYLE.yellow;
  if (event.level === 'verbose') return STYLE.dim;
  return '';
}

/** One line, no trailing newline. Line breaks inside a payload are flattened so a line is one event. */
export function formatEventLine(
  event: SentinelEvent,
  sentinelId: SentinelId,
  options: EventPrinterOptions = {},
): string {
  const safe = redactSecrets(event, options.secrets ?? []);
  const payload = safe.payload.replace(/[\r\n]+/g, ' ');
  const time = clockTime(safe.at);
  if (!options.color) return `${time} [${sentinelId}] ${safe.type}${payload ? ` ${payload}` : ''}`;
  const style = eventStyle(safe);
  const type = style ? `${style}${safe.type}${RESET}` : safe.type;
  return (
    `${STYLE.dim}${time}${RESET} ${sentinelColour(sentinelId)}[${sentinelId}]${RESET} ${type}` +
    (payload ? ` ${payload}` : '')
  );
}

/** Whether to colour output written to `stream` (a TTY, NO_COLOR unset, TERM not dumb). */
export function shouldColour(
  stream: { isTTY?: boolean } = process.stdout,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

/** An `onEvent` for SentinelRunner that prints each event through `out`. */
export function createEventPrinter(
  out: (line: string) => void,
  options: EventPrinterOptions = {},
): (event: SentinelEvent, sentinelId: SentinelId) => void {
  const resolved = { ...options, color: options.color ?? shouldColour() };
  return (event, sentinelId) => out(formatEventLine(event, sentinelId, resolved));
}
