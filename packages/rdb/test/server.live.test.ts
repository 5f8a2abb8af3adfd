// Files written by the real redis-server 7.0.15 from random traffic under several configurations: our dump must
// be exactly the live keyspace, our check must pass, and every DUMP payload must decode to the live value.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sameKeyspace, type KeyspaceRecord } from '@redis-persist/keyspace';
import { checkRdb, decodeRdbValue, rdbKeyspaceRecords } from '@redis-persist/rdb';
import { dumpLiveKeyspace, randomTraffic, redisAvailable, startRedis, type RedisClient } from '@redis-persist/testkit';
import { parseChunked } from './helpers.js';
import { redisCheckRdb } from './reference.live.js';

const hasRedis = redisAvailable();
if (!hasRedis) console.warn('[rdb] redis-server is not on PATH: skipping the live-server tests');

async function collect(path: string): Promise<KeyspaceRecord[]> {
  const out: KeyspaceRecord[] = [];
  for await (const r of rdbKeyspaceRecords(path, { dropExpiredBefore: Date.now() })) out.push(r);
  return out;
}

async function bigValues(c: RedisClient): Promise<void> {
  await c.call('SET', 'big:string', Buffer.alloc(3 * 1024 * 1024, 'abcdefgh'));
  await c.call('SET', 'big:random', Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 251)));
  for (let b = 0; b < 20; b++) {
    await c.call('RPUSH', 'big:list', ...Array.from({ length: 5000 }, (_, i) => `item-${b}-${i}-${'q'.repeat(i % 50)}`));
    await c.call('HSET', 'big:hash', ...Array.from({ length: 2000 }, (_, i) => [`f${b}-${i}`, `v${i % 97}`]).flat());
    await c.call('ZADD', 'big:zset', ...Array.from({ length: 2000 }, (_, i) => [String((b * 2000 + i) / 3), `m${b}-${i}`]).flat());
    await c.call('SADD', 'big:set', ...Array.from({ length: 2000 }, (_, i) => `s${b}-${i}`));
    await c.call('SADD', 'big:intset', ...Array.from({ length: 20 }, (_, i) => String(b * 20 + i - 200)));
  }
  await c.call('RPUSH', 'big:element', Buffer.alloc(2 * 1024 * 1024, 'z'), 'small');
}

const configs: { name: string; config: Record<string, string>; big?: boolean }[] = [
  { name: 'defaults', config: {} },
  { name: 'rdbcompression no, rdbchecksum no', config: { rdbcompression: 'no', rdbchecksum: 'no' } },
  {
    name: 'tiny listpack/intset limits',
    config: { 'hash-max-listpack-entries': '2', 'zset-max-listpack-entries': '2', 'set-max-intset-entries': '2', 'list-max-listpack-size': '2', 'hash-max-listpack-value': '4', 'zset-max-listpack-value': '4' },
  },
  {
    name: 'huge listpack/intset limits',
    config: { 'hash-max-listpack-entries': '100000', 'hash-max-listpack-value': '100000', 'zset-max-listpack-entries': '100000', 'zset-max-listpack-value': '100000', 'set-max-intset-entries': '100000', 'list-max-listpack-size': '-5', 'stream-node-max-entries': '3' },
  },
  { name: 'many compressed quicklist nodes', config: { 'list-max-listpack-size': '4', 'list-compress-depth': '1' } },
  { name: 'big values', config: { 'list-compress-depth': '2' }, big: true },
];

describe.skipIf(!hasRedis)('files written by redis-server 7.0.15 dump exactly the live keyspace', () => {
  it.each(configs.map((c, i) => [c.name, c, i] as const))('%s', async (_n, cfg, i) => {
    const server = await startRedis({ config: { ...cfg.config, save: '' } });
    try {
      const c = server.client;
      await randomTraffic(c, { seed: 1000 + i, commands: 1200, dbs: [0, 1, 7], expiries: true, keysPerType: 24 });
      if (cfg.big) await bigValues(c);
      await c.call('FUNCTION', 'LOAD', `#!lua name=lib${i}\nredis.register_function('f${i}', function(keys, args) return ${i} end)`);
      await c.call('SAVE');
      const live = await dumpLiveKeyspace(c);
      const path = join(server.dir, 'dump.rdb');
      const ours = await collect(path);
      const same = sameKeyspace(ours, live);
      expect(same.diff).toEqual([]);
      expect(same.equal).toBe(true);
      expect(ours.length).toBe(live.length);
      expect(live.length).toBeGreaterThan(60);

      const report = await checkRdb(path);
      expect(report.error).toBeUndefined();
      expect(report.checksum).toBe(cfg.config.rdbchecksum === 'no' ? 'disabled' : 'ok');
      expect((await redisCheckRdb(path)).ok).toBe(true);

      // small chunks give the same records (the structure pass, to stay fast on big files)
      const data = readFileSync(path);
      if (data.length < 2_000_000) expect(parseChunked(data, 997, { values: false }).length).toBe(parseChunked(data, data.length, { values: false }).length);

      // every key's DUMP payload decodes to the live value
      const keys = live.filter((r) => r.kind === 'key');
      let db = -1;
      for (const k of keys) {
        if (k.kind !== 'key') continue;
        if (k.db !== db) await c.call('SELECT', (db = k.db));
        const payload = await c.callBuffer('DUMP', k.key);
        expect(payload).not.toBeNull();
        const body = payload!.subarray(1, payload!.length - 10);
        const value = decodeRdbValue(payload![0], body, payload![payload!.length - 10] | (payload![payload!.length - 9] << 8));
        const one = sameKeyspace([{ ...k, ...value } as KeyspaceRecord], [k]);
        expect(one.diff).toEqual([]);
      }
      await c.call('SELECT', 0);
    } finally {
      await server.stop();
    }
  });
});
