/**
 * What the sentinel bundle costs before it does anything: the parts of its start-up that memory
 * measurements found expensive, held as build properties (memory figures themselves vary with the
 * machine; these do not). Each would fail on a build that brings the cost back:
 * - a non-ASCII character in the bundle makes V8 keep its source as a two-byte string (about 7 MB more
 *   resident memory at start for the sentinel);
 * - an ES module import of node:http loads Node's bundled undici (about 13 MB), which nothing uses;
 * - ioredis (used only to reconfigure Redis) and the SSM client (only with a password path) are loaded on
 *   demand, not at start (about 10 and 8 MB of start-up);
 * - a stack trace from the minified bundle maps back to the sources with the shipped map
 *   (scripts/map-stack.ts), since the functions run without --enable-source-maps by default.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFunctions, ESBUILD_OPTIONS, FUNCTIONS_DIR, ROOT } from '../../scripts/build.js';
import { mapStackTrace } from '../../scripts/map-stack.js';

let outdir: string;
let bundle: string;

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'ls-bundle-startup-'));
  await buildFunctions({ outdir, only: ['sentinel'] });
  bundle = join(outdir, 'sentinel.mjs');
});

afterAll(() => {
  rmSync(outdir, { recursive: true, force: true });
});

/** Runs `program` (an ES module) in a fresh node with LS_BUNDLE set; returns its stdout. */
async function runNode(program: string, env: Record<string, string> = {}): Promise<string> {
  const child = spawn(process.execPath, ['--input-type=module', '--eval', program], {
    env: { PATH: process.env.PATH ?? '', LS_BUNDLE: pathToFileURL(bundle).href, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
  });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`node exited with ${code}: ${err}`);
  return out;
}

describe('the sentinel bundle at start', () => {
  it('is ASCII only, so V8 keeps its source as a one-byte string', () => {
    const text = readFileSync(bundle, 'latin1');
    const firstWide = [...text].findIndex((c) => c.charCodeAt(0) > 0x7f);
    expect(firstWide, `non-ASCII byte at ${firstWide}: …${text.slice(firstWide - 40, firstWide + 10)}…`).toBe(
      -1,
    );
  });

  it('does not load undici (node:http is required, not imported as an ES module)', async () => {
    const loaded = await runNode(
      'await import(process.env.LS_BUNDLE);' +
        'process.stdout.write(JSON.stringify(process.moduleLoadList.filter((m) => /undici/.test(m))));',
    );
    expect(JSON.parse(loaded)).toEqual([]);
  });

  it('loads ioredis and the SSM client only on demand', async () => {
    const result = await build({
      ...ESBUILD_OPTIONS,
      absWorkingDir: ROOT,
      entryPoints: { sentinel: join(FUNCTIONS_DIR, 'sentinel.ts') },
      outdir: join(outdir, 'metafile'),
      write: false,
    });
    const imports: { from: string; to: string; kind: string }[] = [];
    for (const [from, input] of Object.entries((result.metafile as Metafile).inputs)) {
      if (from.includes('node_modules/')) continue;
      for (const imported of input.imports) imports.push({ from, to: imported.path, kind: imported.kind });
    }
    const onDemand = (pattern: RegExp) => imports.filter((i) => pattern.test(i.to));
    const ioredis = onDemand(/node_modules\/ioredis\//);
    const ssm = onDemand(/lib\/runtime\/ssmClient\.ts$/);
    expect(ioredis.length).toBeGreaterThan(0);
    expect(ssm.length).toBeGreaterThan(0);
    for (const i of ssm) expect(i, `${i.from} imports ${i.to}`).toMatchObject({ kind: 'dynamic-import' });
    for (const i of ioredis)
      expect(i, `${i.from} imports ${i.to}`).toMatchObject({ kind: 'import-statement' });
    // Nothing in the project imports the SSM package but that one module.
    expect(imports.filter((i) => /@aws-sdk\/client-ssm/.test(i.to)).map((i) => i.from)).toEqual([
      'lib/runtime/ssmClient.ts',
    ]);
  });

  it('a stack trace from the bundle maps back to the TypeScript sources with the shipped map', async () => {
    // A deployment error thrown inside the bundle: no SENTINEL_ID in the environment.
    const stack = await runNode(
      'const { handler } = await import(process.env.LS_BUNDLE);' +
        'try { await handler({}, { getRemainingTimeInMillis: () => 1000, awsRequestId: "x" }); }' +
        'catch (error) { process.stdout.write(error.stack); }',
    );
    expect(stack).toMatch(/sentinel\.mjs:\d+:\d+/);
    expect(stack).not.toContain('lambdaConfig.ts');
    const mapped = mapStackTrace(stack, outdir);
    expect(mapped).toContain('environment variable SENTINEL_ID is required');
    expect(mapped).toMatch(/at required \(lib\/runtime\/lambdaConfig\.ts:\d+:\d+\)/);
  });
});
