/**
 * Redis's Sentinel suite, 10-replica-priority: a replica accepts only yes and no for replica-announced,
 * and the replicas set to `replica-announced no` are left out of SENTINEL REPLICAS (the original's four
 * replicas, two hidden, are two here, one hidden).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisHandle } from '../../lib/runtime/redisProcess.js';
import { fieldsOf, type LocalRunner, redisCall, waitUntil } from '../support/localRunner.js';
import { startSuiteRunner, WITHIN_MS } from './harness.js';

let local: LocalRunner;

beforeAll(async () => {
  local = await startSuiteRunner();
});
afterAll(async () => {
  await local?.stop();
});

async function setAnnounced(replicas: readonly RedisHandle[], announced: 'yes' | 'no'): Promise<void> {
  for (const replica of replicas) {
    expect(await redisCall(replica.address, 'CONFIG', 'SET', 'replica-announced', announced)).toBe('OK');
  }
}

/** Waits until SENTINEL REPLICAS lists exactly these replicas (by port). */
async function waitListed(expected: readonly RedisHandle[]): Promise<void> {
  const want = expected.map((r) => String(r.address.port)).sort();
  let listed: string[] = [];
  await waitUntil(
    async () => {
      const replicas = (await local.sentinel('SENTINEL', 'REPLICAS', 'mymaster')) as unknown[];
      listed = replicas.map((r) => fieldsOf(r).port as string).sort();
      return JSON.stringify(listed) === JSON.stringify(want);
    },
    WITHIN_MS,
    `SENTINEL REPLICAS to list ports ${want.join(', ')}`,
  );
}

describe('10-replica-priority', () => {
  it('a replica accepts replica-announced yes and no, and refuses anything else', async () => {
    const replica = (local.topology.replicas[0] as RedisHandle).address;
    expect(await redisCall(replica, 'CONFIG', 'SET', 'replica-announced', 'no')).toBe('OK');
    expect(await redisCall(replica, 'CONFIG', 'SET', 'replica-announced', 'yes')).toBe('OK');
    for (const bad of ['321', 'a3b2c1']) {
      await expect(redisCall(replica, 'CONFIG', 'SET', 'replica-announced', bad)).rejects.toThrow(/ERR/);
    }
  });

  it('set replica-announced yes on every replica', async () => {
    await setAnnounced(local.topology.replicas, 'yes');
  });

  it('SENTINEL REPLICAS lists every replica', async () => {
    await waitListed(local.topology.replicas);
  });

  it('set replica-announced no on the first replica', async () => {
    await setAnnounced(local.topology.replicas.slice(0, 1), 'no');
  });

  it('SENTINEL REPLICAS leaves out exactly the unannounced replica (SENTINEL MASTER still counts it)', async () => {
    await waitListed(local.topology.replicas.slice(1));
    expect(fieldsOf(await local.sentinel('SENTINEL', 'MASTER', 'mymaster'))['num-slaves']).toBe(
      String(local.topology.replicas.length),
    );
  });

  it('set replica-announced yes on every replica again', async () => {
    await setAnnounced(local.topology.replicas, 'yes');
  });

  it('SENTINEL REPLICAS lists every replica again', async () => {
    await waitListed(local.topology.replicas);
  });
});
