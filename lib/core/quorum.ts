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

/** What makes a down-vote count: who may vote, about which configuration, and how old it may be. */
export interface VoteFreshness {
  readonly members: readonly SentinelId[];
  readonly voteMaxAgeMs: number;
  /** Only votes about this master configuration count. */
  readonly configEpoch: number;
  readonly now: number;
}

/**
 * Why a down-vote does not count, or null when it does: its writer must be a configured member, it must
 * be about the current configuration, and its observation at most `voteMaxAgeMs` old.
 */
export function downVoteIgnoredBecause(vote: Vote, rule: VoteFreshness): string | null {
  if (!rule.members.includes(vote.sentinelId)) return 'not a configured sentinel';
  if (vote.configEpoch !== rule.configEpoch) return `about config epoch ${vote.configEpoch}`;
  const age = rule.now - vote.observedAt;
  if (age > rule.voteMaxAgeMs) return `stale (${age}ms old)`;
  return null;
}

/** The down-votes that count, whoever wrote them: what the store says, for a reader that judges nothing. */
export function freshDownVotes(votes: readonly Vote[], rule: VoteFreshness): Vote[] {
  return votes.filter((vote) => vote.down && downVoteIgnoredBecause(vote, rule) === null);
}

/** ODOWN's count: this many fresh down-votes (the judging sentinel's own among them) reach the quorum. */
export function quorumReached(downCount: number, quorum: number): boolean {
  return downCount >= quorum;
}

/**
 * Counts fresh down-votes. This sentinel counts from its own current judgement (`selfDown`), not from its
 * stored vote, which may lag by one write. Peers' votes count by downVoteIgnoredBecause.
 */
export function countDownVotes(
  args: VoteFreshness & {
    readonly self: SentinelId;
    readonly selfDown: boolean;
    readonly votes: readonly Vote[];
  },
): DownCount {
  const downVoters: SentinelId[] = args.selfDown ? [args.self] : [];
  const ignored: Array<{ sentinelId: SentinelId; reason: string }> = [];
  for (const vote of args.votes) {
    if (vote.sentinelId === args.self || !vote.down) continue;
    const reason = downVoteIgnoredBecause(vote, args);
    if (reason !== null) {
      ignored.push({ sentinelId: vote.sentinelId, reason });
      continue;
    }
    if (!downVoters.includes(vote.sentinelId)) downVoters.push(vote.sentinelId);
  }
  return { downVoters, ignored };
}
