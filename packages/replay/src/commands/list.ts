// Lists (Redis' t_list.c).
import { ByteColumn } from '../column.js';
import { fail, lower } from '../keyspace.js';
import { packedListPush } from '../pack.js';
import { type CommandContext, type CommandTable, type Handler, arity, viaPacked } from './context.js';
import { int } from './options.js';

function list(c: CommandContext, key: Uint8Array): ByteColumn | undefined {
  return c.ks.typed(c.db, key, 'list');
}

function push(left: boolean, onlyIfExists: boolean): Handler {
  return (c, a) => {
    arity(a, 3);
    if (viaPacked(c, a[1], 'list', (blob) => packedListPush(blob, a, 2, left))) return;
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

export const LIST_COMMANDS: CommandTable = [
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
];
