/** The sentinel loop's options and report, and what its parts share (lib/runtime/sentinel/runner.ts). */

import type { HostResolver } from '../../adapters/redis/resolveHost.js';
import type { MasterDecision, MasterMemory, StoreView } from '../../core/decide.js';
import type {
  Address,
  MasterOrigin,
  MasterRecord,
  MasterSettings,
  SentinelConfig,
  SentinelEvent,
  SentinelId,
  Vote,
} from '../../core/types.js';
import type { RedisControlFactory, RedisProbeFactory, SentinelStore } from '../../ports.js';
import type { Clock } from '../clock.js';
import type { Log } from '../log.js';
import type { MasterMonitor } from '../monitor.js';
import type { StoreHealthTracker } from './storeHealth.js';

export interface SentinelRunnerOptions {
  readonly sentinelId: SentinelId;
  readonly config: SentinelConfig;
  readonly store: SentinelStore;
  readonly probeFactory: RedisProbeFactory;
  readonly clock?: Clock;
  readonly log?: Log;
  /**
   * `announce-hostnames` in force (the local runner's SENTINEL CONFIG SET changes it); unset: the
   * file's. With no, events give a master or replica known by host name by its IP address, as Sentinel.
   */
  readonly announceHostnames?: () => boolean;
  /** Host name lookups for those events (default: the system resolver). */
  readonly resolveHost?: HostResolver;
  /** Every event, secrets redacted, with the epoch it belongs to (null when not known). */
  readonly onEvent?: (event: SentinelEvent, sentinelId: SentinelId, epoch: number | null) => void;
  /**
   * Every master record this sentinel learns as it stands in the store (read, returned by its own
   * claim or failover step), called before anything is emitted about it. The local runner pushes each
   * one to its endpoint's view: a lookup answers a switch the moment it is written, without a read.
   */
  readonly onRecord?: (record: MasterRecord) => void;
  /**
   * Writes to the store by other sentinels of this process (the local runner hosts several): the loop
   * reads a master's record and votes at once after a peer changed them, instead of at its next
   * vote-read period. Deployed sentinels have no peers in their process and poll.
   */
  readonly peerWrites?: PeerWriteFeed;
  readonly invocationId?: string;
  /** Stop probing and hand over at this time (the Lambda deadline minus a margin). */
  readonly stopAt?: number;
  readonly signal?: AbortSignal;
  /** How long to wait for the lease (a running holder hands over within a heartbeat). */
  readonly leaseWaitMs?: number;
  /**
   * The hand-over window: this long before stopAt, the next scheduled invocation may take over (it finds
   * the holder due in the lease). Before it, a newcomer of the same generation returns at once. Must hold
   * at least one schedule period. Unset: every newcomer takes over.
   */
  readonly handoverWindowMs?: number;
  /**
   * This invocation's code and configuration (a hash). A newcomer of another generation takes over from
   * a running holder at once, so a deploy takes effect within a lease renewal, not a whole holder's run.
   */
  readonly generation?: string | null;
  /** Sends REPLICAOF transactions (failovers, reconciliation). */
  readonly controlFactory: RedisControlFactory;
  /**
   * Read every master record again at least this often (default SENTINEL_DEFAULTS.recordsFullReadPeriodMs):
   * the backstop against a lost change-counter increment. The simulation scales it down.
   */
  readonly recordsFullReadPeriodMs?: number;
}

/** Writes to the store made by other sentinels of the same process (SentinelRunnerOptions.peerWrites). */
export interface PeerWriteFeed {
  /** Calls `listener` with the master's name after each write by `writer`; returns the unsubscribe. */
  subscribe(listener: (master: string, writer: SentinelId) => void): () => void;
}

export type RunEnd =
  | 'deadline'
  | 'handover'
  | 'lease-lost'
  | 'aborted'
  | 'lease-not-acquired'
  /** Another invocation holds the lease and is not due to hand over: nothing to do. */
  | 'holder-running';

export interface RunReport {
  readonly invocationId: string;
  readonly end: RunEnd;
  readonly ticks: number;
  readonly resumedFromHandover: boolean;
}

/** One monitored master in the loop. */
export interface MasterSlot {
  /** Replaced when SENTINEL SET changes the record's settings (settingsVersion moves). */
  settings: MasterSettings;
  /**
   * Where the incarnation being monitored began (effectiveOrigin of its record). Handed over with the
   * observations, so that a successor does not carry them to another incarnation of the same name.
   */
  origin: MasterOrigin | null;
  settingsVersion: number;
  resetAt: number | null;
  monitor: MasterMonitor;
  memory: MasterMemory;
  /**
   * What the core is told of the store: the record as last known current, with `readAt` the time it was
   * last known so (the end of a read of it, or the sending of a change-counter read that found nothing
   * changed since), and the peers' votes as last read.
   */
  view: StoreView | null;
  /** The peers' votes as last read. They are read only while they can matter (lib/core/loopSchedule.ts). */
  votes: readonly Vote[];
  /** When the master's record and votes were last read together. */
  votesReadAt: number;
  /**
   * The replica records read with them (null before the first such read): a claim hands them to the
   * failover it starts, so the winner need not read them after its claim, nor every claimer with it.
   */
  replicasRead: readonly Address[] | null;
  /** The next read of this master's record and votes; READ_WHEN_ASKED while its record is kept by the counter. */
  nextReadAt: number;
  lastDecision: MasterDecision | null;
}

/** What every part of one loop shares: its options, clock, log, invocation, store health and events. */
export interface LoopParts {
  readonly options: SentinelRunnerOptions;
  readonly clock: Clock;
  readonly log: Log;
  readonly invocationId: string;
  readonly health: StoreHealthTracker;
  /** Publishes an event (secrets redacted) with its epoch; unknown: the master's current epoch. */
  emit(event: SentinelEvent, epoch?: number | null): void;
  /**
   * Looks up the host names among these addresses, for events (announce-hostnames no); waited for only
   * where a master starts being monitored, and then for at most a bounded time.
   */
  learnHosts(hosts: readonly string[]): Promise<void>;
}
