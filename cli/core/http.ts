/**
 * The agent's authenticated HTTP API (docs/protocol.md), as the command-line
 * tools use it: one request at a time, each with a timeout and a cap on the
 * answer's size. node:http rather than fetch, so no browser-style headers
 * (Origin, Sec-Fetch-*) are ever sent: the agent refuses those.
 */
import { request } from 'node:http';
import { type CommandArgs, type CommandName, type CommandResults, type EndpointSort, type EndpointStats, type ErrorCode, HTTP_PATHS, type Snapshot, type WindowName } from '../../protocol';

export const DEFAULT_TIMEOUT_MS = 5000;
/** A snapshot of 2000 endpoints with histograms stays well under this. */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** A failed call: the agent's error code, or RL_ERR_UNREACHABLE / RL_ERR_TIMEOUT / RL_ERR_BAD_RESPONSE. */
export class AgentHttpError extends Error {
  constructor(
    readonly code: ErrorCode | 'RL_ERR_UNREACHABLE' | 'RL_ERR_TIMEOUT' | 'RL_ERR_BAD_RESPONSE',
    message: string,
    readonly status = 0,
  ) {
    super(message);
    this.name = 'AgentHttpError';
  }
}

export interface HttpTarget {
  host: string;
  port: number;
  token: string;
}

export class AgentHttp {
  constructor(
    private readonly target: HttpTarget,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {}

  /** `http://host:port` (no token). */
  get baseUrl(): string {
    return `http://${hostForUrl(this.target.host)}:${this.target.port}`;
  }

  snapshot(): Promise<Snapshot> {
    return this.call<Snapshot>('GET', HTTP_PATHS.snapshot);
  }

  async endpoints(sort: EndpointSort, window: WindowName, limit: number): Promise<EndpointStats[]> {
    const q = new URLSearchParams({ sort, window, limit: String(limit) });
    return (await this.call<{ endpoints: EndpointStats[] }>('GET', `${HTTP_PATHS.endpoints}?${q}`)).endpoints;
  }

  command<C extends CommandName>(command: C, args: CommandArgs<C>, timeoutMs?: number): Promise<CommandResults[C]> {
    return this.call<CommandResults[C]>('POST', HTTP_PATHS.command, { command, args }, timeoutMs);
  }

  call<T>(method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = this.timeoutMs): Promise<T> {
    const { host, port, token } = this.target;
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise<T>((resolve, reject) => {
      const req = request(
        {
          host,
          port,
          method,
          path,
          agent: false,
          headers: {
            Host: `${hostForUrl(host)}:${port}`,
            Authorization: `Bearer ${token}`,
            Accept: 'application/json',
            ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': String(payload.length) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_RESPONSE_BYTES) {
              req.destroy(new AgentHttpError('RL_ERR_BAD_RESPONSE', `answer to ${method} ${pathOnly(path)} exceeds ${MAX_RESPONSE_BYTES} bytes`));
              return;
            }
            chunks.push(c);
          });
          res.on('end', () => {
            let json: unknown;
            try {
              json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch {
              reject(new AgentHttpError('RL_ERR_BAD_RESPONSE', `${method} ${pathOnly(path)}: answer is not JSON (status ${res.statusCode})`, res.statusCode));
              return;
            }
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve(json as T);
            else reject(errorFromBody(json, status, `${method} ${pathOnly(path)}`));
          });
          res.on('error', reject);
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(new AgentHttpError('RL_ERR_TIMEOUT', `${method} ${pathOnly(path)}: no answer within ${timeoutMs} ms`)));
      req.on('error', (err) => reject(err instanceof AgentHttpError ? err : new AgentHttpError('RL_ERR_UNREACHABLE', `${method} ${pathOnly(path)}: ${err.message}`)));
      req.end(payload);
    });
  }
}

function errorFromBody(json: unknown, status: number, what: string): AgentHttpError {
  const e = (json as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const code = typeof e?.code === 'string' ? (e.code as ErrorCode) : 'RL_ERR_BAD_RESPONSE';
  const message = typeof e?.message === 'string' ? e.message.slice(0, 500) : `status ${status}`;
  return new AgentHttpError(code, `${what}: ${message}`, status);
}

function pathOnly(path: string): string {
  const q = path.indexOf('?');
  return q < 0 ? path : path.slice(0, q);
}

/** An IPv6 address in brackets, as a URL and the Host header need it. */
export function hostForUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
