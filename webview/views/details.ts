/**
 * Route Details: why one route is slow. Its findings; where its time goes
 * (`endpoint.breakdown`: share and mean per kind, the top operations); its
 * kept traces (`traces.list`), each a waterfall; and the latest route profile's
 * top self-time functions. Every span, operation, finding and function with a
 * location links to its source line (`openLocation`; the host opens only
 * locations the agent reported).
 */
import type { Breakdown, ProfileSummary, Trace } from '../../protocol/spans';
import type { SourceLocation } from '../../protocol/types';
import { WINDOW_LABELS, formatCount, formatMs, formatPercent } from '../../protocol/format';
import type { ErrorInfo } from '../../protocol/commands';
import { FINDING_LABELS, shortLocation } from '../../protocol/webview';
import { button, empty, fill, fmtTime, h, section, setText, table } from '../dom';
import { waterfall } from '../waterfall';
import type { Ctx, View } from './view';
import { Revs } from './view';

/** Traces asked for per load. */
export const TRACES_SHOWN = 20;

type Loaded<T> = { state: 'loading' } | { state: 'ok'; value: T } | { state: 'error'; error: ErrorInfo };

export class DetailsView implements View {
  readonly el = h('div', { class: 'view details' });
  private readonly revs = new Revs();
  private readonly title = h('h2');
  private readonly findingsEl = h('div');
  private readonly breakdownEl = h('div');
  private readonly tracesEl = h('div');
  private readonly profileEl = h('div');
  private readonly profiles = new Map<string, ProfileSummary>();
  private loadedFor: string | null = null;
  private shownFor: string | null = null;
  private generation = 0;
  private breakdown: Loaded<Breakdown> = { state: 'loading' };
  private traces: Loaded<Trace[]> = { state: 'loading' };
  private readonly body: HTMLElement;
  private readonly none = empty('Pick a route: a lens\'s "Details", "RouteLens: Show Route Details", or an endpoint\'s detail.');

  constructor(private readonly ctx: Ctx) {
    const goto = button('Go to handler', () => {
      const id = ctx.store.ui.selectedEndpoint;
      if (id) ctx.api.postMessage({ type: 'openHandler', endpointId: id });
    });
    goto.dataset.action = 'open-handler';
    const refresh = button('Refresh', () => this.load(true));
    refresh.dataset.action = 'refresh-details';
    this.body = h(
      'div',
      {},
      h('div', { class: 'detail-head' }, this.title, goto, refresh),
      section('Findings', this.findingsEl),
      section('Where the time goes', this.breakdownEl),
      section('Slowest requests, step by step', this.tracesEl),
      section('Route profile', this.profileEl),
    );
    this.el.append(this.none, this.body);
  }

  /** A route profile finished (posted by the host). */
  setProfile(summary: ProfileSummary): void {
    this.profiles.set(summary.endpoint, summary);
    this.renderProfile();
  }

  /** Loads breakdown and traces again (on showDetails, or the Refresh button). */
  load(force = false): void {
    const id = this.ctx.store.ui.selectedEndpoint;
    if (!id || (!force && id === this.loadedFor)) return;
    this.loadedFor = id;
    const mine = ++this.generation;
    this.breakdown = this.traces = { state: 'loading' };
    this.renderData();
    void this.ctx.commands.send('endpoint.breakdown', { endpoint: id, window: '5m' }, () => '').then((r) => {
      if (mine !== this.generation) return;
      this.breakdown = r.ok ? { state: 'ok', value: r.result } : { state: 'error', error: r.error };
      this.renderData();
    });
    void this.ctx.commands.send('traces.list', { endpoint: id, limit: TRACES_SHOWN }, (t) => `${t.traces.length} trace${t.traces.length === 1 ? '' : 's'} of ${id}`).then((r) => {
      if (mine !== this.generation) return;
      this.traces = r.ok ? { state: 'ok', value: r.result.traces } : { state: 'error', error: r.error };
      this.renderData();
    });
  }

  render(): void {
    const s = this.ctx.store;
    const id = s.ui.selectedEndpoint;
    this.none.hidden = id !== null;
    this.body.hidden = id === null;
    if (id === null) return;
    const switched = id !== this.shownFor;
    if (switched) {
      this.shownFor = id;
      setText(this.title, `Route details: ${id}`);
      this.renderProfile();
    }
    this.load();
    if (this.revs.changed({ findings: s.rev.findings }) || switched) this.renderFindings();
  }

  private open = (loc: SourceLocation) => this.ctx.api.postMessage({ type: 'openLocation', location: { file: loc.file, line: loc.line, column: loc.column } });

  private link(loc: SourceLocation | undefined): HTMLElement | string {
    if (!loc) return '';
    const b = button(shortLocation(loc), () => this.open(loc), 'link');
    b.title = `${loc.file}:${loc.line}:${loc.column}`;
    b.dataset.action = 'open-location';
    return b;
  }

  private renderFindings(): void {
    const id = this.ctx.store.ui.selectedEndpoint;
    const mine = this.ctx.store.findings.filter((f) => f.endpoint === id);
    fill(
      this.findingsEl,
      mine.length
        ? h(
            'ul',
            { class: 'findings' },
            ...mine.map((f) =>
              h(
                'li',
                { class: `finding sev-row-${f.severity}` },
                h('span', { class: `sev sev-${f.severity}`, text: FINDING_LABELS[f.kind] ?? f.kind }),
                ' ',
                h('span', { class: 'finding-message', text: f.message }),
                ' ',
                this.link(f.location),
                h('div', { class: 'muted', text: `Try: ${f.recommendation}` }),
                h('div', { class: 'muted', text: `Seen in ${formatCount(f.occurrences)} request${f.occurrences === 1 ? '' : 's'}, last at ${fmtTime(f.lastSeen)}${f.requestIds.length ? ` · requests ${f.requestIds.join(', ')}` : ''}` }),
              ),
            ),
          )
        : empty('No findings for this route.'),
    );
  }

  private renderData(): void {
    this.renderBreakdown();
    this.renderTraces();
  }

  private renderBreakdown(): void {
    const b = this.breakdown;
    if (b.state !== 'ok') {
      fill(this.breakdownEl, b.state === 'loading' ? empty('Loading…') : empty(`No breakdown: ${b.error.message}`));
      return;
    }
    const v = b.value;
    const meta = `${WINDOW_LABELS[v.window] ?? v.window}: ${formatCount(v.traced)} traced of ${formatCount(v.requests)} requests`;
    const sampled = v.sampled ? h('p', { class: 'sampled', text: 'Sampled: spans are recorded for a sample of this route\'s requests (counts and timings cover every request).' }) : null;
    const shareCell = (share: number) => {
      const bar = h('span', { class: 'share-bar' });
      bar.style.width = `${Math.min(100, Math.max(0, share * 100))}%`;
      return h('span', { class: 'share' }, h('span', { class: 'share-track' }, bar), h('span', { class: 'share-text', text: formatPercent(share) }));
    };
    const kinds = table(
      ['Kind', 'Share', 'Mean per request'],
      [...v.kinds].sort((a, b2) => b2.share - a.share).map((k) => [h('span', { class: `wf-kind kind-${k.kind}`, text: k.kind === 'own' ? 'handler (own code)' : k.kind }), shareCell(k.share), formatMs(k.meanMs)]),
    );
    kinds.classList.add('breakdown-kinds');
    const ops = table(
      ['Kind', 'Operation', 'Per request', 'Mean', 'Share', 'Where'],
      v.top.map((o) => [h('span', { class: `wf-kind kind-${o.kind}`, text: o.kind }), h('code', { text: o.name }), `${Math.round(o.perRequest * 10) / 10}×`, formatMs(o.meanMs), shareCell(o.share), this.link(o.location)]),
    );
    ops.classList.add('breakdown-ops');
    fill(this.breakdownEl, h('p', { class: 'muted', text: meta }), sampled, v.kinds.length ? kinds : empty('No traced requests in this window.'), h('h3', { text: 'Top operations' }), v.top.length ? ops : empty('No operations recorded.'));
  }

  private renderTraces(): void {
    const t = this.traces;
    if (t.state !== 'ok') {
      fill(this.tracesEl, t.state === 'loading' ? empty('Loading…') : empty(`No traces: ${t.error.message}`));
      return;
    }
    if (!t.value.length) {
      fill(this.tracesEl, empty('No traces kept for this route yet.'));
      return;
    }
    const linkText = (loc: SourceLocation) => `${loc.file}:${loc.line}`;
    fill(
      this.tracesEl,
      ...t.value.map((trace, i) => {
        const d = h(
          'details',
          { class: 'trace', attrs: { 'data-trace': trace.id } },
          h(
            'summary',
            {},
            h('span', { class: `kept kept-${trace.kept}`, text: trace.kept }),
            ` ${formatMs(trace.durationMs)} · ${trace.status} · ${fmtTime(trace.startedAt)} · `,
            h('span', { class: 'request-id', text: `request ${trace.requestId}` }),
          ),
          waterfall(trace, this.open, linkText),
        );
        d.open = i === 0;
        return d;
      }),
    );
  }

  private renderProfile(): void {
    const id = this.ctx.store.ui.selectedEndpoint;
    const p = id ? this.profiles.get(id) : undefined;
    if (!p) {
      fill(this.profileEl, empty('No profile of this route yet: run "Profile…" on its lens or "RouteLens: Profile Route…".'));
      return;
    }
    const t = table(
      ['Function', 'Self', 'Share', 'Where'],
      p.top.map((f) => [h('code', { text: f.functionName || '(anonymous)' }), formatMs(f.selfMs), formatPercent(f.share), this.link(f.location)]),
    );
    t.classList.add('profile-top');
    fill(
      this.profileEl,
      h('p', { class: 'muted', text: `${p.seconds} s · ${formatCount(p.kept)} of ${formatCount(p.samples)} samples passed through this route · ${formatCount(p.requests)} requests · ${p.file}` }),
      p.top.length ? t : empty('No samples passed through this route: exercise it while profiling.'),
    );
  }
}
