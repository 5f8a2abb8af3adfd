// lzfCompressInto (the allocation-free compressor the RDB writer uses) must produce exactly the bytes the compressor
// produced before it existed: RDB outputs stay byte-identical. The reference below is a frozen copy of lzfCompress
// as it was (commit 64e4d0f), kept here so that the property does not compare the new code with itself.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lzfCompress, lzfCompressInto, lzfDecompress } from '@redis-persist/bytes';

const HLOG = 16;
const HSIZE = 1 << HLOG;
const MAX_LIT = 32;
const MAX_OFF = 1 << 13;
const MAX_REF = (1 << 8) + (1 << 3);
// The hash table is shared by all calls and never cleared: each call stores positions shifted by `base`, and an
// entry below the current base belongs to an earlier input (so it is treated as empty). Clearing 256 KiB per call
// would dominate the cost of compressing many short strings.
let table: Int32Array | undefined;
let base = 1;

function referenceCompress(input: Uint8Array, maxOutput = input.length - 4): Uint8Array | null {
  const inLen = input.length;
  if (inLen === 0 || maxOutput <= 0) return null;
  const htab = (table ??= new Int32Array(HSIZE));
  if (base + inLen + 1 > 0x7fffffff) {
    htab.fill(0);
    base = 1;
  }
  const b = base;
  base += inLen + 1;
  const out = new Uint8Array(maxOutput + MAX_LIT + 3);
  let ip = 0;
  let op = 1; // room for the first literal-run control byte
  let lit = 0;
  const idx = (p: number): number => {
    const v = (input[p] << 16) | (input[p + 1] << 8) | input[p + 2];
    return ((v >>> (24 - HLOG)) - v * 5) & (HSIZE - 1);
  };
  while (ip < inLen) {
    if (ip < inLen - 2) {
      const h = idx(ip);
      const stored = htab[h];
      const ref = stored >= b ? stored - b : -1;
      htab[h] = ip + b;
      const off = ip - ref - 1;
      if (ref >= 0 && off < MAX_OFF && input[ref] === input[ip] && input[ref + 1] === input[ip + 1] && input[ref + 2] === input[ip + 2]) {
        let len = 2;
        const maxLen = Math.min(inLen - ip - len, MAX_REF);
        // close the literal run
        out[op - lit - 1] = lit - 1;
        if (lit === 0) op--; // the reserved control byte was not used
        do len++;
        while (len < maxLen && input[ref + len] === input[ip + len]);
        len -= 2;
        ip++;
        if (op + 3 + 1 > maxOutput) return null;
        if (len < 7) {
          out[op++] = (off >>> 8) + (len << 5);
        } else {
          out[op++] = (off >>> 8) + (7 << 5);
          out[op++] = len - 7;
        }
        out[op++] = off & 0xff;
        lit = 0;
        op++; // reserve the next literal control byte
        ip += len + 1;
        if (ip < inLen - 2) {
          // re-hash the two positions just before ip, as lzf_c.c does (VERY_FAST)
          htab[idx(ip - 1)] = ip - 1 + b;
          htab[idx(ip - 2)] = ip - 2 + b;
        }
        continue;
      }
    }
    if (op >= maxOutput) return null;
    lit++;
    out[op++] = input[ip++];
    if (lit === MAX_LIT) {
      out[op - lit - 1] = lit - 1;
      lit = 0;
      op++;
    }
  }
  out[op - lit - 1] = lit - 1;
  if (lit === 0) op--;
  if (op > maxOutput) return null;
  return out.slice(0, op);
}

/** Bytes drawn from a small alphabet in repeated chunks: compressible, long matches, runs longer than MAX_REF. */
const compressible = fc
  .tuple(fc.uint8Array({ minLength: 1, maxLength: 16 }), fc.array(fc.tuple(fc.nat(15), fc.nat(400)), { maxLength: 40 }))
  .map(([alphabet, parts]) => {
    const out: number[] = [];
    for (const [k, n] of parts) {
      const byte = alphabet[k % alphabet.length];
      for (let i = 0; i < n; i++) out.push(i % 3 === 0 ? byte : alphabet[(k + i) % alphabet.length]);
    }
    return Uint8Array.from(out);
  });

/** Lengths around the writer's thresholds (20: compression starts; 64 and 16384: length encodings grow). */
const nearThresholds = fc
  .constantFrom(20, 21, 22, 24, 25, 36, 60, 63, 64, 65, 68, 100, 16383, 16384, 16385, 16388, 65536)
  .chain((n) => fc.tuple(fc.constant(n), fc.nat(3), fc.integer({ min: 1, max: 8 })))
  .map(([n, d, k]) => {
    const b = new Uint8Array(n + d);
    for (let i = 0; i < b.length; i++) b[i] = (i * 7) % (k * 5) === 0 ? i & 0xff : 97 + ((i / k) | 0) % 4;
    return b;
  });

const inputs = fc.oneof(fc.uint8Array({ maxLength: 300 }), compressible, nearThresholds);

function check(input: Uint8Array, maxOutput: number, offset: number): void {
  const want = referenceCompress(input, maxOutput);
  const out = new Uint8Array(offset + Math.max(maxOutput, 0) + 1 + 5).fill(0xee);
  const n = lzfCompressInto(input, out, offset, maxOutput);
  if (want === null) {
    expect(n).toBe(-1);
  } else {
    expect(n).toBe(want.length);
    expect(Buffer.from(out.subarray(offset, offset + n)).equals(Buffer.from(want))).toBe(true);
    expect(out.subarray(0, offset).every((x) => x === 0xee)).toBe(true); // nothing before the offset touched
    expect(Buffer.from(lzfDecompress(out.subarray(offset, offset + n), input.length)).equals(Buffer.from(input))).toBe(true);
  }
  const old = lzfCompress(input, maxOutput);
  expect(old === null ? null : Buffer.from(old).toString('hex')).toBe(want === null ? null : Buffer.from(want).toString('hex'));
}

describe('lzfCompressInto', () => {
  it('writes exactly what the reference compressor returns (len - 4 limit, any offset), and it decompresses back', () => {
    fc.assert(
      fc.property(inputs, fc.nat(40), (input, offset) => check(input, input.length - 4, offset)),
      { numRuns: 600 },
    );
  });

  it('agrees at any output limit, including ones it just misses', () => {
    fc.assert(
      fc.property(inputs, fc.integer({ min: -2, max: 400 }), fc.nat(8), (input, maxOutput, offset) => {
        const exact = referenceCompress(input, input.length + 64);
        check(input, maxOutput, offset);
        if (exact !== null) {
          check(input, exact.length, offset); // fits exactly
          check(input, exact.length - 1, offset); // one byte short
        }
      }),
      { numRuns: 400 },
    );
  });

  it('agrees on the largest strings the writer compresses in place (1 MiB) and beyond', () => {
    fc.assert(
      fc.property(fc.constantFrom(1024 * 1024, 1024 * 1024 + 1, 3 * 1024 * 1024), fc.integer({ min: 1, max: 200 }), fc.nat(1), (n, period, random) => {
        const b = new Uint8Array(n);
        let x = period * 2654435761;
        for (let i = 0; i < n; i++) {
          x = (x * 1103515245 + 12345) >>> 0;
          b[i] = random ? x >>> 24 : (i % period) ^ ((x >>> 29) === 0 ? 1 : 0);
        }
        check(b, n - 4, 3);
      }),
      { numRuns: 6 },
    );
  });

  it('refuses an output buffer smaller than the limit + 1', () => {
    const input = new Uint8Array(100).fill(1);
    expect(() => lzfCompressInto(input, new Uint8Array(96), 0)).toThrow(RangeError);
    expect(() => lzfCompressInto(input, new Uint8Array(97), 1)).toThrow(RangeError);
    expect(lzfCompressInto(input, new Uint8Array(97), 0)).toBeGreaterThan(0);
  });
});
