import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { ProtocolError, type AgentMessage, type Delta } from '../../../protocol';
import { MAX_PENDING_COMMANDS } from '../../../agent/server';
import { endpoint } from '../../support/fake-host';
import { Client, closeAll, http, isType, raw, sleep, start, until } from './helpers';

const isSnapshot = isType('snapshot');
const isDelta = isType('delta');

/** Opens a raw WebSocket (handshake by hand) so tests can send frames ws would not. */
async function rawWs(port: number, token: string): Promise<{ socket: Socket; data: () => Buffer; closed: Promise<void> }> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(
    `GET /v1/stream HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${token}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await until(() => Buffer.concat(chunks).includes('\r\n\r\n'));
  assert.match(Buffer.concat(chunks).toString('latin1'), /^HTTP\/1\.1 101/);
  return { socket, data: () => Buffer.concat(chunks), closed };
}

/** One masked client frame. */
function frame(opcode: number, fin: boolean, payload: Buffer = Buffer.alloc(0)): Buffer {
  const mask = randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  let header: Buffer;
  if (payload.length < 126) header = Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | payload.length]);
  else {
    header = Buffer.alloc(4);
    header[0] = (fin ? 0x80 : 0) | opcode;
    header[1] = 0x80 | 126;
    header.writeUInt16BE(payload.length, 2);
  }
  return Buffer.concat([header, mask, masked]);
}

/** The close code in the server's close frame, if one arrived after the handshake. */
function closeCodeIn(data: Buffer): number | undefined {
  const body = data.subarray(data.indexOf('\r\n\r\n') + 4);
  for (let i = 0; i + 3 < body.length; i++) if (body[i] === 0x88 && body[i + 1]! >= 2 && body[i + 1]! < 126) return body.readUInt16BE(i + 2);
  return undefined;
}

describe('server stream', () => {
  afterEach(closeAll);

  it('runs its timers only while a client is connected (an unwatched agent does not wake up for it)', async () => {
    const { server, auth, host } = await start({ batchMs: 20 });
    await sleep(150);
    assert.equal(host.takeDeltaCalls, 0, 'no ticks without a client');
    const c = new Client(server.wsUrl, auth);
    await c.next(isSnapshot);
    await until(() => host.takeDeltaCalls >= 4);
    c.ws.close();
    await until(() => server.stats().clients === 0);
    const after = host.takeDeltaCalls;
    await sleep(150);
    assert.equal(host.takeDeltaCalls, after, 'ticks stop with the last client');
    const c2 = new Client(server.wsUrl, auth);
    await c2.next(isSnapshot);
    await until(() => host.takeDeltaCalls >= after + 4);
  });

  it('sends a snapshot on connect, then deltas with increasing seq', async () => {
    const { server, auth, host } = await start();
    const c = new Client(server.wsUrl, auth);
    const snap = await c.next(isSnapshot);
    assert.equal(snap.snapshot.endpoints.length, 3);
    host.deltas.push({ time: 1, endpoints: [endpoint('GET', '/a', 1, 1)] }, { time: 2, removedEndpoints: ['GET /a'] });
    const d2 = await c.next((m): m is Extract<AgentMessage, { type: 'delta' }> => m.type === 'delta' && m.delta.time === 2);
    const seqs = c.messages.map((m) => ('seq' in m ? m.seq : -1));
    assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!), `seq increases: ${seqs.join(',')}`);
    assert.equal(d2.seq, snap.seq + 2);
  });

  it('one feed read and one serialisation per tick, the same delta to every client', async () => {
    let n = 0;
    const { server, auth, host } = await start({ batchMs: 30 });
    host.deltaFactory = () => ({ time: ++n });
    const clients = [0, 1, 2].map(() => new Client(server.wsUrl, auth));
    await Promise.all(clients.map((c) => c.next(isSnapshot)));
    const target = n + 5;
    await Promise.all(clients.map((c) => c.next((m): m is Extract<AgentMessage, { type: 'delta' }> => m.type === 'delta' && m.delta.time >= target)));
    const callsBefore = host.takeDeltaCalls;
    await sleep(300);
    const ticks = host.takeDeltaCalls - callsBefore;
    // Per-client calls would be 3× the ticks; allow generous scheduling slack.
    assert.ok(ticks <= 300 / 30 + 3, `takeDelta called ${ticks} times in ~10 ticks with 3 clients`);
    const seen = clients.map((c) => new Map(c.messages.filter(isDelta).map((m) => [m.seq, m.delta.time])));
    const common = [...seen[0]!.keys()].filter((s) => seen[1]!.has(s) && seen[2]!.has(s));
    assert.ok(common.length >= 3);
    for (const s of common) assert.ok(seen[1]!.get(s) === seen[0]!.get(s) && seen[2]!.get(s) === seen[0]!.get(s));
  });

  describe('bad input on the wire', () => {
    it('answers malformed JSON, unknown commands, wrong types and __proto__ with a coded reply; the socket stays open', async () => {
      const { server, auth, host } = await start();
      const c = new Client(server.wsUrl, auth);
      await c.next(isSnapshot);
      c.send('{nope');
      const badJson = await c.next(isType('reply'));
      assert.deepEqual([badJson.id, badJson.ok, !badJson.ok && badJson.error.code], [null, false, 'ERR_BAD_JSON']);
      const unknown = await c.command('u1', 'rm -rf');
      assert.equal(!unknown.ok && unknown.error.code, 'ERR_UNKNOWN_COMMAND');
      const badArgs = await c.command(2, 'rateLimit.setMax', { limiter: 'x', max: 'ten' });
      assert.equal(!badArgs.ok && badArgs.error.code, 'ERR_BAD_ARGS');
      const from = c.messages.length;
      c.send('{"type":"command","id":"p1","command":"thresholds.set","args":{"thresholds":{"__proto__":{"p95Ms":1}}}}');
      const proto = await c.next((m): m is Extract<AgentMessage, { type: 'reply' }> => m.type === 'reply' && m.id === 'p1', 5000, from);
      assert.equal(proto.ok, false);
      assert.equal(({} as Record<string, unknown>).p95Ms, undefined);
      const shape = await c.command('s1', 'snapshot', 'not-an-object');
      assert.equal(!shape.ok && shape.error.code, 'ERR_BAD_ARGS');
      c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
      const bin = await c.next((m): m is Extract<AgentMessage, { type: 'reply' }> => m.type === 'reply' && !m.ok && m.error.code === 'ERR_BAD_MESSAGE');
      assert.equal(bin.id, null);
      assert.equal(host.calls.length, 0, 'nothing invalid reached the host');
      const ok = await c.command('ok1', 'thresholds.get');
      assert.equal(ok.ok, true);
      assert.equal(c.closeCode, undefined);
      assert.equal(server.clientCount(), 1);
    });

    it('runs valid commands with source editor; maps ProtocolError codes, other errors to ERR_INTERNAL, hangs to ERR_TIMEOUT', async () => {
      const { server, auth, host } = await start({ commandTimeoutMs: 200 });
      const c = new Client(server.wsUrl, auth);
      await c.next(isSnapshot);
      const r = await c.command(1, 'reset', { endpoint: 'GET /a' });
      assert.deepEqual(r, { type: 'reply', id: 1, ok: true, result: { reset: 1 } });
      assert.deepEqual(host.calls[0], { command: 'reset', args: { endpoint: 'GET /a' }, source: 'editor' });
      const nf = await c.command(2, 'alerts.resolve', { id: 'nope' });
      assert.equal(!nf.ok && nf.error.code, 'ERR_NOT_FOUND');
      host.fail.set('cache.stats', new TypeError('boom'));
      const internal = await c.command(3, 'cache.stats');
      assert.deepEqual(!internal.ok && internal.error, { code: 'ERR_INTERNAL', message: 'boom' });
      host.hang.add('rateLimit.list');
      const slow = await c.command(4, 'rateLimit.list');
      assert.equal(!slow.ok && slow.error.code, 'ERR_TIMEOUT');
      assert.equal(c.closeCode, undefined);
    });

    it('sends exactly one reply per id even when a command settles after its timeout', async () => {
      const { server, auth, host } = await start({ commandTimeoutMs: 100 });
      host.execute = async () => {
        await sleep(300);
        return { late: true };
      };
      const c = new Client(server.wsUrl, auth);
      await c.next(isSnapshot);
      const r = await c.command('late', 'thresholds.get');
      assert.equal(!r.ok && r.error.code, 'ERR_TIMEOUT');
      await sleep(500);
      assert.equal(c.messages.filter((m) => m.type === 'reply' && m.id === 'late').length, 1);
    });
  });

  it('an oversize frame closes that socket with 1009; other clients are untouched; no permessage-deflate', async () => {
    const { server, auth, host } = await start();
    const big = new Client(server.wsUrl, auth);
    const other = new Client(server.wsUrl, auth);
    await Promise.all([big.next(isSnapshot), other.next(isSnapshot)]);
    assert.equal(big.ws.extensions, '', 'permessage-deflate is off');
    big.send('x'.repeat(64 * 1024 + 1));
    assert.equal(await big.closed, 1009);
    host.deltas.push({ time: 42 });
    await other.next((m): m is Extract<AgentMessage, { type: 'delta' }> => m.type === 'delta' && m.delta.time === 42);
    assert.equal((await other.command(1, 'thresholds.get')).ok, true);
    await until(() => server.clientCount() === 1);
  });

  it('a fragment flood is closed with 1008 and memory stays bounded', async () => {
    const { server, token, auth } = await start();
    const other = new Client(server.wsUrl, auth);
    await other.next(isSnapshot);
    const heapBefore = process.memoryUsage().heapUsed;
    const peer = await rawWs(server.port, token);
    const frames: Buffer[] = [frame(0x1, false, Buffer.from('a'))];
    for (let i = 0; i < 5000; i++) frames.push(frame(0x0, false));
    peer.socket.write(Buffer.concat(frames));
    await Promise.race([peer.closed, sleep(5000)]);
    assert.equal(closeCodeIn(peer.data()), 1008);
    assert.ok(process.memoryUsage().heapUsed - heapBefore < 50 * 1024 * 1024);
    assert.equal((await other.command(1, 'thresholds.get')).ok, true);
  });

  it('handshake header floods and long Sec-WebSocket-Protocol values are refused quickly; the server answers others', async () => {
    const { server, auth, token } = await start();
    const t0 = Date.now();
    const flood = await raw(
      server.port,
      `GET /v1/stream HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nAuthorization: Bearer ${token}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        Array.from({ length: 2000 }, (_, i) => `X-Flood-${i}: ${'v'.repeat(50)}\r\n`).join('') +
        '\r\n',
    );
    assert.match(flood, /^HTTP\/1\.1 (431|400) /);
    const longProto = new Client(server.wsUrl, auth, { protocol: undefined, headers: { ...auth, 'Sec-WebSocket-Protocol': 'p'.repeat(8000) } });
    await assert.rejects(longProto.opened, /unexpected response 400/);
    const manyProtos = new Client(server.wsUrl, auth, { headers: { ...auth, 'Sec-WebSocket-Protocol': Array.from({ length: 40 }, (_, i) => `p${i}`).join(', ') } });
    await manyProtos.opened.then(
      () => manyProtos.ws.close(),
      () => {},
    );
    assert.ok(Date.now() - t0 < 10_000);
    assert.equal((await http(server.port, 'GET', '/v1/system', auth)).status, 200);
    const c = new Client(server.wsUrl, auth);
    await c.next(isSnapshot);
  });

  it('protocol errors close the socket, never the process', async () => {
    const { server, token, auth } = await start();
    const other = new Client(server.wsUrl, auth);
    await other.next(isSnapshot);
    // An unmasked client frame and reserved bits: protocol errors inside ws.
    const a = await rawWs(server.port, token);
    a.socket.write(Buffer.from([0x81, 0x01, 0x61]));
    await Promise.race([a.closed, sleep(5000)]);
    assert.equal(closeCodeIn(a.data()), 1002);
    const b = await rawWs(server.port, token);
    b.socket.write(Buffer.from([0xf1, 0x80, 0, 0, 0, 0]));
    await Promise.race([b.closed, sleep(5000)]);
    // Invalid UTF-8 in a text frame.
    const u = await rawWs(server.port, token);
    u.socket.write(frame(0x1, true, Buffer.from([0xff, 0xfe])));
    await Promise.race([u.closed, sleep(5000)]);
    assert.equal(closeCodeIn(u.data()), 1007);
    // A socket reset in the middle of a handshake and of a frame.
    const half = connect(server.port, '127.0.0.1');
    half.on('error', () => {});
    half.write(`GET /v1/stream HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nAuthor`);
    await sleep(50);
    half.resetAndDestroy();
    const mid = await rawWs(server.port, token);
    mid.socket.write(frame(0x1, true, Buffer.alloc(300, 0x61)).subarray(0, 50));
    await sleep(50);
    mid.socket.resetAndDestroy();
    await sleep(100);
    assert.equal((await other.command(1, 'thresholds.get')).ok, true);
    assert.equal(server.clientCount(), 1);
  });

  it('a client that stops reading skips deltas (counted), stays bounded, then resyncs from a snapshot', async function () {
    this.timeout(40_000);
    const limit = 256 * 1024;
    const payload = 'r'.repeat(200 * 1024);
    let n = 0;
    const { server, auth, host } = await start({ batchMs: 20, maxBufferedBytes: limit });
    const slow = new Client(server.wsUrl, auth);
    const fast = new Client(server.wsUrl, auth);
    await Promise.all([slow.next(isSnapshot), fast.next(isSnapshot)]);
    slow.ws.pause();
    const heapBefore = process.memoryUsage().heapUsed;
    host.deltaFactory = (): Delta => ({ time: ++n, endpoints: [endpoint('GET', `/flood/${payload}`, n, 1)] });
    await until(() => server.stats().droppedDeltas >= 20, 30_000);
    const stats = server.stats();
    assert.equal(stats.staleClients, 1);
    assert.ok(stats.maxBufferedAmount < limit + 3 * payload.length, `buffered ${stats.maxBufferedAmount} stays near the limit`);
    assert.ok(process.memoryUsage().heapUsed - heapBefore < 100 * 1024 * 1024, 'heap flat');
    // The fast client got every delta in order meanwhile.
    const fastSeqs = fast.messages.filter(isDelta).map((m) => m.seq);
    assert.ok(fastSeqs.length >= 20);
    assert.ok(fastSeqs.every((s, i) => i === 0 || s === fastSeqs[i - 1]! + 1), 'fast client saw no gap');
    host.deltaFactory = () => undefined;
    const seenBeforeResume = slow.messages.length;
    slow.ws.resume();
    const resync = await slow.next(isSnapshot, 20_000, Math.max(1, seenBeforeResume));
    assert.ok(server.stats().resyncs >= 1);
    assert.equal(server.stats().staleClients, 0);
    const slowSeqs = slow.messages.map((m) => ('seq' in m ? m.seq : -1));
    assert.ok(slowSeqs.every((s, i) => i === 0 || s > slowSeqs[i - 1]!), 'seq still increases for the slow client');
    assert.ok(resync.seq >= fastSeqs[fastSeqs.length - 1]!);
  });

  it('a client that sends commands but does not read the replies is paused, its buffer bounded; it resumes once drained', async function () {
    this.timeout(40_000);
    const limit = 128 * 1024;
    const { server, auth, host } = await start({ batchMs: 20, maxBufferedBytes: limit, heartbeatMs: 60_000 });
    host.endpoints = Array.from({ length: 200 }, (_, i) => endpoint('GET', `/big/${i}/${'q'.repeat(1000)}`, i, i));
    const c = new Client(server.wsUrl, auth);
    await c.next(isSnapshot);
    c.ws.pause();
    const heapBefore = process.memoryUsage().heapUsed;
    for (let i = 0; i < 400; i++) c.send({ type: 'command', id: i, command: 'snapshot' });
    await sleep(1500);
    const executed = host.calls.length;
    assert.ok(executed < 400, `reading stopped (${executed} of 400 commands run)`);
    const replySize = JSON.stringify(host.snapshot()).length;
    // Bounded by the limit plus the replies already in flight (MAX_PENDING_COMMANDS), not by the 400 commands sent.
    assert.ok(server.stats().maxBufferedAmount < limit + (MAX_PENDING_COMMANDS + 1) * replySize, `buffer bounded: ${server.stats().maxBufferedAmount}`);
    assert.ok(process.memoryUsage().heapUsed - heapBefore < 100 * 1024 * 1024);
    c.ws.resume();
    const replies = () => c.messages.filter((m) => m.type === 'reply') as Array<{ id: unknown }>;
    await until(() => replies().length >= 400, 30_000);
    await sleep(200);
    assert.equal(replies().length, 400, 'exactly one reply per id');
    assert.equal(new Set(replies().map((r) => r.id)).size, 400);
  });

  it('a peer that stops answering pings is terminated within two intervals; a live one stays', async () => {
    const { server, auth } = await start({ heartbeatMs: 100 });
    const dead = new Client(server.wsUrl, auth, { autoPong: false });
    const live = new Client(server.wsUrl, auth);
    await Promise.all([dead.next(isSnapshot), live.next(isSnapshot)]);
    const t0 = Date.now();
    const code = await dead.closed;
    assert.equal(code, 1006);
    assert.ok(Date.now() - t0 < 5000, 'dropped within a couple of intervals (generous budget for a loaded machine)');
    assert.equal(server.stats().heartbeatTerminations, 1);
    await sleep(400);
    assert.equal(live.closeCode, undefined);
    assert.equal(server.clientCount(), 1);
  });

  it('cyclic results and huge error messages are serialised without throwing', async () => {
    const { server, auth, host } = await start();
    const cyclic: Record<string, unknown> = { big: 1n, name: 'x'.repeat(1024 * 1024) };
    cyclic.self = cyclic;
    host.execute = async (command) => {
      if (command === 'cache.stats') return cyclic;
      throw new ProtocolError('ERR_NOT_FOUND', 'k'.repeat(1024 * 1024));
    };
    const c = new Client(server.wsUrl, auth);
    await c.next(isSnapshot);
    const r = await c.command(1, 'cache.stats');
    assert.equal(r.ok, true);
    const result = (r as { result: Record<string, unknown> }).result;
    assert.equal(result.self, '[Circular]');
    assert.equal(result.big, '1');
    assert.ok((result.name as string).length < 20_000);
    const e = await c.command(2, 'alerts.resolve', { id: 'x' });
    assert.equal(!e.ok && e.error.code, 'ERR_NOT_FOUND');
    assert.ok(!e.ok && e.error.message.length <= 500);
  });

  it('refuses clients beyond maxClients with 503', async () => {
    const { server, auth } = await start({ maxClients: 1 });
    const a = new Client(server.wsUrl, auth);
    await a.next(isSnapshot);
    const b = new Client(server.wsUrl, auth);
    await assert.rejects(b.opened, /unexpected response 503/);
  });
});
