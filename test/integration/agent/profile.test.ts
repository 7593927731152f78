/**
 * "Profile this route" on a real agent and Express app: two routes burn CPU in
 * distinct handler functions under load while route A is profiled; the written
 * .cpuprofile holds A's frames and not B's, and has the standard shape.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { createAgent } from '../../../agent';
import type { ProfileSummary } from '../../../protocol';
import { http, jsonHeaders, type ServedApp, serveAgentApp } from '../server/helpers';

function spin(ms: number): number {
  let x = 0;
  const until = performance.now() + ms;
  while (performance.now() < until) x += Math.sqrt(x + 1);
  return x;
}

function burnAlpha(req: express.Request, res: express.Response): void {
  res.json({ route: 'alpha', x: spin(4) });
}

function burnBeta(req: express.Request, res: express.Response): void {
  res.json({ route: 'beta', x: spin(4) });
}

interface CpuProfileFile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount: number; children: number[] }>;
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

describe('route profiles on a real agent and Express app', function () {
  this.timeout(30_000);
  let served: ServedApp;
  let base: string;
  let port: number;
  let auth: Record<string, string>;
  let workspace: string;
  const cwd = process.cwd();

  before(async () => {
    workspace = mkdtempSync(join(tmpdir(), 'routelens-profile-'));
    process.chdir(workspace);
    const agent = createAgent({ express, discoveryDir: false, cache: false });
    const app = express();
    app.use(agent.middleware());
    app.get('/alpha', burnAlpha);
    app.get('/beta', burnBeta);
    served = await serveAgentApp(agent, app);
    ({ base, port, auth } = served);
    // A request each, so the routes' handlers are located before profiling.
    await fetch(`${base}/alpha`).then((r) => r.arrayBuffer());
    await fetch(`${base}/beta`).then((r) => r.arrayBuffer());
  });

  after(async () => {
    process.chdir(cwd);
    await served?.close();
    rmSync(workspace, { recursive: true, force: true });
  });

  /** Requests to both routes, two at a time, until `stop` says so. */
  async function load(stop: () => boolean): Promise<number> {
    let n = 0;
    const worker = async (path: string) => {
      while (!stop()) {
        await fetch(base + path).then((r) => r.arrayBuffer());
        n++;
      }
    };
    await Promise.all([worker('/alpha'), worker('/beta')]);
    return n;
  }

  it("keeps route A's handler frames and not route B's, writes a standard .cpuprofile in the workspace, and refuses a second profile meanwhile", async () => {
    let done = false;
    const profiling = http(port, 'POST', '/v1/profile', jsonHeaders(auth), JSON.stringify({ endpoint: 'GET /alpha', seconds: 2 })).finally(() => (done = true));
    await new Promise((r) => setTimeout(r, 200));
    const second = await http(port, 'POST', '/v1/profile', jsonHeaders(auth), JSON.stringify({ endpoint: 'GET /beta', seconds: 1 }));
    assert.equal(second.status, 503);
    assert.deepEqual(second.json().error, { code: 'ERR_UNAVAILABLE', message: 'a profile is already running' });
    const sent = await load(() => done);
    const reply = await profiling;
    assert.equal(reply.status, 200, reply.body);
    const summary = reply.json() as ProfileSummary;
    assert.ok(sent > 20, `${sent} requests under load`);
    assert.equal(summary.endpoint, 'GET /alpha');
    assert.equal(summary.seconds, 2);
    assert.ok(summary.requests > 5, `${summary.requests} requests of the route while profiling`);
    assert.ok(summary.kept > 0 && summary.kept < summary.samples, `${summary.kept} of ${summary.samples} samples kept`);
    assert.ok(summary.file.startsWith(join(workspace, '.routelens', 'profiles')), summary.file);
    assert.match(summary.file, /GET_alpha-.*\.cpuprofile$/);
    const names = summary.top.map((f) => f.functionName);
    assert.ok(names.includes('spin') || names.includes('burnAlpha'), names.join(', '));
    assert.ok(!names.includes('burnBeta'));

    const profile = JSON.parse(readFileSync(summary.file, 'utf8')) as CpuProfileFile;
    assert.ok(Array.isArray(profile.nodes) && profile.nodes.length > 0);
    assert.equal(typeof profile.startTime, 'number');
    assert.ok(profile.endTime >= profile.startTime);
    assert.equal(profile.samples.length, summary.kept);
    assert.equal(profile.timeDeltas.length, profile.samples.length);
    const ids = new Set(profile.nodes.map((n) => n.id));
    assert.ok(profile.samples.every((id) => ids.has(id)), 'every sample is a node');
    assert.ok(profile.nodes.every((n) => n.children.every((c) => ids.has(c))), 'every child is a node');
    assert.equal(profile.nodes.reduce((sum, n) => sum + n.hitCount, 0), profile.samples.length, 'hit counts are the kept samples');
    const functions = new Set(profile.nodes.map((n) => n.callFrame.functionName));
    assert.ok(functions.has('burnAlpha'), [...functions].join(', '));
    assert.ok(!functions.has('burnBeta'), 'route B is not in route A\'s profile');
  });

  it('an unknown endpoint is ERR_NOT_FOUND', async () => {
    const reply = await http(port, 'POST', '/v1/profile', jsonHeaders(auth), JSON.stringify({ endpoint: 'GET /nowhere', seconds: 1 }));
    assert.equal(reply.status, 404);
    assert.equal(reply.json().error.code, 'ERR_NOT_FOUND');
  });
});
