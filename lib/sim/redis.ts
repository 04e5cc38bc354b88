/**
 * Simulated Redis nodes behind the RedisProbe / RedisControl ports: roles, replication offsets and links,
 * REPLICAOF and FAILOVER TO with their effects, crashes and restarts (a new run id, LOADING for a moment),
 * pauses (SIGSTOP: requests queue and are served on resume), and a cut per (sentinel, node) link (a black
 * hole: requests time out, nothing is refused). Replies reach the asking process through it, so a paused
 * sentinel gets them late, as a frozen Lambda would.
 *
 * Offsets are computed, not stepped: a writable master's offset grows at a fixed rate, a linked replica
 * trails its master by its own lag, and a replica whose link is down keeps what it had. Every change of
 * state settles the offsets first, so the values are those of a continuous process.
 */
import { addressKey } from '../core/decide.js';
import type { Address, InfoOutcome, PingOutcome, ReplicationInfo } from '../core/types.js';
import type {
  RedisControl,
  RedisControlFactory,
  RedisProbe,
  RedisProbeFactory,
  RedisProbeOptions,
  ReplicaOfResult,
} from '../ports.js';
import type { Random } from './random.js';
import type { Process, Simulator } from './scheduler.js';
import { Timeline } from './timeline.js';

/** Bytes of replication stream per millisecond written to a master by its clients. */
const WRITE_RATE = 100;
/** How long a restarted node answers LOADING. */
const LOADING_MS = 150;
/** What FAILOVER TO takes to let the replica catch up and swap roles. */
const COORDINATED_SWITCH_MS = 30;

export interface NodeSpec {
  readonly name: string;
  readonly address: Address;
  readonly role: 'master' | 'replica';
  readonly priority: number;
  /** How far behind its master a linked replica runs. */
  readonly lagMs: number;
}

export class SimNode {
  readonly key: string;
  up = true;
  pausedUntil = Number.NEGATIVE_INFINITY;
  incarnation = 1;
  role: 'master' | 'replica';
  master: Address | null = null;
  offset = 0;
  offsetAt: number;
  linkUp = false;
  linkDownSince: number | null;
  replicationCut = false;
  loadingUntil = Number.NEGATIVE_INFINITY;
  /** Up, not paused and role master: a master the clients can write to. */
  readonly healthyMaster: Timeline;
  /** Up and not paused. */
  readonly alive: Timeline;
  /** Probes with an open connection, told when the node goes away. */
  readonly connections = new Set<SimProbe>();

  constructor(
    readonly spec: NodeSpec,
    start: number,
  ) {
    this.key = addressKey(spec.address);
    this.role = spec.role;
    this.offsetAt = start;
    this.linkDownSince = spec.role === 'replica' ? start : null;
    this.healthyMaster = new Timeline(spec.role === 'master', start);
    this.alive = new Timeline(true, start);
  }

  get address(): Address {
    return this.spec.address;
  }

  get runId(): string {
    return `${this.spec.name}-${this.incarnation}`.padEnd(40, '0');
  }

  paused(now: number): boolean {
    return this.pausedUntil > now;
  }

  running(now: number): boolean {
    return this.up && !this.paused(now);
  }
}

export interface RedisCommand {
  readonly sentinelId: string;
  readonly process: string;
  readonly kind: 'replicaof' | 'failover-to';
  readonly target: Address;
  readonly master: Address | null;
}

export interface RedisWorldOptions {
  /** Teeth: INFO reports replica-priority 100 where the node is configured with 0. */
  readonly hidePriorityZero?: boolean;
}

type Exchange<T> =
  | { readonly type: 'reply'; readonly value: T }
  | { readonly type: 'refused' }
  | { readonly type: 'timeout' };

export class RedisWorld {
  readonly nodes = new Map<string, SimNode>();
  /** "sentinelId|nodeKey" → number of partitions cutting that link now. */
  readonly #cuts = new Map<string, number>();
  readonly #cutTimelines = new Map<string, Timeline>();
  /** Sentinels whose command replies are being lost (the command still takes effect). */
  readonly #replyLoss = new Map<string, number>();

  constructor(
    readonly sim: Simulator,
    readonly rng: Random,
    specs: readonly NodeSpec[],
    readonly options: RedisWorldOptions,
    /** Called when a command is sent (before it has any effect), and when it takes effect. */
    readonly hooks: {
      readonly onSend: (command: RedisCommand) => void;
      readonly onEffect: (command: RedisCommand, node: SimNode) => void;
      readonly trace: (line: string) => void;
    },
  ) {
    for (const spec of specs) this.nodes.set(addressKey(spec.address), new SimNode(spec, sim.now));
    const master = specs.find((s) => s.role === 'master');
    for (const node of this.nodes.values()) {
      if (node.role === 'replica' && master) node.master = master.address;
    }
    this.#settle();
  }

  node(address: Address): SimNode | undefined {
    return this.nodes.get(addressKey(address));
  }

  // ------------------------------------------------------------------ faults

  crash(node: SimNode): void {
    if (!node.up) return;
    this.#settle();
    node.up = false;
    this.hooks.trace(`redis crash ${node.spec.name}`);
    this.#dropConnections(node);
    this.#settle();
  }

  restart(node: SimNode): void {
    if (node.up) return;
    this.#settle();
    node.up = true;
    node.incarnation += 1;
    node.loadingUntil = this.sim.now + LOADING_MS;
    this.hooks.trace(`redis restart ${node.spec.name} as ${node.role}`);
    this.#settle();
  }

  pause(node: SimNode, until: number): void {
    this.#settle();
    node.pausedUntil = Math.max(node.pausedUntil, until);
    this.hooks.trace(`redis pause ${node.spec.name} until ${until}`);
    this.#settle();
    this.sim.at(node.pausedUntil, () => this.#settle());
  }

  setReplicationCut(node: SimNode, cut: boolean): void {
    this.#settle();
    node.replicationCut = cut;
    this.#settle();
  }

  /** Cuts (or restores) the link between one sentinel and one node; partitions may overlap. */
  setLinkCut(sentinelId: string, node: SimNode, cut: boolean): void {
    const key = `${sentinelId}|${node.key}`;
    const count = (this.#cuts.get(key) ?? 0) + (cut ? 1 : -1);
    this.#cuts.set(key, count);
    this.#cutTimeline(sentinelId, node).set(this.sim.now, count > 0);
  }

  setReplyLoss(sentinelId: string, on: boolean): void {
    this.#replyLoss.set(sentinelId, (this.#replyLoss.get(sentinelId) ?? 0) + (on ? 1 : -1));
  }

  linkCut(sentinelId: string, node: SimNode): boolean {
    return (this.#cuts.get(`${sentinelId}|${node.key}`) ?? 0) > 0;
  }

  /** The link's cut state over time, for the invariants' reachability windows. */
  cutTimeline(sentinelId: string, node: SimNode): Timeline {
    return this.#cutTimeline(sentinelId, node);
  }

  #cutTimeline(sentinelId: string, node: SimNode): Timeline {
    const key = `${sentinelId}|${node.key}`;
    let timeline = this.#cutTimelines.get(key);
    if (timeline === undefined) {
      timeline = new Timeline(false, this.sim.now);
      this.#cutTimelines.set(key, timeline);
    }
    return timeline;
  }

  // ------------------------------------------------------------------ state

  /** Brings offsets up to now, then recomputes every replication link (call around every change). */
  #settle(): void {
    const now = this.sim.now;
    for (const node of this.nodes.values()) {
      if (node.role === 'master' && node.running(now)) node.offset += WRITE_RATE * (now - node.offsetAt);
      node.offsetAt = now;
    }
    for (const node of this.nodes.values()) {
      const master = node.master ? this.nodes.get(addressKey(node.master)) : undefined;
      const linked =
        node.role === 'replica' &&
        node.running(now) &&
        master !== undefined &&
        master !== node &&
        master.running(now) &&
        master.role === 'master' &&
        !node.replicationCut;
      if (linked && master) {
        node.offset = Math.max(node.offset, master.offset - WRITE_RATE * node.spec.lagMs);
        node.linkDownSince = null;
      } else if (node.linkUp || node.linkDownSince === null) {
        node.linkDownSince = node.role === 'replica' ? now : null;
      }
      node.linkUp = linked;
      node.healthyMaster.set(now, node.role === 'master' && node.running(now));
      node.alive.set(now, node.running(now));
    }
  }

  info(node: SimNode): ReplicationInfo {
    this.#settle();
    const now = this.sim.now;
    const replicas = [...this.nodes.values()].filter(
      (r) => r.linkUp && r.master !== null && addressKey(r.master) === node.key,
    );
    const priority = this.options.hidePriorityZero && node.spec.priority === 0 ? 100 : node.spec.priority;
    return {
      runId: node.runId,
      role: node.role,
      loading: node.loadingUntil > now,
      masterHost: node.role === 'replica' ? (node.master?.host ?? null) : null,
      masterPort: node.role === 'replica' ? (node.master?.port ?? null) : null,
      masterLinkUp: node.linkUp,
      masterLinkDownSinceMs:
        node.role === 'replica' && !node.linkUp && node.linkDownSince !== null ? now - node.linkDownSince : 0,
      replicaPriority: priority,
      replicaOffset: node.role === 'replica' ? node.offset : null,
      replicaAnnounced: true,
      masterReplOffset: node.offset,
      connectedReplicas: replicas.map((r) => ({
        host: r.address.host,
        port: r.address.port,
        state: 'online',
        offset: r.offset,
        lag: 0,
      })),
      redisVersion: '7.2.4',
    };
  }

  #apply(command: RedisCommand, node: SimNode): void {
    this.#settle();
    if (command.kind === 'replicaof') {
      if (command.master === null) {
        node.role = 'master';
        node.master = null;
      } else {
        node.role = 'replica';
        node.master = command.master;
      }
      this.#settle();
      this.hooks.onEffect(command, node);
      return;
    }
    // FAILOVER TO: the master hands over once the target has caught up (it is linked, so it will).
    const target = this.nodes.get(addressKey(command.target));
    this.sim.after(COORDINATED_SWITCH_MS, () => {
      this.#settle();
      if (!target || !node.running(this.sim.now) || node.role !== 'master') return;
      target.role = 'master';
      target.master = null;
      node.role = 'replica';
      node.master = target.address;
      this.#settle();
      this.hooks.onEffect(command, target);
    });
  }

  // ------------------------------------------------------------------ the wire

  /**
   * One request from a sentinel process to a node and its reply, in virtual time. The node's state is
   * read when the request leaves (the wire takes 1–3 ms, far below any timing the system uses), which
   * costs one timer per exchange instead of three: the reply, or the client's timeout. A paused node
   * serves the request when it resumes; `serve` runs then, whether or not the client is still waiting.
   */
  exchange<T>(
    process: Process,
    sentinelId: string,
    address: Address,
    timeoutMs: number,
    serve: (node: SimNode) => T,
    done: (result: Exchange<T>) => void,
  ): void {
    const now = this.sim.now;
    const deadline = now + timeoutMs;
    const oneWay = this.rng.int(1, 3);
    const node = this.nodes.get(addressKey(address));
    const deliver = (at: number, result: Exchange<T>): void => {
      this.sim.at(at, () => process.deliver(() => done(result)));
    };
    if (node === undefined || this.linkCut(sentinelId, node)) {
      deliver(deadline, { type: 'timeout' });
    } else if (!node.up) {
      deliver(now + 2 * oneWay, { type: 'refused' });
    } else if (node.paused(now)) {
      const resumeAt = node.pausedUntil;
      let value: T | undefined;
      this.sim.at(resumeAt, () => {
        // Queued in the socket: served on resume (unless the node died meanwhile).
        if (node.up && !node.paused(this.sim.now)) value = serve(node);
      });
      if (resumeAt + oneWay <= deadline) {
        this.sim.at(resumeAt + oneWay, () =>
          process.deliver(() => done(value === undefined ? { type: 'timeout' } : { type: 'reply', value })),
        );
      } else {
        deliver(deadline, { type: 'timeout' });
      }
    } else {
      deliver(now + 2 * oneWay, { type: 'reply', value: serve(node) });
    }
  }

  #dropConnections(node: SimNode): void {
    for (const probe of node.connections) probe.connectionLost();
    node.connections.clear();
  }

  // ------------------------------------------------------------------ ports

  probeFactory(process: Process, sentinelId: string): RedisProbeFactory {
    return (address, options) => new SimProbe(this, process, sentinelId, address, options);
  }

  controlFactory(process: Process, sentinelId: string): RedisControlFactory {
    return (options) => new SimControl(this, process, sentinelId, options);
  }

  /** Sends a command: `onSend` sees it before it can have any effect. */
  command(
    process: Process,
    options: RedisProbeOptions,
    command: RedisCommand,
    accept: (node: SimNode) => string | null,
  ): Promise<ReplicaOfResult> {
    this.hooks.onSend(command);
    this.hooks.trace(
      `cmd ${command.process} ${command.kind} ${addressKey(command.target)} ${command.master ? addressKey(command.master) : 'NO ONE'}`,
    );
    const lossy = (this.#replyLoss.get(command.sentinelId) ?? 0) > 0;
    const to = command.kind === 'failover-to' ? (command.master as Address) : command.target;
    return new Promise((resolve) => {
      this.exchange(
        process,
        command.sentinelId,
        to,
        options.timeoutMs,
        (node) => {
          const refusal = accept(node);
          if (refusal === null) this.#apply(command, node);
          return refusal;
        },
        (result) => {
          if (result.type === 'refused') resolve({ ok: false, reason: 'ECONNREFUSED' });
          else if (result.type === 'timeout' || lossy) resolve({ ok: false, reason: 'timeout' });
          else if (result.value !== null) resolve({ ok: false, reason: result.value });
          else resolve({ ok: true });
        },
      );
    });
  }
}

class SimProbe implements RedisProbe {
  #connected = false;
  #closed = false;

  constructor(
    readonly world: RedisWorld,
    readonly process: Process,
    readonly sentinelId: string,
    readonly address: Address,
    readonly options: RedisProbeOptions,
  ) {}

  ping(): Promise<PingOutcome> {
    return this.#ask(
      (node) => (node.loadingUntil > this.world.sim.now ? 'loading' : 'pong'),
      (kind) => ({
        type: 'reply',
        kind,
        text: kind === 'pong' ? 'PONG' : 'LOADING Redis is loading the dataset in memory',
      }),
    );
  }

  info(): Promise<InfoOutcome> {
    return this.#ask(
      (node) => this.world.info(node),
      (info) => ({ type: 'info', info }),
    );
  }

  /** One request and its outcome, timed on the asking process's clock as the real probe times it. */
  #ask<T, R>(
    serve: (node: SimNode) => T,
    reply: (value: T) => R,
  ): Promise<{
    sentAt: number;
    completedAt: number;
    result: R | { type: 'unreachable'; reason: string } | { type: 'timeout' };
  }> {
    const sentAt = this.options.now();
    return new Promise((resolve) => {
      this.world.exchange(
        this.process,
        this.sentinelId,
        this.address,
        this.options.timeoutMs,
        serve,
        (result) => {
          const completedAt = this.options.now();
          this.#track(result.type === 'reply');
          if (result.type === 'reply') resolve({ sentAt, completedAt, result: reply(result.value) });
          else if (result.type === 'refused')
            resolve({ sentAt, completedAt, result: { type: 'unreachable', reason: 'ECONNREFUSED' } });
          else resolve({ sentAt, completedAt, result: { type: 'timeout' } });
        },
      );
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#track(false);
  }

  /** The server closed the connection (crash): tell the owner at once, as a socket 'close' would. */
  connectionLost(): void {
    this.#connected = false;
    const notify = this.options.onConnectionLost;
    if (notify && !this.#closed) this.process.after(1, notify);
  }

  #track(connected: boolean): void {
    const node = this.world.nodes.get(addressKey(this.address));
    this.#connected = connected && !this.#closed;
    if (!node) return;
    if (this.#connected) node.connections.add(this);
    else node.connections.delete(this);
  }
}

class SimControl implements RedisControl {
  constructor(
    readonly world: RedisWorld,
    readonly process: Process,
    readonly sentinelId: string,
    readonly options: RedisProbeOptions,
  ) {}

  replicaOf(target: Address, master: Address | null): Promise<ReplicaOfResult> {
    return this.world.command(
      this.process,
      this.options,
      { sentinelId: this.sentinelId, process: this.process.name, kind: 'replicaof', target, master },
      () => null,
    );
  }

  failoverTo(master: Address, target: Address, _timeoutMs: number): Promise<ReplicaOfResult> {
    return this.world.command(
      this.process,
      this.options,
      { sentinelId: this.sentinelId, process: this.process.name, kind: 'failover-to', target, master },
      (node) => {
        const replica = this.world.node(target);
        if (node.role !== 'master') return 'ERR FAILOVER: this instance is not a master';
        if (!replica?.linkUp || !replica.master || addressKey(replica.master) !== node.key)
          return 'ERR FAILOVER target is not a replica of this master';
        return null;
      },
    );
  }
}
