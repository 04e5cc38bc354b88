// Every npm script starts here. npm puts node_modules/.bin first on PATH, so `node` is the pinned
// Node 24 from the `node` devDependency; if that binary is missing (e.g. `npm ci --ignore-scripts`)
// npm silently falls back to the machine's Node 20, which this project does not support.
const major = Number(process.versions.node.split('.')[0]);
if (major !== 24) {
  console.error(
    `lambda-sentinel needs Node.js 24 (found ${process.version} at ${process.execPath}).\n` +
      'Run `npm ci` (it installs the pinned Node 24 from the `node` devDependency) and use npm scripts or npx.',
  );
  process.exit(1);
}
