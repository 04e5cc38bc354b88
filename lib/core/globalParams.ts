/**
 * Sentinel's global parameters as SENTINEL CONFIG GET shows them and SENTINEL CONFIG SET changes them
 * (resolve-hostnames, announce-hostnames, announce-ip, announce-port, sentinel-user, sentinel-pass,
 * loglevel): their names in Sentinel's order, defaults, and how a value is read. One place for the file
 * parser (lib/config) and the endpoint (lib/commands). Pure.
 */
import { SENTINEL_DEFAULTS } from './constants.js';
import type { GlobalSettings } from './types.js';

/** Redis's log levels, as `loglevel` takes them (7.2's SENTINEL CONFIG SET accepts the same words). */
export const LOG_LEVELS = ['debug', 'verbose', 'notice', 'warning', 'nothing'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface GlobalParams {
  readonly resolveHostnames: boolean;
  readonly announceHostnames: boolean;
  /** `sentinel announce-ip <ip>`: '' when not set. */
  readonly announceIp: string;
  /** `sentinel announce-port <port>`: 0 when not set. */
  readonly announcePort: number;
  /** `sentinel sentinel-user` / `sentinel-pass`: '' when not set. Kept; sentinels never log in to each other here. */
  readonly sentinelUser: string;
  readonly sentinelPass: string;
  /** `loglevel`. */
  readonly loglevel: LogLevel;
}

export type GlobalParamField = keyof GlobalParams;

/** Sentinel's defaults for the parameters SENTINEL_DEFAULTS does not hold (Redis: loglevel notice). */
export const GLOBAL_PARAM_DEFAULTS = {
  announceIp: '',
  announcePort: 0,
  sentinelUser: '',
  sentinelPass: '',
  loglevel: 'notice',
} as const satisfies Partial<GlobalParams>;

/** The parameters in force for a configuration: what its file said, else the defaults. */
export function globalParamsOf(global: Partial<GlobalSettings>): GlobalParams {
  return {
    resolveHostnames: global.resolveHostnames ?? SENTINEL_DEFAULTS.resolveHostnames,
    announceHostnames: global.announceHostnames ?? SENTINEL_DEFAULTS.announceHostnames,
    announceIp: global.announceIp ?? GLOBAL_PARAM_DEFAULTS.announceIp,
    announcePort: global.announcePort ?? GLOBAL_PARAM_DEFAULTS.announcePort,
    sentinelUser: global.sentinelUser ?? GLOBAL_PARAM_DEFAULTS.sentinelUser,
    sentinelPass: global.sentinelPass ?? GLOBAL_PARAM_DEFAULTS.sentinelPass,
    loglevel: global.loglevel ?? GLOBAL_PARAM_DEFAULTS.loglevel,
  };
}

/**
 * Each parameter's name, in the order SENTINEL CONFIG GET lists them. `loglevel` is Redis 7.2's (7.0
 * has no loglevel in SENTINEL CONFIG); in the file it is a top-level line, the others `sentinel …` lines.
 */
export const GLOBAL_PARAM_NAMES: ReadonlyMap<string, GlobalParamField> = new Map([
  ['resolve-hostnames', 'resolveHostnames'],
  ['announce-hostnames', 'announceHostnames'],
  ['announce-ip', 'announceIp'],
  ['announce-port', 'announcePort'],
  ['sentinel-user', 'sentinelUser'],
  ['sentinel-pass', 'sentinelPass'],
  ['loglevel', 'loglevel'],
]);

export const MAX_ANNOUNCE_PORT = 65_535;

type Read<T> = { readonly ok: true; readonly value: T } | { readonly ok: false };

/** An integer as Redis reads one (no sign but '-', no leading zeros, no spaces). */
const REDIS_INTEGER = /^-?(0|[1-9][0-9]*)$/;

/** A parameter's value from its text, as Sentinel reads it (yes/no in any case, a port 0–65535). */
export function readGlobalParam<F extends GlobalParamField>(field: F, text: string): Read<GlobalParams[F]> {
  const ok = (value: unknown): Read<GlobalParams[F]> => ({ ok: true, value: value as GlobalParams[F] });
  switch (field) {
    case 'resolveHostnames':
    case 'announceHostnames': {
      const word = text.toLowerCase();
      return word === 'yes' ? ok(true) : word === 'no' ? ok(false) : { ok: false };
    }
    case 'announcePort': {
      if (!REDIS_INTEGER.test(text)) return { ok: false };
      const port = Number(text);
      return port >= 0 && port <= MAX_ANNOUNCE_PORT ? ok(port) : { ok: false };
    }
    case 'loglevel': {
      const word = text.toLowerCase();
      return (LOG_LEVELS as readonly string[]).includes(word) ? ok(word) : { ok: false };
    }
    default:
      return ok(text);
  }
}

/**
 * A parameter's value as SENTINEL CONFIG GET shows it. `sentinel-pass` is always shown empty: Sentinel
 * echoes it in clear, but a password must never reach a reply here.
 */
export function shownGlobalParam(params: GlobalParams, field: GlobalParamField): string {
  if (field === 'sentinelPass') return '';
  const value = params[field];
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return String(value);
}
