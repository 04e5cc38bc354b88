/**
 * Configuration of a deployed sentinel, read once per container from its environment. Every variable is
 * checked here so a bad deployment fails at cold start with a clear message, not in the middle of a loop.
 */
import { readFile } from 'node:fs/promises';
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
} as const;

export class DeploymentConfigError extends Error {
  override readonly name = 'DeploymentConfigError';
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

export async function readDeployment(env: NodeJS.ProcessEnv): Promise<Deployment> {
  const tableName = required(env, SENTINEL_ENV.tableName);
  const text = env[SENTINEL_ENV.configText];
  const file = env[SENTINEL_ENV.configFile];
  let config: SentinelConfig;
  if (text !== undefined && text.trim() !== '') {
    config = parseSentinelConfig(text, `$${SENTINEL_ENV.configText}`);
  } else if (file) {
    config = parseSentinelConfig(await readFile(file, 'utf8'), file);
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
