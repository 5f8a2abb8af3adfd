// A string handed over in pieces (`stringLength` on every piece: the RDB parser's stringPieceBytes) gives exactly
// the bytes of the same string whole: LZF-compressed as it comes when that pays, raw otherwise (random bytes), with
// compression off, its body waiting in temp files past pieceMemoryBytes; one whose last piece never comes is left out.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KeyspacePiece, KeyspaceRecord } from '@redis-persist/keyspace';
import { writeRdb, type RdbWriteOptions } from '@redis-persist/rdb-writer';
import { seededRandom } from '@redis-persist/testkit';

type KeyRecord = Extract<KeyspaceRecord, { kind: 'key' }>;
const MiB = 1 << 20;

async function collect(records: KeyspacePiece[], options: RdbWriteOptions = {}): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of writeRdb(records, { ...((options.rdbVersion ?? 10) >= 7 ? { aux: { ctime: '0' } } : {}), ...options })) parts.push(c);
  return Buffer.concat(parts);
}

function str(name: string, value: Uint8Array, db = 0, expireAt: number | null = null): KeyRecord & { type: 'string' } {
  return { kind: 'key', db, key: Buffer.from(name), expireAt, type: 'string', value };
}

/** The string's pieces of `size` bytes, each with the whole length. */
function cut(rec: KeyRecord & { type: 'string' }, size: number): KeyspacePiece[] {
  const out: KeyspacePiece[] = [];
  const v = rec.value;
  for (let i = 0; i < v.length; i += size) {
    const piece: KeyspacePiece = { ...rec, value: v.subarray(i, i + size), stringLength: v.length };
    if (i + size < v.length) piece.partial = true;
    out.push(piece);
  }
  return out;
}

describe('a string in pieces', () => {
  const r = seededRandom(42);
  const random = Buffer.from(Array.from({ length: 2 * MiB + 7 }, () => Math.floor(r() * 256)));
  const text = Buffer.from('to be or not to be, that is the question; '.repeat(60_000));
  const mixed = Buffer.concat([text.subarray(0, 300_000), random.subarray(0, 700_000), text.subarray(5, 900_000)]);
  const recs = [str('small', Buffer.from('v')), str('random', random), str('text', text, 0, 4102444800000), str('mixed', mixed, 3), str('tail', Buffer.from('end'), 3)];

  for (const options of [{}, { compress: false }, { rdbVersion: 9 }, { rdbVersion: 6 }] as RdbWriteOptions[]) {
    it(`gives the bytes of the whole strings (${JSON.stringify(options)})`, async () => {
      const ref = await collect(recs, options);
      for (const size of [1000, 65_536, MiB]) {
        const pieces = recs.flatMap((rec) => (rec.value.length > 100 ? cut(rec, size) : [rec]));
        expect(pieces.some((p) => p.partial)).toBe(true);
        expect((await collect(pieces, options)).equals(ref), `pieces of ${size}`).toBe(true);
      }
    });
  }

  it('waits in temp files past pieceMemoryBytes, removed afterwards', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'string-pieces-'));
    try {
      const ref = await collect(recs);
      let sawFile = false;
      const parts: Uint8Array[] = [];
      for await (const c of writeRdb(recs.flatMap((rec) => (rec.value.length > 100 ? cut(rec, 50_000) : [rec])), { aux: { ctime: '0' }, pieceMemoryBytes: 100_000, tmpDir: dir })) {
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

  it('is left out when its last piece never comes, refused when its pieces hold more than its length', async () => {
    const pieces = cut(recs[2] as KeyRecord & { type: 'string' }, 100_000).slice(0, 4);
    expect((await collect([recs[0]!, ...pieces, recs[4]!])).equals(await collect([recs[0]!, recs[4]!]))).toBe(true);
    const lying = cut(recs[2] as KeyRecord & { type: 'string' }, 100_000).map((p) => ({ ...p, stringLength: 1000 }));
    await expect(collect(lying)).rejects.toThrow(/string of 1000 bytes/);
  });
});
