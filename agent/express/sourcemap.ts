/**
 * Source maps of located code: a generated location (the user's stack frame, a function's
 * `[[FunctionLocation]]`) mapped back to its source through the file's `//# sourceMappingURL`
 * (a .map file or an inline `data:` URL), a source map URL the caller knows, or the map Node
 * keeps for a script it ran with source maps on. Parsed maps and file paths are cached, bounded.
 * Nothing here throws.
 */
import { readFileSync } from 'node:fs';
import type { SourceMap as ParsedMap } from 'node:module';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SourceLocation } from '../../protocol';
import { truncate } from '../text';

const MAX_PATH = 1024;
const MAX_SOURCE_MAPS = 256;
const MAX_MAP_BYTES = 16 * 1024 * 1024;

/** A file: URL as a path (undefined when it is not one). */
export function toPath(url: string): string | undefined {
  try {
    return fileURLToPath(url);
  } catch {
    return undefined;
  }
}

/** File paths, one flat copy each: a path cut from a stack trace would otherwise keep the whole trace alive. */
const files = new Map<string, string>();
const MAX_FILES = 4096;

function intern(file: string): string {
  let flat = files.get(file);
  if (flat === undefined) {
    flat = JSON.parse(JSON.stringify(file)) as string; // a new sequential string, not a slice of the stack
    if (files.size >= MAX_FILES) files.clear();
    files.set(flat, flat);
  }
  return flat;
}

function clean(loc: SourceLocation): SourceLocation {
  const file = intern(truncate(loc.file, MAX_PATH));
  return { file, line: Math.max(1, Math.trunc(loc.line) || 1), column: Math.max(1, Math.trunc(loc.column) || 1) };
}

/** A parsed source map, the directory its relative sources are resolved against, and its `sourceRoot` ('' without one). */
export interface SourceMap {
  parsed: ParsedMap;
  base: string;
  root: string;
}

const maps = new Map<string, SourceMap | null>();

/** Parsed by Node's own parser (node:module's SourceMap): no library's code is held in the app's heap for it. */
function parse(payload: { sourceRoot?: unknown }, base: string): SourceMap {
  const { SourceMap: Parsed } = require('node:module') as typeof import('node:module');
  return { parsed: new Parsed(payload as never), base, root: typeof payload.sourceRoot === 'string' ? payload.sourceRoot : '' };
}

/** A mapping's source as a path: under the map's sourceRoot, then against its directory (file: URLs as paths). */
function sourcePath(source: string, map: SourceMap): string {
  const rooted = map.root !== '' && !isAbsolute(source) && !/^[a-z][a-z0-9+.-]*:/i.test(source) ? `${map.root.endsWith('/') ? map.root : `${map.root}/`}${source}` : source;
  return rooted.startsWith('file:') ? (toPath(rooted) ?? rooted) : resolve(map.base, rooted);
}

/**
 * Maps a generated location (1-based line and column) back through the file's
 * `//# sourceMappingURL` when it has one; a location already pointing at the source
 * (tsx, --enable-source-maps) has no such comment and is kept as is.
 */
export function mapLocation(loc: SourceLocation, sourceMapURL?: string): SourceLocation {
  let map: SourceMap | null = null;
  try {
    map = sourceMapFor(loc.file, sourceMapURL);
  } catch {
    /* keep the generated location */
  }
  return mapThrough(loc, map);
}

/** A generated location mapped through `map` (kept as is without one, or where the map has no mapping). */
export function mapThrough(loc: SourceLocation, map: SourceMap | null): SourceLocation {
  try {
    if (map) {
      const line = loc.line - 1;
      const entry = map.parsed.findEntry(line, Math.max(0, loc.column - 1));
      // The nearest mapping at or before the position, which may be on an earlier line: only the location's own line counts.
      if ('originalSource' in entry && entry.generatedLine === line && entry.originalSource && entry.originalLine >= 0) {
        return clean({ file: sourcePath(entry.originalSource, map), line: entry.originalLine + 1, column: entry.originalColumn + 1 });
      }
    }
  } catch {
    /* keep the generated location */
  }
  return clean(loc);
}

/**
 * The source map Node keeps for a script it ran with source maps on (`--enable-source-maps`,
 * or a loader that turns them on, as tsx does): the map of a loader's output, whose file on disk
 * has no `sourceMappingURL` comment. Undefined when Node has none.
 */
function nodeSourceMap(url: string, file: string): SourceMap | undefined {
  const key = `${file}\0node`;
  const cached = maps.get(key);
  if (cached !== undefined) return cached ?? undefined;
  let result: SourceMap | null = null;
  try {
    const { findSourceMap } = require('node:module') as { findSourceMap?: (path: string) => ParsedMap | undefined };
    const found = findSourceMap?.(url) ?? (url === file ? undefined : findSourceMap?.(file));
    // Node's own map, parsed already; its sources are absolute (Node resolved them, sourceRoot included).
    if (found !== undefined && typeof found.findEntry === 'function') result = { parsed: found, base: dirname(file), root: '' };
  } catch {
    result = null;
  }
  if (maps.size >= MAX_SOURCE_MAPS) maps.clear();
  maps.set(key, result);
  return result ?? undefined;
}

/**
 * The map of a script that ran from `file` (its URL: `url`): the file's own `sourceMappingURL`,
 * else the map Node keeps for it (a loader's output); null when it has neither.
 */
export function scriptSourceMap(url: string, file: string): SourceMap | null {
  return sourceMapFor(file, undefined) ?? nodeSourceMap(url, file) ?? null;
}

/** The source map of `file`: from `knownURL` when given, else from the file's own comment; null when it has none. Cached. */
function sourceMapFor(file: string, knownURL: string | undefined): SourceMap | null {
  const key = knownURL === undefined ? file : `${file}\0${knownURL.length > 200 ? knownURL.slice(0, 200) + knownURL.length : knownURL}`;
  const cached = maps.get(key);
  if (cached !== undefined) return cached;
  let result: SourceMap | null = null;
  try {
    let url = knownURL;
    if (url === undefined) {
      const text = readFileSync(file, 'utf8');
      const m = /\/\/[#@] ?sourceMappingURL=([^\s'"]+)\s*$/.exec(text.slice(-MAX_MAP_BYTES));
      url = m?.[1];
    }
    if (url) {
      let raw: string;
      let base = dirname(file);
      if (url.startsWith('data:')) {
        const comma = url.indexOf(',');
        const meta = url.slice(0, comma);
        const data = url.slice(comma + 1);
        raw = meta.endsWith(';base64') ? Buffer.from(data, 'base64').toString('utf8') : decodeURIComponent(data);
      } else {
        const mapFile = url.startsWith('file:') ? (toPath(url) ?? url) : resolve(dirname(file), url);
        raw = readFileSync(mapFile, 'utf8');
        base = dirname(mapFile);
      }
      if (raw.length <= MAX_MAP_BYTES) {
        result = parse(JSON.parse(raw) as { sourceRoot?: unknown }, base);
      }
    }
  } catch {
    result = null;
  }
  if (maps.size >= MAX_SOURCE_MAPS) maps.clear();
  maps.set(key, result);
  return result;
}
