/**
 * Redis's Sentinel suite, 01-conf-update: a sentinel that was away during a failover learns the new
 * master when it comes back. Here the sentinels share their state through the table, so the whole local
 * runner is restarted after a failover and must answer the new master at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Address } from '../../lib/core/types.js';
import type { LocalRunner } from '../support/localRunner.js';
import { crashMasterAndFailover, roleOf, startSuiteRunner } from './harness.js';

let local: LocalRunner;
let master: Address;

beforeAll(async () => {
  local = await startSuiteRunner();
});
afterAll(async () => {
  await local?.stop();
});

describe('01-conf-update', () => {
  it('fails over after the master crashes (the original also has one sentinel crashed: see docs/compatibility.md)', async () => {
    const old = await local.masterAddress();
    master = await crashMasterAndFailover(local);
    expect(master.port).not.toBe(old.port);
  });

  it('a restarted sentinel answers the master chosen while it was away', async () => {
    await local.restart();
    expect(await local.masterAddress()).toEqual(master);
  });

  it('the new master reports the master role', async () => {
    expect(await roleOf(master)).toBe('master');
  });

  it('SENTINEL CONFIG SET loglevel changes the log level, as SENTINEL CONFIG GET then shows', async () => {
    expect(await local.sentinel('SENTINEL', 'CONFIG', 'GET', 'loglevel')).toEqual(['loglevel', 'notice']);
    for (const level of ['debug', 'verbose', 'notice', 'warning', 'nothing', 'notice']) {
      expect(await local.sentinel('SENTINEL', 'CONFIG', 'SET', 'loglevel', level)).toBe('OK');
      expect(await local.sentinel('SENTINEL', 'CONFIG', 'GET', 'loglevel')).toEqual(['loglevel', level]);
    }
  });
});
