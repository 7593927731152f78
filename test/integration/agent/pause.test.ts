/**
 * Pausing and resuming measuring at run time: from code (`agent.pause()` /
 * `agent.resume()`), over HTTP with the token, and as a WebSocket command, on
 * real Express 4 and 5 apps. While paused, requests and custom timings are not
 * counted and the app's answers are unchanged; the snapshot and the stream say
 * so.
 */
import assert from 'node:assert/strict';
import type { AddressInfo, Server } from 'node:net';
import express from 'express';
import { createAgent } from '../../../agent';
import type { AgentMessage } from '../../../protocol';
import { type AgentApp, Client, closeAll, http, isType, jsonHeaders, startAgentApp, until } from '../server/helpers';

const express4 = require('express4') as typeof express;

const count = (app: AgentApp, id: string) => app.agent.snapshot().endpoints.find((e) => e.id === id)?.count ?? 0;

describe('pausing and resuming measuring', function () {
  this.timeout(20_000);
  afterEach(closeAll);

  it('agent.pause(): requests and custom timings are not counted; agent.resume(): they are again', async () => {
    const app = await startAgentApp();
    await app.traffic('GET', '/users/1', 2);
    app.agent.pause();
    assert.equal(app.agent.paused, true);
    assert.equal(app.agent.snapshot().paused, true);
    const answers: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await fetch(`http://127.0.0.1:${app.appPort}/users/${i}`);
      answers.push(r.status);
      assert.deepEqual(await r.json(), { id: String(i) }, 'the app answers as without the agent');
    }
    assert.deepEqual(answers, [200, 200, 200, 200, 200]);
    app.agent.record('job', 12);
    assert.equal(app.agent.time('job', () => 7), 7);
    app.agent.resume();
    assert.equal(app.agent.snapshot().paused, false);
    await app.traffic('GET', '/users/9', 1);
    assert.equal(count(app, 'GET /users/:id'), 3, 'only the requests made while measuring were counted');
    assert.equal(app.agent.stats('job'), undefined, 'no custom timing recorded while paused');
  });

  it('POST /v1/pause and /v1/resume with the token; without it 401 and nothing changes', async () => {
    const app = await startAgentApp();
    const refused = await http(app.port, 'POST', '/v1/pause', {});
    assert.equal(refused.status, 401);
    assert.equal(app.agent.paused, false);

    const paused = await http(app.port, 'POST', '/v1/pause', app.auth);
    assert.equal(paused.status, 200);
    assert.deepEqual(paused.json(), { paused: true });
    assert.equal((await http(app.port, 'GET', '/v1/snapshot', app.auth)).json().paused, true);
    for (let i = 0; i < 3; i++) await fetch(`http://127.0.0.1:${app.appPort}/users/${i}`).then((r) => r.text());

    assert.equal((await http(app.port, 'POST', '/v1/pause', jsonHeaders(app.auth), '{"x":1}')).status, 400, 'the route takes no body');
    const resumed = await http(app.port, 'POST', '/v1/resume', app.auth);
    assert.deepEqual(resumed.json(), { paused: false });
    await app.traffic('GET', '/users/1', 1);
    assert.equal(count(app, 'GET /users/:id'), 1);

    const viaCommand = await http(app.port, 'POST', '/v1/command', jsonHeaders(app.auth), JSON.stringify({ command: 'measuring.set', args: { paused: true } }));
    assert.deepEqual(viaCommand.json(), { paused: true });
    const bad = await http(app.port, 'POST', '/v1/command', jsonHeaders(app.auth), JSON.stringify({ command: 'measuring.set', args: { paused: 'yes' } }));
    assert.equal(bad.status, 400);
    assert.equal(bad.json().error.code, 'ERR_BAD_ARGS');
    assert.equal(app.agent.paused, true);
  });

  it('the stream: a delta carries paused when it changes, and the command answers on the socket', async () => {
    const app = await startAgentApp({ batchMs: 50 });
    const c = new Client(`ws://127.0.0.1:${app.port}/v1/stream`, app.auth);
    const first = await c.next(isType('snapshot'));
    assert.equal(first.snapshot.paused, false);
    const reply = await c.command(1, 'measuring.set', { paused: true });
    assert.deepEqual(reply.ok && reply.result, { paused: true });
    const isPauseDelta = (paused: boolean) => (m: AgentMessage): m is Extract<AgentMessage, { type: 'delta' }> => m.type === 'delta' && m.delta.paused === paused;
    await c.next(isPauseDelta(true));
    app.agent.resume();
    await c.next(isPauseDelta(false));
    c.ws.close();
  });

  for (const [name, mod] of [['Express 4', express4], ['Express 5', express]] as const) {
    it(`${name}: a middleware layer and the app's entry both pass requests on untouched while paused`, async () => {
      const agent = createAgent({ express: mod, server: false, discoveryDir: false, cache: false });
      const atEntry = mod();
      atEntry.use(agent.middleware());
      atEntry.get('/a', (_req, res) => void res.send('a'));
      const layered = mod();
      layered.use(express.json(), agent.middleware());
      layered.get('/b', (_req, res) => void res.send('b'));
      const servers: Server[] = [atEntry.listen(0, '127.0.0.1'), layered.listen(0, '127.0.0.1')];
      try {
        await Promise.all(servers.map((s) => new Promise((r) => s.once('listening', r))));
        const [pa, pb] = servers.map((s) => (s.address() as AddressInfo).port);
        const get = (port: number, path: string) => fetch(`http://127.0.0.1:${port}${path}`).then((r) => r.text());
        agent.pause();
        assert.deepEqual([await get(pa!, '/a'), await get(pb!, '/b')], ['a', 'b']);
        agent.resume();
        assert.deepEqual([await get(pa!, '/a'), await get(pb!, '/b')], ['a', 'b']);
        const counted = () => agent.snapshot().endpoints.filter((e) => e.count > 0).map((e) => [e.id, e.count]);
        await until(() => counted().length === 2);
        assert.deepEqual(counted().sort(), [['GET /a', 1], ['GET /b', 1]]);
      } finally {
        await agent.close();
        for (const s of servers) s.close();
      }
    });
  }
});
