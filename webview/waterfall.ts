/**
 * A trace as a waterfall: one row per span in tree order (a span under the
 * one it nests in), each bar placed by its start and sized by its duration,
 * as percentages of the request. The layout is pure (unit-tested); `waterfall`
 * builds the DOM with CSSOM sizes (allowed by the CSP, unlike inline styles).
 */
import type { Span, Trace } from '../protocol/spans';
import type { SourceLocation } from '../protocol/types';
import { formatMs } from '../protocol/format';
import { h } from './dom';

export interface WaterfallRow {
  /** Index in `trace.spans`. */
  index: number;
  span: Span;
  depth: number;
  /** Where the bar starts and how wide it is, 0..100 (% of the request). */
  leftPct: number;
  widthPct: number;
}

/** Deepest nesting drawn; a deeper (or cyclic) parent chain is cut here. */
export const MAX_DEPTH = 16;

const clampPct = (v: number) => Math.min(100, Math.max(0, Number.isFinite(v) ? v : 0));

/** Rows in tree order: top-level spans by start, each followed by the spans nested in it. */
export function waterfallRows(trace: Pick<Trace, 'durationMs' | 'spans'>): WaterfallRow[] {
  const spans = trace.spans;
  const end = spans.reduce((m, s) => Math.max(m, s.startMs + s.durationMs), 0);
  const total = Math.max(trace.durationMs, end, 1e-9);
  const children = new Map<number, number[]>();
  const roots: number[] = [];
  spans.forEach((s, i) => {
    const p = s.parent;
    // A parent must be an earlier span (start order): anything else is drawn at the top level.
    if (typeof p === 'number' && p >= 0 && p < i) {
      const list = children.get(p);
      if (list) list.push(i);
      else children.set(p, [i]);
    } else roots.push(i);
  });
  const byStart = (a: number, b: number) => spans[a]!.startMs - spans[b]!.startMs || a - b;
  const rows: WaterfallRow[] = [];
  const visit = (i: number, depth: number) => {
    const s = spans[i]!;
    rows.push({ index: i, span: s, depth: Math.min(depth, MAX_DEPTH), leftPct: clampPct((s.startMs / total) * 100), widthPct: clampPct((s.durationMs / total) * 100) });
    for (const c of (children.get(i) ?? []).sort(byStart)) visit(c, depth + 1);
  };
  for (const r of roots.sort(byStart)) visit(r, 0);
  return rows;
}

/** The DOM of one trace's waterfall. `open` is called with a span's location when its row is clicked. */
export function waterfall(trace: Trace, open: (loc: SourceLocation) => void, link: (loc: SourceLocation) => string): HTMLElement {
  const el = h('div', { class: 'waterfall', attrs: { role: 'list', 'aria-label': `Spans of request ${trace.requestId}` } });
  const request = h('div', { class: 'wf-row wf-request', attrs: { role: 'listitem' } }, h('span', { class: 'wf-name', text: `${trace.method} ${trace.route} · ${trace.status}` }), track(0, 100, 'request'), h('span', { class: 'wf-ms', text: formatMs(trace.durationMs) }));
  el.append(request);
  for (const row of waterfallRows(trace)) {
    const s = row.span;
    const name = h('span', { class: 'wf-name', text: s.name, title: s.location ? `${s.kind}: ${s.name}\n${link(s.location)}` : `${s.kind}: ${s.name}` });
    name.style.paddingLeft = `${row.depth * 14}px`;
    const cells = [h('span', { class: `wf-kind kind-${s.kind}`, text: s.kind }), name, track(row.leftPct, row.widthPct, s.kind, s.error), h('span', { class: 'wf-ms', text: formatMs(s.durationMs) })];
    const attrs = { role: 'listitem', 'data-kind': s.kind, 'data-depth': row.depth, 'data-index': row.index };
    if (s.location) {
      const loc = s.location;
      const b = h('button', { class: `wf-row wf-span${s.error ? ' wf-error' : ''}`, attrs: { ...attrs, 'aria-label': `${s.kind} ${s.name}, ${formatMs(s.durationMs)}, open ${link(loc)}` }, onClick: () => open(loc) }, ...cells);
      el.append(b);
    } else el.append(h('div', { class: `wf-row wf-span${s.error ? ' wf-error' : ''}`, attrs }, ...cells));
  }
  if (trace.droppedSpans > 0) el.append(h('p', { class: 'muted', text: `${trace.droppedSpans} more span${trace.droppedSpans === 1 ? '' : 's'} not kept (per-request cap).` }));
  return el;
}

function track(leftPct: number, widthPct: number, kind: string, error = false): HTMLElement {
  const bar = h('span', { class: `wf-bar kind-${kind}${error ? ' wf-error' : ''}` });
  bar.style.left = `${leftPct}%`;
  bar.style.width = `${widthPct}%`;
  return h('span', { class: 'wf-track' }, bar);
}
