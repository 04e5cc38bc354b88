/**
 * The leader fence on commands to Redis, as numbers: how long a control command can take, how much of
 * its leader lease a failover runner must still hold to send one, and the shortest leader lease that
 * keeps every command inside the lease. The runner (lib/runtime/failover.ts), the control adapter
 * (lib/adapters/redis/control.ts) and the configuration checks (the file and SENTINEL SET) all use
 * these functions, so they cannot disagree.
 *
 * Redis cannot check an epoch, so the lease is the only fence: another sentinel may take the failover
 * over once `leaderLeaseUntil` has passed on its clock.
 *
 * 1. A control command (one MULTI … EXEC, or FAILOVER TO) runs on a fresh connection whose connect and
 *    reply share one budget of probe-timeout; its outer deadline is probe-timeout + redisCallSlackMs.
 *    By then the runner has stopped waiting and closed the connection.
 * 2. The runner sends a command only while its lease has more than that deadline plus
 *    leaderClockSkewMarginMs left (the fence), renewing the lease first otherwise.
 * 3. The runner renews its lease when half of it is spent, and a fresh renewal must still leave room for
 *    the fence after the renewal's own store round trip. Hence leader-lease ≥ 2 × fence: then half a
 *    lease always covers the fence, and the full fence is what the runner applies.
 *
 * With the defaults (probe-timeout at most 500 ms, leader-lease 5000 ms) the fence is at most 1000 ms and
 * the minimum lease 2000 ms.
 */
import { SENTINEL_DEFAULTS } from './constants.js';

/** The longest a control command to Redis can keep the runner waiting: its outer deadline. */
export function controlCommandDeadlineMs(probeTimeoutMs: number): number {
  return probeTimeoutMs + SENTINEL_DEFAULTS.redisCallSlackMs;
}

/** How much leader lease a failover runner must still hold when it sends a command to Redis. */
export function leaderFenceMs(probeTimeoutMs: number): number {
  return controlCommandDeadlineMs(probeTimeoutMs) + SENTINEL_DEFAULTS.leaderClockSkewMarginMs;
}

/** The shortest leader lease that keeps every control command inside it (see the header). */
export function minimumLeaderLeaseMs(probeTimeoutMs: number): number {
  return 2 * leaderFenceMs(probeTimeoutMs);
}

/** The longest probe-timeout a leader lease allows; 0 when the lease is too short for any. */
export function maximumProbeTimeoutForLeaseMs(leaderLeaseMs: number): number {
  return Math.max(0, Math.floor(leaderLeaseMs / 2) - leaderFenceMs(0));
}

/**
 * Why a probe-timeout and a leader-lease cannot work together, or null when they can. The settings are
 * named as the caller describes them (`leader-lease 5000 (default)`), and the reason says what to change.
 */
export function leaderFenceProblem(
  values: { readonly probeTimeoutMs: number; readonly leaderLeaseMs: number },
  names: { readonly probeTimeout: string; readonly leaderLease: string },
): string | null {
  const minimum = minimumLeaderLeaseMs(values.probeTimeoutMs);
  if (values.leaderLeaseMs >= minimum) return null;
  const overhead = leaderFenceMs(0);
  const maximumProbe = maximumProbeTimeoutForLeaseMs(values.leaderLeaseMs);
  const fix =
    maximumProbe >= 1
      ? `raise leader-lease to ${minimum} or more, or lower probe-timeout to ${maximumProbe} or less`
      : `raise leader-lease to ${minimum} or more`;
  return (
    `${names.leaderLease} is too short for ${names.probeTimeout}: a failover sends a command to Redis ` +
    `only while its leader lease has more than probe-timeout + ${overhead} ms left, so leader-lease ` +
    `must be at least 2 × (probe-timeout + ${overhead}) = ${minimum}; ${fix}`
  );
}
