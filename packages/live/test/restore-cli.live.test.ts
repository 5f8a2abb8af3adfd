// `rdb-tool restore` (the built binary: run `pnpm build` first) against real servers on 127.0.0.1: an RDB, an AOF
// directory and keyspace JSON Lines into one server and into a 3-master cluster; --json, --replace, --flush,
// --db-map, --target-version; refusals and their exit codes (1 refused, 2 usage, 3 network).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterAvailable, dumpLiveKeyspace, freePort, randomTraffic, startCluster, startRedis, type RedisServer, type TestCluster } from '@redis-persist/testkit';
import { sameKeyspace, type KeyspaceRecord } from '@redis-persist/keyspace';
import { encodeKeyspaceLine } from '@redis-persist/jsonl';
import { keyHashSlot } from '@redis-persist/cluster';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(root, 'packages/cli/bin/rdb-tool.js');
const built = existsSync(join(root, 'packages/cli/dist/rdb-tool/restore.js'));
if (!built) console.warn('[rdb-tool restore tests] packages/cli/dist/rdb-tool/restore.js is missing: run `pnpm build` first; skipped');

/** Runs rdb-tool (asynchronously: the servers of this process keep answering). */
function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const kill = setTimeout(() => child.kill('SIGKILL'), 50_000);
    child.on('close', (code) => {
      clearTimeout(kill);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));
const b = (s: string) => Buffer.from(s);

describe.skipIf(!built || !clusterAvailable())('rdb-tool restore', () => {
  let source: RedisServer;
  let target: RedisServer;
  let cluster: TestCluster;
  let rdb: string;
  let expected: KeyspaceRecord[];
  let url: string;

  beforeAll(async () => {
    [source, target, cluster] = await Promise.all([startRedis(), startRedis(), startCluster()]);
    url = `redis://127.0.0.1:${target.port}`;
    await randomTraffic(source.client, { seed: 3, commands: 2000, expiries: true, keysPerType: 30 });
    await source.client.call('FUNCTION', 'LOAD', "#!lua name=clilib\nredis.register_function('cli_f', function() return 1 end)");
    await source.client.call('SAVE');
    rdb = join(source.dir, 'dump.rdb');
    expected = await dumpLiveKeyspace(source.client);
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop(), cluster?.stop()]);
  });

  it('restores an RDB into one server (--json), refuses it again (exit 1), then --replace and --flush work', async () => {
    const r = await run(['restore', '--json', rdb, url]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    const keys = expected.filter((x) => x.kind === 'key').length;
    expect(doc).toMatchObject({ target: `127.0.0.1:${target.port}`, cluster: false, keys, functions: 1, expired: 0, rdbVersion: 10, flushed: false });
    expect(doc.inputs).toEqual([{ input: rdb, source: null, format: 'rdb', keys, functions: 1 }]);
    expect(doc.servers[0]).toMatchObject({ version: expect.stringMatching(/^\d/), keysBefore: 0 });
    expect(sameKeyspace(await dumpLiveKeyspace(target.client), expected).diff).toEqual([]);

    const again = await run(['restore', rdb, url]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/the target is not empty: 127\.0\.0\.1:\d+ holds \d+ key\(s\) \(db 0\) and 1 function library; nothing was written/);
    const replaced = await run(['restore', '--replace', rdb, url]);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(replaced.stdout).toMatch(new RegExp(`^restored ${keys} keys and 1 function library into 127\\.0\\.0\\.1:\\d+`));
    await target.client.call('SET', 'extra', 'x');
    const flushed = await run(['restore', '--flush', rdb, url]);
    expect(flushed.code, flushed.stderr).toBe(0);
    expect(flushed.stdout).toMatch(/the target was flushed first/);
    expect(await target.client.callInt('EXISTS', 'extra')).toBe(0n);
    // payloads for Redis 6.2 (RDB 9), which a 7.0 server reads too
    const old = await run(['restore', '--flush', '--target-version', '6.2', rdb, url]);
    expect(old.code, old.stderr).toBe(0);
    expect(old.stdout).toMatch(/, RDB 9 payloads\)/);
    expect(await target.client.callInt('DBSIZE')).toBe(BigInt(keys));
  });

  it('restores an AOF directory into another database (--db-map) and JSON Lines with expired keys skipped', async () => {
    await target.client.call('FLUSHALL');
    await target.client.call('FUNCTION', 'FLUSH');
    const r = await run(['restore', '--db-map', '0:3', 'examples/flushall/appendonlydir', url]);
    expect(r.code, r.stderr).toBe(0);
    expect(await target.client.callText('INFO', 'keyspace')).toMatch(/^db3:keys=2,/m);
    const dir = mkdtempSync(join(tmpdir(), 'restore-cli-'));
    temps.push(dir);
    const jsonl = join(dir, 'ks.jsonl');
    const lines: KeyspaceRecord[] = [
      { kind: 'key', db: 0, key: b('live'), type: 'string', expireAt: Date.now() + 3_600_000, value: b('1') },
      { kind: 'key', db: 0, key: b('dead'), type: 'string', expireAt: Date.now() - 1000, value: b('2') },
      { kind: 'key', db: 0, key: b('list'), type: 'list', expireAt: null, value: [b('a'), b('b')] },
    ];
    writeFileSync(jsonl, lines.map((l) => encodeKeyspaceLine(l) + '\n').join(''));
    const j = await run(['restore', '--json', jsonl, url]);
    expect(j.code, j.stderr).toBe(1); // db 3 holds keys from the AOF
    const j2 = await run(['restore', '--json', '--replace', jsonl, url]);
    expect(j2.code, j2.stderr).toBe(0);
    expect(JSON.parse(j2.stdout)).toMatchObject({ keys: 2, expired: 1 });
    expect(Number(await target.client.callInt('PEXPIRETIME', 'live'))).toBe((lines[0] as { expireAt: number }).expireAt);
    expect(await target.client.callInt('EXISTS', 'dead')).toBe(0n);
  });

  it('restores into a cluster (--cluster): every key on the master owning its slot; other databases only when mapped to 0', async () => {
    const seed = `redis://${cluster.addresses[1]}`;
    const r = await run(['restore', '--cluster', seed, rdb]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^restored \d+ keys and 1 function library into the cluster of 127\.0\.0\.1:\d+ \(3 masters\)/);
    const union: KeyspaceRecord[] = [];
    for (let i = 0; i < 3; i++) {
      const dump = await dumpLiveKeyspace(cluster.nodes[i].client);
      expect(dump.filter((x) => x.kind === 'function')).toHaveLength(1);
      for (const x of dump) {
        if (x.kind !== 'key') continue;
        const slot = keyHashSlot(x.key);
        // testkit's cluster: node 0 0-5460, node 1 5461-10922, node 2 10923-16383
        expect(slot <= 5460 ? 0 : slot <= 10922 ? 1 : 2).toBe(i);
        union.push(x);
      }
    }
    expect(sameKeyspace(union, expected.filter((x) => x.kind === 'key')).diff).toEqual([]);

    // a JSON Lines file with keys in database 2: refused up front, accepted with --db-map 2:0
    const dir = mkdtempSync(join(tmpdir(), 'restore-cli-'));
    temps.push(dir);
    const jsonl = join(dir, 'db2.jsonl');
    writeFileSync(jsonl, encodeKeyspaceLine({ kind: 'key', db: 2, key: b('in-db-2'), type: 'string', expireAt: null, value: b('v') }) + '\n');
    const refused = await run(['restore', '--replace', '--cluster', seed, jsonl]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/holds 1 key in database 2 and a cluster has only database 0: map them with --db-map 2:0 \(nothing was written\)/);
    const mapped = await run(['restore', '--replace', '--db-map', '2:0', '--cluster', seed, jsonl]);
    expect(mapped.code, mapped.stderr).toBe(0);
    const bad = await run(['restore', '--db-map', '2:1', '--cluster', seed, jsonl]);
    expect(bad.code).toBe(2);
    // a cluster node without --cluster: usage error pointing at --cluster
    const noFlag = await run(['restore', jsonl, seed]);
    expect(noFlag.code).toBe(2);
    expect(noFlag.stderr).toMatch(/cluster node.*--cluster redis:\/\/127\.0\.0\.1:\d+/);
  });

  it('exit codes: usage 2 (no target, /db in the URL, bad --target-version, --replace with --flush), network 3, missing input 3', async () => {
    expect((await run(['restore', rdb])).code).toBe(2);
    expect((await run(['restore', rdb, `${url}/3`])).code).toBe(2);
    expect((await run(['restore', '--target-version', 'banana', rdb, url])).code).toBe(2);
    expect((await run(['restore', '--replace', '--flush', rdb, url])).code).toBe(2);
    const port = await freePort();
    const refused = await run(['restore', rdb, `redis://127.0.0.1:${port}`]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}: connection failed`));
    expect((await run(['restore', join(tmpdir(), 'no-such-file.rdb'), url])).code).toBe(3);
  });
});
