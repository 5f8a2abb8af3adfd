// `rdb-tool report`: one report over one or more RDB files (a cluster's backups): a key-prefix tree with memory and
// keys without TTL per node, the top keys by memory and by elements, type / encoding / TTL histograms and per-type
// size percentiles. Everything is held in bounded memory: the prefix tree is exact up to `maxPrefixes` nodes, then a
// Space-Saving summary with per-entry error bounds; top keys are heaps of N; percentiles come from a log-bucket
// sketch (exact below 1024, ≤ 1 % relative error above). The memory per key is the analysis memory model's
// (`rdb-tool memory`: what MEMORY USAGE counts).
import type { KeyType } from '@redis-persist/keyspace';
import { rdbSourceChunks } from '@redis-persist/rdb';
import { rdbMemoryRecords, type EstimateMemoryOptions, type KeyMemory, type MemoryServerModel, type MemorySummary } from './estimate.js';
import { exportKeyText } from './export.js';
import { HeavyHitters, QuantileSketch, SKETCH_RELATIVE_ERROR, TopN } from './sketch.js';

/** The version of the JSON shape ({@link Report}); bumped on any incompatible change. */
export const REPORT_VERSION = 1;

/** Options of a report: the prefix separator and depth, how many prefixes are counted exactly, top-list sizes. */
export interface ReportOptions {
  /** Bytes that end a prefix segment: each byte of this string's UTF-8 form (default ':'). */
  separator?: string;
  /** Prefix levels kept (default 3). */
  depth?: number;
  /** Prefix nodes counted exactly before the heavy-hitter summary takes over (default 100000). */
  maxPrefixes?: number;
  /** Keys in each top list (default 20). */
  top?: number;
  /** Unix ms the TTL buckets count from (default Date.now()). */
  now?: number;
}

/** The report's defaults: `:` separator, 3 prefix levels, 100000 exact prefixes, top 20 keys. */
export const REPORT_DEFAULTS = { separator: ':', depth: 3, maxPrefixes: 100_000, top: 20 } as const;

/** A TTL bucket of a report: expired, under 1 hour / 1 day / 7 days, longer, or no TTL. */
export type TtlBucket = 'expired' | 'lt1h' | 'lt1d' | 'lt7d' | 'longer' | 'none';
/** The TTL buckets of a report, in display order. */
export const TTL_BUCKETS: readonly TtlBucket[] = ['expired', 'lt1h', 'lt1d', 'lt7d', 'longer', 'none'];
/** The label shown for each TTL bucket (`< 1 h`, `no TTL` ...). */
export const TTL_BUCKET_LABELS: Readonly<Record<TtlBucket, string>> = {
  expired: 'expired',
  lt1h: '< 1 h',
  lt1d: '< 1 d',
  lt7d: '< 7 d',
  longer: '≥ 7 d',
  none: 'no TTL',
};

/** Keys, estimated memory, elements and TTL counts summed over a set of keys. */
export interface ReportTotals {
  keys: number;
  /** Sum of the keys' estimated MEMORY USAGE. */
  memory: number;
  elements: number;
  withoutTtl: number;
  /** Keys whose expiry is at or before `now` (still counted everywhere: the report describes the file). */
  expired: number;
}

/** One input file of a report: its size, totals, estimated used_memory growth and keys per db. */
export interface ReportFile extends ReportTotals {
  file: string;
  /** The file's size in bytes (bytes read). */
  bytes: number;
  /** The memory model's estimate of used_memory growth once loaded (`rdb-tool memory`'s usedMemory). */
  usedMemory: number;
  dbs: { db: number; keys: number }[];
}

/** One prefix of the report's tree: depth, parent, keys and memory under it. */
export interface PrefixEntry {
  /** The prefix (segments joined by their separators, no trailing separator): UTF-8 text, or `base64:<b64>`. */
  prefix: string;
  /** 1 for a first segment. */
  depth: number;
  /** The parent prefix, null at depth 1. */
  parent: string | null;
  keys: number;
  memory: number;
  withoutTtl: number;
  /** How much each count may exceed the truth (all 0 in exact mode): true ∈ [value − error, value]. */
  error: { keys: number; memory: number; withoutTtl: number };
}

/** The prefix tree of a report: its settings, exact or heavy-hitter mode, and the entries. */
export interface ReportPrefixes {
  separator: string;
  depth: number;
  maxPrefixes: number;
  /** `exact`: every prefix counted; `heavy-hitters`: more than maxPrefixes were seen, the Space-Saving summary holds them. */
  mode: 'exact' | 'heavy-hitters';
  /** Distinct prefixes seen while exact; the summary's size after. */
  nodes: number;
  /** Prefixes dropped by the summary (0 when exact). */
  evictions: number;
  /**
   * The bound on every entry's memory error in heavy-hitter mode (0 when exact): the memory summed over every prefix
   * level of every key (at most depth × total memory) / maxPrefixes, rounded up. Every prefix whose true memory
   * exceeds it is in `entries`.
   */
  memoryErrorBound: number;
  /** The bounds on every entry's `error.keys` and `error.withoutTtl` (the largest counts of a prefix evicted). */
  keysErrorBound: number;
  withoutTtlErrorBound: number;
  /** Keys with no separator in the first segment (only in the root totals). */
  unprefixed: { keys: number; memory: number; withoutTtl: number };
  /** Sorted by memory, largest first. */
  entries: PrefixEntry[];
}

/** One of the report's largest keys: file, db, name, type, encoding, memory and elements. */
export interface TopKey {
  file: string;
  db: number;
  /** UTF-8 text, or `base64:<b64>`. */
  key: string;
  type: KeyType;
  encoding: string;
  memory: number;
  elements: number;
  expireAt: number | null;
}

/** p50, p90, p99 and max of a distribution (null when there is no value). */
export interface Percentiles {
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

/** The report's row for one key type: keys, memory, elements and their percentiles. */
export interface TypeRow {
  type: KeyType;
  keys: number;
  memory: number;
  elements: number;
  percentiles: { memory: Percentiles; elements: Percentiles };
}

/** A keyspace report (`rdb-tool report`): totals, prefix tree, top keys, per-type percentiles, TTL buckets. */
export interface Report {
  version: number;
  /** The memory model (as `rdb-tool memory`). */
  server: MemoryServerModel;
  encodings: 'config' | 'file';
  /** TTL buckets are relative to this Unix ms time. */
  now: number;
  percentileMethod: string;
  top: number;
  files: ReportFile[];
  totals: ReportTotals;
  prefixes: ReportPrefixes;
  topByMemory: TopKey[];
  topByElements: TopKey[];
  types: TypeRow[];
  encodingsHistogram: { type: KeyType; encoding: string; keys: number; memory: number }[];
  ttl: { bucket: TtlBucket; label: string; keys: number; memory: number }[];
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function emptyTotals(): ReportTotals {
  return { keys: 0, memory: 0, elements: 0, withoutTtl: 0, expired: 0 };
}

function addTotals(t: ReportTotals, k: KeyMemory, expired: boolean): void {
  t.keys++;
  t.memory += k.memory;
  t.elements += k.elements;
  if (k.expireAt === null) t.withoutTtl++;
  else if (expired) t.expired++;
}

/** Accumulates keys (of any number of files) into a {@link Report}, in memory bounded by the options. */
export class ReportBuilder {
  readonly separator: string;
  readonly depth: number;
  readonly maxPrefixes: number;
  readonly top: number;
  readonly now: number;
  private readonly sepBytes = new Uint8Array(256);
  private readonly prefixes: HeavyHitters;
  private readonly unprefixed = { keys: 0, memory: 0, withoutTtl: 0 };
  private readonly totals = emptyTotals();
  private readonly files: ReportFile[] = [];
  private current: ReportFile | null = null;
  private currentDbs = new Map<number, number>();
  private readonly topMemory: TopN<TopKey>;
  private readonly topElements: TopN<TopKey>;
  private readonly types = new Map<KeyType, { keys: number; memory: number; elements: number; mem: QuantileSketch; el: QuantileSketch }>();
  private readonly encodings = new Map<string, { type: KeyType; encoding: string; keys: number; memory: number }>();
  private readonly ttl = new Map<TtlBucket, { keys: number; memory: number }>(TTL_BUCKETS.map((b) => [b, { keys: 0, memory: 0 }]));
  private server: MemoryServerModel = 'redis-7.0';
  private encodingsFrom: 'config' | 'file' = 'file';

  constructor(options: ReportOptions = {}) {
    this.separator = options.separator ?? REPORT_DEFAULTS.separator;
    this.depth = options.depth ?? REPORT_DEFAULTS.depth;
    this.maxPrefixes = options.maxPrefixes ?? REPORT_DEFAULTS.maxPrefixes;
    this.top = options.top ?? REPORT_DEFAULTS.top;
    this.now = options.now ?? Date.now();
    if (this.separator === '') throw new RangeError('separator must not be empty');
    if (!(Number.isInteger(this.depth) && this.depth >= 1)) throw new RangeError('depth must be a positive integer');
    if (!(Number.isInteger(this.maxPrefixes) && this.maxPrefixes >= 1)) throw new RangeError('maxPrefixes must be a positive integer');
    if (!(Number.isInteger(this.top) && this.top >= 0)) throw new RangeError('top must be a non-negative integer');
    for (const b of Buffer.from(this.separator, 'utf8')) this.sepBytes[b] = 1;
    this.prefixes = new HeavyHitters(this.maxPrefixes);
    this.topMemory = new TopN(this.top);
    this.topElements = new TopN(this.top);
  }

  /** Starts the next file: the keys added until the next call count in its totals. */
  beginFile(file: string): void {
    this.endFile();
    this.current = { file, ...emptyTotals(), bytes: 0, usedMemory: 0, dbs: [] };
    this.currentDbs = new Map();
  }

  /** The file's memory summary (the model's usedMemory) and its size. */
  endFile(summary?: MemorySummary, bytes?: number): void {
    const f = this.current;
    if (f === null) return;
    if (summary) {
      f.usedMemory = summary.usedMemory;
      this.server = summary.server;
      this.encodingsFrom = summary.encodings;
    }
    if (bytes !== undefined) f.bytes = bytes;
    f.dbs = [...this.currentDbs].sort((a, b) => a[0] - b[0]).map(([db, keys]) => ({ db, keys }));
    this.files.push(f);
    this.current = null;
  }

  /** The TTL bucket of an expiry time (Unix ms, or null for no TTL) relative to the report's `now`. */
  ttlBucket(expireAt: number | null): TtlBucket {
    if (expireAt === null) return 'none';
    const left = expireAt - this.now;
    if (left <= 0) return 'expired';
    if (left < HOUR) return 'lt1h';
    if (left < DAY) return 'lt1d';
    if (left < 7 * DAY) return 'lt7d';
    return 'longer';
  }

  /** Counts one key (a record of `rdbMemoryRecords`) into every part of the report. */
  add(k: KeyMemory): void {
    if (this.current === null) this.beginFile('');
    const f = this.current!;
    const bucket = this.ttlBucket(k.expireAt);
    const expired = bucket === 'expired';
    addTotals(this.totals, k, expired);
    addTotals(f, k, expired);
    this.currentDbs.set(k.db, (this.currentDbs.get(k.db) ?? 0) + 1);
    const tb = this.ttl.get(bucket)!;
    tb.keys++;
    tb.memory += k.memory;
    let t = this.types.get(k.type);
    if (t === undefined) {
      t = { keys: 0, memory: 0, elements: 0, mem: new QuantileSketch(), el: new QuantileSketch() };
      this.types.set(k.type, t);
    }
    t.keys++;
    t.memory += k.memory;
    t.elements += k.elements;
    t.mem.add(k.memory);
    t.el.add(k.elements);
    const encKey = `${k.type}/${k.encoding}`;
    let e = this.encodings.get(encKey);
    if (e === undefined) {
      e = { type: k.type, encoding: k.encoding, keys: 0, memory: 0 };
      this.encodings.set(encKey, e);
    }
    e.keys++;
    e.memory += k.memory;
    if (this.topMemory.wouldKeep(k.memory)) this.topMemory.offer(k.memory, this.topKey(f.file, k));
    if (this.topElements.wouldKeep(k.elements)) this.topElements.offer(k.elements, this.topKey(f.file, k));
    this.addPrefixes(k.key, k.memory, k.expireAt === null ? 1 : 0);
  }

  private topKey(file: string, k: KeyMemory): TopKey {
    return { file, db: k.db, key: exportKeyText(k.key), type: k.type, encoding: k.encoding, memory: k.memory, elements: k.elements, expireAt: k.expireAt };
  }

  private addPrefixes(key: Uint8Array, memory: number, noTtl: number): void {
    let level = 0;
    const sep = this.sepBytes;
    let buf: Buffer | null = null;
    for (let i = 0; i < key.length && level < this.depth; i++) {
      if (sep[key[i]!] !== 1) continue;
      buf ??= Buffer.from(key.buffer, key.byteOffset, key.byteLength);
      this.prefixes.add(buf.toString('latin1', 0, i), memory, 1, noTtl);
      level++;
    }
    if (level === 0) {
      this.unprefixed.keys++;
      this.unprefixed.memory += memory;
      this.unprefixed.withoutTtl += noTtl;
    }
  }

  private prefixDepth(id: string): { depth: number; parent: string | null } {
    let depth = 1;
    let last = -1;
    for (let i = 0; i < id.length; i++) {
      if (this.sepBytes[id.charCodeAt(i)] === 1) {
        depth++;
        last = i;
      }
    }
    return { depth, parent: last < 0 ? null : id.slice(0, last) };
  }

  /** The report of the keys added so far. */
  result(): Report {
    this.endFile();
    const display = (id: string) => exportKeyText(Buffer.from(id, 'latin1'));
    const entries: PrefixEntry[] = [];
    for (const e of this.prefixes.entries()) {
      const { depth, parent } = this.prefixDepth(e.id);
      entries.push({
        prefix: display(e.id),
        depth,
        parent: parent === null ? null : display(parent),
        keys: e.a,
        memory: e.weight,
        withoutTtl: e.b,
        error: { keys: e.errA, memory: e.errWeight, withoutTtl: e.errB },
      });
    }
    entries.sort((a, b) => b.memory - a.memory || (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
    const exact = this.prefixes.exact;
    const pct = (s: QuantileSketch): Percentiles => ({ p50: s.quantile(0.5), p90: s.quantile(0.9), p99: s.quantile(0.99), max: s.count ? s.max : null });
    return {
      version: REPORT_VERSION,
      server: this.server,
      encodings: this.encodingsFrom,
      now: this.now,
      percentileMethod: `nearest rank; exact below 1024, above that a log-bucket histogram with relative error ≤ ${SKETCH_RELATIVE_ERROR * 100}%`,
      top: this.top,
      files: this.files,
      totals: { ...this.totals },
      prefixes: {
        separator: this.separator,
        depth: this.depth,
        maxPrefixes: this.maxPrefixes,
        mode: exact ? 'exact' : 'heavy-hitters',
        nodes: this.prefixes.size,
        evictions: this.prefixes.evictions,
        memoryErrorBound: exact ? 0 : Math.ceil(this.prefixes.totalWeight / this.maxPrefixes),
        keysErrorBound: this.prefixes.maxEvictedA,
        withoutTtlErrorBound: this.prefixes.maxEvictedB,
        unprefixed: { ...this.unprefixed },
        entries,
      },
      topByMemory: this.topMemory.sorted(),
      topByElements: this.topElements.sorted(),
      types: [...this.types]
        .map(([type, t]) => ({ type, keys: t.keys, memory: t.memory, elements: t.elements, percentiles: { memory: pct(t.mem), elements: pct(t.el) } }))
        .sort((a, b) => b.memory - a.memory),
      encodingsHistogram: [...this.encodings.values()].sort((a, b) => b.memory - a.memory),
      ttl: TTL_BUCKETS.map((bucket) => ({ bucket, label: TTL_BUCKET_LABELS[bucket], ...this.ttl.get(bucket)! })),
    };
  }
}

/** Options of {@link reportRdbFiles}: the report's and the memory estimate's options, and progress. */
export interface ReportFilesOptions extends ReportOptions, Omit<EstimateMemoryOptions, 'file' | 'dropExpiredBefore'> {
  /** Called now and then with the file being read and the bytes read of it. */
  onProgress?: (progress: { file: string; bytes: number }) => void;
}

/**
 * One report over the keys of these RDB files (paths), read one after another. An aborted `options.signal`
 * (checked once per chunk read) rejects with `signal.reason`, the file being read closed.
 */
export async function reportRdbFiles(files: readonly string[], options: ReportFilesOptions = {}): Promise<Report> {
  const builder = new ReportBuilder(options);
  for (const file of files) {
    builder.beginFile(file);
    let bytes = 0;
    let reported = 0;
    const onProgress = options.onProgress;
    options.signal?.throwIfAborted();
    const chunks = rdbSourceChunks(file);
    const counted: AsyncIterable<Uint8Array> = {
      async *[Symbol.asyncIterator]() {
        for await (const c of chunks) {
          bytes += c.length;
          if (onProgress && bytes - reported >= 1 << 24) {
            reported = bytes;
            onProgress({ file, bytes });
          }
          yield c;
        }
      },
    };
    let summary: MemorySummary | undefined;
    for await (const r of rdbMemoryRecords(counted, { config: options.config, server: options.server, chunkElements: options.chunkElements, filter: options.filter, file, signal: options.signal })) {
      if (r.kind === 'summary') summary = r.summary;
      else builder.add(r);
    }
    builder.endFile(summary, bytes);
  }
  return builder.result();
}
