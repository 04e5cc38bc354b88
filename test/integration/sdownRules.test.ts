/**
 * Two of Sentinel's SDOWN rules on real processes, through `lambda-sentinel local`: a master that answers
 * PING but reports itself as a replica is down once it has done so for down-after + 2 INFO periods, and
 * a master that answers PING with a MISCONF error (its RDB save failed) is not answering validly, so it
 * is down after down-after. Every replica has replica-priority 0, so no failover can complete and the
 * same master comes back (-sdown) once it is healthy again.
 */
import { mkdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { allocatePorts, startRedis } from '../../lib/runtime/redisProcess.js';
import {
  infoField,
  type LocalRunner,
  redisCall,
  startLocalRunner,
  waitUntil,
} from '../support/localRunner.js';

const DOWN_AFTER_MS = 1_000;
const INFO_PERIOD_MS = 500;
const WITHIN_MS = 20_000;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

async function runner(): Promise<LocalRunner> {
  const local = await startLocalRunner({
    dynamodbEndpoint: inject('dynamodbEndpoint'),
    replicas: 1,
    downAfterMs: DOWN_AFTER_MS,
    extraConfig: [`sentinel info-period {master} ${INFO_PERIOD_MS}`],
    // No replica may be promoted: the master stays the master, and its SDOWN is all there is to see.
    redisArgs: ['--replica-priority', '0'],
  });
  cleanups.push(() => local.stop());
  return local;
}

/** Waits for the runner to print `line`-matching text after offset `from`; returns when it saw it. */
async function seenAt(local: LocalRunner, pattern: RegExp, from: number): Promise<number> {
  await local.waitForOutput(pattern, WITHIN_MS, from);
  return Date.now();
}

describe('SDOWN rules on real redis-servers', () => {
  it('a master that reports itself as a replica is SDOWN after down-after + 2 INFO periods, and not before', async () => {
    const local = await runner();
    const master = local.topology.master.address;
    const [otherPort] = (await allocatePorts(1)) as [number];
    const other = await startRedis({ port: otherPort });
    cleanups.push(() => other.stop());
    const sdown = new RegExp(`\\+sdown master mymaster 127\\.0\\.0\\.1 ${master.port}`);
    expect(local.output()).not.toMatch(sdown);

    const from = local.output().length;
    const demotedAt = Date.now();
    await redisCall(master, 'REPLICAOF', '127.0.0.1', other.address.port);
    const downAt = await seenAt(local, sdown, from);
    // The master answered every PING meanwhile: only the role rule can have fired, and only after its period.
    expect(await redisCall(master, 'PING')).toBe('PONG');
    expect(await infoField(master, 'replication', 'role')).toBe('slave');
    expect(downAt - demotedAt).toBeGreaterThan(DOWN_AFTER_MS + 2 * INFO_PERIOD_MS);

    const back = local.output().length;
    await redisCall(master, 'REPLICAOF', 'NO', 'ONE');
    await seenAt(local, new RegExp(`-sdown master mymaster 127\\.0\\.0\\.1 ${master.port}`), back);
    expect(await local.masterAddress()).toEqual(master);
  });

  it('a master whose PING answers MISCONF (failed RDB save) counts as unavailable: SDOWN after down-after', async () => {
    const local = await runner();
    const master = local.topology.master.address;
    const sdown = new RegExp(`\\+sdown master mymaster 127\\.0\\.0\\.1 ${master.port}`);
    // Saving fails (even as root) when the file's final name is a directory: the rename fails. With a
    // save point configured, stop-writes-on-bgsave-error then makes the master answer PING with MISCONF.
    const blocker = join(local.topology.master.dir, 'dump.rdb');
    await mkdir(blocker);
    cleanups.push(() => rmdir(blocker).catch(() => {}));
    await redisCall(master, 'CONFIG', 'SET', 'save', '1000000 1000000');
    await redisCall(master, 'SET', 'some', 'data');

    const from = local.output().length;
    const failedAt = Date.now();
    await redisCall(master, 'BGSAVE');
    await waitUntil(
      async () => (await infoField(master, 'persistence', 'rdb_last_bgsave_status')) === 'err',
      WITHIN_MS,
      'the RDB save to fail',
    );
    await expect(redisCall(master, 'PING')).rejects.toThrow(/^MISCONF /);
    const downAt = await seenAt(local, sdown, from);
    expect(downAt - failedAt).toBeGreaterThan(DOWN_AFTER_MS);
    // Still running and still answering (with errors): SDOWN came from the replies, not a dead process.
    await expect(redisCall(master, 'PING')).rejects.toThrow(/^MISCONF /);

    const back = local.output().length;
    await rmdir(blocker);
    await redisCall(master, 'BGSAVE');
    await waitUntil(
      async () => (await infoField(master, 'persistence', 'rdb_last_bgsave_status')) === 'ok',
      WITHIN_MS,
      'the RDB save to succeed again',
    );
    expect(await redisCall(master, 'PING')).toBe('PONG');
    await seenAt(local, new RegExp(`-sdown master mymaster 127\\.0\\.0\\.1 ${master.port}`), back);
    expect(await local.masterAddress()).toEqual(master);
  });
});
