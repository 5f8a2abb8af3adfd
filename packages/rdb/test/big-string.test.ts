// With chunkElements, a string value of 1 MiB or more (raw or LZF) is read as its bytes arrive: the same value as
// when it is read whole, from chunks of any size, without the parser's buffer growing to hold it; a truncated or
// corrupt one is reported as when read whole.
import { describe, expect, it } from 'vitest';
import { Crc64, lzfCompress } from '@redis-persist/bytes';
import { DONE, NEED_MORE, RdbError, RdbParser, type RdbRecord } from '@redis-persist/rdb';

const MiB = 1024 * 1024;

const len32 = (n: number) => Buffer.from([0x80, (n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);

/** A string of `n` bytes, half of it compressible (runs), half pseudo-random. */
function content(n: number): Buffer {
  const b = Buffer.alloc(n);
  let x = 12345;
  for (let i = 0; i < n; i++) {
    if ((i >> 12) % 2 === 0) b[i] = 0x61 + ((i >> 8) % 3);
    else {
      x = (x * 1103515245 + 12345) >>> 0;
      b[i] = x >>> 24;
    }
  }
  return b;
}

/** An RDB 10 with keys `raw` and `lzf` holding `value`, and a small `after`. */
function rdb(value: Buffer, breakLzf = false): Buffer {
  const z = lzfCompress(value)!;
  expect(z).not.toBeNull();
  const parts = [
    Buffer.from('REDIS0010'),
    Buffer.from([0xfe, 0x00, 0x00, 0x03]),
    Buffer.from('raw'),
    len32(value.length),
    value,
    Buffer.from([0x00, 0x03]),
    Buffer.from('lzf'),
    Buffer.from([0xc3]),
    len32(z.length),
    len32(breakLzf ? value.length - 1 : value.length),
    z,
    Buffer.from([0x00, 0x05]),
    Buffer.from('after'),
    Buffer.from([0x01, 0x78]),
    Buffer.from([0xff]),
  ];
  const body = Buffer.concat(parts);
  const crc = new Crc64();
  crc.update(body);
  const trailer = Buffer.alloc(8);
  crc.writeLE(trailer, 0);
  return Buffer.concat([body, trailer]);
}

function parse(file: Buffer, chunk: number, chunkElements?: number, stringPieceBytes?: number): { records: RdbRecord[]; maxCap: number } {
  const p = new RdbParser({ values: true, chunkElements, stringPieceBytes });
  const records: RdbRecord[] = [];
  let at = 0;
  let maxCap = 0;
  for (;;) {
    const r = p.next();
    if (r === DONE) break;
    if (r === NEED_MORE) {
      if (at >= file.length) p.end();
      else p.push(file.subarray(at, (at += chunk)));
      maxCap = Math.max(maxCap, p.bufferCapacity);
      continue;
    }
    records.push(r);
  }
  return { records, maxCap };
}

function values(records: RdbRecord[]): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const r of records) {
    if (r.kind !== 'key' || r.value?.type !== 'string') continue;
    const k = Buffer.from(r.key).toString();
    out[k] = Buffer.concat([out[k] ?? Buffer.alloc(0), r.value.value]);
  }
  return out;
}

describe('a big string value with chunkElements', () => {
  const value = content(3 * MiB + 17);
  const file = rdb(value);

  it('is the value read whole, from chunks of any size, without the buffer holding it', () => {
    const whole = parse(file, 64 * 1024);
    expect(whole.maxCap).toBeGreaterThan(2 * MiB);
    for (const chunk of [7, 4093, 64 * 1024, MiB + 3, file.length]) {
      const { records, maxCap } = parse(file, chunk, 1000);
      const v = values(records);
      expect(v.raw!.equals(value), `raw, chunks of ${chunk}`).toBe(true);
      expect(v.lzf!.equals(value), `lzf, chunks of ${chunk}`).toBe(true);
      expect(v.after!.toString()).toBe('x');
      expect(records.at(-1)).toMatchObject({ kind: 'end', checksum: 'ok' });
      if (chunk < MiB) expect(maxCap, `chunks of ${chunk}`).toBeLessThan(MiB);
    }
  });

  it('with stringPieceBytes: comes in pieces of that size, each with the whole length, from chunks of any size', () => {
    for (const [chunk, piece] of [[7, 4096], [4093, 100_000], [64 * 1024, MiB], [MiB + 3, 5000], [file.length, 1 << 22]] as const) {
      const { records, maxCap } = parse(file, chunk, 1000, piece);
      const v = values(records);
      expect(v.raw!.equals(value), `raw, chunks of ${chunk}, pieces of ${piece}`).toBe(true);
      expect(v.lzf!.equals(value), `lzf, chunks of ${chunk}, pieces of ${piece}`).toBe(true);
      expect(v.after!.toString()).toBe('x');
      for (const name of ['raw', 'lzf']) {
        const recs = records.filter((r): r is Extract<RdbRecord, { kind: 'key' }> => r.kind === 'key' && Buffer.from(r.key).toString() === name);
        // an LZF piece may run up to a back reference (264 bytes) past the size
        const most = name === 'raw' ? piece : piece + 264;
        expect(recs.length, `${name}: pieces of ${piece}`).toBeLessThanOrEqual(Math.ceil(value.length / piece));
        expect(recs.length, `${name}: pieces of ${piece}`).toBeGreaterThanOrEqual(Math.ceil(value.length / most));
        // one piece: the string comes whole, as without stringPieceBytes
        if (recs.length === 1) expect(recs[0]).not.toHaveProperty('stringLength');
        else expect(recs.every((r) => r.stringLength === value.length)).toBe(true);
        expect(recs.slice(0, -1).every((r) => r.partial === true && r.value!.type === 'string')).toBe(true);
        expect(recs.at(-1)!.partial).toBeUndefined();
        expect(recs.at(-1)!.elements).toBe(1);
        for (const r of recs.slice(0, -1)) expect((r.value!.value as Uint8Array).length).toBeLessThanOrEqual(most);
        if (name === 'raw') expect(recs.slice(0, -1).every((r) => (r.value!.value as Uint8Array).length === piece)).toBe(true);
      }
      const small = records.find((r) => r.kind === 'key' && Buffer.from(r.key).toString() === 'after');
      expect(small).not.toHaveProperty('stringLength');
      if (chunk < MiB) expect(maxCap).toBeLessThan(MiB);
    }
  });

  it('reports a truncated or corrupt one as when read whole', () => {
    for (const cut of [MiB, 3 * MiB + 40, Math.floor(file.length * 0.8)]) {
      const short = file.subarray(0, cut);
      const err = (ce?: number) => {
        try {
          parse(short, 64 * 1024, ce);
        } catch (e) {
          return e as RdbError;
        }
        return null;
      };
      const a = err();
      const b = err(1000);
      const c = (() => {
        try {
          parse(short, 64 * 1024, 1000, 10_000);
        } catch (e) {
          return e as RdbError;
        }
        return null;
      })();
      expect([c?.code, c?.offset]).toEqual([a!.code, a!.offset]);
      expect(a).toBeInstanceOf(RdbError);
      expect(b).toBeInstanceOf(RdbError);
      expect([b!.code, b!.offset]).toEqual([a!.code, a!.offset]);
      expect(b!.code).toBe('truncated');
    }
    const broken = rdb(value, true);
    const whole = (() => {
      try {
        parse(broken, 64 * 1024);
      } catch (e) {
        return e as RdbError;
      }
      return null;
    })();
    let streamed: RdbError | null = null;
    try {
      parse(broken, 64 * 1024, 1000);
    } catch (e) {
      streamed = e as RdbError;
    }
    let pieces: RdbError | null = null;
    try {
      parse(broken, 64 * 1024, 1000, 10_000);
    } catch (e) {
      pieces = e as RdbError;
    }
    expect([pieces?.code, pieces?.offset]).toEqual([whole!.code, whole!.offset]);
    expect(whole?.code).toBe('corrupt');
    expect([streamed?.code, streamed?.offset]).toEqual([whole!.code, whole!.offset]);
  });
});
