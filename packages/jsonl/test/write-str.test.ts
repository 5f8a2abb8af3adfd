// writeStr's one-pass copy of printable ASCII (ChunkWriter.plainAsciiString) writes what the general path writes:
// JSON.stringify of the text for valid UTF-8, {"base64":...} otherwise, at any position in a chunk (a string that
// does not fit in the current chunk takes the general path across the boundary).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChunkWriter, writeScore, writeStr, writeStrRange } from '@redis-persist/jsonl';

function expected(bytes: Uint8Array): string {
  const b = Buffer.from(bytes);
  const text = b.toString('utf8');
  return Buffer.from(text, 'utf8').equals(b) ? JSON.stringify(text) : `{"base64":"${b.toString('base64')}"}`;
}

// mostly printable ASCII (the fast path), with quotes, backslashes, control bytes and high bytes now and then
const byteArb = fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) }, { weight: 1, arbitrary: fc.constantFrom(0x22, 0x5c, 0x0a, 0x00, 0x1f, 0x7f) }, { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }) });

describe('writeStr', () => {
  it('writes short strings as the general path does, at any offset of a chunk', () => {
    fc.assert(
      fc.property(fc.array(fc.array(byteArb, { maxLength: 80 }).map((a) => Uint8Array.from(a)), { maxLength: 20 }), fc.integer({ min: 16, max: 200 }), (strs, chunk) => {
        const w = new ChunkWriter(chunk);
        for (const s of strs) writeStr(w, s);
        expect(Buffer.concat(w.takeAll()).toString('latin1')).toBe(Buffer.from(strs.map(expected).join(''), 'utf8').toString('latin1'));
      }),
      { numRuns: 3000 },
    );
  });

  it('plainAsciiString refuses what needs an escape, is not ASCII or does not fit, and writes nothing then', () => {
    const w = new ChunkWriter(8);
    expect(w.plainAsciiString(Buffer.from('abc'))).toBe(true);
    expect(w.plainAsciiString(Buffer.from('a"'))).toBe(false);
    expect(w.plainAsciiString(Buffer.from('a\\'))).toBe(false);
    expect(w.plainAsciiString(Buffer.from('a\n'))).toBe(false);
    expect(w.plainAsciiString(Uint8Array.from([0x61, 0xc3, 0xa9]))).toBe(false);
    expect(w.plainAsciiString(Buffer.from('abcd'))).toBe(false); // 5 bytes written, 3 left
    expect(w.pendingBytes).toBe(5);
    expect(Buffer.concat(w.takeAll()).toString('latin1')).toBe('"abc"');
  });

  it('writeStrRange: UTF-8 checked in JS up to 1 KiB gives what isUtf8 gives (valid text, cut and damaged characters, any range)', () => {
    // valid UTF-8 of every width, with random bytes spliced in now and then
    const textArb = fc.string({ unit: 'binary', maxLength: 400 }).map((t) => Buffer.from(t, 'utf8'));
    const pieceArb = fc.oneof({ weight: 4, arbitrary: textArb }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 8 }) }, { weight: 1, arbitrary: fc.constantFrom(
      [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xe0, 0x9f, 0xbf], [0xed, 0xa0, 0x80], [0xed, 0x9f, 0xbf], [0xef, 0xbf, 0xbf], [0xf0, 0x8f, 0xbf, 0xbf],
      [0xf0, 0x90, 0x80, 0x80], [0xf4, 0x8f, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80], [0xe2, 0x82], [0xf0, 0x9f, 0x98],
    ).map((a) => Uint8Array.from(a)) });
    fc.assert(
      fc.property(fc.array(pieceArb, { maxLength: 6 }), fc.nat(), fc.nat(), fc.integer({ min: 16, max: 5000 }), (pieces, a, b, chunk) => {
        const all = Buffer.concat(pieces);
        const s = all.length === 0 ? 0 : a % (all.length + 1);
        const e = s + (all.length === 0 ? 0 : b % (all.length - s + 1));
        const w = new ChunkWriter(chunk);
        writeStrRange(w, all, s, e);
        expect(Buffer.concat(w.takeAll()).toString('latin1')).toBe(Buffer.from(expected(all.subarray(s, e)), 'utf8').toString('latin1'));
      }),
      { numRuns: 3000 },
    );
  });

  it('writeScore writes String(score) (integers, hundredths, any double), at any offset of a chunk', () => {
    const scoreArb = fc.oneof(
      fc.integer({ min: -1e15, max: 1e15 }),
      fc.integer({ min: -1e16, max: 1e16 }).map((k) => k / 100),
      fc.integer({ min: -1e9, max: 1e9 }).map((k) => k / 10),
      fc.double({ noNaN: true }),
      fc.constantFrom(0, -0, 0.01, -0.01, 0.1, 0.05, 1e13, 1e13 - 0.01, 9999999999999.99, 1e15, 1e21, 5e-324),
    );
    fc.assert(
      fc.property(fc.array(scoreArb, { maxLength: 20 }), fc.integer({ min: 24, max: 200 }), (scores, chunk) => {
        const w = new ChunkWriter(chunk);
        for (const x of scores) {
          writeScore(w, x);
          w.byte(0x2c);
        }
        const want = scores.map((x) => (x === Infinity ? '"inf"' : x === -Infinity ? '"-inf"' : String(x)) + ',').join('');
        expect(Buffer.concat(w.takeAll()).toString('latin1')).toBe(want);
      }),
      { numRuns: 3000 },
    );
  });
});
