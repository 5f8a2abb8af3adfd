// A hash map keyed by byte strings, without a JS string per key: keys and values sit in dense arrays, an
// open-addressing table (linear probing, backward-shift deletion) of indexes finds them. Iteration order is
// insertion order until a deletion moves the last entry into the hole (callers sort when order matters). Used for
// the few small maps that hold JS objects (stream groups, consumers).
import { bytesEqual } from '@redis-persist/bytes';
import { hashBytes } from './column.js';

export class BytesMap<V> {
  keys: Uint8Array[] = [];
  values: V[] = [];
  private hashes: number[] = [];
  /** Slot -> index + 1 (0 = empty). */
  private table = new Int32Array(8);
  private mask = 7;

  get size(): number {
    return this.keys.length;
  }

  private slotOf(key: Uint8Array, h: number): number {
    let s = h & this.mask;
    for (;;) {
      const i = this.table[s];
      if (i === 0) return -1 - s;
      if (this.hashes[i - 1] === h && bytesEqual(this.keys[i - 1], key)) return s;
      s = (s + 1) & this.mask;
    }
  }

  /** Index of `key` in keys/values, or -1. */
  indexOf(key: Uint8Array): number {
    const s = this.slotOf(key, hashBytes(key));
    return s < 0 ? -1 : this.table[s] - 1;
  }

  has(key: Uint8Array): boolean {
    return this.indexOf(key) >= 0;
  }

  get(key: Uint8Array): V | undefined {
    const i = this.indexOf(key);
    return i < 0 ? undefined : this.values[i];
  }

  /** Sets the value; returns true when the key is new. */
  set(key: Uint8Array, value: V): boolean {
    const h = hashBytes(key);
    const s = this.slotOf(key, h);
    if (s >= 0) {
      this.values[this.table[s] - 1] = value;
      return false;
    }
    this.keys.push(key);
    this.values.push(value);
    this.hashes.push(h);
    this.table[-1 - s] = this.keys.length;
    if (this.keys.length * 2 > this.mask) this.grow();
    return true;
  }

  private grow(): void {
    const size = (this.mask + 1) * 2;
    this.table = new Int32Array(size);
    this.mask = size - 1;
    for (let i = 0; i < this.hashes.length; i++) {
      let s = this.hashes[i] & this.mask;
      while (this.table[s] !== 0) s = (s + 1) & this.mask;
      this.table[s] = i + 1;
    }
  }

  /** Removes the key; returns its value, or undefined when absent. */
  delete(key: Uint8Array): V | undefined {
    const s = this.slotOf(key, hashBytes(key));
    if (s < 0) return undefined;
    const idx = this.table[s] - 1;
    const value = this.values[idx];
    this.clearSlot(s);
    const last = this.keys.length - 1;
    if (idx !== last) {
      // Move the last entry into the hole and repoint its slot.
      let ls = this.hashes[last] & this.mask;
      while (this.table[ls] !== last + 1) ls = (ls + 1) & this.mask;
      this.table[ls] = idx + 1;
      this.keys[idx] = this.keys[last];
      this.values[idx] = this.values[last];
      this.hashes[idx] = this.hashes[last];
    }
    this.keys.pop();
    this.values.pop();
    this.hashes.pop();
    return value;
  }

  private clearSlot(s: number): void {
    const mask = this.mask;
    let hole = s;
    let j = s;
    for (;;) {
      j = (j + 1) & mask;
      const i = this.table[j];
      if (i === 0) break;
      const home = this.hashes[i - 1] & mask;
      // Move j into the hole when its home lies cyclically outside (hole, j].
      const between = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!between) {
        this.table[hole] = i;
        hole = j;
      }
    }
    this.table[hole] = 0;
  }

  clear(): void {
    this.keys = [];
    this.values = [];
    this.hashes = [];
    this.table = new Int32Array(8);
    this.mask = 7;
  }
}
