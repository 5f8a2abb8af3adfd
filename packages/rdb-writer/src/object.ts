// Encodes one value (the part of a key record after the type byte and key, or the body of a DUMP payload)
// the way the target Redis version would write a freshly built object, given the encoding thresholds.

import { firstRepeatIndex, type HashField, type KeyValue, type ModuleValue, type StreamValue } from '@redis-persist/keyspace';
import { doubleToSafeInt64, formatDoubleG17, formatDoubleRedis, bytesEqual } from '@redis-persist/bytes';
import { RdbWriterError } from './errors.js';
import {
  ListpackBuilder,
  RdbFormatError,
  RdbType,
  STREAM_ID_MAX,
  STREAM_ID_ZERO,
  U64_MAX,
  ZiplistBuilder,
  compareStreamIds,
  elementInt,
  encodeIntset as buildIntset,
  encodeModuleId,
  encodeZipmap as buildZipmap,
  estimateEntriesRead,
  listpackEntrySize,
  parseStreamId,
  streamIdToBytes,
  type StreamId,
} from '@redis-persist/rdb-format';
import { ByteSink, LengthTooLarge, writeLen, writeRawStr, writeStr } from './sink.js';
import type { RdbThresholds, Target } from './target.js';

export interface EncodeContext {
  target: Target;
  thresholds: RdbThresholds;
  compress: boolean;
  /**
   * Called instead of refusing when only metadata the target lacks would be lost (stream v2 metadata, consumer
   * active-time, hash-field TTLs): the value is written without it. Absent: such data is refused.
   */
  onLoss?: (feature: string, message: string) => void;
}

/** Refuses `feature`, or reports the loss and carries on when the context allows lossy writing. */
function lose(ctx: EncodeContext, feature: string, message: string): void {
  if (!ctx.onLoss) throw unsupported(feature, message);
  ctx.onLoss(feature, message);
}

/** The RDB object type bytes (the one table of `@redis-persist/rdb-format`). */
export { RdbType };

/** Largest hash-field expiry Redis accepts (EB_EXPIRE_TIME_MAX = 2^48 - 1). */
const HFE_MAX = 2 ** 48 - 1;

function unsupported(feature: string, message: string): RdbWriterError {
  return new RdbWriterError('unsupported', message, { feature });
}

function invalid(message: string, feature?: string): RdbWriterError {
  return new RdbWriterError('invalid', message, feature === undefined ? {} : { feature });
}

function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

function checkUnique(items: Uint8Array[], what: string): void {
  if (items.length <= 16) {
    // Small collections (the common case): pairwise comparison allocates nothing.
    for (let i = 1; i < items.length; i++) {
      for (let j = 0; j < i; j++) {
        if (bytesEqual(items[i], items[j])) throw invalid(`duplicate ${what} ${JSON.stringify(Buffer.from(items[i]).toString('utf8'))}`);
      }
    }
    return;
  }
  // larger ones: a hash table of indices (no latin1 string per member, which cost more than the encoding)
  const i = firstRepeatIndex(items);
  if (i >= 0) throw invalid(`duplicate ${what} ${JSON.stringify(Buffer.from(items[i]).toString('utf8'))}`);
}

function emptyKey(type: string): RdbWriterError {
  return unsupported('empty-collection', `an empty ${type} cannot exist in Redis (a loader skips the key)`);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/** Whether pairs (members unique, scores not NaN) are already in (score, member bytes) order. */
function zsetInOrder(pairs: [Uint8Array, number][]): boolean {
  for (let i = 1; i < pairs.length; i++) {
    const a = pairs[i - 1];
    const b = pairs[i];
    if (a[1] > b[1] || (a[1] === b[1] && compareBytes(a[0], b[0]) > 0)) return false;
  }
  return true;
}

/** Listpack / ziplist node size limit for `list-max-listpack-size` (FORMATS §4.6). */
export function listNodeLimit(fill: number): { bytes: number; entries: number } {
  if (fill < 0) return { bytes: [4096, 8192, 16384, 32768, 65536][Math.min(-fill, 5) - 1], entries: Infinity };
  return { bytes: 8192, entries: fill };
}

export class ValueEncoder {
  private readonly lp = new ListpackBuilder();
  private readonly zl: ZiplistBuilder;

  constructor(private readonly ctx: EncodeContext) {
    this.zl = new ZiplistBuilder(!ctx.target.ziplistSmallInts);
  }

  private len(s: ByteSink, n: number | bigint): void {
    try {
      writeLen(s, n, this.ctx.target.len64);
    } catch (err) {
      if (err instanceof LengthTooLarge) throw unsupported('64-bit-length', `${err.message}; the target is RDB ${this.ctx.target.version}`);
      throw err;
    }
  }

  private str(s: ByteSink, data: Uint8Array): void {
    if (data.length > 0xffffffff && !this.ctx.target.len64) {
      throw unsupported('64-bit-length', `a string of ${data.length} bytes needs RDB 8+`);
    }
    writeStr(s, data, this.ctx.compress);
  }

  /** Writes the value's payload into `s` and returns its RDB type byte. */
  encode(s: ByteSink, value: KeyValue): number {
    switch (value.type) {
      case 'string':
        if (!(value.value instanceof Uint8Array)) throw invalid('string value is not a byte string');
        this.str(s, value.value);
        return RdbType.STRING;
      case 'list':
        return this.list(s, value.value);
      case 'set':
        return this.set(s, value.value);
      case 'zset':
        return this.zset(s, value.value);
      case 'hash':
        return this.hash(s, value.value);
      case 'stream':
        return this.stream(s, value.value);
      case 'module':
        return this.module(s, value.value);
      default:
        throw invalid(`unknown value type ${JSON.stringify((value as { type: unknown }).type)}`);
    }
  }

  // ---- lists ----

  private list(s: ByteSink, items: Uint8Array[]): number {
    if (items.length === 0) throw emptyKey('list');
    const t = this.ctx.target;
    const th = this.ctx.thresholds;
    if (t.list === 'linked' || t.list === 'ziplist') {
      if (
        t.list === 'ziplist' &&
        items.length <= th.listMaxZiplistEntries &&
        items.every((e) => e.length <= th.listMaxZiplistValue)
      ) {
        for (const e of items) this.zl.add(e);
        this.str(s, this.zl.finish());
        return RdbType.LIST_ZIPLIST;
      }
      this.len(s, items.length);
      for (const e of items) this.str(s, e);
      return RdbType.LIST;
    }
    const { bytes: limit, entries: maxEntries } = listNodeLimit(th.listMaxListpackSize);
    type Node = { plain: Uint8Array } | { packed: Uint8Array[] };
    const nodes: Node[] = [];
    let cur: Uint8Array[] = [];
    let curBytes = 0;
    const flush = () => {
      if (cur.length) nodes.push({ packed: cur });
      cur = [];
      curBytes = 0;
    };
    for (const e of items) {
      const size = listpackEntrySize(e);
      if (t.plainNodes && e.length > limit) {
        flush();
        nodes.push({ plain: e });
        continue;
      }
      if (cur.length > 0 && (cur.length >= maxEntries || curBytes + size + 7 > limit)) flush();
      cur.push(e);
      curBytes += size;
    }
    flush();
    this.len(s, nodes.length);
    for (const node of nodes) {
      if (t.list === 'quicklist2') {
        if ('plain' in node) {
          this.len(s, 1);
          this.str(s, node.plain);
          continue;
        }
        this.len(s, 2);
        for (const e of node.packed) this.lp.add(e);
        this.str(s, this.lp.finish());
      } else {
        for (const e of (node as { packed: Uint8Array[] }).packed) this.zl.add(e);
        this.str(s, this.zl.finish());
      }
    }
    return t.list === 'quicklist2' ? RdbType.LIST_QUICKLIST_2 : RdbType.LIST_QUICKLIST;
  }

  // ---- sets ----

  private set(s: ByteSink, members: Uint8Array[]): number {
    if (members.length === 0) throw emptyKey('set');
    checkUnique(members, 'set member');
    const t = this.ctx.target;
    const th = this.ctx.thresholds;
    if (t.set !== 'hashtable' && members.length <= th.setMaxIntsetEntries) {
      const ints: bigint[] = [];
      for (const m of members) {
        const v = elementInt(m);
        if (v === null) break;
        ints.push(v);
      }
      if (ints.length === members.length) {
        this.str(s, buildIntset(ints));
        return RdbType.SET_INTSET;
      }
    }
    if (
      t.set === 'listpack' &&
      members.length <= th.setMaxListpackEntries &&
      members.every((m) => m.length <= th.setMaxListpackValue)
    ) {
      for (const m of members) this.lp.add(m);
      this.str(s, this.lp.finish());
      return RdbType.SET_LISTPACK;
    }
    this.len(s, members.length);
    for (const m of members) this.str(s, m);
    return RdbType.SET;
  }

  // ---- sorted sets ----

  private zset(s: ByteSink, pairs: [Uint8Array, number][]): number {
    if (pairs.length === 0) throw emptyKey('sorted set');
    checkUnique(
      pairs.map((p) => p[0]),
      'sorted set member',
    );
    for (const [m, score] of pairs) {
      if (typeof score !== 'number' || Number.isNaN(score)) {
        throw invalid(`sorted set member ${JSON.stringify(Buffer.from(m).toString('utf8'))} has a NaN score`);
      }
    }
    const t = this.ctx.target;
    const th = this.ctx.thresholds;
    // Sources in canonical order (a replay's keyspace, an RDB's skiplist read back) need no sort: one pass says so.
    const sorted = zsetInOrder(pairs) ? pairs : [...pairs].sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : compareBytes(a[0], b[0])));
    const compact =
      t.zset !== 'zset1' &&
      pairs.length <= th.zsetMaxListpackEntries &&
      pairs.every((p) => p[0].length <= th.zsetMaxListpackValue);
    if (compact) {
      const b = t.zset === 'listpack' ? this.lp : this.zl;
      for (const [m, score] of sorted) {
        b.add(m);
        // Listpacks (7.0+) take zzlInsertAt's double2ll range (±2^62); ziplists keep any integral score below
        // 2^63 as an integer entry, which loads the same.
        const whole = t.zset === 'listpack' ? doubleToSafeInt64(score) : Number.isInteger(score) && Math.abs(score) < 2 ** 63 ? BigInt(score) : null;
        if (whole !== null) b.addInt(whole);
        else b.addString(Buffer.from(scoreText(score, t.version), 'latin1'));
      }
      this.str(s, b.finish());
      return t.zset === 'listpack' ? RdbType.ZSET_LISTPACK : RdbType.ZSET_ZIPLIST;
    }
    this.len(s, pairs.length);
    if (t.zset === 'zset1' || t.zset === 'ziplist1') {
      for (const [m, score] of sorted) {
        this.str(s, m);
        if (score === Infinity) s.u8(254);
        else if (score === -Infinity) s.u8(255);
        else {
          const text = Buffer.from(scoreText(score, t.version), 'latin1');
          s.u8(text.length);
          s.bytes(text);
        }
      }
      return RdbType.ZSET;
    }
    // ZSET_2: highest score first, as the skiplist is saved tail to head.
    for (let i = sorted.length - 1; i >= 0; i--) {
      this.str(s, sorted[i][0]);
      s.f64le(sorted[i][1]);
    }
    return RdbType.ZSET_2;
  }

  // ---- hashes ----

  private hash(s: ByteSink, fields: HashField[]): number {
    if (fields.length === 0) throw emptyKey('hash');
    checkUnique(
      fields.map((f) => f.field),
      'hash field',
    );
    const t = this.ctx.target;
    const th = this.ctx.thresholds;
    let withTtl = 0;
    for (const f of fields) {
      if (f.expireAt === null || f.expireAt === undefined) continue;
      if (!Number.isInteger(f.expireAt) || f.expireAt < 1 || f.expireAt > HFE_MAX) {
        throw invalid(`hash field ${JSON.stringify(Buffer.from(f.field).toString('utf8'))} has an expiry out of range (1..2^48-1 ms): ${f.expireAt}`);
      }
      withTtl++;
    }
    if (withTtl > 0 && t.hashTtl === 'none') {
      lose(
        this.ctx,
        'hash-field-ttl',
        `hash field TTLs need RDB 12 (Redis 7.4+)${t.valkey ? ' or Valkey 9 (RDB 80)' : ''}; the target is RDB ${t.version}`,
      );
      // lossy: the fields are kept without their TTLs
      fields = fields.map((f) => (f.expireAt == null ? f : { ...f, expireAt: null }));
      withTtl = 0;
    }
    const compact =
      fields.length <= th.hashMaxListpackEntries &&
      fields.every((f) => f.field.length <= th.hashMaxListpackValue && f.value.length <= th.hashMaxListpackValue);
    if (withTtl > 0 && t.hashTtl === 'valkey') {
      this.len(s, fields.length);
      for (const f of fields) {
        this.str(s, f.field);
        this.str(s, f.value);
        s.i64le(f.expireAt ?? -1);
      }
      return RdbType.HASH_2_VALKEY;
    }
    if (withTtl > 0) {
      let min = Infinity;
      for (const f of fields) if (f.expireAt != null && f.expireAt < min) min = f.expireAt;
      s.i64le(min);
      if (compact) {
        const ordered = [...fields].sort((a, b) => (a.expireAt ?? Infinity) - (b.expireAt ?? Infinity) || 0);
        for (const f of ordered) {
          this.lp.add(f.field);
          this.lp.add(f.value);
          this.lp.addInt(f.expireAt ?? 0);
        }
        this.str(s, this.lp.finish());
        return RdbType.HASH_LISTPACK_EX;
      }
      this.len(s, fields.length);
      for (const f of fields) {
        this.len(s, f.expireAt == null ? 0 : f.expireAt - min + 1);
        this.str(s, f.field);
        this.str(s, f.value);
      }
      return RdbType.HASH_METADATA;
    }
    if (compact && t.hash !== 'hashtable') {
      if (t.hash === 'zipmap') {
        this.str(
          s,
          buildZipmap(fields.map((f) => [f.field, f.value])),
        );
        return RdbType.HASH_ZIPMAP;
      }
      const b = t.hash === 'listpack' ? this.lp : this.zl;
      for (const f of fields) {
        b.add(f.field);
        b.add(f.value);
      }
      this.str(s, b.finish());
      return t.hash === 'listpack' ? RdbType.HASH_LISTPACK : RdbType.HASH_ZIPLIST;
    }
    this.len(s, fields.length);
    for (const f of fields) {
      this.str(s, f.field);
      this.str(s, f.value);
    }
    return RdbType.HASH;
  }

  // ---- streams ----

  private stream(s: ByteSink, st: StreamValue): number {
    const t = this.ctx.target;
    if (t.streamType === 0) throw unsupported('stream', `streams need RDB 9 (Redis 5.0+); the target is RDB ${t.version}`);
    encodeStream(this, s, st, this.ctx);
    return t.streamType;
  }

  /** @internal used by the stream encoder */
  listpack(): ListpackBuilder {
    return this.lp;
  }

  /** @internal used by the encoder of values in pieces */
  ziplist(): ZiplistBuilder {
    return this.zl;
  }

  /** @internal */
  get context(): EncodeContext {
    return this.ctx;
  }

  /** @internal */
  writeLen(s: ByteSink, n: number | bigint): void {
    this.len(s, n);
  }

  /** @internal */
  writeStr(s: ByteSink, data: Uint8Array): void {
    this.str(s, data);
  }

  // ---- modules ----

  private module(s: ByteSink, m: ModuleValue): number {
    if (!this.ctx.target.module) throw unsupported('module', `module values need RDB 8 (Redis 4.0+); the target is RDB ${this.ctx.target.version}`);
    this.len(s, moduleId(m.module, m.encver));
    s.bytes(m.raw);
    return RdbType.MODULE_2;
  }
}

/** The 64-bit module type id: 9 name characters × 6 bits, then the 10-bit encoding version. */
export function moduleId(name: string, encver: number): bigint {
  try {
    return encodeModuleId(name, encver);
  } catch (err) {
    if (err instanceof RdbFormatError) throw invalid(err.message);
    throw err;
  }
}

/**
 * Score text for ziplist/listpack string entries and type-3 string doubles, as each Redis writes it
 * (rdb.c rdbSaveDoubleValue, util.c d2string): up to 6.2 (RDB ≤ 9) `%.17g` (their integer shortcut below 2^52
 * prints the same digits); 7.0 (RDB 10) integral scores within ±2^62 (double2ll) as integers, others `%.17g`;
 * 7.2+ (RDB 11+) the same integers, others fpconv_dtoa's shortest text. -0 is "0" in every version: it passes
 * the integer test. Every form reads back as the same double.
 */
export function scoreText(score: number, rdbVersion = 11): string {
  if (score === Infinity) return 'inf';
  if (score === -Infinity) return '-inf';
  if (score === 0) return '0';
  if (rdbVersion <= 9) return formatDoubleG17(score);
  const whole = doubleToSafeInt64(score);
  if (whole !== null) return whole.toString();
  return formatDoubleRedis(score, rdbVersion <= 10 ? 'redis7.0' : 'redis7.2');
}

// ---- stream encoding (FORMATS §3.8, §4.5) ----

type Id = StreamId;
const U64 = U64_MAX;

function parseId(text: string, what: string): Id {
  const id = parseStreamId(text);
  if (id) return id;
  if (/^\d{1,20}-\d{1,20}$/.test(text)) throw invalid(`${what} ${text} exceeds 64 bits`);
  throw invalid(`${what} ${JSON.stringify(text)} is not a stream ID "<ms>-<seq>"`);
}

const cmpId = compareStreamIds;
const idBytes = streamIdToBytes;
const ZERO: Id = STREAM_ID_ZERO;

function encodeStream(enc: ValueEncoder, s: ByteSink, st: StreamValue, ctx: EncodeContext): void {
  const t = ctx.target;
  const version = t.streamType === 15 ? 1 : t.streamType === 19 ? 2 : 3;
  const entries = st.entries.map((e) => ({ id: parseId(e.id, 'stream entry ID'), fields: e.fields }));
  for (let i = 1; i < entries.length; i++) {
    if (cmpId(entries[i - 1].id, entries[i].id) >= 0) throw invalid(`stream entry IDs are not strictly increasing at ${st.entries[i].id}`);
  }
  // The length is written as given: Redis itself loads (and reports with XLEN) a length that disagrees with the
  // entries, as some real files have (corpus peers/hdt3213-rdb/stream_listpacks_1.rdb: 120 vs 118).
  const length = st.length ?? entries.length;
  if (!Number.isSafeInteger(length) || length < 0) throw invalid(`stream length ${st.length} is not a count`);
  const lastId = parseId(st.lastId, 'stream last ID');
  if (entries.length && cmpId(entries[entries.length - 1].id, lastId) > 0) {
    throw invalid(`stream last ID ${st.lastId} is smaller than its last entry ${st.entries[entries.length - 1].id}`);
  }
  // An empty stream keeps whatever first ID it recorded (7.x reports 0-0 after XGROUP CREATE MKSTREAM).
  const firstId: Id = entries.length ? entries[0].id : st.firstId != null ? parseId(st.firstId, 'stream first ID') : ZERO;
  if (st.firstId != null && entries.length && cmpId(parseId(st.firstId, 'stream first ID'), firstId) !== 0) {
    throw invalid(`stream first ID ${st.firstId} is not its first entry ${st.entries[0].id}`);
  }
  const maxDeleted = st.maxDeletedId == null ? ZERO : parseId(st.maxDeletedId, 'stream max deleted ID');
  const entriesAdded = st.entriesAdded ?? length;
  if (!Number.isSafeInteger(entriesAdded) || entriesAdded < 0) throw invalid(`stream entriesAdded ${entriesAdded} is not a count`);
  const groups = [...st.groups];

  if (version === 1) {
    const lost: string[] = [];
    if (cmpId(maxDeleted, ZERO) !== 0) lost.push(`max-deleted-entry-id ${st.maxDeletedId}`);
    if (entriesAdded !== length) lost.push(`entries-added ${entriesAdded} (length ${length})`);
    // Loading a v1 stream without entries, Redis 7.x records the first ID as the maximal ID.
    if (!entries.length && st.firstId != null && cmpId(firstId, STREAM_ID_MAX) !== 0) lost.push(`recorded-first-entry-id ${st.firstId}`);
    for (const g of groups) {
      if (g.entriesRead == null) continue;
      // what Redis 7 derives loading the v1 stream: entries-added = length, max-deleted 0-0 (null: invalid)
      const est = estimateEntriesRead(parseId(g.lastDeliveredId, 'group last delivered ID'), { length, entriesAdded: length, lastId, firstId });
      if ((est ?? -1) !== g.entriesRead) lost.push(`group entries-read ${g.entriesRead}`);
    }
    if (lost.length) {
      lose(
        ctx,
        'stream-metadata',
        `stream metadata needs RDB 10 (Redis 7.0+): ${lost.slice(0, 3).join(', ')} cannot be expressed in RDB ${t.version}`,
      );
    }
  }
  if (version < 3) {
    for (const g of groups) {
      for (const c of g.consumers) {
        if (c.activeTime != null && c.activeTime !== c.seenTime) {
          lose(
            ctx,
            'stream-consumer-active-time',
            `stream consumer active-time needs RDB 11 (Redis 7.2+): consumer ${JSON.stringify(Buffer.from(c.name).toString('utf8'))} has active-time ${c.activeTime} ≠ seen-time ${c.seenTime}; the target is RDB ${t.version}`,
          );
        }
      }
    }
  }

  // Nodes: a new listpack when the node reaches stream-node-max-entries or stream-node-max-bytes.
  const th = ctx.thresholds;
  const maxBytes = th.streamNodeMaxBytes > 0 ? th.streamNodeMaxBytes : 1 << 30;
  const maxEntries = th.streamNodeMaxEntries > 0 ? th.streamNodeMaxEntries : Infinity;
  const lp = enc.listpack();
  const nodes: { master: Id; start: number; end: number }[] = [];
  {
    let start = 0;
    let bytes = 0;
    for (let i = 0; i < entries.length; i++) {
      let size = 8;
      for (const [f, v] of entries[i].fields) size += f.length + v.length + 4;
      if (i > start && (i - start >= maxEntries || bytes + size >= maxBytes)) {
        nodes.push({ master: entries[start].id, start, end: i });
        start = i;
        bytes = 0;
      }
      bytes += size;
    }
    if (entries.length) nodes.push({ master: entries[start].id, start, end: entries.length });
  }
  enc.writeLen(s, nodes.length);
  for (const node of nodes) {
    const masterFields = entries[node.start].fields.map((p) => p[0]);
    lp.addInt(node.end - node.start);
    lp.addInt(0);
    lp.addInt(masterFields.length);
    for (const f of masterFields) lp.add(f);
    lp.addInt(0);
    for (let i = node.start; i < node.end; i++) {
      const e = entries[i];
      const same =
        e.fields.length === masterFields.length && e.fields.every((p, k) => Buffer.compare(p[0], masterFields[k]) === 0);
      lp.addInt(same ? 2 : 0);
      lp.addInt(BigInt.asIntN(64, e.id.ms - node.master.ms));
      lp.addInt(BigInt.asIntN(64, e.id.seq - node.master.seq));
      if (same) {
        for (const [, v] of e.fields) lp.add(v);
        lp.addInt(e.fields.length + 3);
      } else {
        lp.addInt(e.fields.length);
        for (const [f, v] of e.fields) {
          lp.add(f);
          lp.add(v);
        }
        lp.addInt(e.fields.length * 2 + 4);
      }
    }
    writeRawStr(s, idBytes(node.master));
    enc.writeStr(s, lp.finish());
  }
  enc.writeLen(s, length);
  enc.writeLen(s, lastId.ms);
  enc.writeLen(s, lastId.seq);
  if (version >= 2) {
    enc.writeLen(s, firstId.ms);
    enc.writeLen(s, firstId.seq);
    enc.writeLen(s, maxDeleted.ms);
    enc.writeLen(s, maxDeleted.seq);
    enc.writeLen(s, entriesAdded);
  }
  groups.sort((a, b) => Buffer.compare(a.name, b.name));
  checkUnique(
    groups.map((g) => g.name),
    'stream consumer group',
  );
  enc.writeLen(s, groups.length);
  for (const g of groups) {
    enc.writeStr(s, g.name);
    const ld = parseId(g.lastDeliveredId, 'group last delivered ID');
    enc.writeLen(s, ld.ms);
    enc.writeLen(s, ld.seq);
    if (version >= 2) {
      const er = g.entriesRead;
      if (er != null && (!Number.isInteger(er) || er < 0)) throw invalid(`group entriesRead ${er} is not a count`);
      enc.writeLen(s, er == null ? U64 : er);
    }
    const pel = g.pending.map((p) => ({ ...p, idv: parseId(p.id, 'pending entry ID') }));
    pel.sort((a, b) => cmpId(a.idv, b.idv));
    for (let i = 1; i < pel.length; i++) {
      if (cmpId(pel[i - 1].idv, pel[i].idv) === 0) throw invalid(`pending entry ${pel[i].id} appears twice in group ${Buffer.from(g.name).toString('utf8')}`);
    }
    const consumers = [...g.consumers].sort((a, b) => Buffer.compare(a.name, b.name));
    checkUnique(
      consumers.map((c) => c.name),
      'stream consumer',
    );
    const byConsumer = new Map<string, Uint8Array[]>();
    for (const c of consumers) byConsumer.set(latin1(c.name), []);
    enc.writeLen(s, pel.length);
    for (const p of pel) {
      const b = idBytes(p.idv);
      s.bytes(b);
      s.i64le(p.deliveryTime);
      enc.writeLen(s, p.deliveryCount);
      const list = byConsumer.get(latin1(p.consumer));
      if (!list) {
        throw invalid(`pending entry ${p.id} names consumer ${JSON.stringify(Buffer.from(p.consumer).toString('utf8'))}, which is not in group ${JSON.stringify(Buffer.from(g.name).toString('utf8'))}`);
      }
      list.push(b);
    }
    enc.writeLen(s, consumers.length);
    for (const c of consumers) {
      enc.writeStr(s, c.name);
      s.i64le(c.seenTime);
      if (version >= 3) s.i64le(c.activeTime ?? c.seenTime);
      const ids = byConsumer.get(latin1(c.name)) ?? [];
      enc.writeLen(s, ids.length);
      for (const b of ids) s.bytes(b);
    }
  }
}
