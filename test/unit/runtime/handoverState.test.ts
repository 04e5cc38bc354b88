import { describe, expect, it } from 'vitest';
import { INITIAL_MEMORY, type MasterMemory } from '../../../lib/core/decide.js';
import { newObservation } from '../../../lib/core/observation.js';
import { newMasterRecord } from '../../../lib/core/records.js';
import { INITIAL_TILT } from '../../../lib/core/tilt.js';
import type { MasterRecord, ReplicationInfo } from '../../../lib/core/types.js';
import {
  HANDOVER_STATE_VERSION,
  type HandoverState,
  type MasterHandover,
  parseHandoverState,
  serializeHandoverState,
} from '../../../lib/runtime/handover.js';

const info: ReplicationInfo = {
  runId: 'abc',
  role: 'replica',
  loading: false,
  masterHost: '10.0.0.1',
  masterPort: 6379,
  masterLinkUp: true,
  masterLinkDownSinceMs: 0,
  replicaPriority: 100,
  replicaOffset: 42,
  replicaAnnounced: true,
  masterReplOffset: null,
  connectedReplicas: [{ host: '10.0.0.3', port: 6379, state: 'online', offset: 42, lag: 0 }],
  redisVersion: '7.0.15',
};

const memory: MasterMemory = {
  ...INITIAL_MEMORY,
  sdownSince: 900,
  replicaSdownSince: { '10.0.0.2:6379': 950 },
  voteWritten: { down: true, observedAt: 990, writtenAt: 991 },
  knownEpoch: 3,
  knownLeader: { sentinelId: 'sentinel-b', epoch: 3 },
  leading: { epoch: 3, leaseUntil: 6_000 },
  claimedFrom: 2,
  knownConfig: { epoch: 3, host: '10.0.0.1', port: 6379 },
  reconfiguredAt: { '10.0.0.2:6379': 800 },
};

const entry: MasterHandover = {
  origin: { source: 'monitor', host: '10.0.0.1', port: 6379 },
  monitor: {
    master: { ...newObservation({ host: '10.0.0.1', port: 6379 }, 'master', 100), lastReplyAt: 500 },
    replicas: [{ ...newObservation({ host: '10.0.0.2', port: 6379 }, 'replica', 100), info, infoAt: 700 }],
  },
  memory,
};

/** A master whose record predates origins and is not in the file: its origin is unknown (null). */
const unknownOrigin: MasterHandover = { ...entry, origin: null };

/** A record after a failover, with run-time settings: every kind of field a record has. */
const record: MasterRecord = {
  ...newMasterRecord({ name: 'mymaster', host: '10.0.0.2', port: 6379, now: 10 }, 'monitor'),
  currentEpoch: 3,
  configEpoch: 3,
  leader: 'sentinel-b',
  leaderLeaseUntil: 0,
  failoverStartedAt: 400,
  failover: {
    oldMaster: { host: '10.0.0.1', port: 6379 },
    promoted: { host: '10.0.0.2', port: 6379 },
    rejected: [{ host: '10.0.0.3', port: 6379, reason: 'replica-priority is 0' }],
    promotionSentAt: 450,
    replicas: [{ host: '10.0.0.4', port: 6379, state: 'done', sentAt: 460, note: null }],
    forced: false,
    coordinated: false,
  },
  settings: { quorum: 2, downAfterMs: 5_000, renamedCommands: { config: 'cfg-x' } },
  settingsVersion: 4,
  resetAt: 300,
  updatedAt: 500,
};
const removed: MasterRecord = {
  ...newMasterRecord({ name: 'gone', host: 'h', port: 1, now: 1 }, 'config'),
  monitored: false,
};

const state: HandoverState = {
  savedAt: 1_000,
  tilt: { ...INITIAL_TILT, lastTimerAt: 999 },
  masters: new Map([
    ['mymaster', entry],
    ['older', unknownOrigin],
  ]),
  records: { changeCounter: 17, fullReadAt: 950, records: [record, removed] },
};

/** What a resumed invocation gets back: INFO without its connected-replica list (see handover.ts). */
const resumedEntry: MasterHandover = {
  ...entry,
  monitor: {
    master: entry.monitor.master,
    replicas: [
      {
        ...(entry.monitor.replicas[0] as (typeof entry.monitor.replicas)[number]),
        info: { ...info, connectedReplicas: [] },
      },
    ],
  },
};
const resumed: HandoverState = {
  ...state,
  masters: new Map([
    ['mymaster', resumedEntry],
    ['older', { ...resumedEntry, origin: null }],
  ]),
};

const V = HANDOVER_STATE_VERSION;

/** Stored JSON, as free to change as the table it comes from. */
// biome-ignore lint/suspicious/noExplicitAny: the cases below change the stored JSON at any depth
type StoredJson = Record<string, any>;

/** The stored JSON of the state above, with `change` applied to it. */
function storedWith(change: (stored: StoredJson) => void): string {
  const stored = JSON.parse(serializeHandoverState(state));
  change(stored);
  return JSON.stringify(stored);
}

function rejection(text: string) {
  const parsed = parseHandoverState(text);
  if (parsed.ok) throw new Error('the state was accepted');
  return parsed.rejection;
}

describe('parseHandoverState', () => {
  it('gives back what was saved, every field of every part but the connected-replica lists of INFO', () => {
    const parsed = parseHandoverState(serializeHandoverState(state));
    expect(parsed).toEqual({ ok: true, state: resumed });
    expect(JSON.parse(serializeHandoverState(state)).version).toBe(HANDOVER_STATE_VERSION);
    const none = { ...state, records: null };
    expect(parseHandoverState(serializeHandoverState(none))).toEqual({
      ok: true,
      state: { ...resumed, records: null },
    });
  });

  it('stores observation and memory times relative to savedAt, and whole again when read', () => {
    const stored = JSON.parse(serializeHandoverState(state));
    const master = stored.masters.mymaster;
    expect(master.monitor.master.observingSince).toBe(100 - 1_000);
    expect(master.monitor.master.lastReplyAt).toBe(500 - 1_000);
    expect(master.monitor.master.lastPingSettledAt).toBeNull();
    expect(master.monitor.replicas[0].infoAt).toBe(700 - 1_000);
    expect(master.memory).toMatchObject({
      sdownSince: -100,
      replicaSdownSince: { '10.0.0.2:6379': -50 },
      voteWritten: { down: true, observedAt: -10, writtenAt: -9 },
      leading: { epoch: 3, leaseUntil: 5_000 },
      knownEpoch: 3,
      reconfiguredAt: { '10.0.0.2:6379': -200 },
    });
    // Records keep their own times: they are the store's, not this invocation's.
    expect(stored.records.records[0].updatedAt).toBe(500);
    // Moved to another base, every time moves with it (this is how a state is planted "just now").
    const parsed = parseHandoverState(JSON.stringify({ ...stored, savedAt: 5_000 }));
    if (!parsed.ok) throw new Error(parsed.rejection.reason);
    expect(parsed.state.masters.get('mymaster')?.monitor.master.lastReplyAt).toBe(4_500);
    expect(parsed.state.masters.get('mymaster')?.memory.voteWritten).toEqual({
      down: true,
      observedAt: 4_990,
      writtenAt: 4_991,
    });
  });

  it('leaves out reconfiguration times that no longer hold anything back', () => {
    const old = new Map([
      [
        'mymaster',
        {
          ...entry,
          memory: { ...memory, reconfiguredAt: { '10.0.0.2:6379': 800, '10.0.0.3:6379': -8_000 } },
        },
      ],
    ]);
    const parsed = parseHandoverState(serializeHandoverState({ ...state, masters: old }));
    if (!parsed.ok) throw new Error(parsed.rejection.reason);
    expect(parsed.state.masters.get('mymaster')?.memory.reconfiguredAt).toEqual({ '10.0.0.2:6379': 800 });
  });

  it('refuses a version-1 state (no origins): it cannot say which incarnation its observations are of', () => {
    const v1 = storedWith((s) => {
      s.version = 1;
      for (const part of Object.values(s.masters) as StoredJson[]) delete part.origin;
    });
    expect(rejection(v1)).toEqual({
      kind: 'version',
      reason: `version 1 is older than this sentinel's (${HANDOVER_STATE_VERSION})`,
    });
  });

  it('refuses text that is not JSON, without quoting it', () => {
    const r = rejection('{"version":1,"savedAt":12, s3cret-looking-text');
    expect(r).toEqual({ kind: 'unparsable', reason: 'not valid JSON' });
  });

  it.each([
    ['no version', '{}', 'version', /^no version number/],
    ['a bare version', `{"version":${V}}`, 'invalid', /^savedAt: missing$/],
    ['an older version', storedWith((s) => (s.version = 0)), 'version', /^version 0 is older/],
    ['a newer version', storedWith((s) => (s.version = V + 1)), 'version', /^version \d+ is newer/],
    ['a version as a string', storedWith((s) => (s.version = String(V))), 'version', /^no version number/],
    ['an array', '[1]', 'invalid', /^expected an object, got an array$/],
    ['null', 'null', 'invalid', /^expected an object, got null$/],
  ])('refuses %s', (_what, text, kind, reason) => {
    const r = rejection(text);
    expect(r.kind).toBe(kind);
    expect(r.reason).toMatch(reason);
  });

  it.each<[string, (s: StoredJson) => void, string]>([
    ['savedAt as a string', (s) => (s.savedAt = '1000'), 'savedAt: expected a finite number, got a string'],
    ['TILT missing', (s) => delete s.tilt, 'tilt: missing'],
    ['inTilt as a string', (s) => (s.tilt.inTilt = 'no'), 'tilt.inTilt: expected a boolean, got a string'],
    ['masters as a list', (s) => (s.masters = []), 'masters: expected an object, got an array'],
    [
      'memory missing fields',
      (s) => (s.masters.mymaster.memory = { sdownSince: null }),
      'masters["mymaster"].memory.odownSince: missing',
    ],
    ['memory missing', (s) => delete s.masters.mymaster.memory, 'masters["mymaster"].memory: missing'],
    ['origin missing', (s) => delete s.masters.mymaster.origin, 'masters["mymaster"].origin: missing'],
    [
      'an origin of an unknown source',
      (s) => (s.masters.mymaster.origin.source = 'file'),
      'masters["mymaster"].origin.source: expected one of config, monitor, got a string',
    ],
    [
      'an origin port as a string',
      (s) => (s.masters.mymaster.origin.port = '6379'),
      'masters["mymaster"].origin.port: expected a TCP port, got a string',
    ],
    [
      'a vote flag as a string',
      (s) => (s.masters.mymaster.memory.voteWritten.down = 'true'),
      'masters["mymaster"].memory.voteWritten.down: expected a boolean, got a string',
    ],
    [
      'a replica SDOWN time as null',
      (s) => (s.masters.mymaster.memory.replicaSdownSince['10.0.0.2:6379'] = null),
      'masters["mymaster"].memory.replicaSdownSince["10.0.0.2:6379"]: expected a finite number, got null',
    ],
    [
      'a fractional epoch',
      (s) => (s.masters.mymaster.memory.knownLeader.epoch = 1.5),
      'masters["mymaster"].memory.knownLeader.epoch: expected a non-negative integer, got a number',
    ],
    [
      'a negative claimed epoch',
      (s) => (s.masters.mymaster.memory.claimedFrom = -1),
      'masters["mymaster"].memory.claimedFrom: expected a non-negative integer, got a number',
    ],
    [
      'a port out of range',
      (s) => (s.masters.mymaster.monitor.master.address.port = 70_000),
      'masters["mymaster"].monitor.master.address.port: expected a TCP port, got a number',
    ],
    [
      'an unknown role',
      (s) => (s.masters.mymaster.monitor.master.configuredRole = 'sentinel'),
      'masters["mymaster"].monitor.master.configuredRole: expected one of master, replica, got a string',
    ],
    [
      'replicas as a string',
      (s) => (s.masters.mymaster.monitor.replicas = 'x'),
      'masters["mymaster"].monitor.replicas: expected an array, got a string',
    ],
    [
      "a replica's INFO with a bad connected replica",
      (s) =>
        (s.masters.mymaster.monitor.replicas[0].info.connectedReplicas = [
          { host: 'h', port: 1, state: 'online', offset: 0, lag: '0' },
        ]),
      'masters["mymaster"].monitor.replicas[0].info.connectedReplicas[0].lag: expected a finite number, got a string',
    ],
    ['records missing', (s) => delete s.records, 'records: missing'],
    [
      'a change counter that is not a count',
      (s) => (s.records.changeCounter = -1),
      'records.changeCounter: expected a non-negative integer, got a number',
    ],
    [
      'a record with an unknown failover state',
      (s) => (s.records.records[0].failoverState = 'exploding'),
      'records.records[0].failoverState: expected one of none, select_slave, send_slaveof_noone, wait_promotion, reconf_slaves, got a string',
    ],
    [
      'a record with a quorum as a string',
      (s) => (s.records.records[0].settings.quorum = '2'),
      'records.records[0].settings.quorum: expected a non-negative integer, got a string',
    ],
    [
      'a record renaming a command to a number',
      (s) => (s.records.records[0].settings.renamedCommands.config = 7),
      'records.records[0].settings.renamedCommands["config"]: expected a string, got a number',
    ],
    [
      'a record whose promoted replica has no port',
      (s) => delete s.records.records[0].failover.promoted.port,
      'records.records[0].failover.promoted.port: missing',
    ],
    [
      'a record without an origin field',
      (s) => delete s.records.records[1].origin,
      'records.records[1].origin: missing',
    ],
    [
      "a master's time as a string",
      (s) => (s.masters.mymaster.monitor.master.lastValidReplyAt = '2999-01-01'),
      'masters["mymaster"].monitor.master.lastValidReplyAt: expected a finite number, got a string',
    ],
    [
      'a bad entry for another master',
      (s) => (s.masters.other = { monitor: null, memory: {} }),
      'masters["other"].monitor: expected an object, got null',
    ],
  ])('refuses a state with %s, naming the field', (_what, change, reason) => {
    expect(rejection(storedWith(change))).toEqual({ kind: 'invalid', reason });
  });

  it('never puts a stored value in the reason, and cuts a long stored key short', () => {
    const secret = 'hunter2-in-the-state';
    const longName = 'n'.repeat(5_000);
    const r = rejection(
      storedWith((s) => {
        s.masters[longName] = { monitor: secret, memory: secret };
      }),
    );
    expect(r.reason).not.toContain(secret);
    expect(r.reason.length).toBeLessThan(200);
    expect(r.reason).toMatch(/^masters\["n{40}…"\]\.monitor: expected an object, got a string$/);
  });

  it('drops fields it does not know, and keeps names such as __proto__ and constructor as plain keys', () => {
    const parsed = parseHandoverState(
      storedWith((s) => {
        s.extra = 'ignored';
        s.masters.mymaster.memory.extra = 'ignored';
        s.masters.constructor = s.masters.mymaster;
        // As JSON.parse makes it: an own key, not the prototype.
        Object.defineProperty(s.masters, '__proto__', { value: s.masters.mymaster, enumerable: true });
      }),
    );
    if (!parsed.ok) throw new Error(parsed.rejection.reason);
    expect(parsed.state.masters.get('mymaster')).toEqual(resumedEntry);
    expect(parsed.state.masters.get('constructor')).toEqual(resumedEntry);
    expect(parsed.state.masters.get('__proto__')).toEqual(resumedEntry);
    expect(parsed.state.masters.get('toString')).toBeUndefined();
    expect(Object.keys(parsed.state)).toEqual(['savedAt', 'tilt', 'masters', 'records']);
    expect(parsed.state.masters.get('mymaster')?.memory).not.toHaveProperty('extra');
  });

  it('keeps only the run-time settings a record has: an absent one means "as configured"', () => {
    const parsed = parseHandoverState(
      storedWith((s) => {
        s.records.records[0].settings = { parallelSyncs: 2, unknown: 'dropped' };
      }),
    );
    if (!parsed.ok) throw new Error(parsed.rejection.reason);
    const settings = parsed.state.records?.records[0]?.settings;
    expect(settings).toEqual({ parallelSyncs: 2 });
    expect(Object.keys(settings ?? {})).toEqual(['parallelSyncs']);
  });
});
