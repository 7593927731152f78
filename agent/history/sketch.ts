/**
 * The history's latency sketches: the same DDSketch as the live metrics (1 %
 * relative accuracy, logarithmic mapping, mergeable), written two ways:
 *
 * - in the store, compactly: `[count, errors, zeroCount, key0, count0, Δkey1,
 *   count1, …]`, the non-empty bins with delta-encoded keys (a minute of one
 *   route is a few dozen numbers);
 * - in baseline files, as the DDSketch protobuf (base64), the format every
 *   DDSketch implementation reads. sketches-js's own `toProto()` needs
 *   protobufjs, which is not installed with it, so the few fields are written
 *   and read here.
 *
 * Decoding checks every number: a corrupt entry is refused (undefined), never
 * allocated from.
 */
import { LogCollapsingLowestDenseDDSketch } from '@datadog/sketches-js';
import { round } from '../text';

export type Sketch = LogCollapsingLowestDenseDDSketch;

const RELATIVE_ACCURACY = 0.01;
const BIN_LIMIT = 1024;
/** Keys of durations from 1 µs to a day are within ±1000 at 1 %; anything far beyond is corrupt. */
const MAX_KEY = 4000;
const MAX_COUNT = 1e12;

export const newSketch = (): Sketch => new LogCollapsingLowestDenseDDSketch({ relativeAccuracy: RELATIVE_ACCURACY, binLimit: BIN_LIMIT });

/** The gamma of every sketch here: (1 + α) / (1 − α). */
const MAPPING = newSketch().mapping;

/** Figures of one endpoint over one period. */
export interface Figures {
  count: number;
  errors: number;
  sketch: Sketch;
}

export function emptyFigures(): Figures {
  return { count: 0, errors: 0, sketch: newSketch() };
}

/** Adds `b` into `a`. */
export function mergeFigures(a: Figures, b: Figures): void {
  a.count += b.count;
  a.errors += b.errors;
  if (b.sketch.count > 0) a.sketch.merge(b.sketch);
}

/** The value at quantile q (ms, rounded), or undefined for an empty sketch. */
export function quantile(s: Sketch, q: number): number | undefined {
  if (s.count <= 0) return undefined;
  const v = s.getValueAtQuantile(Math.min(1, Math.max(0, q)));
  return Number.isFinite(v) ? round(Math.max(0, v)) : undefined;
}

/** Non-empty bins of a sketch's positive store, in key order. */
function bins(s: Sketch): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const st = s.store;
  if (st.count <= 0) return out;
  for (let k = st.minKey; k <= st.maxKey; k++) {
    const c = st.bins[k - st.offset] ?? 0;
    if (c > 0) out.push([k, c]);
  }
  return out;
}

// ---------------------------------------------------------------- the store's form

export function encodeFigures(f: Figures): number[] {
  const out = [f.count, f.errors, f.sketch.zeroCount];
  let prev = 0;
  for (const [k, c] of bins(f.sketch)) {
    out.push(k - prev, c);
    prev = k;
  }
  return out;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_COUNT;

/** Figures from their stored form; undefined when anything in it is not what encodeFigures writes. */
export function decodeFigures(raw: unknown): Figures | undefined {
  if (!Array.isArray(raw) || raw.length < 3 || raw.length % 2 === 0 || raw.length > 2 * BIN_LIMIT + 3) return undefined;
  const [count, errors, zero] = raw as unknown[];
  if (!isCount(count) || !isCount(errors) || !isCount(zero) || errors > count) return undefined;
  const sketch = newSketch();
  let key = 0;
  let total = zero;
  for (let i = 3; i < raw.length; i += 2) {
    const dk: unknown = raw[i];
    const c: unknown = raw[i + 1];
    if (typeof dk !== 'number' || !Number.isInteger(dk) || !isCount(c) || c === 0) return undefined;
    key += dk;
    if (Math.abs(key) > MAX_KEY) return undefined;
    sketch.store.add(key, c);
    total += c;
  }
  sketch.zeroCount = zero;
  sketch.count = total;
  return { count, errors, sketch };
}

// ---------------------------------------------------------------- the DDSketch protobuf (baseline files)

/**
 * The DDSketch protobuf of a sketch, base64: `DDSketch { IndexMapping mapping = 1
 * { double gamma = 1; double indexOffset = 2; } Store positiveValues = 2 {
 * repeated double contiguousBinCounts = 2 [packed]; sint32 contiguousBinIndexOffset = 3; }
 * Store negativeValues = 3; double zeroCount = 4; }`.
 */
export function sketchToBase64(s: Sketch): string {
  const w = new ProtoWriter();
  const mapping = new ProtoWriter();
  mapping.double(1, MAPPING.gamma).double(2, 0);
  w.bytes(1, mapping.finish());
  const store = new ProtoWriter();
  const st = s.store;
  if (st.count > 0) {
    const packed = new ProtoWriter();
    for (let k = st.minKey; k <= st.maxKey; k++) packed.rawDouble(st.bins[k - st.offset] ?? 0);
    store.bytes(2, packed.finish()).sint32(3, st.minKey);
  }
  w.bytes(2, store.finish()).bytes(3, new Uint8Array(0)).double(4, s.zeroCount);
  return Buffer.from(w.finish()).toString('base64');
}

/**
 * A sketch from a base64 DDSketch protobuf written by any implementation with a
 * logarithmic mapping (the default of sketches-js, Go, Java and Python): each
 * bin is re-added at its value, so another accuracy or offset still merges.
 * Negative values are ignored (durations are not negative). Undefined when the
 * bytes are not a DDSketch.
 */
export function sketchFromBase64(text: string): Sketch | undefined {
  try {
    const fields = readMessage(Buffer.from(text, 'base64'));
    const mappingBytes = fields.bytes.get(1)?.[0];
    const mapping = mappingBytes ? readMessage(mappingBytes) : undefined;
    const gamma = mapping?.doubles.get(1)?.[0] ?? MAPPING.gamma;
    const indexOffset = mapping?.doubles.get(2)?.[0] ?? 0;
    if (!(gamma > 1 && gamma <= 2) || !Number.isFinite(indexOffset)) return undefined;
    const sketch = newSketch();
    const storeBytes = fields.bytes.get(2)?.[0];
    if (storeBytes) {
      for (const [key, count] of readStore(storeBytes)) {
        if (!isCount(count) || Math.abs(key - indexOffset) > 100_000) return undefined;
        if (count > 0) sketch.accept(gamma ** (key - indexOffset) * (2 / (1 + gamma)), count);
      }
    }
    const zero = fields.doubles.get(4)?.[0] ?? 0;
    if (!isCount(zero)) return undefined;
    if (zero > 0) sketch.accept(0, zero);
    return sketch;
  } catch {
    return undefined;
  }
}

/** The bins of a Store message: `map<sint32, double> binCounts = 1` and the contiguous form. */
function readStore(bytes: Uint8Array): Array<[number, number]> {
  const f = readMessage(bytes);
  const out: Array<[number, number]> = [];
  for (const entry of f.bytes.get(1) ?? []) {
    const e = readMessage(entry);
    out.push([unzigzag(e.varints.get(1)?.[0] ?? 0), e.doubles.get(2)?.[0] ?? 0]);
  }
  const offset = unzigzag(f.varints.get(3)?.[0] ?? 0);
  const counts: number[] = [...(f.doubles.get(2) ?? [])];
  for (const packed of f.bytes.get(2) ?? []) {
    if (packed.length % 8 !== 0) throw new Error('bad packed doubles');
    const view = new DataView(packed.buffer, packed.byteOffset, packed.length);
    for (let i = 0; i < packed.length; i += 8) counts.push(view.getFloat64(i, true));
  }
  if (counts.length > 1_000_000) throw new Error('too many bins');
  counts.forEach((c, i) => out.push([offset + i, c]));
  return out;
}

const unzigzag = (n: number): number => (n % 2 === 0 ? n / 2 : -(n + 1) / 2);

interface Fields {
  varints: Map<number, number[]>;
  doubles: Map<number, number[]>;
  bytes: Map<number, Uint8Array[]>;
}

/** One protobuf message's fields by number (wire types 0, 1, 2 and 5; anything else throws). */
function readMessage(buf: Uint8Array): Fields {
  const f: Fields = { varints: new Map(), doubles: new Map(), bytes: new Map() };
  const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= buf.length) throw new Error('truncated varint');
      const b = buf[pos++]!;
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return result;
      mul *= 128;
    }
    throw new Error('varint too long');
  };
  const push = <T>(m: Map<number, T[]>, k: number, v: T): void => {
    const list = m.get(k);
    if (list) list.push(v);
    else m.set(k, [v]);
  };
  while (pos < buf.length) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    const type = tag % 8;
    if (type === 0) push(f.varints, field, varint());
    else if (type === 1) {
      if (pos + 8 > buf.length) throw new Error('truncated double');
      push(f.doubles, field, view.getFloat64(pos, true));
      pos += 8;
    } else if (type === 2) {
      const len = varint();
      if (pos + len > buf.length) throw new Error('truncated field');
      push(f.bytes, field, buf.subarray(pos, pos + len));
      pos += len;
    } else if (type === 5) pos += 4;
    else throw new Error(`wire type ${type}`);
  }
  return f;
}

class ProtoWriter {
  private readonly parts: number[] = [];

  private varint(n: number): void {
    let v = n;
    while (v >= 0x80) {
      this.parts.push((v % 128) | 0x80);
      v = Math.floor(v / 128);
    }
    this.parts.push(v);
  }

  rawDouble(v: number): this {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    this.parts.push(...b);
    return this;
  }

  double(field: number, v: number): this {
    this.varint(field * 8 + 1);
    return this.rawDouble(v);
  }

  sint32(field: number, v: number): this {
    this.varint(field * 8);
    this.varint(v >= 0 ? 2 * v : -2 * v - 1);
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.varint(field * 8 + 2);
    this.varint(b.length);
    for (const x of b) this.parts.push(x);
    return this;
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}
