// Compact tables for the checks Redis makes on a stream while loading it (stream node keys and group PEL entries
// must be unique, a consumer's PEL entry must be in its group's PEL and owned by no other consumer, consumer and
// group names must be unique), so that a group of millions of consumers and pending entries is checked in a few
// bytes per entry instead of a JS object each.
//
// Redis writes all of these in the order of its radix trees (IDs big-endian, names bytewise), so the tables first
// assume sorted input, where a new item is unique exactly when it is greater than the one before; out-of-order input
// (legal, if never written by Redis) switches them to hash tables.

/** Entries per block of a sorted {@link StreamIdTable} (the unit of a lookup's linear scan). */
const BLOCK = 32;
/** Arrays of 1 MiB and more get a mapping of their own, at least this big (see dup.ts `table`). */
const MAPPED_MIN = 33 << 20;

function bytesOf(n: number): Uint8Array<ArrayBuffer> {
  return n >= 1 << 20 ? new Uint8Array(Math.max(n, MAPPED_MIN)) : new Uint8Array(n);
}
function wordsOf(n: number): Uint32Array<ArrayBuffer> {
  return n * 4 >= 1 << 20 ? new Uint32Array(Math.max(n, MAPPED_MIN / 4)) : new Uint32Array(n);
}
function doublesOf(n: number): Float64Array<ArrayBuffer> {
  return n * 8 >= 1 << 20 ? new Float64Array(Math.max(n, MAPPED_MIN / 8)) : new Float64Array(n);
}

function be32(b: Uint8Array, p: number): number {
  return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
}

/** Unsigned comparison of two 128-bit IDs given as four 32-bit words, most significant first. */
function cmp4(a0: number, a1: number, a2: number, a3: number, b0: number, b1: number, b2: number, b3: number): number {
  if (a0 !== b0) return a0 < b0 ? -1 : 1;
  if (a1 !== b1) return a1 < b1 ? -1 : 1;
  if (a2 !== b2) return a2 < b2 ? -1 : 1;
  if (a3 !== b3) return a3 < b3 ? -1 : 1;
  return 0;
}

function hash4(w0: number, w1: number, w2: number, w3: number): number {
  let h = Math.imul(w0 ^ 0x2545f491, 0x9e3779b1);
  h = Math.imul(h ^ w1, 0x85ebca6b);
  h = Math.imul((h ^ (h >>> 15)) ^ w2, 0xc2b2ae35);
  h = Math.imul(h ^ w3, 0x27d4eb2f);
  return (h ^ (h >>> 16)) >>> 0;
}

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

/**
 * The IDs of a stream's node keys or of a consumer group's PEL, in the order added, each optionally with a delivery
 * time and count: `add` says whether an ID is new, `find` gives an ID's position (and its time and count), `own`
 * marks an entry as owned by a consumer. Sorted input (what Redis writes) is stored delta-encoded in blocks of
 * {@link BLOCK} (about 3 bytes per ID, 7 with times and counts; lookups binary-search the blocks); input out of order
 * moves it to a hash table of whole IDs (about 40 bytes per ID).
 */
export class StreamIdTable {
  private values = false;
  /** Entries added. */
  size = 0;
  // sorted form: the first ID of each block (4 words), the offset of each block's bytes, the bytes
  private sorted = true;
  private heads = new Uint32Array(4 * 16);
  private offs = new Uint32Array(16);
  private bytes = new Uint8Array(256);
  private used = 0;
  private l0 = 0;
  private l1 = 0;
  private l2 = 0;
  private l3 = 0;
  private lastTime = 0;
  // hash form: the IDs (4 words each), times and counts by position; slots hold position + 1 (0 = empty)
  private ids: Uint32Array | null = null;
  private slots: Uint32Array | null = null;
  private cap = 0;
  private times: Float64Array | null = null;
  private counts: Float64Array | null = null;
  // owned entries, one bit each, and (tables with values) their owners
  private owned = new Uint8Array(64);
  private owners = new Uint32Array(64);
  /** Entries marked by {@link own}. */
  ownedCount = 0;
  /** Delivery time and count of the entry the last successful {@link find} found (tables with values). */
  time = 0;
  count = 0;
  // the 64-bit value the last readV64 decoded
  private vh = 0;
  private vl = 0;

  /** Empties the table; `withValues`: keep a delivery time and count per entry. */
  reset(withValues: boolean): void {
    this.values = withValues;
    this.sorted = true;
    this.used = 0;
    this.slots = this.ids = null;
    this.times = this.counts = null;
    this.cap = 0;
    // the buffers of a huge table are not kept for the (usually small) ones after it
    if (this.bytes.length > 1 << 20) this.bytes = new Uint8Array(256);
    if (this.heads.length > 1 << 18) {
      this.heads = new Uint32Array(4 * 16);
      this.offs = new Uint32Array(16);
    }
    if (this.owners.length > 1 << 16) this.owners = new Uint32Array(64);
    if (this.owned.length > 1 << 16) this.owned = new Uint8Array(64);
    else this.owned.fill(0, 0, Math.min(this.owned.length, (this.size + 7) >>> 3));
    this.ownedCount = 0;
    this.size = 0;
  }

  /** Adds the ID in `b[p..p+16)` (big-endian ms and seq, as the file holds it); false when it was added before. */
  add(b: Uint8Array, p: number, time = 0, count = 0): boolean {
    const w0 = be32(b, p);
    const w1 = be32(b, p + 4);
    const w2 = be32(b, p + 8);
    const w3 = be32(b, p + 12);
    if (this.sorted && this.size > 0 && cmp4(w0, w1, w2, w3, this.l0, this.l1, this.l2, this.l3) <= 0) this.toHash();
    if (!this.sorted) return this.hashAdd(w0, w1, w2, w3, time, count);
    const n = this.size;
    const first = n % BLOCK === 0;
    if (first) {
      const blk = n / BLOCK;
      if (blk === this.offs.length) {
        const heads = wordsOf(this.heads.length * 2);
        heads.set(this.heads);
        this.heads = heads;
        const offs = wordsOf(this.offs.length * 2);
        offs.set(this.offs);
        this.offs = offs;
      }
      this.heads[4 * blk] = w0;
      this.heads[4 * blk + 1] = w1;
      this.heads[4 * blk + 2] = w2;
      this.heads[4 * blk + 3] = w3;
      this.offs[blk] = this.used;
    }
    if (this.used + 48 > this.bytes.length) {
      const grown = bytesOf(this.bytes.length * 2);
      grown.set(this.bytes.subarray(0, this.used));
      this.bytes = grown;
    }
    let h = 0;
    if (!first && (w0 !== this.l0 || w1 !== this.l1)) h |= 1;
    let zig = 0;
    if (this.values) {
      const d = time - (first ? 0 : this.lastTime);
      if (Number.isSafeInteger(time) && Number.isSafeInteger(d) && d < 2 ** 51 && d > -(2 ** 51)) zig = d >= 0 ? d * 2 : -d * 2 - 1;
      else h |= 2;
    }
    this.bytes[this.used++] = h;
    if (!first) {
      if (h & 1) {
        // ms grew: the ms delta, then the whole seq
        const borrow = w1 < this.l1 ? 1 : 0;
        this.writeV64((w0 - this.l0 - borrow) >>> 0, (w1 - this.l1) >>> 0);
        this.writeV64(w2, w3);
      } else {
        const borrow = w3 < this.l3 ? 1 : 0;
        this.writeV64((w2 - this.l2 - borrow) >>> 0, (w3 - this.l3) >>> 0);
      }
    }
    if (this.values) {
      if (h & 2) this.writeF64(time);
      else this.writeVNum(zig);
      this.writeVNum(count);
    }
    this.l0 = w0;
    this.l1 = w1;
    this.l2 = w2;
    this.l3 = w3;
    this.lastTime = time;
    this.size = n + 1;
    return true;
  }

  /** The position of the ID in `b[p..p+16)`, or -1; sets {@link time} and {@link count} when found. */
  find(b: Uint8Array, p: number): number {
    const w0 = be32(b, p);
    const w1 = be32(b, p + 4);
    const w2 = be32(b, p + 8);
    const w3 = be32(b, p + 12);
    if (!this.sorted) return this.hashFind(w0, w1, w2, w3);
    const heads = this.heads;
    // the last block whose first ID is <= the target
    let lo = 0;
    let hi = Math.ceil(this.size / BLOCK) - 1;
    let blk = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (cmp4(heads[4 * mid], heads[4 * mid + 1], heads[4 * mid + 2], heads[4 * mid + 3], w0, w1, w2, w3) <= 0) {
        blk = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (blk < 0) return -1;
    const end = Math.min(BLOCK, this.size - blk * BLOCK);
    this.open(blk);
    for (let k = 0; k < end; k++) {
      this.step(k);
      const c = cmp4(this.c0, this.c1, this.c2, this.c3, w0, w1, w2, w3);
      if (c === 0) {
        this.time = this.ct;
        this.count = this.cn;
        return blk * BLOCK + k;
      }
      if (c > 0) return -1;
    }
    return -1;
  }

  // A cursor over one block of the sorted form: the entry it is on (ID words, time, count) and where the next is.
  private c0 = 0;
  private c1 = 0;
  private c2 = 0;
  private c3 = 0;
  private ct = 0;
  private cn = 0;
  private cat = 0;

  private open(blk: number): void {
    this.c0 = this.heads[4 * blk];
    this.c1 = this.heads[4 * blk + 1];
    this.c2 = this.heads[4 * blk + 2];
    this.c3 = this.heads[4 * blk + 3];
    this.ct = 0;
    this.cat = this.offs[blk];
  }

  /** Decodes entry `k` of the open block (the entries before it were decoded in order). */
  private step(k: number): void {
    const bytes = this.bytes;
    let at = this.cat;
    const h = bytes[at++];
    if (k > 0) {
      at = this.readV64(at);
      if (h & 1) {
        const lo = (this.c1 + this.vl) >>> 0;
        this.c0 = (this.c0 + this.vh + (lo < this.c1 ? 1 : 0)) >>> 0;
        this.c1 = lo;
        at = this.readV64(at);
        this.c2 = this.vh;
        this.c3 = this.vl;
      } else {
        const lo = (this.c3 + this.vl) >>> 0;
        this.c2 = (this.c2 + this.vh + (lo < this.c3 ? 1 : 0)) >>> 0;
        this.c3 = lo;
      }
    }
    if (this.values) {
      if (h & 2) {
        for (let i = 0; i < 8; i++) f64Bytes[i] = bytes[at + i];
        at += 8;
        this.ct = f64[0];
      } else {
        at = this.readVNum(at);
        const z = this.vl;
        this.ct += z % 2 === 0 ? z / 2 : -(z + 1) / 2;
      }
      at = this.readVNum(at);
      this.cn = this.vl;
    }
    this.cat = at;
  }

  /** Marks entry `pos` as owned (by the `owner`-th consumer, kept in tables with values); false when it already was. */
  own(pos: number, owner = 0): boolean {
    const i = pos >>> 3;
    if (i >= this.owned.length) {
      let n = this.owned.length * 2;
      while (n <= i) n *= 2;
      const grown = bytesOf(n);
      grown.set(this.owned);
      this.owned = grown;
    }
    const bit = 1 << (pos & 7);
    if (this.owned[i] & bit) return false;
    this.owned[i] |= bit;
    this.ownedCount++;
    if (this.values) {
      if (pos >= this.owners.length) {
        let n = this.owners.length * 2;
        while (n <= pos) n *= 2;
        const grown = wordsOf(n);
        grown.set(this.owners);
        this.owners = grown;
      }
      this.owners[pos] = owner;
    }
    return true;
  }

  /** Who owns entry `pos` (see {@link own}). */
  ownerOf(pos: number): number {
    return this.owners[pos];
  }

  private writeV64(hi: number, lo: number): void {
    const b = this.bytes;
    let at = this.used;
    while (hi !== 0 || lo >= 0x80) {
      b[at++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    b[at++] = lo;
    this.used = at;
  }

  /** Reads a varint of up to 64 bits at `at` into vh/vl; returns the offset after it. */
  private readV64(at: number): number {
    const b = this.bytes;
    let lo = 0;
    let hi = 0;
    for (let shift = 0; ; shift += 7) {
      const c = b[at++];
      const v = c & 0x7f;
      if (shift < 32) {
        lo |= v << shift;
        if (shift > 25) hi |= v >>> (32 - shift);
      } else hi |= v << (shift - 32);
      if (c < 0x80) break;
    }
    this.vh = hi >>> 0;
    this.vl = lo >>> 0;
    return at;
  }

  /** A non-negative integer up to 2^53. */
  private writeVNum(v: number): void {
    const b = this.bytes;
    let at = this.used;
    while (v >= 0x80) {
      b[at++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    b[at++] = v;
    this.used = at;
  }

  private readVNum(at: number): number {
    const b = this.bytes;
    let v = 0;
    let mul = 1;
    for (;;) {
      const c = b[at++];
      v += (c & 0x7f) * mul;
      if (c < 0x80) break;
      mul *= 0x80;
    }
    this.vl = v;
    return at;
  }

  private writeF64(v: number): void {
    f64[0] = v;
    this.bytes.set(f64Bytes, this.used);
    this.used += 8;
  }

  /** Moves what the sorted form holds into the hash form. */
  private toHash(): void {
    const n = this.size;
    this.sorted = false;
    this.cap = 16;
    while (this.cap < n * 2 + 2) this.cap *= 2;
    this.slots = wordsOf(this.cap);
    this.ids = wordsOf(Math.max(64, n * 8));
    if (this.values) {
      this.times = doublesOf(Math.max(16, n * 2));
      this.counts = doublesOf(Math.max(16, n * 2));
    }
    this.size = 0;
    for (let blk = 0; blk * BLOCK < n; blk++) {
      const end = Math.min(BLOCK, n - blk * BLOCK);
      this.open(blk);
      for (let k = 0; k < end; k++) {
        this.step(k);
        this.hashAdd(this.c0, this.c1, this.c2, this.c3, this.ct, this.cn);
      }
    }
    this.bytes = new Uint8Array(256);
    this.used = 0;
  }

  private hashAdd(w0: number, w1: number, w2: number, w3: number, time: number, count: number): boolean {
    const ids = this.ids!;
    const s = this.slots!;
    const mask = this.cap - 1;
    let i = hash4(w0, w1, w2, w3) & mask;
    for (;;) {
      const v = s[i];
      if (v === 0) break;
      const o = 4 * (v - 1);
      if (ids[o] === w0 && ids[o + 1] === w1 && ids[o + 2] === w2 && ids[o + 3] === w3) return false;
      i = (i + 1) & mask;
    }
    const pos = this.size;
    if (4 * pos + 4 > ids.length) {
      const grown = wordsOf(ids.length * 2);
      grown.set(ids);
      this.ids = grown;
    }
    const o = 4 * pos;
    this.ids![o] = w0;
    this.ids![o + 1] = w1;
    this.ids![o + 2] = w2;
    this.ids![o + 3] = w3;
    s[i] = pos + 1;
    if (this.values) {
      if (pos === this.times!.length) {
        const t = doublesOf(pos * 2);
        t.set(this.times!);
        this.times = t;
        const c = doublesOf(pos * 2);
        c.set(this.counts!);
        this.counts = c;
      }
      this.times![pos] = time;
      this.counts![pos] = count;
    }
    this.size = pos + 1;
    if (this.size * 2 > this.cap) {
      this.cap *= 2;
      const t = wordsOf(this.cap);
      const m = this.cap - 1;
      const all = this.ids!;
      for (let p = 0; p < this.size; p++) {
        let j = hash4(all[4 * p], all[4 * p + 1], all[4 * p + 2], all[4 * p + 3]) & m;
        while (t[j] !== 0) j = (j + 1) & m;
        t[j] = p + 1;
      }
      this.slots = t;
    }
    return true;
  }

  private hashFind(w0: number, w1: number, w2: number, w3: number): number {
    const ids = this.ids!;
    const s = this.slots!;
    const mask = this.cap - 1;
    let i = hash4(w0, w1, w2, w3) & mask;
    for (;;) {
      const v = s[i];
      if (v === 0) return -1;
      const o = 4 * (v - 1);
      if (ids[o] === w0 && ids[o + 1] === w1 && ids[o + 2] === w2 && ids[o + 3] === w3) {
        if (this.values) {
          this.time = this.times![v - 1];
          this.count = this.counts![v - 1];
        }
        return v - 1;
      }
      i = (i + 1) & mask;
    }
  }

  // ---- the entries in the order added ----

  private scanPos = 0;
  /** The entry the last {@link scanNext} reached: its ID as four words (also in {@link time}, {@link count}). */
  id0 = 0;
  id1 = 0;
  id2 = 0;
  id3 = 0;

  /** Starts a walk over the entries in the order they were added (see {@link scanNext}). */
  scanStart(): void {
    this.scanPos = 0;
  }

  /** Moves to the next entry (its ID in id0..id3, its time and count); false after the last. */
  scanNext(): boolean {
    const pos = this.scanPos;
    if (pos >= this.size) return false;
    this.scanPos = pos + 1;
    if (this.sorted) {
      const k = pos % BLOCK;
      if (k === 0) this.open(pos / BLOCK);
      this.step(k);
      this.id0 = this.c0;
      this.id1 = this.c1;
      this.id2 = this.c2;
      this.id3 = this.c3;
      this.time = this.ct;
      this.count = this.cn;
      return true;
    }
    const ids = this.ids!;
    this.id0 = ids[4 * pos];
    this.id1 = ids[4 * pos + 1];
    this.id2 = ids[4 * pos + 2];
    this.id3 = ids[4 * pos + 3];
    if (this.values) {
      this.time = this.times![pos];
      this.count = this.counts![pos];
    }
    return true;
  }
}

/**
 * The names of a stream's consumer groups or of a group's consumers, exactly, in the order added: `add` says whether
 * a name is new, `get` gives the name added `i`-th. Front-coded in blocks of {@link NAME_BLOCK} (each name stored as
 * what it shares with the one before and the rest): names in byte order, as Redis writes them, cost a few bytes
 * each, and each is unique exactly when it is greater than the one before. The first name out of order adds a hash
 * table of positions (4 bytes per slot), looked up by decoding the names it holds.
 */
export class NameSet {
  private bytes = new Uint8Array(256);
  private used = 0;
  private offs = new Uint32Array(16);
  /** Names added. */
  size = 0;
  private prev = new Uint8Array(64);
  private prevLen = -1;
  private sorted = true;
  private slots: Uint32Array | null = null;
  private cap = 0;
  // what get() decodes into, and the block position it holds
  private name = new Uint8Array(64);
  private nameLen = 0;
  private namePos = -1;

  reset(): void {
    this.size = 0;
    this.used = 0;
    this.prevLen = -1;
    this.sorted = true;
    this.slots = null;
    this.cap = 0;
    this.namePos = -1;
    if (this.bytes.length > 1 << 20) this.bytes = new Uint8Array(256);
    if (this.offs.length > 1 << 16) this.offs = new Uint32Array(16);
  }

  /** Adds `b[s..e)`; false (and nothing added) when the same name was added before. */
  add(b: Uint8Array, s: number, e: number): boolean {
    if (this.sorted && this.prevLen >= 0 && !this.greater(b, s, e)) this.toHash();
    if (!this.sorted) {
      const h = hashBytes(b, s, e);
      const mask = this.cap - 1;
      let i = h & mask;
      for (;;) {
        const v = this.slots![i];
        if (v === 0) break;
        if (this.equals(v - 1, b, s, e)) return false;
        i = (i + 1) & mask;
      }
      this.slots![i] = this.size + 1;
      this.append(b, s, e);
      if (this.size * 2 > this.cap) this.rehash(this.cap * 2);
      return true;
    }
    this.append(b, s, e);
    return true;
  }

  /** The `i`-th name added (a view, valid until the next call). */
  get(i: number): Uint8Array {
    const n = this.getLength(i); // first: it may grow the buffer
    return this.name.subarray(0, n);
  }

  /** The buffer {@link getLength} decodes into. */
  get nameBuf(): Uint8Array {
    return this.name;
  }

  /** Decodes the `i`-th name added into `nameBuf[0..length)` (valid until the next call); returns its length. */
  getLength(i: number): number {
    const base = i - (i % NAME_BLOCK);
    let k = base;
    if (this.namePos >= base && this.namePos <= i) k = this.namePos + 1;
    else {
      this.nameAt = this.offs[base / NAME_BLOCK];
      this.nameLen = 0;
    }
    for (; k <= i; k++) this.decodeNext(k % NAME_BLOCK === 0);
    this.namePos = i;
    return this.nameLen;
  }

  private nameAt = 0;

  private decodeNext(first: boolean): void {
    let at = this.nameAt;
    const b = this.bytes;
    let shared = 0;
    if (!first) {
      shared = readVar(b, at);
      at = varEnd;
    }
    const rest = readVar(b, at);
    at = varEnd;
    const len = shared + rest;
    if (len > this.name.length) {
      const grown = new Uint8Array(Math.max(len, this.name.length * 2));
      grown.set(this.name.subarray(0, shared));
      this.name = grown;
    }
    const name = this.name;
    for (let i = 0; i < rest; i++) name[shared + i] = b[at + i];
    this.nameLen = len;
    this.nameAt = at + rest;
  }

  private append(b: Uint8Array, s: number, e: number): void {
    const len = e - s;
    const i = this.size;
    const first = i % NAME_BLOCK === 0;
    if (first) {
      const blk = i / NAME_BLOCK;
      if (blk === this.offs.length) {
        const grown = wordsOf(this.offs.length * 2);
        grown.set(this.offs);
        this.offs = grown;
      }
      this.offs[blk] = this.used;
    }
    let shared = 0;
    if (!first) {
      const p = this.prev;
      const n = Math.min(len, this.prevLen);
      while (shared < n && p[shared] === b[s + shared]) shared++;
    }
    if (this.used + len + 12 > this.bytes.length) {
      let n = this.bytes.length * 2;
      while (n < this.used + len + 12) n *= 2;
      const grown = bytesOf(n);
      grown.set(this.bytes.subarray(0, this.used));
      this.bytes = grown;
    }
    const out = this.bytes;
    let at = this.used;
    if (!first) at = writeVar(out, at, shared);
    at = writeVar(out, at, len - shared);
    for (let i = s + shared; i < e; i++) out[at++] = b[i];
    this.used = at;
    if (len > this.prev.length) {
      const grown = new Uint8Array(Math.max(len, this.prev.length * 2));
      grown.set(this.prev.subarray(0, this.prevLen));
      this.prev = grown;
    }
    const prev = this.prev;
    for (let i = shared; i < len; i++) prev[i] = b[s + i];
    this.prevLen = len;
    this.size = i + 1;
  }

  /** b[s..e) > the last name added, bytewise. */
  private greater(b: Uint8Array, s: number, e: number): boolean {
    const p = this.prev;
    const pl = this.prevLen;
    const n = Math.min(e - s, pl);
    for (let i = 0; i < n; i++) {
      const d = b[s + i] - p[i];
      if (d !== 0) return d > 0;
    }
    return e - s > pl;
  }

  private equals(pos: number, b: Uint8Array, s: number, e: number): boolean {
    const name = this.get(pos);
    if (name.length !== e - s) return false;
    for (let i = 0; i < name.length; i++) if (name[i] !== b[s + i]) return false;
    return true;
  }

  private toHash(): void {
    this.sorted = false;
    this.rehash(Math.max(16, 1 << Math.ceil(Math.log2(this.size * 2 + 2))));
  }

  private rehash(cap: number): void {
    this.cap = cap;
    const t = wordsOf(cap);
    const m = cap - 1;
    for (let p = 0; p < this.size; p++) {
      const name = this.get(p);
      let j = hashBytes(name, 0, name.length) & m;
      while (t[j] !== 0) j = (j + 1) & m;
      t[j] = p + 1;
    }
    this.slots = t;
  }
}

/** Names per block of a {@link NameSet}. */
const NAME_BLOCK = 16;

function hashBytes(b: Uint8Array, s: number, e: number): number {
  let h = 0x811c9dc5;
  for (let i = s; i < e; i++) h = Math.imul(h ^ b[i], 0x01000193);
  h ^= h >>> 15;
  return Math.imul(h, 0x2c1b3c6d) >>> 0;
}

function writeVar(b: Uint8Array, at: number, v: number): number {
  while (v >= 0x80) {
    b[at++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  b[at++] = v;
  return at;
}

/** Where the last {@link readVar} ended. */
let varEnd = 0;

function readVar(b: Uint8Array, at: number): number {
  let v = 0;
  let shift = 0;
  for (;;) {
    const c = b[at++];
    v |= (c & 0x7f) << shift;
    if (c < 0x80) {
      varEnd = at;
      return v >>> 0;
    }
    shift += 7;
  }
}
