/**
 * Takes over a failover whose leader stopped renewing its lease, outside any sentinel: used by the
 * failover function (functions/failover.ts). The sentinels do the same from their ticks; whichever
 * claims the next epoch first runs it, and the conditional claim makes sure only one does.
 */
import { applyInfoOutcome, applyPingOutcome, newObservation } from '../core/observation.js';
import type { ReplicaCandidate } from '../core/selection.js';
import type { GlobalSettings, MasterSettings, SentinelEvent } from '../core/types.js';
import type { RedisControl, RedisProbeFactory, SentinelStore } from '../ports.js';
import type { Clock } from './clock.js';
import { type FailoverEnd, FailoverRunner } from './failover.js';
import type { Log } from './log.js';

/** The leader name the failover function records when it takes a failover over. */
export const FAILOVER_FUNCTION_ID = 'failover-function';

export type ResumeOutcome = 'no-failover' | 'leader-alive' | 'claim-lost' | FailoverEnd;

export async function resumeFailover(args: {
  store: SentinelStore;
  settings: MasterSettings;
  global: GlobalSettings;
  probeFactory: RedisProbeFactory;
  control: RedisControl;
  clock: Clock;
  log: Log;
  emit: (event: SentinelEvent) => void;
  signal: AbortSignal;
}): Promise<ResumeOutcome> {
  const { store, settings, clock } = args;
  const record = await store.getMaster(settings.name);
  if (!record || record.failoverState === 'none') return 'no-failover';
  if (record.leaderLeaseUntil >= clock.now()) return 'leader-alive';
  const claim = await store.claimEpoch(settings.name, {
    mode: 'resume',
    expectedEpoch: record.currentEpoch,
    sentinelId: FAILOVER_FUNCTION_ID,
    leaseUntil: clock.now() + settings.leaderLeaseMs,
    now: clock.now(),
  });
  if (!claim.won) return 'claim-lost';
  args.log('info', 'took over the failover', { master: settings.name, epoch: claim.record.currentEpoch });
  const replicas = claim.record.failoverState === 'select_slave' ? await probeReplicas(args) : [];
  const runner = new FailoverRunner({
    settings,
    global: args.global,
    sentinelId: FAILOVER_FUNCTION_ID,
    epoch: claim.record.currentEpoch,
    store,
    control: args.control,
    probeFactory: args.probeFactory,
    clock,
    log: args.log,
    emit: args.emit,
    // Without a sentinel's running observations, the function looks at each replica once. The master
    // is taken as down since the failover started: the failover was authorised when it started.
    view: () => ({ replicas, masterSdownSince: claim.record.failoverStartedAt ?? clock.now() }),
    signal: args.signal,
  });
  return runner.run();
}

async function probeReplicas(args: {
  store: SentinelStore;
  settings: MasterSettings;
  global: GlobalSettings;
  probeFactory: RedisProbeFactory;
  clock: Clock;
}): Promise<ReplicaCandidate[]> {
  const { settings, clock } = args;
  const recorded = await args.store.listReplicas(settings.name);
  return Promise.all(
    recorded.map(async (replica) => {
      const address = { host: replica.host, port: replica.port };
      const probe = args.probeFactory(address, {
        timeoutMs: settings.probeTimeoutMs,
        authUser: settings.authUser,
        authPass: settings.authPass,
        tls: args.global.tls,
        renamedCommands: settings.renamedCommands,
        now: () => clock.now(),
      });
      try {
        let observation = newObservation(address, 'replica', clock.now());
        observation = applyPingOutcome(observation, await probe.ping());
        observation = applyInfoOutcome(observation, await probe.info(), 0).observation;
        return { observation, sdown: !observation.linkConnected };
      } finally {
        await probe.close();
      }
    }),
  );
}
