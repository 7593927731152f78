import type { EndpointStats, WindowName } from '../../protocol/types';
import { formatCount, formatMs, inWindow, percentileFigure } from '../../protocol/format';
import { h, setText, setTitle } from '../dom';

/** One line of a top list: the endpoint, its figures, and why a figure is a dash. */
export interface TopRow {
  id: string;
  value: string;
  title: string;
  /** False when the item cannot be acted on (e.g. no source location to open). */
  enabled?: boolean;
}

/** A numbered list of endpoints whose items are reused (text updated in place). */
export class TopList {
  readonly el = h('ol', { class: 'top-list' });
  private items: Array<{ li: HTMLLIElement; btn: HTMLButtonElement; value: HTMLElement; id: string | null }> = [];

  /** `action` is the buttons' tooltip: what a click does. */
  constructor(size: number, action: string, private readonly open: (id: string) => void) {
    for (let i = 0; i < size; i++) {
      const item = { li: h('li'), btn: h('button', { class: 'link', title: action }), value: h('span', { class: 'value' }), id: null as string | null };
      item.btn.addEventListener('click', () => item.id !== null && this.open(item.id));
      item.li.append(item.btn, item.value);
      this.items.push(item);
      this.el.append(item.li);
    }
  }

  set(rows: readonly TopRow[]): void {
    this.items.forEach((item, i) => {
      const row = rows[i];
      item.li.hidden = !row;
      item.id = row?.id ?? null;
      if (row) {
        setText(item.btn, row.id);
        setText(item.value, row.value);
        setTitle(item.value, row.title);
        item.btn.disabled = row.enabled === false;
      }
    });
  }
}

/**
 * The slowest endpoints of a window: those whose p95 is shown (enough requests,
 * `percentileFigure`) by p95, then the others by their slowest request (`max`),
 * written as such. Endpoints without a request in the window are left out.
 */
export function slowestRows(endpoints: Iterable<EndpointStats>, window: WindowName, n: number): TopRow[] {
  const ranked: Array<{ e: EndpointStats; shown: boolean; key: number }> = [];
  for (const e of endpoints) {
    const w = e.windows?.[window] ?? e;
    if (w.count === 0) continue;
    const shown = percentileFigure('p95', w, window).shown;
    ranked.push({ e, shown, key: shown ? w.p95 : w.max });
  }
  ranked.sort((a, b) => Number(b.shown) - Number(a.shown) || b.key - a.key || (a.e.id < b.e.id ? -1 : 1));
  return ranked.slice(0, n).map(({ e, shown }) => {
    const w = e.windows?.[window] ?? e;
    const p95 = percentileFigure('p95', w, window);
    const req = `${formatCount(w.count)} req`;
    return shown
      ? { id: e.id, value: `p95 ${p95.text} · ${req}`, title: `p95 and requests ${inWindow(window)}` }
      : { id: e.id, value: `max ${formatMs(w.max)} · ${req}`, title: `${p95.why}: its slowest request is shown instead` };
  });
}

/** The most requested endpoints of a window, by count, with their p95 (or a dash and why). */
export function busiestRows(endpoints: Iterable<EndpointStats>, window: WindowName, n: number): TopRow[] {
  const live: EndpointStats[] = [];
  for (const e of endpoints) if ((e.windows?.[window] ?? e).count > 0) live.push(e);
  live.sort((a, b) => (b.windows?.[window] ?? b).count - (a.windows?.[window] ?? a).count || (a.id < b.id ? -1 : 1));
  return live.slice(0, n).map((e) => {
    const w = e.windows?.[window] ?? e;
    const p95 = percentileFigure('p95', w, window);
    return { id: e.id, value: `${formatCount(w.count)} req · p95 ${p95.text}`, title: p95.shown ? `requests and p95 ${inWindow(window)}` : p95.why };
  });
}
