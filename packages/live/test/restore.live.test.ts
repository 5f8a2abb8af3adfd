// restoreKeys into one real redis-server: a snapshot of random traffic (every type, absolute expiries, two
// databases, a function library) comes back equal; expired keys are skipped; a non-empty target is refused unless
// replace/flush; --db-map; failures name the key and what had been restored; an abort stops it part way, saving
// its checkpoint and removing a key half built in pieces.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisAvailable, randomTraffic, dumpLiveKeyspace, startRedis, type RedisServer } from '@redis-persist/testkit';
import { rdbKeyspaceRecords } from '@redis-persist/rdb';
import { sameKeyspace, type KeyspaceRecord } from '@redis-persist/keyspace';
import { LiveError, RestoreError, RestoreTarget, rdbVersionForServer, restoreKeys, tempKeyName, type RestoreRecord } from '@redis-persist/live';

const LIB = "#!lua name=restorelib\nredis.register_function('echo1', function(keys, args) return args[1] end)";

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe.skipIf(!redisAvailable())('restoreKeys into one server', () => {
  let source: RedisServer;
  let target: RedisServer;
  let records: KeyspaceRecord[];
  let expected: KeyspaceRecord[];
  let url: string;

  beforeAll(async () => {
    source = await startRedis();
    target = await startRedis();
    url = `redis://127.0.0.1:${target.port}`;
    await randomTraffic(source.client, { seed: 7, commands: 4000, dbs: [0, 2], expiries: true, keysPerType: 40 });
    await source.client.call('FUNCTION', 'LOAD', LIB);
    await source.client.call('SAVE');
    records = await collect(rdbKeyspaceRecords(join(source.dir, 'dump.rdb')));
    expected = await dumpLiveKeyspace(source.client);
  });
  afterAll(async () => {
    await source?.stop();
    await target?.stop();
  });

  it('maps server versions to the RDB versions their RESTORE reads', () => {
    expect(rdbVersionForServer('2.4.0')).toBeNull();
    expect(rdbVersionForServer('2.8.24')).toBe(6);
    expect(rdbVersionForServer('3.2.12')).toBe(7);
    expect(rdbVersionForServer('4.0.14')).toBe(8);
    expect(rdbVersionForServer('6.2.14')).toBe(9);
    expect(rdbVersionForServer('7.0.15')).toBe(10);
    expect(rdbVersionForServer('7.2.4')).toBe(11);
    expect(rdbVersionForServer('7.4.1')).toBe(12);
    expect(rdbVersionForServer('8.0.2')).toBe(12);
    expect(rdbVersionForServer('8.0.1', true)).toBe(11);
    expect(rdbVersionForServer('9.0.0', true)).toBe(80);
  });

  it('restores every key (values, databases, expiries to the ms) and the function library; expired keys are skipped', async () => {
    const past: KeyspaceRecord = { kind: 'key', db: 0, key: new TextEncoder().encode('gone'), expireAt: Date.now() - 1000, type: 'string', value: new TextEncoder().encode('x') };
    const progress: number[] = [];
    const summary = await restoreKeys([...records, past], url, { onProgress: (p) => progress.push(p.keys) });
    const keys = records.filter((r) => r.kind === 'key').length;
    expect(summary).toMatchObject({ keys, expired: 1, functions: 1, cluster: false, rdbVersion: 10, flushed: false });
    expect(summary.perServer).toEqual({ [`127.0.0.1:${target.port}`]: keys });
    expect(progress.at(-1)).toBe(keys);
    const got = await dumpLiveKeyspace(target.client);
    const same = sameKeyspace(got, expected);
    expect(same.diff).toEqual([]);
    expect(got.some((r) => r.kind === 'key' && r.expireAt !== null)).toBe(true);
    expect(got.some((r) => r.kind === 'key' && r.db === 2)).toBe(true);
  });

  it('refuses a non-empty target (naming it, writing nothing) unless replace or flush', async () => {
    const before = await target.client.callInt('DBSIZE');
    const e = await restoreKeys(records, url).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RestoreError);
    expect((e as LiveError).code).toBe('not-empty');
    expect((e as LiveError).message).toMatch(/holds \d+ key\(s\) \(db 0, 2\) and 1 function library/);
    expect(await target.client.callInt('DBSIZE')).toBe(before);
    // replace: everything overwritten in place, the library too
    await target.client.call('SET', 'extra', '1');
    const r = await restoreKeys(records, url, { replace: true });
    expect(r.keys).toBe(records.filter((x) => x.kind === 'key').length);
    expect(await target.client.callText('GET', 'extra')).toBe('1');
    // flush: the extra key is gone, the rest equal
    const f = await restoreKeys(records, url, { flush: true });
    expect(f.flushed).toBe(true);
    expect(sameKeyspace(await dumpLiveKeyspace(target.client), expected).diff).toEqual([]);
  });

  it('maps databases with dbMap, and stops at the first failure with what was restored', async () => {
    await target.client.call('FLUSHALL');
    await target.client.call('FUNCTION', 'FLUSH');
    const keysOnly = records.filter((r) => r.kind === 'key');
    const s = await restoreKeys(keysOnly, url, { dbMap: new Map([[0, 5], [2, 6]]) });
    expect(s.keys).toBe(keysOnly.length);
    const info = (await target.client.callText('INFO', 'keyspace')) ?? '';
    expect(info).toMatch(/^db5:keys=/m);
    expect(info).toMatch(/^db6:keys=/m);
    expect(info).not.toMatch(/^db0:/m);
    // RESTORE without REPLACE into a key that appeared meanwhile: BUSYKEY names the key
    await target.client.call('FLUSHALL');
    const t = await RestoreTarget.open(url);
    try {
      const first = keysOnly.find((r) => r.kind === 'key' && r.db === 0)!;
      await target.client.call('SET', (first as { key: Uint8Array }).key, 'in the way');
      const e = await restoreKeys([first, ...keysOnly], t).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(RestoreError);
      expect((e as LiveError).reply).toMatch(/^BUSYKEY/);
      expect((e as LiveError).message).toContain('RESTORE of key');
      expect((e as RestoreError).summary?.keys).toBeLessThan(keysOnly.length);
    } finally {
      await t.close();
    }
  });

  it('signal: stops part way (no half-built key in pieces left), saves the checkpoint, rejects with the reason; a resume completes', async () => {
    await target.client.call('FLUSHALL');
    await target.client.call('FUNCTION', 'FLUSH');
    const enc = (x: string) => new TextEncoder().encode(x);
    const ac = new AbortController();
    const reason = new Error('stop here');
    const N = 3000;
    let handedOut = 0;
    /** N string keys, then a list in pieces: the abort comes between its second and third piece. */
    async function* input(): AsyncGenerator<RestoreRecord> {
      for (let i = 0; i < N; i++) {
        handedOut++;
        yield { kind: 'key', db: 0, key: enc(`k:${i}`), expireAt: null, type: 'string', value: enc(`v${i}`) };
      }
      for (let p = 0; p < 4; p++) {
        if (p === 2) ac.abort(reason);
        handedOut++;
        yield { kind: 'key', db: 0, key: enc('big'), expireAt: null, type: 'list', value: [enc(`a${p}`), enc(`b${p}`)], partial: p < 3 };
      }
      for (let i = N; i < 2 * N; i++) {
        handedOut++;
        yield { kind: 'key', db: 0, key: enc(`k:${i}`), expireAt: null, type: 'string', value: enc(`v${i}`) };
      }
    }
    const saves: number[] = [];
    const e = await restoreKeys(input(), url, { signal: ac.signal, checkpoint: { every: 500, save: async (done) => void saves.push(done) } }).catch((x: unknown) => x);
    expect(e).toBe(reason);
    // the keys before the list are all restored, and the last save says so; nothing after the abort was read or sent
    expect(Number(await target.client.callInt('DBSIZE'))).toBe(N);
    expect(saves.at(-1)).toBe(N);
    expect(handedOut).toBeLessThanOrEqual(N + 4);
    expect(Number(await target.client.callInt('EXISTS', 'big'))).toBe(0);
    expect(Number(await target.client.callInt('EXISTS', tempKeyName(0, enc('big'))))).toBe(0);
    // an aborted signal refuses at once, sending nothing
    await expect(restoreKeys(input(), url, { signal: ac.signal, replace: true })).rejects.toBe(reason);
    // the resume from the last save restores the rest
    handedOut = 0;
    const r = await restoreKeys(input(), url, { checkpoint: { resumeFrom: N, replaceBefore: N } });
    expect(r.resumed).toBe(N);
    expect(r.inPieces).toBe(1);
    expect(Number(await target.client.callInt('DBSIZE'))).toBe(2 * N + 1);
    expect(Number(await target.client.callInt('LLEN', 'big'))).toBe(8);
  });
});
