/**
 * Slower than before, end to end: the packaged extension in a real VS Code
 * (code-server) and the demo app, restarted. A route's history survives the
 * app's restart and the editor's reload and shows the commit it ran under; a
 * route made slower (DEMO_EXTRA_MS_USERS) gets ▲ on its lens against a
 * baseline file written from the normal run, a route left alone gets none.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { dashboardFrame, openFile, pickItem, runCommand } from './actions';
import { type Demo, root, startDemo, waitFor, workbenchSession } from './harness';

const workspace = join(root, 'examples/demo');
const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
/** A commit this repository never had, recorded 20 minutes ago: the HEAD minutes that follow get a marker. */
const EARLIER = 'e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0';
// About 185 ms each (5 ms + 3 per character of q): a timer, so a loaded machine's drift between
// the two runs stays a small share of it (at 70 ms, 20 ms of drift read as a 20% change).
const SEARCH = `/search?q=${'x'.repeat(60)}`;
const PER_SIDE = 60; // more than the 50 requests a side a verdict needs

describe('Slower than before, in a real VS Code: history across restarts, a baseline ▲ on the lens', function () {
  this.timeout(180_000);
  const baselineName = `e2e-baseline-${process.pid}.json`;
  const baselineFile = join(workspace, baselineName);
  let drivenBefore = 0;
  const s = workbenchSession(workspace, {
    shots: 'history',
    prepare: ({ history }) => seedEarlierMinute(history),
    cleanup: () => rmSync(baselineFile, { force: true }),
  });

  it('the History tab shows a route\'s earlier requests under their commit after the app restarted and the window reloaded', async () => {
    const page = s.wb.page;
    await connected(page);
    drivenBefore = await drive(s.demo, PER_SIDE + 40, (i) => `/users/${i % 4}`, 1);
    await drive(s.demo, PER_SIDE, () => SEARCH, 4);
    // The normal run's per-route sketches are the baseline file (the format `routelens baseline` writes).
    const sketches = await s.demo.api<{ endpoints: Array<{ id: string; count: number; sketch: string }> }>('/v1/sketches');
    const routes = sketches.endpoints.filter((e) => e.count > 0);
    assert.deepEqual(routes.map((r) => r.id).filter((id) => id.startsWith('GET ')).sort(), ['GET /search', 'GET /users/:id']);
    writeFileSync(baselineFile, JSON.stringify({ version: 1, routes }, null, 2));

    // SIGTERM: the agent writes the unfinished minute on close.
    await s.demo.stop();
    const written = readdirSync(s.history).filter((f) => f.startsWith('m-') && !f.includes('-1-5eed'));
    const lines = written.flatMap((f) => readFileSync(join(s.history, f), 'utf8').trim().split('\n'));
    const users = lines.map((l) => JSON.parse(l) as { e: Record<string, number[]>; g?: { c: string } }).filter((l) => l.e['GET /users/:id']);
    assert.equal(users.reduce((n, l) => n + l.e['GET /users/:id'][0], 0), drivenBefore, 'every request of the stopped run is on disk');
    assert.ok(users.every((l) => l.g?.c === head), 'under the commit checked out');

    s.demo = await startDemo(workspace, s.discovery, { ROUTELENS_HISTORY_DIR: s.history, DEMO_EXTRA_MS_USERS: '150' });
    await reloadWindow(page);
    await connected(page);

    await runCommand(page, 'RouteLens: Open Dashboard');
    const frame = await waitFor(() => dashboardFrame(page, 'Most requested'), 60_000, 'the dashboard');
    await frame.locator('button[data-tab="history"]').click();
    const view = frame.locator('.view.history');
    await view.locator('select[aria-label="Route"]').selectOption({ label: 'GET /users/:id' });
    // The seeded minute's 5 requests and the stopped run's, none of the new run's yet.
    const summary = await waitFor(async () => {
      const text = await view.innerText();
      return text.includes(`Requests\n${5 + drivenBefore}`) || new RegExp(`Requests\\s+${5 + drivenBefore}\\b`).test(text) ? text : undefined;
    }, 60_000, `the History tab counting ${5 + drivenBefore} requests of GET /users/:id`);
    assert.match(summary, new RegExp(`\\b${head.slice(0, 7)}\\b`), 'the summary names the commit the requests ran under');
    const table = await view.locator('section[aria-label="Commits in this range"]').innerText();
    assert.match(table, new RegExp(head.slice(0, 12)), `the commit table lists HEAD: ${table}`);
    await s.wb.shot('history-01-after-restart-and-reload');
  });

  it('"RouteLens: Compare with Baseline…" with the saved file puts ▲ on the slowed route\'s lens, and none on a route left alone', async () => {
    const page = s.wb.page;
    await drive(s.demo, PER_SIDE + 40, (i) => `/users/${i % 4}`, 10);
    await drive(s.demo, PER_SIDE, () => SEARCH, 4);

    await runCommand(page, 'RouteLens: Compare with Baseline');
    await pickItem(page, /A saved baseline file/);
    await chooseFile(page, baselineFile);
    // The comparison opens as a Markdown document; the lenses follow.
    await waitFor(async () => (await page.locator('.tab').allInnerTexts()).some((t) => /Untitled/.test(t)), 30_000, 'the comparison document');

    await openFile(page, 'app.mjs');
    const usersLine = await waitFor(async () => {
      const line = await lensLine(page, 'GET /users/:id ·');
      return line && line.includes('▲') ? line : undefined;
    }, 60_000, 'a ▲ lens on GET /users/:id');
    assert.match(usersLine, new RegExp(`▲ \\d+% vs ${baselineName.replace(/\./g, '\\.')}`));
    const searchLine = await lensLine(page, 'GET /search ·');
    assert.ok(searchLine, 'the GET /search lens is shown');
    assert.doesNotMatch(searchLine, /[▲▼]/, `GET /search ran as before: ${searchLine}`);
    await s.wb.shot('history-02-baseline-lens');
  });
});

/** Sends `n` GETs, `concurrency` at a time; every answer is a 200. Returns `n`. */
async function drive(demo: Demo, n: number, path: (i: number) => string, concurrency: number): Promise<number> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) {
      const r = await demo.request('GET', path(next++));
      assert.equal(r.status, 200);
    }
  }));
  return n;
}

/** One minute 20 minutes ago under another commit: 5 requests of GET /users/:id near 8 ms. */
function seedEarlierMinute(dir: string): void {
  const t = Math.floor((Date.now() - 20 * 60_000) / 60_000) * 60_000;
  const day = Math.floor(t / 86_400_000) * 86_400_000;
  const line = { t, g: { c: EARLIER, b: 'e2e-earlier', d: 0 }, e: { 'GET /users/:id': [5, 0, 0, 211, 5] } };
  writeFileSync(join(dir, `m-${day}-1-5eed.jsonl`), JSON.stringify(line) + '\n');
}

async function connected(page: Page): Promise<void> {
  await waitFor(async () => (await page.locator('.statusbar-item').allInnerTexts()).find((t) => t.includes('routelens-demo')), 60_000, 'the RouteLens status bar item');
}

async function reloadWindow(page: Page): Promise<void> {
  const navigated = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame(), timeout: 60_000 });
  await runCommand(page, 'Developer: Reload Window');
  await navigated;
  await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
}

/** The simple file dialog (code-server): type the file's path, accept. */
async function chooseFile(page: Page, file: string): Promise<void> {
  const input = page.locator('.quick-input-widget input').first();
  await waitFor(async () => (await input.inputValue()).startsWith('/'), 15_000, 'the file dialog');
  await input.fill(file);
  await waitFor(async () => (await page.locator('.quick-input-list .monaco-list-row').allInnerTexts()).some((t) => t.includes(file.split('/').pop()!)), 15_000, 'the file in the dialog\'s list');
  await page.keyboard.press('Enter');
  await waitFor(async () => !(await page.locator('.quick-input-widget').isVisible()), 15_000, 'the file dialog to close');
}

/** All lens texts on the line whose lenses include one starting with `start`, joined with " | ". */
async function lensLine(page: Page, start: string): Promise<string | undefined> {
  const lines = await page.locator('.codelens-decoration').evaluateAll((els) => els.map((e) => Array.from(e.querySelectorAll('a')).map((a) => a.textContent ?? '')));
  return lines.find((l) => l.some((t) => t.startsWith(start)))?.join(' | ');
}
