import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc64, lzfDecompress } from '@redis-persist/bytes';
import type { KeyspaceRecord, StreamValue } from '@redis-persist/keyspace';
import { RdbWriter, RdbWriterError, encodeDumpPayload, splitDumpPayload, writeRdb, type DropInfo, type RdbWriteOptions } from '@redis-persist/rdb-writer';
import { ListpackBuilder, ZiplistBuilder, encodeIntset as buildIntset } from '@redis-persist/rdb-format';
import { ByteSink, writeLen, writeStr } from '../src/sink.js';

const b = (s: string) => Buffer.from(s);
const hex = (u: Uint8Array) => Buffer.from(u).toString('hex');

async function collect(records: KeyspaceRecord[], options: RdbWriteOptions = {}): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of writeRdb(records, options)) parts.push(c);
  return Buffer.concat(parts);
}

function str(data: Uint8Array, compress = true): string {
  const s = new ByteSink(16);
  writeStr(s, data, compress);
  return hex(s.take());
}

describe('primitive encodings (FORMATS §2, byte examples verified against Redis 7.0.15)', () => {
  it('lengths use the minimal form', () => {
    const len = (n: number | bigint) => {
      const s = new ByteSink(4);
      writeLen(s, n);
      return hex(s.take());
    };
    expect(len(0)).toBe('00');
    expect(len(63)).toBe('3f');
    expect(len(64)).toBe('4040');
    expect(len(16383)).toBe('7fff');
    expect(len(16384)).toBe('8000004000');
    expect(len(0xffffffff)).toBe('80ffffffff');
    expect(len(2n ** 64n - 1n)).toBe('81ffffffffffffffff');
  });

  it('strings: canonical int32 as INT8/16/32, "007" and 2^32 raw, LZF above 20 bytes', () => {
    expect(str(b('-129'))).toBe('c17fff');
    expect(str(b('12'))).toBe('c00c');
    expect(str(b('12345'))).toBe('c13930');
    expect(str(b('-2147483648'))).toBe('c200000080');
    expect(str(b('007'))).toBe('03303037');
    expect(str(b('4294967296'))).toBe('0a' + hex(b('4294967296')));
    expect(str(b('-0'))).toBe('022d30');
    // Redis 7.0.15 writes c3 09 4064 016161 e05700 016161; any valid LZF stream loads (FORMATS §2.2).
    const lzf = Buffer.from(str(b('a'.repeat(100))), 'hex');
    expect(hex(lzf.subarray(0, 1))).toBe('c3');
    expect(lzf[2]).toBe(0x40);
    expect(lzf[3]).toBe(100);
    expect(Buffer.from(lzfDecompress(lzf.subarray(4), 100)).toString()).toBe('a'.repeat(100));
    expect(lzf[1]).toBe(lzf.length - 4);
    expect(str(b('a'.repeat(100)), false)).toBe('4064' + '61'.repeat(100));
    expect(str(b('abcdefghijklmnopqrstuvwxyz'))).toBe('1a' + hex(b('abcdefghijklmnopqrstuvwxyz')));
  });

  it('intset {1,2,3,-5,70000}', () => {
    expect(hex(buildIntset([1n, 2n, 3n, -5n, 70000n]))).toBe('0400000005000000fbffffff01000000020000000300000070110100');
  });

  it('listpack of zset {a:1, b:2.5, c:-3, d:inf} as 7.0.15 writes it', () => {
    const lp = new ListpackBuilder();
    lp.add(b('c'));
    lp.addInt(-3);
    lp.add(b('a'));
    lp.addInt(1);
    lp.add(b('b'));
    lp.addString(b('2.5'));
    lp.add(b('d'));
    lp.addString(b('inf'));
    const out = lp.finish();
    expect(hex(out.subarray(6, out.length))).toBe(
      ['8163 02', 'dffd 02', '8161 02', '01 01', '8162 02', '83322e35 04', '8164 02', '83696e66 04', 'ff'].join('').replace(/ /g, ''),
    );
    expect(new DataView(out.buffer, out.byteOffset, out.byteLength).getUint32(0, true)).toBe(out.length);
  });

  it('listpack integer and string boundaries decode back (13/24-bit two’s complement, 12-bit lengths, backlen)', () => {
    const lp = new ListpackBuilder();
    lp.addInt(-1);
    lp.addInt(-4096);
    lp.addInt(4095);
    lp.addInt(-8388608);
    lp.add(b('x'.repeat(63)));
    lp.add(b('x'.repeat(64)));
    lp.add(b('x'.repeat(16383 - 2)));
    const out = lp.finish();
    expect(hex(out.subarray(6, 8))).toBe('dfff'); // -1 as 13-bit
    expect(hex(out.subarray(9, 11))).toBe('d000'); // -4096
    expect(out[out.length - 1]).toBe(0xff);
  });

  it('ziplist: RDB < 6 uses only int16/32/64; RDB 6+ uses immediates, int8 and int24', () => {
    const modern = new ZiplistBuilder(false);
    modern.add(b('5'));
    modern.add(b('100'));
    modern.add(b('100000'));
    const legacy = new ZiplistBuilder(true);
    legacy.add(b('5'));
    legacy.add(b('100'));
    legacy.add(b('100000'));
    expect(hex(modern.finish().subarray(10))).toBe('00f6' + '02fe64' + '03f0a08601' + 'ff');
    expect(hex(legacy.finish().subarray(10))).toBe('00c00500' + '04c06400' + '04d0a0860100' + 'ff');
  });
});

describe('DUMP payloads', () => {
  it('SET k hello → DUMP as Redis 7.0.15 (FORMATS §1.6)', () => {
    const p = encodeDumpPayload({ type: 'string', value: b('hello') });
    expect(hex(p)).toBe('000568656c6c6f0a00637' + '2df766534200a');
    expect(splitDumpPayload(p)).toEqual({ type: 0, body: p.subarray(1, 7), rdbVersion: 10 });
  });

  it('a damaged payload is refused with a typed error (CRC, length)', () => {
    const p = Buffer.from(encodeDumpPayload({ type: 'list', value: [b('a'), b('b')] }));
    fc.assert(
      fc.property(fc.nat({ max: p.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, x) => {
        const q = Buffer.from(p);
        q[at] ^= x;
        expect(() => splitDumpPayload(q)).toThrow(RdbWriterError);
      }),
    );
    expect(() => splitDumpPayload(p.subarray(0, 10))).toThrow(/too short/);
  });

  it('the footer carries the requested version and a CRC64 of everything before it', () => {
    for (const v of [6, 9, 10, 11, 12]) {
      const p = encodeDumpPayload({ type: 'set', value: [b('1'), b('x')] }, v);
      expect(p[p.length - 10] | (p[p.length - 9] << 8)).toBe(v);
      expect(crc64(p.subarray(0, p.length - 8))).toBe(Buffer.from(p.subarray(p.length - 8)).readBigUInt64LE());
    }
  });
});

const stream = (over: Partial<StreamValue> = {}): StreamValue => ({
  entries: [{ id: '1-1', fields: [[b('f'), b('v')]] }],
  length: 1,
  lastId: '1-1',
  firstId: '1-1',
  maxDeletedId: '0-0',
  entriesAdded: 1,
  groups: [],
  ...over,
});

describe('version targeting: refuse (naming key and feature) or drop', () => {
  const cases: { name: string; rec: KeyspaceRecord; version: number; feature: string }[] = [
    { name: 'stream before RDB 9', version: 8, feature: 'stream', rec: { kind: 'key', db: 0, key: b('s'), type: 'stream', expireAt: null, value: stream() } },
    {
      name: 'stream metadata before RDB 10',
      version: 9,
      feature: 'stream-metadata',
      rec: { kind: 'key', db: 2, key: b('s2'), type: 'stream', expireAt: null, value: stream({ entriesAdded: 5, maxDeletedId: '1-0' }) },
    },
    {
      name: 'consumer active-time before RDB 11',
      version: 10,
      feature: 'stream-consumer-active-time',
      rec: {
        kind: 'key',
        db: 0,
        key: b('s3'),
        type: 'stream',
        expireAt: null,
        value: stream({ groups: [{ name: b('g'), lastDeliveredId: '0-0', entriesRead: null, pending: [], consumers: [{ name: b('c'), seenTime: 5, activeTime: 3 }] }] }),
      },
    },
    {
      name: 'hash field TTL before RDB 12',
      version: 11,
      feature: 'hash-field-ttl',
      rec: { kind: 'key', db: 0, key: b('h'), type: 'hash', expireAt: null, value: [{ field: b('f'), value: b('v'), expireAt: 1_900_000_000_000 }] },
    },
    {
      name: 'ms expiry before RDB 3',
      version: 2,
      feature: 'ms-expire',
      rec: { kind: 'key', db: 0, key: b('k'), type: 'string', expireAt: 2_000_000_000_123, value: b('v') },
    },
    { name: 'empty collection', version: 10, feature: 'empty-collection', rec: { kind: 'key', db: 0, key: b('e'), type: 'list', expireAt: null, value: [] } },
    {
      name: 'module value before RDB 8',
      version: 7,
      feature: 'module',
      rec: { kind: 'key', db: 0, key: b('m'), type: 'module', expireAt: null, value: { module: 'ReJSON-RL', encver: 3, raw: new Uint8Array([0]) } },
    },
  ];
  for (const c of cases) {
    it(`${c.name}: refused with key and feature, nothing emitted`, async () => {
      const err = await collect([c.rec], { rdbVersion: c.version }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RdbWriterError);
      const e = err as RdbWriterError;
      expect(e.code).toBe('unsupported');
      expect(e.feature).toBe(c.feature);
      const rec = c.rec as { db: number; key: Uint8Array };
      expect(e.db).toBe(rec.db);
      expect(Buffer.from(e.key!).equals(Buffer.from(rec.key))).toBe(true);
      expect(e.message).toContain(`db ${rec.db} key ${JSON.stringify(rec.key.toString())}`);
    });
    it(`${c.name}: dropped and reported with dropUnsupported`, async () => {
      const drops: DropInfo[] = [];
      const keep: KeyspaceRecord = { kind: 'key', db: 0, key: b('keep'), type: 'string', expireAt: null, value: b('x') };
      const w = new RdbWriter({ rdbVersion: c.version, dropUnsupported: true, onDrop: (d) => drops.push(d) });
      w.header();
      expect(w.record(c.rec).length).toBe(0);
      expect(w.record(keep).length).toBeGreaterThan(0);
      w.end();
      expect(drops).toHaveLength(1);
      expect(drops[0].feature).toBe(c.feature);
      expect(w.dropped).toEqual(drops);
      expect(w.keys).toBe(1);
    });
  }

  it('functions before RDB 10 are refused (or dropped) naming the library', async () => {
    const fn: KeyspaceRecord = { kind: 'function', library: 'lib1', engine: 'LUA', code: b('#!lua name=lib1\n') };
    await expect(collect([fn], { rdbVersion: 9 })).rejects.toThrow(/lib1.*RDB 10/);
    const drops: DropInfo[] = [];
    await collect([fn], { rdbVersion: 9, dropUnsupported: true, onDrop: (d) => drops.push(d) });
    expect(drops).toEqual([expect.objectContaining({ kind: 'function', library: 'lib1', feature: 'functions' })]);
  });

  it('invalid data is refused even with dropUnsupported', async () => {
    const dup: KeyspaceRecord = { kind: 'key', db: 0, key: b('s'), type: 'set', expireAt: null, value: [b('a'), b('a')] };
    await expect(collect([dup], { dropUnsupported: true })).rejects.toMatchObject({ code: 'invalid' });
    const nan: KeyspaceRecord = { kind: 'key', db: 0, key: b('z'), type: 'zset', expireAt: null, value: [[b('a'), NaN]] };
    await expect(collect([nan])).rejects.toThrow(/NaN/);
  });

  it('target versions: 1..12, Valkey 1..11 and 80; others refused', () => {
    for (let v = 1; v <= 12; v++) expect(new RdbWriter({ rdbVersion: v }).target.version).toBe(v);
    expect(() => new RdbWriter({ rdbVersion: 13 })).toThrow(RdbWriterError);
    expect(() => new RdbWriter({ rdbVersion: 0 })).toThrow(RdbWriterError);
    expect(() => new RdbWriter({ rdbVersion: 12, valkey: true })).toThrow(/Valkey/);
    expect(() => new RdbWriter({ rdbVersion: 80 })).toThrow(/valkey/);
    const w = new RdbWriter({ rdbVersion: 80, valkey: true });
    expect(Buffer.from(w.header().subarray(0, 9)).toString()).toBe('VALKEY080');
  });

  it('headers: magic, no AUX before RDB 7, CRC64 trailer from RDB 5, nothing after EOF before RDB 5', async () => {
    for (let v = 1; v <= 12; v++) {
      const out = await collect([], { rdbVersion: v });
      expect(out.subarray(0, 9).toString()).toBe(`REDIS${String(v).padStart(4, '0')}`);
      if (v < 7) expect(out[9]).toBe(0xff);
      else expect(out[9]).toBe(0xfa);
      if (v < 5) expect(out.length).toBe(10);
      else expect(crc64(out.subarray(0, out.length - 8))).toBe(out.readBigUInt64LE(out.length - 8));
    }
  });
});

describe('hash field TTLs as Redis 7.4.1 writes them (FORMATS §3.6, verified bytes)', () => {
  const keyBytes = (rec: KeyspaceRecord, options: RdbWriteOptions) => {
    const w = new RdbWriter({ rdbVersion: 12, compress: false, ...options });
    w.header();
    const out = w.record(rec);
    expect(hex(out.subarray(0, 2))).toBe('fe00'); // SELECTDB 0
    return hex(out.subarray(2)).replace(/ /g, '');
  };
  it('listpack-ex (type 25): fields with TTL first by TTL, then the rest with TTL 0', () => {
    const rec: KeyspaceRecord = {
      kind: 'key',
      db: 0,
      key: b('hlp'),
      type: 'hash',
      expireAt: null,
      value: [
        { field: b('a'), value: b('1'), expireAt: null },
        { field: b('b'), value: b('2'), expireAt: 1_900_000_000_000 },
        { field: b('c'), value: b('3'), expireAt: 1_800_000_000_000 },
      ],
    };
    const want = '19 03686c70 00505c18a3010000 2c 2c000000 0900 816302 0301 f400505c18a3010000 09 816202 0201 f40038d360ba010000 09 816102 0101 0001 ff';
    expect(keyBytes(rec, {})).toBe(want.replace(/ /g, ''));
  });
  it('hashtable with metadata (type 24): TTLs relative to the minimum, plus one', () => {
    const rec: KeyspaceRecord = {
      kind: 'key',
      db: 0,
      key: b('hht'),
      type: 'hash',
      expireAt: null,
      value: [
        { field: b('x'), value: b('1'), expireAt: null },
        { field: b('y'), value: b('2'), expireAt: 0x01a3185c507b },
      ],
    };
    expect(keyBytes(rec, { thresholds: { hashMaxListpackEntries: 0 } })).toBe('18 03686874 7b505c18a3010000 02 00 0178 c001 01 0179 c002'.replace(/ /g, ''));
  });
});


describe('lossy: keep the key, lose only the metadata the target lacks', () => {
  it('stream metadata to RDB 9, active-time to RDB 10, field TTLs to RDB 11: written without it, each reported once', async () => {
    const recs: KeyspaceRecord[] = [
      { kind: 'key', db: 0, key: b('s'), type: 'stream', expireAt: null, value: stream({ entriesAdded: 5, maxDeletedId: '1-0' }) },
      {
        kind: 'key',
        db: 0,
        key: b('a'),
        type: 'stream',
        expireAt: null,
        value: stream({ groups: [{ name: b('g'), lastDeliveredId: '0-0', entriesRead: null, pending: [], consumers: [{ name: b('c'), seenTime: 5, activeTime: 3 }, { name: b('d'), seenTime: 5, activeTime: 1 }] }] }),
      },
      { kind: 'key', db: 1, key: b('h'), type: 'hash', expireAt: null, value: [{ field: b('f'), value: b('v'), expireAt: 1_900_000_000_000 }, { field: b('g'), value: b('w'), expireAt: null }] },
    ];
    const drops: DropInfo[] = [];
    const w = new RdbWriter({ rdbVersion: 9, lossy: true, onDrop: (d) => drops.push(d) });
    w.header();
    for (const r of recs) expect(w.record(r).length).toBeGreaterThan(0);
    w.end();
    expect(w.keys).toBe(3);
    expect(drops.map((d) => [d.kind, d.feature, Buffer.from(d.key!).toString()])).toEqual([
      ['data', 'stream-metadata', 's'],
      ['data', 'stream-consumer-active-time', 'a'],
      ['data', 'hash-field-ttl', 'h'],
    ]);
    expect(drops[0].message).toMatch(/db 0 key "s": stream metadata needs RDB 10.*written without it/);
    // without lossy the same records are refused
    await expect(collect(recs, { rdbVersion: 9 })).rejects.toMatchObject({ code: 'unsupported', feature: 'stream-metadata' });
    // lossy never covers a missing type: a stream to RDB 8 is still refused
    await expect(collect(recs.slice(0, 1), { rdbVersion: 8, lossy: true })).rejects.toMatchObject({ feature: 'stream' });
  });
});

describe('scoreText (listpack/ziplist score strings, type-3 doubles)', () => {
  it("prints each Redis version's text (rdbSaveDoubleValue / d2string)", async () => {
    const { scoreText } = await import('../src/object.js');
    // %.17g rounds the exact binary value half to even: 1000000000000000.25 is a tie, kept at ...0.2.
    expect(scoreText(1000000000000000.25, 10)).toBe('1000000000000000.2');
    expect(scoreText(1000000000000000.25, 11)).toBe('1000000000000000.2');
    expect(scoreText(0.1, 9)).toBe('0.10000000000000001');
    expect(scoreText(0.1, 11)).toBe('0.1');
    expect(scoreText(1e16, 11)).toBe('10000000000000000');
    expect(scoreText(1e17, 10)).toBe('100000000000000000'); // double2ll's integer range (7.0+)
    expect(scoreText(1e17, 9)).toBe('1e+17'); // ≤ 6.2: "%.17g" above 2^52
    expect(scoreText(1e20, 11)).toBe('1e+20'); // beyond 2^62: fpconv_dtoa's layout, not JS String()
    expect(scoreText(1.2345e-6, 11)).toBe('1.2345e-6');
    expect(scoreText(-0, 11)).toBe('0');
    expect(scoreText(-Infinity, 10)).toBe('-inf');
  });
});

describe('sorted set order', () => {
  it('a zset given in (score, member) order encodes as the same zset shuffled (the writer skips its sort then)', () => {
    const pair = fc.tuple(
      fc.uint8Array({ maxLength: 6 }),
      fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom(0.5, -0, Infinity, -Infinity, 1e300)),
    );
    fc.assert(
      fc.property(fc.uniqueArray(pair, { minLength: 1, maxLength: 200, selector: (p) => Buffer.from(p[0]).toString('hex') }), fc.nat(), (pairs, seed) => {
        const sorted = [...pairs].sort((x, y) => (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : Buffer.compare(x[0], y[0])));
        const shuffled = [...pairs];
        let s = seed;
        for (let i = shuffled.length - 1; i > 0; i--) {
          s = (Math.imul(s, 1103515245) + 12345) >>> 0;
          const j = s % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
        }
        for (const v of [7, 9, 10, 11]) {
          const a = hex(encodeDumpPayload({ type: 'zset', value: sorted as [Uint8Array, number][] }, v));
          expect(hex(encodeDumpPayload({ type: 'zset', value: shuffled as [Uint8Array, number][] }, v))).toBe(a);
        }
      }),
      { numRuns: 200 },
    );
  });
});
