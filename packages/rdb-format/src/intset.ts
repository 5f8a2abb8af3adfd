// Intset (FORMATS §4.3): 4-byte element width (2, 4 or 8), 4-byte count, members ascending, LE.
import { formatFail, type Fail } from './errors.js';
import { i64, u16, u32 } from './packed-common.js';

const HEADER = 8;

/** Decodes (and validates, as intsetValidateIntegrity) an intset: members in stored order, numbers or bigints. */
export function intsetEntries(b: Uint8Array, fail: Fail = formatFail): (number | bigint)[] {
  if (b.length < HEADER) fail(`intset of ${b.length} bytes is shorter than its 8-byte header`);
  const enc = u32(b, 0);
  if (enc !== 2 && enc !== 4 && enc !== 8) fail(`intset element size ${enc} is not 2, 4 or 8`);
  const count = u32(b, 4);
  if (count === 0) fail('intset is empty');
  if (HEADER + count * enc !== b.length) fail(`intset of ${count} × ${enc}-byte elements must be ${HEADER + count * enc} bytes, it is ${b.length}`);
  const out: (number | bigint)[] = new Array(count);
  let prev: number | bigint | undefined;
  for (let k = 0, p = HEADER; k < count; k++, p += enc) {
    const v = enc === 2 ? (u16(b, p) << 16) >> 16 : enc === 4 ? u32(b, p) | 0 : i64(b, p);
    if (prev !== undefined && !(v > prev)) fail(`intset members are not strictly ascending at index ${k}`);
    prev = v;
    out[k] = v;
  }
  return out;
}

/** An intset of the given (unique) int64 values, in the narrowest width that holds them all (as Redis builds it). */
export function encodeIntset(values: readonly bigint[]): Uint8Array {
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let width = 2;
  for (const v of sorted) {
    if (v < -2147483648n || v > 2147483647n) {
      width = 8;
      break;
    }
    if (v < -32768n || v > 32767n) width = 4;
  }
  const out = new Uint8Array(HEADER + sorted.length * width);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, width, true);
  dv.setUint32(4, sorted.length, true);
  let off = HEADER;
  for (const v of sorted) {
    if (width === 2) dv.setInt16(off, Number(v), true);
    else if (width === 4) dv.setInt32(off, Number(v), true);
    else dv.setBigInt64(off, v, true);
    off += width;
  }
  return out;
}
