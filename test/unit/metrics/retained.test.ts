/**
 * What the metrics hold per endpoint with traffic, in bytes: ENDPOINTS registered routes each get
 * requests in every 10 s slot of the 1m window and every minute slot of the 5m window (a clock
 * walked through six minutes), and every window is read, so each endpoint holds its lifetime
 * sketch, 7 + 6 window slots with their sketches and its cached figures. Measured in a child
 * process of its own with --expose-gc: the heap plus ArrayBuffers after full collections, minus
 * the same before the routes were registered. Bytes are deterministic to a few percent (time is
 * not); the bound is 1.5× what the compact sketches hold, and sketches-js's sketches (2.2 kB
 * each, 14 per endpoint) hold 2.6× the bound. Also checks that requests for ever new unmatched
 * paths and param values do not grow the heap.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { isMainThread } from 'node:worker_threads';
import type { RequestSample } from '../../../agent/internal';
import { Diagnostics, silentLogger } from '../../../agent/log';
import { createMetrics } from '../../../agent/metrics';

const ENDPOINTS = 500;
/** Bytes per endpoint with traffic in every window slot, at most (measured: 10.7 kB; with sketches-js's sketches, 41.7 kB). */
const MAX_BYTES_PER_ENDPOINT = 16_000;
/** Bytes that 50k requests to ever new paths may add, at most: 20 per request (compiled code and collection timing move it by tens of kB). */
const MAX_UNMATCHED_GROWTH = 1_000_000;

function settled(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  for (let i = 0; i < 4; i++) gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** In the child: bytes per endpoint, and the growth over requests to new unmatched paths. */
function measure(): { perEndpoint: number; unmatchedGrowth: number } {
  let now = 1_700_000_000_000;
  const metrics = createMetrics({ diag: new Diagnostics(silentLogger), systemIntervalMs: 0, clock: () => now });
  const base = settled();
  for (let i = 0; i < ENDPOINTS; i++) metrics.registerRoute({ method: 'GET', route: `/r${i}/:id` });
  const sample: RequestSample = { method: 'GET', route: undefined, status: 200, duration: 0, aborted: false, threw: false, url: '/x', requestId: 'r', start: 0 };
  let n = 0;
  // Six minutes in 5 s steps: every fine and coarse slot of every endpoint gets samples.
  for (let step = 0; step < 72; step++) {
    now += 5_000;
    for (let i = 0; i < ENDPOINTS; i++) {
      for (let k = 0; k < 3; k++) {
        sample.route = `/r${i}/:id`;
        sample.duration = 0.2 + ((n++ * 7919) % 1000) / 200; // 0.2 … 5.2 ms
        metrics.record(sample);
      }
    }
    metrics.endpoints();
  }
  const perEndpoint = (settled() - base) / ENDPOINTS;
  const unmatched = (from: number, count: number) => {
    for (let i = from; i < from + count; i++) {
      sample.route = i % 2 ? undefined : `/r${i % ENDPOINTS}/:id`; // unmatched paths (no template), and matched ones
      sample.url = `/x${i}/${i}`;
      metrics.record(sample);
    }
    metrics.endpoints();
  };
  unmatched(0, 10_000); // the unmatched endpoint exists, its code is compiled
  const before = settled();
  unmatched(10_000, 50_000);
  const unmatchedGrowth = settled() - before;
  metrics.close();
  return { perEndpoint, unmatchedGrowth };
}

const inChild = process.env.ROUTELENS_RETAINED_CHILD === '1' && isMainThread;
if (inChild) process.stdout.write(JSON.stringify(measure()));
else describe('memory the metrics hold (MetricsCore)', () => {
  it(`per endpoint with traffic in every window slot: under ${MAX_BYTES_PER_ENDPOINT} bytes; unmatched paths add nothing`, function () {
    this.timeout(60_000);
    const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', __filename], { env: { ...process.env, ROUTELENS_RETAINED_CHILD: '1' }, encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    const { perEndpoint, unmatchedGrowth } = JSON.parse(child.stdout) as { perEndpoint: number; unmatchedGrowth: number };
    assert.ok(perEndpoint > 1000, `${perEndpoint} bytes per endpoint: the measurement saw nothing`);
    assert.ok(perEndpoint < MAX_BYTES_PER_ENDPOINT, `${Math.round(perEndpoint)} bytes per endpoint`);
    assert.ok(unmatchedGrowth < MAX_UNMATCHED_GROWTH, `${unmatchedGrowth} bytes after 50k requests to new paths`);
  });
});
