// `npm run demo`: builds the agent, then runs the demo app with the agent and
// bounded synthetic traffic (examples/demo/server.mjs). Arguments pass through;
// `npm run demo -- --help` lists them (answered before the build).
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { demoArgsOrExit } from '../examples/demo/args.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
demoArgsOrExit(argv);

const started = Date.now();
console.log('Building RouteLens (esbuild bundles and type declarations; about half a minute the first time)…');
const build = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { stdio: 'inherit', cwd: root });
if (build.status !== 0) process.exit(build.status ?? 1);
console.log(`Built in ${((Date.now() - started) / 1000).toFixed(1)} s. Starting the demo…`);

const child = spawn(process.execPath, [join(root, 'examples/demo/server.mjs'), ...argv], { stdio: 'inherit', cwd: root });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
