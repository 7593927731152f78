/**
 * Process-wide figures: memory, CPU, event-loop delay and utilisation, GC.
 * Sampled on an unref()'d timer (never on the request path); `stats()` only
 * reads the last sample.
 *
 * Event-loop delay comes from Node's delay monitor while the loop does work. The monitor is a
 * timer firing every 20 ms, which wakes an idle process 50 times a second (4 ms of CPU a second
 * on a small VM, and a laptop's battery); so while the loop is idle (utilisation over the last
 * sample below IDLE_UTILIZATION) it is switched off, and the sample timer's own lateness stands
 * in for the delay: a block of the loop in an idle app still shows, as that timer's delay.
 */
import { type IntervalHistogram, PerformanceObserver, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import type { SystemStats } from '../../protocol';
import type { Diagnostics } from '../log';
import { round } from '../text';

type Elu = ReturnType<typeof performance.eventLoopUtilization>;

const NS_PER_MS = 1e6;
/** Event-loop utilisation over a sample below which the loop counts as idle. */
export const IDLE_UTILIZATION = 0.05;
/** The delay monitor's timer period (ms). Node records the whole period between its ticks: the delay is what exceeds it. */
const RESOLUTION_MS = 20;

export class SystemSampler {
  private readonly heapLimit: number;
  private readonly delay: IntervalHistogram | undefined;
  private readonly gcObserver: PerformanceObserver | undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  private cpu = process.cpuUsage();
  private wall = performance.now();
  private elu: Elu = performance.eventLoopUtilization();
  /** The delay monitor is on (the loop was busy over the previous sample, or there is no sample timer). */
  private monitoring = false;
  /** Samples taken so far, the one at construction included (a reader's position). */
  private sampleCount = 1;
  private gcCount = 0;
  private gcPauseTotal = 0;
  private gcPauseMax = 0;
  private last: Omit<SystemStats, 'requestsPerSecond' | 'errorRate' | 'time' | 'uptime' | 'gc'>;

  constructor(
    private readonly diag: Diagnostics,
    private readonly intervalMs: number,
  ) {
    this.heapLimit = v8.getHeapStatistics().heap_size_limit;
    try {
      this.delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
      this.delay.enable();
      this.monitoring = true;
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
    this.last = { ...this.read(0), cpuPercent: 0 };
    if (intervalMs > 0) {
      this.timer = setInterval(() => this.sample(Math.max(0, performance.now() - this.wall - intervalMs)), intervalMs);
      this.timer.unref();
    }
  }

  /** Samples taken so far: a reader that saw another number has new figures to read. */
  get samples(): number {
    return this.sampleCount;
  }

  /** Whether the delay monitor runs now (for tests). */
  get delayMonitorOn(): boolean {
    return this.monitoring;
  }

  /**
   * Takes a sample now: deltas since the previous one; resets the delay histogram. `lateMs`: how
   * late the sample timer fired (0 when sampled by hand).
   */
  sample(lateMs = 0): void {
    try {
      this.last = this.read(lateMs);
      this.sampleCount++;
      // Only with a sample timer: without one nothing would switch the monitor back on.
      const busy = this.intervalMs <= 0 || this.last.eventLoop.utilization >= IDLE_UTILIZATION;
      if (this.delay && busy !== this.monitoring) {
        if (busy) this.delay.enable();
        else this.delay.disable();
        this.monitoring = busy;
      }
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
    this.monitoring = false;
    this.gcObserver?.disconnect();
  }

  private read(lateMs: number): SystemSampler['last'] {
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
    const utilization = round(finite(elu.utilization));
    const late = round(finite(lateMs));
    // Without monitor samples (it was off, or saw no tick) the sample timer's lateness is the one sample.
    let eventLoop = { delayP50: late, delayP99: late, delayMax: late, utilization };
    if (d && this.monitoring && d.count > 0) {
      eventLoop = {
        delayP50: delayOf(d.percentile(50)),
        delayP99: delayOf(d.percentile(99)),
        delayMax: Math.max(delayOf(d.max), late),
        utilization,
      };
    }
    d?.reset();
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

/** A monitor reading (ns, the whole period between two of its ticks) as a delay in ms. */
function delayOf(ns: number): number {
  return round(Math.max(0, ns / NS_PER_MS - RESOLUTION_MS));
}

function finite(n: number): number {
  return Number.isFinite(n) ? n : 0;
}

