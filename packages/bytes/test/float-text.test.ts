// Number <-> text rules (float-text.ts, long-double.ts): the figures reproduced on redis-server 7.0.15 (and, for
// INCRBYFLOAT, 8.0.2 and Valkey 8.1.1), then properties against independent BigInt references.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_LONG_DOUBLE_CHARS,
  addLongDouble,
  doubleParts,
  doubleToSafeInt64,
  formatDoubleG17,
  formatDoubleRedis,
  formatDoubleShortest,
  formatLongDoubleHuman,
  incrByFloatText,
  parseLongDouble,
  parseRedisDouble,
  parseRedisRangeDouble,
  scanStrtod,
  strtod,
  type LongDouble,
} from '@redis-persist/bytes';

const b = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const incr = (cur: string | null, by: string, hash = false) => {
  const r = incrByFloatText(cur === null ? null : b(cur), b(by), hash);
  return r.ok ? r.text : `error: ${r.why}`;
};

describe('formatDoubleG17 (%.17g)', () => {
  it('prints the exact binary value rounded half to even, as glibc', () => {
    expect(formatDoubleG17(1000000000000000.25)).toBe('1000000000000000.2'); // the tie the old copy rounded up
    expect(formatDoubleG17(1000000000000000.75)).toBe('1000000000000000.8');
    expect(formatDoubleG17(0.1)).toBe('0.10000000000000001');
    expect(formatDoubleG17(1.1)).toBe('1.1000000000000001');
    expect(formatDoubleG17(1e16)).toBe('10000000000000000');
    expect(formatDoubleG17(1e17)).toBe('1e+17');
    expect(formatDoubleG17(0.0001)).toBe('0.0001');
    expect(formatDoubleG17(0.00001)).toBe('1.0000000000000001e-05');
    expect(formatDoubleG17(5e-324)).toBe('4.9406564584124654e-324');
    expect(formatDoubleG17(1.7976931348623157e308)).toBe('1.7976931348623157e+308');
    expect(formatDoubleG17(-0)).toBe('-0');
    expect(formatDoubleG17(-Infinity)).toBe('-inf');
    expect(formatDoubleG17(123)).toBe('123');
  });

  it('reads back as the same double, with at most 17 significant digits', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const t = formatDoubleG17(x);
        expect(Object.is(Number(t), x)).toBe(true);
        expect(t.replace(/^-/, '').replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').length).toBeLessThanOrEqual(17);
      }),
      { numRuns: 3000 },
    );
  });

  it('is the exact decimal expansion rounded to 17 figures (BigInt reference)', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true, min: 1e-300, max: 1e300 }), (x) => {
        const { m, e } = doubleParts(x);
        // Exact digits: m × 2^e = m × 5^-e / 10^-e.
        const digits = e >= 0 ? (m << BigInt(e)).toString() : (m * 5n ** BigInt(-e)).toString();
        const point = e >= 0 ? digits.length : digits.length + e; // value = 0.DIGITS × 10^point
        const keep = BigInt(digits.slice(0, 17).padEnd(17, '0'));
        const rest = digits.slice(17);
        const half = rest === '' ? -1 : rest[0] > '5' || (rest[0] === '5' && /[1-9]/.test(rest.slice(1))) ? 1 : rest[0] === '5' ? 0 : -1;
        let q = keep + (half > 0 || (half === 0 && keep % 2n === 1n) ? 1n : 0n);
        let p = point;
        if (q === 10n ** 17n) {
          q = 10n ** 16n;
          p++;
        }
        const t = formatDoubleG17(x);
        const mant = t.replace(/e.*$/, '');
        const exp10 = t.includes('e') ? Number(t.slice(t.indexOf('e') + 1)) : null;
        const sig = mant.replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
        expect(sig).toBe(q.toString().replace(/0+$/, ''));
        if (exp10 !== null) expect(exp10).toBe(p - 1);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('formatDoubleShortest / formatDoubleRedis (7.2 score text)', () => {
  it('lays out shortest digits as fpconv_dtoa', () => {
    expect(formatDoubleShortest(1e16)).toBe('1e+16'); // rioWriteBulkDouble: no integer shortcut
    expect(formatDoubleShortest(100)).toBe('100');
    expect(formatDoubleShortest(1.5e7)).toBe('15000000');
    expect(formatDoubleShortest(1e21)).toBe('1e+21');
    expect(formatDoubleShortest(0.000001)).toBe('0.000001');
    expect(formatDoubleShortest(1.2345e-6)).toBe('1.2345e-6');
    expect(formatDoubleShortest(0.1)).toBe('0.1');
    expect(formatDoubleShortest(-0)).toBe('-0');
    expect(formatDoubleShortest(1.5e300)).toBe('1.5e+300');
  });

  it('d2string: integers within ±2^62 as integers, then %.17g (7.0) or fpconv (7.2)', () => {
    expect(formatDoubleRedis(1e16, 'redis7.2')).toBe('10000000000000000');
    expect(formatDoubleRedis(2 ** 62, 'redis7.2')).toBe('4611686018427387904');
    expect(formatDoubleRedis(2 ** 62 + 1024, 'redis7.2')).toBe('4611686018427389000');
    expect(formatDoubleRedis(1e19, 'redis7.2')).toBe('1e+19');
    expect(formatDoubleRedis(1e19, 'redis7.0')).toBe('1e+19');
    expect(formatDoubleRedis(1.5, 'redis7.0')).toBe('1.5');
    expect(formatDoubleRedis(0.1, 'redis7.0')).toBe('0.10000000000000001');
    expect(formatDoubleRedis(-0, 'redis7.2')).toBe('-0');
    expect(doubleToSafeInt64(2 ** 62)).toBe(2n ** 62n);
    expect(doubleToSafeInt64(-(2 ** 62))).toBe(-(2n ** 62n));
    expect(doubleToSafeInt64(2 ** 62 + 1024)).toBe(null);
    expect(doubleToSafeInt64(0.5)).toBe(null);
  });

  it('reads back as the same double', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true }), (x) => {
        for (const t of [formatDoubleShortest(x), formatDoubleRedis(x, 'redis7.2'), formatDoubleRedis(x, 'redis7.0')]) {
          expect(Object.is(parseRedisDouble(b(t)), x) || (x === 0 && parseRedisDouble(b(t)) === 0)).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('strtod and string2d', () => {
  it("follows C's grammar for the prefix it reads", () => {
    const end = (s: string) => scanStrtod(b(s)).end;
    expect(end('1e')).toBe(1);
    expect(end('1e+')).toBe(1);
    expect(end('0x')).toBe(1);
    expect(end('0x1p')).toBe(3);
    expect(end('  -1.5x')).toBe(6);
    expect(end('infinit')).toBe(3);
    expect(end('-Infinity!')).toBe(9);
    expect(end('nan(abc_1)z')).toBe(10);
    expect(end('nan(abc')).toBe(3);
    expect(end('.')).toBe(0);
    expect(end('+.5')).toBe(3);
    expect(strtod(b(' 0x1.8p1 ')).value).toBe(3);
    expect(strtod(b('1e999')).erange).toBe(true);
    // glibc's ERANGE on underflow: inexact and below the smallest normal after rounding (checked against glibc).
    expect(strtod(b('4.9e-324')).erange).toBe(true);
    expect(strtod(b('0x1p-1074')).erange).toBe(false);
    expect(strtod(b('0x1.fffffffffffffp-1023')).erange).toBe(true);
    expect(strtod(b('0x1.fffffffffffff8p-1023')).erange).toBe(false);
    expect(strtod(b('1e-400')).erange).toBe(true);
    expect(strtod(b('2.2250738585072014e-308')).erange).toBe(false);
  });

  it('accepts what Redis accepts for a score', () => {
    expect(parseRedisDouble(b('0x1p-2'))).toBe(0.25);
    expect(parseRedisDouble(b('0X1.8P+1'))).toBe(3);
    expect(parseRedisDouble(b('inf'))).toBe(Infinity);
    expect(parseRedisDouble(b('+Infinity'))).toBe(Infinity);
    expect(parseRedisDouble(b('-inf'))).toBe(-Infinity);
    expect(parseRedisDouble(b('4.9e-324'))).toBe(5e-324);
    expect(parseRedisDouble(b('2.5e-324'))).toBe(5e-324);
    expect(parseRedisDouble(b('0e-999'))).toBe(0);
    expect(parseRedisDouble(b('1.'))).toBe(1);
    for (const bad of ['', ' 1', '1 ', 'nan', '-nan', '1e309', '-1e309', '1e-400', '2e-324', '0x', '1e', '1\u00002', 'abc', '--1']) {
      expect([bad, parseRedisDouble(b(bad))]).toEqual([bad, null]);
    }
  });

  it("takes score-range bounds by zslParseRange's looser rule", () => {
    expect(parseRedisRangeDouble(b(''))).toBe(0);
    expect(parseRedisRangeDouble(b(' 1'))).toBe(1);
    expect(parseRedisRangeDouble(b('1e999'))).toBe(Infinity);
    expect(parseRedisRangeDouble(b('-1e999'))).toBe(-Infinity);
    expect(parseRedisRangeDouble(b('1e-400'))).toBe(0);
    expect(parseRedisRangeDouble(b('1\u0000junk'))).toBe(1); // the C string ends at the NUL
    for (const bad of ['1 ', 'nan', 'abc', '(1', '0x']) expect([bad, parseRedisRangeDouble(b(bad))]).toEqual([bad, null]);
  });

  it('parses any double written in decimal or hexadecimal back exactly', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const { m, e } = doubleParts(x);
        const hex = `${x < 0 || Object.is(x, -0) ? '-' : ''}0x${m.toString(16)}p${e}`;
        expect(Object.is(parseRedisDouble(b(hex)), x)).toBe(true);
        expect(parseRedisDouble(b(x.toExponential(20))) === x).toBe(true); // (toExponential drops the sign of -0)
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on random input', () => {
    const alphabet = fc.constantFrom(...'0123456789.eEpPxX+-infatyINFATY() \t\u0000');
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.string({ unit: alphabet, maxLength: 40 }).map(b)), (s) => {
        parseRedisDouble(s);
        parseLongDouble(s);
        strtod(s);
        incrByFloatText(s, s);
        incrByFloatText(null, s, true);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('long double (INCRBYFLOAT / HINCRBYFLOAT)', () => {
  it('gives the figures Redis 7.0.15, 8.0.2 and Valkey 8.1.1 give', () => {
    expect(incr('0.1', '0.2')).toBe('0.3');
    expect(incr('1e10', '-0.000001')).toBe('9999999999.99999899975955486');
    expect(incr('1000000000000000', '0.25')).toBe('1000000000000000.25');
    expect(incr(null, '1e3')).toBe('1000');
    expect(incr('10.5', '0.1')).toBe('10.6');
    expect(incr('1', '0x10')).toBe('17');
    expect(incr('1', '0x1p-18')).toBe('1.00000381469726562'); // a tie at the 18th decimal: half to even
    expect(incr('-0.5', '0.5')).toBe('0');
    expect(incr('0', '-1e-30')).toBe('0'); // "-0.00000000000000000" trimmed to "-0", which Redis prints as "0"
    // %.17Lf prints every integer digit of the 64-bit value nearest 1e300 (redis-server 7.0.15's reply).
    expect(incr('0', '1e300')).toBe(
      '1000000000000000000008997324079559193870523944273290747938260082321265646596180935755849152083750497' +
      '1903503725086142748359035925561846729839130962605207486462873271356418436532940842551076060167897266' +
      '5293237003055138294762099454029477278188962060617926761162709741065056718738610569008942491510400614' +
      '4',
    );
    const big = incr('0', '1e4000');
    expect(big.length).toBe(4000);
    expect(big.startsWith('99999999999999999999654638730996237849324925835069576313015083330432619433063423554818216418655092798627644520731236735')).toBe(true);
  });

  it('refuses what Redis refuses, for the reasons Redis gives', () => {
    expect(incr('1', 'inf')).toBe('error: result-not-finite');
    expect(incr('inf', '1')).toBe('error: result-not-finite');
    expect(incr('1', 'inf', true)).toBe('error: increment-not-finite');
    expect(incr('1', 'nan')).toBe('error: increment-not-float');
    expect(incr('1', '1e5000')).toBe('error: increment-not-float');
    expect(incr('1', '1e-5000')).toBe('error: increment-not-float');
    expect(incr('1', ' 1')).toBe('error: increment-not-float');
    expect(incr('1', '1 ')).toBe('error: increment-not-float');
    expect(incr('abc', '1')).toBe('error: current-not-float');
    expect(incr('abc', 'x', true)).toBe('error: increment-not-float');
    expect(incr('1.18e4932', '1.18e4932')).toBe('error: result-not-finite');
    expect(incr('1', '4e-4951')).toBe('1'); // subnormal, not zero: accepted
  });

  it("keeps to string2ld's 5 KiB buffer", () => {
    const ok = `1.${'0'.repeat(MAX_LONG_DOUBLE_CHARS - 3)}`; // 5119 bytes
    expect(ok.length).toBe(MAX_LONG_DOUBLE_CHARS - 1);
    expect(parseLongDouble(b(ok))).not.toBe(null);
    expect(parseLongDouble(b(`${ok}0`))).toBe(null);
    // The longest result, near the top of the range, fits and reads back.
    const top = incr('0', '1.18e4932');
    expect(top.length).toBe(4933); // as redis-server 7.0.15 replies
    expect(top.length).toBeLessThan(MAX_LONG_DOUBLE_CHARS);
    expect(incr(top, '0')).toBe(top);
  });

  it('reads its own output back to the same value', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e30, max: 1e30 }), fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e30, max: 1e30 }), (x, y) => {
        const t = incr(x.toExponential(20), y.toExponential(20));
        expect(incr(t, '0')).toBe(t);
      }),
      { numRuns: 1000 },
    );
  });

  it('adds integers within 64 bits exactly', () => {
    const i62 = fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n });
    fc.assert(
      fc.property(i62, i62, (x, y) => {
        expect(incr(x.toString(), y.toString())).toBe((x + y).toString());
      }),
      { numRuns: 1000 },
    );
  });

  it('rounds the exact sum of two doubles once, to 64 bits, ties to even (BigInt reference)', () => {
    const ld = (x: number): LongDouble => {
      const { m, e } = doubleParts(x);
      return { kind: 'finite', negative: x < 0, mantissa: m, exponent: e };
    };
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.double({ noNaN: true, noDefaultInfinity: true }), (x, y) => {
        const sum = addLongDouble(ld(x), ld(y));
        // Reference: the exact sum as an integer times 2^-1074, cut to 64 significant bits by its bit string.
        const exact = (v: number) => {
          const { m, e } = doubleParts(v);
          return (v < 0 ? -m : m) << BigInt(e + 1074);
        };
        const s = exact(x) + exact(y);
        const mag = s < 0n ? -s : s;
        let want: bigint;
        let shift = 0;
        const bits = mag.toString(2);
        if (bits.length <= 64) want = mag;
        else {
          shift = bits.length - 64;
          want = BigInt(`0b${bits.slice(0, 64)}`);
          const rest = bits.slice(64);
          if (rest[0] === '1' && (/1/.test(rest.slice(1)) || (want & 1n) === 1n)) want++;
        }
        expect(sum.kind).toBe('finite');
        if (sum.kind !== 'finite') return;
        const got = sum.mantissa << BigInt(sum.exponent + 1074);
        expect(got).toBe(want << BigInt(shift));
        if (mag !== 0n) expect(sum.negative).toBe(s < 0n);
      }),
      { numRuns: 3000 },
    );
  });

  it('prints %.17Lf of an exact binary value rounded half to even', () => {
    // k / 2^20 has 20 decimals: the 18th..20th decide the rounding, the 17th keeps or bumps.
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 2n ** 40n }), (k) => {
        const v: LongDouble = { kind: 'finite', negative: false, mantissa: k, exponent: -20 };
        const exact = k * 10n ** 20n / 2n ** 20n; // exact: 10^20 / 2^20 = 5^20 × 2^0
        let q = exact / 1000n;
        const r = exact % 1000n;
        if (r > 500n || (r === 500n && (q & 1n) === 1n)) q++;
        const s = q.toString().padStart(18, '0');
        const want = `${s.slice(0, -17)}.${s.slice(-17)}`.replace(/0+$/, '').replace(/\.$/, '');
        expect(formatLongDoubleHuman(v)).toBe(want);
      }),
      { numRuns: 1000 },
    );
  });
});
