/**
 * The zero-code preload end to end, in child processes: a plain Express app (CommonJS and ES
 * module, Express 4 and 5) started with `node --require register.js` / `--import register.mjs`
 * is measured by route template, with the middleware in front of the app's own; and
 * ROUTELENS_DISABLED=1 leaves it untouched. The preload is bundled by ./child.ts, so the test
 * does not depend on a shared dist/.
 */
import { strict as assert } from 'node:assert';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
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

  function start(args: string[], app: string, env: Record<string, string>): Promise<{ port: number; child: ChildProcess; stderr: () => string }> {
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
    // Either flag instruments either kind of app: a require hook alone never sees an ESM import.
    ['ES-module app, --require register.js', ['--require', 'REG/register.js'], 'preload-app.mjs'],
    ['CommonJS app, --import register.mjs', ['--import', 'REG/register.mjs'], 'preload-app.cjs'],
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

  describe('mistakes are loud, and the app always starts', () => {
    /** The lines the agent wrote on stderr (`[routelens] … (CODE)`). */
    const agentLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('[routelens] '));

    const badEnv: Array<[string, Record<string, string>, RegExp]> = [
      ['ROUTELENS_PORT=abc', { ROUTELENS_PORT: 'abc' }, /^\[routelens\] ROUTELENS_PORT="abc" ignored: it takes an integer from 0 to 65535; the local server uses port 0 \(any free port\) \(ROUTELENS_WARN_INVALID_ENV\)$/],
      [
        'ROUTELENS_REDIS_URL=localhost:6379',
        { ROUTELENS_REDIS_URL: 'localhost:6379' },
        /^\[routelens\] ROUTELENS_REDIS_URL="localhost:6379" ignored: it takes a redis:\/\/ or rediss:\/\/ URL \(for example redis:\/\/localhost:6379\); the cache and rate limits run in memory, without Redis \(ROUTELENS_WARN_INVALID_ENV\)$/,
      ],
      ['REDIS_URL=localhost:6379 (the app\'s own variable)', { REDIS_URL: 'localhost:6379' }, /^\[routelens\] REDIS_URL is set, but the agent reads ROUTELENS_REDIS_URL .*set ROUTELENS_REDIS_URL \(ROUTELENS_WARN_REDIS_URL_IGNORED\)$/],
    ];
    for (const [title, env, line] of badEnv) {
      it(`preload with ${title}: one stderr line, the agent measures with the default, the app answers`, async () => {
        const { port, child, stderr } = await start(['--require', join(dir, 'agent/register.js')], 'preload-app.cjs', { RL_EXPRESS: 'express', ...env });
        try {
          const endpoints = await exercise(port);
          assert.equal(endpoints?.find((e) => e.id === 'GET /users/:id')?.count, 2, 'the agent is on');
          assert.equal((await get(port, '/users/7')).body, '{"id":"7"}');
          const lines = agentLines(stderr());
          assert.equal(lines.length, 1, stderr());
          assert.match(lines[0]!, line);
        } finally {
          child.kill('SIGTERM');
        }
      });
    }

    it('createAgent() with ROUTELENS_PORT=abc: the same line, and the app starts', async () => {
      const { port, child, stderr } = await start([], 'explicit-app.cjs', { RL_EXPRESS: 'express', ROUTELENS_PORT: 'abc' });
      try {
        assert.equal((await get(port, '/users/7')).body, '{"id":"7"}');
        const agents = JSON.parse((await get(port, '/__agents')).body) as { explicit: { token: string } | null; endpoints: Endpoint[] };
        assert.ok(agents.explicit, 'the agent\'s server runs');
        assert.equal(agents.endpoints.find((e) => e.id === 'GET /users/:id')?.count, 1);
        assert.deepEqual(
          agentLines(stderr()).map((l) => /\((ROUTELENS_WARN_[A-Z_]+)\)$/.exec(l)?.[1]),
          ['ROUTELENS_WARN_INVALID_ENV'],
        );
        assert.match(stderr(), /ROUTELENS_PORT="abc" ignored/);
      } finally {
        child.kill('SIGTERM');
      }
    });

    it('port in use, discovery directory not writable, non-loopback host: one line each on stderr, and the app answers', async () => {
      const busy = createServer();
      await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
      const busyPort = (busy.address() as AddressInfo).port;
      const notADir = join(dir, 'a-file');
      writeFileSync(notADir, 'x');
      const { port, child, stderr } = await start(['--require', join(dir, 'agent/register.js')], 'preload-app.cjs', {
        RL_EXPRESS: 'express',
        ROUTELENS_PORT: String(busyPort),
        ROUTELENS_HOST: '0.0.0.0',
        ROUTELENS_DISCOVERY_DIR: join(notADir, 'routelens'),
      });
      try {
        await exercise(port);
        const deadline = Date.now() + 5000;
        while (agentLines(stderr()).length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        const lines = agentLines(stderr());
        const codes = lines.map((l) => /\((ROUTELENS_WARN_[A-Z_]+)\)$/.exec(l)?.[1]).sort();
        assert.deepEqual(codes, ['ROUTELENS_WARN_DISCOVERY', 'ROUTELENS_WARN_NON_LOOPBACK_REFUSED', 'ROUTELENS_WARN_PORT_IN_USE'], stderr());
        assert.match(stderr(), new RegExp(`port ${busyPort} is in use: the local server listens on port \\d+ instead`));
        assert.match(stderr(), /host "0\.0\.0\.0" ignored: .* listens on 127\.0\.0\.1/);
        assert.match(stderr(), /cannot write the discovery file in .*a-file\/routelens .*set ROUTELENS_DISCOVERY_DIR/);
        assert.equal((await get(port, '/users/7')).body, '{"id":"7"}');
      } finally {
        child.kill('SIGTERM');
        busy.close();
      }
    });

    it('createAgent under the preload: the second agent warns once and does not advertise over the first', async () => {
      const discovery = join(dir, 'discovery-two');
      const { port, child, stderr } = await start(['--require', join(dir, 'agent/register.js')], 'explicit-app.cjs', {
        RL_EXPRESS: 'express',
        RL_PRELOADED: '1',
        ROUTELENS_DISCOVERY_DIR: discovery,
      });
      try {
        assert.equal((await get(port, '/users/7')).body, '{"id":"7"}');
        const agents = JSON.parse((await get(port, '/__agents')).body) as Record<'explicit' | 'preload', { token: string; discoveryFile: string | null } | null>;
        assert.ok(agents.preload?.discoveryFile, 'the preload\'s agent advertises');
        assert.equal(agents.explicit?.discoveryFile, null, 'the second agent writes no discovery file');
        const record = JSON.parse(readFileSync(agents.preload.discoveryFile, 'utf8')) as { token: string };
        assert.equal(record.token, agents.preload.token, 'the file is still the first agent\'s');
        const lines = agentLines(stderr());
        assert.equal(lines.length, 1, stderr());
        assert.match(lines[0]!, /a RouteLens agent is already running in this process .* writes no discovery file, .* \(ROUTELENS_WARN_SECOND_AGENT\)$/);
      } finally {
        child.kill('SIGTERM');
      }
    });
  });
});
