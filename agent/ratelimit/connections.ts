/**
 * The limiters' Redis connections: one per Redis call budget (`timeout`, the
 * connection's command timeout), opened when the first limiter with that
 * budget is created, from the agent's URL or duplicated from the app's client,
 * with the counting commands defined.
 *
 * Right after start a connection is still opening. A request counted then in
 * the per-process insurance limiter would let N instances admit up to N × max
 * between them, so until the first connection attempt settles (ready, failed,
 * refused, or FIRST_CONNECT_WAIT_MS passed) a limiter waits for it instead.
 */
import type { Redis } from 'ioredis';
import type { RedisClient } from '../api-types';
import type { Diagnostics } from '../log';
import { asIoredis, connectRedis, duplicateRedis } from '../redis';
import { defineCountCommands } from './scripts';

/** Longest a request waits for its limiter's first Redis connection before the limiter falls back (ms). */
export const FIRST_CONNECT_WAIT_MS = 1000;

/** A limiters' connection and, while its first attempt is in flight, the wait for it. */
export class LimiterConnection {
  /** Resolved when the first attempt settles; undefined once it has. */
  #starting: Promise<void> | undefined;
  #settle: (() => void) | undefined;
  #deadline: NodeJS.Timeout | undefined;

  constructor(readonly client: Redis) {
    if (client.status === 'ready') return;
    this.#starting = new Promise<void>((resolve) => {
      const settle = () => {
        clearTimeout(this.#deadline);
        client.off('ready', settle).off('end', settle).off('error', onError);
        this.#starting = this.#settle = undefined;
        resolve();
      };
      // Redis refused or unknown: fall back at once. A timed-out connect or ready check may be this
      // process's own start-up lag; ioredis retries, and the deadline bounds the wait.
      const onError = (err: NodeJS.ErrnoException) => {
        if (typeof err.syscall === 'string' && err.code !== 'ETIMEDOUT') settle();
      };
      client.on('ready', settle).on('end', settle).on('error', onError);
      this.#settle = settle;
    });
  }

  /**
   * While the first attempt is in flight: a promise resolved when it settles, at the latest
   * FIRST_CONNECT_WAIT_MS after the first caller asked (the bound counts from the first request,
   * not from start-up, which may block the event loop for longer). Afterwards undefined.
   */
  waitForFirst(): Promise<void> | undefined {
    if (this.#starting !== undefined && this.#deadline === undefined) {
      this.#deadline = setTimeout(this.#settle!, FIRST_CONNECT_WAIT_MS);
      this.#deadline.unref();
    }
    return this.#starting;
  }
}

export class RedisConnections {
  readonly #source: string | RedisClient;
  readonly #diag: Diagnostics;
  /** Command timeout (ms) → connection. */
  readonly #byTimeout = new Map<number, LimiterConnection>();

  constructor(source: string | RedisClient, diag: Diagnostics) {
    this.#source = source;
    this.#diag = diag;
  }

  /** The connection whose commands time out after `timeout` ms, opened now if it is the first. */
  get(timeout: number): LimiterConnection {
    let connection = this.#byTimeout.get(timeout);
    if (connection === undefined) {
      const onError = (err: Error) =>
        this.#diag.warnOnce('ROUTELENS_WARN_RATE_LIMIT_REDIS', `rate limit: Redis connection error (${err.message}); limiters follow their onStoreError policy until it is back`);
      const options = { commandTimeout: timeout, connectionName: 'routelens-ratelimit' };
      const source = this.#source;
      const client = typeof source === 'string' ? connectRedis(source, options, onError) : duplicateRedis(asIoredis(source), options, onError);
      defineCountCommands(client);
      connection = new LimiterConnection(client);
      this.#byTimeout.set(timeout, connection);
    }
    return connection;
  }

  close(): void {
    const connections = [...this.#byTimeout.values()];
    this.#byTimeout.clear();
    for (const connection of connections) connection.client.disconnect();
  }
}
