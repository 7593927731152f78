/**
 * Canned "why is this route slow" data shaped like the agent's (protocol/spans.ts):
 * an N+1 trace, its breakdown and finding, and a tiny valid `.cpuprofile`. Shared by
 * the fake agent, the webview tests and the extension-host tests.
 */
import type { Breakdown, Finding, ProfileSummary, Trace } from '../../protocol/spans';
import type { SourceLocation } from '../../protocol/types';

const at = (file: string, line: number, column = 3): SourceLocation => ({ file, line, column });

/**
 * GET /orders/:id: auth middleware, the handler, one SELECT of the order then
 * 5 SELECTs of items one after another (the N+1), a Redis GET nested in the
 * handler, and a span with no location.
 */
export function n1Trace(file: string, over: Partial<Trace> = {}): Trace {
  const items = Array.from({ length: 5 }, (_, i) => ({ kind: 'db' as const, name: 'SELECT … FROM items WHERE order_id = ?', startMs: 20 + i * 12, durationMs: 10, location: at(file, 7, 5), parent: 1, source: 'pg' }));
  return {
    id: 't-1',
    requestId: 'req-4f2a',
    method: 'GET',
    route: '/orders/:id',
    endpoint: 'GET /orders/:id',
    status: 200,
    startedAt: 1_700_000_000_000,
    durationMs: 100,
    spans: [
      { kind: 'middleware', name: 'auth', startMs: 0, durationMs: 4, location: at(file, 2, 1) },
      { kind: 'handler', name: 'getOrder', startMs: 5, durationMs: 90, location: at(file, 5, 1) },
      { kind: 'db', name: 'SELECT … FROM orders WHERE id = ?', startMs: 6, durationMs: 12, location: at(file, 6, 5), parent: 1, source: 'pg' },
      ...items,
      { kind: 'redis', name: 'GET orders:?', startMs: 82, durationMs: 8, location: at(file, 9, 5), parent: 1, source: 'ioredis' },
      { kind: 'custom', name: 'render', startMs: 91, durationMs: 3, parent: 1 },
    ],
    droppedSpans: 0,
    kept: 'slowest',
    ...over,
  };
}

export function n1Breakdown(file: string, endpoint = 'GET /orders/:id', over: Partial<Breakdown> = {}): Breakdown {
  return {
    endpoint,
    window: '5m',
    traced: 40,
    requests: 400,
    sampled: true,
    kinds: [
      { kind: 'db', share: 0.61, meanMs: 61 },
      { kind: 'own', share: 0.2, meanMs: 20 },
      { kind: 'redis', share: 0.08, meanMs: 8 },
      { kind: 'middleware', share: 0.04, meanMs: 4 },
      { kind: 'custom', share: 0.07, meanMs: 7 },
    ],
    top: [
      { kind: 'db', name: 'SELECT … FROM items WHERE order_id = ?', location: at(file, 7, 5), perRequest: 15, meanMs: 50, share: 0.5 },
      { kind: 'db', name: 'SELECT … FROM orders WHERE id = ?', location: at(file, 6, 5), perRequest: 1, meanMs: 11, share: 0.11 },
      { kind: 'redis', name: 'GET orders:?', location: at(file, 9, 5), perRequest: 1, meanMs: 8, share: 0.08 },
    ],
    ...over,
  };
}

export function n1Finding(file: string, over: Partial<Finding> = {}): Finding {
  return {
    id: 'n-plus-one:GET /orders/:id:7',
    kind: 'n-plus-one',
    severity: 'warning',
    endpoint: 'GET /orders/:id',
    message: 'SELECT … FROM items WHERE order_id = ? ran 15× in one request (61 % of GET /orders/:id)',
    recommendation: 'load the items in one query (WHERE order_id = ANY(?)) or batch them',
    location: at(file, 7, 5),
    evidence: { perRequest: 15, operation: 'SELECT … FROM items WHERE order_id = ?', share: 0.61 },
    requestIds: ['req-4f2a'],
    firstSeen: 1_700_000_000_000,
    lastSeen: 1_700_000_060_000,
    occurrences: 12,
    ...over,
  };
}

/** A tiny valid V8 CPU profile: (root) → getOrder → loadItems, 10 samples. */
export function tinyCpuProfile(fileUrl: string): object {
  const frame = (id: number, functionName: string, lineNumber: number) => ({ id, callFrame: { functionName, scriptId: String(id), url: id === 1 ? '' : fileUrl, lineNumber, columnNumber: id === 1 ? -1 : 2 }, hitCount: 0 });
  return {
    nodes: [
      { ...frame(1, '(root)', -1), children: [2] },
      { ...frame(2, 'getOrder', 4), hitCount: 3, children: [3] },
      { ...frame(3, 'loadItems', 6), hitCount: 7 },
    ],
    startTime: 0,
    endTime: 10_000,
    samples: [2, 3, 3, 2, 3, 3, 3, 2, 3, 3],
    timeDeltas: Array.from({ length: 10 }, () => 1000),
  };
}

export function profileSummary(endpoint: string, file: string, written: string, seconds: number): ProfileSummary {
  return {
    endpoint,
    seconds,
    file: written,
    samples: 120,
    kept: 10,
    requests: 9,
    top: [
      { functionName: 'loadItems', location: at(file, 7, 3), selfMs: 7, share: 0.7 },
      { functionName: 'getOrder', location: at(file, 5, 3), selfMs: 3, share: 0.3 },
    ],
  };
}
