import { lzfCompress, parseCanonicalInt } from '@redis-persist/bytes';

const SHRINK_ABOVE = 1024 * 1024;

/**
 * A growable byte buffer the encoders append to. One sink is reused for every key; {@link take} copies the
 * bytes out (consumers such as AtomicFile keep the chunks they are given).
 */
export class ByteSink {
  buf: Uint8Array;
  pos = 0;
  private view: DataView;

  constructor(private readonly initial = 64 * 1024) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  reset(): void {
    this.pos = 0;
  }

  /**
   * What was written since the last reset, and the sink is reset. A buffer that grew past 1 MiB (a huge value) is
   * handed out as it is, not copied, and the sink starts over small, so one huge key does not pin its size.
   */
  takeAndReset(): Uint8Array {
    if (this.buf.length <= SHRINK_ABOVE) {
      const out = this.buf.slice(0, this.pos);
      this.pos = 0;
      return out;
    }
    const out = this.buf.subarray(0, this.pos);
    this.buf = new Uint8Array(this.initial);
    this.view = new DataView(this.buf.buffer);
    this.pos = 0;
    return out;
  }

  /** Resets, and gives back a buffer that grew past 1 MiB. */
  resetAndShrink(): void {
    this.pos = 0;
    if (this.buf.length > SHRINK_ABOVE) {
      this.buf = new Uint8Array(this.initial);
      this.view = new DataView(this.buf.buffer);
    }
  }

  /** A copy of what was written since the last reset. */
  take(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  u8(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  bytes(data: Uint8Array): void {
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  u16le(v: number): void {
    this.ensure(2);
    this.view.setUint16(this.pos, v, true);
    this.pos += 2;
  }

  u32le(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }

  u32be(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v, false);
    this.pos += 4;
  }

  u64be(v: bigint): void {
    this.ensure(8);
    this.view.setBigUint64(this.pos, v, false);
    this.pos += 8;
  }

  /** Signed 64-bit little endian (Redis' `ms8` times). */
  i64le(v: number | bigint): void {
    this.ensure(8);
    this.view.setBigInt64(this.pos, typeof v === 'bigint' ? v : BigInt(v), true);
    this.pos += 8;
  }

  i32le(v: number): void {
    this.ensure(4);
    this.view.setInt32(this.pos, v, true);
    this.pos += 4;
  }

  f64le(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }
}

const U32_MAX = 0xffffffff;
const U64_MAX = (1n << 64n) - 1n;

/** Thrown by {@link writeLen} when a length needs the 64-bit form the target (RDB < 8) lacks. */
export class LengthTooLarge extends Error {}

/** RDB length encoding (FORMATS §2.1), always the minimal form. */
export function writeLen(sink: ByteSink, n: number | bigint, allow64 = true): void {
  if (typeof n === 'number') {
    if (n < 64) {
      sink.u8(n);
      return;
    }
    if (n < 16384) {
      sink.u8(0x40 | (n >>> 8));
      sink.u8(n & 0xff);
      return;
    }
    if (n <= U32_MAX) {
      sink.u8(0x80);
      sink.u32be(n);
      return;
    }
    n = BigInt(n);
  }
  if (n <= BigInt(U32_MAX)) {
    writeLen(sink, Number(n), allow64);
    return;
  }
  if (!allow64) throw new LengthTooLarge(`length ${n} needs the 64-bit length form of RDB 8+`);
  if (n > U64_MAX) throw new RangeError(`length ${n} exceeds 64 bits`);
  sink.u8(0x81);
  sink.u64be(n);
}

/**
 * RDB string encoding as Redis' rdbSaveRawString: short canonical integers in int32 range as INT8/16/32,
 * strings longer than 20 bytes LZF-compressed when that saves at least 4 bytes, else raw.
 */
export function writeStr(sink: ByteSink, data: Uint8Array, compress: boolean): void {
  const len = data.length;
  if (len > 0 && len <= 11) {
    const v = parseCanonicalInt(data);
    if (v !== null && v >= -2147483648n && v <= 2147483647n) {
      const n = Number(v);
      if (n >= -128 && n <= 127) {
        sink.u8(0xc0);
        sink.u8(n & 0xff);
      } else if (n >= -32768 && n <= 32767) {
        sink.u8(0xc1);
        sink.u8(n & 0xff);
        sink.u8((n >> 8) & 0xff);
      } else {
        sink.u8(0xc2);
        sink.i32le(n);
      }
      return;
    }
  }
  if (compress && len > 20) {
    const packed = lzfCompress(data, len - 4);
    if (packed !== null) {
      sink.u8(0xc3);
      writeLen(sink, packed.length);
      writeLen(sink, len);
      sink.bytes(packed);
      return;
    }
  }
  writeLen(sink, len);
  sink.bytes(data);
}

/** A raw (never int-encoded, never compressed) string: for stream IDs and other fixed binary fields. */
export function writeRawStr(sink: ByteSink, data: Uint8Array): void {
  writeLen(sink, data.length);
  sink.bytes(data);
}
