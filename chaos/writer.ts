/**
 * The client that writes all the time: `SET chaos:<n> <n>`, one write at a time, to whichever node the
 * Sentinel endpoint names as master, recording every acknowledged write with the node, the times, and the
 * lookup that pointed it there.
 *
 * It is a careful client, because the split-brain check relies on it (chaos/analysis.ts):
 * - it looks the master up every LOOKUP_MS and at once after any failed write (`SENTINEL MASTER`, which
 *   returns the address and the config epoch of one read of the record);
 * - it writes to a node only within `freshMs` of the start of the lookup that named it, so its view is
 *   never staler than that. While lookups fail (the store is down), it stops writing after `freshMs`;
 *   that shows up as unavailability, which is the honest cost of bounded staleness.
 */
import { Redis } from 'ioredis';
import type { Address } from '../lib/core/types.js';
import { MASTER_NAME, nodeKey } from './cluster.js';
import type { History, NodeKey } from './history.js';

const LOOKUP_MS = 100;
const LOOKUP_TIMEOUT_MS = 1_000;
const WRITE_TIMEOUT_MS = 500;
/** Between writes: about 150–200 writes a second, enough to see every window without loading the machine. */
const WRITE_PAUSE_MS = 5;
const NO_VIEW_WAIT_MS = 10;
/** After a failed write: a client backs off a little rather than hammer a dead node 200 times a second. */
const BACKOFF_MS = 50;

/** Fail-fast: a command goes out on a ready socket or fails at once; nothing is queued or retried. */
const CLIENT_OPTIONS = {
  lazyConnect: true,
  maxRetriesPerRequest: 0,
  enableOfflineQueue: false,
  enableReadyCheck: false,
  retryStrategy: (): null => null,
  autoResendUnfulfilledCommands: false,
  protocol: 2,
  disableClientInfo: true,
} as const;

interface View {
  readonly address: Address;
  readonly epoch: number;
  readonly lookupStartedAt: number;
}

function errorKind(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (message.startsWith('READONLY')) return 'READONLY (a replica)';
  if (message.includes('timed out')) return 'timeout';
  if (message.includes('ECONNREFUSED')) return 'connection refused';
  if (message.includes('closed') || message.includes('ECONNRESET')) return 'connection closed';
  if (message.startsWith('LOADING')) return 'LOADING';
  return message.split(' ')[0] ?? 'error';
}

export class ChaosWriter {
  readonly #history: History;
  readonly #endpoint: Address;
  readonly #freshMs: number;
  #view: View | null = null;
  #running = false;
  #loops: Promise<void>[] = [];
  #lookupNow: (() => void) | null = null;
  readonly #clients = new Map<NodeKey, Redis>();
  #lookupClient: Redis | null = null;
  #next = 0;
  #lastLookupEpoch = -1;
  /** Set while the client waits for a fresh lookup, so each such period is counted once. */
  #waitingForView = false;

  constructor(args: { history: History; endpoint: Address; freshMs: number }) {
    this.#history = args.history;
    this.#endpoint = args.endpoint;
    this.#freshMs = args.freshMs;
  }

  get writesSent(): number {
    return this.#next;
  }

  start(): void {
    this.#running = true;
    this.#loops = [this.#lookupLoop(), this.#writeLoop()];
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#lookupNow?.();
    await Promise.all(this.#loops);
    for (const client of this.#clients.values()) client.disconnect();
    this.#clients.clear();
    this.#lookupClient?.disconnect();
  }

  async #lookupLoop(): Promise<void> {
    while (this.#running) {
      await this.#lookup();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, LOOKUP_MS);
        this.#lookupNow = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  async #lookup(): Promise<void> {
    const startedAt = Date.now();
    try {
      if (!this.#lookupClient || this.#lookupClient.status === 'end') {
        this.#lookupClient?.disconnect();
        this.#lookupClient = new Redis({
          ...CLIENT_OPTIONS,
          ...this.#endpoint,
          connectTimeout: LOOKUP_TIMEOUT_MS,
          commandTimeout: LOOKUP_TIMEOUT_MS,
        });
        this.#lookupClient.on('error', () => {});
        await this.#lookupClient.connect();
      }
      const reply = (await this.#lookupClient.call('SENTINEL', 'MASTER', MASTER_NAME)) as string[];
      const field = (name: string) => reply[reply.indexOf(name) + 1];
      const address = { host: field('ip') as string, port: Number(field('port')) };
      const epoch = Number(field('config-epoch'));
      if (!address.host || !Number.isInteger(address.port) || !Number.isInteger(epoch)) {
        throw new Error(`unexpected SENTINEL MASTER reply: ${JSON.stringify(reply).slice(0, 200)}`);
      }
      this.#history.lookups.push({
        startedAt,
        returnedAt: Date.now(),
        node: nodeKey(address),
        configEpoch: epoch,
      });
      // A lookup that returned an older epoch than the last one (a violation the analysis reports) must
      // not move the client back either.
      if (epoch >= this.#lastLookupEpoch) {
        this.#lastLookupEpoch = epoch;
        this.#view = { address, epoch, lookupStartedAt: startedAt };
      }
    } catch {
      this.#history.countWriteError('lookup failed');
      this.#lookupClient?.disconnect();
      this.#lookupClient = null;
    }
  }

  #clientFor(address: Address): Redis {
    const key = nodeKey(address);
    let client = this.#clients.get(key);
    if (!client || client.status === 'end' || client.status === 'close') {
      client?.disconnect();
      client = new Redis({
        ...CLIENT_OPTIONS,
        ...address,
        connectTimeout: WRITE_TIMEOUT_MS,
        commandTimeout: WRITE_TIMEOUT_MS,
      });
      client.on('error', () => {});
      this.#clients.set(key, client);
    }
    return client;
  }

  async #writeLoop(): Promise<void> {
    while (this.#running) {
      const view = this.#view;
      if (!view || Date.now() - view.lookupStartedAt > this.#freshMs) {
        // No view fresh enough to write on: wait for a lookup rather than write to a possibly stale master.
        if (!this.#waitingForView) this.#history.countWriteError('paused: no fresh lookup');
        this.#waitingForView = true;
        await new Promise((r) => setTimeout(r, NO_VIEW_WAIT_MS));
        continue;
      }
      this.#waitingForView = false;
      const key = nodeKey(view.address);
      const client = this.#clientFor(view.address);
      const n = this.#next++;
      const sentAt = Date.now();
      try {
        if (client.status === 'wait') await client.connect();
        const reply = await client.set(`chaos:${n}`, String(n));
        if (reply === 'OK') {
          this.#history.writes.push({
            n,
            node: key,
            sentAt,
            ackedAt: Date.now(),
            lookupStartedAt: view.lookupStartedAt,
            lookupEpoch: view.epoch,
          });
        }
      } catch (error) {
        this.#history.countWriteError(errorKind(error));
        client.disconnect();
        this.#clients.delete(key);
        this.#lookupNow?.();
        await new Promise((r) => setTimeout(r, BACKOFF_MS));
      }
      await new Promise((r) => setTimeout(r, WRITE_PAUSE_MS));
    }
  }
}

/** The acked writes found with their value on `address` (MGET in batches). */
export async function readBack(address: Address, numbers: readonly number[]): Promise<Set<number>> {
  const client = new Redis({
    ...address,
    lazyConnect: true,
    maxRetriesPerRequest: 2,
    commandTimeout: 10_000,
  });
  client.on('error', () => {});
  const present = new Set<number>();
  try {
    await client.connect();
    const BATCH = 2_000;
    for (let i = 0; i < numbers.length; i += BATCH) {
      const batch = numbers.slice(i, i + BATCH);
      const values = await client.mget(...batch.map((n) => `chaos:${n}`));
      for (const [j, value] of values.entries()) {
        const n = batch[j] as number;
        if (value === String(n)) present.add(n);
      }
    }
    return present;
  } finally {
    client.disconnect();
  }
}
