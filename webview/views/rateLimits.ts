import type { RateLimitStats } from '../../protocol/types';
import { button, empty, fill, fmtMs, fmtNum, fmtPct, h, section, table, tile } from '../dom';
import type { Ctx, View } from './view';
import { Revs } from './view';

/** Per-limiter figures, per-route counts, top limited keys, reset-key and max editor. */
export class RateLimitsView implements View {
  readonly el = h('div', { class: 'view rate-limits' });
  private readonly revs = new Revs();
  private readonly list = h('div');
  /** Editors keep their typed values across data updates: one form per limiter, reused. */
  private readonly editors = new Map<string, { form: HTMLElement; max: HTMLInputElement; key: HTMLInputElement }>();

  constructor(private readonly ctx: Ctx) {
    this.el.append(this.list);
  }

  render(): void {
    const s = this.ctx.store;
    if (!this.revs.changed({ rateLimits: s.rev.rateLimits })) return;
    if (!s.rateLimits.length) return fill(this.list, empty('No rate limiters in this app.'));
    fill(this.list, ...s.rateLimits.map((l) => this.card(l)));
    for (const name of [...this.editors.keys()]) if (!s.rateLimits.some((l) => l.name === name)) this.editors.delete(name);
  }

  private card(l: RateLimitStats): HTMLElement {
    const windowTotal = l.window.allowed + l.window.limited;
    const total = l.allowed + l.limited;
    return section(
      `Limiter ${l.name}`,
      h(
        'div',
        { class: 'tiles' },
        tile('Algorithm', `${l.algorithm}, ${fmtNum(l.max)} per ${fmtMs(l.windowMs)}`),
        tile('Store', `${l.store} (on error: ${l.onStoreError})`),
        tile('Window allowed / limited', `${fmtNum(l.window.allowed)} / ${fmtNum(l.window.limited)} (${fmtPct(windowTotal ? l.window.limited / windowTotal : 0)})`),
        tile('Total allowed / limited', `${fmtNum(l.allowed)} / ${fmtNum(l.limited)} (${fmtPct(total ? l.limited / total : 0)})`),
        tile('Store errors', fmtNum(l.storeErrors)),
      ),
      h('div', { class: 'two-col' }, h('div', {}, h('h3', { text: 'Per route' }), l.routes.length ? table(['Route', 'Allowed', 'Limited'], l.routes.map((r) => [r.route, fmtNum(r.allowed), fmtNum(r.limited)])) : empty('No traffic yet.')), h('div', {}, h('h3', { text: 'Top limited keys' }), l.topKeys.length ? table(['Key', 'Limited', ''], l.topKeys.map((k) => [k.key, fmtNum(k.limited), button('Reset', () => this.resetKey(l.name, k.key))])) : empty('No key was limited.'))),
      this.editor(l),
    );
  }

  private editor(l: RateLimitStats): HTMLElement {
    let ed = this.editors.get(l.name);
    if (!ed) {
      const max = h('input', { attrs: { type: 'number', min: 0, max: 1e9, step: 1, 'aria-label': `New max for ${l.name}` } });
      max.value = String(l.max);
      const key = h('input', { attrs: { type: 'text', placeholder: 'Client key', 'aria-label': `Key to reset in ${l.name}` } });
      const setForm = h('form', { class: 'row' }, h('label', { text: 'Max per window' }, max), h('button', { text: 'Set max', attrs: { type: 'submit' } }));
      setForm.addEventListener('submit', (ev) => {
        ev.preventDefault();
        const n = Number(max.value);
        if (!max.value.trim() || !Number.isInteger(n) || n < 0 || n > 1e9) return this.ctx.commands.status.error('Max must be a whole number between 0 and 1000000000.');
        void this.ctx.commands.send('rateLimit.setMax', { limiter: l.name, max: n }, (r) => `${r.name}: max is now ${r.max}`);
      });
      const resetForm = h('form', { class: 'row' }, key, h('button', { text: 'Reset key', attrs: { type: 'submit' } }));
      resetForm.addEventListener('submit', (ev) => {
        ev.preventDefault();
        if (!key.value.trim()) return this.ctx.commands.status.error('Enter a key to reset.');
        this.resetKey(l.name, key.value.trim());
      });
      ed = { form: h('div', { class: 'editors' }, setForm, resetForm), max, key };
      this.editors.set(l.name, ed);
    }
    return ed.form;
  }

  private resetKey(limiter: string, key: string): void {
    void this.ctx.commands.send('rateLimit.resetKey', { limiter, key }, (r) => (r.reset ? `Reset ${key} in ${limiter}` : `${key} had no count in ${limiter}`));
  }
}
