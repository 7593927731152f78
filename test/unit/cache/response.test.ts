import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { createCache, createResponseCache, type Cache } from '../../../agent/cache';
import { RouteLensError } from '../../../agent/errors';

 
const frameworks = { 'express 5': require('express'), 'express 4': require('express4') } as Record<string, () => any>; // eslint-disable-line @typescript-eslint/no-explicit-any

for (const [name, express] of Object.entries(frameworks)) {
  describe(`createResponseCache (${name})`, () => {
    let cache: Cache;
    let server: Server;
    let base: string;
    let calls: Record<string, number>;

    async function start(opts: Parameters<typeof createResponseCache>[1] = { ttl: 10_000 }): Promise<void> {
      cache = createCache();
      calls = {};
      const count = (k: string) => (calls[k] = (calls[k] ?? 0) + 1);
      const app = express();
      const rc = createResponseCache(cache, opts);
      app.get('/users', rc, (_req: any, res: any) => res.json({ list: count('list') })); // eslint-disable-line @typescript-eslint/no-explicit-any
      app.get('/users/:id', rc, (req: any, res: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
        res.set('X-Custom', 'yes');
        res.set('Connection', 'keep-alive');
        res.json({ id: req.params.id, n: count(`user${req.params.id}`), lang: req.headers['accept-language'] ?? null });
      });
      app.put('/users/:id', rc, (_req: any, res: any) => res.status(200).json({ ok: true })); // eslint-disable-line @typescript-eslint/no-explicit-any
      app.post('/users', rc, (_req: any, res: any) => res.status(201).json({ ok: true })); // eslint-disable-line @typescript-eslint/no-explicit-any
      app.delete('/users/:id', rc, (_req: any, res: any) => res.status(500).end()); // eslint-disable-line @typescript-eslint/no-explicit-any
      app.get('/missing', rc, (_req: any, res: any) => res.status(404).send(`nope ${count('missing')}`)); // eslint-disable-line @typescript-eslint/no-explicit-any
      app.get('/cookie', rc, (_req: any, res: any) => res.cookie('s', '1').send(`c ${count('cookie')}`)); // eslint-disable-line @typescript-eslint/no-explicit-any
      app.get('/bin', rc, (_req: any, res: any) => res.type('application/octet-stream').send(Buffer.from([0xff, 0x00, 0xfe, count('bin')]))); // eslint-disable-line @typescript-eslint/no-explicit-any
      app.get('/stream', rc, (_req: any, res: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
        count('stream');
        res.type('text/plain');
        for (let i = 0; i < 40; i++) res.write('x'.repeat(1024));
        res.end('end');
      });
      app.get('/gz', rc, (_req: any, res: any) => res.set('Content-Encoding', 'gzip').send(gzipSync(`gz ${count('gz')}`))); // eslint-disable-line @typescript-eslint/no-explicit-any
      const api = (express as any).Router(); // eslint-disable-line @typescript-eslint/no-explicit-any
      api.get('/items/:id', rc, (req: any, res: any) => res.json({ item: req.params.id, n: count(`item${req.params.id}`) })); // eslint-disable-line @typescript-eslint/no-explicit-any
      app.use('/api', api);
      app.get('/boom', rc, () => {
        throw new Error('app error');
      });
      app.use((err: Error, _req: unknown, res: any, _next: unknown) => res.status(500).send(`handled: ${err.message}`)); // eslint-disable-line @typescript-eslint/no-explicit-any
      server = app.listen(0, '127.0.0.1');
      await new Promise((r) => server.once('listening', r));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }

    afterEach(async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await cache.close();
    });

    it('MISS then HIT with the stored status, headers (minus hop-by-hop) and body', async () => {
      await start();
      const a = await fetch(`${base}/users/1`);
      assert.equal(a.headers.get('x-cache'), 'MISS');
      const bodyA = await a.text();
      const b = await fetch(`${base}/users/1`);
      assert.equal(b.status, 200);
      assert.equal(b.headers.get('x-cache'), 'HIT');
      assert.equal(b.headers.get('x-custom'), 'yes');
      assert.match(b.headers.get('content-type') ?? '', /application\/json/);
      assert.equal(await b.text(), bodyA);
      assert.equal(calls.user1, 1);
      const head = await fetch(`${base}/users/1`, { method: 'HEAD' });
      assert.equal(head.headers.get('x-cache'), 'HIT');
      assert.equal(await head.text(), '');
      assert.equal(calls.user1, 1);
    });

    it('caches only 2xx, never responses that set cookies', async () => {
      await start();
      for (let i = 0; i < 2; i++) await (await fetch(`${base}/missing`)).text();
      assert.equal(calls.missing, 2);
      for (let i = 0; i < 2; i++) await (await fetch(`${base}/cookie`)).text();
      assert.equal(calls.cookie, 2);
    });

    it('never stores range requests or bodies encoded below it (compression)', async () => {
      await start();
      await (await fetch(`${base}/users/7`, { headers: { range: 'bytes=0-3' } })).text();
      assert.equal((await fetch(`${base}/users/7`)).headers.get('x-cache'), 'MISS');
      assert.equal((await fetch(`${base}/users/7`, { headers: { range: 'bytes=0-3' } })).headers.get('x-cache'), null, 'range requests bypass');
      for (let i = 0; i < 2; i++) assert.match(await (await fetch(`${base}/gz`)).text(), /^gz \d$/);
      assert.equal(calls.gz, 2);
    });

    it('binary bodies round-trip; bodies over maxBodyBytes pass through uncached', async () => {
      await start({ ttl: 10_000, maxBodyBytes: 16 * 1024 });
      const a = Buffer.from(await (await fetch(`${base}/bin`)).arrayBuffer());
      const b = await fetch(`${base}/bin`);
      assert.equal(b.headers.get('x-cache'), 'HIT');
      assert.deepEqual(Buffer.from(await b.arrayBuffer()), a);
      const s1 = await (await fetch(`${base}/stream`)).text();
      const s2 = await fetch(`${base}/stream`);
      assert.equal(s2.headers.get('x-cache'), 'MISS');
      assert.equal(await s2.text(), s1);
      assert.equal(calls.stream, 2);
    });

    it('never shares across Authorization or Cookie by default; shareAuthenticated opts in', async () => {
      await start();
      const h = { authorization: 'Bearer a' };
      await (await fetch(`${base}/users/2`, { headers: h })).text();
      const second = await fetch(`${base}/users/2`, { headers: { authorization: 'Bearer b' } });
      assert.equal(second.headers.get('x-cache'), null);
      await (await fetch(`${base}/users/2`, { headers: { cookie: 'sid=1' } })).text();
      assert.equal(calls.user2, 3);
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await cache.close();
      await start({ ttl: 10_000, shareAuthenticated: true });
      await (await fetch(`${base}/users/2`, { headers: h })).text();
      assert.equal((await fetch(`${base}/users/2`, { headers: h })).headers.get('x-cache'), 'HIT');
    });

    it('vary headers become part of the key', async () => {
      await start({ ttl: 10_000, vary: ['Accept-Language'] });
      const en = await (await fetch(`${base}/users/3`, { headers: { 'accept-language': 'en' } })).json();
      const fr = await (await fetch(`${base}/users/3`, { headers: { 'accept-language': 'fr' } })).json();
      assert.equal(en.lang, 'en');
      assert.equal(fr.lang, 'fr');
      const en2 = await fetch(`${base}/users/3`, { headers: { 'accept-language': 'en' } });
      assert.equal(en2.headers.get('x-cache'), 'HIT');
    });

    it('a 2xx write invalidates the path and its parent collection; a failed write does not', async () => {
      await start();
      await (await fetch(`${base}/users/4`)).text();
      await (await fetch(`${base}/users/4?full=1`)).text();
      await (await fetch(`${base}/users`)).text();
      await (await fetch(`${base}/users/5`)).text();
      await (await fetch(`${base}/users/4`, { method: 'DELETE' })).text(); // 500: nothing invalidated
      assert.equal((await fetch(`${base}/users/4`)).headers.get('x-cache'), 'HIT');
      await (await fetch(`${base}/users/4`, { method: 'PUT' })).text();
      await new Promise((r) => setTimeout(r, 20));
      assert.equal((await fetch(`${base}/users/4`)).headers.get('x-cache'), 'MISS');
      assert.equal((await fetch(`${base}/users/4?full=1`)).headers.get('x-cache'), 'MISS');
      assert.equal((await fetch(`${base}/users`)).headers.get('x-cache'), 'MISS');
      assert.equal((await fetch(`${base}/users/5`)).headers.get('x-cache'), 'HIT', 'siblings stay');
      await (await fetch(`${base}/users`, { method: 'POST' })).text();
      await new Promise((r) => setTimeout(r, 20));
      assert.equal((await fetch(`${base}/users`)).headers.get('x-cache'), 'MISS');
    });

    it('invalidateRoute drops the entries of one route template, under every query string, and no other', async () => {
      await start();
      const get = (path: string) => fetch(`${base}${path}`).then(async (r) => r.headers.get('x-cache'));
      for (const path of ['/users/1', '/users/2?full=1', '/users', '/api/items/7']) assert.equal(await get(path), 'MISS');
      await new Promise((r) => setTimeout(r, 20));
      for (const path of ['/users/1', '/users/2?full=1', '/users', '/api/items/7']) assert.equal(await get(path), 'HIT', path);
      assert.deepEqual(await cache.invalidateRoute('/users/:id'), { removed: 2, dryRun: false });
      assert.equal(await get('/users/1'), 'MISS');
      assert.equal(await get('/users/2?full=1'), 'MISS');
      assert.equal(await get('/users'), 'HIT');
      // A route inside a mounted router is known by its full template.
      assert.deepEqual(await cache.invalidateRoute('/api/items/:id', { dryRun: true }), { removed: 1, dryRun: true });
      assert.deepEqual(await cache.invalidateRoute('/api/items/:id'), { removed: 1, dryRun: false });
      assert.equal(await get('/api/items/7'), 'MISS');
      const ev = cache.takeEvents().events.filter((e) => e.kind === 'invalidation');
      assert.equal(ev.length, 2);
      await assert.rejects(cache.invalidateRoute(''), (err: unknown) => err instanceof RouteLensError && err.code === 'ROUTELENS_ERR_INVALID_OPTION');
    });

    it('never breaks the app: a throwing key function and a closed cache pass through; app errors reach the app handler', async () => {
      await start({
        ttl: 10_000,
        key: () => {
          throw new Error('key fn');
        },
      });
      const r = await fetch(`${base}/users/6`);
      assert.equal(r.status, 200);
      assert.equal((await r.json()).id, '6');
      await cache.close();
      const r2 = await fetch(`${base}/users/6`);
      assert.equal(r2.status, 200);
      const boom = await fetch(`${base}/boom`);
      assert.equal(boom.status, 500);
      assert.equal(await boom.text(), 'handled: app error');
    });

    it('a 64 KiB URL is cached under a bounded, hashed key', async () => {
      cache = createCache();
      const app = express();
      let n = 0;
      app.get('/long', createResponseCache(cache, { ttl: 10_000 }), (_req: unknown, res: any) => res.send(`n=${++n}`)); // eslint-disable-line @typescript-eslint/no-explicit-any
      server = createServer({ maxHeaderSize: 256 * 1024 }, app).listen(0, '127.0.0.1');
      await new Promise((r) => server.once('listening', r));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/long?q=${'x'.repeat(64 * 1024)}`;
      assert.equal(await (await fetch(url)).text(), 'n=1');
      const hit = await fetch(url);
      assert.equal(hit.headers.get('x-cache'), 'HIT');
      assert.equal(await hit.text(), 'n=1');
      const { keys } = await cache.keys({ pattern: 'http:*' });
      assert.equal(keys.length, 1);
      assert.ok(keys[0].key.length < 200, `key length ${keys[0].key.length}`);
    });

    it('validates its options', () => {
      const c = createCache();
      for (const bad of [{}, { ttl: -1 }, { ttl: 1, namespace: 'a:b' }, { ttl: 1, key: 'x' }]) {
        assert.throws(() => createResponseCache(c, bad as never), (e: unknown) => e instanceof RouteLensError && e.code === 'ROUTELENS_ERR_INVALID_OPTION');
      }
      void c.close();
    });
  });
}
