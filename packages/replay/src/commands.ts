// The write commands an AOF can hold, applied to a ReplayKeyspace. Each handler either changes the keyspace
// as Redis would, or throws CommandFailed (Redis answered an error and changed nothing).
import type { FunctionRecord } from '@redis-persist/keyspace';
import { DONE, RdbParser } from '@redis-persist/rdb';
import { RdbFormatError, parseFunctionLibraryHeader } from '@redis-persist/rdb-format';
import { decodeDumpPayload, splitDumpPayload } from '@redis-persist/rdb-writer';
import { BytesMap } from './bytes-map.js';
import { ByteColumn } from './column.js';
import { pfadd, pfcountCache, pfmerge, isHll } from './hll.js';
import { type ReplayKeyspace, CommandFailed, WRONGTYPE, fail, lower } from './keyspace.js';
import {
  type GroupState,
  type HashValue,
  type SetValue,
  type ZsetValue,
  StreamState,
  SEQ_BITS,
  SEQ_MASK,
  MAX_ID,
  newHash,
  newSet,
  newZset,
  own,
} from './model.js';
import { zsetDelete, zsetOrder, zsetPut, zsetRankRange } from './zset-order.js';
import { ascii, formatFloatResult, inInt64, parseDouble, parseInt64, parseIntArg, text } from './numbers.js';

export interface CommandContext {
  ks: ReplayKeyspace;
  db: number;
  /** Unix ms used for relative times (EXPIRE, SETEX, XCLAIM IDLE...). */
  now: number;
  hllSparseMaxBytes: number;
}

type Handler = (c: CommandContext, a: Uint8Array[]) => void;

const MAX_STRING = 512 * 1024 * 1024;

function arity(a: Uint8Array[], min: number, exact = false): void {
  if (a.length < min || (exact && a.length !== min)) fail(`ERR wrong number of arguments for '${text(a[0])}' command`);
}

function int(b: Uint8Array, what = 'value'): number {
  const v = parseIntArg(b);
  if (v === null) fail(`ERR ${what} is not an integer or out of range`);
  return v;
}

function dbl(b: Uint8Array): number {
  const v = parseDouble(b);
  if (v === null) fail('ERR value is not a valid float');
  return v;
}

function dbIndex(b: Uint8Array): number {
  const v = parseIntArg(b);
  if (v === null || v < 0) fail('ERR DB index is out of range');
  return v;
}

// ---------------------------------------------------------------------------------------------------------------
// Generic / keyspace

function expireArg(c: CommandContext, unit: 's' | 'ms', absolute: boolean, b: Uint8Array): number {
  const v = int(b);
  const ms = unit === 's' ? v * 1000 : v;
  return absolute ? ms : c.now + ms;
}

function expireGeneric(unit: 's' | 'ms', absolute: boolean): Handler {
  return (c, a) => {
    arity(a, 3);
    const when = expireArg(c, unit, absolute, a[2]);
    let nx = false, xx = false, gt = false, lt = false;
    for (let i = 3; i < a.length; i++) {
      const s = lower(a[i]);
      if (s === 'nx') nx = true;
      else if (s === 'xx') xx = true;
      else if (s === 'gt') gt = true;
      else if (s === 'lt') lt = true;
      else fail(`ERR Unsupported option ${text(a[i])}`);
    }
    const cur = c.ks.expireOf(c.db, a[1]);
    if (cur === undefined) return;
    if (nx && cur !== null) return;
    if (xx && cur === null) return;
    if (gt && (cur === null || when <= cur)) return;
    if (lt && cur !== null && when >= cur) return;
    // While loading, a time in the past does not delete the key (it expires after the load).
    c.ks.setExpire(c.db, a[1], when);
  };
}

const DEL: Handler = (c, a) => {
  arity(a, 2);
  for (let i = 1; i < a.length; i++) c.ks.delete(c.db, a[i]);
};

function rename(nx: boolean): Handler {
  return (c, a) => {
    arity(a, 3, true);
    if (!c.ks.exists(c.db, a[1])) fail('ERR no such key');
    if (nx && c.ks.exists(c.db, a[2])) return;
    if (Buffer.compare(a[1], a[2]) === 0) return;
    const t = c.ks.take(c.db, a[1])!;
    c.ks.setKey(c.db, a[2], t.value, t.expireAt);
  };
}

const COPY: Handler = (c, a) => {
  arity(a, 3);
  let dst = c.db;
  let replace = false;
  for (let i = 3; i < a.length; i++) {
    const s = lower(a[i]);
    if (s === 'replace') replace = true;
    else if (s === 'db' && i + 1 < a.length) dst = dbIndex(a[++i]);
    else fail('ERR syntax error');
  }
  if (dst === c.db && Buffer.compare(a[1], a[2]) === 0) fail('ERR source and destination objects are the same');
  const v = c.ks.value(c.db, a[1]);
  if (v === undefined) return;
  if (c.ks.exists(dst, a[2]) && !replace) return;
  c.ks.setKey(dst, a[2], c.ks.copyValue(v), c.ks.expireOf(c.db, a[1])!);
};

const MOVE: Handler = (c, a) => {
  arity(a, 3, true);
  const dst = dbIndex(a[2]);
  if (dst === c.db) fail('ERR source and destination objects are the same');
  if (!c.ks.exists(c.db, a[1]) || c.ks.exists(dst, a[1])) return;
  const t = c.ks.take(c.db, a[1])!;
  c.ks.setKey(dst, a[1], t.value, t.expireAt);
};

const SWAPDB: Handler = (c, a) => {
  arity(a, 3, true);
  const x = dbIndex(a[1]);
  const y = dbIndex(a[2]);
  const dx = c.ks.db(x);
  const dy = c.ks.db(y);
  c.ks.dbs.set(x, dy);
  c.ks.dbs.set(y, dx);
};

const FLUSHDB: Handler = (c) => {
  c.ks.dbs.delete(c.db);
};

const FLUSHALL: Handler = (c) => {
  c.ks.flushAll();
};

const PERSIST: Handler = (c, a) => {
  arity(a, 2, true);
  if (c.ks.expireOf(c.db, a[1]) !== undefined) c.ks.setExpire(c.db, a[1], null);
};

// ---------------------------------------------------------------------------------------------------------------
// Strings

function str(c: CommandContext, key: Uint8Array): Uint8Array | undefined {
  return c.ks.typed(c.db, key, 'string');
}

function setString(c: CommandContext, key: Uint8Array, v: Uint8Array, keepTtl = false): void {
  c.ks.setString(c.db, key, v, keepTtl);
}

const SET: Handler = (c, a) => {
  arity(a, 3);
  let nx = false, xx = false, keepTtl = false;
  let expireAt: number | null = null;
  for (let i = 3; i < a.length; i++) {
    const s = lower(a[i]);
    if (s === 'nx') nx = true;
    else if (s === 'xx') xx = true;
    else if (s === 'get') continue;
    else if (s === 'keepttl') keepTtl = true;
    else if ((s === 'ex' || s === 'px' || s === 'exat' || s === 'pxat') && i + 1 < a.length) {
      const v = int(a[++i]);
      if (v <= 0) fail(`ERR invalid expire time in 'set' command`);
      expireAt = s === 'ex' ? c.now + v * 1000 : s === 'px' ? c.now + v : s === 'exat' ? v * 1000 : v;
    } else fail('ERR syntax error');
  }
  if ((nx && xx) || (keepTtl && expireAt !== null)) fail('ERR syntax error');
  const t = c.ks.typeOf(c.db, a[1]);
  if (a.some((x, i) => i >= 3 && lower(x) === 'get')) {
    if (t !== undefined && t !== 'string') fail(WRONGTYPE);
  }
  if (nx && t !== undefined) return;
  if (xx && t === undefined) return;
  if (expireAt !== null) c.ks.setKey(c.db, a[1], { type: 'string', v: a[2] }, expireAt);
  else c.ks.setString(c.db, a[1], a[2], keepTtl);
};

const SETNX: Handler = (c, a) => {
  arity(a, 3, true);
  if (!c.ks.exists(c.db, a[1])) setString(c, a[1], a[2]);
};

function setex(unit: 's' | 'ms'): Handler {
  return (c, a) => {
    arity(a, 4, true);
    const v = int(a[2]);
    if (v <= 0) fail(`ERR invalid expire time in '${text(a[0])}' command`);
    c.ks.setKey(c.db, a[1], { type: 'string', v: a[3] }, c.now + (unit === 's' ? v * 1000 : v));
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

function incrArg(b: Uint8Array): bigint {
  const v = parseInt64(b);
  if (v === null) fail('ERR value is not an integer or out of range');
  return v;
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
  const cur = str(c, a[1]);
  const base = cur === undefined ? 0 : parseDouble(cur);
  if (base === null) fail('ERR value is not a valid float');
  const r = base + dbl(a[2]);
  if (!Number.isFinite(r)) fail('ERR increment would produce NaN or Infinity');
  setString(c, a[1], ascii(formatFloatResult(r)), true);
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

const GETEX: Handler = (c, a) => {
  arity(a, 2);
  const e = c.ks.typed(c.db, a[1], 'string');
  let expireAt: number | null | undefined;
  for (let i = 2; i < a.length; i++) {
    const s = lower(a[i]);
    if (s === 'persist') expireAt = null;
    else if ((s === 'ex' || s === 'px' || s === 'exat' || s === 'pxat') && i + 1 < a.length) {
      const v = int(a[++i]);
      if (v <= 0) fail(`ERR invalid expire time in 'getex' command`);
      expireAt = s === 'ex' ? c.now + v * 1000 : s === 'px' ? c.now + v : s === 'exat' ? v * 1000 : v;
    } else fail('ERR syntax error');
  }
  if (e !== undefined && expireAt !== undefined) c.ks.setExpire(c.db, a[1], expireAt);
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

// ---------------------------------------------------------------------------------------------------------------
// Lists

function list(c: CommandContext, key: Uint8Array): ByteColumn | undefined {
  return c.ks.typed(c.db, key, 'list');
}

function push(left: boolean, onlyIfExists: boolean): Handler {
  return (c, a) => {
    arity(a, 3);
    let l = list(c, a[1]);
    if (l === undefined) {
      if (onlyIfExists) return;
      l = new ByteColumn(a.length - 2);
      c.ks.setKey(c.db, a[1], { type: 'list', v: l });
    }
    for (let i = 2; i < a.length; i++) {
      if (left) l.unshift(a[i]);
      else l.push(a[i]);
    }
  };
}

function normIndex(i: number, len: number): number {
  return i < 0 ? len + i : i;
}

const LINSERT: Handler = (c, a) => {
  arity(a, 5, true);
  const w = lower(a[2]);
  if (w !== 'before' && w !== 'after') fail('ERR syntax error');
  const l = list(c, a[1]);
  if (l === undefined) return;
  const i = l.indexOf(a[3]);
  if (i < 0) return;
  l.insert(w === 'before' ? i : i + 1, a[4]);
};

const LSET: Handler = (c, a) => {
  arity(a, 4, true);
  const l = list(c, a[1]);
  if (l === undefined) fail('ERR no such key');
  const i = normIndex(int(a[2]), l.length);
  if (i < 0 || i >= l.length) fail('ERR index out of range');
  l.set(i, a[3]);
};

const LREM: Handler = (c, a) => {
  arity(a, 4, true);
  const count = int(a[2]);
  const l = list(c, a[1]);
  if (l === undefined) return;
  const want = count === 0 ? Infinity : Math.abs(count);
  const doomed: number[] = [];
  if (count >= 0) {
    for (let i = 0; i < l.length && doomed.length < want; i++) if (l.equalsAt(i, a[3])) doomed.push(i);
  } else {
    for (let i = l.length - 1; i >= 0 && doomed.length < want; i--) if (l.equalsAt(i, a[3])) doomed.push(i);
    doomed.reverse();
  }
  l.removeSorted(doomed);
  c.ks.dropIfEmpty(c.db, a[1]);
};

const LTRIM: Handler = (c, a) => {
  arity(a, 4, true);
  let start = int(a[2]);
  let end = int(a[3]);
  const l = list(c, a[1]);
  if (l === undefined) return;
  const len = l.length;
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (start > end || start >= len) l.remove(0, len);
  else {
    if (end >= len) end = len - 1;
    l.remove(end + 1, len - end - 1);
    l.remove(0, start);
  }
  c.ks.dropIfEmpty(c.db, a[1]);
};

function pop(left: boolean): Handler {
  return (c, a) => {
    arity(a, 2);
    if (a.length > 3) fail('ERR syntax error');
    let count = 1;
    if (a.length === 3) {
      count = int(a[2]);
      if (count < 0) fail('ERR value is out of range, must be positive');
    }
    const l = list(c, a[1]);
    if (l === undefined) return;
    const k = Math.min(count, l.length);
    if (left) l.remove(0, k);
    else l.remove(l.length - k, k);
    c.ks.dropIfEmpty(c.db, a[1]);
  };
}

function lmove(c: CommandContext, src: Uint8Array, dst: Uint8Array, from: string, to: string): void {
  const s = list(c, src);
  if (s === undefined || s.length === 0) return;
  const d = list(c, dst);
  const at = from === 'left' ? 0 : s.length - 1;
  const v = s.get(at); // a snapshot: stays valid after the removal
  s.remove(at, 1);
  let target = d;
  if (target === undefined) {
    target = new ByteColumn(1);
    c.ks.setKey(c.db, dst, { type: 'list', v: target });
  }
  if (to === 'left') target.unshift(v);
  else target.push(v);
  c.ks.dropIfEmpty(c.db, src);
}

function whereArg(b: Uint8Array): string {
  const s = lower(b);
  if (s !== 'left' && s !== 'right') fail('ERR syntax error');
  return s;
}

const LMOVE: Handler = (c, a) => {
  arity(a, 5);
  lmove(c, a[1], a[2], whereArg(a[3]), whereArg(a[4]));
};
const RPOPLPUSH: Handler = (c, a) => {
  arity(a, 3);
  lmove(c, a[1], a[2], 'right', 'left');
};

// ---------------------------------------------------------------------------------------------------------------
// Sets

function set(c: CommandContext, key: Uint8Array): SetValue | undefined {
  return c.ks.typed(c.db, key, 'set');
}

const SADD: Handler = (c, a) => {
  arity(a, 3);
  let s = set(c, a[1]);
  if (s === undefined) {
    s = newSet(a.length - 2);
    c.ks.setKey(c.db, a[1], { type: 'set', v: s });
  }
  for (let i = 2; i < a.length; i++) s.add(a[i]);
};

const SREM: Handler = (c, a) => {
  arity(a, 3);
  const s = set(c, a[1]);
  if (s === undefined) return;
  for (let i = 2; i < a.length; i++) s.delete(a[i]);
  c.ks.dropIfEmpty(c.db, a[1]);
};

const SMOVE: Handler = (c, a) => {
  arity(a, 4, true);
  const s = set(c, a[1]);
  const d = set(c, a[2]);
  if (s === undefined || !s.has(a[3])) return;
  if (s === d) return;
  s.delete(a[3]);
  c.ks.dropIfEmpty(c.db, a[1]);
  if (d === undefined) {
    const n = newSet(1);
    n.add(a[3]);
    c.ks.setKey(c.db, a[2], { type: 'set', v: n });
  } else d.add(a[3]);
};

function setOp(op: 'inter' | 'union' | 'diff'): Handler {
  return (c, a) => {
    arity(a, 3);
    const srcs = a.slice(2).map((k) => set(c, k));
    const out = newSet();
    if (op === 'union') {
      for (const s of srcs) if (s) for (let i = 0; i < s.size; i++) out.add(s.keys.get(i));
    } else if (op === 'diff') {
      const first = srcs[0];
      if (first)
        for (let i = 0; i < first.size; i++) {
          const m = first.keys.get(i);
          let found = false;
          for (let j = 1; j < srcs.length && !found; j++) found = srcs[j]?.has(m) ?? false;
          if (!found) out.add(m);
        }
    } else if (srcs.every((s) => s !== undefined)) {
      const sorted = (srcs as SetValue[]).slice().sort((x, y) => x.size - y.size);
      const first = sorted[0];
      for (let i = 0; i < first.size; i++) {
        const m = first.keys.get(i);
        if (sorted.every((s) => s.has(m))) out.add(m);
      }
    }
    if (out.size === 0) c.ks.delete(c.db, a[1]);
    else c.ks.setKey(c.db, a[1], { type: 'set', v: out });
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Sorted sets

function zset(c: CommandContext, key: Uint8Array): ZsetValue | undefined {
  return c.ks.typed(c.db, key, 'zset');
}

function zsetOrCreate(c: CommandContext, key: Uint8Array, capacity = 0): ZsetValue {
  let z = zset(c, key);
  if (z === undefined) {
    z = newZset(capacity);
    c.ks.setKey(c.db, key, { type: 'zset', v: z });
  }
  return z;
}

const ZADD: Handler = (c, a) => {
  arity(a, 4);
  let i = 2;
  let nx = false, xx = false, gt = false, lt = false, incr = false;
  for (; i < a.length; i++) {
    const s = lower(a[i]);
    if (s === 'nx') nx = true;
    else if (s === 'xx') xx = true;
    else if (s === 'gt') gt = true;
    else if (s === 'lt') lt = true;
    else if (s === 'ch') continue;
    else if (s === 'incr') incr = true;
    else break;
  }
  const rest = a.length - i;
  if (rest === 0 || rest % 2 !== 0) fail('ERR syntax error');
  if (nx && xx) fail('ERR XX and NX options at the same time are not compatible');
  if ((gt && nx) || (lt && nx) || (gt && lt)) fail('ERR GT, LT, and/or NX options at the same time are not compatible');
  if (incr && rest > 2) fail('ERR INCR option supports a single increment-element pair');
  const scores: number[] = [];
  for (let j = i; j < a.length; j += 2) {
    const s = parseDouble(a[j]);
    if (s === null) fail('ERR value is not a valid float');
    scores.push(s);
  }
  const existing = zset(c, a[1]);
  if (existing === undefined && xx) return;
  if (incr && existing !== undefined) {
    const k = existing.indexOf(a[i + 1]);
    if (k >= 0 && !nx && Number.isNaN(existing.nums![k] + scores[0])) fail('ERR resulting score is not a number (NaN)');
  }
  const z = existing ?? zsetOrCreate(c, a[1], rest / 2);
  for (let p = 0; p < scores.length; p++) {
    const score = scores[p];
    const m = a[i + 2 * p + 1];
    const k = z.indexOf(m);
    if (k >= 0) {
      if (nx) continue;
      const cur = z.nums![k];
      const ns = incr ? cur + score : score;
      if ((gt && ns <= cur) || (lt && ns >= cur)) continue;
      zsetPut(z, m, ns);
    } else {
      if (xx) continue;
      zsetPut(z, m, score);
    }
  }
  c.ks.dropIfEmpty(c.db, a[1]);
};

const ZINCRBY: Handler = (c, a) => {
  arity(a, 4, true);
  const by = dbl(a[2]);
  const z = zset(c, a[1]);
  const k = z?.indexOf(a[3]) ?? -1;
  const ns = k < 0 ? by : z!.nums![k] + by;
  if (Number.isNaN(ns)) fail('ERR resulting score is not a number (NaN)');
  const zz = zsetOrCreate(c, a[1], 1);
  zsetPut(zz, a[3], ns);
};

const ZREM: Handler = (c, a) => {
  arity(a, 3);
  const z = zset(c, a[1]);
  if (z === undefined) return;
  for (let i = 2; i < a.length; i++) zsetDelete(z, a[i]);
  c.ks.dropIfEmpty(c.db, a[1]);
};

interface ScoreBound {
  v: number;
  excl: boolean;
}

function scoreBound(b: Uint8Array): ScoreBound {
  let s = text(b);
  let excl = false;
  if (s.startsWith('(')) {
    excl = true;
    s = s.slice(1);
  }
  const v = parseDouble(ascii(s));
  if (v === null) fail('ERR min or max is not a float');
  return { v, excl };
}

function inScore(x: number, min: ScoreBound, max: ScoreBound): boolean {
  return (min.excl ? x > min.v : x >= min.v) && (max.excl ? x < max.v : x <= max.v);
}

interface LexBound {
  v: Uint8Array | null; // null = infinite
  inf: -1 | 1 | 0;
  excl: boolean;
}

function lexBound(b: Uint8Array): LexBound {
  if (b.length === 1 && b[0] === 0x2d) return { v: null, inf: -1, excl: false };
  if (b.length === 1 && b[0] === 0x2b) return { v: null, inf: 1, excl: false };
  if (b[0] === 0x28) return { v: b.subarray(1), inf: 0, excl: true };
  if (b[0] === 0x5b) return { v: b.subarray(1), inf: 0, excl: false };
  fail('ERR min or max not valid string range item');
}

/** Whether member i of z lies within [min, max] in lex order. */
function inLex(z: ZsetValue, i: number, min: LexBound, max: LexBound): boolean {
  if (min.inf === 1 || max.inf === -1) return false;
  if (min.inf === 0) {
    const c = z.keys.compareAt(i, min.v!);
    if (min.excl ? c <= 0 : c < 0) return false;
  }
  if (max.inf === 0) {
    const c = z.keys.compareAt(i, max.v!);
    if (max.excl ? c >= 0 : c > 0) return false;
  }
  return true;
}

/** Deletes the members at indexes `doomed` (indexes shift as members go, so members are looked up by bytes). */
function deleteMembers(z: ZsetValue, doomed: number[]): void {
  const members = doomed.map((i) => z.keys.get(i)); // snapshots: valid after deletions
  for (const m of members) zsetDelete(z, m);
}

function zremRange(kind: 'score' | 'rank' | 'lex'): Handler {
  return (c, a) => {
    arity(a, 4, true);
    let pick: (z: ZsetValue) => number[];
    if (kind === 'score') {
      const min = scoreBound(a[2]);
      const max = scoreBound(a[3]);
      pick = (z) => zsetOrder(z).filter((i) => inScore(z.nums![i], min, max));
    } else if (kind === 'lex') {
      const min = lexBound(a[2]);
      const max = lexBound(a[3]);
      pick = (z) => zsetOrder(z).filter((i) => inLex(z, i, min, max));
    } else {
      const start0 = int(a[2]);
      const end0 = int(a[3]);
      pick = (z) => {
        const len = z.size;
        let start = start0 < 0 ? len + start0 : start0;
        let end = end0 < 0 ? len + end0 : end0;
        if (start < 0) start = 0;
        if (end >= len) end = len - 1;
        return zsetRankRange(z, start, end);
      };
    }
    const z = zset(c, a[1]);
    if (z === undefined) return;
    deleteMembers(z, pick(z));
    c.ks.dropIfEmpty(c.db, a[1]);
  };
}

function zpop(max: boolean): Handler {
  return (c, a) => {
    arity(a, 2);
    let count = 1;
    if (a.length === 3) {
      count = int(a[2]);
      if (count < 0) fail('ERR value is out of range, must be positive');
    } else if (a.length > 3) fail('ERR syntax error');
    const z = zset(c, a[1]);
    if (z === undefined) return;
    const len = z.size;
    const k = Math.min(count, len);
    deleteMembers(z, max ? zsetRankRange(z, len - k, len - 1) : zsetRankRange(z, 0, k - 1));
    c.ks.dropIfEmpty(c.db, a[1]);
  };
}

const GEO_LAT_LIMIT = 85.05112878;

/** The 52-bit geohash Redis stores as a GEOADD member's score (geohashEncodeWGS84, step 26). */
export function geohashScore(lon: number, lat: number): number {
  const latOff = Math.trunc(((lat + GEO_LAT_LIMIT) / (2 * GEO_LAT_LIMIT)) * 2 ** 26);
  const lonOff = Math.trunc(((lon + 180) / 360) * 2 ** 26);
  let bits = 0;
  for (let i = 0; i < 32; i++) {
    if (Math.floor(latOff / 2 ** i) % 2 === 1) bits += 2 ** (2 * i);
    if (Math.floor(lonOff / 2 ** i) % 2 === 1) bits += 2 ** (2 * i + 1);
  }
  return bits;
}

/** GEOADD key [NX|XX] [CH] lon lat member...: a ZADD of geohash scores (which is how Redis propagates it). */
const GEOADD: Handler = (c, a) => {
  arity(a, 5);
  let i = 2;
  const flags: Uint8Array[] = [];
  for (; i < a.length; i++) {
    const s = lower(a[i]);
    if (s === 'nx' || s === 'xx' || s === 'ch') flags.push(a[i]);
    else break;
  }
  if ((a.length - i) % 3 !== 0 || a.length === i) fail('ERR syntax error');
  const zargs: Uint8Array[] = [ascii('ZADD'), a[1], ...flags];
  for (; i < a.length; i += 3) {
    const lon = parseDouble(a[i]);
    const lat = parseDouble(a[i + 1]);
    if (lon === null || lat === null) fail('ERR value is not a valid float');
    if (lon < -180 || lon > 180 || lat < -GEO_LAT_LIMIT || lat > GEO_LAT_LIMIT) fail(`ERR invalid longitude,latitude pair ${lon},${lat}`);
    zargs.push(ascii(String(geohashScore(lon, lat))), a[i + 2]);
  }
  ZADD(c, zargs);
};

const EARTH_RADIUS_M = 6372797.560856;
const DEG_TO_RAD = Math.PI / 180;

/** The position a 52-bit geohash score stands for: the centre of its cell (geohashDecodeToLongLatWGS84). */
function geohashPosition(score: number): [number, number] {
  let lat = 0;
  let lon = 0;
  let bits = score;
  for (let i = 0; i < 26; i++) {
    if (bits % 2 === 1) lat += 2 ** i;
    bits = Math.floor(bits / 2);
    if (bits % 2 === 1) lon += 2 ** i;
    bits = Math.floor(bits / 2);
  }
  const latMin = -GEO_LAT_LIMIT + (lat / 2 ** 26) * (2 * GEO_LAT_LIMIT);
  const latMax = -GEO_LAT_LIMIT + ((lat + 1) / 2 ** 26) * (2 * GEO_LAT_LIMIT);
  const lonMin = -180 + (lon / 2 ** 26) * 360;
  const lonMax = -180 + ((lon + 1) / 2 ** 26) * 360;
  const x = Math.min(180, Math.max(-180, (lonMin + lonMax) / 2));
  const y = Math.min(GEO_LAT_LIMIT, Math.max(-GEO_LAT_LIMIT, (latMin + latMax) / 2));
  return [x, y];
}

/** Great-circle distance in metres (haversine, Redis' earth radius). */
function geoDistance(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const lat1r = lat1 * DEG_TO_RAD;
  const lon1r = lon1 * DEG_TO_RAD;
  const lat2r = lat2 * DEG_TO_RAD;
  const lon2r = lon2 * DEG_TO_RAD;
  const u = Math.sin((lat2r - lat1r) / 2);
  const v = Math.sin((lon2r - lon1r) / 2);
  return 2 * EARTH_RADIUS_M * Math.asin(Math.sqrt(u * u + Math.cos(lat1r) * Math.cos(lat2r) * v * v));
}

function geoUnit(b: Uint8Array): number {
  const u = lower(b);
  if (u === 'm') return 1;
  if (u === 'km') return 1000;
  if (u === 'ft') return 0.3048;
  if (u === 'mi') return 1609.34;
  fail('ERR unsupported unit provided. please use M, KM, FT, MI');
}

function geoCoord(a: Uint8Array[], i: number): [number, number] {
  const lon = parseDouble(a[i]);
  const lat = parseDouble(a[i + 1]);
  if (lon === null || lat === null) fail('ERR value is not a valid float');
  if (lon < -180 || lon > 180 || lat < -GEO_LAT_LIMIT || lat > GEO_LAT_LIMIT) fail(`ERR invalid longitude,latitude pair ${lon},${lat}`);
  return [lon, lat];
}

/**
 * GEORADIUS / GEORADIUSBYMEMBER with STORE or STOREDIST, and GEOSEARCHSTORE: every member of the source is tested
 * against the shape (Redis scans geohash boxes around it, then applies the same test to each candidate). Without
 * STORE, GEORADIUS reads only.
 */
function geoStore(kind: 'radius' | 'radiusbymember' | 'searchstore'): Handler {
  return (c, a) => {
    let src: Uint8Array;
    let dst: Uint8Array | null = null;
    let storeDist = false;
    let center: [number, number] | null = null;
    let fromMember: Uint8Array | null = null;
    let radius = -1;
    let box: [number, number] | null = null;
    let unit = 1;
    let sort: 'none' | 'asc' | 'desc' = 'none';
    let count = 0;
    let any = false;
    let withOpts = false;
    let i: number;
    if (kind === 'searchstore') {
      arity(a, 3);
      dst = a[1];
      src = a[2];
      i = 3;
    } else {
      arity(a, kind === 'radius' ? 6 : 5);
      src = a[1];
      if (kind === 'radius') {
        center = geoCoord(a, 2);
        i = 4;
      } else {
        fromMember = a[2];
        i = 3;
      }
      radius = dbl(a[i]);
      if (radius < 0) fail('ERR radius cannot be negative');
      unit = geoUnit(a[i + 1]);
      i += 2;
    }
    for (; i < a.length; i++) {
      const o = lower(a[i]);
      const more = a.length - i - 1;
      if (o === 'withdist' || o === 'withhash' || o === 'withcoord') withOpts = true;
      else if (o === 'asc') sort = 'asc';
      else if (o === 'desc') sort = 'desc';
      else if (o === 'any') any = true;
      else if (o === 'count' && more >= 1) {
        count = int(a[++i]);
        if (count <= 0) fail('ERR COUNT must be > 0');
      } else if (o === 'store' && more >= 1 && kind !== 'searchstore') {
        dst = a[++i];
        storeDist = false;
      } else if (o === 'storedist' && kind === 'searchstore') storeDist = true;
      else if (o === 'storedist' && more >= 1) {
        dst = a[++i];
        storeDist = true;
      } else if (o === 'frommember' && more >= 1 && kind === 'searchstore') fromMember = a[++i];
      else if (o === 'fromlonlat' && more >= 2 && kind === 'searchstore') {
        center = geoCoord(a, i + 1);
        i += 2;
      } else if (o === 'byradius' && more >= 2 && kind === 'searchstore') {
        radius = dbl(a[i + 1]);
        if (radius < 0) fail('ERR radius cannot be negative');
        unit = geoUnit(a[i + 2]);
        i += 2;
      } else if (o === 'bybox' && more >= 3 && kind === 'searchstore') {
        const w = dbl(a[i + 1]);
        const h = dbl(a[i + 2]);
        if (w < 0 || h < 0) fail('ERR height or width cannot be negative');
        box = [w, h];
        unit = geoUnit(a[i + 3]);
        i += 3;
      } else fail('ERR syntax error');
    }
    if (kind === 'searchstore' && ((center === null) === (fromMember === null) || (radius < 0) === (box === null))) fail('ERR syntax error');
    if (any && count === 0) fail('ERR the ANY argument requires COUNT argument');
    if (dst === null) return; // GEORADIUS without STORE reads only
    if (withOpts) fail('ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options');
    const z = c.ks.typed(c.db, src, 'zset');
    if (z === undefined) return void c.ks.delete(c.db, dst); // no source: the destination goes
    if (fromMember !== null) {
      const m = z.indexOf(fromMember);
      if (m < 0) fail('ERR could not decode requested zset member');
      center = geohashPosition(z.nums![m]);
    }
    const [cx, cy] = center!;
    const found: { i: number; dist: number }[] = [];
    for (let k = 0; k < z.size; k++) {
      const [x, y] = geohashPosition(z.nums![k]);
      let dist: number;
      if (box === null) {
        dist = geoDistance(cx, cy, x, y);
        if (dist > radius * unit) continue;
      } else {
        if (geoDistance(x, y, cx, y) > (box[0] * unit) / 2 || geoDistance(x, y, x, cy) > (box[1] * unit) / 2) continue;
        dist = geoDistance(cx, cy, x, y);
      }
      found.push({ i: k, dist });
    }
    if (any && found.length > count) throw new Unsupported('COUNT ... ANY keeps the first members of Redis\' geohash box scan, whose order is not reproduced');
    if (sort === 'none' && count > 0 && !any) sort = 'asc';
    if (sort !== 'none') {
      const sign = sort === 'asc' ? 1 : -1;
      found.sort((p, q) => sign * (p.dist - q.dist) || z.keys.compareItems(p.i, q.i));
    }
    const kept = count > 0 ? found.slice(0, count) : found;
    if (kept.length === 0) return void c.ks.delete(c.db, dst);
    const out = newZset(kept.length);
    for (const f of kept) out.addNumber(z.keys.get(f.i), storeDist ? f.dist / unit : z.nums![f.i]);
    c.ks.setKey(c.db, dst, { type: 'zset', v: out });
  };
}

/** A source of ZUNIONSTORE & co: a zset, a set (scores 1) or nothing. */
function zsource(c: CommandContext, key: Uint8Array): ZsetValue | undefined {
  const v = c.ks.value(c.db, key);
  if (v === undefined) return undefined;
  if (v.type === 'zset') return v.v;
  if (v.type === 'set') {
    const m = newZset(v.v.size);
    for (let i = 0; i < v.v.size; i++) m.addNumber(v.v.keys.get(i), 1);
    return m;
  }
  fail(WRONGTYPE);
}

function zstore(op: 'union' | 'inter' | 'diff'): Handler {
  return (c, a) => {
    arity(a, 4);
    const n = int(a[2], 'numkeys');
    if (n < 1) fail(`ERR at least 1 input key is needed for '${text(a[0])}' command`);
    if (3 + n > a.length) fail('ERR syntax error');
    const weights = new Array<number>(n).fill(1);
    let agg: 'sum' | 'min' | 'max' = 'sum';
    for (let i = 3 + n; i < a.length; i++) {
      const s = lower(a[i]);
      if (s === 'weights' && op !== 'diff' && i + n < a.length) {
        for (let j = 0; j < n; j++) {
          const w = parseDouble(a[i + 1 + j]);
          if (w === null) fail('ERR weight value is not a float');
          weights[j] = w;
        }
        i += n;
      } else if (s === 'aggregate' && op !== 'diff' && i + 1 < a.length) {
        const g = lower(a[++i]);
        if (g !== 'sum' && g !== 'min' && g !== 'max') fail('ERR syntax error');
        agg = g;
      } else fail('ERR syntax error');
    }
    const srcs = a.slice(3, 3 + n).map((k) => zsource(c, k));
    const out = newZset();
    const weighted = (s: number, w: number): number => {
      const r = s * w;
      return Number.isNaN(r) ? 0 : r;
    };
    const combine = (x: number, y: number): number => {
      if (agg === 'sum') {
        const r = x + y;
        return Number.isNaN(r) ? 0 : r;
      }
      return agg === 'min' ? Math.min(x, y) : Math.max(x, y);
    };
    if (op === 'union') {
      srcs.forEach((s, j) => {
        if (!s) return;
        for (let i = 0; i < s.size; i++) {
          const v = weighted(s.nums![i], weights[j]);
          const k = out.add(s.keys.get(i));
          out.nums![k] = out.added ? v : combine(out.nums![k], v);
        }
      });
    } else if (op === 'inter') {
      if (srcs.every((s) => s !== undefined)) {
        const first = srcs[0]!;
        for (let i = 0; i < first.size; i++) {
          const m = first.keys.get(i);
          let acc = weighted(first.nums![i], weights[0]);
          let ok = true;
          for (let j = 1; j < n && ok; j++) {
            const s = srcs[j]!;
            const k = s.indexOf(m);
            if (k < 0) ok = false;
            else acc = combine(acc, weighted(s.nums![k], weights[j]));
          }
          if (ok) out.addNumber(m, acc);
        }
      }
    } else {
      const first = srcs[0];
      if (first)
        for (let i = 0; i < first.size; i++) {
          const m = first.keys.get(i);
          let found = false;
          for (let j = 1; j < n && !found; j++) found = srcs[j]?.has(m) ?? false;
          if (!found) out.addNumber(m, first.nums![i]);
        }
    }
    if (out.size === 0) c.ks.delete(c.db, a[1]);
    else c.ks.setKey(c.db, a[1], { type: 'zset', v: out });
  };
}

const ZRANGESTORE: Handler = (c, a) => {
  arity(a, 5);
  let by: 'rank' | 'score' | 'lex' = 'rank';
  let rev = false;
  let offset = 0;
  let limit = -1;
  for (let i = 5; i < a.length; i++) {
    const s = lower(a[i]);
    if (s === 'byscore') by = 'score';
    else if (s === 'bylex') by = 'lex';
    else if (s === 'rev') rev = true;
    else if (s === 'limit' && i + 2 < a.length) {
      offset = int(a[++i]);
      limit = int(a[++i]);
    } else fail('ERR syntax error');
  }
  const src = zset(c, a[2]);
  let picked: number[] = [];
  if (src !== undefined) {
    let order = zsetOrder(src);
    if (rev) order = order.reverse();
    const lo = rev ? a[4] : a[3];
    const hi = rev ? a[3] : a[4];
    if (by === 'rank') {
      const len = order.length;
      let start = int(a[3]);
      let end = int(a[4]);
      if (start < 0) start += len;
      if (end < 0) end += len;
      if (start < 0) start = 0;
      if (end >= len) end = len - 1;
      picked = start > end || start >= len ? [] : order.slice(start, end + 1);
    } else {
      let pred: (i: number) => boolean;
      if (by === 'score') {
        const min = scoreBound(lo);
        const max = scoreBound(hi);
        pred = (i) => inScore(src.nums![i], min, max);
      } else {
        const min = lexBound(lo);
        const max = lexBound(hi);
        pred = (i) => inLex(src, i, min, max);
      }
      picked = order.filter(pred);
      if (offset < 0) picked = [];
      else picked = picked.slice(offset, limit < 0 ? undefined : offset + limit);
    }
  }
  if (picked.length === 0) return void c.ks.delete(c.db, a[1]);
  const out = newZset(picked.length);
  for (const i of picked) out.addNumber(src!.keys.get(i), src!.nums![i]);
  c.ks.setKey(c.db, a[1], { type: 'zset', v: out });
};

// ---------------------------------------------------------------------------------------------------------------
// Hashes

function hash(c: CommandContext, key: Uint8Array): HashValue | undefined {
  return c.ks.typed(c.db, key, 'hash');
}

function hashOrCreate(c: CommandContext, key: Uint8Array, capacity = 0): HashValue {
  let h = hash(c, key);
  if (h === undefined) {
    h = newHash(capacity);
    c.ks.setKey(c.db, key, { type: 'hash', v: h });
  }
  return h;
}

/** Sets a field's value; `keepTtl` keeps the field's TTL (HINCRBY), otherwise a new value has none (HSET). */
function hset(h: HashValue, f: Uint8Array, v: Uint8Array, keepTtl = false): void {
  const i = h.add(f);
  h.vals!.set(i, v);
  if (!keepTtl && h.nums !== null) h.nums[i] = NaN;
}

const HSET: Handler = (c, a) => {
  if (a.length < 4 || a.length % 2 !== 0) fail(`ERR wrong number of arguments for '${text(a[0])}' command`);
  const h = hashOrCreate(c, a[1], (a.length - 2) / 2);
  for (let i = 2; i < a.length; i += 2) hset(h, a[i], a[i + 1]);
};

const HSETNX: Handler = (c, a) => {
  arity(a, 4, true);
  const h = hash(c, a[1]);
  if (h?.has(a[2])) return;
  hset(hashOrCreate(c, a[1], 1), a[2], a[3]);
};

const HDEL: Handler = (c, a) => {
  arity(a, 3);
  const h = hash(c, a[1]);
  if (h === undefined) return;
  for (let i = 2; i < a.length; i++) h.delete(a[i]);
  c.ks.dropIfEmpty(c.db, a[1]);
};

function hget(h: HashValue | undefined, f: Uint8Array): Uint8Array | undefined {
  const i = h?.indexOf(f) ?? -1;
  return i < 0 ? undefined : h!.vals!.get(i);
}

const HINCRBY: Handler = (c, a) => {
  arity(a, 4, true);
  const by = incrArg(a[3]);
  const cur = hget(hash(c, a[1]), a[2]);
  let n = 0n;
  if (cur !== undefined) {
    const p = parseInt64(cur);
    if (p === null) fail('ERR hash value is not an integer');
    n = p;
  }
  const r = n + by;
  if (!inInt64(r)) fail('ERR increment or decrement would overflow');
  hset(hashOrCreate(c, a[1], 1), a[2], ascii(r.toString()), true);
};

const HINCRBYFLOAT: Handler = (c, a) => {
  arity(a, 4, true);
  const by = dbl(a[3]);
  const cur = hget(hash(c, a[1]), a[2]);
  const base = cur === undefined ? 0 : parseDouble(cur);
  if (base === null) fail('ERR hash value is not a float');
  const r = base + by;
  if (!Number.isFinite(r)) fail('ERR increment would produce NaN or Infinity');
  hset(hashOrCreate(c, a[1], 1), a[2], ascii(formatFloatResult(r)), true);
};

/** HEXPIRE / HPEXPIRE / HEXPIREAT / HPEXPIREAT key time [NX|XX|GT|LT] FIELDS n f... */
function hexpire(unit: 's' | 'ms', absolute: boolean): Handler {
  return (c, a) => {
    arity(a, 6);
    const when = expireArg(c, unit, absolute, a[2]);
    let i = 3;
    let cond = '';
    const s = lower(a[i]);
    if (s === 'nx' || s === 'xx' || s === 'gt' || s === 'lt') {
      cond = s;
      i++;
    }
    if (lower(a[i] ?? new Uint8Array(0)) !== 'fields') fail('ERR Mandatory argument FIELDS is missing or not at the right position');
    const n = int(a[i + 1], 'numFields');
    if (n < 1 || i + 2 + n !== a.length) fail('ERR The `numfields` parameter must match the number of arguments');
    const h = hash(c, a[1]);
    if (h === undefined) return;
    for (let j = i + 2; j < a.length; j++) {
      const k = h.indexOf(a[j]);
      if (k < 0) continue;
      const t = h.nums === null ? NaN : h.nums[k];
      const cur = Number.isNaN(t) ? null : t;
      if (cond === 'nx' && cur !== null) continue;
      if (cond === 'xx' && cur === null) continue;
      if (cond === 'gt' && (cur === null || when <= cur)) continue;
      if (cond === 'lt' && cur !== null && when >= cur) continue;
      h.enableNumbers()[k] = when;
    }
  };
}

const HPERSIST: Handler = (c, a) => {
  arity(a, 5);
  if (lower(a[2]) !== 'fields') fail('ERR Mandatory argument FIELDS is missing or not at the right position');
  const h = hash(c, a[1]);
  if (h === undefined || h.nums === null) return;
  for (let j = 4; j < a.length; j++) {
    const k = h.indexOf(a[j]);
    if (k >= 0) h.nums[k] = NaN;
  }
};

// ---------------------------------------------------------------------------------------------------------------
// Streams

function stream(c: CommandContext, key: Uint8Array): StreamState | undefined {
  return c.ks.typed(c.db, key, 'stream');
}

const U64_MAX = (1n << 64n) - 1n;

/** A strict stream ID "ms-seq" or "ms" (seq = `missingSeq`). */
function parseId(b: Uint8Array, missingSeq: bigint = 0n): bigint {
  const s = text(b);
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) fail('ERR Invalid stream ID specified as stream command argument');
  const ms = BigInt(m[1]);
  const seq = m[2] === undefined ? missingSeq : BigInt(m[2]);
  if (ms > U64_MAX || seq > U64_MAX) fail('ERR Invalid stream ID specified as stream command argument');
  return (ms << SEQ_BITS) | seq;
}

function streamOrCreate(c: CommandContext, key: Uint8Array): StreamState {
  const s = stream(c, key);
  if (s !== undefined) return s;
  const n = new StreamState();
  c.ks.setKey(c.db, key, { type: 'stream', v: n });
  return n;
}

interface TrimSpec {
  strategy: 'maxlen' | 'minid';
  threshold: bigint;
}

/** Parses [MAXLEN|MINID [=|~] threshold [LIMIT n]] at a[i]; returns the spec and the next index. */
function parseTrim(a: Uint8Array[], i: number): [TrimSpec, number] {
  const strategy = lower(a[i]) as 'maxlen' | 'minid';
  i++;
  let approx = false;
  if (i < a.length && (text(a[i]) === '~' || text(a[i]) === '=')) {
    approx = text(a[i]) === '~';
    i++;
  }
  if (i >= a.length) fail('ERR syntax error');
  let threshold: bigint;
  if (strategy === 'maxlen') {
    const n = int(a[i]);
    if (n < 0) fail('ERR The MAXLEN argument must be >= 0.');
    threshold = BigInt(n);
  } else threshold = parseId(a[i]);
  i++;
  if (i + 1 < a.length && lower(a[i]) === 'limit') {
    if (!approx) fail('ERR syntax error, LIMIT cannot be used without the special ~ option');
    i += 2;
  }
  if (approx) {
    // Approximate trimming depends on the node layout of the server that ran it; Redis propagates it exactly.
    throw new Unsupported('approximate trimming (~) depends on the writing server\'s listpack node layout; Redis propagates the exact form (=)');
  }
  return [{ strategy, threshold }, i];
}

export class Unsupported extends Error {}

function trim(s: StreamState, t: TrimSpec): void {
  let cut = 0;
  if (t.strategy === 'maxlen') cut = Math.max(0, s.ids.length - Number(t.threshold));
  else cut = s.lowerBound(t.threshold);
  s.remove(0, cut);
}

const XADD: Handler = (c, a) => {
  arity(a, 5);
  let i = 2;
  let nomk = false;
  let trimSpec: TrimSpec | null = null;
  for (;;) {
    const s = lower(a[i]);
    if (s === 'nomkstream') {
      nomk = true;
      i++;
    } else if (s === 'maxlen' || s === 'minid') [trimSpec, i] = parseTrim(a, i);
    else break;
    if (i >= a.length) fail('ERR syntax error');
  }
  const idArg = text(a[i]);
  const fv = a.slice(i + 1);
  if (fv.length === 0 || fv.length % 2 !== 0) fail("ERR wrong number of arguments for 'xadd' command");
  let s = stream(c, a[1]);
  if (s === undefined && nomk) return;
  const last = s?.lastId ?? 0n;
  let id: bigint;
  if (idArg === '*') {
    const ms = BigInt(c.now);
    const lms = last >> SEQ_BITS;
    id = ms > lms ? ms << SEQ_BITS : last + 1n;
  } else if (/^\d+-\*$/.test(idArg)) {
    const ms = BigInt(idArg.slice(0, -2));
    const lms = last >> SEQ_BITS;
    if (ms < lms) fail('ERR The ID specified in XADD is equal or smaller than the target stream top item');
    if (ms === lms) {
      if ((last & SEQ_MASK) === SEQ_MASK) fail('ERR The ID specified in XADD is equal or smaller than the target stream top item');
      id = last + 1n;
    } else id = ms << SEQ_BITS;
  } else {
    id = parseId(a[i]);
    if (id === 0n) fail('ERR The ID specified in XADD must be greater than 0-0');
    if (id <= last) fail('ERR The ID specified in XADD is equal or smaller than the target stream top item');
  }
  if (last === MAX_ID) fail('ERR The stream has exhausted the last possible ID, unable to add more items');
  s ??= streamOrCreate(c, a[1]);
  s.append(id, fv);
  s.lastId = id;
  s.entriesAdded++;
  if (trimSpec) trim(s, trimSpec);
};

const XTRIM: Handler = (c, a) => {
  arity(a, 4);
  const [spec, next] = parseTrim(a, 2);
  if (next !== a.length) fail('ERR syntax error');
  const s = stream(c, a[1]);
  if (s !== undefined) trim(s, spec);
};

const XDEL: Handler = (c, a) => {
  arity(a, 3);
  const ids = a.slice(2).map((b) => parseId(b));
  const s = stream(c, a[1]);
  if (s === undefined) return;
  for (const id of ids) {
    const i = s.lowerBound(id);
    if (i < s.ids.length && s.ids.get(i) === id) {
      s.remove(i, 1);
      if (id > s.maxDeletedId) s.maxDeletedId = id;
    }
  }
};

const XSETID: Handler = (c, a) => {
  arity(a, 3);
  const id = parseId(a[2]);
  let added = -1;
  let maxDel = -1n;
  for (let i = 3; i < a.length; i++) {
    const o = lower(a[i]);
    if (o === 'entriesadded' && i + 1 < a.length) {
      added = int(a[++i]);
      if (added < 0) fail('ERR entries_added must be positive');
    } else if (o === 'maxdeletedid' && i + 1 < a.length) {
      maxDel = parseId(a[++i]);
      if (id < maxDel) fail('ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id');
    } else fail('ERR syntax error');
  }
  const s = stream(c, a[1]);
  if (s === undefined) fail('ERR no such key');
  if (s.ids.length > 0 && id < s.ids.get(s.ids.length - 1)) fail('ERR The ID specified in XSETID is smaller than the target stream top item');
  if (added >= 0 && added < s.ids.length) fail('ERR The entries_added specified in XSETID is smaller than the target stream length');
  s.lastId = id;
  if (added >= 0) s.entriesAdded = added;
  if (maxDel >= 0n) s.maxDeletedId = maxDel;
};

function group(s: StreamState, name: Uint8Array): GroupState {
  const g = s.groups.get(name);
  if (g === undefined) fail(`NOGROUP No such consumer group '${text(name)}'`);
  return g;
}

function consumerOf(c: CommandContext, g: GroupState, name: Uint8Array) {
  let con = g.consumers.get(name);
  if (con === undefined) {
    con = { name: own(name), seenTime: c.now, activeTime: null };
    g.consumers.set(con.name, con);
  }
  return con;
}

const XGROUP: Handler = (c, a) => {
  arity(a, 2);
  const sub = lower(a[1]);
  if (sub === 'help') return;
  arity(a, 4);
  const key = a[2];
  let s = stream(c, key);
  const name = a[3];
  if (sub === 'create' || sub === 'setid') {
    arity(a, 5);
    let mk = false;
    let entriesRead = -1;
    for (let i = 5; i < a.length; i++) {
      const o = lower(a[i]);
      if (o === 'mkstream' && sub === 'create') mk = true;
      else if (o === 'entriesread' && i + 1 < a.length) {
        entriesRead = int(a[++i]);
        if (entriesRead < 0 && entriesRead !== -1) fail('ERR value for ENTRIESREAD must be positive or -1');
      } else fail('ERR syntax error');
    }
    if (s === undefined) {
      if (sub === 'setid' || !mk) fail("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.");
    }
    const id = text(a[4]) === '$' ? (s?.lastId ?? 0n) : parseId(a[4]);
    if (sub === 'create') {
      if (s?.groups.has(name)) fail('BUSYGROUP Consumer Group name already exists');
      s ??= streamOrCreate(c, key);
      const ownName = own(name);
      s.groups.set(ownName, { name: ownName, lastId: id, entriesRead, pel: new Map(), consumers: new BytesMap() });
    } else {
      const g = group(s!, name);
      g.lastId = id;
      g.entriesRead = entriesRead;
    }
    return;
  }
  if (s === undefined) fail('ERR The XGROUP subcommand requires the key to exist.');
  if (sub === 'destroy') {
    s.groups.delete(name);
    return;
  }
  arity(a, 5, true);
  const g = group(s, name);
  if (sub === 'createconsumer') {
    consumerOf(c, g, a[4]);
    return;
  }
  if (sub === 'delconsumer') {
    if (g.consumers.delete(a[4]) === undefined) return;
    for (const [id, p] of [...g.pel]) if (Buffer.compare(p.consumer, a[4]) === 0) g.pel.delete(id);
    return;
  }
  throw new Unsupported(`XGROUP ${text(a[1])}`);
};

const XACK: Handler = (c, a) => {
  arity(a, 4);
  const ids = a.slice(3).map((b) => parseId(b));
  const s = stream(c, a[1]);
  if (s === undefined) return;
  const g = s.groups.get(a[2]);
  if (g === undefined) return;
  for (const id of ids) g.pel.delete(id);
};

const XCLAIM: Handler = (c, a) => {
  arity(a, 6);
  const s = stream(c, a[1]);
  if (s === undefined) fail(`NOGROUP No such key '${text(a[1])}' or consumer group '${text(a[2])}'`);
  const g = group(s, a[2]);
  const minIdle = int(a[4]);
  const ids: bigint[] = [];
  let j = 5;
  for (; j < a.length; j++) {
    const t = text(a[j]);
    if (!/^\d+(-\d+)?$/.test(t)) break;
    ids.push(parseId(a[j]));
  }
  let deliveryTime = -1;
  let retry = -1;
  let force = false;
  let justid = false;
  let lastId: bigint | null = null;
  for (; j < a.length; j++) {
    const o = lower(a[j]);
    const more = j + 1 < a.length;
    if (o === 'force') force = true;
    else if (o === 'justid') justid = true;
    else if (o === 'idle' && more) deliveryTime = c.now - int(a[++j]);
    else if (o === 'time' && more) deliveryTime = int(a[++j]);
    else if (o === 'retrycount' && more) retry = int(a[++j]);
    else if (o === 'lastid' && more) lastId = parseId(a[++j]);
    else fail(`ERR Unrecognized XCLAIM option '${text(a[j])}'`);
  }
  if (deliveryTime !== -1) {
    if (deliveryTime < 0 || deliveryTime > c.now) deliveryTime = c.now;
  } else deliveryTime = c.now;
  if (lastId !== null && lastId > g.lastId) g.lastId = lastId;
  for (const id of ids) {
    let nack = g.pel.get(id);
    if (!s.has(id)) {
      if (nack !== undefined) g.pel.delete(id);
      continue;
    }
    let fresh = false;
    if (force && nack === undefined) {
      nack = { consumer: new Uint8Array(0), deliveryTime: c.now, deliveryCount: 1 };
      fresh = true;
      g.pel.set(id, nack);
    }
    if (nack === undefined) continue;
    if (!fresh && minIdle > 0 && c.now - nack.deliveryTime < minIdle) continue;
    const con = consumerOf(c, g, a[3]);
    con.activeTime = c.now;
    nack.consumer = con.name;
    nack.deliveryTime = deliveryTime;
    if (retry >= 0) nack.deliveryCount = retry;
    else if (!justid) nack.deliveryCount++;
  }
};

const RESTORE: Handler = (c, a) => {
  arity(a, 4);
  let replace = false;
  let abs = false;
  for (let i = 4; i < a.length; i++) {
    const o = lower(a[i]);
    if (o === 'replace') replace = true;
    else if (o === 'absttl') abs = true;
    else if ((o === 'idletime' || o === 'freq') && i + 1 < a.length) i++;
    else fail('ERR syntax error');
  }
  const ttl = int(a[2]);
  if (ttl < 0) fail('ERR Invalid TTL value, must be >= 0');
  if (!replace && c.ks.exists(c.db, a[1])) fail('BUSYKEY Target key name already exists.');
  let decoded;
  try {
    decoded = decodeDumpPayload(a[3]);
  } catch (err) {
    fail(`ERR DUMP payload version or checksum are wrong (${(err as Error).message})`);
  }
  c.ks.delete(c.db, a[1]);
  c.ks.loadKey(c.db, a[1], decoded.value, ttl === 0 ? null : abs ? ttl : c.now + ttl);
};

// ---------------------------------------------------------------------------------------------------------------
// SORT ... STORE (propagated as it was sent; without STORE, SORT changes nothing)

const SORT_NUMBER = /^[\t\n\v\f\r ]*[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?)$/i;

/** The score SORT gives a value (strtod of the whole string), or null where SORT answers "can't be converted". */
function sortScore(b: Uint8Array): number {
  if (b.length === 0) return 0; // strtod stops at once and the end is the string's end: score 0
  const s = text(b);
  if (/^[\t\n\v\f\r ]*[+-]?0[xX]/.test(s)) throw new Unsupported('SORT of hexadecimal floating-point values');
  if (!SORT_NUMBER.test(s)) fail("ERR One or more scores can't be converted into double");
  const t = s.trim().toLowerCase();
  const neg = t.startsWith('-');
  if (/inf/.test(t)) return neg ? -Infinity : Infinity;
  const v = Number(t);
  // strtod reports ERANGE on overflow and on underflow (a result below the smallest normal double).
  const mantissaZero = !/[1-9]/.test(t.replace(/[eE].*$/, ''));
  if (!Number.isFinite(v) || (!mantissaZero && Math.abs(v) < 2.2250738585072014e-308)) fail("ERR One or more scores can't be converted into double");
  return v;
}

/** Redis' lookupKeyByPattern: "#" is the element; the first '*' takes the element; "key->field" reads a hash field. */
function sortLookup(c: CommandContext, pattern: Uint8Array, elem: Uint8Array): Uint8Array | null {
  if (pattern.length === 1 && pattern[0] === 0x23) return elem;
  const star = pattern.indexOf(0x2a);
  if (star < 0) return null;
  let keyEnd = pattern.length;
  let field: Uint8Array | null = null;
  for (let i = star + 1; i + 1 < pattern.length; i++) {
    if (pattern[i] === 0x2d && pattern[i + 1] === 0x3e) {
      if (i + 2 < pattern.length) {
        keyEnd = i;
        field = pattern.subarray(i + 2);
      }
      break;
    }
  }
  const key = Buffer.concat([pattern.subarray(0, star), elem, pattern.subarray(star + 1, keyEnd)]);
  const v = c.ks.value(c.db, key);
  if (v === undefined) return null;
  if (field === null) return v.type === 'string' ? v.v : null;
  if (v.type !== 'hash') return null;
  const i = v.v.indexOf(field);
  return i < 0 ? null : v.v.vals!.get(i);
}

const SORT: Handler = (c, a) => {
  arity(a, 2);
  let desc = false;
  let alpha = false;
  let limitStart = 0;
  let limitCount = -1;
  let store: Uint8Array | null = null;
  let by: Uint8Array | null = null;
  let dontsort = false;
  const gets: Uint8Array[] = [];
  for (let j = 2; j < a.length; j++) {
    const o = lower(a[j]);
    const left = a.length - j - 1;
    if (o === 'asc') desc = false;
    else if (o === 'desc') desc = true;
    else if (o === 'alpha') alpha = true;
    else if (o === 'limit' && left >= 2) {
      limitStart = int(a[j + 1]);
      limitCount = int(a[j + 2]);
      j += 2;
    } else if (o === 'store' && left >= 1) store = a[++j];
    else if (o === 'by' && left >= 1) {
      by = a[++j];
      dontsort = by.indexOf(0x2a) < 0;
    } else if (o === 'get' && left >= 1) gets.push(a[++j]);
    else fail('ERR syntax error');
  }
  const src = c.ks.value(c.db, a[1]);
  if (src !== undefined && src.type !== 'list' && src.type !== 'set' && src.type !== 'zset') fail(WRONGTYPE);
  if (store === null) return; // a plain SORT reads only
  if (dontsort && src?.type === 'set') {
    // Redis sorts a set anyway when storing, so that the result does not depend on its hash table.
    dontsort = false;
    alpha = true;
    by = null;
  }
  let len = src === undefined ? 0 : src.type === 'list' ? src.v.length : src.v.size;
  let start = Math.min(Math.max(limitStart, 0), len);
  const count = Math.min(Math.max(limitCount, -1), len);
  let end = count < 0 ? len - 1 : start + count - 1;
  if (start >= len) {
    start = len - 1;
    end = len - 2;
  }
  if (end >= len) end = len - 1;
  let elems: Uint8Array[] = [];
  if (src !== undefined && dontsort && (src.type === 'list' || src.type === 'zset')) {
    // Native order (reversed with DESC), only the LIMIT range.
    if (end >= start) {
      const order = src.type === 'zset' ? zsetOrder(src.v) : null;
      const at = (i: number): Uint8Array => (src.type === 'list' ? src.v.get(i) : src.v.keys.get(order![i]));
      for (let r = start; r <= end; r++) elems.push(at(desc ? len - 1 - r : r));
    }
    end -= start;
    start = 0;
    len = elems.length;
  } else if (src !== undefined) {
    if (src.type === 'list') for (let i = 0; i < src.v.length; i++) elems.push(src.v.get(i));
    else for (let i = 0; i < src.v.size; i++) elems.push(src.v.keys.get(i));
    if (!dontsort) {
      const items = elems.map((e) => {
        const byval = by === null ? e : sortLookup(c, by, e);
        return { e, score: alpha || byval === null ? 0 : sortScore(byval), cmp: alpha && by !== null ? byval : null };
      });
      const sign = desc ? -1 : 1;
      items.sort((x, y) => {
        let r: number;
        if (!alpha) r = x.score > y.score ? 1 : x.score < y.score ? -1 : Buffer.compare(x.e, y.e);
        else if (by !== null) {
          if (x.cmp === null || y.cmp === null) r = x.cmp === y.cmp ? 0 : x.cmp === null ? -1 : 1;
          else r = Buffer.compare(x.cmp, y.cmp);
          // Redis leaves equal BY values in the order it read the elements (its hash table's, for sets and
          // zsets); the element bytes make ours deterministic.
          if (r === 0 && src.type !== 'list') r = Buffer.compare(x.e, y.e);
        } else r = Buffer.compare(x.e, y.e);
        return sign * r;
      });
      elems = items.map((x) => x.e);
    }
  }
  const out = new ByteColumn();
  for (let j = start; j <= end; j++) {
    if (gets.length === 0) out.push(elems[j]);
    else for (const g of gets) out.push(sortLookup(c, g, elems[j]) ?? new Uint8Array(0));
  }
  if (out.length > 0) c.ks.setKey(c.db, store, { type: 'list', v: out });
  else c.ks.delete(c.db, store);
};

// ---------------------------------------------------------------------------------------------------------------
// Functions

/** Engine and name of a library, by the rule Redis applies at FUNCTION LOAD (and the RDB parser at load). */
function libraryName(code: Uint8Array): [string, string] {
  try {
    const { engine, library } = parseFunctionLibraryHeader(code);
    return [engine, library];
  } catch (err) {
    if (err instanceof RdbFormatError) fail(`ERR ${err.message}`);
    throw err;
  }
}

/** The libraries of a FUNCTION DUMP payload (function records as an RDB holds them, then version and CRC64). */
function restoredFunctions(payload: Uint8Array): FunctionRecord[] {
  let version: number;
  try {
    version = splitDumpPayload(payload).rdbVersion;
  } catch {
    fail('ERR payload version or checksum are wrong');
  }
  // Read as the body of an RDB file: header, the records, EOF and a zero (unchecked) checksum.
  const head = ascii(`REDIS${String(Math.max(10, version)).padStart(4, '0')}`);
  const bodyEnd = payload.length - 10;
  const rdb = new Uint8Array(head.length + bodyEnd + 9);
  rdb.set(head);
  rdb.set(payload.subarray(0, bodyEnd), head.length);
  rdb[head.length + bodyEnd] = 0xff;
  const parser = new RdbParser({ values: true, file: 'FUNCTION RESTORE payload' });
  const out: FunctionRecord[] = [];
  try {
    parser.push(rdb);
    parser.finish();
    for (;;) {
      const r = parser.read();
      if (r === DONE || typeof r === 'string') break;
      if (r.kind === 'function') out.push(r.function);
      else if (r.kind === 'key') fail('ERR given type is not a function');
    }
  } catch (err) {
    if (err instanceof CommandFailed) throw err;
    fail(`ERR payload is not a valid function dump (${(err as Error).message})`);
  }
  return out;
}

const FUNCTION: Handler = (c, a) => {
  arity(a, 2);
  const sub = lower(a[1]);
  if (sub === 'load') {
    arity(a, 3);
    const replace = a.length === 4 && lower(a[2]) === 'replace';
    const code = a[a.length - 1];
    const [engine, library] = libraryName(code);
    if (c.ks.functions.has(library) && !replace) fail(`ERR Library '${library}' already exists`);
    c.ks.functions.set(library, { library, engine, code: own(code) });
  } else if (sub === 'delete') {
    arity(a, 3, true);
    const name = text(a[2]);
    if (!c.ks.functions.delete(name)) fail('ERR Library not found');
  } else if (sub === 'flush') {
    c.ks.functions.clear();
  } else if (sub === 'restore') {
    arity(a, 3);
    if (a.length > 4) fail('ERR syntax error');
    const policy = a.length === 4 ? lower(a[3]) : 'append';
    if (policy !== 'append' && policy !== 'replace' && policy !== 'flush') {
      fail('ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.');
    }
    const libs = restoredFunctions(a[2]);
    if (policy === 'append') for (const f of libs) if (c.ks.functions.has(f.library)) fail(`ERR Library ${f.library} already exists`);
    if (policy === 'flush') c.ks.functions.clear();
    for (const f of libs) c.ks.functions.set(f.library, { library: f.library, engine: f.engine, code: own(f.code) });
  } else throw new Unsupported(`FUNCTION ${text(a[1])}`);
};

// ---------------------------------------------------------------------------------------------------------------

/** Commands that can stand in an AOF but whose effect this replayer does not reproduce, with the reason. */
const REFUSED: [string, string][] = [
  ['eval', 'a script replicated verbatim (Redis < 5, or lua-replicate-commands no): its effect depends on running Lua'],
  ['evalsha', 'a script replicated verbatim (Redis < 5, or lua-replicate-commands no): its effect depends on running Lua'],
  ['eval_ro', 'a script: its effect depends on running Lua'],
  ['evalsha_ro', 'a script: its effect depends on running Lua'],
  ['fcall', 'a function call replicated verbatim: its effect depends on running Lua'],
  ['script', 'SCRIPT is not replayed (scripts replicated verbatim need Lua)'],
  ['xautoclaim', 'Redis propagates XAUTOCLAIM as XCLAIM; a raw XAUTOCLAIM depends on the load time'],
];

const refuse = (reason: string): Handler => () => {
  throw new Unsupported(reason);
};

export const HANDLERS: ReadonlyMap<string, Handler> = new Map<string, Handler>([
  ...REFUSED.map(([name, reason]): [string, Handler] => [name, refuse(reason)]),
  ['restore-asking', (c, a) => RESTORE(c, a)],
  ['del', DEL],
  ['unlink', DEL],
  ['rename', rename(false)],
  ['renamenx', rename(true)],
  ['copy', COPY],
  ['move', MOVE],
  ['swapdb', SWAPDB],
  ['flushdb', FLUSHDB],
  ['flushall', FLUSHALL],
  ['expire', expireGeneric('s', false)],
  ['pexpire', expireGeneric('ms', false)],
  ['expireat', expireGeneric('s', true)],
  ['pexpireat', expireGeneric('ms', true)],
  ['persist', PERSIST],
  ['restore', RESTORE],
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
  ['rpush', push(false, false)],
  ['lpush', push(true, false)],
  ['rpushx', push(false, true)],
  ['lpushx', push(true, true)],
  ['linsert', LINSERT],
  ['lset', LSET],
  ['lrem', LREM],
  ['ltrim', LTRIM],
  ['lpop', pop(true)],
  ['rpop', pop(false)],
  ['lmove', LMOVE],
  ['blmove', LMOVE],
  ['rpoplpush', RPOPLPUSH],
  ['brpoplpush', RPOPLPUSH],
  ['sadd', SADD],
  ['srem', SREM],
  ['smove', SMOVE],
  ['sinterstore', setOp('inter')],
  ['sunionstore', setOp('union')],
  ['sdiffstore', setOp('diff')],
  ['zadd', ZADD],
  ['geoadd', GEOADD],
  ['georadius', geoStore('radius')],
  ['georadiusbymember', geoStore('radiusbymember')],
  ['geosearchstore', geoStore('searchstore')],
  ['zincrby', ZINCRBY],
  ['zrem', ZREM],
  ['zremrangebyscore', zremRange('score')],
  ['zremrangebyrank', zremRange('rank')],
  ['zremrangebylex', zremRange('lex')],
  ['zpopmin', zpop(false)],
  ['zpopmax', zpop(true)],
  ['zunionstore', zstore('union')],
  ['zinterstore', zstore('inter')],
  ['zdiffstore', zstore('diff')],
  ['zrangestore', ZRANGESTORE],
  ['hset', HSET],
  ['hmset', HSET],
  ['hsetnx', HSETNX],
  ['hdel', HDEL],
  ['hincrby', HINCRBY],
  ['hincrbyfloat', HINCRBYFLOAT],
  ['hexpire', hexpire('s', false)],
  ['hpexpire', hexpire('ms', false)],
  ['hexpireat', hexpire('s', true)],
  ['hpexpireat', hexpire('ms', true)],
  ['hpersist', HPERSIST],
  ['xadd', XADD],
  ['xtrim', XTRIM],
  ['xdel', XDEL],
  ['xsetid', XSETID],
  ['xgroup', XGROUP],
  ['xack', XACK],
  ['xclaim', XCLAIM],
  ['function', FUNCTION],
  ['sort', SORT],
]);

export { CommandFailed };
