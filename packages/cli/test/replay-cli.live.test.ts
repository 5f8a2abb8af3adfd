// aof-tool rewrite / to-rdb and rdb-tool to-aof / inspect-dir as a user runs them: exit codes, --json, messages,
// and outputs that a real redis-server 7.0.15 loads with the keyspace intended.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { sameKeyspace, type KeyspaceRecord } from '@redis-persist/keyspace';
import { replayAof } from '@redis-persist/replay';
import { corpusDir, dumpLiveKeyspace, redisAvailable, startRedis } from '@redis-persist/testkit';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const aofTool = join(root, 'packages/cli/bin/aof-tool.js');
const rdbTool = join(root, 'packages/cli/bin/rdb-tool.js');
const built = existsSync(join(root, 'packages/cli/dist/aof-tool/rewrite.js'));
if (!built) console.warn('[replay cli tests] packages/cli/dist is missing or old: run `pnpm build` first; skipped');
const corpus = corpusDir();
if (!corpus) console.warn('[replay cli tests] ../shared/corpus is absent: skipped');
const hasRedis = redisAvailable();
if (!hasRedis) console.warn('[replay cli tests] redis-server is not on PATH: load checks skipped');

const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'replay-cli-'));
  temps.push(d);
  return d;
}

function run(bin: string, args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at .*:\d+:\d+/);

async function loadedBy(dir: string, config: Record<string, string>): Promise<KeyspaceRecord[]> {
  const server = await startRedis({ dir, config: { save: '', ...config } });
  try {
    return await dumpLiveKeyspace(server.client);
  } finally {
    await server.stop();
  }
}

function expectSame(a: KeyspaceRecord[], b: KeyspaceRecord[]): void {
  const same = sameKeyspace(a, b, { ignore: ['streamConsumerTimes', 'encoding'] });
  expect(same.diff).toEqual([]);
}

const SOURCE = corpus ? join(corpus, 'aof/redis-7.0.15/timestamps/appendonlydir') : '';

describe.skipIf(!built || !corpus)('aof-tool to-rdb / rewrite, rdb-tool to-aof / inspect-dir', () => {
  it('to-rdb writes the replayed keyspace; --json; the RDB loads in redis-server as the AOF replays', async () => {
    const d = tmp();
    const r = run(aofTool, ['to-rdb', SOURCE, join(d, 'dump.rdb')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/wrote .*dump\.rdb: RDB 10, 357 keys, 2 functions/);
    const j = run(aofTool, ['to-rdb', '--json', SOURCE, join(d, 'again.rdb')]);
    expect(j.code).toBe(0);
    const report = JSON.parse(j.stdout);
    expect(report).toMatchObject({ keys: 357, functions: 2, rdbVersion: 10 });
    expect(report.replay.files).toEqual(['appendonly.aof.2.base.aof', 'appendonly.aof.2.incr.aof']);
    if (hasRedis) {
      const ours = [...(await replayAof(SOURCE)).keyspace.records({ dropExpiredBefore: Date.now() })];
      expectSame(await loadedBy(d, {}), ours);
    }
  });

  it('to-rdb: usage errors exit 2, an unknown command exits 1 naming file and offset, --skip-unknown goes on', () => {
    const d = tmp();
    expect(run(aofTool, ['to-rdb', SOURCE]).code).toBe(2);
    expect(run(aofTool, ['to-rdb', '--until', 'someday', SOURCE, join(d, 'x.rdb')]).code).toBe(2);
    expect(run(aofTool, ['to-rdb', '--rdb-version', 'x', SOURCE, join(d, 'x.rdb')]).code).toBe(2);
    const aof = join(d, 'appendonly.aof');
    writeFileSync(aof, '*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$9\r\nFROBNICATE\r\n$1\r\na\r\n'.replace('$9\r\nFROBNICATE', '$10\r\nFROBNICATE'));
    const bad = run(aofTool, ['to-rdb', aof, join(d, 'x.rdb')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${aof}: offset 27: unknown command 'FROBNICATE'`);
    noStack(bad.stderr);
    expect(existsSync(join(d, 'x.rdb'))).toBe(false);
    const skip = run(aofTool, ['to-rdb', '--skip-unknown', aof, join(d, 'x.rdb')]);
    expect(skip.code).toBe(1);
    expect(skip.stderr).toMatch(/1 command\(s\) skipped \(frobnicate x1\)/);
    expect(existsSync(join(d, 'x.rdb'))).toBe(true);
    const noTs = run(aofTool, ['to-rdb', '--skip-unknown', '--until', '1700000000', aof, join(d, 'y.rdb')]);
    expect(noTs.code).toBe(2);
    expect(noTs.stderr).toMatch(/no #TS: annotations/);
    const missing = run(aofTool, ['to-rdb', join(d, 'nope.aof'), join(d, 'z.rdb')]);
    expect(missing.code).toBe(3);
    noStack(missing.stderr);
  });

  it('to-rdb --until: point in time from #TS annotations', () => {
    const d = tmp();
    const aof = join(d, 'appendonly.aof');
    const cmd = (k: string) => `*3\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$1\r\n1\r\n`;
    writeFileSync(aof, `#TS:1700000000\r\n${cmd('a')}#TS:1700000100\r\n${cmd('b')}#TS:1700000200\r\n${cmd('c')}`);
    const r = run(aofTool, ['to-rdb', '--json', '--until', '2023-11-14T22:15:00Z', aof, join(d, 'pit.rdb')]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.keys).toBe(2);
    expect(j.replay.stoppedAt).toMatchObject({ timestamp: 1700000200 });
  });

  it('rewrite: new base + empty incr + manifest, old files kept aside (--json), loaded by redis-server as before', async () => {
    const d = tmp();
    const dir = join(d, 'appendonlydir');
    cpSync(SOURCE, dir, { recursive: true });
    const before = [...(await replayAof(dir)).keyspace.records({ dropExpiredBefore: Date.now() })];
    const r = run(aofTool, ['rewrite', '--json', dir]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.layout).toBe('multi-part');
    expect(readdirSync(dir).sort()).toEqual(['appendonly.aof.3.base.rdb', 'appendonly.aof.3.incr.aof', 'appendonly.aof.manifest']);
    expect(readdirSync(j.backup).sort()).toEqual(['appendonly.aof.2.base.aof', 'appendonly.aof.2.incr.aof', 'appendonly.aof.manifest']);
    expect(readFileSync(join(dir, 'appendonly.aof.manifest'), 'utf8')).toBe('file appendonly.aof.3.base.rdb seq 3 type b\nfile appendonly.aof.3.incr.aof seq 3 type i\n');
    if (hasRedis) expectSame(await loadedBy(d, { appendonly: 'yes' }), before);
    const again = run(aofTool, ['rewrite', '--base', 'aof', '--no-backup', dir]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/old files removed: 2/);
    expect(readdirSync(dir).sort()).toEqual(['appendonly.aof.4.base.aof', 'appendonly.aof.4.incr.aof', 'appendonly.aof.manifest']);
    if (hasRedis) expectSame(await loadedBy(d, { appendonly: 'yes' }), before);
    expect(run(aofTool, ['rewrite', '--base', 'json', dir]).code).toBe(2);
    // damaged input: nothing is touched, no backup is made
    const junk = join(d, 'junk.aof');
    writeFileSync(junk, Buffer.from('garbage that is no AOF\r\n'));
    const bad = run(aofTool, ['rewrite', junk]);
    expect(bad.code).toBe(1);
    noStack(bad.stderr);
    expect(readFileSync(junk, 'utf8')).toBe('garbage that is no AOF\r\n');
    expect(existsSync(`${junk}.bak`)).toBe(false);
  });

  it('to-aof: a file and a directory that redis-server loads as the RDB; refuses an existing directory', async () => {
    const d = tmp();
    expect(run(aofTool, ['to-rdb', SOURCE, join(d, 'src.rdb')]).code).toBe(0);
    const fileDir = tmp();
    const f = run(rdbTool, ['to-aof', join(d, 'src.rdb'), join(fileDir, 'appendonly.aof')]);
    expect(f.code).toBe(0);
    expect(f.stdout).toMatch(/wrote .*appendonly\.aof: 357 keys, 2 functions/);
    const multiDir = tmp();
    const m = run(rdbTool, ['to-aof', '--json', join(d, 'src.rdb'), join(multiDir, 'appendonlydir')]);
    expect(m.code).toBe(0);
    expect(JSON.parse(m.stdout)).toMatchObject({ layout: 'dir', keys: 357, functions: 2 });
    expect(readFileSync(join(multiDir, 'appendonlydir', 'appendonly.aof.manifest'), 'utf8')).toBe(
      'file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n',
    );
    const exists = run(rdbTool, ['to-aof', join(d, 'src.rdb'), join(multiDir, 'appendonlydir')]);
    expect(exists.code).toBe(2);
    expect(exists.stderr).toMatch(/already exists/);
    // a damaged RDB: exit 1 naming file and offset; what was complete before the damage is written, a valid AOF
    writeFileSync(join(d, 'cut.rdb'), readFileSync(join(d, 'src.rdb')).subarray(0, 5000));
    for (const out of [join(d, 'cutdir'), join(d, 'cut.aof')]) {
      const cut = run(rdbTool, ['to-aof', join(d, 'cut.rdb'), out]);
      expect(cut.code).toBe(1);
      expect(cut.stderr).toMatch(/cut\.rdb: offset \d+: truncated/);
      expect(cut.stderr).toMatch(/holds only the records before offset \d+/);
      noStack(cut.stderr);
      expect(run(aofTool, ['check', out]).code).toBe(0);
    }
    expect(readdirSync(d).filter((n) => n.includes('tmp'))).toEqual([]);
    if (hasRedis) {
      const fromRdb = await loadedBy(d, { dbfilename: 'src.rdb' });
      expect(fromRdb.length).toBe(359);
      expectSame(await loadedBy(fileDir, { appendonly: 'yes' }), fromRdb);
      expectSame(await loadedBy(multiDir, { appendonly: 'yes' }), fromRdb);
    }
  });

  it('inspect-dir: the AOF wins with appendonly yes, the RDB otherwise; a damaged file exits 1', () => {
    const d = tmp();
    cpSync(SOURCE, join(d, 'appendonlydir'), { recursive: true });
    expect(run(aofTool, ['to-rdb', SOURCE, join(d, 'dump.rdb')]).code).toBe(0);
    writeFileSync(join(d, 'redis.conf'), '# test\nappendonly yes\n');
    const a = run(rdbTool, ['inspect-dir', d, '--config', join(d, 'redis.conf')]);
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/appendonly yes .*Redis loads the AOF/);
    expect(a.stdout).toMatch(/1\. .*appendonly\.aof\.manifest/);
    expect(a.stdout).toMatch(/2\. .*appendonly\.aof\.2\.base\.aof \[aof-base, resp/);
    expect(a.stdout).toMatch(/3\. .*appendonly\.aof\.2\.incr\.aof \[aof-incr, resp/);
    expect(a.stdout).toMatch(/ignored: .*dump\.rdb/);
    expect(a.stdout).toMatch(/keys after load: 357 \(db0=/);
    const j = JSON.parse(run(rdbTool, ['inspect-dir', '--json', '--appendonly', 'no', d]).stdout);
    expect(j).toMatchObject({ source: 'rdb', loads: true, totalKeys: 357, functions: 2 });
    expect(j.files.map((f: { role: string }) => f.role)).toEqual(['rdb']);
    const rdb = readFileSync(join(d, 'dump.rdb'));
    writeFileSync(join(d, 'dump.rdb'), rdb.subarray(0, rdb.length - 100));
    const bad = run(rdbTool, ['inspect-dir', '--appendonly', 'no', d]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/truncated/);
    expect(run(rdbTool, ['inspect-dir', '--appendonly', 'maybe', d]).code).toBe(2);
    const empty = tmp();
    const e = run(rdbTool, ['inspect-dir', empty]);
    expect(e.code).toBe(0);
    expect(e.stdout).toMatch(/no dump\.rdb: Redis starts with an empty keyspace/);
  });
});
