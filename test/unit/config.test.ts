import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  type ConfigIssue,
  loadSentinelConfig,
  loadSentinelConfigDetailed,
  parseSentinelConfig,
  parseSentinelConfigDetailed,
} from '../../lib/config/parse.js';
import { SPLIT_REASONS, splitConfigLine } from '../../lib/config/splitArgs.js';
import { SENTINEL_DEFAULTS, SETTING_LIMITS } from '../../lib/core/constants.js';
import { minimumLeaderLeaseMs } from '../../lib/core/fence.js';
import type { MasterSettings, SentinelConfig } from '../../lib/core/types.js';
import { DeploymentConfigError, readDeployment } from '../../lib/runtime/lambdaConfig.js';

const FILE = 'sentinel.conf';
const FIXTURES = fileURLToPath(new URL('../fixtures/config/', import.meta.url));
const MONITOR = 'sentinel monitor mymaster 127.0.0.1 6379 2';

/** Joins lines so that `lines[i]` is line i + 1 of the file: tests read line numbers off the array. */
function conf(...lines: string[]): string {
  return lines.join('\n');
}

function parse(...lines: string[]): SentinelConfig {
  return parseSentinelConfig(conf(...lines), FILE);
}

function onlyMaster(config: SentinelConfig): MasterSettings {
  expect(config.masters).toHaveLength(1);
  return config.masters[0] as MasterSettings;
}

function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  expect.fail('expected a ConfigError');
}

function issuesOf(...lines: string[]): readonly ConfigIssue[] {
  return configErrorOf(() => parse(...lines)).issues;
}

/** The one issue reported for `lines`, checked to be on `line` with a reason matching `reason`. */
function expectSingleIssue(lines: string[], line: number, reason: RegExp): ConfigIssue {
  const issues = issuesOf(...lines);
  expect(issues).toHaveLength(1);
  const [issue] = issues as [ConfigIssue];
  expect(issue).toMatchObject({ file: FILE, line });
  expect(issue.reason).toMatch(reason);
  return issue;
}

describe('Function: parseSentinelConfig', () => {
  describe('defaults', () => {
    it("gives a master Sentinel's defaults: down-after 30000, failover-timeout 180000, parallel-syncs 1, reboot 0", () => {
      const master = onlyMaster(parse(MONITOR));
      expect(master).toMatchObject({
        name: 'mymaster',
        host: '127.0.0.1',
        port: 6379,
        quorum: 2,
        downAfterMs: 30_000,
        failoverTimeoutMs: 180_000,
        parallelSyncs: 1,
        masterRebootDownAfterPeriodMs: 0,
        renamedCommands: {},
      });
      expect(master.authPass).toBeUndefined();
      expect(master.authUser).toBeUndefined();
      expect('authPass' in master).toBe(false);
    });

    it('uses the project defaults for probing, votes and the leader lease', () => {
      expect(onlyMaster(parse(MONITOR))).toMatchObject({
        probePeriodMs: SENTINEL_DEFAULTS.maxProbePeriodMs,
        probeTimeoutMs: SENTINEL_DEFAULTS.maxProbeTimeoutMs,
        infoPeriodMs: SENTINEL_DEFAULTS.infoPeriodMs,
        voteMaxAgeMs: SENTINEL_DEFAULTS.voteMaxAgeMs,
        voteRefreshMs: SENTINEL_DEFAULTS.voteRefreshMs,
        leaderLeaseMs: SENTINEL_DEFAULTS.leaderLeaseMs,
      });
    });

    it('derives the probe period and timeout from a short down-after', () => {
      const master = onlyMaster(parse(MONITOR, 'sentinel down-after-milliseconds mymaster 600'));
      expect(master.probePeriodMs).toBe(600);
      expect(master.probeTimeoutMs).toBe(300);
      const odd = onlyMaster(parse(MONITOR, 'sentinel down-after-milliseconds mymaster 3'));
      expect(odd).toMatchObject({ probePeriodMs: 3, probeTimeoutMs: 1 });
    });

    it('uses the default membership, timings and TLS off when no global line is given', () => {
      expect(parse(MONITOR).global).toEqual({
        sentinelIds: SENTINEL_DEFAULTS.sentinelIds,
        tiltTriggerMs: SENTINEL_DEFAULTS.tiltTriggerMs,
        tiltPeriodMs: SENTINEL_DEFAULTS.tiltPeriodMs,
        loopLeaseMs: SENTINEL_DEFAULTS.loopLeaseMs,
        heartbeatPeriodMs: SENTINEL_DEFAULTS.heartbeatPeriodMs,
        tls: { enabled: false, rejectUnauthorized: true },
        resolveHostnames: false,
        announceHostnames: false,
        denyScriptsReconfig: true,
      });
    });
  });

  describe('directives', () => {
    it('parses every per-master directive', () => {
      const master = onlyMaster(
        parse(
          'sentinel monitor cache-1.eu_west 10.1.2.3 6380 3',
          'sentinel down-after-milliseconds cache-1.eu_west 4000',
          'sentinel failover-timeout cache-1.eu_west 90000',
          'sentinel parallel-syncs cache-1.eu_west 2',
          'sentinel auth-pass cache-1.eu_west hunter2',
          'sentinel auth-user cache-1.eu_west sentinel-user',
          'sentinel master-reboot-down-after-period cache-1.eu_west 15000',
          'sentinel rename-command cache-1.eu_west CONFIG my-config',
          'sentinel rename-command cache-1.eu_west slaveof my-slaveof',
          'sentinel probe-period cache-1.eu_west 250',
          'sentinel probe-timeout cache-1.eu_west 200',
          'sentinel info-period cache-1.eu_west 2000',
          'sentinel vote-max-age cache-1.eu_west 3000',
          'sentinel vote-refresh cache-1.eu_west 400',
          'sentinel leader-lease cache-1.eu_west 7000',
        ),
      );
      expect(master).toEqual({
        name: 'cache-1.eu_west',
        host: '10.1.2.3',
        port: 6380,
        quorum: 3,
        downAfterMs: 4000,
        failoverTimeoutMs: 90_000,
        parallelSyncs: 2,
        authPass: 'hunter2',
        authUser: 'sentinel-user',
        masterRebootDownAfterPeriodMs: 15_000,
        renamedCommands: { config: 'my-config', slaveof: 'my-slaveof' },
        probePeriodMs: 250,
        probeTimeoutMs: 200,
        infoPeriodMs: 2000,
        voteMaxAgeMs: 3000,
        voteRefreshMs: 400,
        leaderLeaseMs: 7000,
      });
    });

    it('parses every global directive', () => {
      const { global } = parse(
        'sentinel members az-a az-b az-c az-d az-e',
        'sentinel tilt-trigger 1500',
        'sentinel tilt-period 20000',
        'sentinel loop-lease 8000',
        'sentinel heartbeat-period 1000',
        MONITOR,
      );
      expect(global).toMatchObject({
        sentinelIds: ['az-a', 'az-b', 'az-c', 'az-d', 'az-e'],
        tiltTriggerMs: 1500,
        tiltPeriodMs: 20_000,
        loopLeaseMs: 8000,
        heartbeatPeriodMs: 1000,
      });
    });

    it('parses the TLS directives into TlsSettings', () => {
      const { tls } = parse(
        'tls-replication yes',
        'tls-ca-cert-file /etc/redis/ca.crt',
        'tls-cert-file "/etc/redis/client cert.crt"',
        'tls-key-file /etc/redis/client.key',
        'tls-verify-peer no',
        MONITOR,
      ).global;
      expect(tls).toEqual({
        enabled: true,
        caCertFile: '/etc/redis/ca.crt',
        certFile: '/etc/redis/client cert.crt',
        keyFile: '/etc/redis/client.key',
        rejectUnauthorized: false,
      });
      expect(parse('TLS-REPLICATION Yes', MONITOR).global.tls).toEqual({
        enabled: true,
        rejectUnauthorized: true,
      });
    });

    it('accepts per-master lines before the monitor line of their master, as Sentinel does', () => {
      const master = onlyMaster(
        parse('sentinel down-after-milliseconds mymaster 5000', 'sentinel auth-pass mymaster pw', MONITOR),
      );
      expect(master).toMatchObject({ downAfterMs: 5000, authPass: 'pw' });
    });

    it('reads directive names case-insensitively but keeps master names as written', () => {
      const master = onlyMaster(
        parse('SENTINEL Monitor MyMaster 127.0.0.1 6379 2', 'Sentinel DOWN-AFTER-MILLISECONDS MyMaster 7000'),
      );
      expect(master).toMatchObject({ name: 'MyMaster', downAfterMs: 7000 });
    });

    it('keeps masters in file order, each with its own settings', () => {
      const { masters } = parse(
        'sentinel monitor b 10.0.0.2 6379 2',
        'sentinel monitor a 10.0.0.1 6379 1',
        'sentinel down-after-milliseconds a 1000',
      );
      expect(masters.map((master) => [master.name, master.downAfterMs])).toEqual([
        ['b', SENTINEL_DEFAULTS.downAfterMs],
        ['a', 1000],
      ]);
    });

    it('accepts host names (with resolve-hostnames, wherever it is in the file) and IPv6 addresses', () => {
      const { masters } = parse(
        'sentinel monitor a redis-a.internal.example 6379 2',
        'sentinel resolve-hostnames yes',
        'sentinel monitor b ::1 6379 2',
        'sentinel monitor c fd00:1::5 6379 2',
      );
      expect(masters.map((master) => master.host)).toEqual(['redis-a.internal.example', '::1', 'fd00:1::5']);
    });

    it('treats an empty auth-pass or auth-user as unset, as Sentinel does', () => {
      const master = onlyMaster(
        parse(MONITOR, 'sentinel auth-pass mymaster ""', "sentinel auth-user mymaster ''"),
      );
      expect('authPass' in master).toBe(false);
      expect('authUser' in master).toBe(false);
    });

    it('accepts a master-reboot-down-after-period of 0 (off) and a probe period equal to down-after', () => {
      const master = onlyMaster(
        parse(
          MONITOR,
          'sentinel master-reboot-down-after-period mymaster 0',
          'sentinel down-after-milliseconds mymaster 800',
          'sentinel probe-period mymaster 800',
        ),
      );
      expect(master).toMatchObject({
        masterRebootDownAfterPeriodMs: 0,
        probePeriodMs: 800,
        downAfterMs: 800,
      });
    });

    it('accepts a quorum equal to the number of sentinels, and a single-sentinel membership', () => {
      expect(onlyMaster(parse('sentinel monitor mymaster 127.0.0.1 6379 3')).quorum).toBe(3);
      const single = parse('sentinel members solo', 'sentinel monitor mymaster 127.0.0.1 6379 1');
      expect(single.global.sentinelIds).toEqual(['solo']);
    });

    it('returns frozen settings, down to each master and its renamed commands', () => {
      const detailed = parseSentinelConfigDetailed(
        conf('port 26379', MONITOR, 'sentinel rename-command mymaster config c2'),
        FILE,
      );
      const { config } = detailed;
      const master = onlyMaster(config);
      for (const value of [
        detailed,
        detailed.ignored,
        detailed.ignored[0],
        config,
        config.global,
        config.global.sentinelIds,
        config.global.tls,
        config.masters,
        master,
        master.renamedCommands,
      ]) {
        expect(Object.isFrozen(value)).toBe(true);
      }
    });
  });

  describe('quoting and comments', () => {
    it('reads a double-quoted password with spaces and Redis escapes', () => {
      const master = onlyMaster(parse(MONITOR, String.raw`sentinel auth-pass mymaster "p a\"s\\s\t\x41\n"`));
      expect(master.authPass).toBe('p a"s\\s\tA\n');
    });

    it('reads a single-quoted password literally except for an escaped quote', () => {
      const master = onlyMaster(parse(MONITOR, String.raw`sentinel auth-pass mymaster 'it\'s \n "raw"'`));
      expect(master.authPass).toBe(String.raw`it's \n "raw"`);
    });

    it('decodes consecutive \\xHH escapes as UTF-8 and rejects bytes that are not UTF-8', () => {
      expect(splitConfigLine(String.raw`a "caf\xc3\xa9" "\xZZ"`)).toEqual({
        ok: true,
        args: ['a', 'café', 'xZZ'],
      });
      expect(splitConfigLine(String.raw`"\xff"`)).toEqual({ ok: false, reason: SPLIT_REASONS.badBytes });
    });

    it('lets a quote start inside an argument, as Redis does', () => {
      expect(splitConfigLine(`pass"word x" 'y'`)).toEqual({ ok: true, args: ['password x', 'y'] });
      expect(splitConfigLine('a "" b')).toEqual({ ok: true, args: ['a', '', 'b'] });
    });

    it('rejects an unbalanced quote on its line without echoing the line', () => {
      const issue = expectSingleIssue(
        [MONITOR, 'sentinel auth-pass mymaster "s3cret'],
        2,
        /unbalanced quotes/,
      );
      expect(issue.reason).not.toContain('s3cret');
      expectSingleIssue([MONITOR, "sentinel auth-user mymaster 'bob"], 2, /unbalanced quotes/);
    });

    it('rejects a closing quote that is followed by more text', () => {
      expectSingleIssue([MONITOR, 'sentinel auth-user mymaster "bob"x'], 2, /closing quote must be followed/);
    });

    it('skips comment lines, blank lines, indentation, CRLF endings and a byte-order mark', () => {
      const text = `\uFEFF# comment\r\n\r\n   ${MONITOR}\r\n\t# indented comment\r\n  sentinel down-after-milliseconds mymaster 900  \r\n`;
      expect(onlyMaster(parseSentinelConfig(text, FILE)).downAfterMs).toBe(900);
    });

    it('takes # inside a line as part of an argument, as Redis does', () => {
      expect(onlyMaster(parse(MONITOR, 'sentinel auth-pass mymaster pa#ss')).authPass).toBe('pa#ss');
      expectSingleIssue(
        [MONITOR, 'sentinel down-after-milliseconds mymaster 5000 # five seconds'],
        2,
        /^wrong number of arguments for 'sentinel down-after-milliseconds': expected <name> <ms>$/,
      );
    });
  });

  describe('rejections', () => {
    it('accepts a quorum larger than the number of sentinels, as Sentinel does', () => {
      // A real redis-server --sentinel 7.0.15 loads `sentinel monitor mymaster 127.0.0.1 <port> 4` with no
      // other sentinel; ODOWN is then never reached, so only SENTINEL FAILOVER fails over.
      expect(onlyMaster(parse('sentinel monitor mymaster 127.0.0.1 6379 4')).quorum).toBe(4);
      expect(
        onlyMaster(parse('sentinel members one two', 'sentinel monitor mymaster 127.0.0.1 6379 3')).quorum,
      ).toBe(3);
    });

    it("refuses a host name without 'sentinel resolve-hostnames yes', with Sentinel's reason", () => {
      // Sentinel 7.0.15: "Can't resolve instance hostname." for `sentinel monitor mx localhost 6379 2`.
      expectSingleIssue(
        ['sentinel monitor mymaster localhost 6379 2'],
        1,
        /^Can't resolve instance hostname\. 'localhost' is a host name: add 'sentinel resolve-hostnames yes' to monitor a master by host name$/,
      );
      expectSingleIssue(
        ['sentinel resolve-hostnames no', 'sentinel monitor mymaster redis.internal 6379 2'],
        2,
        /^Can't resolve instance hostname\./,
      );
    });

    it.each([['1e3'], ['-5'], ['abc'], ['10ms'], ['0x10'], ['1.5'], ['+7'], [''], ['99999999999999999999']])(
      'rejects the non-decimal number %j, naming the bad value like Sentinel',
      (value) => {
        expectSingleIssue(
          [MONITOR, `sentinel down-after-milliseconds mymaster "${value}"`],
          2,
          new RegExp(`^Invalid argument '${value.replace(/[.+]/g, '\\$&')}' for 'down-after-milliseconds'`),
        );
      },
    );

    it.each([
      ['down-after-milliseconds'],
      ['failover-timeout'],
      ['parallel-syncs'],
      ['probe-period'],
      ['probe-timeout'],
      ['info-period'],
      ['vote-max-age'],
      ['vote-refresh'],
      ['leader-lease'],
    ])('rejects 0 for %s, which must be greater than 0', (option) => {
      expectSingleIssue(
        [MONITOR, `sentinel ${option} mymaster 0`],
        2,
        new RegExp(`^Invalid argument '0' for '${option}': expected a decimal integer > 0$`),
      );
    });

    it.each([['tilt-trigger'], ['tilt-period'], ['loop-lease'], ['heartbeat-period']])(
      'rejects 0 for the global %s',
      (option) => {
        expectSingleIssue(
          [`sentinel ${option} 0`, MONITOR],
          1,
          new RegExp(`^Invalid argument '0' for '${option}'`),
        );
      },
    );

    it.each([
      ['down-after-milliseconds', 3_600_000, '3600000 (1 hour)'],
      ['failover-timeout', 86_400_000, '86400000 (1 day)'],
      ['parallel-syncs', 1_000, '1000'],
      ['master-reboot-down-after-period', 3_600_000, '3600000 (1 hour)'],
      ['probe-period', 60_000, '60000 (1 minute)'],
      ['probe-timeout', 60_000, '60000 (1 minute)'],
      ['info-period', 600_000, '600000 (10 minutes)'],
      ['vote-max-age', 600_000, '600000 (10 minutes)'],
      ['vote-refresh', 60_000, '60000 (1 minute)'],
      ['leader-lease', 600_000, '600000 (10 minutes)'],
    ])('rejects %s above its maximum %i, naming the limit', (option, maximum, shown) => {
      expectSingleIssue(
        [MONITOR, `sentinel ${option} mymaster ${maximum + 1}`],
        2,
        new RegExp(
          `^Invalid argument '${maximum + 1}' for '${option}': at most ${shown.replace(/[()]/g, '\\$&')}$`,
        ),
      );
    });

    it.each([
      ['tilt-trigger', 60_000, '60000 (1 minute)'],
      ['tilt-period', 3_600_000, '3600000 (1 hour)'],
      ['loop-lease', 900_000, '900000 (15 minutes)'],
      ['heartbeat-period', 60_000, '60000 (1 minute)'],
    ])('rejects the global %s above its maximum %i, naming the limit', (option, maximum, shown) => {
      expectSingleIssue(
        [`sentinel ${option} ${maximum + 1}`, MONITOR],
        1,
        new RegExp(
          `^Invalid argument '${maximum + 1}' for '${option}': at most ${shown.replace(/[()]/g, '\\$&')}$`,
        ),
      );
    });

    it('rejects down-after-milliseconds 999999999999999 (which would switch detection off)', () => {
      expectSingleIssue(
        [MONITOR, 'sentinel down-after-milliseconds mymaster 999999999999999'],
        2,
        /^Invalid argument '999999999999999' for 'down-after-milliseconds': at most 3600000 \(1 hour\)$/,
      );
    });

    it('accepts every bound itself', () => {
      const master = onlyMaster(
        parse(
          MONITOR,
          'sentinel down-after-milliseconds mymaster 3600000',
          'sentinel failover-timeout mymaster 86400000',
          'sentinel parallel-syncs mymaster 1000',
          'sentinel master-reboot-down-after-period mymaster 3600000',
          'sentinel probe-period mymaster 60000',
          'sentinel probe-timeout mymaster 60000',
          'sentinel info-period mymaster 600000',
          'sentinel vote-max-age mymaster 600000',
          'sentinel vote-refresh mymaster 60000',
          'sentinel leader-lease mymaster 600000',
        ),
      );
      expect(master).toMatchObject({
        downAfterMs: 3_600_000,
        failoverTimeoutMs: 86_400_000,
        leaderLeaseMs: 600_000,
      });
    });

    it('rejects a master name over 128 characters, naming the limit', () => {
      const name = 'm'.repeat(10_000);
      const issue = expectSingleIssue(
        [`sentinel monitor ${name} 127.0.0.1 6379 2`],
        1,
        /^Invalid master name 'm{64}…' for 'sentinel monitor': longer than 128 characters$/,
      );
      expect(issue.reason.length).toBeLessThan(200);
      expect(onlyMaster(parse(`sentinel monitor ${'m'.repeat(128)} 127.0.0.1 6379 2`)).name).toHaveLength(
        128,
      );
    });

    it('rejects a negative master-reboot-down-after-period', () => {
      expectSingleIssue(
        [MONITOR, 'sentinel master-reboot-down-after-period mymaster -1'],
        2,
        /^Invalid argument '-1' for 'master-reboot-down-after-period': expected a decimal integer >= 0$/,
      );
    });

    it.each([
      ['port 0', 'sentinel monitor m 127.0.0.1 0 2', /^Invalid port '0' for 'sentinel monitor'/],
      ['port 65536', 'sentinel monitor m 127.0.0.1 65536 2', /^Invalid port '65536'/],
      ['port abc', 'sentinel monitor m 127.0.0.1 abc 2', /^Invalid port 'abc'/],
      ['quorum 0', 'sentinel monitor m 127.0.0.1 6379 0', /^Invalid quorum '0' for 'sentinel monitor'/],
      ['quorum 1e1', 'sentinel monitor m 127.0.0.1 6379 1e1', /^Invalid quorum '1e1'/],
      ['name with a slash', 'sentinel monitor a/b 127.0.0.1 6379 2', /^Invalid master name 'a\/b'/],
      ['name with a colon', 'sentinel monitor a:b 127.0.0.1 6379 2', /^Invalid master name 'a:b'/],
      ['bad IPv4', 'sentinel monitor m 10.0.0.300 6379 2', /^Invalid host '10\.0\.0\.300'/],
      ['bad host', 'sentinel monitor m red!s 6379 2', /^Invalid host 'red!s'/],
    ])('rejects a monitor line with a %s', (_case, line, reason) => {
      expectSingleIssue([line], 1, reason);
    });

    it('reports every bad value of one monitor line', () => {
      const issues = issuesOf('sentinel monitor a/b 10.0.0.300 0 0');
      expect(issues.map((issue) => issue.line)).toEqual([1, 1, 1, 1]);
      expect(issues.map((issue) => issue.reason.split(' ')[1])).toEqual(['master', 'host', 'port', 'quorum']);
    });

    it('rejects a second monitor line for the same name as a duplicate master name', () => {
      expectSingleIssue(
        [MONITOR, 'sentinel monitor other 10.0.0.1 6379 2', 'sentinel monitor mymaster 10.0.0.2 6379 2'],
        3,
        /^Duplicate master name 'mymaster' \(first monitored on line 1\)$/,
      );
    });

    it('rejects a per-master line naming a master that is never monitored', () => {
      expectSingleIssue(
        [MONITOR, 'sentinel down-after-milliseconds mymastr 5000'],
        2,
        /^master 'mymastr' is not monitored/,
      );
    });

    it('rejects renaming the same command twice, whatever its case', () => {
      expectSingleIssue(
        [MONITOR, 'sentinel rename-command mymaster config c1', 'sentinel rename-command mymaster CONFIG c2'],
        3,
        /^command 'config' of master 'mymaster' is already renamed on line 2$/,
      );
    });

    it('rejects a rename to an empty name', () => {
      expectSingleIssue([MONITOR, 'sentinel rename-command mymaster config ""'], 2, /non-empty new name/);
    });

    it('rejects a rename to another Redis command (any case), without showing the new name', () => {
      for (const target of ['FLUSHALL', 'flushall', 'FlushDB', 'SHUTDOWN', 'info']) {
        const issue = expectSingleIssue(
          [MONITOR, `sentinel rename-command mymaster PING ${target}`],
          2,
          /^'sentinel rename-command' cannot rename command 'ping' of master 'mymaster': the new name is the name of another Redis command/,
        );
        expect(issue.reason).not.toContain(target);
      }
    });

    it('rejects a new name that is no command token (spaces, control characters, non-ASCII, too long), unshown', () => {
      for (const target of ['"my ping"', '"p\\r\\ning"', 'πινγ', 'x'.repeat(129)]) {
        const issue = expectSingleIssue(
          [MONITOR, `sentinel rename-command mymaster ping ${target}`],
          2,
          /^'sentinel rename-command' cannot rename command 'ping' of master 'mymaster': the new name: /,
        );
        expect(issue.reason).not.toMatch(/my ping|ning|πινγ|xxxx/);
      }
      expectSingleIssue(
        [MONITOR, 'sentinel rename-command mymaster "pi ng" P1'],
        2,
        /^'sentinel rename-command' cannot rename a command of master 'mymaster': the command name: /,
      );
      // The limit itself is accepted, and so is a rename of a command to its own name.
      const master = onlyMaster(
        parse(
          MONITOR,
          `sentinel rename-command mymaster ping ${'x'.repeat(128)}`,
          'sentinel rename-command mymaster info INFO',
        ),
      );
      expect(master.renamedCommands).toEqual({ ping: 'x'.repeat(128), info: 'INFO' });
    });

    it('rejects a setting given twice, naming the line that set it first', () => {
      expectSingleIssue(
        [MONITOR, 'sentinel failover-timeout mymaster 1000', 'sentinel failover-timeout mymaster 2000'],
        3,
        /^'sentinel failover-timeout' for master 'mymaster' is already set on line 2$/,
      );
      expectSingleIssue(
        ['sentinel loop-lease 9000', MONITOR, 'sentinel loop-lease 9000'],
        3,
        /is already set on line 1/,
      );
      expectSingleIssue(['tls-replication yes', 'tls-replication no', MONITOR], 2, /already set on line 1/);
      expectSingleIssue(
        ['sentinel members a b c', 'sentinel members a b c', MONITOR],
        2,
        /already set on line 1/,
      );
    });

    it.each([
      [
        'sentinel monitor mymaster 127.0.0.1 6379',
        /^wrong number of arguments for 'sentinel monitor': expected <name> <host> <port> <quorum>$/,
      ],
      [
        'sentinel down-after-milliseconds mymaster',
        /^wrong number of arguments for 'sentinel down-after-milliseconds': expected <name> <ms>$/,
      ],
      [
        'sentinel parallel-syncs mymaster 1 2',
        /^wrong number of arguments for 'sentinel parallel-syncs': expected <name> <count>$/,
      ],
      [
        'sentinel rename-command mymaster config',
        /^wrong number of arguments for 'sentinel rename-command': expected <name> <command> <renamed-command>$/,
      ],
      [
        'sentinel auth-user mymaster',
        /^wrong number of arguments for 'sentinel auth-user': expected <name> <user>$/,
      ],
      ['sentinel tilt-period', /^wrong number of arguments for 'sentinel tilt-period': expected <ms>$/],
      ['sentinel members', /^wrong number of arguments for 'sentinel members': expected <sentinel-id>/],
      ['tls-replication', /^wrong number of arguments for 'tls-replication': expected yes\|no$/],
      ['tls-cert-file a b', /^wrong number of arguments for 'tls-cert-file': expected <path>$/],
      ['sentinel', /^wrong number of arguments for 'sentinel': expected <option>/],
    ])('rejects the wrong number of arguments in %j, saying what was expected', (line, reason) => {
      const issues = issuesOf('sentinel monitor mymaster 127.0.0.1 6379 2', line);
      expect(issues.filter((issue) => issue.line === 2)).toEqual([
        { file: FILE, line: 2, reason: expect.stringMatching(reason) },
      ]);
    });

    it('rejects unknown directives, naming them', () => {
      const issues = issuesOf(
        MONITOR,
        'sentinel down-after-milisecond mymaster 5000',
        'masterauth foo',
        'Sentinel Frobnicate',
      );
      expect(issues.map((issue) => [issue.line, issue.reason])).toEqual([
        [2, "unknown directive 'sentinel down-after-milisecond'"],
        [
          3,
          "'masterauth' is refused: not used to reach the masters (nor by Sentinel): set 'sentinel auth-pass <master> <password>'",
        ],
        [4, "unknown directive 'sentinel frobnicate'"],
      ]);
    });

    it('reads notification-script and client-reconfig-script (the local runner runs them)', () => {
      const master = onlyMaster(
        parse(
          MONITOR,
          'sentinel notification-script mymaster /var/redis/notify.sh',
          'sentinel client-reconfig-script mymaster "/var/redis/re config.sh"',
        ),
      );
      expect(master).toMatchObject({
        notificationScript: '/var/redis/notify.sh',
        clientReconfigScript: '/var/redis/re config.sh',
      });
      expectSingleIssue(
        [MONITOR, 'sentinel notification-script mymaster'],
        2,
        /^wrong number of arguments for 'sentinel notification-script': expected <name> <path>$/,
      );
    });

    it('refuses script lines in a deployment, pointing to SNS and the event log', async () => {
      for (const option of ['notification-script', 'client-reconfig-script']) {
        const text = `${MONITOR}\nsentinel ${option} mymaster /var/redis/x.sh\n`;
        const error = await readDeployment({ TABLE_NAME: 't', SENTINEL_CONFIG: text }).then(
          () => expect.fail('expected a refusal'),
          (thrown: unknown) => thrown as Error,
        );
        expect(error).toBeInstanceOf(DeploymentConfigError);
        expect(error.message).toMatch(
          new RegExp(
            `^\\$SENTINEL_CONFIG: 'sentinel ${option}' for master mymaster: ${option} is not run by the ` +
              'deployment, whose functions run no programs: .*SNS topic.*docs/alerts\\.md',
          ),
        );
      }
    });

    it('rejects a probe-timeout that is not shorter than down-after, on the probe-timeout line', () => {
      expectSingleIssue(
        [MONITOR, 'sentinel down-after-milliseconds mymaster 1000', 'sentinel probe-timeout mymaster 1000'],
        3,
        /^probe-timeout 1000 must be shorter than down-after-milliseconds 1000: /,
      );
    });

    it('reports a relation broken against a default on the line of the setting that was given', () => {
      expectSingleIssue(
        [MONITOR, 'sentinel probe-timeout mymaster 40000'],
        2,
        /^probe-timeout 40000 must be shorter than down-after-milliseconds 30000 \(default\)/,
      );
      expectSingleIssue(
        [MONITOR, 'sentinel vote-max-age mymaster 800'],
        2,
        /^vote-refresh 1000 \(default\) must be shorter than vote-max-age 800: /,
      );
      expectSingleIssue(
        ['sentinel loop-lease 4500', MONITOR],
        1,
        /^heartbeat-period 5000 \(default\) must be shorter than loop-lease 4500: /,
      );
    });

    it('rejects a down-after so short that no probe timeout fits below it', () => {
      expectSingleIssue(
        [MONITOR, 'sentinel down-after-milliseconds mymaster 1'],
        2,
        /^down-after-milliseconds 1 is too short/,
      );
    });

    it('rejects a probe-period longer than down-after', () => {
      expectSingleIssue(
        [MONITOR, 'sentinel down-after-milliseconds mymaster 500', 'sentinel probe-period mymaster 501'],
        3,
        /^probe-period 501 must not be longer than down-after-milliseconds 500: /,
      );
    });

    it('rejects a probe-timeout the leader lease cannot fence (probe-timeout 4000, leader-lease 5000)', () => {
      expectSingleIssue(
        [MONITOR, 'sentinel probe-timeout mymaster 4000'],
        2,
        new RegExp(
          '^leader-lease 5000 \\(default\\) is too short for probe-timeout 4000: a failover sends a command ' +
            'to Redis only while its leader lease has more than probe-timeout \\+ 500 ms left, so ' +
            'leader-lease must be at least 2 × \\(probe-timeout \\+ 500\\) = 9000; raise leader-lease ' +
            'to 9000 or more, or lower probe-timeout to 2000 or less$',
        ),
      );
      // Both given: reported on the probe-timeout line; a lease long enough, or a shorter timeout, loads.
      expectSingleIssue(
        [MONITOR, 'sentinel leader-lease mymaster 8999', 'sentinel probe-timeout mymaster 4000'],
        3,
        /^leader-lease 8999 is too short for probe-timeout 4000: .* = 9000; /,
      );
      expect(
        onlyMaster(
          parse(MONITOR, 'sentinel leader-lease mymaster 9000', 'sentinel probe-timeout mymaster 4000'),
        ),
      ).toMatchObject({ leaderLeaseMs: 9000, probeTimeoutMs: 4000 });
      expect(onlyMaster(parse(MONITOR, 'sentinel probe-timeout mymaster 2000')).probeTimeoutMs).toBe(2000);
    });

    it('rejects a leader lease too short for the default probe timeout, on the leader-lease line', () => {
      expectSingleIssue(
        [MONITOR, 'sentinel leader-lease mymaster 1999'],
        2,
        /^leader-lease 1999 is too short for probe-timeout 500 \(default\): .* = 2000; raise leader-lease to 2000 or more, or lower probe-timeout to 499 or less$/,
      );
      expectSingleIssue(
        [MONITOR, 'sentinel leader-lease mymaster 1000'],
        2,
        /= 2000; raise leader-lease to 2000 or more$/,
      );
      // A shorter down-after gives a shorter default probe timeout: then a shorter lease is enough.
      expect(
        onlyMaster(
          parse(
            MONITOR,
            'sentinel down-after-milliseconds mymaster 600',
            'sentinel leader-lease mymaster 1600',
          ),
        ).probeTimeoutMs,
      ).toBe(300);
    });

    it('keeps the defaults within the leader fence, for every down-after', () => {
      fc.assert(
        fc.property(fc.integer({ min: 2, max: 3_600_000 }), (downAfterMs) => {
          const master = onlyMaster(
            parse(MONITOR, `sentinel down-after-milliseconds mymaster ${downAfterMs}`),
          );
          expect(master.leaderLeaseMs).toBeGreaterThanOrEqual(minimumLeaderLeaseMs(master.probeTimeoutMs));
        }),
        { numRuns: 100 },
      );
    });

    it('rejects a vote-refresh that is not shorter than vote-max-age', () => {
      expectSingleIssue(
        [MONITOR, 'sentinel vote-max-age mymaster 2000', 'sentinel vote-refresh mymaster 2000'],
        3,
        /^vote-refresh 2000 must be shorter than vote-max-age 2000: /,
      );
    });

    it('rejects a heartbeat-period that is not shorter than the loop lease', () => {
      expectSingleIssue(
        ['sentinel loop-lease 4000', 'sentinel heartbeat-period 4000', MONITOR],
        2,
        /^heartbeat-period 4000 must be shorter than loop-lease 4000: /,
      );
    });

    it('rejects a client certificate without its key, and a key without its certificate', () => {
      expectSingleIssue(
        ['tls-replication yes', 'tls-cert-file /c.crt', MONITOR],
        2,
        /^'tls-cert-file' needs 'tls-key-file' too/,
      );
      expectSingleIssue(
        ['tls-replication yes', MONITOR, 'tls-key-file /c.key'],
        3,
        /^'tls-key-file' needs 'tls-cert-file' too/,
      );
    });

    it('rejects TLS files and tls-verify-peer without tls-replication yes', () => {
      const issues = issuesOf(
        MONITOR,
        'tls-replication no',
        'tls-ca-cert-file /ca.crt',
        'tls-cert-file /c.crt',
        'tls-key-file /c.key',
        'tls-verify-peer no',
      );
      expect(issues.map((issue) => issue.line)).toEqual([3, 4, 5, 6]);
      for (const issue of issues)
        expect(issue.reason).toMatch(/has no effect without 'tls-replication yes'$/);
    });

    it('rejects a yes/no directive with another value', () => {
      expectSingleIssue(
        ['tls-replication true', MONITOR],
        1,
        /^Invalid argument 'true' for 'tls-replication': expected yes or no$/,
      );
    });

    it('rejects bad sentinel ids and duplicate ids in the membership', () => {
      const issues = issuesOf('sentinel members sentinel-a Sentinel_B sentinel-a', MONITOR);
      expect(issues.map((issue) => [issue.line, issue.reason])).toEqual([
        [1, "Invalid sentinel id 'Sentinel_B' for 'sentinel members': expected 1 to 40 of a-z 0-9 -"],
        [1, "sentinel id 'sentinel-a' is listed more than once in 'sentinel members'"],
      ]);
      expectSingleIssue([`sentinel members ${'x'.repeat(41)}`, MONITOR], 1, /^Invalid sentinel id/);
    });

    it('rejects a configuration with no monitor line, at line 0', () => {
      expectSingleIssue(['# nothing here', 'port 26379'], 0, /^no `sentinel monitor` line/);
      expectSingleIssue([''], 0, /^no `sentinel monitor` line/);
    });

    it('does not add follow-on errors for the lines of a master whose monitor line is bad', () => {
      expectSingleIssue(
        ['sentinel monitor mymaster 127.0.0.1 99999 2', 'sentinel down-after-milliseconds mymaster 5000'],
        1,
        /^Invalid port/,
      );
      expectSingleIssue(
        ['sentinel monitor mymaster 127.0.0.1 6379', 'sentinel auth-pass mymaster pw'],
        1,
        /^wrong number of arguments/,
      );
      expectSingleIssue(
        ['sentinel heartbeat-period 20000', 'sentinel loop-lease 1e4', MONITOR],
        2,
        /^Invalid argument '1e4' for 'loop-lease'/,
      );
    });

    it('still checks the values of a master whose monitor line is bad', () => {
      const issues = issuesOf(
        'sentinel monitor mymaster 127.0.0.1 0 2',
        'sentinel failover-timeout mymaster 3s',
      );
      expect(issues.map((issue) => issue.line)).toEqual([1, 2]);
    });
  });

  describe('reporting', () => {
    it('reports every bad line in one ConfigError, in line order, one FILE:LINE: reason per line', () => {
      const error = configErrorOf(() =>
        parseSentinelConfig(
          conf(
            'sentinel down-after-milliseconds mymaster abc',
            MONITOR,
            'bogus-directive 1',
            'sentinel parallel-syncs mymaster 0',
            'sentinel monitor other localhost 6379 9',
          ),
          '/etc/redis/sentinel.conf',
        ),
      );
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe('ConfigError');
      expect(error.issues.map((issue) => issue.line)).toEqual([1, 3, 4, 5]);
      const messageLines = error.message.split('\n');
      expect(messageLines).toHaveLength(4);
      expect(messageLines[0]).toBe(
        "/etc/redis/sentinel.conf:1: Invalid argument 'abc' for 'down-after-milliseconds': expected a decimal integer > 0",
      );
      expect(messageLines[2]).toMatch(
        /^\/etc\/redis\/sentinel\.conf:4: Invalid argument '0' for 'parallel-syncs'/,
      );
      expect(Object.isFrozen(error.issues)).toBe(true);
    });

    it('never shows an auth-pass value in a reason', () => {
      const secret = 'Tr0ub4dor';
      const error = configErrorOf(() =>
        parse(
          MONITOR,
          `sentinel auth-pass mymaster ${secret} &3`,
          `sentinel auth-pass ${secret} mymaster`,
          `sentinel auth-pass mymaster ${secret}`,
          `sentinel auth-pass mymaster ${secret}x`,
          `sentinel auth-pass mymaster "${secret}`,
          `sentinel auth-pass ${secret}`,
        ),
      );
      expect(error.issues.map((issue) => issue.line)).toEqual([2, 3, 5, 6, 7]);
      expect(error.message).not.toContain(secret);
      for (const issue of error.issues.filter((issue) => issue.line !== 6)) {
        expect(issue.reason).toContain('auth-pass value hidden');
      }
    });

    it('does not echo a stray line that does not look like a directive, in case it is a password', () => {
      const issue = expectSingleIssue([MONITOR, 'Tr0ub4dor&3!'], 2, /^unknown directive \(not shown/);
      expect(issue.reason).not.toContain('Tr0ub4dor');
    });

    it('does not show renamed command names', () => {
      const error = configErrorOf(() =>
        parse(
          MONITOR,
          'sentinel rename-command mymaster config hidden-one',
          'sentinel rename-command mymaster config hidden-two',
        ),
      );
      expect(error.message).not.toMatch(/hidden-(one|two)/);
    });

    it('accepts Sentinel lines that do not apply here and reports them as ignored', () => {
      const lines = [
        'port 26379',
        'bind 0.0.0.0',
        'daemonize yes',
        'pidfile /var/run/sentinel.pid',
        'logfile ""',
        'dir /tmp',
        'protected-mode no',
        'sentinel myid 0123456789012345678901234567890123456789',
        'sentinel current-epoch 7',
        'sentinel config-epoch mymaster 7',
        'sentinel leader-epoch mymaster 7',
        'sentinel known-replica mymaster 10.0.0.2 6379',
        'sentinel known-slave mymaster 10.0.0.3 6379',
        'sentinel known-sentinel mymaster 10.0.0.4 26379 0123456789012345678901234567890123456789',
        'latency-tracking-info-percentiles 50 99 99.9',
        MONITOR,
      ];
      const { config, ignored } = parseSentinelConfigDetailed(conf(...lines), FILE);
      expect(config.masters).toHaveLength(1);
      expect(ignored).toHaveLength(lines.length - 1);
      expect(ignored[0]).toEqual({
        file: FILE,
        line: 1,
        directive: 'port',
        reason: 'the listeners are set on the command line (--port, --host, --http-port)',
      });
      expect(ignored[7]).toEqual({
        file: FILE,
        line: 8,
        directive: 'sentinel myid',
        reason: "each sentinel's run id is derived from its member id (sentinel members)",
      });
      expect(ignored.map((entry) => entry.directive)).not.toContain('sentinel monitor');
    });

    it('accepts the redis.conf lines that have no effect here, each with why, and changes nothing', () => {
      const lines = [
        'tcp-keepalive 300',
        'unixsocket /run/redis.sock',
        'supervised systemd',
        'hz 10',
        'io-threads 4',
        'acllog-max-len 128',
        'tls-auth-clients no',
        'tls-session-caching no',
        MONITOR,
      ];
      const { config, ignored } = parseSentinelConfigDetailed(conf(...lines), FILE);
      expect(config).toEqual(parse(MONITOR));
      expect(ignored.map((entry) => [entry.line, entry.directive])).toEqual(
        lines.slice(0, -1).map((line, i) => [i + 1, line.split(' ')[0]]),
      );
      for (const entry of ignored) expect(entry.reason).toMatch(/^\S.{10,}/);
    });

    it('refuses the redis.conf lines that would mislead if ignored, naming file, line and why', () => {
      const refused: Array<[string, RegExp]> = [
        [
          'tls-port 6380',
          /^'tls-port' is refused: the endpoint has no TLS listener: its clients would connect in clear\./,
        ],
        [
          'tls-protocols "TLSv1.3"',
          /^'tls-protocols' is refused: not applied: connections to Redis use Node\.js's TLS defaults/,
        ],
        ['tls-ciphers DEFAULT:!MEDIUM', /^'tls-ciphers' is refused: not applied/],
        ['tls-ciphersuites TLS_CHACHA20_POLY1305_SHA256', /^'tls-ciphersuites' is refused: not applied/],
        [
          'tls-ca-cert-dir /etc/ssl/certs',
          /^'tls-ca-cert-dir' is refused: a CA directory is not read: name the CA file with tls-ca-cert-file/,
        ],
        [
          'tls-client-cert-file /c.crt',
          /^'tls-client-cert-file' is refused: not read: the certificate for the connections to Redis is tls-cert-file here/,
        ],
        ['tls-client-key-file /c.key', /^'tls-client-key-file' is refused: not read/],
        [
          'tls-key-file-pass secret',
          /^'tls-key-file-pass' is refused: encrypted private keys are not supported/,
        ],
        [
          'aclfile /etc/redis/users.acl',
          /^'aclfile' is refused: an ACL file is not read: its users would not exist here/,
        ],
        ['acl-pubsub-default allchannels', /^'acl-pubsub-default' is refused: not applied/],
        [
          'rename-command SENTINEL ""',
          /^'rename-command' is refused: the endpoint's own commands cannot be renamed or disabled/,
        ],
        ['include /etc/redis/common.conf', /^'include' is refused: other files are not read/],
        [
          'masteruser ops',
          /^'masteruser' is refused: not used to reach the masters \(nor by Sentinel\): set 'sentinel auth-user <master> <user>'$/,
        ],
      ];
      const issues = issuesOf(MONITOR, ...refused.map(([line]) => line));
      expect(issues.map((issue) => issue.line)).toEqual(refused.map((_, i) => i + 2));
      refused.forEach(([, reason], i) => {
        expect(issues[i]?.file).toBe(FILE);
        expect(issues[i]?.reason).toMatch(reason);
      });
      // A refused line's values are never repeated (a key password, a path).
      expect(issues.map((issue) => issue.reason).join('\n')).not.toMatch(/secret|users\.acl|common\.conf/);
    });

    it('reads resolve-hostnames, announce-hostnames and deny-scripts-reconfig, with defaults', () => {
      expect(parse(MONITOR).global).toMatchObject({
        resolveHostnames: false,
        announceHostnames: false,
        denyScriptsReconfig: true,
      });
      const { config, ignored } = parseSentinelConfigDetailed(
        conf(
          'sentinel resolve-hostnames YES',
          'sentinel announce-hostnames yes',
          'sentinel deny-scripts-reconfig no',
          MONITOR,
        ),
        FILE,
      );
      expect(ignored).toEqual([]);
      expect(config.global).toMatchObject({
        resolveHostnames: true,
        announceHostnames: true,
        denyScriptsReconfig: false,
      });
      const bad = configErrorOf(() =>
        parse('sentinel resolve-hostnames maybe', 'sentinel announce-hostnames', MONITOR),
      );
      expect(bad.issues.map((issue) => [issue.line, issue.reason])).toEqual([
        [1, "Invalid argument 'maybe' for 'sentinel resolve-hostnames': expected yes or no"],
        [2, "wrong number of arguments for 'sentinel announce-hostnames': expected yes|no"],
      ]);
    });

    it('keeps the global parameters SENTINEL CONFIG GET shows, and never shows sentinel-pass', () => {
      const { config, ignored } = parseSentinelConfigDetailed(
        conf(
          'loglevel warning',
          'sentinel announce-ip 10.1.2.3',
          'sentinel announce-port 26380',
          'sentinel sentinel-user peer',
          'sentinel sentinel-pass "peer secret"',
          MONITOR,
        ),
        FILE,
      );
      expect(ignored).toEqual([]);
      expect(config.global).toMatchObject({
        loglevel: 'warning',
        announceIp: '10.1.2.3',
        announcePort: 26380,
        sentinelUser: 'peer',
        sentinelPass: 'peer secret',
      });
      const bad = configErrorOf(() =>
        parse(
          'loglevel loud',
          'sentinel announce-port 65536',
          'sentinel sentinel-pass peer-secret extra',
          'sentinel sentinel-pass "peer-secret"',
          'sentinel sentinel-pass "other-secret"',
          MONITOR,
        ),
      );
      expect(bad.issues.map((issue) => issue.line)).toEqual([1, 2, 3, 5]);
      expect(bad.issues[0]?.reason).toBe(
        "Invalid argument 'loud' for 'loglevel': expected debug|verbose|notice|warning|nothing",
      );
      expect(bad.message).not.toMatch(/peer-secret|other-secret/);
    });
  });
});

describe('Function: loadSentinelConfig', () => {
  it('loads a file that Redis 7 rewrote, ignoring its persisted state', async () => {
    const path = join(FIXTURES, 'rewritten.conf');
    const { config, ignored } = await loadSentinelConfigDetailed(path);
    expect(onlyMaster(config)).toMatchObject({
      name: 'mymaster',
      host: '10.0.0.5',
      downAfterMs: 5000,
      failoverTimeoutMs: 60_000,
      authPass: 's3cret with spaces',
      probeTimeoutMs: 300,
    });
    expect(ignored.every((entry) => entry.file === path)).toBe(true);
    expect(ignored.map((entry) => entry.directive)).toContain('sentinel known-replica');
    expect((await loadSentinelConfig(path)).masters).toHaveLength(1);
  });

  it('rejects a bad config file on disk, naming the file and each bad line', async () => {
    const path = join(FIXTURES, 'bad.conf');
    const error = await loadSentinelConfig(path).then(
      () => expect.fail('expected a ConfigError'),
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(ConfigError);
    const { issues, message } = error as ConfigError;
    expect(issues).toEqual([
      {
        file: path,
        line: 5,
        reason: expect.stringMatching(/^Invalid argument '10ms' for 'down-after-milliseconds'/),
      },
      { file: path, line: 7, reason: expect.stringMatching(/^Invalid argument '-5' for 'failover-timeout'/) },
    ]);
    expect(message).toContain(`${path}:5: `);
    expect(message).toContain(`${path}:7: `);
  });

  it('rejects a missing file with line 0 and the operating system reason', async () => {
    const path = join(FIXTURES, 'does-not-exist.conf');
    const error = await loadSentinelConfig(path).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      { file: path, line: 0, reason: expect.stringMatching(/^cannot read the file: ENOENT/) },
    ]);
    expect((error as ConfigError).cause).toBeInstanceOf(Error);
  });

  it('rejects a file that is not UTF-8 with line 0', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'lambda-sentinel-config-'));
    try {
      const path = join(directory, 'latin1.conf');
      await writeFile(path, Buffer.from(`${MONITOR}\nsentinel auth-pass mymaster caf\xe9\n`, 'latin1'));
      const error = await loadSentinelConfig(path).catch((thrown: unknown) => thrown);
      expect((error as ConfigError).issues).toEqual([
        { file: path, line: 0, reason: expect.stringMatching(/not valid UTF-8/) },
      ]);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});

describe('Property: parseSentinelConfig', () => {
  const directiveWords = fc.constantFrom(
    'sentinel',
    'monitor',
    'members',
    'down-after-milliseconds',
    'probe-timeout',
    'vote-refresh',
    'auth-pass',
    'rename-command',
    'tls-replication',
    'tls-cert-file',
    'port',
    'mymaster',
    '127.0.0.1',
    '6379',
    '2',
    '0',
    'yes',
    '"',
    "'",
    '\\x',
    '#',
    '__proto__',
    'constructor',
  );
  const word = fc.oneof(directiveWords, fc.string({ unit: 'binary', maxLength: 8 }));
  const line = fc.array(word, { maxLength: 7 }).map((words) => words.join(' '));

  function throwsOnlyConfigErrors(text: string): void {
    try {
      parseSentinelConfigDetailed(text, FILE);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).issues.length).toBeGreaterThan(0);
    }
  }

  it('throws nothing but a ConfigError for arbitrary text', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), throwsOnlyConfigErrors), {
      numRuns: 300,
    });
  });

  it('throws nothing but a ConfigError for arbitrary lines of directive-like words', () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), (lines) =>
        throwsOnlyConfigErrors(conf(MONITOR, ...lines)),
      ),
      { numRuns: 500 },
    );
  });

  /** Any value in a setting's documented range (SETTING_LIMITS), its maximum included. */
  const inRange = (field: keyof typeof SETTING_LIMITS, minimum: number = SETTING_LIMITS[field].minimum) =>
    fc.integer({ min: minimum, max: SETTING_LIMITS[field].maximum });
  /** The fraction `f` of the way from `min` to `max`, both included. */
  const between = (f: number, min: number, max: number) => min + Math.floor(f * (max - min));

  /** A valid master, with its bounds and relations satisfied by construction. */
  const validMaster = fc
    .record({
      name: fc.stringMatching(/^[A-Za-z0-9._-]{1,20}$/),
      port: fc.integer({ min: 1, max: 65_535 }),
      quorum: fc.integer({ min: 1, max: 3 }),
      downAfterMs: inRange('downAfterMs', 2),
      failoverTimeoutMs: inRange('failoverTimeoutMs'),
      parallelSyncs: inRange('parallelSyncs'),
      masterRebootDownAfterPeriodMs: inRange('masterRebootDownAfterPeriodMs'),
      infoPeriodMs: inRange('infoPeriodMs'),
      voteMaxAgeMs: inRange('voteMaxAgeMs', 2),
      authPass: fc.string({ minLength: 1, maxLength: 20 }),
      probeFraction: fc.double({ min: 0, max: 1, noNaN: true }),
      voteFraction: fc.double({ min: 0, max: 1, noNaN: true }),
      leaseFraction: fc.double({ min: 0, max: 1, noNaN: true }),
    })
    .map(({ probeFraction, voteFraction, leaseFraction, ...master }) => {
      const probeTimeoutMs = between(
        probeFraction,
        1,
        Math.min(master.downAfterMs - 1, SETTING_LIMITS.probeTimeoutMs.maximum),
      );
      return {
        ...master,
        probePeriodMs: between(
          probeFraction,
          1,
          Math.min(master.downAfterMs, SETTING_LIMITS.probePeriodMs.maximum),
        ),
        probeTimeoutMs,
        voteRefreshMs: between(
          voteFraction,
          1,
          Math.min(master.voteMaxAgeMs - 1, SETTING_LIMITS.voteRefreshMs.maximum),
        ),
        leaderLeaseMs: between(
          leaseFraction,
          minimumLeaderLeaseMs(probeTimeoutMs),
          SETTING_LIMITS.leaderLeaseMs.maximum,
        ),
      };
    });

  /** Writes a string as a double-quoted Redis argument that must read back as the same string. */
  function quote(value: string): string {
    return `"${value.replace(/[\\"]/g, '\\$&').replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`;
  }

  it('round-trips the numbers and passwords of generated valid configurations', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(validMaster, { minLength: 1, maxLength: 3, selector: (master) => master.name }),
        (masters) => {
          const lines = masters.flatMap((master) => [
            `sentinel monitor ${master.name} 10.0.0.1 ${master.port} ${master.quorum}`,
            `sentinel down-after-milliseconds ${master.name} ${master.downAfterMs}`,
            `sentinel failover-timeout ${master.name} ${master.failoverTimeoutMs}`,
            `sentinel parallel-syncs ${master.name} ${master.parallelSyncs}`,
            `sentinel master-reboot-down-after-period ${master.name} ${master.masterRebootDownAfterPeriodMs}`,
            `sentinel probe-period ${master.name} ${master.probePeriodMs}`,
            `sentinel probe-timeout ${master.name} ${master.probeTimeoutMs}`,
            `sentinel info-period ${master.name} ${master.infoPeriodMs}`,
            `sentinel vote-max-age ${master.name} ${master.voteMaxAgeMs}`,
            `sentinel vote-refresh ${master.name} ${master.voteRefreshMs}`,
            `sentinel leader-lease ${master.name} ${master.leaderLeaseMs}`,
            `sentinel auth-pass ${master.name} ${quote(master.authPass)}`,
          ]);
          const parsed = parseSentinelConfig(conf(...lines.reverse()), FILE);
          expect(parsed.masters.map(({ name }) => name).sort()).toEqual(
            masters.map(({ name }) => name).sort(),
          );
          for (const master of masters) {
            const found = parsed.masters.find(({ name }) => name === master.name);
            expect(found).toEqual({ ...master, host: '10.0.0.1', renamedCommands: {} });
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reads back any list of arguments written with double quotes', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 12 }), { minLength: 1, maxLength: 6 }), (args) => {
        expect(splitConfigLine(args.map(quote).join(' '))).toEqual({ ok: true, args });
      }),
      { numRuns: 300 },
    );
  });
});
