/**
 * A small inventory service the demo's order routes call over HTTP, as an app
 * calls another service: a plain node:http server on a free loopback port,
 * started on first use, never keeping the process alive.
 */
import http from 'node:http';

const STOCK = ['bolt', 'nut', 'washer', 'gear', 'spring', 'pulley', 'bearing', 'shaft'];

function item(id) {
  return { id, name: STOCK[id % STOCK.length], stock: (id * 7) % 23 };
}

let started;

/** The service's base URL (`http://127.0.0.1:<port>`), starting it once. */
export function inventoryUrl() {
  started ??= new Promise((resolve, reject) => {
    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://inventory');
      const one = /^\/items\/(\d+)$/.exec(url.pathname);
      const ids = url.pathname === '/items' ? (url.searchParams.get('ids') ?? '').split(',').filter((s) => /^\d+$/.test(s)) : [];
      const body = one ? item(Number(one[1])) : url.pathname === '/items' ? ids.map((id) => item(Number(id))) : undefined;
      // A lookup costs a few milliseconds, whether it answers one item or many.
      setTimeout(() => {
        res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body ?? { error: 'not found' }));
      }, 4);
    });
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.unref();
      resolve(`http://127.0.0.1:${server.address().port}`);
    });
  });
  return started;
}
