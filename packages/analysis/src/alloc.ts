// The allocator and string-header facts every cost in this package is built from: what jemalloc hands out for a
// request (Redis 7.0 asks it with malloc_usable_size, so MEMORY USAGE counts the rounded size), what an sds string
// costs, and how listpack and intset entries are sized. Facts read from Redis 7.0.15 (src/sds.h, src/listpack.c,
// src/intset.c) and jemalloc 5.3 (the Debian build `redis-server --version` names); no code taken from either.

/**
 * jemalloc's usable size for a request of `n` bytes on x86-64 (4 KiB pages, 16-byte quantum): 8, then multiples of
 * 16 up to 128, then four classes per doubling (160, 192, 224, 256, 320, ...). Large and huge allocations follow the
 * same four-per-doubling spacing, so one rule covers every size MEMORY USAGE sees.
 */
export function jemallocSize(n: number): number {
  if (n <= 8) return 8;
  if (n <= 128) return Math.ceil(n / 16) * 16;
  const lg = Math.floor(Math.log2(n - 1)); // 2^lg < n <= 2^(lg+1)
  const step = 2 ** (lg - 2);
  return Math.ceil(n / step) * step;
}

/** Header bytes of an sds string of this length (sdshdr5 below 32 bytes, sdshdr8 for the empty string too). */
export function sdsHeaderSize(len: number): number {
  if (len === 0) return 3;
  if (len < 32) return 1;
  if (len < 256) return 3;
  if (len < 65536) return 5;
  if (len < 2 ** 32) return 9;
  return 17;
}

/** What an sds string made for exactly `len` bytes occupies (header, bytes, the NUL, rounded by jemalloc). */
export function sdsAllocSize(len: number): number {
  return jemallocSize(sdsHeaderSize(len) + len + 1);
}

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/**
 * The integer a byte string reads as under Redis' strict rules (string2ll / lpStringToInt64: optional '-', no
 * leading zeros, no '+', no spaces, within int64), or null. Listpacks, intsets and INT-encoded strings all use it.
 */
export function strictInt64(b: Uint8Array): bigint | null {
  const n = b.length;
  if (n === 0 || n > 20) return null;
  if (n === 1 && b[0] === 0x30) return 0n;
  let i = 0;
  const neg = b[0] === 0x2d;
  if (neg) {
    i = 1;
    if (n === 1) return null;
  }
  if (b[i] < 0x31 || b[i] > 0x39) return null;
  for (let j = i; j < n; j++) if (b[j] < 0x30 || b[j] > 0x39) return null;
  // at most 19 digits fit; parse through BigInt only for the long ones
  let v: bigint;
  if (n - i <= 15) {
    let x = 0;
    for (let j = i; j < n; j++) x = x * 10 + (b[j] - 0x30);
    v = BigInt(neg ? -x : x);
  } else {
    v = BigInt((neg ? '-' : '') + Buffer.from(b.subarray(i)).toString('latin1'));
  }
  if (v > INT64_MAX || v < INT64_MIN) return null;
  return v;
}

/** Bytes of a listpack integer entry's encoding and data (7-bit, 13-bit, 16, 24, 32 or 64 bits). */
export function listpackIntSize(v: bigint | number): number {
  const x = typeof v === 'bigint' ? v : BigInt(v);
  if (x >= 0n && x <= 127n) return 1;
  if (x >= -4096n && x <= 4095n) return 2;
  if (x >= -32768n && x <= 32767n) return 3;
  if (x >= -8388608n && x <= 8388607n) return 4;
  if (x >= -2147483648n && x <= 2147483647n) return 5;
  return 9;
}

/** Bytes of the back-length that ends each listpack entry of `l` bytes. */
export function listpackBacklenSize(l: number): number {
  if (l <= 127) return 1;
  if (l < 16383) return 2;
  if (l < 2097151) return 3;
  if (l < 268435455) return 4;
  return 5;
}

/** A whole listpack entry (encoding, data, back-length) holding this byte string, as lpAppend would store it. */
export function listpackEntrySize(b: Uint8Array): number {
  const v = strictInt64(b);
  let enc: number;
  if (v !== null) enc = listpackIntSize(v);
  else if (b.length < 64) enc = 1 + b.length;
  else if (b.length < 4096) enc = 2 + b.length;
  else enc = 5 + b.length;
  return enc + listpackBacklenSize(enc);
}

/** A listpack entry holding an integer (lpAppendInteger). */
export function listpackIntEntrySize(v: bigint | number): number {
  const enc = listpackIntSize(v);
  return enc + listpackBacklenSize(enc);
}

/** The listpack header (total bytes, element count) and its end byte. */
export const LISTPACK_EMPTY = 7;

/** Width in bytes of an intset member: 2, 4 or 8, by the range the value needs. */
export function intsetWidth(v: bigint): number {
  if (v >= -32768n && v <= 32767n) return 2;
  if (v >= -2147483648n && v <= 2147483647n) return 4;
  return 8;
}

/**
 * The text Redis' d2string writes for a sorted-set score inside a listpack: an integral value within +-2^62 as an
 * integer (so the listpack stores it as one), else C's `%.17g`.
 */
export function scoreText(score: number): string {
  if (Number.isNaN(score)) return 'nan';
  if (score === Infinity) return 'inf';
  if (score === -Infinity) return '-inf';
  if (score === 0) return Object.is(score, -0) ? '-0' : '0';
  // double2ll: only within +-LLONG_MAX/2 (as a double, 2^62)
  if (Number.isInteger(score) && Math.abs(score) <= 2 ** 62) return BigInt(score).toString();
  return printfG17(score);
}

/** C's `%.17g`: 17 significant digits, exponent form below 1e-4 or from 1e17, trailing zeros dropped. */
function printfG17(x: number): string {
  const e = Number(x.toExponential(16).split('e')[1]);
  const useExp = e < -4 || e >= 17;
  if (useExp) {
    const [mant, ex] = x.toExponential(16).split('e');
    const m = mant.includes('.') ? mant.replace(/0+$/, '').replace(/\.$/, '') : mant;
    const en = Number(ex);
    return `${m}e${en < 0 ? '-' : '+'}${String(Math.abs(en)).padStart(2, '0')}`;
  }
  const s = x.toFixed(Math.max(0, 16 - e));
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

function backlenBytes(l: number): number[] {
  if (l <= 127) return [l];
  if (l < 16383) return [l >>> 7, (l & 127) | 128];
  if (l < 2097151) return [l >>> 14, ((l >>> 7) & 127) | 128, (l & 127) | 128];
  if (l < 268435455) return [l >>> 21, ((l >>> 14) & 127) | 128, ((l >>> 7) & 127) | 128, (l & 127) | 128];
  return [Math.floor(l / 2 ** 28), ((l >>> 21) & 127) | 128, ((l >>> 14) & 127) | 128, ((l >>> 7) & 127) | 128, (l & 127) | 128];
}

/**
 * The bytes of a listpack holding these elements, as lpAppend writes them (needed only where its LZF-compressed
 * size matters: quicklist nodes under list-compress-depth).
 */
export function encodeListpack(elements: readonly Uint8Array[]): Uint8Array {
  const total = LISTPACK_EMPTY + elements.reduce((s, e) => s + listpackEntrySize(e), 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, total, true);
  view.setUint16(4, Math.min(elements.length, 65535), true);
  let p = 6;
  for (const e of elements) {
    const start = p;
    const v = strictInt64(e);
    if (v !== null) {
      const size = listpackIntSize(v);
      if (size === 1) out[p++] = Number(v);
      else if (size === 2) {
        const u = Number(v < 0n ? v + 8192n : v);
        out[p++] = 0xc0 | (u >>> 8);
        out[p++] = u & 0xff;
      } else {
        const bytes = size - 1;
        out[p++] = bytes === 2 ? 0xf1 : bytes === 3 ? 0xf2 : bytes === 4 ? 0xf3 : 0xf4;
        let u = BigInt.asUintN(bytes * 8, v);
        for (let i = 0; i < bytes; i++) {
          out[p++] = Number(u & 0xffn);
          u >>= 8n;
        }
      }
    } else if (e.length < 64) {
      out[p++] = 0x80 | e.length;
      out.set(e, p);
      p += e.length;
    } else if (e.length < 4096) {
      out[p++] = 0xe0 | (e.length >>> 8);
      out[p++] = e.length & 0xff;
      out.set(e, p);
      p += e.length;
    } else {
      out[p++] = 0xf0;
      view.setUint32(p, e.length, true);
      p += 4;
      out.set(e, p);
      p += e.length;
    }
    for (const b of backlenBytes(p - start)) out[p++] = b;
  }
  out[p] = 0xff;
  return out;
}
