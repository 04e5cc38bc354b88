/**
 * The fault schedule of one simulated run, drawn from its seed before the run starts (so the same seed
 * gives the same faults whatever the system does). A fault that names "the master" or "a replica" is
 * resolved when it fires, against the topology as it is then.
 */
import type { FailoverState } from '../core/types.js';
import type { Random } from './random.js';

export type NodeTarget = 'master' | 'replica' | 'any';

export type Fault =
  /** The node dies (SIGKILL); it restarts after `restartAfterMs` unless null. */
  | {
      readonly kind: 'redis-crash';
      readonly at: number;
      readonly node: NodeTarget;
      readonly restartAfterMs: number | null;
    }
  /** The node is frozen (SIGSTOP): requests queue and are served when it resumes. */
  | {
      readonly kind: 'redis-pause';
      readonly at: number;
      readonly node: NodeTarget;
      readonly durationMs: number;
    }
  /** One sentinel cannot reach one node (or every node): its requests vanish. */
  | {
      readonly kind: 'partition-sentinel-redis';
      readonly at: number;
      readonly sentinel: number;
      readonly node: NodeTarget | 'all';
      readonly durationMs: number;
    }
  /** One sentinel cannot reach the store: its requests vanish and time out. */
  | {
      readonly kind: 'partition-sentinel-store';
      readonly at: number;
      readonly sentinel: number;
      readonly durationMs: number;
    }
  /** The store applies one sentinel's requests but the replies are lost. */
  | {
      readonly kind: 'store-reply-loss';
      readonly at: number;
      readonly sentinel: number;
      readonly durationMs: number;
    }
  /** The store answers every call with an error. */
  | { readonly kind: 'store-outage'; readonly at: number; readonly durationMs: number }
  /** Replies from the store are late (for everyone, or for one sentinel), some past the client timeout. */
  | {
      readonly kind: 'store-slow';
      readonly at: number;
      readonly sentinel: number | null;
      readonly extraMs: number;
      readonly durationMs: number;
    }
  /** A sentinel invocation is frozen (a paused Lambda): its timers and replies arrive late. */
  | {
      readonly kind: 'sentinel-pause';
      readonly at: number;
      readonly sentinel: number;
      readonly durationMs: number;
    }
  /**
   * A sentinel invocation dies without releasing anything: at once, or (`afterDownVote`) right after its
   * next down-vote reaches the store, leaving that vote behind.
   */
  | {
      readonly kind: 'sentinel-crash';
      readonly at: number;
      readonly sentinel: number;
      readonly afterDownVote: boolean;
    }
  /** The next scheduled invocation of a sentinel after `at` starts late. */
  | {
      readonly kind: 'late-invocation';
      readonly at: number;
      readonly sentinel: number;
      readonly lateMs: number;
    }
  /** A second invocation of the sentinel starts now: the loop lease must keep one of them out. */
  | { readonly kind: 'duplicate-invocation'; readonly at: number; readonly sentinel: number }
  /**
   * The next failover step recorded as `step` (by whoever runs it) is the runner's last: its process is
   * killed right after the write, or its invocation is aborted (the abort signal reaches the runner).
   */
  | {
      readonly kind: 'failover-dies-after-step';
      readonly at: number;
      readonly step: FailoverState;
      readonly how: 'kill' | 'abort';
    }
  /**
   * The process that records `step` next (a leader) is frozen right after the write, for longer than
   * the leader lease: another sentinel takes the failover over, and the frozen one wakes up stale.
   */
  | {
      readonly kind: 'leader-paused-after-step';
      readonly at: number;
      readonly step: FailoverState;
      readonly durationMs: number;
    }
  /** A replica loses its replication link to its master (its offset stalls, its link is down). */
  | {
      readonly kind: 'replication-cut';
      readonly at: number;
      readonly node: NodeTarget;
      readonly durationMs: number;
    }
  /** Replies to one sentinel's REPLICAOF / FAILOVER commands are lost (the commands still take effect). */
  | {
      readonly kind: 'redis-reply-loss';
      readonly at: number;
      readonly sentinel: number;
      readonly durationMs: number;
    }
  /** An operator asks for a failover (SENTINEL FAILOVER), sometimes coordinated (FAILOVER TO). */
  | { readonly kind: 'manual-failover'; readonly at: number; readonly coordinated: boolean }
  /**
   * Record writes apply, but the change counter does not move (whoever writes dies between the record
   * write and the increment): sentinels must learn of the changes another way (their own reads while a
   * master looks down, a later increment, the periodic full read).
   */
  | { readonly kind: 'lost-increments'; readonly at: number; readonly durationMs: number };

export type FaultKind = Fault['kind'] | 'clock-skew';

export const FAULT_KINDS: readonly FaultKind[] = [
  'redis-crash',
  'redis-pause',
  'partition-sentinel-redis',
  'partition-sentinel-store',
  'store-reply-loss',
  'store-outage',
  'store-slow',
  'sentinel-pause',
  'sentinel-crash',
  'late-invocation',
  'duplicate-invocation',
  'failover-dies-after-step',
  'leader-paused-after-step',
  'replication-cut',
  'redis-reply-loss',
  'manual-failover',
  'lost-increments',
  'clock-skew',
];

/** The failover steps a runner records (each may be its last). */
const STEPS: readonly FailoverState[] = [
  'select_slave',
  'send_slaveof_noone',
  'wait_promotion',
  'reconf_slaves',
  'none',
];

export interface SchedulePlan {
  /** 'liveness': the master dies in an otherwise quiet run (at most one sentinel misbehaves). */
  readonly profile: 'liveness' | 'chaos';
  readonly faults: readonly Fault[];
}

export function planFaults(rng: Random, options: { horizonMs: number; sentinels: number }): SchedulePlan {
  const { horizonMs, sentinels } = options;
  const sentinel = (): number => rng.int(0, sentinels - 1);
  const faults: Fault[] = [];
  if (rng.chance(0.3)) {
    const at = rng.int(6_500, 8_000);
    faults.push({ kind: 'redis-crash', at, node: 'master', restartAfterMs: null });
    if (rng.chance(0.6)) {
      const s = sentinel();
      switch (rng.int(0, 4)) {
        case 0:
          faults.push({
            kind: 'sentinel-crash',
            at: at + rng.int(-500, 2_500),
            sentinel: s,
            afterDownVote: false,
          });
          break;
        case 1:
          faults.push({ kind: 'failover-dies-after-step', at: at - 100, step: rng.pick(STEPS), how: 'kill' });
          break;
        case 2:
          faults.push({ kind: 'partition-sentinel-store', at: 0, sentinel: s, durationMs: horizonMs });
          break;
        case 3:
          faults.push({
            kind: 'failover-dies-after-step',
            at: at - 100,
            step: rng.pick(STEPS),
            how: 'abort',
          });
          break;
        default:
          faults.push({ kind: 'sentinel-crash', at: rng.int(1_000, at), sentinel: s, afterDownVote: false });
      }
    }
    faults.push(...lostIncrements(rng, horizonMs));
    return { profile: 'liveness', faults: faults.sort((a, b) => a.at - b.at) };
  }
  const count = rng.int(1, 8);
  for (let i = 0; i < count; i += 1) {
    const fault = randomFault(rng, horizonMs, sentinel);
    faults.push(fault);
    // A story seen in real outages: an AZ loses its network to the master, then its sentinel dies,
    // leaving its down-vote behind.
    if (fault.kind === 'partition-sentinel-redis' && fault.node !== 'replica' && rng.chance(0.3))
      faults.push({ kind: 'sentinel-crash', at: fault.at, sentinel: fault.sentinel, afterDownVote: true });
  }
  if (rng.chance(0.15)) faults.push(...isolatedSentinelDies(rng, horizonMs, sentinels));
  faults.push(...lostIncrements(rng, horizonMs));
  return { profile: 'chaos', faults: faults.sort((a, b) => a.at - b.at) };
}

/**
 * Sometimes, a while when every change-counter increment is lost. Drawn after everything else, so that
 * the rest of a seed's schedule is what it was before this fault existed.
 */
function lostIncrements(rng: Random, horizonMs: number): Fault[] {
  if (!rng.chance(0.2)) return [];
  const at = rng.int(0, horizonMs - 1_000);
  return [{ kind: 'lost-increments', at, durationMs: rng.chance(0.5) ? rng.int(100, 2_000) : horizonMs }];
}

/**
 * A sentinel cut off from the master dies with its down-vote in the store, and its next invocation is
 * late; a while later another sentinel alone is cut off from the master. Only vote freshness keeps the
 * dead sentinel's vote from completing a quorum for a master that is fine.
 */
function isolatedSentinelDies(rng: Random, horizonMs: number, sentinels: number): Fault[] {
  const first = rng.int(0, sentinels - 1);
  const second = (first + rng.int(1, sentinels - 1)) % sentinels;
  const at = rng.int(1_500, 4_000);
  const later = at + rng.int(3_000, 7_000);
  return [
    {
      kind: 'partition-sentinel-redis',
      at,
      sentinel: first,
      node: 'master',
      durationMs: rng.int(1_500, 3_000),
    },
    { kind: 'sentinel-crash', at, sentinel: first, afterDownVote: true },
    { kind: 'late-invocation', at, sentinel: first, lateMs: horizonMs },
    {
      kind: 'partition-sentinel-redis',
      at: Math.min(later, horizonMs - 500),
      sentinel: second,
      node: 'master',
      durationMs: rng.int(1_500, 4_000),
    },
  ];
}

/** The kinds drawn by weight; lost increments are drawn on their own (lostIncrements). */
type WeightedKind = Exclude<Fault['kind'], 'lost-increments'>;

/** How often each kind is drawn: partitions and crashes are what a sentinel system is for. */
const CHAOS_WEIGHTS: ReadonlyArray<readonly [WeightedKind, number]> = [
  ['redis-crash', 3],
  ['redis-pause', 2],
  ['partition-sentinel-redis', 4],
  ['partition-sentinel-store', 2],
  ['store-reply-loss', 1],
  ['store-outage', 1],
  ['store-slow', 1],
  ['sentinel-pause', 2],
  ['sentinel-crash', 2],
  ['late-invocation', 1],
  ['duplicate-invocation', 1],
  ['failover-dies-after-step', 2],
  ['leader-paused-after-step', 2],
  ['replication-cut', 1],
  ['redis-reply-loss', 1],
  ['manual-failover', 1],
];
const CHAOS_TOTAL = CHAOS_WEIGHTS.reduce((sum, [, w]) => sum + w, 0);

function pickKind(rng: Random): WeightedKind {
  let draw = rng.int(1, CHAOS_TOTAL);
  for (const [kind, weight] of CHAOS_WEIGHTS) {
    draw -= weight;
    if (draw <= 0) return kind;
  }
  return 'redis-crash';
}

function randomFault(rng: Random, horizonMs: number, sentinel: () => number): Fault {
  const at = rng.int(1_500, horizonMs - 1_000);
  const duration = (): number => (rng.chance(0.5) ? rng.int(100, 1_500) : rng.int(1_500, 8_000));
  const node = (): NodeTarget => rng.pick(['master', 'master', 'replica', 'any'] as const);
  const kind = pickKind(rng);
  switch (kind) {
    case 'redis-crash':
      return { kind, at, node: node(), restartAfterMs: rng.chance(0.6) ? duration() : null };
    case 'redis-pause':
      return { kind, at, node: node(), durationMs: duration() };
    case 'partition-sentinel-redis':
      return {
        kind,
        at,
        sentinel: sentinel(),
        node: rng.chance(0.3) ? 'all' : node(),
        durationMs: duration(),
      };
    case 'partition-sentinel-store':
    case 'store-reply-loss':
    case 'redis-reply-loss':
      return { kind, at, sentinel: sentinel(), durationMs: duration() };
    case 'store-outage':
      return { kind, at, durationMs: duration() };
    case 'store-slow':
      return {
        kind,
        at,
        sentinel: rng.chance(0.5) ? sentinel() : null,
        extraMs: rng.int(50, 900),
        durationMs: duration(),
      };
    case 'sentinel-pause':
      return { kind, at, sentinel: sentinel(), durationMs: duration() };
    case 'sentinel-crash':
      return { kind, at, sentinel: sentinel(), afterDownVote: rng.chance(0.5) };
    case 'duplicate-invocation':
      return { kind, at, sentinel: sentinel() };
    case 'late-invocation':
      return { kind, at, sentinel: sentinel(), lateMs: rng.int(500, 10_000) };
    case 'failover-dies-after-step':
      return { kind, at, step: rng.pick(STEPS), how: rng.chance(0.5) ? 'kill' : 'abort' };
    case 'leader-paused-after-step':
      return { kind, at, step: rng.pick(STEPS), durationMs: rng.int(2_500, 6_000) };
    case 'replication-cut':
      return { kind, at, node: 'replica', durationMs: duration() };
    case 'manual-failover':
      return { kind, at, coordinated: rng.chance(0.4) };
  }
}
