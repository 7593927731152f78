/**
 * Recording a request's sample allocates nothing in a steady state: `MetricsCore.record` (the
 * endpoint's lookup and the write into the recording queue) is called 100k times, in windows of
 * WINDOW samples that fit the queue (its drain, off the request path, runs between windows), and
 * the heap's used size does not move across a window. One small object per sample would add
 * tens of kilobytes per window. A change that puts work back on the request path (an object, a
 * closure, a string, a timer per sample) fails here. The history's recorded paths are on (a
 * route with parameters answering 2xx has its URL sampled into a real RecordedPaths). It runs in a child process of its own, so
 * that the JIT's feedback from other tests (other clocks, other sample shapes) plays no part.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { isMainThread } from 'node:worker_threads';
import type { RequestSample } from '../../../agent/internal';
import { RecordedPaths } from '../../../agent/history/paths';
import { Diagnostics, silentLogger } from '../../../agent/log';
import { type MetricsCore, createMetrics } from '../../../agent/metrics';

const SAMPLES = 100_000;
/** Samples per measured window: fewer than the recording queue holds, so no drain runs inside one. */
const WINDOW = 4_000;

function recordMany(metrics: MetricsCore, samples: RequestSample[], n: number): void {
  for (let i = 0; i < n; i++) {
    metrics.record(samples[i & 3]!);
  }
}

/** The heap's growth over each window, in a fresh process (this file run as a script). */
function measure(): number[] {
  const paths = new RecordedPaths();
  const history = { add() {}, addPath: (id: string, url: string, t: number) => paths.add(id, url, t) };
  const metrics = createMetrics({ diag: new Diagnostics(silentLogger), systemIntervalMs: 0, history });
  try {
    metrics.registerRoute({ method: 'GET', route: '/users/:id' });
    metrics.registerRoute({ method: 'POST', route: '/orders' });
    const sample = (method: string, route: string | undefined, status: number): RequestSample => ({ method, route, status, duration: 0.25 + status / 100, aborted: false, threw: false, url: '/users/7?token=secret', requestId: 'r', start: 0 });
    const samples = [sample('GET', '/users/:id', 200), sample('POST', '/orders', 201), sample('GET', '/users/:id', 503), sample('GET', undefined, 404)];
    recordMany(metrics, samples, SAMPLES); // warm-up: every endpoint exists, the code is optimised
    const growth: number[] = [];
    for (let done = 0; done < SAMPLES; done += WINDOW) {
      metrics.droppedEndpoints(); // drains the queue
      const before = process.memoryUsage().heapUsed;
      recordMany(metrics, samples, WINDOW);
      growth.push(process.memoryUsage().heapUsed - before);
    }
    if (metrics.endpoint('GET /users/:id')?.count !== SAMPLES) throw new Error('a sample was not counted');
    if (paths.get('GET /users/:id')[0] !== '/users/7') throw new Error('the path was not recorded');
    return growth;
  } finally {
    metrics.close();
  }
}

const inChild = process.env.ROUTELENS_RECORDING_CHILD === '1' && isMainThread;
if (inChild) process.stdout.write(JSON.stringify(measure()));
else describe('recording a sample (MetricsCore.record)', () => {
  it(`allocates nothing over ${SAMPLES} samples in a steady state`, function () {
    this.timeout(60_000);
    const child = spawnSync(process.execPath, ['--import', 'tsx', __filename], { env: { ...process.env, ROUTELENS_RECORDING_CHILD: '1' }, encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    const growth = JSON.parse(child.stdout) as number[];
    // A GC inside a window would make its figure negative; one object per sample makes every
    // window grow by ≥ 16 bytes × WINDOW. Under a byte per sample: what reading the heap costs.
    const grew = growth.filter((bytes) => bytes >= WINDOW);
    assert.ok(grew.length <= 1, `the heap grew by ${growth.join(', ')} bytes over windows of ${WINDOW} samples`);
  });
});
