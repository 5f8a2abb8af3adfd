// Generates the input of the `replay` suite: a Redis 7 multi-part AOF directory (a manifest and ONE incremental
// file, as Redis 7 leaves it before its first rewrite) of about `targetBytes` of write traffic in which most of the
// data SURVIVES, so that replaying it gives a large keyspace (the cost `aof-tool rewrite` / `to-rdb` pay for).
//
// Traffic over every type in 3 dbs (uneven: 60/30/10 %): strings (binary, text, integers, 1 B .. 8 KB, a few
// 64 KB+), INCRBY counters, APPEND; small lists/hashes/sets (string and all-integer)/sorted sets/streams that
// mostly stay under 128 elements (listpack, intset in Redis), with values sometimes over 64 bytes (hashtable,
// skiplist); a few big collections per db (list, hash, set, integer set, sorted set, stream: tens of thousands
// of elements at the default size); overwrites, DEL, LPOP/LTRIM/HDEL/SREM/ZREM (no FLUSHALL/FLUSHDB); XADD with
// explicit ids (some with MAXLEN =); PEXPIREAT and SET ... PXAT far in the future (year 2100+); MULTI/EXEC
// blocks. Key names carry their type (s:, l:, h:, ...), so no command hits a key of another type.
//
// Seeded (mulberry32) and written through a fixed 4 MB buffer with fs.writeSync: reproducible, bounded memory,
// a few seconds per 100 MB.
import fs from 'node:fs';
import path from 'node:path';
import { Rng, RespWriter, makeBytePool, makePacer } from './common.mjs';

export const REPLAY_GENERATOR_VERSION = 1;
export const REPLAY_AOF_DIRNAME = 'appendonlydir';
export const REPLAY_AOF_BASENAME = 'appendonly.aof';
export const REPLAY_INCR_FILE = `${REPLAY_AOF_BASENAME}.1.incr.aof`;

const BASE_MS = 4102444800000; // 2100-01-01: a fixed clock (reproducible) and expiries stay in the future
const AVG_CMD_BYTES = 190; // measured on the generated traffic; only used to size the key spaces
const DB_WEIGHTS = [0.6, 0.3, 0.1];
// Big collections per db (db 2 has none): [type, count]
const BIG = [
  [['list', 2], ['hash', 2], ['set', 1], ['intset', 1], ['zset', 2], ['stream', 1]],
  [['list', 1], ['hash', 1], ['set', 1], ['intset', 1], ['zset', 1], ['stream', 1]],
  [],
];

/**
 * Writes `<dir>/appendonlydir/{appendonly.aof.manifest, appendonly.aof.1.incr.aof}`; `dir` must exist.
 * Returns statistics of the traffic written.
 */
export async function generateReplayAof(dir, targetBytes, { seed = 1307, onProgress } = {}) {
  const rng = new Rng(seed);
  const pool = makeBytePool(rng);
  const aofDir = path.join(dir, REPLAY_AOF_DIRNAME);
  fs.mkdirSync(aofDir, { recursive: true });
  const fd = fs.openSync(path.join(aofDir, REPLAY_INCR_FILE), 'w');
  const w = new RespWriter((chunk) => {
    let off = 0;
    while (off < chunk.length) off += fs.writeSync(fd, chunk, off, chunk.length - off);
  });
  const stats = { commands: 0, multi: 0, selects: 0, bigOps: 0, expiries: 0, largeValues: 0 };

  // Key spaces sized from the expected number of commands: strings get fewer writes than keys (most are written
  // once: overwrites happen, but most data survives), collections several writes each (they grow).
  const n = Math.max(20000, targetBytes / AVG_CMD_BYTES);
  const space = {
    s: Math.ceil(n * 0.6), c: Math.ceil(n * 0.01), l: Math.ceil(n * 0.01), h: Math.ceil(n * 0.01),
    t: Math.ceil(n * 0.006), i: Math.ceil(n * 0.005), z: Math.ceil(n * 0.01), x: Math.ceil(n * 0.004),
  };
  const smallTypes = Object.keys(space);
  const key = (p) => `${p}:${rng.int(space[p])}`;
  const totalKeys = smallTypes.reduce((a, p) => a + space[p], 0);
  /** any key, uniformly over all the key spaces (DEL and PEXPIREAT hit mostly strings, as the keys are) */
  const anyKey = () => {
    let r = rng.int(totalKeys);
    for (const p of smallTypes) {
      if (r < space[p]) return `${p}:${r}`;
      r -= space[p];
    }
    return key('s');
  };
  const bytes = (lo, hi) => {
    const len = rng.range(lo, hi);
    const off = rng.int(pool.length - len);
    return pool.subarray(off, off + len);
  };
  const text = (lo, hi) => {
    const len = rng.range(lo, hi);
    let s = `{"id":${rng.int(1e9)},"name":"user-${rng.int(1e6)}","tags":[`;
    while (s.length < len) s += `"t${rng.int(1000)}",`;
    return s.slice(0, len);
  };
  /** a string value: mostly small binary, some text, integers, medium and (rarely) large */
  const strValue = () => {
    const r = rng.int(1000);
    if (r < 550) return bytes(1, 100);
    if (r < 720) return text(20, 300);
    if (r < 850) return String(rng.range(-1e6, 1e12));
    if (r < 980) return bytes(100, 1000);
    if (r < 997) return bytes(1000, 8192);
    if (rng.chance(0.1)) {
      stats.largeValues++;
      return bytes(64 << 10, 256 << 10);
    }
    return bytes(8192, 32768);
  };
  const elem = () => (rng.chance(0.3) ? String(rng.int(1e6)) : bytes(1, 40));
  const hval = () => (rng.chance(0.05) ? bytes(65, 200) : bytes(1, 40)); // > 64 bytes: hashtable in Redis
  const zmember = () => (rng.chance(0.03) ? bytes(65, 100) : `m${rng.int(150)}`);
  const score = () => (rng.chance(0.2) ? String(rng.int(1000)) : String(rng.int(1e8) / 1000));

  let clock = BASE_MS - 86400000 * 365; // the traffic's clock (stream ids): a year before the expiries
  let streamSeq = 0;
  const streamId = () => `${clock}-${streamSeq++}`;
  const farFuture = () => BASE_MS + rng.int(86400000 * 365);
  let db = 0;
  const big = BIG.map((list) => list.flatMap(([type, count]) => Array.from({ length: count }, (_, j) => ({ type, key: `big:${type}:${j}` }))));

  const bigOp = (b) => {
    stats.bigOps++;
    const k = b.key;
    const m = rng.range(5, 15);
    const args = [];
    switch (b.type) {
      case 'list':
        if (rng.chance(0.05)) return w.cmd([rng.chance(0.5) ? 'LPOP' : 'RPOP', k, String(rng.range(1, 5))]);
        args.push(rng.chance(0.7) ? 'RPUSH' : 'LPUSH', k);
        for (let i = 0; i < m; i++) args.push(elem());
        return w.cmd(args);
      case 'hash':
        if (rng.chance(0.05)) return w.cmd(['HDEL', k, `f${rng.int(200000)}`, `f${rng.int(200000)}`]);
        args.push('HSET', k);
        for (let i = 0; i < m; i++) args.push(`f${rng.int(200000)}`, hval());
        return w.cmd(args);
      case 'set':
        if (rng.chance(0.05)) return w.cmd(['SREM', k, `member:${rng.int(200000)}`]);
        args.push('SADD', k);
        for (let i = 0; i < m; i++) args.push(`member:${rng.int(200000)}`);
        return w.cmd(args);
      case 'intset':
        args.push('SADD', k);
        for (let i = 0; i < m; i++) args.push(String(rng.int(1e9)));
        return w.cmd(args);
      case 'zset':
        if (rng.chance(0.05)) return w.cmd(['ZREM', k, `m${rng.int(200000)}`]);
        args.push('ZADD', k);
        for (let i = 0; i < m; i++) args.push(score(), `m${rng.int(200000)}`);
        return w.cmd(args);
      default: // stream: several entries per op
        for (let e = m; e > 0; e--) {
          const a = ['XADD', k, streamId()];
          for (let i = rng.range(1, 3); i > 0; i--) a.push(`f${rng.int(8)}`, bytes(1, 30));
          w.cmd(a);
        }
    }
  };

  const one = () => {
    clock += rng.int(3);
    const r = rng.int(1000);
    if (r < 280 || r >= 830) {
      const k = key('s');
      if (r >= 830) w.cmd(['SET', k, text(40, 300)]);
      else if (rng.chance(0.08)) {
        stats.expiries++;
        w.cmd(['SET', k, strValue(), 'PXAT', String(farFuture())]);
      } else w.cmd(['SET', k, strValue()]);
    } else if (r < 310) w.cmd(['INCRBY', key('c'), String(rng.range(-1000, 1000))]);
    else if (r < 325) w.cmd(['APPEND', key('s'), bytes(1, 50)]);
    else if (r < 345) w.cmd(['DEL', anyKey(), ...(rng.chance(0.3) ? [anyKey()] : [])]);
    else if (r < 425) {
      const args = [rng.chance(0.6) ? 'RPUSH' : 'LPUSH', key('l')];
      for (let i = rng.range(1, 8); i > 0; i--) args.push(elem());
      w.cmd(args);
    } else if (r < 435) w.cmd([rng.chance(0.5) ? 'LPOP' : 'RPOP', key('l')]);
    else if (r < 440) w.cmd(['LTRIM', key('l'), '0', String(rng.range(20, 100))]);
    else if (r < 520) {
      const args = ['HSET', key('h')];
      for (let i = rng.range(1, 5); i > 0; i--) args.push(`f${rng.int(80)}`, hval());
      w.cmd(args);
    } else if (r < 530) w.cmd(['HDEL', key('h'), `f${rng.int(80)}`]);
    else if (r < 540) w.cmd(['HINCRBY', key('h'), `n${rng.int(10)}`, String(rng.range(-50, 50))]);
    else if (r < 580) {
      const args = ['SADD', key('t')];
      for (let i = rng.range(1, 6); i > 0; i--) args.push(rng.chance(0.02) ? bytes(65, 100) : `w${rng.int(300)}`);
      w.cmd(args);
    } else if (r < 610) {
      const args = ['SADD', key('i')]; // all-integer members: intset in Redis
      for (let i = rng.range(1, 6); i > 0; i--) args.push(String(rng.range(-1e6, 1e9)));
      w.cmd(args);
    } else if (r < 620) {
      if (rng.chance(0.5)) w.cmd(['SREM', key('t'), `w${rng.int(300)}`]);
      else w.cmd(['SREM', key('i'), String(rng.range(-1e6, 1e9))]);
    } else if (r < 690) {
      const args = ['ZADD', key('z')];
      for (let i = rng.range(1, 5); i > 0; i--) args.push(score(), zmember());
      w.cmd(args);
    } else if (r < 700) w.cmd(['ZREM', key('z'), `m${rng.int(150)}`]);
    else if (r < 740) {
      const args = ['XADD', key('x')];
      if (rng.chance(0.1)) args.push('MAXLEN', '=', String(rng.range(5, 50)));
      args.push(streamId());
      for (let i = rng.range(1, 3); i > 0; i--) args.push(`f${rng.int(10)}`, bytes(1, 40));
      w.cmd(args);
    } else if (r < 790) {
      stats.expiries++;
      w.cmd(['PEXPIREAT', anyKey(), String(farFuture())]);
    } else if (big[db].length) bigOp(big[db][rng.int(big[db].length)]);
    else w.cmd(['SET', key('s'), strValue()]);
  };

  const pickDb = () => {
    const u = rng.u32() / 4294967296;
    let acc = 0;
    for (let d = 0; d < DB_WEIGHTS.length; d++) if (u < (acc += DB_WEIGHTS[d])) return d;
    return 0;
  };
  const select = (d) => {
    db = d;
    stats.selects++;
    w.cmd(['SELECT', String(d)]);
  };

  select(0);
  const pace = makePacer(onProgress);
  while (w.bytes < targetBytes) {
    if (rng.chance(0.01)) {
      const d = pickDb();
      if (d !== db) select(d);
    }
    if (rng.chance(0.005)) {
      stats.multi++;
      w.cmd(['MULTI']);
      for (let i = rng.range(2, 6); i > 0; i--) one();
      w.cmd(['EXEC']);
    } else one();
    await pace(w.bytes);
  }
  w.end();
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.writeFileSync(path.join(aofDir, `${REPLAY_AOF_BASENAME}.manifest`), `file ${REPLAY_INCR_FILE} seq 1 type i\n`);
  stats.commands = w.commands;
  stats.bytes = w.bytes;
  stats.dbs = DB_WEIGHTS.length;
  stats.bigCollections = big.flat().length;
  return stats;
}
