// rdb-tool export as users run it (the built binary) on an RDB that redis-server 7.0 writes (every type, TTLs, binary
// keys, two dbs), read back with DuckDB: row count, column names and types, a group-by on the key prefix against
// counts made from the keys themselves, the memory column against `rdb-tool memory`, CSV against Parquet, and the
// output policy.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisAvailable, repoRoot, startRedis, type RedisArg } from '@redis-persist/testkit';

const root = repoRoot()!;
const bin = join(root, 'packages/cli/bin/rdb-tool.js');
const built = existsSync(join(root, 'packages/cli/dist/rdb-tool/export.js'));
const tmp = mkdtempSync(join(tmpdir(), 'rdbexport-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status ?? -1, out: r.stdout.toString('utf8'), err: r.stderr.toString('utf8') };
}

/** The keys the test writes, with their db, as the export names them (UTF-8 text, else `base64:`...). */
const written: { db: number; key: string }[] = [];
const asText = (k: RedisArg): string => {
  if (typeof k !== 'object') return String(k).startsWith('base64:') ? 'base64:' + Buffer.from(String(k)).toString('base64') : String(k);
  return 'base64:' + Buffer.from(k).toString('base64');
};

async function fill(call: (cmds: RedisArg[][]) => Promise<unknown>, db: number, cmds: RedisArg[][]): Promise<void> {
  await call([['SELECT', db], ...cmds]);
  const keyed = new Set(['SET', 'RPUSH', 'SADD', 'HSET', 'ZADD', 'XADD', 'SETEX']);
  for (const c of cmds) if (keyed.has(String(c[0]))) written.push({ db, key: asText(c[1]) });
}

let db: DuckDBConnection;
let rdb: string;
let out: string;
async function q(sql: string): Promise<Record<string, unknown>[]> {
  return (await db.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
}
const pq = () => `read_parquet('${join(out, 'snap.parquet')}')`;
const csv = () =>
  `read_csv('${join(out, 'snap.csv')}', header = true, quote = '"', escape = '"', columns = {'source': 'VARCHAR', 'db': 'INTEGER', 'key': 'VARCHAR', 'type': 'VARCHAR', 'encoding': 'VARCHAR', 'expiry': 'BIGINT', 'elements': 'BIGINT', 'bytes': 'BIGINT', 'memory': 'BIGINT'})`;

describe.skipIf(!built || !redisAvailable())('rdb-tool export', () => {
  beforeAll(async () => {
    const server = await startRedis();
    try {
      const c = server.client;
      const p = (cmds: RedisArg[][]) => c.pipeline(cmds);
      const binary1 = new Uint8Array([0xff, 0xfe, 0x3a, 0x01]);
      const binary2 = new Uint8Array([0x75, 0x73, 0x65, 0x72, 0x3a, 0xc3, 0x28]); // "user:" then an invalid UTF-8 pair
      await fill(p, 0, [
        ['SET', 'user:1', 'alice'],
        ['SET', 'user:2', '12345'],
        ['SET', 'user:3', 'x'.repeat(200)],
        ['SET', 'session:a', 'v'],
        ['SET', 'session:b', 'v'],
        ['SET', 'plain', 'no prefix'],
        ['SET', 'odd,"key"\nwith:newline', 'csv quoting'],
        ['SET', 'base64:looks-encoded', 'a UTF-8 key that starts with base64:'],
        ['SET', binary1, 'binary key'],
        ['SET', binary2, 'binary key 2'],
        ['RPUSH', 'list:small', 'a', 'b', 'c'],
        ['RPUSH', 'list:big', ...Array.from({ length: 300 }, (_, i) => `item-${i}`)],
        ['SADD', 'set:ints', '1', '2', '3'],
        ['SADD', 'set:strs', 'a', 'b'],
        ['SADD', 'set:big', ...Array.from({ length: 200 }, (_, i) => `m${i}`)],
        ['HSET', 'hash:small', 'f', 'v'],
        ['HSET', 'hash:big', ...Array.from({ length: 200 }, (_, i) => [`f${i}`, `v${i}`]).flat()],
        ['ZADD', 'zset:small', '1', 'a', '2.5', 'b'],
        ['ZADD', 'zset:big', ...Array.from({ length: 200 }, (_, i) => [String(i), `m${i}`]).flat()],
        ['XADD', 'stream:1', '1-1', 'f', 'v'],
        ['SETEX', 'ttl:1', 100000, 'expires'],
        ['PEXPIRE', 'list:big', 200000000],
        ['PEXPIRE', binary1, 300000000],
      ]);
      await fill(p, 2, [
        ['SET', 'user:1', 'db2'],
        ['SET', 'cache:x', 'y'],
        ['HSET', 'cache:h', 'a', '1'],
        ['SETEX', 'cache:ttl', 500000, 'z'],
      ]);
      await c.call('SAVE');
      rdb = join(tmp, 'snap.rdb');
      copyFileSync(join(server.dir, 'dump.rdb'), rdb);
    } finally {
      await server.stop();
    }
    out = join(tmp, 'out');
    db = await (await DuckDBInstance.create(':memory:')).connect();
  });

  it('parquet and csv: one file per input, written into the output directory', () => {
    const a = run('export', '-o', out, rdb);
    expect(a.code, a.err).toBe(0);
    expect(a.out).toContain(`snap.parquet: ${written.length} rows`);
    const b = run('export', '--format', 'csv', '--json', '-o', out, rdb);
    expect(b.code, b.err).toBe(0);
    const j = JSON.parse(b.out);
    expect(j.rows).toBe(written.length);
    expect(j.files[0].output).toBe(join(out, 'snap.csv'));
    expect(statSync(join(out, 'snap.csv')).size).toBe(j.files[0].bytes);
  });

  it('count(*) equals the keys; the columns are named and typed as documented', async () => {
    expect(await q(`SELECT count(*)::INTEGER AS n FROM ${pq()}`)).toEqual([{ n: written.length }]);
    const cols = await q(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM ${pq()})`);
    expect(cols).toEqual([
      { column_name: 'source', column_type: 'VARCHAR' },
      { column_name: 'db', column_type: 'INTEGER' },
      { column_name: 'key', column_type: 'VARCHAR' },
      { column_name: 'type', column_type: 'VARCHAR' },
      { column_name: 'encoding', column_type: 'VARCHAR' },
      { column_name: 'expiry', column_type: 'TIMESTAMP WITH TIME ZONE' },
      { column_name: 'elements', column_type: 'BIGINT' },
      { column_name: 'bytes', column_type: 'BIGINT' },
      { column_name: 'memory', column_type: 'BIGINT' },
    ]);
    const keys = await q(`SELECT db, key FROM ${pq()} ORDER BY db, key`);
    const want = [...written].sort((x, y) => x.db - y.db || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
    expect(keys).toEqual(want);
    expect(await q(`SELECT DISTINCT source FROM ${pq()}`)).toEqual([{ source: rdb }]);
    const types = await q(`SELECT type, count(*)::INTEGER AS n FROM ${pq()} GROUP BY type ORDER BY type`);
    expect(types.map((t) => t.type)).toEqual(['hash', 'list', 'set', 'stream', 'string', 'zset']);
  });

  it('a group-by on the key prefix (split on ":") equals the counts made from the keys', async () => {
    const got = await q(`SELECT db, split_part(key, ':', 1) AS prefix, count(*)::INTEGER AS n FROM ${pq()} GROUP BY ALL ORDER BY db, prefix`);
    const want = new Map<string, number>();
    for (const k of written) {
      const id = `${k.db}\u0000${k.key.split(':')[0]}`;
      want.set(id, (want.get(id) ?? 0) + 1);
    }
    const wantRows = [...want]
      .map(([id, n]) => ({ db: Number(id.split('\u0000')[0]), prefix: id.split('\u0000')[1], n }))
      .sort((x, y) => x.db - y.db || (x.prefix < y.prefix ? -1 : x.prefix > y.prefix ? 1 : 0));
    expect(got).toEqual(wantRows);
    expect(got.find((r) => r.db === 0 && r.prefix === 'user')).toEqual({ db: 0, prefix: 'user', n: 3 });
  });

  it("a group-by on the first prefix segment equals `rdb-tool report`'s prefix tree (keys, memory, keys without TTL)", async () => {
    // printable ASCII keys only on both sides (the export writes other keys as base64:..., the report cuts raw bytes);
    // the report leaves them out with the shared filters
    const r = run('report', '--json', '--depth', '1', '--exclude-key', 'base64:*', '--exclude-key-regex', '[^ -~]', rdb);
    expect(r.code).toBe(0);
    const tree = JSON.parse(r.out).prefixes;
    expect(tree.mode).toBe('exact');
    const fromReport = (tree.entries as { prefix: string; keys: number; memory: number; withoutTtl: number }[])
      .map((e) => ({ prefix: e.prefix, keys: e.keys, memory: e.memory, withoutTtl: e.withoutTtl }))
      .sort((x, y) => (x.prefix < y.prefix ? -1 : x.prefix > y.prefix ? 1 : 0));
    const fromParquet = await q(
      `SELECT split_part(key, ':', 1) AS prefix, count(*)::INTEGER AS keys, sum(memory)::BIGINT AS memory, count(*) FILTER (WHERE expiry IS NULL)::INTEGER AS withoutTtl
       FROM ${pq()} WHERE key NOT LIKE 'base64:%' AND NOT regexp_matches(key, '[^ -~]') AND contains(key, ':')
       GROUP BY prefix ORDER BY prefix`,
    );
    expect(fromParquet.length).toBeGreaterThan(4);
    expect(fromParquet.map((row) => ({ ...row, memory: Number(row.memory) }))).toEqual(fromReport);
  });

  it('memory, encoding, elements and expiry equal `rdb-tool memory` for each key; bytes are the records in the file', async () => {
    const m = run('memory', rdb);
    expect(m.code, m.err).toBe(0);
    const lines = m.out.trimEnd().split('\n').map((l) => JSON.parse(l));
    lines.pop();
    const rows = await q(`SELECT db, key, type, encoding, epoch_ms(expiry) AS expiry, elements::INTEGER AS elements, bytes::INTEGER AS bytes, memory::INTEGER AS memory FROM ${pq()}`);
    expect(rows.length).toBe(lines.length);
    const byKey = new Map(rows.map((r) => [`${r.db}/${r.key}`, r]));
    for (const l of lines) {
      const key = typeof l.key === 'string' ? (l.key.startsWith('base64:') ? 'base64:' + Buffer.from(l.key).toString('base64') : l.key) : `base64:${l.key.base64}`;
      const r = byKey.get(`${l.db}/${key}`);
      expect(r, key).toBeDefined();
      expect({ key, type: r!.type, encoding: r!.encoding, memory: r!.memory, elements: r!.elements, expiry: r!.expiry === null ? null : Number(r!.expiry) }).toEqual({
        key,
        type: l.type,
        encoding: l.encoding,
        memory: l.memory,
        elements: l.elements,
        expiry: l.expireAt,
      });
    }
    // a string key without TTL: type byte, key and value, each length one byte
    expect(byKey.get('0/user:1')!.bytes).toBe(1 + 1 + 'user:1'.length + 1 + 'alice'.length);
    // with a TTL the record starts with the 9-byte EXPIRETIME_MS opcode
    expect(byKey.get('0/ttl:1')!.bytes).toBe(9 + 1 + 1 + 'ttl:1'.length + 1 + 'expires'.length);
    const total = (await q(`SELECT sum(bytes)::INTEGER AS s FROM ${pq()}`))[0].s as number;
    expect(total).toBeLessThan(statSync(rdb).size);
    expect(total).toBeGreaterThan(statSync(rdb).size / 2);
    expect(byKey.get('0/ttl:1')!.expiry).not.toBeNull();
    expect(byKey.get('0/user:1')!.expiry).toBeNull();
  });

  it('the CSV parses with the same rows (expiry as Unix ms)', async () => {
    const pqRows = `SELECT source, db, key, type, encoding, epoch_ms(expiry) AS expiry, elements, bytes, memory FROM ${pq()}`;
    expect(await q(`SELECT count(*)::INTEGER AS n FROM ${csv()}`)).toEqual([{ n: written.length }]);
    expect(await q(`(${pqRows}) EXCEPT ALL (SELECT * FROM ${csv()})`)).toEqual([]);
    expect(await q(`(SELECT * FROM ${csv()}) EXCEPT ALL (${pqRows})`)).toEqual([]);
    expect(readFileSync(join(out, 'snap.csv'), 'utf8').split('\n')[0]).toBe('source,db,key,type,encoding,expiry,elements,bytes,memory');
  });

  it('an existing output is refused without --force (exit 2, unchanged); --force keeps it as .bak', () => {
    const file = join(out, 'snap.parquet');
    const before = readFileSync(file);
    const r = run('export', '-o', out, rdb);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/already exists/);
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(run('export', '--force', '-o', out, rdb).code).toBe(0);
    expect(readFileSync(`${file}.bak`).equals(before)).toBe(true);
  });

  it('several inputs: a file each, read together with a glob; two inputs of one basename are refused (exit 2)', async () => {
    const dir = join(tmp, 'many');
    const second = join(tmp, 'other.rdb');
    copyFileSync(rdb, second);
    expect(run('export', '-o', dir, rdb, second).code).toBe(0);
    const n = await q(`SELECT source, count(*)::INTEGER AS n FROM read_parquet('${dir}/*.parquet') GROUP BY source ORDER BY source`);
    expect(n).toEqual([
      { source: second, n: written.length },
      { source: rdb, n: written.length },
    ]);
    const clash = run('export', '-o', join(tmp, 'clash'), rdb, join(tmp, 'out', '..', 'snap.rdb'));
    expect(clash.code).toBe(2);
    expect(existsSync(join(tmp, 'clash'))).toBe(false);
    expect(run('export', '--format', 'xml', '-o', dir, rdb).code).toBe(2);
    // a missing input: nothing is written, not even the files of the inputs before it
    const missing = run('export', '-o', join(tmp, 'missing'), rdb, join(tmp, 'nope.rdb'));
    expect(missing.code).toBe(3);
    expect(missing.err).toMatch(/cannot open .*nope\.rdb/);
    expect(existsSync(join(tmp, 'missing'))).toBe(false);
  });
});
