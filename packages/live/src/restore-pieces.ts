// A key too big for one RESTORE (its payload is longer than the target's proto-max-bulk-len) is rebuilt with
// commands under a temporary name in the key's slot, then renamed into place: the commands of one key (or of one
// piece of a key handed out in pieces), the temporary name, and the server-side concatenation of arguments that are
// themselves longer than the limit.
import { createHash } from 'node:crypto';
import { keyHashSlot } from '@redis-persist/cluster';
import { isStreamId, type HashField, type KeyRecord, type StreamValue } from '@redis-persist/keyspace';
import { formatDoubleShortest } from '@redis-persist/bytes';
import type { Command } from './connection.js';
import { LiveError } from './errors.js';

/** What Redis accepts in one bulk string by default (proto-max-bulk-len). */
export const DEFAULT_MAX_BULK_LENGTH = 512 * 1024 * 1024;

/** How a big key is restored in pieces: the target's longest argument and bytes per command. */
export interface PieceOptions {
  /** The target's proto-max-bulk-len: no argument sent is longer (longer ones are concatenated by EVAL). */
  maxBulkLength: number;
  /** Most argument bytes per command (elements batched up to it). Default 1 MiB. */
  batchBytes?: number;
  /** Most elements per command. Default 1000. */
  batchItems?: number;
  /** Most argument bytes of one EVAL building a string longer than the limit (then the next one appends). Default 256 MiB. */
  evalBytes?: number;
  /** Stream commands of Redis 7.0+ (`XSETID ... ENTRIESADDED ... MAXDELETEDID`, `XGROUP CREATE ... ENTRIESREAD`). */
  streams7: boolean;
  /** `XTRIM ... MINID` (Redis 6.2+). */
  trimMinId: boolean;
}

const enc = new TextEncoder();
const A = (s: string) => enc.encode(s);
const num = (n: number) => A(String(n));

// ---------------------------------------------------------------------------------------------------------------
// Temporary names

let slotTags: string[] | null = null;

const TAG_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/**
 * A short tag whose hash slot is `slot`: `{tag}anything` lies in that slot. The table (16384 entries: the first
 * tags of 1-4 letters and digits, shortest first, that hash to each slot) is made on first use, the CRC16 carried
 * from a tag's prefix to the tags extending it.
 */
export function slotTag(slot: number): string {
  if (slotTags === null) {
    // CRC16/XMODEM one byte at a time, carried from a tag's prefix to the tags extending it
    const table = new Uint16Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i << 8;
      for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
      table[i] = c;
    }
    const n = TAG_ALPHABET.length;
    const code = Array.from(TAG_ALPHABET, (c) => c.charCodeAt(0));
    const step = (crc: number, i: number) => ((crc << 8) & 0xffff) ^ table[((crc >> 8) ^ code[i]!) & 0xff]!;
    const found = new Int32Array(16384).fill(-1); // the tag as digits of base 62, 1-3 of them, + 62^3 * (length - 1)
    let left = 16384;
    const L2 = n ** 3;
    for (let a = 0; a < n; a++) {
      const s = step(0, a) & 0x3fff;
      if (found[s] === -1) (found[s] = a), left--;
    }
    for (let a = 0; a < n && left > 0; a++) {
      const ca = step(0, a);
      for (let b = 0; b < n; b++) {
        const s = step(ca, b) & 0x3fff;
        if (found[s] === -1) (found[s] = L2 + a * n + b), left--;
      }
    }
    for (let a = 0; a < n && left > 0; a++) {
      const ca = step(0, a);
      for (let b = 0; b < n && left > 0; b++) {
        const cb = step(ca, b);
        for (let c = 0; c < n; c++) {
          const s = step(cb, c) & 0x3fff;
          if (found[s] === -1) (found[s] = 2 * L2 + (a * n + b) * n + c), left--;
        }
      }
    }
    // (62^3 three-character tags cover every slot: checked by the tests)
    if (left > 0) throw new Error(`slotTag: ${left} slots without a tag`);
    slotTags = Array.from(found, (f) => {
      const len = Math.floor(f / L2) + 1;
      let v = f % L2;
      let t = '';
      for (let i = 0; i < len; i++) {
        t = TAG_ALPHABET[v % n]! + t;
        v = Math.floor(v / n);
      }
      return t;
    });
  }
  return slotTags[slot]!;
}

/**
 * The temporary name a key is built under: `{<tag>}redis-persist:restore-tmp:<sha1 of db and key>`, where the tag
 * hashes to the key's own slot (so that the RENAME into place is a same-slot command in a cluster; the key's own
 * hash tag, or its whole name, decides that slot). The same key always gets the same name, so a run that redoes it
 * (`resume`) finds and deletes what an interrupted one left.
 */
export function tempKeyName(db: number, key: Uint8Array): Uint8Array {
  const h = createHash('sha1').update(`${db}\0`).update(key).digest('hex');
  return A(`{${slotTag(keyHashSlot(key))}}redis-persist:restore-tmp:${h}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Server-side concatenation

/**
 * EVAL script: `redis.call(ARGV[1], KEYS[1], <args>)` where each arg is given as a count N followed by N pieces,
 * joined in Lua. Redis checks proto-max-bulk-len only where it reads the protocol (and in APPEND/SETRANGE), not on
 * what a script passes to a command. (`unpack` takes some thousands of values: only short commands go this way.)
 */
export const CONCAT_CALL_SCRIPT = [
  'local a = {ARGV[1], KEYS[1]}',
  'local i = 2',
  'local n = #ARGV',
  'while i <= n do',
  '  local c = tonumber(ARGV[i])',
  "  a[#a + 1] = table.concat(ARGV, '', i + 1, i + c)",
  '  i = i + c + 1',
  'end',
  'return redis.call(unpack(a))',
].join('\n');

/**
 * EVAL script building a string longer than proto-max-bulk-len in steps: ARGV[1] `0` sets KEYS[1] to the pieces
 * that follow, `1` appends them (by GET, concatenation and SET: APPEND refuses to grow a string past the limit).
 */
export const CONCAT_STRING_SCRIPT = [
  "local s = table.concat(ARGV, '', 2)",
  "if ARGV[1] == '1' then",
  "  local cur = redis.call('GET', KEYS[1])",
  "  if not cur then return redis.error_reply('ERR the temporary key of a restore in pieces vanished') end",
  '  s = cur .. s',
  'end',
  "return redis.call('SET', KEYS[1], s)",
].join('\n');

/** An argument cut in pieces of at most `max` bytes (views, no copy). */
function cut(arg: Uint8Array, max: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < arg.length; i += max) out.push(arg.subarray(i, Math.min(arg.length, i + max)));
  return out;
}

/** `cmd` (whose key is at index 1) as an EVAL of {@link CONCAT_CALL_SCRIPT} when an argument is longer than `max`. */
function fitted(cmd: Uint8Array[], max: number): Uint8Array[] {
  if (!cmd.some((x, i) => i !== 1 && x.length > max)) return cmd;
  if (cmd.length > 4000) throw new LiveError('unsupported', `a command of ${cmd.length} arguments with one longer than proto-max-bulk-len (${max}) cannot be built by EVAL`);
  const out: Uint8Array[] = [A('EVAL'), A(CONCAT_CALL_SCRIPT), A('1'), cmd[1]!, cmd[0]!];
  for (let i = 2; i < cmd.length; i++) {
    const parts = cut(cmd[i]!, max);
    out.push(num(parts.length), ...parts);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Commands

/** Batches elements (each a list of arguments) into `head + elements` commands bounded in bytes and count. */
function* batches(head: Uint8Array[], items: Iterable<Uint8Array[]>, o: Required<Pick<PieceOptions, 'batchBytes' | 'batchItems' | 'maxBulkLength'>>): Generator<Uint8Array[]> {
  let cmd: Uint8Array[] = head.slice();
  let bytes = 0;
  let count = 0;
  for (const parts of items) {
    let size = 0;
    let big = false;
    for (const p of parts) {
      size += p.length;
      if (p.length > o.maxBulkLength) big = true;
    }
    if (big) {
      if (count > 0) yield cmd;
      yield fitted([...head, ...parts], o.maxBulkLength);
      cmd = head.slice();
      bytes = 0;
      count = 0;
      continue;
    }
    if (count > 0 && (bytes + size > o.batchBytes || count >= o.batchItems)) {
      yield cmd;
      cmd = head.slice();
      bytes = 0;
      count = 0;
    }
    for (const p of parts) cmd.push(p);
    bytes += size;
    count++;
  }
  if (count > 0) yield cmd;
}

function checkId(key: Uint8Array, id: string, what: string): Uint8Array {
  if (!isStreamId(id)) throw new LiveError('unsupported', `key ${JSON.stringify(Buffer.from(key.subarray(0, 200)).toString('utf8'))}: ${what} ${JSON.stringify(id)} is not a stream ID`);
  return A(id);
}

function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-');
  const [bm, bs] = b.split('-');
  const d = BigInt(am!) - BigInt(bm!);
  if (d !== 0n) return d < 0n ? -1 : 1;
  const e = BigInt(as!) - BigInt(bs!);
  return e === 0n ? 0 : e < 0n ? -1 : 1;
}

/**
 * The commands rebuilding a stream exactly: its entries (XADD, in ID order), its counters (XSETID with
 * ENTRIESADDED and MAXDELETEDID), its groups (XGROUP CREATE with ENTRIESREAD), their consumers (CREATECONSUMER) and
 * pending entries (XCLAIM ... TIME RETRYCOUNT JUSTID FORCE). A pending entry whose stream entry is gone (trimmed or
 * deleted: XCLAIM would drop it) is claimed on a stand-in entry of the same ID, added among the others and removed
 * after the claims: the ones before the first real entry with `XTRIM MINID` (which leaves max-deleted-entry-id
 * alone, as the trim that removed them did), the others with XDEL; a second XSETID then puts the counters back.
 */
function* streamCommands(key: Uint8Array, tmp: Uint8Array, s: StreamValue, o: PieceOptions & { batchBytes: number; batchItems: number }): Generator<Uint8Array[]> {
  const XADD = A('XADD');
  const present = new Set(s.entries.map((e) => e.id));
  const standIns = new Set<string>();
  for (const g of s.groups) for (const p of g.pending) if (!present.has(p.id)) standIns.add(p.id);
  const stand = [...standIns].sort(compareIds);
  // entries and stand-ins merged in ID order
  let j = 0;
  for (const e of s.entries) {
    while (j < stand.length && compareIds(stand[j]!, e.id) < 0) yield [XADD, tmp, checkId(key, stand[j++]!, 'pending entry ID'), A('x'), A('y')];
    if (e.fields.length === 0) throw new LiveError('unsupported', `stream entry ${e.id} has no fields (XADD needs one)`);
    const cmd: Uint8Array[] = [XADD, tmp, checkId(key, e.id, 'entry ID')];
    for (const [f, v] of e.fields) cmd.push(f, v);
    yield fitted(cmd, o.maxBulkLength);
  }
  while (j < stand.length) yield [XADD, tmp, checkId(key, stand[j++]!, 'pending entry ID'), A('x'), A('y')];
  if (s.entries.length === 0 && stand.length === 0) {
    // an empty stream: a dummy entry trimmed away at once (XSETID below gives the real last ID and counters)
    yield [XADD, tmp, A('MAXLEN'), A('0'), A('0-1'), A('x'), A('y')];
  }
  const setId: Uint8Array[] = o.streams7
    ? [A('XSETID'), tmp, checkId(key, s.lastId, 'last ID'), A('ENTRIESADDED'), num(s.entriesAdded), A('MAXDELETEDID'), checkId(key, s.maxDeletedId, 'max deleted ID')]
    : [A('XSETID'), tmp, checkId(key, s.lastId, 'last ID')];
  yield setId;
  const XGROUP = A('XGROUP');
  for (const g of s.groups) {
    const create: Uint8Array[] = [XGROUP, A('CREATE'), tmp, g.name, checkId(key, g.lastDeliveredId, 'group last-delivered ID')];
    if (o.streams7) create.push(A('ENTRIESREAD'), num(g.entriesRead ?? -1));
    yield create;
    const byConsumer = new Map<string, typeof g.pending>();
    for (const p of g.pending) {
      const k = Buffer.from(p.consumer).toString('latin1');
      let list = byConsumer.get(k);
      if (list === undefined) byConsumer.set(k, (list = []));
      list.push(p);
    }
    const claim = function* (consumer: Uint8Array, list: typeof g.pending): Generator<Uint8Array[]> {
      for (const p of list) {
        yield [A('XCLAIM'), tmp, g.name, consumer, A('0'), checkId(key, p.id, 'pending entry ID'), A('TIME'), num(p.deliveryTime), A('RETRYCOUNT'), num(p.deliveryCount), A('JUSTID'), A('FORCE')];
      }
    };
    for (const c of g.consumers) {
      const k = Buffer.from(c.name).toString('latin1');
      const list = byConsumer.get(k);
      if (list === undefined) yield [XGROUP, A('CREATECONSUMER'), tmp, g.name, c.name];
      else {
        yield* claim(c.name, list);
        byConsumer.delete(k);
      }
    }
    for (const list of byConsumer.values()) yield* claim(list[0]!.consumer, list);
  }
  if (stand.length > 0) {
    const first = s.entries[0]?.id;
    const front = first === undefined ? stand : stand.filter((id) => compareIds(id, first) < 0);
    const middle = first === undefined ? [] : stand.filter((id) => compareIds(id, first) > 0);
    if (front.length > 0) {
      if (first === undefined) yield [A('XTRIM'), tmp, A('MAXLEN'), A('0')];
      else if (o.trimMinId) yield [A('XTRIM'), tmp, A('MINID'), A(first)];
      else middle.unshift(...front);
    }
    yield* batches([A('XDEL'), tmp], middle.map((id) => [A(id)]), { batchBytes: o.batchBytes, batchItems: o.batchItems, maxBulkLength: o.maxBulkLength });
    yield setId;
  }
}

function hashItems(fields: HashField[]): Uint8Array[][] {
  return fields.map((h) => [h.field, h.value]);
}

/**
 * The commands that add one key's value (or one piece of it) to the temporary key `tmp` (which they create): SET
 * (longer than the limit: EVAL steps), RPUSH / SADD / ZADD / HSET in batches (an element longer than the limit
 * alone, concatenated by EVAL), HPEXPIREAT for hash fields with their own expiry, the stream commands (see
 * streamCommands). No TTL, no rename: the caller does those once the whole key is there. A module value cannot be
 * written as commands (LiveError 'unsupported').
 */
export function* pieceCommands(rec: KeyRecord, tmp: Uint8Array, options: PieceOptions): Generator<Uint8Array[]> {
  const o = { ...options, batchBytes: Math.min(options.batchBytes ?? 1024 * 1024, options.maxBulkLength), batchItems: options.batchItems ?? 1000 };
  const max = o.maxBulkLength;
  switch (rec.type) {
    case 'string': {
      if (rec.value.length <= max) {
        yield [A('SET'), tmp, rec.value];
        return;
      }
      const step = Math.max(max, Math.min(options.evalBytes ?? 256 * 1024 * 1024, rec.value.length));
      for (let at = 0; at < rec.value.length; at += step) {
        const part = rec.value.subarray(at, Math.min(rec.value.length, at + step));
        yield [A('EVAL'), A(CONCAT_STRING_SCRIPT), A('1'), tmp, A(at === 0 ? '0' : '1'), ...cut(part, max)];
      }
      return;
    }
    case 'list':
      yield* batches([A('RPUSH'), tmp], rec.value.map((v) => [v]), o);
      return;
    case 'set':
      yield* batches([A('SADD'), tmp], rec.value.map((v) => [v]), o);
      return;
    case 'zset':
      for (const [, s] of rec.value) if (Number.isNaN(s)) throw new LiveError('unsupported', 'a sorted-set score is NaN');
      yield* batches([A('ZADD'), tmp], rec.value.map(([m, s]) => [A(formatDoubleShortest(s)), m]), o);
      return;
    case 'hash': {
      yield* batches([A('HSET'), tmp], hashItems(rec.value), o);
      // field expiries (Redis 7.4+), grouped by time
      const byTime = new Map<number, Uint8Array[]>();
      for (const h of rec.value) {
        if (h.expireAt === null || h.expireAt === undefined) continue;
        let list = byTime.get(h.expireAt);
        if (list === undefined) byTime.set(h.expireAt, (list = []));
        list.push(h.field);
      }
      for (const [at, fields] of byTime) {
        for (let i = 0; i < fields.length; i += o.batchItems) {
          const some = fields.slice(i, i + o.batchItems);
          yield fitted([A('HPEXPIREAT'), tmp, num(at), A('FIELDS'), num(some.length), ...some], max);
        }
      }
      return;
    }
    case 'stream':
      for (const cmd of streamCommands(rec.key, tmp, rec.value, o)) yield fitted(cmd, max);
      return;
    case 'module':
      throw new LiveError('unsupported', `a module value (${rec.value.module}) cannot be written as commands, and its RESTORE payload is longer than proto-max-bulk-len`);
    default:
      throw new LiveError('unsupported', `unknown type ${JSON.stringify((rec as { type: unknown }).type)}`);
  }
}

/** The elements a piece adds (string: its length in bytes), for the check made before the rename. */
export function pieceSize(rec: KeyRecord): number {
  switch (rec.type) {
    case 'string':
      return rec.value.length;
    case 'list':
    case 'set':
    case 'zset':
    case 'hash':
      return rec.value.length;
    case 'stream':
      return rec.value.entries.length;
    default:
      return 0;
  }
}

/** The command giving what {@link pieceSize} counts, for a key of `type`. */
export function sizeCommand(type: KeyRecord['type'], tmp: Uint8Array): Command | null {
  switch (type) {
    case 'string':
      return ['STRLEN', tmp];
    case 'list':
      return ['LLEN', tmp];
    case 'set':
      return ['SCARD', tmp];
    case 'zset':
      return ['ZCARD', tmp];
    case 'hash':
      return ['HLEN', tmp];
    case 'stream':
      return ['XLEN', tmp];
    default:
      return null;
  }
}

/** The longest argument other than the key in the commands of `rec` would be (elements, fields, values). */
export function longestElement(rec: KeyRecord): number {
  let m = 0;
  switch (rec.type) {
    case 'string':
      return rec.value.length;
    case 'list':
    case 'set':
      for (const v of rec.value) if (v.length > m) m = v.length;
      return m;
    case 'zset':
      for (const [v] of rec.value) if (v.length > m) m = v.length;
      return m;
    case 'hash':
      for (const h of rec.value) m = Math.max(m, h.field.length, h.value.length);
      return m;
    case 'stream':
      for (const e of rec.value.entries) for (const [f, v] of e.fields) m = Math.max(m, f.length, v.length);
      for (const g of rec.value.groups) {
        m = Math.max(m, g.name.length);
        for (const c of g.consumers) m = Math.max(m, c.name.length);
      }
      return m;
    default:
      return 0;
  }
}
