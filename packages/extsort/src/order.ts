// The in-memory sort of a ByteSorter's items: by key bytes, ties in input order, without a comparator call per
// pair. Each item gets a 64-bit word: the next few key bytes as base-257 digits (byte + 1, or 0 where the key has
// ended) above the item's index; V8's native sort of a BigUint64Array (no comparator, no BigInt made: the words
// are written through a Uint32Array view) orders them. Items whose digits tie are refined by the same step at the
// next key bytes (after skipping what they all share), small groups by insertion sort on the bytes. Equal keys
// keep their input order: the index is the lowest part of the word.

/** Groups up to this size are finished by insertion sort on the bytes. */
const SMALL = 16;

/** The item store the sort reads: item `i` has its key at `keyBytes(i)`. */
export interface KeyedItems {
  /** Number of items. */
  readonly n: number;
  /** Buffer of item `i`'s key and where it starts and ends (set in `at`: [buffer index, start, length]). */
  locate(i: number, at: Int32Array): Uint8Array;
}

/** Words of at least this many bytes come from their own mapping (see byte-sorter's MAPPED_MIN). */
export type WordArrayAlloc = (bytes: number) => ArrayBuffer;

function lessBytes(a: Uint8Array, as: number, al: number, b: Uint8Array, bs: number, bl: number): number {
  const n = al < bl ? al : bl;
  for (let i = 0; i < n; i++) {
    const d = a[as + i]! - b[bs + i]!;
    if (d !== 0) return d;
  }
  return al - bl;
}

/**
 * The item indexes 0..n-1 in key order (ties by index), as a Uint32Array view of the one scratch buffer
 * (8 bytes per item) taken from `alloc`.
 */
export function sortItemOrder(items: KeyedItems, alloc: WordArrayAlloc): Uint32Array {
  const n = items.n;
  const buf = alloc(Math.max(8, n * 8));
  const w = new Uint32Array(buf, 0, 2 * n);
  if (n < 2) {
    if (n === 1) w[0] = 0;
    return new Uint32Array(buf, 0, n);
  }
  const words = new BigUint64Array(buf, 0, n);
  const idxBits = 32 - Math.clz32(n - 1);
  if (idxBits > 31) throw new RangeError('too many items to sort at once');
  const idxMask = idxBits === 31 ? 0x7fffffff : (1 << idxBits) - 1;
  const loScale = 2 ** (32 - idxBits);
  const idxScale = 2 ** idxBits;
  // base-257 digits that fit above the index (and in a double: at most 6)
  let digits = 0;
  for (let v = 257; v <= 2 ** (64 - idxBits) && digits < 6; v *= 257) digits++;
  for (let i = 0; i < n; i++) {
    w[2 * i] = i;
    w[2 * i + 1] = 0;
  }
  const at = new Int32Array(3);
  const bt = new Int32Array(3);
  // ranges still to order: lo, hi, depth (key bytes already known equal within the range)
  const stack: number[] = [0, n, 0];
  while (stack.length > 0) {
    const d0 = stack.pop()!;
    const hi = stack.pop()!;
    const lo = stack.pop()!;
    if (hi - lo <= SMALL) {
      // insertion sort on the bytes from d0 (all equal before), ties by index
      for (let i = lo + 1; i < hi; i++) {
        const v = w[2 * i]! & idxMask;
        const vb = items.locate(v, at);
        const vs = at[1]! + d0;
        const vl = at[2]! - d0;
        let j = i - 1;
        for (; j >= lo; j--) {
          const u = w[2 * j]! & idxMask;
          const ub = items.locate(u, bt);
          const c = lessBytes(vb, vs, vl, ub, bt[1]! + d0, bt[2]! - d0);
          if (c > 0 || (c === 0 && v > u)) break;
          w[2 * (j + 1)] = w[2 * j]!;
        }
        w[2 * (j + 1)] = v;
      }
      continue;
    }
    // bytes the whole range shares from d0 are skipped
    const fb = items.locate(w[2 * lo]! & idxMask, at);
    const fs = at[1]!;
    let common = at[2]! - d0;
    for (let i = lo + 1; i < hi && common > 0; i++) {
      const b = items.locate(w[2 * i]! & idxMask, bt);
      const bs = bt[1]! + d0;
      const lim = Math.min(common, bt[2]! - d0);
      let k = 0;
      while (k < lim && b[bs + k] === fb[fs + d0 + k]) k++;
      common = k;
    }
    const d = d0 + common;
    for (let i = lo; i < hi; i++) {
      const idx = w[2 * i]! & idxMask;
      const b = items.locate(idx, at);
      const s = at[1]! + d;
      const left = at[2]! - d;
      let p = 0;
      for (let t = 0; t < digits; t++) p = p * 257 + (t < left ? b[s + t]! + 1 : 0);
      w[2 * i + 1] = Math.floor(p / loScale);
      w[2 * i] = (p % loScale) * idxScale + idx;
    }
    words.subarray(lo, hi).sort();
    // runs of equal digits: keys that went on past them are ordered by the next bytes
    let g = lo;
    while (g < hi) {
      const h0 = w[2 * g + 1]!;
      const l0 = w[2 * g]! >>> idxBits;
      let e = g + 1;
      while (e < hi && w[2 * e + 1] === h0 && w[2 * e]! >>> idxBits === l0) e++;
      // a last digit of 0: every key of the run ended within these digits, so they are equal (index order)
      if (e - g > 1 && (h0 * loScale + l0) % 257 !== 0) stack.push(g, e, d + digits);
      g = e;
    }
  }
  const out = new Uint32Array(buf, 0, n);
  for (let i = 0; i < n; i++) out[i] = w[2 * i]! & idxMask;
  return out;
}
