/**
 * The limiters' Redis connections: one per Redis call budget (`timeout`, the
 * connection's command timeout), made on first use, from the agent's URL or
 * duplicated from the app's client, with the counting commands defined.
 */
import type { Redis } from 'ioredis';
import type { RedisClient } from '../api-types';
import type { Diagnostics } from '../log';
import { asIoredis, connectRedis, duplicateRedis } from '../redis';
import { defineCountCommands } from './stores';

export class RedisConnections {
  readonly #source: string | RedisClient;
  readonly #diag: Diagnostics;
  /** Command timeout (ms) → connection. */
  readonly #byTimeout = new Map<number, Redis>();

  constructor(source: string | RedisClient, diag: Diagnostics) {
    this.#source = source;
    this.#diag = diag;
  }

  /** The connection whose commands time out after `timeout` ms. */
  get(timeout: number): Redis {
    let connection = this.#byTimeout.get(timeout);
    if (connection === undefined) {
      const onError = (err: Error) =>
        this.#diag.warnOnce('ROUTELENS_WARN_RATE_LIMIT_REDIS', `rate limit: Redis connection error (${err.message}); limiters follow their onStoreError policy until it is back`);
      const options = { commandTimeout: timeout, connectionName: 'routelens-ratelimit' };
      const source = this.#source;
      connection = typeof source === 'string' ? connectRedis(source, options, onError) : duplicateRedis(asIoredis(source), options, onError);
      defineCountCommands(connection);
      this.#byTimeout.set(timeout, connection);
    }
    return connection;
  }

  close(): void {
    const connections = [...this.#byTimeout.values()];
    this.#byTimeout.clear();
    for (const connection of connections) connection.disconnect();
  }
}
