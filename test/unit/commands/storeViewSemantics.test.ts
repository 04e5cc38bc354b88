/**
 * Sentinel's semantics in the store view (what the endpoint and the HTTP API answer): host names under
 * resolve-hostnames / announce-hostnames, a quorum above the number of sentinels, and run-time
 * credentials. The texts are a real redis-server --sentinel 7.0.15's.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../lib/adapters/memory/store.js';
import type { HostResolver } from '../../../lib/adapters/redis/resolveHost.js';
import { type RuntimeCredentialSink, storeSentinelView } from '../../../lib/commands/storeView.js';
import type { CredentialChange } from '../../../lib/core/settings.js';
import type { GlobalSettings, MasterRecord, SentinelConfig } from '../../../lib/core/types.js';
import { globalSettings, masterSettings } from '../../support/settings.js';

const INVALID_ADDRESS = 'Invalid IP address or hostname specified';

/** Resolves only the names the test gives, like a DNS that knows them; counts lookups. */
function fakeDns(names: Record<string, string>): HostResolver & { lookups: string[] } {
  const lookups: string[] = [];
  const resolve = async (host: string) => {
    lookups.push(host);
    return names[host] ?? null;
  };
  return Object.assign(resolve, { lookups });
}

function configWith(global: Partial<GlobalSettings>): SentinelConfig {
  return {
    global: globalSettings(global),
    masters: [masterSettings({ host: '10.0.0.1', port: 6379, quorum: 2 })],
  };
}

describe('SENTINEL MONITOR with host names', () => {
  it("refuses a host name with Sentinel's text unless resolve-hostnames is yes", async () => {
    const dns = fakeDns({ 'redis-a.internal': '10.0.0.7' });
    const view = storeSentinelView(new MemoryStore(), configWith({}), { resolveHost: dns });
    expect(await view.monitor('other', 'redis-a.internal', '6379', '2')).toEqual({
      ok: false,
      kind: 'invalid',
      error: INVALID_ADDRESS,
    });
    expect(dns.lookups).toEqual([]);
  });

  it('accepts a name that resolves and keeps it as given; refuses one that does not, as Sentinel does', async () => {
    const dns = fakeDns({ 'redis-a.internal': '10.0.0.7' });
    const store = new MemoryStore();
    const view = storeSentinelView(store, configWith({ resolveHostnames: true }), { resolveHost: dns });
    expect(await view.monitor('other', 'redis-a.internal', '6379', '2')).toEqual({ ok: true });
    expect((await store.getMaster('other'))?.host).toBe('redis-a.internal');
    expect(await view.monitor('third', 'nowhere.invalid', '6379', '2')).toEqual({
      ok: false,
      kind: 'invalid',
      error: INVALID_ADDRESS,
    });
    expect(await store.getMaster('third')).toBeNull();
  });

  it('answers the IP address of a host name unless announce-hostnames is yes', async () => {
    const dns = fakeDns({ 'redis-a.internal': '10.0.0.7' });
    const store = new MemoryStore();
    const hidden = storeSentinelView(store, configWith({ resolveHostnames: true }), { resolveHost: dns });
    await hidden.monitor('other', 'redis-a.internal', '6379', '2');
    expect(await hidden.masterAddress('other')).toEqual({ host: '10.0.0.7', port: 6379 });
    const ipOf = (fields: ReadonlyArray<readonly [string, string]> | null) =>
      fields?.find(([field]) => field === 'ip')?.[1];
    expect(ipOf(await hidden.master('other'))).toBe('10.0.0.7');
    // An IP address is never looked up.
    expect(await hidden.masterAddress('mymaster')).toEqual({ host: '10.0.0.1', port: 6379 });
    expect(dns.lookups.every((host) => host === 'redis-a.internal')).toBe(true);

    const announcing = storeSentinelView(
      store,
      configWith({ resolveHostnames: true, announceHostnames: true }),
      { resolveHost: dns },
    );
    expect(await announcing.masterAddress('other')).toEqual({ host: 'redis-a.internal', port: 6379 });
    expect(ipOf(await announcing.master('other'))).toBe('redis-a.internal');
  });
});

describe('a quorum above the number of sentinels', () => {
  it('is accepted by MONITOR and SET, and CKQUORUM answers NOQUORUM in Sentinel’s words', async () => {
    const store = new MemoryStore();
    const view = storeSentinelView(store, configWith({}));
    expect(await view.monitor('other', '10.0.0.8', '6379', '5')).toEqual({ ok: true });
    expect(await view.set('mymaster', [['quorum', '4']])).toEqual({ ok: true });
    // No sentinel loop runs here: only the one answering counts as usable.
    expect(await view.ckquorum('mymaster')).toEqual({
      ok: false,
      text:
        'NOQUORUM 1 usable Sentinels. Not enough available Sentinels to reach the specified quorum for ' +
        'this master. Not enough available Sentinels to reach the majority and authorize a failover',
    });
    const quorum = (await view.master('mymaster'))?.find(([field]) => field === 'quorum')?.[1];
    expect(quorum).toBe('4');
  });
});

describe('SENTINEL SET auth-pass / auth-user', () => {
  it('is refused where the credentials are not held (the deployment), saying how to rotate', async () => {
    const store = new MemoryStore();
    const view = storeSentinelView(store, configWith({}));
    const reply = await view.set('mymaster', [['auth-pass', 'n3w-secret']]);
    expect(reply).toMatchObject({ ok: false, kind: 'invalid' });
    const error = reply.ok ? '' : reply.error;
    expect(error).toMatch(
      /^auth-pass cannot be changed with SENTINEL SET in the deployment: put the new password/,
    );
    expect(error).toContain('SSM parameter');
    expect(error).not.toContain('n3w-secret');
    // Nothing was written.
    expect((await store.getMaster('mymaster'))?.settingsVersion).toBe(0);
  });

  it('goes to the credential sink, never to the table, and moves the settings version', async () => {
    const store = new MemoryStore();
    const applied: Array<{ record: MasterRecord; change: CredentialChange }> = [];
    const credentials: RuntimeCredentialSink = {
      accepts: () => true,
      apply: (record, change) => applied.push({ record, change }),
    };
    const view = storeSentinelView(store, configWith({}), { credentials });
    expect(
      await view.set('mymaster', [
        ['auth-user', 'sentinel'],
        ['auth-pass', 'n3w-secret'],
      ]),
    ).toEqual({ ok: true });
    expect(applied.map((a) => [a.record.name, a.change])).toEqual([
      ['mymaster', { authUser: 'sentinel', authPass: 'n3w-secret' }],
    ]);
    const record = await store.getMaster('mymaster');
    // The sentinels re-read the settings when the version moves; the values are not in the record.
    expect(record?.settingsVersion).toBe(1);
    expect(JSON.stringify(record)).not.toContain('n3w-secret');
    expect(JSON.stringify(record)).not.toContain('"sentinel"');
  });

  it("refuses script paths with Sentinel's deny-scripts-reconfig text", async () => {
    const view = storeSentinelView(new MemoryStore(), configWith({}));
    expect(await view.set('mymaster', [['notification-script', '/bin/true']])).toEqual({
      ok: false,
      kind: 'invalid',
      error:
        'Reconfiguration of scripts path is denied for security reasons. Check the deny-scripts-reconfig ' +
        'configuration directive in your Sentinel configuration',
    });
  });
});
