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
import { secretsOf } from '../../lib/eventLog.js';
import {
  authPassPathOf,
  DeploymentConfigError,
  fetchAuthPasswords,
  readDeployment,
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

describe('withAuthPasswords', () => {
  it("sets the listed masters' authPass, keeps the others, and reports parameters for no master", async () => {
    const { config } = await readDeployment(envWith(CONF));
    const merge = withAuthPasswords(
      config,
      new Map([
        ['beta', 'pb'],
        ['gamma', 'pg'],
        ['alpah', 'typo'],
      ]),
    );
    expect(merge.applied).toEqual(['beta']);
    expect(merge.unmatched).toEqual(['alpah', 'gamma']);
    const [alpha, beta] = merge.config.masters;
    expect(alpha).toBe(config.masters[0]);
    expect(beta).toEqual({ ...config.masters[1], authPass: 'pb', authUser: 'sentinel' });
    // The input is not changed: the parsed configuration stays password-free.
    expect(config.masters[1]?.authPass).toBeUndefined();
    expect(merge.config.global).toBe(config.global);
  });

  it('keeps the passwords of masters the file does not list for SENTINEL MONITOR, and redacts them', async () => {
    const { config } = await readDeployment(envWith(CONF));
    const merge = withAuthPasswords(config, new Map([['added', 'p-added']]));
    expect(merge.config.authPassByMaster).toEqual({ added: 'p-added' });
    const record = newMasterRecord({ name: 'added', host: '10.0.0.7', port: 6379, now: 0 });
    expect(settingsOf(merge.config, record).authPass).toBe('p-added');
    expect(settingsOf(config, record).authPass).toBeUndefined();
    expect(secretsOf(merge.config)).toContain('p-added');
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
    expect(reports[0]).toMatchObject({ path: PATH, applied: ['alpha', 'beta'], unmatched: [] });
  });
});
