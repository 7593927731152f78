import assert from 'node:assert/strict';
import { join } from 'node:path';
import { formatMs, formatPercent } from '../../protocol/format';
import type { Trace } from '../../protocol/spans';
import type { Thresholds } from '../../protocol/types';
import { n1Breakdown, n1Finding, n1Trace, profileSummary } from '../support/why-fixtures';
import { endpoint, endpoints, snapshot } from './fixtures';
import { type Dashboard, SHOTS, dashboardSuite } from './harness';

const FILE = '/srv/app/routes/orders.js';
const ORDERS = 'GET /orders/:id';

describe('webview Route Details (headless Chromium, strict CSP)', function () {
  const suite = dashboardSuite();
  let d: Dashboard;

  beforeEach(() => {
    d = suite.d;
  });

  /** A snapshot with GET /orders/:id and its N+1 finding, then showDetails answered with `traces`. */
  async function openDetails(traces: Trace[] = [n1Trace(FILE), n1Trace(FILE, { id: 't-2', requestId: 'req-0001', durationMs: 40, kept: 'recent', spans: n1Trace(FILE).spans.slice(0, 2) })]) {
    await d.send({ type: 'snapshot', agentId: 'a', snapshot: snapshot([...endpoints(3), endpoint(9, '/orders/:id')], { findings: [n1Finding(FILE)] }) });
    await d.send({ type: 'showDetails', endpointId: ORDERS });
    const b = await d.waitForCommand('endpoint.breakdown');
    const t = await d.waitForCommand('traces.list');
    await d.send({ type: 'reply', id: b.id, ok: true, result: n1Breakdown(FILE) });
    await d.send({ type: 'reply', id: t.id, ok: true, result: { traces } });
    await d.settle();
    return { b, t };
  }

  const lastPosted = async () => (await d.posted()).at(-1);

  it('showDetails opens the Route details tab and asks for that endpoint\'s breakdown (5 minutes) and traces', async () => {
    const { b, t } = await openDetails();
    assert.deepEqual(b.args, { endpoint: ORDERS, window: '5m' });
    assert.deepEqual(t.args, { endpoint: ORDERS, limit: 20 });
    assert.equal(await d.page.getAttribute('button[data-tab="details"]', 'aria-selected'), 'true');
    assert.equal(await d.page.textContent('.details .detail-head h2'), `Route details: ${ORDERS}`);
    // Exactly one of each: showDetails does not ask twice.
    const cmds = (await d.posted()).filter((m) => m.type === 'command').map((m) => (m.type === 'command' ? m.command : ''));
    assert.deepEqual(cmds.sort(), ['endpoint.breakdown', 'traces.list']);
  });

  it('the breakdown lists each kind with its share and mean, the top operations with per-request counts and links, and says "sampled"', async () => {
    await openDetails();
    const kinds = await d.page.$$eval('.breakdown-kinds tbody tr', (rows) => rows.map((r) => [...r.children].map((c) => c.textContent)));
    assert.deepEqual(kinds[0], ['db', formatPercent(0.61), formatMs(61)]);
    assert.deepEqual(kinds.map((k) => k[0]), ['db', 'handler (own code)', 'redis', 'custom', 'middleware']);
    const ops = await d.page.$$eval('.breakdown-ops tbody tr', (rows) => rows.map((r) => [...r.children].map((c) => c.textContent)));
    assert.deepEqual(ops[0], ['db', 'SELECT … FROM items WHERE order_id = ?', '15×', formatMs(50), formatPercent(0.5), 'routes/orders.js:7']);
    assert.match((await d.page.textContent('.details')) ?? '', /40 traced of 400 requests/);
    assert.equal(await d.page.isVisible('.details .sampled'), true);
    await d.page.click('.breakdown-ops tbody tr >> nth=1 >> button[data-action="open-location"]');
    assert.deepEqual(await lastPosted(), { type: 'openLocation', location: { file: FILE, line: 6, column: 5 } });
    await d.page.screenshot({ path: join(SHOTS, 'route-details.png'), fullPage: true });
  });

  it('a trace is a waterfall: spans nested under their parent, bar widths proportional to durations, the request id shown; a span click posts its file and line', async () => {
    await openDetails();
    const first = d.page.locator('details.trace >> nth=0');
    assert.equal(await first.getAttribute('open'), '', 'the slowest trace is open');
    assert.match((await first.locator('summary').textContent()) ?? '', /slowest 100 ms · 200 · .* request req-4f2a/);
    const rows = await first.locator('.wf-span').evaluateAll((els) => els.map((e) => ({ index: Number(e.getAttribute('data-index')), depth: Number(e.getAttribute('data-depth')), kind: e.getAttribute('data-kind'), button: e.tagName === 'BUTTON', padding: parseFloat(getComputedStyle(e.querySelector('.wf-name')!).paddingLeft) })));
    assert.deepEqual(rows.map((r) => [r.index, r.depth]), [[0, 0], [1, 0], [2, 1], [3, 1], [4, 1], [5, 1], [6, 1], [7, 1], [8, 1], [9, 1]]);
    assert.ok(rows[2]!.padding > rows[1]!.padding, 'a nested span is indented');
    assert.equal(rows[9]!.button, false, 'a span without a location is not a link');
    const box = async (index: number) => first.locator(`.wf-span[data-index="${index}"] .wf-bar`).evaluate((e) => {
      const r = e.getBoundingClientRect();
      const t = e.parentElement!.getBoundingClientRect();
      return { left: (r.left - t.left) / t.width, width: r.width / t.width };
    });
    const handler = await box(1);
    const item = await box(3);
    assert.ok(Math.abs(handler.width - 0.9) < 0.01, `handler bar ${handler.width}`);
    assert.ok(Math.abs(item.width - 0.1) < 0.01, `item bar ${item.width}`);
    assert.ok(Math.abs(item.left - 0.2) < 0.01, `item starts at 20 ms of 100: ${item.left}`);
    await first.locator('.wf-span[data-index="3"]').click();
    assert.deepEqual(await lastPosted(), { type: 'openLocation', location: { file: FILE, line: 7, column: 5 } });
    await first.locator('.wf-span[data-index="0"]').click();
    assert.deepEqual(await lastPosted(), { type: 'openLocation', location: { file: FILE, line: 2, column: 1 } }, 'the middleware frame links to its source');
    // The second (recent) trace opens on click and has its own waterfall.
    await d.page.click('details.trace >> nth=1 >> summary');
    assert.equal(await d.page.locator('details.trace >> nth=1 >> .wf-span').count(), 2);
    assert.match((await d.page.textContent('details.trace >> nth=1 >> summary')) ?? '', /recent .*request req-0001/);
  });

  it('lists the route\'s findings with what to try, and links them to their line', async () => {
    await openDetails();
    const text = (await d.page.textContent('.details ul.findings')) ?? '';
    assert.match(text, /N\+1/);
    assert.match(text, /ran 15× in one request/);
    assert.match(text, /Try: load the items in one query/);
    await d.page.click('.details ul.findings button[data-action="open-location"]');
    assert.deepEqual(await lastPosted(), { type: 'openLocation', location: { file: FILE, line: 7, column: 5 } });
    // The finding goes: the list says so.
    await d.send({ type: 'delta', agentId: 'a', delta: { time: Date.now(), findings: [] } });
    await d.settle();
    assert.match((await d.page.textContent('.details')) ?? '', /No findings for this route/);
  });

  it('a route profile posted by the host lists its top self-time functions with links to source', async () => {
    await openDetails();
    assert.match((await d.page.textContent('.details')) ?? '', /No profile of this route yet/);
    await d.send({ type: 'profile', agentId: 'a', summary: profileSummary(ORDERS, FILE, '/tmp/p.cpuprofile', 10) });
    await d.settle();
    const rows = await d.page.$$eval('.profile-top tbody tr', (rs) => rs.map((r) => [...r.children].map((c) => c.textContent)));
    assert.deepEqual(rows, [
      ['loadItems', formatMs(7), formatPercent(0.7), 'routes/orders.js:7'],
      ['getOrder', formatMs(3), formatPercent(0.3), 'routes/orders.js:5'],
    ]);
    assert.match((await d.page.textContent('.details')) ?? '', /10 of 120 samples passed through this route · 9 requests · \/tmp\/p\.cpuprofile/);
    await d.page.click('.profile-top tbody tr >> nth=1 >> button');
    assert.deepEqual(await lastPosted(), { type: 'openLocation', location: { file: FILE, line: 5, column: 3 } });
  });

  it('an agent that records no spans: the sections say why, in the agent\'s words', async () => {
    await d.send({ type: 'snapshot', agentId: 'a', snapshot: snapshot(endpoints(3)) });
    await d.send({ type: 'showDetails', endpointId: 'GET /api/items1/:id' });
    const b = await d.waitForCommand('endpoint.breakdown');
    const t = await d.waitForCommand('traces.list');
    await d.send({ type: 'reply', id: b.id, ok: false, error: { code: 'ERR_UNAVAILABLE', message: 'spans are off in this agent' } });
    await d.send({ type: 'reply', id: t.id, ok: true, result: { traces: [] } });
    await d.settle();
    const text = (await d.page.textContent('.details')) ?? '';
    assert.match(text, /No breakdown: spans are off in this agent/);
    assert.match(text, /No traces kept for this route yet/);
    // Refresh asks again.
    const before = (await d.posted()).length;
    await d.page.click('button[data-action="refresh-details"]');
    await d.settle();
    assert.equal((await d.posted()).slice(before).filter((m) => m.type === 'command').length, 2);
  });

  it('renders hostile strings in spans, operations, findings and profiles as text', async () => {
    const evil = '<img src=x onerror=alert(1)>\u202Egnp.exe';
    const trace = n1Trace(FILE, { requestId: evil, spans: n1Trace(FILE).spans.map((s) => ({ ...s, name: evil })) });
    await d.send({ type: 'snapshot', agentId: 'a', snapshot: snapshot([endpoint(9, '/orders/:id')], { findings: [n1Finding(FILE, { message: evil, recommendation: evil })] }) });
    await d.send({ type: 'showDetails', endpointId: ORDERS });
    const b = await d.waitForCommand('endpoint.breakdown');
    const t = await d.waitForCommand('traces.list');
    await d.send({ type: 'reply', id: b.id, ok: true, result: n1Breakdown(FILE, ORDERS, { top: [{ kind: 'db', name: evil, perRequest: 1, meanMs: 1, share: 0.1, location: { file: `/x/${evil}`, line: 1, column: 1 } }] }) });
    await d.send({ type: 'reply', id: t.id, ok: true, result: { traces: [trace] } });
    await d.send({ type: 'profile', agentId: 'a', summary: { ...profileSummary(ORDERS, FILE, evil, 1), top: [{ functionName: evil, selfMs: 1, share: 1 }] } });
    await d.settle();
    const found = await d.page.evaluate(() => ({ imgs: document.querySelectorAll('img').length, text: document.querySelector('.details')!.textContent ?? '' }));
    assert.equal(found.imgs, 0);
    assert.ok(found.text.includes('<img src=x onerror=alert(1)>[U+202E]gnp.exe'), 'shown literally, bidi control made visible');
    assert.ok(!found.text.includes('\u202E'));
  });

  it('the thresholds editor has avgMs and slowPerMinute, and shows slowQueryMs, cpuPercent and the spike and growth factors once the agent\'s thresholds carry them', async () => {
    // An older agent's thresholds, without the fields added since.
    const older = snapshot(endpoints(2));
    const { slowQueryMs: _q, cpuPercent: _c, errorSpikeFactor: _s, memoryGrowthFactor: _m, ...carried } = older.thresholds;
    await d.send({ type: 'snapshot', agentId: 'a', snapshot: { ...older, thresholds: carried as Thresholds } });
    await d.tab('alerts');
    assert.equal(await d.page.inputValue('#th-avgMs'), '1000');
    assert.equal(await d.page.inputValue('#th-slowPerMinute'), '10');
    assert.equal(await d.page.locator('#th-slowQueryMs').count(), 0, 'not carried by this agent: not shown');
    const base = snapshot([]).thresholds;
    await d.send({ type: 'delta', agentId: 'a', delta: { time: Date.now(), thresholds: { ...base, slowQueryMs: 1000, cpuPercent: 90, errorSpikeFactor: 3, memoryGrowthFactor: 1.5 } as Thresholds } });
    await d.settle();
    assert.equal(await d.page.inputValue('#th-slowQueryMs'), '1000');
    assert.equal(await d.page.inputValue('#th-cpuPercent'), '90');
    assert.equal(await d.page.inputValue('#th-memoryGrowthFactor'), '1.5');
    assert.equal(await d.page.textContent('label[for="th-slowQueryMs"]'), 'Slow query, db/redis/http span (ms)');
    assert.equal(await d.page.textContent('label[for="th-errorSpikeFactor"]'), 'Error-rate spike, × own baseline');
    await d.page.fill('#th-avgMs', '750');
    await d.page.fill('#th-memoryGrowthFactor', '1');
    await d.page.fill('#th-slowPerMinute', '0');
    await d.page.click('button:has-text("Save thresholds")');
    await d.settle();
    assert.equal(await d.page.getAttribute('#th-slowPerMinute', 'aria-invalid'), 'true');
    assert.equal(await d.page.getAttribute('#th-memoryGrowthFactor', 'aria-invalid'), 'true', 'a factor must be more than 1');
    await d.page.fill('#th-slowPerMinute', '25');
    await d.page.fill('#th-memoryGrowthFactor', '2');
    await d.page.click('button:has-text("Save thresholds")');
    const cmd = await d.waitForCommand('thresholds.set');
    assert.deepEqual(cmd.args, { thresholds: { avgMs: 750, slowPerMinute: 25, memoryGrowthFactor: 2 } });
  });
});
