// Every corpus RDB file: parse → write (RDB 10, dropping what RDB 10 cannot hold) → load in redis-server
// 7.0.15 → equals the file's expected keyspace (minus the dropped keys). Files with data newer than RDB 10 are
// also written as their own version and checked through our parser against the expected keyspace.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sameKeyspace, type KeyspaceRecord } from '@redis-persist/keyspace';
import { readKeyspaceJsonl } from '@redis-persist/jsonl';
import { rdbKeyspaceRecords } from '@redis-persist/rdb';
import { corpusDir, dumpLiveKeyspace, redisAvailable, startRedis, type RedisServer } from '@redis-persist/testkit';
import { writeRdb, type DropInfo, type RdbWriteOptions } from '@redis-persist/rdb-writer';

const corpus = corpusDir();
const hasRedis = redisAvailable();
if (!corpus) console.warn('[rdb-writer] ../shared/corpus is absent: skipping the corpus conversions');
if (!hasRedis) console.warn('[rdb-writer] redis-server is not on PATH: skipping the corpus loads');

interface Entry {
  path: string;
  kind: string;
  rdbVersion: number;
  expected: string;
  expectedByRedis70?: string;
}

const entries: Entry[] = corpus
  ? (JSON.parse(readFileSync(join(corpus, 'index.json'), 'utf8')) as Entry[]).filter((e) => e.kind === 'rdb' && e.path.startsWith('rdb/'))
  : [];

async function* source(data: Uint8Array): AsyncGenerator<Uint8Array> {
  yield data;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function write(records: KeyspaceRecord[], options: RdbWriteOptions): Promise<{ rdb: Buffer; dropped: DropInfo[] }> {
  const dropped: DropInfo[] = [];
  const parts = await collect(writeRdb(records, { ...options, dropUnsupported: true, onDrop: (d) => dropped.push(d) }));
  return { rdb: Buffer.concat(parts), dropped };
}

const keyId = (db: number, key: Uint8Array) => `${db}:${Buffer.from(key).toString('latin1')}`;

/** Expected records minus dropped keys/functions; 7.0 has no consumer active-time. */
function expectedAfter(expected: KeyspaceRecord[], dropped: DropInfo[], forRedis70: boolean): KeyspaceRecord[] {
  const gone = new Set(dropped.filter((d) => d.kind === 'key').map((d) => keyId(d.db!, d.key!)));
  const goneLibs = new Set(dropped.filter((d) => d.kind === 'function').map((d) => d.library));
  return expected
    .filter((r) => (r.kind === 'key' ? !gone.has(keyId(r.db, r.key)) : !goneLibs.has(r.library)))
    .map((r) => {
      if (!forRedis70 || r.kind !== 'key' || r.type !== 'stream') return r;
      const groups = r.value.groups.map((g) => ({ ...g, consumers: g.consumers.map((c) => ({ ...c, activeTime: null })) }));
      return { ...r, value: { ...r.value, groups } };
    });
}

describe.skipIf(!corpus || !hasRedis)('corpus RDB files → RDB 10 → redis-server 7.0.15', () => {
  // One server; each file is loaded with DEBUG RELOAD NOSAVE (empties the server, loads dump.rdb from disk).
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis({ config: { 'enable-debug-command': 'yes' } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  for (const e of entries) {
    it(e.path, async () => {
      const file = join(corpus!, e.path);
      const records = await collect(rdbKeyspaceRecords(file));
      const { rdb, dropped } = await write(records, { rdbVersion: 10 });
      const expFile = join(corpus!, e.expectedByRedis70 ?? e.expected);
      const expected = expectedAfter(await collect(readKeyspaceJsonl(expFile)), dropped, true);
      writeFileSync(join(server.dir, 'dump.rdb'), rdb);
      await server.client.call('DEBUG', 'RELOAD', 'NOSAVE');
      const live = await dumpLiveKeyspace(server.client);
      expect(sameKeyspace(expected, live, { ignore: ['encoding'] }).diff).toEqual([]);
      // What was dropped is only what RDB 10 cannot hold.
      for (const d of dropped) expect(['hash-field-ttl', 'stream-consumer-active-time']).toContain(d.feature);
      if (e.rdbVersion <= 10) expect(dropped).toEqual([]);
      dropCounts.push(`${e.path}: ${dropped.length} dropped (${[...new Set(dropped.map((d) => d.feature))].join(', ') || '-'})`);
    });
  }
});

describe.skipIf(!corpus || !hasRedis)('corpus RDB files → RDB 9 (lossy: 6.x encodings) → redis-server 7.0.15', () => {
  // Downgrade of real data: ziplists, quicklist v1, stream v1. Streams lose their 7.0 metadata (the loader
  // derives it), hashes lose field TTLs, functions are dropped; everything else must load unchanged.
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis({ config: { 'enable-debug-command': 'yes' } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  const strip = (recs: KeyspaceRecord[], lossyKeys: Set<string>) =>
    recs
      .filter((r) => r.kind === 'key')
      .map((r) => {
        if (r.kind !== 'key') return r;
        if (r.type === 'stream') {
          // compare what RDB 9 carries: entries, last ID, groups' last-delivered IDs, PEL and consumers' seen-time
          const groups = r.value.groups.map((g) => ({ ...g, entriesRead: null, consumers: g.consumers.map((c) => ({ ...c, activeTime: null })) }));
          return { ...r, value: { ...r.value, firstId: null, maxDeletedId: '0-0', entriesAdded: 0, groups } };
        }
        if (r.type === 'hash' && lossyKeys.has(keyId(r.db, r.key))) return { ...r, value: r.value.map((f) => ({ ...f, expireAt: null })) };
        return r;
      });

  for (const e of entries.filter((x) => !x.path.includes('hfe'))) {
    it(e.path, async () => {
      const records = await collect(rdbKeyspaceRecords(join(corpus!, e.path)));
      const { rdb, dropped } = await write(records, { rdbVersion: 9, lossy: true });
      for (const d of dropped) expect(['functions', 'stream-metadata', 'stream-consumer-active-time', 'hash-field-ttl']).toContain(d.feature);
      const lossyKeys = new Set(dropped.filter((d) => d.kind === 'data').map((d) => keyId(d.db!, d.key!)));
      writeFileSync(join(server.dir, 'dump.rdb'), rdb);
      await server.client.call('DEBUG', 'RELOAD', 'NOSAVE');
      const live = await dumpLiveKeyspace(server.client);
      const expected = await collect(readKeyspaceJsonl(join(corpus!, e.expectedByRedis70 ?? e.expected)));
      expect(sameKeyspace(strip(expected, lossyKeys), strip(live, lossyKeys), { ignore: ['encoding'] }).diff).toEqual([]);
    });
  }
});

const dropCounts: string[] = [];
afterAll(() => {
  if (dropCounts.length && process.env.RDBW_VERBOSE) console.log(dropCounts.join('\n'));
});

describe.skipIf(!corpus)('corpus RDB files → their own RDB version → our parser', () => {
  for (const e of entries.filter((x) => x.rdbVersion > 10)) {
    it(`${e.path} (RDB ${e.rdbVersion}${e.path.includes('valkey') ? ', Valkey' : ''})`, async () => {
      const file = join(corpus!, e.path);
      const records = await collect(rdbKeyspaceRecords(file));
      const { rdb, dropped } = await write(records, { rdbVersion: e.rdbVersion, valkey: e.path.includes('valkey') });
      expect(dropped).toEqual([]);
      const back = await collect(rdbKeyspaceRecords(source(rdb), { dropExpiredBefore: Date.now() }));
      const expected = await collect(readKeyspaceJsonl(join(corpus!, e.expected)));
      // Field TTLs that lapsed before SAVE are dropped by a loading master; our parser keeps them.
      const live = (r: KeyspaceRecord): KeyspaceRecord =>
        r.kind === 'key' && r.type === 'hash' ? { ...r, value: r.value.filter((f) => f.expireAt === null || f.expireAt > Date.now()) } : r;
      const got = back.map(live).filter((r) => r.kind !== 'key' || r.type !== 'hash' || r.value.length > 0);
      expect(sameKeyspace(expected, got, { ignore: ['encoding'] }).diff).toEqual([]);
      expect(existsSync(file)).toBe(true);
    });
  }
});
