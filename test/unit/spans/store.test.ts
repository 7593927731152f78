import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { resolveOptions } from '../../../agent/options';
import { Diagnostics, silentLogger } from '../../../agent/log';
import type { RequestSample } from '../../../agent/internal';
import { TraceBuffer } from '../../../agent/spans/recorder';
import { MAX_ROUTES, MAX_TOTAL_SUMMARIES, SpanKeeper, slowestFlat, stillSlowest, withSlowest } from '../../../agent/spans/keep';
import { FIRST_PER_ROUTE, SpanRecorder } from '../../../agent/spans/store';

const diag = new Diagnostics(silentLogger);

describe('SpanRecorder sampling', () => {
  it('traces the first requests of each route, then at most `sample` per second', () => {
    const r = new SpanRecorder({ sample: 2, maxSpansPerRequest: 10 }, diag);
    const admitted = Array.from({ length: FIRST_PER_ROUTE + 50 }, () => r.admit('GET', '/a')).filter(Boolean).length;
    assert.ok(admitted >= FIRST_PER_ROUTE && admitted <= FIRST_PER_ROUTE + 2, String(admitted));
    // Another route has its own budget.
    assert.equal(r.admit('GET', '/b'), true);
    assert.equal(r.sampled, true);
  });
  it("traces every request with sample 'all'", () => {
    const r = new SpanRecorder({ sample: 'all', maxSpansPerRequest: 10 }, diag);
    assert.ok(Array.from({ length: 500 }, () => r.admit('GET', '/a')).every(Boolean));
    assert.equal(r.sampled, false);
  });
  it(`keeps the state of at most ${MAX_ROUTES} routes over every method; a method and a route are one route only together`, () => {
    const r = new SpanRecorder({ sample: 'all', maxSpansPerRequest: 10 }, diag);
    for (let i = 0; i < MAX_ROUTES / 2; i++) {
      assert.equal(r.admit('GET', `/r${i}`), true);
      assert.equal(r.admit('POST', `/r${i}`), true);
    }
    assert.equal(r.admit('PUT', '/r0'), false);
    assert.equal(r.admit('GET', '/new'), false);
    assert.equal(r.admit('GET', '/r0'), true);
  });
});

describe('the slowest traces of a route', () => {
  it('the recorder (durations and ends, flat) and the keeper (traces) keep the same ones, through entries, ties and expiry', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    let flat: readonly number[] = [];
    let objects: Array<{ durationMs: number; end: number; n: number }> = [];
    let now = 0;
    for (let n = 0; n < 5000; n++) {
      now += Math.floor(random() * 20_000);
      const durationMs = Math.floor(random() * 50) / 2; // ties are common
      flat = slowestFlat.still(flat, now);
      objects = stillSlowest(objects, now, (t) => t.end);
      const enters = slowestFlat.enters(flat, durationMs);
      const item = { durationMs, end: now, n };
      const kept = withSlowest(objects, item);
      // the recorder's decision is the keeper's: the trace it keeps is one the keeper's list holds
      assert.equal(enters, kept.includes(item), `request ${n}`);
      if (enters) {
        flat = slowestFlat.with(flat, durationMs, now);
        objects = kept;
      }
      assert.deepEqual([...flat], objects.flatMap((t) => [t.durationMs, t.end]), `request ${n}`);
    }
  });
});

describe('SpanKeeper memory', () => {
  it(`keeps at most ${MAX_TOTAL_SUMMARIES} request summaries over all routes; the route holding the most gives up its oldest`, () => {
    let now = 1_700_000_000_000;
    const r = new SpanRecorder({ sample: 'all', maxSpansPerRequest: 10 }, diag, () => now);
    const keeper = new SpanKeeper(false, () => now);
    r.keepInto(keeper);
    const finish = (route: string) => {
      const sample = { method: 'GET', route, status: 200, duration: 1, aborted: false, threw: false, url: route, requestId: 'r', start: now, trace: new TraceBuffer(r, 0) } as RequestSample & { trace: TraceBuffer };
      r.finish(sample);
      now += 1;
    };
    // 100 routes × 300 requests: 30,000 summaries offered, each route under the per-route bound.
    for (let k = 0; k < 300; k++) for (let i = 0; i < 100; i++) finish(`/r${i}`);
    const counts = Array.from({ length: 100 }, (_, i) => keeper.breakdown(`GET /r${i}`, 'all', 0).traced);
    assert.equal(counts.reduce((a, b) => a + b, 0), MAX_TOTAL_SUMMARIES);
    assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `shares ${Math.min(...counts)}–${Math.max(...counts)}`);
    // A new route still gets its summaries, taken from the routes holding the most.
    for (let k = 0; k < 50; k++) finish('/new');
    assert.equal(keeper.breakdown('GET /new', 'all', 0).traced, 50);
  });
});

describe('SpanRecorder hands over what it keeps', () => {
  it('holds no trace or summary once the keeper has it: they live with the back end, not in the app’s heap', async () => {
    let now = 1_700_000_000_000;
    const r = new SpanRecorder({ sample: 'all', maxSpansPerRequest: 10 }, diag, () => now);
    const handed: Array<WeakRef<object>> = [];
    let traces = 0;
    r.keepInto({
      keep: (t) => {
        handed.push(new WeakRef(t.summary));
        if (t.trace) {
          traces++;
          handed.push(new WeakRef(t.trace));
        }
      },
    });
    for (let i = 0; i < 40; i++) {
      const sample = { method: 'GET', route: `/r${i % 4}`, status: 200, duration: 1 + (i % 7), aborted: false, threw: false, url: '/', requestId: `q${i}`, start: now, trace: new TraceBuffer(r, 0) } as RequestSample & { trace: TraceBuffer };
      r.finish(sample);
      now += 400;
    }
    assert.ok(traces >= 20, `slowest and recent traces were handed over (${traces})`);
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    assert.equal(handed.filter((w) => w.deref() !== undefined).length, 0);
  });
});

describe('the spans option', () => {
  it('is on and sampled by default, off with false, every request with ROUTELENS_SPANS=1', () => {
    assert.deepEqual(resolveOptions({}, {}).spans, { sample: 2, maxSpansPerRequest: 200 });
    assert.equal(resolveOptions({ spans: false }, {}).spans, false);
    assert.deepEqual(resolveOptions({ spans: { maxSpansPerRequest: 50 } }, { ROUTELENS_SPANS: '1' }).spans, { sample: 'all', maxSpansPerRequest: 50 });
    assert.equal(resolveOptions({}, { ROUTELENS_SPANS: '0' }).spans, false);
  });
  it('warns about an unusable ROUTELENS_SPANS and refuses a bad option', () => {
    assert.equal(resolveOptions({}, { ROUTELENS_SPANS: 'lots' }).warnings[0]?.code, 'ROUTELENS_WARN_INVALID_ENV');
    assert.throws(() => resolveOptions({ spans: { sample: -1 } }, {}), /spans\.sample/);
    assert.throws(() => resolveOptions({ spans: { samples: 1 } as never }, {}), /sample/);
  });
  it('sends X-Request-Id unless requestIdHeader is false', () => {
    assert.equal(resolveOptions({}, {}).requestIdHeader, true);
    assert.equal(resolveOptions({ requestIdHeader: false }, {}).requestIdHeader, false);
  });
});
