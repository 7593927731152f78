import type { Alert, Thresholds } from '../../protocol/types';
import { button, empty, fill, fmtTime, h, section, table } from '../dom';
import { ThresholdsEditor } from './thresholds';
import type { Ctx, View } from './view';
import { Revs } from './view';

/** Active alerts (resolve), history, and the thresholds editor. */
export class AlertsView implements View {
  readonly el = h('div', { class: 'view alerts' });
  private readonly revs = new Revs();
  private readonly active = h('div');
  private readonly history = h('div');
  private readonly editor: ThresholdsEditor;

  constructor(private readonly ctx: Ctx) {
    this.editor = new ThresholdsEditor(
      () => ctx.store.thresholds,
      async (patch) => {
        const r = await ctx.commands.send('thresholds.set', { thresholds: patch as Partial<Thresholds> }, () => 'Thresholds saved');
        if (!r.ok) return { ok: false, message: r.error.message };
        ctx.store.setThresholds(r.result);
        return { ok: true };
      },
    );
    this.el.append(section('Active alerts', this.active), section('Thresholds', this.editor.el), section('History', this.history));
  }

  render(): void {
    const s = this.ctx.store;
    if (!this.revs.changed({ alerts: s.rev.alerts })) return;
    fill(this.active, s.alerts.length ? this.alertTable(s.alerts, true) : empty('No active alerts.'));
    fill(this.history, s.alertHistory.length ? this.alertTable(s.alertHistory, false) : empty('No resolved alerts yet.'));
    this.editor.update();
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
}
