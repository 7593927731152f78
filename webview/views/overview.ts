import { TimeChart, relative } from '../charts';
import { clean, empty, fill, h, setText, setTitle } from '../dom';
import { MISSING, NOW_LABEL, WINDOW_LABELS, formatBytes, formatCount, formatMs, formatPercent, worstP95 } from '../../protocol/format';
import type { WindowName } from '../../protocol/types';
import { TopList, busiestRows, slowestRows } from './topList';
import type { Ctx, View } from './view';
import { Revs } from './view';

/** Items in each of the landing view's top lists. */
export const LANDING_TOP = 5;

/**
 * The landing view: health, headline figures (each labelled with the window it
 * covers), the slowest and the most requested endpoints (a click opens the
 * handler's source), and the over-time charts.
 */
export class OverviewView implements View {
  readonly el = h('div', { class: 'view overview' });
  private readonly revs = new Revs();
  private readonly health = h('div', { class: 'health' });
  private readonly tiles = h('div', { class: 'tiles' });
  private readonly tileValues = new Map<string, HTMLElement>();
  private readonly slowest: TopList;
  private readonly busiest: TopList;
  private readonly slowestHeading = h('h2');
  private readonly busiestHeading = h('h2');
  private readonly traffic = new TimeChart('Requests per second (now) and error rate (last minute) over time', (v) => formatCount(v));
  private readonly latency = new TimeChart('Worst route p95 latency over time', (v) => formatMs(v));
  private readonly memory = new TimeChart('Memory (rss and heap) over time', (v) => formatBytes(v));
  private readonly loop = new TimeChart('Event-loop delay p99 over time', (v) => formatMs(v));

  constructor(private readonly ctx: Ctx) {
    for (const [key, label] of [
      ['rpsNow', `Requests/s ${NOW_LABEL}`],
      ['rps', `Requests/s (${WINDOW_LABELS['1m']})`],
      ['err', `Error rate (${WINDOW_LABELS['1m']})`],
      ['4xx', `4xx rate (${WINDOW_LABELS.all})`],
      ['p95', `Worst p95 (${WINDOW_LABELS['1m']})`],
      ['endpoints', 'Endpoints'],
      ['rss', 'RSS'],
      ['heap', 'Heap used'],
      ['el', 'Event-loop p99'],
      ['alerts', 'Active alerts'],
    ] as const) {
      const value = h('span', { class: 'tile-value', text: MISSING });
      value.dataset.tile = key;
      this.tileValues.set(key, value);
      this.tiles.append(h('div', { class: 'tile' }, h('span', { class: 'tile-label', text: label }), value));
    }
    const openHandler = (endpointId: string) => ctx.api.postMessage({ type: 'openHandler', endpointId });
    this.slowest = new TopList(LANDING_TOP, 'Open the handler\'s source', openHandler);
    this.busiest = new TopList(LANDING_TOP, 'Open the handler\'s source', openHandler);
    this.el.append(
      h('section', { class: 'card' }, h('h2', { text: 'Health' }), this.health),
      this.tiles,
      h(
        'div',
        { class: 'two-col landing-tops' },
        h('section', { class: 'card', attrs: { 'aria-label': 'Slowest endpoints' } }, this.slowestHeading, this.slowest.el),
        h('section', { class: 'card', attrs: { 'aria-label': 'Most requested endpoints' } }, this.busiestHeading, this.busiest.el),
      ),
      h(
        'div',
        { class: 'charts' },
        h('section', { class: 'card' }, h('h2', { text: `Traffic (req/s ${NOW_LABEL}, errors % ${WINDOW_LABELS['1m']})` }), this.traffic.el),
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

    this.renderTiles();
    this.renderTops();

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

  private renderTiles(): void {
    const s = this.ctx.store;
    const sys = s.system;
    const worst = worstP95(s.endpoints.values(), '1m');
    let requests = 0;
    let clientErrors = 0;
    for (const e of s.endpoints.values()) {
      if (e.kind === 'custom') continue;
      requests += e.count;
      clientErrors += e.statusCodes['4xx'] ?? 0;
    }
    const set = (k: string, v: string, title = '') => {
      setText(this.tileValues.get(k)!, v);
      setTitle(this.tileValues.get(k)!, title);
    };
    const now = s.nowRate;
    set('rpsNow', formatCount(now), now === undefined ? 'Known a second after the first figures arrive' : '');
    set('rps', formatCount(sys?.requestsPerSecond));
    set('err', formatPercent(sys?.errorRate), 'Responses with status 500 or above, and requests that failed without a response');
    set('4xx', requests ? formatPercent(clientErrors / requests) : MISSING, `${formatCount(clientErrors)} of ${formatCount(requests)} requests answered 4xx ${WINDOW_LABELS.all}`);
    set('p95', worst ? formatMs(worst.windows['1m'].p95) : MISSING, worst ? worst.id : 'No route has the requests a p95 needs in the last minute');
    set('endpoints', `${s.endpoints.size}${s.droppedEndpoints ? ` (+${s.droppedEndpoints} folded)` : ''}`);
    set('rss', formatBytes(sys?.rss));
    set('heap', sys ? `${formatBytes(sys.heapUsed)} / ${formatBytes(sys.heapLimit)}` : MISSING);
    set('el', formatMs(sys?.eventLoop.delayP99));
    set('alerts', String(s.alerts.length));
  }

  /** The last minute's top endpoints; when the minute had no request, those since start. Only endpoints with a source location can be clicked. */
  private renderTops(): void {
    const eps = this.ctx.store.endpoints;
    let window: WindowName = 'all';
    for (const e of eps.values()) {
      if ((e.windows?.['1m']?.count ?? 0) > 0) {
        window = '1m';
        break;
      }
    }
    const located = (rows: ReturnType<typeof slowestRows>) =>
      rows.map((r) => {
        const e = eps.get(r.id);
        const enabled = !!(e?.handlerLocation ?? e?.location);
        return { ...r, enabled, title: enabled ? `${r.title}. Click to open the handler.` : `${r.title}. No source location reported.` };
      });
    setText(this.slowestHeading, `Slowest endpoints (p95, ${WINDOW_LABELS[window]})`);
    setText(this.busiestHeading, `Most requested (${WINDOW_LABELS[window]})`);
    this.slowest.set(located(slowestRows(eps.values(), window, LANDING_TOP)));
    this.busiest.set(located(busiestRows(eps.values(), window, LANDING_TOP)));
  }
}
