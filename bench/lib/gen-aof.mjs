// Generates a valid single-file AOF (Redis <= 6.2 layout, as Redis 7 writes it in an incremental file) of at
// least `targetBytes`: random write traffic over all types in several dbs, MULTI/EXEC blocks, expiries logged as
// PEXPIREAT / SET ... PXAT, FLUSHALL/FLUSHDB now and then, some large values. RESP bytes are produced directly
// into a fixed 4 MB buffer and written with fs.writeSync, so memory stays bounded whatever the size.
import fs from 'node:fs';
import { Rng, RespWriter, makeBytePool, makePacer } from './common.mjs';

export const AOF_GENERATOR_VERSION = 1;

const DBS = 4;
const KEYS_PER_TYPE = 50000; // per db and type: keys get rewritten, collections grow and shrink
const BASE_MS = 4102444800000; // a fixed clock (2100-01-01) so the file is reproducible and expiries stay in the future

export async function generateAof(file, targetBytes, { seed = 42, onProgress } = {}) {
  const rng = new Rng(seed);
  const pool = makeBytePool(rng);
  const fd = fs.openSync(file, 'w');
  const w = new RespWriter((chunk) => {
    let off = 0;
    while (off < chunk.length) off += fs.writeSync(fd, chunk, off, chunk.length - off);
  });
  const stats = { commands: 0, multi: 0, flushall: 0, flushdb: 0, largeValues: 0, selects: 0 };
  let db = 0;
  let clock = BASE_MS;
  let streamSeq = 0;
  const bytes = (lo, hi) => {
    const n = rng.range(lo, hi);
    const off = rng.int(pool.length - n);
    return pool.subarray(off, off + n);
  };
  const word = () => `w${rng.int(100000)}`;
  const key = (prefix) => `${prefix}:${rng.int(KEYS_PER_TYPE)}`;
  const anyKey = () => key(['s', 'c', 'l', 'h', 't', 'z', 'x'][rng.int(7)]);

  const one = () => {
    const r = rng.int(1000);
    clock += rng.int(3);
    if (r < 250) {
      // SET, sometimes with the absolute expiry Redis 7 logs for SET EX/PX
      if (rng.chance(0.12)) w.cmd(['SET', key('s'), bytes(1, 200), 'PXAT', clock + rng.range(60000, 86400000 * 30)]);
      else w.cmd(['SET', key('s'), bytes(1, 300)]);
    } else if (r < 290) w.cmd(['INCRBY', key('c'), rng.range(-1000, 1000)]);
    else if (r < 310) w.cmd(['APPEND', key('s'), bytes(1, 50)]);
    else if (r < 340) w.cmd(['DEL', anyKey(), ...(rng.chance(0.3) ? [anyKey()] : [])]);
    else if (r < 440) {
      const args = [rng.chance(0.5) ? 'RPUSH' : 'LPUSH', key('l')];
      for (let i = rng.range(1, 10); i > 0; i--) args.push(rng.chance(0.3) ? String(rng.int(1e6)) : bytes(1, 60));
      w.cmd(args);
    } else if (r < 460) w.cmd([rng.chance(0.5) ? 'LPOP' : 'RPOP', key('l')]);
    else if (r < 470) w.cmd(['LTRIM', key('l'), 0, rng.range(10, 200)]);
    else if (r < 570) {
      const args = ['HSET', key('h')];
      for (let i = rng.range(1, 10); i > 0; i--) args.push(`f${rng.int(200)}`, bytes(1, 80));
      w.cmd(args);
    } else if (r < 590) w.cmd(['HDEL', key('h'), `f${rng.int(200)}`]);
    else if (r < 600) w.cmd(['HINCRBY', key('h'), `n${rng.int(20)}`, rng.range(-50, 50)]);
    else if (r < 680) {
      const args = ['SADD', key('t')];
      const ints = rng.chance(0.5);
      for (let i = rng.range(1, 10); i > 0; i--) args.push(ints ? String(rng.int(1e9)) : word());
      w.cmd(args);
    } else if (r < 700) w.cmd(['SREM', key('t'), word()]);
    else if (r < 780) {
      const args = ['ZADD', key('z')];
      for (let i = rng.range(1, 10); i > 0; i--) args.push(String(rng.int(1e6) / 100), word());
      w.cmd(args);
    } else if (r < 800) w.cmd(['ZREM', key('z'), word()]);
    else if (r < 830) {
      // XADD as Redis logs it: with the explicit ID it generated (monotonic per stream since the clock is)
      const args = ['XADD', key('x')];
      if (rng.chance(0.2)) args.push('MAXLEN', '=', String(rng.range(50, 500)));
      args.push(`${clock}-${streamSeq++}`);
      for (let i = rng.range(1, 4); i > 0; i--) args.push(`f${rng.int(10)}`, bytes(1, 40));
      w.cmd(args);
    } else if (r < 900) w.cmd(['PEXPIREAT', anyKey(), clock + rng.range(1000, 86400000 * 30)]);
    else if (r < 910) w.cmd(['PERSIST', anyKey()]);
    else if (r < 990) w.cmd(['SET', key('s'), bytes(100, 2000)]);
    else w.cmd(['SET', key('s'), bytes(2000, 16000)]);
    if (rng.chance(1 / 30000)) {
      // a large value: 64 KB .. 2 MB (about 15% of the file's bytes overall)
      stats.largeValues++;
      w.cmd(['SET', `big:${rng.int(2000)}`, bytes(64 << 10, 2 << 20)]);
    }
  };

  const writeSelect = (n) => {
    db = n;
    stats.selects++;
    w.cmd(['SELECT', String(n)]);
  };
  writeSelect(0);
  let nextFlush = 150 << 20; // a FLUSHALL roughly every 150 MB
  const pace = makePacer(onProgress);
  while (w.bytes < targetBytes) {
    if (rng.chance(0.01)) writeSelect(rng.int(DBS) === db ? (db + 1) % DBS : rng.int(DBS));
    if (w.bytes > nextFlush) {
      nextFlush += rng.range(100, 200) << 20;
      if (rng.chance(0.7)) {
        stats.flushall++;
        w.cmd(['FLUSHALL']);
      } else {
        stats.flushdb++;
        w.cmd(['FLUSHDB']);
      }
    }
    if (rng.chance(0.02)) {
      stats.multi++;
      w.cmd(['MULTI']);
      for (let i = rng.range(1, 8); i > 0; i--) one();
      w.cmd(['EXEC']);
    } else {
      one();
    }
    await pace(w.bytes);
  }
  w.end();
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  stats.commands = w.commands;
  stats.bytes = w.bytes;
  return stats;
}
