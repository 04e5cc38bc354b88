#!/usr/bin/env node
// Entry point of the `lambda-sentinel` command. The sources are TypeScript, run through tsx.
const major = Number(process.versions.node.split('.')[0]);
if (major !== 24) {
  process.stderr.write(
    `lambda-sentinel needs Node.js 24 (found ${process.version}). Run it through npm scripts or npx, ` +
      'which use the Node 24 pinned in package.json.\n',
  );
  process.exit(2);
}
const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../lib/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
