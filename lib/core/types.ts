/**
 * Domain types shared by the pure core, the adapters and the runtime.
 * The core never sees Redis wire words or DynamoDB attribute names: adapters translate at the boundary.
 */

import type { LogLevel } from './globalParams.js';

/** A Redis endpoint. */
export interface Address {
  readonly host: string;
  readonly port: number;
}

export type SentinelId = string;

/** TLS options for connections to Redis (Sentinel's `tls-replication yes` plus the usual `tls-*` files). */
export interface TlsSettings {
  readonly enabled: boolean;
  readonly caCertFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  /** Verify the server certificate (default true). `tls-auth-clients` is a server setting and not used here. */
  readonly rejectUnauthorized: boolean;
}

/** Settings that apply to the whole deployment (global `sentinel …` lines). */
export interface GlobalSettings {
  /** Fixed membership: the ids of the sentinels that vote. Majority is computed from this list. */
  readonly sentinelIds: readonly SentinelId[];
  readonly tiltTriggerMs: number;
  readonly tiltPeriodMs: number;
  readonly loopLeaseMs: number;
  readonly heartbeatPeriodMs: number;
  readonly tls: TlsSettings;
  /**
   * `sentinel resolve-hostnames yes`: a master may be monitored by host name, kept as given and
   * resolved at each connection. Absent: SENTINEL_DEFAULTS (no, as in Sentinel: IP addresses only).
   */
  readonly resolveHostnames?: boolean;
  /**
   * `sentinel announce-hostnames yes`: replies show a host name as given instead of its IP address.
   * Absent: SENTINEL_DEFAULTS (no).
   */
  readonly announceHostnames?: boolean;
  /**
   * `sentinel deny-scripts-reconfig`: SENTINEL SET may not change a script path. Absent:
   * SENTINEL_DEFAULTS (yes, as in Sentinel).
   */
  readonly denyScriptsReconfig?: boolean;
  /**
   * `sentinel announce-ip|announce-port|sentinel-user|sentinel-pass` and `loglevel`, as SENTINEL CONFIG
   * GET shows them. Absent: GLOBAL_PARAM_DEFAULTS (lib/core/globalParams.ts).
   */
  readonly announceIp?: string;
  readonly announcePort?: number;
  readonly sentinelUser?: string;
  readonly sentinelPass?: string;
  readonly loglevel?: LogLevel;
}

/** Per-master settings (`sentinel monitor` and the per-master lines). */
export interface MasterSettings {
  readonly name: string;
  /** The address from the monitor line. Only a seed: the store's recorded master wins once it exists. */
  readonly host: string;
  readonly port: number;
  readonly quorum: number;
  readonly downAfterMs: number;
  readonly failoverTimeoutMs: number;
  readonly parallelSyncs: number;
  readonly authUser?: string;
  readonly authPass?: string;
  /**
   * `sentinel notification-script` / `client-reconfig-script`: programs the local runner runs as
   * Sentinel does (lib/local/scripts.ts). A deployment refuses them (its functions run no programs).
   */
  readonly notificationScript?: string;
  readonly clientReconfigScript?: string;
  readonly masterRebootDownAfterPeriodMs: number;
  /** `rename-command`: lower-case original name → name to send. */
  readonly renamedCommands: Readonly<Record<string, string>>;
  readonly probePeriodMs: number;
  readonly probeTimeoutMs: number;
  readonly infoPeriodMs: number;
  readonly voteMaxAgeMs: number;
  readonly voteRefreshMs: number;
  readonly leaderLeaseMs: number;
}

export interface SentinelConfig {
  readonly global: GlobalSettings;
  readonly masters: readonly MasterSettings[];
  /**
   * Passwords of masters the file does not list (added at run time by SENTINEL MONITOR), by master
   * name, each bound to the one address it is for (nothing else binds it: the name alone can be
   * re-added anywhere). Deployed, they come from SSM; they are never stored in the table.
   */
  readonly authPassByMaster?: Readonly<Record<string, AddressBoundAuthPass>>;
  /**
   * Who may use the Redis-protocol endpoint and the local HTTP API, and the endpoint's connection
   * limits (`requirepass`, `user`, `timeout`, `maxclients`, … lines). Absent: Redis's defaults, one
   * `default` user that needs no password (lib/core/acl.ts).
   */
  readonly access?: AccessSettings;
}

/**
 * One ACL user as configured (`user <name> <rules…>`, or `requirepass` for `default`). Passwords are
 * kept only as SHA-256; lib/core/acl.ts compiles the rules and decides with them.
 */
export interface AclUserSpec {
  readonly name: string;
  /** `on` / `off`: a disabled user cannot authenticate. */
  readonly enabled: boolean;
  /** `nopass`: any password (or none) authenticates this user. */
  readonly nopass: boolean;
  /** SHA-256 of each accepted password, 64 lower-case hex digits. */
  readonly passwordHashes: readonly string[];
  /** Command rules in the order given (`+@all`, `-sentinel|set`, `+@read`…), lower case. */
  readonly commandRules: readonly string[];
  /** `&*` or `allchannels`: every channel and pattern. */
  readonly allChannels: boolean;
  /** `&<pattern>` rules: the channels (glob) this user may subscribe to. */
  readonly channelPatterns: readonly string[];
}

/** The Redis-protocol endpoint's limits per connection and in total (defaults in lib/core/acl.ts). */
export interface ConnectionLimits {
  /** `timeout`: a connection with no traffic this long is closed (not subscribers); 0: never. */
  readonly idleTimeoutMs: number;
  /** `client-query-timeout`: a command that has begun to arrive must be complete within this; 0: never. */
  readonly frameTimeoutMs: number;
  /** `maxclients`: connections beyond this get `-ERR max number of clients reached` and are closed. */
  readonly maxClients: number;
  /** `client-query-buffer-limit`: the largest command an authenticated connection may send. */
  readonly queryBufferLimitBytes: number;
}

export interface AccessSettings {
  /** The users the configuration defines; a `default` user is implied when none is named so. */
  readonly users: readonly AclUserSpec[];
  /** The limits the configuration sets; the others keep their defaults. */
  readonly limits: Partial<ConnectionLimits>;
}

/**
 * A password for a master the file does not list: sent only to a master that SENTINEL MONITOR added at
 * exactly `address` (and to that incarnation's replicas and successors), never to the name elsewhere.
 */
export interface AddressBoundAuthPass {
  readonly address: Address;
  readonly password: string;
}

/** What INFO told us, parsed (see lib/adapters/redis/parseInfo.ts). */
export interface ConnectedReplica {
  readonly host: string;
  readonly port: number;
  readonly state: string;
  readonly offset: number;
  readonly lag: number;
}

export interface ReplicationInfo {
  readonly runId: string | null;
  readonly role: 'master' | 'replica';
  readonly loading: boolean;
  readonly masterHost: string | null;
  readonly masterPort: number | null;
  readonly masterLinkUp: boolean;
  /** Milliseconds; 0 when the field is absent (Sentinel resets it to 0 then). */
  readonly masterLinkDownSinceMs: number;
  readonly replicaPriority: number | null;
  readonly replicaOffset: number | null;
  readonly replicaAnnounced: boolean;
  readonly masterReplOffset: number | null;
  readonly connectedReplicas: readonly ConnectedReplica[];
  readonly redisVersion: string | null;
}

/**
 * The classes of PING reply. PONG, LOADING and MASTERDOWN are valid (Sentinel §1.3);
 * anything else (MISCONF, NOAUTH, unknown command, BUSY…) is a reply but not a valid one.
 */
export type PingReplyKind = 'pong' | 'loading' | 'masterdown' | 'busy' | 'error';

/** The result of one PING attempt. Probes never throw: failure to observe is a value. */
export type PingResult =
  | { readonly type: 'reply'; readonly kind: PingReplyKind; readonly text: string }
  /** Sent (written to a connected socket) but no reply within the probe timeout. */
  | { readonly type: 'timeout' }
  /** Never delivered: connection refused, reset, closed, DNS failure, TLS failure… */
  | { readonly type: 'unreachable'; readonly reason: string };

export interface PingOutcome {
  readonly sentAt: number;
  readonly completedAt: number;
  readonly result: PingResult;
}

export type InfoResult =
  | { readonly type: 'info'; readonly info: ReplicationInfo }
  | { readonly type: 'timeout' }
  | { readonly type: 'unreachable'; readonly reason: string }
  /** A reply that is not an INFO text we can parse, or an error reply (e.g. NOAUTH). */
  | { readonly type: 'bad-reply'; readonly reason: string };

export interface InfoOutcome {
  readonly sentAt: number;
  readonly completedAt: number;
  readonly result: InfoResult;
}

/**
 * Failover states, with Sentinel's names. Sentinel's other two have no counterpart: wait_start (waiting
 * to be elected) is the epoch claim, one conditional write that starts the failover in select_slave;
 * update_config (switching the master address once the replicas are re-pointed) happens earlier here,
 * with the write that enters reconf_slaves, so that clients find the promoted replica at once.
 */
export const FAILOVER_STATES = [
  'none',
  'select_slave',
  'send_slaveof_noone',
  'wait_promotion',
  'reconf_slaves',
] as const;
export type FailoverState = (typeof FAILOVER_STATES)[number];

/** Progress of one replica's reconfiguration during a failover (Sentinel's RECONF_* flags). */
export type ReplicaReconfState = 'pending' | 'sent' | 'inprog' | 'done';

export interface ReplicaReconf {
  readonly host: string;
  readonly port: number;
  readonly state: ReplicaReconfState;
  readonly sentAt: number | null;
  /** Why it was marked done without being seen done (timeout, unreachable, best effort). */
  readonly note: string | null;
}

/**
 * What a failover has done so far, recorded before each step's side effect so that whoever resumes it
 * (the next invocation, another sentinel) continues with the same choices — never a second replica.
 */
export interface FailoverProgress {
  /** The master being failed over. */
  readonly oldMaster: Address;
  /** The replica chosen for promotion; set before REPLICAOF NO ONE is sent, never changed after. */
  readonly promoted: Address | null;
  /** Every replica not chosen, with the reason (Sentinel's exclusion rules, or "ranked lower"). */
  readonly rejected: ReadonlyArray<{ readonly host: string; readonly port: number; readonly reason: string }>;
  readonly promotionSentAt: number | null;
  readonly replicas: readonly ReplicaReconf[];
  /** A manual failover (SENTINEL FAILOVER): no ODOWN needed. */
  readonly forced: boolean;
  /**
   * A coordinated switchover: the old master, alive, is told `FAILOVER TO <promoted>` (Redis ≥ 6.2),
   * so it stops taking writes and hands over only once the replica has every acknowledged write.
   */
  readonly coordinated: boolean;
}

/** The progress once a replica is chosen (send_slaveof_noone and after): the choice is always there. */
export interface PromotionProgress extends FailoverProgress {
  readonly promoted: Address;
}

interface RecordedStep<S extends FailoverState, P extends FailoverProgress> {
  readonly state: S;
  /** When the failover started (a resumption keeps it): failover-timeout counts from here. */
  readonly startedAt: number | null;
  readonly progress: P;
}

/**
 * A failover in progress as the master record holds it (failoverState, failoverStartedAt, failover),
 * typed by its state: from send_slaveof_noone on, the progress names the promoted replica.
 */
export type RecordedFailover =
  | RecordedStep<'select_slave', FailoverProgress>
  | RecordedStep<'send_slaveof_noone', PromotionProgress>
  | RecordedStep<'wait_promotion', PromotionProgress>
  | RecordedStep<'reconf_slaves', PromotionProgress>;

/**
 * Per-master settings changed at run time (SENTINEL SET / MONITOR), kept in the master record. They
 * override the deployment's sentinel.conf; an absent field means "as configured".
 */
export interface RuntimeSettings {
  readonly quorum?: number;
  readonly downAfterMs?: number;
  readonly failoverTimeoutMs?: number;
  readonly parallelSyncs?: number;
  readonly masterRebootDownAfterPeriodMs?: number;
  /** Lower-case command → name to send; a command renamed to itself is removed from the map. */
  readonly renamedCommands?: Readonly<Record<string, string>>;
}

/** The record of one monitored master, as stored (one item; every change is conditional on its epoch). */
export interface MasterRecord {
  readonly name: string;
  /** The address clients are told (get-master-addr-by-name). */
  readonly host: string;
  readonly port: number;
  /** Highest epoch any sentinel has started for this master. Only goes up. */
  readonly currentEpoch: number;
  /** Epoch of the configuration in force (set at promotion). */
  readonly configEpoch: number;
  /** Leader of `currentEpoch`, or null when no epoch was ever led. */
  readonly leader: SentinelId | null;
  /** The leader owns the epoch until this time unless it renews. */
  readonly leaderLeaseUntil: number;
  readonly failoverState: FailoverState;
  readonly failoverStartedAt: number | null;
  /** The running (or last aborted) failover's recorded progress. */
  readonly failover: FailoverProgress | null;
  /** After an abort, no new automatic failover of this master starts before this time. */
  readonly retryNotBefore: number;
  /** SENTINEL FAILOVER asked for a failover at this time; the next sentinel tick starts it (forced). */
  readonly failoverRequestedAt: number | null;
  /** The request asks for a coordinated switchover (FAILOVER TO) rather than a promotion. */
  readonly failoverRequestCoordinated: boolean;
  /**
   * False once SENTINEL REMOVE ran: the record stays as a tombstone (epochs are kept, so they never go
   * back, and the deployment's sentinel.conf does not bring the master back). SENTINEL MONITOR revives it.
   */
  readonly monitored: boolean;
  /** SENTINEL SET / MONITOR changes, applied over the configured settings by every sentinel. */
  readonly settings: RuntimeSettings;
  /** Incremented at every change of `settings` (sentinels re-apply their settings when it moves). */
  readonly settingsVersion: number;
  /** Time of the last SENTINEL RESET: sentinels forget the master's replicas and rediscover them. */
  readonly resetAt: number | null;
  /**
   * Where this incarnation of the master began: the file's monitor line (the record was seeded from it)
   * or SENTINEL MONITOR (created or revived), with the address it named. Failovers, SET and RESET keep
   * it; only MONITOR replaces it. A configured password is sent only to the incarnation it is bound
   * to (lib/core/authBinding.ts). Null in records written before this field existed.
   */
  readonly origin: MasterOrigin | null;
  readonly updatedAt: number;
}

/** How a master record's incarnation began (MasterRecord.origin). */
export interface MasterOrigin {
  /** 'config': seeded from the file's monitor line; 'monitor': added or revived by SENTINEL MONITOR. */
  readonly source: 'config' | 'monitor';
  /** The address that line or command named (the master may have moved since, by failover). */
  readonly host: string;
  readonly port: number;
}

/** One sentinel's opinion of one master. At most one item per (master, sentinel). */
export interface Vote {
  readonly master: string;
  readonly sentinelId: SentinelId;
  readonly down: boolean;
  /** Time of the observation the vote is based on. Votes older than vote-max-age do not count. */
  readonly observedAt: number;
  /**
   * The master configuration (config epoch) the vote is about: after a failover, a vote about the old
   * master must never count against the new one.
   */
  readonly configEpoch: number;
  /** Fencing token of the loop lease the writer held: a stale invocation cannot overwrite a newer one. */
  readonly token: number;
  readonly invocationId: string;
}

/** Per-sentinel loop lease: at most one invocation of a sentinel probes at a time. */
export interface LoopLease {
  readonly sentinelId: SentinelId;
  /** Invocation holding the lease, or null once released. */
  readonly holder: string | null;
  /** Fencing token: incremented at every acquisition. */
  readonly token: number;
  readonly leaseUntil: number;
  readonly heartbeatAt: number;
  /** Set by a newer invocation that wants to take over. */
  readonly handoverRequestedBy: string | null;
  /**
   * Until this time the holder is not due to hand over: a newer invocation of the same generation finds it
   * running and leaves it be. 0: due at any time (a lease written before this field, or a bad value).
   */
  readonly handoverFrom: number;
  /**
   * The holder's code and configuration (a hash): a newer invocation of another generation (a deploy)
   * asks for the hand-over at once, whatever handoverFrom says. Null when not known.
   */
  readonly generation: string | null;
  readonly tilt: boolean;
  /** Last human summary line, for operators. */
  readonly summary: string | null;
}

/** A replica seen in a master's INFO, remembered so that every sentinel and the failover runner know it. */
export interface ReplicaRecord {
  readonly master: string;
  readonly host: string;
  readonly port: number;
  readonly runId: string | null;
  readonly lastSeenAt: number;
  readonly seenBy: SentinelId;
  /**
   * False when the replica's INFO says `replica_announced:0` (`replica-announced no`): views hide it, as
   * Sentinel's SENTINEL REPLICAS does; it is still monitored and may be promoted. Absent (not known yet,
   * or a record written by a version without the flag): announced.
   */
  readonly announced?: boolean;
}

/** A Sentinel event: the exact channel name and payload. */
export interface SentinelEvent {
  readonly type: string;
  readonly level: 'warning' | 'notice' | 'verbose';
  readonly payload: string;
  readonly master: string | null;
  readonly at: number;
}
