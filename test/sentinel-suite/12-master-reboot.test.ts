/**
 * Redis's Sentinel suite, 12-master-reboot: a master that restarts quickly but then answers only
 * LOADING (valid replies, so down-after alone would never fire) is failed over once
 * master-reboot-down-after-period has passed since its reboot.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Address } from '../../lib/core/types.js';
import { infoField, type LocalRunner, waitUntil } from '../support/localRunner.js';
import { roleOf, startSuiteRunner, WITHIN_MS, waitForNewMaster, waitReplicatesFrom } from './harness.js';

/** Keys in the RDB, each loaded with a delay, so the rebooted master stays LOADING for seconds. */
const KEYS = 4_000;
const KEY_LOAD_DELAY_MICROS = 1_500;

let local: LocalRunner;
let master: Address;

beforeAll(async () => {
  // down-after is long enough that only the reboot rule can fire during the LOADING phase.
  // (The original sets the period with SENTINEL SET; the sentinels here pick a SET up on their next
  // settings read, so it is set in the file to be in force at the reboot.)
  local = await startSuiteRunner({
    downAfterMs: 4_000,
    extraConfig: ['sentinel master-reboot-down-after-period {master} 1000'],
  });
});
afterAll(async () => {
  await local?.stop();
});

describe('12-master-reboot', () => {
  it('a master rebooted in a very short time, then LOADING, is failed over after master-reboot-down-after-period', async () => {
    const old = local.topology.master;
    expect(await local.masterAddress()).toEqual(old.address);
    const client = new Redis({ ...old.address, lazyConnect: true });
    await client.connect();
    try {
      const pipeline = client.pipeline();
      for (let i = 0; i < KEYS; i++) pipeline.set(`key:${i}`, `value:${i}`);
      await pipeline.exec();
      await client.bgsave();
    } finally {
      client.disconnect();
    }
    await waitUntil(
      async () =>
        (await infoField(old.address, 'persistence', 'rdb_bgsave_in_progress')) === '0' &&
        (await infoField(old.address, 'persistence', 'rdb_last_bgsave_status')) === 'ok',
      WITHIN_MS,
      'the RDB save',
    );

    const restarted = old.restart([
      '--key-load-delay',
      String(KEY_LOAD_DELAY_MICROS),
      '--loading-process-events-interval-bytes',
      '1024',
    ]);
    master = await waitForNewMaster(local, old.address.port);
    await restarted;
  });

  it('the new master reports the master role', async () => {
    expect(await roleOf(master)).toBe('master');
  });

  it('every other replica now replicates from the new master', async () => {
    for (const server of local.topology.replicas) {
      if (server.address.port !== master.port) await waitReplicatesFrom(server, master);
    }
  });

  it('the old master, loaded, is reconfigured as a replica of the new master', async () => {
    await waitReplicatesFrom(local.topology.master, master);
  });
});
