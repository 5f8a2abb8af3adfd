// Simulations of the Redis 7.0 containers whose size depends on how they were filled: a dict's bucket tables
// (power-of-two sizes, presizing on load, incremental rehashing), a radix tree's node count (stream entries and
// PELs), a quicklist's nodes and a stream's listpacks. Each keeps O(1) state per element added, so a collection
// handed out in pieces costs no more memory than its running totals.
import { lzfCompress } from '@redis-persist/bytes';
import { LISTPACK_EMPTY, encodeListpack, jemallocSize, listpackEntrySize, listpackIntEntrySize } from './alloc.js';

const DICT_INITIAL = 4;

/** Smallest power of two >= n, at least 4 (dict.c's _dictNextExp). */
export function dictTableSize(n: number): number {
  if (n <= DICT_INITIAL) return DICT_INITIAL;
  return 2 ** Math.ceil(Math.log2(n));
}

/**
 * A dict's two tables while elements are added: expansion when the table is full (to the next power of two above
 * the count), explicit presizing (dictExpand), and incremental rehashing (one bucket moved per add). Buckets are
 * taken to hold one entry each while rehashing (load factor <= 1), which is what a table that just filled up holds
 * on average. `slots()` is what MEMORY USAGE multiplies by the pointer size (dictSlots: both tables).
 */
export class DictSim {
  private size0 = 0;
  private used0 = 0;
  private size1 = 0;
  private used1 = 0;

  /** dictExpand(d, n): creates the first table, or starts a rehash into a new one. False when refused. */
  expand(n: number): boolean {
    if (this.size1 !== 0 || this.used0 > n) return false;
    const size = dictTableSize(n);
    if (size === this.size0) return false;
    if (this.size0 === 0) this.size0 = size;
    else this.size1 = size;
    return true;
  }

  /** Adds one entry, growing (and rehashing) the table as Redis' dict does. */
  add(): void {
    if (this.size1 !== 0) this.step();
    if (this.size1 === 0) {
      if (this.size0 === 0) this.expand(DICT_INITIAL);
      else if (this.used0 >= this.size0) this.expand(this.used0 + 1);
    }
    if (this.size1 !== 0) this.used1++;
    else this.used0++;
  }

  private step(): void {
    if (this.used0 > 0) {
      const moved = Math.max(1, Math.round(this.used0 / this.size0));
      const m = Math.min(moved, this.used0);
      this.used0 -= m;
      this.used1 += m;
    }
    if (this.used0 === 0) {
      this.size0 = this.size1;
      this.used0 = this.used1;
      this.size1 = 0;
      this.used1 = 0;
    }
  }

  /** Bucket slots allocated now (both tables while a rehash is in progress). */
  slots(): number {
    return this.size0 + this.size1;
  }

  get size(): number {
    return this.used0 + this.used1;
  }
}

/** A node of {@link RaxSim}'s rightmost path. */
interface PathNode {
  compressed: boolean;
  /** Depth (key byte index) of the node's first byte. */
  depth: number;
  /** Bytes of a compressed node; 1 for a branching node (the path goes through its last child). */
  len: number;
  /** A branching node's child count. */
  kids: number;
}

/** The allocation of an inner rax node: 4-byte header, its bytes padded to a pointer, child pointers. */
function raxNodeBytes(n: PathNode): number {
  const chars = n.compressed ? n.len : n.kids;
  const ptrs = n.compressed ? 1 : n.kids;
  return jemallocSize(Math.ceil((4 + chars) / 8) * 8 + 8 * ptrs);
}

/** A key's leaf: header, padding and the value pointer. */
const RAX_LEAF = 16;

/**
 * A Redis radix tree (rax.c) that fixed-length keys are inserted into in ascending order, as a stream's entry index
 * and PELs are filled on load: its node count (what MEMORY USAGE charges by) and the bytes its nodes really take.
 * Only the rightmost path can change on such inserts, so only it is kept. The rules: an empty tree is one node; a
 * key added below a node without children becomes one compressed node for all its remaining bytes (a branching node
 * when only one byte remains) plus the leaf; a mismatch inside a compressed node splits it into prefix, a branching
 * node and a postfix (each only when non-empty), the new byte then branching off with its own tail.
 */
export class RaxSim {
  nodes = 1;
  elements = 0;
  /** Bytes of the nodes off the rightmost path, which no later insert changes. */
  private frozen = 0;
  private path: PathNode[] = [];
  private last: Uint8Array | null = null;

  /** Inserts a key, splitting and compressing nodes as Redis' rax does. */
  insert(key: Uint8Array): void {
    const prev = this.last;
    if (prev === null) {
      this.last = key;
      this.elements++;
      this.tail(0, key.length);
      return;
    }
    let p = 0;
    while (p < key.length && p < prev.length && key[p] === prev[p]) p++;
    if (p >= key.length) return; // the same key again: nothing added
    this.last = key;
    this.elements++;
    let i = this.path.findIndex((n) => p >= n.depth && p < n.depth + n.len);
    if (i < 0) i = this.path.length - 1;
    const n = this.path[i];
    for (const below of this.path.slice(i + 1)) this.frozen += raxNodeBytes(below);
    const rest: PathNode[] = this.path.slice(0, i);
    if (n.compressed) {
      const j = p - n.depth;
      if (j > 0) rest.push({ compressed: j > 1, depth: n.depth, len: j, kids: 1 });
      else this.nodes--; // the compressed node is replaced by the branching node
      this.nodes++;
      const post = n.len - j - 1;
      if (post > 0) {
        this.nodes++;
        this.frozen += raxNodeBytes({ compressed: true, depth: p + 1, len: post, kids: 1 });
      }
      rest.push({ compressed: false, depth: p, len: 1, kids: 2 });
    } else {
      rest.push({ compressed: false, depth: p, len: 1, kids: n.kids + 1 });
    }
    this.path = rest;
    this.nodes++; // the new byte's child
    this.tail(p + 1, key.length);
  }

  /** Below a fresh empty node at depth `d`: the key's bytes d..len, then its leaf. */
  private tail(d: number, len: number): void {
    const remaining = len - d;
    this.frozen += RAX_LEAF;
    if (remaining === 0) return;
    this.path.push({ compressed: remaining > 1, depth: d, len: remaining > 1 ? remaining : 1, kids: 1 });
    this.nodes++;
  }

  /** What object.c's streamRadixTreeMemoryUsage charges: 16 bytes per ID, 4 + 30 words per node. */
  memoryUsage(): number {
    return this.elements * 16 + this.nodes * (4 + 8 * 30);
  }

  /** What the allocator holds: the rax struct and every node. */
  allocated(): number {
    if (this.elements === 0) return jemallocSize(24) + 8;
    let b = jemallocSize(24) + this.frozen;
    for (const n of this.path) b += raxNodeBytes(n);
    return b;
  }
}

/** A stream ID as a rax key: milliseconds and sequence, 64-bit big-endian each. */
export function streamIdKey(ms: bigint, seq: bigint): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, ms);
  v.setBigUint64(8, seq);
  return b;
}

export function parseStreamId(id: string): [bigint, bigint] {
  const dash = id.indexOf('-');
  return [BigInt(id.slice(0, dash)), BigInt(id.slice(dash + 1))];
}

const QUICKLIST_NODE = 40;
const QL_SIZE_LEVELS = [4096, 8192, 16384, 32768, 65536];
const QL_SAFETY_LIMIT = 8192;

/**
 * A quicklist filled by pushes at the tail (as RPUSH builds a list and as a list is rebuilt from plain elements on
 * load): a new node when the list-max-listpack-size limit (entry count when positive, bytes when negative) would be
 * passed. Each node costs its 40-byte struct and its listpack rounded by jemalloc.
 */
export class QuicklistSim {
  nodes = 0;
  /** Sum over finished nodes of jemalloc(listpack bytes). */
  private doneBytes = 0;
  private curBytes = 0;
  private curCount = 0;

  /** With list-compress-depth: the current node's elements, and each finished node's raw and LZF allocation. */
  private curElements: Uint8Array[] = [];
  private sizes: { raw: number; lzf: number }[] = [];

  constructor(
    private readonly fill: number,
    private readonly compressDepth = 0,
  ) {}

  /** Appends an element, starting a new node when the current one is full under `list-max-listpack-size`. */
  push(ele: Uint8Array): void {
    const sz = ele.length;
    if (this.nodes === 0 || !this.allows(sz)) {
      if (this.nodes > 0) this.finishNode();
      this.nodes++;
      this.curBytes = LISTPACK_EMPTY;
      this.curCount = 0;
    }
    this.curBytes += listpackEntrySize(ele);
    this.curCount++;
    if (this.compressDepth > 0) this.curElements.push(ele);
  }

  private finishNode(): void {
    const raw = jemallocSize(this.curBytes);
    this.doneBytes += raw;
    if (this.compressDepth > 0) {
      // quicklist.c: nodes of 48 bytes or more are kept LZF-compressed when that saves more than 8 bytes, in an
      // allocation of a 4-byte length and the compressed bytes
      let lzf = raw;
      if (this.curBytes >= 48) {
        const c = lzfCompress(encodeListpack(this.curElements), this.curBytes);
        if (c !== null && c.length + 8 < this.curBytes) lzf = jemallocSize(4 + c.length);
      }
      this.sizes.push({ raw, lzf });
      this.curElements = [];
    }
  }

  /** Listpack bytes saved by compressing the nodes deeper than list-compress-depth from both ends. */
  private compressionSaving(): number {
    const d = this.compressDepth;
    if (d === 0 || this.nodes < 2 * d) return 0;
    // the last node is still open: it is within depth of the tail (d >= 1)
    let saving = 0;
    for (let i = d; i < this.sizes.length && i < this.nodes - d; i++) saving += this.sizes[i].raw - this.sizes[i].lzf;
    return saving;
  }

  private allows(sz: number): boolean {
    if (sz >= 2 ** 30) return false;
    const newSz = this.curBytes + sz + 8;
    if (this.fill < 0) {
      const level = QL_SIZE_LEVELS[-this.fill - 1];
      if (level !== undefined && newSz <= level) return true;
      if (level !== undefined) return false;
    }
    if (newSz > QL_SAFETY_LIMIT) return false;
    return this.curCount < this.fill;
  }

  /**
   * Valkey 8 / Redis 7.2: a list of one node within the limit (entries, or bytes for a negative fill) is loaded
   * as a plain listpack.
   */
  singleNodeFits(): boolean {
    if (this.nodes !== 1) return false;
    if (this.fill >= 0) return this.curCount <= Math.max(1, this.fill);
    const level = QL_SIZE_LEVELS[-this.fill - 1] ?? QL_SIZE_LEVELS[QL_SIZE_LEVELS.length - 1];
    return this.curBytes <= level;
  }

  /** Bytes of the current (first) node's listpack. */
  firstNodeBytes(): number {
    return this.curBytes;
  }

  /** MEMORY USAGE's share: each node's struct (40 bytes: three pointers, a size, a word of bit fields, padding) plus its listpack allocation. */
  nodesMemory(): number {
    return this.nodes * QUICKLIST_NODE + this.listpacks();
  }

  /** The allocator's: the node structs rounded too. */
  nodesAllocated(): number {
    return this.nodes * jemallocSize(QUICKLIST_NODE) + this.listpacks();
  }

  private listpacks(): number {
    return this.doneBytes + (this.nodes > 0 ? jemallocSize(this.curBytes) : 0) - this.compressionSaving();
  }
}

/**
 * A stream's listpacks as XADD fills them (t_stream.c streamAppendItem): a node holds a master entry (count,
 * deleted, the first entry's field names) and then per entry its flags, ID deltas, the values (and the field
 * names when they differ from the master's) and a count; a new node starts when stream-node-max-bytes or
 * stream-node-max-entries would be passed. Deleted entries are not in an RDB's decoded value, so nodes that
 * had deletions come out a little smaller than they are.
 */
export class StreamNodesSim {
  readonly rax = new RaxSim();
  private doneSum = 0;
  /** Bytes of the first listpack (where a trim leaves its deleted entries) and of the entries added so far. */
  private firstBytes = -1;
  private entryBytes = 0;
  private entries = 0;
  private bytes = 0;
  private count = 0;
  private masterMs = 0n;
  private masterSeq = 0n;
  private masterFields: Uint8Array[] = [];

  constructor(
    private readonly maxBytes: number,
    private readonly maxEntries: number,
  ) {}

  /** Appends a stream entry, as XADD fills the stream's listpack nodes. */
  add(id: string, fields: [Uint8Array, Uint8Array][]): void {
    const [ms, seq] = parseStreamId(id);
    let tot = 0;
    for (const [f, v] of fields) tot += f.length + v.length;
    const nodeMax = this.maxBytes === 0 || this.maxBytes > 2 ** 30 ? 2 ** 30 : this.maxBytes;
    let fresh = this.count === 0;
    if (!fresh && (this.bytes + tot >= nodeMax || (this.maxEntries > 0 && this.count >= this.maxEntries))) {
      this.finishNode();
      fresh = true;
    }
    let same = false;
    if (fresh) {
      this.masterMs = ms;
      this.masterSeq = seq;
      this.masterFields = fields.map(([f]) => f);
      this.rax.insert(streamIdKey(ms, seq));
      // count (1, rewritten as it grows), deleted 0, field count, field names, terminator 0
      this.bytes = LISTPACK_EMPTY + listpackIntEntrySize(1) + listpackIntEntrySize(0) + listpackIntEntrySize(fields.length);
      for (const f of this.masterFields) this.bytes += listpackEntrySize(f);
      this.bytes += listpackIntEntrySize(0);
      same = true;
    } else if (fields.length === this.masterFields.length) {
      same = fields.every(([f], i) => Buffer.compare(f, this.masterFields[i]) === 0);
    }
    this.count++;
    const before = this.bytes;
    // the count entry grows with the node (1 byte up to 127)
    if (this.count === 128) this.bytes += listpackIntEntrySize(128) - listpackIntEntrySize(127);
    this.bytes += listpackIntEntrySize(same ? 2 : 0) + listpackIntEntrySize(ms - this.masterMs) + listpackIntEntrySize(seq - this.masterSeq);
    if (!same) this.bytes += listpackIntEntrySize(fields.length);
    for (const [f, v] of fields) {
      if (!same) this.bytes += listpackEntrySize(f);
      this.bytes += listpackEntrySize(v);
    }
    this.bytes += listpackIntEntrySize(fields.length + 3 + (same ? 0 : fields.length + 1));
    this.entryBytes += this.bytes - before;
    this.entries++;
  }

  /** Entries a full listpack holds (the first finished one's count), else what the limits allow at the mean size. */
  entriesPerNode(): number {
    if (this.firstCount > 0) return this.firstCount;
    const mean = this.entries > 0 ? this.entryBytes / this.entries : 1;
    const bytesCap = this.maxBytes > 0 ? Math.max(1, Math.floor(this.maxBytes / Math.max(1, mean))) : Infinity;
    const cap = Math.min(this.maxEntries > 0 ? this.maxEntries : Infinity, bytesCap);
    return Number.isFinite(cap) ? cap : Math.max(1, this.entries);
  }

  private firstCount = 0;

  private finishNode(): void {
    if (this.firstBytes < 0) {
      this.firstBytes = this.bytes;
      this.firstCount = this.count;
    }
    this.doneSum += jemallocSize(this.bytes);
    this.count = 0;
    this.bytes = 0;
  }

  /**
   * Listpacks as object.c counts them: all of them (SAMPLES 0). `deleted` entries (XDEL, or the part of a trim that
   * did not free whole nodes) still sit in a listpack, flagged: they are counted at the live entries' mean size, in
   * the first listpack.
   */
  listpacksMemory(deleted = 0): number {
    let total = this.doneSum + (this.count > 0 ? jemallocSize(this.bytes) : 0);
    if (deleted > 0 && this.entries > 0) {
      const extra = Math.round((deleted * this.entryBytes) / this.entries);
      const first = this.firstBytes >= 0 ? this.firstBytes : this.bytes;
      total += jemallocSize(first + extra) - jemallocSize(first);
    }
    return total;
  }
}

/**
 * Expected jemalloc size of a skiplist node (24 bytes plus 16 per level; levels drawn with p = 1/4, at most 32),
 * the mean over many nodes of what zslCreateNode allocates.
 */
export const SKIPLIST_NODE_EXPECTED: number = (() => {
  let e = 0;
  let p = 0.75;
  for (let level = 1; level <= 32; level++) {
    const prob = level === 32 ? 0.25 ** 31 : p;
    e += prob * jemallocSize(24 + 16 * level);
    p *= 0.25;
  }
  return e;
})();
