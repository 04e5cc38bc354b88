/**
 * What each line of sentinel.conf sets: the monitor and members lines, the global numbers, TLS, and the
 * per-master lines (read after every monitor line, as in Sentinel). Each problem is recorded on the
 * ParseState with its line; nothing here throws.
 */
import { MAX_PORT } from '../core/constants.js';
import { LOG_LEVELS, readGlobalParam } from '../core/globalParams.js';
import { readLimitedInteger } from '../core/limits.js';
import { masterNameProblem, renameProblem } from '../core/names.js';
import { RENAME_COMMAND } from '../core/settings.js';
import {
  AUTH_PASS,
  AUTH_USER,
  CLIENT_RECONFIG_SCRIPT,
  type GlobalFlagField,
  type GlobalNumberField,
  type GlobalParamLineField,
  MASTER_NUMBER_OPTIONS,
  type MasterNumberField,
  MONITOR,
  NOTIFICATION_SCRIPT,
  type NumberOption,
  SENTINEL,
  TLS_FILE_OPTIONS,
  TLS_FLAG_OPTIONS,
} from './directives.js';
import type { ConfigLine, MasterDraft, ParseState, Setting } from './state.js';
import {
  alreadySet,
  expectedInteger,
  invalidArgument,
  isHostOrAddress,
  parseDecimal,
  parseYesNo,
  show,
  wrongArity,
} from './values.js';

const SENTINEL_ID = /^[a-z0-9-]{1,40}$/;
const MONITOR_ARITY = 4;
const AUTH_PASS_HIDDEN = 'auth-pass value hidden';

// ---------------------------------------------------------------------------------------------------------
// Global lines.

export function applyMonitorLine(state: ParseState, { line, directive, args }: ConfigLine): void {
  if (args.length !== MONITOR_ARITY) {
    state.reject(line, wrongArity(directive, '<name> <host> <port> <quorum>'));
    // Remember the name, so the master's other lines are not also reported as naming an unknown master.
    const [name] = args;
    if (name !== undefined && !state.masters.has(name)) {
      state.masters.set(name, placeholderMaster(name, line));
    }
    return;
  }
  const [name, host, portText, quorumText] = args as [string, string, string, string];
  const issuesBefore = state.issues.length;
  const nameProblem = masterNameProblem(name);
  if (nameProblem !== null) {
    state.reject(line, `Invalid master name '${show(name)}' for '${directive}': ${nameProblem}`);
  }
  if (!isHostOrAddress(host)) {
    state.reject(
      line,
      `Invalid host '${show(host)}' for '${directive}': expected an IP address or a host name`,
    );
  }
  const port = parseDecimal(portText);
  if (port === undefined || port < 1 || port > MAX_PORT) {
    state.reject(
      line,
      `Invalid port '${show(portText)}' for '${directive}': expected an integer from 1 to ${MAX_PORT}`,
    );
  }
  const quorum = parseDecimal(quorumText);
  if (quorum === undefined || quorum < 1) {
    state.reject(line, `Invalid quorum '${show(quorumText)}' for '${directive}': ${expectedInteger(1)}`);
  }
  const first = state.masters.get(name);
  if (first !== undefined) {
    state.reject(
      line,
      `Duplicate master name '${show(name)}' (first monitored on line ${first.monitorLine})`,
    );
    return;
  }
  const valid = state.issues.length === issuesBefore && port !== undefined && quorum !== undefined;
  state.masters.set(
    name,
    valid
      ? { ...placeholderMaster(name, line), monitorValid: true, host, port, quorum }
      : placeholderMaster(name, line),
  );
}

function placeholderMaster(name: string, monitorLine: number): MasterDraft {
  return {
    name,
    monitorLine,
    monitorValid: false,
    host: '',
    port: 0,
    quorum: 0,
    numbers: {},
    invalid: new Set(),
    renames: new Map(),
  };
}

export function applyMembersLine(state: ParseState, { line, directive, args }: ConfigLine): void {
  const { global } = state;
  if (global.members !== undefined) {
    state.reject(line, alreadySet(`'${directive}'`, global.members.line));
    return;
  }
  if (args.length === 0) {
    global.membersInvalid = true;
    state.reject(line, wrongArity(directive, '<sentinel-id> [<sentinel-id> …]'));
    return;
  }
  const seen = new Set<string>();
  const issuesBefore = state.issues.length;
  for (const id of args) {
    if (!SENTINEL_ID.test(id)) {
      state.reject(
        line,
        `Invalid sentinel id '${show(id)}' for '${directive}': expected 1 to 40 of a-z 0-9 -`,
      );
    } else if (seen.has(id)) {
      state.reject(line, `sentinel id '${id}' is listed more than once in '${directive}'`);
    }
    seen.add(id);
  }
  if (state.issues.length > issuesBefore) {
    global.membersInvalid = true;
    return;
  }
  global.members = { value: Object.freeze([...args]), line };
}

export function applyGlobalNumberLine(
  state: ParseState,
  { line, directive, args }: ConfigLine,
  option: string,
  spec: NumberOption<GlobalNumberField>,
): void {
  const { global } = state;
  if (args.length !== 1) {
    state.reject(line, wrongArity(directive, spec.unit));
    return;
  }
  const previous = global.numbers[spec.field];
  if (previous !== undefined) {
    state.reject(line, alreadySet(`'${directive}'`, previous.line));
    return;
  }
  const [text] = args as [string];
  const read = readLimitedInteger(text, spec.field);
  if (!read.ok) {
    global.invalid.add(spec.field);
    state.reject(line, invalidArgument(text, option, spec.field, read));
    return;
  }
  global.numbers[spec.field] = { value: read.value, line };
}

/**
 * `sentinel announce-ip|announce-port|sentinel-user|sentinel-pass <value>` and `loglevel <level>`. A
 * sentinel-pass value is never shown in a reason.
 */
export function applyGlobalParamLine(
  state: ParseState,
  { line, directive, args }: ConfigLine,
  field: GlobalParamLineField,
): void {
  const hidden = field === 'sentinelPass';
  const usage =
    field === 'announcePort'
      ? '<port>'
      : field === 'loglevel'
        ? LOG_LEVELS.join('|')
        : hidden
          ? '<password>; quote a password that contains spaces (value hidden)'
          : '<value>';
  if (args.length !== 1) {
    state.reject(line, wrongArity(directive, usage));
    return;
  }
  const { params } = state.global;
  const previous = params[field];
  if (previous !== undefined) {
    state.reject(line, alreadySet(`'${directive}'`, previous.line));
    return;
  }
  const [text] = args as [string];
  const read = readGlobalParam(field, text);
  if (!read.ok) {
    state.reject(line, `Invalid argument '${show(text)}' for '${directive}': expected ${usage}`);
    return;
  }
  // The field and its value's type go together (readGlobalParam reads the value for that field).
  (params as Record<GlobalParamLineField, Setting<unknown>>)[field] = { value: read.value, line };
}

/** `sentinel resolve-hostnames|announce-hostnames|deny-scripts-reconfig yes|no`. */
export function applyGlobalFlagLine(
  state: ParseState,
  { line, directive, args }: ConfigLine,
  field: GlobalFlagField,
): void {
  const { flags } = state.global;
  if (args.length !== 1) {
    state.reject(line, wrongArity(directive, 'yes|no'));
    return;
  }
  const previous = flags[field];
  if (previous !== undefined) {
    state.reject(line, alreadySet(`'${directive}'`, previous.line));
    return;
  }
  const [text] = args as [string];
  const value = parseYesNo(text);
  if (value === undefined) {
    state.reject(line, `Invalid argument '${show(text)}' for '${directive}': expected yes or no`);
    return;
  }
  flags[field] = { value, line };
}

export function applyTlsLine(state: ParseState, { line, directive, args }: ConfigLine): void {
  const flag = TLS_FLAG_OPTIONS.get(directive);
  const file = TLS_FILE_OPTIONS.get(directive);
  const { tlsFlags, tlsFiles } = state.global;
  const previous = flag !== undefined ? tlsFlags[flag] : file !== undefined ? tlsFiles[file] : undefined;
  if (args.length !== 1) {
    state.reject(line, wrongArity(directive, flag !== undefined ? 'yes|no' : '<path>'));
    return;
  }
  if (previous !== undefined) {
    state.reject(line, alreadySet(`'${directive}'`, previous.line));
    return;
  }
  const [text] = args as [string];
  if (flag !== undefined) {
    const value = parseYesNo(text);
    if (value === undefined) {
      state.reject(line, `Invalid argument '${show(text)}' for '${directive}': expected yes or no`);
      return;
    }
    tlsFlags[flag] = { value, line };
  } else if (file !== undefined) {
    if (text === '') {
      state.reject(line, `Invalid argument '' for '${directive}': expected a file path`);
      return;
    }
    tlsFiles[file] = { value: text, line };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Per-master lines (run after every monitor line).

export function applyPerMasterLine(state: ParseState, entry: ConfigLine): void {
  const { line, directive, args } = entry;
  const option = entry.sentinelOption ?? '';
  // An auth-pass line echoes none of its arguments: a password typed in the wrong place would leak.
  const hidden = option === AUTH_PASS ? ` (${AUTH_PASS_HIDDEN})` : '';
  const usage = perMasterUsage(option);
  if (args.length !== usage.arity) {
    state.reject(line, `${wrongArity(directive, usage.text)}${hidden}`);
    return;
  }
  const [name, ...values] = args as [string, ...string[]];
  const draft = state.masters.get(name);
  if (draft === undefined) {
    const which = hidden === '' ? `master '${show(name)}'` : 'the master named on this line';
    state.reject(line, `${which} is not monitored (no '${SENTINEL} ${MONITOR}' line for it)${hidden}`);
    return;
  }
  const numberOption = MASTER_NUMBER_OPTIONS.get(option);
  if (numberOption !== undefined) {
    applyMasterNumber(state, entry, draft, option, numberOption, values);
    return;
  }
  if (option === RENAME_COMMAND) {
    applyRename(state, entry, draft, values);
    return;
  }
  const [value] = values as [string];
  const slot =
    option === AUTH_PASS
      ? 'authPass'
      : option === NOTIFICATION_SCRIPT
        ? 'notificationScript'
        : option === CLIENT_RECONFIG_SCRIPT
          ? 'clientReconfigScript'
          : 'authUser';
  const previous = draft[slot];
  if (previous !== undefined) {
    const what =
      hidden === '' ? `'${directive}' for master '${show(draft.name)}'` : `'${directive}' for this master`;
    state.reject(line, `${alreadySet(what, previous.line)}${hidden}`);
    return;
  }
  draft[slot] = { value, line };
}

function perMasterUsage(option: string): { readonly arity: number; readonly text: string } {
  if (option === RENAME_COMMAND) return { arity: 3, text: '<name> <command> <renamed-command>' };
  if (option === AUTH_PASS)
    return { arity: 2, text: '<name> <password>; quote a password that contains spaces' };
  if (option === AUTH_USER) return { arity: 2, text: '<name> <user>' };
  if (option === NOTIFICATION_SCRIPT || option === CLIENT_RECONFIG_SCRIPT)
    return { arity: 2, text: '<name> <path>' };
  return { arity: 2, text: `<name> ${MASTER_NUMBER_OPTIONS.get(option)?.unit ?? '<value>'}` };
}

function applyMasterNumber(
  state: ParseState,
  { line, directive }: ConfigLine,
  draft: MasterDraft,
  option: string,
  spec: NumberOption<MasterNumberField>,
  [text]: readonly string[],
): void {
  const previous = draft.numbers[spec.field];
  if (previous !== undefined) {
    state.reject(line, alreadySet(`'${directive}' for master '${show(draft.name)}'`, previous.line));
    return;
  }
  const read = readLimitedInteger(text ?? '', spec.field);
  if (!read.ok) {
    draft.invalid.add(spec.field);
    state.reject(line, invalidArgument(text ?? '', option, spec.field, read));
    return;
  }
  draft.numbers[spec.field] = { value: read.value, line };
}

function applyRename(
  state: ParseState,
  { line, directive }: ConfigLine,
  draft: MasterDraft,
  values: readonly string[],
): void {
  const [command = '', renamed = ''] = values;
  if (command === '' || renamed === '') {
    state.reject(line, `'${directive}' needs a non-empty command and a non-empty new name`);
    return;
  }
  const refused = renameProblem(command, renamed);
  if (refused !== null) {
    // The command is named (escaped, cut) when it is the wrong side; the new name never is.
    const which = refused.side === 'command' ? 'a command' : `command '${show(command.toLowerCase())}'`;
    state.reject(
      line,
      `'${directive}' cannot rename ${which} of master '${show(draft.name)}': ${refused.problem}`,
    );
    return;
  }
  const key = command.toLowerCase();
  const previous = draft.renames.get(key);
  if (previous !== undefined) {
    // The new names are not shown: renaming is sometimes used to hide commands.
    state.reject(
      line,
      `command '${show(key)}' of master '${show(draft.name)}' is already renamed on line ${previous.line}`,
    );
    return;
  }
  draft.renames.set(key, { value: renamed, line });
}
