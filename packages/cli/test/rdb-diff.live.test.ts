// rdb-tool diff as users run it (the built binary) on snapshots redis-server 7.0.15 wrote: keys added, removed,
// changed in value, expiry and type, function libraries, and the exit codes (0 equal, 1 different, 2 usage).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisAvailable, repoRoot, startRedis, type RedisServer } from '@redis-persist/testkit';

const root = repoRoot()!;
const bin = join(root, 'packages/cli/bin/rdb-tool.js');
const built = existsSync(join(root, 'packages/cli/dist/rdb-tool/diff.js'));
const tmp = mkdtempSync(join(tmpdir(), 'rdbdiff-'));
const a = join(tmp, 'a.rdb');
const b = join(tmp, 'b.rdb');
let server: RedisServer | null = null;

function run(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status ?? -1, out: r.stdout.toString('utf8'), err: r.stderr.toString('utf8') };
}

// expiries far in the future, so the keys are not dropped as expired
const T1 = 4102444800000; // 2100-01-01
const T2 = 4102531200000; // a day later
const T3 = 4102617600000;
const LIB1 = "#!lua name=lib1\nredis.register_function('f1', function() return 1 end)";
const LIB1B = "#!lua name=lib1\nredis.register_function('f1', function() return 11 end)";
const LIB2 = "#!lua name=lib2\nredis.register_function('f2', function() return 2 end)";

const live = built && redisAvailable();

beforeAll(async () => {
  if (!live) return;
  server = await startRedis();
  const c = server.client;
  await c.call('FUNCTION', 'LOAD', LIB1);
  await c.call('SET', 'same', 'v');
  await c.call('SET', 'gone', 'x');
  await c.call('RPUSH', 'list', 'a', 'b', 'c');
  await c.call('SET', 'ttl', 't');
  await c.call('PEXPIREAT', 'ttl', String(T1));
  await c.call('SET', 'typ', 's');
  await c.call('SET', Buffer.from([0xff, 0x00]), 'bin');
  await c.call('SET', 'keeps-ttl', 'k');
  await c.call('PEXPIREAT', 'keeps-ttl', String(T1));
  await c.call('SELECT', '1');
  await c.call('HSET', 'h', 'f', 'v');
  await c.call('SAVE');
  copyFileSync(join(server.dir, 'dump.rdb'), a);
  // the changes: one of each kind
  await c.call('SELECT', '0');
  await c.call('DEL', 'gone');
  await c.call('RPUSH', 'list', 'd');
  await c.call('PEXPIREAT', 'ttl', String(T2));
  await c.call('DEL', 'typ');
  await c.call('SADD', 'typ', 's');
  await c.call('SET', 'new', 'n');
  await c.call('PEXPIREAT', 'new', String(T3));
  await c.call('SET', Buffer.from([0xfe]), 'binary key');
  await c.call('SELECT', '1');
  await c.call('HSET', 'h', 'f', 'v2');
  await c.call('FUNCTION', 'LOAD', 'REPLACE', LIB1B);
  await c.call('FUNCTION', 'LOAD', LIB2);
  await c.call('SAVE');
  copyFileSync(join(server.dir, 'dump.rdb'), b);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const EXPECTED = {
  equal: false,
  summary: { added: 2, removed: 1, changed: 4, functions: 2 },
  added: [
    { db: 0, key: 'new', type: 'string', expireAt: T3 },
    { db: 0, key: { base64: '/g==' }, type: 'string', expireAt: null },
  ],
  removed: [{ db: 0, key: 'gone', type: 'string', expireAt: null }],
  changed: [
    { db: 0, key: 'list', changes: ['value'], oldType: 'list', newType: 'list', oldExpireAt: null, newExpireAt: null },
    { db: 0, key: 'ttl', changes: ['ttl'], oldType: 'string', newType: 'string', oldExpireAt: T1, newExpireAt: T2 },
    { db: 0, key: 'typ', changes: ['type', 'value'], oldType: 'string', newType: 'set', oldExpireAt: null, newExpireAt: null },
    { db: 1, key: 'h', changes: ['value'], oldType: 'hash', newType: 'hash', oldExpireAt: null, newExpireAt: null },
  ],
  functions: [
    { library: 'lib1', change: 'changed' },
    { library: 'lib2', change: 'added' },
  ],
  truncated: false,
};

describe.skipIf(!live)('rdb-tool diff (redis-server 7.0.15 snapshots)', () => {
  it('--json: the exact differences, exit 1', () => {
    const r = run('diff', '--json', a, b);
    expect(r.err).toBe('');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toEqual({ a, b, ...EXPECTED });
  });

  it('a file against itself: equal, exit 0 (human, --json and --quiet)', () => {
    const h = run('diff', a, a);
    expect(h.code).toBe(0);
    expect(h.out).toBe(`${a} and ${a} hold the same keyspace\n`);
    const j = run('diff', '--json', b, b);
    expect(j.code).toBe(0);
    expect(JSON.parse(j.out)).toMatchObject({ equal: true, summary: { added: 0, removed: 0, changed: 0, functions: 0 }, added: [], removed: [], changed: [], functions: [] });
    const q = run('diff', '--quiet', b, b);
    expect([q.code, q.out, q.err]).toEqual([0, '', '']);
  });

  it('human output: the summary line and the lists; --limit truncates with a note; --quiet prints nothing', () => {
    const r = run('diff', a, b);
    expect(r.code).toBe(1);
    expect(r.out.split('\n')).toEqual([
      `${a} -> ${b}: 2 added, 1 removed, 4 changed, 2 function libraries differ`,
      'functions:',
      '  ~ "lib1" (changed)',
      '  + "lib2" (added)',
      'added:',
      '  + db0 "new" (string, expires 2100-01-03T00:00:00.000Z)',
      '  + db0 {"base64":"/g=="} (string)',
      'removed:',
      '  - db0 "gone" (string)',
      'changed:',
      '  ~ db0 "list" (list): value',
      '  ~ db0 "ttl" (string): expiry 2100-01-01T00:00:00.000Z -> 2100-01-02T00:00:00.000Z',
      '  ~ db0 "typ" (set): type string -> set',
      '  ~ db1 "h" (hash): value',
      '',
    ]);
    const l = run('diff', '--limit', '1', a, b);
    expect(l.out).toContain('  ~ db0 "list" (list): value\n  ... and 3 more (--limit N shows more)\n');
    const j = JSON.parse(run('diff', '--json', '--limit', '1', a, b).out);
    expect(j.changed).toHaveLength(1);
    expect(j.summary.changed).toBe(4);
    expect(j.truncated).toBe(true);
    const q = run('diff', '-q', a, b);
    expect([q.code, q.out, q.err]).toEqual([1, '', '']);
  });

  it('filters: --ignore-ttl, --db, --key (functions are compared only without a filter)', () => {
    const t = JSON.parse(run('diff', '--json', '--ignore-ttl', a, b).out);
    expect(t.changed.map((c: { key: string }) => c.key)).toEqual(['list', 'typ', 'h']);
    const d = JSON.parse(run('diff', '--json', '--db', '1', a, b).out);
    expect(d).toMatchObject({ summary: { added: 0, removed: 0, changed: 1, functions: 0 }, changed: [EXPECTED.changed[3]], functions: [] });
    const k = run('diff', '--json', '--key', 't*', a, b);
    expect(k.code).toBe(1);
    expect(JSON.parse(k.out).changed.map((c: { key: string }) => c.key)).toEqual(['ttl', 'typ']);
    expect(run('diff', '--quiet', '--key', 'same', a, b).code).toBe(0);
  });

  it('either side may be keyspace JSON Lines (any order) or a data directory', () => {
    const jsonl = join(tmp, 'b.jsonl');
    const dump = run('dump', b);
    expect(dump.code).toBe(0);
    // reversed: the diff sorts it
    writeFileSync(jsonl, dump.out.trimEnd().split('\n').reverse().join('\n') + '\n');
    const r = run('diff', '--json', a, jsonl);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toEqual({ a, b: jsonl, ...EXPECTED });
    expect(run('diff', '--quiet', jsonl, b).code).toBe(0);
    // the server's data directory holds b's snapshot as dump.rdb
    const dir = run('diff', b, server!.dir);
    expect(dir.code).toBe(0);
    expect(dir.err).toContain(`using ${join(server!.dir, 'dump.rdb')}`);
  });

  it('--json of a large difference (lists spilled to temp files) is complete and in canonical order', () => {
    let x = '';
    let y = '';
    for (let i = 0; i < 30000; i++) {
      const k = `k:${String(i).padStart(6, '0')}`;
      x += `{"db":0,"key":"${k}","type":"string","expireAt":null,"value":"v${i}"}\n`;
      y += `{"db":0,"key":"${k}","type":"string","expireAt":null,"value":"${i % 2 ? 'v' : 'w'}${i}"}\n{"db":0,"key":"n:${i}","type":"string","expireAt":null,"value":"v"}\n`;
    }
    writeFileSync(join(tmp, 'big-a.jsonl'), x);
    writeFileSync(join(tmp, 'big-b.jsonl'), y);
    const r = run('diff', '--json', join(tmp, 'big-a.jsonl'), join(tmp, 'big-b.jsonl'));
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out);
    expect(j.summary).toEqual({ added: 30000, removed: 0, changed: 15000, functions: 0 });
    expect(j.added).toHaveLength(30000);
    expect(j.changed).toHaveLength(15000);
    expect(j.truncated).toBe(false);
    expect(j.changed[14999].key).toBe('k:029998');
    const keys = j.added.map((e: { key: string }) => e.key);
    expect(keys).toEqual([...keys].sort((p: string, q: string) => Buffer.compare(Buffer.from(p), Buffer.from(q))));
  });

  it('usage errors exit 2; a missing file is an I/O error (3)', () => {
    expect(run('diff', a).code).toBe(2);
    expect(run('diff', '--db', 'x', a, b).code).toBe(2);
    expect(run('diff', '--limit', '-1', a, b).code).toBe(2);
    expect(run('diff', '--json', '--quiet', a, b).code).toBe(2);
    const m = run('diff', a, join(tmp, 'missing.rdb'));
    expect(m.code).toBe(3);
    expect(m.err).toContain('missing.rdb');
  });
});
