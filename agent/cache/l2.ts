/**
 * The Redis tier: one command connection and one subscriber connection, every
 * call bounded, a circuit breaker, and one state machine for the connection
 * events. Nothing here throws or rejects: a failed call returns FAIL, counts an
 * error and feeds the breaker; callers treat FAIL as a miss or a skipped write.
 */
import type { Redis } from 'ioredis';
import type { RedisState } from '../../protocol';
import { connectRedis, duplicateRedis } from '../redis';

export const FAIL: unique symbol = Symbol('routelens.cache.l2.fail');
export type Fail = typeof FAIL;

/** COUNT hint of each SCAN / SSCAN page (sweeps and the key browser). */
export const SCAN_COUNT = 200;

export interface L2Options {
  redis: string | Redis;
  timeout: number;
  channel: string;
  breakerThreshold: number;
  /** Wall-clock cool-down (the breaker measures real time, not the cache's injectable clock). */
  breakerCooldown: number;
  onState(state: RedisState): void;
  onError(message: string): void;
  /** A message from the invalidation channel (already filtered to our channel). */
  onMessage(text: string): void;
  /** The subscriber (re)subscribed: messages may have been lost since, flush L1. */
  onSubscribed(): void;
}

/**
 * SET a data key and add it to its tag sets. A tag set lives as long as its
 * longest-lived member: a new set gets the entry's TTL, an existing one is only
 * ever extended, and an entry without TTL makes the set persistent.
 */
const SET_WITH_TAGS = `
local px = tonumber(ARGV[2])
if px > 0 then redis.call('SET', KEYS[1], ARGV[1], 'PX', px) else redis.call('SET', KEYS[1], ARGV[1]) end
for i = 2, #KEYS do
  local added = redis.call('SADD', KEYS[i], KEYS[1])
  if px == 0 then
    redis.call('PERSIST', KEYS[i])
  else
    local t = redis.call('PTTL', KEYS[i])
    if (added == 1 and redis.call('SCARD', KEYS[i]) == 1) or (t >= 0 and t < px) then redis.call('PEXPIRE', KEYS[i], px) end
  end
end
return 1`;

export class L2 {
  readonly client: Redis;
  private readonly sub: Redis;
  private readonly ownsClient: boolean;
  private readonly raceTimer: boolean;
  private clientState: RedisState = 'connecting';
  private reported: RedisState = 'connecting';
  private failures = 0;
  private openUntil = 0;
  private probing = false;
  private probeTimer: NodeJS.Timeout | undefined;
  private subscribeTimer: NodeJS.Timeout | undefined;
  /** The invalidation channel is subscribed (and L1 was flushed for it): only then is the cache in step with its peers. */
  private subscribed = false;
  private closed = false;
  errors = 0;
  private readonly detach: Array<() => void> = [];

  constructor(private readonly o: L2Options) {
    const onError = (err: Error) => this.connectionError(err);
    if (typeof o.redis === 'string') {
      this.client = connectRedis(o.redis, { commandTimeout: o.timeout, connectionName: 'routelens-cache' }, onError);
      this.ownsClient = true;
      this.raceTimer = false;
    } else {
      this.client = o.redis;
      this.ownsClient = false;
      // A client we did not configure may have no (or a long) command timeout.
      this.raceTimer = true;
      this.listen(this.client, 'error', onError);
      if (this.client.status === 'ready') this.clientState = 'ready';
    }
    this.listen(this.client, 'ready', () => {
      // A fresh connection: forget failures seen on the old one.
      this.failures = 0;
      this.openUntil = 0;
      this.setClientState('ready');
    });
    this.listen(this.client, 'close', () => this.setClientState('down'));
    this.listen(this.client, 'end', () => this.setClientState('down'));

    this.sub = duplicateRedis(this.client, { commandTimeout: Math.max(o.timeout, 1000), connectionName: 'routelens-cache-sub' }, () => {});
    this.sub.on('ready', () => this.subscribe());
    this.sub.on('close', () => {
      this.subscribed = false;
      this.report();
    });
    this.sub.on('message', (channel: string, message: string) => {
      if (channel === o.channel) o.onMessage(message);
    });
    this.report();
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private listen(client: Redis, event: string, fn: (...args: any[]) => void): void {
    client.on(event, fn);
    this.detach.push(() => client.off(event, fn));
  }

  private subscribe(): void {
    if (this.closed) return;
    clearTimeout(this.subscribeTimer);
    this.subscribeTimer = undefined;
    this.sub.subscribe(this.o.channel).then(
      () => {
        if (this.closed) return;
        this.o.onSubscribed();
        this.subscribed = true;
        this.report();
      },
      () => {
        // Retry while the connection stays up (a reconnect's 'ready' also retries).
        if (this.closed || this.subscribeTimer !== undefined) return;
        this.subscribeTimer = setTimeout(() => {
          this.subscribeTimer = undefined;
          if (this.sub.status === 'ready') this.subscribe();
        }, 1000);
        this.subscribeTimer.unref();
      },
    );
  }

  private connectionError(err: Error): void {
    if (this.clientState !== 'ready') this.setClientState('down');
    void err;
  }

  private setClientState(s: RedisState): void {
    if (this.closed) return;
    // While reconnecting ioredis goes close → reconnecting → connect → close…: stay 'down' until ready.
    this.clientState = s;
    this.report();
  }

  /**
   * Effective state: an open breaker counts as down even while the socket is up (a frozen Redis);
   * 'ready' only once the invalidation channel is subscribed too (until then L2 answers reads, but
   * peers' invalidations may be missed, so L1 is flushed when the subscription lands).
   */
  state(): RedisState {
    if (this.closed) return 'none';
    if (this.clientState === 'ready' && this.openUntil > 0) return 'down';
    if (this.clientState === 'ready' && !this.subscribed) return 'connecting';
    return this.clientState;
  }

  private report(): void {
    const s = this.state();
    if (s === this.reported) return;
    this.reported = s;
    this.o.onState(s);
  }

  /** True when a call may go to Redis now (ready, breaker closed or due for one probe). */
  available(): boolean {
    if (this.closed || this.client.status !== 'ready') return false;
    if (this.openUntil === 0) return true;
    if (this.probing || Date.now() < this.openUntil) return false;
    return true;
  }

  /** Runs one bounded call. FAIL when unavailable (not counted) or failed (counted, feeds the breaker). */
  async run<T>(fn: (c: Redis) => Promise<T>): Promise<T | Fail> {
    if (!this.available()) return FAIL;
    const probe = this.openUntil > 0;
    if (probe) this.probing = true;
    try {
      const result = this.raceTimer ? await this.race(fn(this.client)) : await fn(this.client);
      this.succeeded();
      return result;
    } catch (err) {
      this.failed(err);
      return FAIL;
    } finally {
      if (probe) this.probing = false;
    }
  }

  private race<T>(p: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('Command timed out')), this.o.timeout);
      timer.unref();
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }

  private succeeded(): void {
    this.failures = 0;
    if (this.openUntil !== 0) {
      this.openUntil = 0;
      this.report();
    }
  }

  private failed(err: unknown): void {
    this.errors++;
    this.failures++;
    this.o.onError(err instanceof Error ? err.message : String(err));
    if (this.openUntil > 0 || this.failures >= this.o.breakerThreshold) {
      this.openUntil = Date.now() + this.o.breakerCooldown;
      this.report();
      this.scheduleProbe();
    }
  }

  /** One PING after the cool-down, so recovery is seen even when no request reaches L2 (one timer at most). */
  private scheduleProbe(): void {
    if (this.probeTimer !== undefined || this.closed) return;
    this.probeTimer = setTimeout(() => {
      this.probeTimer = undefined;
      if (this.openUntil > 0) void this.run((c) => c.ping());
    }, this.o.breakerCooldown + 1);
    this.probeTimer.unref();
  }

  get(key: string): Promise<Buffer | null | Fail> {
    return this.run((c) => c.getBuffer(key));
  }

  set(key: string, value: Buffer, px: number, tagKeys: string[]): Promise<unknown> {
    if (tagKeys.length === 0) return this.run((c) => (px > 0 ? c.set(key, value, 'PX', px) : c.set(key, value)));
    return this.run((c) => c.eval(SET_WITH_TAGS, 1 + tagKeys.length, key, ...tagKeys, value, String(px)));
  }

  /** One MGET: each key's payload or null, in order. */
  mget(keys: string[]): Promise<Array<Buffer | null> | Fail> {
    if (keys.length === 0) return Promise.resolve([]);
    return this.run((c) => c.mgetBuffer(...keys));
  }

  /**
   * One pipeline (one round trip): each write as `set` would send it, then one PUBLISH of `message`.
   * Per write, true when Redis accepted it. A pipeline whose every command failed counts as one failure.
   */
  setMany(writes: Array<{ key: string; payload: Buffer; px: number; tagKeys: string[] }>, message: string): Promise<boolean[] | Fail> {
    return this.run(async (c) => {
      const p = c.pipeline();
      for (const w of writes) {
        if (w.tagKeys.length > 0) p.eval(SET_WITH_TAGS, 1 + w.tagKeys.length, w.key, ...w.tagKeys, w.payload, String(w.px));
        else if (w.px > 0) p.set(w.key, w.payload, 'PX', w.px);
        else p.set(w.key, w.payload);
      }
      p.publish(this.o.channel, message);
      const results = (await p.exec()) ?? [];
      const errors = results.map(([err]) => err);
      if (results.length === 0 || errors.every((e) => e !== null)) throw errors[0] ?? new Error('pipeline was not executed');
      return writes.map((_, i) => errors[i] === null || errors[i] === undefined);
    });
  }

  unlink(keys: string[]): Promise<number | Fail> {
    if (keys.length === 0) return Promise.resolve(0);
    return this.run((c) => c.unlink(...keys));
  }

  publish(message: string): Promise<unknown> {
    return this.run((c) => c.publish(this.o.channel, message));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    clearTimeout(this.subscribeTimer);
    this.subscribeTimer = undefined;
    for (const d of this.detach) d();
    this.detach.length = 0;
    this.sub.removeAllListeners('ready');
    this.sub.removeAllListeners('message');
    this.sub.removeAllListeners('close');
    this.sub.disconnect();
    if (this.ownsClient) {
      try {
        if (this.client.status === 'ready') await this.client.quit();
        else this.client.disconnect();
      } catch {
        this.client.disconnect();
      }
    }
  }
}
