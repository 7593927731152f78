/**
 * How an entry is stored in L2: one Redis string per key holding a JSON
 * envelope, gzipped when longer than `compressAbove` (a gzip payload is told
 * apart by its magic bytes 1f 8b). The field names are short because the
 * envelope is written with every value, and they are what instances of two
 * versions sharing a Redis read from each other, so they stay as they are:
 *
 * | field | meaning                                                      |
 * | ----- | ------------------------------------------------------------ |
 * | `v`   | the value (JSON), required                                    |
 * | `e`   | expires at (epoch ms), 0 = never                              |
 * | `s`   | stale until: end of grace (epoch ms), 0 = never               |
 * | `c`   | created at: when the value was produced (epoch ms)            |
 * | `t`   | tags (array of strings), absent when the entry has none       |
 *
 * Missing or mistyped optional fields read as 0 / "now" / no tags, so an
 * envelope from an older writer stays readable.
 */
import { promisify } from 'node:util';
import { gunzip as gunzipCb, gzip as gzipCb } from 'node:zlib';

const gzip = promisify(gzipCb);
const gunzip = promisify(gunzipCb);

/** What the envelope says about a value besides the value itself. */
export interface EnvelopeMeta {
  expiresAt: number;
  staleUntil: number;
  createdAt: number;
  tags: string[] | undefined;
}

export interface Decoded extends EnvelopeMeta {
  value: unknown;
  /** Length of the envelope's JSON text (the entry's size in L1). */
  size: number;
}

/**
 * The L2 payload for a value already serialised to JSON. Uncompressed it is
 * built synchronously (so the caller's SET leaves in call order); compressed,
 * gzip runs in the thread pool.
 */
export function encodeEnvelope(meta: EnvelopeMeta, valueJson: string, compressAbove: number): Buffer | Promise<Buffer> {
  const text = `{"e":${meta.expiresAt},"s":${meta.staleUntil},"c":${meta.createdAt}${meta.tags ? `,"t":${JSON.stringify(meta.tags)}` : ''},"v":${valueJson}}`;
  const bytes = Buffer.from(text, 'utf8');
  return text.length > compressAbove ? gzip(bytes) : bytes;
}

/** Reads a payload; rejects when it is not an envelope (the caller reports it and treats it as a miss). `now` stands in for a missing `c`. */
export async function decodeEnvelope(raw: Buffer, now: number): Promise<Decoded> {
  const text = raw[0] === 0x1f && raw[1] === 0x8b ? (await gunzip(raw)).toString('utf8') : raw.toString('utf8');
  const env = JSON.parse(text) as { v: unknown; e?: number; s?: number; c?: number; t?: string[] };
  if (env === null || typeof env !== 'object' || !('v' in env)) throw new Error('not a cache envelope');
  return {
    value: env.v,
    size: Math.max(1, text.length),
    expiresAt: typeof env.e === 'number' ? env.e : 0,
    staleUntil: typeof env.s === 'number' ? env.s : 0,
    createdAt: typeof env.c === 'number' ? env.c : now,
    tags: Array.isArray(env.t) && env.t.length > 0 ? env.t.filter((t) => typeof t === 'string') : undefined,
  };
}
