/**
 * The limiters' Redis connections: one per Redis call budget (`timeout`),
 * opened when the first limiter with that budget is created, from the agent's
 * URL or duplicated from the app's client.
 *
 * The budget is kept by one timer per connection, not by ioredis's
 * `commandTimeout` (a timer armed and cleared for every command, which cost
 * more per request than the rest of our wrapper): every command on a
 * connection has the same budget and Redis answers them in order, so their
 * deadlines are in order too, and one timer armed for the oldest command in
 * flight finds every command past its budget. A command past its budget is
 * rejected with ioredis's "Command timed out", as `commandTimeout` would.
 *
 * Right after start a connection is still opening. A request counted then in
 * the per-process insurance limiter would let N instances admit up to N × max
 * between them, so until the first connection attempt settles (ready, failed,
 * refused, or FIRST_CONNECT_WAIT_MS passed) a limiter waits for it instead.
 *
 * ioredis bounds only the TCP connect (`connectTimeout`); with no
 * `commandTimeout` its handshake (CLIENT SETNAME, the INFO ready check) has no
 * bound, and a Redis that accepts the connection but never answers would leave
 * it not ready forever. So the handshake gets the same bound, kept by one timer
 * per connection armed only while it runs: past it, the connection reports an
 * error (the limiters' warning) and its socket is destroyed, and ioredis
 * reconnects with its capped backoff. Meanwhile, as for a Redis that is down, calls are skipped.
 */
import { performance } from 'node:perf_hooks';
import type { Command, Redis } from 'ioredis';
import type { RedisClient } from '../api-types';
import type { Diagnostics } from '../log';
import { asIoredis, connectRedis, duplicateRedis } from '../redis';

/** Longest a request waits for its limiter's first Redis connection before the limiter falls back (ms). */
export const FIRST_CONNECT_WAIT_MS = 1000;

/** The handshake's bound when the client sets no `connectTimeout` (ms). */
const DEFAULT_READY_TIMEOUT_MS = 1000;

/** Commands settled (answered or timed out) at the head of the queue are dropped in batches of at least this many. */
const COMPACT_AFTER = 1024;

/** A limiters' connection, its commands' budget and, while its first attempt is in flight, the wait for it. */
export class LimiterConnection {
  /** ioredis's Command class (ioredis is loaded only once a connection is made). */
  readonly Command: typeof Command;
  /** Resolved when the first attempt settles; undefined once it has. */
  #starting: Promise<void> | undefined;
  #settle: (() => void) | undefined;
  #deadline: NodeJS.Timeout | undefined;
  /** Commands sent, oldest first from #head, with the time (performance.now()) each is due by. */
  readonly #sent: Array<Command | undefined> = [];
  readonly #due: number[] = [];
  #head = 0;
  #watchdog: NodeJS.Timeout | undefined;
  readonly #expire = (): void => this.#expireOverdue();
  /** Armed while the handshake runs (status `connect`): the bound of its ready check. */
  #handshake: NodeJS.Timeout | undefined;
  /** The handshake's bound (ms): the client's connectTimeout. */
  readonly readyTimeout: number;
  readonly #watchHandshake = (): void => {
    clearTimeout(this.#handshake);
    this.#handshake = setTimeout(this.#handshakeOverdue, this.readyTimeout);
    this.#handshake.unref();
  };
  readonly #handshakeDone = (): void => {
    clearTimeout(this.#handshake);
    this.#handshake = undefined;
  };
  // Judged after the loop's next poll phase: a reply already waiting in the socket (this process was
  // busy, not Redis silent) is read first and makes the connection ready.
  readonly #handshakeOverdue = (): void => {
    const timer = this.#handshake;
    setImmediate(() => this.#judgeHandshake(timer));
  };
  #judgeHandshake(timer: NodeJS.Timeout | undefined): void {
    // Not if the handshake ended, or another began, meanwhile.
    if (timer === undefined || this.#handshake !== timer || this.client.status !== 'connect') return;
    this.#handshake = undefined;
    this.onError(new Error(`Redis accepted the connection but did not answer its ready check within ${this.readyTimeout} ms; reconnecting`));
    // As ioredis does when its connect timeout passes: destroy the socket (a silent server would hold a
    // graceful close for disconnectTimeout too); its close handler reconnects with the retry backoff.
    this.client.stream.destroy();
  }

  constructor(
    readonly client: Redis,
    /** Budget of one command (ms). */
    readonly timeout: number,
    /** Told when the handshake times out (the connection's other errors come through the client's own listener). */
    private readonly onError: (err: Error) => void,
  ) {
    this.Command = (require('ioredis') as typeof import('ioredis')).Command;
    this.readyTimeout = client.options.connectTimeout || DEFAULT_READY_TIMEOUT_MS;
    client.on('connect', this.#watchHandshake).on('ready', this.#handshakeDone).on('close', this.#handshakeDone);
    if (client.status === 'connect') this.#watchHandshake();
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

  /** Sends `command`; its promise rejects with "Command timed out" when Redis has not answered within the budget. */
  send(command: Command): Promise<unknown> {
    this.#dropAnswered();
    this.#sent.push(command);
    this.#due.push(performance.now() + this.timeout);
    if (this.#watchdog === undefined) this.#arm(this.timeout);
    void this.client.sendCommand(command);
    return command.promise;
  }

  /** Stops the budget's and the handshake's timers (the connection is closing; ioredis rejects what is still in flight). */
  close(): void {
    this.#handshakeDone();
    this.client.off('connect', this.#watchHandshake).off('ready', this.#handshakeDone).off('close', this.#handshakeDone);
    clearTimeout(this.#watchdog);
    this.#watchdog = undefined;
    this.#sent.length = this.#due.length = this.#head = 0;
  }

  /** Forgets the answered commands at the head (Redis answers in order: usually all but the last few), so only those in flight are held. */
  #dropAnswered(): void {
    const sent = this.#sent;
    let i = this.#head;
    while (i < sent.length && sent[i]!.isSettled) sent[i++] = undefined;
    if (i === sent.length) sent.length = this.#due.length = i = 0;
    else if (i >= COMPACT_AFTER) {
      sent.splice(0, i);
      this.#due.splice(0, i);
      i = 0;
    }
    this.#head = i;
  }

  #arm(ms: number): void {
    this.#watchdog = setTimeout(this.#expire, Math.max(1, Math.ceil(ms)));
    this.#watchdog.unref();
  }

  /** Rejects the commands past their budget; re-arms for the oldest one still in flight. */
  #expireOverdue(): void {
    this.#watchdog = undefined;
    const sent = this.#sent;
    const due = this.#due;
    const now = performance.now();
    for (let i = this.#head; i < sent.length && due[i]! <= now; i++) {
      const command = sent[i]!;
      if (!command.isSettled) command.reject(new Error('Command timed out'));
    }
    this.#dropAnswered();
    if (this.#head < sent.length) this.#arm(due[this.#head]! - now);
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
      // No ioredis commandTimeout: the connection keeps the budget itself (see the file comment).
      const options = { connectionName: 'routelens-ratelimit', redisOptions: { commandTimeout: undefined } };
      const source = this.#source;
      const client = typeof source === 'string' ? connectRedis(source, options, onError) : duplicateRedis(asIoredis(source), options, onError);
      connection = new LimiterConnection(client, timeout, onError);
      this.#byTimeout.set(timeout, connection);
    }
    return connection;
  }

  close(): void {
    const connections = [...this.#byTimeout.values()];
    this.#byTimeout.clear();
    for (const connection of connections) {
      connection.close();
      connection.client.disconnect();
    }
  }
}
