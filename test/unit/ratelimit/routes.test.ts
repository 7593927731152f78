/** RouteAttribution: which route a limiter counts a request under, and when. */
import assert from 'node:assert/strict';
import { channel } from 'node:diagnostics_channel';
import { stateOf } from '../../../agent/express/request';
import { Diagnostics } from '../../../agent/log';
import { MAX_REMEMBERED, RouteAttribution, type RoutedRequest } from '../../../agent/ratelimit/routes';
import { LimiterStats } from '../../../agent/ratelimit/stats';

const finished = channel('http.server.response.finish');

function setup(resolve?: (method: string, path: string) => string | undefined) {
  const errors: string[] = [];
  const looked: string[] = [];
  let attributed = 0;
  const resolveRoute = resolve
    ? (method: string, path: string) => {
        looked.push(`${method} ${path}`);
        return resolve(method, path);
      }
    : undefined;
  const routes = new RouteAttribution(resolveRoute, new Diagnostics({ warn: () => {}, error: (m) => errors.push(m) }), () => attributed++);
  const stats = new LimiterStats();
  return { routes, stats, errors, looked, attributed: () => attributed };
}

const request = (method: string, originalUrl: string): RoutedRequest => ({ method, originalUrl, url: originalUrl });
const routesOf = (stats: LimiterStats) => stats.snapshot(0, { name: 'x', algorithm: 'fixed-window', windowMs: 1, max: 1, store: 'memory', onStoreError: 'memory' }).routes;

describe('RouteAttribution', () => {
  it('matched(): the route capture marked, with the method; undefined before routing', () => {
    const { routes } = setup();
    const req = request('GET', '/users/1');
    assert.equal(routes.matched(req), undefined);
    stateOf(req).route = '/users/:id';
    assert.equal(routes.matched(req), 'GET /users/:id');
  });

  it('routeOf(): the route table for the full path without the query; templates get the method; no table or no match: (unmatched)', () => {
    const { routes, looked } = setup((_m, p) => (p.startsWith('/users/') ? '/users/:id' : undefined));
    assert.equal(routes.routeOf({ method: 'GET', originalUrl: '/api/x?y=1', url: '/x?y=1' }), 'GET (unmatched)');
    assert.equal(routes.routeOf(request('POST', '/users/7?full=1#top')), 'POST /users/:id');
    assert.deepEqual(looked, ['GET /api/x', 'POST /users/7']);
    assert.equal(setup().routes.routeOf(request('GET', '/users/1')), 'GET (unmatched)');
  });

  it('routeOf(): matches are remembered (up to MAX_REMEMBERED paths, then forgotten at once), misses are not', () => {
    const { routes, looked } = setup((m, p) => (p === '/missing' ? undefined : `${m} /any`));
    routes.routeOf(request('GET', '/a'));
    routes.routeOf(request('GET', '/a'));
    routes.routeOf(request('GET', '/missing'));
    routes.routeOf(request('GET', '/missing'));
    assert.deepEqual(looked, ['GET /a', 'GET /missing', 'GET /missing']);
    for (let i = 0; i < MAX_REMEMBERED; i++) routes.routeOf(request('GET', `/p${i}`));
    looked.length = 0;
    routes.routeOf(request('GET', '/a'));
    assert.deepEqual(looked, ['GET /a'], 'the memory was cleared when full');
  });

  it('a throwing route table counts as (unmatched) and is reported', () => {
    const { routes, errors } = setup(() => {
      throw new Error('table boom');
    });
    assert.equal(routes.routeOf(request('GET', '/x')), 'GET (unmatched)');
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /ratelimit\.resolveRoute/);
  });

  it('attributeOnFinish(): counted when the response finish is published, under the route marked by then, once per limiter', () => {
    const { routes, stats, looked, attributed } = setup(() => '/never');
    const other = new LimiterStats();
    const req = request('GET', '/orgs/acme');
    const res = { writableFinished: false, destroyed: false };
    routes.attributeOnFinish(req, res, stats);
    routes.attributeOnFinish(req, res, other);
    assert.equal(routes.waiting, 1);
    stateOf(req).route = '/orgs/:org';
    finished.publish({ request: req, response: res });
    assert.deepEqual(routesOf(stats), [{ route: 'GET /orgs/:org', allowed: 1, limited: 0 }]);
    assert.deepEqual(routesOf(other), [{ route: 'GET /orgs/:org', allowed: 1, limited: 0 }]);
    assert.equal(routes.waiting, 0);
    assert.equal(attributed(), 1);
    assert.deepEqual(looked, []);
    finished.publish({ request: req, response: res });
    assert.equal(routesOf(stats)[0]!.allowed, 1, 'a second publication counts nothing');
    routes.close();
  });

  it('flush(): responses that ended without a finish event are counted by the route table; those in flight wait', () => {
    const { routes, stats } = setup(() => '/users/:id');
    const aborted = { writableFinished: false, destroyed: false };
    const inFlight = { writableFinished: false, destroyed: false };
    routes.attributeOnFinish(request('GET', '/users/1'), aborted, stats);
    routes.attributeOnFinish(request('GET', '/users/2'), inFlight, stats);
    routes.flush();
    assert.deepEqual(routesOf(stats), []);
    aborted.destroyed = true;
    routes.flush();
    assert.deepEqual(routesOf(stats), [{ route: 'GET /users/:id', allowed: 1, limited: 0 }]);
    assert.equal(routes.waiting, 1);
    routes.close();
    assert.equal(routes.waiting, 0);
  });

  it('requests whose responses ended without a finish event are swept while others arrive, not held until the stats are read', () => {
    const { routes, stats } = setup(() => '/users/:id');
    const aborted = { writableFinished: false, destroyed: false };
    routes.attributeOnFinish(request('GET', '/users/0'), aborted, stats);
    aborted.destroyed = true;
    const inFlight = { writableFinished: false, destroyed: false };
    for (let i = 1; i < 1024; i++) routes.attributeOnFinish(request('GET', `/users/${i}`), inFlight, stats);
    assert.equal(routes.waiting, 1023, 'the aborted one was swept');
    assert.deepEqual(routesOf(stats), [{ route: 'GET /users/:id', allowed: 1, limited: 0 }]);
    routes.close();
  });

  it('close(): stops listening for finished responses', () => {
    const { routes, stats } = setup();
    const req = request('GET', '/x');
    routes.attributeOnFinish(req, { writableFinished: false, destroyed: false }, stats);
    routes.close();
    finished.publish({ request: req, response: {} });
    assert.deepEqual(routesOf(stats), []);
  });
});
