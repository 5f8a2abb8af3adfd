// rdb-tool memory as users run it (the built binary): formats, the output policy, usage errors, and a live check that
// the estimates a user gets with the server's own redis.conf match MEMORY USAGE on that server.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { redisAvailable, repoRoot, startRedis } from '@redis-persist/testkit';

const root = repoRoot()!;
const bin = join(root, 'packages/cli/bin/rdb-tool.js');
const built = existsSync(join(root, 'packages/cli/dist/rdb-tool/memory-estimate.js'));
const fixture = join(root, 'fixtures/rdb/all-types.rdb');
const tmp = mkdtempSync(join(tmpdir(), 'rdbmemory-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status ?? -1, out: r.stdout.toString('utf8'), err: r.stderr.toString('utf8') };
}

describe.skipIf(!built)('rdb-tool memory', () => {
  it('JSON Lines: a line per key with db, key, type, encoding, memory, expiresOverhead; then the summary', () => {
    const r = run('memory', fixture);
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n').map((l) => JSON.parse(l));
    const summary = lines.pop().summary;
    expect(lines.length).toBe(summary.totals.keys);
    for (const l of lines) {
      expect(Object.keys(l).slice(0, 6)).toEqual(['db', 'key', 'type', 'encoding', 'memory', 'expiresOverhead']);
      expect(l.memory).toBeGreaterThan(0);
    }
    expect(summary.totals.memory).toBe(lines.reduce((s, l) => s + l.memory, 0));
    expect(summary.encodings).toBe('file');
    expect(summary.usedMemory).toBe(summary.totals.allocated + summary.totals.expiresOverhead + summary.dbOverhead);
  });

  it('CSV with a header; the summary on stderr; --json gives the summary alone', () => {
    const r = run('memory', '--format', 'csv', fixture);
    expect(r.code).toBe(0);
    const rows = r.out.trimEnd().split('\n');
    expect(rows[0]).toBe('db,key,type,encoding,memory,expiresOverhead,allocated,elements,fileEncoding,expireAt');
    expect(r.err).toMatch(/keys: .* as MEMORY USAGE counts them/);
    const j = JSON.parse(run('memory', '--json', fixture).out);
    expect(j.totals.keys).toBe(rows.length - 1);
  });

  it('--config: the loading server\'s limits change encodings (a tiny hash limit makes hashtables)', () => {
    const conf = join(tmp, 'tiny.conf');
    writeFileSync(conf, 'hash-max-listpack-entries 0\nzset-max-listpack-entries 0\n');
    const lines = run('memory', '--config', conf, fixture).out.trimEnd().split('\n').map((l) => JSON.parse(l));
    const summary = lines.pop().summary;
    expect(summary.encodings).toBe('config');
    for (const l of lines.filter((x) => x.type === 'hash')) expect(l.encoding).toBe('hashtable');
    for (const l of lines.filter((x) => x.type === 'zset')) expect(l.encoding).toBe('skiplist');
  });

  it('-o: atomic, refused over an existing file without --force (exit 2), kept as .bak with it', () => {
    const out = join(tmp, 'mem.jsonl');
    expect(run('memory', '-o', out, fixture).code).toBe(0);
    const first = readFileSync(out, 'utf8');
    expect(first).toMatch(/"summary"/);
    const again = run('memory', '-o', out, fixture);
    expect(again.code).toBe(2);
    expect(run('memory', '--force', '--format', 'csv', '-o', out, fixture).code).toBe(0);
    expect(readFileSync(`${out}.bak`, 'utf8')).toBe(first);
  });

  it('usage errors exit 2; a missing file exits non-zero; the valkey-8 model runs', () => {
    expect(run('memory', '--format', 'xml', fixture).code).toBe(2);
    expect(run('memory', '--server', 'keydb', fixture).code).toBe(2);
    expect(run('memory', join(tmp, 'nope.rdb')).code).not.toBe(0);
    const v = run('memory', '--server', 'valkey-8', '--json', fixture);
    expect(v.code).toBe(0);
    expect(JSON.parse(v.out).server).toBe('valkey-8');
  });

  it.skipIf(!redisAvailable())('live: with the server\'s redis.conf, every key within 10 % of MEMORY USAGE SAMPLES 0', async () => {
    const server = await startRedis({ config: { 'hash-max-listpack-entries': '4', 'set-max-intset-entries': '8', 'zset-max-listpack-entries': '3' } });
    try {
      const c = server.client;
      await c.pipeline([
        ['SET', 'int', '12345678'],
        ['SET', 'short', 'hello'],
        ['SET', 'long', 'x'.repeat(1000)],
        ['RPUSH', 'list', ...Array.from({ length: 300 }, (_, i) => `item-${i}`)],
        ['SADD', 'ints', '1', '2', '3'],
        ['SADD', 'mixed', ...Array.from({ length: 20 }, (_, i) => `m${i}`)],
        ['HSET', 'small', 'a', '1', 'b', '2'],
        ['HSET', 'big', ...Array.from({ length: 20 }, (_, i) => [`f${i}`, `v${i}`]).flat()],
        ['ZADD', 'z', '1', 'a', '2.5', 'b', '3', 'c', '4', 'd'],
        ['ZADD', 'zs', '1', 'a'],
        ['XADD', 'x', '1-1', 'f', 'v'],
        ['PEXPIRE', 'list', '100000000'],
      ]);
      await c.call('SAVE');
      const r = run('memory', '--config', server.configFile, join(server.dir, 'dump.rdb'));
      expect(r.code).toBe(0);
      const lines = r.out.trimEnd().split('\n').map((l) => JSON.parse(l));
      lines.pop();
      await server.restart();
      for (const l of lines) {
        const actual = Number(await server.client.callInt('MEMORY', 'USAGE', l.key, 'SAMPLES', '0'));
        expect({ key: l.key, ok: Math.abs(l.memory - actual) <= actual * 0.1 }).toEqual({ key: l.key, ok: true });
        expect(l.encoding).toBe(await server.client.callText('OBJECT', 'ENCODING', l.key));
      }
      expect(lines.find((l) => l.key === 'list').expiresOverhead).toBe(32);
    } finally {
      await server.stop();
    }
  });
});
