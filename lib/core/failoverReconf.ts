/**
 * reconf_slaves, Sentinel's last failover state: the promoted replica is the master (the address has
 * switched), and every other replica is told to follow it, at most parallel-syncs at a time. Each told
 * replica goes RECONF_SENT → INPROG (it follows the promoted one) → DONE (its link is up), or is done
 * when the reconfiguration timeout passes without a confirmation, or at once if it cannot be reached
 * (the reconciliation re-points it when it returns). Once failover-timeout has passed, every replica not
 * done is told once, without waiting ("best effort"), and the failover ends.
 *
 * The work goes in rounds, each one request at a time (lib/core/failover.ts): a round checks the told
 * replicas, tells more, records the replicas' progress if it changed, then pauses. A round that leaves
 * every replica done ends the failover.
 */
import { SENTINEL_DEFAULTS } from './constants.js';
import { makeEvent } from './events.js';
import type {
  FailoverAnswer,
  FailoverMemory,
  FailoverStep,
  MemoryOf,
  ReconfRound,
  Recorded,
  StepOutput,
} from './failoverStep.js';
import type { ReplicaReconf } from './types.js';

type Reconfiguring = Recorded<'reconf_slaves'>;

/** reconf_slaves: one step of the current round, or the start of the next. */
export function stepReconfigure(
  out: StepOutput,
  failover: Reconfiguring,
  memory: MemoryOf<'reconf_slaves'>,
): FailoverStep {
  const { answer } = out;
  const { progress } = failover;
  if (memory?.stage === 'entered' && answer.type === 'recorded') {
    const { oldMaster: old, promoted } = progress;
    out.log('info', 'promotion committed: the master address is switched', {
      promoted,
      configEpoch: out.input.record.configEpoch,
    });
    // Announced as soon as lookups answer the new master, before any replica is re-pointed: a client
    // told of the switch moves to the new master before the old one (re-pointed here when it still runs,
    // in a forced failover) drops its connections. Sentinel announces it only at the end, and demotes a
    // running old master later still.
    const switched = `${out.settings.name} ${old.host} ${old.port} ${promoted.host} ${promoted.port}`;
    out.emit(makeEvent('+switch-master', switched, out.settings.name, out.now));
    out.announce('+failover-state-reconf-slaves', { kind: 'master', address: old });
    return out.ask({ type: 'continue' }, null);
  }
  if (memory?.stage === 'recorded' && answer.type === 'recorded') {
    return out.ask({ type: 'pause', ms: SENTINEL_DEFAULTS.failoverPollMs }, null);
  }
  if (memory?.stage === 'round') {
    const next = answered(out, failover, memory.round, answer);
    if (next !== null) return continueRound(out, failover, next, memory.round.waitingFor + 1);
  }
  // A new round.
  const round = { startedAt: out.now, replicas: progress.replicas };
  if (out.timedOut(failover)) {
    out.announce('+failover-end-for-timeout', { kind: 'master', address: progress.oldMaster });
    return continueRound(out, failover, { ...round, phase: 'best-effort' }, 0);
  }
  return continueRound(out, failover, { ...round, phase: 'observe' }, 0);
}

/** A round between two requests. */
type RoundSoFar = Omit<ReconfRound, 'waitingFor'>;

/** The round with the answer about the replica it waited for; null if the answer is not about it. */
function answered(
  out: StepOutput,
  failover: Reconfiguring,
  round: ReconfRound,
  answer: FailoverAnswer,
): RoundSoFar | null {
  const i = round.waitingFor;
  const replica = round.replicas[i];
  if (replica === undefined) return null;
  const replicas = [...round.replicas];
  let updated = replica;
  const update = (change: Partial<ReplicaReconf>) => {
    updated = { ...updated, ...change };
    replicas[i] = updated;
  };
  const { promoted } = failover.progress;
  if (round.phase === 'observe') {
    if (answer.type !== 'info') return null;
    if (answer.result.type !== 'info') return round;
    const info = answer.result.info;
    const follows =
      info.role === 'replica' && info.masterHost === promoted.host && info.masterPort === promoted.port;
    if (replica.state === 'sent' && follows) {
      out.announce('+slave-reconf-inprog', { kind: 'slave', address: replica });
      update({ state: 'inprog' });
    }
    if (follows && info.masterLinkUp) {
      out.announce('+slave-reconf-done', { kind: 'slave', address: replica });
      update({ state: 'done' });
    }
    return { ...round, replicas };
  }
  if (answer.type !== 'reply') return null;
  if (round.phase === 'best-effort') {
    // Whatever the reply: Sentinel sends these once and does not wait for them.
    out.announce('+slave-reconf-sent-be', { kind: 'slave', address: replica });
    update({ state: 'done', note: 'best effort after failover-timeout' });
  } else if (answer.reply.ok) {
    out.announce('+slave-reconf-sent', { kind: 'slave', address: replica });
    update({ state: 'sent', sentAt: out.now });
  } else {
    // Sentinel skips replicas that are down; the reconciliation re-points them when they return.
    update({ state: 'done', note: `unreachable (${answer.reply.reason}); re-pointed when it returns` });
  }
  return { ...round, replicas };
}

/** Goes on with the round from replica `from`, up to its next request. */
function continueRound(
  out: StepOutput,
  failover: Reconfiguring,
  round: RoundSoFar,
  from: number,
): FailoverStep {
  const replicas = [...round.replicas];
  const { promoted } = failover.progress;
  const waitFor = (phase: ReconfRound['phase'], i: number, replica: ReplicaReconf): FailoverStep => {
    const memory: FailoverMemory = {
      state: 'reconf_slaves',
      stage: 'round',
      round: { phase, startedAt: round.startedAt, replicas, waitingFor: i },
    };
    const target = { host: replica.host, port: replica.port };
    return phase === 'observe'
      ? out.ask({ type: 'info', address: target }, memory)
      : out.ask({ type: 'send', command: { type: 'replicate', target, master: promoted } }, memory);
  };

  if (round.phase === 'best-effort') {
    for (const [i, replica] of replicas.entries()) {
      if (i >= from && replica.state !== 'done') return waitFor('best-effort', i, replica);
    }
    return finish(out, failover, replicas);
  }

  let tellFrom = from;
  if (round.phase === 'observe') {
    // The replicas told so far: timed out, or INFO shows how far they are.
    for (const [i, replica] of replicas.entries()) {
      if (i < from || (replica.state !== 'sent' && replica.state !== 'inprog')) continue;
      if (
        replica.state === 'sent' &&
        replica.sentAt !== null &&
        round.startedAt - replica.sentAt > SENTINEL_DEFAULTS.replicaReconfTimeoutMs
      ) {
        out.announce('-slave-reconf-sent-timeout', { kind: 'slave', address: replica });
        replicas[i] = {
          ...replica,
          state: 'done',
          note: 'no confirmation within the reconfiguration timeout',
        };
        continue;
      }
      return waitFor('observe', i, replica);
    }
    tellFrom = 0;
  }

  // Tell more replicas, while fewer than parallel-syncs are in flight.
  for (const [i, replica] of replicas.entries()) {
    if (inFlight(replicas) >= out.settings.parallelSyncs) break;
    if (i >= tellFrom && replica.state === 'pending') return waitFor('tell', i, replica);
  }

  if (replicas.every((r) => r.state === 'done')) return finish(out, failover, replicas);
  if (!sameReplicas(replicas, failover.progress.replicas)) {
    return out.record(
      failover,
      'reconf_slaves',
      { ...failover.progress, replicas },
      { state: 'reconf_slaves', stage: 'recorded' },
    );
  }
  return out.ask({ type: 'pause', ms: SENTINEL_DEFAULTS.failoverPollMs }, null);
}

/** The replicas told and not done yet: the ones parallel-syncs counts. */
function inFlight(replicas: readonly ReplicaReconf[]): number {
  return replicas.filter((r) => r.state === 'sent' || r.state === 'inprog').length;
}

/** The failover's last write; +failover-end follows it. */
function finish(out: StepOutput, failover: Reconfiguring, replicas: readonly ReplicaReconf[]): FailoverStep {
  const { progress } = failover;
  return out.end(
    failover,
    { ...progress, replicas },
    { state: 'none', stage: 'completed', oldMaster: progress.oldMaster },
  );
}

function sameReplicas(a: readonly ReplicaReconf[], b: readonly ReplicaReconf[]): boolean {
  return (
    a.length === b.length &&
    a.every((x, i) => {
      const y = b[i];
      return (
        y !== undefined &&
        x.host === y.host &&
        x.port === y.port &&
        x.state === y.state &&
        x.sentAt === y.sentAt &&
        x.note === y.note
      );
    })
  );
}
