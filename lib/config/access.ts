/**
 * The access directives: who may use the Redis-protocol endpoint and the local HTTP API, and the
 * endpoint's connection limits. They may stand in a `sentinel.conf` (lib/config/parse.ts hands them
 * here) or alone in a users file (`lambda-sentinel proxy --users FILE`, or an SSM parameter).
 *
 *   requirepass <password>                 the `default` user's password (empty: none), as in Redis
 *   user <name> [<rule> …]                 an ACL user, Redis's syntax (lib/core/acl.ts)
 *   timeout <seconds>                      idle connections closed after this; 0: never (Redis's name)
 *   maxclients <n>                         connections beyond this are refused (Redis's name)
 *   client-query-buffer-limit <bytes>      largest command (Redis's name; 64kb, 1mb… as in Redis)
 *   client-query-timeout <seconds>         a command must arrive whole within this; 0: never
 *
 * Passwords are hashed (SHA-256) as the line is read; no reason ever shows one.
 */

import { applyUserRules, defaultUserWithPassword, passwordHash } from '../accessControl.js';
import { CONNECTION_LIMIT_BOUNDS, DEFAULT_USER, freshUser, isValidUserName } from '../core/acl.js';
import { MAX_SHOWN_VALUE } from '../core/sentinelReplies.js';
import type { AccessSettings, AclUserSpec, ConnectionLimits } from '../core/types.js';
import { splitConfigLine } from './splitArgs.js';

export const REQUIREPASS = 'requirepass';
export const USER = 'user';

type LimitField = keyof ConnectionLimits;

interface LimitDirective {
  readonly field: LimitField;
  /** How the value is written: seconds (stored as ms), a count, or bytes with Redis's units. */
  readonly unit: 'seconds' | 'count' | 'bytes';
}

const LIMIT_DIRECTIVES: ReadonlyMap<string, LimitDirective> = new Map([
  ['timeout', { field: 'idleTimeoutMs', unit: 'seconds' }],
  ['client-query-timeout', { field: 'frameTimeoutMs', unit: 'seconds' }],
  ['maxclients', { field: 'maxClients', unit: 'count' }],
  ['client-query-buffer-limit', { field: 'queryBufferLimitBytes', unit: 'bytes' }],
]);

/** Every directive handled here (top-level names, lower case). */
export const ACCESS_DIRECTIVES: ReadonlySet<string> = new Set([
  REQUIREPASS,
  USER,
  ...LIMIT_DIRECTIVES.keys(),
]);

const SECOND_MS = 1_000;
/** Redis's memory units (memtoull): k and m are powers of ten, kb and mb powers of two. */
const MEMORY_UNITS: ReadonlyMap<string, number> = new Map([
  ['', 1],
  ['b', 1],
  ['k', 1_000],
  ['kb', 1_024],
  ['m', 1_000_000],
  ['mb', 1_024 * 1_024],
  ['g', 1_000_000_000],
  ['gb', 1_024 * 1_024 * 1_024],
]);
const MEMORY = /^([0-9]+)([a-z]*)$/i;
const DECIMAL = /^[0-9]+$/;

interface Placed<T> {
  readonly value: T;
  readonly line: number;
}

export type Reject = (line: number, reason: string) => void;

/** Collects the access lines of one file, then builds them (reporting problems through `reject`). */
export class AccessDraft {
  readonly #reject: Reject;
  #requirepass: Placed<string> | undefined;
  readonly #users = new Map<string, Placed<AclUserSpec>>();
  readonly #limits: Partial<Record<LimitField, Placed<number>>> = {};

  constructor(reject: Reject) {
    this.#reject = reject;
  }

  apply(line: number, directive: string, args: readonly string[]): void {
    if (directive === REQUIREPASS) this.#applyRequirepass(line, args);
    else if (directive === USER) this.#applyUser(line, args);
    else {
      const limit = LIMIT_DIRECTIVES.get(directive);
      if (limit !== undefined) this.#applyLimit(line, directive, limit, args);
    }
  }

  #applyRequirepass(line: number, args: readonly string[]): void {
    if (args.length !== 1) {
      this.#reject(
        line,
        `wrong number of arguments for '${REQUIREPASS}': expected <password>; quote a password that ` +
          'contains spaces (value hidden)',
      );
      return;
    }
    if (this.#requirepass !== undefined) {
      this.#reject(line, `'${REQUIREPASS}' is already set on line ${this.#requirepass.line}`);
      return;
    }
    this.#requirepass = { value: args[0] as string, line };
  }

  #applyUser(line: number, args: readonly string[]): void {
    const [name, ...rules] = args;
    if (name === undefined) {
      this.#reject(line, `wrong number of arguments for '${USER}': expected <name> [<rule> …]`);
      return;
    }
    if (!isValidUserName(name)) {
      this.#reject(line, `invalid user name for '${USER}': use 1 to 128 printable characters without spaces`);
      return;
    }
    const first = this.#users.get(name);
    if (first !== undefined) {
      this.#reject(line, `user '${name}' is already defined on line ${first.line}`);
      return;
    }
    const result = applyUserRules(freshUser(name), rules);
    if ('error' in result) {
      this.#reject(line, `in the rules of user '${name}': ${result.error}`);
      return;
    }
    this.#users.set(name, { value: result.user, line });
  }

  #applyLimit(line: number, directive: string, spec: LimitDirective, args: readonly string[]): void {
    const usage = spec.unit === 'bytes' ? '<bytes>' : spec.unit === 'seconds' ? '<seconds>' : '<count>';
    if (args.length !== 1) {
      this.#reject(line, `wrong number of arguments for '${directive}': expected ${usage}`);
      return;
    }
    const previous = this.#limits[spec.field];
    if (previous !== undefined) {
      this.#reject(line, `'${directive}' is already set on line ${previous.line}`);
      return;
    }
    const text = args[0] as string;
    const value = parseLimit(text, spec.unit);
    const bounds = CONNECTION_LIMIT_BOUNDS[spec.field];
    if (value === undefined || value < bounds.min || value > bounds.max) {
      this.#reject(
        line,
        `Invalid argument '${text.slice(0, MAX_SHOWN_VALUE)}' for '${directive}': ${describeBounds(spec)}`,
      );
      return;
    }
    this.#limits[spec.field] = { value, line };
  }

  /** The settings, or undefined when the file had no access line (Redis's defaults apply). */
  build(): AccessSettings | undefined {
    const users = new Map([...this.#users].map(([name, placed]) => [name, placed.value]));
    const requirepass = this.#requirepass;
    if (requirepass !== undefined) {
      const fromLine = this.#users.get(DEFAULT_USER);
      if (fromLine === undefined) {
        users.set(DEFAULT_USER, defaultUserWithPassword(requirepass.value));
      } else if (!agrees(fromLine.value, requirepass.value)) {
        // Redis lets the `user default` line win silently; two different passwords for one user are a
        // mistake worth stopping for. CONFIG REWRITE writes both, and then they agree.
        this.#reject(
          requirepass.line,
          `'${REQUIREPASS}' and 'user ${DEFAULT_USER}' (line ${fromLine.line}) give the default user ` +
            'different passwords: keep one',
        );
      }
    }
    const limits: Partial<Record<LimitField, number>> = {};
    for (const [field, placed] of Object.entries(this.#limits) as Array<[LimitField, Placed<number>]>) {
      limits[field] = placed.value;
    }
    if (users.size === 0 && Object.keys(limits).length === 0) return undefined;
    return Object.freeze({ users: Object.freeze([...users.values()]), limits: Object.freeze(limits) });
  }
}

/** The `user default` line accepts the requirepass password (as CONFIG REWRITE writes them). */
function agrees(user: AclUserSpec, password: string): boolean {
  if (password === '') return user.nopass;
  return !user.nopass && user.passwordHashes.includes(passwordHash(password));
}

function parseLimit(text: string, unit: LimitDirective['unit']): number | undefined {
  if (unit === 'bytes') {
    const match = MEMORY.exec(text);
    const multiplier = match ? MEMORY_UNITS.get((match[2] as string).toLowerCase()) : undefined;
    if (!match || multiplier === undefined) return undefined;
    const value = Number(match[1]) * multiplier;
    return Number.isSafeInteger(value) ? value : undefined;
  }
  if (!DECIMAL.test(text)) return undefined;
  const value = Number(text) * (unit === 'seconds' ? SECOND_MS : 1);
  return Number.isSafeInteger(value) ? value : undefined;
}

function describeBounds(spec: LimitDirective): string {
  const { min, max } = CONNECTION_LIMIT_BOUNDS[spec.field];
  if (spec.unit === 'seconds') {
    return `expected a whole number of seconds from ${min / SECOND_MS} to ${max / SECOND_MS} (0: never)`;
  }
  if (spec.unit === 'bytes') {
    return `expected a size from ${min} to ${max} bytes (units as in Redis: 64kb, 1mb)`;
  }
  return `expected a whole number from ${min} to ${max}`;
}

// ---------------------------------------------------------------------------------------------------------
// A file of access lines only (a users file, or the value of an SSM parameter).

export interface AccessIssue {
  readonly file: string;
  readonly line: number;
  readonly reason: string;
}

/** Lines of `text` in `file` (a path, or `ssm:<name>`): the settings, or every problem found. */
export function parseAccessFile(
  text: string,
  file: string,
): { readonly access: AccessSettings; readonly issues: readonly AccessIssue[] } {
  const issues: AccessIssue[] = [];
  const reject: Reject = (line, reason) => issues.push({ file, line, reason });
  const draft = new AccessDraft(reject);
  for (const [index, raw] of text
    .replace(/^\uFEFF/, '')
    .split('\n')
    .entries()) {
    const trimmed = raw.replace(/^[ \t\r\v\f]+|[ \t\r\v\f]+$/g, '');
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const split = splitConfigLine(trimmed);
    if (!split.ok) {
      reject(index + 1, split.reason);
      continue;
    }
    const [first = '', ...args] = split.args;
    const directive = first.toLowerCase();
    if (!ACCESS_DIRECTIVES.has(directive)) {
      const shown = /^[a-z][a-z0-9-]{0,63}$/i.test(first) ? `'${directive}'` : '(not shown)';
      reject(
        index + 1,
        `${shown} does not belong in a users file: only ${[...ACCESS_DIRECTIVES].join(', ')}`,
      );
      continue;
    }
    draft.apply(index + 1, directive, args);
  }
  const access = draft.build() ?? { users: [], limits: {} };
  return { access, issues };
}

/** Where an access setting came from, for conflict messages (`--users /etc/x`, `LAMBDA_SENTINEL_REQUIREPASS`). */
export interface AccessSource {
  readonly label: string;
  readonly access: AccessSettings;
}

/**
 * Several sources as one: each user and each limit may be set by one source only (two passwords for
 * `default` from two places would leave the operator guessing which one holds).
 */
export function mergeAccess(sources: readonly AccessSource[]): AccessSettings | { readonly error: string } {
  const users = new Map<string, { spec: AclUserSpec; label: string }>();
  const limits: Partial<Record<LimitField, number>> = {};
  const limitFrom = new Map<LimitField, string>();
  for (const { label, access } of sources) {
    for (const spec of access.users) {
      const first = users.get(spec.name);
      if (first !== undefined) {
        return { error: `user '${spec.name}' is set both by ${first.label} and by ${label}: keep one` };
      }
      users.set(spec.name, { spec, label });
    }
    for (const [field, value] of Object.entries(access.limits) as Array<[LimitField, number]>) {
      const first = limitFrom.get(field);
      if (first !== undefined) {
        const name = [...LIMIT_DIRECTIVES].find(([, d]) => d.field === field)?.[0] ?? field;
        return { error: `'${name}' is set both by ${first} and by ${label}: keep one` };
      }
      limitFrom.set(field, label);
      limits[field] = value;
    }
  }
  return { users: [...users.values()].map((u) => u.spec), limits };
}

/** The environment variable that gives the `default` user a password (local and proxy). */
export const REQUIREPASS_ENV = 'LAMBDA_SENTINEL_REQUIREPASS';

/** The access the environment gives, as a source for mergeAccess (none when the variable is unset or empty). */
export function accessFromEnv(env: NodeJS.ProcessEnv): AccessSource | null {
  const password = env[REQUIREPASS_ENV];
  if (password === undefined || password === '') return null;
  return { label: REQUIREPASS_ENV, access: { users: [defaultUserWithPassword(password)], limits: {} } };
}
