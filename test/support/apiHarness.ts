/**
 * The HTTP API on real parts for the CLI and proxy tests: the store view over a MemoryStore and a
 * MemoryEventLog, served by startHttpApi (or, to test IAM refusals, by the router with writes requiring
 * IAM), and the store-side moves a sentinel would make (switch a master, answer a failover request).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemoryEventLog } from '../../lib/adapters/memory/eventLog.js';
import { MemoryStore } from '../../lib/adapters/memory/store.js';
import { storeStatusSource } from '../../lib/commands/statusSource.js';
import { storeSentinelView } from '../../lib/commands/storeView.js';
import type { SentinelView } from '../../lib/commands/view.js';
import type { Address, SentinelConfig, SentinelEvent, SentinelId } from '../../lib/core/types.js';
import { type EventRecord, toEventRecord } from '../../lib/eventLog.js';
import { handleApiRequest } from '../../lib/http/router.js';
import { startHttpApi } from '../../lib/http/server.js';
import type { SentinelStore } from '../../lib/ports.js';
import { globalSettings, masterSettings } from './settings.js';

export const SENTINEL_IDS = ['sentinel-a', 'sentinel-b', 'sentinel-c'] as const;

export interface ApiHarness {
  readonly url: string;
  readonly store: MemoryStore;
  readonly eventLog: MemoryEventLog;
  readonly view: SentinelView;
  readonly config: SentinelConfig;
  close(): Promise<void>;
}

export interface ApiHarnessOptions {
  /** The monitored master (default mymaster at 127.0.0.1:7000). */
  readonly master?: { readonly name: string } & Address;
  /** How long FAILOVER waits on the server for the outcome (default 5000 ms, the store view's own). */
  readonly failoverWaitMs?: number;
  /** Serve with the router requiring IAM auth for writes, as the deployed function does. */
  readonly requireIamForWrites?: boolean;
}

export async function startApiHarness(options: ApiHarnessOptions = {}): Promise<ApiHarness> {
  const master = options.master ?? { name: 'mymaster', host: '127.0.0.1', port: 7000 };
  const config: SentinelConfig = {
    global: globalSettings({ sentinelIds: SENTINEL_IDS }),
    masters: [masterSettings({ name: master.name, host: master.host, port: master.port })],
  };
  const store = new MemoryStore();
  const eventLog = new MemoryEventLog();
  await store.ensureMaster({ name: master.name, host: master.host, port: master.port, now: Date.now() });
  const view = storeSentinelView(store, config, {
    eventLog,
    failoverWaitMs: options.failoverWaitMs,
    addressPollMs: 20,
  });
  if (options.requireIamForWrites) {
    const server = await iamOnlyServer(view);
    return { ...server, store, eventLog, view, config };
  }
  // A 503 is what some tests provoke: no need to log it.
  const status = storeStatusSource(store, config, { view, eventLog });
  const api = await startHttpApi({ view, port: 0, log: () => {}, status });
  return { url: api.url, store, eventLog, view, config, close: () => api.close() };
}

/** The router as the function URL runs it: writes need IAM auth, which no request here has. */
async function iamOnlyServer(view: SentinelView): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = new URL(req.url ?? '/', 'http://localhost');
    const response = await handleApiRequest(
      {
        method: req.method ?? 'GET',
        path: target.pathname,
        query: target.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        iamAuthenticated: false,
      },
      { view, requireIamForWrites: true, version: 'test' },
    );
    res.writeHead(response.status, response.headers);
    res.end(response.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * What a failover does to the record, through the store's fenced writes: claim the next epoch, switch
 * the address at promotion (configEpoch = epoch), end the attempt. Returns the new epoch.
 */
export async function switchMaster(store: SentinelStore, name: string, to: Address): Promise<number> {
  const now = Date.now();
  const sentinelId = 'sentinel-a';
  const before = await store.getMaster(name);
  if (before === null) throw new Error(`no record for ${name}`);
  const claim = await store.claimEpoch(name, {
    mode: 'start',
    expectedEpoch: before.currentEpoch,
    sentinelId,
    leaseUntil: now + 10_000,
    now,
    progress: {
      oldMaster: { host: before.host, port: before.port },
      promoted: to,
      rejected: [],
      promotionSentAt: now,
      replicas: [],
      forced: before.failoverRequestedAt !== null,
      coordinated: false,
    },
  });
  if (!claim.won) throw new Error('epoch claim lost');
  const epoch = claim.record.currentEpoch;
  const advanced = await store.advanceFailover(name, {
    epoch,
    sentinelId,
    now,
    // The claim named the promoted replica, so it recorded the choice too (claimStartState).
    from: ['send_slaveof_noone'],
    to: 'reconf_slaves',
    progress: claim.record.failover,
    leaseUntil: now + 10_000,
    switchTo: to,
  });
  if (!advanced.ok) throw new Error('advance refused');
  await store.releaseLeadership(name, { epoch, sentinelId, now });
  return epoch;
}

/** Starts a failover and leaves it running (a FAILOVER now gets INPROG). */
export async function startFailover(store: SentinelStore, name: string): Promise<void> {
  const now = Date.now();
  const before = await store.getMaster(name);
  if (before === null) throw new Error(`no record for ${name}`);
  const claim = await store.claimEpoch(name, {
    mode: 'start',
    expectedEpoch: before.currentEpoch,
    sentinelId: 'sentinel-b',
    leaseUntil: now + 60_000,
    now,
    progress: {
      oldMaster: { host: before.host, port: before.port },
      promoted: null,
      rejected: [],
      promotionSentAt: null,
      replicas: [],
      forced: false,
      coordinated: false,
    },
  });
  if (!claim.won) throw new Error('epoch claim lost');
}

/**
 * A stand-in for the sentinels: waits for a SENTINEL FAILOVER request on `name`, then either promotes
 * `promote` or gives up with no good replica (each rejected replica with its reason).
 */
export async function answerFailoverRequest(
  store: SentinelStore,
  name: string,
  outcome:
    | { readonly promote: Address }
    | { readonly rejected: ReadonlyArray<{ host: string; port: number; reason: string }> },
): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const record = await store.getMaster(name);
    if (record?.failoverRequestedAt != null && record.failoverState === 'none') break;
    if (Date.now() > deadline) throw new Error('no failover request');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  if ('promote' in outcome) {
    await switchMaster(store, name, outcome.promote);
    return;
  }
  const now = Date.now();
  const record = await store.getMaster(name);
  if (record === null) throw new Error(`no record for ${name}`);
  const claim = await store.claimEpoch(name, {
    mode: 'start',
    expectedEpoch: record.currentEpoch,
    sentinelId: 'sentinel-a',
    leaseUntil: now + 10_000,
    now,
    progress: {
      oldMaster: { host: record.host, port: record.port },
      promoted: null,
      rejected: outcome.rejected,
      promotionSentAt: null,
      replicas: [],
      forced: true,
      coordinated: false,
    },
  });
  if (!claim.won) throw new Error('epoch claim lost');
  await store.releaseLeadership(name, { epoch: claim.record.currentEpoch, sentinelId: 'sentinel-a', now });
}

let seq = 1;
/** An event as a sentinel records it, with its own id. */
export function eventRecord(
  event: Partial<SentinelEvent> & Pick<SentinelEvent, 'type' | 'payload'>,
  sentinelId: SentinelId = 'sentinel-a',
  epoch: number | null = 0,
): EventRecord {
  return toEventRecord(
    { level: 'warning', master: 'mymaster', at: Date.now(), ...event },
    { sentinelId, seq: seq++, epoch },
  );
}
