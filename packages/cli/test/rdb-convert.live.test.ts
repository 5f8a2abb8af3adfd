import { spawnSync } from 'node:child_process';
import { existsSync, linkSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { sameKeyspace, type KeyspaceRecord } from '@redis-persist/keyspace';
import { keyspaceJsonlChunks, readKeyspaceJsonl } from '@redis-persist/jsonl';
import { rdbKeyspaceRecords } from '@redis-persist/rdb';
import { corpusDir, dumpLiveKeyspace, redisAvailable, redisToolAvailable, startRedis } from '@redis-persist/testkit';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(root, 'packages/cli/bin/rdb-tool.js');
const built = existsSync(join(root, 'packages/cli/dist/rdb-tool/convert.js'));
if (!built) console.warn('[rdb-tool convert tests] packages/cli/dist is missing or stale: run `pnpm build` first; CLI tests skipped');
const hasRedis = redisAvailable();
if (!hasRedis) console.warn('[rdb-tool convert tests] redis-server is not on PATH: live-server checks skipped');
const corpus = corpusDir();

const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'rdb-convert-'));
  temps.push(d);
  return d;
}

function run(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at .*:\d+:\d+/);

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const b = (s: string) => Buffer.from(s);
const SOURCE: KeyspaceRecord[] = [
  { kind: 'function', library: 'lib1', engine: 'LUA', code: b("#!lua name=lib1\nredis.register_function('lib1_f', function() return 1 end)") },
  { kind: 'key', db: 0, key: b('str'), type: 'string', expireAt: 4_000_000_000_123, value: b('hello') },
  { kind: 'key', db: 0, key: new Uint8Array([0, 255, 10]), type: 'string', expireAt: null, value: b('12345') },
  { kind: 'key', db: 0, key: b('list'), type: 'list', expireAt: null, value: [b('a'), b('1'), b('x'.repeat(10000))] },
  { kind: 'key', db: 1, key: b('set'), type: 'set', expireAt: null, value: [b('1'), b('2'), b('-3')] },
  { kind: 'key', db: 1, key: b('zset'), type: 'zset', expireAt: null, value: [[b('a'), -Infinity], [b('b'), 2.5], [b('c'), Infinity]] },
  { kind: 'key', db: 2, key: b('hash'), type: 'hash', expireAt: null, value: [{ field: b('f'), value: b('v'), expireAt: null }] },
  {
    kind: 'key',
    db: 2,
    key: b('stream'),
    type: 'stream',
    expireAt: null,
    value: {
      entries: [{ id: '5-1', fields: [[b('f'), b('v')]] }, { id: '6-0', fields: [[b('f'), b('w')]] }],
      length: 2,
      lastId: '7-0',
      firstId: '5-1',
      maxDeletedId: '5-0',
      entriesAdded: 4,
      groups: [
        {
          name: b('g'),
          lastDeliveredId: '6-0',
          entriesRead: 4,
          pending: [{ id: '6-0', consumer: b('c'), deliveryTime: 1_700_000_000_000, deliveryCount: 3 }],
          consumers: [{ name: b('c'), seenTime: 1_700_000_000_500, activeTime: null }],
        },
      ],
    },
  },
];
const HFE: KeyspaceRecord = { kind: 'key', db: 0, key: b('hfe'), type: 'hash', expireAt: null, value: [{ field: b('f'), value: b('v'), expireAt: 4_000_000_000_000 }] };

async function jsonlFile(dir: string, name: string, records: KeyspaceRecord[]): Promise<string> {
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat(await collect(keyspaceJsonlChunks(records))));
  return path;
}

async function loadLive(rdb: string): Promise<KeyspaceRecord[]> {
  const dir = tmp();
  writeFileSync(join(dir, 'dump.rdb'), readFileSync(rdb));
  const server = await startRedis({ dir, expectFailure: true });
  try {
    expect(server.alive(), server.log()).toBe(true);
    return await dumpLiveKeyspace(server.client);
  } finally {
    await server.stop();
  }
}

describe.skipIf(!built)('rdb-tool convert', () => {
  it('JSONL → RDB (default RDB 10) loads in redis-server with exactly the source data', async () => {
    const dir = tmp();
    const input = await jsonlFile(dir, 'in.jsonl', SOURCE);
    const r = run(['convert', input, join(dir, 'out.rdb'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ inputFormat: 'jsonl', format: 'rdb', rdbVersion: 10, keys: 7, functions: 1, dropped: [] });
    expect(readFileSync(join(dir, 'out.rdb')).subarray(0, 9).toString()).toBe('REDIS0010');
    if (hasRedis) expect(sameKeyspace(SOURCE, await loadLive(join(dir, 'out.rdb'))).diff).toEqual([]);
    // RDB → RDB: the converted file converts again to the same keyspace
    const again = run(['convert', join(dir, 'out.rdb'), join(dir, 'again.rdb'), '--rdb-version', '11', '--no-compress']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/RDB 11, 7 keys, 1 functions/);
    // RDB 11 stores consumers' active-time; an unknown one (null) is written as the seen-time, as 7.2 loads v2 streams.
    const source11 = SOURCE.map((x) =>
      x.kind === 'key' && x.type === 'stream'
        ? { ...x, value: { ...x.value, groups: x.value.groups.map((g) => ({ ...g, consumers: g.consumers.map((c) => ({ ...c, activeTime: c.seenTime })) })) } }
        : x,
    );
    expect(sameKeyspace(source11, await collect(rdbKeyspaceRecords(join(dir, 'again.rdb')))).diff).toEqual([]);
  });

  it('refuses what the target cannot hold (exit 1, naming key and feature), writes nothing', async () => {
    const dir = tmp();
    const input = await jsonlFile(dir, 'in.jsonl', [...SOURCE, HFE]);
    const r = run(['convert', input, join(dir, 'out.rdb')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/db 0 key "hfe": hash field TTLs need RDB 12/);
    noStack(r.stderr);
    expect(readdirSync(dir)).toEqual(['in.jsonl']);
    const j = run(['convert', input, join(dir, 'out.rdb'), '--json']);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ written: false, error: { code: 'unsupported', feature: 'hash-field-ttl', db: 0, key: 'hfe' } });
    const old = run(['convert', input, join(dir, 'out.rdb'), '--rdb-version', '8']);
    expect(old.code).toBe(1);
    expect(old.stderr).toMatch(/lib1.*functions need RDB 10|streams need RDB 9/);
    expect(readdirSync(dir)).toEqual(['in.jsonl']);
  });

  it('--drop-unsupported leaves out and reports each key the target cannot hold', async () => {
    const dir = tmp();
    const input = await jsonlFile(dir, 'in.jsonl', [...SOURCE, HFE]);
    const r = run(['convert', input, join(dir, 'old.rdb'), '--rdb-version', '9', '--drop-unsupported', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.dropped.map((d: { feature: string }) => d.feature).sort()).toEqual(['functions', 'hash-field-ttl', 'stream-metadata']);
    expect(report.dropped.find((d: { feature: string }) => d.feature === 'stream-metadata')).toMatchObject({ kind: 'key', db: 2, key: 'stream' });
    expect(report.keys).toBe(6);
    if (hasRedis) {
      const kept = SOURCE.filter((x) => x.kind === 'key' && x.type !== 'stream');
      expect(sameKeyspace(kept, await loadLive(join(dir, 'old.rdb'))).diff).toEqual([]);
    }
  });

  it('--lossy keeps the stream for RDB 9 without its 7.0 metadata; it loads with the same entries and groups', async () => {
    const dir = tmp();
    const input = await jsonlFile(dir, 'in.jsonl', SOURCE);
    const r = run(['convert', input, join(dir, 'old.rdb'), '--rdb-version', '9', '--lossy', '--drop-unsupported', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.keys).toBe(7);
    expect(report.dropped).toEqual([
      expect.objectContaining({ kind: 'function', library: 'lib1', feature: 'functions' }),
      expect.objectContaining({ kind: 'data', db: 2, key: 'stream', feature: 'stream-metadata' }),
    ]);
    if (hasRedis) {
      const live = await loadLive(join(dir, 'old.rdb'));
      const st = live.find((x) => x.kind === 'key' && x.type === 'stream');
      const src = SOURCE.find((x) => x.kind === 'key' && x.type === 'stream');
      expect(st?.kind === 'key' && st.type === 'stream' && src?.kind === 'key' && src.type === 'stream').toBe(true);
      if (st?.kind === 'key' && st.type === 'stream' && src?.kind === 'key' && src.type === 'stream') {
        expect(st.value.entries.map((e) => e.id)).toEqual(src.value.entries.map((e) => e.id));
        const pel = (p: { id: string; consumer: Uint8Array; deliveryTime: number; deliveryCount: number }[]) =>
          p.map((x) => [x.id, Buffer.from(x.consumer).toString(), x.deliveryTime, x.deliveryCount]);
        expect(pel(st.value.groups[0].pending)).toEqual(pel(src.value.groups[0].pending));
        expect(st.value.entriesAdded).toBe(2); // derived by the loader from the length
      }
    }
  });

  it('never overwrites the input (same path or hard link): exit 2, input untouched', async () => {
    const dir = tmp();
    const input = await jsonlFile(dir, 'in.jsonl', SOURCE);
    const before = readFileSync(input);
    expect(run(['convert', input, input, '--to', 'jsonl']).code).toBe(2);
    linkSync(input, join(dir, 'link.jsonl'));
    const r = run(['convert', input, join(dir, 'link.jsonl')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is the input/);
    expect(readFileSync(input).equals(before)).toBe(true);
  });

  it('usage errors exit 2, unreadable input exits 3', () => {
    const dir = tmp();
    expect(run(['convert', 'a.jsonl', join(dir, 'x.txt')]).code).toBe(2);
    expect(run(['convert', 'a.jsonl', join(dir, 'x.rdb'), '--to', 'xml']).code).toBe(2);
    const v = run(['convert', 'a.jsonl', join(dir, 'x.rdb'), '--rdb-version', '13']);
    expect(v.code).toBe(2);
    const missing = run(['convert', join(dir, 'missing.jsonl'), join(dir, 'x.rdb')]);
    expect(missing.code).toBe(3);
    noStack(missing.stderr);
  });

  it('--valkey writes valkey-ver; RDB 80 uses the VALKEY magic', async () => {
    const dir = tmp();
    const input = await jsonlFile(dir, 'in.jsonl', [...SOURCE, HFE]);
    expect(run(['convert', input, join(dir, 'v9.rdb'), '--valkey', '--rdb-version', '80']).code).toBe(0);
    expect(readFileSync(join(dir, 'v9.rdb')).subarray(0, 9).toString()).toBe('VALKEY080');
    expect(run(['convert', input, join(dir, 'v8.rdb'), '--valkey', '--rdb-version', '11', '--drop-unsupported']).code).toBe(0);
    expect(readFileSync(join(dir, 'v8.rdb')).includes(b('valkey-ver'))).toBe(true);
  });

  it.skipIf(!corpus)('RDB → canonical JSONL equals the corpus expectation', async () => {
    const dir = tmp();
    const file = join(corpus!, 'rdb/redis-7.0.15/functions.rdb');
    const r = run(['convert', file, join(dir, 'out.jsonl')]);
    expect(r.code, r.stderr).toBe(0);
    const expected = await collect(readKeyspaceJsonl(join(corpus!, 'rdb/redis-7.0.15/functions.expected.jsonl')));
    expect(sameKeyspace(expected, await collect(readKeyspaceJsonl(join(dir, 'out.jsonl'))), { ignore: ['encoding'] }).diff).toEqual([]);
  });

  it('JSONL → RESP commands rebuild the keyspace through redis-cli --pipe', async () => {
    const dir = tmp();
    const input = await jsonlFile(dir, 'in.jsonl', SOURCE);
    const resp = run(['convert', input, join(dir, 'out.aof')]);
    expect(resp.code, resp.stderr).toBe(0);
    expect(readFileSync(join(dir, 'out.aof')).subarray(0, 1).toString()).toBe('*');
    if (hasRedis && redisToolAvailable('redis-cli')) {
      const server = await startRedis();
      try {
        const pipe = spawnSync('redis-cli', ['-p', String(server.port), '--pipe'], { input: readFileSync(join(dir, 'out.aof')), encoding: 'utf8' });
        expect(pipe.stdout, pipe.stderr).toMatch(/errors: 0/);
        expect(sameKeyspace(SOURCE, await dumpLiveKeyspace(server.client), { ignore: ['encoding', 'streamConsumerTimes'] }).diff).toEqual([]);
      } finally {
        await server.stop();
      }
    }
  });
});
