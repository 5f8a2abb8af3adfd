// Generates an RDB of a few HUGE keys written by the REAL redis-server: one list of `listElements` elements (RPUSH,
// 1,000 per command: a quicklist of many listpack nodes), one hash of `hashFields` fields (HSET, 1,000 per
// command: hashtable encoding), one string of `stringBytes` bytes (APPEND of 1 MiB pieces, half random bytes, half
// text: LZF compresses it at SAVE) and a few small keys, all pushed through `redis-cli --pipe`, then SAVE.
// What a conversion holds for one key whatever its size (the writer fed in pieces). Default: 20M elements, 5M
// fields, 500 MB; `dir` is an empty temp dir (same file system as `file`) that the caller owns and removes.
// Standalone: node bench/lib/gen-huge-rdb.mjs <out.rdb> [listElements] [hashFields] [stringMB]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng, makeBytePool, log } from './common.mjs';
import { redisPipe } from './pipe.mjs';
import { startRedis, stopRedis, redisLog } from './redis.mjs';

export const HUGE_RDB_GENERATOR_VERSION = 1;
const MB = 1 << 20;

export async function generateHugeRdb(file, { listElements = 20_000_000, hashFields = 5_000_000, stringBytes = 500 * MB, seed = 11, dir, onProgress } = {}) {
  const rng = new Rng(seed);
  const pool = makeBytePool(rng, 4 * MB);
  let server;
  try {
    // the 500 MB string: a proto-max-bulk-len of its size, and client-query-buffer room for APPEND
    server = await startRedis({ dir, extra: ['--proto-max-bulk-len', String(Math.max(512 * MB, stringBytes + MB))] });
    const { w, pump, finish } = redisPipe(server);
    const bytes = (lo, hi) => {
      const n = rng.range(lo, hi);
      const off = rng.int(pool.length - n);
      return pool.subarray(off, off + n);
    };
    // a few small keys around the huge ones
    for (let i = 0; i < 1000; i++) w.cmd(['SET', `small:${i}`, bytes(1, 40)]);
    const BATCH = 1000;
    for (let i = 0; i < listElements; i += BATCH) {
      const args = ['RPUSH', 'list:huge'];
      for (let j = i; j < Math.min(listElements, i + BATCH); j++) args.push(j % 3 === 0 ? String(j) : j % 3 === 1 ? `item:${j}` : bytes(1, 24));
      w.cmd(args);
      if ((i / BATCH) % 64 === 0) {
        await pump();
        if (i % (1 << 22) === 0) onProgress?.(`list ${i}`);
      }
    }
    for (let i = 0; i < hashFields; i += BATCH) {
      const args = ['HSET', 'hash:huge'];
      for (let j = i; j < Math.min(hashFields, i + BATCH); j++) args.push(`field:${j}`, j % 2 ? String(j * 7) : bytes(1, 32));
      w.cmd(args);
      if ((i / BATCH) % 64 === 0) await pump();
    }
    const text = Buffer.from('the quick brown fox jumps over the lazy dog; '.repeat(1 + Math.ceil((MB / 2) / 45))).subarray(0, MB / 2);
    for (let done = 0; done < stringBytes; ) {
      const n = Math.min(MB, stringBytes - done);
      const piece = Buffer.concat([text, bytes(MB / 2, MB / 2)]).subarray(0, n);
      w.cmd([done === 0 ? 'SET' : 'APPEND', 'string:huge', piece]);
      done += n;
      await pump();
    }
    w.cmd(['SET', 'small:last', 'end']);
    const piped = await finish();
    if (piped.errors !== 0) throw new Error(`redis-cli --pipe reported ${piped.errors} error replies (of ${piped.replies})`);
    const info = String(await server.client.call('INFO', 'memory'));
    const mem = /used_memory:(\d+)/.exec(info);
    const rss = /used_memory_rss:(\d+)/.exec(info);
    const saved = await server.client.call('SAVE');
    if (saved !== 'OK') throw new Error(`SAVE failed: ${JSON.stringify(saved)} ${redisLog(server)}`);
    await stopRedis(server);
    server = null;
    fs.renameSync(path.join(dir, 'dump.rdb'), file);
    log(`  huge-key RDB: list ${listElements}, hash ${hashFields}, string ${stringBytes} bytes`);
    return { keys: 1004, listElements, hashFields, stringBytes, usedMemory: mem ? Number(mem[1]) : null, usedMemoryRss: rss ? Number(rss[1]) : null };
  } finally {
    if (server) await stopRedis(server);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [out, list, hash, strMB] = process.argv.slice(2);
  if (!out) {
    console.error('usage: node bench/lib/gen-huge-rdb.mjs <out.rdb> [listElements] [hashFields] [stringMB]');
    process.exit(2);
  }
  const dir = fs.mkdtempSync(path.join(path.dirname(path.resolve(out)), '.hugegen-'));
  try {
    const meta = await generateHugeRdb(out, {
      ...(list ? { listElements: Number(list) } : {}),
      ...(hash ? { hashFields: Number(hash) } : {}),
      ...(strMB ? { stringBytes: Math.round(Number(strMB) * MB) } : {}),
      dir,
      onProgress: (p) => log(`  ${p}`),
    });
    console.log(JSON.stringify(meta));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
