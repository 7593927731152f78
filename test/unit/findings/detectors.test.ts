/** Each findings detector on constructed traces: when it fires, when it does not, and where it points. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { FindingsEngine, findingId } from '../../../agent/findings';
import { type Block, heldMs } from '../../../agent/findings/blocking';
import { type ThreadTimes, continuations, threadClock } from '../../../agent/findings/thread-time';
import { DEFAULT_THRESHOLDS } from '../../../agent/alerts';
import type { CacheEvent, Finding, SlowRequest, SourceLocation, Span, Thresholds, Trace } from '../../../protocol';

const T0 = 1_800_000_000_000;
const at = (line: number, file = '/app/routes.js'): SourceLocation => ({ file, line, column: 3 });
const HANDLER = at(10);

let traceCount = 0;
function trace(spans: Span[], over: Partial<Trace> = {}): Trace {
  traceCount++;
  return {
    id: `t${traceCount}`,
    requestId: `req-${traceCount}`,
    method: 'GET',
    route: '/orders/:id',
    endpoint: 'GET /orders/:id',
    status: 200,
    startedAt: T0,
    durationMs: 100,
    spans: [{ kind: 'handler', name: 'getOrder', startMs: 0, durationMs: 100, location: HANDLER }, ...spans],
    droppedSpans: 0,
    kept: 'recent',
    ...over,
  };
}

/** `n` db spans, under the handler, `gap` ms apart (0: all at once), each `ms` long. */
function queries(n: number, ms: number, gap: number, name = 'SELECT * FROM items WHERE order_id = ?', location = at(14)): Span[] {
  return Array.from({ length: n }, (_, i) => ({ kind: 'db' as const, name, startMs: 1 + (gap === 0 ? 0 : i * (ms + gap)), durationMs: ms, location, parent: 0, source: 'pg' }));
}

function setup(thresholds: Partial<Thresholds> = {}, over: Partial<ConstructorParameters<typeof FindingsEngine>[0]> = {}) {
  let now = T0;
  const slowLog: SlowRequest[] = [];
  const engine = new FindingsEngine({
    thresholds: () => ({ ...DEFAULT_THRESHOLDS, ...thresholds }),
    clock: () => now,
    timer: false,
    onSlowQuery: (e) => slowLog.push(e),
    ...over,
  });
  const of = (kind: Finding['kind']) => engine.list().filter((f) => f.kind === kind);
  return { engine, slowLog, of, advance: (ms: number) => (now += ms) };
}

describe('findings: n-plus-one', () => {
  it('fires for the same query issued 5 times one after another at one call site, pinned at that call site', () => {
    const { engine, of } = setup();
    engine.observe(trace(queries(5, 4, 0.2)));
    const [f] = of('n-plus-one');
    assert.ok(f, 'found');
    assert.deepEqual(f.location, at(14));
    assert.equal(f.endpoint, 'GET /orders/:id');
    assert.equal(f.evidence.count, 5);
    assert.equal(f.evidence.mode, 'sequential');
    assert.match(f.message, /^SELECT \* FROM items WHERE order_id = \? ran 5× in one request of GET \/orders\/:id \(one after another\), 20 ms in all \(20% of the request\)$/);
    assert.match(f.recommendation, /IN \(\?\)|ANY/);
    assert.deepEqual(f.requestIds, [`req-${traceCount}`]);
  });

  it('fires for concurrent runs (Promise.all) and says so', () => {
    const { engine, of } = setup();
    engine.observe(trace(queries(8, 10, 0)));
    const [f] = of('n-plus-one');
    assert.equal(f?.evidence.mode, 'concurrent');
    assert.equal(f?.evidence.wallMs, 10);
    assert.equal(f?.severity, 'info');
  });

  it('does not fire under the count, nor for the same query from different call sites', () => {
    const { engine, of } = setup();
    engine.observe(trace(queries(4, 4, 0.2)));
    engine.observe(trace([...queries(3, 4, 0.2, undefined, at(14)), ...queries(3, 4, 0.2, undefined, at(30))]));
    assert.deepEqual(of('n-plus-one'), []);
  });

  it('takes its count as an option, and the same call site seen again updates one finding (stable id, occurrences, request ids newest first)', () => {
    const { engine, of, advance } = setup({}, { nPlusOne: 3 });
    engine.observe(trace(queries(3, 4, 0.2, 'GET users:?', at(20)).map((s) => ({ ...s, kind: 'redis' as const }))));
    advance(1000);
    engine.observe(trace(queries(3, 4, 0.2, 'GET users:?', at(20)).map((s) => ({ ...s, kind: 'redis' as const }))));
    const found = of('n-plus-one');
    assert.equal(found.length, 1);
    const [f] = found;
    assert.equal(f!.id, findingId({ kind: 'n-plus-one', endpoint: 'GET /orders/:id', location: at(20) }));
    assert.equal(f!.occurrences, 2);
    assert.equal(f!.lastSeen - f!.firstSeen, 1000);
    assert.deepEqual(f!.requestIds, [`req-${traceCount}`, `req-${traceCount - 1}`]);
    assert.match(f!.recommendation, /MGET/);
  });

  it('pins a span without a location at its parent, or else at the route handler', () => {
    const { engine, of } = setup({}, { routeLocation: () => at(99, '/app/other.js') });
    engine.observe(trace(queries(5, 2, 0.2).map(({ location: _, ...s }) => s)));
    assert.deepEqual(of('n-plus-one')[0]?.location, HANDLER);
    const bare = setup({}, { routeLocation: () => at(99, '/app/other.js') });
    const t = trace([]);
    t.spans = queries(5, 2, 0.2).map(({ location: _, parent: __, ...s }) => s);
    bare.engine.observe(t);
    assert.deepEqual(bare.of('n-plus-one')[0]?.location, at(99, '/app/other.js'));
  });
});

describe('findings: slow-query', () => {
  it('fires for a db span over slowQueryMs, at its call site, and writes a slow-log entry', () => {
    const { engine, of, slowLog } = setup();
    engine.observe(trace([{ kind: 'db', name: 'SELECT pg_sleep(?)', startMs: 5, durationMs: 1200, location: at(40), parent: 0 }], { durationMs: 1300 }));
    const [f] = of('slow-query');
    assert.ok(f);
    assert.deepEqual(f.location, at(40));
    assert.equal(f.severity, 'warning');
    assert.equal(f.message, 'SELECT pg_sleep(?) took 1.2 s in a request of GET /orders/:id (threshold 1 s)');
    assert.match(f.recommendation, /EXPLAIN/);
    assert.equal(slowLog.length, 1);
    assert.deepEqual(slowLog[0]!.span, { kind: 'db', name: 'SELECT pg_sleep(?)', location: at(40) });
    assert.equal(slowLog[0]!.duration, 1200);
    assert.equal(slowLog[0]!.time, T0 + 5);
    assert.deepEqual(engine.slowQueries(T0 + 1000), [{ endpoint: 'GET /orders/:id', name: 'SELECT pg_sleep(?)', location: at(40), maxMs: 1200, count: 1 }]);
    assert.deepEqual(engine.slowQueries(T0 + 61_000), [], 'out of the minute');
  });

  it('follows slowQueryMs, and ignores handler and middleware spans however long', () => {
    const { engine, of } = setup({ slowQueryMs: 100 });
    engine.observe(trace([{ kind: 'http', name: 'GET api.example.com/rates', startMs: 1, durationMs: 150, location: at(50), parent: 0 }], { durationMs: 5000 }));
    assert.equal(of('slow-query').length, 1);
    const quiet = setup();
    quiet.engine.observe(trace([{ kind: 'db', name: 'SELECT ?', startMs: 1, durationMs: 900, location: at(40), parent: 0 }], { durationMs: 5000 }));
    assert.deepEqual(quiet.of('slow-query'), [], 'the handler took 5 s, no query did');
  });
});

describe('findings: sequential-awaits', () => {
  const calls = (gap: number): Span[] => [
    { kind: 'db', name: 'SELECT * FROM users WHERE id = ?', startMs: 1, durationMs: 20, location: at(60), parent: 0 },
    { kind: 'http', name: 'GET rates.example/today', startMs: 21 + gap, durationMs: 30, location: at(61), parent: 0 },
    { kind: 'redis', name: 'GET flags:?', startMs: 51 + 2 * gap, durationMs: 10, location: at(62), parent: 0 },
  ];

  it('fires for different calls awaited one right after another, at the first call, saying "may"', () => {
    const { engine, of } = setup();
    engine.observe(trace(calls(1)));
    const [f] = of('sequential-awaits');
    assert.ok(f);
    assert.deepEqual(f.location, at(60));
    assert.equal(f.evidence.calls, 3);
    assert.equal(f.evidence.totalMs, 60);
    assert.equal(f.evidence.savingMs, 30);
    assert.match(f.message, / may take 30 ms$/);
    assert.match(f.recommendation, /Promise\.all/);
  });

  it('does not fire for overlapping calls, calls far apart, calls under different parents, or a repeat of one query', () => {
    const { engine, of } = setup();
    const overlapping = calls(1).map((s, i) => ({ ...s, startMs: 1 + i }));
    engine.observe(trace(overlapping));
    engine.observe(trace(calls(40)));
    const nested = calls(1);
    nested[1]!.parent = 1;
    engine.observe(trace([nested[0]!, nested[1]!]));
    engine.observe(trace(queries(3, 20, 1)));
    assert.deepEqual(of('sequential-awaits'), []);
  });
});

describe('findings: blocking', () => {
  /** A late tick's interval: by default the thread was on a CPU all of it (a synchronous busy loop). */
  const late = (start: number, end: number, lagMs: number, over: Partial<Block> = {}): Block => ({ start: T0 + start, end: T0 + end, lagMs, activeMs: end - start, cpuMs: end - start, waitMs: 0, stopped: false, ...over });

  it('attributes a late tick to the innermost handler span covering it, once the request has ended', () => {
    const { engine, of } = setup();
    const t = trace(
      [
        { kind: 'middleware', name: 'auth', startMs: 0, durationMs: 400, location: at(5, '/app/auth.js') },
        { kind: 'handler', name: 'report', startMs: 150, durationMs: 220, location: at(77) },
      ],
      { durationMs: 400 },
    );
    t.spans.shift(); // no outer handler span here: middleware, then the handler inside it
    t.spans[1]!.parent = 0;
    engine.observe(t);
    engine.tick(T0 + 200, late(140, 360, 200));
    assert.deepEqual(of('blocking'), [], 'the request has not ended by this tick');
    engine.tick(T0 + 420);
    const [f] = of('blocking');
    assert.ok(f, 'found');
    assert.deepEqual(f.location, at(77));
    assert.equal(f.evidence.blockedMs, 210);
    assert.match(f.message, /^the event loop was blocked 210 ms while report of GET \/orders\/:id ran synchronously/);
  });

  it('does not fire for a block outside the request, or shorter than blockMs in it', () => {
    const { engine, of } = setup();
    engine.observe(trace([], { durationMs: 100 }));
    engine.tick(T0 + 600, late(300, 500, 180));
    engine.observe(trace([], { startedAt: T0 + 1000, durationMs: 100 }));
    engine.tick(T0 + 1200, late(1070, 1150, 60)); // 30 ms inside the request
    assert.deepEqual(of('blocking'), []);
  });

  /** One request of 400 ms whose handler spans it all, and one late tick over 220 ms of it. */
  function blamed(block: Block) {
    const { engine, of } = setup();
    engine.observe(trace([], { durationMs: 400, spans: [{ kind: 'handler', name: 'getOrder', startMs: 0, durationMs: 400, location: HANDLER }] }));
    engine.tick(T0 + 500, block);
    return of('blocking');
  }

  it('a late tick while the loop waited for events (the process not scheduled, or stopped) is not blamed on the request in flight', () => {
    assert.deepEqual(blamed(late(100, 320, 200, { activeMs: 3, cpuMs: 1 })), []);
  });

  it('a late tick while the thread waited for a CPU (other processes ran) is not blamed, though the loop was in a callback', () => {
    assert.deepEqual(blamed(late(100, 320, 200, { activeMs: 220, cpuMs: 8, waitMs: 205 })), []);
  });

  it('a synchronous busy loop slowed by other processes is blamed for its own CPU time', () => {
    const [f] = blamed(late(100, 320, 200, { activeMs: 220, cpuMs: 120, waitMs: 100 }));
    assert.ok(f, 'found');
    assert.equal(f.evidence.blockedMs, 120);
    assert.equal(f.evidence.cpuMs, 120);
    assert.match(f.message, /^the event loop was blocked 120 ms while getOrder of GET \/orders\/:id ran synchronously/);
  });

  it('a synchronous wait (execSync, sync I/O: the thread asleep in the callback, little CPU) is blamed as a wait', () => {
    const [f] = blamed(late(100, 320, 200, { activeMs: 220, cpuMs: 4, waitMs: 2 }));
    assert.ok(f, 'found');
    assert.equal(f.evidence.blockedMs, 218);
    assert.equal(f.evidence.cpuMs, 4);
    assert.match(f.message, /^the event loop was blocked 218 ms while getOrder of GET \/orders\/:id waited in a synchronous call \(4 ms of it on the CPU\)/);
    assert.match(f.recommendation, /execFile or spawn instead of execSync/);
  });

  it('of two requests in flight, the one awaiting a query through the whole hold is not blamed for the other\'s synchronous work', () => {
    const { engine, of } = setup();
    const db = (startMs: number, durationMs: number): Span => ({ kind: 'db', name: 'SELECT * FROM orders', startMs, durationMs, location: at(14), parent: 0 });
    const handler = (name: string, line: number, startMs: number, durationMs: number): Span => ({ kind: 'handler', name, startMs, durationMs, location: at(line) });
    // Awaiting a query issued before the interval began, answered after the hold: innocent.
    engine.observe(trace([], { endpoint: 'GET /waiting', durationMs: 400, spans: [handler('waiting', 20, 0, 400), db(50, 290)] }));
    // Ran synchronously from the start of the interval: guilty.
    engine.observe(trace([], { endpoint: 'GET /report', startedAt: T0 + 105, durationMs: 220, spans: [handler('report', 30, 0, 220)] }));
    // Its query answered at the start of the interval, then synchronous work: guilty.
    engine.observe(trace([], { endpoint: 'GET /after-query', durationMs: 400, spans: [handler('afterQuery', 40, 0, 400), db(40, 62)] }));
    // A query sent inside the interval, synchronous work while it was in flight: guilty.
    engine.observe(trace([], { endpoint: 'GET /meanwhile', durationMs: 400, spans: [handler('meanwhile', 50, 0, 400), db(104, 230)] }));
    engine.tick(T0 + 500, late(100, 320, 200));
    assert.deepEqual(of('blocking').map((f) => f.endpoint).sort(), ['GET /after-query', 'GET /meanwhile', 'GET /report']);
  });

  it('a late tick in which the process was stopped and continued (SIGSTOP or Ctrl-Z, then SIGCONT) is held against the app for its CPU time only', () => {
    assert.deepEqual(blamed(late(100, 320, 200, { activeMs: 220, cpuMs: 4, waitMs: 2, stopped: true })), [], 'stopped in the middle of a callback: not a synchronous wait');
    const [f] = blamed(late(100, 320, 200, { activeMs: 220, cpuMs: 120, waitMs: 2, stopped: true }));
    assert.ok(f, 'found');
    assert.equal(f.evidence.blockedMs, 120);
    assert.match(f.message, /^the event loop was blocked 120 ms while getOrder of GET \/orders\/:id ran synchronously/);
    assert.equal(heldMs(late(100, 320, 200, { activeMs: 220, cpuMs: 8, waitMs: Number.NaN, stopped: true })), 8, 'where the wait for a CPU is unknown too');
  });

  it('where the wait for a CPU is unknown (not Linux), the time in callbacks is the hold', () => {
    assert.equal(blamed(late(100, 320, 200, { activeMs: 220, cpuMs: 8, waitMs: Number.NaN }))[0]?.evidence.blockedMs, 220);
    assert.deepEqual(blamed(late(100, 320, 200, { activeMs: 30, cpuMs: 8, waitMs: Number.NaN })), []);
  });

  /** An engine on the real probe and clock: `blocks` collects the late ticks' blocks; `settle` lets ticks run. */
  function realProbe() {
    const blocks: Block[] = [];
    const { engine } = setup({}, { timer: true, clock: Date.now });
    engine.observe(trace([])); // the probe starts with the first trace
    const original = engine.tick.bind(engine);
    engine.tick = (now, block) => {
      if (block) blocks.push(block);
      original(now, block);
    };
    return { engine, blocks, settle: () => new Promise((r) => setTimeout(r, 60)) };
  }
  const show = (b: Block[]) => JSON.stringify(b.map(({ activeMs, cpuMs, waitMs, stopped }) => ({ activeMs, cpuMs, waitMs, stopped })));

  it('the real probe notices a blocked loop', async () => {
    const { engine, blocks, settle } = realProbe();
    await settle();
    const until = Date.now() + 120;
    while (Date.now() < until) {
      /* block the loop */
    }
    await settle();
    engine.close();
    assert.ok(blocks.some((b) => b.lagMs >= 80), `lags seen: ${blocks.map((b) => b.lagMs).join(', ')}`);
  });

  it('the real probe tells a synchronous busy loop (the thread on a CPU) from a synchronous sleep (little CPU), and holds both against the app', async function () {
    const clock = threadClock();
    const t: ThreadTimes = { cpuMs: 0, waitMs: 0 };
    clock.read(t);
    if (Number.isNaN(t.waitMs)) this.skip(); // the thread's wait for a CPU is read on Linux only
    const { engine, blocks, settle } = realProbe();
    await settle();
    const until = t.cpuMs + 120;
    while (t.cpuMs < until) clock.read(t); // 120 ms of this thread's CPU, however long the machine makes it take
    await settle();
    const busy = blocks.splice(0);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 150); // asleep 150 ms in one call
    await settle();
    const asleep = blocks.splice(0);
    engine.close();
    clock.close();
    assert.ok(busy.some((b) => b.cpuMs >= 100 && heldMs(b) >= 100), `busy: ${show(busy)}`);
    assert.ok(asleep.some((b) => b.cpuMs < 40 && heldMs(b) >= 130), `asleep: ${show(asleep)}`);
  });

  it('the real probe tells a process stopped in the middle of a callback (SIGSTOP, then SIGCONT 300 ms later) from a synchronous sleep, and holds only its CPU time against the app', async function () {
    const probe = continuations();
    if (!probe) this.skip(); // no SIGCONT (Windows)
    probe.close();
    const { engine, blocks, settle } = realProbe();
    await settle();
    const waker = spawn('/bin/sh', ['-c', `sleep 0.3; kill -CONT ${process.pid}`], { stdio: 'ignore' });
    await once(waker, 'spawn');
    process.kill(process.pid, 'SIGSTOP'); // this whole process, in the middle of this callback
    await settle();
    const stopped = blocks.splice(0);
    engine.close();
    assert.ok(stopped.some((b) => b.stopped && b.activeMs >= 250 && heldMs(b) < 40), `stopped: ${show(stopped)}`);
  });

  it('continuations() counts the SIGCONTs the process receives, until closed', async function () {
    const before = process.listenerCount('SIGCONT');
    const seen = continuations();
    if (!seen) this.skip();
    process.kill(process.pid, 'SIGCONT'); // continues a running process: nothing but the listener
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(seen.count, 1);
    seen.close();
    assert.equal(process.listenerCount('SIGCONT'), before);
  });
});

describe('findings: cache-opportunity', () => {
  const settings = (ms: number, cached = false): Span[] => [
    { kind: 'db', name: 'SELECT * FROM settings', startMs: 1, durationMs: ms, location: at(88), parent: 0 },
    ...(cached ? [{ kind: 'cache' as const, name: 'cache.get settings:?', startMs: 0, durationMs: 0.1, location: at(87), parent: 0 }] : []),
  ];

  it('fires when the same read with the same text dominates most of a route\'s requests and nothing is cached', () => {
    const { engine, of } = setup();
    for (let i = 0; i < 4; i++) engine.observe(trace(settings(40), { durationMs: 60 }));
    assert.deepEqual(of('cache-opportunity'), [], 'four requests are too few to judge');
    engine.observe(trace(settings(40), { durationMs: 60 }));
    const [f] = of('cache-opportunity');
    assert.ok(f);
    assert.deepEqual(f.location, at(88));
    assert.equal(f.evidence.seen, 5);
    assert.match(f.message, /^SELECT \* FROM settings ran with the same text in 5 of the last 5 traced requests of GET \/orders\/:id, 40 ms per request \(67% of the route's time\), and nothing cached it$/);
    assert.match(f.recommendation, /getOrSet/);
  });

  it('does not fire for parameterised reads, cached routes, or reads that take little of the route\'s time', () => {
    const { engine, of } = setup();
    for (let i = 0; i < 6; i++) {
      engine.observe(trace(queries(1, 40, 0), { durationMs: 60 }));
      engine.observe(trace(settings(40, true), { endpoint: 'GET /cached', durationMs: 60 }));
      engine.observe(trace(settings(2), { endpoint: 'GET /cheap', durationMs: 60 }));
    }
    assert.deepEqual(of('cache-opportunity'), []);
  });
});

describe('findings: low-hit-rate', () => {
  const read = (kind: 'hit' | 'miss', key: string, time: number, route = 'GET /users/:id'): CacheEvent => ({ kind, key, namespace: key.split(':')[0], time, route });

  it('names the TTL when keys are missed again after they were read before', () => {
    const { engine, of } = setup({}, { routeLocation: () => HANDLER });
    const events: CacheEvent[] = [];
    for (let round = 0; round < 4; round++) for (let k = 0; k < 40; k++) events.push(read(round === 3 && k < 10 ? 'hit' : 'miss', `users:${k}`, T0 + round * 30_000 + k));
    engine.observeCacheEvents(events);
    engine.judge();
    const [f] = of('low-hit-rate');
    assert.ok(f);
    assert.equal(f.endpoint, 'cache:users');
    assert.equal(f.evidence.reason, 'ttl');
    assert.deepEqual(f.location, HANDLER, 'no cache span known: the route that read it');
    assert.match(f.message, /^cache namespace users: hit rate 6\.3% < 50% \(10 hits, 150 misses\); 110 of the misses were keys read before, again 30 s later on average/);
    assert.match(f.recommendation, /TTL longer than about 30 s/);
  });

  it('names the key shape when keys are read once, at the cache call the traces showed', () => {
    const { engine, of } = setup();
    engine.observe(trace([{ kind: 'cache', name: 'cache.get search:?', startMs: 0, durationMs: 1, location: at(120), parent: 0 }]));
    engine.observeCacheEvents(Array.from({ length: 150 }, (_, k) => read('miss', `search:${k}-${T0 + k}`, T0 + k)));
    engine.judge();
    const [f] = of('low-hit-rate');
    assert.equal(f?.evidence.reason, 'key-shape');
    assert.deepEqual(f?.location, at(120));
    assert.match(f!.message, /150 of 150 distinct keys were read only once/);
  });

  it('does not fire for a namespace with a good hit rate, or too few reads', () => {
    const { engine, of } = setup({}, { routeLocation: () => HANDLER });
    engine.observeCacheEvents(Array.from({ length: 200 }, (_, k) => read(k % 4 === 0 ? 'miss' : 'hit', `users:${k % 10}`, T0 + k)));
    engine.observeCacheEvents(Array.from({ length: 50 }, (_, k) => read('miss', `rare:${k}`, T0 + k)));
    engine.judge();
    assert.deepEqual(of('low-hit-rate'), []);
  });
});

describe('findings: the list', () => {
  it('grows its revision on a change, lists newest first, and forgets findings unseen for long', () => {
    const { engine, advance } = setup({}, { forgetAfterMs: 10_000 });
    const r0 = engine.revision();
    engine.observe(trace(queries(5, 4, 0.2)));
    assert.ok(engine.revision() > r0);
    advance(5000);
    engine.observe(trace([{ kind: 'db', name: 'SELECT ?', startMs: 1, durationMs: 2000, location: at(40), parent: 0 }], { durationMs: 2100 }));
    assert.deepEqual(engine.list().map((f) => f.kind), ['slow-query', 'n-plus-one']);
    const r1 = engine.revision();
    advance(6000);
    engine.judge();
    assert.deepEqual(engine.list().map((f) => f.kind), ['slow-query']);
    assert.ok(engine.revision() > r1);
  });

  it('a detector failing on a malformed trace never throws to the caller', () => {
    const { engine } = setup();
    assert.doesNotThrow(() => engine.observe({ endpoint: 'GET /x' } as Trace));
  });
});

describe('findings: route frames (FindingsEngine.routeFrames)', () => {
  it('lists the handler and middleware locations an endpoint’s traces showed, each once, in the order seen', () => {
    const { engine } = setup();
    assert.deepEqual(engine.routeFrames('GET /orders/:id'), []);
    engine.observe(trace([]));
    engine.observe(trace([]));
    assert.deepEqual(engine.routeFrames('GET /orders/:id'), [HANDLER]);
    const auth = at(30, '/app/auth.js');
    engine.observe(trace([{ kind: 'middleware', name: 'auth', startMs: 0, durationMs: 1, location: auth }]));
    engine.observe(trace([{ kind: 'middleware', name: 'auth', startMs: 0, durationMs: 1, location: { ...auth } }, { kind: 'db', name: 'SELECT 1', startMs: 1, durationMs: 1, location: at(40) }]));
    assert.deepEqual(engine.routeFrames('GET /orders/:id'), [HANDLER, auth]);
    // A copy: the caller's changes do not reach the engine.
    engine.routeFrames('GET /orders/:id').pop();
    assert.deepEqual(engine.routeFrames('GET /orders/:id'), [HANDLER, auth]);
    assert.deepEqual(engine.routeFrames('GET /other'), []);
  });
});
