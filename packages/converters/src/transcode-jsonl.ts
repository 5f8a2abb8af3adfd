// The direct transcoder's JSON Lines side: the RDB parser walks a key's bytes in place (RdbParser.setKeyVisitor)
// and this visitor writes its line straight from those views into the output chunks, with no object per key or
// element. A set's, sorted set's or hash's elements are copied into one reused arena and sorted there into the
// canonical element order as (offset, length) pairs compared as bytes. It writes what writeRecord writes for the
// same (canonicalized) record, byte for byte: in file order into the output, in canonical order into a writer of its
// own whose line goes into the external sort when the key is done (see attach).
import { ChunkWriter, writeScore, writeStrRange } from '@redis-persist/jsonl';
import type { KeyType } from '@redis-persist/keyspace';
import type { KeyVisitor } from '@redis-persist/rdb';

const enum Kind {
  String = 0,
  List = 1,
  Set = 2,
  Zset = 3,
  Hash = 4,
}

const KINDS: Record<string, Kind> = { string: Kind.String, list: Kind.List, set: Kind.Set, zset: Kind.Zset, hash: Kind.Hash };
const KIND_NAMES = ['string', 'list', 'set', 'zset', 'hash'];
const ascii = (t: string): Uint8Array => Uint8Array.from(t, (c) => c.charCodeAt(0));
/** `{"db":N,"key":` for the first 16 dbs. */
const DB_HEADS = Array.from({ length: 16 }, (_, db) => ascii(`{"db":${db},"key":`));
/** What follows the key name, by kind: without an expiry up to the value, with one up to its digits. */
const TYPE_NO_EXPIRY = KIND_NAMES.map((t) => ascii(`,"type":"${t}","expireAt":null,"value":`));
const TYPE_EXPIRY = KIND_NAMES.map((t) => ascii(`,"type":"${t}","expireAt":`));

/** Writes the keys the parser visits as keyspace JSON Lines into a {@link ChunkWriter} (see {@link attach}). */
export class JsonlKeyVisitor implements KeyVisitor {
  private w: ChunkWriter | null = null;
  private kind = Kind.String;
  private n = 0;
  /** Sorted kinds: the strings so far (a hash: field, value, field...), in `arena`, and the zset scores. */
  private arena = new Uint8Array(64 * 1024);
  private used = 0;
  private starts = new Int32Array(1024);
  private ends = new Int32Array(1024);
  private scores = new Float64Array(1024);
  /** The first 4 bytes of each held string, big-endian (missing ones 0): most comparisons end there. */
  private prefix = new Uint32Array(1024);
  private items = 0;
  private order = new Uint32Array(1024);
  private scratch = new Uint32Array(1024);
  /** A key was begun and not finished: what cancel drops (a cancel may come before its key, e.g. a key not buffered). */
  private open = false;

  /** Canonical order: where each finished line goes, with its sort key (see {@link attach}). */
  private sorted: ((sortKey: Uint8Array, w: ChunkWriter) => void) | null = null;
  /** The current key's sort key (recordSortKey's: 1, db big-endian, key bytes) in `sortKey[0..sortKeyLen)`. */
  private sortKey = new Uint8Array(256);
  private sortKeyLen = 0;

  /**
   * The writer the lines go to. File order: the output's, so that they land between the other records' lines.
   * Canonical order (`sorted` given): a writer of its own, and `sorted(sortKey, w)` is called when a key's line is
   * complete (w holds just that line; the callee takes it and resets w; the sort key is valid only then).
   */
  attach(w: ChunkWriter, sorted?: (sortKey: Uint8Array, w: ChunkWriter) => void): void {
    this.w = w;
    this.sorted = sorted ?? null;
  }

  key(db: number, k: Uint8Array, ks: number, ke: number, type: KeyType, expireAt: number | null): void {
    const w = this.w!;
    // what writeKeyHead refuses goes the usual way, which reports it
    if (expireAt !== null && !Number.isSafeInteger(expireAt)) throw new RangeError('expireAt is not a safe integer');
    w.mark();
    this.open = true;
    if (this.sorted !== null) this.setSortKey(db, k, ks, ke);
    this.kind = KINDS[type]!;
    this.n = 0;
    this.used = 0;
    this.items = 0;
    // the text around the key name comes from bytes made once per db and type
    const head = db < DB_HEADS.length ? DB_HEADS[db]! : null;
    if (head !== null) w.raw(head, 0, head.length);
    else {
      w.ascii('{"db":');
      writeUint(w, db);
      w.ascii(',"key":');
    }
    writeStrRange(w, k, ks, ke);
    if (expireAt === null) {
      const t = TYPE_NO_EXPIRY[this.kind]!;
      w.raw(t, 0, t.length);
    } else {
      const t = TYPE_EXPIRY[this.kind]!;
      w.raw(t, 0, t.length);
      writeInt(w, expireAt);
      w.ascii(',"value":');
    }
  }

  item(b: Uint8Array, s: number, e: number): void {
    const kind = this.kind;
    if (kind === Kind.String) {
      writeStrRange(this.w!, b, s, e);
      return;
    }
    if (kind === Kind.List) {
      this.w!.byte(this.n++ === 0 ? 0x5b : 0x2c);
      writeStrRange(this.w!, b, s, e);
      return;
    }
    // held for sorting
    const len = e - s;
    if (this.used + len > this.arena.length) {
      const a = new Uint8Array(Math.max(this.arena.length * 2, this.used + len));
      a.set(this.arena.subarray(0, this.used));
      this.arena = a;
    }
    const i = this.items++;
    if (i === this.starts.length) this.growItems();
    const a = this.arena;
    let p = this.used;
    if (len <= 256) for (let j = s; j < e; j++) a[p++] = b[j]!;
    else {
      a.set(b.subarray(s, e), p);
      p += len;
    }
    this.prefix[i] = len >= 4 ? ((b[s]! << 24) | (b[s + 1]! << 16) | (b[s + 2]! << 8) | b[s + 3]!) >>> 0 : shortPrefix(b, s, e);
    this.starts[i] = this.used;
    this.ends[i] = p;
    this.used = p;
  }

  score(score: number): void {
    this.scores[this.items - 1] = score;
  }

  private growItems(): void {
    const n = this.starts.length * 2;
    const grow = <T extends Int32Array | Uint32Array | Float64Array>(old: T, make: (n: number) => T): T => {
      const x = make(n);
      x.set(old);
      return x;
    };
    this.starts = grow(this.starts, (k) => new Int32Array(k));
    this.ends = grow(this.ends, (k) => new Int32Array(k));
    this.scores = grow(this.scores, (k) => new Float64Array(k));
    this.prefix = grow(this.prefix, (k) => new Uint32Array(k));
  }

  done(): void {
    const w = this.w!;
    const kind = this.kind;
    if (kind === Kind.List) w.byte(0x5d);
    else if (kind !== Kind.String) this.writeSorted(w, kind);
    w.ascii('}\n');
    this.open = false;
    if (this.sorted !== null) this.sorted(this.sortKey.subarray(0, this.sortKeyLen), w);
  }

  private setSortKey(db: number, k: Uint8Array, ks: number, ke: number): void {
    const n = 5 + ke - ks;
    if (n > this.sortKey.length) this.sortKey = new Uint8Array(Math.max(n, this.sortKey.length * 2));
    const sk = this.sortKey;
    sk[0] = 1;
    sk[1] = db >>> 24;
    sk[2] = (db >>> 16) & 0xff;
    sk[3] = (db >>> 8) & 0xff;
    sk[4] = db & 0xff;
    if (n <= 64) for (let i = ks, p = 5; i < ke; i++) sk[p++] = k[i]!;
    else sk.set(k.subarray(ks, ke), 5);
    this.sortKeyLen = n;
  }

  cancel(): void {
    if (!this.open) return;
    this.open = false;
    this.w!.rewind();
  }

  /** Bytes order of held strings `x` and `y`. */
  private readonly cmpBytes = (x: number, y: number): number => {
    const px = this.prefix[x]!;
    const py = this.prefix[y]!;
    if (px !== py) return px < py ? -1 : 1;
    const a = this.arena;
    const xs = this.starts[x]!;
    const ys = this.starts[y]!;
    const xl = this.ends[x]! - xs;
    const yl = this.ends[y]! - ys;
    const m = xl < yl ? xl : yl;
    for (let k = 0; k < m; k++) {
      const d = a[xs + k]! - a[ys + k]!;
      if (d !== 0) return d;
    }
    return xl - yl;
  };

  /** Sorted-set order (compareZsetPairs): by score, ties by member bytes. */
  private readonly cmpZset = (x: number, y: number): number => {
    const sx = this.scores[x]!;
    const sy = this.scores[y]!;
    if (sx < sy) return -1;
    if (sx > sy) return 1;
    return this.cmpBytes(x, y);
  };

  /** Sorts `order[0..count)` with `cmp`: insertion sort for a few (no allocation), else the typed array's sort. */
  private sortOrder(count: number, cmp: (x: number, y: number) => number): Uint32Array {
    const order = this.order;
    let sorted = true;
    for (let i = 1; i < count; i++) {
      if (cmp(order[i - 1]!, order[i]!) > 0) {
        sorted = false;
        break;
      }
    }
    if (sorted) return order;
    if (count <= 16) {
      for (let i = 1; i < count; i++) {
        const x = order[i]!;
        let j = i - 1;
        while (j >= 0 && cmp(order[j]!, x) > 0) {
          order[j + 1] = order[j]!;
          j--;
        }
        order[j + 1] = x;
      }
      return order;
    }
    // a bottom-up merge sort (stable, as the typed array's sort): the comparator is a JS call the compiler can
    // inline here, where the typed array's sort calls it from the runtime for every comparison
    if (this.scratch.length < count) this.scratch = new Uint32Array(Math.max(count, this.scratch.length * 2));
    let src = order;
    let dst = this.scratch;
    // runs of 8 by insertion first
    for (let lo = 0; lo < count; lo += 8) {
      const hi = Math.min(lo + 8, count);
      for (let i = lo + 1; i < hi; i++) {
        const x = src[i]!;
        let j = i - 1;
        while (j >= lo && cmp(src[j]!, x) > 0) {
          src[j + 1] = src[j]!;
          j--;
        }
        src[j + 1] = x;
      }
    }
    for (let width = 8; width < count; width *= 2) {
      for (let lo = 0; lo < count; lo += 2 * width) {
        const mid = Math.min(lo + width, count);
        const hi = Math.min(lo + 2 * width, count);
        let i = lo;
        let j = mid;
        let k = lo;
        while (i < mid && j < hi) dst[k++] = cmp(src[j]!, src[i]!) < 0 ? src[j++]! : src[i++]!;
        while (i < mid) dst[k++] = src[i++]!;
        while (j < hi) dst[k++] = src[j++]!;
      }
      const t = src;
      src = dst;
      dst = t;
    }
    if (src !== this.order) {
      // the result ended in the scratch array: it becomes the order (the old order array the next scratch)
      this.scratch = this.order;
      this.order = src;
    }
    return this.order;
  }

  /** The held elements in canonical order: a set's by bytes, a hash's by field, a zset's by score then member. */
  private writeSorted(w: ChunkWriter, kind: Kind): void {
    const step = kind === Kind.Hash ? 2 : 1;
    const count = this.items / step;
    if (this.order.length < count) this.order = new Uint32Array(Math.max(count, this.order.length * 2));
    const o = this.order;
    for (let i = 0; i < count; i++) o[i] = i * step;
    const order = this.sortOrder(count, kind === Kind.Zset ? this.cmpZset : this.cmpBytes);
    const a = this.arena;
    const starts = this.starts;
    const ends = this.ends;
    if (kind === Kind.Zset) {
      const sc = this.scores;
      for (let i = 0; i < count; i++) {
        const x = order[i]!;
        w.ascii(i === 0 ? '[[' : ',[');
        writeStrRange(w, a, starts[x]!, ends[x]!);
        w.byte(0x2c);
        writeScore(w, sc[x]!);
        w.byte(0x5d);
      }
    } else if (kind === Kind.Set) {
      for (let i = 0; i < count; i++) {
        const x = order[i]!;
        w.byte(i === 0 ? 0x5b : 0x2c);
        writeStrRange(w, a, starts[x]!, ends[x]!);
      }
    } else {
      for (let i = 0; i < count; i++) {
        const x = order[i]!;
        w.ascii(i === 0 ? '[[' : ',[');
        writeStrRange(w, a, starts[x]!, ends[x]!);
        w.byte(0x2c);
        writeStrRange(w, a, starts[x + 1]!, ends[x + 1]!);
        w.byte(0x5d);
      }
    }
    w.byte(0x5d);
  }
}

/** The big-endian prefix of a string of fewer than 4 bytes, missing bytes 0. */
function shortPrefix(b: Uint8Array, s: number, e: number): number {
  let v = 0;
  for (let k = 0; k < 4; k++) v = v * 256 + (s + k < e ? b[s + k]! : 0);
  return v;
}

const DIGITS = new Uint8Array(24);

/** A non-negative safe integer's decimal digits (as String(n)). */
function writeUint(w: ChunkWriter, n: number): void {
  if (n < 10) {
    w.byte(0x30 + n);
    return;
  }
  let i = DIGITS.length;
  do {
    DIGITS[--i] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  } while (n > 0);
  w.raw(DIGITS, i, DIGITS.length);
}

/** A safe integer's decimal text (as String(n)). */
function writeInt(w: ChunkWriter, n: number): void {
  if (n < 0) {
    w.byte(0x2d);
    writeUint(w, -n);
  } else writeUint(w, n);
}
