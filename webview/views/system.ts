import { empty, fill, fmtTime, h, kv, section } from '../dom';
import { MISSING, formatBytes, formatCount, formatMs, formatPercent, formatUptime } from '../../protocol/format';
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
            ['Name', a?.name ?? MISSING],
            ['PID', String(sys.pid)],
            ['Node', sys.nodeVersion],
            ['Uptime', formatUptime(sys.uptime)],
            ['Agent', a ? `${a.version} (protocol ${a.protocolVersion})` : MISSING],
            ['Working directory', a?.cwd ?? MISSING],
            ['Features', a?.features.join(', ') || 'none'],
            ['Sampled at', fmtTime(sys.time)],
          ]),
        ),
        section(
          'Memory',
          kv([
            ['RSS', formatBytes(sys.rss)],
            ['Heap used', `${formatBytes(sys.heapUsed)} (${formatPercent(sys.heapLimit ? sys.heapUsed / sys.heapLimit : 0)} of limit)`],
            ['Heap total', formatBytes(sys.heapTotal)],
            ['Heap limit', formatBytes(sys.heapLimit)],
            ['External', formatBytes(sys.external)],
          ]),
        ),
        section(
          'CPU and event loop',
          kv([
            ['CPU', `${formatPercent(sys.cpuPercent / 100)} of one core`],
            ['Event-loop delay p50', formatMs(sys.eventLoop.delayP50)],
            ['Event-loop delay p99', formatMs(sys.eventLoop.delayP99)],
            ['Event-loop delay max', formatMs(sys.eventLoop.delayMax)],
            ['Event-loop utilisation', formatPercent(sys.eventLoop.utilization)],
          ]),
        ),
        section(
          'Garbage collection',
          kv([
            ['Collections', formatCount(sys.gc.count)],
            ['Total pause', formatMs(sys.gc.pauseTotal)],
            ['Longest pause', formatMs(sys.gc.pauseMax)],
          ]),
        ),
        section(
          'Traffic',
          kv([
            ['Requests/s', formatCount(sys.requestsPerSecond)],
            ['Error rate (1m)', formatPercent(sys.errorRate)],
          ]),
        ),
      ),
    );
  }
}
