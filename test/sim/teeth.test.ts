/**
 * Teeth: each safety mechanism, switched off in the simulation's own adapters (never in lib/core or the
 * real store), must make the simulation report the invariant it protects within a small budget of seeds.
 * A check that cannot fail proves nothing.
 */
import { describe, expect, it } from 'vitest';
import { runBatch, type ScheduleOptions } from '../../lib/sim/batch.js';
import type { InvariantName } from '../../lib/sim/invariants.js';
import { firstViolationBySeed } from '../../lib/sim/report.js';

/** Seeds each search may use: a tenth of the CI run. */
const BUDGET = 1_000;

const CASES: ReadonlyArray<{
  readonly rule: string;
  readonly invariant: InvariantName;
  readonly schedule: ScheduleOptions;
}> = [
  {
    rule: 'an epoch claim without its condition (stale claims win)',
    invariant: 'oneLeaderPerEpoch',
    schedule: { broken: ['claim-unconditional'] },
  },
  {
    // A lone stale claim no longer reaches Redis (the runner's lease fence stops it), so this case lets
    // every claim win the epoch already in force: two failovers then choose twice in one epoch.
    rule: 'an epoch claim without its condition (stale claims win the epoch in force)',
    invariant: 'onePromotionPerEpoch',
    schedule: { broken: ['claim-reuses-epoch'] },
  },
  {
    rule: 'failover steps without the epoch fence (a stale runner writes)',
    invariant: 'epochsNeverGoBack',
    schedule: { broken: ['advance-unfenced'] },
  },
  {
    rule: 'a failover step acknowledged but not recorded before REPLICAOF NO ONE',
    invariant: 'promotionAuthorised',
    schedule: { broken: ['advance-acked-not-applied'] },
  },
  {
    rule: 'vote freshness (vote-max-age)',
    invariant: 'promotionHadQuorum',
    schedule: { broken: ['votes-never-stale'] },
  },
  {
    rule: 'quorum and majority (one down-vote counted for every sentinel)',
    invariant: 'promotionHadQuorum',
    schedule: { broken: ['one-vote-counts-for-all'] },
  },
  {
    rule: 'quorum and majority (one down-vote counted for every sentinel)',
    invariant: 'noFailoverWhileMasterReachable',
    schedule: { broken: ['one-vote-counts-for-all'] },
  },
  {
    rule: 'replica-priority 0 (INFO hides it from the selection)',
    invariant: 'promotedWasEligible',
    schedule: { hidePriorityZero: true },
  },
  {
    rule: 'strongly consistent reads (a lookup may be served an older record)',
    invariant: 'lookupNeverGoesBack',
    schedule: { broken: ['stale-lookups'] },
  },
  {
    rule: 'elections (every claim refused): liveness',
    invariant: 'deadMasterFailedOver',
    schedule: { broken: ['claims-lost'] },
  },
];

describe('teeth: without each safety mechanism the simulation finds a violation', () => {
  for (const { rule, invariant, schedule } of CASES) {
    it(`without ${rule}: ${invariant} is violated within ${BUDGET} seeds`, async () => {
      const { summary } = await runBatch({
        firstSeed: 1,
        count: BUDGET,
        schedule,
        workers: 2,
        stopAt: invariant,
      });
      const found = firstViolationBySeed(summary.violations.filter((v) => v.invariant === invariant));
      expect(found, `no ${invariant} violation in ${summary.schedules} schedules`).not.toBeNull();
      console.log(`teeth: without ${rule}: ${invariant} at seed ${found?.seed}: ${found?.detail}`);
    }, 120_000);
  }
});
