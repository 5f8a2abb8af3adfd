// `rdb-tool to-aof` of a redis-server-written RDB whose list, hash, set, sorted set and stream are far bigger than
// the piece size (1,000 elements): the keys are read and written piece by piece, in bounded memory, and the output
// is byte for byte what the whole values give (commands batched by 64 across piece boundaries, PEXPIREAT after the
// last piece), redis-check-aof accepts it and redis-server loads it with the RDB's DEBUG DIGEST. The peak is the
// child's VmHWM (/proc), polled while it runs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { respChunks } from '@redis-persist/converters';
import { rdbKeyspaceRecords } from '@redis-persist/rdb';
import { redisAvailable, redisToolAvailable, startRedis, runNodeMeasured, type RedisArg } from '@redis-persist/testkit';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(root, 'packages/cli/bin/rdb-tool.js');
const built = existsSync(join(root, 'packages/cli/dist/rdb-tool/to-aof.js'));
if (!built) console.warn('[to-aof huge keys] packages/cli/dist is missing: run `pnpm build` first; skipped');
const onLinux = existsSync('/proc/self/status');
if (!onLinux) console.warn('[to-aof huge keys] no /proc: peak RSS cannot be read; skipped');
const haveRedis = redisAvailable() && redisToolAvailable('redis-check-aof');
if (!haveRedis) console.warn('[to-aof huge keys] redis-server / redis-check-aof not found; skipped');

const MiB = 1 << 20;
const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

const runMeasured = (args: string[]) => runNodeMeasured(bin, args);

async function bytesOf(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of chunks) out.push(Buffer.from(c));
  return Buffer.concat(out);
}

describe.skipIf(!built || !onLinux || !haveRedis)('rdb-tool to-aof: keys bigger than a piece', () => {
  it('streams them in bounded memory, writes what the whole values give, loads with the same digest', { timeout: 600_000 }, async () => {
    const source = await startRedis();
    const dir = mkdtempSync(join(tmpdir(), 'to-aof-huge-'));
    temps.push(dir);
    let digest: string;
    const rdb = join(dir, 'dump.rdb');
    try {
      const c = source.client;
      const far = 4102444800000;
      const batch = async (n: number, make: (i: number) => RedisArg[], cmd: (args: RedisArg[]) => RedisArg[]) => {
        for (let i = 0; i < n; i += 500) {
          const args: RedisArg[] = [];
          for (let j = i; j < Math.min(n, i + 500); j++) args.push(...make(j));
          await c.call(...cmd(args));
        }
      };
      // a quicklist of many nodes (pieces end on node boundaries: anywhere in a batch of 64)
      await batch(300_001, (j) => [j % 3 === 0 ? String(j) : `item:${j}`], (a) => ['RPUSH', 'list:huge', ...a]);
      await c.call('PEXPIREAT', 'list:huge', far);
      // exactly 100 pieces: the last one is empty, its PEXPIREAT still comes
      await batch(100_000, (j) => [`member:${j}`], (a) => ['SADD', 'set:huge', ...a]);
      await c.call('PEXPIREAT', 'set:huge', far + 1);
      await batch(100_007, (j) => [`field:${j}`, `value:${j * 7}`], (a) => ['HSET', 'hash:huge', ...a]);
      await batch(100_003, (j) => [String(j % 2 ? j * 1.5 : j), `z:${j}`], (a) => ['ZADD', 'zset:huge', ...a]);
      await c.call('SELECT', 3);
      for (let i = 0; i < 20_000; i += 500) await c.pipeline(Array.from({ length: 500 }, (_, j) => ['XADD', 'stream:huge', `${i + j + 1}-0`, 'f', `v${i + j}`]));
      await c.call('XGROUP', 'CREATE', 'stream:huge', 'g1', '0');
      await c.call('XGROUP', 'CREATE', 'stream:huge', 'g2', '0');
      for (let k = 0; k < 4; k++) await c.call('XREADGROUP', 'GROUP', 'g1', `c${k}`, 'COUNT', 3000, 'STREAMS', 'stream:huge', '>');
      await c.call('XGROUP', 'CREATECONSUMER', 'stream:huge', 'g2', 'idle');
      await c.call('XDEL', 'stream:huge', '7-0');
      await c.call('PEXPIREAT', 'stream:huge', far + 2);
      await c.call('SELECT', 0);
      for (let i = 0; i < 50; i++) await c.call('SET', `small:${i}`, `v${i}`);
      await c.call('SAVE');
      digest = (await c.callText('DEBUG', 'DIGEST'))!;
      spawnSync('cp', [join(source.dir, 'dump.rdb'), rdb]);
    } finally {
      await source.stop();
    }
    // what the whole values give (the test process holds them)
    const whole = await bytesOf(respChunks(rdbKeyspaceRecords(rdb, { dropExpiredBefore: Date.now() })));

    const file = join(dir, 'out.aof');
    const r = await runMeasured(['to-aof', rdb, file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('55 keys');
    // issue 16's bound: the keys come in pieces of 1,000 elements whatever their size
    expect(r.peak, `peak RSS ${(r.peak / MiB).toFixed(0)} MiB`).toBeLessThan(150 * MiB);
    expect(readFileSync(file).equals(whole)).toBe(true);
    const check = spawnSync('redis-check-aof', [file], { encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);

    // cut inside a big key: the keys before it, whole, and nothing of that key (its pieces written so far are cut
    // back out of the file), exit 1
    const cut = join(dir, 'cut.rdb');
    const bytes = readFileSync(rdb);
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const cutAof = join(dir, 'cut.aof');
    const c = await runMeasured(['to-aof', cut, cutAof]);
    expect(c.code, c.stderr).toBe(1);
    const reading = /while reading key "([^"]+)"/.exec(c.stderr)?.[1];
    expect(reading, c.stderr).toMatch(/:huge$/);
    const partial = readFileSync(cutAof);
    expect(partial.length).toBeLessThan(whole.length);
    expect(whole.subarray(0, partial.length).equals(partial)).toBe(true);
    expect(partial.includes(Buffer.from(`\r\n${reading}\r\n`))).toBe(false);
    const checkCut = spawnSync('redis-check-aof', [cutAof], { encoding: 'utf8' });
    expect(checkCut.status, checkCut.stdout + checkCut.stderr).toBe(0);

    const out = join(dir, 'data');
    const d = await runMeasured(['to-aof', rdb, join(out, 'appendonlydir'), '--layout', 'dir']);
    expect(d.code, d.stderr).toBe(0);
    const base = readdirSync(join(out, 'appendonlydir')).find((n) => n.endsWith('.base.aof'))!;
    expect(readFileSync(join(out, 'appendonlydir', base)).equals(whole)).toBe(true);
    const target = await startRedis({ dir: out, config: { appendonly: 'yes', appenddirname: 'appendonlydir' } });
    try {
      expect(await target.client.callText('DEBUG', 'DIGEST')).toBe(digest);
      expect(await target.client.callInt('PEXPIRETIME', 'set:huge')).toBe(4102444800001n);
    } finally {
      await target.stop();
    }
  });
});
