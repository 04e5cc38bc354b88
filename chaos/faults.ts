/**
 * The fault schedule and its injection.
 *
 * The schedule is drawn from the seed alone: fault kinds come in rounds, each round every kind once in
 * a random order (so even a short run sees every kind), each with a role-relative target ("the master",
 * "replica 1 of 2", "sentinel 3"), a duration and the gap before the next fault. Which node is the master
 * when a fault starts depends on what the system did before, so the same seed gives the same decisions
 * but, on real processes, not the same timings.
 *
 * Faults overlap (the gap is often shorter than the duration), within limits that keep every situation
 * one the system is meant to survive and the verdicts clear: at most one fault at a time on Redis
 * processes (a kill or a pause), one partition (so that a one-sentinel partition never adds up to a
 * majority), one store outage, one sentinel restart.
 *
 * A killed node restarts with the role it last reported (`--replicaof no one` or `--replicaof <its
 * master>`), as if its configuration had been rewritten by the last REPLICAOF: an old master comes back
 * as a master with its old data, the classic case for +convert-to-slave.
 */
import type { RedisHandle } from '../lib/runtime/redisProcess.js';
import type { ChaosCluster } from './cluster.js';
import { FAULT_KINDS, type FaultKind, type FaultRecord, type History, type NodeKey } from './history.js';
import { createRng } from './rng.js';

export interface FaultPlan {
  readonly kind: FaultKind;
  /** Chooses the target among the candidates (modulo their number). */
  readonly pick: number;
  readonly durationMs: number;
  /** Wait after this fault starts before the next one may start. */
  readonly gapMs: number;
}

type FaultClass = 'redis' | 'partition' | 'store' | 'sentinel';

const CLASS_OF: Record<FaultKind, FaultClass> = {
  'kill-master': 'redis',
  'kill-replica': 'redis',
  'pause-master-short': 'redis',
  'pause-master-long': 'redis',
  'pause-replica': 'redis',
  'partition-sentinel-master': 'partition',
  'partition-2-sentinels-master': 'partition',
  'partition-sentinel-store': 'partition',
  'isolate-sentinel': 'partition',
  'store-pause': 'store',
  'store-cut': 'store',
  'restart-sentinel': 'sentinel',
};

export const SCHEDULE = {
  gapMinMs: 1_000,
  gapMaxMs: 6_000,
} as const;

/** How long each kind lasts, relative to down-after where that is what matters. */
function durationOf(
  kind: FaultKind,
  downAfterMs: number,
  between: (min: number, max: number) => number,
): number {
  const d = downAfterMs;
  switch (kind) {
    case 'kill-master':
      return between(0.5 * d, 4 * d);
    case 'kill-replica':
      return between(0.5 * d, 6 * d);
    case 'pause-master-short':
      // Well below down-after: must not cause a failover.
      return between(0.2 * d, 0.5 * d);
    case 'pause-master-long':
      return between(1.5 * d, 4 * d);
    case 'pause-replica':
      return between(0.5 * d, 4 * d);
    case 'partition-sentinel-master':
      return between(2 * d, 6 * d);
    case 'partition-2-sentinels-master':
      return between(2 * d, 5 * d);
    case 'partition-sentinel-store':
    case 'isolate-sentinel':
      return between(2_000, 8_000);
    case 'store-pause':
    case 'store-cut':
      return between(500, 4_000);
    case 'restart-sentinel':
      return between(0, 3_000);
  }
}

/** The schedule for a seed: an endless sequence of plans, the same for the same seed and down-after. */
export function* planFaults(seed: number, downAfterMs: number): Generator<FaultPlan> {
  const rng = createRng(seed);
  for (;;) {
    for (const kind of rng.shuffle(FAULT_KINDS)) {
      yield {
        kind,
        pick: rng.int(0, 1_000_000),
        durationMs: Math.round(durationOf(kind, downAfterMs, rng.between)),
        gapMs: Math.round(rng.between(SCHEDULE.gapMinMs, SCHEDULE.gapMaxMs)),
      };
    }
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, Math.max(0, ms));
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

interface ActiveFault {
  readonly record: FaultRecord;
  readonly healed: Promise<void>;
}

/** Starts faults from the schedule until a deadline; heals each after its duration (or all at once at the end). */
export class FaultInjector {
  readonly #cluster: ChaosCluster;
  readonly #history: History;
  readonly #say: (line: string) => void;
  readonly #active = new Map<FaultClass, ActiveFault>();
  /** Aborted to heal every fault now (end of the run, Ctrl-C). */
  readonly #healNow = new AbortController();
  /** After Ctrl-C the process registries have killed every server: do not start new ones. */
  #restartKilled = true;
  #nextId = 1;

  constructor(args: { cluster: ChaosCluster; history: History; say: (line: string) => void }) {
    this.#cluster = args.cluster;
    this.#history = args.history;
    this.#say = args.say;
  }

  async run(plans: Iterator<FaultPlan>, until: number, signal: AbortSignal): Promise<void> {
    while (!signal.aborted && Date.now() < until) {
      const next = plans.next();
      if (next.done) return;
      const plan = next.value;
      const kindClass = CLASS_OF[plan.kind];
      // Wait for the previous fault of the same class to heal (never skip: the sequence stays the seed's).
      while (this.#active.has(kindClass) && !signal.aborted && Date.now() < until) await sleep(50, signal);
      if (signal.aborted || Date.now() >= until) return;
      try {
        await this.#start(plan, kindClass);
      } catch (error) {
        this.#history.harnessNotes.push(`could not inject ${plan.kind}: ${String(error)}`);
      }
      await sleep(Math.min(plan.gapMs, until - Date.now()), signal);
    }
  }

  /** Heals every fault still in force, at once (without restarting killed servers after an interrupt). */
  async healAll(options: { restartKilled: boolean }): Promise<void> {
    this.#restartKilled = options.restartKilled;
    this.#healNow.abort();
    await Promise.all([...this.#active.values()].map((f) => f.healed));
  }

  #name(node: NodeKey): string {
    return this.#cluster.names.get(node) ?? node;
  }

  #handle(node: NodeKey): RedisHandle {
    const handle = this.#cluster.nodes.get(node);
    if (!handle) throw new Error(`unknown node ${node}`);
    return handle;
  }

  async #start(plan: FaultPlan, kindClass: FaultClass): Promise<void> {
    const cluster = this.#cluster;
    const history = this.#history;
    const id = this.#nextId++;
    const sentinels = cluster.sentinelIds;
    const master = cluster.currentMaster();
    const replicas = [...cluster.nodes.keys()].filter((k) => k !== master);
    const pickOf = <T>(items: readonly T[]): T => items[plan.pick % items.length] as T;
    const now = () => Date.now();

    let target = '';
    let heal: () => Promise<void>;
    switch (plan.kind) {
      case 'kill-master':
      case 'kill-replica': {
        const node = plan.kind === 'kill-master' ? master : pickOf(replicas);
        const handle = this.#handle(node);
        const last = history.lastRole(node);
        // Comes back with the role it had (see the module comment).
        const roleArgs =
          last?.role === 'slave' && last.masterPort !== null
            ? ['--replicaof', '127.0.0.1', String(last.masterPort)]
            : ['--replicaof', 'no', 'one'];
        await handle.kill();
        const condition = {
          kind: 'killed' as const,
          node,
          from: now(),
          to: null as number | null,
          faultId: id,
        };
        history.conditions.push(condition);
        target = `${this.#name(node)}${node === master ? ' (master)' : ''}, back as ${roleArgs.slice(1).join(' ')}`;
        heal = async () => {
          for (let attempt = 1; this.#restartKilled; attempt++) {
            try {
              await handle.restart(roleArgs);
              break;
            } catch (error) {
              if (attempt >= 3) {
                history.harnessNotes.push(`restart of ${this.#name(node)} failed: ${String(error)}`);
                break;
              }
              await sleep(500);
            }
          }
          condition.to = now();
        };
        break;
      }
      case 'pause-master-short':
      case 'pause-master-long':
      case 'pause-replica': {
        const node = plan.kind === 'pause-replica' ? pickOf(replicas) : master;
        const handle = this.#handle(node);
        await handle.pause();
        const condition = {
          kind: 'paused' as const,
          node,
          from: now(),
          to: null as number | null,
          faultId: id,
        };
        history.conditions.push(condition);
        target = `${this.#name(node)}${node === master ? ' (master)' : ''}`;
        heal = async () => {
          handle.resume();
          condition.to = now();
        };
        break;
      }
      case 'partition-sentinel-master':
      case 'partition-2-sentinels-master': {
        const cut =
          plan.kind === 'partition-sentinel-master'
            ? [pickOf(sentinels)]
            : sentinels.filter((_, i) => i !== plan.pick % sentinels.length);
        const proxies = cut.map((s) => cluster.redisProxies.get(s)?.get(master));
        for (const proxy of proxies) proxy?.cut();
        const conditions = cut.map((sentinel) => ({
          kind: 'link-cut' as const,
          node: master,
          sentinel,
          from: now(),
          to: null as number | null,
          faultId: id,
        }));
        history.conditions.push(...conditions);
        target = `${cut.join(', ')} ↛ ${this.#name(master)} (master)`;
        heal = async () => {
          for (const proxy of proxies) proxy?.restore();
          for (const c of conditions) c.to = now();
        };
        break;
      }
      case 'partition-sentinel-store':
      case 'isolate-sentinel': {
        const sentinel = pickOf(sentinels);
        const store = cluster.storeProxies.get(sentinel);
        store?.cut();
        const storeCondition = {
          kind: 'store-cut' as const,
          sentinel,
          from: now(),
          to: null as number | null,
          faultId: id,
        };
        history.conditions.push(storeCondition);
        const links =
          plan.kind === 'isolate-sentinel' ? [...(cluster.redisProxies.get(sentinel)?.entries() ?? [])] : [];
        for (const [, proxy] of links) proxy.cut();
        const linkConditions = links.map(([node]) => ({
          kind: 'link-cut' as const,
          node,
          sentinel,
          from: now(),
          to: null as number | null,
          faultId: id,
        }));
        history.conditions.push(...linkConditions);
        target = plan.kind === 'isolate-sentinel' ? `${sentinel} ↛ everything` : `${sentinel} ↛ DynamoDB`;
        heal = async () => {
          store?.restore();
          for (const [, proxy] of links) proxy.restore();
          storeCondition.to = now();
          for (const c of linkConditions) c.to = now();
        };
        break;
      }
      case 'store-pause': {
        cluster.dynamo.pause();
        const condition = {
          kind: 'store-paused' as const,
          from: now(),
          to: null as number | null,
          faultId: id,
        };
        history.conditions.push(condition);
        target = 'DynamoDB Local (SIGSTOP)';
        heal = async () => {
          cluster.dynamo.resume();
          condition.to = now();
        };
        break;
      }
      case 'store-cut': {
        const proxies = [...cluster.storeProxies.entries()];
        for (const [, proxy] of proxies) proxy.cut();
        const conditions = proxies.map(([sentinel]) => ({
          kind: 'store-cut' as const,
          sentinel,
          from: now(),
          to: null as number | null,
          faultId: id,
        }));
        history.conditions.push(...conditions);
        target = 'every sentinel ↛ DynamoDB';
        heal = async () => {
          for (const [, proxy] of proxies) proxy.restore();
          for (const c of conditions) c.to = now();
        };
        break;
      }
      case 'restart-sentinel': {
        const sentinel = pickOf(sentinels);
        await cluster.holdSentinel(sentinel);
        const condition = {
          kind: 'sentinel-down' as const,
          sentinel,
          from: now(),
          to: null as number | null,
          faultId: id,
        };
        history.conditions.push(condition);
        target = sentinel;
        heal = async () => {
          cluster.releaseSentinel(sentinel);
          condition.to = now();
        };
        break;
      }
    }

    const record: FaultRecord = {
      id,
      kind: plan.kind,
      target,
      startedAt: now(),
      endedAt: null,
      plannedMs: plan.durationMs,
    };
    history.faults.push(record);
    this.#say(`fault #${id} ${plan.kind}: ${target} for ${plan.durationMs} ms`);
    const healed = (async () => {
      await sleep(plan.durationMs, this.#healNow.signal);
      try {
        await heal();
      } catch (error) {
        history.harnessNotes.push(`healing fault #${id} (${plan.kind}) failed: ${String(error)}`);
      }
      record.endedAt = now();
      this.#active.delete(kindClass);
    })();
    this.#active.set(kindClass, { record, healed });
  }
}
