// --sentinel h:p[,h:p...] --master <name> in place of the URL, against a master and a replica (requirepass) and three
// sentinels on 127.0.0.1: rdb-tool fetch gets the master's keyspace; a sentinel that is down is skipped; a master
// name nobody knows is exit 1, no sentinel at all exit 3, bad combinations exit 2; after SENTINEL FAILOVER fetch
// reads the promoted replica and rdb-tool restore --sentinel --flush writes into it. aof-tool follow --sentinel (the
// sentinels with their own password) while traffic runs and SENTINEL FAILOVER happens: +switch-master, +CONTINUE at
// the promoted replica (no full resync), and the directory loads with its DEBUG DIGEST. Needs `pnpm build`.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sameKeyspace, type KeyspaceRecord } from '@redis-persist/keyspace';
import { rdbKeyspaceRecords } from '@redis-persist/rdb';
import { connect, dumpLiveKeyspace, randomTraffic, redisAvailable, startMasterReplica, startRedis, startSentinels, waitForReplicaLink, type RedisClient, type ReplicatedServers, type TestSentinels } from '@redis-persist/testkit';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = join(root, 'packages/cli/bin/rdb-tool.js');
const AOF_BIN = join(root, 'packages/cli/bin/aof-tool.js');
const built = existsSync(join(root, 'packages/cli/dist/common/live-target.js'));
const followBuilt = existsSync(join(root, 'packages/cli/dist/aof-tool/follow.js'));
if (!built) console.warn('[sentinel-cli] packages/cli/dist has no --sentinel support: run `pnpm build` first; skipping');
const PASSWORD = 'pw-123';

const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'sentinel-cli-'));
  temps.push(d);
  return d;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs rdb-tool without blocking the event loop; killed after 30 s. */
function rdbTool(...args: string[]): Promise<Run> {
  return runTool(BIN, args);
}

function runTool(bin: string, args: string[]): Promise<Run> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, NO_COLOR: '1', REDISCLI_AUTH: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}

async function keyspaceOf(path: string): Promise<KeyspaceRecord[]> {
  const out: KeyspaceRecord[] = [];
  for await (const r of rdbKeyspaceRecords(path)) out.push(r);
  return out;
}

describe.skipIf(!built || !redisAvailable())('rdb-tool fetch/restore --sentinel', () => {
  let rs: ReplicatedServers;
  let sentinels: TestSentinels;
  // port 1: nothing listens there, and no test server can take it (free ports come from the ephemeral range)
  const dead = '127.0.0.1:1';
  // a connection of its own: sentinels end the normal clients of a server they reconfigure (CLIENT KILL TYPE normal)
  const withClient = async <T>(port: number, f: (c: RedisClient) => Promise<T>): Promise<T> => {
    const c = await connect(port);
    try {
      await c.call('AUTH', PASSWORD);
      return await f(c);
    } finally {
      await c.close();
    }
  };
  const digest = (i: number) => withClient(rs.all[i].port, (c) => c.callText('DEBUG', 'DIGEST'));

  beforeAll(async () => {
    rs = await startMasterReplica({ password: PASSWORD, config: { 'repl-diskless-sync-delay': '0' } });
    await randomTraffic(rs.master.client, { seed: 17, commands: 1500, dbs: [0, 1], expiries: false, keysPerType: 20 });
    sentinels = await startSentinels({ master: { port: rs.master.port }, masterPassword: PASSWORD, replicas: 1, failoverTimeoutMs: 10_000 });
  }, 60_000);
  afterAll(async () => {
    await sentinels?.stop();
    await rs?.stop();
  });

  it('fetch --sentinel --master fetches from the master (a sentinel that is down skipped)', async () => {
    const d = tmp();
    const out = join(d, 'x.rdb');
    const r = await rdbTool('fetch', '--sentinel', `${dead},${sentinels.list}`, '--master', 'mymaster', '--password', PASSWORD, '-o', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, server: `127.0.0.1:${rs.master.port}`, output: out });
    expect(r.stderr).toContain(`mymaster: master 127.0.0.1:${rs.master.port} (named by sentinel ${sentinels.addresses[0]}, ROLE master); skipped ${dead}`);
    const cmp = sameKeyspace(await keyspaceOf(out), await dumpLiveKeyspace(rs.master.client));
    expect(cmp.equal, cmp.diff.slice(0, 3).join('\n')).toBe(true);
  });

  it('a master name nobody knows is exit 1 naming what each sentinel said; nothing written', async () => {
    const d = tmp();
    const out = join(d, 'x.rdb');
    const r = await rdbTool('fetch', '--sentinel', `${dead},${sentinels.list}`, '--master', 'nosuchmaster', '--password', PASSWORD, '-o', out);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^rdb-tool: no master for "nosuchmaster" from the sentinels: /);
    expect(r.stderr).toContain(`${dead}: connection failed`);
    for (const s of sentinels.addresses) expect(r.stderr).toContain(`${s}: does not know a master named "nosuchmaster"`);
    expect(existsSync(out)).toBe(false);
    // follow gives up at once too: no retry loop on a name nobody knows
    const f = await runTool(BIN.replace(/rdb-tool\.js$/, 'aof-tool.js'), ['follow', '--sentinel', sentinels.list, '--master', 'nosuchmaster', '--password', PASSWORD, join(d, 'backup')]);
    expect(f.code, f.stderr).toBe(1);
    expect(f.stderr).toContain('does not know a master named "nosuchmaster"');
  });

  it('no sentinel answering is exit 3; a wrong password exit 1', async () => {
    const d = tmp();
    const none = await rdbTool('fetch', '--sentinel', dead, '--master', 'mymaster', '-o', join(d, 'a.rdb'));
    expect(none.code, none.stderr).toBe(3);
    expect(none.stderr).toContain(`${dead}: connection failed`);
    const wrong = await rdbTool('fetch', '--sentinel', sentinels.list, '--master', 'mymaster', '--password', 'nope', '-o', join(d, 'b.rdb'));
    expect(wrong.code, wrong.stderr).toBe(1);
    expect(wrong.stderr).toMatch(/AUTH refused/);
  });

  it('usage errors (exit 2): --sentinel without --master, a URL and --sentinel, --cluster with --sentinel, a bad list', async () => {
    const d = tmp();
    const cases: [string[], RegExp][] = [
      [['fetch', '--sentinel', sentinels.list, '-o', join(d, 'a.rdb')], /--sentinel needs --master/],
      [['fetch', 'redis://127.0.0.1:1', '--sentinel', sentinels.list, '--master', 'mymaster', '-o', join(d, 'a.rdb')], /not both/],
      [['fetch', '--cluster', '--sentinel', sentinels.list, '--master', 'mymaster', '-o', join(d, 'a.rdb')], /--cluster takes a seed node URL/],
      [['fetch', '--sentinel', 'host:port', '--master', 'mymaster', '-o', join(d, 'a.rdb')], /--sentinel: not a sentinel address: "host:port"/],
      [['fetch', '--master', 'mymaster', '-o', join(d, 'a.rdb')], /--master goes with --sentinel/],
      [['fetch', '-o', join(d, 'a.rdb')], /no server: give its URL/],
      [['restore', 'x.rdb', '--sentinel', sentinels.list], /--sentinel needs --master/],
      [['restore', 'x.rdb', 'redis://127.0.0.1:1', '--sentinel', sentinels.list, '--master', 'mymaster'], /with --sentinel the target is the master the sentinels name/],
    ];
    const runs = await Promise.all(cases.map(([args]) => rdbTool(...args)));
    for (const [i, [args, message]] of cases.entries()) {
      const r = runs[i];
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
  });

  it('after SENTINEL FAILOVER: fetch reads the promoted replica, restore --sentinel --flush writes into it', async () => {
    const d = tmp();
    const before = join(d, 'before.rdb');
    const r0 = await rdbTool('fetch', '--sentinel', sentinels.list, '--master', 'mymaster', '--password', PASSWORD, '-o', before);
    expect(r0.code, r0.stderr).toBe(0);
    const masterDigest = await digest(0);
    await waitForReplicaLink(rs.replicas[0]);
    await sentinels.failover(0);
    await sentinels.waitForMaster(rs.replicas[0].port, 20_000);
    // ROLE on the promoted replica says master once the sentinels name it
    const after = join(d, 'after.rdb');
    const r1 = await rdbTool('fetch', '--sentinel', sentinels.list, '--master', 'mymaster', '--password', PASSWORD, '-o', after, '--json');
    expect(r1.code, r1.stderr).toBe(0);
    expect(JSON.parse(r1.stdout).server).toBe(`127.0.0.1:${rs.replicas[0].port}`);
    // the promoted replica's own keyspace (stream groups' entries-read and consumers' seen-time differ between a
    // master and its replica in Redis 7.0: compared with the server the file came from)
    const same = sameKeyspace(await keyspaceOf(after), await withClient(rs.replicas[0].port, (c) => dumpLiveKeyspace(c)));
    expect(same.equal, same.diff.slice(0, 5).join("\n")).toBe(true);
    // the new master emptied, then restored from the first snapshot through the sentinels
    await withClient(rs.replicas[0].port, (c) => c.call('FLUSHALL'));
    const r2 = await rdbTool('restore', before, '--sentinel', sentinels.list, '--master', 'mymaster', '--password', PASSWORD, '--flush');
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.stderr).toContain(`mymaster: master 127.0.0.1:${rs.replicas[0].port}`);
    expect(r2.stdout).toContain(`into 127.0.0.1:${rs.replicas[0].port}`);
    expect(await digest(1)).toBe(masterDigest);
  });
});

describe.skipIf(!followBuilt || !redisAvailable())('aof-tool follow --sentinel across SENTINEL FAILOVER', () => {
  let rs: ReplicatedServers;
  let sentinels: TestSentinels;
  let child: ChildProcess | null = null;
  const SENTINEL_PASSWORD = 'sentinel-pw';
  const withClient = async <T>(port: number, f: (c: RedisClient) => Promise<T>): Promise<T> => {
    const c = await connect(port);
    try {
      await c.call('AUTH', PASSWORD);
      return await f(c);
    } finally {
      await c.close();
    }
  };
  const replication = (port: number) => withClient(port, async (c) => (await c.callText('INFO', 'replication')) ?? '');
  const field = (info: string, name: string) => new RegExp(`^${name}:(\\S+)`, 'm').exec(info)?.[1];
  const until = async (what: string, ms: number, check: () => boolean | Promise<boolean>, stderr?: () => string) => {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms${stderr ? `\n${stderr()}` : ''}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  beforeAll(async () => {
    rs = await startMasterReplica({ password: PASSWORD, config: { 'repl-diskless-sync-delay': '0' } });
    sentinels = await startSentinels({ master: { port: rs.master.port }, masterPassword: PASSWORD, password: SENTINEL_PASSWORD, replicas: 1 });
  }, 60_000);
  afterAll(async () => {
    child?.kill('SIGKILL');
    await sentinels?.stop();
    await rs?.stop();
  });

  it('+switch-master, +CONTINUE at the promoted replica, no full resync; the directory loads with its digest', async () => {
    const oldPort = rs.master.port;
    const newPort = rs.replicas[0].port;
    // a connection of its own: a sentinel may end the server's normal clients (its CLIENT KILL on reconfiguration)
    await withClient(oldPort, (c) => randomTraffic(c, { seed: 21, commands: 1000, dbs: [0, 3], multi: true }));
    const dir = join(tmp(), 'appendonlydir');
    const events: ({ event: string } & Record<string, unknown>)[] = [];
    let stderr = '';
    const proc = spawn(process.execPath, [AOF_BIN, 'follow', '--json', '--sentinel', sentinels.list, '--master', 'mymaster', '--password', PASSWORD, '--sentinel-password', SENTINEL_PASSWORD, dir], {
      env: { ...process.env, NO_COLOR: '1', REDISCLI_AUTH: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    let buf = '';
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim() !== '') events.push(JSON.parse(line) as { event: string });
      }
    });
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const killer = setTimeout(() => proc.kill('SIGKILL'), 80_000);
    const exit = new Promise<number | null>((r) => proc.on('close', (code) => r(code)));
    const err = () => stderr;
    let failed = true;
    try {
      await until('the first snapshot', 20_000, () => events.some((e) => e.event === 'snapshot'), err);
      // traffic while it follows; the last write before the failover in db 3, the replica has it
      await withClient(oldPort, (c) => randomTraffic(c, { seed: 22, commands: 1000, dbs: [0, 3], multi: true }));
      await withClient(oldPort, async (c) => {
        await c.call('SELECT', 3);
        await c.call('SET', 'last-before-failover', 'db 3');
        // the replica acknowledges; the follower may too (it sends REPLCONF ACK as a replica does)
        expect(await c.callInt('WAIT', 1, 5000)).toBeGreaterThanOrEqual(1n);
      });
      const oldReplid = field(await replication(oldPort), 'master_replid');
      await sentinels.failover(0);
      await until('+switch-master', 20_000, () => events.some((e) => e.event === 'switch-master'), err);
      expect(events.find((e) => e.event === 'switch-master')).toMatchObject({ master: 'mymaster', to: `127.0.0.1:${newPort}` });
      // traffic goes on, on the new master
      await withClient(newPort, (c) => randomTraffic(c, { seed: 23, commands: 1000, dbs: [0, 3], multi: true }));
      await until('+CONTINUE from the new master', 30_000, () => events.some((e) => e.event === 'continue' && e.server === `127.0.0.1:${newPort}`) || events.filter((e) => e.event === 'resync').length > 1, err);
      expect(events.filter((e) => e.event === 'resync'), 'no full resync after the failover').toHaveLength(1);
      expect(events.find((e) => e.event === 'continue' && e.server === `127.0.0.1:${newPort}`)).toMatchObject({ replidChanged: true, previousReplid: oldReplid });
      // a last write, then wait until the follower wrote it
      const before = Number(field(await replication(newPort), 'master_repl_offset'));
      await withClient(newPort, (c) => c.call('SET', 'marker', 'last'));
      await until('the last write followed', 20_000, () => events.some((e) => e.event === 'commands' && Number(e.offset) > before), err);
      failed = false;
    } finally {
      proc.kill('SIGTERM');
      const code = await exit;
      clearTimeout(killer);
      child = null;
      // (after a failure above, that failure is the one reported)
      if (!failed) expect(code, stderr).toBe(0);
    }
    const digest = await withClient(newPort, (c) => c.callText('DEBUG', 'DIGEST'));
    const data = tmp();
    cpSync(dir, join(data, basename(dir)), { recursive: true });
    const loaded = await startRedis({ dir: data, config: { appendonly: 'yes', appenddirname: basename(dir) } });
    try {
      expect(await loaded.client.callText('DEBUG', 'DIGEST')).toBe(digest);
    } finally {
      await loaded.stop();
    }
  }, 85_000);
});
