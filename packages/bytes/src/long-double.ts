// C `long double` as Redis uses it for INCRBYFLOAT and HINCRBYFLOAT (src/util.c string2ld / ld2string,
// t_string.c incrbyfloatCommand, t_hash.c hincrbyfloatCommand): operands read with strtold, added in the x87
// 80-bit extended format (64-bit significand, round to nearest even), printed with "%.17Lf" and trimmed.
// The x87 format is what x86-64 Linux builds use; an aarch64 build has a 128-bit long double and prints other
// digits for inexact sums, so results here are those of x86-64 servers.
import { X87_EXTENDED_FORMAT, isCSpace, roundScanned, roundToBinary, scanStrtod } from './float-text.js';

/** An x87 extended value: finite `(-1)^negative × mantissa × 2^exponent` (mantissa < 2^64), ±infinity or NaN. */
export type LongDouble =
  | { readonly kind: 'finite'; readonly negative: boolean; readonly mantissa: bigint; readonly exponent: number }
  | { readonly kind: 'infinite'; readonly negative: boolean }
  | { readonly kind: 'nan' };

/** Redis' MAX_LONG_DOUBLE_CHARS: string2ld copies into a buffer this size, so a 5120-byte string is refused. */
export const MAX_LONG_DOUBLE_CHARS = 5 * 1024;

/**
 * Redis' `string2ld`: `strtold` must read the whole string (no blank first, no NUL inside, fewer than 5120
 * bytes), the result may not be NaN, and it may not overflow to ±inf or underflow to zero. `inf` itself is
 * accepted (the caller's sum then fails). `null` when Redis rejects the text.
 */
export function parseLongDouble(b: Uint8Array): LongDouble | null {
  if (b.length === 0 || b.length >= MAX_LONG_DOUBLE_CHARS || isCSpace(b[0])) return null;
  const scan = scanStrtod(b);
  if (scan.end !== b.length) return null;
  const n = scan.number;
  if (n.kind !== 'finite') return n.kind === 'nan' ? null : n;
  const r = roundScanned(n, X87_EXTENDED_FORMAT);
  if (r === 'overflow') return null;
  if (r.m === 0n && n.coefficient !== 0n) return null;
  return { kind: 'finite', negative: n.negative, mantissa: r.m, exponent: r.e };
}

/** `a + b` in x87 extended precision: the exact sum rounded once to 64 bits, ties to even; overflow gives ±inf. */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble {
  if (a.kind === 'nan' || b.kind === 'nan') return { kind: 'nan' };
  if (a.kind === 'infinite' || b.kind === 'infinite') {
    if (a.kind === 'infinite' && b.kind === 'infinite' && a.negative !== b.negative) return { kind: 'nan' };
    return a.kind === 'infinite' ? a : b;
  }
  const e = Math.min(a.exponent, b.exponent);
  const av = (a.negative ? -a.mantissa : a.mantissa) << BigInt(a.exponent - e);
  const bv = (b.negative ? -b.mantissa : b.mantissa) << BigInt(b.exponent - e);
  const sum = av + bv;
  if (sum === 0n) {
    // IEEE: an exact zero sum is +0 in round-to-nearest unless both addends are -0.
    return { kind: 'finite', negative: a.negative && b.negative && a.mantissa === 0n && b.mantissa === 0n, mantissa: 0n, exponent: X87_EXTENDED_FORMAT.minExp };
  }
  const negative = sum < 0n;
  const r = roundToBinary(negative ? -sum : sum, 1n, e, X87_EXTENDED_FORMAT);
  if (r === 'overflow') return { kind: 'infinite', negative };
  return { kind: 'finite', negative, mantissa: r.m, exponent: r.e };
}

/**
 * glibc's `printf("%.<digits>Lf", v)` of a finite value: every integer digit, then `digits` decimals of the exact
 * binary value rounded half to even (glibc rounds the exact value in the current mode, nearest-even by default).
 */
export function formatLongDoubleFixed(v: LongDouble & { kind: 'finite' }, digits: number): string {
  const scale = 10n ** BigInt(digits);
  let q: bigint;
  if (v.exponent >= 0) q = (v.mantissa << BigInt(v.exponent)) * scale;
  else {
    const k = BigInt(-v.exponent);
    const n = v.mantissa * scale;
    q = n >> k;
    const r = n - (q << k);
    const half = 1n << (k - 1n);
    if (r > half || (r === half && (q & 1n) === 1n)) q++;
  }
  let text = q.toString().padStart(digits + 1, '0');
  if (digits > 0) text = `${text.slice(0, text.length - digits)}.${text.slice(text.length - digits)}`;
  return v.negative ? `-${text}` : text;
}

/**
 * Redis' `ld2string(..., LD_STR_HUMAN)`: `inf`/`-inf`, else "%.17Lf" with trailing zeros (and a bare '.')
 * dropped and "-0" made "0". The text INCRBYFLOAT / HINCRBYFLOAT store and reply with. (A long double needs at
 * most 4952 characters this way, so Redis' 5 KiB buffer never truncates it.)
 */
export function formatLongDoubleHuman(v: LongDouble): string {
  if (v.kind === 'nan') return 'nan';
  if (v.kind === 'infinite') return v.negative ? '-inf' : 'inf';
  let text = formatLongDoubleFixed(v, 17);
  text = text.replace(/0+$/, '');
  if (text.endsWith('.')) text = text.slice(0, -1);
  return text === '-0' ? '0' : text;
}

/** Why Redis refuses an INCRBYFLOAT / HINCRBYFLOAT: an operand strtold rejects, or a NaN/infinite result. */
export type IncrByFloatFailure = 'current-not-float' | 'increment-not-float' | 'increment-not-finite' | 'result-not-finite';

/**
 * The text INCRBYFLOAT (or HINCRBYFLOAT, with `hash`) stores for `current + increment`, or why Redis refuses.
 * `current` is the stored text (`null` for a missing key or field: 0). The checks come in Redis' order:
 * INCRBYFLOAT reads the stored value first; HINCRBYFLOAT reads the increment first and refuses an infinite
 * one outright ("value is NaN or Infinity").
 */
export function incrByFloatText(
  current: Uint8Array | null,
  increment: Uint8Array,
  hash = false,
): { ok: true; text: string } | { ok: false; why: IncrByFloatFailure } {
  const zero: LongDouble = { kind: 'finite', negative: false, mantissa: 0n, exponent: X87_EXTENDED_FORMAT.minExp };
  let base: LongDouble | null = zero;
  let by: LongDouble | null;
  if (hash) {
    by = parseLongDouble(increment);
    if (by === null) return { ok: false, why: 'increment-not-float' };
    if (by.kind !== 'finite') return { ok: false, why: 'increment-not-finite' };
    if (current !== null) base = parseLongDouble(current);
    if (base === null) return { ok: false, why: 'current-not-float' };
  } else {
    if (current !== null) base = parseLongDouble(current);
    if (base === null) return { ok: false, why: 'current-not-float' };
    by = parseLongDouble(increment);
    if (by === null) return { ok: false, why: 'increment-not-float' };
  }
  const sum = addLongDouble(base, by);
  if (sum.kind !== 'finite') return { ok: false, why: 'result-not-finite' };
  return { ok: true, text: formatLongDoubleHuman(sum) };
}
