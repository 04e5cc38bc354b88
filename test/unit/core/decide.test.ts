import { describe, expect, it } from 'vitest';
import {
  applyClaimOutcome,
  applyVoteWritten,
  type ClaimAction,
  decideMaster,
  INITIAL_MEMORY,
  type MasterAction,
  type MasterMemory,
  type MasterTickInput,
  type StoreView,
} from '../../../lib/core/decide.js';
import { applyPingOutcome, type InstanceObservation, newObservation } from '../../../lib/core/observation.js';
import { runIdOf } from '../../../lib/core/runId.js';
import type { MasterRecord, Vote } from '../../../lib/core/types.js';
import { masterSettings } from '../../support/settings.js';

const members = ['sentinel-a', 'sentinel-b', 'sentinel-c'] as const;
const address = { host: '127.0.0.1', port: 6379 };
const settings = masterSettings({ downAfterMs: 1000, quorum: 2 });

/** A master that answered at `lastPong` and has refused every PING since (the first 1 ms later, then every 100 ms). */
function deadSince(lastPong: number, now: number): InstanceObservation {
  let obs = newObservation(address, 'master', 0);
  obs = applyPingOutcome(obs, {
    sentAt: lastPong,
    completedAt: lastPong,
    result: { type: 'reply', kind: 'pong', text: 'PONG' },
  });
  for (let t = lastPong + 1; t <= now; t += 100) {
    obs = applyPingOutcome(obs, {
      sentAt: t,
      completedAt: t,
      result: { type: 'unreachable', reason: 'ECONNREFUSED' },
    });
  }
  return obs;
}

function healthy(now: number): InstanceObservation {
  return applyPingOutcome(newObservation(address, 'master', 0), {
    sentAt: now - 1,
    completedAt: now,
    result: { type: 'reply', kind: 'pong', text: 'PONG' },
  });
}

function record(overrides: Partial<MasterRecord> = {}): MasterRecord {
  return {
    name: 'mymaster',
    host: address.host,
    port: address.port,
    currentEpoch: 0,
    configEpoch: 0,
    leader: null,
    leaderLeaseUntil: 0,
    failoverState: 'none',
    failoverStartedAt: null,
    failover: null,
    retryNotBefore: 0,
    failoverRequestedAt: null,
    failoverRequestCoordinated: false,
    monitored: true,
    settings: {},
    settingsVersion: 0,
    resetAt: null,
    origin: { source: 'config', host: address.host, port: address.port },
    updatedAt: 0,
    ...overrides,
  };
}

function downVote(sentinelId: string, observedAt: number): Vote {
  return {
    master: 'mymaster',
    sentinelId,
    down: true,
    observedAt,
    configEpoch: 0,
    token: 1,
    invocationId: `${sentinelId}-inv`,
  };
}

function input(overrides: Partial<MasterTickInput> & { now: number }): MasterTickInput {
  const store: StoreView = { status: 'ok', record: record(), votes: [], readAt: overrides.now };
  return {
    self: 'sentinel-a',
    members,
    settings,
    master: healthy(overrides.now),
    replicas: [],
    tilt: false,
    store,
    memory: INITIAL_MEMORY,
    ...overrides,
  };
}

const types = (actions: readonly MasterAction[]) => actions.map((a) => a.type);
const eventTypes = (d: { events: readonly { type: string }[] }) => d.events.map((e) => e.type);

describe('Function: decideMaster', () => {
  it('writes an up-vote once at start and nothing else while the master answers', () => {
    const first = decideMaster(input({ now: 5000 }));
    expect(first.actions).toEqual([{ type: 'write-vote', down: false, observedAt: 5000, configEpoch: 0 }]);
    expect(first.status).toBe('ok');
    const memory = applyVoteWritten(
      first.memory,
      first.actions[0] as Extract<MasterAction, { type: 'write-vote' }>,
      5000,
    );
    const later = decideMaster(input({ now: 9000, memory }));
    expect(later.actions).toEqual([]);
    expect(later.events).toEqual([]);
  });

  it('reaches SDOWN after down-after, votes down, but does not reach ODOWN alone with quorum 2', () => {
    const d = decideMaster(input({ now: 1102, master: deadSince(100, 1102) }));
    expect(eventTypes(d)).toEqual(['+sdown']);
    expect(d.events[0]?.payload).toBe('master mymaster 127.0.0.1 6379');
    expect(d.actions).toContainEqual({ type: 'write-vote', down: true, observedAt: 1102, configEpoch: 0 });
    expect(d.status).toBe('sdown');
    expect(types(d.actions)).not.toContain('claim-epoch');
  });

  it('reaches ODOWN with a fresh peer vote and claims the next epoch when a majority agrees', () => {
    const now = 1200;
    const store: StoreView = {
      status: 'ok',
      record: record({ currentEpoch: 4 }),
      votes: [downVote('sentinel-b', 1150)],
      readAt: now,
    };
    const d = decideMaster(input({ now, master: deadSince(100, now), store }));
    expect(eventTypes(d)).toEqual(['+sdown', '+odown', '+new-epoch', '+try-failover']);
    expect(d.events[1]?.payload).toBe('master mymaster 127.0.0.1 6379 #quorum 2/2');
    expect(d.events[2]?.payload).toBe('5');
    expect(d.actions).toContainEqual({
      type: 'claim-epoch',
      mode: 'start',
      expectedEpoch: 4,
      leaseUntil: now + settings.leaderLeaseMs,
      progress: {
        oldMaster: address,
        promoted: null,
        rejected: [],
        promotionSentAt: null,
        replicas: [],
        forced: false,
        coordinated: false,
      },
    });
  });

  it('does not count a peer vote older than vote-max-age', () => {
    const now = 10_000;
    const store: StoreView = {
      status: 'ok',
      record: record(),
      votes: [downVote('sentinel-b', now - settings.voteMaxAgeMs - 1)],
      readAt: now,
    };
    const d = decideMaster(input({ now, master: deadSince(100, now), store }));
    expect(d.status).toBe('sdown');
    expect(types(d.actions)).not.toContain('claim-epoch');
  });

  it('does not count votes from sentinels outside the configured membership', () => {
    const now = 1200;
    const store: StoreView = {
      status: 'ok',
      record: record(),
      votes: [downVote('intruder', now)],
      readAt: now,
    };
    const d = decideMaster(input({ now, master: deadSince(100, now), store }));
    expect(d.status).toBe('sdown');
  });

  it('reaches ODOWN with quorum 1 but does not claim without a majority of the sentinels', () => {
    const now = 1200;
    const d = decideMaster(
      input({ now, master: deadSince(100, now), settings: masterSettings({ quorum: 1 }) }),
    );
    expect(d.status).toBe('odown');
    expect(eventTypes(d)).toContain('+odown');
    expect(types(d.actions)).not.toContain('claim-epoch');
    const withPeer = decideMaster(
      input({
        now,
        master: deadSince(100, now),
        settings: masterSettings({ quorum: 1 }),
        store: { status: 'ok', record: record(), votes: [downVote('sentinel-c', now)], readAt: now },
      }),
    );
    expect(types(withPeer.actions)).toContain('claim-epoch');
  });

  it('needs the quorum when it is larger than the majority', () => {
    const now = 1200;
    const threeOfThree = masterSettings({ quorum: 3 });
    const two = decideMaster(
      input({
        now,
        master: deadSince(100, now),
        settings: threeOfThree,
        store: { status: 'ok', record: record(), votes: [downVote('sentinel-b', now)], readAt: now },
      }),
    );
    expect(two.status).toBe('sdown');
    expect(types(two.actions)).not.toContain('claim-epoch');
  });

  it('with a quorum above the number of sentinels: SDOWN, never ODOWN, no claim; SENTINEL FAILOVER still claims', () => {
    // Sentinel accepts such a quorum (operators use it to hold failovers during maintenance).
    const now = 1200;
    const aboveMembers = masterSettings({ downAfterMs: 1000, quorum: 4 });
    const allDown = [downVote('sentinel-b', now), downVote('sentinel-c', now)];
    const d = decideMaster(
      input({
        now,
        master: deadSince(100, now),
        settings: aboveMembers,
        store: { status: 'ok', record: record(), votes: allDown, readAt: now },
      }),
    );
    expect(d.status).toBe('sdown');
    expect(eventTypes(d)).toEqual(['+sdown']);
    expect(types(d.actions)).not.toContain('claim-epoch');
    expect(d.memory.odownSince).toBeNull();
    const requested = decideMaster(
      input({
        now,
        master: deadSince(100, now),
        settings: aboveMembers,
        store: {
          status: 'ok',
          record: record({ failoverRequestedAt: now - 10 }),
          votes: allDown,
          readAt: now,
        },
      }),
    );
    expect(requested.actions.find((a) => a.type === 'claim-epoch')).toMatchObject({
      mode: 'start',
      progress: { forced: true },
    });
  });

  it('never votes down, reaches ODOWN or claims in TILT, and withdraws a down-vote it had written', () => {
    const now = 1200;
    const memory: MasterMemory = {
      ...INITIAL_MEMORY,
      voteWritten: { down: true, observedAt: 1100, writtenAt: 1100 },
    };
    const store: StoreView = {
      status: 'ok',
      record: record(),
      votes: [downVote('sentinel-b', now)],
      readAt: now,
    };
    const d = decideMaster(input({ now, master: deadSince(100, now), store, tilt: true, memory }));
    expect(d.actions).toEqual([{ type: 'write-vote', down: false, observedAt: now, configEpoch: 0 }]);
    expect(eventTypes(d)).toEqual([]);
    expect(d.status).toBe('unknown');
  });

  it('never votes down on a stale observation (the loop stalled since the last probe)', () => {
    const obs = deadSince(100, 1200);
    const now = 1200 + 2 * settings.probePeriodMs + settings.probeTimeoutMs + 1;
    const store: StoreView = {
      status: 'ok',
      record: record(),
      votes: [downVote('sentinel-b', now)],
      readAt: now,
    };
    const d = decideMaster(input({ now, master: obs, store }));
    expect(d.actions).toEqual([{ type: 'write-vote', down: false, observedAt: now, configEpoch: 0 }]);
    expect(types(d.actions)).not.toContain('claim-epoch');
  });

  it('does not claim when the store is unavailable, and says so', () => {
    const now = 1200;
    const d = decideMaster(
      input({
        now,
        master: deadSince(100, now),
        store: { status: 'unavailable', reason: 'connect ECONNREFUSED' },
      }),
    );
    expect(types(d.actions)).toEqual(['write-vote']);
    expect(d.summary).toContain('store unavailable (connect ECONNREFUSED)');
  });

  it('does not claim while another sentinel leads the current epoch with a live lease', () => {
    const now = 1200;
    const store: StoreView = {
      status: 'ok',
      record: record({
        currentEpoch: 5,
        leader: 'sentinel-b',
        failoverState: 'select_slave',
        leaderLeaseUntil: now + 1,
      }),
      votes: [downVote('sentinel-b', now)],
      readAt: now,
    };
    const memory: MasterMemory = { ...INITIAL_MEMORY, knownEpoch: 4 };
    const d = decideMaster(input({ now, master: deadSince(100, now), store, memory }));
    expect(types(d.actions)).not.toContain('claim-epoch');
    expect(eventTypes(d)).toEqual(['+sdown', '+odown', '+new-epoch', '+vote-for-leader']);
    // Sentinel names the leader by its 40-hex run id (the one SENTINEL SENTINELS lists), not by its name.
    const vote = d.events.find((e) => e.type === '+vote-for-leader')?.payload;
    expect(vote).toMatch(/^[0-9a-f]{40} 5$/);
    expect(vote).toBe(`${runIdOf('sentinel-b')} 5`);
  });

  it('does not claim at the last millisecond of the leader’s lease, which the store’s condition still honours', () => {
    const now = 20_000;
    const lease = (leaderLeaseUntil: number): StoreView => ({
      status: 'ok',
      record: record({
        currentEpoch: 5,
        leader: 'sentinel-b',
        failoverState: 'select_slave',
        leaderLeaseUntil,
      }),
      votes: [downVote('sentinel-c', now)],
      readAt: now,
    });
    const at = decideMaster(input({ now, master: deadSince(100, now), store: lease(now) }));
    expect(types(at.actions)).not.toContain('claim-epoch');
    const after = decideMaster(input({ now, master: deadSince(100, now), store: lease(now - 1) }));
    expect(types(after.actions)).toContain('claim-epoch');
  });

  it('adopts the recorded epoch and leader silently on its first read', () => {
    const now = 1200;
    const store: StoreView = {
      status: 'ok',
      record: record({ currentEpoch: 7, leader: 'sentinel-b' }),
      votes: [],
      readAt: now,
    };
    const d = decideMaster(input({ now, store }));
    expect(d.events).toEqual([]);
    expect(d.memory.knownEpoch).toBe(7);
  });

  it('claims the next epoch once the leader of the current one lets its lease expire', () => {
    const now = 20_000;
    const store: StoreView = {
      status: 'ok',
      record: record({
        currentEpoch: 5,
        leader: 'sentinel-b',
        failoverState: 'select_slave',
        leaderLeaseUntil: now - 1,
      }),
      votes: [downVote('sentinel-c', now)],
      readAt: now,
    };
    const d = decideMaster(input({ now, master: deadSince(100, now), store }));
    expect(d.actions).toContainEqual({
      type: 'claim-epoch',
      mode: 'resume',
      expectedEpoch: 5,
      leaseUntil: now + settings.leaderLeaseMs,
    });
    expect(d.summary).toContain('taking over the failover of epoch 5 from sentinel-b');
  });

  it('never claims twice from the same epoch', () => {
    const now = 1200;
    const store: StoreView = {
      status: 'ok',
      record: record({ currentEpoch: 4 }),
      votes: [downVote('sentinel-b', now)],
      readAt: now,
    };
    const first = decideMaster(input({ now, master: deadSince(100, now), store }));
    expect(types(first.actions)).toContain('claim-epoch');
    const again = decideMaster(
      input({
        now: now + 100,
        master: deadSince(100, now + 100),
        store: { ...store, readAt: now + 100 },
        memory: first.memory,
      }),
    );
    expect(types(again.actions)).not.toContain('claim-epoch');
  });

  it('does not claim on a store view older than a probe period', () => {
    const now = 5000;
    const store: StoreView = {
      status: 'ok',
      record: record(),
      votes: [downVote('sentinel-b', now)],
      readAt: now - settings.probePeriodMs - 1,
    };
    const d = decideMaster(input({ now, master: deadSince(3000, now), store }));
    expect(types(d.actions)).not.toContain('claim-epoch');
  });

  it('emits +elected-leader on a won claim and -failover-abort-not-elected on a lost one', () => {
    const master = { name: 'mymaster', address };
    const start: ClaimAction = {
      type: 'claim-epoch',
      mode: 'start',
      expectedEpoch: 0,
      leaseUntil: 9000,
      progress: {
        oldMaster: address,
        promoted: null,
        rejected: [],
        promotionSentAt: null,
        replicas: [],
        forced: false,
        coordinated: false,
      },
    };
    const won = applyClaimOutcome(
      INITIAL_MEMORY,
      start,
      {
        won: true,
        record: record({
          currentEpoch: 1,
          leader: 'sentinel-a',
          leaderLeaseUntil: 9000,
          failoverState: 'select_slave',
        }),
      },
      master,
      1000,
    );
    expect(eventTypes(won)).toEqual(['+elected-leader', '+failover-state-select-slave']);
    expect(won.memory.leading).toEqual({ epoch: 1, leaseUntil: 9000 });
    const lost = applyClaimOutcome(
      INITIAL_MEMORY,
      start,
      { won: false, record: record({ currentEpoch: 1, leader: 'sentinel-b' }) },
      master,
      1000,
    );
    expect(eventTypes(lost)).toEqual(['-failover-abort-not-elected']);
    expect(lost.memory.leading).toBeNull();
  });

  it('runs the failover it leads, and none it does not lead', () => {
    const now = 3000;
    const rec = record({
      currentEpoch: 1,
      leader: 'sentinel-a',
      failoverState: 'send_slaveof_noone',
      leaderLeaseUntil: now + 1,
    });
    const mine = decideMaster(
      input({
        now,
        master: deadSince(100, now),
        store: { status: 'ok', record: rec, votes: [], readAt: now },
      }),
    );
    expect(mine.actions).toContainEqual({ type: 'run-failover', epoch: 1 });
    const theirs = decideMaster(
      input({
        now,
        master: deadSince(100, now),
        store: { status: 'ok', record: { ...rec, leader: 'sentinel-b' }, votes: [], readAt: now },
      }),
    );
    expect(types(theirs.actions)).not.toContain('run-failover');
    expect(types(theirs.actions)).not.toContain('claim-epoch');
  });

  it('starts a forced failover on a SENTINEL FAILOVER request, with no ODOWN and despite a retry delay', () => {
    const now = 5000;
    const store: StoreView = {
      status: 'ok',
      record: record({ currentEpoch: 2, failoverRequestedAt: now - 10, retryNotBefore: now + 60_000 }),
      votes: [],
      readAt: now,
    };
    const d = decideMaster(input({ now, store }));
    expect(d.status).toBe('ok');
    const claim = d.actions.find((a) => a.type === 'claim-epoch');
    expect(claim).toMatchObject({ mode: 'start', expectedEpoch: 2, progress: { forced: true } });
    expect(decideMaster(input({ now, store, tilt: true })).actions.map((a) => a.type)).not.toContain(
      'claim-epoch',
    );
  });

  it('does not start a new failover before the retry delay recorded by an abort', () => {
    const now = 1200;
    const store: StoreView = {
      status: 'ok',
      record: record({ retryNotBefore: now + 1 }),
      votes: [downVote('sentinel-b', now)],
      readAt: now,
    };
    const d = decideMaster(input({ now, master: deadSince(100, now), store }));
    expect(d.status).toBe('odown');
    expect(types(d.actions)).not.toContain('claim-epoch');
  });

  it("announces +switch-master when another sentinel's failover switches the recorded master", () => {
    const now = 5000;
    const memory: MasterMemory = {
      ...INITIAL_MEMORY,
      knownEpoch: 1,
      knownConfig: { epoch: 0, host: address.host, port: address.port },
    };
    const switched = record({
      currentEpoch: 1,
      configEpoch: 1,
      host: '127.0.0.1',
      port: 6380,
      leader: 'sentinel-b',
      failoverState: 'reconf_slaves',
      leaderLeaseUntil: now + 1000,
    });
    const d = decideMaster(
      input({ now, memory, store: { status: 'ok', record: switched, votes: [], readAt: now } }),
    );
    const event = d.events.find((e) => e.type === '+switch-master');
    expect(event?.payload).toBe('mymaster 127.0.0.1 6379 127.0.0.1 6380');
    const leader = decideMaster(
      input({
        now,
        memory,
        self: 'sentinel-b',
        store: { status: 'ok', record: switched, votes: [], readAt: now },
      }),
    );
    expect(eventTypes(leader)).not.toContain('+switch-master');
  });

  it('forgets its leadership when the record shows another leader or a later epoch', () => {
    const now = 3000;
    const memory: MasterMemory = {
      ...INITIAL_MEMORY,
      knownEpoch: 1,
      leading: { epoch: 1, leaseUntil: now + 4000 },
    };
    const d = decideMaster(
      input({
        now,
        master: deadSince(100, now),
        memory,
        store: {
          status: 'ok',
          record: record({
            currentEpoch: 2,
            leader: 'sentinel-c',
            failoverState: 'select_slave',
            leaderLeaseUntil: now + 4000,
          }),
          votes: [],
          readAt: now,
        },
      }),
    );
    expect(d.memory.leading).toBeNull();
    expect(types(d.actions)).not.toContain('run-failover');
    expect(d.summary).toContain('lost leadership of epoch 1');
  });

  it('asks to be woken exactly when down-after would expire', () => {
    const obs = deadSince(100, 600);
    const d = decideMaster(input({ now: 600, master: obs }));
    expect(d.wakeAt).toBe(101 + settings.downAfterMs + 1);
  });

  it('emits -odown and -sdown when the master answers again', () => {
    const memory: MasterMemory = { ...INITIAL_MEMORY, sdownSince: 1100, odownSince: 1150 };
    const d = decideMaster(input({ now: 4000, memory }));
    expect(eventTypes(d)).toEqual(['-sdown', '-odown']);
    expect(d.actions).toContainEqual({ type: 'write-vote', down: false, observedAt: 4000, configEpoch: 0 });
  });

  it('refreshes a down-vote every vote-refresh period while the master stays down', () => {
    const now = 5000;
    const memory: MasterMemory = {
      ...INITIAL_MEMORY,
      sdownSince: 1200,
      voteWritten: {
        down: true,
        observedAt: now - settings.voteRefreshMs,
        writtenAt: now - settings.voteRefreshMs,
      },
    };
    const d = decideMaster(
      input({ now, master: deadSince(100, now), memory, settings: masterSettings({ quorum: 3 }) }),
    );
    expect(d.actions).toContainEqual({ type: 'write-vote', down: true, observedAt: now, configEpoch: 0 });
    const early = decideMaster(
      input({
        now: now - 1,
        master: deadSince(100, now - 1),
        memory,
        settings: masterSettings({ quorum: 3 }),
      }),
    );
    expect(types(early.actions)).not.toContain('write-vote');
  });
});

describe('Function: decideMaster after a failover', () => {
  it('does not count a down-vote cast about the previous master configuration', () => {
    const now = 1200;
    const stale: Vote = { ...downVote('sentinel-b', now), configEpoch: 0 };
    const store: StoreView = {
      status: 'ok',
      record: record({ configEpoch: 1 }),
      votes: [stale],
      readAt: now,
    };
    const d = decideMaster(input({ now, master: deadSince(100, now), store }));
    expect(d.status).toBe('sdown');
    expect(d.actions.map((a) => a.type)).not.toContain('claim-epoch');
    const current = decideMaster(
      input({ now, master: deadSince(100, now), store: { ...store, votes: [{ ...stale, configEpoch: 1 }] } }),
    );
    expect(current.status).toBe('odown');
  });

  it('writes its votes with the config epoch of the recorded master', () => {
    const now = 1200;
    const d = decideMaster(
      input({ now, store: { status: 'ok', record: record({ configEpoch: 3 }), votes: [], readAt: now } }),
    );
    expect(d.actions).toContainEqual({ type: 'write-vote', down: false, observedAt: now, configEpoch: 3 });
  });
});
