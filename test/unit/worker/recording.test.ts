/**
 * Recording a request's sample with the agent's worker allocates nothing in a steady state: the
 * main thread's `FrontRecorder.record` (the endpoint's lookup in the light registry and one record
 * into the shared ring) is called 100k times, in windows of WINDOW samples that fit the ring (the
 * worker's drain runs between windows, here in the same thread), and the heap's used size does not
 * move across a window. A change that puts work back on the main thread's request path (an object,
 * a message, a string per sample) fails here. The recorded paths are on, and every answer of the
 * route with a parameter has a new path: a message per sample would fail here too. It runs in a child
 * process of its own, as test/unit/metrics/recording.test.ts does.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { isMainThread } from 'node:worker_threads';
import type { RequestSample } from '../../../agent/internal';
import { Diagnostics, silentLogger } from '../../../agent/log';
import { FrontRecorder } from '../../../agent/worker/link';
import { RingReader, RingWriter, allocateRing } from '../../../agent/worker/ring';
import type { ToWorker } from '../../../agent/worker/wire';

const SAMPLES = 100_000;
/** Samples per measured window: fewer than the ring holds, so the writer never spills inside one. */
const WINDOW = 4_000;

function recordMany(recorder: FrontRecorder, samples: RequestSample[], n: number): void {
  for (let i = 0; i < n; i++) recorder.record(samples[i & 3]!);
}

/** The heap's growth over each window, the samples the reader saw, and the messages posted in the measured windows. */
function measure(): { growth: number[]; read: number; posted: string[] } {
  const memory = allocateRing();
  const reader = new RingReader(memory);
  let posted: ToWorker[] = [];
  const recorder = new FrontRecorder(new RingWriter(memory), (m) => posted.push(m), new Diagnostics(silentLogger), 2000, 1000, true);
  recorder.registerRoute({ method: 'GET', route: '/users/:id' });
  recorder.registerRoute({ method: 'POST', route: '/orders' });
  const sample = (method: string, route: string | undefined, status: number): RequestSample => ({ method, route, status, duration: 0.25 + status / 100, aborted: false, threw: false, url: '/users/7?token=secret', requestId: 'r', start: 0 });
  // Every 2xx answer of the route with a parameter has a path not seen before (a new id each time),
  // read on demand as the middleware's samples do; made beforehand, so the test's own strings are
  // not in the measured windows.
  const urls = Array.from({ length: (2 * SAMPLES) / 4 }, (_, i) => `/users/${i}`);
  let next = 0;
  class NewPathEachTime implements RequestSample {
    method = 'GET';
    route = '/users/:id';
    status = 200;
    duration = 2.25;
    aborted = false;
    threw = false;
    requestId = 'r';
    start = 0;
    get url(): string {
      return urls[next++ % urls.length]!;
    }
  }
  const samples = [new NewPathEachTime(), sample('POST', '/orders', 201), sample('GET', '/users/:id', 503), sample('GET', undefined, 404)];
  let read = 0;
  const drain = (): void => void reader.drain(() => read++);
  // Warm-up: every endpoint exists, its path is sent, the code is optimised.
  for (let done = 0; done < SAMPLES; done += WINDOW) {
    recordMany(recorder, samples, WINDOW);
    drain();
  }
  posted = [];
  const growth: number[] = [];
  for (let done = 0; done < SAMPLES; done += WINDOW) {
    drain();
    const before = process.memoryUsage().heapUsed;
    recordMany(recorder, samples, WINDOW);
    growth.push(process.memoryUsage().heapUsed - before);
  }
  drain();
  return { growth, read, posted: posted.map((m) => m.t) };
}

const inChild = process.env.ROUTELENS_RING_CHILD === '1' && isMainThread;
if (inChild) process.stdout.write(JSON.stringify(measure()));
else describe('recording a sample with the worker (FrontRecorder.record)', () => {
  it(`allocates nothing and posts at most a sampled path now and then over ${SAMPLES} samples in a steady state; every sample reaches the ring`, function () {
    this.timeout(60_000);
    const child = spawnSync(process.execPath, ['--import', 'tsx', __filename], { env: { ...process.env, ROUTELENS_RING_CHILD: '1' }, encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    const { growth, read, posted } = JSON.parse(child.stdout) as ReturnType<typeof measure>;
    assert.equal(read, 2 * SAMPLES);
    // At most one path in MAX_PATH_EVERY (256) answers once the route has sent its first few.
    assert.ok(posted.every((t) => t === 'path') && posted.length <= SAMPLES / 4 / 256 + 1, `posted ${posted.length}: ${posted.slice(0, 5).join(', ')}…`);
    // One object per sample makes every window grow by ≥ 16 bytes × WINDOW; under a byte per sample is what reading the heap costs.
    const grew = growth.filter((bytes) => bytes >= WINDOW);
    assert.ok(grew.length <= 1, `the heap grew by ${growth.join(', ')} bytes over windows of ${WINDOW} samples`);
  });
});
