// Generates an RDB of at least `targetBytes` with the REAL redis-server: a server on a free loopback port in a
// temp dir is fed generated RESP commands through `redis-cli --pipe` (streamed with back-pressure, bounded memory),
// then SAVE writes dump.rdb, which is moved to `file`. `dir` is an empty temp dir (same file system as `file`)
// that the caller owns and removes.
// Contents: millions of strings (raw, int-encoded, LZF-compressible, binary keys, some with expiries), small and
// medium lists/hashes/sets/zsets (listpack, intset, hashtable, quicklist, skiplist encodings), streams with
// consumer groups and pending entries, a function library, several dbs, and a few huge collections
// (millions of elements).
import fs from 'node:fs';
import path from 'node:path';
import { Rng, makeBytePool, log } from './common.mjs';
import { redisPipe } from './pipe.mjs';
import { startRedis, stopRedis, redisLog } from './redis.mjs';

export const RDB_GENERATOR_VERSION = 1;
const BASE_MS = 4102444800000; // 2100-01-01: expiries stay in the future
const MB = 1 << 20;

export async function generateRdb(file, targetBytes, { seed = 7, dir, onProgress } = {}) {
  const scale = targetBytes / (500 * MB);
  const rng = new Rng(seed);
  const pool = makeBytePool(rng);
  let server;
  try {
    server = await startRedis({ dir });
    const { w, pump, finish } = redisPipe(server);
    // est: a running estimate of the RDB bytes the data will take (payload + small per-item overheads)
    let est = 0;
    const keys = { string: 0, list: 0, hash: 0, set: 0, zset: 0, stream: 0 };
    const bytes = (lo, hi) => {
      const n = rng.range(lo, hi);
      const off = rng.int(pool.length - n);
      est += n + 1;
      return pool.subarray(off, off + n);
    };
    const intStr = (max) => {
      est += 3;
      return String(rng.int(max));
    };
    const word = (max = 1e6) => {
      const s = `m${rng.int(max)}`;
      est += s.length + 1;
      return s;
    };
    const keyName = (k) => {
      est += k.length + 4;
      return k;
    };
    const expiry = (k, p) => {
      if (rng.chance(p)) {
        est += 9;
        w.cmd(['PEXPIREAT', k, BASE_MS + rng.int(86400000 * 365)]);
      }
    };
    const select = (db) => w.cmd(['SELECT', String(db)]);
    const n = (x) => Math.max(1, Math.round(x * scale));
    let nextProgress = 32 * MB;
    const progress = () => {
      if (onProgress && est > nextProgress) {
        nextProgress += 32 * MB;
        onProgress(est);
      }
    };

    // Huge collections (db 0), pushed in batches of 1000 elements.
    select(0);
    const huge = async (k, count, add) => {
      keyName(k);
      for (let done = 0; done < count; ) {
        const m = Math.min(1000, count - done);
        add(m);
        done += m;
        await pump();
        progress();
      }
    };
    await huge('huge:list', n(2_000_000), (m) => {
      const a = ['RPUSH', 'huge:list'];
      for (let i = 0; i < m; i++) a.push(rng.chance(0.3) ? intStr(1e9) : bytes(4, 24));
      w.cmd(a);
    });
    keys.list++;
    let hf = 0;
    await huge('huge:hash', n(1_000_000), (m) => {
      const a = ['HSET', 'huge:hash'];
      for (let i = 0; i < m; i++) a.push(`field:${hf++}`, bytes(4, 40));
      est += m * 10;
      w.cmd(a);
    });
    keys.hash++;
    let sm = 0;
    await huge('huge:set', n(1_000_000), (m) => {
      const a = ['SADD', 'huge:set'];
      for (let i = 0; i < m; i++) a.push(`member:${sm++}`);
      est += m * 12;
      w.cmd(a);
    });
    keys.set++;
    let zm = 0;
    await huge('huge:zset', n(1_000_000), (m) => {
      const a = ['ZADD', 'huge:zset'];
      for (let i = 0; i < m; i++) a.push(String(rng.int(1e7) / 100), `member:${zm++}`);
      est += m * 20;
      w.cmd(a);
    });
    keys.zset++;
    w.cmd(['FUNCTION', 'LOAD', "#!lua name=benchlib\nredis.register_function('bench_echo', function(keys, args) return args[1] end)"]);

    // Medium collections (db 1): hashtable / quicklist with many nodes / skiplist encodings.
    select(1);
    for (let i = 0, c = n(300); i < c; i++) {
      const size = rng.range(1000, 5000);
      const kl = keyName(`mlist:${i}`), kh = keyName(`mhash:${i}`), ks = keyName(`mset:${i}`), kz = keyName(`mzset:${i}`);
      for (let done = 0; done < size; done += 500) {
        const m = Math.min(500, size - done);
        const l = ['RPUSH', kl], h = ['HSET', kh], s = ['SADD', ks], z = ['ZADD', kz];
        for (let j = 0; j < m; j++) {
          l.push(bytes(1, 30));
          h.push(`f${done + j}`, bytes(1, 30));
          s.push(word(1e9));
          z.push(String(rng.int(1e6)), word(1e9));
        }
        est += m * 8;
        w.cmd(l); w.cmd(h); w.cmd(s); w.cmd(z);
      }
      expiry(kl, 0.05); expiry(kh, 0.05);
      keys.list++; keys.hash++; keys.set++; keys.zset++;
      await pump();
      progress();
    }

    // Small collections spread over dbs 0-3: listpack / intset encodings (some hashes overflow to hashtable).
    for (let db = 0; db < 4; db++) {
      select(db);
      const c = n([120_000, 40_000, 25_000, 15_000][db]);
      for (let i = 0; i < c; i++) {
        const kl = keyName(`list:${i}`);
        const l = ['RPUSH', kl];
        for (let j = rng.range(1, 16); j > 0; j--) l.push(rng.chance(0.4) ? intStr(1e6) : bytes(1, 20));
        w.cmd(l);
        expiry(kl, 0.05);
        const kh = keyName(`hash:${i}`);
        const h = ['HSET', kh];
        const big = rng.chance(0.05);
        for (let j = rng.range(1, 16); j > 0; j--) h.push(`field${j}`, big && j === 1 ? bytes(65, 200) : bytes(1, 20));
        w.cmd(h);
        expiry(kh, 0.05);
        const ks = keyName(`set:${i}`);
        const s = ['SADD', ks];
        const ints = rng.chance(0.5);
        for (let j = rng.range(1, 16); j > 0; j--) s.push(ints ? intStr(1e9) : word());
        w.cmd(s);
        const kz = keyName(`zset:${i}`);
        const z = ['ZADD', kz];
        for (let j = rng.range(1, 16); j > 0; j--) z.push(rng.chance(0.2) ? String(rng.int(1000)) : String(rng.int(1e6) / 7), word());
        est += 30;
        w.cmd(z);
        keys.list++; keys.hash++; keys.set++; keys.zset++;
        if ((i & 255) === 0) {
          await pump();
          progress();
        }
      }
      // Streams with consumer groups, pending entries and deletions.
      for (let i = 0, cs = n([8000, 2000, 1000, 1000][db]); i < cs; i++) {
        const k = keyName(`stream:${i}`);
        const entries = rng.range(1, 30);
        for (let j = 0; j < entries; j++) {
          const a = ['XADD', k, `${1700000000000 + i * 1000 + j}-${j}`];
          for (let f = rng.range(1, 4); f > 0; f--) a.push(`f${f}`, bytes(1, 30));
          w.cmd(a);
        }
        if (rng.chance(0.3)) {
          w.cmd(['XGROUP', 'CREATE', k, 'grp1', '0']);
          w.cmd(['XREADGROUP', 'GROUP', 'grp1', `consumer${rng.int(3)}`, 'COUNT', String(rng.range(1, 5)), 'STREAMS', k, '>']);
          if (rng.chance(0.5)) w.cmd(['XGROUP', 'CREATE', k, 'grp2', '$']);
        }
        if (entries > 2 && rng.chance(0.2)) w.cmd(['XDEL', k, `${1700000000000 + i * 1000 + 1}-1`]);
        est += 60;
        keys.stream++;
        if ((i & 255) === 0) await pump();
      }
      await pump();
    }

    // Strings until the estimate reaches the target: most in db 0, some in dbs 1-3.
    const target = targetBytes * 1.03;
    let i = 0;
    while (est < target) {
      const db = rng.chance(0.7) ? 0 : rng.range(1, 3);
      select(db);
      for (let b = 0; b < 200; b++, i++) {
        const binKey = rng.chance(0.01);
        const k = binKey ? Buffer.concat([Buffer.from(`bin:${i}:`), bytes(4, 8)]) : keyName(`str:${i}`);
        const r = rng.int(100);
        let v;
        if (r < 25) v = intStr(1e12);
        else if (r < 35) {
          const len = rng.range(40, 1000);
          v = 'abcdefgh'.repeat(Math.ceil(len / 8)).slice(0, len) + i;
          est += len / 10;
        } else v = bytes(8, 180);
        if (rng.chance(0.1)) w.cmd(['SET', k, v, 'PXAT', BASE_MS + rng.int(86400000 * 365)]);
        else w.cmd(['SET', k, v]);
        keys.string++;
      }
      await pump();
      progress();
    }
    const piped = await finish();
    if (piped.errors !== 0) log(`note: redis-cli --pipe reported ${piped.errors} error replies (of ${piped.replies})`);
    const c = server.client;
    const info = await c.call('INFO', 'keyspace');
    const perDb = {};
    let total = 0;
    for (const line of String(info).split('\r\n')) {
      const mm = /^db(\d+):keys=(\d+),expires=(\d+)/.exec(line);
      if (mm) {
        perDb[mm[1]] = { keys: Number(mm[2]), expires: Number(mm[3]) };
        total += Number(mm[2]);
      }
    }
    const mem = /used_memory:(\d+)/.exec(String(await c.call('INFO', 'memory')));
    const t0 = process.hrtime.bigint();
    const saved = await c.call('SAVE');
    const saveS = Number(process.hrtime.bigint() - t0) / 1e9;
    if (saved !== 'OK') throw new Error(`SAVE failed: ${JSON.stringify(saved)} ${redisLog(server)}`);
    await stopRedis(server);
    server = null;
    fs.renameSync(path.join(dir, 'dump.rdb'), file);
    return {
      commands: w.commands,
      respBytes: w.bytes,
      pipeErrors: piped.errors,
      estimatedBytes: Math.round(est),
      keys: total,
      keysByDb: perDb,
      keysByType: keys,
      huge: { list: n(2_000_000), hash: n(1_000_000), set: n(1_000_000), zset: n(1_000_000) },
      usedMemory: mem ? Number(mem[1]) : null,
      saveS,
    };
  } finally {
    if (server) await stopRedis(server);
  }
}
