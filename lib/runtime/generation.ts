/**
 * A sentinel invocation's generation: a hash of what it runs (its code and its configuration). A running
 * loop holds its lease for up to a whole Lambda timeout; a newer invocation of another generation asks
 * it to hand over at once, so a deploy (new code, a new sentinel.conf, new parameters) takes effect
 * within a lease renewal rather than when the old loop reaches its deadline.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * Environment variables that differ between two containers of the same deployment (credentials, log
 * stream, tracing) and so must not count: two invocations of one deploy must agree. Credentials are left
 * out for that reason and because a hash of a secret has no place in the table.
 */
function countsForGeneration(name: string): boolean {
  if (name.startsWith('_')) return false;
  if (name.startsWith('AWS_')) {
    // The deployed memory size and version are part of what runs; the rest is per container.
    return name === 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE' || name === 'AWS_LAMBDA_FUNCTION_VERSION';
  }
  return !/SECRET|TOKEN|PASSWORD|CREDENTIAL/i.test(name);
}

/**
 * The generation of this process: the files it runs (the handler's bundle, the shipped sentinel.conf)
 * and its environment (where SENTINEL_CONFIG and every parameter-derived setting live). A file that
 * cannot be read counts by its name alone. 16 hex digits: a label, not a security boundary.
 */
export function deploymentGeneration(env: NodeJS.ProcessEnv, files: readonly string[]): string {
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(`file ${file}\n`);
    try {
      hash.update(readFileSync(file));
    } catch {
      hash.update('unreadable');
    }
    hash.update('\n');
  }
  for (const name of Object.keys(env).filter(countsForGeneration).sort()) {
    hash.update(`env ${name}=${env[name] ?? ''}\n`);
  }
  return hash.digest('hex').slice(0, 16);
}
