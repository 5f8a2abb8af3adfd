// One key's value arriving in pieces (`KeyspacePiece`, `partial: true` on all but the last; the RDB parser's
// `chunkElements` makes them), encoded as it comes with bounded memory, into exactly the bytes the whole value
// would give (ValueEncoder). Encodings are chosen as Redis chooses them on SAVE, from the element count: the
// pieces are held whole while the count is within the type's compact limits (listpack, intset, ziplist...); past
// them the encoding is the big one whatever follows, so the elements are encoded piece by piece into a Spill and
// the count (elements, or quicklist nodes) is written before that body once the last piece is in.
// What cannot be encoded that way is put together whole, as before (memory: the value): streams; sorted sets for
// RDB < 8 (written lowest score first, while an RDB's skiplist comes highest first); hashes with field TTLs; a
// sorted set whose pieces are not in the descending (score, member) order a skiplist is saved in (then the body
// written so far is decoded back).
// Uniqueness of members is not checked on the encoded path: pieces come from the RDB parser, which refuses a
// duplicate member or field as Redis does (its duplicate check).
import { LzfCompressStream } from '@redis-persist/bytes';
import type { HashField, KeyValue, StreamGroup, StreamValue } from '@redis-persist/keyspace';
import { decodeRdbValue } from '@redis-persist/rdb';
import { RdbType, listpackEntrySize } from '@redis-persist/rdb-format';
import { RdbWriterError } from './errors.js';
import { ValueEncoder, listNodeLimit } from './object.js';
import { ByteSink, writeLen } from './sink.js';
import { Spill } from './spill.js';

/** Encoded bytes gathered before they go to the spill. */
const FLUSH_AT = 256 * 1024;

/** The value put together whole (to be encoded as usual), or its type byte, count and encoded body. */
export type PiecesResult = { whole: KeyValue } | { type: number; count: number; body: Spill };

function push<T>(to: T[], from: readonly T[]): void {
  for (let i = 0; i < from.length; i++) to.push(from[i]!);
}

export class ValueInPieces {
  /** `hold`: pieces kept whole (within the compact limits); `stream`: encoded into `body`; `whole`: kept whole. */
  private mode: 'hold' | 'stream' | 'whole' = 'hold';
  private held: KeyValue | null = null;
  private heldCount = 0;
  /** Past this many elements the value is encoded as it comes (Infinity: never). */
  private readonly streamAbove: number;
  private readonly body: Spill;
  private readonly sink = new ByteSink(64 * 1024);
  private count = 0;
  private type = 0;
  // lists (quicklist): the node being filled
  private cur: Uint8Array[] = [];
  private curBytes = 0;
  // sorted sets: the pair written last
  private lastScore = 0;
  private lastMember: Uint8Array | null = null;

  constructor(
    private readonly enc: ValueEncoder,
    readonly valueType: KeyValue['type'],
    memoryBytes: number,
    tmpDir: string | undefined,
  ) {
    this.body = new Spill(memoryBytes, tmpDir);
    const { target: t, thresholds: th } = enc.context;
    switch (valueType) {
      case 'list':
        this.streamAbove = t.list === 'ziplist' ? th.listMaxZiplistEntries : 0;
        this.type = t.list === 'quicklist2' ? RdbType.LIST_QUICKLIST_2 : t.list === 'quicklist' ? RdbType.LIST_QUICKLIST : RdbType.LIST;
        break;
      case 'set':
        this.streamAbove =
          t.set === 'hashtable' ? 0 : t.set === 'intset' ? th.setMaxIntsetEntries : Math.max(th.setMaxIntsetEntries, th.setMaxListpackEntries);
        this.type = RdbType.SET;
        break;
      case 'zset':
        this.streamAbove = t.zset === 'zset1' || t.zset === 'ziplist1' ? Infinity : th.zsetMaxListpackEntries;
        this.type = RdbType.ZSET_2;
        break;
      case 'hash':
        this.streamAbove = th.hashMaxListpackEntries;
        this.type = RdbType.HASH;
        break;
      default:
        this.streamAbove = Infinity;
    }
    if (this.streamAbove === Infinity) this.mode = 'whole';
  }

  /** The next piece (of this key's type). */
  add(value: KeyValue): void {
    if (value.type !== this.valueType) {
      throw new RdbWriterError('invalid', `a piece of type ${value.type} follows pieces of type ${this.valueType}`);
    }
    if (this.mode !== 'stream') {
      this.merge(value);
      if (this.mode === 'hold' && this.heldCount > this.streamAbove && !this.hasFieldTtls(this.held!)) {
        const held = this.held!;
        this.held = null;
        this.heldCount = 0;
        this.mode = 'stream';
        this.encode(held);
      }
      return;
    }
    this.encode(value);
  }

  /** After the last piece: the whole value, or the type, count and body (the caller drains `body`). */
  finish(): PiecesResult {
    if (this.mode !== 'stream') {
      const whole = this.held!;
      this.held = null;
      return { whole };
    }
    if (this.cur.length) this.flushNode();
    this.flushSink();
    return { type: this.type, count: this.count, body: this.body };
  }

  dispose(): void {
    this.held = null;
    this.cur = [];
    this.body.dispose();
  }

  private hasFieldTtls(v: KeyValue): boolean {
    if (v.type !== 'hash') return false;
    for (const f of v.value) if (f.expireAt != null) return true;
    return false;
  }

  private merge(value: KeyValue): void {
    const n = value.type === 'stream' ? value.value.entries.length : value.type === 'string' || value.type === 'module' ? 1 : value.value.length;
    this.heldCount += n;
    const h = this.held;
    if (h === null) {
      // a copy of the arrays: the pieces that follow are added to it
      this.held =
        value.type === 'stream'
          ? { type: 'stream', value: { ...value.value, entries: [...value.value.entries], groups: value.value.groups.map((g) => ({ ...g, pending: [...g.pending], consumers: [...g.consumers] })) } }
          : value.type === 'string' || value.type === 'module'
            ? value
            : ({ type: value.type, value: [...value.value] } as KeyValue);
      return;
    }
    switch (h.type) {
      case 'list':
      case 'set':
        push(h.value, (value as typeof h).value);
        return;
      case 'zset':
        push(h.value, (value as typeof h).value);
        return;
      case 'hash':
        push(h.value, (value as typeof h).value);
        return;
      case 'stream':
        h.value = mergeStream(h.value, (value as typeof h).value);
        return;
      default:
        throw new RdbWriterError('invalid', `a ${h.type} value cannot come in pieces`);
    }
  }

  private flushSink(): void {
    if (this.sink.pos === 0) return;
    this.body.write(this.sink.buf.subarray(0, this.sink.pos));
    this.sink.reset();
  }

  private encode(value: KeyValue): void {
    const enc = this.enc;
    const s = this.sink;
    switch (value.type) {
      case 'list': {
        if (this.type !== RdbType.LIST) {
          this.listNodes(value.value);
          break;
        }
        for (const e of value.value) {
          enc.writeStr(s, e);
          this.count++;
          if (s.pos >= FLUSH_AT) this.flushSink();
        }
        break;
      }
      case 'set':
        for (const m of value.value) {
          enc.writeStr(s, m);
          this.count++;
          if (s.pos >= FLUSH_AT) this.flushSink();
        }
        break;
      case 'hash': {
        if (this.hasFieldTtls(value)) {
          // field TTLs change the encoding of the whole hash: put it together whole
          this.fallBack(value.value, 0);
          return;
        }
        for (const f of value.value) {
          enc.writeStr(s, f.field);
          enc.writeStr(s, f.value);
          this.count++;
          if (s.pos >= FLUSH_AT) this.flushSink();
        }
        break;
      }
      case 'zset': {
        const pairs = value.value;
        for (let i = 0; i < pairs.length; i++) {
          const [m, score] = pairs[i]!;
          if (typeof score !== 'number' || Number.isNaN(score)) {
            throw new RdbWriterError('invalid', `sorted set member ${JSON.stringify(Buffer.from(m).toString('utf8'))} has a NaN score`);
          }
          // the skiplist order (highest score first, then member bytes downwards), as the whole value is written
          const last = this.lastMember;
          if (last !== null && !(score < this.lastScore || (score === this.lastScore && Buffer.compare(m, last) < 0))) {
            this.fallBack(pairs, i);
            return;
          }
          enc.writeStr(s, m);
          s.f64le(score);
          this.lastScore = score;
          this.lastMember = m;
          this.count++;
          if (s.pos >= FLUSH_AT) this.flushSink();
        }
        break;
      }
      default:
        throw new RdbWriterError('invalid', `a ${value.type} value cannot be encoded in pieces`);
    }
  }

  /** Quicklist nodes, split as the whole value's are (ValueEncoder.list). */
  private listNodes(items: Uint8Array[]): void {
    const { target: t, thresholds: th } = this.enc.context;
    const { bytes: limit, entries: maxEntries } = listNodeLimit(th.listMaxListpackSize);
    for (const e of items) {
      const size = listpackEntrySize(e);
      if (t.plainNodes && e.length > limit) {
        if (this.cur.length) this.flushNode();
        this.enc.writeLen(this.sink, 1);
        this.enc.writeStr(this.sink, e);
        this.count++;
        if (this.sink.pos >= FLUSH_AT) this.flushSink();
        continue;
      }
      if (this.cur.length > 0 && (this.cur.length >= maxEntries || this.curBytes + size + 7 > limit)) this.flushNode();
      this.cur.push(e);
      this.curBytes += size;
    }
  }

  private flushNode(): void {
    const s = this.sink;
    if (this.type === RdbType.LIST_QUICKLIST_2) {
      const lp = this.enc.listpack();
      this.enc.writeLen(s, 2);
      for (const e of this.cur) lp.add(e);
      this.enc.writeStr(s, lp.finish());
    } else {
      const zl = this.enc.ziplist();
      for (const e of this.cur) zl.add(e);
      this.enc.writeStr(s, zl.finish());
    }
    this.cur = [];
    this.curBytes = 0;
    this.count++;
    if (s.pos >= FLUSH_AT) this.flushSink();
  }

  /**
   * The pieces cannot go on being encoded (a sorted set out of skiplist order, a hash field with a TTL): the body
   * written so far is decoded back, and the value is put together whole from it and `rest.slice(from)`.
   */
  private fallBack(rest: readonly ([Uint8Array, number] | HashField)[], from: number): void {
    this.flushSink();
    const head = new ByteSink(16);
    writeLen(head, this.count);
    const parts = [head.take()];
    for (const c of this.body.drain()) parts.push(c);
    this.body.dispose();
    const decoded = decodeRdbValue(this.type, Buffer.concat(parts), this.enc.context.target.version);
    this.mode = 'whole';
    this.held = decoded;
    this.heldCount = this.count;
    this.count = 0;
    push(this.held.value as unknown[], rest.slice(from));
  }
}

/** A stream put together from its pieces: entries in order, a group going on in the next piece under its name. */
function mergeStream(a: StreamValue, b: StreamValue): StreamValue {
  push(a.entries, b.entries);
  const groups: StreamGroup[] = a.groups;
  for (let i = 0; i < b.groups.length; i++) {
    const g = b.groups[i]!;
    const last = groups[groups.length - 1];
    if (i === 0 && last !== undefined && Buffer.compare(last.name, g.name) === 0) {
      push(last.pending, g.pending);
      push(last.consumers, g.consumers);
      continue;
    }
    groups.push({ ...g, pending: [...g.pending], consumers: [...g.consumers] });
  }
  // the metadata is the last piece's
  return { ...b, entries: a.entries, groups };
}

/**
 * A string handed over in pieces (`stringLength` on its pieces: the RDB parser's `stringPieceBytes`), written as
 * the whole string would be (writeStr for a long string: LZF when that saves at least 4 bytes, else raw) without
 * holding it: the pieces are compressed as they come ({@link LzfCompressStream}, the bytes of lzfCompressInto) into
 * one spill, and kept raw in another until the end says which form is written (the raw one only when compression
 * does not pay; the compressor stops once it cannot). Memory: two spill budgets, the compressor's 8 KiB window and
 * 256 KiB hash table.
 */
export class StringInPieces {
  readonly valueType = 'string';
  private got = 0;
  private readonly raw: Spill;
  private readonly packed: Spill | null;
  private readonly lzf: LzfCompressStream | null;

  constructor(
    readonly length: number,
    compress: boolean,
    len64: boolean,
    memoryBytes: number,
    tmpDir: string | undefined,
  ) {
    if (length > 0xffffffff && !len64) {
      throw new RdbWriterError('unsupported', `a string of ${length} bytes needs RDB 8+`, { feature: '64-bit-length' });
    }
    this.raw = new Spill(memoryBytes, tmpDir);
    // as writeStr: strings of 21 bytes up to 4 GiB - 1 (pieces come for 1 MiB or more); LzfCompressStream indexes
    // up to 2 GiB (a longer string is written raw)
    if (compress && length > 20 && length <= 0x7ffffffe) {
      const packed = (this.packed = new Spill(memoryBytes, tmpDir));
      this.lzf = new LzfCompressStream(length, length - 4, (b) => packed.write(b));
    } else {
      this.packed = null;
      this.lzf = null;
    }
  }

  /** The next bytes of the string. */
  add(value: KeyValue): void {
    if (value.type !== 'string') throw new RdbWriterError('invalid', `a piece of type ${value.type} follows pieces of type string`);
    const b = value.value;
    this.got += b.length;
    if (this.got > this.length) throw new RdbWriterError('invalid', `the pieces of a string of ${this.length} bytes hold more`);
    this.raw.write(b);
    const z = this.lzf;
    if (z !== null && !z.failed) {
      z.push(b);
      // compression does not pay: the compressed bytes are dropped now, the rest goes raw
      if (z.failed) this.packed!.dispose();
    }
  }

  /** After the last piece: the compressed length (null: written raw) and the body to drain after the header. */
  finish(): { compressed: number | null; body: Spill } {
    if (this.got !== this.length) throw new RdbWriterError('invalid', `the pieces of a string of ${this.length} bytes hold ${this.got}`);
    const z = this.lzf;
    const n = z !== null && !z.failed ? z.end() : -1;
    if (n >= 0) {
      this.raw.dispose();
      return { compressed: n, body: this.packed! };
    }
    this.packed?.dispose();
    return { compressed: null, body: this.raw };
  }

  dispose(): void {
    this.raw.dispose();
    this.packed?.dispose();
  }
}
