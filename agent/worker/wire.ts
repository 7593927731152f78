/**
 * The messages between the app's main thread (link.ts) and the agent's worker
 * (main.ts). Request samples do not travel here: they go through the shared
 * ring (ring.ts). These carry what is rare: registrations, the first sample of
 * an endpoint, slow requests, the app's parts' figures, commands, logs.
 */
import { ProtocolError, type AgentInfo, type Alert, type CacheEvent, type CacheStats, type CommandName, type Finding, type HealthReport, type RateLimitStats, type SlowRequest, type SystemStats, type Thresholds } from '../../protocol';
import type { BackendOptions, ServerAddress } from '../backend';
import type { CommandSource, RequestSample, RouteDefinition, SlowQuerySummary } from '../internal';
import type { TracedRequest } from '../spans/keep';
import type { RingMemory } from './ring';

export interface WorkerData {
  options: BackendOptions;
  ring: RingMemory;
  /** Set to 1 (and notified) by the worker when it has posted a call's answer. */
  callFlag: SharedArrayBuffer;
  /** The app has a logger: the worker's log lines go to it (else only start-up warnings, to stderr). */
  hasLogger: boolean;
  /** The app's parts' figures at the start. */
  front: FrontState;
}

/** The app's parts' figures: each field present when it changed (all of them in the first). */
export interface FrontState {
  info?: AgentInfo;
  cache?: CacheStats | null;
  cacheEvents?: { events: CacheEvent[]; dropped: number };
  rateLimits?: RateLimitStats[];
  findings?: Finding[] | null;
  slowQueries?: SlowQuerySummary[];
  paused?: boolean;
  /** The main thread's process figures (its event loop, its heap). */
  system?: Omit<SystemStats, 'requestsPerSecond' | 'errorRate' | 'time'>;
}

/** A slow request's fields, copied: a RequestSample reads some of them from the request, and is only valid during record(). */
export type SlowSample = RequestSample;

export type ToWorker =
  | { t: 'register'; def: RouteDefinition }
  | { t: 'bind'; index: number; method: string; route: string | undefined }
  | { t: 'bindCustom'; index: number; name: string }
  | { t: 'slow'; index: number; sample: SlowSample; duration: number; status: number }
  | { t: 'path'; id: string; url: string; start: number }
  | { t: 'slowEntry'; entry: SlowRequest }
  | { t: 'front'; state: FrontState }
  /** Traced requests for the back end's SpanKeeper, in the order they finished. */
  | { t: 'traced'; requests: TracedRequest[] }
  | { t: 'execute'; id: number; command: CommandName; args: unknown; source: CommandSource }
  | { t: 'result'; id: number; ok: true; value: unknown }
  | { t: 'result'; id: number; ok: false; error: WireError }
  | { t: 'close' };

export type FromWorker =
  | { t: 'log'; level: 'warn' | 'error' | 'info' | 'stderr'; line: string }
  | { t: 'alert'; alert: Alert }
  | { t: 'judged'; thresholds: Thresholds; health: HealthReport; firing: Alert[] }
  | { t: 'removed'; ids: string[] }
  | { t: 'listening'; address: ServerAddress | undefined }
  /** Answered (a `result`) once every sample and figure the main thread had before it is sent. */
  | { t: 'sync'; id: number }
  | { t: 'command'; id: number; command: CommandName; args: unknown; source: CommandSource }
  | { t: 'result'; id: number; ok: true; value: unknown }
  | { t: 'result'; id: number; ok: false; error: WireError };

/** A synchronous question of the main thread (agent.snapshot(), agent.stats()). */
export type Call = { seq: number; kind: 'snapshot' } | { seq: number; kind: 'endpoint'; id: string };
export interface Answer {
  seq: number;
  value: unknown;
}

/** An error as it crosses: a ProtocolError keeps its code. */
export interface WireError {
  message: string;
  code?: string;
}

export function toWire(err: unknown): WireError {
  if (err instanceof ProtocolError) return { message: err.message, code: err.code };
  return { message: err instanceof Error ? err.message : String(err) };
}

export function fromWire(e: WireError): Error {
  return e.code === undefined ? new Error(e.message) : new ProtocolError(e.code as ProtocolError['code'], e.message);
}

/** Requests sent across and waiting for their `result`, by id. */
export class Requests {
  private next = 1;
  private readonly waiting = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>();

  /** A new request's id, and the promise its result settles. */
  open(): { id: number; result: Promise<unknown> } {
    const id = this.next++;
    const result = new Promise<unknown>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    return { id, result };
  }

  settle(m: Extract<ToWorker | FromWorker, { t: 'result' }>): void {
    const w = this.waiting.get(m.id);
    if (w === undefined) return;
    this.waiting.delete(m.id);
    if (m.ok) w.resolve(m.value);
    else w.reject(fromWire(m.error));
  }

  /** Every waiting request fails with `err` (the other side is gone). */
  failAll(err: Error): void {
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }
}
