// The direct transcoder (dumpRdb, JSON Lines in file order: the parser walks keys in place for JsonlKeyVisitor)
// writes what the record path writes, byte for byte: random keyspaces written by our writer in every encoding,
// read in random chunk sizes (keys cut across reads), damaged copies of them (the same records out, the same
// damage reported), and random bytes (typed errors only, never a crash).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RedisPersistError } from '@redis-persist/bytes';
import { RecordBatches, dumpRdb, keyspaceBytes } from '@redis-persist/converters';
import { rdbKeyspaceRecordBatches, type RdbKeyspaceOptions } from '@redis-persist/rdb';
import { writeRdb, type RdbWriteOptions } from '@redis-persist/rdb-writer';
import { keyspaceArb } from '../../rdb-writer/test/arbitraries.js';
import type { KeyspaceRecord } from '@redis-persist/keyspace';

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
