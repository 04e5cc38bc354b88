/**
 * Configuration of a deployed sentinel, read once per container from its environment. Every variable is
 * checked here so a bad deployment fails at cold start with a clear message, not in the middle of a loop.
 *
 * Redis passwords never come from the deployment itself: the sentinel.conf ships in the package (S3) and
 * environment variables are part of the template, so a `sentinel auth-pass` line there is refused. They
 * are SSM Parameter Store SecureStrings instead, one per master (`<path>/<master>`), read at cold start
 * by the functions that talk to Redis (resolveAuthPasswords) and merged into the configuration. Each is
 * bound to one replication group (lib/core/authBinding.ts): a listed master's to its file entry, any
 * other's to the address its value names.
 */

import { readFile } from 'node:fs/promises';
// Types only: the SSM client is loaded when a password path is configured (createSsmParameterReader).
import type {
  GetParametersByPathCommand,
  GetParametersByPathCommandOutput,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { type IgnoredLine, parseSentinelConfigDetailed } from '../config/parse.js';
import { openDefaultUser } from '../core/acl.js';
import { MAX_PORT, SENTINEL_DEFAULTS } from '../core/constants.js';
import { readJsonObject } from '../core/json.js';
import { scriptsNotRun } from '../core/sentinelReplies.js';
import { CLIENT_RECONFIG_SCRIPT, NOTIFICATION_SCRIPT, validateMonitor } from '../core/settings.js';
import type { AclUserSpec, Address, AddressBoundAuthPass, SentinelConfig } from '../core/types.js';
import type { Log } from './log.js';

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
  /** Lines of the file that have no effect here (lib/config/directives.ts), logged once at cold start. */
  readonly ignored?: readonly IgnoredLine[];
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

/**
 * `requirepass` and `user` lines configure who may use the Redis-protocol endpoint of `local` and
 * `proxy`. No deployed function serves that endpoint, so there they would do nothing but ship a password
 * (or its hash) in the package: refused, so nobody believes the deployment is protected by them.
 */
function refuseEndpointUsers(config: SentinelConfig, source: string | undefined): void {
  const users = (config.access?.users ?? []).filter((user) => !isOpenDefaultUser(user));
  if (users.length === 0) return;
  throw new DeploymentConfigError(
    `${source ?? 'sentinel.conf'}: 'requirepass' / 'user' lines configure the Redis-protocol endpoint of ` +
      `'lambda-sentinel local' and 'lambda-sentinel proxy'; the deployed functions serve none, and a ` +
      `password here would ship in the package. Remove them; give the proxy its users with --users, ` +
      `--users-ssm or LAMBDA_SENTINEL_REQUIREPASS (docs/endpoint.md, "Authentication"). The deployed HTTP ` +
      `API is guarded by IAM (docs/deploy.md).`,
  );
}

/**
 * Redis's own `default` user, unchanged: `user default on nopass ~* &* +@all`. Sentinel's CONFIG REWRITE
 * writes that line into every sentinel.conf it saves, so a file kept from a Sentinel VM has it. It holds
 * no password and protects nothing, so nobody can take it for protection: the deployment lets it pass.
 */
function isOpenDefaultUser(user: AclUserSpec): boolean {
  const open = openDefaultUser();
  return (
    user.name === open.name &&
    user.enabled &&
    user.nopass &&
    user.passwordHashes.length === 0 &&
    user.allChannels &&
    user.channelPatterns.length === 0 &&
    user.commandRules.length === 1 &&
    user.commandRules[0] === '+@all'
  );
}

/**
 * `sentinel notification-script` / `client-reconfig-script`: the local runner runs them; the deployed
 * functions run no programs, so the lines are refused with what gives the same information there.
 */
function refuseScripts(config: SentinelConfig, source: string | undefined): void {
  for (const master of config.masters) {
    const option =
      master.notificationScript !== undefined
        ? NOTIFICATION_SCRIPT
        : master.clientReconfigScript !== undefined
          ? CLIENT_RECONFIG_SCRIPT
          : null;
    if (option === null) continue;
    throw new DeploymentConfigError(
      `${source ?? 'sentinel.conf'}: 'sentinel ${option}' for master ${master.name}: ${scriptsNotRun(option)}`,
    );
  }
}

export async function readDeployment(env: NodeJS.ProcessEnv): Promise<Deployment> {
  const tableName = required(env, SENTINEL_ENV.tableName);
  const text = env[SENTINEL_ENV.configText];
  const file = env[SENTINEL_ENV.configFile];
  let config: SentinelConfig;
  let ignored: readonly IgnoredLine[];
  if (text !== undefined && text.trim() !== '') {
    const source = `$${SENTINEL_ENV.configText}`;
    refuseInlinePasswords(text, source, env);
    ({ config, ignored } = parseSentinelConfigDetailed(text, source));
  } else if (file) {
    const fileText = await readFile(file, 'utf8');
    refuseInlinePasswords(fileText, file, env);
    ({ config, ignored } = parseSentinelConfigDetailed(fileText, file));
  } else {
    throw new DeploymentConfigError(
      `set ${SENTINEL_ENV.configText} (sentinel.conf text) or ${SENTINEL_ENV.configFile} (a path in the bundle)`,
    );
  }
  refuseEndpointUsers(
    config,
    text !== undefined && text.trim() !== '' ? `$${SENTINEL_ENV.configText}` : file,
  );
  refuseScripts(config, text !== undefined && text.trim() !== '' ? `$${SENTINEL_ENV.configText}` : file);
  const endpoint = env[SENTINEL_ENV.dynamodbEndpoint];
  return { tableName, config, ignored, ...(endpoint ? { dynamodbEndpoint: endpoint } : {}) };
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

/**
 * The real client (region, credentials and `AWS_ENDPOINT_URL_SSM` from the Lambda environment). The SDK's
 * SSM module is loaded on the first request: a deployment without passwords never loads it, which saves a
 * sentinel about 8 MB of resident memory.
 */
export function createSsmParameterReader(): SsmParameterReader {
  let client: Promise<SSMClient> | undefined;
  return {
    send: async (command) => {
      client ??= import('./ssmClient.js').then(
        ({ SSMClient }) =>
          new SSMClient({
            maxAttempts: SSM_CLIENT_DEFAULTS.maxAttempts,
            requestHandler: new NodeHttpHandler({
              connectionTimeout: SSM_CLIENT_DEFAULTS.connectionTimeoutMs,
              requestTimeout: SSM_CLIENT_DEFAULTS.requestTimeoutMs,
              throwOnRequestTimeout: true,
            }),
          }),
      );
      return (await client).send(command);
    },
  };
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
  const { GetParametersByPathCommand } = await import('./ssmClient.js');
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

/** The JSON form of a parameter's value, which binds the password to one address. */
export const BOUND_AUTH_PASS_EXAMPLE = '{"address":"<ip>:<port>","password":"…"}';

/** A parameter's value, read: a plain password, or one bound to an address (the JSON form). */
export interface AuthPassParameter {
  readonly password: string;
  readonly address: Address | null;
}

/** `host:port`, the host possibly in brackets (IPv6); the port 1-65535. Null if it is not that. */
function parseAddress(text: string): Address | null {
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return null;
  const rawHost = text.slice(0, colon);
  const host = rawHost.startsWith('[') && rawHost.endsWith(']') ? rawHost.slice(1, -1) : rawHost;
  const port = text.slice(colon + 1);
  if (host === '' || /\s/.test(host) || !/^\d{1,5}$/.test(port)) return null;
  const portNumber = Number(port);
  return portNumber >= 1 && portNumber <= MAX_PORT ? { host, port: portNumber } : null;
}

/**
 * One parameter's value. A value whose first non-blank character is `{` is the JSON form
 * `{"address":"<host>:<port>","password":"…"}` and must be exactly that, so a mistyped one is refused
 * rather than sent as a password (a password that itself starts with `{` is written in the JSON form);
 * anything else is a plain password. Errors name the parameter and the keys, never the value (nor
 * JSON.parse's message, which quotes it).
 */
export function parseAuthPassParameter(parameter: string, value: string): AuthPassParameter {
  const trimmed = value.trim();
  if (!trimmed.startsWith('{')) return { password: value, address: null };
  const refuse = (why: string): never => {
    throw new DeploymentConfigError(
      `SSM parameter ${parameter}: ${why}. A value that starts with { must be ${BOUND_AUTH_PASS_EXAMPLE} ` +
        `(${SECRETS_DOC}).`,
    );
  };
  const read = readJsonObject(trimmed);
  if (!read.ok)
    return refuse(
      read.problem === 'not-json' ? 'the value is not valid JSON' : 'the value is not a JSON object',
    );
  const parsed = read.value;
  // Other keys are counted, not named: whatever was typed into a secret parameter stays out of errors.
  const keys = Object.keys(parsed);
  const missing = ['address', 'password'].filter((key) => !keys.includes(key));
  const others = keys.filter((key) => key !== 'address' && key !== 'password').length;
  if (missing.length > 0 || others > 0) {
    const problems = [
      ...(missing.length > 0 ? [`no ${missing.join(' and no ')}`] : []),
      ...(others > 0 ? [`${others} other key${others === 1 ? '' : 's'}`] : []),
    ];
    return refuse(`the object must have exactly the keys address and password (${problems.join(', ')})`);
  }
  const { address, password } = parsed;
  if (typeof password !== 'string' || password === '') return refuse('"password" is not a non-empty string');
  const bound = typeof address === 'string' ? parseAddress(address) : null;
  if (bound === null) return refuse('"address" is not "<host>:<port>"');
  return { password, address: bound };
}

export interface AuthPasswordMerge {
  readonly config: SentinelConfig;
  /** Masters of the file that got a password (bound to their file entry). */
  readonly applied: readonly string[];
  /** Masters the file does not list whose password is bound to an address, as `<name> <host>:<port>`. */
  readonly bound: readonly string[];
  /**
   * Parameters not used: a plain value for a name the file does not list. Nothing binds such a password
   * to a replication group, and the name alone can be given to any address by SENTINEL MONITOR.
   */
  readonly unused: readonly string[];
}

/**
 * The configuration with the passwords from `passwords` (parameter values by master name, read from
 * `path`). A listed master takes a plain value, or the JSON form at exactly its file address (another
 * address is refused: the password would be bound to two places). A name the file does not list needs
 * the JSON form, whose address must be one SENTINEL MONITOR accepts; a plain value for it is reported
 * in `unused` and not kept. Masters without a parameter keep no password.
 */
export function withAuthPasswords(
  config: SentinelConfig,
  passwords: ReadonlyMap<string, string>,
  path: string,
): AuthPasswordMerge {
  const parameters = new Map(
    [...passwords].map(([name, value]) => [name, parseAuthPassParameter(`${path}/${name}`, value)]),
  );
  const applied: string[] = [];
  const masters = config.masters.map((master) => {
    const parameter = parameters.get(master.name);
    if (parameter === undefined || parameter.password === '') return master;
    const { address } = parameter;
    if (address !== null && (address.host !== master.host || address.port !== master.port)) {
      throw new DeploymentConfigError(
        `SSM parameter ${path}/${master.name} binds its password to ${address.host}:${address.port}, but ` +
          `sentinel.conf monitors ${master.name} at ${master.host}:${master.port}. The password of a master ` +
          'the file lists is for the address of its monitor line: store the plain password, or the JSON ' +
          `form with "address":"${master.host}:${master.port}" (${SECRETS_DOC}).`,
      );
    }
    applied.push(master.name);
    return { ...master, authPass: parameter.password };
  });
  const listed = new Set(config.masters.map((m) => m.name));
  const authPassByMaster: Record<string, AddressBoundAuthPass> = {};
  const bound: string[] = [];
  const unused: string[] = [];
  for (const [name, parameter] of [...parameters].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (listed.has(name)) continue;
    const { address, password } = parameter;
    if (address === null) {
      unused.push(name);
      continue;
    }
    // Only SENTINEL MONITOR can add a master the file does not list, so only an address it accepts can
    // ever match; anything else is a mistake to report now, not a password that silently never applies.
    const monitorable = validateMonitor(name, address.host, String(address.port), '1', {
      resolveHostnames: config.global.resolveHostnames ?? SENTINEL_DEFAULTS.resolveHostnames,
    });
    if (!monitorable.ok) {
      throw new DeploymentConfigError(
        `SSM parameter ${path}/${name}: "address":"${address.host}:${address.port}" is not an address ` +
          `SENTINEL MONITOR accepts (${monitorable.error}); use the IP address and port given to MONITOR ` +
          `(${SECRETS_DOC}).`,
      );
    }
    authPassByMaster[name] = { address, password };
    bound.push(`${name} ${address.host}:${address.port}`);
  }
  return { config: { ...config, masters, authPassByMaster }, applied, bound, unused };
}

/** One line for a function's log about the passwords it read: names and addresses, never values. */
export interface AuthPasswordLogLine {
  readonly level: 'info' | 'warn';
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

/** What the sentinels and the failover function log at cold start about the passwords from SSM. */
export function authPasswordLogLines(
  merge: AuthPasswordMerge & { readonly path: string },
): AuthPasswordLogLine[] {
  const lines: AuthPasswordLogLine[] = [
    {
      level: 'info',
      message: 'Redis passwords read from SSM',
      fields: { path: merge.path, masters: merge.applied, boundToAddress: merge.bound },
    },
  ];
  if (merge.unused.length > 0) {
    lines.push({
      level: 'warn',
      message:
        'SSM parameters not used: they name no master of sentinel.conf and give no address. To give a ' +
        `master added by SENTINEL MONITOR a password, store ${BOUND_AUTH_PASS_EXAMPLE} with the address ` +
        'given to MONITOR',
      fields: { path: merge.path, parameters: merge.unused },
    });
  }
  return lines;
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
  const merge = withAuthPasswords(deployment.config, passwords, path);
  options.onResolved?.({ ...merge, path });
  return { ...deployment, config: merge.config };
}

/**
 * A deployment read by `read`, with its Redis passwords from SSM (resolveAuthPasswords); what was
 * applied is logged by name, never by value. For the functions that talk to Redis.
 */
export async function readDeploymentWithPasswords<T extends Deployment>(
  read: (env: NodeJS.ProcessEnv) => Promise<T>,
  env: NodeJS.ProcessEnv,
  log: Log,
): Promise<T> {
  const deployment = await read(env);
  for (const line of deployment.ignored ?? []) {
    log('warn', 'sentinel.conf directive has no effect here and is ignored', { ...line });
  }
  return resolveAuthPasswords(deployment, env, {
    onResolved: (merge) => {
      for (const line of authPasswordLogLines(merge)) log(line.level, line.message, line.fields);
    },
  });
}
