/**
 * The names users give: master names and `rename-command` names. One rule each, used by the file parser,
 * SENTINEL MONITOR and SET, the HTTP router and the store view, so that no path accepts what another
 * refuses.
 */
import { MAX_MASTER_NAME_LENGTH, MAX_RENAMED_COMMAND_LENGTH } from './constants.js';
import { isRedisCommandName } from './redisCommands.js';

/** Sentinel's charset for master names. */
const MASTER_NAME_CHARSET = /^[A-Za-z0-9._-]+$/;
/** What a reason says when the charset is wrong. */
const MASTER_NAME_CHARSET_TEXT = 'use only A-Z a-z 0-9 . - _';

/**
 * Why a master name cannot be used, or null when it can. Callers put it after their own prefix,
 * `Invalid master name …: <problem>`.
 */
export function masterNameProblem(name: string): string | null {
  if (name.length === 0) return 'the name is empty';
  return masterNameTooLong(name) ?? (MASTER_NAME_CHARSET.test(name) ? null : MASTER_NAME_CHARSET_TEXT);
}

/**
 * The length limit alone, for reads of a name: one with other characters can simply find nothing (no
 * such master, as Sentinel answers), but one over MAX_MASTER_NAME_LENGTH must not reach the store,
 * whose keys it would overflow.
 */
export function masterNameTooLong(name: string): string | null {
  return name.length > MAX_MASTER_NAME_LENGTH ? `longer than ${MAX_MASTER_NAME_LENGTH} characters` : null;
}

/** A command name as the wire carries it: printable ASCII, no space, bounded. */
const COMMAND_TOKEN = /^[\x21-\x7e]+$/;

/** Why a name cannot be a command name (for either side of a rename), or null. */
function commandTokenProblem(name: string): string | null {
  if (name.length === 0) return 'it is empty';
  if (name.length > MAX_RENAMED_COMMAND_LENGTH)
    return `it is longer than ${MAX_RENAMED_COMMAND_LENGTH} characters`;
  if (!COMMAND_TOKEN.test(name)) return 'use only printable ASCII characters, without spaces';
  return null;
}

/**
 * Why `rename-command <command> <renamed>` is refused, or null when it is safe. `side` says which name is
 * wrong, so that a caller can show the original command (a public name) while never echoing the new
 * one, which some deployments keep secret. Renaming a command to its own name (any case) is an undo and
 * always safe.
 */
export function renameProblem(
  command: string,
  renamed: string,
): { readonly side: 'command' | 'renamed'; readonly problem: string } | null {
  const commandProblem = commandTokenProblem(command);
  if (commandProblem !== null) return { side: 'command', problem: `the command name: ${commandProblem}` };
  if (renamed.toLowerCase() === command.toLowerCase()) return null;
  const renamedProblem = commandTokenProblem(renamed);
  if (renamedProblem !== null) return { side: 'renamed', problem: `the new name: ${renamedProblem}` };
  if (isRedisCommandName(renamed))
    return {
      side: 'renamed',
      problem:
        'the new name is the name of another Redis command, which the sentinel would then send ' +
        'instead (rename a command only to a name the server uses for it alone)',
    };
  return null;
}

/**
 * The name the sentinel sends for `command` (lower-case): its rename when that rename is safe, else the
 * command itself. The last barrier in the Redis adapters: whatever a settings object carries, a command
 * never goes out under another command's name.
 */
export function commandNameToSend(
  renamedCommands: Readonly<Record<string, string>> | undefined,
  command: string,
): string {
  const renamed = renamedCommands?.[command];
  if (renamed === undefined || renameProblem(command, renamed) !== null) return command;
  return renamed;
}

/**
 * Thrown by the store view when a command names a master over the length limit: such a name cannot be
 * monitored, and must not reach the store. The Redis-protocol endpoint answers it as `-ERR <message>`,
 * the HTTP API as a 400 (the router refuses the name before that).
 */
export class InvalidMasterNameError extends Error {
  override readonly name = 'InvalidMasterNameError';

  constructor(problem: string) {
    super(`Invalid master name: ${problem}`);
  }
}
