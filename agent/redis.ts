/**
 * ioredis connections that fail fast. ioredis's defaults queue commands while
 * offline and retry each for tens of seconds; a cache or a limiter in the
 * request path must instead fail within its budget and let the caller fall back.
 */
import type { Redis, RedisOptions } from 'ioredis';
import type { RedisClient } from './api-types';

export interface FailFastOptions {
  /** Per-command timeout (ms). */
  commandTimeout?: number;
  /** Connect timeout (ms). */
  connectTimeout?: number;
  /** Extra ioredis options (keyPrefix is never applied: callers prefix keys themselves). */
  redisOptions?: RedisOptions;
  /** Name shown in CLIENT LIST. */
  connectionName?: string;
}

/**
 * The fail-fast settings: no offline queue (commands on a down connection
 * reject at once), no per-request retries (no resend after a reconnect, so a
 * counter is never incremented twice), a command timeout, and a capped
 * exponential reconnect that goes on forever in the background.
 */
export function failFastOptions(opts: FailFastOptions = {}): RedisOptions {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    enableReadyCheck: true,
    commandTimeout: opts.commandTimeout ?? 50,
    connectTimeout: opts.connectTimeout ?? 1000,
    lazyConnect: false,
    retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    connectionName: opts.connectionName,
    ...opts.redisOptions,
    keyPrefix: undefined,
  };
}

/** A client the user passed (typed structurally in the public API) as the ioredis instance it is. */
export function asIoredis(client: RedisClient): Redis {
  return client as unknown as Redis;
}

/** A fail-fast connection from a URL. An `error` listener is always attached: an unhandled one would crash the app. */
export function connectRedis(url: string, opts: FailFastOptions = {}, onError?: (err: Error) => void): Redis {
  // Loaded on first use: an agent that never connects to Redis never loads ioredis (2 MB of heap).
   
  const { Redis: Client } = require('ioredis') as typeof import('ioredis');
  const client = new Client(url, failFastOptions(opts));
  client.on('error', (err: Error) => onError?.(err));
  return client;
}

/** A second connection with the same settings as an existing client (for pub/sub subscribers). */
export function duplicateRedis(client: Redis, opts: FailFastOptions = {}, onError?: (err: Error) => void): Redis {
  const dup = client.duplicate(failFastOptions({ ...opts, redisOptions: { ...opts.redisOptions } }));
  dup.on('error', (err: Error) => onError?.(err));
  return dup;
}
