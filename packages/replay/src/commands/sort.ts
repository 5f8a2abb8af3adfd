// SORT ... STORE (Redis' sort.c; propagated as it was sent; without STORE, SORT changes nothing).
import { ByteColumn } from '../column.js';
import { WRONGTYPE, fail, lower } from '../keyspace.js';
import { zsetOrder } from '../zset-order.js';
import { text } from '../numbers.js';
import { type CommandContext, type CommandTable, type Handler, Unsupported, arity } from './context.js';
import { int } from './options.js';

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

export const SORT_COMMANDS: CommandTable = [
  ['sort', SORT],
];
