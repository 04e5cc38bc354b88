/**
 * ODOWN and failover authorisation from the votes in the store.
 *
 * Sentinel counts itself plus peers whose "master is down" answer is younger than 5 s (§1.4); here the
 * peers' answers are their down-votes in the store, judged by the age of the observation behind them.
 * ODOWN needs quorum; a failover additionally needs a majority of the configured sentinels (§1.5), so
 * a minority partition can never fail over.
 */
import type { SentinelId, Vote } from './types.js';

export function majorityOf(memberCount: number): number {
  return Math.floor(memberCount / 2) + 1;
}

export function votesNeededToAuthorise(quorum: number, memberCount: number): number {
  return Math.max(quorum, majorityOf(memberCount));
}

export interface DownCount {
  /** Sentinels (this one included) that consider the master down, with fresh evidence. */
  readonly downVoters: readonly SentinelId[];
  /** Peer votes ignored, with the reason (for the summary line). */
  readonly ignored: ReadonlyArray<{ sentinelId: SentinelId; reason: string }>;
}

/**
 * Counts fresh down-votes. This sentinel counts from its own current judgement (`selfDown`), not from its
 * stored vote, which may lag by one write. A vote counts only if its writer is a configured member and
 * its observation is at most `voteMaxAgeMs` old.
 */
export function countDownVotes(args: {
  self: SentinelId;
  selfDown: boolean;
  members: readonly SentinelId[];
  votes: readonly Vote[];
  voteMaxAgeMs: number;
  /** Only votes about this master configuration count. */
  configEpoch: number;
  now: number;
}): DownCount {
  const downVoters: SentinelId[] = args.selfDown ? [args.self] : [];
  const ignored: Array<{ sentinelId: SentinelId; reason: string }> = [];
  for (const vote of args.votes) {
    if (vote.sentinelId === args.self || !vote.down) continue;
    if (!args.members.includes(vote.sentinelId)) {
      ignored.push({ sentinelId: vote.sentinelId, reason: 'not a configured sentinel' });
      continue;
    }
    if (vote.configEpoch !== args.configEpoch) {
      ignored.push({ sentinelId: vote.sentinelId, reason: `about config epoch ${vote.configEpoch}` });
      continue;
    }
    const age = args.now - vote.observedAt;
    if (age > args.voteMaxAgeMs) {
      ignored.push({ sentinelId: vote.sentinelId, reason: `stale (${age}ms old)` });
      continue;
    }
    if (!downVoters.includes(vote.sentinelId)) downVoters.push(vote.sentinelId);
  }
  return { downVoters, ignored };
}
