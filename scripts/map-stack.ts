/**
 * Maps a stack trace from a deployed function back to the TypeScript sources, with the source maps that
 * `npm run build` writes next to the bundles (and that every package ships).
 *
 * The functions run without --enable-source-maps by default (serverless.yml, nodeOptions): Node would
 * otherwise hold every bundle's decoded map in memory from the first stack trace on. A trace then names
 * the bundle, with function names kept:
 *
 *   DeploymentConfigError: environment variable SENTINEL_ID is required
 *       at required (file:///var/task/dist/sentinel.mjs:218:11482)
 *
 * and this prints the same trace with each bundle position replaced by its source position:
 *
 *       at required (lib/runtime/lambdaConfig.ts:64:11)
 *
 *   npx tsx scripts/map-stack.ts [--dist DIR] < trace.txt
 *
 * The maps must come from the same build as the deployed bundles (the package holds both).
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_OUTDIR, ROOT } from './build.js';

/** `<anything>/<name>.mjs:<line>:<column>`, as V8 prints a position in a bundle. */
const BUNDLE_POSITION = /(?:file:\/\/)?[^\s()]*?([\w-]+)\.mjs:(\d+):(\d+)/g;

/** Replaces every bundle position in `trace` by its source position, where the map for it is in `dist`. */
export function mapStackTrace(trace: string, dist: string = DEFAULT_OUTDIR): string {
  const maps = new Map<string, SourceMap | null>();
  const mapOf = (name: string): SourceMap | null => {
    if (!maps.has(name)) {
      const file = join(dist, `${name}.mjs.map`);
      maps.set(name, existsSync(file) ? new SourceMap(JSON.parse(readFileSync(file, 'utf8'))) : null);
    }
    return maps.get(name) ?? null;
  };
  return trace.replace(BUNDLE_POSITION, (position, name: string, line: string, column: string) => {
    const map = mapOf(name);
    // V8 counts lines and columns from 1; source maps from 0.
    const entry = map?.findEntry(Number(line) - 1, Number(column) - 1);
    if (!entry || !('originalSource' in entry)) return position;
    // Sources are recorded relative to the map's directory; print them relative to the repository.
    const source = relative(ROOT, resolve(dist, entry.originalSource.replace(/^file:\/\//, '')));
    return `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { dist: { type: 'string' } } });
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  process.stdout.write(
    mapStackTrace(
      Buffer.concat(chunks).toString('utf8'),
      values.dist ? resolve(values.dist) : DEFAULT_OUTDIR,
    ),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
