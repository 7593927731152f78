import { TimeChart, relative } from '../charts';
import { clean, empty, fill, h, setText } from '../dom';
import { MISSING, formatBytes, formatCount, formatMs, formatPercent } from '../../protocol/format';
import type { Ctx, View } from './view';
import { Revs } from './view';

/** Health, headline figures and the over-time charts. */
export class OverviewView implements View {
  readonly el = h('div', { class: 'view overview' });
  private readonly revs = new Revs();
  private readonly health = h('div', { class: 'health' });
  private readonly tiles = h('div', { class: 'tiles' });
  private readonly tileValues = new Map<string, HTMLElement>();
  private readonly traffic = new TimeChart('Requests per second and error rate over time', (v) => formatCount(v));
  private readonly latency = new TimeChart('Worst route p95 latency over time', (v) => formatMs(v));
  private readonly memory = new TimeChart('Memory (rss and heap) over time', (v) => formatBytes(v));
  private readonly loop = new TimeChart('Event-loop delay p99 over time', (v) => formatMs(v));

  constructor(private readonly ctx: Ctx) {
    for (const [key, label] of [
      ['rps', 'Requests/s'],
      ['err', 'Error rate'],
      ['p95', 'Worst p95 (1m)'],
      ['endpoints', 'Endpoints'],
      ['rss', 'RSS'],
      ['heap', 'Heap used'],
      ['el', 'Event-loop p99'],
      ['alerts', 'Active alerts'],
    ] as const) {
      const value = h('span', { class: 'tile-value', text: MISSING });
      this.tileValues.set(key, value);
      this.tiles.append(h('div', { class: 'tile' }, h('span', { class: 'tile-label', text: label }), value));
    }
    this.el.append(
      h('section', { class: 'card' }, h('h2', { text: 'Health' }), this.health),
      this.tiles,
      h(
        'div',
        { class: 'charts' },
        h('section', { class: 'card' }, h('h2', { text: 'Traffic (req/s, errors %)' }), this.traffic.el),
        h('section', { class: 'card' }, h('h2', { text: 'Worst route p95' }), this.latency.el),
        h('section', { class: 'card' }, h('h2', { text: 'Memory' }), this.memory.el),
        h('section', { class: 'card' }, h('h2', { text: 'Event-loop delay (p99)' }), this.loop.el),
      ),
    );
  }

  render(): void {
    const s = this.ctx.store;
    if (!this.revs.changed({ system: s.rev.system, series: s.rev.series, alerts: s.rev.alerts, endpoints: s.rev.endpoints })) return;
    const hr = s.health;
    if (hr) {
      const reasons = hr.reasons.length ? h('ul', { class: 'reasons' }, ...hr.reasons.slice(0, 20).map((r) => h('li', { text: r }))) : h('p', { class: 'muted', text: 'No problems found.' });
      fill(
        this.health,
        h('div', { class: `score ${clean(hr.status)}`, attrs: { 'aria-label': `Health score ${hr.score} of 100, ${hr.status}` } }, h('span', { class: 'score-value', text: String(Math.round(hr.score)) }), h('span', { class: 'score-status', text: hr.status })),
        reasons,
      );
    } else fill(this.health, empty('No health report yet.'));

    const sys = s.system;
    let worst = 0;
    for (const e of s.endpoints.values()) if (e.windows?.['1m'] && e.windows['1m'].count > 0) worst = Math.max(worst, e.windows['1m'].p95);
    const set = (k: string, v: string) => setText(this.tileValues.get(k)!, v);
    set('rps', formatCount(sys?.requestsPerSecond));
    set('err', formatPercent(sys?.errorRate));
    set('p95', formatMs(worst));
    set('endpoints', `${s.endpoints.size}${s.droppedEndpoints ? ` (+${s.droppedEndpoints} folded)` : ''}`);
    set('rss', formatBytes(sys?.rss));
    set('heap', sys ? `${formatBytes(sys.heapUsed)} / ${formatBytes(sys.heapLimit)}` : MISSING);
    set('el', formatMs(sys?.eventLoop.delayP99));
    set('alerts', String(s.alerts.length));

    const points = s.series.toArray();
    const now = points.length ? points[points.length - 1]!.t : 0;
    this.traffic.set([
      { label: 'req/s', points: relative(points, now, (p) => p.rps) },
      { label: 'errors %', points: relative(points, now, (p) => p.errorRate * 100) },
    ]);
    this.latency.set([{ label: 'p95', points: relative(points, now, (p) => p.p95) }]);
    this.memory.set([
      { label: 'rss', points: relative(points, now, (p) => p.rss) },
      { label: 'heap used', points: relative(points, now, (p) => p.heapUsed) },
    ]);
    this.loop.set([{ label: 'delay p99', points: relative(points, now, (p) => p.elP99) }]);
  }
}
