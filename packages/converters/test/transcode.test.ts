// The direct transcoder (dumpRdb, JSON Lines in file order: the parser walks keys in place for JsonlKeyVisitor)
// writes what the record path writes, byte for byte: random keyspaces written by our writer in every encoding,
// read in random chunk sizes (keys cut across reads), damaged copies of them (the same records out, the same
// damage reported), and random bytes (typed errors only, never a crash). In canonical order (the transcoder's lines
// go into the sort) the same, with keys that come twice in the file (onDuplicateKey) and spilled runs. Canonical
// RESP (RespKeyVisitor attached to keyspaceRespStream's sort) the same against keyspaceRespStream's record path.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RedisPersistError } from '@redis-persist/bytes';
import { RecordBatches, RespKeyVisitor, commandsForKey, dumpRdb, keyspaceBytes, keyspaceRespStream, type SortedKeyWriter } from '@redis-persist/converters';
import { rdbKeyspaceRecordBatches, type KeyVisitor, type RdbKeyspaceOptions } from '@redis-persist/rdb';
import type { ChunkWriter } from '@redis-persist/jsonl';
import { writeRdb, type RdbWriteOptions } from '@redis-persist/rdb-writer';
import { keyspaceArb } from '../../rdb-writer/test/arbitraries.js';
import { canonicalizeRecord, type KeyRecord, type KeyType, type KeyspaceRecord } from '@redis-persist/keyspace';

const NOW = 3_500_000_000_000;

async function rdbOf(records: KeyspaceRecord[], options: RdbWriteOptions): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of writeRdb(records, options)) parts.push(c);
  return Buffer.concat(parts);
}

async function* chunked(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

interface Out {
  bytes: string;
  notes: string[];
}

async function collect(chunks: AsyncIterable<Uint8Array>, notes: string[]): Promise<Out> {
  const parts: Uint8Array[] = [];
  try {
    for await (const c of chunks) parts.push(Buffer.from(c));
  } catch (e) {
    if (!(e instanceof RedisPersistError)) throw e;
    notes.push(`error ${e.code} ${e.message}`);
  }
  return { bytes: Buffer.concat(parts).toString('hex'), notes };
}

/** The transcoder: what `rdb-tool dump --order file` runs. */
function viaTranscoder(data: Uint8Array, size: number): Promise<Out> {
  const notes: string[] = [];
  const onDamage = (e: Error): void => void notes.push(`damage ${(e as RedisPersistError).code} ${e.message}`);
  return collect(dumpRdb(chunked(data, size), { format: 'jsonl', order: 'file', now: NOW, reuseChunks: true, onDamage }), notes);
}

/** The record path, with the options dumpRdb reads with. */
function viaRecords(data: Uint8Array, size: number): Promise<Out> {
  const notes: string[] = [];
  const read: RdbKeyspaceOptions = {
    functions: true,
    dropExpiredBefore: NOW,
    streamMeta: 'file',
    streamPendingOrder: 'pel',
    chunkElements: 1_000,
    onDamage: (e) => void notes.push(`damage ${e.code} ${e.message}`),
  };
  return collect(keyspaceBytes(new RecordBatches(rdbKeyspaceRecordBatches(chunked(data, size), read)), { format: 'jsonl', order: 'file', reuseChunks: true }), notes);
}

const tiny = { hashMaxListpackEntries: 2, listMaxListpackSize: 2, listMaxZiplistEntries: 2, setMaxIntsetEntries: 2, setMaxListpackEntries: 2, zsetMaxListpackEntries: 2 };
const writeOptionsArb = fc.record({
  rdbVersion: fc.constantFrom(5, 7, 9, 10, 11, 12),
  compress: fc.boolean(),
  thresholds: fc.constantFrom(undefined, tiny),
});

describe('direct transcoder (dump, JSON Lines, file order)', () => {
  it('writes what the record path writes, for random keyspaces read in random chunk sizes', async () => {
    await fc.assert(
      fc.asyncProperty(
        keyspaceArb({ streams: { metadata: true, activeTime: false }, functions: true, maxKeys: 25 }),
        writeOptionsArb,
        fc.integer({ min: 1, max: 4096 }),
        async (records, options, size) => {
          // streams (with their v2 metadata) and functions: RDB 10+
          const recs = options.rdbVersion < 10 ? records.filter((r) => r.kind === 'key' && r.type !== 'stream') : records;
          const data = await rdbOf(recs, options);
          const a = await viaTranscoder(data, size);
          const b = await viaRecords(data, size);
          expect(a.notes).toEqual(b.notes);
          expect(a.bytes).toEqual(b.bytes);
          // not vacuous: every key of the keyspace is written
          expect(a.notes).toEqual([]);
        },
      ),
      { numRuns: 40 },
    );
  }, 300_000);

  it('damaged copies: the same records out and the same damage reported', async () => {
    await fc.assert(
      fc.asyncProperty(
        keyspaceArb({ maxKeys: 12 }),
        writeOptionsArb,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.option(fc.nat(), { nil: undefined }),
        fc.integer({ min: 1, max: 512 }),
        async (records, options, flips, cut, size) => {
          const data = Buffer.from(await rdbOf(records, options));
          for (const [at, b] of flips) data[9 + (at % Math.max(1, data.length - 9))] = b;
          const bytes = cut === undefined ? data : data.subarray(0, cut % (data.length + 1));
          const a = await viaTranscoder(bytes, size);
          const b = await viaRecords(bytes, size);
          expect(a.notes).toEqual(b.notes);
          expect(a.bytes).toEqual(b.bytes);
        },
      ),
      { numRuns: 80 },
    );
  }, 300_000);

  it('random bytes after a valid header: typed errors only', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), fc.integer({ min: 1, max: 64 }), async (tail, size) => {
        const data = Buffer.concat([Buffer.from('REDIS0011'), tail]);
        const a = await viaTranscoder(data, size);
        const b = await viaRecords(data, size);
        // (a non-typed error fails collect() itself)
        expect(a).toEqual(b);
      }),
      { numRuns: 80 },
    );
  });
});

/** `rdb-tool dump --format jsonl` (canonical): the transcoder's lines sorted with the records' lines. */
function canonicalViaTranscoder(data: Uint8Array, size: number, budget: number | undefined): Promise<Out> {
  const notes: string[] = [];
  const onDamage = (e: Error): void => void notes.push(`damage ${(e as RedisPersistError).code} ${e.message}`);
  const onDuplicateKey = (db: number, key: Uint8Array): void => void notes.push(`dup ${db} ${Buffer.from(key).toString('hex')}`);
  return collect(dumpRdb(chunked(data, size), { format: 'jsonl', now: NOW, reuseChunks: true, memoryBudgetBytes: budget, onDamage, onDuplicateKey }), notes);
}

/** The record path in canonical order: every record canonicalized, encoded and sorted. */
function canonicalViaRecords(data: Uint8Array, size: number, budget: number | undefined): Promise<Out> {
  const notes: string[] = [];
  const read: RdbKeyspaceOptions = {
    functions: true,
    dropExpiredBefore: NOW,
    streamMeta: 'file',
    streamPendingOrder: 'pel',
    chunkElements: 1_000,
    onDamage: (e) => void notes.push(`damage ${e.code} ${e.message}`),
  };
  const onDuplicateKey = (db: number, key: Uint8Array): void => void notes.push(`dup ${db} ${Buffer.from(key).toString('hex')}`);
  return collect(
    keyspaceBytes(new RecordBatches(rdbKeyspaceRecordBatches(chunked(data, size), read)), { format: 'jsonl', reuseChunks: true, memoryBudgetBytes: budget, onDuplicateKey }),
    notes,
  );
}

/** `base` with `extra`'s keys renamed to keys of `base` (same db and name) put in at the given places. */
function withDuplicates(base: KeyspaceRecord[], extra: KeyspaceRecord[], picks: [number, number, number][]): KeyspaceRecord[] {
  const keys = base.filter((r): r is KeyRecord & KeyspaceRecord => r.kind === 'key');
  const others = extra.filter((r): r is KeyRecord & KeyspaceRecord => r.kind === 'key');
  const out = [...base];
  if (keys.length === 0 || others.length === 0) return out;
  for (const [k, v, at] of picks) {
    const target = keys[k % keys.length]!;
    const dup = { ...others[v % others.length]!, db: target.db, key: target.key } as KeyspaceRecord;
    out.splice(at % (out.length + 1), 0, dup);
  }
  return out;
}

describe('direct transcoder (dump, JSON Lines, canonical order)', () => {
  it('writes what the record path writes, keys that come twice and spilled runs included', async () => {
    await fc.assert(
      fc.asyncProperty(
        keyspaceArb({ streams: { metadata: true, activeTime: false }, functions: true, maxKeys: 25 }),
        keyspaceArb({ maxKeys: 6 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat()), { maxLength: 6 }),
        writeOptionsArb,
        fc.integer({ min: 1, max: 4096 }),
        // 1: a spill at every batch (many runs, a merge); undefined: all held
        fc.constantFrom(1, undefined),
        async (records, extra, picks, options, size, budget) => {
          const all = withDuplicates(records, extra, picks);
          const recs = options.rdbVersion < 10 ? all.filter((r) => r.kind === 'key' && r.type !== 'stream') : all;
          const data = await rdbOf(recs, options);
          const a = await canonicalViaTranscoder(data, size, budget);
          const b = await canonicalViaRecords(data, size, budget);
          expect(a.notes).toEqual(b.notes);
          expect(a.bytes).toEqual(b.bytes);
          // not vacuous: no damage, and every duplicate reported
          expect(a.notes.filter((n) => !n.startsWith('dup '))).toEqual([]);
          const live = recs.filter((r) => r.kind === 'key' && (r.expireAt === null || r.expireAt > NOW)) as KeyRecord[];
          expect(a.notes.length).toBe(live.length - new Set(live.map((r) => `${r.db}:${Buffer.from(r.key).toString('hex')}`)).size);
        },
      ),
      { numRuns: 30 },
    );
  }, 300_000);

  it('damaged copies: the same lines out and the same damage reported', async () => {
    await fc.assert(
      fc.asyncProperty(
        keyspaceArb({ maxKeys: 12 }),
        writeOptionsArb,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.option(fc.nat(), { nil: undefined }),
        fc.integer({ min: 1, max: 512 }),
        fc.constantFrom(1, undefined),
        async (records, options, flips, cut, size, budget) => {
          const data = Buffer.from(await rdbOf(records, options));
          for (const [at, b] of flips) data[9 + (at % Math.max(1, data.length - 9))] = b;
          const bytes = cut === undefined ? data : data.subarray(0, cut % (data.length + 1));
          const a = await canonicalViaTranscoder(bytes, size, budget);
          const b = await canonicalViaRecords(bytes, size, budget);
          expect(a.notes).toEqual(b.notes);
          expect(a.bytes).toEqual(b.bytes);
        },
      ),
      { numRuns: 60 },
    );
  }, 300_000);

  it('big keys in pieces between transcoded keys, a key both ways twice, in random chunk sizes', async () => {
    const big: KeyspaceRecord[] = [
      { kind: 'key', db: 0, key: Buffer.from('m'), expireAt: null, type: 'string', value: Buffer.alloc(1_500_000, 0x61) },
      { kind: 'key', db: 0, key: Buffer.from('s'), expireAt: null, type: 'set', value: Array.from({ length: 3000 }, (_, i) => Buffer.from(`m${(i * 7919) % 3000}`)) },
      { kind: 'key', db: 0, key: Buffer.from('a'), expireAt: null, type: 'string', value: Buffer.from('small') },
      { kind: 'key', db: 1, key: Buffer.from('z'), expireAt: null, type: 'zset', value: Array.from({ length: 2500 }, (_, i) => [Buffer.from(`e${i}`), (i * 31) % 97] as [Buffer, number]) },
      { kind: 'key', db: 0, key: Buffer.from('s'), expireAt: 5_000_000_000_000, type: 'list', value: [Buffer.from('x'), Buffer.from('y')] },
      { kind: 'key', db: 0, key: Buffer.from('a'), expireAt: null, type: 'hash', value: Array.from({ length: 1500 }, (_, i) => ({ field: Buffer.from(`f${1499 - i}`), value: Buffer.from(`v${i}`), expireAt: null })) },
      { kind: 'key', db: 1, key: Buffer.from('b'), expireAt: null, type: 'set', value: [Buffer.from('2'), Buffer.from('1')] },
    ];
    const data = await rdbOf(big, { rdbVersion: 11, compress: false });
    for (const size of [977, 65536]) {
      for (const budget of [1, undefined]) {
        const a = await canonicalViaTranscoder(data, size, budget);
        const b = await canonicalViaRecords(data, size, budget);
        expect(a.notes).toEqual(['dup 0 61', 'dup 0 73']);
        expect(a).toEqual(b);
      }
    }
  }, 120_000);
});

/**
 * The plumbing a canonical RESP transcoder plugs into (keyspaceRespStream's `visitor`), tried with a stand-in: a
 * visitor that gathers each key it is given into a record and writes commandsForKey's commands for it.
 */
class RecordRespVisitor implements KeyVisitor, SortedKeyWriter {
  private w: ChunkWriter | null = null;
  private sorted: ((sortKey: Uint8Array, w: ChunkWriter) => void) | null = null;
  private cur: { db: number; key: Buffer; type: KeyType; expireAt: number | null; items: Buffer[]; scores: number[] } | null = null;
  keys = 0;
  attach(w: ChunkWriter, sorted: (sortKey: Uint8Array, w: ChunkWriter) => void): void {
    this.w = w;
    this.sorted = sorted;
  }
  key(db: number, k: Uint8Array, ks: number, ke: number, type: KeyType, expireAt: number | null): void {
    this.cur = { db, key: Buffer.from(k.subarray(ks, ke)), type, expireAt, items: [], scores: [] };
  }
  item(b: Uint8Array, s: number, e: number): void {
    this.cur!.items.push(Buffer.from(b.subarray(s, e)));
  }
  score(score: number): void {
    this.cur!.scores.push(score);
  }
  done(): void {
    const c = this.cur!;
    this.cur = null;
    const it = c.items;
    const value =
      c.type === 'string' ? it[0]! : c.type === 'zset' ? it.map((m, i) => [m, c.scores[i]!]) : c.type === 'hash' ? it.filter((_, i) => i % 2 === 0).map((field, i) => ({ field, value: it[2 * i + 1]!, expireAt: null })) : it;
    const rec = canonicalizeRecord({ kind: 'key', db: c.db, key: c.key, type: c.type, expireAt: c.expireAt, value } as KeyRecord & KeyspaceRecord);
    const w = this.w!;
    for (const cmd of commandsForKey(rec)) {
      w.ascii(`*${cmd.length}\r\n`);
      for (const a of cmd) {
        w.ascii(`$${a.length}\r\n`);
        w.raw(a);
        w.ascii('\r\n');
      }
    }
    const sk = Buffer.alloc(5 + c.key.length);
    sk[0] = 1;
    sk.writeUInt32BE(c.db, 1);
    c.key.copy(sk, 5);
    this.keys++;
    this.sorted!(sk, w);
  }
  cancel(): void {
    this.cur = null;
  }
}

function canonicalResp(data: Uint8Array, size: number, budget: number | undefined, visitor: (KeyVisitor & SortedKeyWriter) | undefined): Promise<Out> {
  const notes: string[] = [];
  const read: RdbKeyspaceOptions = {
    functions: true,
    dropExpiredBefore: NOW,
    streamMeta: 'derived',
    streamPendingOrder: 'consumer',
    chunkElements: 1_000,
    keyVisitor: visitor,
    onDamage: (e) => void notes.push(`damage ${e.code} ${e.message}`),
  };
  const onDuplicateKey = (db: number, key: Uint8Array): void => void notes.push(`dup ${db} ${Buffer.from(key).toString('hex')}`);
  return collect(keyspaceRespStream(new RecordBatches(rdbKeyspaceRecordBatches(chunked(data, size), read)), { reuseChunks: true, memoryBudgetBytes: budget, onDuplicateKey, visitor }), notes);
}

describe('canonical RESP with a visitor (keyspaceRespStream `visitor`)', () => {
  it("a visitor's per-key commands sort in with the records' commands: what the record path writes", async () => {
    await fc.assert(
      fc.asyncProperty(
        keyspaceArb({ streams: { metadata: true, activeTime: false }, functions: true, maxKeys: 20 }),
        keyspaceArb({ maxKeys: 6 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat()), { maxLength: 6 }),
        writeOptionsArb,
        fc.integer({ min: 1, max: 4096 }),
        fc.constantFrom(1, undefined),
        async (records, extra, picks, options, size, budget) => {
          const all = withDuplicates(records, extra, picks);
          const recs = options.rdbVersion < 10 ? all.filter((r) => r.kind === 'key' && r.type !== 'stream') : all;
          const data = await rdbOf(recs, options);
          const v = new RecordRespVisitor();
          const a = await canonicalResp(data, size, budget, v);
          const b = await canonicalResp(data, size, budget, undefined);
          expect(a.notes).toEqual(b.notes);
          expect(a.bytes).toEqual(b.bytes);
          expect(a.notes.filter((n) => !n.startsWith('dup '))).toEqual([]);
          // not vacuous: the visitor took keys
          if (recs.some((r) => r.kind === 'key' && r.type === 'string' && (r.expireAt === null || r.expireAt > NOW))) expect(v.keys).toBeGreaterThan(0);
        },
      ),
      { numRuns: 25 },
    );
  }, 300_000);
});

describe('direct transcoder (dump, RESP, canonical order: RespKeyVisitor in canonical mode)', () => {
  it('writes what the record path writes, for random keyspaces of every encoding, keys twice and spilled runs included', async () => {
    await fc.assert(
      fc.asyncProperty(
        keyspaceArb({ streams: { metadata: true, activeTime: false }, functions: true, maxKeys: 25 }),
        keyspaceArb({ maxKeys: 6 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat()), { maxLength: 6 }),
        writeOptionsArb,
        fc.integer({ min: 1, max: 4096 }),
        // 1: a spill at every batch (many runs, a merge); undefined: all held
        fc.constantFrom(1, undefined),
        async (records, extra, picks, options, size, budget) => {
          const all = withDuplicates(records, extra, picks);
          const recs = options.rdbVersion < 10 ? all.filter((r) => r.kind === 'key' && r.type !== 'stream') : all;
          const data = await rdbOf(recs, options);
          const v = new RespKeyVisitor();
          const a = await canonicalResp(data, size, budget, v);
          const b = await canonicalResp(data, size, budget, undefined);
          expect(a.notes).toEqual(b.notes);
          expect(a.bytes).toEqual(b.bytes);
          // not vacuous: no damage, every duplicate reported, and the visitor took the keys it can
          expect(a.notes.filter((n) => !n.startsWith('dup '))).toEqual([]);
          const live = recs.filter((r) => r.kind === 'key' && (r.expireAt === null || r.expireAt > NOW)) as KeyRecord[];
          expect(a.notes.length).toBe(live.length - new Set(live.map((r) => `${r.db}:${Buffer.from(r.key).toString('hex')}`)).size);
          if (live.some((r) => r.type !== 'stream' && r.type !== 'module')) expect(v.keys).toBeGreaterThan(0);
          // what dumpRdb runs: the same bytes
          const notes: string[] = [];
          const onDamage = (e: Error): void => void notes.push(`damage ${(e as RedisPersistError).code} ${e.message}`);
          const onDuplicateKey = (db: number, key: Uint8Array): void => void notes.push(`dup ${db} ${Buffer.from(key).toString('hex')}`);
          const d = await collect(dumpRdb(chunked(data, size), { format: 'resp', now: NOW, reuseChunks: true, memoryBudgetBytes: budget, onDamage, onDuplicateKey }), notes);
          expect(d).toEqual(b);
        },
      ),
      { numRuns: 30 },
    );
  }, 300_000);

  it('sets, sorted sets and hashes of many elements in every encoding: elements sorted, commands of itemsPerCommand', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.uniqueArray(fc.oneof(fc.uint8Array({ maxLength: 6 }), fc.integer({ min: -1000, max: 1000 }).map((n) => Buffer.from(String(n)))), { minLength: 1, maxLength: 200, selector: (b) => Buffer.from(b).toString('hex') }).map((m) => ({ type: 'set' as const, value: m.map((x) => Buffer.from(x)) })),
            fc.uniqueArray(fc.tuple(fc.uint8Array({ maxLength: 5 }), fc.constantFrom(0, -0, 1, -1, 0.5, 1e9, -Infinity, Infinity, 3)), { minLength: 1, maxLength: 200, selector: ([m]) => Buffer.from(m).toString('hex') }).map((m) => ({ type: 'zset' as const, value: m.map(([x, sc]) => [Buffer.from(x), sc] as [Buffer, number]) })),
            fc.uniqueArray(fc.tuple(fc.uint8Array({ maxLength: 5 }), fc.uint8Array({ maxLength: 5 })), { minLength: 1, maxLength: 200, selector: ([f]) => Buffer.from(f).toString('hex') }).map((m) => ({ type: 'hash' as const, value: m.map(([f, x]) => ({ field: Buffer.from(f), value: Buffer.from(x), expireAt: null })) })),
          ),
          { minLength: 1, maxLength: 8 },
        ),
        writeOptionsArb,
        fc.integer({ min: 1, max: 4096 }),
        fc.constantFrom(1, undefined),
        async (vals, options, size, budget) => {
          const recs = vals.map((x, i) => ({ kind: 'key', db: i % 3, key: Buffer.from(`k${(i * 5) % 8}`), expireAt: i % 2 === 0 ? null : 4_000_000_000_000 + i, ...x }) as KeyspaceRecord);
          const data = await rdbOf(recs, { ...options, rdbVersion: Math.max(options.rdbVersion, 5) as RdbWriteOptions['rdbVersion'] });
          const v = new RespKeyVisitor();
          const a = await canonicalResp(data, size, budget, v);
          const b = await canonicalResp(data, size, budget, undefined);
          expect(a).toEqual(b);
          expect(v.keys).toBeGreaterThan(0);
        },
      ),
      { numRuns: 40 },
    );
  }, 300_000);

  it('damaged copies: the same commands out and the same damage reported', async () => {
    await fc.assert(
      fc.asyncProperty(
        keyspaceArb({ maxKeys: 12 }),
        writeOptionsArb,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.option(fc.nat(), { nil: undefined }),
        fc.integer({ min: 1, max: 512 }),
        fc.constantFrom(1, undefined),
        async (records, options, flips, cut, size, budget) => {
          const data = Buffer.from(await rdbOf(records, options));
          for (const [at, b] of flips) data[9 + (at % Math.max(1, data.length - 9))] = b;
          const bytes = cut === undefined ? data : data.subarray(0, cut % (data.length + 1));
          const a = await canonicalResp(bytes, size, budget, new RespKeyVisitor());
          const b = await canonicalResp(bytes, size, budget, undefined);
          expect(a.notes).toEqual(b.notes);
          expect(a.bytes).toEqual(b.bytes);
        },
      ),
      { numRuns: 60 },
    );
  }, 300_000);

  it('big keys in pieces between transcoded keys, a key both ways twice, in random chunk sizes', async () => {
    const big: KeyspaceRecord[] = [
      { kind: 'key', db: 0, key: Buffer.from('m'), expireAt: null, type: 'string', value: Buffer.alloc(1_500_000, 0x61) },
      { kind: 'key', db: 0, key: Buffer.from('s'), expireAt: null, type: 'set', value: Array.from({ length: 3000 }, (_, i) => Buffer.from(`m${(i * 7919) % 3000}`)) },
      { kind: 'key', db: 0, key: Buffer.from('a'), expireAt: null, type: 'string', value: Buffer.from('small') },
      { kind: 'key', db: 1, key: Buffer.from('z'), expireAt: null, type: 'zset', value: Array.from({ length: 2500 }, (_, i) => [Buffer.from(`e${i}`), (i * 31) % 97] as [Buffer, number]) },
      { kind: 'key', db: 0, key: Buffer.from('s'), expireAt: 5_000_000_000_000, type: 'list', value: [Buffer.from('x'), Buffer.from('y')] },
      { kind: 'key', db: 0, key: Buffer.from('a'), expireAt: null, type: 'hash', value: Array.from({ length: 1500 }, (_, i) => ({ field: Buffer.from(`f${1499 - i}`), value: Buffer.from(`v${i}`), expireAt: null })) },
      { kind: 'key', db: 1, key: Buffer.from('b'), expireAt: null, type: 'set', value: [Buffer.from('2'), Buffer.from('1')] },
      { kind: 'key', db: 2, key: Buffer.from('h'), expireAt: 6_000_000_000_000, type: 'hash', value: Array.from({ length: 10_000 }, (_, i) => ({ field: Buffer.from(`f${(i * 7) % 10_000}`), value: Buffer.alloc(8, 0x62), expireAt: null })) },
    ];
    const data = await rdbOf(big, { rdbVersion: 11, compress: false });
    for (const size of [977, 65536]) {
      for (const budget of [1, undefined]) {
        const v = new RespKeyVisitor();
        const a = await canonicalResp(data, size, budget, v);
        const b = await canonicalResp(data, size, budget, undefined);
        expect(a.notes).toEqual(['dup 0 61', 'dup 0 73']);
        expect(a).toEqual(b);
        expect(v.keys).toBeGreaterThan(0);
      }
    }
  }, 120_000);
});
