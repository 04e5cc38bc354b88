/**
 * Probing of one master and its replicas by one sentinel: a PING loop per instance at the probe period
 * and an INFO loop at the INFO period, each feeding the core's observation reducers. The loops run on
 * their own timers, so a slow store call in the decision tick never delays a PING.
 */
import { SENTINEL_DEFAULTS } from '../core/constants.js';
import { type InstanceRef, instanceEvent, type MasterRef } from '../core/events.js';
import {
  applyInfoOutcome,
  applyLinkLost,
  applyPingOutcome,
  type ConfiguredRole,
  type InstanceObservation,
  newObservation,
} from '../core/observation.js';
import { newlyReportedReplicas } from '../core/replicas.js';
import type {
  Address,
  GlobalSettings,
  MasterSettings,
  ReplicationInfo,
  SentinelEvent,
} from '../core/types.js';
import type { RedisProbe, RedisProbeFactory } from '../ports.js';
import type { Clock } from './clock.js';

/**
 * One probed instance. Each of its two loops sleeps on its own AbortController, which is replaced only
 * once aborted: a loop that is never woken allocates no signal per period, and stop() aborts both. (With
 * a stop signal combined per sleep through AbortSignal.any, every PING allocated a signal that the stop
 * signal tracked until a GC: garbage at 3 PINGs a second per master.)
 */
interface ProbedInstance {
  observation: InstanceObservation;
  readonly probe: RedisProbe;
  stopped: boolean;
  /** Aborted to end the PING loop's wait early: stop(), or the connection dropped (probe again now). */
  pingSleep: AbortController;
  /** Whether the PING loop is waiting: a wake-up only counts then (a probe in flight is not cut short). */
  pingSleeping: boolean;
  /** Aborted to end the INFO loop's wait early: stop(), or the master went down (replicas' INFO now). */
  infoSleep: AbortController;
  infoSleeping: boolean;
  /** A replica's `replica_announced` as last reported to onReplicaAnnounced (null: not yet, this run). */
  reportedAnnounced: boolean | null;
}

const NO_OBSERVATIONS: readonly InstanceObservation[] = Object.freeze([]);

export interface MonitorSnapshot {
  readonly master: InstanceObservation;
  readonly replicas: readonly InstanceObservation[];
}

export interface MasterMonitorOptions {
  readonly settings: MasterSettings;
  readonly global: GlobalSettings;
  readonly masterAddress: Address;
  readonly probeFactory: RedisProbeFactory;
  readonly clock: Clock;
  readonly clientName: string;
  readonly onEvent: (event: SentinelEvent) => void;
  readonly onReplicaDiscovered?: (address: Address, info: ReplicationInfo | null) => void;
  /**
   * A replica's `replica_announced`, from its own INFO: at its first INFO in this monitor's run (the
   * recorded flag may be stale) and whenever it changes, so the views that read the store can hide a
   * `replica-announced no` replica as Sentinel does.
   */
  readonly onReplicaAnnounced?: (address: Address, announced: boolean) => void;
  /** Observations handed over by the previous invocation (continuous probing); else start fresh. */
  readonly resume?: MonitorSnapshot;
  /**
   * Replicas recorded in the store, probed from the start (each announced with `+slave`, as this
   * sentinel sees it for the first time): an invocation that starts after the master died cannot learn
   * them from its INFO, and must still be able to fail over.
   */
  readonly knownReplicas?: readonly Address[];
}

export class MasterMonitor {
  readonly #options: MasterMonitorOptions;
  #master: ProbedInstance;
  readonly #replicas = new Map<string, ProbedInstance>();
  #fastInfo = false;
  /** Called after each INFO outcome is applied (awaitFreshInfo's waiters). */
  readonly #infoAnswered = new Set<() => void>();
  #started = false;
  #stopped = false;

  constructor(options: MasterMonitorOptions) {
    this.#options = options;
    const now = options.clock.now();
    const resumed = options.resume?.master;
    const sameMaster =
      resumed?.address.host === options.masterAddress.host &&
      resumed?.address.port === options.masterAddress.port;
    this.#master = this.#createInstance(
      sameMaster && resumed ? resumed : newObservation(options.masterAddress, 'master', now),
    );
    for (const replica of options.resume?.replicas ?? []) this.#addReplica(replica.address, replica);
    for (const address of options.knownReplicas ?? []) this.#addReplica(address);
  }

  get masterAddress(): Address {
    return this.#master.observation.address;
  }

  snapshot(): MonitorSnapshot {
    return { master: this.master, replicas: this.replicas };
  }

  /** The master's observation as of now (observations are immutable: a read-only view, no copy). */
  get master(): InstanceObservation {
    return this.#master.observation;
  }

  /**
   * The replicas' observations as of now. Read every tick for every master: a master without replicas
   * gets one shared empty array rather than a new one each time.
   */
  get replicas(): readonly InstanceObservation[] {
    if (this.#replicas.size === 0) return NO_OBSERVATIONS;
    return Array.from(this.#replicas.values(), (r) => r.observation);
  }

  /** While the master looks down, INFO goes to 1 s like Sentinel's during ODOWN or a failover. */
  setFastInfo(fast: boolean): void {
    const turningOn = fast && !this.#fastInfo;
    this.#fastInfo = fast;
    // Replica selection needs INFO younger than 5 probe periods once the master is down: ask at once
    // rather than at the end of a 10 s INFO period.
    if (turningOn) for (const replica of this.#replicas.values()) wakeInfo(replica);
  }

  /**
   * Resolves once every connected replica's INFO is at most `maxAgeMs` old, or after `timeoutMs`. The
   * replicas that are not are asked at once (if their INFO loop is waiting). A leader that won its
   * epoch within ms of SDOWN waits here for the INFO setFastInfo asked for, one round trip, rather than
   * judging replicas on INFO from the slow period; a replica that does not answer within the probe
   * timeout is judged on what it last said.
   */
  async awaitFreshInfo(maxAgeMs: number, timeoutMs: number): Promise<void> {
    const { clock } = this.#options;
    const until = clock.now() + timeoutMs;
    const stale = () => {
      const now = clock.now();
      return [...this.#replicas.values()].filter(
        (r) =>
          !r.stopped &&
          r.observation.linkConnected &&
          (r.observation.infoAt === null || now - r.observation.infoAt > maxAgeMs),
      );
    };
    let waiting = stale();
    for (const replica of waiting) wakeInfo(replica);
    while (waiting.length > 0 && !this.#stopped && clock.now() < until) {
      const answered = new AbortController();
      const wake = () => answered.abort();
      this.#infoAnswered.add(wake);
      try {
        await clock.sleep(until - clock.now(), answered.signal);
      } finally {
        this.#infoAnswered.delete(wake);
      }
      waiting = stale();
    }
  }

  /** Follows a master address change recorded in the store (after a failover). */
  repoint(address: Address): void {
    if (address.host === this.masterAddress.host && address.port === this.masterAddress.port) return;
    const old = this.#master;
    stopInstance(old);
    void old.probe.close();
    const key = `${address.host}:${address.port}`;
    const asReplica = this.#replicas.get(key);
    if (asReplica) {
      stopInstance(asReplica);
      void asReplica.probe.close();
      this.#replicas.delete(key);
    }
    this.#master = this.#createInstance(newObservation(address, 'master', this.#options.clock.now()));
    if (this.#running()) this.#startLoops(this.#master);
    this.#addReplica(old.observation.address);
  }

  start(): void {
    this.#started = true;
    this.#startLoops(this.#master);
    for (const replica of this.#replicas.values()) this.#startLoops(replica);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const answered of this.#infoAnswered) answered();
    const all = [this.#master, ...this.#replicas.values()];
    for (const instance of all) stopInstance(instance);
    await Promise.all(all.map((instance) => instance.probe.close()));
  }

  #running(): boolean {
    return this.#started && !this.#stopped;
  }

  #createInstance(observation: InstanceObservation): ProbedInstance {
    const { settings, global, probeFactory, clock, clientName } = this.#options;
    const holder: { instance?: ProbedInstance } = {};
    const probe = probeFactory(observation.address, {
      timeoutMs: settings.probeTimeoutMs,
      authUser: settings.authUser,
      authPass: settings.authPass,
      tls: global.tls,
      renamedCommands: settings.renamedCommands,
      clientName,
      now: () => clock.now(),
      onConnectionLost: () => {
        const instance = holder.instance;
        if (!instance || instance.stopped) return;
        // No PING waiting on the lost connection (one that was is settled with it, and applied next):
        // the link is down now, not when the PING sent next fails (SENTINEL MASTER's `disconnected`).
        if (instance.pingSleeping) this.#applyPing(instance, (obs) => applyLinkLost(obs, clock.now()));
        wakePing(instance);
      },
    });
    holder.instance = {
      observation,
      probe,
      stopped: false,
      pingSleep: new AbortController(),
      pingSleeping: false,
      infoSleep: new AbortController(),
      infoSleeping: false,
      reportedAnnounced: null,
    };
    return holder.instance;
  }

  #addReplica(address: Address, resumed?: InstanceObservation): void {
    const key = `${address.host}:${address.port}`;
    if (this.#replicas.has(key) || key === `${this.masterAddress.host}:${this.masterAddress.port}`) return;
    const observation = resumed ?? newObservation(address, 'replica', this.#options.clock.now());
    const instance = this.#createInstance(observation);
    this.#replicas.set(key, instance);
    if (!resumed) {
      this.#options.onEvent(
        instanceEvent('+slave', this.#masterRef(), { kind: 'slave', address }, this.#options.clock.now()),
      );
    }
    // Before start(), start() runs the loops of every instance: starting them here too would probe twice.
    if (this.#running()) this.#startLoops(instance);
  }

  #masterRef(): MasterRef {
    return { name: this.#options.settings.name, address: this.masterAddress };
  }

  #startLoops(instance: ProbedInstance): void {
    void this.#pingLoop(instance);
    void this.#infoLoop(instance);
  }

  async #pingLoop(instance: ProbedInstance): Promise<void> {
    const { clock, settings } = this.#options;
    while (!instance.stopped) {
      const outcome = await instance.probe.ping();
      if (instance.stopped) return;
      this.#applyPing(instance, (obs) => applyPingOutcome(obs, outcome));
      if (instance.pingSleep.signal.aborted) instance.pingSleep = new AbortController();
      instance.pingSleeping = true;
      await clock.sleep(outcome.sentAt + settings.probePeriodMs - clock.now(), instance.pingSleep.signal);
      instance.pingSleeping = false;
    }
  }

  /** A PING's outcome (or a lost link) into the instance's observation. */
  #applyPing(instance: ProbedInstance, apply: (obs: InstanceObservation) => InstanceObservation): void {
    const wasAnswering = instance.observation.oldestUnansweredPingAt === null;
    instance.observation = apply(instance.observation);
    // The master just stopped answering: its replicas' INFO is asked now, once. Each then reports its
    // link to the master down and is asked every second (as Sentinel asks such a replica), so a
    // failover that follows within ms of SDOWN finds INFO recent enough to select on, instead of
    // INFO from the 10 s period that it would have to wait for (awaitFreshInfo).
    if (instance === this.#master && wasAnswering && instance.observation.oldestUnansweredPingAt !== null)
      for (const replica of this.#replicas.values()) wakeInfo(replica);
  }

  async #infoLoop(instance: ProbedInstance): Promise<void> {
    const { clock, settings } = this.#options;
    while (!instance.stopped) {
      const outcome = await instance.probe.info();
      if (instance.stopped) return;
      const change = applyInfoOutcome(instance.observation, outcome, settings.masterRebootDownAfterPeriodMs);
      instance.observation = change.observation;
      const role: ConfiguredRole = instance.observation.configuredRole;
      const ref: InstanceRef = {
        kind: role === 'master' ? 'master' : 'slave',
        address: instance.observation.address,
      };
      const now = clock.now();
      if (change.rebooted) this.#options.onEvent(instanceEvent('+reboot', this.#masterRef(), ref, now));
      if (change.roleChangedTo) {
        const matches = change.roleChangedTo === role;
        const word = change.roleChangedTo === 'master' ? 'master' : 'slave';
        this.#options.onEvent(
          instanceEvent(
            matches ? '+role-change' : '-role-change',
            this.#masterRef(),
            ref,
            now,
            `new reported role is ${word}`,
          ),
        );
      }
      if (outcome.result.type === 'info' && instance !== this.#master) {
        const announced = outcome.result.info.replicaAnnounced;
        if (announced !== instance.reportedAnnounced) {
          instance.reportedAnnounced = announced;
          this.#options.onReplicaAnnounced?.(instance.observation.address, announced);
        }
      }
      if (outcome.result.type === 'info' && instance === this.#master) {
        const info = outcome.result.info;
        const known = [...this.#replicas.values()].map((r) => r.observation.address);
        for (const address of newlyReportedReplicas(known, info)) {
          this.#addReplica(address);
          this.#options.onReplicaDiscovered?.(address, null);
        }
      }
      for (const answered of this.#infoAnswered) answered();
      const fast = this.#fastInfo || (instance.observation.info?.masterLinkDownSinceMs ?? 0) > 0;
      const period = fast
        ? Math.min(SENTINEL_DEFAULTS.fastInfoPeriodMs, settings.infoPeriodMs)
        : settings.infoPeriodMs;
      if (instance.infoSleep.signal.aborted) instance.infoSleep = new AbortController();
      instance.infoSleeping = true;
      await clock.sleep(outcome.sentAt + period - clock.now(), instance.infoSleep.signal);
      instance.infoSleeping = false;
    }
  }
}

/** Ends both loops of an instance: the current waits end at once, and no probe call follows. */
function stopInstance(instance: ProbedInstance): void {
  instance.stopped = true;
  instance.pingSleep.abort();
  instance.infoSleep.abort();
}

/** Cuts the PING loop's wait short; a wake-up while a PING is in flight is not kept for later. */
function wakePing(instance: ProbedInstance): void {
  if (instance.pingSleeping) instance.pingSleep.abort();
}

function wakeInfo(instance: ProbedInstance): void {
  if (instance.infoSleeping) instance.infoSleep.abort();
}
