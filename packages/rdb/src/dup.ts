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
 * Where the duplicate check of a huge collection keeps its sorted runs: one growing byte store (a temp file for the
 * Node drivers), read back at the collection's end. Synchronous, as the parser is. The check writes and reads whole
 * runs of 16-byte records and {@link clear}s it at each new collection; the store's owner (the driver that made it)
 * removes it when the parse ends, however it ends.
 */
export interface DupSpillStore {
  /** Appends `data` at the end of the store. */
  append(data: Uint8Array): void;
  /** Reads up to `into.length` bytes from byte `pos` into `into`; returns how many were read. */
  read(pos: number, into: Uint8Array): number;
  /** Forgets everything stored (the next append goes to byte 0). */
  clear(): void;
}

/**
 * The bounded-memory duplicate check of collections of more than `threshold` members (ReadRdbOptions.duplicateSpill):
 * their members' hash pairs and offsets go to a buffer of `runMembers` members (16 bytes each), which is sorted and
 * spilled as a run to the store `open` gives (called once, on the first spill); at the collection's end the runs
 * are merged and a hash pair seen twice is a duplicate, reported at the later member's offset (the same offset the
 * in-memory table reports at once).
 */
export interface DupSpillOptions {
  /** Gives the store the check spills to (called once, on the first spill; the caller removes it when the parse ends). */
  open: () => DupSpillStore;
  /** Collections of more members than this (as claimed) are checked through the store. Default 1_000_000. */
  threshold?: number;
  /** Members per sorted run (the buffer holds this many, 16 bytes each, plus as much again to sort). Default 2^17 (2 MiB). */
  runMembers?: number;
}

/** How the check learns and sets the offset an error names: the parser's current item offset. */
export interface DupOffsets {
  get(): number;
  set(offset: number): void;
}

/** Default {@link DupSpillOptions.threshold}. */
export const DUP_SPILL_THRESHOLD = 1_000_000;
const RUN_MEMBERS = 1 << 17;
/** Words per spilled record: first hash, second hash, offset low 32 bits, offset high bits. */
const REC = 4;

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
  private readonly spill: DupSpillOptions | null;
  private readonly offsets: DupOffsets | null;
  private readonly spillOver: number;
  /** This collection's members go to sorted runs ({@link DupSpillOptions}), not to the table. */
  private spilling = false;
  /** Members of the spilled collection still to come; its end (and merge) when it reaches 0. */
  private remaining = 0;
  private store: DupSpillStore | null = null;
  /** The run being filled (REC words a member) and the sort's scratch of the same size, made on the first spill. */
  private rec: Uint32Array<ArrayBuffer> | null = null;
  private tmp: Uint32Array<ArrayBuffer> | null = null;
  private nrec = 0;
  /** Members per run of the store, in order (the runs lie one after another from byte 0). */
  private runs: number[] = [];
  /** The offset of the duplicate that the last merge found, else -1. */
  private lateAt = -1;

  /**
   * `max`: the most members checked; `spill` and `offsets` (both or neither): collections of more than the spill
   * threshold are checked in bounded memory, reporting a duplicate when their last member arrives, at the
   * duplicate's own offset (got from `offsets` as each member comes and set back there before the verdict).
   */
  constructor(max: number, spill?: DupSpillOptions, offsets?: DupOffsets) {
    this.max = max;
    this.spill = spill && offsets ? spill : null;
    this.offsets = offsets ?? null;
    this.spillOver = Math.max(1, spill?.threshold ?? DUP_SPILL_THRESHOLD);
  }

  /** Starts a new collection of (at most, as the file claims) `expected` members. */
  reset(expected: number): void {
    this.size = 0;
    this.npend = 0;
    this.active = expected > 1 && expected <= this.max;
    this.spilling = false;
    if (!this.active) return;
    if (this.spill !== null && expected > this.spillOver) {
      this.startSpill(expected);
      return;
    }
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
    if (this.spilling) return this.spillOne(h1 >>> 0, (h2 ^ (h2 >>> 13)) >>> 0, this.offsets!.get());
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

  /**
   * Checks the queued members in order and empties the queue: the offset of the first seen before, or -1. The
   * queued member `j` lies at `base + starts[j]` (its offset when it is the duplicate; a spilled collection's
   * duplicate, found when its last member is flushed, may be an earlier one).
   */
  flush(starts: Int32Array, base: number): number {
    const n = this.npend;
    this.npend = 0;
    const p = this.pend;
    if (this.spilling) {
      for (let j = 0; j < n; j++) {
        // the collection ended (its claimed count reached): nothing after it is its member
        if (!this.spilling) return -1;
        if (this.spillOne(p[2 * j], p[2 * j + 1], base + starts[j])) return this.lateAt;
      }
      return -1;
    }
    for (let j = 0; j < n; j++) {
      // past `max` members the check is off (as seenRange's), and the table has no room left for more
      if (!this.active) return -1;
      if (this.insert(p[2 * j], p[2 * j + 1])) return base + starts[j];
    }
    return -1;
  }

  private startSpill(expected: number): void {
    this.spilling = true;
    this.remaining = expected;
    this.nrec = 0;
    this.runs.length = 0;
    this.lateAt = -1;
    if (this.rec === null) {
      const m = Math.max(2, Math.floor(this.spill!.runMembers ?? RUN_MEMBERS));
      this.rec = new Uint32Array(m * REC);
      this.tmp = new Uint32Array(m * REC);
    }
    this.store?.clear();
  }

  /**
   * Records a member of a spilled collection (its hash pair and offset); at the collection's last member, merges
   * the runs: true when the collection holds a duplicate, whose offset is then set through {@link DupOffsets}.
   */
  private spillOne(h1: number, h2: number, at: number): boolean {
    if (h1 === 0 && h2 === 0) h2 = 1; // as the table has it
    const r = this.rec!;
    const k = this.nrec * REC;
    r[k] = h1;
    r[k + 1] = h2;
    r[k + 2] = at >>> 0;
    r[k + 3] = Math.floor(at / 4294967296);
    if (++this.nrec * REC === r.length && this.remaining > 1) this.spillRun();
    if (--this.remaining > 0) return false;
    this.spilling = false;
    this.active = false;
    const at2 = this.finish();
    if (at2 < 0) return false;
    this.lateAt = at2;
    this.offsets!.set(at2);
    return true;
  }

  /** Sorts the buffered members and appends them to the store as one run. */
  private spillRun(): void {
    sortRecords(this.rec!, this.tmp!, this.nrec);
    if (this.store === null) this.store = this.spill!.open();
    const r = this.rec!;
    this.store.append(new Uint8Array(r.buffer, r.byteOffset, this.nrec * REC * 4));
    this.runs.push(this.nrec);
    this.nrec = 0;
  }

  /** The offset of the collection's first member (in file order) equal to an earlier one, or -1. */
  private finish(): number {
    if (this.runs.length === 0) {
      // all in the buffer: no store needed
      sortRecords(this.rec!, this.tmp!, this.nrec);
      const s = new Scan();
      const r = this.rec!;
      for (let k = 0; k < this.nrec * REC; k += REC) s.add(r[k], r[k + 1], r[k + 3] * 4294967296 + r[k + 2]);
      this.nrec = 0;
      return s.end();
    }
    if (this.nrec > 0) this.spillRun();
    return mergeRuns(this.store!, this.runs, this.rec!);
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

/** The radix sort's counts: four digits of 16 bits, made on first use. */
let counts: Uint32Array | null = null;

/**
 * Sorts the first `n` records of `a` (REC words each) by their hash pair (first hash, then second), stably: an LSD
 * radix sort on four 16-bit digits through `tmp`, skipping the digits all records share. The records end in `a`.
 */
export function sortRecords(a: Uint32Array, tmp: Uint32Array, n: number): void {
  if (n < 2) return;
  if (counts === null) counts = new Uint32Array(4 << 16);
  const c = counts;
  c.fill(0);
  for (let k = 0; k < n * REC; k += REC) {
    const h1 = a[k];
    const h2 = a[k + 1];
    c[h2 & 0xffff]++;
    c[0x10000 + (h2 >>> 16)]++;
    c[0x20000 + (h1 & 0xffff)]++;
    c[0x30000 + (h1 >>> 16)]++;
  }
  let src = a;
  let dst = tmp;
  for (let d = 0; d < 4; d++) {
    const o = d << 16;
    const word = d < 2 ? 1 : 0;
    const shift = (d & 1) * 16;
    // a digit all records share leaves the order as it is
    let sum = 0;
    let skip = false;
    for (let v = 0; v < 0x10000; v++) {
      const x = c[o + v];
      if (x === n) {
        skip = true;
        break;
      }
      c[o + v] = sum;
      sum += x;
    }
    if (skip) continue;
    for (let k = 0; k < n * REC; k += REC) {
      const v = (src[k + word] >>> shift) & 0xffff;
      const t = c[o + v]++ * REC;
      dst[t] = src[k];
      dst[t + 1] = src[k + 1];
      dst[t + 2] = src[k + 2];
      dst[t + 3] = src[k + 3];
    }
    const s = src;
    src = dst;
    dst = s;
  }
  if (src !== a) a.set(src.subarray(0, n * REC));
}

/**
 * Hash pairs in sorted order, grouped: the offset of the first member (in file order) that repeats an earlier one,
 * which is the smallest second-smallest offset of a group.
 */
class Scan {
  private any = false;
  private h1 = 0;
  private h2 = 0;
  private m1 = 0;
  private m2 = Infinity;
  private best = Infinity;

  add(h1: number, h2: number, at: number): void {
    if (this.any && h1 === this.h1 && h2 === this.h2) {
      if (at < this.m1) {
        this.m2 = this.m1;
        this.m1 = at;
      } else if (at < this.m2) this.m2 = at;
      return;
    }
    if (this.m2 < this.best) this.best = this.m2;
    this.any = true;
    this.h1 = h1;
    this.h2 = h2;
    this.m1 = at;
    this.m2 = Infinity;
  }

  end(): number {
    if (this.m2 < this.best) this.best = this.m2;
    return this.best === Infinity ? -1 : this.best;
  }
}

/** Reads `into.length` bytes at `pos` of the store (a short read is a bug of the store: it holds them). */
function readFully(store: DupSpillStore, pos: number, into: Uint8Array): void {
  let got = 0;
  while (got < into.length) {
    const n = store.read(pos + got, into.subarray(got));
    if (n <= 0) throw new Error(`duplicate check: the spill store ended at byte ${pos + got}, ${into.length - got} bytes short`);
    got += n;
  }
}

/**
 * Merges the sorted runs of the store (`runs[i]` records each, one after another) through a binary heap, each run
 * read in slices of an equal share of `area` (the run buffer, free by now): the {@link Scan} verdict.
 */
function mergeRuns(store: DupSpillStore, runs: number[], area0: Uint32Array): number {
  const nr = runs.length;
  const share = Math.floor(area0.length / REC / nr);
  const B = Math.max(1, share);
  const area = share >= 1 ? area0 : new Uint32Array(B * nr * REC);
  const bytes = new Uint8Array(area.buffer, area.byteOffset, area.byteLength);
  const pos = new Float64Array(nr);
  const left = new Float64Array(nr);
  const cur = new Int32Array(nr);
  const end = new Int32Array(nr);
  let p = 0;
  for (let i = 0; i < nr; i++) {
    pos[i] = p;
    left[i] = runs[i];
    p += runs[i] * REC * 4;
  }
  const fill = (i: number): void => {
    const n = Math.min(B, left[i]);
    const off = i * B * REC;
    readFully(store, pos[i], bytes.subarray(off * 4, (off + n * REC) * 4));
    pos[i] += n * REC * 4;
    left[i] -= n;
    cur[i] = off;
    end[i] = off + n * REC;
  };
  const less = (x: number, y: number): boolean => {
    const a = cur[x];
    const b = cur[y];
    return area[a] < area[b] || (area[a] === area[b] && area[a + 1] < area[b + 1]);
  };
  const heap = new Int32Array(nr);
  let hn = 0;
  const down = (at: number): void => {
    const x = heap[at];
    for (;;) {
      let c = 2 * at + 1;
      if (c >= hn) break;
      if (c + 1 < hn && less(heap[c + 1], heap[c])) c++;
      if (!less(heap[c], x)) break;
      heap[at] = heap[c];
      at = c;
    }
    heap[at] = x;
  };
  for (let i = 0; i < nr; i++) {
    if (runs[i] === 0) continue;
    fill(i);
    heap[hn++] = i;
  }
  for (let i = (hn >> 1) - 1; i >= 0; i--) down(i);
  const s = new Scan();
  while (hn > 0) {
    const i = heap[0];
    const k = cur[i];
    s.add(area[k], area[k + 1], area[k + 3] * 4294967296 + area[k + 2]);
    cur[i] = k + REC;
    if (cur[i] === end[i]) {
      if (left[i] > 0) fill(i);
      else heap[0] = heap[--hn];
    }
    if (hn > 0) down(0);
  }
  return s.end();
}
