// The numbers of the RDB file: object type bytes and opcodes (FORMATS §1.2, §3), with Redis' names for them.

/** The RDB object type bytes (Redis' RDB_TYPE_*; Valkey's where it differs). */
export const RdbType = {
  STRING: 0,
  LIST: 1,
  SET: 2,
  ZSET: 3,
  HASH: 4,
  ZSET_2: 5,
  /** 4.0 release candidates' module values: opaque without the module. */
  MODULE_PRE_GA: 6,
  MODULE_2: 7,
  HASH_ZIPMAP: 9,
  LIST_ZIPLIST: 10,
  SET_INTSET: 11,
  ZSET_ZIPLIST: 12,
  HASH_ZIPLIST: 13,
  LIST_QUICKLIST: 14,
  STREAM_LISTPACKS: 15,
  HASH_LISTPACK: 16,
  ZSET_LISTPACK: 17,
  LIST_QUICKLIST_2: 18,
  STREAM_LISTPACKS_2: 19,
  SET_LISTPACK: 20,
  STREAM_LISTPACKS_3: 21,
  /** Redis 7.4 release candidates' hash with field TTLs (absolute); Valkey 9's HASH_2 has the same byte. */
  HASH_METADATA_PRE_GA: 22,
  HASH_2_VALKEY: 22,
  /** Redis 7.4 release candidates' listpack hash with field TTLs; Valkey's PATH_HASH (unsupported) has the byte. */
  HASH_LISTPACK_EX_PRE_GA: 23,
  HASH_METADATA: 24,
  HASH_LISTPACK_EX: 25,
  /** Redis 8.6 streams with idempotency metadata (not supported). */
  STREAM_LISTPACKS_4: 26,
} as const;

/** The RDB opcodes (Redis' RDB_OPCODE_*): bytes in the place of a type byte that are not keys. */
export const RdbOpcode = {
  /** Valkey 9 UPDATE (not supported). */
  UPDATE_VALKEY: 0xf2,
  /** Redis 8.6 KEY_META; Valkey 9 SLOT_IMPORT (not supported). */
  KEY_META: 0xf3,
  SLOT_INFO: 0xf4,
  FUNCTION2: 0xf5,
  /** 7.0 release candidates' function (name, engine, description, body). */
  FUNCTION_PRE_GA: 0xf6,
  MODULE_AUX: 0xf7,
  IDLE: 0xf8,
  FREQ: 0xf9,
  AUX: 0xfa,
  RESIZEDB: 0xfb,
  EXPIRETIME_MS: 0xfc,
  EXPIRETIME: 0xfd,
  SELECTDB: 0xfe,
  EOF: 0xff,
} as const;

/**
 * The RDB length encoding (FORMATS §2.1): the top 2 bits of the first byte say 6-bit (in that byte), 14-bit (with
 * the next byte), a 32- or 64-bit big-endian length after the whole byte 0x80 / 0x81, or (0b11) a special string
 * encoding ({@link RdbStringEncoding}) in the low 6 bits.
 */
export const RdbLength = { BITS6: 0, BITS14: 1, ENCODED: 3, BITS32: 0x80, BITS64: 0x81 } as const;

/** The RDB string encodings (the low 6 bits after a 0b11 length prefix, Redis' RDB_ENC_*). */
export const RdbStringEncoding = { INT8: 0, INT16: 1, INT32: 2, LZF: 3 } as const;

/** Quicklist v2 node containers (Redis' QUICKLIST_NODE_CONTAINER_*). */
export const QuicklistContainer = { PLAIN: 1, PACKED: 2 } as const;

/** Opcodes inside a module value's serialized stream (Redis' RDB_MODULE_OPCODE_*). */
export const ModuleOpcode = { EOF: 0, SINT: 1, UINT: 2, FLOAT: 3, DOUBLE: 4, STRING: 5 } as const;

/** The type byte 253/254/255 of a type-3 (zset v1) score: NaN, +inf, -inf. */
export const ZSET1_SCORE_NAN = 253;
/** The length byte that stands for +inf in a type-3 (RDB < 8) sorted-set score. */
export const ZSET1_SCORE_POS_INF = 254;
/** The length byte that stands for -inf in a type-3 (RDB < 8) sorted-set score. */
export const ZSET1_SCORE_NEG_INF = 255;

/** The keyspace type of a key (the `type` of `@redis-persist/keyspace`'s KeyValue). */
export type RdbKeyType = 'string' | 'list' | 'set' | 'zset' | 'hash' | 'stream' | 'module';

/** The signature at the start of the file. */
export type RdbMagic = 'REDIS' | 'VALKEY';

/** A type byte's keyspace type and its encoding in the file. */
export interface RdbTypeDesc {
  type: RdbKeyType;
  encoding: string;
}

function describeOnce(t: number, magic: RdbMagic): RdbTypeDesc | null {
  const T = RdbType;
  switch (t) {
    case T.STRING: return { type: 'string', encoding: 'string' };
    case T.LIST: return { type: 'list', encoding: 'linkedlist' };
    case T.SET: return { type: 'set', encoding: 'hashtable' };
    case T.ZSET: return { type: 'zset', encoding: 'skiplist' };
    case T.HASH: return { type: 'hash', encoding: 'hashtable' };
    case T.ZSET_2: return { type: 'zset', encoding: 'skiplist' };
    case T.MODULE_PRE_GA: return { type: 'module', encoding: 'module-pre-ga' };
    case T.MODULE_2: return { type: 'module', encoding: 'module' };
    case T.HASH_ZIPMAP: return { type: 'hash', encoding: 'zipmap' };
    case T.LIST_ZIPLIST: return { type: 'list', encoding: 'ziplist' };
    case T.SET_INTSET: return { type: 'set', encoding: 'intset' };
    case T.ZSET_ZIPLIST: return { type: 'zset', encoding: 'ziplist' };
    case T.HASH_ZIPLIST: return { type: 'hash', encoding: 'ziplist' };
    case T.LIST_QUICKLIST: return { type: 'list', encoding: 'quicklist' };
    case T.STREAM_LISTPACKS: return { type: 'stream', encoding: 'stream' };
    case T.HASH_LISTPACK: return { type: 'hash', encoding: 'listpack' };
    case T.ZSET_LISTPACK: return { type: 'zset', encoding: 'listpack' };
    case T.LIST_QUICKLIST_2: return { type: 'list', encoding: 'quicklist' };
    case T.STREAM_LISTPACKS_2: return { type: 'stream', encoding: 'stream' };
    case T.SET_LISTPACK: return { type: 'set', encoding: 'listpack' };
    case T.STREAM_LISTPACKS_3: return { type: 'stream', encoding: 'stream' };
    case T.HASH_METADATA_PRE_GA: return { type: 'hash', encoding: 'hashtable' }; // Redis 7.4-rc / Valkey 9 HASH_2
    case T.HASH_LISTPACK_EX_PRE_GA: return magic === 'VALKEY' ? null : { type: 'hash', encoding: 'listpackex' };
    case T.HASH_METADATA: return { type: 'hash', encoding: 'hashtable' };
    case T.HASH_LISTPACK_EX: return { type: 'hash', encoding: 'listpackex' };
    default: return null;
  }
}

/** One object per type byte and magic, shared by every key (the parser looks one up per key). */
const DESCS: Record<RdbMagic, (RdbTypeDesc | null)[]> = {
  REDIS: Array.from({ length: 256 }, (_, t) => describeOnce(t, 'REDIS')),
  VALKEY: Array.from({ length: 256 }, (_, t) => describeOnce(t, 'VALKEY')),
};

/** The keyspace type and file encoding of an RDB object type byte, or null for a byte that is no readable type. */
export function describeRdbType(t: number, magic: RdbMagic): RdbTypeDesc | null {
  return DESCS[magic][t] ?? null;
}

const TYPE_NAMES: Record<number, string> = {
  0: 'string', 1: 'list-linked', 2: 'set-hashtable', 3: 'zset-v1', 4: 'hash-hashtable', 5: 'zset-v2', 6: 'module-pre-release',
  7: 'module-value', 9: 'hash-zipmap', 10: 'list-ziplist', 11: 'set-intset', 12: 'zset-ziplist', 13: 'hash-ziplist',
  14: 'quicklist', 15: 'stream', 16: 'hash-listpack', 17: 'zset-listpack', 18: 'quicklist-v2', 19: 'stream-v2',
  20: 'set-listpack', 21: 'stream-v3', 22: 'hash-hashtable-md-pre-release', 23: 'hash-listpack-md-pre-release',
  24: 'hash-hashtable-md', 25: 'hash-listpack-md', 26: 'stream-v4',
};

/** Redis' name for an RDB object type (as redis-check-rdb prints it). */
export function rdbTypeName(t: number): string {
  return TYPE_NAMES[t] ?? `unknown type ${t}`;
}

/** 1 for the types whose whole value is one string holding a packed blob (the parser asks once per key). */
const SINGLE_BLOB = new Uint8Array(256);
for (const t of [
  RdbType.HASH_ZIPMAP, RdbType.LIST_ZIPLIST, RdbType.SET_INTSET, RdbType.ZSET_ZIPLIST, RdbType.HASH_ZIPLIST,
  RdbType.HASH_LISTPACK, RdbType.ZSET_LISTPACK, RdbType.SET_LISTPACK,
]) {
  SINGLE_BLOB[t] = 1;
}

/** Types whose whole value is one string holding a packed blob (ziplist, listpack, intset, zipmap). */
export function isSingleBlobType(t: number): boolean {
  return SINGLE_BLOB[t] === 1;
}
