// aof-tool follow against redis-server 7.0.15, run as a separate process: kill -9 in the middle of the stream and a
// restart continue with +CONTINUE from the R the files hold (no gap, no duplicate: an exact counter and the digest), a
// second follower is refused by the lock, SIGTERM stops it cleanly (exit 0) and the directory loads in redis-server
// with the source's DEBUG DIGEST; to-rdb --until restores a point in time from its #TS annotations; --rotate gives
// several incr files, a backlog overflow during a kill a new base, and the result still loads equal; --sentinel follows
// a SENTINEL FAILOVER with +CONTINUE on the promoted replica. Needs `pnpm build`.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseManifest } from '@redis-persist/aof';
import { scanIncrFile } from '@redis-persist/live';
import { rdbKeyspaceRecords } from '@redis-persist/rdb';
import {
  connect,
  randomTraffic,
  redisAvailable,
  redisToolAvailable,
  startMasterReplica,
  startRedis,
  startSentinels,
  type RedisClient,
  type RedisServer,
  type ReplicatedServers,
  type TestSentinels,
} from '@redis-persist/testkit';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = join(root, 'packages/cli/bin/aof-tool.js');
const built = existsSync(join(root, 'packages/cli/dist/aof-tool/follow.js'));
if (!built) console.warn('[follow-cli] packages/cli/dist has no follow command: run `pnpm build` first; skipping');
const hasRedis = redisAvailable();

const temps: string[] = [];
const servers: RedisServer[] = [];
const children = new Set<ChildProcess>();
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  for (const s of servers) await s.stop().catch(() => undefined);
  temps.forEach((d) => rmSync(d, { recursive: true, force: true }));
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'follow-cli-'));
  temps.push(d);
  return d;
}
async function source(config: Record<string, string> = {}): Promise<RedisServer> {
  const s = await startRedis({ config: { 'repl-diskless-sync-delay': '0', ...config } });
  servers.push(s);
  return s;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Event = { event: string } & Record<string, unknown>;

/** A running `aof-tool follow --json`: its events as they come, and its exit. */
interface FollowProcess {
  child: ChildProcess;
  events: Event[];
  stderr: () => string;
  exit: Promise<number | null>;
}

function startFollow(args: string[]): FollowProcess {
  const child = spawn(process.execPath, [BIN, 'follow', '--json', ...args], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const events: Event[] = [];
  let buf = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.trim() !== '') events.push(JSON.parse(line) as Event);
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // bounded: a follower the test forgot is killed after 80 s
  const timer = setTimeout(() => child.kill('SIGKILL'), 80_000);
  const exit = new Promise<number | null>((r) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      children.delete(child);
      r(code);
    }),
  );
  return { child, events, stderr: () => stderr, exit };
}

function run(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 20_000, p?: FollowProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${p ? `\nevents: ${JSON.stringify(p.events).slice(-2000)}\nstderr: ${p.stderr()}` : ''}`);
    await sleep(25);
  }
}

const has = (p: FollowProcess, event: string, n = 1) => p.events.filter((e) => e.event === event).length >= n;

async function replication(c: RedisClient): Promise<{ offset: number; replicaOffsets: number[] }> {
  const info = (await c.callText('INFO', 'replication')) ?? '';
  return {
    offset: Number(/^master_repl_offset:(\d+)/m.exec(info)![1]),
    replicaOffsets: [...info.matchAll(/^slave\d+:.*offset=(\d+)/gm)].map((m) => Number(m[1])),
  };
}

/** Waits until a replica (the follower) has ACKed everything the master sent so far. */
async function caughtUp(s: RedisServer, p: FollowProcess): Promise<void> {
  const { offset } = await replication(s.client);
  await waitFor(`an ACK of offset ${offset}`, async () => (await replication(s.client)).replicaOffsets.some((o) => o >= offset), 20_000, p);
}

async function loadCopy(dir: string): Promise<{ digest: string; functions: number; exact: string | null }> {
  const data = tmp();
  cpSync(dir, join(data, basename(dir)), { recursive: true });
  const s = await startRedis({ dir: data, config: { appendonly: 'yes', appenddirname: basename(dir) } });
  try {
    const fl = await s.client.call('FUNCTION', 'LIST');
    const digest = (await s.client.callText('DEBUG', 'DIGEST'))!;
    await s.client.call('SELECT', 5);
    const exact = await s.client.callText('GET', 'exact');
    return { digest, functions: fl.type === 'array' && fl.value ? fl.value.length : -1, exact };
  } finally {
    await s.stop();
  }
}

const LIB = "#!lua name=clilib\nredis.register_function('cf', function(keys, args) return redis.call('INCR', keys[1]) end)";

describe.skipIf(!built || !hasRedis)('aof-tool follow (redis-server 7.0.15)', () => {
  it('kill -9 mid-stream, restart: +CONTINUE from the R in the files, no gap, no duplicate; a second follower is refused; SIGTERM exits 0; loads equal; to-rdb --until', async () => {
    const s = await source();
    const c = s.client;
    await randomTraffic(c, { seed: 31, commands: 1000, dbs: [0, 2], multi: true, expiries: true, flushAll: true });
    const dir = join(tmp(), 'backup');
    const url = `redis://127.0.0.1:${s.port}`;
    const p1 = startFollow([url, dir]);
    await waitFor('the snapshot', () => has(p1, 'snapshot'), 20_000, p1);

    // the directory is locked against a second follower
    const second = run(['follow', url, dir]);
    expect(second.code, second.stderr).toBe(1);
    expect(second.stderr).toMatch(/locked by another run \(pid \d+, aof-tool follow/);

    // traffic of every type while it runs, an exact counter (in db 5, which nothing else touches) among it; kill -9
    // in the middle of it
    await c.call('FUNCTION', 'LOAD', LIB);
    let incrs = 0;
    let rounds = 0;
    let stopTraffic = false;
    const traffic = (async () => {
      for (let round = 0; round < 200 && !stopTraffic; round++) {
        await randomTraffic(c, { seed: 40 + round, commands: 150, dbs: [0, 2], multi: true, expiries: true });
        await c.call('SELECT', 5);
        for (let i = 0; i < 20; i++, incrs++) await c.call('FCALL', 'cf', 1, 'exact');
        await c.call('SELECT', 0);
        if (round === 3) await c.call('SWAPDB', 0, 2);
        rounds++;
      }
    })();
    await waitFor('commands written', () => p1.events.some((e) => e.event === 'commands'), 20_000, p1);
    p1.child.kill('SIGKILL');
    expect(await p1.exit).toBe(null);
    // the traffic goes on while nobody follows, then stops
    const roundsAtKill = rounds;
    await waitFor('more traffic', () => rounds >= roundsAtKill + 3);
    stopTraffic = true;
    await traffic;
    const missed = (await replication(c)).offset;

    // what the files say: the last incr file ends at R (cut back if torn); the restart continues from exactly there
    const incr = join(dir, 'appendonly.aof.1.incr.aof');
    const scan = await scanIncrFile(incr);
    expect(scan.offset).not.toBeNull();
    expect(scan.offset!).toBeLessThan(missed); // what the master sent after the kill comes from its backlog
    const p2 = startFollow([url, dir]);
    await waitFor('the continuation', () => has(p2, 'continue'), 20_000, p2);
    const start = p2.events.find((e) => e.event === 'start')!;
    expect(start).toMatchObject({ resumed: true, offset: scan.offset, cutBytes: scan.size - scan.cut });
    expect(p2.events.find((e) => e.event === 'connect')).toMatchObject({ continueFrom: { offset: scan.offset } });
    expect(p2.events.find((e) => e.event === 'continue')).toMatchObject({ offset: scan.offset, replidChanged: false });
    expect(p2.events.some((e) => e.event === 'snapshot')).toBe(false);
    // the next write continues where the file stood
    await c.call('SET', 'after-restart', '1');
    await waitFor('the next write', () => p2.events.some((e) => e.event === 'commands'), 20_000, p2);
    expect(p2.events.find((e) => e.event === 'commands')).toMatchObject({ from: scan.offset });

    // a point in time: one key before, one after
    await c.call('SET', 'pit:before', '1');
    await caughtUp(s, p2);
    await sleep(1100);
    const T = Math.floor(Date.now() / 1000);
    await sleep(1100);
    await c.call('SET', 'pit:after', '1');
    await caughtUp(s, p2);

    p2.child.kill('SIGTERM');
    expect(await p2.exit, p2.stderr()).toBe(0);
    const summary = p2.events[p2.events.length - 1];
    expect(summary).toMatchObject({ event: 'summary', fullSyncs: 0, partialSyncs: 1 });
    const end = await scanIncrFile(incr);
    expect(summary.offset).toBe(end.offset);
    expect(end.cut).toBe(end.size);

    await c.call('SELECT', 5);
    expect(await c.callText('GET', 'exact')).toBe(String(incrs));
    await c.call('SELECT', 0);
    const got = await loadCopy(dir);
    expect(got.exact).toBe(String(incrs));
    expect(got.digest).toBe(await c.callText('DEBUG', 'DIGEST'));
    expect(got.functions).toBe(1);

    // to-rdb --until T: pit:before is there, pit:after is not
    const out = join(tmp(), 'pit.rdb');
    const r = run(['to-rdb', dir, out, '--until', String(T)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/point in time: stopped before appendonly\.aof\.1\.incr\.aof:\d+ \(#TS:\d+\)/);
    const keys = new Set<string>();
    for await (const rec of rdbKeyspaceRecords(out)) if (rec.kind === 'key') keys.add(Buffer.from(rec.key).toString('latin1'));
    expect(keys.has('pit:before')).toBe(true);
    expect(keys.has('pit:after')).toBe(false);
    expect(keys.has('after-restart')).toBe(true);
  }, 90_000);

  it('--rotate: several incr files; a backlog overflow while it is killed gives a new base on restart; the result loads equal; usage errors exit 2', async () => {
    const s = await source({ 'repl-backlog-size': '16kb' });
    const c = s.client;
    const dir = join(tmp(), 'rotating');
    const url = `redis://127.0.0.1:${s.port}`;
    const p1 = startFollow(['--rotate', '0.02', '--fsync', 'always', url, dir]);
    await waitFor('the snapshot', () => has(p1, 'snapshot'), 20_000, p1);
    await randomTraffic(c, { seed: 51, commands: 2500, dbs: [0, 1], multi: true, expiries: true });
    await caughtUp(s, p1);
    expect(has(p1, 'rotate', 2)).toBe(true);
    p1.child.kill('SIGKILL');
    await p1.exit;
    const m1 = parseManifest(readFileSync(join(dir, 'appendonly.aof.manifest')));
    expect(m1.incr.length).toBeGreaterThanOrEqual(3);

    // more than the backlog goes by while nobody follows: the restart gets a full resync and a new base
    await randomTraffic(c, { seed: 52, commands: 2000, dbs: [0, 1], multi: true, expiries: true });
    const p2 = startFollow(['--rotate', '0.02', url, dir]);
    await waitFor('the new base', () => has(p2, 'snapshot'), 20_000, p2);
    expect(p2.events.find((e) => e.event === 'resync')).toMatchObject({ previous: { offset: (await scanIncrFile(join(dir, m1.incr[m1.incr.length - 1].name))).offset } });
    expect(p2.events.find((e) => e.event === 'snapshot')).toMatchObject({ file: 'appendonly.aof.2.base.rdb', previousManifest: 'appendonly.aof.manifest.gen1' });
    await randomTraffic(c, { seed: 53, commands: 1500, dbs: [0, 1], multi: true, expiries: true });
    await caughtUp(s, p2);
    p2.child.kill('SIGINT');
    expect(await p2.exit, p2.stderr()).toBe(0);
    const m2 = parseManifest(readFileSync(join(dir, 'appendonly.aof.manifest')));
    expect(m2.base?.name).toBe('appendonly.aof.2.base.rdb');
    expect(m2.incr.length).toBeGreaterThanOrEqual(2);
    expect(m2.incr[0].seq).toBeGreaterThan(m1.incr[m1.incr.length - 1].seq);
    for (const e of [...m1.incr, m2.incr[0]]) expect(existsSync(join(dir, e.name)), e.name).toBe(true);
    expect((await loadCopy(dir)).digest).toBe(await c.callText('DEBUG', 'DIGEST'));
    if (redisToolAvailable('redis-check-aof')) {
      const copy = join(tmp(), 'check');
      cpSync(dir, copy, { recursive: true });
      const r = spawnSync('redis-check-aof', [join(copy, 'appendonly.aof.manifest')], { encoding: 'utf8', timeout: 30_000 });
      expect(r.stdout, r.stderr).toMatch(/is valid/);
    }
    const check = run(['check', dir]);
    expect(check.code, check.stdout + check.stderr).toBe(0);

    // usage: no directory, a bad --fsync, --master without --sentinel, a directory someone else wrote
    expect(run(['follow', url]).code).toBe(2);
    expect(run(['follow', '--fsync', 'sometimes', url, join(tmp(), 'x')]).code).toBe(2);
    expect(run(['follow', '--master', 'mymaster', url, join(tmp(), 'x')]).code).toBe(2);
    const foreign = join(tmp(), 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'notes.txt'), 'mine');
    const refused = run(['follow', url, foreign]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/not empty and was not written by aof-tool follow/);
  }, 90_000);

  it('--sentinel --master: SENTINEL FAILOVER while it follows: +switch-master, +CONTINUE on the promoted replica, no full resync; loads with its digest', async () => {
    let rs: ReplicatedServers | null = null;
    let sentinels: TestSentinels | null = null;
    try {
      rs = await startMasterReplica({ config: { 'repl-diskless-sync-delay': '0' } });
      sentinels = await startSentinels({ master: { port: rs.master.port }, replicas: 1 });
      const oldPort = rs.master.port;
      const newPort = rs.replicas[0].port;
      // clients of their own: a sentinel ends the normal clients of the servers it reconfigures
      const info = async (port: number) => {
        const c = await connect(port);
        try {
          return (await c.callText('INFO', 'replication')) ?? '';
        } finally {
          await c.close();
        }
      };
      const field = (text: string, name: string) => new RegExp(`^${name}:(\\S+)`, 'm').exec(text)?.[1];
      const old = await connect(oldPort);
      await randomTraffic(old, { seed: 61, commands: 800, dbs: [0, 3], multi: true });
      const dir = join(tmp(), 'sentinel-backup');
      const p = startFollow(['--sentinel', sentinels.list, '--master', 'mymaster', dir]);
      await waitFor('the snapshot', () => has(p, 'snapshot'), 20_000, p);
      expect(p.events.find((e) => e.event === 'connect')).toMatchObject({ server: `127.0.0.1:${oldPort}` });
      await randomTraffic(old, { seed: 62, commands: 800, dbs: [0, 3], multi: true });
      await old.close();
      await waitFor('the replica caught up', async () => field(await info(newPort), 'slave_repl_offset') === field(await info(oldPort), 'master_repl_offset'));
      const oldReplid = field(await info(oldPort), 'master_replid');
      await sentinels.failover(0);
      await sentinels.waitForMaster(newPort, 20_000);
      const fresh = await connect(newPort);
      try {
        await randomTraffic(fresh, { seed: 63, commands: 800, dbs: [0, 3], multi: true });
        await waitFor('+CONTINUE from the new master', () => p.events.some((e) => e.event === 'continue' && e.server === `127.0.0.1:${newPort}`), 30_000, p);
        expect(p.events.some((e) => e.event === 'switch-master')).toBe(true);
        expect(p.events.find((e) => e.event === 'continue' && e.server === `127.0.0.1:${newPort}`)).toMatchObject({ replidChanged: true, previousReplid: oldReplid });
        await randomTraffic(fresh, { seed: 64, commands: 300, dbs: [0, 3] });
        const target = Number(field(await info(newPort), 'master_repl_offset'));
        await waitFor('an ACK from the follower', async () => [...(await info(newPort)).matchAll(/^slave\d+:.*offset=(\d+)/gm)].some((m) => Number(m[1]) >= target), 20_000, p);
        p.child.kill('SIGTERM');
        expect(await p.exit, p.stderr()).toBe(0);
        expect(p.events.filter((e) => e.event === 'snapshot')).toHaveLength(1);
        expect(p.events.filter((e) => e.event === 'replid')).toHaveLength(1);
        expect((await loadCopy(dir)).digest).toBe(await fresh.callText('DEBUG', 'DIGEST'));
      } finally {
        await fresh.close();
      }
    } finally {
      await sentinels?.stop();
      await rs?.stop();
    }
  }, 90_000);
});
