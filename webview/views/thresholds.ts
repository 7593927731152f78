/**
 * The thresholds editor. One line per scalar threshold of protocol/thresholds.ts;
 * a field shows only when the agent's thresholds carry it (an older agent
 * lacks the newer ones). Saving sends only the fields the user changed,
 * fractions as the wire has them, after checking them here; the agent's
 * refusal is shown in its own words.
 */
import { SCALAR_THRESHOLDS, THRESHOLD_SPECS, type ThresholdUnit } from '../../protocol/thresholds';
import type { Thresholds } from '../../protocol/types';
import { button, h, onSubmit } from '../dom';

export interface ThresholdField {
  /** A scalar field of Thresholds (or one a newer agent adds). */
  key: string;
  label: string;
  /** Shown value = wire value × scale (percentages are fractions on the wire). */
  scale: number;
  min: number;
  minInclusive: boolean;
  max: number;
}

const SUFFIX: Record<ThresholdUnit, string> = { ms: ' (ms)', fraction: ' (%)', percent: ' (% of one core)', factor: '', count: '' };

/** In the order shown: the protocol's one table of thresholds, fractions shown as percentages. */
export const THRESHOLD_FIELDS: readonly ThresholdField[] = SCALAR_THRESHOLDS.map((key) => {
  const spec = THRESHOLD_SPECS[key];
  const scale = spec.unit === 'fraction' ? 100 : 1;
  return { key, label: spec.label + SUFFIX[spec.unit], scale, min: spec.min * scale, minInclusive: spec.minInclusive, max: spec.max * scale };
});

type Values = Record<string, number | undefined>;

/** The fields the agent's thresholds carry (a number), in editor order. */
export function shownFields(th: Thresholds | null, fields: readonly ThresholdField[] = THRESHOLD_FIELDS): ThresholdField[] {
  const t = (th ?? {}) as unknown as Values;
  return fields.filter((f) => typeof t[f.key] === 'number');
}

const shown = (f: ThresholdField, wire: number) => String(+(wire * f.scale).toFixed(6));

/**
 * Checks the typed values of the given fields; returns the patch of those that
 * differ from `current`, or the errors per field.
 */
export function validateThresholds(
  fields: readonly ThresholdField[],
  values: Record<string, string>,
  current: Thresholds | null,
): { ok: true; patch: Record<string, number> } | { ok: false; errors: Record<string, string> } {
  const patch: Record<string, number> = {};
  const errors: Record<string, string> = {};
  const cur = (current ?? {}) as unknown as Values;
  for (const f of fields) {
    const raw = (values[f.key] ?? '').trim();
    const n = Number(raw);
    if (raw === '' || !Number.isFinite(n)) errors[f.key] = 'Enter a number.';
    else if (f.minInclusive ? n < f.min : n <= f.min) errors[f.key] = `Must be ${f.minInclusive ? 'at least' : 'more than'} ${f.min}.`;
    else if (n > f.max) errors[f.key] = `Must be at most ${f.max}.`;
    else {
      const was = cur[f.key];
      if (was === undefined || raw !== shown(f, was)) patch[f.key] = n / f.scale;
    }
  }
  return Object.keys(errors).length ? { ok: false, errors } : { ok: true, patch };
}

export class ThresholdsEditor {
  readonly el = h('form', { class: 'thresholds', attrs: { novalidate: true } });
  private readonly fieldsEl = h('div', { class: 'threshold-fields' });
  private readonly inputs = new Map<string, { field: ThresholdField; input: HTMLInputElement; error: HTMLElement }>();
  private readonly formError = h('p', { class: 'error-text', attrs: { role: 'alert' } });
  private shownKeys = '';
  /** The form is refilled from the agent's thresholds only while the user is not editing it. */
  private dirty = false;

  constructor(
    private readonly current: () => Thresholds | null,
    private readonly save: (patch: Record<string, number>) => Promise<{ ok: true } | { ok: false; message: string }>,
  ) {
    const revert = button('Revert', () => {
      this.dirty = false;
      this.fill();
    });
    this.el.append(this.fieldsEl, h('div', { class: 'row' }, h('button', { text: 'Save thresholds', class: 'primary', attrs: { type: 'submit' } }), revert), this.formError);
    onSubmit(this.el, () => void this.submit());
  }

  /** The agent's thresholds changed: new fields appear; values are refilled unless the user is editing. */
  update(): void {
    const fields = shownFields(this.current());
    const keys = fields.map((f) => f.key).join();
    if (keys !== this.shownKeys) {
      this.shownKeys = keys;
      this.build(fields);
      this.dirty = false;
    }
    if (!this.dirty) this.fill();
  }

  private build(fields: readonly ThresholdField[]): void {
    const kept = new Map(this.inputs);
    this.inputs.clear();
    this.fieldsEl.replaceChildren();
    for (const f of fields) {
      const id = `th-${f.key}`;
      const old = kept.get(f.key);
      const input = old?.input ?? h('input', { attrs: { id, type: 'number', step: 'any', 'aria-describedby': `${id}-err` } });
      const error = old?.error ?? h('span', { class: 'error-text', attrs: { id: `${id}-err` } });
      if (!old) input.addEventListener('input', () => (this.dirty = true));
      this.inputs.set(f.key, { field: f, input, error });
      this.fieldsEl.append(h('div', { class: 'field' }, h('label', { text: f.label, attrs: { for: id } }), input, error));
    }
  }

  private fill(): void {
    const th = this.current() as unknown as Values | null;
    if (!th) return;
    for (const { field, input, error } of this.inputs.values()) {
      const v = th[field.key];
      input.value = typeof v === 'number' ? shown(field, v) : '';
      input.removeAttribute('aria-invalid');
      error.textContent = '';
    }
  }

  private async submit(): Promise<void> {
    const fields = [...this.inputs.values()].map((i) => i.field);
    const values: Record<string, string> = {};
    for (const [key, { input }] of this.inputs) values[key] = input.value;
    const v = validateThresholds(fields, values, this.current());
    this.formError.textContent = '';
    for (const [key, { input, error }] of this.inputs) {
      const msg = v.ok ? undefined : v.errors[key];
      error.textContent = msg ?? '';
      if (msg) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    }
    if (!v.ok) {
      this.formError.textContent = 'Fix the highlighted fields.';
      return;
    }
    if (!Object.keys(v.patch).length) {
      this.formError.textContent = 'Nothing changed.';
      return;
    }
    const r = await this.save(v.patch);
    if (r.ok) {
      this.dirty = false;
      this.fill();
    } else {
      // The agent's own words, as text.
      this.formError.textContent = `Refused by the agent: ${r.message}`.slice(0, 600);
    }
  }
}
