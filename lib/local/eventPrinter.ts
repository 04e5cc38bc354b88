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
 *
 * The three sentinels run in one process but emit independently: an event is stamped when the sentinel
 * decides it and reaches the printer when the sentinel gets to it, after a store write or a Redis reply,
 * so a peer's later event can arrive first. Printed as they arrive, `.709` came after `.705`, which
 * reads as effects before causes. The time-ordered printer holds each line until
 * EVENT_REORDER_WINDOW_MS after its time stamp and prints what it holds in time-stamp order.
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

/**
 * How long a line is held for events stamped earlier to arrive (milliseconds after its time stamp). A
 * sentinel emits an event after at most a store write or a Redis reply; in the local runner that is
 * well under this, and a human watching the stream does not notice a tenth of a second. An event that
 * arrives later than this is still printed, at once, after the later ones already printed.
 */
export const EVENT_REORDER_WINDOW_MS = 100;

export interface TimeOrderedPrinterOptions extends EventPrinterOptions {
  /** Default EVENT_REORDER_WINDOW_MS; 0 prints every line as it arrives. */
  readonly windowMs?: number;
  /** The clock the window is measured by; the sentinels stamp events with the same. Default Date.now. */
  readonly now?: () => number;
}

export interface TimeOrderedPrinter {
  /** An `onEvent` for SentinelRunner. */
  readonly printEvent: (event: SentinelEvent, sentinelId: SentinelId) => void;
  /**
   * Any other line about the moment `at` (a log line, a simulated crash), ordered with the events and
   * printed after the same time prefix: `08:23:08.450 <text>`.
   */
  readonly printLine: (at: number, text: string) => void;
  /**
   * Prints everything held, in order, at once; from then on every line is printed as it arrives.
   * The runner calls it when it stops (Ctrl-C), so no line is lost.
   */
  readonly close: () => void;
}

interface HeldLine {
  readonly at: number;
  readonly releaseAt: number;
  readonly text: string;
}

/**
 * Lines through `out` in time-stamp order, each held until `windowMs` after its stamp (or after its
 * arrival, for a stamp from the future, so that no line waits longer than the window).
 */
export function createTimeOrderedPrinter(
  out: (line: string) => void,
  options: TimeOrderedPrinterOptions = {},
): TimeOrderedPrinter {
  const resolved = { ...options, color: options.color ?? shouldColour() };
  const windowMs = options.windowMs ?? EVENT_REORDER_WINDOW_MS;
  const now = options.now ?? (() => Date.now());
  // Sorted by time stamp, lines with the same stamp in arrival order. A handful of lines at a time: an
  // array and a binary search are enough.
  const held: HeldLine[] = [];
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  const release = (until: number): void => {
    let count = 0;
    while (count < held.length && (held[count] as HeldLine).releaseAt <= until) count += 1;
    for (const line of held.splice(0, count)) out(line.text);
  };

  const schedule = (): void => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    const first = held[0];
    if (first === undefined) return;
    timer = setTimeout(
      () => {
        timer = null;
        release(now());
        schedule();
      },
      Math.max(0, first.releaseAt - now()),
    );
    // Held lines never keep the process alive: the runner flushes them with close() when it stops.
    timer.unref();
  };

  const add = (at: number, text: string): void => {
    if (closed || windowMs <= 0) {
      out(text);
      return;
    }
    const arrived = now();
    const line: HeldLine = { at, releaseAt: Math.min(at, arrived) + windowMs, text };
    // After every held line stamped at or before it.
    let low = 0;
    let high = held.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((held[mid] as HeldLine).at <= at) low = mid + 1;
      else high = mid;
    }
    held.splice(low, 0, line);
    // A line already older than the window goes out now (with any held line stamped before it).
    release(arrived);
    schedule();
  };

  return {
    printEvent: (event, sentinelId) => add(event.at, formatEventLine(event, sentinelId, resolved)),
    printLine: (at, text) =>
      add(at, `${resolved.color ? `${STYLE.dim}${clockTime(at)}${RESET}` : clockTime(at)} ${text}`),
    close: () => {
      closed = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      for (const line of held.splice(0)) out(line.text);
    },
  };
}
