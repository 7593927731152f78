import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { CommitMarker, HistoryAnswer, HistoryPoint } from '../../protocol/history';
import { endpoint, endpoints, snapshot } from './fixtures';
import { type Dashboard, SHOTS, dashboardSuite } from './harness';
const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);

/** Hourly points over a day, with hours 10 to 12 missing (the app was stopped), and two commits (the second dirty). */
function dayOfHistory(endpointId: string, over: Partial<HistoryAnswer> = {}): HistoryAnswer {
  const from = NOW - 24 * HOUR;
  const points: HistoryPoint[] = [];
  for (let i = 0; i < 24; i++) {
    if (i >= 10 && i <= 12) continue;
    const git = { commit: i < 13 ? 'abc1234def567890' : 'fedcba9876543210', branch: 'main', dirty: i >= 13 };
    points.push({ t: from + i * HOUR, count: 3600 + i, errors: i % 5, p50: 10 + i, p95: 40 + i, p99: i % 2 ? 90 + i : undefined, git });
  }
  const commits: CommitMarker[] = [
    { t: from, commit: 'abc1234def567890', branch: 'main', dirty: false },
    { t: from + 13 * HOUR, commit: 'fedcba9876543210', branch: 'main', dirty: true },
  ];
  return { endpoint: endpointId, resolution: 'hour', from, to: NOW, points, commits, ...over };
}

describe('webview History tab (headless Chromium, strict CSP)', function () {
  const suite = dashboardSuite();
  let d: Dashboard;
  beforeEach(() => {
    d = suite.d;
  });

  const historyCommands = async () => (await d.posted()).filter((m) => m.type === 'command' && m.command === 'history.get') as Array<{ id: number; args: { endpoint: string; from: number; to: number; resolution: string } }>;
  const waitForAsks = (n: number) => d.page.waitForFunction((k) => (window as unknown as { __posted: Array<{ command?: string }> }).__posted.filter((m) => m.command === 'history.get').length >= k, n);
  const canvas = (cls: string, what: 'points' | 'markers') => d.page.getAttribute(`.history-${cls} canvas`, `data-${what}`);

  it('opened from an endpoint\'s detail, asks for that route\'s last 24 hours per hour and draws p50/p95/p99, rate and errors with commit markers', async () => {
    await d.send({ type: 'snapshot', agentId: 'a', snapshot: snapshot(endpoints(3)) });
    await d.send({ type: 'focusEndpoint', endpointId: 'GET /api/items2/:id' });
    await d.settle();
    await d.page.click('button[data-action="open-history"]');
    await d.settle();
    assert.equal(await d.page.getAttribute('button[data-tab="history"]', 'aria-selected'), 'true');
    const cmd = await d.waitForCommand('history.get');
    const args = cmd.args as { endpoint: string; from: number; to: number; resolution: string };
    assert.equal(args.endpoint, 'GET /api/items2/:id');
    assert.equal(args.resolution, 'hour');
    assert.equal(args.to - args.from, 24 * HOUR);
    assert.equal(await d.page.getAttribute('button[data-range="24h"]', 'aria-pressed'), 'true');

    await d.send({ type: 'reply', id: cmd.id, ok: true, result: dayOfHistory('GET /api/items2/:id') });
    await d.page.waitForSelector('.history-latency canvas[data-points]');
    // 21 recorded hours; p99 only in the odd ones; the three missing hours break the lines.
    assert.equal(await canvas('latency', 'points'), '21,21,11');
    assert.equal(await canvas('rate', 'points'), '21');
    assert.equal(await canvas('errors', 'points'), '21');
    for (const c of ['latency', 'rate', 'errors']) assert.equal(await canvas(c, 'markers'), 'abc1234 main | fedcba9 main (dirty)', `${c} markers`);
    const rows = await d.page.$$eval('.history table.data tbody tr', (trs) => trs.map((tr) => [...tr.children].slice(1).map((td) => td.textContent)));
    assert.deepEqual(rows, [
      ['abc1234def56', 'main', 'clean'],
      ['fedcba987654', 'main', 'dirty (uncommitted changes)'],
    ]);
    const summary = (await d.page.textContent('.history .kv')) ?? '';
    assert.match(summary, /Requests76k · errors 43/);
    assert.match(summary, /Worst p9563 ms/);
    assert.match((await d.page.textContent('.history h2')) ?? '', /^GET \/api\/items2\/:id: the last 24 h$/);
    // The marker colour is the theme's.
    assert.match((await d.page.getAttribute('.history-latency canvas', 'data-palette')) ?? '', /^\S/);
    await d.page.screenshot({ path: join(SHOTS, 'history.png'), fullPage: true });
  });

  it('switching the range (by click and by keyboard) asks again at the range\'s resolution; a late answer to an earlier question is ignored; the range survives a reload', async () => {
    const eps = endpoints(3);
    await d.send({ type: 'snapshot', agentId: 'a', snapshot: snapshot(eps) });
    await d.tab('history');
    // Nothing picked yet: the busiest route.
    const busiest = [...eps].sort((a, b) => b.count - a.count)[0]!.id;
    const first = await d.waitForCommand('history.get');
    assert.equal((first.args as { endpoint: string }).endpoint, busiest);
    assert.equal(await d.page.$eval('select[aria-label="Route"]', (s) => (s as HTMLSelectElement).selectedOptions[0]?.textContent), busiest);

    await d.page.click('button[data-range="6h"]');
    await waitForAsks(2);
    await d.page.focus('button[data-range="7d"]');
    await d.page.keyboard.press('Enter');
    await waitForAsks(3);
    await d.page.focus('button[data-range="30d"]');
    await d.page.keyboard.press('Space');
    await waitForAsks(4);
    const asks = await historyCommands();
    assert.deepEqual(asks.map((c) => [c.args.resolution, (c.args.to - c.args.from) / HOUR]), [
      ['hour', 24],
      ['minute', 6],
      ['hour', 168],
      ['day', 720],
    ]);
    assert.equal(await d.page.getAttribute('button[data-range="30d"]', 'aria-pressed'), 'true');
    assert.equal(await d.page.getAttribute('button[data-range="24h"]', 'aria-pressed'), 'false');

    // The newest answer is drawn; the 6 h answer arriving after it is not.
    const latest = dayOfHistory(busiest, { resolution: 'day', commits: [{ t: NOW - 2 * HOUR, commit: '1111111aaaa', branch: 'release', dirty: false }] });
    await d.send({ type: 'reply', id: asks[3]!.id, ok: true, result: latest });
    await d.page.waitForSelector('.history-latency canvas[data-markers="1111111 release"]');
    await d.send({ type: 'reply', id: asks[1]!.id, ok: true, result: dayOfHistory(busiest) });
    await d.settle();
    assert.equal(await canvas('latency', 'markers'), '1111111 release');

    // Another route from the picker asks for that route.
    await d.page.selectOption('select[aria-label="Route"]', { label: 'GET /api/items3/:id' });
    await waitForAsks(5);
    assert.equal((await historyCommands())[4]!.args.endpoint, 'GET /api/items3/:id');

    await d.page.reload();
    await d.send({ type: 'snapshot', agentId: 'a', snapshot: snapshot(eps) });
    await d.settle();
    assert.equal(await d.page.getAttribute('button[data-tab="history"]', 'aria-selected'), 'true');
    assert.equal(await d.page.getAttribute('button[data-range="30d"]', 'aria-pressed'), 'true');
    const again = await d.waitForCommand('history.get');
    assert.equal((again.args as { endpoint: string; resolution: string }).endpoint, 'GET /api/items3/:id');
  });

  it('says so when the agent keeps no history, and when the range holds no requests; Refresh asks again', async () => {
    await d.send({ type: 'snapshot', agentId: 'a', snapshot: snapshot(endpoints(2)) });
    await d.tab('history');
    const cmd = await d.waitForCommand('history.get');
    await d.send({ type: 'reply', id: cmd.id, ok: false, error: { code: 'ERR_UNAVAILABLE', message: 'history is off (history: false)' } });
    await d.page.waitForSelector('text=This agent keeps no history: history is off (history: false)');
    assert.equal(await d.page.$$eval('.history canvas', (c) => c.length), 0);
    await d.page.click('button[data-action="refresh-history"]');
    await waitForAsks(2);
    const again = (await historyCommands())[1]!;
    await d.send({ type: 'reply', id: again.id, ok: true, result: { ...dayOfHistory(again.args.endpoint), points: [], commits: [] } });
    await d.page.waitForSelector('text=No requests recorded for this route in the last 24 h.');
  });

  it('renders hostile route names, commits and branches as text (picker, heading, markers, commits table, errors)', async () => {
    const hostile = ['<img src=x onerror=alert(1)>', '"><script>alert(2)</script>', 'evil\u202Egnp.exe\u2066x\u2069'];
    const eps = hostile.map((s, i) => endpoint(i + 1, `/h/${s}`));
    await d.send({ type: 'snapshot', agentId: 'a', snapshot: snapshot(eps) });
    await d.tab('history');
    const cmd = await d.waitForCommand('history.get');
    const id = (cmd.args as { endpoint: string }).endpoint;
    assert.ok(eps.some((e) => e.id === id), 'the id is sent as it is, not as shown');
    const answer = dayOfHistory(id, {
      commits: hostile.map((s, i) => ({ t: NOW - (20 - i) * HOUR, commit: `${s}0123456789`, branch: s, dirty: i === 1 })),
    });
    await d.send({ type: 'reply', id: cmd.id, ok: true, result: answer });
    await d.page.waitForSelector('.history table.data');
    const cells = await d.page.$$eval('.history table.data tbody td:nth-child(3)', (tds) => tds.map((td) => td.textContent));
    assert.deepEqual(cells.slice(0, 2), hostile.slice(0, 2), 'branches as text');
    assert.equal(
      await canvas('latency', 'markers'),
      '<img sr <img src=x onerror=alert(1)> | "><scri "><script>alert(2)</script> (dirty) | evil[U+202E]gn evil[U+202E]gnp.exe[U+2066]x[U+2069]',
      'marker labels cleaned before they are drawn',
    );
    await d.page.click('button[data-action="refresh-history"]');
    const again = (await (async () => {
      await waitForAsks(2);
      return historyCommands();
    })())[1]!;
    await d.send({ type: 'reply', id: again.id, ok: false, error: { code: 'ERR_INTERNAL', message: hostile.join(' ') } });
    await d.page.waitForSelector('.status.error');
    const found = await d.page.evaluate(() => ({
      imgs: document.querySelectorAll('img').length,
      scripts: document.querySelectorAll('script').length,
      options: [...document.querySelectorAll('select[aria-label="Route"] option')].map((o) => o.textContent),
      note: document.querySelector('.history-note')?.textContent,
      status: document.querySelector('.status')?.textContent,
    }));
    assert.equal(found.imgs, 0);
    assert.equal(found.scripts, 2, 'only the page\'s own scripts (shim and bundle)');
    assert.ok(found.options.includes('GET /h/<img src=x onerror=alert(1)>'));
    assert.ok(found.options.some((o) => o?.includes('[U+202E]')), 'bidi controls shown as markers');
    assert.match(found.note ?? '', /History failed: <img src=x onerror=alert\(1\)>/);
    assert.equal(await d.page.evaluate(() => (window as unknown as { alerted?: boolean }).alerted ?? false), false);
  });
});
