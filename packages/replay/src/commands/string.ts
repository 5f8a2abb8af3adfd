// Strings (Redis' t_string.c), bit operations (bitops.c) and HyperLogLogs (hyperloglog.c).
import { pfadd, pfcountCache, pfmerge, isHll } from '../hll.js';
import { WRONGTYPE, fail, lower } from '../keyspace.js';
import { ascii, incrByFloat, inInt64, parseDouble, parseInt64, text } from '../numbers.js';
import { type CommandContext, type CommandTable, type Handler, arity } from './context.js';
import { EX, GET, KEEPTTL, NX, PERSIST, PX, XX, dbl, expireAtMs, incrArg, int, stringOptions } from './options.js';

const MAX_STRING = 512 * 1024 * 1024;

function str(c: CommandContext, key: Uint8Array): Uint8Array | undefined {
  return c.ks.typed(c.db, key, 'string');
}

function setString(c: CommandContext, key: Uint8Array, v: Uint8Array, keepTtl = false): void {
  c.ks.setString(c.db, key, v, keepTtl);
}

/** SET key value [NX|XX] [GET] [EX|PX|EXAT|PXAT time|KEEPTTL], checked in setCommand's order. */
const SET: Handler = (c, a) => {
  arity(a, 3);
  const { flags, expire } = stringOptions(a, 'set');
  const expireAt = expire === null ? null : expireAtMs(c, expire, flags, 'set');
  // the key's type only matters to GET, NX and XX: a plain SET looks the key up once, when it stores the value
  const t = (flags & (GET | NX | XX)) !== 0 ? c.ks.typeOf(c.db, a[1]) : undefined;
  if ((flags & GET) !== 0 && t !== undefined && t !== 'string') fail(WRONGTYPE);
  if ((flags & NX) !== 0 && t !== undefined) return;
  if ((flags & XX) !== 0 && t === undefined) return;
  if (expireAt !== null) c.ks.setKey(c.db, a[1], { type: 'string', v: a[2] }, expireAt);
  else c.ks.setString(c.db, a[1], a[2], (flags & KEEPTTL) !== 0);
};

const SETNX: Handler = (c, a) => {
  arity(a, 3, true);
  if (!c.ks.exists(c.db, a[1])) setString(c, a[1], a[2]);
};

/** SETEX / PSETEX key time value: SET with EX / PX, whose error names the command as Redis spells it. */
function setex(unit: 's' | 'ms'): Handler {
  const name = unit === 's' ? 'setex' : 'psetex';
  return (c, a) => {
    arity(a, 4, true);
    const expireAt = expireAtMs(c, a[2], unit === 's' ? EX : PX, name);
    c.ks.setKey(c.db, a[1], { type: 'string', v: a[3] }, expireAt);
  };
}

const MSET: Handler = (c, a) => {
  if (a.length < 3 || a.length % 2 === 0) fail("ERR wrong number of arguments for 'mset' command");
  for (let i = 1; i < a.length; i += 2) setString(c, a[i], a[i + 1]);
};

const MSETNX: Handler = (c, a) => {
  if (a.length < 3 || a.length % 2 === 0) fail("ERR wrong number of arguments for 'msetnx' command");
  for (let i = 1; i < a.length; i += 2) if (c.ks.exists(c.db, a[i])) return;
  for (let i = 1; i < a.length; i += 2) setString(c, a[i], a[i + 1]);
};

const APPEND: Handler = (c, a) => {
  arity(a, 3, true);
  const cur = str(c, a[1]);
  if (cur === undefined) return setString(c, a[1], a[2]);
  if (cur.length + a[2].length > MAX_STRING) fail('ERR string exceeds maximum allowed size');
  const v = new Uint8Array(cur.length + a[2].length);
  v.set(cur);
  v.set(a[2], cur.length);
  setString(c, a[1], v, true);
};

const SETRANGE: Handler = (c, a) => {
  arity(a, 4, true);
  const off = int(a[2]);
  if (off < 0) fail('ERR offset is out of range');
  const cur = str(c, a[1]);
  if (a[3].length === 0) return;
  if (off + a[3].length > MAX_STRING) fail('ERR string exceeds maximum allowed size (proto-max-bulk-len)');
  const base = cur ?? new Uint8Array(0);
  const v = new Uint8Array(Math.max(base.length, off + a[3].length));
  v.set(base);
  v.set(a[3], off);
  setString(c, a[1], v, true);
};

function incrBy(c: CommandContext, key: Uint8Array, by: bigint): void {
  const cur = str(c, key);
  let n = 0n;
  if (cur !== undefined) {
    const p = parseInt64(cur);
    if (p === null) fail('ERR value is not an integer or out of range');
    n = p;
  }
  const r = n + by;
  if (!inInt64(r)) fail('ERR increment or decrement would overflow');
  setString(c, key, ascii(r.toString()), true);
}

const INCR: Handler = (c, a) => (arity(a, 2, true), incrBy(c, a[1], 1n));
const DECR: Handler = (c, a) => (arity(a, 2, true), incrBy(c, a[1], -1n));
const INCRBY: Handler = (c, a) => (arity(a, 3, true), incrBy(c, a[1], incrArg(a[2])));
const DECRBY: Handler = (c, a) => {
  arity(a, 3, true);
  const v = incrArg(a[2]);
  if (v === -(1n << 63n)) fail('ERR decrement would overflow');
  incrBy(c, a[1], -v);
};

const INCRBYFLOAT: Handler = (c, a) => {
  arity(a, 3, true);
  const r = incrByFloat(str(c, a[1]), a[2], false);
  if ('error' in r) fail(r.error);
  setString(c, a[1], r.value, true);
};

const GETSET: Handler = (c, a) => {
  arity(a, 3, true);
  str(c, a[1]);
  setString(c, a[1], a[2]);
};

const GETDEL: Handler = (c, a) => {
  arity(a, 2, true);
  if (str(c, a[1]) !== undefined) c.ks.delete(c.db, a[1]);
};

/** GETEX key [EX|PX|EXAT|PXAT time|PERSIST]: options first, then the key's type, then the time (getexCommand). */
const GETEX: Handler = (c, a) => {
  arity(a, 2);
  const { flags, expire } = stringOptions(a, 'getex');
  if (c.ks.typed(c.db, a[1], 'string') === undefined) return;
  // While loading, an EXAT/PXAT time in the past does not delete the key (it expires after the load).
  if (expire !== null) c.ks.setExpire(c.db, a[1], expireAtMs(c, expire, flags, 'getex'));
  else if ((flags & PERSIST) !== 0) c.ks.setExpire(c.db, a[1], null);
};

const SETBIT: Handler = (c, a) => {
  arity(a, 4, true);
  const off = int(a[2], 'bit offset');
  if (off < 0 || off >= 2 ** 32) fail('ERR bit offset is not an integer or out of range');
  const bit = text(a[3]);
  if (bit !== '0' && bit !== '1') fail('ERR bit is not an integer or out of range');
  const cur = str(c, a[1]) ?? new Uint8Array(0);
  const byte = off >> 3;
  const v = new Uint8Array(Math.max(cur.length, byte + 1));
  v.set(cur);
  const mask = 1 << (7 - (off & 7));
  if (bit === '1') v[byte] |= mask;
  else v[byte] &= ~mask;
  setString(c, a[1], v, true);
};

const BITOP: Handler = (c, a) => {
  arity(a, 4);
  const op = lower(a[1]);
  if (!['and', 'or', 'xor', 'not'].includes(op)) fail('ERR syntax error');
  if (op === 'not' && a.length !== 4) fail('ERR BITOP NOT must be called with a single source key.');
  const srcs = a.slice(3).map((k) => str(c, k) ?? new Uint8Array(0));
  const len = Math.max(0, ...srcs.map((s) => s.length));
  if (len === 0) return void c.ks.delete(c.db, a[2]);
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) {
    let x = srcs[0][i] ?? 0;
    if (op === 'not') x = ~x & 0xff;
    for (let j = 1; j < srcs.length; j++) {
      const y = srcs[j][i] ?? 0;
      x = op === 'and' ? x & y : op === 'or' ? x | y : x ^ y;
    }
    out[i] = x;
  }
  setString(c, a[2], out);
};

const PFADD: Handler = (c, a) => {
  arity(a, 2);
  const cur = str(c, a[1]);
  if (cur !== undefined && !isHll(cur)) fail('WRONGTYPE Key is not a valid HyperLogLog string value.');
  const next = pfadd(cur ?? null, a.slice(2), c.hllSparseMaxBytes);
  if (next !== null) setString(c, a[1], next, true);
};

const PFCOUNT: Handler = (c, a) => {
  arity(a, 2);
  if (a.length > 2) {
    for (const k of a.slice(1)) {
      const v = str(c, k);
      if (v !== undefined && !isHll(v)) fail('WRONGTYPE Key is not a valid HyperLogLog string value.');
    }
    return; // several keys: a temporary merge, nothing is stored
  }
  const cur = str(c, a[1]);
  if (cur === undefined) return;
  if (!isHll(cur)) fail('WRONGTYPE Key is not a valid HyperLogLog string value.');
  const next = pfcountCache(cur);
  if (next !== null) setString(c, a[1], next, true);
};

const PFMERGE: Handler = (c, a) => {
  arity(a, 2);
  const sources: Uint8Array[] = [];
  for (const k of a.slice(1)) {
    const v = str(c, k);
    if (v === undefined) continue;
    if (!isHll(v)) fail('WRONGTYPE Key is not a valid HyperLogLog string value.');
    sources.push(v);
  }
  setString(c, a[1], pfmerge(str(c, a[1]) ?? null, sources, c.hllSparseMaxBytes), true);
};

/** BITFIELD key [GET type offset] [SET type offset value] [INCRBY type offset increment] [OVERFLOW WRAP|SAT|FAIL]... */
const BITFIELD: Handler = (c, a) => {
  arity(a, 2);
  interface Op {
    kind: 'get' | 'set' | 'incrby';
    signed: boolean;
    bits: number;
    offset: number;
    value: bigint;
    overflow: 'wrap' | 'sat' | 'fail';
  }
  const ops: Op[] = [];
  let overflow: Op['overflow'] = 'wrap';
  for (let i = 2; i < a.length; ) {
    const sub = lower(a[i]);
    if (sub === 'overflow' && i + 1 < a.length) {
      const o = lower(a[i + 1]);
      if (o !== 'wrap' && o !== 'sat' && o !== 'fail') fail('ERR Invalid OVERFLOW type specified');
      overflow = o;
      i += 2;
      continue;
    }
    const need = sub === 'get' ? 3 : 4;
    if ((sub !== 'get' && sub !== 'set' && sub !== 'incrby') || i + need > a.length) fail('ERR syntax error');
    const t = text(a[i + 1]);
    const m = /^([iu])(\d+)$/i.exec(t);
    const bits = m ? Number(m[2]) : 0;
    const signed = m !== null && m[1].toLowerCase() === 'i';
    if (!m || bits < 1 || (signed && bits > 64) || (!signed && bits > 63)) fail('ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.');
    let ot = text(a[i + 2]);
    let mul = 1;
    if (ot.startsWith('#')) {
      mul = bits;
      ot = ot.slice(1);
    }
    if (!/^\d+$/.test(ot)) fail('ERR bit offset is not an integer or out of range');
    const offset = Number(ot) * mul;
    if (offset + bits > 512 * 1024 * 1024 * 8) fail('ERR bit offset is not an integer or out of range');
    let value = 0n;
    if (sub !== 'get') {
      const v = parseInt64(a[i + 3]);
      if (v === null) fail('ERR value is not an integer or out of range');
      value = v;
    }
    ops.push({ kind: sub, signed, bits, offset, value, overflow });
    i += need;
  }
  const writes = ops.filter((o) => o.kind !== 'get');
  const cur = str(c, a[1]);
  if (writes.length === 0) return;
  const maxByte = Math.max(...writes.map((o) => (o.offset + o.bits - 1) >> 3)) + 1;
  const buf = new Uint8Array(Math.max(cur?.length ?? 0, maxByte));
  if (cur) buf.set(cur);
  const getBits = (off: number, bits: number): bigint => {
    let v = 0n;
    for (let j = 0; j < bits; j++) {
      const bit = off + j;
      v = (v << 1n) | BigInt((buf[bit >> 3] >> (7 - (bit & 7))) & 1);
    }
    return v;
  };
  const setBits = (off: number, bits: number, v: bigint): void => {
    for (let j = bits - 1; j >= 0; j--) {
      const bit = off + j;
      const mask = 1 << (7 - (bit & 7));
      if (v & 1n) buf[bit >> 3] |= mask;
      else buf[bit >> 3] &= ~mask;
      v >>= 1n;
    }
  };
  for (const o of writes) {
    const span = 1n << BigInt(o.bits);
    const min = o.signed ? -(span >> 1n) : 0n;
    const max = o.signed ? (span >> 1n) - 1n : span - 1n;
    let v: bigint;
    if (o.kind === 'set') v = o.value;
    else {
      let old = getBits(o.offset, o.bits);
      if (o.signed && old > max) old -= span;
      v = old + o.value;
    }
    if (v < min || v > max) {
      if (o.overflow === 'fail') continue;
      if (o.overflow === 'sat') v = v < min ? min : max;
      else v = ((v % span) + span) % span;
    }
    setBits(o.offset, o.bits, ((v % span) + span) % span);
  }
  setString(c, a[1], buf, true);
};

export const STRING_COMMANDS: CommandTable = [
  ['set', SET],
  ['setnx', SETNX],
  ['setex', setex('s')],
  ['psetex', setex('ms')],
  ['mset', MSET],
  ['msetnx', MSETNX],
  ['append', APPEND],
  ['setrange', SETRANGE],
  ['incr', INCR],
  ['decr', DECR],
  ['incrby', INCRBY],
  ['decrby', DECRBY],
  ['incrbyfloat', INCRBYFLOAT],
  ['getset', GETSET],
  ['getdel', GETDEL],
  ['getex', GETEX],
  ['setbit', SETBIT],
  ['bitop', BITOP],
  ['pfadd', PFADD],
  ['pfcount', PFCOUNT],
  ['pfmerge', PFMERGE],
  ['bitfield', BITFIELD],
];
