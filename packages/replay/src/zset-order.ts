// The rank order of a big sorted set, kept up to date so ZPOPMIN/ZPOPMAX/ZREMRANGEBYRANK on a zset of a million
// members cost O(log n + block) per member instead of a sort per command (a job queue fed by ZADD and drained by
// BZPOPMIN puts one pair of those in the AOF per job). Entry indexes of the PackedMap sit in sorted blocks of at
// most BLOCK (score, then member bytes); every change to the zset's members or scores goes through zsetPut /
// zsetDeleteAt, which keep the blocks in step, including PackedMap's swap of the last entry into a deleted slot.
import type { ZsetValue } from './model.js';

const BLOCK = 512;
/** Below this size a zset has no index: sorting it per command is cheap. */
export const ORDER_MIN_SIZE = 2048;

const indexes = new WeakMap<ZsetValue, OrderIndex>();

function cmp(z: ZsetValue, a: number, b: number): number {
  return z.nums![a] - z.nums![b] || z.keys.compareItems(a, b);
}

class OrderIndex {
  blocks: number[][] = [];

  constructor(private readonly z: ZsetValue) {
    const all = Array.from({ length: z.size }, (_, i) => i).sort((a, b) => cmp(z, a, b));
    for (let i = 0; i < all.length; i += BLOCK) this.blocks.push(all.slice(i, i + BLOCK));
  }

  /** Block and position of entry e (which must be in the index, with its current score). */
  private locate(e: number): [number, number] {
    const z = this.z;
    let lo = 0;
    let hi = this.blocks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const b = this.blocks[mid];
      if (cmp(z, b[b.length - 1], e) < 0) lo = mid + 1;
      else hi = mid;
    }
    const b = this.blocks[lo];
    let l = 0;
    let h = b.length - 1;
    while (l < h) {
      const mid = (l + h) >> 1;
      if (cmp(z, b[mid], e) < 0) l = mid + 1;
      else h = mid;
    }
    return [lo, l];
  }

  insert(e: number): void {
    const z = this.z;
    if (this.blocks.length === 0) {
      this.blocks.push([e]);
      return;
    }
    // The first block whose last member is >= e (or the last block).
    let lo = 0;
    let hi = this.blocks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const last = this.blocks[mid];
      if (cmp(z, last[last.length - 1], e) < 0) lo = mid + 1;
      else hi = mid;
    }
    const bi = lo;
    const b = this.blocks[bi];
    let l = 0;
    let h = b.length;
    while (l < h) {
      const mid = (l + h) >> 1;
      if (cmp(z, b[mid], e) < 0) l = mid + 1;
      else h = mid;
    }
    b.splice(l, 0, e);
    if (b.length > 2 * BLOCK) this.blocks.splice(bi + 1, 0, b.splice(BLOCK));
  }

  remove(e: number): void {
    const [bi, p] = this.locate(e);
    const b = this.blocks[bi];
    b.splice(p, 1);
    if (b.length === 0) this.blocks.splice(bi, 1);
  }

  /** Entry `from` is now entry `to` (PackedMap moved the last entry into a deleted slot). */
  rename(from: number, to: number): void {
    const [bi, p] = this.locate(from);
    this.blocks[bi][p] = to;
  }

  /** Entry indexes of ranks [start, end] (inclusive, clamped by the caller). */
  range(start: number, end: number): number[] {
    const out: number[] = [];
    let base = 0;
    for (const b of this.blocks) {
      if (base + b.length > start) {
        for (let i = Math.max(0, start - base); i < b.length && base + i <= end; i++) out.push(b[i]);
      }
      base += b.length;
      if (base > end) break;
    }
    return out;
  }

  all(): number[] {
    return this.blocks.flat();
  }
}

/** The index of z, built on first use once z is big enough; undefined for small zsets. */
function indexOf(z: ZsetValue, build: boolean): OrderIndex | undefined {
  let ix = indexes.get(z);
  if (ix === undefined && build && z.size >= ORDER_MIN_SIZE) indexes.set(z, (ix = new OrderIndex(z)));
  return ix;
}

/** Sets member's score (adding it when new). */
export function zsetPut(z: ZsetValue, member: Uint8Array, score: number): void {
  const ix = indexOf(z, false);
  let i = z.indexOf(member);
  if (i >= 0) {
    if (Object.is(z.nums![i], score)) return;
    ix?.remove(i);
  } else i = z.add(member);
  z.nums![i] = score;
  ix?.insert(i);
}

/** Deletes the entry at index i. */
export function zsetDeleteAt(z: ZsetValue, i: number): void {
  const ix = indexOf(z, false);
  const last = z.size - 1;
  if (ix === undefined) return z.deleteAt(i);
  ix.remove(i);
  if (i !== last) ix.rename(last, i);
  z.deleteAt(i);
  if (z.size < ORDER_MIN_SIZE / 2) indexes.delete(z);
}

export function zsetDelete(z: ZsetValue, member: Uint8Array): boolean {
  const i = z.indexOf(member);
  if (i < 0) return false;
  zsetDeleteAt(z, i);
  return true;
}

/** Entry indexes in rank order (score, then member bytes). */
export function zsetOrder(z: ZsetValue): number[] {
  const ix = indexOf(z, true);
  if (ix !== undefined) return ix.all();
  return Array.from({ length: z.size }, (_, i) => i).sort((a, b) => cmp(z, a, b));
}

/** Entry indexes of ranks [start, end] (already clamped to the zset). */
export function zsetRankRange(z: ZsetValue, start: number, end: number): number[] {
  if (start > end) return [];
  const ix = indexOf(z, true);
  if (ix !== undefined) return ix.range(start, end);
  return zsetOrder(z).slice(start, end + 1);
}
