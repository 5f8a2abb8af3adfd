// Duplicate-member detection for one collection at a time, without holding its members.

/**
 * An open-addressing table of two independent 32-bit hashes per member (8 bytes each). A false "duplicate" needs a
 * 64-bit collision (about n^2 / 2^65: 3e-8 for a million members). Beyond `max` members it gives up (reports no
 * duplicates). One instance serves collection after collection ({@link reset}): its table is kept and only the part
 * an earlier collection may have written is cleared, so the many small collections of a file cost no allocation.
 * Integers hash as their decimal text, so an integer entry and a string entry with the same digits collide.
 */
/**
 * Members per slot at most: a table is sized for the member count the file claims at this load (not the next power
 * of two at half of it), and grows by doubling only when more members arrive. Linear probing at 0.7 takes ~6 probes
 * to find a free slot, in one or two cache lines.
 */
const LOAD = 0.7;
/**
 * Slots of the largest table sized at once from a claimed count (2^24 slots: 128 MiB of address space, whose pages
 * cost memory only as members fill them: a count field that lies costs no RSS); beyond, the table grows as members
 * arrive. Sizing at once matters for memory, not only time: growing a table holds the old one beside the new
 * (a 4M-member set: 32 + 64 MiB at 0.5 load with power-of-two sizes, against 46 MiB sized once at 0.7).
 */
const PRESIZE_CAP = 1 << 24;
/** Members {@link DupCheck.queueRange} holds before {@link DupCheck.flush} must run. */
export const DUP_QUEUE = 64;
const QUEUE = DUP_QUEUE;

/**
 * A zeroed table of `n` words. One of 1 MiB or more gets at least 33 MiB (untouched pages cost nothing): glibc maps
 * such a block on its own and unmaps it when freed, while freeing a smaller mapped block raises malloc's mmap
 * threshold to its size, and every buffer under it then comes from the heap, which keeps its freed memory.
 */
function table(n: number): Uint32Array<ArrayBuffer> {
  return n * 4 >= 1 << 20 ? new Uint32Array(new ArrayBuffer(Math.max(n * 4, 33 << 20)), 0, n) : new Uint32Array(n);
}

/** The home slot of a member whose first hash is `h` in a table of `cap` slots (any size: h * cap / 2^32, rounded down). */
function slotOf(h: number, cap: number): number {
  return Math.floor(h * cap * 2.3283064365386963e-10);
}

export class DupCheck {
  private t = new Uint32Array(32);
  private active = false;
  private cap = 16;
  private size = 0;
  private readonly max: number;
  private readonly digits = new Uint8Array(24);
  /** Words of `t` that may be non-zero (from index 0): what a reset must clear. */
  private dirty = 0;
  /** Members queued by {@link queueRange}: their hash pairs, inserted in order by {@link flush}. */
  private readonly pend = new Uint32Array(2 * QUEUE);
  private npend = 0;

  constructor(max: number) {
    this.max = max;
  }

  /** Starts a new collection of (at most, as the file claims) `expected` members. */
  reset(expected: number): void {
    this.size = 0;
    this.npend = 0;
    this.active = expected > 1 && expected <= this.max;
    if (!this.active) return;
    const want = Math.max(16, Math.ceil(expected / LOAD));
    // The table of a huge collection is kept for the ones after it: dropped, it would stay mapped until a garbage
    // collection, and the next huge collection's table would then be mapped beside it (peak RSS +16 MiB measured
    // on the bench RDB, whose huge set, hash and sorted set come one after another with small keys between).
    // sized for the claimed count at once (no rehash as members arrive), but a length field can lie: beyond
    // PRESIZE_CAP slots the table grows as members arrive, unless it already holds the room
    const room = this.t.length >>> 1;
    const cap = Math.min(want, Math.max(PRESIZE_CAP, room));
    if (cap * 2 > this.t.length) {
      this.t = table(cap * 2);
      this.dirty = 0;
    }
    // only the words an earlier collection may have written need clearing (the rest was never touched: a big
    // table's untouched pages cost no memory, and clearing them would map them)
    const used = cap * 2;
    if (this.dirty > 0) this.t.fill(0, 0, Math.min(used, this.dirty));
    this.dirty = Math.max(this.dirty, used);
    this.cap = cap;
  }

  /** True when `b[s..e)` was seen before in this collection (else remembers it). */
  seenRange(b: Uint8Array, s: number, e: number): boolean {
    if (!this.active) return false;
    let h1 = 0x811c9dc5;
    let h2 = 0x9747b28c;
    for (let i = s; i < e; i++) {
      const c = b[i];
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    return this.insert(h1 >>> 0, (h2 ^ (h2 >>> 13)) >>> 0);
  }

  /**
   * Queues `b[s..e)` to be checked by the next {@link flush} (members of one collection, in their order, the same
   * verdicts as {@link seenRange} one by one).
   * Hashing a run of members first and probing the table for them after, in a tight loop, lets the processor
   * overlap the cache misses of a big table's probes (one each), which {@link seenRange} takes one after another.
   * Returns how many members are queued now (0: the check is off for this collection, nothing was queued); at
   * {@link DUP_QUEUE}, flush.
   */
  queueRange(b: Uint8Array, s: number, e: number): number {
    if (!this.active) return 0;
    let h1 = 0x811c9dc5;
    let h2 = 0x9747b28c;
    for (let i = s; i < e; i++) {
      const c = b[i];
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    const k = this.npend++ * 2;
    this.pend[k] = h1 >>> 0;
    this.pend[k + 1] = (h2 ^ (h2 >>> 13)) >>> 0;
    return this.npend;
  }

  /** Checks the queued members in order and empties the queue: the index of the first seen before, or -1. */
  flush(): number {
    const n = this.npend;
    this.npend = 0;
    const p = this.pend;
    for (let j = 0; j < n; j++) {
      // past `max` members the check is off (as seenRange's), and the table has no room left for more
      if (!this.active) return -1;
      if (this.insert(p[2 * j], p[2 * j + 1])) return j;
    }
    return -1;
  }

  /** True when the decimal text of `v` was seen before in this collection (else remembers it). */
  seenInt(v: number | bigint): boolean {
    if (!this.active) return false;
    const d = this.digits;
    let i = d.length;
    if (typeof v === 'number' && Number.isSafeInteger(v)) {
      let n = v < 0 ? -v : v;
      do {
        d[--i] = 0x30 + (n % 10);
        n = Math.floor(n / 10);
      } while (n > 0);
      if (v < 0) d[--i] = 0x2d;
    } else {
      const str = String(v);
      for (let k = str.length - 1; k >= 0; k--) d[--i] = str.charCodeAt(k);
    }
    return this.seenRange(d, i, d.length);
  }

  /** {@link seenRange} or {@link seenInt}, for a decoded packed entry. */
  seen(e: Uint8Array | number | bigint): boolean {
    return e instanceof Uint8Array ? this.seenRange(e, 0, e.length) : this.seenInt(e);
  }

  private insert(h1: number, h2: number): boolean {
    if (h1 === 0 && h2 === 0) h2 = 1;
    const t = this.t;
    const cap = this.cap;
    let i = slotOf(h1, cap);
    for (;;) {
      const a = t[2 * i];
      const b = t[2 * i + 1];
      if (a === 0 && b === 0) {
        t[2 * i] = h1;
        t[2 * i + 1] = h2;
        if (++this.size > cap * LOAD) this.grow();
        return false;
      }
      if (a === h1 && b === h2) return true;
      if (++i === cap) i = 0;
    }
  }

  private grow(): void {
    if (this.size >= this.max) {
      this.active = false;
      return;
    }
    const oldCap = this.cap;
    const old = this.t;
    this.cap *= 2;
    const cap = this.cap;
    const t = table(cap * 2);
    for (let k = 0; k < oldCap * 2; k += 2) {
      const a = old[k];
      const b = old[k + 1];
      if (a === 0 && b === 0) continue;
      let i = slotOf(a, cap);
      while (t[2 * i] !== 0 || t[2 * i + 1] !== 0) if (++i === cap) i = 0;
      t[2 * i] = a;
      t[2 * i + 1] = b;
    }
    this.t = t;
    this.dirty = this.cap * 2;
  }
}
