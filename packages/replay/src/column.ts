// ByteColumn: a sequence of byte strings packed into a few large buffers, with no JS object per element.
//
// The bytes live in an append-only arena of segments (up to 4 MiB each; an element of 32 KiB or more gets a
// segment of its own). Per element the column keeps three int32s: segment, offset and length. Bytes are never
// overwritten in place: a replaced or removed element becomes garbage, and when garbage outweighs live bytes the
// live elements of mostly-dead segments are moved into fresh ones. So a view handed out by `get` stays a valid
// snapshot for as long as its holder keeps it (it pins its segment, so it should not be kept long).
//
// The column is a deque: elements occupy slots [head, head + count) of the metadata, so pushes and pops at both
// ends are O(1) amortised; an insertion or removal in the middle moves int32s, never bytes.

export const EMPTY: Uint8Array = new Uint8Array(0);

const SEG_MAX = 1 << 22;
const OWN_SEGMENT = 1 << 15;
const FIRST_SEGMENT = 32;
/** Below this many garbage bytes a column never compacts. */
const GARBAGE_FLOOR = 1024;

function nextPow2(n: number): number {
  let p = FIRST_SEGMENT;
  while (p < n) p *= 2;
  return p;
}

export class ByteColumn {
  /** Per slot: segment, offset, length. */
  private meta: Int32Array;
  private head = 0;
  private n = 0;
  private segs: (Uint8Array | null)[] = [];
  /** Bytes handed out in each segment, and how many of them still belong to an element. */
  private used: number[] = [];
  private liveIn: number[] = [];
  private tail = -1;
  private freeSegs: number[] = [];
  private live = 0;
  private garbage = 0;
  // Result of alloc(), in fields to avoid a tuple per call.
  private aSeg = 0;
  private aOff = 0;

  /** `bytes`: how many bytes the elements will take, to size the first segment. */
  constructor(capacity = 4, bytes = 0) {
    this.meta = new Int32Array(Math.max(1, capacity) * 3);
    if (bytes > 0 && bytes < OWN_SEGMENT) this.tail = this.newSegment(nextPow2(bytes));
  }

  get length(): number {
    return this.n;
  }

  /** Bytes held by elements (not counting garbage or metadata). */
  get liveBytes(): number {
    return this.live;
  }

  // ------------------------------------------------------------------------------------------- reading

  /** A view of element i (valid as a snapshot; do not keep it for long, it pins a segment). */
  get(i: number): Uint8Array {
    const m = (this.head + i) * 3;
    const len = this.meta[m + 2];
    if (len === 0) return EMPTY;
    const off = this.meta[m + 1];
    return this.segs[this.meta[m]]!.subarray(off, off + len);
  }

  lengthAt(i: number): number {
    return this.meta[(this.head + i) * 3 + 2];
  }

  equalsAt(i: number, b: Uint8Array): boolean {
    const m = (this.head + i) * 3;
    const len = this.meta[m + 2];
    if (len !== b.length) return false;
    if (len === 0) return true;
    const s = this.segs[this.meta[m]]!;
    const off = this.meta[m + 1];
    for (let k = 0; k < len; k++) if (s[off + k] !== b[k]) return false;
    return true;
  }

  /** memcmp order of element i against b (shorter first on a common prefix). */
  compareAt(i: number, b: Uint8Array): number {
    const m = (this.head + i) * 3;
    const len = this.meta[m + 2];
    const s = len === 0 ? EMPTY : this.segs[this.meta[m]]!;
    const off = this.meta[m + 1];
    const k = Math.min(len, b.length);
    for (let j = 0; j < k; j++) {
      const d = s[off + j] - b[j];
      if (d !== 0) return d;
    }
    return len - b.length;
  }

  /** memcmp order of elements i and j. */
  compareItems(i: number, j: number): number {
    const mi = (this.head + i) * 3;
    const mj = (this.head + j) * 3;
    const li = this.meta[mi + 2];
    const lj = this.meta[mj + 2];
    const si = li === 0 ? EMPTY : this.segs[this.meta[mi]]!;
    const sj = lj === 0 ? EMPTY : this.segs[this.meta[mj]]!;
    const oi = this.meta[mi + 1];
    const oj = this.meta[mj + 1];
    const k = Math.min(li, lj);
    for (let q = 0; q < k; q++) {
      const d = si[oi + q] - sj[oj + q];
      if (d !== 0) return d;
    }
    return li - lj;
  }

  /** A 32-bit hash of element i (the same as hashBytes of its bytes). */
  hashAt(i: number): number {
    const m = (this.head + i) * 3;
    const len = this.meta[m + 2];
    if (len === 0) return hashRange(EMPTY, 0, 0);
    return hashRange(this.segs[this.meta[m]]!, this.meta[m + 1], len);
  }

  /** Index of the first element equal to b from `from` on, or -1. */
  indexOf(b: Uint8Array, from = 0): number {
    for (let i = from; i < this.n; i++) if (this.equalsAt(i, b)) return i;
    return -1;
  }

  // ------------------------------------------------------------------------------------------- writing

  push(b: Uint8Array): void {
    this.reserveBack(1);
    this.write(this.head + this.n, b);
    this.n++;
  }

  /** Appends src[off, off + len) as an element. */
  pushRange(src: Uint8Array, off: number, len: number): void {
    this.reserveBack(1);
    this.write(this.head + this.n, src, off, len);
    this.n++;
  }

  /** Copies element i into dst at `at`; returns its length. */
  copyInto(i: number, dst: Uint8Array, at: number): number {
    const m = (this.head + i) * 3;
    const len = this.meta[m + 2];
    if (len === 0) return 0;
    const off = this.meta[m + 1];
    dst.set(this.segs[this.meta[m]]!.subarray(off, off + len), at);
    return len;
  }

  unshift(b: Uint8Array): void {
    this.reserveFront(1);
    this.head--;
    this.n++;
    this.write(this.head, b);
  }

  /** Replaces element i. */
  set(i: number, b: Uint8Array): void {
    const slot = this.head + i;
    this.release(slot);
    this.write(slot, b);
    this.settle();
  }

  /** Inserts b before element i (i = length appends). */
  insert(i: number, b: Uint8Array): void {
    if (i === this.n) return this.push(b);
    if (i === 0) return this.unshift(b);
    this.reserveBack(1);
    const at = this.head + i;
    this.meta.copyWithin((at + 1) * 3, at * 3, (this.head + this.n) * 3);
    this.n++;
    this.write(at, b);
  }

  /** Removes `count` elements from index i. */
  remove(i: number, count = 1): void {
    if (count <= 0) return;
    const from = this.head + i;
    for (let s = from; s < from + count; s++) this.release(s);
    if (i === 0) this.head += count;
    else this.meta.copyWithin(from * 3, (from + count) * 3, (this.head + this.n) * 3);
    this.n -= count;
    if (this.n === 0) this.head = 0;
    this.settle();
  }

  /** Removes the elements at the given indexes (ascending, no duplicates) in one pass. */
  removeSorted(indexes: readonly number[]): void {
    if (indexes.length === 0) return;
    const meta = this.meta;
    const end = this.head + this.n;
    let to = this.head + indexes[0];
    let k = 0;
    for (let from = to; from < end; from++) {
      if (k < indexes.length && from === this.head + indexes[k]) {
        this.release(from);
        k++;
        continue;
      }
      if (to !== from) {
        meta[to * 3] = meta[from * 3];
        meta[to * 3 + 1] = meta[from * 3 + 1];
        meta[to * 3 + 2] = meta[from * 3 + 2];
      }
      to++;
    }
    this.n -= indexes.length;
    if (this.n === 0) this.head = 0;
    this.settle();
  }

  /** Removes element i by moving the last element into its place (order not kept). */
  swapRemove(i: number): void {
    const at = this.head + i;
    const last = this.head + this.n - 1;
    this.release(at);
    if (at !== last) this.meta.copyWithin(at * 3, last * 3, last * 3 + 3);
    this.n--;
    if (this.n === 0) this.head = 0;
    this.settle();
  }

  /** A copy of the whole column. */
  clone(): ByteColumn {
    const c = new ByteColumn(this.n);
    for (let i = 0; i < this.n; i++) c.push(this.get(i));
    return c;
  }

  // ------------------------------------------------------------------------------------------- internals

  private write(slot: number, b: Uint8Array, from = 0, count = b.length - from): void {
    const m = slot * 3;
    const len = count;
    if (len === 0) {
      this.meta[m] = 0;
      this.meta[m + 1] = 0;
      this.meta[m + 2] = 0;
      return;
    }
    this.alloc(len);
    const seg = this.segs[this.aSeg]!;
    // A loop copies short elements faster than TypedArray#set (a builtin call per element).
    if (len > 48) seg.set(from === 0 && len === b.length ? b : b.subarray(from, from + len), this.aOff);
    else {
      const at = this.aOff;
      for (let k = 0; k < len; k++) seg[at + k] = b[from + k];
    }
    this.meta[m] = this.aSeg;
    this.meta[m + 1] = this.aOff;
    this.meta[m + 2] = len;
    this.liveIn[this.aSeg] += len;
    this.live += len;
  }

  /** The element at slot stops owning its bytes. */
  private release(slot: number): void {
    const m = slot * 3;
    const len = this.meta[m + 2];
    if (len === 0) return;
    const s = this.meta[m];
    this.liveIn[s] -= len;
    this.live -= len;
    this.garbage += len;
    // A dead segment goes at once, unless appends still go there (its bytes are never reused in place).
    if (this.liveIn[s] === 0 && s !== this.tail) {
      this.garbage -= this.used[s];
      this.dropSegment(s);
    }
  }

  private dropSegment(s: number): void {
    this.segs[s] = null;
    this.used[s] = 0;
    this.liveIn[s] = 0;
    this.freeSegs.push(s);
  }

  private newSegment(size: number): number {
    const s = this.freeSegs.length > 0 ? this.freeSegs.pop()! : this.segs.length;
    this.segs[s] = new Uint8Array(size);
    this.used[s] = 0;
    this.liveIn[s] = 0;
    return s;
  }

  private alloc(len: number): void {
    if (len >= OWN_SEGMENT) {
      const s = this.newSegment(len);
      this.used[s] = len;
      this.aSeg = s;
      this.aOff = 0;
      return;
    }
    const t = this.tail;
    if (t >= 0) {
      const seg = this.segs[t]!;
      const u = this.used[t];
      if (u + len <= seg.length) {
        this.used[t] = u + len;
        this.aSeg = t;
        this.aOff = u;
        return;
      }
      if (u + len <= SEG_MAX) {
        // Grow the tail segment; offsets stay valid.
        const grown = new Uint8Array(Math.min(SEG_MAX, nextPow2(Math.max(u + len, seg.length * 2))));
        grown.set(seg.subarray(0, u));
        this.segs[t] = grown;
        this.used[t] = u + len;
        this.aSeg = t;
        this.aOff = u;
        return;
      }
    }
    // After a full-size tail the column is big: the next segment starts full size too, instead of growing there
    // from 512 KiB by copies (3.5 MiB copied per 4 MiB of a database's string values). Its untouched pages cost no RSS.
    const first = t < 0 ? FIRST_SEGMENT : this.segs[t]!.length >= SEG_MAX ? SEG_MAX : SEG_MAX / 8;
    const s = this.newSegment(nextPow2(Math.max(len, first)));
    this.tail = s;
    this.used[s] = len;
    this.aSeg = s;
    this.aOff = 0;
  }

  /** Compacts when garbage passes half the live bytes (a third of what the segments hold). */
  private settle(): void {
    if (this.garbage > GARBAGE_FLOOR && this.garbage * 2 > this.live) this.compact();
  }

  /**
   * Moves the elements of the segments with at least the average share of garbage into fresh segments and drops
   * those segments (there is always one, so every compaction reclaims at least a third of what it moves).
   */
  private compact(): void {
    const sparse: boolean[] = [];
    const share = this.garbage / (this.garbage + this.live);
    let moving = 0;
    for (let s = 0; s < this.segs.length; s++) {
      const seg = this.segs[s];
      const dead = this.used[s] - this.liveIn[s];
      const isSparse = seg !== null && dead > 0 && dead >= share * this.used[s];
      sparse.push(isSparse);
      if (isSparse) moving += this.liveIn[s];
    }
    this.tail = -1;
    if (moving > 0) this.tail = this.newSegment(Math.min(SEG_MAX, nextPow2(moving)));
    const end = (this.head + this.n) * 3;
    for (let m = this.head * 3; m < end; m += 3) {
      const len = this.meta[m + 2];
      if (len === 0) continue;
      const s = this.meta[m];
      if (!sparse[s]) continue;
      const off = this.meta[m + 1];
      const src = this.segs[s]!;
      this.alloc(len);
      this.segs[this.aSeg]!.set(src.subarray(off, off + len), this.aOff);
      this.meta[m] = this.aSeg;
      this.meta[m + 1] = this.aOff;
      this.liveIn[this.aSeg] += len;
      this.liveIn[s] -= len;
    }
    for (let s = 0; s < sparse.length; s++) if (sparse[s]) this.dropSegment(s);
    let garbage = 0;
    for (let s = 0; s < this.segs.length; s++) if (this.segs[s] !== null) garbage += this.used[s] - this.liveIn[s];
    this.garbage = garbage;
  }

  private relayout(newHead: number, newCap: number): void {
    const from = this.head * 3;
    const to = (this.head + this.n) * 3;
    if (newCap * 3 === this.meta.length) this.meta.copyWithin(newHead * 3, from, to);
    else {
      const meta = new Int32Array(newCap * 3);
      meta.set(this.meta.subarray(from, to), newHead * 3);
      this.meta = meta;
    }
    this.head = newHead;
  }

  private reserveBack(k: number): void {
    const cap = this.meta.length / 3;
    const need = this.n + k;
    if (this.head + need <= cap) return;
    if (need * 2 <= cap) this.relayout(0, cap);
    else {
      const newCap = Math.max(4, need * 2);
      this.relayout(Math.min(this.head, (newCap - need) >> 1), newCap);
    }
  }

  private reserveFront(k: number): void {
    if (this.head >= k) return;
    const cap = this.meta.length / 3;
    const need = this.n + k;
    const newCap = need * 2 <= cap ? cap : Math.max(4, need * 2);
    this.relayout((newCap - this.n + k) >> 1, newCap);
  }
}

/** FNV-1a with a final mix, over b[off, off + len). */
export function hashRange(b: Uint8Array, off: number, len: number): number {
  let h = 0x811c9dc5;
  for (let i = off; i < off + len; i++) h = Math.imul(h ^ b[i], 0x01000193);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return (h ^ (h >>> 12)) | 0;
}

export function hashBytes(b: Uint8Array): number {
  return hashRange(b, 0, b.length);
}
