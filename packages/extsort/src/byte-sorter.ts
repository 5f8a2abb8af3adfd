// Keyspace JSON Lines with bounded memory: records are encoded once to bytes and sorted as (sort key, line bytes)
// items, spilled to sorted runs and merged on bytes (never parsed back); a huge collection handed out in pieces
// (`partial: true`, see the RDB parser's `chunkElements`) is streamed element by element, its elements sorted by
// an external sort of their own when the canonical form wants them sorted.
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsioError, describeIoError } from '@redis-persist/fsio';
import { MinHeap } from './heap.js';
import { canonicalizeRecord } from './canonical.js';
import { KeyspaceError } from './errors.js';
import { ChunkWriter, writeKeyHead, writeKeyTail, writeRecord, writeScore, writeStr, type EncodeOptions } from './encode.js';
import type { Bytes, HashField, KeyRecord, KeyspaceRecord, Score } from './model.js';
import { HugeStream } from './huge-stream.js';
import type { PieceOutput } from './pieces.js';

/**
 * A record as a chunking producer hands it out: `partial: true` means more pieces of the same key follow. A list,
 * set, zset or hash piece holds the next elements. A stream piece holds its next entries, then group parts: a part
 * whose name is that of the previous piece's last group goes on with that group (its consumers and pending entries
 * add to it); the stream's metadata is taken from the last piece. (The RDB parser's `chunkElements` makes these.)
 */
export type KeyspacePiece = KeyspaceRecord & { partial?: boolean };

export interface KeyspaceJsonlStreamOptions extends EncodeOptions {
  /** `canonical` (default): sorted as KEYSPACE-JSONL.md says; `file`: in the order given. */
  order?: 'canonical' | 'file';
  /** Memory for lines (and elements of one huge collection) held before a sorted run is spilled (default 64 MiB). */
  memoryBudgetBytes?: number;
  /** Where spilled runs go (default: the OS temp dir). A private subdirectory is made and always removed. */
  tmpDir?: string;
  /** Canonical order: called when the same db and key come twice (after the first one was written). */
  onDuplicateKey?: (db: number, key: Bytes) => void;
  /**
   * Each chunk is only valid until the next one is asked for (write it out first): the 64 KiB buffers are then
   * recycled instead of left to the garbage collector (which lets dead ones pile up to tens of MB). Default false.
   */
  reuseChunks?: boolean;
  /**
   * Where the output of a key in pieces lies (file order: its line goes out as it is made), and which keys were
   * left unfinished: with it, pieces that stop before their last one (the input was damaged) are dropped instead
   * of being an error. See {@link PieceOutput}.
   */
  pieces?: PieceOutput;
}

const DEFAULT_BUDGET = 64 * 1024 * 1024;
const SLAB_BITS = 20;
const SLAB = 2 ** SLAB_BITS;
const OFF_MASK = SLAB - 1;
const HDR = 12; // u32 key length, u32 payload length low, u32 payload length high
const OUT_CHUNK = 64 * 1024;
const READ_BUF = 128 * 1024;
const FAN_IN = 48;
const TWO32 = 2 ** 32;
const EMPTY = new Uint8Array(0);

function ioError(what: string, path: string, err: unknown): FsioError {
  return new FsioError(`cannot ${what} ${path}: ${describeIoError(err)}`, path, err);
}

/** Private temp directory made on first use. */
export class TempDir {
  private dir: string | undefined;
  private n = 0;
  constructor(private readonly base: string) {}
  async path(): Promise<string> {
    if (this.dir === undefined) {
      try {
        this.dir = await mkdtemp(join(this.base, 'keyspace-sort-'));
      } catch (err) {
        throw new FsioError(`cannot create a temporary directory in ${this.base}: ${describeIoError(err)}`, this.base, err);
      }
    }
    return join(this.dir, `run-${this.n++}.bin`);
  }
  async remove(): Promise<void> {
    if (this.dir !== undefined) await rm(this.dir, { recursive: true, force: true });
  }
}

function compareItemKeys(a: Uint8Array, ka: number, b: Uint8Array, kb: number, la: number, lb: number): number {
  const n = la < lb ? la : lb;
  if (n > 24) {
    const c = Buffer.prototype.compare.call(a, b, kb, kb + lb, ka, ka + la) as number;
    return c;
  }
  for (let i = 0; i < n; i++) {
    const d = a[ka + i]! - b[kb + i]!;
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return la === lb ? 0 : la < lb ? -1 : 1;
}

function keyLenAt(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x1000000;
}

function keyLen(item: Uint8Array): number {
  return keyLenAt(item, 0);
}

function compareItems(a: Uint8Array, b: Uint8Array): number {
  return compareItemKeys(a, HDR, b, HDR, keyLen(a), keyLen(b));
}

function putU32(dst: Uint8Array, at: number, v: number): void {
  dst[at] = v & 0xff;
  dst[at + 1] = (v >>> 8) & 0xff;
  dst[at + 2] = (v >>> 16) & 0xff;
  dst[at + 3] = (v >>> 24) & 0xff;
}

function writeHeader(dst: Uint8Array, at: number, klen: number, plen: number): void {
  putU32(dst, at, klen);
  putU32(dst, at + 4, plen % TWO32);
  putU32(dst, at + 8, Math.floor(plen / TWO32));
}

/** Buffered writer of a run file. */
class RunFile {
  private buf = Buffer.allocUnsafe(SLAB);
  private pos = 0;
  private filePos = 0;
  private constructor(readonly path: string, private readonly fh: FileHandle) {}
  static async create(path: string): Promise<RunFile> {
    try {
      return new RunFile(path, await open(path, 'wx'));
    } catch (err) {
      throw ioError('create sort run', path, err);
    }
  }
  async write(bytes: Uint8Array): Promise<void> {
    if (this.pos + bytes.length > this.buf.length) await this.flush();
    if (bytes.length >= this.buf.length) {
      await this.writeAt(bytes, this.filePos);
      this.filePos += bytes.length;
      return;
    }
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }
  /** True when `n` more bytes fit in the buffer (a synchronous {@link copyIn} then takes them). */
  fits(n: number): boolean {
    return this.pos + n <= this.buf.length;
  }
  /** Copies `b` into the buffer (see {@link fits}). */
  copyIn(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  /** Copies what `w` holds into the buffer, then resets it (see {@link fits}). */
  copyInFrom(w: ChunkWriter): void {
    w.copyTo(this.buf, this.pos);
    this.pos += w.pendingBytes;
    w.reset();
  }
  /** What `w` holds (then reset). */
  async writeFrom(w: ChunkWriter): Promise<void> {
    const n = w.pendingBytes;
    if (this.pos + n > this.buf.length) await this.flush();
    if (n >= this.buf.length) {
      for (const c of w.takeAll()) await this.write(c);
      return;
    }
    w.copyTo(this.buf, this.pos);
    this.pos += n;
    w.reset();
  }
  private async writeAt(bytes: Uint8Array, at: number): Promise<void> {
    try {
      let done = 0;
      while (done < bytes.length) {
        const { bytesWritten } = await this.fh.write(bytes, done, bytes.length - done, at + done);
        done += bytesWritten;
      }
    } catch (err) {
      throw ioError('write sort run', this.path, err);
    }
  }
  async flush(): Promise<void> {
    if (this.pos === 0) return;
    await this.writeAt(this.buf.subarray(0, this.pos), this.filePos);
    this.filePos += this.pos;
    this.pos = 0;
  }
  get offset(): number {
    return this.filePos + this.pos;
  }
  async patch(bytes: Uint8Array, at: number): Promise<void> {
    await this.flush();
    await this.writeAt(bytes, at);
  }
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.fh.close();
    }
  }
}

/** Reads a run's items one by one; the payload of the current item is read in pieces. */
class RunReader {
  private buf = Buffer.allocUnsafe(READ_BUF);
  private start = 0;
  private end = 0;
  private filePos = 0;
  private eof = false;
  /** The current item's key (valid until `next()`). */
  key: Buffer = Buffer.alloc(0);
  /** The current item's key as `keyBuf[0..keyLen)` (set by {@link next} and {@link tryNext}). */
  keyBuf = Buffer.allocUnsafe(256);
  keyLen = 0;
  payloadLeft = 0;
  payloadLen = 0;
  private constructor(readonly path: string, private readonly fh: FileHandle, readonly index: number) {}
  static async open(path: string, index: number): Promise<RunReader> {
    try {
      return new RunReader(path, await open(path, 'r'), index);
    } catch (err) {
      throw ioError('open sort run', path, err);
    }
  }
  /** Ensures `n` bytes are buffered (n <= buffer size unless grown); false at the end of the file. */
  private async fill(n: number): Promise<boolean> {
    if (this.end - this.start >= n) return true;
    if (n > this.buf.length) {
      const bigger = Buffer.allocUnsafe(n);
      this.buf.copy(bigger, 0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
      this.buf = bigger;
    } else if (this.start > 0) {
      this.buf.copy(this.buf, 0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
    while (this.end - this.start < n && !this.eof) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await this.fh.read(this.buf, this.end, this.buf.length - this.end, this.filePos));
      } catch (err) {
        throw ioError('read sort run', this.path, err);
      }
      if (bytesRead === 0) this.eof = true;
      this.end += bytesRead;
      this.filePos += bytesRead;
    }
    return this.end - this.start >= n;
  }
  /** Moves to the next item (the current payload must have been read); false at the end. */
  async next(): Promise<boolean> {
    if (!(await this.fill(HDR))) {
      if (this.end !== this.start) throw new FsioError(`sort run ${this.path} ends inside an item`, this.path);
      return false;
    }
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.start, HDR);
    const klen = v.getUint32(0, true);
    const plen = v.getUint32(4, true) + v.getUint32(8, true) * TWO32;
    this.start += HDR;
    if (!(await this.fill(klen))) throw new FsioError(`sort run ${this.path} ends inside an item`, this.path);
    if (klen > this.keyBuf.length) this.keyBuf = Buffer.allocUnsafe(Math.max(klen, this.keyBuf.length * 2));
    this.buf.copy(this.keyBuf, 0, this.start, this.start + klen);
    this.key = this.keyBuf.subarray(0, klen);
    this.keyLen = klen;
    this.start += klen;
    this.payloadLen = plen;
    this.payloadLeft = plen;
    return true;
  }
  /**
   * {@link next} without I/O (and without `key`: see keyBuf/keyLen): true or false as next() says, null when the
   * next item's head is not buffered (call next()).
   */
  tryNext(): boolean | null {
    const b = this.buf;
    let s = this.start;
    if (this.end - s < HDR) return this.eof && this.end === s ? false : null;
    const klen = keyLenAt(b, s);
    const plen = keyLenAt(b, s + 4) + keyLenAt(b, s + 8) * TWO32;
    if (this.end - s - HDR < klen) return null;
    s += HDR;
    if (klen > this.keyBuf.length) this.keyBuf = Buffer.allocUnsafe(Math.max(klen, this.keyBuf.length * 2));
    const k = this.keyBuf;
    for (let i = 0; i < klen; i++) k[i] = b[s + i]!;
    this.keyLen = klen;
    this.start = s + klen;
    this.payloadLen = plen;
    this.payloadLeft = plen;
    return true;
  }
  /** Reads past the rest of the current payload when it is all buffered (true); else false (use payloadPiece). */
  skipPayload(): boolean {
    const n = this.payloadLeft;
    if (this.end - this.start < n) return false;
    this.start += n;
    this.payloadLeft = 0;
    return true;
  }
  /** Writes the rest of the current payload into `w` when it is all buffered (true); else false (use payloadPiece). */
  payloadTo(w: ChunkWriter): boolean {
    const n = this.payloadLeft;
    if (this.end - this.start < n) return false;
    w.raw(this.buf, this.start, this.start + n);
    this.start += n;
    this.payloadLeft = 0;
    return true;
  }
  /** The rest of the current payload in one piece (valid until the next call; the buffer grows to hold it). */
  async payloadWhole(): Promise<Uint8Array> {
    const n = this.payloadLeft;
    if (!(await this.fill(n))) throw new FsioError(`sort run ${this.path} ends inside an item`, this.path);
    const piece = this.buf.subarray(this.start, this.start + n);
    this.start += n;
    this.payloadLeft = 0;
    return piece;
  }

  /** The next piece of the current payload (valid until the next call), or null when it is all read. */
  async payloadPiece(): Promise<Uint8Array | null> {
    if (this.payloadLeft === 0) return null;
    if (this.end === this.start && !(await this.fill(1))) throw new FsioError(`sort run ${this.path} ends inside an item`, this.path);
    const n = Math.min(this.payloadLeft, this.end - this.start);
    const piece = this.buf.subarray(this.start, this.start + n);
    this.start += n;
    this.payloadLeft -= n;
    return piece;
  }
  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** Min-heap of readers by current key, ties by run index (stable). */
/** Smallest sort key first; ties by run index so equal keys keep their input order. */
function readerLess(a: RunReader, b: RunReader): boolean {
  const c = compareItemKeys(a.key, 0, b.key, 0, a.key.length, b.key.length);
  return c < 0 || (c === 0 && a.index < b.index);
}

/**
 * glibc's malloc gives a block its own mmap when it is at least its mmap threshold, and on freeing one of up to
 * 32 MiB raises that threshold to its size: after a 16 MiB array is dropped, every 1-16 MiB buffer comes from the
 * heap, whose freed middle is never returned (tens of MB of RSS on the bench RDB). Arrays of 1 MiB and more that
 * come and go are therefore carved from (or given) at least this much, which is always mapped and unmapped on its
 * own; pages never touched cost no memory.
 */
const MAPPED_MIN = 33 * SLAB;

/** A Uint32Array of `n` zeros; from its own mapping when it is big (see {@link MAPPED_MIN}). */
function bigUint32Array(n: number): Uint32Array<ArrayBuffer> {
  return n * 4 >= SLAB ? new Uint32Array(new ArrayBuffer(Math.max(n * 4, MAPPED_MIN)), 0, n) : new Uint32Array(n);
}

/** Recycled 1 MiB slabs: a spilled sorter's memory is reused at once instead of waiting for a major GC. */
export class SlabPool {
  private free: Buffer[] = [];
  /** Slabs are cut from blocks of MAPPED_MIN bytes (see there), as they are needed. */
  private block: Buffer | null = null;
  private cut = 0;
  take(): Buffer {
    const s = this.free.pop();
    if (s !== undefined) return s;
    if (this.block === null || this.cut + SLAB > this.block.length) {
      this.block = Buffer.allocUnsafe(MAPPED_MIN);
      this.cut = 0;
    }
    this.cut += SLAB;
    return this.block.subarray(this.cut - SLAB, this.cut);
  }
  /** Lets the free slabs go (before a merge, which needs none). */
  clear(): void {
    this.free = [];
    this.block = null;
  }
  give(slabs: Buffer[]): void {
    for (const s of slabs) if (s.length === SLAB) this.free.push(s);
  }
}

/** Slabs one sorter may hold: an item's position (slab index * SLAB + offset) must fit in 32 bits. */
const MAX_SLABS = 2 ** 32 / SLAB - 1;

/**
 * External sort of (key, payload) byte items: held in slabs up to a budget (items addressed by their position in
 * the slabs, a 32-bit number in a typed array, so no per-item JS object), spilled as sorted runs, merged. Equal keys
 * keep their input order (positions grow in input order).
 */
export class ByteSorter {
  private slabs: Buffer[] = [];
  private slabPos = 0;
  private cur = -1;
  /** Positions of the items, in input order: slab index * SLAB + offset in the slab. */
  private items = new Uint32Array(1024);
  private n = 0;
  /** Bytes of slabs in use, plus the position array and what sorting it takes (see {@link recordItem}). */
  private held = 1024 * 4;
  private runs: string[] = [];
  count = 0;

  constructor(private readonly budget: number, private readonly tmp: TempDir, private readonly pool: SlabPool) {}

  get heldBytes(): number {
    return this.held;
  }

  private place(len: number): [Buffer, number] {
    if (len > SLAB / 4) {
      const big = Buffer.allocUnsafe(len);
      this.slabs.push(big);
      this.held += len;
      this.recordItem(this.slabs.length - 1, 0);
      // the next small item opens a new slab, after this one: positions keep growing in input order
      this.cur = -1;
      return [big, 0];
    }
    if (this.cur < 0 || this.slabPos + len > SLAB) {
      this.slabs.push(this.pool.take());
      this.cur = this.slabs.length - 1;
      this.slabPos = 0;
      this.held += SLAB;
    }
    const slab = this.slabs[this.cur]!;
    const at = this.slabPos;
    this.slabPos += len; // no alignment: items are read bytewise
    this.recordItem(this.cur, at);
    return [slab, at];
  }

  private recordItem(slab: number, off: number): void {
    if (this.n === this.items.length) {
      const grown = bigUint32Array(this.n * 2);
      grown.set(this.items);
      this.items = grown;
      this.held += this.n * 4;
    }
    this.items[this.n++] = slab * SLAB + off;
    // the sort's scratch array: 4 bytes per item
    this.held += 4;
  }

  /** True when what is held reached the budget: the caller spills (`spill()`) before adding more. */
  full(): boolean {
    return this.held >= this.budget || this.slabs.length >= MAX_SLABS;
  }

  /** Adds an item whose key is `key` and whose payload is what `w` holds (then reset); see {@link full}. */
  add(key: Uint8Array, w: ChunkWriter): void {
    const plen = w.pendingBytes;
    const len = HDR + key.length + plen;
    const [slab, at] = this.place(len);
    writeHeader(slab, at, key.length, plen);
    slab.set(key, at + HDR);
    w.copyTo(slab, at + HDR + key.length);
    w.reset();
    this.count++;
  }

  /**
   * Adds an item made of `key` and a payload of `head[0..headLen)` then `tail` (a small item needs no writer); see
   * {@link full}.
   */
  addItem(key: Uint8Array, head: Uint8Array = EMPTY, headLen = 0, tail: Uint8Array = EMPTY): void {
    const plen = headLen + tail.length;
    const [slab, at] = this.place(HDR + key.length + plen);
    writeHeader(slab, at, key.length, plen);
    slab.set(key, at + HDR);
    for (let i = 0; i < headLen; i++) slab[at + HDR + key.length + i] = head[i]!;
    slab.set(tail, at + HDR + key.length + headLen);
    this.count++;
  }

  // ---- the direct run: while items come in key order and none is held, they go straight to a run file (sorted
  // input then holds no memory); the first one out of order closes it for good (it stays the first run) ----
  private direct: RunFile | null = null;
  private directKey = Buffer.alloc(0);
  private directKeyLen = -1;
  private directOff = false;
  private readonly directHdr = Buffer.alloc(HDR);

  /** True when an item with `key` goes to the direct run (opened on first use); else it is closed for good. */
  private async directFor(key: Uint8Array): Promise<boolean> {
    if (this.directOff) return false;
    if (this.n > 0 || (this.directKeyLen >= 0 && compareItemKeys(key, 0, this.directKey, 0, key.length, this.directKeyLen) < 0)) {
      this.directOff = true;
      await this.closeDirect();
      return false;
    }
    if (this.direct === null) {
      this.direct = await RunFile.create(await this.tmp.path());
      this.runs.push(this.direct.path);
    }
    if (key.length > this.directKey.length) this.directKey = Buffer.allocUnsafe(Math.max(key.length, this.directKey.length * 2, 64));
    this.directKey.set(key);
    this.directKeyLen = key.length;
    return true;
  }

  private async closeDirect(): Promise<void> {
    const f = this.direct;
    if (f === null) return;
    this.direct = null;
    await f.close();
  }

  /**
   * {@link addItem}, then a spill when full; in the direct run while the items come in key order (no memory held).
   */
  async put(key: Uint8Array, head: Uint8Array = EMPTY, headLen = 0, tail: Uint8Array = EMPTY): Promise<void> {
    if (await this.directFor(key)) {
      const f = this.direct!;
      writeHeader(this.directHdr, 0, key.length, headLen + tail.length);
      await f.write(this.directHdr);
      await f.write(key);
      if (headLen > 0) await f.write(head.subarray(0, headLen));
      if (tail.length > 0) await f.write(tail);
      this.count++;
      return;
    }
    this.addItem(key, head, headLen, tail);
    if (this.full()) await this.spill();
  }

  /**
   * {@link putWriter} when it needs no I/O (the direct run's buffer has room, or the item is held and the sorter
   * is not full): true when done, false when the caller must `await putWriter` instead.
   */
  tryPutWriter(key: Uint8Array, w: ChunkWriter): boolean {
    if (!this.directOff) {
      const f = this.direct;
      const n = HDR + key.length + w.pendingBytes;
      if (f === null || this.n > 0 || !f.fits(n) || compareItemKeys(key, 0, this.directKey, 0, key.length, this.directKeyLen) < 0) return false;
      if (key.length > this.directKey.length) return false;
      this.directKey.set(key);
      this.directKeyLen = key.length;
      writeHeader(this.directHdr, 0, key.length, w.pendingBytes);
      f.copyIn(this.directHdr);
      f.copyIn(key);
      f.copyInFrom(w);
      this.count++;
      return true;
    }
    if (this.full()) return false;
    this.add(key, w);
    return true;
  }

  /** {@link put} of the payload `w` holds (then reset). */
  async putWriter(key: Uint8Array, w: ChunkWriter): Promise<void> {
    if (await this.directFor(key)) {
      const f = this.direct!;
      writeHeader(this.directHdr, 0, key.length, w.pendingBytes);
      await f.write(this.directHdr);
      await f.write(key);
      await f.writeFrom(w);
      this.count++;
      return;
    }
    this.add(key, w);
    if (this.full()) await this.spill();
  }

  /**
   * An item whose payload is written in pieces, into the direct run when `key` allows it (then true: `write` the
   * payload, `finish()` it), else null (the caller holds or spills it otherwise).
   */
  async openDirectItem(key: Uint8Array): Promise<{ write: (b: Uint8Array) => Promise<void>; finish: () => Promise<void> } | null> {
    if (!(await this.directFor(key))) return null;
    const f = this.direct!;
    const at = f.offset;
    const hdr = Buffer.alloc(HDR);
    await f.write(hdr);
    await f.write(key);
    const start = f.offset;
    const klen = key.length;
    return {
      write: (b) => f.write(b),
      finish: async () => {
        writeHeader(hdr, 0, klen, f.offset - start);
        await f.patch(hdr, at);
        this.count++;
      },
    };
  }

  /**
   * The item positions in key order, ties in input order: a merge sort of the position array itself (with one
   * scratch array; no per-item heap values).
   */
  private sortedOrder(): Uint32Array {
    const n = this.n;
    let a = this.items.subarray(0, n);
    if (n < 2) return a;
    let b = bigUint32Array(n);
    const slabs = this.slabs;
    const less = (x: number, y: number): boolean => {
      const sa = slabs[x >>> SLAB_BITS]!;
      const sb = slabs[y >>> SLAB_BITS]!;
      const oa = x & OFF_MASK;
      const ob = y & OFF_MASK;
      const c = compareItemKeys(sa, oa + HDR, sb, ob + HDR, keyLenAt(sa, oa), keyLenAt(sb, ob));
      return c < 0 || (c === 0 && x < y);
    };
    // runs of 8 by insertion sort, then bottom-up merges between a and b
    const RUN = 8;
    for (let lo = 0; lo < n; lo += RUN) {
      const hi = Math.min(lo + RUN, n);
      for (let i = lo + 1; i < hi; i++) {
        const v = a[i]!;
        let j = i - 1;
        while (j >= lo && less(v, a[j]!)) {
          a[j + 1] = a[j]!;
          j--;
        }
        a[j + 1] = v;
      }
    }
    for (let width = RUN; width < n; width *= 2) {
      for (let lo = 0; lo < n; lo += 2 * width) {
        const mid = Math.min(lo + width, n);
        const hi = Math.min(lo + 2 * width, n);
        let i = lo;
        let j = mid;
        let k = lo;
        if (mid >= hi || !less(a[mid]!, a[mid - 1]!)) {
          // already in order (or nothing to merge with)
          b.set(a.subarray(lo, hi), lo);
          continue;
        }
        while (i < mid && j < hi) b[k++] = less(a[j]!, a[i]!) ? a[j++]! : a[i++]!;
        while (i < mid) b[k++] = a[i++]!;
        while (j < hi) b[k++] = a[j++]!;
      }
      const t = a;
      a = b;
      b = t;
    }
    return a;
  }

  /** The bytes of the item at `pos`. */
  private itemBytes(pos: number): Uint8Array {
    const slab = this.slabs[pos >>> SLAB_BITS]!;
    const off = pos & OFF_MASK;
    const len = HDR + keyLenAt(slab, off) + keyLenAt(slab, off + 4) + keyLenAt(slab, off + 8) * TWO32;
    return slab.subarray(off, off + len);
  }

  private release(): void {
    this.pool.give(this.slabs);
    this.slabs = [];
    this.cur = -1;
    this.n = 0;
    if (this.items.length > 1024 * 64) this.items = new Uint32Array(1024);
    this.held = this.items.length * 4;
  }

  /** A run holding one item whose payload is written in pieces (for a line too big to hold). */
  async openItem(sortKey: Uint8Array): Promise<{ write: (b: Uint8Array) => Promise<void>; finish: (keep: boolean) => Promise<void>; abort: () => Promise<void> }> {
    const key = Buffer.from(sortKey);
    const f = await RunFile.create(await this.tmp.path());
    const hdr = Buffer.alloc(HDR);
    await f.write(hdr);
    await f.write(key);
    const start = f.offset;
    return {
      write: (b) => f.write(b),
      finish: async (keep) => {
        writeHeader(hdr, 0, key.length, f.offset - start);
        await f.patch(hdr, 0);
        await f.close();
        if (keep) {
          this.runs.push(f.path);
          this.count++;
        } else {
          await rm(f.path, { force: true });
        }
      },
      // an item left unfinished (its key's pieces stopped, or the stream failed): closed and gone
      abort: async () => {
        await f.close().catch(() => undefined);
        await rm(f.path, { force: true });
      },
    };
  }

  async spill(): Promise<void> {
    if (this.n === 0) return;
    const order = this.sortedOrder();
    const f = await RunFile.create(await this.tmp.path());
    try {
      for (let i = 0; i < order.length; i++) await f.write(this.itemBytes(order[i]!));
    } finally {
      await f.close();
    }
    this.release();
    this.runs.push(f.path);
  }

  /** Spills what is held and merges the runs in groups until at most FAN_IN are left (the caller removes those). */
  private async mergeableRuns(lastUse: boolean): Promise<string[]> {
    await this.closeDirect();
    await this.spill();
    if (lastUse) this.pool.clear();
    let runs = this.runs;
    this.runs = [];
    try {
      while (runs.length > FAN_IN) {
        const next: string[] = [];
        for (let i = 0; i < runs.length; i += FAN_IN) {
          const group = runs.slice(i, i + FAN_IN);
          if (group.length === 1) {
            next.push(group[0]!);
            continue;
          }
          const f = await RunFile.create(await this.tmp.path());
          try {
            for await (const r of mergeRuns(group)) {
              const hdr = Buffer.alloc(HDR);
              writeHeader(hdr, 0, r.key.length, r.payloadLen);
              await f.write(hdr);
              await f.write(r.key);
              for (let p = await r.payloadPiece(); p !== null; p = await r.payloadPiece()) await f.write(p);
            }
          } finally {
            await f.close();
          }
          next.push(f.path);
          await Promise.all(group.map((p) => rm(p, { force: true })));
        }
        runs = next;
      }
    } catch (err) {
      await Promise.all(runs.map((p) => rm(p, { force: true })));
      throw err;
    }
    return runs;
  }

  /**
   * The items in key order, each whole (key and payload; both valid until the next is asked for), in one object
   * that is reused.
   */
  async *drainItems(lastUse = false): AsyncGenerator<{ key: Uint8Array; payload: Uint8Array }> {
    if (this.runs.length === 0) {
      yield* this.drainHeld();
      return;
    }
    this.count = 0;
    const cur: { key: Uint8Array; payload: Uint8Array } = { key: EMPTY, payload: EMPTY };
    const runs = await this.mergeableRuns(lastUse);
    try {
      for await (const r of mergeRuns(runs)) {
        cur.key = r.key;
        cur.payload = await r.payloadWhole();
        yield cur;
      }
    } finally {
      await Promise.all(runs.map((p) => rm(p, { force: true })));
    }
  }

  /**
   * The payloads in key order, written into `w` (`sep` between two); w's full chunks are yielded as they fill (the
   * partly filled one stays in w). {@link drain} without a promise or a view per item. `before(key, keyLength)`, when
   * given, is called before each payload is written (the key valid only then); when it returns false the payload is
   * left out (and no separator written for it). The sorter is empty afterwards.
   */
  async *drainTo(w: ChunkWriter, sep: Uint8Array | null, lastUse = false, before?: (key: Uint8Array, keyLength: number) => boolean | void): AsyncGenerator<Uint8Array> {
    this.count = 0;
    let first = true;
    if (this.runs.length === 0) {
      const order = this.sortedOrder();
      for (let i = 0; i < order.length; i++) {
        const pos = order[i]!;
        const slab = this.slabs[pos >>> SLAB_BITS]!;
        const off = pos & OFF_MASK;
        const kl = keyLenAt(slab, off);
        const at = off + HDR + kl;
        if (before && before(slab.subarray(off + HDR, at), kl) === false) continue;
        if (!first && sep !== null) w.raw(sep);
        first = false;
        w.raw(slab, at, at + keyLenAt(slab, off + 4) + keyLenAt(slab, off + 8) * TWO32);
        if (w.pendingBytes >= OUT_CHUNK) yield* w.takeDone();
      }
      this.release();
      return;
    }
    const runs = await this.mergeableRuns(lastUse);
    const readers: RunReader[] = [];
    try {
      for (let i = 0; i < runs.length; i++) readers.push(await RunReader.open(runs[i]!, i));
      const heap = new MinHeap<RunReader>(readerBufLess);
      for (const r of readers) if (await r.next()) heap.push(r);
      while (heap.size > 0) {
        const r = heap.pop();
        if (before && before(r.keyBuf, r.keyLen) === false) {
          // left out: its payload is read past
          if (!r.skipPayload()) while ((await r.payloadPiece()) !== null);
        } else {
          if (!first && sep !== null) w.raw(sep);
          first = false;
          if (!r.payloadTo(w)) {
            for (let p = await r.payloadPiece(); p !== null; p = await r.payloadPiece()) {
              w.raw(p);
              if (w.pendingBytes >= OUT_CHUNK) yield* w.takeDone();
            }
          }
        }
        if (w.pendingBytes >= OUT_CHUNK) yield* w.takeDone();
        let more = r.tryNext();
        if (more === null) more = await r.next();
        if (more) heap.push(r);
      }
    } finally {
      await Promise.all(readers.map((r) => r.close()));
      await Promise.all(runs.map((p) => rm(p, { force: true })));
    }
  }

  /** True when nothing was spilled: {@link drainHeld} then gives every item, without an await per item. */
  get allHeld(): boolean {
    return this.runs.length === 0;
  }

  /** {@link drainItems} when {@link allHeld}: a synchronous walk of the held items. */
  *drainHeld(): Generator<{ key: Uint8Array; payload: Uint8Array }> {
    this.count = 0;
    const cur: { key: Uint8Array; payload: Uint8Array } = { key: EMPTY, payload: EMPTY };
    const order = this.sortedOrder();
    for (let i = 0; i < order.length; i++) {
      const it = this.itemBytes(order[i]!);
      const kl = keyLen(it);
      cur.key = it.subarray(HDR, HDR + kl);
      cur.payload = it.subarray(HDR + kl);
      yield cur;
    }
    this.release();
  }

  /**
   * The payloads in key order as pieces (each valid until the next is asked for), `sep` between two, `onEqual(key)`
   * for an item whose key equals the one before. The sorter is empty afterwards; `lastUse` lets the slab pool go
   * before a merge.
   */
  async *drain(sep?: Uint8Array, onEqual?: (key: Uint8Array) => void, lastUse = false): AsyncGenerator<Uint8Array> {
    this.count = 0;
    if (this.runs.length === 0) {
      const order = this.sortedOrder();
      let prev: Uint8Array | null = null;
      for (let i = 0; i < order.length; i++) {
        const it = this.itemBytes(order[i]!);
        const kl = keyLen(it);
        if (prev !== null) {
          if (sep) yield sep;
          if (onEqual && compareItems(prev, it) === 0) onEqual(it.subarray(HDR, HDR + kl));
        }
        prev = it;
        yield it.subarray(HDR + kl);
      }
      this.release();
      return;
    }
    const runs = await this.mergeableRuns(lastUse);
    try {
      let prevBuf = Buffer.allocUnsafe(256);
      let prevLen = -1;
      for await (const r of mergeRuns(runs)) {
        if (prevLen >= 0) {
          if (sep) yield sep;
          if (onEqual && prevLen === r.key.length && r.key.equals(prevBuf.subarray(0, prevLen))) onEqual(r.key);
        }
        if (onEqual) {
          if (r.key.length > prevBuf.length) prevBuf = Buffer.allocUnsafe(r.key.length * 2);
          r.key.copy(prevBuf);
        }
        prevLen = r.key.length;
        for (let p = await r.payloadPiece(); p !== null; p = await r.payloadPiece()) yield p;
      }
    } finally {
      await Promise.all(runs.map((p) => rm(p, { force: true })));
    }
  }
}


/** {@link readerLess} on keyBuf/keyLen (what tryNext sets). */
function readerBufLess(a: RunReader, b: RunReader): boolean {
  const c = compareItemKeys(a.keyBuf, 0, b.keyBuf, 0, a.keyLen, b.keyLen);
  return c < 0 || (c === 0 && a.index < b.index);
}

/** Yields the reader holding the smallest item each time; its payload may be read before resuming. */
async function* mergeRuns(paths: string[]): AsyncGenerator<RunReader> {
  const readers: RunReader[] = [];
  try {
    for (let i = 0; i < paths.length; i++) readers.push(await RunReader.open(paths[i]!, i));
    const heap = new MinHeap<RunReader>(readerLess);
    for (const r of readers) if (await r.next()) heap.push(r);
    while (heap.size > 0) {
      const r = heap.pop();
      yield r;
      while ((await r.payloadPiece()) !== null);
      if (await r.next()) heap.push(r);
    }
  } finally {
    await Promise.all(readers.map((r) => r.close()));
  }
}

let keyScratch = Buffer.allocUnsafe(1024);

/** Sort key of a record: functions (0, name) before keys (1, db big-endian, key bytes); valid until the next call. */
export function recordSortKey(rec: KeyspaceRecord): Uint8Array {
  if (rec.kind === 'key' && rec.key.length + 5 <= keyScratch.length) {
    keyScratch[0] = 1;
    keyScratch.writeUInt32BE(rec.db >>> 0, 1);
    keyScratch.set(rec.key, 5);
    return keyScratch.subarray(0, 5 + rec.key.length);
  }
  if (rec.kind === 'key' && rec.key.length + 5 <= 1 << 20) {
    keyScratch = Buffer.allocUnsafe(rec.key.length + 5);
    return recordSortKey(rec);
  }
  if (rec.kind === 'function') {
    const name = Buffer.from(rec.library, 'utf8');
    const k = Buffer.allocUnsafe(1 + name.length);
    k[0] = 0;
    name.copy(k, 1);
    return k;
  }
  const k = Buffer.allocUnsafe(5 + rec.key.length);
  k[0] = 1;
  k.writeUInt32BE(rec.db >>> 0, 1);
  k.set(rec.key, 5);
  return k;
}

const scoreView = new DataView(new ArrayBuffer(8));

let zkeyScratch = Buffer.allocUnsafe(256);

/** The score a {@link zsetSortKey} holds. */
export function zsetKeyScore(k: Uint8Array): Score {
  let hi = ((k[0]! << 24) | (k[1]! << 16) | (k[2]! << 8) | k[3]!) >>> 0;
  let lo = ((k[4]! << 24) | (k[5]! << 16) | (k[6]! << 8) | k[7]!) >>> 0;
  if (hi & 0x80000000) {
    hi = (hi & 0x7fffffff) >>> 0;
  } else {
    hi = ~hi >>> 0;
    lo = ~lo >>> 0;
  }
  scoreView.setUint32(0, hi);
  scoreView.setUint32(4, lo);
  return scoreView.getFloat64(0);
}

/** Sort key of a zset element: the score as order-preserving bytes, then the member (valid until the next call). */
export function zsetSortKey(m: Bytes, s: Score): Uint8Array {
  scoreView.setFloat64(0, s === 0 ? 0 : s);
  if (8 + m.length > zkeyScratch.length) zkeyScratch = Buffer.allocUnsafe(Math.max(8 + m.length, zkeyScratch.length * 2));
  const k = zkeyScratch;
  const hi = scoreView.getUint32(0);
  const lo = scoreView.getUint32(4);
  if (hi & 0x80000000) {
    k.writeUInt32BE(~hi >>> 0, 0);
    k.writeUInt32BE(~lo >>> 0, 4);
  } else {
    k.writeUInt32BE((hi | 0x80000000) >>> 0, 0);
    k.writeUInt32BE(lo, 4);
  }
  k.set(m, 8);
  return k.subarray(0, 8 + m.length);
}


/** Writes one element of a collection (no separator). */
function writeElement(w: ChunkWriter, type: 'list' | 'set' | 'zset' | 'hash', el: Bytes | [Bytes, Score] | HashField): void {
  if (type === 'list' || type === 'set') {
    writeStr(w, el as Bytes);
  } else if (type === 'zset') {
    const [m, s] = el as [Bytes, Score];
    w.byte(0x5b);
    writeStr(w, m);
    w.byte(0x2c);
    writeScore(w, s);
    w.byte(0x5d);
  } else {
    const h = el as HashField;
    w.byte(0x5b);
    writeStr(w, h.field);
    w.byte(0x2c);
    writeStr(w, h.value);
    if (h.expireAt !== null && h.expireAt !== undefined) {
      w.byte(0x2c);
      if (!Number.isSafeInteger(h.expireAt)) writeStr(w, Buffer.from(String(h.expireAt)));
      else w.ascii(String(h.expireAt));
    }
    w.byte(0x5d);
  }
}

type Collection = 'list' | 'set' | 'zset' | 'hash';

/** A hash element's sort payload starts with a flag byte (1: an expire time follows, as a little-endian double). */
const hashHead = new Uint8Array(9);
const hashHeadView = new DataView(hashHead.buffer);
const hashScratch: HashField = { field: EMPTY, value: EMPTY, expireAt: null };

/** A huge collection arriving in pieces: its elements streamed out (list) or externally sorted first. */
class HugeKey {
  private n = 0;
  private sorter: ByteSorter | null;
  private head: KeyRecord;
  private headWritten = false;
  /** A stream's pieces are a world of their own. */
  private readonly stream: HugeStream | null;
  /**
   * `lastUse`: nothing needs the slab pool after this key (file order), so it is let go before a merge.
   */
  constructor(first: KeyRecord & { type: Collection | 'stream' }, private readonly w: ChunkWriter, budget: number, tmp: TempDir, pool: SlabPool, private readonly lastUse = false) {
    this.head = first;
    this.stream = first.type === 'stream' ? new HugeStream(first, w, (share) => new ByteSorter(budget * share, tmp, pool), lastUse) : null;
    this.sorter = first.type === 'list' || this.stream !== null ? null : new ByteSorter(budget, tmp, pool);
  }

  matches(rec: KeyspaceRecord): boolean {
    return rec.kind === 'key' && rec.type === this.head.type && rec.db === this.head.db && Buffer.from(rec.key.buffer, rec.key.byteOffset, rec.key.length).equals(this.head.key);
  }

  /** Takes the next piece; yields output bytes (a list's elements go straight out). */
  async *add(rec: KeyRecord): AsyncGenerator<Uint8Array> {
    if (this.stream !== null) {
      yield* this.stream.add(rec);
      return;
    }
    const type = this.head.type as Collection;
    const els = rec.value as (Bytes | [Bytes, Score] | HashField)[];
    if (this.sorter === null) {
      for (const el of els) {
        if (!this.headWritten) {
          writeKeyHead(this.w, this.head);
          this.w.byte(0x5b);
          this.headWritten = true;
        } else {
          this.w.byte(0x2c);
        }
        writeElement(this.w, type, el);
        this.n++;
        if (this.w.pendingBytes >= OUT_CHUNK) yield* this.w.takeDone();
      }
      yield* this.w.takeDone();
      return;
    }
    // elements are sorted as their bytes (a set member; a zset's score and member; a hash field, then its value
    // and expire time): the JSON is written when they are drained
    if (type === 'set') {
      for (const el of els) {
        this.sorter.addItem(el as Bytes);
        if (this.sorter.full()) await this.sorter.spill();
        this.n++;
      }
    } else if (type === 'zset') {
      for (const el of els) {
        const [m, sc] = el as [Bytes, Score];
        if (typeof sc !== 'number' || Number.isNaN(sc)) writeScore(this.w, sc); // its error
        this.sorter.addItem(zsetSortKey(m, sc));
        if (this.sorter.full()) await this.sorter.spill();
        this.n++;
      }
    } else {
      const head = hashHead;
      for (const el of els) {
        const h = el as HashField;
        let headLen = 1;
        if (h.expireAt === null || h.expireAt === undefined) head[0] = 0;
        else {
          head[0] = 1;
          hashHeadView.setFloat64(1, h.expireAt, true);
          headLen = 9;
        }
        this.sorter.addItem(h.field, head, headLen, h.value);
        if (this.sorter.full()) await this.sorter.spill();
        this.n++;
      }
    }
  }

  /** The rest of the line; `kept()` is false afterwards when the collection turned out empty (nothing written). */
  async *finish(last: KeyRecord, options: EncodeOptions): AsyncGenerator<Uint8Array> {
    if (this.stream !== null) {
      yield* this.stream.finish(last, options);
      this.n = 1;
      return;
    }
    yield* this.add(last);
    if (this.n === 0) return;
    if (this.sorter !== null) {
      writeKeyHead(this.w, this.head);
      this.w.byte(0x5b);
      const type = this.head.type;
      const w = this.w;
      let first = true;
      const put = (k: Uint8Array, p: Uint8Array): void => {
        if (!first) w.byte(0x2c);
        first = false;
        if (type === 'set') {
          writeStr(w, k);
        } else if (type === 'zset') {
          w.byte(0x5b);
          writeStr(w, k.subarray(8));
          w.byte(0x2c);
          writeScore(w, zsetKeyScore(k));
          w.byte(0x5d);
        } else {
          const withExpire = p[0] === 1;
          const h = hashScratch;
          h.field = k;
          h.value = p.subarray(withExpire ? 9 : 1);
          h.expireAt = withExpire ? Buffer.from(p.buffer, p.byteOffset, p.length).readDoubleLE(1) : null;
          writeElement(w, 'hash', h);
        }
      };
      if (this.sorter.allHeld) {
        // no await per element: a million of them made as much garbage as the rest of the line
        for (const { key, payload } of this.sorter.drainHeld()) {
          put(key, payload);
          if (w.pendingBytes >= OUT_CHUNK) yield* w.takeDone();
        }
      } else {
        for await (const { key, payload } of this.sorter.drainItems(this.lastUse)) {
          put(key, payload);
          if (w.pendingBytes >= OUT_CHUNK) yield* w.takeDone();
        }
      }
      yield* w.takeDone();
    }
    this.w.byte(0x5d);
    writeKeyTail(this.w, last, options);
    this.w.byte(0x0a);
    yield* this.w.takeAll();
  }

  kept(): boolean {
    return this.n > 0;
  }
}

/** A key that may come in pieces: a collection, or a stream (see HugeStream). */
export function isCollection(rec: KeyspaceRecord): rec is { kind: 'key' } & KeyRecord & { type: Collection | 'stream' } {
  return rec.kind === 'key' && (rec.type === 'list' || rec.type === 'set' || rec.type === 'zset' || rec.type === 'hash' || rec.type === 'stream');
}

/** Output buffers handed back after use (see `reuseChunks`). */
class ChunkPool {
  private free: Buffer[] = [];
  take = (): Buffer => this.free.pop() ?? Buffer.allocUnsafe(OUT_CHUNK);
  give(c: Uint8Array): void {
    if (c.byteOffset === 0 && c.buffer.byteLength === OUT_CHUNK && this.free.length < 4) this.free.push(Buffer.from(c.buffer, 0, OUT_CHUNK));
  }
}

/**
 * Keyspace JSON Lines bytes (about 64 KiB per chunk) for records in any order, with bounded memory.
 * `order: 'canonical'` sorts them (external merge sort on encoded lines); `file` keeps the order given. Records
 * marked `partial: true` are pieces of one huge collection (the next pieces follow, the last unmarked): they are
 * never assembled; set/zset/hash elements go through an external sort of their own.
 */
export async function* keyspaceJsonlStream(
  records: AsyncIterable<KeyspacePiece> | Iterable<KeyspacePiece>,
  options: KeyspaceJsonlStreamOptions = {},
): AsyncGenerator<Uint8Array> {
  // bytes handed out so far (the offsets of options.pieces)
  const handed = { bytes: 0 };
  if (!options.reuseChunks) {
    for await (const c of jsonlChunks(records, options, null, handed)) {
      handed.bytes += c.length;
      yield c;
    }
    return;
  }
  const chunks = new ChunkPool();
  for await (const c of jsonlChunks(records, options, chunks, handed)) {
    handed.bytes += c.length;
    yield c;
    chunks.give(c); // the consumer asked for the next one: this one is done with
  }
}

async function* jsonlChunks(
  records: AsyncIterable<KeyspacePiece> | Iterable<KeyspacePiece>,
  options: KeyspaceJsonlStreamOptions,
  chunks: ChunkPool | null,
  handed: { bytes: number },
): AsyncGenerator<Uint8Array> {
  const newChunk = chunks?.take;
  const budget = options.memoryBudgetBytes ?? DEFAULT_BUDGET;
  const canonical = (options.order ?? 'canonical') === 'canonical';
  const tmp = new TempDir(options.tmpDir ?? tmpdir());
  const w = new ChunkWriter(OUT_CHUNK, newChunk);
  const ew = new ChunkWriter(OUT_CHUNK);
  const pool = new SlabPool();
  const main = canonical ? new ByteSorter(budget, tmp, pool) : null;
  let huge: HugeKey | null = null;
  let hugeItem: Awaited<ReturnType<ByteSorter['openItem']>> | null = null;
  // the first piece of the huge key, and (file order) where its line starts in the output
  let hugeFirst: KeyRecord | null = null;
  let hugeAt = 0;
  const pieces = options.pieces;
  /** The huge key's pieces stopped before its last one (options.pieces): it is left out of the output. */
  const dropHuge = async (): Promise<void> => {
    const first = hugeFirst!;
    huge = null;
    hugeFirst = null;
    if (hugeItem !== null) {
      const item = hugeItem;
      hugeItem = null;
      await item.abort();
      pieces!.drop?.(first.db, first.key, null);
    } else {
      // the line's bytes not handed out yet go; those that were, the writer drops (w held nothing else: see below)
      w.reset();
      pool.clear();
      handed.bytes = hugeAt;
      pieces!.drop?.(first.db, first.key, hugeAt);
    }
  };
  try {
    for await (const r of records) {
      if (huge !== null && !huge.matches(r)) {
        if (!pieces) throw new KeyspaceError('schema', 'a partial record is not followed by the rest of its key');
        await dropHuge();
      }
      if (huge !== null) {
        const out = r.partial ? huge.add(r as KeyRecord) : huge.finish(r as KeyRecord, options);
        if (hugeItem !== null) {
          for await (const b of out) {
            await hugeItem.write(b);
            chunks?.give(b);
          }
        } else {
          // file order: the line goes out as it is made (w holds at most the unfinished chunk of earlier lines)
          yield* w.takeAll();
          for await (const b of out) yield b;
        }
        if (!r.partial) {
          if (hugeItem !== null) await hugeItem.finish(huge.kept());
          else {
            // file order has no other use for the slabs: let them go rather than hold the budget to the end
            pool.clear();
            pieces?.close?.(handed.bytes);
          }
          huge = null;
          hugeItem = null;
          hugeFirst = null;
        }
        continue;
      }
      if (r.partial && isCollection(r)) {
        huge = new HugeKey(r, main !== null ? new ChunkWriter(OUT_CHUNK, newChunk) : w, budget, tmp, pool, main === null);
        hugeFirst = r as KeyRecord;
        if (main !== null) {
          // the collection's elements get the whole budget (and the same slabs)
          await main.spill();
          hugeItem = await main.openItem(recordSortKey(r));
          for await (const b of huge.add(r)) {
            await hugeItem.write(b);
            chunks?.give(b);
          }
        } else {
          yield* w.takeAll();
          hugeAt = handed.bytes;
          pieces?.open?.(hugeAt);
          yield* huge.add(r);
        }
      } else if (main !== null) {
        const rec = canonicalizeRecord(r);
        writeRecord(ew, rec, options);
        ew.byte(0x0a);
        main.add(recordSortKey(rec), ew);
        if (main.full()) await main.spill();
      } else {
        writeRecord(w, r, options);
        w.byte(0x0a);
        yield* w.takeDone();
      }
    }
    if (huge !== null) {
      if (!pieces) throw new KeyspaceError('schema', 'the records end inside a partial key');
      await dropHuge();
    }
    if (main === null) {
      yield* w.takeAll();
      return;
    }
    // Sorted output: payloads copied into fresh 64 KiB chunks.
    const onDup = options.onDuplicateKey;
    const fresh = newChunk ?? (() => Buffer.allocUnsafe(OUT_CHUNK));
    let buf = fresh();
    let pos = 0;
    for await (const p of main.drain(
      undefined,
      onDup
        ? (key) => {
            if (key[0] === 1) onDup(Buffer.from(key).readUInt32BE(1), key.subarray(5));
          }
        : undefined,
      true,
    )) {
      let i = 0;
      while (i < p.length) {
        const n = Math.min(p.length - i, OUT_CHUNK - pos);
        buf.set(p.subarray(i, i + n), pos);
        pos += n;
        i += n;
        if (pos === OUT_CHUNK) {
          yield buf;
          buf = fresh();
          pos = 0;
        }
      }
    }
    if (pos > 0) yield buf.subarray(0, pos);
  } finally {
    // a huge key's run still being written when the records failed (or the consumer stopped) holds a file open
    if (hugeItem !== null) await (hugeItem as { abort: () => Promise<void> }).abort().catch(() => undefined);
    await tmp.remove();
  }
}
