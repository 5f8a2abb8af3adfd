// rdb-tool fetch against real redis-servers: byte-identical to redis-cli --rdb on the same snapshot, the same bytes
// after the aux fields on two disk-based syncs, the output policy, a snapshot taken under write traffic loads (and
// passes redis-check-rdb) at a consistent point, ACL refusals, the functions alone, TLS, a damaged stream leaves
// nothing, and --cluster on a 3-master cluster. Needs `pnpm build` (it runs the built binary).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { sameKeyspace, type KeyspaceRecord } from '@redis-persist/keyspace';
import { readRdb, rdbKeyspaceRecords } from '@redis-persist/rdb';
import { clusterAvailable, freePort, redisAvailable, redisToolAvailable, startCluster, startRedis, type RedisClient } from '@redis-persist/testkit';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = join(root, 'packages/cli/bin/rdb-tool.js');
const built = existsSync(join(root, 'packages/cli/dist/rdb-tool/fetch.js'));
if (!built) console.warn('[fetch-cli] packages/cli/dist has no fetch command: run `pnpm build` first; skipping');
const hasRedis = redisAvailable() && redisToolAvailable('redis-cli');
const hasOpenssl = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;

const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'fetch-cli-'));
  temps.push(d);
  return d;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program without blocking the event loop (the test keeps writing meanwhile); killed after 30 s. */
function runAsync(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolveRun) => {
    const child = spawn(cmd, args, { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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
const fetchCli = (...args: string[]) => runAsync(process.execPath, [BIN, 'fetch', ...args]);

async function keyspaceOf(path: string): Promise<KeyspaceRecord[]> {
  const out: KeyspaceRecord[] = [];
  for await (const r of rdbKeyspaceRecords(path)) out.push(r);
  return out;
}

/** Offset of the first record after the header and aux fields (where the data starts). */
async function dataStart(path: string): Promise<{ at: number; aux: Record<string, string> }> {
  const aux: Record<string, string> = {};
  for await (const r of readRdb(path, { values: false })) {
    if (r.kind === 'header') continue;
    if (r.kind === 'aux') {
      aux[Buffer.from(r.key).toString()] = Buffer.from(r.value).toString();
      continue;
    }
    return { at: r.offset, aux };
  }
  throw new Error(`${path}: no data record`);
}

function redisCheckRdb(path: string): { ok: boolean; output: string } {
  const r = spawnSync('redis-check-rdb', [path], { encoding: 'utf8', timeout: 30_000 });
  return { ok: r.status === 0 && /RDB looks OK/.test(r.stdout), output: r.stdout + r.stderr };
}

describe.skipIf(!built || !hasRedis)('rdb-tool fetch against redis-server 7.0.15', () => {
  it('diskless: byte-identical to redis-cli --rdb when both join the same transfer', async () => {
    // with a 2 s diskless delay, replicas that arrive within it are served by the same child: the same bytes
    const s = await startRedis({ config: { 'repl-diskless-sync': 'yes', 'repl-diskless-sync-delay': '2' } });
    try {
      await s.client.call('DEBUG', 'POPULATE', '3000', 'same', '64');
      await s.client.call('FUNCTION', 'LOAD', "#!lua name=same\nredis.register_function('same', function() return 1 end)");
      const d = tmp();
      const [ours, theirs] = await Promise.all([
        fetchCli(`redis://127.0.0.1:${s.port}`, '-o', join(d, 'ours.rdb'), '--json'),
        runAsync('redis-cli', ['-h', '127.0.0.1', '-p', String(s.port), '--rdb', join(d, 'redis-cli.rdb')]),
      ]);
      expect(theirs.code, theirs.stderr).toBe(0);
      expect(ours.code, ours.stderr).toBe(0);
      const a = readFileSync(join(d, 'ours.rdb'));
      const b = readFileSync(join(d, 'redis-cli.rdb'));
      expect(a.length).toBe(b.length);
      expect(a.equals(b)).toBe(true);
      const j = JSON.parse(ours.stdout);
      expect(j).toMatchObject({ ok: true, bytes: a.length, keys: 3000, functions: 1, rdbVersion: 10, checksum: 'ok', format: 'diskless', sync: 'psync', rdbOnly: true });
      expect(j.replid).toMatch(/^[0-9a-f]{40}$/);
      expect(typeof j.offset).toBe('number');
      expect(typeof j.seconds).toBe('number');
    } finally {
      await s.stop();
    }
  });

  it('disk-based: two fetches and redis-cli --rdb differ only in the aux fields ctime and used-mem', async () => {
    const s = await startRedis({ config: { 'repl-diskless-sync': 'no' } });
    try {
      await s.client.call('DEBUG', 'POPULATE', '2000', 'disk', '32');
      const d = tmp();
      const one = await fetchCli(`redis://127.0.0.1:${s.port}`, '-o', join(d, 'one.rdb'));
      expect(one.code, one.stderr).toBe(0);
      expect(one.stdout).toMatch(/2000 keys in 1 db\(s\), CRC64 OK; disk-based sync, replid [0-9a-f]{40} offset \d+/);
      const two = await fetchCli(`redis://127.0.0.1:${s.port}`, '-o', join(d, 'two.rdb'));
      expect(two.code, two.stderr).toBe(0);
      const cli = await runAsync('redis-cli', ['-h', '127.0.0.1', '-p', String(s.port), '--rdb', join(d, 'cli.rdb')]);
      expect(cli.code, cli.stderr).toBe(0);
      const files = ['one', 'two', 'cli'].map((n) => join(d, `${n}.rdb`));
      const starts = await Promise.all(files.map(dataStart));
      const datas = files.map((f, i) => readFileSync(f).subarray(starts[i].at, -8)); // the CRC64 covers the aux fields too
      expect(datas[1].equals(datas[0])).toBe(true);
      expect(datas[2].equals(datas[0])).toBe(true);
      const stable = (aux: Record<string, string>) => ({ ...aux, ctime: undefined, 'used-mem': undefined });
      expect(stable(starts[1].aux)).toEqual(stable(starts[0].aux));
      expect(stable(starts[2].aux)).toEqual(stable(starts[0].aux));
      expect(sameKeyspace(await keyspaceOf(files[0]), await keyspaceOf(files[2])).equal).toBe(true);
    } finally {
      await s.stop();
    }
  });

  it('an existing output is refused before any connection (exit 2); --force keeps it as .bak', async () => {
    const d = tmp();
    const out = join(d, 'dump.rdb');
    writeFileSync(out, 'precious');
    // port 1: nothing listens there; the refusal comes first
    const refused = await fetchCli('redis://127.0.0.1:1', '-o', out);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/already exists: choose another output, or pass --force/);
    expect(readFileSync(out, 'utf8')).toBe('precious');
    const s = await startRedis({ config: { 'repl-diskless-sync-delay': '0' } });
    try {
      await s.client.call('SET', 'k', 'v');
      const forced = await fetchCli(`redis://127.0.0.1:${s.port}`, '-o', out, '--force', '--json');
      expect(forced.code, forced.stderr).toBe(0);
      expect(JSON.parse(forced.stdout)).toMatchObject({ ok: true, keys: 1, backup: `${out}.bak` });
      expect(readFileSync(`${out}.bak`, 'utf8')).toBe('precious');
      expect(readFileSync(out).subarray(0, 5).toString()).toBe('REDIS');
      // a server that is not there: I/O, exit 3, nothing written
      const none = await fetchCli('redis://127.0.0.1:1', '-o', join(d, 'none.rdb'));
      expect(none.code).toBe(3);
      expect(none.stderr).toMatch(/127\.0\.0\.1:1: cannot connect.*nothing was written/);
      expect(readdirSync(d).sort()).toEqual(['dump.rdb', 'dump.rdb.bak']);
    } finally {
      await s.stop();
    }
  });

  it('under write traffic: the file passes redis-check-rdb and loads at one sync point of the transactions', async () => {
    // a slow BGSAVE (rdb-key-save-delay, microseconds per key) keeps the writes going while the snapshot is made
    const s = await startRedis({ config: { 'repl-diskless-sync': 'no', 'rdb-key-save-delay': '200' } });
    try {
      const c = s.client;
      await c.call('DEBUG', 'POPULATE', '3000', 'filler', '16');
      let n = 0;
      let stop = false;
      // at most ~2000 transactions a second, 20 000 in all: the BGSAVE (slowed per key) stays short
      const writer = (async () => {
        while (!stop && n < 20_000) {
          const batch: string[][] = [];
          for (let j = 0; j < 10; j++) {
            n++;
            batch.push(['MULTI'], ['INCR', 'counter'], ['SET', `k:${n}`, String(n)], ['EXEC']);
          }
          await c.pipeline(batch);
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      while (n < 500) await new Promise((r) => setTimeout(r, 5));
      const d = tmp();
      const out = join(d, 'dump.rdb');
      const r = await fetchCli(`redis://127.0.0.1:${s.port}`, '-o', out, '--json');
      stop = true;
      await writer;
      expect(r.code, r.stderr).toBe(0);
      const summary = JSON.parse(r.stdout);
      const check = redisCheckRdb(out);
      expect(check.ok, check.output).toBe(true);

      const loaded = await startRedis({ dir: d });
      try {
        const lc: RedisClient = loaded.client;
        const counter = Number(await lc.callText('GET', 'counter'));
        expect(counter).toBeGreaterThanOrEqual(500);
        expect(counter).toBeLessThan(n); // writes went on after the sync point
        expect(Number(await lc.callInt('DBSIZE'))).toBe(3000 + 1 + counter);
        expect(summary.keys).toBe(3000 + 1 + counter);
        const present = await lc.callInt('EXISTS', ...Array.from({ length: counter }, (_, i) => `k:${i + 1}`));
        expect(Number(present)).toBe(counter);
        expect(Number(await lc.callInt('EXISTS', `k:${counter + 1}`))).toBe(0);
      } finally {
        await loaded.stop();
      }
    } finally {
      await s.stop();
    }
  });

  it('ACL: a user without the replication commands exits 1 with what to grant; requirepass from REDISCLI_AUTH', async () => {
    const s = await startRedis({ config: { 'repl-diskless-sync-delay': '0' } });
    try {
      await s.client.call('SET', 'k', 'v');
      await s.client.call('ACL', 'SETUSER', 'reader', 'on', '>pw', '~*', '+@read');
      const d = tmp();
      const r = await fetchCli(`redis://reader:pw@127.0.0.1:${s.port}`, '-o', join(d, 'a.rdb'));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/user "reader" may not run REPLCONF .*NOPERM.*ACL SETUSER reader \+psync \+sync \+replconf \+ping; nothing was written/);
      const j = await fetchCli(`redis://reader:pw@127.0.0.1:${s.port}`, '-o', join(d, 'a.rdb'), '--json');
      expect(j.code).toBe(1);
      expect(JSON.parse(j.stdout)).toMatchObject({ ok: false, error: { code: 'noperm' } });
      const wrong = await fetchCli(`redis://reader:nope@127.0.0.1:${s.port}`, '-o', join(d, 'a.rdb'));
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toMatch(/authentication failed for user "reader": WRONGPASS/);
      expect(readdirSync(d)).toEqual([]);
      await s.client.call('CONFIG', 'SET', 'requirepass', 'hunter2');
      const env = await runAsync(process.execPath, [BIN, 'fetch', `redis://127.0.0.1:${s.port}`, '-o', join(d, 'b.rdb')], { REDISCLI_AUTH: 'hunter2' });
      expect(env.code, env.stderr).toBe(0);
    } finally {
      await s.stop();
    }
  });

  it('--functions-only: the file holds the functions and no key, and redis-server loads it so', async () => {
    const s = await startRedis({ config: { 'repl-diskless-sync-delay': '0' } });
    try {
      await s.client.call('DEBUG', 'POPULATE', '100');
      await s.client.call('FUNCTION', 'LOAD', "#!lua name=onlyfns\nredis.register_function('onlyf', function() return 7 end)");
      const d = tmp();
      const r = await fetchCli(`redis://127.0.0.1:${s.port}`, '-o', join(d, 'dump.rdb'), '--functions-only', '--json');
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, keys: 0, functions: 1, functionsOnly: true, format: 'diskless' });
      const loaded = await startRedis({ dir: d });
      try {
        expect(Number(await loaded.client.callInt('DBSIZE'))).toBe(0);
        expect(Number(await loaded.client.callInt('FCALL', 'onlyf', '0'))).toBe(7);
      } finally {
        await loaded.stop();
      }
    } finally {
      await s.stop();
    }
  });

  it.skipIf(!hasOpenssl)('rediss:// with --cacert, --cert and --key; a certificate it cannot verify fails (exit 3)', async () => {
    const d = tmp();
    const ssl = (...args: string[]) => {
      const r = spawnSync('openssl', args, { cwd: d, encoding: 'utf8', timeout: 30_000 });
      if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
    };
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=fetch-test-ca');
    writeFileSync(join(d, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    for (const who of ['server', 'client']) {
      ssl('req', ...ec, '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=${who}`);
      ssl('x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${who}.crt`, '-days', '2', '-extfile', 'san.ext');
    }
    const tlsPort = await freePort();
    const s = await startRedis({
      config: {
        'tls-port': String(tlsPort),
        'tls-cert-file': join(d, 'server.crt'),
        'tls-key-file': join(d, 'server.key'),
        'tls-ca-cert-file': join(d, 'ca.crt'),
        'tls-auth-clients': 'yes',
        'repl-diskless-sync-delay': '0',
      },
    });
    try {
      await s.client.call('SET', 'over', 'tls');
      const out = join(d, 'out');
      mkdirSync(out);
      const url = `rediss://127.0.0.1:${tlsPort}`;
      const r = await fetchCli(url, '-o', join(out, 'tls.rdb'), '--cacert', join(d, 'ca.crt'), '--cert', join(d, 'client.crt'), '--key', join(d, 'client.key'), '--json');
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, keys: 1 });
      const untrusted = await fetchCli(url, '-o', join(out, 'no.rdb'), '--cert', join(d, 'client.crt'), '--key', join(d, 'client.key'));
      expect(untrusted.code).toBe(3);
      expect(untrusted.stderr).toMatch(/cannot connect \(TLS\)/);
      const plain = await fetchCli(`redis://127.0.0.1:${tlsPort}`, '-o', join(out, 'no.rdb'), '--cacert', join(d, 'ca.crt'));
      expect(plain.code).toBe(2);
      expect(plain.stderr).toMatch(/use a rediss:\/\/ address/);
      expect(readdirSync(out)).toEqual(['tls.rdb']);
    } finally {
      await s.stop();
    }
  });
});

describe.skipIf(!built)('rdb-tool fetch: a stream that fails verification', () => {
  it('exit 1, nothing written, the RDB error named', async () => {
    const rdb = readFileSync(join(root, 'examples/flushall/appendonlydir/appendonly.aof.2.base.rdb'));
    const bad = Buffer.from(rdb);
    bad[bad.length - 30] ^= 0x55;
    const sockets = new Set<Socket>();
    const server = createServer((sock) => {
      sockets.add(sock);
      sock.on('error', () => undefined);
      let seen = '';
      sock.on('data', (chunk) => {
        seen += chunk.toString('latin1');
        // one reply per command: count the commands by their "*N\r\n" headers
        for (let m = /^\*\d+\r\n(?:\$\d+\r\n[^\r]*\r\n)+/.exec(seen); m; m = /^\*\d+\r\n(?:\$\d+\r\n[^\r]*\r\n)+/.exec(seen)) {
          const cmd = m[0];
          seen = seen.slice(cmd.length);
          const name = /^\*\d+\r\n\$\d+\r\n([^\r]*)/.exec(cmd)![1].toUpperCase();
          if (name === 'PSYNC') sock.end(Buffer.concat([Buffer.from(`+FULLRESYNC ${'e'.repeat(40)} 7\r\n$${bad.length}\r\n`), bad]));
          else sock.write(name === 'PING' ? '+PONG\r\n' : '+OK\r\n');
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (server.address() as { port: number }).port;
      const d = tmp();
      const r = await fetchCli(`redis://127.0.0.1:${port}`, '-o', join(d, 'bad.rdb'));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/the snapshot failed verification, nothing was written: snapshot from 127\.0\.0\.1:\d+: offset \d+: (corrupt|checksum)/);
      expect(readdirSync(d)).toEqual([]);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe.skipIf(!built || !hasRedis || !clusterAvailable())('rdb-tool fetch --cluster', () => {
  it('a 3-master cluster: one file per master, nodes.json, the union of the files is what was written, and merge gives it back in one RDB', async () => {
    const cluster = await startCluster({ config: { 'repl-diskless-sync-delay': '0' } });
    try {
      // write through node 0, following MOVED
      const written = new Set<string>();
      const byPort = new Map(cluster.nodes.map((n) => [n.port, n.client]));
      const keys = Array.from({ length: 400 }, (_, i) => `ck:${i}`);
      const replies = await cluster.nodes[0].client.pipeline(keys.map((k) => ['SET', k, k]));
      for (let i = 0; i < keys.length; i++) {
        const rep = replies[i];
        if (rep.type === 'error') {
          const port = Number(/^MOVED \d+ [^:]+:(\d+)/.exec(rep.value)?.[1]);
          await byPort.get(port)!.call('SET', keys[i], keys[i]);
        }
        written.add(keys[i]);
      }
      const d = tmp();
      const out = join(d, 'backup');
      const r = await fetchCli('--cluster', `redis://${cluster.addresses[1]}`, '-o', out, '--json');
      expect(r.code, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout);
      expect(j).toMatchObject({ ok: true, nodes: 3, keys: 400 });
      expect(readdirSync(out).sort()).toEqual([...cluster.ids.map((id) => `${id}.rdb`), 'nodes.json'].sort());
      expect(readdirSync(d)).toEqual(['backup']); // no temp directory or lock left

      const nodes = JSON.parse(readFileSync(join(out, 'nodes.json'), 'utf8')) as Record<string, unknown>[];
      expect(nodes.map((n) => n.name).sort()).toEqual([...cluster.ids].sort());
      expect(nodes[0].port).toBe(cluster.nodes[1].port); // the seed first, as redis-cli lists it
      let slots = 0;
      for (const n of nodes) {
        expect(Object.keys(n)).toEqual(['name', 'host', 'port', 'replicate', 'slots', 'slots_count', 'flags', 'current_epoch']);
        expect(n).toMatchObject({ host: '127.0.0.1', replicate: null, flags: 'master' });
        slots += n.slots_count as number;
      }
      expect(slots).toBe(16384);
      expect(nodes.find((n) => n.name === cluster.ids[0])!.slots).toEqual([[0, 5460]]);

      const union = new Set<string>();
      for (const id of cluster.ids) {
        for await (const rec of rdbKeyspaceRecords(join(out, `${id}.rdb`))) {
          if (rec.kind !== 'key') continue;
          const key = Buffer.from(rec.key).toString();
          expect(union.has(key)).toBe(false);
          union.add(key);
        }
      }
      expect([...union].sort()).toEqual([...written].sort());

      // fetch --cluster then merge: one RDB holding the union, each key with the value written
      const merged = join(d, 'merged.rdb');
      const m = await runAsync(process.execPath, [BIN, 'merge', ...cluster.ids.map((id) => join(out, `${id}.rdb`)), '-o', merged]);
      expect(m.code, m.stderr).toBe(0);
      const mergedKeys = new Map<string, string>();
      for await (const rec of rdbKeyspaceRecords(merged)) {
        if (rec.kind === 'key' && rec.type === 'string') mergedKeys.set(Buffer.from(rec.key).toString(), Buffer.from(rec.value as Uint8Array).toString());
      }
      expect([...mergedKeys.keys()].sort()).toEqual([...written].sort());
      for (const [k, v] of mergedKeys) expect(v).toBe(k);

      // the directory exists now: refused without --force, before any server is asked (port 1: nothing there)
      const again = await fetchCli('--cluster', 'redis://127.0.0.1:1', '-o', out);
      expect(again.code).toBe(2);
      expect(again.stderr).toMatch(/already exists/);
    } finally {
      await cluster.stop();
    }
  });
});
