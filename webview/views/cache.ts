import type { CacheKeyInfo } from '../../protocol/types';
import { TimeChart, relative } from '../charts';
import { button, clean, empty, fill, fmtTime, h, onSubmit, section, table, tile } from '../dom';
import { formatBytes, formatCount, formatMs, formatPercent } from '../../protocol/format';
import type { Ctx, View } from './view';
import { Revs } from './view';

const KEY_PAGE = 100;

/** Cache hit rates, hot keys, the key browser and the invalidation tools. */
export class CacheView implements View {
  readonly el = h('div', { class: 'view cache' });
  private readonly revs = new Revs();
  private readonly none = empty('No cache in this app.');
  private readonly body = h('div');
  private readonly stats = h('div');
  private readonly tierChart = new TimeChart('Cache hit rate over time per tier', (v) => `${Math.round(v)}%`);
  private readonly nsChart = new TimeChart('Cache hit rate over time per namespace', (v) => `${Math.round(v)}%`);
  private readonly hotKeys = h('div');
  private readonly namespaces = h('div');
  private readonly warmers = h('div', { class: 'buttons' });
  private readonly warmRuns = h('div');
  private readonly events = h('div');

  // key browser
  private readonly keyPattern = h('input', { attrs: { type: 'search', placeholder: 'Pattern, e.g. user:*', 'aria-label': 'Key pattern' } });
  private readonly keyResults = h('div', { class: 'key-results' });
  private readonly inspected = h('div', { class: 'inspected' });
  private readonly moreKeys = button('More', () => void this.loadKeys(false));
  private keys: CacheKeyInfo[] = [];
  private cursor: string | null = null;

  // invalidation
  private readonly invPattern = h('input', { attrs: { type: 'text', placeholder: 'Pattern, e.g. session:*', 'aria-label': 'Invalidate pattern' } });
  private readonly invTag = h('input', { attrs: { type: 'text', placeholder: 'Tag', 'aria-label': 'Invalidate tag' } });
  private readonly invConfirm = h('div', { class: 'confirm' });
  private readonly nsSelect = h('select', { attrs: { 'aria-label': 'Namespace to clear' } });
  private readonly nsConfirm = h('div', { class: 'confirm' });
  private nsNames = '';
  private warmerNames = '';

  constructor(private readonly ctx: Ctx) {
    this.moreKeys.hidden = true;
    const search = h('form', { class: 'row' }, this.keyPattern, h('button', { text: 'Search', attrs: { type: 'submit' } }));
    onSubmit(search, () => void this.loadKeys(true));
    const byPattern = h('form', { class: 'row' }, this.invPattern, h('button', { text: 'Preview', attrs: { type: 'submit' } }));
    onSubmit(byPattern, () => void this.previewPattern());
    const byTag = h('form', { class: 'row' }, this.invTag, h('button', { text: 'Invalidate tag', attrs: { type: 'submit' } }));
    onSubmit(byTag, () => {
      const tag = this.invTag.value.trim();
      if (!tag) return ctx.commands.status.error('Enter a tag.');
      void ctx.commands.send('cache.invalidate', { tag }, (r) => `Removed ${r.removed} keys tagged ${tag}`);
    });
    const clearNs = h('div', { class: 'row' }, this.nsSelect, button('Clear namespace…', () => void this.previewNamespace()));

    this.body.append(
      this.stats,
      h(
        'div',
        { class: 'charts' },
        section('Hit rate per tier', this.tierChart.el),
        section('Hit rate per namespace', this.nsChart.el),
      ),
      h('div', { class: 'two-col' }, section('Hottest keys', this.hotKeys), section('Namespaces', this.namespaces)),
      section('Key browser', search, this.keyResults, this.moreKeys, this.inspected),
      section(
        'Invalidate',
        h('h3', { text: 'By pattern (preview first)' }),
        byPattern,
        this.invConfirm,
        h('h3', { text: 'By tag' }),
        byTag,
        h('h3', { text: 'Clear a namespace' }),
        clearNs,
        this.nsConfirm,
      ),
      section('Warm', this.warmers, this.warmRuns),
      section('Recent cache events', this.events),
    );
    this.el.append(this.none, this.body);
  }

  render(): void {
    const s = this.ctx.store;
    if (!this.revs.changed({ cache: s.rev.cache, series: s.rev.series })) return;
    const c = s.cache;
    const enabled = !!c?.enabled;
    this.none.hidden = enabled;
    this.body.hidden = !enabled;
    if (!c || !enabled) return;
    fill(
      this.stats,
      h(
        'div',
        { class: 'tiles' },
        tile('Overall hit rate', formatPercent(c.overall.hitRate)),
        tile('L1 hit rate', formatPercent(c.l1.hitRate)),
        tile('L2 hit rate', c.redis === 'none' ? 'no L2' : formatPercent(c.l2.hitRate)),
        tile('Hit rate (1m)', formatPercent(c.window.hitRate)),
        tile('Redis', c.redis),
        tile('L1 entries', `${formatCount(c.l1.entries)} / ${formatCount(c.l1.maxEntries)}`),
        tile('L1 size', `${formatBytes(c.l1.bytes)} / ${formatBytes(c.l1.maxBytes)}`),
        tile('Loads', `${formatCount(c.loads.count)} (avg ${formatMs(c.loads.avg)}, ${formatCount(c.loads.errors)} failed)`),
        tile('L2 errors', formatCount(c.l2.errors)),
        tile('Evictions / expiries', `${formatCount(c.evictions)} / ${formatCount(c.expirations)}`),
        c.preloads ? tile('Preload hit rate', `${formatPercent(c.preloads.hitRate)} (${formatCount(c.preloads.hits)} read, ${formatCount(c.preloads.wasted)} wasted)`) : null,
        c.promotions !== undefined ? tile('Hot keys promoted to L1', formatCount(c.promotions)) : null,
      ),
    );
    const points = s.series.toArray();
    const now = points.length ? points[points.length - 1]!.t : 0;
    const pct = (v: number | null) => (v === null ? null : v * 100);
    this.tierChart.set([
      { label: 'overall', points: relative(points, now, (p) => pct(p.overall)) },
      { label: 'L1', points: relative(points, now, (p) => pct(p.l1)) },
      { label: 'L2', points: relative(points, now, (p) => pct(p.l2)) },
    ]);
    this.nsChart.set(
      [...s.namespaceSeries].slice(0, 6).map(([ns, ring]) => ({ label: ns || '(default)', points: relative(ring.toArray(), now, (p) => p.hitRate * 100) })),
    );
    fill(this.hotKeys, c.hotKeys.length ? table(['Key', 'Hits'], c.hotKeys.slice(0, 20).map((k) => [k.key, formatCount(k.hits)])) : empty('No hits yet.'));
    fill(
      this.namespaces,
      c.namespaces.length
        ? table(
            ['Namespace', 'Entries', 'Hits', 'Misses', 'Hit rate'],
            c.namespaces.map((n) => [n.namespace || '(default)', formatCount(n.entries), formatCount(n.hits), formatCount(n.misses), formatPercent(n.hitRate)]),
          )
        : empty('No namespaces.'),
    );
    // Controls are rebuilt only when their lists change, so an open select or a focused button survives updates.
    const nsNames = JSON.stringify(c.namespaces.map((n) => n.namespace));
    if (nsNames !== this.nsNames) {
      this.nsNames = nsNames;
      const current = this.nsSelect.value;
      fill(this.nsSelect, ...c.namespaces.map((n) => h('option', { text: n.namespace || '(default)', attrs: { value: n.namespace } })));
      if (c.namespaces.some((n) => n.namespace === current)) this.nsSelect.value = current;
    }
    const warmers = JSON.stringify(c.warmers);
    if (warmers !== this.warmerNames) {
      this.warmerNames = warmers;
      fill(
        this.warmers,
        ...(c.warmers.length
          ? c.warmers.map((name) => button(`Warm ${name}`, () => void this.ctx.commands.send('cache.warm', { name }, (r) => `Warmed ${r.name}: ${r.loaded} entries loaded`)))
          : [empty('No warming strategies registered.')]),
      );
    }
    const runs = (c.warming ?? []).filter((w) => w.every !== undefined || w.lastRun !== undefined);
    fill(
      this.warmRuns,
      runs.length
        ? table(
            ['Warmer', 'Every', 'Last run', 'Duration', 'Keys loaded', 'Error'],
            runs.map((w) => [
              w.running ? `${w.name} (running)` : w.name,
              w.every !== undefined ? formatMs(w.every) : 'on demand',
              w.lastRun ? `${fmtTime(w.lastRun.at)} (${w.lastRun.trigger})` : 'not yet',
              w.lastRun ? formatMs(w.lastRun.duration) : '',
              w.lastRun ? formatCount(w.lastRun.loaded) : '',
              w.lastRun?.error ?? '',
            ]),
          )
        : null,
    );
    const events = s.cacheEvents.slice(-50).reverse();
    fill(
      this.events,
      s.droppedCacheEvents ? h('p', { class: 'muted', text: `${s.droppedCacheEvents} events dropped by the agent (batch full).` }) : null,
      events.length
        ? table(
            ['Time', 'Event', 'Tier', 'Namespace', 'Key / detail'],
            events.map((e) => [
              fmtTime(e.time),
              e.kind,
              e.tier ?? '',
              e.namespace ?? '',
              e.invalidation
                ? `${e.invalidation.by} ${e.invalidation.target} (${e.invalidation.source}${e.invalidation.removed !== undefined ? `, ${e.invalidation.removed} removed` : ''})`
                : (e.key ?? e.message ?? e.state ?? (e.duration !== undefined ? formatMs(e.duration) : '')),
            ]),
          )
        : empty('No cache events yet.'),
    );
  }

  private async loadKeys(fresh: boolean): Promise<void> {
    const pattern = this.keyPattern.value.trim();
    if (fresh) {
      this.keys = [];
      this.cursor = null;
    }
    const r = await this.ctx.commands.send(
      'cache.keys',
      { ...(pattern ? { pattern } : {}), ...(this.cursor ? { cursor: this.cursor } : {}), limit: KEY_PAGE },
      (res) => `${res.keys.length} keys${res.cursor ? ' (more available)' : ''}`,
    );
    if (!r.ok) return;
    this.keys = this.keys.concat(r.result.keys).slice(0, 2000);
    this.cursor = r.result.cursor;
    this.moreKeys.hidden = !this.cursor;
    this.renderKeys();
  }

  private renderKeys(): void {
    if (!this.keys.length) return fill(this.keyResults, empty('No keys match.'));
    fill(
      this.keyResults,
      table(
        ['Key', 'Tier', 'TTL', 'Size', '', ''],
        this.keys.map((k) => [
          k.key,
          k.tier,
          k.ttl === undefined ? 'never' : formatMs(k.ttl),
          formatBytes(k.size),
          button('Inspect', () => void this.inspect(k.key)),
          button('Invalidate', (ev) => {
            (ev.currentTarget as HTMLButtonElement).disabled = true;
            void this.ctx.commands.send('cache.invalidate', { key: k.key }, (r) => `Removed ${r.removed} key${r.removed === 1 ? '' : 's'}`).then((res) => {
              if (res.ok) {
                this.keys = this.keys.filter((x) => x !== k);
                this.renderKeys();
              } else (ev.currentTarget as HTMLButtonElement | null)?.removeAttribute('disabled');
            });
          }),
        ]),
      ),
    );
  }

  private async inspect(key: string): Promise<void> {
    const r = await this.ctx.commands.send('cache.inspect', { key }, (res) => `${res.key}: ${formatBytes(res.size)}${res.truncated ? ' (value truncated)' : ''}`);
    if (!r.ok) return;
    const v = r.result;
    fill(
      this.inspected,
      h('h3', { text: `Value of ${v.key}` }),
      h('p', { class: 'muted', text: `${v.tier} · ${formatBytes(v.size)} · TTL ${v.ttl === undefined ? 'never' : formatMs(v.ttl)}${v.tags?.length ? ` · tags ${v.tags.join(', ')}` : ''}${v.truncated ? ' · truncated' : ''}` }),
      valueBlock(v.value),
      button('Close', () => fill(this.inspected)),
    );
  }

  /** Dry run first: shows how many keys match, then a Confirm button does the real invalidation. */
  private async previewPattern(): Promise<void> {
    const pattern = this.invPattern.value.trim();
    if (!pattern) return this.ctx.commands.status.error('Enter a pattern.');
    const r = await this.ctx.commands.send('cache.invalidate', { pattern, dryRun: true }, (res) => `${res.removed} keys match ${pattern}${res.partial ? ' (scan stopped early)' : ''}`);
    if (!r.ok) return fill(this.invConfirm);
    const n = r.result.removed;
    fill(
      this.invConfirm,
      h('span', { text: `${n} key${n === 1 ? '' : 's'} match ${pattern}${r.result.partial ? ' (at least)' : ''}.` }),
      button(
        `Invalidate ${n} keys`,
        () => {
          fill(this.invConfirm);
          void this.ctx.commands.send('cache.invalidate', { pattern }, (res) => `Removed ${res.removed} keys${res.partial ? ' (partial: time limit reached)' : ''}`);
        },
        'danger',
      ),
      button('Cancel', () => fill(this.invConfirm)),
    );
  }

  private async previewNamespace(): Promise<void> {
    const namespace = this.nsSelect.value;
    if (this.nsSelect.selectedIndex < 0) return this.ctx.commands.status.error('No namespace to clear.');
    const r = await this.ctx.commands.send('cache.clearNamespace', { namespace, dryRun: true }, (res) => `${res.removed} keys in ${namespace || '(default)'}`);
    if (!r.ok) return fill(this.nsConfirm);
    fill(
      this.nsConfirm,
      h('span', { text: `${r.result.removed} keys in ${namespace || '(default)'}.` }),
      button(
        'Clear',
        () => {
          fill(this.nsConfirm);
          void this.ctx.commands.send('cache.clearNamespace', { namespace }, (res) => `Removed ${res.removed} keys from ${namespace || '(default)'}`);
        },
        'danger',
      ),
      button('Cancel', () => fill(this.nsConfirm)),
    );
  }
}




/** A cache value as text (cleaned like everything else, with a larger length limit). */
function valueBlock(value: string): HTMLElement {
  const pre = h('pre', { class: 'value' });
  pre.textContent = clean(value, 64 * 1024);
  return pre;
}
