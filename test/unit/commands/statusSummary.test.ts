/**
 * The status summary (lib/commands/statusSummary.ts): failover timelines from the event log, replica
 * promotion reasons from the failover's own selection rules, the masters' state from SENTINEL MASTER's
 * flags, and each sentinel's heartbeat, lease and votes.
 */
import { describe, expect, it } from 'vitest';
import type { MasterState } from '../../../lib/commands/instanceMaps.js';
import {
  failoverTimelines,
  type MasterInput,
  type StatusInput,
  summarizeStatus,
} from '../../../lib/commands/statusSummary.js';
import { INITIAL_MEMORY } from '../../../lib/core/decide.js';
import { type InstanceObservation, newObservation } from '../../../lib/core/observation.js';
import { newMasterRecord } from '../../../lib/core/records.js';
import { exclusionReason } from '../../../lib/core/selection.js';
import type { LoopLease, ReplicationInfo, Vote } from '../../../lib/core/types.js';
import { type EventRecord, toEventRecord } from '../../../lib/eventLog.js';
import { masterSettings } from '../../support/settings.js';

const MEMBERS = ['sentinel-a', 'sentinel-b', 'sentinel-c'] as const;
const NOW = 1_800_000_000_000;

let seq = 0;
function event(at: number, type: string, payload: string, sentinelId = 'sentinel-a', master = 'mymaster') {
  return toEventRecord({ type, level: 'warning', payload, master, at }, { sentinelId, seq: seq++, epoch: 0 });
}
const m = (name = 'mymaster') => `master ${name} 127.0.0.1 7000`;

describe('failoverTimelines', () => {
  it('times each step of a failover from its SDOWN, taking the first of each kind from any sentinel', () => {
    const events: EventRecord[] = [
      // An earlier blip that recovered is not where this outage started.
      event(500, '+sdown', m()),
      event(600, '-sdown', m()),
      event(1_000, '+sdown', m(), 'sentinel-b'),
      event(1_010, '+sdown', m()),
      event(1_040, '+odown', `${m()} #quorum 2/2`),
      event(1_050, '+new-epoch', '1'),
      event(1_055, '+new-epoch', '1', 'sentinel-b'),
      event(1_100, '+elected-leader', m()),
      event(1_120, '-failover-abort-not-elected', m(), 'sentinel-b'),
      event(1_300, '+promoted-slave', 'slave 127.0.0.1:7001 127.0.0.1 7001 @ mymaster 127.0.0.1 7000'),
      event(1_320, '+switch-master', 'mymaster 127.0.0.1 7000 127.0.0.1 7001'),
      event(1_330, '+switch-master', 'mymaster 127.0.0.1 7000 127.0.0.1 7001', 'sentinel-b'),
      event(1_400, '+slave-reconf-done', 'slave 127.0.0.1:7002 127.0.0.1 7002 @ mymaster 127.0.0.1 7000'),
      event(1_500, '+slave-reconf-done', 'slave 127.0.0.1:7003 127.0.0.1 7003 @ mymaster 127.0.0.1 7000'),
      event(1_550, '+failover-end', m()),
      // Another master's events never mix in.
      event(1_060, '+sdown', m('other'), 'sentinel-a', 'other'),
    ].sort((a, b) => a.at - b.at);
    const [timeline, ...rest] = failoverTimelines(events);
    expect(rest).toEqual([]);
    expect(timeline).toMatchObject({
      master: 'mymaster',
      epoch: 1,
      from: '127.0.0.1:7000',
      to: '127.0.0.1:7001',
      outcome: 'complete',
      startedAt: 1_000,
      totalMs: 500,
    });
    expect(timeline?.steps.map((s) => [s.step, s.ms])).toEqual([
      ['sdown', 0],
      ['odown', 40],
      ['elected', 100],
      ['promoted', 300],
      ['switched', 320],
      ['relinked', 500],
    ]);
  });

  it('keeps an outage across an aborted attempt, newest first, and skips epochs nobody won', () => {
    const events: EventRecord[] = [
      event(4_000, '+sdown', m()),
      event(4_050, '+odown', m()),
      event(5_000, '+new-epoch', '2'),
      event(5_010, '+elected-leader', m()),
      event(5_020, '-failover-abort-no-good-slave', m()),
      // An observer's bump of its known epoch, without a leader: no failover.
      event(7_000, '+new-epoch', '3', 'sentinel-c'),
      event(9_000, '+new-epoch', '4'),
      event(9_010, '+elected-leader', m()),
      event(9_100, '+promoted-slave', 'slave 127.0.0.1:7002 127.0.0.1 7002 @ mymaster 127.0.0.1 7000'),
      event(9_120, '+switch-master', 'mymaster 127.0.0.1 7000 127.0.0.1 7002'),
    ];
    const timelines = failoverTimelines(events);
    expect(timelines.map((t) => [t.epoch, t.outcome, t.startedAt])).toEqual([
      [4, 'switched', 4_000],
      [2, 'aborted', 4_000],
    ]);
    // Not re-linked yet: that step is not seen, and the total runs to the switch.
    expect(timelines[0]?.steps.find((s) => s.step === 'relinked')).toEqual({
      step: 'relinked',
      at: null,
      ms: null,
    });
    expect(timelines[0]?.totalMs).toBe(5_120);
  });

  it('starts a manual failover (no SDOWN) at its new epoch', () => {
    const [t] = failoverTimelines([
      event(100, '+new-epoch', '1'),
      event(110, '+elected-leader', m()),
      event(150, '+switch-master', 'mymaster 127.0.0.1 7000 127.0.0.1 7001'),
    ]);
    expect(t).toMatchObject({ epoch: 1, startedAt: 100, outcome: 'switched' });
    expect(t?.steps.map((s) => s.ms)).toEqual([null, null, 10, null, 50, null]);
  });
});

function info(overrides: Partial<ReplicationInfo>): ReplicationInfo {
  return {
    runId: 'b'.repeat(40),
    role: 'replica',
    loading: false,
    masterHost: '127.0.0.1',
    masterPort: 7000,
    masterLinkUp: true,
    masterLinkDownSinceMs: 0,
    replicaPriority: 100,
    replicaOffset: 900,
    replicaAnnounced: true,
    masterReplOffset: null,
    connectedReplicas: [],
    redisVersion: '7.0.15',
    ...overrides,
  };
}

function observed(port: number, replication: ReplicationInfo): InstanceObservation {
  return {
    ...newObservation({ host: '127.0.0.1', port }, port === 7000 ? 'master' : 'replica', NOW - 10_000),
    linkConnected: true,
    lastValidReplyAt: NOW - 100,
    info: replication,
    infoAt: NOW - 500,
    runId: replication.runId,
  };
}

const settings = masterSettings({ name: 'mymaster', host: '127.0.0.1', port: 7000, quorum: 2 });

function vote(sentinelId: string, down: boolean, ageMs: number): Vote {
  return {
    master: 'mymaster',
    sentinelId,
    down,
    observedAt: NOW - ageMs,
    configEpoch: 0,
    token: 1,
    invocationId: 'i',
  };
}

function state(votes: Vote[] = []): MasterState {
  return {
    settings,
    record: newMasterRecord({ name: 'mymaster', host: '127.0.0.1', port: 7000, now: NOW }, 'config'),
    address: { host: '127.0.0.1', port: 7000 },
    replicas: [7001, 7002, 7003].map((port) => ({
      master: 'mymaster',
      host: '127.0.0.1',
      port,
      runId: null,
      lastSeenAt: NOW - 1_000,
      seenBy: 'sentinel-a',
    })),
    votes,
    leases: [],
  };
}

function input(master: MasterInput, leases: LoopLease[] = []): StatusInput {
  return {
    now: NOW,
    refreshMs: 1_000,
    members: MEMBERS,
    observer: master.snapshot === null ? null : 'sentinel-a',
    heartbeatStaleMs: 15_000,
    leases,
    masters: [master],
    events: [],
  };
}

describe('summarizeStatus', () => {
  it('says why each replica would or would not be promoted, by the failover’s own rules', () => {
    const priorityZero = observed(7001, info({ replicaPriority: 0, replicaOffset: 1_000 }));
    const best = observed(7002, info({ replicaOffset: 950 }));
    const snapshot = {
      master: observed(
        7000,
        info({
          role: 'master',
          masterReplOffset: 1_000,
          connectedReplicas: [{ host: '127.0.0.1', port: 7002, state: 'online', offset: 950, lag: 1 }],
        }),
      ),
      // 7003 is known to the store but not probed yet by the observer.
      replicas: [priorityZero, best],
    };
    const summary = summarizeStatus(
      input({
        state: state(),
        address: { ip: '127.0.0.1', port: 7000, epoch: 0 },
        snapshot,
        memory: INITIAL_MEMORY,
      }),
    );
    const [r1, r2, r3] = summary.masters[0]?.replicas ?? [];
    const context = { settings, masterSdownSince: null, now: NOW };
    expect(r1).toMatchObject({
      port: 7001,
      eligible: false,
      chosen: false,
      why: exclusionReason({ observation: priorityZero, sdown: false }, context),
    });
    expect(r1?.why).toBe('replica-priority is 0');
    expect(r2).toMatchObject({
      port: 7002,
      role: 'replica',
      link: 'up',
      offset: 950,
      lagBytes: 50,
      lagSeconds: 1,
      eligible: true,
      chosen: true,
    });
    expect(r3).toMatchObject({ port: 7003, eligible: null, chosen: false, link: 'unknown' });
  });

  it('without probes here (the deployed API), says the promotion is not known rather than guess', () => {
    const summary = summarizeStatus(
      input({
        state: state(),
        address: { ip: '127.0.0.1', port: 7000, epoch: 0 },
        snapshot: null,
        memory: null,
      }),
    );
    for (const r of summary.masters[0]?.replicas ?? []) {
      expect(r).toMatchObject({ eligible: null, chosen: false, role: 'replica (recorded)' });
      expect(r.why).toMatch(/^not known here/);
    }
    expect(summary.observer).toBeNull();
  });

  it('shows ODOWN from fresh down-votes, and each sentinel’s heartbeat, lease and vote', () => {
    const lease = (sentinelId: string, heartbeatAgoMs: number): LoopLease => ({
      sentinelId,
      holder: 'inv-1',
      token: 3,
      leaseUntil: NOW + 60_000,
      heartbeatAt: NOW - heartbeatAgoMs,
      handoverRequestedBy: null,
      handoverFrom: 0,
      generation: null,
      tilt: false,
      summary: null,
    });
    const summary = summarizeStatus(
      input(
        {
          state: state([
            vote('sentinel-a', true, 100),
            vote('sentinel-b', true, 200),
            // Too old to count.
            vote('sentinel-c', true, 60_000),
          ]),
          address: { ip: '127.0.0.1', port: 7000, epoch: 0 },
          snapshot: null,
          memory: null,
        },
        [lease('sentinel-a', 1_000), lease('sentinel-b', 40_000)],
      ),
    );
    expect(summary.masters[0]).toMatchObject({ state: 'odown', downVotes: 2, quorum: 2 });
    expect(summary.masters[0]?.flags).toContain('o_down');
    const [a, b, c] = summary.sentinels;
    expect(a).toMatchObject({
      id: 'sentinel-a',
      lastHeartbeatAgoMs: 1_000,
      stale: false,
      lease: { held: true, token: 3, leftMs: 60_000 },
    });
    expect(a?.votes).toEqual([{ master: 'mymaster', down: true, observedAgoMs: 100, ignored: null }]);
    expect(b?.stale).toBe(true);
    expect(c).toMatchObject({ lease: null, stale: true, lastHeartbeatAt: null });
    expect(c?.votes[0]?.ignored).toBe('stale (60000ms old)');
  });
});
