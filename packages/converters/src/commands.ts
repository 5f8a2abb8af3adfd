// Commands that rebuild a key or a function library, in the forms Redis' BGREWRITEAOF writes (FORMATS.md §7).
import { isUtf8 } from 'node:buffer';
import { formatDoubleG17, formatDoubleShortest, bytesEqual } from '@redis-persist/bytes';
import { isStreamId, KeyspaceError } from '@redis-persist/keyspace';
import type { Bytes, FunctionRecord, KeyRecord, KeyspaceRecord, StreamEntry, StreamGroup, StreamPendingEntry, StreamValue } from '@redis-persist/keyspace';

/** How keys are rebuilt as commands (as BGREWRITEAOF does): elements per command, score text. */
export interface RewriteOptions {
  /** Elements per variadic command (RPUSH, SADD, ZADD pairs, HMSET pairs). Default 64, Redis' AOF_REWRITE_ITEMS_PER_CMD. */
  itemsPerCommand?: number;
  /** How scores are printed: 7.2+ shortest round-trip text (default) or 7.0's `%.17g`. Both load exactly. */
  scoreFormat?: 'redis7.2' | 'redis7.0';
}

const cache = new Map<string, Uint8Array>();
/** ASCII argument bytes (command names, numbers, IDs): latin1 is their UTF-8, and much cheaper to make. */
function a(text: string): Uint8Array {
  let b = cache.get(text);
  if (b === undefined) {
    b = Buffer.from(text, 'latin1');
    if (cache.size < 256) cache.set(text, b);
  }
  return b;
}

function num(n: number): Uint8Array {
  return Buffer.from(String(n), 'latin1');
}

// ---------------------------------------------------------------------------------------------------------------
// Scores

/**
 * How Redis prints a score in the commands it writes: `redis7.2` (default) is the 7.2+ shortest round-trip
 * text (`1.1`, `inf`, `-inf`, `1e+16`), `redis7.0` is `%.17g` (`1.1000000000000001`). Both read back as the
 * same double. A rewritten AOF's ZADD takes its score from rio.c rioWriteBulkDouble, which calls fpconv_dtoa
 * (7.2+) or snprintf "%.17g" (7.0) with no integer shortcut, so 1e16 is "1e+16" there (a listpack holds it as
 * an integer instead: see formatDoubleRedis).
 */
export function formatScore(score: number, style: 'redis7.2' | 'redis7.0' = 'redis7.2'): string {
  return style === 'redis7.0' ? formatDoubleG17(score) : scoreText(score);
}

/**
 * formatDoubleShortest(x) for a score, from JavaScript's own shortest round-trip text (the same digits; the two
 * differ only in when they switch to the `e` form): a non-integer from 1e-6 to 1e21 is plain there, and Redis keeps
 * it plain with fewer than 7 fraction digits or a decimal exponent within ±3, else writes `d.ddde±x`; the rest
 * (integers from 1e8 on, zeros, the tiny and the huge) go to formatDoubleShortest.
 */
export function scoreText(x: number): string {
  if (Number.isInteger(x)) {
    // digits only below 1e8 (from 1e8 an integer may end in 8 zeros or more: then `e` form)
    if (x !== 0 && x > -1e8 && x < 1e8) return String(x);
    return formatDoubleShortest(x);
  }
  const ax = x < 0 ? -x : x;
  // NaN and the tiny and huge ones (`e` form in JavaScript)
  if (!(ax >= 1e-6 && ax < 1e21)) return formatDoubleShortest(x);
  // plain in JavaScript here, with a '.'
  const s = String(x);
  const start = x < 0 ? 1 : 0;
  const dot = s.indexOf('.');
  const frac = s.length - dot - 1;
  if (frac < 7) return s;
  const sign = start === 1 ? '-' : '';
  if (ax >= 1) {
    // exponent: digits before the point - 1 (the digits end in no 0: the fraction's last one is not)
    const e = dot - start - 1;
    if (e <= 3) return s;
    return `${sign}${s[start]!}.${s.slice(start + 1, dot)}${s.slice(dot + 1)}e+${e}`;
  }
  // exponent: -(zeros after the point + 1)
  let z = 0;
  while (s.charCodeAt(dot + 1 + z) === 0x30) z++;
  if (z <= 2) return s;
  const d = s.slice(dot + 1 + z);
  return `${sign}${d[0]!}${d.length > 1 ? `.${d.slice(1)}` : ''}e-${z + 1}`;
}


// ---------------------------------------------------------------------------------------------------------------
// Keys

function keyName(rec: KeyRecord): string {
  const k = isUtf8(rec.key) ? JSON.stringify(Buffer.from(rec.key).toString('utf8')) : `base64:${Buffer.from(rec.key).toString('base64')}`;
  return `db ${rec.db} key ${k}`;
}

function cannot(rec: KeyRecord, why: string): never {
  throw new KeyspaceError('not-expressible', `${keyName(rec)}: ${why}`);
}

function variadic(out: Uint8Array[][], head: Uint8Array[], items: readonly Uint8Array[][], per: number): void {
  for (let i = 0; i < items.length; i += per) {
    const cmd = head.slice();
    const end = Math.min(items.length, i + per);
    for (let j = i; j < end; j++) for (const part of items[j]!) cmd.push(part);
    out.push(cmd);
  }
}

/** {@link variadic} for one-part items (list elements, set members): no array per item. */
function variadicSingle(out: Uint8Array[][], head: Uint8Array[], items: readonly Uint8Array[], per: number): void {
  for (let i = 0; i < items.length; i += per) {
    const cmd = head.slice();
    const end = Math.min(items.length, i + per);
    for (let j = i; j < end; j++) cmd.push(items[j]!);
    out.push(cmd);
  }
}

function checkId(rec: KeyRecord, id: string, what: string): Uint8Array {
  if (!isStreamId(id)) cannot(rec, `${what} ${JSON.stringify(id)} is not a stream ID`);
  return a(id);
}

/** `XADD key id f v ...` for one entry. */
export function xadd(rec: KeyRecord, key: Bytes, e: StreamEntry, out: Uint8Array[][]): void {
  if (e.fields.length === 0) cannot(rec, `stream entry ${e.id} has no fields (XADD needs at least one)`);
  if (e.id === '0-0') cannot(rec, 'stream entry 0-0 cannot be added (XADD needs an ID above 0-0)');
  const cmd: Uint8Array[] = [a('XADD'), key, checkId(rec, e.id, 'entry ID')];
  for (const [f, v] of e.fields) cmd.push(f, v);
  out.push(cmd);
}

/** `XSETID` with the stream's last ID and counters; first, for a stream without entries, a dummy XADD trimmed away. */
export function xsetid(rec: KeyRecord, key: Bytes, s: StreamValue, hadEntries: boolean, out: Uint8Array[][]): void {
  // An empty stream (all entries deleted, or made by XGROUP CREATE MKSTREAM): add a dummy entry and trim it
  // away at once; XSETID then restores the real last ID and counters.
  if (!hadEntries) out.push([a('XADD'), key, a('MAXLEN'), a('0'), a('0-1'), a('x'), a('y')]);
  out.push([
    a('XSETID'),
    key,
    checkId(rec, s.lastId, 'lastId'),
    a('ENTRIESADDED'),
    num(s.entriesAdded),
    a('MAXDELETEDID'),
    checkId(rec, s.maxDeletedId, 'maxDeletedId'),
  ]);
}

export function xgroupCreate(rec: KeyRecord, key: Bytes, g: StreamGroup, out: Uint8Array[][]): void {
  out.push([a('XGROUP'), a('CREATE'), key, g.name, checkId(rec, g.lastDeliveredId, 'lastDeliveredId'), a('ENTRIESREAD'), num(g.entriesRead ?? -1)]);
}

export function xclaim(rec: KeyRecord, key: Bytes, g: StreamGroup, consumer: Bytes, p: StreamPendingEntry, out: Uint8Array[][]): void {
  out.push([
    a('XCLAIM'),
    key,
    g.name,
    consumer,
    a('0'),
    checkId(rec, p.id, 'pending entry ID'),
    a('TIME'),
    num(p.deliveryTime),
    a('RETRYCOUNT'),
    num(p.deliveryCount),
    a('JUSTID'),
    a('FORCE'),
  ]);
}

export function createConsumer(key: Bytes, g: StreamGroup, name: Bytes, out: Uint8Array[][]): void {
  out.push([a('XGROUP'), a('CREATECONSUMER'), key, g.name, name]);
}

function streamCommands(rec: KeyRecord, key: Bytes, s: StreamValue, out: Uint8Array[][]): void {
  for (const e of s.entries) xadd(rec, key, e, out);
  xsetid(rec, key, s, s.entries.length > 0, out);
  for (const g of s.groups) {
    xgroupCreate(rec, key, g, out);
    // Pending entries by consumer; a consumer with none is created explicitly.
    const byConsumer = new Map<string, typeof g.pending>();
    for (const p of g.pending) {
      const k = Buffer.from(p.consumer).toString('latin1');
      let list = byConsumer.get(k);
      if (list === undefined) byConsumer.set(k, (list = []));
      list.push(p);
    }
    for (const c of g.consumers) {
      const k = Buffer.from(c.name).toString('latin1');
      const list = byConsumer.get(k);
      if (list === undefined) createConsumer(key, g, c.name, out);
      else {
        for (const p of list) xclaim(rec, key, g, c.name, p, out);
        byConsumer.delete(k);
      }
    }
    // Pending entries naming a consumer the record does not list: XCLAIM creates that consumer.
    for (const list of byConsumer.values()) for (const p of list) xclaim(rec, key, g, list[0]!.consumer, p, out);
  }
}

/**
 * The commands of a stream handed out in pieces (`partial: true` records, as the RDB parser makes them with
 * `chunkElements` and `streamPendingOrder: 'consumer'`), piece by piece, with the bytes {@link commandsForKey} gives
 * for the whole stream when the pieces come in the parser's order: the entries' XADDs, XSETID once the entries are
 * over, then for each group XGROUP CREATE and, consumer by consumer, its XCLAIMs or XGROUP CREATECONSUMER; a piece
 * whose first group is the previous piece's last goes on with it (and with its last consumer); PEXPIREAT after the
 * last piece.
 */
export class StreamPieceCommands {
  private entries = 0;
  private metaDone = false;
  private group: Bytes | null = null;
  /** The consumer whose pending entries the previous piece ended with (they may go on). */
  private carry: Bytes | null = null;

  constructor(private readonly db: number, private readonly key: Bytes) {}

  /** Whether `rec` is a piece of this stream. */
  matches(rec: KeyspaceRecord): boolean {
    return rec.kind === 'key' && rec.type === 'stream' && rec.db === this.db && bytesEqual(rec.key, this.key);
  }

  /** The commands of the next piece (`last`: the stream's last piece). */
  piece(rec: KeyRecord, last: boolean): Uint8Array[][] {
    if (rec.type !== 'stream') cannot(rec, 'a stream piece holds no stream');
    const out: Uint8Array[][] = [];
    const key = rec.key;
    const s = rec.value;
    for (const e of s.entries) xadd(rec, key, e, out);
    this.entries += s.entries.length;
    if (!this.metaDone && (s.groups.length > 0 || last)) {
      xsetid(rec, key, s, this.entries > 0, out);
      this.metaDone = true;
    }
    for (const g of s.groups) {
      if (this.group === null || !bytesEqual(g.name, this.group)) {
        xgroupCreate(rec, key, g, out);
        this.group = g.name;
        this.carry = null;
      }
      const p = g.pending;
      let i = 0;
      const carry = this.carry;
      if (carry !== null) while (i < p.length && bytesEqual(p[i]!.consumer, carry)) xclaim(rec, key, g, carry, p[i++]!, out);
      for (const c of g.consumers) {
        if (i < p.length && bytesEqual(p[i]!.consumer, c.name)) {
          while (i < p.length && bytesEqual(p[i]!.consumer, c.name)) xclaim(rec, key, g, c.name, p[i++]!, out);
          this.carry = c.name;
        } else {
          createConsumer(key, g, c.name, out);
          this.carry = null;
        }
      }
      // entries naming a consumer this piece does not list: XCLAIM creates it
      for (; i < p.length; i++) xclaim(rec, key, g, p[i]!.consumer, p[i]!, out);
    }
    if (last && rec.expireAt !== null && rec.expireAt !== undefined) out.push([a('PEXPIREAT'), key, num(rec.expireAt)]);
    return out;
  }
}

/**
 * The commands that rebuild one key (without SELECT), as Redis' BGREWRITEAOF writes them: SET; RPUSH / SADD /
 * ZADD / HMSET in chunks of `itemsPerCommand`; for a hash with field TTLs one `HMSET key f v` per field plus
 * `HPEXPIREAT key ms FIELDS 1 f` (Redis 7.4+); for a stream XADD per entry (or `XADD key MAXLEN 0 0-1 x y` when
 * empty), `XSETID key last ENTRIESADDED n MAXDELETEDID id`, `XGROUP CREATE key g id ENTRIESREAD n` (-1 when
 * unknown), `XGROUP CREATECONSUMER` for consumers without pending entries and `XCLAIM key g c 0 id TIME ms
 * RETRYCOUNT n JUSTID FORCE` per pending entry; then `PEXPIREAT key ms` for an expiring key.
 *
 * An empty list/set/zset/hash gives no commands (Redis holds no empty collections and drops them on load).
 * Module values throw a {@link KeyspaceError} (`not-expressible`): only the module itself can rewrite them.
 */
export function commandsForKey(rec: KeyRecord, options: RewriteOptions = {}): Uint8Array[][] {
  const per = options.itemsPerCommand ?? 64;
  if (!Number.isInteger(per) || per < 1) throw new KeyspaceError('range', `itemsPerCommand must be a positive integer, got ${per}`);
  const style = options.scoreFormat ?? 'redis7.2';
  const key = rec.key;
  const out: Uint8Array[][] = [];
  switch (rec.type) {
    case 'string':
      out.push([a('SET'), key, rec.value]);
      break;
    case 'list':
      variadicSingle(out, [a('RPUSH'), key], rec.value, per);
      break;
    case 'set':
      variadicSingle(out, [a('SADD'), key], rec.value, per);
      break;
    case 'zset':
      for (const [, s] of rec.value) if (Number.isNaN(s)) cannot(rec, 'a sorted-set score is NaN');
      variadic(out, [a('ZADD'), key], rec.value.map(([m, s]) => [a(formatScore(s, style)), m]), per);
      break;
    case 'hash':
      if (rec.value.some((h) => h.expireAt !== null && h.expireAt !== undefined)) {
        for (const h of rec.value) {
          out.push([a('HMSET'), key, h.field, h.value]);
          if (h.expireAt !== null && h.expireAt !== undefined) out.push([a('HPEXPIREAT'), key, num(h.expireAt), a('FIELDS'), a('1'), h.field]);
        }
      } else {
        const fields = rec.value;
        for (let i = 0; i < fields.length; i += per) {
          const cmd = [a('HMSET'), key];
          const end = Math.min(fields.length, i + per);
          for (let j = i; j < end; j++) cmd.push(fields[j]!.field, fields[j]!.value);
          out.push(cmd);
        }
      }
      break;
    case 'stream':
      streamCommands(rec, key, rec.value, out);
      break;
    case 'module':
      cannot(rec, `a module value (${rec.value.module}, encver ${rec.value.encver}) cannot be written as commands; only the module's own aof_rewrite can do that (use an RDB preamble instead)`);
      break;
    default:
      cannot(rec, `unknown type ${JSON.stringify((rec as { type: unknown }).type)}`);
  }
  if (out.length > 0 && rec.expireAt !== null && rec.expireAt !== undefined) out.push([a('PEXPIREAT'), key, num(rec.expireAt)]);
  return out;
}

/**
 * `FUNCTION LOAD <code>`, exactly as Redis' rewrite writes it (no REPLACE): an AOF base is replayed into an
 * empty server, where plain LOAD always succeeds, and a library that somehow exists already is reported as an
 * error instead of being silently replaced.
 */
export function commandsForFunction(fn: FunctionRecord): Uint8Array[][] {
  return [[a('FUNCTION'), a('LOAD'), fn.code]];
}
