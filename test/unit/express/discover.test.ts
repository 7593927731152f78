import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handlersByMethod, mountPartOf } from '../../../agent/express/discover';
import { registrationSite } from '../../../agent/express/location';

describe('express/discover', () => {
  describe('mountPartOf: a use() layer’s path', () => {
     
    const express4 = require('express4') as { Router(): { use(...a: unknown[]): void; stack: Array<Record<string, unknown>> } };
    const texts = (path: unknown): string[] | undefined => {
      const r = express4.Router();
      r.use(path, () => undefined);
      return mountPartOf(r.stack[0] as never)?.map((a) => a.text);
    };

    it('Express 4: turns the compiled regexp back into the path as written', () => {
      assert.deepEqual(texts('/api'), ['/api']);
      assert.deepEqual(texts('/orgs/:org'), ['/orgs/:org']);
      assert.deepEqual(texts('/orgs/:org/teams/:team'), ['/orgs/:org/teams/:team']);
      assert.deepEqual(texts('/opt/:x?'), ['/opt/:x?']);
      assert.deepEqual(texts('/x/:id(\\d+)'), ['/x/:id(\\d+)']);
      assert.deepEqual(texts('/star*'), ['/star*']);
      assert.deepEqual(texts('/'), ['']);
      assert.deepEqual(texts(['/a', '/b/:x']), ['/a', '/b/:x']);
      assert.deepEqual(texts(/^\/re\d+/), ['/\\/re\\d+/'], 'a RegExp path stays a regex literal');
    });

    it('Express 5: the path as given (rawPath); unreadable layers give undefined', () => {
      assert.deepEqual(mountPartOf({ handle: null, rawPath: '/shop/:shop' })?.map((a) => a.text), ['/shop/:shop']);
      assert.deepEqual(mountPartOf({ handle: null, slash: true })?.map((a) => a.text), ['']);
      assert.equal(mountPartOf({ handle: null }), undefined);
    });
  });

  it('handlersByMethod: methods in order of appearance with their last handler; every verb is ALL', () => {
    const a = (): void => undefined;
    const b = (): void => undefined;
    const c = (): void => undefined;
    assert.deepEqual(handlersByMethod([{ handle: a, method: 'get' }, { handle: b, method: 'get' }, { handle: c, method: 'post' }]), [['GET', b], ['POST', c]]);
    assert.deepEqual(handlersByMethod([{ handle: a, method: undefined }]), [['ALL', a]]);
     
    const { METHODS } = require('node:http') as { METHODS: string[] };
    assert.deepEqual(handlersByMethod(METHODS.map((m) => ({ handle: a, method: m.toLowerCase() }))), [['ALL', a]]);
    assert.deepEqual(handlersByMethod(undefined), []);
  });

  describe('registrationSite: where a discovered route was registered, from its handler', () => {
    let dir: string;
    let routes: string;
    let handlers: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'routelens-site-'));
      routes = join(dir, 'routes.js');
      handlers = join(dir, 'handlers.js');
      writeFileSync(
        routes,
        [
          "router.get('/', function (req, res) {", // 1
          '  res.send(1);', // 2
          '});', // 3
          'router', // 4
          "  .route('/:id')", // 5
          '  .get((req, res) => res.end())', // 6
          "router.get('/list', listUsers);", // 7
          "router.post('/dup', a);", // 8
          "other.post('/dup', b);", // 9
        ].join('\n'),
      );
      writeFileSync(handlers, ['exports.listUsers = function listUsers(req, res) {', '  res.end();', '};'].join('\n'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('the call on the handler’s line or just above it, with the route’s path written before the handler', () => {
      assert.deepEqual(registrationSite({ file: routes, line: 1, column: 17 }, 'GET', '/', []), { file: routes, line: 1, column: 8 });
      assert.deepEqual(registrationSite({ file: routes, line: 6, column: 8 }, 'GET', '/:id', []), { file: routes, line: 6, column: 4 }, 'route() chains');
      assert.equal(registrationSite({ file: routes, line: 6, column: 8 }, 'GET', '/other', []), undefined, 'another path: not this call');
      assert.equal(registrationSite({ file: routes, line: 1, column: 17 }, 'POST', '/', []), undefined, 'another method: not this call');
    });

    it('a handler defined elsewhere: the one call with this method and path in the router’s files', () => {
      assert.deepEqual(registrationSite({ file: handlers, line: 1, column: 21 }, 'GET', '/list', [routes]), { file: routes, line: 7, column: 8 });
      assert.equal(registrationSite({ file: handlers, line: 1, column: 21 }, 'GET', '/list', []), undefined, 'not in the handler’s own file');
      assert.equal(registrationSite({ file: handlers, line: 1, column: 21 }, 'POST', '/dup', [routes]), undefined, 'found twice: unknown');
      assert.equal(registrationSite({ file: join(dir, 'missing.js'), line: 1, column: 1 }, 'GET', '/x', []), undefined);
    });
  });
});
