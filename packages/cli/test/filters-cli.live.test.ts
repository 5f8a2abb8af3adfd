// The shared key filter options, command by command, on the fixtures (and a corpus file when ../shared is there):
// what each command keeps, the aliases of the older flags, and the usage errors (exit 2).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAof } from '@redis-persist/aof';
import { corpusDir } from '@redis-persist/testkit';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const rdbTool = join(root, 'packages/cli/bin/rdb-tool.js');
const aofTool = join(root, 'packages/cli/bin/aof-tool.js');
const built = existsSync(join(root, 'packages/cli/dist/rdb-tool/main.js'));
if (!built) console.warn('[filters cli] packages/cli/dist is missing: run `pnpm build` first; skipped');
const RDB = join(root, 'fixtures/rdb/all-types.rdb');
const AOF = join(root, 'fixtures/aof/timestamps-multipart/appendonlydir');

const dir = mkdtempSync(join(tmpdir(), 'filters-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(bin: string, args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', input: '', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const keysOf = (jsonl: string) =>
  jsonl
    .split('\n')
    .filter((l) => l.includes('"key"'))
    .map((l) => {
      const r = JSON.parse(l) as { db: number; key: string };
      return `${r.db}/${r.key}`;
    });

describe.skipIf(!built)('key filter options of each command', () => {
  it('rdb-tool dump: globs, regexes, exclusions, types, dbs, expiry, sizes', () => {
    const dump = (...a: string[]) => {
      const r = run(rdbTool, ['dump', RDB, '--order', 'file', ...a]);
      expect(r.code, r.stderr).toBe(0);
      return keysOf(r.stdout);
    };
    expect(dump('--key', 'l:*', '--key', 'h:s*')).toEqual(['0/h:small', '0/l:big', '0/l:small']);
    expect(dump('--key', 'l:*', '--type', 'list,hash', '--exclude-key', '*big')).toEqual(['0/l:small']);
    expect(dump('--key-regex', '^s:(neg|int)$')).toEqual(['0/s:neg', '0/s:int']);
    expect(dump('--exclude-key-regex', ':', '--db', '0')).toEqual(['0/x']);
    expect(dump('--db', '3')).toEqual(['3/other:db']);
    // other:db expires at 4102444800000, s:ttl at 4102444800123: --expired keeps keys a loading master would drop
    expect(dump('--expired', '--now', '4102444800050')).toEqual(['3/other:db']);
    expect(dump('--expired', '--now', '2100-01-01T00:00:01Z')).toEqual(['0/s:ttl', '3/other:db']);
    expect(dump('--not-expired', '--now', '4102444800050', '--key', 's:*', '--exclude-key', 's:[bins]*')).toEqual(['0/s:ttl']);
    expect(dump('--min-elements', '100')).toEqual(['0/set:big', '0/z:big']);
    expect(dump('--min-bytes', '600')).toEqual(['0/set:big', '0/z:big']);
    // a filter on keys leaves the functions out, as before
    const resp = run(rdbTool, ['dump', RDB, '--format', 'resp', '--key', 's:small']);
    expect(resp.stdout).toContain('s:small');
  });

  it('rdb-tool info, memory, export, convert, to-aof', () => {
    const info = run(rdbTool, ['info', RDB, '--json', '--type', 'hash']);
    expect(info.code, info.stderr).toBe(0);
    const doc = JSON.parse(info.stdout) as { keys: number; filtered: boolean; largest: { key: string }[] };
    expect(doc.keys).toBe(2);
    expect(doc.filtered).toBe(true);
    expect(doc.largest.map((k) => k.key).sort()).toEqual(['h:big', 'h:small']);

    const mem = run(rdbTool, ['memory', RDB, '--min-elements', '100', '--exclude-key', 'z:*']);
    expect(mem.code, mem.stderr).toBe(0);
    expect(keysOf(mem.stdout)).toEqual(['0/set:big']);

    const exp = run(rdbTool, ['export', RDB, '-o', join(dir, 'exp'), '--format', 'csv', '--db', '3']);
    expect(exp.code, exp.stderr).toBe(0);
    const csv = readFileSync(join(dir, 'exp', 'all-types.csv'), 'utf8').trim().split('\n');
    expect(csv.length).toBe(2);
    expect(csv[1]).toContain('other:db');

    const conv = run(rdbTool, ['convert', RDB, join(dir, 'c.jsonl'), '--exclude-key', '*:*']);
    expect(conv.code, conv.stderr).toBe(0);
    expect(keysOf(readFileSync(join(dir, 'c.jsonl'), 'utf8'))).toEqual(['0/x']);
    // and from the converted JSON Lines, by elements (no RDB record there: --min-bytes is refused)
    const conv2 = run(rdbTool, ['convert', RDB, join(dir, 'all.jsonl')]);
    expect(conv2.code, conv2.stderr).toBe(0);
    const conv3 = run(rdbTool, ['convert', join(dir, 'all.jsonl'), join(dir, 'big.jsonl'), '--min-elements', '100']);
    expect(conv3.code, conv3.stderr).toBe(0);
    expect(keysOf(readFileSync(join(dir, 'big.jsonl'), 'utf8'))).toEqual(['0/set:big', '0/z:big']);
    const conv4 = run(rdbTool, ['convert', join(dir, 'all.jsonl'), join(dir, 'x.jsonl'), '--min-bytes', '10']);
    expect(conv4.code).toBe(2);
    expect(conv4.stderr).toMatch(/--min-bytes measures a key's record in an RDB file/);

    // diff: the filter applies to both sides
    expect(run(rdbTool, ['diff', RDB, join(dir, 'c.jsonl'), '-q']).code).toBe(1);
    expect(run(rdbTool, ['diff', RDB, join(dir, 'c.jsonl'), '-q', '--key', 'x']).code).toBe(0);
    expect(run(rdbTool, ['diff', RDB, join(dir, 'big.jsonl'), '-q', '--min-elements', '100', '--type', 'set,zset']).code).toBe(0);
    expect(run(rdbTool, ['diff', RDB, join(dir, 'big.jsonl'), '-q', '--key-regex', 'big$']).code).toBe(1);

    const toAof = run(rdbTool, ['to-aof', RDB, join(dir, 's.aof'), '--key', 's:*', '--exclude-key', 's:ttl']);
    expect(toAof.code, toAof.stderr).toBe(0);
    const cmds = parseAof(readFileSync(join(dir, 's.aof'))).map((c) => Buffer.from(c.args[1] ?? []).toString());
    expect(cmds.filter((k) => k.startsWith('s:')).sort()).toEqual(['s:big', 's:int', 's:neg', 's:small']);
  });

  it('aof-tool cat and filter (and the older --key-pattern)', () => {
    const cat = (...a: string[]) => {
      const r = run(aofTool, ['cat', AOF, '--json', ...a]);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout.trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { args: string[] }).args.join(' '));
    };
    const seconds = cat('--key', 'second:*', '--exclude-key', 'second:[3-9]');
    expect(seconds).toEqual(['SET second:2 value 2', 'SET second:0 value 0', 'SET second:1 value 1']);
    expect(cat('--key-pattern', 'second:*', '--exclude-key', 'second:[3-9]')).toEqual(seconds);
    expect(cat('--key-regex', '^(h|timeline)$', '--command', 'hset')).toEqual(['HSET h f3 30', 'HSET h f4 40', 'HSET h f5 50']);

    const out = join(dir, 'f.aof');
    const f = run(aofTool, ['filter', AOF, '-o', out, '--exclude-key', 'second:*']);
    expect(f.code, f.stderr).toBe(0);
    const text = readFileSync(out, 'latin1');
    expect(text).not.toContain('second:');
    expect(text).toMatch(/^#TS:\d+\r$/m);
    const again = run(aofTool, ['filter', AOF, '-o', out, '--exclude-key', 'second:*']);
    expect(again.code).not.toBe(0); // an existing output needs --force
    expect(again.stderr).toMatch(/--force|exists/);
    expect(run(aofTool, ['filter', AOF, '-o', out, '--exclude-key', 'second:*', '--force']).code).toBe(0);
  });

  it('usage errors exit 2 with a clear message', () => {
    const cases: [string, string[], RegExp][] = [
      [rdbTool, ['dump', RDB, '--key-regex', '('], /--key-regex: invalid regular expression "\("/],
      [rdbTool, ['dump', RDB, '--exclude-key-regex', '[z-a]'], /--exclude-key-regex: invalid regular expression/],
      [rdbTool, ['info', RDB, '--type', 'hash,blob'], /--type must be one of string, list, set, zset, hash, stream, module, got "blob"/],
      [rdbTool, ['memory', RDB, '--expired', '--not-expired'], /exclude each other/],
      [rdbTool, ['export', RDB, '-o', join(dir, 'e2'), '--expired', '--now', 'yesterday'], /--now wants Unix ms or an ISO 8601 date/],
      [rdbTool, ['to-aof', RDB, join(dir, 'u.aof'), '--min-bytes', 'x'], /--min-bytes wants a non-negative integer/],
      [rdbTool, ['convert', RDB, join(dir, 'u.rdb'), '--db', 'one'], /--db wants a database number/],
      [rdbTool, ['dump', RDB, '--now', '5'], /--now goes with --expired or --not-expired/],
      [aofTool, ['filter', AOF, '-o', join(dir, 'u2.aof')], /filter needs a filter/],
      [aofTool, ['filter', AOF, '-o', join(dir, 'u3.aof'), '--key', 'a', '--partial', 'maybe'], /--partial must be error, keep or drop/],
      [aofTool, ['cat', AOF, '--type', 'hash'], /unknown option '--type'/],
    ];
    for (const [bin, args, msg] of cases) {
      const r = run(bin, args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
  });

  const corpus = corpusDir();
  it.skipIf(corpus === null)('a corpus RDB: include and exclude partition the keys', () => {
    const file = join(corpus!, 'rdb/redis-7.2.6/dbs-ttl.rdb');
    const all = keysOf(run(rdbTool, ['dump', file, '--keep-expired']).stdout);
    expect(all.length).toBeGreaterThan(2);
    const pattern = all[0].split('/')[1].slice(0, 2) + '*';
    const inc = keysOf(run(rdbTool, ['dump', file, '--keep-expired', '--key', pattern]).stdout);
    const exc = keysOf(run(rdbTool, ['dump', file, '--keep-expired', '--exclude-key', pattern]).stdout);
    expect(inc.length).toBeGreaterThan(0);
    expect([...inc, ...exc].sort()).toEqual([...all].sort());
  });
  if (corpus === null) console.warn('[filters cli] ../shared/corpus is absent: the corpus case is skipped');
});
