// write → our parser (@redis-persist/rdb) → the same keyspace, for every target version; DUMP payloads too.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sameKeyspace, type KeyspaceRecord } from '@redis-persist/keyspace';
import { rdbKeyspaceRecords } from '@redis-persist/rdb';
import { decodeDumpPayload, encodeDumpPayload, writeRdb, type RdbWriteOptions } from '@redis-persist/rdb-writer';
import { keyspaceArb } from './arbitraries.js';

async function* source(data: Uint8Array): AsyncGenerator<Uint8Array> {
  yield data;
}

async function roundTrip(records: KeyspaceRecord[], options: RdbWriteOptions): Promise<KeyspaceRecord[]> {
  const parts: Uint8Array[] = [];
  for await (const c of writeRdb(records, options)) parts.push(c);
  const out: KeyspaceRecord[] = [];
  for await (const r of rdbKeyspaceRecords(source(Buffer.concat(parts)))) out.push(r);
  return out;
}

/** For RDB 9 a group's unknown entries-read becomes whatever the reader derives. */
function adoptDerivedEntriesRead(src: KeyspaceRecord[], got: KeyspaceRecord[]): KeyspaceRecord[] {
  return src.map((r) => {
    if (r.kind !== 'key' || r.type !== 'stream') return r;
    const l = got.find((x) => x.kind === 'key' && x.db === r.db && Buffer.compare(x.key, r.key) === 0);
    if (!l || l.kind !== 'key' || l.type !== 'stream') return r;
    const groups = r.value.groups.map((g) => {
      const lg = l.value.groups.find((x) => Buffer.compare(x.name, g.name) === 0);
      return g.entriesRead === null && lg ? { ...g, entriesRead: lg.entriesRead } : g;
    });
    return { ...r, value: { ...r.value, groups } };
  });
}

const versions: { v: number; valkey?: boolean }[] = [
  ...Array.from({ length: 12 }, (_, i) => ({ v: i + 1 })),
  { v: 11, valkey: true },
  { v: 80, valkey: true },
];

describe('write → @redis-persist/rdb parser → identical keyspace', () => {
  for (const { v, valkey } of versions) {
    it(`RDB ${v}${valkey ? ' (Valkey)' : ''}`, async () => {
      const opts = {
        streams: v >= 9 ? { metadata: v >= 10, activeTime: v >= 11 } : (false as const),
        fieldTtl: v >= 12,
        functions: v >= 10,
        maxKeys: 20,
      };
      await fc.assert(
        fc.asyncProperty(keyspaceArb(opts), fc.boolean(), async (records, compress) => {
          const recs = v < 3 ? records.map((r) => (r.kind === 'key' ? { ...r, expireAt: r.expireAt === null ? null : Math.floor(r.expireAt / 1e6) * 1000 } : r)) : records;
          const got = await roundTrip(recs, { rdbVersion: v, valkey: valkey ?? false, compress });
          expect(sameKeyspace(v === 9 ? adoptDerivedEntriesRead(recs, got) : recs, got).diff).toEqual([]);
        }),
        { numRuns: v === 10 || v === 12 ? 40 : 12 },
      );
    });
  }

  it('encodings follow the thresholds (tiny limits → big encodings, huge → compact)', async () => {
    const b = (s: string) => Buffer.from(s);
    const recs: KeyspaceRecord[] = [
      { kind: 'key', db: 0, key: b('h'), type: 'hash', expireAt: null, value: [{ field: b('f'), value: b('v'), expireAt: null }, { field: b('g'), value: b('w'), expireAt: null }] },
      { kind: 'key', db: 0, key: b('s'), type: 'set', expireAt: null, value: [b('a'), b('b')] },
      { kind: 'key', db: 0, key: b('i'), type: 'set', expireAt: null, value: [b('1'), b('2')] },
      { kind: 'key', db: 0, key: b('z'), type: 'zset', expireAt: null, value: [[b('a'), 1], [b('b'), 2]] },
      { kind: 'key', db: 0, key: b('l'), type: 'list', expireAt: null, value: [b('a'), b('b'), b('c')] },
    ];
    const enc = async (options: RdbWriteOptions) => {
      const parts: Uint8Array[] = [];
      for await (const c of writeRdb(recs, options)) parts.push(c);
      const out: Record<string, string | undefined> = {};
      for await (const r of rdbKeyspaceRecords(source(Buffer.concat(parts)), { encoding: true })) if (r.kind === 'key') out[Buffer.from(r.key).toString()] = r.encoding;
      return out;
    };
    const tiny = { hashMaxListpackEntries: 1, setMaxIntsetEntries: 1, setMaxListpackEntries: 1, zsetMaxListpackEntries: 1, listMaxListpackSize: 1 };
    const small = await enc({ rdbVersion: 11 });
    const big = await enc({ rdbVersion: 11, thresholds: tiny });
    expect(small).toEqual({ h: expect.stringMatching(/listpack/), s: expect.stringMatching(/listpack/), i: expect.stringMatching(/intset/), z: expect.stringMatching(/listpack/), l: expect.stringMatching(/quicklist/) });
    expect(big.h).toMatch(/hashtable/);
    expect(big.s).toMatch(/hashtable/);
    expect(big.i).toMatch(/hashtable/);
    expect(big.z).toMatch(/zset-v2|skiplist/);
  });
});

describe('DUMP payloads: decode(encode(x)) = x', () => {
  it('every type, every version that holds it', () => {
    fc.assert(
      fc.property(keyspaceArb({ streams: { metadata: true, activeTime: true }, fieldTtl: true, maxKeys: 5 }), fc.constantFrom(10, 11, 12), (records, v) => {
        for (const r of records) {
          if (r.kind !== 'key') continue;
          if (v < 12 && r.type === 'hash' && r.value.some((f) => f.expireAt !== null)) continue;
          if (v < 11 && r.type === 'stream') continue;
          const { expireAt: _e, db: _d, key: _k, kind: _kind, ...value } = r;
          const payload = encodeDumpPayload(value, v);
          const back = decodeDumpPayload(payload);
          expect(back.rdbVersion).toBe(v);
          expect(sameKeyspace([r], [{ ...r, ...back.value } as KeyspaceRecord]).diff).toEqual([]);
        }
      }),
      { numRuns: 40 },
    );
  });
});
