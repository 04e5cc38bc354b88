/**
 * Redis's Sentinel suite, 05-manual: SENTINEL FAILOVER promotes a replica without the master being
 * down, refuses a second request while the first runs, and every server then follows the new master.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Address } from '../../lib/core/types.js';
import { type LocalRunner, waitUntil } from '../support/localRunner.js';
import {
  masterFields,
  roleOf,
  startSuiteRunner,
  WITHIN_MS,
  waitAllReplicateFrom,
  waitForNewMaster,
  waitReplicatesFrom,
} from './harness.js';

let local: LocalRunner;
let master: Address;

beforeAll(async () => {
  local = await startSuiteRunner();
});
afterAll(async () => {
  await local?.stop();
});

describe('05-manual', () => {
  it('a manual failover works, and a second request while it runs is refused with INPROG', async () => {
    const old = await local.masterAddress();
    expect(old).toEqual(local.topology.master.address);
    await waitUntil(
      async () => (await local.sentinel('SENTINEL', 'FAILOVER', 'mymaster')) === 'OK',
      WITHIN_MS,
      'SENTINEL FAILOVER accepted',
      200,
    );
    // Sentinel marks the failover in progress before it answers OK, so a second request gets INPROG.
    // Soft, so that the blocks below still check the failover itself if this one fails.
    await expect.soft(local.sentinel('SENTINEL', 'FAILOVER', 'mymaster')).rejects.toThrow(/INPROG/);
    master = await waitForNewMaster(local, old.port);
  });

  it('the new master reports the master role', async () => {
    expect(await roleOf(master)).toBe('master');
  });

  it('every other replica now replicates from the new master', async () => {
    for (const server of local.topology.replicas) {
      if (server.address.port !== master.port) await waitReplicatesFrom(server, master);
    }
  });

  it('the old master is reconfigured as a replica of the new master', async () => {
    await waitReplicatesFrom(local.topology.master, master);
  });

  for (const failure of ['crash-after-election', 'crash-after-promotion']) {
    it(`SENTINEL SIMULATE-FAILURE ${failure} crashes the sentinel at that point of a failover`, async () => {
      // As the original re-initialises before each: every server follows the current master, all known.
      await waitAllReplicateFrom(local, master);
      await waitUntil(
        async () => (await masterFields(local))['num-slaves'] === String(local.topology.replicas.length),
        WITHIN_MS,
        'every replica known',
      );
      expect(await local.sentinel('SENTINEL', 'SIMULATE-FAILURE', failure)).toBe('OK');
      const from = local.output().length;
      const old = master;
      await waitUntil(
        async () => (await local.sentinel('SENTINEL', 'FAILOVER', 'mymaster')) === 'OK',
        WITHIN_MS,
        'SENTINEL FAILOVER accepted',
        200,
      );
      // The sentinel that reached that point stops there, silently (Sentinel's process exits).
      await local.waitForOutput(
        new RegExp(`\\[[\\w-]+\\] crashed \\(SENTINEL SIMULATE-FAILURE ${failure}\\)`),
        WITHIN_MS,
        from,
      );
      // The crash disarms it, as a crashed Sentinel's flags go with its process.
      expect(await local.sentinel('INFO', 'sentinel')).toMatch(/^sentinel_simulate_failure_flags:0\r?$/m);
      // The others finish the failover once the crashed sentinel's leadership lapses.
      master = await waitForNewMaster(local, old.port);
      await local.waitForOutput(/\+failover-end master mymaster/, WITHIN_MS, from);
      // The original restarts the crashed sentinel; here that is restarting the runner.
      await local.restart();
      // It stopped cleanly (SIGTERM), although one of its sentinels had crashed.
      expect(local.output().slice(from)).not.toMatch(/SimulatedCrashError|Unhandled|Node\.js v\d/);
      expect(await local.masterAddress()).toEqual(master);
    });
  }
});
