/**
 * The zero-code preload end to end, in child processes: a plain Express app (CommonJS and ES
 * module, Express 4 and 5) started with `node --require register.js` / `--import register.mjs`
 * is measured by route template, with the middleware in front of the app's own; and
 * ROUTELENS_DISABLED=1 leaves it untouched. The preload is bundled by ./child.ts, so the test
 * does not depend on a shared dist/.
 */
import { strict as assert } from 'node:assert';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { type Bundle, bundleAgent } from './child';
import { get } from './support';

interface Endpoint {
  id: string;
  count: number;
  line?: number;
}

describe('express preload (routelens/register)', function () {
  this.timeout(60_000);
  let bundle: Bundle;
  let dir: string;

  before(async () => {
    bundle = await bundleAgent('routelens-preload-');
    dir = bundle.dir;
  });
  after(() => bundle.close());

  function start(args: string[], app: string, env: Record<string, string>): Promise<{ port: number; child: ChildProcess }> {
    return bundle.start(args, app, env);
  }

  async function exercise(port: number): Promise<Endpoint[] | null> {
    for (const path of ['/users/1', '/users/2', '/api/items/3', '/early', '/nope']) {
      const r = await get(port, path);
      assert.ok(r.status === 200 || r.status === 404, `${path}: ${r.status}`);
    }
    await new Promise((r) => setTimeout(r, 50));
    return JSON.parse((await get(port, '/__routelens')).body) as Endpoint[] | null;
  }

  const cases: Array<[string, string[], string]> = [
    ['CommonJS app, --require register.js', ['--require', 'REG/register.js'], 'preload-app.cjs'],
    ['ES-module app, --import register.mjs', ['--import', 'REG/register.mjs'], 'preload-app.mjs'],
  ];
  for (const expressName of ['express4', 'express']) {
    for (const [title, rawArgs, app] of cases) {
      it(`${title} (${expressName === 'express' ? 'express5' : expressName}): measured by template, middleware first`, async () => {
        const args = rawArgs.map((a) => a.replace('REG', join(dir, 'agent')));
        const { port, child } = await start(args, app, { RL_EXPRESS: expressName });
        try {
          const endpoints = await exercise(port);
          assert.ok(endpoints, 'the preload created an agent');
          const byId = new Map(endpoints.map((e) => [e.id, e]));
          assert.equal(byId.get('GET /users/:id')?.count, 2, JSON.stringify(endpoints));
          assert.equal(byId.get('GET /api/items/:id')?.count, 1);
          assert.ok(byId.get('GET /users/:id')?.line, 'registration site known');
          // /early is answered by the app's first middleware: measured only if ours runs before it
          const unmatched = endpoints.filter((e) => e.id.startsWith('GET ') && e.id.includes('unmatched'));
          assert.equal(unmatched.reduce((n, e) => n + e.count, 0), 2, JSON.stringify(endpoints));
          assert.ok(![...byId.keys()].some((id) => /\/users\/\d/.test(id)), 'no raw URLs');
        } finally {
          child.kill('SIGTERM');
        }
      });
    }
  }

  it('NODE_OPTIONS="--require register.js" works the same (express5)', async () => {
    const { port, child } = await start([], 'preload-app.cjs', { RL_EXPRESS: 'express', NODE_OPTIONS: `--require ${join(dir, 'agent/register.js')}` });
    try {
      const endpoints = await exercise(port);
      assert.equal(endpoints?.find((e) => e.id === 'GET /users/:id')?.count, 2, JSON.stringify(endpoints));
    } finally {
      child.kill('SIGTERM');
    }
  });

  for (const [title, rawArgs, app] of cases) {
    it(`ROUTELENS_DISABLED=1 leaves the app untouched (${title})`, async () => {
      const args = rawArgs.map((a) => a.replace('REG', join(dir, 'agent')));
      const { port, child } = await start(args, app, { RL_EXPRESS: 'express', ROUTELENS_DISABLED: '1' });
      try {
        assert.equal(await exercise(port), null);
        assert.equal((await get(port, '/users/7')).body, '{"id":"7"}');
      } finally {
        child.kill('SIGTERM');
      }
    });
  }
});
