/**
 * The shapes the public API takes and returns, written structurally on Node's
 * own `http` types. The package's type declarations import nothing but these
 * and `node:*`, so neither Express's nor ioredis's declarations ever enter a
 * user's compile (a dependency's patch release cannot break it), and an app
 * typed against Express 4 or 5 fits them alike. test/integration/package
 * checks the published declarations for any other import.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** `next` as Express passes it. */
export type Next = (err?: unknown) => void;

/** A middleware for `app.use(...)` or a route, Express 4 or 5. */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;

/**
 * The request as the agent's callbacks (`key`, `skip`, `tags`, …) receive it:
 * Node's request and the Express fields they commonly read. A callback may
 * declare Express's own `Request` instead.
 */
export interface AppRequest extends IncomingMessage {
  /** The client address as Express computes it (honours `trust proxy`). */
  readonly ip?: string;
  readonly path?: string;
  readonly originalUrl?: string;
  readonly baseUrl?: string;
  readonly params?: Readonly<Record<string, unknown>>;
}

/** The response as the agent's callbacks receive it: Node's response and Express's senders. */
export interface AppResponse extends ServerResponse {
  status(code: number): this;
  send(body?: unknown): this;
  json(body: unknown): this;
  set(field: string, value: string | string[]): this;
}

/**
 * A callback option. Its parameters are checked bivariantly (as a method's
 * are), so a callback may declare Express's own `Request` and `Response`
 * instead of the structural types above.
 */
export type Callback<Args extends unknown[], Result> = { bivarianceHack(...args: Args): Result }['bivarianceHack'];

/**
 * An ioredis client (ioredis 5 or 6), described by the members the agent
 * checks; it is used as an ioredis `Redis` instance.
 */
export interface RedisClient {
  /** ioredis's connection state ('wait', 'connecting', 'ready', 'end', …). */
  readonly status: string;
  getBuffer(key: string): unknown;
  duplicate(): unknown;
}
