/**
 * `npm run build`: bundle every Lambda handler `functions/<name>.ts` into `dist/<name>.mjs` with esbuild.
 *
 * serverless.yml points each handler at the bundle (`dist/<name>.handler`), so neither osls nor upstream
 * Serverless v4 ever bundles anything itself (v4 only auto-builds handlers that resolve to `.ts` files).
 * Choices, measured and explained in docs/deploy.md ("Bundles"):
 * - ESM (`.mjs`), platform node, target node24: the nodejs24.x runtime loads it as is.
 * - The AWS SDK is bundled, not left to the runtime's copy: the store relies on SDK behaviour we test
 *   against (`throwOnRequestTimeout` in @smithy/node-http-handler, the document client's marshalling),
 *   and the runtime's SDK version changes under a deployed function without notice.
 * - Minified, names kept (error names in logs), linked source maps with no embedded sources.
 * - ASCII output (esbuild escapes other characters in strings as \u…): V8 keeps a script's source in
 *   memory, and one character above U+00FF makes it a two-byte string; the sentinel bundle took about
 *   7 MB more resident memory at start with 11 such characters (… and → in messages) than without.
 * - A `require` made with createRequire, for CommonJS dependencies (ioredis and its deps) that call
 *   `require('node:…')` inside an ES module bundle.
 * - `node:http` is required, not imported (REQUIRED_BUILTINS): an ES module import of it builds its
 *   namespace, which reads the lazy `WebSocket`, `CloseEvent` and `MessageEvent` exports and so loads
 *   Node's bundled undici: about 13 MB of resident memory (17 MB for the import against 4 MB for the
 *   require) for code no function uses.
 *
 * It also writes dist/manifest.json, which serverless.yml reads (`custom.bundles`): packaging without a
 * build fails at once instead of shipping a stale or missing bundle.
 *
 *   npm run build [-- --outdir DIR] [--only sentinel,notify]
 */
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { type BuildOptions, build, type Metafile, type Plugin } from 'esbuild';

export const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const FUNCTIONS_DIR = join(ROOT, 'functions');
export const DEFAULT_OUTDIR = join(ROOT, 'dist');
/** Written next to the bundles; serverless.yml refuses to package without it. */
export const MANIFEST = 'manifest.json';

/** Lets CommonJS code inside the ES module bundle call require() (esbuild's shim defers to it). */
const REQUIRE_BANNER =
  "import { createRequire as __lambdaSentinelCreateRequire } from 'node:module';" +
  'const require = __lambdaSentinelCreateRequire(import.meta.url);';

/**
 * Node built-in modules whose ES module namespace costs more than the module: these are loaded with
 * `require` (the module object, whose lazy exports stay lazy) wherever the bundled code imports them.
 */
export const REQUIRED_BUILTINS: readonly string[] = ['http'];

/** Rewrites imports of REQUIRED_BUILTINS into a CommonJS module that requires them. */
const requiredBuiltins: Plugin = {
  name: 'required-builtins',
  setup(esbuild) {
    const names = REQUIRED_BUILTINS.join('|');
    esbuild.onResolve({ filter: new RegExp(`^(node:)?(${names})$`) }, (args) =>
      // The require inside the stand-in itself is the real built-in: left to esbuild (external on node).
      args.namespace === 'required-builtin'
        ? undefined
        : { path: args.path.replace(/^node:/, ''), namespace: 'required-builtin' },
    );
    esbuild.onLoad({ filter: /.*/, namespace: 'required-builtin' }, (args) => ({
      contents: `module.exports = require('node:${args.path}');`,
      loader: 'js',
    }));
  },
};

export const ESBUILD_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  outExtension: { '.js': '.mjs' },
  // Prefer the ES module builds of dual packages (the AWS SDK): better tree shaking.
  mainFields: ['module', 'main'],
  minify: true,
  keepNames: true,
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'none',
  charset: 'ascii',
  banner: { js: REQUIRE_BANNER },
  plugins: [requiredBuiltins],
  metafile: true,
  logLevel: 'warning',
} as const satisfies BuildOptions;

export interface BundleInfo {
  readonly name: string;
  /** Path of the bundle, relative to the repository root. */
  readonly file: string;
  readonly bytes: number;
  readonly mapBytes: number;
  /** The biggest inputs (package or project directory) by bytes in the output. */
  readonly top: readonly { readonly input: string; readonly bytes: number }[];
}

/** Handler names: every `functions/*.ts` file. */
export function handlerNames(dir: string = FUNCTIONS_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.endsWith('.test.ts'))
    .map((f) => basename(f, '.ts'))
    .sort();
}

/** Groups an input path by npm package (`node_modules/@scope/pkg`) or project directory. */
function inputGroup(input: string): string {
  const parts = input.split('/');
  const at = parts.lastIndexOf('node_modules');
  if (at >= 0) {
    const scoped = parts[at + 1]?.startsWith('@');
    return parts.slice(at + 1, at + (scoped ? 3 : 2)).join('/');
  }
  return parts.slice(0, parts.length > 2 ? 2 : 1).join('/');
}

function describe(name: string, outdir: string, metafile: Metafile): BundleInfo {
  const file = join(outdir, `${name}.mjs`);
  const key = relative(process.cwd(), file).split('\\').join('/');
  const output = metafile.outputs[key];
  const map = metafile.outputs[`${key}.map`];
  if (!output) throw new Error(`esbuild reported no output ${key}`);
  const groups = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const group = inputGroup(input);
    groups.set(group, (groups.get(group) ?? 0) + bytesInOutput);
  }
  const top = [...groups.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([input, bytes]) => ({ input, bytes }));
  return { name, file: relative(ROOT, file), bytes: output.bytes, mapBytes: map?.bytes ?? 0, top };
}

export interface BuildRequest {
  readonly outdir?: string;
  /** Only these handlers (default: all of functions/). */
  readonly only?: readonly string[];
  /** Extra esbuild options (the bench uses this to compare variants). */
  readonly overrides?: BuildOptions;
}

/** Builds the bundles into a clean outdir and describes each. */
export async function buildFunctions(request: BuildRequest = {}): Promise<BundleInfo[]> {
  const outdir = resolve(request.outdir ?? DEFAULT_OUTDIR);
  const names = request.only ?? handlerNames();
  if (names.length === 0) throw new Error(`no handlers in ${FUNCTIONS_DIR}`);
  rmSync(outdir, { recursive: true, force: true });
  // esbuild names metafile outputs relative to its working directory: run it from the root.
  const previousCwd = process.cwd();
  process.chdir(ROOT);
  try {
    const result = await build({
      ...ESBUILD_OPTIONS,
      ...request.overrides,
      absWorkingDir: ROOT,
      entryPoints: Object.fromEntries(names.map((n) => [n, join(FUNCTIONS_DIR, `${n}.ts`)])),
      outdir,
    });
    const bundles = names.map((n) => describe(n, outdir, result.metafile as Metafile));
    const manifest = {
      builtAt: new Date().toISOString(),
      bundles: bundles.map((b) => ({ name: b.name, file: b.file, bytes: b.bytes })),
    };
    writeFileSync(join(outdir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    return bundles;
  } finally {
    process.chdir(previousCwd);
  }
}

const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { outdir: { type: 'string' }, only: { type: 'string' } },
  });
  const started = performance.now();
  const bundles = await buildFunctions({
    ...(values.outdir ? { outdir: values.outdir } : {}),
    ...(values.only ? { only: values.only.split(',') } : {}),
  });
  for (const b of bundles) {
    const top = b.top
      .slice(0, 4)
      .map((t) => `${t.input} ${kb(t.bytes)}`)
      .join(', ');
    console.log(`${b.file}  ${kb(b.bytes)} (map ${kb(b.mapBytes)})  largest: ${top}`);
  }
  console.log(`built ${bundles.length} bundle(s) in ${Math.round(performance.now() - started)} ms`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
