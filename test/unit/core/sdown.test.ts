import { describe, expect, it } from 'vitest';
import { applyInfoOutcome, applyPingOutcome, newObservation } from '../../../lib/core/observation.js';
import { nextSdownDeadline, sdownCause } from '../../../lib/core/sdown.js';
import type { PingResult, ReplicationInfo } from '../../../lib/core/types.js';

const address = { host: '127.0.0.1', port: 6379 };
const timings = { downAfterMs: 1000, infoPeriodMs: 10_000, masterRebootDownAfterPeriodMs: 0 };

function ping(obs: ReturnType<typeof newObservation>, sentAt: number, result: PingResult, took = 1) {
  return applyPingOutcome(obs, { sentAt, completedAt: sentAt + took, result });
}
const pong: PingResult = { type: 'reply', kind: 'pong', text: 'PONG' };

function info(overrides: Partial<ReplicationInfo> = {}): ReplicationInfo {
  return {
    runId: 'a'.repeat(40),
    role: 'master',
    loading: false,
    masterHost: null,
    masterPort: null,
    masterLinkUp: false,
    masterLinkDownSinceMs: 0,
    replicaPriority: null,
    replicaOffset: null,
    replicaAnnounced: true,
    masterReplOffset: 100,
    connectedReplicas: [],
    redisVersion: '7.0.15',
    ...overrides,
  };
}

describe('Function: sdownCause', () => {
  it('is not down while PINGs get PONG', () => {
    let obs = newObservation(address, 'master', 0);
    for (let t = 0; t < 5000; t += 1000) obs = ping(obs, t, pong);
    expect(sdownCause(obs, timings, 5000)).toBeNull();
  });

  it('times a killed instance from the first PING that could not be delivered', () => {
    let obs = ping(newObservation(address, 'master', 0), 0, pong); // valid reply at 1
    obs = ping(obs, 600, { type: 'unreachable', reason: 'ECONNREFUSED' }, 0);
    obs = ping(obs, 1600, { type: 'unreachable', reason: 'ECONNREFUSED' }, 0);
    expect(sdownCause(obs, timings, 1600)).toBeNull();
    expect(sdownCause(obs, timings, 1601)).toEqual({ rule: 'no-valid-reply', elapsedMs: 1001 });
    expect(nextSdownDeadline(obs, timings.downAfterMs)).toBe(1601);
  });

  it('does not call a refused connection down at once just because the last PONG is older than down-after', () => {
    let obs = ping(newObservation(address, 'master', 0), 0, pong);
    // A restart blip: the PING at 1000 is refused, the one at 1300 answered.
    obs = ping(obs, 1000, { type: 'unreachable', reason: 'ECONNREFUSED' }, 0);
    expect(sdownCause(obs, timings, 1001)).toBeNull();
    obs = ping(obs, 1300, pong);
    expect(sdownCause(obs, timings, 2500)).toBeNull();
  });

  it('times an instance never reached since the observation began from the start of the observation', () => {
    const obs = newObservation(address, 'master', 5000);
    expect(sdownCause(obs, timings, 6000)).toBeNull();
    expect(sdownCause(obs, timings, 6001)?.rule).toBe('no-valid-reply');
  });

  it('times a frozen instance from the oldest unanswered PING, so a pause shorter than down-after is not down', () => {
    let obs = ping(newObservation(address, 'master', 0), 0, pong);
    // Frozen at 500: the PING sent at 1000 times out, and so does the one at 2000.
    obs = ping(obs, 1000, { type: 'timeout' }, 300);
    expect(sdownCause(obs, timings, 1900)).toBeNull();
    obs = ping(obs, 2000, { type: 'timeout' }, 300);
    // The timer runs from 1000, not from the latest PING.
    expect(sdownCause(obs, timings, 2001)).toEqual({ rule: 'no-valid-reply', elapsedMs: 1001 });
    obs = ping(obs, 2100, pong);
    expect(sdownCause(obs, timings, 2200)).toBeNull();
  });

  it('counts LOADING and MASTERDOWN as valid replies, and MISCONF or NOAUTH as no reply', () => {
    for (const kind of ['loading', 'masterdown'] as const) {
      let obs = newObservation(address, 'master', 0);
      for (let t = 0; t <= 3000; t += 500)
        obs = ping(obs, t, { type: 'reply', kind, text: kind.toUpperCase() });
      expect(sdownCause(obs, timings, 3100)).toBeNull();
    }
    let obs = ping(newObservation(address, 'master', 0), 0, pong);
    for (let t = 500; t <= 2000; t += 500)
      obs = ping(obs, t, { type: 'reply', kind: 'error', text: 'NOAUTH' });
    expect(sdownCause(obs, timings, 2000)?.rule).toBe('no-valid-reply');
    expect(obs.linkConnected).toBe(true);
  });

  it('declares a configured master that reports role slave down after down-after plus two INFO periods', () => {
    let obs = ping(newObservation(address, 'master', 0), 0, pong);
    obs = applyInfoOutcome(
      obs,
      { sentAt: 10, completedAt: 10, result: { type: 'info', info: info() } },
      0,
    ).observation;
    obs = applyInfoOutcome(
      obs,
      { sentAt: 100, completedAt: 100, result: { type: 'info', info: info({ role: 'replica' }) } },
      0,
    ).observation;
    const limit = 100 + timings.downAfterMs + 2 * timings.infoPeriodMs;
    obs = ping(obs, limit - 10, pong);
    expect(sdownCause(obs, timings, limit)).toBeNull();
    expect(sdownCause(obs, timings, limit + 1)?.rule).toBe('master-reports-replica');
  });

  it('applies master-reboot-down-after-period: a restarted master answering LOADING is down after the period, PONG clears it', () => {
    const rebootTimings = { ...timings, masterRebootDownAfterPeriodMs: 5000 };
    let obs = ping(newObservation(address, 'master', 0), 0, pong);
    obs = applyInfoOutcome(
      obs,
      { sentAt: 0, completedAt: 0, result: { type: 'info', info: info() } },
      5000,
    ).observation;
    const change = applyInfoOutcome(
      obs,
      { sentAt: 1000, completedAt: 1000, result: { type: 'info', info: info({ runId: 'b'.repeat(40) }) } },
      5000,
    );
    expect(change.rebooted).toBe(true);
    obs = change.observation;
    for (let t = 1000; t <= 6500; t += 500) {
      obs = ping(obs, t, { type: 'reply', kind: 'loading', text: 'LOADING' });
    }
    expect(sdownCause(obs, rebootTimings, 6000)).toBeNull();
    expect(sdownCause(obs, rebootTimings, 6001)?.rule).toBe('master-reboot');
    obs = ping(obs, 6600, pong);
    expect(sdownCause(obs, rebootTimings, 6700)).toBeNull();
  });

  it('ignores a reboot when master-reboot-down-after-period is 0 (the default)', () => {
    let obs = applyInfoOutcome(
      newObservation(address, 'master', 0),
      { sentAt: 0, completedAt: 0, result: { type: 'info', info: info() } },
      0,
    ).observation;
    obs = applyInfoOutcome(
      obs,
      { sentAt: 10, completedAt: 10, result: { type: 'info', info: info({ runId: 'c'.repeat(40) }) } },
      0,
    ).observation;
    expect(obs.rebootSince).toBeNull();
  });
});
