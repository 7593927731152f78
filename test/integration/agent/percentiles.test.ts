/**
 * The agent's percentiles for a route agree with the HTTP server's own timing of the same
 * requests: from Node's `http.server.request.start` diagnostics channel to its
 * `http.server.response.finish`. Handlers take known, varied times (20–80 ms). The server's span
 * of each request is read by a subscriber before the agent's and one after
 * (test/support/server-span.ts), in a child process of its own (this file run as a script) where
 * that order is known: a stall of the main thread between two subscribers (a GC, the OS running
 * another process) then widens that request's interval instead of moving the figure the agent is
 * compared with, so the check holds under load. The agent's quantile must lie within 5 % (its
 * sketch's accuracy and more) of the interval between the server's quantile read from the lower
 * and from the upper bounds.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { isMainThread } from 'node:worker_threads';
import { createAgent } from '../../../agent';
import { SpanReader, bracket, runChild } from '../../support/server-span';
import { listen } from '../express/support';

const REQUESTS = 600;
const CONCURRENCY = 8;
const TOLERANCE = 0.05;
const QUANTILES = [
  ['p50', 0.5],
  ['p95', 0.95],
  ['p99', 0.99],
] as const;

/**
 * The server's q-quantile as an interval: from the lower interpolation rank (q·(n−1)) to the
 * nearest rank (⌈q·n⌉), the usual definitions; in a sparse tail they can be far apart.
 */
function quantileBand(sorted: readonly number[], q: number): [number, number] {
  return [sorted[Math.floor(q * (sorted.length - 1))]!, sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!];
}

/** A request line the HTTP parser rejects: the server answers 400 itself, and no app runs. */
function malformed(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write('GET /slow/1 HTTP/1.1 what\r\n\r\n'));
    socket.on('data', () => undefined);
    socket.on('error', reject);
    socket.on('close', () => resolve());
  });
}

interface Report {
  /** Per request the server finished: its span's bounds (ms). */
  lo: number[];
  hi: number[];
  route: { count: number; p50: number; p95: number; p99: number } | undefined;
  endpoints: Array<{ id: string; count: number }>;
}

/** In the child: the traffic, and what the agent and the server's readers saw. */
async function measure(): Promise<Report> {
  const before = new SpanReader();
  const express = require('express') as typeof import('express');
  const agent = createAgent({ express, server: false, discoveryDir: false, cache: false });
  const app = express();
  app.use(agent.middleware());
  app.get('/slow/:n', (req, res) => {
    setTimeout(() => res.send('done'), Number(req.params.n));
  });
  // Subscribed after every subscriber of the agent's (the middleware's, the app entry's).
  const after = new SpanReader();
  const running = await listen(app);
  try {
    // 20–80 ms in a shuffled order (61 distinct delays).
    const delays = Array.from({ length: REQUESTS }, (_, i) => 20 + ((i * 7919) % 61));
    let next = 0;
    const worker = async () => {
      while (next < delays.length) {
        const res = await fetch(`http://127.0.0.1:${running.port}/slow/${delays[next++]}`);
        assert.equal(await res.text(), 'done');
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    for (let i = 0; i < 3; i++) await malformed(running.port);
    const lo: number[] = [];
    const hi: number[] = [];
    for (const req of before.finishes.keys()) {
      const span = bracket(before, after, req);
      if (span === undefined) continue;
      lo.push(span.lo);
      hi.push(span.hi);
    }
    const snap = agent.snapshot();
    const route = snap.endpoints.find((e) => e.id === 'GET /slow/:n');
    return { lo, hi, route: route && { count: route.count, p50: route.p50, p95: route.p95, p99: route.p99 }, endpoints: snap.endpoints.map((e) => ({ id: e.id, count: e.count })) };
  } finally {
    before.close();
    after.close();
    await running.close();
    await agent.close();
  }
}

if (process.env.ROUTELENS_PERCENTILES_CHILD === '1' && isMainThread) {
  void measure().then((report) => process.stdout.write(JSON.stringify(report)));
} else {
  describe('agent percentiles against the HTTP server’s request→finish span (Express 5)', () => {
    it('p50, p95 and p99 are within 5 % of the server’s own spans; a request the parser rejects is no endpoint’s sample', function () {
      this.timeout(120_000);
      const { lo, hi, route, endpoints } = runChild<Report>(__filename, { ROUTELENS_PERCENTILES_CHILD: '1' });
      assert.ok(route, 'the route is measured');
      assert.equal(lo.length, REQUESTS, 'the server finished every request');
      assert.equal(route.count, REQUESTS);
      assert.equal(
        endpoints.reduce((sum, e) => sum + e.count, 0),
        REQUESTS,
        `only the requests Express ran are samples: ${endpoints.map((e) => `${e.id} ${e.count}`).join(', ')}`,
      );
      const sortedLo = [...lo].sort((a, b) => a - b);
      const sortedHi = [...hi].sort((a, b) => a - b);
      const gaps: string[] = [];
      for (const [name, q] of QUANTILES) {
        const low = quantileBand(sortedLo, q)[0];
        const high = quantileBand(sortedHi, q)[1];
        const agentMs = route[name];
        if (agentMs < low * (1 - TOLERANCE) || agentMs > high * (1 + TOLERANCE)) {
          const gap = agentMs < low ? agentMs / low - 1 : agentMs / high - 1;
          gaps.push(`${name}: agent ${agentMs.toFixed(2)} ms, server ${low.toFixed(2)}–${high.toFixed(2)} ms (${(gap * 100).toFixed(1)} %)`);
        }
      }
      assert.deepEqual(gaps, [], 'percentiles outside ±5 % of the server’s');
    });
  });
}
