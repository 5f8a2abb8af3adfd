// `rdb-tool restore` (the built binary: run `pnpm build` first) against real servers on 127.0.0.1, the target's
// proto-max-bulk-len lowered to 1 MB: keys sent in pieces; --resume after a SIGKILL part way (the checkpoint beside
// the input; the rerun skips what was restored, sends fewer commands, and the digest is the source's); a resume
// refused for other settings or without a checkpoint; Ctrl-C saves the checkpoint on the way out (exit 130);
// --max-ops keeps to its rate; --key-pattern/--type/--db.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomTraffic, redisAvailable, startRedis, type RedisServer } from '@redis-persist/testkit';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(root, 'packages/cli/bin/rdb-tool.js');
const built = existsSync(join(root, 'packages/cli/dist/rdb-tool/restore.js'));
if (!built) console.warn('[rdb-tool restore --resume tests] packages/cli/dist/rdb-tool/restore.js is missing: run `pnpm build` first; skipped');

function start(args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolvePromise) => {
    child.on('close', (code, signal) => {
      clearTimeout(kill);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
  return { child, done };
}

const run = (args: string[]) => start(args).done;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!built || !redisAvailable())('rdb-tool restore: pieces, --resume, --max-ops, filters', () => {
  let source: RedisServer;
  let target: RedisServer;
  let rdb: string;
  let url: string;
  let checkpoint: string;
  let digest: string;
  let functions: string;
  let totalKeys: number;

  const emptyTarget = async () => {
    await target.client.call('FLUSHALL');
    await target.client.call('FUNCTION', 'FLUSH');
  };

  /**
   * Starts `restore --max-ops 200` into the target and waits (at most 20 s) until its checkpoint says `records`
   * records are done; fails if the restore ended first.
   */
  const throttledRestorePast = async (records: number) => {
    const first = start(['restore', '--max-ops', '200', rdb, url]);
    let ended: Awaited<typeof first.done> | null = null;
    void first.done.then((r) => (ended = r));
    let saved = 0;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && saved < records && ended === null) {
      await sleep(25);
      try {
        saved = JSON.parse(readFileSync(checkpoint, 'utf8')).done;
      } catch {
        // not written yet, or being replaced
      }
    }
    expect(ended, `the restore ended before its checkpoint said ${records} records were done (saw ${saved}): ${JSON.stringify(ended)}`).toBe(null);
    return { first, saved };
  };

  beforeAll(async () => {
    [source, target] = await Promise.all([startRedis(), startRedis()]);
    url = `redis://127.0.0.1:${target.port}`;
    const c = source.client;
    await randomTraffic(c, { seed: 23, commands: 3000, dbs: [0, 2], expiries: true, keysPerType: 60 });
    await c.call('DEBUG', 'POPULATE', 4000, 'pop');
    // keys too big for one RESTORE at 1 MB: a list, a string longer than the limit, a stream with a group
    await c.call('RPUSH', 'big:list', ...Array.from({ length: 1500 }, () => randomBytes(1024)));
    await c.call('PEXPIREAT', 'big:list', Date.now() + 7_200_123);
    await c.call('SET', 'big:string', randomBytes(2 * 1024 * 1024 + 1));
    for (let i = 1; i <= 3000; i++) await c.call('XADD', 'big:stream', `${i}-1`, 'v', randomBytes(400));
    await c.call('XGROUP', 'CREATE', 'big:stream', 'g', '0');
    await c.call('XREADGROUP', 'GROUP', 'g', 'c1', 'COUNT', 50, 'STREAMS', 'big:stream', '>');
    await c.call('XDEL', 'big:stream', '10-1');
    await c.call('FUNCTION', 'LOAD', "#!lua name=resumelib\nredis.register_function('resume_f', function() return 1 end)");
    await c.call('SAVE');
    rdb = join(source.dir, 'dump.rdb');
    checkpoint = `${rdb}.restore-checkpoint.json`;
    digest = (await c.callText('DEBUG', 'DIGEST'))!;
    functions = JSON.stringify(await c.call('FUNCTION', 'LIST', 'WITHCODE'));
    totalKeys = 0;
    for (const db of [0, 2]) {
      await c.call('SELECT', db);
      totalKeys += Number(await c.callInt('DBSIZE'));
    }
    await c.call('SELECT', 0);
    await target.client.call('CONFIG', 'SET', 'proto-max-bulk-len', '1mb');
  }, 60_000);
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  it('sends keys longer than proto-max-bulk-len in pieces: the digest and the functions are the source\'s', async () => {
    const r = await run(['restore', rdb, url]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/; 3 keys sent in pieces \(longer than proto-max-bulk-len 1048576\)/);
    expect(await target.client.callText('DEBUG', 'DIGEST')).toBe(digest);
    expect(JSON.stringify(await target.client.call('FUNCTION', 'LIST', 'WITHCODE'))).toBe(functions);
    expect(Number(await target.client.callInt('PEXPIRETIME', 'big:list'))).toBe(Number(await source.client.callInt('PEXPIRETIME', 'big:list')));
    expect(existsSync(checkpoint)).toBe(false); // a finished restore removes its checkpoint
  }, 60_000);

  it('--resume after a SIGKILL part way: skips what the checkpoint says, sends fewer commands, same digest', async () => {
    await emptyTarget();
    const full = JSON.parse((await run(['restore', '--flush', '--json', '--no-checkpoint', rdb, url])).stdout);
    expect(full.keys).toBe(totalKeys);
    await emptyTarget();

    // 200 ops/s: the run lasts over 20 s, the poll below sees a checkpoint past 500 records after about 3 s (at 1000
    // and then 500 ops/s, a loaded CI machine once saw the restore end first)
    // wait for a checkpoint past the first 500 records, then kill the restore
    const { first, saved } = await throttledRestorePast(500);
    expect(saved).toBeGreaterThanOrEqual(500);
    first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.signal).toBe('SIGKILL');
    const cp = JSON.parse(readFileSync(checkpoint, 'utf8'));
    expect(cp).toMatchObject({ format: 'redis-persist restore checkpoint', version: 1, target: { address: `127.0.0.1:${target.port}`, cluster: false } });
    expect(cp.inputs[0]).toMatchObject({ path: rdb, kind: 'file', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    let there = 0;
    for (const db of [0, 2]) {
      await target.client.call('SELECT', db);
      there += Number(await target.client.callInt('DBSIZE'));
    }
    await target.client.call('SELECT', 0);
    expect(there).toBeGreaterThan(0);
    expect(there).toBeLessThan(totalKeys);

    // without --resume the target is not empty: refused, and pointed at the checkpoint (left as it was)
    const again = await run(['restore', rdb, url]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/the target is not empty.*restore-checkpoint\.json is the checkpoint of an interrupted restore: --resume goes on with it/s);
    // other settings: not this checkpoint's restore
    const other = await run(['restore', '--resume', '--type', 'string', rdb, url]);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/--resume: the checkpoint .* is not this restore's: it was written with other settings \(filter/);

    const resumed = await run(['restore', '--resume', '--json', rdb, url]);
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    const doc = JSON.parse(resumed.stdout);
    expect(doc.resumed).toBe(cp.done);
    expect(doc.resumed).toBeGreaterThanOrEqual(500);
    expect(doc.commands).toBeLessThan(full.commands);
    expect(doc.keys + doc.functions + doc.expired).toBe(1 + totalKeys - cp.done + (full.expired ?? 0));
    expect(await target.client.callText('DEBUG', 'DIGEST')).toBe(digest);
    expect(JSON.stringify(await target.client.call('FUNCTION', 'LIST', 'WITHCODE'))).toBe(functions);
    expect(existsSync(checkpoint)).toBe(false);
    // nothing to resume any more
    const none = await run(['restore', '--resume', rdb, url]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/--resume: there is no checkpoint/);
  }, 80_000);

  it('Ctrl-C (SIGINT) part way: the restore winds down, saves its checkpoint, says so and exits 130; --resume completes', async () => {
    await emptyTarget();
    const { first, saved } = await throttledRestorePast(300);
    first.child.kill('SIGINT');
    const r = await first.done;
    expect(r.code, r.stderr).toBe(130);
    // the checkpoint written on the way out (not only the last periodic one) is what the message names
    const cp = JSON.parse(readFileSync(checkpoint, 'utf8'));
    expect(cp.done).toBeGreaterThanOrEqual(saved);
    expect(r.stderr).toContain(`interrupted\n`);
    expect(r.stderr).toContain(`${checkpoint} says ${cp.done} records from the start are restored: rerun with --resume to go on`);
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/); // no stack trace
    const resumed = await run(['restore', '--resume', '--json', rdb, url]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout).resumed).toBe(cp.done);
    expect(await target.client.callText('DEBUG', 'DIGEST')).toBe(digest);
    expect(existsSync(checkpoint)).toBe(false);
  }, 80_000);

  it('--max-ops keeps to its rate (bursts of a tenth of a second)', async () => {
    await emptyTarget();
    const r = await run(['restore', '--json', '--max-ops', '400/s', '--key-pattern', 'pop:1??', '--key-pattern', 'pop:2??', rdb, url]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.keys).toBe(200);
    // 200 RESTOREs and a FUNCTION RESTORE at 400/s with a burst of 40: at least (201 - 40) / 400 s
    expect(doc.commands).toBe(201);
    expect(doc.elapsedMs).toBeGreaterThanOrEqual(((201 - 40) / 400) * 1000 - 30);
    expect(doc.elapsedMs).toBeLessThan(5000);
  });

  it('a target refusing EVAL: an element longer than the limit is reported before anything is sent; CONFIG refused: 512 MB assumed, said', async () => {
    await emptyTarget();
    await target.client.call('ACL', 'SETUSER', 'noscript', 'on', '>pw', '~*', '&*', '+@all', '-eval');
    await target.client.call('ACL', 'SETUSER', 'noconfig', 'on', '>pw', '~*', '&*', '+@all', '-config');
    const refused = await run(['restore', '--no-checkpoint', rdb, `redis://noscript:pw@127.0.0.1:${target.port}`]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/key "big:string" \(db 0\) holds a string of 2097153 bytes, longer than the target's proto-max-bulk-len \(1048576\): only EVAL can build it there and 127\.0\.0\.1:\d+ refuses EVAL \(NOPERM.*\); nothing was written/);
    expect(Number(await target.client.callInt('DBSIZE'))).toBe(0);
    // without those keys it goes (the list and the stream need no EVAL)
    const ok = await run(['restore', '--no-checkpoint', '--key-pattern', 'big:list', '--key-pattern', 'big:stream', rdb, `redis://noscript:pw@127.0.0.1:${target.port}`]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^restored 2 keys .*; 2 keys sent in pieces/);
    await emptyTarget();
    const assumed = await run(['restore', '--no-checkpoint', '--json', '--key-pattern', 'pop:*', rdb, `redis://noconfig:pw@127.0.0.1:${target.port}`]);
    expect(assumed.code, assumed.stderr).toBe(0);
    expect(assumed.stderr).toMatch(/warning: 127\.0\.0\.1:\d+ did not tell its proto-max-bulk-len \(NOPERM.*\): assuming 512 MB/);
    expect(JSON.parse(assumed.stdout)).toMatchObject({ keys: 4000, maxBulkLength: 512 * 1024 * 1024, maxBulkLengthAssumed: [`127.0.0.1:${target.port}`] });
  });

  it('--key-pattern, --type and --db choose the keys before anything is sent', async () => {
    await emptyTarget();
    const r = await run(['restore', '--json', '--key-pattern', 'hash:*', '--key-pattern', 'set:*', '--type', 'hash', '--db', '2', rdb, url]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    await source.client.call('SELECT', 2);
    const want = ((await source.client.call('KEYS', 'hash:*')).value as { value: Uint8Array }[]).map((v) => Buffer.from(v.value).toString()).sort();
    await source.client.call('SELECT', 0);
    expect(want.length).toBeGreaterThan(0);
    expect(doc.keys).toBe(want.length);
    expect(doc.inputs[0].keys).toBe(want.length);
    expect(doc.filtered).toBe(totalKeys - want.length);
    await target.client.call('SELECT', 2);
    const got = ((await target.client.call('KEYS', '*')).value as { value: Uint8Array }[]).map((v) => Buffer.from(v.value).toString()).sort();
    await target.client.call('SELECT', 0);
    expect(got).toEqual(want);
    expect(Number(await target.client.callInt('DBSIZE'))).toBe(0);
    const bad = await run(['restore', '--type', 'blob', rdb, url]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--type must be one of/);
  });
});
