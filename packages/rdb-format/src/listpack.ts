// Listpack (FORMATS §4.4): 4-byte total size, 2-byte count (65535 = "count it"), entries each followed by its
// back-length, 0xFF. Decoding validates what Redis' lpValidateIntegrity checks, so a check reaches
// redis-check-rdb's verdict; encoding writes what Redis writes for a freshly built listpack.
import { ByteSink } from './byte-sink.js';
import { formatFail, type Fail } from './errors.js';
import { END, I64_MAX, I64_MIN, elementInt, i64, u16, u32, type DupSink, type PackedEntry, type PackedVisit } from './packed-common.js';

// The back-length (FORMATS §4.4): an entry's size written after it, 7 bits per byte, the high group first with
// bit 7 clear and every following byte with bit 7 set, so it reads backwards from the entry's end. It lives here,
// in the module of the walks that read it for every entry, so that those calls stay inlinable.

/** Bytes the back-length of an entry of `l` bytes takes. */
export function backlenSize(l: number): number {
  return l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
}

/** Writes the back-length of `l` at `out[p..]` (room for {@link backlenSize} bytes); returns the offset after it. */
export function writeBacklen(out: Uint8Array, p: number, l: number): number {
  const n = backlenSize(l);
  let v = l;
  for (let k = n - 1; k >= 0; k--) {
    const low = v % 128;
    out[p + k] = k === 0 ? low : low | 0x80;
    v = Math.floor(v / 128);
  }
  return p + n;
}

/** The value of the `n`-byte back-length at `b[p..p+n)`, or -1 when its continuation bits are wrong. */
export function readBacklen(b: Uint8Array, p: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const byte = b[p + k];
    if ((k === 0) !== ((byte & 0x80) === 0)) return -1;
    v = v * 128 + (byte & 0x7f);
  }
  return v;
}

const HEADER = 6;
const MIN_SIZE = HEADER + 1;
/** The count field's "too many to count" value. */
const COUNT_UNKNOWN = 0xffff;

// Entry encodings: the first byte's high bits say which.
const UINT7_MASK = 0x80; // 0xxxxxxx: 7-bit unsigned
const STR6 = 0x80; // 10xxxxxx: string of up to 63 bytes
const INT13 = 0xc0; // 110xxxxx + 1 byte: 13-bit signed
const STR12 = 0xe0; // 1110xxxx + 1 byte: string of up to 4095 bytes
const STR32 = 0xf0;
const INT16 = 0xf1;
const INT24 = 0xf2;
const INT32 = 0xf3;
const INT64 = 0xf4;

/** Decodes (and fully validates) a listpack. `checkCount: false` ignores the header count (stream nodes). */
export function listpackEntries(b: Uint8Array, fail: Fail = formatFail, checkCount = true): PackedEntry[] {
  const out: PackedEntry[] = [];
  listpackWalk(b, fail, checkCount, out);
  return out;
}

/** Validates a listpack as {@link listpackEntries} does without materialising it: returns its entry count. */
export function listpackCount(b: Uint8Array, fail: Fail = formatFail, checkCount = true): number {
  return listpackWalk(b, fail, checkCount, null);
}

function listpackWalk(b: Uint8Array, fail: Fail, checkCount: boolean, out: PackedEntry[] | null): number {
  const n = b.length;
  if (n < MIN_SIZE) fail(`listpack of ${n} bytes is shorter than its 7-byte minimum`);
  const total = u32(b, 0);
  if (total !== n) fail(`listpack header says ${total} bytes but the string holds ${n}`);
  if (b[n - 1] !== END) fail('listpack does not end with the 0xFF terminator');
  const count = u16(b, 4);
  const last = n - 1;
  let p = HEADER;
  let entries = 0;
  let e: PackedEntry = 0;
  while (p < last) {
    const start = p;
    const c = b[p];
    if (c < UINT7_MASK) {
      e = c;
      p += 1;
    } else if ((c & 0xc0) === STR6) {
      const len = c & 0x3f;
      if (p + 1 + len > last) fail(`listpack entry at ${start} overflows the listpack`);
      if (out) e = b.subarray(p + 1, p + 1 + len);
      p += 1 + len;
    } else if ((c & 0xe0) === INT13) {
      if (p + 2 > last) fail(`listpack entry at ${start} overflows the listpack`);
      const u = ((c & 0x1f) << 8) | b[p + 1];
      e = u >= 4096 ? u - 8192 : u;
      p += 2;
    } else if ((c & 0xf0) === STR12) {
      if (p + 2 > last) fail(`listpack entry at ${start} overflows the listpack`);
      const len = ((c & 0x0f) << 8) | b[p + 1];
      if (p + 2 + len > last) fail(`listpack entry at ${start} overflows the listpack`);
      if (out) e = b.subarray(p + 2, p + 2 + len);
      p += 2 + len;
    } else if (c === STR32) {
      if (p + 5 > last) fail(`listpack entry at ${start} overflows the listpack`);
      const len = u32(b, p + 1);
      if (p + 5 + len > last) fail(`listpack entry at ${start} overflows the listpack`);
      if (out) e = b.subarray(p + 5, p + 5 + len);
      p += 5 + len;
    } else if (c === INT16) {
      if (p + 3 > last) fail(`listpack entry at ${start} overflows the listpack`);
      e = (u16(b, p + 1) << 16) >> 16;
      p += 3;
    } else if (c === INT24) {
      if (p + 4 > last) fail(`listpack entry at ${start} overflows the listpack`);
      e = ((b[p + 1] | (b[p + 2] << 8) | (b[p + 3] << 16)) << 8) >> 8;
      p += 4;
    } else if (c === INT32) {
      if (p + 5 > last) fail(`listpack entry at ${start} overflows the listpack`);
      e = u32(b, p + 1) | 0;
      p += 5;
    } else if (c === INT64) {
      if (p + 9 > last) fail(`listpack entry at ${start} overflows the listpack`);
      if (out) e = i64(b, p + 1);
      p += 9;
    } else if (c === END) {
      fail(`listpack terminator at ${start}, before the end of the listpack`);
    } else {
      fail(`invalid listpack entry encoding 0x${c.toString(16)} at ${start}`);
    }
    const l = p - start;
    const bl = backlenSize(l);
    if (p + bl > last) fail(`listpack entry at ${start} overflows the listpack`);
    // most entries are under 128 bytes: their one-byte back-length is read here, the others by readBacklen
    const v = bl === 1 ? (b[p] < 0x80 ? b[p] : -1) : readBacklen(b, p, bl);
    if (v < 0) fail(`bad listpack back-length at ${p}`);
    if (v !== l) fail(`listpack back-length at ${p} says ${v}, entry has ${l} bytes`);
    p += bl;
    entries++;
    if (out) out.push(e);
  }
  if (checkCount && count !== COUNT_UNKNOWN && count !== entries) fail(`listpack header counts ${count} entries but holds ${entries}`);
  return entries;
}

/**
 * Walks a listpack already validated by {@link listpackCount} and feeds every `step`-th entry (0, step, 2*step...)
 * to `dup`; returns the index of the first duplicate, or -1.
 */
export function listpackDuplicate(b: Uint8Array, step: number, dup: DupSink): number {
  const last = b.length - 1;
  let p = HEADER;
  let k = 0;
  while (p < last) {
    const start = p;
    const c = b[p];
    const take = k % step === 0;
    let seen = false;
    if (c < UINT7_MASK) {
      if (take) seen = dup.seenInt(c);
      p += 1;
    } else if ((c & 0xc0) === STR6) {
      const len = c & 0x3f;
      if (take) seen = dup.seenRange(b, p + 1, p + 1 + len);
      p += 1 + len;
    } else if ((c & 0xe0) === INT13) {
      if (take) {
        const u = ((c & 0x1f) << 8) | b[p + 1];
        seen = dup.seenInt(u >= 4096 ? u - 8192 : u);
      }
      p += 2;
    } else if ((c & 0xf0) === STR12) {
      const len = ((c & 0x0f) << 8) | b[p + 1];
      if (take) seen = dup.seenRange(b, p + 2, p + 2 + len);
      p += 2 + len;
    } else if (c === STR32) {
      const len = u32(b, p + 1);
      if (take) seen = dup.seenRange(b, p + 5, p + 5 + len);
      p += 5 + len;
    } else if (c === INT16) {
      if (take) seen = dup.seenInt((u16(b, p + 1) << 16) >> 16);
      p += 3;
    } else if (c === INT24) {
      if (take) seen = dup.seenInt(((b[p + 1] | (b[p + 2] << 8) | (b[p + 3] << 16)) << 8) >> 8);
      p += 4;
    } else {
      // INT32 or INT64 (validation refused everything else)
      if (take) seen = dup.seenInt(c === INT32 ? u32(b, p + 1) | 0 : i64(b, p + 1));
      p += c === INT32 ? 5 : 9;
    }
    if (seen) return k;
    p += backlenSize(p - start);
    k++;
  }
  return -1;
}

/**
 * Walks a listpack already validated by {@link listpackCount} and gives every entry to `sink` in order: strings as
 * views of `b`, integers as values (no bounds checks: the validation made them).
 */
export function listpackVisit(b: Uint8Array, sink: PackedVisit): void {
  const last = b.length - 1;
  let p = HEADER;
  while (p < last) {
    const c = b[p];
    let l: number;
    if (c < UINT7_MASK) {
      sink.int(c);
      l = 1;
    } else if ((c & 0xc0) === STR6) {
      const len = c & 0x3f;
      sink.str(b, p + 1, p + 1 + len);
      l = 1 + len;
    } else if ((c & 0xe0) === INT13) {
      const u = ((c & 0x1f) << 8) | b[p + 1];
      sink.int(u >= 4096 ? u - 8192 : u);
      l = 2;
    } else if ((c & 0xf0) === STR12) {
      const len = ((c & 0x0f) << 8) | b[p + 1];
      sink.str(b, p + 2, p + 2 + len);
      l = 2 + len;
    } else if (c === STR32) {
      const len = u32(b, p + 1);
      sink.str(b, p + 5, p + 5 + len);
      l = 5 + len;
    } else if (c === INT16) {
      sink.int((u16(b, p + 1) << 16) >> 16);
      l = 3;
    } else if (c === INT24) {
      sink.int(((b[p + 1] | (b[p + 2] << 8) | (b[p + 3] << 16)) << 8) >> 8);
      l = 4;
    } else if (c === INT32) {
      sink.int(u32(b, p + 1) | 0);
      l = 5;
    } else {
      // INT64 (validation refused everything else)
      sink.int(i64(b, p + 1));
      l = 9;
    }
    p += l + (l <= 127 ? 1 : backlenSize(l));
  }
}

/** Bytes the encoding of an integer takes in a listpack (without its back-length). */
function intEncodingSize(v: bigint): number {
  if (v >= 0n && v <= 127n) return 1;
  if (v >= -4096n && v <= 4095n) return 2;
  if (v >= -32768n && v <= 32767n) return 3;
  if (v >= -8388608n && v <= 8388607n) return 4;
  if (v >= -2147483648n && v <= 2147483647n) return 5;
  return 9;
}

function strEncodingSize(len: number): number {
  return len < 64 ? 1 + len : len < 4096 ? 2 + len : 5 + len;
}

/** Size in bytes an element takes in a listpack, back-length included (for node-size limits). */
export function listpackEntrySize(data: Uint8Array): number {
  const v = elementInt(data);
  const l = v !== null ? intEncodingSize(v) : strEncodingSize(data.length);
  return l + backlenSize(l);
}

/** Builds listpacks: entries are appended to a reusable sink, {@link finish} returns a fresh copy. */
export class ListpackBuilder {
  private readonly sink = new ByteSink(256);
  private count = 0;

  constructor() {
    this.reset();
  }

  /** Starts a new, empty listpack. */
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
    s.ensure(5);
    s.pos = writeBacklen(s.buf, s.pos, l);
  }

  /** Appends an element as Redis would: an integer entry when the bytes are a canonical int64. */
  add(data: Uint8Array): void {
    const v = elementInt(data);
    if (v !== null) this.addInt(v);
    else this.addString(data);
  }

  /** Appends a string element. */
  addString(data: Uint8Array): void {
    const s = this.sink;
    const len = data.length;
    if (len < 64) s.u8(STR6 | len);
    else if (len < 4096) {
      s.u8(STR12 | (len >>> 8));
      s.u8(len & 0xff);
    } else {
      s.u8(STR32);
      s.u32le(len);
    }
    s.bytes(data);
    this.backlen(strEncodingSize(len));
    this.count++;
  }

  /** Appends an integer element (in the smallest encoding that holds it). */
  addInt(value: bigint | number): void {
    const s = this.sink;
    const v = typeof value === 'bigint' ? value : BigInt(value);
    if (v < I64_MIN || v > I64_MAX) throw new RangeError(`listpack integer ${v} exceeds int64`);
    const l = intEncodingSize(v);
    const n = l < 9 ? Number(v) : 0;
    switch (l) {
      case 1:
        s.u8(n);
        break;
      case 2: {
        const u = n < 0 ? 8192 + n : n;
        s.u8(INT13 | (u >>> 8));
        s.u8(u & 0xff);
        break;
      }
      case 3:
        s.u8(INT16);
        s.u8(n & 0xff);
        s.u8((n >> 8) & 0xff);
        break;
      case 4: {
        const u = n < 0 ? 0x1000000 + n : n;
        s.u8(INT24);
        s.u8(u & 0xff);
        s.u8((u >>> 8) & 0xff);
        s.u8((u >>> 16) & 0xff);
        break;
      }
      case 5:
        s.u8(INT32);
        s.i32le(n);
        break;
      default:
        s.u8(INT64);
        s.i64le(v);
    }
    this.backlen(l);
    this.count++;
  }

  /** The finished listpack (a fresh copy); the builder is reset. */
  finish(): Uint8Array {
    const s = this.sink;
    s.u8(END);
    const out = s.take();
    const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
    dv.setUint32(0, out.length, true);
    dv.setUint16(4, this.count < COUNT_UNKNOWN ? this.count : COUNT_UNKNOWN, true);
    this.reset();
    return out;
  }
}

/** A listpack of `entries`: byte strings as Redis stores them (canonical integers as integers), numbers as integers. */
export function encodeListpack(entries: readonly (Uint8Array | number | bigint)[]): Uint8Array {
  const lp = new ListpackBuilder();
  for (const e of entries) {
    if (e instanceof Uint8Array) lp.add(e);
    else lp.addInt(e);
  }
  return lp.finish();
}
