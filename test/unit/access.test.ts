/**
 * The access directives of sentinel.conf (and of a users file) and the ACL decisions behind them
 * (lib/config/access.ts, lib/core/acl.ts): what each rule allows, what a bad line says (file and
 * line, never a password), and the limits' bounds.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AccessControl, applyUserRules } from '../../lib/accessControl.js';
import { mergeAccess, parseAccessFile } from '../../lib/config/access.js';
import { ConfigError, parseSentinelConfig } from '../../lib/config/parse.js';
import {
  compileCommandRules,
  freshUser,
  isLoopbackBind,
  lookupCommand,
  mayRun,
  mayUseChannel,
  mayUsePattern,
  WRITE_COMMANDS,
} from '../../lib/core/acl.js';
import type { AclUserSpec } from '../../lib/core/types.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const MONITOR = 'sentinel monitor mymaster 127.0.0.1 6379 2';

function problems(text: string): string[] {
  try {
    parseSentinelConfig(text, 'sentinel.conf');
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.issues.map((i) => `${i.file}:${i.line}: ${i.reason}`);
  }
}

function user(rules: string): AclUserSpec {
  const result = applyUserRules(freshUser('u'), rules.split(' ').filter(Boolean));
  if ('error' in result) throw new Error(result.error);
  return result.user;
}

function allowed(rules: string, args: string[]): boolean {
  const control = new AccessControl([{ ...user(rules), name: 'u', enabled: true, nopass: true }]);
  const found = lookupCommand(args);
  if (found.kind !== 'found') throw new Error(`not a command: ${args.join(' ')}`);
  const u = control.authenticate('u', '');
  if (u === null) throw new Error('no user');
  return mayRun(u, found.id);
}

describe('access directives in sentinel.conf', () => {
  it('requirepass gives the default user a password, kept only as its SHA-256', () => {
    const config = parseSentinelConfig(`${MONITOR}\nrequirepass "pass word"\n`, 'sentinel.conf');
    expect(config.access?.users).toEqual([
      expect.objectContaining({
        name: 'default',
        enabled: true,
        nopass: false,
        passwordHashes: [sha('pass word')],
      }),
    ]);
    expect(JSON.stringify(config)).not.toContain('pass word');
    const control = new AccessControl(config.access?.users);
    expect(control.initialUser()).toBeNull();
    expect(control.authenticate('default', 'pass word')?.name).toBe('default');
    expect(control.authenticate('default', 'pass-word')).toBeNull();
    expect(control.requiresPassword).toBe(true);
  });

  it("loads what Redis's CONFIG REWRITE writes (requirepass and the user default line agree)", () => {
    const config = parseSentinelConfig(
      [
        MONITOR,
        'requirepass "toppass"',
        `user default on #${sha('toppass')} sanitize-payload ~* &* +@all`,
        'user ro on nopass ~* resetchannels -@all +sentinel|get-master-addr-by-name',
        'latency-tracking-info-percentiles 50 99 99.9',
      ].join('\n'),
      'sentinel.conf',
    );
    expect(config.access?.users.map((u) => u.name)).toEqual(['default', 'ro']);
    // Without a password, a Redis 7 rewritten file's `user default on nopass …` is Redis's default.
    const open = parseSentinelConfig(`${MONITOR}\nuser default on nopass ~* &* +@all\n`, 'x.conf');
    expect(new AccessControl(open.access?.users).initialUser()?.name).toBe('default');
  });

  it('refuses requirepass and a user default line that disagree, naming the line to fix', () => {
    expect(problems(`${MONITOR}\nrequirepass a\nuser default on >b +@all\n`)).toEqual([
      "sentinel.conf:2: 'requirepass' and 'user default' (line 3) give the default user different passwords: keep one",
    ]);
  });

  it('reports each bad line with file and line, and never shows a password', () => {
    const text = [
      MONITOR,
      'requirepass one two',
      'requirepass hidden-1',
      'requirepass hidden-2',
      'user',
      'user bad name',
      'user "sp ace" on',
      'user bob on s3cret-without-marker +@all',
      'user bob2 on <never-set',
      'user bob3 on #not-hex',
      'user carl on +@admin',
      'user dave on +get',
      'user erin on &* &+sdown',
      'user fay on (~x +@all)',
      'user gus on >ok +sentinel|nope',
      'user ivy on >again',
      'user ivy off',
      'user hal on +auth',
    ].join('\n');
    const found = problems(text);
    expect(found).toEqual([
      "sentinel.conf:2: wrong number of arguments for 'requirepass': expected <password>; quote a password that contains spaces (value hidden)",
      "sentinel.conf:4: 'requirepass' is already set on line 3",
      "sentinel.conf:5: wrong number of arguments for 'user': expected <name> [<rule> …]",
      "sentinel.conf:6: in the rules of user 'bad': unknown ACL rule 'name'",
      "sentinel.conf:7: invalid user name for 'user': use 1 to 128 printable characters without spaces",
      'sentinel.conf:8: in the rules of user \'bob\': unknown ACL rule (not shown: it may be a password missing its ">")',
      "sentinel.conf:9: in the rules of user 'bob2': '<…' (value hidden) removes a password this user does not have",
      "sentinel.conf:10: in the rules of user 'bob3': a '#' rule needs a SHA-256 in 64 hexadecimal digits",
      expect.stringMatching(
        /^sentinel\.conf:11: in the rules of user 'carl': unknown command category '@admin': this endpoint knows @all, @read, @write/,
      ),
      expect.stringMatching(
        /^sentinel\.conf:12: in the rules of user 'dave': unknown command 'get' \(this endpoint's commands: /,
      ),
      expect.stringMatching(
        /^sentinel\.conf:13: in the rules of user 'erin': '&\+sdown' adds a channel after '&\*'/,
      ),
      expect.stringMatching(/^sentinel\.conf:14: in the rules of user 'fay': selectors/),
      expect.stringMatching(
        /^sentinel\.conf:15: in the rules of user 'gus': unknown command 'sentinel\|nope'/,
      ),
      "sentinel.conf:17: user 'ivy' is already defined on line 16",
      "sentinel.conf:18: in the rules of user 'hal': 'auth' is always allowed (as in Redis): a rule cannot grant or deny it",
    ]);
    const all = found.join('\n');
    for (const secret of [
      'one',
      'two',
      'hidden-1',
      'hidden-2',
      's3cret-without-marker',
      'never-set',
      'again',
    ]) {
      expect(all).not.toContain(secret);
    }
  });

  it('timeout, maxclients, client-query-buffer-limit and client-query-timeout, within their bounds', () => {
    const config = parseSentinelConfig(
      `${MONITOR}\ntimeout 60\nmaxclients 50\nclient-query-buffer-limit 128kb\nclient-query-timeout 5\n`,
      'sentinel.conf',
    );
    expect(config.access?.limits).toEqual({
      idleTimeoutMs: 60_000,
      maxClients: 50,
      queryBufferLimitBytes: 128 * 1024,
      frameTimeoutMs: 5_000,
    });
    expect(config.access?.users).toEqual([]);
    expect(
      parseSentinelConfig(`${MONITOR}\ntimeout 0\nclient-query-buffer-limit 1m\n`, 'x').access?.limits,
    ).toEqual({
      idleTimeoutMs: 0,
      queryBufferLimitBytes: 1_000_000,
    });
    expect(
      problems(
        `${MONITOR}\ntimeout 86401\nmaxclients 0\nclient-query-buffer-limit 5mb\nclient-query-timeout 1e3\ntimeout 1\nmaxclients\n`,
      ),
    ).toEqual([
      "sentinel.conf:2: Invalid argument '86401' for 'timeout': expected a whole number of seconds from 0 to 86400 (0: never)",
      "sentinel.conf:3: Invalid argument '0' for 'maxclients': expected a whole number from 1 to 100000",
      "sentinel.conf:4: Invalid argument '5mb' for 'client-query-buffer-limit': expected a size from 1024 to 4194304 bytes (units as in Redis: 64kb, 1mb)",
      "sentinel.conf:5: Invalid argument '1e3' for 'client-query-timeout': expected a whole number of seconds from 0 to 300 (0: never)",
      "sentinel.conf:7: wrong number of arguments for 'maxclients': expected <count>",
    ]);
    // Line 6 (a second timeout after an invalid first) is accepted: only a valid setting is "already set".
  });

  it('a file without access lines has no access settings (Redis defaults apply)', () => {
    expect(parseSentinelConfig(`${MONITOR}\n`, 'x').access).toBeUndefined();
    expect(new AccessControl().initialUser()?.name).toBe('default');
    expect(new AccessControl().requiresPassword).toBe(false);
  });
});

describe('a users file and several sources', () => {
  it('takes only access lines; one source per user and per limit', () => {
    const file = parseAccessFile('# ops\nuser ops on >o +@all\ntimeout 30\n', 'users.conf');
    expect(file.issues).toEqual([]);
    expect(parseAccessFile('sentinel monitor m 1.2.3.4 1 1\n', 'users.conf').issues).toEqual([
      {
        file: 'users.conf',
        line: 1,
        reason:
          "'sentinel' does not belong in a users file: only requirepass, user, timeout, client-query-timeout, maxclients, client-query-buffer-limit",
      },
    ]);
    const env = parseAccessFile('requirepass e', 'env').access;
    expect(
      mergeAccess([
        { label: 'A', access: file.access },
        { label: 'B', access: env },
      ]),
    ).toMatchObject({
      users: [{ name: 'ops' }, { name: 'default' }],
      limits: { idleTimeoutMs: 30_000 },
    });
    expect(
      mergeAccess([
        { label: 'A', access: file.access },
        { label: 'B', access: file.access },
      ]),
    ).toEqual({
      error: "user 'ops' is set both by A and by B: keep one",
    });
    const limit = parseAccessFile('timeout 1', 'x').access;
    expect(
      mergeAccess([
        { label: 'A', access: limit },
        { label: 'B', access: limit },
      ]),
    ).toEqual({
      error: "'timeout' is set both by A and by B: keep one",
    });
  });
});

describe('ACL decisions', () => {
  it('+@read allows every command that changes nothing and no write; +@write the reverse', () => {
    const reads: string[][] = [
      ['SENTINEL', 'get-master-addr-by-name', 'm'],
      ['SENTINEL', 'MASTERS'],
      ['SENTINEL', 'sentinels', 'm'],
      ['SENTINEL', 'CKQUORUM', 'm'],
      ['SENTINEL', 'CONFIG', 'GET', '*'],
      ['PING'],
      ['INFO'],
      ['ROLE'],
      ['CLIENT', 'SETNAME', 'x'],
      ['SUBSCRIBE', 'x'],
      ['ACL', 'WHOAMI'],
      ['COMMAND'],
      ['COMMAND', 'COUNT'],
      ['COMMAND', 'DOCS', 'ping'],
      ['CLIENT', 'INFO'],
      ['SENTINEL', 'INFO-CACHE', 'm'],
      ['SENTINEL', 'PENDING-SCRIPTS'],
    ];
    const writes: string[][] = [
      ['SENTINEL', 'FAILOVER', 'm'],
      ['SENTINEL', 'SET', 'm', 'quorum', '1'],
      ['SENTINEL', 'MONITOR', 'm', '1.2.3.4', '1', '1'],
      ['SENTINEL', 'REMOVE', 'm'],
      ['SENTINEL', 'RESET', '*'],
      ['SENTINEL', 'CONFIG', 'SET', 'x', 'y'],
      ['SENTINEL', 'FLUSHCONFIG'],
      ['SENTINEL', 'SIMULATE-FAILURE', 'crash-after-election'],
      ['SENTINEL', 'DEBUG'],
      ['SENTINEL', 'IS-MASTER-DOWN-BY-ADDR', '1.2.3.4', '1', '0', 'runid'],
      ['SENTINEL', 'DEBUG', 'info-period', '1000'],
      ['CLIENT', 'LIST'],
      ['CLIENT', 'KILL', 'ID', '1'],
      ['SHUTDOWN'],
      ['SHUTDOWN', 'NOSAVE'],
    ];
    for (const args of reads) {
      expect(allowed('+@read', args), args.join(' ')).toBe(true);
      expect(allowed('+@write', args), args.join(' ')).toBe(false);
    }
    for (const args of writes) {
      expect(allowed('+@read', args), args.join(' ')).toBe(false);
      expect(allowed('+@write', args), args.join(' ')).toBe(true);
      expect(allowed('+@all', args), args.join(' ')).toBe(true);
    }
    expect(WRITE_COMMANDS).toEqual([
      'client|list',
      'client|kill',
      'shutdown',
      'sentinel|failover',
      'sentinel|reset',
      'sentinel|remove',
      'sentinel|monitor',
      'sentinel|set',
      'sentinel|config',
      'sentinel|flushconfig',
      'sentinel|simulate-failure',
      'sentinel|debug',
      'sentinel|is-master-down-by-addr',
    ]);
  });

  it('rules apply in order; a command covers its subcommands; allcommands and nocommands', () => {
    const set = ['SENTINEL', 'SET', 'm', 'quorum', '1'];
    const failover = ['SENTINEL', 'FAILOVER', 'm'];
    expect(allowed('+@all -sentinel|set', set)).toBe(false);
    expect(allowed('+@all -sentinel|set', failover)).toBe(true);
    expect(allowed('-sentinel|set +@all', set)).toBe(true);
    expect(allowed('+sentinel', set)).toBe(true);
    expect(allowed('+sentinel', ['PING'])).toBe(false);
    expect(allowed('allcommands nocommands +ping', ['PING'])).toBe(true);
    expect(allowed('allcommands nocommands +ping', failover)).toBe(false);
    expect(allowed('+sentinel|config', ['SENTINEL', 'CONFIG', 'SET', 'a', 'b'])).toBe(true);
    expect(allowed('+@read -sentinel|config', ['SENTINEL', 'CONFIG', 'GET', 'a'])).toBe(false);
    expect(allowed('+@all reset', ['PING'])).toBe(false);
    expect(compileCommandRules(['+SENTINEL|SET'])).toEqual({ allowed: new Set(['sentinel|set']) });
  });

  it('channels: &pattern matches channels as a glob; PSUBSCRIBE only to a pattern named as such', () => {
    const watcher = new AccessControl([user('on nopass &+switch-* &+sdown +@all')]).authenticate('u', '');
    expect(watcher).not.toBeNull();
    if (watcher === null) return;
    expect(mayUseChannel(watcher, '+switch-master')).toBe(true);
    expect(mayUseChannel(watcher, '+sdown')).toBe(true);
    expect(mayUseChannel(watcher, '+odown')).toBe(false);
    expect(mayUsePattern(watcher, '+switch-*')).toBe(true);
    expect(mayUsePattern(watcher, '+switch-m*')).toBe(false);
    expect(mayUsePattern(watcher, '*')).toBe(false);
    const fresh = new AccessControl([user('on nopass +@all')]).authenticate('u', '');
    expect(fresh && mayUseChannel(fresh, '+sdown')).toBe(false);
    const all = new AccessControl([user('on nopass allchannels +@all')]).authenticate('u', '');
    expect(all && mayUsePattern(all, '*') && mayUseChannel(all, 'x')).toBe(true);
  });

  it('authentication: on/off, nopass, several passwords, resetpass; the same answer for every failure', () => {
    const control = new AccessControl([
      { ...user('on >a >b'), name: 'two' },
      { ...user('off nopass'), name: 'off' },
      { ...user('on >a resetpass'), name: 'none' },
      { ...user('on >a nopass'), name: 'open' },
    ]);
    expect(control.authenticate('two', 'a')?.name).toBe('two');
    expect(control.authenticate('two', 'b')?.name).toBe('two');
    expect(control.authenticate('two', 'c')).toBeNull();
    expect(control.authenticate('off', 'x')).toBeNull();
    expect(control.authenticate('none', 'a')).toBeNull();
    expect(control.authenticate('none', '')).toBeNull();
    expect(control.authenticate('open', 'anything')?.name).toBe('open');
    expect(control.authenticate('nobody', 'a')).toBeNull();
    // `open` needs no password: the endpoint must not listen beyond loopback with it.
    expect(control.requiresPassword).toBe(false);
  });

  it('lookup order: unknown command, unknown subcommand, arity', () => {
    expect(lookupCommand(['FOO'])).toEqual({ kind: 'unknown-command' });
    expect(lookupCommand(['sentinel', 'frob'])).toEqual({
      kind: 'unknown-subcommand',
      container: 'SENTINEL',
    });
    expect(lookupCommand(['SENTINEL'])).toEqual({ kind: 'arity', name: 'sentinel' });
    expect(lookupCommand(['SENTINEL', 'MASTER'])).toEqual({ kind: 'arity', name: 'sentinel|master' });
    expect(lookupCommand(['AUTH', 'x'])).toMatchObject({ kind: 'found', name: 'auth', always: true });
    expect(lookupCommand(['constructor'])).toEqual({ kind: 'unknown-command' });
  });

  it('loopback binds', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) {
      expect(isLoopbackBind(host), host).toBe(true);
    }
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'sentinel.internal', '128.0.0.1', '127.0.0.1.nip.io']) {
      expect(isLoopbackBind(host), host).toBe(false);
    }
  });
});
