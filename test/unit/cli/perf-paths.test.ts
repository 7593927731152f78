/** Where a route's paths come from in `routelens baseline / compare / smoke`: scenario, then history, then slow log; and what the reports say of it. */
import assert from 'node:assert/strict';
import type { RouteFigures } from '../../../cli/perf/measure';
import { DEFAULT_LOAD } from '../../../cli/perf/measure';
import { baselineMarkdown, baselineReport, comparedPaths, comparisonMarkdown } from '../../../cli/perf/report';
import { parseScenario, planRoutes, routesNeedingPaths } from '../../../cli/perf/scenario';
import { smokeMarkdown, smokeReport } from '../../../cli/perf/smoke';
import type { SlowRequest, Snapshot } from '../../../protocol';
import { endpoint } from '../extension/helpers';

const slow = (method: string, route: string, path: string): SlowRequest => ({ requestId: 'r', method, route, path, status: 200, duration: 2000, time: 0, severity: 'info' });

const snap = {
  endpoints: [
    endpoint({ id: 'GET /users/:id', method: 'GET', route: '/users/:id' }),
    endpoint({ id: 'GET /items/:id', method: 'GET', route: '/items/:id' }),
    endpoint({ id: 'GET /files/*rest', method: 'GET', route: '/files/*rest' }),
    endpoint({ id: 'GET /orders/:id', method: 'GET', route: '/orders/:id' }),
    endpoint({ id: 'GET /health', method: 'GET', route: '/health' }),
    endpoint({ id: 'POST /orders', method: 'POST', route: '/orders' }),
  ],
  slowRequests: [slow('GET', '/items/:id', '/items/5?q=*'), slow('GET', '/users/:id', '/users/slow'), slow('GET', '/orders/:id', '/orders/3')],
} as unknown as Snapshot;

const scenario = parseScenario({ routes: { 'GET /users/:id': { paths: ['/users/declared'] } } });
const recorded = new Map([
  ['GET /users/:id', ['/users/recorded']],
  ['GET /items/:id', ['/items/42', '/items/7']],
]);

describe('the paths a route is driven with (planRoutes)', () => {
  it('asks the agent only for GET/HEAD routes with parameters that the scenario does not declare', () => {
    assert.deepEqual(routesNeedingPaths(snap, scenario), ['GET /items/:id', 'GET /files/*rest', 'GET /orders/:id']);
  });

  it('the scenario first, then the paths recorded in history, then the slow log; else skipped with the reason', () => {
    const plan = planRoutes(snap, scenario, 's.json', recorded);
    const by = Object.fromEntries(plan.targets.map((t) => [t.id, [t.source, t.paths]]));
    assert.deepEqual(by, {
      'GET /users/:id': ['scenario', ['/users/declared']],
      'GET /items/:id': ['history', ['/items/42', '/items/7']],
      'GET /orders/:id': ['slow-log', ['/orders/3']],
      'GET /health': ['route', ['/health']],
    });
    assert.deepEqual(plan.skipped, [
      { id: 'GET /files/*rest', reason: 'has parameters, and no path was recorded or declared for it' },
      { id: 'POST /orders', reason: 'POST is driven only from a scenario file (no write is invented)' },
    ]);
  });

  it('without recorded paths, the slow log as before (query dropped)', () => {
    const plan = planRoutes(snap, undefined);
    assert.deepEqual(plan.targets.find((t) => t.id === 'GET /items/:id'), { id: 'GET /items/:id', method: 'GET', route: '/items/:id', paths: ['/items/5'], source: 'slow-log', headers: {} });
  });
});

describe('the reports say where each route\'s paths came from', () => {
  const plan = planRoutes(snap, scenario, 's.json', recorded);
  const fig = (id: string): RouteFigures => ({ id, method: 'GET', count: 10, errors: 0, status5xx: 0, p50: 1, p95: 2, p99: 3, rps: 5, sketch: '' });
  const figures = plan.targets.map((t) => fig(t.id));

  it('baseline: source and paths in the JSON, a "Paths from" column in the Markdown', () => {
    const report = baselineReport('app', figures, DEFAULT_LOAD, plan, undefined);
    const items = report.routes.find((r) => r.id === 'GET /items/:id')!;
    assert.equal(items.source, 'history');
    assert.deepEqual(items.paths, ['/items/42', '/items/7']);
    const health = report.routes.find((r) => r.id === 'GET /health')!;
    assert.equal(health.source, 'route');
    assert.equal(health.paths, undefined, 'a route without parameters lists no paths');
    const md = baselineMarkdown(report);
    assert.match(md, /\| `GET \/items\/:id` \| 10 \|.*\| history \(2\) \|/);
    assert.match(md, /\| `GET \/users\/:id` \|.*\| scenario \(1\) \|/);
    assert.match(md, /\| `GET \/orders\/:id` \|.*\| slow log \(1\) \|/);
    assert.doesNotMatch(md, /\/items\/42/, 'the Markdown (a PR comment) names no concrete path');
  });

  it('smoke: the same, per route', () => {
    const report = smokeReport('app', figures, plan, { maxP95: Infinity, maxErrorRate: 0 }, undefined);
    assert.equal(report.routes.find((r) => r.id === 'GET /items/:id')!.source, 'history');
    assert.match(smokeMarkdown(report), /\| `GET \/items\/:id` \|.*\| ok \| history \(2\) \|/);
  });

  it('compare: the routes with parameters and their source, the same on both sides', () => {
    const c = { threshold: 0.1, method: 'rounds' as const, rounds: 3, routes: [], onlyBase: [], onlyHead: [], paths: comparedPaths(plan) };
    assert.deepEqual(c.paths.map((p) => [p.id, p.source]), [['GET /items/:id', 'history'], ['GET /orders/:id', 'slow-log'], ['GET /users/:id', 'scenario']]);
    assert.match(comparisonMarkdown(c), /Paths of routes with parameters, the same on both sides: `GET \/items\/:id` from history \(2\)/);
  });
});
