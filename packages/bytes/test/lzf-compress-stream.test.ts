// LzfCompressStream (the RDB writer's compressor for a string handed over in pieces) must write exactly the bytes
// lzfCompressInto writes for the whole string, whatever the piece sizes, and fail exactly when it fails.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LzfCompressStream, lzfCompressInto } from '@redis-persist/bytes';

function whole(input: Uint8Array, maxOutput = input.length - 4): Uint8Array | null {
  if (maxOutput <= 0 || input.length === 0) return null;
  const out = new Uint8Array(maxOutput + 1);
  const n = lzfCompressInto(input, out, 0, maxOutput);
  return n < 0 ? null : out.slice(0, n);
}

function streamed(input: Uint8Array, cuts: number[], maxOutput = input.length - 4, outChunk?: number): Uint8Array | null {
  const parts: Uint8Array[] = [];
  const s = new LzfCompressStream(input.length, maxOutput, (b) => parts.push(b.slice()), outChunk);
  let at = 0;
  for (const c of cuts) {
    const n = Math.min(c, input.length - at);
    s.push(input.subarray(at, at + n));
    at += n;
  }
  s.push(input.subarray(at));
  const n = s.end();
  if (n < 0) return null;
  const out = Buffer.concat(parts);
  expect(out.length).toBe(n);
  return new Uint8Array(out);
}

/** Text with repeats near and far, random runs, long runs of one byte. */
function mixed(seed: number, n: number): Uint8Array {
  let x = seed >>> 0 || 1;
  const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8);
  const out = new Uint8Array(n);
  const text = Buffer.from('the quick brown fox jumps over the lazy dog; ');
  let i = 0;
  while (i < n) {
    const kind = rnd() % 4;
    const len = Math.min(n - i, 1 + (rnd() % 3000));
    for (let k = 0; k < len; k++) out[i + k] = kind === 0 ? text[(i + k) % text.length]! : kind === 1 ? rnd() & 0xff : kind === 2 ? 7 : out[Math.max(0, i + k - 1 - (rnd() % 9000))]!;
    i += len;
  }
  return out;
}

describe('LzfCompressStream', () => {
  it('writes the bytes of lzfCompressInto for 2 MB of mixed input, in pieces of any size', () => {
    const input = mixed(7, 2_000_000);
    const ref = whole(input);
    expect(ref).not.toBeNull();
    for (const piece of [1, 3, 100, 4096, 65_536, 300_001, 2_000_000]) {
      const cuts = piece === 1 ? Array.from({ length: 20_000 }, () => 1) : Array.from({ length: Math.ceil(input.length / piece) }, () => piece);
      expect(Buffer.from(streamed(input, cuts)!).equals(Buffer.from(ref!)), `pieces of ${piece}`).toBe(true);
    }
    // a small output chunk: the literal run's control byte stays in hand across flushes
    expect(Buffer.from(streamed(input, [777, 5000, 100_000], undefined, 100)!).equals(Buffer.from(ref!))).toBe(true);
  });

  it('fails where lzfCompressInto fails (output over maxOutput)', () => {
    const random = mixed(3, 50_000).map((b, i) => (b * 31 + i * 17) & 0xff);
    const rnd = new Uint8Array(200_000);
    let x = 99;
    for (let i = 0; i < rnd.length; i++) rnd[i] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
    expect(whole(rnd)).toBeNull();
    expect(streamed(rnd, [1000, 70_000])).toBeNull();
    const text = mixed(11, 100_000);
    const ref = whole(text)!;
    // just enough room, and one byte less
    expect(Buffer.from(streamed(text, [5000], ref.length)!).equals(Buffer.from(ref))).toBe(true);
    expect(whole(text, ref.length - 1)).toBeNull();
    expect(streamed(text, [5000], ref.length - 1)).toBeNull();
    expect(random.length).toBe(50_000);
  });

  it('matches lzfCompressInto on arbitrary inputs and cuts', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 3000 }).chain((u) => fc.tuple(fc.constant(u), fc.array(fc.integer({ min: 1, max: 700 }), { maxLength: 12 }))),
        fc.integer({ min: 0, max: 1 }),
        ([u, cuts], rep) => {
          // repeats make back references
          const input = rep ? new Uint8Array(Buffer.concat([Buffer.from(u), Buffer.from(u.subarray(0, u.length >> 1)), Buffer.from(u)])) : u;
          const a = whole(input);
          const b = streamed(input, cuts);
          expect(b === null ? null : Buffer.from(b).toString('hex')).toBe(a === null ? null : Buffer.from(a).toString('hex'));
        },
      ),
      { numRuns: 300 },
    );
  });
});
