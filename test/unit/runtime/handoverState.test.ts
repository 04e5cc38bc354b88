import { describe, expect, it } from 'vitest';
import { INITIAL_MEMORY, type MasterMemory } from '../../../lib/core/decide.js';
import { newObservation } from '../../../lib/core/observation.js';
import { INITIAL_TILT } from '../../../lib/core/tilt.js';
import type { ReplicationInfo } from '../../../lib/core/types.js';
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

const state: HandoverState = {
  savedAt: 1_000,
  tilt: { ...INITIAL_TILT, lastTimerAt: 999 },
  masters: new Map([
    ['mymaster', entry],
    ['older', unknownOrigin],
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
  it('gives back exactly what was saved, every field of every part', () => {
    const parsed = parseHandoverState(serializeHandoverState(state));
    expect(parsed).toEqual({ ok: true, state });
    expect(JSON.parse(serializeHandoverState(state)).version).toBe(HANDOVER_STATE_VERSION);
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
      (s) => (s.masters.mymaster.monitor.replicas[0].info.connectedReplicas[0].lag = '0'),
      'masters["mymaster"].monitor.replicas[0].info.connectedReplicas[0].lag: expected a finite number, got a string',
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
    expect(parsed.state.masters.get('mymaster')).toEqual(entry);
    expect(parsed.state.masters.get('constructor')).toEqual(entry);
    expect(parsed.state.masters.get('__proto__')).toEqual(entry);
    expect(parsed.state.masters.get('toString')).toBeUndefined();
    expect(Object.keys(parsed.state)).toEqual(['savedAt', 'tilt', 'masters']);
    expect(parsed.state.masters.get('mymaster')?.memory).not.toHaveProperty('extra');
  });
});
