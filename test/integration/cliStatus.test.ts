/**
 * `lambda-sentinel status` against the real HTTP API (startHttpApi over the store view on a MemoryStore,
 * test/support/apiHarness.ts): the same summary as the status page, as text or JSON; `--watch` prints it
 * again until stopped; the exit codes of the other API commands.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.js';
import { runStatusCommand } from '../../lib/cli/statusCommand.js';
import type { StatusSummary } from '../../lib/commands/statusSummary.js';
import { type ApiHarness, eventRecord, startApiHarness, switchMaster } from '../support/apiHarness.js';

let api: ApiHarness;
beforeEach(async () => {
  api = await startApiHarness();
});
afterEach(async () => {
  await api.close();
});

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err };
}

async function failedOver(): Promise<void> {
  const t0 = Date.now() - 3_000;
  const m = 'master mymaster 127.0.0.1 7000';
  for (const [dt, type, payload] of [
    [0, '+sdown', m],
    [25, '+odown', `${m} #quorum 2/2`],
    [30, '+new-epoch', '1'],
    [80, '+elected-leader', m],
    [150, '+promoted-slave', 'slave 127.0.0.1:7001 127.0.0.1 7001 @ mymaster 127.0.0.1 7000'],
    [160, '+switch-master', 'mymaster 127.0.0.1 7000 127.0.0.1 7001'],
    [300, '+failover-end', m],
  ] as const)
    await api.eventLog.append(eventRecord({ at: t0 + dt, type, payload }));
  await api.store.upsertReplica({
    master: 'mymaster',
    host: '127.0.0.1',
    port: 7000,
    runId: null,
    lastSeenAt: Date.now(),
    seenBy: 'sentinel-a',
  });
  await switchMaster(api.store, 'mymaster', { host: '127.0.0.1', port: 7001 });
}

describe('lambda-sentinel status', () => {
  it('prints the masters, replicas, sentinels, failover timelines and events', async () => {
    await failedOver();
    const { io, out, err } = capture();
    expect(await main(['status', '--url', api.url], io)).toBe(0);
    expect(err).toEqual([]);
    const text = out.join('\n');
    expect(text).toMatch(/^lambda-sentinel status at \d\d:\d\d:\d\d\.\d{3} UTC$/m);
    expect(text).toContain(
      'mymaster at 127.0.0.1:7001  ok  config epoch 1, current epoch 1, leader sentinel-a',
    );
    // The old master, now a replica: not probed here, so its promotion is not known, and it says why.
    expect(text).toMatch(/^ {2}127\.0\.0\.1:7000 +replica \(recorded\) +unknown .* unknown +not known here/m);
    expect(text).toMatch(/^SENTINEL +LAST-HEARTBEAT +LEASE +TILT +VOTES +LEADS$/m);
    expect(text).toMatch(/^sentinel-a \(down\) +never +none +no +- +mymaster@1$/m);
    expect(text).toContain('mymaster epoch 1: 127.0.0.1:7000 -> 127.0.0.1:7001  complete, 300ms');
    expect(text).toContain(
      'kill/SDOWN +0ms > ODOWN +25ms > elected +80ms > promoted +150ms > switched +160ms > replicas re-linked +300ms',
    );
    expect(text).toMatch(/\[sentinel-a\] \+switch-master mymaster 127\.0\.0\.1 7000 127\.0\.0\.1 7001$/m);
  });

  it('--json prints the summary the page reads', async () => {
    await failedOver();
    const { io, out } = capture();
    expect(await main(['status', '--json', '--url', api.url], io)).toBe(0);
    const summary = JSON.parse(out.join('')) as StatusSummary;
    expect(summary.masters.map((m) => `${m.ip}:${m.port}`)).toEqual(['127.0.0.1:7001']);
    expect(summary.failovers.map((f) => f.epoch)).toEqual([1]);
  });

  it('--watch prints it again each refresh until stopped', async () => {
    const { io, out } = capture();
    const stop = new AbortController();
    const done = runStatusCommand(['--watch', '--url', api.url], io, {
      signal: stop.signal,
      clearScreen: false,
    });
    // Two summaries, a refresh (1 s) apart: then stop, as Ctrl-C does.
    for (let i = 0; i < 100 && out.filter((t) => t.startsWith('lambda-sentinel status at')).length < 2; i++)
      await new Promise((r) => setTimeout(r, 50));
    stop.abort();
    expect(await done).toBe(0);
    expect(out.filter((t) => t.startsWith('lambda-sentinel status at')).length).toBeGreaterThanOrEqual(2);
  });

  it('exits 1 when the API cannot be reached, 2 on a bad option', async () => {
    const unreachable = capture();
    expect(
      await main(['status', '--url', 'http://127.0.0.1:9', '--timeout-ms', '2000'], unreachable.io),
    ).toBe(1);
    expect(unreachable.err.join('\n')).toMatch(/^lambda-sentinel status: /);
    const bad = capture();
    expect(await main(['status', '--wach', '--url', api.url], bad.io)).toBe(2);
    expect(bad.err.join('\n')).toContain("Unknown option '--wach'");
    expect(bad.err.join('\n')).toContain('usage: lambda-sentinel status [--watch]');
  });
});
