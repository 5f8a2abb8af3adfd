import { lzfCompress, parseCanonicalInt } from '@redis-persist/bytes';
import { ByteSink } from '@redis-persist/rdb-format';

// One byte sink for the writer and the blob encoders of @redis-persist/rdb-format.
export { ByteSink };

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
