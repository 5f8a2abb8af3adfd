// writeStr compresses straight into the sink's buffer (lzfCompressInto after room for the header, moved back when
// the compressed length's encoding is shorter). It must write exactly what "header + lzfCompress result" wrote,
// after whatever the sink already held, whichever buffer size the sink starts with.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lzfCompress, lzfDecompress } from '@redis-persist/bytes';
import { ByteSink, writeLen, writeStr } from '../src/sink.js';

/** The encoding writeStr produced before it compressed in place (for strings that are not int-encoded). */
function expected(data: Uint8Array, compress: boolean): Buffer {
  const s = new ByteSink(16);
  const packed = compress && data.length > 20 ? lzfCompress(data, data.length - 4) : null;
  if (packed !== null) {
    s.u8(0xc3);
    writeLen(s, packed.length);
    writeLen(s, data.length);
    s.bytes(packed);
  } else {
    writeLen(s, data.length);
    s.bytes(data);
  }
  return Buffer.from(s.take());
}

const strings = fc.oneof(
  fc.uint8Array({ minLength: 12, maxLength: 200 }),
  // compressible, lengths across 64 and 16384 (where compressed and raw lengths take different encodings)
  fc.tuple(fc.integer({ min: 12, max: 20000 }), fc.integer({ min: 1, max: 40 })).map(([n, k]) => {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = i % k === 0 ? (i * 31) & 0xff : 120 + (i % 3);
    return b;
  }),
);

describe('writeStr in place', () => {
  it('writes the same bytes as header + lzfCompress, after existing sink content, for any initial sink size', () => {
    fc.assert(
      fc.property(strings, fc.uint8Array({ maxLength: 100 }), fc.constantFrom(1, 16, 1024, 64 * 1024), fc.boolean(), (data, prefix, initial, compress) => {
        const s = new ByteSink(initial);
        s.bytes(prefix);
        writeStr(s, data, compress);
        s.u8(0x42); // the sink goes on from the right position
        const got = Buffer.from(s.take());
        const want = Buffer.concat([Buffer.from(prefix), expected(data, compress), Buffer.from([0x42])]);
        expect(got.equals(want)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('a string whose compressed length takes a shorter length encoding (moved back) decompresses back', () => {
    const data = new Uint8Array(20000).fill(97); // 20000 -> 5-byte length, compressed ~ 235 -> 2-byte length
    const s = new ByteSink(16);
    writeStr(s, data, true);
    const out = s.take();
    expect(out[0]).toBe(0xc3);
    expect(out[1] >> 6).toBe(1); // compressed length in the 14-bit form
    const clen = ((out[1] & 0x3f) << 8) | out[2];
    expect(out[3]).toBe(0x80); // original length in the 32-bit form
    expect(out.length).toBe(8 + clen);
    expect(Buffer.from(lzfDecompress(out.subarray(8), 20000)).equals(Buffer.from(data))).toBe(true);
  });
});
