// One RDB -> RESP path: `rdb-tool dump --format resp`, `rdb-tool convert x.rdb out.aof` and `rdb-tool to-aof`
// write through keyspaceBytes; what each wrote before it (convert: respChunks(sortKeyspace(records)); to-aof:
// respChunks(records)) is what they write now, byte for byte, on every corpus RDB.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sortKeyspace } from '@redis-persist/extsort';
import { rdbKeyspaceRecords } from '@redis-persist/rdb';
import { convertRecords, dumpRdb, keyspaceBytes, respChunks } from '@redis-persist/converters';

const corpus = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../shared/corpus/rdb');
const hasCorpus = existsSync(corpus);
if (!hasCorpus) console.warn('[converters] ../shared/corpus not found next to the repo: the RESP path tests are skipped');

function rdbFiles(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? rdbFiles(p) : p.endsWith('.rdb') ? [p] : [];
    })
    .sort();
}

async function bytesOf(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of chunks) out.push(Buffer.from(c));
  return Buffer.concat(out);
}

describe.skipIf(!hasCorpus)('one RDB -> RESP path', () => {
  it('convert (canonical), to-aof and dump (file order, both kinds of reading) write what they wrote before', async () => {
    const files = rdbFiles(corpus);
    expect(files.length).toBeGreaterThan(0);
    const now = Date.now();
    for (const f of files) {
      let before: Buffer;
      try {
        before = await bytesOf(respChunks(sortKeyspace(rdbKeyspaceRecords(f))));
      } catch {
        continue; // a file the parser refuses: no output to compare
      }
      const records = convertRecords({ format: 'rdb', source: f, file: f }, 'resp');
      expect((await bytesOf(keyspaceBytes(records, { format: 'resp' }))).equals(before), f).toBe(true);
      // to-aof: the RDB's own order, expired keys left out; dump --order file reads huge keys in pieces
      const toAof = await bytesOf(respChunks(rdbKeyspaceRecords(f, { dropExpiredBefore: now })));
      expect((await bytesOf(keyspaceBytes(rdbKeyspaceRecords(f, { dropExpiredBefore: now }), { format: 'resp', order: 'file' }))).equals(toAof), f).toBe(true);
      expect((await bytesOf(dumpRdb(f, { format: 'resp', order: 'file', now }))).equals(toAof), f).toBe(true);
      // dump --format resp in canonical order is convert's output without the expired keys
      const canonicalLive = await bytesOf(respChunks(sortKeyspace(rdbKeyspaceRecords(f, { dropExpiredBefore: now }))));
      expect((await bytesOf(dumpRdb(f, { format: 'resp', now }))).equals(canonicalLive), f).toBe(true);
    }
  }, 600_000);
});
