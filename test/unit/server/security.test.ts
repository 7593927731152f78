import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { allowedHosts, checkOrigin, createTokenCheck, isLoopbackAddress } from '../../../agent/server/security';

function req(raw: string[]): IncomingMessage {
  const headers: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) headers[raw[i]!.toLowerCase()] ??= raw[i + 1]!;
  return { rawHeaders: raw, headers } as unknown as IncomingMessage;
}

describe('server security isLoopbackAddress', () => {
  it('accepts canonical loopback addresses only', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST']) assert.equal(isLoopbackAddress(h), true, h);
    for (const h of ['0.0.0.0', '::', '127.1', '0177.0.0.1', '127.000.0.1', '127.0.0.256', 'localhost6', '192.168.0.1', '']) assert.equal(isLoopbackAddress(h), false, h);
  });
});

describe('server security checkOrigin', () => {
  const hosts = allowedHosts(4000, '127.0.0.1');
  it('allows exact loopback hosts with the port and no Origin', () => {
    for (const h of ['localhost:4000', '127.0.0.1:4000', '[::1]:4000']) assert.equal(checkOrigin(req(['Host', h]), hosts), undefined, h);
    assert.equal(checkOrigin(req(['Host', 'localhost:4000', 'Sec-Fetch-Site', 'none']), hosts), undefined);
  });
  it('refuses rebinding hosts, doubles, origins and cross-site fetches with ERR_FORBIDDEN', () => {
    const cases = [
      [],
      ['Host', 'localhost.evil.com:4000'],
      ['Host', 'localhost:4001'],
      ['Host', 'localhost'],
      ['Host', '127.1:4000'],
      ['Host', 'localhost:4000', 'host', 'localhost:4000'],
      ['Host', 'localhost:4000', 'Origin', 'null'],
      ['Host', 'localhost:4000', 'Origin', 'http://localhost:4000'],
      ['Host', 'localhost:4000', 'Sec-Fetch-Site', 'same-origin'],
    ];
    for (const c of cases) assert.equal(checkOrigin(req(c), hosts)?.code, 'ERR_FORBIDDEN', c.join(' '));
  });
});

describe('server security createTokenCheck', () => {
  const check = createTokenCheck('0123456789abcdef0123');
  it('accepts the exact bearer token', () => {
    assert.equal(check(req(['Authorization', 'Bearer 0123456789abcdef0123'])), undefined);
    assert.equal(check(req(['Authorization', 'bearer 0123456789abcdef0123'])), undefined);
  });
  it('refuses missing, wrong, wrong-length and doubled tokens without throwing', () => {
    for (const v of [undefined, '', 'Bearer', 'Bearer 0123456789abcdef012', 'Bearer 0123456789abcdef01234', 'Bearer x', `Bearer ${'y'.repeat(100000)}`, 'Basic 0123456789abcdef0123']) {
      const r = req(v === undefined ? [] : ['Authorization', v]);
      assert.equal(check(r)?.code, 'ERR_UNAUTHORIZED', String(v).slice(0, 40));
    }
    const doubled = req(['Authorization', 'Bearer 0123456789abcdef0123', 'Authorization', 'Bearer 0123456789abcdef0123']);
    assert.equal(check(doubled)?.status, 401);
  });
});
