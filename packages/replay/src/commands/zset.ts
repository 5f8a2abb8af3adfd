// Sorted sets (Redis' t_zset.c).
import { WRONGTYPE, fail, lower } from '../keyspace.js';
import { type ZsetValue, newZset } from '../model.js';
import { ascii, parseDouble, parseRangeDouble, text } from '../numbers.js';
import { zsetDelete, zsetOrder, zsetPut, zsetRankRange } from '../zset-order.js';
import { packedZadd } from '../pack.js';
import { type CommandContext, type CommandTable, type Handler, arity, viaPacked } from './context.js';
import { CH, GT, INCR, LT, NX, XX, dbl, int, leadingOptions } from './options.js';

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

/** ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member..., checked in zaddGenericCommand's order. */
export const ZADD: Handler = (c, a) => {
  arity(a, 4);
  const { flags, next: i } = leadingOptions(a, 2, NX | XX | GT | LT | CH | INCR);
  const nx = (flags & NX) !== 0, xx = (flags & XX) !== 0, gt = (flags & GT) !== 0, lt = (flags & LT) !== 0;
  const incr = (flags & INCR) !== 0;
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
  // Plain ZADD (CH only changes the reply) on a packed sorted set: straight on its packed form.
  if ((flags & ~CH) === 0 && viaPacked(c, a[1], 'zset', (blob) => packedZadd(blob, a, i, scores))) return;
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
  const v = parseRangeDouble(ascii(s));
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

export const ZSET_COMMANDS: CommandTable = [
  ['zadd', ZADD],
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
];
