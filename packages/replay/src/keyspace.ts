// The keyspace a replay builds, with Redis 7.x semantics as an AOF load applies them (nothing expires while
// loading; relative times count from `now`). Each database is one PackedMap: key bytes and string values packed in
// ByteColumns, the expiry (Unix ms, NaN: none) in a float64 column, the type in a tag, collections as objects.
// KeyspaceStore is that storage, for the engine (command handlers, loaders); ReplayKeyspace is its read-only face,
// the only one the package exports, so the storage can change without changing the API.
import { bytesEqual } from '@redis-persist/bytes';
import type { FunctionRecord, HashField, KeyValue, KeyspaceRecord, StreamValue } from '@redis-persist/keyspace';
import { BytesMap } from './bytes-map.js';
import { ByteColumn, EMPTY } from './column.js';
import {
  type Value,
  type ValueOf,
  type ValueType,
  type HashValue,
  StreamState,
  TAG,
  TYPE_TAGS,
  cloneValue,
  idText,
  newHash,
  newSet,
  newZset,
  own,
  parseIdText,
} from './model.js';
import { text } from './numbers.js';
import { PackedMap } from './packed-map.js';
import { zsetOrder } from './zset-order.js';
import { PACK_MAX_COUNT, packValue, packedHashHasTtl, packedKeyValue, unpackValue } from './pack.js';

/** Tag bit: the collection is packed into the entry's value bytes (see pack.ts). */
const PACKED = 0x80;
/**
 * Collections a replay has unpacked or created recently and keeps as objects (packed again when evicted), at most
 * this many and this many bytes (estimated, see objectBytes). The commands that only add (RPUSH, SADD, HSET, ZADD,
 * XADD) work on the packed form, so what stays unpacked only serves the others (pops, removals, increments) on hot
 * collections; on the bench's AOF (92k small collections touched at random) keeping 8192 cost time (more objects
 * for the GC to trace) and memory.
 */
const KEEP_UNPACKED = 8192;
const KEEP_UNPACKED_BYTES = 256 << 10;

export interface KeyspaceStoreOptions {
  /**
   * How many recently used small collections stay unpacked between commands (default 8192). Fewer saves a little
   * memory and costs time; 0 packs every small collection after every command.
   */
  keepUnpacked?: number;
  /** The same limit in bytes: what the collections kept unpacked take, estimated (default 256 KiB). */
  keepUnpackedBytes?: number;
}

/** A command Redis would answer with an error: it changes nothing. */
export class CommandFailed extends Error {}

export function fail(message: string): never {
  throw new CommandFailed(message);
}

export const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';

/** Options of {@link ReplayKeyspace.records}: leave out what has expired at a given time. */
export interface RecordsOptions {
  /**
   * Leave out keys (and hash fields) whose expiry is before this Unix ms time, as a loading master drops them
   * (expireAt < time; default: keep all). The same option as rdb's `dropExpiredBefore`.
   */
  dropExpiredBefore?: number;
}

type Collection = Exclude<Value, { type: 'string' }>['v'];

/** One database: key -> (tag, string bytes | collection, expiry). */
export class Db extends PackedMap<Collection> {
  constructor() {
    super({ values: true, numbers: true, tags: true, objects: true });
  }

  typeAt(i: number): ValueType {
    return TYPE_TAGS[this.tags![i] & ~PACKED];
  }

  /**
   * The value at index i (a string's bytes are a view). A packed collection comes unpacked into a new object that
   * the database does not keep (see objectAt).
   */
  valueAt(i: number): Value {
    const type = this.typeAt(i);
    if (type === 'string') return { type, v: this.vals!.get(i) };
    if ((this.tags![i] & PACKED) !== 0) return { type, v: unpackValue(type, this.vals!.get(i)) } as Value;
    return { type, v: this.objs![i] } as Value;
  }

  isPacked(i: number): boolean {
    return (this.tags![i] & PACKED) !== 0;
  }

  /** The collection at index i as the object the database keeps (unpacking it for good if it was packed). */
  objectAt(i: number): Collection {
    if ((this.tags![i] & PACKED) !== 0) {
      const type = this.typeAt(i);
      this.objs![i] = unpackValue(type, this.vals!.get(i));
      this.vals!.set(i, EMPTY);
      this.tags![i] = TAG[type];
    }
    return this.objs![i]!;
  }

  /** Packs the collection at index i if it is small enough; returns whether it did. */
  pack(i: number): boolean {
    const tag = this.tags![i];
    if ((tag & PACKED) !== 0 || tag === TAG.string || tag === TAG.module) return false;
    const blob = packValue(TYPE_TAGS[tag], this.objs![i]);
    if (blob === null) return false;
    this.vals!.set(i, blob);
    this.objs![i] = undefined;
    this.tags![i] = tag | PACKED;
    return true;
  }

  /** Whether entry i is a hash with a field TTL. */
  hashHasTtl(i: number): boolean {
    const tag = this.tags![i];
    if (tag === (TAG.hash | PACKED)) return packedHashHasTtl(this.vals!.get(i));
    if (tag !== TAG.hash) return false;
    const h = this.objs![i] as HashValue;
    if (h.nums !== null) for (let j = 0; j < h.size; j++) if (!Number.isNaN(h.nums[j])) return true;
    return false;
  }

  expireAt(i: number): number | null {
    const t = this.nums![i];
    return Number.isNaN(t) ? null : t;
  }

  /** Stores value under key (copying string bytes), with an expiry. */
  put(key: Uint8Array, value: Value, expireAt: number | null): void {
    const i = this.add(key);
    this.tags![i] = TAG[value.type];
    if (value.type === 'string') {
      this.vals!.set(i, value.v);
      this.objs![i] = undefined;
    } else {
      if (!this.added && this.vals!.lengthAt(i) !== 0) this.vals!.set(i, EMPTY);
      this.objs![i] = value.v;
    }
    this.nums![i] = expireAt ?? NaN;
  }
}

/**
 * The replay engine's keyspace: what the command handlers read and change, in its internal storage. Not part of
 * the package's API; what a replay hands out is its read-only face, ReplayKeyspace.
 */
export class KeyspaceStore {
  readonly dbs = new Map<number, Db>();
  readonly functions = new Map<string, FunctionRecord>();
  /** Collections kept as objects for now, oldest first (see settle). */
  private readonly recent = new Map<Collection, { db: number; key: Uint8Array; bytes: number }>();
  /** Sum of the recent collections' estimated sizes (as of when each was last touched). */
  private recentBytes = 0;
  private readonly keepUnpacked: number;
  private readonly keepUnpackedBytes: number;

  constructor(options: KeyspaceStoreOptions = {}) {
    this.keepUnpacked = Math.max(0, options.keepUnpacked ?? KEEP_UNPACKED);
    this.keepUnpackedBytes = Math.max(0, options.keepUnpackedBytes ?? KEEP_UNPACKED_BYTES);
  }

  /** Remembers that the collection under key is held as an object (re-touching makes it the newest). */
  private touch(db: number, key: Uint8Array, obj: Collection): void {
    if (!packable(obj)) return;
    const bytes = objectBytes(obj);
    const seen = this.recent.get(obj);
    if (seen !== undefined) {
      this.recent.delete(obj);
      this.recentBytes -= seen.bytes;
      if (seen.db === db && bytesEqual(seen.key, key)) {
        seen.bytes = bytes;
        this.recentBytes += bytes;
        this.recent.set(obj, seen);
        return;
      }
    }
    this.recentBytes += bytes;
    this.recent.set(obj, { db, key: own(key), bytes });
  }

  /**
   * Packs the collections not touched lately (every small one with `all`), so the keyspace holds most small
   * collections packed and only a bounded number as objects. Call between commands, never during one.
   */
  settle(all = false): void {
    if (all) {
      // Everything small, including collections that shrank while no one was tracking them.
      this.recent.clear();
      this.recentBytes = 0;
      for (const d of this.dbs.values()) for (let i = 0; i < d.size; i++) d.pack(i);
      return;
    }
    if (this.recent.size <= this.keepUnpacked && this.recentBytes <= this.keepUnpackedBytes) return;
    // Down to half of both limits, oldest first.
    const keep = this.keepUnpacked >> 1;
    const keepBytes = this.keepUnpackedBytes / 2;
    for (const [obj, at] of this.recent) {
      if (this.recent.size <= keep && this.recentBytes <= keepBytes) break;
      this.recent.delete(obj);
      this.recentBytes -= at.bytes;
      const d = this.dbs.get(at.db);
      const i = d?.indexOf(at.key) ?? -1;
      if (i >= 0 && d!.objs![i] === obj) d!.pack(i);
    }
  }

  db(n: number): Db {
    let d = this.dbs.get(n);
    if (d === undefined) this.dbs.set(n, (d = new Db()));
    return d;
  }

  /** Index of key in its database, or -1 (valid until the next change). */
  find(db: number, key: Uint8Array): number {
    return this.dbs.get(db)?.indexOf(key) ?? -1;
  }

  exists(db: number, key: Uint8Array): boolean {
    return this.find(db, key) >= 0;
  }

  typeOf(db: number, key: Uint8Array): ValueType | undefined {
    const d = this.dbs.get(db);
    const i = d?.indexOf(key) ?? -1;
    return i < 0 ? undefined : d!.typeAt(i);
  }

  /** The key's value (a string as a view), or undefined. */
  value(db: number, key: Uint8Array): Value | undefined {
    const d = this.dbs.get(db);
    const i = d?.indexOf(key) ?? -1;
    return i < 0 ? undefined : d!.valueAt(i);
  }

  /** The value of `type` at key, undefined when absent; a CommandFailed WRONGTYPE for another type. */
  typed<T extends ValueType>(db: number, key: Uint8Array, type: T): ValueOf<T> | undefined {
    const d = this.dbs.get(db);
    if (d === undefined) return undefined;
    const i = d.indexOf(key);
    if (i < 0) return undefined;
    if ((d.tags![i] & ~PACKED) !== TAG[type]) fail(WRONGTYPE);
    if (type === 'string') return d.vals!.get(i) as ValueOf<T>;
    const obj = d.objectAt(i);
    this.touch(db, key, obj);
    return obj as ValueOf<T>;
  }

  /**
   * For the commands that apply themselves to a packed collection (pack.ts): the index of key in its database when
   * it holds a packed collection of `type`, -1 when it is absent or held as an object; a CommandFailed WRONGTYPE
   * for another type. The index is valid until the next change.
   */
  packedIndex(db: number, key: Uint8Array, type: ValueType): number {
    const d = this.dbs.get(db);
    if (d === undefined) return -1;
    const i = d.indexOf(key);
    if (i < 0) return -1;
    const tag = d.tags![i];
    if ((tag & ~PACKED) !== TAG[type]) fail(WRONGTYPE);
    return (tag & PACKED) !== 0 ? i : -1;
  }

  /** The packed bytes at index i of a database (a view; see packedIndex). */
  packedAt(db: number, i: number): Uint8Array {
    return this.dbs.get(db)!.vals!.get(i);
  }

  /** Replaces the packed bytes at index i (copied; the collection stays packed). */
  setPackedAt(db: number, i: number, blob: Uint8Array): void {
    this.dbs.get(db)!.vals!.set(i, blob);
  }

  /** The key's expiry: a Unix ms time, null for none, undefined when the key is absent. */
  expireOf(db: number, key: Uint8Array): number | null | undefined {
    const d = this.dbs.get(db);
    const i = d?.indexOf(key) ?? -1;
    return i < 0 ? undefined : d!.expireAt(i);
  }

  /** Sets an existing key's expiry (null: persist). */
  setExpire(db: number, key: Uint8Array, expireAt: number | null): void {
    const d = this.dbs.get(db);
    const i = d?.indexOf(key) ?? -1;
    if (i >= 0) d!.nums![i] = expireAt ?? NaN;
  }

  /** Sets a key's value with an expiry (null: none). String bytes are copied. */
  setKey(db: number, key: Uint8Array, value: Value, expireAt: number | null = null): void {
    this.db(db).put(key, value, expireAt);
    if (value.type !== 'string' && value.type !== 'module') this.touch(db, key, value.v);
  }

  /** A string value, keeping the key's expiry when keepTtl. */
  setString(db: number, key: Uint8Array, v: Uint8Array, keepTtl = false): void {
    const d = this.db(db);
    const i = d.add(key);
    const ttl = keepTtl && !d.added ? d.nums![i] : NaN;
    d.tags![i] = TAG.string;
    d.objs![i] = undefined;
    d.vals!.set(i, v);
    d.nums![i] = ttl;
  }

  delete(db: number, key: Uint8Array): boolean {
    return this.dbs.get(db)?.delete(key) ?? false;
  }

  /** Removes the key and returns its value (a string as an own copy) and expiry. */
  take(db: number, key: Uint8Array): { value: Value; expireAt: number | null } | undefined {
    const d = this.dbs.get(db);
    const i = d?.indexOf(key) ?? -1;
    if (i < 0) return undefined;
    const v = d!.valueAt(i);
    const value = v.type === 'string' ? { type: 'string' as const, v: own(v.v) } : v;
    const expireAt = d!.expireAt(i);
    d!.deleteAt(i);
    return { value, expireAt };
  }

  /** Deletes the key when its collection became empty. */
  dropIfEmpty(db: number, key: Uint8Array): void {
    const d = this.dbs.get(db);
    const i = d?.indexOf(key) ?? -1;
    if (i < 0) return;
    const o = (d!.tags![i] & PACKED) !== 0 ? undefined : d!.objs![i];
    const empty = o instanceof ByteColumn ? o.length === 0 : o instanceof PackedMap ? o.size === 0 : false;
    if (empty) d!.deleteAt(i);
  }

  flushAll(): void {
    this.dbs.clear();
    this.recent.clear();
    this.recentBytes = 0;
  }

  copyValue(v: Value): Value {
    return cloneValue(v);
  }

  /** Keys per database (including keys whose expiry has passed). */
  keyCounts(): Map<number, number> {
    const out = new Map<number, number>();
    for (const [n, d] of [...this.dbs].sort((a, b) => a[0] - b[0])) if (d.size > 0) out.set(n, d.size);
    return out;
  }

  /** Whether some hash field carries its own expiry (Redis 7.4+, RDB 12). */
  hasHashFieldTtls(): boolean {
    for (const d of this.dbs.values()) for (let i = 0; i < d.size; i++) if (d.hashHasTtl(i)) return true;
    return false;
  }

  get keyCount(): number {
    let n = 0;
    for (const d of this.dbs.values()) n += d.size;
    return n;
  }

  /**
   * The keyspace as records in canonical order: function libraries by name, then keys by db and key bytes,
   * collections in canonical element order. Byte strings in the records are views: use each record before the
   * keyspace changes again.
   */
  *records(options: RecordsOptions = {}): Generator<KeyspaceRecord> {
    const fns = [...this.functions.values()].sort((a, b) => (a.library < b.library ? -1 : a.library > b.library ? 1 : 0));
    for (const f of fns) yield { kind: 'function', ...f };
    const cut = options.dropExpiredBefore;
    for (const n of [...this.dbs.keys()].sort((a, b) => a - b)) {
      const d = this.dbs.get(n)!;
      for (const i of d.sortedByKey()) {
        const expireAt = d.expireAt(i);
        if (cut !== undefined && expireAt !== null && expireAt < cut) continue;
        if (d.isPacked(i)) {
          const kv = packedKeyValue(d.typeAt(i), d.vals!.get(i), cut);
          // No object spread here: V8 allocates spread results in old space, which made a rewrite's heap balloon.
          if (kv !== null) yield { kind: 'key', db: n, key: d.keys.get(i), expireAt, type: kv.type, value: kv.value } as KeyspaceRecord;
          continue;
        }
        const rec = toKeyRecord(n, d.keys.get(i), d.valueAt(i), expireAt, cut);
        if (rec !== null) yield rec;
      }
    }
  }

  /** Loads one key as the RDB parser models it. */
  loadKey(db: number, key: Uint8Array, value: KeyValue, expireAt: number | null): void {
    const v = fromKeyValue(value);
    if (v !== null) this.setKey(db, key, v, expireAt);
  }
}

// Set by ReplayKeyspace's static block (declared first: the block runs when the class is defined).
let viewOf: (store: KeyspaceStore) => ReplayKeyspace;
let storeOf: (view: ReplayKeyspace) => KeyspaceStore;

/**
 * The keyspace a replay built: what Redis would hold right after loading the AOF (keys whose expiry has passed
 * included, each with its expiry). Read it as keyspace records (`@redis-persist/keyspace`'s model), in canonical
 * order. It comes from {@link replayAof} (or a {@link Replayer}); its storage stays internal.
 */
export class ReplayKeyspace {
  readonly #store: KeyspaceStore;

  private constructor(store: KeyspaceStore) {
    this.#store = store;
  }

  static {
    // The engine's two ways between the face and the storage, kept out of the class's public members.
    viewOf = (store) => new ReplayKeyspace(store);
    storeOf = (view) => view.#store;
  }

  /** Keys in all databases. */
  get keyCount(): number {
    return this.#store.keyCount;
  }

  /** Keys per database, by database number in ascending order (databases without keys left out). */
  keyCounts(): Map<number, number> {
    return this.#store.keyCounts();
  }

  /** Whether some hash field carries its own expiry (Redis 7.4+; an RDB needs version 12 to hold it). */
  hasHashFieldTtls(): boolean {
    return this.#store.hasHashFieldTtls();
  }

  /**
   * The keyspace as records in canonical order: function libraries by name, then keys by db and key bytes,
   * collections in canonical element order. Byte strings in the records are views: use each record before the
   * keyspace changes again (a Replayer applying more commands).
   */
  records(options: RecordsOptions = {}): Generator<KeyspaceRecord> {
    return this.#store.records(options);
  }
}

/** The read-only face of an engine keyspace (one per store: make it once). */
export function keyspaceView(store: KeyspaceStore): ReplayKeyspace {
  return viewOf(store);
}

/** The storage behind a face (for the engine: the replayer and the converters that fill it). */
export function keyspaceStore(view: ReplayKeyspace): KeyspaceStore {
  return storeOf(view);
}

/** Whether a collection is small enough that packing it may succeed (packValue has the last word). */
function packable(obj: Collection): boolean {
  if (obj instanceof ByteColumn) return obj.length <= PACK_MAX_COUNT;
  if (obj instanceof PackedMap) return obj.size <= PACK_MAX_COUNT;
  if (obj instanceof StreamState) return obj.length <= PACK_MAX_COUNT && obj.groups.size === 0;
  return false;
}

/** About what a small collection held as objects takes: its element bytes and per element and per object costs. */
function objectBytes(obj: Collection): number {
  if (obj instanceof ByteColumn) return 256 + obj.liveBytes + 12 * obj.length;
  if (obj instanceof PackedMap) return 512 + obj.keys.liveBytes + (obj.vals?.liveBytes ?? 0) + 40 * obj.size;
  if (obj instanceof StreamState) return 512 + obj.entries.liveBytes + 28 * obj.length;
  return 0;
}

function toKeyRecord(db: number, key: Uint8Array, v: Value, expireAt: number | null, cut: number | undefined): KeyspaceRecord | null {
  const kind = 'key';
  switch (v.type) {
    case 'string':
      return { kind, db, key, expireAt, type: 'string', value: v.v };
    case 'list': {
      const out: Uint8Array[] = new Array(v.v.length);
      for (let i = 0; i < out.length; i++) out[i] = v.v.get(i);
      return { kind, db, key, expireAt, type: 'list', value: out };
    }
    case 'set':
      return { kind, db, key, expireAt, type: 'set', value: v.v.sortedByKey().map((i) => v.v.keys.get(i)) };
    case 'zset':
      return { kind, db, key, expireAt, type: 'zset', value: zsetOrder(v.v).map((i) => [v.v.keys.get(i), v.v.nums![i]] as [Uint8Array, number]) };
    case 'hash': {
      const h = v.v;
      const fields: HashField[] = [];
      for (const i of h.sortedByKey()) {
        const t = h.nums === null ? NaN : h.nums[i];
        const ttl = Number.isNaN(t) ? null : t;
        if (cut !== undefined && ttl !== null && ttl < cut) continue;
        fields.push({ field: h.keys.get(i), value: h.vals!.get(i), expireAt: ttl });
      }
      if (fields.length === 0) return null;
      return { kind, db, key, expireAt, type: 'hash', value: fields };
    }
    case 'stream':
      return { kind, db, key, expireAt, type: 'stream', value: streamValue(v.v) };
    case 'module':
      return { kind, db, key, expireAt, type: 'module', value: v.v };
  }
}

function sortedKeys(m: BytesMap<unknown>): number[] {
  return Array.from({ length: m.size }, (_, i) => i).sort((a, b) => Buffer.compare(m.keys[a], m.keys[b]));
}

function streamValue(s: StreamState): StreamValue {
  const entries = Array.from({ length: s.ids.length }, (_, i) => {
    const flat = s.fieldsAt(i);
    const fields: [Uint8Array, Uint8Array][] = [];
    for (let j = 0; j + 1 < flat.length; j += 2) fields.push([flat[j], flat[j + 1]]);
    return { id: idText(s.ids.get(i)), fields };
  });
  const groups = sortedKeys(s.groups).map((gi) => {
    const g = s.groups.values[gi];
    const pending = [...g.pel.entries()]
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([id, p]) => ({ id: idText(id), consumer: p.consumer, deliveryTime: p.deliveryTime, deliveryCount: p.deliveryCount }));
    const consumers = sortedKeys(g.consumers).map((ci) => {
      const c = g.consumers.values[ci];
      return { name: c.name, seenTime: c.seenTime, activeTime: c.activeTime };
    });
    return { name: g.name, lastDeliveredId: idText(g.lastId), entriesRead: g.entriesRead < 0 ? null : g.entriesRead, pending, consumers };
  });
  return {
    entries,
    length: s.ids.length,
    lastId: idText(s.lastId),
    firstId: idText(s.ids.length > 0 ? s.ids.get(0) : 0n),
    maxDeletedId: idText(s.maxDeletedId),
    entriesAdded: s.entriesAdded,
    groups,
  };
}

function fromKeyValue(value: KeyValue): Value | null {
  switch (value.type) {
    case 'string':
      return { type: 'string', v: value.value };
    case 'list': {
      if (value.value.length === 0) return null;
      const l = new ByteColumn(value.value.length);
      for (const x of value.value) l.push(x);
      return { type: 'list', v: l };
    }
    case 'set': {
      const m = newSet(value.value.length);
      for (const x of value.value) m.add(x);
      return m.size === 0 ? null : { type: 'set', v: m };
    }
    case 'zset': {
      const m = newZset(value.value.length);
      for (const [x, s] of value.value) m.addNumber(x, s);
      return m.size === 0 ? null : { type: 'zset', v: m };
    }
    case 'hash': {
      const m = newHash(value.value.length);
      for (const h of value.value) {
        const i = m.add(h.field);
        m.vals!.set(i, h.value);
        if (h.expireAt !== null && h.expireAt !== undefined) m.enableNumbers()[i] = h.expireAt;
        else if (m.nums !== null) m.nums[i] = NaN;
      }
      return m.size === 0 ? null : { type: 'hash', v: m };
    }
    case 'stream': {
      const sv = value.value;
      const s = new StreamState();
      for (const e of sv.entries) s.append(parseIdText(e.id), e.fields.flat());
      s.lastId = parseIdText(sv.lastId);
      s.maxDeletedId = parseIdText(sv.maxDeletedId);
      s.entriesAdded = sv.entriesAdded;
      for (const g of sv.groups) {
        const consumers = new BytesMap<{ name: Uint8Array; seenTime: number; activeTime: number | null }>();
        for (const c of g.consumers) {
          const name = own(c.name);
          consumers.set(name, { name, seenTime: c.seenTime, activeTime: c.activeTime });
        }
        const pel = new Map<bigint, { consumer: Uint8Array; deliveryTime: number; deliveryCount: number }>();
        for (const p of g.pending) {
          const known = consumers.get(p.consumer);
          const consumer = known?.name ?? own(p.consumer);
          pel.set(parseIdText(p.id), { consumer, deliveryTime: p.deliveryTime, deliveryCount: p.deliveryCount });
          if (known === undefined) consumers.set(consumer, { name: consumer, seenTime: p.deliveryTime, activeTime: null });
        }
        const name = own(g.name);
        s.groups.set(name, { name, lastId: parseIdText(g.lastDeliveredId), entriesRead: g.entriesRead ?? -1, pel, consumers });
      }
      return { type: 'stream', v: s };
    }
    case 'module':
      return { type: 'module', v: value.value };
  }
}

// The last few short arguments lower() built text for, by a hash of their bytes: an AOF repeats a handful of
// command names and options, so most calls find their text here without building a string (three per command).
const LOWER_SLOTS = 256;
const lowerBytes: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(LOWER_SLOTS).fill(undefined);
const lowerText: string[] = new Array<string>(LOWER_SLOTS).fill('');

/** Lower-case ASCII text of a (short) argument: command names and options. */
export function lower(b: Uint8Array): string {
  const n = b.length;
  if (n > 24) return text(b).toLowerCase();
  if (n === 0) return '';
  const slot = (n * 31 + b[0] * 7 + b[n - 1] + b[n >> 1] * 3) & (LOWER_SLOTS - 1);
  const seen = lowerBytes[slot];
  if (seen !== undefined && seen.length === n) {
    let k = 0;
    while (k < n && seen[k] === b[k]) k++;
    if (k === n) return lowerText[slot];
  }
  let s = '';
  for (let i = 0; i < n; i++) {
    const c = b[i];
    s += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c | 0x20 : c);
  }
  // a copy: `b` is often a Buffer, whose slice() is a view of bytes the reader reuses for later arguments
  lowerBytes[slot] = new Uint8Array(b);
  lowerText[slot] = s;
  return s;
}
