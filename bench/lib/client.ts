/**
 * A small keep-alive HTTP/1.1 load generator on raw sockets, for loopback only.
 *
 * Two modes:
 *  - paced (`rate` set): open loop; request n is due at start + n / rate and
 *    goes out on the first idle connection (a smooth rate, unlike per-second
 *    bursts), so latencies are those of a server below saturation;
 *  - unthrottled: closed loop; each connection sends its next request as soon
 *    as the previous answer is complete (peak throughput).
 * Latency is measured from the write of a request to the last byte of its
 * answer, per request group, so the figures line up with the server's own.
 * Responses need Content-Length or chunked encoding (Express sends both kinds).
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';

export interface PlannedRequest {
  group: string;
  /** The whole request, pre-encoded. */
  bytes: Buffer;
}

export interface LoadOptions {
  port: number;
  requests: PlannedRequest[];
  connections: number;
  durationMs: number;
  /** Requests per second for paced mode; omit for unthrottled. */
  rate?: number;
  /** Hard cap on requests sent. */
  maxRequests?: number;
}

/** One run over an open Connections pool: what the pool does not fix. */
export type RunOptions = Pick<LoadOptions, 'durationMs' | 'rate' | 'maxRequests'>;

export interface LoadResult {
  elapsedMs: number;
  sent: number;
  responses: number;
  errors: number;
  statuses: Record<string, number>;
  /** Latencies (ms) per group, in arrival order. */
  latencies: Record<string, number[]>;
  /** Paced mode: requests that waited for a free connection (a sign of saturation). */
  queued: number;
}

export function buildRequest(method: string, path: string, port: number, group: string): PlannedRequest {
  return { group, bytes: Buffer.from(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: keep-alive\r\nAccept: application/json\r\n\r\n`, 'latin1') };
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
const CHUNK_END = Buffer.from('\r\n0\r\n\r\n');

/** Length of the first complete response in buf, or -1 when incomplete. */
function responseLength(buf: Buffer): { length: number; status: number } | undefined {
  const headEnd = buf.indexOf(CRLFCRLF);
  if (headEnd < 0) return undefined;
  const head = buf.toString('latin1', 0, headEnd).toLowerCase();
  const status = Number(head.slice(9, 12));
  const cl = /\r\ncontent-length:\s*(\d+)/.exec(head);
  if (cl) {
    const total = headEnd + 4 + Number(cl[1]);
    return buf.length >= total ? { length: total, status } : undefined;
  }
  if (head.includes('transfer-encoding: chunked')) {
    const end = buf.indexOf(CHUNK_END, headEnd);
    if (end >= 0) return { length: end + CHUNK_END.length, status };
    return undefined;
  }
  return { length: headEnd + 4, status }; // no body
}

/** Opens `opts.connections` connections, runs the load once, closes them. */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const pool = await Connections.open(opts.port, opts.requests, opts.connections);
  try {
    return await pool.run(opts);
  } finally {
    pool.close();
  }
}

interface Conn {
  socket: net.Socket;
  busy: boolean;
  buf: Buffer;
  sentAt: number;
  group: string;
}

/** What one run does when a connection answers or closes. */
interface RunHandlers {
  data(c: Conn, chunk: Buffer): void;
  close(c: Conn): void;
}

/**
 * Keep-alive connections to one server that stay open across runs, and a cursor into the plan
 * that carries on from run to run: a bench that cuts its phases into short slices (alternating
 * servers) neither reconnects per slice nor starts every slice at the plan's first request.
 */
export class Connections {
  /** Index of the next planned request, across runs. */
  private cursor = 0;
  private current: RunHandlers | undefined;
  private closed = false;

  private constructor(
    private readonly requests: PlannedRequest[],
    private readonly conns: Conn[],
  ) {}

  static async open(port: number, requests: PlannedRequest[], connections: number): Promise<Connections> {
    if (requests.length === 0) throw new Error('no requests');
    const conns: Conn[] = [];
    const pool = new Connections(requests, conns);
    try {
      await Promise.all(
        Array.from({ length: connections }, async () => {
          const socket = net.connect(port, '127.0.0.1');
          const c: Conn = { socket, busy: false, buf: Buffer.alloc(0), sentAt: 0, group: '' };
          conns.push(c);
          socket.setNoDelay(true);
          socket.on('data', (chunk: Buffer) => pool.current?.data(c, chunk));
          socket.on('close', () => pool.current?.close(c));
          await new Promise<void>((resolve, reject) => {
            socket.once('connect', resolve);
            socket.once('error', reject);
          });
          socket.on('error', () => {}); // counted by the run through 'close'
        }),
      );
    } catch (err) {
      pool.close();
      throw err;
    }
    return pool;
  }

  /** Runs the load once over the open connections (one run at a time). */
  async run(opts: RunOptions): Promise<LoadResult> {
    if (this.current !== undefined) throw new Error('a run is already going on these connections');
    const requests = this.requests;
    const result: LoadResult = { elapsedMs: 0, sent: 0, responses: 0, errors: 0, statuses: {}, latencies: {}, queued: 0 };
    for (const r of requests) result.latencies[r.group] ??= [];
    const maxRequests = opts.maxRequests ?? Number.MAX_SAFE_INTEGER;
    let sent = 0;
    let ended = false;
    const start = performance.now();
    const deadline = start + opts.durationMs;
    const idle = this.conns.filter((c) => !c.socket.destroyed);
    for (const c of idle) {
      c.busy = false;
      c.buf = Buffer.alloc(0);
    }
    let inFlight = 0;
    let finish!: () => void;
    const done = new Promise<void>((r) => (finish = r));

    const canSend = () => !ended && sent < maxRequests && performance.now() < deadline;
    const due = () => (opts.rate ? Math.floor(((performance.now() - start) / 1000) * opts.rate) + 1 : Number.MAX_SAFE_INTEGER);

    const send = (c: Conn) => {
      const req = requests[this.cursor++ % requests.length]!;
      sent++;
      c.busy = true;
      c.group = req.group;
      inFlight++;
      c.sentAt = performance.now();
      c.socket.write(req.bytes);
    };

    const pump = () => {
      if (!canSend()) {
        if (inFlight === 0) end();
        return;
      }
      const limit = due();
      while (sent < limit && idle.length > 0 && canSend()) send(idle.pop()!);
      if (opts.rate && sent < limit && idle.length === 0) result.queued++;
    };

    const end = () => {
      if (ended) return;
      ended = true;
      clearInterval(timer);
      this.current = undefined;
      // A connection still waiting (the guard fired) could hand its late answer to the next run.
      for (const c of this.conns) if (c.busy) c.socket.destroy();
      result.elapsedMs = performance.now() - start;
      result.sent = sent;
      finish();
    };

    this.current = {
      data: (c, chunk) => {
        c.buf = c.buf.length ? Buffer.concat([c.buf, chunk]) : chunk;
        for (;;) {
          const r = responseLength(c.buf);
          if (!r) return;
          c.buf = c.buf.subarray(r.length);
          if (!c.busy) continue; // stray bytes; ignore
          const latency = performance.now() - c.sentAt;
          c.busy = false;
          inFlight--;
          result.responses++;
          result.statuses[r.status] = (result.statuses[r.status] ?? 0) + 1;
          result.latencies[c.group]!.push(latency);
          if (canSend() && sent < due()) send(c);
          else {
            idle.push(c);
            if (!canSend() && inFlight === 0) end();
          }
        }
      },
      close: (c) => {
        result.errors++;
        if (c.busy) {
          c.busy = false;
          inFlight--;
        }
        const i = idle.indexOf(c);
        if (i >= 0) idle.splice(i, 1);
        if (!ended && idle.length === 0 && inFlight === 0) end();
      },
    };

    // Paced mode ticks every millisecond; unthrottled mode only needs the first
    // push and a check for the deadline.
    const timer = setInterval(pump, opts.rate ? 1 : 20);
    if (idle.length === 0) end();
    else pump();
    // Never wait for stragglers longer than 5 s after the deadline.
    const guard = setTimeout(end, opts.durationMs + 5000);
    await done;
    clearTimeout(guard);
    return result;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.current = undefined;
    for (const c of this.conns) c.socket.destroy();
  }
}
