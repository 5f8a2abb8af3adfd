import { lzfCompressInto, parseCanonicalInt } from '@redis-persist/bytes';
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
  if (compress && len > 20 && len <= U32_MAX) {
    // Compressed straight into the sink's buffer, after room for the header (0xc3, compressed length, length):
    // no result buffer, no copy unless the compressed length's encoding is shorter than the length's. When
    // compression does not pay, what it wrote past `pos` is simply overwritten.
    const lenBytes = lenSize(len);
    const head = 1 + 2 * lenBytes;
    sink.ensure(head + len - 4 + 1);
    const start = sink.pos;
    const n = lzfCompressInto(data, sink.buf, start + head, len - 4);
    if (n >= 0) {
      const buf = sink.buf;
      const nBytes = lenSize(n);
      buf[start] = 0xc3;
      sink.pos = start + 1;
      writeLen(sink, n);
      writeLen(sink, len);
      const at = start + 1 + nBytes + lenBytes;
      if (at !== start + head) buf.copyWithin(at, start + head, start + head + n);
      sink.pos = at + n;
      return;
    }
  }
  writeLen(sink, len);
  sink.bytes(data);
}

/** Bytes {@link writeLen} takes for `n` (a number up to 2^32 - 1). */
function lenSize(n: number): number {
  return n < 64 ? 1 : n < 16384 ? 2 : 5;
}

/** A raw (never int-encoded, never compressed) string: for stream IDs and other fixed binary fields. */
export function writeRawStr(sink: ByteSink, data: Uint8Array): void {
  writeLen(sink, data.length);
  sink.bytes(data);
}
