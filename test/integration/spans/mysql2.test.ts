/**
 * mysql2's own TracingChannels (`mysql2:query`, `mysql2:execute`, mysql2 ≥ 3.20) against a
 * real MariaDB: queries and prepared statements become db spans, normalised, at the line that
 * made them, attributed to their request also when a pooled connection is handed over by
 * another request's release.
 */
import assert from 'node:assert/strict';
import type http from 'node:http';
import express from 'express';
import mysql from 'mysql2/promise';
import type { Trace } from '../../../protocol';
import { type Agent, createAgent } from '../../../agent';
import { type TestMariaDb, hasMariaDb, startMariaDb } from '../../support/mariadb';
import { type Served, lineOf, serve, sleep, spansOf } from './helpers';

const FILE = __filename;

describe('spans from mysql2 against a real MariaDB', function () {
  this.timeout(90_000);
  let db: TestMariaDb;
  let agent: Agent;
  let pool: mysql.Pool;
  let app: Served;
  const traces: Trace[] = [];

  before(async function () {
    if (!hasMariaDb()) this.skip();
    db = await startMariaDb();
    agent = createAgent({ name: 'mysql2-spans', express, server: false, discoveryDir: false, spans: { sample: 'all' } });
    agent.spans!.onTrace((t) => traces.push(t));
    pool = mysql.createPool({ uri: db.url, connectionLimit: 1 });
    await pool.query('CREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(100))');
    await pool.query("INSERT INTO users VALUES (1, 'a@example.com'), (2, 'b@example.com')");
    const a = express();
    a.use(agent.middleware());
    a.get('/users/:id', async (req, res) => {
      const [rows] = await pool.query(`SELECT email FROM users WHERE id = ${Number(req.params.id)} AND email <> 'secret@example.com'`); // @mysql-query
      await pool.execute('SELECT SLEEP(0.02), id FROM users WHERE id = ?', [Number(req.params.id)]); // @mysql-execute
      res.json(rows);
    });
    a.get('/tag/:tag', async (req, res) => {
      await pool.query(`SELECT SLEEP(0.02) AS tag_${req.params.tag === 'x' ? 'x' : 'y'}`);
      res.end('ok');
    });
    app = await serve(a as unknown as http.RequestListener);
  });

  after(async () => {
    await app?.close();
    await agent?.close();
    await pool?.end();
    await db?.stop();
  });

  async function traceOf(res: Response): Promise<Trace> {
    const id = res.headers.get('x-request-id')!;
    await res.arrayBuffer();
    for (let i = 0; i < 100; i++) {
      const t = traces.find((x) => x.requestId === id);
      if (t) return t;
      await sleep(10);
    }
    throw new Error(`no trace for ${id}`);
  }

  it('records query and execute, normalised and without values, at their lines', async () => {
    const t = await traceOf(await fetch(`${app.url}/users/2`));
    const spans = spansOf(t, 'db');
    assert.deepEqual(
      spans.map((s) => [s.name, s.source, s.location?.line]),
      [
        ['SELECT email FROM users WHERE id = ? AND email <> ?', 'mysql2', lineOf(FILE, '@mysql-query')],
        ['SELECT SLEEP(?), id FROM users WHERE id = ?', 'mysql2', lineOf(FILE, '@mysql-execute')],
      ],
    );
    assert.ok(spans[1]!.durationMs >= 18, String(spans[1]!.durationMs));
    assert.doesNotMatch(JSON.stringify(t), /secret@example/);
  });

  it('keeps concurrent requests apart on a pool of one connection', async () => {
    const responses = await Promise.all(Array.from({ length: 6 }, (_, i) => fetch(`${app.url}/tag/${i % 2 === 0 ? 'x' : 'y'}`)));
    for (const res of responses) {
      const t = await traceOf(res);
      const names = spansOf(t, 'db').map((s) => s.name);
      assert.deepEqual(names, [`SELECT SLEEP(?) AS tag_${t.spans.length > 0 && res.url.endsWith('/x') ? 'x' : 'y'}`]);
    }
  });
});
