import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applySetArgs,
  globMatches,
  groupSetArgs,
  settingChanges,
  validateMonitor,
  withRuntimeSettings,
} from '../../../lib/core/settings.js';
import { masterSettings } from '../../support/settings.js';

const base = masterSettings({ downAfterMs: 5_000, probePeriodMs: 1_000, probeTimeoutMs: 500, quorum: 2 });

describe('SENTINEL SET validation (applySetArgs)', () => {
  it('applies every valid option and reports each change for +set', () => {
    const result = applySetArgs(
      [
        ['quorum', '3'],
        ['down-after-milliseconds', '8000'],
        ['failover-timeout', '60000'],
        ['parallel-syncs', '2'],
        ['master-reboot-down-after-period', '0'],
        ['rename-command', 'CONFIG', 'MYCONFIG'],
      ],
      {},
      base,
      3,
    );
    expect(result).toEqual({
      ok: true,
      value: {
        settings: {
          quorum: 3,
          downAfterMs: 8000,
          failoverTimeoutMs: 60000,
          parallelSyncs: 2,
          masterRebootDownAfterPeriodMs: 0,
          renamedCommands: { config: 'MYCONFIG' },
        },
        changes: [
          { option: 'quorum', values: ['3'] },
          { option: 'down-after-milliseconds', values: ['8000'] },
          { option: 'failover-timeout', values: ['60000'] },
          { option: 'parallel-syncs', values: ['2'] },
          { option: 'master-reboot-down-after-period', values: ['0'] },
          { option: 'rename-command', values: ['CONFIG', 'MYCONFIG'] },
        ],
      },
    });
  });

  it("rejects with Sentinel's messages, and rejects the whole request for one bad pair", () => {
    const reject = (args: string[][]) => {
      const result = applySetArgs(args, { quorum: 2 }, base, 3);
      return result.ok ? null : result.error;
    };
    expect(reject([['down-after-milliseconds', '-20']])).toBe(
      "Invalid argument '-20' for SENTINEL SET 'down-after-milliseconds'",
    );
    expect(reject([['down-after-milliseconds', 'abc']])).toBe(
      "Invalid argument 'abc' for SENTINEL SET 'down-after-milliseconds'",
    );
    expect(reject([['quorum', '0']])).toBe("Invalid argument '0' for SENTINEL SET 'quorum'");
    expect(reject([['quorum', '4']])).toContain('larger than the 3 sentinels');
    expect(reject([['fakeoption', 'fakevalue']])).toBe(
      "Unknown option or number of arguments for SENTINEL SET 'fakeoption'",
    );
    expect(reject([['rename-command', 'PING']])).toBe(
      "Unknown option or number of arguments for SENTINEL SET 'rename-command'",
    );
    expect(reject([['auth-pass', 'secret']])).toContain('SSM Parameter Store');
    expect(reject([['notification-script', '/bin/true']])).toContain('SNS');
    expect(reject([['down-after-milliseconds', '1']])).toContain('too short');
    expect(reject([])).toContain('wrong number of arguments');
    expect(
      reject([
        ['quorum', '1'],
        ['parallel-syncs', 'x'],
      ]),
    ).toBe("Invalid argument 'x' for SENTINEL SET 'parallel-syncs'");
  });

  it('undoes a rename when a command is renamed to itself, and keeps other renames', () => {
    const result = applySetArgs(
      [['rename-command', 'ping', 'PING']],
      { renamedCommands: { ping: 'P1', info: 'I1' } },
      base,
      3,
    );
    expect(result.ok && result.value.settings.renamedCommands).toEqual({ info: 'I1' });
  });

  it('never accepts a value that is not a plain decimal within range (property)', () => {
    fc.assert(
      fc.property(fc.string(), (value) => {
        const result = applySetArgs([['failover-timeout', value]], {}, base, 3);
        const plain = /^\d{1,15}$/.test(value) && Number(value) >= 1;
        expect(result.ok).toBe(plain);
      }),
    );
  });
});

describe('run-time settings over the configured ones (withRuntimeSettings, settingChanges)', () => {
  it('keeps configured values not overridden, and keeps probes below a shorter down-after', () => {
    const applied = withRuntimeSettings(base, { downAfterMs: 600, quorum: 3 });
    expect(applied).toMatchObject({
      quorum: 3,
      downAfterMs: 600,
      probePeriodMs: 600,
      probeTimeoutMs: 300,
      failoverTimeoutMs: base.failoverTimeoutMs,
    });
    expect(withRuntimeSettings(base, {})).toEqual(base);
  });

  it('lists each changed option once, in SET names', () => {
    const after = withRuntimeSettings(base, { quorum: 3, renamedCommands: { ping: 'P1' } });
    expect(settingChanges(base, after)).toEqual([
      { option: 'quorum', values: ['3'] },
      { option: 'rename-command', values: ['ping', 'P1'] },
    ]);
    expect(settingChanges(after, after)).toEqual([]);
  });
});

describe('SENTINEL MONITOR validation', () => {
  it("accepts an IP address, a port and a quorum within the membership; rejects with Sentinel's messages", () => {
    expect(validateMonitor('m', '10.0.0.1', '6379', '2', 3)).toEqual({
      ok: true,
      value: { name: 'm', host: '10.0.0.1', port: 6379, quorum: 2 },
    });
    expect(validateMonitor('m', '::1', '6379', '1', 3).ok).toBe(true);
    const error = (...args: [string, string, string, string]) => {
      const result = validateMonitor(...args, 3);
      return result.ok ? null : result.error;
    };
    expect(error('m', '10.0.0.1', '6379', 'x')).toBe('Invalid quorum');
    expect(error('m', '10.0.0.1', 'x', '2')).toBe('Invalid port');
    expect(error('m', '10.0.0.1', '6379', '0')).toBe('Quorum must be 1 or greater.');
    expect(error('m', '10.0.0.1', '70000', '2')).toBe('Invalid port number.');
    expect(error('m', 'redis.example.com', '6379', '2')).toBe('Invalid IP address or hostname specified');
    expect(error('m', '10.0.0.300', '6379', '2')).toBe('Invalid IP address or hostname specified');
    expect(error('m', '10.0.0.1', '6379', '4')).toContain('larger than the 3 sentinels');
    expect(error('bad name', '10.0.0.1', '6379', '2')).toContain('Invalid master name');
  });
});

describe('SENTINEL SET argument grouping and RESET patterns', () => {
  it('groups rename-command with two values and every other option with one', () => {
    expect(groupSetArgs(['quorum', '2', 'rename-command', 'a', 'b', 'parallel-syncs'])).toEqual([
      ['quorum', '2'],
      ['rename-command', 'a', 'b'],
      ['parallel-syncs'],
    ]);
  });

  it('matches Redis globs', () => {
    expect(globMatches('*', 'mymaster')).toBe(true);
    expect(globMatches('my*', 'mymaster')).toBe(true);
    expect(globMatches('my?aster', 'mymaster')).toBe(true);
    expect(globMatches('[ab]x', 'bx')).toBe(true);
    expect(globMatches('[^ab]x', 'bx')).toBe(false);
    expect(globMatches('my\\*', 'my*')).toBe(true);
    expect(globMatches('my\\*', 'mymaster')).toBe(false);
    expect(globMatches('other', 'mymaster')).toBe(false);
    fc.assert(
      fc.property(fc.string(), fc.string(), (pattern, name) => {
        expect(typeof globMatches(pattern, name)).toBe('boolean');
        expect(globMatches(name.replace(/[*?[\\]/g, '\\$&'), name)).toBe(true);
      }),
    );
  });
});
