// Builders for the compact blobs Redis stores as strings inside RDB values: listpack (§4.4), ziplist (§4.1),
// intset (§4.3) and zipmap (§4.2). Each builder appends entries to a reusable sink and returns a fresh copy.

import { parseCanonicalInt } from '@redis-persist/bytes';
import { ByteSink } from './sink.js';

const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

/** The int64 value of an element if Redis would store it as an integer (canonical, 1-20 bytes), else null. */
export function elementInt(data: Uint8Array): bigint | null {
  if (data.length === 0 || data.length > 20) return null;
  return parseCanonicalInt(data);
}

function backlenSize(l: number): number {
  if (l <= 127) return 1;
  if (l < 16383) return 2;
  if (l < 2097151) return 3;
  if (l < 268435455) return 4;
  return 5;
}

/** Listpack builder. */
export class ListpackBuilder {
  private readonly sink = new ByteSink(256);
  private count = 0;

  constructor() {
    this.reset();
  }

  reset(): void {
    this.sink.reset();
    this.sink.u32le(0);
    this.sink.u16le(0);
    this.count = 0;
  }

  get elements(): number {
    return this.count;
  }

  /** Bytes the finished listpack would have. */
  get byteSize(): number {
    return this.sink.pos + 1;
  }

  private backlen(l: number): void {
    const s = this.sink;
    switch (backlenSize(l)) {
      case 1:
        s.u8(l);
        break;
      case 2:
        s.u8(l >>> 7);
        s.u8((l & 127) | 128);
        break;
      case 3:
        s.u8(l >>> 14);
        s.u8(((l >>> 7) & 127) | 128);
        s.u8((l & 127) | 128);
        break;
      case 4:
        s.u8(l >>> 21);
        s.u8(((l >>> 14) & 127) | 128);
        s.u8(((l >>> 7) & 127) | 128);
        s.u8((l & 127) | 128);
        break;
      default:
        s.u8(Math.floor(l / 2 ** 28));
        s.u8(((l >>> 21) & 127) | 128);
        s.u8(((l >>> 14) & 127) | 128);
        s.u8(((l >>> 7) & 127) | 128);
        s.u8((l & 127) | 128);
    }
  }

  /** Appends an element as Redis would: an integer entry when the bytes are a canonical int64. */
  add(data: Uint8Array): void {
    const v = elementInt(data);
    if (v !== null) this.addInt(v);
    else this.addString(data);
  }

  addString(data: Uint8Array): void {
    const s = this.sink;
    const len = data.length;
    let l: number;
    if (len < 64) {
      s.u8(0x80 | len);
      l = 1 + len;
    } else if (len < 4096) {
      s.u8(0xe0 | (len >>> 8));
      s.u8(len & 0xff);
      l = 2 + len;
    } else {
      s.u8(0xf0);
      s.u32le(len);
      l = 5 + len;
    }
    s.bytes(data);
    this.backlen(l);
    this.count++;
  }

  addInt(value: bigint | number): void {
    const s = this.sink;
    const v = typeof value === 'bigint' ? value : BigInt(value);
    if (v < I64_MIN || v > I64_MAX) throw new RangeError(`listpack integer ${v} exceeds int64`);
    let l: number;
    if (v >= 0n && v <= 127n) {
      s.u8(Number(v));
      l = 1;
    } else if (v >= -4096n && v <= 4095n) {
      const n = Number(v);
      const u = n < 0 ? 8192 + n : n;
      s.u8(0xc0 | (u >>> 8));
      s.u8(u & 0xff);
      l = 2;
    } else if (v >= -32768n && v <= 32767n) {
      const n = Number(v);
      s.u8(0xf1);
      s.u8(n & 0xff);
      s.u8((n >> 8) & 0xff);
      l = 3;
    } else if (v >= -8388608n && v <= 8388607n) {
      const n = Number(v);
      const u = n < 0 ? 0x1000000 + n : n;
      s.u8(0xf2);
      s.u8(u & 0xff);
      s.u8((u >>> 8) & 0xff);
      s.u8((u >>> 16) & 0xff);
      l = 4;
    } else if (v >= -2147483648n && v <= 2147483647n) {
      s.u8(0xf3);
      s.i32le(Number(v));
      l = 5;
    } else {
      s.u8(0xf4);
      s.i64le(v);
      l = 9;
    }
    this.backlen(l);
    this.count++;
  }

  /** The finished listpack (a fresh copy); the builder is reset. */
  finish(): Uint8Array {
    const s = this.sink;
    s.u8(0xff);
    const out = s.take();
    const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
    dv.setUint32(0, out.length, true);
    dv.setUint16(4, this.count < 65535 ? this.count : 65535, true);
    this.reset();
    return out;
  }
}

/** Size in bytes an element takes in a listpack (for node-size limits). */
export function listpackEntrySize(data: Uint8Array): number {
  const v = elementInt(data);
  let l: number;
  if (v !== null) {
    if (v >= 0n && v <= 127n) l = 1;
    else if (v >= -4096n && v <= 4095n) l = 2;
    else if (v >= -32768n && v <= 32767n) l = 3;
    else if (v >= -8388608n && v <= 8388607n) l = 4;
    else if (v >= -2147483648n && v <= 2147483647n) l = 5;
    else l = 9;
  } else {
    const len = data.length;
    l = len < 64 ? 1 + len : len < 4096 ? 2 + len : 5 + len;
  }
  return l + backlenSize(l);
}

/**
 * Ziplist builder. `legacyInts` restricts integer entries to int16/int32/int64 (RDB < 6: the int8, int24
 * and immediate encodings arrived with Redis 2.6).
 */
export class ZiplistBuilder {
  private readonly sink = new ByteSink(256);
  private count = 0;
  private prevLen = 0;
  private lastOffset = 10;

  constructor(private readonly legacyInts = false) {
    this.reset();
  }

  reset(): void {
    this.sink.reset();
    this.sink.u32le(0);
    this.sink.u32le(0);
    this.sink.u16le(0);
    this.count = 0;
    this.prevLen = 0;
    this.lastOffset = 10;
  }

  get elements(): number {
    return this.count;
  }

  get byteSize(): number {
    return this.sink.pos + 1;
  }

  private prevlen(): void {
    const s = this.sink;
    if (this.prevLen < 254) s.u8(this.prevLen);
    else {
      s.u8(0xfe);
      s.u32le(this.prevLen);
    }
  }

  add(data: Uint8Array): void {
    const v = data.length <= 31 ? elementInt(data) : null;
    if (v !== null) this.addInt(v);
    else this.addString(data);
  }

  addString(data: Uint8Array): void {
    const s = this.sink;
    const start = s.pos;
    this.prevlen();
    const len = data.length;
    if (len <= 63) s.u8(len);
    else if (len <= 16383) {
      s.u8(0x40 | (len >>> 8));
      s.u8(len & 0xff);
    } else {
      s.u8(0x80);
      s.u32be(len);
    }
    s.bytes(data);
    this.done(start);
  }

  addInt(value: bigint): void {
    const s = this.sink;
    const start = s.pos;
    this.prevlen();
    const v = value;
    if (!this.legacyInts && v >= 0n && v <= 12n) {
      s.u8(0xf1 + Number(v));
    } else if (!this.legacyInts && v >= -128n && v <= 127n) {
      s.u8(0xfe);
      s.u8(Number(v) & 0xff);
    } else if (v >= -32768n && v <= 32767n) {
      const n = Number(v);
      s.u8(0xc0);
      s.u8(n & 0xff);
      s.u8((n >> 8) & 0xff);
    } else if (!this.legacyInts && v >= -8388608n && v <= 8388607n) {
      const n = Number(v);
      const u = n < 0 ? 0x1000000 + n : n;
      s.u8(0xf0);
      s.u8(u & 0xff);
      s.u8((u >>> 8) & 0xff);
      s.u8((u >>> 16) & 0xff);
    } else if (v >= -2147483648n && v <= 2147483647n) {
      s.u8(0xd0);
      s.i32le(Number(v));
    } else {
      s.u8(0xe0);
      s.i64le(v);
    }
    this.done(start);
  }

  private done(start: number): void {
    this.lastOffset = start;
    this.prevLen = this.sink.pos - start;
    this.count++;
  }

  finish(): Uint8Array {
    const s = this.sink;
    s.u8(0xff);
    const out = s.take();
    const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
    dv.setUint32(0, out.length, true);
    dv.setUint32(4, this.count === 0 ? 10 : this.lastOffset, true);
    dv.setUint16(8, this.count < 65535 ? this.count : 65535, true);
    this.reset();
    return out;
  }
}

/** An intset of the given (unique) canonical integers. */
export function buildIntset(values: bigint[]): Uint8Array {
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let width = 2;
  for (const v of sorted) {
    if (v < -2147483648n || v > 2147483647n) {
      width = 8;
      break;
    }
    if (v < -32768n || v > 32767n) width = 4;
  }
  const out = new Uint8Array(8 + sorted.length * width);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, width, true);
  dv.setUint32(4, sorted.length, true);
  let off = 8;
  for (const v of sorted) {
    if (width === 2) dv.setInt16(off, Number(v), true);
    else if (width === 4) dv.setInt32(off, Number(v), true);
    else dv.setBigInt64(off, v, true);
    off += width;
  }
  return out;
}

/** A zipmap (Redis 2.4 small hash) of field/value pairs. */
export function buildZipmap(pairs: [Uint8Array, Uint8Array][]): Uint8Array {
  const s = new ByteSink(256);
  s.u8(pairs.length < 254 ? pairs.length : 254);
  const len = (n: number) => {
    if (n < 254) s.u8(n);
    else {
      s.u8(0xfe);
      s.u32le(n);
    }
  };
  for (const [f, v] of pairs) {
    len(f.length);
    s.bytes(f);
    len(v.length);
    s.u8(0); // free bytes after the value
    s.bytes(v);
  }
  s.u8(0xff);
  return s.take();
}
