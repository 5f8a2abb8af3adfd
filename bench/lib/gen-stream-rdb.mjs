// Generates an RDB holding ONE stream key whose consumer group has `consumers` consumers (1M by default), written
// by the REAL redis-server: entries added with XADD, a group made with XGROUP CREATE, then one XREADGROUP per
// consumer (COUNT 1, every 8th consumer COUNT 3), all pushed through `redis-cli --pipe`, then SAVE. Every consumer
// thus owns one to three pending entries. `dir` is an empty temp dir (same file system as `file`) that the caller
// owns and removes.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { RespWriter, log } from './common.mjs';
import { startRedis, stopRedis, redisLog } from './redis.mjs';

export const STREAM_RDB_GENERATOR_VERSION = 1;

/** Pending entries of consumer `i`. */
const perConsumer = (i) => (i % 8 === 7 ? 3 : 1);

export async function generateStreamRdb(file, { consumers = 1_000_000, dir, onProgress } = {}) {
  let server;
  try {
    server = await startRedis({ dir });
    const pipe = spawn('redis-cli', ['-h', '127.0.0.1', '-p', String(server.port), '--pipe'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let pipeOut = '';
    pipe.stdout.on('data', (d) => (pipeOut = (pipeOut + d).slice(-4000)));
    pipe.stderr.on('data', (d) => (pipeOut = (pipeOut + d).slice(-4000)));
    const pipeDone = once(pipe, 'close');
    pipe.stdin.on('error', () => {});
    const died = pipeDone.then(([code]) => {
      throw new Error(`redis-cli --pipe exited early (exit ${code}): ${pipeOut.trim()}`);
    });
    died.catch(() => {});
    let ended = false;
    const w = new RespWriter((chunk) => (pipe.stdin.write(chunk) ? undefined : Promise.race([once(pipe.stdin, 'drain'), ended ? undefined : died])), 1 << 20);
    w.freshBuffers = true;
    const pump = async () => {
      if (w.pending) {
        const p = w.pending;
        w.pending = null;
        await p;
      }
    };
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
    w.end();
    await pump();
    ended = true;
    pipe.stdin.end();
    const [code] = await pipeDone;
    const m = /errors:\s*(\d+),\s*replies:\s*(\d+)/.exec(pipeOut);
    if (code !== 0 || !m) throw new Error(`redis-cli --pipe failed (exit ${code}): ${pipeOut.trim()}`);
    if (Number(m[1]) !== 0) throw new Error(`redis-cli --pipe reported ${m[1]} error replies (of ${m[2]})`);
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
