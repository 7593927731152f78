#!/usr/bin/env node
// Runs the same extension-host tests in VS Code desktop via @vscode/test-electron,
// for machines that can download VS Code (not used in CI: the download needs
// network access beyond the npm registry; CI uses test/vscode/run.mjs with code-server).
//   npm run build && node test/vscode/run-electron.mjs
// Env: VSCODE_EXECUTABLE=/path/to/code uses an installed VS Code instead of downloading one.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTests } from '@vscode/test-electron';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
if (!existsSync(join(root, 'dist/test/vscode/index.js'))) {
  console.error('missing dist/test/vscode/index.js: run `npm run build` first');
  process.exit(1);
}
const temp = mkdtempSync(join(tmpdir(), 'routelens-electron-tests-'));
const workspace = join(temp, 'workspace');
cpSync(join(root, 'test/vscode/workspace'), workspace, { recursive: true });
const resultsFile = join(temp, 'results.json');
let code = 1;
try {
  await runTests({
    extensionDevelopmentPath: root,
    extensionTestsPath: join(root, 'dist/test/vscode/index'),
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', `--user-data-dir=${join(temp, 'user-data')}`],
    extensionTestsEnv: { ROUTELENS_DISCOVERY_DIR: join(temp, 'discovery'), ROUTELENS_TEST_RESULTS: resultsFile },
    ...(process.env.VSCODE_EXECUTABLE ? { vscodeExecutablePath: process.env.VSCODE_EXECUTABLE } : {}),
  });
  const results = JSON.parse(readFileSync(resultsFile, 'utf8'));
  console.log(results.output);
  code = Math.min(results.failures, 100);
} catch (err) {
  console.error(`extension tests broke: ${err?.stack ?? err}`);
} finally {
  rmSync(temp, { recursive: true, force: true });
}
process.exit(code);
