/**
 * A person's session, end to end: the packaged extension installed into a real
 * VS Code (code-server), the demo server with the agent, headless Chromium
 * clicking through the workbench. Effects are checked on the agent itself.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { CacheKeyInfo, EndpointStats, Thresholds } from '../../protocol';
import { dashboardFrame, notificationText, openFile, pickItem, runCommand } from './actions';
import { root, waitFor, workbenchSession } from './harness';

const workspace = join(root, 'examples/demo');

describe('RouteLens in a real VS Code, driven like a person', function () {
  this.timeout(180_000);
  const s = workbenchSession(workspace, {
    shots: 'ui',
    warm: async ({ demo }) => {
      for (let i = 0; i < 12; i++) assert.equal((await demo.request('GET', `/users/${i % 4}`)).status, 200);
    },
  });

  it('connects to the demo agent by itself and says so in the status bar', async () => {
    const item = await waitFor(async () => {
      const texts = await s.wb.page.locator('.statusbar-item').allInnerTexts();
      return texts.find((t) => t.includes('routelens-demo'));
    }, 60_000, 'the RouteLens status bar item');
    assert.match(item, /routelens-demo/);
    await s.wb.shot('01-connected');
  });

  it('shows live timings in a code lens above the route handler, and clicking it opens the endpoint in the dashboard', async () => {
    const page = s.wb.page;
    await openFile(page, 'app.mjs');
    const lens = await waitFor(async () => {
      const texts = await page.locator('.codelens-decoration a').allInnerTexts();
      return texts.find((t) => t.startsWith('GET /users/:id'));
    }, 60_000, 'the GET /users/:id code lens');
    // 12 requests were sent before VS Code opened: the lens shows them, and no p95 or p99 yet
    // (12 requests cannot tell them apart from the slowest one).
    assert.match(lens, /GET \/users\/:id · p95 — · p99 — · 12 req · 0(\.0)?% err/);
    await s.wb.shot('02-code-lens');

    await page.locator('.codelens-decoration a', { hasText: 'GET /users/:id' }).first().click();
    const frame = await waitFor(() => dashboardFrame(page, 'GET /users/:id'), 60_000, 'the dashboard showing GET /users/:id');
    assert.equal(await frame.locator('.detail-head h2').filter({ visible: true }).first().textContent(), 'GET /users/:id', 'the endpoint detail is open on GET /users/:id');
    await s.wb.shot('03-dashboard-endpoint');
  });

  it('runs "RouteLens: Reset Metrics" from the command palette and the agent really resets', async () => {
    const before = (await s.demo.api<{ endpoints: EndpointStats[] }>('/v1/endpoints?sort=most-requested&limit=100')).endpoints;
    assert.ok(before.find((e) => e.id === 'GET /users/:id')!.count >= 12);

    // The dashboard from the test before is the active editor and runCommand's click lands in it:
    // the picker opened after the palette must not be closed by the webview taking focus back.
    await runCommand(s.wb.page, 'RouteLens: Reset Metrics');
    await pickItem(s.wb.page, /all endpoints/i);
    await waitFor(async () => {
      const after = (await s.demo.api<{ endpoints: EndpointStats[] }>('/v1/endpoints?sort=most-requested&limit=100')).endpoints;
      return after.find((e) => e.id === 'GET /users/:id')?.count === 0;
    }, 20_000, 'the agent to report 0 requests for GET /users/:id');
    await waitFor(() => notificationText(s.wb.page, /reset/i), 20_000, 'a notification saying what was reset');
    await s.wb.shot('04-reset-metrics');
  });

  it('runs "RouteLens: Invalidate Cache Key…", picks a live key, and the key is really gone', async () => {
    assert.equal((await s.demo.request('GET', '/users/7')).status, 200);
    const keys = await s.demo.api<{ keys: CacheKeyInfo[] }>('/v1/cache/keys?pattern=users:7');
    assert.deepEqual(keys.keys.map((k) => k.key), ['users:7']);

    await runCommand(s.wb.page, 'RouteLens: Invalidate Cache Key');
    // The quick pick asks the agent for keys as the user types.
    const input = s.wb.page.locator('.quick-input-widget input').first();
    await waitFor(async () => (await input.getAttribute('placeholder'))?.toLowerCase().includes('key'), 15_000, 'the key picker');
    await s.wb.page.keyboard.type('users:7', { delay: 20 });
    await pickItem(s.wb.page, /users:7/);
    await waitFor(async () => (await s.demo.api<{ keys: CacheKeyInfo[] }>('/v1/cache/keys?pattern=users:7')).keys.length === 0, 20_000, 'users:7 to be removed');
    await waitFor(() => notificationText(s.wb.page, /removed 1 key/i), 20_000, 'a notification saying one key was removed');
    await s.wb.shot('05-invalidate-key');
  });

  it('the dashboard\'s landing view (Overview) lists the demo\'s slowest route first; a click opens its handler in the editor', async () => {
    const page = s.wb.page;
    // Enough requests to GET /slow (150–750 ms each) for a p95, a few fast ones elsewhere.
    const slow = await Promise.all(Array.from({ length: 20 }, () => s.demo.request('GET', '/slow')));
    assert.ok(slow.every((r) => r.status === 200));
    for (let i = 0; i < 5; i++) assert.equal((await s.demo.request('GET', `/users/${i}`)).status, 200);

    await runCommand(page, 'RouteLens: Open Dashboard');
    const frame = await waitFor(() => dashboardFrame(page, 'Most requested'), 60_000, 'the dashboard');
    await frame.locator('button[data-tab="overview"]').click();
    const first = frame.locator('.overview .top-list').first().locator('li:not([hidden])').first();
    await waitFor(async () => (await first.locator('button').textContent()) === 'GET /slow', 30_000, 'GET /slow first among the slowest endpoints');
    assert.match((await first.locator('.value').textContent()) ?? '', /^p95 [\d.]+ m?s · 20 req$/);
    await s.wb.shot('06-landing-view');

    await first.locator('button').click();
    await waitFor(async () => (await page.locator('.tab.active').allInnerTexts()).some((t) => t.includes('app.mjs')), 30_000, 'app.mjs active in the editor');
    // The cursor is on the handler's line, where the agent located app.get('/slow', …).
    const reported = (await s.demo.api<{ endpoints: EndpointStats[] }>('/v1/endpoints?sort=most-requested&limit=100')).endpoints.find((e) => e.id === 'GET /slow')!;
    const loc = reported.handlerLocation ?? reported.location!;
    assert.match(loc.file, /app\.mjs$/);
    const position = new RegExp(`Ln ${loc.line}, Col ${loc.column}\\b`);
    await waitFor(async () => (await page.locator('.statusbar-item').allInnerTexts()).some((t) => position.test(t)), 30_000, `the cursor at ${loc.line}:${loc.column}`);
    // The lens there agrees with the dashboard: 20 requests since the reset, p95 shown, p99 not yet.
    const lens = await waitFor(async () => (await page.locator('.codelens-decoration a').allInnerTexts()).find((t) => t.startsWith('GET /slow') && t.includes('20 req')), 30_000, 'the GET /slow lens with 20 requests');
    assert.match(lens, /^GET \/slow · p95 [\d.]+ m?s · p99 — · 20 req · 0(\.0)?% err$/);
    await s.wb.shot('07-handler-opened');
  });

  it('the dashboard\'s thresholds editor sets the memory-growth factor on the agent, and refuses a factor of 1', async () => {
    const page = s.wb.page;
    await runCommand(page, 'RouteLens: Open Dashboard');
    const frame = await waitFor(() => dashboardFrame(page, 'Most requested'), 60_000, 'the dashboard');
    await frame.locator('button[data-tab="alerts"]').click();
    const field = frame.locator('#th-memoryGrowthFactor');
    await field.waitFor({ timeout: 30_000 });
    assert.equal(await frame.locator('label[for="th-memoryGrowthFactor"]').textContent(), 'Memory growth, × own baseline');
    await field.fill('1');
    await frame.locator('button', { hasText: 'Save thresholds' }).click();
    await waitFor(async () => (await field.getAttribute('aria-invalid')) === 'true', 10_000, 'the factor 1 refused in the editor');
    await field.fill('2.5');
    await frame.locator('button', { hasText: 'Save thresholds' }).click();
    await waitFor(async () => (await s.demo.api<Thresholds>('/v1/thresholds')).memoryGrowthFactor === 2.5, 20_000, 'the agent\'s memoryGrowthFactor at 2.5');
    await s.wb.shot('08-thresholds-editor');
  });
});
