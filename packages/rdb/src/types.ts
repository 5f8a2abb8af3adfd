import type { KeyVisitor } from './parser.js';
import type { DupSpillOptions } from './dup.js';
import type { FunctionRecord, KeyFilter, KeyFilterSpec, KeyType, KeyValue } from '@redis-persist/keyspace';
import type { RdbMagic } from '@redis-persist/rdb-format';
import type { RdbError } from './errors.js';

export type { RdbMagic };

/** Limits on lengths read from the file, checked before anything is allocated. */
export interface RdbLimits {
  /** Largest single string (element, blob, decompressed LZF) held in memory. Default 1 GiB. */
  maxStringLength?: number;
  /** Largest database index accepted (Redis refuses ids >= `databases`). Default 1_000_000. */
  maxDbIndex?: number;
  /** Collections up to this many members are checked for duplicates (8-16 bytes of memory per member). Default 16_000_000. */
  maxDuplicateCheck?: number;
  /** With `salvage`: the most bytes of one key kept to skip it should it prove damaged. Default 256 MiB. */
  maxSalvageBytes?: number;
}

/**
 * Which keys the parser hands out: a {@link KeyFilterSpec} of `@redis-persist/keyspace` (include/exclude globs and
 * regexes, types, databases, expired or not, size), or a compiled {@link KeyFilter}. Keys that the criteria known
 * before the value (database, type, expiry, name) reject are walked over without decoding; the size criteria
 * (`minBytes`: the key's record, as `size`; `minElements`) need the value read. With `chunkElements`, the pieces
 * of a big key are held until its size passes (so memory is then bounded by `minElements` elements or `minBytes`
 * bytes of the key, when those exceed a piece).
 */
export type RdbFilter = KeyFilterSpec;

/** Options of {@link readRdb}: values or structure only, filter, limits, expired keys, pieces, damaged files. */
export interface ReadRdbOptions {
  /**
   * Decode values into the `@redis-persist/keyspace` model (default true). When false only structure is reported,
   * every encoding still validated as `redis-check-rdb` does (there is no separate "deep" level: each mode checks
   * everything it reads).
   */
  values?: boolean;
  filter?: RdbFilter | KeyFilter;
  /**
   * Direct transcoding (see `RdbParser.setKeyVisitor`): the keys it walks in place go to the visitor instead
   * of being handed out. `parseRdbBatchesMapped` then hands each remaining record out in a batch of its own (the
   * consumer writes it before the visitor gets the next keys) and an empty batch whenever it reads more input
   * (the consumer's moment to pass on what the visitor wrote). Ignored where the parser does not take it.
   */
  keyVisitor?: KeyVisitor;
  /** File name used in error messages. */
  file?: string;
  limits?: RdbLimits;
  /**
   * The duplicate check of collections of more than `threshold` members (default 1M) in bounded memory: sorted runs
   * of their members' hashes go to the store `open` gives, merged when the collection ends (a duplicate is then
   * reported at the same offset, after the collection's other members). Without it (the default of the parser
   * itself, as in a browser) every collection is checked in an in-memory table (~11.4 bytes a member). The Node
   * drivers ({@link readRdb}, checkRdb, ...) pass a temp file of their own unless this is `false`, and remove it.
   */
  duplicateSpill?: DupSpillOptions | false;
  /** End right after the EOF opcode and checksum; trailing bytes (an AOF tail) are not an error. */
  stopAtEnd?: boolean;
  /**
   * Stops the parse: checked once per chunk read (not per record). When aborted, before the call or while it
   * runs, the iterator rejects with `signal.reason` (an `AbortError` DOMException by default) and the file is closed.
   */
  signal?: AbortSignal;
  /**
   * Drop keys (and hash fields) whose expiry is before this Unix ms time, as a loading master does (pass `Date.now()`).
   * Default: keep everything the file holds.
   */
  dropExpiredBefore?: number;
  /**
   * Streams stored before RDB 10 (stream v1) carry no first id, max-deleted id, entries-added or entries-read.
   * `derived` (default): what Redis 7 reports after loading the file (it derives them). `file`: as the file holds
   * them, unreported (`null`), as the Redis 5/6 that wrote such files report them.
   */
  streamMeta?: 'derived' | 'file';
  /**
   * Hand out big collections (lists, sets, sorted sets, hashes) and streams in pieces of this many elements: the
   * key then arrives as several key records, all but the last marked `partial: true`, each holding the next elements;
   * the last one holds the rest and the totals (`elements`, `size`). Memory then stays bounded by one piece. A
   * stream's pieces hold its entries, then group by group its consumers and pending entries (see
   * `streamPendingOrder`), a group going on in the next piece under the same name; its metadata (`length`,
   * `lastId`, ...) is in every piece that holds a group and in the last one (zeros in pieces of entries before).
   * Default: whole values.
   */
  chunkElements?: number;
  /**
   * With `chunkElements`: a string value of 1 MiB or more (stored length) is handed out in pieces of this many bytes
   * (at least 1 KiB; an LZF one's up to 264 bytes more), as its bytes are read (an LZF one decompressed as they arrive): partial key records of type
   * `string` holding the next bytes, each with the whole `stringLength`; the last (not partial) holds the rest.
   * Memory then holds a piece, not the string. Default: strings come whole (consumers that do not expect string
   * pieces must not set it).
   */
  stringPieceBytes?: number;
  /**
   * With `chunkElements`, where a stream group's pending entries come in its pieces: `pel` (default) after all the
   * group's consumers, in the group PEL's order (by ID, as Redis writes it; whole values have them in this order
   * too); `consumer`: each consumer followed by the entries it owns, in its own PEL's order (as XCLAIM commands
   * rebuild them).
   */
  streamPendingOrder?: 'pel' | 'consumer';
  /** Skip keys whose collection is empty (Redis 6.2.6+/7.0+ loaders skip them). Default true when `values`. */
  skipEmpty?: boolean;
  /**
   * Check the CRC64 at the end (default true). `false` (librdb's `rdb-cli -i`): a mismatch is no error, the end
   * record says `checksum: 'mismatch'`.
   */
  verifyChecksum?: boolean;
  /**
   * `false`: do not compute the CRC64 (someone else does, e.g. checkRdb's checksum thread); the end record's
   * `computed` is then meaningless (0) and, with `verifyChecksum: false`, its `checksum` says only `disabled` or
   * `mismatch` from the stored value. Default true.
   */
  computeChecksum?: boolean;
  /**
   * Go on after a damaged key where the file's framing allows: when a key's value is corrupt inside (a ziplist,
   * listpack, intset, LZF string, quicklist node, duplicate member, bad score...) but its lengths still say where
   * it ends, the key is skipped (reported to {@link onSkip}) and parsing continues at the next record. Where the
   * framing itself is lost (or the damage is not inside a value: a truncated file, an unknown opcode), the error is
   * thrown as without `salvage`. The bytes of the key being read are kept until it ends, up to
   * `limits.maxSalvageBytes` (default 256 MiB; a bigger damaged key stops the parse). A key already handed out in
   * part (`chunkElements`) and then skipped simply gets no last piece: consumers drop the pieces they got.
   */
  salvage?: boolean;
  /** Called for each key skipped by {@link salvage}, before the next record is returned. */
  onSkip?: (skip: RdbSkip) => void;
  /**
   * `readRdb` (and `rdbKeyspaceRecords`): damaged data ends the records instead of being thrown. Every record read
   * before the damage comes out whole (with `chunkElements`, the key being read may have handed out pieces without
   * its last one: a consumer drops those), then the iteration ends and this is called with the error and the key
   * being read, if any; the caller reports it once it has written the records. I/O errors are still thrown.
   */
  onDamage?: (error: RdbError, reading: RdbKeyBeingRead | null) => void;
}

/** The key a parser was reading when it stopped. */
export interface RdbKeyBeingRead {
  key: Uint8Array;
  rdbType: number;
  /** Redis' name of the type (`zset-v2`, ...). */
  typeName: string;
  /** Offset of the key's record. */
  offset: number;
}

/** A key left out by the `salvage` option. */
export interface RdbSkip {
  /** The key's record: its first byte (its first prefix opcode, or the type byte) and the offset just past it. */
  start: number;
  end: number;
  db: number;
  key: Uint8Array;
  /** RDB object type byte and Redis' name for it (`list-ziplist`, `zset-v2`, ...). */
  rdbType: number;
  typeName: string;
  /** Pieces of the key were already handed out (`chunkElements`) before the damage was found. */
  partial: boolean;
  /** What is wrong with it (`error.offset` is where). */
  error: RdbError;
}

/** The file's header: magic (`REDIS` or `VALKEY`) and RDB version. */
export interface RdbHeaderRecord {
  kind: 'header';
  version: number;
  magic: RdbMagic;
  offset: number;
}
/** An AUX field (`redis-ver`, `ctime`, `used-mem` ...), as raw bytes. */
export interface RdbAuxRecord {
  kind: 'aux';
  key: Uint8Array;
  value: Uint8Array;
  offset: number;
}
/** A SELECTDB opcode: the keys that follow are in this db. */
export interface RdbDbRecord {
  kind: 'db';
  db: number;
  offset: number;
}
/** A RESIZEDB hint: the number of keys and expires of the current db. */
export interface RdbResizeDbRecord {
  kind: 'resizedb';
  db: number;
  size: number;
  expires: number;
  offset: number;
}
/** A Redis 7.4+ / Valkey slot-info AUX: a cluster slot's key and expires counts. */
export interface RdbSlotInfoRecord {
  kind: 'slot-info';
  slot: number;
  size: number;
  expires: number;
  offset: number;
}
/** A key: db, name, type, RDB type and encoding, expiry, LRU/LFU, offset, size, and its value when decoded. */
export interface RdbKeyRecord {
  kind: 'key';
  db: number;
  key: Uint8Array;
  type: KeyType;
  /** RDB object type byte (0 string, 18 quicklist v2, ...). */
  rdbType: number;
  /** Encoding as stored in the file (`listpack`, `quicklist`, `intset`, `ziplist`, `hashtable`, ...). */
  encoding: string;
  /** Absolute Unix ms of the key's expiry, or null. */
  expireAt: number | null;
  /** LRU idle seconds (opcode IDLE), when present. */
  idle?: number;
  /** LFU counter (opcode FREQ), when present. */
  freq?: number;
  /** Offset of the first byte of this key's record (its first prefix opcode, or the type byte). */
  offset: number;
  /** Serialized size in bytes (prefix opcodes, type byte, key and value). */
  size: number;
  /** Number of elements (list items, set members, hash fields, zset members, stream entries; 1 for strings). */
  elements: number;
  /** True when the collection is empty (a key Redis 7 skips at load). */
  empty: boolean;
  /** The decoded value, when values were requested (with `chunkElements`: the next piece of it). */
  value?: KeyValue;
  /** More records for this key follow (`chunkElements`); `size` and `elements` are 0 on partial records. */
  partial?: boolean;
  /** A string handed out in pieces (`stringPieceBytes`): its whole length in bytes, on every piece and the last. */
  stringLength?: number;
}
/** A function library (FUNCTION2 opcode): name, engine and code. */
export interface RdbFunctionRecord {
  kind: 'function';
  function: FunctionRecord;
  /** 245 (FUNCTION2, 7.0 GA+) or 246 (7.0 release-candidate format). */
  opcode: number;
  offset: number;
}
/** A module's AUX data, kept as the raw bytes of the file. */
export interface RdbModuleAuxRecord {
  kind: 'module-aux';
  module: string;
  encver: number;
  when: number;
  /** The module's opcode stream exactly as in the file. */
  raw: Uint8Array;
  offset: number;
}
/** The end of the RDB: the checksum's state and where the RDB ended. */
export interface RdbEndRecord {
  kind: 'end';
  /**
   * `ok`: CRC64 matches; `disabled`: stored as 0 (rdbchecksum no); `absent`: RDB version < 5 has none;
   * `mismatch`: it does not match and `verifyChecksum: false` said that is no error.
   */
  checksum: 'ok' | 'disabled' | 'absent' | 'mismatch';
  /** The stored and computed CRC64, as 16 hex digits. */
  stored?: string;
  computed?: string;
  /** Offset just past the RDB (after the checksum). */
  endOffset: number;
  offset: number;
}

/** An item of {@link readRdb}: the header, AUX fields, db changes, keys, functions, module AUX and the end. */
export type RdbRecord =
  | RdbHeaderRecord
  | RdbAuxRecord
  | RdbDbRecord
  | RdbResizeDbRecord
  | RdbSlotInfoRecord
  | RdbKeyRecord
  | RdbFunctionRecord
  | RdbModuleAuxRecord
  | RdbEndRecord;
