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

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  if (opts.requests.length === 0) throw new Error('no requests');
  const result: LoadResult = { elapsedMs: 0, sent: 0, responses: 0, errors: 0, statuses: {}, latencies: {}, queued: 0 };
  for (const r of opts.requests) result.latencies[r.group] ??= [];
  const maxRequests = opts.maxRequests ?? Number.MAX_SAFE_INTEGER;
  let next = 0; // index into the plan, also the count sent
  let ended = false;
  const start = performance.now();
  const deadline = start + opts.durationMs;

  interface Conn {
    socket: net.Socket;
    busy: boolean;
    buf: Buffer;
    sentAt: number;
    group: string;
  }
  const idle: Conn[] = [];
  const conns: Conn[] = [];
  let inFlight = 0;
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));

  const canSend = () => !ended && next < maxRequests && performance.now() < deadline;
  const due = () => (opts.rate ? Math.floor(((performance.now() - start) / 1000) * opts.rate) + 1 : Number.MAX_SAFE_INTEGER);

  const send = (c: Conn) => {
    const req = opts.requests[next % opts.requests.length]!;
    next++;
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
    while (next < limit && idle.length > 0 && canSend()) send(idle.pop()!);
    if (opts.rate && next < limit && idle.length === 0) result.queued++;
  };

  let timer: NodeJS.Timeout | undefined;
  const end = () => {
    if (ended) return;
    ended = true;
    if (timer) clearInterval(timer);
    for (const c of conns) c.socket.destroy();
    result.elapsedMs = performance.now() - start;
    result.sent = next;
    finish();
  };

  const onData = (c: Conn, chunk: Buffer) => {
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
      if (canSend() && next < due()) send(c);
      else {
        idle.push(c);
        if (!canSend() && inFlight === 0) end();
      }
    }
  };

  await Promise.all(
    Array.from({ length: opts.connections }, async () => {
      const socket = net.connect(opts.port, '127.0.0.1');
      socket.setNoDelay(true);
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      });
      const c: Conn = { socket, busy: false, buf: Buffer.alloc(0), sentAt: 0, group: '' };
      socket.on('data', (chunk: Buffer) => onData(c, chunk));
      socket.on('error', () => {
        result.errors++;
      });
      socket.on('close', () => {
        if (c.busy) {
          c.busy = false;
          inFlight--;
          result.errors++;
        }
        const i = idle.indexOf(c);
        if (i >= 0) idle.splice(i, 1);
        if (!ended && idle.length === 0 && inFlight === 0) end();
      });
      conns.push(c);
      idle.push(c);
    }),
  );

  // Paced mode ticks every millisecond; unthrottled mode only needs the first
  // push and a check for the deadline.
  timer = setInterval(pump, opts.rate ? 1 : 20);
  pump();
  // Never wait for stragglers longer than 5 s after the deadline.
  const guard = setTimeout(() => {
    inFlight = 0;
    end();
  }, opts.durationMs + 5000);
  await done;
  clearTimeout(guard);
  return result;
}
