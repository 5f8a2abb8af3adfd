// Per-key memory of an RDB file's keys as the loading server holds them: the encoding it picks on load (rdb.c's
// rules) and the bytes objectComputeSize counts for it (what `MEMORY USAGE <key> SAMPLES 0` answers), plus what
// the allocator really hands out (for the used_memory estimate). Values arrive in pieces (chunkElements); only
// running totals are kept per key.
import type { KeyFilter, KeyType, KeyValue } from '@redis-persist/keyspace';
import { readRdb, type RdbFilter, type RdbKeyRecord, type RdbSource } from '@redis-persist/rdb';
import { intsetWidth, jemallocSize, listpackEntrySize, LISTPACK_EMPTY, scoreText, sdsAllocSize, sdsHeaderSize, strictInt64 } from './alloc.js';
import { DEFAULT_MEMORY_CONFIG, type MemoryConfig } from './config.js';
import { DictSim, QuicklistSim, RaxSim, SKIPLIST_NODE_EXPECTED, StreamNodesSim, dictTableSize, parseStreamId, streamIdKey } from './structures.js';

/** Which server's data structures the estimate models. */
export type MemoryServerModel = 'redis-7.0' | 'valkey-8';

/**
 * What one key costs in the server that loads it: `MEMORY USAGE`, allocator bytes, encodings on load and in the
 * file.
 */
export interface KeyMemory {
  db: number;
  key: Uint8Array;
  type: KeyType;
  /** The encoding the loading server gives the key (`OBJECT ENCODING`). */
  encoding: string;
  /** The encoding the file stores it in. */
  fileEncoding: string;
  /** Bytes `MEMORY USAGE <key> SAMPLES 0` reports: key, dict entry, object and its value. */
  memory: number;
  /** The key's entry in the expires table (allocated size), which MEMORY USAGE leaves out; 0 without a TTL. */
  expiresOverhead: number;
  /**
   * What the allocator really holds for the key and its value (jemalloc-rounded dictEntry and dict structs, shared
   * integers free): the key's share of used_memory, beside `expiresOverhead` and the db tables.
   */
  allocated: number;
  elements: number;
  expireAt: number | null;
  /** The key's record in the file: prefix opcodes (expiry, LRU/LFU), type byte, key and value, as serialized. */
  bytes: number;
}

/** Key count and bytes (`MEMORY USAGE`, allocated, expires overhead) summed over a set of keys. */
export interface MemoryTotals {
  keys: number;
  memory: number;
  allocated: number;
  expiresOverhead: number;
}

/** One database's keys and the memory of its main and expires tables. */
export interface DbOverhead {
  db: number;
  keys: number;
  expires: number;
  /** Bucket tables of the db's main and expires dicts (8 bytes a slot, power-of-two sizes after load). */
  mainTable: number;
  expiresTable: number;
}

/** Totals of a memory estimate: by type/encoding, per db (with the dicts' own tables) and overall. */
export interface MemorySummary {
  server: MemoryServerModel;
  /** `config`: limits from a redis.conf; `file`: without one, the file's own encodings stand. */
  encodings: 'config' | 'file';
  totals: MemoryTotals;
  /** Totals by `type/encoding` (the loading server's encoding). */
  byEncoding: Record<string, MemoryTotals>;
  dbs: DbOverhead[];
  /** The db dictionaries' own overhead: all the tables above. */
  dbOverhead: number;
  /** Estimated growth of `used_memory` once the file is loaded: allocated + expires entries + db tables. */
  usedMemory: number;
}

/** Options of {@link rdbMemoryRecords}: the loading server's limits and model, pieces, expired keys. */
export interface EstimateMemoryOptions {
  /** The loading server's limits; null/absent: keep the file's encodings (sizes under Redis 7.0's defaults). */
  config?: MemoryConfig | null;
  server?: MemoryServerModel;
  /** Elements per piece of a big collection (default 1000): bounds the memory a huge key needs. */
  chunkElements?: number;
  /** Keys expiring before this Unix ms time are left out, as a loading master drops them (default: none dropped). */
  dropExpiredBefore?: number;
  /** File name for error messages. */
  file?: string;
  /**
   * Only the keys this filter keeps (see `filter` of `@redis-persist/rdb`'s readRdb); the summary then totals
   * those keys only.
   */
  filter?: RdbFilter | KeyFilter;
  /**
   * Stops the estimate: checked once per chunk read. When aborted the generator rejects with `signal.reason` (an
   * `AbortError` DOMException by default) and the file is closed.
   */
  signal?: AbortSignal;
}

/** An item of {@link rdbMemoryRecords}: one per key, then one `summary` at the end. */
export type MemoryRecord = ({ kind: 'key' } & KeyMemory) | { kind: 'summary'; summary: MemorySummary };

const ROBJ = 16;
const DICT = 56;
const DICT_ENTRY = 24;
const QUICKLIST = 40;
const ZSET = 16;
const ZSKIPLIST = 32;
const ZSKIPLIST_HEADER = 24 + 16 * 32;
const STREAM = 80;
const STREAM_CG = 40;
const STREAM_CONSUMER = 24;
const STREAM_NACK = 24;

interface Finished {
  encoding: string;
  /** MEMORY USAGE's object-and-value part. */
  value: number;
  /** The allocator's. */
  alloc: number;
}

/** Rough bytes a name adds to a rax of names: a compressed node holding it and a leaf. */
const RAX_NAME = (len: number): number => jemallocSize(Math.ceil((4 + len) / 8) * 8 + 8) + 16;

/** Running totals of one key while its pieces arrive. */
class KeyAccumulator {
  count = 0;
  // listpack form (hash pairs, zset member+score, list not used)
  lpBytes = LISTPACK_EMPTY;
  maxLen = 0;
  totLen = 0;
  // set: ints so far, intset width, index of the first non-integer member
  intWidth = 2;
  firstNonInt = -1;
  // hash: index of the first pair with a field or value over hash-max-listpack-value
  firstLong = -1;
  // sds-per-element costs for hashtable / skiplist forms
  sdsSum = 0;
  quicklist: QuicklistSim | null = null;
  stream: StreamNodesSim | null = null;
  streamExtra = 0;
  streamExtraAlloc = 0;
  namesAlloc = 0;
  streamDeleted = 0;
  /** XDEL was used (it alone sets the max-deleted ID); else every deletion was a trim. */
  streamXdel = false;
  stringValue: Uint8Array | null = null;
  // stream groups: the group being read (pieces may split one) and its consumers' PELs
  groupName: Uint8Array | null = null;
  groupPel: RaxSim | null = null;
  consumerPels = new Map<string, RaxSim>();
  consumerNames = new Map<string, number>();

  constructor(
    readonly rec: RdbKeyRecord,
    private readonly cfg: MemoryConfig,
    private readonly fileEncodingsStand: boolean,
    private readonly server: MemoryServerModel,
  ) {
    if (rec.type === 'list') this.quicklist = new QuicklistSim(cfg.listMaxListpackSize, cfg.listCompressDepth);
    if (rec.type === 'stream') this.stream = new StreamNodesSim(cfg.streamNodeMaxBytes, cfg.streamNodeMaxEntries);
  }

  add(value: KeyValue): void {
    switch (value.type) {
      case 'string':
        this.stringValue = value.value;
        this.count = 1;
        break;
      case 'list':
        for (const e of value.value) this.quicklist!.push(e);
        this.count += value.value.length;
        break;
      case 'set':
        for (const m of value.value) {
          const v = strictInt64(m);
          if (v === null) {
            if (this.firstNonInt < 0) this.firstNonInt = this.count;
          } else {
            const w = intsetWidth(v);
            if (w > this.intWidth) this.intWidth = w;
          }
          this.sdsSum += sdsAllocSize(m.length);
          this.lpBytes += listpackEntrySize(m);
          if (m.length > this.maxLen) this.maxLen = m.length;
          this.count++;
        }
        break;
      case 'zset':
        for (const [m, score] of value.value) {
          this.lpBytes += listpackEntrySize(m) + listpackEntrySize(Buffer.from(scoreText(score), 'latin1'));
          this.sdsSum += sdsAllocSize(m.length);
          if (m.length > this.maxLen) this.maxLen = m.length;
          this.totLen += m.length;
          this.count++;
        }
        break;
      case 'hash':
        for (const { field, value: v } of value.value) {
          if (this.firstLong < 0 && (field.length > this.cfg.hashMaxListpackValue || v.length > this.cfg.hashMaxListpackValue)) this.firstLong = this.count;
          this.lpBytes += listpackEntrySize(field) + listpackEntrySize(v);
          this.sdsSum += sdsAllocSize(field.length) + sdsAllocSize(v.length);
          this.count++;
        }
        break;
      case 'stream':
        this.addStream(value.value);
        break;
      case 'module':
        this.count = 1;
        break;
    }
  }

  private addStream(s: Extract<KeyValue, { type: 'stream' }>['value']): void {
    // entries added minus those left: deleted ones (metadata is complete in the last piece, which comes last)
    this.streamDeleted = s.unreported?.includes('entriesAdded') ? 0 : Math.max(0, s.entriesAdded - s.length);
    this.streamXdel = s.maxDeletedId !== '0-0';
    for (const e of s.entries) this.stream!.add(e.id, e.fields);
    this.count += s.entries.length;
    for (const g of s.groups) {
      if (this.groupName === null || Buffer.compare(this.groupName, g.name) !== 0) {
        this.finishGroup();
        this.groupName = g.name;
        this.groupPel = new RaxSim();
        this.namesAlloc += RAX_NAME(g.name.length) + jemallocSize(24) + 8; // its name in cgroups, its consumers rax
        this.streamExtra += STREAM_CG;
        this.streamExtraAlloc += jemallocSize(STREAM_CG);
      }
      for (const c of g.consumers) {
        const name = Buffer.from(c.name).toString('latin1');
        if (!this.consumerNames.has(name)) {
          this.consumerNames.set(name, c.name.length);
          this.namesAlloc += RAX_NAME(c.name.length);
          this.streamExtra += STREAM_CONSUMER + c.name.length;
          this.streamExtraAlloc += jemallocSize(STREAM_CONSUMER) + sdsAllocSize(c.name.length);
        }
      }
      for (const p of g.pending) {
        const [ms, seq] = parseStreamId(p.id);
        const k = streamIdKey(ms, seq);
        this.groupPel!.insert(k);
        const name = Buffer.from(p.consumer).toString('latin1');
        let pel = this.consumerPels.get(name);
        if (pel === undefined) this.consumerPels.set(name, (pel = new RaxSim()));
        pel.insert(k);
        this.streamExtra += STREAM_NACK;
        this.streamExtraAlloc += jemallocSize(STREAM_NACK);
      }
    }
  }

  private finishGroup(): void {
    if (this.groupPel === null) return;
    this.streamExtra += this.groupPel.memoryUsage();
    this.streamExtraAlloc += this.groupPel.allocated();
    // a consumer without pending entries still has its (empty) PEL: one node
    for (const [name] of this.consumerNames) {
      const pel = this.consumerPels.get(name) ?? new RaxSim();
      this.streamExtra += pel.memoryUsage();
      this.streamExtraAlloc += pel.allocated();
    }
    this.groupPel = null;
    this.consumerPels.clear();
    this.consumerNames.clear();
  }

  /** Encoding after load, MEMORY USAGE's value part, and the allocator's. */
  finish(): Finished {
    const rec = this.rec;
    const c = this.cfg;
    const fe = rec.encoding;
    const n = this.count;
    switch (rec.type) {
      case 'string': {
        const v = this.stringValue ?? new Uint8Array(0);
        const int = strictInt64(v);
        if (int !== null) {
          const shared = c.sharedIntegers && int >= 0n && int < 10000n;
          return { encoding: 'int', value: ROBJ, alloc: shared ? 0 : ROBJ };
        }
        if (v.length <= 44) {
          const a = jemallocSize(ROBJ + 3 + v.length + 1);
          return { encoding: 'embstr', value: a, alloc: a };
        }
        const a = ROBJ + jemallocSize(sdsHeaderSize(v.length) + v.length + 1);
        return { encoding: 'raw', value: a, alloc: a };
      }
      case 'list': {
        const ql = this.quicklist!;
        // Valkey 8 (Redis 7.2's lists): a list that fits one node under the limit loads as a plain listpack
        if (this.server === 'valkey-8' && ql.singleNodeFits()) {
          const a = jemallocSize(ql.firstNodeBytes());
          return { encoding: 'listpack', value: ROBJ + a, alloc: ROBJ + a };
        }
        return { encoding: 'quicklist', value: ROBJ + QUICKLIST + ql.nodesMemory(), alloc: ROBJ + jemallocSize(QUICKLIST) + ql.nodesAllocated() };
      }
      case 'set': {
        if (this.server === 'valkey-8') return this.valkeySet();
        const allInt = this.firstNonInt < 0;
        let intset: boolean;
        if (this.useFile()) intset = fe === 'intset';
        else if (fe === 'intset') intset = n <= c.setMaxIntsetEntries;
        else intset = allInt && n <= Math.min(c.setMaxIntsetEntries, 2 ** 30);
        if (intset) {
          const a = jemallocSize(8 + n * this.intWidth);
          return { encoding: 'intset', value: ROBJ + a, alloc: ROBJ + a };
        }
        const d = new DictSim();
        if (fe === 'intset' || (!this.useFile() && n <= c.setMaxIntsetEntries && this.firstNonInt > 0)) {
          // built as an intset, converted at the first non-integer (or all at once): presized then re-expanded
          const k = fe === 'intset' ? n : this.firstNonInt;
          d.expand(k);
          for (let i = 0; i < k; i++) d.add();
          if (fe !== 'intset') {
            d.expand(n);
            for (let i = k; i < n; i++) d.add();
          }
        } else {
          if (n > 4) d.expand(n);
          for (let i = 0; i < n; i++) d.add();
        }
        return this.hashtable('hashtable', d, n);
      }
      case 'zset': {
        let lp: boolean;
        if (this.useFile()) lp = fe === 'listpack' || fe === 'ziplist';
        else if (fe === 'listpack' || fe === 'ziplist') lp = n <= c.zsetMaxListpackEntries;
        else lp = n <= c.zsetMaxListpackEntries && this.maxLen <= c.zsetMaxListpackValue && this.totLen < 2 ** 30;
        if (lp) {
          const a = jemallocSize(this.lpBytes);
          return { encoding: 'listpack', value: ROBJ + a, alloc: ROBJ + a };
        }
        const d = new DictSim();
        if (n > 4) d.expand(n);
        for (let i = 0; i < n; i++) d.add();
        const fixed = ROBJ + ZSET + ZSKIPLIST + DICT + 8 * d.slots() + jemallocSize(ZSKIPLIST_HEADER);
        const perEl = this.sdsSum + n * (DICT_ENTRY + SKIPLIST_NODE_EXPECTED);
        const value = Math.round(fixed + perEl);
        const alloc = Math.round(fixed + jemallocSize(DICT) - DICT + jemallocSize(8 * d.slots()) - 8 * d.slots() + this.sdsSum + n * (jemallocSize(DICT_ENTRY) + SKIPLIST_NODE_EXPECTED));
        return { encoding: 'skiplist', value, alloc };
      }
      case 'hash': {
        let lp: boolean;
        let convertAt = -1;
        if (this.useFile()) lp = fe === 'listpack' || fe === 'ziplist' || fe === 'zipmap';
        else if (fe === 'listpack' || fe === 'ziplist') lp = n <= c.hashMaxListpackEntries;
        else if (fe === 'zipmap') lp = n <= c.hashMaxListpackEntries && this.firstLong < 0;
        else {
          lp = n <= c.hashMaxListpackEntries && this.firstLong < 0;
          if (n <= c.hashMaxListpackEntries && this.firstLong >= 0) convertAt = this.firstLong;
        }
        if (lp) {
          const a = jemallocSize(this.lpBytes);
          return { encoding: 'listpack', value: ROBJ + a, alloc: ROBJ + a };
        }
        const d = new DictSim();
        if (convertAt >= 0) {
          // listpack up to the long pair, converted (presized to its length), the rest added after re-presizing
          d.expand(convertAt);
          for (let i = 0; i <= convertAt; i++) d.add();
          const rest = n - convertAt - 1;
          if (rest > 4) d.expand(rest);
          for (let i = 0; i < rest; i++) d.add();
        } else {
          // a listpack converted whole, or a hash created as a hashtable: presized to its length either way
          d.expand(fe === 'hashtable' && n <= 4 ? 4 : n);
          for (let i = 0; i < n; i++) d.add();
        }
        return this.hashtable('hashtable', d, n);
      }
      case 'stream': {
        this.finishGroup();
        const s = this.stream!;
        // XDEL flags entries where they are; a trim frees the listpacks it empties and flags the rest of the trimmed
        // entries in the next one: of D trimmed entries, D mod (entries a listpack holds) stay
        const flagged = this.streamXdel ? this.streamDeleted : this.streamDeleted % s.entriesPerNode();
        const lps = s.listpacksMemory(flagged);
        const v = ROBJ + STREAM + s.rax.memoryUsage() + lps + this.streamExtra;
        // beside what MEMORY USAGE counts: the cgroups rax and each group's consumers rax, keyed by name (a leaf
        // and about one compressed node per name)
        const a = ROBJ + jemallocSize(STREAM) + s.rax.allocated() + lps + this.streamExtraAlloc + this.namesAlloc;
        return { encoding: 'stream', value: v, alloc: a };
      }
      case 'module':
        // a module's own mem_usage callback answers; unknown here
        return { encoding: 'module', value: ROBJ, alloc: ROBJ };
    }
  }

  /**
   * Valkey 8.0 (Redis 7.2's sets): intset for integers, listpack for small sets of short members, else a hashtable
   * whose dict stores no values: a member alone in its bucket is stored bare, the others get a 16-byte entry.
   */
  private valkeySet(): Finished {
    const c = this.cfg;
    const n = this.count;
    const fe = this.rec.encoding;
    const allInt = this.firstNonInt < 0;
    let enc: 'intset' | 'listpack' | 'hashtable';
    if (this.useFile()) enc = fe === 'intset' ? 'intset' : fe === 'listpack' ? 'listpack' : 'hashtable';
    else if (fe === 'intset') enc = n > c.setMaxIntsetEntries ? 'hashtable' : 'intset';
    else if (fe === 'listpack') enc = n > c.setMaxListpackEntries ? 'hashtable' : 'listpack';
    else if (n > Math.min(c.setMaxIntsetEntries, 2 ** 30)) enc = 'hashtable';
    else if (allInt) enc = 'intset';
    else enc = n <= c.setMaxListpackEntries && this.maxLen <= c.setMaxListpackValue ? 'listpack' : 'hashtable';
    if (enc === 'intset') {
      const a = jemallocSize(8 + n * this.intWidth);
      return { encoding: 'intset', value: ROBJ + a, alloc: ROBJ + a };
    }
    if (enc === 'listpack') {
      const a = jemallocSize(this.lpBytes);
      return { encoding: 'listpack', value: ROBJ + a, alloc: ROBJ + a };
    }
    const d = new DictSim();
    if (n > 4) d.expand(n);
    for (let i = 0; i < n; i++) d.add();
    const buckets = d.slots();
    // expected non-empty buckets for n members hashed into `buckets`
    const alone = buckets * (1 - Math.pow(1 - 1 / buckets, n));
    const entries = Math.max(0, n - alone);
    const value = Math.round(ROBJ + DICT + 8 * buckets + this.sdsSum + entries * 16);
    const alloc = Math.round(ROBJ + jemallocSize(DICT) + jemallocSize(8 * buckets) + this.sdsSum + entries * 16);
    return { encoding: 'hashtable', value, alloc };
  }

  private hashtable(encoding: string, d: DictSim, n: number): Finished {
    const table = 8 * d.slots();
    const value = ROBJ + DICT + table + this.sdsSum + n * DICT_ENTRY;
    const alloc = ROBJ + jemallocSize(DICT) + jemallocSize(table) + this.sdsSum + n * jemallocSize(DICT_ENTRY);
    return { encoding, value, alloc };
  }

  private useFile(): boolean {
    return this.fileEncodingsStand;
  }
}

function emptyTotals(): MemoryTotals {
  return { keys: 0, memory: 0, allocated: 0, expiresOverhead: 0 };
}

/**
 * Estimates the memory of every key of an RDB file as Redis 7.0 (or, unvalidated, Valkey 8.0) would hold it after loading
 * the file: one `key` record per key in file order, then one `summary` record.
 */
export async function* rdbMemoryRecords(source: RdbSource, options: EstimateMemoryOptions = {}): AsyncGenerator<MemoryRecord> {
  const cfg = options.config ?? DEFAULT_MEMORY_CONFIG;
  const server = options.server ?? 'redis-7.0';
  const fileEncodings = options.config == null;
  const totals = emptyTotals();
  const byEncoding: Record<string, MemoryTotals> = {};
  const dbs = new Map<number, { keys: number; expires: number; resize: { size: number; expires: number } | null }>();
  let acc: KeyAccumulator | null = null;
  const keyEntry = DICT_ENTRY + (cfg.clusterEnabled ? 16 : 0);
  for await (const r of readRdb(source, {
    values: true,
    chunkElements: options.chunkElements ?? 1000,
    dropExpiredBefore: options.dropExpiredBefore,
    file: options.file,
    filter: options.filter,
    streamPendingOrder: 'pel',
    signal: options.signal,
  })) {
    if (r.kind === 'resizedb') {
      const d = dbs.get(r.db) ?? { keys: 0, expires: 0, resize: null };
      d.resize = { size: r.size, expires: r.expires };
      dbs.set(r.db, d);
      continue;
    }
    if (r.kind !== 'key') continue;
    // a key's pieces come one after another; a finished key leaves acc null
    if (acc === null) acc = new KeyAccumulator(r, cfg, fileEncodings, server);
    if (r.value !== undefined) acc.add(r.value);
    if (r.partial) continue;
    const done = acc.finish();
    acc = null;
    let memory: number;
    let allocated: number;
    let expiresOverhead: number;
    const keySds = sdsAllocSize(r.key.length);
    if (server === 'valkey-8') {
      ({ memory, allocated, expiresOverhead } = valkeyKey(r, done));
    } else {
      memory = keySds + keyEntry + done.value;
      allocated = keySds + jemallocSize(keyEntry) + done.alloc;
      expiresOverhead = r.expireAt !== null ? jemallocSize(DICT_ENTRY) : 0;
    }
    const km: KeyMemory = {
      db: r.db,
      key: r.key,
      type: r.type,
      encoding: done.encoding,
      fileEncoding: r.encoding,
      memory,
      expiresOverhead,
      allocated,
      elements: r.elements,
      expireAt: r.expireAt,
      bytes: r.size,
    };
    for (const t of [totals, (byEncoding[`${r.type}/${done.encoding}`] ??= emptyTotals())]) {
      t.keys++;
      t.memory += memory;
      t.allocated += allocated;
      t.expiresOverhead += expiresOverhead;
    }
    const d = dbs.get(r.db) ?? { keys: 0, expires: 0, resize: null };
    d.keys++;
    if (r.expireAt !== null) d.expires++;
    dbs.set(r.db, d);
    yield { kind: 'key', ...km };
  }
  const dbList: DbOverhead[] = [];
  for (const [db, d] of [...dbs].sort((a, b) => a[0] - b[0])) {
    if (d.keys === 0) continue;
    // rdbLoad presizes both dicts from RESIZEDB (when the file has it); growth past that doubles as keys come
    const mainSize = Math.max(dictTableSize(d.keys), d.resize ? dictTableSize(d.resize.size) : 0);
    const expSize = d.expires === 0 && !d.resize?.expires ? 0 : Math.max(dictTableSize(d.expires), d.resize ? dictTableSize(d.resize.expires) : 0);
    dbList.push({
      db,
      keys: d.keys,
      expires: d.expires,
      mainTable: 8 * mainSize,
      expiresTable: 8 * expSize,
    });
  }
  const dbOverhead = dbList.reduce((s, d) => s + d.mainTable + d.expiresTable, 0);
  yield {
    kind: 'summary',
    summary: {
      server,
      encodings: fileEncodings ? 'file' : 'config',
      totals,
      byEncoding,
      dbs: dbList,
      dbOverhead,
      usedMemory: totals.allocated + totals.expiresOverhead + dbOverhead,
    },
  };
}

// Valkey 8.0's keyspace (from the 8.0.1 source; not validated: no valkey-server on this machine). The db dict
// embeds each key in its dictEntry: one allocation of the value pointer, the next pointer, a header-size byte and
// the key as an sds with its header (Valkey's sds types: sdshdr8 up to 252 bytes, sdshdr16 up to 65530, ...), and
// MEMORY USAGE adds that allocation to the object's size. There is no separate key sds and no 24-byte entry.
// Valkey 8.1 (embedded keys in the robj, a bucketed hashtable without entries) is not modelled.
function valkeySdsHeader(len: number): number {
  if (len === 0) return 3;
  if (len < 32) return 1;
  if (len <= 252) return 3;
  if (len <= 65530) return 5;
  if (len <= 2 ** 32 - 10) return 9;
  return 17;
}

function valkeyKey(r: RdbKeyRecord, done: Finished): { memory: number; allocated: number; expiresOverhead: number } {
  const entry = jemallocSize(8 + 8 + 1 + valkeySdsHeader(r.key.length) + r.key.length + 1);
  return {
    memory: entry + done.value,
    allocated: entry + done.alloc,
    expiresOverhead: r.expireAt !== null ? jemallocSize(DICT_ENTRY) : 0,
  };
}
