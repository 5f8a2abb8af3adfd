// External sort of (key, payload) byte items with bounded memory: items are held in slabs, spilled to sorted runs
// and merged on bytes (never parsed back). The keyspace JSON Lines and RESP writers of @redis-persist/converters
// and `sortKeyspace` sort with it; the sort keys of keyspace records and zset elements are here too.
import { mkdtemp, open, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { FsioError, describeIoError } from '@redis-persist/fsio';
import { ChunkWriter } from '@redis-persist/jsonl';
import type { Bytes, KeyspaceRecord, Score } from '@redis-persist/keyspace';
import { MinHeap } from './heap.js';
import { sortItemOrder } from './order.js';

const SLAB_BITS = 20;
const SLAB = 2 ** SLAB_BITS;
const OFF_MASK = SLAB - 1;
const HDR = 12; // u32 key length, u32 payload length low, u32 payload length high
const OUT_CHUNK = 64 * 1024;
const READ_BUF = 128 * 1024;
/** Runs merged at once at least; more when the budget holds a read buffer of MIN_READ_BUF for each (see fanIn). */
const FAN_IN = 48;
const MIN_READ_BUF = 64 * 1024;
/** A file descriptor per run: well under the usual limit of 1024 open files. */
const MAX_FAN_IN = 256;

/**
 * Runs one merge takes with `budget` bytes: every run gets a read buffer, and the merge's buffers stay within the
 * budget (the slabs are let go by then) once there are more than FAN_IN runs. A 16 MiB budget merges 256 runs in
 * one pass (4 GB of JSON Lines) instead of 48, then as many again.
 */
function fanIn(budget: number): number {
  return Math.max(FAN_IN, Math.min(MAX_FAN_IN, Math.floor(budget / MIN_READ_BUF)));
}

/** The read buffer of each of `runs` runs merged at once with `budget` bytes (see {@link fanIn}). */
function readBufFor(runs: number, budget: number): number {
  if (runs <= FAN_IN) return READ_BUF;
  return Math.min(READ_BUF, Math.max(MIN_READ_BUF, Math.floor(budget / runs / 4096) * 4096));
}
const TWO32 = 2 ** 32;
const EMPTY = new Uint8Array(0);

function ioError(what: string, path: string, err: unknown): FsioError {
  return new FsioError('io', `cannot ${what} ${path}: ${describeIoError(err)}`, { file: path, cause: err });
}

/** Private temp directory made on first use. */
export class TempDir {
  private dir: string | undefined;
  private n = 0;
  constructor(private readonly base: string) {}
  /** The path of a new run file in the directory (made on first use). */
  async path(): Promise<string> {
    if (this.dir === undefined) {
      try {
        this.dir = await mkdtemp(join(this.base, 'keyspace-sort-'));
      } catch (err) {
        throw new FsioError('io', `cannot create a temporary directory in ${this.base}: ${describeIoError(err)}`, { file: this.base, cause: err });
      }
    }
    return join(this.dir, `run-${this.n++}.bin`);
  }
  /** Removes the directory and every file in it. */
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

/**
 * Write buffer of a run file. 256 KiB: a huge stream's dump has four or five runs open at once (entries, pending
 * entries, consumers, groups, the keys), and at 1 MiB each they held 3-4 MB of a command kept under 100 MiB; the
 * writes are no fewer than the disk wants.
 */
const RUN_BUF = 256 * 1024;

/** Buffered writer of a run file. */
class RunFile {
  private buf = Buffer.allocUnsafe(RUN_BUF);
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
  /** Copies `src[start..end)` into the buffer (see {@link fits}). */
  copyRange(src: Uint8Array, start: number, end: number): void {
    const buf = this.buf;
    let p = this.pos;
    if (end - start <= 256) for (let i = start; i < end; i++) buf[p++] = src[i]!;
    else {
      buf.set(src.subarray(start, end), p);
      p += end - start;
    }
    this.pos = p;
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
  private buf: Buffer;
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
  private constructor(readonly path: string, private readonly fh: FileHandle, readonly index: number, bufSize: number) {
    this.buf = Buffer.allocUnsafe(bufSize);
  }
  static async open(path: string, index: number, bufSize = READ_BUF): Promise<RunReader> {
    try {
      return new RunReader(path, await open(path, 'r'), index, bufSize);
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
      if (this.end !== this.start) throw new FsioError('io', `sort run ${this.path} ends inside an item`, { file: this.path });
      return false;
    }
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.start, HDR);
    const klen = v.getUint32(0, true);
    const plen = v.getUint32(4, true) + v.getUint32(8, true) * TWO32;
    this.start += HDR;
    if (!(await this.fill(klen))) throw new FsioError('io', `sort run ${this.path} ends inside an item`, { file: this.path });
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
  /** True when the rest of the current payload is buffered. */
  payloadBuffered(): boolean {
    return this.end - this.start >= this.payloadLeft;
  }
  /** Copies the rest of the current payload into `f`'s buffer (it is buffered here, and fits there). */
  payloadCopyTo(f: RunFile): void {
    const n = this.payloadLeft;
    f.copyIn(this.buf.subarray(this.start, this.start + n));
    this.start += n;
    this.payloadLeft = 0;
  }
  /** Copies the rest of the current payload to `dst` at `at` when it is all buffered (true); else false. */
  payloadCopy(dst: Uint8Array, at: number): boolean {
    const n = this.payloadLeft;
    if (this.end - this.start < n) return false;
    this.buf.copy(dst, at, this.start, this.start + n);
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
    if (!(await this.fill(n))) throw new FsioError('io', `sort run ${this.path} ends inside an item`, { file: this.path });
    const piece = this.buf.subarray(this.start, this.start + n);
    this.start += n;
    this.payloadLeft = 0;
    return piece;
  }

  /** The next piece of the current payload (valid until the next call), or null when it is all read. */
  async payloadPiece(): Promise<Uint8Array | null> {
    if (this.payloadLeft === 0) return null;
    if (this.end === this.start && !(await this.fill(1))) throw new FsioError('io', `sort run ${this.path} ends inside an item`, { file: this.path });
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
  /** A free 1 MiB slab (recycled, else cut from a new block). */
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
  /** Returns slabs to the pool for reuse. */
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

  /** Where the item {@link place} made room for starts in its slab (the slab is returned). */
  private placedAt = 0;

  /** Room for an item of `len` bytes: its slab, the offset in {@link placedAt} (no tuple per item). */
  private place(len: number): Buffer {
    if (len > SLAB / 4) {
      const big = Buffer.allocUnsafe(len);
      this.slabs.push(big);
      this.held += len;
      this.recordItem(this.slabs.length - 1, 0);
      // the next small item opens a new slab, after this one: positions keep growing in input order
      this.cur = -1;
      this.placedAt = 0;
      return big;
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
    this.placedAt = at;
    return slab;
  }

  private recordItem(slab: number, off: number): void {
    if (this.n === this.items.length) {
      const grown = bigUint32Array(this.n * 2);
      grown.set(this.items);
      this.items = grown;
      this.held += this.n * 4;
    }
    this.items[this.n++] = slab * SLAB + off;
    // the sort's scratch array: 8 bytes per item
    this.held += 8;
  }

  /** True when what is held reached the budget: the caller spills (`spill()`) before adding more. */
  full(): boolean {
    return this.held >= this.budget || this.slabs.length >= MAX_SLABS;
  }

  /** Adds an item whose key is `key` and whose payload is what `w` holds (then reset); see {@link full}. */
  add(key: Uint8Array, w: ChunkWriter): void {
    const plen = w.pendingBytes;
    const len = HDR + key.length + plen;
    const slab = this.place(len);
    const at = this.placedAt;
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
    const slab = this.place(HDR + key.length + plen);
    const at = this.placedAt;
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
  async openDirectItem(key: Uint8Array): Promise<{
    /** Appends bytes to the item. */
    write: (b: Uint8Array) => Promise<void>;
    /** Completes the item (its header gets the payload's length). */
    finish: () => Promise<void>;
  } | null> {
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
   * The item positions in key order, ties in input order: {@link sortItemOrder} (a native sort of 64-bit words of
   * key digits and item index; no comparator call per pair, no per-item heap value), its indexes then mapped to
   * positions in place.
   */
  private sortedOrder(): Uint32Array {
    const n = this.n;
    const items = this.items;
    const slabs = this.slabs;
    const order = sortItemOrder(
      {
        n,
        locate(i: number, at: Int32Array): Uint8Array {
          const pos = items[i]!;
          const slab = slabs[pos >>> SLAB_BITS]!;
          const off = pos & OFF_MASK;
          at[1] = off + HDR;
          at[2] = keyLenAt(slab, off);
          return slab;
        },
      },
      (bytes) => (bytes >= SLAB ? new ArrayBuffer(Math.max(bytes, MAPPED_MIN)) : new ArrayBuffer(bytes)),
    );
    for (let i = 0; i < n; i++) order[i] = items[order[i]!]!;
    return order;
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
  async openItem(sortKey: Uint8Array): Promise<{
    /** Appends bytes to the item. */
    write: (b: Uint8Array) => Promise<void>;
    /** Closes the item: kept for the merge when `keep`, else removed. */
    finish: (keep: boolean) => Promise<void>;
    /** Drops an unfinished item (its file is removed). */
    abort: () => Promise<void>;
  }> {
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

  /** Sorts the items held and writes them to disk as a run, freeing their memory. */
  async spill(): Promise<void> {
    if (this.n === 0) return;
    const order = this.sortedOrder();
    const f = await RunFile.create(await this.tmp.path());
    try {
      const slabs = this.slabs;
      for (let i = 0; i < order.length; i++) {
        const pos = order[i]!;
        const slab = slabs[pos >>> SLAB_BITS]!;
        const off = pos & OFF_MASK;
        const end = off + HDR + keyLenAt(slab, off) + keyLenAt(slab, off + 4) + keyLenAt(slab, off + 8) * TWO32;
        // copied into the run's buffer while it has room (no view or promise per item)
        if (f.fits(end - off)) f.copyRange(slab, off, end);
        else await f.write(slab.subarray(off, end));
      }
    } finally {
      await f.close();
    }
    this.release();
    this.runs.push(f.path);
  }

  /** Spills what is held and merges the runs in groups until at most fanIn are left (the caller removes those). */
  private async mergeableRuns(lastUse: boolean): Promise<string[]> {
    await this.closeDirect();
    await this.spill();
    if (lastUse) this.pool.clear();
    let runs = this.runs;
    this.runs = [];
    try {
      const fan = fanIn(this.budget);
      if (runs.length <= fan) return runs;
      // Runs come in all sizes (a huge key's run of one item, the few items held before it, full runs of the
      // budget): each merge takes the `fan` neighbouring runs that hold the fewest bytes, until `fan` are left,
      // so the big runs are read and written once. Only neighbours merge: equal keys keep their input order.
      const sizes: number[] = [];
      for (const p of runs) sizes.push((await stat(p)).size);
      while (runs.length > fan) {
        const k = Math.min(fan, runs.length - fan + 1);
        let sum = 0;
        for (let i = 0; i < k; i++) sum += sizes[i]!;
        let best = 0;
        let bestSum = sum;
        for (let i = k; i < runs.length; i++) {
          sum += sizes[i]! - sizes[i - k]!;
          if (sum < bestSum) {
            bestSum = sum;
            best = i - k + 1;
          }
        }
        const group = runs.slice(best, best + k);
        const path = await this.tmp.path();
        await mergeToFile(group, path, readBufFor(group.length, this.budget));
        runs.splice(best, k, path);
        sizes.splice(best, k, bestSum);
        await Promise.all(group.map((p) => rm(p, { force: true })));
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
      for await (const r of mergeRuns(runs, readBufFor(runs.length, this.budget))) {
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
      const bufSize = readBufFor(runs.length, this.budget);
      for (let i = 0; i < runs.length; i++) readers.push(await RunReader.open(runs[i]!, i, bufSize));
      const heap = new MinHeap<RunReader>(readerBufLess);
      for (const r of readers) if (await r.next()) heap.push(r);
      while (heap.size > 0) {
        const r = heap.peek();
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
        if (more) heap.replaceTop();
        else heap.pop();
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
   * for an item whose key equals the one before (called once every byte before that item, its separator included,
   * was handed out). The sorter is empty afterwards; `lastUse` lets the slab pool go before a merge.
   *
   * Payloads are gathered into one reused 64 KiB piece (one promise per piece rather than per item); a payload
   * bigger than that goes out in pieces of its own.
   */
  async *drain(sep?: Uint8Array, onEqual?: (key: Uint8Array) => void, lastUse = false): AsyncGenerator<Uint8Array> {
    this.count = 0;
    const batch = Buffer.allocUnsafe(OUT_CHUNK);
    let pos = 0;
    const sepLen = sep ? sep.length : 0;
    if (this.runs.length === 0) {
      const order = this.sortedOrder();
      const slabs = this.slabs;
      let pSlab: Buffer | null = null;
      let pAt = 0;
      let pLen = 0;
      for (let i = 0; i < order.length; i++) {
        const item = order[i]!;
        const slab = slabs[item >>> SLAB_BITS]!;
        const off = item & OFF_MASK;
        const kl = keyLenAt(slab, off);
        const kAt = off + HDR;
        if (pSlab !== null) {
          if (sep) {
            if (pos + sepLen > OUT_CHUNK) {
              yield batch.subarray(0, pos);
              pos = 0;
            }
            batch.set(sep, pos);
            pos += sepLen;
          }
          if (onEqual && pLen === kl && compareItemKeys(pSlab, pAt, slab, kAt, pLen, kl) === 0) {
            if (pos > 0) {
              yield batch.subarray(0, pos);
              pos = 0;
            }
            onEqual(slab.subarray(kAt, kAt + kl));
          }
        }
        pSlab = slab;
        pAt = kAt;
        pLen = kl;
        const at = kAt + kl;
        const n = keyLenAt(slab, off + 4) + keyLenAt(slab, off + 8) * TWO32;
        if (pos + n > OUT_CHUNK) {
          if (pos > 0) yield batch.subarray(0, pos);
          pos = 0;
          if (n > OUT_CHUNK) {
            yield slab.subarray(at, at + n);
            continue;
          }
        }
        slab.copy(batch, pos, at, at + n);
        pos += n;
      }
      if (pos > 0) yield batch.subarray(0, pos);
      this.release();
      return;
    }
    const runs = await this.mergeableRuns(lastUse);
    const readers: RunReader[] = [];
    try {
      const bufSize = readBufFor(runs.length, this.budget);
      for (let i = 0; i < runs.length; i++) readers.push(await RunReader.open(runs[i]!, i, bufSize));
      const heap = new MinHeap<RunReader>(readerBufLess);
      for (const r of readers) if (await r.next()) heap.push(r);
      let prevBuf = Buffer.allocUnsafe(256);
      let prevLen = -1;
      while (heap.size > 0) {
        const r = heap.peek();
        const kl = r.keyLen;
        if (prevLen >= 0) {
          if (sep) {
            if (pos + sepLen > OUT_CHUNK) {
              yield batch.subarray(0, pos);
              pos = 0;
            }
            batch.set(sep, pos);
            pos += sepLen;
          }
          if (onEqual && prevLen === kl && compareItemKeys(prevBuf, 0, r.keyBuf, 0, kl, kl) === 0) {
            if (pos > 0) {
              yield batch.subarray(0, pos);
              pos = 0;
            }
            onEqual(r.keyBuf.subarray(0, kl));
          }
        }
        if (onEqual) {
          if (kl > prevBuf.length) prevBuf = Buffer.allocUnsafe(Math.max(kl, prevBuf.length * 2));
          r.keyBuf.copy(prevBuf, 0, 0, kl);
        }
        prevLen = kl;
        const n = r.payloadLeft;
        if (pos + n > OUT_CHUNK && pos > 0) {
          yield batch.subarray(0, pos);
          pos = 0;
        }
        if (n > OUT_CHUNK || !r.payloadCopy(batch, pos)) {
          if (pos > 0) {
            yield batch.subarray(0, pos);
            pos = 0;
          }
          for (let p = await r.payloadPiece(); p !== null; p = await r.payloadPiece()) yield p;
        } else {
          pos += n;
        }
        let more = r.tryNext();
        if (more === null) more = await r.next();
        if (more) heap.replaceTop();
        else heap.pop();
      }
      if (pos > 0) yield batch.subarray(0, pos);
    } finally {
      await Promise.all(readers.map((r) => r.close()));
      await Promise.all(runs.map((p) => rm(p, { force: true })));
    }
  }
}


/** {@link readerLess} on keyBuf/keyLen (what tryNext sets). */
function readerBufLess(a: RunReader, b: RunReader): boolean {
  const c = compareItemKeys(a.keyBuf, 0, b.keyBuf, 0, a.keyLen, b.keyLen);
  return c < 0 || (c === 0 && a.index < b.index);
}

/** Merges the runs `paths` (in input order) into a new run file at `path`; items copied whole while buffered. */
async function mergeToFile(paths: string[], path: string, bufSize: number): Promise<void> {
  const f = await RunFile.create(path);
  const readers: RunReader[] = [];
  const hdr = Buffer.alloc(HDR);
  try {
    for (let i = 0; i < paths.length; i++) readers.push(await RunReader.open(paths[i]!, i, bufSize));
    const heap = new MinHeap<RunReader>(readerBufLess);
    for (const r of readers) if (await r.next()) heap.push(r);
    while (heap.size > 0) {
      const r = heap.peek();
      const kl = r.keyLen;
      const n = r.payloadLeft;
      writeHeader(hdr, 0, kl, n);
      if (f.fits(HDR + kl + n) && r.payloadBuffered()) {
        f.copyIn(hdr);
        f.copyIn(r.keyBuf.subarray(0, kl));
        r.payloadCopyTo(f);
      } else {
        await f.write(hdr);
        await f.write(r.keyBuf.subarray(0, kl));
        for (let p = await r.payloadPiece(); p !== null; p = await r.payloadPiece()) await f.write(p);
      }
      let more = r.tryNext();
      if (more === null) more = await r.next();
      if (more) heap.replaceTop();
      else heap.pop();
    }
  } finally {
    await Promise.all(readers.map((r) => r.close()));
    await f.close();
  }
}

/** Yields the reader holding the smallest item each time; its payload may be read before resuming. */
async function* mergeRuns(paths: string[], bufSize: number): AsyncGenerator<RunReader> {
  const readers: RunReader[] = [];
  try {
    for (let i = 0; i < paths.length; i++) readers.push(await RunReader.open(paths[i]!, i, bufSize));
    const heap = new MinHeap<RunReader>(readerLess);
    for (const r of readers) if (await r.next()) heap.push(r);
    while (heap.size > 0) {
      const r = heap.peek();
      yield r;
      while ((await r.payloadPiece()) !== null);
      if (await r.next()) heap.replaceTop();
      else heap.pop();
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
