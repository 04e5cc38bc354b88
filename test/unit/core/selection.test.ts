import { describe, expect, it } from 'vitest';
import { applyInfoOutcome, applyPingOutcome, newObservation } from '../../../lib/core/observation.js';
import { type ReplicaCandidate, selectReplica } from '../../../lib/core/selection.js';
import type { ReplicationInfo } from '../../../lib/core/types.js';
import { masterSettings } from '../../support/settings.js';

const settings = masterSettings({ downAfterMs: 1000, probePeriodMs: 1000, infoPeriodMs: 10_000 });
const NOW = 100_000;

function replicaInfo(overrides: Partial<ReplicationInfo> = {}): ReplicationInfo {
  return {
    runId: 'a'.repeat(40),
    role: 'replica',
    loading: false,
    masterHost: '10.0.0.1',
    masterPort: 6379,
    masterLinkUp: false,
    masterLinkDownSinceMs: 500,
    replicaPriority: 100,
    replicaOffset: 1000,
    replicaAnnounced: true,
    masterReplOffset: 1000,
    connectedReplicas: [],
    redisVersion: '7.0.15',
    ...overrides,
  };
}

function candidate(
  port: number,
  info: Partial<ReplicationInfo> = {},
  opts: { sdown?: boolean; infoAt?: number; pongAt?: number } = {},
): ReplicaCandidate {
  let obs = newObservation({ host: '10.0.0.2', port }, 'replica', 0);
  obs = applyPingOutcome(obs, {
    sentAt: opts.pongAt ?? NOW - 10,
    completedAt: opts.pongAt ?? NOW - 10,
    result: { type: 'reply', kind: 'pong', text: 'PONG' },
  });
  const at = opts.infoAt ?? NOW - 100;
  obs = applyInfoOutcome(
    obs,
    { sentAt: at, completedAt: at, result: { type: 'info', info: replicaInfo(info) } },
    0,
  ).observation;
  return { observation: obs, sdown: opts.sdown ?? false };
}

const context = { settings, masterSdownSince: NOW - 200, now: NOW };

describe('Function: selectReplica', () => {
  it('prefers the lower priority, then the higher offset, then the smaller run id', () => {
    const byPriority = selectReplica(
      [candidate(1, { replicaPriority: 100, replicaOffset: 9999 }), candidate(2, { replicaPriority: 10 })],
      context,
    );
    expect(byPriority.chosen?.address.port).toBe(2);
    const byOffset = selectReplica(
      [candidate(1, { replicaOffset: 10 }), candidate(2, { replicaOffset: 20 })],
      context,
    );
    expect(byOffset.chosen?.address.port).toBe(2);
    const byRunId = selectReplica(
      [
        candidate(1, { runId: 'C'.repeat(40) }),
        candidate(2, { runId: 'b'.repeat(40) }),
        candidate(3, { runId: null }),
      ],
      context,
    );
    expect(byRunId.ranked.map((r) => r.address.port)).toEqual([2, 1, 3]);
  });

  it('never promotes a replica with priority 0, and says why', () => {
    const s = selectReplica(
      [candidate(1, { replicaPriority: 0, replicaOffset: 99_999 }), candidate(2)],
      context,
    );
    expect(s.chosen?.address.port).toBe(2);
    expect(s.rejected).toContainEqual({ host: '10.0.0.2', port: 1, reason: 'replica-priority is 0' });
  });

  it('never promotes a node that reports role master (an old master back, not converted yet)', () => {
    const result = selectReplica(
      [candidate(7001, { role: 'master', replicaOffset: null }), candidate(7002, { replicaOffset: 0 })],
      context,
    );
    expect(result.chosen?.address.port).toBe(7002);
    expect(result.rejected).toContainEqual({
      host: '10.0.0.2',
      port: 7001,
      reason: 'reports role master: not a replica of the failed master',
    });
    expect(
      selectReplica([candidate(7001, { role: 'master', replicaOffset: null })], context).chosen,
    ).toBeNull();
  });

  it('excludes SDOWN, disconnected, silent, stale-INFO and too-long-unlinked replicas, each with its reason', () => {
    let disconnected = candidate(2);
    disconnected = {
      ...disconnected,
      observation: applyPingOutcome(disconnected.observation, {
        sentAt: NOW - 5,
        completedAt: NOW - 5,
        result: { type: 'unreachable', reason: 'ECONNREFUSED' },
      }),
    };
    const s = selectReplica(
      [
        candidate(1, {}, { sdown: true }),
        disconnected,
        candidate(3, {}, { pongAt: NOW - 5 * settings.probePeriodMs - 1 }),
        candidate(4, {}, { infoAt: NOW - 5 * settings.probePeriodMs - 1 }),
        candidate(5, { masterLinkDownSinceMs: 200 + 10 * settings.downAfterMs + 1 }),
      ],
      context,
    );
    expect(s.chosen).toBeNull();
    const reasons = Object.fromEntries(s.rejected.map((r) => [r.port, r.reason]));
    expect(reasons[1]).toBe('sdown');
    expect(reasons[2]).toBe('disconnected');
    expect(reasons[3]).toMatch(/^no valid PING reply for \d+ms$/);
    expect(reasons[4]).toMatch(/^INFO is \d+ms old \(limit 5000ms\)$/);
    expect(reasons[5]).toMatch(/^link to the master down for \d+ms \(limit 10200ms\)$/);
  });

  it('allows INFO up to 3 INFO periods old while the master is not SDOWN (manual failover)', () => {
    const s = selectReplica([candidate(1, {}, { infoAt: NOW - 20_000 })], {
      ...context,
      masterSdownSince: null,
    });
    expect(s.chosen?.address.port).toBe(1);
  });

  it('gives every eligible replica that was not chosen a reason too', () => {
    const s = selectReplica(
      [candidate(1, { replicaOffset: 5 }), candidate(2, { replicaOffset: 50 })],
      context,
    );
    expect(s.rejected).toEqual([
      { host: '10.0.0.2', port: 1, reason: expect.stringMatching(/^ranked below 10\.0\.0\.2:2/) },
    ]);
  });
});
