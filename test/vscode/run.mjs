#!/usr/bin/env node
// Runs the extension-host tests (test/vscode/*.test.ts) inside a real VS Code:
// code-server from .vscode-test/code-server, driven by headless Chromium.
// Builds nothing: run `npm run build` first (needs dist/extension and dist/test/vscode).
//   node test/vscode/run.mjs            exit code = number of failures (1 on a broken run)
// Env: ROUTELENS_TEST_GREP filters tests; ROUTELENS_TEST_TIMEOUT_MS bounds the whole run (default 240000).
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsImport } from 'tsx/esm/api';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { startCodeServer } = await tsImport('../support/code-server.ts', import.meta.url);
const { launchChromium } = await tsImport('../support/chromium.ts', import.meta.url);

const bundle = join(root, 'dist/test/vscode/index.js');
for (const f of [join(root, 'dist/extension/extension.js'), bundle]) {
  if (!existsSync(f)) {
    console.error(`missing ${f}: run \`npm run build\` (or node test/vscode/build.mjs) first`);
    process.exit(1);
  }
}

const temp = mkdtempSync(join(tmpdir(), 'routelens-vscode-tests-'));
const workspace = join(temp, 'workspace');
const discoveryDir = join(temp, 'discovery');
const resultsFile = join(temp, 'results.json');
cpSync(join(root, 'test/vscode/workspace'), workspace, { recursive: true });

const timeoutMs = Number(process.env.ROUTELENS_TEST_TIMEOUT_MS ?? 240_000);
let server;
let browser;
let code;
try {
  server = await startCodeServer({
    root,
    env: { ROUTELENS_DISCOVERY_DIR: discoveryDir, ROUTELENS_TEST_RESULTS: resultsFile, ROUTELENS_TEST_GREP: process.env.ROUTELENS_TEST_GREP },
  });
  const url = server.workbenchUrl(workspace, { extensionDevelopmentPath: root, extensionTestsPath: join(root, 'dist/test/vscode/index') });
  browser = await launchChromium();
  const page = await browser.newPage();
  await page.goto(url);
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(resultsFile)) {
    if (Date.now() > deadline) throw new Error(`no results within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
  await new Promise((r) => setTimeout(r, 100)); // let the writer finish
  const results = JSON.parse(readFileSync(resultsFile, 'utf8'));
  console.log(results.output);
  code = Math.min(results.failures, 100);
} catch (err) {
  console.error(`extension-host tests broke: ${err?.stack ?? err}`);
  if (server) console.error(server.log.slice(-40).join('\n'));
  code = 1;
} finally {
  await browser?.close().catch(() => undefined);
  await server?.stop().catch(() => undefined);
  rmSync(temp, { recursive: true, force: true });
}
process.exit(code);
