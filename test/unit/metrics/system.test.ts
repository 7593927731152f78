import assert from 'node:assert/strict';
import { Diagnostics, silentLogger } from '../../../agent/log';
import { SystemSampler } from '../../../agent/metrics/system';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Keeps the loop busy for `ms` in short synchronous bursts, letting timers run between them. */
async function work(ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const burst = Date.now() + 4;
    while (Date.now() < burst) Math.sqrt(Math.random());
    await new Promise((r) => setImmediate(r));
  }
}

/** Waits until `check` holds (or fails after `ms`). */
async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('SystemSampler: the event-loop delay monitor', () => {
  let sampler: SystemSampler | undefined;
  afterEach(() => sampler?.close());

  it('is switched off while the loop idles and back on when it works', async () => {
    sampler = new SystemSampler(new Diagnostics(silentLogger), 40);
    const s = sampler;
    assert.equal(s.delayMonitorOn, true, 'on from the start');
    await until(() => !s.delayMonitorOn, 1000, 'the monitor to stop on an idle loop');
    await work(300);
    assert.equal(s.delayMonitorOn, true, 'a working loop turns it back on');
    const loop = s.stats(0, 0, 0).eventLoop;
    assert.ok(loop.utilization >= 0.02, `utilisation ${loop.utilization}`);
  });

  it('still measures a block of an idle loop, by the sample timer being late', async () => {
    sampler = new SystemSampler(new Diagnostics(silentLogger), 40);
    const s = sampler;
    await until(() => !s.delayMonitorOn, 1000, 'the monitor to stop on an idle loop');
    const blockUntil = Date.now() + 200;
    while (Date.now() < blockUntil) Math.sqrt(Math.random());
    await sleep(15); // the overdue sample runs first
    const loop = s.stats(0, 0, 0).eventLoop;
    // The timer was due at most 40 ms into the block: at least 160 ms late.
    assert.ok(loop.delayMax >= 150, `delay max ${loop.delayMax} ms`);
    assert.ok(loop.delayP99 >= 150, `delay p99 ${loop.delayP99} ms`);
  });

  it("reads an idle loop's delay as about 0, not as the monitor's 20 ms period", async () => {
    sampler = new SystemSampler(new Diagnostics(silentLogger), 0);
    await sleep(300);
    sampler.sample();
    const loop = sampler.stats(0, 0, 0).eventLoop;
    assert.ok(loop.delayP50 < 8, `delay p50 ${loop.delayP50} ms`);
  });

  it('stays on without a sample timer (nothing would switch it back on)', async () => {
    sampler = new SystemSampler(new Diagnostics(silentLogger), 0);
    await sleep(50);
    sampler.sample();
    sampler.sample();
    assert.equal(sampler.delayMonitorOn, true);
  });

  it('close() stops it', () => {
    sampler = new SystemSampler(new Diagnostics(silentLogger), 40);
    sampler.close();
    assert.equal(sampler.delayMonitorOn, false);
  });
});
