/**
 * The status summary: what the status page (lib/http/statusPage.ts, `GET /`) and `lambda-sentinel status`
 * show, in one model. Built here, pure, from what the store holds, the observations of a sentinel loop
 * running in this process (the local runner's), and the event log; the caller reads those and the clock
 * (statusSource.ts). The rules are core's, reused: a master's flags are SENTINEL MASTER's (instanceMaps.ts),
 * vote freshness is lib/core/quorum.ts, and why a replica would or would not be promoted is the failover's
 * own selection (lib/core/selection.ts).
 *
 * Served as JSON by `GET /v1/status` (docs/http-api.md). Every string in it may come from configuration or
 * Redis (master and host names): whoever renders it must escape it (the page only ever sets text).
 */
import type { MasterMemory } from '../core/decide.js';
import { addressKey } from '../core/decide.js';
import type { InstanceObservation } from '../core/observation.js';
import { downVoteIgnoredBecause } from '../core/quorum.js';
import { type ReplicaCandidate, selectReplica } from '../core/selection.js';
import type { LoopLease, SentinelId } from '../core/types.js';
import type { EventRecord } from '../eventLog.js';
import type { MonitorSnapshot } from '../runtime/monitor.js';
import { isStale, type MasterState, masterMap, type Speaker } from './instanceMaps.js';
import { runIdOf } from './view.js';

/** How often the page asks for a new summary, when served by the local runner (one process, no bill). */
export const LOCAL_STATUS_REFRESH_MS = 1_000;
/**
 * …and when served by the deployed API: each refresh is one function invocation and a few table reads
 * (docs/deploy.md, "Cost"), so half as often. The page also stops asking while its tab is hidden.
 */
export const DEPLOYED_STATUS_REFRESH_MS = 2_000;
/** The events read for a summary: enough for the timelines of the last few failovers (≈40 events each). */
export const STATUS_EVENT_LIMIT = 300;
/** Of those, the newest shown as the event stream. */
export const STATUS_EVENTS_SHOWN = 60;
/** Timelines kept, newest first. */
export const STATUS_FAILOVERS_SHOWN = 5;

/** One master as the caller read it. */
export interface MasterInput {
  readonly state: MasterState;
  /** The address and config epoch lookups answer (get-master-addr-by-name, announced). */
  readonly address: { readonly ip: string; readonly port: number; readonly epoch: number };
  /** The observing sentinel's probes of it and its replicas, when its loop runs in this process. */
  readonly snapshot: MonitorSnapshot | null;
  readonly memory: MasterMemory | null;
}

export interface StatusInput {
  readonly now: number;
  readonly refreshMs: number;
  /** The configured sentinels. */
  readonly members: readonly SentinelId[];
  /** The sentinel whose observations are shown (its loop runs here), or null (the deployed API). */
  readonly observer: SentinelId | null;
  readonly heartbeatStaleMs: number;
  readonly leases: readonly LoopLease[];
  readonly masters: readonly MasterInput[];
  /** The event log's newest records, in any order. */
  readonly events: readonly EventRecord[];
}

export type MasterHealth = 'ok' | 'sdown' | 'odown' | 'failover';

export interface ReplicaStatus {
  readonly ip: string;
  readonly port: number;
  /** What the replica's INFO says (`replica`, `master`), or `replica (recorded)` when not observed here. */
  readonly role: string;
  /** Its replication link to the master: `up`, `down`, or `unknown` (not observed here). */
  readonly link: 'up' | 'down' | 'unknown';
  readonly offset: number | null;
  /** The master's replication offset minus the replica's: bytes behind. */
  readonly lagBytes: number | null;
  /** Seconds since the replica's last ack, as the master's INFO reports it. */
  readonly lagSeconds: number | null;
  readonly priority: number | null;
  readonly flags: readonly string[];
  /** Whether the failover would consider it now; null when not known here. */
  readonly eligible: boolean | null;
  /** It is the one the failover would promote now (or is promoting). */
  readonly chosen: boolean;
  /** Why it would, or would not, be chosen (the selection's own reason). */
  readonly why: string;
}

export interface MasterStatus {
  readonly name: string;
  readonly ip: string;
  readonly port: number;
  readonly configEpoch: number;
  readonly currentEpoch: number;
  /** The leader of the current epoch, or null. */
  readonly leader: SentinelId | null;
  readonly leaderLeaseLeftMs: number | null;
  readonly state: MasterHealth;
  /** SENTINEL MASTER's flags. */
  readonly flags: readonly string[];
  readonly failoverState: string;
  readonly quorum: number;
  /** Fresh down-votes about the current configuration. */
  readonly downVotes: number;
  readonly replicas: readonly ReplicaStatus[];
}

export interface SentinelVoteStatus {
  readonly master: string;
  readonly down: boolean;
  readonly observedAgoMs: number;
  /** Why the vote does not count towards ODOWN now, or null when it does. */
  readonly ignored: string | null;
}

export interface SentinelStatus {
  readonly id: SentinelId;
  readonly runId: string;
  /** The last heartbeat of its loop (written at its ticks), or null when it never ran. */
  readonly lastHeartbeatAt: number | null;
  readonly lastHeartbeatAgoMs: number | null;
  /** Counted down: no lease, or a heartbeat too old (as SENTINEL SENTINELS and CKQUORUM count it). */
  readonly stale: boolean;
  readonly tilt: boolean;
  readonly lease: {
    readonly held: boolean;
    readonly token: number;
    readonly leftMs: number;
  } | null;
  /** Its down-vote (or "up" vote) per master. */
  readonly votes: readonly SentinelVoteStatus[];
  /** The masters whose current epoch it leads. */
  readonly leads: ReadonlyArray<{ readonly master: string; readonly epoch: number }>;
  /** Its last summary line, for operators. */
  readonly summary: string | null;
}

export interface StatusEvent {
  readonly at: number;
  readonly sentinelId: SentinelId;
  readonly type: string;
  readonly payload: string;
  readonly level: string;
  readonly master: string | null;
  readonly epoch: number | null;
}

/** The steps of a failover's timeline, in order. */
export const TIMELINE_STEPS = ['sdown', 'odown', 'elected', 'promoted', 'switched', 'relinked'] as const;
export type TimelineStep = (typeof TIMELINE_STEPS)[number];

export const TIMELINE_LABELS: Readonly<Record<TimelineStep, string>> = {
  sdown: 'kill/SDOWN',
  odown: 'ODOWN',
  elected: 'elected',
  promoted: 'promoted',
  switched: 'switched',
  relinked: 'replicas re-linked',
};

export type FailoverOutcome = 'complete' | 'switched' | 'in progress' | 'aborted' | 'superseded';

export interface FailoverTimeline {
  readonly master: string;
  /** The epoch the failover ran in: the master's config epoch once it switched. */
  readonly epoch: number;
  readonly from: string | null;
  readonly to: string | null;
  readonly outcome: FailoverOutcome;
  /** Time zero: the first SDOWN (or, for a manual failover, the new epoch). */
  readonly startedAt: number;
  /** Each step's time (ms after startedAt), or null when the events do not show it. */
  readonly steps: ReadonlyArray<{
    readonly step: TimelineStep;
    readonly at: number | null;
    readonly ms: number | null;
  }>;
  /** From time zero to the last step seen. */
  readonly totalMs: number;
}

export interface StatusSummary {
  readonly generatedAt: number;
  /** How often a viewer should ask again. */
  readonly refreshMs: number;
  readonly observer: SentinelId | null;
  readonly masters: readonly MasterStatus[];
  readonly sentinels: readonly SentinelStatus[];
  /** The newest events, oldest first. */
  readonly events: readonly StatusEvent[];
  /** The latest failovers, newest first. */
  readonly failovers: readonly FailoverTimeline[];
}

export function summarizeStatus(input: StatusInput): StatusSummary {
  const { now, members } = input;
  const speaker: Speaker = {
    selfId: input.observer ?? members[0] ?? 'sentinel',
    members,
    heartbeatStaleMs: input.heartbeatStaleMs,
  };
  const masters = input.masters.map((m) => masterStatus(m, speaker, now));
  const sentinels = members.map((id) => sentinelStatus(id, input));
  const ordered = [...input.events].sort(byTime);
  return {
    generatedAt: now,
    refreshMs: input.refreshMs,
    observer: input.observer,
    masters,
    sentinels,
    events: ordered.slice(-STATUS_EVENTS_SHOWN).map(statusEvent),
    failovers: failoverTimelines(ordered).slice(0, STATUS_FAILOVERS_SHOWN),
  };
}

function byTime(a: EventRecord, b: EventRecord): number {
  if (a.at !== b.at) return a.at - b.at;
  if (a.sentinelId !== b.sentinelId) return a.sentinelId < b.sentinelId ? -1 : 1;
  return a.seq - b.seq;
}

function statusEvent(e: EventRecord): StatusEvent {
  return {
    at: e.at,
    sentinelId: e.sentinelId,
    type: e.type,
    payload: e.payload,
    level: e.level,
    master: e.master,
    epoch: e.epoch,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Masters and replicas

function masterStatus(m: MasterInput, speaker: Speaker, now: number): MasterStatus {
  const { state: s } = m;
  const fields = new Map(masterMap(s, speaker, now, m.snapshot?.master ?? null, m.memory));
  const flags = (fields.get('flags') ?? '').split(',').filter((f) => f !== '');
  const record = s.record;
  const failoverState = record?.failoverState ?? 'none';
  const state: MasterHealth =
    failoverState !== 'none'
      ? 'failover'
      : flags.includes('o_down')
        ? 'odown'
        : flags.includes('s_down')
          ? 'sdown'
          : 'ok';
  const configEpoch = Math.max(record?.configEpoch ?? 0, m.address.epoch);
  const downVotes = s.votes.filter(
    (v) =>
      v.down &&
      downVoteIgnoredBecause(v, {
        members: speaker.members,
        voteMaxAgeMs: s.settings.voteMaxAgeMs,
        configEpoch: record?.configEpoch ?? 0,
        now,
      }) === null,
  ).length;
  return {
    name: s.settings.name,
    ip: m.address.ip,
    port: m.address.port,
    configEpoch,
    currentEpoch: Math.max(record?.currentEpoch ?? 0, configEpoch),
    leader: record?.leader ?? null,
    leaderLeaseLeftMs:
      record?.leader != null && record.leaderLeaseUntil > now ? record.leaderLeaseUntil - now : null,
    state,
    flags,
    failoverState,
    quorum: s.settings.quorum,
    downVotes,
    replicas: replicaStatuses(m, now),
  };
}

const sameAddress = (a: { host: string; port: number }, host: string, port: number): boolean =>
  a.host === host && a.port === port;

function replicaStatuses(m: MasterInput, now: number): ReplicaStatus[] {
  const { state: s, snapshot, memory } = m;
  const observed = (host: string, port: number): InstanceObservation | null =>
    snapshot?.replicas.find((o) => sameAddress(o.address, host, port)) ?? null;
  const sdownOf = (host: string, port: number): boolean =>
    memory?.replicaSdownSince[addressKey({ host, port })] !== undefined;
  // The failover's own selection, on the observing sentinel's view: exactly what it would do now.
  const candidates: ReplicaCandidate[] = s.replicas.flatMap((r) => {
    const observation = observed(r.host, r.port);
    return observation === null ? [] : [{ observation, sdown: sdownOf(r.host, r.port) }];
  });
  const selection =
    snapshot === null
      ? null
      : selectReplica(candidates, {
          settings: s.settings,
          masterSdownSince: memory?.sdownSince ?? null,
          now,
        });
  // A failover under way (or the last one) recorded its own choice: shown where nothing is observed here.
  const recorded = s.record?.failover ?? null;
  const masterInfo = snapshot?.master.info ?? null;
  return s.replicas.map((r) => {
    const obs = observed(r.host, r.port);
    const info = obs?.info ?? null;
    const offset = info?.replicaOffset ?? null;
    const masterOffset = masterInfo?.masterReplOffset ?? null;
    const ack = masterInfo?.connectedReplicas.find((c) => sameAddress(c, r.host, r.port)) ?? null;
    const flags = [
      ...(sdownOf(r.host, r.port) ? ['s_down'] : []),
      'slave',
      ...(obs !== null && !obs.linkConnected ? ['disconnected'] : []),
      ...(info !== null && !info.replicaAnnounced ? ['not-announced'] : []),
    ];
    const judged = judge(r.host, r.port);
    return {
      ip: r.host,
      port: r.port,
      role: info === null ? 'replica (recorded)' : info.role,
      link: info === null ? 'unknown' : info.masterLinkUp ? 'up' : 'down',
      offset,
      lagBytes: offset !== null && masterOffset !== null ? Math.max(0, masterOffset - offset) : null,
      lagSeconds: ack?.lag ?? null,
      priority: info?.replicaPriority ?? null,
      flags,
      ...judged,
    };
  });

  function judge(host: string, port: number): Pick<ReplicaStatus, 'eligible' | 'chosen' | 'why'> {
    if (selection !== null) {
      if (selection.chosen !== null && sameAddress(selection.chosen.address, host, port)) {
        const c = selection.chosen;
        return {
          eligible: true,
          chosen: true,
          why: `would be promoted: first by priority ${c.priority}, offset ${c.offset}, run id`,
        };
      }
      const rejected = selection.rejected.find((x) => sameAddress(x, host, port));
      if (rejected !== undefined) {
        const ranked = selection.ranked.some((x) => sameAddress(x.address, host, port));
        return { eligible: ranked, chosen: false, why: rejected.reason };
      }
      return { eligible: null, chosen: false, why: 'not probed yet by the observing sentinel' };
    }
    if (recorded !== null) {
      if (recorded.promoted !== null && sameAddress(recorded.promoted, host, port))
        return { eligible: true, chosen: true, why: 'chosen by the failover in progress' };
      const rejected = recorded.rejected.find((x) => sameAddress(x, host, port));
      if (rejected !== undefined)
        return { eligible: false, chosen: false, why: `the failover's reason: ${rejected.reason}` };
    }
    return {
      eligible: null,
      chosen: false,
      why: 'not known here: each sentinel judges from its own probes (a failover records its choice)',
    };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Sentinels

function sentinelStatus(id: SentinelId, input: StatusInput): SentinelStatus {
  const { now } = input;
  const lease = input.leases.find((l) => l.sentinelId === id) ?? null;
  const votes = input.masters.flatMap(({ state: s }) => {
    const vote = s.votes.find((v) => v.sentinelId === id);
    if (vote === undefined) return [];
    const ignored = downVoteIgnoredBecause(vote, {
      members: input.members,
      voteMaxAgeMs: s.settings.voteMaxAgeMs,
      configEpoch: s.record?.configEpoch ?? 0,
      now,
    });
    return [
      {
        master: s.settings.name,
        down: vote.down,
        observedAgoMs: Math.max(0, now - vote.observedAt),
        ignored,
      },
    ];
  });
  const leads = input.masters.flatMap(({ state: s }) =>
    s.record?.leader === id ? [{ master: s.settings.name, epoch: s.record.currentEpoch }] : [],
  );
  return {
    id,
    runId: runIdOf(id),
    lastHeartbeatAt: lease?.heartbeatAt ?? null,
    lastHeartbeatAgoMs: lease === null ? null : Math.max(0, now - lease.heartbeatAt),
    stale: isStale(lease, now, input.heartbeatStaleMs),
    tilt: lease?.tilt ?? false,
    lease:
      lease === null
        ? null
        : {
            held: lease.holder !== null && lease.leaseUntil > now,
            token: lease.token,
            leftMs: Math.max(0, lease.leaseUntil - now),
          },
    votes,
    leads,
    summary: lease?.summary ?? null,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Failover timelines

/** `-failover-abort-not-elected` is every loser's note, not the end of the failover. */
const isAbort = (e: EventRecord): boolean =>
  e.type.startsWith('-failover-abort') && e.type !== '-failover-abort-not-elected';

const aboutMaster = (e: EventRecord): boolean => e.payload.startsWith('master ');

/**
 * Each failover of each master, newest first, from the event log (oldest first, as `ordered`). A failover
 * is an epoch some sentinel won (`+new-epoch N` then `+elected-leader`); its steps are the first event of
 * each kind from any sentinel in that epoch's window, and its start the SDOWN that led to it.
 */
export function failoverTimelines(ordered: readonly EventRecord[]): FailoverTimeline[] {
  const byMaster = new Map<string, EventRecord[]>();
  for (const e of ordered) {
    if (e.master === null) continue;
    const list = byMaster.get(e.master) ?? [];
    list.push(e);
    byMaster.set(e.master, list);
  }
  const timelines: FailoverTimeline[] = [];
  for (const [master, events] of byMaster) timelines.push(...timelinesOf(master, events));
  // Attempts in one outage share their start: the later epoch is the newer.
  return timelines.sort((a, b) => b.startedAt - a.startedAt || b.epoch - a.epoch);
}

function timelinesOf(master: string, events: readonly EventRecord[]): FailoverTimeline[] {
  // Each epoch's window: from its first +new-epoch to the next epoch's.
  const starts: Array<{ epoch: number; index: number }> = [];
  events.forEach((e, index) => {
    if (e.type !== '+new-epoch') return;
    const epoch = Number(e.payload);
    if (!Number.isSafeInteger(epoch) || starts.some((s) => s.epoch === epoch)) return;
    starts.push({ epoch, index });
  });
  const timelines: FailoverTimeline[] = [];
  starts.forEach(({ epoch, index }, i) => {
    const end = starts[i + 1]?.index ?? events.length;
    const window = events.slice(index, end);
    const first = (type: string) => window.find((e) => e.type === type) ?? null;
    const elected = first('+elected-leader');
    const switched = first('+switch-master');
    if (elected === null && switched === null) return;
    const promoted = first('+promoted-slave');
    const ended = first('+failover-end');
    const relinkedDone = window.filter(
      (e) => e.type === '+slave-reconf-done' && (ended === null || e.at <= ended.at),
    );
    const relinked = relinkedDone[relinkedDone.length - 1] ?? ended;
    // What led to it: the outage since the last failover before this epoch, after its last recovery.
    const before = events.slice(0, index);
    const lastEnd = findLastIndex(before, (e) => e.type === '+switch-master' || e.type === '+failover-end');
    const outage = before.slice(lastEnd + 1);
    const since = (up: string, down: string) => {
      const lastUp = findLastIndex(outage, (e) => e.type === up && aboutMaster(e));
      return outage.slice(lastUp + 1).find((e) => e.type === down && aboutMaster(e)) ?? null;
    };
    const sdown = since('-sdown', '+sdown');
    const odown = since('-odown', '+odown');
    const startedAt = (sdown ?? odown ?? (events[index] as EventRecord)).at;
    const at: Record<TimelineStep, EventRecord | null> = {
      sdown,
      odown,
      elected,
      promoted,
      switched,
      relinked,
    };
    const steps = TIMELINE_STEPS.map((step) => {
      const e = at[step];
      return { step, at: e?.at ?? null, ms: e === null ? null : e.at - startedAt };
    });
    const last = Math.max(...steps.map((s) => s.ms ?? 0));
    const words = switched?.payload.split(' ') ?? [];
    const outcome: FailoverOutcome =
      switched !== null
        ? ended !== null
          ? 'complete'
          : 'switched'
        : window.some(isAbort)
          ? 'aborted'
          : i < starts.length - 1
            ? 'superseded'
            : 'in progress';
    timelines.push({
      master,
      epoch,
      from: words.length >= 5 ? `${words[1]}:${words[2]}` : null,
      to: words.length >= 5 ? `${words[3]}:${words[4]}` : null,
      outcome,
      startedAt,
      steps,
      totalMs: last,
    });
  });
  return timelines;
}

function findLastIndex<T>(list: readonly T[], test: (item: T) => boolean): number {
  for (let i = list.length - 1; i >= 0; i--) if (test(list[i] as T)) return i;
  return -1;
}
