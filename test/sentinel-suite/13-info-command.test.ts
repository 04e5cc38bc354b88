/**
 * Redis's Sentinel suite, 13-info-command: INFO has Sentinel's sections (server, clients, stats, cpu,
 * sentinel) and none of a data server's (memory, persistence, replication, cluster); INFO with section
 * names gives just those.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRunner } from '../support/localRunner.js';
import { startSuiteRunner } from './harness.js';

let local: LocalRunner;

beforeAll(async () => {
  local = await startSuiteRunner();
});
afterAll(async () => {
  await local?.stop();
});

async function info(...sections: string[]): Promise<string> {
  return (await local.sentinel('INFO', ...sections)) as string;
}

/** Fields only a data server's INFO has (memory, persistence, replication, cluster). */
const DATA_SERVER_FIELDS = ['used_memory', 'rdb_last_bgsave', 'master_repl_offset', 'cluster_enabled'];

describe('13-info-command', () => {
  it('INFO, INFO all, INFO default and INFO everything give every Sentinel section and no data-server one', async () => {
    for (const args of [[], ['all'], ['default'], ['everything']]) {
      const text = await info(...args);
      for (const field of ['redis_version', 'maxclients', 'used_cpu_user', 'sentinel_tilt']) {
        expect(text, `INFO ${args.join(' ')}`).toContain(`${field}:`);
      }
      for (const field of DATA_SERVER_FIELDS) expect(text, `INFO ${args.join(' ')}`).not.toContain(field);
    }
  });

  it('INFO cpu and INFO sentinel give just that section', async () => {
    const cpu = await info('cpu');
    expect(cpu).toContain('used_cpu_user:');
    expect(cpu).not.toContain('sentinel_tilt');
    expect(cpu).not.toContain('redis_version');

    const sentinel = await info('sentinel');
    expect(sentinel).toContain('sentinel_tilt:');
    expect(sentinel).not.toContain('used_cpu_user');
    expect(sentinel).not.toContain('redis_version');
  });

  it('INFO with several sections gives those sections only (a data-server section gives nothing)', async () => {
    const some = await info('server', 'sentinel', 'replication');
    expect(some).toContain('redis_version:');
    expect(some).toContain('sentinel_tilt:');
    expect(some).not.toContain('used_memory');
    expect(some).not.toContain('used_cpu_user');

    const cpuAndAll = await info('cpu', 'all');
    for (const field of ['used_cpu_user', 'sentinel_tilt', 'redis_version'])
      expect(cpuAndAll).toContain(`${field}:`);
    for (const field of ['used_memory', 'master_repl_offset']) expect(cpuAndAll).not.toContain(field);
  });
});
