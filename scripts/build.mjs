// Builds every bundle with esbuild, then the agent's type declarations with tsc.
// esbuild does not type-check: `npm run typecheck` (tsc --noEmit) does, and `npm test` runs it.
//   node scripts/build.mjs [--production] [--watch] [--agent]
// --agent builds only what the npm package carries (agent, protocol, declarations): the `prepare`
// script uses it, so an install from git builds no extension, webview or test bundle.
import { build, context } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const agentOnly = process.argv.includes('--agent');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const define = { __ROUTELENS_VERSION__: JSON.stringify(pkg.version) };

/** The agent is a library: its dependencies stay external, so users dedupe them (and pass their own ioredis client). */
// tsx/cjs: only required when the agent runs from its TypeScript sources (its worker's entry is then .ts).
const agentExternal = [...Object.keys(pkg.dependencies ?? {}), 'express', 'tsx/cjs'];

const { asciiOutput } = createRequire(import.meta.url)('./ascii-output.cjs');
const { agentBundle } = createRequire(import.meta.url)('./agent-bundle.cjs');
// Pure ASCII output: V8 then keeps each bundle's source at one byte per character (scripts/ascii-output.cjs).
const common = { absWorkingDir: root, bundle: true, sourcemap: true, logLevel: 'warning', define, minify: production, plugins: [asciiOutput] };

const configs = [
  // ---- agent (npm package: routelens/agent, routelens/register)
  { ...common, ...agentBundle, entryPoints: { 'agent/index': 'agent/index.ts', 'agent/register': 'agent/register.ts', 'agent/worker': 'agent/worker/main.ts', 'protocol/index': 'protocol/index.ts' }, outdir: 'dist', platform: 'node', format: 'cjs', target: 'node20', external: agentExternal },
  // ES-module entry of the preload (`node --import routelens/register`): installs the loader hooks.
  ...(existsSync(join(root, 'agent/register-esm.ts'))
    ? [{ ...common, ...agentBundle, entryPoints: { 'agent/register': 'agent/register-esm.ts' }, outdir: 'dist', outExtension: { '.js': '.mjs' }, platform: 'node', format: 'esm', target: 'node20', external: [...agentExternal, './register.js'] }]
    : []),
  // ---- extension (runs in the VS Code extension host; everything but vscode bundled)
  ...(!agentOnly && existsSync(join(root, 'extension/extension.ts'))
    ? [{ ...common, entryPoints: { 'extension/extension': 'extension/extension.ts' }, outdir: 'dist', platform: 'node', format: 'cjs', target: 'node20', external: ['vscode', 'bufferutil', 'utf-8-validate'] }]
    : []),
  // ---- command line (`routelens`, bin of the npm package): self-contained, the MCP SDK, zod, autocannon and
  // sketches-js bundled in. sketches-js's own protobuf (de)serialisation is never called (protocol/sketch.ts
  // reads and writes the format), so its optional protobufjs stays out.
  ...(existsSync(join(root, 'cli/index.ts'))
    ? [{ ...common, entryPoints: { 'cli/index': 'cli/index.ts' }, outdir: 'dist', platform: 'node', format: 'cjs', target: 'node20', banner: { js: '#!/usr/bin/env node' }, external: ['protobufjs/minimal'] }]
    : []),
  // ---- webview (browser, DOM only)
  ...(!agentOnly && existsSync(join(root, 'webview/main.ts'))
    ? [{ ...common, entryPoints: { 'webview/main': 'webview/main.ts' }, outdir: 'dist', platform: 'browser', format: 'iife', target: 'es2022' }]
    : []),
  // ---- extension-host test suite (loaded by the test runner inside a real VS Code)
  ...(!agentOnly && existsSync(join(root, 'test/vscode/index.ts'))
    ? [{ ...common, entryPoints: { 'test/vscode/index': 'test/vscode/index.ts' }, outdir: 'dist', platform: 'node', format: 'cjs', target: 'node20', external: ['vscode', 'mocha', 'bufferutil', 'utf-8-validate'] }]
    : []),
];

if (watch) {
  for (const c of configs) await (await context(c)).watch();
  console.log('watching…');
} else {
  await Promise.all(configs.map((c) => build(c)));
  writeEsmWrapper('agent/index');
  if (existsSync(join(root, 'dist/cli/index.js'))) chmodSync(join(root, 'dist/cli/index.js'), 0o755);
  if (!existsSync(join(root, 'agent/register-esm.ts'))) writeEsmWrapper('agent/register');
  if (!agentOnly && existsSync(join(root, 'webview/style.css'))) {
    mkdirSync(join(root, 'dist/webview'), { recursive: true });
    copyFileSync(join(root, 'webview/style.css'), join(root, 'dist/webview/style.css'));
  }
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
}

/** ESM entry that re-exports the CommonJS bundle's named exports (one module instance for both). */
function writeEsmWrapper(name) {
  const require = createRequire(import.meta.url);
  const cjs = require(join(root, 'dist', `${name}.js`));
  const names = Object.keys(cjs).filter((k) => k !== 'default' && k !== '__esModule');
  const base = name.split('/').pop();
  const body = [`import cjs from './${base}.js';`, ...names.map((n) => `export const ${n} = cjs.${n};`), 'export default cjs;', ''].join('\n');
  writeFileSync(join(root, 'dist', `${name}.mjs`), body);
}
