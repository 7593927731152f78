/** The bench's load generator (bench/lib/client.ts) against real HTTP servers on loopback. */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Connections, buildRequest, runLoad } from '../../../bench/lib/client';
import { mbSpread, median, percentiles, relDiff, table } from '../../../bench/lib/stats';

async function serve(handler: http.RequestListener): Promise<{ port: number; close: () => Promise<void>; seen: string[] }> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.url ?? '');
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('bench load generator: runLoad', () => {
  it('unthrottled: cycles through the plan over keep-alive connections and parses content-length and chunked answers', async () => {
    const srv = await serve((req, res) => {
      if (req.url === '/chunked') {
        res.write('a');
        res.end('b');
      } else if (req.url === '/missing') {
        res.statusCode = 404;
        res.end('no');
      } else res.end(JSON.stringify({ url: req.url }));
    });
    try {
      const plan = [buildRequest('GET', '/users/1', srv.port, 'users'), buildRequest('GET', '/chunked', srv.port, 'other'), buildRequest('GET', '/missing', srv.port, 'other')];
      const r = await runLoad({ port: srv.port, requests: plan, connections: 2, durationMs: 5000, maxRequests: 300 });
      assert.equal(r.sent, 300);
      assert.equal(r.responses, 300);
      assert.equal(r.errors, 0);
      assert.equal(r.statuses['200'], 200);
      assert.equal(r.statuses['404'], 100);
      assert.equal(r.latencies.users!.length, 100);
      assert.equal(r.latencies.other!.length, 200);
      assert.ok(r.latencies.users!.every((l) => l > 0));
    } finally {
      await srv.close();
    }
  });

  it('paced: holds the requested rate (open loop), not a burst per second', async () => {
    const arrivals: number[] = [];
    const srv = await serve((_req, res) => {
      arrivals.push(performance.now());
      res.end('ok');
    });
    try {
      const t0 = performance.now();
      const r = await runLoad({ port: srv.port, requests: [buildRequest('GET', '/x', srv.port, 'x')], connections: 4, durationMs: 1000, rate: 200 });
      // 200 req/s for 1 s, generous bounds for a shared machine.
      assert.ok(r.responses >= 150 && r.responses <= 205, `got ${r.responses} responses`);
      // A per-second burst would send all 200 at once; paced, the first quarter second holds about 50.
      const early = arrivals.filter((t) => t - t0 < 250).length;
      assert.ok(early <= 120, `${early} requests in the first 250 ms`);
      assert.equal(r.errors, 0);
    } finally {
      await srv.close();
    }
  });

  it('counts requests the server drops as errors and still finishes', async () => {
    const srv = await serve((req) => req.socket.destroy());
    try {
      const r = await runLoad({ port: srv.port, requests: [buildRequest('GET', '/x', srv.port, 'x')], connections: 2, durationMs: 2000 });
      assert.equal(r.responses, 0);
      assert.ok(r.errors >= 1);
    } finally {
      await srv.close();
    }
  });
});

describe('bench load generator: Connections', () => {
  it('keeps its connections open across runs and carries on through the plan where the last run stopped', async () => {
    const sockets = new Set<unknown>();
    const srv = await serve((req, res) => {
      sockets.add(req.socket);
      res.end('ok');
    });
    const plan = [1, 2, 3, 4, 5].map((i) => buildRequest('GET', `/p/${i}`, srv.port, 'p'));
    const pool = await Connections.open(srv.port, plan, 2);
    try {
      const a = await pool.run({ durationMs: 2000, maxRequests: 3 });
      const b = await pool.run({ durationMs: 2000, maxRequests: 4, rate: 400 });
      assert.deepEqual([a.responses, b.responses, a.errors + b.errors], [3, 4, 0]);
      // Two connections: within a run, arrival order may differ from the plan's.
      assert.deepEqual([srv.seen.slice(0, 3).sort(), srv.seen.slice(3).sort()], [['/p/1', '/p/2', '/p/3'], ['/p/1', '/p/2', '/p/4', '/p/5']]);
      assert.ok(sockets.size <= 2, `${sockets.size} connections used`);
    } finally {
      pool.close();
      await srv.close();
    }
  });

  it('refuses a second run while one is going on', async () => {
    const srv = await serve((_req, res) => setTimeout(() => res.end('ok'), 50));
    const pool = await Connections.open(srv.port, [buildRequest('GET', '/x', srv.port, 'x')], 1);
    try {
      const first = pool.run({ durationMs: 200 });
      await assert.rejects(pool.run({ durationMs: 200 }), /already going on/);
      assert.ok((await first).responses >= 1);
    } finally {
      pool.close();
      await srv.close();
    }
  });
});

describe('bench stats', () => {
  it('median, percentiles, relDiff and table', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 2, 3]), 2.5);
    assert.ok(Number.isNaN(median([])));
    const p = percentiles(Array.from({ length: 101 }, (_, i) => i));
    assert.deepEqual([p.p50, p.p95, p.p99, p.count], [50, 95, 99, 101]);
    assert.equal(relDiff(105, 100), 0.05);
    assert.ok(Number.isNaN(relDiff(1, 0)));
    assert.equal(table(['a', 'b'], [['x', '10']]).split('\n')[2], 'x  10');
  });

  it('mbSpread: one reading as MB, several as their median with their range', () => {
    const MB = 1024 * 1024;
    assert.equal(mbSpread([5 * MB]), '5.00 MB');
    assert.equal(mbSpread([5.34 * MB, 5.13 * MB, 5.29 * MB]), '5.29 MB (5.13 MB–5.34 MB)');
  });
});
