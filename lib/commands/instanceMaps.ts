/**
 * Sentinel's instance maps (SENTINEL MASTER, REPLICAS, SENTINELS): field names and order as Sentinel sends
 * them, built from what the store holds and, when a sentinel loop runs in this process, from its
 * observations and memory. Pure: the caller reads the store and the clock.
 *
 * Where a Sentinel field has no meaning here, the value is documented next to it (docs/endpoint.md).
 */
import type { MasterMemory } from '../core/decide.js';
import type { InstanceObservation } from '../core/observation.js';
import { freshDownVotes, quorumReached } from '../core/quorum.js';
import type {
  Address,
  LoopLease,
  MasterRecord,
  MasterSettings,
  ReplicaRecord,
  ReplicationInfo,
  SentinelId,
  Vote,
} from '../core/types.js';
import { type EndpointAddress, type Fields, runIdOf } from './view.js';

/** Everything the store holds about one master, read together. */
export interface MasterState {
  readonly settings: MasterSettings;
  readonly record: MasterRecord | null;
  readonly address: Address;
  /** Its replicas, the master itself left out. */
  readonly replicas: ReplicaRecord[];
  readonly votes: Vote[];
  readonly leases: LoopLease[];
}

/** Who answers: the sentinel this endpoint speaks as, among the configured members. */
export interface Speaker {
  readonly selfId: SentinelId;
  readonly members: readonly SentinelId[];
  /** A peer whose loop heartbeat is older than this counts as down (sentinelHeartbeatStaleMs). */
  readonly heartbeatStaleMs: number;
}

const ms = (n: number | null | undefined): string => String(Math.max(0, Math.round(n ?? 0)));

/** A peer counts as down (flags, CKQUORUM) without a lease, or with a heartbeat older than the limit. */
export function isStale(lease: LoopLease | null, now: number, heartbeatStaleMs: number): boolean {
  return lease === null || now - lease.heartbeatAt > heartbeatStaleMs;
}

/** The common prefix of every Sentinel instance map, up to and including `link-refcount`. */
function head(name: string, address: Address, runid: string, flags: string[]): Array<[string, string]> {
  return [
    ['name', name],
    ['ip', address.host],
    ['port', String(address.port)],
    ['runid', runid],
    ['flags', flags.join(',')],
    ['link-pending-commands', '0'],
    ['link-refcount', '1'],
  ];
}

/** Timing fields from an observation: last-ping-sent, last-ok-ping-reply, last-ping-reply. */
function pingFields(
  obs: InstanceObservation | null,
  now: number,
  fallbackOkAt: number | null,
): Array<[string, string]> {
  if (obs === null) {
    const since = fallbackOkAt === null ? '0' : ms(now - fallbackOkAt);
    return [
      ['last-ping-sent', '0'],
      ['last-ok-ping-reply', since],
      ['last-ping-reply', since],
    ];
  }
  return [
    ['last-ping-sent', obs.oldestUnansweredPingAt === null ? '0' : ms(now - obs.oldestUnansweredPingAt)],
    ['last-ok-ping-reply', ms(now - obs.lastValidReplyAt)],
    ['last-ping-reply', ms(now - (obs.lastReplyAt ?? obs.lastValidReplyAt))],
  ];
}

function roleFields(
  obs: InstanceObservation | null,
  configured: 'master' | 'slave',
  now: number,
): Array<[string, string]> {
  const reported = obs?.reportedRole ?? null;
  return [
    ['info-refresh', obs?.infoAt == null ? '0' : ms(now - obs.infoAt)],
    ['role-reported', reported === null ? configured : reported === 'master' ? 'master' : 'slave'],
    ['role-reported-time', obs?.reportedRoleSince == null ? '0' : ms(now - obs.reportedRoleSince)],
  ];
}

/**
 * SENTINEL MASTER. `s_down` and `o_down` come from the loop's memory when it runs in this process.
 * Otherwise from the store, by core's vote rules (lib/core/quorum.ts): `s_down` from this sentinel's own
 * fresh down-vote, `o_down` when the fresh down-votes of the current configuration reach the quorum.
 */
export function masterMap(
  s: MasterState,
  speaker: Speaker,
  now: number,
  obs: InstanceObservation | null,
  memory: MasterMemory | null,
): Fields {
  const down = freshDownVotes(s.votes, {
    members: speaker.members,
    voteMaxAgeMs: s.settings.voteMaxAgeMs,
    configEpoch: s.record?.configEpoch ?? 0,
    now,
  });
  const selfVote = down.find((v) => v.sentinelId === speaker.selfId);
  const sdownSince = memory ? memory.sdownSince : (selfVote?.observedAt ?? null);
  const odownSince = memory
    ? memory.odownSince
    : quorumReached(down.length, s.settings.quorum)
      ? Math.min(...down.map((v) => v.observedAt))
      : null;
  const inFailover = s.record !== null && s.record.failoverState !== 'none';
  // Once the address has switched (reconf_slaves), the master shown is the promoted one, which no
  // failover is replacing: Sentinel shows no failover flag on the master after +switch-master either.
  // Clients that skip a master flagged failover_in_progress (node-redis) then use the new one at once;
  // the failover-state field still says the replicas are being re-pointed.
  const replacingShownMaster = inFailover && s.record?.failoverState !== 'reconf_slaves';
  const flags = [
    ...(sdownSince !== null ? ['s_down'] : []),
    ...(odownSince !== null ? ['o_down'] : []),
    'master',
    ...(obs !== null && !obs.linkConnected ? ['disconnected'] : []),
    ...(replacingShownMaster ? ['failover_in_progress'] : []),
  ];
  const okAt = s.votes
    .filter((v) => !v.down)
    .reduce<number | null>((m, v) => Math.max(m ?? 0, v.observedAt), null);
  return [
    ...head(s.settings.name, s.address, obs?.runId ?? '', flags),
    ...(inFailover ? [['failover-state', s.record?.failoverState ?? 'none'] as [string, string]] : []),
    ...pingFields(obs, now, okAt),
    ...(sdownSince !== null ? [['s-down-time', ms(now - sdownSince)] as [string, string]] : []),
    ...(odownSince !== null ? [['o-down-time', ms(now - odownSince)] as [string, string]] : []),
    ['down-after-milliseconds', String(s.settings.downAfterMs)],
    ...roleFields(obs, 'master', now),
    ['config-epoch', String(s.record?.configEpoch ?? 0)],
    ['num-slaves', String(s.replicas.length)],
    ['num-other-sentinels', String(speaker.members.length - 1)],
    ['quorum', String(s.settings.quorum)],
    ['failover-timeout', String(s.settings.failoverTimeoutMs)],
    ['parallel-syncs', String(s.settings.parallelSyncs)],
  ];
}

/** SENTINEL REPLICAS: one replica's map; `sdownSince` from the loop's memory when it runs here. */
export function replicaMap(
  s: MasterState,
  replica: ReplicaRecord,
  now: number,
  obs: InstanceObservation | null,
  sdownSince: number | null,
): Fields {
  const key = `${replica.host}:${replica.port}`;
  const flags = [
    ...(sdownSince !== null ? ['s_down'] : []),
    'slave',
    ...(obs !== null && !obs.linkConnected ? ['disconnected'] : []),
  ];
  const info = obs?.info ?? null;
  const linkUp = info ? info.masterLinkUp : true;
  return [
    ...head(key, replica, obs?.runId ?? replica.runId ?? '', flags),
    ...pingFields(obs, now, replica.lastSeenAt),
    ...(sdownSince !== null ? [['s-down-time', ms(now - sdownSince)] as [string, string]] : []),
    ['down-after-milliseconds', String(s.settings.downAfterMs)],
    ...roleFields(obs, 'slave', now),
    ['master-link-down-time', String(info?.masterLinkDownSinceMs ?? 0)],
    ['master-link-status', linkUp ? 'ok' : 'err'],
    ['master-host', info ? (info.masterHost ?? '?') : s.address.host],
    ['master-port', String(info ? (info.masterPort ?? 0) : s.address.port)],
    ['slave-priority', String(info?.replicaPriority ?? 100)],
    ['slave-repl-offset', String(info?.replicaOffset ?? 0)],
    ['replica-announced', info && !info.replicaAnnounced ? '0' : '1'],
  ];
}

/**
 * SENTINEL SENTINELS: one peer's map. Its liveness is its loop lease's heartbeat; every peer is reached
 * at `endpoint`, since this endpoint serves them all.
 */
export function sentinelMap(
  s: MasterState,
  id: SentinelId,
  lease: LoopLease | null,
  endpoint: EndpointAddress,
  now: number,
  speaker: Speaker,
): Fields {
  const { heartbeatStaleMs } = speaker;
  const stale = isStale(lease, now, heartbeatStaleMs);
  const flags = [...(stale ? ['s_down'] : []), 'sentinel', ...(stale ? ['disconnected'] : [])];
  const heartbeatAt = lease?.heartbeatAt ?? null;
  const since = heartbeatAt === null ? '0' : ms(now - heartbeatAt);
  const leader = s.record?.leader ?? null;
  return [
    ...head(runIdOf(id), endpoint, runIdOf(id), flags),
    ['last-ping-sent', '0'],
    ['last-ok-ping-reply', since],
    ['last-ping-reply', since],
    ...(stale && heartbeatAt !== null
      ? [['s-down-time', ms(now - heartbeatAt - heartbeatStaleMs)] as [string, string]]
      : []),
    ['down-after-milliseconds', String(s.settings.downAfterMs)],
    ['last-hello-message', since],
    ['voted-leader', leader === null ? '?' : runIdOf(leader)],
    ['voted-leader-epoch', String(leader === null ? 0 : (s.record?.currentEpoch ?? 0))],
  ];
}

/**
 * An instance's INFO as SENTINEL INFO-CACHE gives it. Sentinel caches the whole INFO text; here only
 * what the probes parse is kept (lib/core/types.ts ReplicationInfo), so the text holds those fields,
 * with Redis's names, in Redis's sections: what Sentinel itself reads of the cached INFO.
 */
export function infoText(info: ReplicationInfo): string {
  const server = ['# Server'];
  if (info.redisVersion !== null) server.push(`redis_version:${info.redisVersion}`);
  if (info.runId !== null) server.push(`run_id:${info.runId}`);
  const replication = ['# Replication', `role:${info.role === 'master' ? 'master' : 'slave'}`];
  if (info.role === 'replica') {
    if (info.masterHost !== null) replication.push(`master_host:${info.masterHost}`);
    if (info.masterPort !== null) replication.push(`master_port:${info.masterPort}`);
    replication.push(`master_link_status:${info.masterLinkUp ? 'up' : 'down'}`);
    if (!info.masterLinkUp && info.masterLinkDownSinceMs > 0) {
      replication.push(`master_link_down_since_seconds:${Math.floor(info.masterLinkDownSinceMs / 1000)}`);
    }
    if (info.replicaOffset !== null) replication.push(`slave_repl_offset:${info.replicaOffset}`);
    if (info.replicaPriority !== null) replication.push(`slave_priority:${info.replicaPriority}`);
    replication.push(`replica_announced:${info.replicaAnnounced ? 1 : 0}`);
  } else {
    replication.push(`connected_slaves:${info.connectedReplicas.length}`);
    info.connectedReplicas.forEach((r, i) => {
      replication.push(
        `slave${i}:ip=${r.host},port=${r.port},state=${r.state},offset=${r.offset},lag=${r.lag}`,
      );
    });
  }
  if (info.masterReplOffset !== null) replication.push(`master_repl_offset:${info.masterReplOffset}`);
  const loading = ['# Persistence', `loading:${info.loading ? 1 : 0}`];
  return `${[...server, '', ...loading, '', ...replication].join('\r\n')}\r\n`;
}
