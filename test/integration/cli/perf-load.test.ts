import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runPhase } from '../../../cli/perf/load';
import type { Target } from '../../../cli/perf/scenario';

/** A server that answers every request (GET /slow after `slowMs`) and notes when each arrived and on which path. */
async function recordingServer(slowMs: number) {
  const arrivals: Array<{ at: number; method: string; path: string; body: string }> = [];
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    const at = performance.now();
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      arrivals.push({ at, method: req.method!, path: req.url!, body });
      if (req.url !== '/slow') return void res.end('ok');
      const timer = setTimeout(() => {
        timers.delete(timer);
        res.end('ok');
      }, slowMs);
      timers.add(timer);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const close = (): Promise<void> => {
    for (const timer of timers) clearTimeout(timer);
    const closed = new Promise<void>((r) => server.close(() => r()));
    server.closeAllConnections();
    return closed;
  };
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, arrivals, close };
}

const target = (method: string, path: string, body?: string): Target => ({
  id: `${method} ${path}`,
  method,
  route: path,
  paths: [path],
  source: 'route',
  headers: body === undefined ? {} : { 'content-type': 'application/json' },
  ...(body === undefined ? {} : { body }),
});

describe('routelens perf load: the paced phase', function () {
  this.timeout(30_000);

  it('sends exactly rate × seconds requests, each route its share, spread over the phase rather than in bursts, however slow one route is', async () => {
    const s = await recordingServer(250);
    try {
      const targets = [target('GET', '/fast'), target('GET', '/slow'), target('POST', '/orders', '{"item":1}')];
      const rate = 150;
      const seconds = 2;
      const r = await runPhase({ url: s.url, targets, seconds, rate, connections: Math.ceil(rate / 5) });
      assert.equal(r.requests.total, rate * seconds);
      assert.deepEqual([r.errors, r.timeouts, r.non2xx], [0, 0, 0]);
      const count = (path: string) => s.arrivals.filter((a) => a.path === path).length;
      assert.deepEqual([count('/fast'), count('/slow'), count('/orders')], [100, 100, 100]);
      assert.ok(s.arrivals.filter((a) => a.path === '/orders').every((a) => a.method === 'POST' && a.body === '{"item":1}'));
      // A quota per connection per second (autocannon's pacing) sends each second's requests back to back at its
      // start, leaving most of every second empty; here request n leaves at n/rate, so nearly every 100 ms has some.
      const first = Math.min(...s.arrivals.map((a) => a.at));
      const windows = new Set(s.arrivals.map((a) => Math.floor((a.at - first) / 100)));
      assert.ok(windows.size >= 16, `requests arrived in ${windows.size} of the phase's 20 windows of 100 ms`);
    } finally {
      await s.close();
    }
  });

  it('an app that stops answering: the phase ends once the answer timeout has passed, the rest counted as timeouts, and none of them is sent afterwards', async () => {
    const s = await recordingServer(60_000);
    try {
      const t0 = performance.now();
      // 10 requests over 2 connections: 2 wait for answers, the other 8 for a connection.
      const r = await runPhase({ url: s.url, targets: [target('GET', '/slow')], seconds: 0.5, rate: 20, connections: 2 });
      const tookMs = performance.now() - t0;
      assert.deepEqual([r.requests.total, r.timeouts, r.errors], [0, 10, 0]);
      assert.ok(tookMs < 15_000, `the phase took ${Math.round(tookMs)} ms`);
      const atEnd = s.arrivals.length;
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(s.arrivals.length, atEnd, 'a request still waiting for a connection at the end was sent after the phase');
    } finally {
      await s.close();
    }
  });

  it('nothing listening: every request fails, counted, and the phase ends', async () => {
    const s = await recordingServer(0);
    await s.close();
    const r = await runPhase({ url: s.url, targets: [target('GET', '/fast')], seconds: 0.5, rate: 20, connections: 2 });
    assert.deepEqual([r.requests.total, r.errors], [0, 10]);
  });
});
