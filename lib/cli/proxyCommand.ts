/**
 * `lambda-sentinel proxy`: a Redis-protocol Sentinel endpoint on this machine, backed by the HTTP API of
 * a deployed stack (or of a local runner). Runs until SIGINT or SIGTERM.
 */
import { parseArgs } from 'node:util';
import { startProxy } from '../client/proxy.js';
import { SENTINEL_PORT } from '../core/constants.js';
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

export const PROXY_USAGE = `proxy ${CONNECTION_USAGE} [--port ${SENTINEL_PORT}] [--host 127.0.0.1] [--announce-host HOST] [--announce-port N]`;

export async function runProxyCommand(
  argv: readonly string[],
  io: Io,
  /** Stops the proxy (default: SIGINT or SIGTERM). */
  stop?: AbortSignal,
): Promise<number> {
  let options: Parameters<typeof startProxy>[0];
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: {
        ...CONNECTION_OPTIONS,
        port: { type: 'string' },
        host: { type: 'string' },
        'announce-host': { type: 'string' },
        'announce-port': { type: 'string' },
      },
      strict: true,
      allowPositionals: true,
      allowNegative: true,
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const port = values.port === undefined ? SENTINEL_PORT : parseWhole(values.port, 0, 65_535);
    if (port === null) throw new UsageError(`--port must be 0..65535, got '${values.port}'`);
    const announcePort =
      values['announce-port'] === undefined ? undefined : parseWhole(values['announce-port'], 1, 65_535);
    if (announcePort === null) throw new UsageError('--announce-port must be 1..65535');
    // Report each background failure once, until it changes (a down API must not flood the terminal).
    const lastError = new Map<string, string>();
    options = {
      client: clientFrom(values),
      port,
      host: values.host,
      announce:
        values['announce-host'] === undefined && announcePort === undefined
          ? undefined
          : { host: values['announce-host'], port: announcePort },
      onError: (what, error) => {
        const text = describeError(error);
        if (lastError.get(what) === text) return;
        lastError.set(what, text);
        io.err(`lambda-sentinel proxy: ${what}: ${text}`);
      },
    };
  } catch (error) {
    io.err(`lambda-sentinel proxy: ${(error as Error).message}\nusage: lambda-sentinel ${PROXY_USAGE}`);
    return EXIT.usage;
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
    io.out(`try: redis-cli -h ${host} -p ${port} sentinel masters`);
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
