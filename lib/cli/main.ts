/**
 * The `lambda-sentinel` command line. Exit codes: lib/cli/exitCodes.ts (0 ok, 1 runtime failure, 2 usage
 * or config error, 3 INPROG, 4 NOGOODSLAVE, 5 no such master, 6 NOQUORUM, 7 refused).
 */
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { createDynamoClient } from '../adapters/dynamodb/client.js';
import { DynamoEventLog } from '../adapters/dynamodb/eventLog.js';
import { DynamoStore } from '../adapters/dynamodb/store.js';
import { ConfigError } from '../config/parse.js';
import { MAX_PORT } from '../core/constants.js';
import { errText, SENTINEL_REPLY } from '../core/sentinelReplies.js';
import { LOCAL_DEFAULTS, LocalUsageError, runLocal } from '../local/run.js';
import { requestManualFailover } from '../runtime/manualFailover.js';
import {
  API_COMMANDS,
  apiUsage,
  CONNECTION_USAGE,
  DEFAULT_API_URL,
  type Io,
  processIo,
  runApiCommand,
} from './apiCommands.js';
import { parseTime, parseWhole, talksToTable } from './args.js';
import { EXIT } from './exitCodes.js';
import { eventLine } from './format.js';
import { runProxyCommand } from './proxyCommand.js';
import { runStatusCommand, STATUS_USAGE } from './statusCommand.js';

export { EXIT } from './exitCodes.js';

const USAGE = `usage: lambda-sentinel <command> [options]

commands:
  local [--config FILE] [--port 26379] [--host 127.0.0.1] [--http-port 8080] [--http-host 127.0.0.1]
        [--dynamodb-endpoint URL] [--table NAME] [--webhook URL] [--verbose]
        Run three sentinels on this machine, with the Redis-protocol Sentinel endpoint (--port,
        --host) and the HTTP API (--http-port, --http-host). Without --config, start a throwaway
        Redis master with two replicas (redis-server on PATH) and monitor it. Events are printed as
        they happen; --webhook also POSTs them (only the URL's scheme, host and port are printed).
        Passwords: requirepass and user lines in the --config file (hashes: user NAME on #<sha256>),
        or LAMBDA_SENTINEL_REQUIREPASS. Either host beyond loopback is refused without them.
  proxy [--url URL] [--port 26379] [--host 127.0.0.1] [--announce-host HOST] [--announce-port N]
        [--users FILE] [--users-ssm NAME] [--allow-writes]
        [--sign|--no-sign] [--region REGION] [--timeout-ms N]
        The Redis-protocol Sentinel endpoint on this machine, answered by the HTTP API at --url:
        point clients in Sentinel mode at it. Runs until Ctrl-C. Read-only: SENTINEL FAILOVER, SET,
        MONITOR, REMOVE, RESET… are refused unless --allow-writes. Passwords: --users FILE
        (requirepass/user lines), --users-ssm NAME (an SSM SecureString holding such lines), or
        LAMBDA_SENTINEL_REQUIREPASS; a --host beyond loopback is refused without them.

  The SENTINEL commands, as a client of the HTTP API:
  ${apiUsage('get-master-addr-by-name')}
  ${apiUsage('masters')}
  ${apiUsage('master')}          (a field/value table)
  ${apiUsage('replicas')}
  ${apiUsage('sentinels')}
  ${apiUsage('ckquorum')}
  ${apiUsage('failover')}
        Asks for a failover of <name> without waiting for it to be down, then waits up to --wait-ms
        (default 30000) for the address to switch. --coordinated: a switchover that loses no
        acknowledged write (the live master is told FAILOVER TO the chosen replica, Redis >= 6.2).
  ${apiUsage('set')}
        rename-command takes two values; every pair is checked before any is applied.
  ${apiUsage('monitor')}
  ${apiUsage('remove')}
  ${apiUsage('reset')}
  ${apiUsage('events')}
        The event log, newest last. TIME is an ISO date or milliseconds since the epoch; --limit
        defaults to 100.
  ${STATUS_USAGE}
        What the status page (GET / of the API) shows: each master with its address, epoch, leader
        and state; its replicas (role, link, offset, lag) and why each would or would not be
        promoted; each sentinel's last tick, lease and votes; the latest failovers' timelines; the
        newest events. --watch prints it again every second or so until Ctrl-C.
  Each takes ${CONNECTION_USAGE} [--json].
        --url defaults to $LAMBDA_SENTINEL_URL, else the local runner's ${DEFAULT_API_URL}.
        Requests to a Lambda function URL are signed (SigV4, default AWS credentials; region from
        the URL, --region or AWS_REGION); --sign/--no-sign override. A local runner with passwords
        takes LAMBDA_SENTINEL_USER (default: default) and LAMBDA_SENTINEL_PASSWORD (HTTP Basic).
        --json prints JSON: the API's reply, an error as {"error", "code", "status"}, events one
        record per line.

  failover and events talk to the table directly when given --dynamodb-endpoint or --table:
  failover <name> [--coordinated] [--dynamodb-endpoint URL] [--table NAME] [--wait-ms N] [--json]
        Waits until a replica is promoted; NOGOODSLAVE lists each replica's reason. AWS credentials
        and region from the environment, or the local runner's endpoint, which it prints at start.
  events [--master NAME] [--since TIME] [--limit N] [--json] [--dynamodb-endpoint URL] [--table NAME]

  help  Show this message.

exit codes: 0 OK, 1 failure (network, unexpected reply, 5xx), 2 usage error or a 400 from the server,
  3 INPROG, 4 NOGOODSLAVE, 5 no such master, 6 NOQUORUM, 7 refused (401, 403, or monitor: duplicate
  name).
`;

/** Runs one command; `io` receives the output of the API commands and the proxy (tests capture it). */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'local':
      return runLocalCommand(rest);
    case 'failover':
    case 'events':
      if (!talksToTable(rest)) return runApiCommand(command, rest, io);
      if (rest.some((a) => /^--url(=|$)/.test(a))) {
        io.err(
          `lambda-sentinel ${command}: --url (the HTTP API) and --dynamodb-endpoint/--table (the table) are two ways to the same sentinels: give one`,
        );
        return EXIT.usage;
      }
      return command === 'failover' ? runFailoverCommand(rest) : runEventsCommand(rest);
    case 'proxy':
      return runProxyCommand(rest, io);
    case 'status':
      return runStatusCommand(rest, io);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? EXIT.usage : EXIT.ok;
    default:
      if (API_COMMANDS.has(command)) return runApiCommand(command, rest, io);
      process.stderr.write(`lambda-sentinel: unknown command '${command}'\n\n${USAGE}`);
      return EXIT.usage;
  }
}

/** The options of the commands that talk to the table directly (local, failover, events). */
const TABLE_OPTIONS = {
  'dynamodb-endpoint': { type: 'string' },
  table: { type: 'string' },
} as const;

/**
 * parseArgs (strict) for one command; a bad option or argument is reported as `lambda-sentinel
 * <command>: <reason>` and gives null (the caller exits with the usage code).
 */
function parseCommandLine<const O extends ParseArgsOptionsConfig, const P extends boolean = false>(
  command: string,
  args: readonly string[],
  options: O,
  allowPositionals: P = false as P,
): ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: P }>> | null {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals });
  } catch (error) {
    process.stderr.write(`lambda-sentinel ${command}: ${(error as Error).message}\n`);
    return null;
  }
}

async function runLocalCommand(args: readonly string[]): Promise<number> {
  const parsed = parseCommandLine('local', args, {
    config: { type: 'string' },
    ...TABLE_OPTIONS,
    webhook: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    'http-port': { type: 'string' },
    'http-host': { type: 'string' },
    verbose: { type: 'boolean' },
  });
  if (parsed === null) return EXIT.usage;
  const { values } = parsed;
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= MAX_PORT)) {
    process.stderr.write(`lambda-sentinel local: --port must be 0..${MAX_PORT}, got '${values.port}'\n`);
    return EXIT.usage;
  }
  const httpPort =
    values['http-port'] === undefined ? undefined : parseWhole(values['http-port'], 0, MAX_PORT);
  if (httpPort === null) {
    process.stderr.write(
      `lambda-sentinel local: --http-port must be 0..${MAX_PORT}, got '${values['http-port']}'\n`,
    );
    return EXIT.usage;
  }
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    await runLocal({
      configPath: values.config,
      dynamodbEndpoint: values['dynamodb-endpoint'],
      table: values.table,
      verbose: values.verbose,
      webhookUrl: values.webhook,
      port,
      host: values.host,
      // Unset: the runner's default (8080).
      httpPort,
      httpHost: values['http-host'],
      out: (line) => process.stdout.write(`${line}\n`),
      err: (line) => process.stderr.write(`${line}\n`),
      signal: abort.signal,
    });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return EXIT.usage;
    }
    if (error instanceof LocalUsageError) {
      process.stderr.write(`lambda-sentinel local: ${error.message}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`lambda-sentinel local: ${(error as Error).message}\n`);
    return EXIT.failure;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

async function runFailoverCommand(args: readonly string[]): Promise<number> {
  const parsed = parseCommandLine(
    'failover',
    args,
    {
      ...TABLE_OPTIONS,
      'wait-ms': { type: 'string' },
      json: { type: 'boolean' },
      coordinated: { type: 'boolean' },
    },
    true,
  );
  if (parsed === null) return EXIT.usage;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) {
    process.stderr.write('lambda-sentinel failover: expected exactly one master name\n');
    return EXIT.usage;
  }
  const name = positionals[0] as string;
  const table = values.table ?? process.env.TABLE_NAME ?? LOCAL_DEFAULTS.table;
  const store = new DynamoStore(createDynamoClient({ endpoint: values['dynamodb-endpoint'] }), table);
  const waitMs = values['wait-ms'] === undefined ? undefined : Number(values['wait-ms']);
  if (waitMs !== undefined && !(Number.isInteger(waitMs) && waitMs >= 0)) {
    process.stderr.write(`lambda-sentinel failover: --wait-ms must be a whole number of milliseconds\n`);
    return EXIT.usage;
  }
  try {
    const outcome = await requestManualFailover(store, name, { waitMs, coordinated: values.coordinated });
    if (values.json) process.stdout.write(`${JSON.stringify(outcome)}\n`);
    switch (outcome.reply) {
      case 'OK':
        if (!values.json) {
          process.stdout.write(
            `OK ${name} now at ${outcome.promoted.host}:${outcome.promoted.port} (epoch ${outcome.epoch})\n`,
          );
        }
        return EXIT.ok;
      case 'INPROG':
        if (!values.json) process.stderr.write(`${SENTINEL_REPLY.failoverInProgress}\n`);
        return EXIT.inProgress;
      case 'NOGOODSLAVE':
        if (!values.json) {
          process.stderr.write(`${SENTINEL_REPLY.noGoodReplica}\n`);
          for (const r of outcome.rejected) process.stderr.write(`  ${r.host}:${r.port}: ${r.reason}\n`);
        }
        return EXIT.noGoodReplica;
      case 'NOSUCHMASTER':
        if (!values.json) process.stderr.write(`${errText(SENTINEL_REPLY.noSuchMaster)}\n`);
        return EXIT.noSuchMaster;
      case 'ABORTED':
        if (!values.json) process.stderr.write(`failover aborted: ${outcome.reason}\n`);
        return EXIT.failure;
      case 'TIMEOUT':
        if (!values.json)
          process.stderr.write('no sentinel started the failover in time; the request stands\n');
        return EXIT.failure;
    }
  } catch (error) {
    process.stderr.write(`lambda-sentinel failover: ${(error as Error).message}\n`);
    return EXIT.failure;
  }
}

async function runEventsCommand(args: readonly string[]): Promise<number> {
  const parsed = parseCommandLine('events', args, {
    master: { type: 'string' },
    since: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
    ...TABLE_OPTIONS,
  });
  if (parsed === null) return EXIT.usage;
  const { values } = parsed;
  const since = values.since === undefined ? undefined : parseTime(values.since);
  if (since === null) {
    process.stderr.write(
      `lambda-sentinel events: --since must be an ISO date or milliseconds, got '${values.since}'\n`,
    );
    return EXIT.usage;
  }
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
    process.stderr.write(`lambda-sentinel events: --limit must be a positive whole number\n`);
    return EXIT.usage;
  }
  const table = values.table ?? process.env.TABLE_NAME ?? LOCAL_DEFAULTS.table;
  const log = new DynamoEventLog(createDynamoClient({ endpoint: values['dynamodb-endpoint'] }), table);
  try {
    const records = (await log.list({ master: values.master, since, limit })).reverse();
    for (const record of records) {
      process.stdout.write(values.json ? `${JSON.stringify(record)}\n` : `${eventLine(record)}\n`);
    }
    return EXIT.ok;
  } catch (error) {
    process.stderr.write(`lambda-sentinel events: ${(error as Error).message}\n`);
    return EXIT.failure;
  }
}
