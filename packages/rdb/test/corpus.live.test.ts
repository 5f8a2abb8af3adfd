// Every RDB of ../shared/corpus: dumps exactly what the loading server reported, and `checkRdb` agrees with
// redis-check-rdb 7.0.15 on every file that server version can judge (RDB <= 10).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkRdb, readRdb, RdbError } from '@redis-persist/rdb';
import { corpusDir, redisToolAvailable } from '@redis-persist/testkit';
import { canonicalDump, stripEncoding, walk } from './helpers.js';
import { redisCheckRdb } from './reference.live.js';

const corpus = corpusDir();
if (!corpus) console.warn('[rdb] ../shared/corpus is absent: skipping the corpus tests');
const hasCheckRdb = redisToolAvailable('redis-check-rdb');
if (!hasCheckRdb) console.warn('[rdb] redis-check-rdb is not on PATH: skipping verdict comparisons');

const rdbFiles = corpus ? walk(join(corpus, 'rdb')).filter((f) => f.endsWith('.rdb')) : [];
const peerFiles = corpus ? walk(join(corpus, 'peers')).filter((f) => f.endsWith('.rdb')) : [];

/** The expected file we match: where a server other than 7.0.15 made the main one (6.x: no derived stream fields),
 * the 7.0.15 reload beside it, because we report streams as Redis 7.0.15 derives them. */
function expectedFor(f: string): string | null {
  const alt = f.replace(/\.rdb$/, '.expected.redis-7.0.15.jsonl');
  if (existsSync(alt)) return alt;
  const main = f.replace(/\.rdb$/, '.expected.jsonl');
  return existsSync(main) ? main : null;
}

describe.skipIf(!corpus)('corpus/rdb: every file dumps exactly its expected keyspace', () => {
  it('has the files', () => expect(rdbFiles.length).toBeGreaterThanOrEqual(58));
  it.each(rdbFiles.map((f) => [f.slice(corpus!.length + 1), f]))('%s', async (_name, f) => {
    const exp = expectedFor(f);
    expect(exp).not.toBeNull();
    expect(await canonicalDump(f)).toBe(stripEncoding(readFileSync(exp!, 'utf8')));
    const report = await checkRdb(f);
    // hfe:lapsedall-style keys (all fields lapsed) are still in the file; empty keys exist only in peers
    expect(report.error).toBeUndefined();
    expect(report.ok).toBe(true);
  });
});

describe.skipIf(!corpus)('corpus/peers: each file loads as its server did, or is rejected with an RdbError', () => {
  it.each(peerFiles.map((f) => [f.slice(corpus!.length + 1), f]))('%s', async (_name, f) => {
    const exp = expectedFor(f);
    let dumped: string | null = null;
    try {
      dumped = await canonicalDump(f);
    } catch (err) {
      expect(err).toBeInstanceOf(RdbError);
      expect((err as RdbError).message).toContain(f);
    }
    if (exp && dumped !== null) expect(dumped).toBe(stripEncoding(readFileSync(exp, 'utf8')));
    // the structural pass never crashes either
    const report = await checkRdb(f);
    if (!report.ok) expect(report.error!.message.length).toBeGreaterThan(0);
  });

  it('rejects what no server loads: bad CRC (both values), unknown version, unknown type, pre-release module', async () => {
    const p = (n: string) => join(corpus!, 'peers', n);
    const crc = await checkRdb(p('librdb/invalid_chksum_v8.rdb'));
    expect(crc.ok).toBe(false);
    expect(crc.error!.code).toBe('checksum');
    expect(crc.error!.message).toMatch(/file says b477e446e98e5402, content gives a609bb6465990fe1/);
    expect(crc.storedChecksum).toBe('b477e446e98e5402');
    expect(crc.computedChecksum).toBe('a609bb6465990fe1');
    expect((await checkRdb(p('librdb/future_v19.rdb'))).error!.code).toBe('unsupported');
    expect((await checkRdb(p('librdb/redis_ent_opcode_ram_lru.rdb'))).error!.code).toBe('corrupt');
    expect((await checkRdb(p('redis-replicator/module.rdb'))).error!.code).toBe('unsupported');
    expect((await checkRdb(p('redis/corrupt_ziplist.rdb'))).error!.message).toMatch(/ziplist/);
  });
});

describe.skipIf(!corpus || !hasCheckRdb)('checkRdb reaches the verdict of redis-check-rdb 7.0.15 (RDB <= 10)', () => {
  const judged = [...rdbFiles, ...peerFiles].filter((f) => {
    const v = Number(readFileSync(f).subarray(5, 9).toString('latin1'));
    return readFileSync(f).subarray(0, 5).toString('latin1') === 'REDIS' && v <= 10;
  });
  it(`on ${judged.length} corpus files`, async () => {
    const mismatches: string[] = [];
    for (const f of judged) {
      const [theirs, ours] = await Promise.all([redisCheckRdb(f), checkRdb(f)]);
      if (theirs.ok !== ours.ok) mismatches.push(`${f}: redis-check-rdb ${theirs.ok ? 'OK' : 'error'}, ours ${ours.ok ? 'OK' : ours.error?.message}`);
    }
    expect(mismatches).toEqual([]);
    expect(judged.length).toBeGreaterThan(100);
  });
});

describe.skipIf(!corpus)('records', () => {
  it('reports header, aux, dbs, functions and end with offsets', async () => {
    const recs = [];
    for await (const r of readRdb(join(corpus!, 'rdb/redis-7.0.15/functions.rdb'), { values: false })) recs.push(r);
    expect(recs[0]).toMatchObject({ kind: 'header', version: 10, magic: 'REDIS', offset: 0 });
    expect(recs.some((r) => r.kind === 'aux' && Buffer.from(r.key).toString() === 'redis-ver')).toBe(true);
    expect(recs.some((r) => r.kind === 'function')).toBe(true);
    const end = recs.at(-1)!;
    expect(end).toMatchObject({ kind: 'end', checksum: 'ok' });
    if (end.kind === 'end') expect(end.endOffset).toBe(readFileSync(join(corpus!, 'rdb/redis-7.0.15/functions.rdb')).length);
  });
});

describe.skipIf(!corpus)('AOF RDB preambles (corpus/aof-repair): the verdict redis-check-aof 7.0.15 reached on them', () => {
  const cases: [string, boolean, string][] = [
    ['preamble-valid/input/appendonly.aof', true, 'RDB looks OK, then a RESP tail'],
    ['preamble-trunc-tail/input/appendonly.aof', true, 'RDB looks OK (the tail is the AOF checker\'s business)'],
    ['preamble-corrupt-rdb/input/appendonly.aof', false, 'RDB CRC error'],
    ['preamble-trunc-rdb/input/appendonly.aof', false, 'Unexpected EOF reading RDB file'],
    ['multipart-base-rdb-corrupt/input/appendonlydir/appendonly.aof.1.base.rdb', false, 'RDB CRC error'],
    ['multipart-valid/input/appendonlydir/appendonly.aof.1.base.rdb', true, 'RDB looks OK'],
  ];
  it.each(cases)('%s: ok=%s (%s)', async (path, ok) => {
    const r = await checkRdb(join(corpus!, 'aof-repair', path), { stopAtEnd: true });
    expect(r.ok).toBe(ok);
    if (ok) expect(r.endOffset).toBe(4349);
    else expect(['checksum', 'truncated']).toContain(r.error!.code);
    if (path.includes('trunc-rdb')) expect(r.error!.message).toMatch(/file ends at offset 2174/);
  });
  it('stopAtEnd stops right after the checksum; without it trailing bytes are reported, not an error', async () => {
    const p = join(corpus!, 'aof-repair/preamble-valid/input/appendonly.aof');
    const recs = [];
    for await (const r of readRdb(p, { stopAtEnd: true, values: false })) recs.push(r);
    expect(recs.at(-1)).toMatchObject({ kind: 'end', checksum: 'ok', endOffset: 4349 });
    const r = await checkRdb(p);
    expect(r.ok).toBe(true);
    expect(r.trailingBytes).toBe(readFileSync(p).length - 4349);
  });
});

describe.skipIf(!corpus)('Valkey 9 (VALKEY080 magic, HASH_2 with field TTLs after the value, -1 = none)', () => {
  it('reads peers/hdt3213-rdb/valkey_hash2_with_hfe.rdb', async () => {
    const recs = [];
    for await (const r of readRdb(join(corpus!, 'peers/hdt3213-rdb/valkey_hash2_with_hfe.rdb'))) recs.push(r);
    expect(recs[0]).toMatchObject({ kind: 'header', magic: 'VALKEY', version: 80 });
    const key = recs.find((r) => r.kind === 'key');
    expect(key?.kind === 'key' && key.value?.type === 'hash' && key.value.value.map((f) => [Buffer.from(f.field).toString(), f.expireAt])).toEqual([
      ['F1', 2715785640000],
      ['F2', 2400425640000],
      ['F3', null],
    ]);
    expect(recs.at(-1)).toMatchObject({ kind: 'end', checksum: 'ok' });
  });
});
