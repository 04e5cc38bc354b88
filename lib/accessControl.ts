/**
 * Who is who on the Redis-protocol endpoint and the local HTTP API: the configured users compiled for
 * decisions, and password checks. The rules and decisions themselves are pure (lib/core/acl.ts); this
 * module adds what needs node:crypto: SHA-256 of a password, and digests compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import {
  type AclUser,
  applyUserRules as applyRules,
  compileCommandRules,
  DEFAULT_USER,
  defaultUserWithPassword as defaultUserWithHashedPassword,
  openDefaultUser,
} from './core/acl.js';
import type { AclUserSpec } from './core/types.js';

/** SHA-256 of a password, as `#<hex>` rules and ACL LIST write it. */
export function passwordHash(password: string): string {
  return createHash('sha256').update(password, 'utf8').digest('hex');
}

/** The `default` user with one password (`requirepass`); an empty password means none, as in Redis. */
export function defaultUserWithPassword(password: string): AclUserSpec {
  return defaultUserWithHashedPassword(password, passwordHash);
}

/** `rules` applied in order to `user` (lib/core/acl.ts applyUserRules), hashing `>password` rules. */
export function applyUserRules(user: AclUserSpec, rules: readonly string[]): ReturnType<typeof applyRules> {
  return applyRules(user, rules, passwordHash);
}

function compileUser(spec: AclUserSpec): AclUser {
  const compiled = compileCommandRules(spec.commandRules);
  if ('error' in compiled) throw new Error(`user '${spec.name}': ${compiled.error}`);
  return {
    name: spec.name,
    enabled: spec.enabled,
    nopass: spec.nopass,
    allowed: compiled.allowed,
    allChannels: spec.allChannels,
    channelPatterns: spec.channelPatterns,
    passwordHashes: spec.passwordHashes.map((h) => Buffer.from(h, 'hex')),
  };
}

/** Compared against when the user does not exist, so that an unknown name takes as long as a known one. */
const NO_SUCH_USER_HASH = Buffer.alloc(32);

export class AccessControl {
  readonly #users: ReadonlyMap<string, AclUser>;

  /** `users` as configured; `default` is Redis's open default user unless one of them is named so. */
  constructor(users: readonly AclUserSpec[] = []) {
    const byName = new Map<string, AclUser>([[DEFAULT_USER, compileUser(openDefaultUser())]]);
    for (const spec of users) byName.set(spec.name, compileUser(spec));
    this.#users = byName;
  }

  get userNames(): readonly string[] {
    return [...this.#users.keys()].sort();
  }

  /** Whom a connection is before it authenticates: `default` if it is on and needs no password, else nobody. */
  initialUser(): AclUser | null {
    const user = this.#users.get(DEFAULT_USER);
    return user?.enabled && user.nopass ? user : null;
  }

  /** AUTH <password> is an error when the default user has no password (Redis: "called without any password configured"). */
  get defaultUserNeedsNoPassword(): boolean {
    return this.#users.get(DEFAULT_USER)?.nopass === true;
  }

  /** Nobody can act without a password: every enabled user has one (no enabled user is `nopass`). */
  get requiresPassword(): boolean {
    return [...this.#users.values()].every((u) => !u.enabled || !u.nopass);
  }

  /** The user `name` with `password`, or null (unknown, disabled, wrong password: one answer for all). */
  authenticate(name: string, password: string): AclUser | null {
    const user = this.#users.get(name);
    const digest = createHash('sha256').update(password, 'utf8').digest();
    let matched = false;
    for (const hash of user?.passwordHashes.length ? user.passwordHashes : [NO_SUCH_USER_HASH]) {
      // Every hash is compared, in constant time each: the time says nothing about which one matched.
      if (timingSafeEqual(digest, hash)) matched = true;
    }
    if (user === undefined || !user.enabled) return null;
    return user.nopass || matched ? user : null;
  }
}

/** What a start-up line says about authentication (`auth on (users: default, ops)`, `no password needed`). */
export function authSummary(control: AccessControl): string {
  const users = control.userNames.join(', ');
  if (control.initialUser() === null) return `auth on (users: ${users})`;
  return control.userNames.length > 1
    ? `no password needed for user default (users: ${users})`
    : 'no password needed';
}
