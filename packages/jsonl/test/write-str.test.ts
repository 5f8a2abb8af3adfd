// writeStr's one-pass copy of printable ASCII (ChunkWriter.plainAsciiString) writes what the general path writes:
// JSON.stringify of the text for valid UTF-8, {"base64":...} otherwise, at any position in a chunk (a string that
// does not fit in the current chunk takes the general path across the boundary).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChunkWriter, writeStr } from '@redis-persist/jsonl';

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
});
