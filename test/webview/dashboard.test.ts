import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EndpointStats } from '../../protocol/types';
import { DASHBOARD_TABS } from '../../protocol/webview';
import { formatCount, formatMs, formatPercent } from '../../protocol/format';
import { endpoint, endpoints, snapshot, system, T0 } from './fixtures';
import { type Dashboard, ROOT, SHOTS, type Server, buildBundle, dashboardSuite, pageGenerator } from './harness';

describe('webview dashboard (headless Chromium, strict CSP)', function () {
  const suite = dashboardSuite();
  let d: Dashboard;
  let server: Server;
  beforeEach(() => {
    d = suite.d;
    server = suite.server;
  });

  it('posts ready once on load and shows the waiting state before any snapshot', async () => {
    assert.deepEqual(await d.posted(), [{ type: 'ready' }]);
    assert.equal(await d.page.isVisible('text=Waiting for an agent…'), true);
    assert.equal(server.pageSource, 'extension/dashboard/html.ts', 'the page under test is the one the extension generates');
  });

  it('the harness refuses to serve a page when the extension\'s page generator cannot be loaded', async () => {
    await assert.rejects(pageGenerator(join(ROOT, 'extension/dashboard/no-such-html.ts')), /needs the extension's page generator/);
    await assert.rejects(pageGenerator(join(ROOT, 'protocol/format.ts')), /exports no dashboardHtml function/);
  });

  it('renders a snapshot: counts and routes visible in the DOM', async () => {
    await d.send({ type: 'snapshot', agentId: 'a', snapshot: snapshot(endpoints(25)) });
    await d.settle();
    assert.equal(await d.page.isVisible('text=Waiting for an agent…'), false);
    const tiles = await d.page.$$eval('.overview .tile', (ts) => ts.map((t) => t.textContent));
    assert.ok(tiles.includes('Endpoints25'), `tiles: ${tiles.join(', ')}`);
    assert.ok(tiles.includes('Requests/s (last minute)43'), 'figures written by protocol/format.ts, labelled with their window');
    assert.equal(await d.page.textContent('.score-value'), '82');
    await d.tab('endpoints');
    assert.match((await d.page.textContent('.summary')) ?? '', /^25 of 25 endpoints/);
    assert.equal((await d.rowIds()).length, 25);
    await d.page.screenshot({ path: join(SHOTS, 'endpoints.png'), fullPage: true });
  });

  it('the landing view lists the five slowest and five most requested endpoints with their figures; a click posts openHandler', async () => {
    const noSource = endpoint(40, '(unmatched)');
    delete noSource.location;
    noSource.kind = 'unmatched';
    noSource.windows['1m'] = { ...noSource.windows['1m'], count: 5000, p95: 1 };
    const eps = [...endpoints(25), noSource];
    await d.send({ type: 'snapshot', agentId: 'a', snapshot: snapshot(eps) });
    await d.settle();
    assert.equal(await d.page.getAttribute('button[data-tab="overview"]', 'aria-selected'), 'true', 'the dashboard opens on Overview');
    const lists = () =>
      d.page.$$eval('.overview .top-list', (ols) =>
        ols.map((ol) => [...ol.querySelectorAll('li:not([hidden])')].map((li) => [li.querySelector('button')!.textContent, li.querySelector('.value')!.textContent, li.querySelector('button')!.disabled])),
      );
    const [slowest, busiest] = await lists();
    const expected = expectedLists(eps, '1m', 5);
    assert.deepEqual(slowest!.map(([id, value]) => [id, value]), expected[0]);
    assert.deepEqual(busiest!.map(([id, value]) => [id, value]), expected[1]);
    assert.equal(slowest!.length, 5);
    assert.deepEqual(busiest![0], [noSource.id, '5k req · p95 1 ms', true], 'an endpoint without a source location cannot be opened');
    assert.deepEqual(await d.page.$$eval('.overview .landing-tops h2', (hs) => hs.map((x) => x.textContent)), ['Slowest endpoints (p95, last minute)', 'Most requested (last minute)']);
    // The worst p95 tile names its route.
    assert.equal(await d.page.getAttribute('[data-tile="p95"]', 'title'), slowest![0]![0]);
    assert.equal(await d.page.textContent('[data-tile="p95"]'), String(slowest![0]![1]).replace(/^p95 (.*) · .*$/, '$1'));

    await d.page.click('.overview .top-list >> nth=0 >> li >> nth=0 >> button');
    assert.deepEqual((await d.posted()).pop(), { type: 'openHandler', endpointId: slowest![0]![0] });
    await d.page.click('.overview .top-list >> nth=1 >> li >> nth=1 >> button');
    assert.deepEqual((await d.posted()).pop(), { type: 'openHandler', endpointId: busiest![1]![0] });
    assert.equal(await d.page.getAttribute('button[data-tab="overview"]', 'aria-selected'), 'true', 'the view stays');

    // A quiet minute: the lists show the figures since start, and say so.
    await d.send({ type: 'snapshot', agentId: 'a', snapshot: snapshot(eps.map((e) => ({ ...e, windows: { ...e.windows, '1m': { ...e.windows['1m'], count: 0 } } }))) });
    await d.settle();
    assert.deepEqual(await d.page.$$eval('.overview .landing-tops h2', (hs) => hs.map((x) => x.textContent)), ['Slowest endpoints (p95, since start)', 'Most requested (since start)']);
    assert.deepEqual((await lists())[0]!.map(([id, value]) => [id, value]), expectedLists(eps, 'all', 5)[0]);
    await d.page.screenshot({ path: join(SHOTS, 'overview-landing.png'), fullPage: true });
  });

  it('the "now" rate reads the last few seconds: a ramp to 600 req/s reads 600 while the minute average lags; the 4xx rate has its own tile', async () => {
    const e = endpoint(1);
    const at = (count: number) => ({ ...e, count, windows: { ...e.windows, all: { ...e.windows.all, count } }, statusCodes: { '2xx': count - Math.floor(count / 10), '4xx': Math.floor(count / 10) } });
    await d.send({ type: 'snapshot', agentId: 'a', snapshot: snapshot([at(0)]) });
    await d.settle();
    const tile = (key: string) => d.page.textContent(`[data-tile="${key}"]`);
    assert.equal(await tile('rpsNow'), '\u2014', 'unknown before a second of deltas');
    // Deltas every 250 ms: 2 s of ramp, then 6 s at 600 req/s; the agent's minute figure says 300.
    let total = 0;
    for (let i = 1; i <= 32; i++) {
      total += i <= 8 ? 150 * (i / 8) : 150;
      const t = T0 + i * 250;
      await d.send({ type: 'delta', agentId: 'a', delta: { time: t, endpoints: [at(Math.round(total))], system: system(t, { requestsPerSecond: 300 }) } });
    }
    await d.settle();
    assert.equal(await tile('rpsNow'), '600');
    assert.equal(await tile('rps'), '300');
    const labels = await d.page.$$eval('.overview .tile-label', (ls) => ls.map((l) => l.textContent));
    assert.deepEqual(labels.slice(0, 5), ['Requests/s now (5 s)', 'Requests/s (last minute)', 'Error rate (last minute)', '4xx rate (since start)', 'Worst p95 (last minute)']);
    assert.equal(await tile('4xx'), formatPercent(Math.floor(Math.round(total) / 10) / Math.round(total)));
    // A reset (the total drops) starts over instead of reading a negative rate.
    await d.send({ type: 'delta', agentId: 'a', delta: { time: T0 + 33 * 250, endpoints: [at(0)] } });
    await d.settle();
    assert.equal(await tile('rpsNow'), '\u2014');
  });

  it('sorts the table by every column, by click and by Enter, with aria-sort', async () => {
    const eps = endpoints(30);
    await d.send({ type: 'snapshot', agentId: 'a', snapshot: snapshot(eps) });
    await d.tab('endpoints');
    for (const key of ['p50', 'p95', 'p99', 'avg', 'max', 'count', 'errors'] as const) {
      const expected = (dir: 1 | -1) =>
        eps
          .slice()
          .sort((a, b) => dir * (a.windows['1m'][key] - b.windows['1m'][key]) || (a.id < b.id ? -1 : 1))
          .map((e) => e.id);
      const current = await d.page.getAttribute(`th:has(button[data-sort="${key}"])`, 'aria-sort');
      // First activation sorts descending (p95 starts there already, so it flips to ascending).
      await d.page.click(`button[data-sort="${key}"]`);
      await d.settle();
      const dir1 = current === 'descending' ? 1 : -1;
      assert.equal(await d.page.getAttribute(`th:has(button[data-sort="${key}"])`, 'aria-sort'), dir1 === 1 ? 'ascending' : 'descending', key);
      assert.deepEqual(await d.rowIds(), expected(dir1), `${key} after click`);
      await d.page.focus(`button[data-sort="${key}"]`);
      await d.page.keyboard.press('Enter');
      await d.settle();
      assert.deepEqual(await d.rowIds(), expected(dir1 === 1 ? -1 : 1), `${key} after Enter`);
      const others = await d.page.$$eval('th[aria-sort]', (ths) => ths.filter((t) => t.getAttribute('aria-sort') !== 'none').length);
      assert.equal(others, 1, 'only one column is sorted');
    }
  });

  it('filters rows by text and switches the live window', async () => {
    const eps = [...endpoints(10), endpoint(11, '/users/:id'), endpoint(12, '/users/:id/orders', 'POST')];
    await d.send({ type: 'snapshot', agentId: 'a', snapshot: snapshot(eps) });
    await d.tab('endpoints');
    await d.page.fill('input[aria-label="Filter endpoints"]', 'users');
    await d.settle();
    assert.deepEqual((await d.rowIds()).sort(), ['GET /users/:id', 'POST /users/:id/orders']);
    assert.match((await d.page.textContent('.summary')) ?? '', /^2 of 12 endpoints/);

    const countCell = () => d.page.textContent('.endpoint-table tbody tr:not(.spacer):not([hidden]) td:nth-child(3)');
    await d.page.fill('input[aria-label="Filter endpoints"]', 'GET /users');
    await d.settle();
    assert.equal(await countCell(), String(eps[10]!.windows['1m'].count));
    await d.page.click('button[data-window="all"]');
    await d.settle();
    assert.equal(await d.page.getAttribute('button[data-window="all"]', 'aria-pressed'), 'true');
    assert.equal(await d.page.getAttribute('button[data-window="1m"]', 'aria-pressed'), 'false');
    assert.equal(await countCell(), String(eps[10]!.windows.all.count));
    await d.page.click('button[data-window="5m"]');
    await d.settle();
    assert.equal(await countCell(), String(eps[10]!.windows['5m'].count));
  });

  /** The Endpoints tab's two lists: [route, figures, tooltip] per item. */
  const endpointLists = () =>
    d.page.$$eval('.endpoints .top-list', (ols) =>
      ols.map((ol) => [...ol.querySelectorAll('li:not([hidden])')].map((li) => [li.querySelector('button')!.textContent, li.querySelector('.value')!.textContent, li.querySelector('.value')!.getAttribute('title')])),
    );

  /**
   * What the lists should hold, written out here: the slowest are the endpoints with a p95
   * (20 requests in the window) by p95, then those with fewer by their slowest request;
   * the busiest by count. Endpoints without a request in the window are left out.
   */
  const expectedLists = (all: EndpointStats[], w: 'all' | '1m', n = 10) => {
    const live = all.filter((e) => e.windows[w].count > 0);
    const by = (key: 'p95' | 'max' | 'count') => (a: EndpointStats, b: EndpointStats) => b.windows[w][key] - a.windows[w][key] || (a.id < b.id ? -1 : 1);
    const withP95 = live.filter((e) => e.windows[w].count >= 20).sort(by('p95'));
    const few = live.filter((e) => e.windows[w].count < 20).sort(by('max'));
    const p95 = (e: EndpointStats) => (e.windows[w].count >= 20 ? formatMs(e.windows[w].p95) : '\u2014');
    return [
      [...withP95, ...few].slice(0, n).map((e) => [e.id, e.windows[w].count >= 20 ? `p95 ${p95(e)} · ${formatCount(e.windows[w].count)} req` : `max ${formatMs(e.windows[w].max)} · ${formatCount(e.windows[w].count)} req`]),
      live.sort(by('count')).slice(0, n).map((e) => [e.id, `${formatCount(e.windows[w].count)} req · p95 ${p95(e)}`]),
    ];
  };
  const withoutTitles = (lists: Array<Array<Array<string | null>>>) => lists.map((l) => l.map(([id, value]) => [id, value]));

  it('lists the ten slowest (p95) and the ten most requested endpoints of the window, in order, and follows deltas', async () => {
    // 25 endpoints with distinct figures, one with no request in the last minute (left out of both lists),
    // and one with 3 requests, all slow: too few for a p95, so it does not lead the slowest.
    const idle = endpoint(26);
    idle.windows['1m'] = { ...idle.windows['1m'], count: 0, p95: 99_999 };
    const few = endpoint(27);
    few.windows['1m'] = { ...few.windows['1m'], count: 3, p95: 90_000, max: 90_000 };
    const eps = [...endpoints(25), idle, few];
    await d.send({ type: 'snapshot', agentId: 'a', snapshot: snapshot(eps) });
    await d.tab('endpoints');
    const [slowest, busiest] = await endpointLists();
    assert.equal(slowest!.length, 10);
    assert.deepEqual(withoutTitles([slowest!, busiest!]), expectedLists(eps, '1m'));
    assert.ok(!slowest!.some(([id]) => id === idle.id), 'an endpoint without requests in the window is not listed');
    assert.ok(eps.filter((e) => e.windows['1m'].count >= 20).length > 10, 'the fixture has ten endpoints with a p95');
    assert.ok(!slowest!.some(([id]) => id === few.id), 'three slow requests do not make a p95 that ranks above real ones');
    assert.equal(slowest![0]![2], 'p95 and requests in the last minute');
    assert.deepEqual(await d.page.$$eval('.endpoints .two-col h2', (hs) => hs.map((x) => x.textContent)), ['Slowest (p95, last minute)', 'Most requested (last minute)']);

    await d.page.click('button[data-window="all"]');
    await d.settle();
    assert.deepEqual(withoutTitles(await endpointLists()), expectedLists(eps, 'all'));

    // A delta makes one endpoint the slowest and the busiest: both lists follow.
    const hot = endpoint(3);
    hot.windows.all = { ...hot.windows.all, p95: 50_000, count: 1_000_000 };
    await d.send({ type: 'delta', agentId: 'a', delta: { time: T0 + 1000, endpoints: [hot] } });
    await d.settle();
    const after = await endpointLists();
    assert.deepEqual(withoutTitles(after), expectedLists(eps.map((e) => (e.id === hot.id ? hot : e)), 'all'));
    assert.deepEqual([after[0]![0]!.slice(0, 2), after[1]![0]!.slice(0, 2)], [[hot.id, 'p95 50 s · 1M req'], [hot.id, '1M req · p95 50 s']]);

    // An item opens that endpoint's detail.
    await d.page.click('.endpoints .top-list >> nth=1 >> li >> nth=0 >> button');
    await d.settle();
    assert.equal(await d.page.textContent('.detail h2'), hot.id);
  });

  it('an endpoint with too few requests for a p95 is listed after those with one, by its slowest request, and says why', async () => {
    const few = endpoint(1);
    few.windows['1m'] = { ...few.windows['1m'], count: 3, p95: 900, max: 950 };
    const one = endpoint(2);
    one.windows['1m'] = { ...one.windows['1m'], count: 40, p95: 120 };
    await d.send({ type: 'snapshot', agentId: 'a', snapshot: snapshot([few, one]) });
    await d.tab('endpoints');
    const [slowest, busiest] = await endpointLists();
    assert.deepEqual(slowest, [
      [one.id, 'p95 120 ms · 40 req', 'p95 and requests in the last minute'],
      [few.id, 'max 950 ms · 3 req', 'p95 needs 20 requests in the last minute; 3 so far: its slowest request is shown instead'],
    ]);
    assert.deepEqual(busiest![1], [few.id, '3 req · p95 \u2014', 'p95 needs 20 requests in the last minute; 3 so far']);
  });

  it('the filter narrows the Slowest and Most requested lists as it narrows the table, and the headings say so', async () => {
    const eps = [...endpoints(25), endpoint(30, '/users/:id'), endpoint(31, '/users/:id/orders', 'POST')];
    await d.send({ type: 'snapshot', agentId: 'a', snapshot: snapshot(eps) });
    await d.tab('endpoints');
    await d.page.fill('input[aria-label="Filter endpoints"]', 'items1');
    await d.settle();
    const matching = eps.filter((e) => e.id.includes('items1'));
    assert.deepEqual(withoutTitles(await endpointLists()), expectedLists(matching, '1m'));
    const listed = (await endpointLists()).flat().map(([id]) => id);
    assert.ok(listed.length > 0 && listed.every((id) => id!.includes('items1')), `listed: ${listed.join(', ')}`);
    assert.deepEqual(await d.page.$$eval('.endpoints .two-col h2', (hs) => hs.map((x) => x.textContent)), ['Slowest (p95, last minute, matching the filter)', 'Most requested (last minute, matching the filter)']);
    await d.page.fill('input[aria-label="Filter endpoints"]', 'users');
    await d.settle();
    assert.deepEqual((await endpointLists()).map((l) => l.map(([id]) => id).sort()), [['GET /users/:id', 'POST /users/:id/orders'], ['GET /users/:id', 'POST /users/:id/orders']]);
    await d.page.fill('input[aria-label="Filter endpoints"]', '');
    await d.settle();
    assert.deepEqual(withoutTitles(await endpointLists()), expectedLists(eps, '1m'));
  });

  it('table percentiles: a dash with a tooltip saying why until the window holds enough requests; the count sits next to them; a 4xx rate of its own', async () => {
    const e = endpoint(1, '/few');
    e.windows['1m'] = { ...e.windows['1m'], count: 12, errors: 1 };
    e.windows.all = { ...e.windows.all, count: 150 };
    e.count = 150;
    e.statusCodes = { '2xx': 120, '4xx': 27, '5xx': 3 };
    await d.send({ type: 'snapshot', agentId: 'a', snapshot: snapshot([e]) });
    await d.tab('endpoints');
    const headers = await d.page.$$eval('.endpoint-table thead th', (ths) => ths.map((t) => t.textContent));
    assert.deepEqual(headers, ['Method', 'Route', 'Count', 'Errors', '4xx', 'Avg', 'p50', 'p95', 'p99', 'Max', 'Req/s (1m)']);
    const cells = () =>
      d.page.$$eval('.endpoint-table tbody tr:not(.spacer):not([hidden]) td', (tds) => Object.fromEntries(tds.map((td, i) => [['method', 'route', 'count', 'errors', '4xx', 'avg', 'p50', 'p95', 'p99', 'max', 'rate'][i], [td.textContent, td.getAttribute('title')]])));
    let c = await cells();
    assert.deepEqual(c.count, ['12', null]);
    assert.deepEqual(c.p50, [formatMs(e.windows['1m'].p50), null]);
    assert.deepEqual(c.p95, ['\u2014', 'p95 needs 20 requests in the last minute; 12 so far']);
    assert.deepEqual(c.p99, ['\u2014', 'p99 needs 100 requests in the last minute; 12 so far']);
    assert.deepEqual(c['4xx'], [formatPercent(27 / 150), '27 of 150 requests answered 4xx since start']);
    assert.equal(c.errors![0], '1', 'errors are counted apart from 4xx');

    await d.page.click('button[data-window="all"]');
    await d.settle();
    c = await cells();
    assert.deepEqual(c.p95, [formatMs(e.windows.all.p95), null], 'the title goes once the figure is shown');
    assert.deepEqual(c.p99, [formatMs(e.windows.all.p99), null]);

    await d.page.click('button[data-window="1m"]');
    await d.page.click('.endpoint-table tbody tr:not(.spacer) >> text="/few"');
    await d.settle();
    const detail = (await d.page.textContent('.detail')) ?? '';
    assert.match(detail, /4xx \(since start\)27 \(18%\)/);
    assert.match(detail, /p95 — · p99 — · max [^·]+ · n = 12/);
    assert.match(detail, /Why a dashp95 needs 20 requests in the last minute; 12 so far; p99 needs 100 requests in the last minute; 12 so far\./);
  });

  it('opens the endpoint detail from a row and from focusEndpoint; Go to handler posts openHandler', async () => {
    const eps = endpoints(12);
    await d.send({ type: 'snapshot', agentId: 'a', snapshot: snapshot(eps) });
    await d.tab('endpoints');
    await d.page.click('.endpoint-table tbody tr:not(.spacer) >> text="/api/items3/:id"');
    await d.settle();
    assert.equal(await d.page.textContent('.detail h2'), 'GET /api/items3/:id');
    assert.match((await d.page.textContent('.detail')) ?? '', /\/srv\/app\/routes\/items3\.js:13:5/);
    assert.equal(await d.page.locator('.detail canvas').count(), 3, 'histogram and two timelines');
    await d.page.click('button[data-action="open-handler"]');
    const posted = await d.posted();
    assert.deepEqual(posted[posted.length - 1], { type: 'openHandler', endpointId: 'GET /api/items3/:id' });

    await d.send({ type: 'showTab', tab: 'overview' });
    await d.send({ type: 'focusEndpoint', endpointId: 'GET /api/items7/:id' });
    await d.settle();
    assert.equal(await d.page.getAttribute('button[data-tab="endpoints"]', 'aria-selected'), 'true');
    assert.equal(await d.page.textContent('.detail h2'), 'GET /api/items7/:id');
    // The timeline grows from deltas.
    for (let t = 1; t <= 3; t++) await d.send({ type: 'delta', agentId: 'a', delta: { time: T0 + t * 1000, endpoints: [endpoint(7, undefined, 'GET', t)] } });
    await d.settle();
    await d.page.screenshot({ path: join(SHOTS, 'endpoint-detail.png'), fullPage: true });
    await d.page.click('button[data-action="close-detail"]');
    await d.settle();
    assert.equal(await d.page.isVisible('.detail'), false);
  });

  it('renders hostile strings as text everywhere: routes, keys, alerts, slow paths, errors, agent names', async () => {
    const hostile = ['<img src=x onerror=alert(1)>', '"><script>alert(2)</script>', '</script><script>alert(3)</script>', 'javascript:alert(4)', 'evil\u202Egnp.exe\u2066x\u2069'];
    const eps: EndpointStats[] = hostile.map((s, i) => endpoint(i + 1, `/h/${s}`));
    const snap = snapshot(eps, {
      alerts: hostile.map((s, i) => ({ ...snapshot([]).alerts[0]!, id: `h${i}`, message: s, target: s })),
      health: { score: 10, status: 'unhealthy', reasons: hostile },
      slowRequests: hostile.map((s, i) => ({ requestId: `r${i}`, method: 'GET', route: `/h/${s}`, path: s, status: 500, duration: 900, time: T0, severity: 'critical' as const })),
    });
    snap.cache!.hotKeys = hostile.map((key) => ({ key, hits: 1 }));
    snap.cache!.namespaces = [{ namespace: hostile[0]!, entries: 1, hits: 1, misses: 1, hitRate: 0.5 }];
    snap.cache!.warmers = [hostile[1]!];
    snap.rateLimits[0]!.topKeys = hostile.map((key) => ({ key, limited: 1 }));
    await d.send({ type: 'agents', agents: hostile.map((s, i) => ({ id: `g${i}`, name: s, pid: i, url: s, state: 'connected' })), selected: 'g0' });
    await d.send({ type: 'snapshot', agentId: 'g0', snapshot: snap });
    await d.send({ type: 'delta', agentId: 'g0', delta: { time: T0 + 1, cacheEvents: hostile.map((key) => ({ kind: 'error', time: T0, key, message: key })) } });
    for (const tab of ['overview', 'endpoints', 'cache', 'rateLimits', 'alerts', 'slow', 'system']) await d.tab(tab);
    // Key browser reply and a refused command's error message.
    await d.tab('cache');
    await d.page.click('form:has(input[aria-label="Key pattern"]) button[type=submit]');
    const cmd = await d.waitForCommand('cache.keys');
    await d.send({ type: 'reply', id: cmd.id, ok: true, result: { keys: hostile.map((key) => ({ key, namespace: key, tier: 'l1', size: 10 })), cursor: null } });
    await d.page.fill('input[aria-label="Invalidate tag"]', 'x');
    await d.page.click('form:has(input[aria-label="Invalidate tag"]) button[type=submit]');
    const inv = await d.waitForCommand('cache.invalidate');
    await d.send({ type: 'reply', id: inv.id, ok: false, error: { code: 'ERR_INTERNAL', message: hostile.join(' ') } });
    await d.page.waitForSelector('.status.error');
    await d.tab('endpoints');
    await d.page.click('.endpoint-table tbody tr:not(.spacer) >> nth=0');
    await d.settle();

    const found = await d.page.evaluate(() => ({
      imgs: document.querySelectorAll('img').length,
      scripts: [...document.querySelectorAll('script')].map((s) => s.getAttribute('src')),
      handlers: [...document.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => a.name.startsWith('on'))).length,
      links: document.querySelectorAll('a[href]').length,
      text: document.body.innerText + [...document.querySelectorAll('option')].map((o) => o.textContent).join(' '),
    }));
    assert.equal(found.imgs, 0, 'no <img> injected');
    assert.deepEqual(found.scripts.map((s) => s?.replace(server.origin, '')), ['/shim.js', '/main.js'], 'no <script> injected');
    assert.equal(found.handlers, 0, 'no on* attributes');
    assert.equal(found.links, 0, 'no links');
    assert.ok(found.text.includes('<img src=x onerror=alert(1)>'), 'shown literally');
    assert.ok(found.text.includes('"><script>alert(2)</script>'));
    assert.ok(found.text.includes('javascript:alert(4)'));
    assert.ok(!/[\u202A-\u202E\u2066-\u2069]/.test(found.text), 'no bidi control left in the page text');
    assert.ok(found.text.includes('evil[U+202E]gnp.exe[U+2066]x[U+2069]'), 'bidi controls shown as visible markers');
    assert.match((await d.page.textContent('.status')) ?? '', /<img src=x onerror=alert\(1\)>/);
    await d.page.waitForTimeout(200); // give any injected handler a chance to fire
    assert.deepEqual(d.dialogs, []);
  });

  it('the CSP is really enforced (an injected inline script is blocked and reported)', async () => {
    const ran = await d.page.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'window.__inlineRan = true';
      document.body.append(s);
      return new Promise<boolean>((r) => setTimeout(() => r((window as unknown as { __inlineRan?: boolean }).__inlineRan === true), 50));
    });
    assert.equal(ran, false);
    const v = await d.violations();
    assert.ok(v.some((x) => x.includes('script-src')), `violations: ${v.join('; ')}`);
    await d.page.evaluate(() => ((window as unknown as { __violations: string[] }).__violations.length = 0));
    d.cspConsole.length = 0;
  });

  it('the bundle holds no eval, new Function or HTML sink (dist, and fresh builds minified and not)', async () => {
    const min = await buildBundle(true);
    try {
      const files = [join(suite.bundleDir, 'main.js'), join(min.dir, 'main.js'), join(ROOT, 'dist/webview/main.js')].filter(existsSync);
      for (const f of files) {
        const src = readFileSync(f, 'utf8');
        assert.ok(!/\beval\s*\(/.test(src), `eval( in ${f}`);
        assert.ok(!/new\s+Function\b/.test(src), `new Function in ${f}`);
        assert.ok(!/innerHTML|outerHTML|insertAdjacentHTML|document\.write|setAttribute\(\s*["']on/.test(src), `HTML sink in ${f}`);
      }
    } finally {
      min.cleanup();
    }
  });

  it('stays responsive with 2000 endpoints and deltas 4×/s; the DOM row count stays bounded', async function () {
    const eps = endpoints(2000);
    await d.send({ type: 'snapshot', agentId: 'a', snapshot: snapshot(eps) });
    await d.tab('endpoints');
    // Deltas generated in the page (500 changed endpoints each, every 250 ms, for 4 s) while
    // we count animation frames and long tasks.
    const result = await d.page.evaluate(`new Promise((resolve) => {
      const T0 = ${T0};
      let frames = 0, longTasks = 0, longest = 0, tick = 0, running = true;
      const obs = new PerformanceObserver((l) => { for (const e of l.getEntries()) { longTasks += e.duration; longest = Math.max(longest, e.duration); } });
      try { obs.observe({ entryTypes: ['longtask'] }); } catch {}
      const raf = () => { frames++; if (running) requestAnimationFrame(raf); };
      requestAnimationFrame(raf);
      const sum = (s, k) => ({ count: ((s * 37) % 101) + 1 + k, errors: (s * 7) % 13, aborted: 0, min: 1, avg: 5 + ((s * 11 + k) % 97), max: 900, p50: 3 + ((s * 13 + k) % 83), p95: 50 + ((s * 17 + k) % 79) * 5, p99: 700 });
      const timer = setInterval(() => {
        tick++;
        const endpoints = [];
        for (let j = 0; j < 500; j++) {
          const i = 1 + ((tick * 500 + j) % 2000);
          const w = sum(i, tick);
          endpoints.push({ id: 'GET /api/items' + i + '/:id', method: 'GET', route: '/api/items' + i + '/:id', kind: 'route', ...w, statusCodes: { '2xx': w.count }, windows: { '1m': w, '5m': w, all: w }, rate: 1, lastSeen: T0 + tick });
        }
        window.postMessage({ type: 'delta', agentId: 'a', delta: { time: T0 + tick * 250, endpoints, system: { ...${JSON.stringify(snapshot([]).system)}, time: T0 + tick * 250 } } }, '*');
        if (tick === 16) {
          clearInterval(timer);
          setTimeout(() => { running = false; obs.disconnect(); resolve({ frames, longTasks, longest, rows: document.querySelectorAll('.endpoint-table tbody tr').length }); }, 300);
        }
      }, 250);
    })`);
    const r = result as { frames: number; longTasks: number; longest: number; rows: number };
    console.log(`      frames ${r.frames} in ~4.3 s, long tasks ${Math.round(r.longTasks)} ms total (longest ${Math.round(r.longest)} ms), ${r.rows} rows in the DOM`);
    assert.ok(r.frames >= 20, `only ${r.frames} frames in 4 s`);
    assert.ok(r.longTasks < 3000, `main thread blocked ${r.longTasks} ms of 4300`);
    assert.ok(r.longest < 1000, `a ${r.longest} ms task`);
    assert.ok(r.rows <= 80, `${r.rows} rows in the DOM for 2000 endpoints`);
    assert.match((await d.page.textContent('.summary')) ?? '', /^2000 of 2000 endpoints/);
    // Scrolling far down shows the right rows (virtualised).
    await d.page.$eval('.table-scroll', (el) => (el.scrollTop = 26 * 1000));
    await d.settle();
    const ids = await d.rowIds();
    assert.ok(ids.length > 5 && ids.length <= 80);
    assert.ok((await d.page.$$eval('.endpoint-table tbody tr', (rs) => rs.length)) <= 80);
  });

  it('restores tab, sort, filter, window, selected endpoint and series from getState after a reload', async () => {
    await d.send({ type: 'snapshot', agentId: 'a', snapshot: snapshot(endpoints(20)) });
    for (let t = 1; t <= 3; t++) await d.send({ type: 'delta', agentId: 'a', delta: { time: T0 + t * 1000, system: snapshot([]).system } });
    await d.tab('endpoints');
    await d.page.click('button[data-sort="p99"]');
    await d.page.click('button[data-window="5m"]');
    await d.page.fill('input[aria-label="Filter endpoints"]', 'items1');
    await d.settle();
    await d.page.click('.endpoint-table tbody tr:not(.spacer) >> text="/api/items12/:id"');
    await d.settle();
    const saved = await d.page.evaluate(() => JSON.parse(sessionStorage.getItem('routelens-state') ?? 'null'));
    assert.equal(saved.ui.selectedEndpoint, 'GET /api/items12/:id');

    await d.page.reload();
    await d.page.waitForFunction(() => (window as unknown as { __posted: unknown[] }).__posted.length > 0);
    await d.settle();
    assert.equal(await d.page.getAttribute('button[data-tab="endpoints"]', 'aria-selected'), 'true', 'tab restored before any data');
    await d.send({ type: 'snapshot', agentId: 'a', snapshot: snapshot(endpoints(20), { time: T0 + 5000 }) });
    await d.settle();
    assert.equal(await d.page.inputValue('input[aria-label="Filter endpoints"]'), 'items1');
    assert.equal(await d.page.getAttribute('th:has(button[data-sort="p99"])', 'aria-sort'), 'descending');
    assert.equal(await d.page.getAttribute('button[data-window="5m"]', 'aria-pressed'), 'true');
    assert.equal(await d.page.textContent('.detail h2'), 'GET /api/items12/:id');
    const after = await d.page.evaluate(() => JSON.parse(sessionStorage.getItem('routelens-state') ?? 'null'));
    assert.ok(after.series.length >= 4, `series kept across reload: ${after.series.length} points`);
  });

  it('chart colours follow the theme class on <body>', async () => {
    await d.send({ type: 'snapshot', agentId: 'a', snapshot: snapshot(endpoints(5)) });
    await d.settle();
    const palette = () => d.page.getAttribute('.overview canvas[aria-label^="Requests per second"]', 'data-palette');
    const dark = await palette();
    assert.match(dark ?? '', /#cccccc \| #3794ff \| #f14c4c/);
    await d.page.screenshot({ path: join(SHOTS, 'overview-dark.png'), fullPage: true });
    await d.page.evaluate(() => document.body.classList.replace('vscode-dark', 'vscode-light'));
    await d.page.waitForFunction((before) => document.querySelector('.overview canvas')?.getAttribute('data-palette') !== before, dark);
    assert.match((await palette()) ?? '', /#3b3b3b \| #1a85ff \| #e51400/);
    await d.page.screenshot({ path: join(SHOTS, 'overview-light.png'), fullPage: true });
  });

  it('tabs are a keyboard-usable tablist (arrows, Home, End) of real buttons', async () => {
    await d.send({ type: 'snapshot', agentId: 'a', snapshot: snapshot(endpoints(3)) });
    await d.settle();
    const tabs = await d.page.$$eval('[role=tablist] [role=tab]', (ts) => ts.map((t) => t.tagName));
    assert.deepEqual(tabs, Array(DASHBOARD_TABS.length).fill('BUTTON'));
    await d.page.focus('button[data-tab="overview"]');
    const selected = () => d.page.$eval('[role=tab][aria-selected=true]', (t) => (t as HTMLElement).dataset.tab);
    const focused = () => d.page.evaluate(() => (document.activeElement as HTMLElement).dataset.tab);
    await d.page.keyboard.press('ArrowRight');
    await d.settle();
    assert.equal(await selected(), 'endpoints');
    assert.equal(await focused(), 'endpoints');
    assert.equal(await d.page.isVisible('#panel-endpoints'), true);
    assert.equal(await d.page.isVisible('#panel-overview'), false);
    await d.page.keyboard.press('End');
    await d.settle();
    assert.equal(await selected(), DASHBOARD_TABS[DASHBOARD_TABS.length - 1]);
    await d.page.keyboard.press('ArrowRight');
    await d.settle();
    assert.equal(await selected(), 'overview', 'wraps around');
    await d.page.keyboard.press('ArrowLeft');
    await d.page.keyboard.press('Home');
    await d.settle();
    assert.equal(await selected(), 'overview');
    const tabindexes = await d.page.$$eval('[role=tab]', (ts) => ts.map((t) => t.getAttribute('tabindex')));
    assert.deepEqual(tabindexes, ['0', ...Array<string>(DASHBOARD_TABS.length - 1).fill('-1')], 'roving tabindex');
  });

  it('invalidate by pattern: dry run shows the count, confirm runs it, the status line shows the result', async () => {
    await d.send({ type: 'snapshot', agentId: 'a', snapshot: snapshot(endpoints(3)) });
    await d.tab('cache');
    await d.page.fill('input[aria-label="Invalidate pattern"]', 'session:*');
    await d.page.click('form:has(input[aria-label="Invalidate pattern"]) button[type=submit]');
    const dry = await d.waitForCommand('cache.invalidate');
    assert.deepEqual(dry.args, { pattern: 'session:*', dryRun: true });
    await d.send({ type: 'reply', id: dry.id, ok: true, result: { removed: 12, dryRun: true } });
    await d.page.waitForSelector('text=12 keys match session:*.');
    await d.page.click('button:has-text("Invalidate 12 keys")');
    const real = await d.page.waitForFunction(
      (first) => (window as unknown as { __posted: Array<{ type: string; id?: number; command?: string; args?: unknown }> }).__posted.find((m) => m.type === 'command' && m.command === 'cache.invalidate' && m.id !== first),
      dry.id,
    );
    const msg = (await real.jsonValue()) as { id: number; args: unknown };
    assert.deepEqual(msg.args, { pattern: 'session:*' });
    await d.send({ type: 'reply', id: msg.id, ok: true, result: { removed: 12, dryRun: false } });
    await d.page.waitForSelector('.status:has-text("Removed 12 keys")');
    assert.equal(await d.page.getAttribute('.status', 'aria-live'), 'polite');
    // A reply to an id nobody waits for is ignored.
    await d.send({ type: 'reply', id: 9999, ok: false, error: { code: 'ERR_INTERNAL', message: 'stray' } });
    await d.settle();
    assert.equal(await d.page.textContent('.status'), 'Removed 12 keys');
    await d.page.screenshot({ path: join(SHOTS, 'cache.png'), fullPage: true });
  });

  it('thresholds editor: client-side validation, fractions on the wire, the agent refusal shown', async () => {
    await d.send({ type: 'snapshot', agentId: 'a', snapshot: snapshot(endpoints(3)) });
    await d.tab('alerts');
    assert.equal(await d.page.inputValue('#th-errorRate'), '5');
    await d.page.fill('#th-errorRate', '150');
    await d.page.fill('#th-p95Ms', '-1');
    await d.page.click('button:has-text("Save thresholds")');
    await d.settle();
    assert.equal(await d.page.getAttribute('#th-errorRate', 'aria-invalid'), 'true');
    assert.equal(await d.page.getAttribute('#th-p95Ms', 'aria-invalid'), 'true');
    assert.equal((await d.posted()).filter((m) => m.type === 'command').length, 0, 'nothing sent when invalid');
    await d.page.fill('#th-errorRate', '2.5');
    await d.page.fill('#th-p95Ms', '750');
    await d.page.click('button:has-text("Save thresholds")');
    const cmd = await d.waitForCommand('thresholds.set');
    assert.deepEqual(cmd.args, { thresholds: { p95Ms: 750, errorRate: 0.025 } }, 'only the fields changed');
    await d.send({ type: 'reply', id: cmd.id, ok: false, error: { code: 'ERR_BAD_ARGS', message: 'p95Ms: too large' } });
    await d.page.waitForSelector('text=Refused by the agent: p95Ms: too large');
    await d.page.screenshot({ path: join(SHOTS, 'alerts.png'), fullPage: true });
    // Resolve an active alert.
    await d.page.click('.alerts-table button:has-text("Resolve")');
    const res = await d.waitForCommand('alerts.resolve');
    assert.deepEqual(res.args, { id: 'a1' });
  });

  it('empty states, agent picker and rate-limit actions', async () => {
    await d.send({
      type: 'agents',
      agents: [
        { id: 'x', name: 'shop', pid: 1, url: 'ws://127.0.0.1:1', state: 'connected' },
        { id: 'y', name: 'billing', pid: 2, url: 'ws://127.0.0.1:2', state: 'reconnecting' },
      ],
      selected: 'x',
    });
    await d.send({ type: 'snapshot', agentId: 'x', snapshot: snapshot([], { cache: undefined, rateLimits: [], slowRequests: [], alerts: [] }) });
    await d.settle();
    await d.page.selectOption('select[aria-label="Agent"]', 'y');
    assert.deepEqual((await d.posted()).pop(), { type: 'selectAgent', agentId: 'y' });
    await d.tab('cache');
    assert.equal(await d.page.isVisible('text=No cache in this app.'), true);
    await d.tab('rateLimits');
    assert.equal(await d.page.isVisible('text=No rate limiters in this app.'), true);
    await d.tab('slow');
    assert.equal(await d.page.isVisible('text=No slow requests yet.'), true);

    await d.send({ type: 'snapshot', agentId: 'x', snapshot: snapshot(endpoints(2)) });
    await d.tab('rateLimits');
    await d.page.screenshot({ path: join(SHOTS, 'rate-limits.png'), fullPage: true });
    await d.page.fill('input[aria-label="New max for api"]', '250');
    await d.page.click('button:has-text("Set max")');
    assert.deepEqual((await d.waitForCommand('rateLimit.setMax')).args, { limiter: 'api', max: 250 });
    await d.page.click('button:has-text("Reset") >> nth=0');
    assert.deepEqual((await d.waitForCommand('rateLimit.resetKey')).args, { limiter: 'api', key: '203.0.113.9' });
    await d.tab('slow');
    const sev = await d.page.$$eval('.slow-table tbody tr', (rs) => rs.map((r) => r.className));
    assert.equal(sev[0], 'sev-row-warning', 'newest first (r4), coloured by severity');
    await d.page.screenshot({ path: join(SHOTS, 'slow.png'), fullPage: true });
  });

  it('a delta that changes one visible endpoint touches only that row', async () => {
    const eps = endpoints(2000);
    await d.send({ type: 'snapshot', agentId: 'a', snapshot: snapshot(eps) });
    await d.tab('endpoints');
    const [firstId] = await d.rowIds();
    const target = eps.find((e) => e.id === firstId)!;
    await d.page.evaluate(() => {
      const w = window as unknown as { __touched: Set<Element> };
      w.__touched = new Set();
      new MutationObserver((records) => {
        for (const r of records) {
          const el = r.target instanceof Element ? r.target : r.target.parentElement;
          const tr = el?.closest('tr');
          if (tr) w.__touched.add(tr);
        }
      }).observe(document.querySelector('.endpoint-table tbody')!, { subtree: true, childList: true, characterData: true, attributes: true });
    });
    // Same p95 (order unchanged), new count.
    const changed = { ...target, windows: { ...target.windows, '1m': { ...target.windows['1m'], count: target.windows['1m'].count + 1000 } } };
    await d.send({ type: 'delta', agentId: 'a', delta: { time: T0 + 1000, endpoints: [changed] } });
    await d.settle();
    const touched = await d.page.evaluate(() => [...(window as unknown as { __touched: Set<HTMLTableRowElement> }).__touched].map((tr) => tr.children[1]?.textContent));
    assert.deepEqual(touched, [target.route]);
    assert.equal(await d.page.textContent('.endpoint-table tbody tr:not(.spacer) >> nth=0 >> td:nth-child(3)'), formatCount(changed.windows['1m'].count));
  });

  it('key browser: pages with the cursor, inspects a value, invalidates one key; endpoint reset', async () => {
    await d.send({ type: 'snapshot', agentId: 'a', snapshot: snapshot(endpoints(3)) });
    await d.tab('cache');
    await d.page.fill('input[aria-label="Key pattern"]', 'users:*');
    await d.page.press('input[aria-label="Key pattern"]', 'Enter');
    const first = await d.waitForCommand('cache.keys');
    assert.deepEqual(first.args, { pattern: 'users:*', limit: 100 });
    const key = (n: number) => ({ key: `users:${n}`, namespace: 'users', tier: 'both' as const, ttl: 60_000, size: 512 });
    await d.send({ type: 'reply', id: first.id, ok: true, result: { keys: [key(1), key(2)], cursor: 'c2' } });
    await d.page.click('button:has-text("More")');
    const more = await d.page.waitForFunction(
      (id) => (window as unknown as { __posted: Array<{ type: string; id?: number; command?: string }> }).__posted.find((m) => m.command === 'cache.keys' && m.id !== id),
      first.id,
    );
    const second = (await more.jsonValue()) as unknown as { id: number; args: unknown };
    assert.deepEqual(second.args, { pattern: 'users:*', cursor: 'c2', limit: 100 });
    await d.send({ type: 'reply', id: second.id, ok: true, result: { keys: [key(3)], cursor: null } });
    await d.page.waitForSelector('.key-results tbody tr >> nth=2');
    assert.equal(await d.page.isVisible('button:has-text("More")'), false, 'no more pages');
    await d.page.click('.key-results tbody tr >> nth=0 >> button:has-text("Inspect")');
    const ins = await d.waitForCommand('cache.inspect');
    assert.deepEqual(ins.args, { key: 'users:1' });
    await d.send({ type: 'reply', id: ins.id, ok: true, result: { key: 'users:1', value: '{"name":"<b>Ada</b>"}', truncated: false, size: 21, tier: 'both' } });
    await d.page.waitForSelector('pre.value');
    assert.equal(await d.page.textContent('pre.value'), '{"name":"<b>Ada</b>"}');
    await d.page.click('.key-results tbody tr >> nth=1 >> button:has-text("Invalidate")');
    const inv = await d.waitForCommand('cache.invalidate');
    assert.deepEqual(inv.args, { key: 'users:2' });
    await d.send({ type: 'reply', id: inv.id, ok: true, result: { removed: 1, dryRun: false } });
    await d.page.waitForSelector('.status:has-text("Removed 1 key")');
    assert.equal(await d.page.locator('.key-results tbody tr').count(), 2, 'the invalidated key leaves the list');

    await d.send({ type: 'focusEndpoint', endpointId: 'GET /api/items2/:id' });
    await d.settle();
    await d.page.click('button[data-action="reset-endpoint"]');
    assert.deepEqual((await d.waitForCommand('reset')).args, { endpoint: 'GET /api/items2/:id' });
  });

  it('editors keep focus and typed text while data streams in', async () => {
    await d.send({ type: 'snapshot', agentId: 'a', snapshot: snapshot(endpoints(3)) });
    await d.tab('rateLimits');
    await d.page.fill('input[aria-label="New max for api"]', '77');
    for (let t = 1; t <= 4; t++) {
      const l = snapshot([]).rateLimits[0]!;
      await d.send({ type: 'delta', agentId: 'a', delta: { time: T0 + t * 250, rateLimits: [{ ...l, allowed: l.allowed + t * 1000 }] } });
      await d.settle();
    }
    assert.equal(await d.page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'New max for api');
    assert.equal(await d.page.inputValue('input[aria-label="New max for api"]'), '77');
    assert.match((await d.page.textContent('.rate-limits')) ?? '', /Total allowed \/ limited9k \//, 'the last delta is shown');
    await d.tab('alerts');
    await d.page.fill('#th-p95Ms', '900');
    await d.send({ type: 'delta', agentId: 'a', delta: { time: T0 + 2000, thresholds: { ...snapshot([]).thresholds, p95Ms: 321 } } });
    await d.settle();
    assert.equal(await d.page.inputValue('#th-p95Ms'), '900', 'a thresholds update does not overwrite what the user is typing');
  });
});
