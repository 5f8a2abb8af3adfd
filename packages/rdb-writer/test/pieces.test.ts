// Keys in pieces (`partial: true`) give exactly the bytes of the same keys whole, for every target, whether the
// encoded body waits in memory or in a temporary file; a key whose last piece never comes is left out.
import { readdirSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KeyValue, KeyspacePiece, KeyspaceRecord, StreamValue } from '@redis-persist/keyspace';

type KeyRecord = Extract<KeyspaceRecord, { kind: 'key' }>;
import { RdbWriter, writeRdb, type RdbWriteOptions } from '@redis-persist/rdb-writer';
import { seededRandom } from '@redis-persist/testkit';

const b = (s: string) => Buffer.from(s);

async function collect(records: KeyspacePiece[], options: RdbWriteOptions = {}): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of writeRdb(records, { ...((options.rdbVersion ?? 10) >= 7 ? { aux: { ctime: '0' } } : {}), ...options })) parts.push(c);
  return Buffer.concat(parts);
}


/** A record cut into pieces of `size` elements (the last holds the rest, perhaps nothing). */
function cut(rec: KeyRecord, size: number): KeyspacePiece[] {
  const v = rec as KeyRecord & { value: unknown[] };
  if (rec.type === 'stream') {
    const s = rec.value as StreamValue;
    const out: KeyspacePiece[] = [];
    for (let i = 0; i < s.entries.length; i += size) {
      const zero: StreamValue = { ...s, entries: s.entries.slice(i, i + size), groups: [], length: 0, lastId: '0-0', firstId: null, maxDeletedId: '0-0', entriesAdded: 0 };
      out.push({ ...rec, value: zero, partial: true } as KeyspacePiece);
    }
    // the groups: the first group's pending entries go on in the next piece under its name
    const [g0, ...rest] = s.groups;
    if (g0) {
      const half = Math.floor(g0.pending.length / 2);
      out.push({ ...rec, value: { ...s, entries: [], groups: [{ ...g0, pending: g0.pending.slice(0, half), consumers: g0.consumers }] }, partial: true } as KeyspacePiece);
      out.push({ ...rec, value: { ...s, entries: [], groups: [{ ...g0, pending: g0.pending.slice(half), consumers: [] }, ...rest] } } as KeyspacePiece);
    } else out.push({ ...rec, value: { ...s, entries: [] } } as KeyspacePiece);
    return out;
  }
  const items = v.value;
  const out: KeyspacePiece[] = [];
  let i = 0;
  for (; i + size < items.length; i += size) out.push({ ...rec, value: items.slice(i, i + size), partial: true } as KeyspacePiece);
  out.push({ ...rec, value: items.slice(i) } as KeyspacePiece);
  return out;
}

function key(name: string, value: KeyValue, expireAt: number | null = null): KeyRecord {
  return { kind: 'key', db: 0, key: b(name), expireAt, ...value } as KeyRecord;
}

function values(seed: number): KeyRecord[] {
  const r = seededRandom(seed);
  const word = (max: number) => {
    const n = Math.floor(r() * max);
    return r() < 0.3 ? b(String(Math.floor(r() * 1e6) - 5e5)) : Buffer.from(Array.from({ length: n }, () => 97 + Math.floor(r() * 3)));
  };
  const recs: KeyRecord[] = [];
  for (const n of [3, 200, 513, 1500, 3000]) {
    recs.push(key(`list:${n}`, { type: 'list', value: Array.from({ length: n }, (_, i) => (i % 997 === 5 ? Buffer.alloc(9000, 'x') : word(40))) }, 4102444800000));
    recs.push(key(`set:int:${n}`, { type: 'set', value: Array.from({ length: n }, (_, i) => b(String(i * 7 - 100))) }));
    recs.push(key(`set:${n}`, { type: 'set', value: Array.from({ length: n }, (_, i) => b(`m${i}:${'y'.repeat(i % 70)}`)) }));
    recs.push(key(`hash:${n}`, { type: 'hash', value: Array.from({ length: n }, (_, i) => ({ field: b(`f${i}`), value: word(i % 50 === 0 ? 90 : 30), expireAt: null })) }));
    // a sorted set in skiplist order (highest score first, ties by member downwards), as an RDB holds it
    const pairs: [Uint8Array, number][] = Array.from({ length: n }, (_, i) => [b(`z${i}`), Math.floor(r() * 50) + (i % 3 === 0 ? 0.25 : 0)]);
    pairs.sort((x, y) => (x[1] !== y[1] ? y[1] - x[1] : Buffer.compare(y[0], x[0])));
    recs.push(key(`zset:${n}`, { type: 'zset', value: pairs }));
    // and one in another order (the writer falls back to sorting it whole)
    recs.push(key(`zset:shuffled:${n}`, { type: 'zset', value: [...pairs].sort(() => r() - 0.5) }));
  }
  // a hash whose field TTLs only show up in a late piece
  recs.push(
    key('hash:ttl-late', {
      type: 'hash',
      value: Array.from({ length: 2500 }, (_, i) => ({ field: b(`f${i}`), value: b(`v${i}`), expireAt: i === 2400 ? 4102444800000 + i : null })),
    }),
  );
  const entries = Array.from({ length: 1200 }, (_, i) => ({ id: `${1000 + i}-${i % 3}`, fields: [[b('a'), b(String(i))], ...(i % 5 === 0 ? [[b('b'), b('x')]] : [])] as unknown as [Uint8Array, Uint8Array][] }));
  recs.push(
    key('stream', {
      type: 'stream',
      value: {
        entries,
        length: entries.length,
        lastId: '2199-2',
        firstId: entries[0].id,
        maxDeletedId: '0-0',
        entriesAdded: entries.length,
        groups: [
          {
            name: b('g1'),
            lastDeliveredId: '1100-1',
            entriesRead: 101,
            pending: entries.slice(0, 40).map((e, i) => ({ id: e.id, consumer: b(i % 2 ? 'c1' : 'c2'), deliveryTime: 1700000000000 + i, deliveryCount: 1 })),
            consumers: [
              { name: b('c2'), seenTime: 1700000000000, activeTime: 1700000000000 },
              { name: b('c1'), seenTime: 1700000000001, activeTime: 1700000000001 },
            ],
          },
          { name: b('g0'), lastDeliveredId: '0-0', entriesRead: 0, pending: [], consumers: [] },
        ],
      },
    }),
  );
  return recs;
}

const TARGETS: RdbWriteOptions[] = [2, 3, 5, 6, 7, 8, 9, 10, 11, 12].map((v) => ({ rdbVersion: v, dropUnsupported: true, lossy: true }));
TARGETS.push({ rdbVersion: 80, valkey: true }, { rdbVersion: 10, compress: false, lossy: true }, { rdbVersion: 10, lossy: true, thresholds: { listMaxListpackSize: 100 } });

describe('keys in pieces', () => {
  const recs = values(7);
  const whole: KeyspaceRecord[] = [{ kind: 'function', library: 'lib', engine: 'LUA', code: b("#!lua name=lib\nredis.register_function('f', function() return 1 end)") } as KeyspaceRecord, ...recs];
  for (const t of TARGETS) {
    it(`give the bytes of the whole keys: ${JSON.stringify(t)}`, async () => {
      const ref = await collect(whole, t);
      for (const size of [1000, 37]) {
        const pieces: KeyspacePiece[] = [whole[0]!, ...recs.flatMap((r) => cut(r, size))];
        expect((await collect(pieces, t)).equals(ref)).toBe(true);
      }
    });
  }

  it('a body past pieceMemoryBytes waits in a temporary file, removed afterwards', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pieces-test-'));
    try {
      const ref = await collect(recs, { rdbVersion: 12 });
      const pieces = recs.flatMap((r) => cut(r, 100));
      let sawFile = false;
      const parts: Uint8Array[] = [];
      const it = writeRdb(pieces, { rdbVersion: 12, aux: { ctime: '0' }, pieceMemoryBytes: 1000, tmpDir: dir });
      for await (const c of it) {
        if (readdirSync(dir).length > 0) sawFile = true;
        parts.push(c);
      }
      expect(Buffer.concat(parts).equals(ref)).toBe(true);
      expect(sawFile).toBe(true);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a key whose last piece never comes is left out (a damaged input ended there)', async () => {
    const list = recs.find((r) => Buffer.from(r.key).toString() === 'list:3000')!;
    const set = recs.find((r) => Buffer.from(r.key).toString() === 'set:1500')!;
    const cutList = cut(list, 500).slice(0, 3);
    expect(cutList.every((p) => p.partial)).toBe(true);
    // followed by another key, or by the end
    expect((await collect([...cutList, set], { rdbVersion: 10 })).equals(await collect([set], { rdbVersion: 10 }))).toBe(true);
    expect((await collect([set, ...cutList], { rdbVersion: 10 })).equals(await collect([set], { rdbVersion: 10 }))).toBe(true);
  });

  it('a NaN score in a piece is refused, naming the key', async () => {
    const pairs: [Uint8Array, number][] = Array.from({ length: 2000 }, (_, i) => [b(`m${i}`), 5000 - i]);
    pairs[1500] = [b('bad'), Number.NaN];
    await expect(collect(cut(key('zs', { type: 'zset', value: pairs }), 1000), { rdbVersion: 10 })).rejects.toThrow(/"zs".*NaN score|NaN score/);
  });
});

describe('strings of more than 1 MiB', () => {
  it('are written as a header and their bytes: what the value encoder writes', async () => {
    const r = seededRandom(3);
    const random = Buffer.from(Array.from({ length: (1 << 20) + 5 }, () => Math.floor(r() * 256)));
    const text = Buffer.from('abcdefgh'.repeat(300_000));
    const half = Buffer.concat([text.subarray(0, 700_000), random.subarray(0, 700_000)]);
    const recs: KeyRecord[] = [key('random', { type: 'string', value: random }, 4102444800000), key('text', { type: 'string', value: text }), key('half', { type: 'string', value: half })];
    for (const t of [{ rdbVersion: 10 }, { rdbVersion: 10, compress: false }, { rdbVersion: 3 }]) {
      // the reference: RdbWriter.key(), which encodes through the value sink
      const w = new RdbWriter({ ...t, defaultAux: false });
      const ref = Buffer.concat([w.header(), ...recs.map((x) => w.key(x)), w.end()]);
      const parts: Uint8Array[] = [];
      for await (const c of writeRdb(recs, { ...t, defaultAux: false })) parts.push(c);
      expect(Buffer.concat(parts).equals(ref)).toBe(true);
    }
  });
});
