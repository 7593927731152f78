// Builds only the extension and its extension-host test bundle, with the same
// options as scripts/build.mjs (handy while other parts of the tree are mid-change).
//   node test/vscode/build.mjs
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const common = { absWorkingDir: root, bundle: true, sourcemap: true, logLevel: 'warning', platform: 'node', format: 'cjs', target: 'node20', outdir: 'dist' };
await Promise.all([
  build({ ...common, entryPoints: { 'extension/extension': 'extension/extension.ts' }, external: ['vscode', 'bufferutil', 'utf-8-validate'] }),
  build({ ...common, entryPoints: { 'test/vscode/index': 'test/vscode/index.ts' }, external: ['vscode', 'mocha', 'bufferutil', 'utf-8-validate'] }),
]);
console.log('built dist/extension/extension.js and dist/test/vscode/index.js');
