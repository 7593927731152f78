/**
 * Checks every request and upgrade passes before anything else runs: loopback
 * only, no DNS rebinding (Host), no browser origins, the token, no cross-site
 * state changes. Pure functions over the request headers.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ErrorCode } from '../../protocol';

export interface Refusal {
  status: number;
  code: ErrorCode;
  message: string;
}

/** Addresses treated as loopback for binding. */
export function isLoopbackAddress(host: string): boolean {
  const h = host.trim().toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '[::1]') return true;
  // 127.0.0.0/8 in canonical dotted-quad form only (no `127.1`, no octal).
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  return m !== null && m.slice(1).every((p) => String(Number(p)) === p && Number(p) <= 255);
}

/**
 * Host header values accepted for a server on `port`: exact `localhost:<port>`,
 * `127.0.0.1:<port>`, `[::1]:<port>` (and `<boundHost>:<port>` when the agent
 * was explicitly allowed to bind elsewhere). The port is required.
 */
export function allowedHosts(port: number, boundHost: string): Set<string> {
  const set = new Set([`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]);
  const bound = boundHost.includes(':') && !boundHost.startsWith('[') ? `[${boundHost}]` : boundHost;
  set.add(`${bound.toLowerCase()}:${port}`);
  return set;
}

function countHeader(req: IncomingMessage, lowerName: string): number {
  let n = 0;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === lowerName) n++;
  return n;
}

/** DNS rebinding and cross-site checks. Returns a refusal or undefined. */
export function checkOrigin(req: IncomingMessage, hosts: Set<string>): Refusal | undefined {
  if (countHeader(req, 'host') !== 1) return forbidden('a single Host header is required');
  const host = req.headers.host;
  if (typeof host !== 'string' || !hosts.has(host.toLowerCase())) return forbidden('Host must be a loopback name with the agent port');
  if (countHeader(req, 'origin') > 0) return forbidden('browser origins are refused');
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'none') return forbidden('cross-site requests are refused');
  return undefined;
}

function forbidden(message: string): Refusal {
  return { status: 403, code: 'ERR_FORBIDDEN', message };
}

/** Compares `Authorization: Bearer <token>` in constant time; never throws on length. */
export function createTokenCheck(token: string): (req: IncomingMessage) => Refusal | undefined {
  const expected = createHash('sha256').update(token, 'utf8').digest();
  return (req) => {
    const header = req.headers.authorization;
    const m = typeof header === 'string' ? /^Bearer[ ]+(\S+)\s*$/i.exec(header) : null;
    const given = createHash('sha256').update(m ? m[1]! : '', 'utf8').digest();
    // Evaluate both parts unconditionally so a missing header takes the same path.
    const equal = timingSafeEqual(given, expected);
    if (m && equal && countHeader(req, 'authorization') === 1) return undefined;
    return { status: 401, code: 'ERR_UNAUTHORIZED', message: 'missing or wrong token' };
  };
}
