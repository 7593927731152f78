/**
 * createRateLimits() middleware in memory mode against real Express 4 and 5
 * servers: limits, headers, keys, trust proxy, commands and stats.
 */
import assert from 'node:assert/strict';
import express5 from 'express';
import express4 from 'express4';
import type { Request } from 'express';
import { RouteLensError } from '../../../agent/errors';
import { stateOf } from '../../../agent/express/request';
import { createRateLimits, type RateLimitOptions, type RateLimits } from '../../../agent/ratelimit';
import { ProtocolError } from '../../../protocol';
import { type Served, fakeClock, hit, hits, recordingDiag, serve, waitFor } from './helpers';

type AnyApp = ReturnType<typeof express5>;
const versions: Array<[string, () => AnyApp]> = [
  ['Express 5', () => express5()],
  ['Express 4', () => express4() as unknown as AnyApp],
];

for (const [version, makeApp] of versions) {
  describe(`ratelimit middleware (memory, ${version})`, () => {
    let served: Served[] = [];
    let limits: RateLimits[] = [];
    afterEach(async () => {
      await Promise.all(served.map((s) => s.close()));
      await Promise.all(limits.map((l) => l.close()));
      served = [];
      limits = [];
    });

    async function setup(options: RateLimitOptions, tweak?: (app: AnyApp) => void, deps: Partial<Parameters<typeof createRateLimits>[0]> = {}) {
      const rec = recordingDiag();
      const t = fakeClock();
      const rl = createRateLimits({ diag: rec.diag, clock: t.clock, ...deps });
      limits.push(rl);
      const app = makeApp();
      tweak?.(app);
      const mw = rl.create(options);
      app.use(mw);
      app.get('/', (_req, res) => {
        res.send('ok');
      });
      app.get('/other', (_req, res) => {
        res.send('other');
      });
      const s = await serve(app);
      served.push(s);
      return { rl, url: s.url, t, mw, ...rec };
    }

    it('create(): allows max, then 429 with draft-8 RateLimit, RateLimit-Policy, Retry-After and the default body', async () => {
      const { url, mw } = await setup({ max: 2, windowMs: 10_000, name: 'basic' });
      assert.equal(mw.limiterName, 'basic');
      const a = await hit(url);
      assert.equal(a.status, 200);
      assert.equal(a.headers.get('ratelimit'), '"basic"; r=1; t=10');
      assert.match(a.headers.get('ratelimit-policy') ?? '', /^"basic"; q=2; w=10; pk=:[A-Za-z0-9+/=]+:$/);
      assert.equal(a.headers.get('x-ratelimit-limit'), null, 'legacy headers are off by default');
      assert.equal(a.headers.get('retry-after'), null);
      assert.equal((await hit(url)).headers.get('ratelimit'), '"basic"; r=0; t=10');
      const limited = await hit(url);
      assert.equal(limited.status, 429);
      assert.equal(limited.headers.get('retry-after'), '10');
      assert.equal(limited.body, 'Too many requests, please try again later.');
    });

    it('create(): legacy X-RateLimit-* headers and drafts 7 and 6 when asked', async () => {
      const legacy = await setup({ max: 3, windowMs: 60_000, legacyHeaders: true, standardHeaders: 'draft-7' });
      const r = await hit(legacy.url);
      assert.equal(r.headers.get('x-ratelimit-limit'), '3');
      assert.equal(r.headers.get('x-ratelimit-remaining'), '2');
      assert.match(r.headers.get('x-ratelimit-reset') ?? '', /^\d{10}$/);
      assert.equal(r.headers.get('ratelimit'), 'limit=3, remaining=2, reset=60');
      assert.equal(r.headers.get('ratelimit-policy'), '3;w=60');
      const d6 = await setup({ max: 3, windowMs: 60_000, standardHeaders: 'draft-6' });
      const r6 = await hit(d6.url);
      assert.equal(r6.headers.get('ratelimit-limit'), '3');
      assert.equal(r6.headers.get('ratelimit-remaining'), '2');
      assert.equal(r6.headers.get('ratelimit-reset'), '60');
    });

    it('create(): configurable message, statusCode and handler', async () => {
      const json = await setup({ max: 0, message: { error: 'slow down' }, statusCode: 503 });
      const r = await hit(json.url);
      assert.equal(r.status, 503);
      assert.deepEqual(JSON.parse(r.body), { error: 'slow down' });
      const fn = await setup({ max: 0, message: (req: Request) => `no ${req.path}` });
      assert.equal((await hit(fn.url + '/other')).body, 'no /other');
      const custom = await setup({
        max: 0,
        handler: (_req, res) => {
          res.status(418).send('teapot');
        },
      });
      const c = await hit(custom.url);
      assert.deepEqual([c.status, c.body], [418, 'teapot']);
      assert.equal(custom.rl.list()[0].limited, 1, 'a custom handler still counts as limited');
    });

    it('fixed window: exact limits at the window edges (injected clock)', async () => {
      const { url, t } = await setup({ max: 3, windowMs: 1000 });
      assert.deepEqual(await hits(url, 4), [200, 200, 200, 429]);
      t.now += 999;
      assert.deepEqual(await hits(url, 1), [429]);
      t.now += 1;
      assert.deepEqual(await hits(url, 4), [200, 200, 200, 429]);
    });

    it('token bucket and sliding window limit through the middleware too', async () => {
      const tb = await setup({ max: 2, windowMs: 1000, algorithm: 'token-bucket' });
      assert.deepEqual(await hits(tb.url, 3), [200, 200, 429]);
      tb.t.now += 500;
      assert.deepEqual(await hits(tb.url, 2), [200, 429]);
      const sw = await setup({ max: 2, windowMs: 1000, algorithm: 'sliding-window' });
      assert.deepEqual(await hits(sw.url, 3), [200, 200, 429]);
    });

    it('two limiters at once: a global one and a stricter one on /auth', async () => {
      const rec = recordingDiag();
      const rl = createRateLimits({ diag: rec.diag });
      limits.push(rl);
      const app = makeApp();
      app.use(rl.create({ name: 'global', max: 5 }));
      app.get('/auth', rl.create({ name: 'auth', max: 2 }), (_req, res) => {
        res.send('auth');
      });
      app.get('/', (_req, res) => {
        res.send('ok');
      });
      const s = await serve(app);
      served.push(s);
      const first = await hit(s.url + '/auth');
      assert.deepEqual(first.headers.get('ratelimit')?.split(', ').sort(), ['"auth"; r=1; t=60', '"global"; r=4; t=60']);
      assert.deepEqual(await hits(s.url + '/auth', 2), [200, 429]);
      assert.deepEqual(await hits(s.url, 3), [200, 200, 429], 'the global limit counted the /auth requests too');
      const [g, a] = rl.list();
      assert.deepEqual([g.name, g.allowed, g.limited, a.name, a.allowed, a.limited], ['global', 5, 1, 'auth', 2, 1]);
    });

    it('key option and allowList: separate counts per key, allow-listed keys never limited nor counted', async () => {
      const { url, rl } = await setup({ max: 1, key: (req) => String(req.headers['x-api-key'] ?? 'anon'), allowList: ['vip'] });
      assert.deepEqual(await hits(url, 2, { 'x-api-key': 'a' }), [200, 429]);
      assert.deepEqual(await hits(url, 2, { 'x-api-key': 'b' }), [200, 429]);
      const vip = await hits(url, 5, { 'x-api-key': 'vip' });
      assert.deepEqual(vip, [200, 200, 200, 200, 200]);
      assert.equal((await hit(url, { 'x-api-key': 'vip' })).headers.get('ratelimit'), null);
      const st = rl.list()[0];
      assert.deepEqual([st.allowed, st.limited], [2, 2]);
      assert.deepEqual(st.topKeys.map((k) => k.key).sort(), ['a', 'b']);
    });

    it('skip option: skipped requests are neither limited nor counted; a throwing skip counts as false', async () => {
      const { url, rl, errors } = await setup({
        max: 1,
        skip: (req) => {
          if (req.path === '/other') throw new Error('boom');
          return req.headers['x-skip'] === '1';
        },
      });
      assert.deepEqual(await hits(url, 3, { 'x-skip': '1' }), [200, 200, 200]);
      assert.deepEqual(await hits(url, 2), [200, 429]);
      assert.equal((await hit(url + '/other')).status, 429);
      assert.equal(rl.list()[0].allowed, 1);
      assert.equal(errors.length, 1);
    });

    it('a throwing key function never reaches the app: the client IP is used instead', async () => {
      const { url, errors } = await setup({
        max: 1,
        key: () => {
          throw new Error('key boom');
        },
      });
      assert.deepEqual(await hits(url, 2), [200, 429]);
      assert.match(errors[0], /internal failure ratelimit\.key/);
    });

    it('trust proxy off: X-Forwarded-For is ignored and warned once through diag, never on the console', async () => {
      const original = { warn: console.warn, error: console.error, log: console.log, info: console.info };
      const printed: unknown[] = [];
      console.warn = console.error = console.log = console.info = (...a: unknown[]) => printed.push(a);
      try {
        const { url, warnings } = await setup({ max: 2 });
        const statuses = [];
        for (const ip of ['1.1.1.1', '2.2.2.2', '3.3.3.3', '4.4.4.4']) statuses.push((await hit(url, { 'x-forwarded-for': ip })).status);
        assert.deepEqual(statuses, [200, 200, 429, 429], 'every forwarded client shares the proxy address limit');
        assert.equal(warnings.filter((w) => w.includes('ERR_ERL_UNEXPECTED_X_FORWARDED_FOR')).length, 1);
        // express-rate-limit's own validations (trust proxy true) are routed to diag as well.
        const permissive = await setup({ max: 2 }, (app) => app.set('trust proxy', true));
        await hit(permissive.url, { 'x-forwarded-for': '9.9.9.9' });
        assert.ok(permissive.warnings.some((w) => w.includes('ERR_ERL_PERMISSIVE_TRUST_PROXY')), permissive.warnings.join('\n'));
      } finally {
        Object.assign(console, original);
      }
      assert.deepEqual(printed, [], 'nothing printed to the console');
    });

    it('warns when X-Forwarded-For first shows up after other requests (express-rate-limit checks the first request only)', async () => {
      const { url, warnings } = await setup({ max: 100 });
      await hits(url, 3);
      assert.equal(warnings.length, 0);
      await hit(url, { 'x-forwarded-for': '1.1.1.1' });
      assert.equal(warnings.length, 1);
    });

    it('trust proxy on: X-Forwarded-For is honoured, IPv6 clients grouped by /56', async () => {
      const { url, warnings } = await setup({ max: 1 }, (app) => app.set('trust proxy', 'loopback'));
      assert.deepEqual([(await hit(url, { 'x-forwarded-for': '1.1.1.1' })).status, (await hit(url, { 'x-forwarded-for': '2.2.2.2' })).status], [200, 200]);
      assert.equal((await hit(url, { 'x-forwarded-for': '1.1.1.1' })).status, 429);
      assert.equal((await hit(url, { 'x-forwarded-for': '2001:db8:0:1::1' })).status, 200);
      assert.equal((await hit(url, { 'x-forwarded-for': '2001:db8:0:1::2' })).status, 429, 'same /56 subnet');
      assert.equal((await hit(url, { 'x-forwarded-for': '2001:db8:0:100::1' })).status, 200, 'another /56 subnet');
      assert.deepEqual(warnings, []);
    });

    it('setMax() and resetKey() take effect on the next request; unknown limiter is ERR_NOT_FOUND', async () => {
      const { url, rl } = await setup({ name: 'cmd', max: 1 });
      assert.deepEqual(await hits(url, 2), [200, 429]);
      assert.deepEqual(await rl.resetKey('cmd', '127.0.0.1'), { reset: true });
      assert.deepEqual(await rl.resetKey('cmd', '10.0.0.1'), { reset: false });
      assert.deepEqual(await hits(url, 2), [200, 429]);
      const st = rl.setMax('cmd', 4);
      assert.equal(st.max, 4);
      assert.deepEqual(await hits(url, 3), [200, 200, 429], 'hits 3 and 4 of the window fit under the new max');
      assert.equal((await hit(url)).headers.get('ratelimit-policy')?.includes('q=4'), true);
      rl.setMax('cmd', 0);
      assert.equal((await hit(url)).status, 429);
      await assert.rejects(rl.resetKey('nope', 'k'), (e: unknown) => e instanceof ProtocolError && e.code === 'ERR_NOT_FOUND');
      assert.throws(() => rl.setMax('nope', 1), (e: unknown) => e instanceof ProtocolError && e.code === 'ERR_NOT_FOUND');
      assert.throws(() => rl.setMax('cmd', -1), (e: unknown) => e instanceof RouteLensError && e.code === 'ROUTELENS_ERR_INVALID_OPTION');
    });

    it('stats per route: route capture first, then resolveRoute, else METHOD (unmatched)', async () => {
      const rec = recordingDiag();
      const t = fakeClock();
      const rl = createRateLimits({ diag: rec.diag, clock: t.clock, resolveRoute: (m, p) => (p.startsWith('/users/') ? `${m} /users/:id` : undefined) });
      limits.push(rl);
      const app = makeApp();
      app.use(rl.create({ name: 'routes', max: 2 }));
      // Stands in for route capture, which marks the request when a route matches.
      app.get('/captured', (req, _res, next) => {
        stateOf(req).route = '/captured';
        next();
      }, rl.create({ name: 'inner', max: 1 }), (_req, res) => {
        res.send('c');
      });
      app.use((_req, res) => {
        res.send('fallback');
      });
      const s = await serve(app);
      served.push(s);
      await hits(s.url + '/users/1', 1);
      await hits(s.url + '/users/2', 1);
      await hits(s.url + '/users/3', 1);
      await hit(s.url + '/nowhere', { 'x-api-key': 'z' });
      await fetch(s.url + '/nowhere', { method: 'POST' }).then((r) => r.text());
      const g = rl.list()[0];
      assert.deepEqual(g.routes, [
        { route: 'GET /users/:id', allowed: 2, limited: 1 },
        { route: 'GET (unmatched)', allowed: 0, limited: 1 },
        { route: 'POST (unmatched)', allowed: 0, limited: 1 },
      ]);
      assert.deepEqual(g.window, { allowed: 2, limited: 3 });
      assert.deepEqual(g.topKeys, [{ key: '127.0.0.1', limited: 3 }]);
      await rl.resetKey('routes', '127.0.0.1');
      await hits(s.url + '/captured', 2);
      assert.deepEqual(rl.list()[1].routes, [{ route: 'GET /captured', allowed: 1, limited: 1 }]);
      assert.equal(rl.takeChanged(), true);
      assert.equal(rl.takeChanged(), false);
      t.now += 61_000;
      assert.deepEqual(rl.list()[0].window, { allowed: 0, limited: 0 });
    });

    it('a throwing resolveRoute never reaches the response: counted under (unmatched), reported once', async () => {
      const { url, rl, errors } = await setup({ max: 1 }, undefined, {
        resolveRoute: () => {
          throw new Error('table boom');
        },
      });
      // No route answers /missing, so both the allowed request and the refused one consult the table.
      const a = await hit(url + '/missing');
      const b = await hit(url + '/missing');
      assert.deepEqual([a.status, b.status, b.body], [404, 429, 'Too many requests, please try again later.']);
      assert.deepEqual(rl.list()[0].routes, [{ route: 'GET (unmatched)', allowed: 1, limited: 1 }]);
      assert.equal(errors.filter((e) => e.includes('ratelimit.resolveRoute')).length, 1);
    });

    it('an allowed request whose client goes away before the response is still counted under its route', async () => {
      const rec = recordingDiag();
      const rl = createRateLimits({ diag: rec.diag });
      limits.push(rl);
      const app = makeApp();
      app.use(rl.create({ name: 'global', max: 5 }));
      let arrived = false;
      app.get('/hang', (req) => {
        // Stands in for route capture; the handler never answers.
        stateOf(req).route = '/hang';
        arrived = true;
      });
      const s = await serve(app);
      served.push(s);
      const aborter = new AbortController();
      const request = fetch(s.url + '/hang', { signal: aborter.signal }).catch(() => 'aborted');
      await waitFor('the request to reach its route', () => arrived);
      assert.deepEqual(rl.list()[0].routes, [], 'not counted under a route while in flight');
      aborter.abort();
      assert.equal(await request, 'aborted');
      await waitFor('the aborted request counted', () => rl.list()[0].routes.length === 1);
      assert.deepEqual(rl.list()[0].routes, [{ route: 'GET /hang', allowed: 1, limited: 0 }]);
      assert.deepEqual(rec.errors, []);
    });

    it('stays bounded with many random keys', async () => {
      const { url, rl } = await setup({ max: 0, maxKeys: 50, key: (req) => String(req.headers['x-k']) });
      for (let i = 0; i < 200; i++) await hit(url, { 'x-k': `k-${Math.random()}-${'x'.repeat(i % 2 ? 10 : 3000)}` });
      const st = rl.list()[0];
      assert.equal(st.limited, 200);
      assert.ok(st.topKeys.length <= 20);
      assert.ok(st.topKeys.every((k) => k.key.length <= 201));
    });

    it('close(): the middleware passes requests through afterwards', async () => {
      const { url, rl } = await setup({ max: 0 });
      assert.equal((await hit(url)).status, 429);
      await rl.close();
      assert.equal((await hit(url)).status, 200);
    });
  });
}

describe('ratelimit options validation', () => {
  const rl = createRateLimits({ diag: recordingDiag().diag });
  const bad: Array<[string, unknown]> = [
    ['windowMs', 0],
    ['windowMs', 1.5],
    ['max', -1],
    ['max', '10'],
    ['name', 'has space'],
    ['algorithm', 'leaky'],
    ['store', 'redis'],
    ['onStoreError', 'crash'],
    ['skip', true],
    ['key', 'ip'],
    ['allowList', 'vip'],
    ['allowList', [1]],
    ['legacyHeaders', 'yes'],
    ['standardHeaders', 'draft-9'],
    ['statusCode', 200],
    ['timeout', 0],
    ['prefix', ''],
    ['maxKeys', 0],
    ['limit', 5],
  ];
  for (const [name, value] of bad) {
    it(`create() refuses ${name}=${JSON.stringify(value)} with ROUTELENS_ERR_INVALID_OPTION`, () => {
      assert.throws(() => rl.create({ [name]: value } as RateLimitOptions), (e: unknown) => e instanceof RouteLensError && e.code === 'ROUTELENS_ERR_INVALID_OPTION');
    });
  }

  it('create() refuses more than 1000 limiters (one made per request would leak)', () => {
    const many = createRateLimits({ diag: recordingDiag().diag });
    for (let i = 0; i < 1000; i++) many.create({});
    assert.throws(() => many.create({}), (e: unknown) => e instanceof RouteLensError && e.code === 'ROUTELENS_ERR_INVALID_OPTION');
  });

  it('create() refuses a duplicate name and numbers default names', () => {
    const a = rl.create({});
    const b = rl.create({});
    assert.notEqual(a.limiterName, b.limiterName);
    assert.match(a.limiterName, /^limiter-\d+$/);
    assert.throws(() => rl.create({ name: a.limiterName }), (e: unknown) => e instanceof RouteLensError && e.code === 'ROUTELENS_ERR_INVALID_OPTION');
    assert.deepEqual(
      rl.list().map((s) => [s.algorithm, s.windowMs, s.max, s.store, s.onStoreError]),
      [
        ['fixed-window', 60_000, 100, 'memory', 'memory'],
        ['fixed-window', 60_000, 100, 'memory', 'memory'],
      ],
    );
  });
});
