/**
 * The limiters' connection bounds its handshake: a Redis that accepts the TCP
 * connection but never answers the ready check is reported within the
 * connection's connect timeout and retried with backoff while the limiter's
 * fallback answers the requests, and the limiter counts in Redis once that
 * address answers. A healthy connection is left alone. The silent Redis is a
 * net.Server of this test; once "replaced" it pipes new connections to the
 * suite's real redis-server (the sockets it already holds stay silent).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import express from 'express';
import type { Request } from 'express';
import { createRateLimits } from '../../../agent/ratelimit';
import { FIRST_CONNECT_WAIT_MS } from '../../../agent/ratelimit/connections';
import { hit, recordingDiag, redisSuite, serve, sleep, waitFor } from './helpers';

/** The connection's handshake bound: failFastOptions' connectTimeout (agent/redis.ts). */
const READY_TIMEOUT_MS = 1000;

interface SilentRedis {
  url: string;
  /** Connections accepted so far. */
  accepted: number;
  /** Accepted connections the client closed. */
  closedByClient: number;
  /** From now on, new connections reach the real redis-server on `port`. */
  answerWith(port: number): void;
  close(): Promise<void>;
}

async function silentRedis(): Promise<SilentRedis> {
  const sockets = new Set<net.Socket>();
  let target: number | undefined;
  const state = { accepted: 0, closedByClient: 0 };
  const server = net.createServer((socket) => {
    state.accepted++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
    if (target === undefined) {
      socket.once('close', () => state.closedByClient++);
      socket.resume(); // reads and drops what the client sends, says nothing
      return;
    }
    const upstream = net.connect(target, '127.0.0.1');
    upstream.on('error', () => socket.destroy());
    socket.once('close', () => upstream.destroy());
    upstream.once('close', () => socket.destroy());
    socket.pipe(upstream).pipe(socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `redis://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    get accepted() {
      return state.accepted;
    },
    get closedByClient() {
      return state.closedByClient;
    },
    answerWith: (port) => void (target = port),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('ratelimit Redis connection handshake (silent TCP server, real redis-server)', function () {
  this.timeout(60_000);
  const suite = redisSuite();
  let silent: SilentRedis | undefined;
  afterEach(async () => {
    await silent?.close();
    silent = undefined;
  });

  async function limited(name: string, redis: string) {
    const rec = recordingDiag();
    const rl = createRateLimits({ diag: rec.diag, redis });
    suite.limits.push(rl);
    const app = express();
    app.use(rl.create({ name, max: 3, key: (req: Request) => String(req.headers['x-k'] ?? 'anon') }));
    app.get('/', (_req, res) => void res.send('ok'));
    const served = await serve(app);
    suite.served.push(served);
    return { rl, url: served.url, warnings: rec.warnings };
  }

  it('a Redis that accepts and never answers: reported within the connect timeout, requests answered in memory, retried with backoff, counted in Redis once the address answers', async () => {
    silent = await silentRedis();
    const started = performance.now();
    const { rl, url, warnings } = await limited('silent', silent.url);
    const answers = await Promise.all(Array.from({ length: 5 }, () => hit(url, { 'x-k': 'everyone' })));
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 200, 200, 429, 429], 'the insurance limiter applies the same max');
    assert.ok(Math.max(...answers.map((a) => a.ms)) < FIRST_CONNECT_WAIT_MS + 1500, `slowest ${Math.round(Math.max(...answers.map((a) => a.ms)))} ms`);

    const reported = () => warnings.find((w) => w.includes('ROUTELENS_WARN_RATE_LIMIT_REDIS'));
    await waitFor('the connection to report the silent Redis', () => reported() !== undefined, 10_000);
    const reportedAfter = performance.now() - started;
    assert.match(reported()!, /did not answer its ready check within 1000 ms/);
    assert.ok(reportedAfter < READY_TIMEOUT_MS + 2000, `reported after ${Math.round(reportedAfter)} ms`);
    const stats = rl.list()[0]!;
    assert.ok(stats.storeErrors >= 5, `storeErrors ${stats.storeErrors}: each request's fallback is counted`);
    assert.ok(warnings.some((w) => w.includes('ROUTELENS_WARN_RATE_LIMIT_STORE') && w.includes('"silent"') && w.includes('counting in memory')), warnings.join('\n'));

    // Dropped and retried: the client closes the silent sockets and opens new ones, with backoff (not a tight loop).
    await waitFor('the connection to be retried', () => silent!.accepted >= 3 && silent!.closedByClient >= 2, 15_000);
    const retriedFor = performance.now() - started;
    assert.ok(silent.accepted < retriedFor / 100, `${silent.accepted} connections in ${Math.round(retriedFor)} ms`);

    silent.answerWith(suite.redis.port);
    await waitFor(
      'the limiter to count in Redis',
      async () => {
        await hit(url, { 'x-k': 'after' });
        return (await suite.admin.exists('routelens:rl:silent:after')) === 1;
      },
      15_000,
    );
    const errors = rl.list()[0]!.storeErrors;
    assert.equal((await hit(url, { 'x-k': 'after-2' })).status, 200);
    assert.equal(rl.list()[0]!.storeErrors, errors, 'no fallback once Redis answers');
  });

  it('a healthy connection is left alone past the handshake bound: one connection, counted in Redis, no store error', async () => {
    const { rl, url, warnings } = await limited('healthy', suite.redis.url);
    await waitFor('the limiter to count in Redis', async () => {
      await hit(url, { 'x-k': 'warm-up' });
      return (await suite.admin.exists('routelens:rl:healthy:warm-up')) === 1;
    });
    const ids = async () =>
      String(await suite.admin.client('LIST'))
        .split('\n')
        .filter((l) => l.includes('name=routelens-ratelimit'))
        .map((l) => /id=(\d+)/.exec(l)![1]);
    const before = await ids();
    assert.equal(before.length, 1);
    await sleep(READY_TIMEOUT_MS + 500);
    assert.deepEqual(await Promise.all([1, 2, 3, 4].map(() => hit(url, { 'x-k': 'h' }))).then((a) => a.map((r) => r.status).sort()), [200, 200, 200, 429]);
    assert.deepEqual(await ids(), before, 'the same connection');
    assert.equal(rl.list()[0]!.storeErrors, 0);
    assert.deepEqual(warnings, []);
  });
});
