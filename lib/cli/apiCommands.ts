/**
 * The SENTINEL commands as a client of the HTTP API: `lambda-sentinel <command> … [--url URL] [--json]`.
 * Human tables by default; `--json` prints the API's reply (events: one JSON record per line, newest
 * last, as the table-backed `events` prints them). Exit codes: docs/http-api.md ("CLI exit codes").
 */
import { parseArgs } from 'node:util';
import { followEvents } from '../client/eventFollower.js';
import { HttpApiError, type InstanceMap, SentinelHttpClient } from '../client/http.js';
import { sleep } from '../client/sleep.js';
import { groupSetArgs, RENAME_COMMAND } from '../core/settings.js';
import { parseTime, parseWhole } from './args.js';
import { EXIT } from './exitCodes.js';
import { eventLine, table } from './format.js';

/** How often `failover` reads the event log for its progress lines. */
const PROGRESS_POLL_MS = 200;
/** After the switch, `failover` keeps printing the re-pointing of the replicas this long at most. */
const PROGRESS_AFTER_SWITCH_MS = 10_000;
/** …and stops sooner when the event log has shown nothing at all this long after the switch. */
const PROGRESS_SILENT_MS = 1_000;

export interface Io {
  /** One line (or block) of output; the newline is added. */
  out(text: string): void;
  err(text: string): void;
}

export const processIo: Io = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

/** Where the API is when neither --url nor LAMBDA_SENTINEL_URL says: the local runner's HTTP API. */
export const DEFAULT_API_URL = 'http://127.0.0.1:8080';

export const apiUrlOf = (flag: string | undefined): string =>
  flag ?? process.env.LAMBDA_SENTINEL_URL ?? DEFAULT_API_URL;

/** The local API's user and password (HTTP Basic): from the environment only, never the command line. */
export const API_USER_ENV = 'LAMBDA_SENTINEL_USER';
export const API_PASSWORD_ENV = 'LAMBDA_SENTINEL_PASSWORD';

/** The credentials the environment gives: the password, and the user (`default` when unset). */
export function apiCredentialsOf(
  env: NodeJS.ProcessEnv,
): { readonly user: string; readonly password: string } | undefined {
  const password = env[API_PASSWORD_ENV];
  if (password === undefined || password === '') return undefined;
  return { user: env[API_USER_ENV] || 'default', password };
}

/** Options every API command takes. */
export const CONNECTION_OPTIONS = {
  url: { type: 'string' },
  sign: { type: 'boolean' },
  region: { type: 'string' },
  'timeout-ms': { type: 'string' },
} as const;

const COMMON_OPTIONS = { ...CONNECTION_OPTIONS, json: { type: 'boolean' } } as const;

export const CONNECTION_USAGE = '[--url URL] [--sign|--no-sign] [--region REGION] [--timeout-ms N]';

type OptionSpec = Record<string, { readonly type: 'string' | 'boolean' }>;
type Values = Record<string, string | boolean | undefined>;

interface Context {
  readonly client: SentinelHttpClient;
  readonly args: readonly string[];
  readonly values: Values;
  readonly json: boolean;
  readonly io: Io;
}

interface ApiCommand {
  /** Positional arguments, as the usage line shows them. */
  readonly synopsis: string;
  readonly positionals: { readonly min: number; readonly max: number };
  readonly options?: OptionSpec;
  run(context: Context): Promise<number>;
}

/** A usage error found after parsing (exit 2). */
export class UsageError extends Error {}

const json = (value: unknown): string => JSON.stringify(value);

function listOrNone(header: readonly string[], rows: string[][], what: string): string {
  return rows.length === 0 ? `(no ${what})` : table(header, rows);
}

const get = (map: Readonly<Record<string, string>>, field: string): string => map[field] ?? '';

/** A command whose one argument is a master's name (or, for RESET, a pattern). */
function named(
  run: (context: Context & { readonly name: string }) => Promise<number>,
  synopsis = '<name>',
): ApiCommand {
  return {
    synopsis,
    positionals: { min: 1, max: 1 },
    run: (context) => run({ ...context, name: context.args[0] as string }),
  };
}

/** The reply of a write the server accepted. */
function done(io: Io, asJson: boolean): number {
  io.out(asJson ? json({ ok: true }) : 'OK');
  return EXIT.ok;
}

/** A column of a listing: its header, and how a record shows in it. */
type Column = readonly [header: string, cell: (record: InstanceMap) => string];

/** A column that shows one field of the record as the API gave it. */
const field = (header: string, name: string): Column => [header, (record) => get(record, name)];

/**
 * A command that lists records (SENTINEL MASTERS, REPLICAS, SENTINELS): with `--json` the API's records
 * under `key`, else a table of `columns` (or "(no <none>)"). Takes the master's name when the synopsis
 * names one.
 */
function listing(spec: {
  readonly synopsis: '' | '<name>';
  readonly key: string;
  readonly none: string;
  readonly fetch: (client: SentinelHttpClient, name: string) => Promise<InstanceMap[]>;
  readonly columns: readonly Column[];
}): ApiCommand {
  const arity = spec.synopsis === '' ? 0 : 1;
  return {
    synopsis: spec.synopsis,
    positionals: { min: arity, max: arity },
    async run({ client, args: [name], json: asJson, io }) {
      const records = await spec.fetch(client, name as string);
      if (asJson) io.out(json({ [spec.key]: records }));
      else
        io.out(
          listOrNone(
            spec.columns.map(([header]) => header),
            records.map((record) => spec.columns.map(([, cell]) => cell(record))),
            spec.none,
          ),
        );
      return EXIT.ok;
    },
  };
}

/** SENTINEL SET arguments → entries (groupSetArgs), refusing locally an option left without its value(s). */
export function setPairs(tokens: readonly string[]): string[][] {
  const pairs = groupSetArgs(tokens);
  for (const [option, ...values] of pairs) {
    const arity = option?.toLowerCase() === RENAME_COMMAND ? 2 : 1;
    if (values.length < arity) {
      throw new UsageError(`option '${option}' needs ${arity === 2 ? 'two values' : 'a value'}`);
    }
  }
  if (pairs.length === 0) throw new UsageError('nothing to set');
  return pairs;
}

const COMMANDS: Record<string, ApiCommand> = {
  'get-master-addr-by-name': named(async ({ client, name, json: asJson, io }) => {
    const a = await client.address(name);
    io.out(asJson ? json(a) : table(['IP', 'PORT', 'EPOCH'], [[a.ip, String(a.port), String(a.epoch)]]));
    return EXIT.ok;
  }),
  masters: listing({
    synopsis: '',
    key: 'masters',
    none: 'masters',
    fetch: (client) => client.masters(),
    columns: [
      field('NAME', 'name'),
      field('IP', 'ip'),
      field('PORT', 'port'),
      field('FLAGS', 'flags'),
      field('QUORUM', 'quorum'),
      field('REPLICAS', 'num-slaves'),
      ['SENTINELS', (m) => String(Number(get(m, 'num-other-sentinels')) + 1)],
      field('CONFIG-EPOCH', 'config-epoch'),
    ],
  }),
  master: named(async ({ client, name, json: asJson, io }) => {
    const map = await client.master(name);
    io.out(asJson ? json(map) : table(['FIELD', 'VALUE'], Object.entries(map)));
    return EXIT.ok;
  }),
  replicas: listing({
    synopsis: '<name>',
    key: 'replicas',
    none: 'replicas',
    fetch: (client, name) => client.replicas(name),
    columns: [
      field('ADDRESS', 'name'),
      field('FLAGS', 'flags'),
      field('LINK', 'master-link-status'),
      ['MASTER', (r) => `${get(r, 'master-host')}:${get(r, 'master-port')}`],
      field('PRIORITY', 'slave-priority'),
      field('OFFSET', 'slave-repl-offset'),
      field('LAST-OK-PING-MS', 'last-ok-ping-reply'),
    ],
  }),
  sentinels: listing({
    synopsis: '<name>',
    key: 'sentinels',
    none: 'other sentinels',
    fetch: (client, name) => client.sentinels(name),
    columns: [
      field('RUNID', 'runid'),
      field('FLAGS', 'flags'),
      field('LAST-OK-PING-MS', 'last-ok-ping-reply'),
      field('VOTED-LEADER', 'voted-leader'),
      field('LEADER-EPOCH', 'voted-leader-epoch'),
    ],
  }),
  ckquorum: named(async ({ client, name, json: asJson, io }) => {
    const result = await client.ckquorum(name);
    io.out(asJson ? json(result) : result.reply);
    return result.ok ? EXIT.ok : EXIT.noQuorum;
  }),
  failover: {
    synopsis: '<name> [--coordinated] [--wait-ms N]',
    positionals: { min: 1, max: 1 },
    options: { coordinated: { type: 'boolean' }, 'wait-ms': { type: 'string' } },
    async run({ client, args: [name], values, json: asJson, io }) {
      const master = name as string;
      const waitText = values['wait-ms'] as string | undefined;
      const waitMs = waitText === undefined ? 30_000 : parseWhole(waitText);
      if (waitMs === null) throw new UsageError('--wait-ms must be a whole number of milliseconds');
      const before = await client.address(master);
      // The failover's events as the sentinels record them, printed as they come (not with --json).
      let seen = 0;
      let ended = false;
      const progress =
        asJson || waitMs === 0
          ? null
          : followEvents({
              client,
              master,
              intervalMs: PROGRESS_POLL_MS,
              onEvent: (record) => {
                io.out(eventLine(record));
                seen += 1;
                if (record.type === '+failover-end' || record.type.startsWith('-failover-abort'))
                  ended = true;
              },
            });
      await progress?.primed;
      try {
        const reply = await client.failover(master, { coordinated: values.coordinated === true });
        // The server answers OK once the request is recorded; the address moves when a replica is promoted.
        let after = before;
        const deadline = Date.now() + waitMs;
        for (let left = waitMs; after.epoch <= before.epoch && left > 0; left = deadline - Date.now()) {
          after = await client.address(master, { afterEpoch: before.epoch, waitMs: Math.min(left, 20_000) });
        }
        const switched = after.epoch > before.epoch;
        // Once switched, the replicas are re-pointed: show that too, until +failover-end, for a while; a
        // log that stays silent a second after the switch is one nobody writes to.
        const switchedAt = Date.now();
        const showUntil = Math.min(deadline, switchedAt + PROGRESS_AFTER_SWITCH_MS);
        for (;;) {
          const now = Date.now();
          if (!progress || !switched || ended || now >= showUntil) break;
          if (seen === 0 && now - switchedAt >= PROGRESS_SILENT_MS) break;
          await sleep(PROGRESS_POLL_MS);
        }
        await progress?.stop();
        return report(reply, switched, after);
      } finally {
        await progress?.stop();
      }

      function report(reply: string, switched: boolean, after: typeof before): number {
        if (asJson) io.out(json({ reply, switched, address: after }));
        else if (switched)
          io.out(`${reply} ${master} now at ${after.ip}:${after.port} (epoch ${after.epoch})`);
        else
          io.out(
            `${reply} (failover requested; ${master} is still at ${after.ip}:${after.port}, epoch ${after.epoch})`,
          );
        return EXIT.ok;
      }
    },
  },
  set: {
    synopsis: '<name> <option> <value> [<option> <value> …]',
    positionals: { min: 3, max: Number.POSITIVE_INFINITY },
    async run({ client, args: [name, ...rest], json: asJson, io }) {
      await client.set(name as string, setPairs(rest));
      return done(io, asJson);
    },
  },
  monitor: {
    synopsis: '<name> <ip> <port> <quorum>',
    positionals: { min: 4, max: 4 },
    async run({ client, args: [name, ip, port, quorum], json: asJson, io }) {
      await client.monitor({
        name: name as string,
        ip: ip as string,
        port: port as string,
        quorum: quorum as string,
      });
      return done(io, asJson);
    },
  },
  remove: named(async ({ client, name, json: asJson, io }) => {
    await client.remove(name);
    return done(io, asJson);
  }),
  reset: named(async ({ client, name: pattern, json: asJson, io }) => {
    const reset = await client.reset(pattern);
    io.out(asJson ? json({ reset }) : `${reset} reset`);
    return EXIT.ok;
  }, '<pattern>'),
  events: {
    synopsis: '[--master NAME] [--since TIME] [--limit N]',
    positionals: { min: 0, max: 0 },
    options: { master: { type: 'string' }, since: { type: 'string' }, limit: { type: 'string' } },
    async run({ client, values, json: asJson, io }) {
      const sinceText = values.since as string | undefined;
      const since = sinceText === undefined ? undefined : parseTime(sinceText);
      if (since === null)
        throw new UsageError(`--since must be an ISO date or milliseconds, got '${sinceText}'`);
      const limitText = values.limit as string | undefined;
      const limit = limitText === undefined ? undefined : parseWhole(limitText, 1);
      if (limit === null) throw new UsageError('--limit must be a positive whole number');
      const records = await client.events({ master: values.master as string | undefined, since, limit });
      for (const record of records.reverse()) io.out(asJson ? json(record) : eventLine(record));
      return EXIT.ok;
    },
  },
};

export const API_COMMANDS: ReadonlySet<string> = new Set(Object.keys(COMMANDS));

/** The usage lines of the API commands, for the CLI's help. */
export function apiUsage(command: string): string {
  const spec = COMMANDS[command];
  return spec ? `${command} ${spec.synopsis}`.trimEnd() : command;
}

/** The exit code for a failed API call (docs/http-api.md, "CLI exit codes"). */
export function exitCodeOf(error: unknown): number {
  if (!(error instanceof HttpApiError)) return EXIT.failure;
  if (error.code === 'NO_REGION') return EXIT.usage;
  switch (error.status) {
    case 400:
    case 413:
      return EXIT.usage;
    case 401:
    case 403:
      return EXIT.refused;
    case 404:
      return error.code === 'NOSUCHMASTER' ? EXIT.noSuchMaster : EXIT.failure;
    case 409:
      if (error.code === 'INPROG') return EXIT.inProgress;
      if (error.code === 'NOGOODSLAVE') return EXIT.noGoodReplica;
      if (error.code === 'DUPLICATE') return EXIT.refused;
      return EXIT.failure;
    default:
      return EXIT.failure;
  }
}

/** One line saying what went wrong: the server's text, with the status and code it came with. */
export function describeError(error: unknown): string {
  if (!(error instanceof HttpApiError)) return error instanceof Error ? error.message : String(error);
  if (error.status === null) return `${error.error} (${error.request})`;
  return `${error.error} (${error.status} ${error.code})`;
}

/** Builds the API client from the connection options; a bad value is a usage error. */
export function clientFrom(values: Values): SentinelHttpClient {
  const timeoutText = values['timeout-ms'] as string | undefined;
  const timeoutMs = timeoutText === undefined ? undefined : parseWhole(timeoutText, 1);
  if (timeoutMs === null) throw new UsageError('--timeout-ms must be a positive whole number');
  try {
    return new SentinelHttpClient({
      url: apiUrlOf(values.url as string | undefined),
      sign: values.sign as boolean | undefined,
      region: values.region as string | undefined,
      timeoutMs,
      basicAuth: apiCredentialsOf(process.env),
    });
  } catch (error) {
    throw new UsageError(`bad URL: ${(error as Error).message}`);
  }
}

/**
 * parseArgs, except that a negative number is a value, never an option: `set mymaster quorum -1` must
 * reach the server, which answers with Sentinel's text. (No option of these commands is a dash and a digit.)
 */
function parseWithNegativeNumbers(argv: readonly string[], options: OptionSpec) {
  const negatives: string[] = [];
  const hide = (arg: string) => (/^-\d/.test(arg) ? `\u0000${negatives.push(arg) - 1}` : arg);
  const restore = (arg: string) =>
    arg.startsWith('\u0000') ? (negatives[Number(arg.slice(1))] as string) : arg;
  const { values, positionals } = parseArgs({
    args: argv.map(hide),
    options,
    strict: true,
    allowPositionals: true,
    allowNegative: true,
  });
  const restored: Values = {};
  for (const [key, value] of Object.entries(values))
    restored[key] = typeof value === 'string' ? restore(value) : value;
  return { values: restored, positionals: positionals.map(restore) };
}

/** Runs one API command; returns its exit code. */
export async function runApiCommand(command: string, argv: readonly string[], io: Io): Promise<number> {
  const spec = COMMANDS[command];
  if (!spec) throw new Error(`not an API command: ${command}`);
  const usage = `usage: lambda-sentinel ${apiUsage(command)} ${CONNECTION_USAGE} [--json]`;
  let context: Context;
  try {
    const { values, positionals } = parseWithNegativeNumbers(argv, { ...COMMON_OPTIONS, ...spec.options });
    const { min, max } = spec.positionals;
    if (positionals.length < min || positionals.length > max) {
      throw new UsageError(
        max === 0
          ? `unexpected argument '${positionals[0]}'`
          : `expected ${min === max ? min : `at least ${min}`} argument${max === 1 ? '' : 's'}, got ${positionals.length}`,
      );
    }
    context = {
      client: clientFrom(values),
      args: positionals,
      values,
      json: values.json === true,
      io,
    };
  } catch (error) {
    io.err(`lambda-sentinel ${command}: ${(error as Error).message}\n${usage}`);
    return EXIT.usage;
  }
  try {
    return await spec.run(context);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`lambda-sentinel ${command}: ${error.message}\n${usage}`);
      return EXIT.usage;
    }
    if (context.json && error instanceof HttpApiError) {
      io.out(json({ error: error.error, code: error.code, status: error.status }));
    } else {
      io.err(`lambda-sentinel ${command}: ${describeError(error)}`);
    }
    return exitCodeOf(error);
  }
}
