// The peers' RDB files (../shared/corpus/peers, from other projects' test suites) that redis-server 7.0.15 loads:
// parse → write RDB 10 → load into one 7.0.15 server with DEBUG RELOAD NOSAVE → equals the expected keyspace.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sameKeyspace, type KeyspaceRecord } from '@redis-persist/keyspace';
import { readKeyspaceJsonl } from '@redis-persist/jsonl';
import { rdbKeyspaceRecords } from '@redis-persist/rdb';
import { corpusDir, dumpLiveKeyspace, redisAvailable, startRedis, type RedisServer } from '@redis-persist/testkit';
import { writeRdb, type DropInfo } from '@redis-persist/rdb-writer';

const corpus = corpusDir();
const hasRedis = redisAvailable();
if (!corpus) console.warn('[rdb-writer] ../shared/corpus is absent: skipping the peers conversions');

interface PeerEntry {
  path: string;
  rdbVersion: number;
  unloadable?: boolean;
  loadedBy?: string;
  expected?: string;
}
const peers: PeerEntry[] = corpus
  ? (JSON.parse(readFileSync(join(corpus, 'peers/index.json'), 'utf8')) as PeerEntry[]).filter((e) => !e.unloadable && e.loadedBy === 'redis-7.0.15' && e.expected)
  : [];

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe.skipIf(!corpus || !hasRedis)('peers RDB files → RDB 10 → redis-server 7.0.15', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis({ config: { 'enable-debug-command': 'yes' } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  for (const e of peers) {
    it(`${e.path} (RDB ${e.rdbVersion})`, async () => {
      const file = join(corpus!, 'peers', e.path);
      const records = await collect(rdbKeyspaceRecords(file));
      const dropped: DropInfo[] = [];
      const rdb = Buffer.concat(await collect(writeRdb(records, { dropUnsupported: true, onDrop: (d) => dropped.push(d) })));
      expect(dropped).toEqual([]);
      writeFileSync(join(server.dir, 'dump.rdb'), rdb);
      await server.client.call('DEBUG', 'RELOAD', 'NOSAVE');
      const live = await dumpLiveKeyspace(server.client);
      const expected = await collect(readKeyspaceJsonl(join(corpus!, 'peers', e.expected!)));
      expect(sameKeyspace(expected, live, { ignore: ['encoding'] }).diff).toEqual([]);
    });
  }
  it('the sanity of the reload path: an original peer file reloads to its expected keyspace', async () => {
    const e = peers[0];
    copyFileSync(join(corpus!, 'peers', e.path), join(server.dir, 'dump.rdb'));
    await server.client.call('DEBUG', 'RELOAD', 'NOSAVE');
    const expected: KeyspaceRecord[] = await collect(readKeyspaceJsonl(join(corpus!, 'peers', e.expected!)));
    expect(sameKeyspace(expected, await dumpLiveKeyspace(server.client), { ignore: ['encoding'] }).diff).toEqual([]);
  });
});
