/**
 * serverless.yml's `custom.bundles` (`${file(scripts/slsBundles.cjs):bundles}`): resolving it builds the
 * Lambda bundles (scripts/build.ts, what `npm run build` runs) and returns what dist/manifest.json then
 * lists. So every `sls package` or `sls deploy` ships bundles built from the code as it is now, and both
 * work on a fresh clone after `npm ci` alone. CommonJS because osls loads variable files with require().
 */
const { execFileSync } = require('node:child_process');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const ROOT = join(__dirname, '..');

module.exports = async () => {
  const tsx = require.resolve('tsx/cli', { paths: [ROOT] });
  // The build's own output goes to stderr: sls prints its progress on stdout.
  execFileSync(process.execPath, [tsx, join(ROOT, 'scripts', 'build.ts')], {
    cwd: ROOT,
    stdio: ['ignore', 2, 2],
  });
  return JSON.parse(readFileSync(join(ROOT, 'dist', 'manifest.json'), 'utf8'));
};
