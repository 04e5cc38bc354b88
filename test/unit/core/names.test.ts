import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_MASTER_NAME_LENGTH, MAX_RENAMED_COMMAND_LENGTH } from '../../../lib/core/constants.js';
import {
  commandNameToSend,
  masterNameProblem,
  masterNameTooLong,
  renameProblem,
} from '../../../lib/core/names.js';
import { isRedisCommandName } from '../../../lib/core/redisCommands.js';

describe('master names (masterNameProblem)', () => {
  it('accepts Sentinel’s charset up to the limit, and names the limit beyond it', () => {
    expect(masterNameProblem('mymaster')).toBeNull();
    expect(masterNameProblem('cache-1.eu_west')).toBeNull();
    expect(masterNameProblem('a'.repeat(MAX_MASTER_NAME_LENGTH))).toBeNull();
    expect(masterNameProblem('a'.repeat(MAX_MASTER_NAME_LENGTH + 1))).toBe('longer than 128 characters');
    expect(masterNameProblem('a'.repeat(10_000))).toBe('longer than 128 characters');
    expect(masterNameProblem('')).toBe('the name is empty');
    expect(masterNameProblem('a b')).toBe('use only A-Z a-z 0-9 . - _');
    expect(masterNameProblem('a/b')).toBe('use only A-Z a-z 0-9 . - _');
  });

  it('refuses on length alone for reads: other bad names are simply unknown masters', () => {
    expect(masterNameTooLong('a b')).toBeNull();
    expect(masterNameTooLong('')).toBeNull();
    expect(masterNameTooLong('x'.repeat(MAX_MASTER_NAME_LENGTH + 1))).toBe('longer than 128 characters');
  });
});

describe('rename-command (renameProblem, commandNameToSend)', () => {
  it('refuses a rename to another Redis command, in any case', () => {
    for (const target of [
      'FLUSHALL',
      'flushall',
      'FlushDB',
      'SHUTDOWN',
      'DEBUG',
      'ping',
      'HEXPIRE',
      'WAITAOF',
    ]) {
      expect(renameProblem('info', target), target).toMatchObject({ side: 'renamed' });
      expect(renameProblem('info', target)?.problem).toContain('another Redis command');
    }
  });

  it('refuses names that are not command tokens, on either side', () => {
    expect(renameProblem('ping', '')?.problem).toBe('the new name: it is empty');
    expect(renameProblem('ping', 'a b')?.problem).toContain('without spaces');
    expect(renameProblem('ping', 'a\r\nb')?.problem).toContain('printable ASCII');
    expect(renameProblem('ping', 'πινγ')?.problem).toContain('printable ASCII');
    expect(renameProblem('ping', 'x'.repeat(MAX_RENAMED_COMMAND_LENGTH + 1))?.problem).toContain(
      'longer than 128 characters',
    );
    expect(renameProblem('', 'P1')).toMatchObject({ side: 'command' });
    expect(renameProblem('pi ng', 'P1')).toMatchObject({ side: 'command' });
  });

  it('accepts a plausible private name, and a rename to the command itself (an undo)', () => {
    expect(renameProblem('ping', 'MYPING')).toBeNull();
    expect(renameProblem('config', 'c0nf1g-7f3a9e')).toBeNull();
    expect(renameProblem('ping', 'x'.repeat(MAX_RENAMED_COMMAND_LENGTH))).toBeNull();
    expect(renameProblem('ping', 'PING')).toBeNull();
    expect(renameProblem('replicaof', 'ReplicaOf')).toBeNull();
  });

  it('never sends a command under an unsafe name, whatever the map holds (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('ping', 'info', 'replicaof', 'config', 'client', 'failover', 'multi', 'exec'),
        fc.oneof(fc.string(), fc.constantFrom('FLUSHALL', 'flushdb', 'SHUTDOWN', 'MYPING')),
        (command, renamed) => {
          const sent = commandNameToSend({ [command]: renamed }, command);
          // Either the command itself (any case), or a plain token that is no other command's name.
          if (sent.toLowerCase() !== command) {
            expect(isRedisCommandName(sent)).toBe(false);
            expect(sent).toMatch(/^[\x21-\x7e]{1,128}$/);
          }
          expect(sent === renamed || sent === command).toBe(true);
        },
      ),
    );
    expect(commandNameToSend({ ping: 'FLUSHALL' }, 'ping')).toBe('ping');
    expect(commandNameToSend({ ping: 'MYPING' }, 'ping')).toBe('MYPING');
    expect(commandNameToSend(undefined, 'info')).toBe('info');
  });
});
