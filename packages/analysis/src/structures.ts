// Simulations of the Redis 7.0 containers whose size depends on how they were filled: a dict's bucket tables
// (power-of-two sizes, presizing on load, incremental rehashing), a radix tree's node count (stream entries and
// PELs), a quicklist's nodes and a stream's listpacks. Each keeps O(1) state per element added, so a collection
// handed out in pieces costs no more memory than its running totals.
import { LISTPACK_EMPTY, jemallocSize, listpackEntrySize, listpackIntEntrySize } from './alloc.js';

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

  slots(): number {
    return this.size0 + this.size1;
  }

  get size(): number {
    return this.used0 + this.used1;
  }
}

/** A path node of {@link RaxSim}: a compressed node's bytes, or a branching node's last child byte. */
interface PathNode {
  compressed: boolean;
  /** Depth (key byte index) of the node's first byte. */
  depth: number;
  /** Bytes on the path: all of a compressed node's, one (the last child's) for a branching node. */
  len: number;
}

/**
 * The node count of a Redis radix tree (rax.c) that fixed-length keys are inserted into in ascending order, as a
 * stream's entry index and PELs are filled on load. Only the rightmost path can change on such inserts, so only it
 * is kept. The rules: an empty tree is one node; a key added below a node without children becomes one compressed
 * node for all its remaining bytes (two or more) plus the leaf; a mismatch inside a compressed node splits it into
 * prefix, a one-byte branching node and a postfix (each only when non-empty), the new byte then branching off with
 * its own tail.
 */
export class RaxSim {
  nodes = 1;
  elements = 0;
  private path: PathNode[] = [];
  private last: Uint8Array | null = null;

  insert(key: Uint8Array): void {
    const prev = this.last;
    this.last = key;
    this.elements++;
    if (prev === null) {
      this.path = [];
      this.tail(0, key.length);
      return;
    }
    let p = 0;
    while (p < key.length && p < prev.length && key[p] === prev[p]) p++;
    if (p >= key.length) {
      this.elements--; // same key again: nothing added
      return;
    }
    // the path node holding depth p
    let i = this.path.findIndex((n) => p >= n.depth && p < n.depth + n.len);
    if (i < 0) i = this.path.length - 1;
    const n = this.path[i];
    const rest: PathNode[] = this.path.slice(0, i);
    if (n.compressed) {
      const j = p - n.depth;
      if (j > 0) rest.push({ compressed: j > 1, depth: n.depth, len: j });
      else this.nodes--; // the compressed node is replaced by the split node
      this.nodes++; // the branching node at depth p
      if (n.len - j - 1 > 0) this.nodes++; // the old postfix
      rest.push({ compressed: false, depth: p, len: 1 });
    } else {
      rest.push({ compressed: false, depth: p, len: 1 });
    }
    this.path = rest;
    // the new byte's child, then the rest of the key below it
    this.nodes++;
    this.tail(p + 1, key.length);
  }

  /** Below a fresh empty node at depth `d`: the key's bytes d..len. */
  private tail(d: number, len: number): void {
    const remaining = len - d;
    if (remaining === 0) return;
    if (remaining > 1) {
      this.path.push({ compressed: true, depth: d, len: remaining });
      this.nodes++;
    } else {
      this.path.push({ compressed: false, depth: d, len: 1 });
      this.nodes++;
    }
  }

  /** What object.c's streamRadixTreeMemoryUsage charges: 16 bytes per ID, 4 + 30 words per node. */
  memoryUsage(): number {
    return this.elements * 16 + this.nodes * (4 + 8 * 30);
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

const QL_SIZE_LEVELS = [4096, 8192, 16384, 32768, 65536];
const QL_SAFETY_LIMIT = 8192;

/**
 * A quicklist filled by pushes at the tail (as RPUSH builds a list and as a list is rebuilt from plain elements on
 * load): a new node when the list-max-listpack-size limit (entry count when positive, bytes when negative) would be
 * passed. Each node costs its 32-byte struct and its listpack rounded by jemalloc.
 */
export class QuicklistSim {
  nodes = 0;
  /** Sum over finished nodes of jemalloc(listpack bytes). */
  private doneBytes = 0;
  private curBytes = 0;
  private curCount = 0;

  constructor(private readonly fill: number) {}

  push(ele: Uint8Array): void {
    const sz = ele.length;
    if (this.nodes === 0 || !this.allows(sz)) {
      if (this.nodes > 0) this.doneBytes += jemallocSize(this.curBytes);
      this.nodes++;
      this.curBytes = LISTPACK_EMPTY;
      this.curCount = 0;
    }
    this.curBytes += listpackEntrySize(ele);
    this.curCount++;
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

  /** MEMORY USAGE's share: each node's struct plus its listpack allocation. */
  nodesMemory(): number {
    return this.nodes * 32 + this.doneBytes + (this.nodes > 0 ? jemallocSize(this.curBytes) : 0);
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
  /** jemalloc(bytes) of each finished listpack, in order. */
  private doneAllocs: number[] = [];
  private doneSum = 0;
  private bytes = 0;
  private count = 0;
  private masterMs = 0n;
  private masterSeq = 0n;
  private masterFields: Uint8Array[] = [];

  constructor(
    private readonly maxBytes: number,
    private readonly maxEntries: number,
  ) {}

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
    // the count entry grows with the node (1 byte up to 127)
    if (this.count === 128) this.bytes += listpackIntEntrySize(128) - listpackIntEntrySize(127);
    this.bytes += listpackIntEntrySize(same ? 2 : 0) + listpackIntEntrySize(ms - this.masterMs) + listpackIntEntrySize(seq - this.masterSeq);
    if (!same) this.bytes += listpackIntEntrySize(fields.length);
    for (const [f, v] of fields) {
      if (!same) this.bytes += listpackEntrySize(f);
      this.bytes += listpackEntrySize(v);
    }
    this.bytes += listpackIntEntrySize(fields.length + 3 + (same ? 0 : fields.length + 1));
  }

  private finishNode(): void {
    const a = jemallocSize(this.bytes);
    if (this.doneAllocs.length < 5) this.doneAllocs.push(a);
    this.doneSum += a;
    this.count = 0;
    this.bytes = 0;
  }

  /** Listpacks as object.c counts them: all of them (SAMPLES 0). */
  listpacksMemory(): number {
    return this.doneSum + (this.count > 0 ? jemallocSize(this.bytes) : 0);
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
