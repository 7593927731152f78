/**
 * A bounded synthetic traffic generator for the demo: a steady mix of requests
 * to 127.0.0.1 only, stopping after `durationMs` or `maxRequests`.
 */
import http from 'node:http';

const MIX = [
  [30, () => ['GET', `/users/${Math.floor(Math.random() * 50)}`]],
  [10, () => ['GET', '/']],
  [8, () => ['GET', '/users']],
  [6, () => ['GET', '/slow']],
  [8, () => ['GET', '/flaky']],
  [8, () => ['GET', `/search?q=${['a', 'gr', 'lin', 'xyz'][Math.floor(Math.random() * 4)]}`]],
  [10, () => ['GET', `/api/catalog/products/${1 + Math.floor(Math.random() * 4)}`]],
  [4, () => ['GET', '/api/catalog/products']],
  [2, () => ['PUT', '/api/catalog/products/2', { price: 10 + Math.floor(Math.random() * 30) }]],
  [5, () => ['GET', `/orgs/acme/members/${Math.floor(Math.random() * 9)}`]],
  [4, () => ['POST', '/auth/login', { user: 'demo' }]],
  [3, () => ['GET', `/orders/${Math.floor(Math.random() * 20)}`]],
  [2, () => ['GET', `/orders/${Math.floor(Math.random() * 20)}/batched`]],
  [3, () => ['GET', `/no/such/page/${Math.floor(Math.random() * 1000)}`]],
];
const TOTAL = MIX.reduce((s, [w]) => s + w, 0);

function pick() {
  let r = Math.random() * TOTAL;
  for (const [w, make] of MIX) if ((r -= w) < 0) return make();
  return MIX[0][1]();
}

/**
 * @param {{ port: number, ratePerSecond?: number, durationMs?: number, maxRequests?: number }} opts
 * @returns {{ stop(): void, done: Promise<{ sent: number }> }}
 */
export function startTraffic({ port, ratePerSecond = 20, durationMs = 10 * 60_000, maxRequests = 100_000 }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  let sent = 0;
  let timer;
  let resolveDone;
  const done = new Promise((r) => (resolveDone = r));
  const deadline = Date.now() + durationMs;
  const stop = () => {
    clearInterval(timer);
    agent.destroy();
    resolveDone({ sent });
  };
  timer = setInterval(() => {
    if (Date.now() > deadline || sent >= maxRequests) return stop();
    const [method, path, body] = pick();
    sent++;
    const data = body ? JSON.stringify(body) : undefined;
    const req = http.request({ host: '127.0.0.1', port, method, path, agent, headers: data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {} }, (res) => res.resume());
    req.on('error', () => {});
    req.end(data);
  }, 1000 / ratePerSecond);
  timer.unref();
  return { stop, done };
}
