import { strict as assert } from 'node:assert';
import { registrationFrame } from '../../../agent/express/location';
import { type ClosureReader, nestTarget } from '../../../agent/express/nest';

/** A fake heap: functions by id with their file and scopes (scope description → variable names). */
interface FakeFn {
  file: string;
  scopes: Array<[string, string[]]>;
}

function reader(fns: Record<string, FakeFn>): ClosureReader & { calls: number } {
  const r = {
    calls: 0,
    describe(id: string) {
      r.calls++;
      const fn = fns[id];
      return { file: fn?.file, scopes: fn ? `scopes:${id}` : undefined };
    },
    properties(id: string) {
      r.calls++;
      if (id.startsWith('scopes:')) {
        return fns[id.slice(7)]!.scopes.map(([description], i) => ({ name: String(i), type: 'object', objectId: `scope:${id.slice(7)}:${i}`, description }));
      }
      const [, fn, i] = id.split(':');
      return fns[fn!]!.scopes[Number(i)]![1].map((v) => ({ name: v, type: fns[v] ? 'function' : 'object', objectId: v, description: undefined }));
    },
  };
  return r;
}

const CORE = '/app/node_modules/@nestjs/core/router';
const isUser = (file: string): boolean => !file.includes('/node_modules/');

describe('express/nest', () => {
  it('nestTarget follows the proxy and the execution context to the controller method Nest calls', () => {
    const heap = {
      proxy: { file: `${CORE}/router-proxy.js`, scopes: [['Closure (createProxy)', ['exceptionsHandler', 'context']], ['Global', ['userGlobal']]] },
      context: { file: `${CORE}/router-execution-context.js`, scopes: [['Block (create)', []], ['Closure (create)', ['instance', 'findOne', 'pipes']], ['Module', ['other']]] },
      findOne: { file: '/app/dist/items.controller.js', scopes: [] },
      pipes: { file: `${CORE}/pipes.js`, scopes: [] },
      userGlobal: { file: '/app/dist/global.js', scopes: [] },
      other: { file: '/app/dist/other.js', scopes: [] },
    } satisfies Record<string, FakeFn>;
    assert.equal(nestTarget(reader(heap as Record<string, FakeFn>), 'proxy', isUser), 'findOne');
  });

  it('nestTarget: nothing outside Nest is followed, module and global scopes are not read, and the walk is bounded', () => {
    const heap: Record<string, FakeFn> = {
      proxy: { file: `${CORE}/router-proxy.js`, scopes: [['Closure', ['lib', 'loop']], ['Module', ['userFn']], ['Global', ['userFn']]] },
      // a library's function holding a user function: not followed (not Nest's)
      lib: { file: '/app/node_modules/other/index.js', scopes: [['Closure', ['userFn']]] },
      // Nest functions referring to each other forever
      loop: { file: `${CORE}/loop.js`, scopes: [['Closure', ['loop', 'proxy']]] },
      userFn: { file: '/app/dist/user.js', scopes: [] },
    };
    const r = reader(heap);
    assert.equal(nestTarget(r, 'proxy', isUser), undefined);
    assert.ok(r.calls <= 64, `inspector calls: ${r.calls}`);
  });

  it('nestTarget reads a request-scoped controller’s method from the instance and the method name its handler holds', () => {
    const heap: Record<string, FakeFn> = {
      scopedHandler: { file: `${CORE}/router-explorer.js`, scopes: [['Closure (createRequestScopedHandler)', ['methodName', 'instance']]] },
      which: { file: '/app/dist/scoped.controller.js', scopes: [] },
    };
    const r = reader(heap);
    const properties = r.properties.bind(r);
    r.properties = (id: string, inherited?: boolean) => {
      if (id === 'instance') return inherited ? [{ name: 'constructor', type: 'function', objectId: 'which-class', description: undefined }, { name: 'which', type: 'function', objectId: 'which', description: undefined }] : [];
      const vars = properties(id);
      return vars.map((v) => (v.name === 'methodName' ? { ...v, type: 'string', objectId: undefined, value: 'which' } : v.name === 'instance' ? { ...v, type: 'object' } : v));
    };
    assert.equal(nestTarget(r, 'scopedHandler', isUser), 'which');
  });

  it('nestTarget never throws: a failing inspector gives undefined', () => {
    const broken: ClosureReader = {
      describe: () => {
        throw new Error('gone');
      },
      properties: () => [],
    };
    assert.equal(nestTarget(broken, 'x', isUser), undefined);
  });

  it('registrationFrame tells a registration made by @nestjs/core (under the app.listen() frame) from the user’s own', () => {
    const nest = [
      'Error',
      '    at Route.get (/app/node_modules/router/lib/route.js:10:3)',
      '    at Function.get (/app/node_modules/express/lib/application.js:480:5)',
      '    at ExpressAdapter.get (/app/node_modules/@nestjs/core/adapters/http-adapter.js:20:26)',
      '    at RouterExplorer.applyCallbackToRouter (file:///app/node_modules/@nestjs/core/router/router-explorer.js:112:21)',
      '    at async bootstrap (/app/dist/main.js:28:3)',
    ].join('\n');
    const nestResult = registrationFrame(nest);
    assert.equal(nestResult.byNest, true);
    assert.deepEqual(nestResult.site, { file: '/app/dist/main.js', line: 28, column: 3 });
    const own = ['Error', '    at Route.get (/app/node_modules/router/lib/route.js:10:3)', '    at Object.<anonymous> (/app/src/app.js:5:5)'].join('\n');
    assert.equal(registrationFrame(own).byNest, false);
    // @nestjs/common (or any other Nest package) is not the router explorer
    assert.equal(registrationFrame(['Error', '    at x (/app/node_modules/@nestjs/common/y.js:1:1)', '    at /app/src/app.js:5:5'].join('\n')).byNest, false);
  });
});
