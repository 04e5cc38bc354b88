/**
 * redis.conf lines a Sentinel loads, as a user meets them here: `lambda-sentinel local --config` (a
 * child process, as a user starts it). A line with no effect here is accepted with a one-line warning
 * naming file and line; a line whose silent loss would mislead (a TLS listener, an ACL file…) stops the
 * start with file, line and why.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const bin = join(root, 'bin/lambda-sentinel.js');
/** tsx compiles the sources on first start, on a loaded 2-core machine. */
const START_TIMEOUT_MS = 60_000;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

interface Started {
  readonly child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

async function runLocal(lines: readonly string[]): Promise<Started & { file: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'ls-directives-'));
  const file = join(dir, 'sentinel.conf');
  await writeFile(file, `${lines.join('\n')}\n`);
  const child = spawn(
    process.execPath,
    [
      bin,
      'local',
      '--config',
      file,
      '--port',
      '0',
      '--http-port',
      '0',
      '--dynamodb-endpoint',
      inject('dynamodbEndpoint'),
      '--table',
      `directives-${Math.random().toString(36).slice(2)}`,
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let printed = '';
  child.stdout?.on('data', (d: Buffer) => {
    printed += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    printed += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  });
  return { child, file, exited, output: () => printed };
}

async function waitFor(started: Started, pattern: RegExp): Promise<void> {
  const until = Date.now() + START_TIMEOUT_MS;
  while (!pattern.test(started.output())) {
    if (Date.now() > until || started.child.exitCode !== null)
      throw new Error(`no ${pattern} from lambda-sentinel local:\n${started.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('redis.conf directives in lambda-sentinel local', () => {
  it('starts with lines that have no effect here, warning once for each with file and line', async () => {
    const started = await runLocal([
      'sentinel monitor mymaster 127.0.0.1 1 2',
      'tcp-keepalive 300',
      'tls-session-caching no',
      'port 26379',
    ]);
    await waitFor(started, /Sentinel endpoint at /);
    const warnings = started
      .output()
      .split('\n')
      .filter((line) => line.includes('has no effect here'));
    expect(warnings).toHaveLength(3);
    const [keepalive, caching, port] = warnings as [string, string, string];
    expect(keepalive).toContain(
      `warning: ${started.file}:2: 'tcp-keepalive' has no effect here and is ignored`,
    );
    expect(caching).toContain(`${started.file}:3: 'tls-session-caching' has no effect here and is ignored`);
    expect(port).toContain(`${started.file}:4: 'port' has no effect here and is ignored`);
    // The fields, as JSON on the same line.
    const fields = JSON.parse(port.slice(port.indexOf('{'))) as Record<string, unknown>;
    expect(fields).toEqual({
      file: started.file,
      line: 4,
      directive: 'port',
      reason: 'the listeners are set on the command line (--port, --host, --http-port)',
    });
    started.child.kill('SIGTERM');
    await started.exited;
  });

  it('refuses a TLS listener, an ACL file and an include, naming file, line and why, and does not start', async () => {
    const started = await runLocal([
      'sentinel monitor mymaster 127.0.0.1 1 2',
      'tls-port 26380',
      'aclfile /etc/redis/users.acl',
      'include /etc/redis/common.conf',
    ]);
    const code = await started.exited;
    expect(code).not.toBe(0);
    const out = started.output();
    expect(out).toContain(
      `${started.file}:2: 'tls-port' is refused: the endpoint has no TLS listener: its clients would connect in clear.`,
    );
    expect(out).toContain(`${started.file}:3: 'aclfile' is refused: an ACL file is not read`);
    expect(out).toContain(`${started.file}:4: 'include' is refused: other files are not read`);
    expect(out).not.toMatch(/Sentinel endpoint at /);
  });
});
