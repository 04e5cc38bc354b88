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
  type SetPolicy,
  settingChanges,
  validateMonitor,
  withRuntimeSettings,
} from '../../../lib/core/settings.js';
import { masterSettings } from '../../support/settings.js';

/** What the deployment allows: no run-time credentials, scripts denied (Sentinel's default). */
const DEPLOYED: SetPolicy = { runtimeCredentials: false, runtimeScripts: false, denyScriptsReconfig: true };
const hostnamesOff = { resolveHostnames: false };

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
      DEPLOYED,
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
        credentials: null,
        scripts: null,
      },
    });
  });

  it("rejects with Sentinel's messages, and rejects the whole request for one bad pair", () => {
    const reject = (args: string[][]) => {
      const result = applySetArgs(args, { quorum: 2 }, base, DEPLOYED);
      return result.ok ? null : result.error;
    };
    expect(reject([['down-after-milliseconds', '-20']])).toBe(
      "Invalid argument '-20' for SENTINEL SET 'down-after-milliseconds'",
    );
    expect(reject([['down-after-milliseconds', 'abc']])).toBe(
      "Invalid argument 'abc' for SENTINEL SET 'down-after-milliseconds'",
    );
    expect(reject([['quorum', '0']])).toBe("Invalid argument '0' for SENTINEL SET 'quorum'");
    expect(reject([['fakeoption', 'fakevalue']])).toBe(
      "Unknown option or number of arguments for SENTINEL SET 'fakeoption'",
    );
    expect(reject([['rename-command', 'PING']])).toBe(
      "Unknown option or number of arguments for SENTINEL SET 'rename-command'",
    );
    expect(reject([['notification-script', '/bin/true']])).toBe(
      'Reconfiguration of scripts path is denied for security reasons. Check the deny-scripts-reconfig ' +
        'configuration directive in your Sentinel configuration',
    );
    expect(reject([['down-after-milliseconds', '1']])).toContain('too short');
    expect(reject([])).toContain('wrong number of arguments');
    expect(
      reject([
        ['quorum', '1'],
        ['parallel-syncs', 'x'],
      ]),
    ).toBe("Invalid argument 'x' for SENTINEL SET 'parallel-syncs'");
  });

  it('accepts a quorum above the number of sentinels, as Sentinel does (no automatic failover then)', () => {
    // A real redis-server --sentinel 7.0.15 with one sentinel answers OK to SET quorum 10.
    for (const quorum of ['4', '10', '999999999999999']) {
      const result = applySetArgs([['quorum', quorum]], { quorum: 2 }, base, DEPLOYED);
      expect(result.ok && result.value.settings.quorum).toBe(Number(quorum));
    }
  });

  it('refuses auth-pass and auth-user in the deployment, saying how to rotate, never echoing the value', () => {
    for (const option of ['auth-pass', 'AUTH-USER']) {
      const result = applySetArgs([[option, 's3cr3t-value']], {}, base, DEPLOYED);
      expect(result.ok).toBe(false);
      const error = result.ok ? '' : result.error;
      expect(error).toContain(
        `${option.toLowerCase()} cannot be changed with SENTINEL SET in the deployment`,
      );
      expect(error).toMatch(
        option === 'auth-pass'
          ? /SSM parameter, then make the sentinel and failover functions start new containers \(docs\/security\.md/
          : /'sentinel auth-user' line of the deployed sentinel\.conf and deploy/,
      );
      expect(error).not.toContain('s3cr3t-value');
    }
  });

  it('takes auth-pass and auth-user apart from the stored settings where the host holds credentials', () => {
    const local: SetPolicy = { runtimeCredentials: true, runtimeScripts: true, denyScriptsReconfig: true };
    const result = applySetArgs(
      [
        ['quorum', '3'],
        ['auth-user', 'sentinel'],
        ['auth-pass', 'new-password'],
      ],
      {},
      base,
      local,
    );
    expect(result).toEqual({
      ok: true,
      value: {
        settings: { quorum: 3 },
        changes: [{ option: 'quorum', values: ['3'] }],
        credentials: { authUser: 'sentinel', authPass: 'new-password' },
        scripts: null,
      },
    });
    // An empty password clears it, as in Sentinel.
    const cleared = applySetArgs([['auth-pass', '']], {}, base, local);
    expect(cleared.ok && cleared.value.credentials).toEqual({ authPass: '' });
    // One bad pair refuses the whole SET: no credential is taken from it.
    expect(
      applySetArgs(
        [
          ['auth-pass', 'x'],
          ['quorum', '0'],
        ],
        {},
        base,
        local,
      ).ok,
    ).toBe(false);
  });

  it("refuses script paths with Sentinel's text under deny-scripts-reconfig, else says what to use", () => {
    const deployedAllowing: SetPolicy = { ...DEPLOYED, denyScriptsReconfig: false };
    const localAllowing: SetPolicy = { ...deployedAllowing, runtimeScripts: true };
    for (const option of ['notification-script', 'client-reconfig-script']) {
      for (const policy of [DEPLOYED, { ...localAllowing, denyScriptsReconfig: true }]) {
        const denied = applySetArgs([[option, '/usr/local/bin/alert.sh']], {}, base, policy);
        expect(denied.ok ? '' : denied.error).toMatch(/^Reconfiguration of scripts path is denied/);
      }
      const notRun = applySetArgs([[option, '/usr/local/bin/alert.sh']], {}, base, deployedAllowing);
      expect(notRun.ok ? '' : notRun.error).toMatch(
        new RegExp(`^${option} is not run by the deployment, whose functions run no programs: .*SNS topic`),
      );
      const taken = applySetArgs([[option, '/usr/local/bin/alert.sh']], {}, base, localAllowing);
      const field = option === 'notification-script' ? 'notificationScript' : 'clientReconfigScript';
      expect(taken.ok && taken.value).toEqual({
        settings: {},
        changes: [],
        credentials: null,
        scripts: { [field]: '/usr/local/bin/alert.sh' },
      });
    }
  });

  it('undoes a rename when a command is renamed to itself, and keeps other renames', () => {
    const result = applySetArgs(
      [['rename-command', 'ping', 'PING']],
      { renamedCommands: { ping: 'P1', info: 'I1' } },
      base,
      DEPLOYED,
    );
    expect(result.ok && result.value.settings.renamedCommands).toEqual({ info: 'I1' });
  });

  it('never accepts a value that is not a plain decimal within range (property)', () => {
    fc.assert(
      fc.property(fc.string(), (value) => {
        const result = applySetArgs([['failover-timeout', value]], {}, base, DEPLOYED);
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
    const result = applySetArgs([[option, value]], {}, base, DEPLOYED);
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
    const accepted = applySetArgs([[option, String(maximum)]], {}, base, DEPLOYED);
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
      DEPLOYED,
    );
    expect(result.ok).toBe(false);
  });
});

describe('SENTINEL SET rename-command', () => {
  const reject = (from: string, to: string, current = {}) => {
    const result = applySetArgs([['rename-command', from, to]], current, base, DEPLOYED);
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
      DEPLOYED,
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
      DEPLOYED,
    );
    expect(result.ok && result.value.settings.renamedCommands).toEqual({ info: 'I1' });
  });
});

describe('SENTINEL SET and the leader fence', () => {
  // Only a hand-built base can break the fence: the file parser refuses such a configuration, and SET
  // can only lower the probe timeout (down-after). The check stands for when that stops being true.
  const unsafeBase = { ...base, downAfterMs: 30_000, probeTimeoutMs: 4_000, leaderLeaseMs: 5_000 };

  it('refuses a down-after change that leaves the lease too short for the probe timeout, saying what to change', () => {
    const result = applySetArgs([['down-after-milliseconds', '20000']], {}, unsafeBase, DEPLOYED);
    expect(result.ok).toBe(false);
    const error = result.ok ? '' : result.error;
    expect(error).toMatch(/^Invalid argument '20000' for SENTINEL SET 'down-after-milliseconds': /);
    expect(error).toContain('leader-lease 5000 is too short for probe-timeout 4000');
    expect(error).toContain(`raise leader-lease to ${minimumLeaderLeaseMs(4_000)} or more`);
    expect(error).toContain('lower probe-timeout to 2000 or less');
  });

  it('accepts a down-after short enough to bring the probe timeout within the lease', () => {
    // down-after 4000 → probe timeout min(4000, 2000) = 2000, and 2 × (2000 + 500) = 5000 ≤ 5000.
    expect(applySetArgs([['down-after-milliseconds', '4000']], {}, unsafeBase, DEPLOYED).ok).toBe(true);
  });

  it('leaves options that do not move the probe timeout alone', () => {
    expect(applySetArgs([['quorum', '2']], {}, unsafeBase, DEPLOYED).ok).toBe(true);
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
    expect(validateMonitor('m', '10.0.0.1', '6379', '2', hostnamesOff)).toEqual({
      ok: true,
      value: { name: 'm', host: '10.0.0.1', port: 6379, quorum: 2 },
    });
    expect(validateMonitor('m', '::1', '6379', '1', hostnamesOff).ok).toBe(true);
    const error = (...args: [string, string, string, string]) => {
      const result = validateMonitor(...args, hostnamesOff);
      return result.ok ? null : result.error;
    };
    expect(error('m', '10.0.0.1', '6379', 'x')).toBe('Invalid quorum');
    expect(error('m', '10.0.0.1', 'x', '2')).toBe('Invalid port');
    expect(error('m', '10.0.0.1', '6379', '0')).toBe('Quorum must be 1 or greater.');
    expect(error('m', '10.0.0.1', '70000', '2')).toBe('Invalid port number.');
    expect(error('m', 'redis.example.com', '6379', '2')).toBe('Invalid IP address or hostname specified');
    expect(error('m', '10.0.0.300', '6379', '2')).toBe('Invalid IP address or hostname specified');
    // A quorum above the number of sentinels is accepted, as Sentinel does (MONITOR … 5 with one sentinel).
    expect(validateMonitor('m', '10.0.0.1', '6379', '5', hostnamesOff)).toEqual({
      ok: true,
      value: { name: 'm', host: '10.0.0.1', port: 6379, quorum: 5 },
    });
    expect(error('bad name', '10.0.0.1', '6379', '2')).toBe(
      'Invalid master name: use only A-Z a-z 0-9 . - _',
    );
    expect(error('m'.repeat(10_000), '10.0.0.1', '6379', '2')).toBe(
      'Invalid master name: longer than 128 characters',
    );
    expect(validateMonitor('m'.repeat(128), '10.0.0.1', '6379', '2', hostnamesOff).ok).toBe(true);
  });

  it('accepts a host name only with resolve-hostnames, and keeps it as given', () => {
    const hostnamesOn = { resolveHostnames: true };
    expect(validateMonitor('m', 'localhost', '6379', '2', hostnamesOff)).toEqual({
      ok: false,
      error: 'Invalid IP address or hostname specified',
    });
    expect(validateMonitor('m', 'Redis-A.internal.example', '6379', '2', hostnamesOn)).toEqual({
      ok: true,
      value: { name: 'm', host: 'Redis-A.internal.example', port: 6379, quorum: 2 },
    });
    for (const bad of ['10.0.0.300', 'bad host', 'a..b', '-a', `${'x'.repeat(64)}.example`]) {
      expect(validateMonitor('m', bad, '6379', '2', hostnamesOn).ok).toBe(false);
    }
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
