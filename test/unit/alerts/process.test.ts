/** The cpu, error-rate-spike, memory-growth and slow-query rules, and their thresholds from the environment and the API. */
import assert from 'node:assert/strict';
import { DEFAULT_THRESHOLDS, createAlerts, thresholdsFromEnv } from '../../../agent/alerts';
import type { AlertEndpoint, AlertInputs } from '../../../agent/internal';
import type { Alert, SystemStats } from '../../../protocol';
import { thresholdsPatch } from '../../../protocol/validate';

const T0 = 1_800_000_000_000;
const MiB = 1024 * 1024;

function system(over: Partial<SystemStats> = {}): SystemStats {
  return { heapUsed: 100 * MiB, heapLimit: 0, cpuPercent: 5, eventLoop: { delayP50: 1, delayP99: 1, delayMax: 1, utilization: 0 }, ...over } as SystemStats;
}

function route(id: string, count: number, errors: number): AlertEndpoint {
  return { id, kind: 'route', windows: { '1m': { count, errors, p95: 10, avg: 10 } } };
}

function setup(options: Parameters<typeof createAlerts>[0] = {}) {
  let now = T0;
  const fired: Alert[] = [];
  const policies = {
    cpu: { fireAfter: 3 },
    'error-rate-spike': { minSamples: 20, fireAfter: 2 },
    'memory-growth': { fireAfter: 2 },
    'error-rate': { minSamples: 1e9 },
  } as const;
  const alerts = createAlerts({ clock: () => now, policies, baselineWarmup: 5, ...options });
  alerts.onFire((a) => fired.push(a));
  const tick = (over: Partial<AlertInputs>, times = 1) => {
    for (let k = 0; k < times; k++) {
      now += 1000;
      alerts.evaluate({ endpoints: [], system: system(), rateLimits: [], ...over });
    }
  };
  const active = (rule: Alert['rule']) => alerts.active().filter((a) => a.rule === rule);
  return { alerts, fired, tick, active };
}

describe('alerts: cpu', () => {
  it('fires only when the CPU stays over cpuPercent for the policy hold, critical at 1.5×, and resolves under it', () => {
    const { tick, active, alerts } = setup();
    tick({ system: system({ cpuPercent: 95 }) }, 2);
    tick({ system: system({ cpuPercent: 20 }) });
    tick({ system: system({ cpuPercent: 95 }) }, 2);
    assert.deepEqual(active('cpu'), [], 'a short burst is not sustained');
    tick({ system: system({ cpuPercent: 95 }) });
    const [a] = active('cpu');
    assert.ok(a);
    assert.deepEqual([a.target, a.severity, a.value, a.threshold], ['process', 'warning', 95, 90]);
    assert.equal(a.message, 'process CPU 95% of a core ≥ 90%');
    tick({ system: system({ cpuPercent: 140 }) }, 3);
    assert.equal(active('cpu')[0]!.severity, 'critical');
    tick({ system: system({ cpuPercent: 30 }) }, 2);
    assert.deepEqual(active('cpu'), []);
    assert.equal(alerts.history()[0]!.rule, 'cpu');
  });

  it('follows a cpuPercent set at run time', () => {
    const { tick, active, alerts } = setup();
    alerts.setThresholds({ cpuPercent: 40 });
    tick({ system: system({ cpuPercent: 50 }) }, 3);
    assert.equal(active('cpu')[0]?.threshold, 40);
  });
});

describe('alerts: error-rate-spike', () => {
  it('fires when the process error rate jumps to the spike factor times its own baseline, and resolves when it falls back', () => {
    const { tick, active } = setup();
    tick({ endpoints: [route('GET /a', 100, 2), route('GET /b', 100, 0)] }, 10); // baseline 1%
    assert.deepEqual(active('error-rate-spike'), []);
    tick({ endpoints: [route('GET /a', 100, 10), route('GET /b', 100, 0)] }, 2); // 5%: 5× the usual
    const [a] = active('error-rate-spike');
    assert.ok(a, 'fired');
    assert.equal(a.target, 'process');
    assert.equal(a.value, 0.05);
    assert.ok(Math.abs(a.threshold - 0.03) < 0.001, `threshold ${a.threshold} is 3× the 1% baseline`);
    assert.match(a.message, /^error rate 5% is 5\.0× the process's usual 1\.0% \(10 of 200 in 1m\)$/);
    tick({ endpoints: [route('GET /a', 100, 2), route('GET /b', 100, 0)] }, 2);
    assert.deepEqual(active('error-rate-spike'), []);
  });

  it('does not fire on a process that always fails as much (its baseline), nor without enough requests', () => {
    const { tick, active } = setup();
    tick({ endpoints: [route('GET /a', 100, 20)] }, 30);
    assert.deepEqual(active('error-rate-spike'), [], '20% all along is this process normal');
    const fresh = setup();
    fresh.tick({ endpoints: [route('GET /a', 10, 0)] }, 10);
    fresh.tick({ endpoints: [route('GET /a', 10, 9)] }, 5);
    assert.deepEqual(fresh.active('error-rate-spike'), [], '10 requests are under the minimum');
  });
});

describe('alerts: memory-growth', () => {
  it('fires when the heap grows to the growth factor times its usual size, and resolves when it comes back', () => {
    const { tick, active } = setup();
    tick({ system: system({ heapUsed: 100 * MiB }) }, 10);
    tick({ system: system({ heapUsed: 140 * MiB }) }, 5);
    assert.deepEqual(active('memory-growth'), [], '1.4× is under the 1.5 factor');
    tick({ system: system({ heapUsed: 200 * MiB }) }, 2);
    const [a] = active('memory-growth');
    assert.ok(a, 'fired');
    assert.equal(a.severity, 'warning');
    assert.match(a.message, /^heap 200 MiB is 1\.\d× the process's usual 1\d\d MiB$/);
    tick({ system: system({ heapUsed: 105 * MiB }) }, 2);
    assert.deepEqual(active('memory-growth'), []);
  });

  it('ignores growth smaller than the floor, whatever the factor', () => {
    const { tick, active } = setup();
    tick({ system: system({ heapUsed: 10 * MiB }) }, 10);
    tick({ system: system({ heapUsed: 40 * MiB }) }, 5);
    assert.deepEqual(active('memory-growth'), [], '4× of a tiny heap is 30 MiB: under the 64 MiB floor');
  });
});

describe('alerts: slow-query', () => {
  const location = { file: '/app/orders.js', line: 12, column: 5 };
  const q = { endpoint: 'GET /orders/:id', name: 'SELECT * FROM orders WHERE id = ?', location, maxMs: 1500, count: 2 };

  it('fires at once for a route with a slow query in the last minute, at the query, and resolves once none is left', () => {
    const { tick, active, fired } = setup();
    tick({ slowQueries: [q] });
    const [a] = active('slow-query');
    assert.ok(a, 'fired at the first evaluation');
    assert.deepEqual([a.target, a.severity, a.value, a.threshold], ['GET /orders/:id', 'warning', 1500, 1000]);
    assert.deepEqual(a.location, location);
    assert.equal(a.message, 'GET /orders/:id: SELECT * FROM orders WHERE id = ? took 1.5 s ≥ 1 s (2 slow in 1m)');
    assert.equal(fired.length, 1);
    tick({ slowQueries: [{ ...q, maxMs: 5000 }] }, 3);
    assert.equal(active('slow-query')[0]!.severity, 'warning', 'never critical');
    tick({ slowQueries: [] }, 2);
    assert.deepEqual(active('slow-query'), []);
  });

  it('is skipped without slow-query figures', () => {
    const { tick, active } = setup();
    tick({}, 3);
    assert.deepEqual(active('slow-query'), []);
  });
});

describe('thresholds: the new fields', () => {
  it('have defaults, read the environment and validate through the API schema', () => {
    assert.deepEqual([DEFAULT_THRESHOLDS.slowQueryMs, DEFAULT_THRESHOLDS.cpuPercent, DEFAULT_THRESHOLDS.errorSpikeFactor, DEFAULT_THRESHOLDS.memoryGrowthFactor], [1000, 90, 3, 1.5]);
    const bad: string[] = [];
    const env = { ROUTELENS_SLOW_QUERY_MS: '250', ROUTELENS_CPU_PERCENT: '150', ROUTELENS_ERROR_SPIKE_FACTOR: '4', ROUTELENS_MEMORY_GROWTH_FACTOR: '1' };
    assert.deepEqual(
      thresholdsFromEnv(env, (name) => bad.push(name)),
      { slowQueryMs: 250, cpuPercent: 150, errorSpikeFactor: 4 },
    );
    assert.deepEqual(bad, ['ROUTELENS_MEMORY_GROWTH_FACTOR'], 'a growth factor of 1 is refused');
    assert.ok(thresholdsPatch.safeParse({ slowQueryMs: 200, cpuPercent: 80, errorSpikeFactor: 2, memoryGrowthFactor: 2 }).success);
    assert.ok(!thresholdsPatch.safeParse({ slowQueryMs: 0 }).success);
    assert.ok(!thresholdsPatch.safeParse({ errorSpikeFactor: 1 }).success);
    const alerts = createAlerts();
    assert.equal(alerts.setThresholds({ slowQueryMs: 300 }).slowQueryMs, 300);
  });
});
