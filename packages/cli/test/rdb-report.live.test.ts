// rdb-tool report as users run it (the built binary): on the fixtures and the corpus (totals against rdb-tool
// memory, several files, the output policy of --html, usage errors, a damaged file), and live: a known keyspace
// written to a redis-server and SAVEd, the report's counts, types, TTL buckets and prefix memory checked against
// what the server says (DBSIZE, TYPE, PEXPIRETIME, SCAN MATCH, MEMORY USAGE).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { corpusDir, redisAvailable, repoRoot, startRedis } from '@redis-persist/testkit';

const root = repoRoot()!;
const bin = join(root, 'packages/cli/bin/rdb-tool.js');
const built = existsSync(join(root, 'packages/cli/dist/rdb-tool/report.js'));
const fixture = join(root, 'fixtures/rdb/all-types.rdb');
const tmp = mkdtempSync(join(tmpdir(), 'rdbreport-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status ?? -1, out: r.stdout.toString('utf8'), err: r.stderr.toString('utf8') };
}

describe.skipIf(!built)('rdb-tool report', () => {
  it('--json: totals equal rdb-tool memory --keep-expired; every histogram sums to the totals', () => {
    const r = run('report', '--json', fixture);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    const m = JSON.parse(run('memory', '--json', '--keep-expired', fixture).out);
    expect(j.version).toBe(1);
    expect(j.totals.keys).toBe(m.totals.keys);
    expect(j.totals.memory).toBe(m.totals.memory);
    expect(j.files[0].usedMemory).toBe(m.usedMemory);
    for (const list of [j.types, j.encodingsHistogram, j.ttl]) {
      expect(list.reduce((s: number, x: { keys: number }) => s + x.keys, 0)).toBe(j.totals.keys);
    }
    expect(j.prefixes.mode).toBe('exact');
    expect(j.topByMemory.length).toBe(Math.min(20, j.totals.keys));
  });

  it('terminal tables without colour under NO_COLOR; sections present', () => {
    const r = run('report', fixture);
    expect(r.code).toBe(0);
    expect(r.out).not.toMatch(/\x1b\[/);
    for (const s of ['Files', 'Prefixes', 'Top 16 keys by memory', 'Types', 'Encodings', 'TTL']) expect(r.out).toContain(s);
  });

  it('--max-prefixes small: heavy-hitter mode, error bounds stated', () => {
    const j = JSON.parse(run('report', '--json', '--max-prefixes', '2', fixture).out);
    expect(j.prefixes.mode).toBe('heavy-hitters');
    expect(j.prefixes.entries.length).toBe(2);
    expect(j.prefixes.memoryErrorBound).toBeGreaterThan(0);
    const t = run('report', '--max-prefixes', '2', fixture).out;
    expect(t).toMatch(/heavy hitters: more than 2 prefixes/);
  });

  it('--html: written atomically, refused over an existing file (exit 2), replaced with --force', () => {
    const out = join(tmp, 'r.html');
    const a = run('report', '--html', out, fixture);
    expect(a.code).toBe(0);
    expect(a.err).toContain(`wrote ${out}`);
    const first = readFileSync(out, 'utf8');
    expect(first).toMatch(/^<!DOCTYPE html>/);
    const again = run('report', '--html', out, fixture);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/--force/);
    expect(run('report', '--html', out, '--force', '--json', fixture).code).toBe(0);
    expect(existsSync(`${out}.bak`)).toBe(true);
  });

  it('usage errors exit 2; a damaged file exits 1 naming the file and the offset', () => {
    expect(run('report', '--depth', '0', fixture).code).toBe(2);
    expect(run('report', '--max-prefixes', 'x', fixture).code).toBe(2);
    expect(run('report', '--now', 'yesterday', fixture).code).toBe(2);
    expect(run('report', '--server', 'keydb', fixture).code).toBe(2);
    expect(run('report', '--separator', '·', fixture).code).toBe(2);
    const cut = join(tmp, 'cut.rdb');
    const bytes = readFileSync(fixture);
    writeFileSync(cut, bytes.subarray(0, 600));
    const r = run('report', fixture, cut);
    expect(r.code).toBe(1);
    expect(r.err).toContain(cut);
    expect(r.err).toMatch(/offset \d+/);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('--now: TTL buckets move with it (ISO and ms)', () => {
    const j = JSON.parse(run('report', '--json', fixture).out);
    const ttlKeys = j.totals.keys - j.totals.withoutTtl;
    expect(ttlKeys).toBeGreaterThan(0);
    const late = JSON.parse(run('report', '--json', '--now', '9999-01-01T00:00:00Z', fixture).out);
    expect(late.ttl.find((b: { bucket: string }) => b.bucket === 'expired').keys).toBe(ttlKeys);
    expect(JSON.parse(run('report', '--json', '--now', '0', fixture).out).now).toBe(0);
  });

  it('the shared key filters: --type, --key/--exclude-key, --expired with the report\'s --now, usage errors', () => {
    const all = JSON.parse(run('report', '--json', fixture).out);
    const strings = JSON.parse(run('report', '--json', '--type', 'string', fixture).out);
    const stringType = all.types.find((t: { type: string }) => t.type === 'string');
    expect(strings.totals.keys).toBe(stringType.keys);
    expect(strings.types.map((t: { type: string }) => t.type)).toEqual(['string']);
    expect(JSON.parse(run('report', '--json', '--key', 'no-such-key-*', fixture).out).totals.keys).toBe(0);
    const excluded = JSON.parse(run('report', '--json', '--exclude-key', '*', fixture).out);
    expect(excluded.totals.keys).toBe(0);
    // expired relative to a far future --now: every key with a TTL, and only those
    const late = JSON.parse(run('report', '--json', '--expired', '--now', '9999-01-01T00:00:00Z', fixture).out);
    expect(late.totals.keys).toBe(all.totals.keys - all.totals.withoutTtl);
    expect(late.totals.withoutTtl).toBe(0);
    expect(run('report', '--json', '--type', 'nosuch', fixture).code).toBe(2);
    expect(run('report', '--json', '--expired', '--not-expired', fixture).code).toBe(2);
  });

  const corpus = corpusDir();
  it.skipIf(corpus === null)('several files of the corpus: one report, per-file totals that add up', () => {
    if (corpus === null) return;
    const files = ['rdb/redis-7.0.15/big-encodings.rdb', 'rdb/redis-7.2.6/big-encodings.rdb', 'rdb/valkey-8.0.1/big-encodings.rdb']
      .map((f) => join(corpus, f))
      .filter((f) => existsSync(f));
    expect(files.length).toBeGreaterThanOrEqual(2);
    const j = JSON.parse(run('report', '--json', ...files).out);
    expect(j.files.map((f: { file: string }) => f.file)).toEqual(files);
    for (const f of files) {
      const one = JSON.parse(run('report', '--json', f).out);
      const mine = j.files.find((x: { file: string }) => x.file === f);
      expect(mine.keys).toBe(one.totals.keys);
      expect(mine.memory).toBe(one.totals.memory);
    }
    expect(j.totals.keys).toBe(j.files.reduce((s: number, f: { keys: number }) => s + f.keys, 0));
  });
});

describe.skipIf(!built || !redisAvailable())('rdb-tool report against a live server', () => {
  it('counts, types, TTL buckets and prefix totals as the server reports them', async () => {
    const server = await startRedis();
    try {
      const c = server.client;
      const H = 3_600_000;
      const cmds: string[][] = [];
      for (let i = 0; i < 300; i++) cmds.push(['SET', `user:${i}:name`, `name-${i}`]);
      for (let i = 0; i < 120; i++) cmds.push(['HSET', `user:${i}:profile`, 'a', '1', 'b', 'x'.repeat(i)]);
      for (let i = 0; i < 40; i++) cmds.push(['RPUSH', `queue:${i % 4}:jobs:${i}`, ...Array.from({ length: 1 + i * 10 }, (_, k) => `job-${k}`)]);
      for (let i = 0; i < 30; i++) cmds.push(['SADD', `tags:${i}`, ...Array.from({ length: 1 + i }, (_, k) => `t${k}`)]);
      for (let i = 0; i < 25; i++) cmds.push(['ZADD', `rank:${i}`, ...Array.from({ length: 1 + i * 7 }, (_, k) => [String(k), `m${k}`]).flat()]);
      cmds.push(['XADD', 'events', '*', 'f', 'v'], ['SET', 'plain', 'v']);
      // TTLs in every bucket
      for (let i = 0; i < 300; i++) {
        const ms = i < 50 ? 20 * 60_000 : i < 80 ? 3 * H : i < 90 ? 3 * 24 * H : i < 95 ? 30 * 24 * H : 0;
        if (ms) cmds.push(['PEXPIRE', `user:${i}:name`, String(ms)]);
      }
      await c.pipeline(cmds);
      await c.call('SAVE');
      const now = Date.now();
      const r = run('report', '--json', '--config', server.configFile, '--now', String(now), join(server.dir, 'dump.rdb'));
      expect(r.code).toBe(0);
      const j = JSON.parse(r.out);

      // what the server says, key by key
      const keys = ((await c.call('KEYS', '*')).value as { value: Uint8Array }[]).map((v) => Buffer.from(v.value).toString());
      expect(j.totals.keys).toBe(Number(await c.callInt('DBSIZE')));
      expect(j.totals.keys).toBe(keys.length);
      const types: Record<string, number> = {};
      const buckets: Record<string, number> = { expired: 0, lt1h: 0, lt1d: 0, lt7d: 0, longer: 0, none: 0 };
      const prefix: Record<string, { keys: number; memory: number; withoutTtl: number }> = {};
      for (const k of keys) {
        const t = (await c.callText('TYPE', k))!;
        types[t] = (types[t] ?? 0) + 1;
        const at = Number(await c.callInt('PEXPIRETIME', k));
        const left = at - now;
        const b = at < 0 ? 'none' : left <= 0 ? 'expired' : left < H ? 'lt1h' : left < 24 * H ? 'lt1d' : left < 7 * 24 * H ? 'lt7d' : 'longer';
        buckets[b]!++;
        const mem = Number(await c.callInt('MEMORY', 'USAGE', k, 'SAMPLES', '0'));
        const first = k.split(':')[0]!;
        if (k.includes(':')) {
          const p = (prefix[first] ??= { keys: 0, memory: 0, withoutTtl: 0 });
          p.keys++;
          p.memory += mem;
          if (at < 0) p.withoutTtl++;
        }
      }
      expect(Object.fromEntries(j.types.map((t: { type: string; keys: number }) => [t.type, t.keys]))).toEqual(types);
      expect(Object.fromEntries(j.ttl.map((t: { bucket: string; keys: number }) => [t.bucket, t.keys]))).toEqual(buckets);
      expect(buckets).toMatchObject({ lt1h: 50, lt1d: 30, lt7d: 10, longer: 5 });
      expect(j.totals.withoutTtl).toBe(buckets.none);
      for (const [name, want] of Object.entries(prefix)) {
        const e = j.prefixes.entries.find((x: { prefix: string }) => x.prefix === name);
        expect(e, name).toBeDefined();
        expect([name, e.keys, e.withoutTtl]).toEqual([name, want.keys, want.withoutTtl]);
        // the memory model is within 10 % of MEMORY USAGE per key (bench/memory-accuracy.md; rdb-memory.live.test.ts)
        expect(Math.abs(e.memory - want.memory) / want.memory, name).toBeLessThan(0.1);
      }
      // a depth-2 node: user:7 holds user:7:name and user:7:profile
      expect(j.prefixes.entries.find((x: { prefix: string }) => x.prefix === 'user:7')).toMatchObject({ depth: 2, parent: 'user', keys: 2 });
      const biggestList = j.topByElements[0];
      expect(biggestList.elements).toBe(Number(await c.callInt('LLEN', biggestList.key)));
    } finally {
      await server.stop();
    }
  }, 120_000);
});
