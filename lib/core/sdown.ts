/**
 * Subjectively down (SDOWN), exactly Sentinel's three rules.
 */
import { elapsedWithoutValidReply, type InstanceObservation } from './observation.js';

export interface SdownTimings {
  readonly downAfterMs: number;
  readonly infoPeriodMs: number;
  readonly masterRebootDownAfterPeriodMs: number;
}

export type SdownCause =
  | { readonly rule: 'no-valid-reply'; readonly elapsedMs: number }
  | { readonly rule: 'master-reports-replica'; readonly forMs: number }
  | { readonly rule: 'master-reboot'; readonly forMs: number };

/** Why the instance is SDOWN now, or null if it is not. */
export function sdownCause(obs: InstanceObservation, timings: SdownTimings, now: number): SdownCause | null {
  const elapsedMs = elapsedWithoutValidReply(obs, now);
  if (elapsedMs > timings.downAfterMs) return { rule: 'no-valid-reply', elapsedMs };

  // A configured master that says it is a replica gets INFO time to change its mind: down-after + 2 INFO periods.
  if (obs.configuredRole === 'master' && obs.reportedRole === 'replica' && obs.reportedRoleSince !== null) {
    const forMs = now - obs.reportedRoleSince;
    if (forMs > timings.downAfterMs + 2 * timings.infoPeriodMs)
      return { rule: 'master-reports-replica', forMs };
  }

  if (timings.masterRebootDownAfterPeriodMs > 0 && obs.rebootSince !== null) {
    const forMs = now - obs.rebootSince;
    if (forMs > timings.masterRebootDownAfterPeriodMs) return { rule: 'master-reboot', forMs };
  }
  return null;
}

/**
 * The earliest time at which the no-valid-reply rule would fire if nothing else were observed, so the
 * runtime can wake up exactly then instead of waiting for the next probe (detection within a few ms of
 * down-after, not within a probe period of it). Null when the instance answered its last PING.
 */
export function nextSdownDeadline(obs: InstanceObservation, downAfterMs: number): number | null {
  if (obs.oldestUnansweredPingAt !== null) return obs.oldestUnansweredPingAt + downAfterMs + 1;
  if (!obs.linkConnected) return obs.lastValidReplyAt + downAfterMs + 1;
  return null;
}

export function describeSdownCause(cause: SdownCause): string {
  switch (cause.rule) {
    case 'no-valid-reply':
      return `no valid reply for ${cause.elapsedMs}ms`;
    case 'master-reports-replica':
      return `configured as master but reports role slave for ${cause.forMs}ms`;
    case 'master-reboot':
      return `rebooted and not answering PONG for ${cause.forMs}ms`;
  }
}
