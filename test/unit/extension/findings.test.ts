import assert from 'node:assert/strict';
import type { CommandName, HostToWebview, SourceLocation } from '../../../protocol';
import { byEndpoint, diagnosticMessage, findingTitle, shortLocation } from '../../../extension/core/findings';
import { ReportedLocations } from '../../../extension/dashboard/locations';
import { DashboardRouter } from '../../../extension/dashboard/router';
import { secondsError } from '../../../extension/core/profile';
import { n1Breakdown, n1Finding, n1Trace } from '../../support/why-fixtures';

const FILE = '/srv/app/routes/orders.js';

describe('extension findings text (lens, Problems panel)', () => {
  it('findingTitle reads count and operation from the evidence: "⚠ N+1: 15× SELECT … FROM items"', () => {
    assert.equal(findingTitle(n1Finding(FILE)), '⚠ N+1: 15× SELECT … FROM items WHERE order_id = ?');
    // A long statement is cut at WHERE, then to the lens's length.
    const long = n1Finding(FILE, { evidence: { count: 15, query: `SELECT ${'col, '.repeat(12)}x FROM items WHERE order_id = ?` } });
    const t = findingTitle(long);
    assert.ok(t.length <= 64, t);
    assert.match(t, /^⚠ N\+1: 15× SELECT col, /);
    assert.doesNotMatch(t, /WHERE/);
  });

  it('findingTitle falls back to the message, marks info findings differently, and defuses hostile text', () => {
    const info = n1Finding(FILE, { kind: 'sequential-awaits', severity: 'info', evidence: {}, message: 'getUser and getCart may run together (saves ~40 ms)' });
    assert.equal(findingTitle(info), 'ⓘ Sequential awaits: getUser and getCart may run together (save…');
    assert.equal(findingTitle(info, 100), 'ⓘ Sequential awaits: getUser and getCart may run together (saves ~40 ms)');
    const hostile = n1Finding(FILE, { evidence: { operation: 'SELECT $(zap) \u202Egnp.exe\n x' } });
    const title = findingTitle(hostile);
    assert.doesNotMatch(title, /\$\(zap\)|\u202E|\n/);
  });

  it('diagnosticMessage says what was seen, then what to try (one period, agent named when asked)', () => {
    assert.equal(
      diagnosticMessage(n1Finding(FILE, { message: 'ran 15× in one request.' }), 'shop'),
      'ran 15× in one request. Try: load the items in one query (WHERE order_id = ANY(?)) or batch them (shop)',
    );
  });

  it('byEndpoint groups by endpoint, warnings first then by occurrences', () => {
    const a = n1Finding(FILE, { id: 'a', severity: 'info', occurrences: 50 });
    const b = n1Finding(FILE, { id: 'b', severity: 'warning', occurrences: 2 });
    const c = n1Finding(FILE, { id: 'c', severity: 'warning', occurrences: 9 });
    const d = n1Finding(FILE, { id: 'd', endpoint: 'GET /users' });
    const g = byEndpoint([a, b, c, d]);
    assert.deepEqual([...g.keys()], ['GET /orders/:id', 'GET /users']);
    assert.deepEqual(g.get('GET /orders/:id')!.map((f) => f.id), ['c', 'b', 'a']);
    assert.equal(shortLocation({ file: FILE, line: 7, column: 5 }), 'routes/orders.js:7');
  });
});

describe('extension ReportedLocations and the dashboard\'s openLocation', () => {
  it('remembers the locations of forwarded traces and breakdowns, bounded, oldest forgotten first', () => {
    const r = new ReportedLocations(6);
    r.addFromReply('traces.list', { traces: [n1Trace(FILE)] });
    assert.ok(r.has({ file: FILE, line: 7, column: 5 }));
    assert.ok(r.has({ file: FILE, line: 2, column: 1 }));
    assert.equal(r.has({ file: FILE, line: 7, column: 6 }), false);
    r.addFromReply('endpoint.breakdown', n1Breakdown('/other.js'));
    assert.equal(r.size, 6);
    assert.equal(r.has({ file: FILE, line: 2, column: 1 }), false, 'oldest forgotten');
    assert.equal(r.has({ file: FILE, line: 5, column: 1 }), false, 'oldest forgotten');
    assert.ok(r.has({ file: FILE, line: 6, column: 5 }));
    assert.ok(r.has({ file: '/other.js', line: 9, column: 5 }));
    r.addFromReply('cache.keys', { top: [{ location: { file: '/x', line: 1, column: 1 } }] });
    assert.equal(r.has({ file: '/x', line: 1, column: 1 }), false, 'only traces and breakdowns are read');
  });

  it('openLocation opens only a location the agent reported (a forwarded reply or a known one); anything else is refused', async () => {
    const opened: SourceLocation[] = [];
    const posted: HostToWebview[] = [];
    const known = { file: '/srv/app/finding.js', line: 3, column: 1 };
    const router = new DashboardRouter({
      post: (m) => posted.push(m),
      request: async (command: CommandName) => (command === 'traces.list' ? { traces: [n1Trace(FILE)] } : {}),
      endpointLocation: () => undefined,
      openLocation: (l) => opened.push(l),
      knownLocation: (l) => l.file === known.file && l.line === known.line,
      selectAgent: () => false,
      ready: () => undefined,
      log: () => undefined,
    });
    await router.receive({ type: 'ready' });
    await router.receive({ type: 'openLocation', location: { file: FILE, line: 7, column: 5 } });
    assert.equal(opened.length, 0, 'not reported yet');
    await router.receive({ type: 'command', id: 1, command: 'traces.list', args: { endpoint: 'GET /orders/:id' } });
    await router.receive({ type: 'openLocation', location: { file: FILE, line: 7, column: 5 } });
    await router.receive({ type: 'openLocation', location: known });
    await router.receive({ type: 'openLocation', location: { file: '/etc/passwd', line: 1, column: 1 } });
    await router.receive({ type: 'openLocation', location: { file: FILE, line: 7, column: 5, extra: 1 } });
    await router.receive({ type: 'openLocation', location: { file: FILE, line: -1, column: 5 } });
    assert.deepEqual(opened, [{ file: FILE, line: 7, column: 5 }, known]);
    assert.equal(router.stats.rejected, 4);
  });
});

describe('extension profileRoute seconds', () => {
  it('accepts 1..120 seconds and refuses anything else', () => {
    assert.equal(secondsError('10'), undefined);
    assert.equal(secondsError(' 1 '), undefined);
    assert.equal(secondsError('120'), undefined);
    for (const bad of ['', '0', '121', 'ten', '-5', 'NaN']) assert.ok(secondsError(bad), bad);
  });
});
