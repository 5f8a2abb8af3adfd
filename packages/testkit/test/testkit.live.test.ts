import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { KeyRecord, KeyspaceRecord } from '@redis-persist/keyspace';
import { normalize } from './helpers.js';
import {
  RedisReplyError,
  corpusDir,
  dumpLiveKeyspace,
  randomTraffic,
  redisAvailable,
  redisServerVersion,
  redisToolAvailable,
  sharedDir,
  waitForPersistence,
  startRedis,
  type RedisServer,
} from '@redis-persist/testkit';

const hasRedis = redisAvailable();
if (!hasRedis) console.warn('[testkit] redis-server is not on PATH: skipping tests against a real server');

const enc = new TextEncoder();
const dec = new TextDecoder();
const b = (s: string) => enc.encode(s);

function keyOf(records: KeyspaceRecord[], key: string, db = 0): KeyRecord & { kind: 'key' } {
  const r = records.find((x) => x.kind === 'key' && x.db === db && dec.decode(x.key) === key);
  if (r === undefined || r.kind !== 'key') throw new Error(`no key ${key} in db ${db}`);
  return r;
}

describe('paths', () => {
  test('sharedDir/corpusDir resolve relative to the repo root, or are null', () => {
    const shared = sharedDir();
    if (shared === null) {
      console.warn('[testkit] ../shared is absent');
      expect(corpusDir()).toBeNull();
      return;
    }
    expect(existsSync(join(shared, 'KEYSPACE-JSONL.md'))).toBe(true);
    const corpus = corpusDir();
    if (corpus !== null) expect(readdirSync(corpus).length).toBeGreaterThan(0);
  });

  test('tool detection agrees with redis-server presence', () => {
    expect(typeof redisToolAvailable('redis-cli')).toBe('boolean');
    expect(redisAvailable()).toBe(redisAvailable());
  });
});

describe.skipIf(!hasRedis)('against a real redis-server', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('start, call, errors, pipeline', async () => {
    const c = server.client;
    expect(await c.call('PING')).toEqual({ type: 'simple', value: 'PONG' });
    expect(await c.callText('ECHO', 'héllo')).toBe('héllo');
    await expect(c.call('NOSUCHCOMMAND')).rejects.toThrow(RedisReplyError);
    await expect(c.call('NOSUCHCOMMAND')).rejects.toThrow(/unknown command/);
    const replies = await c.pipeline([['SET', 'p', 1], ['INCRBY', 'p', 41n], ['GET', 'p'], ['LPUSH', 'p', 'x']]);
    expect(replies[1]).toEqual({ type: 'integer', value: 42n });
    expect(replies[2]).toEqual({ type: 'bulk', value: b('42') });
    expect(replies[3].type).toBe('error');
    expect(existsSync(server.logFile)).toBe(true);
    expect(server.log()).toMatch(/Ready to accept connections/);
    await c.call('FLUSHALL');
  });

  test('dumpLiveKeyspace returns what was written, every type', async () => {
    const c = server.client;
    await c.call('FLUSHALL');
    await c.call('FUNCTION', 'FLUSH');
    const code = "#!lua name=tk\nredis.register_function('tk_one', function() return 1 end)";
    await c.call('FUNCTION', 'LOAD', code);
    const bin = Uint8Array.from([0, 255, 13, 10, 128]);
    const at = Date.UTC(2040, 0, 1);
    await c.pipeline([
      ['SET', 'str', bin],
      ['SET', 'int', 12345],
      ['PEXPIREAT', 'int', at],
      ['RPUSH', 'list', 'a', bin, ''],
      ['SADD', 'intset', 1, 2, -3],
      ['SADD', 'set', 'x', 'y'],
      ['ZADD', 'zset', 'inf', 'hi', '-inf', 'lo', '0.1', 'mid', '2.5', 'two'],
      ['HSET', 'hash', 'f1', 'v1', 'f2', bin],
      ['XADD', 'stream', '1-1', 'a', '1'],
      ['XADD', 'stream', '2-0', 'b', bin, 'c', '3'],
      ['XADD', 'stream', '3-0', 'd', '4'],
      ['XDEL', 'stream', '3-0'],
      ['XGROUP', 'CREATE', 'stream', 'grp', '0'],
      ['XREADGROUP', 'GROUP', 'grp', 'alice', 'COUNT', '1', 'STREAMS', 'stream', '>'],
      ['XGROUP', 'CREATECONSUMER', 'stream', 'grp', 'bob'],
      ['XADD', 'empty', '5-5', 'x', 'y'],
      ['XDEL', 'empty', '5-5'],
      ['SELECT', 3],
      ['SET', 'other-db', 'v'],
      ['SELECT', 0],
    ]);
    const dump = await dumpLiveKeyspace(c);
    expect(dump.filter((r) => r.kind === 'function')).toEqual([{ kind: 'function', library: 'tk', engine: 'LUA', code: b(code) }]);
    expect(keyOf(dump, 'str')).toEqual({ kind: 'key', db: 0, key: b('str'), type: 'string', expireAt: null, value: bin });
    expect(keyOf(dump, 'int')).toMatchObject({ type: 'string', expireAt: at, value: b('12345') });
    expect(keyOf(dump, 'list').value).toEqual([b('a'), bin, b('')]);
    expect(normalize([keyOf(dump, 'intset')])).toEqual([{ db: 0, key: 'intset', type: 'set', expireAt: null, value: ['-3', '1', '2'] }]);
    expect(keyOf(dump, 'zset').value).toEqual([
      [b('lo'), -Infinity],
      [b('mid'), 0.1],
      [b('two'), 2.5],
      [b('hi'), Infinity],
    ]);
    expect(normalize([keyOf(dump, 'hash')])).toEqual(
      normalize([{ kind: 'key', db: 0, key: b('hash'), type: 'hash', expireAt: null, value: [{ field: b('f1'), value: b('v1'), expireAt: null }, { field: b('f2'), value: bin, expireAt: null }] }]),
    );
    const stream = keyOf(dump, 'stream');
    if (stream.type !== 'stream') throw new Error('not a stream');
    const s = stream.value;
    expect(s.entries).toEqual([
      { id: '1-1', fields: [[b('a'), b('1')]] },
      { id: '2-0', fields: [[b('b'), bin], [b('c'), b('3')]] },
    ]);
    expect(s).toMatchObject({ length: 2, lastId: '3-0', firstId: '1-1', maxDeletedId: '3-0', entriesAdded: 3 });
    expect(s.groups).toHaveLength(1);
    const g = s.groups[0];
    // entries-read is nil: the stream had a deletion (3-0) when the group was created, so Redis cannot count.
    expect(g).toMatchObject({ name: b('grp'), lastDeliveredId: '1-1', entriesRead: null });
    expect(g.pending).toHaveLength(1);
    expect(g.pending[0]).toMatchObject({ id: '1-1', consumer: b('alice'), deliveryCount: 1 });
    expect(g.pending[0].deliveryTime).toBeGreaterThan(Date.now() - 60_000);
    expect(g.consumers.map((x) => dec.decode(x.name)).sort()).toEqual(['alice', 'bob']);
    const empty = keyOf(dump, 'empty');
    if (empty.type !== 'stream') throw new Error('not a stream');
    // What 7.0.15 reports for a stream whose entries were all deleted (and what the corpus expects).
    expect(empty.value).toMatchObject({ entries: [], length: 0, lastId: '5-5', maxDeletedId: '5-5', entriesAdded: 1, groups: [] });
    expect(keyOf(dump, 'other-db', 3)).toMatchObject({ type: 'string', value: b('v') });
    expect(dump.filter((r) => r.kind === 'key')).toHaveLength(10);
    // The client is back on db 0.
    expect(await c.callText('GET', 'int')).toBe('12345');
  });

  test('dumpLiveKeyspace with encodings', async () => {
    const c = server.client;
    await c.call('FLUSHALL');
    await c.call('SADD', 'is', 1, 2, 3);
    const dump = await dumpLiveKeyspace(c, { encoding: true });
    expect(keyOf(dump, 'is').encoding).toBe('intset');
  });

  test('randomTraffic is deterministic for a seed and covers every type', async () => {
    const other = await startRedis();
    try {
      const opts = { seed: 42, commands: 3000, dbs: [0, 1, 5], multi: true, expiries: true, flushAll: false };
      await server.client.call('FLUSHALL');
      await server.client.call('FUNCTION', 'FLUSH');
      await randomTraffic(server.client, opts);
      await randomTraffic(other.client, opts);
      const a = await dumpLiveKeyspace(server.client);
      const bb = await dumpLiveKeyspace(other.client);
      expect(normalize(a, { dropConsumerTimes: true, dropDeliveryTimes: true })).toEqual(normalize(bb, { dropConsumerTimes: true, dropDeliveryTimes: true }));
      const types = new Set(a.map((r) => (r.kind === 'key' ? r.type : 'function')));
      expect([...types].sort()).toEqual(['hash', 'list', 'set', 'stream', 'string', 'zset']);
      expect(new Set(a.map((r) => (r.kind === 'key' ? r.db : -1)))).toEqual(new Set([0, 1, 5]));
      expect(a.some((r) => r.kind === 'key' && r.expireAt !== null && r.expireAt > Date.now())).toBe(true);
      expect(a.some((r) => r.kind === 'key' && r.type === 'stream' && r.value.groups.some((g) => g.pending.length > 0))).toBe(true);
      expect(a.some((r) => r.kind === 'key' && r.type === 'zset' && r.value.some(([, sc]) => sc === Infinity))).toBe(true);

      await other.client.call('FLUSHALL');
      await randomTraffic(other.client, { ...opts, seed: 43 });
      expect(normalize(await dumpLiveKeyspace(other.client), { dropConsumerTimes: true, dropDeliveryTimes: true })).not.toEqual(normalize(a, { dropConsumerTimes: true, dropDeliveryTimes: true }));
    } finally {
      await other.stop();
    }
  });

  test('randomTraffic with flushes and a type subset', async () => {
    const c = server.client;
    await c.call('FLUSHALL');
    await randomTraffic(c, { seed: 7, commands: 2000, flushAll: true, types: ['list', 'set'] });
    const dump = await dumpLiveKeyspace(c);
    for (const r of dump) if (r.kind === 'key') expect(['list', 'set']).toContain(r.type);
  });

  test('all traffic options survive an AOF rewrite and a restart (the way AOF tests use the testkit)', async () => {
    const s = await startRedis({ config: { appendonly: 'yes', 'aof-use-rdb-preamble': 'no' } });
    try {
      await randomTraffic(s.client, { seed: 3, commands: 1500, dbs: [0, 2], multi: true, expiries: true, flushAll: true, nondeterministic: true });
      await s.client.call('BGREWRITEAOF');
      await waitForPersistence(s.client);
      await randomTraffic(s.client, { seed: 4, commands: 1500, dbs: [0, 2], multi: true, expiries: true, nondeterministic: true });
      const before = await dumpLiveKeyspace(s.client);
      expect(before.length).toBeGreaterThan(20);
      await s.restart();
      const after = await dumpLiveKeyspace(s.client);
      // See NormalizeOptions.dropEntriesRead: a 7.0.15 AOF replay does not restore entries-read exactly.
      const o = { dropConsumerTimes: true, dropEntriesRead: true };
      expect(normalize(after, o)).toEqual(normalize(before, o));
    } finally {
      await s.stop();
    }
  });

  test('redisServerVersion matches the running server', async () => {
    const info = (await server.client.callText('INFO', 'server')) ?? '';
    expect(info).toContain(`redis_version:${redisServerVersion()}`);
  });

  test('restart keeps the AOF data; a config is applied', async () => {
    const s = await startRedis({ config: { appendonly: 'yes', 'appendfsync': 'always' } });
    try {
      await s.client.call('SET', 'persisted', 'yes');
      expect(existsSync(join(s.dir, 'appendonlydir'))).toBe(true);
      const before = s.client;
      await s.restart();
      expect(s.client).not.toBe(before);
      expect(await s.client.callText('GET', 'persisted')).toBe('yes');
    } finally {
      await s.stop();
    }
    expect(existsSync(s.dir)).toBe(false);
    expect(s.alive()).toBe(false);
  });

  test('restart with save, and starting on an existing dir', async () => {
    const s = await startRedis();
    let dir: string;
    try {
      await s.client.call('SET', 'snap', 'shot');
      await s.restart({ save: true });
      expect(existsSync(join(s.dir, 'dump.rdb'))).toBe(true);
      expect(await s.client.callText('GET', 'snap')).toBe('shot');
      dir = s.dir;
    } finally {
      await s.stop({ keepFiles: true });
    }
    const t = await startRedis({ dir });
    try {
      expect(await t.client.callText('GET', 'snap')).toBe('shot');
    } finally {
      await t.stop();
    }
    // a caller-provided dir is kept
    expect(existsSync(join(dir, 'dump.rdb'))).toBe(true);
    const { rmSync } = await import('node:fs');
    rmSync(dir, { recursive: true, force: true });
  });

  test('expectFailure: a refused file resolves with a dead server and its log', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'tk-bad-'));
    try {
      writeFileSync(join(dir, 'dump.rdb'), 'REDIS0010garbage-that-is-not-an-rdb');
      const s = await startRedis({ dir, expectFailure: true });
      expect(s.alive()).toBe(false);
      expect(s.exitCode).not.toBe(0);
      expect(s.log()).toMatch(/rdb|RDB/);
      expect(() => s.client).toThrow(/not running/);
      await s.stop();
      await expect(startRedis({ dir })).rejects.toThrow(/exited with code/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
