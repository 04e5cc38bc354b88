/**
 * Redis's Sentinel suite, 02-slaves-reconf: after each failover every replica follows the new master,
 * including one that was down during the failover and comes back afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Address } from '../../lib/core/types.js';
import type { RedisHandle } from '../../lib/runtime/redisProcess.js';
import { type LocalRunner, waitUntil } from '../support/localRunner.js';
import {
  crashMasterAndFailover,
  masterFields,
  startSuiteRunner,
  WITHIN_MS,
  waitAllReplicateFrom,
  waitReplicatesFrom,
} from './harness.js';

let local: LocalRunner;
let master: Address;
let killedReplica: RedisHandle | null = null;

beforeAll(async () => {
  local = await startSuiteRunner();
  master = await local.masterAddress();
});
afterAll(async () => {
  await local?.stop();
});

describe('02-slaves-reconf', () => {
  it('every replica replicates from the current master', async () => {
    await waitAllReplicateFrom(local, master);
  });

  it('a crashed master is failed over, and every replica follows the new one', async () => {
    const old = master;
    master = await crashMasterAndFailover(local);
    expect(master.port).not.toBe(old.port);
    await waitAllReplicateFrom(local, master);
  });

  it('with a replica killed, a second crash of the master still fails over to the remaining one', async () => {
    killedReplica = local.servers.find((s) => s.address.port !== master.port) as RedisHandle;
    await waitAllReplicateFrom(local, master);
    await killedReplica.kill();
    const old = master;
    master = await crashMasterAndFailover(local);
    expect(master.port).not.toBe(old.port);
    expect(master.port).not.toBe(killedReplica.address.port);
    await waitAllReplicateFrom(local, master);
  });

  it('the failover ends (no failover-state left on the master)', async () => {
    await waitUntil(
      async () => !('failover-state' in (await masterFields(local))),
      WITHIN_MS,
      'the failover to end',
    );
  });

  it('the replica that was down during the failover is reconfigured when it comes back', async () => {
    const replica = killedReplica as RedisHandle;
    await replica.restart();
    await waitReplicatesFrom(replica, master);
    await waitAllReplicateFrom(local, master);
  });
});
