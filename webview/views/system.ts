import { empty, fill, fmtBytes, fmtDuration, fmtMs, fmtNum, fmtPct, fmtTime, h, kv, section } from '../dom';
import type { Ctx, View } from './view';
import { Revs } from './view';

/** Process figures: memory, CPU, event loop, GC, uptime, Node version. */
export class SystemView implements View {
  readonly el = h('div', { class: 'view system' });
  private readonly revs = new Revs();

  constructor(private readonly ctx: Ctx) {}

  render(): void {
    const s = this.ctx.store;
    if (!this.revs.changed({ system: s.rev.system, agents: s.rev.agents })) return;
    const sys = s.system;
    if (!sys) return fill(this.el, empty('No system figures yet.'));
    const a = s.agent;
    fill(
      this.el,
      h(
        'div',
        { class: 'two-col' },
        section(
          'Process',
          kv([
            ['Name', a?.name ?? '–'],
            ['PID', String(sys.pid)],
            ['Node', sys.nodeVersion],
            ['Uptime', fmtDuration(sys.uptime)],
            ['Agent', a ? `${a.version} (protocol ${a.protocolVersion})` : '–'],
            ['Working directory', a?.cwd ?? '–'],
            ['Features', a?.features.join(', ') || 'none'],
            ['Sampled at', fmtTime(sys.time)],
          ]),
        ),
        section(
          'Memory',
          kv([
            ['RSS', fmtBytes(sys.rss)],
            ['Heap used', `${fmtBytes(sys.heapUsed)} (${fmtPct(sys.heapLimit ? sys.heapUsed / sys.heapLimit : 0)} of limit)`],
            ['Heap total', fmtBytes(sys.heapTotal)],
            ['Heap limit', fmtBytes(sys.heapLimit)],
            ['External', fmtBytes(sys.external)],
          ]),
        ),
        section(
          'CPU and event loop',
          kv([
            ['CPU', `${fmtNum(sys.cpuPercent)}% of one core`],
            ['Event-loop delay p50', fmtMs(sys.eventLoop.delayP50)],
            ['Event-loop delay p99', fmtMs(sys.eventLoop.delayP99)],
            ['Event-loop delay max', fmtMs(sys.eventLoop.delayMax)],
            ['Event-loop utilisation', fmtPct(sys.eventLoop.utilization)],
          ]),
        ),
        section(
          'Garbage collection',
          kv([
            ['Collections', fmtNum(sys.gc.count)],
            ['Total pause', fmtMs(sys.gc.pauseTotal)],
            ['Longest pause', fmtMs(sys.gc.pauseMax)],
          ]),
        ),
        section(
          'Traffic',
          kv([
            ['Requests/s', fmtNum(sys.requestsPerSecond)],
            ['Error rate (1m)', fmtPct(sys.errorRate)],
          ]),
        ),
      ),
    );
  }
}
