/**
 * Why a route is slow, end to end: the packaged extension in a real VS Code
 * (code-server), the demo's GET /orders/:id (six inventory reads one after
 * another over HTTP: an N+1), headless Chromium reading the lens, the Problems
 * panel, Route Details' waterfall and a route profile like a person would.
 */
import assert from 'node:assert/strict';
import { readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Finding } from '../../protocol';
import { dashboardFrame, lensTexts, openFile, pickItem, runCommand, waitForActiveTab, waitForCursor } from './actions';
import { root, waitFor, workbenchSession } from './harness';

const workspace = join(root, 'examples/demo');
const profiles = join(workspace, '.routelens/profiles');

describe('Why a route is slow, in a real VS Code: findings, route details, a route profile', function () {
  this.timeout(180_000);
  let finding: Finding;
  let profilesBefore: string[] = [];
  const s = workbenchSession(workspace, {
    shots: 'why',
    prepare: () => {
      profilesBefore = listProfiles();
    },
    warm: async ({ demo }) => {
      for (let i = 1; i <= 6; i++) assert.equal((await demo.request('GET', `/orders/${i}`)).status, 200);
      finding = await waitFor(async () => (await demo.api<{ findings: Finding[] }>('/v1/findings')).findings.find((f) => f.kind === 'n-plus-one' && f.endpoint === 'GET /orders/:id'), 20_000, 'the agent\'s n-plus-one finding on GET /orders/:id');
    },
    cleanup: () => {
      for (const f of listProfiles()) if (!profilesBefore.includes(f)) rmSync(join(profiles, f), { force: true });
      // Directories the profile created, when empty now: leave the demo folder as it was.
      for (const dir of [profiles, join(workspace, '.routelens')]) {
        try {
          rmdirSync(dir);
        } catch {
          /* not empty, or not there */
        }
      }
    },
  });

  it('the agent places the N+1 at the fetch line of orders.mjs, over one normalised URL', () => {
    assert.match(finding.location!.file, /routes[\\/]orders\.mjs$/);
    assert.equal(finding.location!.line, 23);
    assert.match(String(finding.evidence?.operation), /^GET 127\.0\.0\.1:\d+\/items\/\?$/);
    assert.equal(finding.evidence?.count, 6);
  });

  it('the lens on GET /orders/:id shows the N+1 finding next to its figures', async () => {
    const page = s.wb.page;
    await openFile(page, 'app.mjs');
    const lens = await waitFor(async () => (await lensTexts(page)).find((t) => t.includes('N+1')), 60_000, 'the N+1 finding lens');
    assert.match(lens, /⚠ N\+1: 6× GET 127\.0\.0\.1:\d+\/items\/\?/);
    const texts = await lensTexts(page);
    assert.ok(texts.some((t) => t.startsWith('GET /orders/:id ·')), `the figures lens of GET /orders/:id is there: ${texts.join(' | ')}`);
    await s.wb.shot('why-01-finding-lens');
  });

  it('the Problems panel lists the N+1 as a RouteLens warning at the fetch line of orders.mjs', async () => {
    const page = s.wb.page;
    await runCommand(page, 'View: Focus Problems');
    const row = await waitFor(async () => (await page.locator('.markers-panel .monaco-list-row').allInnerTexts()).find((t) => /N\+1|ran 6×/.test(t) && t.includes('RouteLens')), 30_000, 'the N+1 row in the Problems panel');
    assert.match(row, /ran 6× in one request of GET \/orders\/:id/);
    assert.match(row, new RegExp(`\\[Ln ${finding.location!.line}, Col ${finding.location!.column}\\]`));
    const files = await page.locator('.markers-panel .monaco-list-row').allInnerTexts();
    assert.ok(files.some((t) => t.includes('orders.mjs')), `orders.mjs heads the rows: ${files.join(' | ')}`);
    await s.wb.shot('why-02-problems');
    // A click on the row opens the line and selects the finding's range, which starts at the fetch.
    await page.locator('.markers-panel .monaco-list-row', { hasText: 'ran 6×' }).first().click();
    await waitForActiveTab(page, 'orders.mjs');
    assert.match(await waitForCursor(page, finding.location!.line), /selected/);
  });

  it('"RouteLens: Show Route Details" on GET /orders/:id shows a waterfall whose fetch span opens orders.mjs at its line', async () => {
    const page = s.wb.page;
    for (let i = 7; i <= 9; i++) assert.equal((await s.demo.request('GET', `/orders/${i}`)).status, 200);
    await runCommand(page, 'RouteLens: Show Route Details');
    await pickItem(page, /GET \/orders\/:id(?!\/)/);
    const frame = await waitFor(() => dashboardFrame(page, 'Route details: GET /orders/:id'), 60_000, 'Route Details of GET /orders/:id');
    const waterfall = frame.locator('.view.details .waterfall').first();
    await waterfall.waitFor({ timeout: 30_000 });
    await waterfall.scrollIntoViewIfNeeded();
    const spans = waterfall.locator('button.wf-span');
    const labels = await waitFor(async () => {
      const all = await spans.evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
      return all.filter((l) => /items\/\?/.test(l) && /orders\.mjs:\d+/.test(l)).length >= 6 ? all : undefined;
    }, 30_000, 'six inventory spans in the waterfall, each with its source line');
    const label = labels.find((l) => /items\/\?/.test(l) && /orders\.mjs:\d+/.test(l))!;
    const line = Number(/orders\.mjs:(\d+)/.exec(label)![1]);
    assert.equal(line, finding.location!.line, `the span's line is the fetch line: ${label}`);
    await s.wb.shot('why-03-waterfall');
    await spans.filter({ has: frame.locator('.wf-name', { hasText: 'items/?' }) }).first().click();
    await waitForActiveTab(page, 'orders.mjs');
    // The finding comes from these spans: the cursor lands on the call the span names, at the finding's column.
    await waitForCursor(page, line, finding.location!.column);
    await s.wb.shot('why-04-span-opened');
  });

  it('"RouteLens: Profile Route…" for 2 s while requests run opens a .cpuprofile', async () => {
    const page = s.wb.page;
    await runCommand(page, 'RouteLens: Profile Route');
    await pickItem(page, /GET \/orders\/:id(?!\/)/);
    const input = page.locator('.quick-input-widget input').first();
    await waitFor(async () => (await page.locator('.quick-input-widget').innerText()).includes('Seconds to record'), 15_000, 'the seconds box');
    await input.fill('2');
    await page.keyboard.press('Enter');
    // Exercise the route while the agent records.
    let driving = true;
    const drive = (async () => {
      let n = 0;
      while (driving && n < 200) {
        await s.demo.request('GET', `/orders/${(n++ % 50) + 1}`);
      }
      return n;
    })();
    const tab = await waitForActiveTab(page, /\.cpuprofile/, 60_000).finally(() => (driving = false));
    assert.ok((await drive) > 0);
    assert.match(tab, /GET_orders_id-.*\.cpuprofile/);
    assert.ok(listProfiles().some((f) => !profilesBefore.includes(f) && f.endsWith('.cpuprofile')), 'the profile was written into the app\'s .routelens/profiles');
    await s.wb.shot('why-05-profile');
  });
});

function listProfiles(): string[] {
  try {
    return readdirSync(profiles);
  } catch {
    return [];
  }
}
