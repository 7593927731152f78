/**
 * The agent's percentiles for a route agree with the HTTP server's own timing of the same
 * requests: from Node's `http.server.request.start` diagnostics channel to its
 * `http.server.response.finish`, read by the test itself. Handlers take known, varied times
 * (20–80 ms), long enough that the event loop's noise stays well under the 5 % allowed.
 */
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type Agent, createAgent } from '../../../agent';
import { listen, type Running } from '../express/support';

const REQUESTS = 600;
const CONCURRENCY = 8;
const TOLERANCE = 0.05;

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

describe('agent percentiles against the HTTP server’s request→finish span (Express 5)', () => {
  let agent: Agent;
  let running: Running;
  const starts = new Map<object, number>();
  const spans: number[] = [];
  const onStart = (m: unknown) => void starts.set((m as { request: object }).request, performance.now());
  const onFinish = (m: unknown) => {
    const t0 = starts.get((m as { request: object }).request);
    if (t0 !== undefined) spans.push(performance.now() - t0);
  };

  before(async () => {
    subscribe('http.server.request.start', onStart);
    subscribe('http.server.response.finish', onFinish);
     
    const express = require('express') as typeof import('express');
    agent = createAgent({ express, server: false, discoveryDir: false, cache: false });
    const app = express();
    app.use(agent.middleware());
    app.get('/slow/:n', (req, res) => {
      setTimeout(() => res.send('done'), Number(req.params.n));
    });
    running = await listen(app);
  });

  after(async () => {
    unsubscribe('http.server.request.start', onStart);
    unsubscribe('http.server.response.finish', onFinish);
    await running.close();
    await agent.close();
  });

  it('p50, p95 and p99 are within 5 % of the server’s own spans; a request the parser rejects is no endpoint’s sample', async () => {
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

    const snap = agent.snapshot();
    const route = snap.endpoints.find((e) => e.id === 'GET /slow/:n');
    assert.ok(route, 'the route is measured');
    assert.equal(spans.length, REQUESTS, 'the server finished every request');
    assert.equal(route.count, REQUESTS);
    assert.equal(
      snap.endpoints.reduce((sum, e) => sum + e.count, 0),
      REQUESTS,
      `only the requests Express ran are samples: ${snap.endpoints.map((e) => `${e.id} ${e.count}`).join(', ')}`,
    );
    const sorted = [...spans].sort((a, b) => a - b);
    const gaps: string[] = [];
    for (const [name, q] of [
      ['p50', 0.5],
      ['p95', 0.95],
      ['p99', 0.99],
    ] as const) {
      const [lo, hi] = quantileBand(sorted, q);
      const agentMs = route[name];
      if (agentMs < lo * (1 - TOLERANCE) || agentMs > hi * (1 + TOLERANCE)) {
        const gap = agentMs < lo ? agentMs / lo - 1 : agentMs / hi - 1;
        gaps.push(`${name}: agent ${agentMs.toFixed(2)} ms, server ${lo.toFixed(2)}–${hi.toFixed(2)} ms (${(gap * 100).toFixed(1)} %)`);
      }
    }
    assert.deepEqual(gaps, [], 'percentiles outside ±5 % of the server’s');
  });
});
