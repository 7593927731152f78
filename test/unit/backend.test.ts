/**
 * The back end (agent/backend.ts) with a front whose parts arrive late, as they do in the agent's
 * worker: the app's thread reports its findings engine with its first report, which can come
 * after an editor connected.
 */
import assert from 'node:assert/strict';
import { DEFAULT_THRESHOLDS } from '../../agent/alerts/thresholds';
import { Backend, type BackendOptions, type FrontView } from '../../agent/backend';
import type { AgentHost } from '../../agent/internal';
import { Diagnostics } from '../../agent/log';
import { type Finding, PROTOCOL_VERSION } from '../../protocol';

const OPTIONS: BackendOptions = {
  name: 'test',
  version: '0.0.0',
  maxEndpoints: 100,
  thresholds: DEFAULT_THRESHOLDS,
  evaluateMs: 60_000,
  systemMs: 60_000,
  slowLog: false,
  history: false,
  spans: false,
  server: false,
};

const FINDING: Finding = {
  id: 'f1',
  kind: 'n-plus-one',
  severity: 'warning',
  endpoint: 'GET /orders/:id',
  message: 'SELECT … ran 15× in one request',
  recommendation: 'batch them',
  location: { file: '/app/orders.js', line: 20, column: 5 },
  evidence: { count: 15 },
  requestIds: [],
  firstSeen: 1,
  lastSeen: 1,
  occurrences: 1,
};

function front(): FrontView {
  return {
    info: () => ({ name: 'test', version: '0.0.0', pid: process.pid, protocolVersion: PROTOCOL_VERSION, startedAt: 0, node: process.version, appPorts: [] }) as unknown as ReturnType<FrontView['info']>,
    cache: undefined,
    rateLimits: { list: () => [], revision: () => 0 },
    findings: undefined,
    paused: () => false,
    execute: () => Promise.resolve(undefined),
  };
}

describe('the back end', () => {
  it('a stream opened before the app’s findings exist carries them from the first delta after one is found, and from then on every change', async () => {
    const f = front();
    const backend = new Backend(OPTIONS, f, new Diagnostics(undefined, () => {}));
    try {
      const next = (backend as unknown as { host(): AgentHost }).host().openFeed();
      next();
      // They appear with nothing found yet: nothing to tell the client (no findings, as before).
      let list: Finding[] = [];
      let revision = 1;
      f.findings = { list: () => list, revision: () => revision, slowQueries: () => [] };
      assert.equal(next()?.findings, undefined);
      list = [FINDING];
      revision = 2;
      assert.deepEqual(next()?.findings, [FINDING]);
      // Once the client has them, their going away is news too.
      list = [];
      revision = 3;
      assert.deepEqual(next()?.findings, []);
    } finally {
      await backend.close();
    }
  });
});
