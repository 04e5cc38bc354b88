/**
 * A scriptable stand-in for Redis instances, for fast runtime tests of the loop's own logic (lease,
 * hand-over, fencing, store outages). Behaviour against real servers is tested in test/integration.
 */
import type { Address, InfoOutcome, PingOutcome, ReplicationInfo } from '../../lib/core/types.js';
import type {
  RedisControlFactory,
  RedisProbe,
  RedisProbeFactory,
  RedisProbeOptions,
} from '../../lib/ports.js';

export type FakeState = 'up' | 'dead' | 'frozen';

export class FakeRedisWorld {
  readonly #states = new Map<string, FakeState>();
  readonly #cut = new Set<string>();
  readonly #info = new Map<string, ReplicationInfo>();

  set(address: Address, state: FakeState): void {
    this.#states.set(key(address), state);
  }

  setInfo(address: Address, info: ReplicationInfo): void {
    this.#info.set(key(address), info);
  }

  /** Cuts one sentinel (by client name) off from one instance: its probes time out. */
  cut(clientName: string, address: Address): void {
    this.#cut.add(`${clientName}|${key(address)}`);
  }

  factory(): RedisProbeFactory {
    return (address, options) => new FakeProbe(this, address, options);
  }

  /** REPLICAOF on the fake: changes the role the instance reports in INFO. */
  controlFactory(): RedisControlFactory {
    return () => ({
      replicaOf: async (target, master) => {
        if (this.#states.get(key(target)) !== 'up') return { ok: false, reason: 'ECONNREFUSED' };
        const info = this.#info.get(key(target));
        if (info) {
          this.#info.set(
            key(target),
            master === null
              ? { ...info, role: 'master', masterHost: null, masterPort: null, masterLinkUp: false }
              : {
                  ...info,
                  role: 'replica',
                  masterHost: master.host,
                  masterPort: master.port,
                  masterLinkUp: true,
                },
          );
        }
        this.replicaOfCalls.push({ target, master });
        return { ok: true };
      },
      failoverTo: async (master, target) => {
        if (this.#states.get(key(master)) !== 'up') return { ok: false, reason: 'ECONNREFUSED' };
        const targetInfo = this.#info.get(key(target));
        if (targetInfo) {
          this.#info.set(key(target), { ...targetInfo, role: 'master', masterHost: null, masterPort: null });
        }
        this.failoverToCalls.push({ master, target });
        return { ok: true };
      },
    });
  }

  readonly replicaOfCalls: Array<{ target: Address; master: Address | null }> = [];
  readonly failoverToCalls: Array<{ master: Address; target: Address }> = [];

  stateFor(address: Address, clientName: string | undefined): FakeState {
    if (this.#cut.has(`${clientName}|${key(address)}`)) return 'frozen';
    return this.#states.get(key(address)) ?? 'dead';
  }

  infoFor(address: Address): ReplicationInfo | undefined {
    return this.#info.get(key(address));
  }
}

function key(a: Address): string {
  return `${a.host}:${a.port}`;
}

class FakeProbe implements RedisProbe {
  constructor(
    readonly world: FakeRedisWorld,
    readonly address: Address,
    readonly options: RedisProbeOptions,
  ) {}

  async ping(): Promise<PingOutcome> {
    const sentAt = this.options.now();
    const state = this.world.stateFor(this.address, this.options.clientName);
    if (state === 'up') {
      return {
        sentAt,
        completedAt: this.options.now(),
        result: { type: 'reply', kind: 'pong', text: 'PONG' },
      };
    }
    if (state === 'dead') {
      return { sentAt, completedAt: sentAt, result: { type: 'unreachable', reason: 'ECONNREFUSED' } };
    }
    await new Promise((r) => setTimeout(r, this.options.timeoutMs));
    return { sentAt, completedAt: this.options.now(), result: { type: 'timeout' } };
  }

  async info(): Promise<InfoOutcome> {
    const sentAt = this.options.now();
    const info = this.world.infoFor(this.address);
    const state = this.world.stateFor(this.address, this.options.clientName);
    if (state !== 'up' || !info) {
      return { sentAt, completedAt: sentAt, result: { type: 'unreachable', reason: 'ECONNREFUSED' } };
    }
    return { sentAt, completedAt: this.options.now(), result: { type: 'info', info } };
  }

  async close(): Promise<void> {}
}
