import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Crc64 } from '@redis-persist/bytes';
import { crc64Implementations } from '../src/crc64.js';

const ascii = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

// A bit-at-a-time CRC-64/Jones (reflected 0x95AC9329AC4BC9B5), independent of the tables the fast code shares.
function bitwise(crc: bigint, data: Uint8Array): bigint {
  const poly = 0x95ac9329ac4bc9b5n;
  for (const byte of data) {
    crc ^= BigInt(byte);
    for (let k = 0; k < 8; k++) crc = crc & 1n ? (crc >> 1n) ^ poly : crc >> 1n;
  }
  return crc;
}

describe('crc64 implementations (js8, js16, wasm8, wasm16, default)', () => {
  const impls = crc64Implementations();
  const names = Object.keys(impls) as (keyof typeof impls)[];

  it('WebAssembly is available in Node (so the fast path is what runs)', () => {
    expect(impls.wasm16).not.toBeNull();
    expect(impls.wasm8).not.toBeNull();
  });

  it.each(names)('%s gives Redis crc64 test vector and the empty input', (name) => {
    const f = impls[name]!;
    expect(f(0n, ascii('123456789'))).toBe(0xe9c6d914c4b8d9can);
    expect(f(0n, new Uint8Array(0))).toBe(0n);
    expect(f(0x1234n, new Uint8Array(0))).toBe(0x1234n);
  });

  it('all agree with a bit-at-a-time CRC on random bytes and starting states', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (data, start) => {
        const want = bitwise(start, data);
        for (const name of names) expect(impls[name]!(start, data)).toBe(want);
      }),
      { numRuns: 300 },
    );
  });

  it('agree on inputs larger than the WebAssembly window (1 MiB), at odd lengths', () => {
    const data = new Uint8Array((1 << 20) * 2 + 37);
    for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
    const want = impls.js8!(0n, data);
    for (const name of names) expect(impls[name]!(0n, data)).toBe(want);
    // the incremental class, fed in uneven pieces crossing both the JavaScript/WebAssembly threshold and the window
    const c = new Crc64();
    let at = 0;
    for (const n of [1, 255, 256, 257, 4095, 1 << 20, 3, (1 << 20) + 11]) {
      c.update(data, at, Math.min(at + n, data.length));
      at = Math.min(at + n, data.length);
    }
    c.update(data, at);
    expect(c.value()).toBe(want);
  });
});
