/**
 * Redis's Sentinel suite, 07-down-conditions: what makes a master subjectively down — a hung process, a
 * crashed one, a master that reports itself as a replica, one that answers PING with errors (MISCONF),
 * and a PING renamed to a command the server does not have. The original crashes a majority of the
 * sentinels so no failover interferes; here every replica has replica-priority 0 instead, so no
 * failover can complete and the master stays the same server throughout.
 */
import { mkdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocatePorts } from '../../lib/runtime/redisProcess.js';
import { infoField, type LocalRunner, redisCall, waitUntil } from '../support/localRunner.js';
import { masterFields, startSuiteRunner, WITHIN_MS } from './harness.js';

let local: LocalRunner;

beforeAll(async () => {
  local = await startSuiteRunner({ replicas: 1, redisArgs: ['--replica-priority', '0'] });
});
afterAll(async () => {
  await local?.stop();
});

async function flags(): Promise<string> {
  return (await masterFields(local)).flags ?? '';
}

async function ensureMasterUp(): Promise<void> {
  await waitUntil(
    async () => (await flags()) === 'master',
    WITHIN_MS,
    "the master's flags to be just 'master'",
  );
}

async function ensureMasterDown(): Promise<void> {
  await waitUntil(
    async () => (await flags()).includes('s_down'),
    WITHIN_MS,
    'the master to be flagged s_down',
  );
}

describe('07-down-conditions', () => {
  it('no failover can take place in this file (replica-priority 0 on every replica, instead of crashing sentinels)', async () => {
    expect(
      await infoField(local.topology.replicas[0]?.address ?? local.endpoint, 'replication', 'slave_priority'),
    ).toBe('0');
  });

  it('SDOWN is triggered by a master that does not answer but has not crashed (SIGSTOP)', async () => {
    await ensureMasterUp();
    await local.topology.master.pause();
    try {
      await ensureMasterDown();
    } finally {
      local.topology.master.resume();
    }
    await ensureMasterUp();
  });

  it('SDOWN is triggered by a crashed master', async () => {
    await ensureMasterUp();
    await local.topology.master.kill();
    await ensureMasterDown();
    await local.topology.master.restart();
    await ensureMasterUp();
  });

  it('SDOWN is triggered by a master that advertises itself as a replica', async () => {
    await ensureMasterUp();
    const [unused] = (await allocatePorts(1)) as [number];
    await redisCall(local.topology.master.address, 'REPLICAOF', '127.0.0.1', unused);
    await ensureMasterDown();
    await redisCall(local.topology.master.address, 'REPLICAOF', 'NO', 'ONE');
    await ensureMasterUp();
  });

  it('SDOWN is triggered by a master that answers PING with errors (MISCONF after a failed save)', async () => {
    await ensureMasterUp();
    const master = local.topology.master.address;
    // The save's final rename fails when dump.rdb is a directory, even for root.
    const blocker = join(local.topology.master.dir, 'dump.rdb');
    await mkdir(blocker);
    try {
      await redisCall(master, 'CONFIG', 'SET', 'save', '1000000 1000000');
      await redisCall(master, 'BGSAVE');
      await ensureMasterDown();
    } finally {
      await rmdir(blocker);
    }
    await redisCall(master, 'CONFIG', 'SET', 'save', '');
    await waitUntil(
      async () => {
        await redisCall(master, 'BGSAVE').catch(() => {});
        return (await infoField(master, 'persistence', 'rdb_last_bgsave_status')) === 'ok';
      },
      WITHIN_MS,
      'a successful save',
      500,
    );
    await ensureMasterUp();
  });

  it('SDOWN is triggered when PING is renamed to a command the master does not know (PONG)', async () => {
    await ensureMasterUp();
    expect(await local.sentinel('SENTINEL', 'SET', 'mymaster', 'rename-command', 'PING', 'PONG')).toBe('OK');
    await ensureMasterDown();
    expect(await local.sentinel('SENTINEL', 'SET', 'mymaster', 'rename-command', 'PING', 'PING')).toBe('OK');
    await ensureMasterUp();
  });
});
