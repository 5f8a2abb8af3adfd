// Sentinel against real servers on 127.0.0.1: a master with one replica (both with requirepass), three sentinels
// (`redis-server <conf> --sentinel`). resolveMaster finds the master and ROLE confirms it; a sentinel that is down is
// skipped; an unknown master name, wrong credentials and no sentinel at all fail with what each sentinel said;
// `SENTINEL FAILOVER` → watchMaster reports the promoted replica once, and resolveMaster / masterResolver then
// name it. A sentinel with its own password.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, redisAvailable, startMasterReplica, startSentinels, type ReplicatedServers, type TestSentinels } from '@redis-persist/testkit';
import { LiveError, MasterWatch, SentinelError, masterResolver, parseSentinelList, resolveMaster, serverRole, watchMaster, type MasterSwitch, type SentinelEvent } from '@redis-persist/live';

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
  let deadPort: number;
  const opts = () => ({ sentinels: sentinels.list, masterName: 'mymaster', password: PASSWORD, timeoutMs: 3000 });

  beforeAll(async () => {
    rs = await startMasterReplica({ password: PASSWORD });
    sentinels = await startSentinels({ master: { port: rs.master.port }, masterPassword: PASSWORD, count: 3, quorum: 2, downAfterMs: 5000, failoverTimeoutMs: 10_000, replicas: 1 });
    deadPort = await freePort();
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
