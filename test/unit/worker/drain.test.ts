/**
 * The worker's drain allocates at most one number per sample in a steady state: records written
 * into the shared ring (as the app's main thread writes them) are drained into the metrics
 * (`RingReader.drain` handing each record to `MetricsCore.ingest`, as agent/worker/main.ts does),
 * 100k samples in windows of WINDOW, and the heap's used size moves by at most BOXED bytes per
 * sample across a drain: the duration, a double read from the ring, is boxed (a 16-byte heap
 * number) where it is passed to a function V8 did not inline; a duration that is a small integer
 * is not. Anything more per sample (an object, a closure, a string, a second box) fails. The
 * history sink is on, and the clock stays inside one window slot (a new slot's sketches are the
 * one allocation a drain may make, once per 10 s per endpoint). It runs in a child process of its
 * own, so that the JIT's feedback from other tests plays no part.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { isMainThread } from 'node:worker_threads';
import { Diagnostics, silentLogger } from '../../../agent/log';
import { type HistorySink, createMetrics } from '../../../agent/metrics';
import { RingReader, RingWriter, allocateRing } from '../../../agent/worker/ring';

const SAMPLES = 100_000;
/** Samples per drain: fewer than the ring holds. */
const WINDOW = 4_000;
/** A heap number (map and double); a second one, or any object, takes a window past WINDOW × (BOXED + 8). */
const BOXED = 16;

/** The heap's growth over each drain, and the samples the metrics counted. */
function measure(): { growth: number[]; counted: number } {
  // One fixed time, mid-slot: no slot boundary passes during the test.
  const now = Math.floor(Date.now() / 60_000) * 60_000 + 30_000;
  let histories = 0;
  const history: HistorySink = { add: () => void histories++, addPath: () => false };
  const metrics = createMetrics({ diag: new Diagnostics(silentLogger), clock: () => now, history });
  const routes = ['/users/:id', '/orders', '/health', '/items/:id'];
  routes.forEach((route, index) => metrics.bind(index, 'GET', route));
  const memory = allocateRing();
  const writer = new RingWriter(memory);
  const reader = new RingReader(memory);
  const ingest = (index: number, duration: number, status: number, flags: number): void => metrics.ingest(index, duration, status, flags, now);
  const write = (n: number): void => {
    // Durations over two decades (new sketch bins early on, none later) and every status class.
    for (let i = 0; i < n; i++) writer.push(i & 3, 0.5 + (i % 211) * 0.37, 100 + (i % 5) * 100 + (i % 3), i % 7 === 0 ? 2 : 0);
  };
  // Warm-up: every endpoint and bin exists, the code is optimised.
  for (let done = 0; done < SAMPLES; done += WINDOW) {
    write(WINDOW);
    reader.drain(ingest);
  }
  const growth: number[] = [];
  for (let done = 0; done < SAMPLES; done += WINDOW) {
    write(WINDOW);
    const before = process.memoryUsage().heapUsed;
    reader.drain(ingest);
    growth.push(process.memoryUsage().heapUsed - before);
  }
  const counted = metrics.endpoints().reduce((sum, ep) => sum + ep.count, 0);
  assert.equal(histories, counted);
  return { growth, counted };
}

const inChild = process.env.ROUTELENS_DRAIN_CHILD === '1' && isMainThread;
if (inChild) process.stdout.write(JSON.stringify(measure()));
else describe("the worker's drain (RingReader.drain into MetricsCore.ingest)", () => {
  it(`allocates at most the boxed duration per sample over ${SAMPLES} samples in a steady state, and counts every one`, function () {
    this.timeout(60_000);
    const child = spawnSync(process.execPath, ['--import', 'tsx', __filename], { env: { ...process.env, ROUTELENS_DRAIN_CHILD: '1' }, encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    const { growth, counted } = JSON.parse(child.stdout) as ReturnType<typeof measure>;
    assert.equal(counted, 2 * SAMPLES);
    // The smallest object is 16 bytes, and reading the heap costs under a byte per sample.
    const grew = growth.filter((bytes) => bytes >= WINDOW * (BOXED + 8));
    assert.ok(grew.length <= 1, `the heap grew by ${growth.join(', ')} bytes over drains of ${WINDOW} samples`);
  });
});
