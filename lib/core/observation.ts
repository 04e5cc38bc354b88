/**
 * What one sentinel has observed of one Redis instance, and how each probe result changes it.
 * Pure reducers: the runtime feeds them probe outcomes in the order they complete.
 *
 * The timing model is Sentinel's (§1.3): the down timer runs from the oldest PING still without a valid
 * reply. A PING that could not even be delivered (connection refused or reset) starts the timer too, as
 * in Sentinel, which queues a PING on the reconnecting link: so only a *continuous* down-after without a
 * valid reply makes an instance down — a blip just after a long quiet period does not. An invalid reply
 * (MISCONF, NOAUTH, unknown command…) keeps the timer running.
 */
import type { Address, InfoOutcome, PingOutcome, ReplicationInfo } from './types.js';

export type ConfiguredRole = 'master' | 'replica';

export interface InstanceObservation {
  readonly address: Address;
  readonly configuredRole: ConfiguredRole;
  /** Start of the continuous observation window (probing has run without a gap since then). */
  readonly observingSince: number;
  readonly linkConnected: boolean;
  /** Last PONG/LOADING/MASTERDOWN; starts at observingSince like Sentinel's link creation time. */
  readonly lastValidReplyAt: number;
  /** Any reply, valid or not. */
  readonly lastReplyAt: number | null;
  readonly oldestUnansweredPingAt: number | null;
  /** When the last PING attempt settled (whatever its result): proves the observation is current. */
  readonly lastPingSettledAt: number | null;
  readonly lastPingText: string | null;
  readonly info: ReplicationInfo | null;
  readonly infoAt: number | null;
  readonly runId: string | null;
  readonly reportedRole: ConfiguredRole | null;
  readonly reportedRoleSince: number | null;
  /** Since when a replica has reported following its current master_host:master_port. */
  readonly reportedMasterSince: number | null;
  /** Set when a master's run_id changes while master-reboot-down-after-period is on; cleared by a PONG. */
  readonly rebootSince: number | null;
}

export function newObservation(
  address: Address,
  configuredRole: ConfiguredRole,
  now: number,
): InstanceObservation {
  return {
    address,
    configuredRole,
    observingSince: now,
    linkConnected: false,
    lastValidReplyAt: now,
    lastReplyAt: null,
    oldestUnansweredPingAt: null,
    lastPingSettledAt: null,
    lastPingText: null,
    info: null,
    infoAt: null,
    runId: null,
    reportedRole: null,
    reportedRoleSince: null,
    reportedMasterSince: null,
    rebootSince: null,
  };
}

/** Milliseconds without a valid reply, by Sentinel's rule. */
export function elapsedWithoutValidReply(obs: InstanceObservation, now: number): number {
  if (obs.oldestUnansweredPingAt !== null) return now - obs.oldestUnansweredPingAt;
  if (!obs.linkConnected) return now - obs.lastValidReplyAt;
  return 0;
}

export function applyPingOutcome(obs: InstanceObservation, outcome: PingOutcome): InstanceObservation {
  const { result, sentAt, completedAt } = outcome;
  switch (result.type) {
    case 'reply': {
      const valid = result.kind === 'pong' || result.kind === 'loading' || result.kind === 'masterdown';
      if (valid) {
        return {
          ...obs,
          lastPingSettledAt: completedAt,
          linkConnected: true,
          lastReplyAt: completedAt,
          lastValidReplyAt: completedAt,
          oldestUnansweredPingAt: null,
          lastPingText: result.text,
          // Sentinel: only a PONG ends the master-reboot condition; LOADING does not.
          rebootSince: result.kind === 'pong' ? null : obs.rebootSince,
        };
      }
      return {
        ...obs,
        lastPingSettledAt: completedAt,
        linkConnected: true,
        lastReplyAt: completedAt,
        oldestUnansweredPingAt: obs.oldestUnansweredPingAt ?? sentAt,
        lastPingText: result.text,
      };
    }
    case 'timeout':
    case 'unreachable':
      // The probe drops the connection after a timeout or an error, so the link is down until the next connect.
      return {
        ...obs,
        lastPingSettledAt: completedAt,
        linkConnected: false,
        oldestUnansweredPingAt: obs.oldestUnansweredPingAt ?? sentAt,
        lastPingText: result.type === 'timeout' ? 'timeout' : `unreachable: ${result.reason}`,
      };
  }
}

/**
 * The connection was lost (closed by the server or reset) while no PING was waiting on it. Sentinel marks
 * its link `disconnected` in the disconnect callback, at once; waiting for the next PING to fail would
 * show a dead master as healthy for one more connection attempt, and a client in Sentinel mode that
 * re-reads SENTINEL MASTER then would connect to it. The loss counts as a PING that could not be
 * delivered, as the PING sent next on a new connection would: the down timer starts now.
 */
export function applyLinkLost(obs: InstanceObservation, at: number): InstanceObservation {
  if (!obs.linkConnected) return obs;
  return { ...obs, linkConnected: false, oldestUnansweredPingAt: obs.oldestUnansweredPingAt ?? at };
}

export interface InfoChange {
  readonly observation: InstanceObservation;
  /** The run_id changed from a known value: the instance restarted (Sentinel's `+reboot`). */
  readonly rebooted: boolean;
  /** The reported role changed (Sentinel's `+role-change` / `-role-change`). */
  readonly roleChangedTo: ConfiguredRole | null;
}

export function applyInfoOutcome(
  obs: InstanceObservation,
  outcome: InfoOutcome,
  masterRebootDownAfterPeriodMs: number,
): InfoChange {
  if (outcome.result.type !== 'info') return { observation: obs, rebooted: false, roleChangedTo: null };
  const info = outcome.result.info;
  const at = outcome.completedAt;
  const rebooted = obs.runId !== null && info.runId !== null && info.runId !== obs.runId;
  const roleChanged = obs.reportedRole !== info.role;
  const masterChanged =
    obs.info === null || obs.info.masterHost !== info.masterHost || obs.info.masterPort !== info.masterPort;
  const rebootSince =
    rebooted && obs.configuredRole === 'master' && masterRebootDownAfterPeriodMs > 0 ? at : obs.rebootSince;
  return {
    observation: {
      ...obs,
      info,
      infoAt: at,
      runId: info.runId ?? obs.runId,
      reportedRole: info.role,
      reportedRoleSince: roleChanged ? at : obs.reportedRoleSince,
      reportedMasterSince: masterChanged ? at : obs.reportedMasterSince,
      rebootSince,
    },
    rebooted,
    roleChangedTo: roleChanged && obs.reportedRole !== null ? info.role : null,
  };
}
