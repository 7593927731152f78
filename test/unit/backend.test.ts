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
  it('a stream opened before the app’s findings exist carries them in its next delta once they appear', async () => {
    const f = front();
    const backend = new Backend(OPTIONS, f, new Diagnostics(undefined, () => {}));
    try {
      const next = (backend as unknown as { host(): AgentHost }).host().openFeed();
      next();
      f.findings = { list: () => [FINDING], revision: () => 1, slowQueries: () => [] };
      assert.deepEqual(next()?.findings, [FINDING]);
    } finally {
      await backend.close();
    }
  });
});
