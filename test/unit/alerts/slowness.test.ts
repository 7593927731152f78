/** The route-avg and slow-requests rules, their thresholds from the environment, and the slow count metrics gives them. */
import assert from 'node:assert/strict';
import { createAlerts, thresholdsFromEnv } from '../../../agent/alerts';
import type { AlertEndpoint, AlertInputs } from '../../../agent/internal';
import { Diagnostics, silentLogger } from '../../../agent/log';
import { createMetrics } from '../../../agent/metrics';
import type { Alert, SystemStats } from '../../../protocol';
import { thresholdsPatch } from '../../../protocol/validate';

const T0 = 1_800_000_000_000;
const system = { heapUsed: 0, heapLimit: 0, eventLoop: { delayP50: 1, delayP99: 1, delayMax: 1, utilization: 0 } } as SystemStats;

function route(id: string, count: number, avg: number, over: Partial<AlertEndpoint> = {}): AlertEndpoint {
  return { id, kind: 'route', windows: { '1m': { count, errors: 0, p95: avg, avg } }, ...over };
}

function setup(thresholds: Parameters<typeof createAlerts>[0] = {}) {
  let now = T0;
  const fired: Alert[] = [];
  // Short holds and low minimums, as the mechanics tests use: the calibrated defaults need 15 evaluations and 20 requests.
  const policies = { 'route-avg': { minSamples: 5, fireAfter: 2 }, 'slow-requests': { fireAfter: 2, maxSeverity: 'critical' as const } };
  const alerts = createAlerts({ clock: () => now, policies, ...thresholds });
  alerts.onFire((a) => fired.push(a));
  const tick = (over: Partial<AlertInputs>, times = 1) => {
    for (let k = 0; k < times; k++) {
      now += 1000;
      alerts.evaluate({ endpoints: [], system, rateLimits: [], ...over });
    }
  };
  const active = (rule: Alert['rule']) => alerts.active().filter((a) => a.rule === rule);
  return { alerts, fired, tick, active };
}

describe('alerts: route-avg', () => {
  it('fires per route when the 1m average reaches avgMs, at the handler, critical at twice; resolves 10% under', () => {
    const { tick, active } = setup();
    const handlerLocation = { file: '/h.js', line: 4, column: 2 };
    tick({ endpoints: [route('GET /report', 10, 1200, { handlerLocation }), route('GET /fast', 10, 20)] }, 2);
    const [a] = active('route-avg');
    assert.ok(a, 'fired');
    assert.deepEqual([a.target, a.severity, a.value, a.threshold], ['GET /report', 'warning', 1200, 1000]);
    assert.equal(a.message, 'GET /report average 1.2 s ≥ 1 s (10 requests in 1m)');
    assert.deepEqual(a.location, handlerLocation);
    assert.equal(active('route-avg').length, 1, 'the fast route is not a target');
    tick({ endpoints: [route('GET /report', 10, 2100)] }, 2);
    assert.equal(active('route-avg')[0]!.severity, 'critical');
    tick({ endpoints: [route('GET /report', 10, 950)] }, 3);
    assert.equal(active('route-avg').length, 1, '950 ms is within the 10% margin');
    tick({ endpoints: [route('GET /report', 10, 800)] }, 2);
    assert.deepEqual(active('route-avg'), []);
  });

  it('needs the p95 rule\'s minimum of requests in 1m and never targets the overflow bucket', () => {
    const { tick, active } = setup();
    tick({ endpoints: [route('GET /few', 4, 5000), route('_OTHER (overflow)', 100, 5000, { kind: 'overflow' })] }, 3);
    assert.deepEqual(active('route-avg'), []);
  });

  it('reads the average from real metrics: a route slow for everyone, with a p95 under its threshold', () => {
    let now = T0;
    const metrics = createMetrics({ clock: () => now, diag: new Diagnostics(silentLogger), systemIntervalMs: 0 });
    try {
      const { alerts } = setup({ thresholds: { avgMs: 100, p95Ms: 1000 } });
      for (let k = 0; k < 2; k++) {
        for (let i = 0; i < 10; i++) metrics.record({ method: 'GET', route: '/list', status: 200, duration: 150 + i, aborted: false, threw: false, url: '/list', requestId: 'r', start: now });
        now += 1000;
        alerts.evaluate({ endpoints: metrics.alertEndpoints(), system: metrics.system(), rateLimits: [], slowLastMinute: metrics.slowLastMinute() });
      }
      assert.deepEqual(alerts.active().map((a) => [a.rule, a.target, a.severity]), [['route-avg', 'GET /list', 'warning']]);
      assert.ok(Math.abs(alerts.active()[0]!.value - 154.5) < 0.01, `average ${alerts.active()[0]!.value}`);
    } finally {
      metrics.close();
    }
  });

  it('follows avgMs from the options and from setThresholds', () => {
    const { alerts, tick, active } = setup({ thresholds: { avgMs: 200 } });
    tick({ endpoints: [route('GET /a', 10, 300)] }, 2);
    assert.equal(active('route-avg').length, 1);
    alerts.setThresholds({ avgMs: 1000 });
    tick({ endpoints: [route('GET /a', 10, 300)] }, 2);
    assert.deepEqual(active('route-avg'), []);
  });
});

describe('alerts: slow-requests', () => {
  it('fires process-wide when the slow requests of the last minute reach slowPerMinute; critical at twice', () => {
    const { tick, active, alerts } = setup();
    tick({ slowLastMinute: 9 }, 3);
    assert.deepEqual(active('slow-requests'), [], '9 is under 10');
    tick({ slowLastMinute: 12 }, 2);
    const [a] = active('slow-requests');
    assert.ok(a);
    assert.deepEqual([a.target, a.severity, a.value, a.threshold], ['process', 'warning', 12, 10]);
    assert.equal(a.message, '12 slow requests (≥ 1 s) in 1m ≥ 10');
    tick({ slowLastMinute: 20 }, 2);
    assert.equal(active('slow-requests')[0]!.severity, 'critical');
    tick({ slowLastMinute: 0 }, 2);
    assert.deepEqual(active('slow-requests'), []);
    assert.equal(alerts.history()[0]!.rule, 'slow-requests');
  });

  it('names the slow threshold in force, and is skipped when the count is not given', () => {
    const { alerts, tick, active } = setup({ thresholds: { slowPerMinute: 2 } });
    alerts.setThresholds({ slowMs: { info: 300 } });
    tick({ slowLastMinute: 3 }, 2);
    assert.equal(active('slow-requests')[0]!.message, '3 slow requests (≥ 300 ms) in 1m ≥ 2');
    const quiet = setup({ thresholds: { slowPerMinute: 1 } });
    quiet.tick({}, 3);
    assert.deepEqual(quiet.alerts.active(), []);
  });

  it('fires on real metrics: slow requests spread over routes, counted for one minute', () => {
    let now = T0;
    const metrics = createMetrics({ clock: () => now, diag: new Diagnostics(silentLogger), systemIntervalMs: 0 });
    try {
      const { alerts } = setup({ thresholds: { slowPerMinute: 5, avgMs: 3_600_000, p95Ms: 3_600_000 } });
      const record = (route: string, duration: number) =>
        metrics.record({ method: 'GET', route, status: 200, duration, aborted: false, threw: false, url: route, requestId: 'r', start: now });
      for (let i = 0; i < 3; i++) record(`/a${i}`, 1500);
      for (let i = 0; i < 3; i++) record(`/b${i}`, 999);
      assert.equal(metrics.slowLastMinute(), 3, 'only requests at or over slowMs.info (1 s) count');
      for (let i = 0; i < 3; i++) record(`/c${i}`, 12_000);
      assert.equal(metrics.slowLastMinute(), 6);
      for (let k = 0; k < 2; k++) {
        now += 1000;
        alerts.evaluate({ endpoints: metrics.alertEndpoints(), system: metrics.system(), rateLimits: [], slowLastMinute: metrics.slowLastMinute() });
      }
      assert.deepEqual(alerts.active().map((a) => [a.rule, a.target, a.value]), [['slow-requests', 'process', 6]]);
      now += 71_000;
      assert.equal(metrics.slowLastMinute(), 0, 'out of the 1m window (60–70 s)');
      metrics.setSlowThresholds({ info: 100, warning: 200, critical: 300 });
      record('/d', 150);
      assert.equal(metrics.slowLastMinute(), 1, 'the slow threshold in force when the request was recorded');
      metrics.reset();
      assert.equal(metrics.slowLastMinute(), 0, 'a reset of everything clears the count');
    } finally {
      metrics.close();
    }
  });
});

describe('thresholds: the new fields from the environment and the editor', () => {
  it('ROUTELENS_AVG_MS, ROUTELENS_SLOW_PER_MINUTE and ROUTELENS_SLOW_*_MS; invalid ones reported by name and ignored', () => {
    const invalid: string[] = [];
    const t = thresholdsFromEnv(
      {
        ROUTELENS_AVG_MS: '800',
        ROUTELENS_SLOW_PER_MINUTE: '25',
        ROUTELENS_SLOW_INFO_MS: ' 500 ',
        ROUTELENS_SLOW_WARNING_MS: '0',
        ROUTELENS_SLOW_CRITICAL_MS: '',
      },
      (name, value, expected) => invalid.push(`${name}=${value}: ${expected}`),
    );
    assert.deepEqual(t, { avgMs: 800, slowPerMinute: 25, slowMs: { info: 500, warning: 5000, critical: 10000 } }, 'a level set alone keeps the others\' defaults');
    assert.deepEqual(invalid, ['ROUTELENS_SLOW_WARNING_MS=0: a number of milliseconds > 0']);
    const bad: string[] = [];
    const none = thresholdsFromEnv({ ROUTELENS_AVG_MS: 'slow', ROUTELENS_SLOW_PER_MINUTE: '-3', ROUTELENS_SLOW_CRITICAL_MS: '1e10' }, (name) => bad.push(name));
    assert.deepEqual(none, {}, 'no slowMs when no slow level is valid');
    assert.deepEqual(bad, ['ROUTELENS_AVG_MS', 'ROUTELENS_SLOW_PER_MINUTE', 'ROUTELENS_SLOW_CRITICAL_MS']);
  });

  it('the thresholds.set schema takes avgMs and slowPerMinute within range', () => {
    assert.equal(thresholdsPatch.safeParse({ avgMs: 750, slowPerMinute: 30 }).success, true);
    assert.equal(thresholdsPatch.safeParse({ avgMs: 0 }).success, false);
    assert.equal(thresholdsPatch.safeParse({ slowPerMinute: -1 }).success, false);
    assert.equal(thresholdsPatch.safeParse({ avgMs: 4_000_000 }).success, false);
  });
});
