// lzfDecompressStep (an LZF stream decompressed as its parts arrive) gives what lzfDecompress gives, wherever the
// parts are cut, and refuses what it refuses.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lzfCompress, lzfDecompress, lzfDecompressStep } from '@redis-persist/bytes';

/** Decompresses `z` fed in parts ending at `cuts`; null when refused. */
function stepwise(z: Uint8Array, n: number, cuts: number[]): Uint8Array | null {
  const out = new Uint8Array(n);
  let ip = 0;
  let op = 0;
  try {
    for (const end of [...cuts.map((c) => c % (z.length + 1)).sort((a, b) => a - b), z.length]) {
      if (end < ip) continue;
      ({ ip, op } = lzfDecompressStep(z, ip, end, out, op, n));
    }
  } catch {
    return null;
  }
  return ip === z.length && op === n ? out : null;
}

function whole(z: Uint8Array, n: number): Uint8Array | null {
  try {
    return lzfDecompress(z, n);
  } catch {
    return null;
  }
}

describe('lzfDecompressStep', () => {
  it('decompresses compressed data cut anywhere', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 3000 }), fc.array(fc.nat(4000), { maxLength: 8 }), (raw, cuts) => {
        const data = Buffer.concat([raw, raw, Buffer.alloc(100, raw[0])]);
        const z = lzfCompress(data);
        fc.pre(z !== null);
        expect(Buffer.from(stepwise(z!, data.length, cuts)!).equals(data)).toBe(true);
      }),
    );
  });

  it('agrees with lzfDecompress on random streams and lengths', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(300), fc.array(fc.nat(64), { maxLength: 4 }), (b, n, cuts) => {
        const a = whole(b, n);
        const s = stepwise(b, n, cuts);
        expect(s === null ? null : Buffer.from(s)).toEqual(a === null ? null : Buffer.from(a));
      }),
    );
  });
});
