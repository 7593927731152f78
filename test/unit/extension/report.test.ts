import assert from 'node:assert/strict';
import type { Snapshot } from '../../../protocol';
import { reportBaseName, reportJson, reportMarkdown } from '../../../extension/core/report';
import { endpoint } from './helpers';

function snapshot(): Snapshot {
  return {
    protocolVersion: 1,
    agent: { name: 'shop/../api', pid: 42, version: '1.0.0', protocolVersion: 1, cwd: '/app', startedAt: 0, features: [] },
    time: 0,
    endpoints: [
      endpoint({ id: 'GET /few', route: '/few', count: 12, p95: 5000, statusCodes: { '2xx': 12 } }),
      endpoint({ statusCodes: { '2xx': 1000, '4xx': 229, '5xx': 5 } }),
      endpoint({ id: 'POST /x|<script>', method: 'POST', route: '/x|<script>', count: 0, errors: 0 }),
    ],
    system: { pid: 42, nodeVersion: 'v20', uptime: 10, rss: 1e8, heapUsed: 5e7, heapTotal: 6e7, heapLimit: 2e9, external: 0, cpuPercent: 3, eventLoop: { delayP50: 1, delayP99: 4, delayMax: 9, utilization: 0.1 }, gc: { count: 0, pauseTotal: 0, pauseMax: 0 }, requestsPerSecond: 17, errorRate: 0.01, time: 0 },
    alerts: [{ id: 'a', rule: 'route-p95', target: 'GET /users/:id', severity: 'warning', state: 'firing', message: 'slow | `code` <b>', value: 1, threshold: 1, firedAt: 0 }],
    alertHistory: [],
    thresholds: { p95Ms: 500, errorRate: 0.05, heapPercent: 0.9, eventLoopDelayMs: 100, cacheHitRate: 0.5, rateLimitedShare: 0.2, anomalyFactor: 3, avgMs: 1000, slowPerMinute: 10, slowMs: { info: 200, warning: 500, critical: 1000 }, slowQueryMs: 1000, cpuPercent: 90, errorSpikeFactor: 3, memoryGrowthFactor: 1.5 },
    health: { score: 70, status: 'degraded', reasons: ['slow'] },
    slowRequests: [{ requestId: 'r', method: 'GET', route: '/users/:id', path: '/users/1', status: 200, duration: 900, time: 0, severity: 'warning' }],
    rateLimits: [],
    droppedEndpoints: 0,
  };
}

describe('extension report export', () => {
  it('JSON round-trips the snapshot with metadata', () => {
    const parsed = JSON.parse(reportJson(snapshot(), { generatedAt: 'now', extensionVersion: '0.1.0' }));
    assert.equal(parsed.routelensReport, 1);
    assert.equal(parsed.snapshot.endpoints.length, 3);
  });

  it('opens with the executive summary (JSON and Markdown)', () => {
    const meta = { generatedAt: '2030-01-01T00:00:00.000Z', extensionVersion: '0.1.0' };
    const parsed = JSON.parse(reportJson(snapshot(), meta));
    assert.equal(parsed.summary.routelensSummary, 1);
    assert.equal(parsed.summary.generatedAt, meta.generatedAt);
    assert.equal(parsed.summary.status, 'degraded');
    assert.equal(parsed.summary.metrics.errorRatePercent, 1);
    const md = reportMarkdown(snapshot(), meta);
    assert.ok(md.indexOf('## Executive summary: shop/\\.\\./api') < md.indexOf('## System'));
    assert.match(md, /^### Recommendations$/m);
  });

  it('Markdown has the sections and escapes untrusted text (no raw HTML, no broken tables)', () => {
    const md = reportMarkdown(snapshot(), { generatedAt: 'now', extensionVersion: '0.1.0' });
    assert.match(md, /^# RouteLens report: shop\/\\\.\\\.\/api/m);
    assert.match(md, /\| GET \/users\/:id \| 1\.2k \| 2\/s \| 18 ms \| 42 ms \| 80 ms \| 120 ms \| 0\.4% \| 19% \|/);
    assert.ok(!md.includes('<script>') && !md.includes('<b>'));
    const row = md.slice(md.indexOf('## Endpoints')).split('\n').find((l) => l.startsWith('| POST'));
    assert.equal(row?.replace(/\\\|/g, '').split('|').length, 11, 'an escaped | does not add a column');
    assert.match(md, /POST \/x\\\|\\<script\\>/);
    assert.match(md, /## Slowest recent requests/);
  });

  it('percentiles follow the lens and dashboard rule; the windows are named; the slowest shown p95 comes first', () => {
    const md = reportMarkdown(snapshot(), { generatedAt: 'now', extensionVersion: '0.1.0' });
    // 12 requests: p50 shown, p95 and p99 are dashes (a 5 s p95 from 12 requests does not rank it first).
    assert.ok(md.includes('| GET /few | 12 | 2/s | 18 ms | — | — | 120 ms | 42% | 0% |'), md);
    const rows = md.slice(md.indexOf('## Endpoints')).split('\n').filter((l) => /^\| (GET|POST) /.test(l)).map((l) => l.split(' | ')[0]);
    assert.deepEqual(rows, ['| GET /users/:id', '| GET /few', '| POST /x\\|\\<script\\>']);
    assert.match(md, /p50 needs 5, p95 20, p99 100/);
    assert.match(md, /\| requests\/s \(last minute\) \| 17\/s \|/);
    assert.match(md, /Since start \(or the last reset\), except req\/s \(last minute\)/);
  });

  it('file names are safe', () => {
    assert.equal(reportBaseName(snapshot(), new Date(0)), 'routelens-shop-.-api-1970-01-01T00-00-00-000Z');
  });
});
