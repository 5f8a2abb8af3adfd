// Hashes (Redis' t_hash.c), with the field TTLs of Redis 7.4.
import { fail, lower } from '../keyspace.js';
import { type HashValue, newHash } from '../model.js';
import { ascii, incrByFloat, inInt64, parseDouble, parseInt64, text } from '../numbers.js';
import { packedHashSet } from '../pack.js';
import { type CommandContext, type CommandTable, type Handler, arity, viaPacked } from './context.js';
import { GT, LT, NX, XX, dbl, expireArg, expiryAllowed, incrArg, int, optionBit } from './options.js';

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
  if (viaPacked(c, a[1], 'hash', (blob) => packedHashSet(blob, a, 2))) return;
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
  // The increment is checked before the key's type, as Redis does.
  const pre = incrByFloat(undefined, a[3], true);
  if ('error' in pre) fail(pre.error);
  const r = incrByFloat(hget(hash(c, a[1]), a[2]), a[3], true);
  if ('error' in r) fail(r.error);
  hset(hashOrCreate(c, a[1], 1), a[2], r.value, true);
};

/** HEXPIRE / HPEXPIRE / HEXPIREAT / HPEXPIREAT key time [NX|XX|GT|LT] FIELDS n f... */
function hexpire(unit: 's' | 'ms', absolute: boolean): Handler {
  return (c, a) => {
    arity(a, 6);
    const when = expireArg(c, unit, absolute, a[2]);
    let i = 3;
    const cond = optionBit(a[i], NX | XX | GT | LT);
    if (cond !== 0) i++;
    if (lower(a[i] ?? new Uint8Array(0)) !== 'fields') fail('ERR Mandatory argument FIELDS is missing or not at the right position');
    const n = int(a[i + 1], 'numFields');
    if (n < 1 || i + 2 + n !== a.length) fail('ERR The `numfields` parameter must match the number of arguments');
    const h = hash(c, a[1]);
    if (h === undefined) return;
    for (let j = i + 2; j < a.length; j++) {
      const k = h.indexOf(a[j]);
      if (k < 0) continue;
      const t = h.nums === null ? NaN : h.nums[k];
      if (expiryAllowed(cond, Number.isNaN(t) ? null : t, when)) h.enableNumbers()[k] = when;
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

export const HASH_COMMANDS: CommandTable = [
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
];
