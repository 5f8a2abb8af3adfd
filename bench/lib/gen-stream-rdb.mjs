// Generates an RDB holding ONE stream key whose consumer group has `consumers` consumers (1M by default), written
// by the REAL redis-server: entries added with XADD, a group made with XGROUP CREATE, then one XREADGROUP per
// consumer (COUNT 1, every 8th consumer COUNT 3), all pushed through `redis-cli --pipe`, then SAVE. Every consumer
// thus owns one to three pending entries. `dir` is an empty temp dir (same file system as `file`) that the caller
// owns and removes.
import fs from 'node:fs';
import path from 'node:path';
import { log } from './common.mjs';
import { redisPipe } from './pipe.mjs';
import { startRedis, stopRedis, redisLog } from './redis.mjs';

export const STREAM_RDB_GENERATOR_VERSION = 1;

/** Pending entries of consumer `i`. */
const perConsumer = (i) => (i % 8 === 7 ? 3 : 1);

export async function generateStreamRdb(file, { consumers = 1_000_000, dir, onProgress } = {}) {
  let server;
  try {
    server = await startRedis({ dir });
    const { w, pump, finish } = redisPipe(server);
    let entries = 0;
    for (let i = 0; i < consumers; i++) entries += perConsumer(i);
    const key = 'stream:big-group';
    for (let i = 0; i < entries; i++) {
      w.cmd(['XADD', key, `${1700000000000 + Math.floor(i / 4)}-${i % 4}`, 'n', String(i)]);
      if ((i & 4095) === 0) await pump();
    }
    w.cmd(['XGROUP', 'CREATE', key, 'workers', '0']);
    w.cmd(['XGROUP', 'CREATE', key, 'idle', '$']);
    for (let i = 0; i < consumers; i++) {
      // names in an order the server has to sort (its rax keeps them by name bytes)
      const name = `consumer:${((i * 7919) % consumers).toString(36)}`;
      w.cmd(['XREADGROUP', 'GROUP', 'workers', name, 'COUNT', String(perConsumer(i)), 'STREAMS', key, '>']);
      if ((i & 4095) === 0) {
        await pump();
        if ((i & 262143) === 0 && i > 0) onProgress?.(i);
      }
    }
    const piped = await finish();
    if (piped.errors !== 0) throw new Error(`redis-cli --pipe reported ${piped.errors} error replies (of ${piped.replies})`);
    const mem = /used_memory:(\d+)/.exec(String(await server.client.call('INFO', 'memory')));
    const saved = await server.client.call('SAVE');
    if (saved !== 'OK') throw new Error(`SAVE failed: ${JSON.stringify(saved)} ${redisLog(server)}`);
    await stopRedis(server);
    server = null;
    fs.renameSync(path.join(dir, 'dump.rdb'), file);
    log(`  stream RDB: ${consumers} consumers, ${entries} entries and pending entries`);
    return { keys: 1, consumers, entries, pending: entries, usedMemory: mem ? Number(mem[1]) : null };
  } finally {
    if (server) await stopRedis(server);
  }
}
