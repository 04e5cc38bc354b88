/** Human output of the CLI: aligned tables and event lines. `--json` output does not come through here. */
import { formatEvent } from '../core/events.js';
import type { EventRecord } from '../eventLog.js';

/** Columns padded to their widest cell, two spaces apart; the last column is not padded. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  return all
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** An event as the local runner and `events` print it: time, sentinel, the Sentinel line, epoch. */
export function eventLine(record: EventRecord): string {
  const epoch = record.epoch === null ? '' : ` (epoch ${record.epoch})`;
  return `${new Date(record.at).toISOString()} [${record.sentinelId}] ${formatEvent(record)}${epoch}`;
}
