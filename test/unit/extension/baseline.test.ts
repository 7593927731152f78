import assert from 'node:assert/strict';
import { BaselinePoller } from '../../../extension/core/baseline';
import { baselineMarkdown, sortDeltas } from '../../../extension/core/baselineReport';
import { readDiscovery } from '../../../extension/core/discovery';
import { baselineLensTitle, baselineName, baselineTooltip, signedPercent } from '../../../extension/core/format';
import { AgentManager } from '../../../extension/core/manager';
import type { BaselineComparison, BaselineDelta } from '../../../protocol';
import { FakeAgent } from '../../support/fake-agent';
import { tempDir, waitFor } from './helpers';

const delta = (over: Partial<BaselineDelta> = {}): BaselineDelta => ({
  endpoint: 'GET /users/:id',
  base: 31,
  head: 42,
  change: 0.35,
  low: 0.2,
  high: 0.5,
  verdict: 'regressed',
  baseCount: 340,
  headCount: 1200,
  ...over,
});
const main = { source: 'branch' as const, name: 'main' };

describe('extension baseline lens text', () => {
  it('a regression reads "p95 42 ms ▲ 35% vs main"; an improvement ▼', () => {
    assert.equal(baselineLensTitle(delta(), main), 'p95 42 ms \u25B2 35% vs main');
    assert.equal(baselineLensTitle(delta({ head: 25, change: -0.2, low: -0.3, high: -0.1, verdict: 'improved' }), main), 'p95 25 ms \u25BC 20% vs main');
  });

  it('shows nothing when the change is within noise or there are too few requests; the tooltip says which', () => {
    const unchanged = delta({ change: 0.03, low: -0.05, high: 0.1, verdict: 'unchanged' });
    assert.equal(baselineLensTitle(unchanged, main), undefined);
    assert.match(baselineTooltip(unchanged, main), /^Within noise of main\. p95 42 ms now vs 31 ms on main: \+3% \(95% interval -5% to \+10%; 1\.2k and 340 requests\)\.$/);
    const few = delta({ verdict: 'inconclusive', headCount: 8, low: -0.6, high: 1.4 });
    assert.equal(baselineLensTitle(few, main), undefined);
    assert.match(baselineTooltip(few, main), /^Too few requests to compare with main\./);
    assert.match(baselineTooltip(delta({ verdict: 'inconclusive', low: -0.6, high: 1.4 }), main), /^Too noisy to compare with main\./);
    assert.match(baselineTooltip(delta(), main), /^Slower than main, beyond the noise of both samples\./);
  });

  it('names a saved baseline by its file name; hostile names are plain text', () => {
    assert.equal(baselineName({ source: 'file', name: 'perf/baselines/base.json' }), 'base.json');
    assert.equal(baselineName({ source: 'file', name: 'C:\\perf\\base.json' }), 'base.json');
    const title = baselineLensTitle(delta(), { source: 'branch', name: 'evil\u202E$(zap)\nx' }) ?? '';
    assert.doesNotMatch(title, /[\u202E\n]|\$\(/);
    assert.equal(signedPercent(0), '0%');
    assert.equal(signedPercent(-0.004), '-0.4%');
  });

  it('the Markdown document lists regressions first, with both p95s, the change and its interval, and escapes route names', () => {
    const c: BaselineComparison = {
      source: 'file',
      name: 'perf/baseline.json',
      endpoints: [
        delta({ endpoint: 'GET /a', verdict: 'unchanged', change: 0.01, low: -0.04, high: 0.06 }),
        delta({ endpoint: 'GET /b|<script>', verdict: 'regressed' }),
        delta({ endpoint: 'GET /c', verdict: 'improved', head: 20, change: -0.35, low: -0.5, high: -0.2 }),
        delta({ endpoint: 'GET /d', verdict: 'inconclusive', headCount: 3 }),
      ],
    };
    assert.deepEqual(sortDeltas(c.endpoints).map((d) => d.verdict), ['regressed', 'improved', 'unchanged', 'inconclusive']);
    const md = baselineMarkdown(c, { agent: 'shop', generatedAt: '2026-12-06T15:00:00.000Z' });
    assert.match(md, /^# RouteLens: live figures vs perf\/baseline\\\.json$/m);
    assert.match(md, /Baseline: the saved baseline file perf\/baseline\\\.json\.$/m);
    assert.match(md, /1 regressed · 1 improved · 1 unchanged · 1 inconclusive/);
    const rows = md.split('\n').filter((l) => l.startsWith('| GET'));
    assert.deepEqual(rows, [
      '| GET /b\\|\\<script\\> | 31 ms | 42 ms | +35% (+20% to +50%) | 340 / 1.2k | \u25B2 regressed |',
      '| GET /c | 31 ms | 20 ms | -35% (-50% to -20%) | 340 / 1.2k | \u25BC improved |',
      '| GET /a | 31 ms | 42 ms | +1% (-4% to +6%) | 340 / 1.2k | unchanged (within noise) |',
      '| GET /d | 31 ms | 42 ms | +35% (+20% to +50%) | 340 / 3 | inconclusive |',
    ]);
    assert.match(baselineMarkdown({ ...c, endpoints: [] }, { agent: 'shop', generatedAt: 'now' }), /No route has figures on both sides yet\./);
  });
});

describe('extension BaselinePoller (against a real agent server)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let agent: FakeAgent;
  let m: AgentManager;
  let poller: BaselinePoller;

  beforeEach(async () => {
    tmp = tempDir();
    agent = await FakeAgent.start({ dir: tmp.dir, routes: [{ method: 'GET', route: '/users/:id' }] });
    m = new AgentManager({ discovered: () => [], rescan: () => readDiscovery(tmp.dir), client: { initialDelayMs: 5, maxDelayMs: 40 } });
  });
  afterEach(async () => {
    poller?.dispose();
    m.dispose();
    await agent.stop();
    tmp.cleanup();
  });

  const asked = () => agent.commands.filter((c) => c.command === 'baseline.compare').length;

  it('asks on connect and again every interval while connected; keeps the answer in the agent\'s store and says so', async () => {
    agent.comparison = { source: 'branch', name: 'main', endpoints: [delta()] };
    poller = new BaselinePoller(m, { intervalMs: 150 });
    const changed: string[] = [];
    poller.onChange((id) => changed.push(id));
    m.autoConnect(await readDiscovery(tmp.dir));
    const conn = m.all[0]!;
    await waitFor(() => conn.client.store.baseline, 'first comparison');
    assert.equal(conn.client.store.baselineOf('GET /users/:id')?.verdict, 'regressed');
    assert.deepEqual(changed, [conn.id]);
    await waitFor(() => asked() >= 3, 'polled again');
    assert.equal(changed.length, 1, 'the same answer again changes nothing');
    agent.comparison = { source: 'branch', name: 'main', endpoints: [delta({ verdict: 'unchanged' })] };
    await waitFor(() => conn.client.store.baselineOf('GET /users/:id')?.verdict === 'unchanged', 'new answer kept');
    assert.equal(changed.length, 2);
  });

  it('stops polling while disconnected and starts again on reconnect; an agent without baselines has none', async () => {
    poller = new BaselinePoller(m, { intervalMs: 100 });
    m.autoConnect(await readDiscovery(tmp.dir));
    const conn = m.all[0]!;
    await waitFor(() => asked() >= 1 && poller.timerCount === 1, 'asked on connect');
    assert.equal(conn.client.store.baseline, undefined, 'ERR_UNAVAILABLE: no comparison');
    await agent.stop();
    await waitFor(() => conn.client.state !== 'connected', 'disconnected');
    assert.equal(poller.timerCount, 0, 'no timer while disconnected');
    const before = asked();
    agent.comparison = { source: 'branch', name: 'main', endpoints: [delta()] };
    await agent.restart();
    await waitFor(() => conn.client.store.baseline, 'comparison after reconnect');
    assert.ok(asked() > before);
  });

  it('set() runs baseline.set with the file and keeps its answer; later polls follow the file', async () => {
    agent.comparison = { source: 'branch', name: 'main', endpoints: [delta()] };
    poller = new BaselinePoller(m, { intervalMs: 60_000 });
    m.autoConnect(await readDiscovery(tmp.dir));
    const conn = m.all[0]!;
    await waitFor(() => conn.client.store.baseline, 'first comparison');
    const r = await poller.set(conn.id, 'perf/baseline.json');
    assert.deepEqual(agent.commands.filter((c) => c.command === 'baseline.set').map((c) => c.args), [{ file: 'perf/baseline.json' }]);
    assert.equal(r.source, 'file');
    assert.equal(conn.client.store.baseline?.name, 'perf/baseline.json');
    assert.equal((await poller.refresh(conn.id))?.name, 'perf/baseline.json');
    await poller.set(conn.id, undefined);
    assert.deepEqual(agent.commands.filter((c) => c.command === 'baseline.set').pop()?.args, {});
    assert.equal(conn.client.store.baseline?.source, 'branch');
  });
});
