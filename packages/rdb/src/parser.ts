import { BytesError, ByteQueue, Crc64, intToBytes, lzfDecompress, lzfDecompressStep, lzfMaxDecompressedLength, lzfValid, parseCanonicalInt, strtod } from '@redis-persist/bytes';
import { KeyFilter } from '@redis-persist/keyspace';
import type {
  FunctionRecord,
  HashField,
  KeyType,
  KeyValue,
  StreamEntry,
  StreamGroup,
  StreamValue,
} from '@redis-persist/keyspace';
import {
  ModuleOpcode,
  QuicklistContainer,
  RdbOpcode,
  RdbLength,
  RdbStringEncoding,
  RdbType,
  STREAM_ID_MAX,
  ZSET1_SCORE_NAN,
  ZSET1_SCORE_NEG_INF,
  ZSET1_SCORE_POS_INF,
  U64_MAX,
  decodeModuleId,
  describeRdbType,
  estimateEntriesRead,
  formatStreamId,
  functionLibraryFirstLine,
  intsetEntries,
  isSingleBlobType,
  listpackCount,
  listpackDuplicate,
  listpackEntries,
  listpackVisit,
  parseFunctionLibraryHeader,
  parseStreamId,
  rdbTypeName,
  RdbFormatError,
  streamIdFromBytes,
  streamIdTextAt,
  u64Text,
  ziplistCount,
  ziplistDuplicate,
  ziplistEntries,
  ziplistVisit,
  zipmapEntries,
  type PackedEntry,
  type PackedVisit,
  type StreamId,
} from '@redis-persist/rdb-format';
import { DUP_QUEUE, DupCheck } from './dup.js';
import { NameSet, StreamIdTable } from './stream-tables.js';
import { RdbError, type RdbErrorCode, type RdbErrorInit } from './errors.js';

import type { ReadRdbOptions, RdbMagic, RdbRecord, RdbSkip } from './types.js';

/** Thrown by the primitive readers when the buffered bytes end inside the unit being read. */
const NEED: unique symbol = Symbol('need more bytes');

/** What the parser does with a value, or with a string inside one. */
const enum ValueMode {
  /** Walk the structure only (filtered-out keys): no decompression, no blob decoding. */
  Skip = 0,
  /** Decode and validate everything, keep nothing. */
  Check = 1,
  /** Decode, validate and materialise. */
  Value = 2,
  /** Validate (decompress LZF) and keep nothing. */
  Drop = 3,
  /** Validate and leave the bytes in this.rb[this.rs..this.re) (until the next read), return EMPTY. */
  Range = 4,
}

// The length encodings as plain constants: len() and str() run for every string of the file.
const { BITS6: LEN_6BIT, BITS14: LEN_14BIT, ENCODED: LEN_ENCODED, BITS32: LEN_32BIT, BITS64: LEN_64BIT } = RdbLength;
const { INT8: ENC_INT8, INT16: ENC_INT16, INT32: ENC_INT32, LZF: ENC_LZF } = RdbStringEncoding;

const EMPTY = new Uint8Array(0);
const latin1 = new TextDecoder('latin1');

/** The newest Redis RDB version the parser reads (files with the `VALKEY` magic have their own range, from 80). */
export const RDB_MAX_VERSION = 13;
/** The RDB versions Valkey writes under its own `VALKEY` magic (9.0, 9.2). */
const VALKEY_MIN_VERSION = 80;
const VALKEY_MAX_VERSION = 81;
/** The first RDB version with a CRC64 after the EOF opcode. */
const FIRST_CHECKSUM_VERSION = 5;
/** The first RDB version whose KEY_META opcode (243) Redis writes (8.6). */
const FIRST_KEY_META_VERSION = 13;
/** The 9-byte header: `REDIS` + 4 digits, or `VALKEY` + 3. */
const HEADER_BYTES = 9;

export { rdbTypeName };

interface ValueResult {
  value?: KeyValue;
  elements: number;
  empty: boolean;
}

interface ParserConfig {
  values: boolean;
  file?: string;
  maxString: number;
  maxDb: number;
  maxDup: number;
  stopAtEnd: boolean;
  dropExpiredBefore: number | null;
  streamMetaFromFile: boolean;
  skipEmpty: boolean;
  chunk: number;
  /** Bytes per piece of a big string (0: strings come whole). */
  stringPiece: number;
  pendingByConsumer: boolean;
  verifyChecksum: boolean;
  computeChecksum: boolean;
  salvage: boolean;
  onSkip: ((skip: RdbSkip) => void) | null;
  maxSalvage: number;
  /** The key filter, null when it passes everything. */
  filter: KeyFilter | null;
}

/** Receives the keys of {@link RdbParser.setKeySink}: database, RDB type byte, absolute expiry in Unix ms or null. */
export type KeySink = (db: number, rdbType: number, expireAt: number | null) => void;

/**
 * Receives the keys that the parser walks in place instead of handing them out as records
 * ({@link RdbParser.setKeyVisitor}): a direct transcoder writes its output straight from these views. Every view
 * (`b[s..e)`) is only valid during the call. A key goes `key`, then its strings (`item`, a zset member's `score`
 * after it), then `done`; or `cancel` at any point (damage, a value not wholly buffered, an empty collection),
 * after which the parser reads the same key again the usual way and hands it out as records: the visitor must then
 * forget everything it got for it.
 */
export interface KeyVisitor {
  /** A key begins: its db, name `k[ks..ke)`, type and absolute expiry in Unix ms (null: none). */
  key(db: number, k: Uint8Array, ks: number, ke: number, type: KeyType, expireAt: number | null): void;
  /** The next string: the string value, a list element, a set member, a zset member, a hash field then its value. */
  item(b: Uint8Array, s: number, e: number): void;
  /** The score of the sorted-set member just given. */
  score(score: number): void;
  /** The key's value is complete (at least one element). */
  done(): void;
  /** Forget what was given for the current key. */
  cancel(): void;
}

/** A value bigger than this (1 MiB) is not waited for whole: it goes the usual way, as records in pieces. */
const VISIT_MAX_BYTES = 1 << 20;

/** What {@link RdbParser.batch} checks: set members, hash fields (with their values) or members with binary scores. */
const enum BatchKind {
  Set = 0,
  Hash = 1,
  Zset = 2,
}

const STRING_RESULT: ValueResult = { elements: 1, empty: false };
const SKIPPED_RESULT: ValueResult = { elements: 0, empty: false };

/** Result of {@link RdbParser.next} when the buffered bytes are not enough for the next record. */
export const NEED_MORE = 'need-more';
/** Result of {@link RdbParser.next} once the file has been parsed to its end. */
export const DONE = 'done';

/**
 * The synchronous core, driven as the project's other state machines (RespDecoder, AofScanner): {@link push} a
 * chunk, then pull records with {@link next} until it returns {@link NEED_MORE} (push more bytes) or {@link DONE};
 * call {@link end} at the end of input (an incomplete record is then reported as truncated). Memory is bounded by the
 * largest single string of the file (element, packed blob) plus, in value mode, the value of one key.
 * Errors are {@link RdbError}s; after one the parser is dead.
 */
export class RdbParser {
  private readonly q = new ByteQueue(64 * 1024);
  private pos = 0;
  private needBytes = 0;
  private needWhat = '';
  private needAt = 0;
  private finished = false;
  private done = false;
  private readonly crc = new Crc64();
  /** Absolute offset up to which the CRC covers the file (a salvaged key's bytes are read twice, counted once). */
  private crcDone = 0;
  /**
   * `salvage`: the bytes of the value being read from absolute offset `pinStart` are kept (in `pinned` up to
   * absolute offset `pinDone`, the rest still in the queue) so that a damaged one can be walked again to its end;
   * `pinDone` is -1 when nothing is kept (no value being read, or one too big to keep).
   */
  private pinStart = 0;
  private pinDone = -1;
  private pinned: Uint8Array[] = [];
  private pinnedBytes = 0;
  /** While a damaged value is walked again to find its end: the error found in it (inner checks are off). */
  private walking: RdbError | null = null;
  private readonly gen: Generator<number | RdbRecord, void, void>;
  /** The key being decoded, for the partial records of chunked values. */
  private partialCtx: Omit<Extract<RdbRecord, { kind: 'key' }>, 'size' | 'elements' | 'empty' | 'value'> | null = null;
  private partials = 0;
  private readonly cfg: ParserConfig;
  private scratch = new Uint8Array(0);
  private itemOffset = 0;
  private capture: Uint8Array[] | null = null;
  /** RDB version from the header (0 until read). */
  version = 0;
  magic: RdbMagic = 'REDIS';
  /** Offset just past the RDB once its end was reached. */
  endOffset = -1;
  /** The key whose value is being read (for error reports), else null. */
  get current(): { key: Uint8Array; rdbType: number; offset: number } | null {
    if (!this.inKey) return null;
    const key = this.sink ? this.keyCopy(this.keyBuf, this.keyAt, this.keyLen) : this.curKey;
    return { key, rdbType: this.curType, offset: this.curOffset };
  }

  /** The last key read completely, when a key sink is set (else null: the key records carry the keys). */
  get lastKey(): Uint8Array | null {
    return this.sink && this.lastKeyLen >= 0 ? this.keyCopy(this.lastKeyBuf, this.lastKeyAt, this.lastKeyLen) : null;
  }

  /** Offset just past the last key handed to the key sink (0 before any). */
  sunkEnd = 0;

  private inKey = false;
  private curKey: Uint8Array = EMPTY;
  private curType = 0;
  private curOffset = 0;
  private sink: KeySink | null = null;
  // With a sink, a key is copied nowhere while it lies in the queue: `keyAt` >= 0 is its index in q.buf (valid until
  // the next push, which first saves it into keyBuf); -1 means it is in keyBuf.
  private keyBuf = new Uint8Array(256);
  private keyLen = 0;
  private keyAt = -1;
  private lastKeyBuf = new Uint8Array(256);
  private lastKeyLen = -1;
  private lastKeyAt = -1;

  /** A view of a key slot's bytes (valid until the next read). */
  private keyView(buf: Uint8Array, at: number, len: number): Uint8Array {
    return at >= 0 ? this.q.buf.subarray(at, at + len) : buf.subarray(0, len);
  }

  /** A copy of a key slot's bytes. */
  private keyCopy(buf: Uint8Array, at: number, len: number): Uint8Array {
    return at >= 0 ? this.q.buf.slice(at, at + len) : buf.slice(0, len);
  }

  /** Moves the keys still lying in the queue into their own buffers (before a push may move the queue's bytes). */
  private saveKeys(): void {
    const b = this.q.buf;
    if (this.keyAt >= 0) {
      if (this.keyBuf.length < this.keyLen) this.keyBuf = new Uint8Array(this.keyLen);
      this.keyBuf.set(b.subarray(this.keyAt, this.keyAt + this.keyLen));
      this.keyAt = -1;
    }
    if (this.lastKeyAt >= 0) {
      if (this.lastKeyBuf.length < this.lastKeyLen) this.lastKeyBuf = new Uint8Array(this.lastKeyLen);
      this.lastKeyBuf.set(b.subarray(this.lastKeyAt, this.lastKeyAt + this.lastKeyLen));
      this.lastKeyAt = -1;
    }
  }

  constructor(options: ReadRdbOptions = {}, single?: { type: number; version: number }) {
    const f = options.filter;
    this.cfg = {
      values: options.values ?? true,
      file: options.file,
      maxString: options.limits?.maxStringLength ?? 1 << 30,
      maxDb: options.limits?.maxDbIndex ?? 1_000_000,
      maxDup: options.limits?.maxDuplicateCheck ?? 16_000_000,
      stopAtEnd: options.stopAtEnd ?? false,
      dropExpiredBefore: options.dropExpiredBefore ?? null,
      streamMetaFromFile: options.streamMeta === 'file',
      skipEmpty: options.skipEmpty ?? (options.values ?? true),
      chunk: options.chunkElements && options.chunkElements > 0 ? options.chunkElements : 0,
      stringPiece: options.chunkElements && options.chunkElements > 0 && options.stringPieceBytes && options.stringPieceBytes > 0 ? Math.max(1024, options.stringPieceBytes) : 0,
      pendingByConsumer: options.streamPendingOrder === 'consumer',
      verifyChecksum: options.verifyChecksum ?? true,
      computeChecksum: options.computeChecksum ?? true,
      salvage: options.salvage ?? false,
      onSkip: options.onSkip ?? null,
      maxSalvage: options.limits?.maxSalvageBytes ?? 256 * 1024 * 1024,
      filter: nonTrivialFilter(compileRdbFilter(f)),
    };
    // a huge collection's check spills sorted runs to the store the driver gives (none: the in-memory table)
    this.dup = new DupCheck(this.cfg.maxDup, options.duplicateSpill || undefined, { get: () => this.itemOffset, set: (at) => void (this.itemOffset = at) });
    this.gen = single ? this.runSingle(single.type, single.version) : this.run();
  }

  /**
   * Structural fast path (for checkers that only count keys): ordinary key records (not empty, not module values)
   * are not returned by {@link next} but reported to `sink` (database, RDB type byte, expiry), and their key bytes
   * are not kept: {@link current} and {@link lastKey} still give them. Only in structural mode (`values: false`)
   * without `dropExpiredBefore`; otherwise ignored. Set it before the first {@link next}.
   */
  setKeySink(sink: KeySink): void {
    if (!this.cfg.values && this.cfg.dropExpiredBefore === null) this.sink = sink;
  }

  private visitor: KeyVisitor | null = null;

  /**
   * Direct transcoding: keys of the common types and encodings (strings; lists, sets, sorted sets and hashes
   * without field expiry, in any encoding but zipmap), when their value is wholly buffered (up to 1 MiB), are walked
   * in place and given to `visitor` ({@link KeyVisitor}) instead of being returned by {@link next}; every other key
   * (streams, modules, damaged ones, bigger ones: they come in pieces) still comes as records, in file order between
   * them. Validation is that of value mode: a key the usual path would refuse is cancelled and read the usual way,
   * which reports it. Only in value mode, without a filter, `salvage` or `skipEmpty: false`; otherwise ignored.
   * Returns whether it was taken. Set it before the first {@link next}.
   */
  setKeyVisitor(visitor: KeyVisitor): boolean {
    const c = this.cfg;
    if (!c.values || c.filter !== null || c.salvage || !c.skipEmpty) return false;
    this.visitor = visitor;
    return true;
  }

  /** Absolute offset of the next unread byte. */
  get offset(): number {
    return this.q.offset;
  }

  /** Bytes of buffer the parser holds now (diagnostics: stays near the largest string it had to hold whole). */
  get bufferCapacity(): number {
    return this.q.buf.length;
  }

  /** Appends input. The bytes are copied. */
  push(chunk: Uint8Array): void {
    if (this.done || chunk.length === 0) return;
    this.flushCrc();
    if (this.pinDone >= 0) this.savePinned();
    this.saveKeys();
    this.q.push(chunk);
  }

  /** Declares the end of input: a record still incomplete is then reported as truncated. */
  end(): void {
    this.finished = true;
  }

  /** The next record, {@link NEED_MORE} (push more bytes) or {@link DONE}. Throws {@link RdbError}. */
  next(): RdbRecord | typeof NEED_MORE | typeof DONE {
    if (this.release.length > 0) return this.release.shift()!;
    const flt = this.cfg.filter;
    for (;;) {
      const r = this.read1();
      if (typeof r !== 'object' || r.kind !== 'key' || flt === null || !flt.needsSize) return r;
      // The pieces of a key too big to come whole are held until the size criteria are met (they only grow), and
      // dropped with the key when its last piece says they are not.
      if (r.partial) {
        if (this.held.length > 0 && this.held[0].offset !== r.offset) this.held = []; // a damaged key's (salvage)
        if (this.sizeDecided === r.offset) return r;
        this.held.push(r);
        this.heldElements += pieceElements(r);
        if (!flt.passSize(this.q.offset - r.offset, this.heldElements)) continue;
        this.sizeDecided = r.offset;
      } else if (this.sizeDecided !== r.offset && this.held.length === 0) {
        return r; // a whole key (decided by run())
      } else {
        const decided = this.sizeDecided === r.offset;
        if (this.held.length > 0 && this.held[0].offset !== r.offset) this.held = [];
        if (!decided && !flt.passSize(r.size, r.elements)) {
          this.held = [];
          this.heldElements = 0;
          continue;
        }
        this.held.push(r);
      }
      const out = this.held;
      this.held = [];
      this.heldElements = 0;
      if (!r.partial) this.sizeDecided = -1;
      for (let i = 1; i < out.length; i++) this.release.push(out[i]);
      return out[0];
    }
  }

  /** Pieces of the current key held by the size criteria; their element count; the key (offset) they passed for. */
  private held: RdbRecord[] = [];
  private heldElements = 0;
  private sizeDecided = -1;
  private release: RdbRecord[] = [];

  private read1(): RdbRecord | typeof NEED_MORE | typeof DONE {
    if (this.done) return DONE;
    let r: IteratorResult<number | RdbRecord, void>;
    try {
      r = this.gen.next();
    } catch (err) {
      this.done = true;
      if (err instanceof RdbError) throw err;
      if (err instanceof RangeError) throw this.error('limit', this.absPos(), `out of memory or range: ${err.message}`);
      throw err;
    }
    if (r.done) {
      this.done = true;
      return DONE;
    }
    if (typeof r.value === 'number') {
      if (this.finished) {
        this.done = true;
        // a damaged value whose framing runs past the end of the file: the damage is what to report
        if (this.walking) throw this.walking;
        const endAt = this.q.offset + this.q.length;
        throw this.error('truncated', this.needAt, `expected ${this.needWhat} (${this.needBytes} bytes from offset ${this.needAt}), file ends at offset ${endAt}`, this.needWhat);
      }
      return NEED_MORE;
    }
    return r.value;
  }

  private error(code: RdbErrorCode, offset: number, message: string, expected?: string): RdbError {
    const init: RdbErrorInit = { offset };
    if (this.cfg.file !== undefined) init.file = this.cfg.file;
    if (expected !== undefined) init.expected = expected;
    return new RdbError(code, message, init);
  }

  /** Adds the bytes read since the last call to the CRC (they are still in the queue: only a push drops bytes). */
  private flushCrc(): void {
    const q = this.q;
    const at = q.offset;
    if (at > this.crcDone) {
      if (this.cfg.computeChecksum) this.crc.update(q.buf, q.start - (at - this.crcDone), q.start);
      this.crcDone = at;
    }
  }

  /** `salvage`: starts keeping the bytes of the value that starts here. */
  private pin(): void {
    this.pinStart = this.pinDone = this.q.offset;
    this.pinned = [];
    this.pinnedBytes = 0;
  }

  private unpin(): void {
    this.pinDone = -1;
    this.pinned = [];
    this.pinnedBytes = 0;
  }

  /** Keeps the value's bytes read since the last call (before a push may drop them), up to `maxSalvageBytes`. */
  private savePinned(): void {
    const q = this.q;
    const at = q.offset;
    const n = at - this.pinDone;
    if (n <= 0) return;
    this.pinnedBytes += n;
    if (this.pinnedBytes > this.cfg.maxSalvage) {
      this.unpin();
      return;
    }
    this.pinned.push(q.buf.slice(q.start - n, q.start));
    this.pinDone = at;
  }

  /**
   * `salvage`: the value of type `op` that was being read is damaged (`err`). Its bytes are put back in front of the
   * queue and walked again structurally (ValueMode.Skip: lengths only, inner checks off) to its end. Throws `err` when that
   * walk fails too: the framing itself is lost.
   */
  private *skipDamaged(op: number, err: RdbError): Generator<number | RdbRecord, void, void> {
    const q = this.q;
    this.flushCrc();
    this.saveKeys();
    this.savePinned();
    if (this.pinDone < 0) throw err;
    const parts = this.pinned;
    parts.push(q.buf.slice(q.start, q.end));
    const from = this.pinStart;
    this.unpin();
    q.reset(from);
    for (const p of parts) q.push(p);
    this.capture = null;
    this.walking = err;
    try {
      yield* this.value(op, ValueMode.Skip);
    } catch (e) {
      if (e instanceof RdbError) throw err;
      throw e;
    } finally {
      this.walking = null;
    }
  }

  private absPos(): number {
    return this.q.offset + (this.pos - this.q.start);
  }

  // ---- primitive readers: read at this.pos, throw NEED when the buffer ends ----

  private need(n: number): void {
    if (this.pos + n > this.q.end) {
      this.needBytes = this.pos + n - this.q.start;
      throw NEED;
    }
  }

  private corrupt(message: string, at = this.absPos()): never {
    throw this.error('corrupt', at, message);
  }

  private u8 = (): number => {
    this.need(1);
    return this.q.buf[this.pos++];
  };

  private len = (): number => {
    this.need(1);
    const b = this.q.buf;
    const c = b[this.pos];
    const t = c >> 6;
    if (t === LEN_6BIT) {
      this.pos++;
      return c;
    }
    if (t === LEN_14BIT) {
      this.need(2);
      const v = ((c & 0x3f) << 8) | b[this.pos + 1];
      this.pos += 2;
      return v;
    }
    if (t === LEN_ENCODED) {
      // Redis' rdbLoadLen returns the special-encoding number as the length when a plain length is expected
      this.pos++;
      return c & 0x3f;
    }
    if (c === LEN_32BIT) {
      this.need(5);
      const p = this.pos;
      const v = ((b[p + 1] << 24) | (b[p + 2] << 16) | (b[p + 3] << 8) | b[p + 4]) >>> 0;
      this.pos += 5;
      return v;
    }
    if (c === LEN_64BIT) {
      this.need(9);
      const p = this.pos;
      const hi = ((b[p + 1] << 24) | (b[p + 2] << 16) | (b[p + 3] << 8) | b[p + 4]) >>> 0;
      const lo = ((b[p + 5] << 24) | (b[p + 6] << 16) | (b[p + 7] << 8) | b[p + 8]) >>> 0;
      if (hi >= 0x200000) this.corrupt(`length 0x${hi.toString(16)}${lo.toString(16).padStart(8, '0')} is larger than any file can hold`);
      this.pos += 9;
      return hi * 4294967296 + lo;
    }
    this.corrupt(`unknown length encoding 0x${c.toString(16)}`);
  };

  private lenBig = (): bigint => {
    this.need(1);
    const b = this.q.buf;
    if (b[this.pos] === LEN_64BIT) {
      this.need(9);
      const p = this.pos;
      let v = 0n;
      for (let k = 1; k <= 8; k++) v = (v << 8n) | BigInt(b[p + k]);
      this.pos += 9;
      return v;
    }
    return BigInt(this.len());
  };

  private ms8 = (): number => {
    this.need(8);
    const b = this.q.buf;
    const p = this.pos;
    const lo = (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
    const hi = b[p + 4] | (b[p + 5] << 8) | (b[p + 6] << 16) | (b[p + 7] << 24);
    this.pos += 8;
    return hi * 4294967296 + lo;
  };

  private readonly f64Bytes = new Uint8Array(8);
  private readonly f64View = new Float64Array(this.f64Bytes.buffer);
  private f64 = (): number => {
    this.need(8);
    const b = this.q.buf;
    const d = this.f64Bytes;
    const p = this.pos;
    // Float64Array reads in platform order: every platform Node runs on is little-endian, as the RDB is
    d[0] = b[p];
    d[1] = b[p + 1];
    d[2] = b[p + 2];
    d[3] = b[p + 3];
    d[4] = b[p + 4];
    d[5] = b[p + 5];
    d[6] = b[p + 6];
    d[7] = b[p + 7];
    this.pos += 8;
    return this.f64View[0];
  };

  private raw = (n: number): Uint8Array => {
    this.need(n);
    const v = this.q.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  };

  private readonly digitBufs = [new Uint8Array(16), new Uint8Array(16)];
  private digitTurn = 0;

  /** Where the last ValueMode.Range read left its bytes: `rb[rs..re)`. */
  private rb: Uint8Array = EMPTY;
  private rs = 0;
  private re = 0;
  /** LZF output of ValueMode.Drop reads (apart from `scratch`, which a ValueMode.Range read before it may still occupy). */
  private dropScratch = new Uint8Array(0);
  private readonly dup: DupCheck;

  /** Decimal text of an INT-encoded string: a fresh copy for ValueMode.Value, a reused view for ValueMode.Check, a range for ValueMode.Range. */
  private intStr(v: number, mode: ValueMode): Uint8Array {
    if (mode === ValueMode.Value) return intToBytes(v);
    if (mode === ValueMode.Drop) return EMPTY;
    // two alternating buffers: a field and its value may both be INT-encoded views
    const d = this.digitBufs[(this.digitTurn ^= 1)];
    let i = 16;
    let n = v < 0 ? -v : v;
    do {
      d[--i] = 0x30 + (n % 10);
      n = Math.floor(n / 10);
    } while (n > 0);
    if (v < 0) d[--i] = 0x2d;
    if (mode === ValueMode.Range) {
      this.rb = d;
      this.rs = i;
      this.re = 16;
      return EMPTY;
    }
    return d.subarray(i);
  }

  /**
   * Runs `f` now as one unit if the buffered bytes suffice, else returns undefined. Every read is written
   * `this.now(f) ?? (yield* this.u(f, what))`: the common case (the bytes are there) makes no generator, which
   * matters per element of a big collection; {@link u} waits for more bytes and reruns `f` from its start.
   */
  private now<T>(f: () => T): T | undefined {
    const q = this.q;
    this.pos = q.start;
    try {
      const v = f();
      if (this.capture) this.capture.push(q.buf.slice(q.start, this.pos));
      q.start = this.pos;
      return v;
    } catch (err) {
      if (err !== NEED) throw err;
      return undefined;
    }
  }

  private readonly strFns = [ValueMode.Skip, ValueMode.Check, ValueMode.Value, ValueMode.Drop, ValueMode.Range].map((m) => () => {
    this.itemOffset = this.absPos();
    return this.str(m);
  });

  private curMode = ValueMode.Skip;
  private readonly pairFn = (): readonly [Uint8Array, Uint8Array] => {
    this.itemOffset = this.absPos();
    return [this.str(this.curMode), this.str(this.curMode)];
  };
  private readonly zset2Fn = (): readonly [Uint8Array, number] => {
    this.itemOffset = this.absPos();
    return [this.str(this.curMode), this.f64()];
  };
  private readonly zset1Fn = (): readonly [Uint8Array, number] => {
    this.itemOffset = this.absPos();
    return [this.str(this.curMode), this.strDouble()];
  };
  // ValueMode.Check-mode variants: the member (field) stays as a ValueMode.Range for the duplicate check, nothing is allocated
  private readonly pairCheckFn = (): number => {
    this.itemOffset = this.absPos();
    this.str(ValueMode.Range);
    this.str(ValueMode.Drop);
    return 0;
  };
  private readonly zset2CheckFn = (): number => {
    this.itemOffset = this.absPos();
    this.str(ValueMode.Range);
    return this.f64();
  };
  private readonly zset1CheckFn = (): number => {
    this.itemOffset = this.absPos();
    this.str(ValueMode.Range);
    return this.strDouble();
  };

  /** A raw string with a 6- or 14-bit length lying wholly in `b[p..end)`: sets rs/re and returns true. */
  private rawAt(b: Uint8Array, p: number, end: number): boolean {
    if (p >= end) return false;
    const c = b[p];
    let n: number;
    let s: number;
    if (c < 0x40) {
      n = c;
      s = p + 1;
    } else if (c < 0x80) {
      if (p + 1 >= end) return false;
      n = ((c & 0x3f) << 8) | b[p + 1];
      s = p + 2;
    } else return false;
    if (s + n > end || n > this.cfg.maxString) return false;
    this.rs = s;
    this.re = s + n;
    return true;
  }

  /**
   * ValueMode.Check of the members of a set (hashtable), fields and values of a hash (hashtable) or members and binary scores of
   * a sorted set, from element `i` of `n`: takes, straight from the buffer, the elements made of plain short strings
   * that are wholly buffered, checks them (duplicates, NaN scores) and returns the index of the first element it
   * left (to the general path: another encoding, or the buffer ends inside it).
   */
  private batch(kind: BatchKind, n: number, i: number): number {
    if (this.capture) return i;
    const q = this.q;
    const b = q.buf;
    const end = q.end;
    const dup = this.dup;
    // the members' hashes are queued and checked DUP_QUEUE at a time (same verdicts, in the same order); `starts`
    // holds the queued members' element starts (in b, whose absolute offset is `base`) for the error's offset
    const starts = this.dupStarts;
    const base = q.offset - q.start;
    let lastSt = -1;
    for (; i < n; i++) {
      const st = q.start;
      if (!this.rawAt(b, st, end)) break;
      const ms = this.rs;
      const me = this.re;
      let next = me;
      let score = 0;
      if (kind === BatchKind.Hash) {
        if (!this.rawAt(b, me, end)) break;
        next = this.re;
      } else if (kind === BatchKind.Zset) {
        if (me + 8 > end) break;
        const d = this.f64Bytes;
        for (let k = 0; k < 8; k++) d[k] = b[me + k];
        score = this.f64View[0];
        next = me + 8;
      }
      q.start = next;
      lastSt = st;
      if (kind === BatchKind.Zset && Number.isNaN(score)) {
        this.flushDup(kind, base);
        this.itemOffset = base + st;
        this.fail('sorted set score is NaN');
      }
      const k = dup.queueRange(b, ms, me);
      if (k > 0) {
        starts[k - 1] = st;
        if (k === DUP_QUEUE) this.flushDup(kind, base);
      }
    }
    this.flushDup(kind, base);
    // as the general path leaves it: the offset of the last element read
    if (lastSt >= 0) this.itemOffset = base + lastSt;
    return i;
  }

  /** Element starts of the members {@link batch} has queued in the duplicate checker. */
  private readonly dupStarts = new Int32Array(DUP_QUEUE);

  /** Checks the members {@link batch} queued; fails at the first duplicate. */
  private flushDup(kind: BatchKind, base: number): void {
    const at = this.dup.flush(this.dupStarts, base);
    if (at < 0) return;
    this.itemOffset = at;
    this.fail(kind === BatchKind.Set ? 'duplicate set member' : kind === BatchKind.Hash ? 'duplicate hash field' : 'duplicate sorted set member');
  }

  /** The duplicate checker, reset for a collection of `n` members. */
  private newDup(n: number): DupCheck {
    this.dup.reset(n);
    return this.dup;
  }

  /** A string (`str` encoding). ValueMode.Skip: not materialised (returns EMPTY); ValueMode.Check: a view; ValueMode.Value: a copy. */
  private str(mode: ValueMode): Uint8Array {
    this.need(1);
    const b = this.q.buf;
    const c = b[this.pos];
    if (c >> 6 === LEN_ENCODED) {
      const e = c & 0x3f;
      const p = this.pos;
      if (e === ENC_INT8) {
        this.need(2);
        this.pos += 2;
        return mode === ValueMode.Skip ? EMPTY : this.intStr((b[p + 1] << 24) >> 24, mode);
      }
      if (e === ENC_INT16) {
        this.need(3);
        this.pos += 3;
        return mode === ValueMode.Skip ? EMPTY : this.intStr(((b[p + 1] | (b[p + 2] << 8)) << 16) >> 16, mode);
      }
      if (e === ENC_INT32) {
        this.need(5);
        this.pos += 5;
        return mode === ValueMode.Skip ? EMPTY : this.intStr(b[p + 1] | (b[p + 2] << 8) | (b[p + 3] << 16) | (b[p + 4] << 24), mode);
      }
      if (e === ENC_LZF) {
        const at = this.absPos();
        this.pos++;
        const clen = this.len();
        const ulen = this.len();
        if (ulen > this.cfg.maxString) throw this.error('limit', at, `LZF string of ${ulen} bytes exceeds the ${this.cfg.maxString}-byte limit`);
        // lzf_decompress reports failure as 0 bytes written: Redis accepts any data when the length is 0
        if (ulen === 0) {
          this.need(clen);
          this.pos += clen;
          if (mode === ValueMode.Range) {
            this.rb = EMPTY;
            this.rs = this.re = 0;
          }
          return EMPTY;
        }
        if (ulen > lzfMaxDecompressedLength(clen) && !this.walking) this.corrupt(`LZF string claims ${ulen} bytes from ${clen} compressed bytes`, at);
        this.need(clen);
        // ValueMode.Drop: walk the LZF stream without writing its output (a damaged one is decompressed below for the error)
        if (mode === ValueMode.Skip || (mode === ValueMode.Drop && lzfValid(this.q.buf, this.pos, this.pos + clen, ulen))) {
          this.pos += clen;
          return EMPTY;
        }
        const src = this.q.buf.subarray(this.pos, this.pos + clen);
        this.pos += clen;
        let out: Uint8Array;
        if (mode === ValueMode.Value) out = new Uint8Array(ulen);
        else if (mode === ValueMode.Drop) {
          if (this.dropScratch.length < ulen) this.dropScratch = new Uint8Array(Math.max(ulen, this.dropScratch.length * 2));
          out = this.dropScratch;
        } else {
          if (this.scratch.length < ulen) this.scratch = new Uint8Array(Math.max(ulen, this.scratch.length * 2));
          out = this.scratch;
        }
        try {
          lzfDecompress(src, ulen, out);
        } catch (err) {
          if (err instanceof BytesError) this.corrupt(`invalid LZF compressed string: ${err.detail}`, at);
          throw err;
        }
        if (mode === ValueMode.Value) return out;
        if (mode === ValueMode.Check) return out.subarray(0, ulen);
        if (mode === ValueMode.Range) {
          this.rb = out;
          this.rs = 0;
          this.re = ulen;
        }
        return EMPTY;
      }
      this.corrupt(`unknown string encoding 0x${c.toString(16)}`);
    }
    const at = this.absPos();
    const n = this.len();
    if (n > this.cfg.maxString) throw this.error('limit', at, `string of ${n} bytes exceeds the ${this.cfg.maxString}-byte limit`);
    this.need(n);
    const p = this.pos;
    this.pos += n;
    if (mode === ValueMode.Value) return copyBytes(b, p, n);
    if (mode === ValueMode.Check) return b.subarray(p, p + n);
    if (mode === ValueMode.Range) {
      this.rb = b;
      this.rs = p;
      this.re = p + n;
    }
    return EMPTY;
  }

  /** Runs `f` as one atomic unit: on a buffer shortage, waits for more bytes and reruns it from the start. */
  private *u<T>(f: () => T, what: string): Generator<number, T, void> {
    for (;;) {
      const v = this.now(f);
      if (v !== undefined) return v;
      this.needWhat = what;
      this.needAt = this.q.offset;
      yield this.needBytes;
    }
  }

  /**
   * A string whose bytes the caller does not need (ValueMode.Skip/ValueMode.Check of plain values): a raw string is consumed as it
   * arrives, without being buffered whole, so a 1 GB value costs no memory; INT/LZF strings go through {@link str}.
   */
  private *dropStr(mode: ValueMode, what: string): Generator<number, void, void> {
    const n = yield* this.u(() => {
      this.itemOffset = this.absPos();
      this.need(1);
      if (this.q.buf[this.pos] >> 6 === LEN_ENCODED) return -1;
      const len = this.len();
      if (len > this.cfg.maxString) throw this.error('limit', this.itemOffset, `string of ${len} bytes exceeds the ${this.cfg.maxString}-byte limit`);
      return len;
    }, what);
    if (n < 0) {
      yield* this.strU(mode, what);
      return;
    }
    let left = n;
    const q = this.q;
    while (left > 0) {
      const avail = q.end - q.start;
      if (avail === 0) {
        this.needWhat = `${what} (${left} of ${n} bytes missing)`;
        this.needAt = this.itemOffset;
        this.needBytes = left;
        yield left;
        continue;
      }
      const take = Math.min(avail, left);
      q.start += take;
      left -= take;
    }
  }

  private strU(mode: ValueMode, what: string): Generator<number, Uint8Array, void> {
    return this.u(this.strFns[mode], what);
  }

  private fail = (message: string): never => {
    throw this.error('corrupt', this.itemOffset, message);
  };

  // ---- the file ----

  private *run(): Generator<number | RdbRecord, void, void> {
    const header = yield* this.u(() => latin1.decode(this.raw(HEADER_BYTES)), 'the 9-byte RDB header');
    let version: number;
    if (header.startsWith('REDIS')) {
      // Redis takes the version with atoi() of bytes 5-8: leading blanks, a sign and digits, then anything
      const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(header.slice(5));
      version = m ? Number(m[1]) : 0;
      this.magic = 'REDIS';
    } else if (header.startsWith('VALKEY') && /^[0-9]{3}$/.test(header.slice(6))) {
      version = Number(header.slice(6));
      this.magic = 'VALKEY';
    } else {
      throw this.error('corrupt', 0, `not an RDB file: wrong signature ${JSON.stringify(header)} (expected "REDIS" and a 4-digit version)`);
    }
    if (version < 1) throw this.error('unsupported', 5, `can't handle RDB format version ${JSON.stringify(header.slice(5))}`);
    if (this.magic === 'REDIS' ? version > RDB_MAX_VERSION : version < VALKEY_MIN_VERSION || version > VALKEY_MAX_VERSION) {
      throw this.error('unsupported', 5, `RDB format version ${version} (${this.magic}) is not supported (this parser knows REDIS 1-${RDB_MAX_VERSION}, VALKEY 80-81)`);
    }
    this.version = version;
    yield { kind: 'header', version, magic: this.magic, offset: 0 };

    let db = 0;
    let expireAt: number | null = null;
    let idle: number | undefined;
    let freq: number | undefined;
    let keyStart = -1;
    for (;;) {
      const opAt = this.q.offset;
      const q0 = this.q;
      const op = q0.start < q0.end ? q0.buf[q0.start++] : yield* this.u(this.u8, 'an opcode or a type byte');
      if (keyStart < 0) keyStart = opAt;
      switch (op) {
        case RdbOpcode.EOF: {
          this.flushCrc();
          const computed = this.crc.value();
          let rec: RdbRecord;
          if (version >= FIRST_CHECKSUM_VERSION) {
            const stored = yield* this.u(() => this.raw(8).slice(), 'the 8-byte CRC64 checksum');
            let s = 0n;
            for (let k = 7; k >= 0; k--) s = (s << 8n) | BigInt(stored[k]);
            const hex = (v: bigint) => v.toString(16).padStart(16, '0');
            if (s === 0n) rec = { kind: 'end', checksum: 'disabled', stored: hex(s), computed: hex(computed), endOffset: this.q.offset, offset: opAt };
            else if (s !== computed) {
              if (this.cfg.verifyChecksum) {
                throw this.error('checksum', opAt + 1, `wrong RDB checksum: file says ${hex(s)}, content gives ${hex(computed)}`, `CRC64 ${hex(computed)}`);
              }
              rec = { kind: 'end', checksum: 'mismatch', stored: hex(s), computed: hex(computed), endOffset: this.q.offset, offset: opAt };
            } else rec = { kind: 'end', checksum: 'ok', stored: hex(s), computed: hex(computed), endOffset: this.q.offset, offset: opAt };
          } else {
            rec = { kind: 'end', checksum: 'absent', endOffset: this.q.offset, offset: opAt };
          }
          this.endOffset = this.q.offset;
          yield rec;
          return;
        }
        case RdbOpcode.SELECTDB: {
          db = yield* this.u(this.len, 'a database number');
          if (db > this.cfg.maxDb) throw this.error('limit', opAt, `database index ${db} exceeds the limit of ${this.cfg.maxDb}`);
          keyStart = -1;
          yield { kind: 'db', db, offset: opAt };
          continue;
        }
        case RdbOpcode.EXPIRETIME:
          expireAt = (yield* this.u(() => {
            const r = this.raw(4);
            return r[0] | (r[1] << 8) | (r[2] << 16) | (r[3] << 24);
          }, 'a 4-byte expire time')) * 1000;
          continue;
        case RdbOpcode.EXPIRETIME_MS: {
          expireAt = this.now(this.ms8) ?? (yield* this.u(this.ms8, 'an 8-byte expire time'));
          continue;
        }
        case RdbOpcode.RESIZEDB: {
          const [size, expires] = yield* this.u(() => [this.len(), this.len()], 'RESIZEDB sizes');
          keyStart = -1;
          yield { kind: 'resizedb', db, size, expires, offset: opAt };
          continue;
        }
        case RdbOpcode.AUX: {
          const [key, value] = yield* this.u(() => [this.str(ValueMode.Value), this.str(ValueMode.Value)], 'an AUX field');
          keyStart = -1;
          yield { kind: 'aux', key, value, offset: opAt };
          continue;
        }
        case RdbOpcode.FREQ:
          freq = yield* this.u(this.u8, 'an LFU frequency byte');
          continue;
        case RdbOpcode.IDLE:
          idle = yield* this.u(this.len, 'an LRU idle time');
          continue;
        case RdbOpcode.MODULE_AUX: {
          const [id, whenOp] = yield* this.u(() => [this.lenBig(), this.len()], 'a module AUX header');
          if (whenOp !== ModuleOpcode.UINT) this.corrupt(`module AUX 'when' opcode is ${whenOp}, expected 2`, opAt);
          const when = yield* this.u(this.len, "a module AUX 'when'");
          this.capture = [];
          yield* this.moduleStream(ValueMode.Check);
          const raw = Buffer.concat(this.capture);
          this.capture = null;
          const m = decodeModuleId(id);
          keyStart = -1;
          yield { kind: 'module-aux', module: m.name, encver: m.encver, when, raw, offset: opAt };
          continue;
        }
        case RdbOpcode.FUNCTION_PRE_GA: {
          const fn = yield* this.u(() => {
            const name = this.str(ValueMode.Value);
            const engine = this.str(ValueMode.Value);
            if (this.len() !== 0) this.str(ValueMode.Skip);
            const body = this.str(ValueMode.Value);
            const library = Buffer.from(name).toString('utf8');
            const eng = Buffer.from(engine).toString('utf8');
            // 7.0 GA turns a pre-GA function into a library whose code starts with its shebang line
            const code = Buffer.concat([Buffer.from(`#!${eng} name=${library}\n`), body]);
            return { library, engine: eng.toUpperCase(), code };
          }, 'a function (pre-GA format)');
          keyStart = -1;
          yield { kind: 'function', function: fn, opcode: RdbOpcode.FUNCTION_PRE_GA, offset: opAt };
          continue;
        }
        case RdbOpcode.FUNCTION2: {
          const code = yield* this.strU(ValueMode.Value, 'a function library');
          // redis-check-rdb only reads the library; a loading server compiles it (we need its name for values)
          const fn = parseFunctionLibrary(code, this.cfg.values ? (m) => this.corrupt(m, opAt) : null);
          keyStart = -1;
          yield { kind: 'function', function: fn, opcode: RdbOpcode.FUNCTION2, offset: opAt };
          continue;
        }
        case RdbOpcode.SLOT_INFO: {
          const [slot, size, expires] = yield* this.u(() => [this.len(), this.len(), this.len()], 'SLOT_INFO');
          keyStart = -1;
          yield { kind: 'slot-info', slot, size, expires, offset: opAt };
          continue;
        }
        case RdbOpcode.KEY_META: {
          if (this.magic === 'VALKEY') throw this.error('unsupported', opAt, 'Valkey SLOT_IMPORT opcode (243) is not supported');
          if (version < FIRST_KEY_META_VERSION) this.corrupt(`unknown opcode 243 (KEY_META) in an RDB ${version} file`, opAt);
          const n = yield* this.u(this.len, 'a KEY_META class count');
          for (let i = 0; i < n; i++) {
            yield* this.u(() => this.raw(4), 'a KEY_META class id');
            yield* this.moduleStream(ValueMode.Skip);
          }
          continue;
        }
        default: {
          const desc = describeRdbType(op, this.magic);
          if (!desc) {
            if (op === RdbType.STREAM_LISTPACKS_4) throw this.error('unsupported', opAt, 'stream type 26 (Redis 8.6 IDMP streams) is not supported');
            if (this.magic === 'VALKEY' && op === RdbType.HASH_LISTPACK_EX_PRE_GA) throw this.error('unsupported', opAt, 'Valkey PATH_HASH type (23) is not supported');
            if (this.magic === 'VALKEY' && op === RdbOpcode.UPDATE_VALKEY) throw this.error('unsupported', opAt, 'Valkey UPDATE opcode (242) is not supported');
            this.corrupt(`unknown object type ${op} (0x${op.toString(16)})`, opAt);
          }
          if (op === RdbType.MODULE_PRE_GA) throw this.error('unsupported', opAt, 'module value in the pre-release format (type 6) cannot be read without its module');
          const visitor = this.visitor;
          if (visitor !== null && visitable(op) && !(this.cfg.dropExpiredBefore !== null && expireAt !== null && expireAt < this.cfg.dropExpiredBefore)) {
            this.visitDb = db;
            this.visitType = desc.type;
            this.visitExpire = expireAt;
            this.visitOp = op;
            let visited = false;
            for (;;) {
              let r: boolean | undefined;
              try {
                r = this.now(this.visitFn);
              } catch {
                // damage or anything unexpected: the usual path reads the key again and reports it
                r = false;
              }
              if (r === true) {
                visited = true;
                break;
              }
              visitor.cancel();
              const buffered = this.q.end - this.q.start;
              if (r === false || this.finished || buffered >= VISIT_MAX_BYTES || this.needBytes > VISIT_MAX_BYTES) break;
              // walked again once the buffer holds twice as much (or what the read that stopped needs): a few walks
              // per key even when the input comes in tiny chunks
              const want = Math.min(VISIT_MAX_BYTES, Math.max(this.needBytes, 2 * buffered));
              this.needWhat = 'a key';
              this.needAt = this.q.offset;
              while (this.q.end - this.q.start < want && !this.finished) yield want;
            }
            if (visited) {
              expireAt = null;
              idle = freq = undefined;
              keyStart = -1;
              continue;
            }
          }
          const sink = this.sink;
          let key: Uint8Array;
          if (sink) {
            // the key stays where it is (in the queue) or goes to keyBuf: no allocation per key
            this.now(this.strFns[ValueMode.Range]) ?? (yield* this.strU(ValueMode.Range, 'a key'));
            const n = this.re - this.rs;
            this.keyLen = n;
            if (this.rb === this.q.buf) this.keyAt = this.rs;
            else {
              // an INT or LZF key: its bytes are in a scratch buffer the value may reuse
              if (this.keyBuf.length < n) this.keyBuf = new Uint8Array(Math.max(n, this.keyBuf.length * 2));
              this.keyBuf.set(this.rb.subarray(this.rs, this.re));
              this.keyAt = -1;
            }
            key = EMPTY;
          } else {
            key = this.now(this.strFns[ValueMode.Value]) ?? (yield* this.strU(ValueMode.Value, 'a key'));
          }
          const cfg = this.cfg;
          const flt = cfg.filter;
          let wanted =
            flt === null ||
            (flt.passMeta(db, desc.type, expireAt) && (!flt.hasNamePatterns || flt.passKey(sink ? this.keyView(this.keyBuf, this.keyAt, this.keyLen) : key)));
          // a key a loading master would drop is only walked over
          const expired = cfg.dropExpiredBefore !== null && expireAt !== null && expireAt < cfg.dropExpiredBefore;
          const mode = !wanted || expired ? ValueMode.Skip : cfg.values ? ValueMode.Value : ValueMode.Check;
          this.curKey = key;
          this.curType = op;
          this.curOffset = keyStart;
          this.inKey = true;
          // the common small values (a string or one packed blob, already buffered) skip the value generator
          let res: ValueResult | null = null;
          // salvage: a damaged value whose lengths still say where it ends is skipped (a walked-over one cannot be)
          const salvage = cfg.salvage && mode !== ValueMode.Skip;
          if (salvage) this.pin();
          let damage: RdbError | null = null;
          try {
            if (op === RdbType.STRING || isSingleBlobType(op)) {
              const blob = this.now(this.strFns[mode === ValueMode.Value ? (op === RdbType.STRING ? ValueMode.Value : ValueMode.Check) : op === RdbType.STRING && mode === ValueMode.Check ? ValueMode.Drop : mode]);
              if (blob !== undefined) {
                if (op === RdbType.STRING) res = mode === ValueMode.Value ? { value: { type: 'string', value: blob }, elements: 1, empty: false } : STRING_RESULT;
                else res = mode === ValueMode.Skip ? SKIPPED_RESULT : this.decodeBlob(op, blob, mode === ValueMode.Value);
              }
            }
            if (res === null) {
              if (cfg.chunk > 0) {
                this.partialCtx = { kind: 'key', db, key, type: desc.type, rdbType: op, encoding: desc.encoding, expireAt, offset: keyStart };
                if (idle !== undefined) this.partialCtx.idle = idle;
                if (freq !== undefined) this.partialCtx.freq = freq;
              }
              this.partials = 0;
              res = yield* this.value(op, mode);
            }
          } catch (err) {
            if (!salvage || !(err instanceof RdbError) || err.code !== 'corrupt') throw err;
            yield* this.skipDamaged(op, err);
            damage = err;
          }
          if (salvage) this.unpin();
          if (damage !== null || res === null) {
            const skipped = sink ? this.keyCopy(this.keyBuf, this.keyAt, this.keyLen) : key;
            const partial = this.partials > 0;
            this.inKey = false;
            this.curKey = EMPTY;
            this.partials = 0;
            this.partialCtx = null;
            cfg.onSkip?.({ start: keyStart, end: this.q.offset, db, key: skipped, rdbType: op, typeName: rdbTypeName(op), partial, error: damage! });
            expireAt = null;
            idle = freq = undefined;
            keyStart = -1;
            continue;
          }
          this.inKey = false;
          this.curKey = EMPTY;
          if (sink) {
            const t = this.lastKeyBuf;
            this.lastKeyBuf = this.keyBuf;
            this.keyBuf = t;
            this.lastKeyLen = this.keyLen;
            this.lastKeyAt = this.keyAt;
            if (wanted && flt !== null && flt.needsSize && !flt.passSize(this.q.offset - keyStart, res.elements)) wanted = false;
            if (!wanted || (!res.empty && op !== RdbType.MODULE_2)) {
              if (wanted) {
                sink(db, op, expireAt);
                this.sunkEnd = this.q.offset;
              }
              expireAt = null;
              idle = freq = undefined;
              keyStart = -1;
              continue;
            }
            key = this.keyCopy(this.lastKeyBuf, this.lastKeyAt, this.lastKeyLen);
          }
          const hadPartials = this.partials > 0;
          this.partials = 0;
          const size = this.q.offset - keyStart;
          const rec: RdbRecord = {
            kind: 'key', db, key, type: desc.type, rdbType: op, encoding: desc.encoding, expireAt,
            offset: keyStart, size, elements: res.elements, empty: res.empty,
          };
          if (idle !== undefined) rec.idle = idle;
          if (freq !== undefined) rec.freq = freq;
          expireAt = null;
          idle = freq = undefined;
          keyStart = -1;
          if (!wanted) continue;
          // size criteria: a whole key is decided here, one in pieces by read() (which holds its pieces until then)
          if (flt !== null && flt.needsSize && !hadPartials && !flt.passSize(size, res.elements)) continue;
          if (res.value) rec.value = res.value;
          // the last piece of a string handed out in pieces: its whole length, as on the pieces before
          if (hadPartials && op === RdbType.STRING && this.stringLength >= 0) rec.stringLength = this.stringLength;
          if (cfg.dropExpiredBefore !== null) {
            if (rec.expireAt !== null && rec.expireAt < cfg.dropExpiredBefore) continue;
            if (rec.value?.type === 'hash') {
              const before = cfg.dropExpiredBefore;
              rec.value.value = rec.value.value.filter((f) => f.expireAt === null || f.expireAt >= before);
              if (rec.value.value.length === 0 && !hadPartials) continue;
            }
          }
          if (res.empty && cfg.skipEmpty) continue;
          yield rec;
        }
      }
    }
  }

  /** Parses one serialized object (a DUMP payload body) and yields its key record. */
  private *runSingle(type: number, version: number): Generator<number | RdbRecord, void, void> {
    this.version = version;
    const desc = describeRdbType(type, this.magic);
    if (!desc || type === RdbType.MODULE_PRE_GA) throw this.error('unsupported', 0, `unknown or unsupported object type ${type}`);
    const res = yield* this.value(type, this.cfg.values ? ValueMode.Value : ValueMode.Check);
    yield { kind: 'key', db: 0, key: EMPTY, type: desc.type, rdbType: type, encoding: desc.encoding, expireAt: null, offset: 0, size: this.q.offset, elements: res.elements, empty: res.empty, value: res.value };
    this.endOffset = this.q.offset;
  }

  /** A key record carrying the next elements of a value too big to hand out whole (`chunkElements`). */
  private partial(value: KeyValue, stringLength?: number): RdbRecord {
    this.partials++;
    if (stringLength !== undefined) return { ...this.partialCtx!, size: 0, elements: 0, empty: false, value, partial: true, stringLength };
    if (value.type === 'hash' && this.cfg.dropExpiredBefore !== null) {
      const before = this.cfg.dropExpiredBefore;
      value.value = value.value.filter((f) => f.expireAt === null || f.expireAt >= before);
    }
    return { ...this.partialCtx!, size: 0, elements: 0, empty: false, value, partial: true };
  }

  private *moduleStream(mode: ValueMode): Generator<number, void, void> {
    for (;;) {
      const at = this.q.offset;
      const op = yield* this.u(this.lenBig, 'a module opcode');
      const o = op <= BigInt(ModuleOpcode.STRING) ? Number(op) : -1;
      if (o === ModuleOpcode.EOF) return;
      if (o === ModuleOpcode.SINT || o === ModuleOpcode.UINT) yield* this.u(this.lenBig, 'a module integer');
      else if (o === ModuleOpcode.FLOAT) yield* this.u(() => this.raw(4), 'a module float');
      else if (o === ModuleOpcode.DOUBLE) yield* this.u(() => this.raw(8), 'a module double');
      else if (o === ModuleOpcode.STRING) yield* this.strU(mode === ValueMode.Skip ? ValueMode.Skip : ValueMode.Check, 'a module string');
      else this.corrupt(`unknown module opcode ${op}`, at);
    }
  }

  // ---- values ----

  /** The decoder of a value of type `t` (returned, not delegated to: no extra generator per key). */
  private value(t: number, mode: ValueMode): Generator<number | RdbRecord, ValueResult, void> {
    switch (t) {
      case RdbType.STRING:
        return this.stringValue(mode);
      case RdbType.LIST:
      case RdbType.SET:
        return this.listOrSetValue(t, mode);
      case RdbType.ZSET:
      case RdbType.ZSET_2:
        return this.zsetValue(t, mode);
      case RdbType.HASH:
        return this.hashValue(mode);
      case RdbType.MODULE_2:
        return this.moduleValue(mode);
      case RdbType.HASH_ZIPMAP:
      case RdbType.LIST_ZIPLIST:
      case RdbType.SET_INTSET:
      case RdbType.ZSET_ZIPLIST:
      case RdbType.HASH_ZIPLIST:
      case RdbType.HASH_LISTPACK:
      case RdbType.ZSET_LISTPACK:
      case RdbType.SET_LISTPACK:
        return this.blobValue(t, mode);
      case RdbType.LIST_QUICKLIST:
      case RdbType.LIST_QUICKLIST_2:
        return this.quicklistValue(t, mode);
      case RdbType.STREAM_LISTPACKS:
      case RdbType.STREAM_LISTPACKS_2:
      case RdbType.STREAM_LISTPACKS_3:
        return this.stream(t, mode);
      case RdbType.HASH_METADATA_PRE_GA:
      case RdbType.HASH_METADATA:
        return this.hashWithTtlValue(t, mode);
      case RdbType.HASH_LISTPACK_EX_PRE_GA:
      case RdbType.HASH_LISTPACK_EX:
        return this.listpackHashWithTtlValue(t, mode);
      default:
        this.corrupt(`unknown object type ${t}`);
    }
  }

  /** A string value: raw bytes consumed as they arrive unless kept. */
  private *stringValue(mode: ValueMode): Generator<number | RdbRecord, ValueResult, void> {
    this.stringLength = -1;
    const want = mode === ValueMode.Value;
    if (!want) {
      const dm = mode === ValueMode.Check ? ValueMode.Drop : mode;
      this.now(this.strFns[dm]) ?? (yield* this.dropStr(dm, 'a string value'));
      return { elements: 1, empty: false };
    }
    // with chunkElements: a big value is read as its bytes arrive (an LZF one decompressed as they do), so the
    // buffer never holds it beside the value (a 100 MB string cost about twice its size)
    const big = this.cfg.chunk > 0 && !this.cfg.salvage && this.capture === null && !this.walking ? yield* this.bigString() : null;
    const v = big ?? this.now(this.strFns[mode]) ?? (yield* this.strU(mode, 'a string value'));
    return { value: { type: 'string', value: v }, elements: 1, empty: false };
  }

  /** The whole length of the string value just read in pieces (`stringPieceBytes`), else -1. */
  private stringLength = -1;

  /**
   * A raw or LZF string value of 1 MiB or more, read as it arrives (see stringValue); null (nothing read) for
   * others. With `stringPieceBytes` it is handed out in pieces of that size as they are read (partial records with
   * the whole `stringLength`), and the last piece is returned: memory holds a piece, not the string.
   */
  private *bigString(): Generator<number | RdbRecord, Uint8Array | null, void> {
    const h = yield* this.u(() => {
      const start = this.pos;
      const at = (this.itemOffset = this.absPos());
      this.need(1);
      const c = this.q.buf[this.pos];
      const lzf = c >> 6 === LEN_ENCODED;
      if (lzf && (c & 0x3f) !== ENC_LZF) return null;
      if (lzf) this.pos++;
      const clen = this.len();
      const ulen = lzf ? this.len() : clen;
      // small, or what str reports (limits, a bad length)
      if (clen < 1 << 20 || ulen > this.cfg.maxString || (lzf && (ulen === 0 || ulen > lzfMaxDecompressedLength(clen)))) {
        this.pos = start;
        return null;
      }
      return { at, lzf, clen, ulen };
    }, 'a string value');
    if (h === null) return null;
    if (this.cfg.stringPiece > 0) return yield* this.stringInPieces(h);
    const out = new Uint8Array(h.ulen);
    const q = this.q;
    let left = h.clen;
    let op = 0;
    while (left > 0) {
      const avail = Math.min(q.end - q.start, left);
      if (!h.lzf) {
        out.set(q.buf.subarray(q.start, q.start + avail), op);
        op += avail;
        q.start += avail;
        left -= avail;
      } else if (avail > 0) {
        let r: { ip: number; op: number };
        try {
          r = lzfDecompressStep(q.buf, q.start, q.start + avail, out, op, h.ulen);
        } catch (err) {
          if (err instanceof BytesError) this.corrupt(`invalid LZF compressed string: ${err.detail}`, h.at);
          throw err;
        }
        left -= r.ip - q.start;
        q.start = r.ip;
        op = r.op;
        // all of the rest is here and a token still runs past its end
        if (left > 0 && q.end - q.start >= left) this.corrupt('invalid LZF compressed string: a token runs past the compressed data', h.at);
      }
      if (left > 0 && q.end - q.start < left) {
        this.needWhat = `a string value (${left} of ${h.clen} bytes missing)`;
        this.needAt = h.at;
        this.needBytes = left;
        yield left;
      }
    }
    if (op !== h.ulen) this.corrupt(`invalid LZF compressed string: LZF data decompressed to ${op} bytes, expected ${h.ulen}`, h.at);
    return out;
  }

  /**
   * {@link bigString} in pieces of `stringPieceBytes`: raw bytes copied out of the queue as they arrive; LZF ones
   * decompressed into a window that keeps the last 8 KiB of output (the farthest a back reference reaches) before
   * the piece being filled. Every piece but the last is yielded as a partial record; the last is returned.
   */
  private *stringInPieces(h: { at: number; lzf: boolean; clen: number; ulen: number }): Generator<number | RdbRecord, Uint8Array, void> {
    const P = Math.min(this.cfg.stringPiece, h.ulen);
    const HIST = 8192;
    const q = this.q;
    let left = h.clen;
    let produced = 0; // output bytes handed out, or in the pieces so far
    this.stringLength = h.ulen;
    // raw: the piece being filled; LZF: the window [history | piece]
    const win = new Uint8Array(h.lzf ? HIST + P + 300 : P);
    let from = 0; // where the piece starts in win
    let op = 0;
    const piece = (): Uint8Array => {
      const out = win.slice(from, op);
      produced += op - from;
      if (h.lzf) {
        // keep the history a back reference may reach
        const keep = Math.min(op, HIST);
        win.copyWithin(0, op - keep, op);
        op = from = keep;
      } else op = from = 0;
      return out;
    };
    while (left > 0) {
      const avail = Math.min(q.end - q.start, left);
      if (!h.lzf) {
        const n = Math.min(avail, P - op);
        win.set(q.buf.subarray(q.start, q.start + n), op);
        op += n;
        q.start += n;
        left -= n;
        if (op === P && left > 0) yield this.partial({ type: 'string', value: piece() }, h.ulen);
        if (n < avail) continue;
      } else if (avail > 0) {
        // within the declared length; the step stops short of the window's end (a token writes at most 264 bytes)
        const room = Math.min(win.length, op + (h.ulen - produced - (op - from)));
        let r: { ip: number; op: number };
        try {
          r = lzfDecompressStep(q.buf, q.start, q.start + avail, win, op, room, from + P);
        } catch (err) {
          if (err instanceof BytesError) this.corrupt(`invalid LZF compressed string: ${err.detail}`, h.at);
          throw err;
        }
        left -= r.ip - q.start;
        q.start = r.ip;
        op = r.op;
        if (op >= from + P) {
          // the window is full: its piece goes out
          if (left > 0) yield this.partial({ type: 'string', value: piece() }, h.ulen);
          continue;
        }
        // all of the rest is here and a token still runs past its end
        if (left > 0 && q.end - q.start >= left) this.corrupt('invalid LZF compressed string: a token runs past the compressed data', h.at);
      }
      if (left > 0 && q.end - q.start < left) {
        this.needWhat = `a string value (${left} of ${h.clen} bytes missing)`;
        this.needAt = h.at;
        this.needBytes = left;
        yield left;
      }
    }
    const last = piece();
    if (produced !== h.ulen) this.corrupt(`invalid LZF compressed string: LZF data decompressed to ${produced} bytes, expected ${h.ulen}`, h.at);
    return last;
  }

  /** A linked list (type 1) or hashtable set (type 2): a count, then that many strings. */
  private *listOrSetValue(t: number, mode: ValueMode): Generator<number | RdbRecord, ValueResult, void> {
    const want = mode === ValueMode.Value;
    const check = mode !== ValueMode.Skip;
    const fail: (m: string) => never = this.fail;
    const n = yield* this.u(this.len, 'a collection length');
    const out: Uint8Array[] = [];
    const dup = check && t === RdbType.SET ? this.newDup(n) : null;
    const dm = mode === ValueMode.Check ? ValueMode.Drop : mode;
    const sm = mode === ValueMode.Check ? ValueMode.Range : mode;
    for (let i = 0; i < n; i++) {
      if (t === RdbType.LIST && !want) {
        yield* this.dropStr(dm, 'a list element');
        continue;
      }
      if (sm === ValueMode.Range) {
        i = this.batch(BatchKind.Set, n, i);
        if (i >= n) break;
      }
      const s = this.now(this.strFns[sm]) ?? (yield* this.strU(sm, t === RdbType.LIST ? 'a list element' : 'a set member'));
      if (dup && (sm === ValueMode.Range ? dup.seenRange(this.rb, this.rs, this.re) : dup.seen(s))) fail('duplicate set member');
      if (want) {
        out.push(s);
        if (out.length === this.cfg.chunk) yield this.partial(t === RdbType.LIST ? { type: 'list', value: out.splice(0) } : { type: 'set', value: out.splice(0) });
      }
    }
    const value: KeyValue | undefined = want ? (t === RdbType.LIST ? { type: 'list', value: out } : { type: 'set', value: out }) : undefined;
    return { value, elements: n, empty: n === 0 };
  }

  /** A skiplist sorted set: members with scores as text (type 3) or binary doubles (type 5). */
  private *zsetValue(t: number, mode: ValueMode): Generator<number | RdbRecord, ValueResult, void> {
    const want = mode === ValueMode.Value;
    const check = mode !== ValueMode.Skip;
    const fail: (m: string) => never = this.fail;
    const n = yield* this.u(this.len, 'a sorted set length');
    const out: [Uint8Array, number][] = [];
    const dup = check ? this.newDup(n) : null;
    if (mode === ValueMode.Check) {
      const zf = t === RdbType.ZSET_2 ? this.zset2CheckFn : this.zset1CheckFn;
      for (let i = 0; i < n; i++) {
        if (t === RdbType.ZSET_2) {
          i = this.batch(BatchKind.Zset, n, i);
          if (i >= n) break;
        }
        const score = this.now(zf) ?? (yield* this.u(zf, 'a sorted set member and score'));
        if (Number.isNaN(score)) fail('sorted set score is NaN');
        if (dup!.seenRange(this.rb, this.rs, this.re)) fail('duplicate sorted set member');
      }
      return { elements: n, empty: n === 0 };
    }
    for (let i = 0; i < n; i++) {
      this.curMode = mode;
      const zf = t === RdbType.ZSET_2 ? this.zset2Fn : this.zset1Fn;
      const ms = this.now(zf) ?? (yield* this.u(zf, 'a sorted set member and score'));
      const [m, score] = ms;
      if (Number.isNaN(score) && !this.walking) fail('sorted set score is NaN');
      if (dup && dup.seen(m)) fail('duplicate sorted set member');
      if (want) {
        out.push([m, score]);
        if (out.length === this.cfg.chunk) yield this.partial({ type: 'zset', value: out.splice(0) });
      }
    }
    return { value: want ? { type: 'zset', value: out } : undefined, elements: n, empty: n === 0 };
  }

  /** A hashtable hash: a count, then field/value strings. */
  private *hashValue(mode: ValueMode): Generator<number | RdbRecord, ValueResult, void> {
    const want = mode === ValueMode.Value;
    const check = mode !== ValueMode.Skip;
    const fail: (m: string) => never = this.fail;
    const n = yield* this.u(this.len, 'a hash length');
    const out: HashField[] = [];
    const dup = check ? this.newDup(n) : null;
    if (mode === ValueMode.Check) {
      const pf = this.pairCheckFn;
      for (let i = 0; i < n; i++) {
        i = this.batch(BatchKind.Hash, n, i);
        if (i >= n) break;
        this.now(pf) ?? (yield* this.u(pf, 'a hash field and value'));
        if (dup!.seenRange(this.rb, this.rs, this.re)) fail('duplicate hash field');
      }
      return { elements: n, empty: n === 0 };
    }
    for (let i = 0; i < n; i++) {
      this.curMode = mode;
      const pair = this.now(this.pairFn) ?? (yield* this.u(this.pairFn, 'a hash field and value'));
      const [f, v] = pair;
      if (dup && dup.seen(f)) fail('duplicate hash field');
      if (want) {
        out.push({ field: f, value: v, expireAt: null });
        if (out.length === this.cfg.chunk) yield this.partial({ type: 'hash', value: out.splice(0) });
      }
    }
    return { value: want ? { type: 'hash', value: out } : undefined, elements: n, empty: n === 0 };
  }

  /** A module value: its type id, then the module's opcode stream kept raw. */
  private *moduleValue(mode: ValueMode): Generator<number | RdbRecord, ValueResult, void> {
    const want = mode === ValueMode.Value;
    const id = yield* this.u(this.lenBig, 'a module type id');
    this.capture = want ? [] : null;
    yield* this.moduleStream(mode);
    const raw = this.capture ? Buffer.concat(this.capture) : EMPTY;
    this.capture = null;
    const m = decodeModuleId(id);
    return { value: want ? { type: 'module', value: { module: m.name, encver: m.encver, raw } } : undefined, elements: 1, empty: false };
  }

  /** A value held in one packed blob (zipmap, ziplist, intset, listpack). */
  private *blobValue(t: number, mode: ValueMode): Generator<number | RdbRecord, ValueResult, void> {
    const want = mode === ValueMode.Value;
    const check = mode !== ValueMode.Skip;
    const blob = this.now(this.strFns[check ? ValueMode.Check : ValueMode.Skip]) ?? (yield* this.strU(check ? ValueMode.Check : ValueMode.Skip, 'an encoded value'));
    if (!check) return { elements: 0, empty: false };
    return this.decodeBlob(t, blob, want);
  }

  /** A quicklist: nodes that are ziplists (type 14) or, in v2 (type 18), listpacks or plain strings. */
  private *quicklistValue(t: number, mode: ValueMode): Generator<number | RdbRecord, ValueResult, void> {
    const want = mode === ValueMode.Value;
    const check = mode !== ValueMode.Skip;
    const fail: (m: string) => never = this.fail;
    const n = this.now(this.len) ?? (yield* this.u(this.len, 'a quicklist node count'));
    const out: Uint8Array[] = [];
    let count = 0;
    for (let i = 0; i < n; i++) {
      let container: number = QuicklistContainer.PACKED;
      if (t === RdbType.LIST_QUICKLIST_2) {
        container = this.now(this.len) ?? (yield* this.u(this.len, 'a quicklist node container'));
        if (container !== QuicklistContainer.PLAIN && container !== QuicklistContainer.PACKED) this.corrupt(`quicklist node container ${container} is neither 1 (plain) nor 2 (packed)`);
      }
      if (container === QuicklistContainer.PLAIN && !want) {
        yield* this.dropStr(mode === ValueMode.Check ? ValueMode.Drop : mode, 'a quicklist plain node');
        if (check) count++;
        continue;
      }
      const nm = check ? (container === QuicklistContainer.PLAIN ? mode : ValueMode.Check) : ValueMode.Skip;
      const node = this.now(this.strFns[nm]) ?? (yield* this.strU(nm, 'a quicklist node'));
      if (!check) continue;
      if (container === QuicklistContainer.PLAIN) {
        count++;
        if (want) out.push(node);
        continue;
      }
      if (node.length === 0) fail('empty quicklist node');
      if (!want) {
        count += t === RdbType.LIST_QUICKLIST ? ziplistCount(node, fail) : listpackCount(node, fail);
        continue;
      }
      // the node copied once, its elements views of the copy (not a copy each)
      const own = copyBytes(node, 0, node.length);
      const entries = t === RdbType.LIST_QUICKLIST ? ziplistEntries(own, fail) : listpackEntries(own, fail);
      count += entries.length;
      for (const e of entries) out.push(ownedEntry(e));
      if (want && this.cfg.chunk && out.length >= this.cfg.chunk) yield this.partial({ type: 'list', value: out.splice(0) });
    }
    return { value: want ? { type: 'list', value: out } : undefined, elements: count, empty: check && count === 0 };
  }

  /** A hashtable hash with field expire times: Redis 7.4 (type 24 relative to a minimum, 22 absolute in the release candidates) or Valkey 9 HASH_2 (type 22). */
  private *hashWithTtlValue(t: number, mode: ValueMode): Generator<number | RdbRecord, ValueResult, void> {
    const want = mode === ValueMode.Value;
    const check = mode !== ValueMode.Skip;
    const fail: (m: string) => never = this.fail;
    const valkey = this.magic === 'VALKEY';
    const minExpire = t === RdbType.HASH_METADATA ? yield* this.u(this.ms8, 'the hash minimum expire time') : 0;
    const n = yield* this.u(this.len, 'a hash length');
    const out: HashField[] = [];
    const dup = check ? this.newDup(n) : null;
    for (let i = 0; i < n; i++) {
      const [f, v, ttl] = yield* this.u(() => {
        this.itemOffset = this.absPos();
        if (valkey) {
          const f = this.str(mode);
          const v = this.str(mode);
          return [f, v, this.ms8()] as const;
        }
        const ttl = this.len();
        return [this.str(mode), this.str(mode), ttl] as const;
      }, 'a hash field, value and expire time');
      let exp: number | null;
      if (valkey) exp = ttl === -1 ? null : ttl;
      else if (ttl === 0) exp = null;
      else exp = t === RdbType.HASH_METADATA ? ttl + minExpire - 1 : ttl;
      if (exp !== null && (exp < 0 || exp > 2 ** 48 - 1) && !this.walking) fail(`hash field expire time ${exp} is out of range`);
      if (dup && dup.seen(f)) fail('duplicate hash field');
      if (want) {
        out.push({ field: f, value: v, expireAt: exp });
        if (out.length === this.cfg.chunk) yield this.partial({ type: 'hash', value: out.splice(0) });
      }
    }
    return { value: want ? { type: 'hash', value: out } : undefined, elements: n, empty: n === 0 };
  }

  /** A listpack hash with field expire times (field, value, ttl triplets). */
  private *listpackHashWithTtlValue(t: number, mode: ValueMode): Generator<number | RdbRecord, ValueResult, void> {
    const want = mode === ValueMode.Value;
    const check = mode !== ValueMode.Skip;
    const fail: (m: string) => never = this.fail;
    if (t === RdbType.HASH_LISTPACK_EX) yield* this.u(this.ms8, 'the hash minimum expire time');
    const blob = yield* this.strU(check ? ValueMode.Check : ValueMode.Skip, 'a listpack hash with expire times');
    if (!check) return { elements: 0, empty: false };
    const e = listpackEntries(blob, fail);
    if (e.length % 3 !== 0) fail('listpack hash with expire times does not hold field/value/ttl triplets');
    const out: HashField[] = [];
    const dup = this.newDup(e.length / 3);
    let prev = 0;
    for (let k = 0; k < e.length; k += 3) {
      const ttlE = e[k + 2];
      if (typeof ttlE !== 'number' && typeof ttlE !== 'bigint') fail('hash field expire time is not an integer');
      const ttl = Number(ttlE);
      if (ttl < 0 || ttl > 2 ** 48 - 1) fail(`hash field expire time ${ttl} is out of range`);
      if (ttl !== 0 && (prev === -1 || ttl < prev)) fail('hash field expire times are not in ascending order');
      prev = ttl === 0 ? -1 : ttl;
      if (dup.seen(e[k])) fail('duplicate hash field');
      if (want) out.push({ field: entryBytes(e[k]), value: entryBytes(e[k + 1]), expireAt: ttl === 0 ? null : ttl });
    }
    const n = e.length / 3;
    return { value: want ? { type: 'hash', value: out } : undefined, elements: n, empty: n === 0 };
  }

  /** {@link decodeBlob} for ValueMode.Check: validates a ziplist/listpack value in place, materialising nothing. */
  private checkBlob(t: number, blob: Uint8Array): ValueResult {
    const fail: (m: string) => never = this.fail;
    switch (t) {
      case RdbType.LIST_ZIPLIST: {
        const n = ziplistCount(blob, fail);
        return { elements: n, empty: n === 0 };
      }
      case RdbType.SET_LISTPACK: {
        const n = listpackCount(blob, fail);
        if (listpackDuplicate(blob, 1, this.newDup(n)) >= 0) fail('duplicate set member in listpack');
        return { elements: n, empty: n === 0 };
      }
      case RdbType.ZSET_ZIPLIST:
      case RdbType.ZSET_LISTPACK:
      case RdbType.HASH_ZIPLIST:
      case RdbType.HASH_LISTPACK: {
        const zl = t === RdbType.ZSET_ZIPLIST || t === RdbType.HASH_ZIPLIST;
        const c = zl ? ziplistCount(blob, fail) : listpackCount(blob, fail);
        if (c % 2 !== 0) fail('odd number of entries in a paired encoding');
        // sorted set scores are read with strtod, which accepts anything: nothing to validate
        const dup = this.newDup(c / 2);
        if ((zl ? ziplistDuplicate(blob, 2, dup) : listpackDuplicate(blob, 2, dup)) >= 0) {
          fail(t === RdbType.ZSET_ZIPLIST || t === RdbType.ZSET_LISTPACK ? 'duplicate sorted set member' : 'duplicate hash field');
        }
        const n = c / 2;
        return { elements: n, empty: n === 0 };
      }
      default:
        this.corrupt(`unknown object type ${t}`);
    }
  }

  /** Type 3 scores: a length byte then ASCII (253 NaN, 254 +inf, 255 -inf). */
  private strDouble(): number {
    const n = this.u8();
    if (n === ZSET1_SCORE_NAN) return NaN;
    if (n === ZSET1_SCORE_POS_INF) return Infinity;
    if (n === ZSET1_SCORE_NEG_INF) return -Infinity;
    const text = latin1.decode(this.raw(n));
    // Redis reads it with sscanf("%lg") on a NUL-terminated copy: the longest numeric prefix counts
    const nul = text.indexOf('\0');
    const v = strtodPrefix(nul < 0 ? text : text.slice(0, nul), null);
    if (v === null && !this.walking) this.corrupt(`invalid sorted set score ${JSON.stringify(text)}`);
    return v ?? NaN;
  }

  private visitDb = 0;
  private visitType: KeyType = 'string';
  private visitExpire: number | null = null;
  private visitOp = 0;
  private readonly visitDigits = new Uint8Array(24);
  private readonly visitFwd = new VisitForward();

  /** A packed entry given to the visitor: its bytes, or an integer's decimal text. */
  private visitEntry(v: KeyVisitor, e: PackedEntry): void {
    if (e instanceof Uint8Array) {
      v.item(e, 0, e.length);
      return;
    }
    if (typeof e === 'bigint') {
      const t = intToBytes(e);
      v.item(t, 0, t.length);
      return;
    }
    const d = this.visitDigits;
    let i = d.length;
    let n = e < 0 ? -e : e;
    do {
      d[--i] = 0x30 + (n % 10);
      n = Math.floor(n / 10);
    } while (n > 0);
    if (e < 0) d[--i] = 0x2d;
    v.item(d, i, d.length);
  }

  /**
   * One key walked in place for the visitor ({@link setKeyVisitor}), run through {@link now}: true when done, false
   * when it left the key to the usual path (nothing consumed). Throws NEED (the value is not wholly buffered) or a
   * value-mode error (the caller cancels and falls back). The checks are those of the value-mode decoders.
   */
  private readonly visitFn = (): boolean => {
    const v = this.visitor!;
    const fail: (m: string) => never = this.fail;
    const t = this.visitOp;
    this.itemOffset = this.absPos();
    this.str(ValueMode.Range);
    v.key(this.visitDb, this.rb, this.rs, this.re, this.visitType, this.visitExpire);
    let n = 0;
    switch (t) {
      case RdbType.STRING:
        this.itemOffset = this.absPos();
        this.str(ValueMode.Range);
        v.item(this.rb, this.rs, this.re);
        n = 1;
        break;
      case RdbType.LIST:
      case RdbType.SET: {
        n = this.len();
        const dup = t === RdbType.SET ? this.newDup(n) : null;
        for (let i = 0; i < n; i++) {
          this.itemOffset = this.absPos();
          this.str(ValueMode.Range);
          if (dup !== null && dup.seenRange(this.rb, this.rs, this.re)) fail('duplicate set member');
          v.item(this.rb, this.rs, this.re);
        }
        break;
      }
      case RdbType.ZSET:
      case RdbType.ZSET_2: {
        n = this.len();
        const dup = this.newDup(n);
        for (let i = 0; i < n; i++) {
          this.itemOffset = this.absPos();
          this.str(ValueMode.Range);
          if (dup.seenRange(this.rb, this.rs, this.re)) fail('duplicate sorted set member');
          v.item(this.rb, this.rs, this.re);
          const score = t === RdbType.ZSET_2 ? this.f64() : this.strDouble();
          if (Number.isNaN(score)) fail('sorted set score is NaN');
          v.score(score);
        }
        break;
      }
      case RdbType.HASH: {
        n = this.len();
        const dup = this.newDup(n);
        for (let i = 0; i < n; i++) {
          this.itemOffset = this.absPos();
          this.str(ValueMode.Range);
          if (dup.seenRange(this.rb, this.rs, this.re)) fail('duplicate hash field');
          v.item(this.rb, this.rs, this.re);
          this.str(ValueMode.Range);
          v.item(this.rb, this.rs, this.re);
        }
        break;
      }
      case RdbType.LIST_QUICKLIST:
      case RdbType.LIST_QUICKLIST_2: {
        const nodes = this.len();
        for (let i = 0; i < nodes; i++) {
          let container: number = QuicklistContainer.PACKED;
          if (t === RdbType.LIST_QUICKLIST_2) {
            container = this.len();
            if (container !== QuicklistContainer.PLAIN && container !== QuicklistContainer.PACKED) this.corrupt(`quicklist node container ${container}`);
          }
          this.itemOffset = this.absPos();
          if (container === QuicklistContainer.PLAIN) {
            this.str(ValueMode.Range);
            v.item(this.rb, this.rs, this.re);
            n++;
            continue;
          }
          const node = this.str(ValueMode.Check);
          if (node.length === 0) fail('empty quicklist node');
          // validated whole first (as listpackEntries / ziplistEntries do), then walked in place
          const fwd = this.visitFwd;
          fwd.begin(v, false);
          if (t === RdbType.LIST_QUICKLIST) {
            n += ziplistCount(node, fail);
            ziplistVisit(node, fwd);
          } else {
            n += listpackCount(node, fail);
            listpackVisit(node, fwd);
          }
        }
        break;
      }
      default: {
        // one packed blob
        this.itemOffset = this.absPos();
        const blob = this.str(ValueMode.Check);
        switch (t) {
          case RdbType.SET_INTSET: {
            const e = intsetEntries(blob, fail);
            for (let k = 0; k < e.length; k++) this.visitEntry(v, e[k]!);
            n = e.length;
            break;
          }
          case RdbType.LIST_ZIPLIST:
          case RdbType.SET_LISTPACK:
          case RdbType.ZSET_ZIPLIST:
          case RdbType.ZSET_LISTPACK:
          case RdbType.HASH_ZIPLIST:
          case RdbType.HASH_LISTPACK: {
            // validated whole first (the checks of listpackEntries / ziplistEntries), duplicates checked in place,
            // then walked in place: no object per element
            const zl = t === RdbType.LIST_ZIPLIST || t === RdbType.ZSET_ZIPLIST || t === RdbType.HASH_ZIPLIST;
            const c = zl ? ziplistCount(blob, fail) : listpackCount(blob, fail);
            const zset = t === RdbType.ZSET_ZIPLIST || t === RdbType.ZSET_LISTPACK;
            if (t === RdbType.SET_LISTPACK) {
              if (listpackDuplicate(blob, 1, this.newDup(c)) >= 0) fail('duplicate set member in listpack');
              n = c;
            } else if (t === RdbType.LIST_ZIPLIST) {
              n = c;
            } else {
              if (c % 2 !== 0) fail('odd number of entries in a paired encoding');
              n = c / 2;
              if ((zl ? ziplistDuplicate(blob, 2, this.newDup(n)) : listpackDuplicate(blob, 2, this.newDup(n))) >= 0) {
                fail(zset ? 'duplicate sorted set member' : 'duplicate hash field');
              }
            }
            const fwd = this.visitFwd;
            fwd.begin(v, zset);
            if (zl) ziplistVisit(blob, fwd);
            else listpackVisit(blob, fwd);
            break;
          }
          default:
            return false;
        }
      }
    }
    if (n === 0) {
      // an empty collection is left out, as the usual path does (skipEmpty)
      v.cancel();
      return true;
    }
    v.done();
    return true;
  };

  private decodeBlob(t: number, blob: Uint8Array, want: boolean): ValueResult {
    const fail: (m: string) => never = this.fail;
    if (!want && t !== RdbType.HASH_ZIPMAP && t !== RdbType.SET_INTSET) return this.checkBlob(t, blob);
    // values wanted: the blob copied once, its elements views of the copy (not a copy each)
    if (want && t !== RdbType.HASH_ZIPMAP && t !== RdbType.SET_INTSET) blob = copyBytes(blob, 0, blob.length);
    switch (t) {
      case RdbType.HASH_ZIPMAP: {
        const e = zipmapEntries(blob, fail);
        const dup = this.newDup(e.length / 2);
        const out: HashField[] = [];
        for (let k = 0; k < e.length; k += 2) {
          if (dup.seen(e[k])) fail('duplicate hash field in zipmap');
          if (want) out.push({ field: e[k].slice(), value: e[k + 1].slice(), expireAt: null });
        }
        return { value: want ? { type: 'hash', value: out } : undefined, elements: e.length / 2, empty: e.length === 0 };
      }
      case RdbType.LIST_ZIPLIST:
      case RdbType.SET_INTSET:
      case RdbType.SET_LISTPACK: {
        const e = t === RdbType.LIST_ZIPLIST ? ziplistEntries(blob, fail) : t === RdbType.SET_INTSET ? intsetEntries(blob, fail) : listpackEntries(blob, fail);
        if (t === RdbType.SET_LISTPACK) {
          const dup = this.newDup(e.length);
          for (const x of e) if (dup.seen(x)) fail('duplicate set member in listpack');
        }
        const value: KeyValue | undefined = want
          ? t === RdbType.LIST_ZIPLIST
            ? { type: 'list', value: e.map(ownedEntry) }
            : { type: 'set', value: e.map(ownedEntry) }
          : undefined;
        return { value, elements: e.length, empty: e.length === 0 };
      }
      case RdbType.ZSET_ZIPLIST:
      case RdbType.ZSET_LISTPACK:
      case RdbType.HASH_ZIPLIST:
      case RdbType.HASH_LISTPACK: {
        const e = t === RdbType.ZSET_ZIPLIST || t === RdbType.HASH_ZIPLIST ? ziplistEntries(blob, fail) : listpackEntries(blob, fail);
        if (e.length % 2 !== 0) fail('odd number of entries in a paired encoding');
        const dup = this.newDup(e.length / 2);
        const zset = t === RdbType.ZSET_ZIPLIST || t === RdbType.ZSET_LISTPACK;
        const zs: [Uint8Array, number][] = [];
        const hs: HashField[] = [];
        for (let k = 0; k < e.length; k += 2) {
          if (dup.seen(e[k])) fail(zset ? 'duplicate sorted set member' : 'duplicate hash field');
          if (zset) {
            const s = e[k + 1];
            // Redis reads these scores with strtod on the entry and validates nothing more
            const score = s instanceof Uint8Array ? packedScore(s) : Number(s);
            if (want) zs.push([ownedEntry(e[k]), score]);
          } else if (want) hs.push({ field: ownedEntry(e[k]), value: ownedEntry(e[k + 1]), expireAt: null });
        }
        const n = e.length / 2;
        const value: KeyValue | undefined = want ? (zset ? { type: 'zset', value: zs } : { type: 'hash', value: hs }) : undefined;
        return { value, elements: n, empty: n === 0 };
      }
      default:
        this.corrupt(`unknown object type ${t}`);
    }
  }

  // ---- streams ----

  /** Stream node keys of the stream being read (unique, checked as Redis does). */
  private readonly streamNodes = new StreamIdTable();
  /** The PEL of the consumer group being read, with delivery times and counts when values are wanted. */
  private readonly streamPel = new StreamIdTable();
  private readonly streamGroupNames = new NameSet();
  private readonly streamConsumerNames = new NameSet();
  /** Where the last {@link pelFn} / {@link pelIdFn} left its 16-byte ID (in q.buf, until the next push) and time. */
  private pelAt = 0;
  private pelTime = 0;
  /** A group PEL entry: its ID stays at pelAt, the delivery time goes to pelTime, the delivery count is returned. */
  private readonly pelFn = (): number => {
    this.itemOffset = this.absPos();
    this.need(16);
    this.pelAt = this.pos;
    this.pos += 16;
    this.pelTime = this.ms8();
    return this.len();
  };
  /** A consumer PEL entry: its ID stays at pelAt. */
  private readonly pelIdFn = (): number => {
    this.itemOffset = this.absPos();
    this.need(16);
    this.pelAt = this.pos;
    this.pos += 16;
    return 0;
  };
  /** A consumer's name (a copy for ValueMode.Value, a ValueMode.Range for ValueMode.Check), seen time and (stream v3) active time. */
  private consumerMode = ValueMode.Skip;
  private consumerActiveTime = false;
  private consumerSeen = 0;
  private consumerActive = 0;
  private readonly consumerFn = (): Uint8Array => {
    this.itemOffset = this.absPos();
    const name = this.str(this.consumerMode);
    this.consumerSeen = this.ms8();
    this.consumerActive = this.consumerActiveTime ? this.ms8() : 0;
    return name;
  };

  /**
   * A stream. The checks are Redis' (unique node keys, group names, consumer names and group PEL entries; every
   * consumer PEL entry in the group PEL and owned once; every group PEL entry owned), made with compact tables
   * ({@link StreamIdTable}, {@link NameSet}) rather than an object per entry: a consumer's PEL names only IDs, so a
   * pending entry (ID, consumer, delivery time and count) is put together from both tables. With `chunkElements`
   * the value comes out in pieces (see {@link streamPiece}): the entries, then group by group its consumers and its
   * pending entries, in the group PEL's order after the consumers, or (`streamPendingOrder: 'consumer'`) each
   * consumer followed by those it owns.
   */
  private *stream(t: number, mode: ValueMode): Generator<number | RdbRecord, ValueResult, void> {
    const want = mode === ValueMode.Value;
    const check = mode !== ValueMode.Skip;
    const chunk = want ? this.cfg.chunk : 0;
    const fail: (m: string) => never = this.fail;
    const nodes = yield* this.u(this.len, 'a stream node count');
    let entries: StreamEntry[] = [];
    let firstEntry: string | null = null;
    const nodeKeys = this.streamNodes;
    if (check) nodeKeys.reset(false);
    for (let i = 0; i < nodes; i++) {
      const [nodeKey, lp] = yield* this.u(() => {
        this.itemOffset = this.absPos();
        const k = this.str(check ? ValueMode.Check : ValueMode.Skip);
        if (check && k.length !== 16) this.fail('stream node key is not a 16-byte stream ID');
        const kk = check ? k.slice() : k;
        this.itemOffset = this.absPos();
        return [kk, this.str(check ? ValueMode.Check : ValueMode.Skip)] as const;
      }, 'a stream node');
      if (!check) continue;
      if (!nodeKeys.add(nodeKey, 0)) fail('stream node added twice with the same key');
      // streamValidateListpackIntegrity walks the entries itself and ignores the header count
      const e = listpackEntries(lp, fail, false);
      if (e.length === 0) fail('empty listpack inside stream');
      decodeStreamNode(streamIdFromBytes(nodeKey, 0), e, want ? entries : null, fail);
      if (want && firstEntry === null && entries.length > 0) firstEntry = entries[0].id;
      if (chunk > 0 && entries.length >= chunk) yield this.partial({ type: 'stream', value: streamPiece(entries.splice(0), null, []) });
    }
    const hdr = yield* this.u(() => {
      const length = this.len();
      const lastMs = this.lenBig();
      const lastSeq = this.lenBig();
      let first: StreamId | null = null;
      let maxDel: StreamId | null = null;
      let added: bigint | null = null;
      if (t >= RdbType.STREAM_LISTPACKS_2) {
        first = { ms: this.lenBig(), seq: this.lenBig() };
        maxDel = { ms: this.lenBig(), seq: this.lenBig() };
        added = this.lenBig();
      }
      return { length, last: { ms: lastMs, seq: lastSeq } as StreamId, first, maxDel, added };
    }, 'the stream metadata');
    const ngroups = yield* this.u(this.len, 'a stream consumer group count');
    let firstId: string | null;
    let maxDeletedId: string;
    let entriesAdded: number;
    if (t >= RdbType.STREAM_LISTPACKS_2) {
      firstId = formatStreamId(hdr.first!);
      maxDeletedId = formatStreamId(hdr.maxDel!);
      entriesAdded = Number(hdr.added!);
    } else {
      firstId = this.cfg.streamMetaFromFile ? null : firstEntry !== null ? firstEntry : hdr.length === 0 ? formatStreamId(STREAM_ID_MAX) : null;
      maxDeletedId = '0-0';
      entriesAdded = hdr.length;
    }
    // what Redis' entries-read estimate of a v1 group compares with (v1 streams store no first ID)
    const firstStreamId = firstId === null ? null : parseStreamId(firstId);
    const meta: StreamMeta = { length: hdr.length, lastId: formatStreamId(hdr.last), firstId, maxDeletedId, entriesAdded, unreported: t < RdbType.STREAM_LISTPACKS_2 && this.cfg.streamMetaFromFile };
    // the groups of the whole value, or of the next piece (whose first one may continue the previous piece's last)
    let groups: StreamGroup[] = [];
    let held = entries.length;
    let continued: StreamGroup | null = null;
    const groupNames = this.streamGroupNames;
    if (check) groupNames.reset();
    const pel = this.streamPel;
    const names = this.streamConsumerNames;
    this.consumerMode = want ? ValueMode.Value : check ? ValueMode.Range : ValueMode.Skip;
    // pieces: pending entries after each consumer (as XCLAIM rebuilds them), else after the group's consumers
    const byConsumer = chunk > 0 && this.cfg.pendingByConsumer;
    this.consumerActiveTime = t >= RdbType.STREAM_LISTPACKS_3;
    for (let g = 0; g < ngroups; g++) {
      const gh = yield* this.u(() => {
        this.itemOffset = this.absPos();
        const name = this.str(want ? ValueMode.Value : check ? ValueMode.Range : ValueMode.Skip);
        const ms = this.lenBig();
        const seq = this.lenBig();
        const read = t >= RdbType.STREAM_LISTPACKS_2 ? this.lenBig() : null;
        return { name, last: { ms, seq } as StreamId, read };
      }, 'a stream consumer group');
      if (check && !(want ? groupNames.add(gh.name, 0, gh.name.length) : groupNames.add(this.rb, this.rs, this.re))) {
        fail('duplicate stream consumer group name');
      }
      const npel = yield* this.u(this.len, 'a consumer group PEL size');
      if (check) pel.reset(want);
      for (let k = 0; k < npel; k++) {
        const cnt = this.now(this.pelFn) ?? (yield* this.u(this.pelFn, 'a consumer group PEL entry'));
        if (check && !pel.add(this.q.buf, this.pelAt, this.pelTime, cnt)) fail('duplicated global PEL entry in a stream consumer group');
      }
      let group: StreamGroup | null = null;
      if (want) {
        let entriesRead: number | null;
        if (gh.read !== null) entriesRead = gh.read >= 1n << 63n ? null : Number(gh.read);
        else if (this.cfg.streamMetaFromFile) entriesRead = null;
        else entriesRead = estimateEntriesRead(gh.last, { length: hdr.length, entriesAdded, lastId: hdr.last, firstId: firstStreamId });
        group = { name: gh.name, lastDeliveredId: formatStreamId(gh.last), entriesRead, pending: [], consumers: [] };
        // the previous group's continuation, when a piece ended with that group and nothing more of it came
        if (continued !== null && continued.pending.length === 0 && continued.consumers.length === 0) groups.pop();
        continued = null;
        groups.push(group);
      }
      const ncons = yield* this.u(this.len, 'a consumer count');
      if (check) names.reset();
      for (let c = 0; c < ncons; c++) {
        const name = this.now(this.consumerFn) ?? (yield* this.u(this.consumerFn, 'a stream consumer'));
        if (check && !(want ? names.add(name, 0, name.length) : names.add(this.rb, this.rs, this.re))) fail('duplicate stream consumer');
        if (group) {
          group.consumers.push({ name, seenTime: this.consumerSeen, activeTime: t >= RdbType.STREAM_LISTPACKS_3 ? this.consumerActive : null });
          held++;
        }
        const ncpel = yield* this.u(this.len, 'a consumer PEL size');
        for (let k = 0; k < ncpel; k++) {
          this.now(this.pelIdFn) ?? (yield* this.u(this.pelIdFn, 'a consumer PEL entry'));
          if (!check) continue;
          const pos = pel.find(this.q.buf, this.pelAt);
          if (pos < 0) fail('consumer PEL entry not found in the group PEL');
          if (!pel.own(pos, c)) fail('duplicated consumer PEL entry');
          if (!group || !byConsumer) continue;
          group.pending.push({ id: streamIdTextAt(this.q.buf, this.pelAt), consumer: name, deliveryTime: pel.time, deliveryCount: pel.count });
          // a piece never ends between a consumer and its first pending entry (see streamPiece)
          if (++held >= chunk) {
            yield this.partial({ type: 'stream', value: streamPiece(entries.splice(0), meta, groups) });
            held = 0;
            group = continued = { ...group, pending: [], consumers: [] };
            groups = [group];
          }
        }
        if (group && chunk > 0 && held >= chunk && (ncpel === 0 || !byConsumer)) {
          yield this.partial({ type: 'stream', value: streamPiece(entries.splice(0), meta, groups) });
          held = 0;
          group = continued = { ...group, pending: [], consumers: [] };
          groups = [group];
        }
      }
      if (check && pel.ownedCount !== pel.size) fail('stream consumer group PEL entry without consumer');
      if (group && !byConsumer) {
        // the pending entries in the group PEL's order, each naming the consumer that owns it
        pel.scanStart();
        let owner = -1;
        let ownerName: Uint8Array = EMPTY;
        for (let pos = 0; pel.scanNext(); pos++) {
          const o = pel.ownerOf(pos);
          if (o !== owner) {
            const len = names.getLength(o); // first: it may grow nameBuf
            ownerName = copyBytes(names.nameBuf, 0, len);
            owner = o;
          }
          group.pending.push({ id: `${u64Text(pel.id0, pel.id1)}-${u64Text(pel.id2, pel.id3)}`, consumer: ownerName, deliveryTime: pel.time, deliveryCount: pel.count });
          if (chunk > 0 && ++held >= chunk) {
            yield this.partial({ type: 'stream', value: streamPiece(entries.splice(0), meta, groups) });
            held = 0;
            group = continued = { ...group, pending: [], consumers: [] };
            groups = [group];
          }
        }
      }
    }
    if (!want) return { elements: hdr.length, empty: false };
    return { value: { type: 'stream', value: streamPiece(entries, meta, groups) }, elements: hdr.length, empty: false };
  }
}

/** A stream's metadata (everything but its entries and groups). */
interface StreamMeta {
  length: number;
  lastId: string;
  firstId: string | null;
  maxDeletedId: string;
  entriesAdded: number;
  /** A v1 stream read with `streamMeta: 'file'`: max-deleted ID and entries-added are not in the file. */
  unreported: boolean;
}

/**
 * A stream value, or one piece of a stream handed out with `chunkElements` (what `@redis-persist/keyspace` calls a
 * stream piece): the pieces' entries, in order, are the stream's entries; a piece's groups continue the groups of
 * the pieces before it (a group whose name is that of the previous piece's last group is more of that group);
 * a consumer comes in the same piece as the first pending entry it owns. Pieces made before the metadata was read
 * (`meta` null: only entries) carry zeros in its place; every piece with a group, and the last piece, carries it.
 */
function streamPiece(entries: StreamEntry[], meta: StreamMeta | null, groups: StreamGroup[]): StreamValue {
  if (meta === null) return { entries, length: 0, lastId: '0-0', firstId: null, maxDeletedId: '0-0', entriesAdded: 0, groups };
  const value: StreamValue = {
    entries,
    length: meta.length,
    lastId: meta.lastId,
    firstId: meta.firstId,
    maxDeletedId: meta.maxDeletedId,
    entriesAdded: meta.entriesAdded,
    groups,
  };
  // not in a v1 stream: the fields hold what Redis derives, `unreported` says the file did not carry them
  if (meta.unreported) value.unreported = ['maxDeletedId', 'entriesAdded'];
  return value;
}

function entryInt(e: PackedEntry | undefined): number | null {
  if (e === undefined) return null;
  if (typeof e === 'number') return e;
  if (typeof e === 'bigint') return e >= BigInt(Number.MIN_SAFE_INTEGER) && e <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(e) : null;
  const v = parseCanonicalInt(e);
  return v === null ? null : Number(v);
}

function entryBigInt(e: PackedEntry | undefined): bigint | null {
  if (e === undefined) return null;
  if (typeof e === 'number') return BigInt(e);
  if (typeof e === 'bigint') return e;
  return parseCanonicalInt(e);
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Walks one stream node listpack (validating it as streamValidateListpackIntegrity does); returns the live count. */
function decodeStreamNode(master: StreamId, e: PackedEntry[], out: StreamEntry[] | null, fail: (m: string) => never): number {
  let p = 0;
  const int = (what: string): number => {
    const v = entryInt(e[p++]);
    if (v === null) fail(`stream listpack: ${what} is not an integer`);
    return v;
  };
  const count = int('the entry count');
  const deleted = int('the deleted count');
  const nmf = int('the master field count');
  if (count < 0 || deleted < 0 || nmf < 0) fail('stream listpack: negative count');
  if (p + nmf > e.length) fail('stream listpack: master fields overflow the listpack');
  const masterFields = e.slice(p, p + nmf);
  p += nmf;
  // IDs as numbers while they stay below 2^53 (no BigInt per entry), else as BigInts
  const masterMs = master.ms <= MAX_SAFE ? Number(master.ms) : -1;
  const masterSeq = master.seq <= MAX_SAFE ? Number(master.seq) : -1;
  if (int('the master terminator') !== 0) fail('stream listpack: master entry terminator is not 0');
  let live = 0;
  const total = count + deleted;
  for (let k = 0; k < total; k++) {
    if (p >= e.length) fail('stream listpack holds fewer entries than its header counts');
    const flags = int('entry flags');
    const msE = e[p++];
    const seqE = e[p++];
    const msd = typeof msE === 'number' ? msE : entryBigInt(msE);
    const seqd = typeof seqE === 'number' ? seqE : entryBigInt(seqE);
    if (msd === null || seqd === null) fail('stream listpack: entry ID delta is not an integer');
    let fields: [Uint8Array, Uint8Array][] | null = out ? [] : null;
    let lpCount: number;
    if (flags & 2) {
      if (p + nmf > e.length) fail('stream listpack: entry overflows the listpack');
      if (fields) for (let j = 0; j < nmf; j++) fields.push([entryBytes(masterFields[j]), entryBytes(e[p + j])]);
      p += nmf;
      lpCount = nmf + 3;
    } else {
      const nf = int('entry field count');
      if (nf < 0 || p + 2 * nf > e.length) fail('stream listpack: entry overflows the listpack');
      if (fields) for (let j = 0; j < nf; j++) fields.push([entryBytes(e[p + 2 * j]), entryBytes(e[p + 2 * j + 1])]);
      p += 2 * nf;
      lpCount = 2 * nf + 4;
    }
    if (int('entry lp-count') !== lpCount) fail('stream listpack: entry lp-count does not match its size');
    if (flags & 1) {
      fields = null;
      continue;
    }
    live++;
    if (out && fields) {
      if (typeof msd === 'number' && typeof seqd === 'number' && masterMs >= 0 && masterSeq >= 0) {
        const ms = masterMs + msd;
        const seq = masterSeq + seqd;
        if (ms >= 0 && ms <= Number.MAX_SAFE_INTEGER && seq >= 0 && seq <= Number.MAX_SAFE_INTEGER) {
          out.push({ id: `${ms}-${seq}`, fields });
          continue;
        }
      }
      const ms = (master.ms + BigInt(msd)) & U64_MAX;
      const seq = (master.seq + BigInt(seqd)) & U64_MAX;
      out.push({ id: `${ms}-${seq}`, fields });
    }
  }
  if (p !== e.length) fail('stream listpack holds more entries than its header counts');
  return live;
}

/**
 * A copy of `b[p..p+n)` that callers may keep. Small ones come from Node's shared Buffer pool (views into 8 KiB
 * slabs: a fraction of the per-object cost of one ArrayBuffer each, which matters for million-element values).
 */
export function copyBytes(b: Uint8Array, p: number, n: number): Uint8Array {
  const out = Buffer.allocUnsafe(n);
  // short ones by hand: a subarray per element was a good share of a big value's garbage
  if (n <= 64) for (let i = 0; i < n; i++) out[i] = b[p + i];
  else out.set(b.subarray(p, p + n));
  return out;
}

/** A packed entry of a blob the record owns (a copy): its bytes as they are, integers as decimal text. */
function ownedEntry(e: PackedEntry): Uint8Array {
  return e instanceof Uint8Array ? e : intToBytes(e);
}

/** A packed entry as the bytes Redis would return (integers as decimal text). Always a fresh copy. */
export function entryBytes(e: PackedEntry): Uint8Array {
  return e instanceof Uint8Array ? copyBytes(e, 0, e.length) : intToBytes(e);
}

/**
 * A listpack/ziplist score stored as text, read as Redis reads it (strtod: the longest numeric prefix, 0 when
 * none). Most are plain decimals (`-?digits[.digits]`, at most 17 digits): those are exact integers or parsed by
 * Number(), which rounds correctly as glibc's strtod does, without the general scanner's objects; the rest
 * (exponents, blanks, inf, hex, trailing bytes) go to {@link strtodPrefix}.
 */
export function packedScore(s: Uint8Array): number {
  const n = s.length;
  let i = s[0] === 0x2d ? 1 : 0;
  if (n - i > 17 && n - i <= 32 && plainDecimal(s, i)) return Number(latin1.decode(s));
  if (n - i < 1 || n - i > 17) return strtodPrefix(latin1.decode(s));
  let v = 0;
  let digits = 0;
  for (; i < n; i++) {
    const c = s[i]! - 0x30;
    if (c < 0 || c > 9) break;
    v = v * 10 + c;
    digits++;
  }
  if (i === n) {
    if (digits === 0) return strtodPrefix(latin1.decode(s));
    // up to 15 digits the sum is exact (< 2^53)
    return digits <= 15 ? (s[0] === 0x2d ? -v : v) : Number(latin1.decode(s));
  }
  if (s[i] !== 0x2e || digits === 0) return strtodPrefix(latin1.decode(s));
  for (i++; i < n; i++) {
    const c = s[i]! - 0x30;
    if (c < 0 || c > 9) return strtodPrefix(latin1.decode(s));
  }
  return Number(latin1.decode(s));
}

/**
 * Whether `s[i..]` is wholly `digits[.digits][e[+-]digits]` (what %.17g writes): there Number() gives what strtod
 * gives (both round correctly), without the detour through a string and back.
 */
function plainDecimal(s: Uint8Array, i: number): boolean {
  const n = s.length;
  const d0 = i;
  while (i < n && s[i]! >= 0x30 && s[i]! <= 0x39) i++;
  if (i === d0) return false;
  if (i < n && s[i] === 0x2e) {
    const f0 = ++i;
    while (i < n && s[i]! >= 0x30 && s[i]! <= 0x39) i++;
    if (i === f0) return false;
  }
  if (i < n && (s[i] === 0x65 || s[i] === 0x45)) {
    i++;
    if (i < n && (s[i] === 0x2b || s[i] === 0x2d)) i++;
    const e0 = i;
    while (i < n && s[i]! >= 0x30 && s[i]! <= 0x39) i++;
    if (i === e0) return false;
  }
  return i === n;
}

/** C strtod: the value of the longest numeric prefix of `text` (0 when there is none). */
export function strtodPrefix<T = number>(text: string, none: T | number = 0): number | T {
  const r = strtod(Buffer.from(text, 'latin1'));
  return r.end === 0 ? none : r.value;
}


/**
 * The library name and engine from a FUNCTION2 payload (`#!lua name=mylib ...`), by Redis' rule (shared with
 * FUNCTION LOAD / RESTORE). `fail` null (checking, as redis-check-rdb, which does not compile libraries): a header
 * Redis would refuse gives an empty name and engine instead of an error.
 */
function parseFunctionLibrary(code: Uint8Array, fail: ((m: string) => never) | null): FunctionRecord {
  try {
    const { library, engine } = parseFunctionLibraryHeader(code);
    return { library, engine, code };
  } catch (err) {
    if (!(err instanceof RdbFormatError)) throw err;
    if (fail) fail(`function library ${JSON.stringify(functionLibraryFirstLine(code))}: ${err.message}`);
    return { library: '', engine: '', code };
  }
}

/** The elements a piece of a key holds (its own, not the key's total). */
function pieceElements(r: RdbRecord): number {
  const v = r.kind === 'key' ? r.value : undefined;
  if (v === undefined) return 0;
  if (v.type === 'stream') return v.value.entries.length;
  if (v.type === 'list' || v.type === 'set' || v.type === 'zset' || v.type === 'hash') return v.value.length;
  // a string's pieces: it is one element, counted by its last record
  return r.kind === 'key' && r.partial ? 0 : 1;
}

/**
 * The entries of a validated listpack / ziplist walked in place ({@link listpackVisit}), handed to the key visitor:
 * strings as they are, integers as their decimal text; a sorted set's entries in pairs, the second as a score.
 */
class VisitForward implements PackedVisit {
  private v: KeyVisitor | null = null;
  /** 0: every entry is an item; 1: sorted-set pairs, a member is next; 2: its score is next. */
  private mode = 0;
  private readonly digits = new Uint8Array(24);

  begin(v: KeyVisitor, zset: boolean): void {
    this.v = v;
    this.mode = zset ? 1 : 0;
  }

  str(b: Uint8Array, s: number, e: number): void {
    const mode = this.mode;
    if (mode === 2) {
      this.mode = 1;
      this.v!.score(packedScoreRange(b, s, e));
      return;
    }
    if (mode === 1) this.mode = 2;
    this.v!.item(b, s, e);
  }

  int(x: number | bigint): void {
    const mode = this.mode;
    if (mode === 2) {
      this.mode = 1;
      this.v!.score(Number(x));
      return;
    }
    if (mode === 1) this.mode = 2;
    if (typeof x === 'bigint') {
      const t = intToBytes(x);
      this.v!.item(t, 0, t.length);
      return;
    }
    const d = this.digits;
    if (x >= 0 && x < 10) {
      d[0] = 0x30 + x;
      this.v!.item(d, 0, 1);
      return;
    }
    let i = d.length;
    let m = x < 0 ? -x : x;
    do {
      const q = Math.floor(m / 10);
      d[--i] = 0x30 + (m - q * 10);
      m = q;
    } while (m > 0);
    if (x < 0) d[--i] = 0x2d;
    this.v!.item(d, i, d.length);
  }
}

/** {@link packedScore} of `b[s, e)`: short plain integers read in place, the rest through a view. */
export function packedScoreRange(b: Uint8Array, s: number, e: number): number {
  const neg = b[s] === 0x2d;
  let i = neg ? s + 1 : s;
  const n = e - i;
  if (n >= 1 && n <= 16) {
    let v = 0;
    let digits = 0;
    for (; i < e; i++) {
      const c = b[i]! - 0x30;
      if (c < 0 || c > 9) break;
      v = v * 10 + c;
      digits++;
    }
    // up to 15 digits the sum is exact, as packedScore's
    if (i === e) {
      if (digits <= 15) return neg ? -v : v;
    } else if (b[i] === 0x2e && digits > 0) {
      // digits.digits, at most 15 of them: an exact integer over an exact power of ten, one correctly rounded
      // division, which is what Number() (and strtod) make of the text
      const f0 = ++i;
      for (; i < e; i++) {
        const c = b[i]! - 0x30;
        if (c < 0 || c > 9) break;
        v = v * 10 + c;
        digits++;
      }
      if (i === e && digits <= 15) {
        const q = v / POW10[e - f0]!;
        return neg ? -q : q;
      }
    }
  }
  return packedScore(b.subarray(s, e));
}

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/** The types {@link RdbParser.setKeyVisitor} walks in place. */
function visitable(t: number): boolean {
  switch (t) {
    case RdbType.STRING:
    case RdbType.LIST:
    case RdbType.SET:
    case RdbType.ZSET:
    case RdbType.ZSET_2:
    case RdbType.HASH:
    case RdbType.LIST_QUICKLIST:
    case RdbType.LIST_QUICKLIST_2:
    case RdbType.LIST_ZIPLIST:
    case RdbType.SET_INTSET:
    case RdbType.SET_LISTPACK:
    case RdbType.ZSET_ZIPLIST:
    case RdbType.ZSET_LISTPACK:
    case RdbType.HASH_ZIPLIST:
    case RdbType.HASH_LISTPACK:
      return true;
    default:
      return false;
  }
}

/**
 * A filter given to {@link readRdb} (a spec or a compiled KeyFilter) as a KeyFilter; `KeyFilter.all` when none is
 * given.
 */
export function compileRdbFilter(f: ReadRdbOptions['filter']): KeyFilter {
  if (f === undefined) return KeyFilter.all;
  return f instanceof KeyFilter ? f : KeyFilter.from(f);
}

/** The parser's filter: null when it passes everything. */
function nonTrivialFilter(k: KeyFilter): KeyFilter | null {
  return k.passesAll ? null : k;
}
