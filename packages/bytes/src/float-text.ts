// Decimal text <-> binary floating point, as C's strtod/strtold and glibc's printf do it, and the rules Redis
// builds on them (src/util.c string2d, double2ll, d2string; deps/fpconv). Everything is exact: values are held
// as BigInt rationals and rounded once, to nearest with ties to even, because Redis' output is byte-compared
// with ours and a double rounding in a JS shortcut shows up as a different last digit.

/** A binary floating-point format: values are `m × 2^e` with `m < 2^precision`, `minExp ≤ e ≤ maxExp`. */
export interface BinaryFormat {
  readonly precision: number;
  /** Exponent of the smallest subnormal (the unit of `m` at the bottom of the range). */
  readonly minExp: number;
  /** Largest `e` a normal `m` (top bit set) may have: beyond it the value overflows. */
  readonly maxExp: number;
}

/** IEEE 754 binary64 (C `double`). */
export const DOUBLE_FORMAT: BinaryFormat = { precision: 53, minExp: -1074, maxExp: 971 };
/** x87 80-bit extended precision (C `long double` on x86-64 Linux, where Redis is usually built). */
export const X87_EXTENDED_FORMAT: BinaryFormat = { precision: 64, minExp: -16445, maxExp: 16320 };

/** A finite value rounded into a format: `m × 2^e` (m = 0 for zero) and whether rounding changed it, or an overflow. */
export type RoundedBinary = { readonly m: bigint; readonly e: number; readonly inexact: boolean } | 'overflow';

/** The number a C `strtod`-family call read: an exact value (`coefficient × base^exponent`), infinity or NaN. */
export type ScannedNumber =
  | { readonly kind: 'finite'; readonly negative: boolean; readonly coefficient: bigint; readonly base: 2 | 10; readonly exponent: number }
  | { readonly kind: 'infinite'; readonly negative: boolean }
  | { readonly kind: 'nan'; readonly negative: boolean };

/** What a C `strtod` call returns: the number and the index just past what it consumed (`start` when nothing). */
export interface StrtodScan {
  readonly number: ScannedNumber;
  readonly end: number;
}

/** C's `isspace` in the "C" locale (Redis never sets LC_NUMERIC or LC_CTYPE). */
export function isCSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
}

function matchWord(s: Uint8Array, i: number, word: string): boolean {
  if (i + word.length > s.length) return false;
  for (let k = 0; k < word.length; k++) if (lower(s[i + k]) !== word.charCodeAt(k)) return false;
  return true;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = lower(c);
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

// Exponents beyond this are clamped: a value that far out over- or underflows every format whatever the
// coefficient (at most a few thousand digits here), and the clamp keeps BigInt powers small.
const EXP_CLAMP = 1_000_000;

/** Reads an optional `[+-]digits` exponent at `i`; `null` when no digit follows (strtod then stops before it). */
function readExponent(s: Uint8Array, i: number): { value: number; end: number } | null {
  let j = i;
  let neg = false;
  if (s[j] === 0x2b || s[j] === 0x2d) {
    neg = s[j] === 0x2d;
    j++;
  }
  if (j >= s.length || !isDigit(s[j])) return null;
  let v = 0;
  for (; j < s.length && isDigit(s[j]); j++) if (v < EXP_CLAMP) v = v * 10 + (s[j] - 0x30);
  return { value: neg ? -Math.min(v, EXP_CLAMP) : Math.min(v, EXP_CLAMP), end: j };
}

/**
 * glibc's `strtod`/`strtold` grammar in the C locale, from `start`: leading blanks, a sign, then `inf`/`infinity`,
 * `nan`/`nan(chars)`, hexadecimal (`0x1.8p3`, the exponent optional) or decimal digits with an optional exponent.
 * It consumes the longest prefix that is a number, as C does (`"1e"` reads `1`, `"0x"` reads `0`); `end` equal to
 * `start` means no conversion.
 */
export function scanStrtod(s: Uint8Array, start = 0): StrtodScan {
  const none: StrtodScan = { number: { kind: 'finite', negative: false, coefficient: 0n, base: 10, exponent: 0 }, end: start };
  let i = start;
  while (i < s.length && isCSpace(s[i])) i++;
  let negative = false;
  if (s[i] === 0x2b || s[i] === 0x2d) {
    negative = s[i] === 0x2d;
    i++;
  }
  if (matchWord(s, i, 'inf')) {
    return { number: { kind: 'infinite', negative }, end: matchWord(s, i, 'infinity') ? i + 8 : i + 3 };
  }
  if (matchWord(s, i, 'nan')) {
    let end = i + 3;
    if (s[end] === 0x28) {
      let j = end + 1;
      while (j < s.length && (isDigit(s[j]) || (lower(s[j]) >= 0x61 && lower(s[j]) <= 0x7a) || s[j] === 0x5f)) j++;
      if (s[j] === 0x29) end = j + 1;
    }
    return { number: { kind: 'nan', negative }, end };
  }
  if (s[i] === 0x30 && lower(s[i + 1] ?? 0) === 0x78) {
    // Hexadecimal: at least one hex digit must follow "0x", else only the "0" is read.
    let j = i + 2;
    let coefficient = 0n;
    let digits = 0;
    let shift = 0;
    let sawPoint = false;
    for (; j < s.length; j++) {
      if (s[j] === 0x2e && !sawPoint) {
        sawPoint = true;
        continue;
      }
      const h = hexValue(s[j]);
      if (h < 0) break;
      coefficient = (coefficient << 4n) | BigInt(h);
      digits++;
      if (sawPoint) shift -= 4;
    }
    if (digits > 0) {
      let exponent = shift;
      if (lower(s[j] ?? 0) === 0x70) {
        const e = readExponent(s, j + 1);
        if (e !== null) {
          exponent += e.value;
          j = e.end;
        }
      }
      return { number: { kind: 'finite', negative, coefficient, base: 2, exponent }, end: j };
    }
    return { number: { kind: 'finite', negative, coefficient: 0n, base: 10, exponent: 0 }, end: i + 1 };
  }
  let j = i;
  let digits = 0;
  let sawPoint = false;
  let fraction = 0;
  const first = j;
  for (; j < s.length; j++) {
    if (s[j] === 0x2e && !sawPoint) {
      sawPoint = true;
      continue;
    }
    if (!isDigit(s[j])) break;
    digits++;
    if (sawPoint) fraction++;
  }
  if (digits === 0) return none;
  let text = '';
  for (let k = first; k < j; k++) if (s[k] !== 0x2e) text += String.fromCharCode(s[k]);
  let exponent = -fraction;
  if (lower(s[j] ?? 0) === 0x65) {
    const e = readExponent(s, j + 1);
    if (e !== null) {
      exponent += e.value;
      j = e.end;
    }
  }
  return { number: { kind: 'finite', negative, coefficient: BigInt(text), base: 10, exponent }, end: j };
}

/** Bit length of a positive BigInt. */
export function bitLength(x: bigint): number {
  const hex = x.toString(16);
  return (hex.length - 1) * 4 + (32 - Math.clz32(parseInt(hex[0], 16)));
}

/**
 * Rounds the positive rational `num × 2^shift / den` into `format`, to nearest with ties to even (the IEEE
 * default that strtod and the FPU use). Tiny values become subnormal or zero; too large ones `'overflow'`.
 */
export function roundToBinary(num: bigint, den: bigint, shift: number, format: BinaryFormat): RoundedBinary {
  if (num === 0n) return { m: 0n, e: format.minExp, inexact: false };
  const p = format.precision;
  // value lies in [2^(bl-1), 2^(bl+1)); aim for a p-bit quotient, then correct by one if the guess was off.
  const bl = bitLength(num) - bitLength(den) + shift;
  if (bl - p > format.maxExp + 2) return 'overflow';
  if (bl < format.minExp - 2) return { m: 0n, e: format.minExp, inexact: true };
  let e = Math.max(bl - p, format.minExp);
  let q = 0n;
  let r = 0n;
  let d = 1n;
  for (;;) {
    const k = shift - e;
    const n = k >= 0 ? num << BigInt(k) : num;
    d = k >= 0 ? den : den << BigInt(-k);
    q = n / d;
    r = n - q * d;
    if (q >= 1n << BigInt(p)) e++;
    else if (q < 1n << BigInt(p - 1) && e > format.minExp) e--;
    else break;
  }
  const twice = r * 2n;
  if (twice > d || (twice === d && (q & 1n) === 1n)) q++;
  if (q === 1n << BigInt(p)) {
    q >>= 1n;
    e++;
  }
  if (e > format.maxExp) return 'overflow';
  return { m: q, e, inexact: r !== 0n };
}

/** Rounds a scanned finite value into `format` (magnitude only; the sign stays with the caller). */
export function roundScanned(n: { coefficient: bigint; base: 2 | 10; exponent: number }, format: BinaryFormat): RoundedBinary {
  if (n.coefficient === 0n) return { m: 0n, e: format.minExp, inexact: false };
  if (n.base === 2) return roundToBinary(n.coefficient, 1n, n.exponent, format);
  // Decimal: a quick magnitude check first, so "1e999999" costs no million-digit power of ten.
  const magnitude = n.coefficient.toString().length + n.exponent; // value < 10^magnitude
  if (magnitude > (format.maxExp + format.precision) * 0.30103 + 2) return 'overflow';
  if (magnitude < format.minExp * 0.30103 - 2) return { m: 0n, e: format.minExp, inexact: true };
  return n.exponent >= 0
    ? roundToBinary(n.coefficient * 10n ** BigInt(n.exponent), 1n, 0, format)
    : roundToBinary(n.coefficient, 10n ** BigInt(-n.exponent), 0, format);
}

// ---------------------------------------------------------------------------------------------------------------
// double

const f64 = new DataView(new ArrayBuffer(8));

/** A finite double as `m × 2^e` (m ≥ 0, the sign dropped). */
export function doubleParts(x: number): { m: bigint; e: number } {
  f64.setFloat64(0, x);
  const bits = f64.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & 0xfffffffffffffn;
  return biased === 0 ? { m: frac, e: -1074 } : { m: frac | (1n << 52n), e: biased - 1075 };
}

function doubleFrom(m: bigint, e: number, negative: boolean): number {
  // m < 2^53 and e within the double range: both factors are exact, and so is the product.
  let v = Number(m);
  if (e > 0) v *= 2 ** Math.min(e, 1000) * 2 ** Math.max(0, e - 1000);
  else if (e < 0) v = v * 2 ** Math.max(e, -1000) * 2 ** Math.min(0, e + 1000);
  return negative ? -v : v;
}

/**
 * The value of a strtod scan as a double, with C's ERANGE as glibc sets it: on overflow, and on underflow — an
 * inexact result that is below the smallest normal double even when rounded with an unbounded exponent (so
 * 4.9e-324 sets it, the exact 0x1p-1074 does not, and 0x1.fffffffffffff8p-1023, which rounds up to the smallest
 * normal, does not).
 */
export function scannedToDouble(n: ScannedNumber): { value: number; erange: boolean } {
  if (n.kind === 'nan') return { value: NaN, erange: false };
  if (n.kind === 'infinite') return { value: n.negative ? -Infinity : Infinity, erange: false };
  const r = roundScanned(n, DOUBLE_FORMAT);
  if (r === 'overflow') return { value: n.negative ? -Infinity : Infinity, erange: true };
  let erange = false;
  if (r.inexact && r.e === DOUBLE_FORMAT.minExp && r.m <= 1n << 52n) {
    // A format 64 bits deeper stands in for an unbounded exponent: anything below it is tiny either way.
    const unbounded = roundScanned(n, { ...DOUBLE_FORMAT, minExp: DOUBLE_FORMAT.minExp - 64 });
    erange = unbounded === 'overflow' ? false : unbounded.m === 0n || unbounded.e < DOUBLE_FORMAT.minExp || unbounded.m < 1n << 52n;
  }
  return { value: doubleFrom(r.m, r.e, n.negative), erange };
}

/** C `strtod` on `s[start..]`: the value of the longest numeric prefix (0 when there is none) and where it ended. */
export function strtod(s: Uint8Array, start = 0): { value: number; end: number; erange: boolean } {
  const scan = scanStrtod(s, start);
  return { ...scannedToDouble(scan.number), end: scan.end };
}

const PLAIN_DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const latin1 = new TextDecoder('latin1');

/**
 * Redis' `string2d` (src/util.c), the rule for scores and other double arguments: the whole string is one strtod
 * number (so hexadecimal and `inf`/`-inf`/`infinity` are accepted), it does not start with a blank, is not NaN,
 * and neither overflows to ±inf nor underflows to zero (ERANGE). `null` when Redis rejects it.
 */
export function parseRedisDouble(b: Uint8Array): number | null {
  if (b.length === 0 || isCSpace(b[0])) return null;
  if (b.length <= 40) {
    // Fast path for the usual score: JS parses plain decimals correctly rounded, as glibc does.
    const s = latin1.decode(b);
    if (PLAIN_DECIMAL.test(s)) {
      const v = Number(s);
      if (!Number.isFinite(v)) return null;
      if (v === 0 && /[1-9]/.test(s.replace(/[eE].*$/, ''))) return null;
      return v;
    }
  }
  const scan = scanStrtod(b);
  if (scan.end !== b.length || scan.number.kind === 'nan') return null;
  const { value, erange } = scannedToDouble(scan.number);
  if (erange && (value === 0 || !Number.isFinite(value))) return null;
  return value;
}

/**
 * The rule of Redis' score ranges (t_zset.c zslParseRange, after a leading '(' is cut off): plain strtod on the
 * C string, which must end where the number ends, and not NaN. Unlike {@link parseRedisDouble}, leading blanks
 * are fine, an overflow is ±inf, an underflow 0, and the empty string is 0; the C string stops at a NUL byte.
 */
export function parseRedisRangeDouble(b: Uint8Array): number | null {
  const nul = b.indexOf(0);
  const s = nul < 0 ? b : b.subarray(0, nul);
  const r = strtod(s);
  if (r.end !== s.length || Number.isNaN(r.value)) return null;
  return r.value;
}

/** Exact significant digits of `m × 2^e` rounded to `digits` figures (ties to even): `q × 10^d10`, q of `digits` figures. */
function roundSignificant(m: bigint, e: number, digits: number): { q: bigint; d10: number } {
  const approx = Math.floor((bitLength(m) - 1 + e) * 0.30102999566398) - (digits - 1);
  let d10 = approx;
  const lo = 10n ** BigInt(digits - 1);
  const hi = lo * 10n;
  for (;;) {
    let num = m;
    let den = 1n;
    if (e >= 0) num <<= BigInt(e);
    else den <<= BigInt(-e);
    if (d10 >= 0) den *= 10n ** BigInt(d10);
    else num *= 10n ** BigInt(-d10);
    let q = num / den;
    const r = num - q * den;
    if (q >= hi) {
      d10++;
      continue;
    }
    if (q < lo) {
      d10--;
      continue;
    }
    if (2n * r > den || (2n * r === den && (q & 1n) === 1n)) q++;
    if (q === hi) return { q: lo, d10: d10 + 1 };
    return { q, d10 };
  }
}

/**
 * glibc's `printf("%.17g", x)`: 17 significant digits of the exact binary value rounded half to even, trailing
 * zeros dropped, exponent form when the exponent is below -4 or at least 17. What Redis ≤ 7.0 writes for scores
 * (rio.c rioWriteBulkDouble, the ZSCORE reply, listpack and RDB score text beside d2string's integer shortcut).
 */
export function formatDoubleG17(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  const neg = x < 0 || Object.is(x, -0);
  if (x === 0) return neg ? '-0' : '0';
  const { m, e } = doubleParts(x);
  const P = 17;
  const { q, d10 } = roundSignificant(m, e, P);
  const digits = q.toString().replace(/0+$/, '');
  const X = d10 + P - 1; // decimal exponent of the first digit
  let out: string;
  if (X < P && X >= -4) {
    if (X >= 0) {
      const intPart = digits.length > X + 1 ? digits.slice(0, X + 1) : digits.padEnd(X + 1, '0');
      const frac = digits.slice(X + 1);
      out = frac ? `${intPart}.${frac}` : intPart;
    } else out = `0.${'0'.repeat(-X - 1)}${digits}`;
  } else {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const a = Math.abs(X);
    out = `${mantissa}e${X < 0 ? '-' : '+'}${a < 10 ? '0' : ''}${a}`;
  }
  return neg ? `-${out}` : out;
}

// Which text Redis 7.2+ writes for a score (read in redis/redis at 7.0.15, 7.2.6 and unstable of 2024-10):
// - AOF rewrite, src/rio.c rioWriteBulkDouble: 7.0 snprintf("%.17g"), 7.2+ fpconv_dtoa straight, with no
//   integer shortcut, so a rewritten ZADD carries 1e16 as "1e+16" ({@link formatDoubleShortest}).
// - Listpack entries, src/t_zset.c zzlInsertAt (7.0+): double2ll first — an integral score within ±2^62 is
//   stored as a listpack integer — otherwise d2string's text; src/util.c d2string is double2ll -> ll2string,
//   else "%.17g" (7.0) or fpconv_dtoa (7.2+) ({@link formatDoubleRedis}). So 1e16 is the integer 10000000000000000.
// - RDB text doubles, src/rdb.c rdbSaveDoubleValue: the same integer test, then "%.17g" (7.0) or fpconv_dtoa
//   (7.2+); ≤ 6.2 tested |x| < 2^52 instead, which prints the same digits as "%.17g".
// - Replies, src/networking.c addReplyDouble: 7.0 "%.17g" (RESP2, so ZSCORE of 0.1 is 0.10000000000000001),
//   7.2+ d2string.
// Neither old copy was the rule everywhere: JS String() (the RDB writer's) is not fpconv's layout (0.0000012345
// vs 1.2345e-6, 1e+20 vs 100000000000000000000), and the AOF text must not take d2string's integer shortcut.

/**
 * Redis 7.2+'s `fpconv_dtoa` (deps/fpconv/fpconv_dtoa.c): shortest round-trip digits laid out as a plain integer
 * when at most 7 zeros would follow the digits, a plain decimal when the exponent is above -7 (or the number has
 * few integer digits), else `d.ddde±N` with the exponent unpadded; a negative zero is `-0`. What 7.2+ writes for
 * scores in a rewritten AOF (rio.c rioWriteBulkDouble calls fpconv_dtoa directly, with no integer shortcut).
 * The digits are JS's shortest; Redis finds them with grisu2, which in rare cases returns a longer (still
 * round-tripping) form.
 */
export function formatDoubleShortest(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  const neg = x < 0 || Object.is(x, -0);
  if (x === 0) return neg ? '-0' : '0';
  const [mant, exp] = Math.abs(x).toExponential().split('e') as [string, string];
  const digits = mant.replace('.', '');
  const n = digits.length;
  const K = Number(exp) - (n - 1); // value = digits × 10^K
  const absExp = Math.abs(K + n - 1);
  let out: string;
  if (K >= 0 && absExp < n + 7) out = digits + '0'.repeat(K);
  else if (K < 0 && (K > -7 || absExp < 4)) {
    const offset = n + K;
    out = offset <= 0 ? `0.${'0'.repeat(-offset)}${digits}` : `${digits.slice(0, offset)}.${digits.slice(offset)}`;
  } else out = `${digits[0]}${n > 1 ? `.${digits.slice(1)}` : ''}e${K + n - 1 < 0 ? '-' : '+'}${absExp}`;
  return neg ? `-${out}` : out;
}

/**
 * Redis' `double2ll` (src/util.c, 7.0+): the integer a double equals when it is integral and within
 * ±(2^63-1)/2 — the range where Redis prints a score as an integer or stores it as a listpack integer.
 */
export function doubleToSafeInt64(x: number): bigint | null {
  // (double)(LLONG_MAX/2) rounds up to 2^62, so 2^62 itself is in range.
  if (!(x >= -(2 ** 62) && x <= 2 ** 62) || !Number.isInteger(x)) return null;
  return BigInt(x);
}

/**
 * Redis' `d2string` (src/util.c): `nan`, `inf`/`-inf`, `0`/`-0`, an integer when {@link doubleToSafeInt64}
 * allows it, else `%.17g` (7.0) or `fpconv_dtoa` (7.2+). Listpack score strings (t_zset.c zzlInsertAt) and
 * RDB text doubles (rdb.c rdbSaveDoubleValue, which inlines the same rule) are written this way.
 */
export function formatDoubleRedis(x: number, style: 'redis7.0' | 'redis7.2'): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const i = doubleToSafeInt64(x);
  if (i !== null) return i.toString();
  return style === 'redis7.0' ? formatDoubleG17(x) : formatDoubleShortest(x);
}
