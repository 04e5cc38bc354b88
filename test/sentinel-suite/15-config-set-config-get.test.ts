/**
 * Redis's Sentinel suite, 15-config-set-config-get: SENTINEL CONFIG SET takes several parameters at
 * once, all checked before any is applied (a duplicate, an unknown name, a bad value or a missing
 * value sets none), and SENTINEL CONFIG GET reads them back, several names or glob patterns in one
 * command as Redis 7.2 takes them, each parameter answered once.
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

async function configGet(...patterns: string[]): Promise<unknown> {
  return local.sentinel('SENTINEL', 'CONFIG', 'GET', ...patterns);
}

async function configSet(...pairs: Array<string | number>): Promise<unknown> {
  return local.sentinel('SENTINEL', 'CONFIG', 'SET', ...pairs);
}

describe('15-config-set-config-get', () => {
  it('CONFIG SET sets several parameters at once, and CONFIG GET reads each back', async () => {
    expect(await configSet('resolve-hostnames', 'yes', 'announce-port', 1234)).toBe('OK');
    expect(await configGet('resolve-hostnames', 'announce-port')).toEqual([
      'resolve-hostnames',
      'yes',
      'announce-port',
      '1234',
    ]);
    expect(await configGet('announce-port')).toEqual(['announce-port', '1234']);
  });

  it('CONFIG GET with a duplicate and an unknown name answers each known one once', async () => {
    expect(await configSet('resolve-hostnames', 'yes', 'announce-port', 1234)).toBe('OK');
    expect(await configGet('resolve-hostnames', 'resolve-hostnames', 'does-not-exist')).toEqual([
      'resolve-hostnames',
      'yes',
    ]);
    // In the order of the patterns, each parameter the first time one matches it.
    expect(await configGet('announce-port', 'announce*', 'RESOLVE-hostnames')).toEqual([
      'announce-port',
      '1234',
      'announce-hostnames',
      'no',
      'announce-ip',
      '',
      'resolve-hostnames',
      'yes',
    ]);
  });

  it('CONFIG GET matches glob patterns', async () => {
    expect(await configSet('loglevel', 'notice', 'announce-port', 1234, 'announce-hostnames', 'yes')).toBe(
      'OK',
    );
    expect(await configGet('log*', '*level', 'loglevel')).toEqual(['loglevel', 'notice']);
    expect(await configGet('announce*')).toEqual([
      'announce-hostnames',
      'yes',
      'announce-ip',
      '',
      'announce-port',
      '1234',
    ]);
  });

  it('CONFIG SET refuses a parameter given twice', async () => {
    await expect(
      configSet('resolve-hostnames', 'yes', 'announce-port', 1234, 'announce-port', 100),
    ).rejects.toThrow("ERR Duplicate argument 'announce-port' to SENTINEL CONFIG SET");
    expect(await configGet('announce-port')).toEqual(['announce-port', '1234']);
  });

  it('CONFIG SET with one unknown parameter sets none of them', async () => {
    expect(await configSet('announce-port', 111)).toBe('OK');
    await expect(configSet('does-not-exist', 'yes', 'announce-port', 1234)).rejects.toThrow(
      "ERR Invalid argument 'does-not-exist' to SENTINEL CONFIG SET",
    );
    expect(await configGet('announce-port')).toEqual(['announce-port', '111']);
  });

  it('CONFIG SET with one invalid value sets none of them', async () => {
    expect(await configSet('resolve-hostnames', 'no')).toBe('OK');
    await expect(configSet('announce-port', -1234, 'resolve-hostnames', 'yes')).rejects.toThrow(
      "ERR Invalid value '-1234' to SENTINEL CONFIG SET 'announce-port'",
    );
    expect(await configGet('resolve-hostnames')).toEqual(['resolve-hostnames', 'no']);
  });

  it('CONFIG SET with a parameter missing its value is refused, setting none', async () => {
    await expect(configSet('resolve-hostnames', 'yes', 'announce-port', 1234, 'announce-ip')).rejects.toThrow(
      "ERR Missing argument 'announce-ip' value",
    );
    expect(await configGet('resolve-hostnames')).toEqual(['resolve-hostnames', 'no']);
    expect(await configGet('announce-port')).toEqual(['announce-port', '111']);
  });
});
