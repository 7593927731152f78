import { empty, fill, fmtTime, h, table } from '../dom';
import { formatMs } from '../../protocol/format';
import type { Ctx, View } from './view';
import { Revs } from './view';

const SHOWN = 200;

/** Slow requests, newest first, coloured by severity. */
export class SlowView implements View {
  readonly el = h('div', { class: 'view slow' });
  private readonly revs = new Revs();

  constructor(private readonly ctx: Ctx) {}

  render(): void {
    const s = this.ctx.store;
    if (!this.revs.changed({ slow: s.rev.slow })) return;
    if (!s.slow.length) return fill(this.el, empty('No slow requests yet.'));
    const t = table(
      ['Time', 'Severity', 'Method', 'Route', 'Path', 'Status', 'Duration'],
      s.slow.slice(0, SHOWN).map((r) => [fmtTime(r.time), h('span', { class: `sev sev-${r.severity}`, text: r.severity }), r.method, r.route, r.path, String(r.status), formatMs(r.duration)]),
    );
    t.classList.add('slow-table');
    [...t.tBodies[0]!.rows].forEach((row, i) => row.classList.add(`sev-row-${s.slow[i]!.severity}`));
    fill(this.el, h('p', { class: 'muted', text: `${s.slow.length} kept, newest first${s.slow.length > SHOWN ? `, ${SHOWN} shown` : ''}.` }), t);
  }
}
