/**
 * The chaos report: one Markdown table of the figures (the table the issue asks for), the faults by
 * kind, each failover with its cause, and any violation in full.
 */
import type { AnalysisParams, FailoverFinding, FinalState, Findings } from './analysis.js';
import type { ClusterSettings } from './cluster.js';
import { FAULT_KINDS, type FaultKind, type History, type NodeKey } from './history.js';

export interface ReportInput {
  readonly seed: number;
  readonly settings: ClusterSettings;
  readonly params: AnalysisParams;
  readonly history: History;
  readonly findings: Findings;
  readonly final: FinalState;
  readonly names: ReadonlyMap<NodeKey, string>;
  readonly interrupted: boolean;
  readonly healAndConvergeMs: number;
  readonly exitCode: number;
  readonly singleSentinelFalse: number;
}

const FAULT_MEANING: Record<FaultKind, string> = {
  'kill-master': 'SIGKILL of the master, restarted later with the role it had',
  'kill-replica': 'SIGKILL of a replica, restarted later',
  'pause-master-short': 'SIGSTOP of the master for less than down-after, then SIGCONT',
  'pause-master-long': 'SIGSTOP of the master for longer than down-after, then SIGCONT',
  'pause-replica': 'SIGSTOP of a replica, then SIGCONT',
  'partition-sentinel-master': 'one sentinel cut from the master (TCP black hole)',
  'partition-2-sentinels-master': 'two sentinels cut from the master',
  'partition-sentinel-store': 'one sentinel cut from DynamoDB',
  'isolate-sentinel': 'one sentinel cut from every Redis node and from DynamoDB',
  'store-pause': 'SIGSTOP of DynamoDB Local (everyone loses the store, the client too)',
  'store-cut': 'every sentinel cut from DynamoDB (the client still reaches it)',
  'restart-sentinel': 'a sentinel loop stopped, a new invocation started later',
};

const n = (value: number) => value.toLocaleString('en-US').replaceAll(',', ' ');
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function duration(ms: number): string {
  const total = Math.round(ms / 1000);
  const m = Math.floor(total / 60);
  return m > 0 ? `${m} min ${total % 60} s` : `${total} s`;
}

function stats(values: readonly number[], format: (v: number) => string): string {
  if (values.length === 0) return '—';
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor((sorted.length - 1) / 2)] as number;
  return `min ${format(sorted[0] as number)} / median ${format(median)} / max ${format(sorted.at(-1) as number)}`;
}

function counts(map: ReadonlyMap<string, number> | Readonly<Record<string, number>>): string {
  const entries = map instanceof Map ? [...map.entries()] : Object.entries(map);
  if (entries.length === 0) return 'none';
  return entries
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${n(v)}`)
    .join(', ');
}

function okOrCount(violations: Findings['violations'], rule: string): string {
  const found = violations.filter((v) => v.rule === rule);
  return found.length === 0 ? 'ok' : `**${found.length} violation(s)**`;
}

export function formatReport(input: ReportInput): string {
  const { findings: f, history: h, params: p, final } = input;
  const name = (node: NodeKey | null) => (node === null ? '?' : (input.names.get(node) ?? node));
  const chaosMs = p.chaosEndedAt - p.chaosStartedAt;
  const falseFailovers = f.failovers.filter((x) => x.isFalse);
  const causes: Record<string, number> = {};
  for (const x of f.failovers)
    causes[x.isFalse ? 'false' : x.cause] = (causes[x.isFalse ? 'false' : x.cause] ?? 0) + 1;
  const windows = f.unavailability.map((w) => w.to - w.from);
  const totalUnavailable = windows.reduce((a, b) => a + b, 0);
  const lastObservation = h.observations.reduce(
    (best, o) =>
      o.currentEpoch >= best.current
        ? { current: o.currentEpoch, config: Math.max(best.config, o.configEpoch) }
        : best,
    { current: 0, config: 0 },
  );
  const tilts = h.events.filter((e) => e.type === '+tilt').length;
  const grace = p.freshMs + p.graceSlackMs;
  const verdict = input.interrupted
    ? 'INTERRUPTED (partial figures; no final read)'
    : input.exitCode === 0
      ? 'OK: no safety violation, no false failover, converged'
      : input.exitCode === 1
        ? '**SAFETY VIOLATION**'
        : '**false failover or no convergence** (no safety violation)';

  const rows: Array<[string, string]> = [
    ['verdict', verdict],
    ['seed', String(input.seed)],
    [
      'duration',
      `${duration(chaosMs)} of chaos, then ${seconds(input.healAndConvergeMs)} to heal, converge and read back`,
    ],
    [
      'setup',
      `3 redis-server (AOF, fsync always), DynamoDB Local, 3 sentinels in-process behind 12 TCP proxies; ` +
        `down-after ${input.settings.downAfterMs} ms, failover-timeout ${input.settings.failoverTimeoutMs} ms`,
    ],
    ['faults injected', `${n(h.faults.length)} (by kind below)`],
    ['failovers (promotions committed)', `${n(f.failovers.length)} (${counts(causes)})`],
    [
      'false failovers',
      `${falseFailovers.length === 0 ? '0' : `**${falseFailovers.length}**`}` +
        ` (during a one-sentinel partition: ${input.singleSentinelFalse})`,
    ],
    [
      'failover attempts without a promotion',
      `${n(f.abandonedAttempts)} (started while the master was healthy: ${f.falseAttempts})`,
    ],
    ['master SIGKILL → new address committed', stats(f.failoverAfterKillMs, seconds)],
    [
      'promotions of a node that was itself reporting master (not replicating the failed master)',
      String(f.failovers.filter((x) => x.promotedWasMaster).length),
    ],
    [
      `unavailability windows (> ${p.unavailableGapMs} ms without an acked write)`,
      `${f.unavailability.length}: ${stats(windows, seconds)}, total ${seconds(totalUnavailable)}` +
        (chaosMs > 0 ? ` (${((100 * totalUnavailable) / chaosMs).toFixed(1)} % of the chaos time)` : ''),
    ],
    ['acknowledged writes', n(h.writes.length)],
    [
      'acked writes lost, expected (async replication, to a failover)',
      f.lost.checked ? `${n(f.lost.expected)} (${counts(f.lost.expectedByCause)})` : 'not checked',
    ],
    [
      'acked writes lost, safety violations',
      f.lost.checked
        ? f.lost.unexpected.length === 0
          ? '0'
          : `**${n(f.lost.unexpected.length)}**`
        : 'not checked',
    ],
    [
      `split brain: acked by a node no longer master (grace ${grace} ms)`,
      f.splitBrain.length === 0 ? '0' : `**${n(f.splitBrain.length)}**`,
    ],
    [
      'epochs',
      `last epoch ${lastObservation.current}, config epoch ${lastObservation.config}; ` +
        `never back (${n(h.observations.length)} record reads): ${okOrCount(f.violations, 'epochs never go back')}; ` +
        `one leader per epoch: ${okOrCount(f.violations, 'one leader per epoch')}; ` +
        `one master per config epoch: ${okOrCount(f.violations, 'one master per configuration epoch')}`,
    ],
    [
      'client lookups (SENTINEL MASTER via the endpoint)',
      `${n(h.lookups.length)} answered; epoch never went back: ` +
        okOrCount(f.violations, 'a lookup never returns an older epoch than one it returned before'),
    ],
    ['write errors (not acknowledged)', counts(h.writeErrors)],
    ['old master still reporting master after the commit', stats(f.staleMasterMs, seconds)],
    [
      'after healing',
      final.converged
        ? `converged in ${seconds(final.convergeMs)}: ${final.detail}`
        : input.interrupted
          ? 'not checked'
          : `**not converged**: ${final.detail}`,
    ],
    ['TILT entered', String(tilts)],
    ['sentinel invocations that ended on their own', counts(h.unplannedRunnerEnds)],
    ['sentinel errors logged', counts(h.sentinelErrors)],
  ];

  const lines = [
    '## lambda-sentinel chaos report',
    '',
    '| | |',
    '| --- | --- |',
    ...rows.map(([k, v]) => `| ${k} | ${v.replaceAll('|', '\\|')} |`),
    '',
    '### Faults by kind',
    '',
    '| fault | count | what it does |',
    '| --- | --- | --- |',
    ...FAULT_KINDS.map((kind) => `| ${kind} | ${f.faultsByKind[kind]} | ${FAULT_MEANING[kind]} |`),
  ];

  if (f.failovers.length > 0) {
    lines.push(
      '',
      '### Failovers',
      '',
      '| config epoch | from → to | cause | claim → commit | faults around the claim | not chosen |',
    );
    lines.push('| --- | --- | --- | --- | --- | --- |');
    for (const x of f.failovers.slice(0, 60)) {
      const rejected = (h.rejectedAt.get(x.epoch) ?? [])
        .map((r) => `${name(`${r.host}:${r.port}`)}: ${r.reason}`)
        .join('; ');
      lines.push(`${failoverRow(x, name, p.chaosStartedAt)} ${rejected.replaceAll('|', '\\|') || '—'} |`);
    }
    if (f.failovers.length > 60) lines.push(`| … | ${f.failovers.length - 60} more | | | | |`);
  }
  if (f.unavailability.length > 0) {
    lines.push('', '### Longest unavailability windows', '');
    for (const w of [...f.unavailability].sort((a, b) => b.to - b.from - (a.to - a.from)).slice(0, 5)) {
      const faults = w.faults.map((x) => `#${x.id} ${x.kind}`).join(', ') || 'no fault';
      lines.push(`- ${seconds(w.to - w.from)} from +${seconds(w.from - p.chaosStartedAt)}: ${faults}`);
    }
  }
  if (f.violations.length > 0) {
    lines.push('', '### Violations', '');
    for (const v of f.violations) lines.push(`- **${v.rule}**: ${v.detail}`);
    for (const w of f.splitBrain.slice(0, 5)) {
      lines.push(
        `  - split-brain write #${w.n} on ${name(w.node)}: sent +${seconds(w.sentAt - p.chaosStartedAt)}, ` +
          `lookup at +${seconds(w.lookupStartedAt - p.chaosStartedAt)} said config epoch ${w.lookupEpoch}`,
      );
    }
  }
  if (h.harnessNotes.length > 0) {
    lines.push('', '### Harness notes', '');
    for (const note of h.harnessNotes.slice(0, 20)) lines.push(`- ${note}`);
  }
  return lines.join('\n');
}

function failoverRow(x: FailoverFinding, name: (node: NodeKey | null) => string, t0: number): string {
  const claim = x.claimedAt === null ? '?' : `+${seconds(x.claimedAt - t0)}`;
  const faults = x.faultsAround.map((f) => `#${f.id} ${f.kind}`).join(', ') || 'none';
  const cause = `${x.isFalse ? '**false failover**' : x.cause}${x.promotedWasMaster ? ' (promoted a node reporting master)' : ''}`;
  return `| ${x.epoch} | ${name(x.from)} → ${name(x.to)} | ${cause} | ${claim} → +${seconds(x.committedBy - t0)} | ${faults} |`;
}
