import assert from 'node:assert/strict';
import { DEFAULT_THRESHOLDS, createAlerts, thresholdsFromEnv } from '../../../agent/alerts';
import type { AlertInputs } from '../../../agent/internal';
import { Diagnostics, silentLogger } from '../../../agent/log';
import { createMetrics } from '../../../agent/metrics';
import { type Alert, type CacheStats, type EndpointStats, type LatencySummary, ProtocolError, type RateLimitStats, type SystemStats } from '../../../protocol';

const T0 = 1_800_000_000_000;

function summary(over: Partial<LatencySummary> = {}): LatencySummary {
  return { count: 100, errors: 0, aborted: 0, min: 1, avg: 10, max: 50, p50: 10, p95: 20, p99: 40, ...over };
}

function endpoint(id: string, w1: Partial<LatencySummary>, over: Partial<EndpointStats> = {}): EndpointStats {
  const [method, route] = id.split(' ') as [string, string];
  const s = summary(w1);
  return { id, method, route, kind: 'route', ...s, statusCodes: {}, windows: { '1m': s, '5m': s, all: s }, rate: 1, lastSeen: T0, ...over };
}

function system(over: Partial<SystemStats> = {}): SystemStats {
  return {
    pid: 1,
    nodeVersion: 'v20',
    uptime: 10,
    rss: 100e6,
    heapUsed: 50e6,
    heapTotal: 80e6,
    heapLimit: 4000e6,
    external: 1e6,
    cpuPercent: 5,
    eventLoop: { delayP50: 10, delayP99: 20, delayMax: 30, utilization: 0.1 },
    gc: { count: 0, pauseTotal: 0, pauseMax: 0 },
    requestsPerSecond: 1,
    errorRate: 0,
    time: T0,
    ...over,
  };
}

function cache(over: Partial<CacheStats> = {}): CacheStats {
  const hc = { hits: 0, misses: 0, hitRate: 0 };
  return {
    enabled: true,
    redis: 'none',
    l1: { ...hc, entries: 0, bytes: 0, maxEntries: 100, maxBytes: 1e6 },
    l2: { ...hc, errors: 0 },
    overall: hc,
    sets: 0,
    deletes: 0,
    evictions: 0,
    expirations: 0,
    invalidations: 0,
    loads: { count: 0, errors: 0, avg: 0, max: 0 },
    window: hc,
    namespaces: [],
    routes: [],
    hotKeys: [],
    warmers: [],
    ...over,
  };
}

function limiter(name: string, allowed: number, limited: number): RateLimitStats {
  return {
    name,
    algorithm: 'fixed-window',
    windowMs: 60_000,
    max: 100,
    store: 'memory',
    onStoreError: 'fail-open',
    allowed,
    limited,
    storeErrors: 0,
    window: { allowed, limited },
    routes: [],
    topKeys: [],
  };
}

function inputs(over: Partial<AlertInputs> = {}): AlertInputs {
  return { endpoints: [], system: system(), rateLimits: [], ...over };
}

/**
 * Short holds and small sample minimums, every rule able to reach critical: the mechanics tests below
 * (hysteresis, upgrades, resolve, health) read better in two evaluations than in thirty. The default
 * calibration has its own tests at the end.
 */
const QUICK: NonNullable<Parameters<typeof createAlerts>[0]>['policies'] = {
  'route-p95': { minSamples: 5, fireAfter: 2 },
  'latency-anomaly': { minSamples: 5, fireAfter: 2 },
  'error-rate': { minSamples: 20, fireAfter: 2 },
  heap: { fireAfter: 2 },
  'event-loop-delay': { fireAfter: 2 },
  'cache-hit-rate': { minSamples: 20, fireAfter: 2, maxSeverity: 'critical' },
  'rate-limited': { minSamples: 20, fireAfter: 2, maxSeverity: 'critical' },
  redis: { fireAfter: 2 },
};

function setup(opts: Parameters<typeof createAlerts>[0] = {}) {
  let now = T0;
  const fired: Alert[] = [];
  const alerts = createAlerts({ clock: () => now, policies: QUICK, ...opts });
  alerts.onFire((a) => fired.push(a));
  return {
    alerts,
    fired,
    tick(i: AlertInputs, times = 1) {
      for (let k = 0; k < times; k++) {
        now += 1000;
        alerts.evaluate(i);
      }
    },
  };
}

const slow = (p95: number, over: Partial<EndpointStats> = {}) => inputs({ endpoints: [endpoint('GET /slow', { p95 }, over)] });

describe('alerts', () => {
  describe('route-p95 and hysteresis', () => {
    it('fires after two consecutive evaluations over the threshold, with the handler location and a readable message', () => {
      const { alerts, fired, tick } = setup();
      const i = slow(2400, { location: { file: '/app.js', line: 3, column: 1 }, handlerLocation: { file: '/h.js', line: 7, column: 2 } });
      tick(i);
      assert.deepEqual(alerts.active(), [], 'one evaluation is not enough');
      tick(i);
      const [a] = alerts.active();
      assert.ok(a);
      assert.equal(a.rule, 'route-p95');
      assert.equal(a.target, 'GET /slow');
      assert.equal(a.severity, 'warning');
      assert.equal(a.state, 'firing');
      assert.equal(a.message, 'GET /slow p95 2.4 s ≥ 2 s');
      assert.equal(a.value, 2400);
      assert.equal(a.threshold, 2000);
      assert.deepEqual(a.location, { file: '/h.js', line: 7, column: 2 });
      assert.deepEqual(fired.map((f) => f.id), [a.id]);
      assert.equal(alerts.takeChanged(), true);
      assert.equal(alerts.takeChanged(), false);
      tick(i, 5);
      assert.equal(alerts.active().length, 1, 'one alert per (rule, target)');
      assert.equal(fired.length, 1);
    });

    it('needs enough samples in the 1m window', () => {
      const { alerts, tick } = setup();
      tick(inputs({ endpoints: [endpoint('GET /slow', { p95: 9000, count: 4 })] }), 5);
      assert.deepEqual(alerts.active(), []);
    });

    it('upgrades the same alert from warning to critical at twice the threshold', () => {
      const { alerts, fired, tick } = setup();
      tick(slow(2500), 2);
      const id = alerts.active()[0]!.id;
      tick(slow(4500));
      assert.equal(alerts.active()[0]!.severity, 'warning', 'one critical evaluation is not enough');
      tick(slow(4500));
      const [a] = alerts.active();
      assert.equal(a!.id, id);
      assert.equal(a!.severity, 'critical');
      assert.equal(alerts.active().length, 1);
      assert.deepEqual(fired.map((f) => [f.id, f.severity]), [
        [id, 'warning'],
        [id, 'critical'],
      ]);
    });

    it('fires critical straight away when the value is critical from the start', () => {
      const { alerts, tick } = setup();
      tick(slow(9000), 2);
      assert.equal(alerts.active()[0]!.severity, 'critical');
    });

    it('does not flap when the value oscillates around the threshold', () => {
      const { alerts, fired, tick } = setup();
      for (let k = 0; k < 50; k++) tick(slow(k % 2 ? 2100 : 1900));
      assert.equal(fired.length, 0, 'never two consecutive evaluations over');

      tick(slow(2100), 2);
      assert.equal(fired.length, 1);
      for (let k = 0; k < 50; k++) tick(slow(k % 2 ? 2100 : 1700));
      assert.equal(alerts.active().length, 1, 'never two consecutive clear evaluations');
      for (let k = 0; k < 20; k++) tick(slow(1850));
      assert.equal(alerts.active().length, 1, 'under the threshold but within the 10% margin: still firing');
      assert.deepEqual(alerts.history(), []);
      tick(slow(1790), 2);
      assert.deepEqual(alerts.active(), []);
      const [h] = alerts.history();
      assert.equal(h!.state, 'resolved');
      assert.equal(h!.resolvedBy, 'auto');
      assert.ok(h!.resolvedAt! > h!.firedAt);
      assert.equal(fired.length, 1);
    });

    it('resolves when the endpoint has no traffic or disappears', () => {
      const { alerts, tick } = setup();
      tick(slow(3000), 2);
      tick(inputs({ endpoints: [endpoint('GET /slow', { p95: 0, count: 0 })] }), 2);
      assert.deepEqual(alerts.active(), []);
      tick(slow(3000), 2);
      assert.equal(alerts.active().length, 1);
      tick(inputs(), 2);
      assert.deepEqual(alerts.active(), []);
      assert.equal(alerts.history().length, 2);
      assert.notEqual(alerts.history()[0]!.id, alerts.history()[1]!.id, 'ids are unique');
    });

    it('never targets the overflow bucket, but counts it in the process-wide error rate', () => {
      const { alerts, tick } = setup();
      tick(inputs({ endpoints: [endpoint('_OTHER (overflow)', { p95: 9000, count: 1000, errors: 1000 }, { kind: 'overflow' })] }), 3);
      assert.deepEqual(alerts.active().map((a) => [a.rule, a.target]), [['error-rate', 'process']]);
    });

    it('keeps a bounded history, newest first', () => {
      const { alerts, tick } = setup({ historySize: 3 });
      for (let k = 0; k < 5; k++) {
        tick(slow(3000 + k), 2);
        tick(slow(10), 2);
      }
      const h = alerts.history();
      assert.equal(h.length, 3);
      assert.deepEqual(h.map((a) => a.value), [3004, 3003, 3002]);
    });
  });

  describe('error-rate', () => {
    it('needs a minimum number of requests, then fires per route and process-wide', () => {
      const { alerts, tick } = setup();
      tick(inputs({ endpoints: [endpoint('GET /x', { count: 1, errors: 1 })] }), 3);
      assert.deepEqual(alerts.active(), [], 'one failing request does not fire');

      const i = inputs({ endpoints: [endpoint('GET /x', { count: 40, errors: 3 }), endpoint('GET /ok', { count: 60, errors: 0 })] });
      tick(i, 2);
      const byTarget = new Map(alerts.active().map((a) => [`${a.rule} ${a.target}`, a]));
      assert.equal(byTarget.get('error-rate GET /x')!.severity, 'warning');
      assert.equal(byTarget.get('error-rate GET /x')!.value, 0.075);
      assert.equal(byTarget.get('error-rate GET /x')!.message, 'GET /x error rate 7.5% ≥ 5% (3 of 40 in 1m)');
      assert.equal(byTarget.size, 1, 'process-wide 4% is under 5%');

      tick(inputs({ endpoints: [endpoint('GET /x', { count: 40, errors: 8 })] }), 2);
      assert.equal(alerts.active().find((x) => x.target === 'GET /x')!.severity, 'warning', 'one route at 20%: a warning (critical from 25%)');
      assert.equal(alerts.active().find((x) => x.target === 'process')!.severity, 'critical', 'the process at 20%: critical (from 10%)');
      tick(inputs({ endpoints: [endpoint('GET /x', { count: 40, errors: 20 })] }), 2);
      const a = alerts.active().find((x) => x.target === 'GET /x')!;
      assert.equal(a.severity, 'critical');
      assert.ok(alerts.active().some((x) => x.rule === 'error-rate' && x.target === 'process'));
    });
  });

  describe('process, cache, rate limits, Redis', () => {
    it('heap: warning over heapPercent, critical halfway to the limit', () => {
      const { alerts, tick } = setup();
      tick(inputs({ system: system({ heapUsed: 900, heapLimit: 1000 }) }), 2);
      assert.equal(alerts.active()[0]!.rule, 'heap');
      assert.equal(alerts.active()[0]!.severity, 'warning');
      tick(inputs({ system: system({ heapUsed: 950, heapLimit: 1000 }) }), 2);
      assert.equal(alerts.active()[0]!.severity, 'critical');
      tick(inputs({ system: system({ heapUsed: 100, heapLimit: 1000 }) }), 2);
      assert.deepEqual(alerts.active(), []);
    });

    it('event-loop-delay: p99 against eventLoopDelayMs', () => {
      const { alerts, tick } = setup();
      tick(inputs({ system: system({ eventLoop: { delayP50: 20, delayP99: 250, delayMax: 400, utilization: 0.9 } }) }), 2);
      const [a] = alerts.active();
      assert.equal(a!.rule, 'event-loop-delay');
      assert.equal(a!.target, 'process');
      assert.equal(a!.message, 'event-loop delay p99 250 ms ≥ 200 ms');
    });

    it('cache-hit-rate: fires under the target once there are enough reads', () => {
      const { alerts, tick } = setup();
      tick(inputs({ cache: cache({ window: { hits: 1, misses: 9, hitRate: 0.1 } }) }), 3);
      assert.deepEqual(alerts.active(), [], 'ten reads are not enough');
      tick(inputs({ cache: cache({ window: { hits: 40, misses: 60, hitRate: 0.4 } }) }), 2);
      const [a] = alerts.active();
      assert.equal(a!.rule, 'cache-hit-rate');
      assert.equal(a!.target, 'cache');
      assert.equal(a!.severity, 'warning');
      tick(inputs({ cache: cache({ window: { hits: 52, misses: 48, hitRate: 0.52 } }) }), 3);
      assert.equal(alerts.active().length, 1, '52% is within the margin over 50%');
      tick(inputs({ cache: cache({ window: { hits: 80, misses: 20, hitRate: 0.8 } }) }), 2);
      assert.deepEqual(alerts.active(), []);
    });

    it('rate-limited: per limiter, share of refused requests', () => {
      const { alerts, tick } = setup();
      tick(inputs({ rateLimits: [limiter('api', 70, 30), limiter('login', 95, 5), limiter('tiny', 1, 9)] }), 2);
      const active = alerts.active();
      assert.deepEqual(active.map((a) => [a.rule, a.target, a.severity]), [['rate-limited', 'api', 'warning']]);
    });

    it('redis: one alert while down (not one per evaluation), kept while reconnecting, resolved when ready', () => {
      const { alerts, fired, tick } = setup();
      tick(inputs({ cache: cache({ redis: 'down' }) }), 10);
      assert.equal(alerts.active().length, 1);
      assert.equal(fired.length, 1);
      assert.equal(alerts.active()[0]!.rule, 'redis');
      tick(inputs({ cache: cache({ redis: 'connecting' }) }), 5);
      assert.equal(alerts.active().length, 1);
      tick(inputs({ cache: cache({ redis: 'ready' }) }), 2);
      assert.deepEqual(alerts.active(), []);
      assert.equal(alerts.history()[0]!.rule, 'redis');
    });
  });

  describe('latency-anomaly', () => {
    it('fires when a route is anomalyFactor× slower than its own learned baseline', () => {
      const { alerts, tick } = setup();
      tick(slow(100), 12); // learn: 100 ms is normal here
      tick(slow(450), 2);
      const a = alerts.active().find((x) => x.rule === 'latency-anomaly');
      assert.ok(a, 'fired');
      assert.equal(a.target, 'GET /slow');
      assert.ok(Math.abs(a.threshold - 300) < 15, `threshold ${a.threshold}: anomalyFactor × a baseline of ~100 ms`);
      assert.match(a.message, /^GET \/slow p95 450 ms is 4\.\d× its usual 10\d ms$/);
      assert.ok(!alerts.active().some((x) => x.rule === 'route-p95'), '450 ms is under the absolute p95 threshold');
      tick(slow(450), 20);
      assert.ok(alerts.active().some((x) => x.rule === 'latency-anomaly'), 'the anomaly does not quickly become the baseline');
      tick(slow(100), 2);
      assert.ok(!alerts.active().some((x) => x.rule === 'latency-anomaly'));
    });

    it('a manual resolve relearns the baseline: the new latency becomes normal', () => {
      const { alerts, tick } = setup();
      tick(slow(100), 12);
      tick(slow(450), 2);
      alerts.resolve(alerts.active().find((x) => x.rule === 'latency-anomaly')!.id);
      tick(slow(450), 30);
      assert.ok(!alerts.active().some((x) => x.rule === 'latency-anomaly'));
      tick(slow(1500), 2);
      assert.ok(alerts.active().some((x) => x.rule === 'latency-anomaly'), 'anomalies against the new baseline still fire');
    });

    it('keeps the baseline through quiet minutes, drops it when the endpoint disappears', () => {
      const { alerts, tick } = setup();
      tick(slow(100), 12);
      tick(inputs({ endpoints: [endpoint('GET /slow', { p95: 0, count: 2 })] }), 3);
      tick(slow(450), 2);
      assert.ok(alerts.active().some((x) => x.rule === 'latency-anomaly'), 'baseline kept');
      tick(inputs(), 3);
      tick(slow(450), 3);
      assert.ok(!alerts.active().some((x) => x.rule === 'latency-anomaly'), 'relearning from scratch');
    });

    it('does not fire before the baseline is learned, nor for fast routes under the floor', () => {
      const { alerts, tick } = setup();
      tick(slow(500), 1);
      tick(slow(1500), 3);
      assert.ok(!alerts.active().some((x) => x.rule === 'latency-anomaly'), 'no baseline yet');
      const fast = setup();
      fast.tick(slow(5), 12);
      fast.tick(slow(40), 4); // 8× but under 50 ms
      assert.deepEqual(fast.alerts.active(), []);
    });
  });

  describe('manual resolve', () => {
    it('moves the alert to history and suppresses it until the condition first clears', () => {
      const { alerts, fired, tick } = setup();
      tick(slow(3000), 2);
      const id = alerts.active()[0]!.id;
      const r = alerts.resolve(id);
      assert.equal(r.state, 'resolved');
      assert.equal(r.resolvedBy, 'manual');
      assert.deepEqual(alerts.active(), []);
      assert.equal(alerts.history()[0]!.id, id);
      tick(slow(3000), 10);
      assert.deepEqual(alerts.active(), [], 'still over, but suppressed');
      tick(slow(1000), 1);
      tick(slow(3000), 2);
      const again = alerts.active()[0]!;
      assert.notEqual(again.id, id);
      assert.equal(fired.length, 2);
    });

    it('throws ERR_NOT_FOUND for an unknown or already resolved id', () => {
      const { alerts, tick } = setup();
      assert.throws(() => alerts.resolve('nope'), (e: unknown) => e instanceof ProtocolError && e.code === 'ERR_NOT_FOUND');
      tick(slow(3000), 2);
      const id = alerts.active()[0]!.id;
      alerts.resolve(id);
      assert.throws(() => alerts.resolve(id), (e: unknown) => e instanceof ProtocolError && e.code === 'ERR_NOT_FOUND');
    });
  });

  describe('health()', () => {
    it('starts at 100 and subtracts per alert by severity, with the alerts as reasons', () => {
      const { alerts, tick } = setup();
      assert.deepEqual(alerts.health(), { score: 100, status: 'healthy', reasons: [] });
      tick(slow(2400));
      let h = alerts.health();
      assert.equal(h.score, 95, 'a pending condition weighs a little');
      assert.deepEqual(h.reasons, ['GET /slow p95 2.4 s ≥ 2 s (not yet confirmed)']);
      tick(slow(2400));
      assert.deepEqual(alerts.health(), { score: 90, status: 'healthy', reasons: ['GET /slow p95 2.4 s ≥ 2 s'] });
      const bad = inputs({
        endpoints: [endpoint('GET /slow', { p95: 5000, count: 100, errors: 50 })],
        system: system({ heapUsed: 990, heapLimit: 1000 }),
      });
      tick(bad, 2);
      h = alerts.health();
      // route-p95 critical, error-rate route critical, error-rate process critical, heap critical
      assert.equal(h.score, 0);
      assert.equal(h.status, 'unhealthy');
      assert.ok(h.reasons.includes('GET /slow p95 5 s ≥ 2 s'));
      assert.ok(h.reasons.some((r) => r.startsWith('heap 99% of its limit')));
      tick(inputs({ endpoints: [endpoint('GET /slow', { p95: 2400 })] }), 2);
      h = alerts.health();
      assert.equal(h.score, 75, 'route p95 stays critical (no downgrade); the rest resolved');
      assert.equal(h.status, 'degraded');
    });
  });

  describe('thresholds', () => {
    it('defaults', () => {
      const { alerts } = setup();
      assert.deepEqual(alerts.thresholds(), {
        p95Ms: 2000,
        errorRate: 0.05,
        heapPercent: 0.85,
        eventLoopDelayMs: 200,
        cacheHitRate: 0.5,
        rateLimitedShare: 0.2,
        anomalyFactor: 3,
        avgMs: 1000,
        slowPerMinute: 10,
        slowMs: { info: 1000, warning: 5000, critical: 10000 },
        slowQueryMs: 1000,
        cpuPercent: 90,
        errorSpikeFactor: 3,
        memoryGrowthFactor: 1.5,
      });
      assert.deepEqual(DEFAULT_THRESHOLDS, alerts.thresholds());
    });

    it('setThresholds merges (slowMs field by field), returns the result, and re-evaluation uses it', () => {
      const { alerts, tick } = setup({ thresholds: { p95Ms: 500 } });
      tick(slow(800), 2);
      assert.equal(alerts.active().length, 1);
      const t = alerts.setThresholds({ p95Ms: 1000, slowMs: { warning: 3000 } });
      assert.equal(t.p95Ms, 1000);
      assert.deepEqual(t.slowMs, { info: 1000, warning: 3000, critical: 10000 });
      assert.equal(t.errorRate, 0.05);
      assert.deepEqual(alerts.thresholds(), t);
      tick(slow(800), 2);
      assert.deepEqual(alerts.active(), [], '800 ms is 20% under the new threshold');
      t.p95Ms = 1;
      assert.equal(alerts.thresholds().p95Ms, 1000, 'returns a copy');
    });

    it('thresholdsFromEnv reads the ROUTELENS_* variables and reports invalid ones', () => {
      const invalid: string[] = [];
      const t = thresholdsFromEnv(
        {
          ROUTELENS_P95_MS: '750',
          ROUTELENS_ERROR_RATE: ' 0.1 ',
          ROUTELENS_HEAP_PERCENT: '1.5',
          ROUTELENS_EVENT_LOOP_DELAY_MS: 'fast',
          ROUTELENS_CACHE_HIT_RATE: '0',
          ROUTELENS_RATE_LIMITED_SHARE: '',
        },
        (name, value) => invalid.push(`${name}=${value}`),
      );
      assert.deepEqual(t, { p95Ms: 750, errorRate: 0.1, cacheHitRate: 0 });
      assert.deepEqual(invalid, ['ROUTELENS_HEAP_PERCENT=1.5', 'ROUTELENS_EVENT_LOOP_DELAY_MS=fast']);
      assert.deepEqual(thresholdsFromEnv({}), {});
      assert.deepEqual(thresholdsFromEnv({ ROUTELENS_P95_MS: '-1', ROUTELENS_ERROR_RATE: 'NaN' }), {}, 'no callback: silently ignored');
    });
  });

  describe('default calibration: severity matches harm, and an alert has traffic and time behind it', () => {
    /** One minute of the demo's own traffic: one route fails 16% of the time, the cache hits 68%, one client keeps hitting the login limit. */
    const demoMinute = inputs({
      endpoints: [
        endpoint('GET /users/:id', { count: 1100, errors: 0, p95: 30 }),
        endpoint('GET /', { count: 360, errors: 0, p95: 2 }),
        endpoint('GET /slow', { count: 220, errors: 0, p95: 720 }),
        endpoint('GET /flaky', { count: 270, errors: 43, p95: 3 }),
        endpoint('POST /auth/login', { count: 140, errors: 0, p95: 2 }),
      ],
      cache: cache({ window: { hits: 680, misses: 320, hitRate: 0.68 } }),
      rateLimits: [limiter('login', 30, 109)],
    });

    it('the demo-like minute: /flaky and the busy limiter warn after their holds, nothing is critical, the 68% hit rate is fine, health stays healthy', () => {
      const { alerts, fired, tick } = setup({ policies: {} });
      const scores: number[] = [];
      for (let k = 0; k < 29; k++) {
        tick(demoMinute);
        scores.push(alerts.health().score);
      }
      assert.deepEqual(alerts.active(), [], 'under 30 s over the threshold is not yet an alert');
      for (let k = 0; k < 120; k++) {
        tick(demoMinute);
        scores.push(alerts.health().score);
      }
      assert.deepEqual(alerts.active().map((a) => [a.rule, a.target, a.severity]).sort(), [
        ['error-rate', 'GET /flaky', 'warning'],
        ['rate-limited', 'login', 'warning'],
      ]);
      assert.ok(fired.every((a) => a.severity !== 'critical'), JSON.stringify(fired));
      assert.ok(Math.min(...scores) >= 80, `lowest score ${Math.min(...scores)}`);
      assert.equal(alerts.health().status, 'healthy');
    });

    it('a few requests are not evidence: a route with 40 requests half failing is not judged', () => {
      const { alerts, tick } = setup({ policies: {} });
      tick(inputs({ endpoints: [endpoint('GET /x', { count: 40, errors: 20, p95: 9000 })] }), 120);
      assert.deepEqual(alerts.active().map((a) => a.rule), ['route-p95'], 'p95 needs 20 requests, error rates 50');
    });

    it('a route failing one request in four, or the whole app failing one in ten, is critical', () => {
      const { alerts, tick } = setup({ policies: {} });
      tick(inputs({ endpoints: [endpoint('GET /x', { count: 200, errors: 50 }), endpoint('GET /ok', { count: 300, errors: 0 })] }), 30);
      const bySeverity = alerts.active().map((a) => [a.target, a.severity]).sort();
      assert.deepEqual(bySeverity, [
        ['GET /x', 'critical'],
        ['process', 'critical'],
      ]);
    });

    it('a low cache hit rate and a busy limiter warn at most, however low or busy', () => {
      const { alerts, tick } = setup({ policies: {} });
      const bad = inputs({ cache: cache({ window: { hits: 5, misses: 995, hitRate: 0.005 } }), rateLimits: [limiter('api', 10, 990)] });
      tick(bad, 59);
      assert.deepEqual(alerts.active().map((a) => a.rule), ['rate-limited'], 'the limiter fires after 30 s, the cache after 60 s');
      tick(bad, 60);
      assert.deepEqual(alerts.active().map((a) => [a.rule, a.severity]).sort(), [
        ['cache-hit-rate', 'warning'],
        ['rate-limited', 'warning'],
      ]);
    });
  });

  it('onFire listener errors are caught and reported', () => {
    const diag = new Diagnostics(silentLogger);
    const { alerts, tick } = setup({ diag });
    const seen: string[] = [];
    alerts.onFire(() => {
      throw new Error('listener bug');
    });
    alerts.onFire((a) => seen.push(a.rule));
    assert.doesNotThrow(() => tick(slow(3000), 2));
    assert.deepEqual(seen, ['route-p95']);
    assert.equal(diag.failures.get('alerts.listener'), 1);
  });

  it('works on real metrics: slow requests to a registered route fire route-p95 at its handler', () => {
    let now = T0;
    const metrics = createMetrics({ clock: () => now, diag: new Diagnostics(silentLogger), systemIntervalMs: 0 });
    try {
      const { alerts } = setup();
      metrics.registerRoute({ method: 'GET', route: '/report', location: { file: '/app.js', line: 10, column: 5 }, handlerLocation: { file: '/report.js', line: 2, column: 1 } });
      for (let k = 0; k < 2; k++) {
        for (let i = 0; i < 10; i++) {
          metrics.record({ method: 'GET', route: '/report', status: 200, duration: 2500 + i, aborted: false, threw: false, url: '/report', requestId: `r${i}`, start: now });
        }
        now += 1000;
        alerts.evaluate({ endpoints: metrics.endpoints(), system: metrics.system(), rateLimits: [] });
      }
      const [a] = alerts.active();
      assert.equal(a!.rule, 'route-p95');
      assert.equal(a!.target, 'GET /report');
      assert.deepEqual(a!.location, { file: '/report.js', line: 2, column: 1 });
      assert.match(a!.message, /^GET \/report p95 2\.5 s ≥ 2 s$/);
    } finally {
      metrics.close();
    }
  });
});
