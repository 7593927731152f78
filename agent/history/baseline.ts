/**
 * Saved baseline files (`routelens baseline --out perf/baseline.json`): what
 * the agent reads of them is only
 *
 *   { "routes": [ { "id": "GET /users/:id", "count": 1234, "sketch": "<base64 DDSketch protobuf>" }, … ] }
 *
 * Other fields are ignored; a route whose sketch does not decode is skipped.
 * The path is taken relative to the app's working directory and must stay
 * inside it (the command comes from a client; the agent reads no other file).
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { ProtocolError } from '../../protocol';
import type { Side } from './compare';
import { type Sketch, mergeSketch, readSketch } from '../metrics/sketch';

/** A baseline file may be large (one sketch per route), not unbounded. */
const MAX_FILE_BYTES = 32 * 1024 * 1024;

/** The file's absolute path, or ERR_BAD_ARGS when it leaves the working directory. */
export function baselinePath(cwd: string, file: string): string {
  const abs = resolve(cwd, file);
  const rel = relative(cwd, abs);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw new ProtocolError('ERR_BAD_ARGS', `the baseline file must be inside the app's directory (${cwd})`);
  return abs;
}

/** Reads a baseline file: its routes' counts and sketches. ERR_NOT_FOUND / ERR_BAD_ARGS when unusable. */
export async function readBaseline(path: string, shown: string): Promise<Map<string, Side>> {
  let text: string;
  try {
    const buf = await readFile(path);
    if (buf.length > MAX_FILE_BYTES) throw new ProtocolError('ERR_BAD_ARGS', `${shown} is larger than ${MAX_FILE_BYTES} bytes`);
    text = buf.toString('utf8');
  } catch (err) {
    if (err instanceof ProtocolError) throw err;
    const code = (err as { code?: string }).code;
    throw new ProtocolError(code === 'ENOENT' ? 'ERR_NOT_FOUND' : 'ERR_BAD_ARGS', `cannot read ${shown}: ${code ?? 'error'}`);
  }
  return parseBaseline(text, shown);
}

export function parseBaseline(text: string, shown: string): Map<string, Side> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ProtocolError('ERR_BAD_ARGS', `${shown} is not JSON`);
  }
  const routes = (raw as { routes?: unknown } | null)?.routes;
  if (!Array.isArray(routes)) throw new ProtocolError('ERR_BAD_ARGS', `${shown} has no "routes" array ({ routes: [{ id, count, sketch }] })`);
  const out = new Map<string, Side>();
  for (const r of routes as unknown[]) {
    const { id, count, sketch } = (r ?? {}) as { id?: unknown; count?: unknown; sketch?: unknown };
    if (typeof id !== 'string' || typeof sketch !== 'string') continue;
    const s = readOrSkip(sketch);
    if (!s) continue;
    const n = typeof count === 'number' && Number.isFinite(count) && count >= 0 ? count : s.count;
    const prev = out.get(id);
    if (prev) {
      prev.count += n;
      mergeSketch(prev.sketch, s);
    } else out.set(id, { count: n, sketch: s });
  }
  return out;
}

function readOrSkip(base64: string): Sketch | undefined {
  try {
    return readSketch(base64);
  } catch {
    return undefined;
  }
}
