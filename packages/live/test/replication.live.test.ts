// fetchSnapshot against real redis-servers (diskless and disk-based sync, keep-alives, passwords, ACL users, the
// functions alone, abort) and against a scripted master on 127.0.0.1 for what a 7.0 server never does (SYNC before
// 2.8, no REPLCONF, a command stream after the payload, an end mark split over many reads, damage, silence).
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { sameKeyspace, type KeyspaceRecord } from '@redis-persist/keyspace';
import { readRdb, rdbKeyspaceRecords } from '@redis-persist/rdb';
import { RespDecoder } from '@redis-persist/resp';
import { dumpLiveKeyspace, openFileDescriptors, randomTraffic, redisAvailable, startRedis } from '@redis-persist/testkit';
import { LiveError } from '../src/errors.js';
import { fetchSnapshot, fetchSnapshotToFile, type SnapshotProgress } from '../src/replication.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const SMALL_RDB = readFileSync(join(root, 'examples/flushall/appendonlydir/appendonly.aof.2.base.rdb'));
const hasRedis = redisAvailable();
if (!hasRedis) console.warn('[live] redis-server is not on PATH: skipping the real-server fetch tests');

const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'live-fetch-'));
  temps.push(d);
  return d;
}

async function keyspaceOf(path: string): Promise<KeyspaceRecord[]> {
  const out: KeyspaceRecord[] = [];
  for await (const r of rdbKeyspaceRecords(path, { dropExpiredBefore: Date.now() })) out.push(r);
  return out;
}

async function rejection(p: Promise<unknown>): Promise<LiveError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LiveError);
  return err as LiveError;
}

const FUNCTION = "#!lua name=fetchlib\nredis.register_function('fetchf', function(keys, args) return 1 end)";

describe.skipIf(!hasRedis)('fetchSnapshot from redis-server 7.0.15', () => {
  const modes = [
    { name: 'diskless, no delay', config: { 'repl-diskless-sync': 'yes', 'repl-diskless-sync-delay': '0' }, format: 'eof', keepalives: false },
    { name: 'diskless, 5 s delay (keep-alives before +FULLRESYNC)', config: { 'repl-diskless-sync': 'yes', 'repl-diskless-sync-delay': '5' }, format: 'eof', keepalives: true },
    // a slow BGSAVE (rdb-key-save-delay, in microseconds per key) makes the master send keep-alives after +FULLRESYNC
    { name: 'disk-based, slow BGSAVE (keep-alives after +FULLRESYNC)', config: { 'repl-diskless-sync': 'no', 'rdb-key-save-delay': '8000' }, format: 'bulk', keepalives: true },
  ] as const;

  it.each(modes.map((m, i) => [m.name, m, i] as const))('%s: the file holds exactly the live keyspace', async (_n, mode, i) => {
    const s = await startRedis({ config: mode.config });
    try {
      const c = s.client;
      await randomTraffic(c, { seed: 70 + i, commands: 600, dbs: [0, 3], expiries: true, keysPerType: 16 });
      await c.call('FUNCTION', 'LOAD', FUNCTION);
      const live = await dumpLiveKeyspace(c);
      const phases = new Set<SnapshotProgress['phase']>();
      let last: SnapshotProgress | null = null;
      const out = join(tmp(), 'dump.rdb');
      const r = await fetchSnapshotToFile(`redis://127.0.0.1:${s.port}`, out, {
        onProgress: (p) => {
          phases.add(p.phase);
          last = p;
        },
      });
      expect(r.info.format).toBe(mode.format);
      expect(r.info.command).toBe('psync');
      expect(r.info.rdbOnly).toBe(true);
      const info = (await c.callText('INFO', 'replication')) ?? '';
      expect(r.info.replid).toBe(/^master_replid:(\S+)/m.exec(info)?.[1]);
      expect(typeof r.info.offset).toBe('number');
      expect(r.info.size).toBe(mode.format === 'bulk' ? r.bytes : null);
      if (mode.keepalives) expect(r.info.keepalives).toBeGreaterThan(0);
      expect([...phases]).toEqual(['handshake', 'waiting', 'transfer', 'done']);
      expect(last!.bytes).toBe(r.bytes);

      const data = readFileSync(out);
      expect(data.length).toBe(r.bytes);
      expect(data.subarray(0, 5).toString()).toBe('REDIS');
      expect(r.check!.checksum).toBe('ok');
      expect(r.check!.functions).toBe(1);
      const ours = await keyspaceOf(out);
      const same = sameKeyspace(ours, live);
      expect(same.diff).toEqual([]);
      expect(r.check!.keys).toBe(live.filter((k) => k.kind === 'key').length);
      expect(r.check!.dbs.map((d) => d.db)).toEqual([0, 3]);
      // only the output is left in its directory: no temp file, no lock
      expect(readdirSync(dirname(out))).toEqual(['dump.rdb']);
    } finally {
      await s.stop();
    }
  });

  it('requirepass: the password from the address; none or a wrong one is an auth error', async () => {
    const s = await startRedis({ config: { 'repl-diskless-sync-delay': '0' } });
    try {
      await s.client.call('SET', 'k', 'v');
      // set after the start: the test kit's client waits for PING without a password
      await s.client.call('CONFIG', 'SET', 'requirepass', 's3cr:et');
      const r = await fetchSnapshotToFile(`redis://:${encodeURIComponent('s3cr:et')}@127.0.0.1:${s.port}`, join(tmp(), 'a.rdb'));
      expect(r.check!.keys).toBe(1);
      const none = await rejection(fetchSnapshotToFile(`redis://127.0.0.1:${s.port}`, join(tmp(), 'b.rdb')));
      expect(none.code).toBe('auth');
      expect(none.message).toMatch(/needs a password/);
      const wrong = await rejection(fetchSnapshotToFile(`redis://:nope@127.0.0.1:${s.port}`, join(tmp(), 'c.rdb')));
      expect(wrong.code).toBe('auth');
      expect(wrong.reply).toMatch(/^WRONGPASS/);
    } finally {
      await s.stop();
    }
  });

  it('ACL users: one with the replication commands fetches; one without gets noperm, naming what to grant', async () => {
    const s = await startRedis({ config: { 'repl-diskless-sync-delay': '0' } });
    try {
      const c = s.client;
      await c.call('SET', 'a', '1');
      await c.call('ACL', 'SETUSER', 'backup', 'on', '>pw', '+psync', '+replconf', '+ping');
      await c.call('ACL', 'SETUSER', 'reader', 'on', '>pw', '~*', '+@read');
      await c.call('ACL', 'SETUSER', 'almost', 'on', '>pw', '+ping', '+replconf');
      const r = await fetchSnapshotToFile(`redis://backup:pw@127.0.0.1:${s.port}`, join(tmp(), 'a.rdb'));
      expect(r.check!.keys).toBe(1);
      for (const user of ['reader', 'almost']) {
        const out = join(tmp(), 'b.rdb');
        const err = await rejection(fetchSnapshotToFile(`redis://${user}:pw@127.0.0.1:${s.port}`, out));
        expect(err.code).toBe('noperm');
        expect(err.message).toMatch(new RegExp(`user "${user}" may not run (PING|REPLCONF|PSYNC)`));
        expect(err.message).toMatch(/ACL SETUSER \S+ \+psync \+sync \+replconf \+ping/);
        expect(existsSync(out)).toBe(false);
      }
      const bad = await rejection(fetchSnapshotToFile(`redis://backup:wrong@127.0.0.1:${s.port}`, join(tmp(), 'c.rdb')));
      expect(bad.code).toBe('auth');
    } finally {
      await s.stop();
    }
  });

  it('functionsOnly: an RDB with the functions and no key', async () => {
    const s = await startRedis({ config: { 'repl-diskless-sync': 'no' } });
    try {
      await randomTraffic(s.client, { seed: 5, commands: 200 });
      await s.client.call('FUNCTION', 'LOAD', FUNCTION);
      const out = join(tmp(), 'functions.rdb');
      const r = await fetchSnapshotToFile(`redis://127.0.0.1:${s.port}`, out, { functionsOnly: true });
      // a filtered RDB always goes over the socket, even with repl-diskless-sync no
      expect(r.info.format).toBe('eof');
      expect(r.info.functionsOnly).toBe(true);
      expect(r.check!.keys).toBe(0);
      expect(r.check!.functions).toBe(1);
      const kinds = new Set<string>();
      for await (const rec of readRdb(out)) kinds.add(rec.kind);
      expect(kinds.has('key')).toBe(false);
      expect(kinds.has('function')).toBe(true);
    } finally {
      await s.stop();
    }
  });

  it('abort and early break: the link is closed, the file is not written', async () => {
    const s = await startRedis({ config: { 'repl-diskless-sync-delay': '0', 'rdbcompression': 'no' } });
    try {
      const c = s.client;
      for (let i = 0; i < 8; i++) await c.call('SET', `big${i}`, Buffer.alloc(1 << 20, 65 + i));
      // abort after the first chunk
      const ac = new AbortController();
      const out = join(tmp(), 'aborted.rdb');
      let chunks = 0;
      const fdsBefore = openFileDescriptors();
      const p = fetchSnapshotToFile(`redis://127.0.0.1:${s.port}`, out, {
        signal: ac.signal,
        onProgress: (pr) => {
          if (pr.phase === 'transfer' && pr.bytes > 0 && chunks++ === 0) ac.abort();
        },
      });
      const err = await p.then(() => null, (e: unknown) => e);
      expect((err as Error).name).toBe('AbortError');
      expect(readdirSync(dirname(out))).toEqual([]);
      // the temp file and the socket are closed (a socket's handle within a few ticks)
      for (let i = 0; i < 50 && openFileDescriptors() !== fdsBefore; i++) await new Promise((r) => setTimeout(r, 10));
      expect(openFileDescriptors()).toBe(fdsBefore);
      // breaking out of the iteration closes the connection
      const stream = fetchSnapshot(`redis://127.0.0.1:${s.port}`);
      let got = 0;
      for await (const chunk of stream) {
        got += chunk.length;
        break;
      }
      expect(got).toBeGreaterThan(0);
      expect(stream.complete).toBe(false);
      const deadline = Date.now() + 10_000;
      for (;;) {
        const clients = (await c.callText('CLIENT', 'LIST', 'TYPE', 'replica')) ?? '';
        if (clients.trim() === '') break;
        expect(Date.now()).toBeLessThan(deadline);
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await s.stop();
    }
  });
});

// ---- a scripted master --------------------------------------------------------------------------------------------

type Script = (cmd: string[], io: { write(data: string | Uint8Array): void; trickle(data: Uint8Array, pieces: number): Promise<void>; end(): void; sock: Socket }) => Promise<void> | void;

async function fakeMaster(script: Script): Promise<{ url: string; seen: string[][]; close(): Promise<void> }> {
  const seen: string[][] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    const dec = new RespDecoder();
    let chain = Promise.resolve();
    const io = {
      sock,
      write: (d: string | Uint8Array) => void sock.write(d),
      end: () => void sock.end(),
      /** Writes `data` in `pieces` separate writes, a few milliseconds apart (separate reads on the other side). */
      trickle: async (data: Uint8Array, pieces: number) => {
        const step = Math.max(1, Math.ceil(data.length / pieces));
        for (let at = 0; at < data.length; at += step) {
          if (sock.destroyed) return;
          sock.write(data.subarray(at, at + step));
          await new Promise((r) => setTimeout(r, 3));
        }
      },
    };
    sock.on('data', (chunk) => {
      dec.push(chunk);
      for (let v = dec.next(); v !== undefined; v = dec.next()) {
        if (v.type !== 'array' || v.value === null) continue;
        const cmd = v.value.map((x) => (x.type === 'bulk' && x.value ? Buffer.from(x.value).toString('latin1') : ''));
        seen.push(cmd);
        chain = chain.then(() => script(cmd, io)).catch(() => undefined);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `redis://127.0.0.1:${port}`,
    seen,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const MARK = 'a1b2c3d4e5f6a7b8c9d0a1b2c3d4e5f6a7b8c9d0';

describe('fetchSnapshot against a scripted master', () => {
  it('Redis before 2.8: no REPLCONF, PSYNC unknown -> SYNC; a $<len> payload read in pieces, the command stream after it left out', async () => {
    const m = await fakeMaster(async (cmd, io) => {
      const name = cmd[0].toUpperCase();
      if (name === 'PING') io.write('+PONG\r\n');
      else if (name === 'REPLCONF') io.write(`-ERR unknown command 'REPLCONF'\r\n`);
      else if (name === 'PSYNC') io.write(`-ERR unknown command 'PSYNC'\r\n`);
      else if (name === 'SYNC') {
        io.write('\n\n');
        await io.trickle(Buffer.concat([Buffer.from(`$${SMALL_RDB.length}\r\n`), SMALL_RDB, Buffer.from('*1\r\n$4\r\nPING\r\n')]), 40);
      }
    });
    try {
      const out = join(tmp(), 'old.rdb');
      const r = await fetchSnapshotToFile(m.url, out);
      expect(readFileSync(out).equals(SMALL_RDB)).toBe(true);
      expect(r.info).toMatchObject({ command: 'sync', replid: null, offset: null, format: 'bulk', size: SMALL_RDB.length, rdbOnly: false, keepalives: 2 });
      expect(m.seen.map((c) => c[0])).toEqual(['PING', 'REPLCONF', 'REPLCONF', 'REPLCONF', 'PSYNC', 'SYNC']);
      expect(m.seen[2]).toEqual(['REPLCONF', 'capa', 'eof', 'capa', 'psync2']);
      expect(m.seen[3]).toEqual(['REPLCONF', 'rdb-only', '1']);
    } finally {
      await m.close();
    }
  });

  it('diskless: keep-alives before +FULLRESYNC, the end mark split over single-byte reads is not part of the file', async () => {
    const m = await fakeMaster(async (cmd, io) => {
      const name = cmd[0].toUpperCase();
      if (name === 'PSYNC') {
        for (let i = 0; i < 3; i++) {
          io.write('\n');
          await new Promise((r) => setTimeout(r, 5));
        }
        io.write(`+FULLRESYNC ${MARK.replace(/a/g, 'f')} 1234\r\n$EOF:${MARK}\r\n`);
        const body = Buffer.concat([SMALL_RDB, Buffer.from(MARK)]);
        await io.trickle(body.subarray(0, body.length - 60), 5);
        await io.trickle(body.subarray(body.length - 60), 60);
      } else io.write(name === 'PING' ? '+PONG\r\n' : '+OK\r\n');
    });
    try {
      const out = join(tmp(), 'diskless.rdb');
      const r = await fetchSnapshotToFile(m.url, out);
      expect(readFileSync(out).equals(SMALL_RDB)).toBe(true);
      expect(r.info).toMatchObject({ command: 'psync', replid: MARK.replace(/a/g, 'f'), offset: 1234, format: 'eof', size: null, rdbOnly: true, keepalives: 3 });
      expect(r.bytes).toBe(SMALL_RDB.length);
    } finally {
      await m.close();
    }
  });

  it('a damaged payload fails verification and leaves no file; so does a cut one', async () => {
    const bad = Buffer.from(SMALL_RDB);
    bad[bad.length - 20] ^= 0xff;
    for (const [payload, expected] of [
      [Buffer.concat([Buffer.from(`$${bad.length}\r\n`), bad]), /RdbError/],
      [Buffer.concat([Buffer.from(`$${SMALL_RDB.length}\r\n`), SMALL_RDB.subarray(0, 300)]), /LiveError/],
    ] as const) {
      const m = await fakeMaster(async (cmd, io) => {
        const name = cmd[0].toUpperCase();
        if (name === 'PSYNC') {
          io.write(`+FULLRESYNC ${MARK} 0\r\n`);
          await io.trickle(payload, 4);
          io.end();
        } else io.write(name === 'PING' ? '+PONG\r\n' : '+OK\r\n');
      });
      try {
        const out = join(tmp(), 'bad.rdb');
        const err = await fetchSnapshotToFile(m.url, out).then(() => null, (e: unknown) => e);
        expect((err as Error).name).toMatch(expected);
        if (err instanceof LiveError) expect(err.code).toBe('closed');
        expect(readdirSync(dirname(out))).toEqual([]);
      } finally {
        await m.close();
      }
    }
  });

  it('functionsOnly on a server without rdb-filter-only is refused clearly; a silent server times out', async () => {
    const m = await fakeMaster((cmd, io) => {
      const name = cmd[0].toUpperCase();
      if (name === 'REPLCONF' && cmd[1] === 'rdb-filter-only') io.write('-ERR Unrecognized REPLCONF option: rdb-filter-only\r\n');
      else if (name === 'PSYNC') return; // says nothing
      else io.write(name === 'PING' ? '+PONG\r\n' : '+OK\r\n');
    });
    try {
      const f = await rejection(fetchSnapshotToFile(m.url, join(tmp(), 'f.rdb'), { functionsOnly: true }));
      expect(f.code).toBe('reply');
      expect(f.message).toMatch(/functions alone.*Redis 7\.0/);
      const t = await rejection(fetchSnapshotToFile(m.url, join(tmp(), 't.rdb'), { timeoutMs: 300 }));
      expect(t.code).toBe('timeout');
      const refused = await rejection(fetchSnapshotToFile('redis://127.0.0.1:1', join(tmp(), 'r.rdb')));
      expect(refused.code).toBe('connect');
    } finally {
      await m.close();
    }
  });
});
