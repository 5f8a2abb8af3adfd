// Sentinel against real servers on 127.0.0.1: a master with one replica (both with requirepass), three sentinels
// (`redis-server <conf> --sentinel`). resolveMaster finds the master and ROLE confirms it; a sentinel that is down is
// skipped; an unknown master name, wrong credentials and no sentinel at all fail with what each sentinel said;
// `SENTINEL FAILOVER` → watchMaster reports the promoted replica once, and resolveMaster / masterResolver then
// name it. A sentinel with its own password. followReplication with a masterResolver while traffic runs and
// SENTINEL FAILOVER happens: it continues on the promoted replica with +CONTINUE (no full resync), and the
// directory loads with the new master's DEBUG DIGEST.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, randomTraffic, redisAvailable, startMasterReplica, startRedis, startSentinels, type RedisClient, type ReplicatedServers, type TestSentinels } from '@redis-persist/testkit';
import { LiveError, MasterWatch, SentinelError, followReplication, masterResolver, parseSentinelList, resolveMaster, serverRole, watchMaster, type FollowEvent, type MasterSwitch, type SentinelEvent } from '@redis-persist/live';

const PASSWORD = 's3cret';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ms: number, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(50);
  }
}

describe('parseSentinelList', () => {
  it('reads host:port lists, IPv6 in brackets, the default port, and drops duplicates', () => {
    expect(parseSentinelList('127.0.0.1:26379,localhost:26380, 10.0.0.1')).toEqual([
      { host: '127.0.0.1', port: 26379 },
      { host: 'localhost', port: 26380 },
      { host: '10.0.0.1', port: 26379 },
    ]);
    expect(parseSentinelList('[::1]:5000,[::1]:5000')).toEqual([{ host: '::1', port: 5000 }]);
  });
  it('refuses what is not an address', () => {
    for (const bad of ['', ',', 'h:0', 'h:70000', 'h:p', 'user@h:1', 'redis://h:1/2']) {
      expect(() => parseSentinelList(bad), bad).toThrow(LiveError);
      try {
        parseSentinelList(bad);
      } catch (e) {
        expect((e as LiveError).code).toBe('url');
      }
    }
  });
});

describe.skipIf(!redisAvailable())('Sentinel: a master, a replica, three sentinels', () => {
  let rs: ReplicatedServers;
  let sentinels: TestSentinels;
  // port 1: nothing listens there, and no test server can take it (free ports come from the ephemeral range)
  const deadPort = 1;
  const opts = () => ({ sentinels: sentinels.list, masterName: 'mymaster', password: PASSWORD, timeoutMs: 3000 });

  beforeAll(async () => {
    rs = await startMasterReplica({ password: PASSWORD });
    sentinels = await startSentinels({ master: { port: rs.master.port }, masterPassword: PASSWORD, count: 3, quorum: 2, downAfterMs: 5000, failoverTimeoutMs: 10_000, replicas: 1 });
  }, 60_000);
  afterAll(async () => {
    await sentinels?.stop();
    await rs?.stop();
  });

  it('resolveMaster finds the master and ROLE confirms it', async () => {
    const r = await resolveMaster(opts());
    expect(r.address).toMatchObject({ host: '127.0.0.1', port: rs.master.port, password: PASSWORD, tls: false, db: 0 });
    expect(r.sentinel).toBe(sentinels.addresses[0]);
    expect(r.answers).toEqual([{ sentinel: sentinels.addresses[0], outcome: 'master', master: `127.0.0.1:${rs.master.port}`, message: `127.0.0.1:${rs.master.port}, ROLE master` }]);
    expect(typeof r.offset).toBe('number');
    expect((await serverRole({ host: '127.0.0.1', port: rs.replicas[0].port, tls: false, db: 0, password: PASSWORD })).role).toBe('slave');
  });

  it('skips a sentinel that is down', async () => {
    const t = Date.now();
    const r = await resolveMaster({ ...opts(), sentinels: [`127.0.0.1:${deadPort}`, ...sentinels.addresses] });
    expect(r.address.port).toBe(rs.master.port);
    expect(r.answers[0]).toMatchObject({ sentinel: `127.0.0.1:${deadPort}`, outcome: 'unreachable', code: 'connect' });
    expect(r.sentinel).toBe(sentinels.addresses[0]);
    expect(Date.now() - t).toBeLessThan(5000);
  });

  it('fails clearly for a master name the sentinels do not know', async () => {
    const t = Date.now();
    const err = await resolveMaster({ ...opts(), masterName: 'nosuchmaster', sentinels: [`127.0.0.1:${deadPort}`, ...sentinels.addresses] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SentinelError);
    const e = err as SentinelError;
    expect(e.code).toBe('reply');
    expect(e.answers.map((a) => a.outcome)).toEqual(['unreachable', 'unknown-master', 'unknown-master', 'unknown-master']);
    expect(e.message).toContain('"nosuchmaster"');
    expect(e.message).toContain(`127.0.0.1:${deadPort}: connection failed`);
    expect(e.message).toContain(`${sentinels.addresses[2]}: does not know a master named "nosuchmaster"`);
    // the name is unknown everywhere: no second round
    expect(Date.now() - t).toBeLessThan(3000);
  });

  it('fails with auth when the master refuses the password, connect when no sentinel answers', async () => {
    const noAuth = await resolveMaster({ ...opts(), password: 'wrong', attempts: 1 }).catch((e: unknown) => e);
    expect(noAuth).toBeInstanceOf(SentinelError);
    expect((noAuth as SentinelError).code).toBe('auth');
    expect((noAuth as SentinelError).answers[0]).toMatchObject({ outcome: 'error', code: 'auth', master: `127.0.0.1:${rs.master.port}` });
    const none = await resolveMaster({ ...opts(), sentinels: `127.0.0.1:${deadPort}`, attempts: 2, retryDelayMs: 50 }).catch((e: unknown) => e);
    expect(none).toBeInstanceOf(SentinelError);
    expect((none as SentinelError).code).toBe('connect');
    expect((none as SentinelError).message).toMatch(/\(2 rounds\)/);
    const watch = watchMaster({ ...opts(), sentinels: `127.0.0.1:${deadPort}` });
    await expect(watch.ready).rejects.toMatchObject({ code: 'connect' });
    await watch.close();
  });

  it('SENTINEL FAILOVER: watchMaster reports the promoted replica once; resolveMaster and masterResolver then name it', async () => {
    const resolver = masterResolver({ ...opts(), sentinels: [`127.0.0.1:${deadPort}`, ...sentinels.addresses] });
    expect((await resolver()).port).toBe(rs.master.port);
    const seen: MasterSwitch[] = [];
    const events: SentinelEvent[] = [];
    const watch: MasterWatch = watchMaster({ ...opts(), onSwitch: (s) => seen.push(s), onSentinel: (e) => events.push(e), pingIntervalMs: 500 });
    try {
      await watch.ready;
      await until('three subscriptions', 10_000, () => watch.subscribed === 3);
      await until('the master known', 5000, () => watch.master !== null);
      expect(watch.master).toEqual({ host: '127.0.0.1', port: rs.master.port });
      const it = watch[Symbol.asyncIterator]();
      const next = it.next();
      await sentinels.failover(0);
      const first = await Promise.race([next, sleep(20_000).then(() => null)]);
      expect(first, 'a switch within 20 s').not.toBeNull();
      const s = first!.value as MasterSwitch;
      expect(s).toMatchObject({ masterName: 'mymaster', reason: 'switch-master', from: { host: '127.0.0.1', port: rs.master.port } });
      expect(s.to).toMatchObject({ host: '127.0.0.1', port: rs.replicas[0].port, password: PASSWORD });
      // every sentinel takes up the new master (each publishes +switch-master): still one switch reported
      await sentinels.waitForMaster(rs.replicas[0].port, 20_000);
      await sleep(300);
      expect(seen).toHaveLength(1);
      expect(watch.master).toEqual({ host: '127.0.0.1', port: rs.replicas[0].port });
      const r = await resolveMaster(opts());
      expect(r.address.port).toBe(rs.replicas[0].port);
      expect((await resolver()).port).toBe(rs.replicas[0].port);
      // the pings kept every subscription alive
      expect(events.filter((e) => e.state === 'lost')).toEqual([]);
    } finally {
      await watch.close();
    }
    expect((await watch.next()).done).toBe(true);
  });

  it('a sentinel killed: resolveMaster skips it, the watch loses it and keeps the others', async () => {
    const events: SentinelEvent[] = [];
    const watch = watchMaster({ ...opts(), onSentinel: (e) => events.push(e), pingIntervalMs: 500, reconnectDelayMs: 100 });
    try {
      await until('three subscriptions', 10_000, () => watch.subscribed === 3);
      await sentinels.kill(0);
      await until('the lost subscription', 5000, () => watch.subscribed === 2);
      expect(events.find((e) => e.state === 'lost')).toMatchObject({ sentinel: sentinels.addresses[0] });
      const r = await resolveMaster(opts());
      expect(r.answers[0]).toMatchObject({ sentinel: sentinels.addresses[0], outcome: 'unreachable' });
      expect(r.sentinel).toBe(sentinels.addresses[1]);
      expect(r.address.port).toBe((await sentinels.masterAddr(1))!.port);
    } finally {
      await watch.close();
    }
  });
});

describe.skipIf(!redisAvailable())('Sentinel with its own password', () => {
  let rs: ReplicatedServers;
  let sentinels: TestSentinels;
  beforeAll(async () => {
    rs = await startMasterReplica({ replicas: 0 });
    sentinels = await startSentinels({ master: { port: rs.master.port }, count: 1, quorum: 1, password: 'sentinel-pw' });
  }, 60_000);
  afterAll(async () => {
    await sentinels?.stop();
    await rs?.stop();
  });

  it('needs sentinelPassword (NOAUTH without, auth with a wrong one)', async () => {
    const base = { sentinels: sentinels.list, masterName: 'mymaster', attempts: 1 };
    expect((await resolveMaster({ ...base, sentinelPassword: 'sentinel-pw' })).address.port).toBe(rs.master.port);
    const wrong = await resolveMaster({ ...base, sentinelPassword: 'nope' }).catch((e: unknown) => e);
    expect(wrong).toMatchObject({ code: 'auth' });
    const none = await resolveMaster(base).catch((e: unknown) => e);
    expect(none).toBeInstanceOf(SentinelError);
    expect((none as SentinelError).answers[0]).toMatchObject({ outcome: 'error', code: 'auth' });
    const watch = watchMaster({ ...base, sentinelPassword: 'sentinel-pw' });
    await watch.ready;
    expect(watch.subscribed).toBe(1);
    await watch.close();
  });
});

describe.skipIf(!redisAvailable())('followReplication through Sentinel across a failover', () => {
  let rs: ReplicatedServers;
  let sentinels: TestSentinels;
  const temps: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'sentinel-follow-'));
    temps.push(d);
    return d;
  };
  // connections of their own: sentinels end the normal clients of the servers they reconfigure
  const withClient = async <T>(port: number, f: (c: RedisClient) => Promise<T>): Promise<T> => {
    const c = await connect(port);
    try {
      return await f(c);
    } finally {
      await c.close();
    }
  };
  const replication = (port: number) => withClient(port, async (c) => (await c.callText('INFO', 'replication')) ?? '');
  const field = (info: string, name: string) => new RegExp(`^${name}:(\\S+)`, 'm').exec(info)?.[1];

  beforeAll(async () => {
    rs = await startMasterReplica({ config: { 'repl-diskless-sync-delay': '0' } });
    sentinels = await startSentinels({ master: { port: rs.master.port }, replicas: 1 });
  }, 60_000);
  afterAll(async () => {
    await sentinels?.stop();
    await rs?.stop();
    temps.forEach((d) => rmSync(d, { recursive: true, force: true }));
  });

  it('continues on the promoted replica with +CONTINUE; the directory loads with its digest', async () => {
    const oldPort = rs.master.port;
    const newPort = rs.replicas[0].port;
    await randomTraffic(rs.master.client, { seed: 1, commands: 1500, dbs: [0, 3], multi: true });
    const events: FollowEvent[] = [];
    const dir = join(tmp(), 'appendonlydir');
    const follower = followReplication({ master: masterResolver({ sentinels: sentinels.list, masterName: 'mymaster' }), dir, retry: { minDelayMs: 50, maxDelayMs: 500 }, onEvent: (e) => events.push(e) });
    // a +switch-master makes it connect again (as aof-tool follow --sentinel does)
    const switches: MasterSwitch[] = [];
    const watch = watchMaster({ sentinels: sentinels.list, masterName: 'mymaster', onSwitch: (s) => switches.push(s) });
    try {
      await watch.ready;
      // traffic while it follows, then the replica is let catch up and the failover forced
      await randomTraffic(rs.master.client, { seed: 2, commands: 1500, dbs: [0, 3], multi: true });
      await until('the replica caught up', 20_000, async () => field(await replication(newPort), 'slave_repl_offset') === field(await replication(oldPort), 'master_repl_offset'));
      await until('the snapshot written and the follower caught up', 20_000, async () => events.some((e) => e.type === 'snapshot') && (follower.processed ?? -1) >= Number(field(await replication(oldPort), 'master_repl_offset')));
      expect(events.filter((e) => e.type === 'snapshot')).toHaveLength(1);
      const oldReplid = field(await replication(oldPort), 'master_replid');
      // the last write before the failover in db 3, the replica has it (WAIT)
      await withClient(oldPort, async (c) => {
        await c.call('SELECT', 3);
        await c.call('SET', 'last-before-failover', 'db 3');
        // the replica acknowledges; the follower may too (it sends REPLCONF ACK as a replica does)
        expect(await c.callInt('WAIT', 1, 5000)).toBeGreaterThanOrEqual(1n);
      });
      await sentinels.failover(0);
      await until('+switch-master', 20_000, () => switches.length > 0);
      // the old master stays a master for seconds and goes on sending what the promoted replica never sees: PINGs and
      // the sentinels' hello PUBLISHes in db 0 (a SELECT 0 first, the traffic having been in db 3). As they would:
      await withClient(oldPort, (c) => c.call('PUBLISH', '__sentinel__:hello', 'as a sentinel would'));
      await until('the follower past them', 20_000, async () => (follower.processed ?? -1) >= Number(field(await replication(oldPort), 'master_repl_offset')));
      follower.reconnect(`+switch-master to ${switches[0].to.host}:${switches[0].to.port}`);
      // traffic goes on, on the new master
      await withClient(newPort, (c) => randomTraffic(c, { seed: 3, commands: 1500, dbs: [0, 3], multi: true }));
      const resyncs = () => events.filter((e) => e.type === 'resync') as Extract<FollowEvent, { type: 'resync' }>[];
      await until('+CONTINUE from the new master', 30_000, () => resyncs().length > 1 || events.some((e) => e.type === 'continue' && e.server === `127.0.0.1:${newPort}`));
      // the old master's last traffic was in db 3: a sentinel hello PUBLISH it sent after the promotion came with a
      // SELECT 0 the promoted replica never saw; neither may count in R, or PSYNC asks past what the new master has
      const again = resyncs()[1];
      if (again !== undefined) {
        const info = await replication(newPort);
        expect.fail(`a full resync after the failover: PSYNC ${again.previous?.replid} from R = ${again.previous?.offset}, the new master serves that history up to second_repl_offset ${field(info, 'second_repl_offset')}`);
      }
      const cont = events.find((e) => e.type === 'continue' && e.server === `127.0.0.1:${newPort}`) as Extract<FollowEvent, { type: 'continue' }>;
      expect(cont.previousReplid).toBe(oldReplid);
      expect(cont.replidChanged).toBe(true);
      const newInfo = await replication(newPort);
      expect(cont.replid).toBe(field(newInfo, 'master_replid'));
      expect(field(newInfo, 'master_replid2')).toBe(oldReplid);
      await withClient(newPort, (c) => randomTraffic(c, { seed: 4, commands: 500, dbs: [0, 3] }));
      const target = Number(field(await replication(newPort), 'master_repl_offset'));
      await until('the follower caught up with the new master', 20_000, () => (follower.processed ?? -1) >= target);
    } finally {
      await watch.close();
      await follower.stop();
    }
    expect(switches).toHaveLength(1);
    // one full sync (the first), none after the failover
    expect(events.filter((e) => e.type === 'resync' || e.type === 'snapshot').map((e) => e.type)).toEqual(['resync', 'snapshot']);
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
