/**
 * What the HTTP API tests share: a view over a MemoryStore and a MemoryEventLog, a way to move a master's
 * epoch the way a failover does (through the store's fenced writes), and a recording fake SentinelView
 * whose write replies a test chooses.
 */
import { MemoryEventLog } from '../../../lib/adapters/memory/eventLog.js';
import { MemoryStore } from '../../../lib/adapters/memory/store.js';
import { storeSentinelView } from '../../../lib/commands/storeView.js';
import type { CommandReply, FailoverReply, SentinelView } from '../../../lib/commands/view.js';
import type { SentinelConfig, SentinelEvent } from '../../../lib/core/types.js';
import { type EventRecord, toEventRecord } from '../../../lib/eventLog.js';
import type { ApiRequest, ApiResponse, RouterOptions } from '../../../lib/http/router.js';
import { handleApiRequest } from '../../../lib/http/router.js';
import { globalSettings, masterSettings } from '../../support/settings.js';

export const MASTER = { name: 'mymaster', host: '127.0.0.1', port: 7000 } as const;

export const config: SentinelConfig = {
  global: globalSettings({ sentinelIds: ['sentinel-a', 'sentinel-b', 'sentinel-c'] }),
  masters: [masterSettings({ name: MASTER.name, host: MASTER.host, port: MASTER.port })],
};

export interface StoreFixture {
  readonly store: MemoryStore;
  readonly eventLog: MemoryEventLog;
  readonly view: SentinelView;
}

/** The real view over memory adapters, with the master's record in the store. */
export async function storeFixture(
  options: { failoverWaitMs?: number; addressPollMs?: number } = {},
): Promise<StoreFixture> {
  const store = new MemoryStore();
  const eventLog = new MemoryEventLog();
  await store.ensureMaster({ ...MASTER, now: Date.now() });
  const view = storeSentinelView(store, config, {
    eventLog,
    failoverWaitMs: options.failoverWaitMs ?? 50,
    addressPollMs: options.addressPollMs ?? 10,
  });
  return { store, eventLog, view };
}

/** A failover's effect on the record, through the store's fenced writes (test/support/apiHarness.ts). */
export { switchMaster } from '../../support/apiHarness.js';

let seq = 0;
export function eventRecord(
  event: Partial<SentinelEvent> & { at: number },
  sentinelId = 'sentinel-a',
): EventRecord {
  return toEventRecord(
    {
      type: '+sdown',
      level: 'warning',
      payload: `master ${MASTER.name} 127.0.0.1 7000`,
      master: MASTER.name,
      ...event,
    },
    { sentinelId, seq: seq++, epoch: 0 },
  );
}

export type ViewCall = { readonly method: string; readonly args: readonly unknown[] };

export interface RecordingView extends SentinelView {
  readonly calls: ViewCall[];
  /** The calls to methods that change something. */
  writes(): ViewCall[];
  commandReply: CommandReply;
  failoverReply: FailoverReply;
  resetReply: number;
}

const WRITE_METHODS = new Set(['monitor', 'remove', 'set', 'reset', 'failover']);

/** A fake view: records every call, answers writes with what the test set, reads with fixed maps. */
export function recordingView(): RecordingView {
  const calls: ViewCall[] = [];
  const known = (name: string) => name === MASTER.name;
  const fields = (name: string) =>
    [
      ['name', name],
      ['ip', MASTER.host],
      ['port', String(MASTER.port)],
    ] as const;
  const view: RecordingView = {
    calls,
    writes: () => calls.filter((c) => WRITE_METHODS.has(c.method)),
    commandReply: { ok: true },
    failoverReply: 'OK',
    resetReply: 0,
    myId: () => 'f'.repeat(40),
    async masterNames() {
      calls.push({ method: 'masterNames', args: [] });
      return [MASTER.name];
    },
    async masterAddress(name) {
      calls.push({ method: 'masterAddress', args: [name] });
      return known(name) ? { host: MASTER.host, port: MASTER.port } : null;
    },
    async master(name) {
      calls.push({ method: 'master', args: [name] });
      return known(name) ? fields(name) : null;
    },
    async masters() {
      calls.push({ method: 'masters', args: [] });
      return [fields(MASTER.name)];
    },
    async replicas(name) {
      calls.push({ method: 'replicas', args: [name] });
      return known(name) ? [] : null;
    },
    async sentinels(name, endpoint) {
      calls.push({ method: 'sentinels', args: [name, endpoint] });
      return known(name) ? [] : null;
    },
    async ckquorum(name) {
      calls.push({ method: 'ckquorum', args: [name] });
      return known(name) ? { ok: true, text: 'OK 3 usable Sentinels.' } : null;
    },
    async failover(name, options) {
      calls.push({ method: 'failover', args: [name, options] });
      return view.failoverReply;
    },
    async addressOf(name) {
      calls.push({ method: 'addressOf', args: [name] });
      return known(name) ? { ip: MASTER.host, port: MASTER.port, epoch: 0 } : null;
    },
    async waitForAddress(name, afterEpoch, waitMs) {
      calls.push({ method: 'waitForAddress', args: [name, afterEpoch, waitMs] });
      return known(name) ? { ip: MASTER.host, port: MASTER.port, epoch: 0 } : null;
    },
    async monitor(name, ip, port, quorum) {
      calls.push({ method: 'monitor', args: [name, ip, port, quorum] });
      return view.commandReply;
    },
    async remove(name) {
      calls.push({ method: 'remove', args: [name] });
      return view.commandReply;
    },
    async set(name, args) {
      calls.push({ method: 'set', args: [name, args] });
      return view.commandReply;
    },
    async reset(pattern) {
      calls.push({ method: 'reset', args: [pattern] });
      return view.resetReply;
    },
    async events(query) {
      calls.push({ method: 'events', args: [query] });
      return [];
    },
  };
  return view;
}

export interface Parsed {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly json: Record<string, unknown>;
  readonly response: ApiResponse;
}

/** Calls the router and parses the body (which must always be JSON). */
export async function call(
  options: RouterOptions,
  request: Partial<ApiRequest> & { method: string; path: string },
): Promise<Parsed> {
  const response = await handleApiRequest({ iamAuthenticated: false, ...request }, options);
  return {
    status: response.status,
    headers: response.headers,
    json: JSON.parse(response.body) as Record<string, unknown>,
    response,
  };
}
