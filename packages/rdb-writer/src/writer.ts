import { Crc64, lzfCompress, bytesEqual } from '@redis-persist/bytes';
import { RdbOpcode } from '@redis-persist/rdb-format';
import { AtomicFile, type AtomicFileOptions } from '@redis-persist/fsio';
import type { FunctionRecord, KeyRecord, KeyspacePiece, KeyspaceRecord } from '@redis-persist/keyspace';
import { RdbWriterError, describeKey } from './errors.js';
import { RdbType, ValueEncoder } from './object.js';
import { StringInPieces, ValueInPieces } from './pieces.js';
import { ByteSink, writeLen, writeStr } from './sink.js';
import { type RdbThresholds, type Target, resolveTarget, resolveThresholds } from './target.js';

/**
 * Options of {@link writeRdb} / {@link writeRdbFile}: target version, Valkey, compression, limits, AUX, what to
 * drop.
 */
export interface RdbWriteOptions {
  /**
   * Target RDB version: 1..12 for Redis, 1..11 or 80 with `valkey`. Default 10 (Redis 7.0; see
   * {@link DEFAULT_RDB_VERSION} for why).
   */
  rdbVersion?: number;
  /** Write for Valkey: `valkey-ver` instead of `redis-ver`, Valkey's version range (≤ 11, or 80 = Valkey 9). */
  valkey?: boolean;
  /** LZF-compress strings longer than 20 bytes where it saves space, as `rdbcompression yes` (default true). */
  compress?: boolean;
  /** Encoding limits (Redis' defaults otherwise). */
  thresholds?: Partial<RdbThresholds>;
  /**
   * AUX fields (RDB 7+). They are added to the standard set (`redis-ver`, `redis-bits`, `ctime`, `used-mem`,
   * `aof-base`/`aof-preamble`) and replace a standard field of the same name. Pass `defaultAux: false` to write
   * only these.
   */
  aux?: Record<string, string>;
  defaultAux?: boolean;
  /** Drop keys/functions the target cannot hold (reporting each through `onDrop`) instead of refusing. */
  dropUnsupported?: boolean;
  /**
   * Keep keys whose only problem is metadata the target lacks — stream v2 metadata (entries-added,
   * max-deleted-id, entries-read, recorded first ID) before RDB 10, consumer active-time before 11, hash-field
   * TTLs before 12 — and write them without it, reporting each loss through `onDrop` (kind `data`).
   * Hash fields then never expire: only for targets that have no field TTLs at all.
   */
  lossy?: boolean;
  /** Called for each key or function left out, or key written without some metadata (`lossy`). */
  onDrop?: (info: DropInfo) => void;
  /**
   * A key in pieces (`partial: true`, as the RDB parser's `chunkElements` hands them out) is encoded as its pieces
   * come once its element count is past the compact encodings' limits; its encoded body waits for the last piece
   * (the count goes before it) in memory up to this many bytes, then in a temporary file (default 8 MiB).
   */
  pieceMemoryBytes?: number;
  /** Where that temporary file goes (default: the OS temp dir). */
  tmpDir?: string;
  /** Called by {@link writeRdbFile} after each chunk (about 64 KiB) reaches the file. */
  onProgress?: (progress: { bytes: number; keys: number }) => void;
  /**
   * Stops the write: checked once per output chunk (about 64 KiB), not per record. When aborted, before the call
   * or while it runs, `writeRdb` rejects with `signal.reason` (an `AbortError` DOMException by default) and closes
   * `records`; `writeRdbFile` also removes its temporary file, so no partial output is left and `path` is untouched.
   */
  signal?: AbortSignal;
}

/** A key or function left out because the target version cannot hold it. */
export interface DropInfo {
  /** `key`/`function`: left out; `data`: the key was written without the named metadata (`lossy`). */
  kind: 'key' | 'function' | 'data';
  db?: number;
  key?: Uint8Array;
  library?: string;
  /** What the target lacks: `stream`, `stream-metadata`, `hash-field-ttl`, `functions`, `empty-collection`... */
  feature: string;
  message: string;
}

/** What {@link writeRdbFile} wrote: bytes, keys, functions, what was dropped and the RDB version. */
export interface RdbWriteSummary {
  bytes: number;
  keys: number;
  functions: number;
  dropped: DropInfo[];
  rdbVersion: number;
  /** Where an existing output replaced with `file.force` now lives (writeRdbFile only). */
  replacedBackup?: string | null;
}

/**
 * Synchronous RDB encoder. Call {@link header} first, then {@link func}/{@link key} (or {@link record}) in any
 * order, then {@link end}; each returns the bytes to append to the file (fresh arrays the caller may keep).
 * Keys in pieces go through {@link piece} instead. A SELECTDB is emitted whenever the db changes; no RESIZEDB
 * (it is only a hint, and the writer streams).
 */
export class RdbWriter {
  readonly target: Target;
  readonly thresholds: RdbThresholds;
  /** Bytes produced so far. */
  bytesWritten = 0;
  keys = 0;
  functions = 0;
  readonly dropped: DropInfo[] = [];

  /** The bytes not yet handed out: {@link writeRdb} lets keys gather here up to a chunk (one copy, not two). */
  private readonly sink = new ByteSink();
  private readonly values: ValueEncoder;
  private readonly crc = new Crc64();
  private readonly compress: boolean;
  private db = -1;
  private state: 'new' | 'body' | 'done' = 'new';
  /** The key whose pieces are coming (null: none); `pieces` null once it was dropped. */
  private open: { head: KeyRecord; pieces: ValueInPieces | StringInPieces | null } | null = null;
  private losses: { feature: string; message: string }[] = [];

  constructor(private readonly options: RdbWriteOptions = {}) {
    this.target = resolveTarget(options.rdbVersion, options.valkey ?? false);
    this.thresholds = resolveThresholds(options.thresholds);
    this.compress = options.compress ?? true;
    this.values = new ValueEncoder({
      target: this.target,
      thresholds: this.thresholds,
      compress: this.compress,
      ...(options.lossy ? { onLoss: (feature: string, message: string) => this.losses.push({ feature, message }) } : {}),
    });
    if (options.aux && Object.keys(options.aux).length > 0 && !this.target.aux) {
      throw new RdbWriterError('unsupported', `AUX fields need RDB 7 (Redis 3.2+); the target is RDB ${this.target.version}`, {
        feature: 'aux',
      });
    }
  }

  /** Where the next byte goes in the output (what was handed out and what waits in the sink). */
  private at(): number {
    return this.bytesWritten + this.sink.pos;
  }

  /** @internal Bytes written into the sink and not yet taken ({@link appendRecord}). */
  get pendingBytes(): number {
    return this.sink.pos;
  }

  /** @internal Takes what waits in the sink (empty when nothing). */
  takePending(): Uint8Array {
    return this.out();
  }

  private out(): Uint8Array {
    const bytes = this.sink.takeAndReset();
    this.crc.update(bytes);
    this.bytesWritten += bytes.length;
    return bytes;
  }

  private expectBody(what: string): void {
    if (this.state === 'new') throw new RdbWriterError('options', `header() must come before ${what}`);
    if (this.state === 'done') throw new RdbWriterError('options', `${what} after end()`);
  }

  private auxRecord(name: string, value: string): void {
    this.sink.u8(RdbOpcode.AUX);
    writeStr(this.sink, Buffer.from(name, 'utf8'), this.compress);
    writeStr(this.sink, Buffer.from(value, 'utf8'), this.compress);
  }

  /** Magic and AUX fields. */
  header(): Uint8Array {
    if (this.state !== 'new') throw new RdbWriterError('options', 'header() called twice');
    this.state = 'body';
    const t = this.target;
    this.sink.bytes(t.magic);
    if (t.aux) {
      const fields = new Map<string, string>();
      if (this.options.defaultAux !== false) {
        fields.set(t.valkey ? 'valkey-ver' : 'redis-ver', t.serverVersion);
        fields.set('redis-bits', '64');
        fields.set('ctime', String(Math.floor(Date.now() / 1000)));
        fields.set('used-mem', '0');
        if (t.version >= 10) fields.set('aof-base', '0');
        else if (t.version >= 8) fields.set('aof-preamble', '0');
      }
      for (const [k, v] of Object.entries(this.options.aux ?? {})) fields.set(k, v);
      for (const [k, v] of fields) this.auxRecord(k, v);
    }
    return this.out();
  }

  private drop(info: DropInfo, err: RdbWriterError): Uint8Array {
    if (!this.options.dropUnsupported || err.code !== 'unsupported') throw err;
    this.dropped.push(info);
    this.options.onDrop?.(info);
    return new Uint8Array(0);
  }

  /** A function library (FUNCTION2 opcode, RDB 10+). */
  func(rec: FunctionRecord): Uint8Array {
    this.funcInto(rec);
    return this.out();
  }

  private funcInto(rec: FunctionRecord): void {
    this.expectBody('func()');
    if (!this.target.functions) {
      const msg = `function library ${JSON.stringify(rec.library)}: functions need RDB 10 (Redis 7.0+); the target is RDB ${this.target.version}`;
      const err = new RdbWriterError('unsupported', msg, { feature: 'functions', offset: this.at() });
      this.drop({ kind: 'function', library: rec.library, feature: 'functions', message: msg }, err);
      return;
    }
    if (!(rec.code instanceof Uint8Array)) throw new RdbWriterError('invalid', `function library ${JSON.stringify(rec.library)} has no code`);
    this.sink.u8(RdbOpcode.FUNCTION2);
    writeStr(this.sink, rec.code, this.compress);
    this.functions++;
  }

  /** A key's error, named after the key: thrown, or the key dropped (`dropUnsupported`) and nothing returned. */
  private keyFailed(err: unknown, db: number, key: Uint8Array, offset: number): Uint8Array {
    if (!(err instanceof RdbWriterError)) {
      if (err instanceof RangeError) {
        throw new RdbWriterError('invalid', `${describeKey(db, key)}: ${err.message}`, { db, key, offset });
      }
      throw err;
    }
    const wrapped = new RdbWriterError(err.code, `${describeKey(db, key)}: ${err.message}`, {
      db,
      key,
      offset,
      ...(err.feature !== undefined ? { feature: err.feature } : {}),
    });
    return this.drop({ kind: 'key', db, key, feature: err.feature ?? err.code, message: wrapped.message }, wrapped);
  }

  private checkKey(rec: KeyRecord): void {
    const { db, key } = rec;
    if (!Number.isInteger(db) || db < 0) throw new RdbWriterError('invalid', `db must be a non-negative integer, got ${db}`);
    if (!(key instanceof Uint8Array)) throw new RdbWriterError('invalid', `db ${db}: key is not a byte string`, { db });
  }

  private checkExpiry(rec: KeyRecord): void {
    const t = this.target;
    if (rec.expireAt == null) return;
    if (!Number.isSafeInteger(rec.expireAt)) throw new RdbWriterError('invalid', `expireAt ${rec.expireAt} is not an integer of ms`);
    if (t.msExpire) return;
    if (rec.expireAt % 1000 !== 0) {
      throw new RdbWriterError(
        'unsupported',
        `a millisecond expiry (${rec.expireAt}) needs RDB 3+ (Redis 2.6+); RDB ${t.version} stores whole seconds`,
        { feature: 'ms-expire' },
      );
    }
    const secs = rec.expireAt / 1000;
    if (secs < -2147483648 || secs > 2147483647) {
      throw new RdbWriterError('unsupported', `expiry ${rec.expireAt} does not fit RDB ${t.version}'s 32-bit seconds`, {
        feature: 'ms-expire',
      });
    }
  }

  /** SELECTDB when the db changes, expiry, type byte and key, into the sink; returns where the type byte is. */
  private keyHead(rec: KeyRecord, type: number): number {
    const s = this.sink;
    const { db, key } = rec;
    if (db !== this.db) {
      s.u8(RdbOpcode.SELECTDB);
      writeLen(s, db);
      this.db = db;
    }
    if (rec.expireAt != null) {
      if (this.target.msExpire) {
        s.u8(RdbOpcode.EXPIRETIME_MS);
        s.i64le(rec.expireAt);
      } else {
        s.u8(RdbOpcode.EXPIRETIME);
        s.i32le(rec.expireAt / 1000);
      }
    }
    const typeAt = s.pos;
    s.u8(type);
    writeStr(s, key, this.compress);
    return typeAt;
  }

  /** True while a key's pieces are coming (its last piece not yet given to {@link piece}). */
  get inPieces(): boolean {
    return this.open !== null;
  }

  /** Leaves out the key whose pieces were coming (its last piece never came: a damaged input ended there). */
  private abandon(): void {
    this.open?.pieces?.dispose();
    this.open = null;
  }

  /**
   * A record that may be a piece of a key (`partial: true` on all but the last piece): yields nothing until the
   * key's last piece, then the key's bytes in chunks (a huge value's body is read back from where it waited).
   * Whole records give what {@link record} gives. A key whose pieces stop before the last one (the next record is
   * another key, or {@link end} comes) is left out.
   */
  *piece(rec: KeyspacePiece): Generator<Uint8Array> {
    this.expectBody('piece()');
    let open = this.open;
    if (open !== null && (rec.kind !== 'key' || rec.db !== open.head.db || !bytesEqual(rec.key, open.head.key))) {
      this.abandon();
      open = null;
    }
    if (open === null && !rec.partial) {
      if (isBigString(rec)) {
        yield* this.bigString(rec);
        return;
      }
      const b = this.record(rec);
      if (b.length) yield b;
      return;
    }
    if (rec.kind !== 'key') return;
    if (open === null) {
      this.checkKey(rec);
      open = this.open = { head: rec, pieces: null };
      try {
        this.checkExpiry(rec);
        const memory = this.options.pieceMemoryBytes ?? 8 << 20;
        open.pieces =
          rec.type === 'string' && rec.stringLength !== undefined
            ? new StringInPieces(rec.stringLength, this.compress, this.target.len64, memory, this.options.tmpDir)
            : new ValueInPieces(this.values, rec.type, memory, this.options.tmpDir);
      } catch (err) {
        this.keyFailed(err, rec.db, rec.key, this.at());
      }
    }
    const pieces = open.pieces;
    if (pieces !== null) {
      try {
        pieces.add(rec);
      } catch (err) {
        pieces.dispose();
        open.pieces = null;
        this.keyFailed(err, rec.db, rec.key, this.at());
      }
    }
    if (rec.partial) return;
    this.open = null;
    if (pieces === null) return;
    if (pieces instanceof StringInPieces) {
      yield* this.stringFromPieces(open.head, pieces);
      return;
    }
    const r = pieces.finish();
    if ('whole' in r) {
      const b = this.key({ ...open.head, ...r.whole } as KeyRecord);
      if (b.length) yield b;
      return;
    }
    try {
      const s = this.sink;
      const mark = s.pos;
      const dbBefore = this.db;
      this.keyHead(open.head, r.type);
      try {
        this.values.writeLen(s, r.count);
      } catch (err) {
        // the head goes, and with it a SELECTDB it may have written
        s.pos = mark;
        this.db = dbBefore;
        this.keyFailed(err, rec.db, rec.key, this.at());
        return;
      }
      yield this.out();
      yield* this.readBack(r.body.drain());
      this.keys++;
    } finally {
      r.body.dispose();
    }
  }

  /** Bytes encoded earlier and read back from where they waited: checksummed and counted as they go out. */
  private *readBack(chunks: Iterable<Uint8Array>): Generator<Uint8Array> {
    for (const c of chunks) {
      this.crc.update(c);
      this.bytesWritten += c.length;
      yield c;
    }
  }

  /**
   * A string key whose pieces are all in: its header (the compressed or raw form, as {@link bigString} writes the
   * whole string), then its body read back from where it waited.
   */
  private *stringFromPieces(head: KeyRecord, pieces: StringInPieces): Generator<Uint8Array> {
    let r: ReturnType<StringInPieces['finish']>;
    try {
      r = pieces.finish();
    } catch (err) {
      pieces.dispose();
      const b = this.keyFailed(err, head.db, head.key, this.at());
      if (b.length) yield b;
      return;
    }
    try {
      const s = this.sink;
      this.keyHead(head, RdbType.STRING);
      if (r.compressed !== null) {
        s.u8(0xc3);
        writeLen(s, r.compressed);
        writeLen(s, pieces.length);
      } else writeLen(s, pieces.length);
      yield this.out();
      yield* this.readBack(r.body.drain());
      this.keys++;
    } finally {
      r.body.dispose();
    }
  }

  /**
   * A string key of more than 1 MiB: its header, then the (compressed) bytes as a chunk of their own, instead of
   * copies of them in the value sink and the output sink (which held four times the string).
   */
  private *bigString(rec: KeyRecord & { type: 'string' }): Generator<Uint8Array> {
    this.checkKey(rec);
    const { db, key } = rec;
    const data = rec.value;
    const s = this.sink;
    try {
      this.checkExpiry(rec);
      if (data.length > 0xffffffff && !this.target.len64) {
        throw new RdbWriterError('unsupported', `a string of ${data.length} bytes needs RDB 8+`, { feature: '64-bit-length' });
      }
    } catch (err) {
      const b = this.keyFailed(err, db, key, this.at());
      if (b.length) yield b;
      return;
    }
    // as writeStr: LZF when it saves at least 4 bytes, else raw
    const packed = this.compress ? lzfCompress(data, data.length - 4) : null;
    this.keyHead(rec, RdbType.STRING);
    if (packed !== null) {
      s.u8(0xc3);
      writeLen(s, packed.length);
      writeLen(s, data.length);
    } else writeLen(s, data.length);
    yield this.out();
    const body = packed ?? data;
    this.crc.update(body);
    this.bytesWritten += body.length;
    this.keys++;
    yield body;
  }

  /** One key: SELECTDB when the db changes, expiry, type, key, value. */
  key(rec: KeyRecord): Uint8Array {
    this.keyInto(rec);
    return this.out();
  }

  /**
   * A key into the sink: its head with a placeholder type byte, then the value encoded right after it (no value
   * buffer copied in), the type byte set once known. A failed key leaves the sink (and the db) as they were.
   */
  private keyInto(rec: KeyRecord): void {
    this.expectBody('key()');
    this.checkKey(rec);
    const { db, key } = rec;
    const s = this.sink;
    const mark = s.pos;
    const dbBefore = this.db;
    const offset = this.bytesWritten + mark;
    this.losses = [];
    try {
      this.checkExpiry(rec);
      const typeAt = this.keyHead(rec, 0);
      const type = this.values.encode(s, rec);
      s.buf[typeAt] = type;
    } catch (err) {
      s.pos = mark;
      this.db = dbBefore;
      this.keyFailed(err, db, key, offset);
      return;
    }
    if (this.losses.length) {
      const seen = new Set<string>();
      for (const l of this.losses) {
        if (seen.has(l.feature)) continue;
        seen.add(l.feature);
        const info: DropInfo = { kind: 'data', db, key, feature: l.feature, message: `${describeKey(db, key)}: ${l.message} (written without it)` };
        this.dropped.push(info);
        this.options.onDrop?.(info);
      }
    }
    this.keys++;
  }

  /** A keyspace record of either kind. */
  record(rec: KeyspaceRecord): Uint8Array {
    return rec.kind === 'function' ? this.func(rec) : this.key(rec);
  }

  /** @internal {@link record} into the sink, taken later ({@link takePending}): what {@link writeRdb} uses. */
  appendRecord(rec: KeyspaceRecord): void {
    if (rec.kind === 'function') this.funcInto(rec);
    else this.keyInto(rec);
  }

  /** EOF opcode and, for RDB 5+, the CRC64 of everything before it. */
  end(): Uint8Array {
    this.expectBody('end()');
    this.abandon();
    this.state = 'done';
    this.sink.u8(RdbOpcode.EOF);
    const head = this.out();
    if (!this.target.checksum) return head;
    const out = new Uint8Array(head.length + 8);
    out.set(head);
    this.crc.writeLE(out, head.length);
    this.bytesWritten += 8;
    return out;
  }
}

const CHUNK = 64 * 1024;

/** Strings above this are written as a header and their bytes, uncopied. */
const BIG_STRING = 1 << 20;

function isBigString(rec: KeyspacePiece): rec is KeyspacePiece & { kind: 'key'; type: 'string' } {
  return rec.kind === 'key' && rec.type === 'string' && rec.value instanceof Uint8Array && rec.value.length > BIG_STRING;
}

/**
 * Streams an RDB file for `records` (functions and keys in any order) as chunks of about 64 KiB; memory is
 * bounded by the largest single value, or for a key in pieces (`partial`) by a piece and `pieceMemoryBytes`. Throws {@link RdbWriterError} on the first key the target cannot hold
 * (unless `dropUnsupported`), and `signal.reason` when `options.signal` is aborted (checked once per chunk).
 */
export async function* writeRdb(
  records: AsyncIterable<KeyspacePiece> | Iterable<KeyspacePiece>,
  options: RdbWriteOptions = {},
  writer: RdbWriter = new RdbWriter(options),
): AsyncGenerator<Uint8Array> {
  const signal = options.signal;
  signal?.throwIfAborted();
  let parts: Uint8Array[] = [writer.header()];
  let size = parts[0].length;
  const isSync = Symbol.iterator in records;
  const it = isSync ? (records as Iterable<KeyspacePiece>)[Symbol.iterator]() : (records as AsyncIterable<KeyspacePiece>)[Symbol.asyncIterator]();
  let finished = false;
  try {
    for (;;) {
      // A synchronous source is drained a chunk at a time without a promise per record.
      const r = isSync ? (it as Iterator<KeyspacePiece>).next() : await it.next();
      if (r.done) break;
      const rec = r.value;
      if (rec.partial || writer.inPieces || isBigString(rec)) {
        // a key in pieces: its bytes come at its last piece, a huge body in chunks yielded as they come (a huge
        // string: its header, then its bytes); the records gathered before it go first
        if (writer.pendingBytes > 0) {
          const bytes = writer.takePending();
          parts.push(bytes);
          size += bytes.length;
        }
        for (const bytes of writer.piece(rec)) {
          parts.push(bytes);
          size += bytes.length;
          if (size >= CHUNK) {
            signal?.throwIfAborted();
            yield parts.length === 1 ? parts[0] : Buffer.concat(parts, size);
            parts = [];
            size = 0;
          }
        }
        continue;
      }
      // a whole record: encoded into the writer's sink behind the records before it, taken a chunk at a time
      writer.appendRecord(rec);
      if (size + writer.pendingBytes >= CHUNK) {
        const bytes = writer.takePending();
        signal?.throwIfAborted();
        if (parts.length === 0) yield bytes;
        else {
          parts.push(bytes);
          yield Buffer.concat(parts, size + bytes.length);
        }
        parts = [];
        size = 0;
      }
    }
    finished = true;
  } finally {
    // an error (or a consumer that stopped) closes the source, as for await would
    if (!finished) await it.return?.();
  }
  parts.push(writer.end());
  signal?.throwIfAborted();
  yield Buffer.concat(parts);
}

/**
 * Writes an RDB file atomically (temporary file, fsync, rename), under fsio's output rules: an existing file is
 * refused unless `file.force` (then kept as `<path>.bak`), an input named in `file.inputs` always. On any error
 * — including a refused key, or an aborted `options.signal` (rejecting with its reason) — the temporary file is
 * removed and `path` is left untouched.
 *
 * @example
 * ```ts
 * // an RDB 11 snapshot rewritten for Redis 6.2 (RDB 9), leaving out what RDB 9 cannot hold
 * const summary = await writeRdbFile('dump-v9.rdb', rdbKeyspaceRecords('dump.rdb'), {
 *   rdbVersion: 9,
 *   dropUnsupported: true,
 *   onDrop: (d) => console.log('dropped:', d.message),
 * });
 * ```
 */
export async function writeRdbFile(
  path: string,
  records: AsyncIterable<KeyspacePiece> | Iterable<KeyspacePiece>,
  options: RdbWriteOptions & { file?: AtomicFileOptions } = {},
): Promise<RdbWriteSummary> {
  options.signal?.throwIfAborted();
  const writer = new RdbWriter(options);
  const file = await AtomicFile.create(path, options.file);
  try {
    for await (const chunk of writeRdb(records, options, writer)) {
      await file.write(chunk);
      options.onProgress?.({ bytes: file.bytesWritten, keys: writer.keys });
    }
    await file.commit();
  } catch (err) {
    await file.abort();
    if (err instanceof RdbWriterError && err.file === undefined) {
      err.file = path;
      err.message = `${path}: ${err.message}`;
    }
    throw err;
  }
  return {
    bytes: writer.bytesWritten,
    keys: writer.keys,
    functions: writer.functions,
    dropped: writer.dropped,
    rdbVersion: writer.target.version,
    replacedBackup: file.replacedBackup,
  };
}
