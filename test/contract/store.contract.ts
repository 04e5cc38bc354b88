/**
 * The SentinelStore contract (lib/ports.ts), as one suite that every implementation runs, so the
 * in-memory store used by unit tests and simulations cannot drift from the DynamoDB store.
 *
 * The store is made once per suite; every test uses fresh master and sentinel names (`fresh()`), so a
 * factory may hand out stores that share a table.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  FailoverProgress,
  FailoverState,
  LoopLease,
  MasterRecord,
  ReplicaRecord,
  Vote,
} from '../../lib/core/types.js';
import { type SentinelStore, StoreUnavailableError } from '../../lib/ports.js';

export interface StoreUnderTest {
  readonly store: SentinelStore;
  readonly cleanup?: () => Promise<void>;
}

/** A unique name for this test, readable in a table dump. */
const fresh = (label: string): string => `${label}-${randomUUID().slice(0, 8)}`;

const T0 = 1_700_000_000_000;

function progressFor(host: string): FailoverProgress {
  return {
    oldMaster: { host, port: 6379 },
    promoted: null,
    rejected: [],
    promotionSentAt: null,
    replicas: [],
    forced: false,
    coordinated: false,
  };
}
const LEASE_TTL = 10_000;

/**
 * One call of every store method that sends a request, typed so that a method added to the port must be
 * added here. `settle` sends none and never rejects (it has its own test).
 */
export function everyStoreCall(): Record<
  Exclude<keyof SentinelStore, 'settle'>,
  (store: SentinelStore) => Promise<unknown>
> {
  const master = fresh('m');
  return {
    ensureMaster: (s) => s.ensureMaster({ name: master, host: '10.0.0.1', port: 6379, now: T0 }),
    getMaster: (s) => s.getMaster(master),
    listMasters: (s) => s.listMasters(),
    getChangeCounter: (s) => s.getChangeCounter(),
    claimEpoch: (s) =>
      s.claimEpoch(master, {
        mode: 'start',
        expectedEpoch: 0,
        sentinelId: 'a',
        leaseUntil: T0 + 5000,
        progress: progressFor('10.0.0.1'),
        now: T0,
      }),
    requestFailover: (s) => s.requestFailover(master, { now: T0 }),
    monitorMaster: (s) =>
      s.monitorMaster({ name: fresh('mon'), host: '10.0.0.9', port: 6379, settings: { quorum: 2 }, now: T0 }),
    removeMaster: (s) => s.removeMaster(master, { now: T0 }),
    updateMasterSettings: (s) =>
      s.updateMasterSettings(master, { expectedVersion: 0, settings: { quorum: 1 }, now: T0 }),
    resetMaster: (s) => s.resetMaster(master, { now: T0 }),
    advanceFailover: (s) =>
      s.advanceFailover(master, {
        epoch: 1,
        sentinelId: 'a',
        now: T0,
        from: ['select_slave'],
        to: 'none',
        progress: null,
        leaseUntil: 0,
      }),
    renewLeadership: (s) => s.renewLeadership(master, { epoch: 1, sentinelId: 'a', leaseUntil: T0, now: T0 }),
    releaseLeadership: (s) => s.releaseLeadership(master, { epoch: 1, sentinelId: 'a', now: T0 }),
    putVote: (s) =>
      s.putVote({
        master,
        sentinelId: 'a',
        down: true,
        observedAt: T0,
        configEpoch: 0,
        token: 1,
        invocationId: 'i',
      }),
    listVotes: (s) => s.listVotes(master),
    getMasterVotesReplicas: (s) => s.getMasterVotesReplicas(master),
    getLease: (s) => s.getLease('a'),
    listLeases: (s) => s.listLeases(),
    acquireLease: (s) => s.acquireLease(fresh('s'), { invocationId: 'i', now: T0, ttlMs: LEASE_TTL }),
    renewLease: (s) =>
      s.renewLease('a', {
        invocationId: 'i',
        token: 1,
        now: T0,
        ttlMs: LEASE_TTL,
        tilt: false,
        summary: null,
      }),
    requestHandover: (s) => s.requestHandover('a', { invocationId: 'j' }),
    releaseLease: (s) => s.releaseLease('a', { invocationId: 'i', token: 1, now: T0 }),
    putHandoverState: (s) => s.putHandoverState(fresh('s'), { token: 1, state: '{}' }),
    getHandoverState: (s) => s.getHandoverState('a', { token: 1 }),
    upsertReplica: (s) =>
      s.upsertReplica({ master, host: '10.0.0.2', port: 6379, runId: null, lastSeenAt: T0, seenBy: 'a' }),
    listReplicas: (s) => s.listReplicas(master),
  };
}

export function describeStoreContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`Contract: SentinelStore (${name})`, () => {
    let store: SentinelStore;
    let cleanup: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      ({ store, cleanup } = await makeStore());
    });

    afterAll(async () => {
      await cleanup?.();
    });

    const ensure = (master: string, host = '10.0.0.1', port = 6379): Promise<MasterRecord> =>
      store.ensureMaster({ name: master, host, port, now: T0 });

    const claim = (master: string, expectedEpoch: number, sentinelId: string, now = T0 + 100) =>
      store.claimEpoch(master, {
        mode: 'start',
        expectedEpoch,
        sentinelId,
        leaseUntil: now + 5_000,
        progress: progressFor('10.0.0.1'),
        now,
      });

    /** Takes over the failover of epoch `expectedEpoch` after its leader's lease (5 s) has run out. */
    const takeOver = (master: string, expectedEpoch: number, sentinelId: string, now = T0 + 60_000) =>
      store.claimEpoch(master, { mode: 'resume', expectedEpoch, sentinelId, leaseUntil: now + 5_000, now });

    describe('master records', () => {
      it('returns null from getMaster for a master never ensured', async () => {
        expect(await store.getMaster(fresh('unknown'))).toBeNull();
      });

      it('creates the record on the first ensureMaster: epoch 0, no leader, no failover', async () => {
        const master = fresh('m');
        const created = await ensure(master, '10.0.0.1', 6379);
        const expected: MasterRecord = {
          name: master,
          host: '10.0.0.1',
          port: 6379,
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
          origin: { source: 'config', host: '10.0.0.1', port: 6379 },
          updatedAt: T0,
        };
        expect(created).toEqual(expected);
        expect(await store.getMaster(master)).toEqual(expected);
      });

      it('never overwrites: a second ensureMaster with another address returns the recorded master', async () => {
        const master = fresh('m');
        const first = await ensure(master, '10.0.0.1', 6379);
        await claim(master, 0, 'sentinel-a');
        const again = await store.ensureMaster({
          name: master,
          host: '10.9.9.9',
          port: 7000,
          now: T0 + 1_000,
        });
        expect(again.host).toBe(first.host);
        expect(again.port).toBe(first.port);
        expect(again.origin).toEqual({ source: 'config', host: '10.0.0.1', port: 6379 });
        expect(again.currentEpoch).toBe(1);
        expect(await store.getMaster(master)).toEqual(again);
      });

      it('gives concurrent ensureMaster calls with different seeds one and the same record', async () => {
        const master = fresh('m');
        const results = await Promise.all([
          ensure(master, '10.0.0.1', 6379),
          ensure(master, '10.0.0.2', 6380),
          ensure(master, '10.0.0.3', 6381),
        ]);
        const stored = await store.getMaster(master);
        for (const result of results) expect(result).toEqual(stored);
      });

      it('lists every ensured master in listMasters', async () => {
        const names = [fresh('m'), fresh('m'), fresh('m')];
        for (const master of names) await ensure(master);
        const listed = await store.listMasters();
        for (const master of names) {
          expect(listed.filter((record) => record.name === master)).toEqual([await store.getMaster(master)]);
        }
      });

      it('hands out copies: mutating a returned record does not change the store', async () => {
        const master = fresh('m');
        const created = await ensure(master);
        (created as { host: string }).host = 'mutated';
        const read = await store.getMaster(master);
        expect(read?.host).toBe('10.0.0.1');
        (read as { currentEpoch: number }).currentEpoch = 99;
        expect((await store.getMaster(master))?.currentEpoch).toBe(0);
      });
    });

    describe('epochs', () => {
      it('wins a claim on the expected epoch and records epoch + 1, leader, lease and failover state', async () => {
        const master = fresh('m');
        await ensure(master);
        const result = await store.claimEpoch(master, {
          mode: 'start',
          expectedEpoch: 0,
          sentinelId: 'sentinel-a',
          leaseUntil: T0 + 5_100,
          progress: progressFor('10.0.0.1'),
          now: T0 + 100,
        });
        expect(result.won).toBe(true);
        expect(result.record).toMatchObject({
          name: master,
          currentEpoch: 1,
          configEpoch: 0,
          leader: 'sentinel-a',
          leaderLeaseUntil: T0 + 5_100,
          failoverState: 'select_slave',
          failoverStartedAt: T0 + 100,
          failover: progressFor('10.0.0.1'),
          updatedAt: T0 + 100,
        });
        expect(await store.getMaster(master)).toEqual(result.record);
      });

      it('enters send_slaveof_noone when a start claim names the replica to promote; the failover continues from there', async () => {
        const master = fresh('m');
        await ensure(master);
        const chosen: FailoverProgress = {
          ...progressFor('10.0.0.1'),
          promoted: { host: '10.0.0.2', port: 6379 },
          rejected: [{ host: '10.0.0.3', port: 6379, reason: 'sdown' }],
          replicas: [{ host: '10.0.0.3', port: 6379, state: 'pending', sentAt: null, note: null }],
        };
        const result = await store.claimEpoch(master, {
          mode: 'start',
          expectedEpoch: 0,
          sentinelId: 'sentinel-a',
          leaseUntil: T0 + 5_100,
          progress: chosen,
          now: T0 + 100,
        });
        expect(result.won).toBe(true);
        expect(result.record).toMatchObject({
          currentEpoch: 1,
          leader: 'sentinel-a',
          failoverState: 'send_slaveof_noone',
          failover: chosen,
        });
        expect(await store.getMaster(master)).toEqual(result.record);
        // A concurrent claim of the same epoch loses, whatever it names.
        const late = await store.claimEpoch(master, {
          mode: 'start',
          expectedEpoch: 0,
          sentinelId: 'sentinel-b',
          leaseUntil: T0 + 5_100,
          progress: { ...chosen, promoted: { host: '10.0.0.3', port: 6379 } },
          now: T0 + 101,
        });
        expect(late.won).toBe(false);
        expect(late.record.failover?.promoted).toEqual({ host: '10.0.0.2', port: 6379 });
        // The next step is from send_slaveof_noone: select_slave's write is refused.
        const fromSelect = await store.advanceFailover(master, {
          epoch: 1,
          sentinelId: 'sentinel-a',
          now: T0 + 110,
          from: ['select_slave'],
          to: 'send_slaveof_noone',
          progress: chosen,
          leaseUntil: T0 + 5_200,
        });
        expect(fromSelect.ok).toBe(false);
        const switched = await store.advanceFailover(master, {
          epoch: 1,
          sentinelId: 'sentinel-a',
          now: T0 + 120,
          from: ['send_slaveof_noone'],
          to: 'reconf_slaves',
          progress: { ...chosen, promotionSentAt: T0 + 115 },
          leaseUntil: T0 + 5_200,
          switchTo: { host: '10.0.0.2', port: 6379 },
        });
        expect(switched.ok).toBe(true);
        if (switched.ok) expect(switched.record).toMatchObject({ host: '10.0.0.2', configEpoch: 1 });
      });

      it('loses a claim on a stale epoch and returns the winner’s record', async () => {
        const master = fresh('m');
        await ensure(master);
        const winner = await claim(master, 0, 'sentinel-a');
        const loser = await claim(master, 0, 'sentinel-b');
        expect(loser.won).toBe(false);
        expect(loser.record).toEqual(winner.record);
        expect(loser.record.leader).toBe('sentinel-a');
      });

      it('loses a claim for an epoch ahead of the current one: epochs move by exactly one', async () => {
        const master = fresh('m');
        await ensure(master);
        const result = await claim(master, 5, 'sentinel-a');
        expect(result.won).toBe(false);
        expect(result.record.currentEpoch).toBe(0);
        expect(result.record.leader).toBeNull();
      });

      it('lets exactly one of three concurrent claims win, and every loser sees the winner', async () => {
        const master = fresh('m');
        await ensure(master);
        const results = await Promise.all([
          claim(master, 0, 'sentinel-a'),
          claim(master, 0, 'sentinel-b'),
          claim(master, 0, 'sentinel-c'),
        ]);
        const winners = results.filter((result) => result.won);
        expect(winners).toHaveLength(1);
        const leader = winners[0]?.record.leader;
        for (const result of results) {
          expect(result.record.currentEpoch).toBe(1);
          expect(result.record.leader).toBe(leader);
        }
        expect((await store.getMaster(master))?.leader).toBe(leader);
      });

      it('only ever raises the epoch: a late claim on an old epoch changes nothing', async () => {
        const master = fresh('m');
        await ensure(master);
        for (let epoch = 0; epoch < 3; epoch++) {
          const id = epoch % 2 === 0 ? 'sentinel-a' : 'sentinel-b';
          const result =
            epoch === 0 ? await claim(master, 0, id) : await takeOver(master, epoch, id, T0 + 60_000 * epoch);
          expect(result).toMatchObject({ won: true, record: { currentEpoch: epoch + 1 } });
        }
        const late = await claim(master, 1, 'sentinel-c');
        expect(late.won).toBe(false);
        expect(late.record).toMatchObject({ currentEpoch: 3, leader: 'sentinel-a' });
        expect((await store.getMaster(master))?.currentEpoch).toBe(3);
      });

      it('refuses to start a failover while one is in progress, even on the current epoch', async () => {
        const master = fresh('m');
        await ensure(master);
        await claim(master, 0, 'sentinel-a');
        const second = await claim(master, 1, 'sentinel-b', T0 + 60_000);
        expect(second.won).toBe(false);
        expect(second.record).toMatchObject({ currentEpoch: 1, leader: 'sentinel-a' });
      });

      it('takes over a failover only after its leader’s lease expired, keeping its state and progress', async () => {
        const master = fresh('m');
        await ensure(master);
        await claim(master, 0, 'sentinel-a'); // lease until T0 + 5_100
        const early = await takeOver(master, 1, 'sentinel-b', T0 + 5_100);
        expect(early.won).toBe(false);
        const progress = { ...progressFor('10.0.0.1'), promoted: { host: '10.0.0.2', port: 6379 } };
        await store.advanceFailover(master, {
          epoch: 1,
          sentinelId: 'sentinel-a',
          now: T0 + 200,
          from: ['select_slave'],
          to: 'send_slaveof_noone',
          progress,
          leaseUntil: T0 + 5_200,
        });
        const late = await takeOver(master, 1, 'sentinel-b', T0 + 5_201);
        expect(late.won).toBe(true);
        expect(late.record).toMatchObject({
          currentEpoch: 2,
          leader: 'sentinel-b',
          leaderLeaseUntil: T0 + 5_201 + 5_000,
          failoverState: 'send_slaveof_noone',
          failover: progress,
          failoverStartedAt: T0 + 100,
        });
      });

      it('refuses to take over when no failover is in progress', async () => {
        const master = fresh('m');
        await ensure(master);
        expect((await takeOver(master, 0, 'sentinel-b')).won).toBe(false);
      });

      it('lets exactly one of three concurrent take-overs win', async () => {
        const master = fresh('m');
        await ensure(master);
        await claim(master, 0, 'sentinel-a');
        const results = await Promise.all(
          ['sentinel-a', 'sentinel-b', 'sentinel-c'].map((id) => takeOver(master, 1, id)),
        );
        expect(results.filter((r) => r.won)).toHaveLength(1);
      });
    });

    describe('failover steps (advanceFailover)', () => {
      const step = (
        master: string,
        sentinelId: string,
        from: FailoverState[],
        to: FailoverState,
        extra = {},
      ) =>
        store.advanceFailover(master, {
          epoch: 1,
          sentinelId,
          now: T0 + 300,
          from,
          to,
          progress: progressFor('10.0.0.1'),
          leaseUntil: T0 + 9_000,
          ...extra,
        });

      it('advances only the leader of the epoch, only from the allowed states, renewing its lease', async () => {
        const master = fresh('m');
        await ensure(master);
        await claim(master, 0, 'sentinel-a');
        expect((await step(master, 'sentinel-b', ['select_slave'], 'send_slaveof_noone')).ok).toBe(false);
        expect((await step(master, 'sentinel-a', ['wait_promotion'], 'reconf_slaves')).ok).toBe(false);
        const ok = await step(master, 'sentinel-a', ['select_slave'], 'send_slaveof_noone');
        expect(ok).toMatchObject({
          ok: true,
          record: { failoverState: 'send_slaveof_noone', leaderLeaseUntil: T0 + 9_000 },
        });
        // Idempotent replay of the same step from a resumed runner is refused, not applied twice.
        const again = await step(master, 'sentinel-a', ['select_slave'], 'send_slaveof_noone');
        expect(again.ok).toBe(false);
        expect(again.record?.failoverState).toBe('send_slaveof_noone');
      });

      it('switches the master address and config epoch in the promotion step', async () => {
        const master = fresh('m');
        await ensure(master, '10.0.0.1', 6379);
        await claim(master, 0, 'sentinel-a');
        const result = await step(master, 'sentinel-a', ['select_slave'], 'reconf_slaves', {
          switchTo: { host: '10.0.0.2', port: 6380 },
        });
        expect(result.record).toMatchObject({
          host: '10.0.0.2',
          port: 6380,
          configEpoch: 1,
          currentEpoch: 1,
        });
        expect(await store.getMaster(master)).toMatchObject({ host: '10.0.0.2', port: 6380, configEpoch: 1 });
      });

      it('records a retry delay on abort and clears the progress when asked', async () => {
        const master = fresh('m');
        await ensure(master);
        await claim(master, 0, 'sentinel-a');
        const result = await step(master, 'sentinel-a', ['select_slave'], 'none', {
          progress: null,
          retryNotBefore: T0 + 99_000,
          leaseUntil: 0,
        });
        expect(result.record).toMatchObject({
          failoverState: 'none',
          failover: null,
          retryNotBefore: T0 + 99_000,
        });
      });

      it('fences a leader whose epoch was taken over: its next step is refused', async () => {
        const master = fresh('m');
        await ensure(master);
        await claim(master, 0, 'sentinel-a');
        await takeOver(master, 1, 'sentinel-b');
        const stale = await step(master, 'sentinel-a', ['select_slave'], 'send_slaveof_noone');
        expect(stale.ok).toBe(false);
        expect(stale.record).toMatchObject({
          currentEpoch: 2,
          leader: 'sentinel-b',
          failoverState: 'select_slave',
        });
      });
    });

    describe('manual failover requests', () => {
      it('records a request only while no failover is in progress, and a start claim clears it', async () => {
        const master = fresh('m');
        expect(await store.requestFailover(master, { now: T0 })).toBe('no-such-master');
        await ensure(master);
        expect(await store.requestFailover(master, { now: T0 + 1 })).toBe('requested');
        expect((await store.getMaster(master))?.failoverRequestedAt).toBe(T0 + 1);
        const claimed = await claim(master, 0, 'sentinel-a');
        expect(claimed.record.failoverRequestedAt).toBeNull();
        expect(await store.requestFailover(master, { now: T0 + 2 })).toBe('in-progress');
        expect((await store.getMaster(master))?.failoverRequestedAt).toBeNull();
      });

      it('answers in-progress while a request no sentinel took up is younger than pendingForMs, then replaces it', async () => {
        const master = fresh('pend');
        await ensure(master);
        expect(await store.requestFailover(master, { now: T0, pendingForMs: 1_000 })).toBe('requested');
        expect(await store.requestFailover(master, { now: T0 + 1_000, pendingForMs: 1_000 })).toBe(
          'in-progress',
        );
        expect((await store.getMaster(master))?.failoverRequestedAt).toBe(T0);
        expect(
          await store.requestFailover(master, { now: T0 + 1_001, coordinated: true, pendingForMs: 1_000 }),
        ).toBe('requested');
        expect(await store.getMaster(master)).toMatchObject({
          failoverRequestedAt: T0 + 1_001,
          failoverRequestCoordinated: true,
        });
        // Without pendingForMs, any earlier request is replaced.
        expect(await store.requestFailover(master, { now: T0 + 1_002 })).toBe('requested');
      });
    });

    describe('run-time configuration (MONITOR, SET, REMOVE, RESET)', () => {
      const monitor = (name: string, host = '10.0.1.1', settings = { quorum: 2 }) =>
        store.monitorMaster({ name, host, port: 6379, settings, now: T0 + 10 });

      it('MONITOR creates a new master at epoch 0 with its settings, and refuses a duplicate', async () => {
        const master = fresh('mon');
        expect(await monitor(master)).toBe('created');
        const record = await store.getMaster(master);
        expect(record).toMatchObject({
          name: master,
          host: '10.0.1.1',
          port: 6379,
          currentEpoch: 0,
          configEpoch: 0,
          leader: null,
          failoverState: 'none',
          monitored: true,
          settings: { quorum: 2 },
          settingsVersion: 1,
          resetAt: null,
          origin: { source: 'monitor', host: '10.0.1.1', port: 6379 },
        });
        expect(await monitor(master, '10.0.1.2')).toBe('duplicate');
        expect(await store.getMaster(master)).toMatchObject({
          host: '10.0.1.1',
          origin: { source: 'monitor', host: '10.0.1.1', port: 6379 },
        });
        const seeded = fresh('seeded');
        await ensure(seeded, '10.0.0.1', 6379);
        expect(await monitor(seeded)).toBe('duplicate');
        expect((await store.getMaster(seeded))?.origin).toEqual({
          source: 'config',
          host: '10.0.0.1',
          port: 6379,
        });
      });

      it('REMOVE keeps a tombstone that ensureMaster does not revive, ends a failover, and refuses twice', async () => {
        const master = fresh('rm');
        await ensure(master, '10.0.0.1', 6379);
        await claim(master, 0, 'a');
        await store.requestFailover(fresh('other'), { now: T0 });
        expect(await store.removeMaster(master, { now: T0 + 20 })).toBe(true);
        const removed = await store.getMaster(master);
        expect(removed).toMatchObject({ monitored: false, failoverState: 'none', currentEpoch: 1 });
        expect(await store.removeMaster(master, { now: T0 + 30 })).toBe(false);
        expect(await store.removeMaster(fresh('never'), { now: T0 })).toBe(false);
        // The config file's monitor line must not bring a removed master back.
        expect((await ensure(master, '10.0.0.2', 6379)).monitored).toBe(false);
        expect(await store.requestFailover(master, { now: T0 + 40 })).toBe('no-such-master');
        // The old leader is fenced: its next step is refused.
        const step = await store.advanceFailover(master, {
          epoch: 1,
          sentinelId: 'a',
          now: T0 + 50,
          from: ['select_slave'],
          to: 'send_slaveof_noone',
          progress: progressFor('10.0.0.1'),
          leaseUntil: T0 + 5_000,
        });
        expect(step.ok).toBe(false);
      });

      it('MONITOR revives a removed master as a new incarnation: epochs move past the old ones, its own origin, no replicas', async () => {
        const master = fresh('revive');
        await ensure(master, '10.0.0.1', 6379);
        await claim(master, 0, 'a');
        await takeOver(master, 1, 'b');
        const before = await store.getMaster(master);
        expect(before?.origin).toEqual({ source: 'config', host: '10.0.0.1', port: 6379 });
        await store.upsertReplica({
          master,
          host: '10.0.0.2',
          port: 6379,
          runId: null,
          lastSeenAt: T0,
          seenBy: 'a',
        });
        expect(await store.removeMaster(master, { now: T0 + 20 })).toBe(true);
        // The tombstone still says where the removed incarnation began.
        expect((await store.getMaster(master))?.origin).toEqual(before?.origin);
        expect(await monitor(master, '10.0.2.2', { quorum: 1 })).toBe('created');
        const revived = await store.getMaster(master);
        const epoch = (before?.currentEpoch ?? 0) + 1;
        expect(revived).toMatchObject({
          host: '10.0.2.2',
          monitored: true,
          currentEpoch: epoch,
          configEpoch: epoch,
          leader: null,
          failoverState: 'none',
          settings: { quorum: 1 },
          // A new incarnation, begun by this MONITOR: a password bound to the old one does not follow.
          origin: { source: 'monitor', host: '10.0.2.2', port: 6379 },
        });
        // Nor do the old incarnation's replicas: they would be probed with the new one's password.
        expect(await store.listReplicas(master)).toEqual([]);
        expect(revived?.settingsVersion).toBeGreaterThan(before?.settingsVersion ?? 0);
      });

      it('SET replaces the settings only at the expected version, and only for a monitored master', async () => {
        const master = fresh('set');
        await ensure(master, '10.0.0.1', 6379);
        const update = (expectedVersion: number, quorum: number) =>
          store.updateMasterSettings(master, { expectedVersion, settings: { quorum }, now: T0 + 5 });
        const [first, second] = await Promise.all([update(0, 1), update(0, 3)]);
        expect([first, second].sort()).toEqual(['conflict', 'updated']);
        const record = await store.getMaster(master);
        expect(record?.settingsVersion).toBe(1);
        expect([1, 3]).toContain(record?.settings.quorum);
        expect(await update(0, 2)).toBe('conflict');
        expect(await update(1, 2)).toBe('updated');
        expect((await store.getMaster(master))?.settings).toEqual({ quorum: 2 });
        expect(
          await store.updateMasterSettings(fresh('never'), { expectedVersion: 0, settings: {}, now: T0 }),
        ).toBe('no-such-master');
        await store.removeMaster(master, { now: T0 + 6 });
        expect(await update(2, 1)).toBe('no-such-master');
      });

      it('RESET forgets the replicas, ends a failover and its back-off, and keeps the epochs', async () => {
        const master = fresh('reset');
        await ensure(master, '10.0.0.1', 6379);
        await store.upsertReplica({
          master,
          host: '10.0.0.2',
          port: 6379,
          runId: null,
          lastSeenAt: T0,
          seenBy: 'a',
        });
        await claim(master, 0, 'a');
        expect(await store.resetMaster(master, { now: T0 + 70 })).toBe(true);
        expect(await store.listReplicas(master)).toEqual([]);
        expect(await store.getMaster(master)).toMatchObject({
          resetAt: T0 + 70,
          failoverState: 'none',
          retryNotBefore: 0,
          failoverRequestedAt: null,
          currentEpoch: 1,
        });
        expect(await store.resetMaster(fresh('never'), { now: T0 })).toBe(false);
      });

      it('keeps the origin through failovers, SET, RESET and manual failover requests; only MONITOR replaces it', async () => {
        for (const [master, create, origin] of [
          [
            fresh('origin-seeded'),
            (name: string) => ensure(name, '10.0.0.1', 6379),
            { source: 'config', host: '10.0.0.1', port: 6379 },
          ],
          [
            fresh('origin-monitored'),
            (name: string) =>
              store.monitorMaster({ name, host: '10.0.3.3', port: 6390, settings: {}, now: T0 }),
            { source: 'monitor', host: '10.0.3.3', port: 6390 },
          ],
        ] as const) {
          await create(master);
          const seen = async () => (await store.getMaster(master))?.origin;
          expect(await seen()).toEqual(origin);
          const epoch = (await store.getMaster(master))?.currentEpoch ?? 0;
          expect(await store.requestFailover(master, { now: T0 + 1 })).toBe('requested');
          expect((await claim(master, epoch, 'a')).won).toBe(true);
          // A failover moves the master to another address: the incarnation, and its origin, stay.
          const promoted = await store.advanceFailover(master, {
            epoch: epoch + 1,
            sentinelId: 'a',
            now: T0 + 200,
            from: ['select_slave'],
            to: 'reconf_slaves',
            progress: progressFor(origin.host),
            leaseUntil: T0 + 9_000,
            switchTo: { host: '10.0.9.9', port: 7000 },
          });
          expect(promoted).toMatchObject({ ok: true, record: { host: '10.0.9.9', origin } });
          expect((await takeOver(master, epoch + 1, 'b')).record.origin).toEqual(origin);
          expect(
            await store.releaseLeadership(master, { epoch: epoch + 2, sentinelId: 'b', now: T0 + 70_000 }),
          ).toBe(true);
          const version = (await store.getMaster(master))?.settingsVersion ?? 0;
          expect(
            await store.updateMasterSettings(master, {
              expectedVersion: version,
              settings: { quorum: 1 },
              now: T0 + 80_000,
            }),
          ).toBe('updated');
          expect(await store.resetMaster(master, { now: T0 + 90_000 })).toBe(true);
          expect(await store.getMaster(master)).toMatchObject({ host: '10.0.9.9', origin });
        }
      });
    });

    describe('claims on unknown masters', () => {
      it('rejects a claim on a master that has no record with StoreUnavailableError', async () => {
        await expect(claim(fresh('absent'), 0, 'sentinel-a')).rejects.toBeInstanceOf(StoreUnavailableError);
      });
    });

    describe('leadership', () => {
      it('renews leadership only for the leader of that epoch', async () => {
        const master = fresh('m');
        await ensure(master);
        await claim(master, 0, 'sentinel-a');
        const renew = (epoch: number, sentinelId: string) =>
          store.renewLeadership(master, { epoch, sentinelId, leaseUntil: T0 + 9_000, now: T0 + 4_000 });
        expect(await renew(1, 'sentinel-b')).toBe(false);
        expect(await renew(0, 'sentinel-a')).toBe(false);
        expect(await renew(2, 'sentinel-a')).toBe(false);
        expect((await store.getMaster(master))?.leaderLeaseUntil).toBe(T0 + 5_100);
        expect(await renew(1, 'sentinel-a')).toBe(true);
        expect(await store.getMaster(master)).toMatchObject({
          currentEpoch: 1,
          leader: 'sentinel-a',
          leaderLeaseUntil: T0 + 9_000,
          updatedAt: T0 + 4_000,
        });
      });

      it('releases leadership only for the leader: failover back to none, lease cleared, epoch kept', async () => {
        const master = fresh('m');
        await ensure(master);
        await claim(master, 0, 'sentinel-a');
        expect(
          await store.releaseLeadership(master, { epoch: 1, sentinelId: 'sentinel-b', now: T0 + 200 }),
        ).toBe(false);
        expect((await store.getMaster(master))?.failoverState).toBe('select_slave');
        expect(
          await store.releaseLeadership(master, { epoch: 1, sentinelId: 'sentinel-a', now: T0 + 300 }),
        ).toBe(true);
        expect(await store.getMaster(master)).toMatchObject({
          currentEpoch: 1,
          leader: 'sentinel-a',
          leaderLeaseUntil: 0,
          failoverState: 'none',
          updatedAt: T0 + 300,
        });
      });

      it('refuses renew and release to the leader of an epoch that was superseded', async () => {
        const master = fresh('m');
        await ensure(master);
        await claim(master, 0, 'sentinel-a');
        expect((await takeOver(master, 1, 'sentinel-b')).won).toBe(true);
        expect(
          await store.renewLeadership(master, {
            epoch: 1,
            sentinelId: 'sentinel-a',
            leaseUntil: T0 + 9_999,
            now: T0,
          }),
        ).toBe(false);
        expect(await store.releaseLeadership(master, { epoch: 1, sentinelId: 'sentinel-a', now: T0 })).toBe(
          false,
        );
        expect(await store.getMaster(master)).toMatchObject({
          currentEpoch: 2,
          leader: 'sentinel-b',
          failoverState: 'select_slave',
        });
      });

      it('returns false when renewing or releasing leadership of a master that has no record', async () => {
        const master = fresh('absent');
        expect(
          await store.renewLeadership(master, { epoch: 1, sentinelId: 'a', leaseUntil: T0, now: T0 }),
        ).toBe(false);
        expect(await store.releaseLeadership(master, { epoch: 1, sentinelId: 'a', now: T0 })).toBe(false);
      });
    });

    describe('votes', () => {
      const vote = (
        master: string,
        sentinelId: string,
        token: number,
        observedAt: number,
        down = true,
      ): Vote => ({
        master,
        sentinelId,
        down,
        observedAt,
        configEpoch: 0,
        token,
        invocationId: `inv-${sentinelId}-${token}`,
      });

      it('returns an empty list for a master without votes', async () => {
        expect(await store.listVotes(fresh('m'))).toEqual([]);
      });

      it('writes a first vote and lists it', async () => {
        const master = fresh('m');
        const first = vote(master, 'sentinel-a', 1, T0);
        expect(await store.putVote(first)).toBe('written');
        expect(await store.listVotes(master)).toEqual([first]);
      });

      it('fences a vote with a lower token than the stored one, and keeps the stored vote', async () => {
        const master = fresh('m');
        const newer = vote(master, 'sentinel-a', 5, T0 + 1_000);
        await store.putVote(newer);
        expect(await store.putVote(vote(master, 'sentinel-a', 4, T0 + 2_000, false))).toBe('fenced');
        expect(await store.listVotes(master)).toEqual([newer]);
      });

      it('overwrites with an equal token (a refresh) and with a higher token (a successor)', async () => {
        const master = fresh('m');
        await store.putVote(vote(master, 'sentinel-a', 3, T0));
        const refresh = vote(master, 'sentinel-a', 3, T0 + 1_000, false);
        expect(await store.putVote(refresh)).toBe('written');
        expect(await store.listVotes(master)).toEqual([refresh]);
        const successor = vote(master, 'sentinel-a', 4, T0 + 2_000);
        expect(await store.putVote(successor)).toBe('written');
        expect(await store.listVotes(master)).toEqual([successor]);
      });

      it('lists the latest vote of each sentinel, and only this master’s votes', async () => {
        const master = fresh('m');
        const other = fresh('m');
        await store.putVote(vote(master, 'sentinel-a', 1, T0));
        await store.putVote(vote(master, 'sentinel-a', 1, T0 + 1_000, false));
        await store.putVote(vote(master, 'sentinel-b', 7, T0 + 500));
        await store.putVote(vote(master, 'sentinel-c', 2, T0 + 800));
        await store.putVote(vote(other, 'sentinel-a', 9, T0 + 900));
        const votes = await store.listVotes(master);
        expect(votes).toHaveLength(3);
        expect(votes).toEqual(
          expect.arrayContaining([
            vote(master, 'sentinel-a', 1, T0 + 1_000, false),
            vote(master, 'sentinel-b', 7, T0 + 500),
            vote(master, 'sentinel-c', 2, T0 + 800),
          ]),
        );
      });

      it('reads the record, the votes and the replicas together as getMaster, listVotes and listReplicas give them', async () => {
        const master = fresh('m');
        const other = fresh('m');
        expect(await store.getMasterVotesReplicas(master)).toEqual({ record: null, votes: [], replicas: [] });
        await store.putVote(vote(master, 'sentinel-b', 2, T0));
        expect(await store.getMasterVotesReplicas(master)).toEqual({
          record: null,
          votes: [vote(master, 'sentinel-b', 2, T0)],
          replicas: [],
        });
        await store.ensureMaster({ name: master, host: '10.0.0.1', port: 6379, now: T0 });
        await store.ensureMaster({ name: other, host: '10.0.0.9', port: 6379, now: T0 });
        for (const port of [6380, 6379])
          await store.upsertReplica({
            master,
            host: '10.0.0.2',
            port,
            runId: null,
            lastSeenAt: T0,
            seenBy: 'sentinel-a',
          });
        await store.upsertReplica({
          master: other,
          host: '10.0.0.8',
          port: 6379,
          runId: null,
          lastSeenAt: T0,
          seenBy: 'sentinel-a',
        });
        await store.putVote(vote(master, 'sentinel-a', 1, T0 + 100, false));
        await store.putVote(vote(other, 'sentinel-c', 1, T0 + 200));
        const read = await store.getMasterVotesReplicas(master);
        expect(read.record).not.toBeNull();
        expect(read).toEqual({
          record: await store.getMaster(master),
          votes: await store.listVotes(master),
          replicas: await store.listReplicas(master),
        });
        expect(read.votes.map((v) => v.sentinelId)).toEqual(['sentinel-a', 'sentinel-b']);
        expect(read.replicas.map((r) => r.port).sort()).toEqual([6379, 6380]);
      });
    });

    describe('loop leases', () => {
      const acquire = (sentinelId: string, invocationId: string, now: number, ttlMs = LEASE_TTL) =>
        store.acquireLease(sentinelId, { invocationId, now, ttlMs });
      const renew = (
        sentinelId: string,
        invocationId: string,
        token: number,
        now: number,
        extra: { tilt?: boolean; summary?: string | null } = {},
      ) =>
        store.renewLease(sentinelId, {
          invocationId,
          token,
          now,
          ttlMs: LEASE_TTL,
          tilt: extra.tilt ?? false,
          summary: extra.summary ?? null,
        });
      const release = (sentinelId: string, invocationId: string, token: number, now: number) =>
        store.releaseLease(sentinelId, { invocationId, token, now });

      it('stores the holder’s hand-over time and generation at acquire, keeps them through renewals and a hand-over request, and replaces them at the next acquire', async () => {
        const sentinel = fresh('s');
        const first = await store.acquireLease(sentinel, {
          invocationId: 'inv-1',
          now: T0,
          ttlMs: LEASE_TTL,
          handoverFrom: T0 + 5_000,
          generation: 'gen-1',
        });
        expect(first).toMatchObject({
          acquired: true,
          lease: { handoverFrom: T0 + 5_000, generation: 'gen-1' },
        });
        await renew(sentinel, 'inv-1', 1, T0 + 1_000, { summary: 'ok' });
        await store.requestHandover(sentinel, { invocationId: 'inv-2' });
        expect(await store.getLease(sentinel)).toMatchObject({
          holder: 'inv-1',
          handoverFrom: T0 + 5_000,
          generation: 'gen-1',
          handoverRequestedBy: 'inv-2',
        });
        await release(sentinel, 'inv-1', 1, T0 + 2_000);
        const second = await store.acquireLease(sentinel, {
          invocationId: 'inv-2',
          now: T0 + 2_100,
          ttlMs: LEASE_TTL,
          handoverFrom: T0 + 9_000,
          generation: 'gen-2',
        });
        expect(second).toMatchObject({
          acquired: true,
          lease: { token: 2, handoverFrom: T0 + 9_000, generation: 'gen-2', handoverRequestedBy: null },
          previous: { handoverFrom: T0 + 5_000, generation: 'gen-1' },
        });
        expect(await store.getLease(sentinel)).toMatchObject({
          handoverFrom: T0 + 9_000,
          generation: 'gen-2',
        });
      });

      it('returns null from getLease for a sentinel that never held a lease', async () => {
        expect(await store.getLease(fresh('s'))).toBeNull();
      });

      it('acquires an absent lease with token 1 and no previous lease', async () => {
        const sentinel = fresh('s');
        const result = await acquire(sentinel, 'inv-1', T0);
        const lease: LoopLease = {
          sentinelId: sentinel,
          holder: 'inv-1',
          token: 1,
          leaseUntil: T0 + LEASE_TTL,
          heartbeatAt: T0,
          handoverRequestedBy: null,
          handoverFrom: 0,
          generation: null,
          tilt: false,
          summary: null,
        };
        expect(result).toEqual({ acquired: true, lease, previous: null });
        expect(await store.getLease(sentinel)).toEqual(lease);
      });

      it('refuses a live lease (up to and including leaseUntil) and returns the current holder', async () => {
        const sentinel = fresh('s');
        const first = await acquire(sentinel, 'inv-1', T0);
        for (const now of [T0 + 1, T0 + LEASE_TTL]) {
          const refused = await acquire(sentinel, 'inv-2', now);
          expect(refused).toEqual({ acquired: false, current: first.acquired ? first.lease : null });
        }
      });

      it('acquires an expired lease, increments the token and returns the expired lease as previous', async () => {
        const sentinel = fresh('s');
        const first = await acquire(sentinel, 'inv-1', T0);
        const second = await acquire(sentinel, 'inv-2', T0 + LEASE_TTL + 1);
        expect(second).toMatchObject({
          acquired: true,
          lease: { holder: 'inv-2', token: 2, leaseUntil: T0 + 2 * LEASE_TTL + 1 },
          previous: first.acquired ? first.lease : null,
        });
      });

      it('increments the token at every acquisition', async () => {
        const sentinel = fresh('s');
        const tokens: number[] = [];
        for (let i = 0; i < 4; i++) {
          const result = await acquire(sentinel, `inv-${i}`, T0 + i * (LEASE_TTL + 1));
          if (result.acquired) tokens.push(result.lease.token);
        }
        expect(tokens).toEqual([1, 2, 3, 4]);
      });

      it('lets exactly one of three concurrent acquisitions of a free lease succeed', async () => {
        const sentinel = fresh('s');
        const results = await Promise.all([
          acquire(sentinel, 'inv-a', T0),
          acquire(sentinel, 'inv-b', T0),
          acquire(sentinel, 'inv-c', T0),
        ]);
        const winners = results.filter((result) => result.acquired);
        expect(winners).toHaveLength(1);
        const holder = winners[0]?.acquired ? winners[0].lease.holder : undefined;
        for (const result of results) {
          if (!result.acquired) expect(result.current).toMatchObject({ holder, token: 1 });
        }
      });

      it('renews only for the holder with its token, storing heartbeat, tilt and summary', async () => {
        const sentinel = fresh('s');
        await acquire(sentinel, 'inv-1', T0);
        const wrongHolder = await renew(sentinel, 'inv-2', 1, T0 + 1_000);
        expect(wrongHolder).toMatchObject({ renewed: false, current: { holder: 'inv-1', token: 1 } });
        const wrongToken = await renew(sentinel, 'inv-1', 2, T0 + 1_000);
        expect(wrongToken).toMatchObject({ renewed: false, current: { holder: 'inv-1', token: 1 } });
        const renewed = await renew(sentinel, 'inv-1', 1, T0 + 2_000, { tilt: true, summary: 'all good' });
        const expected: LoopLease = {
          sentinelId: sentinel,
          holder: 'inv-1',
          token: 1,
          leaseUntil: T0 + 2_000 + LEASE_TTL,
          heartbeatAt: T0 + 2_000,
          handoverRequestedBy: null,
          handoverFrom: 0,
          generation: null,
          tilt: true,
          summary: 'all good',
        };
        expect(renewed).toEqual({ renewed: true, lease: expected });
        expect(await store.getLease(sentinel)).toEqual(expected);
      });

      it('refuses a renew after a takeover and reports the new holder', async () => {
        const sentinel = fresh('s');
        await acquire(sentinel, 'inv-1', T0);
        await acquire(sentinel, 'inv-2', T0 + LEASE_TTL + 1);
        const late = await renew(sentinel, 'inv-1', 1, T0 + LEASE_TTL + 2);
        expect(late).toMatchObject({ renewed: false, current: { holder: 'inv-2', token: 2 } });
      });

      it('refuses a renew of a lease that does not exist, with current null', async () => {
        expect(await renew(fresh('s'), 'inv-1', 1, T0)).toEqual({ renewed: false, current: null });
      });

      it('shows a handover request to the holder on its next renew', async () => {
        const sentinel = fresh('s');
        await acquire(sentinel, 'inv-1', T0);
        const requested = await store.requestHandover(sentinel, { invocationId: 'inv-2' });
        expect(requested).toMatchObject({ holder: 'inv-1', token: 1, handoverRequestedBy: 'inv-2' });
        const renewed = await renew(sentinel, 'inv-1', 1, T0 + 500);
        expect(renewed).toMatchObject({ renewed: true, lease: { handoverRequestedBy: 'inv-2' } });
      });

      it('returns null from requestHandover when the lease does not exist, and creates nothing', async () => {
        const sentinel = fresh('s');
        expect(await store.requestHandover(sentinel, { invocationId: 'inv-2' })).toBeNull();
        expect(await store.getLease(sentinel)).toBeNull();
      });

      it('releases only for the holder with its token, and only once', async () => {
        const sentinel = fresh('s');
        await acquire(sentinel, 'inv-1', T0);
        expect(await release(sentinel, 'inv-2', 1, T0 + 100)).toBe(false);
        expect(await release(sentinel, 'inv-1', 2, T0 + 100)).toBe(false);
        expect((await store.getLease(sentinel))?.holder).toBe('inv-1');
        expect(await release(sentinel, 'inv-1', 1, T0 + 100)).toBe(true);
        expect(await store.getLease(sentinel)).toMatchObject({
          holder: null,
          token: 1,
          leaseUntil: T0 + 100,
        });
        expect(await release(sentinel, 'inv-1', 1, T0 + 200)).toBe(false);
        expect(await store.getLease(sentinel)).toMatchObject({ holder: null, leaseUntil: T0 + 100 });
      });

      it('acquires a released lease before it expires; the state saved under the released token is the successor’s', async () => {
        const sentinel = fresh('s');
        await acquire(sentinel, 'inv-1', T0);
        await store.requestHandover(sentinel, { invocationId: 'inv-2' });
        const state = JSON.stringify({ sdownSince: T0 - 3_000 });
        expect(await store.putHandoverState(sentinel, { token: 1, state })).toBe(true);
        expect(await release(sentinel, 'inv-1', 1, T0 + 1_000)).toBe(true);
        const next = await acquire(sentinel, 'inv-2', T0 + 1_001);
        expect(next.acquired).toBe(true);
        if (!next.acquired) return;
        expect(next.previous).toMatchObject({ holder: null, token: 1 });
        expect(next.lease).toMatchObject({ holder: 'inv-2', token: 2, handoverRequestedBy: null });
        expect(await store.getLease(sentinel)).toEqual(next.lease);
        expect(await store.getHandoverState(sentinel, { token: next.previous?.token ?? 0 })).toBe(state);
      });

      it('lists the leases of every sentinel in listLeases', async () => {
        const sentinels = [fresh('s'), fresh('s')];
        for (const sentinel of sentinels) await acquire(sentinel, `inv-${sentinel}`, T0);
        const leases = await store.listLeases();
        for (const sentinel of sentinels) {
          expect(leases.filter((lease) => lease.sentinelId === sentinel)).toEqual([
            await store.getLease(sentinel),
          ]);
        }
      });
    });

    describe('hand-over states', () => {
      it('returns null for a sentinel that never saved one', async () => {
        expect(await store.getHandoverState(fresh('s'), { token: 1 })).toBeNull();
      });

      it('returns the state only for the token it was saved under', async () => {
        const sentinel = fresh('s');
        const state = JSON.stringify({ version: 3, masters: { m: { a: 'ü'.repeat(100) } } });
        expect(await store.putHandoverState(sentinel, { token: 4, state })).toBe(true);
        expect(await store.getHandoverState(sentinel, { token: 4 })).toBe(state);
        expect(await store.getHandoverState(sentinel, { token: 3 })).toBeNull();
        expect(await store.getHandoverState(sentinel, { token: 5 })).toBeNull();
      });

      it('replaces a state with one of the same or a newer token, never with an older one', async () => {
        const sentinel = fresh('s');
        expect(await store.putHandoverState(sentinel, { token: 2, state: 'two' })).toBe(true);
        expect(await store.putHandoverState(sentinel, { token: 2, state: 'two again' })).toBe(true);
        expect(await store.putHandoverState(sentinel, { token: 3, state: 'three' })).toBe(true);
        // An invocation that lost its lease (token 2) cannot overwrite its successor's state.
        expect(await store.putHandoverState(sentinel, { token: 2, state: 'stale' })).toBe(false);
        expect(await store.getHandoverState(sentinel, { token: 3 })).toBe('three');
        expect(await store.getHandoverState(sentinel, { token: 2 })).toBeNull();
      });

      it('keeps the lease and the state apart: a renewal does not touch the state, nor the state the lease', async () => {
        const sentinel = fresh('s');
        const acquired = await store.acquireLease(sentinel, {
          invocationId: 'inv-1',
          now: T0,
          ttlMs: LEASE_TTL,
        });
        expect(acquired.acquired).toBe(true);
        await store.putHandoverState(sentinel, { token: 1, state: 'saved' });
        const lease = await store.getLease(sentinel);
        expect(lease).toMatchObject({ holder: 'inv-1', token: 1 });
        expect(Object.keys(lease ?? {}).sort()).toEqual(
          [
            'sentinelId',
            'holder',
            'token',
            'leaseUntil',
            'heartbeatAt',
            'handoverRequestedBy',
            'handoverFrom',
            'generation',
            'tilt',
            'summary',
          ].sort(),
        );
        await store.renewLease(sentinel, {
          invocationId: 'inv-1',
          token: 1,
          now: T0 + 1,
          ttlMs: LEASE_TTL,
          tilt: false,
          summary: 's',
        });
        expect(await store.getHandoverState(sentinel, { token: 1 })).toBe('saved');
      });
    });

    describe('the change counter', () => {
      /** Runs `write` and says by how much it moved the counter. */
      const moved = async (write: () => Promise<unknown>): Promise<number> => {
        await store.settle();
        const before = await store.getChangeCounter();
        await write();
        // A failover's writes leave their increment in flight until settle (ports.ts).
        await store.settle();
        const after = await store.getChangeCounter();
        if (before === null || after === null) throw new Error('the counter is not a count');
        return after - before;
      };

      it('is a count that never goes back', async () => {
        const first = await store.getChangeCounter();
        expect(Number.isSafeInteger(first) && (first ?? -1) >= 0).toBe(true);
        await ensure(fresh('m'));
        expect(await store.getChangeCounter()).toBeGreaterThan(first ?? 0);
      });

      it('moves after every write that changes a master record', async () => {
        const master = fresh('m');
        expect(await moved(() => ensure(master))).toBeGreaterThanOrEqual(1);
        expect(await moved(() => store.requestFailover(master, { now: T0 + 1 }))).toBeGreaterThanOrEqual(1);
        expect(await moved(() => claim(master, 0, 'a'))).toBeGreaterThanOrEqual(1);
        const leads = { epoch: 1, sentinelId: 'a' };
        expect(
          await moved(() =>
            store.renewLeadership(master, { ...leads, leaseUntil: T0 + 9_000, now: T0 + 200 }),
          ),
        ).toBeGreaterThanOrEqual(1);
        expect(
          await moved(() =>
            store.advanceFailover(master, {
              ...leads,
              now: T0 + 300,
              from: ['select_slave'],
              to: 'send_slaveof_noone',
              progress: progressFor('10.0.0.1'),
              leaseUntil: T0 + 9_000,
            }),
          ),
        ).toBeGreaterThanOrEqual(1);
        expect(
          await moved(() => store.releaseLeadership(master, { ...leads, now: T0 + 400 })),
        ).toBeGreaterThanOrEqual(1);
        expect(
          await moved(() =>
            store.updateMasterSettings(master, {
              expectedVersion: 0,
              settings: { quorum: 1 },
              now: T0 + 500,
            }),
          ),
        ).toBeGreaterThanOrEqual(1);
        expect(await moved(() => store.resetMaster(master, { now: T0 + 600 }))).toBeGreaterThanOrEqual(1);
        expect(await moved(() => store.removeMaster(master, { now: T0 + 700 }))).toBeGreaterThanOrEqual(1);
        expect(
          await moved(() =>
            store.monitorMaster({ name: master, host: '10.0.0.5', port: 6379, settings: {}, now: T0 + 800 }),
          ),
        ).toBeGreaterThanOrEqual(1);
      });

      it('does not move for a write its condition refused, nor for votes, leases, replicas or hand-over states', async () => {
        const master = fresh('m');
        await ensure(master);
        await claim(master, 0, 'a');
        const sentinel = fresh('s');
        const quiet = async () => {
          await ensure(master, '10.9.9.9');
          await claim(master, 0, 'b');
          await store.requestFailover(master, { now: T0 + 1 });
          await store.renewLeadership(master, { epoch: 1, sentinelId: 'b', leaseUntil: T0, now: T0 });
          await store.updateMasterSettings(master, { expectedVersion: 7, settings: {}, now: T0 });
          await store.putVote({
            master,
            sentinelId: 'a',
            down: true,
            observedAt: T0,
            configEpoch: 0,
            token: 1,
            invocationId: 'i',
          });
          await store.acquireLease(sentinel, { invocationId: 'i', now: T0, ttlMs: LEASE_TTL });
          await store.renewLease(sentinel, {
            invocationId: 'i',
            token: 1,
            now: T0,
            ttlMs: LEASE_TTL,
            tilt: false,
            summary: null,
          });
          await store.putHandoverState(sentinel, { token: 1, state: '{}' });
          await store.releaseLease(sentinel, { invocationId: 'i', token: 1, now: T0 });
          await store.upsertReplica({
            master,
            host: '10.0.0.2',
            port: 6379,
            runId: null,
            lastSeenAt: T0,
            seenBy: 'a',
          });
          await store.getMaster(master);
          await store.listMasters();
          await store.listVotes(master);
        };
        // A suite's tests run one after another on its own store: nothing else moves the counter here.
        expect(await moved(quiet)).toBe(0);
      });
    });

    describe('replicas', () => {
      const replica = (master: string, host: string, port: number, lastSeenAt: number): ReplicaRecord => ({
        master,
        host,
        port,
        runId: `run-${host}-${port}`,
        lastSeenAt,
        seenBy: 'sentinel-a',
      });

      it('returns an empty list for a master without replicas', async () => {
        expect(await store.listReplicas(fresh('m'))).toEqual([]);
      });

      it('upserts replicas by address and lists only this master’s', async () => {
        const master = fresh('m');
        const a = replica(master, '10.0.0.2', 6379, T0);
        const b = { ...replica(master, '10.0.0.3', 6379, T0), runId: null };
        await store.upsertReplica(a);
        await store.upsertReplica(b);
        await store.upsertReplica(replica(fresh('m'), '10.0.0.4', 6379, T0));
        const listed = await store.listReplicas(master);
        expect(listed).toHaveLength(2);
        expect(listed).toEqual(expect.arrayContaining([a, b]));
      });

      it('replaces the record of the same address instead of adding one', async () => {
        const master = fresh('m');
        await store.upsertReplica(replica(master, '10.0.0.2', 6379, T0));
        const seenAgain = {
          ...replica(master, '10.0.0.2', 6379, T0 + 5_000),
          seenBy: 'sentinel-b',
          runId: 'new',
        };
        await store.upsertReplica(seenAgain);
        expect(await store.listReplicas(master)).toEqual([seenAgain]);
      });

      it('keeps a replica-announced no flag, and reads a record without one as announced', async () => {
        const master = fresh('m');
        const hidden = { ...replica(master, '10.0.0.2', 6379, T0), announced: false };
        const shown = { ...replica(master, '10.0.0.3', 6379, T0), announced: true };
        await store.upsertReplica(hidden);
        await store.upsertReplica(shown);
        const listed = await store.listReplicas(master);
        expect(listed.find((r) => r.host === '10.0.0.2')?.announced).toBe(false);
        expect(listed.find((r) => r.host === '10.0.0.3')?.announced ?? true).toBe(true);
        // Written without the flag (a discovery, or an earlier version): announced.
        await store.upsertReplica(replica(master, '10.0.0.2', 6379, T0 + 1));
        const again = await store.listReplicas(master);
        expect(again.find((r) => r.host === '10.0.0.2')?.announced ?? true).toBe(true);
      });
    });
  });
}
