/**
 * The `lambda-sentinel` command line. Exit codes: 0 ok, 1 runtime failure, 2 usage or config error.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/parse.js';
import { runLocal } from '../runtime/local.js';

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

const USAGE = `usage: lambda-sentinel <command> [options]

commands:
  local [--config FILE] [--dynamodb-endpoint URL] [--table NAME] [--verbose]
        Run three sentinels on this machine. Without --config, start a throwaway Redis master with
        two replicas (redis-server on PATH) and monitor it. Events are printed as they happen.
  help  Show this message.
`;

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'local':
      return runLocalCommand(rest);
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
  let values: { config?: string; 'dynamodb-endpoint'?: string; table?: string; verbose?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        config: { type: 'string' },
        'dynamodb-endpoint': { type: 'string' },
        table: { type: 'string' },
        verbose: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    process.stderr.write(`lambda-sentinel local: ${(error as Error).message}\n`);
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
