import assert from 'node:assert/strict';
import type { FullRoute } from '../../../agent/express/model';
import { RouteIndex } from '../../../agent/express/route-index';
import { compileMatcher, stringSource } from '../../../agent/express/paths';

/** A matcher that counts its calls. */
class CountingRegExp extends RegExp {
  tests = 0;
  override test(s: string): boolean {
    this.tests++;
    return super.test(s);
  }
}

/** A table entry as route capture makes it for a string path (compiled by compileMatcher); its matcher counts its calls. */
function route(method: string, template: string, source = stringSource(template)): FullRoute & { matcher: CountingRegExp } {
  const compiled = compileMatcher(source)!;
  const matcher = new CountingRegExp(compiled.source, compiled.flags);
  return { method, route: template, location: undefined, handlerLocation: undefined, entry: undefined as unknown as FullRoute['entry'], source, matcher };
}

const anyMethod = () => true;

/** What the table answered before the index: the first route in registration order whose matcher matches. */
function scan(order: readonly FullRoute[], path: string): number {
  return order.findIndex((f) => f.matcher?.test(path) === true);
}

/** Plain, constrained, wildcard, optional and RegExp routes, in registration order. */
function mixedTable(): FullRoute[] {
  return [
    route('GET', '/users/:id'),
    route('GET', '/users/me'),
    route('GET', '/'),
    route('GET', '/files/*'),
    route('GET', '/orders/:id(\\d+)'),
    route('GET', '/orders/:slug'),
    route('GET', '/API/Items/:item/parts/:part'),
    route('GET', '/^\\/re\\/x$/i', '(?:\\/re\\/x)'),
    route('GET', '/a/:b?'),
    route('GET', '/shop/:cat/:item'),
    route('GET', '/shop/special/:item'),
  ];
}

describe('RouteIndex (the route table match)', () => {
  it('answers what a scan in registration order answers, for plain, constrained, wildcard and RegExp routes', () => {
    const order = mixedTable();
    const index = new RouteIndex();
    index.update(order);
    assert.deepEqual(index.sizes, { indexed: 6, scanned: 5 });
    const paths = ['/users/1', '/users/me', '/users/me/', '/', '/files/a/b', '/orders/42', '/orders/abc', '/api/items/7/PARTS/9', '/re/x', '/a', '/a/1', '/shop/special/3', '/shop/x/3', '/nowhere', '/users//', '//', '/users/1/2'];
    for (const p of paths) assert.equal(index.first(order, p, anyMethod), scan(order, p), p);
  });

  it('keeps the first registered route when a later one matches too, and honours the method filter', () => {
    const order = [route('POST', '/items/:id'), route('GET', '/items/new'), route('GET', '/items/:id')];
    const index = new RouteIndex();
    index.update(order);
    assert.equal(index.first(order, '/items/new', (f) => f.method === 'GET'), 1);
    assert.equal(index.first(order, '/items/7', (f) => f.method === 'GET'), 2);
    assert.equal(index.first(order, '/items/7', anyMethod), 0);
  });

  it('answers as the scan does when later routes end at, or go on through, a literal that held only a parameter', () => {
    const order = [route('GET', '/users/:id'), route('GET', '/users'), route('GET', '/users/:id/posts'), route('GET', '/users/:name/:tab'), route('GET', '/teams/:id'), route('GET', '/teams/all')];
    const index = new RouteIndex();
    const paths = ['/users', '/users/', '/users/7', '/users/7/posts', '/users/7/likes', '/users/7/posts/1', '/teams/1', '/teams/all', '/teams', '/teams/1/x'];
    // Indexed one route at a time, so every shape is looked up before and after each route arrives.
    for (let n = 1; n <= order.length; n++) {
      const table = order.slice(0, n);
      index.update(table);
      for (const p of paths) {
        assert.equal(index.first(table, p, anyMethod), scan(table, p), `${n} routes: ${p}`);
        assert.equal(index.guess(table, p, 'GET'), scan(table, p), `${n} routes, guessed: ${p}`);
      }
    }
    assert.deepEqual(index.sizes, { indexed: 6, scanned: 0 });
  });

  it('indexes routes registered after the first lookup', () => {
    const order = [route('GET', '/a')];
    const index = new RouteIndex();
    index.update(order);
    assert.equal(index.first(order, '/b', anyMethod), -1);
    order.push(route('GET', '/b'));
    index.update(order);
    assert.equal(index.first(order, '/b', anyMethod), 1);
  });

  it('does not scan: with 5000 routes a lookup tries only the routes of the path’s shape', () => {
    const order: Array<ReturnType<typeof route>> = [];
    for (let i = 0; i < 5000; i++) order.push(route('GET', `/r${i}/:id`));
    const index = new RouteIndex();
    index.update(order);
    for (const [path, expected] of [
      ['/r4999/7', 4999],
      ['/r0/7', 0],
      ['/r2500/x/', 2500],
      ['/missing/7', -1],
    ] as const) {
      for (const r of order) r.matcher.tests = 0;
      assert.equal(index.first(order, path, anyMethod), expected, path);
      const tried = order.reduce((sum, r) => sum + r.matcher.tests, 0);
      assert.ok(tried <= 1, `${path}: ${tried} matchers tried`);
    }
  });

  it('guesses a request URL’s route as the scan does, for plain, constrained, wildcard and RegExp routes, with the query ignored', () => {
    const order = mixedTable();
    const index = new RouteIndex();
    index.update(order);
    const paths = ['/users/1', '/users/me', '/users/me/', '/', '/files/a/b', '/orders/42', '/orders/abc', '/api/items/7/PARTS/9', '/re/x', '/shop/special/3', '/shop/x/3', '/nowhere', '/users/1/2'];
    for (const p of paths) {
      assert.equal(index.guess(order, p, 'GET'), scan(order, p), p);
      assert.equal(index.guess(order, `${p}?q=1/2&r=/x`, 'GET'), scan(order, p), `${p} with a query`);
    }
    assert.equal(index.guess(order, 'http://host/users/1', 'GET'), -1, 'an absolute-form URL is not guessed');
  });

  it('guesses by method (HEAD reaches GET, OPTIONS any) without compiling or running a plain route’s matcher', () => {
    const order = [route('POST', '/items/:id'), route('GET', '/items/new'), route('GET', '/items/:id'), route('ALL', '/any')];
    const index = new RouteIndex();
    index.update(order);
    for (const r of order) r.matcher.tests = 0;
    assert.equal(index.guess(order, '/items/new', 'GET'), 1);
    assert.equal(index.guess(order, '/items/7', 'GET'), 2);
    assert.equal(index.guess(order, '/items/7', 'HEAD'), 2);
    assert.equal(index.guess(order, '/items/7', 'POST'), 0);
    assert.equal(index.guess(order, '/items/7', 'OPTIONS'), 0);
    assert.equal(index.guess(order, '/any', 'DELETE'), 3);
    assert.equal(index.guess(order, '/items/7', 'DELETE'), -1);
    assert.equal(
      order.reduce((sum, r) => sum + r.matcher.tests, 0),
      0,
    );
  });
});
