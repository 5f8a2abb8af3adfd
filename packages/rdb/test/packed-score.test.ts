// The fast reading of listpack/ziplist scores stored as text (packedScore) gives what the general strtod scanner
// gives (strtodPrefix), -0 and the rounding of long decimals included, on plain decimals and on everything else.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { packedScore, packedScoreRange, strtodPrefix } from '../src/parser.js';

const latin1 = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

function same(text: string): void {
  const b = Buffer.from(text, 'latin1');
  expect(Object.is(packedScore(b), strtodPrefix(latin1(b))), `${JSON.stringify(text)}: ${packedScore(b)} vs ${strtodPrefix(latin1(b))}`).toBe(true);
  // the key visitor's in-place reading, of the text between other bytes
  const framed = Buffer.concat([Buffer.from('7.5'), b, Buffer.from('9')]);
  const r = packedScoreRange(framed, 3, 3 + b.length);
  expect(Object.is(r, strtodPrefix(latin1(b))), `${JSON.stringify(text)} in place: ${r} vs ${strtodPrefix(latin1(b))}`).toBe(true);
}

describe('packedScore', () => {
  it('agrees with strtodPrefix on chosen texts', () => {
    for (const t of ['0', '-0', '1', '-1', '0.5', '-0.0', '5.', '-.5', '.5', '', '-', '.', '-.', '1e3', '1.5e-3', 'inf', '-inf', 'nan', ' 1', '1 ', '0x10', '+1', '12abc', '1.2.3',
      '123456789012345', '1234567890123456', '12345678901234567', '123456789012345678', '9007199254740993', '-9007199254740993', '0.1', '0.30000000000000004',
      '3.141592653589793', '1.7976931348623157', '00000000000000001', '0.0000000000000001', '99999999999999999']) same(t);
  });

  it('agrees with strtodPrefix on random plain decimals', () => {
    const digits = fc.string({ unit: fc.constantFrom('0', '1', '2', '3', '4', '5', '6', '7', '8', '9'), minLength: 0, maxLength: 19 });
    fc.assert(fc.property(fc.boolean(), digits, fc.option(digits), (neg, a, b) => same(`${neg ? '-' : ''}${a}${b === null ? '' : `.${b}`}`)), { numRuns: 5000 });
  });

  it('agrees with strtodPrefix on random doubles as JS and C print them', () => {
    fc.assert(fc.property(fc.double({ noNaN: true }), (d) => {
      same(String(d));
      same(d.toFixed(Math.min(17, Math.max(0, 17 - String(Math.trunc(Math.abs(d))).length))));
    }), { numRuns: 5000 });
  });

  it('agrees with strtodPrefix on hundredths and short decimals (the in-place fast path)', () => {
    fc.assert(fc.property(fc.integer({ min: -1e15, max: 1e15 }), fc.integer({ min: 0, max: 15 }), (m, f) => {
      same(String(m / 100));
      same((m / 10 ** f).toFixed(f));
    }), { numRuns: 5000 });
  });

  it('agrees with strtodPrefix on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 20 }), (b) => same(latin1(b))), { numRuns: 5000 });
  });
});
