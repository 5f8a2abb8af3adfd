// Zipmap (FORMATS §4.2, Redis ≤ 2.4 small hashes): a count byte (254 = "count it"), then per pair a field length,
// the field, a value length, a free-bytes count, the value and that many free bytes; 0xFF.
import { ByteSink } from './byte-sink.js';
import { formatFail, type Fail } from './errors.js';
import { END, u32 } from './packed-common.js';

/** Lengths and the count below this take 1 byte; 254 says "4 more bytes" (a length) or "count it" (the count). */
const BIG = 254;

/** Decodes (and validates, as zipmapValidateIntegrity) a zipmap: field, value, field, value... */
export function zipmapEntries(b: Uint8Array, fail: Fail = formatFail): Uint8Array[] {
  const n = b.length;
  if (n < 2) fail('zipmap is shorter than 2 bytes');
  const zmlen = b[0];
  const out: Uint8Array[] = [];
  let p = 1;
  const readLen = (): number => {
    if (p >= n) fail('zipmap overflows its string');
    const c = b[p];
    if (c < BIG) {
      p += 1;
      return c;
    }
    if (c === BIG) {
      if (p + 5 > n) fail('zipmap overflows its string');
      const v = u32(b, p + 1);
      p += 5;
      return v;
    }
    fail(`unexpected zipmap terminator at ${p}`);
  };
  for (;;) {
    if (p >= n) fail('zipmap has no terminator');
    if (b[p] === END) break;
    const klen = readLen();
    if (p + klen > n) fail('zipmap field overflows its string');
    out.push(b.subarray(p, p + klen));
    p += klen;
    const vlen = readLen();
    if (p >= n) fail('zipmap overflows its string');
    const free = b[p];
    p += 1;
    if (p + vlen + free > n) fail('zipmap value overflows its string');
    out.push(b.subarray(p, p + vlen));
    p += vlen + free;
  }
  if (p !== n - 1) fail('zipmap terminator is not its last byte');
  const pairs = out.length / 2;
  if (pairs === 0) fail('zipmap is empty');
  if (zmlen !== BIG && zmlen !== pairs) fail(`zipmap header counts ${zmlen} pairs but holds ${pairs}`);
  return out;
}

/** A zipmap of field/value pairs (no free bytes). */
export function encodeZipmap(pairs: readonly (readonly [Uint8Array, Uint8Array])[]): Uint8Array {
  const s = new ByteSink(256);
  s.u8(pairs.length < BIG ? pairs.length : BIG);
  const len = (n: number) => {
    if (n < BIG) s.u8(n);
    else {
      s.u8(BIG);
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
  s.u8(END);
  return s.take();
}
