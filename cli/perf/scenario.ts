/**
 * What to send to each route. GET and HEAD routes with parameters are driven with paths the
 * agent saw in real traffic (recorded in its history, else its slow-request log); a route
 * without parameters with the route itself; any route can be given paths, headers and a body
 * in a scenario file, which comes first. Other methods are driven only from the scenario file:
 * no write is ever invented.
 *
 * Scenario file (JSON):
 *   { "routes": { "GET /users/:id": { "paths": ["/users/1"], "headers": {...}, "body": ... } } }
 */
import { readFileSync } from 'node:fs';
import { routeHasParams } from '../../agent/history/paths';
import type { EndpointStats, Snapshot } from '../../protocol';

export interface RouteScenario {
  paths: string[];
  headers?: Record<string, string>;
  /** Sent as is (a string) or as JSON (anything else, with Content-Type: application/json). */
  body?: unknown;
}

export interface Scenario {
  routes: Record<string, RouteScenario>;
}

/**
 * Where a route's paths came from: the scenario file, the paths the agent recorded from real
 * traffic (its history), its slow-request log, or the route itself (no parameters).
 */
export type PathSource = 'scenario' | 'history' | 'slow-log' | 'route';

/** One route to drive. */
export interface Target {
  id: string;
  method: string;
  route: string;
  paths: string[];
  source: PathSource;
  headers: Record<string, string>;
  body?: string;
}

export interface Skipped {
  id: string;
  reason: string;
}

export interface Plan {
  targets: Target[];
  skipped: Skipped[];
}

export class ScenarioError extends Error {
  constructor(file: string, message: string) {
    super(`scenario ${file}: ${message}`);
    this.name = 'ScenarioError';
  }
}

const ROUTE_KEYS = ['paths', 'headers', 'body'];

/** Reads and checks a scenario file; every error names the bad key. */
export function readScenario(file: string): Scenario {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (err) {
    throw new ScenarioError(file, (err as Error).message);
  }
  return parseScenario(data, file);
}

export function parseScenario(data: unknown, file = '<scenario>'): Scenario {
  const fail = (m: string) => new ScenarioError(file, m);
  if (!isObject(data)) throw fail('must be a JSON object { "routes": { ... } }');
  for (const k of Object.keys(data)) if (k !== 'routes') throw fail(`unknown key ${JSON.stringify(k)} (expected "routes")`);
  const routes = data.routes;
  if (!isObject(routes)) throw fail('"routes" must be an object keyed by route id, e.g. "GET /users/:id"');
  const out: Record<string, RouteScenario> = {};
  for (const [id, raw] of Object.entries(routes)) {
    const at = `routes[${JSON.stringify(id)}]`;
    if (!/^[A-Z]+ \/\S*$/.test(id)) throw fail(`${at}: a route id is "METHOD /route", e.g. "GET /users/:id"`);
    if (!isObject(raw)) throw fail(`${at} must be an object { "paths": [...], "headers"?, "body"? }`);
    for (const k of Object.keys(raw)) if (!ROUTE_KEYS.includes(k)) throw fail(`${at}: unknown key ${JSON.stringify(k)} (expected ${ROUTE_KEYS.join(', ')})`);
    const paths = raw.paths;
    if (!Array.isArray(paths) || !paths.length) throw fail(`${at}.paths must be a non-empty array of paths such as "/users/1"`);
    paths.forEach((p, i) => {
      if (typeof p !== 'string' || !p.startsWith('/')) throw fail(`${at}.paths[${i}] must be a path starting with "/"`);
    });
    const entry: RouteScenario = { paths: paths as string[] };
    if (raw.headers !== undefined) {
      if (!isObject(raw.headers)) throw fail(`${at}.headers must be an object of strings`);
      for (const [h, v] of Object.entries(raw.headers)) if (typeof v !== 'string') throw fail(`${at}.headers[${JSON.stringify(h)}] must be a string`);
      entry.headers = raw.headers as Record<string, string>;
    }
    if (raw.body !== undefined) entry.body = raw.body;
    out[id] = entry;
  }
  return { routes: out };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const READS = new Set(['GET', 'HEAD']);
/** Paths per route kept from the slow-request log. */
const MAX_SLOW_LOG_PATHS = 5;

/** The routes whose paths would come from the agent's records: GET/HEAD with parameters, not in the scenario. */
export function routesNeedingPaths(snapshot: Snapshot, scenario: Scenario | undefined): string[] {
  return snapshot.endpoints.filter((e) => e.kind === 'route' && READS.has(e.method) && routeHasParams(e.route) && !scenario?.routes[e.id]).map((e) => e.id);
}

/** Paths of the slow-request log per route (query dropped). */
function slowLogPaths(snapshot: Snapshot): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const s of snapshot.slowRequests) {
    const id = `${s.method} ${s.route}`;
    const path = s.path.split('?')[0]!;
    if (!path.startsWith('/') || path.includes('*')) continue;
    const list = out.get(id) ?? [];
    if (list.length < MAX_SLOW_LOG_PATHS && !list.includes(path)) list.push(path);
    out.set(id, list);
  }
  return out;
}

/**
 * The routes of a snapshot, the scenario applied; a scenario naming an unknown route throws,
 * listing the known ones. A GET/HEAD route with parameters takes the scenario's paths, else
 * `recorded` (the agent's history), else the slow-request log's; else it is skipped.
 */
export function planRoutes(snapshot: Snapshot, scenario: Scenario | undefined, file = '<scenario>', recorded: ReadonlyMap<string, readonly string[]> = new Map()): Plan {
  const routes = snapshot.endpoints.filter((e: EndpointStats) => e.kind === 'route');
  const known = new Set(routes.map((e) => e.id));
  for (const id of Object.keys(scenario?.routes ?? {})) {
    if (!known.has(id)) {
      throw new ScenarioError(file, `no route ${JSON.stringify(id)} in the app; its routes are:\n  ${[...known].sort().join('\n  ') || '(none)'}`);
    }
  }
  const slow = slowLogPaths(snapshot);
  const targets: Target[] = [];
  const skipped: Skipped[] = [];
  for (const e of [...routes].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const declared = scenario?.routes[e.id];
    if (declared) {
      const body = declared.body === undefined ? undefined : typeof declared.body === 'string' ? declared.body : JSON.stringify(declared.body);
      const headers = { ...(body !== undefined && typeof declared.body !== 'string' ? { 'content-type': 'application/json' } : {}), ...declared.headers };
      targets.push({ id: e.id, method: e.method, route: e.route, paths: declared.paths, source: 'scenario', headers, ...(body !== undefined ? { body } : {}) });
      continue;
    }
    if (!READS.has(e.method)) {
      skipped.push({ id: e.id, reason: `${e.method} is driven only from a scenario file (no write is invented)` });
      continue;
    }
    if (!routeHasParams(e.route)) {
      targets.push({ id: e.id, method: e.method, route: e.route, paths: [e.route], source: 'route', headers: {} });
      continue;
    }
    const history = recorded.get(e.id) ?? [];
    const fromSlowLog = slow.get(e.id) ?? [];
    if (history.length) targets.push({ id: e.id, method: e.method, route: e.route, paths: [...history], source: 'history', headers: {} });
    else if (fromSlowLog.length) targets.push({ id: e.id, method: e.method, route: e.route, paths: fromSlowLog, source: 'slow-log', headers: {} });
    else skipped.push({ id: e.id, reason: 'has parameters, and no path was recorded or declared for it' });
  }
  return { targets, skipped };
}
