/** Per-route tools: the slowest and busiest routes, one route in detail, the slowest recent requests. */
import { z } from 'zod';
import { type EndpointSort, type EndpointStats, type LatencySummary, type SlowRequest, type Snapshot, WINDOWS, type WindowName } from '../../protocol';
import { agentOf, fail, iso, ms, ok, share, str } from './data';
import { orUnavailable, spansOf, where } from './spans';
import { type ToolDef, agentArg, defineTool, limitArg, routeArg, windowArg } from './types';

/** One window's figures, units in the names. */
function figures(w: LatencySummary) {
  return { requests: w.count, errors: w.errors, errorRatePercent: share(w.errors, w.count), aborted: w.aborted, p50Ms: ms(w.p50), p95Ms: ms(w.p95), p99Ms: ms(w.p99), avgMs: ms(w.avg), maxMs: ms(w.max) };
}

function routeRow(e: EndpointStats, window: WindowName) {
  return { route: str(e.id), kind: e.kind, ...figures(e.windows[window]), requestsPerSecond: Math.round(e.rate * 100) / 100, location: where(e.handlerLocation ?? e.location) };
}

function rankingTool(name: string, sort: EndpointSort, title: string, description: string): ToolDef {
  return defineTool({
    name,
    title,
    description,
    input: z.object({ window: windowArg, limit: limitArg(50, 10), agent: agentArg }),
    readOnly: true,
    async run(ctx, args) {
      const source = await ctx.source(args.agent);
      const endpoints = (await source.endpoints(sort, args.window, args.limit)).filter((e) => e.windows[args.window].count > 0);
      const data = { agent: agentOf(source), window: args.window, routes: endpoints.map((e) => routeRow(e, args.window)) };
      return ok(endpoints.length ? `${endpoints.length} route(s) with requests in window ${args.window}, ${sort === 'slowest' ? 'slowest p95 first' : 'most requests first'}.` : `No route had requests in window ${args.window}.`, data);
    },
  });
}

export const slowestRoutes = rankingTool(
  'slowest_routes',
  'slowest',
  'Slowest routes',
  'The routes of a running app with the highest p95 latency over a window (1m, 5m or all), slowest first: requests, errors, error rate (percent), p50/p95/p99/avg/max latency (ms), requests per second, and where each route is registered in the source (file:line:column). Only routes with requests in the window.',
);

export const busiestRoutes = rankingTool(
  'busiest_routes',
  'most-requested',
  'Busiest routes',
  'The routes of a running app with the most requests over a window (1m, 5m or all), busiest first, with the same figures as slowest_routes (latencies in ms, error rate in percent, requests per second, source location).',
);

/** Exact endpoint id, else the route template under every method, else ids containing the text. */
export function matchRoutes(endpoints: EndpointStats[], query: string): EndpointStats[] {
  const exact = endpoints.filter((e) => e.id === query);
  if (exact.length) return exact;
  const template = endpoints.filter((e) => e.route === query);
  if (template.length) return template;
  const q = query.toLowerCase();
  return endpoints.filter((e) => e.id.toLowerCase().includes(q));
}

function details(e: EndpointStats, snapshot: Snapshot) {
  const slow = snapshot.slowRequests.filter((r) => `${r.method} ${r.route}` === e.id).sort((a, b) => b.duration - a.duration).slice(0, 5);
  const cache = snapshot.cache?.routes.find((r) => r.route === e.id);
  return {
    route: str(e.id),
    kind: e.kind,
    windows: Object.fromEntries(WINDOWS.map((w) => [w, figures(e.windows[w])])),
    statusCodes: e.statusCodes,
    requestsPerSecond: Math.round(e.rate * 100) / 100,
    lastRequestAt: iso(e.lastSeen),
    location: where(e.location),
    handlerLocation: where(e.handlerLocation),
    alerts: snapshot.alerts.filter((a) => a.target === e.id).map((a) => ({ severity: a.severity, rule: a.rule, message: str(a.message, 300) })),
    cache: cache ? { hits: cache.hits, misses: cache.misses, hitRatePercent: share(cache.hits, cache.hits + cache.misses) } : null,
    slowestRecentRequests: slow.map(slowRow),
  };
}

/** Routes route_details describes in one answer (each with its spans: about 4 000 characters). */
const MAX_DETAILED = 4;

export const routeDetails = defineTool({
  name: 'route_details',
  title: 'Route details',
  description:
    'Everything RouteLens knows about one route: figures over the 1m, 5m and all windows (requests, errors, error rate in percent, p50/p95/p99/avg/max in ms), status code classes, requests per second, where it is registered and where its handler is (file:line:column), its firing alerts, its cache hit rate, its slowest recent requests, and why it is slow: the breakdown of its time by kind (db, redis, http, cache, middleware, own code: share in percent, mean ms per request) with its top operations and their call sites (from a sample of traced requests, "sampled" says so), its findings (N+1 queries, slow queries, sequential awaits, blocking work) and its 3 slowest kept traces (request id, duration, longest spans with their file:line:column). Give an endpoint id ("GET /users/:id") or a route template ("/users/:id", all methods).',
  input: z.object({ route: routeArg, agent: agentArg }),
  readOnly: true,
  async run(ctx, args) {
    const source = await ctx.source(args.agent);
    const snapshot = await source.snapshot();
    const matches = matchRoutes(snapshot.endpoints, args.route);
    if (!matches.length) {
      const known = [...snapshot.endpoints].sort((a, b) => b.count - a.count).slice(0, 20).map((e) => str(e.id));
      return fail('No route matches the one asked for. Known routes, busiest first, are in the data block.', { agent: agentOf(source), asked: str(args.route), knownRoutes: known });
    }
    const allFindings = (await orUnavailable(source.command('findings.list', {})))?.findings;
    const routes = [];
    for (const e of matches.slice(0, MAX_DETAILED)) routes.push({ ...details(e, snapshot), ...(await spansOf(source, e.id, allFindings)) });
    return ok(`${matches.length} route(s) match.`, { agent: agentOf(source), routes, more: Math.max(0, matches.length - MAX_DETAILED) });
  },
});

/** The request path without query values (the agent already redacts them; this keeps it so for any agent). */
export function redactQuery(path: string): string {
  const q = path.indexOf('?');
  if (q < 0) return path;
  const keys = path
    .slice(q + 1)
    .split('&')
    .filter(Boolean)
    .map((pair) => `${pair.split('=')[0]}=*`);
  return `${path.slice(0, q)}?${keys.join('&')}`;
}

function slowRow(r: SlowRequest) {
  return { at: iso(r.time), route: str(`${r.method} ${r.route}`), path: str(redactQuery(r.path), 300), status: r.status, durationMs: ms(r.duration), severity: r.severity };
}

export const slowRequests = defineTool({
  name: 'slow_requests',
  title: 'Slowest recent requests',
  description:
    'The slowest recent individual requests the app recorded (those over its slow-request threshold), slowest first: time (ISO 8601), endpoint, path with query values removed, status, duration (ms) and severity. Optionally only one route (endpoint id "GET /users/:id" or template "/users/:id").',
  input: z.object({ route: z.string().min(1).max(500).optional().describe('only this endpoint id or route template'), limit: limitArg(50, 10), agent: agentArg }),
  readOnly: true,
  async run(ctx, args) {
    const source = await ctx.source(args.agent);
    const snapshot = await source.snapshot();
    const route = args.route;
    const list = snapshot.slowRequests.filter((r) => !route || `${r.method} ${r.route}` === route || r.route === route).sort((a, b) => b.duration - a.duration);
    const data = { agent: agentOf(source), thresholdsMs: snapshot.thresholds.slowMs, requests: list.slice(0, args.limit).map(slowRow) };
    return ok(list.length ? `${Math.min(list.length, args.limit)} of ${list.length} slow request(s) recorded.` : `No slow request recorded${route ? ' for that route' : ''}.`, data);
  },
});
