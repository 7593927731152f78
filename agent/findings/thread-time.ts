/**
 * The app's main thread's own time, which tells a loop the app's code held
 * (running, or sleeping in a synchronous call) from a loop the OS held (the
 * thread runnable but not scheduled). Cumulative milliseconds, read on the
 * main thread:
 *
 * - Linux: /proc/thread-self/schedstat, opened once by the main thread and
 *   re-read in place (one pread of a few bytes into a kept buffer): the
 *   thread's time on a CPU and its time waiting for one, to the nanosecond.
 * - elsewhere: the thread's CPU time from `process.threadCpuUsage()` where
 *   Node has it, else the process's (`process.cpuUsage()`: other threads'
 *   CPU counts too); the time waiting for a CPU is unknown (NaN).
 *
 * Neither tells a thread asleep in a synchronous call from a process stopped
 * (SIGSTOP, SIGTSTP: Ctrl-Z) in the middle of a callback: the thread is off
 * the CPU and off the run queue either way. The SIGCONT that ends a stop does:
 * `continuations()` counts them, on the main thread of a platform that has
 * the signal (not Windows, never a worker thread, which is not sent signals).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { constants } from 'node:os';
import { isMainThread } from 'node:worker_threads';

export interface ThreadTimes {
  /** On a CPU (ms). */
  cpuMs: number;
  /** Runnable but not running: waiting for a CPU (ms); NaN where unknown. */
  waitMs: number;
}

export interface ThreadClock {
  /** Writes the current cumulative times into `into` (no allocation on Linux). */
  read(into: ThreadTimes): void;
  close(): void;
}

type CpuUsage = () => NodeJS.CpuUsage;

/** The main thread's clock; call it on the main thread (the file it opens is the calling thread's). */
export function threadClock(): ThreadClock {
  return SchedstatClock.open() ?? new CpuUsageClock();
}

class SchedstatClock implements ThreadClock {
  readonly #buf = Buffer.alloc(64);

  private constructor(private fd: number) {}

  static open(): SchedstatClock | undefined {
    if (process.platform !== 'linux') return undefined;
    let fd: number | undefined;
    try {
      fd = openSync('/proc/thread-self/schedstat', 'r');
      const clock = new SchedstatClock(fd);
      const probe: ThreadTimes = { cpuMs: Number.NaN, waitMs: Number.NaN };
      clock.read(probe);
      if (Number.isFinite(probe.cpuMs) && Number.isFinite(probe.waitMs)) return clock;
      clock.close();
    } catch {
      if (fd !== undefined) closeSync(fd);
    }
    return undefined;
  }

  /** "<ns on cpu> <ns waiting on a runqueue> <timeslices>\n" */
  read(into: ThreadTimes): void {
    const buf = this.#buf;
    const n = readSync(this.fd, buf, 0, buf.length, 0);
    let i = 0;
    let cpu = 0;
    let wait = 0;
    for (; i < n && buf[i] !== 0x20; i++) cpu = cpu * 10 + buf[i]! - 0x30;
    for (i++; i < n && buf[i] !== 0x20; i++) wait = wait * 10 + buf[i]! - 0x30;
    if (i >= n) {
      into.cpuMs = into.waitMs = Number.NaN;
      return;
    }
    into.cpuMs = cpu / 1e6;
    into.waitMs = wait / 1e6;
  }

  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }
}

class CpuUsageClock implements ThreadClock {
  // Node 23.9 and later have the thread's own figure.
  readonly #usage: CpuUsage = (process as { threadCpuUsage?: CpuUsage }).threadCpuUsage?.bind(process) ?? (() => process.cpuUsage());

  read(into: ThreadTimes): void {
    const u = this.#usage();
    into.cpuMs = (u.user + u.system) / 1000;
    into.waitMs = Number.NaN;
  }

  close(): void {
    /* nothing held */
  }
}

/** The SIGCONTs the process received since `continuations()` began counting. */
export interface Continuations {
  readonly count: number;
  close(): void;
}

/**
 * Counts SIGCONTs through a listener, undefined where none can be had. The listener changes nothing
 * for the app: Node keeps a signal's handle unref()'d (the process exits as it would), libuv installs
 * its handler with SA_RESTART, and the kernel continues a stopped process whatever the handler.
 */
export function continuations(): Continuations | undefined {
  if (!isMainThread || process.platform === 'win32' || constants.signals.SIGCONT === undefined) return undefined;
  let count = 0;
  const onSignal = (): void => void count++;
  process.on('SIGCONT', onSignal);
  return {
    get count() {
      return count;
    },
    close: () => void process.off('SIGCONT', onSignal),
  };
}
