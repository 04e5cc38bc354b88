/**
 * RedisControl over ioredis: a fail-fast connection of its own per reconfiguration, one MULTI/EXEC,
 * closed at once. Reconfigurations are rare, so a dedicated connection costs nothing and never shares a
 * socket with the probes' timeouts. A promotion's connection may be opened ahead (`prepare`), while the
 * claim that chose the replica is written, and is still used for that one call only.
 *
 * Connect and reply share one budget, timeoutMs (probe-timeout), like a probe's: the call ends within
 * controlCommandDeadlineMs(timeoutMs), which the failover runner's leader fence counts on
 * (lib/core/fence.ts). The transaction is written as soon as the connection is up, so nothing is written
 * after timeoutMs either.
 */
import { Redis } from 'ioredis';
import { controlCommandDeadlineMs } from '../../core/fence.js';
import { commandNameToSend } from '../../core/names.js';
import type { Address } from '../../core/types.js';
import type { RedisControl, RedisControlFactory, RedisProbeOptions, ReplicaOfResult } from '../../ports.js';
import { PROBE_CLIENT_OPTIONS, readTlsOptions } from './connectionOptions.js';

/** Redis's error when CONFIG REWRITE has no file to write: tolerated, as Sentinel does. */
const NO_CONFIG_FILE = /without a config file/i;

/** The name to send: a rename to another command's name is never sent (lib/core/names.ts). */
function commandName(options: RedisProbeOptions, name: string): string {
  return commandNameToSend(options.renamedCommands, name);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function addressKey(address: Address): string {
  return `${address.host}:${address.port}`;
}

class IoredisControl implements RedisControl {
  readonly #tls;
  /**
   * Connections opened by `prepare`, by address: each is used by one call at most (taken out of the map
   * when used), so no two reconfigurations ever share a socket.
   */
  readonly #prepared = new Map<string, { client: Redis; connected: Promise<boolean> }>();

  constructor(private readonly options: RedisProbeOptions) {
    this.#tls = options.tls?.enabled ? readTlsOptions(options.tls) : undefined;
  }

  async replicaOf(target: Address, master: Address | null): Promise<ReplicaOfResult> {
    const failed = (error: unknown): ReplicaOfResult => ({ ok: false, reason: errorText(error) });
    return this.#withClient(target, failed, (client) => this.#transaction(client, master));
  }

  prepare(target: Address): void {
    const key = addressKey(target);
    if (this.#prepared.has(key)) return;
    const client = this.#newClient(target);
    const connected = client.connect().then(
      () => true,
      () => false,
    );
    this.#prepared.set(key, { client, connected });
  }

  close(): void {
    for (const { client } of this.#prepared.values()) client.disconnect();
    this.#prepared.clear();
  }

  async failoverTo(master: Address, target: Address, timeoutMs: number): Promise<ReplicaOfResult> {
    const refused = (error: unknown): ReplicaOfResult => ({
      ok: false,
      reason: `FAILOVER TO refused: ${errorText(error)}`,
    });
    return this.#withClient(master, refused, async (client) => {
      try {
        await client.call(
          commandName(this.options, 'failover'),
          'TO',
          target.host,
          String(target.port),
          'TIMEOUT',
          String(timeoutMs),
        );
        return { ok: true };
      } catch (error) {
        return refused(error);
      }
    });
  }

  /**
   * A fail-fast connection for one call, closed afterwards, with one outer deadline for all of it: the
   * one `prepare` opened for this address if it connected, else a fresh one.
   */
  async #withClient(
    target: Address,
    connectFailed: (error: unknown) => ReplicaOfResult,
    call: (client: Redis) => Promise<ReplicaOfResult>,
  ): Promise<ReplicaOfResult> {
    const { options } = this;
    const used: { client: Redis | null; expired: boolean } = { client: null, expired: false };
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<ReplicaOfResult>((resolve) => {
      timer = setTimeout(() => {
        used.expired = true;
        resolve({ ok: false, reason: 'timeout' });
      }, controlCommandDeadlineMs(options.timeoutMs));
    });
    const attempt = async (): Promise<ReplicaOfResult> => {
      const prepared = await this.#takePrepared(target);
      // Nothing is written once the deadline has passed (the leader fence counts on it); the finally
      // below has already run then, so the prepared connection is closed here.
      if (used.expired) {
        prepared?.disconnect();
        return { ok: false, reason: 'timeout' };
      }
      used.client = prepared ?? this.#newClient(target);
      try {
        if (!prepared) await used.client.connect();
      } catch (error) {
        return connectFailed(error);
      }
      return call(used.client);
    };
    try {
      return await Promise.race([attempt(), deadline]);
    } finally {
      clearTimeout(timer);
      used.client?.disconnect();
    }
  }

  /** The prepared connection to `target`, once connected; null when none was prepared or it failed. */
  async #takePrepared(target: Address): Promise<Redis | null> {
    const key = addressKey(target);
    const prepared = this.#prepared.get(key);
    if (!prepared) return null;
    this.#prepared.delete(key);
    if ((await prepared.connected) && prepared.client.status === 'ready') return prepared.client;
    prepared.client.disconnect();
    return null;
  }

  #newClient(target: Address): Redis {
    const { options } = this;
    const client = new Redis({
      ...PROBE_CLIENT_OPTIONS,
      host: target.host,
      port: target.port,
      connectTimeout: options.timeoutMs,
      commandTimeout: options.timeoutMs,
      ...(options.authUser ? { username: options.authUser } : {}),
      ...(options.authPass ? { password: options.authPass } : {}),
      ...(this.#tls ? { tls: this.#tls } : {}),
      ...(options.clientName ? { connectionName: options.clientName } : {}),
    });
    client.on('error', () => {});
    return client;
  }

  async #transaction(client: Redis, master: Address | null): Promise<ReplicaOfResult> {
    const { options } = this;
    try {
      const args = master === null ? ['NO', 'ONE'] : [master.host, String(master.port)];
      const results = await client
        .multi()
        .call(commandName(options, 'replicaof'), ...args)
        .call(commandName(options, 'config'), 'REWRITE')
        .call(commandName(options, 'client'), 'KILL', 'TYPE', 'normal')
        .call(commandName(options, 'client'), 'KILL', 'TYPE', 'pubsub')
        .exec();
      if (results === null) return { ok: false, reason: 'transaction discarded' };
      const [replicaOf, rewrite] = results;
      if (replicaOf?.[0]) return { ok: false, reason: `REPLICAOF failed: ${errorText(replicaOf[0])}` };
      if (rewrite?.[0] && !NO_CONFIG_FILE.test(errorText(rewrite[0]))) {
        // The role changed (REPLICAOF succeeded); only persisting it failed. Report it, don't undo it.
        return { ok: true, warning: `CONFIG REWRITE failed: ${errorText(rewrite[0])}` };
      }
      return { ok: true };
    } catch (error) {
      return { ok: false, reason: errorText(error) };
    }
  }
}

export const createRedisControl: RedisControlFactory = (options) => new IoredisControl(options);
