/**
 * `lambda-sentinel status [--watch] [--json]`: the status page's summary (GET /v1/status,
 * lib/commands/statusSummary.ts) in the terminal: masters, replicas and why each would or would not be
 * promoted, sentinels, the latest failovers' timelines and the newest events. `--watch` prints it again
 * every refresh (what the server suggests, about a second) until Ctrl-C, clearing the screen on a terminal.
 */
import { parseArgs } from 'node:util';
import type { SentinelHttpClient } from '../client/http.js';
import { sleep } from '../client/sleep.js';
import {
  type FailoverTimeline,
  type MasterStatus,
  type SentinelStatus,
  type StatusSummary,
  TIMELINE_LABELS,
} from '../commands/statusSummary.js';
import {
  CONNECTION_OPTIONS,
  CONNECTION_USAGE,
  clientFrom,
  describeError,
  exitCodeOf,
  type Io,
} from './apiCommands.js';
import { EXIT } from './exitCodes.js';
import { table } from './format.js';

export const STATUS_USAGE = `status [--watch] ${CONNECTION_USAGE} [--json]`;
/** Events shown at the end of the terminal summary (the page shows more, in a scrolling box). */
const TERMINAL_EVENTS = 12;
/** Clears a terminal and moves to its top-left corner (ECMA-48 ED 2, CUP). */
const CLEAR_SCREEN = '\u001b[2J\u001b[H';

const dash = '-';
const ms = (n: number | null): string =>
  n === null ? dash : n < 1_000 ? `${n}ms` : `${(n / 1_000).toFixed(1)}s`;
const ago = (n: number | null): string => (n === null ? 'never' : `${ms(n)} ago`);
const clock = (at: number): string => new Date(at).toISOString().slice(11, 23);

function masterBlock(m: MasterStatus): string[] {
  const leader =
    m.leader === null
      ? dash
      : `${m.leader}${m.leaderLeaseLeftMs === null ? '' : ` (lease ${ms(m.leaderLeaseLeftMs)} left)`}`;
  const lines = [
    `${m.name} at ${m.ip}:${m.port}  ${m.state}  config epoch ${m.configEpoch}, current epoch ${m.currentEpoch}, ` +
      `leader ${leader}, down votes ${m.downVotes}/quorum ${m.quorum}, failover ${m.failoverState}`,
  ];
  if (m.replicas.length === 0) return [...lines, '  (no replica known)'];
  const rows = m.replicas.map((r) => [
    `  ${r.ip}:${r.port}`,
    r.role,
    r.link,
    r.offset === null ? dash : String(r.offset),
    `${r.lagBytes === null ? dash : `${r.lagBytes}B`}${r.lagSeconds === null ? '' : `/${r.lagSeconds}s`}`,
    r.flags.join(','),
    r.chosen ? 'CHOSEN' : r.eligible === true ? 'eligible' : r.eligible === false ? 'excluded' : 'unknown',
    r.why,
  ]);
  // Indented under their master: the indent is part of each first cell, so the columns still line up.
  return [...lines, table(['  REPLICA', 'ROLE', 'LINK', 'OFFSET', 'LAG', 'FLAGS', 'PROMOTION', 'WHY'], rows)];
}

function sentinelRows(sentinels: readonly SentinelStatus[]): string {
  return table(
    ['SENTINEL', 'LAST-HEARTBEAT', 'LEASE', 'TILT', 'VOTES', 'LEADS'],
    sentinels.map((s) => [
      `${s.id}${s.stale ? ' (down)' : ''}`,
      ago(s.lastHeartbeatAgoMs),
      s.lease === null
        ? 'none'
        : `${s.lease.held ? `held, ${ms(s.lease.leftMs)} left` : 'released'} (token ${s.lease.token})`,
      s.tilt ? 'TILT' : 'no',
      s.votes.length === 0
        ? dash
        : s.votes
            .map(
              (v) =>
                `${v.master}: ${v.down ? 'down' : 'up'}${v.down && v.ignored !== null ? ` (not counted: ${v.ignored})` : ''}`,
            )
            .join('; '),
      s.leads.length === 0 ? dash : s.leads.map((l) => `${l.master}@${l.epoch}`).join(' '),
    ]),
  );
}

function timelineLines(f: FailoverTimeline): string[] {
  const steps = f.steps
    .map((s) => `${TIMELINE_LABELS[s.step]} ${s.ms === null ? dash : `+${s.ms}ms`}`)
    .join(' > ');
  return [
    `${f.master} epoch ${f.epoch}: ${f.from ?? '?'} -> ${f.to ?? '?'}  ${f.outcome}, ${ms(f.totalMs)} ` +
      `(from ${clock(f.startedAt)} UTC)`,
    `  ${steps}`,
  ];
}

/** The summary as terminal lines: the same sections, in the same order, as the page. */
export function statusText(summary: StatusSummary): string {
  const sections = [
    `lambda-sentinel status at ${clock(summary.generatedAt)} UTC` +
      (summary.observer === null ? '' : ` (probes as seen by ${summary.observer})`),
    '',
    'MASTERS',
    ...(summary.masters.length === 0 ? ['(no master is monitored)'] : summary.masters.flatMap(masterBlock)),
    '',
    sentinelRows(summary.sentinels),
    '',
    'FAILOVERS',
    ...(summary.failovers.length === 0
      ? ['(no failover in the recent events)']
      : summary.failovers.flatMap(timelineLines)),
    '',
    'EVENTS',
    ...(summary.events.length === 0
      ? ['(no event yet)']
      : summary.events
          .slice(-TERMINAL_EVENTS)
          .map((e) => `${clock(e.at)} [${e.sentinelId}] ${e.type} ${e.payload}`)),
  ];
  return sections.join('\n');
}

export interface StatusCommandOptions {
  /** Stops --watch (Ctrl-C by default). */
  readonly signal?: AbortSignal;
  /** Whether to clear the screen between --watch refreshes (default: stdout is a terminal). */
  readonly clearScreen?: boolean;
}

export async function runStatusCommand(
  argv: readonly string[],
  io: Io,
  options: StatusCommandOptions = {},
): Promise<number> {
  const usage = `usage: lambda-sentinel ${STATUS_USAGE}`;
  let client: SentinelHttpClient;
  let watch: boolean;
  let asJson: boolean;
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: { ...CONNECTION_OPTIONS, json: { type: 'boolean' }, watch: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
      allowNegative: true,
    });
    client = clientFrom(values);
    watch = values.watch === true;
    asJson = values.json === true;
  } catch (error) {
    io.err(`lambda-sentinel status: ${(error as Error).message}\n${usage}`);
    return EXIT.usage;
  }
  const interrupt = new AbortController();
  const stop = () => interrupt.abort();
  const signal = options.signal ? AbortSignal.any([options.signal, interrupt.signal]) : interrupt.signal;
  if (watch) process.once('SIGINT', stop);
  const clear = options.clearScreen ?? process.stdout.isTTY === true;
  try {
    for (;;) {
      let summary: StatusSummary;
      try {
        summary = await client.status({ signal });
      } catch (error) {
        if (signal.aborted) return EXIT.ok;
        if (!watch) {
          io.err(`lambda-sentinel status: ${describeError(error)}`);
          return exitCodeOf(error);
        }
        // Watching through a failover or a restart: say so, and keep trying.
        io.err(`lambda-sentinel status: ${describeError(error)} (retrying)`);
        await sleep(1_000, signal);
        if (signal.aborted) return EXIT.ok;
        continue;
      }
      const text = asJson ? JSON.stringify(summary) : statusText(summary);
      io.out(watch && clear && !asJson ? `${CLEAR_SCREEN}${text}` : text);
      if (!watch) return EXIT.ok;
      await sleep(summary.refreshMs, signal);
      if (signal.aborted) return EXIT.ok;
      if (!clear && !asJson) io.out('');
    }
  } finally {
    process.off('SIGINT', stop);
  }
}
