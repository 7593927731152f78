import type { RateLimitStats } from '../../protocol/types';
import { button, empty, fill, h, onSubmit, section, table, tile } from '../dom';
import { formatCount, formatMs, formatPercent } from '../../protocol/format';
import type { Ctx, View } from './view';
import { Revs } from './view';

/** A limiter's window, e.g. `1 min`, `15 s`, `250 ms`. */
function fmtWindow(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms >= 1000 && ms % 1000 === 0) return `${ms / 1000} s`;
  return formatMs(ms);
}

interface Card {
  el: HTMLElement;
  figures: HTMLElement;
}

/**
 * Per-limiter figures, per-route counts, top limited keys, reset-key and max editor. Each
 * limiter's card is built once: updates refill its figures only, so the editors keep focus and
 * what the user typed while data streams in.
 */
export class RateLimitsView implements View {
  readonly el = h('div', { class: 'view rate-limits' });
  private readonly revs = new Revs();
  private readonly cards = new Map<string, Card>();
  private readonly none = empty('No rate limiters in this app.');

  constructor(private readonly ctx: Ctx) {
    this.el.append(this.none);
  }

  render(): void {
    const s = this.ctx.store;
    if (!this.revs.changed({ rateLimits: s.rev.rateLimits })) return;
    this.none.hidden = s.rateLimits.length > 0;
    const order: HTMLElement[] = [this.none];
    for (const l of s.rateLimits) {
      let card = this.cards.get(l.name);
      if (!card) {
        card = this.card(l);
        this.cards.set(l.name, card);
      }
      this.fillFigures(card, l);
      order.push(card.el);
    }
    for (const [name, card] of this.cards) {
      if (!s.rateLimits.some((l) => l.name === name)) {
        card.el.remove();
        this.cards.delete(name);
      }
    }
    // Re-order only when the set or order of limiters changed (moving a node would blur it).
    const current = [...this.el.children];
    if (current.length !== order.length || current.some((c, i) => c !== order[i])) this.el.replaceChildren(...order);
  }

  private fillFigures(card: Card, l: RateLimitStats): void {
    const windowTotal = l.window.allowed + l.window.limited;
    const total = l.allowed + l.limited;
    fill(
      card.figures,
      h(
        'div',
        { class: 'tiles wide' },
        tile('Algorithm', `${l.algorithm}, ${formatCount(l.max)} per ${fmtWindow(l.windowMs)}`),
        tile('Store', `${l.store} (on error: ${l.onStoreError})`),
        tile('Window allowed / limited', `${formatCount(l.window.allowed)} / ${formatCount(l.window.limited)} (${formatPercent(windowTotal ? l.window.limited / windowTotal : 0)})`),
        tile('Total allowed / limited', `${formatCount(l.allowed)} / ${formatCount(l.limited)} (${formatPercent(total ? l.limited / total : 0)})`),
        tile('Store errors', formatCount(l.storeErrors)),
      ),
      h(
        'div',
        { class: 'two-col' },
        h('div', {}, h('h3', { text: 'Per route' }), l.routes.length ? table(['Route', 'Allowed', 'Limited'], l.routes.map((r) => [r.route, formatCount(r.allowed), formatCount(r.limited)])) : empty('No traffic yet.')),
        h(
          'div',
          {},
          h('h3', { text: 'Top limited keys' }),
          l.topKeys.length ? table(['Key', 'Limited', ''], l.topKeys.map((k) => [k.key, formatCount(k.limited), button('Reset', () => this.resetKey(l.name, k.key))])) : empty('No key was limited.'),
        ),
      ),
    );
  }

  private card(l: RateLimitStats): Card {
    const name = l.name;
    const max = h('input', { attrs: { type: 'number', min: 0, max: 1e9, step: 1, 'aria-label': `New max for ${name}` } });
    max.value = String(l.max);
    const key = h('input', { attrs: { type: 'text', placeholder: 'Client key', 'aria-label': `Key to reset in ${name}` } });
    const setForm = h('form', { class: 'row' }, h('label', { text: 'Max per window' }, max), h('button', { text: 'Set max', attrs: { type: 'submit' } }));
    onSubmit(setForm, () => {
      const n = Number(max.value);
      if (!max.value.trim() || !Number.isInteger(n) || n < 0 || n > 1e9) return this.ctx.commands.status.error('Max must be a whole number between 0 and 1000000000.');
      void this.ctx.commands.send('rateLimit.setMax', { limiter: name, max: n }, (r) => `${r.name}: max is now ${r.max}`);
    });
    const resetForm = h('form', { class: 'row' }, key, h('button', { text: 'Reset key', attrs: { type: 'submit' } }));
    onSubmit(resetForm, () => {
      if (!key.value.trim()) return this.ctx.commands.status.error('Enter a key to reset.');
      this.resetKey(name, key.value.trim());
    });
    const figures = h('div');
    return { el: section(`Limiter ${name}`, figures, h('div', { class: 'editors' }, setForm, resetForm)), figures };
  }

  private resetKey(limiter: string, key: string): void {
    void this.ctx.commands.send('rateLimit.resetKey', { limiter, key }, (r) => (r.reset ? `Reset ${key} in ${limiter}` : `${key} had no count in ${limiter}`));
  }
}
