/**
 * lib/runtime/lambdaConfig.ts: the deployed configuration refuses inline passwords, and the Redis
 * passwords come from SSM (a stub of the one SSM call) merged into the masters' settings.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GetParametersByPathCommand, GetParametersByPathCommandOutput } from '@aws-sdk/client-ssm';
import { afterAll, describe, expect, it } from 'vitest';
import { newMasterRecord } from '../../lib/core/records.js';
import type { MasterOrigin, MasterRecord } from '../../lib/core/types.js';
import { secretsOf } from '../../lib/eventLog.js';
import {
  authPassPathOf,
  authPasswordLogLines,
  DeploymentConfigError,
  fetchAuthPasswords,
  parseAuthPassParameter,
  readDeployment,
  readDeploymentWithPasswords,
  readSentinelDeployment,
  resolveAuthPasswords,
  SecretsUnavailableError,
  type SsmParameterReader,
  withAuthPasswords,
} from '../../lib/runtime/lambdaConfig.js';
import { settingsOf } from '../../lib/runtime/masterSettings.js';

const PATH = '/lambda-sentinel/test/auth-pass';
const CONF = [
  'sentinel monitor alpha 10.0.1.10 6379 2',
  'sentinel monitor beta 10.0.1.20 6379 2',
  'sentinel auth-user beta sentinel',
  '',
].join('\n');

type Page = Pick<GetParametersByPathCommandOutput, 'Parameters' | 'NextToken'>;

/** A stub of SSM's GetParametersByPath: serves `pages` in order and records each request. */
function fakeSsm(pages: Page[] | Error): SsmParameterReader & { requests: unknown[] } {
  const requests: unknown[] = [];
  let next = 0;
  return {
    requests,
    async send(command: GetParametersByPathCommand) {
      requests.push(command.input);
      if (pages instanceof Error) throw pages;
      const page = pages[next++];
      if (page === undefined) throw new Error('the stub has no more pages');
      return page;
    },
  };
}

/** A record as MONITOR would write it (origin overridden by the tests). */
const record = (name: string, host: string): MasterRecord =>
  newMasterRecord({ name, host, port: 6379, now: 0 }, 'monitor');
const monitorOrigin = (host: string): MasterOrigin => ({ source: 'monitor', host, port: 6379 });

const secure = (master: string, value: string) => ({
  Name: `${PATH}/${master}`,
  Type: 'SecureString' as const,
  Value: value,
});

const dir = mkdtempSync(join(tmpdir(), 'ls-lambda-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function envWith(text: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { TABLE_NAME: 't', SENTINEL_CONFIG: text, ...extra };
}

async function refusal(run: () => Promise<unknown>): Promise<Error> {
  const error = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

describe('readDeployment', () => {
  it('logs each line that has no effect here once, as a JSON warn line with file, line and why', async () => {
    const lines: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = [];
    const deployment = await readDeploymentWithPasswords(
      readDeployment,
      envWith(`tcp-keepalive 300\n${CONF}`),
      (level, message, fields) => lines.push({ level, message, ...(fields ? { fields } : {}) }),
    );
    expect(deployment.config.masters.map((m) => m.name)).toEqual(['alpha', 'beta']);
    expect(lines.filter((l) => l.level === 'warn')).toEqual([
      {
        level: 'warn',
        message: 'sentinel.conf directive has no effect here and is ignored',
        fields: {
          file: '$SENTINEL_CONFIG',
          line: 1,
          directive: 'tcp-keepalive',
          reason: 'there is no redis-server process here to configure',
        },
      },
    ]);
  });

  it('reads the table and the configuration as before', async () => {
    const deployment = await readDeployment(envWith(CONF, { DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000' }));
    expect(deployment.tableName).toBe('t');
    expect(deployment.dynamodbEndpoint).toBe('http://127.0.0.1:8000');
    expect(deployment.config.masters.map((m) => m.name)).toEqual(['alpha', 'beta']);
    expect(deployment.config.masters[1]?.authUser).toBe('sentinel');
    expect(deployment.config.masters.every((m) => m.authPass === undefined)).toBe(true);
  });

  it('refuses sentinel auth-pass in $SENTINEL_CONFIG, pointing at SSM, without echoing the password', async () => {
    const text = `${CONF}sentinel auth-pass alpha hunter2-secret\n`;
    const error = await refusal(() => readDeployment(envWith(text)));
    expect(error).toBeInstanceOf(DeploymentConfigError);
    expect(error.message).toContain("'sentinel auth-pass' on line 4");
    expect(error.message).toContain('SSM SecureString named /lambda-sentinel/<stage>/auth-pass/<master>');
    expect(error.message).toContain('authPassParameterPath=/lambda-sentinel/<stage>/auth-pass ');
    expect(error.message).toContain('docs/deploy.md');
    expect(error.message).not.toContain('hunter2');
  });

  it('refuses it in a shipped file too (any case, even an empty password), naming the configured path', async () => {
    const file = join(dir, 'with-pass.conf');
    writeFileSync(file, `${CONF}  SENTINEL Auth-Pass beta ""\n`);
    const error = await refusal(() =>
      readDeployment({ TABLE_NAME: 't', SENTINEL_CONFIG_FILE: file, AUTH_PASS_PARAMETER_PATH: PATH }),
    );
    expect(error).toBeInstanceOf(DeploymentConfigError);
    expect(error.message).toContain(file);
    expect(error.message).toContain(`named ${PATH}/<master>`);
  });

  it('refuses requirepass and user lines: no deployed function serves the endpoint they protect', async () => {
    for (const line of ['requirepass hunter2-secret', 'user ops on >hunter2-secret +@all']) {
      const error = await refusal(() => readDeployment(envWith(`${CONF}${line}\n`)));
      expect(error).toBeInstanceOf(DeploymentConfigError);
      expect(error.message).toContain("'requirepass' / 'user' lines");
      expect(error.message).toContain('--users');
      expect(error.message).not.toContain('hunter2');
    }
  });

  it('lets pass the open default user that Sentinel CONFIG REWRITE writes, and nothing more than it', async () => {
    const rewritten = 'user default on nopass ~* &* +@all';
    const ok = await readDeployment(envWith(`${CONF}${rewritten}\n`));
    expect(ok.config.masters.map((m) => m.name)).toEqual(['alpha', 'beta']);
    for (const line of [
      'user default on >hunter2-secret ~* &* +@all',
      'user default on nopass ~* &* +@all -sentinel|failover',
      'user default off nopass ~* &* +@all',
      'user ops on nopass ~* &* +@all',
    ]) {
      const error = await refusal(() => readDeployment(envWith(`${CONF}${line}\n`)));
      expect(error.message, line).toContain("'requirepass' / 'user' lines");
      expect(error.message).not.toContain('hunter2');
    }
    const withPassword = await refusal(() =>
      readDeployment(envWith(`${CONF}${rewritten}\nrequirepass hunter2-secret\n`)),
    );
    // Refused by the parser already: the two lines give the default user different passwords.
    expect(withPassword.message).toContain("'requirepass' and 'user default'");
    expect(withPassword.message).not.toContain('hunter2');
  });

  it('still checks the sentinel id against the members', async () => {
    const error = await refusal(() => readSentinelDeployment(envWith(CONF, { SENTINEL_ID: 'sentinel-x' })));
    expect(error.message).toContain('is not one of the configured members');
    const ok = await readSentinelDeployment(envWith(CONF, { SENTINEL_ID: 'sentinel-a' }));
    expect(ok.sentinelId).toBe('sentinel-a');
  });
});

describe('authPassPathOf', () => {
  it('is undefined when unset or empty', () => {
    expect(authPassPathOf({})).toBeUndefined();
    expect(authPassPathOf({ AUTH_PASS_PARAMETER_PATH: '  ' })).toBeUndefined();
  });

  it('accepts an SSM path that starts with a slash and does not end with one', () => {
    expect(authPassPathOf({ AUTH_PASS_PARAMETER_PATH: ` ${PATH} ` })).toBe(PATH);
    expect(authPassPathOf({ AUTH_PASS_PARAMETER_PATH: '/redis' })).toBe('/redis');
  });

  // A trailing slash would not match the path the IAM policy grants GetParametersByPath on.
  it.each(['lambda-sentinel/auth-pass', '/lambda-sentinel/auth-pass/', '/a//b', '/a b', '/'])(
    'refuses %j',
    (path) => {
      expect(() => authPassPathOf({ AUTH_PASS_PARAMETER_PATH: path })).toThrow(DeploymentConfigError);
    },
  );
});

describe('fetchAuthPasswords', () => {
  it('reads every page of the path, decrypted and not recursive, by master name', async () => {
    const ssm = fakeSsm([
      { Parameters: [secure('alpha', 'pa')], NextToken: 'page-2' },
      { Parameters: [secure('beta', 'pb')] },
    ]);
    const passwords = await fetchAuthPasswords(ssm, PATH);
    expect(Object.fromEntries(passwords)).toEqual({ alpha: 'pa', beta: 'pb' });
    expect(ssm.requests).toEqual([
      { Path: '/lambda-sentinel/test/auth-pass', Recursive: false, WithDecryption: true },
      {
        Path: '/lambda-sentinel/test/auth-pass',
        Recursive: false,
        WithDecryption: true,
        NextToken: 'page-2',
      },
    ]);
  });

  it('refuses a plain String parameter without showing its value', async () => {
    const ssm = fakeSsm([{ Parameters: [{ Name: `${PATH}/alpha`, Type: 'String', Value: 'plain-secret' }] }]);
    const error = await refusal(() => fetchAuthPasswords(ssm, PATH));
    expect(error).toBeInstanceOf(DeploymentConfigError);
    expect(error.message).toContain(`${PATH}/alpha is a String, not a SecureString`);
    expect(error.message).not.toContain('plain-secret');
  });

  it('turns an SSM failure into an error that names the endpoint parameter', async () => {
    const cause = Object.assign(new Error('connect ETIMEDOUT'), { name: 'TimeoutError' });
    const error = await refusal(() => fetchAuthPasswords(fakeSsm(cause), PATH));
    expect(error).toBeInstanceOf(SecretsUnavailableError);
    expect(error.message).toContain(`under ${PATH} `);
    expect(error.message).toContain('TimeoutError: connect ETIMEDOUT');
    expect(error.message).toContain('createSsmEndpoint=true');
    expect(error.cause).toBe(cause);
  });
});

/** The JSON form of a parameter value: the password bound to one address. */
const boundTo = (address: string, password: string) => JSON.stringify({ address, password });

/** The error a synchronous call throws (it must throw). */
function thrown(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return error as Error;
  }
  throw new Error('expected an error, got none');
}

describe('parseAuthPassParameter', () => {
  const name = `${PATH}/alpha`;

  it('reads a value that does not start with { as a plain password, braces and quotes included', () => {
    expect(parseAuthPassParameter(name, 'p4ss')).toEqual({ password: 'p4ss', address: null });
    expect(parseAuthPassParameter(name, 'p{x}')).toEqual({ password: 'p{x}', address: null });
    expect(parseAuthPassParameter(name, '"quoted"')).toEqual({ password: '"quoted"', address: null });
    // A password that starts with { is given in the JSON form.
    expect(parseAuthPassParameter(name, boundTo('10.0.1.10:6379', '{p')).password).toBe('{p');
  });

  it('reads the JSON form: the password bound to host:port (IPv4, IPv6 bare or in brackets)', () => {
    expect(parseAuthPassParameter(name, boundTo('10.0.1.10:6379', 'p{}'))).toEqual({
      password: 'p{}',
      address: { host: '10.0.1.10', port: 6379 },
    });
    expect(parseAuthPassParameter(name, ` ${boundTo('::1:7000', 'x')} `).address).toEqual({
      host: '::1',
      port: 7000,
    });
    expect(parseAuthPassParameter(name, boundTo('[fd00::5]:6380', 'x')).address).toEqual({
      host: 'fd00::5',
      port: 6380,
    });
  });

  it('refuses a value starting with { that is not exactly the JSON form, naming the parameter and never the value', () => {
    const bad: Array<[string, string]> = [
      ['{"address":"10.0.0.1:6379","password":"s3cret-a"', 'not valid JSON'],
      ['{s3cret-b}', 'not valid JSON'],
      [' {s3cret-i', 'not valid JSON'],
      ['{"address":"10.0.0.1:6379"}', 'exactly the keys address and password (no password)'],
      ['{"address":"10.0.0.1:6379","s3cret-c":"x"}', '(no password, 1 other key)'],
      ['{"s3cret-d":"10.0.0.1:6379","s3cret-e":"x"}', '(no address and no password, 2 other keys)'],
      ['{"address":"10.0.0.1:6379","password":"s3cret-f","user":"x"}', '(1 other key)'],
      ['{"address":"10.0.0.1:6379","password":""}', '"password" is not a non-empty string'],
      ['{"address":"10.0.0.1","password":"s3cret-g"}', '"address" is not "<host>:<port>"'],
      ['{"address":"10.0.0.1:0","password":"s3cret-h"}', '"address" is not "<host>:<port>"'],
      ['{"address":"10.0.0.1:65536","password":"s3cret-j"}', '"address" is not "<host>:<port>"'],
      ['{"address":6379,"password":"s3cret-k"}', '"address" is not "<host>:<port>"'],
    ];
    for (const [value, why] of bad) {
      const error = thrown(() => parseAuthPassParameter(name, value));
      expect(error, value).toBeInstanceOf(DeploymentConfigError);
      expect(error.message, value).toContain(`SSM parameter ${name}: `);
      expect(error.message, value).toContain(why);
      expect(error.message, value).toContain('{"address":"<ip>:<port>","password":"…"}');
      expect(error.message, value).not.toMatch(/s3cret/);
    }
  });
});

describe('withAuthPasswords', () => {
  it("sets the listed masters' authPass from plain values and keeps the input unchanged", async () => {
    const { config } = await readDeployment(envWith(CONF));
    const merge = withAuthPasswords(config, new Map([['beta', 'pb']]), PATH);
    expect(merge).toMatchObject({ applied: ['beta'], bound: [], unused: [] });
    const [alpha, beta] = merge.config.masters;
    expect(alpha).toBe(config.masters[0]);
    expect(beta).toEqual({ ...config.masters[1], authPass: 'pb', authUser: 'sentinel' });
    // The input is not changed: the parsed configuration stays password-free.
    expect(config.masters[1]?.authPass).toBeUndefined();
    expect(merge.config.global).toBe(config.global);
    expect(merge.config.authPassByMaster).toEqual({});
  });

  it('accepts the JSON form for a listed master at exactly the address of its monitor line', async () => {
    const { config } = await readDeployment(envWith(CONF));
    const merge = withAuthPasswords(config, new Map([['alpha', boundTo('10.0.1.10:6379', 'pa')]]), PATH);
    expect(merge.applied).toEqual(['alpha']);
    expect(merge.config.masters[0]?.authPass).toBe('pa');
  });

  it('refuses the JSON form for a listed master at another address, naming both addresses but not the password', async () => {
    const { config } = await readDeployment(envWith(CONF));
    const error = thrown(() =>
      withAuthPasswords(config, new Map([['alpha', boundTo('10.0.9.9:6379', 'pa-secret')]]), PATH),
    );
    expect(error).toBeInstanceOf(DeploymentConfigError);
    expect(error.message).toContain(
      `SSM parameter ${PATH}/alpha binds its password to 10.0.9.9:6379, but sentinel.conf monitors alpha at 10.0.1.10:6379`,
    );
    expect(error.message).toContain('"address":"10.0.1.10:6379"');
    expect(error.message).not.toContain('pa-secret');
  });

  it('keeps the JSON form for a master the file does not list, bound to its address, and redacts it', async () => {
    const { config } = await readDeployment(envWith(CONF));
    const merge = withAuthPasswords(config, new Map([['added', boundTo('10.0.0.7:6379', 'p-added')]]), PATH);
    expect(merge).toMatchObject({ applied: [], bound: ['added 10.0.0.7:6379'], unused: [] });
    expect(merge.config.authPassByMaster).toEqual({
      added: { address: { host: '10.0.0.7', port: 6379 }, password: 'p-added' },
    });
    expect(secretsOf(merge.config)).toContain('p-added');
    const atThatAddress = { ...record('added', '10.0.0.7'), origin: monitorOrigin('10.0.0.7') };
    expect(settingsOf(merge.config, atThatAddress).authPass).toBe('p-added');
    const elsewhere = { ...record('added', '10.0.0.8'), origin: monitorOrigin('10.0.0.8') };
    expect(settingsOf(merge.config, elsewhere).authPass).toBeUndefined();
  });

  it('does not use a plain value for a name the file does not list: MONITOR may give that name to any address', async () => {
    const { config } = await readDeployment(envWith(CONF));
    const merge = withAuthPasswords(
      config,
      new Map([
        ['gamma', 'pg'],
        ['alpah', 'typo'],
        ['beta', 'pb'],
      ]),
      PATH,
    );
    expect(merge).toMatchObject({ applied: ['beta'], bound: [], unused: ['alpah', 'gamma'] });
    expect(merge.config.authPassByMaster).toEqual({});
    expect(secretsOf(merge.config)).toEqual(['pb']);
    // A master MONITOR adds under that name, at any address, gets no password.
    const added = { ...record('gamma', '10.0.0.9'), origin: monitorOrigin('10.0.0.9') };
    expect(settingsOf(merge.config, added).authPass).toBeUndefined();
    const lines = authPasswordLogLines({ ...merge, path: PATH });
    expect(lines).toEqual([
      {
        level: 'info',
        message: 'Redis passwords read from SSM',
        fields: { path: PATH, masters: ['beta'], boundToAddress: [] },
      },
      {
        level: 'warn',
        message: expect.stringContaining('{"address":"<ip>:<port>","password":"…"}'),
        fields: { path: PATH, parameters: ['alpah', 'gamma'] },
      },
    ]);
    expect(JSON.stringify(lines)).not.toMatch(/"pg"|typo|"pb"/);
  });

  it('refuses a bound address for an unlisted master that SENTINEL MONITOR would never accept', async () => {
    const { config } = await readDeployment(envWith(CONF));
    const error = thrown(() =>
      withAuthPasswords(config, new Map([['added', boundTo('redis.internal:6379', 'p-secret')]]), PATH),
    );
    expect(error).toBeInstanceOf(DeploymentConfigError);
    expect(error.message).toContain(`SSM parameter ${PATH}/added: "address":"redis.internal:6379"`);
    expect(error.message).toContain('Invalid IP address or hostname specified');
    expect(error.message).not.toContain('p-secret');
  });
});

describe('resolveAuthPasswords', () => {
  it('returns the deployment as it is, and builds no SSM client, without a prefix', async () => {
    const deployment = await readDeployment(envWith(CONF));
    let built = 0;
    const resolved = await resolveAuthPasswords(deployment, envWith(CONF), {
      ssm: () => {
        built++;
        return fakeSsm([]);
      },
    });
    expect(resolved).toBe(deployment);
    expect(built).toBe(0);
  });

  it('merges the passwords, reports names only, and the event log redacts them', async () => {
    const env = envWith(CONF, { SENTINEL_ID: 'sentinel-b', AUTH_PASS_PARAMETER_PATH: PATH });
    const deployment = await readSentinelDeployment(env);
    const reports: unknown[] = [];
    const resolved = await resolveAuthPasswords(deployment, env, {
      ssm: () => fakeSsm([{ Parameters: [secure('alpha', 'alpha-pw'), secure('beta', 'beta-pw')] }]),
      onResolved: (report) => reports.push(report),
    });
    expect(resolved.sentinelId).toBe('sentinel-b');
    expect(resolved.config.masters.map((m) => m.authPass)).toEqual(['alpha-pw', 'beta-pw']);
    expect(secretsOf(resolved.config).sort()).toEqual(['alpha-pw', 'beta-pw']);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ path: PATH, applied: ['alpha', 'beta'], bound: [], unused: [] });
  });
});
