/**
 * A shared limit is exact from the first request: instances that start and
 * take traffic at once wait for their limiter's first Redis connection
 * (bounded) instead of counting those requests in per-process memory. And a
 * Redis that is down or silent at start holds no request beyond that bound.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { join } from 'node:path';
import express from 'express';
import { Redis } from 'ioredis';
import { createRateLimits, type RateLimits } from '../../../agent/ratelimit';
import { FIRST_CONNECT_WAIT_MS } from '../../../agent/ratelimit/connections';
import { type TestRedis, freePort, startRedis } from '../../support/redis';
import { type Served, hit, recordingDiag, serve } from './helpers';

const root = join(__dirname, '../../..');
const fixture = join(root, 'test/fixtures/shared-limit-app.ts');
const MAX = 50;
const REQUESTS = 120;
const RUNS = 3;

/** An app instance in its own process; resolves with its port once it listens. */
function startInstance(url: string, children: ChildProcess[]): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, url, String(MAX)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += String(d);
      const m = /^(\d+)\n/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.stderr!.on('data', (d: Buffer) => (out += String(d)));
    child.once('exit', (code) => reject(new Error(`instance exited with ${code}: ${out}`)));
  });
}

async function stopAll(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map((c) =>
      c.exitCode !== null || c.signalCode !== null
        ? undefined
        : new Promise<void>((r) => {
            c.once('exit', () => r());
            c.kill('SIGTERM');
            setTimeout(() => c.kill('SIGKILL'), 3000).unref();
          }),
    ),
  );
}

describe('a shared Redis limit from the first request', function () {
  this.timeout(120_000);
  let redis: TestRedis;
  let admin: Redis;

  before(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
    admin.on('error', () => {});
  });
  after(async () => {
    admin.disconnect();
    await redis.stop();
  });

  it(`two processes started together admit exactly ${MAX} of ${REQUESTS} concurrent requests sent as soon as they listen (${RUNS} runs)`, async () => {
    const admitted: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      await admin.flushall();
      const children: ChildProcess[] = [];
      try {
        const ports = await Promise.all([startInstance(redis.url, children), startInstance(redis.url, children)]);
        const statuses = await Promise.all(Array.from({ length: REQUESTS }, (_, i) => hit(`http://127.0.0.1:${ports[i % 2]}/`).then((r) => r.status)));
        assert.ok(statuses.every((s) => s === 200 || s === 429), statuses.join(','));
        admitted.push(statuses.filter((s) => s === 200).length);
      } finally {
        await stopAll(children);
      }
    }
    assert.deepEqual(admitted, Array(RUNS).fill(MAX));
  });

  describe('Redis unavailable at start', () => {
    let limits: RateLimits | undefined;
    let served: Served | undefined;
    let silent: net.Server | undefined;
    const held: net.Socket[] = [];
    afterEach(async () => {
      await served?.close();
      await limits?.close();
      for (const socket of held.splice(0)) socket.destroy();
      await new Promise((r) => (silent ? silent.close(r) : r(undefined)));
      limits = served = silent = undefined;
    });

    async function firstRequests(url: string): Promise<{ statuses: number[]; slowest: number; warnings: string[] }> {
      const rec = recordingDiag();
      limits = createRateLimits({ diag: rec.diag, redis: url });
      const app = express();
      app.use(limits.create({ name: 'start', max: 3, key: () => 'everyone' }));
      app.get('/', (_req, res) => res.send('ok'));
      served = await serve(app);
      const results = await Promise.all(Array.from({ length: 5 }, () => hit(served!.url)));
      return { statuses: results.map((r) => r.status).sort(), slowest: Math.max(...results.map((r) => r.ms)), warnings: rec.warnings };
    }

    it('refused (nothing listens): the first requests are counted in memory at once', async () => {
      const r = await firstRequests(`redis://127.0.0.1:${await freePort()}`);
      assert.deepEqual(r.statuses, [200, 200, 200, 429, 429], 'the insurance limiter applies the same max');
      assert.ok(r.slowest < FIRST_CONNECT_WAIT_MS, `slowest ${Math.round(r.slowest)} ms: a refused connection settles the wait at once`);
    });

    it('silent (accepts, never answers): no request waits much beyond the bound', async () => {
      silent = net.createServer((socket) => held.push(socket)); // holds the socket, says nothing
      await new Promise<void>((r) => silent!.listen(0, '127.0.0.1', r));
      const r = await firstRequests(`redis://127.0.0.1:${(silent.address() as net.AddressInfo).port}`);
      assert.deepEqual(r.statuses, [200, 200, 200, 429, 429]);
      assert.ok(r.slowest < FIRST_CONNECT_WAIT_MS + 1000, `slowest ${Math.round(r.slowest)} ms`);
      assert.ok(r.slowest >= FIRST_CONNECT_WAIT_MS - 100, `slowest ${Math.round(r.slowest)} ms: the first requests did wait for the connection`);
    });
  });
});
