// A key's set members, sorted-set members or hash fields and values, held by the direct transcoders (JSON Lines
// and RESP, canonical element order) while the parser walks the key: copied into one reused arena as (offset,
// length) pairs with their first 4 bytes and scores beside them, and sorted there into the canonical element order
// (canonicalizeRecord's: a set's by bytes, a hash's by field, a zset's by score then member) with no object per
// element.

/** Holds a key's strings and sorts them (see the module's comment). Reused from key to key ({@link reset}). */
export class HeldElements {
  /** The strings held (a hash: field, value, field...): string i is `arena[starts[i]..ends[i])`. */
  arena: Uint8Array = new Uint8Array(64 * 1024);
  starts: Int32Array = new Int32Array(1024);
  ends: Int32Array = new Int32Array(1024);
  /** A zset's scores, by string. */
  scores: Float64Array = new Float64Array(1024);
  /** Strings held. */
  items = 0;
  private used = 0;
  /** The first 4 bytes of each held string, big-endian (missing ones 0): most comparisons end there. */
  private prefix = new Uint32Array(1024);
  private order = new Uint32Array(1024);
  private scratch = new Uint32Array(1024);

  /** Forget what is held: a new key begins. */
  reset(): void {
    this.used = 0;
    this.items = 0;
  }

  /** Holds `b[s..e)`. */
  add(b: Uint8Array, s: number, e: number): void {
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

  /** The score of the string held last. */
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

  /**
   * The held elements in canonical order, as the indexes of their first strings in `[0, items / step)` of the
   * result (valid until the next sort): every string (`step` 1) or the first of each pair (`step` 2, a hash's
   * fields), by bytes, or (`byScore`) by score then bytes.
   */
  sorted(step: 1 | 2, byScore: boolean): Uint32Array {
    const count = this.items / step;
    if (this.order.length < count) this.order = new Uint32Array(Math.max(count, this.order.length * 2));
    const o = this.order;
    for (let i = 0; i < count; i++) o[i] = i * step;
    return this.sortOrder(count, byScore ? this.cmpZset : this.cmpBytes);
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

  /** Sorts `order[0..count)` with `cmp`: insertion sort for a few (no allocation), else a merge sort. */
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
}

/** The big-endian prefix of a string of fewer than 4 bytes, missing bytes 0. */
function shortPrefix(b: Uint8Array, s: number, e: number): number {
  let v = 0;
  for (let k = 0; k < 4; k++) v = v * 256 + (s + k < e ? b[s + k]! : 0);
  return v;
}

/**
 * The sort key of the key being visited, as the canonical writers' sort wants it (recordSortKey's form: 1, the db
 * as 4 big-endian bytes, the key bytes), in one reused buffer.
 */
export class SortKeyBuffer {
  private b = new Uint8Array(256);
  private n = 0;

  /** Makes the sort key of key `k[ks..ke)` of db `db`. */
  set(db: number, k: Uint8Array, ks: number, ke: number): void {
    const n = 5 + ke - ks;
    if (n > this.b.length) this.b = new Uint8Array(Math.max(n, this.b.length * 2));
    const sk = this.b;
    sk[0] = 1;
    sk[1] = db >>> 24;
    sk[2] = (db >>> 16) & 0xff;
    sk[3] = (db >>> 8) & 0xff;
    sk[4] = db & 0xff;
    if (n <= 64) for (let i = ks, p = 5; i < ke; i++) sk[p++] = k[i]!;
    else sk.set(k.subarray(ks, ke), 5);
    this.n = n;
  }

  /** The sort key last made: a view, valid until the next {@link set}. */
  view(): Uint8Array {
    return this.b.subarray(0, this.n);
  }
}
