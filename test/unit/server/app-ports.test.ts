import assert from 'node:assert/strict';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { appPorts, appPortsField, markAgentServer } from '../../../agent/server/app-ports';

const listen = (s: Server) => new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
const close = (s: Server) => new Promise<void>((resolve) => s.close(() => resolve()));

describe('appPorts (the ports the app listens on, in the agent info)', () => {
  it("lists the app's listening servers, not an agent's own server, not closed ones", async () => {
    const app = createServer();
    const agentServer = createServer();
    markAgentServer(agentServer);
    const appPort = await listen(app);
    const agentPort = await listen(agentServer);
    try {
      const ports = appPorts(undefined);
      assert.ok(ports.includes(appPort));
      assert.ok(!ports.includes(agentPort));
      assert.ok(!appPorts(appPort).includes(appPort), 'the port passed as the agent port is left out');
    } finally {
      await close(app);
      await close(agentServer);
    }
    assert.ok(!appPorts(undefined).includes(appPort));
  });

  it('appPortsField is empty rather than an empty list', () => {
    const f = appPortsField(undefined);
    assert.ok(f.appPorts === undefined || f.appPorts.length > 0);
  });
});
