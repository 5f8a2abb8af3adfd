// rdb-tool as users run it: the built binary (pnpm build), exit codes, human and JSON output, dump formats.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sameKeyspace, type KeyspaceRecord } from '@redis-persist/keyspace';
import { rdbKeyspaceRecords } from '@redis-persist/rdb';
import { corpusDir, dumpLiveKeyspace, redisAvailable, redisToolAvailable, repoRoot, startRedis } from '@redis-persist/testkit';

const root = repoRoot()!;
const bin = join(root, 'packages/cli/bin/rdb-tool.js');
const built = existsSync(join(root, 'packages/cli/dist/rdb-tool/main.js'));
if (!built) console.warn('[cli] packages/cli/dist is missing (run pnpm build): skipping the rdb-tool binary tests');
const fixture = (n: string) => join(root, 'fixtures/rdb', `${n}.rdb`);
const tmp = mkdtempSync(join(tmpdir(), 'rdbtool-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(...args: string[]): { code: number; out: string; err: string; raw: Buffer } {
  const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 256 * 1024 * 1024 });
  return { code: r.status ?? -1, out: r.stdout.toString('utf8'), err: r.stderr.toString('utf8'), raw: r.stdout };
}

describe.skipIf(!built)('rdb-tool check', () => {
  it('a valid file: exit 0, version, aux, counts, checksum', () => {
    const r = run('check', fixture('all-types'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/RDB version 10 \(REDIS magic\)/);
    expect(r.out).toMatch(/AUX redis-ver = "7\.0\.15"/);
    expect(r.out).toMatch(/db 3: 1 keys/);
    expect(r.out).toMatch(/checksum OK/);
    expect(r.out).toMatch(/RDB looks OK/);
  });
  it('--json report; checksum disabled is fine', () => {
    const r = run('check', '--json', fixture('all-types-nocrc'));
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ ok: true, version: 10, magic: 'REDIS', checksum: 'disabled' });
    expect(j.dbs.map((d: { db: number }) => d.db)).toEqual([0, 3]);
    expect(j.functions).toEqual([{ library: 'mylib', engine: 'LUA' }]);
    expect(j.endOffset).toBe(readFileSync(fixture('all-types-nocrc')).length);
  });
  it('a truncated file: exit 1, where and why', () => {
    const data = readFileSync(fixture('all-types'));
    const p = join(tmp, 'trunc.rdb');
    writeFileSync(p, data.subarray(0, 2000));
    const r = run('check', p);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/RDB ERROR DETECTED/);
    expect(r.out).toMatch(/truncated: expected .*file ends at offset 2000/);
    const j = JSON.parse(run('check', '--json', p).out);
    expect(j.ok).toBe(false);
    expect(j.error).toMatchObject({ code: 'truncated', truncated: true });
    expect(j.error.offset).toBeLessThanOrEqual(2000);
  });
  it('a bad checksum: exit 1 with both values', () => {
    const data = Buffer.from(readFileSync(fixture('all-types')));
    data[data.length - 1] ^= 0xff;
    const p = join(tmp, 'crc.rdb');
    writeFileSync(p, data);
    const r = run('check', p);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/stored CRC64 [0-9a-f]{16}, computed [0-9a-f]{16}/);
  });
  it('usage and I/O errors: exit 2 and 3', () => {
    expect(run('check').code).toBe(2);
    const r = run('check', join(tmp, 'missing.rdb'));
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/missing\.rdb/);
  });
});

describe.skipIf(!built)('rdb-tool info', () => {
  it('--json: version, aux, per-db types and encodings, largest keys', () => {
    const r = run('info', '--json', '--top', '3', fixture('many-nodes'));
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.version).toBe(10);
    expect(j.aux['redis-ver']).toBe('7.0.15');
    expect(j.largest).toHaveLength(3);
    expect(j.largest[0].size).toBeGreaterThanOrEqual(j.largest[1].size);
    expect(j.dbs[0].byEncoding['list/quicklist']).toBeGreaterThan(0);
    expect(j.expires).toBe(2);
    expect(j.functions[0].library).toBe('mylib');
  });
  it('human output', () => {
    const r = run('info', fixture('all-types'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/largest keys:/);
    expect(run('info', '--top', 'x', fixture('all-types')).code).toBe(2);
  });
});

const corpus = corpusDir();
describe.skipIf(!built)('rdb-tool dump', () => {
  it('jsonl equals the library canonical dump; filters; --output', async () => {
    const r = run('dump', fixture('all-types'));
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(JSON.parse(lines[0])).toMatchObject({ library: 'mylib', engine: 'LUA' });
    expect(lines.filter((l) => l.startsWith('{"db":0')).length).toBeGreaterThan(10);
    const db3 = run('dump', '--db', '3', fixture('all-types')).out.trimEnd().split('\n');
    expect(db3).toHaveLength(1);
    expect(JSON.parse(db3[0])).toMatchObject({ db: 3, key: 'other:db', type: 'string', expireAt: 4102444800000 });
    const sets = run('dump', '--type', 'set', '--key', 'set:*', fixture('all-types')).out.trimEnd().split('\n');
    expect(sets.map((l) => JSON.parse(l).key)).toEqual(['set:big', 'set:int', 'set:str']);
    const enc = run('dump', '--encoding', '--key', 'l:big', fixture('many-nodes')).out;
    expect(JSON.parse(enc).encoding).toBe('quicklist');
    const out = join(tmp, 'out.jsonl');
    expect(run('dump', '-o', out, fixture('all-types')).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(r.out);
    const fileOrder = run('dump', '--order', 'file', fixture('all-types')).out.trimEnd().split('\n');
    expect([...fileOrder].sort()).toEqual([...lines].sort());
    expect(run('dump', '--format', 'xml', fixture('all-types')).code).toBe(2);
    expect(run('dump', '--type', 'nope', fixture('all-types')).code).toBe(2);
  });

  it.skipIf(!corpus)('refuses a file with a duplicated key, as Redis does (exit 1)', () => {
    const r = run('dump', join(corpus!, 'peers/redis-rdb-cli/12.rdb'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/duplicated key "-123" in db 0/);
  });

  it.skipIf(!corpus)('streams of RDB <= 9 files: null metadata by default (as Redis 5/6 report it), derived on request (as 7.0)', () => {
    const norm = (t: string) =>
      t
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const o = JSON.parse(l);
          delete o.encoding;
          return JSON.stringify(o);
        })
        .join('\n');
    for (const v of ['5.0.14', '6.0.20', '6.2.16']) {
      const f = join(corpus!, 'rdb', 'old', v);
      expect(norm(run('dump', `${f}.rdb`).out), v).toBe(norm(readFileSync(`${f}.expected.jsonl`, 'utf8')));
      expect(norm(run('dump', '--stream-meta', 'derived', `${f}.rdb`).out), v).toBe(norm(readFileSync(`${f}.expected.redis-7.0.15.jsonl`, 'utf8')));
    }
  });

  it.skipIf(!corpus)('jsonl of corpus files equals their expected files', () => {
    for (const f of ['rdb/redis-7.4.1/hfe', 'rdb/old/2.4.18', 'rdb/valkey-8.0.1/small-encodings']) {
      const want = readFileSync(join(corpus!, `${f}.expected.jsonl`), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const o = JSON.parse(l);
          delete o.encoding;
          return JSON.stringify(o) + '\n';
        })
        .join('');
      expect(run('dump', join(corpus!, `${f}.rdb`)).out).toBe(want);
    }
  });

  it.skipIf(!redisAvailable() || !redisToolAvailable('redis-cli'))('resp output rebuilds the keyspace through redis-cli --pipe', async () => {
    for (const [name, order] of [['all-types', 'canonical'], ['many-nodes', 'canonical'], ['tiny-limits', 'file']]) {
      const resp = run('dump', '--format', 'resp', '--order', order, fixture(name));
      expect(resp.code).toBe(0);
      const server = await startRedis({ config: { save: '' } });
      try {
        const pipe = spawn('redis-cli', ['-p', String(server.port), '--pipe']);
        let text = '';
        pipe.stdout.on('data', (d: Buffer) => (text += d.toString()));
        pipe.stdin.end(resp.raw);
        await new Promise<void>((res) => pipe.on('close', () => res()));
        expect(text).toMatch(/errors: 0, replies: \d+/);
        const live = await dumpLiveKeyspace(server.client);
        const ours: KeyspaceRecord[] = [];
        for await (const rec of rdbKeyspaceRecords(fixture(name), { dropExpiredBefore: Date.now() })) ours.push(rec);
        const same = sameKeyspace(live, ours, { ignore: ['streamConsumerTimes'] });
        expect(same.diff).toEqual([]);
      } finally {
        await server.stop();
      }
    }
  });
});

