/**
 * Who the blocking detector blames, on a real agent and Express app in a process
 * of its own (test/fixtures/blocking-app.ts): a handler that burns CPU and one
 * that waits in execSync are blamed at their line; a request awaiting an HTTP
 * call is not blamed for another's CPU; a route that only awaits a timer is
 * not, when its process is stopped by SIGSTOP in the middle of a callback
 * while it waits, nor when the process is starved of CPU by other processes
 * (reniced, with spinning children on every core); a handler whose process is
 * stopped while it burns CPU is blamed for its CPU time only. The assertions are on which route is blamed; the
 * lags provoked are hundreds of milliseconds against a 50 ms threshold.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { availableParallelism, setPriority } from 'node:os';
import { join } from 'node:path';
import type { Finding } from '../../../protocol';

const root = join(__dirname, '../../..');
const fixture = join(root, 'test/fixtures/blocking-app.ts');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface App {
  child: ChildProcess;
  url: string;
  findings(): Promise<Finding[]>;
  stop(): Promise<void>;
}

async function startApp(): Promise<App> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], { cwd: root, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`the app exited (${code}) before it listened`)));
  });
  const app: App = {
    child,
    url: `http://127.0.0.1:${port}`,
    findings: async () => {
      const answer = message<{ findings: Finding[] }>(child, 'findings');
      child.send('findings');
      return (await answer).findings;
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await exited;
    },
  };
  // The lag probe runs from the first traced request on; a handler's span has its line from its second request on.
  for (const path of ['/innocent?ms=1', '/awaits-http?ms=1', '/busy', '/exec', '/busy-stopped?ms=0']) await get(app, path);
  return app;
}

/** The app's next message that has `key`. */
function message<T extends object>(child: ChildProcess, key: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: unknown) => {
      if (typeof m !== 'object' || m === null || !(key in m)) return;
      child.off('message', on);
      resolve(m as T);
    };
    child.on('message', on);
  });
}

/** Once the app says it stops its own process (in the middle of a callback, see the fixture), continues it `ms` later. */
async function continueAfterStop(app: App, ms: number): Promise<void> {
  await message(app.child, 'stopping');
  await sleep(ms);
  app.child.kill('SIGCONT');
}

async function get(app: App, path: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(app.url + path);
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  return performance.now() - t0;
}

/** The probe matches a trace at its first tick after the request ended; a loaded machine delays ticks. */
async function blamed(app: App, endpoint: string, waitMs: number): Promise<Finding | undefined> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const f = (await app.findings()).find((x) => x.endpoint === endpoint);
    if (f || Date.now() > deadline) return f;
    await sleep(100);
  }
}

const endpoints = (findings: Finding[]) => JSON.stringify(findings.map((f) => [f.endpoint, f.message]));

describe('blocking: who is blamed (an app in its own process)', function () {
  this.timeout(90_000);
  let app: App | undefined;
  const spinners: ChildProcess[] = [];
  afterEach(async () => {
    for (const s of spinners.splice(0)) s.kill('SIGKILL');
    await app?.stop();
    app = undefined;
  });

  it('a handler that burns 150 ms of CPU is blamed, at its line, as running synchronously', async () => {
    app = await startApp();
    await get(app, '/busy');
    const f = await blamed(app, 'GET /busy', 10_000);
    assert.ok(f, endpoints(await app.findings()));
    assert.equal(f.location.file, fixture);
    assert.match(f.message, /ran synchronously/);
    assert.ok(Number(f.evidence.blockedMs) >= 50, JSON.stringify(f.evidence));
  });

  it("a handler in execSync('sleep 0.3') is blamed, at its line, as a synchronous wait", async () => {
    app = await startApp();
    await get(app, '/exec');
    const f = await blamed(app, 'GET /exec', 10_000);
    assert.ok(f, endpoints(await app.findings()));
    assert.equal(f.location.file, fixture);
    assert.match(f.message, /waited in a synchronous call/);
    assert.ok(Number(f.evidence.blockedMs) >= 200, JSON.stringify(f.evidence));
  });

  it('of two requests in flight, the one awaiting an HTTP call is not blamed for the other\'s 150 ms of CPU', async () => {
    app = await startApp();
    const waiting = get(app, '/awaits-http?ms=800');
    await sleep(200);
    await get(app, '/busy');
    await waiting;
    assert.ok(await blamed(app, 'GET /busy', 10_000), endpoints(await app.findings()));
    for (let i = 0; i < 3; i++) await get(app, '/innocent?ms=1'); // the ticks that match the waiting request have run
    assert.equal(await blamed(app, 'GET /awaits-http', 500), undefined, endpoints(await app.findings()));
  });

  it('a route awaiting a timer is not blamed for a lag without any synchronous work (its process stopped 400 ms by SIGSTOP in the middle of a callback)', async () => {
    app = await startApp();
    const running = Array.from({ length: 3 }, () => get(app!, '/innocent?ms=1000'));
    await sleep(300);
    const continued = continueAfterStop(app, 400);
    app.child.send('stop'); // stopped inside the message's callback: libuv counts the stop as time in callbacks
    await continued;
    const took = await Promise.all(running);
    assert.ok(Math.min(...took) >= 1000, `the requests took ${took.map(Math.round).join(', ')} ms`);
    for (let i = 0; i < 3; i++) await get(app, '/innocent?ms=1'); // the ticks that match the stopped requests have run
    assert.equal(await blamed(app, 'GET /innocent', 1000), undefined, endpoints(await app.findings()));
  });

  it('a route awaiting a timer is not blamed while other processes take the CPU (the app reniced to 19, a spinning child per core)', async () => {
    app = await startApp();
    setPriority(app.child.pid!, 19);
    for (let i = 0; i < availableParallelism(); i++) spinners.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
    await sleep(300);
    for (let round = 0; round < 3; round++) await Promise.all(Array.from({ length: 3 }, () => get(app!, '/innocent?ms=300')));
    for (const s of spinners.splice(0)) s.kill('SIGKILL');
    for (let i = 0; i < 3; i++) await get(app, '/innocent?ms=1');
    assert.equal(await blamed(app, 'GET /innocent', 1000), undefined, endpoints(await app.findings()));
  });

  it('a handler that burns 200 ms of CPU with its process stopped 400 ms in the middle is blamed, as running synchronously, for its CPU time only', async () => {
    app = await startApp();
    const continued = continueAfterStop(app, 400);
    await get(app, '/busy-stopped?ms=100');
    await continued;
    const f = await blamed(app, 'GET /busy-stopped', 10_000);
    assert.ok(f, endpoints(await app.findings()));
    assert.equal(f.location.file, fixture);
    assert.match(f.message, /ran synchronously/);
    const blockedMs = Number(f.evidence.blockedMs);
    assert.ok(blockedMs >= 100 && blockedMs < 400, JSON.stringify(f.evidence)); // the 400 ms stopped are not the handler's
  });
});
