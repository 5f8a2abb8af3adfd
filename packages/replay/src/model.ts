// The replayed keyspace in compact form. Elements of collections live packed in ByteColumns (no JS object per
// element): lists are ByteColumns, sets/zsets/hashes PackedMaps (zset scores and hash field TTLs in a float64
// column), stream entries one packed blob each. Stream IDs are 128-bit BigInts (ms << 64 | seq).
import type { ModuleValue } from '@redis-persist/keyspace';
import { BytesMap } from './bytes-map.js';
import { ByteColumn } from './column.js';
import { PackedMap } from './packed-map.js';

/** An own copy of bytes that may be a view into a reader's buffer (Buffer#slice would not copy). */
export function own(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
}

// ----------------------------------------------------------------------------------------------- streams

let scratch = new Uint8Array(256);

function putVarint(buf: Uint8Array, at: number, v: number): number {
  while (v >= 0x80) {
    buf[at++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[at++] = v;
  return at;
}

/** field, value, field, value... as one blob: varint count, then varint length + bytes each. */
function encodeFields(fv: Uint8Array[]): Uint8Array {
  let size = 5;
  for (const x of fv) size += 5 + x.length;
  if (scratch.length < size) scratch = new Uint8Array(Math.max(size, scratch.length * 2));
  const buf = scratch;
  let at = putVarint(buf, 0, fv.length);
  for (const x of fv) {
    at = putVarint(buf, at, x.length);
    buf.set(x, at);
    at += x.length;
  }
  return buf.subarray(0, at);
}

function decodeFields(blob: Uint8Array): Uint8Array[] {
  let at = 0;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = blob[at++];
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
  };
  const n = varint();
  const out: Uint8Array[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const len = varint();
    out[i] = blob.subarray(at, at + len);
    at += len;
  }
  return out;
}

/** Stream IDs as two u64 columns (ms, seq) instead of a BigInt object each; a deque, for trimming from the front. */
export class IdColumn {
  private ms = new BigUint64Array(4);
  private seq = new BigUint64Array(4);
  private head = 0;
  private n = 0;

  get length(): number {
    return this.n;
  }

  get(i: number): bigint {
    const k = this.head + i;
    return (this.ms[k] << SEQ_BITS) | this.seq[k];
  }

  push(id: bigint): void {
    if (this.head + this.n === this.ms.length) {
      const cap = this.n * 2 <= this.ms.length ? this.ms.length : Math.max(4, this.n * 2);
      const ms = cap === this.ms.length ? this.ms : new BigUint64Array(cap);
      const seq = cap === this.seq.length ? this.seq : new BigUint64Array(cap);
      ms.set(this.ms.subarray(this.head, this.head + this.n));
      seq.set(this.seq.subarray(this.head, this.head + this.n));
      this.ms = ms;
      this.seq = seq;
      this.head = 0;
    }
    const k = this.head + this.n++;
    this.ms[k] = id >> SEQ_BITS;
    this.seq[k] = id & SEQ_MASK;
  }

  /** Removes `count` IDs from index i. */
  remove(i: number, count: number): void {
    if (i === 0) this.head += count;
    else {
      const from = this.head + i;
      const end = this.head + this.n;
      this.ms.copyWithin(from, from + count, end);
      this.seq.copyWithin(from, from + count, end);
    }
    this.n -= count;
    if (this.n === 0) this.head = 0;
  }
}

export class StreamState {
  readonly ids = new IdColumn();
  /** Per entry: its fields and values, packed (see encodeFields). */
  readonly entries = new ByteColumn();
  lastId = 0n;
  maxDeletedId = 0n;
  entriesAdded = 0;
  groups = new BytesMap<GroupState>();

  get length(): number {
    return this.ids.length;
  }

  /** Appends an entry (the caller checks the ID order). */
  append(id: bigint, fieldsAndValues: Uint8Array[]): void {
    this.ids.push(id);
    this.entries.push(encodeFields(fieldsAndValues));
  }

  /** field, value, field, value... of entry i (views). */
  fieldsAt(i: number): Uint8Array[] {
    return decodeFields(this.entries.get(i));
  }

  /** Removes `count` entries from index i. */
  remove(i: number, count = 1): void {
    if (count <= 0) return;
    this.ids.remove(i, count);
    this.entries.remove(i, count);
  }

  /** Index of the first entry with id >= `id`. */
  lowerBound(id: bigint): number {
    let lo = 0;
    let hi = this.ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ids.get(mid) < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  has(id: bigint): boolean {
    const i = this.lowerBound(id);
    return i < this.ids.length && this.ids.get(i) === id;
  }

  clone(): StreamState {
    const s = new StreamState();
    for (let i = 0; i < this.ids.length; i++) {
      s.ids.push(this.ids.get(i));
      s.entries.push(this.entries.get(i));
    }
    s.lastId = this.lastId;
    s.maxDeletedId = this.maxDeletedId;
    s.entriesAdded = this.entriesAdded;
    for (let i = 0; i < this.groups.size; i++) {
      const g = this.groups.values[i];
      const ng: GroupState = { name: g.name, lastId: g.lastId, entriesRead: g.entriesRead, pel: new Map(), consumers: new BytesMap() };
      for (let j = 0; j < g.consumers.size; j++) ng.consumers.set(g.consumers.keys[j], { ...g.consumers.values[j] });
      for (const [id, n] of g.pel) ng.pel.set(id, { ...n });
      s.groups.set(g.name, ng);
    }
    return s;
  }
}

export interface PendingState {
  consumer: Uint8Array;
  deliveryTime: number;
  deliveryCount: number;
}

export interface ConsumerState {
  name: Uint8Array;
  seenTime: number;
  activeTime: number | null;
}

export interface GroupState {
  name: Uint8Array;
  lastId: bigint;
  /** -1 when unknown (Redis' SCG_INVALID_ENTRIES_READ). */
  entriesRead: number;
  pel: Map<bigint, PendingState>;
  consumers: BytesMap<ConsumerState>;
}

// ----------------------------------------------------------------------------------------------- values

/** A set: keys only. */
export type SetValue = PackedMap;
/** A sorted set: member -> score in `nums`. */
export type ZsetValue = PackedMap;
/** A hash: field -> value in `vals`; a field's TTL (Unix ms) in `nums` (NaN: none; `nums` null: no TTLs). */
export type HashValue = PackedMap;

export const newSet = (capacity = 0, bytes = 0): SetValue => new PackedMap({}, capacity, bytes);
export const newZset = (capacity = 0, bytes = 0): ZsetValue => new PackedMap({ numbers: true }, capacity, bytes);
export const newHash = (capacity = 0, bytes = 0): HashValue => new PackedMap({ values: true }, capacity, bytes);

export type Value =
  | { type: 'string'; v: Uint8Array }
  | { type: 'list'; v: ByteColumn }
  | { type: 'set'; v: SetValue }
  | { type: 'zset'; v: ZsetValue }
  | { type: 'hash'; v: HashValue }
  | { type: 'stream'; v: StreamState }
  | { type: 'module'; v: ModuleValue };

export type ValueType = Value['type'];

/** The collection (or string bytes) each type keeps. */
export interface ValueTypes {
  string: Uint8Array;
  list: ByteColumn;
  set: SetValue;
  zset: ZsetValue;
  hash: HashValue;
  stream: StreamState;
  module: ModuleValue;
}
export type ValueOf<T extends ValueType> = ValueTypes[T];

export const TYPE_TAGS: readonly ValueType[] = ['string', 'list', 'set', 'zset', 'hash', 'stream', 'module'];
export const TAG: Record<ValueType, number> = { string: 0, list: 1, set: 2, zset: 3, hash: 4, stream: 5, module: 6 };

export const SEQ_BITS = 64n;
export const SEQ_MASK = (1n << 64n) - 1n;
export const MAX_ID = (SEQ_MASK << SEQ_BITS) | SEQ_MASK;

export function idText(id: bigint): string {
  return `${id >> SEQ_BITS}-${id & SEQ_MASK}`;
}

export function parseIdText(s: string): bigint {
  const dash = s.indexOf('-');
  return (BigInt(s.slice(0, dash)) << SEQ_BITS) | BigInt(s.slice(dash + 1));
}

function copyMap(m: PackedMap): PackedMap {
  const out = new PackedMap({ values: m.vals !== null, numbers: m.nums !== null }, m.size);
  for (let i = 0; i < m.size; i++) {
    const j = out.add(m.keys.get(i));
    if (m.vals !== null) out.vals!.set(j, m.vals.get(i));
    if (m.nums !== null) out.nums![j] = m.nums[i];
  }
  return out;
}

export function cloneValue(v: Value): Value {
  switch (v.type) {
    case 'string':
      return { type: 'string', v: own(v.v) };
    case 'module':
      return v;
    case 'list':
      return { type: 'list', v: v.v.clone() };
    case 'set':
    case 'zset':
    case 'hash':
      return { type: v.type, v: copyMap(v.v) } as Value;
    case 'stream':
      return { type: 'stream', v: v.v.clone() };
  }
}
