import type { Alert, Thresholds } from '../../protocol/types';
import { button, empty, fill, fmtTime, h, section, table } from '../dom';
import type { Ctx, View } from './view';
import { Revs } from './view';

interface Field {
  key: 'p95Ms' | 'errorRate' | 'heapPercent' | 'eventLoopDelayMs' | 'cacheHitRate' | 'rateLimitedShare';
  label: string;
  /** Shown value = wire value × scale (percentages are fractions on the wire). */
  scale: number;
  min: number;
  minInclusive: boolean;
  max: number;
}

const FIELDS: Field[] = [
  { key: 'p95Ms', label: 'Route p95 (ms)', scale: 1, min: 0, minInclusive: false, max: 3_600_000 },
  { key: 'errorRate', label: 'Error rate (%)', scale: 100, min: 0, minInclusive: false, max: 100 },
  { key: 'heapPercent', label: 'Heap used (% of limit)', scale: 100, min: 0, minInclusive: false, max: 100 },
  { key: 'eventLoopDelayMs', label: 'Event-loop delay p99 (ms)', scale: 1, min: 0, minInclusive: false, max: 3_600_000 },
  { key: 'cacheHitRate', label: 'Cache hit rate below (%)', scale: 100, min: 0, minInclusive: true, max: 100 },
  { key: 'rateLimitedShare', label: 'Rate-limited share (%)', scale: 100, min: 0, minInclusive: false, max: 100 },
];

/** Validates the thresholds form; returns the patch or the errors per field. */
export function validateThresholds(values: Record<Field['key'], string>): { ok: true; patch: Partial<Thresholds> } | { ok: false; errors: Partial<Record<Field['key'], string>> } {
  const patch: Partial<Record<Field['key'], number>> = {};
  const errors: Partial<Record<Field['key'], string>> = {};
  for (const f of FIELDS) {
    const raw = values[f.key].trim();
    const n = Number(raw);
    if (raw === '' || !Number.isFinite(n)) errors[f.key] = 'Enter a number.';
    else if (f.minInclusive ? n < f.min : n <= f.min) errors[f.key] = `Must be ${f.minInclusive ? 'at least' : 'more than'} ${f.min}.`;
    else if (n > f.max) errors[f.key] = `Must be at most ${f.max}.`;
    else patch[f.key] = n / f.scale;
  }
  return Object.keys(errors).length ? { ok: false, errors } : { ok: true, patch };
}

/** Active alerts (resolve), history, and the thresholds editor. */
export class AlertsView implements View {
  readonly el = h('div', { class: 'view alerts' });
  private readonly revs = new Revs();
  private readonly active = h('div');
  private readonly history = h('div');
  private readonly form = h('form', { class: 'thresholds', attrs: { novalidate: true } });
  private readonly inputs = new Map<Field['key'], { input: HTMLInputElement; error: HTMLElement }>();
  private readonly formError = h('p', { class: 'error-text', attrs: { role: 'alert' } });
  /** The form is refilled from the agent's thresholds only while the user is not editing it. */
  private dirty = false;

  constructor(private readonly ctx: Ctx) {
    for (const f of FIELDS) {
      const id = `th-${f.key}`;
      const input = h('input', { attrs: { id, type: 'number', step: 'any', 'aria-describedby': `${id}-err` } });
      const error = h('span', { class: 'error-text', attrs: { id: `${id}-err` } });
      input.addEventListener('input', () => (this.dirty = true));
      this.inputs.set(f.key, { input, error });
      this.form.append(h('div', { class: 'field' }, h('label', { text: f.label, attrs: { for: id } }), input, error));
    }
    const reset = button('Revert', () => {
      this.dirty = false;
      this.fillForm();
    });
    this.form.append(h('div', { class: 'row' }, h('button', { text: 'Save thresholds', class: 'primary', attrs: { type: 'submit' } }), reset), this.formError);
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.save();
    });
    this.el.append(section('Active alerts', this.active), section('Thresholds', this.form), section('History', this.history));
  }

  render(): void {
    const s = this.ctx.store;
    if (!this.revs.changed({ alerts: s.rev.alerts })) return;
    fill(this.active, s.alerts.length ? this.alertTable(s.alerts, true) : empty('No active alerts.'));
    fill(this.history, s.alertHistory.length ? this.alertTable(s.alertHistory, false) : empty('No resolved alerts yet.'));
    if (!this.dirty) this.fillForm();
  }

  private alertTable(alerts: Alert[], active: boolean): HTMLElement {
    const t = table(
      active ? ['Severity', 'Rule', 'Target', 'Message', 'Since', ''] : ['Severity', 'Rule', 'Target', 'Message', 'Fired', 'Resolved'],
      alerts.map((a) => [
        h('span', { class: `sev sev-${a.severity}`, text: a.severity }),
        a.rule,
        a.target,
        a.message,
        fmtTime(a.firedAt),
        active
          ? button('Resolve', (ev) => {
              (ev.currentTarget as HTMLButtonElement).disabled = true;
              void this.ctx.commands.send('alerts.resolve', { id: a.id }, () => `Resolved alert ${a.id}`);
            })
          : `${fmtTime(a.resolvedAt ?? 0)}${a.resolvedBy ? ` (${a.resolvedBy})` : ''}`,
      ]),
    );
    t.classList.add('alerts-table');
    return t;
  }

  private fillForm(): void {
    const th = this.ctx.store.thresholds;
    if (!th) return;
    for (const f of FIELDS) {
      const { input, error } = this.inputs.get(f.key)!;
      input.value = String(+(th[f.key] * f.scale).toFixed(6));
      input.removeAttribute('aria-invalid');
      error.textContent = '';
    }
  }

  private async save(): Promise<void> {
    const values = {} as Record<Field['key'], string>;
    for (const f of FIELDS) values[f.key] = this.inputs.get(f.key)!.input.value;
    const v = validateThresholds(values);
    this.formError.textContent = '';
    for (const f of FIELDS) {
      const { input, error } = this.inputs.get(f.key)!;
      const msg = v.ok ? undefined : v.errors[f.key];
      error.textContent = msg ?? '';
      if (msg) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    }
    if (!v.ok) {
      this.formError.textContent = 'Fix the highlighted fields.';
      return;
    }
    const r = await this.ctx.commands.send('thresholds.set', { thresholds: v.patch }, () => 'Thresholds saved');
    if (r.ok) {
      this.dirty = false;
      this.ctx.store.setThresholds(r.result);
      this.fillForm();
    } else {
      // The agent's own words, as text.
      this.formError.textContent = `Refused by the agent: ${r.error.message}`.slice(0, 600);
    }
  }
}
