// restoreKeys with keys whose RESTORE payload is longer than the target's proto-max-bulk-len (lowered to its 1 MB
// minimum): they are rebuilt with commands under a temporary name and renamed into place. A snapshot holding such
// keys of every type (with TTLs; a string and a list element longer than the limit, built by EVAL; streams with
// consumer groups, pending entries, deleted and trimmed pending entries), small keys, two databases and a function
// library is restored into an empty server: DEBUG DIGEST, FUNCTION LIST, every stream's groups, consumers and
// pending entries, and every expiry to the millisecond equal the source's. Also: IDLETIME/FREQ hints, RENAMENX
// refusing a key that is there, filters, a resume from a checkpoint, the rate limit, and a cluster (the temporary
// name in the key's slot).
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterAvailable, connect, randomTraffic, redisAvailable, startCluster, startRedis, type RedisClient, type RedisServer, type TestCluster } from '@redis-persist/testkit';
import type { RespValue } from '@redis-persist/resp';
import { keyHashSlot } from '@redis-persist/cluster';
import { ClusterRouter, RestoreError, RestoreTarget, rdbRestoreRecords, restoreKeys, slotTag, tempKeyName, type RestoreRecord } from '@redis-persist/live';

const LIB = "#!lua name=biglib\nredis.register_function('big_echo', function(keys, args) return args[1] end)";
const MB = 1024 * 1024;

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** A reply as plain data: bulk strings as latin1 text, integers as numbers. */
function plain(v: RespValue): unknown {
  switch (v.type) {
    case 'array':
      return v.value === null ? null : v.value.map(plain);
    case 'bulk':
      return v.value === null ? null : Buffer.from(v.value).toString('latin1');
    case 'integer':
      return Number(v.value);
    default:
      return v.value;
  }
}

function pairs(v: unknown): Record<string, unknown> {
  const a = v as unknown[];
  const o: Record<string, unknown> = {};
  for (let i = 0; i + 1 < a.length; i += 2) o[String(a[i])] = a[i + 1];
  return o;
}

/** What must come back equal of a stream: counters, groups, consumers (not their seen/active times), pending entries. */
async function streamState(c: RedisClient, key: Uint8Array): Promise<unknown> {
  const full = pairs(plain(await c.call('XINFO', 'STREAM', key, 'FULL', 'COUNT', 0)));
  const groups = (full.groups as unknown[]).map((g) => {
    const o = pairs(g);
    o.consumers = (o.consumers as unknown[]).map((c) => {
      const co = pairs(c);
      delete co['seen-time'];
      delete co['active-time'];
      return co;
    });
    return o;
  });
  const infoGroups = (plain(await c.call('XINFO', 'GROUPS', key)) as unknown[]).map(pairs);
  const consumers: unknown[] = [];
  for (const g of infoGroups) {
    const list = (plain(await c.call('XINFO', 'CONSUMERS', key, String(g.name))) as unknown[]).map(pairs);
    consumers.push(list.map(({ idle: _idle, inactive: _inactive, ...rest }) => rest));
  }
  return {
    length: full.length,
    lastId: full['last-generated-id'],
    maxDeleted: full['max-deleted-entry-id'],
    entriesAdded: full['entries-added'],
    firstId: full['recorded-first-entry-id'],
    groups,
    infoGroups,
    consumers,
  };
}

async function allKeys(c: RedisClient, db: number): Promise<string[]> {
  await c.call('SELECT', db);
  const keys: string[] = [];
  let cursor = '0';
  for (let i = 0; i < 10_000; i++) {
    const r = plain(await c.call('SCAN', cursor, 'COUNT', 1000)) as [string, string[]];
    cursor = r[0];
    keys.push(...r[1]);
    if (cursor === '0') break;
  }
  return keys.sort();
}

/** Every key of the databases with its PEXPIRETIME, and every stream's state. */
async function expiriesAndStreams(c: RedisClient, dbs: number[]): Promise<{ expiries: Record<string, number>; streams: Record<string, unknown> }> {
  const expiries: Record<string, number> = {};
  const streams: Record<string, unknown> = {};
  for (const db of dbs) {
    const keys = await allKeys(c, db);
    for (const k of keys) {
      const kb = Buffer.from(k, 'latin1');
      expiries[`${db}/${k}`] = Number(await c.callInt('PEXPIRETIME', kb));
      if ((await c.callText('TYPE', kb)) === 'stream') streams[`${db}/${k}`] = await streamState(c, kb);
    }
  }
  await c.call('SELECT', 0);
  return { expiries, streams };
}

async function functionList(c: RedisClient): Promise<unknown> {
  return plain(await c.call('FUNCTION', 'LIST', 'WITHCODE'));
}

const rnd = (n: number) => randomBytes(n);

/** Keys too big for one RESTORE at a 1 MB limit, of every type, some with TTLs; a stream with every kind of group state. */
async function bigKeys(c: RedisClient, prefix: string, ttlBase: number): Promise<void> {
  await c.call('SET', `${prefix}str:huge`, rnd(3 * MB + 12345)); // longer than the limit: EVAL in steps
  await c.call('PEXPIREAT', `${prefix}str:huge`, ttlBase + 1);
  await c.call('SET', `${prefix}str:edge`, rnd(MB - 3)); // the value fits, its payload does not
  for (let i = 0; i < 3; i++) await c.call('RPUSH', `${prefix}list`, ...Array.from({ length: 1000 }, () => rnd(1024)));
  await c.call('LINSERT', `${prefix}list`, 'BEFORE', (await c.callBuffer('LINDEX', `${prefix}list`, 500))!, rnd(MB + 5000)); // an element longer than the limit
  await c.call('PEXPIREAT', `${prefix}list`, ttlBase + 2);
  for (let i = 0; i < 4; i++) await c.call('SADD', `${prefix}set`, ...Array.from({ length: 5000 }, () => rnd(100)));
  const z: (string | Buffer)[] = [];
  for (let i = 0; i < 20000; i++) z.push(String(i % 7 === 0 ? -i / 3 : Math.random() * 1e6), rnd(60));
  z.push('inf', Buffer.from('plus'), '-inf', Buffer.from('minus'), '0.1', Buffer.from('tenth'));
  await c.call('ZADD', `${prefix}zset`, ...z);
  await c.call('PEXPIREAT', `${prefix}zset`, ttlBase + 3);
  for (let i = 0; i < 2; i++) await c.call('HSET', `${prefix}hash`, ...Array.from({ length: 5000 }, (_, j) => [Buffer.from(`f${i}:${j}`), rnd(150)]).flat());
  await c.call('HSET', `${prefix}hash`, 'huge', rnd(MB + 1)); // a value longer than the limit
  // a stream: 4000 entries of 400 bytes, two groups read in part, acked in part, pending entries deleted (XDEL) and
  // trimmed away (XTRIM), a consumer without pending entries, a group that read nothing
  const s = `${prefix}stream`;
  for (let i = 1; i <= 4000; i++) await c.call('XADD', s, `${1000 + i}-${i % 3}`, 'f', rnd(400), 'n', String(i));
  await c.call('XGROUP', 'CREATE', s, 'g1', '0');
  await c.call('XGROUP', 'CREATE', s, 'g2', '0');
  await c.call('XGROUP', 'CREATE', s, 'idle', '$');
  await c.call('XREADGROUP', 'GROUP', 'g1', 'alice', 'COUNT', 300, 'STREAMS', s, '>');
  await c.call('XREADGROUP', 'GROUP', 'g1', 'bob', 'COUNT', 200, 'STREAMS', s, '>');
  await c.call('XREADGROUP', 'GROUP', 'g2', 'carol', 'COUNT', 1000, 'STREAMS', s, '>');
  await c.call('XGROUP', 'CREATECONSUMER', s, 'g1', 'dave');
  await c.call('XACK', s, 'g1', '1010-1', '1011-2', '1400-1');
  await c.call('XCLAIM', s, 'g1', 'bob', 0, '1020-2', 'RETRYCOUNT', 9);
  await c.call('XTRIM', s, 'MINID', '1050-0'); // pending entries 1001..1049 now gone from the stream
  await c.call('XDEL', s, '1100-1', '1350-0', '2000-2', '3999-0'); // 1100/1350 pending in g1, 2000 not pending
  await c.call('PEXPIREAT', s, ttlBase + 4);
}

describe.skipIf(!redisAvailable())('restore of keys longer than proto-max-bulk-len', () => {
  let source: RedisServer;
  let target: RedisServer;
  let records: RestoreRecord[];
  let url: string;
  const ttl = Date.now() + 3_600_000 + 7; // to the millisecond

  beforeAll(async () => {
    [source, target] = await Promise.all([startRedis({ config: { 'maxmemory-policy': 'allkeys-lfu' } }), startRedis({ config: { 'maxmemory-policy': 'allkeys-lfu' } })]);
    url = `redis://127.0.0.1:${target.port}`;
    const c = source.client;
    await randomTraffic(c, { seed: 17, commands: 1500, dbs: [0, 1], expiries: true, keysPerType: 20 });
    await bigKeys(c, 'big:', ttl);
    await c.call('SELECT', 1);
    await bigKeys(c, 'db1:', ttl + 100);
    await c.call('SELECT', 0);
    // small streams restored whole: an empty one with a group, one with a pending entry
    await c.call('XGROUP', 'CREATE', 'small:empty', 'g', '$', 'MKSTREAM');
    await c.call('XADD', 'small:s', '5-5', 'a', 'b');
    await c.call('XGROUP', 'CREATE', 'small:s', 'g', '0');
    await c.call('XREADGROUP', 'GROUP', 'g', 'x', 'STREAMS', 'small:s', '>');
    // a hot key for the LFU hint
    await c.call('SET', 'hot', 'v');
    for (let i = 0; i < 300; i++) await c.call('GET', 'hot');
    await c.call('FUNCTION', 'LOAD', LIB);
    await c.call('SAVE');
    records = await collect(rdbRestoreRecords(join(source.dir, 'dump.rdb')));
    await target.client.call('CONFIG', 'SET', 'proto-max-bulk-len', '1mb');
  }, 60_000);
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  it('rebuilds them in pieces: digest, functions, stream groups and consumers, expiries to the ms are equal', async () => {
    expect(records.some((r) => r.kind === 'key' && r.freq !== undefined)).toBe(true);
    const sourceFreq = Number(await source.client.callInt('OBJECT', 'FREQ', 'hot'));
    expect(sourceFreq).toBeGreaterThan(5);
    const summary = await restoreKeys(records, url);
    expect(summary.maxBulkLength).toBe(MB);
    expect(summary.maxBulkLengthAssumed).toEqual([]);
    expect(summary.inPieces).toBe(14); // 7 big keys in each of two databases
    expect(summary.keys).toBe(records.filter((r) => r.kind === 'key').length);
    expect(summary.functions).toBe(1);
    // the hint came with the RESTORE (read before anything else touches the key); the LFU counter decays by one
    // for each minute boundary crossed since (lfu-decay-time 1), which a slow run can cross
    const freq = Number(await target.client.callInt('OBJECT', 'FREQ', 'hot'));
    expect(freq).toBeLessThanOrEqual(sourceFreq);
    expect(freq).toBeGreaterThanOrEqual(sourceFreq - 1);

    expect(await target.client.callText('DEBUG', 'DIGEST')).toBe(await source.client.callText('DEBUG', 'DIGEST'));
    expect(await functionList(target.client)).toEqual(await functionList(source.client));
    const want = await expiriesAndStreams(source.client, [0, 1]);
    const got = await expiriesAndStreams(target.client, [0, 1]);
    expect(Object.keys(got.expiries).length).toBeGreaterThan(40);
    expect(got.expiries).toEqual(want.expiries);
    expect(got.expiries['0/big:stream']).toBe(ttl + 4);
    expect(Object.keys(got.streams)).toContain('1/db1:stream');
    expect(got.streams).toEqual(want.streams);
    const pending = (got.streams['0/big:stream'] as { infoGroups: { name: string; pending: number }[] }).infoGroups;
    expect(pending.find((g) => g.name === 'g1')?.pending).toBeGreaterThan(400);
    // no temporary key is left anywhere
    for (const db of [0, 1]) expect((await allKeys(target.client, db)).filter((k) => k.includes('restore-tmp'))).toEqual([]);
    await target.client.call('SELECT', 0);
  }, 60_000);

  it('refuses (RENAMENX) a key that is there without replace, leaving it and no temporary key; replace overwrites it', async () => {
    await target.client.call('FLUSHALL');
    await target.client.call('FUNCTION', 'FLUSH');
    const list = records.find((r) => r.kind === 'key' && r.db === 0 && Buffer.from(r.key).toString() === 'big:list')!;
    const t = await RestoreTarget.open(url);
    try {
      // the key appears after the target was found empty
      await target.client.call('SET', 'big:list', 'in the way');
      const e = await restoreKeys([list], t).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(RestoreError);
      expect((e as RestoreError).message, String(e)).toMatch(/BUSYKEY/);
      expect((e as RestoreError).reply).toMatch(/^BUSYKEY/);
      expect((e as RestoreError).message).toContain('in pieces');
      expect(await target.client.callText('GET', 'big:list')).toBe('in the way');
      expect(await target.client.callInt('EXISTS', tempKeyName(0, list.kind === 'key' ? list.key : new Uint8Array()))).toBe(0n);
      const s = await restoreKeys([list], t, { replace: true });
      expect(s.inPieces).toBe(1);
      expect(plain(await target.client.call('DEBUG', 'DIGEST-VALUE', 'big:list'))).toEqual(plain(await source.client.call('DEBUG', 'DIGEST-VALUE', 'big:list')));
    } finally {
      await t.close();
    }
  });

  it('filters keys by glob, type and database before sending', async () => {
    await target.client.call('FLUSHALL');
    await target.client.call('FUNCTION', 'FLUSH');
    const s = await restoreKeys(records, url, { filter: { keys: ['big:*', 'db1:s*'], types: ['stream', 'string'], dbs: [0, 1] } });
    const names = [...(await allKeys(target.client, 0)).map((k) => `0/${k}`), ...(await allKeys(target.client, 1)).map((k) => `1/${k}`)];
    await target.client.call('SELECT', 0);
    expect(names).toEqual(['0/big:str:edge', '0/big:str:huge', '0/big:stream', '1/db1:str:edge', '1/db1:str:huge', '1/db1:stream']);
    expect(s.keys).toBe(6);
    expect(s.filtered).toBe(records.filter((r) => r.kind === 'key').length - 6);
    expect(s.functions).toBe(1);
  });

  it('resumes from a checkpoint after an interruption: the rest is restored, the keys of the window with REPLACE', async () => {
    await target.client.call('FLUSHALL');
    await target.client.call('FUNCTION', 'FLUSH');
    const saves: number[] = [];
    // the input fails part way (after a big key or two)
    const cutAt = records.findIndex((r) => r.kind === 'key' && Buffer.from(r.key).toString() === 'big:hash') + 40;
    async function* interrupted(): AsyncGenerator<RestoreRecord> {
      for (let i = 0; i < records.length; i++) {
        if (i === cutAt) throw new Error('input lost');
        yield records[i]!;
      }
    }
    const full = records.length;
    const first = await restoreKeys(interrupted(), url, { checkpoint: { every: 7, window: 25, save: async (d) => void saves.push(d) } }).catch((x: unknown) => x);
    expect((first as Error).message).toBe('input lost');
    const done = saves.at(-1)!;
    expect(done).toBe(cutAt);
    expect(saves.every((d, i) => i === 0 || d > saves[i - 1]!)).toBe(true);
    // what an interrupted run may leave in the window: a key restored already, a half-built temporary key
    const inWindow = records.slice(done, done + 25).find((r) => r.kind === 'key' && r.expireAt === null && r.type === 'string');
    if (inWindow?.kind === 'key') {
      await target.client.call('SELECT', inWindow.db);
      await target.client.call('SET', inWindow.key, 'stale value from the interrupted run');
      await target.client.call('SELECT', 0);
    }
    const huge = records.find((r) => r.kind === 'key' && r.db === 1 && Buffer.from(r.key).toString() === 'db1:list')!;
    expect(records.indexOf(huge)).toBeGreaterThan(done);
    await target.client.call('SELECT', 1);
    await target.client.call('RPUSH', tempKeyName(1, huge.kind === 'key' ? huge.key : new Uint8Array()), 'half', 'built');
    await target.client.call('SELECT', 0);
    const second = await restoreKeys(records, url, { checkpoint: { resumeFrom: done, replaceBefore: done + 25 } });
    expect(second.resumed).toBe(done);
    expect(second.keys + second.functions + second.expired).toBe(full - done);
    expect(await target.client.callText('DEBUG', 'DIGEST')).toBe(await source.client.callText('DEBUG', 'DIGEST'));
    expect(await functionList(target.client)).toEqual(await functionList(source.client));
  }, 60_000);

  it('builds keys handed out in pieces (chunkElements) as they come; a key whose pieces stop early leaves nothing', async () => {
    await target.client.call('FLUSHALL');
    await target.client.call('FUNCTION', 'FLUSH');
    const pieces = await collect(rdbRestoreRecords(join(source.dir, 'dump.rdb'), { chunkElements: 700 }));
    const types = ['list', 'set', 'zset', 'hash'] as const;
    const isPiece = (r: RestoreRecord, name: string) => r.kind === 'key' && r.db === 0 && Buffer.from(r.key).toString() === name;
    expect(pieces.filter((r) => isPiece(r, 'big:set')).length).toBeGreaterThan(2);
    // the last piece of big:set goes missing, as when the input is damaged there
    const lastOfSet = pieces.findLastIndex((r) => isPiece(r, 'big:set'));
    const damaged = pieces.filter((_, i) => i !== lastOfSet);
    const s = await restoreKeys(damaged, url, { filter: { types: [...types] } });
    expect(s.dropped).toBe(1);
    expect(s.inPieces).toBeGreaterThanOrEqual(7); // big:list, big:zset, big:hash in both databases, and collections of randomTraffic past 700
    expect(await target.client.callInt('EXISTS', 'big:set')).toBe(0n);
    expect(await target.client.callInt('EXISTS', tempKeyName(0, Buffer.from('big:set')))).toBe(0n);
    for (const db of [0, 1]) {
      await source.client.call('SELECT', db);
      await target.client.call('SELECT', db);
      for (const k of await allKeys(target.client, db)) {
        const kb = Buffer.from(k, 'latin1');
        expect(plain(await target.client.call('DEBUG', 'DIGEST-VALUE', kb)), k).toEqual(plain(await source.client.call('DEBUG', 'DIGEST-VALUE', kb)));
        expect(Number(await target.client.callInt('PEXPIRETIME', kb)), k).toBe(Number(await source.client.callInt('PEXPIRETIME', kb)));
      }
    }
    await source.client.call('SELECT', 0);
    await target.client.call('SELECT', 0);
  }, 60_000);

  it('keeps to maxOpsPerSecond (a burst of a tenth of a second at most)', async () => {
    await target.client.call('FLUSHALL');
    await target.client.call('FUNCTION', 'FLUSH');
    const small = records.filter((r) => r.kind === 'key' && r.db === 0 && !Buffer.from(r.key).toString().startsWith('big:')).slice(0, 120);
    const t0 = Date.now();
    const s = await restoreKeys(small, url, { maxOpsPerSecond: 200 });
    const elapsed = Date.now() - t0;
    expect(s.commands).toBeGreaterThanOrEqual(small.length);
    // 200/s with a burst of 20: at least (commands - 20) / 200 seconds
    expect(elapsed).toBeGreaterThanOrEqual(((s.commands - 20) / 200) * 1000 - 50);
    expect(elapsed).toBeLessThan(((s.commands + 20) / 200) * 1000 + 3000);
  });
});

describe.skipIf(!clusterAvailable())('restore in pieces into a cluster', () => {
  let source: RedisServer;
  let cluster: TestCluster;

  beforeAll(async () => {
    [source, cluster] = await Promise.all([startRedis(), startCluster({ config: { 'proto-max-bulk-len': '1mb' } })]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([source?.stop(), cluster?.stop()]);
  });

  it('builds each big key under a temporary name of its own slot and renames it there', async () => {
    const c = source.client;
    const names = ['plain-name', '{user:7}:profile', 'a}b{c', '{}odd', 'x{y}z'];
    for (const [i, k] of names.entries()) {
      await c.call('RPUSH', k, ...Array.from({ length: 1500 }, () => rnd(1024)));
      await c.call('PEXPIREAT', k, Date.now() + 600_000 + i);
      expect(keyHashSlot(tempKeyName(0, Buffer.from(k)))).toBe(keyHashSlot(Buffer.from(k)));
    }
    await c.call('SET', 'huge-string', rnd(2 * MB + 3));
    for (let s = 0; s < 16384; s++) if (keyHashSlot(Buffer.from(`{${slotTag(s)}}x`)) !== s) expect.fail(`slotTag(${s}) = ${slotTag(s)} is not in slot ${s}`);
    await c.call('SAVE');
    const recs = await collect(rdbRestoreRecords(join(source.dir, 'dump.rdb')));
    const seed = `redis://${cluster.addresses[0]}`;
    const summary = await restoreKeys(recs, seed, { cluster: true });
    expect(summary.inPieces).toBe(6);
    expect(Object.keys(summary.perServer).length).toBeGreaterThan(1);
    const router = await ClusterRouter.connect(seed);
    try {
      for (const k of [...names, 'huge-string']) {
        const got = await router.call({ key: k, args: ['DEBUG', 'DIGEST-VALUE', k] });
        expect(plain(got)).toEqual(plain(await c.call('DEBUG', 'DIGEST-VALUE', k)));
        expect(plain(await router.call({ key: k, args: ['PEXPIRETIME', k] }))).toBe(Number(await c.callInt('PEXPIRETIME', k)));
      }
      for (const m of await router.masters()) expect(plain(await m.connection.call('KEYS', '*restore-tmp*'))).toEqual([]);
    } finally {
      await router.close();
    }
  }, 60_000);
});
