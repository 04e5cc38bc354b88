/**
 * Replica selection, exactly Sentinel's: exclusions first, each with the
 * reason it is shown to operators; then order by priority (lower first), replication offset (higher
 * first) and run id (smaller first, unknown last).
 */
import type { InstanceObservation } from './observation.js';
import type { Address, MasterSettings } from './types.js';

/** Redis's default replica-priority, used when INFO did not report one. */
const DEFAULT_REPLICA_PRIORITY = 100;

export interface ReplicaCandidate {
  readonly observation: InstanceObservation;
  /** This sentinel's SDOWN judgement of the replica. */
  readonly sdown: boolean;
}

export interface RankedReplica {
  readonly address: Address;
  readonly priority: number;
  readonly offset: number;
  readonly runId: string | null;
}

export interface Selection {
  readonly chosen: RankedReplica | null;
  /** Eligible replicas in promotion order (the chosen one first). */
  readonly ranked: readonly RankedReplica[];
  readonly rejected: ReadonlyArray<{ readonly host: string; readonly port: number; readonly reason: string }>;
}

/** How old a replica's INFO may be for it to be promoted (Sentinel's info validity time). */
export function infoValidityMs(
  settings: Pick<MasterSettings, 'probePeriodMs' | 'infoPeriodMs'>,
  masterSdown: boolean,
): number {
  return masterSdown ? 5 * settings.probePeriodMs : 3 * settings.infoPeriodMs;
}

/** Why this replica may not be promoted now, or null if it may. */
export function exclusionReason(
  candidate: ReplicaCandidate,
  context: { settings: MasterSettings; masterSdownSince: number | null; now: number },
): string | null {
  const { observation: obs } = candidate;
  const { settings, masterSdownSince, now } = context;
  if (candidate.sdown) return 'sdown';
  if (!obs.linkConnected) return 'disconnected';
  const sinceValidReply = now - obs.lastValidReplyAt;
  if (sinceValidReply > 5 * settings.probePeriodMs) return `no valid PING reply for ${sinceValidReply}ms`;
  const info = obs.info;
  if (info === null || obs.infoAt === null) return 'no INFO received yet';
  if (info.replicaPriority === 0) return 'replica-priority is 0';
  // An old master back from a crash, not converted yet: it holds none of the writes acknowledged since
  // it was failed over, so promoting it would throw them away (Sentinel would rank it at offset 0).
  if (info.role === 'master') return 'reports role master: not a replica of the failed master';
  const infoAge = now - obs.infoAt;
  const infoLimit = infoValidityMs(settings, masterSdownSince !== null);
  if (infoAge > infoLimit) return `INFO is ${infoAge}ms old (limit ${infoLimit}ms)`;
  const linkDownLimit = (masterSdownSince !== null ? now - masterSdownSince : 0) + 10 * settings.downAfterMs;
  if (info.masterLinkDownSinceMs > linkDownLimit) {
    return `link to the master down for ${info.masterLinkDownSinceMs}ms (limit ${linkDownLimit}ms)`;
  }
  return null;
}

function compareRunIds(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

export function rankReplicas(a: RankedReplica, b: RankedReplica): number {
  if (a.priority !== b.priority) return a.priority - b.priority;
  if (a.offset !== b.offset) return b.offset - a.offset;
  return compareRunIds(a.runId, b.runId);
}

export function selectReplica(
  candidates: readonly ReplicaCandidate[],
  context: { settings: MasterSettings; masterSdownSince: number | null; now: number },
): Selection {
  const rejected: Array<{ host: string; port: number; reason: string }> = [];
  const eligible: RankedReplica[] = [];
  for (const candidate of candidates) {
    const { address, info } = candidate.observation;
    const reason = exclusionReason(candidate, context);
    if (reason !== null) {
      rejected.push({ host: address.host, port: address.port, reason });
      continue;
    }
    eligible.push({
      address,
      priority: info?.replicaPriority ?? DEFAULT_REPLICA_PRIORITY,
      offset: info?.replicaOffset ?? 0,
      runId: info?.runId ?? null,
    });
  }
  const ranked = [...eligible].sort(rankReplicas);
  const chosen = ranked[0] ?? null;
  for (const other of ranked.slice(1)) {
    rejected.push({
      host: other.address.host,
      port: other.address.port,
      reason: `ranked below ${chosen?.address.host}:${chosen?.address.port} (priority ${other.priority}, offset ${other.offset})`,
    });
  }
  return { chosen, ranked, rejected };
}
