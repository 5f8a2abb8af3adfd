// A data directory given to a command means what Redis would load from it: dump.rdb with appendonly no (Redis'
// default, or <dir>/redis.conf / --config saying so), the AOF with appendonly yes. Every command says which file it
// used; the keyspace convert writes equals what a real redis-server 7.0.15 loads from that directory and config.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sameKeyspace, type KeyspaceRecord } from '@redis-persist/keyspace';
import { readKeyspaceJsonl } from '@redis-persist/jsonl';
import { rdbKeyspaceRecords } from '@redis-persist/rdb';
import { resolveDataDirSource } from '@redis-persist/converters';
import { dumpLiveKeyspace, redisAvailable, startRedis, waitForPersistence } from '@redis-persist/testkit';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const aofTool = join(root, 'packages/cli/bin/aof-tool.js');
const rdbTool = join(root, 'packages/cli/bin/rdb-tool.js');
const built = existsSync(join(root, 'packages/cli/dist/common/source.js'));
if (!built) console.warn('[datadir-source tests] packages/cli/dist is missing or old: run `pnpm build` first; skipped');
const hasRedis = redisAvailable();
if (!hasRedis) console.warn('[datadir-source tests] redis-server is not on PATH: skipped');

const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'datadir-source-'));
  temps.push(d);
  return d;
}

function run(bin: string, args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000, maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function* once(text: string): AsyncGenerator<Uint8Array> {
  yield Buffer.from(text);
}

async function collect(records: AsyncIterable<KeyspaceRecord>): Promise<KeyspaceRecord[]> {
  const out: KeyspaceRecord[] = [];
  for await (const r of records) out.push(r);
  return out;
}

function expectSame(a: KeyspaceRecord[], b: KeyspaceRecord[]): void {
  expect(sameKeyspace(a, b, { ignore: ['streamConsumerTimes', 'encoding'] }).diff).toEqual([]);
}

/** What a real redis-server loads from a copy of `dir` with this appendonly. */
async function loadedBy(dir: string, appendonly: 'yes' | 'no'): Promise<KeyspaceRecord[]> {
  const copy = tmp();
  cpSync(dir, copy, { recursive: true });
  rmSync(join(copy, 'redis.conf'), { force: true });
  const server = await startRedis({ dir: copy, config: { appendonly } });
  try {
    return await dumpLiveKeyspace(server.client);
  } finally {
    await server.stop();
  }
}

/** dump.rdb holds the keyspace before, appendonlydir/ the keyspace after more writes: they differ. */
let base = '';
beforeAll(async () => {
  if (!built || !hasRedis) return;
  base = tmp();
  const server = await startRedis({ dir: base, config: { appendonly: 'no' } });
  const c = server.client;
  await c.call('SET', 'only:in:rdb', 'before');
  await c.call('RPUSH', 'list', 'a', 'b', 'c');
  await c.call('HSET', 'hash', 'f1', 'v1', 'f2', 'v2');
  await c.call('ZADD', 'zset', '1', 'one', '2.5', 'two');
  await c.call('SELECT', '3');
  await c.call('SET', 'db3:key', 'x', 'EX', '100000');
  await c.call('SELECT', '0');
  await c.call('SAVE');
  await c.call('CONFIG', 'SET', 'appendonly', 'yes');
  await waitForPersistence(c);
  await c.call('DEL', 'only:in:rdb');
  await c.call('SET', 'only:in:aof', 'after');
  await c.call('RPUSH', 'list', 'd');
  await c.call('HDEL', 'hash', 'f1');
  await c.call('SADD', 'set', 'x', 'y', 'z');
  await server.stop();
  expect(existsSync(join(base, 'dump.rdb'))).toBe(true);
  expect(existsSync(join(base, 'appendonlydir', 'appendonly.aof.manifest'))).toBe(true);
});

/** A copy of the data directory, with a redis.conf holding `conf` (none when null). */
function dataDir(conf: string | null): string {
  const d = join(tmp(), 'data');
  cpSync(base, d, { recursive: true });
  rmSync(join(d, 'redis.conf'), { force: true });
  if (conf !== null) writeFileSync(join(d, 'redis.conf'), conf);
  return d;
}

describe.skipIf(!built || !hasRedis)('a data directory means what Redis would load', () => {
  it('without a redis.conf (appendonly no): convert, dump and info read dump.rdb, say so, and convert equals what redis-server loads', async () => {
    const d = dataDir(null);
    const out = join(tmp(), 'out.rdb');
    const conv = run(rdbTool, ['convert', d, out]);
    expect(conv.code).toBe(0);
    expect(conv.stderr).toBe(`rdb-tool: using ${d}/dump.rdb (what Redis loads: appendonly no, Redis' default)\n`);
    const written = await collect(rdbKeyspaceRecords(out));
    const live = await loadedBy(d, 'no');
    expectSame(written, live);
    expect(live.some((r) => r.kind === 'key' && Buffer.from(r.key).toString() === 'only:in:rdb')).toBe(true);

    const dump = run(rdbTool, ['dump', d]);
    expect(dump.code).toBe(0);
    expect(dump.stderr).toContain(`rdb-tool: using ${d}/dump.rdb (what Redis loads`);
    expectSame(await collect(readKeyspaceJsonl(once(dump.stdout))), live);

    const info = run(rdbTool, ['info', '--json', d]);
    expect(info.code).toBe(0);
    const j = JSON.parse(info.stdout);
    expect(j.file).toBe(`${d}/dump.rdb`);
    expect(j.source).toMatchObject({ dataDir: d, kind: 'rdb', path: `${d}/dump.rdb`, redisLoads: true, appendonly: false, config: null, ignored: `${d}/appendonlydir` });

    const toAof = run(rdbTool, ['to-aof', d, join(tmp(), 'restored')]);
    expect(toAof.code).toBe(0);
    expect(toAof.stderr).toContain(`using ${d}/dump.rdb`);

    const inspect = JSON.parse(run(rdbTool, ['inspect-dir', '--json', d]).stdout);
    expect(inspect.source).toBe('rdb');
  });

  it('with a redis.conf saying appendonly yes: convert and dump replay the AOF, info and to-aof refuse naming --from rdb; equals redis-server', async () => {
    const d = dataDir('# the server config\nappendonly yes\n');
    const manifest = `${d}/appendonlydir/appendonly.aof.manifest`;
    const out = join(tmp(), 'out.rdb');
    const conv = run(rdbTool, ['convert', d, out]);
    expect(conv.code).toBe(0);
    expect(conv.stderr).toBe(`rdb-tool: using ${manifest} (what Redis loads: appendonly yes in ${d}/redis.conf)\n`);
    const written = await collect(rdbKeyspaceRecords(out));
    const live = await loadedBy(d, 'yes');
    expectSame(written, live);
    expect(live.some((r) => r.kind === 'key' && Buffer.from(r.key).toString() === 'only:in:aof')).toBe(true);
    // and it is not what the RDB holds
    expect(sameKeyspace(written, await collect(rdbKeyspaceRecords(join(d, 'dump.rdb')))).equal).toBe(false);

    const dump = run(rdbTool, ['dump', d]);
    expect(dump.code).toBe(0);
    expect(dump.stderr).toContain(`rdb-tool: using ${manifest} (what Redis loads: appendonly yes in ${d}/redis.conf)`);
    expectSame(await collect(readKeyspaceJsonl(once(dump.stdout))), live);
    const resp = run(rdbTool, ['dump', '--format', 'resp', '--key', 'only:*', d]);
    expect(resp.code).toBe(0);
    expect(resp.stdout).toContain('only:in:aof');
    expect(resp.stdout).not.toContain('only:in:rdb');
    expect(run(rdbTool, ['dump', '--encoding', d]).code).toBe(2);

    for (const cmd of [['info', d], ['to-aof', d, join(tmp(), 'x')]]) {
      const r = run(rdbTool, cmd);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`Redis loads the AOF ${manifest} (appendonly yes in ${d}/redis.conf)`);
      expect(r.stderr).toContain(`pass --from rdb to read ${d}/dump.rdb`);
      expect(r.stderr).not.toContain('using');
    }
    const info = run(rdbTool, ['info', '--from', 'rdb', d]);
    expect(info.code).toBe(0);
    expect(info.stderr).toBe(`rdb-tool: using ${d}/dump.rdb (dump.rdb of ${d}, as --from rdb asks; Redis itself loads the AOF, not this: appendonly yes in ${d}/redis.conf)\n`);
    const fromRdb = join(tmp(), 'from-rdb.rdb');
    expect(run(rdbTool, ['convert', '--from', 'rdb', d, fromRdb]).code).toBe(0);
    expectSame(await collect(rdbKeyspaceRecords(fromRdb)), await loadedBy(d, 'no'));
    expect(run(rdbTool, ['convert', '--from', 'json', d, fromRdb]).code).toBe(2);

    const json = JSON.parse(run(rdbTool, ['convert', '--json', d, join(tmp(), 'o.jsonl')]).stdout);
    expect(json).toMatchObject({ input: d, inputFormat: 'aof', source: { kind: 'aof', path: manifest, redisLoads: true, appendonly: true, config: `${d}/redis.conf`, ignored: `${d}/dump.rdb` } });

    const inspect = JSON.parse(run(rdbTool, ['inspect-dir', '--json', d]).stdout);
    expect(inspect).toMatchObject({ source: 'aof', configFile: `${d}/redis.conf`, appendonlyFrom: 'config' });
  });

  it('--config names the redis.conf (its appendonly and dbfilename); an unreadable one is an I/O error naming it', async () => {
    const d = dataDir(null);
    const conf = join(tmp(), 'redis.conf');
    writeFileSync(conf, 'appendonly yes\n');
    const r = run(rdbTool, ['convert', '--config', conf, d, join(tmp(), 'a.rdb')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`using ${d}/appendonlydir/appendonly.aof.manifest (what Redis loads: appendonly yes in ${conf})`);
    writeFileSync(conf, 'appendonly no\ndbfilename snapshot.rdb\n');
    renameSync(join(d, 'dump.rdb'), join(d, 'snapshot.rdb'));
    const s = run(rdbTool, ['info', '--config', conf, d]);
    expect(s.code).toBe(0);
    expect(s.stderr).toContain(`using ${d}/snapshot.rdb (what Redis loads: appendonly no in ${conf})`);
    const missing = run(rdbTool, ['convert', '--config', join(d, 'nope.conf'), d, join(tmp(), 'b.rdb')]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain(`cannot read the config ${d}/nope.conf: no such file or directory`);
  });

  it('a data directory Redis would start empty from: exit 1, nothing written, naming the file that is there', () => {
    const d = dataDir('appendonly yes\n');
    rmSync(join(d, 'appendonlydir'), { recursive: true });
    const out = join(tmp(), 'c.rdb');
    const r = run(rdbTool, ['convert', d, out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no AOF in ${d}`);
    expect(r.stderr).toContain(`${d}/dump.rdb is there: pass --from rdb to read it`);
    expect(existsSync(out)).toBe(false);
    const empty = join(tmp(), 'empty');
    mkdirSync(empty);
    const e = run(rdbTool, ['dump', empty]);
    expect(e.code).toBe(1);
    expect(e.stderr).toContain(`no dump.rdb in ${empty}: Redis starts with an empty keyspace (appendonly no, Redis' default); nothing to read`);
    expect(run(aofTool, ['stats', empty]).code).toBe(1);
  });

  it('aof-tool stats / to-rdb / fix / rewrite on a data directory say which AOF they use and whether Redis loads it', async () => {
    const d = dataDir(null);
    const manifest = `${d}/appendonlydir/appendonly.aof.manifest`;
    const stats = run(aofTool, ['stats', '--json', d]);
    expect(stats.code).toBe(0);
    expect(stats.stderr).toBe(`aof-tool: using ${manifest} (the AOF of ${d}; Redis itself loads dump.rdb, not this: appendonly no, Redis' default)\n`);
    expect(JSON.parse(stats.stdout).source).toMatchObject({ kind: 'aof', path: manifest, redisLoads: false });

    writeFileSync(join(d, 'redis.conf'), 'appendonly yes\n');
    const note = `aof-tool: using ${manifest} (what Redis loads: appendonly yes in ${d}/redis.conf)`;
    const out = join(tmp(), 'replayed.rdb');
    const toRdb = run(aofTool, ['to-rdb', d, out]);
    expect(toRdb.code).toBe(0);
    expect(toRdb.stderr).toContain(note);
    expectSame(await collect(rdbKeyspaceRecords(out)), await loadedBy(d, 'yes'));
    const fix = run(aofTool, ['fix', '--yes', d]);
    expect(fix.code).toBe(0);
    expect(fix.stderr).toContain(note);
    const rw = run(aofTool, ['rewrite', '--json', d]);
    expect(rw.code).toBe(0);
    expect(rw.stderr).toContain(note);
    expect(JSON.parse(rw.stdout)).toMatchObject({ input: manifest, layout: 'multi-part', source: { kind: 'aof', redisLoads: true } });
    // the rewritten AOF still loads as the same keyspace
    expectSame(await collect(rdbKeyspaceRecords(out)), await loadedBy(d, 'yes'));
  });

  it('the library rule: resolveDataDirSource follows the config names and --from', async () => {
    const d = dataDir('appendonly yes\nappenddirname "aof dir"\nappendfilename "my.aof"\n');
    const src0 = await resolveDataDirSource(d);
    expect(src0).toMatchObject({ kind: 'none', wanted: 'aof', redisLoads: true, ignored: `${d}/dump.rdb` });
    renameSync(join(d, 'appendonlydir'), join(d, 'aof dir'));
    const m = readFileSync(join(d, 'aof dir', 'appendonly.aof.manifest'), 'utf8').replaceAll('appendonly.aof.', 'my.aof.');
    for (const f of ['appendonly.aof.1.base.rdb', 'appendonly.aof.1.incr.aof']) {
      if (existsSync(join(d, 'aof dir', f))) renameSync(join(d, 'aof dir', f), join(d, 'aof dir', f.replace('appendonly.aof.', 'my.aof.')));
    }
    writeFileSync(join(d, 'aof dir', 'my.aof.manifest'), m);
    const src = await resolveDataDirSource(d);
    expect(src).toMatchObject({ kind: 'aof', path: join(d, 'aof dir', 'my.aof.manifest'), reason: `what Redis loads: appendonly yes in ${d}/redis.conf` });
    const r = await resolveDataDirSource(d, { from: 'rdb' });
    expect(r).toMatchObject({ kind: 'rdb', path: join(d, 'dump.rdb'), redisLoads: false });
    const o = await resolveDataDirSource(d, { appendonly: false });
    expect(o).toMatchObject({ kind: 'rdb', appendonlyFrom: 'option' });
    const out = join(tmp(), 'custom.rdb');
    const conv = run(rdbTool, ['convert', d, out]);
    expect(conv.code).toBe(0);
    expect(conv.stderr).toContain(`using ${d}/aof dir/my.aof.manifest`);
  });
});
