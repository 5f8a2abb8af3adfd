// Conversions loaded by a real redis-server 7.0.15: AOF -> RDB, RDB -> AOF (file and directory), and the offline
// rewrite (RDB and RESP base) each give exactly the keyspace of their source.
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from '@redis-persist/aof';
import { sameKeyspace, type KeyspaceRecord } from '@redis-persist/keyspace';
import { rdbKeyspaceRecords } from '@redis-persist/rdb';
import { aofToRdb, rdbToAof, rewriteAof } from '@redis-persist/converters';
import { dumpLiveKeyspace, randomTraffic, redisAvailable, startRedis, waitForPersistence } from '@redis-persist/testkit';
import { collect, sendExtras } from '../../replay/test/helpers.js';

const hasRedis = redisAvailable();
if (!hasRedis) console.warn('[replay] redis-server is not on PATH: skipping the conversion tests');

const temps: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'replay-convert-'));
  temps.push(d);
  return d;
}
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** What a redis-server 7.0.15 holds after starting on `dir` with `config`. */
async function loadedBy(dir: string, config: Record<string, string>): Promise<KeyspaceRecord[]> {
  const server = await startRedis({ dir, config: { save: '', ...config } });
  try {
    expect(server.alive()).toBe(true);
    return await dumpLiveKeyspace(server.client);
  } finally {
    await server.stop();
  }
}

function expectSame(a: KeyspaceRecord[], b: KeyspaceRecord[]): void {
  const same = sameKeyspace(a, b, { ignore: ['streamConsumerTimes', 'encoding'] });
  expect(same.diff).toEqual([]);
  expect(same.equal).toBe(true);
}

describe.skipIf(!hasRedis)('conversions loaded by redis-server 7.0.15', () => {
  let source = '';
  let rdbFile = '';
  let truth: KeyspaceRecord[] = [];

  beforeAll(async () => {
    const server = await startRedis({ config: { appendonly: 'yes', appendfsync: 'always', save: '', 'aof-use-rdb-preamble': 'yes' } });
    try {
      const c = server.client;
      await waitForPersistence(c);
      const traffic = { commands: 1500, dbs: [0, 1, 6], multi: true, expiries: true, flushAll: true, nondeterministic: true, keysPerType: 12 };
      await randomTraffic(c, { seed: 9100, ...traffic });
      await sendExtras(c, 30);
      await c.call('BGREWRITEAOF');
      await waitForPersistence(c);
      await randomTraffic(c, { seed: 9101, ...traffic, flushAll: false });
      await sendExtras(c, 31);
      await c.call('SAVE');
      source = tmp();
      cpSync(join(server.dir, 'appendonlydir'), join(source, 'appendonlydir'), { recursive: true });
      rdbFile = join(source, 'dump.rdb');
      cpSync(join(server.dir, 'dump.rdb'), rdbFile);
    } finally {
      await server.stop();
    }
    truth = await loadedBy(source, { appendonly: 'yes' });
    expect(truth.length).toBeGreaterThan(100);
  });

  it('aofToRdb: the RDB loads as the AOF does', async () => {
    const d = tmp();
    const { replay, rdb } = await aofToRdb(join(source, 'appendonlydir'), join(d, 'dump.rdb'));
    expect(rdb.keys).toBe(replay.keyspace.keyCount);
    expectSame(await loadedBy(d, {}), truth);
  });

  it('rewriteAof (RDB base, default): loads as the original; old files kept aside', async () => {
    const d = tmp();
    cpSync(join(source, 'appendonlydir'), join(d, 'appendonlydir'), { recursive: true });
    const before = readdirSync(join(d, 'appendonlydir')).sort();
    const r = await rewriteAof(join(d, 'appendonlydir'));
    expect(r.backup).not.toBeNull();
    expect(readdirSync(r.backup!).sort()).toEqual(before);
    const m = parseManifest(readFileSync(join(d, 'appendonlydir', 'appendonly.aof.manifest')));
    expect(m.base?.name).toBe('appendonly.aof.3.base.rdb');
    expect(m.incr.map((e) => e.name)).toEqual(['appendonly.aof.3.incr.aof']);
    expect(readFileSync(join(d, 'appendonlydir', 'appendonly.aof.3.incr.aof')).length).toBe(0);
    expect(readdirSync(join(d, 'appendonlydir')).sort()).toEqual(['appendonly.aof.3.base.rdb', 'appendonly.aof.3.incr.aof', 'appendonly.aof.manifest']);
    expectSame(await loadedBy(d, { appendonly: 'yes' }), truth);
  });

  it('rewriteAof --base aof --no-backup: a RESP base in batches of 64 loads as the original', async () => {
    const d = tmp();
    cpSync(join(source, 'appendonlydir'), join(d, 'appendonlydir'), { recursive: true });
    const r = await rewriteAof(join(d, 'appendonlydir'), { base: 'aof', backup: false });
    expect(r.backup).toBeNull();
    expect(readdirSync(join(d, 'appendonlydir')).sort()).toEqual(['appendonly.aof.3.base.aof', 'appendonly.aof.3.incr.aof', 'appendonly.aof.manifest']);
    const cmds = await collectCommands(join(d, 'appendonlydir'));
    expect(Math.max(...cmds.filter((a) => a[0] === 'RPUSH' || a[0] === 'SADD').map((a) => a.length - 2))).toBe(64);
    expectSame(await loadedBy(d, { appendonly: 'yes' }), truth);
    // rewriting again gives the same keyspace
    await rewriteAof(join(d, 'appendonlydir'), { backup: false });
    expectSame(await loadedBy(d, { appendonly: 'yes' }), truth);
  });

  it('rewriteAof of a single-file AOF with a .bak copy', async () => {
    const d = tmp();
    const single = join(d, 'appendonly.aof');
    const { replay } = await aofToRdb(join(source, 'appendonlydir'), join(d, 'x.rdb'));
    await rdbToAof(join(d, 'x.rdb'), single, { layout: 'file' });
    writeFileSync(single, Buffer.concat([readFileSync(single), Buffer.from('*3\r\n$3\r\nSET\r\n$5\r\nextra\r\n$1\r\n1\r\n')]));
    rmSync(join(d, 'x.rdb'));
    const r = await rewriteAof(single);
    expect(r.backup).toBe(`${single}.bak`);
    expect(existsSync(`${single}.bak`)).toBe(true);
    expect(readFileSync(single).subarray(0, 5).toString()).toBe('REDIS');
    expect(r.keys).toBe(replay.keyspace.keyCount + 1);
    rmSync(`${single}.bak`);
    const loaded = await loadedBy(d, { appendonly: 'yes' });
    expect(loaded.length).toBe(truth.length + 1);
  });

  it('rdbToAof: a single file and a multi-part directory load as the RDB does', async () => {
    const fromRdb = await collect(rdbKeyspaceRecords(rdbFile, { dropExpiredBefore: Date.now() }));
    const d1 = tmp();
    const r1 = await rdbToAof(rdbFile, join(d1, 'appendonly.aof'), { layout: 'file' });
    expect(r1.keys).toBe(fromRdb.filter((r) => r.kind === 'key').length);
    expectSame(await loadedBy(d1, { appendonly: 'yes' }), fromRdb);
    const d2 = tmp();
    const r2 = await rdbToAof(rdbFile, join(d2, 'appendonlydir'), { layout: 'dir' });
    expect(r2.files.map((f) => f.slice(d2.length + 1))).toEqual([
      'appendonlydir/appendonly.aof.1.base.aof',
      'appendonlydir/appendonly.aof.1.incr.aof',
      'appendonlydir/appendonly.aof.manifest',
    ]);
    expectSame(await loadedBy(d2, { appendonly: 'yes' }), fromRdb);
    await expect(rdbToAof(rdbFile, join(d2, 'appendonlydir'), { layout: 'dir' })).rejects.toMatchObject({ name: 'FsioError', code: 'output-exists' });
  });
});

async function collectCommands(dir: string): Promise<string[][]> {
  const { readAof } = await import('@redis-persist/aof');
  const out: string[][] = [];
  for await (const c of readAof(dir)) out.push(c.args.map((a, i) => (i === 0 ? Buffer.from(a).toString().toUpperCase() : Buffer.from(a).toString('latin1'))));
  return out;
}

