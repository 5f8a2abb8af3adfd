// followReplication against redis-server 7.0.15: traffic of every type (MULTI, expiries, FLUSHALL, SWAPDB, functions,
// PUBLISH) followed into a multi-part AOF directory that a second redis-server loads with the source's DEBUG DIGEST;
// a clean stop and a dropped link continue with +CONTINUE (offsets checked: no gap, no duplicate); a torn tail is
// cut back to R and the master sends the rest again; a backlog overflow and a restarted source (new replid) start a
// new base and keep the old files; rotation; a second follower and a foreign directory are refused.
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseManifest, readAof } from '@redis-persist/aof';
import { dumpLiveKeyspace, randomTraffic, redisAvailable, redisToolAvailable, startRedis, type RedisClient, type RedisServer } from '@redis-persist/testkit';
import type { RespValue } from '@redis-persist/resp';
import { FOLLOW_STATE_FILE, followReplication, scanIncrFile, type FollowEvent, type FollowOptions, type Follower } from '../src/follow.js';

const hasRedis = redisAvailable();
if (!hasRedis) console.warn('[live] redis-server is not on PATH: skipping the follow tests');

const temps: string[] = [];
const servers: RedisServer[] = [];
const followers: Follower[] = [];
afterAll(async () => {
  for (const f of followers) await f.stop().catch(() => undefined);
  for (const s of servers) await s.stop().catch(() => undefined);
  temps.forEach((d) => rmSync(d, { recursive: true, force: true }));
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'live-follow-'));
  temps.push(d);
  return d;
}
async function source(config: Record<string, string> = {}): Promise<RedisServer> {
  const s = await startRedis({ config: { 'repl-diskless-sync-delay': '0', ...config } });
  servers.push(s);
  return s;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LIB1 = "#!lua name=followlib\nredis.register_function('f1', function(keys, args) return redis.call('SET', keys[1], args[1]) end)";
const LIB2 = "#!lua name=followlib2\nredis.register_function{function_name='f2', callback=function(keys, args) return redis.call('INCR', keys[1]) end}";

interface Run {
  follower: Follower;
  events: FollowEvent[];
}

function follow(port: number, dir: string, extra: Partial<FollowOptions> = {}): Run {
  const events: FollowEvent[] = [];
  const follower = followReplication({
    master: `redis://127.0.0.1:${port}`,
    dir,
    retry: { minDelayMs: 50, maxDelayMs: 300 },
    onEvent: (e) => events.push(e),
    ...extra,
  });
  followers.push(follower);
  return { follower, events };
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

async function masterOffset(c: RedisClient): Promise<number> {
  const info = (await c.callText('INFO', 'replication')) ?? '';
  return Number(/^master_repl_offset:(\d+)/m.exec(info)![1]);
}
async function masterReplid(c: RedisClient): Promise<string> {
  const info = (await c.callText('INFO', 'replication')) ?? '';
  return /^master_replid:(\S+)/m.exec(info)![1];
}

/** Waits until the follower has processed everything the master sent so far. */
async function caughtUp(s: RedisServer, f: Follower): Promise<void> {
  const target = await masterOffset(s.client);
  await waitFor(`the follower to reach offset ${target}`, () => (f.processed ?? -1) >= target);
}

/** FUNCTION LIST as text, the libraries in name order (the server lists them in hash order). */
function libraries(reply: RespValue): string {
  const list = reply.type === 'array' && reply.value !== null ? reply.value : [];
  return JSON.stringify(list.map((l) => JSON.stringify(l)).sort());
}

/** Loads a copy of the directory in a fresh redis-server; returns its DEBUG DIGEST, function libraries and key count. */
async function loadCopy(dir: string): Promise<{ digest: string; functions: string; keys: number; log: string }> {
  const data = tmp();
  const name = basename(dir);
  cpSync(dir, join(data, name), { recursive: true });
  const s = await startRedis({ dir: data, config: { appendonly: 'yes', appenddirname: name } });
  try {
    const digest = (await s.client.callText('DEBUG', 'DIGEST'))!;
    const functions = libraries(await s.client.call('FUNCTION', 'LIST', 'WITHCODE'));
    const keys = (await dumpLiveKeyspace(s.client)).length;
    return { digest, functions, keys, log: s.log() };
  } finally {
    await s.stop();
  }
}

async function sourceState(s: RedisServer) {
  return {
    digest: (await s.client.callText('DEBUG', 'DIGEST'))!,
    functions: libraries(await s.client.call('FUNCTION', 'LIST', 'WITHCODE')),
  };
}

function manifestOf(dir: string) {
  return parseManifest(readFileSync(join(dir, 'appendonly.aof.manifest')));
}

/** The names of every command in the loaded files, lower case. */
async function commandNames(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const c of readAof(dir)) out.push(Buffer.from(c.args[0]).toString('latin1').toLowerCase());
  return out;
}

/**
 * The offsets in an incr file: every #REPL annotation's offset must be at or past where the file had got to (never
 * behind: that would be a duplicate), and R at the end is what scanIncrFile says.
 */
function checkAnnotations(path: string): { annotations: number; timestamps: number } {
  const text = readFileSync(path);
  let pos: number | null = null;
  let annotations = 0;
  let timestamps = 0;
  let i = 0;
  let counting = false;
  while (i < text.length) {
    if (text[i] === 0x23) {
      const end = text.indexOf(0x0a, i);
      const line = text.toString('latin1', i, end).replace(/\r$/, '');
      const m = /^#REPL:([0-9a-f]{40}):(\d+)$/.exec(line);
      if (m) {
        const off = Number(m[2]);
        if (pos !== null) expect(off, `${path}: #REPL at byte ${i} goes back from ${pos} to ${off}`).toBeGreaterThanOrEqual(pos);
        pos = off;
        annotations++;
        counting = true;
      } else if (line.startsWith('#TS:')) timestamps++;
      i = end + 1;
      continue;
    }
    // a command: *<n>\r\n then n × $<len>\r\n<bytes>\r\n
    const start = i;
    let lf = text.indexOf(0x0a, i);
    const n = Number(text.toString('latin1', i + 1, lf - 1));
    i = lf + 1;
    for (let k = 0; k < n; k++) {
      lf = text.indexOf(0x0a, i);
      const len = Number(text.toString('latin1', i + 1, lf - 1));
      i = lf + 1 + len + 2;
    }
    if (counting && pos !== null) pos += i - start;
  }
  return { annotations, timestamps };
}

describe.skipIf(!hasRedis)('followReplication against redis-server 7.0.15', () => {
  it('follows traffic of every type into a directory that loads with the source digest; a stop, a dropped link and a torn tail continue with +CONTINUE', async () => {
    const s = await source();
    const c = s.client;
    await randomTraffic(c, { seed: 1, commands: 1500, dbs: [0, 1, 2], multi: true, expiries: true, flushAll: true });
    await c.call('FUNCTION', 'LOAD', LIB1);
    const dir = join(tmp(), 'backup');
    const run1 = follow(s.port, dir);
    await waitFor('the snapshot', () => run1.events.some((e) => e.type === 'snapshot'));
    const snap = run1.events.find((e) => e.type === 'snapshot')!;
    expect(snap).toMatchObject({ type: 'snapshot', file: 'appendonly.aof.1.base.rdb', incr: 'appendonly.aof.1.incr.aof', replid: await masterReplid(c), format: 'diskless', previousManifest: null });

    // traffic while following: every type, MULTI, expiries, FLUSHALL/FLUSHDB, SWAPDB, functions, scripts, PUBLISH
    await randomTraffic(c, { seed: 2, commands: 2500, dbs: [0, 1, 2], multi: true, expiries: true, flushAll: true });
    await c.call('SWAPDB', 0, 1);
    await c.call('FUNCTION', 'LOAD', LIB2);
    await c.call('FCALL', 'f2', 1, 'counter');
    await c.call('PUBLISH', 'news', 'not for the AOF');
    await c.call('EVAL', "redis.call('SET', KEYS[1], 'x'); redis.call('PUBLISH', 'ch', 'y'); return 1", 1, 'scripted');
    await randomTraffic(c, { seed: 3, commands: 800, dbs: [0, 1, 2], multi: true, expiries: true });
    await caughtUp(s, run1.follower);
    const sum1 = await run1.follower.stop();
    expect(run1.events.filter((e) => e.type === 'disconnect')).toEqual([]);
    expect(sum1).toMatchObject({ fullSyncs: 1, partialSyncs: 0, file: 'appendonly.aof.1.incr.aof' });
    expect(sum1.offset).toBeLessThanOrEqual(await masterOffset(c));
    expect(run1.events[run1.events.length - 1]).toMatchObject({ type: 'stop', offset: sum1.offset });

    // the files: base + one incr in the manifest, the state file beside them; no PING, PUBLISH or REPLCONF written
    expect(manifestOf(dir).base?.name).toBe('appendonly.aof.1.base.rdb');
    expect(manifestOf(dir).incr.map((e) => e.name)).toEqual(['appendonly.aof.1.incr.aof']);
    const state = JSON.parse(readFileSync(join(dir, FOLLOW_STATE_FILE), 'utf8'));
    expect(state).toMatchObject({ replid: snap.replid, offset: sum1.offset, incr: 'appendonly.aof.1.incr.aof' });
    const names = await commandNames(dir);
    expect(names).toContain('swapdb');
    expect(names).toContain('function');
    expect(names).toContain('multi');
    expect(names).toContain('select');
    expect(names.filter((n) => ['ping', 'publish', 'replconf'].includes(n))).toEqual([]);
    const incr1 = join(dir, 'appendonly.aof.1.incr.aof');
    const a1 = checkAnnotations(incr1);
    expect(a1.timestamps).toBeGreaterThan(0);
    const scan1 = await scanIncrFile(incr1);
    expect(scan1).toMatchObject({ cut: statSync(incr1).size, offset: sum1.offset, replid: snap.replid });

    const want1 = await sourceState(s);
    const got1 = await loadCopy(dir);
    expect(got1.digest).toBe(want1.digest);
    expect(got1.functions).toBe(want1.functions);

    // restart after a clean stop: +CONTINUE from R, nothing written twice
    const run2 = follow(s.port, dir);
    await waitFor('the continuation', () => run2.events.some((e) => e.type === 'continue'));
    expect(run2.events[0]).toMatchObject({ type: 'start', resumed: true, offset: sum1.offset, cutBytes: 0 });
    expect(run2.events.find((e) => e.type === 'continue')).toMatchObject({ offset: sum1.offset, replid: snap.replid, replidChanged: false });
    await randomTraffic(c, { seed: 4, commands: 500, dbs: [0, 1, 2], multi: true, expiries: true });
    // a dropped link: the master kills its replica connections; the follower comes back with +CONTINUE
    await c.call('CLIENT', 'KILL', 'TYPE', 'replica');
    await waitFor('a second continuation', () => run2.events.filter((e) => e.type === 'continue').length >= 2);
    for (let i = 0; i < 200; i++) await c.call('INCR', 'exact');
    await randomTraffic(c, { seed: 5, commands: 500, dbs: [0, 1, 2], multi: true, expiries: true });
    await caughtUp(s, run2.follower);
    const sum2 = await run2.follower.stop();
    expect(sum2).toMatchObject({ fullSyncs: 0, partialSyncs: 2 });
    expect(run2.events.filter((e) => e.type === 'snapshot')).toEqual([]);
    checkAnnotations(incr1);
    const got2 = await loadCopy(dir);
    expect(got2.digest).toBe((await sourceState(s)).digest);

    // a torn tail (as a crash could leave): the last command cut in the middle; R goes back before it and the
    // master sends it again
    const size = statSync(incr1).size;
    truncateSync(incr1, size - 5);
    const torn = await scanIncrFile(incr1);
    expect(torn.cut).toBeLessThan(size - 5);
    expect(torn.offset).toBeLessThan(sum2.offset!);
    const run3 = follow(s.port, dir);
    await waitFor('the continuation after the cut', () => run3.events.some((e) => e.type === 'continue'));
    expect(run3.events[0]).toMatchObject({ type: 'start', resumed: true, offset: torn.offset, cutBytes: size - 5 - torn.cut });
    expect(run3.events.find((e) => e.type === 'continue')).toMatchObject({ offset: torn.offset });
    await caughtUp(s, run3.follower);
    const sum3 = await run3.follower.stop();
    expect(sum3.offset).toBe(sum2.offset);
    checkAnnotations(incr1);
    const got3 = await loadCopy(dir);
    expect(got3.digest).toBe((await sourceState(s)).digest);
    expect(got3.functions).toBe((await sourceState(s)).functions);
    if (redisToolAvailable('redis-check-aof')) {
      const copy = join(tmp(), 'check');
      cpSync(dir, copy, { recursive: true });
      const r = spawnSync('redis-check-aof', [join(copy, 'appendonly.aof.manifest')], { encoding: 'utf8', timeout: 30_000 });
      expect(r.stdout, r.stderr).toMatch(/is valid/);
    }
  }, 90_000);
});
