/**
 * How each fault of the schedule (faults.ts) lands on the world when it fires: on the Redis nodes, the
 * store's network, the sentinels' invocations, or armed to strike at a moment of the run's own making (a
 * failover step recorded, a down-vote written). Also kept here, for the invariants: when the store
 * answered normally, when a replica's replication was cut, and when a manual failover was asked.
 */
import type { MasterRecord, SentinelId, Vote } from '../core/types.js';
import { MASTER_NAME, T0 } from './config.js';
import type { Fault, FaultKind, NodeTarget } from './faults.js';
import type { Figures } from './figures.js';
import type { Random } from './random.js';
import type { RedisWorld, SimNode } from './redis.js';
import type { Process, Simulator } from './scheduler.js';
import type { SentinelSlot, Sentinels } from './sentinels.js';
import type { RecordChange, SimStore } from './store.js';
import { Timeline } from './timeline.js';
import type { Trace } from './trace.js';

export interface FaultWiring {
  readonly sim: Simulator;
  readonly redis: RedisWorld;
  readonly store: SimStore;
  readonly sentinels: Sentinels;
  readonly figures: Figures;
  readonly trace: Trace;
  /** The lookup client's process: manual failovers are asked through it. */
  readonly client: Process;
  /** The master the schedule starts with (what "the master" is before the record exists). */
  readonly firstMasterKey: string;
  /** The master record as the store holds it now. */
  readonly record: () => MasterRecord | null;
  /** The recorded master is about to crash (its replicas are still linked to it). */
  readonly beforeMasterCrash: (node: SimNode) => void;
}

/** A fault waiting for its moment: a failover step recorded, a down-vote written. */
type Armed =
  | {
      readonly trigger: 'step';
      readonly step: string;
      readonly how: 'kill' | 'abort' | 'pause';
      readonly durationMs: number;
    }
  | { readonly trigger: 'down-vote'; readonly sentinel: SentinelId };

export class FaultInjector {
  /** Faults injected so far, by kind. */
  readonly counts: Partial<Record<FaultKind, number>> = {};
  /** The store answers normally: no outage, no slow replies for everyone. */
  readonly storeNormal = new Timeline(true, T0);
  /** When a manual failover was asked. */
  readonly manualRequests: number[] = [];
  readonly #replicationCuts = new Map<string, Timeline>();
  readonly #armed: Armed[] = [];
  #slowEveryone = 0;
  readonly #wiring: FaultWiring;
  /** Draws which node "a replica" or "any node" is, when the fault fires. */
  readonly #rng: Random;

  constructor(wiring: FaultWiring, rng: Random) {
    this.#wiring = wiring;
    this.#rng = rng;
  }

  count(kind: FaultKind): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
  }

  /** The replica's replication link is cut. */
  replicationCut(node: SimNode): Timeline {
    let timeline = this.#replicationCuts.get(node.key);
    if (!timeline) {
      timeline = new Timeline(false, T0);
      this.#replicationCuts.set(node.key, timeline);
    }
    return timeline;
  }

  inject(fault: Fault): void {
    const { sim, redis, store, sentinels, figures } = this.#wiring;
    this.count(fault.kind);
    this.#wiring.trace.line(`fault ${JSON.stringify(fault)}`);
    switch (fault.kind) {
      case 'redis-crash': {
        const node = this.#resolveNode(fault.node);
        if (!node.up) return;
        const record = this.#wiring.record();
        const wasRecordedMaster = record !== null && `${record.host}:${record.port}` === node.key;
        if (wasRecordedMaster) this.#wiring.beforeMasterCrash(node);
        redis.crash(node);
        if (wasRecordedMaster) figures.masterDied(node.key, sim.now);
        if (fault.restartAfterMs !== null) {
          sim.after(fault.restartAfterMs, () => {
            redis.restart(node);
            figures.nodeRestarted(node.key);
          });
        }
        return;
      }
      case 'redis-pause':
        redis.pause(this.#resolveNode(fault.node), sim.now + fault.durationMs);
        return;
      case 'partition-sentinel-redis': {
        const nodes = fault.node === 'all' ? [...redis.nodes.values()] : [this.#resolveNode(fault.node)];
        this.#whileTouching(fault, (id, on) => {
          for (const node of nodes) redis.setLinkCut(id, node, on);
        });
        return;
      }
      case 'partition-sentinel-store':
        this.#whileTouching(fault, (id, on) => store.setCut(id, on), true);
        return;
      case 'store-reply-loss':
        this.#whileTouching(fault, (id, on) => store.setReplyLoss(id, on));
        return;
      case 'store-outage':
        this.#whileStoreAbnormal(fault.durationMs, (on) => store.setOutage(on));
        return;
      case 'store-slow': {
        const { sentinel, extraMs, durationMs } = fault;
        if (sentinel === null) {
          this.#whileStoreAbnormal(durationMs, (on) => {
            store.addSlow(on ? extraMs : -extraMs);
            this.#slowEveryone += on ? 1 : -1;
          });
          return;
        }
        this.#whileTouching({ sentinel, durationMs }, (id, on) => store.addSlow(on ? extraMs : -extraMs, id));
        return;
      }
      case 'sentinel-pause': {
        const until = sim.now + fault.durationMs;
        for (const invocation of this.#slotOf(fault).invocations)
          if (!invocation.ended) sentinels.pause(invocation, until);
        return;
      }
      case 'sentinel-crash': {
        const { id, invocations } = this.#slotOf(fault);
        if (fault.afterDownVote) this.#armed.push({ trigger: 'down-vote', sentinel: id });
        else for (const invocation of invocations) sentinels.kill(invocation);
        return;
      }
      case 'late-invocation':
        this.#slotOf(fault).lateMs = fault.lateMs;
        return;
      case 'duplicate-invocation':
        sentinels.start(this.#slotOf(fault));
        return;
      case 'failover-dies-after-step':
        this.#armed.push({ trigger: 'step', step: fault.step, how: fault.how, durationMs: 0 });
        return;
      case 'leader-paused-after-step':
        this.#armed.push({ trigger: 'step', step: fault.step, how: 'pause', durationMs: fault.durationMs });
        return;
      case 'replication-cut': {
        const node = this.#resolveNode(fault.node);
        redis.setReplicationCut(node, true);
        this.replicationCut(node).set(sim.now, true);
        sim.after(fault.durationMs, () => {
          redis.setReplicationCut(node, false);
          this.replicationCut(node).set(sim.now, false);
        });
        return;
      }
      case 'redis-reply-loss':
        this.#whileTouching(fault, (id, on) => redis.setReplyLoss(id, on));
        return;
      case 'lost-increments':
        store.setIncrementsLost(true);
        sim.after(fault.durationMs, () => store.setIncrementsLost(false));
        return;
      case 'manual-failover': {
        this.manualRequests.push(sim.now);
        const trace = this.#wiring.trace;
        void store
          .view(this.#wiring.client, 'client')
          .requestFailover(MASTER_NAME, { now: sim.now, coordinated: fault.coordinated })
          .then((outcome) => trace.line(`manual failover: ${outcome}`))
          .catch(() => trace.line('manual failover: store unavailable'));
        return;
      }
    }
  }

  /** A runner armed to die (or freeze) after recording this step does so now, before it hears the answer. */
  afterRecordChange(change: RecordChange): void {
    const won = change.op === 'claimEpoch' && (change.result as { won?: boolean }).won === true;
    if (change.op !== 'advanceFailover' && !won) return;
    const step = change.after.failoverState;
    const index = this.#armed.findIndex((a) => a.trigger === 'step' && a.step === step);
    const invocation = this.#wiring.sentinels.named(change.process);
    const armed = this.#armed[index];
    if (armed?.trigger !== 'step' || !invocation) return;
    this.#armed.splice(index, 1);
    this.#wiring.trace.line(`${invocation.name} stops after recording ${step} (${armed.how})`);
    if (armed.how === 'kill') this.#wiring.sentinels.kill(invocation);
    else if (armed.how === 'abort') invocation.process.deliver(() => invocation.abort.abort());
    else this.#wiring.sentinels.pause(invocation, this.#wiring.sim.now + armed.durationMs);
  }

  /** A sentinel armed to die after its down-vote dies as soon as the vote is written. */
  afterVote(vote: Vote): void {
    if (!vote.down) return;
    const index = this.#armed.findIndex((a) => a.trigger === 'down-vote' && a.sentinel === vote.sentinelId);
    const invocation = this.#wiring.sentinels.named(vote.invocationId);
    if (index >= 0 && invocation) {
      this.#armed.splice(index, 1);
      this.#wiring.sentinels.kill(invocation);
    }
  }

  #resolveNode(target: NodeTarget): SimNode {
    const nodes = [...this.#wiring.redis.nodes.values()];
    const record = this.#wiring.record();
    const masterKey = record ? `${record.host}:${record.port}` : this.#wiring.firstMasterKey;
    const master = nodes.find((n) => n.key === masterKey) ?? (nodes[0] as SimNode);
    if (target === 'master') return master;
    if (target === 'replica') {
      const replicas = nodes.filter((n) => n !== master);
      return replicas.length > 0 ? this.#rng.pick(replicas) : master;
    }
    return this.#rng.pick(nodes);
  }

  /** The sentinel a fault names (by its index in SENTINEL_IDS). */
  #slotOf(fault: { readonly sentinel: number }): SentinelSlot {
    const slot = this.#wiring.sentinels.slots[fault.sentinel];
    if (slot === undefined) throw new Error(`no sentinel ${fault.sentinel}`);
    return slot;
  }

  /**
   * Switches a fault touching one sentinel on for its duration (the sentinel is not clean meanwhile);
   * `storeCut`: it cuts the sentinel off from the store.
   */
  #whileTouching(
    fault: { readonly sentinel: number; readonly durationMs: number },
    set: (sentinel: SentinelId, on: boolean) => void,
    storeCut = false,
  ): void {
    const { sim, sentinels } = this.#wiring;
    const slot = this.#slotOf(fault);
    set(slot.id, true);
    slot.faults += 1;
    if (storeCut) slot.storeCut += 1;
    sentinels.refresh(slot);
    sim.after(fault.durationMs, () => {
      set(slot.id, false);
      slot.faults -= 1;
      if (storeCut) slot.storeCut -= 1;
      sentinels.refresh(slot);
    });
  }

  /** Switches a fault of the whole store on for its duration (the store is not normal meanwhile). */
  #whileStoreAbnormal(durationMs: number, set: (on: boolean) => void): void {
    const { sim, store } = this.#wiring;
    set(true);
    this.storeNormal.set(sim.now, false);
    sim.after(durationMs, () => {
      set(false);
      this.storeNormal.set(sim.now, !store.unavailable && this.#slowEveryone === 0);
    });
  }
}
