// Small collections packed into one byte string, as Redis keeps them in a listpack: a database holds most of its
// lists, sets, sorted sets, hashes and streams (without consumer groups) of up to 128 elements this way, so they
// cost a few bytes per element and no JS object. A command unpacks one into its object form; the keyspace packs it
// again once it has not been touched for a while (see ReplayKeyspace).
//
// Layout: varint count, then per element varint length + bytes; a zset element is followed by its score (float64
// LE); a hash starts with a flags byte (1: fields carry a TTL, a float64 LE after each value, NaN for none); a
// stream starts with its last ID, max deleted ID (16 bytes each: ms, seq as u64 LE), entries added (float64), then
// per entry its ID and its packed fields.
import { bytesEqual } from '@redis-persist/bytes';
import type { HashField, KeyValue, StreamEntry } from '@redis-persist/keyspace';
import { ByteColumn } from './column.js';
import { type HashValue, type SetValue, type ZsetValue, StreamState, idText, newHash, newSet, newZset, SEQ_BITS, SEQ_MASK } from './model.js';

/** Collections of more elements, or of a larger packed size, stay objects. */
export const PACK_MAX_COUNT = 128;
export const PACK_MAX_BYTES = 4096;

class Out {
  buf = new Uint8Array(512);
  at = 0;
  private view = new DataView(this.buf.buffer);

  reset(): void {
    this.at = 0;
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const b = new Uint8Array(Math.max(this.at + n, this.buf.length * 2));
    b.set(this.buf.subarray(0, this.at));
    this.buf = b;
    this.view = new DataView(b.buffer);
  }

  varint(v: number): void {
    this.room(8);
    while (v >= 0x80) {
      this.buf[this.at++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.at++] = v;
  }

  bytes(b: Uint8Array): void {
    this.varint(b.length);
    this.room(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }

  /** Element i of a column, as bytes() would write it. */
  element(c: ByteColumn, i: number): void {
    const len = c.lengthAt(i);
    this.varint(len);
    this.room(len);
    this.at += c.copyInto(i, this.buf, this.at);
  }

  f64(x: number): void {
    this.room(8);
    this.view.setFloat64(this.at, x, true);
    this.at += 8;
  }

  u8(x: number): void {
    this.room(1);
    this.buf[this.at++] = x;
  }

  /** src[from, to) as is. */
  raw(src: Uint8Array, from: number, to: number): void {
    const n = to - from;
    this.room(n);
    this.buf.set(src.subarray(from, to), this.at);
    this.at += n;
  }

  id(id: bigint): void {
    this.room(16);
    this.view.setBigUint64(this.at, id >> SEQ_BITS, true);
    this.view.setBigUint64(this.at + 8, id & SEQ_MASK, true);
    this.at += 16;
  }

  result(): Uint8Array | null {
    return this.at > PACK_MAX_BYTES ? null : this.buf.subarray(0, this.at);
  }
}

class In {
  at = 0;
  private readonly view: DataView;

  constructor(private readonly b: Uint8Array) {
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  varint(): number {
    let v = 0;
    let mul = 1;
    for (;;) {
      const x = this.b[this.at++];
      v += (x & 0x7f) * mul;
      if (x < 0x80) return v;
      mul *= 128;
    }
  }

  bytes(): Uint8Array {
    const n = this.varint();
    const out = this.b.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  /** The next element appended to a column (no view made). */
  pushTo(c: ByteColumn): void {
    const n = this.varint();
    c.pushRange(this.b, this.at, n);
    this.at += n;
  }

  f64(): number {
    const x = this.view.getFloat64(this.at, true);
    this.at += 8;
    return x;
  }

  u8(): number {
    return this.b[this.at++];
  }

  id(): bigint {
    const ms = this.view.getBigUint64(this.at, true);
    const seq = this.view.getBigUint64(this.at + 8, true);
    this.at += 16;
    return (ms << SEQ_BITS) | seq;
  }
}

const out = new Out();

/** The packed form of a collection, or null when it is too big (or a stream with consumer groups). The bytes are
 * only valid until the next call. */
export function packValue(type: string, v: unknown): Uint8Array | null {
  out.reset();
  switch (type) {
    case 'list': {
      const l = v as ByteColumn;
      if (l.length > PACK_MAX_COUNT || l.liveBytes > PACK_MAX_BYTES) return null;
      out.varint(l.length);
      for (let i = 0; i < l.length; i++) out.element(l, i);
      return out.result();
    }
    case 'set':
    case 'zset':
    case 'hash': {
      const m = v as SetValue;
      if (m.size > PACK_MAX_COUNT || m.keys.liveBytes + (m.vals?.liveBytes ?? 0) > PACK_MAX_BYTES) return null;
      let ttl = false;
      if (type === 'hash' && m.nums !== null) for (let i = 0; i < m.size && !ttl; i++) ttl = !Number.isNaN(m.nums[i]);
      if (type === 'hash') out.u8(ttl ? 1 : 0);
      out.varint(m.size);
      for (let i = 0; i < m.size; i++) {
        out.element(m.keys, i);
        if (type === 'zset') out.f64(m.nums![i]);
        else if (type === 'hash') {
          out.element(m.vals!, i);
          if (ttl) out.f64(m.nums![i]);
        }
      }
      return out.result();
    }
    case 'stream': {
      const s = v as StreamState;
      if (s.groups.size > 0 || s.length > PACK_MAX_COUNT || s.entries.liveBytes > PACK_MAX_BYTES) return null;
      out.id(s.lastId);
      out.id(s.maxDeletedId);
      out.f64(s.entriesAdded);
      out.varint(s.length);
      for (let i = 0; i < s.length; i++) {
        out.id(s.ids.get(i));
        out.element(s.entries, i);
      }
      return out.result();
    }
    default:
      return null;
  }
}

/** The object form of a packed collection (its bytes are copied). */
export function unpackValue(type: string, blob: Uint8Array): ByteColumn | SetValue | ZsetValue | HashValue | StreamState {
  const r = new In(blob);
  switch (type) {
    case 'list': {
      const n = r.varint();
      const l = new ByteColumn(n, blob.length);
      for (let i = 0; i < n; i++) r.pushTo(l);
      return l;
    }
    case 'set': {
      const n = r.varint();
      const m = newSet(n, blob.length);
      for (let i = 0; i < n; i++) m.add(r.bytes());
      return m;
    }
    case 'zset': {
      const n = r.varint();
      const m = newZset(n, blob.length - (n * 8));
      for (let i = 0; i < n; i++) {
        const k = r.bytes();
        m.addNumber(k, r.f64());
      }
      return m;
    }
    case 'hash': {
      const ttl = r.u8() === 1;
      const n = r.varint();
      const m = newHash(n, blob.length);
      const nums = ttl ? m.enableNumbers() : null;
      for (let i = 0; i < n; i++) {
        const j = m.add(r.bytes());
        m.vals!.set(j, r.bytes());
        if (nums !== null) m.nums![j] = r.f64();
      }
      return m;
    }
    case 'stream': {
      const s = new StreamState();
      s.lastId = r.id();
      s.maxDeletedId = r.id();
      s.entriesAdded = r.f64();
      const n = r.varint();
      for (let i = 0; i < n; i++) {
        s.ids.push(r.id());
        r.pushTo(s.entries);
      }
      return s;
    }
    default:
      throw new Error(`cannot unpack a ${type}`);
  }
}

// ------------------------------------------------------------------------- commands applied to the packed form
// The commands that only add to a small collection (RPUSH/LPUSH, SADD, HSET, ZADD, XADD) write its new packed form
// straight from the old one, as Redis edits a listpack, instead of unpacking it into objects and packing it again
// later: a workload touching more small collections than the keyspace keeps unpacked paid both for every command.
// Each returns the new packed bytes (valid until the next packing), `blob` itself when nothing changes, or null
// when the result would not stay packed (the caller then takes the object path). The bytes they write are those
// packValue would write for the object the object path ends with, so both paths leave the same packed value.

/** Set by varintAt: where the varint it read ends. */
let vEnd = 0;

function varintAt(b: Uint8Array, at: number): number {
  let v = 0;
  let mul = 1;
  for (;;) {
    const x = b[at++];
    v += (x & 0x7f) * mul;
    if (x < 0x80) {
      vEnd = at;
      return v;
    }
    mul *= 128;
  }
}

function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Whether blob[at, at + len) holds the bytes of x. */
function sameAt(blob: Uint8Array, at: number, len: number, x: Uint8Array): boolean {
  if (len !== x.length) return false;
  for (let k = 0; k < len; k++) if (blob[at + k] !== x[k]) return false;
  return true;
}

/** Per argument of the command being applied: element index it updates (>= 0), NEW, or SKIP (a later one wins). */
let marks = new Int32Array(64);
const NEW = -1;
const SKIP = -2;

function markRoom(n: number): Int32Array {
  if (marks.length < n) marks = new Int32Array(Math.max(n, marks.length * 2));
  return marks;
}

/** RPUSH (LPUSH with `left`) of a[from..] onto a packed list. */
export function packedListPush(blob: Uint8Array, a: Uint8Array[], from: number, left: boolean): Uint8Array | null {
  const n = varintAt(blob, 0);
  const start = vEnd;
  const k = a.length - from;
  if (n + k > PACK_MAX_COUNT) return null;
  let size = blob.length;
  for (let i = from; i < a.length; i++) size += a[i].length;
  if (size > PACK_MAX_BYTES) return null;
  out.reset();
  out.varint(n + k);
  if (left) {
    for (let i = a.length - 1; i >= from; i--) out.bytes(a[i]);
    out.raw(blob, start, blob.length);
  } else {
    out.raw(blob, start, blob.length);
    for (let i = from; i < a.length; i++) out.bytes(a[i]);
  }
  return out.result();
}

/** What follows each element of a packed blob: nothing (set), an 8-byte score (zset), a length-prefixed value (hash). */
const NO_TAIL = 0;
const SCORE_TAIL = 1;
const VALUE_TAIL = 2;

/** The index of the first of the `n` packed elements from `start` whose bytes equal `x`, or -1. */
function packedIndexOf(blob: Uint8Array, start: number, n: number, x: Uint8Array, tail: number): number {
  let at = start;
  for (let e = 0; e < n; e++) {
    const len = varintAt(blob, at);
    at = vEnd;
    if (sameAt(blob, at, len, x)) return e;
    at += len;
    if (tail === SCORE_TAIL) at += 8;
    else if (tail === VALUE_TAIL) {
      const vlen = varintAt(blob, at);
      at = vEnd + vlen;
    }
  }
  return -1;
}

/** SADD of a[from..] to a packed set. */
export function packedSetAdd(blob: Uint8Array, a: Uint8Array[], from: number): Uint8Array | null {
  const n = varintAt(blob, 0);
  const start = vEnd;
  const m = markRoom(a.length);
  let added = 0;
  for (let i = from; i < a.length; i++) {
    const x = a[i];
    m[i] = packedIndexOf(blob, start, n, x, NO_TAIL) < 0 ? NEW : SKIP;
    if (m[i] === NEW) for (let j = from; j < i; j++) if (m[j] === NEW && bytesEqual(a[j], x)) m[i] = SKIP;
    if (m[i] === NEW) added++;
  }
  if (added === 0) return blob;
  if (n + added > PACK_MAX_COUNT) return null;
  out.reset();
  out.varint(n + added);
  out.raw(blob, start, blob.length);
  for (let i = from; i < a.length; i++) if (m[i] === NEW) out.bytes(a[i]);
  return out.result();
}

/**
 * Field/member, value pairs a[from], a[from + 1]... (`stride` 2) against the packed elements of a hash (`score`
 * false) or a sorted set (`score` true): marks each pair with the element it updates, NEW, or SKIP when a later pair
 * names the same field (the last one wins). Returns how many NEW.
 */
function markPairs(blob: Uint8Array, start: number, n: number, a: Uint8Array[], from: number, keyFirst: boolean, score: boolean): number {
  const m = markRoom(a.length);
  let added = 0;
  for (let i = from; i < a.length; i += 2) {
    const x = keyFirst ? a[i] : a[i + 1];
    let later = false;
    for (let j = i + 2; j < a.length && !later; j += 2) later = bytesEqual(keyFirst ? a[j] : a[j + 1], x);
    if (later) {
      m[i] = SKIP;
      continue;
    }
    const e = packedIndexOf(blob, start, n, x, score ? SCORE_TAIL : VALUE_TAIL);
    m[i] = e < 0 ? NEW : e;
    if (m[i] === NEW) added++;
  }
  return added;
}

/** HSET of field, value pairs a[from..] on a packed hash without field TTLs (null for one with them). */
export function packedHashSet(blob: Uint8Array, a: Uint8Array[], from: number): Uint8Array | null {
  if (blob[0] !== 0) return null;
  const n = varintAt(blob, 1);
  const start = vEnd;
  const added = markPairs(blob, start, n, a, from, true, false);
  if (n + added > PACK_MAX_COUNT) return null;
  const m = marks;
  out.reset();
  out.u8(0);
  out.varint(n + added);
  let at = start;
  for (let e = 0; e < n; e++) {
    const flen = varintAt(blob, at);
    const vAt = vEnd + flen;
    const vlen = varintAt(blob, vAt);
    const end = vEnd + vlen;
    let by = -1;
    for (let i = from; i < a.length && by < 0; i += 2) if (m[i] === e) by = i;
    if (by < 0) out.raw(blob, at, end);
    else {
      out.raw(blob, at, vAt);
      out.bytes(a[by + 1]);
    }
    at = end;
  }
  for (let i = from; i < a.length; i += 2) {
    if (m[i] !== NEW) continue;
    out.bytes(a[i]);
    out.bytes(a[i + 1]);
  }
  return out.result();
}

/**
 * ZADD without options of score, member pairs a[from..] (`scores` parsed, one per pair) on a packed sorted set.
 */
export function packedZadd(blob: Uint8Array, a: Uint8Array[], from: number, scores: readonly number[]): Uint8Array | null {
  const n = varintAt(blob, 0);
  const start = vEnd;
  const added = markPairs(blob, start, n, a, from, false, true);
  if (n + added > PACK_MAX_COUNT) return null;
  const m = marks;
  out.reset();
  out.varint(n + added);
  out.raw(blob, start, blob.length);
  // Scores of existing members are replaced in place (an element's bytes keep their place).
  const shift = out.at - blob.length;
  const view = new DataView(out.buf.buffer, out.buf.byteOffset);
  for (let i = from; i < a.length; i += 2) {
    if (m[i] < 0) continue;
    let at = start;
    for (let e = 0; e < m[i]; e++) {
      const skip = varintAt(blob, at);
      at = vEnd + skip + 8;
    }
    const len = varintAt(blob, at);
    view.setFloat64(shift + vEnd + len, scores[(i - from) >> 1], true);
  }
  for (let i = from; i < a.length; i += 2) {
    if (m[i] !== NEW) continue;
    out.bytes(a[i + 1]);
    out.f64(scores[(i - from) >> 1]);
  }
  return out.result();
}

/** The last ID of a packed stream. */
export function packedStreamLastId(blob: Uint8Array): bigint {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  return (view.getBigUint64(0, true) << SEQ_BITS) | view.getBigUint64(8, true);
}

/** XADD (no trimming) of an entry `id` (greater than the last ID) with fields and values fv to a packed stream. */
export function packedStreamAdd(blob: Uint8Array, id: bigint, fv: readonly Uint8Array[]): Uint8Array | null {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const entriesAdded = view.getFloat64(32, true);
  const n = varintAt(blob, 40);
  const start = vEnd;
  if (n + 1 > PACK_MAX_COUNT) return null;
  let inner = varintSize(fv.length);
  for (const x of fv) inner += varintSize(x.length) + x.length;
  if (blob.length + inner > PACK_MAX_BYTES) return null;
  out.reset();
  out.id(id);
  out.raw(blob, 16, 32);
  out.f64(entriesAdded + 1);
  out.varint(n + 1);
  out.raw(blob, start, blob.length);
  out.id(id);
  out.varint(inner);
  out.varint(fv.length);
  for (const x of fv) out.bytes(x);
  return out.result();
}

/** Whether a packed hash has fields with a TTL. */
export function packedHashHasTtl(blob: Uint8Array): boolean {
  return blob[0] === 1;
}

/**
 * A packed collection straight as the keyspace model's value, elements in canonical order, without building the
 * object form (byte strings are views into `blob`). Hash fields whose TTL is before `cut` are left out; null
 * when none remains.
 */
export function packedKeyValue(type: string, blob: Uint8Array, cut: number | undefined): KeyValue | null {
  const r = new In(blob);
  switch (type) {
    case 'list': {
      const n = r.varint();
      const value: Uint8Array[] = new Array(n);
      for (let i = 0; i < n; i++) value[i] = r.bytes();
      return { type: 'list', value };
    }
    case 'set': {
      const n = r.varint();
      const value: Uint8Array[] = new Array(n);
      for (let i = 0; i < n; i++) value[i] = r.bytes();
      return { type: 'set', value: value.sort(Buffer.compare) };
    }
    case 'zset': {
      const n = r.varint();
      const value: [Uint8Array, number][] = new Array(n);
      for (let i = 0; i < n; i++) {
        const m = r.bytes();
        value[i] = [m, r.f64()];
      }
      return { type: 'zset', value: value.sort((a, b) => a[1] - b[1] || Buffer.compare(a[0], b[0])) };
    }
    case 'hash': {
      const ttl = r.u8() === 1;
      const n = r.varint();
      const value: HashField[] = [];
      for (let i = 0; i < n; i++) {
        const field = r.bytes();
        const v = r.bytes();
        const t = ttl ? r.f64() : NaN;
        const expireAt = Number.isNaN(t) ? null : t;
        if (cut !== undefined && expireAt !== null && expireAt < cut) continue;
        value.push({ field, value: v, expireAt });
      }
      if (value.length === 0) return null;
      return { type: 'hash', value: value.sort((a, b) => Buffer.compare(a.field, b.field)) };
    }
    case 'stream': {
      const lastId = r.id();
      const maxDeletedId = r.id();
      const entriesAdded = r.f64();
      const n = r.varint();
      const entries: StreamEntry[] = new Array(n);
      let firstId = 0n;
      for (let i = 0; i < n; i++) {
        const id = r.id();
        if (i === 0) firstId = id;
        const inner = new In(r.bytes());
        const k = inner.varint();
        const fields: [Uint8Array, Uint8Array][] = [];
        for (let j = 0; j + 1 < k; j += 2) fields.push([inner.bytes(), inner.bytes()]);
        entries[i] = { id: idText(id), fields };
      }
      return {
        type: 'stream',
        value: { entries, length: n, lastId: idText(lastId), firstId: idText(firstId), maxDeletedId: idText(maxDeletedId), entriesAdded, groups: [] },
      };
    }
    default:
      throw new Error(`cannot read a packed ${type}`);
  }
}
