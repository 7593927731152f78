// The one test command (`npm test`): build, type-check, lint (ESLint), then every layer in turn:
// unit, integration (real Express 4/5, real Redis), end to end (real VS Code via
// code-server, real Chromium), and `routelens smoke` against the demo app (test:smoke). Prints one closing line: "tests: N passed, N failed".
//   node scripts/test.mjs [unit|integration|e2e ...]
import { spawnSync } from 'node:child_process';

const all = ['unit', 'integration', 'webview', 'vscode', 'e2e', 'smoke'];
const layers = process.argv.slice(2).length ? process.argv.slice(2) : all;
let passed = 0;
let failed = 0;
let broken = false;
const recap = []; // each failing layer's mocha failure list, repeated at the end so a log's tail shows what failed

// Mocha prints "N failing" then the failures, each starting "  1) suite": keep that block, bounded.
const failures = (label, out) => {
  const at = out.search(/^\s*\d+ failing/m);
  if (at < 0) return;
  const lines = out.slice(at).split('\n');
  const kept = lines.slice(0, 80);
  if (lines.length > kept.length) kept.push(`  … ${lines.length - kept.length} more lines in the layer's output above`);
  recap.push(`--- ${label}\n${kept.join('\n')}`);
};

const run = (label, cmd, args) => {
  console.log(`\n=== ${label}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  process.stdout.write(r.stdout ?? '');
  const p = /(\d+) passing/.exec(r.stdout ?? '');
  const f = /(\d+) failing/.exec(r.stdout ?? '');
  passed += p ? Number(p[1]) : 0;
  failed += f ? Number(f[1]) : 0;
  if (r.status !== 0) {
    failures(label, r.stdout ?? '');
    if (!f) {
      failed += 1; // a step that broke without a mocha count still fails the run
      broken = true;
    }
    console.log(`=== ${label} exited with ${r.status ?? r.signal}`);
  }
  return r.status === 0;
};

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const built = run('build', npm, ['run', '--silent', 'build']) && run('typecheck', npm, ['run', '--silent', 'typecheck']);
// ESLint's findings fail the run, but the tests still run (a lint error does not hide a test failure).
run('lint', npm, ['run', '--silent', 'lint']);
if (built) {
  for (const layer of layers) {
    if (!all.includes(layer)) throw new Error(`unknown test layer ${layer}`);
    run(layer, npm, ['run', '--silent', `test:${layer}`]);
  }
}
if (recap.length) console.log(`\n=== what failed\n${recap.join('\n')}`);
console.log(`\ntests: ${passed} passed, ${failed} failed${broken ? ' (a step failed without a test count: see above)' : ''}`);
process.exit(failed > 0 ? 1 : 0);
