/**
 * Source locations of routes: where each route is registered (the user's stack frame at the
 * app.get / router.route call) and where its handler function is defined (V8's
 * `[[FunctionLocation]]`, read through an in-process `node:inspector` session, off the
 * request path). Both are source-mapped back to TypeScript when the app runs compiled code.
 * Nothing here throws: a location that cannot be found is `undefined`. Source maps: sourcemap.ts.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, sep } from 'node:path';
import type { SourceLocation } from '../../protocol';
import { type ClosureReader, isNestCoreFile, isNestFile, nestTarget } from './nest';
import { type SourceMap, mapLocation, mapThrough, scriptSourceMap, toPath } from './sourcemap';

export { mapLocation } from './sourcemap';

/** Directory holding RouteLens's own files (`<root>/agent/` in source, `<root>/dist/agent/` built). */
const ownDir = ((): string => {
  const marker = `${sep}agent${sep}`;
  const i = __filename.lastIndexOf(marker);
  return i < 0 ? dirname(__filename) + sep : __filename.slice(0, i + marker.length);
})();

const FRAME = /^\s*at (?:.*? \()?(.+?):(\d+):(\d+)\)?\s*$/;

/** True for frames that are not the user's: node internals, node_modules, RouteLens itself. */
export function isInternalFrame(file: string): boolean {
  return (
    file.startsWith('node:') ||
    file.startsWith('internal/') ||
    file.includes(`${sep}node_modules${sep}`) ||
    file.includes('/node_modules/') ||
    file.startsWith(ownDir) ||
    !(isAbsolute(file) || file.startsWith('file:'))
  );
}

/** Where a registration call came from: the first user frame, and whether NestJS's router made the call. */
export interface Registration {
  site: SourceLocation | undefined;
  /** A frame of `@nestjs/core` is below the user's frame: Nest registered it (the user frame is the `app.listen()` line). */
  byNest: boolean;
}

/**
 * The first user frame of the current stack: absolute file, 1-based line and column,
 * source-mapped when needed. Call it from inside the patched registration function.
 */
export function captureSite(): SourceLocation | undefined {
  return captureRegistration().site;
}

/** The first user frame of the current stack, and whether Nest made the call (see Registration). */
export function captureRegistration(): Registration {
  let stack: string | undefined;
  const limit = Error.stackTraceLimit;
  try {
    Error.stackTraceLimit = 50;
    stack = new Error().stack;
  } catch {
    return { site: undefined, byNest: false };
  } finally {
    Error.stackTraceLimit = limit;
  }
  return typeof stack === 'string' ? registrationFrame(stack) : { site: undefined, byNest: false };
}

/** The first user frame of a stack string (exported for tests). */
export function userFrame(stack: string): SourceLocation | undefined {
  return registrationFrame(stack).site;
}

/** The first user frame of a stack string, and whether a `@nestjs/core` frame came before it (exported for tests). */
export function registrationFrame(stack: string): Registration {
  let byNest = false;
  try {
    const lines = stack.split('\n');
    for (let i = 1; i < lines.length; i++) {
      const m = FRAME.exec(lines[i]!);
      if (!m) continue;
      let file = m[1]!;
      if (file.startsWith('file:')) file = toPath(file) ?? '';
      if (!file || isInternalFrame(file)) {
        byNest ||= isNestCoreFile(file);
        continue;
      }
      return { site: mapLocation({ file, line: Number(m[2]), column: Number(m[3]) }), byNest };
    }
  } catch {
    /* a location is optional */
  }
  return { site: undefined, byNest };
}

// ---------------------------------------------------------------- handler locations

type Fn = (...args: never[]) => unknown;

interface InspectorSession {
  connect(): void;
  disconnect(): void;
  post(method: string, params: object, cb: (err: Error | null, result: never) => void): void;
  on(event: string, listener: (msg: { params: never }) => void): void;
}

/** True once the inspector proved unusable; handler locations are then skipped for good. */
let inspectorBroken = false;
const FN_KEY = Symbol.for('routelens.locate.fn');

/**
 * Where each function is defined, through one in-process inspector session (synchronous:
 * in-process sessions answer before `post` returns), called in batches off the request path.
 * Undefined entries when unknown or the inspector is unusable. A function defined in a NestJS
 * package (Nest's proxy around a controller method) is followed through its closures to the user
 * function it calls (nest.ts); `throughNest[i]` is then true. Script URLs come from the
 * Profiler's best-effort coverage when it lists the script, so that the Debugger domain, which
 * makes V8 compute and keep a line-end table for every loaded script, is enabled only for a
 * script coverage does not list (see scriptTable).
 */
export function functionLocations(fns: readonly Fn[], throughNest?: boolean[]): Array<SourceLocation | undefined> {
  const out: Array<SourceLocation | undefined> = fns.map(() => undefined);
  if (inspectorBroken || fns.length === 0) return out;
  let session: InspectorSession | undefined;
  const g = globalThis as unknown as Record<symbol, unknown>;
  try {
    const inspector = require('node:inspector') as { Session: new () => InspectorSession };
    session = new inspector.Session();
    session.connect();
    const s = session;
    const post = <T>(method: string, params: object = {}): T => {
      let result: T | undefined;
      let error: Error | null = null;
      let answered = false;
      s.post(method, params, (err, res) => {
        answered = true;
        error = err;
        result = res as T;
      });
      if (!answered) throw new Error(`inspector ${method} did not answer synchronously`);
      if (error) throw error;
      return result as T;
    };
    const scripts = scriptTable(post, s);
    const reader = closureReader(post, scripts);
    try {
      fns.forEach((fn, i) => {
        if (i > 0 && i % RELEASE_EVERY === 0) post('Runtime.releaseObjectGroup', { objectGroup: OBJECT_GROUP });
        try {
          g[FN_KEY] = fn;
          const { result } = post<{ result: { objectId?: string } }>('Runtime.evaluate', {
            expression: 'globalThis[Symbol.for("routelens.locate.fn")]',
            objectGroup: OBJECT_GROUP,
          });
          if (!result.objectId) return;
          let found = reader.locate(result.objectId);
          if (found?.file !== undefined && isInternalFrame(found.file) && isNestFile(found.file)) {
            const target = nestTarget(reader, result.objectId, (file) => !isInternalFrame(file));
            found = target === undefined ? undefined : reader.locate(target);
            if (found && throughNest) throughNest[i] = true;
          }
          if (!found?.file || isInternalFrame(found.file)) return;
          const loc = { file: found.file, line: found.line, column: found.column };
          out[i] = found.map === undefined ? mapLocation(loc, found.sourceMapURL) : mapThrough(loc, found.map);
        } catch {
          /* this one stays unknown */
        }
      });
    } finally {
      delete g[FN_KEY];
      try {
        post('Runtime.releaseObjectGroup', { objectGroup: OBJECT_GROUP });
        scripts.close();
      } catch {
        /* disconnect below releases everything */
      }
    }
  } catch {
    inspectorBroken = true;
  } finally {
    try {
      session?.disconnect();
    } catch {
      /* already gone */
    }
  }
  return out;
}

/** A script's URL, and how to map its locations: its source map URL, or a map Node already holds for it. */
interface ScriptInfo {
  url: string;
  sourceMapURL?: string;
  map?: SourceMap;
}

/** Extensions of files Node runs as they are on disk; any other file ran as a loader's output (tsx, ts-node). */
const PLAIN_JS = /\.(?:js|cjs|mjs)$/i;

/** Where a function starts in its script (0-based, as V8 gives it), and its source text, read when needed. */
interface FunctionStart {
  line: number;
  column: number;
  text(): string | undefined;
}

/**
 * Script URLs by script id for one session. First from `Profiler.getBestEffortCoverage`, which
 * needs no domain enabled and computes no line ends: it lists every script with a function that
 * has run and is still alive. An ES module always is (its module record keeps its code); a
 * CommonJS file whose only live functions never ran (a routes file, once a full GC took its
 * module wrapper) is not, and is looked for among the app's own CommonJS files (`require.cache`):
 * the one holding the function's source text where V8 says it starts. The source map is then the
 * file's own `sourceMappingURL` comment, else the one Node keeps for the script when its source
 * maps are on (tsx). Only for a script found neither way, or a loader's output whose map is
 * neither (ts-node), is the Debugger domain enabled, once, for its `scriptParsed` events (URL and
 * source map URL of every script, at the cost of a line-end table per script, which V8 keeps).
 */
function scriptTable(post: Post, session: InspectorSession): { get(scriptId: string, start: FunctionStart): ScriptInfo | undefined; close(): void } {
  let covered: Map<string, string> | undefined;
  let parsed: Map<string, ScriptInfo> | undefined;
  const fromDebugger = (scriptId: string): ScriptInfo | undefined => {
    if (parsed === undefined) {
      const table = new Map<string, ScriptInfo>();
      parsed = table;
      session.on('Debugger.scriptParsed', (msg) => {
        const p = msg.params as { scriptId: string; url: string; sourceMapURL?: string };
        table.set(p.scriptId, { url: p.url, sourceMapURL: p.sourceMapURL || undefined });
      });
      post('Debugger.enable');
    }
    return parsed.get(scriptId);
  };
  // One answer per script for this session: the functions of one file share its script id (and the search below reads files).
  const answered = new Map<string, ScriptInfo | undefined>();
  const find = (scriptId: string, start: FunctionStart): ScriptInfo | undefined => {
    if (parsed !== undefined) return parsed.get(scriptId);
    covered ??= coveredScripts(post);
    let url = covered.get(scriptId);
    if (url === undefined) {
      url = commonJsFileAt(start, covered);
      if (url === undefined) return fromDebugger(scriptId);
      covered.set(scriptId, url); // the next search skips it
    }
    if (!url) return { url };
    const file = url.startsWith('file:') ? toPath(url) : url;
    if (file === undefined || file.startsWith('node:') || isInternalFrame(file)) return { url };
    const map = scriptSourceMap(url, file);
    if (map !== null) return { url, map };
    return PLAIN_JS.test(file) ? { url } : fromDebugger(scriptId);
  };
  return {
    get(scriptId, start) {
      if (answered.has(scriptId)) return answered.get(scriptId);
      const info = knownScripts.get(scriptId) ?? find(scriptId, start);
      answered.set(scriptId, info);
      if (info !== undefined) remember(scriptId, info);
      return info;
    },
    close() {
      if (parsed !== undefined) post('Debugger.disable');
    },
  };
}

/**
 * Scripts found in earlier sessions, by script id (V8 never reuses one in a process): a later
 * batch of functions from the same files needs no coverage call and no file search. Bounded.
 */
const knownScripts = new Map<string, ScriptInfo>();
const MAX_KNOWN_SCRIPTS = 4096;

function remember(scriptId: string, info: ScriptInfo): void {
  if (knownScripts.size >= MAX_KNOWN_SCRIPTS) knownScripts.clear();
  knownScripts.set(scriptId, info);
}

/** Script id → URL of the scripts best-effort coverage lists (the function ranges are dropped at once). */
function coveredScripts(post: Post): Map<string, string> {
  const { result } = post<{ result: Array<{ scriptId: string; url: string }> }>('Profiler.getBestEffortCoverage');
  const urls = new Map<string, string>();
  for (const script of result) urls.set(script.scriptId, script.url);
  return urls;
}

/** CommonJS files read per search, at most (the app's own, plain JavaScript, not listed by coverage). */
const MAX_CANDIDATES = 2000;

/**
 * The app's own CommonJS file (not in node_modules, plain JavaScript as Node runs it, none that
 * coverage listed) whose text holds the function's source text across the place V8 says the
 * function starts. Undefined when none does.
 */
function commonJsFileAt(start: FunctionStart, covered: Map<string, string>): string | undefined {
  const cache = typeof require === 'function' ? (require.cache as Record<string, unknown> | undefined) : undefined;
  if (cache === undefined) return undefined;
  const text = start.text();
  if (!text) return undefined;
  const listed = new Set<string>();
  for (const url of covered.values()) listed.add(url.startsWith('file:') ? (toPath(url) ?? url) : url);
  let reads = 0;
  for (const file of Object.keys(cache)) {
    if (!PLAIN_JS.test(file) || isInternalFrame(file) || listed.has(file)) continue;
    if (++reads > MAX_CANDIDATES) return undefined;
    try {
      let source = readFileSync(file, 'utf8');
      if (source.length > MAX_SOURCE_BYTES) continue;
      if (source.charCodeAt(0) === 0xfeff) source = source.slice(1); // Node drops the byte order mark
      const at = offsetOf(source, start.line, start.column);
      if (at < 0) continue;
      const found = source.indexOf(text, Math.max(0, at - text.length + 1));
      if (found >= 0 && found <= at) return file;
    } catch {
      /* unreadable: not this one */
    }
  }
  return undefined;
}

/** The offset of a 0-based line and column in `source` (line terminators as V8 counts them), or -1. */
function offsetOf(source: string, line: number, column: number): number {
  const eol = /\r\n?|[\n\u2028\u2029]/g;
  let offset = 0;
  for (let l = 0; l < line; l++) {
    const m = eol.exec(source);
    if (m === null) return -1;
    offset = m.index + m[0].length;
  }
  return offset + column <= source.length ? offset + column : -1;
}

const OBJECT_GROUP = 'routelens';
/**
 * Functions located between two releases of the remote objects. The inspector keeps its remote
 * objects in a weak table it never shrinks: released only at the end of a batch of 2,000 handlers,
 * it stays at 262 kB in the app's heap for good (three objects a function); released every
 * RELEASE_EVERY, it stays at about 16 kB.
 */
const RELEASE_EVERY = 32;

type Post = <T>(method: string, params?: object) => T;
interface RemoteProperty {
  name: string;
  value?: { type?: string; objectId?: string; description?: string; value?: unknown };
}

/** A function's definition (file, 1-based line and column, its script's source map) and closure scopes, by remote object id. */
function closureReader(post: Post, scripts: { get(scriptId: string, start: FunctionStart): ScriptInfo | undefined }): ClosureReader & {
  locate(objectId: string): { file: string | undefined; line: number; column: number; sourceMapURL: string | undefined; map: SourceMap | undefined } | undefined;
} {
  const internals = (objectId: string): RemoteProperty[] =>
    post<{ internalProperties?: RemoteProperty[] }>('Runtime.getProperties', { objectId, ownProperties: true }).internalProperties ?? [];
  const sourceText = (objectId: string): string | undefined => {
    const { result } = post<{ result?: { value?: unknown } }>('Runtime.callFunctionOn', {
      objectId,
      functionDeclaration: 'function () { return Function.prototype.toString.call(this); }',
      returnByValue: true,
    });
    return typeof result?.value === 'string' ? result.value : undefined;
  };
  const locateIn = (objectId: string, props: RemoteProperty[]) => {
    const loc = props.find((p) => p.name === '[[FunctionLocation]]')?.value?.value as { scriptId: string; lineNumber: number; columnNumber: number } | undefined;
    const script = loc && scripts.get(loc.scriptId, { line: loc.lineNumber, column: loc.columnNumber, text: () => sourceText(objectId) });
    if (!loc || !script?.url) return undefined;
    const file = script.url.startsWith('file:') ? toPath(script.url) : script.url;
    return { file, line: loc.lineNumber + 1, column: loc.columnNumber + 1, sourceMapURL: script.sourceMapURL, map: script.map };
  };
  return {
    locate: (objectId) => locateIn(objectId, internals(objectId)),
    describe: (objectId) => {
      const props = internals(objectId);
      return { file: locateIn(objectId, props)?.file, scopes: props.find((p) => p.name === '[[Scopes]]')?.value?.objectId };
    },
    properties: (objectId, inherited = false) =>
      post<{ result?: RemoteProperty[] }>('Runtime.getProperties', { objectId, ownProperties: !inherited }).result?.map((p) => ({
        name: p.name,
        type: p.value?.type,
        objectId: p.value?.objectId,
        description: p.value?.description,
        value: p.value?.value,
      })) ?? [],
  };
}

/** True when two locations are on the same line of the same file. */
export function sameLine(a: SourceLocation | undefined, b: SourceLocation | undefined): boolean {
  return a !== undefined && b !== undefined && a.file === b.file && a.line === b.line;
}

// ---------------------------------------------------------------- registration sites of discovered routes

const MAX_LINES_UP = 8;
const MAX_SOURCE_BYTES = 2 * 1024 * 1024;
const MAX_SOURCES = 32;
const sources = new Map<string, string[] | null>();

function linesOf(file: string): string[] | null {
  let lines = sources.get(file);
  if (lines !== undefined) return lines;
  try {
    const text = readFileSync(file, 'utf8');
    lines = text.length <= MAX_SOURCE_BYTES ? text.split('\n') : null;
  } catch {
    lines = null;
  }
  if (sources.size >= MAX_SOURCES) sources.clear();
  sources.set(file, lines);
  return lines;
}

function quoted(literal: string): string[] {
  return [`'${literal}'`, `"${literal}"`, `\`${literal}\``];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Where a route found already registered (no stack to read) was registered, from its handler's
 * location: the `get(` / `post(` / … call on the handler's line or a few lines above it (with the
 * route's path written at most as many lines above, when it is a string: `route('/x')` chains), else the one call with this method
 * and this path literal in the handler's file or `otherFiles` (where the same router's other routes
 * were found). Undefined when not found, or found more than once. Reads source files (cached);
 * call off the request path.
 */
export function registrationSite(handler: SourceLocation, method: string, literal: string | undefined, otherFiles: Iterable<string>): SourceLocation | undefined {
  try {
    const verb = method === 'ALL' ? 'all' : method.toLowerCase();
    if (!/^[a-z-]+$/.test(verb)) return undefined;
    return nearCall(handler, verb, literal) ?? (literal === undefined ? undefined : onlyCall([handler.file, ...otherFiles], verb, literal));
  } catch {
    return undefined;
  }
}

function nearCall(handler: SourceLocation, verb: string, literal: string | undefined): SourceLocation | undefined {
  const lines = linesOf(handler.file);
  const last = handler.line - 1;
  if (!lines || last >= lines.length) return undefined;
  const call = new RegExp(`\\b${escapeRegExp(verb)}\\s*\\(`, 'g');
  for (let l = last; l >= 0 && l >= last - MAX_LINES_UP; l--) {
    const text = l === last ? lines[l]!.slice(0, Math.max(0, handler.column - 1)) : lines[l]!;
    let index = -1;
    for (let m = call.exec(text); m !== null; m = call.exec(text)) index = m.index;
    call.lastIndex = 0;
    if (index < 0) continue;
    if (literal !== undefined) {
      const between = [...lines.slice(Math.max(0, l - MAX_LINES_UP), last), lines[last]!.slice(0, Math.max(0, handler.column - 1))].join('\n');
      if (!quoted(literal).some((q) => between.includes(q))) return undefined;
    }
    return { file: handler.file, line: l + 1, column: index + 1 };
  }
  return undefined;
}

function onlyCall(files: string[], verb: string, literal: string): SourceLocation | undefined {
  const call = new RegExp(`\\b${escapeRegExp(verb)}\\s*\\(\\s*(['"\`])${escapeRegExp(literal)}\\1`);
  let found: SourceLocation | undefined;
  for (const file of new Set(files)) {
    const lines = linesOf(file);
    if (!lines) continue;
    for (let l = 0; l < lines.length; l++) {
      const m = call.exec(lines[l]!);
      if (!m) continue;
      if (found) return undefined;
      found = { file, line: l + 1, column: m.index + 1 };
    }
  }
  return found;
}
