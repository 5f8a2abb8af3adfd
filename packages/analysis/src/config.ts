// The loading server's settings that decide encodings and sizes, read from a redis.conf (the ziplist-era names
// Redis 7 still accepts are read too). Only these directives matter to the estimate; everything else is ignored.

/** Encoding limits and the settings that change per-key costs. Defaults are Redis 7.0's. */
export interface MemoryConfig {
  hashMaxListpackEntries: number;
  hashMaxListpackValue: number;
  zsetMaxListpackEntries: number;
  zsetMaxListpackValue: number;
  setMaxIntsetEntries: number;
  /** Valkey 8 / Redis 7.2+: small sets of short members as a listpack. */
  setMaxListpackEntries: number;
  setMaxListpackValue: number;
  /** list-max-listpack-size: entries per node when positive, -1..-5 for 4..64 KiB nodes. */
  listMaxListpackSize: number;
  /** list-compress-depth: nodes this far from both ends stay raw, the ones between are LZF-compressed. */
  listCompressDepth: number;
  streamNodeMaxBytes: number;
  streamNodeMaxEntries: number;
  /** Shared integer objects (0..9999) are used: false under maxmemory with an LRU/LFU policy. */
  sharedIntegers: boolean;
  /** cluster-enabled: every keyspace dictEntry carries 16 bytes of slot-list metadata (Redis 7.0). */
  clusterEnabled: boolean;
}

/** Redis 7.0's default encoding limits (`hash-max-listpack-entries` 512 ...), used when no redis.conf is given. */
export const DEFAULT_MEMORY_CONFIG: Readonly<MemoryConfig> = {
  hashMaxListpackEntries: 512,
  hashMaxListpackValue: 64,
  zsetMaxListpackEntries: 128,
  zsetMaxListpackValue: 64,
  setMaxIntsetEntries: 512,
  setMaxListpackEntries: 128,
  setMaxListpackValue: 64,
  listMaxListpackSize: -2,
  listCompressDepth: 0,
  streamNodeMaxBytes: 4096,
  streamNodeMaxEntries: 100,
  sharedIntegers: true,
  clusterEnabled: false,
};

const NUMERIC: Record<string, keyof MemoryConfig> = {
  'hash-max-listpack-entries': 'hashMaxListpackEntries',
  'hash-max-ziplist-entries': 'hashMaxListpackEntries',
  'hash-max-listpack-value': 'hashMaxListpackValue',
  'hash-max-ziplist-value': 'hashMaxListpackValue',
  'zset-max-listpack-entries': 'zsetMaxListpackEntries',
  'zset-max-ziplist-entries': 'zsetMaxListpackEntries',
  'zset-max-listpack-value': 'zsetMaxListpackValue',
  'zset-max-ziplist-value': 'zsetMaxListpackValue',
  'set-max-intset-entries': 'setMaxIntsetEntries',
  'set-max-listpack-entries': 'setMaxListpackEntries',
  'set-max-listpack-value': 'setMaxListpackValue',
  'list-max-listpack-size': 'listMaxListpackSize',
  'list-max-ziplist-size': 'listMaxListpackSize',
  'list-compress-depth': 'listCompressDepth',
  'stream-node-max-bytes': 'streamNodeMaxBytes',
  'stream-node-max-entries': 'streamNodeMaxEntries',
};

/** A redis.conf size: plain bytes or with k/kb/m/mb/g/gb (k = 1000, kb = 1024, as Redis reads them). */
function parseSize(text: string): number | null {
  const m = /^(-?\d+)(k|kb|m|mb|g|gb)?$/i.exec(text);
  if (!m) return null;
  const mult: Record<string, number> = { k: 1e3, kb: 1024, m: 1e6, mb: 1024 ** 2, g: 1e9, gb: 1024 ** 3 };
  return Number(m[1]) * (m[2] ? mult[m[2].toLowerCase()] : 1);
}

/** Splits a config line into words, honouring double quotes (enough for the directives read here). */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

/** Reads the settings above from redis.conf text; the last occurrence of a directive wins, as in Redis. */
export function parseMemoryConfig(text: string): MemoryConfig {
  const c: MemoryConfig = { ...DEFAULT_MEMORY_CONFIG };
  let maxmemory = 0;
  let policy = 'noeviction';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [name0, ...args] = words(line);
    const name = name0.toLowerCase();
    const field = NUMERIC[name];
    if (field !== undefined && args.length > 0) {
      const v = parseSize(args[0]);
      if (v !== null) (c[field] as number) = v;
    } else if (name === 'maxmemory' && args.length > 0) {
      maxmemory = parseSize(args[0]) ?? 0;
    } else if (name === 'maxmemory-policy' && args.length > 0) {
      policy = args[0].toLowerCase();
    } else if (name === 'cluster-enabled' && args.length > 0) {
      c.clusterEnabled = args[0].toLowerCase() === 'yes';
    }
  }
  // object.c: shared integers are refused only when maxmemory is set with a policy that needs per-key LRU/LFU
  c.sharedIntegers = !(maxmemory > 0 && /lru|lfu/.test(policy));
  return c;
}
