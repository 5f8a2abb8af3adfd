// PackedMap: a hash map keyed by byte strings whose keys (and byte values) live in ByteColumns, with optional
// parallel columns: a float64 per entry (zset score, hash field TTL, key expiry), a type tag and a JS object
// (the keyspace's collections). Entries are dense, 0..size-1; deleting one moves the last entry into its place, so
// indexes are only stable until the next deletion. Maps of up to 8 entries are searched linearly; larger ones
// through an open-addressing table (linear probing, backward-shift deletion) of entry indexes.
import { ByteColumn, EMPTY, hashBytes } from './column.js';

const LINEAR_MAX = 8;

export interface PackedMapOptions {
  values?: boolean;
  numbers?: boolean;
  tags?: boolean;
  objects?: boolean;
}

function growF64(a: Float64Array, need: number, fill: number): Float64Array {
  if (need <= a.length) return a;
  const b = new Float64Array(Math.max(4, need * 2));
  b.set(a);
  if (fill !== 0) b.fill(fill, a.length);
  return b;
}

function growI32(a: Int32Array, need: number): Int32Array {
  if (need <= a.length) return a;
  const b = new Int32Array(Math.max(4, need * 2));
  b.set(a);
  return b;
}

function growU8(a: Uint8Array, need: number): Uint8Array {
  if (need <= a.length) return a;
  const b = new Uint8Array(Math.max(4, need * 2));
  b.set(a);
  return b;
}

export class PackedMap<O = unknown> {
  readonly keys: ByteColumn;
  readonly vals: ByteColumn | null;
  /** One float64 per entry (NaN where unset), when created with `numbers` (or after `enableNumbers`). */
  nums: Float64Array | null;
  tags: Uint8Array | null;
  objs: (O | undefined)[] | null;
  private hashes: Int32Array | null = null;
  /** Slot -> index + 1 (0 = empty); null while the map is searched linearly. */
  private table: Int32Array | null = null;
  private mask = 0;
  /** Set by add(): whether the last add created the entry. */
  added = false;

  /** `bytes`: about how many bytes keys (and values) will take, to size their first segments. */
  constructor(options: PackedMapOptions = {}, capacity = 0, bytes = 0) {
    const share = options.values ? bytes >> 1 : bytes;
    this.keys = new ByteColumn(Math.max(2, capacity), share);
    this.vals = options.values ? new ByteColumn(Math.max(2, capacity), share) : null;
    this.nums = options.numbers ? new Float64Array(Math.max(2, capacity)).fill(NaN) : null;
    this.tags = options.tags ? new Uint8Array(Math.max(2, capacity)) : null;
    this.objs = options.objects ? [] : null;
    if (capacity > LINEAR_MAX) this.buildTable(capacity);
  }

  get size(): number {
    return this.keys.length;
  }

  /** Adds a float64 column (filled with NaN) to a map created without one. */
  enableNumbers(): Float64Array {
    if (this.nums === null) this.nums = new Float64Array(Math.max(2, this.size)).fill(NaN);
    return this.nums;
  }

  indexOf(key: Uint8Array): number {
    if (this.table === null) {
      const n = this.keys.length;
      for (let i = 0; i < n; i++) if (this.keys.equalsAt(i, key)) return i;
      return -1;
    }
    const s = this.slotOf(key, hashBytes(key));
    return s < 0 ? -1 : this.table[s] - 1;
  }

  has(key: Uint8Array): boolean {
    return this.indexOf(key) >= 0;
  }

  keyAt(i: number): Uint8Array {
    return this.keys.get(i);
  }

  /** The index of key, adding the entry when absent (`added` tells which). */
  add(key: Uint8Array): number {
    let h = 0;
    if (this.table !== null) {
      h = hashBytes(key);
      const s = this.slotOf(key, h);
      if (s >= 0) {
        this.added = false;
        return this.table[s] - 1;
      }
    } else {
      const i = this.indexOf(key);
      if (i >= 0) {
        this.added = false;
        return i;
      }
    }
    const i = this.keys.length;
    this.keys.push(key);
    this.vals?.push(EMPTY);
    if (this.nums !== null) {
      this.nums = growF64(this.nums, i + 1, NaN);
      this.nums[i] = NaN;
    }
    if (this.tags !== null) {
      this.tags = growU8(this.tags, i + 1);
      this.tags[i] = 0;
    }
    if (this.objs !== null) this.objs[i] = undefined;
    this.added = true;
    if (this.table !== null) {
      this.hashes = growI32(this.hashes!, i + 1);
      this.hashes[i] = h;
      if ((i + 1) * 2 > this.mask) this.buildTable(i + 1);
      else this.table[-1 - this.slotOf(key, h)] = i + 1;
    } else if (i + 1 > LINEAR_MAX) this.buildTable(i + 1);
    return i;
  }

  /** add(key), then sets its number (a score). Returns the index. */
  addNumber(key: Uint8Array, x: number): number {
    const i = this.add(key);
    this.nums![i] = x;
    return i;
  }

  /** Removes the entry at index i (the last entry takes its index). */
  deleteAt(i: number): void {
    const last = this.keys.length - 1;
    if (this.table !== null) {
      const table = this.table;
      let s = this.hashes![i] & this.mask;
      while (table[s] !== i + 1) s = (s + 1) & this.mask;
      this.clearSlot(s);
      if (i !== last) {
        let ls = this.hashes![last] & this.mask;
        while (table[ls] !== last + 1) ls = (ls + 1) & this.mask;
        table[ls] = i + 1;
        this.hashes![i] = this.hashes![last];
      }
    }
    this.keys.swapRemove(i);
    this.vals?.swapRemove(i);
    if (this.nums !== null) {
      this.nums[i] = this.nums[last];
      this.nums[last] = NaN;
    }
    if (this.tags !== null) this.tags[i] = this.tags[last];
    if (this.objs !== null) {
      this.objs[i] = this.objs[last];
      this.objs.length = last;
    }
  }

  /** Removes key; returns whether it was there. */
  delete(key: Uint8Array): boolean {
    const i = this.indexOf(key);
    if (i < 0) return false;
    this.deleteAt(i);
    return true;
  }

  /** Indexes sorted by key bytes. */
  sortedByKey(): number[] {
    const k = this.keys;
    return Array.from({ length: this.size }, (_, i) => i).sort((a, b) => k.compareItems(a, b));
  }

  private slotOf(key: Uint8Array, h: number): number {
    const table = this.table!;
    const hashes = this.hashes!;
    let s = h & this.mask;
    for (;;) {
      const i = table[s];
      if (i === 0) return -1 - s;
      if (hashes[i - 1] === h && this.keys.equalsAt(i - 1, key)) return s;
      s = (s + 1) & this.mask;
    }
  }

  private buildTable(count: number): void {
    let size = 16;
    while (size < count * 2 + 2) size *= 2;
    const table = new Int32Array(size);
    const mask = size - 1;
    let hashes = this.hashes;
    const n = this.keys.length;
    if (hashes === null) {
      hashes = new Int32Array(Math.max(4, n * 2));
      for (let i = 0; i < n; i++) hashes[i] = this.keys.hashAt(i);
      this.hashes = hashes;
    }
    for (let i = 0; i < n; i++) {
      let s = hashes[i] & mask;
      while (table[s] !== 0) s = (s + 1) & mask;
      table[s] = i + 1;
    }
    this.table = table;
    this.mask = mask;
  }

  private clearSlot(s: number): void {
    const table = this.table!;
    const hashes = this.hashes!;
    const mask = this.mask;
    let hole = s;
    let j = s;
    for (;;) {
      j = (j + 1) & mask;
      const i = table[j];
      if (i === 0) break;
      const home = hashes[i - 1] & mask;
      // Move j into the hole when its home lies cyclically outside (hole, j].
      const between = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!between) {
        table[hole] = i;
        hole = j;
      }
    }
    table[hole] = 0;
  }
}
