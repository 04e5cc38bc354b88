/**
 * Redis's Sentinel suite, 08-hostname-conf: with resolve-hostnames and announce-hostnames, servers known
 * by a host name are reported by that name; with announce-hostnames no, by IP address. Here the master is
 * monitored as `localhost` and every server announces itself as `localhost` (replica-announce-ip), as the
 * original sets them up; the sentinels' settings are changed with SENTINEL CONFIG SET, as there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fieldsOf, type LocalRunner, redisCall, waitUntil } from '../support/localRunner.js';
import { startSuiteRunner, WITHIN_MS } from './harness.js';

const HOST = 'localhost';
const IP = '127.0.0.1';

let local: LocalRunner;

beforeAll(async () => {
  // A host name in the file needs resolve-hostnames yes there (Sentinel refuses to start otherwise).
  local = await startSuiteRunner({
    masterHost: HOST,
    redisArgs: ['--replica-announce-ip', HOST],
    extraConfig: ['sentinel resolve-hostnames yes'],
  });
});
afterAll(async () => {
  await local?.stop();
});

async function configSet(name: string, value: string): Promise<void> {
  expect(await local.sentinel('SENTINEL', 'CONFIG', 'SET', name, value)).toBe('OK');
}

/** Whether the master and every replica are reported under `host`. */
async function reportedAs(host: string): Promise<boolean> {
  const [masterHost] = (await local.sentinel('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster')) as [string];
  const replicas = ((await local.sentinel('SENTINEL', 'REPLICAS', 'mymaster')) as unknown[]).map(fieldsOf);
  return (
    masterHost === host &&
    replicas.length === local.topology.replicas.length &&
    replicas.every((replica) => replica.ip === host)
  );
}

describe('08-hostname-conf', () => {
  it('setup: the servers announce "localhost", and the sentinels resolve and announce host names', async () => {
    for (const server of local.servers) {
      expect(await redisCall(server.address, 'CONFIG', 'GET', 'replica-announce-ip')).toEqual([
        'replica-announce-ip',
        HOST,
      ]);
    }
    await configSet('resolve-hostnames', 'yes');
    await configSet('announce-hostnames', 'yes');
  });

  it('the master and its replicas are reported by host name; with announce-hostnames no, by IP address', async () => {
    await waitUntil(() => reportedAs(HOST), WITHIN_MS, `the master and replicas reported as ${HOST}`);
    await configSet('announce-hostnames', 'no');
    // Read at each command (at most a second's cached lookup): no restart is needed.
    await waitUntil(() => reportedAs(IP), WITHIN_MS, `the master and replicas reported as ${IP}`);
  });

  it('cleanup: the servers announce IP addresses and the sentinels use them again', async () => {
    for (const server of local.servers) {
      expect(await redisCall(server.address, 'CONFIG', 'SET', 'replica-announce-ip', IP)).toBe('OK');
    }
    await configSet('resolve-hostnames', 'no');
    await configSet('announce-hostnames', 'no');
    expect(await local.sentinel('SENTINEL', 'CONFIG', 'GET', '*-hostnames')).toEqual([
      'resolve-hostnames',
      'no',
      'announce-hostnames',
      'no',
    ]);
  });
});
