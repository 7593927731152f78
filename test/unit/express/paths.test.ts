import { strict as assert } from 'node:assert';
import { MAX_TEMPLATE, compileMatcher, joinParts, stringSource, templateOf, toPart } from '../../../agent/express/paths';

function full(prefix: unknown, path: unknown): string[] {
  return joinParts(toPart(prefix, true), toPart(path, false)).map((a) => templateOf(a.text));
}
function matches(template: string, path: string): boolean {
  return compileMatcher(stringSource(template))!.test(path);
}

describe('express/paths', () => {
  it('toPart/joinParts: mount prefixes join route paths without doubled or missing slashes', () => {
    assert.deepEqual(full('/api', '/users/:id'), ['/api/users/:id']);
    assert.deepEqual(full('/api/', '/'), ['/api']);
    assert.deepEqual(full('/', '/'), ['/']);
    assert.deepEqual(full('/orgs/:org', '/users/:id'), ['/orgs/:org/users/:id']);
    assert.deepEqual(full('/v1', ['/a', ['/b']]), ['/v1/a', '/v1/b']);
    assert.deepEqual(full(['/x', '/y'], '/z'), ['/x/z', '/y/z']);
    assert.deepEqual(full('', 'noslash'), ['/noslash']);
  });

  it('toPart: a RegExp path reads as its literal', () => {
    assert.deepEqual(toPart(/^\/re(\d+)$/i, false).map((a) => a.text), ['/^\\/re(\\d+)$/i']);
  });

  it('toPart: huge and garbage values are cut or stringified, never thrown', () => {
    const long = toPart('/' + 'a'.repeat(100_000), false)[0]!.text;
    assert.ok(long.length <= MAX_TEMPLATE);
    assert.deepEqual(toPart(42, false).map((a) => a.text), ['/42']);
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    assert.doesNotThrow(() => toPart(cyclic, false));
  });

  it('stringSource: Express 4 and 5 syntaxes match what Express matches', () => {
    assert.ok(matches('/users/:id', '/users/42'));
    assert.ok(matches('/users/:id', '/users/42/'));
    assert.ok(!matches('/users/:id', '/users/42/x'));
    assert.ok(!matches('/users/:id', '/users/'));
    assert.ok(matches('/users/:id?', '/users'));
    assert.ok(matches('/users/:id?', '/users/1'));
    assert.ok(matches('/files/:id(\\d+)', '/files/12'));
    assert.ok(!matches('/files/:id(\\d+)', '/files/ab'));
    assert.ok(matches('/files/*', '/files/a/b/c'));
    assert.ok(matches('/files/*path', '/files/a/b'));
    assert.ok(matches('/book{/:chapter}', '/book'));
    assert.ok(matches('/book{/:chapter}', '/book/3'));
    assert.ok(matches('/a.b', '/a.b'));
    assert.ok(!matches('/a.b', '/aXb'), 'literal dots are escaped');
    assert.ok(matches('/Users/:id', '/users/1'), 'case-insensitive like Express by default');
  });

  it('compileMatcher: an invalid source gives undefined, not a throw', () => {
    assert.equal(compileMatcher('(('), undefined);
  });
});
