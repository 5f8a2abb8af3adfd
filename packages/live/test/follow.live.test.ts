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
import { replayAof } from '@redis-persist/replay';
import { connect, dumpLiveKeyspace, randomTraffic, redisAvailable, redisToolAvailable, startRedis, type RedisClient, type RedisServer } from '@redis-persist/testkit';
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
async function loadCopy(dir: string, appendfilename = 'appendonly.aof'): Promise<{ digest: string; functions: string; keys: number; log: string }> {
  const data = tmp();
  const name = basename(dir);
  cpSync(dir, join(data, name), { recursive: true });
  const s = await startRedis({ dir: data, config: { appendonly: 'yes', appenddirname: name, appendfilename } });
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

function manifestOf(dir: string, appendfilename = 'appendonly.aof') {
  return parseManifest(readFileSync(join(dir, `${appendfilename}.manifest`)));
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
    // the last write in db 2, then a PUBLISH from db 0: the master sends SELECT 0 + PUBLISH, and neither is written
    // nor counted in R (a promoted replica would not have them: see the Sentinel case in the issue)
    const other = await connect(s.port);
    await other.call('SELECT', 2);
    await other.call('SET', 'last-write', 'db2');
    await other.close();
    const lastWrite = await masterOffset(c);
    await c.call('PUBLISH', 'news', 'trailing');
    expect(await masterOffset(c)).toBeGreaterThan(lastWrite);
    await caughtUp(s, run1.follower);
    const sum1 = await run1.follower.stop();
    expect(sum1.offset).toBe(lastWrite);
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

  it('a backlog overflow and a source restarted with a new replid each start a new base; the old files stay; the result equals the source', async () => {
    const s = await source({ 'repl-backlog-size': '16kb' });
    const c = s.client;
    await randomTraffic(c, { seed: 11, commands: 800, dbs: [0, 1], multi: true, expiries: true });
    const dir = join(tmp(), 'backup');
    // the master through a resolver (as Sentinel would give it): the restarted source may come back on another port
    const resolver = async () => ({ host: '127.0.0.1', port: s.port, tls: false, db: 0 });
    const run1 = follow(s.port, dir, { master: resolver });
    await waitFor('the snapshot', () => run1.events.some((e) => e.type === 'snapshot'));
    await randomTraffic(c, { seed: 12, commands: 600, dbs: [0, 1], multi: true, expiries: true });
    await caughtUp(s, run1.follower);
    const sum1 = await run1.follower.stop();
    const replid1 = await masterReplid(c);
    const digestAtStop = (await sourceState(s)).digest;

    // while nobody follows, more than the 16 KiB backlog goes by
    const before = await masterOffset(c);
    await randomTraffic(c, { seed: 13, commands: 1500, dbs: [0, 1], multi: true, expiries: true });
    expect((await masterOffset(c)) - before).toBeGreaterThan(16 * 1024);
    const run2 = follow(s.port, dir, { master: resolver });
    await waitFor('the new base', () => run2.events.some((e) => e.type === 'snapshot'));
    expect(run2.events.find((e) => e.type === 'connect')).toMatchObject({ continueFrom: { replid: replid1, offset: sum1.offset } });
    expect(run2.events.find((e) => e.type === 'resync')).toMatchObject({ previous: { replid: replid1, offset: sum1.offset }, replid: replid1 });
    expect(run2.events.find((e) => e.type === 'snapshot')).toMatchObject({
      file: 'appendonly.aof.2.base.rdb',
      incr: 'appendonly.aof.2.incr.aof',
      previousManifest: 'appendonly.aof.manifest.gen1',
    });
    expect(manifestOf(dir)).toMatchObject({ base: { name: 'appendonly.aof.2.base.rdb', seq: 2 }, history: [], incr: [{ name: 'appendonly.aof.2.incr.aof', seq: 2 }] });
    // the first generation is kept as it was, with its manifest
    for (const f of ['appendonly.aof.1.base.rdb', 'appendonly.aof.1.incr.aof']) expect(existsSync(join(dir, f)), f).toBe(true);
    expect(readFileSync(join(dir, 'appendonly.aof.manifest.gen1'), 'latin1')).toBe(
      'file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n',
    );
    // the old generation still loads: as the source was when the first follower stopped
    const old = await replayAof(join(dir, 'appendonly.aof.manifest.gen1'));
    expect(old.files).toEqual(['appendonly.aof.1.base.rdb', 'appendonly.aof.1.incr.aof']);
    const oldCopy = join(tmp(), 'gen1');
    cpSync(dir, oldCopy, { recursive: true });
    cpSync(join(oldCopy, 'appendonly.aof.manifest.gen1'), join(oldCopy, 'appendonly.aof.manifest'));
    expect((await loadCopy(oldCopy)).digest).toBe(digestAtStop);
    await randomTraffic(c, { seed: 14, commands: 500, dbs: [0, 1], multi: true, expiries: true });
    await caughtUp(s, run2.follower);
    expect((await loadCopy(dir)).digest).toBe((await sourceState(s)).digest);

    // the source restarted without its data: a new replid; the follower, still running, gets a full resync
    await s.restart({ save: false });
    await waitFor('the third base', () => run2.events.filter((e) => e.type === 'snapshot').length >= 2, 30_000);
    // (a master takes a new replid when its first replica comes)
    const replid2 = await masterReplid(s.client);
    expect(replid2).not.toBe(replid1);
    expect(run2.events.some((e) => e.type === 'disconnect')).toBe(true);
    expect(run2.events.filter((e) => e.type === 'resync').pop()).toMatchObject({ previous: { replid: replid1 }, replid: replid2 });
    await randomTraffic(s.client, { seed: 15, commands: 600, dbs: [0, 1], multi: true, expiries: true });
    await caughtUp(s, run2.follower);
    const sum2 = await run2.follower.stop();
    expect(sum2).toMatchObject({ fullSyncs: 2, replid: replid2 });
    expect(manifestOf(dir).base?.name).toBe('appendonly.aof.3.base.rdb');
    expect(existsSync(join(dir, 'appendonly.aof.manifest.gen2'))).toBe(true);
    const got = await loadCopy(dir);
    expect(got.digest).toBe((await sourceState(s)).digest);
    expect(got.keys).toBeGreaterThan(0);
  }, 90_000);

  it('rotates incr files past rotateBytes (manifest updated, each file self-describing), fsync always, a custom appendfilename; WAIT sees the ACKs; reconnect() continues', async () => {
    const s = await source();
    const c = s.client;
    const dir = join(tmp(), 'rotating');
    const run = follow(s.port, dir, { rotateBytes: 16 * 1024, fsync: 'always', appendFilename: 'backup.aof' });
    await waitFor('the snapshot', () => run.events.some((e) => e.type === 'snapshot'));
    await randomTraffic(c, { seed: 21, commands: 3000, dbs: [0, 1, 5], multi: true, expiries: true, flushAll: true });
    await c.call('SELECT', 5);
    await c.call('SET', 'in-db-5', 'x');
    // WAIT: the master asks for an ACK (REPLCONF GETACK) and the follower's reaches the write
    expect((await c.call('WAIT', 1, 5000)).type).toBe('integer');
    expect(await c.callInt('WAIT', 1, 5000)).toBe(1n);
    await c.call('SELECT', 0);
    run.follower.reconnect('a test asked');
    await waitFor('the continuation', () => run.events.some((e) => e.type === 'continue'));
    await randomTraffic(c, { seed: 22, commands: 1500, dbs: [0, 1, 5], multi: true, expiries: true });
    await caughtUp(s, run.follower);
    const sum = await run.follower.stop();
    expect(sum.fullSyncs).toBe(1);
    expect(sum.partialSyncs).toBe(1);
    const rotations = run.events.filter((e) => e.type === 'rotate');
    expect(rotations.length).toBeGreaterThanOrEqual(3);
    const m = manifestOf(dir, 'backup.aof');
    expect(m.base?.name).toBe('backup.aof.1.base.rdb');
    expect(m.incr.map((e) => e.name)).toEqual(Array.from({ length: rotations.length + 1 }, (_, i) => `backup.aof.${i + 1}.incr.aof`));
    expect(readdirSync(dir).filter((n) => n.endsWith('.incr.aof')).length).toBe(m.incr.length);
    for (const [i, e] of m.incr.entries()) {
      const head = readFileSync(join(dir, e.name)).toString('latin1', 0, 200);
      // #TS first, then (after the first file, once a database is known) the SELECT, then where the stream stands
      expect(head, e.name).toMatch(i === 0 ? /^#TS:\d+\r\n#REPL:[0-9a-f]{40}:\d+\r\n/ : /^#TS:\d+\r\n\*2\r\n\$6\r\nSELECT\r\n\$1\r\n\d\r\n#REPL:[0-9a-f]{40}:\d+\r\n/);
      checkAnnotations(join(dir, e.name));
    }
    // R at the end of each file is where the next one starts
    for (let i = 0; i + 1 < m.incr.length; i++) {
      const scan = await scanIncrFile(join(dir, m.incr[i].name));
      const next = /#REPL:[0-9a-f]{40}:(\d+)/.exec(readFileSync(join(dir, m.incr[i + 1].name)).toString('latin1', 0, 300))!;
      expect(Number(next[1]), m.incr[i + 1].name).toBe(scan.offset);
    }
    const got = await loadCopy(dir, 'backup.aof');
    expect(got.digest).toBe((await sourceState(s)).digest);
  }, 90_000);

  it('a disk-based sync under write traffic: the stream that follows the payload at once is kept (no byte lost at the seam)', async () => {
    // a slow BGSAVE (rdb-key-save-delay, µs per key): the writes made meanwhile wait in the master's buffer and come
    // right behind the RDB payload, in the same reads
    const s = await source({ 'repl-diskless-sync': 'no', 'rdb-key-save-delay': '2000' });
    const c = s.client;
    await randomTraffic(c, { seed: 71, commands: 600, dbs: [0, 1], multi: true, expiries: true });
    const dir = join(tmp(), 'disk');
    const run = follow(s.port, dir);
    let writes = 0;
    await waitFor('the sync to start', async () => /^slave0:.*state=wait_bgsave/m.test((await c.callText('INFO', 'replication')) ?? ''));
    while (!run.events.some((e) => e.type === 'snapshot') && writes < 20_000) {
      await c.call('INCR', 'during-sync');
      writes++;
    }
    expect(run.events.find((e) => e.type === 'snapshot')).toMatchObject({ format: 'disk' });
    expect(writes).toBeGreaterThan(0);
    await randomTraffic(c, { seed: 72, commands: 400, dbs: [0, 1], multi: true, expiries: true });
    await caughtUp(s, run.follower);
    await run.follower.stop();
    const got = await loadCopy(dir);
    expect(got.digest).toBe((await sourceState(s)).digest);
  }, 60_000);

  it('refuses a second follower on the same directory and a directory it did not write (unless force, which keeps it as .bak)', async () => {
    const s = await source();
    const dir = join(tmp(), 'locked');
    const run = follow(s.port, dir);
    await waitFor('the snapshot', () => run.events.some((e) => e.type === 'snapshot'));
    const second = follow(s.port, dir);
    await expect(second.follower.done).rejects.toMatchObject({ name: 'FsioError', code: 'locked' });
    await run.follower.stop();
    expect(existsSync(join(dir, FOLLOW_STATE_FILE))).toBe(true);

    const foreign = join(tmp(), 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'notes.txt'), 'mine');
    const refused = follow(s.port, foreign);
    await expect(refused.follower.done).rejects.toMatchObject({ name: 'FsioError', code: 'output-exists' });
    expect(readdirSync(foreign)).toEqual(['notes.txt']);
    const forced = follow(s.port, foreign, { force: true });
    await waitFor('the snapshot', () => forced.events.some((e) => e.type === 'snapshot'));
    await forced.follower.stop();
    expect(readFileSync(join(`${foreign}.bak`, 'notes.txt'), 'utf8')).toBe('mine');
    expect(readdirSync(foreign).sort()).toEqual(['appendonly.aof.1.base.rdb', 'appendonly.aof.1.incr.aof', 'appendonly.aof.manifest', FOLLOW_STATE_FILE]);
  }, 60_000);
});
