import { RdbWriterError } from './errors.js';

/** Encoding limits, named like the redis.conf options they mirror. */
export interface RdbThresholds {
  /** `hash-max-listpack-entries` (`hash-max-ziplist-entries`, `hash-max-zipmap-entries`). */
  hashMaxListpackEntries: number;
  /** `hash-max-listpack-value`. */
  hashMaxListpackValue: number;
  /** `list-max-listpack-size` (`list-max-ziplist-size`): negative = node byte limit level, positive = entries. */
  listMaxListpackSize: number;
  /** `list-max-ziplist-entries` (Redis ≤ 3.0 only: lists longer than this are linked lists). */
  listMaxZiplistEntries: number;
  /** `list-max-ziplist-value` (Redis ≤ 3.0 only). */
  listMaxZiplistValue: number;
  /** `set-max-intset-entries`. */
  setMaxIntsetEntries: number;
  /** `set-max-listpack-entries` (Redis 7.2+). */
  setMaxListpackEntries: number;
  /** `set-max-listpack-value` (Redis 7.2+). */
  setMaxListpackValue: number;
  /** `zset-max-listpack-entries`. */
  zsetMaxListpackEntries: number;
  /** `zset-max-listpack-value`. */
  zsetMaxListpackValue: number;
  /** `stream-node-max-entries` (0 = unlimited). */
  streamNodeMaxEntries: number;
  /** `stream-node-max-bytes` (0 = unlimited). */
  streamNodeMaxBytes: number;
}

/** Redis' defaults (the same in every release that has the option; FORMATS §5.1). */
export const DEFAULT_THRESHOLDS: Readonly<RdbThresholds> = Object.freeze({
  hashMaxListpackEntries: 512,
  hashMaxListpackValue: 64,
  listMaxListpackSize: -2,
  listMaxZiplistEntries: 512,
  listMaxZiplistValue: 64,
  setMaxIntsetEntries: 512,
  setMaxListpackEntries: 128,
  setMaxListpackValue: 64,
  zsetMaxListpackEntries: 128,
  zsetMaxListpackValue: 64,
  streamNodeMaxEntries: 100,
  streamNodeMaxBytes: 4096,
});

/**
 * Default target: RDB 10 (Redis 7.0). It is the oldest version that holds every feature except hash-field TTLs
 * (functions, stream v2 metadata: entries-added, max-deleted-id, entries-read), and it loads in every Redis
 * since 7.0 and in every Valkey release (7.2, 8.x and 9.x read RDB ≤ 11). Keyspaces with field TTLs need
 * `rdbVersion: 12` (Redis 7.4+); older servers are reached with a lower version.
 */
export const DEFAULT_RDB_VERSION = 10;

/** Valkey 9.0's RDB version (written with the `VALKEY` magic). */
export const VALKEY_9_RDB_VERSION = 80;

/** What a target can hold and how it encodes it. */
export interface Target {
  version: number;
  valkey: boolean;
  /** The 9-byte magic. */
  magic: Uint8Array;
  /** Ms-precision 0xFC expiries (RDB 3+); before that 0xFD seconds. */
  msExpire: boolean;
  /** 64-bit length form (RDB 8+). */
  len64: boolean;
  /** AUX records (RDB 7+). */
  aux: boolean;
  /** CRC64 trailer (RDB 5+). */
  checksum: boolean;
  functions: boolean;
  /** Ziplist int8/int24/immediate encodings (RDB 6+). */
  ziplistSmallInts: boolean;
  list: 'linked' | 'ziplist' | 'quicklist' | 'quicklist2';
  /** Quicklist v2 PLAIN nodes for elements above the node limit (Redis 7.4 rule). */
  plainNodes: boolean;
  set: 'hashtable' | 'intset' | 'listpack';
  zset: 'zset1' | 'ziplist1' | 'ziplist2' | 'listpack';
  hash: 'hashtable' | 'zipmap' | 'ziplist' | 'listpack';
  /** How hash field TTLs are written: not at all, Redis 7.4 types 24/25, or Valkey 9 type 22. */
  hashTtl: 'none' | 'redis' | 'valkey';
  /** Stream type byte: 0 = no streams. */
  streamType: 0 | 15 | 19 | 21;
  module: boolean;
  /** The version string written as `redis-ver`/`valkey-ver`: the first release that writes this format. */
  serverVersion: string;
}

const REDIS_VER: Record<number, string> = {
  1: '2.0.0',
  2: '2.4.0',
  3: '2.6.0',
  4: '2.6.0',
  5: '2.6.0',
  6: '2.6.0',
  7: '3.2.0',
  8: '4.0.0',
  9: '5.0.0',
  10: '7.0.0',
  11: '7.2.0',
  12: '7.4.0',
};

/** Resolves and checks a target version. */
export function resolveTarget(rdbVersion: number = DEFAULT_RDB_VERSION, valkey = false): Target {
  const v = rdbVersion;
  if (!Number.isInteger(v)) throw new RdbWriterError('options', `RDB version must be an integer, got ${v}`);
  if (valkey) {
    if (!((v >= 1 && v <= 11) || v === VALKEY_9_RDB_VERSION)) {
      throw new RdbWriterError(
        'options',
        `Valkey reads RDB versions 1 to 11 (Valkey 7.2-8.x) and ${VALKEY_9_RDB_VERSION} (Valkey 9.0); ${v} is not one of them`,
      );
    }
  } else if (v < 1 || v > 12) {
    throw new RdbWriterError(
      'options',
      v === VALKEY_9_RDB_VERSION
        ? `RDB version ${v} is Valkey 9's format: set the \`valkey\` option`
        : `RDB version ${v} is not supported: Redis releases write versions 1 to 12`,
    );
  }
  const magicText = v >= VALKEY_9_RDB_VERSION ? `VALKEY${String(v).padStart(3, '0')}` : `REDIS${String(v).padStart(4, '0')}`;
  return {
    version: v,
    valkey,
    magic: Buffer.from(magicText, 'latin1'),
    msExpire: v >= 3,
    len64: v >= 8,
    aux: v >= 7,
    checksum: v >= 5,
    functions: v >= 10,
    ziplistSmallInts: v >= 6,
    list: v >= 10 ? 'quicklist2' : v >= 7 ? 'quicklist' : v >= 2 ? 'ziplist' : 'linked',
    plainNodes: v >= 12,
    set: v >= 11 ? 'listpack' : v >= 2 ? 'intset' : 'hashtable',
    zset: v >= 10 ? 'listpack' : v >= 8 ? 'ziplist2' : v >= 2 ? 'ziplist1' : 'zset1',
    hash: v >= 10 ? 'listpack' : v >= 4 ? 'ziplist' : v >= 2 ? 'zipmap' : 'hashtable',
    hashTtl: v === VALKEY_9_RDB_VERSION ? 'valkey' : v >= 12 ? 'redis' : 'none',
    streamType: v >= 11 ? 21 : v === 10 ? 19 : v === 9 ? 15 : 0,
    module: v >= 8,
    serverVersion: valkey ? (v === VALKEY_9_RDB_VERSION ? '9.0.0' : '7.2.4') : REDIS_VER[v],
  };
}

export function resolveThresholds(t: Partial<RdbThresholds> | undefined): RdbThresholds {
  const out: RdbThresholds = { ...DEFAULT_THRESHOLDS };
  if (!t) return out;
  for (const [name, value] of Object.entries(t) as [keyof RdbThresholds, number | undefined][]) {
    if (value === undefined) continue;
    if (!(name in DEFAULT_THRESHOLDS)) throw new RdbWriterError('options', `unknown threshold ${name}`);
    if (!Number.isInteger(value) || (name !== 'listMaxListpackSize' && value < 0)) {
      throw new RdbWriterError('options', `threshold ${name} must be a non-negative integer, got ${value}`);
    }
    if (name === 'listMaxListpackSize' && (value === 0 || value < -5)) {
      throw new RdbWriterError('options', `listMaxListpackSize must be -5..-1 or a positive entry count, got ${value}`);
    }
    out[name] = value;
  }
  return out;
}
