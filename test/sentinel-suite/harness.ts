/**
 * What the ported Sentinel-suite files share: one `lambda-sentinel local` per file on a real master with
 * replicas (the files' tests run in order and build on each other, as the originals do), and the checks
 * they make over and over — who the master is, what each server replicates from.
 */
import { inject } from 'vitest';
import type { Address } from '../../lib/core/types.js';
import type { RedisHandle } from '../../lib/runtime/redisProcess.js';
import {
  fieldsOf,
  infoField,
  type LocalRunner,
  type LocalRunnerOptions,
  startLocalRunner,
  waitUntil,
} from '../support/localRunner.js';

/** How long a failover, a reconfiguration or a state change may take here. */
export const WITHIN_MS = 20_000;

export const MEMBERS = ['sentinel-a', 'sentinel-b', 'sentinel-c'] as const;
/** The suite's quorum: a strict majority of the sentinels. */
export const QUORUM = Math.floor(MEMBERS.length / 2) + 1;

export async function startSuiteRunner(options: Partial<LocalRunnerOptions> = {}): Promise<LocalRunner> {
  return startLocalRunner({
    dynamodbEndpoint: inject('dynamodbEndpoint'),
    replicas: 2,
    quorum: QUORUM,
    members: MEMBERS,
    downAfterMs: 1_000,
    failoverTimeoutMs: 10_000,
    ...options,
    extraConfig: ['sentinel info-period {master} 500', ...(options.extraConfig ?? [])],
  });
}

/** SENTINEL MASTER mymaster, as an object. */
export async function masterFields(local: LocalRunner): Promise<Record<string, string>> {
  return fieldsOf(await local.sentinel('SENTINEL', 'MASTER', local.masterName));
}

/** Waits until the endpoint names a master other than `oldPort`; returns it. */
export async function waitForNewMaster(local: LocalRunner, oldPort: number): Promise<Address> {
  let now: Address = { host: '', port: oldPort };
  await waitUntil(
    async () => {
      now = await local.masterAddress();
      return now.port !== oldPort;
    },
    WITHIN_MS,
    `failover info (a master other than port ${oldPort})`,
  );
  return now;
}

/** Waits until the master's flags in SENTINEL MASTER satisfy `accept`. */
export async function waitMasterFlags(
  local: LocalRunner,
  accept: (flags: string) => boolean,
  what: string,
): Promise<void> {
  await waitUntil(async () => accept((await masterFields(local)).flags ?? ''), WITHIN_MS, what);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until `server` replicates from `master` with its link up. */
export async function waitReplicatesFrom(server: RedisHandle, master: Address): Promise<void> {
  await waitUntil(
    async () =>
      (await infoField(server.address, 'replication', 'master_port')) === String(master.port) &&
      (await infoField(server.address, 'replication', 'master_link_status')) === 'up',
    WITHIN_MS,
    `port ${server.address.port} to replicate from port ${master.port}`,
    100,
  );
}

/** Every running server except the master replicates from it. */
export async function waitAllReplicateFrom(local: LocalRunner, master: Address): Promise<void> {
  for (const server of local.servers) {
    if (server.address.port === master.port || !server.running) continue;
    await waitReplicatesFrom(server, master);
  }
}

export async function roleOf(address: Address): Promise<string | null> {
  return infoField(address, 'replication', 'role');
}

/** SIGKILLs the master, waits for the failover, and restarts the old one (as Redis's suite does). */
export async function crashMasterAndFailover(local: LocalRunner): Promise<Address> {
  const old = await local.masterAddress();
  const server = local.serverAt(old);
  await server.kill();
  const now = await waitForNewMaster(local, old.port);
  await server.restart();
  return now;
}
