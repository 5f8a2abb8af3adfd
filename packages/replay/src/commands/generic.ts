// Keyspace commands (Redis' db.c, expire.c, and RESTORE of cluster.c).
import { decodeDumpPayload } from '@redis-persist/rdb-writer';
import { fail, lower } from '../keyspace.js';
import { text } from '../numbers.js';
import { type CommandTable, type Handler, arity } from './context.js';
import { GT, LT, NX, XX, checkExpireConditions, dbIndex, expireArg, expiryAllowed, int, trailingOptions } from './options.js';

/** EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT key time [NX|XX|GT|LT], checked in expireGenericCommand's order. */
function expireGeneric(unit: 's' | 'ms', absolute: boolean): Handler {
  return (c, a) => {
    arity(a, 3);
    const flags = trailingOptions(a, 3, NX | XX | GT | LT, (o) => `ERR Unsupported option ${text(o)}`);
    checkExpireConditions(flags);
    const when = expireArg(c, unit, absolute, a[2]);
    const cur = c.ks.expireOf(c.db, a[1]);
    if (cur === undefined || !expiryAllowed(flags, cur, when)) return;
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

export const GENERIC_COMMANDS: CommandTable = [
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
];
