/**
 * What the agent does on the host's request path, per request, checked deterministically (CI
 * cannot time anything reliably): it writes no property on `req`/`res` (their own keys are those
 * of the same app with measuring paused) and adds no listener per request (the connection's, the
 * response's and the server's listener counts stay flat over thousands of requests on one
 * connection), schedules no immediate per request (each would cost the event loop a turn of its
 * own), and every request is counted. (That recording allocates nothing is
 * test/unit/metrics/recording.test.ts.)
 */
import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { type Agent, createAgent } from '../../../agent';

/** Sends `total` pipelined GETs of `path` over `connections` keep-alive connections; resolves when every answer is in. */
async function drive(port: number, path: string, total: number, connections = 4, batch = 4): Promise<void> {
  const request = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  const chunk = Buffer.concat(Array.from({ length: batch }, () => request));
  const per = Math.ceil(total / connections);
  await Promise.all(
    Array.from(
      { length: connections },
      () =>
        new Promise<void>((resolve, reject) => {
          const socket = connect(port, '127.0.0.1');
          let sent = 0;
          let answered = 0;
          let carry = '';
          const sendBatch = () => {
            const n = Math.min(batch, per - sent);
            sent += n;
            socket.write(n === batch ? chunk : Buffer.concat(Array.from({ length: n }, () => request)));
          };
          socket.on('connect', sendBatch);
          socket.on('error', reject);
          socket.on('data', (data: Buffer) => {
            const text = carry + data.toString('latin1');
            let i = text.indexOf('HTTP/1.1 ');
            while (i >= 0) {
              answered++;
              i = text.indexOf('HTTP/1.1 ', i + 9);
            }
            carry = text.slice(-8);
            if (answered === per) {
              socket.end();
              resolve();
            } else if (answered === sent) sendBatch();
          });
        }),
    ),
  );
}

async function listen(app: express.Express): Promise<{ server: Server; port: number }> {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { server, port: (server.address() as AddressInfo).port };
}

describe('the request path (what the host pays per request)', function () {
  this.timeout(60_000);
  let agent: Agent;
  let server: Server;
  let port: number;
  /** Own keys of req and res and listener counts, as the route handler sees them. */
  let seen: { req: Array<string | symbol>; res: Array<string | symbol>; socket: Record<string, number>; res_: Record<string, number>; server: Record<string, number> } | undefined;

  const counts = (emitter: NodeJS.EventEmitter): Record<string, number> => Object.fromEntries(emitter.eventNames().map((e) => [String(e), emitter.listenerCount(e)]));

  before(async () => {
    agent = createAgent({ express, server: false, discoveryDir: false });
    const app = express();
    app.set('etag', false);
    app.use(agent.middleware());
    app.get('/users/:id', (req, res) => {
      seen = { req: Reflect.ownKeys(req), res: Reflect.ownKeys(res), socket: counts(req.socket), res_: counts(res), server: counts(server) };
      res.end('ok');
    });
    ({ server, port } = await listen(app));
    await drive(port, '/users/1', 2_000);
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await agent.close();
  });

  it('writes no property on req or res, and adds no listener per request', async () => {
    seen = undefined;
    await drive(port, '/users/2', 10, 1, 1);
    const early = seen!;
    await drive(port, '/users/3', 5_000, 1);
    const late = seen!;
    // The connection is new per drive() call: compare the last request of two single-connection runs.
    assert.deepEqual(late.socket, early.socket, "the connection's listeners");
    assert.deepEqual(late.res_, early.res_, "the response's listeners");
    assert.deepEqual(late.server, early.server, "the server's listeners");

    agent.pause();
    try {
      await drive(port, '/users/4', 10, 1, 1);
    } finally {
      agent.resume();
    }
    const paused = seen!;
    assert.equal(agent.stats('GET /users/:id')?.count, 2_000 + 10 + 5_000, 'every measured request counted, none while paused');
    assert.deepEqual(late.req, paused.req, "req's own keys are those of the same app with measuring paused");
    assert.deepEqual(late.res, paused.res, "res's own keys are those of the same app with measuring paused");
  });

  it('schedules no immediate per request', async () => {
    /** Immediates created while 2,000 requests are answered over one connection. */
    const immediates = async (): Promise<number> => {
      let n = 0;
      const hook = createHook({
        init(_id, type) {
          if (type === 'Immediate') n++;
        },
      }).enable();
      try {
        await drive(port, '/users/5', 2_000, 1);
      } finally {
        hook.disable();
      }
      return n;
    };
    const measured = await immediates();
    agent.pause();
    let paused: number;
    try {
      paused = await immediates();
    } finally {
      agent.resume();
    }
    assert.ok(measured <= paused + 20, `${measured} immediates over 2,000 measured requests, ${paused} with measuring paused`);
  });
});
