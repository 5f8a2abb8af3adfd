// commandsForKey against real BGREWRITEAOF output: the corpus' `no-preamble` base files were written by real
// servers. A base file is loaded alone into the local redis-server, its keyspace dumped, and for every key the
// commands we derive from that keyspace are compared with the commands the server wrote (order-free where the
// server iterates a hash table: SADD, HMSET and skiplist ZADD items).
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { canonicalizeRecord, type KeyRecord } from '@redis-persist/keyspace';
import { commandsForFunction, commandsForKey, type RewriteOptions } from '@redis-persist/converters';
import { decodeAll, type RespValue } from '@redis-persist/resp';
import { dumpLiveKeyspace, redisAvailable, startRedis } from '@redis-persist/testkit';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const corpus = resolve(repoRoot, '../shared/corpus');
const hasCorpus = existsSync(join(corpus, 'aof'));
const hasRedis = redisAvailable();
if (!hasCorpus || !hasRedis) console.warn('[keyspace tests] ../shared/corpus or redis-server missing: skipping the BGREWRITEAOF comparison');

// Servers whose rewrite output the local Redis 7.0 can load (7.4+ bases hold HPEXPIREAT), with their score style.
const CASES: [string, RewriteOptions['scoreFormat']][] = [
  ['redis-7.0.15', 'redis7.0'],
  ['redis-7.2.6', 'redis7.2'],
  ['valkey-8.0.1', 'redis7.2'],
];

const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');

function argsOf(v: RespValue): Uint8Array[] {
  if (v.type !== 'array' || v.value === null) throw new Error(`not a command: ${JSON.stringify(v.type)}`);
  return v.value.map((x) => {
    if (x.type !== 'bulk' || x.value === null) throw new Error('not a bulk argument');
    return x.value;
  });
}

/**
 * Commands of one key in a comparable form: the exact sequence, except that a run of SADD / HMSET / ZADD
 * commands (items in hash-table order on the server) becomes one entry with its chunk sizes and sorted items.
 */
function shape(cmds: Uint8Array[][]): unknown[] {
  const out: unknown[] = [];
  let run: { name: string; key: string; sizes: number[]; items: string[] } | null = null;
  for (const c of cmds) {
    const a = c.map(latin1);
    const name = a[0]!.toUpperCase();
    const unordered = name === 'SADD' || name === 'HMSET' || name === 'ZADD';
    if (!unordered) {
      run = null;
      out.push(a);
      continue;
    }
    if (run === null || run.name !== name) {
      run = { name, key: a[1]!, sizes: [], items: [] };
      out.push(run);
    }
    run.sizes.push(a.length - 2);
    const step = name === 'SADD' ? 1 : 2;
    for (let i = 2; i + step - 1 < a.length; i += step) run.items.push(a.slice(i, i + step).join('\u0000'));
    run.items.sort();
  }
  return out;
}

describe.skipIf(!hasCorpus || !hasRedis)('commandsForKey equals real BGREWRITEAOF output', () => {
  it.each(CASES)('%s no-preamble base file', async (server, scoreFormat) => {
    const src = join(corpus, 'aof', server, 'no-preamble', 'appendonlydir');
    const manifest = readFileSync(join(src, 'appendonly.aof.manifest'), 'utf8');
    const baseName = /^file (\S+) seq \d+ type b$/m.exec(manifest)?.[1];
    expect(baseName).toBeDefined();
    const base = readFileSync(join(src, baseName!));

    // What the server wrote, grouped by (db, key).
    const written = new Map<string, Uint8Array[][]>();
    const functions: Uint8Array[][] = [];
    let db = 0;
    for (const v of decodeAll(base)) {
      const args = argsOf(v);
      const name = latin1(args[0]!).toUpperCase();
      if (name === 'SELECT') db = Number(latin1(args[1]!));
      else if (name === 'FUNCTION') functions.push(args);
      else {
        const key = name === 'XGROUP' ? args[2]! : args[1]!;
        const id = `${db}:${latin1(key)}`;
        written.set(id, [...(written.get(id) ?? []), args]);
      }
    }

    // The keyspace that base file holds, according to the local server.
    const dir = mkdtempSync(join(tmpdir(), 'ks-rewrite-'));
    try {
      cpSync(src, join(dir, 'appendonlydir'), { recursive: true });
      writeFileSync(join(dir, 'appendonlydir', 'appendonly.aof.manifest'), `file ${baseName} seq 1 type b\n`);
      rmSync(join(dir, 'appendonlydir', baseName!.replace('.base.aof', '.incr.aof')), { force: true });
      const redis = await startRedis({ dir, config: { appendonly: 'yes', appendfilename: 'appendonly.aof', appenddirname: 'appendonlydir' } });
      let records;
      try {
        records = await dumpLiveKeyspace(redis.client);
      } finally {
        await redis.stop();
      }

      const mine: Uint8Array[][] = [];
      let keys = 0;
      for (const rec of records) {
        if (rec.kind === 'function') {
          mine.push(...commandsForFunction(rec));
          continue;
        }
        keys++;
        const id = `${rec.db}:${latin1(rec.key)}`;
        const theirs = written.get(id);
        expect(theirs, `key ${id} is in the base file`).toBeDefined();
        const ours = commandsForKey(canonicalizeRecord(rec) as KeyRecord, { scoreFormat });
        expect(shape(ours), `commands for ${id} (${rec.type})`).toEqual(shape(theirs!));
        written.delete(id);
      }
      expect(keys).toBeGreaterThan(100);
      expect([...written.keys()]).toEqual([]);
      expect(shape(mine).sort()).toEqual(shape(functions).sort());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!hasCorpus)('hashes with field TTLs in the form Redis 7.4+ rewrites them', () => {
  // No 7.4 server to load these bases into: rebuild each such hash from the server's own commands (fields in
  // its order) and check that commandsForKey writes exactly those commands back.
  it.each(['redis-7.4.1', 'redis-8.0-m01'])('%s no-preamble base file', (server) => {
    const src = join(corpus, 'aof', server, 'no-preamble', 'appendonlydir');
    const manifest = readFileSync(join(src, 'appendonly.aof.manifest'), 'utf8');
    const baseName = /^file (\S+) seq \d+ type b$/m.exec(manifest)![1]!;
    const byKey = new Map<string, Uint8Array[][]>();
    let db = 0;
    for (const v of decodeAll(readFileSync(join(src, baseName)))) {
      const args = argsOf(v);
      const name = latin1(args[0]!).toUpperCase();
      if (name === 'SELECT') db = Number(latin1(args[1]!));
      else if (name !== 'FUNCTION') {
        const id = `${db}\u0000${latin1(name === 'XGROUP' ? args[2]! : args[1]!)}`;
        byKey.set(id, [...(byKey.get(id) ?? []), args]);
      }
    }
    let checked = 0;
    for (const [id, cmds] of byKey) {
      if (!cmds.some((c) => latin1(c[0]!).toUpperCase() === 'HPEXPIREAT')) continue;
      const fields: { field: Uint8Array; value: Uint8Array; expireAt: number | null }[] = [];
      let expireAt: number | null = null;
      for (const c of cmds) {
        const name = latin1(c[0]!).toUpperCase();
        if (name === 'HMSET') for (let i = 2; i + 1 < c.length; i += 2) fields.push({ field: c[i]!, value: c[i + 1]!, expireAt: null });
        else if (name === 'HPEXPIREAT') {
          expect(c.length).toBe(6);
          expect(latin1(c[3]!)).toBe('FIELDS');
          expect(latin1(c[4]!)).toBe('1');
          fields.find((f) => latin1(f.field) === latin1(c[5]!))!.expireAt = Number(latin1(c[2]!));
        } else if (name === 'PEXPIREAT') expireAt = Number(latin1(c[2]!));
        else throw new Error(`unexpected ${name} for a hash`);
      }
      const [dbText, key] = id.split('\u0000') as [string, string];
      const rec: KeyRecord = { db: Number(dbText), key: Buffer.from(key, 'latin1'), type: 'hash', expireAt, value: fields };
      expect(commandsForKey(rec).map((c) => c.map(latin1)), `hash ${key}`).toEqual(cmds.map((c) => c.map(latin1)));
      checked++;
    }
    expect(checked).toBeGreaterThan(3);
  });
});
