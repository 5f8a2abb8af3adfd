// Duplicate detection over byte strings without a string per item: an open-addressing table of indices keyed by
// an FNV-1a hash of the bytes (the Set<string> of latin1 copies it replaces allocated a string per member).
import { bytesEqual } from '@redis-persist/bytes';

/**
 * The index of the first item equal to an earlier one (the first repeat, in array order), or -1 when all items are
 * distinct. Linear time; allocates two Int32Arrays of about twice the item count, nothing per item.
 */
export function firstRepeatIndex(items: readonly Uint8Array[]): number {
  const n = items.length;
  if (n < 2) return -1;
  let size = 16;
  while (size < n * 2) size *= 2;
  const mask = size - 1;
  // slots hold index + 1 (0: empty) and the item's hash beside it, compared before the bytes
  const slots = new Int32Array(size);
  const hashes = new Int32Array(size);
  for (let i = 0; i < n; i++) {
    const it = items[i]!;
    let h = 0x811c9dc5 | 0;
    for (let k = 0; k < it.length; k++) h = Math.imul(h ^ it[k]!, 0x01000193);
    let s = h & mask;
    for (;;) {
      const j = slots[s]!;
      if (j === 0) {
        slots[s] = i + 1;
        hashes[s] = h;
        break;
      }
      if (hashes[s] === h && bytesEqual(items[j - 1]!, it)) return i;
      s = (s + 1) & mask;
    }
  }
  return -1;
}
