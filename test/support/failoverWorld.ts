/**
 * A virtual world for the pure failover state machine (lib/core/failover.ts): a master record, Redis
 * instances that obey REPLICAOF, and a clock that moves only when a request takes time. `drive` plays the
 * runner: it answers each step's request from the world, as lib/runtime/failover.ts does from the real one.
 */
import { stepFailover } from '../../lib/core/failover.js';
import type {
  CommandReply,
  FailoverAnswer,
  FailoverCommand,
  FailoverMemory,
  FailoverOutcome,
  FailoverRequest,
  FailoverWrite,
  LeaderView,
} from '../../lib/core/failoverStep.js';
import { applyInfoOutcome, applyPingOutcome, newObservation } from '../../lib/core/observation.js';
import { newMasterRecord } from '../../lib/core/records.js';
import type { ReplicaCandidate } from '../../lib/core/selection.js';
import type {
  Address,
  FailoverProgress,
  FailoverState,
  InfoResult,
  MasterRecord,
  MasterSettings,
  ReplicationInfo,
  SentinelEvent,
} from '../../lib/core/types.js';
import { masterSettings } from './settings.js';

export const T0 = 1_700_000_000_000;
export const M: Address = { host: '10.0.0.1', port: 6379 };
export const R1: Address = { host: '10.0.0.2', port: 6379 };
export const R2: Address = { host: '10.0.0.3', port: 6379 };
export const R3: Address = { host: '10.0.0.4', port: 6379 };
export const R4: Address = { host: '10.0.0.5', port: 6379 };

export const key = (a: Address): string => `${a.host}:${a.port}`;

export const SETTINGS: MasterSettings = masterSettings({
  ...M,
  failoverTimeoutMs: 60_000,
  parallelSyncs: 1,
  leaderLeaseMs: 5_000,
});

export function replicaInfo(overrides: Partial<ReplicationInfo> = {}): ReplicationInfo {
  return {
    runId: null,
    role: 'replica',
    loading: false,
    masterHost: M.host,
    masterPort: M.port,
    masterLinkUp: false,
    masterLinkDownSinceMs: 100,
    replicaPriority: 100,
    replicaOffset: 1_000,
    replicaAnnounced: true,
    masterReplOffset: 1_000,
    connectedReplicas: [],
    redisVersion: '7.0.15',
    ...overrides,
  };
}

/** A replica as the leader sees it at `now`: it answered PING and INFO just now. */
export function candidate(
  address: Address,
  now: number,
  options: { offset?: number; priority?: number; sdown?: boolean } = {},
): ReplicaCandidate {
  let obs = newObservation(address, 'replica', now - 1_000);
  obs = applyPingOutcome(obs, {
    sentAt: now,
    completedAt: now,
    result: { type: 'reply', kind: 'pong', text: 'PONG' },
  });
  const info = replicaInfo({
    replicaOffset: options.offset ?? 1_000,
    replicaPriority: options.priority ?? 100,
  });
  obs = applyInfoOutcome(
    obs,
    { sentAt: now, completedAt: now, result: { type: 'info', info } },
    0,
  ).observation;
  return { observation: obs, sdown: options.sdown ?? false };
}

export function progress(overrides: Partial<FailoverProgress> = {}): FailoverProgress {
  return {
    oldMaster: M,
    promoted: null,
    rejected: [],
    promotionSentAt: null,
    replicas: [],
    forced: false,
    coordinated: false,
    ...overrides,
  };
}

/** A record of a failover in `state`, led by sentinel-a in epoch 1 and started at T0. */
export function failoverRecord(
  state: FailoverState,
  failover: FailoverProgress | null,
  overrides: Partial<MasterRecord> = {},
): MasterRecord {
  return {
    ...newMasterRecord({ name: SETTINGS.name, host: M.host, port: M.port, now: T0 }, 'config'),
    currentEpoch: 1,
    leader: 'sentinel-a',
    leaderLeaseUntil: T0 + 5_000,
    failoverState: state,
    failoverStartedAt: T0,
    failover,
    ...overrides,
  };
}

/** What a store makes of an accepted write (the epoch and leader conditions are the store's, not tested here). */
export function applyWrite(record: MasterRecord, write: FailoverWrite, now: number): MasterRecord {
  return {
    ...record,
    failoverState: write.to,
    failover: write.progress,
    leaderLeaseUntil: write.leaseUntil,
    updatedAt: now,
    ...(write.switchTo
      ? { host: write.switchTo.host, port: write.switchTo.port, configEpoch: record.currentEpoch }
      : {}),
    ...(write.retryNotBefore !== undefined ? { retryNotBefore: write.retryNotBefore } : {}),
  };
}

/** One Redis instance of the world. */
export interface Instance {
  role: 'master' | 'replica';
  master: Address | null;
  /** The replication link comes up at this time (a full sync takes a while). */
  linkUpAt: number;
  /** Answers nothing: INFO unreachable, commands refused. */
  down: boolean;
  /**
   * Loses this many promotions. REPLICAOF NO ONE is lost whole (no reply: Redis answers its OK only
   * once it is a master); FAILOVER TO aimed at this replica is accepted but the hand-over never happens.
   */
  losesPromotions: number;
}

export interface WorldOptions {
  readonly settings?: MasterSettings;
  readonly record: MasterRecord;
  readonly view?: (now: number) => LeaderView;
  /** The replicas the store has recorded. */
  readonly storedReplicas?: readonly Address[];
  readonly instances?: ReadonlyArray<readonly [Address, Partial<Instance>]>;
  /** Virtual time each request takes. */
  readonly costs?: Partial<Record<'info' | 'command' | 'write' | 'read', number>>;
  /** How long a replica takes from REPLICAOF to a link up. */
  readonly syncMs?: number;
  /** Overrides the reply to a command (after the instance applied it, or instead of applying it). */
  readonly reply?: (command: FailoverCommand, world: FailoverWorld) => CommandReply | undefined;
  readonly now?: number;
}

export interface WriteSeen {
  readonly at: number;
  readonly write: FailoverWrite;
  /** The record after the write. */
  readonly record: MasterRecord;
  /** The instances right after the write, before any command that follows it. */
  readonly instances: Map<string, Instance>;
}

export interface Run {
  readonly outcome: FailoverOutcome | 'cut';
  readonly requests: FailoverRequest[];
  readonly events: SentinelEvent[];
  readonly writes: WriteSeen[];
  readonly logs: string[];
  readonly remembered: Address[];
  /** Every command sent, with the record as it stood when it was sent. */
  readonly sent: Array<{ readonly command: FailoverCommand; readonly record: MasterRecord }>;
  readonly memory: FailoverMemory;
}

export class FailoverWorld {
  now: number;
  record: MasterRecord;
  readonly settings: MasterSettings;
  readonly instances: Map<string, Instance>;
  readonly options: WorldOptions;

  constructor(options: WorldOptions) {
    this.options = options;
    this.settings = options.settings ?? SETTINGS;
    this.now = options.now ?? T0 + 100;
    this.record = options.record;
    this.instances = new Map();
    for (const [address, instance] of options.instances ?? []) {
      this.instances.set(key(address), {
        role: 'replica',
        master: M,
        linkUpAt: 0,
        down: false,
        losesPromotions: 0,
        ...instance,
      });
    }
  }

  instance(address: Address): Instance | undefined {
    return this.instances.get(key(address));
  }

  info(address: Address): InfoResult {
    const instance = this.instance(address);
    if (!instance || instance.down) return { type: 'unreachable', reason: 'ECONNREFUSED' };
    const master = instance.master;
    return {
      type: 'info',
      info: replicaInfo({
        role: instance.role,
        masterHost: master?.host ?? null,
        masterPort: master?.port ?? null,
        masterLinkUp: instance.role === 'replica' && this.now >= instance.linkUpAt,
      }),
    };
  }

  command(command: FailoverCommand): CommandReply {
    const override = this.options.reply?.(command, this);
    if (override) return override;
    const target = this.instance(command.target);
    if (!target || target.down) return { ok: false, reason: 'ECONNREFUSED' };
    if (command.type === 'replicate') {
      if (!target.master || key(target.master) !== key(command.master) || target.role !== 'replica')
        target.linkUpAt = this.now + (this.options.syncMs ?? 0);
      target.role = 'replica';
      target.master = command.master;
      return { ok: true };
    }
    if (target.losesPromotions > 0) {
      target.losesPromotions -= 1;
      return command.type === 'promote' ? { ok: false, reason: 'timeout' } : { ok: true };
    }
    target.role = 'master';
    target.master = null;
    return { ok: true };
  }

  /** Plays the runner until the step function ends the failover, or for `maxSteps` steps. */
  drive(options: { memory?: FailoverMemory; maxSteps?: number; untilWrites?: number } = {}): Run {
    const cost = (what: 'info' | 'command' | 'write' | 'read') => this.options.costs?.[what] ?? 0;
    const run: Omit<Run, 'memory'> = {
      outcome: 'cut',
      requests: [],
      events: [],
      writes: [],
      logs: [],
      remembered: [],
      sent: [],
    };
    let memory = options.memory ?? null;
    let answer: FailoverAnswer = { type: 'none' };
    for (let n = 0; n < (options.maxSteps ?? 10_000); n += 1) {
      const step = stepFailover({
        now: this.now,
        settings: this.settings,
        record: this.record,
        memory,
        answer,
      });
      run.events.push(...step.events);
      run.logs.push(...step.logs.map((l) => l.message));
      run.requests.push(step.request);
      memory = step.memory;
      const request = step.request;
      switch (request.type) {
        case 'end':
          return { ...run, outcome: request.outcome, memory };
        case 'continue':
          answer = { type: 'none' };
          break;
        case 'view':
          answer = {
            type: 'view',
            view: this.options.view?.(this.now) ?? { replicas: [], masterSdownSince: null },
          };
          break;
        case 'read-replicas':
          this.now += cost('read');
          answer = { type: 'replicas', addresses: this.options.storedReplicas ?? [] };
          break;
        case 'info':
          this.now += cost('info');
          answer = { type: 'info', result: this.info(request.address) };
          break;
        case 'send':
          run.sent.push({ command: request.command, record: this.record });
          this.now += cost('command');
          answer = { type: 'reply', reply: this.command(request.command) };
          break;
        case 'record':
          this.record = applyWrite(this.record, request.write, this.now);
          run.writes.push({
            at: this.now,
            write: request.write,
            record: this.record,
            instances: new Map([...this.instances].map(([k, v]) => [k, { ...v }])),
          });
          this.now += cost('write');
          answer = { type: 'recorded' };
          if (options.untilWrites !== undefined && run.writes.length >= options.untilWrites)
            return { ...run, memory };
          break;
        case 'pause':
          this.now += request.ms;
          answer = { type: 'none' };
          break;
        case 'remember-replica':
          run.remembered.push(request.address);
          answer = { type: 'none' };
          break;
      }
    }
    return { ...run, memory };
  }
}

/** The commands a run sent, in order. */
export function commandsOf(run: Run): FailoverCommand[] {
  return run.requests.flatMap((r) => (r.type === 'send' ? [r.command] : []));
}

/** The events of a run as Sentinel prints them (`<type> <payload>`). */
export function eventLines(run: { readonly events: readonly SentinelEvent[] }): string[] {
  return run.events.map((e) => `${e.type} ${e.payload}`);
}
