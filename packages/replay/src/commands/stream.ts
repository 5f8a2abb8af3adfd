// Streams (Redis' t_stream.c).
import { BytesMap } from '../bytes-map.js';
import { fail, lower } from '../keyspace.js';
import { type GroupState, StreamState, SEQ_BITS, SEQ_MASK, MAX_ID, own } from '../model.js';
import { text } from '../numbers.js';
import { packedStreamAdd, packedStreamLastId } from '../pack.js';
import { type CommandContext, type CommandTable, type Handler, Unsupported, arity } from './context.js';
import { int } from './options.js';

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
  // Without trimming, a packed stream takes the entry on its packed form (pack.ts).
  const packed = trimSpec === null ? c.ks.packedIndex(c.db, a[1], 'stream') : -1;
  let s = packed >= 0 ? undefined : stream(c, a[1]);
  if (s === undefined && nomk && packed < 0) return;
  const last = packed >= 0 ? packedStreamLastId(c.ks.packedAt(c.db, packed)) : s?.lastId ?? 0n;
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
  if (packed >= 0) {
    const next = packedStreamAdd(c.ks.packedAt(c.db, packed), id, fv);
    if (next !== null) {
      c.ks.setPackedAt(c.db, packed, next);
      return;
    }
  }
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

export const STREAM_COMMANDS: CommandTable = [
  ['xadd', XADD],
  ['xtrim', XTRIM],
  ['xdel', XDEL],
  ['xsetid', XSETID],
  ['xgroup', XGROUP],
  ['xack', XACK],
  ['xclaim', XCLAIM],
];
