import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { KeyspaceRecord } from '@redis-persist/keyspace';
import { RdbWriterError, decodeDumpPayload, encodeDumpPayload, writeRdb, writeRdbFile } from '@redis-persist/rdb-writer';

const b = (s: string) => Buffer.from(s);
const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('streaming and atomic output', () => {
  it('writeRdb pulls records lazily and yields chunks before the source ends (no whole-file buffer)', async () => {
    let produced = 0;
    let firstChunkAt = -1;
    async function* records(): AsyncGenerator<KeyspaceRecord> {
      for (let i = 0; i < 20000; i++) {
        produced++;
        yield { kind: 'key', db: 0, key: b(`key:${i}`), type: 'string', expireAt: null, value: b(`value number ${i} `.repeat(3)) };
      }
    }
    let chunks = 0;
    let maxChunk = 0;
    for await (const c of writeRdb(records())) {
      if (firstChunkAt < 0) firstChunkAt = produced;
      chunks++;
      maxChunk = Math.max(maxChunk, c.length);
    }
    expect(firstChunkAt).toBeLessThan(5000);
    expect(chunks).toBeGreaterThan(5);
    expect(maxChunk).toBeLessThan(256 * 1024);
  });

  it('writeRdbFile: a refused key leaves no output and no temp file; an existing target stays untouched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rdbw-io-'));
    temps.push(dir);
    const target = join(dir, 'out.rdb');
    writeFileSync(target, 'old content');
    const recs: KeyspaceRecord[] = [
      { kind: 'key', db: 0, key: b('a'), type: 'string', expireAt: null, value: b('x') },
      { kind: 'key', db: 3, key: b('s'), type: 'stream', expireAt: null, value: { entries: [], length: 0, lastId: '1-0', firstId: null, maxDeletedId: '0-0', entriesAdded: 0, groups: [] } },
    ];
    // an existing target is refused unless forced (fsio's output policy)
    expect(await writeRdbFile(target, recs.slice(0, 1)).catch((e: unknown) => (e as { code?: string }).code)).toBe('output-exists');
    const err = await writeRdbFile(target, recs, { rdbVersion: 8, file: { force: true } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RdbWriterError);
    expect((err as RdbWriterError).file).toBe(target);
    expect((err as RdbWriterError).message).toMatch(/out\.rdb: db 3 key "s": streams need RDB 9/);
    expect(readdirSync(dir)).toEqual(['out.rdb']);
    expect(readFileSync(target, 'utf8')).toBe('old content');
    const ok = await writeRdbFile(target, recs.slice(0, 1), { rdbVersion: 8, file: { force: true } });
    expect(ok.replacedBackup).toBe(`${target}.bak`);
    expect(readFileSync(`${target}.bak`, 'utf8')).toBe('old content');
    expect(ok).toMatchObject({ keys: 1, functions: 0, dropped: [], rdbVersion: 8 });
    expect(readFileSync(target).subarray(0, 9).toString()).toBe('REDIS0008');
    expect(readFileSync(target).length).toBe(ok.bytes);
    expect(existsSync(target)).toBe(true);
  });
});

describe('decodeDumpPayload never crashes on random bytes', () => {
  it('only typed errors (RdbWriterError for the envelope, RdbError for the object)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          decodeDumpPayload(bytes);
        } catch (e) {
          expect((e as Error).name).toMatch(/^(RdbWriter|Rdb)Error$/);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('valid envelope, random object bytes: only typed errors', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 30 }), fc.uint8Array({ maxLength: 48 }), (type, body) => {
        // Re-wrap random bytes with a correct footer so the object decoder itself is exercised.
        const good = encodeDumpPayload({ type: 'string', value: body });
        const p = new Uint8Array(good.length);
        p.set(good);
        p[0] = type;
        const reframed = encodeWith(p);
        try {
          decodeDumpPayload(reframed);
        } catch (e) {
          expect((e as Error).name).toMatch(/^(RdbWriter|Rdb)Error$/);
        }
      }),
      { numRuns: 500 },
    );
  });
});

import { Crc64 } from '@redis-persist/bytes';
function encodeWith(p: Uint8Array): Uint8Array {
  const out = new Uint8Array(p);
  new Crc64().update(out, 0, out.length - 8).writeLE(out, out.length - 8);
  return out;
}
