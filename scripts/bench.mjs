// `npm run bench`: the benchmarks in bench/ (see docs/performance.md).
// Runs the TypeScript sources through tsx (no build needed); pass
// ROUTELENS_BENCH_AGENT=dist to measure the built package instead.
//   npm run bench -- --quick          ~1-minute smoke run
//   npm run bench -- --only 1,3       sections to run (1 overhead, 2 cache, 3 rate limiter)
//   npm run bench -- --rounds 5 --rate 1500 --profile
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench', 'run.ts'), ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
