/**
 * What the sentinel.conf parser keeps while it reads a file: what each line set, and where, so later
 * checks can point at the line to fix; and the problems it found, reported together.
 */
import type { GlobalParams } from '../core/globalParams.js';
import { AccessDraft } from './access.js';
import type {
  GlobalFlagField,
  GlobalNumberField,
  GlobalParamLineField,
  MasterNumberField,
  TlsFileField,
  TlsFlagField,
} from './directives.js';

export interface ConfigIssue {
  readonly file: string;
  /** 1-based; 0 when the problem belongs to the file as a whole. */
  readonly line: number;
  readonly reason: string;
}

/** A line that is valid in Sentinel but has no effect here. `directive` is lower-case, without arguments. */
export interface IgnoredLine {
  readonly file: string;
  readonly line: number;
  readonly directive: string;
  /** Why it has no effect here. */
  readonly reason: string;
}

/** Every problem found in one configuration, reported together so one edit can fix them all. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly issues: ReadonlyArray<ConfigIssue>;

  constructor(issues: readonly ConfigIssue[], options?: ErrorOptions) {
    const inLineOrder = [...issues].sort((a, b) => a.line - b.line);
    super(inLineOrder.map((issue) => `${issue.file}:${issue.line}: ${issue.reason}`).join('\n'), options);
    this.issues = Object.freeze(inLineOrder.map((issue) => Object.freeze({ ...issue })));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Parse state.

export interface Setting<T> {
  readonly value: T;
  readonly line: number;
}

export interface MasterDraft {
  readonly name: string;
  readonly monitorLine: number;
  /** False when the monitor line itself is bad: its per-master lines are still checked, not built. */
  readonly monitorValid: boolean;
  readonly host: string;
  readonly port: number;
  readonly quorum: number;
  readonly numbers: Partial<Record<MasterNumberField, Setting<number>>>;
  /** Fields given with a bad value: relations involving them are not checked, to avoid follow-on noise. */
  readonly invalid: Set<MasterNumberField>;
  authUser?: Setting<string>;
  authPass?: Setting<string>;
  notificationScript?: Setting<string>;
  clientReconfigScript?: Setting<string>;
  readonly renames: Map<string, Setting<string>>;
}

export interface GlobalDraft {
  members?: Setting<readonly string[]>;
  membersInvalid: boolean;
  readonly numbers: Partial<Record<GlobalNumberField, Setting<number>>>;
  readonly invalid: Set<GlobalNumberField>;
  readonly flags: Partial<Record<GlobalFlagField, Setting<boolean>>>;
  /** announce-ip, announce-port, sentinel-user, sentinel-pass, loglevel, as read (lib/core/globalParams.ts). */
  readonly params: { -readonly [F in GlobalParamLineField]?: Setting<GlobalParams[F]> };
  readonly tlsFlags: Partial<Record<TlsFlagField, Setting<boolean>>>;
  readonly tlsFiles: Partial<Record<TlsFileField, Setting<string>>>;
}

export interface ConfigLine {
  readonly line: number;
  /** Lower-case directive words as shown in reasons, e.g. `sentinel monitor` or `tls-replication`. */
  readonly directive: string;
  /** The word after `sentinel` (lower-case), or undefined for a top-level directive. */
  readonly sentinelOption: string | undefined;
  readonly args: readonly string[];
}

export class ParseState {
  readonly issues: ConfigIssue[] = [];
  readonly ignored: IgnoredLine[] = [];
  readonly masters = new Map<string, MasterDraft>();
  readonly global: GlobalDraft = {
    membersInvalid: false,
    numbers: {},
    invalid: new Set(),
    flags: {},
    params: {},
    tlsFlags: {},
    tlsFiles: {},
  };
  /** Per-master lines wait until every monitor line is read, as in Sentinel. */
  readonly perMasterLines: ConfigLine[] = [];
  /** requirepass, user, timeout, maxclients…: the endpoints' access (lib/config/access.ts). */
  readonly access = new AccessDraft((line, reason) => this.reject(line, reason));

  constructor(readonly file: string) {}

  reject(line: number, reason: string): void {
    this.issues.push({ file: this.file, line, reason });
  }

  ignore(line: number, directive: string, reason: string): void {
    this.ignored.push({ file: this.file, line, directive, reason });
  }
}
