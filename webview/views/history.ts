import type { HistoryAnswer } from '../../protocol/history';
import { formatCount, formatMs, formatRate } from '../../protocol/format';
import { HistoryChart } from '../charts';
import { button, clean, empty, fill, h, kv, setText, table } from '../dom';
import { HISTORY_RANGES, type HistoryRange, RANGE_SPECS, dateTime, historyArgs, historySeries, markerLabel, readHistory, tickStep, timeLabel } from '../historyData';
import type { Ctx, View } from './view';
import { Revs } from './view';

/** Asked again when shown and the last answer is older than this. */
const REFRESH_MS = 60_000;

/**
 * One route's figures over hours and days, from the agent's history (kept
 * across restarts): p50/p95/p99, request rate and errors, with a marker where
 * the measured commit changed. Asks the agent (`history.get`) when the route,
 * the range or the agent changes, and again after a minute.
 */
export class HistoryView implements View {
  readonly el = h('div', { class: 'view history' });
  private readonly revs = new Revs();
  private readonly picker = h('select', { attrs: { 'aria-label': 'Route' } });
  private readonly rangeButtons = new Map<HistoryRange, HTMLButtonElement>();
  private readonly heading = h('h2');
  private readonly note = h('p', { class: 'muted history-note', attrs: { role: 'status' } });
  private readonly summary = h('div');
  private readonly chartsBox = h('div', { class: 'charts' });
  private readonly commits = h('section', { class: 'card', attrs: { 'aria-label': 'Commits in this range' } });
  private charts: { latency: HistoryChart; rate: HistoryChart; errors: HistoryChart } | undefined;
  /** Endpoint ids in the picker's order (option values are indexes, so no id is ever parsed back from the DOM). */
  private ids: string[] = [];
  private askedKey = '';
  private askedAt = 0;
  private seq = 0;
  private answer: HistoryAnswer | null = null;
  private shownAnswer: HistoryAnswer | null | undefined;

  constructor(private readonly ctx: Ctx) {
    this.picker.addEventListener('change', () => {
      const id = this.ids[Number(this.picker.value)];
      if (id !== undefined) ctx.store.setUi({ historyEndpoint: id });
    });
    const ranges = h('div', { class: 'segmented', attrs: { role: 'group', 'aria-label': 'Range' } });
    for (const r of HISTORY_RANGES) {
      const b = button(RANGE_SPECS[r].label, () => ctx.store.setUi({ historyRange: r }));
      b.dataset.range = r;
      this.rangeButtons.set(r, b);
      ranges.append(b);
    }
    const refresh = button('Refresh', () => this.ask(true));
    refresh.dataset.action = 'refresh-history';
    this.el.append(
      h('div', { class: 'toolbar' }, this.picker, ranges, refresh),
      h('section', { class: 'card' }, this.heading, this.note, this.summary, this.chartsBox),
      this.commits,
    );
  }

  /** The route shown: the one picked here or opened last, else the selected one, else the busiest. */
  private endpoint(): string | null {
    const s = this.ctx.store;
    const want = s.ui.historyEndpoint ?? s.ui.selectedEndpoint;
    if (want !== null) return want;
    let best: string | null = null;
    let most = -1;
    for (const e of s.endpoints.values()) {
      if (e.count > most) {
        most = e.count;
        best = e.id;
      }
    }
    return best;
  }

  render(): void {
    const s = this.ctx.store;
    if (this.revs.changed({ endpoints: s.rev.endpoints, ui: s.rev.ui, agents: s.rev.agents })) {
      for (const [r, b] of this.rangeButtons) b.setAttribute('aria-pressed', String(r === s.ui.historyRange));
      this.renderPicker();
    }
    this.ask(false);
    if (this.shownAnswer !== this.answer) this.renderAnswer();
  }

  private renderPicker(): void {
    const current = this.endpoint();
    const ids = [...this.ctx.store.endpoints.keys()].sort();
    if (current !== null && !ids.includes(current)) ids.unshift(current); // history outlives a route gone from the live figures
    if (ids.join('\n') !== this.ids.join('\n')) {
      this.ids = ids;
      this.picker.replaceChildren(...ids.map((id, i) => h('option', { text: id, attrs: { value: i } })));
    }
    const i = current === null ? -1 : ids.indexOf(current);
    if (i >= 0 && this.picker.selectedIndex !== i) this.picker.selectedIndex = i;
  }

  /** Asks the agent when the route, range or agent changed (or on `force`, or after REFRESH_MS). */
  private ask(force: boolean): void {
    const s = this.ctx.store;
    const endpoint = this.endpoint();
    if (endpoint === null) {
      setText(this.heading, 'History');
      setText(this.note, 'No route to show yet.');
      return;
    }
    const key = `${s.agentId ?? ''}\n${endpoint}\n${s.ui.historyRange}`;
    if (!force && key === this.askedKey && Date.now() - this.askedAt < REFRESH_MS) return;
    this.askedKey = key;
    this.askedAt = Date.now();
    const seq = ++this.seq;
    const range = s.ui.historyRange;
    setText(this.heading, `${endpoint}: the last ${RANGE_SPECS[range].label}`);
    if (this.answer && this.answer.endpoint !== endpoint) {
      // Another route's figures must not stand under this heading while its answer is on the way.
      this.answer = null;
      this.shownAnswer = undefined;
      this.clearFigures();
    }
    if (!this.answer) setText(this.note, 'Asking the agent…');
    void this.ctx.commands.send('history.get', historyArgs(endpoint, range, Date.now()), (r) => `History: ${formatCount(r.points.length)} points`).then((r) => {
      if (seq !== this.seq) return; // a later question is on its way
      if (!r.ok) {
        this.answer = null;
        this.shownAnswer = undefined;
        setText(this.note, r.error.code === 'ERR_UNAVAILABLE' ? `This agent keeps no history: ${r.error.message}` : `History failed: ${r.error.message} (${r.error.code})`);
        this.clearFigures();
        return;
      }
      const answer = readHistory(r.result);
      this.answer = answer ?? { endpoint, resolution: RANGE_SPECS[range].resolution, from: 0, to: 0, points: [], commits: [] };
      if (!this.answer.endpoint) this.answer.endpoint = endpoint;
      this.ctx.invalidate();
    });
  }

  private clearFigures(): void {
    fill(this.summary);
    fill(this.commits);
    this.destroyCharts();
    fill(this.chartsBox);
  }

  private renderAnswer(): void {
    this.shownAnswer = this.answer;
    const a = this.answer;
    if (!a) return;
    if (!a.points.length) {
      setText(this.note, `No requests recorded for this route in the last ${RANGE_SPECS[this.ctx.store.ui.historyRange].label}.`);
      this.clearFigures();
      return;
    }
    setText(this.note, `Per ${a.resolution}, from ${dateTime(a.from)} to ${dateTime(a.to)}; gaps are times nothing was recorded (the app was stopped or idle).`);
    let requests = 0;
    let errors = 0;
    let worst: { p95: number; t: number } | undefined;
    for (const p of a.points) {
      requests += p.count;
      errors += p.errors;
      if (p.p95 !== undefined && (!worst || p.p95 > worst.p95)) worst = { p95: p.p95, t: p.t };
    }
    fill(
      this.summary,
      kv([
        ['Requests', `${formatCount(requests)} · errors ${formatCount(errors)}`],
        ['Worst p95', worst ? `${formatMs(worst.p95)} (${dateTime(worst.t)})` : '\u2014'],
        ['Commits', a.commits.length ? a.commits.map((m) => markerLabel(m)).join(', ') : 'none marked in this range'],
      ]),
    );
    const charts = this.ensureCharts();
    const series = historySeries(a);
    const markers = a.commits.map((m) => ({ t: m.t, label: clean(markerLabel(m), 80) }));
    charts.latency.set(a.from, a.to, [
      { label: 'p50', points: series.p50 },
      { label: 'p95', points: series.p95 },
      { label: 'p99', points: series.p99 },
    ], markers);
    charts.rate.set(a.from, a.to, [{ label: 'requests/s', points: series.rate }], markers);
    charts.errors.set(a.from, a.to, [{ label: 'errors', points: series.errors }], markers);
    fill(
      this.commits,
      h('h2', { text: 'Commits in this range' }),
      a.commits.length
        ? table(['Since', 'Commit', 'Branch', 'Working tree'], a.commits.map((m) => [dateTime(m.t), m.commit.slice(0, 12), m.branch, m.dirty ? 'dirty (uncommitted changes)' : 'clean']))
        : empty('The measured commit did not change in this range.'),
    );
  }

  private ensureCharts(): NonNullable<HistoryView['charts']> {
    if (this.charts) return this.charts;
    const chart = (label: string, fmt: (v: number) => string) => new HistoryChart(label, fmt, timeLabel, dateTime, tickStep);
    this.charts = {
      latency: chart('p50, p95 and p99 over time, with commit markers', (v) => formatMs(v)),
      rate: chart('Requests per second over time, with commit markers', (v) => formatRate(v)),
      errors: chart('Errors over time, with commit markers', (v) => formatCount(v)),
    };
    fill(
      this.chartsBox,
      h('div', { class: 'history-latency' }, h('h3', { text: 'Latency (p50, p95, p99)' }), this.charts.latency.el),
      h('div', { class: 'history-rate' }, h('h3', { text: 'Requests per second' }), this.charts.rate.el),
      h('div', { class: 'history-errors' }, h('h3', { text: 'Errors' }), this.charts.errors.el),
    );
    return this.charts;
  }

  private destroyCharts(): void {
    if (!this.charts) return;
    for (const c of Object.values(this.charts)) c.destroy();
    this.charts = undefined;
  }
}
