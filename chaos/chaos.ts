/**
 * One chaos run: start the system (chaos/cluster.ts), let the client write, inject the seeded schedule of
 * faults for the given duration, heal everything, wait for the system to converge, read every
 * acknowledged write back from the final master, and judge the run (chaos/analysis.ts).
 */
import { createRedisProbe } from '../lib/adapters/redis/probe.js';
import type { Address } from '../lib/core/types.js';
import {
  type AnalysisParams,
  analyse,
  type FinalState,
  type Findings,
  falseFailoversDuringSingleSentinelPartitions,
} from './analysis.js';
import { type ChaosCluster, type ClusterSettings, MASTER_NAME, startChaosCluster } from './cluster.js';
import { FaultInjector, planFaults } from './faults.js';
import { History, type NodeKey, recordingStore } from './history.js';
import { formatReport } from './report.js';
import { ChaosWriter, readBack } from './writer.js';

export interface ChaosOptions {
  readonly durationMs: number;
  readonly seed: number;
  readonly downAfterMs?: number;
  /** How long to wait for the healed system to converge before judging it (default 90 s). */
  readonly convergeTimeoutMs?: number;
  readonly say?: (line: string) => void;
  readonly verbose?: boolean;
  /** Abort to stop early (Ctrl-C): faults are healed, processes stopped, and a partial report made. */
  readonly signal?: AbortSignal;
}

export interface ChaosResult {
  readonly seed: number;
  readonly settings: ClusterSettings;
  readonly params: AnalysisParams;
  readonly history: History;
  readonly findings: Findings;
  readonly final: FinalState;
  readonly names: ReadonlyMap<NodeKey, string>;
  readonly interrupted: boolean;
  readonly healAndConvergeMs: number;
  readonly report: string;
  /** The PIDs of every process the run started (last incarnation), all ended when runChaos returns. */
  readonly processIds: readonly number[];
  /** 0 clean; 1 a safety violation; 2 a false failover or no convergence; 130 interrupted. */
  readonly exitCode: number;
}

export const CHAOS_DEFAULTS = {
  downAfterMs: 1_500,
  failoverTimeoutMs: 10_000,
  infoPeriodMs: 1_000,
  leaderLeaseMs: 2_000,
  /** The client writes to a node only this long after the lookup that named it. */
  freshMs: 1_000,
  graceSlackMs: 250,
  unavailableGapMs: 500,
  convergeTimeoutMs: 90_000,
  /** Converged = the same healthy topology seen for this long. */
  convergeStableMs: 3_000,
  /** Writes flow this long before the first fault. */
  warmupMs: 2_000,
} as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every node as it reports itself, straight to the node. */
async function rolesNow(
  nodes: readonly NodeKey[],
): Promise<Map<NodeKey, { role: string; masterPort: number | null; linkUp: boolean }>> {
  const out = new Map<NodeKey, { role: string; masterPort: number | null; linkUp: boolean }>();
  await Promise.all(
    nodes.map(async (node) => {
      const [host, port] = node.split(':') as [string, string];
      const probe = createRedisProbe({ host, port: Number(port) }, { timeoutMs: 500, now: Date.now });
      try {
        const outcome = await probe.info();
        out.set(
          node,
          outcome.result.type === 'info'
            ? {
                role: outcome.result.info.role,
                masterPort: outcome.result.info.masterPort,
                linkUp: outcome.result.info.masterLinkUp,
              }
            : { role: outcome.result.type, masterPort: null, linkUp: false },
        );
      } finally {
        await probe.close();
      }
    }),
  );
  return out;
}

/** Waits until one master (the recorded one) and every other node its linked replica, stable for a while. */
async function waitForConvergence(
  cluster: ChaosCluster,
  history: History,
  timeoutMs: number,
): Promise<{ converged: boolean; ms: number; master: NodeKey | null; detail: string }> {
  const store = recordingStore(cluster.endpointStore, 'harness', history);
  const started = Date.now();
  let stableSince: number | null = null;
  let detail = 'not checked yet';
  let master: NodeKey | null = null;
  const name = (node: NodeKey) => cluster.names.get(node) ?? node;
  for (;;) {
    const record = await store.getMaster(MASTER_NAME).catch(() => null);
    let ok = false;
    if (!record) detail = 'the master record could not be read';
    else if (record.failoverState !== 'none') detail = `a failover is in progress (${record.failoverState})`;
    else {
      master = `${record.host}:${record.port}`;
      const roles = await rolesNow([...cluster.nodes.keys()]);
      const problems: string[] = [];
      for (const [node, seen] of roles) {
        if (node === master) {
          if (seen.role !== 'master') problems.push(`${name(node)} (recorded master) reports ${seen.role}`);
        } else if (seen.role !== 'replica' || seen.masterPort !== record.port || !seen.linkUp) {
          problems.push(
            `${name(node)} reports ${seen.role}${seen.masterPort ? ` of ${seen.masterPort}` : ''}` +
              `${seen.role === 'replica' && !seen.linkUp ? ' (link down)' : ''}`,
          );
        }
      }
      ok = problems.length === 0;
      detail = ok
        ? `${name(master)} master, ${[...cluster.nodes.keys()]
            .filter((n) => n !== master)
            .map(name)
            .join(' and ')} linked replicas, config epoch ${record.configEpoch}`
        : problems.join('; ');
    }
    const now = Date.now();
    if (ok) {
      stableSince ??= now;
      if (now - stableSince >= CHAOS_DEFAULTS.convergeStableMs) {
        return { converged: true, ms: stableSince - started, master, detail };
      }
    } else stableSince = null;
    if (now - started > timeoutMs) return { converged: false, ms: now - started, master, detail };
    await sleep(250);
  }
}

function nodeAddress(node: NodeKey): Address {
  const [host, port] = node.split(':') as [string, string];
  return { host, port: Number(port) };
}

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  // Progress lines carry the time since chaos started, the same clock as the report's "+12.3 s".
  let clockStart: number | null = null;
  const setupStart = Date.now();
  const say = (line: string) => {
    const stamp =
      clockStart === null
        ? `setup ${((Date.now() - setupStart) / 1000).toFixed(1)} s`
        : `+${((Date.now() - clockStart) / 1000).toFixed(1).padStart(6)} s`;
    options.say?.(`${stamp}  ${line}`);
  };
  const settings: ClusterSettings = {
    downAfterMs: options.downAfterMs ?? CHAOS_DEFAULTS.downAfterMs,
    failoverTimeoutMs: CHAOS_DEFAULTS.failoverTimeoutMs,
    infoPeriodMs: CHAOS_DEFAULTS.infoPeriodMs,
    leaderLeaseMs: CHAOS_DEFAULTS.leaderLeaseMs,
  };
  const history = new History();
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) stop.abort();

  say(
    `seed ${options.seed}, ${Math.round(options.durationMs / 1000)} s of chaos, down-after ${settings.downAfterMs} ms`,
  );
  const cluster = await startChaosCluster({ settings, history, say, verbose: options.verbose ?? false });
  const master = cluster.config.masters[0];
  if (!master) throw new Error('no master in the chaos configuration');
  let chaosStartedAt = Date.now();
  let chaosEndedAt = chaosStartedAt;
  let healStartedAt = chaosStartedAt;
  const processIds: number[] = [];
  let final: FinalState = {
    master: null,
    present: null,
    converged: false,
    convergeMs: 0,
    detail: 'not reached',
  };
  try {
    await cluster.ready(stop.signal);
    say('every sentinel has discovered both replicas');
    const writer = new ChaosWriter({
      history,
      endpoint: cluster.endpoint.address,
      freshMs: CHAOS_DEFAULTS.freshMs,
    });
    writer.start();
    const injector = new FaultInjector({ cluster, history, say });
    try {
      await new Promise((r) => setTimeout(r, CHAOS_DEFAULTS.warmupMs));
      chaosStartedAt = Date.now();
      clockStart = chaosStartedAt;
      say('chaos starts');
      await injector.run(
        planFaults(options.seed, settings.downAfterMs),
        chaosStartedAt + options.durationMs,
        stop.signal,
      );
      chaosEndedAt = Date.now();
    } finally {
      chaosEndedAt = Math.max(chaosEndedAt, Date.now());
      await writer.stop();
      healStartedAt = Date.now();
      say(`chaos ends after ${Math.round((chaosEndedAt - chaosStartedAt) / 1000)} s: healing every fault`);
      await injector.healAll({ restartKilled: !stop.signal.aborted });
    }
    if (!stop.signal.aborted) {
      say('waiting for the system to converge');
      const converged = await waitForConvergence(
        cluster,
        history,
        options.convergeTimeoutMs ?? CHAOS_DEFAULTS.convergeTimeoutMs,
      );
      say(converged.converged ? `converged: ${converged.detail}` : `did NOT converge: ${converged.detail}`);
      let present: Set<number> | null = null;
      if (converged.master) {
        try {
          present = await readBack(
            nodeAddress(converged.master),
            history.writes.map((w) => w.n),
          );
        } catch (error) {
          history.harnessNotes.push(`could not read the writes back from the final master: ${String(error)}`);
        }
      }
      final = {
        master: converged.master,
        present,
        converged: converged.converged,
        convergeMs: converged.ms,
        detail: converged.detail,
      };
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    for (const handle of cluster.nodes.values()) if (handle.running) processIds.push(handle.pid);
    processIds.push(cluster.dynamo.pid);
    await cluster.stop();
  }

  const params: AnalysisParams = {
    initialMaster: cluster.initialMaster,
    sentinels: cluster.sentinelIds,
    downAfterMs: settings.downAfterMs,
    probePeriodMs: master.probePeriodMs,
    probeTimeoutMs: master.probeTimeoutMs,
    freshMs: CHAOS_DEFAULTS.freshMs,
    graceSlackMs: CHAOS_DEFAULTS.graceSlackMs,
    unavailableGapMs: CHAOS_DEFAULTS.unavailableGapMs,
    chaosStartedAt,
    chaosEndedAt,
  };
  const findings = analyse(history, params, final);
  const interrupted = stop.signal.aborted;
  const falseFailovers = findings.failovers.filter((f) => f.isFalse).length;
  const exitCode = interrupted
    ? 130
    : findings.violations.length > 0
      ? 1
      : falseFailovers > 0 || !final.converged
        ? 2
        : 0;
  const healAndConvergeMs = Date.now() - healStartedAt;
  const report = formatReport({
    seed: options.seed,
    settings,
    params,
    history,
    findings,
    final,
    names: cluster.names,
    interrupted,
    healAndConvergeMs,
    exitCode,
    singleSentinelFalse: falseFailoversDuringSingleSentinelPartitions(findings).length,
  });
  return {
    seed: options.seed,
    settings,
    params,
    history,
    findings,
    final,
    names: cluster.names,
    interrupted,
    healAndConvergeMs,
    report,
    processIds,
    exitCode,
  };
}

/** Everything worth keeping from a run, as plain JSON (--json, and a failed CI run). Times relative to the chaos start. */
export function summaryOf(result: ChaosResult): Record<string, unknown> {
  const f = result.findings;
  const h = result.history;
  const t0 = result.params.chaosStartedAt;
  return {
    seed: result.seed,
    exitCode: result.exitCode,
    interrupted: result.interrupted,
    settings: result.settings,
    nodes: Object.fromEntries(result.names),
    chaosMs: result.params.chaosEndedAt - t0,
    faults: h.faults.map((x) => ({ ...x, startedAt: x.startedAt - t0, endedAt: (x.endedAt ?? t0) - t0 })),
    faultsByKind: f.faultsByKind,
    failovers: f.failovers.map((x) => ({
      ...x,
      claimedAt: x.claimedAt === null ? null : x.claimedAt - t0,
      committedBy: x.committedBy - t0,
      faultsAround: x.faultsAround.map((fault) => fault.id),
      rejected: h.rejectedAt.get(x.epoch) ?? [],
    })),
    abandonedAttempts: f.abandonedAttempts,
    falseAttempts: f.falseAttempts,
    unavailabilityMs: f.unavailability.map((w) => w.to - w.from),
    ackedWrites: h.writes.length,
    lost: { expected: f.lost.expected, byCause: f.lost.expectedByCause, unexpected: f.lost.unexpected },
    splitBrain: f.splitBrain,
    violations: f.violations,
    final: { ...result.final, present: result.final.present?.size ?? null },
    writeErrors: Object.fromEntries(h.writeErrors),
    sentinelErrors: Object.fromEntries(h.sentinelErrors),
    unplannedRunnerEnds: Object.fromEntries(h.unplannedRunnerEnds),
    harnessNotes: h.harnessNotes,
    claims: h.claims.map((c) => ({ ...c, startedAt: c.startedAt - t0, endedAt: c.endedAt - t0 })),
    switches: h.switches.map((x) => ({ ...x, startedAt: x.startedAt - t0, endedAt: x.endedAt - t0 })),
    conditions: h.conditions.map((c) => ({ ...c, from: c.from - t0, to: c.to === null ? null : c.to - t0 })),
    events: h.events.map((e) => ({ ...e, at: e.at - t0 })),
    roles: Object.fromEntries(
      [...h.roles].map(([node, samples]) => [
        result.names.get(node) ?? node,
        samples.map((x) => ({ ...x, at: x.at - t0 })),
      ]),
    ),
  };
}
