// The direct transcoder's RESP side (dumpRdb, RESP in file order: the parser walks keys in place for RespKeyVisitor)
// writes what the record path (respChunks over the parser's records) writes, byte for byte: random keyspaces
// written by our writer in every encoding, read in random chunk sizes (keys cut across reads), with and without
// reused chunks; damaged copies of them (the same bytes out, the same damage reported, or the same error with the
// same bytes handed out before it); big keyspaces cut short (the bytes handed out before the error are those of
// the record path's chunks); random bytes (typed errors only, never a crash).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RedisPersistError, formatDoubleShortest } from '@redis-persist/bytes';
import { RecordBatches, RespKeyVisitor, dumpRdb, keyspaceBytes } from '@redis-persist/converters';
import { rdbKeyspaceRecordBatches, type RdbKeyspaceOptions } from '@redis-persist/rdb';
import { writeRdb, type RdbWriteOptions } from '@redis-persist/rdb-writer';
import { keyspaceArb } from '../../rdb-writer/test/arbitraries.js';
import type { KeyspaceRecord } from '@redis-persist/keyspace';
import { scoreText } from '../src/commands.js';

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
    // a copy of each: with reuseChunks a chunk is only valid until the next is asked for
    for await (const c of chunks) parts.push(Buffer.from(c));
  } catch (e) {
    if (!(e instanceof RedisPersistError)) throw e;
    notes.push(`error ${e.code} ${e.message}`);
  }
  return { bytes: Buffer.concat(parts).toString('hex'), notes };
}

/** The transcoder: what `rdb-tool dump --format resp --order file` runs. */
function viaTranscoder(data: Uint8Array, size: number, reuseChunks: boolean, damage = true): Promise<Out> {
  const notes: string[] = [];
  const onDamage = damage ? (e: Error): void => void notes.push(`damage ${(e as RedisPersistError).code} ${e.message}`) : undefined;
  return collect(dumpRdb(chunked(data, size), { format: 'resp', order: 'file', now: NOW, reuseChunks, onDamage }), notes);
}

/** The record path, with the options dumpRdb reads with for RESP. */
function viaRecords(data: Uint8Array, size: number, damage = true): Promise<Out> {
  const notes: string[] = [];
  const read: RdbKeyspaceOptions = {
    functions: true,
    dropExpiredBefore: NOW,
    streamMeta: 'derived',
    streamPendingOrder: 'consumer',
    chunkElements: 1_000,
    ...(damage ? { onDamage: (e: RedisPersistError) => void notes.push(`damage ${e.code} ${e.message}`) } : {}),
  };
  return collect(keyspaceBytes(new RecordBatches(rdbKeyspaceRecordBatches(chunked(data, size), read)), { format: 'resp', order: 'file' }), notes);
}

const tiny = { hashMaxListpackEntries: 2, listMaxListpackSize: 2, listMaxZiplistEntries: 2, setMaxIntsetEntries: 2, setMaxListpackEntries: 2, zsetMaxListpackEntries: 2 };
const writeOptionsArb = fc.record({
  rdbVersion: fc.constantFrom(5, 7, 9, 10, 11, 12),
  compress: fc.boolean(),
  thresholds: fc.constantFrom(undefined, tiny),
});

/** A keyspace whose RESP is about `n` × 300 bytes: every common type, several dbs, some expiries. */
function bigKeyspace(n: number): KeyspaceRecord[] {
  const out: KeyspaceRecord[] = [];
  const t = (s: string): Uint8Array => Buffer.from(s, 'latin1');
  for (let i = 0; i < n; i++) {
    const db = (i >> 7) % 3;
    const key = t(`key:${i}`);
    const expireAt = i % 5 === 0 ? NOW + i : null;
    const m = 1 + (i % 90);
    switch (i % 6) {
      case 0:
        out.push({ kind: 'key', db, key, expireAt, type: 'string', value: t('v'.repeat(i % 300)) });
        break;
      case 1:
        out.push({ kind: 'key', db, key, expireAt, type: 'list', value: Array.from({ length: m }, (_, j) => t(j % 3 === 0 ? String(j * 1000 - 7) : `e${j}`)) });
        break;
      case 2:
        out.push({ kind: 'key', db, key, expireAt, type: 'set', value: Array.from({ length: m }, (_, j) => t(i % 4 === 2 ? String(j * 37) : `m${j}`)) });
        break;
      case 3:
        out.push({ kind: 'key', db, key, expireAt, type: 'zset', value: Array.from({ length: m }, (_, j): [Uint8Array, number] => [t(`z${j}`), j % 2 === 0 ? j : (j * 1e5) / 7]) });
        break;
      default:
        out.push({ kind: 'key', db, key, expireAt, type: 'hash', value: Array.from({ length: m }, (_, j) => ({ field: t(`f${j}`), value: t(`${i}:${j}`), expireAt: null })) });
    }
  }
  return out;
}

describe('direct transcoder (dump, RESP, file order)', () => {
  it('writes what the record path writes, for random keyspaces read in random chunk sizes', async () => {
    await fc.assert(
      fc.asyncProperty(
        keyspaceArb({ streams: { metadata: true, activeTime: false }, functions: true, maxKeys: 25 }),
        writeOptionsArb,
        fc.integer({ min: 1, max: 4096 }),
        fc.boolean(),
        async (records, options, size, reuse) => {
          // streams (with their v2 metadata) and functions: RDB 10+
          const recs = options.rdbVersion < 10 ? records.filter((r) => r.kind === 'key' && r.type !== 'stream') : records;
          const data = await rdbOf(recs, options);
          const a = await viaTranscoder(data, size, reuse);
          const b = await viaRecords(data, size);
          expect(a.notes).toEqual(b.notes);
          expect(a.bytes).toEqual(b.bytes);
        },
      ),
      { numRuns: 40 },
    );
  }, 300_000);

  it('damaged copies: the same bytes out and the same damage or error reported', async () => {
    await fc.assert(
      fc.asyncProperty(
        keyspaceArb({ maxKeys: 12 }),
        writeOptionsArb,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.option(fc.nat(), { nil: undefined }),
        fc.integer({ min: 1, max: 512 }),
        fc.boolean(),
        async (records, options, flips, cut, size, damage) => {
          const data = Buffer.from(await rdbOf(records, options));
          for (const [at, b] of flips) data[9 + (at % Math.max(1, data.length - 9))] = b;
          const bytes = cut === undefined ? data : data.subarray(0, cut % (data.length + 1));
          const a = await viaTranscoder(bytes, size, damage, damage);
          const b = await viaRecords(bytes, size, damage);
          expect(a.notes).toEqual(b.notes);
          expect(a.bytes).toEqual(b.bytes);
        },
      ),
      { numRuns: 80 },
    );
  }, 300_000);

  it('a big keyspace cut short: the bytes handed out before the error are the record path’s', async () => {
    const data = await rdbOf(bigKeyspace(6000), { rdbVersion: 11, compress: false });
    const whole = await viaRecords(data, 65536);
    // not vacuous: several of respChunks' 256 KiB chunks, and the transcoder writes the same
    expect(whole.bytes.length / 2).toBeGreaterThan(1 << 20);
    expect(await viaTranscoder(data, 65536, true)).toEqual(whole);
    for (const frac of [0.13, 0.5, 0.77, 0.999]) {
      // cut short there, or a byte there overwritten (damage found inside what the parser holds)
      const cut = data.subarray(0, Math.floor(data.length * frac));
      const bad = Buffer.from(data);
      bad[Math.floor(data.length * frac)] = 0xff;
      for (const [bytes, size] of [[cut, 4096], [cut, 65536], [bad, 65536], [bad, 1 << 20]] as const) {
        const b = await viaRecords(bytes, size, false);
        expect(b.notes.length).toBe(1);
        const a = await viaTranscoder(bytes, size, size === 4096, false);
        expect(a.notes).toEqual(b.notes);
        expect(a.bytes).toEqual(b.bytes);
      }
    }
  }, 120_000);

  it('random bytes after a valid header: typed errors only', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), fc.integer({ min: 1, max: 64 }), async (tail, size) => {
        const data = Buffer.concat([Buffer.from('REDIS0011'), tail]);
        const a = await viaTranscoder(data, size, true);
        const b = await viaRecords(data, size);
        // (a non-typed error fails collect() itself)
        expect(a).toEqual(b);
      }),
      { numRuns: 80 },
    );
  });

  it('scoreText is formatDoubleShortest (the plain and `e` forms, every magnitude)', () => {
    const scaled = fc.tuple(fc.integer({ min: -1e7, max: 1e7 }), fc.integer({ min: 0, max: 12 }), fc.integer({ min: -25, max: 25 })).map(([m, d, e]) => (m / 10 ** d) * 10 ** e);
    fc.assert(
      fc.property(fc.oneof(fc.double(), scaled, fc.constantFrom(1e-6, 9.99e-7, 1e21, 123456.7, 1234.5678901, 0.0012345678, -0, 0)), (x) => {
        expect(scoreText(x)).toBe(formatDoubleShortest(x));
      }),
      { numRuns: 20_000 },
    );
  });

  it('refuses a bad itemsPerCommand', () => {
    expect(() => new RespKeyVisitor({ itemsPerCommand: 0 })).toThrow(RangeError);
  });
});
