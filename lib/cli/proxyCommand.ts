/**
 * `lambda-sentinel proxy`: a Redis-protocol Sentinel endpoint on this machine, backed by the HTTP API of
 * a deployed stack (or of a local runner). Runs until SIGINT or SIGTERM.
 *
 * Read-only unless `--allow-writes`. Its users come from a users file (`--users FILE`: requirepass and
 * user lines, as in sentinel.conf), an SSM SecureString holding the same lines (`--users-ssm NAME`), or
 * LAMBDA_SENTINEL_REQUIREPASS; never from the command line, where other users of the machine see it.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { GetParameterCommand, type GetParameterCommandOutput, SSMClient } from '@aws-sdk/client-ssm';
import { AccessControl, authSummary } from '../accessControl.js';
import { startProxy } from '../client/proxy.js';
import {
  type AccessIssue,
  type AccessSource,
  accessFromEnv,
  mergeAccess,
  parseAccessFile,
  REQUIREPASS_ENV,
} from '../config/access.js';
import { isLoopbackBind } from '../core/acl.js';
import { MAX_PORT, SENTINEL_PORT } from '../core/constants.js';
import type { AccessSettings } from '../core/types.js';
import {
  CONNECTION_OPTIONS,
  CONNECTION_USAGE,
  clientFrom,
  describeError,
  exitCodeOf,
  type Io,
  UsageError,
} from './apiCommands.js';
import { parseWhole } from './args.js';
import { EXIT } from './exitCodes.js';

export const PROXY_USAGE =
  `proxy ${CONNECTION_USAGE} [--port ${SENTINEL_PORT}] [--host 127.0.0.1] [--announce-host HOST] ` +
  '[--announce-port N] [--users FILE] [--users-ssm NAME] [--allow-writes]';

/** The one SSM call the proxy makes, so tests can pass a small stub instead of an SSMClient. */
export interface SsmParameterGetter {
  send(command: GetParameterCommand): Promise<Pick<GetParameterCommandOutput, 'Parameter'>>;
}

export interface ProxyCommandDeps {
  /** The SSM client for --users-ssm (default: the SDK's, in --region or the environment's region). */
  readonly ssm?: (region: string | undefined) => SsmParameterGetter;
  /** Where LAMBDA_SENTINEL_REQUIREPASS is read (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
}

/** A users file or parameter that does not parse: every problem, by line (never a value). */
class AccessFileError extends Error {
  constructor(readonly issues: readonly AccessIssue[]) {
    super(issues.map((i) => `${i.file}:${i.line}: ${i.reason}`).join('\n'));
  }
}

function parsedOrThrow(text: string, label: string): AccessSettings {
  const { access, issues } = parseAccessFile(text, label);
  if (issues.length > 0) throw new AccessFileError(issues);
  return access;
}

async function usersFromFile(path: string): Promise<AccessSource> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new UsageError(`--users: cannot read ${path}: ${(error as Error).message}`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError(`--users: ${path} is not valid UTF-8`);
  }
  return { label: `--users ${path}`, access: parsedOrThrow(text, path) };
}

async function usersFromSsm(name: string, ssm: SsmParameterGetter): Promise<AccessSource> {
  let output: Pick<GetParameterCommandOutput, 'Parameter'>;
  try {
    output = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
  } catch (error) {
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new Error(`--users-ssm: cannot read the SSM parameter ${name} (${detail})`);
  }
  const parameter = output.Parameter;
  if (parameter?.Type !== 'SecureString') {
    throw new UsageError(
      `--users-ssm: the SSM parameter ${name} is a ${parameter?.Type ?? 'parameter of unknown type'}, not a ` +
        'SecureString: passwords must be encrypted at rest (recreate it with --type SecureString)',
    );
  }
  return { label: `--users-ssm ${name}`, access: parsedOrThrow(parameter.Value ?? '', `ssm:${name}`) };
}

const defaultSsm = (region: string | undefined): SsmParameterGetter =>
  new SSMClient(region === undefined ? {} : { region });

export async function runProxyCommand(
  argv: readonly string[],
  io: Io,
  /** Stops the proxy (default: SIGINT or SIGTERM). */
  stop?: AbortSignal,
  deps: ProxyCommandDeps = {},
): Promise<number> {
  let options: Parameters<typeof startProxy>[0];
  let values: Record<string, string | boolean | undefined>;
  try {
    const parsed = parseArgs({
      args: [...argv],
      options: {
        ...CONNECTION_OPTIONS,
        port: { type: 'string' },
        host: { type: 'string' },
        'announce-host': { type: 'string' },
        'announce-port': { type: 'string' },
        users: { type: 'string' },
        'users-ssm': { type: 'string' },
        'allow-writes': { type: 'boolean' },
      },
      strict: true,
      allowPositionals: true,
      allowNegative: true,
    });
    values = parsed.values;
    if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`);
    const port = values.port === undefined ? SENTINEL_PORT : parseWhole(values.port as string, 0, MAX_PORT);
    if (port === null) throw new UsageError(`--port must be 0..${MAX_PORT}, got '${values.port}'`);
    const announcePort =
      values['announce-port'] === undefined
        ? undefined
        : parseWhole(values['announce-port'] as string, 1, MAX_PORT);
    if (announcePort === null) throw new UsageError(`--announce-port must be 1..${MAX_PORT}`);
    // Report each background failure once, until it changes (a down API must not flood the terminal).
    const lastError = new Map<string, string>();
    options = {
      client: clientFrom(values),
      port,
      host: values.host as string | undefined,
      announce:
        values['announce-host'] === undefined && announcePort === undefined
          ? undefined
          : { host: values['announce-host'] as string | undefined, port: announcePort },
      allowWrites: values['allow-writes'] === true,
      onError: (what, error) => {
        const text = describeError(error);
        if (lastError.get(what) === text) return;
        lastError.set(what, text);
        io.err(`lambda-sentinel proxy: ${what}: ${text}`);
      },
      log: (level, message, fields) =>
        io.err(`lambda-sentinel proxy: ${level}: ${message} ${JSON.stringify(fields ?? {})}`),
    };
  } catch (error) {
    io.err(`lambda-sentinel proxy: ${(error as Error).message}\nusage: lambda-sentinel ${PROXY_USAGE}`);
    return EXIT.usage;
  }

  // Who may use it: before anything listens, so a refusal leaves nothing half started.
  try {
    const sources: AccessSource[] = [];
    if (typeof values.users === 'string') sources.push(await usersFromFile(values.users));
    if (typeof values['users-ssm'] === 'string') {
      const ssm = (deps.ssm ?? defaultSsm)(options.client.region ?? undefined);
      sources.push(await usersFromSsm(values['users-ssm'], ssm));
    }
    const fromEnv = accessFromEnv(deps.env ?? process.env);
    if (fromEnv !== null) sources.push(fromEnv);
    const access = mergeAccess(sources);
    if ('error' in access) throw new UsageError(access.error);
    const host = options.host ?? '127.0.0.1';
    if (!isLoopbackBind(host) && !new AccessControl(access.users).requiresPassword) {
      throw new UsageError(
        `refusing to listen on ${host}, beyond loopback, without a password: every command sent to the proxy ` +
          `reaches the API with your credentials. Give users with --users FILE, --users-ssm NAME or ${REQUIREPASS_ENV}`,
      );
    }
    options = { ...options, users: access.users, limits: access.limits };
  } catch (error) {
    io.err(`lambda-sentinel proxy: ${(error as Error).message}`);
    return error instanceof UsageError || error instanceof AccessFileError ? EXIT.usage : EXIT.failure;
  }

  const abort = new AbortController();
  const onSignal = () => abort.abort();
  if (stop) stop.addEventListener('abort', onSignal, { once: true });
  else {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  try {
    let proxy: Awaited<ReturnType<typeof startProxy>>;
    try {
      proxy = await startProxy(options);
    } catch (error) {
      io.err(`lambda-sentinel proxy: cannot start: ${describeError(error)}`);
      return exitCodeOf(error);
    }
    const { host, port } = proxy.endpoint.address;
    const signing = options.client.signing ? `, signed (SigV4, region ${options.client.region})` : '';
    io.out(`Sentinel endpoint at ${host}:${port}, backed by ${options.client.baseUrl.origin}${signing}`);
    const control = new AccessControl(options.users);
    const passwordNeeded = control.initialUser() === null;
    io.out(authSummary(control));
    io.out(
      options.allowWrites
        ? 'writes allowed (--allow-writes): SENTINEL FAILOVER, SET, MONITOR, REMOVE and RESET reach the API'
        : 'read-only: SENTINEL FAILOVER, SET, MONITOR, REMOVE, RESET… are refused (--allow-writes passes them on)',
    );
    io.out(`try: redis-cli -h ${host} -p ${port}${passwordNeeded ? ' --askpass' : ''} sentinel masters`);
    if (!abort.signal.aborted) {
      await new Promise<void>((resolve) =>
        abort.signal.addEventListener('abort', () => resolve(), { once: true }),
      );
    }
    await proxy.close();
    io.out('proxy stopped');
    return EXIT.ok;
  } finally {
    stop?.removeEventListener('abort', onSignal);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
