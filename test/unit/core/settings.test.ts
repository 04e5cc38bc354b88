import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SETTING_LIMITS } from '../../../lib/core/constants.js';
import { minimumLeaderLeaseMs } from '../../../lib/core/fence.js';
import { globMatch } from '../../../lib/core/glob.js';
import {
  applySetArgs,
  groupSetArgs,
  probeTimingWithin,
  refusedRuntimeRenames,
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
        const plain =
          /^\d{1,15}$/.test(value) &&
          Number(value) >= 1 &&
          Number(value) <= SETTING_LIMITS.failoverTimeoutMs.maximum;
        expect(result.ok).toBe(plain);
      }),
    );
  });
});

describe('SENTINEL SET upper bounds', () => {
  const reject = (option: string, value: string) => {
    const result = applySetArgs([[option, value]], {}, base, 3);
    return result.ok ? null : result.error;
  };

  it('refuses down-after-milliseconds 999999999999999 (detection off), naming the limit', () => {
    expect(reject('down-after-milliseconds', '999999999999999')).toBe(
      "Invalid argument '999999999999999' for SENTINEL SET 'down-after-milliseconds': at most 3600000 (1 hour)",
    );
    // More digits than any safe integer: still the same reason, not a generic one.
    expect(reject('down-after-milliseconds', '99999999999999999999')).toContain('at most 3600000 (1 hour)');
  });

  it.each([
    ['down-after-milliseconds', 'downAfterMs', 'at most 3600000 (1 hour)'],
    ['failover-timeout', 'failoverTimeoutMs', 'at most 86400000 (1 day)'],
    ['parallel-syncs', 'parallelSyncs', 'at most 1000'],
    ['master-reboot-down-after-period', 'masterRebootDownAfterPeriodMs', 'at most 3600000 (1 hour)'],
  ] as const)('%s: accepts its maximum, refuses one more with "%s"', (option, field, reason) => {
    const maximum = SETTING_LIMITS[field].maximum;
    const accepted = applySetArgs([[option, String(maximum)]], {}, base, 3);
    expect(accepted.ok && accepted.value.settings[field]).toBe(maximum);
    expect(reject(option, String(maximum + 1))).toBe(
      `Invalid argument '${maximum + 1}' for SENTINEL SET '${option}': ${reason}`,
    );
  });

  it('refuses the whole request when one value is over its bound', () => {
    const result = applySetArgs(
      [
        ['quorum', '3'],
        ['failover-timeout', String(SETTING_LIMITS.failoverTimeoutMs.maximum + 1)],
      ],
      {},
      base,
      3,
    );
    expect(result.ok).toBe(false);
  });
});

describe('SENTINEL SET rename-command', () => {
  const reject = (from: string, to: string, current = {}) => {
    const result = applySetArgs([['rename-command', from, to]], current, base, 3);
    return result.ok ? null : result.error;
  };

  it('refuses a rename to another Redis command (PING FLUSHALL), any case', () => {
    expect(reject('PING', 'FLUSHALL')).toBe(
      "Invalid argument 'FLUSHALL' for SENTINEL SET 'rename-command': the new name is the name of another " +
        'Redis command, which the sentinel would then send instead (rename a command only to a name the ' +
        'server uses for it alone)',
    );
    for (const [from, to] of [
      ['ping', 'flushall'],
      ['INFO', 'FlushDb'],
      ['replicaof', 'SHUTDOWN'],
      ['config', 'DEBUG'],
      ['client', 'SCRIPT'],
      ['ping', 'INFO'],
    ]) {
      expect(reject(from as string, to as string), `${from} → ${to}`).toContain('another Redis command');
    }
  });

  it("refuses an empty name with Sentinel's text, and names that are no command token without echoing them", () => {
    expect(reject('PING', '')).toBe("Invalid argument '' for SENTINEL SET 'rename-command'");
    expect(reject('', 'P1')).toBe("Invalid argument '' for SENTINEL SET 'rename-command'");
    for (const to of ['my ping', 'p\r\nING', 'πινγ', 'x'.repeat(129)]) {
      const error = reject('PING', to);
      expect(error, JSON.stringify(to)).toMatch(
        /^Invalid argument for SENTINEL SET 'rename-command': the new name: /,
      );
      expect(error).not.toContain(to);
    }
    expect(reject('PI NG', 'P1')).toMatch(
      /^Invalid argument for SENTINEL SET 'rename-command': the command name: /,
    );
  });

  it('is all-or-nothing: a refused rename after a good pair changes nothing', () => {
    const result = applySetArgs(
      [
        ['quorum', '1'],
        ['rename-command', 'PING', 'FLUSHALL'],
      ],
      {},
      base,
      3,
    );
    expect(result.ok).toBe(false);
  });

  it('still accepts a private name and the undo (a command renamed to itself)', () => {
    expect(reject('PING', 'MYPING')).toBeNull();
    expect(reject('PING', 'ping', { renamedCommands: { ping: 'P1' } })).toBeNull();
  });

  it('drops a stored unsafe rename at the next SET (it was never in force)', () => {
    const result = applySetArgs(
      [['quorum', '3']],
      { renamedCommands: { ping: 'FLUSHALL', info: 'I1' } },
      base,
      3,
    );
    expect(result.ok && result.value.settings.renamedCommands).toEqual({ info: 'I1' });
  });
});

describe('SENTINEL SET and the leader fence', () => {
  // Only a hand-built base can break the fence: the file parser refuses such a configuration, and SET
  // can only lower the probe timeout (down-after). The check stands for when that stops being true.
  const unsafeBase = { ...base, downAfterMs: 30_000, probeTimeoutMs: 4_000, leaderLeaseMs: 5_000 };

  it('refuses a down-after change that leaves the lease too short for the probe timeout, saying what to change', () => {
    const result = applySetArgs([['down-after-milliseconds', '20000']], {}, unsafeBase, 3);
    expect(result.ok).toBe(false);
    const error = result.ok ? '' : result.error;
    expect(error).toMatch(/^Invalid argument '20000' for SENTINEL SET 'down-after-milliseconds': /);
    expect(error).toContain('leader-lease 5000 is too short for probe-timeout 4000');
    expect(error).toContain(`raise leader-lease to ${minimumLeaderLeaseMs(4_000)} or more`);
    expect(error).toContain('lower probe-timeout to 2000 or less');
  });

  it('accepts a down-after short enough to bring the probe timeout within the lease', () => {
    // down-after 4000 → probe timeout min(4000, 2000) = 2000, and 2 × (2000 + 500) = 5000 ≤ 5000.
    expect(applySetArgs([['down-after-milliseconds', '4000']], {}, unsafeBase, 3).ok).toBe(true);
  });

  it('leaves options that do not move the probe timeout alone', () => {
    expect(applySetArgs([['quorum', '2']], {}, unsafeBase, 3).ok).toBe(true);
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

  it('derives the probe period and timeout from down-after by one rule, for the file and for SET', () => {
    // The file's defaults: Sentinel's min(down-after, 1000) and min(500, down-after / 2).
    expect(probeTimingWithin(30_000)).toEqual({ probePeriodMs: 1_000, probeTimeoutMs: 500 });
    expect(probeTimingWithin(600)).toEqual({ probePeriodMs: 600, probeTimeoutMs: 300 });
    expect(probeTimingWithin(1)).toEqual({ probePeriodMs: 1, probeTimeoutMs: 0 });
    // SET's shorter down-after caps what is configured, and never raises it.
    const configured = { probePeriodMs: 200, probeTimeoutMs: 100 };
    expect(probeTimingWithin(5_000, configured)).toEqual(configured);
    expect(probeTimingWithin(150, configured)).toEqual({ probePeriodMs: 150, probeTimeoutMs: 75 });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3_600_000 }), (downAfterMs) => {
        const applied = withRuntimeSettings(base, { downAfterMs });
        expect({ probePeriodMs: applied.probePeriodMs, probeTimeoutMs: applied.probeTimeoutMs }).toEqual(
          probeTimingWithin(downAfterMs, base),
        );
      }),
    );
  });

  it('does not apply a stored rename to another command: the configured name stays, nothing else changes', () => {
    const configured = { ...base, renamedCommands: { ping: 'CONFPING' } };
    const applied = withRuntimeSettings(configured, {
      quorum: 3,
      renamedCommands: { ping: 'FLUSHALL', info: 'flushdb', config: 'MYCONFIG', client: 'my client' },
    });
    expect(applied.renamedCommands).toEqual({ ping: 'CONFPING', config: 'MYCONFIG' });
    expect(applied.quorum).toBe(3);
    expect(settingChanges(configured, applied)).toEqual([
      { option: 'quorum', values: ['3'] },
      { option: 'rename-command', values: ['config', 'MYCONFIG'] },
    ]);
    expect(
      refusedRuntimeRenames({
        renamedCommands: { ping: 'FLUSHALL', info: 'I1', 'a b': 'x', client: 'my client' },
      }),
    ).toEqual(['ping', '(not a command name)', 'client']);
    expect(refusedRuntimeRenames({ quorum: 2 })).toEqual([]);
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
    expect(error('bad name', '10.0.0.1', '6379', '2')).toBe(
      'Invalid master name: use only A-Z a-z 0-9 . - _',
    );
    expect(error('m'.repeat(10_000), '10.0.0.1', '6379', '2')).toBe(
      'Invalid master name: longer than 128 characters',
    );
    expect(validateMonitor('m'.repeat(128), '10.0.0.1', '6379', '2', 3).ok).toBe(true);
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

  it('matches Redis globs (SENTINEL RESET uses lib/core/glob.ts)', () => {
    expect(globMatch('*', 'mymaster')).toBe(true);
    expect(globMatch('my*', 'mymaster')).toBe(true);
    expect(globMatch('my?aster', 'mymaster')).toBe(true);
    expect(globMatch('[ab]x', 'bx')).toBe(true);
    expect(globMatch('[^ab]x', 'bx')).toBe(false);
    expect(globMatch('my\\*', 'my*')).toBe(true);
    expect(globMatch('my\\*', 'mymaster')).toBe(false);
    expect(globMatch('other', 'mymaster')).toBe(false);
    fc.assert(
      fc.property(fc.string(), fc.string(), (pattern, name) => {
        expect(typeof globMatch(pattern, name)).toBe('boolean');
        expect(globMatch(name.replace(/[*?[\\]/g, '\\$&'), name)).toBe(true);
      }),
    );
  });
});
