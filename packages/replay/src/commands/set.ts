// Sets (Redis' t_set.c).
import { type SetValue, newSet } from '../model.js';
import { packedSetAdd } from '../pack.js';
import { type CommandContext, type CommandTable, type Handler, arity, viaPacked } from './context.js';

function set(c: CommandContext, key: Uint8Array): SetValue | undefined {
  return c.ks.typed(c.db, key, 'set');
}

const SADD: Handler = (c, a) => {
  arity(a, 3);
  if (viaPacked(c, a[1], 'set', (blob) => packedSetAdd(blob, a, 2))) return;
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

export const SET_COMMANDS: CommandTable = [
  ['sadd', SADD],
  ['srem', SREM],
  ['smove', SMOVE],
  ['sinterstore', setOp('inter')],
  ['sunionstore', setOp('union')],
  ['sdiffstore', setOp('diff')],
];
