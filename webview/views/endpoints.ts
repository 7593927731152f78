import type { EndpointStats, LatencySummary, WindowName } from '../../protocol/types';
import { WINDOWS } from '../../protocol/types';
import { BarChart, TimeChart, relative } from '../charts';
import { button, empty, fill, fmtTime, h, kv, setText, setTitle, table } from '../dom';
import { MISSING, WINDOW_LABELS, formatCount, formatMs, formatPercent, percentileFigure } from '../../protocol/format';
import type { SortKey } from '../state';
import { TopList, busiestRows, slowestRows } from './topList';
import type { Ctx, View } from './view';
import { Revs } from './view';

/** Must match `.endpoint-table tbody tr` height in style.css. */
export const ROW_HEIGHT = 26;
const OVERSCAN = 8;

/** A cell's text and its tooltip (why a figure is a dash, or what it covers). */
interface Cell {
  text: string;
  title: string;
}

interface Column {
  key: SortKey | 'method' | 'rate' | 'clientErrors';
  label: string;
  /** The header's tooltip: which window the column covers when it is not the window chosen. */
  title?: string;
  sortable: boolean;
  value: (e: EndpointStats, w: LatencySummary, window: WindowName) => string | Cell;
  cls?: string;
}

const percentile = (p: 'p50' | 'p95' | 'p99') => (_e: EndpointStats, w: LatencySummary, window: WindowName): Cell => {
  const f = percentileFigure(p, w, window);
  return { text: f.text, title: f.why };
};

/** Share of an endpoint's requests answered 4xx, since start: the agent counts status classes over the lifetime only. */
export function clientErrorShare(e: EndpointStats): Cell {
  const n = e.statusCodes['4xx'] ?? 0;
  if (!e.count) return { text: MISSING, title: `no requests ${WINDOW_LABELS.all}` };
  return { text: formatPercent(n / e.count), title: `${formatCount(n)} of ${formatCount(e.count)} requests answered 4xx ${WINDOW_LABELS.all}` };
}

const COLUMNS: Column[] = [
  { key: 'method', label: 'Method', sortable: false, value: (e) => e.method, cls: 'method' },
  { key: 'route', label: 'Route', sortable: true, value: (e) => e.route, cls: 'route' },
  { key: 'count', label: 'Count', sortable: true, value: (_e, w) => formatCount(w.count), cls: 'num' },
  { key: 'errors', label: 'Errors', title: 'Responses with status 500 or above, and requests that failed without a response', sortable: true, value: (_e, w) => formatCount(w.errors), cls: 'num' },
  { key: 'clientErrors', label: '4xx', title: 'Share of requests answered 4xx, since start (status classes are counted over the lifetime only)', sortable: false, value: clientErrorShare, cls: 'num' },
  { key: 'avg', label: 'Avg', sortable: true, value: (_e, w) => formatMs(w.avg), cls: 'num' },
  { key: 'p50', label: 'p50', sortable: true, value: percentile('p50'), cls: 'num' },
  { key: 'p95', label: 'p95', sortable: true, value: percentile('p95'), cls: 'num' },
  { key: 'p99', label: 'p99', sortable: true, value: percentile('p99'), cls: 'num' },
  { key: 'max', label: 'Max', sortable: true, value: (_e, w) => formatMs(w.max), cls: 'num' },
  { key: 'rate', label: 'Req/s (1m)', title: 'Requests per second over the last minute, whatever the window chosen', sortable: false, value: (e) => formatCount(e.rate), cls: 'num' },
];

interface Row {
  tr: HTMLTableRowElement;
  cells: HTMLElement[];
  id: string | null;
}

/** Endpoint lists, the sortable/filterable table (virtualised) and the endpoint detail. */
export class EndpointsView implements View {
  readonly el = h('div', { class: 'view endpoints' });
  private readonly revs = new Revs();
  private readonly filter = h('input', { attrs: { type: 'search', placeholder: 'Filter routes', 'aria-label': 'Filter endpoints' } });
  private readonly windowButtons = new Map<WindowName, HTMLButtonElement>();
  private readonly summary = h('span', { class: 'muted summary' });
  private readonly slowest: TopList;
  private readonly busiest: TopList;
  private readonly slowestHeading = h('h2');
  private readonly busiestHeading = h('h2');
  private readonly detail = h('section', { class: 'card detail', attrs: { 'aria-label': 'Endpoint detail' } });
  private readonly scroller = h('div', { class: 'table-scroll', attrs: { tabindex: 0, 'aria-label': 'Endpoints table' } });
  private readonly tbody = h('tbody');
  private readonly topSpacer = h('tr', { class: 'spacer', attrs: { 'aria-hidden': 'true' } });
  private readonly bottomSpacer = h('tr', { class: 'spacer', attrs: { 'aria-hidden': 'true' } });
  private readonly headers = new Map<string, HTMLTableCellElement>();
  private readonly rows: Row[] = [];
  private list: EndpointStats[] = [];
  private scrolled = true;

  // detail parts, created when an endpoint is opened
  private histogram: BarChart | undefined;
  private timelineP95: TimeChart | undefined;
  private timelineCount: TimeChart | undefined;
  private detailId: string | null = null;
  private detailBody = h('div');

  constructor(private readonly ctx: Ctx) {
    this.slowest = new TopList(10, 'Open the endpoint\'s detail', (id) => ctx.openEndpoint(id));
    this.busiest = new TopList(10, 'Open the endpoint\'s detail', (id) => ctx.openEndpoint(id));
    this.filter.value = ctx.store.ui.filter;
    this.filter.addEventListener('input', () => ctx.store.setUi({ filter: this.filter.value.slice(0, 200) }));

    const windows = h('div', { class: 'segmented', attrs: { role: 'group', 'aria-label': 'Live window' } });
    for (const w of WINDOWS) {
      const b = button(w === 'all' ? 'All' : w, () => ctx.store.setUi({ window: w }));
      b.dataset.window = w;
      this.windowButtons.set(w, b);
      windows.append(b);
    }

    const headRow = h('tr');
    for (const col of COLUMNS) {
      const th = h('th', { class: col.cls ?? '', attrs: { scope: 'col', title: col.title } });
      if (col.sortable) {
        const b = button(col.label, () => this.sortBy(col.key as SortKey), 'sort');
        b.dataset.sort = col.key;
        th.append(b);
        th.setAttribute('aria-sort', 'none');
      } else th.textContent = col.label;
      this.headers.set(col.key, th);
      headRow.append(th);
    }
    const t = h('table', { class: 'data endpoint-table' }, h('thead', {}, headRow), this.tbody);
    const spacerCell = () => h('td', { attrs: { colspan: COLUMNS.length } });
    this.topSpacer.append(spacerCell());
    this.bottomSpacer.append(spacerCell());
    this.tbody.append(this.topSpacer, this.bottomSpacer);
    this.tbody.addEventListener('click', (ev) => {
      const tr = (ev.target as Element).closest('tr');
      const row = this.rows.find((r) => r.tr === tr);
      if (row?.id) ctx.openEndpoint(row.id);
    });
    this.scroller.append(t);
    this.scroller.addEventListener('scroll', () => {
      this.scrolled = true;
      ctx.invalidate();
    });

    this.detail.hidden = true;
    this.el.append(
      h('div', { class: 'toolbar' }, this.filter, windows, this.summary),
      this.detail,
      h(
        'div',
        { class: 'two-col' },
        h('section', { class: 'card' }, this.slowestHeading, this.slowest.el),
        h('section', { class: 'card' }, this.busiestHeading, this.busiest.el),
      ),
      h('section', { class: 'card' }, h('h2', { text: 'All endpoints' }), this.scroller),
    );
  }

  private sortBy(key: SortKey): void {
    const cur = this.ctx.store.ui.sort;
    const dir = cur.key === key ? (cur.dir === 'asc' ? 'desc' : 'asc') : key === 'route' ? 'asc' : 'desc';
    this.ctx.store.setUi({ sort: { key, dir } });
  }

  render(): void {
    const s = this.ctx.store;
    const ui = s.ui;
    const dataChanged = this.revs.changed({ endpoints: s.rev.endpoints, ui: s.rev.ui });
    if (dataChanged) {
      if (this.filter.value !== ui.filter && document.activeElement !== this.filter) this.filter.value = ui.filter;
      for (const [w, b] of this.windowButtons) b.setAttribute('aria-pressed', String(w === ui.window));
      for (const [key, th] of this.headers) {
        if (!th.hasAttribute('aria-sort')) continue;
        th.setAttribute('aria-sort', ui.sort.key === key ? (ui.sort.dir === 'asc' ? 'ascending' : 'descending') : 'none');
      }
      this.list = this.sorted();
      setText(this.summary, `${this.list.length} of ${s.endpoints.size} endpoints${s.droppedEndpoints ? `, ${s.droppedEndpoints} folded into (overflow)` : ''}`);
      this.renderTops();
    }
    if (dataChanged || this.scrolled) this.renderRows();
    this.scrolled = false;
    this.renderDetail();
    s.changedEndpoints.clear();
  }

  private sorted(): EndpointStats[] {
    const s = this.ctx.store;
    const { key, dir } = s.ui.sort;
    const needle = s.ui.filter.trim().toLowerCase();
    const w = s.ui.window;
    const out: EndpointStats[] = [];
    for (const e of s.endpoints.values()) if (!needle || e.id.toLowerCase().includes(needle)) out.push(e);
    const sign = dir === 'asc' ? 1 : -1;
    if (key === 'route') out.sort((a, b) => sign * (a.route < b.route ? -1 : a.route > b.route ? 1 : a.method < b.method ? -1 : 1));
    else out.sort((a, b) => sign * ((a.windows?.[w] ?? a)[key] - (b.windows?.[w] ?? b)[key]) || (a.id < b.id ? -1 : 1));
    return out;
  }

  /** The two lists follow the table: the same window and the same filter. */
  private renderTops(): void {
    const { window, filter } = this.ctx.store.ui;
    const scope = `${WINDOW_LABELS[window]}${filter.trim() ? ', matching the filter' : ''}`;
    setText(this.slowestHeading, `Slowest (p95, ${scope})`);
    setText(this.busiestHeading, `Most requested (${scope})`);
    this.slowest.set(slowestRows(this.list, window, 10));
    this.busiest.set(busiestRows(this.list, window, 10));
  }

  /** Renders only the rows in view (plus a few), reusing row elements; unchanged cells are not written. */
  private renderRows(): void {
    const total = this.list.length;
    const viewport = this.scroller.clientHeight || 400;
    const first = Math.max(0, Math.floor(this.scroller.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const count = Math.min(total - first, Math.ceil(viewport / ROW_HEIGHT) + OVERSCAN * 2);
    while (this.rows.length < count) {
      const tr = h('tr');
      const cells = COLUMNS.map((c) => {
        const td = h('td', { class: c.cls ?? '' });
        if (c.key === 'route') {
          const b = h('button', { class: 'link' });
          td.append(b);
          tr.append(td);
          return b;
        }
        tr.append(td);
        return td;
      });
      this.tbody.insertBefore(tr, this.bottomSpacer);
      this.rows.push({ tr, cells, id: null });
    }
    const w = this.ctx.store.ui.window;
    const selected = this.ctx.store.ui.selectedEndpoint;
    this.rows.forEach((row, i) => {
      const e = i < count ? this.list[first + i] : undefined;
      if (!e) {
        if (!row.tr.hidden) row.tr.hidden = true;
        row.id = null;
        return;
      }
      if (row.tr.hidden) row.tr.hidden = false;
      row.id = e.id;
      const win = e.windows?.[w] ?? e;
      COLUMNS.forEach((c, j) => {
        const v = c.value(e, win, w);
        const cell = row.cells[j]!;
        if (typeof v === 'string') setText(cell, v);
        else {
          setText(cell, v.text);
          setTitle(cell, v.title);
        }
      });
      row.tr.classList.toggle('selected', e.id === selected);
      row.tr.classList.toggle('has-errors', win.errors > 0);
    });
    setHeight(this.topSpacer, first * ROW_HEIGHT);
    setHeight(this.bottomSpacer, Math.max(0, total - first - Math.max(count, 0)) * ROW_HEIGHT);
  }

  private renderDetail(): void {
    const s = this.ctx.store;
    const id = s.ui.selectedEndpoint;
    if (id === null) {
      if (!this.detail.hidden) {
        this.detail.hidden = true;
        this.destroyCharts();
        this.detailId = null;
      }
      return;
    }
    const opened = this.detailId !== id;
    if (!opened && !s.changedEndpoints.has(id) && !this.revs.changed({ slowForDetail: s.rev.slow })) return;
    this.detail.hidden = false;
    const e = s.endpoints.get(id);
    if (opened) {
      this.detailId = id;
      this.destroyCharts();
      this.histogram = new BarChart('Latency distribution (5-minute window)', (v) => formatCount(v));
      this.timelineP95 = new TimeChart('p95 over time for this endpoint', (v) => formatMs(v));
      this.timelineCount = new TimeChart('Requests in the last minute, over time', (v) => formatCount(v));
      const goto = button('Go to handler', () => this.ctx.api.postMessage({ type: 'openHandler', endpointId: id }), 'primary');
      goto.dataset.action = 'open-handler';
      const reset = button('Reset stats', () => void this.ctx.commands.send('reset', { endpoint: id }, (r) => `Reset ${r.reset} endpoint${r.reset === 1 ? '' : 's'}`));
      reset.dataset.action = 'reset-endpoint';
      const history = button('History', () => s.setUi({ tab: 'history', historyEndpoint: id }));
      history.dataset.action = 'open-history';
      const why = button('Route details', () => s.setUi({ tab: 'details' }));
      why.dataset.action = 'route-details';
      const close = button('Close', () => s.setUi({ selectedEndpoint: null }));
      close.dataset.action = 'close-detail';
      this.detailBody = h('div', { class: 'detail-body' });
      fill(
        this.detail,
        h('div', { class: 'detail-head' }, h('h2', { text: id }), goto, history, why, reset, close),
        this.detailBody,
        h(
          'div',
          { class: 'charts' },
          h('div', {}, h('h3', { text: 'Latency distribution' }), this.histogram.el),
          h('div', {}, h('h3', { text: 'p95 over time' }), this.timelineP95.el),
          h('div', {}, h('h3', { text: 'Requests (1m) over time' }), this.timelineCount.el),
        ),
      );
      requestAnimationFrame(() => this.detail.scrollIntoView?.({ block: 'nearest' }));
    }
    if (!e) {
      fill(this.detailBody, empty('This endpoint has no data (yet).'));
      return;
    }
    const win = s.summary(e);
    const w = s.ui.window;
    const pct = (p: 'p50' | 'p95' | 'p99') => percentileFigure(p, win, w);
    const hidden = [pct('p50'), pct('p95'), pct('p99')].filter((f) => !f.shown).map((f) => f.why);
    const loc = (l: typeof e.location) => (l ? `${l.file}:${l.line}:${l.column}` : 'unknown');
    const codes = Object.entries(e.statusCodes).map(([k, v]) => h('span', { class: `code c${k[0]}`, text: `${k}: ${formatCount(v)}` }));
    const slow = s.slow.filter((r) => `${r.method} ${r.route}` === id).slice(0, 10);
    fill(
      this.detailBody,
      kv([
        ['Kind', e.kind],
        ['Registered at', loc(e.location)],
        ['Handler', loc(e.handlerLocation ?? e.location)],
        [`Requests (${WINDOW_LABELS[w]})`, `${formatCount(win.count)} · errors ${formatCount(win.errors)} (${formatPercent(win.count ? win.errors / win.count : 0)}) · aborted ${formatCount(win.aborted)}`],
        [`4xx (${WINDOW_LABELS.all})`, `${formatCount(e.statusCodes['4xx'] ?? 0)} (${clientErrorShare(e).text})`],
        [`Latency (${WINDOW_LABELS[w]})`, `avg ${formatMs(win.avg)} · p50 ${pct('p50').text} · p95 ${pct('p95').text} · p99 ${pct('p99').text} · max ${formatMs(win.max)} · n = ${formatCount(win.count)}`],
        ...(hidden.length ? [['Why a dash', `${hidden.join('; ')}.`] as [string, string]] : []),
        [`Rate (${WINDOW_LABELS['1m']})`, `${formatCount(e.rate)} req/s`],
        ['Last request', fmtTime(e.lastSeen)],
      ]),
      h('h3', { text: 'Status codes' }),
      codes.length ? h('div', { class: 'codes' }, ...codes) : empty('No responses yet.'),
      h('h3', { text: 'Recent slow requests' }),
      slow.length
        ? table(
            ['Time', 'Path', 'Status', 'Duration'],
            slow.map((r) => [fmtTime(r.time), r.path, String(r.status), formatMs(r.duration)]),
          )
        : empty('No slow requests for this route.'),
    );
    const hist = e.histogram;
    if (hist && hist.bounds.length) {
      this.histogram!.set(
        hist.bounds.map((b, i) => (Number.isFinite(b) ? `≤ ${formatMs(b)}` : `> ${formatMs(hist.bounds[i - 1] ?? 0)}`)),
        'requests',
        hist.counts,
      );
    } else this.histogram!.set([], 'requests', []);
    const points = s.endpointSeries.get(id)?.toArray() ?? [];
    const now = points.length ? points[points.length - 1]!.t : 0;
    this.timelineP95!.set([{ label: 'p95 (1m)', points: relative(points, now, (p) => p.p95) }]);
    this.timelineCount!.set([{ label: 'requests (1m)', points: relative(points, now, (p) => p.count) }]);
  }

  private destroyCharts(): void {
    this.histogram?.destroy();
    this.timelineP95?.destroy();
    this.timelineCount?.destroy();
    this.histogram = this.timelineP95 = this.timelineCount = undefined;
  }
}

/** Sizes a spacer row (CSSOM, allowed by the CSP) only when its height changes. */
function setHeight(row: HTMLTableRowElement, px: number): void {
  if (row.dataset.h === String(px)) return;
  row.dataset.h = String(px);
  row.style.height = `${px}px`;
  row.hidden = px === 0;
}
