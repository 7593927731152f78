/**
 * Process-wide figures: memory, CPU, event-loop delay and utilisation, GC.
 * Sampled on an unref()'d timer (never on the request path); `stats()` only
 * reads the last sample.
 */
import { type IntervalHistogram, PerformanceObserver, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import type { SystemStats } from '../../protocol';
import type { Diagnostics } from '../log';

type Elu = ReturnType<typeof performance.eventLoopUtilization>;

const NS_PER_MS = 1e6;

export class SystemSampler {
  private readonly heapLimit: number;
  private readonly delay: IntervalHistogram | undefined;
  private readonly gcObserver: PerformanceObserver | undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  private cpu = process.cpuUsage();
  private wall = performance.now();
  private elu: Elu = performance.eventLoopUtilization();
  private gcCount = 0;
  private gcPauseTotal = 0;
  private gcPauseMax = 0;
  private last: Omit<SystemStats, 'requestsPerSecond' | 'errorRate' | 'time' | 'uptime' | 'gc'>;

  constructor(
    private readonly diag: Diagnostics,
    intervalMs: number,
  ) {
    this.heapLimit = v8.getHeapStatistics().heap_size_limit;
    try {
      this.delay = monitorEventLoopDelay({ resolution: 20 });
      this.delay.enable();
    } catch (err) {
      diag.failure('metrics.eventLoopDelay', err);
    }
    try {
      const observer = new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) {
          this.gcCount++;
          this.gcPauseTotal += entry.duration;
          if (entry.duration > this.gcPauseMax) this.gcPauseMax = entry.duration;
        }
      });
      observer.observe({ entryTypes: ['gc'] });
      this.gcObserver = observer;
    } catch (err) {
      diag.failure('metrics.gcObserver', err);
    }
    // The first reading covers next to no time: its CPU share would be noise.
    this.last = { ...this.read(), cpuPercent: 0 };
    if (intervalMs > 0) {
      this.timer = setInterval(() => this.sample(), intervalMs);
      this.timer.unref();
    }
  }

  /** Takes a sample now: deltas since the previous one; resets the delay histogram. */
  sample(): void {
    try {
      this.last = this.read();
    } catch (err) {
      this.diag.failure('metrics.system', err);
    }
  }

  stats(time: number, requestsPerSecond: number, errorRate: number): SystemStats {
    return {
      ...this.last,
      uptime: process.uptime(),
      gc: { count: this.gcCount, pauseTotal: round(this.gcPauseTotal), pauseMax: round(this.gcPauseMax) },
      requestsPerSecond,
      errorRate,
      time,
    };
  }

  close(): void {
    clearInterval(this.timer);
    this.delay?.disable();
    this.gcObserver?.disconnect();
  }

  private read(): SystemSampler['last'] {
    const mem = process.memoryUsage();
    const wall = performance.now();
    const cpu = process.cpuUsage(this.cpu);
    const wallUs = (wall - this.wall) * 1000;
    const cpuPercent = wallUs > 0 ? ((cpu.user + cpu.system) / wallUs) * 100 : 0;
    this.cpu = process.cpuUsage();
    this.wall = wall;
    const elu = performance.eventLoopUtilization(this.elu);
    this.elu = performance.eventLoopUtilization();
    const d = this.delay;
    let eventLoop = { delayP50: 0, delayP99: 0, delayMax: 0, utilization: finite(elu.utilization) };
    if (d && d.count > 0) {
      eventLoop = {
        delayP50: round(d.percentile(50) / NS_PER_MS),
        delayP99: round(d.percentile(99) / NS_PER_MS),
        delayMax: round(d.max / NS_PER_MS),
        utilization: round(finite(elu.utilization)),
      };
      d.reset();
    }
    return {
      pid: process.pid,
      nodeVersion: process.version,
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      heapTotal: mem.heapTotal,
      heapLimit: this.heapLimit,
      external: mem.external,
      cpuPercent: round(finite(cpuPercent)),
      eventLoop,
    };
  }
}

function finite(n: number): number {
  return Number.isFinite(n) ? n : 0;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
