/**
 * A measured request's duration is its server's own span, per request: from Node's
 * `http.server.request.start` to its `http.server.response.finish`, however the request reaches
 * the middleware. Each request's duration must lie between the spans read by a subscriber before
 * the agent's and one after (test/support/server-span.ts), which holds exactly, under any load,
 * when the agent reads its clock at the two channels; a start taken anywhere else (the
 * middleware's first sight) falls outside by the time in between.
 *
 * The orderings: requests one after another on a keep-alive connection; pipelined requests (a
 * client's requests announced back to back on one connection before the app has answered the
 * first), at the app's entry, through a server listener that calls the app later, and behind a
 * middleware that defers the measuring middleware or blocks the event loop first. The traffic
 * runs in a child process of its own (this file run as a script), where the readers' order
 * around the agent's subscribers is known.
 */
import assert from 'node:assert/strict';
import { type IncomingMessage, type RequestListener, createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { isMainThread } from 'node:worker_threads';
import type { Express, NextFunction, Request, Response, Router } from 'express';
import { instrumentExpress } from '../../../agent/express/instrument';
import { createMiddleware } from '../../../agent/express/middleware';
import { Diagnostics, silentLogger } from '../../../agent/log';
import { type SpanBounds, SpanReader, bracket, runChild } from '../../support/server-span';
import { type MemoryRecorder, memoryRecorder, versions } from './support';

type ExpressModule = { (): Express; Router(): Router };

/** How long a deferring listener or middleware holds a request before the measuring middleware sees it (ms). */
const DEFER_MS = 20;
/** Handler times of the requests sent together: the first is the slowest, so the others queue behind it. */
const HANDLER_MS = [30, 5, 15, 1];

const SCENARIOS = {
  'keep-alive, one after another, at the app’s entry': { pipelined: false, app: atEntry },
  'pipelined, at the app’s entry': { pipelined: true, app: atEntry },
  'pipelined, through a server listener that calls the app later': { pipelined: true, app: listenerDefers },
  'pipelined, behind a middleware that defers the measuring one': { pipelined: true, app: behindAsync },
  'pipelined, behind a middleware that blocks the event loop first': { pipelined: true, app: behindBlocking },
  'keep-alive, behind a middleware that defers the measuring one': { pipelined: false, app: behindAsync },
} satisfies Record<string, { pipelined: boolean; app: (express: ExpressModule, mw: ReturnType<typeof createMiddleware>) => RequestListener }>;
type Scenario = keyof typeof SCENARIOS;

interface Measured {
  id: string;
  duration: number;
  span: SpanBounds | undefined;
}
type Report = Record<string, Measured[]>;

const handler = (req: Request, res: Response): void => void setTimeout(() => res.send('ok'), Number(req.params.ms));

function atEntry(express: ExpressModule, mw: ReturnType<typeof createMiddleware>): RequestListener {
  const app = express();
  app.use(mw);
  app.get('/w/:ms', handler);
  return app as unknown as RequestListener;
}

function listenerDefers(express: ExpressModule, mw: ReturnType<typeof createMiddleware>): RequestListener {
  const app = atEntry(express, mw);
  return (req, res) => void setTimeout(() => app(req, res), DEFER_MS);
}

function behind(express: ExpressModule, mw: ReturnType<typeof createMiddleware>, first: (next: NextFunction) => void): RequestListener {
  const app = express();
  const router = express.Router();
  router.use((_req: Request, _res: Response, next: NextFunction) => first(next));
  router.use(mw);
  router.get('/w/:ms', handler);
  app.use(router);
  return app as unknown as RequestListener;
}

function behindAsync(express: ExpressModule, mw: ReturnType<typeof createMiddleware>): RequestListener {
  return behind(express, mw, (next) => void setTimeout(next, DEFER_MS));
}

function behindBlocking(express: ExpressModule, mw: ReturnType<typeof createMiddleware>): RequestListener {
  return behind(express, mw, (next) => {
    const end = performance.now() + DEFER_MS;
    while (performance.now() < end);
    next();
  });
}

/** Sends HANDLER_MS's requests on one connection, all at once (pipelined) or each after the previous answer. */
async function drive(port: number, ids: string[], pipelined: boolean): Promise<void> {
  const text = (i: number) => `GET /w/${HANDLER_MS[i]} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-request-id: ${ids[i]}\r\n\r\n`;
  await new Promise<void>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let sent = 0;
    let answered = 0;
    socket.on('error', reject);
    socket.on('connect', () => {
      if (pipelined) socket.write(ids.map((_, i) => text(i)).join(''));
      else socket.write(text(0));
      sent = pipelined ? ids.length : 1;
    });
    socket.on('data', (data: Buffer) => {
      answered += data.toString('latin1').split('HTTP/1.1 200').length - 1;
      if (answered === ids.length) {
        socket.end();
        resolve();
      } else if (answered === sent) socket.write(text(sent++));
    });
  });
}

/** In the child: every scenario on both Express majors; what the agent and the readers saw, per request id. */
async function measure(): Promise<Report> {
  const before = new SpanReader();
  const diag = new Diagnostics(silentLogger);
  const runs: Array<{ key: string; listener: RequestListener; rec: MemoryRecorder; pipelined: boolean }> = [];
  for (const [major, mod] of versions) {
    const express = mod as ExpressModule;
    instrumentExpress(express, { registerRoute: () => undefined, diag });
    for (const [scenario, { pipelined, app }] of Object.entries(SCENARIOS)) {
      const rec = memoryRecorder();
      runs.push({ key: `${major}: ${scenario}`, listener: app(express, createMiddleware(rec, { diag })), rec, pipelined });
    }
  }
  // Subscribed after every subscriber of the agent's (the middleware's, the app entry's).
  const after = new SpanReader();
  const report: Report = {};
  for (const [n, run] of runs.entries()) {
    const server = createServer(run.listener).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const ids = HANDLER_MS.map((_, i) => `s${n}-${i}`);
    await drive((server.address() as AddressInfo).port, ids, run.pipelined);
    server.closeAllConnections();
    server.close();
    const byId = new Map<string, object>();
    for (const req of before.starts.keys()) byId.set((req as IncomingMessage).headers['x-request-id'] as string, req);
    report[run.key] = run.rec.samples.map((s) => {
      const req = byId.get(s.requestId);
      return { id: s.requestId, duration: s.duration, span: req === undefined ? undefined : bracket(before, after, req) };
    });
  }
  return report;
}

if (process.env.ROUTELENS_SPAN_CHILD === '1' && isMainThread) {
  void measure().then((report) => process.stdout.write(JSON.stringify(report)));
} else {
  describe('a request’s duration is its server’s request.start → response.finish span, per request', function () {
    this.timeout(120_000);
    let report: Report;
    before(() => {
      report = runChild<Report>(__filename, { ROUTELENS_SPAN_CHILD: '1' });
    });

    for (const [major] of versions) {
      for (const scenario of Object.keys(SCENARIOS) as Scenario[]) {
        it(`${major}: ${scenario}`, () => {
          const measured = report[`${major}: ${scenario}`]!;
          assert.equal(measured.length, HANDLER_MS.length, 'every request measured once');
          const off = measured.filter((m) => m.span === undefined || m.duration < m.span.lo - 1e-6 || m.duration > m.span.hi + 1e-6);
          assert.deepEqual(
            off.map((m) => `${m.id}: agent ${m.duration.toFixed(3)} ms, server ${m.span ? `${m.span.lo.toFixed(3)}–${m.span.hi.toFixed(3)}` : '?'} ms`),
            [],
            'durations outside the server’s span',
          );
        });
      }
    }
  });
}
