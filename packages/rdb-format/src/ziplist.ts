// Ziplist (FORMATS §4.1): 4-byte total size, 4-byte tail offset, 2-byte count (65535 = "count it"), entries each
// led by the previous entry's size, 0xFF. Decoding validates what Redis' ziplistValidateIntegrity checks.
import { ByteSink } from './byte-sink.js';
import { formatFail, type Fail } from './errors.js';
import { END, elementInt, i64, u16, u32, type DupSink, type PackedEntry, type PackedVisit } from './packed-common.js';

const HEADER = 10;
const MIN_SIZE = HEADER + 1;
const COUNT_UNKNOWN = 0xffff;
/** A previous-entry length below this takes 1 byte; else 0xFE and 4 bytes. */
const PREVLEN_BIG = 254;
/** Longest string that could be a canonical integer worth trying (Redis' check is on 31 bytes or less). */
const INT_CANDIDATE_MAX = 31;

// Integer encodings (the string encodings have 00/01/10 in the top bits).
const INT16 = 0xc0;
const INT32 = 0xd0;
const INT64 = 0xe0;
const INT24 = 0xf0;
const INT8 = 0xfe;
const IMM_MIN = 0xf1; // 0xF1..0xFD: 0..12 in the low 4 bits, minus 1
const IMM_MAX = 0xfd;

/** Decodes (and fully validates) a ziplist. */
export function ziplistEntries(b: Uint8Array, fail: Fail = formatFail): PackedEntry[] {
  const out: PackedEntry[] = [];
  ziplistWalk(b, fail, out);
  return out;
}

/** Validates a ziplist as {@link ziplistEntries} does without materialising it: returns its entry count. */
export function ziplistCount(b: Uint8Array, fail: Fail = formatFail): number {
  return ziplistWalk(b, fail, null);
}

/** Bytes of the data after an integer encoding byte `c`, or -1 when `c` is no integer encoding. */
function intSize(c: number): number {
  if (c === INT16) return 2;
  if (c === INT32) return 4;
  if (c === INT64) return 8;
  if (c === INT24) return 3;
  if (c === INT8) return 1;
  if (c >= IMM_MIN && c <= IMM_MAX) return 0;
  return -1;
}

function ziplistWalk(b: Uint8Array, fail: Fail, out: PackedEntry[] | null): number {
  const n = b.length;
  if (n < MIN_SIZE) fail(`ziplist of ${n} bytes is shorter than its 11-byte minimum`);
  const total = u32(b, 0);
  if (total !== n) fail(`ziplist header says ${total} bytes but the string holds ${n}`);
  const tail = u32(b, 4);
  const count = u16(b, 8);
  if (b[n - 1] !== END) fail('ziplist does not end with the 0xFF terminator');
  if (tail > n - 1) fail(`ziplist tail offset ${tail} is beyond the ziplist`);
  const last = n - 1;
  let p = HEADER;
  let prevRaw = 0;
  let lastStart = HEADER;
  let entries = 0;
  let e: PackedEntry = 0;
  while (p < last) {
    const start = p;
    let prevlen: number;
    if (b[p] < PREVLEN_BIG) {
      prevlen = b[p];
      p += 1;
    } else if (b[p] === PREVLEN_BIG) {
      if (p + 5 > last) fail(`ziplist entry at ${start} overflows the ziplist`);
      prevlen = u32(b, p + 1);
      p += 5;
    } else {
      fail(`ziplist terminator at ${start}, before the end of the ziplist`);
    }
    if (prevlen !== prevRaw) fail(`ziplist entry at ${start} says the previous entry has ${prevlen} bytes, it has ${prevRaw}`);
    if (p >= last) fail(`ziplist entry at ${start} overflows the ziplist`);
    const c = b[p];
    const t = c >> 6;
    if (t < 3) {
      let len: number;
      if (t === 0) {
        len = c & 0x3f;
        p += 1;
      } else if (t === 1) {
        if (p + 2 > last) fail(`ziplist entry at ${start} overflows the ziplist`);
        len = ((c & 0x3f) << 8) | b[p + 1];
        p += 2;
      } else {
        if (p + 5 > last) fail(`ziplist entry at ${start} overflows the ziplist`);
        len = ((b[p + 1] << 24) | (b[p + 2] << 16) | (b[p + 3] << 8) | b[p + 4]) >>> 0;
        p += 5;
      }
      if (p + len > last) fail(`ziplist entry at ${start} overflows the ziplist`);
      if (out) e = b.subarray(p, p + len);
      p += len;
    } else {
      // the size chain written out here, not through intSize(): this loop runs for every entry of a check
      let size: number;
      if (c === INT16) size = 2;
      else if (c === INT32) size = 4;
      else if (c === INT64) size = 8;
      else if (c === INT24) size = 3;
      else if (c === INT8) size = 1;
      else if (c >= IMM_MIN && c <= IMM_MAX) size = 0;
      else fail(`invalid ziplist entry encoding 0x${c.toString(16)} at ${p}`);
      if (p + 1 + size > last) fail(`ziplist entry at ${start} overflows the ziplist`);
      const d = p + 1;
      if (out) e = intAt(b, c, d, size);
      p = d + size;
    }
    prevRaw = p - start;
    lastStart = start;
    entries++;
    if (out) out.push(e);
  }
  if (p !== last) fail('ziplist entries overrun the terminator');
  if (tail !== lastStart) fail(`ziplist tail offset ${tail} does not point at the last entry (${lastStart})`);
  if (count !== COUNT_UNKNOWN && count !== entries) fail(`ziplist header counts ${count} entries but holds ${entries}`);
  return entries;
}

/**
 * The data length of a string entry of a validated ziplist whose encoding byte at `b[p]` has type `t` (0-2; its
 * header is 1, 2 or 5 bytes).
 */
function strLength(b: Uint8Array, p: number, t: number): number {
  if (t === 0) return b[p] & 0x3f;
  if (t === 1) return ((b[p] & 0x3f) << 8) | b[p + 1];
  return ((b[p + 1] << 24) | (b[p + 2] << 16) | (b[p + 3] << 8) | b[p + 4]) >>> 0;
}

/** The integer of encoding `c` whose `size` data bytes start at `b[d]`. */
function intAt(b: Uint8Array, c: number, d: number, size: number): number | bigint {
  if (size === 2) return (u16(b, d) << 16) >> 16;
  if (size === 4) return u32(b, d) | 0;
  if (size === 8) return i64(b, d);
  if (size === 3) return ((b[d] | (b[d + 1] << 8) | (b[d + 2] << 16)) << 8) >> 8;
  if (size === 1) return (b[d] << 24) >> 24;
  return (c & 0x0f) - 1;
}

/** As listpackDuplicate, for a ziplist already validated by {@link ziplistCount}. */
export function ziplistDuplicate(b: Uint8Array, step: number, dup: DupSink): number {
  const last = b.length - 1;
  let p = HEADER;
  let k = 0;
  while (p < last) {
    p += b[p] < PREVLEN_BIG ? 1 : 5;
    const c = b[p];
    const t = c >> 6;
    const take = k % step === 0;
    let seen = false;
    if (t < 3) {
      const len = strLength(b, p, t);
      p += t === 0 ? 1 : t === 1 ? 2 : 5;
      if (take) seen = dup.seenRange(b, p, p + len);
      p += len;
    } else {
      const size = intSize(c);
      if (take) seen = dup.seenInt(intAt(b, c, p + 1, size));
      p += 1 + size;
    }
    if (seen) return k;
    k++;
  }
  return -1;
}

/**
 * Walks a ziplist already validated by {@link ziplistCount} and gives every entry to `sink` in order: strings as
 * views of `b`, integers as values (no bounds checks: the validation made them).
 */
export function ziplistVisit(b: Uint8Array, sink: PackedVisit): void {
  const last = b.length - 1;
  let p = HEADER;
  while (p < last) {
    p += b[p] < PREVLEN_BIG ? 1 : 5;
    const c = b[p];
    const t = c >> 6;
    if (t < 3) {
      const len = strLength(b, p, t);
      p += t === 0 ? 1 : t === 1 ? 2 : 5;
      sink.str(b, p, p + len);
      p += len;
    } else {
      const size = intSize(c);
      sink.int(intAt(b, c, p + 1, size));
      p += 1 + size;
    }
  }
}

/**
 * Builds ziplists. `legacyInts` restricts integer entries to int16/int32/int64 (RDB < 6: the int8, int24 and
 * immediate encodings arrived with Redis 2.6).
 */
export class ZiplistBuilder {
  private readonly sink = new ByteSink(256);
  private count = 0;
  private prevLen = 0;
  private lastOffset = HEADER;

  constructor(private readonly legacyInts = false) {
    this.reset();
  }

  /** Starts a new, empty ziplist. */
  reset(): void {
    this.sink.reset();
    this.sink.u32le(0);
    this.sink.u32le(0);
    this.sink.u16le(0);
    this.count = 0;
    this.prevLen = 0;
    this.lastOffset = HEADER;
  }

  get elements(): number {
    return this.count;
  }

  get byteSize(): number {
    return this.sink.pos + 1;
  }

  private prevlen(): void {
    const s = this.sink;
    if (this.prevLen < PREVLEN_BIG) s.u8(this.prevLen);
    else {
      s.u8(PREVLEN_BIG);
      s.u32le(this.prevLen);
    }
  }

  /** Appends an element, as an integer when Redis would store it as one. */
  add(data: Uint8Array): void {
    const v = data.length <= INT_CANDIDATE_MAX ? elementInt(data) : null;
    if (v !== null) this.addInt(v);
    else this.addString(data);
  }

  /** Appends a string element. */
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

  /** Appends an integer element. */
  addInt(value: bigint): void {
    const s = this.sink;
    const start = s.pos;
    this.prevlen();
    const v = value;
    if (!this.legacyInts && v >= 0n && v <= 12n) {
      s.u8(IMM_MIN + Number(v));
    } else if (!this.legacyInts && v >= -128n && v <= 127n) {
      s.u8(INT8);
      s.u8(Number(v) & 0xff);
    } else if (v >= -32768n && v <= 32767n) {
      const n = Number(v);
      s.u8(INT16);
      s.u8(n & 0xff);
      s.u8((n >> 8) & 0xff);
    } else if (!this.legacyInts && v >= -8388608n && v <= 8388607n) {
      const n = Number(v);
      const u = n < 0 ? 0x1000000 + n : n;
      s.u8(INT24);
      s.u8(u & 0xff);
      s.u8((u >>> 8) & 0xff);
      s.u8((u >>> 16) & 0xff);
    } else if (v >= -2147483648n && v <= 2147483647n) {
      s.u8(INT32);
      s.i32le(Number(v));
    } else {
      s.u8(INT64);
      s.i64le(v);
    }
    this.done(start);
  }

  private done(start: number): void {
    this.lastOffset = start;
    this.prevLen = this.sink.pos - start;
    this.count++;
  }

  /** The ziplist's bytes (header, entries, end byte). */
  finish(): Uint8Array {
    const s = this.sink;
    s.u8(END);
    const out = s.take();
    const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
    dv.setUint32(0, out.length, true);
    dv.setUint32(4, this.count === 0 ? HEADER : this.lastOffset, true);
    dv.setUint16(8, this.count < COUNT_UNKNOWN ? this.count : COUNT_UNKNOWN, true);
    this.reset();
    return out;
  }
}

/** A ziplist of `entries` (byte strings as Redis stores them, bigints as integers). */
export function encodeZiplist(entries: readonly (Uint8Array | bigint)[], legacyInts = false): Uint8Array {
  const zl = new ZiplistBuilder(legacyInts);
  for (const e of entries) {
    if (e instanceof Uint8Array) zl.add(e);
    else zl.addInt(e);
  }
  return zl.finish();
}
