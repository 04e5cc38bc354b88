/**
 * The failover as a pure state machine: Sentinel's failover states, stepped by the runner of the
 * epoch's leader (lib/runtime/failover.ts). Everything a step knows is in its input: the master record
 * with the recorded progress, what the runner carried from the step before (memory), the answer to that
 * step's request, the settings and the time. Everything it wants done is in its output: ONE request
 * (look at the view, an INFO, a command to Redis, a write of the record, a pause…), the events to emit
 * and the lines to log (lib/core/failoverStep.ts).
 *
 * One request at a time, because each depends on the answer to the one before: a promotion seen in INFO
 * ends the wait, a replica that refuses REPLICAOF frees its parallel-syncs slot for the next one.
 *
 * Never two promoted replicas: the choice is recorded (the write that enters send_slaveof_noone) before
 * any command, and every REPLICAOF NO ONE or FAILOVER TO goes to the replica the record names. Whoever
 * resumes the failover continues from the recorded step with the same choice. The runner fences each
 * write with the epoch (the store's condition) and each command with its leader lease.
 *
 *   select_slave ─(choice recorded)→ send_slaveof_noone ─(REPLICAOF NO ONE answered OK: the address
 *   switches)→ reconf_slaves ─(every replica done, or failover-timeout)→ none
 *
 * A coordinated switchover (FAILOVER TO) passes through wait_promotion instead: the old master accepts
 * the command at once but hands over later, so INFO of the chosen replica is read until it says master.
 *
 *   send_slaveof_noone ─(FAILOVER TO accepted)→ wait_promotion ─(role master: the address switches)→
 *   reconf_slaves
 *
 * and back to none from the first three on an abort: the master answers again (select_slave), no
 * replica can be promoted, a coordinated switchover refused, or failover-timeout before the promotion.
 */
import { SENTINEL_DEFAULTS } from './constants.js';
import { addressKey } from './decide.js';
import { stepReconfigure } from './failoverReconf.js';
import {
  type FailoverCommand,
  type FailoverStep,
  type FailoverStepInput,
  type LeaderView,
  type MemoryOf,
  type Recorded,
  StepOutput,
} from './failoverStep.js';
import { newFailoverProgress } from './records.js';
import { infoValidityMs, type Selection, selectReplica } from './selection.js';
import type {
  Address,
  FailoverProgress,
  MasterRecord,
  MasterSettings,
  PromotionProgress,
  RecordedFailover,
} from './types.js';

/** A replica still not master this long after REPLICAOF NO ONE gets the transaction once more. */
export const RESEND_PROMOTION_AFTER_MS = 1_000;

/**
 * The failover the record holds, typed by its state; null when none is in progress. Throws on a record
 * no store writes (a promotion state without a promoted replica): nothing safe can be done with it.
 */
export function recordedFailover(record: MasterRecord): RecordedFailover | null {
  const { failoverState: state, failoverStartedAt: startedAt } = record;
  if (state === 'none') return null;
  if (state === 'select_slave') {
    const progress: FailoverProgress =
      record.failover ?? newFailoverProgress(record, { forced: false, coordinated: false });
    return { state, startedAt, progress };
  }
  const progress = record.failover;
  const promoted = progress?.promoted;
  if (!progress || !promoted) throw new Error(`failover state ${state} recorded without a promoted replica`);
  const chosen: PromotionProgress = { ...progress, promoted };
  return { state, startedAt, progress: chosen };
}

/** One step of the failover that `input.record` holds. */
export function stepFailover(input: FailoverStepInput): FailoverStep {
  const failover = recordedFailover(input.record);
  if (failover === null) return stepEnded(input);
  const out = new StepOutput(input, failover.progress.oldMaster);
  const { memory } = input;
  switch (failover.state) {
    case 'select_slave':
      return stepSelect(out, failover, memory?.state === failover.state ? memory : null);
    case 'send_slaveof_noone':
      return stepSendPromotion(out, failover, memory?.state === failover.state ? memory : null);
    case 'wait_promotion':
      return stepWaitPromotion(out, failover, memory?.state === failover.state ? memory : null);
    case 'reconf_slaves':
      return stepReconfigure(out, failover, memory?.state === failover.state ? memory : null);
  }
}

/**
 * select_slave: read the recorded replicas, then look at the leader's view; abort if the master answers
 * again (unless forced) or no replica qualifies; else record the choice with every replica to re-point.
 * The view comes last so that the choice and the write recording it start in one synchronous stretch of
 * the runner: the choice is made on what the leader observes at that moment.
 */
function stepSelect(
  out: StepOutput,
  failover: Recorded<'select_slave'>,
  memory: MemoryOf<'select_slave'>,
): FailoverStep {
  const { answer } = out;
  const { progress } = failover;
  if (memory?.stage === 'reading' && answer.type === 'replicas')
    return out.ask({ type: 'view' }, { state: 'select_slave', stage: 'looking', recorded: answer.addresses });
  if (memory?.stage !== 'looking' || answer.type !== 'view')
    return out.ask({ type: 'read-replicas' }, { state: 'select_slave', stage: 'reading' });
  const { view } = answer;
  if (!progress.forced && view.masterSdownSince === null) {
    out.log('info', 'the master answers again before any change: failover abandoned');
    return out.end(failover, progress, { state: 'none', stage: 'aborted' });
  }
  const choice = chooseReplica(progress, view, memory.recorded, out.settings, out.now);
  if (!choice.chosen) {
    out.announce('-failover-abort-no-good-slave', { kind: 'master', address: progress.oldMaster });
    out.log('warn', 'no replica can be promoted', { rejected: choice.rejected });
    return out.end(
      failover,
      { ...progress, rejected: choice.rejected },
      { state: 'none', stage: 'aborted' },
      { retryNotBefore: out.retryNotBeforeAfterAbort(failover) },
    );
  }
  return out.record(failover, 'send_slaveof_noone', choice.chosen, {
    state: 'send_slaveof_noone',
    stage: 'entered',
  });
}

/**
 * select_slave's choice on a view: the replica to promote, with every other known one (the view's, then
 * the store's `recorded`) to re-point; or none, with why each was rejected.
 */
function chooseReplica(
  progress: FailoverProgress,
  view: LeaderView,
  recorded: readonly Address[],
  settings: MasterSettings,
  now: number,
):
  | { readonly chosen: PromotionProgress }
  | { readonly chosen: null; readonly rejected: Selection['rejected'] } {
  const selection = selectReplica(view.replicas, { settings, masterSdownSince: view.masterSdownSince, now });
  if (!selection.chosen) return { chosen: null, rejected: selection.rejected };
  const promoted = selection.chosen.address;
  const others = replicasToRepoint(progress.oldMaster, promoted, [
    ...view.replicas.map((candidate) => candidate.observation.address),
    ...recorded,
  ]);
  // A forced failover leaves the old master running: it is re-pointed with the replicas.
  if (progress.forced) others.push(progress.oldMaster);
  return {
    chosen: {
      ...progress,
      promoted,
      rejected: selection.rejected,
      replicas: others.map((a) => ({
        host: a.host,
        port: a.port,
        state: 'pending',
        sentAt: null,
        note: null,
      })),
    },
  };
}

/**
 * The choice an epoch claim that starts an automatic failover records itself, so that the claim and the
 * choice are one conditional write instead of two in a row: select_slave's own choice, made on the
 * claimant's view as the claim is sent (the winner's view, since only the winner's write lands). Null
 * where select_slave must run after the claim instead:
 * - a forced failover (SENTINEL FAILOVER): its master may be up, and nothing waits on it;
 * - the master not down in this view, or a replica's INFO older than selection accepts while the link
 *   is up (select_slave waits for the INFO asked for at SDOWN; the claim does not);
 * - no replica qualifies: select_slave aborts with -failover-abort-no-good-slave, as Sentinel does.
 * Either way the choice is recorded before any command, and every command goes to the replica it names.
 */
export function choiceForClaim(
  progress: FailoverProgress,
  view: LeaderView,
  recorded: readonly Address[],
  settings: MasterSettings,
  now: number,
): PromotionProgress | null {
  if (progress.forced || view.masterSdownSince === null) return null;
  const validity = infoValidityMs(settings, true);
  const settled = view.replicas.every(
    ({ observation: o }) => !o.linkConnected || (o.infoAt !== null && now - o.infoAt <= validity),
  );
  if (!settled) return null;
  return chooseReplica(progress, view, recorded, settings, now).chosen;
}

/** Every replica known (the view's, then the store's), except the promoted one and the old master. */
function replicasToRepoint(oldMaster: Address, promoted: Address, known: readonly Address[]): Address[] {
  const addresses = new Map<string, Address>();
  for (const a of known) addresses.set(addressKey(a), { host: a.host, port: a.port });
  addresses.delete(addressKey(promoted));
  addresses.delete(addressKey(oldMaster));
  return [...addresses.values()];
}

/** send_slaveof_noone: REPLICAOF NO ONE (or FAILOVER TO) until accepted, or failover-timeout. */
function stepSendPromotion(
  out: StepOutput,
  failover: Recorded<'send_slaveof_noone'>,
  memory: MemoryOf<'send_slaveof_noone'>,
): FailoverStep {
  const { answer } = out;
  const { progress } = failover;
  const { promoted } = progress;
  if (memory?.stage === 'entered' && answer.type === 'recorded') {
    out.log('info', 'replica selected', { promoted, rejected: progress.rejected });
    out.announce('+selected-slave', { kind: 'slave', address: promoted });
    out.announce('+failover-state-send-slaveof-noone', { kind: 'slave', address: promoted });
    return out.ask({ type: 'continue' }, null);
  }
  if (memory?.stage === 'sent' && answer.type === 'reply') {
    const { reply } = answer;
    if (reply.ok && !progress.coordinated) {
      // REPLICAOF NO ONE answered OK inside the transaction: Redis drops its master before it replies,
      // so the replica is a master from this reply on. Waiting for an INFO to say so again would only
      // delay the switch (Sentinel waits because it never reads its commands' replies).
      out.announce('+failover-state-wait-promotion', { kind: 'slave', address: promoted });
      out.announce('+promoted-slave', { kind: 'slave', address: promoted });
      // Lookups switch with this write: get-master-addr-by-name answers the promoted replica from now on.
      return out.record(
        failover,
        'reconf_slaves',
        { ...progress, promotionSentAt: out.now },
        { state: 'reconf_slaves', stage: 'entered' },
        { switchTo: promoted },
      );
    }
    if (reply.ok) {
      // FAILOVER TO was accepted: the old master hands over once the replica caught up, later.
      return out.record(
        failover,
        'wait_promotion',
        { ...progress, promotionSentAt: out.now },
        { state: 'wait_promotion', stage: 'entered', resent: false },
      );
    }
    if (progress.coordinated) {
      // The old master refused the handover (older than 6.2, replica not linked, …): nothing changed.
      out.log('warn', 'coordinated switchover refused; nothing was changed', {
        promoted,
        reason: reply.reason,
      });
      return out.end(failover, progress, { state: 'none', stage: 'aborted' });
    }
    out.log('warn', 'REPLICAOF NO ONE not accepted yet', { promoted, reason: reply.reason });
    if (out.timedOut(failover)) return out.abortForTimeout(failover);
    return out.ask({ type: 'pause', ms: SENTINEL_DEFAULTS.failoverPollMs }, null);
  }
  const command: FailoverCommand = progress.coordinated
    ? {
        type: 'hand-over',
        master: progress.oldMaster,
        target: promoted,
        // FAILOVER … TIMEOUT takes whole milliseconds: Redis refuses 90000.5 with 'value is not an integer'.
        timeoutMs: Math.floor(out.settings.failoverTimeoutMs / 2),
      }
    : { type: 'promote', target: promoted };
  return out.ask({ type: 'send', command }, { state: 'send_slaveof_noone', stage: 'sent' });
}

/**
 * wait_promotion (a coordinated switchover, or a failover resumed from that recorded state): INFO of the
 * promoted replica until it reports role master (then the address switches), or failover-timeout after
 * the command. A replica still not master RESEND_PROMOTION_AFTER_MS after the
 * command gets it once more.
 */
function stepWaitPromotion(
  out: StepOutput,
  failover: Recorded<'wait_promotion'>,
  memory: MemoryOf<'wait_promotion'>,
): FailoverStep {
  const { answer } = out;
  const { progress } = failover;
  const { promoted } = progress;
  const resent = memory?.resent ?? false;
  if (memory?.stage === 'entered' && answer.type === 'recorded') {
    out.announce('+failover-state-wait-promotion', { kind: 'slave', address: promoted });
    return out.ask({ type: 'continue' }, null);
  }
  if (memory?.stage === 'probing' && answer.type === 'info') {
    const { result } = answer;
    if (result.type === 'info' && result.info.role === 'master') {
      out.announce('+promoted-slave', { kind: 'slave', address: promoted });
      // Lookups switch with this write: get-master-addr-by-name answers the promoted replica from now on.
      return out.record(
        failover,
        'reconf_slaves',
        progress,
        { state: 'reconf_slaves', stage: 'entered' },
        { switchTo: promoted },
      );
    }
    const sentFor = progress.promotionSentAt === null ? 0 : out.now - progress.promotionSentAt;
    // Never for a coordinated switchover: the old master is handing over and must not be overtaken.
    if (result.type === 'info' && !progress.coordinated && !resent && sentFor > RESEND_PROMOTION_AFTER_MS) {
      // Still a replica well after the transaction: it may have been lost with a runner that died.
      // Sending it again to the same recorded replica is idempotent.
      return out.ask(
        { type: 'send', command: { type: 'promote', target: promoted } },
        { state: 'wait_promotion', stage: 'resending', resent: true },
      );
    }
    return waitOrAbort(out, failover, resent);
  }
  if (memory?.stage === 'resending' && answer.type === 'reply') return waitOrAbort(out, failover, resent);
  return out.ask({ type: 'info', address: promoted }, { state: 'wait_promotion', stage: 'probing', resent });
}

/** The promotion is waited for until failover-timeout after the command was sent. */
function waitOrAbort(out: StepOutput, failover: Recorded<'wait_promotion'>, resent: boolean): FailoverStep {
  const since = failover.progress.promotionSentAt ?? failover.startedAt ?? out.now;
  if (out.now - since > out.settings.failoverTimeoutMs) return out.abortForTimeout(failover);
  return out.ask(
    { type: 'pause', ms: SENTINEL_DEFAULTS.failoverPollMs },
    { state: 'wait_promotion', stage: 'probe', resent },
  );
}

/**
 * No failover in the record: the runner ends, after what follows its own last write. A runner that finds
 * no failover in progress (it ended meanwhile) has nothing left to do: 'completed'.
 */
function stepEnded(input: FailoverStepInput): FailoverStep {
  const { memory, answer, now } = input;
  if (memory?.state === 'none' && memory.stage === 'completed' && answer.type === 'recorded') {
    const { oldMaster: old } = memory;
    const out = new StepOutput(input, old);
    // +switch-master went out with the switch, before any replica (the old master too) was re-pointed.
    out.announce('+failover-end', { kind: 'master', address: old });
    // The old master is now one of the replicas: converted when it comes back (+convert-to-slave).
    return out.ask({ type: 'remember-replica', address: old, at: now }, { ...memory, stage: 'remembered' });
  }
  const out = new StepOutput(input, { host: input.record.host, port: input.record.port });
  const outcome = memory?.state === 'none' && memory.stage === 'aborted' ? 'aborted' : 'completed';
  return out.ask({ type: 'end', outcome }, memory);
}
