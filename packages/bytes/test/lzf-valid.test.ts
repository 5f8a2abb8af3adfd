// lzfValid (the check-only LZF walk used for string values nobody keeps) must accept exactly what lzfDecompress does.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lzfCompress, lzfDecompress, lzfValid } from '@redis-persist/bytes';

function decompresses(b: Uint8Array, n: number): boolean {
  try {
    lzfDecompress(b, n);
    return true;
  } catch {
    return false;
  }
}

describe('lzfValid', () => {
  it('agrees with lzfDecompress on random streams and lengths', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(300), (b, n) => {
        expect(lzfValid(b, 0, b.length, n)).toBe(decompresses(b, n));
      }),
      { numRuns: 3000 },
    );
  });

  it('accepts real compressed data at its length only, and refuses damaged copies as lzfDecompress does', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(0x61, 0x62, 0x63, 0x30), { minLength: 8, maxLength: 400 }), fc.nat(), fc.nat(255), (chars, at, v) => {
        const input = Uint8Array.from(chars);
        const c = lzfCompress(input, input.length + 64);
        if (!c) return;
        const framed = new Uint8Array(c.length + 6);
        framed.set(c, 3);
        expect(lzfValid(framed, 3, 3 + c.length, input.length)).toBe(true);
        expect(lzfValid(framed, 3, 3 + c.length, input.length + 1)).toBe(false);
        const bad = c.slice();
        bad[at % bad.length] = v;
        expect(lzfValid(bad, 0, bad.length, input.length)).toBe(decompresses(bad, input.length));
      }),
      { numRuns: 1000 },
    );
  });
});
