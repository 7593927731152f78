import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { HISTOGRAM_BOUNDS, MAX_CUSTOM_NAME, type MetricsCore, OVERFLOW_ID, createMetrics } from '../../../agent/metrics';
import type { MetricsChanges, MetricsCursor, RequestSample } from '../../../agent/internal';
import type { LatencySummary } from '../../../protocol';
import { Diagnostics, silentLogger } from '../../../agent/log';
import { LatencyAccumulator, binKey } from '../../../agent/metrics/summary';
import { seededRandom } from '../../support/random';

const T0 = 1_800_000_000_000; // a multiple of 60 s, so slot boundaries are predictable

function setup(opts: { maxEndpoints?: number; slowRingSize?: number } = {}) {
  let now = T0;
  const diag = new Diagnostics(silentLogger);
  const m = createMetrics({ clock: () => now, diag, systemIntervalMs: 0, ...opts });
  return {
    m,
    diag,
    advance(ms: number) {
      now += ms;
    },
    get now() {
      return now;
    },
  };
}

/** A reader of the change feed from the very start: each call returns what changed since its previous call. */
function feedReader(m: MetricsCore): () => MetricsChanges {
  let cursor: MetricsCursor = { revision: 0, slow: 0, system: 0 };
  return () => {
    const changes = m.changesSince(cursor);
    cursor = changes.cursor;
    return changes;
  };
}

function sample(over: Partial<RequestSample> = {}): RequestSample {
  return { method: 'GET', route: '/a', status: 200, duration: 10, aborted: false, threw: false, url: '/a', requestId: 'r1', start: T0, ...over };
}

function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

describe('metrics', () => {
  let ctx: ReturnType<typeof setup>;
  let m: MetricsCore;
  beforeEach(() => {
    ctx = setup();
    m = ctx.m;
  });
  afterEach(() => m.close());

  describe('percentiles (DDSketch)', () => {
    it('p50/p95/p99 are within 1% of the exact percentiles on a log-normal distribution, lifetime and windows', () => {
      const rand = seededRandom(42);
      const values: number[] = [];
      for (let i = 0; i < 50_000; i++) {
        // log-normal around 40 ms with a long tail (Box–Muller)
        const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
        const v = Math.exp(Math.log(40) + 0.9 * z);
        values.push(v);
        m.record(sample({ duration: v }));
        if (i % 5000 === 4999) ctx.advance(1000); // spread over several 10 s slots, all inside 1m
      }
      const sorted = [...values].sort((a, b) => a - b);
      const e = m.endpoint('GET /a')!;
      for (const summary of [e, e.windows['1m'], e.windows['5m'], e.windows.all]) {
        assert.equal(summary.count, 50_000);
        for (const [q, got] of [
          [0.5, summary.p50],
          [0.95, summary.p95],
          [0.99, summary.p99],
        ] as const) {
          const want = exactQuantile(sorted, q);
          assert.ok(Math.abs(got - want) / want <= 0.01, `p${q * 100}: ${got} vs exact ${want}`);
        }
      }
      assert.equal(e.min, Math.round(sorted[0]! * 1000) / 1000);
      assert.equal(e.max, Math.round(sorted.at(-1)! * 1000) / 1000);
      const avg = values.reduce((a, b) => a + b, 0) / values.length;
      assert.ok(Math.abs(e.avg - avg) < 0.01);
    });

    it('fills every EndpointStats field, and `windows.all` equals the top-level figures', () => {
      m.registerRoute({ method: 'GET', route: '/a', location: { file: '/app.js', line: 3, column: 5 }, handlerLocation: { file: '/h.js', line: 9, column: 1 } });
      m.record(sample({ duration: 3, status: 200 }));
      m.record(sample({ duration: 30, status: 404 }));
      m.record(sample({ duration: 300, status: 503 }));
      m.record(sample({ duration: 40, status: 200, threw: true }));
      m.record(sample({ duration: 45, status: 0, threw: true }));
      m.record(sample({ duration: 50, status: 0, aborted: true }));
      const e = m.endpoint('GET /a')!;
      assert.equal(e.id, 'GET /a');
      assert.equal(e.method, 'GET');
      assert.equal(e.route, '/a');
      assert.equal(e.kind, 'route');
      assert.equal(e.count, 6);
      assert.equal(e.errors, 2, 'the 503 and the request that failed without a response; a 200 sent after a throw is not an error');
      assert.equal(e.aborted, 1, 'aborted is counted apart, not as an error');
      assert.deepEqual(e.statusCodes, { '2xx': 2, '4xx': 1, '5xx': 1 });
      assert.deepEqual(e.location, { file: '/app.js', line: 3, column: 5 });
      assert.deepEqual(e.handlerLocation, { file: '/h.js', line: 9, column: 1 });
      assert.equal(e.lastSeen, ctx.now);
      assert.equal(e.min, 3);
      assert.equal(e.max, 300);
      const { id, method, route, kind, statusCodes, windows, rate, location, handlerLocation, lastSeen, histogram, ...top } = e;
      void [id, method, route, kind, statusCodes, rate, location, handlerLocation, lastSeen];
      assert.deepEqual(windows.all, top);
      assert.deepEqual(windows['1m'], top);
      assert.deepEqual(windows['5m'], top);
      assert.equal(histogram!.bounds.length, histogram!.counts.length);
      assert.equal(histogram!.bounds.length, HISTOGRAM_BOUNDS.length);
      assert.equal(histogram!.counts.reduce((a, b) => a + b, 0), 6);
      // 3 ms falls in (2, 5], 300 ms in (250, 500]
      assert.equal(histogram!.counts[HISTOGRAM_BOUNDS.indexOf(5)], 1);
      assert.equal(histogram!.counts[HISTOGRAM_BOUNDS.indexOf(500)], 1);
      assert.ok(JSON.stringify(e).length < 4000, 'serialises, compactly');
    });
  });

  describe('windows', () => {
    it('slide out with the clock: 1m empties after ~70 s, 5m after ~6 min, lifetime stays', () => {
      m.record(sample({ duration: 100 }));
      ctx.advance(30_000);
      m.record(sample({ duration: 200 }));
      let e = m.endpoint('GET /a')!;
      assert.equal(e.windows['1m'].count, 2);
      assert.equal(e.rate, Math.round((2 / 30) * 1000) / 1000, 'rate over the time since start while younger than a minute');

      ctx.advance(45_000); // 75 s after the first sample, 45 s after the second
      e = m.endpoint('GET /a')!;
      assert.equal(e.windows['1m'].count, 1);
      assert.equal(e.windows['1m'].p50, 200);
      assert.equal(e.windows['5m'].count, 2);

      ctx.advance(60_000);
      e = m.endpoint('GET /a')!;
      assert.deepEqual(e.windows['1m'], { count: 0, errors: 0, aborted: 0, min: 0, avg: 0, max: 0, p50: 0, p95: 0, p99: 0 });
      assert.equal(e.rate, 0);
      assert.equal(e.windows['5m'].count, 2);

      ctx.advance(6 * 60_000);
      e = m.endpoint('GET /a')!;
      assert.equal(e.windows['5m'].count, 0);
      assert.equal(e.histogram!.counts.reduce((a, b) => a + b, 0), 0);
      assert.equal(e.count, 2, 'lifetime keeps everything');
      assert.equal(e.max, 200);
      assert.ok(Math.abs(e.p50 - 100) <= 1, 'lower nearest rank, within 1%');
    });

    it('read between samples as the clock moves on, the windows hold exactly the samples of their slots', () => {
      const random = seededRandom(7);
      const seen: Array<{ t: number; d: number }> = [];
      const summaryOf = (from: number, to: number) => {
        const ds = seen.filter((x) => x.t >= from && x.t < to).map((x) => x.d);
        const acc = new LatencyAccumulator();
        for (const d of ds) acc.add(d, binKey(d), 0);
        return acc.summary();
      };
      for (let step = 0; step < 400; step++) {
        // Forward by up to 4 s, now and then by a minute.
        ctx.advance(random() < 0.05 ? 60_000 : Math.floor(random() * 4000));
        const d = 1 + Math.floor(random() * 500) / 10;
        m.record(sample({ duration: d }));
        seen.push({ t: ctx.now, d });
        if (random() < 0.3) {
          const e = m.endpoint('GET /a')!;
          const fine = Math.floor(ctx.now / 10_000);
          const coarse = Math.floor(ctx.now / 60_000);
          // The same figures; the average's last digit may differ with the order of the sums.
          const same = (got: LatencySummary, want: LatencySummary, label: string) => {
            assert.deepEqual({ ...got, avg: 0 }, { ...want, avg: 0 }, label);
            assert.ok(Math.abs(got.avg - want.avg) < 0.0015, `${label}: avg ${got.avg}, ${want.avg}`);
          };
          same(e.windows['1m'], summaryOf((fine - 6) * 10_000, (fine + 1) * 10_000), `1m at step ${step}`);
          same(e.windows['5m'], summaryOf((coarse - 5) * 60_000, (coarse + 1) * 60_000), `5m at step ${step}`);
        }
      }
    });

    it('reuses slots: a ring slot from an earlier lap does not leak into the window', () => {
      m.record(sample({ duration: 999 }));
      ctx.advance(70_000); // exactly 7 fine slots later: the same ring index
      m.record(sample({ duration: 1 }));
      const e = m.endpoint('GET /a')!;
      assert.equal(e.windows['1m'].count, 1);
      assert.equal(e.windows['1m'].max, 1);
    });

    it('rate is requests per second over the last minute', () => {
      ctx.advance(120_000); // the process is older than a minute
      for (let s = 0; s < 60; s++) {
        for (let k = 0; k < 5; k++) m.record(sample());
        ctx.advance(1000);
      }
      const e = m.endpoint('GET /a')!;
      assert.ok(e.rate > 4 && e.rate <= 5.01, `rate ${e.rate}`);
      const sys = m.system();
      assert.ok(sys.requestsPerSecond > 4 && sys.requestsPerSecond <= 5.01, `rps ${sys.requestsPerSecond}`);
    });

    it('alertEndpoints gives every endpoint its 1m figures, location and kind as endpoints() has them, kept current as samples arrive and the window slides', () => {
      const location = { file: '/app/routes.js', line: 3, column: 5 };
      m.registerRoute({ method: 'GET', route: '/a', location });
      m.registerRoute({ method: 'GET', route: '/idle' });
      const same = () => {
        const full = new Map(m.endpoints().map((e) => [e.id, e]));
        const light = m.alertEndpoints();
        assert.deepEqual(light.map((e) => e.id).sort(), [...full.keys()].sort());
        for (const e of light) {
          const f = full.get(e.id)!;
          assert.deepEqual([e.kind, e.location, e.handlerLocation], [f.kind, f.location, f.handlerLocation]);
          const w = f.windows['1m'];
          assert.deepEqual([e.windows['1m'].count, e.windows['1m'].errors, e.windows['1m'].p95], [w.count, w.errors, w.p95], e.id);
        }
        return new Map(light.map((e) => [e.id, e.windows['1m']]));
      };
      for (let i = 1; i <= 20; i++) m.record(sample({ duration: i * 10, status: i % 5 === 0 ? 500 : 200 }));
      assert.deepEqual(same().get('GET /a'), { ...m.endpoint('GET /a')!.windows['1m'] });
      assert.equal(same().get('GET /a')!.errors, 4);
      ctx.advance(30_000);
      m.record(sample({ duration: 5000 }));
      assert.equal(same().get('GET /a')!.count, 21, 'a new sample is seen at once');
      ctx.advance(45_000);
      assert.equal(same().get('GET /a')!.count, 1, 'the first 20 left the window');
      assert.equal(same().get('GET /idle')!.count, 0);
    });

    it('changesSince returns only endpoints changed after the cursor, and again when a window slides', () => {
      const read = feedReader(m);
      m.registerRoute({ method: 'GET', route: '/a' });
      m.registerRoute({ method: 'GET', route: '/b' });
      const changed = () => read().endpoints;
      assert.deepEqual(changed().map((e) => e.id).sort(), ['GET /a', 'GET /b'], 'new registrations are sent once');
      assert.deepEqual(changed(), []);
      m.record(sample());
      m.record(sample());
      const after = changed();
      assert.deepEqual(after.map((e) => e.id), ['GET /a']);
      assert.equal(after[0]!.count, 2);
      assert.deepEqual(changed(), []);
      ctx.advance(10_000);
      assert.deepEqual(changed().map((e) => e.id), ['GET /a'], 'its window moved');
      assert.deepEqual(changed(), []);
      ctx.advance(7 * 60_000);
      assert.equal(changed()[0]!.windows['5m'].count, 0, 'sent once more when its data left the 5m window');
      ctx.advance(10_000);
      assert.deepEqual(changed(), [], 'then no longer');
    });

    it('readers are independent: reading consumes nothing, each sees every change after its own cursor', () => {
      const first = feedReader(m);
      m.record(sample());
      const second = feedReader(m);
      assert.deepEqual(first().endpoints.map((e) => e.id), ['GET /a']);
      assert.deepEqual(first().endpoints, [], 'nothing new for the first');
      assert.deepEqual(second().endpoints.map((e) => [e.id, e.count]), [['GET /a', 1]], 'the first read took nothing from the second');
      m.record(sample({ route: '/b' }));
      const late = m.cursor();
      m.record(sample({ route: '/c' }));
      assert.deepEqual(m.changesSince(late).endpoints.map((e) => e.id), ['GET /c'], 'a cursor opened now sees only later changes');
      assert.deepEqual(first().endpoints.map((e) => e.id), ['GET /b', 'GET /c']);
      assert.deepEqual(second().endpoints.map((e) => e.id), ['GET /b', 'GET /c']);
      assert.deepEqual(m.changesSince(late).endpoints.map((e) => e.id), ['GET /c'], 'the same cursor reads the same changes again');
    });

    it('keeps its change log bounded however many reads and samples, and a reader far behind still gets each endpoint once', () => {
      const behind = feedReader(m);
      const busy = feedReader(m);
      for (let i = 0; i < 5_000; i++) {
        m.record(sample({ route: `/r${i % 10}` }));
        busy();
      }
      const ids = behind().endpoints.map((e) => e.id);
      assert.equal(ids.length, 10);
      assert.equal(new Set(ids).size, 10);
      const log = (m as unknown as { changes: { endpoints: unknown[] } }).changes.endpoints;
      assert.ok(log.length <= 2 * 10 + 64 + 1, `${log.length} log entries for 10 endpoints`);
    });
  });

  describe('keys and cardinality', () => {
    it('registerRoute: a later report of the same registration adds the handler location (found off the request path)', () => {
      const site = { file: '/app/server.js', line: 10, column: 5 };
      const handler = { file: '/app/routes/users.js', line: 3, column: 1 };
      m.registerRoute({ method: 'GET', route: '/users/:id', location: site });
      const since = m.cursor();
      m.registerRoute({ method: 'GET', route: '/users/:id', location: site, handlerLocation: handler });
      assert.deepEqual(m.endpoint('GET /users/:id')!.handlerLocation, handler);
      assert.deepEqual(m.changesSince(since).endpoints.map((e) => e.id), ['GET /users/:id'], 'the change is streamed');
      // A second registration elsewhere never overrides the first one's sites.
      m.registerRoute({ method: 'GET', route: '/users/:id', location: { file: '/app/other.js', line: 1, column: 1 }, handlerLocation: { file: '/x.js', line: 1, column: 1 } });
      assert.deepEqual(m.endpoint('GET /users/:id')!.location, site);
      assert.deepEqual(m.endpoint('GET /users/:id')!.handlerLocation, handler);
    });

    it('maps unknown methods to _OTHER and keeps Node-known ones', () => {
      m.record(sample({ method: 'FOO' }));
      m.record(sample({ method: 'get' }));
      m.record(sample({ method: '' }));
      m.record(sample({ method: undefined as unknown as string }));
      m.record(sample({ method: 'PROPFIND' }));
      m.record(sample({ method: 'PATCH' }));
      const ids = m.endpoints().map((e) => e.id).sort();
      assert.deepEqual(ids, ['PATCH /a', 'PROPFIND /a', '_OTHER /a']);
      assert.equal(m.endpoint('_OTHER /a')!.count, 4);
    });

    it('puts samples without a route into one unmatched bucket per method', () => {
      for (let i = 0; i < 100; i++) m.record(sample({ route: undefined, url: `/nope/${i}` }));
      m.record(sample({ method: 'POST', route: undefined }));
      const e = m.endpoint('GET (unmatched)')!;
      assert.equal(e.kind, 'unmatched');
      assert.equal(e.route, '(unmatched)');
      assert.equal(e.count, 100);
      assert.equal(m.endpoint('POST (unmatched)')!.count, 1);
      assert.equal(m.endpoints().length, 2);
    });

    it('registerRoute: count 0, the first location wins, ALL routes keep method ALL and receive their requests', () => {
      m.registerRoute({ method: 'GET', route: '/u/:id', location: { file: '/a.js', line: 1, column: 1 } });
      m.registerRoute({ method: 'GET', route: '/u/:id', location: { file: '/b.js', line: 2, column: 2 } });
      m.registerRoute({ method: 'ALL', route: '/any' });
      let e = m.endpoint('GET /u/:id')!;
      assert.equal(e.count, 0);
      assert.equal(e.lastSeen, 0);
      assert.deepEqual(e.location, { file: '/a.js', line: 1, column: 1 });
      m.record(sample({ method: 'POST', route: '/any' }));
      m.record(sample({ method: 'GET', route: '/any' }));
      m.record(sample({ method: 'HEAD', route: '/u/:id' }));
      const head = m.endpoint('HEAD /u/:id')!;
      assert.equal(head.count, 1, 'HEAD is measured apart from GET');
      assert.deepEqual(head.location, { file: '/a.js', line: 1, column: 1 }, 'but points at the GET route Express ran');
      m.reset();
      assert.equal(m.endpoint('HEAD /u/:id'), undefined);
      m.record(sample({ method: 'POST', route: '/any' }));
      m.record(sample({ method: 'GET', route: '/any' }));
      e = m.endpoint('ALL /any')!;
      assert.equal(e.method, 'ALL');
      assert.equal(e.count, 2);
      assert.equal(m.endpoints().length, 2);
    });

    it('caps endpoints under 100k random /users/<uuid> requests, random 404s and random templates; memory levels off', function () {
      this.timeout(60_000);
      const c = setup({ maxEndpoints: 200 });
      const mm = c.m;
      try {
        v8.setFlagsFromString('--expose-gc');
        const gc = runInNewContext('gc') as () => void;
        mm.registerRoute({ method: 'GET', route: '/users/:id' });
        let folded = 0;
        const batch = (n: number) => {
          for (let i = 0; i < n; i++) {
            const id = randomUUID();
            const r = i % 4;
            if (r === 0) mm.record(sample({ route: '/users/:id', url: `/users/${id}` }));
            else if (r === 1) mm.record(sample({ route: undefined, url: `/${id}/${'x'.repeat(i % 300)}` }));
            else if (r === 2) mm.record(sample({ method: `X${id}`, route: undefined, url: `/${id}` }));
            else mm.record(sample({ route: `/buggy/${id}`, url: `/buggy/${id}?token=${id}`, duration: (i % 2000) + 1 }));
            if (i % 10 === 0) mm.recordCustom(`job-${id}`, i % 50, false);
            if (i % 10_000 === 0) c.advance(10_000);
          }
        };
        batch(100_000);
        const eps = mm.endpoints();
        assert.ok(eps.length <= 201, `${eps.length} endpoints`);
        assert.equal(mm.endpoint('GET /users/:id')!.count, 25_000, 'keyed by the route template');
        assert.equal(mm.endpoint('GET (unmatched)')!.count, 25_000, 'random 404s in one bucket');
        assert.equal(mm.endpoint('_OTHER (unmatched)')!.count, 25_000, 'unknown methods as _OTHER');
        const overflow = mm.endpoint(OVERFLOW_ID)!;
        assert.equal(overflow.kind, 'overflow');
        const total = 100_000 + 10_000;
        folded = total - eps.filter((e) => e.kind !== 'overflow').reduce((n, e) => n + e.count, 0);
        assert.ok(folded > 25_000, 'buggy templates and custom names beyond the cap were folded');
        assert.equal(overflow.count, folded);
        assert.equal(mm.droppedEndpoints(), folded, 'droppedEndpoints counts folded samples');
        assert.equal(mm.slowRequests().length, 100, 'the slow ring is bounded');
        assert.ok(mm.slowRequests().every((r) => !r.path.includes('token=') || r.path.endsWith('token=*')));

        gc();
        const before = process.memoryUsage().heapUsed;
        batch(200_000);
        mm.endpoints();
        gc();
        const growth = process.memoryUsage().heapUsed - before;
        assert.ok(growth < 8 * 1024 * 1024, `heap grew ${(growth / 1048576).toFixed(1)} MiB over 200k more samples`);
        assert.ok(mm.endpoints().length <= 201);
      } finally {
        mm.close();
      }
    });

    it('registered routes count toward the cap; registrations beyond it are refused with one warning', () => {
      const warnings: string[] = [];
      const diag = new Diagnostics({ warn: (w) => warnings.push(w), error() {} });
      const mm = createMetrics({ maxEndpoints: 3, diag, systemIntervalMs: 0 });
      try {
        for (let i = 0; i < 5; i++) mm.registerRoute({ method: 'GET', route: `/r${i}` });
        assert.deepEqual(mm.endpoints().map((e) => e.id), ['GET /r0', 'GET /r1', 'GET /r2']);
        assert.equal(warnings.length, 1);
        mm.record(sample({ route: '/r4' }));
        assert.equal(mm.endpoint(OVERFLOW_ID)!.count, 1);
        assert.equal(mm.droppedEndpoints(), 1);
      } finally {
        mm.close();
      }
    });
  });

  describe('reset', () => {
    it('reset() zeroes everything, keeps registrations with their locations, removes the rest', () => {
      m.registerRoute({ method: 'GET', route: '/a', location: { file: '/a.js', line: 1, column: 1 } });
      m.record(sample());
      m.record(sample({ route: '/seen-only' }));
      m.record(sample({ route: undefined }));
      m.recordCustom('job', 5, false);
      m.record(sample({ duration: 2000 }));
      const since = m.cursor();
      assert.equal(m.reset(), 4);
      const eps = m.endpoints();
      assert.deepEqual(eps.map((e) => e.id), ['GET /a']);
      assert.equal(eps[0]!.count, 0);
      assert.equal(eps[0]!.windows['1m'].count, 0);
      assert.equal(eps[0]!.windows['5m'].count, 0);
      assert.deepEqual(eps[0]!.statusCodes, {});
      assert.deepEqual(eps[0]!.location, { file: '/a.js', line: 1, column: 1 });
      assert.deepEqual(m.slowRequests(), []);
      assert.equal(m.system().requestsPerSecond, 0);
      const changes = m.changesSince(since);
      assert.deepEqual(changes.removedEndpoints.sort(), ['CUSTOM job', 'GET (unmatched)', 'GET /seen-only']);
      assert.deepEqual(changes.endpoints.map((e) => e.id), ['GET /a']);
    });

    it('reset(id) resets one endpoint and answers 1, or 0 for an unknown id', () => {
      m.registerRoute({ method: 'GET', route: '/a' });
      m.record(sample());
      m.record(sample({ route: '/b' }));
      const since = m.cursor();
      assert.equal(m.reset('GET /a'), 1);
      assert.equal(m.endpoint('GET /a')!.count, 0);
      assert.equal(m.endpoint('GET /b')!.count, 1);
      assert.equal(m.reset('GET /b'), 1);
      assert.equal(m.endpoint('GET /b'), undefined);
      assert.deepEqual(m.changesSince(since).removedEndpoints, ['GET /b']);
      assert.equal(m.reset('GET /nope'), 0);
      m.record(sample({ route: '/b' }));
      assert.equal(m.endpoint('GET /b')!.count, 1, 'comes back with new requests');
      const back = m.changesSince(since);
      assert.deepEqual(back.removedEndpoints, [], 'an endpoint that came back is not reported removed');
      assert.deepEqual(back.endpoints.map((e) => [e.id, e.count]), [['GET /a', 0], ['GET /b', 1]]);
    });

    it('samples queued before a reset do not reappear after it', () => {
      m.registerRoute({ method: 'GET', route: '/a' });
      for (let i = 0; i < 10; i++) m.record(sample());
      m.reset('GET /a');
      assert.equal(m.endpoint('GET /a')!.count, 0);
    });
  });

  describe('slow requests', () => {
    it('keeps a bounded ring, newest first, with severities from the thresholds', () => {
      const c = setup({ slowRingSize: 5 });
      try {
        const read = feedReader(c.m);
        const fresh = () => read().slowRequests;
        c.m.record(sample({ duration: 999 }));
        assert.deepEqual(c.m.slowRequests(), [], 'under slowMs.info');
        for (let i = 0; i < 20; i++) c.m.record(sample({ duration: 1000 + i, requestId: `r${i}` }));
        const slow = c.m.slowRequests();
        assert.deepEqual(slow.map((s) => s.requestId), ['r19', 'r18', 'r17', 'r16', 'r15']);
        c.m.record(sample({ duration: 5000, requestId: 'w' }));
        c.m.record(sample({ duration: 10_000, requestId: 'c' }));
        assert.deepEqual(fresh().map((s) => [s.requestId, s.severity]), [
          ['c', 'critical'],
          ['w', 'warning'],
          ['r19', 'info'],
          ['r18', 'info'],
          ['r17', 'info'],
        ]);
        assert.deepEqual(fresh(), []);
        c.m.record(sample({ duration: 1500, requestId: 'n' }));
        assert.deepEqual(fresh().map((s) => s.requestId), ['n']);
        c.m.setSlowThresholds({ info: 100, warning: 200, critical: 300 });
        c.m.record(sample({ duration: 250, requestId: 'lower' }));
        assert.equal(fresh()[0]!.severity, 'warning');
      } finally {
        c.m.close();
      }
    });

    it('slowSince(position): what came after it, newest first, and how many already left the ring', () => {
      const c = setup({ slowRingSize: 3 });
      try {
        assert.deepEqual(c.m.slowSince(0), { slowRequests: [], position: 0, missed: 0 });
        for (let i = 0; i < 5; i++) c.m.record(sample({ duration: 1000, requestId: `r${i}` }));
        const first = c.m.slowSince(0);
        assert.deepEqual([first.slowRequests.map((s) => s.requestId), first.position, first.missed], [['r4', 'r3', 'r2'], 5, 2]);
        c.m.record(sample({ duration: 1000, requestId: 'r5' }));
        const next = c.m.slowSince(first.position);
        assert.deepEqual([next.slowRequests.map((s) => s.requestId), next.position, next.missed], [['r5'], 6, 0]);
        assert.deepEqual(c.m.slowSince(first.position).slowRequests.length, 1, 'reading consumes nothing');
      } finally {
        c.m.close();
      }
    });

    it('redacts query values and truncates a 64 KiB URL to 512 characters', () => {
      m.record(sample({ duration: 2000, url: '/s?q=secret&page=2&flag&token=abc', route: '/s', requestId: 'x'.repeat(10_000) }));
      const huge = '/p/' + 'a'.repeat(64 * 1024);
      m.record(sample({ duration: 2000, url: huge }));
      const hugeQuery = '/q?' + Array.from({ length: 5000 }, (_, i) => `k${i}=v${'s'.repeat(20)}`).join('&');
      m.record(sample({ duration: 2000, url: hugeQuery }));
      const [q, p, s] = m.slowRequests();
      assert.equal(s!.path, '/s?q=*&page=*&flag&token=*');
      assert.equal(s!.route, '/s');
      assert.equal(s!.method, 'GET');
      assert.ok(s!.requestId.length <= 128);
      assert.equal(p!.path.length, 512);
      assert.ok(p!.path.endsWith('…'));
      assert.ok(q!.path.length <= 512);
      assert.ok(q!.path.startsWith('/q?k0=*&k1=*&'));
      assert.ok(!q!.path.includes('sss'), 'no value leaks');
    });
  });

  describe('custom timings', () => {
    it('recordCustom makes a CUSTOM endpoint, counts errors, truncates long names, and counts toward the cap', () => {
      m.recordCustom('db.query', 12, false);
      m.recordCustom('db.query', 30, true);
      const e = m.endpoint('CUSTOM db.query')!;
      assert.equal(e.kind, 'custom');
      assert.equal(e.method, 'CUSTOM');
      assert.equal(e.route, 'db.query');
      assert.equal(e.count, 2);
      assert.equal(e.errors, 1);
      assert.equal(e.max, 30);
      m.recordCustom('n'.repeat(1024 * 1024), 1, false);
      m.recordCustom('n'.repeat(1024 * 1024), 1, false);
      const long = m.endpoints().find((x) => x.route.startsWith('nnn'))!;
      assert.equal(long.route.length, MAX_CUSTOM_NAME);
      assert.equal(long.count, 2);
      assert.equal(m.system().requestsPerSecond, 0, 'custom timings are not HTTP requests');

      const c = setup({ maxEndpoints: 2 });
      try {
        for (let i = 0; i < 5; i++) c.m.recordCustom(`t${i}`, 1, false);
        assert.equal(c.m.endpoints().length, 3);
        assert.equal(c.m.droppedEndpoints(), 3);
      } finally {
        c.m.close();
      }
    });
  });

  describe('record() hot path', () => {
    it('never throws on garbage input and counts the failure', () => {
      const bad: unknown[] = [
        null,
        undefined,
        42,
        'GET /',
        { method: 'GET', route: '/g', duration: NaN, status: 'x', url: null, requestId: {} },
        { method: 'GET', route: '/g', duration: -5, status: -1 },
        { method: 'GET', route: '/g', duration: Infinity, status: 1e9, url: 'x'.repeat(1 << 20) },
        { method: 'GET', route: '/g', duration: 1e300, status: 200, url: '/?' + '&'.repeat(100_000) },
        { method: 'GET', route: '/g', duration: 5e-324 },
        { method: 'GET', route: 'r'.repeat(1 << 20), duration: 1 },
        { method: { toString: () => 'GET' }, route: Symbol('x'), duration: 1 },
      ];
      for (const b of bad) assert.doesNotThrow(() => m.record(b as RequestSample));
      assert.doesNotThrow(() => m.recordCustom(null as unknown as string, NaN, 'yes' as unknown as boolean));
      assert.doesNotThrow(() => m.registerRoute(null as unknown as never));
      const g = m.endpoint('GET /g')!;
      assert.equal(g.count, 5);
      assert.equal(g.max, 86_400_000, 'durations clamped to one day');
      assert.equal(g.min, 0, 'NaN and negative durations count as 0');
      assert.ok(m.endpoints().every((e) => e.route.length <= 1024));
      assert.ok(JSON.stringify(m.endpoints()).length < 200_000, 'serialisable and bounded');
      assert.equal(ctx.diag.failures.get('metrics.record'), 2, 'null and undefined samples are counted as failures');
    });

    it('aggregates off the request path: record() only queues; a short unref()ed timer drains', async () => {
      const mm = createMetrics({ diag: new Diagnostics(silentLogger), systemIntervalMs: 0 });
      try {
        for (let i = 0; i < 10; i++) mm.record(sample());
        assert.equal(mm.queued(), 10, 'nothing aggregated yet');
        await new Promise((r) => setTimeout(r, 200));
        assert.equal(mm.queued(), 0, 'drained by the timer');
        for (let i = 0; i < 5000; i++) mm.record(sample());
        assert.ok(mm.queued() < 4096, 'the queue is bounded: a full queue drains synchronously');
        assert.equal(mm.endpoint('GET /a')!.count, 5010);
        assert.equal(mm.queued(), 0, 'reads drain first');
      } finally {
        mm.close();
      }
    });

    it('allocates (almost) nothing per request: only the clock reading', () => {
      v8.setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as () => void;
      const mm = createMetrics({ diag: new Diagnostics(silentLogger), systemIntervalMs: 0 });
      try {
        const samples = Array.from({ length: 50 }, (_, i) => sample({ route: `/r${i % 5}`, duration: 3 + i }));
        for (let k = 0; k < 20; k++) {
          for (let i = 0; i < 4000; i++) mm.record(samples[i % 50]!);
          mm.endpoints();
        }
        gc();
        const before = process.memoryUsage().heapUsed;
        for (let i = 0; i < 4000; i++) mm.record(samples[i % 50]!);
        const perRecord = (process.memoryUsage().heapUsed - before) / 4000;
        assert.equal(mm.queued(), 4000, 'all still queued: nothing was aggregated on the request path');
        assert.ok(perRecord < 64, `${perRecord} bytes per record()`);
      } finally {
        mm.close();
      }
    });

    it('keeps counts exact across 100k samples with no read in between (the queue drains when full)', () => {
      for (let i = 0; i < 100_001; i++) m.record(sample({ duration: i % 100 }));
      assert.equal(m.endpoint('GET /a')!.count, 100_001);
    });

    it('does nothing after close()', () => {
      m.close();
      m.record(sample());
      m.recordCustom('x', 1, false);
      assert.deepEqual(m.endpoints(), []);
    });
  });

  describe('system()', () => {
    it('reports sane process figures', () => {
      m.sampleSystem();
      for (let i = 0; i < 30; i++) m.record(sample({ status: i < 3 ? 500 : 200 }));
      const s = m.system();
      assert.equal(s.pid, process.pid);
      assert.equal(s.nodeVersion, process.version);
      assert.ok(s.uptime > 0);
      assert.ok(s.rss > 0 && s.heapUsed > 0 && s.heapTotal >= s.heapUsed && s.external >= 0);
      assert.ok(s.heapLimit >= s.heapTotal);
      assert.ok(s.cpuPercent >= 0 && Number.isFinite(s.cpuPercent));
      for (const v of Object.values(s.eventLoop)) assert.ok(v >= 0 && Number.isFinite(v));
      assert.ok(s.eventLoop.utilization <= 1);
      assert.ok(s.gc.count >= 0 && s.gc.pauseTotal >= 0 && s.gc.pauseMax <= s.gc.pauseTotal);
      assert.equal(s.errorRate, 0.1);
      assert.ok(s.requestsPerSecond > 0);
      assert.equal(s.time, ctx.now);
    });

    it('sees CPU use, event-loop delay and utilisation, and garbage collections', async () => {
      v8.setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as () => void;
      const mm = createMetrics({ diag: new Diagnostics(silentLogger), systemIntervalMs: 0 });
      try {
        await new Promise((r) => setTimeout(r, 50));
        mm.sampleSystem(); // start a fresh interval
        const until = Date.now() + 150;
        while (Date.now() < until) Math.sqrt(Math.random()); // block the loop, burn CPU
        gc();
        await new Promise((r) => setTimeout(r, 60)); // let the delay histogram and the GC observer see it
        mm.sampleSystem();
        const s = mm.system();
        assert.ok(s.cpuPercent > 0, `cpu ${s.cpuPercent}%`);
        assert.ok(s.eventLoop.delayMax > 0, `delay max ${s.eventLoop.delayMax} ms`);
        assert.ok(s.eventLoop.delayP99 >= s.eventLoop.delayP50);
        assert.ok(s.eventLoop.utilization > 0);
        assert.ok(s.gc.count >= 1, 'the forced GC was observed');
        assert.ok(s.gc.pauseTotal > 0);
      } finally {
        mm.close();
      }
    });

    it('samples on a timer that close() stops', async () => {
      const mm = createMetrics({ diag: new Diagnostics(silentLogger), systemIntervalMs: 20 });
      const start = mm.cursor();
      const samples = () => mm.cursor().system - start.system;
      const deadline = Date.now() + 2000;
      while (samples() < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.ok(samples() >= 3, `${samples()} samples taken by the timer`);
      const changes = mm.changesSince(start);
      assert.ok(changes.system, 'a reader sees new process figures');
      assert.equal(mm.changesSince(changes.cursor).system, undefined, 'and none until the next sample');
      mm.close();
      const atClose = samples();
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(samples(), atClose, 'no sample after close()');
      mm.close(); // idempotent
    });
  });
});
