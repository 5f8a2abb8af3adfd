// Bounded-memory summaries for `report`: a quantile sketch (log buckets, relative error ≤ 1 %), a top-N heap and a
// Space-Saving table of heavy hitters with per-entry error bounds.

/** Relative error of {@link QuantileSketch} above its exact range. */
export const SKETCH_RELATIVE_ERROR = 0.01;
const EXACT_BELOW = 1024;
const GAMMA = (1 + SKETCH_RELATIVE_ERROR) / (1 - SKETCH_RELATIVE_ERROR);
const LOG_GAMMA = Math.log(GAMMA);

/**
 * Quantiles of non-negative integers in bounded memory: an exact count per value below 1024, above that log buckets
 * of ratio γ = 1.01/0.99 (DDSketch's mapping), each answered by the value 2γ^i/(γ+1) within 1 % of every value in
 * it. A quantile is the nearest-rank one (the value at rank ⌈q·n⌉ of the sorted values), exact below 1024, within 1 %
 * relative error above. About 1,100 buckets cover values up to 2^53.
 */
export class QuantileSketch {
  private readonly small = new Float64Array(EXACT_BELOW);
  private readonly big = new Map<number, number>();
  count = 0;
  min = Infinity;
  max = -Infinity;

  /** Adds a value (negative values count as 0). */
  add(value: number): void {
    const v = value < 0 ? 0 : value;
    this.count++;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    if (v < EXACT_BELOW) this.small[Math.floor(v)]! += 1;
    else {
      const i = Math.ceil(Math.log(v) / LOG_GAMMA);
      this.big.set(i, (this.big.get(i) ?? 0) + 1);
    }
  }

  /** The nearest-rank q-quantile (0 < q ≤ 1); null when empty. */
  quantile(q: number): number | null {
    if (this.count === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let v = 0; v < EXACT_BELOW; v++) {
      seen += this.small[v]!;
      if (seen >= rank) return v;
    }
    const keys = [...this.big.keys()].sort((a, b) => a - b);
    for (const i of keys) {
      seen += this.big.get(i)!;
      if (seen >= rank) {
        const est = Math.round((2 * GAMMA ** i) / (GAMMA + 1));
        // the true extremes are known exactly: never answer outside them
        return Math.min(this.max, Math.max(this.min, est));
      }
    }
    return this.max;
  }
}

/** The N largest items by a score, in O(N) memory (a min-heap whose root is the smallest kept). */
export class TopN<T> {
  private readonly heap: { score: number; seq: number; item: T }[] = [];
  private seq = 0;
  constructor(readonly n: number) {}

  /** Whether an item of this score would be kept (call before building the item, to avoid allocating it). */
  wouldKeep(score: number): boolean {
    return this.n > 0 && (this.heap.length < this.n || score > this.heap[0]!.score);
  }

  /** Keeps the item if its score is among the `n` highest so far. */
  offer(score: number, item: T): void {
    if (!this.wouldKeep(score)) return;
    const e = { score, seq: this.seq++, item };
    const h = this.heap;
    if (h.length < this.n) {
      h.push(e);
      let i = h.length - 1;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!less(h[i]!, h[p]!)) break;
        [h[i], h[p]] = [h[p]!, h[i]!];
        i = p;
      }
    } else {
      h[0] = e;
      siftDown(h, 0, less);
    }
  }

  /** Largest first; equal scores in arrival order. */
  sorted(): T[] {
    return [...this.heap].sort((a, b) => b.score - a.score || a.seq - b.seq).map((e) => e.item);
  }
}

function less(a: { score: number; seq: number }, b: { score: number; seq: number }): boolean {
  // the later of two equal scores is "smaller": it is evicted first, so ties keep the first seen
  return a.score < b.score || (a.score === b.score && a.seq > b.seq);
}

function siftDown<E>(h: E[], i: number, lt: (a: E, b: E) => boolean): void {
  const n = h.length;
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < n && lt(h[l]!, h[m]!)) m = l;
    if (r < n && lt(h[r]!, h[m]!)) m = r;
    if (m === i) return;
    [h[i], h[m]] = [h[m]!, h[i]!];
    i = m;
  }
}

/** A counted item of {@link HeavyHitters}: estimates are upper bounds, `err*` how much they may exceed the truth. */
export interface HeavyHitter {
  readonly id: string;
  /** The primary weight (memory in `report`): true ≤ weight ≤ true + errWeight. */
  weight: number;
  errWeight: number;
  /** Secondary counts (keys, keys without TTL), carried over the same way: true ≤ count ≤ true + err. */
  a: number;
  errA: number;
  b: number;
  errB: number;
  /** Position in the heap (internal). */
  pos: number;
}

/**
 * Counts per id, exact while at most `capacity` ids have been seen; past that a Space-Saving summary of `capacity`
 * entries (Metwally et al.; weighted form): a new id takes the place of the entry of least weight and inherits its
 * weight as its error. For every entry kept, the true weight lies in [weight − errWeight, weight], and errWeight ≤
 * total weight / capacity (the entries' weights sum to the total, so the least is at most that); every id of true
 * weight above that bound is kept. The secondary counts `a`, `b` (not what decides evictions) start a newcomer at the
 * largest count ever evicted (its past can be no more), so each kept entry's true count also lies in
 * [count − err, count], with err ≤ maxEvictedA / maxEvictedB.
 */
export class HeavyHitters {
  private readonly map = new Map<string, HeavyHitter>();
  private heap: HeavyHitter[] | null = null;
  /** The largest errWeight handed out (0 while exact). */
  maxErrWeight = 0;
  evictions = 0;
  totalWeight = 0;
  /** The largest secondary counts of an evicted entry: the error given to the secondary counts of a newcomer. */
  maxEvictedA = 0;
  maxEvictedB = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError('capacity must be at least 1');
  }

  get exact(): boolean {
    return this.heap === null;
  }

  get size(): number {
    return this.map.size;
  }

  /** Adds `weight` (and the secondary counts `a`, `b`) to an entry, evicting the lightest when full (Space-Saving). */
  add(id: string, weight: number, a: number, b: number): void {
    this.totalWeight += weight;
    let e = this.map.get(id);
    if (e !== undefined) {
      e.weight += weight;
      e.a += a;
      e.b += b;
      if (this.heap !== null) siftDownHH(this.heap, e.pos);
      return;
    }
    if (this.map.size < this.capacity) {
      e = { id, weight, errWeight: 0, a, errA: 0, b, errB: 0, pos: -1 };
      this.map.set(id, e);
      return;
    }
    if (this.heap === null) this.buildHeap();
    const h = this.heap!;
    const min = h[0]!;
    this.map.delete(min.id);
    this.evictions++;
    // an id seen before had, over all its past, at most what its estimate was when it was last evicted: for the
    // weight that is at most the least weight now (the minimum only grows); for the secondary counts (not what the
    // heap orders by) at most the largest count ever evicted
    if (min.a > this.maxEvictedA) this.maxEvictedA = min.a;
    if (min.b > this.maxEvictedB) this.maxEvictedB = min.b;
    e = {
      id,
      weight: min.weight + weight,
      errWeight: min.weight,
      a: this.maxEvictedA + a,
      errA: this.maxEvictedA,
      b: this.maxEvictedB + b,
      errB: this.maxEvictedB,
      pos: 0,
    };
    if (min.weight > this.maxErrWeight) this.maxErrWeight = min.weight;
    h[0] = e;
    this.map.set(id, e);
    siftDownHH(h, 0);
  }

  private buildHeap(): void {
    const h = [...this.map.values()];
    for (let i = 0; i < h.length; i++) h[i]!.pos = i;
    for (let i = (h.length >> 1) - 1; i >= 0; i--) siftDownHH(h, i);
    this.heap = h;
  }

  /** The entries held (exact while no eviction happened). */
  entries(): IterableIterator<HeavyHitter> {
    return this.map.values();
  }

  /** The entry of `id`, if it is held. */
  get(id: string): HeavyHitter | undefined {
    return this.map.get(id);
  }
}

function siftDownHH(h: HeavyHitter[], i: number): void {
  const n = h.length;
  const e = h[i]!;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) break;
    const r = l + 1;
    const c = r < n && h[r]!.weight < h[l]!.weight ? r : l;
    if (h[c]!.weight >= e.weight) break;
    h[i] = h[c]!;
    h[i]!.pos = i;
    i = c;
  }
  h[i] = e;
  e.pos = i;
}
