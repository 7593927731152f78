import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addCosts, functionCosts, judgeInstructions, namedCosts, perRequest, readPerfMap, readSummary, symbolize, threadKind } from '../../../bench/lib/callgrind';

/** A dump as callgrind writes it (name compression, relative positions, a call with its inclusive cost). */
const DUMP = `# callgrind format
version: 1
events: Ir
summary: 950

ob=(1) ???
fl=(1) ???
fn=(1) 0x0000000000001010
0 100
cob=(2) /usr/bin/node
cfi=(2) ???
cfn=(2) Builtins_Call_ReceiverIsAny'2
calls=2 0
0 500
0 50

fn=(3) 0x0000000000002000
+3 200
* 100
cfn=(1)
calls=1 0
0 650

ob=(2)
fl=(2)
fn=(2)
0 500

totals: 950
`;

describe('bench instructions: callgrind dumps and per-request arithmetic', () => {
  it('reads the instruction count from the summary line, else from totals', () => {
    assert.equal(readSummary(DUMP), 950);
    assert.equal(readSummary('events: Ir\ntotals: 42\n'), 42);
    assert.throws(() => readSummary('events: Ir\n'), /no summary/);
  });

  it('adds self and inclusive costs by function, following compressed names and call lines', () => {
    const costs = functionCosts(DUMP);
    assert.deepEqual(costs.get('0x0000000000001010'), { self: 150, inclusive: 650 });
    assert.deepEqual(costs.get('0x0000000000002000'), { self: 300, inclusive: 950 });
    assert.deepEqual(costs.get('Builtins_Call_ReceiverIsAny'), { self: 500, inclusive: 500 });
    const self = [...costs.values()].reduce((s, c) => s + c.self, 0);
    assert.equal(self, readSummary(DUMP), 'self costs add up to the dump total');
  });

  it('adds the threads’ dumps into the process’s costs, and tells the threads apart by what they ran', () => {
    const all = addCosts(functionCosts(DUMP), functionCosts(DUMP));
    assert.deepEqual(all.get('0x0000000000002000'), { self: 600, inclusive: 1900 });
    assert.equal([...all.values()].reduce((sum, c) => sum + c.self, 0), 2 * readSummary(DUMP));
    const costs = (...names: string[]) => new Map(names.map((n) => [n, { self: 1, inclusive: 1 }]));
    // Callgrind numbers the process's first thread 1, whatever it ran.
    assert.equal(threadKind(1, costs('v8::internal::compiler::GraphReducer::ReduceTop()')), 'main thread');
    assert.equal(threadKind(4, costs('node::(anonymous namespace)::PlatformWorkerThread(void*)', 'v8::internal::compiler::GraphReducer::ReduceTop()')), 'V8 and Node helper threads');
    assert.equal(threadKind(7, costs('uv_run', 'Builtins_InterpreterEntryTrampoline', '0x0000000000001010')), 'agent worker thread');
    assert.equal(threadKind(9, costs('uv__io_poll', 'epoll_wait')), 'other threads');
  });

  it('names generated code from a perf map, by the range an address falls in', () => {
    const ranges = readPerfMap('1000 40 JS:*recordRequest /x/agent-bundle/index.js:10:3\n2000 10 JS:^handle /x/app.js:5:1\n1000 20 JS:*recordRequest /x/agent-bundle/index.js:10:3\n');
    assert.equal(ranges.length, 2);
    assert.equal(symbolize('0x0000000000001010', ranges), 'JS:*recordRequest /x/agent-bundle/index.js:10:3');
    assert.equal(symbolize('0x0000000000001030', ranges), '0x0000000000001030', 'the later entry for a start wins');
    assert.equal(symbolize('Builtins_Call', ranges), 'Builtins_Call');
    const named = namedCosts(functionCosts(DUMP), ranges);
    assert.equal(named.get('JS:^handle /x/app.js:5:1')?.self, 300);
  });

  it('takes the idle window’s periodic work per second out of the request window, and spreads it over a native rate', () => {
    const p = perRequest({ requests: 1000, instructions: 2_200_000_000, seconds: 100, idleInstructions: 20_000_000, idleSeconds: 10 }, 2000);
    assert.equal(p.gross, 2_200_000);
    assert.equal(p.periodicPerSecond, 2_000_000);
    assert.equal(p.net, 2_000_000);
    assert.equal(p.atRate, 2_001_000);
    const given = perRequest({ requests: 1000, instructions: 2_200_000_000, seconds: 100, idleInstructions: 90_000_000, idleSeconds: 10 }, 2000, 2_000_000);
    assert.equal(given.net, 2_000_000, 'a periodic rate passed in (the lowest of the repeats) replaces the window’s own');
  });

  it('with the same requests at two paces, tells the work per request from the work per second of the clock, and spreads the latter over a native rate', () => {
    // 1000 requests at 2 M each, and 3 M per second of wall time while they arrive: 50 s, then 150 s.
    const w = { requests: 1000, instructions: 2_000_000_000 + 150_000_000, seconds: 50, idleInstructions: 10_000_000, idleSeconds: 10, pacedInstructions: 2_000_000_000 + 450_000_000, pacedSeconds: 150 };
    const p = perRequest(w, 2000, 1_000_000);
    assert.equal(p.periodicPerSecond, 3_000_000, 'the two paces win over the idle rate');
    assert.equal(p.net, 2_000_000);
    assert.equal(p.atRate, 2_001_500);
    assert.equal(perRequest({ ...w, pacedSeconds: 40 }, 2000).periodicPerSecond, 1_000_000, 'a paced window no longer than the first is not a second pace');
  });

  it('judges the ratio of means beside the larger of the A/A spread and the variant’s own', () => {
    const bare = [1_000_000, 1_002_000];
    const bareB = [1_001_000, 1_001_000];
    assert.equal(judgeInstructions([1_010_000, 1_012_000], bare, bareB, 1.03).verdict, 'met');
    assert.equal(judgeInstructions([1_100_000, 1_101_000], bare, bareB, 1.03).verdict, 'not met');
    const wide = judgeInstructions([980_000, 1_080_000], bare, bareB, 1.03);
    assert.equal(wide.verdict, 'unresolved');
    assert.match(wide.text, /spread \(A\/A or repeats\) ±4\.9 %/);
    assert.equal(judgeInstructions([1_010_000], bare, undefined, 1.03).verdict, 'unresolved');
  });

  it('npm run bench -- instructions without valgrind on the PATH says so and exits 2', () => {
    const empty = mkdtempSync(join(tmpdir(), 'no-valgrind-'));
    try {
      const root = join(__dirname, '..', '..', '..');
      const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench', 'main.ts'), 'instructions'], { cwd: root, encoding: 'utf8', timeout: 30_000, env: { ...process.env, PATH: empty } });
      assert.equal(r.status, 2);
      assert.match(r.stderr, /valgrind \(with callgrind_control\) is not installed/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
