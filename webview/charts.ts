/**
 * chart.js wrappers. Colours come from CSS variables (which follow the VS Code theme) and are
 * read again whenever the body's theme class changes. No animation; updates use mode 'none'.
 */
// chart.js ships ESM types; under the tree's Node16 CommonJS settings tsc flags the import (TS1479)
// although the types resolve. esbuild bundles the ESM build; this only quiets the diagnostic.
// prettier-ignore
// @ts-expect-error TS1479: ESM package imported from a file tsc treats as CommonJS
import { BarController, BarElement, CategoryScale, Chart, type ChartDataset, Legend, LineController, LineElement, LinearScale, PointElement, Tooltip } from 'chart.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, BarController, BarElement, Legend, Tooltip);

/** Vertical lines with labels (the History tab's commits), drawn on the canvas of the charts that have some. */
const markersOf = new WeakMap<Chart, { markers: Array<{ t: number; label: string }>; colour: string }>();
Chart.register({
  id: 'routelensMarkers',
  afterDatasetsDraw(chart: Chart) {
    const m = markersOf.get(chart);
    const x = chart.scales.x;
    if (!m || !m.markers.length || !x) return;
    const { top, bottom, left, right } = chart.chartArea;
    const ctx = chart.ctx;
    ctx.save();
    ctx.strokeStyle = m.colour;
    ctx.fillStyle = m.colour;
    ctx.lineWidth = 1;
    ctx.setLineDash([4, 3]);
    ctx.font = '10px sans-serif';
    ctx.textBaseline = 'top';
    let labelEnd = -Infinity;
    for (const mk of m.markers) {
      const px = x.getPixelForValue(mk.t);
      if (!(px >= left && px <= right)) continue;
      ctx.beginPath();
      ctx.moveTo(px, top);
      ctx.lineTo(px, bottom);
      ctx.stroke();
      // Labels that would overlap the previous one are left out (every marker is listed under the charts).
      const w = ctx.measureText(mk.label).width;
      if (px + 3 > labelEnd && px + 3 + w <= right) {
        ctx.fillText(mk.label, px + 3, top + 2);
        labelEnd = px + 3 + w + 6;
      }
    }
    ctx.restore();
  },
});

export interface Palette {
  fg: string;
  grid: string;
  marker: string;
  series: string[];
}

/** Reads the chart colours from CSS variables now (see style.css `--rl-*`). */
export function readPalette(): Palette {
  const cs = getComputedStyle(document.body);
  const v = (name: string, fallback: string) => cs.getPropertyValue(name).trim() || fallback;
  return {
    fg: v('--rl-chart-fg', '#cccccc'),
    grid: v('--rl-chart-grid', 'rgba(128,128,128,0.25)'),
    marker: v('--rl-chart-marker', '#d18616'),
    series: [1, 2, 3, 4, 5, 6].map((i) => v(`--rl-series-${i}`, ['#3794ff', '#f14c4c', '#89d185', '#cca700', '#b180d7', '#4ec9b0'][i - 1]!)),
  };
}

const live = new Set<BaseChart>();
let observer: MutationObserver | undefined;

/** Re-colours every chart when the theme class on <body> changes. */
function watchTheme(): void {
  if (observer) return;
  observer = new MutationObserver(() => {
    const p = readPalette();
    cached = { at: performance.now(), p };
    for (const c of live) c.applyPalette(p);
  });
  observer.observe(document.body, { attributes: true, attributeFilter: ['class'] });
}

abstract class BaseChart {
  protected chart: Chart;
  protected readonly canvas: HTMLCanvasElement;
  readonly el: HTMLElement;

  constructor(label: string, type: 'line' | 'bar', yFormat: (v: number) => string, xLinear: boolean) {
    watchTheme();
    this.el = document.createElement('div');
    this.el.className = 'chart-box';
    this.canvas = document.createElement('canvas');
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', label);
    this.el.append(this.canvas);
    const p = readPalette();
    this.chart = new Chart(this.canvas, {
      type,
      data: { labels: [], datasets: [] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: xLinear ? false : undefined,
        normalized: true,
        interaction: { mode: 'nearest', intersect: false },
        plugins: { legend: { labels: { color: p.fg, boxWidth: 12 } }, tooltip: { enabled: true } },
        scales: {
          x: xLinear
            ? { type: 'linear', min: -60, max: 0, ticks: { color: p.fg, maxTicksLimit: 7, callback: (v) => ago(-Number(v)) }, grid: { color: p.grid } }
            : { type: 'category', ticks: { color: p.fg }, grid: { color: p.grid } },
          y: { beginAtZero: true, ticks: { color: p.fg, maxTicksLimit: 5, callback: (v) => yFormat(Number(v)) }, grid: { color: p.grid } },
        },
      },
    });
    live.add(this);
    this.applyPalette(p);
  }

  applyPalette(p: Palette): void {
    const o = this.chart.options;
    const markers = markersOf.get(this.chart);
    if (markers) markers.colour = p.marker;
    const scales = o.scales as Record<string, { ticks?: { color?: string }; grid?: { color?: string } }>;
    for (const s of Object.values(scales)) {
      if (s.ticks) s.ticks.color = p.fg;
      if (s.grid) s.grid.color = p.grid;
    }
    if (o.plugins?.legend?.labels) o.plugins.legend.labels.color = p.fg;
    this.chart.data.datasets.forEach((ds, i) => {
      const colour = p.series[i % p.series.length]!;
      ds.borderColor = colour;
      ds.backgroundColor = colour;
    });
    // Observable by tests and handy when debugging a theme.
    this.canvas.dataset.palette = [p.fg, ...this.chart.data.datasets.map((d) => String(d.borderColor))].join(' | ');
    this.chart.update('none');
  }

  destroy(): void {
    live.delete(this);
    this.chart.destroy();
  }
}

export interface LineSeries {
  label: string;
  points: Array<{ x: number; y: number | null }>;
}

/** Line datasets in the palette's colours; points are drawn while a series has fewer than `pointsBelow`. */
function lineDatasets(series: LineSeries[], p: Palette, pointsBelow: number): ChartDataset<'line'>[] {
  return series.map((s, i) => ({
    label: s.label,
    data: s.points as Array<{ x: number; y: number }>,
    borderColor: p.series[i % p.series.length],
    backgroundColor: p.series[i % p.series.length],
    borderWidth: 1.5,
    pointRadius: (c: { dataset: { data: unknown[] } }) => (c.dataset.data.length < pointsBelow ? 2 : 0),
    spanGaps: false,
  }));
}

/** A line chart over time; x is seconds relative to the newest point (negative = past). */
export class TimeChart extends BaseChart {
  constructor(label: string, yFormat: (v: number) => string = (v) => String(v)) {
    super(label, 'line', yFormat, true);
  }

  set(series: LineSeries[]): void {
    const p = readPaletteCached();
    // Show at least the last minute, more as history accumulates (up to the ring's 10 minutes).
    let oldest = 0;
    for (const s of series) if (s.points.length && s.points[0]!.x < oldest) oldest = s.points[0]!.x;
    const x = this.chart.options.scales!.x!;
    x.min = -Math.max(60, Math.ceil(-oldest / 30) * 30);
    const ds = this.chart.data.datasets as ChartDataset<'line'>[];
    const labelsChanged = ds.length !== series.length || series.some((s, i) => ds[i]!.label !== s.label);
    if (labelsChanged) {
      // Lines alone are invisible while a series has one point.
      this.chart.data.datasets = lineDatasets(series, p, 3);
      this.applyPalette(p);
      return;
    }
    series.forEach((s, i) => (ds[i]!.data = s.points as Array<{ x: number; y: number }>));
    this.chart.update('none');
  }
}

/** A bar chart with category labels (the latency histogram). */
export class BarChart extends BaseChart {
  constructor(label: string, yFormat: (v: number) => string = (v) => String(v)) {
    super(label, 'bar', yFormat, false);
  }

  set(labels: string[], label: string, values: number[]): void {
    const p = readPaletteCached();
    this.chart.data.labels = labels;
    const ds = this.chart.data.datasets[0];
    if (!ds) {
      this.chart.data.datasets = [{ label, data: values, borderColor: p.series[0], backgroundColor: p.series[0] }];
      this.applyPalette(p);
      return;
    }
    ds.label = label;
    ds.data = values;
    this.chart.update('none');
  }
}

/**
 * A line chart over absolute time (epoch ms) from `from` to `to`, with
 * vertical markers (commits). Local-time axis labels.
 */
export class HistoryChart extends BaseChart {
  constructor(
    label: string,
    yFormat: (v: number) => string,
    timeLabel: (t: number, spanMs: number) => string,
    tooltipTime: (t: number) => string,
    private readonly tickStep: (spanMs: number) => number,
  ) {
    super(label, 'line', yFormat, true);
    const x = this.chart.options.scales!.x!;
    x.ticks = { ...x.ticks, maxTicksLimit: 10, callback: (v: number | string) => timeLabel(Number(v), Number(x.max) - Number(x.min)) };
    const tooltip = this.chart.options.plugins!.tooltip!;
    tooltip.callbacks = { ...tooltip.callbacks, title: (items: Array<{ parsed: { x: number | null } }>) => (items[0]?.parsed.x != null ? tooltipTime(items[0].parsed.x) : '') };
    markersOf.set(this.chart, { markers: [], colour: readPaletteCached().marker });
  }

  set(from: number, to: number, series: LineSeries[], markers: Array<{ t: number; label: string }>): void {
    const p = readPaletteCached();
    const x = this.chart.options.scales!.x!;
    x.min = from;
    x.max = Math.max(to, from + 1);
    (x.ticks as { stepSize?: number }).stepSize = this.tickStep(x.max - from);
    markersOf.set(this.chart, { markers, colour: p.marker });
    // Points stay visible while sparse (a few hours between gaps).
    this.chart.data.datasets = lineDatasets(series, p, 40);
    // Observable by tests: what is drawn, since a canvas is not.
    this.canvas.dataset.points = series.map((s) => s.points.filter((pt) => pt.y !== null).length).join(',');
    this.canvas.dataset.markers = markers.map((m) => m.label).join(' | ');
    this.applyPalette(p);
  }
}

/** getComputedStyle is not free: within one frame, reuse the palette. */
let cached: { at: number; p: Palette } | undefined;
function readPaletteCached(): Palette {
  const now = performance.now();
  if (!cached || now - cached.at > 500) cached = { at: now, p: readPalette() };
  return cached.p;
}

/** Axis label for `seconds` before the newest point. */
function ago(seconds: number): string {
  if (seconds <= 0.5) return 'now';
  const s = Math.round(seconds);
  return s < 60 ? `${s}s ago` : s % 60 === 0 ? `${s / 60}m ago` : `${Math.floor(s / 60)}m${s % 60}s ago`;
}

/** Turns timestamped points into chart points relative to `now` (seconds). */
export function relative<T extends { t: number }>(points: T[], now: number, pick: (p: T) => number | null): Array<{ x: number; y: number | null }> {
  return points.map((p) => ({ x: (p.t - now) / 1000, y: pick(p) }));
}
