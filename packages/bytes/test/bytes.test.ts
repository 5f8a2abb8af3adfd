import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteQueue, BytesError, Crc64, crc64, lzfCompress, lzfDecompress, formatBytes, parseCanonicalInt, bytesEqual } from '@redis-persist/bytes';

const ascii = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

// Bit-by-bit reference CRC-64/Jones with BigInt, to check the sliced tables.
function crcReference(data: Uint8Array): bigint {
  const poly = 0x95ac9329ac4bc9b5n;
  let crc = 0n;
  for (const b of data) {
    crc ^= BigInt(b);
    for (let k = 0; k < 8; k++) crc = crc & 1n ? (crc >> 1n) ^ poly : crc >> 1n;
  }
  return crc;
}

describe('crc64 (Jones, as Redis)', () => {
  it('matches the published check value and Redis dumps', () => {
    expect(crc64(ascii('123456789'))).toBe(0xe9c6d914c4b8d9can);
    expect(crc64(new Uint8Array(0))).toBe(0n);
    // FORMATS.md worked example: "REDIS0011" 0xFF
    expect(crc64(new Uint8Array([...ascii('REDIS0011'), 0xff]))).toBe(0x629738748d8a22c0n);
  });

  it('equals the bitwise reference for any data and any split', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (data, cut) => {
        const at = data.length ? cut % (data.length + 1) : 0;
        const c = new Crc64().update(data, 0, at).update(data, at, data.length);
        expect(c.value()).toBe(crcReference(data));
        const le = new Uint8Array(8);
        c.writeLE(le, 0);
        expect(c.matchesLE(le, 0)).toBe(true);
      }),
    );
  });
});

describe('lzf', () => {
  it('decodes the Redis example of "a" x 100', () => {
    const compressed = new Uint8Array([0x01, 0x61, 0x61, 0xe0, 0x57, 0x00, 0x01, 0x61, 0x61]);
    expect(Buffer.from(lzfDecompress(compressed, 100)).toString()).toBe('a'.repeat(100));
  });

  it('decompress(compress(x)) = x', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ maxLength: 5000 }), fc.string({ maxLength: 3000 }).map((s) => ascii(s.repeat(3)))),
        (data) => {
          const c = lzfCompress(data, data.length + 64);
          if (data.length === 0) {
            expect(c).toBeNull();
            return;
          }
          expect(c).not.toBeNull();
          expect(Buffer.from(lzfDecompress(c!, data.length)).equals(Buffer.from(data))).toBe(true);
        },
      ),
    );
  });

  it('compresses repetitive data and gives up when it cannot save 4 bytes', () => {
    const text = ascii('hello world '.repeat(1000));
    const c = lzfCompress(text);
    expect(c).not.toBeNull();
    expect(c!.length).toBeLessThan(text.length / 10);
    expect(lzfCompress(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21]))).toBeNull();
  });

  it('random bytes never crash the decoder: a result or a BytesError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat({ max: 1000 }), (data, len) => {
        try {
          const out = lzfDecompress(data, len);
          expect(out.length).toBe(len);
        } catch (err) {
          expect(err).toBeInstanceOf(BytesError);
        }
      }),
    );
  });
});

describe('parseCanonicalInt (string2ll)', () => {
  it('accepts exactly what Redis accepts', () => {
    const ok: [string, bigint][] = [['0', 0n], ['-1', -1n], ['123', 123n], ['9223372036854775807', 9223372036854775807n], ['-9223372036854775808', -9223372036854775808n]];
    for (const [s, v] of ok) expect(parseCanonicalInt(ascii(s))).toBe(v);
    for (const s of ['', '-', '-0', '007', '+1', ' 1', '1 ', '1a', '9223372036854775808', '-9223372036854775809', '1.0'])
      expect(parseCanonicalInt(ascii(s)), s).toBeNull();
  });

  it('round-trips every int64', () => {
    fc.assert(fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (v) => {
      expect(parseCanonicalInt(ascii(String(v)))).toBe(v);
    }));
  });
});

describe('ByteQueue', () => {
  it('keeps bytes and absolute offsets whatever the chunking', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 50 }), { maxLength: 30 }), fc.array(fc.nat({ max: 60 })), (chunks, reads) => {
        const q = new ByteQueue(8);
        const all = Buffer.concat(chunks);
        let read = 0;
        let r = 0;
        for (const c of chunks) {
          q.push(c);
          const n = Math.min(reads[r++ % Math.max(reads.length, 1)] ?? q.length, q.length);
          expect(q.offset).toBe(read);
          expect(Buffer.from(q.view(n)).equals(all.subarray(read, read + n))).toBe(true);
          q.consume(n);
          read += n;
        }
        expect(Buffer.from(q.view(q.length)).equals(all.subarray(read))).toBe(true);
      }),
    );
  });
});

describe('formatBytes', () => {
  it('bytes below 1 KiB as they are, then binary units with one decimal', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1024)).toBe('1.0 KiB');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.0 GiB');
    expect(formatBytes(3 * 1024 ** 5)).toBe('3072.0 TiB');
  });
});

describe('bytesEqual', () => {
  it('is byte equality, for short strings (loop) and long ones (native compare), on views at any offset', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 }), fc.nat({ max: 7 }), (a, b, shift) => {
        const view = (x: Uint8Array) => {
          const host = new Uint8Array(x.length + shift);
          host.set(x, shift);
          return host.subarray(shift);
        };
        const expected = Buffer.from(a).equals(Buffer.from(b));
        expect(bytesEqual(a, b)).toBe(expected);
        expect(bytesEqual(view(a), a)).toBe(true);
        expect(bytesEqual(view(a), view(b))).toBe(expected);
      }),
    );
    for (const n of [0, 1, 63, 64, 65, 1000]) {
      const a = new Uint8Array(n).fill(7);
      const b = Uint8Array.from(a);
      expect(bytesEqual(a, b)).toBe(true);
      if (n > 0) {
        b[n - 1] = 8;
        expect(bytesEqual(a, b)).toBe(false);
      }
    }
  });
});
