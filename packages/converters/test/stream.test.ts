import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalizeRecord, compareKeyspaceRecords, type KeyspacePiece, type KeyspaceRecord } from '@redis-persist/keyspace';
import { keyspaceJsonlChunks } from '@redis-persist/jsonl';
import { keyspaceJsonlStream } from '@redis-persist/converters';
import { recordArb, u8 } from '../../keyspace/test/arbitraries.js';

async function bytesOf(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of it) parts.push(Buffer.from(c)); // copied: a chunk may be reused after the next is asked for
  return Buffer.concat(parts);
}

async function* asAsync<T>(items: Iterable<T>): AsyncGenerator<T> {
  yield* items;
}

const uniqueRecords = (n: number, seed: number): KeyspaceRecord[] =>
  fc.sample(
    fc.uniqueArray(recordArb(), {
      minLength: n,
      maxLength: n,
      selector: (r) => (r.kind === 'function' ? `f:${r.library}` : `k:${r.db}:${Buffer.from(r.key).toString('hex')}`),
    }),
    { numRuns: 1, seed },
  )[0]!;

/** Splits each list/set/zset/hash value into pieces of `size` elements (all but the last marked partial). */
function* inPieces(recs: KeyspaceRecord[], size: number): Generator<KeyspacePiece> {
  for (const r of recs) {
    if (r.kind !== 'key' || !(r.type === 'list' || r.type === 'set' || r.type === 'zset' || r.type === 'hash') || r.value.length <= size) {
      yield r;
      continue;
    }
    const all = r.value as unknown[];
    for (let i = 0; i < all.length; i += size) {
      const piece = { ...r, value: all.slice(i, i + size) } as KeyspacePiece;
      if (i + size < all.length) piece.partial = true;
      yield piece;
    }
  }
}

describe('keyspaceJsonlStream', () => {
  it('canonical order: equals sortKeyspace + keyspaceJsonlChunks, in memory, with many runs and with pieces; no temp files left', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ks-stream-test-'));
    try {
      for (const seed of [1, 2, 3]) {
        const recs = uniqueRecords(150, seed);
        const want = await bytesOf(keyspaceJsonlChunks(recs.map((r) => canonicalizeRecord(r)).sort(compareKeyspaceRecords)));
        expect(await bytesOf(keyspaceJsonlStream(recs))).toEqual(want);
        // a budget below one slab spills after every line: >48 runs are merged in rounds
        expect(await bytesOf(keyspaceJsonlStream(asAsync(recs), { memoryBudgetBytes: 100, tmpDir: tmp }))).toEqual(want);
        expect(await bytesOf(keyspaceJsonlStream(inPieces(recs, 2), { memoryBudgetBytes: 100, tmpDir: tmp }))).toEqual(want);
        expect(await bytesOf(keyspaceJsonlStream(inPieces(recs, 3), { tmpDir: tmp }))).toEqual(want);
        expect(readdirSync(tmp)).toEqual([]);
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('file order: the records in the order given, huge collections (in pieces) with their elements in canonical order', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ks-stream-test-'));
    try {
      for (const seed of [4, 5]) {
        const recs = uniqueRecords(120, seed);
        const want = await bytesOf(keyspaceJsonlChunks(recs));
        expect(await bytesOf(keyspaceJsonlStream(recs, { order: 'file' }))).toEqual(want);
        expect(await bytesOf(keyspaceJsonlStream(inPieces(recs, 2), { order: 'file', memoryBudgetBytes: 100, tmpDir: tmp }))).toEqual(want);
        expect(readdirSync(tmp)).toEqual([]);
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('zset elements in pieces sort by score (negative, zero, -0, infinities) then member', async () => {
    const value: [Uint8Array, number][] = [
      [u8('b'), 1],
      [u8('a'), -0],
      [u8('z'), -Infinity],
      [u8('c'), 0],
      [u8('m'), Infinity],
      [u8('n'), -2.5],
      [u8('o'), -1e-300],
      [u8('a2'), 1],
    ];
    const rec: KeyspaceRecord = { kind: 'key', db: 0, key: u8('z'), type: 'zset', expireAt: null, value };
    const want = await bytesOf(keyspaceJsonlChunks([rec]));
    for (const order of ['canonical', 'file'] as const) {
      expect(await bytesOf(keyspaceJsonlStream(inPieces([rec], 3), { order, memoryBudgetBytes: 10 }))).toEqual(want);
    }
  });

  it('big sets, zsets and hashes in pieces: sorted in memory (merge sort) and through spilled runs alike', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ks-stream-test-'));
    try {
      const memberArb = fc.uint8Array({ minLength: 0, maxLength: 12 }).map((b) => (b.length % 3 === 0 ? Buffer.from(`m${b.length}:${Buffer.from(b).toString('hex')}`) : b));
      const scoreArb = fc.oneof(fc.double({ noNaN: true }), fc.integer({ min: -5, max: 5 }), fc.constantFrom(0, -0, Infinity, -Infinity));
      const [members, scores] = fc.sample(
        fc.tuple(fc.uniqueArray(memberArb, { minLength: 800, maxLength: 800, selector: (b) => Buffer.from(b).toString('hex') }), fc.array(scoreArb, { minLength: 800, maxLength: 800 })),
        { numRuns: 1, seed: 7 },
      )[0]!;
      const recs: KeyspaceRecord[] = [
        { kind: 'key', db: 1, key: u8('set'), type: 'set', expireAt: null, value: members },
        { kind: 'key', db: 1, key: u8('zset'), type: 'zset', expireAt: 5, value: members.map((m, i) => [m, scores[i]!] as [Uint8Array, number]) },
        { kind: 'key', db: 1, key: u8('hash'), type: 'hash', expireAt: null, value: members.map((m, i) => ({ field: m, value: members[(i * 7) % members.length]!, expireAt: i % 5 === 0 ? 1e12 + i : null })) },
        { kind: 'key', db: 0, key: u8('str'), type: 'string', expireAt: null, value: u8('v') },
      ];
      const canonical = await bytesOf(keyspaceJsonlChunks(recs.map((r) => canonicalizeRecord(r)).sort(compareKeyspaceRecords)));
      const fileOrder = await bytesOf(keyspaceJsonlChunks(recs));
      for (const size of [300, 800]) {
        for (const budget of [undefined, 20_000]) {
          const opts = { memoryBudgetBytes: budget, tmpDir: tmp };
          expect(await bytesOf(keyspaceJsonlStream(inPieces(recs, size), opts))).toEqual(canonical);
          expect(await bytesOf(keyspaceJsonlStream(inPieces(recs, size), { ...opts, order: 'file' }))).toEqual(fileOrder);
        }
      }
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('a collection whose pieces are all empty (expired hash fields) writes nothing', async () => {
    const pieces: KeyspacePiece[] = [
      { kind: 'key', db: 0, key: u8('h'), type: 'hash', expireAt: null, value: [], partial: true },
      { kind: 'key', db: 0, key: u8('h'), type: 'hash', expireAt: null, value: [] },
      { kind: 'key', db: 0, key: u8('s'), type: 'string', expireAt: null, value: u8('v') },
    ];
    const want = '{"db":0,"key":"s","type":"string","expireAt":null,"value":"v"}\n';
    for (const order of ['canonical', 'file'] as const) expect((await bytesOf(keyspaceJsonlStream(pieces, { order }))).toString()).toBe(want);
  });

  it('reports duplicated keys in canonical order, and cleans up when the consumer stops or the source fails', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ks-stream-test-'));
    try {
      const recs: KeyspaceRecord[] = Array.from({ length: 200 }, (_, i) => ({
        kind: 'key',
        db: i % 3,
        key: u8(`k${(i * 7919) % 200}`),
        type: 'string',
        expireAt: null,
        value: u8('v'),
      }));
      const dups: string[] = [];
      const withDup = [...recs, { ...recs[5]! }];
      for (const budget of [100, undefined]) {
        dups.length = 0;
        await bytesOf(keyspaceJsonlStream(withDup, { memoryBudgetBytes: budget, tmpDir: tmp, onDuplicateKey: (db, key) => dups.push(`${db}:${Buffer.from(key).toString()}`) }));
        expect(dups).toEqual([`${recs[5]!.kind === 'key' ? recs[5]!.db : ''}:k${(5 * 7919) % 200}`]);
      }
      for await (const _ of keyspaceJsonlStream(recs, { memoryBudgetBytes: 100, tmpDir: tmp })) break;
      expect(readdirSync(tmp)).toEqual([]);
      async function* failing(): AsyncGenerator<KeyspaceRecord> {
        yield* recs;
        throw new Error('source broke');
      }
      await expect(bytesOf(keyspaceJsonlStream(failing(), { memoryBudgetBytes: 100, tmpDir: tmp }))).rejects.toThrow('source broke');
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
