/**
 * The SENTINEL commands as one contract: what each command answers, whoever asks. The Redis-protocol
 * endpoint (lib/resp) and the HTTP API (lib/http) are two doors onto a SentinelView; the local runner and
 * the API function serve one over the store (storeView.ts), and the proxy one over the HTTP API
 * (lib/client/httpView.ts). Field names and order are Sentinel's (instanceMaps.ts); reply and error texts
 * are lib/core/sentinelReplies.ts.
 */
import type { Address } from '../core/types.js';
import type { EventQuery, EventRecord } from '../eventLog.js';

/** Ordered `[field, value]` pairs: a Sentinel instance map. Numbers are strings, as Sentinel sends them. */
export type Fields = ReadonlyArray<readonly [string, string]>;

export type FailoverReply = 'OK' | 'INPROG' | 'NOGOODSLAVE' | 'NOSUCHMASTER';

export type CkquorumReply = { readonly ok: boolean; readonly text: string };

/** Where clients reach this endpoint (announced as the sentinels' address). */
export interface EndpointAddress {
  readonly host: string;
  readonly port: number;
}

/** The address clients are told, with the config epoch it belongs to (moves up at each failover). */
export interface AddressWithEpoch {
  readonly ip: string;
  readonly port: number;
  readonly epoch: number;
}

/**
 * The reply to a write command. `error` is Sentinel's text without the `ERR ` prefix (e.g.
 * `No such master with that name`, `Duplicate master name.`); `kind` says how the HTTP API maps it.
 */
export type CommandReply =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly kind: 'no-such-master' | 'invalid' | 'conflict' | 'unavailable';
      readonly error: string;
    };

/**
 * SENTINEL SET as pairs; `rename-command` takes two values (`['rename-command', 'PING', 'PONG']`),
 * every other option one. Validated all-or-nothing, then applied in one conditional write.
 */
export type SetArgs = ReadonlyArray<readonly string[]>;

/** One instance's entry in SENTINEL INFO-CACHE: how old its INFO is (ms), and the INFO, or null. */
export interface CachedInfo {
  readonly ageMs: number;
  readonly info: string | null;
}

/** SENTINEL INFO-CACHE for one master: its master's INFO first, then each replica's. */
export interface InfoCacheEntry {
  readonly name: string;
  readonly instances: readonly CachedInfo[];
}

/** SENTINEL IS-MASTER-DOWN-BY-ADDR's three answers. */
export interface MasterDownReply {
  /** This sentinel sees the master at that address subjectively down. */
  readonly down: boolean;
  /** The run id of the leader of the master's current epoch, or null (Sentinel's `*`). */
  readonly leaderRunId: string | null;
  readonly leaderEpoch: number;
}

/** TILT of the sentinel this endpoint speaks as (INFO's sentinel_tilt). */
export interface TiltReport {
  readonly inTilt: boolean;
  /** When it entered TILT, when known (INFO's sentinel_tilt_since_seconds). */
  readonly since: number | null;
}

/**
 * What the endpoint and the HTTP API read and change. The local runner implements it over the store
 * (storeSentinelView); the proxy implements it over the HTTP API (lib/client).
 */
export interface SentinelView {
  /** The 40-hex run id this endpoint answers SENTINEL MYID with. */
  myId(): string;
  masterNames(): Promise<string[]>;
  masterAddress(name: string): Promise<Address | null>;
  master(name: string): Promise<Fields | null>;
  masters(): Promise<Fields[]>;
  replicas(name: string): Promise<Fields[] | null>;
  sentinels(name: string, endpoint: EndpointAddress): Promise<Fields[] | null>;
  ckquorum(name: string): Promise<CkquorumReply | null>;
  /**
   * SENTINEL FAILOVER: answered as soon as the request is recorded, as Sentinel answers; with
   * `awaitOutcome`, after the sentinels promoted a replica or gave up, within a bounded wait (the HTTP
   * API's callers get NOGOODSLAVE that way where no sentinel's view is at hand).
   */
  failover(
    name: string,
    options?: { readonly coordinated?: boolean; readonly awaitOutcome?: boolean },
  ): Promise<FailoverReply>;
  /** get-master-addr-by-name with its epoch; null for an unknown master. */
  addressOf(name: string): Promise<AddressWithEpoch | null>;
  /**
   * What addressOf would answer now, when the view holds it without waiting; undefined when only
   * addressOf can tell. The same object for as long as the answer stands, so that its encoded reply can
   * be kept. Optional: the Redis-protocol endpoint's hot path for the lookup clients send most.
   */
  addressNow?(name: string): AddressWithEpoch | null | undefined;
  /**
   * Long poll: resolves as soon as the master's epoch is greater than `afterEpoch`, or after `waitMs`
   * with the current address (same epoch). Null for an unknown master. Never returns an epoch lower
   * than one this view has returned before for the master.
   */
  waitForAddress(
    name: string,
    afterEpoch: number,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<AddressWithEpoch | null>;
  /** SENTINEL MONITOR (quorum as given, validated like Sentinel). */
  monitor(name: string, ip: string, port: string, quorum: string): Promise<CommandReply>;
  /** SENTINEL REMOVE. */
  remove(name: string): Promise<CommandReply>;
  /** SENTINEL SET, all-or-nothing. */
  set(name: string, args: SetArgs): Promise<CommandReply>;
  /** SENTINEL RESET <glob>: how many masters were reset. */
  reset(pattern: string): Promise<number>;
  /** The event log, newest first (lib/eventLog.ts EventQuery). */
  events(query: EventQuery): Promise<EventRecord[]>;
  /**
   * SENTINEL INFO-CACHE: each named master that exists (names that do not are left out, as Sentinel
   * does). Optional: a view without it (the proxy) answers an empty list.
   */
  infoCache?(names: readonly string[]): Promise<InfoCacheEntry[]>;
  /**
   * SENTINEL IS-MASTER-DOWN-BY-ADDR, from what the store holds; `withLeader` when the caller named a run
   * id (Sentinel then votes; here nobody asks for a vote, so it only reports the epoch's leader).
   * Optional: a view without it answers "not down, no leader".
   */
  masterDownByAddr?(host: string, port: number, withLeader: boolean): Promise<MasterDownReply>;
  /** TILT of the sentinel this view speaks as. Optional: a view without it reports no TILT. */
  tilt?(): Promise<TiltReport>;
}

/** Long polls wait at most this long, whatever the caller asks (a Lambda URL request must end in time). */
export const MAX_ADDRESS_WAIT_MS = 20_000;

/** A sentinel's run id (40 hex digits, stable across restarts): defined in the core, which reports it too. */
export { runIdOf } from '../core/runId.js';
