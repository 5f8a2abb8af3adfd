import type { KeyspaceRecord } from '@redis-persist/keyspace';
import type { RedisArg, RedisClient } from '@redis-persist/testkit';

/** Commands beyond what randomTraffic sends, so every replayed command family meets a real server. */
export function extraCommands(seed: number): RedisArg[][] {
  const s = `x${seed}:`;
  const many = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i));
  return [
    ['SELECT', 3],
    ['SET', `${s}a`, '10'],
    ['SET', `${s}a`, '11', 'KEEPTTL', 'GET'],
    ['SET', `${s}b`, 'v', 'NX', 'EX', 100000000],
    ['SET', `${s}b`, 'w', 'XX', 'KEEPTTL'],
    ['SETNX', `${s}c`, 'c'],
    ['SETEX', `${s}d`, 500000000, 'd'],
    ['PSETEX', `${s}e`, 500000000000, 'e'],
    ['MSETNX', `${s}f`, 'f', `${s}g`, 'g'],
    ['MSETNX', `${s}f`, 'f2', `${s}h`, 'h'],
    ['INCRBYFLOAT', `${s}a`, '0.1'],
    ['INCRBYFLOAT', `${s}a`, '1e3'],
    ['INCR', `${s}n`],
    ['DECRBY', `${s}n`, 40],
    ['DECR', `${s}n`],
    ['GETSET', `${s}c`, 'c2'],
    ['GETDEL', `${s}g`],
    ['GETEX', `${s}d`, 'PERSIST'],
    ['GETEX', `${s}f`, 'EXAT', 4000000000],
    ['SETBIT', `${s}bits`, 100, 1],
    ['SETBIT', `${s}bits`, 7, 1],
    ['SETBIT', `${s}bits`, 100, 0],
    ['SETBIT', `${s}bits2`, 3, 1],
    ['BITOP', 'XOR', `${s}bitx`, `${s}bits`, `${s}bits2`],
    ['BITOP', 'NOT', `${s}bitn`, `${s}bits2`],
    ['PFADD', `${s}hll`, ...many(50, (i) => `e${i}`)],
    ['PFADD', `${s}hll`, 'e1'],
    ['PFADD', `${s}hll-empty`],
    ['PFADD', `${s}hll-dense`, ...many(3000, (i) => `d${i}`)],
    ['PFADD', `${s}hll-dense`, 'more', 'and-more'],
    ['PFCOUNT', `${s}hll`],
    ['PFCOUNT', `${s}hll-dense`],
    ['PFCOUNT', `${s}hll`, `${s}hll-empty`],
    ['PFADD', `${s}hll2`, ...many(20, (i) => `e${i * 3}`)],
    ['PFMERGE', `${s}hll-merged`, `${s}hll`, `${s}hll2`],
    ['PFCOUNT', `${s}hll-merged`],
    ['PFMERGE', `${s}hll2`, `${s}hll-dense`],
    ['PFMERGE', `${s}hll-none`, `${s}nothing`],
    ['BITFIELD', `${s}bf`, 'SET', 'u8', 0, 200, 'INCRBY', 'i5', 100, 1, 'GET', 'u4', 0],
    ['BITFIELD', `${s}bf`, 'OVERFLOW', 'SAT', 'INCRBY', 'u8', '#1', 300, 'OVERFLOW', 'FAIL', 'INCRBY', 'i8', 24, 1000, 'SET', 'i16', 40, -5],
    ['BITFIELD', `${s}bf`, 'OVERFLOW', 'WRAP', 'INCRBY', 'i64', 64, '9223372036854775807', 'INCRBY', 'i64', 64, 10],
    ['BITFIELD', `${s}bf-ro`, 'GET', 'u8', 0],
    ['RPUSH', `${s}l`, 'a', 'b', 'c', 'd', 'e'],
    ['RPUSHX', `${s}l`, 'f'],
    ['LPUSHX', `${s}nolist`, 'x'],
    ['LINSERT', `${s}l`, 'BEFORE', 'c', 'bb'],
    ['LREM', `${s}l`, -1, 'a'],
    ['BLMOVE', `${s}l`, `${s}l2`, 'LEFT', 'RIGHT', 0],
    ['RPOPLPUSH', `${s}l`, `${s}l`],
    ['LMPOP', 1, `${s}l`, 'RIGHT', 'COUNT', 2],
    ['BLPOP', `${s}l2`, 0],
    ['BRPOP', `${s}l`, 0],
    ['SADD', `${s}s1`, 'a', 'b', 'c', '1', '2'],
    ['SADD', `${s}s2`, 'b', 'c', 'd'],
    ['SMOVE', `${s}s1`, `${s}s3`, 'a'],
    ['SPOP', `${s}s1`],
    ['SPOP', `${s}s2`, 5],
    ['SINTERSTORE', `${s}s4`, `${s}s1`, `${s}s3`],
    ['SDIFFSTORE', `${s}s5`, `${s}s1`, `${s}s3`],
    ['ZADD', `${s}z`, 1, 'a', 2, 'b', 3, 'c', 4, 'd', '-inf', 'e', 'inf', 'f'],
    ['ZADD', `${s}z`, 'GT', 'CH', 0, 'a', 5, 'b'],
    ['ZADD', `${s}z`, 'LT', 0, 'c'],
    ['ZADD', `${s}z`, 'NX', 'INCR', 1, 'a'],
    ['ZADD', `${s}z`, 'XX', 'INCR', 1.5, 'a'],
    ['ZADD', `${s}z`, 'XX', 9, 'new'],
    ['ZADD', `${s}zl`, 0, 'a', 0, 'b', 0, 'c', 0, 'd', 0, 'e'],
    ['ZREMRANGEBYLEX', `${s}zl`, '[b', '(d'],
    ['ZRANGESTORE', `${s}zr1`, `${s}z`, 1, 3],
    ['ZRANGESTORE', `${s}zr2`, `${s}z`, '(1', 'inf', 'BYSCORE', 'LIMIT', 1, 2],
    ['ZRANGESTORE', `${s}zr3`, `${s}zl`, '+', '-', 'BYLEX', 'REV'],
    ['ZDIFFSTORE', `${s}zd`, 2, `${s}z`, `${s}zl`],
    ['ZINTERSTORE', `${s}zi`, 2, `${s}z`, `${s}s1`, 'WEIGHTS', 2, 3, 'AGGREGATE', 'MAX'],
    ['ZUNIONSTORE', `${s}zu`, 2, `${s}z`, `${s}zl`, 'WEIGHTS', 0, 1],
    ['ZPOPMAX', `${s}z`],
    ['BZPOPMIN', `${s}z`, 0],
    ['ZMPOP', 1, `${s}zl`, 'MAX', 'COUNT', 1],
    ['HSET', `${s}h`, 'a', '1', 'b', '2.5'],
    ['HINCRBYFLOAT', `${s}h`, 'b', '0.25'],
    ['HINCRBYFLOAT', `${s}h`, 'c', '3'],
    ['HSETNX', `${s}h`, 'a', 'no'],
    ['XADD', `${s}x`, 'NOMKSTREAM', '*', 'f', 'v'],
    ['XADD', `${s}x`, '1-1', 'f', 'v'],
    ['XADD', `${s}x`, '1-*', 'f', 'v'],
    ['XADD', `${s}x`, '5-0', 'f', 'v'],
    ['XADD', `${s}x`, 'MINID', '=', '1-2', '6-0', 'f', 'v'],
    ['XADD', `${s}x`, 'MAXLEN', '~', '1', '*', 'f', 'v'],
    ['XGROUP', 'CREATE', `${s}x`, 'g1', '0'],
    ['XGROUP', 'CREATE', `${s}x`, 'g2', '$', 'ENTRIESREAD', 2],
    ['XREADGROUP', 'GROUP', 'g1', 'alice', 'COUNT', 2, 'STREAMS', `${s}x`, '>'],
    ['XREADGROUP', 'GROUP', 'g1', 'bob', 'STREAMS', `${s}x`, '>'],
    ['XAUTOCLAIM', `${s}x`, 'g1', 'carol', 0, '0-0', 'COUNT', 1],
    ['XCLAIM', `${s}x`, 'g1', 'dave', 0, '6-0', 'RETRYCOUNT', 7],
    ['XACK', `${s}x`, 'g1', '5-0'],
    ['XDEL', `${s}x`, '6-0'],
    ['XAUTOCLAIM', `${s}x`, 'g1', 'erin', 0, '0-0'],
    ['XGROUP', 'CREATE', `${s}x`, 'g3', '0'],
    ['XGROUP', 'DESTROY', `${s}x`, 'g3'],
    ['XSETID', `${s}x`, '99-0', 'ENTRIESADDED', 50, 'MAXDELETEDID', '7-0'],
    ['XGROUP', 'CREATE', `${s}empty`, 'g', '$', 'MKSTREAM'],
    ['XADD', `${s}trim`, '1-0', 'a', '1'],
    ['XADD', `${s}trim`, '2-0', 'a', '2'],
    ['XTRIM', `${s}trim`, 'MAXLEN', 0],
    // SORT ... STORE: numeric, ALPHA, BY weights and hash fields, GET, LIMIT, DESC, nosort, errors.
    ['RPUSH', `${s}sl`, '3', '10', '-1.5', '2e1', '10', ' 7', 'inf', '0', ''],
    ['SADD', `${s}ss`, 'pear', 'apple', 'fig', 'kiwi', 'date'],
    ['ZADD', `${s}sz`, 3, 'c', 1, 'a', 2, 'b', 2, 'bb'],
    ['MSET', `${s}w_pear`, '5', `${s}w_apple`, '1', `${s}w_fig`, 'x9', `${s}w_kiwi`, '6', `${s}w_date`, '7'],
    ['HSET', `${s}o_pear`, 'n', 'P', 'rank', '2'],
    ['HSET', `${s}o_fig`, 'n', 'F', 'rank', '1'],
    ['SORT', `${s}sl`, 'STORE', `${s}so1`],
    ['SORT', `${s}sl`, 'DESC', 'LIMIT', 1, 4, 'STORE', `${s}so2`],
    ['SORT', `${s}sl`, 'ALPHA', 'STORE', `${s}so3`],
    ['SORT', `${s}ss`, 'STORE', `${s}so4`],
    ['SORT', `${s}ss`, 'ALPHA', 'DESC', 'STORE', `${s}so5`],
    ['SORT', `${s}ss`, 'BY', `${s}w_*`, 'STORE', `${s}so6`],
    ['SORT', `${s}ss`, 'BY', `${s}w_*`, 'ALPHA', 'GET', '#', 'GET', `${s}o_*->n`, 'GET', `${s}w_*`, 'STORE', `${s}so7`],
    ['SORT', `${s}ss`, 'BY', `${s}o_*->rank`, 'GET', `${s}o_*->n`, 'LIMIT', 0, 2, 'STORE', `${s}so8`],
    ['SORT', `${s}ss`, 'BY', 'nosort', 'STORE', `${s}so9`],
    ['SORT', `${s}sz`, 'BY', 'nosort', 'DESC', 'LIMIT', 1, 2, 'STORE', `${s}so10`],
    ['SORT', `${s}sl`, 'BY', 'nosort', 'DESC', 'LIMIT', 2, 3, 'GET', '#', 'GET', 'const', 'STORE', `${s}so11`],
    ['SORT', `${s}sz`, 'ALPHA', 'STORE', `${s}sz`],
    ['SORT', `${s}missing`, 'STORE', `${s}so1`],
    ['SORT', `${s}sl`, 'LIMIT', 50, 2, 'STORE', `${s}so2`],
    ['SORT', `${s}sl`, 'STORE'],
    ['SORT', `${s}h`, 'STORE', `${s}so3`],
    // Geo searches that store (STORE keeps geohash scores, STOREDIST distances).
    ['GEOADD', `${s}geo`, ...geoPoints(seed)],
    ['GEOSEARCHSTORE', `${s}gs1`, `${s}geo`, 'FROMLONLAT', 13.4, 52.5, 'BYRADIUS', 300, 'km'],
    ['GEOSEARCHSTORE', `${s}gs2`, `${s}geo`, 'FROMMEMBER', 'p3', 'BYBOX', 800, 500, 'km', 'DESC', 'COUNT', 5],
    ['GEOSEARCHSTORE', `${s}gs3`, `${s}geo`, 'FROMLONLAT', 2.35, 48.85, 'BYRADIUS', 900, 'mi', 'STOREDIST'],
    ['GEOSEARCHSTORE', `${s}gs4`, `${s}geo`, 'FROMMEMBER', 'p7', 'BYBOX', 2000, 2000, 'km', 'ASC', 'COUNT', 3, 'STOREDIST'],
    ['GEORADIUS', `${s}geo`, -0.12, 51.5, 1000, 'km', 'STORE', `${s}gr1`],
    ['GEORADIUS', `${s}geo`, -0.12, 51.5, 2000000, 'ft', 'COUNT', 4, 'STOREDIST', `${s}gr2`],
    ['GEORADIUSBYMEMBER', `${s}geo`, 'p1', 700, 'km', 'DESC', 'STORE', `${s}gr3`],
    ['GEOSEARCHSTORE', `${s}gs1`, `${s}geo`, 'FROMLONLAT', 170, -80, 'BYRADIUS', 1, 'm'],
    ['GEOSEARCHSTORE', `${s}gs5`, `${s}nogeo`, 'FROMMEMBER', 'x', 'BYRADIUS', 1, 'm'],
    ['EXPIRE', `${s}a`, 900000000, 'NX'],
    ['EXPIRE', `${s}a`, 800000000, 'GT'],
    ['PEXPIRE', `${s}a`, 700000000000, 'LT'],
    ['EXPIRE', `${s}c`, 900000000, 'XX'],
    ['COPY', `${s}z`, `${s}z-copy`, 'DB', 4],
    ['COPY', `${s}h`, `${s}h`, 'DB', 5],
    ['RENAMENX', `${s}h`, `${s}a`],
    ['RENAMENX', `${s}h`, `${s}h-renamed`],
    ['MOVE', `${s}f`, 4],
    ['SWAPDB', 3, 5],
    ['UNLINK', `${s}e`],
    ['FUNCTION', 'LOAD', `#!lua name=tmp${seed}\nredis.register_function('t${seed}', function() return 1 end)`],
    ['FUNCTION', 'LOAD', 'REPLACE', `#!lua name=tmp${seed}\nredis.register_function('t${seed}', function() return 2 end)`],
    ['FUNCTION', 'LOAD', `#!lua name=keep${seed}\nredis.register_function('k${seed}', function() return 3 end)`],
    ['FUNCTION', 'DELETE', `tmp${seed}`],
    ['SELECT', 0],
  ];
}

/** GEOADD arguments: 40 points around Europe, different for each seed. */
function geoPoints(seed: number): (string | number)[] {
  const out: (string | number)[] = [];
  let x = seed * 7919 + 17;
  const next = (): number => {
    x = (x * 48271) % 2147483647;
    return x / 2147483647;
  };
  for (let i = 0; i < 40; i++) out.push((-10 + next() * 40).toFixed(6), (36 + next() * 24).toFixed(6), `p${i}`);
  return out;
}

/** Sends the commands (errors are part of the traffic) and makes a DUMP/RESTORE pair. */
export async function sendExtras(c: RedisClient, seed: number): Promise<void> {
  await c.pipeline(extraCommands(seed));
  await c.call('SELECT', 5);
  const dump = await c.callBuffer('DUMP', `x${seed}:z`);
  if (dump) {
    await c.call('RESTORE', `x${seed}:restored`, 0, dump);
    await c.call('RESTORE', `x${seed}:restored`, 600000000000, dump, 'REPLACE');
  }
  await c.call('SELECT', 0);
  // FUNCTION RESTORE with each policy (APPEND collides: an error, part of the traffic).
  const functions = await c.callBuffer('FUNCTION', 'DUMP');
  if (functions) {
    await c.pipeline([
      ['FUNCTION', 'RESTORE', functions],
      ['FUNCTION', 'DELETE', `keep${seed}`],
      ['FUNCTION', 'RESTORE', functions, 'REPLACE'],
      ['FUNCTION', 'LOAD', `#!lua name=gone${seed}\nredis.register_function('g${seed}', function() return 4 end)`],
      ...(seed % 2 === 0 ? [['FUNCTION', 'RESTORE', functions, 'FLUSH']] : []),
    ]);
  }
}

export async function collect(it: AsyncIterable<KeyspaceRecord> | Iterable<KeyspaceRecord>): Promise<KeyspaceRecord[]> {
  const out: KeyspaceRecord[] = [];
  for await (const r of it) out.push(r);
  return out;
}
