// The cost model's pieces against facts read from Redis 7.0.15 and jemalloc 5.3, and measured on redis-server
// (the live test checks them together: accuracy.live.test.ts).
import { describe, expect, test } from 'vitest';
import {
  DEFAULT_MEMORY_CONFIG,
  DictSim,
  QuicklistSim,
  RaxSim,
  SKIPLIST_NODE_EXPECTED,
  dictTableSize,
  jemallocSize,
  listpackEntrySize,
  parseMemoryConfig,
  scoreText,
  sdsAllocSize,
  strictInt64,
} from '@redis-persist/analysis';

const b = (s: string) => new TextEncoder().encode(s);

describe('allocator and strings', () => {
  test('jemalloc size classes (16-byte quantum, four classes per doubling)', () => {
    const got = [1, 8, 9, 16, 17, 24, 40, 48, 100, 128, 129, 160, 161, 256, 257, 536, 1025, 4097, 14337, 16385, 100000].map(jemallocSize);
    expect(got).toEqual([8, 8, 16, 16, 32, 32, 48, 48, 112, 128, 160, 160, 192, 256, 320, 640, 1280, 5120, 16384, 20480, 114688]);
  });
  test('sds: type 5 below 32 bytes, type 8 for the empty string and up to 255, NUL included', () => {
    // measured: MEMORY USAGE of a 1-byte key's sds is 8; 31-byte 48 (1+31+1 = 33); 32-byte 48 (3+32+1 = 36)
    expect([0, 1, 6, 7, 31, 32, 44, 255, 256].map(sdsAllocSize)).toEqual([8, 8, 8, 16, 48, 48, 48, 320, 320]);
  });
  test('strict integers as string2ll reads them', () => {
    expect(strictInt64(b('0'))).toBe(0n);
    expect(strictInt64(b('-12'))).toBe(-12n);
    expect(strictInt64(b('9223372036854775807'))).toBe(9223372036854775807n);
    for (const s of ['', '-', '01', '+1', ' 1', '1.0', '9223372036854775808', '-0']) expect(strictInt64(b(s))).toBeNull();
  });
});

describe('listpack entries', () => {
  test('integers by range, strings by length class, plus the back-length', () => {
    expect(listpackEntrySize(b('7'))).toBe(2); // 7-bit uint
    expect(listpackEntrySize(b('-100'))).toBe(3); // 13-bit
    expect(listpackEntrySize(b('30000'))).toBe(4); // 16-bit
    expect(listpackEntrySize(b('8000000'))).toBe(5); // 24-bit
    expect(listpackEntrySize(b('2000000000'))).toBe(6); // 32-bit
    expect(listpackEntrySize(b('20000000000'))).toBe(10); // 64-bit
    expect(listpackEntrySize(b('abc'))).toBe(5); // 6-bit length string
    expect(listpackEntrySize(b('x'.repeat(63)))).toBe(65);
    expect(listpackEntrySize(b('x'.repeat(64)))).toBe(67); // 12-bit length, 66 bytes: a 1-byte back-length
    expect(listpackEntrySize(b('x'.repeat(200)))).toBe(204); // 202 bytes need a 2-byte back-length
  });
  test('a whole listpack: header, entries, end byte', async () => {
    const { encodeListpack } = await import('@redis-persist/analysis');
    const els = ['a', '7', '-100', '123456789012', 'x'.repeat(64)].map(b);
    const lp = encodeListpack(els);
    expect(lp.length).toBe(7 + els.reduce((s, e) => s + listpackEntrySize(e), 0));
    const v = new DataView(lp.buffer);
    expect([v.getUint32(0, true), v.getUint16(4, true), lp[lp.length - 1]]).toEqual([lp.length, 5, 0xff]);
    expect([...lp.subarray(6, 9)]).toEqual([0x81, 0x61, 2]); // "a": 6-bit string, back-length 2
    expect([...lp.subarray(9, 11)]).toEqual([7, 1]); // 7: 7-bit integer
    expect([...lp.subarray(11, 14)]).toEqual([0xdf, 0x9c, 2]); // -100: 13-bit two's complement
  });
  test("sorted-set scores as d2string writes them", () => {
    expect(scoreText(3)).toBe('3');
    expect(scoreText(-0)).toBe('-0');
    expect(scoreText(1.5)).toBe('1.5');
    expect(scoreText(0.1)).toBe('0.10000000000000001');
    expect(scoreText(2 ** 62)).toBe('4611686018427387904');
    expect(scoreText(1e20)).toBe('1e+20'); // past double2ll's range
    expect(scoreText(1.5e300)).toBe('1.5000000000000001e+300');
    expect(scoreText(1e-5)).toBe('1.0000000000000001e-05');
    expect(scoreText(Infinity)).toBe('inf');
  });
});

describe('containers', () => {
  test('dict tables: powers of two from 4, doubling when full, presized on load', () => {
    expect([0, 1, 4, 5, 8, 9, 1000].map(dictTableSize)).toEqual([4, 4, 4, 8, 8, 16, 1024]);
    const grown = new DictSim();
    for (let i = 0; i < 5; i++) grown.add();
    // the fifth add finds 4 of 4 used: a rehash into 8 starts, and the adds after it finish it
    expect(grown.slots()).toBe(12);
    for (let i = 0; i < 4; i++) grown.add();
    // the ninth add finished that rehash (8 of 8 used) and started the next one, into 16
    expect(grown.slots()).toBe(24);
    const presized = new DictSim();
    presized.expand(100);
    for (let i = 0; i < 100; i++) presized.add();
    expect(presized.slots()).toBe(128);
  });
  test('rax node counts for ascending 16-byte IDs', () => {
    const r = new RaxSim();
    expect(r.nodes).toBe(1);
    const id = (n: number) => {
      const k = new Uint8Array(16);
      new DataView(k.buffer).setUint32(12, n);
      return k;
    };
    r.insert(id(1));
    expect(r.nodes).toBe(2); // one compressed node of 16 bytes, one leaf
    r.insert(id(2));
    expect(r.nodes).toBe(4); // prefix of 15, a branching node, two leaves
    r.insert(id(3));
    expect(r.nodes).toBe(5); // one more child of the branching node
    r.insert(id(0x100));
    expect(r.nodes).toBe(8); // the 15-byte prefix splits at byte 14 (prefix, a branching node over the old branch), then the new byte and its leaf
    expect(r.memoryUsage()).toBe(4 * 16 + 8 * 244);
  });
  test('quicklist nodes by count and by bytes', () => {
    const two = new QuicklistSim(2);
    for (let i = 0; i < 5; i++) two.push(b('a'));
    expect(two.nodes).toBe(3);
    // measured on redis-server: rpush l1 a with list-max-listpack-size 2 -> MEMORY USAGE 144 (8 key + 24 entry +
    // 16 robj + 40 quicklist + 40 node + 16 listpack)
    const one = new QuicklistSim(2);
    one.push(b('a'));
    expect(8 + 24 + 16 + 40 + one.nodesMemory()).toBe(144);
    const bytes = new QuicklistSim(-1); // 4 KiB nodes
    for (let i = 0; i < 100; i++) bytes.push(b('x'.repeat(100)));
    expect(bytes.nodes).toBe(3);
  });
  test('skiplist node: expected allocation over random levels (p = 1/4)', () => {
    expect(SKIPLIST_NODE_EXPECTED).toBeGreaterThan(53);
    expect(SKIPLIST_NODE_EXPECTED).toBeLessThan(54);
  });
});

describe('redis.conf', () => {
  test('limits, ziplist-era names, units, maxmemory policy, the last line wins', () => {
    const c = parseMemoryConfig(
      ['# comment', 'hash-max-ziplist-entries 5', 'hash-max-listpack-entries 7', 'zset-max-listpack-value 1kb', 'list-max-ziplist-size -1', 'maxmemory 1gb', 'maxmemory-policy allkeys-lru', 'cluster-enabled yes'].join('\n'),
    );
    expect(c.hashMaxListpackEntries).toBe(7);
    expect(c.zsetMaxListpackValue).toBe(1024);
    expect(c.listMaxListpackSize).toBe(-1);
    expect(c.sharedIntegers).toBe(false);
    expect(c.clusterEnabled).toBe(true);
    expect(parseMemoryConfig('')).toEqual(DEFAULT_MEMORY_CONFIG);
  });
});

describe('the Valkey 8.0 model (from the 8.0.1 source; no valkey-server here to measure it)', () => {
  test('keys embedded in their dict entry, small sets as listpacks, one-node lists as listpacks', async () => {
    const { rdbMemoryRecords } = await import('@redis-persist/analysis');
    const { repoRoot } = await import('@redis-persist/testkit');
    const file = `${repoRoot()}/fixtures/rdb/all-types.rdb`;
    const collect = async (server: 'redis-7.0' | 'valkey-8') => {
      const out = new Map<string, { type: string; encoding: string; memory: number; key: Uint8Array }>();
      for await (const r of rdbMemoryRecords(file, { server, config: DEFAULT_MEMORY_CONFIG })) {
        if (r.kind === 'key') out.set(`${r.db}:${Buffer.from(r.key).toString('latin1')}`, r);
      }
      return out;
    };
    const redis = await collect('redis-7.0');
    const valkey = await collect('valkey-8');
    expect(valkey.size).toBe(redis.size);
    for (const [k, v] of valkey) {
      const r = redis.get(k)!;
      const len = v.key.length;
      const hdr = len < 32 ? 1 : len <= 252 ? 3 : 5;
      const keyPartRedis = sdsAllocSize(len) + 24;
      const keyPartValkey = jemallocSize(17 + hdr + len + 1);
      if (v.type === 'string' || v.type === 'hash' || v.type === 'zset' || v.type === 'stream') {
        expect(v.memory - keyPartValkey).toBe(r.memory - keyPartRedis);
      }
      if (v.type === 'set' && r.encoding === 'hashtable') expect(['listpack', 'hashtable']).toContain(v.encoding);
      if (v.type === 'list' && r.encoding === 'quicklist') expect(['listpack', 'quicklist']).toContain(v.encoding);
    }
  });
});
