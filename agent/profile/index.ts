/**
 * "Profile this route": a CPU profile of the process for N seconds, kept to
 * the samples whose stacks pass through one route's handler or middleware.
 *
 * The profile is taken through an in-process `node:inspector` Session
 * (Profiler.enable / setSamplingInterval / start / stop): no debugger, no
 * breakpoint, the process never stops. Once the profile is stopped, the
 * Debugger domain is enabled for one synchronous step to learn each script's
 * source map (as route capture does), so the profile's frames are compared with
 * the route's source locations (handler, registration site, middleware seen in
 * traces) in the same coordinates: file and line. A sample is kept when any
 * frame of its stack is one of them.
 *
 * The written `.cpuprofile` is the standard shape (nodes, startTime, endTime,
 * samples, timeDeltas): the kept samples with their own time deltas (so the
 * timeline is the kept time, end to end), the nodes on their stacks, hit counts
 * recounted. It opens in VS Code's profile viewer and in Chrome DevTools.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProtocolError, type ProfileFunction, type ProfileSummary, type SourceLocation } from '../../protocol';
import { isInternalFrame } from '../express/location';
import { type SourceMap, mapThrough, scriptSourceMap } from '../express/sourcemap';
import { round } from '../text';

export const DEFAULT_PROFILE_SECONDS = 10;
/** Sampling interval (µs). */
const SAMPLING_US = 1000;
const TOP_FUNCTIONS = 20;

export interface ProfilerParts {
  /** The route's handler and middleware locations; undefined when there is no such endpoint. */
  routeFrames(endpoint: string): SourceLocation[] | undefined;
  /** Requests of the endpoint completed so far (to count those while profiling). */
  requestCount(endpoint: string): number;
  /** Directory the profiles go to (`<workspace>/.routelens/profiles`, read when a profile is written); a temp dir when it cannot be written. */
  dir: () => string;
}

interface CallFrame {
  functionName: string;
  scriptId: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
  positionTicks?: unknown;
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

interface Session {
  connect(): void;
  disconnect(): void;
  post(method: string, params: object, callback: (err: Error | null, result?: unknown) => void): void;
  on(event: string, listener: (msg: { params: unknown }) => void): void;
}

/** Runs one route profile at a time. */
export class RouteProfiler {
  #running: { session: Session; timer: NodeJS.Timeout; cancel: () => void } | undefined;

  constructor(private readonly parts: ProfilerParts) {}

  get running(): boolean {
    return this.#running !== undefined;
  }

  async profile(endpoint: string, seconds = DEFAULT_PROFILE_SECONDS): Promise<ProfileSummary> {
    if (this.#running) throw new ProtocolError('ERR_UNAVAILABLE', 'a profile is already running');
    const frames = this.parts.routeFrames(endpoint);
    if (frames === undefined) throw new ProtocolError('ERR_NOT_FOUND', `no endpoint ${JSON.stringify(endpoint.slice(0, 200))}`);
    if (frames.length === 0) throw new ProtocolError('ERR_UNAVAILABLE', `no source location is known for ${endpoint.slice(0, 200)}'s handler`);
    const before = this.parts.requestCount(endpoint);
    const profile = await this.#record(seconds);
    const requests = Math.max(0, this.parts.requestCount(endpoint) - before);
    const scripts: ScriptMaps = new Map();
    const matcher = frameMatcher(frames, scripts);
    const { kept, top } = keepRoute(profile, matcher, scripts);
    const file = await writeProfile(this.parts.dir(), endpoint, kept);
    return { endpoint, seconds, file, samples: profile.samples.length, kept: kept.samples.length, requests, top };
  }

  /** Stops a running profile (agent close); its caller gets ERR_UNAVAILABLE. */
  cancel(): void {
    this.#running?.cancel();
  }

  #record(seconds: number): Promise<CpuProfile> {
    const inspector = require('node:inspector') as { Session: new () => Session };
    const session = new inspector.Session();
    const post = <T>(method: string, params: object = {}) =>
      new Promise<T>((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res as T))));
    const end = () => {
      this.#running = undefined;
      try {
        session.disconnect();
      } catch {
        /* already gone */
      }
    };
    return new Promise<CpuProfile>((resolve, reject) => {
      try {
        session.connect();
      } catch (err) {
        reject(new ProtocolError('ERR_UNAVAILABLE', `the inspector is not available: ${(err as Error).message}`));
        return;
      }
      const stop = async () => {
        try {
          const { profile } = await post<{ profile: CpuProfile }>('Profiler.stop');
          await post('Profiler.disable');
          resolve(profile);
        } catch (err) {
          reject(new ProtocolError('ERR_UNAVAILABLE', `the profiler failed: ${(err as Error).message}`));
        } finally {
          end();
        }
      };
      const timer = setTimeout(() => void stop(), seconds * 1000);
      timer.unref();
      this.#running = {
        session,
        timer,
        cancel: () => {
          clearTimeout(timer);
          end();
          reject(new ProtocolError('ERR_UNAVAILABLE', 'the profile was stopped: the agent closed'));
        },
      };
      void post('Profiler.enable')
        .then(() => post('Profiler.setSamplingInterval', { interval: SAMPLING_US }))
        .then(() => post('Profiler.start'))
        .catch((err: unknown) => {
          clearTimeout(timer);
          end();
          reject(new ProtocolError('ERR_UNAVAILABLE', `the profiler could not start: ${(err as Error).message}`));
        });
    });
  }
}

/**
 * Each frame's script's source map, found once per URL: the file's own `sourceMappingURL`, else
 * the map Node keeps for a loader's output (tsx, --enable-source-maps). Not from the Debugger
 * domain: enabling it makes V8 compute and keep a line-end table of every script the app loaded.
 */
type ScriptMaps = Map<string, SourceMap | null>;

function mapOf(url: string, file: string, scripts: ScriptMaps): SourceMap | null {
  let map = scripts.get(url);
  if (map === undefined) {
    map = scriptSourceMap(url, file);
    scripts.set(url, map);
  }
  return map;
}

/** Where a frame is in the user's code (source-mapped), or undefined for node internals, dependencies and RouteLens. */
function frameLocation(frame: CallFrame, scripts: ScriptMaps): SourceLocation | undefined {
  const url = frame.url;
  if (!url || frame.lineNumber < 0) return undefined;
  let file = url;
  if (url.startsWith('file:')) {
    try {
      file = fileURLToPath(url);
    } catch {
      return undefined;
    }
  }
  if (isInternalFrame(file)) return undefined;
  return mapThrough({ file, line: frame.lineNumber + 1, column: frame.columnNumber + 1 }, mapOf(url, file, scripts));
}

/** True for a frame defined on one of the route's lines. */
function frameMatcher(frames: readonly SourceLocation[], scripts: ScriptMaps): (frame: CallFrame) => boolean {
  const lines = new Set(frames.map((f) => `${f.file}:${f.line}`));
  return (frame) => {
    const at = frameLocation(frame, scripts);
    return at !== undefined && lines.has(`${at.file}:${at.line}`);
  };
}

/** The profile kept to the samples whose stacks pass through a matching frame, and its top self-time functions. */
export function keepRoute(profile: CpuProfile, matches: (frame: CallFrame) => boolean, scripts: ScriptMaps = new Map()): { kept: CpuProfile; top: ProfileFunction[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  /** Node id → its stack passes through the route. */
  const inRoute = new Map<number, boolean>();
  const through = (id: number): boolean => {
    const chain: number[] = [];
    let answer = false;
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const known = inRoute.get(at);
      if (known !== undefined) {
        answer = known;
        break;
      }
      chain.push(at);
      if (matches(byId.get(at)!.callFrame)) {
        answer = true;
        break;
      }
    }
    for (const c of chain) inRoute.set(c, answer);
    return answer;
  };
  const samples: number[] = [];
  const timeDeltas: number[] = [];
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    if (!through(id)) return;
    const delta = profile.timeDeltas[i] ?? 0;
    samples.push(id);
    timeDeltas.push(delta);
    self.set(id, (self.get(id) ?? 0) + delta);
  });
  // The nodes on the kept samples' stacks, down to the root.
  const keep = new Set<number>();
  for (const id of self.keys()) for (let at: number | undefined = id; at !== undefined && !keep.has(at); at = parent.get(at)) keep.add(at);
  const hits = new Map<number, number>();
  for (const id of samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const nodes: ProfileNode[] = profile.nodes
    .filter((n) => keep.has(n.id))
    .map((n) => ({ id: n.id, callFrame: n.callFrame, hitCount: hits.get(n.id) ?? 0, children: (n.children ?? []).filter((c) => keep.has(c)) }));
  const totalUs = timeDeltas.reduce((a, b) => a + b, 0);
  const kept: CpuProfile = { nodes, startTime: profile.startTime, endTime: profile.startTime + totalUs, samples, timeDeltas };
  return { kept, top: topFunctions(self, byId, totalUs, scripts) };
}

function topFunctions(self: Map<number, number>, byId: Map<number, ProfileNode>, totalUs: number, scripts: ScriptMaps): ProfileFunction[] {
  const byFunction = new Map<string, { frame: CallFrame; us: number }>();
  for (const [id, us] of self) {
    const frame = byId.get(id)!.callFrame;
    const key = `${frame.functionName}\u0000${frame.url}\u0000${frame.lineNumber}\u0000${frame.columnNumber}`;
    const entry = byFunction.get(key);
    if (entry) entry.us += us;
    else byFunction.set(key, { frame, us });
  }
  return [...byFunction.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, TOP_FUNCTIONS)
    .map(({ frame, us }) => {
      const location = frameLocation(frame, scripts) ?? rawLocation(frame);
      return {
        functionName: frame.functionName || '(anonymous)',
        ...(location ? { location } : {}),
        selfMs: round(us / 1000),
        share: totalUs > 0 ? round(us / totalUs) : 0,
      };
    });
}

/** A dependency's or node's own frame, where it has a file. */
function rawLocation(frame: CallFrame): SourceLocation | undefined {
  if (!frame.url || frame.lineNumber < 0) return undefined;
  let file = frame.url;
  if (file.startsWith('file:')) {
    try {
      file = fileURLToPath(file);
    } catch {
      return undefined;
    }
  }
  return { file, line: frame.lineNumber + 1, column: frame.columnNumber + 1 };
}

/** Writes `<dir>/<route>-<time>.cpuprofile`, or into the temp dir when `dir` cannot be written; returns the path. */
async function writeProfile(dir: string, endpoint: string, profile: CpuProfile): Promise<string> {
  const name = `${endpoint.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 80) || 'route'}-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`;
  const text = JSON.stringify(profile);
  for (const d of [dir, join(tmpdir(), 'routelens-profiles')]) {
    try {
      await mkdir(d, { recursive: true });
      const file = join(d, name);
      await writeFile(file, text);
      return file;
    } catch {
      /* try the next place */
    }
  }
  throw new ProtocolError('ERR_UNAVAILABLE', 'the profile could not be written: neither the workspace nor the temp dir is writable');
}
