/**
 * Who may do what on the Redis-protocol endpoint and the local HTTP API, as Redis's ACL decides it:
 * users that are `on` or `off`, with passwords (kept only as SHA-256, compared in constant time) or
 * `nopass`, command rules and channel rules. See docs/endpoint.md ("Authentication").
 *
 * What differs from Redis, and why:
 * - Categories. In Redis every SENTINEL subcommand is `@admin`, so Redis's categories cannot tell a
 *   lookup from a failover. Here `@read` is every command that changes nothing and `@write` every one
 *   that does (WRITE_COMMANDS below); `@all` is both. Other category names are refused, not guessed.
 * - Key rules (`~…`, `%R~…`, `allkeys`, `resetkeys`) are accepted and mean nothing: a sentinel has no keys.
 * - The command table is this endpoint's, not Redis's: `+get` is refused as an unknown command, as
 *   `redis-server --sentinel` refuses it.
 *
 * Also the endpoint's connection limits (defaults and bounds), so the file, the CLI and the servers
 * read one set of numbers. Pure: no I/O, no clock. Hashing a password and comparing digests in constant
 * time are node:crypto's, so they live with the AccessControl that uses them (lib/accessControl.ts) and
 * come in here as a function.
 */
import { globMatch } from './glob.js';
import type { AclUserSpec, ConnectionLimits } from './types.js';

/** The user an unauthenticated connection is, and the one `AUTH <password>` and `requirepass` name. */
export const DEFAULT_USER = 'default';

// ---------------------------------------------------------------------------------------------------------
// The endpoint's commands: arity (Redis's convention), and which ones write.

interface CommandEntry {
  /** Exactly n arguments (the command name included) when positive, at least -n when negative. */
  readonly arity: number;
  /** It changes something (a master, a failover, the configuration). Everything else reads. */
  readonly write?: boolean;
  /**
   * Redis's no-auth commands: they run before authentication and whatever the user's command rules
   * (a client must be able to log in, log out and start over).
   */
  readonly always?: boolean;
  readonly subcommands?: Readonly<Record<string, CommandEntry>>;
  /**
   * The subcommand only reads in one form (CONFIG GET); otherwise it writes.
   * Given the whole command (`sentinel config get *`), whether it is the reading form.
   */
  readonly readsWhen?: (args: readonly string[]) => boolean;
  /** A command with subcommands that also runs alone (COMMAND): permission id is the command's name. */
  readonly runsAlone?: boolean;
}

const firstArgIsGet = (args: readonly string[]) => (args[2] ?? '').toLowerCase() === 'get';

const SENTINEL_SUBCOMMANDS: Readonly<Record<string, CommandEntry>> = {
  'get-master-addr-by-name': { arity: 3 },
  master: { arity: 3 },
  masters: { arity: 2 },
  replicas: { arity: 3 },
  slaves: { arity: 3 },
  sentinels: { arity: 3 },
  ckquorum: { arity: 3 },
  myid: { arity: 2 },
  'info-cache': { arity: -3 },
  'pending-scripts': { arity: 2 },
  help: { arity: 2 },
  failover: { arity: 3, write: true },
  reset: { arity: 3, write: true },
  remove: { arity: 3, write: true },
  monitor: { arity: 6, write: true },
  set: { arity: -5, write: true },
  config: { arity: -3, write: true, readsWhen: firstArgIsGet },
  flushconfig: { arity: 2, write: true },
  'simulate-failure': { arity: -3, write: true },
  // Even without arguments (showing the timing parameters), as in Redis where it is @admin.
  debug: { arity: -2, write: true },
  // In Sentinel, asking with a run id casts this sentinel's vote for a leader: a write, not a lookup.
  'is-master-down-by-addr': { arity: 6, write: true },
};

const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  auth: { arity: -2, always: true },
  hello: { arity: -1, always: true },
  quit: { arity: -1, always: true },
  reset: { arity: 1, always: true },
  ping: { arity: -1 },
  client: {
    arity: -2,
    subcommands: {
      id: { arity: 2 },
      getname: { arity: 2 },
      setname: { arity: 3 },
      setinfo: { arity: 4 },
      info: { arity: 2 },
      // Changes nothing, but shows every other connection (address, name, user): in Redis it is @admin,
      // so here it needs what the commands that change things need.
      list: { arity: -2, write: true },
      kill: { arity: -3, write: true },
      help: { arity: 2 },
    },
  },
  acl: { arity: -2, subcommands: { whoami: { arity: 2 }, help: { arity: 2 } } },
  role: { arity: 1 },
  info: { arity: -1 },
  command: {
    arity: -1,
    runsAlone: true,
    subcommands: {
      count: { arity: 2 },
      list: { arity: -2 },
      info: { arity: -2 },
      docs: { arity: -2 },
      help: { arity: 2 },
    },
  },
  // Stops the local runner (a deployed stack answers an error): as much a change as any.
  shutdown: { arity: -1, write: true },
  sentinel: { arity: -2, subcommands: SENTINEL_SUBCOMMANDS },
  subscribe: { arity: -2 },
  psubscribe: { arity: -2 },
  unsubscribe: { arity: -1 },
  punsubscribe: { arity: -1 },
  publish: { arity: 3 },
};

/**
 * The two forms of a subcommand with `readsWhen`, as leaf ids: `sentinel|config|get` and `…|set`.
 */
const READ_FORM = 'get';
const WRITE_FORM = 'set';

interface Leaf {
  /** Permission id: the command's full name, plus the form for CONFIG (`sentinel|config|get`). */
  readonly id: string;
  readonly write: boolean;
}

/** Every leaf id with whether it writes. */
const LEAVES: ReadonlyMap<string, Leaf> = (() => {
  const leaves = new Map<string, Leaf>();
  const add = (name: string, entry: CommandEntry) => {
    if (entry.always) return;
    if (entry.readsWhen !== undefined) {
      leaves.set(`${name}|${READ_FORM}`, { id: `${name}|${READ_FORM}`, write: false });
      leaves.set(`${name}|${WRITE_FORM}`, { id: `${name}|${WRITE_FORM}`, write: true });
    } else {
      leaves.set(name, { id: name, write: entry.write === true });
    }
  };
  for (const [name, entry] of Object.entries(COMMANDS)) {
    if (entry.subcommands === undefined || entry.runsAlone) add(name, entry);
    for (const [sub, subEntry] of Object.entries(entry.subcommands ?? {})) add(`${name}|${sub}`, subEntry);
  }
  return leaves;
})();

/** The write commands, by full name (`sentinel|set`…), for the docs and the tests. */
export const WRITE_COMMANDS: readonly string[] = [
  ...new Set([...LEAVES.values()].filter((l) => l.write).map((l) => l.id.split('|').slice(0, 2).join('|'))),
];

export type CommandLookup =
  | { readonly kind: 'unknown-command' }
  /** `container` as Redis names it in `Try SENTINEL HELP.`: upper case. */
  | { readonly kind: 'unknown-subcommand'; readonly container: string }
  /** `name` as Redis names it in the arity error: `sentinel|master`. */
  | { readonly kind: 'arity'; readonly name: string }
  | {
      readonly kind: 'found';
      /** Full name, as NOPERM shows it: `ping`, `sentinel|set`. */
      readonly name: string;
      /** Permission id (see Leaf). */
      readonly id: string;
      readonly write: boolean;
      readonly always: boolean;
    };

function arityHolds(arity: number, argc: number): boolean {
  return arity > 0 ? argc === arity : argc >= -arity;
}

/**
 * The command `args` name, checked as Redis checks before anything runs: an unknown command, an unknown
 * subcommand, then the number of arguments. Authentication and permissions come after.
 */
export function lookupCommand(args: readonly string[]): CommandLookup {
  const name = (args[0] ?? '').toLowerCase();
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (entry === undefined) return { kind: 'unknown-command' };
  if (!arityHolds(entry.arity, args.length)) return { kind: 'arity', name };
  if (entry.subcommands === undefined || (entry.runsAlone && args.length === 1)) {
    return { kind: 'found', name, id: name, write: entry.write === true, always: entry.always === true };
  }
  const sub = (args[1] ?? '').toLowerCase();
  const subEntry = Object.hasOwn(entry.subcommands, sub) ? entry.subcommands[sub] : undefined;
  if (subEntry === undefined) return { kind: 'unknown-subcommand', container: name.toUpperCase() };
  const full = `${name}|${sub}`;
  if (!arityHolds(subEntry.arity, args.length)) return { kind: 'arity', name: full };
  if (subEntry.readsWhen !== undefined) {
    const reads = subEntry.readsWhen(args);
    return {
      kind: 'found',
      name: full,
      id: `${full}|${reads ? READ_FORM : WRITE_FORM}`,
      write: !reads,
      always: false,
    };
  }
  return { kind: 'found', name: full, id: full, write: subEntry.write === true, always: false };
}

// ---------------------------------------------------------------------------------------------------------
// Command rules.

export const COMMAND_CATEGORIES = ['@all', '@read', '@write'] as const;

/** The leaf ids a command rule's name covers (`sentinel` covers every subcommand), or an error. */
function leavesNamed(name: string): readonly string[] | string {
  if (name.startsWith('@')) {
    if (name === '@all') return [...LEAVES.keys()];
    if (name === '@read') return [...LEAVES.values()].filter((l) => !l.write).map((l) => l.id);
    if (name === '@write') return [...LEAVES.values()].filter((l) => l.write).map((l) => l.id);
    return (
      `unknown command category '${name}': this endpoint knows ${COMMAND_CATEGORIES.join(', ')} ` +
      '(in Redis every SENTINEL subcommand is @admin, so its other categories cannot separate reads from writes)'
    );
  }
  const [command = '', sub, extra] = name.split('|');
  const entry = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  const unknown = `unknown command '${name}' (this endpoint's commands: ${Object.keys(COMMANDS).join(', ')})`;
  if (entry === undefined || extra !== undefined) return unknown;
  if (sub !== undefined && (entry.subcommands === undefined || !Object.hasOwn(entry.subcommands, sub))) {
    return unknown;
  }
  if (entry.always) return `'${command}' is always allowed (as in Redis): a rule cannot grant or deny it`;
  const prefix = sub === undefined ? command : `${command}|${sub}`;
  return [...LEAVES.keys()].filter((id) => id === prefix || id.startsWith(`${prefix}|`));
}

/** `+x` / `-x` / `allcommands` / `nocommands` as [grant, name], or null for a rule of another kind. */
function commandRuleParts(rule: string): readonly [boolean, string] | null {
  if (rule === 'allcommands') return [true, '@all'];
  if (rule === 'nocommands') return [false, '@all'];
  if (rule.startsWith('+') || rule.startsWith('-')) return [rule.startsWith('+'), rule.slice(1)];
  return null;
}

/** The leaf ids a user's command rules allow, applied in order as Redis applies them. */
export function compileCommandRules(
  rules: readonly string[],
): { allowed: ReadonlySet<string> } | { error: string } {
  const allowed = new Set<string>();
  for (const rule of rules) {
    const parts = commandRuleParts(rule.toLowerCase());
    if (parts === null) return { error: `'${rule}' is not a command rule` };
    const [grant, name] = parts;
    const leaves = leavesNamed(name);
    if (typeof leaves === 'string') return { error: leaves };
    for (const id of leaves) {
      if (grant) allowed.add(id);
      else allowed.delete(id);
    }
  }
  return { allowed };
}

// ---------------------------------------------------------------------------------------------------------
// User lines.

/** SHA-256 of a password in lower-case hex, as `#<hex>` rules and ACL LIST write it. */
export type PasswordHasher = (password: string) => string;

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;
/** A user name: printable ASCII without spaces, as Redis requires of ACL SETUSER names. */
const USER_NAME = /^[\x21-\x7e]{1,128}$/;
/** Rule words that carry no secret and may be echoed in an error. */
const SHOWABLE_RULE = /^[+\-~&%@(][\x21-\x7e]{0,127}$|^[a-z-]{1,32}$/i;

/** A user as `user <name>` starts it (Redis's `reset`): off, no password, no commands, no channels. */
export function freshUser(name: string): AclUserSpec {
  return {
    name,
    enabled: false,
    nopass: false,
    passwordHashes: [],
    commandRules: [],
    allChannels: false,
    channelPatterns: [],
  };
}

/** Redis's `default` user without configuration: `on nopass ~* &* +@all`. */
export function openDefaultUser(): AclUserSpec {
  return {
    ...freshUser(DEFAULT_USER),
    enabled: true,
    nopass: true,
    commandRules: ['+@all'],
    allChannels: true,
  };
}

/** The `default` user with one password (`requirepass`); an empty password means none, as in Redis. */
export function defaultUserWithPassword(password: string, hash: PasswordHasher): AclUserSpec {
  const open = openDefaultUser();
  return password === '' ? open : { ...open, nopass: false, passwordHashes: [hash(password)] };
}

export function isValidUserName(name: string): boolean {
  return USER_NAME.test(name);
}

/** A rule as an error may show it: password rules and words that may be a stray password are not shown. */
export function showRule(rule: string): string {
  if (/^[<>#!]/.test(rule)) return `'${rule[0]}…' (value hidden)`;
  return SHOWABLE_RULE.test(rule) ? `'${rule}'` : '(not shown: it may be a password missing its ">")';
}

/**
 * `rules` applied in order to `user`, as `user <name> <rules…>` or ACL SETUSER would: the user, or the
 * reason the first bad rule is refused (never showing a password).
 */
export function applyUserRules(
  user: AclUserSpec,
  rules: readonly string[],
  passwordHash: PasswordHasher,
): { readonly user: AclUserSpec } | { readonly error: string } {
  let u = user;
  for (const rule of rules) {
    const word = rule.toLowerCase();
    const first = rule[0];
    if (word === 'on' || word === 'off') {
      u = { ...u, enabled: word === 'on' };
    } else if (word === 'nopass') {
      u = { ...u, nopass: true, passwordHashes: [] };
    } else if (word === 'resetpass') {
      u = { ...u, nopass: false, passwordHashes: [] };
    } else if (word === 'reset') {
      u = freshUser(u.name);
    } else if (first === '>' || first === '#') {
      const hex = first === '>' ? passwordHash(rule.slice(1)) : rule.slice(1);
      if (!SHA256_HEX.test(hex)) return { error: "a '#' rule needs a SHA-256 in 64 hexadecimal digits" };
      const hash = hex.toLowerCase();
      const hashes = u.passwordHashes.includes(hash) ? u.passwordHashes : [...u.passwordHashes, hash];
      u = { ...u, nopass: false, passwordHashes: hashes };
    } else if (first === '<' || first === '!') {
      const hex = first === '<' ? passwordHash(rule.slice(1)) : rule.slice(1);
      if (!SHA256_HEX.test(hex)) return { error: "a '!' rule needs a SHA-256 in 64 hexadecimal digits" };
      const hash = hex.toLowerCase();
      if (!u.passwordHashes.includes(hash)) {
        return { error: `${showRule(rule)} removes a password this user does not have` };
      }
      u = { ...u, passwordHashes: u.passwordHashes.filter((h) => h !== hash) };
    } else if (first === '~' || first === '%' || word === 'allkeys' || word === 'resetkeys') {
      // Key rules: a sentinel has no keys. Accepted so that Redis's own user lines load.
    } else if (word === 'sanitize-payload' || word === 'skip-sanitize-payload' || word === 'clearselectors') {
      // RESTORE payload checks and selectors: nothing here they could apply to.
    } else if (word === 'allchannels' || rule === '&*') {
      u = { ...u, allChannels: true, channelPatterns: [] };
    } else if (word === 'resetchannels') {
      u = { ...u, allChannels: false, channelPatterns: [] };
    } else if (first === '&') {
      if (u.allChannels) {
        return {
          error:
            `${showRule(rule)} adds a channel after '&*' (or 'allchannels'), which already allows every channel; ` +
            "use 'resetchannels' first to start from no channels",
        };
      }
      const pattern = rule.slice(1);
      if (!u.channelPatterns.includes(pattern))
        u = { ...u, channelPatterns: [...u.channelPatterns, pattern] };
    } else if (first === '(') {
      return { error: 'selectors ("(…)") are not supported: give the rules on the user itself' };
    } else if (commandRuleParts(word) !== null) {
      const compiled = compileCommandRules([word]);
      if ('error' in compiled) return { error: compiled.error };
      u = { ...u, commandRules: [...u.commandRules, word] };
    } else {
      return { error: `unknown ACL rule ${showRule(rule)}` };
    }
  }
  return { user: u };
}

// ---------------------------------------------------------------------------------------------------------
// Deciding.

/** A user ready for decisions: rules compiled, hashes as bytes (built by lib/accessControl.ts). */
export interface AclUser {
  readonly name: string;
  readonly enabled: boolean;
  readonly nopass: boolean;
  readonly allowed: ReadonlySet<string>;
  readonly allChannels: boolean;
  readonly channelPatterns: readonly string[];
  readonly passwordHashes: readonly Buffer[];
}

/** May `user` run the command with permission id `id` (lookupCommand's `id`)? */
export function mayRun(user: AclUser, id: string): boolean {
  return user.allowed.has(id);
}

/** May `user` receive messages of `channel` (SUBSCRIBE): a channel rule matches it as a glob. */
export function mayUseChannel(user: AclUser, channel: string): boolean {
  return user.allChannels || user.channelPatterns.some((p) => globMatch(p, channel));
}

/**
 * May `user` PSUBSCRIBE `pattern`: only to a pattern its rules name literally, as in Redis (a pattern
 * inside an allowed one cannot be checked in general, so Redis does not try).
 */
export function mayUsePattern(user: AclUser, pattern: string): boolean {
  return user.allChannels || user.channelPatterns.includes(pattern);
}

// ---------------------------------------------------------------------------------------------------------
// Where the endpoints listen.

const LOOPBACK_V4 = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/** An address only this machine can reach: 127.0.0.0/8, ::1 (also v4-mapped) or `localhost`. */
export function isLoopbackBind(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  return LOOPBACK_V4.test(h.replace(/^::ffff:/, ''));
}

// ---------------------------------------------------------------------------------------------------------
// Connection limits.

const SECOND_MS = 1_000;
const KIB = 1_024;

/**
 * Defaults: a Sentinel client sends commands of a few hundred bytes, in one piece, and either asks and
 * leaves or stays subscribed (never idle-closed, as in Redis). The caps bound what one client, or
 * `maxClients` of them, can make the process hold: at most maxClients × queryBufferLimitBytes of
 * unfinished commands (64 MiB by default), far less before authentication (PRE_AUTH_LIMITS).
 */
export const CONNECTION_LIMIT_DEFAULTS: ConnectionLimits = {
  idleTimeoutMs: 300 * SECOND_MS,
  frameTimeoutMs: 10 * SECOND_MS,
  maxClients: 1_000,
  queryBufferLimitBytes: 64 * KIB,
};

/** The accepted range of each limit (0 means "never" for the timeouts). */
export const CONNECTION_LIMIT_BOUNDS: Readonly<Record<keyof ConnectionLimits, { min: number; max: number }>> =
  {
    idleTimeoutMs: { min: 0, max: 86_400 * SECOND_MS },
    frameTimeoutMs: { min: 0, max: 300 * SECOND_MS },
    maxClients: { min: 1, max: 100_000 },
    queryBufferLimitBytes: { min: KIB, max: 4 * KIB * KIB },
  };

/**
 * What a connection may send before it authenticates. The argument count and bulk length are Redis's
 * own (with their error texts: `unauthenticated multibulk length` / `unauthenticated bulk length`); the
 * whole command is also capped, so that an unauthenticated connection holds at most this much.
 */
export const PRE_AUTH_LIMITS = {
  maxArgs: 10,
  maxBulkBytes: 16_384,
  maxInlineBytes: 16_384,
  maxRequestBytes: 17 * KIB,
} as const;

export function resolveConnectionLimits(limits: Partial<ConnectionLimits> = {}): ConnectionLimits {
  return { ...CONNECTION_LIMIT_DEFAULTS, ...limits };
}
