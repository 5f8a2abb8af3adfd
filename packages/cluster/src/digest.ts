// A compact set of (db, key) digests for finding keys that two inputs share without holding the keys: an
// open-addressing table of 64-bit digests (two MurmurHash3 x86_32 of db+key with different seeds) and, beside
// each, the index of the input that holds the key. 10 bytes per slot, at most 70% full: about 14 bytes per key.
// Two different keys look the same with probability about n^2 / 2^65 (5e-6 for 10 million keys).

function murmur3(seed: number, db: number, key: Uint8Array): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = seed >>> 0;
  const mixK = (k: number) => {
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    return Math.imul(k, c2);
  };
  const mixH = (k: number) => {
    h ^= mixK(k);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  };
  mixH(db | 0);
  const n = key.length;
  const full = n & ~3;
  for (let i = 0; i < full; i += 4) mixH(key[i] | (key[i + 1] << 8) | (key[i + 2] << 16) | (key[i + 3] << 24));
  const rest = n & 3;
  if (rest > 0) {
    let k = key[full];
    if (rest > 1) k ^= key[full + 1] << 8;
    if (rest > 2) k ^= key[full + 2] << 16;
    h ^= mixK(k);
  }
  h ^= n + 4;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A compact set of 64-bit key digests with the input that owns each, for duplicate checks while merging. */
export class KeyDigestSet {
  private hi: Uint32Array;
  private lo: Uint32Array;
  private owner: Uint16Array;
  private mask: number;
  /** Keys held. */
  size = 0;

  constructor(initialSlots = 1 << 16) {
    let cap = 1024;
    while (cap < initialSlots) cap *= 2;
    this.hi = new Uint32Array(cap);
    this.lo = new Uint32Array(cap);
    this.owner = new Uint16Array(cap);
    this.mask = cap - 1;
  }

  /** Bytes of memory the table takes. */
  get memory(): number {
    return this.hi.byteLength + this.lo.byteLength + this.owner.byteLength;
  }

  /**
   * Adds the key for input `input` (0-65535), or, when it is there already, leaves it and returns the input that
   * added it first; -1 when it was new.
   */
  add(db: number, key: Uint8Array, input: number): number {
    let a = murmur3(0x9747b28c, db, key);
    const b = murmur3(0x5bd1e995, db, key);
    if (a === 0 && b === 0) a = 1;
    let i = b & this.mask;
    for (;;) {
      const x = this.hi[i];
      const y = this.lo[i];
      if (x === 0 && y === 0) break;
      if (x === a && y === b) return this.owner[i];
      i = (i + 1) & this.mask;
    }
    this.hi[i] = a;
    this.lo[i] = b;
    this.owner[i] = input;
    if (++this.size * 10 > (this.mask + 1) * 7) this.grow();
    return -1;
  }

  private grow(): void {
    const { hi, lo, owner } = this;
    const cap = (this.mask + 1) * 2;
    this.hi = new Uint32Array(cap);
    this.lo = new Uint32Array(cap);
    this.owner = new Uint16Array(cap);
    this.mask = cap - 1;
    for (let k = 0; k < hi.length; k++) {
      const a = hi[k];
      const b = lo[k];
      if (a === 0 && b === 0) continue;
      let i = b & this.mask;
      while (this.hi[i] !== 0 || this.lo[i] !== 0) i = (i + 1) & this.mask;
      this.hi[i] = a;
      this.lo[i] = b;
      this.owner[i] = owner[k];
    }
  }
}
