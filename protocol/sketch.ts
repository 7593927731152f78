/**
 * A DDSketch in its portable protobuf form (the `DDSketch` message of
 * DataDog's sketches-go / sketches-py / sketches-js), without a protobuf
 * library: the one codec of it (agent/metrics/sketch.ts turns a DDSketch into
 * these bins and back, and the base64 of GET /v1/sketches and baseline files). Only what a latency sketch uses: a logarithmic mapping (`gamma`,
 * `indexOffset`), the positive store as contiguous bins from `offset`, and the
 * zero count. Decoding also accepts the store's sparse `binCounts` map and
 * skips fields it does not know. Pure: no Node, no DOM.
 */

/** More bins than any sketch holds: the bytes are corrupt (and are not allocated from). */
const MAX_BINS = 1_000_000;

/** One sketch's bins: `bins[i]` counts the values whose key is `offset + i`. */
export interface SketchBins {
  gamma: number;
  indexOffset: number;
  zeroCount: number;
  offset: number;
  bins: number[];
}

class Writer {
  private readonly bytes: number[] = [];
  varint(v: number): void {
    let n = BigInt.asUintN(64, BigInt(Math.trunc(v)));
    while (n >= 0x80n) {
      this.bytes.push(Number(n & 0x7fn) | 0x80);
      n >>= 7n;
    }
    this.bytes.push(Number(n));
  }
  double(v: number): void {
    const b = new DataView(new ArrayBuffer(8));
    b.setFloat64(0, v, true);
    for (let i = 0; i < 8; i++) this.bytes.push(b.getUint8(i));
  }
  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }
  message(field: number, body: Uint8Array): void {
    this.tag(field, 2);
    this.varint(body.length);
    for (const x of body) this.bytes.push(x);
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

const zigzag = (n: number): number => (n >= 0 ? n * 2 : -n * 2 - 1);
const unzigzag = (n: number): number => (n % 2 === 0 ? n / 2 : -(n + 1) / 2);

export function encodeSketch(s: SketchBins): Uint8Array {
  const mapping = new Writer();
  mapping.tag(1, 1);
  mapping.double(s.gamma);
  mapping.tag(2, 1);
  mapping.double(s.indexOffset);
  const store = new Writer();
  if (s.bins.length > 0) {
    const packed = new Writer();
    for (const c of s.bins) packed.double(c);
    store.message(2, packed.finish());
    store.tag(3, 0);
    store.varint(zigzag(s.offset));
  }
  const out = new Writer();
  out.message(1, mapping.finish());
  out.message(2, store.finish());
  out.tag(4, 1);
  out.double(s.zeroCount);
  return out.finish();
}

class Reader {
  pos = 0;
  constructor(private readonly b: Uint8Array) {}
  get done(): boolean {
    return this.pos >= this.b.length;
  }
  varint(): number {
    let n = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.b.length || shift > 63n) throw new Error('sketch: truncated varint');
      const x = this.b[this.pos++]!;
      n |= BigInt(x & 0x7f) << shift;
      if (x < 0x80) break;
      shift += 7n;
    }
    return Number(BigInt.asIntN(64, n));
  }
  double(): number {
    if (this.pos + 8 > this.b.length) throw new Error('sketch: truncated double');
    const v = new DataView(this.b.buffer, this.b.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }
  bytes(): Uint8Array {
    const len = this.varint();
    if (len < 0 || this.pos + len > this.b.length) throw new Error('sketch: truncated field');
    const out = this.b.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`sketch: unsupported wire type ${wire}`);
  }
  /** Each field of the message: `fn(field, wire)` reads it or returns false to skip it. */
  fields(fn: (field: number, wire: number) => boolean): void {
    while (!this.done) {
      const key = this.varint();
      const field = key >>> 3;
      const wire = key & 7;
      if (!fn(field, wire)) this.skip(wire);
    }
  }
}

/** Throws on bytes that are not a sketch. */
export function decodeSketch(bytes: Uint8Array): SketchBins {
  const out: SketchBins = { gamma: NaN, indexOffset: 0, zeroCount: 0, offset: 0, bins: [] };
  const top = new Reader(bytes);
  top.fields((field, wire) => {
    if (field === 1 && wire === 2) {
      const m = new Reader(top.bytes());
      m.fields((f, w) => {
        if (f === 1 && w === 1) out.gamma = m.double();
        else if (f === 2 && w === 1) out.indexOffset = m.double();
        else return false;
        return true;
      });
    } else if (field === 2 && wire === 2) readStore(top.bytes(), out);
    else if (field === 4 && wire === 1) out.zeroCount = top.double();
    else return false;
    return true;
  });
  if (!(out.gamma > 1)) throw new Error('sketch: no logarithmic mapping');
  return out;
}

function readStore(bytes: Uint8Array, out: SketchBins): void {
  const r = new Reader(bytes);
  const sparse = new Map<number, number>();
  let contiguous: number[] = [];
  let offset = 0;
  r.fields((field, wire) => {
    if (field === 1 && wire === 2) {
      const e = new Reader(r.bytes());
      let key = 0;
      let count = 0;
      e.fields((f, w) => {
        if (f === 1 && w === 0) key = unzigzag(e.varint());
        else if (f === 2 && w === 1) count = e.double();
        else return false;
        return true;
      });
      sparse.set(key, (sparse.get(key) ?? 0) + count);
    } else if (field === 2 && wire === 2) {
      const p = new Reader(r.bytes());
      while (!p.done) contiguous.push(p.double());
      if (contiguous.length > MAX_BINS) throw new Error('sketch: too many bins');
    } else if (field === 2 && wire === 1) contiguous.push(r.double());
    else if (field === 3 && wire === 0) offset = unzigzag(r.varint());
    else return false;
    return true;
  });
  if (sparse.size > 0) {
    const keys = [...sparse.keys(), ...(contiguous.length ? [offset, offset + contiguous.length - 1] : [])];
    const lo = Math.min(...keys);
    if (Math.max(...keys) - lo >= MAX_BINS) throw new Error('sketch: too many bins');
    const merged = new Array<number>(Math.max(...keys) - lo + 1).fill(0);
    contiguous.forEach((c, i) => (merged[offset + i - lo]! += c));
    for (const [k, c] of sparse) merged[k - lo]! += c;
    contiguous = merged;
    offset = lo;
  }
  out.offset = offset;
  out.bins = contiguous;
}
