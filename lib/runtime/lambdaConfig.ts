/**
 * Configuration of a deployed sentinel, read once per container from its environment. Every variable is
 * checked here so a bad deployment fails at cold start with a clear message, not in the middle of a loop.
 *
 * Redis passwords never come from the deployment itself: the sentinel.conf ships in the package (S3) and
 * environment variables are part of the template, so a `sentinel auth-pass` line there is refused. They
 * are SSM Parameter Store SecureStrings instead, one per master (`<path>/<master>`), read at cold start
 * by the functions that talk to Redis (resolveAuthPasswords) and merged into the masters' settings.
 */
import { readFile } from 'node:fs/promises';
import {
  GetParametersByPathCommand,
  type GetParametersByPathCommandOutput,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { parseSentinelConfig } from '../config/parse.js';
import type { SentinelConfig } from '../core/types.js';

export const SENTINEL_ENV = {
  sentinelId: 'SENTINEL_ID',
  tableName: 'TABLE_NAME',
  /** sentinel.conf text. */
  configText: 'SENTINEL_CONFIG',
  /** Path of a sentinel.conf shipped with the bundle (used when SENTINEL_CONFIG is absent). */
  configFile: 'SENTINEL_CONFIG_FILE',
  /** Only for local tests: a DynamoDB Local or dynalite endpoint. */
  dynamodbEndpoint: 'DYNAMODB_ENDPOINT',
  /**
   * SSM path holding one SecureString per master, `<path>/<master>` (e.g. `/lambda-sentinel/prod/auth-pass`).
   * Unset or empty: no master has a password.
   */
  authPassPath: 'AUTH_PASS_PARAMETER_PATH',
} as const;

/** Where the deploy guide explains it; every refusal below points there. */
const SECRETS_DOC = 'docs/deploy.md, "Redis passwords"';
/** What an error message suggests when no path is configured yet. */
const EXAMPLE_PATH = '/lambda-sentinel/<stage>/auth-pass';

export class DeploymentConfigError extends Error {
  override readonly name = 'DeploymentConfigError';
}

/** SSM could not be read (no route, no permission, throttled). Never carries a parameter's value. */
export class SecretsUnavailableError extends Error {
  override readonly name = 'SecretsUnavailableError';
}

export interface SentinelDeployment {
  readonly sentinelId: string;
  readonly tableName: string;
  readonly config: SentinelConfig;
  readonly dynamodbEndpoint?: string;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new DeploymentConfigError(`environment variable ${name} is required`);
  }
  return value.trim();
}

/** What every function of a deployment reads: the table and the configuration. */
export interface Deployment {
  readonly tableName: string;
  readonly config: SentinelConfig;
  readonly dynamodbEndpoint?: string;
}

/**
 * Line numbers of `sentinel auth-pass` directives. Checked on the text, before parsing, so that the
 * refusal comes first and also catches a line the parser would drop (an empty password).
 */
function authPassLines(text: string): number[] {
  const lines: number[] = [];
  for (const [index, line] of text.split(/\r?\n/).entries()) {
    if (/^\s*"?sentinel"?\s+"?auth-pass"?(\s|$)/i.test(line)) lines.push(index + 1);
  }
  return lines;
}

function refuseInlinePasswords(text: string, source: string, env: NodeJS.ProcessEnv): void {
  const lines = authPassLines(text);
  if (lines.length === 0) return;
  const path = env[SENTINEL_ENV.authPassPath]?.trim() || EXAMPLE_PATH;
  throw new DeploymentConfigError(
    `${source}: 'sentinel auth-pass' on line ${lines.join(', ')}: a deployed configuration must not hold ` +
      `passwords (it ships in the package and the template). Remove the line and store each master's ` +
      `password as an SSM SecureString named ${path}/<master>, with the deploy parameter ` +
      `authPassParameterPath=${path} (${SECRETS_DOC}).`,
  );
}

export async function readDeployment(env: NodeJS.ProcessEnv): Promise<Deployment> {
  const tableName = required(env, SENTINEL_ENV.tableName);
  const text = env[SENTINEL_ENV.configText];
  const file = env[SENTINEL_ENV.configFile];
  let config: SentinelConfig;
  if (text !== undefined && text.trim() !== '') {
    const source = `$${SENTINEL_ENV.configText}`;
    refuseInlinePasswords(text, source, env);
    config = parseSentinelConfig(text, source);
  } else if (file) {
    const fileText = await readFile(file, 'utf8');
    refuseInlinePasswords(fileText, file, env);
    config = parseSentinelConfig(fileText, file);
  } else {
    throw new DeploymentConfigError(
      `set ${SENTINEL_ENV.configText} (sentinel.conf text) or ${SENTINEL_ENV.configFile} (a path in the bundle)`,
    );
  }
  const endpoint = env[SENTINEL_ENV.dynamodbEndpoint];
  return { tableName, config, ...(endpoint ? { dynamodbEndpoint: endpoint } : {}) };
}

/** A sentinel's deployment: also its id, which must be one of the configured members. */
export async function readSentinelDeployment(env: NodeJS.ProcessEnv): Promise<SentinelDeployment> {
  const sentinelId = required(env, SENTINEL_ENV.sentinelId);
  const deployment = await readDeployment(env);
  if (!deployment.config.global.sentinelIds.includes(sentinelId)) {
    throw new DeploymentConfigError(
      `${SENTINEL_ENV.sentinelId}=${sentinelId} is not one of the configured members (${deployment.config.global.sentinelIds.join(', ')})`,
    );
  }
  return { sentinelId, ...deployment };
}

// ---------------------------------------------------------------------------------------------------------
// Redis passwords from SSM Parameter Store

/** The one SSM call used here, so tests can pass a small stub instead of an SSMClient. */
export interface SsmParameterReader {
  send(
    command: GetParametersByPathCommand,
  ): Promise<Pick<GetParametersByPathCommandOutput, 'Parameters' | 'NextToken'>>;
}

/**
 * Fail fast: the sentinels run in private subnets, and without an SSM endpoint (or a NAT gateway) a
 * connection to SSM never completes. With the SDK defaults that would hang the cold start until the
 * Lambda timeout; here it fails within a few seconds with a message that says what is missing.
 */
export const SSM_CLIENT_DEFAULTS = {
  maxAttempts: 2,
  connectionTimeoutMs: 2_000,
  requestTimeoutMs: 3_000,
} as const;

/** The real client (region, credentials and `AWS_ENDPOINT_URL_SSM` from the Lambda environment). */
export function createSsmParameterReader(): SsmParameterReader {
  return new SSMClient({
    maxAttempts: SSM_CLIENT_DEFAULTS.maxAttempts,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: SSM_CLIENT_DEFAULTS.connectionTimeoutMs,
      requestTimeout: SSM_CLIENT_DEFAULTS.requestTimeoutMs,
      throwOnRequestTimeout: true,
    }),
  });
}

/**
 * Segments in SSM's parameter-name charset, a leading `/` and no trailing one: the IAM policy grants
 * GetParametersByPath on exactly this path (IAM authorises that call against the path in the request),
 * and a trailing slash would make the deployed policy and the request disagree.
 */
const PATH_PATTERN = /^(\/[A-Za-z0-9_.-]+)+$/;

/** The configured path, validated, or undefined when passwords are not used. */
export function authPassPathOf(env: NodeJS.ProcessEnv): string | undefined {
  const path = env[SENTINEL_ENV.authPassPath]?.trim();
  if (!path) return undefined;
  if (!PATH_PATTERN.test(path)) {
    throw new DeploymentConfigError(
      `${SENTINEL_ENV.authPassPath}="${path}" must be an SSM path that starts with '/' and does not end ` +
        `with one, e.g. ${EXAMPLE_PATH} (${SECRETS_DOC})`,
    );
  }
  return path;
}

/**
 * Every password under the path, by master name: one GetParametersByPath (paginated, not recursive,
 * decrypted). A plain String parameter is refused: a password must be encrypted at rest. Errors name
 * parameters, never values.
 */
export async function fetchAuthPasswords(
  ssm: SsmParameterReader,
  path: string,
): Promise<Map<string, string>> {
  const prefix = `${path}/`;
  const passwords = new Map<string, string>();
  let nextToken: string | undefined;
  do {
    let page: Awaited<ReturnType<SsmParameterReader['send']>>;
    try {
      page = await ssm.send(
        new GetParametersByPathCommand({
          Path: path,
          Recursive: false,
          WithDecryption: true,
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      );
    } catch (error) {
      const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new SecretsUnavailableError(
        `cannot read the Redis passwords under ${path} from SSM Parameter Store (${detail}). Functions ` +
          'in private subnets reach SSM only through an SSM interface endpoint (deploy parameter ' +
          `createSsmEndpoint=true) or a NAT gateway; the role may read only that path (${SECRETS_DOC}).`,
        { cause: error },
      );
    }
    for (const parameter of page.Parameters ?? []) {
      const name = parameter.Name ?? '';
      if (!name.startsWith(prefix)) continue;
      if (parameter.Type !== 'SecureString') {
        throw new DeploymentConfigError(
          `SSM parameter ${name} is a ${parameter.Type ?? 'parameter of unknown type'}, not a SecureString: ` +
            `recreate it with --type SecureString (${SECRETS_DOC})`,
        );
      }
      passwords.set(name.slice(prefix.length), parameter.Value ?? '');
    }
    nextToken = page.NextToken || undefined;
  } while (nextToken !== undefined);
  return passwords;
}

export interface AuthPasswordMerge {
  readonly config: SentinelConfig;
  /** Masters of the configuration that got a password. */
  readonly applied: readonly string[];
  /**
   * Parameters under the path that name no configured master: a master added by SENTINEL MONITOR (its
   * password is kept in config.authPassByMaster), a typo, or a removed master.
   */
  readonly unmatched: readonly string[];
}

/**
 * The configuration with each listed master's authPass set from `passwords`. Masters without a parameter
 * keep no password. The other parameters are kept by name for masters added at run time (SENTINEL
 * MONITOR), which the file does not list.
 */
export function withAuthPasswords(
  config: SentinelConfig,
  passwords: ReadonlyMap<string, string>,
): AuthPasswordMerge {
  const applied: string[] = [];
  const masters = config.masters.map((master) => {
    const password = passwords.get(master.name);
    if (password === undefined || password === '') return master;
    applied.push(master.name);
    return { ...master, authPass: password };
  });
  const known = new Set(config.masters.map((m) => m.name));
  const unmatched = [...passwords.keys()].filter((name) => !known.has(name)).sort();
  const authPassByMaster = Object.fromEntries(unmatched.map((name) => [name, passwords.get(name) ?? '']));
  return { config: { ...config, masters, authPassByMaster }, applied, unmatched };
}

export interface ResolveAuthPasswordsOptions {
  /** Called only when a path is configured, so a deployment without passwords never builds a client. */
  readonly ssm?: () => SsmParameterReader;
  /** What was applied (master names only, never values). */
  readonly onResolved?: (merge: AuthPasswordMerge & { readonly path: string }) => void;
}

/**
 * The deployment with its Redis passwords from SSM, when AUTH_PASS_PARAMETER_PATH is set; otherwise
 * the deployment unchanged. Used by the functions that talk to Redis (the sentinels, the failover
 * function); the API reads only the table and needs none.
 */
export async function resolveAuthPasswords<T extends Deployment>(
  deployment: T,
  env: NodeJS.ProcessEnv,
  options: ResolveAuthPasswordsOptions = {},
): Promise<T> {
  const path = authPassPathOf(env);
  if (path === undefined) return deployment;
  const passwords = await fetchAuthPasswords((options.ssm ?? createSsmParameterReader)(), path);
  const merge = withAuthPasswords(deployment.config, passwords);
  options.onResolved?.({ ...merge, path });
  return { ...deployment, config: merge.config };
}
