// The shared key filters against the server itself:
//  - `rdb-tool dump --key ... --exclude-key ... --type` of an RDB redis-server wrote gives exactly the keys that
//    SCAN MATCH (and TYPE) select on that server;
//  - `aof-tool filter` of an AOF redis-server wrote with aof-timestamp-enabled yes keeps its #TS: annotations, is
//    accepted by redis-check-aof, and a server loading it holds exactly the kept keys, each as the original server
//    holds it (DUMP compared key by key).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { RespValue } from '@redis-persist/resp';
import { redisAvailable, redisToolAvailable, startRedis, type RedisClient } from '@redis-persist/testkit';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const rdbTool = join(root, 'packages/cli/bin/rdb-tool.js');
const aofTool = join(root, 'packages/cli/bin/aof-tool.js');
const built = existsSync(join(root, 'packages/cli/dist/rdb-tool/main.js'));
if (!built) console.warn('[filters live] packages/cli/dist is missing: run `pnpm build` first; skipped');
const live = built && redisAvailable() && redisToolAvailable('redis-check-aof');

const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

function run(bin: string, args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', input: '', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000, maxBuffer: 1 << 28 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Every key of the current db matching `pattern`, by SCAN MATCH (bounded loop). */
async function scan(c: RedisClient, pattern: string): Promise<Set<string>> {
  const out = new Set<string>();
  let cursor = '0';
  for (let i = 0; i < 100_000; i++) {
    const r = (await c.call('SCAN', cursor, 'MATCH', pattern, 'COUNT', 1000)) as RespValue & { type: 'array' };
    const [next, keys] = r.value!;
    cursor = Buffer.from((next as { value: Uint8Array }).value).toString();
    for (const k of (keys as { value: RespValue[] }).value) out.add(hex((k as { value: Uint8Array }).value));
    if (cursor === '0') return out;
  }
  throw new Error('SCAN did not finish');
}

/** The db/key (hex) of the keys a JSON Lines dump holds. */
function dumpedKeys(jsonl: string): Set<string> {
  const out = new Set<string>();
  for (const line of jsonl.split('\n')) {
    if (!line) continue;
    const r = JSON.parse(line) as { db?: number; key?: string | { base64: string } };
    if (r.key === undefined) continue;
    const k = typeof r.key === 'string' ? Buffer.from(r.key, 'utf8') : Buffer.from(r.key.base64, 'base64');
    out.add(`${r.db}/${hex(k)}`);
  }
  return out;
}

describe.skipIf(!live)('key filters against redis-server', () => {
  it('rdb-tool dump --key/--exclude-key/--type keeps what SCAN MATCH and TYPE select', async () => {
    const server = await startRedis();
    try {
      const c = server.client;
      for (const db of [0, 1]) {
        await c.call('SELECT', db);
        for (let i = 0; i < 300; i++) {
          await c.call('SET', `user:${i}`, 'v');
          await c.call('HSET', `user:${i}:profile`, 'f', String(i));
          await c.call('SADD', `user:tmp:${i}`, 'm');
          await c.call('RPUSH', `queue:${i % 7}`, 'x');
          await c.call('SET', `k${i % 3}y:${i}`, 'z');
        }
        await c.call('SET', Buffer.from([0x75, 0x73, 0x65, 0x72, 0x3a, 0xff, 0x00]), 'binary'); // "user:\xff\0"
        await c.call('SET', 'user:[odd]*', 'glob chars');
      }
      await c.call('SAVE');
      const rdb = join(server.dir, 'dump.rdb');
      const cases: { include: string[]; exclude: string[]; types?: string[] }[] = [
        { include: ['user:*', 'k?y*'], exclude: ['*:tmp*', 'user:1*'] },
        { include: [], exclude: ['user:*'] },
        { include: ['user:\\[odd\\]\\*', 'user:[!-~]?'], exclude: [] },
        { include: ['*'], exclude: ['*[02468]'], types: ['hash', 'list'] },
      ];
      for (const cs of cases) {
        const args = ['dump', rdb, ...cs.include.flatMap((k) => ['--key', k]), ...cs.exclude.flatMap((k) => ['--exclude-key', k])];
        if (cs.types) args.push('--type', cs.types.join(','));
        const r = run(rdbTool, args);
        expect(r.code, r.stderr).toBe(0);
        const got = dumpedKeys(r.stdout);
        const want = new Set<string>();
        for (const db of [0, 1]) {
          await c.call('SELECT', db);
          const inc = new Set<string>();
          for (const p of cs.include.length ? cs.include : ['*']) for (const k of await scan(c, p)) inc.add(k);
          for (const p of cs.exclude) for (const k of await scan(c, p)) inc.delete(k);
          for (const k of inc) {
            if (cs.types) {
              const t = (await c.call('TYPE', Buffer.from(k, 'hex'))) as { value: string };
              if (!cs.types.includes(t.value)) continue;
            }
            want.add(`${db}/${k}`);
          }
        }
        expect(want.size).toBeGreaterThan(0);
        expect([...got].sort(), JSON.stringify(cs)).toEqual([...want].sort());
      }
    } finally {
      await server.stop();
    }
  }, 120_000);

  it('aof-tool filter of a timestamped AOF: #TS: kept, redis-check-aof accepts it, a server loads exactly the kept keys', async () => {
    const config = { appendonly: 'yes', 'aof-timestamp-enabled': 'yes', 'aof-use-rdb-preamble': 'no', appendfsync: 'always' };
    const src = await startRedis({ config });
    const out = mkdtempSync(join(tmpdir(), 'filters-live-'));
    temps.push(out);
    try {
      const c = src.client;
      for (let round = 0; round < 3; round++) {
        for (const db of [0, 3]) {
          await c.call('SELECT', db);
          await c.call('SET', `user:${round}`, `v${round}`);
          await c.call('SET', `cache:${round}`, 'x');
          await c.call('HSET', `user:${round}:h`, 'a', '1', 'b', '2');
          await c.call('RPUSH', `cache:list`, String(round));
          await c.call('MSET', `user:x${round}`, '1', `cache:m${round}`, '2', `user:m${round}`, '3');
          await c.call('SET', `user:gone${round}`, '1');
          await c.call('DEL', `user:gone${round}`, `cache:${round}`, `user:m${round}`);
          await c.call('MULTI');
          await c.call('INCR', `user:counter`);
          await c.call('INCR', `cache:counter`);
          await c.call('EXEC');
          await c.call('MULTI');
          await c.call('SET', `cache:only${round}`, '1');
          await c.call('EXEC');
          await c.call('EXPIRE', `user:${round}:h`, 100_000);
        }
        await new Promise((r) => setTimeout(r, 1100)); // a new second: a new #TS:
      }
      const filtered = join(out, 'appendonly.aof');
      const r = run(aofTool, ['filter', src.dir, '-o', filtered, '--key', 'user:*', '--exclude-key', 'user:m*', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as { cut: number; timestamps: number };
      expect(report.cut).toBeGreaterThan(0); // the MSETs
      const text = readFileSync(filtered, 'latin1');
      expect(text.match(/^#TS:\d+\r$/gm)?.length ?? 0).toBeGreaterThanOrEqual(3);
      expect(report.timestamps).toBeGreaterThanOrEqual(3);
      const check = spawnSync('redis-check-aof', [filtered], { encoding: 'utf8' });
      expect(check.status, check.stdout).toBe(0);
      expect(check.stdout).toMatch(/is valid/);
      // cat shows the same commands the filter wrote (SELECTs aside)
      const cat = run(aofTool, ['cat', src.dir, '--key', 'user:*', '--exclude-key', 'user:m*', '--json']);
      expect(cat.code, cat.stderr).toBe(0);
      const catted = cat.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { args: string[] }).args.join(' '));
      // DEL and MSET cut down to the kept keys
      expect(catted.filter((a) => /^(DEL|MSET) /.test(a))).toEqual(Array.from({ length: 6 }, (_, i) => [`MSET user:x${i >> 1} 1`, `DEL user:gone${i >> 1}`]).flat());
      expect(catted.filter((a) => a === 'MULTI').length).toBe(6); // the transactions with a user: key, not the cache-only ones

      // a server loading the filtered AOF (as an old-style single file, which Redis 7 upgrades) against the original
      const dst = await startRedis({ dir: out, config: { appendonly: 'yes', appendfilename: 'appendonly.aof' } });
      await src.restart(); // the original, reloaded from its own AOF
      try {
        for (const db of [0, 3]) {
          await src.client.call('SELECT', db);
          await dst.client.call('SELECT', db);
          const want = await scan(src.client, 'user:*');
          for (const k of await scan(src.client, 'user:m*')) want.delete(k);
          const got = await scan(dst.client, '*');
          expect([...got].sort()).toEqual([...want].sort());
          expect(want.size).toBeGreaterThan(3);
          for (const k of want) {
            const key = Buffer.from(k, 'hex');
            expect(hex((await dst.client.callBuffer('DUMP', key))!), Buffer.from(key).toString()).toBe(hex((await src.client.callBuffer('DUMP', key))!));
            expect(await dst.client.callInt('PEXPIRETIME', key)).toBe(await src.client.callInt('PEXPIRETIME', key));
          }
        }
      } finally {
        await dst.stop();
      }
    } finally {
      await src.stop();
    }
  }, 120_000);

  it('aof-tool rewrite --base aof of a timestamped AOF: the base starts with #TS:, redis-check-aof and redis-server accept it', async () => {
    const d = mkdtempSync(join(tmpdir(), 'filters-live-rw-'));
    temps.push(d);
    cpSync(join(root, 'fixtures/aof/timestamps-multipart/appendonlydir'), join(d, 'appendonlydir'), { recursive: true });
    const before = await startRedis({ dir: d, config: { appendonly: 'yes' } });
    const want = await scan(before.client, '*');
    const values = new Map<string, string>();
    for (const k of want) values.set(k, hex((await before.client.callBuffer('DUMP', Buffer.from(k, 'hex')))!));
    await before.stop();
    const r = run(aofTool, ['rewrite', join(d, 'appendonlydir'), '--base', 'aof', '--no-backup']);
    expect(r.code, r.stderr).toBe(0);
    const base = readdirSync(join(d, 'appendonlydir')).find((n) => n.endsWith('.base.aof'))!;
    expect(readFileSync(join(d, 'appendonlydir', base), 'latin1')).toMatch(/^#TS:\d+\r\n\*/);
    const check = spawnSync('redis-check-aof', [join(d, 'appendonlydir', 'appendonly.aof.manifest')], { encoding: 'utf8' });
    expect(check.status, check.stdout).toBe(0);
    const after = await startRedis({ dir: d, config: { appendonly: 'yes' } });
    try {
      expect([...(await scan(after.client, '*'))].sort()).toEqual([...want].sort());
      for (const [k, v] of values) expect(hex((await after.client.callBuffer('DUMP', Buffer.from(k, 'hex')))!)).toBe(v);
    } finally {
      await after.stop();
    }
  }, 60_000);
});
