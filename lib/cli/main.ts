/**
 * The `lambda-sentinel` command line. Exit codes: 0 ok, 1 runtime failure, 2 usage or config error.
 */
import { parseArgs } from 'node:util';
import { createDynamoClient } from '../adapters/dynamodb/client.js';
import { DynamoEventLog } from '../adapters/dynamodb/eventLog.js';
import { DynamoStore } from '../adapters/dynamodb/store.js';
import { ConfigError } from '../config/parse.js';
import { formatEvent } from '../core/events.js';
import { LOCAL_DEFAULTS, runLocal } from '../runtime/local.js';
import { requestManualFailover } from '../runtime/manualFailover.js';

export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  inProgress: 3,
  noGoodReplica: 4,
  noSuchMaster: 5,
} as const;

const USAGE = `usage: lambda-sentinel <command> [options]

commands:
  local [--config FILE] [--port 26379] [--dynamodb-endpoint URL] [--table NAME] [--webhook URL] [--verbose]
        Run three sentinels on this machine. Without --config, start a throwaway Redis master with
        two replicas (redis-server on PATH) and monitor it. Events are printed as they happen.
  failover <name> [--coordinated] [--dynamodb-endpoint URL] [--table NAME] [--wait-ms N] [--json]
        SENTINEL FAILOVER: ask the sentinels for a failover of <name> without waiting for it to be
        down, and wait until a replica is promoted. Talks to the table directly (AWS credentials and
        region from the environment, or the local runner's endpoint, which it prints at start).
        --coordinated: a switchover that loses no acknowledged write: the live master is told
        FAILOVER TO the chosen replica (Redis >= 6.2) and hands over once the replica has caught up.
        Exit codes: 0 OK, 3 INPROG, 4 NOGOODSLAVE, 5 no such master, 1 anything else.
  events [--master NAME] [--since TIME] [--limit N] [--json] [--dynamodb-endpoint URL] [--table NAME]
        The event log, newest last: every Sentinel event the sentinels emitted, with sentinel and
        epoch. TIME is an ISO date or milliseconds since the epoch; --limit defaults to 100.
  help  Show this message.
`;

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'local':
      return runLocalCommand(rest);
    case 'failover':
      return runFailoverCommand(rest);
    case 'events':
      return runEventsCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? EXIT.usage : EXIT.ok;
    default:
      process.stderr.write(`lambda-sentinel: unknown command '${command}'\n\n${USAGE}`);
      return EXIT.usage;
  }
}

async function runLocalCommand(args: readonly string[]): Promise<number> {
  let values: {
    config?: string;
    'dynamodb-endpoint'?: string;
    table?: string;
    webhook?: string;
    port?: string;
    verbose?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        config: { type: 'string' },
        'dynamodb-endpoint': { type: 'string' },
        table: { type: 'string' },
        webhook: { type: 'string' },
        port: { type: 'string' },
        verbose: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    process.stderr.write(`lambda-sentinel local: ${(error as Error).message}\n`);
    return EXIT.usage;
  }
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65_535)) {
    process.stderr.write(`lambda-sentinel local: --port must be 0..65535, got '${values.port}'\n`);
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
    process.stderr.write(`lambda-sentinel local: ${(error as Error).message}\n`);
    return EXIT.failure;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

async function runFailoverCommand(args: readonly string[]): Promise<number> {
  let parsed: ReturnType<typeof parseFailoverArgs>;
  try {
    parsed = parseFailoverArgs(args);
  } catch (error) {
    process.stderr.write(`lambda-sentinel failover: ${(error as Error).message}\n`);
    return EXIT.usage;
  }
  const { name, values } = parsed;
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
        if (!values.json) process.stderr.write('INPROG Failover already in progress\n');
        return EXIT.inProgress;
      case 'NOGOODSLAVE':
        if (!values.json) {
          process.stderr.write('NOGOODSLAVE No suitable replica to promote\n');
          for (const r of outcome.rejected) process.stderr.write(`  ${r.host}:${r.port}: ${r.reason}\n`);
        }
        return EXIT.noGoodReplica;
      case 'NOSUCHMASTER':
        if (!values.json) process.stderr.write('ERR No such master with that name\n');
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

function parseFailoverArgs(args: readonly string[]) {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      'dynamodb-endpoint': { type: 'string' },
      table: { type: 'string' },
      'wait-ms': { type: 'string' },
      json: { type: 'boolean' },
      coordinated: { type: 'boolean' },
    },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new Error('expected exactly one master name');
  return { name: positionals[0] as string, values };
}

async function runEventsCommand(args: readonly string[]): Promise<number> {
  let values: {
    master?: string;
    since?: string;
    limit?: string;
    json?: boolean;
    'dynamodb-endpoint'?: string;
    table?: string;
  };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        master: { type: 'string' },
        since: { type: 'string' },
        limit: { type: 'string' },
        json: { type: 'boolean' },
        'dynamodb-endpoint': { type: 'string' },
        table: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    process.stderr.write(`lambda-sentinel events: ${(error as Error).message}\n`);
    return EXIT.usage;
  }
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
      process.stdout.write(
        values.json
          ? `${JSON.stringify(record)}\n`
          : `${new Date(record.at).toISOString()} [${record.sentinelId}] ${formatEvent(record)}${
              record.epoch === null ? '' : ` (epoch ${record.epoch})`
            }\n`,
      );
    }
    return EXIT.ok;
  } catch (error) {
    process.stderr.write(`lambda-sentinel events: ${(error as Error).message}\n`);
    return EXIT.failure;
  }
}

/** An ISO date or milliseconds since the epoch; null if neither. */
function parseTime(text: string): number | null {
  if (/^\d+$/.test(text)) return Number(text);
  const parsed = Date.parse(text);
  return Number.isNaN(parsed) ? null : parsed;
}
