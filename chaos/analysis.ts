/**
 * What a chaos run means: pure functions over its History. Definitions (also in chaos/README.md):
 *
 * Configuration epochs. Each promotion commit writes the new master address with configEpoch = e. The
 * moment it took effect is not observable exactly, but it surely lies in [lo_e, hi_e]: lo_e is the start
 * of the first write that carried it, hi_e the earliest moment someone held proof of it (the commit's
 * successful return, or the return of any read that showed configEpoch ≥ e). Node N_e is master by the
 * record from then until the next commit: its tenure is [lo_e, hi_next) — as wide as the uncertainty
 * allows, so that only clear violations are reported.
 *
 * Split brain. The client looks the master up through the Sentinel endpoint and writes to a node only
 * within FRESH ms of the start of the lookup that named it (bounded staleness, as a careful client does).
 * An acknowledged write at node X, sent at s and acknowledged at a, is a split-brain write if X was not
 * the recorded master at any moment of [s − FRESH − SLACK, a]: some other node had been master by the
 * record for longer than the grace window, and X still accepted the write as master.
 *
 * False failover. A promotion whose failover was started (the winning `start` claim, at time c) while
 * the old master was healthy for the whole time that could have led to it: not killed, not paused, not
 * cut off from a majority of the sentinels, not reporting role slave, not failing the harness's own INFO
 * probe (which it polls straight, every 200 ms), during any interval that lasted at
 * least down-after (minus 500 ms of tolerance) without a break, before c, and ended at most shortly
 * before c (an SDOWN needs down-after without a valid reply).
 *
 * Lost writes. An acknowledged write missing from the final master is an expected loss of asynchronous
 * replication if a failover to another node committed after the lookup that sent the write there
 * (hi_e after s − FRESH − SLACK); otherwise it is a safety violation.
 */
import {
  type AckedWrite,
  type ClaimRecord,
  type Condition,
  FAULT_KINDS,
  type FaultKind,
  type FaultRecord,
  type History,
  type LookupRecord,
  type NodeKey,
  type RecordObservation,
  type RoleSample,
} from './history.js';

export interface AnalysisParams {
  readonly initialMaster: NodeKey;
  readonly sentinels: readonly string[];
  readonly downAfterMs: number;
  readonly probePeriodMs: number;
  readonly probeTimeoutMs: number;
  /** The client's freshness bound: it writes to a node only this long after the lookup that named it. */
  readonly freshMs: number;
  /** Added to the grace window for scheduling delays between a lookup's start and its use. */
  readonly graceSlackMs: number;
  /** A gap between acknowledged writes longer than this is an unavailability window. */
  readonly unavailableGapMs: number;
  readonly chaosStartedAt: number;
  readonly chaosEndedAt: number;
}

export interface FinalState {
  readonly master: NodeKey | null;
  /** Acked write numbers found with their value on the final master; null if it could not be read. */
  readonly present: ReadonlySet<number> | null;
  readonly converged: boolean;
  readonly convergeMs: number;
  readonly detail: string;
}

export interface EpochSpan {
  readonly epoch: number;
  readonly node: NodeKey;
  /** The commit took effect in [lo, hi]. Epoch 0 (the initial record) has lo = hi = −∞. */
  readonly lo: number;
  readonly hi: number;
  /** Start of the tenure as used for checks (lo) and its end (hi of the next epoch, or +∞). */
  readonly tenureEnd: number;
}

export type FailoverCause =
  | 'killed'
  | 'paused'
  | 'majority-cut'
  | 'reports-slave'
  | 'unresponsive'
  | 'forced'
  | 'none';

export interface FailoverFinding {
  readonly epoch: number;
  readonly from: NodeKey | null;
  readonly to: NodeKey;
  /** Start of the winning start claim of this failover. */
  readonly claimedAt: number | null;
  readonly committedBy: number;
  readonly cause: FailoverCause;
  readonly isFalse: boolean;
  /**
   * The promoted node reported role master when the failover was claimed: it was not replicating the
   * failed master (an old master not yet converted), so it may lack what that master acknowledged.
   */
  readonly promotedWasMaster: boolean;
  /** Faults in force around the claim (the window that could have led to it). */
  readonly faultsAround: readonly FaultRecord[];
}

export interface Violation {
  readonly rule: string;
  readonly detail: string;
}

export interface LostWrites {
  readonly checked: boolean;
  readonly expected: number;
  readonly expectedByCause: Readonly<Record<string, number>>;
  readonly unexpected: readonly AckedWrite[];
}

export interface UnavailabilityWindow {
  readonly from: number;
  readonly to: number;
  readonly faults: readonly FaultRecord[];
}

export interface Findings {
  readonly epochs: readonly EpochSpan[];
  readonly failovers: readonly FailoverFinding[];
  readonly falseAttempts: number;
  readonly abandonedAttempts: number;
  readonly violations: readonly Violation[];
  readonly splitBrain: readonly AckedWrite[];
  readonly lost: LostWrites;
  readonly unavailability: readonly UnavailabilityWindow[];
  /** Per failover: how long after the commit the old master still reported role master while reachable. */
  readonly staleMasterMs: readonly number[];
  /** Per kill of the master: from the kill to the commit of the promotion that replaced it. */
  readonly failoverAfterKillMs: readonly number[];
  readonly faultsByKind: Readonly<Record<FaultKind, number>>;
}

export const JUSTIFY_EARLY_TOLERANCE_MS = 500;
const INF = Number.POSITIVE_INFINITY;
const NEG_INF = Number.NEGATIVE_INFINITY;
const MAX_EXAMPLES = 5;

interface Span {
  readonly from: number;
  readonly to: number;
}

/** Union of intervals, sorted and merged. */
export function mergeSpans(spans: readonly Span[]): Span[] {
  const sorted = [...spans].filter((s) => s.to >= s.from).sort((a, b) => a.from - b.from);
  const merged: Span[] = [];
  for (const span of sorted) {
    const last = merged.at(-1);
    if (last && span.from <= last.to)
      merged[merged.length - 1] = { from: last.from, to: Math.max(last.to, span.to) };
    else merged.push(span);
  }
  return merged;
}

const spanOf = (condition: { from: number; to: number | null }, end: number): Span => ({
  from: condition.from,
  to: condition.to ?? end,
});

// ---------------------------------------------------------------------------------------------------------
// Epochs.

export function epochSpans(
  history: Pick<History, 'observations' | 'switches'>,
  initialMaster: NodeKey,
): {
  spans: EpochSpan[];
  violations: Violation[];
  notes: string[];
} {
  const violations: Violation[] = [];
  const notes: string[] = [];
  const nodesByEpoch = new Map<number, Set<NodeKey>>();
  const add = (epoch: number, node: NodeKey) => {
    const set = nodesByEpoch.get(epoch) ?? new Set<NodeKey>();
    set.add(node);
    nodesByEpoch.set(epoch, set);
  };
  add(0, initialMaster);
  for (const o of history.observations) add(o.configEpoch, o.node);
  for (const s of history.switches) if (s.outcome === 'ok') add(s.epoch, s.node);
  for (const [epoch, nodes] of nodesByEpoch) {
    if (nodes.size > 1) {
      violations.push({
        rule: 'one master per configuration epoch',
        detail: `config epoch ${epoch} recorded with ${[...nodes].join(' and ')}`,
      });
    }
  }
  const epochs = [...nodesByEpoch.keys()].sort((a, b) => a - b);
  const raw = epochs.map((epoch) => {
    const node = [...(nodesByEpoch.get(epoch) as Set<NodeKey>)][0] as NodeKey;
    if (epoch === 0) return { epoch, node, lo: NEG_INF, hi: NEG_INF };
    const attempts = history.switches.filter((s) => s.epoch === epoch && s.node === node);
    const proofs = [
      ...attempts.filter((s) => s.outcome === 'ok').map((s) => s.endedAt),
      ...history.observations.filter((o) => o.configEpoch >= epoch).map((o) => o.returnedAt),
    ];
    let lo = Math.min(...attempts.map((s) => s.startedAt));
    if (!Number.isFinite(lo)) {
      notes.push(
        `config epoch ${epoch}: no promotion write was recorded; its tenure is taken to start at −∞`,
      );
      lo = NEG_INF;
    }
    return { epoch, node, lo, hi: Math.min(...proofs) };
  });
  const spans = raw.map((span, i) => ({ ...span, tenureEnd: raw[i + 1]?.hi ?? INF }));
  return { spans, violations, notes };
}

/** The epoch checks that need no interpretation: epochs never go back, one leader per epoch. */
export function epochViolations(
  observations: readonly RecordObservation[],
  claims: readonly ClaimRecord[],
  lookups: readonly LookupRecord[],
): Violation[] {
  const violations: Violation[] = [];
  // Linearizable reads: a read that started after another returned must not see older epochs.
  const byReturn = [...observations].sort((a, b) => a.returnedAt - b.returnedAt);
  const maxCurrent: number[] = [];
  const maxConfig: number[] = [];
  for (const [i, o] of byReturn.entries()) {
    maxCurrent.push(Math.max(maxCurrent[i - 1] ?? 0, o.currentEpoch));
    maxConfig.push(Math.max(maxConfig[i - 1] ?? 0, o.configEpoch));
  }
  const lastReturnedBefore = (t: number): number => {
    let lo = 0;
    let hi = byReturn.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if ((byReturn[mid] as RecordObservation).returnedAt < t) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
  let reported = 0;
  for (const o of byReturn) {
    const j = lastReturnedBefore(o.startedAt);
    if (j < 0) continue;
    const current = maxCurrent[j] as number;
    const config = maxConfig[j] as number;
    if (o.currentEpoch < current || o.configEpoch < config) {
      if (reported++ < MAX_EXAMPLES) {
        violations.push({
          rule: 'epochs never go back',
          detail:
            `${o.observer} read epoch ${o.currentEpoch}/config ${o.configEpoch} at ${o.startedAt}` +
            ` after epoch ${current}/config ${config} had been read`,
        });
      }
    }
  }
  const leaders = new Map<number, Set<string>>();
  for (const o of observations) {
    if (o.leader === null) continue;
    const set = leaders.get(o.currentEpoch) ?? new Set<string>();
    set.add(o.leader);
    leaders.set(o.currentEpoch, set);
  }
  for (const c of claims) {
    if (c.won !== true) continue;
    const set = leaders.get(c.epoch) ?? new Set<string>();
    set.add(c.sentinel);
    leaders.set(c.epoch, set);
  }
  for (const [epoch, set] of leaders) {
    if (set.size > 1) {
      violations.push({
        rule: 'one leader per epoch',
        detail: `epoch ${epoch} led by ${[...set].join(' and ')}`,
      });
    }
  }
  // The client's own lookups, one after another: the epoch they return never goes back.
  for (let i = 1; i < lookups.length; i++) {
    const before = lookups[i - 1] as LookupRecord;
    const after = lookups[i] as LookupRecord;
    if (after.configEpoch < before.configEpoch) {
      violations.push({
        rule: 'a lookup never returns an older epoch than one it returned before',
        detail: `config epoch ${after.configEpoch} at ${after.startedAt} after ${before.configEpoch}`,
      });
    }
  }
  return violations;
}

// ---------------------------------------------------------------------------------------------------------
// Health of a node, as the faults made it.

/** Intervals during which `node` was, for a majority of sentinels, not a working master. */
export function unhealthySpans(
  node: NodeKey,
  conditions: readonly Condition[],
  roles: readonly RoleSample[],
  sentinels: readonly string[],
  end: number,
  /** When the node was master by the record: what it reports only matters then (a replica says slave). */
  tenures: readonly Span[] = [{ from: NEG_INF, to: INF }],
): Array<Span & { cause: FailoverCause }> {
  const out: Array<Span & { cause: FailoverCause }> = [];
  for (const c of conditions) {
    if ((c.kind === 'killed' || c.kind === 'paused') && c.node === node)
      out.push({ ...spanOf(c, end), cause: c.kind });
  }
  // Cut from a majority: sweep the link cuts to this node.
  const majority = Math.floor(sentinels.length / 2) + 1;
  const points: Array<{ at: number; delta: number }> = [];
  for (const c of conditions) {
    if (c.kind !== 'link-cut' || c.node !== node) continue;
    const span = spanOf(c, end);
    points.push({ at: span.from, delta: 1 }, { at: span.to, delta: -1 });
  }
  points.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let cut = 0;
  let since: number | null = null;
  for (const p of points) {
    cut += p.delta;
    if (cut >= majority && since === null) since = p.at;
    if (cut < majority && since !== null) {
      out.push({ from: since, to: p.at, cause: 'majority-cut' });
      since = null;
    }
  }
  // What the harness saw itself, straight to the node: reporting role slave (a master restarted with a
  // stale role), or not answering INFO at all (a restarted server still loading, a disk stall): the
  // sentinels cannot have fared better.
  for (const [i, sample] of roles.entries()) {
    if (sample.role === 'master') continue;
    const cause = sample.role === 'slave' ? 'reports-slave' : 'unresponsive';
    const span = { from: sample.at, to: roles[i + 1]?.at ?? end };
    for (const tenure of tenures) {
      const from = Math.max(span.from, tenure.from);
      const to = Math.min(span.to, tenure.to);
      if (from < to) out.push({ from, to, cause });
    }
  }
  // One continuous outage may be made of several conditions (paused, then cut): merge them, keeping the
  // cause of the condition that began it.
  const merged: Array<Span & { cause: FailoverCause }> = [];
  for (const span of out.sort((a, b) => a.from - b.from)) {
    const last = merged.at(-1);
    if (last && span.from <= last.to) merged[merged.length - 1] = { ...last, to: Math.max(last.to, span.to) };
    else merged.push(span);
  }
  return merged;
}

// ---------------------------------------------------------------------------------------------------------
// The whole analysis.

export function analyse(history: History, params: AnalysisParams, final: FinalState): Findings {
  const end = Math.max(params.chaosEndedAt, Date.now());
  const { spans, violations: epochNodeViolations, notes } = epochSpans(history, params.initialMaster);
  for (const note of notes) history.harnessNotes.push(note);
  const violations: Violation[] = [
    ...epochNodeViolations,
    ...epochViolations(history.observations, history.claims, history.lookups),
  ];

  // --- failovers ---
  const tolerance = {
    // A fault is recorded once in force (after the process died, after it was seen stopped): its effect
    // may have begun a little earlier than recorded. Small, so that a pause of half down-after that is
    // followed by a failover is still judged false.
    early: JUSTIFY_EARLY_TOLERANCE_MS,
    // A claim decided on votes cast just before the master recovered lands a little after: two probe
    // periods, a probe timeout and a store round trip on a loaded machine.
    late: 2 * params.probePeriodMs + params.probeTimeoutMs + 1_000,
  };
  const startClaims = history.claims
    .filter((c) => c.mode === 'start' && c.won !== false)
    .sort((a, b) => a.startedAt - b.startedAt);
  const healthCache = new Map<NodeKey, ReturnType<typeof unhealthySpans>>();
  const unhealthyOf = (node: NodeKey) => {
    let cached = healthCache.get(node);
    if (!cached) {
      const tenures = spans.filter((s) => s.node === node).map((s) => ({ from: s.lo, to: s.tenureEnd }));
      cached = unhealthySpans(
        node,
        history.conditions,
        history.roles.get(node) ?? [],
        params.sentinels,
        end,
        tenures,
      );
      healthCache.set(node, cached);
    }
    return cached;
  };
  const judge = (claim: ClaimRecord): { cause: FailoverCause; faults: FaultRecord[] } => {
    const c = claim.startedAt;
    const faults = history.faults.filter(
      (f) => f.startedAt <= c && (f.endedAt ?? end) >= c - params.downAfterMs - tolerance.early,
    );
    if (claim.forced) return { cause: 'forced', faults };
    if (claim.oldMaster === null) return { cause: 'none', faults };
    // Unhealthy for about down-after without a break (an SDOWN needs that), and not long over at c.
    const enough = params.downAfterMs - tolerance.early;
    // The most recent outage that qualifies is the one that caused the claim.
    const justifying = unhealthyOf(claim.oldMaster)
      .filter(
        (s) => c - s.from >= enough && Math.min(s.to, c) - s.from >= enough && s.to >= c - tolerance.late,
      )
      .at(-1);
    return { cause: justifying?.cause ?? 'none', faults };
  };
  const committed = spans.filter((s) => s.epoch > 0);
  const usedClaims = new Set<ClaimRecord>();
  const failovers: FailoverFinding[] = committed.map((span) => {
    const claim = [...startClaims].reverse().find((c) => c.epoch <= span.epoch && c.startedAt <= span.hi);
    if (claim) usedClaims.add(claim);
    const verdict = claim ? judge(claim) : { cause: 'none' as const, faults: [] };
    const roleOfPromoted = [...(history.roles.get(span.node) ?? [])]
      .reverse()
      .find((sample) => sample.at <= (claim?.startedAt ?? span.lo));
    return {
      epoch: span.epoch,
      from: claim?.oldMaster ?? null,
      to: span.node,
      promotedWasMaster: roleOfPromoted?.role === 'master',
      claimedAt: claim?.startedAt ?? null,
      committedBy: span.hi,
      cause: verdict.cause,
      isFalse: verdict.cause === 'none',
      faultsAround: verdict.faults,
    };
  });
  const abandoned = startClaims.filter((c) => c.won === true && !usedClaims.has(c));
  const falseAttempts = abandoned.filter((c) => judge(c).cause === 'none').length;

  // --- split brain ---
  const tenures = spans.map((s) => ({ node: s.node, from: s.lo, to: s.tenureEnd }));
  const grace = params.freshMs + params.graceSlackMs;
  const splitBrain = history.writes.filter(
    (w) => !tenures.some((t) => t.node === w.node && t.from <= w.ackedAt && w.sentAt - grace < t.to),
  );

  // --- lost writes ---
  let lost: LostWrites = { checked: false, expected: 0, expectedByCause: {}, unexpected: [] };
  if (final.present !== null) {
    const expectedByCause: Record<string, number> = {};
    const unexpected: AckedWrite[] = [];
    let expected = 0;
    for (const w of history.writes) {
      if (final.present.has(w.n)) continue;
      const away = failovers.find((f) => f.to !== w.node && f.committedBy > w.sentAt - grace);
      if (away) {
        expected += 1;
        const cause = `${away.isFalse ? 'false failover' : away.cause}${away.promotedWasMaster ? ', promoted a node reporting master' : ''}`;
        expectedByCause[cause] = (expectedByCause[cause] ?? 0) + 1;
      } else unexpected.push(w);
    }
    lost = { checked: true, expected, expectedByCause, unexpected };
  }

  // --- unavailability ---
  const acks = history.writes
    .map((w) => w.ackedAt)
    .filter((t) => t >= params.chaosStartedAt && t <= params.chaosEndedAt)
    .sort((a, b) => a - b);
  const boundaries = [params.chaosStartedAt, ...acks, params.chaosEndedAt];
  const unavailability: UnavailabilityWindow[] = [];
  for (let i = 1; i < boundaries.length; i++) {
    const from = boundaries[i - 1] as number;
    const to = boundaries[i] as number;
    if (to - from <= params.unavailableGapMs) continue;
    unavailability.push({
      from,
      to,
      faults: history.faults.filter((f) => f.startedAt <= to && (f.endedAt ?? end) >= from),
    });
  }

  // --- how long old masters kept acting as masters, and how fast kills were failed over ---
  const staleMasterMs: number[] = [];
  for (const f of failovers) {
    if (f.from === null) continue;
    const samples = history.roles.get(f.from) ?? [];
    const atCommit = [...samples].reverse().find((s) => s.at <= f.committedBy);
    if (atCommit?.role !== 'master') {
      staleMasterMs.push(0);
      continue;
    }
    const stopped = samples.find((s) => s.at > f.committedBy && s.role !== 'master');
    staleMasterMs.push((stopped?.at ?? end) - f.committedBy);
  }
  const failoverAfterKillMs: number[] = [];
  for (const fault of history.faults.filter((f) => f.kind === 'kill-master')) {
    const killed = history.conditions.find((c) => c.faultId === fault.id && c.kind === 'killed');
    if (killed?.kind !== 'killed') continue;
    // Only the failover this kill caused: claimed while the node was down (or just after it came back).
    const replaced = failovers.find(
      (f) =>
        f.from === killed.node &&
        f.claimedAt !== null &&
        f.claimedAt >= fault.startedAt &&
        f.claimedAt <= (killed.to ?? end) + tolerance.late,
    );
    if (replaced) failoverAfterKillMs.push(replaced.committedBy - fault.startedAt);
  }

  const faultsByKind = Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<FaultKind, number>;
  for (const f of history.faults) faultsByKind[f.kind] += 1;

  if (splitBrain.length > 0) {
    violations.push({
      rule: 'no split brain',
      detail: `${splitBrain.length} acknowledged writes accepted by a node more than ${grace} ms after it stopped being master`,
    });
  }
  if (lost.unexpected.length > 0) {
    violations.push({
      rule: 'no acknowledged write lost without a failover',
      detail: `${lost.unexpected.length} writes, e.g. ${lost.unexpected
        .slice(0, MAX_EXAMPLES)
        .map((w) => `#${w.n} at ${w.node}`)
        .join(', ')}`,
    });
  }

  return {
    epochs: spans,
    failovers,
    falseAttempts,
    abandonedAttempts: abandoned.length,
    violations,
    splitBrain,
    lost,
    unavailability,
    staleMasterMs,
    failoverAfterKillMs,
    faultsByKind,
  };
}

/** Failovers judged false while only one sentinel was partitioned (the CI run's hard requirement). */
export function falseFailoversDuringSingleSentinelPartitions(findings: Findings): FailoverFinding[] {
  const single: readonly FaultKind[] = [
    'partition-sentinel-master',
    'isolate-sentinel',
    'partition-sentinel-store',
  ];
  return findings.failovers.filter(
    (f) => f.isFalse && f.faultsAround.some((fault) => single.includes(fault.kind)),
  );
}
