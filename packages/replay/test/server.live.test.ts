// Random traffic over every type into a real redis-server in AOF mode: our replay of its AOF equals the keyspace
// the server holds after restarting on that AOF (stream consumers' seen/active times aside: a server replaying an AOF sets them to the load time).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sameKeyspace } from '@redis-persist/keyspace';
import { replayAof } from '@redis-persist/replay';
import { dumpLiveKeyspace, randomTraffic, redisAvailable, startRedis, waitForPersistence } from '@redis-persist/testkit';
import { sendExtras } from './helpers.js';

const hasRedis = redisAvailable();
if (!hasRedis) console.warn('[replay] redis-server is not on PATH: skipping the live-server tests');

const cases: { name: string; config: Record<string, string>; rewrite: boolean }[] = [
  { name: 'RDB preamble, rewrite midway', config: { 'aof-use-rdb-preamble': 'yes' }, rewrite: true },
  { name: 'RESP base, rewrite midway, timestamps', config: { 'aof-use-rdb-preamble': 'no', 'aof-timestamp-enabled': 'yes' }, rewrite: true },
  { name: 'no rewrite (whole history in one incr)', config: {}, rewrite: false },
];

describe.skipIf(!hasRedis)('replay of a redis-server 7.0.15 AOF equals its live keyspace', () => {
  it.each(cases.map((c, i) => [c.name, c, i] as const))('%s', async (_n, cfg, i) => {
    const server = await startRedis({ config: { appendonly: 'yes', appendfsync: 'always', save: '', ...cfg.config } });
    try {
      const c = server.client;
      await waitForPersistence(c);
      const traffic = { commands: 1500, dbs: [0, 1, 2, 5], multi: true, expiries: true, flushAll: true, nondeterministic: true, keysPerType: 12 };
      await randomTraffic(c, { seed: 7100 + i, ...traffic });
      await sendExtras(c, i);
      if (cfg.rewrite) {
        await c.call('BGREWRITEAOF');
        await waitForPersistence(c);
      }
      await randomTraffic(c, { seed: 7200 + i, ...traffic, flushAll: false });
      await sendExtras(c, 10 + i);
      // The oracle is what a restart loads from the AOF (it differs from the pre-restart keyspace: XREADGROUP is
      // propagated as XCLAIM ... LASTID, so a group's entries-read is unknown after a reload).
      const result = await replayAof(join(server.dir, 'appendonlydir'));
      await server.restart();
      const live = await dumpLiveKeyspace(server.client);
      expect(result.skipped).toBe(0);
      expect(result.failures).toEqual([]);
      const ours = [...result.keyspace.records({ dropExpiredBefore: Date.now() })];
      const same = sameKeyspace(ours, live, { ignore: ['streamConsumerTimes'] });
      expect(same.diff).toEqual([]);
      expect(same.equal).toBe(true);
      // Every small collection packed after every command, and unpacked by the next one that touches it.
      const packed = await replayAof(join(server.dir, 'appendonlydir'), { keepUnpacked: 0 });
      const again = sameKeyspace([...packed.keyspace.records({ dropExpiredBefore: Date.now() })], live, { ignore: ['streamConsumerTimes'] });
      expect(again.diff).toEqual([]);
      expect(live.length).toBeGreaterThan(100);
      expect(live.some((r) => r.kind === 'key' && r.type === 'stream' && r.value.groups.some((g) => g.pending.length > 0))).toBe(true);
    } finally {
      await server.stop();
    }
  });
});

describe.skipIf(!hasRedis)('commands Redis propagates in another form, replayed raw', () => {
  it('GEOADD gives the scores redis-server stores', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { encodeCommand } = await import('@redis-persist/resp');
    const places: [string, string, string][] = [
      ['13.361389', '38.115556', 'Palermo'],
      ['15.087269', '37.502669', 'Catania'],
      ['-180', '-85.05112878', 'corner'],
      ['180', '85.05112878', 'other-corner'],
      ['0', '0', 'null-island'],
      ['-122.4194155', '37.7749295', 'sf'],
      ['151.2092955', '-33.8688197', 'sydney'],
    ];
    const server = await startRedis({ config: { save: '' } });
    const d = mkdtempSync(join(tmpdir(), 'replay-geo-'));
    try {
      const cmd = ['GEOADD', 'g', ...places.flat()];
      await server.client.call(...cmd);
      const live = await dumpLiveKeyspace(server.client);
      writeFileSync(join(d, 'a.aof'), encodeCommand(cmd.map((x) => Buffer.from(x))));
      const ours = [...(await replayAof(join(d, 'a.aof'))).keyspace.records()];
      const same = sameKeyspace(ours, live);
      expect(same.diff).toEqual([]);
      expect(same.equal).toBe(true);
    } finally {
      await server.stop();
      rmSync(d, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!hasRedis)('geo searches that store, replayed against redis-server', () => {
  it('GEOSEARCHSTORE / GEORADIUS STORE|STOREDIST over points worldwide give what the restarted server holds', async () => {
    const server = await startRedis({ config: { appendonly: 'yes', appendfsync: 'always', save: '' } });
    try {
      const c = server.client;
      await waitForPersistence(c);
      let x = 20231128;
      const rnd = (): number => {
        x = (x * 48271) % 2147483647;
        return x / 2147483647;
      };
      const pts: (string | number)[] = [];
      for (let i = 0; i < 1500; i++) {
        const lon = i % 10 === 0 ? 179.9 - rnd() * 0.2 : -180 + rnd() * 360; // some straddle the antimeridian
        const lat = i % 7 === 0 ? 80 + rnd() * 5 : -85 + rnd() * 170; // some near the pole limit
        pts.push(lon.toFixed(6), lat.toFixed(6), `m${i}`);
      }
      await c.call('GEOADD', 'pts', ...pts);
      const cmds: (string | number)[][] = [];
      for (let q = 0; q < 150; q++) {
        const from = rnd() < 0.5 ? ['FROMMEMBER', `m${Math.floor(rnd() * 1500)}`] : ['FROMLONLAT', (-180 + rnd() * 360).toFixed(4), (-85 + rnd() * 170).toFixed(4)];
        const unit = ['m', 'km', 'mi', 'ft'][q % 4];
        const scale = { m: 1000, km: 1, mi: 0.62, ft: 3280 }[unit]!;
        const by = rnd() < 0.5 ? ['BYRADIUS', Math.round(rnd() * 3000 * scale), unit] : ['BYBOX', Math.round(rnd() * 5000 * scale), Math.round(rnd() * 3000 * scale), unit];
        const order = [[], ['ASC'], ['DESC']][q % 3];
        const count = q % 5 === 0 ? ['COUNT', 1 + Math.floor(rnd() * 20)] : [];
        const dist = q % 2 === 0 ? ['STOREDIST'] : [];
        cmds.push(['GEOSEARCHSTORE', `out${q % 40}`, 'pts', ...from, ...by, ...order, ...count, ...dist]);
      }
      for (let q = 0; q < 30; q++) {
        cmds.push(['GEORADIUS', 'pts', (-180 + rnd() * 360).toFixed(4), (-85 + rnd() * 170).toFixed(4), Math.round(rnd() * 2000), 'km', q % 2 ? 'STORE' : 'STOREDIST', `r${q % 10}`]);
        cmds.push(['GEORADIUSBYMEMBER', 'pts', `m${q * 7}`, Math.round(rnd() * 2000), 'km', 'COUNT', 50, 'DESC', 'STORE', `b${q % 10}`]);
      }
      await c.pipeline(cmds);
      const result = await replayAof(join(server.dir, 'appendonlydir'));
      await server.restart();
      const live = await dumpLiveKeyspace(server.client);
      expect(result.failures).toEqual([]);
      expect(live.filter((r) => r.kind === 'key' && r.type === 'zset').length).toBeGreaterThan(30);
      const same = sameKeyspace([...result.keyspace.records()], live);
      // Members and geohash scores are exact. STOREDIST scores come from sin/cos/asin, where V8's results may differ
      // from glibc's in the last bit: those may differ by an ulp or two, nothing else may.
      const lastBits = /^db 0 key "(out|r)\d+": value\["m\d+"\]\.score: ([-\d.e+]+) vs ([-\d.e+]+)$/;
      const other = same.diff.filter((d) => {
        const m = lastBits.exec(d);
        return m === null || Math.abs(Number(m[2]) - Number(m[3])) > 4 * Number.EPSILON * Math.abs(Number(m[3]));
      });
      expect(other).toEqual([]);
      expect(same.diff.length).toBeLessThan(40); // of about 3,000 distances
    } finally {
      await server.stop();
    }
  });
});
