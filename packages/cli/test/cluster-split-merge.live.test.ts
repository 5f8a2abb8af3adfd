// rdb-tool split / merge against real servers: a standalone redis-server's snapshot (random traffic of every type,
// expiries, a function library, a big key, binary and hash-tagged keys) is split by the slot map of a fresh
// 3-master cluster; each node restarts on its part and serves exactly the keys of its slots; merging the parts
// gives the snapshot's keyspace back; duplicates across inputs are refused, or the later one kept.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { keyHashSlot, slotMapFromNodesConf, slotOwner, type SlotMap } from '@redis-persist/cluster';
import { sameKeyspace, type KeyspaceRecord } from '@redis-persist/keyspace';
import { writeRdbFile } from '@redis-persist/rdb-writer';
import { clusterAvailable, dumpLiveKeyspace, randomTraffic, startCluster, startRedis, waitForPersistence, type RedisServer } from '@redis-persist/testkit';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(root, 'packages/cli/bin/rdb-tool.js');
const built = existsSync(join(root, 'packages/cli/dist/rdb-tool/split.js'));
if (!built) console.warn('[cluster split/merge] packages/cli/dist is missing or old: run `pnpm build` first; skipping');

const temps: string[] = [];
const servers: RedisServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => (s.alive() ? s.stop() : undefined)));
  temps.forEach((d) => rmSync(d, { recursive: true, force: true }));
});
const tmp = (p: string) => {
  const d = mkdtempSync(join(tmpdir(), p));
  temps.push(d);
  return d;
};
const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const keysOf = (rs: KeyspaceRecord[]) => rs.filter((r) => r.kind === 'key');
const fnsOf = (rs: KeyspaceRecord[]) => rs.filter((r) => r.kind === 'function');

describe.skipIf(!built || !clusterAvailable())('rdb-tool split and merge with real servers', () => {
  it('split by a live cluster, nodes restarted on their parts serve exactly their slots; merge gives the source back', async () => {
    // the source: a standalone server with random traffic in db 0
    const src = await startRedis();
    servers.push(src);
    await randomTraffic(src.client, { seed: 7, commands: 1500, multi: true, expiries: true, keysPerType: 24 });
    await src.client.call('FUNCTION', 'LOAD', "#!lua name=splitlib\nredis.register_function('hello', function() return 'hi' end)");
    await src.client.call('SET', 'big{b}', randomBytes(3 << 20)); // crosses many 1 MiB input chunks
    await src.client.call('HSET', 'big{b}:h', 'f', 'v');
    for (let i = 0; i < 40; i++) await src.client.call('SET', Buffer.concat([Buffer.from([0xff, i, 0x7b]), randomBytes(5)]), randomBytes(10));
    await src.client.call('PEXPIREAT', 'big{b}:h', 4_102_444_800_000);
    await src.client.call('SAVE');
    await waitForPersistence(src.client);
    const source = await dumpLiveKeyspace(src.client);
    const dbsize = Number(await src.client.callInt('DBSIZE'));
    await src.stop({ keepFiles: true });
    temps.push(src.dir);
    const dump = join(src.dir, 'dump.rdb');

    // the target cluster: its slot map, from the live cluster and from a node's nodes.conf
    const cluster = await startCluster();
    servers.push(...cluster.nodes);
    const out = join(tmp('split-'), 'parts');
    const r = run(['split', dump, '--cluster', `redis://${cluster.addresses[1]}`, '-o', out, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as { verbatim: boolean; keys: number; functions: number; parts: { node: { id: string; port: number }; file: string; keys: number }[] };
    expect(res.verbatim).toBe(true);
    expect(res.keys).toBe(dbsize);
    expect(res.functions).toBe(1);
    expect(readdirSync(out).sort()).toEqual(cluster.ids.map((id) => `${id}.rdb`).sort());
    expect(res.parts.reduce((t, p) => t + p.keys, 0)).toBe(dbsize);

    const ports = cluster.nodes.map((s) => s.port);
    const dirs = cluster.nodes.map((s) => s.dir);
    const map: SlotMap = slotMapFromNodesConf(readFileSync(join(dirs[0], 'nodes.conf'), 'utf8'));
    // the same split from nodes.conf: the same files, byte for byte
    const out2 = join(tmp('split-'), 'parts');
    const r2 = run(['split', dump, '--nodes-conf', join(dirs[0], 'nodes.conf'), '-o', out2]);
    expect(r2.status, r2.stderr).toBe(0);
    for (const f of readdirSync(out)) expect(readFileSync(join(out2, f)).equals(readFileSync(join(out, f))), f).toBe(true);

    // restart every node on its part: its nodes.conf (its id, its slots, its peers) stays, dump.rdb is the part
    await cluster.stop({ keepFiles: true });
    temps.push(...dirs);
    const nodes: RedisServer[] = [];
    for (let i = 0; i < 3; i++) {
      copyFileSync(join(out, `${cluster.ids[i]}.rdb`), join(dirs[i], 'dump.rdb'));
      const s = await startRedis({
        dir: dirs[i],
        pickPort: async () => ports[i],
        config: { 'cluster-enabled': 'yes', 'cluster-config-file': 'nodes.conf', 'cluster-node-timeout': '5000' },
      });
      servers.push(s);
      nodes.push(s);
    }
    const deadline = Date.now() + 30_000;
    for (;;) {
      const infos = await Promise.all(nodes.map((s) => s.client.callText('CLUSTER', 'INFO')));
      if (infos.every((t) => /^cluster_state:ok/m.test(t ?? ''))) break;
      if (Date.now() > deadline) throw new Error('the restarted cluster is not ok after 30 s');
      await sleep(100);
    }

    const all: KeyspaceRecord[] = [];
    let total = 0;
    for (let i = 0; i < 3; i++) {
      expect(await nodes[i].client.callText('CLUSTER', 'MYID')).toBe(cluster.ids[i]);
      const live = await dumpLiveKeyspace(nodes[i].client);
      expect(sameKeyspace(fnsOf(live), fnsOf(source)).diff).toEqual([]);
      for (const k of keysOf(live)) expect(slotOwner(map, keyHashSlot(k.key)).id).toBe(cluster.ids[i]);
      total += Number(await nodes[i].client.callInt('DBSIZE'));
      all.push(...keysOf(live));
    }
    expect(total).toBe(dbsize);
    expect(sameKeyspace(all, keysOf(source)).diff).toEqual([]);
    // every key answers on its owner and only there (the others redirect)
    const keys = keysOf(source).map((k) => k.key);
    for (let i = 0; i < 3; i++) {
      const replies = await nodes[i].client.pipeline(keys.map((k) => ['EXISTS', k]));
      replies.forEach((rep, j) => {
        const mine = slotOwner(map, keyHashSlot(keys[j])).id === cluster.ids[i];
        if (mine) expect(rep).toEqual({ type: 'integer', value: 1n });
        else expect(rep.type === 'error' && rep.value.startsWith('MOVED ')).toBe(true);
      });
    }
    await Promise.all(nodes.map((s) => s.stop()));

    // merge the parts back: a standalone server loads the source keyspace
    const mdir = tmp('merged-');
    const merged = join(mdir, 'dump.rdb');
    const m = run(['merge', out, '-o', merged]);
    expect(m.status, m.stderr).toBe(0);
    expect(m.stdout).toMatch(new RegExp(`${dbsize} keys from 3 inputs`));
    const back = await startRedis({ dir: mdir });
    servers.push(back);
    expect(sameKeyspace(await dumpLiveKeyspace(back.client), source).diff).toEqual([]);
    await back.stop();

    // a key in two inputs: refused naming both files, nothing written; --on-duplicate last keeps the later one
    const part0 = join(out, `${cluster.ids[0]}.rdb`);
    const k0 = keysOf(source).find((k) => slotOwner(map, keyHashSlot(k.key)).id === cluster.ids[0])!;
    const other = join(mdir, 'other.rdb');
    await writeRdbFile(other, [{ kind: 'key', db: 0, key: k0.key, type: 'string', expireAt: null, value: Buffer.from('the later one') }]);
    const dupOut = join(mdir, 'dup.rdb');
    const dup = run(['merge', part0, other, '-o', dupOut]);
    expect(dup.status).toBe(1);
    expect(dup.stderr).toContain(`is in both ${part0} and ${other}`);
    expect(dup.stderr).toContain('--on-duplicate');
    expect(existsSync(dupOut)).toBe(false);
    const last = run(['merge', '--on-duplicate', 'last', part0, other, '-o', dupOut, '--json']);
    expect(last.status, last.stderr).toBe(0);
    expect(JSON.parse(last.stdout)).toMatchObject({ written: true, duplicates: 1 });
    const ldir = tmp('last-');
    copyFileSync(dupOut, join(ldir, 'dump.rdb'));
    const ls = await startRedis({ dir: ldir });
    servers.push(ls);
    const lastKeys = await dumpLiveKeyspace(ls.client);
    const kept = lastKeys.find((r) => r.kind === 'key' && Buffer.from(r.key).equals(Buffer.from(k0.key)));
    expect(kept?.kind === 'key' && kept.type === 'string' && Buffer.from(kept.value).toString()).toBe('the later one');
    expect(keysOf(lastKeys).length).toBe(res.parts.find((p) => p.node.id === cluster.ids[0])!.keys);
    await ls.stop();
  });

  it('refusals: keys outside db 0 (exit 1, nothing written), bad --slots (exit 2), an existing output (exit 2)', async () => {
    const d = tmp('refuse-');
    const input = join(d, 'in.rdb');
    await writeRdbFile(input, [
      { kind: 'key', db: 0, key: Buffer.from('a'), type: 'string', expireAt: null, value: Buffer.from('1') },
      { kind: 'key', db: 2, key: Buffer.from('b'), type: 'string', expireAt: null, value: Buffer.from('2') },
    ]);
    const out = join(d, 'parts');
    const r = run(['split', input, '--slots', '0-16383', '-o', out, '--json']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('db 2 key "b"');
    expect(r.stderr).toContain('--db 2');
    expect(JSON.parse(r.stdout)).toMatchObject({ written: false, error: { code: 'other-db', db: 2, key: 'b' } });
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(d)).toEqual(['in.rdb']);
    const ok = run(['split', input, '--slots', '0-99+200-16383,100-199', '--db', '2', '-o', out]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['0-99+200-16383.rdb', '100-199.rdb']);
    expect(ok.stdout).toContain('left out: 1 keys of db 0');
    expect(run(['split', input, '--slots', '0-16383', '--db', '2', '-o', out]).status).toBe(2);
    const forced = run(['split', input, '--slots', '0-16383', '--db', '2', '-o', out, '--force']);
    expect(forced.status, forced.stderr).toBe(0);
    expect(existsSync(`${out}.bak`)).toBe(true);
    const bad = run(['split', input, '--slots', '0-100,200-16383', '-o', join(d, 'x')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('99 slots not covered by any node: 101-199');
    expect(run(['split', input, '-o', join(d, 'x')]).status).toBe(2);
    expect(run(['merge', input, input, '-o', join(d, 'm.rdb')]).status).toBe(2);
  });
});
